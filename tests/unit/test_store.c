/* test_store: tables, cursors, atomic write steps, map growth (also with several threads
 * writing and reading at once), full disks and dead processes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"
#include "xs/store.h"

enum { T_ALPHA, T_BETA, T_NTABLES };
static const char *const s_tables[T_NTABLES] = {"alpha", "beta"};

/* Per-test state: a fresh scratch directory and the store path inside it. */
typedef struct fixture {
    char dir[256];  /* scratch directory, removed after the test */
    char path[300]; /* dir/store: not created until xs_store_open */
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_store") != 0) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/store", fx->dir);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

static xs_store_t *s_open(const fixture_t *fx, size_t map_size) {
    xs_store_t *st = NULL;
    assert_int_equal(xs_store_open(&st, fx->path, s_tables, T_NTABLES, map_size), XS_OK);
    assert_non_null(st);
    return st;
}

static off_t s_file_size(const fixture_t *fx) {
    char file[400];
    struct stat sb;
    snprintf(file, sizeof file, "%s/data.mdb", fx->path);
    assert_int_equal(stat(file, &sb), 0);
    return sb.st_size;
}

/* The value stored under number i by the steps below: vlen bytes that depend on i. */
static void s_value(uint64_t i, uint8_t *out, size_t vlen) {
    for (size_t j = 0; j < vlen; j++)
        out[j] = (uint8_t)(i * 131u + j * 7u + (j >> 8));
}

/* A step writing n numbered entries of vlen bytes into table, optionally failing with
 * fail_with once fail_at entries are written. runs counts how often the step ran: a test-only
 * side effect, because the store is allowed (and expected, when the map grows) to rerun a step. */
typedef struct fill {
    unsigned table;
    uint64_t first; /* number of the first entry */
    uint64_t n;     /* entries to write */
    size_t vlen;    /* bytes per value, at most sizeof value */
    uint64_t fail_at;
    xs_err fail_with; /* XS_OK: never fail */
    unsigned runs;
    uint8_t value[8192];
} fill_t;

static xs_err s_fill_step(xs_txn_t *txn, void *ctx) {
    fill_t *f = ctx;
    uint8_t key[8];
    f->runs++;
    for (uint64_t i = f->first; i < f->first + f->n; i++) {
        if (f->fail_with != XS_OK && i - f->first == f->fail_at)
            return f->fail_with;
        xs_store_u64_key(i, key);
        s_value(i, f->value, f->vlen);
        xs_err err = xs_store_put(txn, f->table, key, sizeof key, f->value, f->vlen, 0);
        if (err != XS_OK)
            return err;
    }
    return XS_OK;
}

static void s_fill(xs_store_t *st, unsigned table, uint64_t first, uint64_t n, size_t vlen) {
    static fill_t f;
    memset(&f, 0, sizeof f);
    f.table = table;
    f.first = first;
    f.n = n;
    f.vlen = vlen;
    assert_int_equal(xs_store_update(st, s_fill_step, &f), XS_OK);
}

/* Asserts table holds exactly entries first..first+n-1 as s_fill wrote them. */
static void s_expect_filled(xs_store_t *st, unsigned table, uint64_t first, uint64_t n,
                            size_t vlen) {
    static uint8_t want[8192];
    xs_txn_t *txn = NULL;
    uint64_t count = 0;
    uint8_t key[8];
    xs_bytes_t val;
    assert_int_equal(xs_store_read(st, &txn), XS_OK);
    assert_int_equal(xs_store_count(txn, table, &count), XS_OK);
    assert_int_equal(count, n);
    for (uint64_t i = first; i < first + n; i++) {
        xs_store_u64_key(i, key);
        assert_int_equal(xs_store_get(txn, table, key, sizeof key, &val), XS_OK);
        assert_int_equal(val.len, vlen);
        s_value(i, want, vlen);
        assert_memory_equal(val.ptr, want, vlen);
    }
    xs_store_end(&txn);
    assert_null(txn);
}

static uint64_t s_count(xs_store_t *st, unsigned table) {
    xs_txn_t *txn = NULL;
    uint64_t count = 0;
    assert_int_equal(xs_store_read(st, &txn), XS_OK);
    assert_int_equal(xs_store_count(txn, table, &count), XS_OK);
    xs_store_end(&txn);
    return count;
}

/* ---- open, tables, put/get/del/count ---- */

