/* test_cli: "--name value" option parsing as the programs' users meet it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs/cli.h"

#define S_MAX_POS 3

/* The options of a typical command: two with values, one flag. */
typedef struct cmd {
    xs_cli_opt_t opts[3];
    const char *pos[S_MAX_POS + 1];
    size_t npos;
    char err[128];
} cmd_t;

static void s_cmd_init(cmd_t *c) {
    memset(c, 0, sizeof *c);
    c->opts[0] = (xs_cli_opt_t){"school", 1, NULL};
    c->opts[1] = (xs_cli_opt_t){"minutes", 1, NULL};
    c->opts[2] = (xs_cli_opt_t){"dry-run", 0, NULL};
    c->pos[S_MAX_POS] = "sentinel"; /* one past what the parser may write */
}

/* Parses a NULL-terminated word list (argv without the program and command names). */
static xs_err s_parse_n(cmd_t *c, size_t max_pos, char **argv) {
    int argc = 0;
    while (argv[argc])
        argc++;
    c->err[0] = '\0';
    return xs_cli_parse(argc, argv, c->opts, 3, c->pos, max_pos, &c->npos, c->err, sizeof c->err);
}

static xs_err s_parse(cmd_t *c, char **argv) {
    return s_parse_n(c, S_MAX_POS, argv);
}

static const char *s_get(const cmd_t *c, const char *name) {
    return xs_cli_get(c->opts, 3, name);
}

static void s_expect_refused(char **argv, const char *in_message) {
    cmd_t c;
    s_cmd_init(&c);
    assert_int_equal(s_parse(&c, argv), XS_EINVAL);
    assert_non_null(strstr(c.err, in_message));
}

static void test_option_with_space_and_equals(void **state) {
    (void)state;
    cmd_t c;
    s_cmd_init(&c);
    char *argv[] = {"--school", "beixiao", "--minutes=45", NULL};
    assert_int_equal(s_parse(&c, argv), XS_OK);
    assert_string_equal(s_get(&c, "school"), "beixiao");
    assert_string_equal(s_get(&c, "minutes"), "45");
    assert_null(s_get(&c, "dry-run"));
    assert_int_equal(c.npos, 0);
    /* Values borrow argv: no copies. */
    assert_ptr_equal(s_get(&c, "school"), argv[1]);
    assert_ptr_equal(s_get(&c, "minutes"), argv[2] + strlen("--minutes="));

    /* After "=", everything is the value: empty, or holding another "=". */
    char *argv2[] = {"--school=", "--minutes=a=b", NULL};
    assert_int_equal(s_parse(&c, argv2), XS_OK);
    assert_string_equal(s_get(&c, "school"), "");
    assert_string_equal(s_get(&c, "minutes"), "a=b");

    /* The word after "--name" is its value, whatever it looks like. */
    char *argv3[] = {"--minutes", "-5", "--school", "--", NULL};
    assert_int_equal(s_parse(&c, argv3), XS_OK);
    assert_string_equal(s_get(&c, "minutes"), "-5");
    assert_string_equal(s_get(&c, "school"), "--");
    assert_int_equal(c.npos, 0);
}

static void test_flags(void **state) {
    (void)state;
    cmd_t c;
    s_cmd_init(&c);
    char *argv[] = {"--dry-run", NULL};
    assert_int_equal(s_parse(&c, argv), XS_OK);
    assert_string_equal(s_get(&c, "dry-run"), "1");
    assert_null(s_get(&c, "school"));
    /* A flag does not take the next word as a value: it stays positional. */
    char *argv2[] = {"--dry-run", "roster.csv", NULL};
    assert_int_equal(s_parse(&c, argv2), XS_OK);
    assert_string_equal(s_get(&c, "dry-run"), "1");
    assert_int_equal(c.npos, 1);
    assert_string_equal(c.pos[0], "roster.csv");
    /* Nor a value after "=". */
    char *argv3[] = {"--dry-run=no", NULL};
    assert_int_equal(s_parse(&c, argv3), XS_EINVAL);
    assert_non_null(strstr(c.err, "--dry-run"));
}

