/* test_staff_store: the roster parts a node keeps (node/staff.c): only a part the county signed
 * for the origin it is stored under, never over a newer one; a relay's parts pruned to its
 * roster; and a record's teacher checked against the node's own part. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "scratch.h"
#include "staff.h"

/* The county hub, another key, this node (its key file in the scratch directory) and two
 * satellites. */
typedef struct fixture {
    char dir[256];
    xs_identity_t *hub, *forger, *node;
    uint8_t sat_a[32], sat_b[32];
    node_t opened; /* DIR opened by node_open */
    xs_staff_t roster;
} fixture_t;

static xs_identity_t *s_key(uint8_t fill) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

/* Three teachers of S1, one of S2: the county's roster, version 1. */
static void s_roster(xs_staff_t *r) {
    static const char *const rows[][3] = {{"T0012", "张三", "S1"},
                                          {"T0021", "李四", "S1"},
                                          {"T0100", "王五", "S1"},
                                          {"T0200", "赵六", "S2"}};
    memset(r, 0, sizeof *r);
    r->version = 1;
    r->issued_at = 1770000000;
    r->count = 4;
    r->entries = calloc(r->count, sizeof *r->entries);
    assert_non_null(r->entries);
    for (uint32_t i = 0; i < r->count; i++) {
        xs_staff_entry_t *e = &r->entries[i];
        snprintf(e->teacher_id, sizeof e->teacher_id, "%s", rows[i][0]);
        snprintf(e->name, sizeof e->name, "%s", rows[i][1]);
        snprintf(e->school_id, sizeof e->school_id, "%s", rows[i][2]);
        e->hired = INT32_MIN;
        e->status_from = INT32_MIN;
        e->status_to = INT32_MAX;
    }
}