static void test_open_creates_directory_and_tables(void **state) {
    fixture_t *fx = *state;
    struct stat sb;
    assert_int_equal(stat(fx->path, &sb), -1);
    xs_store_t *st = s_open(fx, 0);
    assert_int_equal(stat(fx->path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_true(s_file_size(fx) > 0);
    assert_int_equal(xs_store_map_size(st), XS_STORE_MAP_DEFAULT);
    /* Both tables exist, start empty, and are separate namespaces. */
    assert_int_equal(s_count(st, T_ALPHA), 0);
    assert_int_equal(s_count(st, T_BETA), 0);
    s_fill(st, T_ALPHA, 1, 3, 10);
    assert_int_equal(s_count(st, T_ALPHA), 3);
    assert_int_equal(s_count(st, T_BETA), 0);
    /* A table index beyond those opened is refused, not undefined. */
    xs_txn_t *txn = NULL;
    uint64_t count;
    assert_int_equal(xs_store_read(st, &txn), XS_OK);
    assert_int_equal(xs_store_count(txn, T_NTABLES, &count), XS_EINVAL);
    xs_store_end(&txn);
    xs_store_close(&st);
    assert_null(st);
    xs_store_close(&st); /* NULL is accepted */
    xs_store_close(NULL);
}

static void test_open_refuses_too_many_tables(void **state) {
    fixture_t *fx = *state;
    const char *names[XS_STORE_MAX_TABLES + 1];
    char buf[XS_STORE_MAX_TABLES + 1][8];
    for (unsigned i = 0; i <= XS_STORE_MAX_TABLES; i++) {
        snprintf(buf[i], sizeof buf[i], "t%u", i);
        names[i] = buf[i];
    }
    xs_store_t *st = (xs_store_t *)1;
    assert_int_equal(xs_store_open(&st, fx->path, names, XS_STORE_MAX_TABLES + 1, 0), XS_EINVAL);
    assert_null(st);
    /* The maximum itself is fine. */
    assert_int_equal(xs_store_open(&st, fx->path, names, XS_STORE_MAX_TABLES, 0), XS_OK);
    xs_store_close(&st);
}

static void test_open_unwritable_parent(void **state) {
    fixture_t *fx = *state;
    if (geteuid() == 0)
        skip(); /* root writes anywhere */
    char path[400];
    snprintf(path, sizeof path, "%s/ro", fx->dir);
    assert_int_equal(mkdir(path, 0500), 0);
    snprintf(path, sizeof path, "%s/ro/store", fx->dir);
    xs_store_t *st = NULL;
    assert_int_equal(xs_store_open(&st, path, s_tables, T_NTABLES, 0), XS_EPERM);
    assert_null(st);
    snprintf(path, sizeof path, "%s/ro", fx->dir);
    rmdir(path);
}

typedef struct kv_step {
    int phase;
    xs_err results[8];
} kv_step_t;

static xs_err s_kv_step(xs_txn_t *txn, void *ctx) {
    kv_step_t *k = ctx;
    xs_err *r = k->results;
    switch (k->phase) {
    case 0:
        r[0] = xs_store_put(txn, T_ALPHA, "apple", 5, "red", 3, 0);
        r[1] = xs_store_put(txn, T_ALPHA, "banana", 6, "yellow", 6, 0);
        r[2] = xs_store_put(txn, T_ALPHA, "cherry", 6, "dark red", 8, 0);
        r[3] = xs_store_put(txn, T_BETA, "apple", 5, "pie", 3, 0);
        break;
    case 1:
        r[0] = xs_store_put(txn, T_ALPHA, "apple", 5, "green", 5, 0); /* plain put overwrites */
        r[1] = xs_store_del(txn, T_ALPHA, "banana", 6);
        r[2] = xs_store_del(txn, T_ALPHA, "durian", 6);
        r[3] = xs_store_put(txn, T_ALPHA, "cherry", 6, "black", 5, XS_PUT_NOOVERWRITE);
        r[4] = xs_store_put(txn, T_ALPHA, "elder", 5, "purple", 6, XS_PUT_NOOVERWRITE);
        r[5] = xs_store_put(txn, T_ALPHA, "apple", 5, "x", 1, XS_PUT_NOOVERWRITE);
        break;
    }
    return XS_OK; /* outcomes are checked by the test; the step itself commits */
}

static void s_expect_value(xs_txn_t *txn, unsigned table, const char *key, const char *want) {
    xs_bytes_t v = {NULL, 0};
    if (!want) {
        assert_int_equal(xs_store_get(txn, table, key, strlen(key), &v), XS_ENOTFOUND);
        return;
    }
    assert_int_equal(xs_store_get(txn, table, key, strlen(key), &v), XS_OK);
    assert_int_equal(v.len, strlen(want));
    assert_memory_equal(v.ptr, want, v.len);
}

static void test_put_get_del_count(void **state) {
    fixture_t *fx = *state;
    xs_store_t *st = s_open(fx, 0);
    kv_step_t k = {0};
    xs_txn_t *txn = NULL;
    uint64_t count;

    assert_int_equal(xs_store_update(st, s_kv_step, &k), XS_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(k.results[i], XS_OK);
    assert_int_equal(xs_store_read(st, &txn), XS_OK);
    s_expect_value(txn, T_ALPHA, "apple", "red");
    s_expect_value(txn, T_ALPHA, "banana", "yellow");
    s_expect_value(txn, T_ALPHA, "cherry", "dark red");
    s_expect_value(txn, T_ALPHA, "durian", NULL);
    s_expect_value(txn, T_BETA, "apple", "pie");
    s_expect_value(txn, T_BETA, "banana", NULL);
    assert_int_equal(xs_store_count(txn, T_ALPHA, &count), XS_OK);
    assert_int_equal(count, 3);
    assert_int_equal(xs_store_count(txn, T_BETA, &count), XS_OK);
    assert_int_equal(count, 1);
    xs_store_end(&txn);

    k.phase = 1;
    assert_int_equal(xs_store_update(st, s_kv_step, &k), XS_OK);
    assert_int_equal(k.results[0], XS_OK);
    assert_int_equal(k.results[1], XS_OK);
    assert_int_equal(k.results[2], XS_ENOTFOUND); /* deleting what is absent */
    assert_int_equal(k.results[3], XS_EEXIST);    /* NOOVERWRITE on a present key */
    assert_int_equal(k.results[4], XS_OK);        /* NOOVERWRITE on a new key */
    assert_int_equal(k.results[5], XS_EEXIST);
    assert_int_equal(xs_store_read(st, &txn), XS_OK);
    s_expect_value(txn, T_ALPHA, "apple", "green");
    s_expect_value(txn, T_ALPHA, "banana", NULL);
    s_expect_value(txn, T_ALPHA, "cherry", "dark red"); /* untouched by the refused put */
    s_expect_value(txn, T_ALPHA, "elder", "purple");
    s_expect_value(txn, T_BETA, "apple", "pie");
    assert_int_equal(xs_store_count(txn, T_ALPHA, &count), XS_OK);
    assert_int_equal(count, 3);
    /* A counter: absent is 0; a value of another length than 8 bytes is corrupt. */
    count = 7;
    assert_int_equal(xs_store_get_u64(txn, T_ALPHA, "durian", 6, &count), XS_OK);
    assert_int_equal(count, 0);
    assert_int_equal(xs_store_get_u64(txn, T_ALPHA, "apple", 5, &count), XS_ECORRUPT);
    xs_store_end(&txn);
    xs_store_end(&txn); /* NULL is accepted */
    xs_store_close(&st);
}

/* ---- cursors and key order ---- */

typedef struct odd_step {
    unsigned table;
} odd_step_t;

/* Writes the odd numbers 1..99 as u64 keys, in a scrambled order. */
static xs_err s_odd_step(xs_txn_t *txn, void *ctx) {
    odd_step_t *o = ctx;
    uint8_t key[8];
    for (uint64_t i = 0; i < 50; i++) {
        uint64_t n = 2 * ((i * 37) % 50) + 1;
        xs_store_u64_key(n, key);
        xs_err err = xs_store_put(txn, o->table, key, sizeof key, &n, sizeof n, 0);
        if (err != XS_OK)
            return err;
    }
    return XS_OK;
}

static uint64_t s_key(xs_bytes_t k) {
    assert_int_equal(k.len, 8);
    return xs_store_key_u64(k.ptr);
}

static void test_cursor_seek_next_last(void **state) {
    fixture_t *fx = *state;
    xs_store_t *st = s_open(fx, 0);
    odd_step_t o = {T_ALPHA};
    assert_int_equal(xs_store_update(st, s_odd_step, &o), XS_OK);

    xs_txn_t *txn = NULL;
    xs_cursor_t *c = NULL;
    xs_bytes_t k, v;
    uint8_t key[8];
    uint64_t val;
    assert_int_equal(xs_store_read(st, &txn), XS_OK);
    assert_int_equal(xs_store_cursor_open(txn, T_ALPHA, &c), XS_OK);

    /* NULL key: the first entry. */
    assert_int_equal(xs_store_cursor_seek(c, NULL, 0, &k, &v), XS_OK);
    assert_int_equal(s_key(k), 1);
    /* An absent key: the first key above it. */
    xs_store_u64_key(40, key);
    assert_int_equal(xs_store_cursor_seek(c, key, sizeof key, &k, &v), XS_OK);
    assert_int_equal(s_key(k), 41);
    assert_int_equal(v.len, sizeof val);
    memcpy(&val, v.ptr, sizeof val);
    assert_int_equal(val, 41);
    /* A present key: itself. */
    xs_store_u64_key(41, key);
    assert_int_equal(xs_store_cursor_seek(c, key, sizeof key, &k, NULL), XS_OK);
    assert_int_equal(s_key(k), 41);
    /* next walks upward to the end, then reports the end. */
    uint64_t expect = 43;
    xs_err err;
    while ((err = xs_store_cursor_next(c, &k, &v)) == XS_OK) {
        assert_int_equal(s_key(k), expect);
        expect += 2;
    }
    assert_int_equal(err, XS_ENOTFOUND);
    assert_int_equal(expect, 101);
    /* Past the last key: nothing. */
    xs_store_u64_key(100, key);
    assert_int_equal(xs_store_cursor_seek(c, key, sizeof key, &k, &v), XS_ENOTFOUND);
    assert_int_equal(xs_store_cursor_last(c, &k, &v), XS_OK);
    assert_int_equal(s_key(k), 99);
    assert_int_equal(xs_store_cursor_next(c, &k, &v), XS_ENOTFOUND);
    xs_store_cursor_close(&c);
    assert_null(c);
    xs_store_cursor_close(&c); /* NULL is accepted */

    /* An empty table has no first, no last, nothing at or above any key. */
    assert_int_equal(xs_store_cursor_open(txn, T_BETA, &c), XS_OK);
    assert_int_equal(xs_store_cursor_seek(c, NULL, 0, &k, &v), XS_ENOTFOUND);
    assert_int_equal(xs_store_cursor_seek(c, key, sizeof key, &k, &v), XS_ENOTFOUND);
    assert_int_equal(xs_store_cursor_last(c, &k, &v), XS_ENOTFOUND);
    xs_store_cursor_close(&c);
    xs_store_end(&txn);
    xs_store_close(&st);
}

static const uint64_t s_numbers[] = {UINT64_MAX,
                                     0,
                                     256,
                                     255,
                                     1,
                                     (uint64_t)1 << 32,
                                     65535,
                                     ((uint64_t)1 << 32) - 1,
                                     65536,
                                     (uint64_t)1 << 63,
                                     ((uint64_t)1 << 63) - 1,
                                     0x0100000000000000u,
                                     0x00ffffffffffffffu,
                                     1000000007,
                                     2};
#define S_NNUMBERS (sizeof s_numbers / sizeof s_numbers[0])

static xs_err s_numbers_step(xs_txn_t *txn, void *ctx) {
    (void)ctx;
    uint8_t key[8];
    for (size_t i = 0; i < S_NNUMBERS; i++) {
        xs_store_u64_key(s_numbers[i], key);
        xs_err err = xs_store_put(txn, T_BETA, key, sizeof key, "", 0, 0);
        if (err != XS_OK)
            return err;
    }
    return XS_OK;
}

static int s_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_u64_key_order_is_numeric(void **state) {
    fixture_t *fx = *state;
    uint8_t a[8], b[8];
    /* Round trip and byte order on their own. */
    for (size_t i = 0; i < S_NNUMBERS; i++) {
        xs_store_u64_key(s_numbers[i], a);
        assert_int_equal(xs_store_key_u64(a), s_numbers[i]);
        for (size_t j = 0; j < S_NNUMBERS; j++) {
            xs_store_u64_key(s_numbers[j], b);
            int bytes = memcmp(a, b, 8);
            int nums = s_cmp_u64(&s_numbers[i], &s_numbers[j]);
            assert_int_equal(bytes < 0, nums < 0);
            assert_int_equal(bytes == 0, nums == 0);
        }
    }
    xs_store_u64_key(0x0102030405060708u, a);
    assert_memory_equal(a, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);

    /* And as the store orders them. */
    uint64_t sorted[S_NNUMBERS];
    memcpy(sorted, s_numbers, sizeof sorted);
    qsort(sorted, S_NNUMBERS, sizeof sorted[0], s_cmp_u64);
    xs_store_t *st = s_open(fx, 0);
    assert_int_equal(xs_store_update(st, s_numbers_step, NULL), XS_OK);
    xs_txn_t *txn = NULL;
    xs_cursor_t *c = NULL;
    xs_bytes_t k;
    assert_int_equal(xs_store_read(st, &txn), XS_OK);
    assert_int_equal(xs_store_cursor_open(txn, T_BETA, &c), XS_OK);
    assert_int_equal(xs_store_cursor_seek(c, NULL, 0, &k, NULL), XS_OK);
    for (size_t i = 0; i < S_NNUMBERS; i++) {
        assert_int_equal(s_key(k), sorted[i]);
        assert_int_equal(xs_store_cursor_next(c, &k, NULL),
                         i + 1 < S_NNUMBERS ? XS_OK : XS_ENOTFOUND);
    }
    xs_store_cursor_close(&c);
    xs_store_end(&txn);
    xs_store_close(&st);
}

/* ---- atomic steps ---- */

static void test_failing_step_writes_nothing(void **state) {
    fixture_t *fx = *state;
    xs_store_t *st = s_open(fx, 0);
    static fill_t f;
    memset(&f, 0, sizeof f);
    f.table = T_ALPHA;
    f.first = 1;
    f.n = 4;
    f.vlen = 16;
    f.fail_at = 3; /* three written, then the step refuses */
    f.fail_with = XS_EPOLICY;
    assert_int_equal(xs_store_update(st, s_fill_step, &f), XS_EPOLICY);
    assert_int_equal(f.runs, 1); /* an error of the step's own is not retried */
    assert_int_equal(s_count(st, T_ALPHA), 0);
    xs_store_close(&st);
    st = s_open(fx, 0);
    assert_int_equal(s_count(st, T_ALPHA), 0);
    xs_store_close(&st);
}

/* Overwrites, deletes and appends across both tables, then fails half way through. */
static xs_err s_halfway_step(xs_txn_t *txn, void *ctx) {
    static uint8_t junk[3000];
    uint8_t key[8];
    xs_err err;
    (void)ctx;
    memset(junk, 0xEE, sizeof junk);
    for (uint64_t i = 0; i < 2000; i++) {
        if (i == 1000)
            return XS_ECORRUPT;
        xs_store_u64_key(i, key); /* overwrite 0..499, delete 500..999 */
        if (i < 500)
            err = xs_store_put(txn, T_ALPHA, key, sizeof key, junk, 100, 0);
        else
            err = xs_store_del(txn, T_ALPHA, key, sizeof key);
        if (err != XS_OK)
            return err;
        xs_store_u64_key(100000 + i, key); /* new entries, many pages of them */
        if ((err = xs_store_put(txn, T_BETA, key, sizeof key, junk, sizeof junk, 0)) != XS_OK)
            return err;
    }
    return XS_OK;
}

static void test_step_failing_halfway_leaves_no_trace(void **state) {
    fixture_t *fx = *state;
    xs_store_t *st = s_open(fx, 0);
    s_fill(st, T_ALPHA, 0, 1000, 40);
    assert_int_equal(xs_store_update(st, s_halfway_step, NULL), XS_ECORRUPT);
    s_expect_filled(st, T_ALPHA, 0, 1000, 40);
    assert_int_equal(s_count(st, T_BETA), 0);
    xs_store_close(&st);
    st = s_open(fx, 0);
    s_expect_filled(st, T_ALPHA, 0, 1000, 40);
    assert_int_equal(s_count(st, T_BETA), 0);
    /* The store is still fine for the next step. */
    s_fill(st, T_BETA, 0, 10, 40);
    s_expect_filled(st, T_BETA, 0, 10, 40);
    xs_store_close(&st);
}

/* ---- map growth ---- */

#define S_TINY_MAP ((size_t)128 << 10)
#define S_BIG_N 2000
#define S_BIG_VLEN 2500 /* 2000 × 2500 B ≈ 5 MB in one step, 40 × the tiny map */

static void test_map_grows_and_step_reruns(void **state) {
    fixture_t *fx = *state;
    static fill_t f;
    xs_store_t *st = s_open(fx, S_TINY_MAP);
    assert_int_equal(xs_store_map_size(st), S_TINY_MAP);
    s_fill(st, T_ALPHA, 0, 10, 100); /* a small step fits */
    assert_int_equal(xs_store_map_size(st), S_TINY_MAP);

    memset(&f, 0, sizeof f);
    f.table = T_BETA;
    f.n = S_BIG_N;
    f.vlen = S_BIG_VLEN;
    assert_int_equal(xs_store_update(st, s_fill_step, &f), XS_OK);
    /* The step hit the full map, the map grew, and the step was run again: expected. */
    assert_true(f.runs > 1);
    size_t grown = xs_store_map_size(st);
    assert_true(grown >= (size_t)S_BIG_N * S_BIG_VLEN);
    assert_true(grown > S_TINY_MAP);
    /* Reruns wrote each entry once, and nothing else changed. */
    s_expect_filled(st, T_BETA, 0, S_BIG_N, S_BIG_VLEN);
    s_expect_filled(st, T_ALPHA, 0, 10, 100);
    xs_store_close(&st);

    /* Reopening with the tiny size adopts the grown map; everything reads back. */
    st = s_open(fx, S_TINY_MAP);
    assert_true(xs_store_map_size(st) >= grown);
    s_expect_filled(st, T_BETA, 0, S_BIG_N, S_BIG_VLEN);
    s_expect_filled(st, T_ALPHA, 0, 10, 100);
    /* A further step that fits the adopted map runs once. */
    memset(&f, 0, sizeof f);
    f.table = T_ALPHA;
    f.first = 10;
    f.n = 10;
    f.vlen = 100;
    assert_int_equal(xs_store_update(st, s_fill_step, &f), XS_OK);
    assert_int_equal(f.runs, 1);
    s_expect_filled(st, T_ALPHA, 0, 20, 100);
    xs_store_close(&st);
}

/* Threads sharing one store, as the node's web pages do: writers whose steps outgrow the map
 * while readers hold snapshots. */
#define S_WRITERS 4
#define S_READERS 2
#define S_STEPS 12 /* per writer */
#define S_STEP_N 40
#define S_STEP_VLEN 2500

typedef struct s_shared {
    xs_store_t *st;
    unsigned writer;            /* which range a writer fills */
    xs_err err;                 /* a writer's first failure */
    volatile int *writers_done; /* readers stop once every writer is done */
    uint64_t reads;             /* snapshots a reader took */
} s_shared_t;

static void *s_writer(void *arg) {
    s_shared_t *w = arg;
    fill_t *f = calloc(1, sizeof *f);
    if (!f) {
        w->err = XS_ENOMEM;
        return NULL;
    }
    for (unsigned step = 0; step < S_STEPS && w->err == XS_OK; step++) {
        memset(f, 0, sizeof *f);
        f->table = T_BETA;
        f->first = ((uint64_t)w->writer * S_STEPS + step) * S_STEP_N;
        f->n = S_STEP_N;
        f->vlen = S_STEP_VLEN;
        w->err = xs_store_update(w->st, s_fill_step, f);
    }
    free(f);
    return NULL;
}

static void *s_reader(void *arg) {
    s_shared_t *r = arg;
    while (!*r->writers_done) {
        xs_txn_t *txn = NULL;
        uint64_t count = 0;
        if (xs_store_read(r->st, &txn) != XS_OK || xs_store_count(txn, T_BETA, &count) != XS_OK)
            r->err = XS_EIO;
        xs_store_end(&txn);
        r->reads++;
    }
    return NULL;
}

static void test_threads_write_while_others_read(void **state) {
    fixture_t *fx = *state;
    xs_store_t *st = s_open(fx, S_TINY_MAP);
    volatile int done = 0;
    pthread_t writers[S_WRITERS], readers[S_READERS];
    s_shared_t w[S_WRITERS], r[S_READERS];
    for (unsigned i = 0; i < S_READERS; i++) {
        r[i] = (s_shared_t){st, 0, XS_OK, &done, 0};
        assert_int_equal(pthread_create(&readers[i], NULL, s_reader, &r[i]), 0);
    }
    for (unsigned i = 0; i < S_WRITERS; i++) {
        w[i] = (s_shared_t){st, i, XS_OK, &done, 0};
        assert_int_equal(pthread_create(&writers[i], NULL, s_writer, &w[i]), 0);
    }
    for (unsigned i = 0; i < S_WRITERS; i++)
        pthread_join(writers[i], NULL);
    done = 1;
    for (unsigned i = 0; i < S_READERS; i++)
        pthread_join(readers[i], NULL);
    for (unsigned i = 0; i < S_WRITERS; i++)
        assert_int_equal(w[i].err, XS_OK);
    for (unsigned i = 0; i < S_READERS; i++)
        assert_int_equal(r[i].err, XS_OK);
    /* The map grew many times over, and every step of every writer is there. */
    assert_true(xs_store_map_size(st) > S_TINY_MAP * 8);
    s_expect_filled(st, T_BETA, 0, (uint64_t)S_WRITERS * S_STEPS * S_STEP_N, S_STEP_VLEN);
    xs_store_close(&st);
}

/* ---- child processes ---- */

static void s_write_all(int fd, const void *bytes, size_t len) {
    const char *p = bytes;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(90);
        p += n;
        len -= (size_t)n;
    }
}

/* Reads len bytes from fd in the parent; returns 0 at EOF (the child died first). */
static int s_read_all(int fd, void *bytes, size_t len) {
    char *p = bytes;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

static void s_kill_and_reap(pid_t pid) {
    int status;
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
}

/* ---- a full disk ---- */

/* Runs a 5 MB step in a child whose files may not grow past limit bytes (a full disk, as the
 * process sees it) and returns the step's result. */
static xs_err s_step_on_full_disk(const fixture_t *fx, off_t limit) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static fill_t f;
        xs_store_t *cst = NULL;
        xs_err err;
        close(fds[0]);
        alarm(60); /* a hang shows up as a signal, not a stuck test */
        if ((err = xs_store_open(&cst, fx->path, s_tables, T_NTABLES, 0)) == XS_OK) {
            struct rlimit rl = {(rlim_t)limit, (rlim_t)limit};
            signal(SIGXFSZ, SIG_IGN); /* write() then fails with EFBIG instead of killing */
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
                _exit(91);
            f.table = T_BETA;
            f.n = S_BIG_N;
            f.vlen = S_BIG_VLEN;
            err = xs_store_update(cst, s_fill_step, &f);
            xs_store_close(&cst);
        }
        s_write_all(fds[1], &err, sizeof err);
        _exit(0);
    }
    close(fds[1]);
    xs_err child_err = XS_OK;
    int status;
    int got = s_read_all(fds[0], &child_err, sizeof child_err);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status)); /* not killed by SIGXFSZ, SIGSEGV or the alarm */
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(got);
    return child_err;
}

