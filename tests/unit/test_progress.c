/* test_progress: the progress line: silent for short work, then rate and time left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/progress.h"

/* A progress over a memory stream, as a log (tty 0) or a terminal (tty 1). */
static void s_begin(xs_progress_t *p, FILE *f, int tty, uint64_t total) {
    xs_progress_begin(p, "xueshi-node", "导入 (import)", "行 (rows)", total);
    p->out = f;
    p->tty = tty;
    p->start = 100.0;
}

static void test_plain_lines(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    xs_progress_t p;
    s_begin(&p, f, 0, 5000);
    xs_progress_update_at(&p, 100, 100.5); /* under a second: nothing */
    fflush(f);
    assert_int_equal(len, 0);
    xs_progress_update_at(&p, 1000, 101.0);
    xs_progress_update_at(&p, 1100, 101.5); /* too soon after the last line */
    xs_progress_update_at(&p, 2000, 102.0);
    xs_progress_end(&p, 5000); /* a log gets no closing line */
    fclose(f);
    assert_non_null(
        strstr(buf, "xueshi-node: 导入 (import) 1000/5000 行 (rows), 1000 行 (rows)/秒"));
    assert_non_null(strstr(buf, "约 4 秒后完成 (ETA)\n"));
    assert_non_null(strstr(buf, "2000/5000"));
    assert_null(strstr(buf, "1100"));
    assert_null(strchr(buf, '\r'));
    free(buf);
}

static void test_terminal_redraws(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    xs_progress_t p;
    s_begin(&p, f, 1, 0);
    xs_progress_update_at(&p, 10, 101.0);
    xs_progress_update_at(&p, 20, 101.1); /* redrawn at most 4 times a second */
    xs_progress_update_at(&p, 30, 101.3);
    fclose(f);
    assert_non_null(strstr(buf, "\rxueshi-node: 导入 (import) 10 行 (rows)"));
    assert_null(strstr(buf, " 20 "));
    assert_non_null(strstr(buf, "\rxueshi-node: 导入 (import) 30 行 (rows)"));
    assert_null(strstr(buf, "ETA")); /* total unknown */
    assert_null(strchr(buf, '\n'));
    free(buf);
}

/* A message between two redraws starts on a line of its own, and the line comes back. */
static void test_clear_for_a_message(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    xs_progress_t p;
    s_begin(&p, f, 1, 0);
    xs_progress_clear(&p); /* nothing drawn yet: nothing to erase */
    fflush(f);
    assert_int_equal(len, 0);
    xs_progress_update_at(&p, 10, 101.0);
    xs_progress_clear(&p);
    fputs("refused\n", f);
    xs_progress_update_at(&p, 20, 101.1); /* drawn again at once */
    fclose(f);
    assert_non_null(strstr(buf, "10 行 (rows)"));
    assert_non_null(strstr(buf, "\r\033[Krefused\n\rxueshi-node: 导入 (import) 20 行"));
    free(buf);
}

static void test_short_work_is_silent(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    xs_progress_t p;
    xs_progress_begin(&p, "xueshi-node", "同步 (sync)", "批 (batches)", 3);
    p.out = f;
    p.tty = 1;
    for (uint64_t i = 0; i <= 3; i++)
        xs_progress_update(&p, i);
    xs_progress_end(&p, 3);
    fclose(f);
    assert_int_equal(len, 0);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines),
        cmocka_unit_test(test_terminal_redraws),
        cmocka_unit_test(test_clear_for_a_message),
        cmocka_unit_test(test_short_work_is_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
