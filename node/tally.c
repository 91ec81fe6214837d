/* tally: each teacher's provisional and confirmed credit on this node, and what is missing. */
#include "tally.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "recordset.h"
#include "xs/receipt.h"
#include "xs/report.h"
#include "xs/standing.h"

/* One run: what it selects, the snapshot it reads, and where the roster walk stands. */
typedef struct s_tally {
    const xs_policy_t *policy;
    const xs_staff_t *staff; /* the node's part of the roster; NULL or zeroed: none */
    const char *teacher;     /* only this teacher, or NULL */
    int year;                /* only this academic year, or 0 */
    int zero_year;           /* the year a rostered teacher without records is shown in */
    const char *school;      /* the node's own school */
    xs_txn_t *txn;           /* the snapshot receipts are read from */
    int has_hub;             /* 1 when the node knows the county key */
    node_county_keys_t hub;  /* the county's signing keys: receipts must verify against one */
    xs_receipt_t *receipt;   /* scratch */
    size_t next_staff;       /* the roster entries before it are handed out (by teacher_id) */
    xs_str_t *schools;       /* the schools the node's records are of (a central school may
                                record for others): whose rostered teachers are listed */
    size_t nschools, schools_cap;
    node_tally_fn fn;
    void *ctx;
    node_tally_summary_t *sum;
} s_tally_t;

/* Whether rostered teachers of school are this node's to list: its own school, or one it has
 * recorded for. A relay's part also names its satellites' teachers, whose records are theirs. */
static int s_lists_school(const s_tally_t *s, const char *school) {
    size_t len = strlen(school);
    if (s->school && strcmp(s->school, school) == 0)
        return 1;
    for (size_t i = 0; i < s->nschools; i++)
        if (s->schools[i].len == len && memcmp(s->schools[i].ptr, school, len) == 0)
            return 1;
    return 0;
}

/* Loads and verifies the teacher's receipt into s->receipt: 1 when it verifies, 0 when there is
 * none, -1 when one is held that fails its check. */
static int s_receipt(s_tally_t *s, const char *teacher, size_t len) {
    node_lane_t self = node_lane_self();
    xs_bytes_t env;
    if (!s->has_hub || node_lane_receipt_get(s->txn, &self, teacher, len, &env) != XS_OK)
        return 0;
    return node_receipt_open(&s->hub, env.ptr, env.len, s->receipt) == XS_OK ? 1 : -1;
}

/* The confirmed total matching row in s->receipt, or NULL. */
static const xs_receipt_total_t *s_confirmed(const s_tally_t *s, const xs_certify_total_t *row) {
    for (uint32_t i = 0; i < s->receipt->total_count; i++) {
        const xs_receipt_total_t *c = &s->receipt->totals[i];
        if (c->scope == row->scope && c->year == row->year && c->semester == row->semester &&
            c->bucket == row->bucket)
            return c;
    }
    return NULL;
}

/* 1 when s->receipt says row's academic year is closed (定案, schema/year.md). */
static int s_closed(const s_tally_t *s, const xs_certify_total_t *row) {
    if (row->scope == XS_SCOPE_CYCLE)
        return 0;
    for (uint32_t i = 0; i < s->receipt->period_count; i++) {
        const xs_receipt_period_t *p = &s->receipt->periods[i];
        if (p->scope == XS_SCOPE_YEAR && p->year == row->year)
            return p->closed;
    }
    return 0;
}

