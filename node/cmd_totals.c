/* xueshi-node totals: provisional (暂定) totals from the node's own records, beside the
 * confirmed (已认定) totals of the hub's signed receipts, offline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "lanes.h"
#include "node.h"
#include "staff.h"
#include "tally.h"
#include "xs/certify.h"
#include "xs/receipt.h"
#include "xs/report.h"

#define S_USAGE                                                                                    \
    "xueshi-node totals --dir DIR [--teacher T] [--year 2025-2026] [--format table|csv]\n"         \
    "       [--confirmed]   (csv of the hub's confirmed totals instead of provisional ones)"

typedef struct s_totals {
    const xs_policy_t *policy;
    const char *teacher;     /* only this teacher, or NULL */
    int year;                /* only this academic year (first calendar year), or 0 */
    int csv;                 /* print the certify CSV instead of a table */
    size_t shown;            /* teachers printed */
    xs_txn_t *txn;           /* --confirmed: the snapshot the receipts are read from */
    int has_hub;             /* 1 when the node knows its hub's key */
    node_county_keys_t hub;  /* the hub's signing keys: receipts must verify against one */
    xs_receipt_t *receipt;   /* scratch */
    const xs_staff_t *staff; /* the node's part of the roster, naming teachers; zeroed: none */
    int zero_year;           /* the year a rostered teacher without records is shown in */
} s_totals_t;

/* Opens the teacher's receipt envelope into s->receipt, verified; 0 (reported) when it fails
 * its check. */
static int s_receipt_open(s_totals_t *s, const char *teacher, size_t len, const xs_bytes_t *env) {
    xs_err err = node_receipt_open(&s->hub, env->ptr, env->len, s->receipt);
    if (err != XS_OK)
        xs_log_err(err, "教师 %.*s 的认定回执无效 (the teacher's receipt fails its check)",
                   (int)len, teacher);
    return err == XS_OK;
}

static const char *const s_scope_zh[XS_SCOPE_COUNT] = {"学年", "学期", "周期"};

/* "达标", "未达标", or with "(建议)" for an advisory requirement (credit-rules §6.4); "" where
 * nothing is required. */
static void s_met_label(unsigned met, unsigned binding, char *out, size_t cap) {
    if (met == XS_MET_NONE)
        snprintf(out, cap, "%s", "");
    else
        snprintf(out, cap, "%s%s", xs_certify_met_zh(met), binding ? "" : "(建议)");
}

/* Prints one teacher's rows, as node_tally_run hands them out. */
static xs_err s_print(void *ctx, const node_tally_teacher_t *t) {
    s_totals_t *s = ctx;
    const xs_policy_t *policy = s->policy;
    s->shown++;
    if (t->bad_receipt && !s->csv)
        xs_log_err(XS_ECRYPTO, "教师 %.*s 的认定回执无效 (the teacher's receipt fails its check)",
                   (int)t->teacher_id.len, t->teacher_id.ptr);
    if (s->csv) {
        xs_certify_total_t *totals = malloc((t->count + 1) * sizeof *totals);
        if (!totals)
            return XS_ENOMEM;
        for (size_t i = 0; i < t->count; i++)
            totals[i] = t->rows[i].provisional;
        xs_certify_teacher_t view = {t->teacher_id, NULL, 0, totals, t->count};
        xs_str_t named = {t->name, (uint32_t)strlen(t->name)};
        xs_err err = xs_report_summary_teacher_named(stdout, policy, &view, NULL, &named,
                                                     t->exempt ? s->zero_year : 0);
        free(totals);
        return err;
    }
    for (size_t i = 0; i < t->count; i++) {
        const node_tally_row_t *r = &t->rows[i];
        const xs_certify_total_t *row = &r->provisional;
        const xs_certify_total_t *c = r->has_confirmed ? &r->confirmed : NULL;
        char credited[24], required[24] = "-", final[24] = "-", met[40];
        char reason[XS_REPORT_REASON_MAX];
        if (c)
            xs_certify_format_hours(final, sizeof final, c->credited_seconds);
        xs_certify_format_hours(credited, sizeof credited, row->credited_seconds);
        if (row->required_seconds)
            xs_certify_format_hours(required, sizeof required, row->required_seconds);
        node_pad_n(t->teacher_id.ptr, t->teacher_id.len, 12);
        node_pad(t->name, 10);
        node_pad(s_scope_zh[row->scope % XS_SCOPE_COUNT], 6);
        node_pad(r->period, 13);
        node_pad(r->bucket, 14);
        printf("%10s %10s  ", credited, required);
        s_met_label(r->exempt ? XS_MET_NONE : row->met, row->binding, met, sizeof met);
        node_pad(r->exempt ? "免于认定" : met, 12);
        printf("%10s  ", final);
        /* The reason beside the confirmed figures is the receipt's when there is one. */
        const xs_certify_total_t *shown = c ? c : row;
        s_met_label(c ? c->met : XS_MET_NONE, c ? c->binding : 0, met, sizeof met);
        if (c && r->closed)
            snprintf(met + strlen(met), sizeof met - strlen(met), "%s定案", met[0] ? "·" : "");
        node_pad(met, 12);
        xs_report_total_reason(policy, shown, reason, sizeof reason);
        if (r->exempt && !c)
            snprintf(reason, sizeof reason, "%s", XS_REPORT_EXEMPT);
        /* Under require_review the figure is provisional until the school approves. */
        if (row->unreviewed)
            printf("%s%s%u 条未经学校审核 (%u not yet approved by the school)\n", reason,
                   reason[0] ? "; " : "", row->unreviewed, row->unreviewed);
        else
            printf("%s\n", reason);
    }
    return XS_OK;
}