static void test_full_disk_is_efull_and_keeps_committed_data(void **state) {
    fixture_t *fx = *state;
    xs_store_t *st = s_open(fx, 0);
    s_fill(st, T_ALPHA, 0, 100, 200);
    xs_store_close(&st);
    off_t before = s_file_size(fx);

    /* Room for a part of the step (a write that comes up short), then none at all (a write
     * refused outright). */
    assert_int_equal(s_step_on_full_disk(fx, before + 100000), XS_EFULL);
    assert_int_equal(s_step_on_full_disk(fx, s_file_size(fx)), XS_EFULL);

    /* The disk has room again: earlier data is intact, the failed steps left nothing, and the
     * store takes the same step now. */
    st = s_open(fx, 0);
    s_expect_filled(st, T_ALPHA, 0, 100, 200);
    assert_int_equal(s_count(st, T_BETA), 0);
    s_fill(st, T_BETA, 0, S_BIG_N, S_BIG_VLEN);
    s_expect_filled(st, T_BETA, 0, S_BIG_N, S_BIG_VLEN);
    xs_store_close(&st);
}

/* ---- dead processes ---- */

/* Default LMDB reader table size: the store does not change it. */
#define S_READER_SLOTS 126

/* Starts a child that opens the store, begins a read transaction and waits to be killed. */
static pid_t s_start_reader(const fixture_t *fx) {
    int fds[2];
    char ready = 0;
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        xs_store_t *cst = NULL;
        xs_txn_t *txn = NULL;
        close(fds[0]);
        alarm(100);
        char reply = 'x';
        if (xs_store_open(&cst, fx->path, s_tables, T_NTABLES, 0) == XS_OK &&
            xs_store_read(cst, &txn) == XS_OK)
            reply = 'r';
        s_write_all(fds[1], &reply, 1);
        for (;;)
            pause();
    }
    close(fds[1]);
    assert_true(s_read_all(fds[0], &ready, 1));
    close(fds[0]);
    assert_int_equal(ready, 'r');
    return pid;
}

