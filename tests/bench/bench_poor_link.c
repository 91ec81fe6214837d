/* bench_poor_link: `xueshi-node run` syncing 3,000 records to the hub over a poor link (xs_shaper:
 * 40 kbit/s, 600 ms round trips, up 9 s of every 12 s, every connection reset when it goes
 * down): the time until the hub holds them all, the bytes on the wire each way, and the link's
 * floor for the same bytes.
 *
 * Usage: bench_poor_link [SCRATCH_PARENT]  (default $TMPDIR or /tmp). Environment:
 * XS_KEEP=1 keeps the scratch directory; XS_BENCH_BIN=DIR takes the programs from DIR (another
 * build, to compare); XS_BENCH_RECORDS=N syncs N records; XS_BENCH_BOUND=S gives up after S
 * seconds (default 900); XS_BENCH_RUN_TIMEOUT=S runs `run --timeout S` (default 30, run's own);
 * XS_BENCH_POLICY=FILE.ini replaces the source tree's baiwanzi policy. */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "sheet_gen.h"
#include "xs/store.h"

#ifndef XS_BIN_DIR
#define XS_BIN_DIR "build/bin"
#endif

#define S_RECORDS 3000   /* records synced */
#define S_TEACHERS 60    /* teachers of the sheet: one central school */
#define S_RATE 40000     /* the link's rate, bits per second */
#define S_RTT_MS 600     /* its round trip */
#define S_UP 9           /* it is up the first S_UP s ... */
#define S_PERIOD 12      /* ... of every S_PERIOD s */
#define S_BOUND 900      /* seconds before the benchmark gives up */
#define S_POLL_MS 250    /* how often the hub is asked what it holds */
#define S_READY_MS 10000 /* how long the hub and the shaper may take to start */
#define S_STOP_MS 40000  /* how long `run` may take to stop (it stops between sessions) */
#define S_SCHOOL "S01"

extern char **environ;

/* Children running in the background, killed if the benchmark dies: nothing outlives it. */
static pid_t s_children[3];

static void s_kill_children(void) {
    for (size_t i = 0; i < sizeof s_children / sizeof s_children[0]; i++)
        if (s_children[i] > 0) {
            kill(s_children[i], SIGKILL);
            waitpid(s_children[i], NULL, 0);
            s_children[i] = 0;
        }
}

static void s_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void s_die(const char *fmt, ...) {
    va_list ap;
    s_kill_children();
    fputs("bench_poor_link: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void s_path(char *out, size_t cap, const char *dir, const char *name) {
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap)
        s_die("path too long: %s/%s", dir, name);
}

/* Where the programs are: XS_BENCH_BIN, else this build's. */
static const char *s_bin(void) {
    const char *env = getenv("XS_BENCH_BIN");
    return env && *env ? env : XS_BIN_DIR;
}

/* A positive integer from the environment, or fallback. */
static long s_env_long(const char *name, long fallback) {
    const char *text = getenv(name);
    char *end;
    if (!text || !*text)
        return fallback;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v <= 0)
        s_die("%s=%s: expected a positive integer", name, text);
    return v;
}

/* Starts bin/program with args (NULL-terminated), stdout and stderr to out_path. */
static pid_t s_spawn(const char *program, const char *out_path, const char *const *args) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", s_bin(), program) >= (int)sizeof path)
        s_die("path too long: %s/%s", s_bin(), program);
    pid_t pid = bench_spawn(path, out_path, args);
    if (pid < 0)
        s_die("cannot start %s: %s", path, strerror(errno));
    return pid;
}

/* Waits up to ms for pid to exit; its wait status, or -1 when it is still running. */
static int s_wait_ms(pid_t pid, long ms) {
    double deadline = bench_now() + (double)ms / 1e3;
    for (;;) {
        int status;
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return status;
        if (got < 0 && errno != EINTR)
            s_die("waitpid: %s", strerror(errno));
        if (bench_now() >= deadline)
            return -1;
        bench_sleep_ms(20);
    }
}

/* Runs program with args to completion, output to out_path; dies unless it exits 0. */
static void s_run(const char *program, const char *out_path, const char *const *args) {
    int status = s_wait_ms(s_spawn(program, out_path, args), 600000);
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        s_die("%s %s failed (status %d; output in %s)", program, args[0], status, out_path);
}

