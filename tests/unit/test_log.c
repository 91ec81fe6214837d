/* test_log: the event line (UTC timestamp, program, school or node, one line whatever the
 * message holds), events to a stream and xs_log captured as events, and the rate limiter's
 * windows and suppression counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs/err.h"
#include "xs/log.h"

/* 2026-12-04T05:40:00Z in unix seconds. */
#define S_WHEN 1796362800

static void test_line_format(void **state) {
    (void)state;
    char line[XS_EVENT_LINE_MAX];
    size_t n = xs_event_line(line, sizeof line, S_WHEN, "xueshi-hub", "S001 #3",
                             "同步结束 (sync session): 新 2 批 40 条");
    assert_string_equal(line,
                        "2026-12-04T05:40:00Z xueshi-hub [S001 #3] 同步结束 (sync session): 新 2 "
                        "批 40 条\n");
    assert_int_equal(n, strlen(line));
    /* No school: "-"; a line break in the message (or the name) stays one line. */
    xs_event_line(line, sizeof line, S_WHEN, "xueshi-node", NULL, "first\nsecond\r\tthird");
    assert_string_equal(line, "2026-12-04T05:40:00Z xueshi-node [-] first second  third\n");
    xs_event_line(line, sizeof line, S_WHEN, "xueshi-hub", "S\n1", "x");
    assert_string_equal(line, "2026-12-04T05:40:00Z xueshi-hub [S 1] x\n");
}

static void test_line_cut(void **state) {
    (void)state;
    char line[64];
    /* 16 three-byte characters do not fit after the 37-byte head: the cut keeps whole
     * characters and the newline. */
    const char *msg = "县县县县县县县县县县县县县县县县";
    size_t n = xs_event_line(line, sizeof line, S_WHEN, "xueshi-hub", "S1", msg);
    assert_true(n < sizeof line);
    assert_int_equal(line[n - 1], '\n');
    const char *body = strstr(line, "] ") + 2;
    size_t body_len = (size_t)(line + n - 1 - body);
    assert_int_equal(body_len % 3, 0);
    assert_memory_equal(body, msg, body_len);
}

/* Reads what was written to f since it was opened. */
static void s_read_all(FILE *f, char *out, size_t size) {
    fflush(f);
    rewind(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
}

static void test_event_to_stream(void **state) {
    (void)state;
    char text[4096];
    FILE *f = tmpfile();
    assert_non_null(f);
    xs_log_program("xueshi-test");
    xs_event_stream(f);
    xs_event(XS_SEV_INFO, "S7", "merged %d records", 12);
    xs_event_capture("S9");
    xs_log("a warning %s", "here");
    xs_log_err(XS_EFULL, "writing");
    xs_event_capture_end();
    xs_event_stream(NULL);
    s_read_all(f, text, sizeof text);
    fclose(f);
    /* Three lines, each "YYYY-MM-DDTHH:MM:SSZ xueshi-test [WHO] MESSAGE". */
    char *lines[3];
    char *save = NULL;
    lines[0] = strtok_r(text, "\n", &save);
    lines[1] = strtok_r(NULL, "\n", &save);
    lines[2] = strtok_r(NULL, "\n", &save);
    assert_null(strtok_r(NULL, "\n", &save));
    for (int i = 0; i < 3; i++) {
        assert_non_null(lines[i]);
        assert_true(strlen(lines[i]) > 34);
        assert_int_equal(lines[i][4], '-');
        assert_int_equal(lines[i][10], 'T');
        assert_int_equal(lines[i][19], 'Z');
        assert_int_equal(lines[i][20], ' ');
        assert_memory_equal(lines[i] + 21, "xueshi-test [", 13);
    }
    assert_string_equal(lines[0] + 21, "xueshi-test [S7] merged 12 records");
    assert_string_equal(lines[1] + 21, "xueshi-test [S9] a warning here");
    assert_non_null(strstr(lines[2], "[S9] writing: 磁盘已满 (disk full)"));
}

/* xs_say: a plain line for an operator at a command, an event while a server captures. */
static void test_say(void **state) {
    (void)state;
    char text[4096];
    FILE *events = tmpfile(), *out = tmpfile();
    assert_non_null(events);
    assert_non_null(out);
    xs_log_program("xueshi-test");
    xs_event_stream(events);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(out), STDOUT_FILENO) >= 0);
    xs_say("policy updated: v%d", 2);
    xs_event_capture("S3");
    xs_say("key rotation followed");
    xs_event_capture_end();
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    xs_event_stream(NULL);
    s_read_all(out, text, sizeof text);
    assert_string_equal(text, "policy updated: v2\n");
    s_read_all(events, text, sizeof text);
    assert_non_null(strstr(text, "xueshi-test [S3] key rotation followed\n"));
    assert_null(strstr(text, "policy updated"));
    fclose(events);
    fclose(out);
}

