/* test_node: what node.c offers about its tables: meta lengths, the meta walk, raw walks of
 * the records and the dedupe index. */
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
#include "node.h"

/* An empty node store in a scratch directory. */
typedef struct fixture {
    char dir[256];     /* the scratch directory */
    char path[300];    /* dir/store */
    xs_store_t *store; /* open on path */
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_node") != 0)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/store", fx->dir);
    if (xs_store_open(&fx->store, fx->path, node_tables, NODE_T_COUNT, 0) != XS_OK)
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

/* One entry written as it is, damaged or not. */
typedef struct s_put {
    unsigned table;
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
} s_put_t;

typedef struct s_puts {
    const s_put_t *puts;
    size_t n;
} s_puts_t;

static xs_err s_put_step(xs_txn_t *txn, void *ctx) {
    const s_puts_t *p = ctx;
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < p->n; i++)
        err = xs_store_put(txn, p->puts[i].table, p->puts[i].key, p->puts[i].klen, p->puts[i].val,
                           p->puts[i].vlen, 0);
    return err;
}

static void s_put_all(fixture_t *fx, const s_put_t *puts, size_t n) {
    s_puts_t p = {puts, n};
    assert_int_equal(xs_store_update(fx->store, s_put_step, &p), XS_OK);
}

/* What node_meta_put returned for a value of each length tried. */
typedef struct s_meta_puts {
    xs_err short_hash, hash, school;
} s_meta_puts_t;

static xs_err s_meta_put_step(xs_txn_t *txn, void *ctx) {
    s_meta_puts_t *r = ctx;
    static const uint8_t hash[32] = {1};
    r->short_hash = node_meta_put(txn, NODE_META_HEAD_HASH, hash, 31);
    r->hash = node_meta_put(txn, NODE_META_HEAD_HASH, hash, 32);
    r->school = node_meta_put(txn, NODE_META_SCHOOL, "S01", 3);
    return XS_OK;
}

static void test_meta_len(void **state) {
    fixture_t *fx = *state;
    s_meta_puts_t r;
    assert_int_equal(node_meta_len(NODE_META_HEAD_HASH), 32);
    assert_int_equal(node_meta_len(NODE_META_SEALED_THROUGH), 8);
    assert_int_equal(node_meta_len(NODE_META_HUB_KEYS), 64);
    assert_int_equal(node_meta_len(NODE_META_SCHOOL), 0);
    assert_int_equal(xs_store_update(fx->store, s_meta_put_step, &r), XS_OK);
    assert_int_equal(r.short_hash, XS_EINVAL);
    assert_int_equal(r.hash, XS_OK);
    assert_int_equal(r.school, XS_OK);
}

static void test_meta_u64(void **state) {
    (void)state;
    static const uint8_t bytes[8] = {0, 0, 0, 0, 0, 0, 1, 2};
    xs_bytes_t v = {bytes, 8}, short_v = {bytes, 7};
    uint64_t out = 0;
    assert_int_equal(node_meta_u64(&v, &out), XS_OK);
    assert_int_equal(out, 258);
    assert_int_equal(node_meta_u64(&short_v, &out), XS_ECORRUPT);
}

/* The names a meta walk gave, one per line; stops after limit entries when limit > 0. */
typedef struct s_names {
    char text[256];
    size_t used;
    int seen, limit;
} s_names_t;

static xs_err s_name(void *ctx, const xs_bytes_t *name, const xs_bytes_t *value) {
    s_names_t *n = ctx;
    (void)value;
    n->used += (size_t)snprintf(n->text + n->used, sizeof n->text - n->used, "%.*s\n",
                                (int)name->len, (const char *)name->ptr);
    return ++n->seen == n->limit ? XS_EEXIST : XS_OK;
}

static void test_meta_each(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    s_names_t all = {.limit = 0}, first = {.limit = 1};
    const s_put_t puts[] = {
        {NODE_T_META, "stray", 5, "x", 1},
        {NODE_T_META, "school", 6, "S01", 3},
    };
    s_put_all(fx, puts, 2);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_meta_each(txn, s_name, &all), XS_OK);
    assert_string_equal(all.text, "school\nstray\n");
    assert_int_equal(node_meta_each(txn, s_name, &first), XS_EEXIST);
    assert_string_equal(first.text, "school\n");
    xs_store_end(&txn);
}

/* The seqs a raw records walk gave, in order. */
typedef struct s_seqs {
    uint64_t seq[8];
    size_t n;
} s_seqs_t;