/* Hands out one teacher: their rows of the year asked, with the receipt's beside them. */
static xs_err s_emit(s_tally_t *s, const xs_certify_teacher_t *t, int exempt, int has_records) {
    xs_certify_total_t *keep = malloc((t->total_count + 1) * sizeof *keep);
    node_tally_row_t *rows = malloc((t->total_count + 1) * sizeof *rows);
    xs_err err = keep && rows ? XS_OK : XS_ENOMEM;
    size_t n = err == XS_OK
                   ? xs_report_filter_year(s->policy, t->totals, t->total_count, s->year, keep)
                   : 0;
    if (err != XS_OK || n == 0)
        goto out;
    int receipt = s_receipt(s, t->teacher_id.ptr, t->teacher_id.len);
    node_tally_teacher_t view = {
        s->policy, t->teacher_id, "", has_records, receipt == 1, receipt < 0, exempt, rows, n};
    if (s->staff && s->staff->count) {
        const xs_staff_entry_t *e = xs_staff_find(s->staff, t->teacher_id.ptr, t->teacher_id.len);
        view.name = e ? e->name : "";
    }
    for (size_t i = 0; i < n; i++) {
        node_tally_row_t *r = &rows[i];
        const xs_certify_total_t *p = &keep[i];
        const xs_receipt_total_t *c = receipt == 1 ? s_confirmed(s, p) : NULL;
        memset(r, 0, sizeof *r);
        r->provisional = *p;
        if (c) {
            r->has_confirmed = 1;
            xs_report_receipt_total(c, &r->confirmed);
            r->closed = s_closed(s, p);
        }
        r->exempt = exempt && p->scope != XS_SCOPE_CYCLE && p->year == s->zero_year;
        if (p->scope == XS_SCOPE_SEMESTER)
            xs_policy_semester_label(p->year, p->semester, r->period);
        else if (p->scope == XS_SCOPE_CYCLE)
            xs_policy_cycle_label(s->policy, p->year, r->period);
        else
            xs_policy_year_label(p->year, r->period);
        r->bucket = xs_policy_bucket_label(s->policy, p->bucket);
        if (!r->exempt && p->met == XS_MET_NO && p->required_seconds > p->credited_seconds)
            r->missing_seconds = p->required_seconds - p->credited_seconds;
    }
    if (s->sum) {
        s->sum->teachers++;
        s->sum->bad_receipts += receipt < 0;
    }
    err = s->fn(s->ctx, &view);
out:
    free(keep);
    free(rows);
    return err;
}

/* Whether the roster line e (NULL: not on the roster) makes its teacher exempt (免于认定) in
 * s->zero_year. */
static int s_exempt(const s_tally_t *s, const xs_staff_entry_t *e) {
    xs_standing_t st;
    return e && xs_standing_of(&st, s->policy, e, NULL, NULL, NULL, s->zero_year) == XS_OK &&
           st.state == XS_STANDING_EXEMPT;
}

/* Whether s selects teacher (len bytes): every teacher, or the one asked for. */
static int s_selects(const s_tally_t *s, const char *teacher, size_t len) {
    return !s->teacher || (len == strlen(s->teacher) && memcmp(teacher, s->teacher, len) == 0);
}

/* Hands out, in s->zero_year, the rostered teachers before teacher (len bytes; NULL: all that
 * are left) that have no records here: 0 in every row, not met where something is required,
 * exempt when in service under half the year. Skips teacher itself. */