/* What a limiter reported: the sum of suppressed lines and the reports, by key. */
typedef struct s_reports {
    unsigned count;
    char key[8][XS_LOG_LIMIT_KEY_MAX + 1];
    uint64_t suppressed[8];
} s_reports_t;

static void s_report(void *ctx, const char *key, uint64_t suppressed) {
    s_reports_t *r = ctx;
    assert_true(r->count < 8);
    snprintf(r->key[r->count], sizeof r->key[0], "%s", key);
    r->suppressed[r->count++] = suppressed;
}

static void test_limit_counts(void **state) {
    (void)state;
    xs_log_limit_t limit;
    s_reports_t r;
    memset(&r, 0, sizeof r);
    xs_log_limit_init(&limit, 3, 60);
    int let = 0;
    for (int i = 0; i < 10; i++)
        let += xs_log_limit_take(&limit, "refused/unknown_key", 1000 + i, s_report, &r);
    assert_int_equal(let, 3);
    /* Another key has a window of its own. */
    assert_int_equal(xs_log_limit_take(&limit, "refused/malformed", 1005, s_report, &r), 1);
    assert_int_equal(r.count, 0);
    /* Still inside the window: held back. */
    assert_int_equal(xs_log_limit_take(&limit, "refused/unknown_key", 1059, s_report, &r), 0);
    /* The window ended: the next line passes, after one report of the 8 held back. */
    assert_int_equal(xs_log_limit_take(&limit, "refused/unknown_key", 1060, s_report, &r), 1);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.key[0], "refused/unknown_key");
    assert_int_equal(r.suppressed[0], 8);
    /* A flood that stops is still summed up by a sweep, once. */
    for (int i = 0; i < 5; i++)
        (void)xs_log_limit_take(&limit, "refused/unknown_key", 1061, s_report, &r);
    xs_log_limit_sweep(&limit, 1100, s_report, &r);
    assert_int_equal(r.count, 1); /* the window began at 1060: not over */
    xs_log_limit_sweep(&limit, 1120, s_report, &r);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.suppressed[1], 3); /* 1060 and two of 1061 passed */
    xs_log_limit_sweep(&limit, 1200, s_report, &r);
    assert_int_equal(r.count, 2); /* nothing held back since: nothing said */
}

static void test_limit_many_keys(void **state) {
    (void)state;
    xs_log_limit_t limit;
    s_reports_t r;
    char key[32];
    memset(&r, 0, sizeof r);
    xs_log_limit_init(&limit, 1, 60);
    /* The first key floods; then more keys than the limiter holds: the first key's slot is
     * the oldest and is taken, its held-back lines reported, not lost. */
    assert_int_equal(xs_log_limit_take(&limit, "k0", 10, s_report, &r), 1);
    assert_int_equal(xs_log_limit_take(&limit, "k0", 10, s_report, &r), 0);
    assert_int_equal(xs_log_limit_take(&limit, "k0", 10, s_report, &r), 0);
    for (int i = 1; i <= XS_LOG_LIMIT_KEYS; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(xs_log_limit_take(&limit, key, 10 + i, s_report, &r), 1);
    }
    assert_int_equal(r.count, 1);
    assert_string_equal(r.key[0], "k0");
    assert_int_equal(r.suppressed[0], 2);
}

static void test_event_limited(void **state) {
    (void)state;
    char text[8192];
    xs_log_limit_t limit;
    FILE *f = tmpfile();
    assert_non_null(f);
    xs_event_stream(f);
    xs_log_limit_init(&limit, 2, 1);
    for (int i = 0; i < 6; i++)
        xs_event_limited(&limit, "refused/unknown_key", XS_SEV_WARNING, NULL, "handshake %d", i);
    usleep(2100 * 1000); /* the one-second window is over */
    xs_event_limited(&limit, "refused/unknown_key", XS_SEV_WARNING, NULL, "handshake %d", 6);
    xs_event_stream(NULL);
    s_read_all(f, text, sizeof text);
    fclose(f);
    assert_non_null(strstr(text, "handshake 0\n"));
    assert_non_null(strstr(text, "handshake 1\n"));
    assert_null(strstr(text, "handshake 2"));
    assert_null(strstr(text, "handshake 5"));
    const char *summary =
        strstr(text, "已省略 4 条同类记录 (suppressed 4 similar lines: refused/unknown_key)\n");
    assert_non_null(summary);
    const char *last = strstr(text, "handshake 6\n");
    assert_non_null(last);
    assert_true(summary < last);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),     cmocka_unit_test(test_line_cut),
        cmocka_unit_test(test_event_to_stream), cmocka_unit_test(test_say),
        cmocka_unit_test(test_limit_counts),    cmocka_unit_test(test_limit_many_keys),
        cmocka_unit_test(test_event_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
