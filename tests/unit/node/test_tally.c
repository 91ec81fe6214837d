/* test_tally: per teacher, provisional totals under the node's policy and what is missing: a
 * teacher below the year's requirement lacks the difference, one above it has met it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "scratch.h"
#include "tally.h"

/* 10 h a year in one bucket of every category; the county's 案例分析 is worth 2 h a record. */
static const char s_policy[] = "[policy]\n"
                               "id = demo_county\n"
                               "version = 1\n"
                               "name = 示例县学时认定\n"
                               "\n"
                               "[category.case_study]\n"
                               "code = 11\n"
                               "label = 案例分析\n"
                               "rule = fixed\n"
                               "hours = 2\n"
                               "\n"
                               "[bucket.total]\n"
                               "label = 合计\n"
                               "categories = all\n"
                               "\n"
                               "[require.year]\n"
                               "total = 10\n";

typedef struct fixture {
    char dir[256];      /* scratch directory */
    char node_dir[300]; /* the node's --dir */
    node_t node;        /* open */
    xs_policy_t *policy;
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char out[4096], path[300];
    if (!fx)
        return -1;
    *state = fx;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_tally") != 0)
        return -1;
    snprintf(fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    snprintf(path, sizeof path, "%s/policy.ini", fx->dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(s_policy, f) < 0 || fclose(f) != 0)
        return -1;
    char *init[] = {"--dir", fx->node_dir, "--school", "S1", "--policy", path, NULL};
    if (xs_scratch_command(fx->dir, node_cmd_init, init, 6, out, NULL, sizeof out) != 0)
        return -1;
    if (node_open(&fx->node, fx->node_dir) != XS_OK)
        return -1;
    return node_policy(&fx->node, &fx->policy) == XS_OK ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    xs_policy_destroy(&fx->policy);
    node_close(&fx->node);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* Records one 案例分析 of teacher on date. */
static void s_case(fixture_t *fx, const char *teacher, const char *date) {
    node_refusal_t why;
    uint64_t seq;
    node_entry_field_t f[] = {{"teacher_id", teacher}, {"date", date}, {"category", "案例分析"}};
    assert_int_equal(node_entry_add(&fx->node, fx->policy, NULL, f, 3, 1760000000, &seq, &why),
                     XS_OK);
}

/* What the tally handed out, per teacher. */
typedef struct s_seen {
    char teacher[8][16];
    uint64_t credited[8], required[8], missing[8];
    char missing_text[8][NODE_TALLY_MISSING_MAX];
    size_t count;
} s_seen_t;

static xs_err s_on_teacher(void *ctx, const node_tally_teacher_t *t) {
    s_seen_t *s = ctx;
    assert_true(s->count < 8);
    snprintf(s->teacher[s->count], sizeof s->teacher[0], "%.*s", (int)t->teacher_id.len,
             t->teacher_id.ptr);
    for (size_t i = 0; i < t->count; i++)
        if (t->rows[i].provisional.scope == XS_SCOPE_YEAR) {
            s->credited[s->count] = t->rows[i].provisional.credited_seconds;
            s->required[s->count] = t->rows[i].provisional.required_seconds;
            s->missing[s->count] = t->rows[i].missing_seconds;
            assert_string_equal(t->rows[i].bucket, "合计");
            assert_string_equal(t->rows[i].period, "2025-2026");
            assert_int_equal(t->rows[i].has_confirmed, 0);
        }
    node_tally_missing_text(t, s->missing_text[s->count], sizeof s->missing_text[0]);
    s->count++;
    return XS_OK;
}

static void test_missing_and_met(void **state) {
    fixture_t *fx = *state;
    static const char *const dates[] = {"2025-10-01", "2025-10-02", "2025-10-03",
                                        "2025-10-04", "2025-10-05", "2025-10-06"};
    for (size_t i = 0; i < 6; i++)
        s_case(fx, "T1", dates[i]); /* 12 h */
    s_case(fx, "T2", "2025-10-01"); /* 2 h */
    s_seen_t seen = {0};
    node_tally_summary_t sum;
    node_tally_opts_t opts = {NULL, 2025, 1760000000};
    assert_int_equal(node_tally_run(&fx->node, fx->policy, NULL, &opts, s_on_teacher, &seen, &sum),
                     XS_OK);
    assert_int_equal(sum.teachers, 2);
    assert_int_equal(sum.corrupted, 0);
    assert_int_equal(seen.count, 2);
    assert_string_equal(seen.teacher[0], "T1");
    assert_int_equal(seen.credited[0], 12 * 3600);
    assert_int_equal(seen.required[0], 10 * 3600);
    assert_int_equal(seen.missing[0], 0);
    assert_string_equal(seen.missing_text[0], "已达标");
    assert_string_equal(seen.teacher[1], "T2");
    assert_int_equal(seen.credited[1], 2 * 3600);
    assert_int_equal(seen.missing[1], 8 * 3600);
    assert_string_equal(seen.missing_text[1], "合计 2025-2026 还差 8.00 学时");

    /* One teacher only; another year has nothing for them. */
    memset(&seen, 0, sizeof seen);
    opts.teacher = "T2";
    assert_int_equal(node_tally_run(&fx->node, fx->policy, NULL, &opts, s_on_teacher, &seen, NULL),
                     XS_OK);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.teacher[0], "T2");
    memset(&seen, 0, sizeof seen);
    opts.year = 2023;
    assert_int_equal(node_tally_run(&fx->node, fx->policy, NULL, &opts, s_on_teacher, &seen, NULL),
                     XS_OK);
    assert_int_equal(seen.count, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_and_met, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
