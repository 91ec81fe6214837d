/* test_hub_metrics: the hub's counters (hub/metrics.c) add up across flushes and inside a
 * merge's own transaction; the merge-latency histogram renders cumulative; label values are
 * escaped; the exposition of a known state, with the store's use and a node's age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub.h"
#include "merge.h"
#include "metrics.h"
#include "scratch.h"
#include "xs/batch.h"
#include "xs/record.h"

static const char s_policy[] = "[policy]\n"
                               "id = metricstest\n"
                               "version = 1\n"
                               "name = 计数测试县\n"
                               "\n"
                               "[bucket.total]\n"
                               "label = 合计\n"
                               "categories = all\n"
                               "\n"
                               "[require.year]\n"
                               "total = 2\n";

typedef struct fixture {
    char dir[256];
    char hub_dir[300];
    char out[8192];
    xs_identity_t *node;
    hub_t hub;
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char path[400], keys[XS_PUBKEYS_TEXT_LEN + 1];
    if (!fx)
        return -1;
    *state = fx;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_metrics") != 0)
        return -1;
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    snprintf(path, sizeof path, "%s/policy.ini", fx->dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(s_policy, f) < 0 || fclose(f) != 0)
        return -1;
    char *init[] = {"--dir", fx->hub_dir, "--policy", path, NULL};
    if (xs_scratch_command(fx->dir, hub_cmd_init, init, 4, fx->out, NULL, sizeof fx->out) != 0)
        return -1;
    if (xs_identity_create(&fx->node, fx->dir, "node") != XS_OK)
        return -1;
    xs_pubkeys_format(xs_identity_public(fx->node), keys);
    char *enroll[] = {"--dir", fx->hub_dir, "--node", keys, "--school", "S1", NULL};
    if (xs_scratch_command(fx->dir, hub_cmd_enroll, enroll, 6, fx->out, NULL, sizeof fx->out) != 0)
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

static hub_metrics_t s_stored(fixture_t *fx) {
    xs_txn_t *txn = NULL;
    hub_metrics_t m;
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_metrics_read(txn, &m), XS_OK);
    xs_store_end(&txn);
    return m;
}

static void test_flushes_add_up(void **state) {
    fixture_t *fx = *state;
    hub_metrics_t pending;
    uint8_t origin[32];
    memset(origin, 7, sizeof origin);
    hub_metrics_clear(&pending);
    assert_false(hub_metrics_pending(&pending));
    pending.sessions = 1;
    pending.refused[HUB_REFUSED_UNKNOWN_KEY] = 2;
    hub_metrics_observe_merge(&pending, 0.003);
    hub_metrics_observe_merge(&pending, 0.3);
    assert_int_equal(hub_metrics_note_seen(&pending, origin, 1000), 1);
    assert_int_equal(hub_metrics_flush(&fx->hub, &pending), XS_OK);
    assert_false(hub_metrics_pending(&pending)); /* emptied once stored */
    pending.sessions = 2;
    pending.refused[HUB_REFUSED_UNKNOWN_KEY] = 1;
    pending.refused[HUB_REFUSED_REVOKED] = 1;
    hub_metrics_observe_merge(&pending, 20);
    assert_int_equal(hub_metrics_note_seen(&pending, origin, 1500), 1);
    assert_int_equal(hub_metrics_flush(&fx->hub, &pending), XS_OK);
    hub_metrics_t m = s_stored(fx);
    assert_int_equal(m.sessions, 3);
    assert_int_equal(m.refused[HUB_REFUSED_UNKNOWN_KEY], 3);
    assert_int_equal(m.refused[HUB_REFUSED_REVOKED], 1);
    assert_int_equal(m.refused[HUB_REFUSED_MALFORMED], 0);
    assert_int_equal(m.merge_count, 3);
    assert_int_equal(m.merge_sum_us, 20303000);
    assert_int_equal(m.merge_buckets[0], 1);                       /* ≤ 0.005 */
    assert_int_equal(m.merge_buckets[6], 1);                       /* ≤ 0.5 */
    assert_int_equal(m.merge_buckets[HUB_METRICS_BUCKETS - 1], 1); /* +Inf */
    xs_txn_t *txn = NULL;
    int64_t at;
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_metrics_seen_at(txn, origin, &at), XS_OK);
    xs_store_end(&txn);
    assert_int_equal(at, 1500);
    /* Nothing pending: no write at all. */
    assert_int_equal(hub_metrics_flush(&fx->hub, &pending), XS_OK);
}

