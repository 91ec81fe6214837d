/* test_hub_fork: a fork and its resolution, driving hub_merge directly with batches the test
 * seals. The hub holds a node's chain 1..10; a copy restored from an old backup sends 6..12:
 * quarantined, and `xueshi-hub nodes` shows the fork open. A batch after a gap resolves
 * nothing; a batch 11..15 that links to the hub's chain resolves it, the proof staying in
 * HUB_T_FORKS; a new fork opens it again. Node records written before the resolution fields
 * existed still decode. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scratch.h"
#include "hub.h"
#include "ledger.h"
#include "merge.h"
#include "xs/batch.h"
#include "xs/codec.h"
#include "xs/record.h"

/* Bytes kept of a command's standard output. */
#define S_OUT_MAX (64 * 1024)

/* One sealed batch. */
typedef struct sealed {
    xs_writer_t env;
    uint8_t hash[32];
    uint64_t first_seq;
    uint32_t count;
} sealed_t;

typedef struct fixture {
    char dir[256];     /* scratch directory */
    char hub_dir[300]; /* the hub's --dir */
    char out[S_OUT_MAX];
    xs_identity_t *node; /* the node's keys */
    char hex[17];        /* the first 8 bytes of its origin, as `nodes` prints them */
    hub_t hub;           /* open with its keys */
} fixture_t;

/* ---- batches ---- */

/* Seals count activities at first_seq linked to prev (NULL at 1) into *b; note varies the
 * content, so two batches at the same place differ. */
static void s_seal(fixture_t *fx, uint64_t first_seq, uint32_t count, const uint8_t *prev,
                   const char *note, sealed_t *b) {
    xs_writer_t recs[16];
    xs_batch_slice_t slices[16];
    assert_true(count <= 16);
    for (uint32_t i = 0; i < count; i++) {
        xs_record_t rec;
        xs_reason why;
        xs_field field;
        char teacher[32];
        snprintf(teacher, sizeof teacher, "TF%llu", (unsigned long long)(first_seq + i));
        xs_record_init(&rec);
        const struct {
            xs_field f;
            const char *text;
        } fields[] = {
            {XS_F_TEACHER_ID, teacher}, {XS_F_SCHOOL_ID, "S1"},     {XS_F_DATE, "2025-03-12"},
            {XS_F_CATEGORY, "lecture"}, {XS_F_ROLE, "participant"}, {XS_F_MINUTES, "90"},
            {XS_F_NOTE, note},
        };
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            assert_int_equal(
                xs_record_set_text(&rec, fields[f].f, fields[f].text, strlen(fields[f].text), &why),
                XS_OK);
        assert_int_equal(xs_record_check(&rec, &field), XS_REASON_NONE);
        xs_writer_init(&recs[i], XS_RECORD_MAX);
        xs_record_encode(&rec, &recs[i]);
        assert_int_equal(xs_writer_err(&recs[i]), XS_OK);
        slices[i] = (xs_batch_slice_t){recs[i].data, recs[i].len};
    }
    xs_writer_init(&b->env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&b->env, fx->node, first_seq, prev, NULL, (int64_t)time(NULL),
                                   slices, count, b->hash),
                     XS_OK);
    b->first_seq = first_seq;
    b->count = count;
    for (uint32_t i = 0; i < count; i++)
        xs_writer_free(&recs[i]);
}

/* Merges b alone, from the node, and checks its ACK status. */
#define s_merge(fx, b, status) s_merge_at(fx, b, status, __LINE__)
static void s_merge_at(fixture_t *fx, const sealed_t *b, unsigned status, int line) {
    hub_item_t item;
    hub_merge_stats_t stats;
    hub_item_open(&item, b->env.data, b->env.len, xs_identity_public(fx->node)->sign);
    _assert_int_equal(item.open_err, XS_OK, __FILE__, line);
    _assert_int_equal(hub_merge(&fx->hub, &item, 1, &stats), XS_OK, __FILE__, line);
    _assert_int_equal(item.status, status, __FILE__, line);
    hub_item_free(&item);
}

