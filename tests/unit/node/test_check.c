/* test_check: the node's store check finds each kind of damage, and reads a sound store as
 * sound. */
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
#include "check.h"
#include "lanes.h"
#include "seal.h"
#include "sync.h"
#include "xs/batch.h"
#include "xs/text.h"

/* Records the fixture's node holds: more than one batch's worth, so batches chain. */
#define S_RECORDS (XS_BATCH_SEAL_RECORDS + 76)

/* A sealed node in a scratch directory, closed: each test damages it, then checks it. */
typedef struct fixture {
    char dir[256];        /* the node's directory */
    char path[300];       /* dir/store */
    char problems[65536]; /* every problem the check reported, one per line */
    size_t used;          /* bytes of problems */
    uint64_t count;       /* problems reported */
    node_check_table_t tables[NODE_T_COUNT + 1]; /* each table's outcome */
} fixture_t;

/* Encodes activity n of teacher T<n % 7> (lectures of n % 100 + 1 minutes) into w. */
static void s_record(uint64_t n, uint32_t minutes, xs_writer_t *w, node_dedupe_t *key) {
    xs_record_t rec;
    char teacher[16];
    snprintf(teacher, sizeof teacher, "T%llu", (unsigned long long)(n % 7));
    xs_record_init(&rec);
    rec.teacher_id = (xs_str_t){teacher, (uint32_t)strlen(teacher)};
    rec.school_id = (xs_str_t){"S01", 3};
    rec.date = xs_date_from_civil(2025, 9, 1) + (int32_t)(n % 200);
    rec.category = XS_CAT_LECTURE;
    rec.minutes = minutes;
    rec.recorded_at = 1757000000;
    rec.present = (1u << XS_F_TEACHER_ID) | (1u << XS_F_SCHOOL_ID) | (1u << XS_F_DATE) |
                  (1u << XS_F_CATEGORY) | (1u << XS_F_MINUTES) | (1u << XS_F_RECORDED_AT);
    xs_writer_reset(w);
    xs_record_encode(&rec, w);
    node_dedupe_key(&rec, key);
}

/* Appends count records, numbered from first, in one write step. */
typedef struct s_append {
    uint64_t first, count;
} s_append_t;

static xs_err s_append_step(xs_txn_t *txn, void *ctx) {
    const s_append_t *a = ctx;
    xs_writer_t w;
    node_dedupe_t key;
    uint64_t seq;
    xs_err err = XS_OK;
    xs_writer_init(&w, XS_RECORD_MAX);
    for (uint64_t n = a->first; err == XS_OK && n < a->first + a->count; n++) {
        s_record(n, (uint32_t)(n % 100 + 1), &w, &key);
        err = node_append(txn, w.data, w.len, &key, &seq);
    }
    xs_writer_free(&w);
    return err;
}

static xs_err s_meta_step(xs_txn_t *txn, void *ctx) {
    const xs_pubkeys_t *county = ctx;
    uint8_t keys[64];
    memcpy(keys, county->sign, 32);
    memcpy(keys + 32, county->box, 32);
    xs_err err = xs_store_put(txn, NODE_T_META, "format", 6, NODE_FORMAT, 1, 0);
    if (err == XS_OK)
        err = xs_store_put(txn, NODE_T_META, "school", 6, "S01", 3, 0);
    if (err == XS_OK)
        err = xs_store_put(txn, NODE_T_META, "hub", 3, "tcp://127.0.0.1:9", 17, 0);
    if (err == XS_OK)
        err = xs_store_put(txn, NODE_T_META, "hub_keys", 8, keys, 64, 0);
    return err;
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    xs_identity_t *id = NULL, *county = NULL;
    xs_store_t *store = NULL;
    node_t node;
    uint64_t sealed = 0;
    if (!fx)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_check") != 0)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/store", fx->dir);
    s_append_t all = {1, S_RECORDS};
    uint8_t seed[32] = {7};
    if (xs_identity_create(&id, fx->dir, "node") != XS_OK ||
        xs_identity_from_seed(&county, seed) != XS_OK ||
        xs_store_open(&store, fx->path, node_tables, NODE_T_COUNT, 0) != XS_OK ||
        xs_store_update(store, s_meta_step, (void *)xs_identity_public(county)) != XS_OK ||
        xs_store_update(store, s_append_step, &all) != XS_OK)
        return -1;
    xs_store_close(&store);
    if (node_open(&node, fx->dir) != XS_OK || node_seal(&node, id, NULL, &sealed, NULL) != XS_OK ||
        sealed != 2)
        return -1;
    node_close(&node);
    xs_identity_destroy(&id);
    xs_identity_destroy(&county);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