static xs_err s_raw_record(void *ctx, uint64_t seq, const xs_bytes_t *key,
                           const xs_bytes_t *bytes) {
    s_seqs_t *s = ctx;
    (void)key;
    (void)bytes;
    if (s->n < 8)
        s->seq[s->n++] = seq;
    return XS_OK;
}

static xs_err s_count_record(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len) {
    (void)seq;
    (void)bytes;
    (void)len;
    ++*(int *)ctx;
    return XS_OK;
}

static void test_records_raw(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    uint8_t k1[8], k2[8], k4[8];
    s_seqs_t seen = {{0}, 0};
    int strict = 0;
    uint64_t count = 0;
    xs_store_u64_key(1, k1);
    xs_store_u64_key(2, k2);
    xs_store_u64_key(4, k4); /* 3 is missing */
    const s_put_t puts[] = {
        {NODE_T_RECORDS, k1, 8, "a", 1},
        {NODE_T_RECORDS, k2, 8, "b", 1},
        {NODE_T_RECORDS, k4, 8, "d", 1},
        {NODE_T_RECORDS, "bad", 3, "e", 1}, /* a damaged key, after the others */
    };
    s_put_all(fx, puts, 4);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_records_raw(txn, s_raw_record, &seen), XS_OK);
    assert_int_equal(seen.n, 4);
    assert_int_equal(seen.seq[0], 1);
    assert_int_equal(seen.seq[1], 2);
    assert_int_equal(seen.seq[2], 4);
    assert_int_equal(seen.seq[3], 0);
    /* From a seq on: the entries whose keys sort there or after, the damaged one included. */
    seen.n = 0;
    assert_int_equal(node_records_raw_from(txn, 2, s_raw_record, &seen), XS_OK);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.seq[0], 2);
    assert_int_equal(seen.seq[1], 4);
    assert_int_equal(seen.seq[2], 0);
    /* The strict walk stops at the hole. */
    assert_int_equal(node_records(txn, 1, s_count_record, &strict), XS_ECORRUPT);
    assert_int_equal(strict, 2);
    assert_int_equal(node_table_count(txn, NODE_T_RECORDS, &count), XS_OK);
    assert_int_equal(count, 4);
    xs_bytes_t key = {k4, 8}, short_key = {k4, 7};
    assert_int_equal(node_record_seq(&key), 4);
    assert_int_equal(node_record_seq(&short_key), 0);
    xs_store_end(&txn);
}

/* The entries a dedupe walk gave: key length and seq, in order. */
typedef struct s_dedupes {
    size_t klen[4];
    uint64_t seq[4];
    size_t n;
} s_dedupes_t;

static xs_err s_dedupe(void *ctx, const xs_bytes_t *key, uint64_t seq) {
    s_dedupes_t *d = ctx;
    if (d->n < 4) {
        d->klen[d->n] = key->len;
        d->seq[d->n++] = seq;
    }
    return XS_OK;
}

static void test_dedupe(void **state) {
    fixture_t *fx = *state;
    xs_txn_t *txn = NULL;
    uint8_t five[8];
    s_dedupes_t seen = {{0}, {0}, 0};
    node_dedupe_t k1 = {{'k', '1'}, 2}, k2 = {{'k', '2', '2'}, 3}, k3 = {{'k', '3'}, 2};
    uint64_t seq = 99;
    xs_store_u64_key(5, five);
    const s_put_t puts[] = {
        {NODE_T_DEDUPE, "k1", 2, five, 8},
        {NODE_T_DEDUPE, "k22", 3, "bad", 3}, /* a damaged value */
    };
    s_put_all(fx, puts, 2);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(node_dedupe_each(txn, s_dedupe, &seen), XS_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.klen[0], 2);
    assert_int_equal(seen.seq[0], 5);
    assert_int_equal(seen.klen[1], 3);
    assert_int_equal(seen.seq[1], 0);
    assert_int_equal(node_dedupe_get(txn, &k1, &seq), XS_OK);
    assert_int_equal(seq, 5);
    assert_int_equal(node_dedupe_get(txn, &k2, &seq), XS_OK);
    assert_int_equal(seq, 0);
    assert_int_equal(node_dedupe_get(txn, &k3, &seq), XS_ENOTFOUND);
    xs_store_end(&txn);
}

int main(void) {
#define S_TEST(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_meta_len), S_TEST(test_meta_each),          S_TEST(test_records_raw),
        S_TEST(test_dedupe),   cmocka_unit_test(test_meta_u64),
    };
#undef S_TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
