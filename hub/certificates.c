/* certificates: the county's 学时证明, a page per teacher of the summary walk (hub/summary.h),
 * each with its receipt's QR code when the receipt certifies the page's figures. */
#include "certificates.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "issue.h"
#include "ledger.h"
#include "summary.h"
#include "year.h"
#include "xs/certificate.h"
#include "xs/receipt.h"
#include "xs/report.h"
#include "xs/text.h"

/* One walk's state. */
typedef struct s_run {
    hub_t *hub;
    xs_txn_t *txn;
    int year;
    const char *teacher; /* only this teacher, or NULL */
    size_t teacher_len;
    const char *path;      /* where the PDF goes */
    xs_certificate_t *doc; /* begun at the first page: no match, no file */
    hub_certificates_stats_t *stats;
    xs_writer_t signed_receipt;    /* the teacher's receipt, signed for the page's QR code */
    xs_receipt_t *receipt;         /* scratch: that receipt, opened */
    xs_certify_total_t *converted; /* scratch: its totals (XS_RECEIPT_TOTALS_MAX) */
    xs_certify_total_t *kept;      /* scratch: those of the year */
    hub_ledger_t closed;           /* a closed year's teacher's records, for their activities */
    xs_certificate_activity_t *activities;
    uint64_t *activity_ids; /* each activity's record id, for the order of equal dates */
    size_t activities_cap;
    const xs_policy_t *hashed; /* the policy policy_hash is of */
    uint8_t policy_hash[XS_HASH_BYTES];
} s_run_t;

/* Room for n activities. */
static xs_err s_room(s_run_t *r, size_t n) {
    if (n <= r->activities_cap)
        return XS_OK;
    xs_certificate_activity_t *a = realloc(r->activities, n * sizeof *a);
    if (a)
        r->activities = a;
    uint64_t *ids = realloc(r->activity_ids, n * sizeof *ids);
    if (ids)
        r->activity_ids = ids;
    if (!a || !ids)
        return XS_ENOMEM;
    r->activities_cap = n;
    return XS_OK;
}

/* Sorts the n activities by date, then record id (insertion: one teacher's year is short). */
static void s_sort(s_run_t *r, size_t n) {
    for (size_t i = 1; i < n; i++) {
        xs_certificate_activity_t a = r->activities[i];
        uint64_t id = r->activity_ids[i];
        size_t k = i;
        while (k > 0 && (r->activities[k - 1].date > a.date ||
                         (r->activities[k - 1].date == a.date && r->activity_ids[k - 1] > id))) {
            r->activities[k] = r->activities[k - 1];
            r->activity_ids[k] = r->activity_ids[k - 1];
            k--;
        }
        r->activities[k] = a;
        r->activity_ids[k] = id;
    }
}

/* The teacher's credited activities of the year into r->activities; *count of them. Live: the
 * summary's ledger and rows. Closed: the teacher's records with the rows the year froze. */
static xs_err s_activities(s_run_t *r, const hub_summary_teacher_t *t, size_t *count) {
    const hub_ledger_t *l = t->ledger;
    size_t n = 0;
    xs_err err = XS_OK;
    *count = 0;
    if (t->closed) {
        err = hub_ledger_teacher(&r->closed, r->txn, t->teacher_id.ptr, t->teacher_id.len);
        if (err != XS_OK)
            return err;
        l = &r->closed;
    }
    if (!l)
        return XS_OK;
    if ((err = s_room(r, l->count + 1)) != XS_OK)
        return err;
    for (size_t i = 0; i < l->count; i++) {
        xs_certify_row_t row;
        if (t->closed) {
            uint8_t status;
            uint32_t credited;
            err = hub_year_frozen(r->txn, r->year, l->origins[i], l->seqs[i], &status, &credited);
            if (err == XS_ENOTFOUND)
                continue;
            if (err != XS_OK)
                return err;
            memset(&row, 0, sizeof row);
            row.status = status;
            row.credited_seconds = credited;
            row.year = (int16_t)r->year;
        } else {
            row = l->rows[i];
        }
        if (l->records[i].kind != XS_KIND_ACTIVITY || row.status != XS_CERT_CREDITED ||
            row.year != r->year)
            continue;
        xs_certificate_activity_of(&l->records[i], &row, &r->activities[n]);
        r->activity_ids[n++] = l->ids[i];
    }
    s_sort(r, n);
    *count = n;
    return XS_OK;
}