static xs_err s_init_meta(xs_txn_t *txn, void *ctx) {
    fixture_t *fx = ctx;
    uint8_t keys[64];
    memcpy(keys, xs_identity_public(fx->hub)->sign, 32);
    memcpy(keys + 32, xs_identity_public(fx->hub)->box, 32);
    xs_err err = node_meta_put(txn, NODE_META_SCHOOL, "S1", 2);
    return err == XS_OK ? node_meta_put(txn, NODE_META_HUB_KEYS, keys, sizeof keys) : err;
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char path[300];
    xs_store_t *store = NULL;
    if (!fx || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_staff_store") != 0)
        return -1;
    fx->hub = s_key(0x20);
    fx->forger = s_key(0x66);
    memset(fx->sat_a, 0xa0, 32);
    memset(fx->sat_b, 0xb0, 32);
    if (xs_identity_create(&fx->node, fx->dir, "node") != XS_OK)
        return -1;
    snprintf(path, sizeof path, "%s/store", fx->dir);
    if (xs_store_open(&store, path, node_tables, NODE_T_COUNT, 0) != XS_OK ||
        xs_store_update(store, s_init_meta, fx) != XS_OK)
        return -1;
    xs_store_close(&store);
    if (node_open(&fx->opened, fx->dir) != XS_OK)
        return -1;
    s_roster(&fx->roster);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    node_close(&fx->opened);
    xs_identity_destroy(&fx->hub);
    xs_identity_destroy(&fx->forger);
    xs_identity_destroy(&fx->node);
    xs_staff_free(&fx->roster);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* A part of fx's roster, signed by key for origin, covering school S1 (and S2 with both). */
static void s_part(fixture_t *fx, const xs_identity_t *key, const uint8_t origin[32],
                   uint32_t version, int64_t issued_at, int both, xs_writer_t *env) {
    const char *schools[] = {"S1", "S2"};
    fx->roster.version = version;
    fx->roster.issued_at = issued_at;
    xs_writer_init(env, XS_STAFF_PART_BYTES);
    assert_int_equal(xs_staff_part_sign(env, key, origin, &fx->roster, schools, both ? 2 : 1),
                     XS_OK);
}

/* What one node_staff_put does, in its own write step. */
typedef struct s_put {
    fixture_t *fx;
    const uint8_t *origin;
    const xs_writer_t *env;
    int stored;
} s_put_t;

static xs_err s_put_step(xs_txn_t *txn, void *ctx) {
    s_put_t *p = ctx;
    return node_staff_put(txn, xs_identity_public(p->fx->hub)->sign, p->origin, p->env->data,
                          p->env->len, &p->stored);
}

static xs_err s_put(fixture_t *fx, const uint8_t *origin, const xs_writer_t *env, int *stored) {
    s_put_t p = {fx, origin, env, -1};
    xs_err err = xs_store_update(fx->opened.store, s_put_step, &p);
    *stored = p.stored;
    return err;
}

/* The version of the part held for origin, opened; 0 when none. */
static uint32_t s_held_version(fixture_t *fx, const uint8_t *origin, int64_t *issued_at) {
    xs_txn_t *txn = NULL;
    xs_staff_t part;
    assert_int_equal(xs_store_read(fx->opened.store, &txn), XS_OK);
    xs_err err = node_staff_open(txn, origin, &part);
    xs_store_end(&txn);
    if (err == XS_ENOTFOUND)
        return 0;
    assert_int_equal(err, XS_OK);
    uint32_t version = part.version;
    if (issued_at)
        *issued_at = part.issued_at;
    xs_staff_free(&part);
    return version;
}

/* Only the county's signature for the very origin is stored: another key's part, or one
 * signed for another node, leaves nothing. */
static void test_only_the_countys_part_for_its_origin(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    int stored;
    s_part(fx, fx->forger, fx->sat_a, 1, 100, 0, &env);
    assert_int_equal(s_put(fx, fx->sat_a, &env, &stored), XS_ECRYPTO);
    assert_int_equal(stored, 0);
    xs_writer_free(&env);
    s_part(fx, fx->hub, fx->sat_b, 1, 100, 0, &env);
    assert_int_equal(s_put(fx, fx->sat_a, &env, &stored), XS_EPERM);
    xs_writer_free(&env);
    assert_int_equal(s_held_version(fx, fx->sat_a, NULL), 0);

    /* A byte changed: refused. */
    s_part(fx, fx->hub, fx->sat_a, 1, 100, 0, &env);
    env.data[env.len / 2] ^= 1;
    assert_int_not_equal(s_put(fx, fx->sat_a, &env, &stored), XS_OK);
    env.data[env.len / 2] ^= 1;
    assert_int_equal(s_put(fx, fx->sat_a, &env, &stored), XS_OK);
    assert_int_equal(stored, 1);
    assert_int_equal(s_held_version(fx, fx->sat_a, NULL), 1);

    /* have names the body held: what STAFF_GET sends. */
    xs_txn_t *txn = NULL;
    uint8_t have[32], want[32];
    int has = 0;
    assert_int_equal(node_staff_hash(env.data, env.len, want), XS_OK);
    assert_int_equal(xs_store_read(fx->opened.store, &txn), XS_OK);
    assert_int_equal(node_staff_have(txn, fx->sat_a, have, &has), XS_OK);
    assert_true(has);
    assert_memory_equal(have, want, 32);
    assert_int_equal(node_staff_have(txn, fx->sat_b, have, &has), XS_OK);
    assert_false(has);
    xs_store_end(&txn);
    xs_writer_free(&env);
    assert_int_equal(node_staff_hash("\x91\xc0", 2, want), XS_EMALFORMED);
}

/* A part never replaces a newer one: a lower version, or the same version issued earlier, is
 * older; the same version reissued later (a school added to a relay) replaces it. */
static void test_never_older(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    int stored;
    int64_t at = 0;
    s_part(fx, fx->hub, fx->sat_b, 3, 300, 0, &env);
    assert_int_equal(s_put(fx, fx->sat_b, &env, &stored), XS_OK);
    assert_int_equal(stored, 1);
    xs_writer_free(&env);
    s_part(fx, fx->hub, fx->sat_b, 2, 900, 0, &env);
    assert_int_equal(s_put(fx, fx->sat_b, &env, &stored), XS_OK);
    assert_int_equal(stored, 0);
    xs_writer_free(&env);
    s_part(fx, fx->hub, fx->sat_b, 3, 299, 0, &env);
    assert_int_equal(s_put(fx, fx->sat_b, &env, &stored), XS_OK);
    assert_int_equal(stored, 0);
    assert_int_equal(s_held_version(fx, fx->sat_b, &at), 3);
    assert_int_equal(at, 300);
    xs_writer_free(&env);
    s_part(fx, fx->hub, fx->sat_b, 3, 300, 1, &env); /* same version, now with S2 */
    assert_int_equal(s_put(fx, fx->sat_b, &env, &stored), XS_OK);
    assert_int_equal(stored, 1);
    assert_int_equal(s_put(fx, fx->sat_b, &env, &stored), XS_OK); /* the same bytes again */
    assert_int_equal(stored, 0);
    xs_writer_free(&env);
    s_part(fx, fx->hub, fx->sat_b, 4, 10, 0, &env);
    assert_int_equal(s_put(fx, fx->sat_b, &env, &stored), XS_OK);
    assert_int_equal(stored, 1);
    assert_int_equal(s_held_version(fx, fx->sat_b, &at), 4);
    assert_int_equal(at, 10);
    xs_writer_free(&env);
}

static xs_err s_damage(xs_txn_t *txn, void *ctx) {
    return xs_store_put(txn, NODE_T_STAFF, ctx, 32, "garbage", 7, 0);
}

/* A held part that no longer opens gives way to any good one. */
static void test_damaged_gives_way(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    int stored;
    assert_int_equal(xs_store_update(fx->opened.store, s_damage, fx->sat_a), XS_OK);
    s_part(fx, fx->hub, fx->sat_a, 1, 1, 0, &env);
    assert_int_equal(s_put(fx, fx->sat_a, &env, &stored), XS_OK);
    assert_int_equal(stored, 1);
    assert_int_equal(s_held_version(fx, fx->sat_a, NULL), 1);
    xs_writer_free(&env);
}

typedef struct s_prune_args {
    const uint8_t *self;
    const uint8_t (*keep)[32];
    uint64_t dropped;
} s_prune_args_t;

static xs_err s_prune_step(xs_txn_t *txn, void *ctx) {
    s_prune_args_t *p = ctx;
    return node_staff_prune(txn, p->self, p->keep, 1, &p->dropped);
}

/* A relay keeps its own part and its roster's satellites' parts; a satellite that left the
 * roster takes its teachers with it. */
static void test_prune(void **state) {
    fixture_t *fx = *state;
    const uint8_t *self = xs_identity_public(fx->node)->sign;
    xs_writer_t env;
    int stored;
    const uint8_t *origins[] = {self, fx->sat_a, fx->sat_b};
    for (int i = 0; i < 3; i++) {
        s_part(fx, fx->hub, origins[i], 1, 1, 0, &env);
        assert_int_equal(s_put(fx, origins[i], &env, &stored), XS_OK);
        assert_int_equal(stored, 1);
        xs_writer_free(&env);
    }
    uint8_t keep[1][32];
    memcpy(keep[0], fx->sat_a, 32);
    s_prune_args_t p = {self, (const uint8_t(*)[32])keep, 0};
    assert_int_equal(xs_store_update(fx->opened.store, s_prune_step, &p), XS_OK);
    assert_int_equal(p.dropped, 1);
    assert_int_equal(s_held_version(fx, self, NULL), 1);
    assert_int_equal(s_held_version(fx, fx->sat_a, NULL), 1);
    assert_int_equal(s_held_version(fx, fx->sat_b, NULL), 0);
}

/* node_staff_admits' stderr, captured by xs_scratch_command: argv is teacher, school. */
static const xs_staff_t *s_admitting;
static int s_admits_cmd(int argc, char **argv) {
    xs_record_t rec;
    assert_int_equal(argc, 2);
    xs_record_init(&rec);
    rec.teacher_id = (xs_str_t){argv[0], (uint32_t)strlen(argv[0])};
    rec.school_id = (xs_str_t){argv[1], (uint32_t)strlen(argv[1])};
    rec.present |= 1u << XS_F_TEACHER_ID | 1u << XS_F_SCHOOL_ID;
    return node_staff_admits(s_admitting, &rec, 7) ? 0 : 1;
}

static int s_admits(fixture_t *fx, const char *teacher, const char *school, char *err) {
    static char out[4096];
    char *argv[] = {(char *)teacher, (char *)school, NULL};
    return xs_scratch_command(fx->dir, s_admits_cmd, argv, 2, out, err, sizeof out);
}

/* The node's own part, loaded by node_staff_load, admits its school's teachers, and refuses
 * an unknown id naming the nearest, and a teacher of another school; no part admits anyone. */
static void test_admits(void **state) {
    fixture_t *fx = *state;
    const uint8_t *self = xs_identity_public(fx->node)->sign;
    xs_staff_t own;
    xs_writer_t env;
    int stored;
    static char err[4096];
    assert_int_equal(node_staff_load(&fx->opened, &own), XS_ENOTFOUND);
    s_admitting = &own;
    assert_int_equal(s_admits(fx, "NOBODY", "S1", err), 0);

    s_part(fx, fx->hub, self, 5, 5, 1, &env);
    assert_int_equal(s_put(fx, self, &env, &stored), XS_OK);
    xs_writer_free(&env);
    assert_int_equal(node_staff_load(&fx->opened, &own), XS_OK);
    assert_int_equal(own.version, 5);
    assert_int_equal(own.count, 4);
    assert_string_equal(node_staff_name(&own, "T0021", 5), "李四");
    assert_string_equal(node_staff_name(&own, "T9999", 5), "");
    assert_string_equal(node_staff_name(NULL, "T0021", 5), "");

    assert_int_equal(s_admits(fx, "T0012", "S1", err), 0);
    assert_int_equal(s_admits(fx, "T0O12", "S1", err), 1);
    assert_non_null(strstr(err, "第 7 行"));
    assert_non_null(strstr(err, "教师 T0O12 不在花名册中; 是否是: T0012 张三"));
    assert_non_null(strstr(err, "did you mean T0012"));
    assert_int_equal(s_admits(fx, "T0200", "S1", err), 1);
    assert_non_null(strstr(err, "教师 T0200 赵六 在花名册中属于学校 S2，不是 S1"));
    assert_int_equal(s_admits(fx, "ZZZZZZZZ", "S1", err), 1);
    assert_non_null(strstr(err, "教师 ZZZZZZZZ 不在花名册中"));
    assert_null(strstr(err, "是否是"));
    xs_staff_free(&own);
}

/* What node_check_run reported. */
typedef struct s_seen {
    char problems[8192];
    size_t used;
    int staff_walked;       /* 1 when the staff table's walk ended */
    uint64_t staff_entries; /* its entries */
    uint64_t staff_problems;
} s_seen_t;

static void s_on_problem(void *ctx, unsigned table, const char *text) {
    s_seen_t *seen = ctx;
    int n = snprintf(seen->problems + seen->used, sizeof seen->problems - seen->used, "%u %s\n",
                     table, text);
    if (n > 0 && seen->used + (size_t)n < sizeof seen->problems)
        seen->used += (size_t)n;
}

static void s_on_table(void *ctx, const node_check_table_t *t) {
    s_seen_t *seen = ctx;
    if (t->table != NODE_T_STAFF)
        return;
    seen->staff_walked = t->complete;
    seen->staff_entries = t->entries;
    seen->staff_problems = t->problems;
}

/* check opens each part against the county key for the origin it is stored under: a sound
 * part passes, a damaged one or one under another origin's key is a problem. */
static void test_check(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    int stored;
    uint64_t problems = 0;
    static s_seen_t seen;
    node_check_sink_t sink = {s_on_problem, s_on_table, &seen};
    s_part(fx, fx->hub, fx->sat_a, 1, 1, 0, &env);
    assert_int_equal(s_put(fx, fx->sat_a, &env, &stored), XS_OK);
    node_close(&fx->opened); /* check reads the store in children of its own */
    memset(&seen, 0, sizeof seen);
    assert_int_equal(node_check_run(fx->dir, &sink, &problems), XS_OK);
    assert_true(seen.staff_walked);
    assert_int_equal(seen.staff_entries, 1);
    assert_int_equal(seen.staff_problems, 0);

    /* The same part stored under B's key, and bytes that are no part. */
    assert_int_equal(node_open(&fx->opened, fx->dir), XS_OK);
    assert_int_equal(xs_store_update(fx->opened.store, s_damage, fx->sat_b), XS_OK);
    node_close(&fx->opened);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(node_check_run(fx->dir, &sink, &problems), XS_OK);
    assert_int_equal(seen.staff_entries, 2);
    assert_int_equal(seen.staff_problems, 1);
    assert_non_null(strstr(seen.problems, "教师花名册无法用县级中心的公钥打开"));
    assert_int_equal(node_open(&fx->opened, fx->dir), XS_OK);
    xs_writer_free(&env);
}

/* A store of the release before the roster (no staff table, never opened since) is checked
 * all the same: its staff table is simply empty. */
static void test_check_older_store(void **state) {
    fixture_t *fx = *state;
    char dir[300], path[320];
    xs_store_t *store = NULL;
    xs_identity_t *id = NULL;
    uint64_t problems = 0;
    static s_seen_t seen;
    node_check_sink_t sink = {s_on_problem, s_on_table, &seen};
    snprintf(dir, sizeof dir, "%s/older", fx->dir);
    snprintf(path, sizeof path, "%s/store", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(xs_identity_create(&id, dir, "node"), XS_OK);
    assert_int_equal(xs_store_open(&store, path, node_tables, NODE_T_STAFF, 0), XS_OK);
    assert_int_equal(xs_store_update(store, s_init_meta, fx), XS_OK);
    xs_store_close(&store);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(node_check_run(dir, &sink, &problems), XS_OK);
    assert_null(strstr(seen.problems, "无法打开数据库"));
    assert_true(seen.staff_walked);
    assert_int_equal(seen.staff_entries, 0);
    xs_identity_destroy(&id);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_only_the_countys_part_for_its_origin, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_never_older, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_gives_way, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prune, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_admits, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_check, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_check_older_store, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
