/* web: the village operator's pages (node/web.h).
 *
 * Every string that comes from the store or a request (ids, names, notes, events, refusals,
 * what a form held) leaves through s_text, which HTML-escapes it (xs_html_text), or
 * xs_html_url, which percent-encodes it; s_fmt writes only numbers and this file's own text. Reads
 * are one LMDB snapshot per page; writes go through node/entry.h, node/importer.h and node/usb.h,
 * each in write steps of its own (the store runs one at a time, from any thread). Sessions with the
 * hub and the USB bundles run one at a time, under link_lock. Every POST is checked before it
 * does anything: an Origin naming another host, or a csrf field other than this process's
 * token, gets 403. */
#include "web.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "entry.h"
#include "importer.h"
#include "reviews.h"
#include "staff.h"
#include "sync.h"
#include "tally.h"
#include "usb.h"
#include "xs/html.h"
#include "xs/http.h"
#include "xs/sheet.h"
#include "xs/text.h"
#include "xs/year.h"

#define S_HTML_TYPE "text/html; charset=utf-8"
/* Refused rows an import page lists; the rest are counted. */
#define S_REFUSED_SHOWN 1000
/* Room for a refusal or an outcome line shown on a page. */
#define S_LINE_MAX 1024

/* The stylesheet, served at /style.css: plain CSS an old browser reads, no web fonts; one
 * column on a small screen, wide tables scroll sideways. */
static const char s_css[] =
    "body{margin:0;font-family:\"Microsoft YaHei\",\"WenQuanYi Micro Hei\",\"Noto Sans CJK "
    "SC\",SimSun,sans-serif;font-size:16px;color:#1a202c;background:#f7fafc}\n"
    ".top{background:#22543d;color:#fff;padding:8px 14px}\n"
    ".top strong{font-size:18px;margin-right:12px}\n"
    ".nav{background:#2f855a;padding:0 8px;display:flex;flex-wrap:wrap}\n"
    ".nav a{color:#fff;text-decoration:none;padding:10px 12px;font-size:17px}\n"
    ".nav a.on{background:#f7fafc;color:#22543d;font-weight:bold}\n"
    ".page{padding:8px 14px 30px 14px;max-width:1100px}\n"
    "h1{font-size:21px;margin:12px 0 8px 0}\n"
    "h2{font-size:18px;margin:20px 0 8px 0}\n"
    "a{color:#2b6cb0}\n"
    "form.entry p{margin:8px 0}\n"
    "form.entry label{display:block;font-weight:bold;margin-bottom:3px}\n"
    "input[type=text],input[type=file],select{font-size:16px;padding:6px;width:100%;"
    "max-width:26em;box-sizing:border-box;border:1px solid #a0aec0;border-radius:3px;"
    "background:#fff}\n"
    "button{font-size:16px;padding:7px 18px;background:#2f855a;color:#fff;border:0;"
    "border-radius:3px;cursor:pointer}\n"
    "button.danger{background:#c53030;padding:4px 10px;font-size:14px}\n"
    ".hint{color:#4a5568;font-size:14px}\n"
    ".error{color:#9b2c2c;background:#fff5f5;border:1px solid #feb2b2;padding:8px 10px}\n"
    ".ok{color:#22543d;background:#f0fff4;border:1px solid #9ae6b4;padding:8px 10px}\n"
    ".cats a{display:inline-block;margin:4px 6px 4px 0;padding:8px 12px;background:#fff;"
    "border:1px solid #9ae6b4;border-radius:3px;text-decoration:none}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;background:#fff;margin:4px 0 10px 0}\n"
    "th,td{border:1px solid #cbd5e0;padding:4px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#f0fff4;white-space:nowrap}\n"
    "td.num{text-align:right;white-space:nowrap}\n"
    "td.nw{white-space:nowrap}\n"
    "tr.voided td{color:#a0aec0;text-decoration:line-through}\n"
    "tr.voided td.state{text-decoration:none;color:#9b2c2c}\n"
    "td.missing{color:#9b2c2c}\n"
    "form.inline{display:flex;flex-wrap:wrap;gap:4px}\n"
    "form.inline input[type=text]{width:9em}\n"
    "form.filter{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end}\n"
    "form.filter input[type=text],form.filter select{width:10em}\n"
    ".foot{color:#718096;font-size:13px;margin-top:30px;word-break:break-all}\n";

struct node_web {
    node_t *node;                     /* the open node, borrowed */
    xs_http_t *http;                  /* the server */
    char csrf[2 * XS_HASH_BYTES + 1]; /* the token every form carries: hex of a keyed hash under
                                       a random key made for this process only */
    int sync_timeout_ms;              /* one session's limit */
    pthread_mutex_t link_lock;        /* one sync, export or receipts import at a time */
};

/* One page being answered. */
typedef struct s_page {
    node_web_t *web;
    xs_http_request_t *req;
    xs_writer_t w;   /* the page */
    unsigned status; /* 200 unless said */
    int answered;    /* 1 once the request was answered (or left to the server's 500) */
} s_page_t;

/* ---- writing HTML ---- */

static void s_lit(s_page_t *p, const char *text) {
    xs_writer_raw(&p->w, text, strlen(text));
}

