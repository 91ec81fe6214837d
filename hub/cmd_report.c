/* xueshi-hub report: the county's 学时认定汇总表 over everything merged, as xueshi certify
 * prints it, with each teacher's school first and name after their id, every rostered teacher
 * listed; for a closed year, the year as it was closed (schema/year.md); with --detail, one
 * row per record instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub.h"
#include "ledger.h"
#include "summary.h"
#include "xs/report.h"
#include "xs/standing.h"
#include "xs/year.h"

#define S_USAGE                                                                                    \
    "xueshi-hub report --dir DIR [--year 2025-2026] [--school SCHOOL_ID] [--detail]\n"             \
    "       [--format csv|xlsx] [--out FILE.xlsx]   (xlsx: the workbook of one --year)"

/* Seconds a report runs before it shows progress, and between two lines. */
#define S_PROGRESS_AFTER 1.0

typedef struct s_report {
    hub_t *hub;
    int year;               /* academic year filter (first calendar year), or 0 */
    const char *school;     /* school filter, or NULL */
    xs_txn_t *txn;          /* the snapshot reported */
    uint64_t records_done;  /* records walked so far */
    uint64_t records_total; /* records to walk */
    uint64_t ledger_done;   /* of which the teachers' (hub_summary's count) */
    struct timespec start;  /* when the walk began */
    double last_shown;      /* seconds after start of the last progress line; 0: none */
    const xs_certify_exams_t *standings; /* the county's exam standings (--detail) */
} s_report_t;

static double s_elapsed(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Shows how far the walk is, once it has run a second, then every second. */
static void s_show(s_report_t *r) {
    double t = s_elapsed(&r->start);
    if (t < S_PROGRESS_AFTER || (r->last_shown > 0 && t - r->last_shown < 1.0))
        return;
    r->last_shown = t;
    fprintf(stderr, "生成报表 (reporting): %llu / %llu 条记录 (records), %.0f 秒 (s)\n",
            (unsigned long long)r->records_done, (unsigned long long)r->records_total, t);
}

/* hub_summary's progress: records of the teachers certified so far. */
static void s_progress(void *ctx, uint64_t done, uint64_t total) {
    s_report_t *r = ctx;
    r->records_done = r->ledger_done = done;
    if (!r->records_total)
        r->records_total = total;
    s_show(r);
}

/* The summary: one teacher's rows. */
static xs_err s_print_summary(void *ctx, const hub_summary_teacher_t *t) {
    (void)ctx;
    return xs_report_summary_teacher_named(stdout, t->policy, t->teacher, &t->school_id, &t->name,
                                           t->exempt_year);
}

/* The detail: one teacher's rows, in the ledger's order (origin, then seq), those of the
 * academic year asked for. A row's line is "<node key>:<seq>": the first 8 bytes of its
 * origin in hex, as `xueshi-hub nodes` shows the node, and the node's record number. */
static xs_err s_print_detail(void *ctx, const hub_summary_teacher_t *t) {
    s_report_t *r = ctx;
    const hub_ledger_t *l = t->ledger;
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < l->count; i++) {
        if (r->year && l->rows[i].year != r->year)
            continue;
        char key[17], line[40];
        xs_hex_encode(l->origins[i], 8, key);
        snprintf(line, sizeof line, "%s:%llu", key, (unsigned long long)l->seqs[i]);
        /* A returned record shows the school's reason: the note of the review that returned
         * it, which is the teacher's too. */
        const xs_str_t *note = xs_certify_review_note(l->records, l->ids, l->count, &l->rows[i]);
        err = xs_report_detail_row_note(stdout, t->policy, &t->school_id, line, &l->records[i],
                                        &l->rows[i], XS_REPORT_LABEL, note);
    }
    return err;
}

/* Prints the detail row of a held record no teacher index names (hub_ledger_unindexed_each):
 * refused at merge, it is rejected with the merge's reason; accepted without a teacher_id, it
 * is certified alone (and rejected, missing_field). Its school is the record's own, or its
 * node's when it names none. */
