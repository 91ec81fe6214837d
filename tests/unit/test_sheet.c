/* test_sheet: the 学时登记表 header (names, aliases, refusals) and rows onto records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "xs/csv.h"
#include "xs/policy.h"
#include "xs/sheet.h"
#include "xs/text.h"

/* A reader over a whole sheet, with its header already taken. */
typedef struct s_fixture {
    xs_csv_t *csv;
    xs_sheet_t sheet;
    xs_csv_row_t row;
} s_fixture_t;

/* Opens input as a sheet whose categories policy resolves (NULL: built-ins only). */
static void s_open_with(s_fixture_t *fx, const xs_policy_t *policy, const char *input) {
    char msg[256];
    fx->csv = NULL;
    assert_int_equal(xs_csv_open_mem(&fx->csv, input, strlen(input)), XS_OK);
    assert_int_equal(xs_csv_next(fx->csv, &fx->row), XS_OK);
    xs_err err = xs_sheet_header_policy(&fx->sheet, &fx->row, policy, msg, sizeof msg);
    if (err != XS_OK)
        fail_msg("header refused: %s", msg);
    assert_string_equal(msg, "");
}

static void s_open(s_fixture_t *fx, const char *input) {
    s_open_with(fx, NULL, input);
}

/* Reads the next row of fx into rec; returns what xs_sheet_row returned. */
static xs_err s_row(s_fixture_t *fx, xs_record_t *rec, xs_sheet_extra_t *extra, xs_field *field,
                    xs_reason *why) {
    assert_int_equal(xs_csv_next(fx->csv, &fx->row), XS_OK);
    return xs_sheet_row(&fx->sheet, &fx->row, rec, extra, field, why);
}

/* Parses one header line and returns the result, with the message in msg. */
static xs_err s_header(const char *line, char *msg, size_t cap) {
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    xs_sheet_t sheet;
    assert_int_equal(xs_csv_open_mem(&c, line, strlen(line)), XS_OK);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    xs_err err = xs_sheet_header(&sheet, &row, msg, cap);
    xs_csv_close(&c);
    return err;
}

static void s_assert_str(xs_str_t s, const char *expected) {
    assert_int_equal(s.len, strlen(expected));
    assert_memory_equal(s.ptr, expected, s.len);
}

static void test_header_any_order_and_case(void **state) {
    (void)state;
    s_fixture_t fx;
    s_open(&fx, " Category ,NOTE,date,\tTeacher_ID\n");
    assert_int_equal(fx.sheet.count, 4);
    assert_int_equal(fx.sheet.column[0], XS_F_CATEGORY);
    assert_int_equal(fx.sheet.column[1], XS_F_NOTE);
    assert_int_equal(fx.sheet.column[2], XS_F_DATE);
    assert_int_equal(fx.sheet.column[3], XS_F_TEACHER_ID);
    xs_csv_close(&fx.csv);
}

static void test_header_chinese_aliases(void **state) {
    (void)state;
    s_fixture_t fx;
    s_open(&fx, "工号,姓名,学校,日期,类别,角色,分钟,学时,天数,字数,单元,级别,等级,题目,活动,成绩,"
                "备注,登记人,编号\n");
    const int expected[] = {
        XS_F_TEACHER_ID, XS_SHEET_COL_NAME, XS_F_SCHOOL_ID, XS_F_DATE, XS_F_CATEGORY,
        XS_F_ROLE,       XS_F_MINUTES,      XS_F_HOURS,     XS_F_DAYS, XS_F_CHARS,
        XS_F_UNIT,       XS_F_LEVEL,        XS_F_GRADE,     XS_F_WORK, XS_F_EVENT,
        XS_F_SCORE,      XS_F_NOTE,         XS_F_OPERATOR,  XS_F_REF,
    };
    assert_int_equal(fx.sheet.count, 19);
    for (size_t i = 0; i < 19; i++)
        assert_int_equal(fx.sheet.column[i], expected[i]);
    xs_csv_close(&fx.csv);
    s_open(&fx, "教师编号,日期,类别\n");
    assert_int_equal(fx.sheet.column[0], XS_F_TEACHER_ID);
    xs_csv_close(&fx.csv);
}

