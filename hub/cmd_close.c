/* xueshi-hub close, objection, finalize, supplement: the county's year end (schema/year.md):
 * freeze the year into a signed document and its 公示 list, record objections, end the notice
 * window with their decisions, and certify what came later as signed amendments (补认定). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hub.h"
#include "year.h"
#include "xs/csv.h"
#include "xs/report.h"
#include "xs/standing.h"
#include "xs/text.h"

#define S_CLOSE_USAGE "xueshi-hub close --dir DIR --year 2025-2026 [--notice-days 5]"
#define S_OBJECTION_USAGE                                                                          \
    "xueshi-hub objection --dir DIR --year 2025-2026 --teacher T --note TEXT\n"                    \
    "       xueshi-hub objection --dir DIR --year 2025-2026 --list"
#define S_FINALIZE_USAGE                                                                           \
    "xueshi-hub finalize --dir DIR --year 2025-2026 [--decision N:TEXT]... [--notice-over]"
#define S_SUPPLEMENT_USAGE "xueshi-hub supplement --dir DIR --year 2025-2026 [--list]"

/* Most days a notice window may last. */
#define S_NOTICE_DAYS_MAX 365
/* Most --decision options one finalize takes. */
#define S_DECISIONS_MAX 1024
/* Seconds a close runs before it shows progress, and between two lines. */
#define S_PROGRESS_AFTER 1.0

/* ---- shared ---- */

/* Reads --year into *year and its label; 0, or 2 after saying why. */
static int s_year_opt(const char *text, int *year, char label[XS_POLICY_YEAR_LABEL]) {
    if (!text || xs_year_parse(text, strlen(text), year) != XS_OK) {
        fprintf(stderr, "xueshi-hub: 学年格式应为 2025-2026 (academic year like 2025-2026)\n");
        return 2;
    }
    xs_policy_year_label(*year, label);
    return 0;
}

/* DIR/years/LABEL[/name] into path, creating the directories; 0 when it does not fit or a
 * directory cannot be made (said). */
static int s_year_path(const char *dir, const char *label, const char *name, char *path,
                       size_t cap) {
    int n = snprintf(path, cap, "%s/years", dir);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        goto fail;
    n = snprintf(path, cap, "%s/years/%s", dir, label);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        goto fail;
    n = snprintf(path, cap, "%s/years/%s/%s", dir, label, name);
    return n >= 0 && (size_t)n < cap;
fail:
    fprintf(stderr, "xueshi-hub: 无法创建目录 %s (cannot create the directory): %s\n", path,
            strerror(errno));
    return 0;
}

/* Writes len bytes to path through a temporary file and a rename; XS_EIO (said). */
static xs_err s_write_file(const char *path, const void *bytes, size_t len) {
    char part[4200];
    snprintf(part, sizeof part, "%s.part", path);
    FILE *f = fopen(part, "wb");
    int ok = f && fwrite(bytes, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(part, path) != 0)
        ok = 0;
    if (!ok) {
        remove(part);
        fprintf(stderr, "xueshi-hub: 无法写入 %s (cannot write)\n", path);
        return XS_EIO;
    }
    return XS_OK;
}

