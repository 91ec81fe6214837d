/* web: the county dashboard's pages (hub/web.h).
 *
 * Every string that comes from the store (ids, names, notes, titles, events, the directory)
 * leaves through s_text, which HTML-escapes it, or s_url, which percent-encodes it; s_fmt
 * writes only numbers and this file's own text. Each page is one read transaction: LMDB
 * readers never block the `run` process's writer. The policy a page is judged by is the one
 * stored in its own snapshot, decoded once per change and shared by reference between the
 * threads (s_policy_acquire), so `xueshi-hub policy` takes effect on the next page. */
#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certificates.h"
#include "credit.h"
#include "ledger.h"
#include "staff.h"
#include "summary.h"
#include "year.h"
#include "xs/certify.h"
#include "xs/html.h"
#include "xs/receipt.h"
#include "xs/report.h"
#include "xs/standing.h"
#include "xs/text.h"
#include "xs/year.h"
#include "xs/workbook.h"

/* Academic years the year links offer, counting back from today's. */
#define S_YEARS_SHOWN 5
/* Seconds a finished page waits to be fetched before it is dropped. */
#define S_JOB_KEEP_SECONDS 60
/* Longest path and query a background page is keyed by. */
#define S_KEY_MAX 1024
/* Gap ranges listed per node. */
#define S_GAPS_SHOWN 3
/* The workbook's file name (and the download path's last segment). */
#define S_BOOK_NAME "汇总表.xlsx"
#define S_XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#define S_HTML_TYPE "text/html; charset=utf-8"

/* The stylesheet, served at /style.css: plain CSS an old browser reads, no web fonts. */
static const char s_css[] =
    "body{margin:0;font-family:\"Microsoft YaHei\",\"WenQuanYi Micro Hei\",\"Noto Sans CJK "
    "SC\",SimSun,sans-serif;font-size:15px;color:#1a202c;background:#f7fafc}\n"
    ".top{background:#234e52;color:#fff;padding:10px 20px}\n"
    ".top a{color:#fff;font-weight:bold;font-size:18px;text-decoration:none;margin-right:20px}\n"
    ".top span{color:#c6f6d5}\n"
    ".page{padding:10px 20px 30px 20px}\n"
    "h1{font-size:22px;margin:12px 0 6px 0}\n"
    "h2{font-size:18px;margin:22px 0 8px 0;border-bottom:2px solid #b2d8d8;padding-bottom:3px}\n"
    "a{color:#2b6cb0}\n"
    ".years a,.years strong{margin-right:10px}\n"
    ".years strong{background:#234e52;color:#fff;padding:1px 6px}\n"
    ".note{color:#4a5568}\n"
    ".warn{color:#9c4221;background:#fffaf0;border:1px solid #fbd38d;padding:6px 10px}\n"
    "table{border-collapse:collapse;background:#fff;margin:4px 0 10px 0}\n"
    "th,td{border:1px solid #cbd5e0;padding:4px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#e6fffa;font-weight:bold}\n"
    "td.num{text-align:right;white-space:nowrap}\n"
    ".req{color:#718096}\n"
    ".no{color:#c53030;font-weight:bold}\n"
    ".yes{color:#276749;font-weight:bold}\n"
    ".ex{color:#6b46c1}\n"
    ".mono{font-family:monospace;white-space:nowrap}\n"
    ".nw{white-space:nowrap}\n"
    ".chart{background:#fff;border:1px solid #cbd5e0;padding:8px}\n"
    ".foot{color:#718096;font-size:13px;margin-top:30px}\n";

/* ---- writing HTML ---- */

static void s_lit(xs_writer_t *w, const char *text) {
    xs_writer_raw(w, text, strlen(text));
}