/* Whether two lists of totals give the same figures, row for row. */
static int s_same_totals(const xs_certify_total_t *a, size_t na, const xs_certify_total_t *b,
                         size_t nb) {
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i].scope != b[i].scope || a[i].year != b[i].year || a[i].semester != b[i].semester ||
            a[i].bucket != b[i].bucket || a[i].credited_seconds != b[i].credited_seconds ||
            a[i].required_seconds != b[i].required_seconds || a[i].met != b[i].met)
            return 0;
    return 1;
}

/* The teacher's receipt when it certifies the page: signed now from the certification state
 * (hub_issue_one, when the hub is opened with keys), of the policy the teacher is judged by,
 * with the year, giving the summary's rows of the year. Its envelope (in r->signed_receipt;
 * *len) and *closed, or NULL. */
static const uint8_t *s_receipt(s_run_t *r, const hub_summary_teacher_t *t, size_t *len,
                                int *closed) {
    if (!r->hub->id)
        return NULL;
    xs_writer_reset(&r->signed_receipt);
    xs_err err =
        hub_issue_one(r->hub, r->txn, t->teacher_id.ptr, t->teacher_id.len, &r->signed_receipt);
    if (err == XS_OK)
        err = xs_receipt_open(r->signed_receipt.data, r->signed_receipt.len,
                              xs_identity_public(r->hub->id)->sign, r->receipt);
    if (err != XS_OK) {
        if (err != XS_ENOTFOUND)
            xs_log_err(err, "教师 %.*s 的认定回执无法签发 (the teacher's receipt cannot be issued)",
                       (int)t->teacher_id.len, t->teacher_id.ptr);
        return NULL;
    }
    if (r->hashed != t->policy) {
        if (xs_policy_hash(t->policy, r->policy_hash) != XS_OK)
            return NULL;
        r->hashed = t->policy;
    }
    if (memcmp(r->receipt->policy_hash, r->policy_hash, XS_HASH_BYTES) != 0)
        return NULL;
    const xs_receipt_period_t *period = NULL;
    for (uint32_t i = 0; i < r->receipt->period_count && !period; i++)
        if (r->receipt->periods[i].scope == XS_SCOPE_YEAR && r->receipt->periods[i].year == r->year)
            period = &r->receipt->periods[i];
    if (!period)
        return NULL;
    for (uint32_t i = 0; i < r->receipt->total_count; i++)
        xs_report_receipt_total(&r->receipt->totals[i], &r->converted[i]);
    size_t kept =
        xs_report_filter_year(t->policy, r->converted, r->receipt->total_count, r->year, r->kept);
    if (!s_same_totals(r->kept, kept, t->teacher->totals, t->teacher->total_count))
        return NULL;
    *closed = period->closed;
    *len = r->signed_receipt.len;
    return r->signed_receipt.data;
}

