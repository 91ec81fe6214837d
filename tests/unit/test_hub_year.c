/* test_hub_year: closing an academic year at the hub (hub/year.c, schema/year.md), driving
 * hub_merge and the year's functions directly with batches the test seals. A roster of two
 * teachers (T2 records nothing) and an unrostered X9; the year 2025-2026 closes; a record
 * dated in it arrives late: the closed year's totals in T1's receipt stay frozen (year and
 * cycle), the 补认定 list holds the record, amendment 1 certifies it and the receipt follows;
 * objections are decided before the finalization, which is signed once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scratch.h"
#include "hub.h"
#include "merge.h"
#include "issue.h"
#include "outbox.h"
#include "year.h"
#include "xs/batch.h"
#include "xs/record.h"

/* A county policy small enough to check by hand: every category in one bucket, 10 h a year,
 * 15 h over a cycle of two years (2024-2025 and 2025-2026). */
static const char s_policy[] = "[policy]\n"
                               "id = yeartest\n"
                               "version = 1\n"
                               "name = 结账测试\n"
                               "first_cycle_year = 2024\n"
                               "cycle_years = 2\n"
                               "\n"
                               "[bucket.total]\n"
                               "label = 合计\n"
                               "categories = all\n"
                               "\n"
                               "[require.year]\n"
                               "total = 10\n"
                               "\n"
                               "[require.cycle]\n"
                               "total = 15\n";

static const char s_roster[] =
    "teacher_id,name,school_id,roles,hired,status,status_from,status_to\n"
    "T1,张伟,S1,,2010-09-01,,,\n"
    "T2,李娜,S1,,2012-09-01,,,\n";

#define S_OUT_MAX (16 * 1024)
#define S_YEAR 2025

typedef struct fixture {
    char dir[256];
    char hub_dir[300];
    char out[S_OUT_MAX];
    xs_identity_t *node;
    hub_t hub;
    uint8_t prev[32]; /* the hash of the last batch sealed */
    uint64_t next_seq;
    xs_receipt_t receipt;
} fixture_t;

static int s_command(fixture_t *fx, int (*cmd)(int, char **), char **argv, int argc) {
    int rc = xs_scratch_command(fx->dir, cmd, argv, argc, fx->out, NULL, sizeof fx->out);
    assert_true(rc >= 0);
    return rc;
}

static int s_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char path[400], keys[XS_PUBKEYS_TEXT_LEN + 1];
    if (!fx)
        return -1;
    *state = fx;
    fx->next_seq = 1;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_year") != 0)
        return -1;
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    snprintf(path, sizeof path, "%s/policy.ini", fx->dir);
    if (s_write_file(path, s_policy) != 0)
        return -1;
    char *init[] = {"--dir", fx->hub_dir, "--policy", path, NULL};
    if (s_command(fx, hub_cmd_init, init, 4) != 0)
        return -1;
    if (xs_identity_create(&fx->node, fx->dir, "node") != XS_OK)
        return -1;
    xs_pubkeys_format(xs_identity_public(fx->node), keys);
    char *enroll[] = {"--dir", fx->hub_dir, "--node", keys, "--school", "S1", NULL};
    if (s_command(fx, hub_cmd_enroll, enroll, 6) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/roster.csv", fx->dir);
    if (s_write_file(path, s_roster) != 0)
        return -1;
    char *roster[] = {"--dir", fx->hub_dir, "import", path, NULL};
    if (s_command(fx, hub_cmd_roster, roster, 4) != 0)
        return -1;
    return hub_open(&fx->hub, fx->hub_dir, HUB_OPEN_KEYS) == XS_OK ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    hub_close(&fx->hub);
    xs_identity_destroy(&fx->node);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* One lecture of `minutes` by teacher on date. */
typedef struct activity {
    const char *teacher;
    const char *date;
    const char *minutes;
} activity_t;

/* Seals the activities as the node's next batch and merges it. */
static void s_send(fixture_t *fx, const activity_t *acts, uint32_t count) {
    xs_writer_t recs[8], env;
    xs_batch_slice_t slices[8];
    uint8_t hash[32];
    assert_true(count <= 8);
    for (uint32_t i = 0; i < count; i++) {
        xs_record_t rec;
        xs_reason why;
        xs_record_init(&rec);
        const struct {
            xs_field f;
            const char *text;
        } fields[] = {{XS_F_TEACHER_ID, acts[i].teacher},
                      {XS_F_DATE, acts[i].date},
                      {XS_F_CATEGORY, "lecture"},
                      {XS_F_ROLE, "participant"},
                      {XS_F_MINUTES, acts[i].minutes}};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            assert_int_equal(
                xs_record_set_text(&rec, fields[f].f, fields[f].text, strlen(fields[f].text), &why),
                XS_OK);
        xs_writer_init(&recs[i], XS_RECORD_MAX);
        xs_record_encode(&rec, &recs[i]);
        assert_int_equal(xs_writer_err(&recs[i]), XS_OK);
        slices[i] = (xs_batch_slice_t){recs[i].data, recs[i].len};
    }
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, fx->next_seq,
                                   fx->next_seq == 1 ? NULL : fx->prev, NULL, (int64_t)time(NULL),
                                   slices, count, hash),
                     XS_OK);
    memcpy(fx->prev, hash, 32);
    fx->next_seq += count;
    hub_item_t item;
    hub_merge_stats_t stats;
    hub_item_open(&item, env.data, env.len, xs_identity_public(fx->node)->sign);
    assert_int_equal(item.open_err, XS_OK);
    assert_int_equal(hub_merge(&fx->hub, &item, 1, &stats), XS_OK);
    assert_int_equal(item.status, XS_ACK_ACCEPTED);
    hub_item_free(&item);
    xs_writer_free(&env);
    for (uint32_t i = 0; i < count; i++)
        xs_writer_free(&recs[i]);
}

