/* test_store_guard: the store's read-only open, and its guard against faults in a corrupted map. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"
#include "xs/store.h"

enum { T_ALPHA, T_BETA, T_NTABLES };
static const char *const s_tables[T_NTABLES] = {"alpha", "beta"};
static const char *const s_more_tables[T_NTABLES + 1] = {"alpha", "beta", "gamma"};

#define S_CORRUPT_EXIT 6

/* A scratch directory, removed after the test. */
typedef struct fixture {
    char dir[256];  /* the directory */
    char path[300]; /* dir/store */
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_guard") != 0) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/store", fx->dir);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

static xs_err s_put_one(xs_txn_t *txn, void *ctx) {
    (void)ctx;
    return xs_store_put(txn, T_BETA, "key", 3, "value", 5, 0);
}

static void test_readonly_reads_what_was_written(void **state) {
    fixture_t *fx = *state;
    xs_store_t *store = NULL;
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    assert_int_equal(xs_store_open(&store, fx->path, s_tables, T_NTABLES, 0), XS_OK);
    assert_int_equal(xs_store_update(store, s_put_one, NULL), XS_OK);
    xs_store_close(&store);

    assert_int_equal(xs_store_open_readonly(&store, fx->path, s_tables, T_NTABLES), XS_OK);
    assert_true(xs_store_map_size(store) > 0);
    assert_int_equal(xs_store_read(store, &txn), XS_OK);
    assert_int_equal(xs_store_get(txn, T_BETA, "key", 3, &v), XS_OK);
    assert_int_equal(v.len, 5);
    assert_memory_equal(v.ptr, "value", 5);
    xs_store_end(&txn);
    xs_store_close(&store);
}

static void test_readonly_creates_nothing(void **state) {
    fixture_t *fx = *state;
    xs_store_t *store = NULL;
    struct stat st;
    assert_int_equal(xs_store_open_readonly(&store, fx->path, s_tables, T_NTABLES), XS_ENOTFOUND);
    assert_null(store);
    assert_int_not_equal(stat(fx->path, &st), 0);

    assert_int_equal(xs_store_open(&store, fx->path, s_tables, T_NTABLES, 0), XS_OK);
    xs_store_close(&store);
    /* A table the store lacks is not created. */
    assert_int_equal(xs_store_open_readonly(&store, fx->path, s_more_tables, T_NTABLES + 1),
                     XS_ENOTFOUND);
    assert_null(store);
    assert_int_equal(xs_store_open_readonly(&store, fx->path, s_tables, T_NTABLES), XS_OK);
    xs_store_close(&store);
}

/* Runs fn in a child with the guard installed; returns the child's wait status. */
static int s_guarded(void (*fn)(const char *dir), const char *dir) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        /* cmocka's own handlers would resume the tests in the child: the default instead. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGABRT, SIG_DFL);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO); /* the message, and a sanitizer's report */
        if (xs_store_guard("store corrupted\n", S_CORRUPT_EXIT) != XS_OK)
            _exit(99);
        fn(dir);
        _exit(0);
    }
    int status = 0;
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static int s_exited_corrupt(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == S_CORRUPT_EXIT;
}

/* Reads a mapped data.mdb past its end, as LMDB does when a page number points there. */
static void s_read_past_store(const char *dir) {
    char path[300];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    long page = sysconf(_SC_PAGESIZE);
    if (fd < 0 || ftruncate(fd, page) != 0)
        _exit(98);
    const volatile uint8_t *map = mmap(NULL, (size_t)page * 2, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        _exit(98);
    _exit(map[page]); /* SIGBUS: the file ends before this page */
}

static void test_guard_reports_a_read_past_the_store(void **state) {
    fixture_t *fx = *state;
    int status = s_guarded(s_read_past_store, fx->dir);
    char path[300];
    snprintf(path, sizeof path, "%s/data.mdb", fx->dir);
    unlink(path);
    assert_true(s_exited_corrupt(status));
}

/* A fault that is nobody's store: a write through a bad pointer in the program itself. */
static void s_bad_pointer(const char *dir) {
    (void)dir;
    volatile uintptr_t where = 16;
    *(volatile int *)where = 1;
}

static void test_guard_leaves_other_faults_alone(void **state) {
    (void)state;
    int status = s_guarded(s_bad_pointer, NULL);
    /* Killed by the signal, or reported by a sanitizer: not taken for the store's. */
    assert_false(s_exited_corrupt(status));
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void s_plain_abort(const char *dir) {
    (void)dir;
    abort();
}

static void test_guard_leaves_other_aborts_alone(void **state) {
    (void)state;
    int status = s_guarded(s_plain_abort, NULL);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* What LMDB does when a page fails one of its assertions: format the message on its own
 * stack frame, print it, and abort. */
__attribute__((noinline)) static void s_lmdb_like_abort(const char *dir) {
    char buf[400];
    (void)dir;
    snprintf(buf, sizeof buf, "%.100s:%d: Assertion '%.200s' failed in %.40s()", "mdb.c", 5921,
             "IS_LEAF(mp)", "mdb_cursor_next");
    fprintf(stderr, "%s\n", buf);
    abort();
}

static void test_guard_reports_an_lmdb_assertion(void **state) {
    (void)state;
    assert_true(s_exited_corrupt(s_guarded(s_lmdb_like_abort, NULL)));
}

static void test_guard_refuses_an_overlong_message(void **state) {
    (void)state;
    char *message = malloc(XS_STORE_GUARD_MAX + 2);
    assert_non_null(message);
    memset(message, 'x', XS_STORE_GUARD_MAX + 1);
    message[XS_STORE_GUARD_MAX + 1] = '\0';
    assert_int_equal(xs_store_guard(message, S_CORRUPT_EXIT), XS_ETOOBIG);
    free(message);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_readonly_reads_what_was_written, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_readonly_creates_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_guard_reports_a_read_past_the_store, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_guard_leaves_other_faults_alone),
        cmocka_unit_test(test_guard_leaves_other_aborts_alone),
        cmocka_unit_test(test_guard_reports_an_lmdb_assertion),
        cmocka_unit_test(test_guard_refuses_an_overlong_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