/* The day (days since 1970-01-01, local time) of a unix time. */
static int32_t s_day(int64_t unix_seconds) {
    time_t when = (time_t)unix_seconds;
    struct tm tm;
    if (!localtime_r(&when, &tm))
        return (int32_t)(unix_seconds / 86400);
    return xs_date_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

static uint8_t s_conclusion(const xs_standing_t *st) {
    if (st->state == XS_STANDING_EXEMPT)
        return XS_CERTIFICATE_EXEMPT;
    return st->met == XS_MET_YES  ? XS_CERTIFICATE_MET
           : st->met == XS_MET_NO ? XS_CERTIFICATE_NOT_MET
                                  : XS_CERTIFICATE_NONE;
}

/* The walk's callback: one page per teacher asked for. */
static xs_err s_page(void *ctx, const hub_summary_teacher_t *t) {
    s_run_t *r = ctx;
    char reason[XS_REPORT_REASON_MAX];
    size_t activity_count, env_len = 0;
    int closed = 0;
    if (r->teacher && (t->teacher_id.len != r->teacher_len ||
                       memcmp(t->teacher_id.ptr, r->teacher, r->teacher_len) != 0))
        return XS_OK;
    xs_err err = s_activities(r, t, &activity_count);
    if (err != XS_OK)
        return err;
    if (!r->doc && (err = xs_certificate_begin(&r->doc, r->path)) != XS_OK)
        return err;
    const uint8_t *env = s_receipt(r, t, &env_len, &closed);
    xs_standing_reason(t->policy, t->standing, t->teacher, t->year, reason, sizeof reason);
    xs_certificate_page_t page = {
        .policy = t->policy,
        .teacher_id = t->teacher_id,
        .teacher_name = t->name,
        .school_id = t->school_id,
        .year = r->year,
        .totals = t->teacher->totals,
        .total_count = t->teacher->total_count,
        .conclusion = s_conclusion(t->standing),
        .reason = reason,
        .activities = r->activities,
        .activity_count = activity_count,
        .issued = env ? s_day(r->receipt->issued_at) : xs_date_today(),
        .receipt = env,
        .receipt_len = env_len,
        .closed = closed || t->closed,
    };
    err = xs_certificate_add(r->doc, &page);
    if (err == XS_ETOOBIG) {
        size_t n = xs_text_utf8_prefix(t->teacher_id.ptr, t->teacher_id.len, XS_ID_MAX);
        memcpy(r->stats->too_big, t->teacher_id.ptr, n);
        r->stats->too_big[n] = '\0';
        r->stats->too_big_len = env_len;
    }
    if (err != XS_OK)
        return err;
    r->stats->pages++;
    r->stats->provisional += env == NULL;
    return XS_OK;
}

xs_err hub_certificates_run(hub_t *hub, xs_txn_t *txn, int year, const char *teacher,
                            const char *school, const char *path, hub_certificates_stats_t *stats) {
    hub_certificates_stats_t ignored;
    if (!stats)
        stats = &ignored;
    memset(stats, 0, sizeof *stats);
    if (year == 0)
        return XS_EINVAL;
    s_run_t r;
    memset(&r, 0, sizeof r);
    r.hub = hub;
    r.txn = txn;
    r.year = year;
    r.teacher = teacher;
    r.teacher_len = teacher ? strlen(teacher) : 0;
    r.path = path;
    r.stats = stats;
    xs_writer_init(&r.signed_receipt, XS_RECEIPT_MAX_BYTES);
    r.receipt = malloc(sizeof *r.receipt);
    r.converted = malloc(XS_RECEIPT_TOTALS_MAX * sizeof *r.converted);
    r.kept = malloc((XS_RECEIPT_TOTALS_MAX + 1) * sizeof *r.kept);
    xs_err err = r.receipt && r.converted && r.kept ? XS_OK : XS_ENOMEM;
    if (err == XS_OK)
        err = hub_summary_each(hub, txn, year, school, s_page, NULL, &r);
    if (err == XS_OK && !r.doc)
        err = XS_ENOTFOUND;
    if (err == XS_OK)
        err = xs_certificate_end(&r.doc);
    xs_certificate_abandon(&r.doc);
    hub_ledger_free(&r.closed);
    free(r.activities);
    free(r.activity_ids);
    free(r.kept);
    free(r.converted);
    free(r.receipt);
    xs_writer_free(&r.signed_receipt);
    return err;
}

xs_err hub_certificates_write(hub_t *hub, xs_txn_t *txn, int year, const char *teacher,
                              const char *school, const char *path) {
    return hub_certificates_run(hub, txn, year, teacher, school, path, NULL);
}