static void test_killed_readers_do_not_block_the_store(void **state) {
    fixture_t *fx = *state;
    static pid_t readers[S_READER_SLOTS];
    xs_store_t *st = s_open(fx, 0);
    s_fill(st, T_ALPHA, 0, 5, 20);
    xs_store_close(&st);

    /* Every reader slot taken by a live process; all but the last are then killed, which
     * leaves their slots claimed by dead processes. The last one keeps the environment open, so
     * the parent's reopen cannot simply start a fresh lock file. */
    for (unsigned i = 0; i < S_READER_SLOTS; i++)
        readers[i] = s_start_reader(fx);
    for (unsigned i = 0; i + 1 < S_READER_SLOTS; i++)
        s_kill_and_reap(readers[i]);

    st = s_open(fx, 0);
    s_expect_filled(st, T_ALPHA, 0, 5, 20); /* needs a reader slot */
    s_fill(st, T_ALPHA, 5, 5, 20);
    s_expect_filled(st, T_ALPHA, 0, 10, 20);
    xs_store_close(&st);
    s_kill_and_reap(readers[S_READER_SLOTS - 1]);
}

/* A step that reports through a pipe while its transaction is open, then waits to be killed. */
typedef struct stuck_step {
    int fd;
} stuck_step_t;

static xs_err s_stuck_step(xs_txn_t *txn, void *ctx) {
    stuck_step_t *s = ctx;
    static uint8_t big[4000];
    uint8_t key[8];
    for (uint64_t i = 0; i < 500; i++) {
        xs_store_u64_key(1000 + i, key);
        if (xs_store_put(txn, T_ALPHA, key, sizeof key, big, sizeof big, 0) != XS_OK)
            _exit(92);
    }
    s_write_all(s->fd, "w", 1);
    for (;;)
        pause();
    return XS_OK;
}