static void s_on_problem(void *ctx, unsigned table, const char *text) {
    fixture_t *fx = ctx;
    int n = snprintf(fx->problems + fx->used, sizeof fx->problems - fx->used, "%s: %s\n",
                     table < NODE_T_COUNT ? node_tables[table] : "node.secret", text);
    if (n > 0 && fx->used + (size_t)n < sizeof fx->problems)
        fx->used += (size_t)n;
    fx->count++;
}

static void s_on_table(void *ctx, const node_check_table_t *t) {
    fixture_t *fx = ctx;
    fx->tables[t->table] = *t;
}

/* Runs the check on the fixture's node; returns the problems it found. */
static uint64_t s_check(fixture_t *fx) {
    node_check_sink_t sink = {s_on_problem, s_on_table, fx};
    uint64_t problems = 0;
    fx->used = 0;
    fx->count = 0;
    fx->problems[0] = '\0';
    assert_int_equal(node_check_run(fx->dir, &sink, &problems), XS_OK);
    assert_int_equal(problems, fx->count);
    return problems;
}

/* Asserts that the problems the check reported hold text. */
static void s_says(const fixture_t *fx, const char *text) {
    if (!strstr(fx->problems, text))
        fail_msg("expected \"%s\" among the problems:\n%s", text, fx->problems);
}

/* One change to the store, made in a write step. */
typedef struct s_damage {
    unsigned table;
    uint8_t key[64];
    size_t klen;
    const void *value; /* NULL: delete the key */
    size_t vlen;
} s_damage_t;

static xs_err s_damage_step(xs_txn_t *txn, void *ctx) {
    const s_damage_t *d = ctx;
    if (!d->value)
        return xs_store_del(txn, d->table, d->key, d->klen);
    return xs_store_put(txn, d->table, d->key, d->klen, d->value, d->vlen, 0);
}

static void s_damage(fixture_t *fx, unsigned table, const void *key, size_t klen, const void *value,
                     size_t vlen) {
    xs_store_t *store = NULL;
    s_damage_t d = {table, {0}, klen, value, vlen};
    memcpy(d.key, key, klen);
    assert_int_equal(xs_store_open(&store, fx->path, node_tables, NODE_T_COUNT, 0), XS_OK);
    assert_int_equal(xs_store_update(store, s_damage_step, &d), XS_OK);
    xs_store_close(&store);
}

static void s_damage_seq(fixture_t *fx, unsigned table, uint64_t seq, const void *value,
                         size_t vlen) {
    uint8_t key[8];
    xs_store_u64_key(seq, key);
    s_damage(fx, table, key, 8, value, vlen);
}

static void test_sound_store(void **state) {
    fixture_t *fx = *state;
    assert_int_equal(s_check(fx), 0);
    assert_int_equal(fx->tables[NODE_T_RECORDS].entries, S_RECORDS);
    assert_true(fx->tables[NODE_T_RECORDS].complete);
    assert_int_equal(fx->tables[NODE_T_DEDUPE].entries, S_RECORDS);
    assert_int_equal(fx->tables[NODE_T_BATCHES].entries, 2);
    assert_int_equal(fx->tables[NODE_T_META].entries, 6); /* with sealed_through, head_hash */
}