static void s_date(int32_t days, char out[16]) {
    time_t tt = (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static xs_err s_cell(FILE *f, const char *s, int last) {
    return xs_csv_write_cell(f, s, strlen(s), last);
}

static xs_err s_str_cell(FILE *f, xs_str_t s, int last) {
    return xs_csv_write_cell(f, s.len ? s.ptr : "", s.len, last);
}

static xs_err s_hours_cell(FILE *f, uint64_t seconds, int last) {
    char hours[24];
    xs_certify_format_hours(hours, sizeof hours, seconds);
    return s_cell(f, hours, last);
}

/* Shows how far a long step is, once it has run a second, then every second. */
typedef struct s_progress {
    const char *what;
    struct timespec start;
    double last_shown;
} s_progress_t;

static double s_elapsed(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void s_progress(void *ctx, size_t done, size_t total) {
    s_progress_t *p = ctx;
    double t = s_elapsed(&p->start);
    if (t < S_PROGRESS_AFTER || (p->last_shown > 0 && t - p->last_shown < 1.0 && done < total))
        return;
    p->last_shown = t;
    fprintf(stderr, "%s: %zu / %zu 位教师 (teachers), %.0f 秒 (s)\n", p->what, done, total, t);
}

/* Loads closed year `year`; says why when it is not closed or does not load. */
static xs_err s_load_closed(hub_t *hub, xs_txn_t *txn, int year, const char *label,
                            hub_closed_year_t *c) {
    xs_err err = hub_closed_year_load(hub, txn, year, c);
    if (err == XS_ENOTFOUND)
        fprintf(stderr,
                "xueshi-hub: 学年 %s 尚未结账，请先运行 xueshi-hub close --dir %s --year %s "
                "(the year is not closed: run xueshi-hub close first)\n",
                label, hub->dir, label);
    else if (err != XS_OK)
        xs_log_err(err, "读取学年 %s 的结账文件 (reading the closed year)", label);
    return err;
}

/* ---- the 公示 list ---- */

/* The 认定结果 cell of a row. */
static const char *s_result(const xs_year_row_t *row) {
    if (row->state == XS_STANDING_EXEMPT)
        return "免于认定";
    return xs_certify_met_zh(row->met);
}

/* Writes the 公示 list of doc (closed under policy) to f: one line per teacher. */
static xs_err s_write_notice(FILE *f, const xs_policy_t *policy, const xs_year_doc_t *doc) {
    xs_certify_total_t totals[XS_YEAR_TOTALS_MAX];
    xs_certify_teacher_t view;
    xs_standing_t st;
    char cell[64], reason[XS_REPORT_REASON_MAX];
    xs_err err = xs_csv_write_bom(f);
    static const char *const head[] = {"序号", "教师编号", "姓名", "学校", "本年学时"};
    for (size_t i = 0; err == XS_OK && i < sizeof head / sizeof head[0]; i++)
        err = s_cell(f, head[i], 0);
    for (size_t b = 0; err == XS_OK && b < xs_policy_bucket_count(policy); b++)
        err = s_cell(f, xs_policy_bucket_label(policy, b), 0);
    static const char *const tail[] = {"周期累计", "认定结果", "说明", "审核状态"};
    for (size_t i = 0; err == XS_OK && i < sizeof tail / sizeof tail[0]; i++)
        err = s_cell(f, tail[i], i + 1 == sizeof tail / sizeof tail[0]);
    for (size_t i = 0; err == XS_OK && i < doc->row_count; i++) {
        const xs_year_row_t *row = &doc->rows[i];
        snprintf(cell, sizeof cell, "%zu", i + 1);
        err = s_cell(f, cell, 0);
        if (err == XS_OK)
            err = s_str_cell(f, row->teacher_id, 0);
        if (err == XS_OK)
            err = s_str_cell(f, row->name, 0);
        if (err == XS_OK)
            err = s_str_cell(f, row->school_id, 0);
        if (err == XS_OK)
            err = s_hours_cell(f, row->credited_seconds, 0);
        for (size_t b = 0; err == XS_OK && b < xs_policy_bucket_count(policy); b++) {
            uint64_t credited = 0;
            for (uint32_t k = 0; k < row->total_count; k++)
                if (row->totals[k].scope == XS_SCOPE_YEAR && row->totals[k].bucket == b)
                    credited = row->totals[k].credited_seconds;
            err = s_hours_cell(f, credited, 0);
        }
        /* 周期累计: the cycle row of the first bucket with a binding cycle requirement. */
        const xs_year_total_t *cycle = NULL;
        for (uint32_t k = 0; !cycle && k < row->total_count; k++)
            if (row->totals[k].scope == XS_SCOPE_CYCLE && row->totals[k].binding)
                cycle = &row->totals[k];
        if (err == XS_OK)
            err = cycle ? s_hours_cell(f, cycle->credited_seconds, 0) : s_cell(f, "", 0);
        snprintf(cell, sizeof cell, "%s%s", s_result(row),
                 row->state == XS_STANDING_UNROSTERED ? "（不在名册）" : "");
        if (err == XS_OK)
            err = s_cell(f, cell, 0);
        hub_closed_row_view(policy, doc->year, row, totals, &view, &st);
        size_t n = xs_standing_reason(policy, &st, &view, doc->year, reason, sizeof reason);
        if (err == XS_OK)
            err = xs_csv_write_cell(f, reason, n, 0);
        const char *review = !policy->require_review ? "无需审核"
                             : row->final            ? "已审核"
                                                     : "待审核";
        if (err == XS_OK)
            err = s_cell(f, review, 1);
    }
    return err;
}

/* ---- close ---- */

static int s_restore_files(hub_t *hub, const char *dir, int year, const char *label);

typedef struct s_close {
    hub_t *hub;
    int year;
    int64_t now, notice_until;
    xs_writer_t envelope;
    hub_close_stats_t stats;
    s_progress_t progress;
} s_close_t;

static xs_err s_close_step(xs_txn_t *txn, void *ctx) {
    s_close_t *c = ctx;
    xs_writer_reset(&c->envelope);
    clock_gettime(CLOCK_MONOTONIC, &c->progress.start);
    c->progress.last_shown = 0;
    xs_err err = hub_policy_follow(c->hub, txn, NULL);
    if (err == XS_OK)
        err = hub_year_close(c->hub, txn, c->year, c->now, c->notice_until, s_progress,
                             &c->progress, &c->envelope, &c->stats);
    return err;
}

/* Writes year.xsdoc and 公示.csv of the closed year, the list under policy (the one it was
 * closed under); 0 or 1 (said). */
static int s_close_files(hub_t *hub, const xs_policy_t *policy, const s_close_t *c,
                         const char *doc_path, const char *csv_path) {
    xs_year_doc_t doc;
    xs_err err =
        xs_year_open(c->envelope.data, c->envelope.len, xs_identity_public(hub->id)->sign, &doc);
    if (err != XS_OK) {
        xs_log_err(err, "读取刚签署的年度认定文件 (the year document just signed)");
        return 1;
    }
    err = s_write_file(doc_path, c->envelope.data, c->envelope.len);
    char part[4200];
    snprintf(part, sizeof part, "%s.part", csv_path);
    FILE *f = err == XS_OK ? fopen(part, "wb") : NULL;
    if (err == XS_OK && !f)
        err = XS_EIO;
    if (err == XS_OK)
        err = s_write_notice(f, policy, &doc);
    if (f && fclose(f) != 0 && err == XS_OK)
        err = XS_EIO;
    if (err == XS_OK && rename(part, csv_path) != 0)
        err = XS_EIO;
    if (err != XS_OK && f)
        remove(part);
    if (err != XS_OK)
        fprintf(stderr, "xueshi-hub: 无法写入公示名单 %s (cannot write the list)\n", csv_path);
    else {
        char hex[65];
        xs_hex_encode(doc.hash, 32, hex);
        printf("年度认定文件 (year document): %s\n文件 hash (document hash): %s\n"
               "公示名单 (public list): %s\n",
               doc_path, hex, csv_path);
    }
    xs_year_doc_free(&doc);
    return err == XS_OK ? 0 : 1;
}

int hub_cmd_close(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"year", 1, NULL}, {"notice-days", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char label[XS_POLICY_YEAR_LABEL], doc_path[4096], csv_path[4096];
    hub_t hub;
    s_close_t c;
    long days = 5;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_CLOSE_USAGE);
    memset(&c, 0, sizeof c);
    if (s_year_opt(xs_cli_get(opts, nopts, "year"), &c.year, label) != 0)
        return 2;
    const char *d = xs_cli_get(opts, nopts, "notice-days");
    if (d) {
        char *end;
        errno = 0;
        days = strtol(d, &end, 10);
        if (errno || end == d || *end || days < 0 || days > S_NOTICE_DAYS_MAX) {
            fprintf(stderr, "xueshi-hub: --notice-days 应为 0..%d 的整数 (days, 0..%d)\n",
                    S_NOTICE_DAYS_MAX, S_NOTICE_DAYS_MAX);
            return 2;
        }
    }
    const char *dir = xs_cli_get(opts, nopts, "dir");
    if (!s_year_path(dir, label, "year.xsdoc", doc_path, sizeof doc_path) ||
        !s_year_path(dir, label, "公示.csv", csv_path, sizeof csv_path))
        return 1;
    if (hub_open(&hub, dir, HUB_OPEN_KEYS) != XS_OK)
        return 1;
    c.hub = &hub;
    c.now = (int64_t)time(NULL);
    c.notice_until = c.now + (int64_t)days * 86400;
    c.progress.what = "结账认定 (closing the year)";
    xs_writer_init(&c.envelope, XS_YEAR_MAX_BYTES);
    int rc = 1;
    xs_err err = xs_store_update(hub.store, s_close_step, &c);
    if (err == XS_EEXIST) {
        fprintf(stderr,
                "xueshi-hub: 学年 %s 已经结账，结果不再改变；之后的变化请用 xueshi-hub supplement "
                "补认定 (the year is closed already; certify later changes with xueshi-hub "
                "supplement)\n",
                label);
        rc = s_restore_files(&hub, dir, c.year, label) == 0 ? 2 : 1;
    } else if (err == XS_ENOTFOUND) {
        fprintf(stderr,
                "xueshi-hub: 尚未导入教师名册，无法结账；请先运行 xueshi-hub roster --dir %s "
                "import 名册.csv (no roster: import the county's teacher roster first)\n",
                dir);
        rc = 2;
    } else if (err != XS_OK) {
        xs_log_err(err, "结账失败，未作任何改动 (closing failed; nothing was changed)");
    } else {
        char from[XS_TEXT_TIME_MAX], until[XS_TEXT_TIME_MAX];
        xs_text_local_time(c.now, from);
        xs_text_local_time(c.notice_until, until);
        printf("学年 %s 已结账 (closed): %llu 位教师 (teachers): 达标 %llu, 未达标 %llu, "
               "免于认定 %llu, 其中不在名册 %llu (met, not met, exempt, unrostered); 认定记录 "
               "%llu 条 (records); 回执重发 %llu 人，各校下次同步时取回 (receipts made anew for "
               "%llu teachers, fetched at each school's next sync)\n",
               label, (unsigned long long)c.stats.teachers, (unsigned long long)c.stats.met,
               (unsigned long long)c.stats.not_met, (unsigned long long)c.stats.exempt,
               (unsigned long long)c.stats.unrostered, (unsigned long long)c.stats.records,
               (unsigned long long)c.stats.receipts.teachers,
               (unsigned long long)c.stats.receipts.teachers);
        printf("公示期 (notice window): %s 至 %s (%ld 天 days); 期间异议请用 xueshi-hub "
               "objection 登记，期满后用 xueshi-hub finalize 定案 (objections: xueshi-hub "
               "objection; then xueshi-hub finalize)\n",
               from, until, days);
        rc = s_close_files(&hub, hub.policy, &c, doc_path, csv_path);
    }
    xs_writer_free(&c.envelope);
    hub_close(&hub);
    return rc;
}

/* ---- objection ---- */

typedef struct s_objection {
    hub_t *hub;
    int year;
    const char *label;
    const char *teacher;
    const char *note;
    int64_t now;
    uint32_t number;
    int refused; /* why was said */
} s_objection_t;

static xs_err s_objection_step(xs_txn_t *txn, void *ctx) {
    s_objection_t *o = ctx;
    hub_closed_year_t c;
    o->refused = 0;
    xs_err err = s_load_closed(o->hub, txn, o->year, o->label, &c);
    if (err != XS_OK) {
        o->refused = 1;
        return err;
    }
    if (c.finalized) {
        fprintf(stderr,
                "xueshi-hub: 学年 %s 已定案，公示期已结束，不能再登记异议 (the year is finalized: "
                "the notice window is over)\n",
                o->label);
        err = XS_EPERM;
    } else if (!hub_closed_year_row(&c, o->teacher, strlen(o->teacher))) {
        fprintf(stderr,
                "xueshi-hub: 教师 %s 不在学年 %s 的认定名单中 (the teacher is not in the closed "
                "year's list)\n",
                o->teacher, o->label);
        err = XS_ENOTFOUND;
    }
    hub_closed_year_free(&c);
    if (err != XS_OK) {
        o->refused = 1;
        return err;
    }
    err = hub_year_objection_add(txn, o->year, o->teacher, o->note, o->now, &o->number);
    if (err == XS_EINVAL) {
        fprintf(stderr,
                "xueshi-hub: 异议内容应为 1..%d 字节的 UTF-8 文本 (the note must be "
                "1..%d bytes of UTF-8)\n",
                XS_YEAR_TEXT_MAX, XS_YEAR_TEXT_MAX);
        o->refused = 1;
    }
    return err;
}

/* Prints one objection as a CSV row. */
static xs_err s_list_objection(void *ctx, const hub_objection_t *o) {
    const hub_closed_year_t *c = ctx;
    char cell[XS_TEXT_TIME_MAX];
    const xs_year_row_t *row = hub_closed_year_row(c, o->teacher, strlen(o->teacher));
    snprintf(cell, sizeof cell, "%u", o->number);
    xs_err err = s_cell(stdout, cell, 0);
    if (err == XS_OK)
        err = s_cell(stdout, o->teacher, 0);
    if (err == XS_OK)
        err = row ? s_str_cell(stdout, row->name, 0) : s_cell(stdout, "", 0);
    xs_text_local_time(o->filed_at, cell);
    if (err == XS_OK)
        err = s_cell(stdout, cell, 0);
    if (err == XS_OK)
        err = s_cell(stdout, o->note, 0);
    if (err == XS_OK)
        err = s_cell(stdout, o->decision[0] ? o->decision : "待处理", 0);
    if (o->decided_at)
        xs_text_local_time(o->decided_at, cell);
    else
        cell[0] = 0;
    if (err == XS_OK)
        err = s_cell(stdout, cell, 1);
    return err;
}

static int s_objection_list(hub_t *hub, int year, const char *label) {
    xs_txn_t *txn = NULL;
    hub_closed_year_t c;
    memset(&c, 0, sizeof c);
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK && (err = s_load_closed(hub, txn, year, label, &c)) != XS_OK) {
        xs_store_end(&txn);
        return 1;
    }
    static const char *const head[] = {"编号", "教师编号", "姓名",    "登记时间",
                                       "异议", "处理结果", "处理时间"};
    if (err == XS_OK)
        err = xs_csv_write_bom(stdout);
    for (size_t i = 0; err == XS_OK && i < sizeof head / sizeof head[0]; i++)
        err = s_cell(stdout, head[i], i + 1 == sizeof head / sizeof head[0]);
    if (err == XS_OK)
        err = hub_year_objections_each(txn, year, s_list_objection, &c);
    if (err == XS_OK && fflush(stdout) != 0)
        err = XS_EIO;
    if (err != XS_OK)
        xs_log_err(err, "列出异议 (listing objections)");
    hub_closed_year_free(&c);
    xs_store_end(&txn);
    return err == XS_OK ? 0 : 1;
}

int hub_cmd_objection(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},  {"year", 1, NULL}, {"teacher", 1, NULL},
                           {"note", 1, NULL}, {"list", 0, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char label[XS_POLICY_YEAR_LABEL];
    hub_t hub;
    s_objection_t o;
    memset(&o, 0, sizeof o);
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_OBJECTION_USAGE);
    int list = xs_cli_get(opts, nopts, "list") != NULL;
    o.teacher = xs_cli_get(opts, nopts, "teacher");
    o.note = xs_cli_get(opts, nopts, "note");
    if (list ? o.teacher || o.note : !o.teacher || !o.note)
        return hub_usage(S_OBJECTION_USAGE);
    if (s_year_opt(xs_cli_get(opts, nopts, "year"), &o.year, label) != 0)
        return 2;
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), HUB_OPEN_KEYS) != XS_OK)
        return 1;
    int rc = 1;
    if (list) {
        rc = s_objection_list(&hub, o.year, label);
    } else {
        o.hub = &hub;
        o.label = label;
        o.now = (int64_t)time(NULL);
        xs_err err = xs_store_update(hub.store, s_objection_step, &o);
        if (err == XS_OK) {
            printf("异议已登记 (objection recorded): 学年 %s 第 %u 号，教师 %s；定案前请用 "
                   "xueshi-hub finalize --decision %u:处理结果 给出决定 (decide it with "
                   "--decision %u:TEXT when finalizing)\n",
                   label, o.number, o.teacher, o.number, o.number);
            rc = 0;
        } else if (o.refused) {
            rc = 2;
        } else {
            xs_log_err(err, "登记异议 (recording the objection)");
        }
    }
    hub_close(&hub);
    return rc;
}