static void test_committed_step_survives_a_killed_process(void **state) {
    fixture_t *fx = *state;
    int fds[2];
    char got[2] = {0, 0};
    /* One reader stays alive throughout so the lock file is shared, not recreated. */
    xs_store_t *st = s_open(fx, 0);
    xs_store_close(&st);
    pid_t holder = s_start_reader(fx);

    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Child: commits a step, reports, then is killed inside the next step. */
        static fill_t f;
        stuck_step_t stuck = {fds[1]};
        xs_store_t *cst = NULL;
        close(fds[0]);
        alarm(100);
        if (xs_store_open(&cst, fx->path, s_tables, T_NTABLES, 0) != XS_OK)
            _exit(93);
        f.table = T_ALPHA;
        f.n = 50;
        f.vlen = 300;
        if (xs_store_update(cst, s_fill_step, &f) != XS_OK)
            _exit(94);
        s_write_all(fds[1], "c", 1);
        if (xs_store_update(cst, s_stuck_step, &stuck) != XS_OK)
            _exit(95);
        _exit(96);
    }
    close(fds[1]);
    assert_true(s_read_all(fds[0], got, 2));
    assert_memory_equal(got, "cw", 2);
    close(fds[0]);
    s_kill_and_reap(pid); /* never closed the store, died holding the write lock */

    st = s_open(fx, 0);
    s_expect_filled(st, T_ALPHA, 0, 50, 300); /* the committed step, none of the killed one */
    s_fill(st, T_BETA, 0, 3, 10);             /* the write lock of the dead writer is free */
    xs_store_close(&st);
    s_kill_and_reap(holder);

    st = s_open(fx, 0);
    s_expect_filled(st, T_ALPHA, 0, 50, 300);
    s_expect_filled(st, T_BETA, 0, 3, 10);
    xs_store_close(&st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_directory_and_tables, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_too_many_tables, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_unwritable_parent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_put_get_del_count, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cursor_seek_next_last, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_u64_key_order_is_numeric, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failing_step_writes_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_step_failing_halfway_leaves_no_trace, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_map_grows_and_step_reruns, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_threads_write_while_others_read, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_is_efull_and_keeps_committed_data, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_killed_readers_do_not_block_the_store, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_committed_step_survives_a_killed_process, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