static void test_unsealed_records_are_sound(void **state) {
    fixture_t *fx = *state;
    xs_store_t *store = NULL;
    s_append_t more = {S_RECORDS + 1, 3};
    assert_int_equal(xs_store_open(&store, fx->path, node_tables, NODE_T_COUNT, 0), XS_OK);
    assert_int_equal(xs_store_update(store, s_append_step, &more), XS_OK);
    xs_store_close(&store);
    assert_int_equal(s_check(fx), 0);
    assert_int_equal(fx->tables[NODE_T_RECORDS].entries, S_RECORDS + 3);
}

static void test_valid_record_changed(void **state) {
    fixture_t *fx = *state;
    xs_writer_t w;
    node_dedupe_t key;
    xs_writer_init(&w, XS_RECORD_MAX);
    s_record(3, 999, &w, &key); /* record 3, with other minutes */
    s_damage_seq(fx, NODE_T_RECORDS, 3, w.data, w.len);
    xs_writer_free(&w);
    assert_true(s_check(fx) >= 2);
    s_says(fx, "batches: 记录 3 与已签名批次 1 中的副本不一致");
    s_says(fx, "dedupe: 记录 3 不在去重索引中");
    assert_int_equal(fx->tables[NODE_T_RECORDS].problems, 0);
}

static void test_record_undecodable(void **state) {
    fixture_t *fx = *state;
    s_damage_seq(fx, NODE_T_RECORDS, 5, "\xc1\xc1", 2);
    assert_true(s_check(fx) >= 2);
    s_says(fx, "records: 记录 5 数据已损坏 (record 5 is corrupted): 无法解码");
    s_says(fx, "batches: 记录 5 与已签名批次 1 中的副本不一致");
}

static void test_record_invalid(void **state) {
    fixture_t *fx = *state;
    static const uint8_t empty_map = 0x80; /* decodes, but is no record */
    s_damage_seq(fx, NODE_T_RECORDS, 6, &empty_map, 1);
    assert_true(s_check(fx) >= 1);
    s_says(fx, "records: 记录 6 数据已损坏");
}

static void test_record_missing(void **state) {
    fixture_t *fx = *state;
    s_damage_seq(fx, NODE_T_RECORDS, 7, NULL, 0);
    assert_true(s_check(fx) >= 3);
    s_says(fx, "records: 记录 7 至 7 缺失");
    s_says(fx, "batches: 批次 1 中的记录 7 不在记录表中");
    s_says(fx, "指向不存在的记录 7");
}

static void test_dedupe_entry_missing(void **state) {
    fixture_t *fx = *state;
    xs_writer_t w;
    node_dedupe_t key;
    xs_writer_init(&w, XS_RECORD_MAX);
    s_record(9, 9 % 100 + 1, &w, &key);
    xs_writer_free(&w);
    s_damage(fx, NODE_T_DEDUPE, key.bytes, key.len, NULL, 0);
    assert_int_equal(s_check(fx), 1);
    s_says(fx, "dedupe: 记录 9 不在去重索引中");
}

static void test_head_hash_changed(void **state) {
    fixture_t *fx = *state;
    uint8_t hash[32] = {1, 2, 3};
    s_damage(fx, NODE_T_META, "head_hash", 9, hash, sizeof hash);
    assert_int_equal(s_check(fx), 1);
    s_says(fx, "batches: 节点信息 head_hash 与最后一批的哈希不符");
}

static void test_last_batch_missing(void **state) {
    fixture_t *fx = *state;
    s_damage_seq(fx, NODE_T_BATCHES, XS_BATCH_SEAL_RECORDS + 1, NULL, 0);
    assert_true(s_check(fx) >= 2);
    s_says(fx, "sealed_through 为 1100，批次封装到 1024");
    s_says(fx, "head_hash 与最后一批的哈希不符");
}

