/* test_review: `xueshi-node review` run in-process on a scratch node: what it lists, the review
 * records it appends (records.md §3.1), what it refuses without writing anything, and how
 * `xueshi-node list` shows each record's review; and the reviews module it stands on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node.h"
#include "reviews.h"
#include "scratch.h"

/* Bytes kept of a command's output. */
#define S_OUT_MAX (16 * 1024)

typedef struct fixture {
    char dir[256];       /* scratch directory */
    char node_dir[300];  /* the node's --dir */
    char out[S_OUT_MAX]; /* the last command's standard output */
    char err[S_OUT_MAX]; /* and its standard error */
} fixture_t;

/* Runs a node command in this process; returns its exit code. */
static int s_command(fixture_t *fx, int (*cmd)(int, char **), char **argv, int argc) {
    int rc = xs_scratch_command(fx->dir, cmd, argv, argc, fx->out, fx->err, sizeof fx->out);
    assert_true(rc >= 0);
    return rc;
}

/* xueshi-node review --dir DIR followed by the given words. */
static int s_review(fixture_t *fx, const char *a, const char *b, const char *c, const char *d) {
    char *argv[] = {"--dir", fx->node_dir, (char *)a, (char *)b, (char *)c, (char *)d, NULL};
    int argc = 2 + (a != NULL) + (b != NULL) + (c != NULL) + (d != NULL);
    return s_command(fx, node_cmd_review, argv, argc);
}

static void s_record(fixture_t *fx, const char *teacher, const char *date, const char *minutes) {
    char *argv[] = {"--dir",     fx->node_dir,    "--teacher",  (char *)teacher,
                    "--date",    (char *)date,    "--category", "lecture",
                    "--minutes", (char *)minutes, NULL};
    assert_int_equal(s_command(fx, node_cmd_record, argv, 10), 0);
}

/* Node S01 with five lectures (1..5) of T1, T1, T2, T2, T1 in 2024-2025 and 2025-2026, and
 * record 2 voided by correction 6. */