/* ---- finalize ---- */

typedef struct s_decision {
    uint32_t number;
    const char *text;
} s_decision_t;

typedef struct s_finalize {
    hub_t *hub;
    int year;
    const char *label;
    int notice_over;
    s_decision_t *decisions;
    size_t ndecisions;
    int64_t now;
    xs_writer_t envelope;
    size_t objections; /* objections in the finalization */
    int refused;       /* why was said */
} s_finalize_t;

/* Names an objection that has no decision. */
static xs_err s_undecided(void *ctx, const hub_objection_t *o) {
    size_t *count = ctx;
    if (o->decision[0]) {
        (*count)++;
        return XS_OK;
    }
    fprintf(stderr, "  第 %u 号 (objection %u): 教师 %s: %s\n", o->number, o->number, o->teacher,
            o->note);
    return XS_OK;
}

static xs_err s_finalize_step(xs_txn_t *txn, void *ctx) {
    s_finalize_t *f = ctx;
    hub_closed_year_t c;
    f->refused = 0;
    f->objections = 0;
    xs_writer_reset(&f->envelope);
    xs_err err = s_load_closed(f->hub, txn, f->year, f->label, &c);
    if (err != XS_OK) {
        f->refused = 1;
        return err;
    }
    if (c.finalized) {
        fprintf(stderr, "xueshi-hub: 学年 %s 已经定案 (the year is finalized already)\n", f->label);
        err = XS_EEXIST;
    } else if (f->now < c.doc.notice_until && !f->notice_over) {
        char until[XS_TEXT_TIME_MAX];
        xs_text_local_time(c.doc.notice_until, until);
        fprintf(stderr,
                "xueshi-hub: 公示期到 %s 才结束，现在还不能定案；如县里确定提前结束公示，请加 "
                "--notice-over (the notice window ends at %s; to end it early on purpose, add "
                "--notice-over)\n",
                until, until);
        err = XS_EPERM;
    }
    for (size_t i = 0; err == XS_OK && i < f->ndecisions; i++) {
        err = hub_year_objection_decide(txn, f->year, f->decisions[i].number, f->decisions[i].text,
                                        f->now);
        if (err == XS_ENOTFOUND)
            fprintf(stderr, "xueshi-hub: 没有第 %u 号异议 (no objection %u)\n",
                    f->decisions[i].number, f->decisions[i].number);
        else if (err == XS_EINVAL)
            fprintf(stderr,
                    "xueshi-hub: 第 %u 号异议的决定应为 1..%d 字节的 UTF-8 文本 (the "
                    "decision must be 1..%d bytes of UTF-8)\n",
                    f->decisions[i].number, XS_YEAR_TEXT_MAX, XS_YEAR_TEXT_MAX);
    }
    if (err == XS_OK) {
        err = hub_year_finalize(f->hub, txn, &c, f->now, &f->envelope);
        if (err == XS_EAGAIN) {
            fprintf(stderr, "xueshi-hub: 以下异议尚未处理，请用 --decision 编号:处理结果 逐一给出"
                            "决定后再定案 (objections without a decision; give each with "
                            "--decision N:TEXT):\n");
            size_t decided = 0;
            if (hub_year_objections_each(txn, f->year, s_undecided, &decided) != XS_OK)
                fprintf(stderr, "  (无法列出 cannot list them)\n");
        }
    }
    if (err == XS_OK)
        err = hub_year_objections_each(txn, f->year, s_undecided, &f->objections);
    if (err != XS_OK && err != XS_ESTORE && err != XS_ENOMEM && err != XS_EFULL &&
        err != XS_ECORRUPT)
        f->refused = 1;
    hub_closed_year_free(&c);
    return err;
}

