/* test_xlsx: XLSX workbooks (tests/fixtures/xlsx, made by make.py) as the CSV text an import
 * reads, and the refusal of broken, hostile and oversized ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/csv.h"
#include "xs/sheet.h"
#include "xs/text.h"
#include "xs/xlsx.h"

/* Path of the fixture named name. */
static void s_path(char *path, size_t cap, const char *name) {
    const char *root = getenv("XS_SOURCE_DIR");
    snprintf(path, cap, "%s/tests/fixtures/xlsx/%s", root ? root : XS_SOURCE_DIR, name);
}

/* The bytes of the fixture named name (malloc'd) and their length. */
static char *s_fixture(const char *name, size_t *len) {
    char path[1024];
    char *bytes = NULL;
    s_path(path, sizeof path, name);
    if (xs_csv_read_file(path, &bytes, len) != XS_OK)
        fail_msg("cannot read fixture %s (run tests/fixtures/xlsx/make.py)", path);
    return bytes;
}

/* Converts len bytes and checks the result is want exactly. */
static void s_expect_csv(const void *bytes, size_t len, const char *want) {
    char *csv = NULL, msg[512];
    size_t csv_len = 0;
    xs_err err = xs_xlsx_to_csv(bytes, len, &csv, &csv_len, msg, sizeof msg);
    if (err != XS_OK)
        fail_msg("refused (%d): %s", err, msg);
    assert_non_null(csv);
    assert_string_equal(msg, "");
    if (csv_len != strlen(want) || memcmp(csv, want, csv_len) != 0)
        fail_msg("got:\n%.*s\nwant:\n%s", (int)csv_len, csv, want);
    free(csv);
}

/* Converts len bytes and checks they are refused with err and a message holding needle. */
static void s_expect_refused(const void *bytes, size_t len, xs_err want, const char *needle) {
    char *csv = (char *)"unset", msg[512];
    size_t csv_len = 99;
    xs_err err = xs_xlsx_to_csv(bytes, len, &csv, &csv_len, msg, sizeof msg);
    if (err != want)
        fail_msg("got %d, want %d: %s", err, want, msg);
    assert_null(csv);
    assert_int_equal(csv_len, 0);
    if (!strstr(msg, needle))
        fail_msg("message \"%s\" does not say \"%s\"", msg, needle);
    assert_true(xs_text_utf8_valid(msg, strlen(msg)));
}

static void s_expect_fixture_refused(const char *name, xs_err want, const char *needle) {
    size_t len;
    char *bytes = s_fixture(name, &len);
    s_expect_refused(bytes, len, want, needle);
    free(bytes);
}

/* Hand-written XML: shared strings with a line break and rich-text runs (phonetic run left
 * out), inline strings, cells without r, a skipped row pair, a custom "yyyy/m/d" date, a
 * time-only format and a scientific one that stay numbers, a quoted format, Excel's
 * 1900-02-29, a formula's
 * cached number and string, a boolean, an error, a number teacher id, a far cell setting
 * the width, namespace prefixes, the first sheet listed second in the relationships with an
 * absolute target. */
static void test_handmade(void **state) {
    (void)state;
    size_t len;
    char *bytes = s_fixture("handmade.xlsx", &len);
    s_expect_csv(bytes, len,
                 "教师编号,日期,专题讲座,第一行 第二行,,\n"
                 "20230001,2025-10-05,lecture,90,,\n"
                 "\n"
                 "\n"
                 "\" 张三 \",,,TRUE,#N/A,0.5\n"
                 "\"a&b \"\"q\"\"\",2.5,1900-02-29,1900-03-01,,12345\n"
                 ",,,,,1000000000000000\n");
    free(bytes);
}

/* A register as openpyxl saves it: real dates (also with a time), a text date, a number
 * teacher id, fractions rendered with 15 significant digits, a boolean, a comma and quotes in
 * a name, an empty row 6. */
static void test_openpyxl_register(void **state) {
    (void)state;
    size_t len;
    char *bytes = s_fixture("register.xlsx", &len);
    s_expect_csv(bytes, len,
                 "教师编号,日期,类别,分钟,姓名\n"
                 "20230001,2025-10-05,lecture,90,张三\n"
                 "T0002,2025/10/5,专题讲座,1.5,\"李四, 二班\"\n"
                 "20230003,2025-03-01,lecture,0.3,\" \"\"王五\"\" \"\n"
                 "1000000000000000,1900-01-01,TRUE,1234567.125,\n"
                 "\n"
                 "-0.000015,,,,\n");
    free(bytes);
}

/* A workbook in the 1904 date system: serial 0 is 1904-01-01. */
static void test_date1904(void **state) {
    (void)state;
    size_t len;
    char *bytes = s_fixture("date1904.xlsx", &len);
    s_expect_csv(bytes, len, "date\n1904-01-01\n2025-10-05\n");
    free(bytes);
}

/* Through the sheet opener: line N of the reader is the worksheet's row N, and every row has
 * the header's cell count. */