/* Formats this file's own text and numbers: never a stored or sent string (those: s_text). */
__attribute__((format(printf, 2, 3))) static void s_fmt(s_page_t *p, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    xs_writer_raw(&p->w, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Writes len bytes of text HTML-escaped: & < > " ' as entities, control bytes and bytes that
 * are not UTF-8 as U+FFFD. The one door for stored and sent strings into a page. */
static void s_text(s_page_t *p, const char *text, size_t len) {
    xs_html_text(&p->w, text, len);
}

static void s_ctext(s_page_t *p, const char *text) {
    s_text(p, text ? text : "", text ? strlen(text) : 0);
}

static void s_str(s_page_t *p, xs_str_t s) {
    s_text(p, s.ptr ? s.ptr : "", s.len);
}

/* Writes a unix time as local "YYYY-MM-DD HH:MM", or "从未" for 0. */
static void s_time(s_page_t *p, int64_t t) {
    if (!t) {
        s_lit(p, "从未 (never)");
        return;
    }
    char when[XS_TEXT_TIME_MAX];
    xs_text_local_time(t, when);
    s_lit(p, when);
}

/* The navigation: path, label. */
static const char *const s_nav[][2] = {
    {"/record", "登记"}, {"/import", "导入"}, {"/records", "记录"},
    {"/totals", "学时"}, {"/sync", "同步"},   {"/usb", "U盘"},
};

/* The page's head: its title, the top bar and the navigation with here marked. */
static void s_head(s_page_t *p, const char *title, const char *here) {
    s_lit(p, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<title>");
    s_ctext(p, title);
    s_lit(p, " · 学时登记</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n"
             "<link rel=\"icon\" href=\"data:,\">\n</head>\n<body>\n<div class=\"top\">"
             "<strong>学时登记</strong>学校 ");
    s_ctext(p, p->web->node->school);
    s_lit(p, "</div>\n<nav class=\"nav\">");
    for (size_t i = 0; i < sizeof s_nav / sizeof s_nav[0]; i++) {
        s_lit(p, "<a href=\"");
        s_lit(p, s_nav[i][0]);
        s_lit(p, here && strcmp(here, s_nav[i][0]) == 0 ? "\" class=\"on\">" : "\">");
        s_lit(p, s_nav[i][1]);
        s_lit(p, "</a>");
    }
    s_lit(p, "</nav>\n<main class=\"page\">\n");
}

static void s_foot(s_page_t *p) {
    s_lit(p, "<p class=\"foot\">xueshi-node web · 节点目录 ");
    s_ctext(p, p->web->node->dir);
    s_lit(p, "</p>\n</main>\n</body>\n</html>\n");
}

/* The hidden field every form carries. */
static void s_csrf(s_page_t *p) {
    s_lit(p, "<input type=\"hidden\" name=\"csrf\" value=\"");
    s_lit(p, p->web->csrf);
    s_lit(p, "\">");
}

/* The paragraph a refusal is shown in (the browser test finds it by id). */
static void s_error(s_page_t *p, const char *text) {
    s_lit(p, "<p class=\"error\" id=\"error\">");
    s_ctext(p, text);
    s_lit(p, "</p>\n");
}

/* Replaces whatever was written with a page saying what went wrong, with status. */
static void s_error_page(s_page_t *p, unsigned status, const char *title, const char *detail,
                         const char *back) {
    xs_writer_reset(&p->w);
    p->status = status;
    s_head(p, title, NULL);
    s_lit(p, "<h1>");
    s_ctext(p, title);
    s_lit(p, "</h1>\n");
    s_error(p, detail);
    if (back) {
        s_lit(p, "<p><a href=\"");
        s_ctext(p, back);
        s_lit(p, "\">返回 (back)</a></p>\n");
    }
    s_foot(p);
}

/* A store failure's page: what failed, that nothing was lost or written, what to do. */
static void s_store_failed(s_page_t *p, xs_err err, const char *what) {
    char detail[S_LINE_MAX];
    snprintf(detail, sizeof detail, "%s：%s。%s (%s)", what, xs_strerror(err),
             err == XS_ECORRUPT ? "数据已损坏，请运行 xueshi-node check 检查 (the store is "
                                  "corrupted: run xueshi-node check)"
                                : "请稍后再试；仍不行请查看 xueshi-node web 的输出 (try again; "
                                  "else see the output of xueshi-node web)",
             xs_strerror(err));
    s_error_page(p, 500, "出错了 (error)", detail, "/");
}

/* ---- answering ---- */

/* Hands the page to the server. */
static void s_send(s_page_t *p) {
    p->answered = 1;
    xs_err err = xs_writer_err(&p->w);
    if (err != XS_OK) {
        xs_log_err(err, "web: %s", xs_http_path(p->req));
        xs_writer_free(&p->w);
        return; /* the server answers 500 */
    }
    void *body = p->w.data;
    size_t len = p->w.len;
    p->w.data = NULL;
    xs_writer_free(&p->w);
    if (xs_http_respond(p->req, p->status, S_HTML_TYPE, &body, len) != XS_OK)
        xs_log("web: %s: 无法应答 (cannot answer)", xs_http_path(p->req));
}

/* Answers 303 See Other to location (this file's own path and query, URL-safe). */
static void s_redirect(s_page_t *p, const char *location) {
    xs_writer_reset(&p->w);
    s_lit(p, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>"
             "请稍候</title></head><body><p><a href=\"");
    s_ctext(p, location);
    s_lit(p, "\">继续 (continue)</a></p></body></html>\n");
    if (xs_http_header_add(p->req, "Location", location) != XS_OK) {
        p->answered = 1; /* the server answers 500 */
        return;
    }
    p->status = 303;
    s_send(p);
}

/* ---- guards ---- */

/* 1 when a and b (NUL-terminated) are equal, in time that depends on b's length only. */
static int s_same_token(const char *given, const char *token) {
    size_t len = strlen(token), glen = strlen(given);
    unsigned char diff = (unsigned char)(glen != len);
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(token[i] ^ (i < glen ? given[i] : 0));
    return diff == 0;
}

/* 1 unless the request's Origin names a host other than the one it was sent to (Host). A
 * browser sends "Origin: null" for a form posted under the server's no-referrer policy (the
 * Fetch standard), and an old one sends none: the token alone decides those. */
static int s_same_origin(const xs_http_request_t *req) {
    const char *origin = xs_http_header(req, "Origin");
    const char *host = xs_http_header(req, "Host");
    if (!origin || strcmp(origin, "null") == 0)
        return 1;
    const char *sep = strstr(origin, "://");
    if (!sep || !host)
        return 0;
    const char *authority = sep + 3;
    size_t alen = strcspn(authority, "/");
    return alen == strlen(host) && strncasecmp(authority, host, alen) == 0;
}

/* ---- the record form ---- */

/* The form's inputs, by record field name, in the order they are shown. */
static const xs_field s_form_fields[] = {
    XS_F_TEACHER_ID, XS_F_DATE,  XS_F_ROLE,    XS_F_MINUTES,  XS_F_HOURS, XS_F_DAYS,
    XS_F_CHARS,      XS_F_UNIT,  XS_F_LESSONS, XS_F_LEVEL,    XS_F_GRADE, XS_F_WORK,
    XS_F_EVENT,      XS_F_SCORE, XS_F_NOTE,    XS_F_OPERATOR,
};
#define S_NFORM (sizeof s_form_fields / sizeof s_form_fields[0])

/* Which fields a category's form shows (bit 1u << xs_field), and which roles its role select
 * offers (bit 1u << xs_role; 0: no role field). Teacher, date, note and operator always. */
typedef struct s_shape {
    uint32_t fields;
    uint32_t roles;
} s_shape_t;

#define S_BIT(f) (1u << (f))
#define S_ALWAYS                                                                                   \
    (S_BIT(XS_F_TEACHER_ID) | S_BIT(XS_F_DATE) | S_BIT(XS_F_NOTE) | S_BIT(XS_F_OPERATOR))

/* The inputs of category code (credit-rules §2), or of a policy's own category by its rule. */
static s_shape_t s_shape(const xs_policy_t *policy, unsigned code) {
    s_shape_t s = {S_ALWAYS, 0};
    switch (code) {
    case XS_CAT_LECTURE:
        s.fields |= S_BIT(XS_F_ROLE) | S_BIT(XS_F_MINUTES) | S_BIT(XS_F_EVENT);
        s.roles = S_BIT(XS_ROLE_PARTICIPANT) | S_BIT(XS_ROLE_SPEAKER);
        break;
    case XS_CAT_EXTERNAL_TRAINING:
        s.fields |= S_BIT(XS_F_HOURS) | S_BIT(XS_F_DAYS) | S_BIT(XS_F_EVENT);
        break;
    case XS_CAT_ONLINE_TRAINING:
        s.fields |= S_BIT(XS_F_HOURS) | S_BIT(XS_F_EVENT);
        break;
    case XS_CAT_RESEARCH_SESSION:
        s.fields |= S_BIT(XS_F_ROLE) | S_BIT(XS_F_EVENT);
        s.roles = S_BIT(XS_ROLE_PARTICIPANT) | S_BIT(XS_ROLE_ORGANIZER);
        break;
    case XS_CAT_OPEN_CLASS:
        s.fields |= S_BIT(XS_F_LEVEL) | S_BIT(XS_F_EVENT);
        break;
    case XS_CAT_REFLECTION:
        s.fields |= S_BIT(XS_F_CHARS) | S_BIT(XS_F_WORK);
        break;
    case XS_CAT_TEACHING_DESIGN:
        s.fields |= S_BIT(XS_F_UNIT) | S_BIT(XS_F_CHARS) | S_BIT(XS_F_WORK) | S_BIT(XS_F_LESSONS);
        break;
    case XS_CAT_PAPER:
        s.fields |= S_BIT(XS_F_WORK) | S_BIT(XS_F_CHARS) | S_BIT(XS_F_LEVEL) | S_BIT(XS_F_GRADE);
        break;
    case XS_CAT_PROJECT:
        s.fields |= S_BIT(XS_F_WORK) | S_BIT(XS_F_LEVEL) | S_BIT(XS_F_ROLE);
        s.roles = S_BIT(XS_ROLE_PARTICIPANT) | S_BIT(XS_ROLE_HOST) | S_BIT(XS_ROLE_MAIN_WRITER);
        break;
    case XS_CAT_EXAM:
        s.fields |= S_BIT(XS_F_EVENT) | S_BIT(XS_F_SCORE);
        break;
    default:
        s.fields |= S_BIT(XS_F_EVENT);
        for (uint32_t i = 0; policy && i < policy->custom_count; i++) {
            if (policy->custom[i].code != code)
                continue;
            unsigned rule = policy->custom[i].rule;
            s.fields |= rule == XS_RULE_MINUTES ? S_BIT(XS_F_MINUTES)
                        : rule == XS_RULE_HOURS ? S_BIT(XS_F_HOURS)
                        : rule == XS_RULE_DAYS  ? S_BIT(XS_F_DAYS)
                                                : 0;
        }
        break;
    }
    return s;
}

/* What an input says beside its label: the unit or the form a value takes. */
static const char *s_field_hint(xs_field f) {
    switch (f) {
    case XS_F_DATE:
        return "如 2025-10-05 或 2025/10/5";
    case XS_F_MINUTES:
        return "分钟，1–1440";
    case XS_F_HOURS:
        return "证书学时，如 12 或 2.5";
    case XS_F_DAYS:
        return "天，可填半天，如 1.5";
    case XS_F_CHARS:
        return "字";
    case XS_F_LESSONS:
        return "课时，2–100";
    case XS_F_SCORE:
        return "分";
    default:
        return NULL;
    }
}

/* The value a re-filled form shows for field name: what was sent, or dflt. */
static const char *s_sent(const s_page_t *p, const char *name, const char *dflt) {
    const char *v = strcmp(xs_http_method(p->req), "POST") == 0 ? xs_http_form(p->req, name) : NULL;
    return v ? v : dflt;
}

/* One option of a select, selected when it is what was sent. */
static void s_option(s_page_t *p, const char *value, const char *label, const char *sent) {
    s_lit(p, "<option value=\"");
    s_ctext(p, value);
    s_lit(p, sent && strcmp(sent, value) == 0 ? "\" selected>" : "\">");
    s_ctext(p, label);
    s_lit(p, "</option>");
}

/* A word field's select: its values with their Chinese labels. */
static void s_select(s_page_t *p, xs_field f, uint32_t roles, const char *sent) {
    const char *name = xs_field_name(f);
    s_lit(p, "<select id=\"f-");
    s_lit(p, name);
    s_lit(p, "\" name=\"");
    s_lit(p, name);
    s_lit(p, "\">");
    switch (f) {
    case XS_F_ROLE:
        s_option(p, "", "（默认：参与者）", sent);
        for (unsigned r = 1; r < XS_ROLE_COUNT; r++)
            if (roles & S_BIT(r))
                s_option(p, xs_role_name(r), xs_role_zh(r), sent);
        break;
    case XS_F_LEVEL:
        s_option(p, "", "（请选择）", sent);
        for (unsigned l = 1; l < XS_LEVEL_COUNT; l++)
            s_option(p, xs_level_name(l), xs_level_zh(l), sent);
        break;
    case XS_F_GRADE:
        s_option(p, "", "（请选择）", sent);
        for (unsigned g = 1; g < XS_GRADE_COUNT; g++)
            s_option(p, xs_grade_name(g), xs_grade_zh(g), sent);
        break;
    default: /* unit */
        s_option(p, "0", "否", sent);
        s_option(p, "1", "是（单元整体教学设计）", sent);
        break;
    }
    s_lit(p, "</select>");
}

/* The Chinese label of category code under policy, or its English name, or "?". */
static const char *s_category_zh(const xs_policy_t *policy, unsigned code) {
    const char *zh = xs_policy_category_label(policy, code);
    if (!zh)
        zh = xs_policy_category_name(policy, code);
    return zh ? zh : "?";
}

/* The categories as links to their forms. */
static void s_category_links(s_page_t *p, const xs_policy_t *policy) {
    s_lit(p, "<p class=\"cats\">");
    for (unsigned code = 1; code < 256; code++) {
        const char *name = xs_policy_category_name(policy, code);
        if (!name)
            continue;
        s_lit(p, "<a href=\"/record?category=");
        xs_html_url(&p->w, name, strlen(name));
        s_lit(p, "\">");
        s_ctext(p, s_category_zh(policy, code));
        s_lit(p, "</a>");
    }
    s_lit(p, "</p>\n");
}

/* The 登记 page without a category: which kind of activity to record. */
static void s_record_menu(s_page_t *p, const xs_policy_t *policy, const char *error) {
    s_head(p, "登记", "/record");
    s_lit(p, "<h1>登记一项活动</h1>\n");
    if (error)
        s_error(p, error);
    s_lit(p, "<p>请选择活动类别 (choose the kind of activity)：</p>\n");
    s_category_links(p, policy);
    s_lit(p,
          "<p class=\"hint\">一次登记很多条，请用<a href=\"/import\">导入</a>学时登记表。</p>\n");
    s_foot(p);
}

/* The 登记 form of category code, re-filled from the POST being answered, with error shown
 * above it when not NULL. */
static void s_record_form(s_page_t *p, const xs_policy_t *policy, unsigned code,
                          const char *error) {
    s_shape_t shape = s_shape(policy, code);
    const char *name = xs_policy_category_name(policy, code);
    char today[11];
    xs_date_format(xs_date_today(), today);
    s_head(p, "登记", "/record");
    s_lit(p, "<h1>登记：");
    s_ctext(p, s_category_zh(policy, code));
    s_lit(p, "</h1>\n");
    if (error)
        s_error(p, error);
    s_lit(p, "<form method=\"post\" action=\"/record\" class=\"entry\">");
    s_csrf(p);
    s_lit(p, "<input type=\"hidden\" name=\"category\" value=\"");
    s_ctext(p, name);
    s_lit(p, "\">\n");
    for (size_t i = 0; i < S_NFORM; i++) {
        xs_field f = s_form_fields[i];
        if (!(shape.fields & S_BIT(f)))
            continue;
        const char *field = xs_field_name(f), *hint = s_field_hint(f);
        s_lit(p, "<p><label for=\"f-");
        s_lit(p, field);
        s_lit(p, "\">");
        s_ctext(p, xs_field_zh(f));
        if (f == XS_F_TEACHER_ID || f == XS_F_DATE)
            s_lit(p, " *");
        s_lit(p, "</label>");
        const char *sent = s_sent(p, field, f == XS_F_DATE ? today : "");
        if (f == XS_F_ROLE || f == XS_F_LEVEL || f == XS_F_GRADE || f == XS_F_UNIT) {
            s_select(p, f, shape.roles, sent);
        } else {
            s_lit(p, "<input type=\"text\" id=\"f-");
            s_lit(p, field);
            s_lit(p, "\" name=\"");
            s_lit(p, field);
            s_lit(p, "\" value=\"");
            s_ctext(p, sent);
            s_lit(p, "\"");
            if (hint) {
                s_lit(p, " placeholder=\"");
                s_ctext(p, hint);
                s_lit(p, "\"");
            }
            if (f == XS_F_TEACHER_ID || f == XS_F_DATE)
                s_lit(p, " required");
            s_lit(p, ">");
        }
        if (hint && f != XS_F_DATE) {
            s_lit(p, " <span class=\"hint\">");
            s_ctext(p, hint);
            s_lit(p, "</span>");
        }
        s_lit(p, "</p>\n");
    }
    s_lit(p, "<p><button type=\"submit\">登记</button> <a href=\"/record\">换一个类别</a></p>\n"
             "</form>\n");
    s_foot(p);
}

/* Loads the node's policy (*policy NULL when it holds none) and its roster part (zeroed when
 * none): XS_OK, or the error, with its page written. */
static xs_err s_load_rules(s_page_t *p, xs_policy_t **policy, xs_staff_t *staff) {
    *policy = NULL;
    if (staff)
        memset(staff, 0, sizeof *staff);
    xs_err err = node_policy(p->web->node, policy);
    if (err == XS_ENOTFOUND)
        err = XS_OK;
    if (err == XS_OK && staff) {
        err = node_staff_load(p->web->node, staff);
        if (err == XS_ENOTFOUND)
            err = XS_OK;
    }
    if (err != XS_OK) {
        xs_policy_destroy(policy);
        s_store_failed(p, err, "读取认定规则或教师花名册 (reading the policy or the roster)");
    }
    return err;
}

static void s_get_record(s_page_t *p) {
    xs_policy_t *policy = NULL;
    if (s_load_rules(p, &policy, NULL) != XS_OK)
        return;
    const char *cat = xs_http_query(p->req, "category");
    int code = cat && *cat ? node_category_parse(policy, cat, strlen(cat)) : -1;
    if (code > 0) {
        s_record_form(p, policy, (unsigned)code, NULL);
    } else if (cat && *cat) {
        node_refusal_t why;
        node_refusal_set(&why, policy, XS_F_CATEGORY, XS_REASON_UNKNOWN_CATEGORY, cat, strlen(cat));
        s_record_menu(p, policy, why.text);
    } else {
        s_record_menu(p, policy, NULL);
    }
    xs_policy_destroy(&policy);
}

static void s_post_record(s_page_t *p) {
    xs_policy_t *policy = NULL;
    xs_staff_t staff;
    node_entry_field_t fields[S_NFORM + 1];
    node_refusal_t why;
    size_t n = 0;
    uint64_t seq = 0;
    if (s_load_rules(p, &policy, &staff) != XS_OK)
        return;
    const char *cat = xs_http_form(p->req, "category");
    int code = cat && *cat ? node_category_parse(policy, cat, strlen(cat)) : -1;
    if (code <= 0) {
        node_refusal_set(&why, policy, XS_F_CATEGORY,
                         cat && *cat ? XS_REASON_UNKNOWN_CATEGORY : XS_REASON_MISSING_FIELD, cat,
                         cat ? strlen(cat) : 0);
        s_record_menu(p, policy, why.text);
        goto out;
    }
    fields[n++] = (node_entry_field_t){"category", cat};
    for (size_t i = 0; i < S_NFORM; i++) {
        const char *name = xs_field_name(s_form_fields[i]);
        const char *text = xs_http_form(p->req, name);
        if (text && *text)
            fields[n++] = (node_entry_field_t){name, text};
    }
    xs_err err =
        node_entry_add(p->web->node, policy, &staff, fields, n, (int64_t)time(NULL), &seq, &why);
    if (err == XS_OK) {
        char location[64];
        snprintf(location, sizeof location, "/records?added=%llu", (unsigned long long)seq);
        s_redirect(p, location);
        goto out;
    }
    if (why.why != XS_REASON_NONE || err == XS_EINVAL) {
        s_record_form(p, policy, (unsigned)code, why.text[0] ? why.text : "登记被拒绝 (refused)");
        goto out;
    }
    s_store_failed(p, err, "登记失败，未写入 (not recorded)");
out:
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
}

/* ---- the records ---- */

/* What the 记录 page gathers in one walk. */
typedef struct s_list {
    const char *teacher;    /* only this teacher, or NULL */
    int category;           /* only this category code, or -1 */
    int32_t from, to;       /* activity dates shown, inclusive */
    node_voids_t voids;     /* which records are voided, sorted after the walk */
    node_reviews_t reviews; /* each record's latest review */
    uint64_t *seqs;         /* the selected activities, in seq order */
    size_t nseqs, scap;
    uint64_t damaged; /* entries that did not read as records */
} s_list_t;

/* Appends v to a growable array of size-byte items. XS_ENOMEM. */
static xs_err s_push(void **items, size_t *n, size_t *cap, const void *v, size_t size) {
    if (*n == *cap) {
        size_t grown = *cap ? *cap * 2 : 64;
        void *p = realloc(*items, grown * size);
        if (!p)
            return XS_ENOMEM;
        *items = p;
        *cap = grown;
    }
    memcpy((char *)*items + *n * size, v, size);
    (*n)++;
    return XS_OK;
}

static xs_err s_list_step(void *ctx, uint64_t seq, const xs_bytes_t *key, const xs_bytes_t *bytes) {
    s_list_t *l = ctx;
    xs_record_t rec;
    char why[NODE_WHY_MAX];
    if (node_record_read(key, bytes, &seq, &rec, why) != XS_OK) {
        l->damaged++;
        return XS_OK;
    }
    if (rec.kind == XS_KIND_REVIEW)
        return node_reviews_add(&l->reviews, seq, &rec);
    if (rec.kind == XS_KIND_CORRECTION)
        return node_voids_add(&l->voids, seq, &rec);
    if (l->teacher && (rec.teacher_id.len != strlen(l->teacher) ||
                       memcmp(rec.teacher_id.ptr, l->teacher, rec.teacher_id.len) != 0))
        return XS_OK;
    if (l->category >= 0 && rec.category != (unsigned)l->category)
        return XS_OK;
    if (rec.date < l->from || rec.date > l->to)
        return XS_OK;
    return s_push((void **)&l->seqs, &l->nseqs, &l->scap, &seq, sizeof seq);
}

/* What a record says besides its category, in a few Chinese words. */
static void s_detail(s_page_t *p, const xs_record_t *rec) {
    char num[32];
    if (rec->role) {
        s_ctext(p, xs_role_zh(rec->role));
        s_lit(p, " ");
    }
    if ((rec->present >> XS_F_MINUTES) & 1u)
        s_fmt(p, "%u 分钟 ", rec->minutes);
    if ((rec->present >> XS_F_HOURS) & 1u) {
        xs_text_format_fixed(num, sizeof num, rec->hours, 2);
        s_fmt(p, "%s 学时 ", num);
    }
    if ((rec->present >> XS_F_DAYS) & 1u) {
        xs_text_format_fixed(num, sizeof num, (uint64_t)rec->days * 5, 1);
        s_fmt(p, "%s 天 ", num);
    }
    if ((rec->present >> XS_F_CHARS) & 1u)
        s_fmt(p, "%u 字 ", rec->chars);
    if (rec->unit)
        s_lit(p, "单元设计 ");
    if ((rec->present >> XS_F_LESSONS) & 1u)
        s_fmt(p, "%u 课时 ", rec->lessons);
    if (rec->level) {
        s_ctext(p, xs_level_zh(rec->level));
        s_lit(p, " ");
    }
    if (rec->grade) {
        s_ctext(p, xs_grade_zh(rec->grade));
        s_lit(p, " ");
    }
    if ((rec->present >> XS_F_SCORE) & 1u) {
        xs_text_format_fixed(num, sizeof num, rec->score, 2);
        s_fmt(p, "%s 分 ", num);
    }
    if (rec->event.len) {
        s_lit(p, "[");
        s_str(p, rec->event);
        s_lit(p, "] ");
    }
    if (rec->work.len) {
        s_lit(p, "《");
        s_str(p, rec->work);
        s_lit(p, "》 ");
    }
    if (rec->note.len) {
        s_lit(p, "备注：");
        s_str(p, rec->note);
    }
}

/* The filter form above the list, filled with what was asked. */
static void s_filter(s_page_t *p, const xs_policy_t *policy, const char *teacher, const char *cat,
                     const char *year) {
    s_lit(p, "<form method=\"get\" action=\"/records\" class=\"filter\">"
             "<label>教师编号<br><input type=\"text\" name=\"teacher\" value=\"");
    s_ctext(p, teacher ? teacher : "");
    s_lit(p, "\"></label><label>类别<br><select name=\"category\">");
    s_option(p, "", "（全部）", cat ? cat : "");
    for (unsigned code = 1; code < 256; code++) {
        const char *name = xs_policy_category_name(policy, code);
        if (name)
            s_option(p, name, s_category_zh(policy, code), cat);
    }
    s_lit(p, "</select></label><label>学年<br><input type=\"text\" name=\"year\" "
             "placeholder=\"如 2025-2026\" value=\"");
    s_ctext(p, year ? year : "");
    s_lit(p, "\"></label><button type=\"submit\">筛选</button></form>\n");
}

/* One row of the list: the record, its state, and (live) the form that voids it. */
static void s_record_row(s_page_t *p, const xs_policy_t *policy, const xs_staff_t *staff,
                         const s_list_t *l, uint64_t seq, const xs_record_t *rec) {
    char date[11];
    uint64_t by = node_voids_by(&l->voids, seq);
    const node_review_t *review = node_reviews_find(&l->reviews, seq);
    xs_date_format(rec->date, date);
    s_fmt(p, "<tr id=\"r-%llu\"%s><td class=\"num\">%llu</td><td class=\"nw\">%s</td><td>",
          (unsigned long long)seq, by ? " class=\"voided\"" : "", (unsigned long long)seq, date);
    s_str(p, rec->teacher_id);
    s_lit(p, "</td><td class=\"nw\">");
    s_ctext(p, node_staff_name(staff, rec->teacher_id.ptr, rec->teacher_id.len));
    s_lit(p, "</td><td>");
    s_ctext(p, s_category_zh(policy, rec->category));
    s_lit(p, "</td><td>");
    s_detail(p, rec);
    s_lit(p, "</td><td class=\"state\">");
    if (by)
        s_fmt(p, "已作废（更正 %llu）", (unsigned long long)by);
    else
        s_lit(p, "有效");
    s_lit(p, "</td><td>");
    s_ctext(p, node_review_label(review));
    if (review && review->verdict == XS_VERDICT_RETURNED && review->note.len) {
        s_lit(p, "：");
        s_str(p, review->note);
    }
    s_lit(p, "</td><td>");
    if (!by) {
        s_lit(p, "<form method=\"post\" action=\"/void\" class=\"inline\">");
        s_csrf(p);
        s_fmt(p, "<input type=\"hidden\" name=\"seq\" value=\"%llu\">", (unsigned long long)seq);
        s_lit(p, "<input type=\"text\" name=\"reason\" required placeholder=\"作废原因\">"
                 "<button type=\"submit\" class=\"danger\">作废</button></form>");
    }
    s_lit(p, "</td></tr>\n");
}

/* The 记录 page: the filter, a notice or error, and the records asked for, newest first. */
static void s_records(s_page_t *p, const char *notice, const char *error) {
    const char *teacher = xs_http_query(p->req, "teacher");
    const char *cat = xs_http_query(p->req, "category");
    const char *year = xs_http_query(p->req, "year");
    xs_policy_t *policy = NULL;
    xs_staff_t staff;
    xs_txn_t *txn = NULL;
    s_list_t l;
    char line[S_LINE_MAX];
    memset(&l, 0, sizeof l);
    l.category = -1;
    l.from = INT32_MIN;
    l.to = INT32_MAX;
    if (s_load_rules(p, &policy, &staff) != XS_OK)
        return;
    if (teacher && *teacher)
        l.teacher = teacher;
    if (cat && *cat && (l.category = node_category_parse(policy, cat, strlen(cat))) <= 0) {
        snprintf(line, sizeof line, "类别「%.200s」未知 (unknown category)", cat);
        error = line;
        l.category = 0; /* none matches */
    }
    int first;
    if (year && *year) {
        if (xs_year_parse(year, strlen(year), &first) != XS_OK) {
            snprintf(line, sizeof line,
                     "学年「%.100s」应写作 2025-2026 (year must look like "
                     "2025-2026)",
                     year);
            error = line;
            l.to = INT32_MIN; /* none matches */
        } else if (policy) {
            l.from = xs_policy_semester_start(policy, first, 1);
            l.to = xs_policy_semester_start(policy, first + 1, 1) - 1;
        } else {
            l.from = xs_date_from_civil(first, 9, 1);
            l.to = xs_date_from_civil(first + 1, 9, 1) - 1;
        }
    }
    xs_err err = xs_store_read(p->web->node->store, &txn);
    if (err == XS_OK)
        err = node_records_raw(txn, s_list_step, &l);
    if (err != XS_OK) {
        s_store_failed(p, err, "读取记录 (reading records)");
        goto out;
    }
    node_reviews_sort(&l.reviews);
    node_voids_sort(&l.voids);
    s_head(p, "记录", "/records");
    s_lit(p, "<h1>已登记的记录</h1>\n");
    if (notice) {
        s_lit(p, "<p class=\"ok\" id=\"notice\">");
        s_ctext(p, notice);
        s_lit(p, "</p>\n");
    }
    if (error)
        s_error(p, error);
    if (l.damaged)
        s_fmt(p,
              "<p class=\"error\">有 %llu 条记录数据已损坏，未列出：请运行 xueshi-node check "
              "(%llu records are corrupted: run the check)</p>\n",
              (unsigned long long)l.damaged, (unsigned long long)l.damaged);
    s_filter(p, policy, teacher, cat, year);
    uint64_t voided = 0;
    for (size_t i = 0; i < l.nseqs; i++)
        voided += node_voids_by(&l.voids, l.seqs[i]) != 0;
    s_fmt(p, "<p>共 %zu 条，其中已作废 %llu 条。</p>\n", l.nseqs, (unsigned long long)voided);
    if (l.nseqs > NODE_WEB_ROWS_MAX)
        s_fmt(p, "<p class=\"hint\">只列出最新的 %d 条，请按教师、类别或学年筛选。</p>\n",
              NODE_WEB_ROWS_MAX);
    s_lit(p, "<div class=\"scroll\"><table id=\"records\">\n<tr><th>编号</th><th>日期</th>"
             "<th>教师编号</th><th>姓名</th><th>类别</th><th>内容</th><th>状态</th>"
             "<th>审核</th><th>作废</th></tr>\n");
    size_t shown = 0;
    for (size_t i = l.nseqs; i-- > 0 && shown < NODE_WEB_ROWS_MAX; shown++) {
        xs_bytes_t bytes;
        xs_record_t rec;
        if (node_record_get(txn, l.seqs[i], &bytes) != XS_OK ||
            xs_record_decode_bytes(bytes.ptr, bytes.len, &rec) != XS_OK)
            continue; /* read in the walk of this same snapshot: cannot fail */
        s_record_row(p, policy, &staff, &l, l.seqs[i], &rec);
    }
    s_lit(p, "</table></div>\n");
    s_foot(p);
out:
    xs_store_end(&txn);
    node_voids_free(&l.voids);
    free(l.seqs);
    node_reviews_free(&l.reviews);
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
}

static void s_get_records(s_page_t *p) {
    char notice[128];
    const char *added = xs_http_query(p->req, "added");
    const char *voided = xs_http_query(p->req, "voided");
    uint64_t seq;
    if (added && xs_text_parse_fixed(added, strlen(added), 0, UINT64_MAX, &seq) == XS_OK) {
        snprintf(notice, sizeof notice, "已登记，编号 %llu (recorded)", (unsigned long long)seq);
        s_records(p, notice, NULL);
    } else if (voided &&
               xs_text_parse_fixed(voided, strlen(voided), 0, UINT64_MAX, &seq) == XS_OK) {
        snprintf(notice, sizeof notice, "已作废记录 %llu (voided)", (unsigned long long)seq);
        s_records(p, notice, NULL);
    } else {
        s_records(p, NULL, NULL);
    }
}

static void s_post_void(s_page_t *p) {
    const char *seq_text = xs_http_form(p->req, "seq");
    const char *reason = xs_http_form(p->req, "reason");
    const char *operator_ = xs_http_form(p->req, "operator");
    node_refusal_t why;
    uint64_t target = 0, by = 0;
    if (!seq_text ||
        xs_text_parse_fixed(seq_text, strlen(seq_text), 0, UINT64_MAX, &target) != XS_OK ||
        target == 0) {
        s_records(p, NULL, "记录编号无效 (invalid record id)");
        return;
    }
    xs_err err =
        node_void_add(p->web->node, target, reason ? reason : "",
                      operator_ && *operator_ ? operator_ : NULL, (int64_t)time(NULL), &by, &why);
    if (err == XS_OK) {
        char location[64];
        snprintf(location, sizeof location, "/records?voided=%llu", (unsigned long long)target);
        s_redirect(p, location);
    } else if (why.why != XS_REASON_NONE || why.text[0]) {
        char line[NODE_REFUSAL_MAX + 64];
        snprintf(line, sizeof line, "不能作废 %llu (cannot void)：%s", (unsigned long long)target,
                 why.text);
        s_records(p, NULL, line);
    } else {
        s_store_failed(p, err, "作废失败，未写入 (nothing written)");
    }
}

/* ---- import ---- */

static void s_import_form(s_page_t *p) {
    s_lit(p, "<form method=\"post\" action=\"/import\" enctype=\"multipart/form-data\" "
             "class=\"entry\">");
    s_csrf(p);
    s_lit(p, "<p><label for=\"f-sheet\">学时登记表 (CSV UTF-8 或 XLSX)</label>"
             "<input type=\"file\" id=\"f-sheet\" name=\"sheet\" required "
             "accept=\".csv,.xlsx,text/csv\"></p>\n"
             "<p><label for=\"f-operator\">登记人</label><input type=\"text\" id=\"f-operator\" "
             "name=\"operator\" value=\"");
    s_ctext(p, s_sent(p, "operator", ""));
    s_lit(p, "\"></p>\n<p><button type=\"submit\">导入</button></p>\n</form>\n"
             "<p class=\"hint\">同一张表再导入一次不会重复登记：已登记的行会跳过。</p>\n");
}

static void s_get_import(s_page_t *p) {
    s_head(p, "导入", "/import");
    s_lit(p, "<h1>导入学时登记表</h1>\n");
    s_import_form(p);
    s_foot(p);
}

/* What an import page collects of refused rows. */
typedef struct s_refusals {
    s_page_t *p;
    uint64_t count; /* rows refused */
} s_refusals_t;

static void s_import_refused(void *ctx, uint32_t line, const char *field_zh, const char *text) {
    s_refusals_t *r = ctx;
    if (r->count++ >= S_REFUSED_SHOWN)
        return;
    s_fmt(r->p, "<tr><td class=\"line\">%u</td><td>", line);
    s_ctext(r->p, field_zh);
    s_lit(r->p, "</td><td>");
    s_ctext(r->p, text);
    s_lit(r->p, "</td></tr>\n");
}

static void s_post_import(s_page_t *p) {
    const uint8_t *bytes = NULL;
    const char *filename = NULL;
    const char *operator_ = xs_http_form(p->req, "operator");
    size_t len = 0;
    xs_policy_t *policy = NULL;
    xs_staff_t staff;
    xs_csv_t *csv = NULL;
    char why[S_LINE_MAX] = "";
    node_import_result_t res;
    if (xs_http_upload(p->req, "sheet", &bytes, &len, &filename) != XS_OK || len == 0) {
        s_head(p, "导入", "/import");
        s_lit(p, "<h1>导入学时登记表</h1>\n");
        s_error(p, "请选择要导入的登记表文件 (choose the sheet to import)");
        s_import_form(p);
        s_foot(p);
        return;
    }
    if (s_load_rules(p, &policy, &staff) != XS_OK)
        return;
    xs_err err = xs_sheet_open_mem(&csv, bytes, len, why, sizeof why);
    if (err != XS_OK) {
        s_head(p, "导入", "/import");
        s_lit(p, "<h1>导入学时登记表</h1>\n");
        s_error(p, why[0] ? why : "无法读取这个文件 (cannot read the file)");
        s_import_form(p);
        s_foot(p);
        goto out;
    }
    s_head(p, "导入结果", "/import");
    s_lit(p, "<h1>导入结果：");
    s_ctext(p, filename);
    s_lit(p, "</h1>\n");
    /* The refused rows are written as they come; the summary goes above them after. */
    xs_writer_t rows;
    xs_writer_init(&rows, NODE_WEB_PAGE_MAX);
    xs_writer_t head = p->w;
    p->w = rows;
    s_refusals_t refusals = {p, 0};
    node_import_sink_t sink = {s_import_refused, NULL, NULL, &refusals};
    err = node_import_run(p->web->node, policy, &staff, csv,
                          operator_ && *operator_ ? operator_ : NULL, (int64_t)time(NULL), &sink,
                          &res);
    rows = p->w;
    p->w = head;
    s_fmt(p,
          "<p id=\"summary\" class=\"%s\">新登记 %llu 条，已登记跳过 %llu 条，拒绝 %llu 条"
          "（共读 %llu 行）。</p>\n",
          res.refused || err != XS_OK ? "error" : "ok", (unsigned long long)res.recorded,
          (unsigned long long)res.known, (unsigned long long)res.refused,
          (unsigned long long)res.rows);
    if (err != XS_OK && res.store_failed)
        s_fmt(p,
              "<p class=\"error\">写入失败 (%s)：此前的 %llu 条已保存；请稍后再导入同一张表，"
              "已登记的行会跳过。</p>\n",
              xs_strerror(err), (unsigned long long)res.recorded);
    else if (err != XS_OK)
        s_error(p, res.why[0] ? res.why : xs_strerror(err));
    if (res.unknown_teacher) {
        char hint[S_LINE_MAX];
        node_import_teacher_hint(&res, staff.version, hint, sizeof hint);
        if (hint[0]) {
            s_lit(p, "<p class=\"hint\">");
            s_ctext(p, hint);
            s_lit(p, "</p>\n");
        }
    }
    if (res.refused) {
        if (res.refused > S_REFUSED_SHOWN)
            s_fmt(p, "<p class=\"hint\">只列出前 %d 条被拒绝的行。</p>\n", S_REFUSED_SHOWN);
        s_lit(p, "<p>被拒绝的行改正后，可把整张表再导入一次。</p>\n");
    }
    s_lit(p, "<div class=\"scroll\"><table id=\"refused\">\n<tr><th>行号</th><th>栏目</th>"
             "<th>原因</th></tr>\n");
    if (xs_writer_err(&rows) == XS_OK && rows.len)
        xs_writer_raw(&p->w, rows.data, rows.len);
    else if (xs_writer_err(&rows) != XS_OK)
        s_lit(p, "<tr><td class=\"line\">—</td><td>—</td><td>被拒绝的行太多，未能全部列出"
                 "</td></tr>\n");
    xs_writer_free(&rows);
    s_lit(p, "</table></div>\n<p><a href=\"/records\">查看记录</a> · <a href=\"/import\">"
             "再导入一张</a></p>\n");
    s_foot(p);
out:
    xs_csv_close(&csv);
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
}

/* ---- totals ---- */

/* Writes a teacher's year rows, provisional (confirmed 0) or confirmed (1): the hours alone
 * when there is one bucket, else "bucket hours" for each; "—" when none has a figure. */
static void s_hours_cell(s_page_t *p, const node_tally_teacher_t *t, int confirmed) {
    char hours[32];
    size_t rows = 0, shown = 0;
    for (size_t i = 0; i < t->count; i++)
        rows += t->rows[i].provisional.scope == XS_SCOPE_YEAR;
    for (size_t i = 0; i < t->count; i++) {
        const node_tally_row_t *r = &t->rows[i];
        if (r->provisional.scope != XS_SCOPE_YEAR || (confirmed && !r->has_confirmed))
            continue;
        const xs_certify_total_t *x = confirmed ? &r->confirmed : &r->provisional;
        xs_certify_format_hours(hours, sizeof hours, x->credited_seconds);
        if (shown++)
            s_lit(p, "；");
        if (rows > 1) {
            s_ctext(p, r->bucket);
            s_lit(p, " ");
        }
        s_ctext(p, hours);
        if (confirmed && r->closed)
            s_lit(p, "（已定案）");
    }
    if (!shown)
        s_lit(p, "—");
}

static xs_err s_totals_teacher(void *ctx, const node_tally_teacher_t *t) {
    s_page_t *p = ctx;
    char missing[NODE_TALLY_MISSING_MAX];
    node_tally_missing_text(t, missing, sizeof missing);
    s_lit(p, "<tr id=\"t-");
    s_str(p, t->teacher_id);
    s_lit(p, "\"><td>");
    s_str(p, t->teacher_id);
    s_lit(p, "</td><td>");
    s_ctext(p, t->name);
    s_lit(p, "</td><td class=\"provisional\">");
    s_hours_cell(p, t, 0);
    s_lit(p, "</td><td class=\"confirmed\">");
    s_hours_cell(p, t, 1);
    s_lit(p, "</td><td class=\"missing\">");
    s_ctext(p, missing);
    s_lit(p, "</td></tr>\n");
    return xs_writer_err(&p->w);
}

static void s_get_totals(s_page_t *p) {
    const char *year = xs_http_query(p->req, "year");
    xs_policy_t *policy = NULL;
    xs_staff_t staff;
    node_tally_summary_t sum;
    int first = 0;
    if (s_load_rules(p, &policy, &staff) != XS_OK)
        return;
    s_head(p, "学时", "/totals");
    s_lit(p, "<h1>教师学时</h1>\n");
    if (!policy) {
        s_error(p, "本节点还没有认定规则：同步一次，或用 xueshi-node policy 设置 (no policy yet: "
                   "sync once, or set one with xueshi-node policy)");
        s_foot(p);
        goto out;
    }
    if (year && *year && xs_year_parse(year, strlen(year), &first) != XS_OK) {
        s_error(p, "学年应写作 2025-2026 (year must look like 2025-2026)");
        first = 0;
    }
    s_lit(p, "<form method=\"get\" action=\"/totals\" class=\"filter\"><label>学年<br>"
             "<input type=\"text\" name=\"year\" placeholder=\"如 2025-2026\" value=\"");
    s_ctext(p, year ? year : "");
    s_lit(p, "\"></label><button type=\"submit\">查看</button></form>\n"
             "<p class=\"hint\">暂定学时按本校登记的记录计算；已认定学时以县里签发的回执为准。"
             "</p>\n<div class=\"scroll\"><table id=\"totals\">\n<tr><th>教师编号</th><th>姓名"
             "</th><th>暂定学时</th><th>已认定学时</th><th>还差</th></tr>\n");
    node_tally_opts_t opts = {NULL, first, (int64_t)time(NULL)};
    xs_err err = node_tally_run(p->web->node, policy, &staff, &opts, s_totals_teacher, p, &sum);
    if (err != XS_OK) {
        s_store_failed(p, err, "计算学时 (computing totals)");
        goto out;
    }
    s_lit(p, "</table></div>\n");
    if (sum.corrupted)
        s_lit(p, "<p class=\"error\">有记录数据已损坏，未计入：请运行 xueshi-node check。</p>\n");
    if (sum.bad_receipts)
        s_fmt(p, "<p class=\"error\">有 %llu 份回执未通过校验，未显示已认定学时。</p>\n",
              (unsigned long long)sum.bad_receipts);
    if (!sum.teachers)
        s_lit(p, "<p>还没有教师的记录。</p>\n");
    s_foot(p);
out:
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
}

/* ---- sync ---- */

/* The node's standing with the hub, as a table. */
static void s_sync_status(s_page_t *p) {
    node_sync_status_t st;
    xs_err err = node_sync_status(p->web->node, &st);
    if (err != XS_OK) {
        s_fmt(p, "<p class=\"error\">无法读取同步状态 (%s)</p>\n", xs_strerror(err));
        return;
    }
    s_lit(p, "<table id=\"status\">\n<tr><th>县级中心</th><td>");
    if (st.has_hub) {
        s_ctext(p, st.endpoint);
        if (st.through_relay)
            s_lit(p, "（经中心校中转）");
    } else {
        s_lit(p, "未设置");
    }
    s_lit(p, "</td></tr>\n<tr><th>上次同步</th><td id=\"last-sync\">");
    s_time(p, (int64_t)st.last_sync);
    s_fmt(p,
          "</td></tr>\n<tr><th>记录总数</th><td class=\"num\">%llu</td></tr>\n"
          "<tr><th>等待上传</th><td class=\"num\" id=\"waiting\">%llu</td></tr>\n",
          (unsigned long long)st.records, (unsigned long long)st.waiting);
    if (st.through_relay)
        s_fmt(p,
              "<tr><th>中心校暂存、县里未确认</th><td class=\"num\" id=\"held\">%llu</td></tr>\n",
              (unsigned long long)st.held_at_relay);
    s_fmt(p,
          "<tr><th>县里已确认至编号</th><td class=\"num\" id=\"confirmed\">%llu</td></tr>\n"
          "</table>\n",
          (unsigned long long)st.confirmed_through);
}

static void s_sync_page(s_page_t *p, const char *outcome, int ok, const char *advice) {
    s_head(p, "同步", "/sync");
    s_lit(p, "<h1>与县级中心同步</h1>\n");
    if (outcome) {
        s_lit(p, ok ? "<p class=\"ok\" id=\"outcome\">" : "<p class=\"error\" id=\"outcome\">");
        s_ctext(p, outcome);
        s_lit(p, "</p>\n");
    }
    if (advice) {
        s_lit(p, "<p class=\"hint\">");
        s_ctext(p, advice);
        s_lit(p, "</p>\n");
    }
    s_sync_status(p);
    s_lit(p, "<form method=\"post\" action=\"/sync\">");
    s_csrf(p);
    s_lit(p, "<p><button type=\"submit\">同步</button></p></form>\n"
             "<p class=\"hint\">同步把新登记的记录送到县里，并取回县里的认定回执。</p>\n");
    s_foot(p);
}

static void s_post_sync(s_page_t *p) {
    node_web_t *web = p->web;
    node_sync_result_t res;
    char line[S_LINE_MAX];
    if (pthread_mutex_trylock(&web->link_lock) != 0) {
        s_sync_page(p, "另一项同步或U盘操作正在进行，请稍候再试 (another sync is running)", 0,
                    NULL);
        return;
    }
    memset(&res, 0, sizeof res);
    xs_err err = node_sync(web->node, web->sync_timeout_ms, &res);
    pthread_mutex_unlock(&web->link_lock);
    int n = snprintf(line, sizeof line,
                     "同步%s：发送 %llu 批 %llu 条，对方已收到至编号 %llu / 本地 %llu，县里已确认"
                     "至编号 %llu，回执 %llu 份",
                     err == XS_OK ? "完成" : "未完成", (unsigned long long)res.sent_batches,
                     (unsigned long long)res.sent_records, (unsigned long long)res.have_through,
                     (unsigned long long)res.head_seq, (unsigned long long)res.confirmed_through,
                     (unsigned long long)res.receipts);
    if (n > 0 && (size_t)n < sizeof line && res.relay_held)
        n += snprintf(line + n, sizeof line - (size_t)n, "；其中 %llu 批由中心校暂存",
                      (unsigned long long)res.relay_held);
    if (n > 0 && (size_t)n < sizeof line && res.staff_version)
        n += snprintf(line + n, sizeof line - (size_t)n, "；教师花名册已更新（第 %u 版）",
                      res.staff_version);
    if (n > 0 && (size_t)n < sizeof line && res.policy_updated)
        n += snprintf(line + n, sizeof line - (size_t)n, "；认定规则已更新");
    if (n > 0 && (size_t)n < sizeof line && res.rejected)
        snprintf(line + n, sizeof line - (size_t)n, "；有被拒收的记录");
    s_sync_page(p, line, err == XS_OK, node_sync_outcome(err).advice);
}

/* ---- USB ---- */

static void s_usb_page(s_page_t *p, const char *outcome, int ok) {
    s_head(p, "U盘", "/usb");
    s_lit(p, "<h1>用U盘与县里交换数据</h1>\n");
    if (outcome) {
        s_lit(p, ok ? "<p class=\"ok\" id=\"outcome\">" : "<p class=\"error\" id=\"outcome\">");
        s_ctext(p, outcome);
        s_lit(p, "</p>\n");
    }
    s_lit(p, "<h2>1. 导出数据包，带到县里</h2>\n<form method=\"post\" action=\"/usb/export\">");
    s_csrf(p);
    s_lit(p, "<p><button type=\"submit\">导出数据包</button></p></form>\n"
             "<p class=\"hint\">数据包含县里还没有确认的记录，已加密，只有县级中心能读。"
             "请存到U盘，交县里用 xueshi-hub import 导入。</p>\n"
             "<h2>2. 导入县里给的回执包</h2>\n"
             "<form method=\"post\" action=\"/usb/receipts\" enctype=\"multipart/form-data\" "
             "class=\"entry\">");
    s_csrf(p);
    s_lit(p, "<p><label for=\"f-bundle\">回执包 (.xsb)</label><input type=\"file\" id=\"f-bundle\" "
             "name=\"bundle\" required></p>\n<p><button type=\"submit\">导入回执包</button></p>"
             "</form>\n");
    s_foot(p);
}

static void s_post_export(s_page_t *p) {
    node_web_t *web = p->web;
    uint64_t count = 0;
    FILE *f = tmpfile();
    if (!f) {
        s_usb_page(p, "无法建立临时文件 (cannot make a temporary file)", 0);
        return;
    }
    if (pthread_mutex_trylock(&web->link_lock) != 0) {
        fclose(f);
        s_usb_page(p, "另一项同步或U盘操作正在进行，请稍候再试 (another sync is running)", 0);
        return;
    }
    xs_err err = node_export_bundle(web->node, f, &count);
    pthread_mutex_unlock(&web->link_lock);
    if (err != XS_OK) {
        char line[S_LINE_MAX];
        snprintf(line, sizeof line, "导出失败 (export failed)：%s%s", xs_strerror(err),
                 err == XS_ENOTFOUND ? "。本节点未设置县级中心，无法加密 (no hub configured: "
                                       "init --hub --hub-key)"
                                     : "");
        fclose(f);
        s_usb_page(p, line, 0);
        return;
    }
    char disposition[512], day[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    xs_writer_t name;
    xs_writer_init(&name, 256);
    xs_html_url(&name, p->web->node->school, strlen(p->web->node->school));
    snprintf(disposition, sizeof disposition,
             "attachment; filename=\"xueshi-%s.xsb\"; filename*=UTF-8''%.*s-%s.xsb", day,
             (int)name.len, name.data ? (const char *)name.data : "", day);
    xs_writer_free(&name);
    int fd = dup(fileno(f));
    fclose(f);
    p->answered = 1;
    if (fd < 0 || xs_http_header_add(p->req, "Content-Disposition", disposition) != XS_OK ||
        xs_http_respond_file(p->req, 200, "application/octet-stream", &fd) != XS_OK) {
        if (fd >= 0)
            close(fd);
        return; /* the server answers 500 */
    }
    xs_log("web: 已导出 %llu 批未经县里确认的数据 (exported %llu unconfirmed batches)",
           (unsigned long long)count, (unsigned long long)count);
}

static void s_post_receipts(s_page_t *p) {
    node_web_t *web = p->web;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    node_receipts_taken_t taken;
    const char *why = NULL;
    char line[S_LINE_MAX];
    memset(&taken, 0, sizeof taken);
    if (xs_http_upload(p->req, "bundle", &bytes, &len, NULL) != XS_OK || len == 0) {
        s_usb_page(p, "请选择县里给的回执包文件 (choose the receipts bundle)", 0);
        return;
    }
    if (pthread_mutex_trylock(&web->link_lock) != 0) {
        s_usb_page(p, "另一项同步或U盘操作正在进行，请稍候再试 (another sync is running)", 0);
        return;
    }
    xs_err err = node_import_receipts(web->node, bytes, len, &taken, &why);
    pthread_mutex_unlock(&web->link_lock);
    if (why)
        snprintf(line, sizeof line, "回执包被拒绝，未导入任何内容 (refused, nothing imported)：%s",
                 why);
    else if (err != XS_OK)
        snprintf(line, sizeof line, "导入回执失败 (importing receipts failed)：%s",
                 xs_strerror(err));
    else
        snprintf(line, sizeof line, "已导入认定回执：本校 %llu 份，卫星校 %llu 份%s%s%s%s%s%s",
                 (unsigned long long)taken.own, (unsigned long long)taken.satellites,
                 taken.policy ? "，认定规则已更新" : "", taken.staff ? "，教师花名册已更新" : "",
                 taken.confirmations ? "，县里已确认收到的批次今后不再导出" : "",
                 taken.older ? "，比已有回执旧的已跳过" : "",
                 taken.not_ours ? "，不属于本节点的已跳过" : "",
                 taken.refused ? "，签名无效的已丢弃" : "");
    s_usb_page(p, line, err == XS_OK && !taken.refused);
}

/* ---- routing ---- */

static void s_css_file(s_page_t *p) {
    void *body = malloc(sizeof s_css - 1);
    p->answered = 1;
    if (!body)
        return;
    memcpy(body, s_css, sizeof s_css - 1);
    if (xs_http_respond(p->req, 200, "text/css; charset=utf-8", &body, sizeof s_css - 1) != XS_OK)
        xs_log("web: /style.css: 无法应答 (cannot answer)");
}

/* /healthz, for a service manager or a monitor: 200 "ok" when the store opens a snapshot and
 * reads the node's school, else 503. Asked for the password like every page off loopback. */
static void s_healthz(s_page_t *p) {
    xs_txn_t *txn = NULL;
    xs_bytes_t school;
    xs_err err = xs_store_read(p->web->node->store, &txn);
    if (err == XS_OK)
        err = node_meta_get(txn, NODE_META_SCHOOL, &school);
    xs_store_end(&txn);
    const char *text = err == XS_OK ? "ok\n" : "store unreadable\n";
    size_t len = strlen(text);
    void *body = malloc(len);
    p->answered = 1;
    if (!body)
        return;
    memcpy(body, text, len);
    if (xs_http_respond(p->req, err == XS_OK ? 200 : 503, "text/plain; charset=utf-8", &body,
                        len) != XS_OK)
        xs_log("web: /healthz: 无法应答 (cannot answer)");
}

/* Answers a POST: 403 unless it comes from this server's own form, else its action. */
static void s_post(s_page_t *p, const char *path) {
    const char *token = xs_http_form(p->req, "csrf");
    if (!s_same_origin(p->req) || !token || !s_same_token(token, p->web->csrf)) {
        s_error_page(p, 403, "表单已失效 (form expired)",
                     "这个表单已失效或来自别的网页，未做任何改动。请重新打开此页（刷新），再提交"
                     "一次。(the form is stale or came from another site; nothing was changed: "
                     "reload the page and submit again)",
                     strncmp(path, "/usb", 4) == 0 ? "/usb"
                     : strcmp(path, "/void") == 0  ? "/records"
                                                   : path);
        return;
    }
    if (strcmp(path, "/record") == 0)
        s_post_record(p);
    else if (strcmp(path, "/void") == 0)
        s_post_void(p);
    else if (strcmp(path, "/import") == 0)
        s_post_import(p);
    else if (strcmp(path, "/sync") == 0)
        s_post_sync(p);
    else if (strcmp(path, "/usb/export") == 0)
        s_post_export(p);
    else if (strcmp(path, "/usb/receipts") == 0)
        s_post_receipts(p);
    else
        s_error_page(p, 404, "没有这个页面 (not found)", "地址有误 (no such page)", "/record");
}

/* The server's handler: one request, on its connection's thread. */
static void s_handle(void *ctx, xs_http_request_t *req) {
    s_page_t page = {ctx, req, {0}, 200, 0};
    s_page_t *p = &page;
    const char *path = xs_http_path(req);
    xs_writer_init(&p->w, NODE_WEB_PAGE_MAX);
    if (strcmp(xs_http_method(req), "POST") == 0)
        s_post(p, path);
    else if (strcmp(path, "/") == 0)
        s_redirect(p, "/record");
    else if (strcmp(path, "/style.css") == 0)
        s_css_file(p);
    else if (strcmp(path, "/healthz") == 0)
        s_healthz(p);
    else if (strcmp(path, "/record") == 0)
        s_get_record(p);
    else if (strcmp(path, "/import") == 0)
        s_get_import(p);
    else if (strcmp(path, "/records") == 0)
        s_get_records(p);
    else if (strcmp(path, "/totals") == 0)
        s_get_totals(p);
    else if (strcmp(path, "/sync") == 0)
        s_sync_page(p, NULL, 0, NULL);
    else if (strcmp(path, "/usb") == 0)
        s_usb_page(p, NULL, 0);
    else
        s_error_page(p, 404, "没有这个页面 (not found)", "地址有误 (no such page)", "/record");
    if (!p->answered)
        s_send(p);
    xs_writer_free(&p->w);
}

/* ---- the server ---- */

xs_err node_web_start(node_web_t **out, node_t *node, const node_web_config_t *config) {
    uint8_t key[32], tag[XS_HASH_BYTES];
    static const char purpose[] = "xueshi-node web csrf";
    *out = NULL;
    node_web_t *web = calloc(1, sizeof *web);
    if (!web)
        return XS_ENOMEM;
    web->node = node;
    web->sync_timeout_ms =
        config->sync_timeout_ms > 0 ? config->sync_timeout_ms : NODE_WEB_SYNC_SECONDS * 1000;
    pthread_mutex_init(&web->link_lock, NULL);
    xs_identity_random(key, sizeof key);
    xs_identity_keyed_hash(key, purpose, sizeof purpose - 1, tag);
    xs_hex_encode(tag, sizeof tag, web->csrf);
    explicit_bzero(key, sizeof key);
    xs_http_config_t http = {
        .listen = config->listen ? config->listen : NODE_WEB_LISTEN_DEFAULT,
        .tls_cert = config->tls_cert,
        .tls_key = config->tls_key,
        .password_hash = config->password_hash,
        .post = 1,
        .body_max = NODE_WEB_BODY_MAX,
        .handler = s_handle,
        .ctx = web,
    };
    xs_err err = xs_http_start(&web->http, &http);
    if (err != XS_OK) {
        pthread_mutex_destroy(&web->link_lock);
        free(web);
        return err;
    }
    *out = web;
    return XS_OK;
}

uint16_t node_web_port(const node_web_t *web) {
    return xs_http_port(web->http);
}

void node_web_stop(node_web_t **web) {
    if (!web || !*web)
        return;
    xs_http_stop(&(*web)->http);
    pthread_mutex_destroy(&(*web)->link_lock);
    explicit_bzero((*web)->csrf, sizeof(*web)->csrf);
    free(*web);
    *web = NULL;
}