static void test_positionals_in_order(void **state) {
    (void)state;
    cmd_t c;
    s_cmd_init(&c);
    char *argv[] = {"first.csv", "--school", "nanxiao", "second.csv", "--dry-run", "third", NULL};
    assert_int_equal(s_parse(&c, argv), XS_OK);
    assert_int_equal(c.npos, 3);
    assert_string_equal(c.pos[0], "first.csv");
    assert_string_equal(c.pos[1], "second.csv");
    assert_string_equal(c.pos[2], "third");
    assert_string_equal(c.pos[S_MAX_POS], "sentinel");
    assert_string_equal(s_get(&c, "school"), "nanxiao");
    assert_string_equal(s_get(&c, "dry-run"), "1");

    /* Words that are not "--name": single dashes, a lone "-" and a lone "--" are positional
     * (there is no end-of-options marker). */
    char *argv2[] = {"-x", "-", "--", NULL};
    assert_int_equal(s_parse(&c, argv2), XS_OK);
    assert_int_equal(c.npos, 3);
    assert_string_equal(c.pos[0], "-x");
    assert_string_equal(c.pos[1], "-");
    assert_string_equal(c.pos[2], "--");
    /* ... so an option after "--" is still an option. */
    char *argv3[] = {"--", "--dry-run", NULL};
    assert_int_equal(s_parse(&c, argv3), XS_OK);
    assert_int_equal(c.npos, 1);
    assert_string_equal(c.pos[0], "--");
    assert_string_equal(s_get(&c, "dry-run"), "1");

    /* Nothing at all is fine. */
    char *none[] = {NULL};
    assert_int_equal(s_parse(&c, none), XS_OK);
    assert_int_equal(c.npos, 0);
    assert_null(s_get(&c, "school"));
}

static void test_unknown_option_named_in_message(void **state) {
    (void)state;
    char *argv[] = {"--school", "x", "--colour", "red", NULL};
    s_expect_refused(argv, "--colour");
    char *argv2[] = {"--bogus=3", NULL};
    s_expect_refused(argv2, "--bogus=3");
    /* No abbreviations and no near misses. */
    char *argv3[] = {"--sch", "x", NULL};
    s_expect_refused(argv3, "--sch");
    char *argv4[] = {"--schools", "x", NULL};
    s_expect_refused(argv4, "--schools");
    char *argv5[] = {"--School", "x", NULL};
    s_expect_refused(argv5, "--School");
    char *argv6[] = {"--=x", NULL};
    s_expect_refused(argv6, "--=x");
}

static void test_repeated_option_refused(void **state) {
    (void)state;
    char *argv[] = {"--school", "a", "--school", "b", NULL};
    s_expect_refused(argv, "--school");
    char *argv2[] = {"--minutes=1", "--minutes", "2", NULL};
    s_expect_refused(argv2, "--minutes");
    char *argv3[] = {"--dry-run", "--dry-run", NULL};
    s_expect_refused(argv3, "--dry-run");
}

static void test_missing_value_refused(void **state) {
    (void)state;
    char *argv[] = {"roster.csv", "--school", NULL};
    s_expect_refused(argv, "--school");
    char *argv2[] = {"--minutes", NULL};
    s_expect_refused(argv2, "--minutes");
}

static void test_too_many_positionals_refused(void **state) {
    (void)state;
    cmd_t c;
    s_cmd_init(&c);
    char *argv[] = {"a", "b", "c", "d", NULL};
    assert_int_equal(s_parse(&c, argv), XS_EINVAL);
    assert_non_null(strstr(c.err, "\"d\""));
    assert_string_equal(c.pos[S_MAX_POS], "sentinel"); /* never written past max_pos */
    /* A command that takes none refuses the first. */
    char *argv2[] = {"--dry-run", "extra", NULL};
    assert_int_equal(s_parse_n(&c, 0, argv2), XS_EINVAL);
    assert_non_null(strstr(c.err, "extra"));
    /* Exactly the maximum is fine. */
    char *argv3[] = {"a", "b", "c", NULL};
    assert_int_equal(s_parse(&c, argv3), XS_OK);
    assert_int_equal(c.npos, 3);
}