/* ---- what the hub holds ---- */

static void s_node(fixture_t *fx, hub_node_t *node) {
    xs_txn_t *txn = NULL;
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_node_get(txn, xs_identity_public(fx->node)->sign, node), XS_OK);
    xs_store_end(&txn);
}

typedef struct proofs {
    size_t count;
    uint64_t first_seq[8];
    uint8_t hash[8][32];
    int matches; /* proofs equal, byte for byte, to `want` */
    const sealed_t *want;
} proofs_t;

static xs_err s_proof(void *ctx, uint64_t first_seq, const uint8_t hash[32],
                      const uint8_t *envelope, size_t len) {
    proofs_t *p = ctx;
    if (p->count < 8) {
        p->first_seq[p->count] = first_seq;
        memcpy(p->hash[p->count], hash, 32);
    }
    p->count++;
    if (p->want && len == p->want->env.len && memcmp(envelope, p->want->env.data, len) == 0)
        p->matches++;
    return XS_OK;
}

/* The node's quarantined batches, and how many are `want` verbatim. */
static void s_proofs(fixture_t *fx, const sealed_t *want, proofs_t *p) {
    xs_txn_t *txn = NULL;
    memset(p, 0, sizeof *p);
    p->want = want;
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_ledger_forks_each(txn, xs_identity_public(fx->node)->sign, s_proof, p),
                     XS_OK);
    xs_store_end(&txn);
}

/* Runs a hub command in this process, its standard output into fx->out. Returns its exit
 * code. */
static int s_command(fixture_t *fx, int (*cmd)(int, char **), char **argv, int argc) {
    int rc = xs_scratch_command(fx->dir, cmd, argv, argc, fx->out, NULL, sizeof fx->out);
    assert_true(rc >= 0);
    return rc;
}

/* `xueshi-hub nodes`, in fx->out. */
static const char *s_nodes(fixture_t *fx) {
    char *argv[] = {"--dir", fx->hub_dir, NULL};
    assert_int_equal(s_command(fx, hub_cmd_nodes, argv, 2), 0);
    assert_non_null(strstr(fx->out, fx->hex));
    return fx->out;
}

/* ---- setup ---- */

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char policy[600], keys[XS_PUBKEYS_TEXT_LEN + 1];
    if (!fx)
        return -1;
    *state = fx;
    if (xs_identity_setup() != XS_OK)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_fork") != 0)
        return -1;
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    const char *src = getenv("XS_SOURCE_DIR");
    snprintf(policy, sizeof policy, "%s/schema/policies/baiwanzi.ini",
             src && *src ? src : XS_SOURCE_DIR);
    char *init[] = {"--dir", fx->hub_dir, "--policy", policy, NULL};
    if (s_command(fx, hub_cmd_init, init, 4) != 0)
        return -1;
    if (xs_identity_create(&fx->node, fx->dir, "node") != XS_OK)
        return -1;
    xs_pubkeys_format(xs_identity_public(fx->node), keys);
    xs_hex_encode(xs_identity_public(fx->node)->sign, 8, fx->hex);
    char *enroll[] = {"--dir", fx->hub_dir, "--node", keys, "--school", "S1", NULL};
    if (s_command(fx, hub_cmd_enroll, enroll, 6) != 0)
        return -1;
    return hub_open(&fx->hub, fx->hub_dir, 1) == XS_OK ? 0 : -1;
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

/* ---- the case ---- */

