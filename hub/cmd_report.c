/* xueshi-hub report: the county's 学时认定汇总表 over everything merged, as xueshi certify
 * prints it, with each teacher's school first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "ledger.h"
#include "xs/report.h"

#define S_USAGE "xueshi-hub report --dir DIR [--year 2025-2026] [--school SCHOOL_ID]"

typedef struct s_report {
    hub_t *hub;
    int year;                 /* academic year filter (first calendar year), or 0 */
    const char *school;       /* school filter, or NULL */
    xs_str_t teacher_school;  /* the school of the teacher being certified */
    xs_certify_total_t *kept; /* room for one teacher's filtered totals */
    size_t kept_cap;
} s_report_t;

static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *t) {
    s_report_t *r = ctx;
    if (t->total_count > r->kept_cap) {
        void *p = realloc(r->kept, t->total_count * sizeof *r->kept);
        if (!p)
            return XS_ENOMEM;
        r->kept = p;
        r->kept_cap = t->total_count;
    }
    xs_certify_teacher_t view = *t;
    view.totals = r->kept;
    view.total_count =
        xs_report_filter_year(r->hub->policy, t->totals, t->total_count, r->year, r->kept);
    return xs_report_summary_teacher(stdout, r->hub->policy, &view, &r->teacher_school);
}

/* A teacher's school: that of their latest dated activity (ties: the larger record id). */
static xs_str_t s_school_of(const hub_ledger_t *l) {
    xs_str_t school = {NULL, 0};
    int32_t date = INT32_MIN;
    uint64_t id = 0;
    for (size_t i = 0; i < l->count; i++) {
        const xs_record_t *rec = &l->records[i];
        if (rec->kind != XS_KIND_ACTIVITY || !rec->school_id.len)
            continue;
        if (rec->date > date || (rec->date == date && l->ids[i] > id)) {
            school = rec->school_id;
            date = rec->date;
            id = l->ids[i];
        }
    }
    return school;
}

int hub_cmd_report(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"year", 1, NULL}, {"school", 1, NULL}, {"help", 0, NULL}};
    const char *pos[1];
    size_t npos;
    hub_t hub;
    xs_txn_t *txn = NULL;
    xs_cursor_t *cur = NULL;
    xs_certify_exams_t *standings = NULL;
    hub_ledger_t ledger, exams;
    s_report_t r;
    xs_bytes_t k, v;
    char last[XS_ID_MAX + 1];
    size_t last_len = 0;
    static char outbuf[1 << 16];
    int rc = 1;
    memset(&ledger, 0, sizeof ledger);
    memset(&exams, 0, sizeof exams);
    memset(&r, 0, sizeof r);
    if (hub_args(argc, argv, opts, 4, pos, 0, &npos) != XS_OK || opts[3].value || !opts[0].value)
        return hub_usage(S_USAGE);
    if (opts[1].value) {
        const char *y = opts[1].value;
        char *end;
        long first = strtol(y, &end, 10);
        if (strlen(y) != 9 || end != y + 4 || *end != '-' || strtol(y + 5, &end, 10) != first + 1 ||
            *end || first < 1970 || first > 2148) {
            fprintf(stderr, "xueshi-hub: 学年格式应为 2025-2026 (academic year like 2025-2026)\n");
            return 2;
        }
        r.year = (int)first;
    }
    r.school = opts[2].value;
    if (hub_open(&hub, opts[0].value, 0) != XS_OK)
        return 1;
    r.hub = &hub;
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    xs_err err = xs_store_read(hub.store, &txn);
    if (err == XS_OK)
        err = hub_ledger_exams(&exams, txn);
    if (err == XS_OK)
        err = xs_certify_exams_build(&standings, hub.policy, exams.records, exams.ids, exams.count);
    if (err == XS_OK)
        err = xs_report_summary_begin(stdout, 1);
    if (err == XS_OK)
        err = xs_store_cursor_open(txn, HUB_T_TEACHERS, &cur);
    /* The teacher index is sorted by teacher: certify each teacher once, in that order. */
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        const char *key = k.ptr;
        const char *nul = memchr(key, 0, k.len);
        if (!nul || (size_t)(nul - key) > XS_ID_MAX) {
            err = XS_ECORRUPT;
            break;
        }
        size_t len = (size_t)(nul - key);
        if (len == last_len && memcmp(key, last, len) == 0)
            continue;
        memcpy(last, key, len);
        last_len = len;
        if ((err = hub_ledger_teacher(&ledger, txn, last, len)) != XS_OK)
            break;
        if (ledger.count == 0)
            continue;
        r.teacher_school = s_school_of(&ledger);
        if (r.school && (r.teacher_school.len != strlen(r.school) ||
                         memcmp(r.teacher_school.ptr, r.school, r.teacher_school.len) != 0))
            continue;
        if ((err = xs_certify_teacher(hub.policy, standings, ledger.records, ledger.ids,
                                      ledger.count, NULL, ledger.rows, s_on_teacher, &r)) != XS_OK)
            break;
    }
    if (err == XS_ENOTFOUND)
        err = fflush(stdout) == 0 ? XS_OK : XS_EIO;
    if (err == XS_OK)
        rc = 0;
    else
        xs_log_err(err, "生成汇总表 (building the report)");
    xs_store_cursor_close(&cur);
    xs_store_end(&txn);
    xs_certify_exams_destroy(&standings);
    hub_ledger_free(&ledger);
    hub_ledger_free(&exams);
    free(r.kept);
    hub_close(&hub);
    return rc;
}