/* Takes every "--decision N:TEXT" (or --decision=N:TEXT) out of argv into f->decisions;
 * returns the words left in argv (compacted), or -1 after saying why. */
static int s_take_decisions(int argc, char **argv, s_finalize_t *f) {
    int kept = 0;
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--decision") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "xueshi-hub: --decision 缺少值 (missing value)\n");
                return -1;
            }
            value = argv[++i];
        } else if (strncmp(argv[i], "--decision=", 11) == 0) {
            value = argv[i] + 11;
        } else {
            argv[kept++] = argv[i];
            continue;
        }
        char *end;
        errno = 0;
        unsigned long n = strtoul(value, &end, 10);
        if (errno || end == value || *end != ':' || n < 1 || n > UINT32_MAX || !end[1] ||
            f->ndecisions == S_DECISIONS_MAX) {
            fprintf(stderr,
                    "xueshi-hub: --decision 应写作 编号:处理结果，例如 --decision 1:维持原认定 "
                    "(write --decision N:TEXT)\n");
            return -1;
        }
        f->decisions[f->ndecisions++] = (s_decision_t){(uint32_t)n, end + 1};
    }
    return kept;
}

int hub_cmd_finalize(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"year", 1, NULL}, {"notice-over", 0, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char label[XS_POLICY_YEAR_LABEL], path[4096];
    hub_t hub;
    s_finalize_t f;
    memset(&f, 0, sizeof f);
    f.decisions = calloc(S_DECISIONS_MAX, sizeof *f.decisions);
    if (!f.decisions)
        return 1;
    int rc = 2, left = s_take_decisions(argc, argv, &f);
    if (left < 0)
        goto out_free;
    if (hub_args(left, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir")) {
        rc = hub_usage(S_FINALIZE_USAGE);
        goto out_free;
    }
    if (s_year_opt(xs_cli_get(opts, nopts, "year"), &f.year, label) != 0)
        goto out_free;
    const char *dir = xs_cli_get(opts, nopts, "dir");
    rc = 1;
    if (!s_year_path(dir, label, "final.xsdoc", path, sizeof path) ||
        hub_open(&hub, dir, HUB_OPEN_KEYS) != XS_OK)
        goto out_free;
    int restored = s_restore_files(&hub, dir, f.year, label);
    f.hub = &hub;
    f.label = label;
    f.notice_over = xs_cli_get(opts, nopts, "notice-over") != NULL;
    f.now = (int64_t)time(NULL);
    xs_writer_init(&f.envelope, XS_YEAR_MAX_BYTES);
    xs_err err = xs_store_update(hub.store, s_finalize_step, &f);
    if (err == XS_OK) {
        if (s_write_file(path, f.envelope.data, f.envelope.len) == XS_OK) {
            printf("学年 %s 已定案 (finalized)%s: 异议 %zu 件均已处理 (objections decided)\n"
                   "定案文件 (finalization): %s\n",
                   label,
                   f.notice_over ? "，公示期按 --notice-over 提前结束 (notice ended early)" : "",
                   f.objections, path);
            rc = 0;
        }
    } else if (f.refused) {
        rc = 2;
    } else {
        xs_log_err(err, "定案失败，未作任何改动 (finalizing failed; nothing was changed)");
    }
    if (rc == 0 && restored != 0)
        rc = 1;
    xs_writer_free(&f.envelope);
    hub_close(&hub);
out_free:
    free(f.decisions);
    return rc;
}

/* ---- supplement ---- */

/* Writes the header of a 补认定 list. */
static xs_err s_supplement_begin(FILE *f) {
    static const char *const head[] = {"记录",       "教师编号",   "姓名", "类别", "日期",
                                       "原认定学时", "应认定学时", "影响", "说明"};
    xs_err err = xs_csv_write_bom(f);
    for (size_t i = 0; err == XS_OK && i < sizeof head / sizeof head[0]; i++)
        err = s_cell(f, head[i], i + 1 == sizeof head / sizeof head[0]);
    return err;
}

/* Writes one record of a 补认定 list. */
static xs_err s_supplement_row(FILE *f, const xs_policy_t *policy, const xs_year_entry_t *e,
                               xs_str_t name) {
    char line[40], key[17], date[16], effect[32], hours[24];
    xs_hex_encode(e->origin, 8, key);
    snprintf(line, sizeof line, "%s:%llu", key, (unsigned long long)e->seq);
    xs_err err = s_cell(f, line, 0);
    if (err == XS_OK)
        err = s_str_cell(f, e->teacher_id, 0);
    if (err == XS_OK)
        err = s_str_cell(f, name, 0);
    const char *label = xs_policy_category_label(policy, e->category);
    char code[8];
    snprintf(code, sizeof code, "%u", e->category);
    if (err == XS_OK)
        err = s_cell(f, label ? label : code, 0);
    s_date(e->date, date);
    if (err == XS_OK)
        err = s_cell(f, date, 0);
    if (err == XS_OK)
        err = s_hours_cell(f, e->frozen_seconds, 0);
    if (err == XS_OK)
        err = s_hours_cell(f, e->seconds, 0);
    /* 增加2.00 / 减少1.00 / 不变: the direction in words, so a spreadsheet neither reads the cell
     * as a formula (a leading + or -) nor needs the formula guard's apostrophe. */
    uint32_t a = e->seconds, b = e->frozen_seconds;
    xs_certify_format_hours(hours, sizeof hours, a >= b ? a - b : b - a);
    snprintf(effect, sizeof effect, "%s%s",
             a > b   ? "增加"
             : a < b ? "减少"
                     : "不变",
             a == b ? "" : hours);
    if (err == XS_OK)
        err = s_cell(f, effect, 0);
    if (err == XS_OK)
        err = s_str_cell(f, e->note, 1);
    return err;
}

typedef struct s_list {
    const xs_policy_t *policy;
    size_t count;
} s_list_t;

static xs_err s_list_supplement(void *ctx, const hub_supplement_t *s) {
    s_list_t *l = ctx;
    l->count++;
    return s_supplement_row(stdout, l->policy, &s->entry, s->name);
}

static int s_supplement_list(hub_t *hub, int year, const char *label) {
    xs_txn_t *txn = NULL;
    hub_closed_year_t c;
    s_list_t l = {hub->policy, 0};
    memset(&c, 0, sizeof c);
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK && (err = s_load_closed(hub, txn, year, label, &c)) != XS_OK) {
        xs_store_end(&txn);
        return 1;
    }
    if (err == XS_OK)
        err = s_supplement_begin(stdout);
    if (err == XS_OK)
        err = hub_year_supplements(hub, txn, &c, s_list_supplement, &l);
    if (err == XS_OK && fflush(stdout) != 0)
        err = XS_EIO;
    if (err == XS_OK)
        fprintf(stderr, "学年 %s 待补认定 %zu 条记录 (records to supplement)\n", label, l.count);
    else
        xs_log_err(err, "列出补认定 (listing the 补认定 list)");
    hub_closed_year_free(&c);
    xs_store_end(&txn);
    return err == XS_OK ? 0 : 1;
}