static void test_small_error_buffer_is_truncated(void **state) {
    (void)state;
    xs_cli_opt_t opts[1] = {{"school", 1, NULL}};
    const char *pos[1];
    size_t npos;
    char err[12];
    memset(err, '#', sizeof err);
    char *argv[] = {"--a-very-long-unknown-option-name"};
    assert_int_equal(xs_cli_parse(1, argv, opts, 1, pos, 1, &npos, err, 8), XS_EINVAL);
    assert_true(memchr(err, '\0', 8) != NULL);
    assert_int_equal(err[8], '#');
}

static void test_get_and_reparse(void **state) {
    (void)state;
    cmd_t c;
    s_cmd_init(&c);
    char *argv[] = {"--school", "dongxiao", "--dry-run", NULL};
    assert_int_equal(s_parse(&c, argv), XS_OK);
    assert_string_equal(s_get(&c, "school"), "dongxiao");
    assert_string_equal(s_get(&c, "dry-run"), "1");
    assert_null(s_get(&c, "minutes")); /* accepted but absent */
    assert_null(s_get(&c, "teacher")); /* not an option of this command */
    assert_null(s_get(&c, "schoo"));   /* names match whole */
    assert_null(xs_cli_get(c.opts, 0, "school"));
    /* A second parse starts clean: values of the first do not linger. */
    char *argv2[] = {"--minutes", "30", NULL};
    assert_int_equal(s_parse(&c, argv2), XS_OK);
    assert_null(s_get(&c, "school"));
    assert_null(s_get(&c, "dry-run"));
    assert_string_equal(s_get(&c, "minutes"), "30");
}

/* A usage error: exit code 2 (help not asked). */
static void test_usage_without_help_is_exit_2(void **state) {
    (void)state;
    assert_int_equal(xs_cli_usage("xueshi-node list --dir DIR"), XS_EXIT_USAGE);
}

/* -h and --help ask for help wherever they stand, and are never a positional or a refusal.
 * (Help once asked stays asked for the process: this test runs last.) */
static void test_help_words(void **state) {
    (void)state;
    cmd_t c;
    s_cmd_init(&c);
    assert_int_equal(s_parse(&c, (char *[]){"--school", "S1", "-h", NULL}), XS_EINVAL);
    assert_string_equal(c.err, ""); /* no message: the usage is the answer */
    assert_int_equal(c.npos, 0);
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const char *pos[2];
    size_t npos;
    char err[64];
    assert_int_equal(
        xs_cli_parse(3, (char *[]){"--dir", "D", "--help", NULL}, opts, 2, pos, 1, &npos, err, 64),
        XS_OK);
    assert_string_equal(xs_cli_get(opts, 2, "help"), "1");
    assert_string_equal(xs_cli_get(opts, 2, "dir"), "D");
    assert_int_equal(
        xs_cli_parse(2, (char *[]){"-h", "x.csv", NULL}, opts, 2, pos, 1, &npos, err, 64), XS_OK);
    assert_string_equal(xs_cli_get(opts, 2, "help"), "1");
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "x.csv");
    /* As the value of an option, "-h" is that value. */
    assert_int_equal(
        xs_cli_parse(2, (char *[]){"--dir", "-h", NULL}, opts, 2, pos, 1, &npos, err, 64), XS_OK);
    assert_string_equal(xs_cli_get(opts, 2, "dir"), "-h");
}

/* A configuration file as an IT person writes one: shared keys, this command's section,
 * another command's section, comments. */