static void test_batch_damaged(void **state) {
    fixture_t *fx = *state;
    xs_store_t *store = NULL;
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    uint8_t key[8], *copy;
    xs_store_u64_key(1, key);
    assert_int_equal(xs_store_open(&store, fx->path, node_tables, NODE_T_COUNT, 0), XS_OK);
    assert_int_equal(xs_store_read(store, &txn), XS_OK);
    assert_int_equal(xs_store_get(txn, NODE_T_BATCHES, key, 8, &v), XS_OK);
    copy = malloc(v.len);
    assert_non_null(copy);
    memcpy(copy, v.ptr, v.len);
    size_t len = v.len;
    xs_store_end(&txn);
    xs_store_close(&store);
    copy[len / 2] ^= 0x10;
    s_damage_seq(fx, NODE_T_BATCHES, 1, copy, len);
    free(copy);
    assert_true(s_check(fx) >= 1);
    s_says(fx, "batches: 批次 1 无法打开");
}

static void test_receipt_forged(void **state) {
    fixture_t *fx = *state;
    s_damage(fx, NODE_T_RECEIPTS, "T1", 2, "not a receipt", 13);
    assert_int_equal(s_check(fx), 1);
    s_says(fx, "receipts: 教师 T1 的认定回执无效");
}

static void test_meta_damaged(void **state) {
    fixture_t *fx = *state;
    s_damage(fx, NODE_T_META, "sealed_through", 14, "\x01", 1);
    s_damage(fx, NODE_T_META, "stray", 5, "x", 1);
    assert_true(s_check(fx) >= 2);
    s_says(fx, "meta: 节点信息 sealed_through 的值损坏");
    s_says(fx, "meta: 节点信息中有未知的键 stray");
}

/* A satellite's sealed batch of two records and its counters, as a relay stores them. */
typedef struct s_satellite {
    uint8_t origin[32];   /* the satellite's signing key */
    uint8_t hash[32];     /* its batch's hash */
    xs_writer_t envelope; /* its batch */
} s_satellite_t;

static xs_err s_satellite_step(xs_txn_t *txn, void *ctx) {
    s_satellite_t *sat = ctx;
    node_lane_t lane = node_lane_satellite(sat->origin);
    xs_err err =
        node_lane_store(txn, &lane, 1, 2, sat->hash, sat->envelope.data, sat->envelope.len);
    if (err == XS_OK)
        err = node_lane_put(txn, &lane, NODE_LANE_ACKED, 2);
    return err == XS_OK ? node_lane_put(txn, &lane, NODE_LANE_RECEIPTS_GEN, 1) : err;
}

