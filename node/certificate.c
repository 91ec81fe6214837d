/* certificate: one teacher's 学时证明 from what the node holds: the hub's receipt when it covers
 * the year, else the node's own records (暂定). */
#include "certificate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanes.h"
#include "recordset.h"
#include "staff.h"
#include "xs/certificate.h"
#include "xs/receipt.h"
#include "xs/report.h"
#include "xs/standing.h"
#include "xs/text.h"

/* What the engine's walk keeps of the one teacher asked for. */
typedef struct s_teacher {
    const char *id;    /* the teacher asked for */
    size_t len;        /* its bytes */
    int found;         /* 1 once the engine handed them over */
    uint32_t *records; /* their records' indices in the ledger (owned) */
    size_t record_count;
    xs_certify_total_t *totals; /* their totals (owned) */
    size_t total_count;
} s_teacher_t;

/* The engine's callback: copies the teacher's ledger, which is valid during the call only. */
static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *t) {
    s_teacher_t *want = ctx;
    if (t->teacher_id.len != want->len || memcmp(t->teacher_id.ptr, want->id, want->len) != 0)
        return XS_OK;
    want->records = malloc((t->record_count + 1) * sizeof *want->records);
    want->totals = malloc((t->total_count + 1) * sizeof *want->totals);
    if (!want->records || !want->totals)
        return XS_ENOMEM;
    memcpy(want->records, t->records, t->record_count * sizeof *want->records);
    memcpy(want->totals, t->totals, t->total_count * sizeof *want->totals);
    want->record_count = t->record_count;
    want->total_count = t->total_count;
    want->found = 1;
    return XS_OK;
}

/* The teacher's receipt, when it can be printed: verified against the county key, of the
 * node's policy (policy_hash), with a period of year. Opens it into *r and returns its
 * envelope (borrowed from txn; *len its bytes) and *closed; else NULL with *why said. */
static const uint8_t *s_receipt(xs_txn_t *txn, const uint8_t policy_hash[XS_HASH_BYTES],
                                const char *teacher, size_t teacher_len, int year, xs_receipt_t *r,
                                size_t *len, int *closed, const char **why) {
    node_county_keys_t county;
    node_lane_t self = node_lane_self();
    xs_bytes_t env;
    if (node_county_keys(txn, &county) != XS_OK) {
        *why = "本节点尚未设置县级中心 (the node has no hub)";
        return NULL;
    }
    if (node_lane_receipt_get(txn, &self, teacher, teacher_len, &env) != XS_OK) {
        *why = "本节点还没有该教师的认定回执，请先同步 (no receipt from the hub yet: sync first)";
        return NULL;
    }
    xs_err err = node_receipt_open(&county, env.ptr, env.len, r);
    if (err != XS_OK) {
        xs_log_err(err, "教师 %s 的认定回执无效 (the teacher's receipt fails its check)", teacher);
        *why = "认定回执无法核验 (the receipt fails its check)";
        return NULL;
    }
    if (memcmp(r->policy_hash, policy_hash, XS_HASH_BYTES) != 0) {
        *why = "认定回执按另一版认定规则签发，请先同步 (the receipt is of another policy: sync "
               "first)";
        return NULL;
    }
    for (uint32_t i = 0; i < r->period_count; i++) {
        const xs_receipt_period_t *p = &r->periods[i];
        if (p->scope == XS_SCOPE_YEAR && p->year == year) {
            *closed = p->closed;
            *len = env.len;
            return env.ptr;
        }
    }
    *why = "认定回执不含该学年，请先同步 (the receipt does not cover that year: sync first)";
    return NULL;
}

/* An activity with what orders the list: its date, then its sequence number. */
typedef struct s_dated {
    int32_t date;
    uint64_t seq;
    uint32_t index; /* in the ledger */
} s_dated_t;