static void test_header_unknown_column_is_named(void **state) {
    (void)state;
    char msg[256];
    assert_int_equal(s_header("teacher_id,date,category,foo\n", msg, sizeof msg), XS_EINVAL);
    assert_non_null(strstr(msg, "\"foo\""));
    assert_int_equal(strncmp(msg, "未知的列", strlen("未知的列")), 0); /* Chinese first */
    assert_non_null(strstr(msg, "unknown column"));
    assert_non_null(strstr(msg, "4")); /* which column */
    /* Fields users may not set are unknown too. */
    assert_int_equal(s_header("teacher_id,date,category,recorded_at\n", msg, sizeof msg),
                     XS_EINVAL);
    assert_non_null(strstr(msg, "\"recorded_at\""));
    /* A long name is quoted cut at a character boundary, never half a character. */
    assert_int_equal(
        s_header("teacher_id,date,category,一二三四五六七八九十一二三四五六\n", msg, sizeof msg),
        XS_EINVAL);
    assert_non_null(strstr(msg, "\"一二三四五六七八九十一二三\""));
}

static void test_header_repeated_column(void **state) {
    (void)state;
    char msg[256];
    assert_int_equal(s_header("teacher_id,date,工号,category\n", msg, sizeof msg), XS_EINVAL);
    assert_int_equal(strncmp(msg, "重复的列 \"工号\"", strlen("重复的列 \"工号\"")), 0);
    assert_non_null(strstr(msg, "repeated column"));
    assert_int_equal(s_header("teacher_id,date,category,name,姓名\n", msg, sizeof msg), XS_EINVAL);
    assert_non_null(strstr(msg, "\"姓名\""));
}

static void test_header_missing_required(void **state) {
    (void)state;
    char msg[256];
    assert_int_equal(s_header("teacher_id,date,minutes\n", msg, sizeof msg), XS_EINVAL);
    assert_non_null(strstr(msg, "缺少必需的列"));
    assert_non_null(strstr(msg, "\"category\""));
    assert_int_equal(s_header("类别,日期\n", msg, sizeof msg), XS_EINVAL);
    assert_non_null(strstr(msg, "\"teacher_id\""));
    assert_int_equal(s_header("工号,类别\n", msg, sizeof msg), XS_EINVAL);
    assert_non_null(strstr(msg, "\"date\""));
}

static void test_header_not_utf8(void **state) {
    (void)state;
    char msg[256];
    /* "工号,日期,类别" as Excel's default Chinese CSV writes it: GBK. */
    assert_int_equal(
        s_header("\xb9\xa4\xba\xc5,\xc8\xd5\xc6\xda,\xc0\xe0\xb1\xf0\n", msg, sizeof msg),
        XS_EINVAL);
    assert_non_null(strstr(msg, "UTF-8"));
}

static void test_header_message_buffer_is_bounded(void **state) {
    (void)state;
    char msg[8];
    memset(msg, 'x', sizeof msg);
    assert_int_equal(s_header("foo\n", msg, sizeof msg), XS_EINVAL);
    assert_true(memchr(msg, '\0', sizeof msg) != NULL);
    assert_int_equal(s_header("foo\n", NULL, 0), XS_EINVAL);
    /* A cut never leaves half a character: "未知的列" is 12 bytes, cut inside the fourth. */
    char cut[11];
    assert_int_equal(s_header("foo\n", cut, sizeof cut), XS_EINVAL);
    assert_string_equal(cut, "未知的");
    assert_true(xs_text_utf8_valid(cut, strlen(cut)));
}

