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
#include "staff.h"
#include "year.h"
#include "xs/report.h"
#include "xs/standing.h"

#define S_USAGE "xueshi-hub report --dir DIR [--year 2025-2026] [--school SCHOOL_ID] [--detail]"

/* Seconds a report runs before it shows progress, and between two lines. */
#define S_PROGRESS_AFTER 1.0

typedef struct s_report {
    hub_t *hub;
    int year;                 /* academic year filter (first calendar year), or 0 */
    const char *school;       /* school filter, or NULL */
    xs_str_t teacher_school;  /* the school of the teacher being certified */
    xs_certify_total_t *kept; /* room for one teacher's filtered totals */
    size_t kept_cap;
    xs_txn_t *txn;                       /* the snapshot reported */
    const xs_certify_exams_t *standings; /* the county's exam standings */
    hub_ledger_t ledger;                 /* one teacher's records at a time */
    int detail;                          /* --detail: one row per record, not the summary */
    uint64_t records_done;               /* indexed records walked so far */
    uint64_t records_total;              /* indexed records in the snapshot */
    struct timespec start;               /* when the walk began */
    double last_shown;             /* seconds after start of the last progress line; 0: none */
    xs_staff_t staff;              /* the current roster; version 0 and no entries without one */
    size_t next_staff;             /* the first roster entry not yet reported */
    const xs_staff_entry_t *entry; /* the teacher being certified's roster line, or NULL */
    int live_year; /* the year a rostered teacher without records is shown in, and whose
                      exemption is shown: --year, or the academic year of today */
} s_report_t;

static double s_elapsed(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Shows how far the walk is, once it has run a second, then every second. */
static void s_progress(s_report_t *r) {
    double t = s_elapsed(&r->start);
    if (t < S_PROGRESS_AFTER || (r->last_shown > 0 && t - r->last_shown < 1.0))
        return;
    r->last_shown = t;
    fprintf(stderr, "生成报表 (reporting): %llu / %llu 条记录 (records), %.0f 秒 (s)\n",
            (unsigned long long)r->records_done, (unsigned long long)r->records_total, t);
}

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
    xs_str_t name = {"", 0};
    int exempt_year = 0;
    if (r->entry) {
        xs_standing_t st;
        name = (xs_str_t){r->entry->name, (uint32_t)strlen(r->entry->name)};
        /* Exempt in the year shown: that year's rows say so (a year outside the ledger's
         * totals is not shown, nor judged). */
        if (xs_standing_of(&st, r->hub->policy, r->entry, t, r->ledger.records, r->ledger.rows,
                           r->live_year) == XS_OK &&
            st.state == XS_STANDING_EXEMPT)
            exempt_year = r->live_year;
    }
    return xs_report_summary_teacher_named(stdout, r->hub->policy, &view, &r->teacher_school, &name,
                                           exempt_year);
}

/* Prints a rostered teacher without records: 0 in every row of the year shown, not met where
 * a requirement binds, or exempt. */
static xs_err s_report_unrecorded(s_report_t *r, const xs_staff_entry_t *e) {
    xs_certify_total_t totals[XS_YEAR_TOTALS_MAX];
    xs_standing_t st;
    xs_str_t school = {e->school_id, (uint32_t)strlen(e->school_id)};
    xs_str_t name = {e->name, (uint32_t)strlen(e->name)};
    if (r->school && strcmp(r->school, e->school_id) != 0)
        return XS_OK;
    xs_certify_teacher_t view;
    memset(&view, 0, sizeof view);
    view.teacher_id = (xs_str_t){e->teacher_id, (uint32_t)strlen(e->teacher_id)};
    view.totals = totals;
    view.total_count = hub_year_zero_totals(r->hub->policy, r->live_year, totals);
    xs_err err = xs_standing_of(&st, r->hub->policy, e, NULL, NULL, NULL, r->live_year);
    if (err != XS_OK)
        return err;
    return xs_report_summary_teacher_named(stdout, r->hub->policy, &view, &school, &name,
                                           st.state == XS_STANDING_EXEMPT ? r->live_year : 0);
}

static int s_id_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (alen > blen) - (alen < blen);
}

/* Prints the rostered teachers before teacher (len bytes; NULL: all that are left) that have
 * no records, and sets r->entry to teacher's roster line (NULL when not on the roster). */