/* Stops a background child: signal, then SIGKILL after ms. Returns 1 when it stopped in time. */
static int s_stop(pid_t *child, int sig, long ms) {
    int in_time = 1;
    if (*child <= 0)
        return 1;
    kill(*child, sig);
    if (s_wait_ms(*child, ms) < 0) {
        in_time = 0;
        kill(*child, SIGKILL);
        waitpid(*child, NULL, 0);
    }
    *child = 0;
    return in_time;
}

/* Reads the whole text file at path into out (cap bytes, NUL-terminated); "" when absent. */
static void s_read_text(const char *path, char *out, size_t cap) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
}

/* The last non-empty line of a text file, without its newline. */
static void s_last_line(const char *path, char *out, size_t cap) {
    if (bench_last_line(path, out, cap) != 0)
        s_die("%s: %s", path, strerror(errno));
}

/* Waits until the file at path holds marker and copies what follows it, up to a character in
 * stop (or a byte ≥ 0x80), into out; dies when pid exits first or after S_READY_MS. */
static void s_wait_for(const char *path, const char *marker, const char *stop, pid_t pid, char *out,
                       size_t cap) {
    static char text[1 << 16];
    double deadline = bench_now() + S_READY_MS / 1e3;
    while (bench_now() < deadline) {
        s_read_text(path, text, sizeof text);
        const char *p = strstr(text, marker);
        if (p) {
            p += strlen(marker);
            size_t n = 0;
            while (p[n] && (unsigned char)p[n] < 0x80 && !strchr(stop, p[n]) && n + 1 < cap)
                n++;
            memcpy(out, p, n);
            out[n] = '\0';
            return;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            s_die("a program exited at start (see %s)", path);
        bench_sleep_ms(10);
    }
    s_die("a program did not start (see %s)", path);
}

/* The county policy the hub certifies with: XS_BENCH_POLICY, or the source tree's. */
static void s_policy_path(char *out, size_t cap) {
    if (bench_policy_path(out, cap) != 0)
        s_die("cannot find the source tree: set XS_BENCH_POLICY to a policy .ini");
}

/* Bytes of the values of one table of the node's store (node/node.h), and their count. */
static void s_table_bytes(const char *node_dir, const char *table, uint64_t *bytes,
                          uint64_t *count) {
    char path[4096];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;
    *bytes = *count = 0;
    s_path(path, sizeof path, node_dir, "store");
    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, XS_STORE_MAX_TABLES)) ||
        (rc = mdb_env_open(env, path, MDB_RDONLY, 0600)) ||
        (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) ||
        (rc = mdb_dbi_open(txn, table, 0, &dbi)) || (rc = mdb_cursor_open(txn, dbi, &cur)))
        s_die("lmdb, %s of %s: %s", table, path, mdb_strerror(rc));
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        *bytes += v.mv_size;
        (*count)++;
    }
    if (rc != MDB_NOTFOUND)
        s_die("lmdb, reading %s: %s", table, mdb_strerror(rc));
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

/* The hub's "contiguous" column for the node whose key begins with prefix (0: not listed). */
static unsigned long long s_hub_holds(const char *hub_dir, const char *prefix, const char *out) {
    char line[4096];
    unsigned long long through = 0;
    s_run("xueshi-hub", out, (const char *const[]){"nodes", "--dir", hub_dir, NULL});
    FILE *f = fopen(out, "r");
    while (f && fgets(line, sizeof line, f)) {
        if (!strstr(line, prefix))
            continue;
        /* "... contiguous highest gaps forks": the fourth number from the end. */
        unsigned long long v[4] = {0};
        char *end = line + strcspn(line, "\r\n");
        for (int i = 3; i >= 0 && end > line; i--) {
            while (end > line && end[-1] == ' ')
                end--;
            char *start = end;
            while (start > line && start[-1] != ' ')
                start--;
            v[i] = strtoull(start, NULL, 10);
            end = start;
        }
        through = v[0];
    }
    if (f)
        fclose(f);
    return through;
}

/* Counts lines of the file at path holding text. */
static unsigned s_count_lines(const char *path, const char *text) {
    char line[8192];
    unsigned n = 0;
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, text) != NULL;
    if (f)
        fclose(f);
    return n;
}