/* ---- the hub's year functions in a write step ---- */

typedef struct s_close_call {
    hub_t *hub;
    int64_t now;
    xs_writer_t env;
    hub_close_stats_t stats;
} s_close_call_t;

static xs_err s_close_step(xs_txn_t *txn, void *ctx) {
    s_close_call_t *c = ctx;
    xs_writer_reset(&c->env);
    return hub_year_close(c->hub, txn, S_YEAR, c->now, c->now + 86400, NULL, NULL, &c->env,
                          &c->stats);
}

typedef struct s_amend_call {
    hub_t *hub;
    xs_writer_t env;
    uint32_t number;
    size_t entries;
} s_amend_call_t;

static xs_err s_amend_step(xs_txn_t *txn, void *ctx) {
    s_amend_call_t *a = ctx;
    hub_closed_year_t c;
    xs_writer_reset(&a->env);
    xs_err err = hub_closed_year_load(a->hub, txn, S_YEAR, &c);
    if (err == XS_OK)
        err =
            hub_year_amend(a->hub, txn, &c, (int64_t)time(NULL), &a->env, &a->number, &a->entries);
    hub_closed_year_free(&c);
    return err;
}

/* What the 补认定 list holds. */
typedef struct s_listed {
    size_t count;
    hub_supplement_t last;
    char teacher[XS_ID_MAX + 1];
} s_listed_t;

static xs_err s_collect(void *ctx, const hub_supplement_t *s) {
    s_listed_t *l = ctx;
    l->count++;
    l->last = *s;
    snprintf(l->teacher, sizeof l->teacher, "%.*s", (int)s->entry.teacher_id.len,
             s->entry.teacher_id.ptr);
    return XS_OK;
}

static size_t s_supplements(fixture_t *fx, s_listed_t *l) {
    xs_txn_t *txn = NULL;
    hub_closed_year_t c;
    memset(l, 0, sizeof *l);
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_closed_year_load(&fx->hub, txn, S_YEAR, &c), XS_OK);
    assert_int_equal(hub_year_supplements(&fx->hub, txn, &c, s_collect, l), XS_OK);
    hub_closed_year_free(&c);
    xs_store_end(&txn);
    return l->count;
}

/* Issues teacher T1's receipt from the hub's state now and opens it into fx->receipt. */
static void s_t1_receipt(fixture_t *fx) {
    xs_txn_t *txn = NULL;
    xs_writer_t env;
    xs_writer_init(&env, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_issue_one(&fx->hub, txn, "T1", 2, &env), XS_OK);
    xs_store_end(&txn);
    assert_int_equal(
        xs_receipt_open(env.data, env.len, xs_identity_public(fx->hub.id)->sign, &fx->receipt),
        XS_OK);
    xs_writer_free(&env);
}

/* The credited seconds of the receipt's total of scope and year (bucket 0). */
static uint64_t s_total(const xs_receipt_t *r, unsigned scope, int year) {
    for (uint32_t i = 0; i < r->total_count; i++)
        if (r->totals[i].scope == scope && r->totals[i].year == year)
            return r->totals[i].credited_seconds;
    fail_msg("no total of scope %u year %d", scope, year);
    return 0;
}

