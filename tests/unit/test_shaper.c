/* test_shaper: xs_shaper, the poor-link proxy of the tests, as a test that uses it sees it: its
 * rate, its delay, its cuts on schedule, its counters, its refusal of non-loopback addresses
 * and its exit by itself. Each case runs a real xs_shaper in front of an echo server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long xs_shaper may take to start listening, or to exit when told. */
#define S_START_MS 5000
/* Connections the echo server serves at once. */
#define S_ECHO_CONNS 32
/* Bytes of the throughput case: 2 s at 80 kbit/s. */
#define S_BULK_BYTES 20000

/* A running xs_shaper. */
typedef struct shaper {
    pid_t pid;          /* the child, or 0 */
    int err_fd;         /* read end of its standard error, or -1 */
    int port;           /* where it listens */
    int64_t started_ms; /* when it said it listens: its periods start about then */
} shaper_t;

static struct {
    char dir[256];   /* scratch directory */
    char stats[300]; /* the --stats file */
    pid_t echo_pid;  /* the echo server, a child process */
    int echo_port;   /* where it listens */
    shaper_t sh;     /* the shaper of the running case */
} g = {.sh = {.err_fd = -1}};

static int64_t s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_sleep_until(int64_t when_ms) {
    for (int64_t left = when_ms - s_now_ms(); left > 0; left = when_ms - s_now_ms()) {
        struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Serves echo on listen_fd until killed (or for 60 s, should the test die without killing). */
static void s_echo_serve(int listen_fd) {
    struct pollfd pfds[1 + S_ECHO_CONNS];
    nfds_t n = 1;
    static char echo[65536];
    alarm(60);
    pfds[0] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
    for (;;) {
        if (poll(pfds, n, -1) < 0)
            continue;
        for (nfds_t i = n; i-- > 1;) {
            if (!pfds[i].revents)
                continue;
            ssize_t got = read(pfds[i].fd, echo, sizeof echo);
            for (ssize_t off = 0, put = 0; got > 0 && off < got; off += put) {
                put = send(pfds[i].fd, echo + off, (size_t)(got - off), MSG_NOSIGNAL);
                if (put <= 0)
                    got = -1;
            }
            if (got <= 0) {
                close(pfds[i].fd);
                pfds[i] = pfds[--n];
            }
        }
        if (pfds[0].revents & POLLIN) {
            int fd = accept(listen_fd, NULL, NULL);
            if (fd >= 0 && n < 1 + S_ECHO_CONNS)
                pfds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
            else if (fd >= 0)
                close(fd);
        }
    }
}

/* A TCP connection to 127.0.0.1:port, or -1 with errno. */
static int s_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* 1 when fd has something to read (or an end, or an error) within timeout_ms, else 0. */
static int s_readable(int fd, int64_t timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t deadline = s_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - s_now_ms();
        int r = poll(&p, 1, left > 0 ? (int)left : 0);
        if (r >= 0 || errno != EINTR)
            return r > 0;
    }
}

/* Reads exactly len bytes within timeout_ms; 0, or -1. */
static int s_read_all(int fd, uint8_t *into, size_t len, int64_t timeout_ms) {
    int64_t deadline = s_now_ms() + timeout_ms;
    for (size_t got = 0; got < len;) {
        if (!s_readable(fd, deadline - s_now_ms()))
            return -1;
        ssize_t n = read(fd, into + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Sends all of bytes; 0, or -1. */
static int s_send_all(int fd, const uint8_t *bytes, size_t len) {
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, bytes + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* Sends one byte and waits up to timeout_ms for it to come back: 0, or -1. */
static int s_round_trip(int fd, uint8_t byte, int64_t timeout_ms) {
    uint8_t back = 0;
    if (s_send_all(fd, &byte, 1) != 0 || s_read_all(fd, &back, 1, timeout_ms) != 0)
        return -1;
    return back == byte ? 0 : -1;
}

/* 1 when the connection has ended or was reset, as a client sees a cut; 0 when it delivered
 * data instead. */
static int s_is_cut(int fd) {
    uint8_t byte;
    ssize_t n = read(fd, &byte, 1);
    return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
}

/* Runs xs_shaper with argv (from argv[1], NULL-terminated), its standard error to err_fd (or
 * closed when -1); the child's pid. */
static pid_t s_spawn(const char *const *args, int err_fd) {
    char path[600];
    const char *argv[32];
    size_t argc = 0;
    snprintf(path, sizeof path, "%s/xs_shaper", XS_BIN_DIR);
    argv[argc++] = path;
    for (size_t i = 0; args[i] && argc < 31; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int null_fd = open("/dev/null", O_WRONLY);
        dup2(err_fd >= 0 ? err_fd : null_fd, 2);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to timeout_ms for pid to exit; its exit status, -2 when it did not, -1 when it
 * died by a signal. */
static int s_wait_exit(pid_t pid, int64_t timeout_ms) {
    int64_t deadline = s_now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        if (s_now_ms() >= deadline)
            return -2;
        s_sleep_until(s_now_ms() + 10);
    }
}

/* Starts xs_shaper in front of the echo server with the extra options (NULL-terminated) and
 * waits until it listens; fills g.sh. */
static void s_shaper_start(const char *const *extra) {
    char to[32];
    const char *args[24] = {"--listen", "127.0.0.1:0", "--to",          to,
                            "--stats",  g.stats,       "--max-seconds", "30"};
    size_t argc = 8;
    snprintf(to, sizeof to, "127.0.0.1:%d", g.echo_port);
    for (size_t i = 0; extra[i] && argc < 23; i++)
        args[argc++] = extra[i];
    args[argc] = NULL;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    g.sh.pid = s_spawn(args, fds[1]);
    close(fds[1]);
    g.sh.err_fd = fds[0];
    assert_true(g.sh.pid > 0);

    char line[512];
    size_t len = 0;
    int64_t deadline = s_now_ms() + S_START_MS;
    const char *marker = "listening on 127.0.0.1:";
    for (;;) {
        assert_true(len < sizeof line - 1);
        assert_true(s_readable(g.sh.err_fd, deadline - s_now_ms()));
        assert_int_equal(read(g.sh.err_fd, line + len, 1), 1);
        if (line[len] != '\n') {
            len++;
            continue;
        }
        line[len] = '\0';
        len = 0;
        const char *at = strstr(line, marker);
        if (at) {
            g.sh.started_ms = s_now_ms();
            g.sh.port = (int)strtol(at + strlen(marker), NULL, 10);
            assert_true(g.sh.port > 0);
            return;
        }
    }
}

/* Stops the running xs_shaper with SIGTERM; its exit status. */
static int s_shaper_stop(void) {
    kill(g.sh.pid, SIGTERM);
    int rc = s_wait_exit(g.sh.pid, S_START_MS);
    if (rc != -2)
        g.sh.pid = 0;
    return rc;
}

/* The counters of the --stats file: bytes_up, bytes_down, connections, cuts. */
static void s_read_stats(unsigned long long counters[4]) {
    char text[256] = "";
    FILE *f = fopen(g.stats, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    assert_int_equal(sscanf(text, "bytes_up=%llu bytes_down=%llu connections=%llu cuts=%llu\n",
                            &counters[0], &counters[1], &counters[2], &counters[3]),
                     4);
}

/* ---- cases ---- */

/* 20,000 bytes at 80 kbit/s take 2 s each way, the two ways overlapping; the counters say
 * what went through. */
static void test_rate_limits_throughput_and_stats_count_bytes(void **state) {
    (void)state;
    static uint8_t sent[S_BULK_BYTES], back[S_BULK_BYTES];
    for (size_t i = 0; i < sizeof sent; i++)
        sent[i] = (uint8_t)(i * 7 + i / 251);
    s_shaper_start((const char *[]){"--rate", "80000", NULL});
    int fd = s_connect(g.sh.port);
    assert_true(fd >= 0);
    int64_t t0 = s_now_ms();
    assert_int_equal(s_send_all(fd, sent, sizeof sent), 0);
    assert_int_equal(s_read_all(fd, back, sizeof back, 10000), 0);
    int64_t took = s_now_ms() - t0;
    close(fd);
    print_message("20000 bytes through at 80 kbit/s and back: %lld ms\n", (long long)took);
    assert_memory_equal(sent, back, sizeof sent);
    assert_in_range(took, 1800, 3999);

    assert_int_equal(s_shaper_stop(), 0);
    unsigned long long counters[4];
    s_read_stats(counters);
    assert_int_equal(counters[0], S_BULK_BYTES);
    assert_int_equal(counters[1], S_BULK_BYTES);
    assert_int_equal(counters[2], 1);
    assert_int_equal(counters[3], 0);
}

/* With --rtt 400 a byte's round trip through the echo server takes at least 400 ms. */
static void test_rtt_delays_every_byte(void **state) {
    (void)state;
    s_shaper_start((const char *[]){"--rtt", "400", NULL});
    int fd = s_connect(g.sh.port);
    assert_true(fd >= 0);
    for (int i = 0; i < 2; i++) {
        int64_t t0 = s_now_ms();
        assert_int_equal(s_round_trip(fd, (uint8_t)('a' + i), 5000), 0);
        int64_t took = s_now_ms() - t0;
        print_message("1-byte round trip at rtt 400 ms: %lld ms\n", (long long)took);
        assert_in_range(took, 380, 2999);
    }
    close(fd);
    assert_int_equal(s_shaper_stop(), 0);
}

/* Up 1 s of every 2 s: a connection open at the down moment is reset, one made while the link
 * is down fails at once, one made in the next up phase works. */
static void test_down_phase_cuts_and_refuses(void **state) {
    (void)state;
    s_shaper_start((const char *[]){"--up", "1", "--period", "2", NULL});
    int64_t t0 = g.sh.started_ms;

    int a = s_connect(g.sh.port);
    assert_true(a >= 0);
    assert_int_equal(s_round_trip(a, 'a', 500), 0);
    assert_true(s_now_ms() - t0 < 900); /* else the machine is too slow for this case */
    assert_true(s_readable(a, t0 + 1900 - s_now_ms()));
    int64_t cut_at = s_now_ms() - t0;
    print_message("open connection cut %lld ms after start (down at 1000)\n", (long long)cut_at);
    assert_true(s_is_cut(a));
    assert_true(cut_at >= 800);
    close(a);

    s_sleep_until(t0 + 1300);
    int b = s_connect(g.sh.port);
    if (b >= 0) { /* accepted, then reset: the first read says so, promptly */
        int64_t t1 = s_now_ms();
        (void)s_send_all(b, (const uint8_t *)"b", 1);
        assert_true(s_readable(b, 500));
        assert_true(s_is_cut(b));
        print_message("connect while down: reset after %lld ms\n", (long long)(s_now_ms() - t1));
        close(b);
    }

    s_sleep_until(t0 + 2300);
    int c = s_connect(g.sh.port);
    assert_true(c >= 0);
    assert_int_equal(s_round_trip(c, 'c', 500), 0);
    close(c);

    assert_int_equal(s_shaper_stop(), 0);
    unsigned long long counters[4];
    s_read_stats(counters);
    assert_int_equal(counters[0], 2); /* 'a' and 'c': nothing of 'b' went through */
    assert_int_equal(counters[1], 2);
    assert_int_equal(counters[2], 2);
    assert_true(counters[3] >= 1);
}

/* Only loopback addresses: anything else is refused with exit status 2. */
static void test_refuses_addresses_off_this_machine(void **state) {
    (void)state;
    const char *const cases[][5] = {
        {"--listen", "0.0.0.0:0", "--to", "127.0.0.1:9", NULL},
        {"--listen", "192.168.1.10:5000", "--to", "127.0.0.1:9", NULL},
        {"--listen", "127.0.0.1:0", "--to", "8.8.8.8:53", NULL},
        {"--listen", "127.0.0.1:0", "--to", "[2001:db8::1]:53", NULL},
        {"--listen", "127.0.0.1:0", "--to", "localhost:53", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pid_t pid = s_spawn(cases[i], -1);
        assert_true(pid > 0);
        int rc = s_wait_exit(pid, S_START_MS);
        if (rc == -2) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        assert_int_equal(rc, 2);
    }
}

/* --max-seconds: it exits by itself, status 0, and writes its counters. */
static void test_exits_by_itself(void **state) {
    (void)state;
    s_shaper_start((const char *[]){"--max-seconds", "1", NULL});
    int rc = s_wait_exit(g.sh.pid, 4000);
    assert_int_equal(rc, 0);
    g.sh.pid = 0;
    assert_true(s_now_ms() - g.sh.started_ms >= 900);
    unsigned long long counters[4];
    s_read_stats(counters);
    assert_int_equal(counters[0] + counters[1] + counters[2] + counters[3], 0);
}

/* ---- fixture ---- */

static int s_group_setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(g.dir, sizeof g.dir, "%s/xs-shaper.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g.dir))
        return -1;
    snprintf(g.stats, sizeof g.stats, "%s/stats", g.dir);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) != 0)
        return -1;
    g.echo_port = ntohs(sa.sin_port);
    fflush(stdout);
    fflush(stderr);
    g.echo_pid = fork();
    if (g.echo_pid == 0) {
        s_echo_serve(fd);
        _exit(0);
    }
    close(fd);
    return g.echo_pid > 0 ? 0 : -1;
}

static int s_group_teardown(void **state) {
    (void)state;
    if (g.echo_pid > 0) {
        kill(g.echo_pid, SIGKILL);
        waitpid(g.echo_pid, NULL, 0);
    }
    unlink(g.stats);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", g.stats);
    unlink(tmp);
    rmdir(g.dir);
    return 0;
}

/* Kills the case's shaper whatever happened, and forgets its counters. */
static int s_teardown(void **state) {
    (void)state;
    if (g.sh.pid > 0) {
        kill(g.sh.pid, SIGKILL);
        waitpid(g.sh.pid, NULL, 0);
    }
    if (g.sh.err_fd >= 0)
        close(g.sh.err_fd);
    g.sh = (shaper_t){.err_fd = -1};
    unlink(g.stats);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rate_limits_throughput_and_stats_count_bytes, s_teardown),
        cmocka_unit_test_teardown(test_rtt_delays_every_byte, s_teardown),
        cmocka_unit_test_teardown(test_down_phase_cuts_and_refuses, s_teardown),
        cmocka_unit_test_teardown(test_refuses_addresses_off_this_machine, s_teardown),
        cmocka_unit_test_teardown(test_exits_by_itself, s_teardown),
    };
    return cmocka_run_group_tests_name("shaper", tests, s_group_setup, s_group_teardown);
}
