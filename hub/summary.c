/* summary: the county's certified result, one teacher at a time (hub/summary.h). */
#include "summary.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "staff.h"
#include "year.h"
#include "xs/report.h"
#include "xs/workbook.h"

typedef struct s_walk {
    hub_t *hub;
    xs_txn_t *txn;
    int year;           /* academic year asked for, or 0 */
    int judged;         /* the year judged: `year`, or today's */
    const char *school; /* school filter, or NULL */
    int ledger_only;    /* give only teachers with records (hub_summary_ledger_each) */
    hub_summary_fn fn;  /* the caller's */
    hub_summary_progress_fn progress;
    void *ctx;
    xs_certify_total_t *kept; /* room for one teacher's filtered totals */
    size_t kept_cap;
    const xs_certify_exams_t *standings; /* the county's exam standings */
    hub_ledger_t ledger;                 /* one teacher's records at a time */
    uint64_t done, total;                /* indexed records walked, and in all */
    xs_staff_t staff;                    /* the current roster; zeroed without one */
    size_t next_staff;                   /* the first roster entry not yet given */
    const xs_staff_entry_t *entry;       /* the teacher being certified's roster line */
    xs_str_t school_of;                  /* the school of the teacher being certified */
} s_walk_t;

static int s_id_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (alen > blen) - (alen < blen);
}

static int s_school_is(const s_walk_t *w, xs_str_t school) {
    return !w->school ||
           (school.len == strlen(w->school) && memcmp(school.ptr, w->school, school.len) == 0);
}

static xs_str_t s_str(const char *s) {
    return (xs_str_t){s, (uint32_t)strlen(s)};
}

/* Gives a rostered teacher without records: 0 in every row of the year judged. */
static xs_err s_unrecorded(s_walk_t *w, const xs_staff_entry_t *e) {
    xs_certify_total_t totals[XS_YEAR_TOTALS_MAX];
    xs_standing_t st;
    if (!s_school_is(w, s_str(e->school_id)))
        return XS_OK;
    xs_certify_teacher_t view;
    memset(&view, 0, sizeof view);
    view.teacher_id = s_str(e->teacher_id);
    view.totals = totals;
    view.total_count = hub_year_zero_totals(w->hub->policy, w->judged, totals);
    xs_err err = xs_standing_of(&st, w->hub->policy, e, NULL, NULL, NULL, w->judged);
    if (err != XS_OK)
        return err;
    hub_summary_teacher_t t = {
        .school_id = s_str(e->school_id),
        .teacher_id = view.teacher_id,
        .name = s_str(e->name),
        .policy = w->hub->policy,
        .teacher = &view,
        .year = w->judged,
        .standing = &st,
        .exempt_year = st.state == XS_STANDING_EXEMPT ? w->judged : 0,
    };
    return w->fn(w->ctx, &t);
}

/* Gives the rostered teachers before teacher (len bytes; NULL: all that are left) that have no
 * records, and sets w->entry to teacher's roster line (NULL when not on the roster). */
static xs_err s_roster_until(s_walk_t *w, const char *teacher, size_t len, int give) {
    w->entry = NULL;
    while (w->next_staff < w->staff.count) {
        const xs_staff_entry_t *e = &w->staff.entries[w->next_staff];
        int c = teacher ? s_id_cmp(e->teacher_id, strlen(e->teacher_id), teacher, len) : -1;
        if (c > 0)
            break;
        w->next_staff++;
        if (c == 0) {
            w->entry = e;
            break;
        }
        xs_err err = give && !w->ledger_only ? s_unrecorded(w, e) : XS_OK;
        if (err != XS_OK)
            return err;
    }
    return XS_OK;
}

