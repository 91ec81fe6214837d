/* test_importer: a register imported through the sink: rows recorded, refused rows reported
 * with their line, field and reason, and a re-import finding every row already recorded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importer.h"
#include "scratch.h"
#include "xs/sheet.h"

typedef struct fixture {
    char dir[256];      /* scratch directory */
    char node_dir[300]; /* the node's --dir */
    node_t node;        /* open */
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char out[4096];
    if (!fx)
        return -1;
    *state = fx;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_imp") != 0)
        return -1;
    snprintf(fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    char *init[] = {"--dir", fx->node_dir, "--school", "S1", NULL};
    if (xs_scratch_command(fx->dir, node_cmd_init, init, 4, out, NULL, sizeof out) != 0)
        return -1;
    return node_open(&fx->node, fx->node_dir) == XS_OK ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    node_close(&fx->node);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* What the sink heard. */
typedef struct s_heard {
    uint32_t lines[8];  /* refused rows' lines */
    char fields[8][32]; /* their fields' Chinese names */
    char texts[8][NODE_REFUSAL_MAX];
    size_t refused;
    size_t commits;
    uint32_t through; /* the last commit's line */
    uint64_t rows;    /* the last progress count */
} s_heard_t;

static void s_refused(void *ctx, uint32_t line, const char *field_zh, const char *text) {
    s_heard_t *h = ctx;
    if (h->refused < 8) {
        h->lines[h->refused] = line;
        snprintf(h->fields[h->refused], sizeof h->fields[0], "%s", field_zh);
        snprintf(h->texts[h->refused], sizeof h->texts[0], "%s", text);
    }
    h->refused++;
}

static void s_committed(void *ctx, uint64_t recorded, uint64_t known, uint32_t through) {
    s_heard_t *h = ctx;
    (void)recorded;
    (void)known;
    h->commits++;
    h->through = through;
}

static void s_progress(void *ctx, uint64_t rows) {
    ((s_heard_t *)ctx)->rows = rows;
}

static const char s_sheet[] = "工号,姓名,日期,类别,分钟,角色\r\n"
                              "T1,张伟,2025-10-04,专题讲座,90,参与\r\n"
                              "T2,李娜,2025/10/5,lecture,九十,\r\n"
                              ",,,,,\r\n"
                              "T3,王芳,2025-10-06,跳舞,45,\r\n"
                              "T4,刘洋,2025.10.7,专题讲座,45,主讲人\r\n"
                              "T5,陈静,2025-10-08,lecture,45,主讲者\r\n";

static xs_err s_import(fixture_t *fx, s_heard_t *h, node_import_result_t *res) {
    xs_csv_t *csv = NULL;
    char msg[256];
    node_import_sink_t sink = {s_refused, s_committed, s_progress, h};
    memset(h, 0, sizeof *h);
    assert_int_equal(xs_sheet_open_mem(&csv, s_sheet, strlen(s_sheet), msg, sizeof msg), XS_OK);
    xs_err err = node_import_run(&fx->node, NULL, NULL, csv, "教务处", 1760000000, &sink, res);
    xs_csv_close(&csv);
    return err;
}

static void test_counts_and_refusals(void **state) {
    fixture_t *fx = *state;
    s_heard_t h;
    node_import_result_t res;
    assert_int_equal(s_import(fx, &h, &res), XS_OK);
    assert_int_equal(res.recorded, 2);
    assert_int_equal(res.known, 0);
    assert_int_equal(res.refused, 3);
    assert_int_equal(res.unknown_category, 1);
    assert_int_equal(res.stopped, 0);
    assert_int_equal(res.rows, 6);
    assert_int_equal(h.rows, 6);
    assert_int_equal(h.commits, 1);
    assert_int_equal(h.through, 7);
    assert_int_equal(h.refused, 3);
    assert_int_equal(h.lines[0], 3);
    assert_string_equal(h.fields[0], xs_field_zh(XS_F_MINUTES));
    assert_non_null(strstr(h.texts[0], "「九十」"));
    assert_non_null(strstr(h.texts[0], "(minutes: bad_value)"));
    assert_int_equal(h.lines[1], 5);
    assert_string_equal(h.fields[1], xs_field_zh(XS_F_CATEGORY));
    assert_non_null(strstr(h.texts[1], "专题讲座/lecture"));
    assert_int_equal(h.lines[2], 7);
    assert_non_null(strstr(h.texts[2], "主讲人/speaker"));

    /* Again: every good row is already recorded, the bad ones are still bad. */
    assert_int_equal(s_import(fx, &h, &res), XS_OK);
    assert_int_equal(res.recorded, 0);
    assert_int_equal(res.known, 2);
    assert_int_equal(res.refused, 3);
    assert_int_equal(h.lines[2], 7);
}

/* A sheet without its category column stops at the header, saying why; nothing recorded. */
static void test_bad_header(void **state) {
    fixture_t *fx = *state;
    static const char sheet[] = "工号,日期,分钟\nT1,2025-10-04,90\n";
    xs_csv_t *csv = NULL;
    char msg[256];
    node_import_result_t res;
    assert_int_equal(xs_sheet_open_mem(&csv, sheet, strlen(sheet), msg, sizeof msg), XS_OK);
    assert_int_equal(node_import_run(&fx->node, NULL, NULL, csv, NULL, 1760000000, NULL, &res),
                     XS_EINVAL);
    xs_csv_close(&csv);
    assert_int_equal(res.stopped, 1);
    assert_int_equal(res.recorded, 0);
    assert_non_null(strstr(res.why, "第 1 行"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_and_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_header, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
