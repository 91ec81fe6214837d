/* test_csv: the CSV reader's rows, line numbers and limits, and the writer's quoting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xs/csv.h"

/* Renders every row of input as "L<line>[cell][cell]\n" into out; returns the final result of
 * xs_csv_next (XS_ENOTFOUND when all rows were read). */
static xs_err s_render(const char *input, size_t len, char *out, size_t cap) {
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    size_t used = 0;
    xs_err err;
    out[0] = '\0';
    assert_int_equal(xs_csv_open_mem(&c, input, len), XS_OK);
    while ((err = xs_csv_next(c, &row)) == XS_OK) {
        int n = snprintf(out + used, cap - used, "L%u", (unsigned)row.line);
        assert_true(n > 0 && (size_t)n < cap - used);
        used += (size_t)n;
        for (size_t i = 0; i < row.count; i++) {
            n = snprintf(out + used, cap - used, "[%.*s]", (int)row.cells[i].len, row.cells[i].ptr);
            assert_true(n > 0 && (size_t)n < cap - used);
            used += (size_t)n;
        }
        assert_true(used + 1 < cap);
        out[used++] = '\n';
        out[used] = '\0';
    }
    xs_csv_close(&c);
    assert_null(c);
    return err;
}

/* Asserts that input reads, to the end, as the rendering expected. */
static void s_expect(const char *input, const char *expected) {
    char out[4096];
    assert_int_equal(s_render(input, strlen(input), out, sizeof out), XS_ENOTFOUND);
    assert_string_equal(out, expected);
}

/* Reads input until the first failure and asserts it is err on line. */
static void s_expect_error(const char *input, size_t len, xs_err err, uint32_t line) {
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    xs_err got;
    assert_int_equal(xs_csv_open_mem(&c, input, len), XS_OK);
    while ((got = xs_csv_next(c, &row)) == XS_OK)
        ;
    assert_int_equal(got, err);
    assert_int_equal(xs_csv_line(c), line);
    assert_true(strlen(xs_csv_why(c)) > 0);
    /* Sticky: the reader does not guess where the next row starts. */
    assert_int_equal(xs_csv_next(c, &row), err);
    assert_int_equal(row.count, 0);
    xs_csv_close(&c);
}

static void test_plain_rows(void **state) {
    (void)state;
    s_expect("teacher_id,date\nT1,2025-09-01\nT2,2025-09-02\n",
             "L1[teacher_id][date]\nL2[T1][2025-09-01]\nL3[T2][2025-09-02]\n");
    /* No newline at the end, empty cells, a trailing comma. */
    s_expect("a,,c\n,\nx,", "L1[a][][c]\nL2[][]\nL3[x][]\n");
    s_expect("", "");
    s_expect("\xef\xbb\xbf", "");
}

static void test_bom_and_no_bom_read_alike(void **state) {
    (void)state;
    const char *plain = "工号,日期\nT1,2025-09-01\n";
    char with_bom[64], a[256], b[256];
    snprintf(with_bom, sizeof with_bom, "\xef\xbb\xbf%s", plain);
    assert_int_equal(s_render(plain, strlen(plain), a, sizeof a), XS_ENOTFOUND);
    assert_int_equal(s_render(with_bom, strlen(with_bom), b, sizeof b), XS_ENOTFOUND);
    assert_string_equal(a, b);
    assert_string_equal(a, "L1[工号][日期]\nL2[T1][2025-09-01]\n");
    /* Only a leading BOM is skipped; one later is data. */
    s_expect("a\n\xef\xbb\xbf"
             "b\n",
             "L1[a]\nL2[\xef\xbb\xbf"
             "b]\n");
}

static void test_crlf(void **state) {
    (void)state;
    s_expect("a,b\r\nc,d\r\n", "L1[a][b]\nL2[c][d]\n");
    s_expect("a,\"b\"\r\n\"c\",\r\n", "L1[a][b]\nL2[c][]\n");
    /* A lone CR is data; only the one before LF ends the line. */
    s_expect("a\rb,c\r\r\n", "L1[a\rb][c\r]\n");
}