static xs_err s_absent_before(s_tally_t *s, const char *teacher, size_t len) {
    xs_err err = XS_OK;
    while (err == XS_OK && s->staff && s->next_staff < s->staff->count) {
        const xs_staff_entry_t *e = &s->staff->entries[s->next_staff];
        size_t elen = strlen(e->teacher_id);
        if (teacher) {
            int cmp = memcmp(e->teacher_id, teacher, elen < len ? elen : len);
            if (cmp > 0 || (cmp == 0 && elen >= len)) {
                s->next_staff += cmp == 0 && elen == len; /* has records: handed out by the run */
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
        err = s_emit(s, &view, s_exempt(s, e), 0);
    }
    return err;
}

static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *t) {
    s_tally_t *s = ctx;
    xs_err err = s_absent_before(s, t->teacher_id.ptr, t->teacher_id.len);
    if (err != XS_OK || !s_selects(s, t->teacher_id.ptr, t->teacher_id.len))
        return err;
    const xs_staff_entry_t *e = s->staff && s->staff->count
                                    ? xs_staff_find(s->staff, t->teacher_id.ptr, t->teacher_id.len)
                                    : NULL;
    return s_emit(s, t, s_exempt(s, e), 1);
}

/* Gathers into s->schools the distinct school_ids of the ledger's records. */
static xs_err s_record_schools(s_tally_t *s, const node_recordset_t *l) {
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

xs_err node_tally_run(node_t *node, const xs_policy_t *policy, const xs_staff_t *staff,
                      const node_tally_opts_t *opts, node_tally_fn fn, void *ctx,
                      node_tally_summary_t *sum) {
    node_tally_summary_t local;
    node_recordset_t ledger = {0};
    xs_certify_row_t *rows = NULL;
    s_tally_t s;
    memset(&s, 0, sizeof s);
    if (!sum)
        sum = &local;
    memset(sum, 0, sizeof *sum);
    s.policy = policy;
    s.staff = staff;
    s.teacher = opts ? opts->teacher : NULL;
    s.year = opts ? opts->year : 0;
    s.school = node->school;
    s.fn = fn;
    s.ctx = ctx;
    s.sum = sum;
    /* A rostered teacher without records shows in the year asked, else in now's. */
    int64_t now = opts ? opts->now : 0;
    s.zero_year = s.year ? s.year : xs_policy_year_of(policy, (int32_t)(now / 86400), NULL);
    xs_err err = (s.receipt = malloc(sizeof *s.receipt)) ? XS_OK : XS_ENOMEM;
    /* Records borrow from the read snapshot, which stays open until every teacher is out. */
    if (err == XS_OK)
        err = xs_store_read(node->store, &s.txn);
    if (err == XS_OK) {
        s.has_hub = node_county_keys(s.txn, &s.hub) == XS_OK;
        sum->has_hub = s.has_hub;
        err = node_recordset_load(s.txn, &ledger);
    }
    if (err == XS_OK)
        err = s_record_schools(&s, &ledger);
    if (err == XS_OK && ledger.count && !(rows = malloc(ledger.count * sizeof *rows)))
        err = XS_ENOMEM;
    if (err == XS_OK)
        err = xs_certify_run(policy, NULL, ledger.records, ledger.ids, ledger.count, NULL, rows,
                             s_on_teacher, &s);
    if (err == XS_OK)
        err = s_absent_before(&s, NULL, 0);
    sum->corrupted = ledger.corrupted > 0;
    free(rows);
    node_recordset_free(&ledger);
    xs_store_end(&s.txn);
    free(s.receipt);
    free(s.schools);
    return err;
}

/* Appends to out (cap bytes, *n used) fmt's text, cut at a whole character to fit. */
__attribute__((format(printf, 4, 5))) static void s_cat(char *out, size_t cap, size_t *n,
                                                        const char *fmt, ...) {
    va_list ap;
    if (*n + 1 >= cap)
        return;
    va_start(ap, fmt);
    int w = vsnprintf(out + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    if ((size_t)w < cap - *n) {
        *n += (size_t)w;
        return;
    }
    size_t end = cap - 1;
    while (end > *n && ((unsigned char)out[end] & 0xc0) == 0x80)
        end--;
    out[end] = '\0';
    *n = end;
}

/* Appends what row lacks, provisionally; 0 when it lacks nothing. */
static int s_missing_row(const node_tally_teacher_t *t, const node_tally_row_t *r, char *out,
                         size_t cap, size_t *n) {
    const xs_certify_total_t *p = &r->provisional;
    if (r->exempt || p->met != XS_MET_NO)
        return 0;
    const char *advisory = p->binding ? "" : "(建议)";
    s_cat(out, cap, n, "%s%s %s", *n ? "；" : "", r->bucket ? r->bucket : "", r->period);
    if (r->missing_seconds) {
        char hours[24];
        xs_certify_format_hours(hours, sizeof hours, r->missing_seconds);
        s_cat(out, cap, n, " 还差 %s 学时", hours);
    }
    if (p->why & XS_WHY_SINGLE_MISSING) {
        char reason[256];
        xs_certify_total_t single = *p;
        single.why = XS_WHY_SINGLE_MISSING;
        size_t len = xs_certify_total_reason(t->policy, &single, reason, sizeof reason);
        const char *code = "single_missing ";
        const char *text = reason;
        if (len > strlen(code) && memcmp(reason, code, strlen(code)) == 0)
            text += strlen(code);
        s_cat(out, cap, n, " %s", text);
    }
    s_cat(out, cap, n, "%s", advisory);
    return 1;
}

size_t node_tally_missing_text(const node_tally_teacher_t *teacher, char *out, size_t cap) {
    size_t n = 0;
    int required = 0, exempt = 0, short_ = 0;
    if (!cap)
        return 0;
    out[0] = '\0';
    for (size_t i = 0; i < teacher->count; i++) {
        const node_tally_row_t *r = &teacher->rows[i];
        if (r->provisional.met == XS_MET_NONE)
            continue;
        required = 1;
        exempt |= r->exempt;
    }
    /* Binding requirements first, then advisory ones. */
    for (int pass = 1; pass >= 0; pass--)
        for (size_t i = 0; i < teacher->count; i++)
            if (teacher->rows[i].provisional.binding == pass)
                short_ |= s_missing_row(teacher, &teacher->rows[i], out, cap, &n);
    if (!short_)
        s_cat(out, cap, &n, "%s",
              !required                   ? "-"
              : exempt && teacher->exempt ? "免于认定"
                                          : "已达标");
    return n;
}