static int s_dated_cmp(const void *a, const void *b) {
    const s_dated_t *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The teacher's credited activities of the year, by date, into *out (owned; *count of them). */
static xs_err s_activities(const node_recordset_t *l, const xs_certify_row_t *rows,
                           const s_teacher_t *t, int year, xs_certificate_activity_t **out,
                           size_t *count) {
    s_dated_t *dated = malloc((t->record_count + 1) * sizeof *dated);
    *out = malloc((t->record_count + 1) * sizeof **out);
    *count = 0;
    if (!dated || !*out) {
        free(dated);
        return XS_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->record_count; i++) {
        uint32_t idx = t->records[i];
        if (rows[idx].status == XS_CERT_CREDITED && rows[idx].year == year)
            dated[n++] = (s_dated_t){l->records[idx].date, l->ids[idx], idx};
    }
    qsort(dated, n, sizeof *dated, s_dated_cmp);
    for (size_t i = 0; i < n; i++)
        xs_certificate_activity_of(&l->records[dated[i].index], &rows[dated[i].index], &(*out)[i]);
    *count = n;
    free(dated);
    return XS_OK;
}

/* The conclusion a standing states. */
static uint8_t s_conclusion(const xs_standing_t *st) {
    if (st->state == XS_STANDING_EXEMPT)
        return XS_CERTIFICATE_EXEMPT;
    return st->met == XS_MET_YES  ? XS_CERTIFICATE_MET
           : st->met == XS_MET_NO ? XS_CERTIFICATE_NOT_MET
                                  : XS_CERTIFICATE_NONE;
}

/* The day (days since 1970-01-01, local time) of a unix time. */
static int32_t s_day(int64_t unix_seconds) {
    time_t when = (time_t)unix_seconds;
    struct tm tm;
    if (!localtime_r(&when, &tm))
        return (int32_t)(unix_seconds / 86400);
    return xs_date_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

/* The school the page names: the roster's, else that of the teacher's latest record, else the
 * node's own. */
static xs_str_t s_school(const node_t *node, const xs_staff_entry_t *entry,
                         const node_recordset_t *l, const s_teacher_t *t) {
    if (entry)
        return (xs_str_t){entry->school_id, (uint32_t)strlen(entry->school_id)};
    for (size_t i = t->record_count; i-- > 0;)
        if (l->records[t->records[i]].school_id.len)
            return l->records[t->records[i]].school_id;
    return (xs_str_t){node->school, (uint32_t)strlen(node->school)};
}

xs_err node_certificate_write(node_t *node, const xs_policy_t *policy, const xs_staff_t *staff,
                              const char *teacher, int year, const char *path,
                              node_certificate_info_t *info) {
    xs_txn_t *txn = NULL;
    node_recordset_t ledger = {0};
    xs_certify_row_t *rows = NULL;
    s_teacher_t t = {teacher, strlen(teacher), 0, NULL, 0, NULL, 0};
    xs_receipt_t *receipt = malloc(sizeof *receipt);
    xs_certify_total_t *converted = NULL, *keep = NULL;
    xs_certificate_activity_t *activities = NULL;
    xs_certificate_t *doc = NULL;
    uint8_t policy_hash[XS_HASH_BYTES];
    char reason[XS_REPORT_REASON_MAX];
    memset(info, 0, sizeof *info);
    info->provisional = 1;
    xs_err err = receipt ? xs_policy_hash(policy, policy_hash) : XS_ENOMEM;
    if (err == XS_OK)
        err = xs_store_read(node->store, &txn);
    if (err == XS_OK)
        err = node_recordset_load(txn, &ledger);
    if (err == XS_OK && !(rows = malloc((ledger.count + 1) * sizeof *rows)))
        err = XS_ENOMEM;
    /* The whole ledger, as exams rank among every teacher's; totals of the year and its cycle. */
    xs_certify_opts_t opts = {year, year};
    if (err == XS_OK)
        err = xs_certify_run(policy, NULL, ledger.records, ledger.ids, ledger.count, &opts, rows,
                             s_on_teacher, &t);
    if (err != XS_OK)
        goto out;
    if (ledger.corrupted) {
        err = XS_ECORRUPT;
        goto out;
    }
    const xs_staff_entry_t *entry =
        staff && staff->count ? xs_staff_find(staff, t.id, t.len) : NULL;
    if (!t.found && !entry) {
        err = XS_ENOTFOUND;
        goto out;
    }
    /* A rostered teacher without records here: the zero rows the engine would give. */
    if (!t.found) {
        size_t cap = 3 * XS_POLICY_BUCKETS_MAX + 1;
        if (!(t.totals = malloc(cap * sizeof *t.totals))) {
            err = XS_ENOMEM;
            goto out;
        }
        t.total_count = xs_standing_zero_totals(policy, year, t.totals, cap);
    }
    int closed = 0;
    size_t env_len = 0;
    const uint8_t *env =
        s_receipt(txn, policy_hash, t.id, t.len, year, receipt, &env_len, &closed, &info->why);
    size_t rows_in = env ? receipt->total_count : t.total_count;
    converted = malloc((rows_in + 1) * sizeof *converted);
    keep = malloc((rows_in + 1) * sizeof *keep);
    if (!converted || !keep) {
        err = XS_ENOMEM;
        goto out;
    }
    if (env) {
        for (uint32_t i = 0; i < receipt->total_count; i++)
            xs_report_receipt_total(&receipt->totals[i], &converted[i]);
    } else {
        memcpy(converted, t.totals, t.total_count * sizeof *converted);
    }
    size_t kept = xs_report_filter_year(policy, converted, rows_in, year, keep);
    /* Judged as the county does, on the figures printed. */
    xs_certify_teacher_t view = {{t.id, (uint32_t)t.len}, t.records, t.record_count, keep, kept};
    xs_standing_t standing;
    uint8_t conclusion = XS_CERTIFICATE_NONE;
    reason[0] = '\0';
    if (xs_standing_of(&standing, policy, entry, &view, ledger.records, rows, year) == XS_OK) {
        conclusion = s_conclusion(&standing);
        xs_standing_reason(policy, &standing, &view, year, reason, sizeof reason);
    }
    size_t activity_count;
    if ((err = s_activities(&ledger, rows, &t, year, &activities, &activity_count)) != XS_OK)
        goto out;
    const char *name = node_staff_name(staff, t.id, t.len);
    xs_certificate_page_t page = {
        .policy = policy,
        .teacher_id = {t.id, (uint32_t)t.len},
        .teacher_name = {name, (uint32_t)strlen(name)},
        .school_id = s_school(node, entry, &ledger, &t),
        .year = year,
        .totals = keep,
        .total_count = kept,
        .conclusion = conclusion,
        .reason = reason,
        .activities = activities,
        .activity_count = activity_count,
        .issued = env ? s_day(receipt->issued_at) : xs_date_today(),
        .receipt = env,
        .receipt_len = env_len,
        .closed = closed,
    };
    info->provisional = env == NULL;
    info->conclusion = conclusion;
    info->activities = activity_count;
    info->receipt_len = env_len;
    if ((err = xs_certificate_begin(&doc, path)) == XS_OK &&
        (err = xs_certificate_add(doc, &page)) == XS_OK)
        err = xs_certificate_end(&doc);
    xs_certificate_abandon(&doc);
out:
    xs_store_end(&txn);
    free(activities);
    free(keep);
    free(converted);
    free(t.records);
    free(t.totals);
    free(rows);
    free(receipt);
    node_recordset_free(&ledger);
    return err;
}