static void test_seen_room(void **state) {
    (void)state;
    hub_metrics_t m;
    uint8_t origin[32];
    hub_metrics_clear(&m);
    for (int i = 0; i < HUB_METRICS_SEEN_MAX; i++) {
        memset(origin, i, sizeof origin);
        assert_int_equal(hub_metrics_note_seen(&m, origin, i), 1);
    }
    memset(origin, 3, sizeof origin); /* one already noted: updated in place */
    assert_int_equal(hub_metrics_note_seen(&m, origin, 99), 1);
    assert_int_equal(m.seen[3].at, 99);
    memset(origin, 0xee, sizeof origin); /* a new one: no room until flushed */
    assert_int_equal(hub_metrics_note_seen(&m, origin, 1), 0);
}

static void test_merge_transaction(void **state) {
    fixture_t *fx = *state;
    xs_writer_t rec, env;
    xs_record_t r;
    xs_reason why;
    uint8_t hash[32];
    xs_record_init(&r);
    const struct {
        xs_field f;
        const char *text;
    } fields[] = {{XS_F_TEACHER_ID, "T1"},    {XS_F_DATE, "2025-10-15"}, {XS_F_CATEGORY, "lecture"},
                  {XS_F_ROLE, "participant"}, {XS_F_MINUTES, "90"},      {XS_F_SCHOOL_ID, "S1"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        assert_int_equal(
            xs_record_set_text(&r, fields[i].f, fields[i].text, strlen(fields[i].text), &why),
            XS_OK);
    xs_writer_init(&rec, XS_RECORD_MAX);
    xs_record_encode(&r, &rec);
    assert_int_equal(xs_writer_err(&rec), XS_OK);
    xs_batch_slice_t slice = {rec.data, rec.len};
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(
        xs_batch_seal(&env, fx->node, 1, NULL, NULL, (int64_t)time(NULL), &slice, 1, hash), XS_OK);
    hub_metrics_t before = s_stored(fx), delta;
    hub_metrics_clear(&delta);
    delta.refused[HUB_REFUSED_MALFORMED] = 4; /* pending refusals ride along */
    hub_item_t item;
    hub_merge_stats_t st;
    hub_item_open(&item, env.data, env.len, xs_identity_public(fx->node)->sign);
    assert_int_equal(hub_merge_noting(&fx->hub, &item, 1, &st, hub_metrics_note_merge, &delta),
                     XS_OK);
    assert_int_equal(item.status, XS_ACK_ACCEPTED);
    hub_item_free(&item);
    assert_int_equal(delta.refused[HUB_REFUSED_MALFORMED], 4); /* the caller's, left as is */
    hub_metrics_t after = s_stored(fx);
    assert_int_equal(after.batches, before.batches + 1);
    assert_int_equal(after.records, before.records + 1);
    assert_int_equal(after.refused[HUB_REFUSED_MALFORMED],
                     before.refused[HUB_REFUSED_MALFORMED] + 4);
    /* The exposition names the node with its age since that merge. */
    xs_writer_t text;
    xs_writer_init(&text, 1 << 20);
    assert_int_equal(hub_metrics_render(&fx->hub, (int64_t)time(NULL) + 5, &text), XS_OK);
    xs_writer_raw(&text, "", 1);
    const char *body = (const char *)text.data;
    const char *age =
        strstr(body, "xueshi_hub_node_last_sync_age_seconds{node=\"1\",school=\"S1\"} ");
    assert_non_null(age);
    long seconds = strtol(
        age + strlen("xueshi_hub_node_last_sync_age_seconds{node=\"1\",school=\"S1\"} "), NULL, 10);
    assert_true(seconds >= 5 && seconds <= 7);
    assert_non_null(strstr(body, "xueshi_hub_records_merged_total 1\n"));
    assert_non_null(strstr(body, "xueshi_hub_nodes{state=\"active\"} 1\n"));
    assert_non_null(strstr(body, "xueshi_hub_nodes{state=\"revoked\"} 0\n"));
    assert_non_null(strstr(body, "# TYPE xueshi_hub_store_map_bytes gauge\n"));
    const char *used = strstr(body, "\nxueshi_hub_store_used_bytes ");
    assert_non_null(used);
    assert_true(strtoull(used + 29, NULL, 10) > 0);
    assert_int_equal(hub_metrics_health(&fx->hub), XS_OK);
    xs_writer_free(&text);
    xs_writer_free(&env);
    xs_writer_free(&rec);
}

static void test_render_known_state(void **state) {
    (void)state;
    hub_metrics_t m;
    xs_writer_t out;
    hub_metrics_clear(&m);
    m.sessions = 7;
    m.batches = 5;
    m.records = 1234;
    m.refused[HUB_REFUSED_UNKNOWN_KEY] = 2;
    m.refused[HUB_REFUSED_FORK] = 1;
    hub_metrics_observe_merge(&m, 0.004); /* le 0.005 */
    hub_metrics_observe_merge(&m, 0.005); /* le 0.005: the bound is inclusive */
    hub_metrics_observe_merge(&m, 0.2);   /* le 0.25 */
    hub_metrics_observe_merge(&m, 3);     /* le 5 */
    hub_metrics_observe_merge(&m, 1000);  /* +Inf only */
    xs_writer_init(&out, 1 << 16);
    hub_metrics_render_counters(&m, &out);
    xs_writer_raw(&out, "", 1);
    const char *text = (const char *)out.data;
    static const char *const expected[] = {
        "# HELP xueshi_hub_sync_sessions_total ",
        "# TYPE xueshi_hub_sync_sessions_total counter\nxueshi_hub_sync_sessions_total 7\n",
        "# TYPE xueshi_hub_batches_total counter\nxueshi_hub_batches_total 5\n",
        "xueshi_hub_records_merged_total 1234\n",
        "xueshi_hub_refused_total{reason=\"unknown_key\"} 2\n",
        "xueshi_hub_refused_total{reason=\"revoked\"} 0\n",
        "xueshi_hub_refused_total{reason=\"fork\"} 1\n",
        "# TYPE xueshi_hub_merge_seconds histogram\n"
        "xueshi_hub_merge_seconds_bucket{le=\"0.005\"} 2\n"
        "xueshi_hub_merge_seconds_bucket{le=\"0.01\"} 2\n"
        "xueshi_hub_merge_seconds_bucket{le=\"0.025\"} 2\n"
        "xueshi_hub_merge_seconds_bucket{le=\"0.05\"} 2\n"
        "xueshi_hub_merge_seconds_bucket{le=\"0.1\"} 2\n"
        "xueshi_hub_merge_seconds_bucket{le=\"0.25\"} 3\n"
        "xueshi_hub_merge_seconds_bucket{le=\"0.5\"} 3\n"
        "xueshi_hub_merge_seconds_bucket{le=\"1\"} 3\n"
        "xueshi_hub_merge_seconds_bucket{le=\"2.5\"} 3\n"
        "xueshi_hub_merge_seconds_bucket{le=\"5\"} 4\n"
        "xueshi_hub_merge_seconds_bucket{le=\"10\"} 4\n"
        "xueshi_hub_merge_seconds_bucket{le=\"+Inf\"} 5\n"
        "xueshi_hub_merge_seconds_sum 1003.209000\n"
        "xueshi_hub_merge_seconds_count 5\n",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        if (!strstr(text, expected[i]))
            fail_msg("missing from the exposition:\n%s\n--- in:\n%s", expected[i], text);
    xs_writer_free(&out);
}

static void test_label_escape(void **state) {
    (void)state;
    xs_writer_t out;
    xs_writer_init(&out, 256);
    hub_metrics_label(&out, "a\"b\\c\nd县");
    xs_writer_raw(&out, "", 1);
    assert_string_equal((const char *)out.data, "a\\\"b\\\\c\\nd县");
    xs_writer_free(&out);
    assert_string_equal(hub_refusal_name(hub_refusal_from_code(XS_PCODE_BAD_SIGNATURE)),
                        "bad_signature");
    assert_string_equal(hub_refusal_name(hub_refusal_from_code(200)), "malformed");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flushes_add_up),    cmocka_unit_test(test_seen_room),
        cmocka_unit_test(test_merge_transaction), cmocka_unit_test(test_render_known_state),
        cmocka_unit_test(test_label_escape),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