static void test_empty_lines_are_skipped_but_counted(void **state) {
    (void)state;
    s_expect("\n\na,b\n\r\n\nc,d", "L3[a][b]\nL6[c][d]\n");
    /* A line of spaces or commas is a row: callers decide with xs_csv_row_blank. */
    s_expect(" \n,,\n", "L1[ ]\nL2[][][]\n");
}

static void test_quoted_cells(void **state) {
    (void)state;
    s_expect("name,note\n张三,\"迟到, 早退\"\n李四,\"他说 \"\"好\"\"\"\n",
             "L1[name][note]\nL2[张三][迟到, 早退]\nL3[李四][他说 \"好\"]\n");
    /* Newlines inside quotes belong to the cell; the next row starts on a later line. */
    s_expect("a,\"line one\nline two\r\nline three\",b\nnext,row\n\nlast,\"\"\n",
             "L1[a][line one\nline two\r\nline three][b]\nL4[next][row]\nL6[last][]\n");
    /* A quote inside an unquoted cell is data, as Excel reads it. */
    s_expect("5\"3,x\"\n", "L1[5\"3][x\"]\n");
    s_expect("\"\"\"\"", "L1[\"]\n");
}

static void test_cells_point_into_the_input(void **state) {
    (void)state;
    const char *input = "plain,\"quoted\",\"esc\"\"aped\"\n";
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    assert_int_equal(xs_csv_open_mem(&c, input, strlen(input)), XS_OK);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_int_equal(row.count, 3);
    assert_ptr_equal(row.cells[0].ptr, input);
    assert_ptr_equal(row.cells[1].ptr, input + 7);
    assert_memory_equal(row.cells[2].ptr, "esc\"aped", 8);
    assert_int_equal(row.cells[2].len, 8);
    assert_int_equal(xs_csv_next(c, &row), XS_ENOTFOUND);
    assert_int_equal(xs_csv_next(c, &row), XS_ENOTFOUND);
    xs_csv_close(&c);
}

static void test_broken_quoting_names_the_line(void **state) {
    (void)state;
    const char *unterminated = "a,b\nc,\"d\ne,f\n";
    const char *stray = "a\n\"b\"x,c\n";
    const char *stray_late = "h\n\"a\nb\"c\n";
    const char *stray_cr = "\"a\"\rb\n";
    s_expect_error(unterminated, strlen(unterminated), XS_ECSV, 2);
    s_expect_error(stray, strlen(stray), XS_ECSV, 2);
    /* Reported on the line where the broken cell opened, which is where to look. */
    s_expect_error(stray_late, strlen(stray_late), XS_ECSV, 2);
    s_expect_error(stray_cr, strlen(stray_cr), XS_ECSV, 1);
    s_expect_error("\"", 1, XS_ECSV, 1);
}

static void test_too_many_cells(void **state) {
    (void)state;
    char input[512];
    size_t len = 0;
    len += (size_t)snprintf(input + len, sizeof input - len, "h\n");
    for (int i = 0; i < XS_CSV_MAX_CELLS; i++)
        len += (size_t)snprintf(input + len, sizeof input - len, "%s%d", i ? "," : "", i);
    len += (size_t)snprintf(input + len, sizeof input - len, "\n");
    char out[1024];
    assert_int_equal(s_render(input, len, out, sizeof out), XS_ENOTFOUND); /* 64 is fine */
    /* One more cell on the third line. */
    len += (size_t)snprintf(input + len, sizeof input - len, "x");
    for (int i = 0; i < XS_CSV_MAX_CELLS; i++)
        len += (size_t)snprintf(input + len, sizeof input - len, ",");
    s_expect_error(input, len, XS_ETOOBIG, 3);
}

static void test_row_over_64k(void **state) {
    (void)state;
    size_t cap = XS_CSV_MAX_ROW + 64;
    char *input = malloc(cap);
    assert_non_null(input);
    /* Exactly the maximum, CRLF not counted, reads. */
    memcpy(input, "h\n", 2);
    memset(input + 2, 'x', XS_CSV_MAX_ROW);
    memcpy(input + 2 + XS_CSV_MAX_ROW, "\r\n", 2);
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    assert_int_equal(xs_csv_open_mem(&c, input, 4 + XS_CSV_MAX_ROW), XS_OK);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_int_equal(row.cells[0].len, XS_CSV_MAX_ROW);
    assert_int_equal(xs_csv_next(c, &row), XS_ENOTFOUND);
    xs_csv_close(&c);
    /* One byte more does not. */
    input[2 + XS_CSV_MAX_ROW] = 'x';
    s_expect_error(input, 3 + XS_CSV_MAX_ROW, XS_ETOOBIG, 2);
    /* Nor does a quoted cell that long. */
    input[2] = '"';
    input[2 + XS_CSV_MAX_ROW] = '"';
    s_expect_error(input, 3 + XS_CSV_MAX_ROW, XS_ETOOBIG, 2);
    free(input);
}