static void test_row_to_record(void **state) {
    (void)state;
    s_fixture_t fx;
    xs_record_t rec;
    xs_sheet_extra_t extra;
    xs_field field;
    xs_reason why;
    s_open(&fx, "工号,姓名,日期,类别,学时,天数,分钟,备注\n"
                "T001, 张三 ,2025-09-01,集中培训,2.5,2.5,,\"培训, 第一期\"\n"
                "T002,李四,2025-09-02,Lecture,,,90,\n");
    assert_int_equal(s_row(&fx, &rec, &extra, &field, &why), XS_OK);
    assert_int_equal(why, XS_REASON_NONE);
    s_assert_str(rec.teacher_id, "T001");
    s_assert_str(extra.name, "张三");
    assert_int_equal(extra.line, 2);
    assert_int_equal(rec.date, xs_date_from_civil(2025, 9, 1));
    assert_int_equal(rec.category, XS_CAT_EXTERNAL_TRAINING);
    assert_int_equal(rec.hours, 250); /* hundredths of an hour */
    assert_int_equal(rec.days, 5);    /* half days */
    assert_false(rec.present & (1u << XS_F_MINUTES));
    s_assert_str(rec.note, "培训, 第一期");
    assert_int_equal(xs_record_check(&rec, &field), XS_REASON_NONE);

    assert_int_equal(s_row(&fx, &rec, &extra, &field, &why), XS_OK);
    assert_int_equal(rec.category, XS_CAT_LECTURE);
    assert_int_equal(rec.minutes, 90);
    assert_int_equal(extra.line, 3);
    assert_int_equal(xs_record_check(&rec, &field), XS_REASON_NONE);
    xs_csv_close(&fx.csv);
}

static void test_row_bad_values(void **state) {
    (void)state;
    s_fixture_t fx;
    xs_record_t rec;
    xs_field field;
    xs_reason why;
    s_open(&fx, "teacher_id,date,category,minutes\n"
                "T1,2025-09-01,lecture,abc\n"
                "T1,2025-09-01,讲座,60\n"
                "T1,2025-02-30,lecture,60\n"
                "T1,2025-09-01,lecture,60\n");
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_F_MINUTES);
    assert_int_equal(why, XS_REASON_BAD_VALUE);
    assert_string_equal(xs_sheet_field_name(field), "minutes");
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_F_CATEGORY);
    assert_int_equal(why, XS_REASON_UNKNOWN_CATEGORY);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_F_DATE);
    assert_int_equal(why, XS_REASON_BAD_DATE);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_OK);
    xs_csv_close(&fx.csv);
}

static void test_row_cell_count_must_match(void **state) {
    (void)state;
    s_fixture_t fx;
    xs_record_t rec;
    xs_sheet_extra_t extra;
    xs_field field;
    xs_reason why;
    s_open(&fx, "teacher_id,date,category\n"
                "T1,2025-09-01\n"
                "T1,2025-09-01,open_class,extra\n");
    assert_int_equal(s_row(&fx, &rec, &extra, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_SHEET_F_ROW);
    assert_int_equal(why, XS_REASON_BAD_VALUE);
    assert_string_equal(xs_sheet_field_name(field), "row");
    assert_int_equal(extra.cells, 2);
    assert_int_equal(extra.line, 2);
    assert_int_equal(s_row(&fx, &rec, &extra, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_SHEET_F_ROW);
    assert_int_equal(extra.cells, 4);
    xs_csv_close(&fx.csv);
}

static void test_unnamed_columns_must_stay_blank(void **state) {
    (void)state;
    s_fixture_t fx;
    xs_record_t rec;
    xs_field field;
    xs_reason why;
    s_open(&fx, "teacher_id,date,category,,\n"
                "T1,2025-09-01,open_class,, \n"
                "T1,2025-09-01,open_class,,oops\n");
    assert_int_equal(fx.sheet.column[3], XS_SHEET_COL_NONE);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_OK);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_SHEET_F_ROW);
    assert_int_equal(why, XS_REASON_BAD_VALUE);
    xs_csv_close(&fx.csv);
}

static void test_row_name_is_checked(void **state) {
    (void)state;
    s_fixture_t fx;
    xs_record_t rec;
    xs_field field;
    xs_reason why;
    s_open(&fx, "teacher_id,date,category,name\n"
                "T1,2025-09-01,open_class,\xb3\xc2\n"
                "T1,2025-09-01,open_class,"
                "0123456789012345678901234567890123456789012345678901234567890123456789\n");
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_SHEET_F_NAME);
    assert_int_equal(why, XS_REASON_BAD_VALUE);
    assert_string_equal(xs_sheet_field_name(field), "name");
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_SHEET_F_NAME);
    assert_int_equal(why, XS_REASON_OUT_OF_RANGE);
    xs_csv_close(&fx.csv);
}