/* What s_confirmed_csv hands each receipt of its walk. */
typedef struct s_csv {
    s_totals_t *s;
    xs_certify_total_t *totals, *keep; /* scratch, XS_RECEIPT_TOTALS_MAX each */
} s_csv_t;

/* Prints one receipt's totals as CSV rows, when it is of the teacher asked for and verifies. */
static xs_err s_confirmed_row(void *ctx, const char *teacher, size_t len,
                              const xs_bytes_t *envelope) {
    s_csv_t *c = ctx;
    s_totals_t *s = c->s;
    if (s->teacher && (len != strlen(s->teacher) || memcmp(teacher, s->teacher, len) != 0))
        return XS_OK;
    if (!s->has_hub || !s_receipt_open(s, teacher, len, envelope))
        return XS_OK;
    const xs_receipt_t *r = s->receipt;
    for (uint32_t i = 0; i < r->total_count; i++) {
        const xs_receipt_total_t *t = &r->totals[i];
        xs_report_receipt_total(t, &c->totals[i]);
    }
    xs_certify_teacher_t view = {r->teacher_id, NULL, 0, c->keep, 0};
    view.total_count =
        xs_report_filter_year(s->policy, c->totals, r->total_count, s->year, c->keep);
    const char *name = node_staff_name(s->staff, teacher, len);
    xs_str_t named = {name, (uint32_t)strlen(name)};
    return xs_report_summary_teacher_named(stdout, s->policy, &view, NULL, &named, 0);
}

/* --confirmed --format csv: the receipts' totals, in the CSV xueshi certify prints. */
static xs_err s_confirmed_csv(s_totals_t *s) {
    node_lane_t self = node_lane_self();
    s_csv_t c = {s, malloc(XS_RECEIPT_TOTALS_MAX * sizeof *c.totals),
                 malloc(XS_RECEIPT_TOTALS_MAX * sizeof *c.keep)};
    xs_err err = c.totals && c.keep ? xs_report_summary_begin_named(stdout, 0) : XS_ENOMEM;
    if (err == XS_OK)
        err = node_lane_receipts(s->txn, &self, NULL, 0, s_confirmed_row, &c);
    free(c.totals);
    free(c.keep);
    return err;
}

/* Reads the options into *s (teacher, year, csv), *dir and *confirmed_csv; XS_EINVAL, with the
 * usage or the refusal printed, when they are not a totals query (exit code 2). */