static const xs_receipt_period_t *s_period(const xs_receipt_t *r, int year) {
    for (uint32_t i = 0; i < r->period_count; i++)
        if (r->periods[i].scope == XS_SCOPE_YEAR && r->periods[i].year == year)
            return &r->periods[i];
    fail_msg("no period %d", year);
    return NULL;
}

static xs_err s_objection_step(xs_txn_t *txn, void *ctx) {
    uint32_t *number = ctx;
    return hub_year_objection_add(txn, S_YEAR, "T2", "漏登", 1780000000, number);
}

static xs_err s_decide_step(xs_txn_t *txn, void *ctx) {
    (void)ctx;
    return hub_year_objection_decide(txn, S_YEAR, 1, "维持原认定", 1780000100);
}

static xs_err s_finalize_step(xs_txn_t *txn, void *ctx) {
    s_amend_call_t *a = ctx;
    hub_closed_year_t c;
    xs_writer_reset(&a->env);
    xs_err err = hub_closed_year_load(a->hub, txn, S_YEAR, &c);
    if (err == XS_OK)
        err = hub_year_finalize(a->hub, txn, &c, 1780000200, &a->env);
    hub_closed_year_free(&c);
    return err;
}

static void test_close_freeze_supplement(void **state) {
    fixture_t *fx = *state;
    const uint8_t *hub_key = xs_identity_public(fx->hub.id)->sign;
    /* T1: 10 h in 2025-2026 and 5 h in 2024-2025 (cycle 15 h: met); X9, unrostered, 2 h. */
    activity_t first[] = {
        {"T1", "2025-10-10", "600"}, {"T1", "2024-10-10", "300"}, {"X9", "2025-11-01", "120"}};
    s_send(fx, first, 3);

    s_close_call_t c;
    memset(&c, 0, sizeof c);
    c.hub = &fx->hub;
    c.now = (int64_t)time(NULL);
    xs_writer_init(&c.env, XS_YEAR_MAX_BYTES);
    assert_int_equal(xs_store_update(fx->hub.store, s_close_step, &c), XS_OK);
    assert_int_equal(c.stats.teachers, 3);
    assert_int_equal(c.stats.unrostered, 1);
    assert_int_equal(c.stats.met, 1);
    assert_int_equal(c.stats.not_met, 2);
    assert_int_equal(c.stats.records, 2);
    /* Closing again is refused, and changes nothing. */
    assert_int_equal(xs_store_update(fx->hub.store, s_close_step, &c), XS_EEXIST);

    xs_year_doc_t doc;
    xs_writer_reset(&c.env);
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_year_get(txn, S_YEAR, HUB_YEAR_DOC, 0, &v), XS_OK);
    assert_int_equal(xs_year_open(v.ptr, v.len, hub_key, &doc), XS_OK);
    xs_store_end(&txn);
    assert_int_equal(doc.year, S_YEAR);
    assert_int_equal(doc.roster_version, 1);
    assert_int_equal(doc.row_count, 3);
    const xs_year_row_t *t1 = xs_year_find(doc.rows, doc.row_count, "T1", 2);
    const xs_year_row_t *t2 = xs_year_find(doc.rows, doc.row_count, "T2", 2);
    const xs_year_row_t *x9 = xs_year_find(doc.rows, doc.row_count, "X9", 2);
    assert_non_null(t1);
    assert_non_null(t2);
    assert_non_null(x9);
    assert_int_equal(t1->met, XS_MET_YES);
    assert_int_equal(t1->credited_seconds, 36000);
    assert_int_equal(t1->name.len, strlen("张伟"));
    assert_int_equal(t2->met, XS_MET_NO);
    assert_int_equal(t2->credited_seconds, 0);
    assert_int_equal(t2->total_count, 2); /* the year row and the cycle row, both 0 */
    assert_int_equal(x9->state, XS_STANDING_UNROSTERED);
    assert_int_equal(x9->school_id.len, 2); /* its node's school, S1 */

    /* T1's receipt: the year is closed with the document's hash. */
    s_t1_receipt(fx);
    const xs_receipt_period_t *p = s_period(&fx->receipt, S_YEAR);
    assert_int_equal(p->closed, 1);
    assert_memory_equal(p->closed_hash, doc.hash, 32);
    assert_int_equal(p->record_count, 1);
    assert_int_equal(s_period(&fx->receipt, 2024)->closed, 0);
    assert_int_equal(s_total(&fx->receipt, XS_SCOPE_YEAR, S_YEAR), 36000);
    assert_int_equal(s_total(&fx->receipt, XS_SCOPE_CYCLE, 2024), 54000);
    s_listed_t l;
    assert_int_equal(s_supplements(fx, &l), 0);

    /* A late 2 h of T1 dated in the closed year: the closed year does not move, the cycle
     * counts the year at its frozen credit; the record is on the 补认定 list. */
    activity_t late[] = {{"T1", "2026-03-01", "120"}};
    s_send(fx, late, 1);
    s_t1_receipt(fx);
    p = s_period(&fx->receipt, S_YEAR);
    assert_int_equal(p->closed, 1);
    assert_int_equal(p->record_count, 1);
    assert_int_equal(s_total(&fx->receipt, XS_SCOPE_YEAR, S_YEAR), 36000);
    assert_int_equal(s_total(&fx->receipt, XS_SCOPE_CYCLE, 2024), 54000);
    assert_int_equal(s_supplements(fx, &l), 1);
    assert_string_equal(l.teacher, "T1");
    assert_int_equal(l.last.late, 1);
    assert_int_equal(l.last.entry.frozen_seconds, 0);
    assert_int_equal(l.last.entry.seconds, 7200);
    assert_int_equal(l.last.entry.seq, 4);

    /* Amendment 1 certifies it: the receipt follows, and the list is empty. */
    s_amend_call_t a;
    memset(&a, 0, sizeof a);
    a.hub = &fx->hub;
    xs_writer_init(&a.env, XS_YEAR_MAX_BYTES);
    assert_int_equal(xs_store_update(fx->hub.store, s_amend_step, &a), XS_OK);
    assert_int_equal(a.number, 1);
    assert_int_equal(a.entries, 1);
    xs_year_amend_t amend;
    assert_int_equal(xs_year_amend_open(a.env.data, a.env.len, hub_key, &amend), XS_OK);
    assert_memory_equal(amend.closed_hash, doc.hash, 32);
    assert_int_equal(amend.row_count, 1);
    assert_int_equal(amend.rows[0].credited_seconds, 43200);
    assert_int_equal(amend.rows[0].met, XS_MET_YES);
    xs_year_amend_free(&amend);
    assert_int_equal(s_supplements(fx, &l), 0);
    s_t1_receipt(fx);
    p = s_period(&fx->receipt, S_YEAR);
    assert_int_equal(p->record_count, 2);
    assert_memory_equal(p->closed_hash, doc.hash, 32);
    assert_int_equal(s_total(&fx->receipt, XS_SCOPE_YEAR, S_YEAR), 43200);
    assert_int_equal(s_total(&fx->receipt, XS_SCOPE_CYCLE, 2024), 61200);
    /* Nothing more to supplement: no amendment 2. */
    assert_int_equal(xs_store_update(fx->hub.store, s_amend_step, &a), XS_OK);
    assert_int_equal(a.number, 0);

    /* An objection, undecided: no finalization; decided: signed once. */
    uint32_t number = 0;
    assert_int_equal(xs_store_update(fx->hub.store, s_objection_step, &number), XS_OK);
    assert_int_equal(number, 1);
    assert_int_equal(xs_store_update(fx->hub.store, s_finalize_step, &a), XS_EAGAIN);
    assert_int_equal(xs_store_update(fx->hub.store, s_decide_step, NULL), XS_OK);
    assert_int_equal(xs_store_update(fx->hub.store, s_finalize_step, &a), XS_OK);
    xs_year_final_t final;
    assert_int_equal(xs_year_final_open(a.env.data, a.env.len, hub_key, &final), XS_OK);
    assert_int_equal(final.objection_count, 1);
    assert_int_equal(final.objections[0].number, 1);
    assert_int_equal(final.objections[0].decided_at, 1780000100);
    assert_memory_equal(final.closed_hash, doc.hash, 32);
    xs_year_final_free(&final);
    assert_int_equal(xs_store_update(fx->hub.store, s_finalize_step, &a), XS_EEXIST);

    xs_year_doc_free(&doc);
    xs_writer_free(&a.env);
    xs_writer_free(&c.env);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_close_freeze_supplement, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("hub_year", tests, NULL, NULL);
}