/* A sheet as an office saves it from Excel: BOM, CRLF, Chinese header, a note over two
 * lines, a formatted but empty row; record ids are the rows' first lines. */
static void test_office_sheet_end_to_end(void **state) {
    (void)state;
    const char *input = "\xef\xbb\xbf姓名,工号,日期,类别,分钟,备注\r\n"
                        "张三,T001,2025-09-01,专题讲座,90,\"第一行\r\n第二行\"\r\n"
                        ",,,,,\r\n"
                        "李四,T002,2025-09-03,公开课,,\r\n";
    s_fixture_t fx;
    xs_record_t rec;
    xs_sheet_extra_t extra;
    xs_field field;
    xs_reason why;
    uint32_t lines[2];
    size_t n = 0;
    s_open(&fx, input);
    while (xs_csv_next(fx.csv, &fx.row) == XS_OK) {
        if (xs_csv_row_blank(&fx.row))
            continue;
        assert_int_equal(xs_sheet_row(&fx.sheet, &fx.row, &rec, &extra, &field, &why), XS_OK);
        assert_int_equal(xs_record_check(&rec, &field), XS_REASON_NONE);
        assert_true(n < 2);
        lines[n++] = extra.line;
        if (n == 1)
            s_assert_str(rec.note, "第一行\r\n第二行");
        else
            assert_int_equal(rec.category, XS_CAT_OPEN_CLASS);
    }
    assert_int_equal(n, 2);
    assert_int_equal(lines[0], 2);
    assert_int_equal(lines[1], 5);
    xs_csv_close(&fx.csv);
}

/* A policy defining case_study (案例分析, code 11) besides the built-ins. The category is
 * set on the parsed struct, as a [category.case_study] section gives it. */
static xs_policy_t *s_policy_with_case_study(void) {
    static const char text[] = "[policy]\nid = t\nversion = 1\n[bucket.total]\ncategories = all\n";
    xs_policy_t *policy = NULL;
    char msg[256];
    assert_int_equal(xs_policy_parse(&policy, text, strlen(text), "t.ini", msg, sizeof msg), XS_OK);
    if (policy->custom_count == 0) {
        xs_policy_category_t *c = &policy->custom[policy->custom_count++];
        memset(c, 0, sizeof *c);
        c->code = 11;
        c->rule = 0;
        snprintf(c->name, sizeof c->name, "case_study");
        snprintf(c->label, sizeof c->label, "案例分析");
        policy->custom_of[11] = (uint8_t)policy->custom_count;
    }
    return policy;
}

static void test_row_policy_categories(void **state) {
    (void)state;
    s_fixture_t fx;
    xs_record_t rec;
    xs_field field;
    xs_reason why;
    const char *input = "teacher_id,date,category,hours\n"
                        "T1,2025-09-01,案例分析,2\n"
                        "T1,2025-09-02,Case_Study,2\n"
                        "T1,2025-09-03,专题讲座,\n"
                        "T1,2025-09-04,研修日志,\n";
    xs_policy_t *policy = s_policy_with_case_study();
    s_open_with(&fx, policy, input);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_OK);
    assert_int_equal(rec.category, 11);
    assert_true(rec.present & (1u << XS_F_CATEGORY));
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_OK);
    assert_int_equal(rec.category, 11);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_OK);
    assert_int_equal(rec.category, XS_CAT_LECTURE);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_F_CATEGORY);
    assert_int_equal(why, XS_REASON_UNKNOWN_CATEGORY);
    s_assert_str(rec.teacher_id, "T1"); /* the refused row still names its teacher */
    xs_csv_close(&fx.csv);

    /* Without the policy only the built-ins are known. */
    s_open(&fx, input);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(why, XS_REASON_UNKNOWN_CATEGORY);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_OK);
    xs_csv_close(&fx.csv);
    xs_policy_destroy(&policy);
}

