/* test_lanes: the raw walks of a node's batch, receipt and satellite tables hand on every
 * entry, damaged ones marked, the satellites' heads stepped over; batch lookups by lane; a
 * satellite's view from its head equals the whole walk's, in and out of order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "lanes.h"

/* Two satellites' signing keys: A sorts before B. */
static const uint8_t s_a[32] = {0xa0, 1};
static const uint8_t s_b[32] = {0xb0, 2};

/* A node store in a scratch directory holding the entries s_fill writes. */
typedef struct fixture {
    char dir[256];     /* the scratch directory */
    char path[300];    /* dir/store */
    xs_store_t *store; /* open on path */
} fixture_t;

/* Own batches at 1 and 5 and one under a damaged key; satellite A's batches at 1 and 3, B's at
 * 1, and one under a damaged key; their chain, with a damaged entry; counters, one damaged by
 * its name, one by its value; a receipt of A's teacher T1 and one under a damaged key. */
static xs_err s_fill(xs_txn_t *txn, void *ctx) {
    static const uint8_t hash[32] = {9};
    node_lane_t self = node_lane_self(), a = node_lane_satellite(s_a), b = node_lane_satellite(s_b);
    uint8_t key[64];
    xs_err err;
    (void)ctx;
    if ((err = node_lane_store(txn, &self, 1, 4, hash, "own1", 4)) != XS_OK ||
        (err = node_lane_store(txn, &self, 5, 2, hash, "own5", 4)) != XS_OK ||
        (err = xs_store_put(txn, NODE_T_BATCHES, "xyz", 3, "bad", 3, 0)) != XS_OK ||
        (err = node_lane_store(txn, &a, 1, 2, hash, "a1", 2)) != XS_OK ||
        (err = node_lane_store(txn, &a, 3, 1, hash, "a3", 2)) != XS_OK ||
        (err = node_lane_store(txn, &b, 1, 7, hash, "b1", 2)) != XS_OK ||
        (err = xs_store_put(txn, NODE_T_SAT_BATCHES, "short", 5, "bad", 3, 0)) != XS_OK)
        return err;
    xs_chain_key(s_b, 9, key);
    if ((err = xs_store_put(txn, NODE_T_SAT_CHAIN, key, 40, "bad", 3, 0)) != XS_OK ||
        (err = node_lane_put(txn, &a, NODE_LANE_ACKED, 7)) != XS_OK ||
        (err = node_lane_put(txn, &a, NODE_LANE_RECEIPTS_GEN, 2)) != XS_OK)
        return err;
    memcpy(key, s_b, 32);
    memcpy(key + 32, "bogus", 5);
    if ((err = xs_store_put(txn, NODE_T_SAT_STATE, key, 37, "12345678", 8, 0)) != XS_OK)
        return err;
    memcpy(key + 32, "acked_through", 13);
    if ((err = xs_store_put(txn, NODE_T_SAT_STATE, key, 45, "123", 3, 0)) != XS_OK ||
        (err = node_lane_receipt_put(txn, &a, "T1", 2, "r1", 2)) != XS_OK)
        return err;
    return xs_store_put(txn, NODE_T_SAT_RECEIPTS, "0123456789", 10, "bad", 3, 0);
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_lanes") != 0)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/store", fx->dir);
    if (xs_store_open(&fx->store, fx->path, node_tables, NODE_T_COUNT, 0) != XS_OK ||
        xs_store_update(fx->store, s_fill, NULL) != XS_OK)
        return -1;
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_store_close(&fx->store);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* What a raw walk gave, one line per entry: "-" for a damaged key, else the origin's first
 * byte (0 for this node's own), then first_seq or the teacher, and the value. */
typedef struct s_seen {
    char text[512];
    size_t used;
} s_seen_t;

static xs_err s_raw(void *ctx, const node_lane_raw_t *e) {
    s_seen_t *s = ctx;
    int n;
    if (e->damaged)
        n = snprintf(s->text + s->used, sizeof s->text - s->used, "- %.*s\n", (int)e->value.len,
                     (const char *)e->value.ptr);
    else if (e->teacher)
        n = snprintf(s->text + s->used, sizeof s->text - s->used, "%x %.*s %.*s\n", e->origin[0],
                     (int)e->teacher_len, e->teacher, (int)e->value.len,
                     (const char *)e->value.ptr);
    else
        n = snprintf(s->text + s->used, sizeof s->text - s->used, "%x %llu %.*s\n",
                     e->origin ? e->origin[0] : 0, (unsigned long long)e->first_seq,
                     (int)e->value.len, (const char *)e->value.ptr);
    s->used += (size_t)n;
    return XS_OK;
}

static void test_raw_batches(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    node_lane_t self = node_lane_self(), a = node_lane_satellite(s_a);
    s_seen_t own = {"", 0}, sats = {"", 0}, only_a = {"", 0};
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_lane_raw_batches(txn, &self, s_raw, &own), XS_OK);
    assert_string_equal(own.text, "0 1 own1\n0 5 own5\n- bad\n");
    assert_int_equal(node_lane_raw_batches(txn, NULL, s_raw, &sats), XS_OK);
    assert_string_equal(sats.text, "- bad\na0 1 a1\na0 3 a3\nb0 1 b1\n");
    assert_int_equal(node_lane_raw_batches(txn, &a, s_raw, &only_a), XS_OK);
    assert_string_equal(only_a.text, "a0 1 a1\na0 3 a3\n");
    xs_store_end(&txn);
}

