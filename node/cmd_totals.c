/* xueshi-node totals: provisional (暂定) totals from the node's own records, beside the
 * confirmed (已认定) totals of the hub's signed receipts, offline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "lanes.h"
#include "recordset.h"
#include "node.h"
#include "staff.h"
#include "xs/certify.h"
#include "xs/receipt.h"
#include "xs/report.h"
#include "xs/standing.h"

#define S_USAGE                                                                                    \
    "xueshi-node totals --dir DIR [--teacher T] [--year 2025-2026] [--format table|csv]\n"         \
    "       [--confirmed]   (csv of the hub's confirmed totals instead of provisional ones)"

typedef struct s_totals {
    const xs_policy_t *policy;
    const xs_staff_t *staff; /* the node's part of the roster, naming teachers; zeroed: none */
    const char *teacher;     /* only this teacher, or NULL */
    int year;                /* only this academic year (first calendar year), or 0 */
    int csv;                 /* print the certify CSV instead of a table */
    size_t shown;            /* teachers printed */
    xs_txn_t *txn;           /* the snapshot the receipts are read from */
    int has_hub;             /* 1 when the node knows its hub's key */
    uint8_t hub[32];         /* the hub's signing key: receipts must verify against it */
    xs_receipt_t *receipt;   /* scratch */
    size_t next_staff;       /* the roster entries before it are printed (by teacher_id) */
    int zero_year;           /* the year a rostered teacher without records is shown in */
    const char *school;      /* the node's own school */
    xs_str_t *schools;       /* the schools the node's records are of (a central school may
                                record for others): whose rostered teachers are listed */
    size_t nschools, schools_cap;
} s_totals_t;

/* Whether rostered teachers of school are this node's to list: its own school, or one it has
 * recorded for. A relay's part also names its satellites' teachers, whose records are theirs. */
static int s_lists_school(const s_totals_t *s, const char *school) {
    size_t len = strlen(school);
    if (s->school && strcmp(s->school, school) == 0)
        return 1;
    for (size_t i = 0; i < s->nschools; i++)
        if (s->schools[i].len == len && memcmp(s->schools[i].ptr, school, len) == 0)
            return 1;
    return 0;
}

/* Opens the teacher's receipt envelope into s->receipt, verified; 0 (reported) when it fails
 * its check. */
static int s_receipt_open(s_totals_t *s, const char *teacher, size_t len, const xs_bytes_t *env) {
    xs_err err = xs_receipt_open(env->ptr, env->len, s->hub, s->receipt);
    if (err != XS_OK)
        xs_log_err(err, "教师 %.*s 的认定回执无效 (the teacher's receipt fails its check)",
                   (int)len, teacher);
    return err == XS_OK;
}

/* Loads and verifies the teacher's receipt into s->receipt; 0 when there is none. */
static int s_receipt(s_totals_t *s, const char *teacher, size_t len) {
    node_lane_t self = node_lane_self();
    xs_bytes_t env;
    if (!s->has_hub || node_lane_receipt_get(s->txn, &self, teacher, len, &env) != XS_OK)
        return 0;
    return s_receipt_open(s, teacher, len, &env);
}

/* The confirmed total matching row in s->receipt, or NULL. */
static const xs_receipt_total_t *s_confirmed(const s_totals_t *s, const xs_certify_total_t *row) {
    for (uint32_t i = 0; i < s->receipt->total_count; i++) {
        const xs_receipt_total_t *c = &s->receipt->totals[i];
        if (c->scope == row->scope && c->year == row->year && c->semester == row->semester &&
            c->bucket == row->bucket)
            return c;
    }
    return NULL;
}

static const char *const s_scope_zh[XS_SCOPE_COUNT] = {"学年", "学期", "周期"};

/* 1 when s->receipt says row's academic year is closed (定案, schema/year.md): its confirmed
 * figures are the county's final result for that year. */
static int s_closed(const s_totals_t *s, const xs_certify_total_t *row) {
    if (row->scope == XS_SCOPE_CYCLE)
        return 0;
    for (uint32_t i = 0; i < s->receipt->period_count; i++) {
        const xs_receipt_period_t *p = &s->receipt->periods[i];
        if (p->scope == XS_SCOPE_YEAR && p->year == row->year)
            return p->closed;
    }
    return 0;
}

/* "达标", "未达标", or with "(建议)" for an advisory requirement (credit-rules §6.4); "" where
 * nothing is required. */
static void s_met_label(unsigned met, unsigned binding, char *out, size_t cap) {
    if (met == XS_MET_NONE)
        snprintf(out, cap, "%s", "");
    else
        snprintf(out, cap, "%s%s", xs_certify_met_zh(met), binding ? "" : "(建议)");
}

