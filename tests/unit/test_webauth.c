/* test_webauth: when a web server may start, and the password web-passwd writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "xs/cli.h"
#include "xs/webauth.h"

static char s_dir[512];
static char s_out[4096], s_err[4096];

static int s_setup(void **state) {
    (void)state;
    return xs_scratch_make(s_dir, sizeof s_dir, "test_webauth");
}

static int s_teardown(void **state) {
    (void)state;
    xs_scratch_remove(s_dir);
    return 0;
}

/* xs_webauth_check of listen (cert and key given when tls), through xs_scratch_command so that
 * its one line is read back. */
static const char *s_listen, *s_cert;
static int s_loopback;
static int s_check_cmd(int argc, char **argv) {
    (void)argc;
    (void)argv;
    char hash[XS_PWHASH_MAX];
    return xs_webauth_check("xueshi-node web", s_dir, s_listen, s_cert, s_cert, &s_loopback, hash);
}
static int s_check(const char *listen, int tls) {
    s_listen = listen;
    s_cert = tls ? "cert.pem" : NULL;
    char *argv[] = {"check", NULL};
    return xs_scratch_command(s_dir, s_check_cmd, argv, 1, s_out, s_err, sizeof s_err);
}

/* The password from a file standing in for stdin, as `printf PW | web-passwd` gives it. */
static const char *s_password;
static int s_passwd_cmd(int argc, char **argv) {
    (void)argc;
    (void)argv;
    char path[600];
    snprintf(path, sizeof path, "%s/stdin.txt", s_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "%s\n", s_password);
    fclose(f);
    if (!freopen(path, "r", stdin))
        return -1;
    return xs_webauth_passwd("xueshi-node web", s_dir);
}
static int s_passwd(const char *password) {
    s_password = password;
    char *argv[] = {"passwd", NULL};
    return xs_scratch_command(s_dir, s_passwd_cmd, argv, 1, s_out, s_err, sizeof s_err);
}

static void test_loopback_needs_nothing(void **state) {
    (void)state;
    assert_int_equal(s_check("127.0.0.1:0", 0), 0);
    assert_int_equal(s_loopback, 1);
    assert_int_equal(s_check("[::1]:8090", 0), 0);
    assert_int_equal(s_check("localhost:8090", 0), 0);
    assert_string_equal(s_err, "");
}

static void test_refusals_say_what_to_do(void **state) {
    (void)state;
    assert_int_equal(s_check("8090", 0), XS_EXIT_USAGE);
    assert_non_null(strstr(s_err, "xueshi-node web: 监听地址"));
    assert_int_equal(s_check("0.0.0.0:8443", 0), XS_EXIT_USAGE);
    assert_non_null(strstr(s_err, "未给出证书"));
    assert_non_null(strstr(s_err, "xueshi-node web-passwd --dir"));
    assert_int_equal(s_check("0.0.0.0:8443", 1), XS_EXIT_USAGE);
    assert_non_null(strstr(s_err, "尚未设置密码"));
    char *nl = strchr(s_err, '\n');
    assert_true(nl && nl[1] == '\0'); /* one line */
}

static void test_password_set_then_accepted(void **state) {
    (void)state;
    assert_int_equal(s_passwd("short"), XS_EXIT_USAGE);
    assert_non_null(strstr(s_err, "至少 8 个字符"));
    char path[600];
    snprintf(path, sizeof path, "%s/%s", s_dir, XS_WEBAUTH_FILE);
    assert_int_equal(access(path, F_OK), -1); /* nothing written */
    assert_int_equal(s_passwd("村小的密码很长很长"), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(s_check("0.0.0.0:8443", 1), 0);
    assert_int_equal(s_loopback, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_needs_nothing),
        cmocka_unit_test(test_refusals_say_what_to_do),
        cmocka_unit_test(test_password_set_then_accepted),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