static void test_batch_get(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    xs_bytes_t env;
    node_lane_t self = node_lane_self(), a = node_lane_satellite(s_a);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_lane_batch_get(txn, &a, 3, &env), XS_OK);
    assert_int_equal(env.len, 2);
    assert_memory_equal(env.ptr, "a3", 2);
    assert_int_equal(node_lane_batch_get(txn, &self, 5, &env), XS_OK);
    assert_memory_equal(env.ptr, "own5", 4);
    assert_int_equal(node_lane_own_batch(txn, 1, &env), XS_OK);
    assert_memory_equal(env.ptr, "own1", 4);
    assert_int_equal(node_lane_batch_get(txn, &a, 2, &env), XS_ENOTFOUND);
    xs_store_end(&txn);
}

static void test_raw_receipts(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    s_seen_t seen = {"", 0};
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_lane_raw_receipts(txn, s_raw, &seen), XS_OK);
    assert_string_equal(seen.text, "- bad\na0 T1 r1\n");
    xs_store_end(&txn);
}

static xs_err s_link(void *ctx, const node_lane_link_t *link) {
    s_seen_t *s = ctx;
    int n;
    if (link->head)
        n = snprintf(s->text + s->used, sizeof s->text - s->used, "%x head\n", link->origin[0]);
    else if (link->damaged)
        n = snprintf(s->text + s->used, sizeof s->text - s->used, "- %zu\n", link->key.len);
    else
        n = snprintf(s->text + s->used, sizeof s->text - s->used, "%x %llu+%u %x\n",
                     link->origin[0], (unsigned long long)link->entry.first_seq,
                     (unsigned)link->entry.count, link->entry.hash[0]);
    s->used += (size_t)n;
    return XS_OK;
}

static void test_links(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    s_seen_t seen = {"", 0};
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_lane_links(txn, s_link, &seen), XS_OK);
    assert_string_equal(seen.text, "a0 head\na0 1+2 9\na0 3+1 9\nb0 head\nb0 1+7 9\n- 40\n");
    xs_store_end(&txn);
}

static xs_err s_state(void *ctx, const node_lane_state_t *st) {
    s_seen_t *s = ctx;
    int n;
    if (st->damaged)
        n = snprintf(s->text + s->used, sizeof s->text - s->used, "- %zu\n", st->key.len);
    else
        n = snprintf(s->text + s->used, sizeof s->text - s->used, "%x %s %llu\n", st->origin[0],
                     st->which == NODE_LANE_RECEIPTS_GEN ? "gen" : "acked",
                     (unsigned long long)st->value);
    s->used += (size_t)n;
    return XS_OK;
}