/* Prints one teacher's rows; exempt: they are exempt (免于认定) in s->zero_year. */
static xs_err s_print(s_totals_t *s, const xs_certify_teacher_t *t, int exempt) {
    xs_certify_total_t *keep = malloc((t->total_count + 1) * sizeof *keep);
    if (!keep)
        return XS_ENOMEM;
    size_t n = xs_report_filter_year(s->policy, t->totals, t->total_count, s->year, keep);
    xs_err err = XS_OK;
    if (n == 0)
        goto out;
    s->shown++;
    xs_certify_teacher_t view = *t;
    view.totals = keep;
    view.total_count = n;
    const char *name = node_staff_name(s->staff, t->teacher_id.ptr, t->teacher_id.len);
    if (s->csv) {
        xs_str_t named = {name, (uint32_t)strlen(name)};
        err = xs_report_summary_teacher_named(stdout, s->policy, &view, NULL, &named,
                                              exempt ? s->zero_year : 0);
        goto out;
    }
    int confirmed = s_receipt(s, t->teacher_id.ptr, t->teacher_id.len);
    for (size_t i = 0; i < n; i++) {
        const xs_certify_total_t *row = &keep[i];
        const xs_receipt_total_t *c = confirmed ? s_confirmed(s, row) : NULL;
        char period[16], credited[24], required[24] = "-", final[24] = "-", met[40];
        char reason[XS_REPORT_REASON_MAX];
        if (c)
            xs_certify_format_hours(final, sizeof final, c->credited_seconds);
        if (row->scope == XS_SCOPE_SEMESTER)
            xs_policy_semester_label(row->year, row->semester, period);
        else if (row->scope == XS_SCOPE_CYCLE)
            xs_policy_cycle_label(s->policy, row->year, period);
        else
            xs_policy_year_label(row->year, period);
        xs_certify_format_hours(credited, sizeof credited, row->credited_seconds);
        if (row->required_seconds)
            xs_certify_format_hours(required, sizeof required, row->required_seconds);
        node_pad_n(t->teacher_id.ptr, t->teacher_id.len, 12);
        node_pad(name, 10);
        node_pad(s_scope_zh[row->scope % XS_SCOPE_COUNT], 6);
        node_pad(period, 13);
        node_pad(xs_policy_bucket_label(s->policy, row->bucket), 14);
        printf("%10s %10s  ", credited, required);
        int exempt_row = exempt && row->scope != XS_SCOPE_CYCLE && row->year == s->zero_year;
        s_met_label(exempt_row ? XS_MET_NONE : row->met, row->binding, met, sizeof met);
        node_pad(exempt_row ? "免于认定" : met, 12);
        printf("%10s  ", final);
        /* The reason beside the confirmed figures is the receipt's when there is one. */
        xs_certify_total_t shown = *row;
        if (c)
            xs_report_receipt_total(c, &shown);
        s_met_label(c ? c->met : XS_MET_NONE, c ? c->binding : 0, met, sizeof met);
        if (c && s_closed(s, row))
            snprintf(met + strlen(met), sizeof met - strlen(met), "%s定案", met[0] ? "·" : "");
        node_pad(met, 12);
        xs_report_total_reason(s->policy, &shown, reason, sizeof reason);
        if (exempt_row && !c)
            snprintf(reason, sizeof reason, "%s", XS_REPORT_EXEMPT);
        /* Under require_review the figure is provisional until the school approves. */
        if (row->unreviewed)
            printf("%s%s%u 条未经学校审核 (%u not yet approved by the school)\n", reason,
                   reason[0] ? "; " : "", row->unreviewed, row->unreviewed);
        else
            printf("%s\n", reason);
    }
out:
    free(keep);
    return err;
}

/* Whether the roster line e (NULL: not on the roster) makes its teacher exempt (免于认定) in
 * s->zero_year. */
static int s_exempt(const s_totals_t *s, const xs_staff_entry_t *e) {
    xs_standing_t st;
    return e && xs_standing_of(&st, s->policy, e, NULL, NULL, NULL, s->zero_year) == XS_OK &&
           st.state == XS_STANDING_EXEMPT;
}

/* Whether s selects teacher (len bytes): every teacher, or the one --teacher names. */
static int s_selects(const s_totals_t *s, const char *teacher, size_t len) {
    return !s->teacher || (len == strlen(s->teacher) && memcmp(teacher, s->teacher, len) == 0);
}

/* Prints, in s->zero_year, the rostered teachers before teacher (len bytes; NULL: all that
 * are left) that have no records here: 0 in every row, not met where something is required,
 * exempt (免于认定) when in service under half the year. Skips teacher itself. */
static xs_err s_absent_before(s_totals_t *s, const char *teacher, size_t len) {
    xs_err err = XS_OK;
    while (err == XS_OK && s->staff && s->next_staff < s->staff->count) {
        const xs_staff_entry_t *e = &s->staff->entries[s->next_staff];
        size_t elen = strlen(e->teacher_id);
        if (teacher) {
            int cmp = memcmp(e->teacher_id, teacher, elen < len ? elen : len);
            if (cmp > 0 || (cmp == 0 && elen >= len)) {
                s->next_staff += cmp == 0 && elen == len; /* has records: printed by the run */
                return XS_OK;
            }
        }
        s->next_staff++;
        if (!s_selects(s, e->teacher_id, elen) || !s_lists_school(s, e->school_id))
            continue;
        xs_certify_total_t totals[3 * XS_POLICY_BUCKETS_MAX];
        xs_certify_teacher_t view = {{e->teacher_id, (uint32_t)elen}, NULL, 0, totals, 0};
        view.total_count = xs_standing_zero_totals(s->policy, s->zero_year, totals,
                                                   sizeof totals / sizeof totals[0]);
        err = s_print(s, &view, s_exempt(s, e));
    }
    return err;
}