static xs_err s_detail_unindexed(void *ctx, const uint8_t origin[32], uint64_t seq,
                                 const xs_record_t *rec, uint8_t outcome) {
    s_report_t *r = ctx;
    xs_certify_row_t row;
    hub_node_t node;
    xs_str_t school = rec->school_id;
    xs_err err = XS_OK;
    r->records_done++;
    s_show(r);
    if (!school.len) {
        if ((err = hub_node_get(r->txn, origin, &node)) != XS_OK)
            return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
        school = (xs_str_t){node.school, strlen(node.school)};
    }
    if (r->school &&
        (school.len != strlen(r->school) || memcmp(school.ptr, r->school, school.len) != 0))
        return XS_OK;
    if (outcome == HUB_OUTCOME_ACCEPTED) {
        err = xs_certify_run(r->hub->policy, r->standings, rec, NULL, 1, NULL, &row, NULL, NULL);
        if (err != XS_OK)
            return err;
    } else {
        memset(&row, 0, sizeof row);
        row.status = XS_CERT_REJECTED;
        row.reason = outcome;
        row.category = rec->category;
        if ((rec->present & (1u << XS_F_DATE)) && rec->date >= 0) {
            unsigned semester;
            row.year = (int16_t)xs_policy_year_of(r->hub->policy, rec->date, &semester);
            row.semester = (uint8_t)semester;
        }
    }
    if (r->year && row.year != r->year)
        return XS_OK;
    char key[17], line[40];
    xs_hex_encode(origin, 8, key);
    snprintf(line, sizeof line, "%s:%llu", key, (unsigned long long)seq);
    return xs_report_detail_row(stdout, r->hub->policy, &school, line, rec, &row, XS_REPORT_LABEL);
}

/* The detail report: every record, the teachers' first, then those no teacher index names. */
static xs_err s_detail(s_report_t *r) {
    hub_ledger_t exams;
    xs_certify_exams_t *standings = NULL;
    uint64_t indexed = 0;
    memset(&exams, 0, sizeof exams);
    xs_err err = hub_ledger_exams(&exams, r->txn);
    if (err == XS_OK)
        err = xs_certify_exams_build(&standings, r->hub->policy, exams.records, exams.ids,
                                     exams.count);
    if (err == XS_OK)
        err = hub_ledger_counts(r->txn, &indexed, &r->records_total);
    r->standings = standings;
    if (err == XS_OK)
        err = xs_report_detail_begin(stdout, 1);
    if (err == XS_OK)
        err = hub_summary_ledger_each(r->hub, r->txn, r->year, r->school, s_print_detail,
                                      s_progress, r);
    r->records_done = indexed;
    if (err == XS_OK)
        err = hub_ledger_unindexed_each(r->txn, s_detail_unindexed, r);
    xs_certify_exams_destroy(&standings);
    hub_ledger_free(&exams);
    return err;
}

int hub_cmd_report(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},    {"year", 1, NULL},   {"school", 1, NULL},
                           {"detail", 0, NULL}, {"format", 1, NULL}, {"out", 1, NULL},
                           {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    hub_t hub;
    xs_txn_t *txn = NULL;
    s_report_t r;
    static char outbuf[1 << 16];
    int rc = 1;
    memset(&r, 0, sizeof r);
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_USAGE);
    const char *y = xs_cli_get(opts, nopts, "year");
    if (y && xs_year_parse(y, strlen(y), &r.year) != XS_OK) {
        fprintf(stderr, "xueshi-hub: 学年格式应为 2025-2026 (academic year like 2025-2026)\n");
        return 2;
    }
    const char *format = xs_cli_get(opts, nopts, "format");
    const char *out = xs_cli_get(opts, nopts, "out");
    int xlsx = format && strcmp(format, "xlsx") == 0;
    if (format && !xlsx && strcmp(format, "csv") != 0)
        return hub_usage(S_USAGE);
    int detail = xs_cli_get(opts, nopts, "detail") != NULL;
    if (xlsx && (!out || !r.year || detail)) {
        fprintf(stderr, "xueshi-hub: 工作簿需要 --year 与 --out，且不带 --detail (the workbook "
                        "takes --year and --out, without --detail)\n");
        return 2;
    }
    if (out && !xlsx) {
        fprintf(stderr, "xueshi-hub: --out 用于 --format xlsx；CSV 写到标准输出 (--out is for "
                        "--format xlsx; CSV goes to standard output)\n");
        return 2;
    }
    r.school = xs_cli_get(opts, nopts, "school");
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), 0) != XS_OK)
        return 1;
    r.hub = &hub;
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    xs_err err = xs_store_read(hub.store, &txn);
    r.txn = txn;
    clock_gettime(CLOCK_MONOTONIC, &r.start);
    if (err == XS_OK && xlsx) {
        err = hub_summary_workbook(&hub, txn, r.year, r.school, out, s_progress, &r);
        if (err == XS_OK)
            fprintf(stderr, "已写出工作簿 (workbook written): %s\n", out);
    } else if (err == XS_OK && detail) {
        err = s_detail(&r);
    } else if (err == XS_OK) {
        err = xs_report_summary_begin_named(stdout, 1);
        if (err == XS_OK)
            err = hub_summary_each(&hub, txn, r.year, r.school, s_print_summary, s_progress, &r);
    }
    if (err == XS_OK && fflush(stdout) != 0)
        err = XS_EIO;
    if (err == XS_OK)
        rc = 0;
    else
        xs_log_err(err, "生成汇总表 (building the report)");
    xs_store_end(&txn);
    hub_close(&hub);
    return rc;
}