static void test_satellite_tables(void **state) {
    fixture_t *fx = *state;
    xs_identity_t *id = NULL;
    xs_store_t *store = NULL;
    xs_writer_t one, two;
    node_dedupe_t key;
    s_satellite_t sat;
    uint8_t seed[32] = {3}, k[64], chain[36] = {0, 0, 0, 1};
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    memcpy(sat.origin, xs_identity_public(id)->sign, 32);
    xs_writer_init(&one, XS_RECORD_MAX);
    xs_writer_init(&two, XS_RECORD_MAX);
    xs_writer_init(&sat.envelope, XS_BATCH_MAX_BYTES);
    s_record(1, 10, &one, &key);
    s_record(2, 20, &two, &key);
    xs_batch_slice_t slices[2] = {{one.data, one.len}, {two.data, two.len}};
    assert_int_equal(
        xs_batch_seal(&sat.envelope, id, 1, NULL, NULL, 1757000000, slices, 2, sat.hash), XS_OK);
    assert_int_equal(xs_store_open(&store, fx->path, node_tables, NODE_T_COUNT, 0), XS_OK);
    assert_int_equal(xs_store_update(store, s_satellite_step, &sat), XS_OK);
    xs_store_close(&store);
    assert_int_equal(s_check(fx), 0);
    assert_int_equal(fx->tables[NODE_T_SAT_BATCHES].entries, 1);
    assert_int_equal(fx->tables[NODE_T_SAT_CHAIN].entries, 2); /* the entry and its head */
    assert_int_equal(fx->tables[NODE_T_SAT_STATE].entries, 2);

    xs_chain_key(sat.origin, 1, k); /* the batch's chain entry, gone */
    s_damage(fx, NODE_T_SAT_CHAIN, k, XS_CHAIN_KEY_BYTES, NULL, 0);
    xs_chain_key(sat.origin, 9, k); /* a chain entry for no batch */
    s_damage(fx, NODE_T_SAT_CHAIN, k, XS_CHAIN_KEY_BYTES, chain, sizeof chain);
    memcpy(k + 32, "bogus", 5);
    s_damage(fx, NODE_T_SAT_STATE, k, 37, "12345678", 8);
    s_damage(fx, NODE_T_SAT_RECEIPTS, "0123456789", 10, "r", 1);
    assert_int_equal(s_check(fx), 4);
    s_says(fx, "sat_batches: 卫星校批次 1 与批次链记载的不符");
    s_says(fx, "sat_chain: 卫星校批次链 9 没有对应的批次");
    s_says(fx, "sat_state: 卫星校同步状态 0x");
    s_says(fx, "sat_receipts: sat_receipts 表中有损坏的键 0123456789");
    xs_writer_free(&one);
    xs_writer_free(&two);
    xs_writer_free(&sat.envelope);
    xs_identity_destroy(&id);
}

static void test_node_key_missing(void **state) {
    fixture_t *fx = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/node.secret", fx->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(s_check(fx), 1);
    s_says(fx, "node.secret: ");
    assert_int_equal(fx->tables[NODE_T_COUNT].problems, 1);
}

static void test_not_a_node(void **state) {
    fixture_t *fx = *state;
    char dir[400];
    uint64_t problems = 7;
    node_check_sink_t sink = {NULL, NULL, NULL};
    snprintf(dir, sizeof dir, "%s/nowhere", fx->dir);
    assert_int_equal(node_check_run(dir, &sink, &problems), XS_ENOTFOUND);
    assert_int_equal(problems, 0);
}

static void test_record_read(void **state) {
    (void)state;
    xs_writer_t w;
    node_dedupe_t dedupe;
    xs_record_t rec;
    uint64_t seq = 99;
    uint8_t key[8];
    char why[NODE_WHY_MAX];
    xs_writer_init(&w, XS_RECORD_MAX);
    s_record(4, 30, &w, &dedupe);
    xs_store_u64_key(42, key);
    xs_bytes_t k = {key, 8}, v = {w.data, w.len}, short_key = {key, 7};
    assert_int_equal(node_record_read(&k, &v, &seq, &rec, why), XS_OK);
    assert_int_equal(seq, 42);
    assert_int_equal(rec.minutes, 30);
    assert_int_equal(node_record_read(&short_key, &v, &seq, &rec, why), XS_ECORRUPT);
    assert_int_equal(seq, 0);
    v.len--;
    assert_int_equal(node_record_read(&k, &v, &seq, &rec, why), XS_ECORRUPT);
    assert_non_null(strstr(why, "cannot be decoded"));
    xs_writer_free(&w);
}

int main(void) {
#define S_TEST(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_TEST(test_sound_store),          S_TEST(test_unsealed_records_are_sound),
        S_TEST(test_valid_record_changed), S_TEST(test_record_undecodable),
        S_TEST(test_record_invalid),       S_TEST(test_record_missing),
        S_TEST(test_dedupe_entry_missing), S_TEST(test_head_hash_changed),
        S_TEST(test_last_batch_missing),   S_TEST(test_batch_damaged),
        S_TEST(test_receipt_forged),       S_TEST(test_meta_damaged),
        S_TEST(test_satellite_tables),     S_TEST(test_node_key_missing),
        S_TEST(test_not_a_node),           cmocka_unit_test(test_record_read),
    };
#undef S_TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
