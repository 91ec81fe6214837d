/* test_workbook: the 汇总表 workbook module: what it refuses, that a written file is a whole
 * XLSX (a zip) at the path asked for with nothing left beside it, that a failed write leaves
 * nothing, and the conclusions it prints. Its cells are read back by openpyxl in
 * tests/integration/test_workbook.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"
#include "xs/standing.h"
#include "xs/workbook.h"

static xs_policy_t *s_policy(void) {
    char path[1024], msg[256];
    const char *root = getenv("XS_SOURCE_DIR");
    xs_policy_t *p = NULL;
    snprintf(path, sizeof path, "%s/schema/policies/wenzhou.ini", root ? root : XS_SOURCE_DIR);
    assert_int_equal(xs_policy_load(&p, path, msg, sizeof msg), XS_OK);
    return p;
}

static xs_workbook_title_t s_title(const xs_policy_t *p) {
    xs_workbook_title_t t;
    memset(&t, 0, sizeof t);
    t.policy = p;
    t.year = 2025;
    t.source = "测试数据";
    t.made_at = 1764547200;
    return t;
}

/* Adds n teachers with zero totals, the second exempt. */
static void s_teachers(xs_workbook_t *wb, const xs_policy_t *p, int n) {
    xs_certify_total_t totals[64];
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "%04d", i);
        size_t count = xs_standing_zero_totals(p, 2025, totals, 64);
        xs_certify_teacher_t view = {{id, (uint32_t)strlen(id)}, NULL, 0, totals, count};
        xs_standing_t st;
        memset(&st, 0, sizeof st);
        st.state = i == 1 ? XS_STANDING_EXEMPT : XS_STANDING_CERTIFIED;
        st.met = i == 1 ? XS_MET_NONE : XS_MET_NO;
        st.why = XS_STANDING_WHY_HOURS;
        st.final = 1;
        xs_workbook_teacher_t t = {{"ZX01", 4}, view.teacher_id, {"=1+1", 4}, &view, &st};
        assert_int_equal(xs_workbook_teacher(wb, &t), XS_OK);
    }
}

static void test_writes_a_whole_file(void **state) {
    (void)state;
    char dir[512], path[600], tmp[620];
    unsigned char magic[4] = {0};
    assert_int_equal(xs_scratch_make(dir, sizeof dir, "workbook"), 0);
    snprintf(path, sizeof path, "%s/汇总表.xlsx", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    xs_policy_t *p = s_policy();
    xs_workbook_title_t title = s_title(p);
    xs_workbook_t *wb = NULL;
    assert_int_equal(xs_workbook_open(&wb, path, &title), XS_OK);
    s_teachers(wb, p, 3);
    assert_int_equal(xs_workbook_school(wb, "ZX01", 5, 1764547200), XS_OK);
    assert_int_equal(xs_workbook_school(wb, "JXD01", 0, 0), XS_OK); /* no teachers: a row */
    assert_int_equal(access(path, F_OK), -1);                       /* not before close */
    assert_int_equal(xs_workbook_close(&wb), XS_OK);
    assert_null(wb);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(magic, 1, 4, f), 4);
    fclose(f);
    assert_memory_equal(magic, "PK\x03\x04", 4); /* an XLSX is a zip */
    assert_int_equal(access(tmp, F_OK), -1);
    xs_policy_destroy(&p);
    xs_scratch_remove(dir);
}

static void test_failed_write_leaves_nothing(void **state) {
    (void)state;
    char dir[512], path[600];
    assert_int_equal(xs_scratch_make(dir, sizeof dir, "workbook"), 0);
    snprintf(path, sizeof path, "%s/gone/汇总表.xlsx", dir); /* no such directory */
    xs_policy_t *p = s_policy();
    xs_workbook_title_t title = s_title(p);
    xs_workbook_t *wb = NULL;
    xs_err err = xs_workbook_open(&wb, path, &title);
    if (err == XS_OK) {
        s_teachers(wb, p, 2);
        err = xs_workbook_close(&wb);
    }
    assert_int_equal(err, XS_EIO);
    assert_null(wb);
    snprintf(path, sizeof path, "%s/gone", dir);
    assert_int_equal(access(path, F_OK), -1);
    xs_policy_destroy(&p);
    xs_scratch_remove(dir);
}

static void test_discard_writes_nothing(void **state) {
    (void)state;
    char dir[512], path[600], tmp[620];
    assert_int_equal(xs_scratch_make(dir, sizeof dir, "workbook"), 0);
    snprintf(path, sizeof path, "%s/a.xlsx", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    xs_policy_t *p = s_policy();
    xs_workbook_title_t title = s_title(p);
    xs_workbook_t *wb = NULL;
    assert_int_equal(xs_workbook_open(&wb, path, &title), XS_OK);
    s_teachers(wb, p, 1);
    xs_workbook_discard(&wb);
    assert_null(wb);
    xs_workbook_discard(&wb); /* NULL is fine */
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access(tmp, F_OK), -1);
    xs_policy_destroy(&p);
    xs_scratch_remove(dir);
}

static void test_refuses_bad_titles(void **state) {
    (void)state;
    xs_policy_t *p = s_policy();
    xs_workbook_title_t title = s_title(p);
    xs_workbook_t *wb = NULL;
    title.policy = NULL;
    assert_int_equal(xs_workbook_open(&wb, "/tmp/never.xlsx", &title), XS_EINVAL);
    title.policy = p;
    title.year = 0;
    assert_int_equal(xs_workbook_open(&wb, "/tmp/never.xlsx", &title), XS_EINVAL);
    assert_null(wb);
    assert_int_equal(xs_workbook_close(&wb), XS_EINVAL);
    xs_policy_destroy(&p);
}

static void test_conclusions(void **state) {
    (void)state;
    xs_standing_t st;
    memset(&st, 0, sizeof st);
    st.met = XS_MET_YES;
    assert_string_equal(xs_workbook_conclusion(&st), "达标");
    st.met = XS_MET_NO;
    assert_string_equal(xs_workbook_conclusion(&st), "未达标");
    st.met = XS_MET_NONE;
    assert_string_equal(xs_workbook_conclusion(&st), "无要求");
    st.state = XS_STANDING_EXEMPT;
    st.met = XS_MET_NO;
    assert_string_equal(xs_workbook_conclusion(&st), "免于认定");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_a_whole_file),
        cmocka_unit_test(test_failed_write_leaves_nothing),
        cmocka_unit_test(test_discard_writes_nothing),
        cmocka_unit_test(test_refuses_bad_titles),
        cmocka_unit_test(test_conclusions),
    };
    return cmocka_run_group_tests_name("workbook", tests, NULL, NULL);
}
