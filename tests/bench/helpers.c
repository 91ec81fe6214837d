/* helpers: what every benchmark program shares: clocks and numbers, its child processes (killed
 * on any exit), the hub and node commands it drives, and what their output says. */
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xs/store.h"

#ifndef XS_BIN_DIR
#define XS_BIN_DIR "build/bin"
#endif

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const char *bench_thousands(double value, char out[32]) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%.0f", value);
    size_t o = 0;
    for (int i = 0; i < n && o < 30; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

void bench_remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char child[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            bench_remove_tree(child);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int bench_policy_path(char *out, size_t cap) {
    const char *env = getenv("XS_BENCH_POLICY");
    if (env) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    static const char tail[] = "/tests/bench/helpers.c";
    const char *file = __FILE__;
    size_t len = strlen(file);
    if (file[0] != '/' || len < sizeof tail || strcmp(file + len - (sizeof tail - 1), tail) != 0)
        return -1;
    snprintf(out, cap, "%.*s/schema/policies/baiwanzi.ini", (int)(len - (sizeof tail - 1)), file);
    return 0;
}

static int s_cmp_path(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

size_t bench_shipped_policies(char paths[][1024], size_t cap) {
    char dir[512];
    const char *root = getenv("XS_SOURCE_DIR");
    static const char tail[] = "/tests/bench/helpers.c";
    const char *file = __FILE__;
    size_t len = strlen(file);
    if (root)
        snprintf(dir, sizeof dir, "%s/schema/policies", root);
    else if (len >= sizeof tail && strcmp(file + len - (sizeof tail - 1), tail) == 0)
        snprintf(dir, sizeof dir, "%.*s/schema/policies", (int)(len - (sizeof tail - 1)), file);
    else
        snprintf(dir, sizeof dir, "schema/policies");
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && n < cap) {
        size_t name_len = strlen(e->d_name);
        if (name_len > 4 && strcmp(e->d_name + name_len - 4, ".ini") == 0)
            snprintf(paths[n++], 1024, "%s/%s", dir, e->d_name);
    }
    if (d)
        closedir(d);
    qsort(paths, n, sizeof paths[0], s_cmp_path);
    return n;
}

pid_t bench_spawn(const char *path, const char *out_path, const char *const *args) {
    extern char **environ;
    const char *argv[40];
    size_t n = 0;
    argv[n++] = path;
    for (; args[n - 1] && n < 39; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, path, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

int bench_wait(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

int bench_last_line(const char *path, char *out, size_t cap) {
    char line[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    out[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t len = strlen(line);
        if (len == 0)
            continue;
        len = len < cap - 1 ? len : cap - 1;
        memcpy(out, line, len);
        out[len] = '\0';
    }
    fclose(f);
    return 0;
}

void bench_best_median(double *samples, size_t n, double *best, double *median) {
    qsort(samples, n, sizeof *samples, bench_cmp_double);
    *best = samples[0];
    *median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

int bench_copy_tree(const char *from, const char *to) {
    struct stat st;
    char a[4096], b[4096], buf[1 << 16];
    if (stat(from, &st) != 0)
        return -1;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(from);
        struct dirent *e;
        int rc = 0;
        if (!d || mkdir(to, 0700) != 0) {
            if (d)
                closedir(d);
            return -1;
        }
        while (rc == 0 && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (snprintf(a, sizeof a, "%s/%s", from, e->d_name) >= (int)sizeof a ||
                snprintf(b, sizeof b, "%s/%s", to, e->d_name) >= (int)sizeof b) {
                errno = ENAMETOOLONG;
                rc = -1;
            } else {
                rc = bench_copy_tree(a, b);
            }
        }
        closedir(d);
        return rc;
    }
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600), rc = 0;
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write(out, buf, (size_t)n) != n) {
            rc = -1;
            break;
        }
    }
    if (in < 0 || out < 0)
        rc = -1;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = -1;
    return rc;
}

long bench_env_long(const char *name, long fallback) {
    const char *text = getenv(name);
    char *end;
    if (!text || !*text)
        return fallback;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v <= 0)
        bench_die("%s=%s: expected a positive integer", name, text);
    return v;
}

/* ---- the benchmark program and its children ---- */

/* Children that die with the program; slots of 0 are free. */
#define S_MAX_CHILDREN 1024
static volatile pid_t s_children[S_MAX_CHILDREN];
static const char *s_program = "bench";

/* Kills every tracked child; async-signal-safe. */
static void s_kill_children(void) {
    for (size_t i = 0; i < S_MAX_CHILDREN; i++)
        if (s_children[i] > 0) {
            kill(s_children[i], SIGKILL);
            waitpid(s_children[i], NULL, 0);
            s_children[i] = 0;
        }
}

static void s_on_signal(int sig) {
    s_kill_children();
    signal(sig, SIG_DFL);
    raise(sig);
}

void bench_init(const char *program) {
    struct sigaction sa;
    s_program = program;
    atexit(s_kill_children);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed peer is a write error, not the end */
}

void bench_die(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", s_program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1); /* atexit kills the children */
}

void bench_scratch(char *out, size_t cap, const char *parent, const char *name) {
    if (!parent)
        parent = getenv("TMPDIR");
    if (!parent || !*parent)
        parent = "/tmp";
    if (snprintf(out, cap, "%s/xs-bench-%s.XXXXXX", parent, name) >= (int)cap || !mkdtemp(out))
        bench_die("cannot make a scratch directory under %s: %s", parent, strerror(errno));
}

void bench_path(char *out, size_t cap, const char *dir, const char *name) {
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap)
        bench_die("path too long: %s/%s", dir, name);
}

void bench_track(pid_t pid) {
    for (size_t i = 0; i < S_MAX_CHILDREN; i++)
        if (s_children[i] == 0) {
            s_children[i] = pid;
            return;
        }
    kill(pid, SIGKILL);
    bench_die("more than %d children at once", S_MAX_CHILDREN);
}

void bench_untrack(pid_t pid) {
    for (size_t i = 0; i < S_MAX_CHILDREN; i++)
        if (s_children[i] == pid)
            s_children[i] = 0;
}

static void s_usage_of(const struct rusage *ru, bench_usage_t *usage) {
    if (!usage)
        return;
    usage->cpu = (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
                 (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
    usage->maxrss_kb = ru->ru_maxrss;
}

int bench_reap(pid_t pid, bench_usage_t *usage) {
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            bench_die("wait4: %s", strerror(errno));
    bench_untrack(pid);
    s_usage_of(&ru, usage);
    return status;
}

int bench_reap_within(pid_t pid, long ms, bench_usage_t *usage) {
    double deadline = bench_now() + (double)ms / 1e3;
    for (;;) {
        int status;
        struct rusage ru;
        pid_t got = wait4(pid, &status, WNOHANG, &ru);
        if (got == pid) {
            bench_untrack(pid);
            s_usage_of(&ru, usage);
            return status;
        }
        if (got < 0 && errno != EINTR)
            bench_die("wait4: %s", strerror(errno));
        if (bench_now() >= deadline)
            return -1;
        bench_sleep_ms(5);
    }
}

double bench_proc_cpu(pid_t pid) {
    char path[64], line[128];
    double total = 0;
    int any = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char stat_path[384];
        snprintf(stat_path, sizeof stat_path, "/proc/%d/task/%.256s/schedstat", (int)pid,
                 e->d_name);
        FILE *f = fopen(stat_path, "r");
        unsigned long long ns;
        if (f && fgets(line, sizeof line, f) && sscanf(line, "%llu", &ns) == 1) {
            total += (double)ns / 1e9;
            any = 1;
        }
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return any ? total : -1;
}

long bench_proc_status_kb(pid_t pid, const char *field) {
    char path[64], line[256];
    size_t n = strlen(field);
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':' &&
            sscanf(line + n + 1, " %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

long bench_proc_hwm_kb(pid_t pid) {
    return bench_proc_status_kb(pid, "VmHWM");
}

/* ---- the programs under test ---- */

const char *bench_bin(void) {
    const char *env = getenv("XS_BENCH_BIN");
    return env && *env ? env : XS_BIN_DIR;
}

pid_t bench_start(const char *program, const char *out_path, const char *const *args) {
    char path[4096];
    if (strchr(program, '/'))
        snprintf(path, sizeof path, "%s", program);
    else if (snprintf(path, sizeof path, "%s/%s", bench_bin(), program) >= (int)sizeof path)
        bench_die("path too long: %s/%s", bench_bin(), program);
    pid_t pid = bench_spawn(path, out_path, args);
    if (pid < 0)
        bench_die("cannot start %s: %s", path, strerror(errno));
    bench_track(pid);
    return pid;
}

/* A child's output watched while it runs: its last line, on stderr, once a second after the
 * first, when it changed (the programs' own progress lines, for runs over a second). */
typedef struct s_watch {
    const char *program, *command, *out_path;
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    int done;
} s_watch_t;

static void *s_watch_main(void *arg) {
    s_watch_t *w = arg;
    char last[512] = "", line[512];
    struct timespec until;
    pthread_mutex_lock(&w->lock);
    clock_gettime(CLOCK_REALTIME, &until);
    while (!w->done) {
        until.tv_sec += 1;
        while (!w->done && pthread_cond_timedwait(&w->done_cond, &w->lock, &until) == 0)
            ;
        if (w->done)
            break;
        if (bench_last_line(w->out_path, line, sizeof line) == 0 && line[0] &&
            strcmp(line, last) != 0) {
            fprintf(stderr, "%s: [%s %s] %s\n", s_program, w->program, w->command, line);
            memcpy(last, line, sizeof last);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

double bench_run(const char *program, const char *out_path, const char *const *args,
                 bench_usage_t *usage) {
    s_watch_t w = {program, args[0], out_path, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                   0};
    pthread_t watcher;
    int watching = 0;
    double t0 = bench_now();
    pid_t pid = bench_start(program, out_path, args);
    if (out_path)
        watching = pthread_create(&watcher, NULL, s_watch_main, &w) == 0;
    int status = bench_reap(pid, usage);
    double t = bench_now() - t0;
    if (watching) {
        pthread_mutex_lock(&w.lock);
        w.done = 1;
        pthread_cond_signal(&w.done_cond);
        pthread_mutex_unlock(&w.lock);
        pthread_join(watcher, NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("%s %s failed (status %d; output in %s)", program, args[0], status,
                  out_path ? out_path : "/dev/null");
    return t;
}

void bench_wait_for(const char *path, const char *marker, pid_t pid, double seconds, char *out,
                    size_t cap) {
    static char text[1 << 16];
    double deadline = bench_now() + seconds;
    while (bench_now() < deadline) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        text[n] = '\0';
        if (f)
            fclose(f);
        const char *p = strstr(text, marker);
        if (p) {
            p += strlen(marker);
            size_t len = 0;
            while (p[len] && (unsigned char)p[len] < 0x80 && !strchr(" \t\r\n,", p[len]) &&
                   len + 1 < cap)
                len++;
            memcpy(out, p, len);
            out[len] = '\0';
            return;
        }
        if (bench_reap_within(pid, 0, NULL) != -1)
            bench_die("a program exited at start (see %s)", path);
        bench_sleep_ms(5);
    }
    bench_die("a program did not start within %.0f s (see %s)", seconds, path);
}

/* How long a hub may take to start listening, seconds. */
#define S_READY_SECONDS 20.0

/* The last line of out, for the keys a command prints last. */
static void s_keys(const char *out, char *keys) {
    if (bench_last_line(out, keys, 256) != 0 || !keys[0])
        bench_die("no keys in %s", out);
}

void bench_hub_init(bench_hub_t *hub, const char *dir, const char *policy, const char *out) {
    memset(hub, 0, sizeof *hub);
    if (snprintf(hub->dir, sizeof hub->dir, "%s", dir) >= (int)sizeof hub->dir ||
        snprintf(hub->log, sizeof hub->log, "%s.log", dir) >= (int)sizeof hub->log)
        bench_die("path too long: %s", dir);
    bench_run("xueshi-hub", out,
              (const char *const[]){"init", "--dir", dir, "--policy", policy, NULL}, NULL);
    s_keys(out, hub->keys);
}

void bench_hub_start(bench_hub_t *hub) {
    char port[64];
    hub->pid = bench_start(
        "xueshi-hub", hub->log,
        (const char *const[]){"run", "--dir", hub->dir, "--listen", "tcp://127.0.0.1:*", NULL});
    bench_wait_for(hub->log, "(hub serving) tcp://127.0.0.1:", hub->pid, S_READY_SECONDS, port,
                   sizeof port);
    snprintf(hub->endpoint, sizeof hub->endpoint, "tcp://127.0.0.1:%s", port);
}

void bench_hub_stop(bench_hub_t *hub, bench_usage_t *usage) {
    if (!hub->pid)
        return;
    kill(hub->pid, SIGTERM);
    int status = bench_reap(hub->pid, usage);
    hub->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("the hub did not stop cleanly (status %d; see %s)", status, hub->log);
}

void bench_node_init(const char *dir, const char *school, char *keys, const char *out) {
    bench_run("xueshi-node", out,
              (const char *const[]){"init", "--dir", dir, "--school", school, NULL}, NULL);
    s_keys(out, keys);
}

void bench_enroll(const bench_hub_t *hub, const char *node_keys, const char *school,
                  const char *out) {
    bench_run("xueshi-hub", out,
              (const char *const[]){"enroll", "--dir", hub->dir, "--node", node_keys, "--school",
                                    school, NULL},
              NULL);
}

void bench_node_point(const char *dir, const char *school, const char *endpoint,
                      const char *hub_keys, const char *out) {
    bench_run("xueshi-node", out,
              (const char *const[]){"init", "--dir", dir, "--school", school, "--hub", endpoint,
                                    "--hub-key", hub_keys, NULL},
              NULL);
}

void bench_node_import(const char *dir, const char *sheet, const char *out) {
    bench_run("xueshi-node", out, (const char *const[]){"import", "--dir", dir, sheet, NULL}, NULL);
}

void bench_node_table(const char *node_dir, const char *table, uint64_t *bytes, uint64_t *count) {
    char path[4096];
    xs_store_t *store = NULL;
    xs_txn_t *txn = NULL;
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    const char *const tables[1] = {table};
    *bytes = *count = 0;
    bench_path(path, sizeof path, node_dir, "store");
    xs_err err = xs_store_open_readonly(&store, path, tables, 1);
    if (err == XS_OK)
        err = xs_store_read(store, &txn);
    if (err == XS_OK)
        err = xs_store_cursor_open(txn, 0, &cur);
    for (err = err == XS_OK ? xs_store_cursor_seek(cur, NULL, 0, &k, &v) : err; err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        *bytes += v.len;
        (*count)++;
    }
    xs_store_cursor_close(&cur);
    xs_store_end(&txn);
    xs_store_close(&store);
    if (err != XS_ENOTFOUND)
        bench_die("reading %s of %s: %s", table, path, xs_strerror(err));
}

unsigned bench_sync_lines(const char *path, bench_sync_line_t *sum, bench_sync_line_t *last) {
    char line[4096];
    unsigned lines = 0;
    FILE *f = fopen(path, "r");
    if (sum)
        memset(sum, 0, sizeof *sum);
    if (last)
        memset(last, 0, sizeof *last);
    /* "发送 B 批 R 条 … 对方已收到至序号 T / 本地 S … 回执 N 份" */
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "发送 ");
        const char *q = strstr(line, "对方已收到至序号 ");
        const char *r = strstr(line, "回执 ");
        bench_sync_line_t got = {0};
        if (!p || !q || !r || sscanf(p, "发送 %llu 批 %llu 条", &got.batches, &got.records) != 2 ||
            sscanf(q + strlen("对方已收到至序号 "), "%llu / 本地 %llu", &got.through,
                   &got.sealed) != 2 ||
            sscanf(r, "回执 %llu", &got.receipts) != 1)
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(got.line, sizeof got.line, "%.1023s", line);
        lines++;
        if (last)
            *last = got;
        if (sum) {
            sum->batches += got.batches;
            sum->records += got.records;
            sum->receipts += got.receipts;
            sum->through = got.through;
            sum->sealed = got.sealed;
        }
    }
    if (f)
        fclose(f);
    return lines;
}

int bench_sync_line(const char *path, bench_sync_line_t *s) {
    return bench_sync_lines(path, NULL, s) > 0 ? 0 : -1;
}

double bench_sync(const char *dir, const char *out_path, bench_sync_line_t *s,
                  bench_usage_t *usage) {
    double t =
        bench_run("xueshi-node", out_path,
                  (const char *const[]){"sync", "--dir", dir, "--timeout", "900", NULL}, usage);
    if (bench_sync_line(out_path, s) != 0)
        bench_die("no sync summary in %s", out_path);
    return t;
}

void bench_merges_read(const char *log, bench_merges_t *m) {
    char line[4096];
    memset(m, 0, sizeof *m);
    FILE *f = fopen(log, "r");
    if (!f)
        bench_die("%s: %s", log, strerror(errno));
    /* "合并 (merge): N 批: 新 B 批 R 条 (拒收 X)，已有 H，分叉 F，拒绝 Y，回执 T 人，M ms", after
     * the event's time, program and who; what follows 已有 may change, so it is read field by
     * field. */
    while (fgets(line, sizeof line, f)) {
        size_t n;
        unsigned long long batches, records, rejected, held = 0, teachers = 0;
        double ms = 0;
        const char *merge = strstr(line, "合并 (merge): ");
        if (!merge || sscanf(merge, "合并 (merge): %zu 批: 新 %llu 批 %llu 条 (拒收 %llu)", &n,
                             &batches, &records, &rejected) != 4)
            continue;
        const char *p = strstr(line, "已有 "), *r = strstr(line, "回执 ");
        if (p)
            sscanf(p, "已有 %llu", &held);
        if (r)
            sscanf(r, "回执 %llu", &teachers);
        const char *unit = strstr(line, " ms");
        const char *start = unit;
        while (start && start > line &&
               (start[-1] == '.' || (start[-1] >= '0' && start[-1] <= '9')))
            start--;
        if (unit && start < unit)
            ms = strtod(start, NULL);
        if (m->groups < BENCH_MAX_GROUPS)
            m->sizes[m->groups] = (unsigned)n;
        m->groups++;
        m->batches += batches;
        m->records += records;
        m->held += held;
        m->receipts += teachers;
        m->ms += ms;
    }
    fclose(f);
}