static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *t) {
    s_totals_t *s = ctx;
    xs_err err = s_absent_before(s, t->teacher_id.ptr, t->teacher_id.len);
    if (err != XS_OK || !s_selects(s, t->teacher_id.ptr, t->teacher_id.len))
        return err;
    const xs_staff_entry_t *e = s->staff && s->staff->count
                                    ? xs_staff_find(s->staff, t->teacher_id.ptr, t->teacher_id.len)
                                    : NULL;
    return s_print(s, t, s_exempt(s, e));
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

/* Gathers into s->schools the distinct school_ids of the ledger's records. */
static xs_err s_record_schools(s_totals_t *s, const node_recordset_t *l) {
    for (size_t i = 0; i < l->count; i++) {
        const xs_str_t *id = &l->records[i].school_id;
        size_t k = 0;
        while (k < s->nschools &&
               !(s->schools[k].len == id->len && memcmp(s->schools[k].ptr, id->ptr, id->len) == 0))
            k++;
        if (k < s->nschools || !id->len)
            continue;
        if (s->nschools == s->schools_cap) {
            size_t cap = s->schools_cap ? s->schools_cap * 2 : 8;
            void *grown = realloc(s->schools, cap * sizeof *s->schools);
            if (!grown)
                return XS_ENOMEM;
            s->schools = grown;
            s->schools_cap = cap;
        }
        s->schools[s->nschools++] = *id;
    }
    return XS_OK;
}

/* Certifies the ledger under s->policy and prints each teacher's provisional totals. */
static xs_err s_provisional(s_totals_t *s, const node_recordset_t *l) {
    xs_certify_row_t *rows = NULL;
    xs_err schools = s_record_schools(s, l);
    if (schools != XS_OK)
        return schools;
    if (l->count && !(rows = malloc(l->count * sizeof *rows)))
        return XS_ENOMEM;
    xs_err err = s_begin(s);
    if (err == XS_OK)
        err = xs_certify_run(s->policy, NULL, l->records, l->ids, l->count, NULL, rows,
                             s_on_teacher, s);
    if (err == XS_OK)
        err = s_absent_before(s, NULL, 0);
    if (err == XS_OK && !s->csv && s->shown == 0)
        printf("（没有符合条件的记录 no matching records）\n");
    free(rows);
    return err;
}

int node_cmd_totals(int argc, char **argv) {
    node_t node;
    xs_policy_t *policy = NULL;
    xs_staff_t staff = {0};
    xs_txn_t *txn = NULL;
    node_recordset_t ledger = {0};
    s_totals_t s = {0};
    const char *dir = NULL;
    int rc = 1, confirmed_csv = 0;
    if (s_parse(argc, argv, &s, &dir, &confirmed_csv) != XS_OK)
        return 2;
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    err = node_policy(&node, &policy);
    if (err == XS_ENOTFOUND)
        xs_log("节点尚未设置认定规则 (no policy set): xueshi-node policy --dir %s FILE.ini",
               node.dir);
    if (err != XS_OK) {
        rc = node_exit_code(err, dir);
        goto out;
    }
    s.policy = policy;
    /* Names come from the roster part; without one (or unreadable: said) they are empty. */
    if (node_staff_load(&node, &staff) != XS_OK)
        memset(&staff, 0, sizeof staff);
    s.staff = &staff;
    s.school = node.school;
    /* A rostered teacher without records shows in --year, else in today's academic year. */
    s.zero_year = s.year ? s.year : xs_policy_year_of(policy, (int32_t)(time(NULL) / 86400), NULL);
    /* Records borrow from the read snapshot, which stays open until the ledger is printed. */
    if (!(s.receipt = malloc(sizeof *s.receipt)))
        err = XS_ENOMEM;
    if (err == XS_OK)
        err = xs_store_read(node.store, &txn);
    if (err == XS_OK) {
        s.txn = txn;
        s.has_hub = node_county_key(txn, s.hub) == XS_OK;
        if (confirmed_csv)
            err = s_confirmed_csv(&s);
        else if ((err = node_recordset_load(txn, &ledger)) == XS_OK)
            err = s_provisional(&s, &ledger);
    }
    if (err != XS_OK) {
        xs_log_err(err, "计算暂定学时 (computing provisional totals)");
        rc = node_exit_code(err, dir);
    } else if (fflush(stdout) != 0) {
        rc = 1;
    } else {
        rc = ledger.corrupted ? node_exit_code(XS_ECORRUPT, dir) : 0;
    }
out:
    node_recordset_free(&ledger);
    free(s.receipt);
    free(s.schools);
    xs_store_end(&txn);
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
    node_close(&node);
    return rc;
}