static void test_states(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    s_seen_t seen = {"", 0};
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_lane_states(txn, s_state, &seen), XS_OK);
    assert_string_equal(seen.text, "a0 acked 7\na0 gen 2\n- 45\n- 37\n");
    xs_store_end(&txn);
}

/* A satellite's batches stored in a scrambled order, with gaps: after every one, the view
 * read from its head is the whole walk's. */
typedef struct s_sat_put {
    const uint8_t *origin;
    uint64_t first;
    uint32_t count;
} s_sat_put_t;

static xs_err s_sat_put(xs_txn_t *txn, void *ctx) {
    static const uint8_t hash[32] = {7};
    const s_sat_put_t *p = ctx;
    node_lane_t lane = node_lane_satellite(p->origin);
    return node_lane_store(txn, &lane, p->first, p->count, hash, "env", 3);
}

static void test_view_from_head(void **state) {
    fixture_t *fx = *state;
    static const uint8_t c[32] = {0xc0, 3};
    enum { N = 300 };
    size_t order[N];
    for (size_t i = 0; i < N; i++)
        order[i] = (i * 7919) % N; /* every batch once, scrambled */
    for (size_t i = 0; i < N; i++) {
        if (order[i] % 50 == 25)
            continue; /* gaps that stay */
        s_sat_put_t p = {c, 1 + order[i] * 3, 3};
        assert_int_equal(xs_store_update(fx->store, s_sat_put, &p), XS_OK);
        if (i % 10 != 0 && i < N - 5)
            continue;
        xs_txn_t *txn = NULL;
        xs_chain_view_t got, walked;
        assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
        assert_int_equal(node_lane_view(txn, c, &got), XS_OK);
        assert_int_equal(xs_chain_view(txn, NODE_T_SAT_CHAIN, c, &walked), XS_OK);
        xs_store_end(&txn);
        assert_int_equal(got.have_through, walked.have_through);
        assert_int_equal(got.held_max, walked.held_max);
        assert_int_equal(got.batches, walked.batches);
        assert_int_equal(got.gap_count, walked.gap_count);
        for (size_t g = 0; g < walked.gap_count; g++) {
            assert_int_equal(got.gaps[g][0], walked.gaps[g][0]);
            assert_int_equal(got.gaps[g][1], walked.gaps[g][1]);
        }
    }
    xs_txn_t *txn = NULL;
    xs_chain_view_t v;
    xs_bytes_t head;
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_lane_view(txn, c, &v), XS_OK);
    assert_int_equal(v.have_through, 25 * 3); /* batch 25 (seqs 76..78) never came */
    assert_int_equal(v.held_max, N * 3);
    assert_int_equal(v.gap_count, N / 50);
    assert_int_equal(v.batches, N - N / 50);
    assert_int_equal(xs_store_get(txn, NODE_T_SAT_CHAIN, c, 32, &head), XS_OK);
    assert_int_equal(head.len, XS_CHAIN_HEAD_BYTES);
    assert_int_equal(xs_store_key_u64(head.ptr), 25 * 3);
    assert_int_equal(xs_store_key_u64((const uint8_t *)head.ptr + 8), 25);
    xs_store_end(&txn);
}

/* A walk's callback that stops it at the first entry. */
static xs_err s_stop(void *ctx, const node_lane_raw_t *e) {
    (void)e;
    ++*(int *)ctx;
    return XS_EEXIST;
}

static void test_walk_stops(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    int calls = 0;
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_lane_raw_batches(txn, NULL, s_stop, &calls), XS_EEXIST);
    assert_int_equal(calls, 1);
    xs_store_end(&txn);
}

int main(void) {
#define S_TEST(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_raw_batches),    S_TEST(test_batch_get), S_TEST(test_raw_receipts),
        S_TEST(test_links),          S_TEST(test_states),    S_TEST(test_walk_stops),
        S_TEST(test_view_from_head),
    };
#undef S_TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