typedef struct s_amend {
    hub_t *hub;
    int year;
    const char *label;
    int64_t now;
    xs_writer_t envelope;
    uint32_t number;
    size_t entries;
    int refused;
} s_amend_t;

static xs_err s_amend_step(xs_txn_t *txn, void *ctx) {
    s_amend_t *a = ctx;
    hub_closed_year_t c;
    memset(&c, 0, sizeof c);
    xs_writer_reset(&a->envelope);
    a->refused = 0;
    xs_err err = hub_policy_follow(a->hub, txn, NULL);
    if (err == XS_OK && (err = s_load_closed(a->hub, txn, a->year, a->label, &c)) != XS_OK) {
        a->refused = 1;
        return err;
    }
    if (err == XS_OK)
        err = hub_year_amend(a->hub, txn, &c, a->now, &a->envelope, &a->number, &a->entries);
    hub_closed_year_free(&c);
    return err;
}

/* Writes amend-N.xsdoc and 补认定-N.csv of the amendment just signed; 0 or 1 (said). */
static int s_amend_files(hub_t *hub, const char *dir, const char *label, const s_amend_t *a) {
    char doc_path[4096], csv_path[4096], name[64];
    xs_year_amend_t amend;
    snprintf(name, sizeof name, "amend-%u.xsdoc", a->number);
    if (!s_year_path(dir, label, name, doc_path, sizeof doc_path))
        return 1;
    snprintf(name, sizeof name, "补认定-%u.csv", a->number);
    if (!s_year_path(dir, label, name, csv_path, sizeof csv_path))
        return 1;
    xs_err err = xs_year_amend_open(a->envelope.data, a->envelope.len,
                                    xs_identity_public(hub->id)->sign, &amend);
    if (err != XS_OK) {
        xs_log_err(err, "读取刚签署的补认定文件 (the amendment just signed)");
        return 1;
    }
    err = s_write_file(doc_path, a->envelope.data, a->envelope.len);
    FILE *f = err == XS_OK ? fopen(csv_path, "wb") : NULL;
    if (err == XS_OK && !f)
        err = XS_EIO;
    if (err == XS_OK)
        err = s_supplement_begin(f);
    for (size_t i = 0; err == XS_OK && i < amend.entry_count; i++) {
        const xs_year_entry_t *e = &amend.entries[i];
        const xs_year_row_t *row =
            xs_year_find(amend.rows, amend.row_count, e->teacher_id.ptr, e->teacher_id.len);
        err = s_supplement_row(f, hub->policy, e, row ? row->name : (xs_str_t){"", 0});
    }
    if (f && fclose(f) != 0 && err == XS_OK)
        err = XS_EIO;
    if (err != XS_OK)
        fprintf(stderr, "xueshi-hub: 无法写入 %s (cannot write)\n", csv_path);
    else
        printf("补认定文件 (amendment): %s\n补认定名单 (list): %s\n", doc_path, csv_path);
    xs_year_amend_free(&amend);
    return err == XS_OK ? 0 : 1;
}