static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_review") != 0)
        return -1;
    snprintf(fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    char *init[] = {"--dir", fx->node_dir, "--school", "S01", NULL};
    if (s_command(fx, node_cmd_init, init, 4) != 0)
        return -1;
    s_record(fx, "T1", "2025-03-11", "90");
    s_record(fx, "T1", "2025-03-12", "60");
    s_record(fx, "T2", "2025-03-13", "45");
    s_record(fx, "T2", "2025-10-14", "30");
    s_record(fx, "T1", "2025-10-15", "20");
    char *void_2[] = {"--dir", fx->node_dir, "2", "--reason", "重复登记", NULL};
    return s_command(fx, node_cmd_void, void_2, 5);
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (fx)
        xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* Decodes record seq of the node into *rec, its bytes copied into buf (XS_RECORD_MAX). */
static void s_get(fixture_t *fx, uint64_t seq, xs_record_t *rec, uint8_t *buf) {
    node_t node;
    xs_txn_t *txn = NULL;
    xs_bytes_t val;
    assert_int_equal(node_open(&node, fx->node_dir), XS_OK);
    assert_int_equal(xs_store_read(node.store, &txn), XS_OK);
    assert_int_equal(node_record_get(txn, seq, &val), XS_OK);
    assert_true(val.len <= XS_RECORD_MAX);
    memcpy(buf, val.ptr, val.len);
    xs_store_end(&txn);
    node_close(&node);
    assert_int_equal(xs_record_decode_bytes(buf, val.len, rec), XS_OK);
}

/* The next sequence number the node would give. */
static uint64_t s_next(fixture_t *fx) {
    node_t node;
    xs_txn_t *txn = NULL;
    uint64_t seq;
    assert_int_equal(node_open(&node, fx->node_dir), XS_OK);
    assert_int_equal(xs_store_read(node.store, &txn), XS_OK);
    assert_int_equal(node_next_seq(txn, &seq), XS_OK);
    xs_store_end(&txn);
    node_close(&node);
    return seq;
}

/* The listing: the activities not reviewed and not voided, filtered by teacher and year. */
static void test_lists_records_not_yet_reviewed(void **state) {
    fixture_t *fx = *state;
    assert_int_equal(s_review(fx, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(fx->out, "共 4 条未审核"));
    assert_null(strstr(fx->out, "\n2 "));
    assert_int_equal(s_review(fx, "--format", "csv", "--teacher", "T2"), 0);
    assert_non_null(strstr(fx->out, "\xEF\xBB\xBF编号,教师,日期,类别,学时,内容\r\n"));
    assert_non_null(strstr(fx->out, "3,T2,2025-03-13,专题讲座,,\r\n"));
    assert_non_null(strstr(fx->out, "4,T2,2025-10-14,专题讲座,,\r\n"));
    assert_null(strstr(fx->out, ",T1,"));
    assert_int_equal(s_review(fx, "--year", "2025-2026", NULL, NULL), 0);
    assert_non_null(strstr(fx->out, "共 2 条未审核"));
}

/* --approve and --return append one review each, naming the record's teacher and school;
 * a later review of the same record is allowed. */
static void test_approve_and_return_write_reviews(void **state) {
    fixture_t *fx = *state;
    uint64_t first = s_next(fx);
    assert_int_equal(s_review(fx, "--approve", "1,3", "--operator", "A02"), 0);
    assert_non_null(strstr(fx->out, "已审核通过 2 条记录"));
    xs_record_t rec;
    uint8_t buf[XS_RECORD_MAX];
    s_get(fx, first + 1, &rec, buf);
    assert_int_equal(rec.version, 3);
    assert_int_equal(rec.kind, XS_KIND_REVIEW);
    assert_true(rec.reviews == 3);
    assert_int_equal(rec.verdict, XS_VERDICT_APPROVED);
    assert_int_equal(rec.teacher_id.len, 2);
    assert_memory_equal(rec.teacher_id.ptr, "T2", 2);
    assert_memory_equal(rec.school_id.ptr, "S01", 3);
    assert_memory_equal(rec.operator_.ptr, "A02", 3);
    assert_true((rec.present >> XS_F_NOTE & 1u) == 0);

    char *ret[] = {"--dir", fx->node_dir, "--return", "3", "--reason", "学时不符", NULL};
    assert_int_equal(s_command(fx, node_cmd_review, ret, 6), 0);
    s_get(fx, first + 2, &rec, buf);
    assert_true(rec.reviews == 3);
    assert_int_equal(rec.verdict, XS_VERDICT_RETURNED);
    assert_int_equal(rec.note.len, strlen("学时不符"));
    assert_memory_equal(rec.note.ptr, "学时不符", rec.note.len);

    /* list: each record's latest review, and a return's reason. */
    char *list[] = {"--dir", fx->node_dir, "--format", "csv", NULL};
    assert_int_equal(s_command(fx, node_cmd_list, list, 4), 0);
    assert_non_null(strstr(fx->out, ",voided_by,review,review_reason\r\n"));
    assert_non_null(strstr(fx->out, ",,已通过,\r\n"));         /* record 1 */
    assert_non_null(strstr(fx->out, ",6,未审核,\r\n"));        /* record 2, voided */
    assert_non_null(strstr(fx->out, ",,已退回,学时不符\r\n")); /* record 3 */
    assert_int_equal(s_command(fx, node_cmd_list, list, 2), 0);
    assert_non_null(strstr(fx->out, "退回原因：学时不符"));
}

/* A correction, a review, a voided or an unknown record: refused with the reason, and none
 * of the ids given is reviewed. */
static void test_refusals_write_nothing(void **state) {
    fixture_t *fx = *state;
    uint64_t next = s_next(fx);
    static const struct {
        const char *ids, *why;
    } cases[] = {
        {"1,6", "是更正记录"}, {"2,4", "已作废"},       {"4,99", "记录 99：不存在"},
        {"0", "记录编号无效"}, {"5-3", "记录编号无效"}, {"4,x", "记录编号无效"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(s_review(fx, "--approve", cases[i].ids, NULL, NULL), 2);
        if (!strstr(fx->err, cases[i].why))
            fail_msg("%s: %s", cases[i].ids, fx->err);
    }
    char ids[24];
    snprintf(ids, sizeof ids, "%llu", (unsigned long long)(next - 1)); /* the last review */
    assert_int_equal(s_review(fx, "--approve", ids, NULL, NULL), 2);
    assert_non_null(strstr(fx->err, "是审核记录"));
    assert_int_equal(s_next(fx), next);
    /* Usage: a return needs its reason; one action at a time. */
    assert_int_equal(s_review(fx, "--return", "4", NULL, NULL), 2);
    assert_int_equal(s_review(fx, "--approve", "4", "--all", NULL), 2);
    assert_int_equal(s_review(fx, "--approve", "4", "--teacher", "T1"), 2);
    assert_int_equal(s_next(fx), next);
}

/* --all approves every record not yet reviewed of the teacher asked for; then none is left. */
static void test_approve_all(void **state) {
    fixture_t *fx = *state;
    uint64_t next = s_next(fx);
    assert_int_equal(s_review(fx, "--all", "--teacher", "T1", NULL), 0);
    assert_non_null(strstr(fx->out, "已审核通过 1 条记录")); /* 5: 1 is reviewed, 2 voided */
    xs_record_t rec;
    uint8_t buf[XS_RECORD_MAX];
    s_get(fx, next, &rec, buf);
    assert_true(rec.reviews == 5);
    assert_int_equal(s_review(fx, "--all", NULL, NULL, NULL), 0);
    assert_non_null(strstr(fx->out, "已审核通过 1 条记录")); /* 4 */
    assert_int_equal(s_review(fx, "--all", NULL, NULL, NULL), 0);
    assert_non_null(strstr(fx->out, "没有未审核的记录"));
    assert_int_equal(s_review(fx, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(fx->out, "共 0 条未审核"));
}

/* The reviews module: the latest review of each record wins, whichever order they come in. */
static void test_reviews_latest_wins(void **state) {
    (void)state;
    node_reviews_t r = {0};
    xs_record_t rec;
    xs_record_init(&rec);
    rec.kind = XS_KIND_REVIEW;
    static const struct {
        uint64_t seq, target;
        uint8_t verdict;
    } in[] = {{9, 3, XS_VERDICT_APPROVED}, {7, 3, XS_VERDICT_RETURNED}, {8, 1, 1}, {12, 3, 2}};
    for (size_t i = 0; i < 4; i++) {
        rec.reviews = in[i].target;
        rec.verdict = in[i].verdict;
        assert_int_equal(node_reviews_add(&r, in[i].seq, &rec), XS_OK);
    }
    rec.kind = XS_KIND_ACTIVITY;
    assert_int_equal(node_reviews_add(&r, 13, &rec), XS_OK); /* not a review: ignored */
    node_reviews_sort(&r);
    assert_int_equal(r.count, 2);
    const node_review_t *three = node_reviews_find(&r, 3);
    assert_non_null(three);
    assert_true(three->by == 12);
    assert_string_equal(node_review_label(three), "已退回");
    assert_string_equal(node_review_label(node_reviews_find(&r, 1)), "已通过");
    assert_null(node_reviews_find(&r, 2));
    assert_string_equal(node_review_label(NULL), "未审核");
    node_reviews_free(&r);
    assert_int_equal(r.count, 0);
}

/* The voids of the same module: which correction voids a record, in any order added. */
static void test_voids_found_by_target(void **state) {
    (void)state;
    node_voids_t v = {0};
    xs_record_t rec;
    xs_record_init(&rec);
    assert_int_equal(node_voids_by(&v, 1), 0); /* empty: nothing voided */
    rec.kind = XS_KIND_CORRECTION;
    static const uint64_t in[][2] = {{20, 5}, {11, 2}, {30, 9}};
    for (size_t i = 0; i < 3; i++) {
        rec.voids = in[i][1];
        assert_int_equal(node_voids_add(&v, in[i][0], &rec), XS_OK);
    }
    rec.kind = XS_KIND_ACTIVITY;
    assert_int_equal(node_voids_add(&v, 31, &rec), XS_OK); /* not a correction: ignored */
    node_voids_sort(&v);
    assert_int_equal(v.count, 3);
    assert_int_equal(node_voids_by(&v, 2), 11);
    assert_int_equal(node_voids_by(&v, 5), 20);
    assert_int_equal(node_voids_by(&v, 9), 30);
    assert_int_equal(node_voids_by(&v, 3), 0);
    assert_int_equal(node_voids_by(&v, 10), 0);
    node_voids_free(&v);
    assert_int_equal(v.count, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_records_not_yet_reviewed),
        cmocka_unit_test(test_approve_and_return_write_reviews),
        cmocka_unit_test(test_refusals_write_nothing),
        cmocka_unit_test(test_approve_all),
        cmocka_unit_test(test_reviews_latest_wins),
        cmocka_unit_test(test_voids_found_by_target),
    };
    return cmocka_run_group_tests_name("review", tests, s_setup, s_teardown);
}