/* Formats this file's own text and numbers: never a stored string (those go to s_text). */
__attribute__((format(printf, 2, 3))) static void s_fmt(xs_writer_t *w, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    xs_writer_raw(w, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Writes len bytes of text HTML-escaped: & < > " ' as entities, control bytes and bytes that
 * are not UTF-8 as U+FFFD. The one door for stored strings into a page. */
static void s_text(xs_writer_t *w, const char *text, size_t len) {
    xs_html_text(w, text, len);
}

static void s_ctext(xs_writer_t *w, const char *text) {
    s_text(w, text, strlen(text));
}

static void s_str(xs_writer_t *w, xs_str_t s) {
    s_text(w, s.ptr ? s.ptr : "", s.len);
}

static void s_hours(xs_writer_t *w, uint64_t seconds) {
    char h[32];
    size_t n = xs_certify_format_hours(h, sizeof h, seconds);
    xs_writer_raw(w, h, n);
}

/* Writes a unix time as local "YYYY-MM-DD HH:MM", or "—" for 0. */
static void s_time(xs_writer_t *w, int64_t t) {
    if (!t) {
        s_lit(w, "—");
        return;
    }
    char when[XS_TEXT_TIME_MAX];
    xs_text_local_time(t, when);
    s_lit(w, when);
}

static void s_year_label(xs_writer_t *w, int year) {
    char label[XS_POLICY_YEAR_LABEL];
    xs_policy_year_label(year, label);
    s_lit(w, label);
}

/* ---- the policy of a snapshot, shared between threads ---- */

typedef struct s_policy {
    xs_policy_t *policy;
    uint8_t hash[XS_HASH_BYTES];
    unsigned refs; /* pages using it, and 1 while it is the current one */
} s_policy_t;

/* ---- pages made in the background ---- */

typedef struct s_job {
    hub_web_t *web;
    char key[S_KEY_MAX];        /* path, year and school: the same page */
    char *path, *year, *school; /* copies of what was asked */
    hub_web_page_t page;        /* the page, once done */
    int done;                   /* 1: page is ready */
    int taken;                  /* 1: a request took the page (the job left the table) */
    unsigned waiters;           /* requests waiting on it: the last to leave frees a taken job */
    uint64_t records_done;      /* progress: records walked */
    uint64_t records_total;     /* and to walk; 0: not known yet */
    struct timespec started;    /* monotonic */
    time_t done_at;             /* wall clock, for dropping unfetched pages */
} s_job_t;

struct hub_web {
    hub_t *hub;
    char tmp[4096];            /* private directory for downloads being written */
    pthread_mutex_t lock;      /* guards everything below */
    pthread_cond_t changed;    /* a job finished */
    s_policy_t *policy;        /* the current policy; NULL before the first page */
    uint64_t next_file;        /* numbers the download files */
    unsigned running;          /* jobs whose thread has not finished */
    unsigned wait_ms;          /* hub_web_serve's wait for a page */
    pthread_mutex_t book_lock; /* one workbook at a time: the writer keeps its column
                                  headers in static storage */
    s_job_t *jobs[2 * HUB_WEB_JOBS_MAX];
};

static void s_policy_release(hub_web_t *web, s_policy_t *p) {
    if (!p)
        return;
    pthread_mutex_lock(&web->lock);
    int last = --p->refs == 0;
    pthread_mutex_unlock(&web->lock);
    if (last) {
        xs_policy_destroy(&p->policy);
        free(p);
    }
}

/* The policy stored in txn's snapshot, decoded once per change: *out is held until
 * s_policy_release. */
static xs_err s_policy_acquire(hub_web_t *web, xs_txn_t *txn, s_policy_t **out) {
    xs_bytes_t blob;
    uint8_t hash[XS_HASH_BYTES];
    *out = NULL;
    xs_err err = hub_meta_get(txn, HUB_META_POLICY, &blob);
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    xs_identity_hash(blob.ptr, blob.len, hash);
    pthread_mutex_lock(&web->lock);
    if (web->policy && memcmp(web->policy->hash, hash, sizeof hash) == 0) {
        web->policy->refs++;
        *out = web->policy;
    }
    pthread_mutex_unlock(&web->lock);
    if (*out)
        return XS_OK;
    s_policy_t *fresh = calloc(1, sizeof *fresh);
    if (!fresh)
        return XS_ENOMEM;
    if ((err = xs_policy_decode(&fresh->policy, blob.ptr, blob.len)) != XS_OK) {
        free(fresh);
        return err;
    }
    memcpy(fresh->hash, hash, sizeof hash);
    fresh->refs = 2; /* this page, and being the current one */
    s_policy_t *old;
    pthread_mutex_lock(&web->lock);
    old = web->policy;
    web->policy = fresh;
    pthread_mutex_unlock(&web->lock);
    s_policy_release(web, old);
    *out = fresh;
    return XS_OK;
}

/* ---- one page being made ---- */

typedef struct s_req {
    hub_web_t *web;
    hub_t hub;          /* web->hub, judged by the policy of this snapshot */
    s_policy_t *policy; /* that policy, held */
    xs_txn_t *txn;      /* the snapshot */
    hub_web_param_fn param;
    void *ctx;
    int year;  /* the academic year shown (2025 for 2025-2026) */
    int today; /* the academic year of today */
    hub_web_page_t *page;
    xs_writer_t *w; /* page->body */
    s_job_t *job;   /* the background job making it, for progress; NULL */
} s_req_t;

/* hub_summary's progress. Every walk's context begins with its s_req_t pointer: ctx points
 * at that pointer. */
static void s_progress(void *ctx, uint64_t done, uint64_t total) {
    s_req_t *r = *(s_req_t **)ctx;
    if (!r->job)
        return;
    pthread_mutex_lock(&r->web->lock);
    r->job->records_done = done;
    r->job->records_total = total;
    pthread_mutex_unlock(&r->web->lock);
}

static const char *s_param(const s_req_t *r, const char *name) {
    return r->param ? r->param(r->ctx, name) : NULL;
}

/* The page's head: its title (text, len bytes, escaped) and the top bar with the policy. */
static void s_head(s_req_t *r, const char *title, size_t len) {
    xs_writer_t *w = r->w;
    const xs_policy_t *p = r->hub.policy;
    s_lit(w, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<title>");
    s_text(w, title, len);
    s_lit(w, " · 县级学时看板</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n"
             "<link rel=\"icon\" href=\"data:,\">\n</head>\n<body>\n<div class=\"top\">"
             "<a href=\"/?year=");
    s_year_label(w, r->year ? r->year : r->today);
    s_lit(w, "\">县级学时看板</a>");
    if (p) {
        s_lit(w, "<span>认定规则：");
        s_ctext(w, p->name[0] ? p->name : p->id);
        s_lit(w, "（");
        s_ctext(w, p->id);
        s_fmt(w, " 第 %u 版）</span>", p->version);
    }
    s_lit(w, "</div>\n<div class=\"page\">\n");
}

static void s_foot(s_req_t *r) {
    s_lit(r->w, "<p class=\"foot\">只读页面，不改动任何数据 (read-only) · 生成于 ");
    s_time(r->w, (int64_t)time(NULL));
    s_lit(r->w, " · 县级中心目录 ");
    s_ctext(r->w, r->hub.dir ? r->hub.dir : "");
    s_lit(r->w, "</p>\n</div>\n</body>\n</html>\n");
}

/* Links to the academic years around today's, the one shown in bold. */
static void s_years(s_req_t *r) {
    xs_writer_t *w = r->w;
    int first = r->today - (S_YEARS_SHOWN - 1);
    s_lit(w, "<p class=\"years\">学年 (year)：");
    if (r->year < first) {
        s_lit(w, "<strong>");
        s_year_label(w, r->year);
        s_lit(w, "</strong> ");
    }
    for (int y = first; y <= r->today; y++) {
        if (y == r->year) {
            s_lit(w, "<strong>");
            s_year_label(w, y);
            s_lit(w, "</strong>");
        } else {
            s_lit(w, "<a href=\"?year=");
            s_year_label(w, y);
            s_lit(w, "\">");
            s_year_label(w, y);
            s_lit(w, "</a>");
        }
        s_lit(w, " ");
    }
    if (r->year > r->today) {
        s_lit(w, "<strong>");
        s_year_label(w, r->year);
        s_lit(w, "</strong>");
    }
    s_lit(w, "</p>\n");
}

/* Replaces whatever was written with a page saying what went wrong, with status. */
static void s_error_page(s_req_t *r, unsigned status, const char *title, const char *detail) {
    xs_writer_reset(r->w);
    r->page->status = status;
    r->page->content_type = S_HTML_TYPE;
    s_head(r, title, strlen(title));
    s_lit(r->w, "<h1>");
    s_ctext(r->w, title);
    s_lit(r->w, "</h1>\n<p>");
    s_ctext(r->w, detail);
    s_lit(r->w, "</p>\n<p><a href=\"/\">返回全县 (the county)</a></p>\n");
    s_foot(r);
}

static void s_link_school(xs_writer_t *w, const char *id, size_t len, int year) {
    s_lit(w, "<a href=\"/school/");
    xs_html_url(w, id, len);
    s_lit(w, "?year=");
    s_year_label(w, year);
    s_lit(w, "\">");
    if (len)
        s_text(w, id, len);
    else
        s_lit(w, "（未知学校）");
    s_lit(w, "</a>");
}

static void s_link_teacher(xs_writer_t *w, xs_str_t id, int year) {
    s_lit(w, "<a href=\"/teacher/");
    xs_html_url(w, id.ptr, id.len);
    s_lit(w, "?year=");
    s_year_label(w, year);
    s_lit(w, "\">");
    s_str(w, id);
    s_lit(w, "</a>");
}

/* A link to the 学时证明 PDF of a teacher, or (school) of every teacher of a school. */
static void s_link_certificates(xs_writer_t *w, int year, const char *id, size_t len, int school,
                                const char *label) {
    s_lit(w, "<a href=\"/download/");
    s_year_label(w, year);
    s_lit(w, school ? "/certificates/school/" : "/certificates/");
    xs_html_url(w, id, len);
    s_lit(w, ".pdf\">");
    s_lit(w, label);
    s_lit(w, "</a>");
}

static void s_link_book(xs_writer_t *w, int year, const char *school, const char *label) {
    s_lit(w, "<a href=\"/download/");
    s_year_label(w, year);
    s_lit(w, "/");
    xs_html_url(w, S_BOOK_NAME, strlen(S_BOOK_NAME));
    if (school) {
        s_lit(w, "?school=");
        xs_html_url(w, school, strlen(school));
    }
    s_lit(w, "\">");
    s_lit(w, label);
    s_lit(w, "</a>");
}

/* ---- the county ---- */

typedef struct s_school_row {
    char id[XS_ID_MAX + 1];
    uint32_t teachers, met, not_met, exempt;
    const hub_summary_school_t *sync; /* what its nodes synced; NULL: no enrolled node */
} s_school_row_t;

typedef struct s_county {
    s_req_t *r;
    s_school_row_t *rows;
    size_t count, cap;
    int closed; /* 1: the year shown is closed */
} s_county_t;

static s_school_row_t *s_county_school(s_county_t *c, const char *id, size_t len) {
    if (len > XS_ID_MAX)
        len = XS_ID_MAX;
    for (size_t i = 0; i < c->count; i++)
        if (strlen(c->rows[i].id) == len && memcmp(c->rows[i].id, id, len) == 0)
            return &c->rows[i];
    if (c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        void *p = realloc(c->rows, cap * sizeof *c->rows);
        if (!p)
            return NULL;
        c->rows = p;
        c->cap = cap;
    }
    s_school_row_t *row = &c->rows[c->count++];
    memset(row, 0, sizeof *row);
    memcpy(row->id, id, len);
    return row;
}

/* Counts a teacher in their school as the workbook's 各校统计 does. */
static void s_count(uint32_t *teachers, uint32_t *met, uint32_t *not_met, uint32_t *exempt,
                    const xs_standing_t *st) {
    (*teachers)++;
    if (st->state == XS_STANDING_EXEMPT)
        (*exempt)++;
    else if (st->met == XS_MET_YES)
        (*met)++;
    else if (st->met == XS_MET_NO)
        (*not_met)++;
}

static xs_err s_county_teacher(void *ctx, const hub_summary_teacher_t *t) {
    s_county_t *c = ctx;
    s_school_row_t *row =
        s_county_school(c, t->school_id.ptr ? t->school_id.ptr : "", t->school_id.len);
    if (!row)
        return XS_ENOMEM;
    s_count(&row->teachers, &row->met, &row->not_met, &row->exempt, t->standing);
    c->closed |= t->closed;
    return XS_OK;
}

static int s_row_cmp(const void *a, const void *b) {
    return strcmp(((const s_school_row_t *)a)->id, ((const s_school_row_t *)b)->id);
}

/* 达标率 of a school as text ("87.5%"), and as a fraction in *rate; -1 when none is judged. */
static void s_rate(const s_school_row_t *s, char out[16], double *rate) {
    uint32_t judged = s->teachers - s->exempt;
    *rate = judged ? (double)s->met / (double)judged : -1;
    if (judged)
        snprintf(out, 16, "%.1f%%", 100.0 * *rate);
    else
        snprintf(out, 16, "—");
}

/* The line above a page's table: teachers, 达标, 未达标, 免于认定 and 达标率 of c. */
static void s_counts_line(xs_writer_t *w, const s_school_row_t *c) {
    char pct[16];
    double rate;
    s_rate(c, pct, &rate);
    s_fmt(w,
          "<p>教师 %u 人：达标 <span class=\"yes\">%u</span>，未达标 <span class=\"no\">%u</span>，"
          "免于认定 %u；达标率 <strong>%s</strong>。</p>\n",
          c->teachers, c->met, c->not_met, c->exempt, pct);
}

/* The bar chart of 达标率 per school, inline SVG drawn with presentation attributes only. */
static void s_chart(s_req_t *r, const s_school_row_t *rows, size_t n) {
    xs_writer_t *w = r->w;
    const int bar = 460, left = 170, row_h = 30;
    int height = 20 + (int)n * row_h + 20;
    s_fmt(w,
          "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"820\" "
          "height=\"%d\" viewBox=\"0 0 820 %d\" role=\"img\" aria-label=\"各校达标率\">\n"
          "<title>各校达标率 (share of teachers who met the policy, per school)</title>\n",
          height, height);
    for (int k = 0; k <= 4; k++) {
        int x = left + bar * k / 4;
        s_fmt(w,
              "<line x1=\"%d\" y1=\"8\" x2=\"%d\" y2=\"%d\" stroke=\"#e2e8f0\"/>"
              "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#718096\" "
              "text-anchor=\"middle\">%d%%</text>\n",
              x, x, height - 18, x, height - 4, 25 * k);
    }
    for (size_t i = 0; i < n; i++) {
        const s_school_row_t *s = &rows[i];
        char pct[16];
        double rate;
        s_rate(s, pct, &rate);
        int y = 12 + (int)i * row_h;
        size_t shown = xs_text_utf8_prefix(s->id, strlen(s->id), 20);
        s_fmt(w, "<text x=\"%d\" y=\"%d\" font-size=\"14\" text-anchor=\"end\" fill=\"#1a202c\">",
              left - 8, y + 16);
        if (shown)
            s_text(w, s->id, shown);
        else
            s_lit(w, "（未知学校）");
        if (shown < strlen(s->id))
            s_lit(w, "…");
        s_fmt(w, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"#edf2f7\"/>",
              left, y + 2, bar);
        if (rate >= 0) {
            const char *fill = rate >= 0.9 ? "#2f855a" : rate >= 0.6 ? "#dd6b20" : "#c53030";
            s_fmt(w, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"%s\"/>", left,
                  y + 2, (int)(rate * bar + 0.5), fill);
        }
        s_fmt(w, "<text x=\"%d\" y=\"%d\" font-size=\"14\" fill=\"#1a202c\">%s（%u/%u）</text>\n",
              left + bar + 8, y + 16, pct, s->met, s->teachers - s->exempt);
    }
    s_lit(w, "</svg></div>\n");
}

typedef struct s_nodes {
    s_req_t *r;
    xs_chain_view_t view;
} s_nodes_t;

/* One node's row: as `xueshi-hub nodes` prints it, with what it has sealed beyond the hub. */
static xs_err s_node_row(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    s_nodes_t *n = ctx;
    xs_writer_t *w = n->r->w;
    char hex[17];
    xs_err err = hub_ledger_view(txn, node->origin, &n->view);
    if (err != XS_OK)
        return err;
    xs_hex_encode(node->origin, 8, hex);
    s_fmt(w, "<tr><td class=\"num\">%u</td><td class=\"mono\">%s</td><td>", node->number, hex);
    s_link_school(w, node->school, strlen(node->school), n->r->year);
    s_lit(w, "</td><td>");
    s_lit(w, node->revoked_at ? "<span class=\"no\">已吊销</span>" : "正常");
    s_lit(w, "</td><td>");
    s_time(w, node->last_sync);
    s_fmt(w, "</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td><td class=\"num\">",
          (unsigned long long)n->view.have_through, (unsigned long long)n->view.held_max);
    if (node->head_seq) {
        s_fmt(w, "%llu", (unsigned long long)node->head_seq);
        if (node->head_via)
            s_fmt(w, "<br><span class=\"note\">经 %u 号中转</span>", node->head_via);
    } else {
        s_lit(w, "—");
    }
    s_lit(w, "</td><td class=\"num\">");
    if (!node->head_seq)
        s_lit(w, "—");
    else if (node->head_seq > n->view.have_through)
        s_fmt(w, "<span class=\"no\">%llu</span>",
              (unsigned long long)(node->head_seq - n->view.have_through));
    else
        s_lit(w, "0");
    s_lit(w, "</td><td>");
    if (!n->view.gap_count)
        s_lit(w, "无");
    for (size_t i = 0; i < n->view.gap_count && i < S_GAPS_SHOWN; i++)
        s_fmt(w, "%s<span class=\"no\">缺 %llu–%llu</span>", i ? "<br>" : "",
              (unsigned long long)n->view.gaps[i][0], (unsigned long long)n->view.gaps[i][1]);
    if (n->view.gap_count > S_GAPS_SHOWN)
        s_fmt(w, "<br>等 %zu 处", n->view.gap_count);
    s_lit(w, "</td><td>");
    if (node->fork_seq && node->fork_resolved_at) {
        s_fmt(w, "已解决（续签至 %llu；隔离 %llu 批，留作证据）",
              (unsigned long long)node->fork_resolved_through, (unsigned long long)node->forks);
    } else if (node->fork_seq) {
        s_fmt(w, "<span class=\"no\">自序号 %llu 起分叉，已隔离 %llu 批</span>",
              (unsigned long long)node->fork_seq, (unsigned long long)node->forks);
    } else {
        s_lit(w, "无");
    }
    s_lit(w, "</td><td>");
    if (!node->proxy_count)
        s_lit(w, "—");
    else
        s_lit(w, "代管 ");
    for (uint32_t i = 0; i < node->proxy_count; i++) {
        if (i)
            s_lit(w, ", ");
        s_link_school(w, node->proxies[i], strlen(node->proxies[i]), n->r->year);
    }
    s_lit(w, "</td></tr>\n");
    return xs_writer_err(w);
}

static xs_err s_county(s_req_t *r) {
    xs_writer_t *w = r->w;
    s_county_t c = {r, NULL, 0, 0, 0};
    hub_summary_school_t *synced = NULL;
    size_t nsynced = 0;
    s_nodes_t nodes;
    xs_err err = hub_summary_schools(r->txn, &synced, &nsynced);
    for (size_t i = 0; err == XS_OK && i < nsynced; i++) {
        s_school_row_t *row = s_county_school(&c, synced[i].school_id, strlen(synced[i].school_id));
        if (!row)
            err = XS_ENOMEM;
        else
            row->sync = &synced[i];
    }
    if (err == XS_OK)
        err = hub_summary_each(&r->hub, r->txn, r->year, NULL, s_county_teacher, s_progress, &c);
    if (err != XS_OK)
        goto out;
    if (c.count)
        qsort(c.rows, c.count, sizeof *c.rows, s_row_cmp);
    s_school_row_t all;
    memset(&all, 0, sizeof all);
    for (size_t i = 0; i < c.count; i++) {
        all.teachers += c.rows[i].teachers;
        all.met += c.rows[i].met;
        all.not_met += c.rows[i].not_met;
        all.exempt += c.rows[i].exempt;
    }
    s_head(r, "全县", strlen("全县"));
    s_lit(w, "<h1>全县学时认定概况 ");
    s_year_label(w, r->year);
    s_lit(w, " 学年</h1>\n");
    s_years(r);
    s_counts_line(w, &all);
    char pct[16];
    double rate;
    if (c.closed)
        s_lit(w, "<p class=\"note\">本学年已结账：学时与结论取自学年认定文件（含补认定）。</p>\n");
    else
        s_lit(w, "<p class=\"note\">本学年尚未结账：学时与结论按县级中心当前收到的记录认定，"
                 "随同步变化。</p>\n");
    s_lit(w, "<h2>各校达标率</h2>\n");
    if (c.count)
        s_chart(r, c.rows, c.count);
    else
        s_lit(w, "<p>还没有学校。</p>\n");
    s_lit(w, "<h2>各校统计</h2>\n<table>\n<tr><th>学校</th><th>教师</th><th>达标</th>"
             "<th>未达标</th><th>免于认定</th><th>达标率</th><th>节点</th><th>最近同步</th>"
             "<th>未同步记录</th><th>缺口</th><th>分叉</th></tr>\n");
    for (size_t i = 0; i < c.count; i++) {
        const s_school_row_t *s = &c.rows[i];
        s_rate(s, pct, &rate);
        s_lit(w, "<tr><td>");
        s_link_school(w, s->id, strlen(s->id), r->year);
        s_fmt(w,
              "</td><td class=\"num\">%u</td><td class=\"num\">%u</td><td class=\"num\">%u</td>"
              "<td class=\"num\">%u</td><td class=\"num\">%s</td>",
              s->teachers, s->met, s->not_met, s->exempt, pct);
        if (s->sync) {
            s_fmt(w, "<td class=\"num\">%u</td><td>", s->sync->nodes);
            s_time(w, s->sync->last_sync);
            s_fmt(w,
                  "</td><td class=\"num\">%s%llu%s</td><td class=\"num\">%llu</td>"
                  "<td class=\"num\">%llu</td></tr>\n",
                  s->sync->unsynced ? "<span class=\"no\">" : "",
                  (unsigned long long)s->sync->unsynced, s->sync->unsynced ? "</span>" : "",
                  (unsigned long long)s->sync->gaps, (unsigned long long)s->sync->forks);
        } else {
            s_lit(w, "<td class=\"num\">0</td><td>—</td><td class=\"num\">—</td>"
                     "<td class=\"num\">—</td><td class=\"num\">—</td></tr>\n");
        }
    }
    s_lit(w, "</table>\n<p class=\"note\">未同步记录：节点最近一次同步（直连或经中心校中转）时"
             "报告已封存、县里尚未收到的记录数，可能仍在中心校的中转里。</p>\n");
    s_lit(w, "<h2>各节点同步情况</h2>\n<table>\n<tr><th>编号</th><th>节点公钥</th><th>学校</th>"
             "<th>状态</th><th>最近同步</th><th>已连续收到</th><th>最高序号</th>"
             "<th>节点已封存</th><th>未同步</th><th>缺口</th><th>分叉</th><th>中转</th></tr>\n");
    nodes.r = r;
    if ((err = hub_nodes_each(r->txn, s_node_row, &nodes)) != XS_OK)
        goto out;
    s_lit(w, "</table>\n<h2>下载</h2>\n<p>");
    s_link_book(w, r->year, NULL, "全县学时认定汇总表（Excel）");
    s_lit(w, "</p>\n");
    s_foot(r);
out:
    free(c.rows);
    free(synced);
    return err;
}

/* ---- a school ---- */

/* The total of bucket b in scope and academic year (cycle: its first year), semester 0 rows
 * only; else the zero row the engine would give a teacher without records there (zero holds
 * xs_standing_zero_totals of the year); NULL when neither has one. As the workbook reads. */
static const xs_certify_total_t *s_total(const xs_certify_teacher_t *t,
                                         const xs_certify_total_t *zero, size_t nzero, int scope,
                                         int year, size_t b) {
    for (size_t i = 0; i < t->total_count; i++) {
        const xs_certify_total_t *x = &t->totals[i];
        if (x->scope == scope && x->year == year && x->bucket == b && x->semester == 0)
            return x;
    }
    for (size_t i = 0; i < nzero; i++) {
        const xs_certify_total_t *x = &zero[i];
        if (x->scope == scope && x->year == year && x->bucket == b && x->semester == 0)
            return x;
    }
    return NULL;
}

/* A cell of credited and required hours of a bucket (named, in data-bucket, with the scope:
 * "school" or "cycle:school"), red where a requirement is not met. */
static void s_total_cell(xs_writer_t *w, const xs_certify_total_t *x, uint32_t required, int exempt,
                         const char *bucket, int cycle) {
    int no = x && !exempt && x->met == XS_MET_NO;
    s_lit(w, no ? "<td class=\"num no\" data-bucket=\"" : "<td class=\"num\" data-bucket=\"");
    if (cycle)
        s_lit(w, "cycle:");
    s_ctext(w, bucket);
    s_lit(w, "\">");
    s_hours(w, x ? x->credited_seconds : 0);
    if (required) {
        s_lit(w, "<span class=\"req\"> / ");
        s_hours(w, required);
        s_lit(w, "</span>");
    }
    s_lit(w, "</td>");
}

/* The conclusion cell: 达标, 未达标, 免于认定 or 无要求, with records awaiting review. */
static void s_conclusion(xs_writer_t *w, const xs_standing_t *st) {
    int exempt = st->state == XS_STANDING_EXEMPT;
    const char *cls = exempt                  ? "ex"
                      : st->met == XS_MET_YES ? "yes"
                      : st->met == XS_MET_NO  ? "no"
                                              : "note";
    s_fmt(w, "<span class=\"%s\">%s</span>", cls, xs_workbook_conclusion(st));
    if (!st->final && !exempt)
        s_fmt(w, "（%u 条待审核）", st->unreviewed);
}

typedef struct s_school {
    s_req_t *r;
    const char *id;
    xs_writer_t head; /* the table's header row, from the first teacher's policy (every
                         teacher of a walk has it; a closed year's lives only during it) */
    xs_writer_t rows; /* the teachers' rows, until the counts above them are known */
    int cycle_year;   /* the first year of the cycle holding the year shown */
    int closed;
    uint32_t teachers, met, not_met, exempt;
} s_school_t;

static xs_err s_school_teacher(void *ctx, const hub_summary_teacher_t *t) {
    s_school_t *s = ctx;
    xs_writer_t *w = &s->rows;
    const xs_policy_t *p = t->policy;
    xs_certify_total_t zero[XS_YEAR_TOTALS_MAX];
    char reason[XS_REPORT_REASON_MAX];
    if (!s->teachers) {
        char cycle[XS_POLICY_CYCLE_LABEL];
        s->cycle_year = xs_policy_cycle_of(p, t->year);
        xs_policy_cycle_label(p, s->cycle_year, cycle);
        s_lit(&s->head, "<tr><th>教师编号</th><th>姓名</th>");
        for (size_t b = 0; b < p->bucket_count; b++) {
            s_lit(&s->head, "<th>");
            s_ctext(&s->head, xs_policy_bucket_label(p, b));
            s_lit(&s->head, "<br>（学年）</th>");
        }
        for (size_t b = 0; b < p->bucket_count; b++) {
            if (!p->buckets[b].required_seconds[XS_SCOPE_CYCLE])
                continue;
            s_lit(&s->head, "<th>");
            s_ctext(&s->head, xs_policy_bucket_label(p, b));
            s_fmt(&s->head, "<br>（%s 周期）</th>", cycle);
        }
        s_lit(&s->head, "<th>认定结论</th><th>原因</th></tr>\n");
    }
    s->closed |= t->closed;
    s_count(&s->teachers, &s->met, &s->not_met, &s->exempt, t->standing);
    size_t nzero = xs_standing_zero_totals(p, t->year, zero, XS_YEAR_TOTALS_MAX);
    int exempt = t->standing->state == XS_STANDING_EXEMPT;
    s_lit(w, "<tr data-teacher=\"");
    s_str(w, t->teacher_id);
    s_lit(w, "\"><td class=\"nw\">");
    s_link_teacher(w, t->teacher_id, s->r->year);
    s_lit(w, "</td><td class=\"nw\">");
    s_str(w, t->name);
    s_lit(w, "</td>");
    for (size_t b = 0; b < p->bucket_count; b++) {
        const xs_certify_total_t *x = s_total(t->teacher, zero, nzero, XS_SCOPE_YEAR, t->year, b);
        s_total_cell(w, x, x ? x->required_seconds : p->buckets[b].required_seconds[XS_SCOPE_YEAR],
                     exempt, p->buckets[b].name, 0);
    }
    for (size_t b = 0; b < p->bucket_count; b++) {
        if (!p->buckets[b].required_seconds[XS_SCOPE_CYCLE])
            continue;
        const xs_certify_total_t *x =
            s_total(t->teacher, zero, nzero, XS_SCOPE_CYCLE, s->cycle_year, b);
        s_total_cell(w, x, x ? x->required_seconds : p->buckets[b].required_seconds[XS_SCOPE_CYCLE],
                     exempt, p->buckets[b].name, 1);
    }
    s_lit(w, "<td class=\"nw\">");
    s_conclusion(w, t->standing);
    s_lit(w, "</td><td>");
    xs_standing_reason(p, t->standing, t->teacher, t->year, reason, sizeof reason);
    s_ctext(w, reason);
    s_lit(w, "</td></tr>\n");
    return xs_writer_err(w);
}

/* 1 when school (len bytes) is the own school of an enrolled node, or one a node proxies. */
static xs_err s_school_known(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    (void)txn;
    const char *id = ctx;
    return hub_node_serves(node, id, strlen(id)) ? XS_EEXIST : XS_OK;
}

static xs_err s_school(s_req_t *r, const char *id) {
    xs_writer_t *w = r->w;
    s_school_t s;
    memset(&s, 0, sizeof s);
    s.r = r;
    s.id = id;
    xs_writer_init(&s.head, HUB_WEB_PAGE_MAX);
    xs_writer_init(&s.rows, HUB_WEB_PAGE_MAX);
    xs_err err = hub_summary_each(&r->hub, r->txn, r->year, id, s_school_teacher, s_progress, &s);
    if (err == XS_OK)
        err = xs_writer_err(&s.rows);
    if (err == XS_OK)
        err = xs_writer_err(&s.head);
    if (err != XS_OK)
        goto out;
    if (!s.teachers) {
        err = hub_nodes_each(r->txn, s_school_known, (void *)id);
        if (err == XS_OK) {
            s_error_page(r, 404, "没有这所学校 (no such school)",
                         "县级中心没有登记这所学校的节点，名册中也没有它的教师。");
            goto out;
        }
        if (err != XS_EEXIST)
            goto out;
        err = XS_OK;
    }
    char title[XS_ID_MAX + 16];
    snprintf(title, sizeof title, "学校 %s", id);
    s_head(r, title, strlen(title));
    s_lit(w, "<p><a href=\"/?year=");
    s_year_label(w, r->year);
    s_lit(w, "\">← 全县</a></p>\n<h1>学校 ");
    s_ctext(w, id);
    s_lit(w, " · ");
    s_year_label(w, r->year);
    s_lit(w, " 学年</h1>\n");
    s_years(r);
    s_school_row_t counts;
    memset(&counts, 0, sizeof counts);
    counts.teachers = s.teachers;
    counts.met = s.met;
    counts.not_met = s.not_met;
    counts.exempt = s.exempt;
    s_counts_line(w, &counts);
    if (s.closed)
        s_lit(w, "<p class=\"note\">本学年已结账：学时与结论取自学年认定文件（含补认定）。</p>\n");
    if (!s.teachers) {
        s_lit(w, "<p>本校在这一学年没有教师。</p>\n");
    } else {
        s_lit(w, "<p class=\"note\">学时：已认定 / 应修（学时），红色为未达到要求。</p>\n"
                 "<table>\n");
        xs_writer_raw(w, s.head.data, s.head.len);
        xs_writer_raw(w, s.rows.data, s.rows.len);
        s_lit(w, "</table>\n");
    }
    s_lit(w, "<h2>下载</h2>\n<p>");
    s_link_book(w, r->year, id, "本校学时认定汇总表（Excel）");
    if (s.teachers) {
        s_lit(w, "　");
        s_link_certificates(w, r->year, id, strlen(id), 1, "本校全部教师的学时证明（PDF）");
    }
    s_lit(w, "</p>\n");
    s_foot(r);
out:
    xs_writer_free(&s.head);
    xs_writer_free(&s.rows);
    return err;
}

/* ---- a teacher ---- */

typedef struct s_teacher {
    s_req_t *r;
    const char *id;
    int found; /* the summary gave them */
} s_teacher_t;

static const char *s_scope_zh(unsigned scope) {
    return scope == XS_SCOPE_YEAR ? "学年" : scope == XS_SCOPE_SEMESTER ? "学期" : "周期";
}

static void s_period(xs_writer_t *w, const xs_policy_t *p, unsigned scope, int year,
                     unsigned semester) {
    char label[XS_POLICY_SEMESTER_LABEL + XS_POLICY_CYCLE_LABEL];
    if (scope == XS_SCOPE_CYCLE)
        xs_policy_cycle_label(p, year, label);
    else if (scope == XS_SCOPE_SEMESTER)
        xs_policy_semester_label(year, semester, label);
    else
        xs_policy_year_label(year, label);
    s_lit(w, label);
}

/* The teacher's totals of the year, their conclusion and its reason, as the school shows. */
static xs_err s_teacher_summary(void *ctx, const hub_summary_teacher_t *t) {
    s_teacher_t *tt = ctx;
    xs_writer_t *w = tt->r->w;
    const xs_policy_t *p = t->policy;
    char reason[XS_REPORT_REASON_MAX];
    if (t->teacher_id.len != strlen(tt->id) || memcmp(t->teacher_id.ptr, tt->id, t->teacher_id.len))
        return XS_OK;
    tt->found = 1;
    s_lit(w, "<h2>认定结论 · ");
    s_year_label(w, t->year);
    s_lit(w, " 学年</h2>\n<p>认定结论：");
    s_conclusion(w, t->standing);
    xs_standing_reason(p, t->standing, t->teacher, t->year, reason, sizeof reason);
    if (reason[0]) {
        s_lit(w, "；原因：");
        s_ctext(w, reason);
    }
    s_lit(w, "</p>\n");
    if (t->closed)
        s_lit(w, "<p class=\"note\">本学年已结账：以下取自学年认定文件（含补认定）。</p>\n");
    s_lit(w, "<table>\n<tr><th>范围</th><th>期间</th><th>项目</th><th>已认定学时</th>"
             "<th>应修学时</th><th>是否达标</th><th>约束性</th><th>原因</th></tr>\n");
    for (size_t i = 0; i < t->teacher->total_count; i++) {
        const xs_certify_total_t *x = &t->teacher->totals[i];
        s_fmt(w, "<tr><td>%s</td><td>", s_scope_zh(x->scope));
        s_period(w, p, x->scope, x->year, x->semester);
        s_lit(w, "</td><td>");
        s_ctext(w, xs_policy_bucket_label(p, x->bucket));
        s_lit(w, "</td><td class=\"num\">");
        s_hours(w, x->credited_seconds);
        s_lit(w, "</td><td class=\"num\">");
        if (x->required_seconds)
            s_hours(w, x->required_seconds);
        else
            s_lit(w, "—");
        s_fmt(w, "</td><td class=\"%s\">%s</td><td>%s</td><td>",
              x->met == XS_MET_NO    ? "no"
              : x->met == XS_MET_YES ? "yes"
                                     : "note",
              xs_certify_met_zh(x->met),
              !x->required_seconds ? "—"
              : x->binding         ? "是"
                                   : "否（参考）");
        xs_certify_total_reason(p, x, reason, sizeof reason);
        s_ctext(w, reason);
        s_lit(w, "</td></tr>\n");
    }
    s_lit(w, "</table>\n");
    const xs_standing_t *st = t->standing;
    if (st->role_count) {
        s_lit(w, "<table>\n<tr><th>岗位要求</th><th>已认定学时</th><th>应修学时</th>"
                 "<th>是否达标</th></tr>\n");
        for (uint32_t i = 0; i < st->role_count; i++) {
            const xs_standing_role_t *role = &st->roles[i];
            s_lit(w, "<tr><td>");
            s_ctext(w, p->roles[role->role].label);
            s_lit(w, "</td><td class=\"num\">");
            s_hours(w, role->credited_seconds);
            s_lit(w, "</td><td class=\"num\">");
            s_hours(w, role->required_seconds);
            s_fmt(w, "</td><td>%s</td></tr>\n",
                  role->judged ? xs_certify_met_zh(role->met) : "本学年不认定");
        }
        s_lit(w, "</table>\n");
    }
    return xs_writer_err(w);
}

static const char *s_role_zh(unsigned role) {
    static const char *const names[XS_ROLE_COUNT] = {"", "参与", "主讲", "组织", "主持", "主笔"};
    return role < XS_ROLE_COUNT ? names[role] : "";
}

static const char *s_level_zh(unsigned level) {
    static const char *const names[XS_LEVEL_COUNT] = {"", "校级", "县级", "市级", "省级", "国家级"};
    return level < XS_LEVEL_COUNT ? names[level] : "";
}

static const char *s_grade_zh(unsigned grade) {
    static const char *const names[XS_GRADE_COUNT] = {"", "一等奖", "二等奖", "三等奖", "公开发表"};
    return grade < XS_GRADE_COUNT ? names[grade] : "";
}

/* What the office recorded of an activity: role, amounts, level, grade. */
static void s_amounts(xs_writer_t *w, const xs_record_t *rec) {
    const char *sep = "";
    char fixed[32];
#define S_SEP() (s_lit(w, sep), sep = "，")
    if ((rec->present & (1u << XS_F_ROLE)) && *s_role_zh(rec->role)) {
        S_SEP();
        s_lit(w, s_role_zh(rec->role));
    }
    if (rec->present & (1u << XS_F_MINUTES)) {
        S_SEP();
        s_fmt(w, "%u 分钟", rec->minutes);
    }
    if (rec->present & (1u << XS_F_HOURS)) {
        S_SEP();
        xs_text_format_fixed(fixed, sizeof fixed, rec->hours, 2);
        s_fmt(w, "证书 %s 学时", fixed);
    }
    if (rec->present & (1u << XS_F_DAYS)) {
        S_SEP();
        xs_text_format_fixed(fixed, sizeof fixed, (uint64_t)rec->days * 5, 1);
        s_fmt(w, "%s 天", fixed);
    }
    if (rec->present & (1u << XS_F_CHARS)) {
        S_SEP();
        s_fmt(w, "%u 字", rec->chars);
    }
    if (rec->present & (1u << XS_F_LESSONS)) {
        S_SEP();
        s_fmt(w, "%u 课时", rec->lessons);
    }
    if ((rec->present & (1u << XS_F_LEVEL)) && *s_level_zh(rec->level)) {
        S_SEP();
        s_lit(w, s_level_zh(rec->level));
    }
    if ((rec->present & (1u << XS_F_GRADE)) && *s_grade_zh(rec->grade)) {
        S_SEP();
        s_lit(w, s_grade_zh(rec->grade));
    }
    if (rec->present & (1u << XS_F_SCORE)) {
        S_SEP();
        xs_text_format_fixed(fixed, sizeof fixed, rec->score, 2);
        s_fmt(w, "%s 分", fixed);
    }
#undef S_SEP
}

/* A record's place in the teacher's list: by date (undated last), then by engine id, the
 * order the office entered them. */
typedef struct s_order {
    int32_t date;
    uint64_t id;
    size_t index;
} s_order_t;

static int s_order_cmp(const void *pa, const void *pb) {
    const s_order_t *a = pa, *b = pb;
    if (a->date != b->date)
        return a->date < b->date ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Every record the hub holds of the teacher, with its credit, status and reason as the
 * engine gives them under the current policy (report --detail's rows). */
static xs_err s_teacher_records(s_req_t *r, hub_ledger_t *l) {
    xs_writer_t *w = r->w;
    const xs_policy_t *p = r->hub.policy;
    hub_ledger_t exams;
    xs_certify_exams_t *standings = NULL;
    s_order_t *order = NULL;
    char reason[XS_REPORT_REASON_MAX + XS_NOTE_MAX], key[17], date[11];
    memset(&exams, 0, sizeof exams);
    xs_err err = hub_ledger_exams(&exams, r->txn);
    if (err == XS_OK)
        err = xs_certify_exams_build(&standings, p, exams.records, exams.ids, exams.count);
    if (err == XS_OK && l->count)
        err = xs_certify_teacher(p, standings, l->records, l->ids, l->count, NULL, l->rows, NULL,
                                 NULL);
    if (err == XS_OK && !(order = malloc((l->count + 1) * sizeof *order)))
        err = XS_ENOMEM;
    if (err != XS_OK)
        goto out;
    for (size_t i = 0; i < l->count; i++) {
        order[i].date =
            (l->records[i].present & (1u << XS_F_DATE)) ? l->records[i].date : INT32_MAX;
        order[i].id = l->ids[i];
        order[i].index = i;
    }
    qsort(order, l->count, sizeof *order, s_order_cmp);
    s_fmt(w, "<h2>县级中心收到的记录（共 %zu 条）</h2>\n", l->count);
    s_lit(w, "<p class=\"note\">每条记录按当前认定规则的认定情况，与 xueshi-hub report --detail "
             "一致；记录编号为 节点公钥:序号。</p>\n<table>\n<tr><th>记录</th><th>学年</th>"
             "<th>日期</th><th>类别</th><th>内容</th><th>登记</th><th>认定学时</th><th>状态</th>"
             "<th>审核</th><th>原因</th><th>备注</th></tr>\n");
    for (size_t k = 0; k < l->count; k++) {
        size_t i = order[k].index;
        const xs_record_t *rec = &l->records[i];
        const xs_certify_row_t *row = &l->rows[i];
        xs_hex_encode(l->origins[i], 8, key);
        s_fmt(w, "<tr><td class=\"mono\">%s:%llu</td><td class=\"nw\">", key,
              (unsigned long long)l->seqs[i]);
        if (row->year)
            s_year_label(w, row->year);
        s_lit(w, "</td><td class=\"nw\">");
        if (rec->present & (1u << XS_F_DATE)) {
            xs_date_format(rec->date, date);
            s_lit(w, date);
        }
        s_lit(w, "</td><td>");
        if (rec->kind == XS_KIND_CORRECTION) {
            s_fmt(w, "更正（作废序号 %llu）", (unsigned long long)rec->voids);
        } else if (rec->kind == XS_KIND_REVIEW) {
            s_fmt(w, "审核（序号 %llu：%s）", (unsigned long long)rec->reviews,
                  rec->verdict == XS_VERDICT_RETURNED ? "退回" : "通过");
        } else {
            const char *label = xs_policy_category_label(p, rec->category);
            if (label)
                s_ctext(w, label);
            else
                s_fmt(w, "类别 %u", rec->category);
        }
        s_lit(w, "</td><td>");
        s_str(w, rec->event);
        if (rec->event.len && rec->work.len)
            s_lit(w, "；");
        s_str(w, rec->work);
        s_lit(w, "</td><td>");
        if (rec->kind == XS_KIND_ACTIVITY)
            s_amounts(w, rec);
        s_lit(w, "</td><td class=\"num\">");
        if (rec->kind == XS_KIND_ACTIVITY)
            s_hours(w, row->credited_seconds);
        s_fmt(w, "</td><td class=\"nw %s\">%s</td><td class=\"nw\">",
              row->status == XS_CERT_CREDITED   ? "yes"
              : row->status == XS_CERT_REJECTED ? "no"
                                                : "note",
              xs_certify_status_zh(row->status));
        if (rec->kind == XS_KIND_ACTIVITY)
            s_lit(w, row->review == XS_REVIEW_APPROVED   ? "已通过"
                     : row->review == XS_REVIEW_RETURNED ? "<span class=\"no\">已退回</span>"
                                                         : "未审核");
        s_lit(w, "</td><td>");
        const xs_str_t *note = xs_certify_review_note(l->records, l->ids, l->count, row);
        xs_certify_reason_note(p, rec, row, note, reason, sizeof reason);
        s_ctext(w, reason);
        s_lit(w, "</td><td>");
        s_str(w, rec->note);
        s_lit(w, "</td></tr>\n");
    }
    s_lit(w, "</table>\n");
    err = xs_writer_err(w);
out:
    free(order);
    xs_certify_exams_destroy(&standings);
    hub_ledger_free(&exams);
    return err;
}

/* What the teacher's receipt says, built from the certification state as the hub builds it
 * for a school's next sync (hub_credit_receipt): the periods and their totals. */
static xs_err s_teacher_receipt(s_req_t *r, const char *id) {
    xs_writer_t *w = r->w;
    char hex[17];
    s_lit(w, "<h2>认定回执</h2>\n");
    xs_receipt_t *rc = malloc(sizeof *rc);
    if (!rc)
        return XS_ENOMEM;
    xs_err err = hub_credit_receipt(&r->hub, r->txn, NULL, id, strlen(id), rc);
    if (err == XS_ENOTFOUND) {
        s_lit(w, "<p>县级中心还没有为这位教师签发回执。</p>\n");
        free(rc);
        return XS_OK;
    }
    if (err != XS_OK) {
        free(rc);
        return err;
    }
    xs_hex_encode(rc->policy_hash, 8, hex);
    s_lit(w, "<p>回执内容：认定规则 ");
    s_str(w, rc->policy_id);
    s_fmt(w, " 第 %u 版（规则指纹 %s…）；学校同步或取回执包时，县级中心按此签名发出。</p>\n",
          rc->policy_version, hex);
    s_lit(w, "<table>\n<tr><th>期间</th><th>记录数</th><th>已结账</th></tr>\n");
    for (uint32_t i = 0; i < rc->period_count; i++) {
        const xs_receipt_period_t *pd = &rc->periods[i];
        s_fmt(w, "<tr><td>%s ", s_scope_zh(pd->scope));
        s_period(w, r->hub.policy, pd->scope, pd->year, 0);
        s_fmt(w, "</td><td class=\"num\">%u</td><td>%s</td></tr>\n", pd->record_count,
              pd->closed ? "是" : "否");
    }
    /* Bucket numbers are named by the policy they were certified under, when it is at hand. */
    int same_policy = rc->policy_version == r->hub.policy->version &&
                      rc->policy_id.len == strlen(r->hub.policy->id) &&
                      memcmp(rc->policy_id.ptr, r->hub.policy->id, rc->policy_id.len) == 0;
    s_lit(w, "</table>\n<table>\n<tr><th>范围</th><th>期间</th><th>项目</th><th>已认定学时</th>"
             "<th>应修学时</th><th>是否达标</th></tr>\n");
    for (uint32_t i = 0; i < rc->total_count; i++) {
        const xs_receipt_total_t *x = &rc->totals[i];
        if (r->year && x->scope != XS_SCOPE_CYCLE && x->year != r->year)
            continue;
        s_fmt(w, "<tr><td>%s</td><td>", s_scope_zh(x->scope));
        s_period(w, r->hub.policy, x->scope, x->year, x->semester);
        s_lit(w, "</td><td>");
        if (same_policy && x->bucket < r->hub.policy->bucket_count)
            s_ctext(w, xs_policy_bucket_label(r->hub.policy, x->bucket));
        else
            s_fmt(w, "项目 %u", x->bucket);
        s_lit(w, "</td><td class=\"num\">");
        s_hours(w, x->credited_seconds);
        s_lit(w, "</td><td class=\"num\">");
        if (x->required_seconds)
            s_hours(w, x->required_seconds);
        else
            s_lit(w, "—");
        s_fmt(w, "</td><td>%s</td></tr>\n", xs_certify_met_zh(x->met));
    }
    s_lit(w, "</table>\n");
    free(rc);
    return xs_writer_err(w);
}

static xs_err s_teacher(s_req_t *r, const char *id) {
    xs_writer_t *w = r->w;
    hub_ledger_t l;
    xs_staff_t staff;
    char school[XS_ID_MAX + 1] = "";
    s_teacher_t tt = {r, id, 0};
    memset(&l, 0, sizeof l);
    memset(&staff, 0, sizeof staff);
    xs_err err = hub_staff_current(r->txn, &staff);
    if (err == XS_OK)
        err = hub_ledger_teacher(&l, r->txn, id, strlen(id));
    if (err != XS_OK)
        goto out;
    const xs_staff_entry_t *entry = xs_staff_find(&staff, id, strlen(id));
    if (!entry && !l.count) {
        s_error_page(r, 404, "没有这位教师 (no such teacher)",
                     "名册中没有这位教师，县级中心也没有收到这位教师的记录。");
        goto out;
    }
    if (entry) {
        snprintf(school, sizeof school, "%s", entry->school_id);
    } else {
        xs_str_t s = hub_summary_latest_school(&l);
        size_t len = s.len < XS_ID_MAX ? s.len : XS_ID_MAX;
        memcpy(school, s.ptr, len);
        school[len] = '\0';
    }
    char title[XS_ID_MAX + XS_STAFF_NAME_MAX + 16];
    snprintf(title, sizeof title, "教师 %s %s", entry ? entry->name : "", id);
    s_head(r, title, strlen(title));
    s_lit(w, "<p><a href=\"/?year=");
    s_year_label(w, r->year);
    s_lit(w, "\">← 全县</a> · ");
    s_link_school(w, school, strlen(school), r->year);
    s_lit(w, "</p>\n<h1>教师 ");
    if (entry) {
        s_ctext(w, entry->name);
        s_lit(w, "（");
        s_ctext(w, id);
        s_lit(w, "）");
    } else {
        s_ctext(w, id);
        s_lit(w, "（不在名册中）");
    }
    s_lit(w, "</h1>\n");
    s_years(r);
    /* The summary walks the teacher's school and the engine's ledger is reloaded below: the
     * summary's figures are the school page's; the records' rows report --detail's. */
    hub_ledger_free(&l);
    err = hub_summary_each(&r->hub, r->txn, r->year, school, s_teacher_summary, s_progress, &tt);
    if (err != XS_OK)
        goto out;
    if (!tt.found)
        s_lit(w, "<p>这一学年没有这位教师的认定结果。</p>\n");
    if ((err = hub_ledger_teacher(&l, r->txn, id, strlen(id))) != XS_OK ||
        (err = s_teacher_records(r, &l)) != XS_OK || (err = s_teacher_receipt(r, id)) != XS_OK)
        goto out;
    if (tt.found) {
        s_lit(w, "<h2>下载</h2>\n<p>");
        s_link_certificates(w, r->year, id, strlen(id), 0, "学时证明（PDF，可打印，含核验二维码）");
        s_lit(w, "</p>\n");
    }
    s_foot(r);
out:
    hub_ledger_free(&l);
    xs_staff_free(&staff);
    return err;
}

/* ---- downloads ---- */

/* Writes the file of the year in the path: "2025-2026/汇总表.xlsx[?school=S]" (the
 * workbook), "2025-2026/certificates/<teacher>.pdf" or
 * "2025-2026/certificates/school/<school>.pdf" (学时证明, a page per teacher). */
static xs_err s_download(s_req_t *r, const char *rest) {
    const char *slash = strchr(rest, '/');
    char year_text[16], id[XS_ID_MAX + 1];
    int year;
    if (!slash || (size_t)(slash - rest) >= sizeof year_text) {
        s_error_page(r, 404, "没有这个页面 (not found)", "下载地址不对。");
        return XS_OK;
    }
    memcpy(year_text, rest, (size_t)(slash - rest));
    year_text[slash - rest] = '\0';
    if (xs_year_parse(year_text, strlen(year_text), &year) != XS_OK) {
        s_error_page(r, 400, "学年格式不对 (bad year)", "学年应写作 2025-2026。");
        return XS_OK;
    }
    const char *file = slash + 1, *teacher = NULL, *school = NULL;
    int book = strcmp(file, S_BOOK_NAME) == 0;
    if (book) {
        school = s_param(r, "school");
    } else if (strncmp(file, "certificates/", 13) == 0) {
        const char *what = file + 13;
        int of_school = strncmp(what, "school/", 7) == 0;
        if (of_school)
            what += 7;
        size_t len = strlen(what);
        if (len <= 4 || len - 4 > XS_ID_MAX || strcmp(what + len - 4, ".pdf") != 0 ||
            memchr(what, '/', len - 4)) {
            s_error_page(r, 404, "没有这个页面 (not found)", "下载地址不对。");
            return XS_OK;
        }
        memcpy(id, what, len - 4);
        id[len - 4] = '\0';
        if (of_school)
            school = id;
        else
            teacher = id;
    } else {
        s_error_page(r, 404, "没有这个页面 (not found)", "下载地址不对。");
        return XS_OK;
    }
    if (school &&
        (!*school || strlen(school) > XS_ID_MAX || !xs_text_utf8_valid(school, strlen(school)))) {
        s_error_page(r, 400, "学校编号不对 (bad school)", "学校编号应为 1 至 64 字节。");
        return XS_OK;
    }
    if (teacher && !xs_text_utf8_valid(teacher, strlen(teacher))) {
        s_error_page(r, 400, "教师编号不对 (bad teacher)", "教师编号应为 1 至 64 字节。");
        return XS_OK;
    }
    char path[4200];
    pthread_mutex_lock(&r->web->lock);
    uint64_t n = ++r->web->next_file;
    pthread_mutex_unlock(&r->web->lock);
    snprintf(path, sizeof path, "%s/file-%llu.%s", r->web->tmp, (unsigned long long)n,
             book ? "xlsx" : "pdf");
    xs_err err;
    if (book) {
        pthread_mutex_lock(&r->web->book_lock);
        err = hub_summary_workbook(&r->hub, r->txn, year, school, path, s_progress, &r);
        pthread_mutex_unlock(&r->web->book_lock);
    } else {
        err = hub_certificates_write(&r->hub, r->txn, year, teacher, school, path);
    }
    if (err != XS_OK) {
        unlink(path);
        if (err == XS_ENOTFOUND) {
            s_error_page(r, 404, "没有这位教师或学校 (not found)", "该学年没有可打印的学时证明。");
            return XS_OK;
        }
        return err;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unlink(path);
    if (fd < 0)
        return XS_EIO;
    /* RFC 6266: an ASCII name for old browsers, the Chinese one in RFC 5987 form. */
    const char *ext = book ? ".xlsx" : ".pdf";
    const char *zh = book ? "汇总表-" : "学时证明-";
    xs_writer_t name;
    xs_writer_init(&name, sizeof r->page->disposition);
    s_lit(&name, "attachment; filename=\"xueshi-");
    s_lit(&name, year_text);
    s_lit(&name, ext);
    s_lit(&name, "\"; filename*=UTF-8''");
    xs_html_url(&name, zh, strlen(zh));
    s_lit(&name, year_text);
    if (school || teacher) {
        s_lit(&name, "-");
        xs_html_url(&name, school ? school : teacher, strlen(school ? school : teacher));
    }
    s_lit(&name, ext);
    if (xs_writer_err(&name) == XS_OK) {
        memcpy(r->page->disposition, name.data, name.len);
        r->page->disposition[name.len] = '\0';
    }
    xs_writer_free(&name);
    xs_writer_reset(r->w);
    r->page->fd = fd;
    r->page->status = 200;
    r->page->content_type = book ? S_XLSX_TYPE : "application/pdf";
    return XS_OK;
}

/* ---- routing ---- */

/* The id after a route's prefix: 1..XS_ID_MAX bytes, else NULL. */
static const char *s_route_id(const char *path, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return NULL;
    size_t len = strlen(path + n);
    return len >= 1 && len <= XS_ID_MAX ? path + n : NULL;
}

static xs_err s_route(s_req_t *r, const char *path) {
    const char *id;
    if (strcmp(path, "/") == 0)
        return s_county(r);
    if ((id = s_route_id(path, "/school/")) != NULL)
        return s_school(r, id);
    if ((id = s_route_id(path, "/teacher/")) != NULL)
        return s_teacher(r, id);
    if (strncmp(path, "/download/", 10) == 0)
        return s_download(r, path + 10);
    s_error_page(r, 404, "没有这个页面 (not found)", "地址不对，请从全县页面进入。");
    return XS_OK;
}

static void s_page_init(hub_web_page_t *page) {
    memset(page, 0, sizeof *page);
    page->status = 200;
    page->content_type = S_HTML_TYPE;
    page->fd = -1;
    xs_writer_init(&page->body, HUB_WEB_PAGE_MAX);
}

static xs_err s_render(hub_web_t *web, const char *path, hub_web_param_fn param, void *ctx,
                       hub_web_page_t *page, s_job_t *job) {
    s_req_t r;
    memset(&r, 0, sizeof r);
    s_page_init(page);
    r.web = web;
    r.hub = *web->hub;
    r.hub.id = NULL;
    r.param = param;
    r.ctx = ctx;
    r.page = page;
    r.w = &page->body;
    r.job = job;
    r.today = r.year = xs_policy_year_of(r.hub.policy, (int32_t)(time(NULL) / 86400), NULL);
    if (strcmp(path, "/style.css") == 0) {
        page->content_type = "text/css; charset=utf-8";
        xs_writer_raw(r.w, s_css, sizeof s_css - 1);
        return xs_writer_err(r.w);
    }
    xs_err err = xs_store_read(web->hub->store, &r.txn);
    if (err == XS_OK)
        err = s_policy_acquire(web, r.txn, &r.policy);
    if (err == XS_OK) {
        r.hub.policy = r.policy->policy;
        memcpy(r.hub.policy_hash, r.policy->hash, XS_HASH_BYTES);
        r.today = xs_policy_year_of(r.hub.policy, (int32_t)(time(NULL) / 86400), NULL);
        const char *year = s_param(&r, "year");
        if (!year)
            r.year = r.today;
        else if (xs_year_parse(year, strlen(year), &r.year) != XS_OK) {
            r.year = r.today;
            s_error_page(&r, 400, "学年格式不对 (bad year)", "学年应写作 2025-2026。");
            goto out;
        }
        err = s_route(&r, path);
    }
    if (err == XS_OK)
        err = xs_writer_err(r.w);
    if (err != XS_OK) {
        char detail[256];
        snprintf(detail, sizeof detail, "生成页面时出错：%s。请稍后重试，或检查县级中心目录。",
                 xs_strerror(err));
        xs_log_err(err, "web: %s", path);
        if (page->fd >= 0) {
            close(page->fd);
            page->fd = -1;
        }
        page->disposition[0] = '\0';
        s_error_page(&r, err == XS_EBUSY ? 503 : 500, "页面暂时无法生成 (internal error)", detail);
        err = xs_writer_err(r.w);
    }
out:
    xs_store_end(&r.txn);
    s_policy_release(web, r.policy);
    return err;
}

xs_err hub_web_render(hub_web_t *web, const char *path, hub_web_param_fn param, void *ctx,
                      hub_web_page_t *page) {
    return s_render(web, path, param, ctx, page, NULL);
}

void hub_web_page_free(hub_web_page_t *page) {
    xs_writer_free(&page->body);
    if (page->fd >= 0)
        close(page->fd);
    page->fd = -1;
}

/* ---- pages in the background ---- */

static const char *s_job_param(void *ctx, const char *name) {
    s_job_t *job = ctx;
    if (strcmp(name, "year") == 0)
        return job->year;
    if (strcmp(name, "school") == 0)
        return job->school;
    return NULL;
}

static void s_job_free(s_job_t *job) {
    if (!job)
        return;
    hub_web_page_free(&job->page);
    free(job->path);
    free(job->year);
    free(job->school);
    free(job);
}

static void *s_job_run(void *arg) {
    s_job_t *job = arg;
    hub_web_t *web = job->web;
    hub_web_page_t page;
    xs_err err = s_render(web, job->path, s_job_param, job, &page, job);
    if (err != XS_OK) {
        hub_web_page_free(&page);
        s_page_init(&page);
        page.status = 500;
        page.content_type = "text/plain; charset=utf-8";
        s_lit(&page.body, "内部错误 (internal error)\n");
    }
    pthread_mutex_lock(&web->lock);
    job->page = page;
    job->done = 1;
    job->done_at = time(NULL);
    web->running--;
    pthread_cond_broadcast(&web->changed);
    pthread_mutex_unlock(&web->lock);
    return NULL;
}

static char *s_dup(const char *s) {
    return s ? strdup(s) : NULL;
}

/* Builds the key of a request: the same path, year and school are the same page. */
static int s_job_key(const char *path, const char *year, const char *school, char out[S_KEY_MAX]) {
    int n = snprintf(out, S_KEY_MAX, "%s\n%s\n%s", path, year ? year : "-", school ? school : "-");
    return n > 0 && n < S_KEY_MAX;
}

/* The progress page: how far the page is, reloading itself every second. */
static xs_err s_progress_page(double took, int download, uint64_t done, uint64_t total,
                              hub_web_page_t *page) {
    s_page_init(page);
    xs_writer_t *w = &page->body;
    s_lit(w, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta http-equiv=\"refresh\" content=\"1\">\n<title>正在生成 · 县级学时看板</title>\n"
             "<link rel=\"stylesheet\" href=\"/style.css\">\n<link rel=\"icon\" href=\"data:,\">\n"
             "</head>\n<body>\n<div class=\"top\"><a href=\"/\">县级学时看板</a></div>\n"
             "<div class=\"page\">\n<h1>正在生成，请稍候…</h1>\n<p>");
    if (total)
        s_fmt(w, "已认定 %llu / %llu 条记录（%.0f%%），", (unsigned long long)done,
              (unsigned long long)total, 100.0 * (double)done / (double)total);
    s_fmt(w, "已用 %.0f 秒。本页每秒自动刷新，生成后自动显示%s。</p>\n", took,
          download ? "（下载的文件由浏览器保存，之后可返回上一页）" : "");
    s_lit(w, "<p class=\"note\">Working: this page reloads itself every second until the "
             "result is ready.</p>\n</div>\n</body>\n</html>\n");
    return xs_writer_err(w);
}

static void s_busy_page(hub_web_page_t *page) {
    s_page_init(page);
    page->status = 503;
    s_lit(&page->body, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                       "<meta http-equiv=\"refresh\" content=\"3\"><title>503 忙</title>"
                       "<link rel=\"icon\" href=\"data:,\"></head><body><h1>503 正在生成其他页面，"
                       "请稍候 (busy: try again in a moment)</h1></body></html>\n");
}

xs_err hub_web_serve(hub_web_t *web, const char *path, hub_web_param_fn param, void *ctx,
                     hub_web_page_t *page) {
    char key[S_KEY_MAX];
    const char *year = param ? param(ctx, "year") : NULL;
    const char *school = param ? param(ctx, "school") : NULL;
    if (strcmp(path, "/style.css") == 0 || !s_job_key(path, year, school, key))
        return hub_web_render(web, path, param, ctx, page);
    s_job_t *job = NULL;
    time_t now = time(NULL);
    pthread_mutex_lock(&web->lock);
    size_t free_slot = SIZE_MAX, running = 0;
    for (size_t i = 0; i < sizeof web->jobs / sizeof web->jobs[0]; i++) {
        s_job_t *j = web->jobs[i];
        if (j && j->done && !j->waiters && now - j->done_at > S_JOB_KEEP_SECONDS) {
            s_job_free(j);
            web->jobs[i] = j = NULL;
        }
        if (!j) {
            if (free_slot == SIZE_MAX)
                free_slot = i;
            continue;
        }
        running += !j->done;
        if (!job && strcmp(j->key, key) == 0)
            job = j;
    }
    if (!job) {
        if (running >= HUB_WEB_JOBS_MAX || free_slot == SIZE_MAX) {
            pthread_mutex_unlock(&web->lock);
            s_busy_page(page);
            return xs_writer_err(&page->body);
        }
        job = calloc(1, sizeof *job);
        if (job) {
            job->web = web;
            memcpy(job->key, key, sizeof key);
            job->path = s_dup(path);
            job->year = s_dup(year);
            job->school = s_dup(school);
            job->page.fd = -1;
            clock_gettime(CLOCK_MONOTONIC, &job->started);
        }
        pthread_t thread;
        pthread_attr_t attr;
        int started = 0;
        if (job && job->path && (!year || job->year) && (!school || job->school) &&
            pthread_attr_init(&attr) == 0) {
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            started = pthread_create(&thread, &attr, s_job_run, job) == 0;
            pthread_attr_destroy(&attr);
        }
        if (!started) {
            pthread_mutex_unlock(&web->lock);
            s_job_free(job);
            return hub_web_render(web, path, param, ctx, page);
        }
        web->running++;
        web->jobs[free_slot] = job;
    }
    struct timespec until, now_mono;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += web->wait_ms / 1000;
    until.tv_nsec += (long)(web->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    job->waiters++;
    while (!job->done && pthread_cond_timedwait(&web->changed, &web->lock, &until) == 0)
        ;
    job->waiters--;
    int mine = 0, lost = 0;
    if (job->done && !job->taken) {
        job->taken = mine = 1;
        for (size_t i = 0; i < sizeof web->jobs / sizeof web->jobs[0]; i++)
            if (web->jobs[i] == job)
                web->jobs[i] = NULL;
        *page = job->page;
        job->page.fd = -1;
        memset(&job->page.body, 0, sizeof job->page.body);
    } else if (job->taken) {
        lost = 1; /* another request for the same page took it */
    }
    uint64_t done = job->records_done, total = job->records_total;
    clock_gettime(CLOCK_MONOTONIC, &now_mono);
    double took = (double)(now_mono.tv_sec - job->started.tv_sec) +
                  (double)(now_mono.tv_nsec - job->started.tv_nsec) / 1e9;
    int download = strncmp(path, "/download/", 10) == 0;
    s_job_t *drop = job->taken && job->waiters == 0 ? job : NULL;
    pthread_mutex_unlock(&web->lock);
    s_job_free(drop);
    if (mine)
        return XS_OK;
    if (lost)
        return hub_web_render(web, path, param, ctx, page);
    /* Not ready: the job stays in the table and its page goes to the next request for it. */
    return s_progress_page(took, download, done, total, page);
}

void hub_web_set_wait(hub_web_t *web, unsigned ms) {
    pthread_mutex_lock(&web->lock);
    web->wait_ms = ms;
    pthread_mutex_unlock(&web->lock);
}

/* ---- opening and closing ---- */

xs_err hub_web_open(hub_web_t **out, hub_t *hub, const char *tmp_dir) {
    char path[4096], text[XS_PUBKEYS_TEXT_LEN + 16];
    xs_pubkeys_t keys;
    *out = NULL;
    if (snprintf(path, sizeof path, "%s/hub.pub", hub->dir) >= (int)sizeof path)
        return XS_ETOOBIG;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? XS_ENOTFOUND : XS_EIO;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    if (xs_pubkeys_parse(text, n, &keys) != XS_OK)
        return XS_ECORRUPT;
    hub_web_t *web = calloc(1, sizeof *web);
    if (!web)
        return XS_ENOMEM;
    web->hub = hub;
    web->wait_ms = HUB_WEB_WAIT_MS;
    if (!tmp_dir || !*tmp_dir)
        tmp_dir = getenv("TMPDIR");
    if (!tmp_dir || !*tmp_dir)
        tmp_dir = "/tmp";
    if (snprintf(web->tmp, sizeof web->tmp, "%s/xueshi-web-XXXXXX", tmp_dir) >=
            (int)sizeof web->tmp ||
        !mkdtemp(web->tmp)) {
        free(web);
        return XS_EIO;
    }
    pthread_mutex_init(&web->lock, NULL);
    pthread_mutex_init(&web->book_lock, NULL);
    pthread_cond_init(&web->changed, NULL);
    *out = web;
    return XS_OK;
}

void hub_web_close(hub_web_t **webp) {
    if (!webp || !*webp)
        return;
    hub_web_t *web = *webp;
    pthread_mutex_lock(&web->lock);
    while (web->running > 0)
        pthread_cond_wait(&web->changed, &web->lock);
    pthread_mutex_unlock(&web->lock);
    for (size_t i = 0; i < sizeof web->jobs / sizeof web->jobs[0]; i++)
        s_job_free(web->jobs[i]);
    if (web->policy) {
        xs_policy_destroy(&web->policy->policy);
        free(web->policy);
    }
    rmdir(web->tmp);
    pthread_mutex_destroy(&web->lock);
    pthread_mutex_destroy(&web->book_lock);
    pthread_cond_destroy(&web->changed);
    free(web);
    *webp = NULL;
}