/* Writes again, from the store, every file of closed year `year` that is missing: year.xsdoc
 * and 公示.csv (under the policy the year was closed under), final.xsdoc, and each
 * amend-N.xsdoc with its 补认定-N.csv. A command stopped between its commit and its files
 * (power lost) leaves them unwritten; the next close, finalize or supplement of the year
 * writes them. 0 when nothing was missing or all was written, 1 (said) when not. */
static int s_restore_files(hub_t *hub, const char *dir, int year, const char *label) {
    char doc_path[4096], csv_path[4096], final_path[4096];
    hub_closed_year_t closed;
    xs_txn_t *txn = NULL;
    xs_bytes_t env;
    int rc = 0;
    memset(&closed, 0, sizeof closed);
    if (!s_year_path(dir, label, "year.xsdoc", doc_path, sizeof doc_path) ||
        !s_year_path(dir, label, "公示.csv", csv_path, sizeof csv_path) ||
        !s_year_path(dir, label, "final.xsdoc", final_path, sizeof final_path))
        return 1;
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK)
        err = hub_closed_year_load(hub, txn, year, &closed);
    if (err == XS_ENOTFOUND) {
        xs_store_end(&txn);
        return 0; /* not closed: nothing to write */
    }
    if (err == XS_OK && (access(doc_path, F_OK) != 0 || access(csv_path, F_OK) != 0) &&
        (err = hub_year_get(txn, year, HUB_YEAR_DOC, 0, &env)) == XS_OK) {
        s_close_t c;
        memset(&c, 0, sizeof c);
        xs_writer_init(&c.envelope, XS_YEAR_MAX_BYTES);
        xs_writer_raw(&c.envelope, env.ptr, env.len);
        printf("重新写出结账文件 (writing the closed year's files again)\n");
        rc |= c.envelope.err != XS_OK || s_close_files(hub, closed.policy, &c, doc_path, csv_path);
        xs_writer_free(&c.envelope);
    }
    if (err == XS_OK && closed.finalized && access(final_path, F_OK) != 0 &&
        (err = hub_year_get(txn, year, HUB_YEAR_FINAL, 0, &env)) == XS_OK) {
        printf("重新写出定案文件 (writing the finalization again): %s\n", final_path);
        rc |= s_write_file(final_path, env.ptr, env.len) != XS_OK;
    }
    for (uint32_t n = 1; err == XS_OK && n <= closed.amend_count; n++) {
        char name[64], amend_path[4096], list_path[4096];
        snprintf(name, sizeof name, "amend-%u.xsdoc", n);
        if (!s_year_path(dir, label, name, amend_path, sizeof amend_path))
            return 1;
        snprintf(name, sizeof name, "补认定-%u.csv", n);
        if (!s_year_path(dir, label, name, list_path, sizeof list_path))
            return 1;
        if (access(amend_path, F_OK) == 0 && access(list_path, F_OK) == 0)
            continue;
        if ((err = hub_year_get(txn, year, HUB_YEAR_AMEND, n, &env)) != XS_OK)
            break;
        s_amend_t a;
        memset(&a, 0, sizeof a);
        a.number = n;
        xs_writer_init(&a.envelope, XS_YEAR_MAX_BYTES);
        xs_writer_raw(&a.envelope, env.ptr, env.len);
        printf("重新写出补认定第 %u 号 (writing amendment %u again)\n", n, n);
        rc |= a.envelope.err != XS_OK || s_amend_files(hub, dir, label, &a);
        xs_writer_free(&a.envelope);
    }
    if (err != XS_OK) {
        xs_log_err(err, "读取已结账学年的文件 (reading the closed year's documents)");
        rc = 1;
    }
    hub_closed_year_free(&closed);
    xs_store_end(&txn);
    return rc;
}