int main(int argc, char **argv) {
    char scratch[4096], sheet[4096], policy[4096], hub_dir[4096], node_dir[4096];
    char hub_log[4096], shaper_log[4096], run_log[4096], stats_path[4096], out[4096];
    char hub_keys[256], node_keys[256], hub_at[256], shaper_at[256], node_hub[300], max_s[32];
    char stats[512], a[32], b[32];
    const char *parent = argc > 1 ? argv[1] : getenv("TMPDIR");
    long records = s_env_long("XS_BENCH_RECORDS", S_RECORDS);
    long bound = s_env_long("XS_BENCH_BOUND", S_BOUND);
    if (snprintf(scratch, sizeof scratch, "%s/xs-bench-poor.XXXXXX", parent ? parent : "/tmp") >=
            (int)sizeof scratch ||
        !mkdtemp(scratch))
        s_die("cannot make a scratch directory under %s", parent ? parent : "/tmp");
    s_policy_path(policy, sizeof policy);
    s_path(sheet, sizeof sheet, scratch, "sheet.csv");
    s_path(hub_dir, sizeof hub_dir, scratch, "hub");
    s_path(node_dir, sizeof node_dir, scratch, "node");
    s_path(hub_log, sizeof hub_log, scratch, "hub.log");
    s_path(shaper_log, sizeof shaper_log, scratch, "shaper.log");
    s_path(run_log, sizeof run_log, scratch, "run.log");
    s_path(stats_path, sizeof stats_path, scratch, "shaper.stats");
    s_path(out, sizeof out, scratch, "setup.out");
    fprintf(stderr, "bench_poor_link: scratch %s, programs %s\n", scratch, s_bin());
    if (bench_sheet_write(sheet, (unsigned)records, S_TEACHERS, 2) != 0)
        s_die("%s: %s", sheet, strerror(errno));

    /* The hub, the link in front of it, a node pointed at the link. */
    s_run("xueshi-hub", out,
          (const char *const[]){"init", "--dir", hub_dir, "--policy", policy, NULL});
    s_last_line(out, hub_keys, sizeof hub_keys);
    s_children[0] = s_spawn(
        "xueshi-hub", hub_log,
        (const char *const[]){"run", "--dir", hub_dir, "--listen", "tcp://127.0.0.1:*", NULL});
    s_wait_for(hub_log, "(hub serving) tcp://", " \n", s_children[0], hub_at, sizeof hub_at);
    char rate_s[32], rtt_s[32], up_s[32], period_s[32];
    snprintf(max_s, sizeof max_s, "%ld", bound + 120);
    snprintf(rate_s, sizeof rate_s, "%d", S_RATE);
    snprintf(rtt_s, sizeof rtt_s, "%d", S_RTT_MS);
    snprintf(up_s, sizeof up_s, "%d", S_UP);
    snprintf(period_s, sizeof period_s, "%d", S_PERIOD);
    s_children[1] =
        s_spawn("xs_shaper", shaper_log,
                (const char *const[]){"--listen", "127.0.0.1:0", "--to", hub_at, "--rate", rate_s,
                                      "--rtt", rtt_s, "--up", up_s, "--period", period_s, "--stats",
                                      stats_path, "--max-seconds", max_s, NULL});
    s_wait_for(shaper_log, "listening on ", ",", s_children[1], shaper_at, sizeof shaper_at);
    double link_start = bench_now(); /* the shaper's periods start about now */
    snprintf(node_hub, sizeof node_hub, "tcp://%s", shaper_at);
    s_run("xueshi-node", out,
          (const char *const[]){"init", "--dir", node_dir, "--school", S_SCHOOL, "--hub", node_hub,
                                "--hub-key", hub_keys, NULL});
    s_last_line(out, node_keys, sizeof node_keys);
    s_run("xueshi-hub", out,
          (const char *const[]){"enroll", "--dir", hub_dir, "--node", node_keys, "--school",
                                S_SCHOOL, NULL});
    s_run("xueshi-node", out, (const char *const[]){"import", "--dir", node_dir, sheet, NULL});
    uint64_t record_bytes, record_count;
    s_table_bytes(node_dir, "records", &record_bytes, &record_count);
    if (record_count != (uint64_t)records)
        s_die("the node holds %llu records, not %ld", (unsigned long long)record_count, records);

    /* `run`, left alone until the hub holds every record. */
    char prefix[17];
    if (strncmp(node_keys, "xs1:", 4) != 0 || strlen(node_keys) < 20)
        s_die("node keys: %s", node_keys);
    memcpy(prefix, node_keys + 4, 16);
    prefix[16] = '\0';
    double t0 = bench_now();
    char run_timeout[32];
    snprintf(run_timeout, sizeof run_timeout, "%ld", s_env_long("XS_BENCH_RUN_TIMEOUT", 30));
    s_children[2] =
        s_spawn("xueshi-node", run_log,
                (const char *const[]){"run", "--dir", node_dir, "--timeout", run_timeout, NULL});
    unsigned long long held = 0;
    double converged = 0;
    while (bench_now() - t0 < (double)bound) {
        bench_sleep_ms(S_POLL_MS);
        if ((held = s_hub_holds(hub_dir, prefix, out)) >= (unsigned long long)records) {
            converged = bench_now() - t0;
            break;
        }
        if (waitpid(s_children[2], NULL, WNOHANG) == s_children[2]) {
            s_children[2] = 0;
            s_die("run exited (see %s)", run_log);
        }
    }
    double run_wall = bench_now() - t0;
    int run_stopped = s_stop(&s_children[2], SIGTERM, S_STOP_MS);
    s_stop(&s_children[1], SIGTERM, 5000); /* the shaper writes its counters as it exits */
    s_stop(&s_children[0], SIGTERM, 10000);
    s_read_text(stats_path, stats, sizeof stats);
    stats[strcspn(stats, "\n")] = '\0';
    unsigned long long up = 0, down = 0, conns = 0, cuts = 0;
    if (sscanf(stats, "bytes_up=%llu bytes_down=%llu connections=%llu cuts=%llu", &up, &down,
               &conns, &cuts) != 4)
        s_die("cannot read the shaper's counters in %s: %s", stats_path, stats);
    uint64_t envelope_bytes, batches;
    s_table_bytes(node_dir, "batches", &envelope_bytes, &batches);

    /* The floor: the records' bytes at the link's rate, while it is up. */
    double duty = (double)S_UP / S_PERIOD, rate = S_RATE / 8.0;
    double floor = (double)record_bytes / rate / duty;
    double floor_env = (double)envelope_bytes / rate / duty;
    printf("poor link: %ld records node → hub through xs_shaper: %d bit/s, rtt %d ms, up %d s of "
           "every %d s, connections reset at each cut; `xueshi-node run --timeout %s` left "
           "alone\n",
           records, S_RATE, S_RTT_MS, S_UP, S_PERIOD, run_timeout);
    printf("  the node was started %.1f s into the link's first period\n", t0 - link_start);
    if (converged > 0)
        printf("  converged: the hub holds every record after %.1f s\n", converged);
    else
        printf("  NOT converged: after %.1f s the hub holds through %llu of %ld\n", run_wall, held,
               records);
    printf("  records %s B (%.1f B/record); sealed into %llu batches, envelopes %s B\n",
           bench_thousands((double)record_bytes, a), (double)record_bytes / (double)records,
           (unsigned long long)batches, bench_thousands((double)envelope_bytes, b));
    printf("  on the wire (xs_shaper): up %s B (%.2fx the records), down %s B; %llu connections, "
           "%llu cut\n",
           bench_thousands((double)up, a), (double)up / (double)record_bytes,
           bench_thousands((double)down, b), conns, cuts);
    printf("  floor: records' bytes / link rate / duty %d/%d = %.1f s (envelopes' bytes: %.1f s)\n",
           S_UP, S_PERIOD, floor, floor_env);
    if (converged > 0)
        printf("  time to converge / floor: %.2fx (/ envelopes' floor: %.2fx)\n", converged / floor,
               converged / floor_env);
    printf("  run: %u sessions reported (%u cut short), %u resends after a reconnect; %s\n",
           s_count_lines(run_log, "(sync "), s_count_lines(run_log, "同步未完成"),
           s_count_lines(run_log, "重发"),
           run_stopped ? "stopped on SIGTERM" : "killed: it did not stop on SIGTERM in time");
    if (getenv("XS_KEEP") && strcmp(getenv("XS_KEEP"), "1") == 0)
        fprintf(stderr, "kept %s\n", scratch);
    else
        bench_remove_tree(scratch);
    return converged > 0 ? 0 : 1;
}
