/* test_chain: what a store holds of an origin's chain: entries written and read back, the
 * contiguous head, the highest seq and the gaps a VIEW reports (protocol.md §2.1, §5). */
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
#include "xs/chain.h"

static const char *const s_tables[1] = {"chain"};

typedef struct fixture {
    char dir[256];
    xs_store_t *store;
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_chain") != 0 ||
        xs_store_open(&fx->store, fx->dir, s_tables, 1, 0) != XS_OK)
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

typedef struct s_put {
    const uint8_t *origin;
    const xs_chain_entry_t *entries;
    size_t count;
    int link;
} s_put_t;

static xs_err s_put_step(xs_txn_t *txn, void *ctx) {
    const s_put_t *p = ctx;
    xs_err err = XS_OK;
    for (size_t i = 0; i < p->count && err == XS_OK; i++)
        err = xs_chain_put(txn, 0, p->origin, &p->entries[i], p->link);
    return err;
}

static xs_chain_entry_t s_entry(uint64_t first, uint32_t count, uint8_t fill) {
    xs_chain_entry_t e;
    memset(&e, 0, sizeof e);
    e.first_seq = first;
    e.count = count;
    memset(e.hash, fill, 32);
    memset(e.prev_hash, fill - 1, 32);
    return e;
}

/* Batches 1-10, 11-15 and 31-40 held, 16-30 missing: the node is told to send from 16. */
static void test_view_reports_head_and_gaps(void **state) {
    fixture_t *fx = *state;
    uint8_t a[32], b[32];
    memset(a, 0xaa, 32);
    memset(b, 0xbb, 32);
    xs_chain_entry_t es[3] = {s_entry(1, 10, 2), s_entry(11, 5, 3), s_entry(31, 10, 4)};
    xs_chain_entry_t other = s_entry(1, 99, 9);
    s_put_t put = {a, es, 3, 1}, put_b = {b, &other, 1, 1};
    assert_int_equal(xs_store_update(fx->store, s_put_step, &put), XS_OK);
    assert_int_equal(xs_store_update(fx->store, s_put_step, &put_b), XS_OK);
    xs_txn_t *txn = NULL;
    xs_chain_view_t view;
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(xs_chain_view(txn, 0, a, &view), XS_OK);
    assert_int_equal(view.have_through, 15);
    assert_int_equal(view.held_max, 40);
    assert_int_equal(view.gap_count, 1);
    assert_int_equal(view.gaps[0][0], 16);
    assert_int_equal(view.gaps[0][1], 30);
    assert_int_equal(view.batches, 3);
    assert_int_equal(xs_chain_view(txn, 0, b, &view), XS_OK);
    assert_int_equal(view.have_through, 99);
    xs_store_end(&txn);
}

/* The same chain viewed from a known head: only the entries past it are read, and the view
 * is the whole walk's; a head at 2^64 - 1 has nothing past it. */
static void test_view_after_head(void **state) {
    fixture_t *fx = *state;
    uint8_t a[32];
    memset(a, 0xaa, 32);
    xs_chain_entry_t es[3] = {s_entry(1, 10, 2), s_entry(11, 5, 3), s_entry(31, 10, 4)};
    s_put_t put = {a, es, 3, 1};
    assert_int_equal(xs_store_update(fx->store, s_put_step, &put), XS_OK);
    xs_txn_t *txn = NULL;
    xs_chain_view_t view;
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(xs_chain_view_after(txn, 0, a, 15, 2, &view), XS_OK);
    assert_int_equal(view.have_through, 15);
    assert_int_equal(view.held_max, 40);
    assert_int_equal(view.gap_count, 1);
    assert_int_equal(view.gaps[0][0], 16);
    assert_int_equal(view.gaps[0][1], 30);
    assert_int_equal(view.batches, 3);
    /* The head's count is taken as given: the entries before it are not read. */
    assert_int_equal(xs_chain_view_after(txn, 0, a, 15, 7, &view), XS_OK);
    assert_int_equal(view.batches, 8);
    assert_int_equal(xs_chain_view_after(txn, 0, a, UINT64_MAX, 4, &view), XS_OK);
    assert_int_equal(view.have_through, UINT64_MAX);
    assert_int_equal(view.held_max, UINT64_MAX);
    assert_int_equal(view.gap_count, 0);
    assert_int_equal(view.batches, 4);
    xs_store_end(&txn);
}

/* An entry reads back as written, with or without its link; a damaged value is corrupt. */
static void test_entries_round_trip(void **state) {
    fixture_t *fx = *state;
    uint8_t a[32];
    memset(a, 0xaa, 32);
    xs_chain_entry_t linked = s_entry(1, 7, 5), bare = s_entry(8, 3, 6), got;
    s_put_t p1 = {a, &linked, 1, 1}, p2 = {a, &bare, 1, 0};
    assert_int_equal(xs_store_update(fx->store, s_put_step, &p1), XS_OK);
    assert_int_equal(xs_store_update(fx->store, s_put_step, &p2), XS_OK);
    xs_txn_t *txn = NULL;
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(xs_chain_get(txn, 0, a, 1, &got), XS_OK);
    assert_int_equal(got.count, 7);
    assert_memory_equal(got.hash, linked.hash, 32);
    assert_memory_equal(got.prev_hash, linked.prev_hash, 32);
    assert_int_equal(xs_chain_get(txn, 0, a, 8, &got), XS_OK);
    assert_int_equal(got.first_seq, 8);
    uint8_t zeros[32] = {0};
    assert_memory_equal(got.prev_hash, zeros, 32);
    assert_int_equal(xs_chain_get(txn, 0, a, 9, &got), XS_ENOTFOUND);
    uint8_t key[XS_CHAIN_KEY_BYTES], junk[5] = {0};
    xs_chain_key(a, 1, key);
    xs_bytes_t k = {key, sizeof key}, v = {junk, sizeof junk};
    assert_int_equal(xs_chain_parse(&k, &v, &got), XS_ECORRUPT);
    xs_store_end(&txn);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_view_reports_head_and_gaps, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_view_after_head, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_entries_round_trip, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("chain", tests, NULL, NULL);
}