xs_str_t hub_summary_latest_school(const hub_ledger_t *l) {
    xs_str_t school = {"", 0};
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

/* The engine's callback: the teacher's totals of the year asked for, and their standing. */
static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *t) {
    s_walk_t *w = ctx;
    size_t cap = t->total_count + 6 * XS_POLICY_BUCKETS_MAX;
    if (cap > w->kept_cap) {
        void *p = realloc(w->kept, cap * sizeof *w->kept);
        if (!p)
            return XS_ENOMEM;
        w->kept = p;
        w->kept_cap = cap;
    }
    /* A year asked for shows its rows, at 0 when the teacher has no records dated in it. */
    xs_certify_teacher_t view = *t;
    view.totals = w->kept;
    view.total_count =
        w->year ? xs_report_year_totals(w->hub->policy, t->totals, t->total_count, w->year, w->kept,
                                        w->kept_cap)
                : xs_report_filter_year(w->hub->policy, t->totals, t->total_count, 0, w->kept);
    xs_standing_t st;
    xs_err err = xs_standing_of(&st, w->hub->policy, w->entry, t, w->ledger.records, w->ledger.rows,
                                w->judged);
    if (err == XS_EINVAL) /* no records dated in the year judged: judged as without records */
        err = xs_standing_of(&st, w->hub->policy, w->entry, NULL, NULL, NULL, w->judged);
    if (err != XS_OK)
        return err;
    hub_summary_teacher_t out = {
        .school_id = w->school_of,
        .teacher_id = t->teacher_id,
        .name = w->entry ? s_str(w->entry->name) : (xs_str_t){"", 0},
        .policy = w->hub->policy,
        .teacher = &view,
        .year = w->judged,
        .standing = &st,
        .exempt_year = st.state == XS_STANDING_EXEMPT ? w->judged : 0,
        .ledger = &w->ledger,
    };
    return w->fn(w->ctx, &out);
}

/* Certifies one teacher with records and gives them, when of the school asked for. */
static xs_err s_teacher(void *ctx, const char *teacher, size_t len) {
    s_walk_t *w = ctx;
    hub_ledger_t *l = &w->ledger;
    xs_err err = s_roster_until(w, teacher, len, 1);
    if (err == XS_OK)
        err = hub_ledger_teacher(l, w->txn, teacher, len);
    if (err != XS_OK || l->count == 0)
        return err;
    w->done += l->count;
    if (w->progress)
        w->progress(w->ctx, w->done, w->total);
    /* A rostered teacher's school is the roster's; anyone else's, their records'. */
    w->school_of = w->entry ? s_str(w->entry->school_id) : hub_summary_latest_school(l);
    if (!s_school_is(w, w->school_of))
        return XS_OK;
    return xs_certify_teacher(w->hub->policy, w->standings, l->records, l->ids, l->count, NULL,
                              l->rows, s_on_teacher, w);
}

static int s_row_cmp(const void *pa, const void *pb) {
    const xs_year_row_t *a = *(const xs_year_row_t *const *)pa;
    const xs_year_row_t *b = *(const xs_year_row_t *const *)pb;
    return s_id_cmp(a->teacher_id.ptr, a->teacher_id.len, b->teacher_id.ptr, b->teacher_id.len);
}

/* Gives closed year c from its document and amendments (schema/year.md §3: each teacher's
 * latest row), under the policy it was closed under. */
static xs_err s_closed(s_walk_t *w, const hub_closed_year_t *c) {
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
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < n; i++) {
        if (i > 0 && s_row_cmp(&rows[i - 1], &rows[i]) == 0)
            continue;
        const xs_year_row_t *row =
            hub_closed_year_row(c, rows[i]->teacher_id.ptr, rows[i]->teacher_id.len);
        if (!s_school_is(w, row->school_id))
            continue;
        hub_closed_row_view(c->policy, c->year, row, totals, &view, &st);
        hub_summary_teacher_t t = {
            .school_id = row->school_id,
            .teacher_id = row->teacher_id,
            .name = row->name,
            .policy = c->policy,
            .teacher = &view,
            .year = c->year,
            .standing = &st,
            .exempt_year = st.state == XS_STANDING_EXEMPT ? c->year : 0,
            .closed = 1,
        };
        err = w->fn(w->ctx, &t);
        if (w->progress)
            w->progress(w->ctx, i + 1, n);
    }
    free(rows);
    return err;
}

/* Walks the live ledger: each teacher with records once, in teacher_id order, one teacher's
 * records in memory at a time, with the rostered teachers without records between them. */
static xs_err s_live(s_walk_t *w) {
    hub_ledger_t exams;
    xs_certify_exams_t *standings = NULL;
    uint64_t held = 0;
    memset(&exams, 0, sizeof exams);
    xs_err err = hub_staff_current(w->txn, &w->staff);
    if (err == XS_OK)
        err = hub_ledger_exams(&exams, w->txn);
    if (err == XS_OK)
        err = xs_certify_exams_build(&standings, w->hub->policy, exams.records, exams.ids,
                                     exams.count);
    if (err == XS_OK)
        err = hub_ledger_counts(w->txn, &w->total, &held);
    w->standings = standings;
    if (err == XS_OK)
        err = hub_ledger_teachers_each(w->txn, s_teacher, w);
    if (err == XS_OK)
        err = s_roster_until(w, NULL, 0, 1);
    xs_certify_exams_destroy(&standings);
    hub_ledger_free(&exams);
    return err;
}