/* A node's `list --format csv` reads back: its id and review_reason are ignored, a voided or
 * returned row is refused for that reason, the others are records. */
static void test_listing_reads_back(void **state) {
    (void)state;
    s_fixture_t fx;
    xs_record_t rec;
    xs_field field;
    xs_reason why;
    s_open(&fx,
           "id,school_id,teacher_id,name,date,category,minutes,voided_by,review,review_reason\n"
           "1,S1,T1,张三,2025-10-05,lecture,90,,未审核,\n"
           "2,S1,T1,张三,2025-10-05,lecture,90,4,未审核,\n"
           "3,S1,T2,李四,2025-10-06,lecture,60,,已退回,缺少签到表\n"
           "5,S1,T2,李四,2025-10-07,lecture,60,,已通过,\n");
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_OK);
    s_assert_str(rec.teacher_id, "T1");
    assert_int_equal(rec.minutes, 90);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_F_VOIDS);
    assert_int_equal(why, XS_REASON_VOIDED);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_EINVAL);
    assert_int_equal(field, XS_F_REVIEWS);
    assert_int_equal(why, XS_REASON_RETURNED);
    assert_int_equal(s_row(&fx, &rec, NULL, &field, &why), XS_OK);
    assert_int_equal(rec.date, xs_date_from_civil(2025, 10, 7));
    xs_csv_close(&fx.csv);
}

/* What Excel may have saved: UTF-8 is read, GBK, UTF-16 and .xls are named with what to do. */
static void test_open_names_the_encoding(void **state) {
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        const char *named; /* NULL: opens */
    } cases[] = {
        {"\xef\xbb\xbfteacher_id,date,category\n", 27, NULL},
        {"teacher_id,date,category\n", 25, NULL},
        {"\xb9\xa4\xba\xc5,\xc8\xd5\xc6\xda,\xc0\xe0\xb1\xf0\n", 15, "GBK"},
        {"\xff\xfet\0e\0", 6, "UTF-16"},
        {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", 10, ".xls"},
        {"teacher_id\x80\x80\n", 13, "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xs_csv_t *c = NULL;
        char msg[512];
        xs_err err = xs_sheet_open_mem(&c, cases[i].bytes, cases[i].len, msg, sizeof msg);
        if (!cases[i].named) {
            assert_int_equal(err, XS_OK);
            xs_csv_row_t row;
            assert_int_equal(xs_csv_next(c, &row), XS_OK);
            assert_int_equal(row.count, 3);
            assert_memory_equal(row.cells[0].ptr, "teacher_id", 10); /* the BOM is skipped */
            xs_csv_close(&c);
            continue;
        }
        assert_int_equal(err, XS_ECSV);
        assert_null(c);
        if (!strstr(msg, cases[i].named) || !strstr(msg, "CSV UTF-8"))
            fail_msg("case %zu: \"%s\" does not name %s and CSV UTF-8", i, msg, cases[i].named);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listing_reads_back),
        cmocka_unit_test(test_open_names_the_encoding),
        cmocka_unit_test(test_header_any_order_and_case),
        cmocka_unit_test(test_header_chinese_aliases),
        cmocka_unit_test(test_header_unknown_column_is_named),
        cmocka_unit_test(test_header_repeated_column),
        cmocka_unit_test(test_header_missing_required),
        cmocka_unit_test(test_header_not_utf8),
        cmocka_unit_test(test_header_message_buffer_is_bounded),
        cmocka_unit_test(test_row_to_record),
        cmocka_unit_test(test_row_bad_values),
        cmocka_unit_test(test_row_cell_count_must_match),
        cmocka_unit_test(test_unnamed_columns_must_stay_blank),
        cmocka_unit_test(test_row_name_is_checked),
        cmocka_unit_test(test_office_sheet_end_to_end),
        cmocka_unit_test(test_row_policy_categories),
    };
    return cmocka_run_group_tests_name("sheet", tests, NULL, NULL);
}