/* A cell a spreadsheet would run as a formula is written as text (a leading apostrophe), and
 * reading it back through xs_csv_unguard gives the original bytes, for every shape. */
static void test_formula_cells_are_guarded_and_read_back_exactly(void **state) {
    (void)state;
    static const struct {
        const char *cell, *written;
    } cases[] = {
        {"=HYPERLINK(\"http://x\",\"点击\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"点击\"\")\""},
        {"=1+1", "'=1+1"},
        {"+8613800000000", "'+8613800000000"},
        {"-5", "'-5"},
        {"@SUM(A1)", "'@SUM(A1)"},
        {"\t=1", "\"'\t=1\""},
        {"\r=1", "\"'\r=1\""},
        {"=a,b", "\"'=a,b\""},
        {"'=x", "''=x"},
        {"''-x", "'''-x"},
        {"'abc", "'abc"},
        {"'", "'"},
        {"a=b", "a=b"},
        {"T0001", "T0001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        assert_non_null(f);
        assert_int_equal(xs_csv_write_cell(f, cases[i].cell, strlen(cases[i].cell), 1), XS_OK);
        assert_int_equal(fclose(f), 0);
        size_t want = strlen(cases[i].written);
        if (size != want + 2 || memcmp(buf, cases[i].written, want) != 0)
            fail_msg("case %zu: wrote %.*s", i, (int)size, buf);
        xs_csv_t *c = NULL;
        xs_csv_row_t row;
        assert_int_equal(xs_csv_open_mem(&c, buf, size), XS_OK);
        assert_int_equal(xs_csv_next(c, &row), XS_OK);
        assert_int_equal(row.count, 1);
        const char *s = row.cells[0].ptr;
        size_t len = row.cells[0].len;
        xs_csv_unguard(&s, &len);
        assert_int_equal(len, strlen(cases[i].cell));
        assert_memory_equal(s, cases[i].cell, len);
        xs_csv_close(&c);
        free(buf);
    }
}

static void test_open_file(void **state) {
    (void)state;
    char path[] = "/tmp/xs_test_csv_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char body[] = "\xef\xbb\xbfteacher_id,note\r\nT1,\"a\r\nb\"\r\nT2,c\r\n";
    assert_int_equal(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);

    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    assert_int_equal(xs_csv_open_file(&c, path), XS_OK);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_int_equal(row.line, 1);
    assert_memory_equal(row.cells[0].ptr, "teacher_id", 10);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_int_equal(row.line, 2);
    assert_int_equal(row.cells[1].len, 4);
    assert_memory_equal(row.cells[1].ptr, "a\r\nb", 4);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_int_equal(row.line, 4);
    assert_int_equal(xs_csv_line(c), 4);
    assert_int_equal(xs_csv_next(c, &row), XS_ENOTFOUND);
    xs_csv_close(&c);
    assert_null(c);
    xs_csv_close(&c); /* twice is fine */
    xs_csv_close(NULL);

    unlink(path);
    assert_int_equal(xs_csv_open_file(&c, path), XS_ENOTFOUND);
    assert_null(c);
    assert_int_equal(xs_csv_open_file(&c, "/"), XS_EIO); /* a directory */
    assert_null(c);
}

static void test_row_blank(void **state) {
    (void)state;
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    const char *input = ",,\n , \t,\na,,\n";
    assert_int_equal(xs_csv_open_mem(&c, input, strlen(input)), XS_OK);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_true(xs_csv_row_blank(&row));
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_true(xs_csv_row_blank(&row));
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_false(xs_csv_row_blank(&row));
    xs_csv_close(&c);
}

#define S_CELL(s)                                                                                  \
    { (s), sizeof(s) - 1 }

static void test_writer_quotes_only_when_needed(void **state) {
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    assert_int_equal(xs_csv_write_bom(f), XS_OK);
    const xs_csv_cell_t cells[] = {
        S_CELL("T1"),         S_CELL("张三"),   S_CELL("a,b"),   S_CELL("say \"hi\""),
        S_CELL("two\nlines"), S_CELL("cr\rx"),  S_CELL(" lead"), S_CELL("trail\t"),
        S_CELL(""),           S_CELL("in ner"),
    };
    assert_int_equal(xs_csv_write_row(f, cells, 10), XS_OK);
    const xs_csv_cell_t lone_empty[] = {S_CELL("")};
    assert_int_equal(xs_csv_write_row(f, lone_empty, 1), XS_OK);
    assert_int_equal(xs_csv_write_cell(f, "end", 3, 1), XS_OK);
    fclose(f);
    const char expected[] = "\xef\xbb\xbfT1,张三,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\","
                            "\"cr\rx\",\" lead\",\"trail\t\",,in ner\r\n\"\"\r\nend\r\n";
    assert_int_equal(len, sizeof expected - 1);
    assert_memory_equal(out, expected, len);

    /* What was written reads back cell for cell. */
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    assert_int_equal(xs_csv_open_mem(&c, out, len), XS_OK);
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_int_equal(row.count, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(row.cells[i].len, cells[i].len);
        assert_memory_equal(row.cells[i].ptr, cells[i].ptr, cells[i].len);
    }
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_int_equal(row.count, 1);
    assert_int_equal(row.cells[0].len, 0);
    assert_int_equal(row.line, 3); /* the first row took two lines */
    assert_int_equal(xs_csv_next(c, &row), XS_OK);
    assert_memory_equal(row.cells[0].ptr, "end", 3);
    assert_int_equal(xs_csv_next(c, &row), XS_ENOTFOUND);
    xs_csv_close(&c);
    free(out);
}

static void test_writer_reports_io_errors(void **state) {
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    assert_int_equal(xs_csv_write_cell(f, "x", 1, 1), XS_EIO);
    fclose(f);
}

/* A million rows of about 60 bytes: the reader must stay linear and quick. The time is
 * printed, not asserted, since debug and sanitizer builds run it too. */
static void test_million_rows(void **state) {
    (void)state;
    const size_t rows = 1000000;
    size_t cap = rows * 80, len = 0;
    char *input = malloc(cap);
    assert_non_null(input);
    len += (size_t)snprintf(input, cap, "teacher_id,date,category,minutes,note\r\n");
    for (size_t i = 0; i < rows; i++)
        len += (size_t)snprintf(input + len, cap - len,
                                "T%06zu,2025-09-%02zu,lecture,%zu,\"note, %zu\"\r\n", i, 1 + i % 28,
                                30 + i % 90, i);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    size_t seen = 0, bytes = 0;
    xs_err err;
    assert_int_equal(xs_csv_open_mem(&c, input, len), XS_OK);
    while ((err = xs_csv_next(c, &row)) == XS_OK) {
        seen++;
        bytes += row.cells[4].len;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(err, XS_ENOTFOUND);
    assert_int_equal(seen, rows + 1);
    assert_int_equal(xs_csv_line(c), rows + 1);
    assert_true(bytes > rows * 6);
    xs_csv_close(&c);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    print_message("read %zu rows (%.1f MB) in %.1f ms\n", seen, (double)len / 1e6, ms);
    free(input);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rows),
        cmocka_unit_test(test_bom_and_no_bom_read_alike),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_empty_lines_are_skipped_but_counted),
        cmocka_unit_test(test_quoted_cells),
        cmocka_unit_test(test_cells_point_into_the_input),
        cmocka_unit_test(test_broken_quoting_names_the_line),
        cmocka_unit_test(test_too_many_cells),
        cmocka_unit_test(test_row_over_64k),
        cmocka_unit_test(test_formula_cells_are_guarded_and_read_back_exactly),
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_row_blank),
        cmocka_unit_test(test_writer_quotes_only_when_needed),
        cmocka_unit_test(test_writer_reports_io_errors),
        cmocka_unit_test(test_million_rows),
    };
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