static xs_err s_each(hub_t *hub, xs_txn_t *txn, int year, const char *school, hub_summary_fn fn,
                     hub_summary_progress_fn progress, void *ctx, int ledger_only) {
    s_walk_t w;
    memset(&w, 0, sizeof w);
    w.hub = hub;
    w.txn = txn;
    w.year = year;
    w.judged = year ? year : xs_policy_year_of(hub->policy, (int32_t)(time(NULL) / 86400), NULL);
    w.school = school;
    w.ledger_only = ledger_only;
    w.fn = fn;
    w.progress = progress;
    w.ctx = ctx;
    xs_err err = XS_ENOTFOUND;
    if (year && !ledger_only) {
        /* A closed year is given as it was closed, whatever arrived since. */
        hub_closed_year_t closed;
        err = hub_closed_year_load(hub, txn, year, &closed);
        if (err == XS_OK) {
            err = s_closed(&w, &closed);
            hub_closed_year_free(&closed);
        }
    }
    if (err == XS_ENOTFOUND)
        err = s_live(&w);
    xs_staff_free(&w.staff);
    hub_ledger_free(&w.ledger);
    free(w.kept);
    return err;
}

xs_err hub_summary_each(hub_t *hub, xs_txn_t *txn, int year, const char *school, hub_summary_fn fn,
                        hub_summary_progress_fn progress, void *ctx) {
    return s_each(hub, txn, year, school, fn, progress, ctx, 0);
}

xs_err hub_summary_ledger_each(hub_t *hub, xs_txn_t *txn, int year, const char *school,
                               hub_summary_fn fn, hub_summary_progress_fn progress, void *ctx) {
    return s_each(hub, txn, year, school, fn, progress, ctx, 1);
}

typedef struct s_schools {
    hub_summary_school_t *items;
    size_t count, cap;
} s_schools_t;

static int s_school_cmp(const void *a, const void *b) {
    return strcmp(((const hub_summary_school_t *)a)->school_id,
                  ((const hub_summary_school_t *)b)->school_id);
}

static xs_err s_school_node(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    s_schools_t *s = ctx;
    xs_chain_view_t view;
    if (node->revoked_at)
        return XS_OK;
    xs_err err = hub_ledger_view(txn, node->origin, &view);
    if (err != XS_OK)
        return err;
    hub_summary_school_t *sc = NULL;
    for (size_t i = 0; i < s->count && !sc; i++)
        if (strcmp(s->items[i].school_id, node->school) == 0)
            sc = &s->items[i];
    if (!sc) {
        if (s->count == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 16;
            void *p = realloc(s->items, cap * sizeof *s->items);
            if (!p)
                return XS_ENOMEM;
            s->items = p;
            s->cap = cap;
        }
        sc = &s->items[s->count++];
        memset(sc, 0, sizeof *sc);
        memcpy(sc->school_id, node->school, sizeof sc->school_id);
    }
    sc->nodes++;
    if (node->last_sync > sc->last_sync)
        sc->last_sync = node->last_sync;
    if (node->head_seq > view.have_through)
        sc->unsynced += node->head_seq - view.have_through;
    sc->gaps += view.gap_count;
    sc->forks += node->forks;
    return XS_OK;
}

xs_err hub_summary_schools(xs_txn_t *txn, hub_summary_school_t **out, size_t *count) {
    s_schools_t s = {NULL, 0, 0};
    xs_err err = hub_nodes_each(txn, s_school_node, &s);
    if (err != XS_OK) {
        free(s.items);
        return err;
    }
    if (s.count)
        qsort(s.items, s.count, sizeof *s.items, s_school_cmp);
    *out = s.items;
    *count = s.count;
    return XS_OK;
}

/* ---- the workbook ---- */

typedef struct s_book {
    xs_workbook_t *wb;
    hub_summary_progress_fn progress;
    void *ctx;
} s_book_t;

static xs_err s_book_teacher(void *ctx, const hub_summary_teacher_t *t) {
    s_book_t *b = ctx;
    xs_workbook_teacher_t row = {t->school_id, t->teacher_id, t->name, t->teacher, t->standing};
    return xs_workbook_teacher(b->wb, &row);
}