static void test_config_fills_what_the_line_left(void **state) {
    (void)state;
    cmd_t c;
    s_cmd_init(&c);
    char text[] = "# 县级中心 (hub)\n"
                  "school = beixiao\n"
                  "listen = tcp://*:7400\n" /* another command's option: ignored here */
                  "[web]\n"
                  "minutes = 99\n"
                  "[run]\r\n"
                  "  minutes = \"45\"  \n"
                  "; a comment\n"
                  "dry-run = yes\n";
    assert_int_equal(xs_cli_config_parse(text, strlen(text), "run", c.opts, 3, c.err, 128), XS_OK);
    assert_string_equal(s_get(&c, "school"), "beixiao");
    assert_string_equal(s_get(&c, "minutes"), "45");
    assert_string_equal(s_get(&c, "dry-run"), "1");

    /* The command line wins over the file. */
    s_cmd_init(&c);
    char *argv[] = {"--school", "nanxiao", NULL};
    assert_int_equal(s_parse(&c, argv), XS_OK);
    char text2[] = "school = beixiao\n[run]\ndry-run = no\n";
    assert_int_equal(xs_cli_config_parse(text2, strlen(text2), "run", c.opts, 3, c.err, 128),
                     XS_OK);
    assert_string_equal(s_get(&c, "school"), "nanxiao");
    assert_null(s_get(&c, "dry-run"));
}

/* A typo in the command's own section, a line that is not key = value, or a flag that is
 * neither yes nor no, is refused with its line number. */
static void test_config_mistakes_named_by_line(void **state) {
    (void)state;
    const char *bad[] = {"[run]\nschool = a\nminuts = 3\n", "school = a\n\nlisten\n",
                         "[run]\ndry-run = maybe\n", "[run\nschool = a\n"};
    const char *line[] = {"第 3 行", "第 3 行", "第 2 行", "第 1 行"};
    for (size_t i = 0; i < 4; i++) {
        cmd_t c;
        char text[64];
        s_cmd_init(&c);
        snprintf(text, sizeof text, "%s", bad[i]);
        assert_int_equal(xs_cli_config_parse(text, strlen(text), "run", c.opts, 3, c.err, 128),
                         XS_EINVAL);
        assert_non_null(strstr(c.err, line[i]));
    }
    /* "help" never comes from a file, and another section's typo is not this command's. */
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    char text[] = "help = yes\n[web]\nnonsense = 1\n";
    char err[64];
    assert_int_equal(xs_cli_config_parse(text, strlen(text), "run", opts, 2, err, sizeof err),
                     XS_OK);
    assert_null(xs_cli_get(opts, 2, "help"));
}

static void s_overview(FILE *out) {
    (void)out;
}

/* "--config FILE" through xs_cli_args: read for the command xs_cli_front saw. */
static void test_config_file_through_args(void **state) {
    (void)state;
    char path[] = "/tmp/xs-test-cli-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *body = "school = beixiao\n[run]\nminutes = 45\n[web]\nminutes = 1\n";
    assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
    char *front[] = {"xueshi-test", "run", NULL};
    assert_int_equal(xs_cli_front("xueshi-test", 2, front, s_overview), -1);
    cmd_t c;
    s_cmd_init(&c);
    char *argv[] = {"--config", path, "--minutes=7", "x.csv", NULL};
    assert_int_equal(xs_cli_args("xueshi-test", 4, argv, c.opts, 3, c.pos, 1, &c.npos), XS_OK);
    assert_string_equal(s_get(&c, "school"), "beixiao");
    assert_string_equal(s_get(&c, "minutes"), "7");
    assert_int_equal(c.npos, 1);
    assert_string_equal(c.pos[0], "x.csv");
    unlink(path);
    /* A file that is not there is a clear refusal. */
    s_cmd_init(&c);
    char *missing[] = {"--config=/nonexistent/xueshi.conf", NULL};
    assert_int_equal(xs_cli_args("xueshi-test", 1, missing, c.opts, 3, c.pos, 1, &c.npos),
                     XS_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_with_space_and_equals),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_positionals_in_order),
        cmocka_unit_test(test_unknown_option_named_in_message),
        cmocka_unit_test(test_repeated_option_refused),
        cmocka_unit_test(test_missing_value_refused),
        cmocka_unit_test(test_too_many_positionals_refused),
        cmocka_unit_test(test_small_error_buffer_is_truncated),
        cmocka_unit_test(test_get_and_reparse),
        cmocka_unit_test(test_usage_without_help_is_exit_2),
        cmocka_unit_test(test_help_words),
        cmocka_unit_test(test_config_fills_what_the_line_left),
        cmocka_unit_test(test_config_mistakes_named_by_line),
        cmocka_unit_test(test_config_file_through_args),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
