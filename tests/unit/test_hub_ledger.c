/* test_hub_ledger: the hub's view of an origin's chain (hub/ledger.c) with the head it keeps:
 * have_through, held_max, the gaps and the batch count of origins with thousands of batches
 * stored in order, out of order and side by side, of a store written before heads, and the
 * walks that share the chain table with the heads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "scratch.h"

/* Seqs a test's origin may hold, at most. */
#define S_MAX_SEQ 20000

typedef struct fixture {
    char dir[256];
    xs_store_t *store;
} fixture_t;

/* What an origin holds, by seq: the model every view is checked against. */
typedef struct s_model {
    uint8_t origin[32];
    uint8_t held[S_MAX_SEQ + 1]; /* 1: seq held */
    uint64_t batches;            /* batches stored or pending */
    xs_batch_t pending[64];      /* batches not yet stored, in order: one commit for them all */
    size_t npending;
} s_model_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx || xs_scratch_make(fx->dir, sizeof fx->dir, "hub_ledger") != 0 ||
        xs_store_open(&fx->store, fx->dir, hub_tables, HUB_T_COUNT, 0) != XS_OK)
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

/* Deterministic generator (splitmix64): the same orders every run. */
static uint64_t s_rng_state;
static uint64_t s_rng(void) {
    uint64_t z = (s_rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A batch of origin's seqs first..first + count - 1 as merge.c hands it to the ledger: its
 * hash and prev_hash derived from the seqs (the ledger stores them, it does not check them). */
static xs_batch_t s_batch(const uint8_t origin[32], uint64_t first, uint32_t count) {
    xs_batch_t b;
    memset(&b, 0, sizeof b);
    memcpy(b.origin, origin, 32);
    b.first_seq = first;
    b.count = count;
    memset(b.hash, 0, 32);
    xs_store_u64_key(first + count - 1, b.hash);
    b.has_prev_hash = first > 1;
    if (b.has_prev_hash)
        xs_store_u64_key(first - 1, b.prev_hash);
    return b;
}

static xs_err s_put_step(xs_txn_t *txn, void *ctx) {
    const s_model_t *m = ctx;
    static const uint8_t envelope[] = "an envelope, verbatim";
    xs_err err = XS_OK;
    for (size_t i = 0; i < m->npending && err == XS_OK; i++)
        err = hub_ledger_put_batch(txn, &m->pending[i], envelope, sizeof envelope);
    return err;
}

/* Stores the model's pending batches through the ledger, in one transaction. */
static void s_flush(fixture_t *fx, s_model_t *m) {
    if (m->npending)
        assert_int_equal(xs_store_update(fx->store, s_put_step, m), XS_OK);
    m->npending = 0;
}

/* Notes a batch in the model, to be stored through the ledger with the next flush. */
static void s_put(fixture_t *fx, s_model_t *m, uint64_t first, uint32_t count) {
    if (m->npending == sizeof m->pending / sizeof m->pending[0])
        s_flush(fx, m);
    m->pending[m->npending++] = s_batch(m->origin, first, count);
    for (uint64_t s = first; s < first + count; s++)
        m->held[s] = 1;
    m->batches++;
}

/* The view the model says the hub must give (xs_chain_view's contract). */
static void s_expected(const s_model_t *m, xs_chain_view_t *v) {
    size_t gaps = 0;
    memset(v, 0, sizeof *v);
    for (uint64_t s = S_MAX_SEQ; s >= 1 && !v->held_max; s--)
        if (m->held[s])
            v->held_max = s;
    for (uint64_t s = 1; s <= v->held_max; s++) {
        if (m->held[s] || (s > 1 && !m->held[s - 1]))
            continue;
        uint64_t to = s;
        while (!m->held[to + 1])
            to++;
        if (gaps < XS_CHAIN_MAX_GAPS) {
            v->gaps[gaps][0] = s;
            v->gaps[gaps][1] = to;
        }
        gaps++;
    }
    v->gap_count = gaps < XS_CHAIN_MAX_GAPS ? gaps : XS_CHAIN_MAX_GAPS;
    v->have_through = gaps ? v->gaps[0][0] - 1 : v->held_max;
    v->batches = m->batches;
}

static void s_same_view(const xs_chain_view_t *got, const xs_chain_view_t *want) {
    assert_int_equal(got->have_through, want->have_through);
    assert_int_equal(got->held_max, want->held_max);
    assert_int_equal(got->batches, want->batches);
    assert_int_equal(got->gap_count, want->gap_count);
    for (size_t i = 0; i < want->gap_count; i++) {
        assert_int_equal(got->gaps[i][0], want->gaps[i][0]);
        assert_int_equal(got->gaps[i][1], want->gaps[i][1]);
    }
}

/* The hub's view of the model's origin equals the model's, and the whole walk's. */
static void s_check_view(fixture_t *fx, s_model_t *m) {
    xs_txn_t *txn = NULL;
    xs_chain_view_t got, walked, want;
    s_flush(fx, m);
    s_expected(m, &want);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(hub_ledger_view(txn, m->origin, &got), XS_OK);
    assert_int_equal(xs_chain_view(txn, HUB_T_CHAIN, m->origin, &walked), XS_OK);
    xs_store_end(&txn);
    s_same_view(&got, &want);
    s_same_view(&walked, &want);
}

static s_model_t *s_model(uint8_t fill) {
    s_model_t *m = calloc(1, sizeof *m);
    assert_non_null(m);
    memset(m->origin, fill, 32);
    return m;
}

/* Reads origin's head as stored: through and batches; 0 when there is none. */
static int s_head(fixture_t *fx, s_model_t *m, uint64_t *through, uint64_t *batches) {
    const uint8_t *origin = m->origin;
    xs_txn_t *txn = NULL;
    s_flush(fx, m);
    xs_bytes_t v;
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    xs_err err = xs_store_get(txn, HUB_T_CHAIN, origin, 32, &v);
    int found = err == XS_OK;
    if (found) {
        assert_int_equal(v.len, 16);
        *through = xs_store_key_u64(v.ptr);
        *batches = xs_store_key_u64((const uint8_t *)v.ptr + 8);
    } else {
        assert_int_equal(err, XS_ENOTFOUND);
    }
    xs_store_end(&txn);
    return found;
}

/* Three origins side by side, thousands of batches each, in order: each view stays whole and
 * each head sits at the origin's last seq. */
static void test_in_order_side_by_side(void **state) {
    fixture_t *fx = *state;
    s_model_t *m[3] = {s_model(0x11), s_model(0x22), s_model(0x33)};
    uint64_t next[3] = {1, 1, 1};
    s_rng_state = 7;
    for (int i = 0; i < 3000; i++) {
        int o = (int)(s_rng() % 3);
        uint32_t count = 1 + (uint32_t)(s_rng() % 5);
        if (next[o] + count > S_MAX_SEQ)
            continue;
        s_put(fx, m[o], next[o], count);
        next[o] += count;
        if (i % 250 == 0)
            s_check_view(fx, m[o]);
    }
    for (int o = 0; o < 3; o++) {
        uint64_t through, batches;
        s_check_view(fx, m[o]);
        assert_true(s_head(fx, m[o], &through, &batches));
        assert_int_equal(through, next[o] - 1);
        assert_int_equal(batches, m[o]->batches);
        assert_true(batches > 900);
        free(m[o]);
    }
}

/* 1,200 batches stored in a random order: the gaps (more than a VIEW lists, at first), the
 * contiguous head and the highest seq are right after every one. */
static void test_out_of_order(void **state) {
    fixture_t *fx = *state;
    enum { N = 1200 };
    s_model_t *m = s_model(0x44), *other = s_model(0x45);
    uint64_t first[N];
    uint32_t count[N];
    size_t order[N], most_gaps = 0;
    uint64_t seq = 1;
    s_rng_state = 11;
    for (size_t i = 0; i < N; i++) {
        first[i] = seq;
        count[i] = 1 + (uint32_t)(s_rng() % 4);
        seq += count[i];
        order[i] = i;
    }
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = (size_t)(s_rng() % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < N; i++) {
        s_put(fx, m, first[order[i]], count[order[i]]);
        /* A neighbour's batches between the checks: its head must not leak into these. */
        if (i % 100 == 0)
            s_put(fx, other, 1 + i / 100 * 2, 2);
        xs_chain_view_t want;
        s_expected(m, &want);
        if (i % 7 == 0 || i > N - 20)
            s_check_view(fx, m);
        size_t gaps = 0;
        for (uint64_t s = 2; s <= want.held_max; s++)
            gaps += !m->held[s] && m->held[s - 1];
        most_gaps = gaps > most_gaps ? gaps : most_gaps;
    }
    assert_true(most_gaps > XS_CHAIN_MAX_GAPS); /* the list was cut, then filled */
    uint64_t through, batches;
    assert_true(s_head(fx, m, &through, &batches));
    assert_int_equal(through, seq - 1);
    assert_int_equal(batches, N);
    s_check_view(fx, other);
    free(m);
    free(other);
}

/* Writes an entry and envelope as a hub did before heads: no head is moved. */
typedef struct s_old_put {
    const xs_batch_t *b;
} s_old_put_t;

static xs_err s_old_put_step(xs_txn_t *txn, void *ctx) {
    const s_old_put_t *p = ctx;
    xs_chain_entry_t e;
    uint8_t key[XS_CHAIN_KEY_BYTES];
    memset(&e, 0, sizeof e);
    e.first_seq = p->b->first_seq;
    e.count = p->b->count;
    memcpy(e.hash, p->b->hash, 32);
    memcpy(e.prev_hash, p->b->prev_hash, 32);
    xs_chain_key(p->b->origin, e.first_seq, key);
    xs_err err = xs_store_put(txn, HUB_T_BATCHES, key, sizeof key, "old", 3, 0);
    return err == XS_OK ? xs_chain_put(txn, HUB_T_CHAIN, p->b->origin, &e, 1) : err;
}

/* A store written before heads: its origins are walked whole, and an origin gets its head
 * with its next batch, right from then on. */
static void test_store_before_heads(void **state) {
    fixture_t *fx = *state;
    s_model_t *m = s_model(0x55);
    uint64_t through, batches;
    /* 1..300 in batches of 3, then 400..402, 500..502 */
    for (uint64_t first = 1; first <= 500; first += 3) {
        if (first > 300 && first != 400 && first != 499)
            continue;
        uint64_t start = first == 499 ? 500 : first;
        xs_batch_t b = s_batch(m->origin, start, 3);
        s_old_put_t p = {&b};
        assert_int_equal(xs_store_update(fx->store, s_old_put_step, &p), XS_OK);
        for (uint64_t s = start; s < start + 3; s++)
            m->held[s] = 1;
        m->batches++;
    }
    s_check_view(fx, m);
    assert_false(s_head(fx, m, &through, &batches));
    s_put(fx, m, 301, 99); /* fills 301..399: the head runs on through 402 */
    assert_true(s_head(fx, m, &through, &batches));
    assert_int_equal(through, 402);
    assert_int_equal(batches, 102);
    s_check_view(fx, m);
    s_put(fx, m, 403, 97); /* and on through 502 */
    assert_true(s_head(fx, m, &through, &batches));
    assert_int_equal(through, 502);
    s_check_view(fx, m);
    free(m);
}

/* A batch whose last seq is 2^64 - 1: the head stops there, no seq wraps to 0. */
static void test_last_seq(void **state) {
    fixture_t *fx = *state;
    s_model_t *m = s_model(0x66);
    xs_txn_t *txn = NULL;
    xs_chain_view_t v;
    uint64_t through, batches;
    m->pending[0] = s_batch(m->origin, 1, 2);
    m->pending[1] = s_batch(m->origin, UINT64_MAX - 1, 2);
    m->npending = 2;
    s_flush(fx, m);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(hub_ledger_view(txn, m->origin, &v), XS_OK);
    xs_store_end(&txn);
    assert_int_equal(v.have_through, 2);
    assert_int_equal(v.held_max, UINT64_MAX);
    assert_int_equal(v.gap_count, 1);
    assert_int_equal(v.gaps[0][0], 3);
    assert_int_equal(v.gaps[0][1], UINT64_MAX - 2);
    assert_int_equal(v.batches, 2);
    assert_true(s_head(fx, m, &through, &batches));
    assert_int_equal(through, 2);
    /* Part of the gap filled: the head runs on over what continues it, to the next gap. */
    m->pending[0] = s_batch(m->origin, 3, UINT32_MAX);
    m->pending[1] = s_batch(m->origin, 3 + (uint64_t)UINT32_MAX, 1);
    m->npending = 2;
    s_flush(fx, m);
    assert_true(s_head(fx, m, &through, &batches));
    assert_int_equal(through, 3 + (uint64_t)UINT32_MAX);
    assert_int_equal(batches, 3);
    free(m);
}

/* Entries inside the head (hub_ledger_check lets none through; the ledger still counts them
 * right): an overlapping batch is one more, the same batch stored again is not. */
static void test_inside_head(void **state) {
    fixture_t *fx = *state;
    s_model_t *m = s_model(0x69);
    s_put(fx, m, 1, 10);
    s_put(fx, m, 11, 10);
    s_check_view(fx, m);
    s_put(fx, m, 5, 30); /* overlaps both, runs past the head */
    s_check_view(fx, m);
    s_put(fx, m, 1, 10); /* the first batch again: the same entry */
    m->batches--;
    s_check_view(fx, m);
    uint64_t through, batches;
    assert_true(s_head(fx, m, &through, &batches));
    assert_int_equal(through, 34);
    assert_int_equal(batches, 3);
    free(m);
}

static xs_err s_count_batch(void *ctx, const xs_chain_entry_t *e, const uint8_t *envelope,
                            size_t len) {
    uint64_t *next = ctx;
    (void)envelope;
    (void)len;
    assert_int_equal(e->first_seq, *next);
    *next = e->first_seq + e->count;
    return XS_OK;
}

/* The other walks of the chain table step over the heads next to the entries: the check
 * before a merge, the walk of a node's batches back, the batch ending at a seq. */
static void test_walks_beside_heads(void **state) {
    fixture_t *fx = *state;
    s_model_t *a = s_model(0x77), *b = s_model(0x78);
    xs_txn_t *txn = NULL;
    int held, fork, linked;
    for (uint64_t first = 1; first < 100; first += 9) {
        s_put(fx, a, first, 9);
        s_put(fx, b, first, 9);
    }
    s_flush(fx, a);
    s_flush(fx, b);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    xs_batch_t next = s_batch(b->origin, 100, 5), again = s_batch(b->origin, 1, 9);
    xs_batch_t first = s_batch(b->origin, 1, 4), other = s_batch(b->origin, 10, 3);
    assert_int_equal(hub_ledger_check(txn, &next, &held, &fork, &linked), XS_OK);
    assert_true(!held && !fork && linked);
    assert_int_equal(hub_ledger_check(txn, &again, &held, &fork, &linked), XS_OK);
    assert_true(held && !fork);
    assert_int_equal(hub_ledger_check(txn, &first, &held, &fork, &linked), XS_OK);
    assert_true(!held && fork);
    assert_int_equal(hub_ledger_check(txn, &other, &held, &fork, &linked), XS_OK);
    assert_true(!held && fork);
    uint64_t seq = 1;
    assert_int_equal(hub_ledger_batches_each(txn, a->origin, 0, s_count_batch, &seq), XS_OK);
    assert_int_equal(seq, 100);
    seq = 37;
    assert_int_equal(hub_ledger_batches_each(txn, b->origin, 40, s_count_batch, &seq), XS_OK);
    assert_int_equal(seq, 100);
    xs_chain_entry_t e;
    assert_int_equal(hub_ledger_ending(txn, a->origin, 9, &e), XS_OK);
    assert_int_equal(e.first_seq, 1);
    assert_int_equal(hub_ledger_ending(txn, b->origin, 10, &e), XS_ENOTFOUND);
    xs_store_end(&txn);
    free(a);
    free(b);
}

/* A damaged head is reported, not trusted. */
static xs_err s_damage_head(xs_txn_t *txn, void *ctx) {
    return xs_store_put(txn, HUB_T_CHAIN, ctx, 32, "short", 5, 0);
}

static void test_damaged_head(void **state) {
    fixture_t *fx = *state;
    s_model_t *m = s_model(0x88);
    xs_txn_t *txn = NULL;
    xs_chain_view_t v;
    s_put(fx, m, 1, 3);
    s_flush(fx, m);
    assert_int_equal(xs_store_update(fx->store, s_damage_head, m->origin), XS_OK);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(hub_ledger_view(txn, m->origin, &v), XS_ECORRUPT);
    xs_store_end(&txn);
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_order_side_by_side, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_before_heads, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_last_seq, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_inside_head, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_walks_beside_heads, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_head, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