static xs_err s_roster_until(s_report_t *r, const char *teacher, size_t len) {
    r->entry = NULL;
    while (r->next_staff < r->staff.count) {
        const xs_staff_entry_t *e = &r->staff.entries[r->next_staff];
        int c = teacher ? s_id_cmp(e->teacher_id, strlen(e->teacher_id), teacher, len) : -1;
        if (c > 0)
            break;
        r->next_staff++;
        if (c == 0) {
            r->entry = e;
            break;
        }
        xs_err err = r->detail ? XS_OK : s_report_unrecorded(r, e);
        if (err != XS_OK)
            return err;
    }
    return XS_OK;
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

/* Prints the loaded teacher's detail rows, in the ledger's order (origin, then seq), those of
 * the academic year asked for. A row's line is "<node key>:<seq>": the first 8 bytes of its
 * origin in hex, as `xueshi-hub nodes` shows the node, and the node's record number. */
static xs_err s_print_detail(s_report_t *r) {
    const hub_ledger_t *l = &r->ledger;
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
        err = xs_report_detail_row_note(stdout, r->hub->policy, &r->teacher_school, line,
                                        &l->records[i], &l->rows[i], XS_REPORT_LABEL, note);
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
    s_progress(r);
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

/* Certifies and prints one teacher, when of the school asked for. */
static xs_err s_report_teacher(void *ctx, const char *teacher, size_t len) {
    s_report_t *r = ctx;
    hub_ledger_t *l = &r->ledger;
    xs_err err = s_roster_until(r, teacher, len);
    if (err == XS_OK)
        err = hub_ledger_teacher(l, r->txn, teacher, len);
    if (err != XS_OK || l->count == 0)
        return err;
    r->records_done += l->count;
    s_progress(r);
    /* A rostered teacher's school is the roster's; anyone else's, their records'. */
    r->teacher_school = r->entry
                            ? (xs_str_t){r->entry->school_id, (uint32_t)strlen(r->entry->school_id)}
                            : s_school_of(l);
    if (r->school && (r->teacher_school.len != strlen(r->school) ||
                      memcmp(r->teacher_school.ptr, r->school, r->teacher_school.len) != 0))
        return XS_OK;
    err = xs_certify_teacher(r->hub->policy, r->standings, l->records, l->ids, l->count, NULL,
                             l->rows, r->detail ? NULL : s_on_teacher, r);
    if (err == XS_OK && r->detail)
        err = s_print_detail(r);
    return err;
}

static int s_row_cmp(const void *pa, const void *pb) {
    const xs_year_row_t *a = *(const xs_year_row_t *const *)pa;
    const xs_year_row_t *b = *(const xs_year_row_t *const *)pb;
    return s_id_cmp(a->teacher_id.ptr, a->teacher_id.len, b->teacher_id.ptr, b->teacher_id.len);
}

/* Prints closed year c from its document and amendments (schema/year.md §3: each teacher's
 * latest row), under the policy it was closed under: the same bytes whatever arrives later. */
static xs_err s_report_closed(s_report_t *r, const hub_closed_year_t *c) {
    xs_certify_total_t totals[XS_YEAR_TOTALS_MAX];
    xs_certify_teacher_t view;
    xs_standing_t st;
    size_t n = c->doc.row_count;
    for (size_t i = 0; i < c->amend_count; i++)
        n += c->amends[i].row_count;
    const xs_year_row_t **rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows)
        return XS_ENOMEM;
    n = 0;
    for (size_t i = 0; i < c->doc.row_count; i++)
        rows[n++] = &c->doc.rows[i];
    for (size_t i = 0; i < c->amend_count; i++)
        for (size_t k = 0; k < c->amends[i].row_count; k++)
            rows[n++] = &c->amends[i].rows[k];
    qsort(rows, n, sizeof *rows, s_row_cmp);
    xs_err err = xs_report_summary_begin_named(stdout, 1);
    for (size_t i = 0; err == XS_OK && i < n; i++) {
        if (i > 0 && s_row_cmp(&rows[i - 1], &rows[i]) == 0)
            continue;
        const xs_year_row_t *row =
            hub_closed_year_row(c, rows[i]->teacher_id.ptr, rows[i]->teacher_id.len);
        if (r->school && (row->school_id.len != strlen(r->school) ||
                          memcmp(row->school_id.ptr, r->school, row->school_id.len) != 0))
            continue;
        hub_closed_row_view(c->policy, c->year, row, totals, &view, &st);
        err = xs_report_summary_teacher_named(stdout, c->policy, &view, &row->school_id, &row->name,
                                              st.state == XS_STANDING_EXEMPT ? c->year : 0);
    }
    free(rows);
    return err;
}

int hub_cmd_report(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},
                           {"year", 1, NULL},
                           {"school", 1, NULL},
                           {"detail", 0, NULL},
                           {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    hub_t hub;
    xs_txn_t *txn = NULL;
    xs_certify_exams_t *standings = NULL;
    hub_ledger_t exams;
    s_report_t r;
    uint64_t held = 0;
    static char outbuf[1 << 16];
    int rc = 1;
    memset(&exams, 0, sizeof exams);
    memset(&r, 0, sizeof r);
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_USAGE);
    const char *y = xs_cli_get(opts, nopts, "year");
    if (y) {
        char *end;
        long first = strtol(y, &end, 10);
        if (strlen(y) != 9 || end != y + 4 || *end != '-' || strtol(y + 5, &end, 10) != first + 1 ||
            *end || first < 1970 || first > 2148) {
            fprintf(stderr, "xueshi-hub: 学年格式应为 2025-2026 (academic year like 2025-2026)\n");
            return 2;
        }
        r.year = (int)first;
    }
    r.school = xs_cli_get(opts, nopts, "school");
    r.detail = xs_cli_get(opts, nopts, "detail") != NULL;
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), 0) != XS_OK)
        return 1;
    r.hub = &hub;
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    xs_err err = xs_store_read(hub.store, &txn);
    if (err == XS_OK && r.year && !r.detail) {
        /* A closed year is printed as it was closed, whatever arrived since. */
        hub_closed_year_t closed;
        err = hub_closed_year_load(&hub, txn, r.year, &closed);
        if (err == XS_OK) {
            err = s_report_closed(&r, &closed);
            hub_closed_year_free(&closed);
            if (err == XS_OK && fflush(stdout) != 0)
                err = XS_EIO;
            goto done;
        }
        if (err == XS_ENOTFOUND)
            err = XS_OK;
    }
    if (err == XS_OK)
        err = hub_staff_current(txn, &r.staff);
    r.live_year =
        r.year ? r.year : xs_policy_year_of(hub.policy, (int32_t)(time(NULL) / 86400), NULL);
    if (err == XS_OK)
        err = hub_ledger_exams(&exams, txn);
    if (err == XS_OK)
        err = xs_certify_exams_build(&standings, hub.policy, exams.records, exams.ids, exams.count);
    if (err == XS_OK)
        err = hub_ledger_counts(txn, &r.records_total, &held);
    if (r.detail)
        r.records_total = held; /* the teachers' records, then all the others */
    if (err == XS_OK)
        err =
            r.detail ? xs_report_detail_begin(stdout, 1) : xs_report_summary_begin_named(stdout, 1);
    /* Each teacher once, in teacher_id order: one teacher's records in memory at a time. */
    r.txn = txn;
    r.standings = standings;
    clock_gettime(CLOCK_MONOTONIC, &r.start);
    if (err == XS_OK)
        err = hub_ledger_teachers_each(txn, s_report_teacher, &r);
    /* Rostered teachers after the last with records. */
    if (err == XS_OK)
        err = s_roster_until(&r, NULL, 0);
    /* The detail holds every record: those refused at merge, or without a teacher, last. */
    if (err == XS_OK && r.detail)
        err = hub_ledger_unindexed_each(txn, s_detail_unindexed, &r);
    if (err == XS_OK && fflush(stdout) != 0)
        err = XS_EIO;
done:
    if (err == XS_OK)
        rc = 0;
    else
        xs_log_err(err, "生成汇总表 (building the report)");
    xs_store_end(&txn);
    xs_staff_free(&r.staff);
    xs_certify_exams_destroy(&standings);
    hub_ledger_free(&r.ledger);
    hub_ledger_free(&exams);
    free(r.kept);
    hub_close(&hub);
    return rc;
}