static void test_sheet_open_lines_are_rows(void **state) {
    (void)state;
    char path[1024], msg[512];
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    uint32_t lines[8], n = 0;
    s_path(path, sizeof path, "handmade.xlsx");
    assert_int_equal(xs_sheet_open_file(&c, path, msg, sizeof msg), XS_OK);
    while (xs_csv_next(c, &row) == XS_OK) {
        assert_int_equal(row.count, 6);
        assert_true(n < 8);
        lines[n++] = row.line;
    }
    assert_int_equal(n, 5);
    assert_int_equal(lines[0], 1);
    assert_int_equal(lines[1], 2);
    assert_int_equal(lines[2], 5);
    assert_int_equal(lines[3], 6);
    assert_int_equal(lines[4], 7);
    xs_csv_close(&c);
}

static void test_refuses_bytes_that_are_not_a_zip(void **state) {
    (void)state;
    unsigned char bytes[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof bytes; i++) {
        x = x * 1103515245u + 12345u;
        bytes[i] = (unsigned char)(x >> 16);
    }
    memcpy(bytes, "PK\3\4", 4);
    s_expect_refused(bytes, sizeof bytes, XS_EMALFORMED, "不是有效的 XLSX 工作簿");
    s_expect_refused(bytes, 4, XS_EMALFORMED, "不是有效的 XLSX 工作簿");
    s_expect_refused(bytes, 0, XS_EMALFORMED, "不是有效的 XLSX 工作簿");
}

static void test_refuses_zip_without_workbook(void **state) {
    (void)state;
    s_expect_fixture_refused("no_workbook.xlsx", XS_EMALFORMED, "缺少 xl/workbook.xml");
}

/* A file cut short (a copy that did not finish) loses its central directory. */
static void test_refuses_truncated(void **state) {
    (void)state;
    size_t len;
    char *bytes = s_fixture("handmade.xlsx", &len);
    s_expect_refused(bytes, len / 2, XS_EMALFORMED, "不是有效的 XLSX 工作簿");
    s_expect_refused(bytes, len - 1, XS_EMALFORMED, "不是有效的 XLSX 工作簿");
    free(bytes);
}

/* Entities are never expanded: a DOCTYPE stops the parse. */
static void test_refuses_doctype(void **state) {
    (void)state;
    s_expect_fixture_refused("doctype.xlsx", XS_EMALFORMED, "DOCTYPE");
}

/* A worksheet inflating to 300 MB is refused by its size in the zip and, when the zip lies
 * about it, by what the reader counts. */
static void test_refuses_oversized_part(void **state) {
    (void)state;
    s_expect_fixture_refused("bomb.xlsx", XS_ETOOBIG, "工作表过大");
    s_expect_fixture_refused("bomb_lying.xlsx", XS_ETOOBIG, "工作表过大");
}

static void test_refuses_past_the_columns(void **state) {
    (void)state;
    s_expect_fixture_refused("wide.xlsx", XS_ETOOBIG, "64");
}

static void test_refuses_bad_shared_string_index(void **state) {
    (void)state;
    s_expect_fixture_refused("bad_index.xlsx", XS_EMALFORMED, "共享字符串");
}

/* Sets the "encrypted" flag of every central directory entry, as a zip tool's password does. */
static void s_mark_encrypted(char *bytes, size_t len) {
    for (size_t i = 0; i + 46 <= len; i++)
        if (memcmp(bytes + i, "PK\1\2", 4) == 0)
            bytes[i + 8] |= 1;
}

static void test_refuses_encrypted(void **state) {
    (void)state;
    size_t len;
    char *bytes = s_fixture("handmade.xlsx", &len);
    s_mark_encrypted(bytes, len);
    s_expect_refused(bytes, len, XS_EMALFORMED, "XLSX 已加密");
    free(bytes);
}

/* A small errbuf holds a cut message that is still UTF-8. */
static void test_short_errbuf(void **state) {
    (void)state;
    size_t len;
    char *bytes = s_fixture("no_workbook.xlsx", &len);
    char *csv, msg[8];
    size_t csv_len;
    assert_int_equal(xs_xlsx_to_csv(bytes, len, &csv, &csv_len, msg, sizeof msg), XS_EMALFORMED);
    assert_true(strlen(msg) < sizeof msg);
    assert_true(xs_text_utf8_valid(msg, strlen(msg)));
    assert_int_equal(xs_xlsx_to_csv(bytes, len, &csv, &csv_len, NULL, 0), XS_EMALFORMED);
    free(bytes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handmade),
        cmocka_unit_test(test_openpyxl_register),
        cmocka_unit_test(test_date1904),
        cmocka_unit_test(test_sheet_open_lines_are_rows),
        cmocka_unit_test(test_refuses_bytes_that_are_not_a_zip),
        cmocka_unit_test(test_refuses_zip_without_workbook),
        cmocka_unit_test(test_refuses_truncated),
        cmocka_unit_test(test_refuses_doctype),
        cmocka_unit_test(test_refuses_oversized_part),
        cmocka_unit_test(test_refuses_past_the_columns),
        cmocka_unit_test(test_refuses_bad_shared_string_index),
        cmocka_unit_test(test_refuses_encrypted),
        cmocka_unit_test(test_short_errbuf),
    };
    return cmocka_run_group_tests_name("xlsx", tests, NULL, NULL);
}