int hub_cmd_supplement(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"year", 1, NULL}, {"list", 0, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char label[XS_POLICY_YEAR_LABEL];
    hub_t hub;
    s_amend_t a;
    memset(&a, 0, sizeof a);
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_SUPPLEMENT_USAGE);
    if (s_year_opt(xs_cli_get(opts, nopts, "year"), &a.year, label) != 0)
        return 2;
    const char *dir = xs_cli_get(opts, nopts, "dir");
    int list = xs_cli_get(opts, nopts, "list") != NULL;
    if (hub_open(&hub, dir, list ? 0 : HUB_OPEN_KEYS) != XS_OK)
        return 1;
    int rc = 1, restored = list ? 0 : s_restore_files(&hub, dir, a.year, label);
    if (list) {
        rc = s_supplement_list(&hub, a.year, label);
        hub_close(&hub);
        return rc;
    }
    a.hub = &hub;
    a.label = label;
    a.now = (int64_t)time(NULL);
    xs_writer_init(&a.envelope, XS_YEAR_MAX_BYTES);
    xs_err err = xs_store_update(hub.store, s_amend_step, &a);
    if (err == XS_OK && a.number == 0) {
        printf("学年 %s 没有待补认定的记录 (nothing to supplement)\n", label);
        rc = 0;
    } else if (err == XS_OK) {
        printf("学年 %s 补认定第 %u 号已签发 (amendment %u signed): %zu 条记录 (records); "
               "相关教师的回执已重签 (their receipts issued again)\n",
               label, a.number, a.number, a.entries);
        rc = s_amend_files(&hub, dir, label, &a);
    } else if (a.refused) {
        rc = 2;
    } else {
        xs_log_err(err, "补认定失败，未作任何改动 (the supplement failed; nothing was changed)");
    }
    if (rc == 0 && restored != 0)
        rc = 1;
    xs_writer_free(&a.envelope);
    hub_close(&hub);
    return rc;
}