static void test_fork_resolved(void **state) {
    fixture_t *fx = *state;
    sealed_t a, b, fork, after_gap, next, fork2, last;
    hub_node_t node;
    proofs_t proofs;
    int64_t t0 = (int64_t)time(NULL);

    /* The hub holds 1..10. */
    s_seal(fx, 1, 5, NULL, "chain", &a);
    s_seal(fx, 6, 5, a.hash, "chain", &b);
    s_merge(fx, &a, XS_ACK_ACCEPTED);
    s_merge(fx, &b, XS_ACK_ACCEPTED);

    /* A copy restored from a backup of 1..5 records 7 more: 6..12, a fork. */
    s_seal(fx, 6, 7, a.hash, "restored copy", &fork);
    s_merge(fx, &fork, XS_ACK_FORK);
    s_node(fx, &node);
    assert_int_equal(node.forks, 1);
    assert_int_equal(node.fork_seq, 6);
    assert_int_equal(node.fork_resolved_at, 0);
    const char *out = s_nodes(fx);
    assert_non_null(strstr(out, "分叉 (fork) 自序号 6 起"));
    assert_null(strstr(out, "分叉已解决"));

    /* A batch after a gap, continuing the copy's side: stored, but it links to nothing the hub
     * holds, so the fork stays open. */
    s_seal(fx, 20, 2, fork.hash, "the copy goes on", &after_gap);
    s_merge(fx, &after_gap, XS_ACK_ACCEPTED);
    s_node(fx, &node);
    assert_int_equal(node.fork_resolved_at, 0);
    assert_null(strstr(s_nodes(fx), "分叉已解决"));

    /* The node adopts the hub's chain and re-seals its records after the hub's head: 11..15,
     * linked to the hub's 6..10. Resolved; the proof is kept. */
    s_seal(fx, 11, 5, b.hash, "re-sealed after the hub's head", &next);
    s_merge(fx, &next, XS_ACK_ACCEPTED);
    s_node(fx, &node);
    assert_int_equal(node.forks, 1);
    assert_int_equal(node.fork_seq, 6);
    assert_true(node.fork_resolved_at >= t0 && node.fork_resolved_at <= (int64_t)time(NULL));
    assert_int_equal(node.fork_resolved_through, 15);
    out = s_nodes(fx);
    assert_non_null(strstr(out, "分叉已解决 (fork resolved) 于 "));
    assert_non_null(strstr(out, "续签至序号 15"));
    assert_non_null(strstr(out, "隔离批次 1 (quarantined, proof kept)"));
    assert_null(strstr(out, "分叉 (fork) 自序号"));
    s_proofs(fx, &fork, &proofs);
    assert_int_equal(proofs.count, 1);
    assert_int_equal(proofs.first_seq[0], 6);
    assert_memory_equal(proofs.hash[0], fork.hash, 32);
    assert_int_equal(proofs.matches, 1);

    /* The same batches again change nothing: held, and the fork proof is not new. */
    s_merge(fx, &next, XS_ACK_HELD);
    s_merge(fx, &fork, XS_ACK_FORK);
    s_node(fx, &node);
    assert_int_equal(node.forks, 1);
    assert_int_equal(node.fork_resolved_through, 15);

    /* A new fork after the resolution (another 11..12): open again, both proofs kept. */
    s_seal(fx, 11, 2, b.hash, "another copy", &fork2);
    s_merge(fx, &fork2, XS_ACK_FORK);
    s_node(fx, &node);
    assert_int_equal(node.forks, 2);
    assert_int_equal(node.fork_seq, 11);
    assert_int_equal(node.fork_resolved_at, 0);
    assert_int_equal(node.fork_resolved_through, 0);
    out = s_nodes(fx);
    assert_non_null(strstr(out, "分叉 (fork) 自序号 11 起"));
    assert_null(strstr(out, "分叉已解决"));
    s_proofs(fx, &fork, &proofs);
    assert_int_equal(proofs.count, 2);
    assert_int_equal(proofs.matches, 1);

    /* Signed on past both: 16..18, linked to 11..15. */
    s_seal(fx, 16, 3, next.hash, "past both", &last);
    s_merge(fx, &last, XS_ACK_ACCEPTED);
    s_node(fx, &node);
    assert_int_equal(node.forks, 2);
    assert_true(node.fork_resolved_at >= t0);
    assert_int_equal(node.fork_resolved_through, 18);
    assert_non_null(strstr(s_nodes(fx), "隔离批次 2 (quarantined, proof kept)"));

    sealed_t *all[] = {&a, &b, &fork, &after_gap, &next, &fork2, &last};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        xs_writer_free(&all[i]->env);
}