static void s_book_progress(void *ctx, uint64_t done, uint64_t total) {
    s_book_t *b = ctx;
    if (b->progress)
        b->progress(b->ctx, done, total);
}

/* Feeds the hash of the live data (docs/design.md, "The workbook's fingerprint") with one
 * node: its origin and how far its chain is held. */
static xs_err s_hash_node(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    xs_chain_view_t view;
    uint8_t bytes[32 + 24];
    xs_err err = hub_ledger_view(txn, node->origin, &view);
    if (err != XS_OK)
        return err;
    memcpy(bytes, node->origin, 32);
    xs_store_u64_key(view.have_through, bytes + 32);
    xs_store_u64_key(view.held_max, bytes + 40);
    xs_store_u64_key(view.batches, bytes + 48);
    xs_writer_raw(ctx, bytes, sizeof bytes);
    return xs_writer_err(ctx);
}

/* The hash of the live data a workbook is made from: the policy's hash, the roster's version
 * and, per node in origin order, its origin and the extent of its chain the hub holds. Signed
 * batches are kept verbatim and never change, so equal hashes mean equal data. */
static xs_err s_live_hash(hub_t *hub, xs_txn_t *txn, uint8_t out[XS_HASH_BYTES]) {
    xs_writer_t w;
    uint64_t roster = 0;
    uint8_t version[8];
    xs_writer_init(&w, 1u << 26);
    xs_writer_raw(&w, "xueshi-data-1", 14);
    xs_writer_raw(&w, hub->policy_hash, XS_HASH_BYTES);
    xs_err err = hub_meta_get_u64(txn, HUB_META_STAFF, &roster);
    xs_store_u64_key(roster, version);
    xs_writer_raw(&w, version, sizeof version);
    if (err == XS_OK)
        err = hub_nodes_each(txn, s_hash_node, &w);
    if (err == XS_OK)
        err = xs_writer_err(&w);
    if (err == XS_OK)
        xs_identity_hash(w.data, w.len, out);
    xs_writer_free(&w);
    return err;
}

xs_err hub_summary_workbook(hub_t *hub, xs_txn_t *txn, int year, const char *school,
                            const char *path, hub_summary_progress_fn progress, void *ctx) {
    hub_closed_year_t closed;
    hub_summary_school_t *schools = NULL;
    size_t nschools = 0;
    s_book_t book = {NULL, progress, ctx};
    xs_workbook_title_t title;
    memset(&title, 0, sizeof title);
    memset(&closed, 0, sizeof closed);
    title.year = year;
    title.made_at = (int64_t)time(NULL);
    xs_err err = hub_closed_year_load(hub, txn, year, &closed);
    if (err == XS_OK) {
        title.policy = closed.policy;
        title.source = closed.finalized ? "定案年度文件 year.xsdoc（含补认定）"
                                        : "结账年度文件 year.xsdoc（公示期）";
        memcpy(title.data_hash, closed.doc.hash, XS_HASH_BYTES);
    } else if (err == XS_ENOTFOUND) {
        title.policy = hub->policy;
        title.source = "县级中心当前数据（未结账）";
        err = s_live_hash(hub, txn, title.data_hash);
    }
    if (err == XS_OK)
        err = hub_summary_schools(txn, &schools, &nschools);
    if (err == XS_OK)
        err = xs_workbook_open(&book.wb, path, &title);
    for (size_t i = 0; err == XS_OK && i < nschools; i++)
        if (!school || strcmp(school, schools[i].school_id) == 0)
            err = xs_workbook_school(book.wb, schools[i].school_id, schools[i].unsynced,
                                     schools[i].last_sync);
    if (err == XS_OK) {
        s_walk_t w;
        memset(&w, 0, sizeof w);
        w.hub = hub;
        w.txn = txn;
        w.year = w.judged = year;
        w.school = school;
        w.fn = s_book_teacher;
        w.progress = s_book_progress;
        w.ctx = &book;
        err = closed.policy ? s_closed(&w, &closed) : s_live(&w);
        xs_staff_free(&w.staff);
        hub_ledger_free(&w.ledger);
        free(w.kept);
    }
    if (err == XS_OK)
        err = xs_workbook_close(&book.wb);
    xs_workbook_discard(&book.wb);
    hub_closed_year_free(&closed);
    free(schools);
    return err;
}
