/* test_hub_staff: the hub's roster versions (hub/staff.c): import against the enrolled
 * schools, every version kept and read back, a refused file storing nothing, an unchanged one
 * storing no version, history counts, and each node's signed part holding its schools only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scratch.h"
#include "staff.h"

#define S_ERRCAP 4096

typedef struct fixture {
    char dir[256];
    xs_store_t *store;
    xs_identity_t *hub;
    hub_node_t nodes[3]; /* S1 proxying for 村小甲, S2, S3 (revoked) */
} fixture_t;

static xs_identity_t *s_key(uint8_t fill) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

static xs_err s_enroll(xs_txn_t *txn, void *ctx) {
    fixture_t *fx = ctx;
    for (int i = 0; i < 3; i++) {
        hub_node_t node = fx->nodes[i];
        xs_err err = hub_node_add(txn, &node, 1000);
        if (err != XS_OK)
            return err;
        fx->nodes[i].number = node.number;
    }
    return XS_OK;
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_int_equal(xs_scratch_make(fx->dir, sizeof fx->dir, "hub_staff"), 0);
    assert_int_equal(xs_store_open(&fx->store, fx->dir, hub_tables, HUB_T_COUNT, 0), XS_OK);
    fx->hub = s_key(1);
    static const char *const schools[3] = {"S1", "S2", "S3"};
    for (int i = 0; i < 3; i++) {
        memset(fx->nodes[i].origin, 0x10 + i, 32);
        memset(fx->nodes[i].box, 0x20 + i, 32);
        snprintf(fx->nodes[i].school, sizeof fx->nodes[i].school, "%s", schools[i]);
    }
    fx->nodes[0].proxy_count = 1;
    snprintf(fx->nodes[0].proxies[0], sizeof fx->nodes[0].proxies[0], "村小甲");
    fx->nodes[2].revoked_at = 2000;
    assert_int_equal(xs_store_update(fx->store, s_enroll, fx), XS_OK);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_store_close(&fx->store);
    xs_identity_destroy(&fx->hub);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

typedef struct s_import {
    const char *csv;
    int64_t now;
    xs_staff_t current, roster;
    int unchanged;
    char errbuf[S_ERRCAP];
    uint32_t bad;
} s_import_t;

static xs_err s_import_step(xs_txn_t *txn, void *ctx) {
    s_import_t *im = ctx;
    return hub_staff_import(txn, im->csv, strlen(im->csv), im->now, &im->current, &im->roster,
                            &im->unchanged, im->errbuf, sizeof im->errbuf, &im->bad);
}

/* Imports csv at time now; returns the store's answer and leaves what was found in *im. */
static xs_err s_import(fixture_t *fx, s_import_t *im, const char *csv, int64_t now) {
    memset(im, 0, sizeof *im);
    im->csv = csv;
    im->now = now;
    xs_err err = xs_store_update(fx->store, s_import_step, im);
    xs_staff_free(&im->current);
    return err;
}

static const char s_v1[] = "teacher_id,name,school_id,roles\n"
                           "T1,张伟,S1,班主任\n"
                           "T2,李娜,村小甲,\n"
                           "T3,王芳,S2,\n"
                           "T4,刘洋,S3,\n";
static const char s_v2[] = "teacher_id,name,school_id,roles\n"
                           "T1,张伟,S1,骨干教师\n"
                           "T2,李娜,S2,\n"
                           "T3,王芳,S2,\n"
                           "T5,陈静,S1,\n";

/* Versions 1 and 2 are stored and read back; the same file again stores no version 3; a
 * refused file stores nothing. */
static void test_versions(void **state) {
    fixture_t *fx = *state;
    s_import_t im;
    xs_txn_t *txn = NULL;
    xs_staff_t staff;
    int current;

    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(hub_staff_current(txn, &staff), XS_OK);
    assert_int_equal(staff.version, 0);
    assert_int_equal(staff.count, 0);
    xs_writer_t env;
    xs_writer_init(&env, XS_STAFF_PART_BYTES);
    assert_int_equal(hub_staff_part(txn, fx->hub, &fx->nodes[0], NULL, NULL, &env, &current),
                     XS_ENOTFOUND);
    assert_int_equal(hub_staff_version(txn, 1, &staff), XS_ENOTFOUND);
    xs_store_end(&txn);

    /* S3's node is revoked, but its school is still the county's. */
    assert_int_equal(s_import(fx, &im, s_v1, 5000), XS_OK);
    assert_int_equal(im.roster.version, 1);
    assert_int_equal(im.roster.issued_at, 5000);
    assert_int_equal(im.roster.count, 4);
    xs_staff_free(&im.roster);
    assert_int_equal(s_import(fx, &im, s_v2, 6000), XS_OK);
    assert_int_equal(im.roster.version, 2);
    assert_false(im.unchanged);
    xs_staff_free(&im.roster);
    assert_int_equal(s_import(fx, &im, s_v2, 7000), XS_OK);
    assert_true(im.unchanged);
    assert_int_equal(im.roster.version, 2);
    xs_staff_free(&im.roster);

    /* An unknown school and a repeated id: refused by line, nothing stored. */
    assert_int_equal(
        s_import(fx, &im, "teacher_id,name,school_id\nT1,A,S1\nT9,B,S9\nT1,C,S2\n", 8000),
        XS_EINVAL);
    assert_int_equal(im.bad, 2);
    assert_non_null(strstr(im.errbuf, "第 3 行 (line 3): 未知学校“S9”"));
    assert_non_null(strstr(im.errbuf, "第 4 行 (line 4): 教师编号“T1”重复，与第 2 行相同"));
    assert_null(im.roster.entries);

    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(hub_staff_current(txn, &staff), XS_OK);
    assert_int_equal(staff.version, 2);
    assert_int_equal(staff.issued_at, 6000);
    assert_string_equal(xs_staff_find(&staff, "T2", 2)->school_id, "S2");
    xs_staff_free(&staff);
    assert_int_equal(hub_staff_version(txn, 1, &staff), XS_OK);
    assert_int_equal(staff.issued_at, 5000);
    assert_string_equal(xs_staff_find(&staff, "T2", 2)->school_id, "村小甲");
    xs_staff_free(&staff);
    assert_int_equal(hub_staff_version(txn, 3, &staff), XS_ENOTFOUND);
    xs_store_end(&txn);
    xs_writer_free(&env);
}

static xs_err s_history_line(void *ctx, const hub_staff_version_info_t *info) {
    hub_staff_version_info_t *seen = ctx;
    seen[info->version - 1] = *info;
    return XS_OK;
}

/* History: per version its time, count and the changes from the one before. */
static void test_history(void **state) {
    fixture_t *fx = *state;
    s_import_t im;
    xs_txn_t *txn = NULL;
    hub_staff_version_info_t seen[2];
    memset(seen, 0, sizeof seen);
    assert_int_equal(s_import(fx, &im, s_v1, 5000), XS_OK);
    xs_staff_free(&im.roster);
    assert_int_equal(s_import(fx, &im, s_v2, 6000), XS_OK);
    xs_staff_free(&im.roster);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(hub_staff_history(txn, s_history_line, seen), XS_OK);
    xs_store_end(&txn);
    assert_int_equal(seen[0].count, 4);
    assert_int_equal(seen[0].changes[XS_STAFF_ADDED], 4);
    assert_int_equal(seen[1].issued_at, 6000);
    assert_int_equal(seen[1].changes[XS_STAFF_ADDED], 1);
    assert_int_equal(seen[1].changes[XS_STAFF_MOVED], 1);
    assert_int_equal(seen[1].changes[XS_STAFF_REMOVED], 1);
    assert_int_equal(seen[1].changes[XS_STAFF_CHANGED], 1);
}

/* Each node's part holds the teachers of its own and proxied schools, signed for it. */
static void test_part(void **state) {
    fixture_t *fx = *state;
    int current;
    s_import_t im;
    xs_txn_t *txn = NULL;
    xs_staff_t part;
    xs_writer_t env;
    assert_int_equal(s_import(fx, &im, s_v1, 5000), XS_OK);
    xs_staff_free(&im.roster);
    xs_writer_init(&env, XS_STAFF_PART_BYTES);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(hub_staff_part(txn, fx->hub, &fx->nodes[0], NULL, NULL, &env, &current),
                     XS_OK);
    xs_store_end(&txn);
    const uint8_t *hub_key = xs_identity_public(fx->hub)->sign;
    assert_int_equal(xs_staff_part_open(env.data, env.len, hub_key, fx->nodes[0].origin, &part),
                     XS_OK);
    assert_int_equal(part.version, 1);
    assert_int_equal(part.count, 2);
    assert_string_equal(part.entries[0].teacher_id, "T1");
    assert_string_equal(part.entries[1].school_id, "村小甲");
    xs_staff_free(&part);
    assert_int_equal(xs_staff_part_open(env.data, env.len, hub_key, fx->nodes[1].origin, &part),
                     XS_EPERM);
    xs_writer_free(&env);
}

/* A server's cache: a node asking with the hash of the part it holds is answered "current"
 * without a part; after a re-import, or when its schools change, it gets the new part. */
static void test_part_cache(void **state) {
    fixture_t *fx = *state;
    s_import_t im;
    xs_txn_t *txn = NULL;
    hub_staff_cache_t *cache = NULL;
    xs_staff_t part;
    xs_writer_t env;
    uint8_t held[32];
    int current;
    const uint8_t *hub_key = xs_identity_public(fx->hub)->sign;
    assert_int_equal(hub_staff_cache_new(&cache), XS_OK);
    assert_int_equal(s_import(fx, &im, s_v1, 5000), XS_OK);
    xs_staff_free(&im.roster);
    for (uint32_t version = 1; version <= 2; version++) {
        /* Asked without a hash (or an old one): the part, signed for the node. */
        xs_writer_init(&env, XS_STAFF_PART_BYTES);
        assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
        assert_int_equal(hub_staff_part(txn, fx->hub, &fx->nodes[0], cache,
                                        version == 1 ? NULL : held, &env, &current),
                         XS_OK);
        xs_store_end(&txn);
        assert_int_equal(current, 0);
        assert_int_equal(xs_staff_part_open(env.data, env.len, hub_key, fx->nodes[0].origin, &part),
                         XS_OK);
        assert_int_equal(part.version, version);
        xs_staff_free(&part);
        const uint8_t *body, *sig;
        size_t body_len;
        assert_int_equal(xs_codec_split_envelope(env.data, env.len, &body, &body_len, &sig, 64),
                         XS_OK);
        xs_identity_hash(body, body_len, held);
        xs_writer_free(&env);
        /* Asked again with its hash: current, and nothing written. */
        xs_writer_init(&env, XS_STAFF_PART_BYTES);
        assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
        assert_int_equal(hub_staff_part(txn, fx->hub, &fx->nodes[0], cache, held, &env, &current),
                         XS_OK);
        xs_store_end(&txn);
        assert_int_equal(current, 1);
        assert_int_equal(env.len, 0);
        xs_writer_free(&env);
        if (version == 1) {
            assert_int_equal(s_import(fx, &im, s_v2, 6000), XS_OK);
            xs_staff_free(&im.roster);
        }
    }
    /* The same node enrolled for other schools, same version: its old hash is not current. */
    hub_node_t moved = fx->nodes[0];
    moved.proxy_count = 0;
    xs_writer_init(&env, XS_STAFF_PART_BYTES);
    assert_int_equal(xs_store_read(fx->store, &txn), XS_OK);
    assert_int_equal(hub_staff_part(txn, fx->hub, &moved, cache, held, &env, &current), XS_OK);
    xs_store_end(&txn);
    assert_int_equal(current, 0);
    assert_true(env.len > 0);
    xs_writer_free(&env);
    hub_staff_cache_destroy(&cache);
    assert_null(cache);
}

int main(void) {
    if (xs_identity_setup() != XS_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_versions, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_history, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_part, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_part_cache, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("hub_staff", tests, NULL, NULL);
}