/* A batch that goes on from a quarantined one, past a gap in the hub's chain, is the fork's
 * side too: quarantined, not stored, so the node's records re-sealed after the hub's head
 * are accepted where they would otherwise collide with it. */
static void test_fork_continuation_quarantined(void **state) {
    fixture_t *fx = *state;
    hub_node_t node;
    sealed_t a, b, fork, more, next;
    s_seal(fx, 1, 5, NULL, "chain", &a);
    s_seal(fx, 6, 5, a.hash, "chain", &b);
    s_merge(fx, &a, XS_ACK_ACCEPTED);
    s_merge(fx, &b, XS_ACK_ACCEPTED);
    s_seal(fx, 6, 7, a.hash, "restored copy", &fork);
    s_merge(fx, &fork, XS_ACK_FORK);
    s_seal(fx, 13, 2, fork.hash, "the copy's next batch", &more);
    s_merge(fx, &more, XS_ACK_FORK);
    s_node(fx, &node);
    assert_int_equal(node.forks, 2);
    s_seal(fx, 11, 5, b.hash, "re-sealed after the hub's head", &next);
    s_merge(fx, &next, XS_ACK_ACCEPTED);
    s_node(fx, &node);
    assert_int_equal(node.fork_resolved_through, 15);
    sealed_t *all[] = {&a, &b, &fork, &more, &next};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        xs_writer_free(&all[i]->env);
}

/* The node record as written before fork_resolved_at and fork_resolved_through existed. */
typedef struct old_record {
    const hub_node_t *node;
} old_record_t;

static xs_err s_put_old_record(xs_txn_t *txn, void *ctx) {
    const hub_node_t *n = ((const old_record_t *)ctx)->node;
    xs_writer_t w;
    xs_writer_init(&w, 8192);
    xs_codec_put_array(&w, 10);
    xs_codec_put_uint(&w, n->number);
    xs_codec_put_bin(&w, n->box, sizeof n->box);
    xs_codec_put_str(&w, n->school, strlen(n->school));
    xs_codec_put_array(&w, n->proxy_count);
    for (uint32_t i = 0; i < n->proxy_count; i++)
        xs_codec_put_str(&w, n->proxies[i], strlen(n->proxies[i]));
    xs_codec_put_int(&w, n->enrolled_at);
    xs_codec_put_int(&w, n->revoked_at);
    xs_codec_put_int(&w, n->last_sync);
    xs_codec_put_uint(&w, n->fork_seq);
    xs_codec_put_uint(&w, n->forks);
    xs_codec_put_bin(&w, n->origin, sizeof n->origin);
    xs_err err = xs_writer_err(&w);
    if (err == XS_OK)
        err = xs_store_put(txn, HUB_T_NODES, n->origin, 32, w.data, w.len, 0);
    xs_writer_free(&w);
    return err;
}

/* A record of 10 fields decodes with the fork open; the next write keeps everything. */
static void test_old_node_record(void **state) {
    fixture_t *fx = *state;
    hub_node_t before, after;
    s_node(fx, &before);
    assert_true(before.fork_resolved_at != 0);
    old_record_t old = {&before};
    assert_int_equal(xs_store_update(fx->hub.store, s_put_old_record, &old), XS_OK);
    s_node(fx, &after);
    assert_int_equal(after.fork_resolved_at, 0);
    assert_int_equal(after.fork_resolved_through, 0);
    after.fork_resolved_at = before.fork_resolved_at;
    after.fork_resolved_through = before.fork_resolved_through;
    assert_memory_equal(&after, &before, sizeof before);
    assert_non_null(strstr(s_nodes(fx), "分叉 (fork) 自序号 11 起"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fork_resolved),
        cmocka_unit_test(test_old_node_record),
    };
    /* A hub of its own: the group above leaves its node's chain behind. */
    const struct CMUnitTest continuation[] = {
        cmocka_unit_test(test_fork_continuation_quarantined),
    };
    int failed = cmocka_run_group_tests(tests, s_setup, s_teardown);
    return failed +
           cmocka_run_group_tests_name("fork_continuation", continuation, s_setup, s_teardown);
}