static xs_err s_parse(int argc, char **argv, s_totals_t *s, const char **dir, int *confirmed_csv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},    {"teacher", 1, NULL}, {"year", 1, NULL},
                           {"format", 1, NULL}, {"help", 0, NULL},    {"confirmed", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !(*dir = xs_cli_get(opts, nopts, "dir"))) {
        node_usage(S_USAGE);
        return XS_EINVAL;
    }
    *confirmed_csv = xs_cli_get(opts, nopts, "confirmed") != NULL;
    const char *format = xs_cli_get(opts, nopts, "format");
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "table") != 0) {
        node_usage(S_USAGE);
        return XS_EINVAL;
    }
    s->csv = format && strcmp(format, "csv") == 0;
    s->teacher = xs_cli_get(opts, nopts, "teacher");
    const char *year = xs_cli_get(opts, nopts, "year");
    if (year && node_parse_year(year, &s->year) != XS_OK)
        return XS_EINVAL;
    return XS_OK;
}

/* Starts the provisional totals: the CSV header, or the table's explanation and headings. */
static xs_err s_begin(const s_totals_t *s) {
    const xs_policy_t *policy = s->policy;
    if (s->csv)
        return xs_report_summary_begin_named(stdout, 0);
    printf("暂定：本节点记录按 %s 第 %u 版规则计算；已认定：县级中心签发的认定回执\n"
           "(provisional: this node's records under policy %s v%u; confirmed: the hub's "
           "signed receipts)\n\n",
           policy->id, policy->version, policy->id, policy->version);
    node_pad("教师", 12);
    node_pad("姓名", 10);
    node_pad("范围", 6);
    node_pad("期间", 13);
    node_pad("类别组", 14);
    node_pad("    暂定学时", 11);
    node_pad("       要求", 12);
    node_pad("  暂定达标", 14);
    node_pad("    已认定", 12);
    node_pad("认定达标", 12);
    printf("说明 (reason)\n");
    return XS_OK;
}

int node_cmd_totals(int argc, char **argv) {
    node_t node;
    xs_policy_t *policy = NULL;
    xs_staff_t staff = {0};
    s_totals_t s = {0};
    node_tally_summary_t sum = {0};
    const char *dir = NULL;
    int rc = 1, confirmed_csv = 0;
    if (s_parse(argc, argv, &s, &dir, &confirmed_csv) != XS_OK)
        return 2;
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    err = node_policy_needed(&node, &policy);
    if (err != XS_OK) {
        rc = node_exit_code(err, dir);
        goto out;
    }
    s.policy = policy;
    /* Names come from the roster part; without one (or unreadable: said) they are empty. */
    if (node_staff_load(&node, &staff) != XS_OK)
        memset(&staff, 0, sizeof staff);
    s.staff = &staff;
    int64_t now = (int64_t)time(NULL);
    s.zero_year = s.year ? s.year : xs_policy_year_of(policy, (int32_t)(now / 86400), NULL);
    if (confirmed_csv) {
        if (!(s.receipt = malloc(sizeof *s.receipt)))
            err = XS_ENOMEM;
        if (err == XS_OK)
            err = xs_store_read(node.store, &s.txn);
        if (err == XS_OK) {
            s.has_hub = node_county_keys(s.txn, &s.hub) == XS_OK;
            err = s_confirmed_csv(&s);
        }
        xs_store_end(&s.txn);
    } else {
        node_tally_opts_t opts = {s.teacher, s.year, now};
        err = s_begin(&s);
        if (err == XS_OK)
            err = node_tally_run(&node, policy, &staff, &opts, s_print, &s, &sum);
        if (err == XS_OK && !s.csv && s.shown == 0)
            printf("（没有符合条件的记录 no matching records）\n");
    }
    if (err != XS_OK) {
        xs_log_err(err, "计算暂定学时 (computing provisional totals)");
        rc = node_exit_code(err, dir);
    } else if (fflush(stdout) != 0) {
        rc = 1;
    } else {
        rc = sum.corrupted ? node_exit_code(XS_ECORRUPT, dir) : 0;
    }
out:
    free(s.receipt);
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
    node_close(&node);
    return rc;
}
