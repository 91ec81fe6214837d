/* bench_year: what the county's year costs at the hub, with the real programs on a generated
 * county: S schools of T teachers (default 10 × 200 = 2,000 teachers, 30 records each, all
 * dated in 2025-2026), each school a node that imports its register sheet and brings it to
 * the hub as a USB bundle, and a roster of every teacher plus 2 % who recorded nothing.
 * Measured, each run on a fresh copy of the prepared hub: `report --year` (one certification
 * pass of every teacher, the peer), `close --year` (certify every rostered teacher, freeze,
 * sign, write the 公示 list), `report --year --format xlsx` (the same pass into the 汇总表
 * workbook) and, after a late record arrives, `supplement --list`; then
 * no-op `xueshi-node sync` sessions against a running hub, before and after a roster import.
 * The goal: close within 0.5 ms a rostered teacher (1 s for the default county) and within
 * 5 × report, the workbook within 3 × report, supplement --list within close, and a roster adding under 10 % to a no-op sync
 * (the `# goal` lines say which are met).
 * Usage: bench_year [schools [teachers_per_school [runs]]]. Programs come from $XS_BIN, else
 * this program's directory, else the build's bin directory; the policy from XS_BENCH_POLICY,
 * else schema/policies/dali.ini. Results go to stdout as `name value unit`, progress to
 * stderr. Set XS_BENCH_KEEP=1 to keep the work directory (its path is printed). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "sheet_gen.h"
#include "xs/text.h"

#ifndef XS_BIN_DIR
#define XS_BIN_DIR "build/bin"
#endif

#define S_SCHOOLS 10       /* default schools, one node each */
#define S_TEACHERS 200     /* default teachers per school */
#define S_RUNS 5           /* default timed runs of each hub command */
#define S_RECORDS 30       /* records per teacher */
#define S_BLOCK_DAYS 12    /* a teacher's records fall one in each span of this many days */
#define S_SHIFT_DAYS 364   /* moves sheet_gen's 2024-09-02.. dates into 2025-2026 */
#define S_SYNCS 50         /* no-op syncs timed with and without a roster */
#define S_YEAR "2025-2026" /* the year certified and closed */
#define S_HUB_READY_S 10.0 /* how long the hub may take to start listening */
/* Where the USB-only nodes think the hub is: nobody listens there; a bundle needs the hub's keys.
 */
#define S_NO_HUB "tcp://127.0.0.1:9"
#define S_MAX_SCHOOLS 999     /* school ids are S001..S999 */
#define S_MAX_TEACHERS 100000 /* teachers per school */

extern char **environ;

static char s_bin[4096];  /* where xueshi-hub and xueshi-node are */
static char s_work[4096]; /* the work directory */
static pid_t s_hub_pid;   /* the running hub, killed if the bench dies */

static void s_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void s_die(const char *fmt, ...) {
    va_list ap;
    if (s_hub_pid > 0) {
        kill(s_hub_pid, SIGKILL);
        waitpid(s_hub_pid, NULL, 0);
        s_hub_pid = 0;
    }
    fputs("bench_year: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (s_work[0])
        fprintf(stderr, "bench_year: the work directory %s is kept\n", s_work);
    exit(1);
}

static void s_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void s_progress(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void s_path(char *out, size_t cap, const char *dir, const char *name) {
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap)
        s_die("path too long: %s/%s", dir, name);
}

/* One result line: name, value, unit, aligned. */
static void s_result(const char *name, double value, int decimals, const char *unit) {
    printf("%-30s %14.*f %s\n", name, decimals, value, unit);
    fflush(stdout);
}

/* ---- child processes ---------------------------------------------------------------------- */

/* Starts program (xueshi-hub or xueshi-node from s_bin, or cp from PATH) with args
 * (NULL-terminated), stdout and stderr to out_path. */
static pid_t s_spawn(const char *program, const char *out_path, const char *const *args) {
    char path[4096];
    if (strcmp(program, "cp") == 0)
        snprintf(path, sizeof path, "%s", program);
    else
        s_path(path, sizeof path, s_bin, program);
    pid_t pid = bench_spawn(path, out_path, args);
    if (pid < 0)
        s_die("cannot start %s: %s", path, strerror(errno));
    return pid;
}

static int s_wait(pid_t pid) {
    int status = bench_wait(pid);
    if (status == -1)
        s_die("waitpid: %s", strerror(errno));
    return status;
}

/* Runs program with args, output to out_path; dies unless it exits 0. Returns its wall time in
 * seconds, spawn to exit. */
static double s_run(const char *program, const char *out_path, const char *const *args) {
    double t0 = bench_now();
    int status = s_wait(s_spawn(program, out_path, args));
    double t = bench_now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        s_die("%s %s failed (status %d; its output is in %s)", program, args[0], status, out_path);
    return t;
}

/* The last non-empty line of a text file, without its newline. */
static void s_last_line(const char *path, char *out, size_t cap) {
    if (bench_last_line(path, out, cap) != 0)
        s_die("%s: %s", path, strerror(errno));
}

/* Replaces the tree at dst with a copy of the tree at src. */
static void s_copy_tree(const char *src, const char *dst, const char *out_path) {
    bench_remove_tree(dst);
    s_run("cp", out_path, (const char *const[]){"-a", src, dst, NULL});
}

/* ---- statistics --------------------------------------------------------------------------- */

typedef struct s_stats {
    double min, median, p90; /* seconds */
} s_stats_t;

static s_stats_t s_stats(double *samples, size_t n) {
    qsort(samples, n, sizeof *samples, bench_cmp_double);
    s_stats_t st = {samples[0], n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2,
                    samples[(n * 9 + 9) / 10 - 1]};
    return st;
}

/* Times `xueshi-hub args...` runs times, each on a fresh copy of the hub at prepared (the
 * args name the copy's directory as --dir), output to out_path; prints each run. */
static s_stats_t s_time_hub(const char *label, const char *prepared, const char *copy,
                            const char *out_path, const char *const *args, int runs) {
    double samples[64];
    for (int r = 0; r < runs; r++) {
        s_copy_tree(prepared, copy, out_path);
        samples[r] = s_run("xueshi-hub", out_path, args);
        s_progress("  %s run %d/%d: %.3f s", label, r + 1, runs, samples[r]);
    }
    return s_stats(samples, (size_t)runs);
}

/* ---- the county --------------------------------------------------------------------------- */

/* One school: its id, node and the node's keys. */
typedef struct s_school {
    char id[16];
    char node_dir[4096];
    char sheet[4096];
    char bundle[4096];
    char keys[256];
} s_school_t;

/* Splits the county sheet at county_path (sheet_gen's T0001.. ids, one teacher after the
 * other) into one sheet per school, teachers_per_school each, every date moved S_SHIFT_DAYS
 * later; keeps each teacher's name in names (teacher k at k - 1, 64 bytes each). Returns the
 * rows written. */
static size_t s_split(const char *county_path, s_school_t *schools, unsigned school_count,
                      unsigned teachers_per_school, char (*names)[64]) {
    FILE *in = fopen(county_path, "r");
    if (!in)
        s_die("%s: %s", county_path, strerror(errno));
    FILE **out = calloc(school_count, sizeof *out);
    if (!out)
        s_die("out of memory");
    char line[8192], header[1024];
    if (!fgets(header, sizeof header, in))
        s_die("%s: no header", county_path);
    for (unsigned s = 0; s < school_count; s++) {
        if (!(out[s] = fopen(schools[s].sheet, "w")))
            s_die("%s: %s", schools[s].sheet, strerror(errno));
        fputs(header, out[s]);
    }
    size_t rows = 0;
    while (fgets(line, sizeof line, in)) {
        /* 工号,姓名,日期,…: neither of the first two cells holds a comma or a quote. */
        char *name = strchr(line, ',');
        char *date = name ? strchr(name + 1, ',') : NULL;
        char *end = NULL;
        unsigned long teacher = strtoul(line + 1, &end, 10);
        int32_t day;
        if (line[0] != 'T' || !date || end != name || teacher == 0 ||
            teacher > (unsigned long)school_count * teachers_per_school ||
            xs_date_parse(date + 1, 10, &day) != XS_OK)
            s_die("%s: a line this bench cannot read: %s", county_path, line);
        snprintf(names[teacher - 1], 64, "%.*s", (int)(date - name - 1), name + 1);
        char shifted[11];
        xs_date_format(day + S_SHIFT_DAYS, shifted);
        fprintf(out[(teacher - 1) / teachers_per_school], "%.*s%s%s", (int)(date + 1 - line), line,
                shifted, date + 11);
        rows++;
    }
    fclose(in);
    for (unsigned s = 0; s < school_count; s++)
        if (fclose(out[s]) != 0)
            s_die("writing %s failed", schools[s].sheet);
    free(out);
    return rows;
}

/* Writes the roster: every teacher of the sheets with their school, then `extra` teachers with
 * no records spread over the schools. */
static void s_write_roster(const char *path, const s_school_t *schools, unsigned school_count,
                           unsigned teachers_per_school, char (*names)[64], unsigned extra) {
    FILE *f = fopen(path, "w");
    if (!f)
        s_die("%s: %s", path, strerror(errno));
    fputs("\xEF\xBB\xBF教师编号,姓名,学校,入职日期,状态\n", f);
    unsigned teachers = school_count * teachers_per_school;
    for (unsigned k = 1; k <= teachers; k++)
        fprintf(f, "T%04u,%s,%s,2015-09-01,在职\n", k, names[k - 1],
                schools[(k - 1) / teachers_per_school].id);
    for (unsigned e = 0; e < extra; e++)
        fprintf(f, "T%04u,新教师%u,%s,2015-09-01,在职\n", teachers + 1 + e, e + 1,
                schools[e % school_count].id);
    if (fclose(f) != 0)
        s_die("writing %s failed", path);
}

/* ---- the running hub ---------------------------------------------------------------------- */

/* Starts `xueshi-hub run` on hub_dir at a free loopback port, log to log_path; waits for its
 * "县级中心运行中" line and reads the endpoint from it into endpoint. */
static void s_hub_start(const char *hub_dir, const char *log_path, char *endpoint, size_t cap) {
    static const char marker[] = "(hub serving) ";
    s_hub_pid = s_spawn(
        "xueshi-hub", log_path,
        (const char *const[]){"run", "--dir", hub_dir, "--listen", "tcp://127.0.0.1:*", NULL});
    double deadline = bench_now() + S_HUB_READY_S;
    while (bench_now() < deadline) {
        char line[4096];
        FILE *f = fopen(log_path, "r");
        while (f && fgets(line, sizeof line, f)) {
            char *p = strstr(line, "县级中心运行中");
            if (!p || !(p = strstr(p, marker)))
                continue;
            p += sizeof marker - 1;
            size_t n = 0;
            /* The endpoint ends at the full-width comma or white space. */
            while (p[n] && (unsigned char)p[n] < 0x80 && p[n] != ' ' && p[n] != '\n' && n + 1 < cap)
                n++;
            memcpy(endpoint, p, n);
            endpoint[n] = '\0';
            fclose(f);
            return;
        }
        if (f)
            fclose(f);
        int status;
        if (waitpid(s_hub_pid, &status, WNOHANG) == s_hub_pid) {
            s_hub_pid = 0;
            s_die("the hub exited at start (status %d; see %s)", status, log_path);
        }
        bench_sleep_ms(5);
    }
    s_die("the hub did not start listening (see %s)", log_path);
}

/* Stops the hub with SIGTERM; dies unless it exits 0. */
static void s_hub_stop(const char *log_path) {
    kill(s_hub_pid, SIGTERM);
    int status = s_wait(s_hub_pid);
    s_hub_pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        s_die("the hub did not stop cleanly (status %d; see %s)", status, log_path);
}

/* Times S_SYNCS no-op syncs of the node at node_dir after one untimed sync. */
static s_stats_t s_time_syncs(const char *label, const char *node_dir, const char *out_path) {
    const char *const args[] = {"sync", "--dir", node_dir, NULL};
    char line[1024];
    s_run("xueshi-node", out_path, args);
    s_last_line(out_path, line, sizeof line);
    s_progress("  %s: first sync: %s", label, line);
    double samples[S_SYNCS], start = bench_now();
    for (int r = 0; r < S_SYNCS; r++)
        samples[r] = s_run("xueshi-node", out_path, args);
    s_last_line(out_path, line, sizeof line);
    s_progress("  %s: %d syncs in %.1f s; the last: %s", label, S_SYNCS, bench_now() - start, line);
    return s_stats(samples, S_SYNCS);
}

/* ---- main --------------------------------------------------------------------------------- */

/* Reads argument i as a number in 1..max into *out, or keeps *out when absent. */
static int s_arg(int argc, char **argv, int i, unsigned max, unsigned *out) {
    if (argc <= i)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(argv[i], &end, 10);
    if (errno || end == argv[i] || *end || v == 0 || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* The programs' directory: $XS_BIN, this program's own directory when it holds xueshi-hub,
 * else the build's bin directory. */
static void s_find_bin(void) {
    const char *env = getenv("XS_BIN");
    char self[4096], probe[4096];
    ssize_t n;
    if (env && *env) {
        snprintf(s_bin, sizeof s_bin, "%s", env);
    } else if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        *slash = '\0';
        s_path(probe, sizeof probe, self, "xueshi-hub");
        snprintf(s_bin, sizeof s_bin, "%s", access(probe, X_OK) == 0 ? self : XS_BIN_DIR);
    } else {
        snprintf(s_bin, sizeof s_bin, "%s", XS_BIN_DIR);
    }
    const char *const programs[] = {"xueshi-hub", "xueshi-node"};
    for (size_t i = 0; i < 2; i++) {
        s_path(probe, sizeof probe, s_bin, programs[i]);
        if (access(probe, X_OK) != 0)
            s_die("no %s: build it or set XS_BIN", probe);
    }
}

/* The policy: XS_BENCH_POLICY, else the shipped dali.ini. */
static void s_find_policy(char *out, size_t cap) {
    static char shipped[16][1024];
    const char *env = getenv("XS_BENCH_POLICY");
    out[0] = '\0';
    if (env && *env) {
        snprintf(out, cap, "%s", env);
    } else {
        size_t n = bench_shipped_policies(shipped, 16);
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(shipped[i]);
            if (len >= 9 && strcmp(shipped[i] + len - 9, "/dali.ini") == 0)
                snprintf(out, cap, "%s", shipped[i]);
        }
    }
    if (!out[0] || access(out, R_OK) != 0)
        s_die("cannot read the policy %s: set XS_BENCH_POLICY", out[0] ? out : "dali.ini");
}

int main(int argc, char **argv) {
    unsigned school_count = S_SCHOOLS, teachers_per_school = S_TEACHERS, runs = S_RUNS;
    if (argc > 4 || s_arg(argc, argv, 1, S_MAX_SCHOOLS, &school_count) != 0 ||
        s_arg(argc, argv, 2, S_MAX_TEACHERS, &teachers_per_school) != 0 ||
        s_arg(argc, argv, 3, 64, &runs) != 0 ||
        (uint64_t)school_count * teachers_per_school > 150000) {
        fprintf(stderr, "usage: %s [schools [teachers_per_school [runs]]]\n", argv[0]);
        return 2;
    }
    char policy[1024];
    s_find_bin();
    s_find_policy(policy, sizeof policy);
    const char *parent = getenv("TMPDIR");
    if (snprintf(s_work, sizeof s_work, "%s/xs-bench-year.XXXXXX", parent ? parent : "/tmp") >=
            (int)sizeof s_work ||
        !mkdtemp(s_work))
        s_die("cannot make a work directory under %s", parent ? parent : "/tmp");
    const char *keep = getenv("XS_BENCH_KEEP");
    int keeping = keep && strcmp(keep, "1") == 0;
    unsigned teachers = school_count * teachers_per_school;
    unsigned extra = (teachers * 2 + 99) / 100;
    s_progress("bench_year: %u schools × %u teachers, %u runs; programs %s; policy %s; work %s",
               school_count, teachers_per_school, runs, s_bin, policy, s_work);

    char hub[4096], hub_bare[4096], hub_closed[4096], copy[4096], out[4096], county[4096],
        roster[4096], hub_keys[256], path[4096];
    s_path(hub, sizeof hub, s_work, "hub");
    s_path(hub_bare, sizeof hub_bare, s_work, "hub-no-roster");
    s_path(hub_closed, sizeof hub_closed, s_work, "hub-closed");
    s_path(copy, sizeof copy, s_work, "hub-run");
    s_path(out, sizeof out, s_work, "command.out");
    s_path(county, sizeof county, s_work, "county.csv");
    s_path(roster, sizeof roster, s_work, "roster.csv");

    /* ---- setup: the sheets, the hub, a node per school, bundles, the roster -------------- */
    double setup_start = bench_now(), t0 = bench_now();
    s_school_t *schools = calloc(school_count, sizeof *schools);
    char(*names)[64] = calloc(teachers + 1, sizeof *names);
    if (!schools || !names)
        s_die("out of memory");
    for (unsigned s = 0; s < school_count; s++) {
        s_school_t *sc = &schools[s];
        snprintf(sc->id, sizeof sc->id, "S%03u", s + 1);
        char name[32];
        snprintf(name, sizeof name, "node-%s", sc->id);
        s_path(sc->node_dir, sizeof sc->node_dir, s_work, name);
        snprintf(name, sizeof name, "%s.csv", sc->id);
        s_path(sc->sheet, sizeof sc->sheet, s_work, name);
        snprintf(name, sizeof name, "%s.bundle", sc->id);
        s_path(sc->bundle, sizeof sc->bundle, s_work, name);
    }
    if (bench_sheet_write(county, teachers * S_RECORDS, teachers, S_BLOCK_DAYS) != 0)
        s_die("%s: %s", county, strerror(errno));
    size_t rows = s_split(county, schools, school_count, teachers_per_school, names);
    s_write_roster(roster, schools, school_count, teachers_per_school, names, extra);
    double sheets_s = bench_now() - t0;
    s_progress("setup: %zu rows in %u sheets, roster of %u teachers (%.1f s)", rows, school_count,
               teachers + extra, sheets_s);

    s_run("xueshi-hub", out, (const char *const[]){"init", "--dir", hub, "--policy", policy, NULL});
    s_last_line(out, hub_keys, sizeof hub_keys);
    double nodes_s = 0, export_s = 0, hub_import_s = 0;
    for (unsigned s = 0; s < school_count; s++) {
        s_school_t *sc = &schools[s];
        t0 = bench_now();
        s_run("xueshi-node", out,
              (const char *const[]){"init", "--dir", sc->node_dir, "--school", sc->id, "--hub",
                                    S_NO_HUB, "--hub-key", hub_keys, NULL});
        s_last_line(out, sc->keys, sizeof sc->keys);
        s_run("xueshi-hub", out,
              (const char *const[]){"enroll", "--dir", hub, "--node", sc->keys, "--school", sc->id,
                                    NULL});
        s_run("xueshi-node", out,
              (const char *const[]){"import", "--dir", sc->node_dir, "--operator", "教务处",
                                    sc->sheet, NULL});
        double t1 = bench_now();
        s_run("xueshi-node", out,
              (const char *const[]){"export", "--dir", sc->node_dir, "--out", sc->bundle, NULL});
        double t2 = bench_now();
        s_run("xueshi-hub", out, (const char *const[]){"import", "--dir", hub, sc->bundle, NULL});
        double t3 = bench_now();
        nodes_s += t1 - t0;
        export_s += t2 - t1;
        hub_import_s += t3 - t2;
        s_progress("setup: school %u/%u %s: node import %.2f s, export %.2f s, hub import %.2f s",
                   s + 1, school_count, sc->id, t1 - t0, t2 - t1, t3 - t2);
    }
    s_copy_tree(hub, hub_bare, out);
    double roster_s = s_run("xueshi-hub", out,
                            (const char *const[]){"roster", "--dir", hub, "import", roster, NULL});
    s_progress("setup: roster imported (%.2f s)", roster_s);
    double setup_s = bench_now() - setup_start;

    printf("# bench_year: %u schools, %u teachers per school, %u runs, policy %s\n", school_count,
           teachers_per_school, runs, policy);
    s_result("schools", school_count, 0, "schools");
    s_result("teachers_with_records", teachers, 0, "teachers");
    s_result("roster_teachers", teachers + extra, 0, "teachers");
    s_result("records", (double)rows, 0, "records");
    s_result("setup_sheets", sheets_s, 2, "s");
    s_result("setup_node_import", nodes_s, 2, "s");
    s_result("setup_node_export", export_s, 2, "s");
    s_result("setup_hub_import", hub_import_s, 2, "s");
    s_result("setup_roster_import", roster_s, 2, "s");
    s_result("setup_total", setup_s, 2, "s");

    /* ---- report and close, each on a fresh copy of the prepared hub ---------------------- */
    s_progress("report --year %s, %u runs", S_YEAR, runs);
    s_stats_t report = s_time_hub(
        "report", hub, copy, out,
        (const char *const[]){"report", "--dir", copy, "--year", S_YEAR, NULL}, (int)runs);
    char book[4200];
    s_path(book, sizeof book, copy, "汇总表.xlsx");
    s_progress("report --year %s --format xlsx, %u runs", S_YEAR, runs);
    s_stats_t workbook =
        s_time_hub("workbook", hub, copy, out,
                   (const char *const[]){"report", "--dir", copy, "--year", S_YEAR, "--format",
                                         "xlsx", "--out", book, NULL},
                   (int)runs);
    s_progress("close --year %s, %u runs", S_YEAR, runs);
    s_stats_t close = s_time_hub(
        "close", hub, copy, out,
        (const char *const[]){"close", "--dir", copy, "--year", S_YEAR, "--notice-days", "0", NULL},
        (int)runs);
    s_path(path, sizeof path, copy, "years/" S_YEAR "/公示.csv");
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == 0)
        s_die("close wrote no 公示 list at %s", path);
    s_result("report_median", report.median, 3, "s");
    s_result("report_min", report.min, 3, "s");
    s_result("workbook_median", workbook.median, 3, "s");
    s_result("workbook_per_report", workbook.median / report.median, 2, "x");
    s_result("close_median", close.median, 3, "s");
    s_result("close_min", close.min, 3, "s");
    s_result("close_per_report", close.median / report.median, 2, "x");
    s_result("close_per_teacher", close.median * 1e3 / (teachers + extra), 3, "ms");

    /* ---- a late record after the close, then supplement --list ----------------------------- */
    s_copy_tree(hub, hub_closed, out);
    s_run("xueshi-hub", out,
          (const char *const[]){"close", "--dir", hub_closed, "--year", S_YEAR, "--notice-days",
                                "0", NULL});
    s_school_t *late = &schools[0];
    s_run("xueshi-node", out,
          (const char *const[]){"record", "--dir", late->node_dir, "--teacher", "T0001", "--date",
                                "2026-05-06", "--category", "lecture", "--minutes", "120",
                                "--event", "迟到的讲座", "--operator", "教务处", NULL});
    s_path(path, sizeof path, s_work, "late.bundle");
    s_run("xueshi-node", out,
          (const char *const[]){"export", "--dir", late->node_dir, "--out", path, NULL});
    s_run("xueshi-hub", out, (const char *const[]){"import", "--dir", hub_closed, path, NULL});
    s_progress("supplement --year %s --list, %u runs", S_YEAR, runs);
    s_stats_t supplement = s_time_hub(
        "supplement --list", hub_closed, copy, out,
        (const char *const[]){"supplement", "--dir", copy, "--year", S_YEAR, "--list", NULL},
        (int)runs);
    char line[4096];
    int listed = 0;
    FILE *f = fopen(out, "r");
    while (f && fgets(line, sizeof line, f))
        listed |= strstr(line, "T0001") && strstr(line, "2026-05-06");
    if (f)
        fclose(f);
    if (!listed)
        s_die("the late record is not in the 补认定 list (see %s)", out);
    s_result("supplement_list_median", supplement.median, 3, "s");
    s_result("supplement_list_min", supplement.min, 3, "s");
    s_result("supplement_per_report", supplement.median / report.median, 2, "x");

    /* ---- no-op syncs against a running hub, without and with a roster ---------------------- */
    char sync_node[4096], log_path[4096], endpoint[256];
    s_school_t *syncing = &schools[school_count > 1 ? 1 : 0];
    s_path(sync_node, sizeof sync_node, s_work, "node-sync");
    s_path(log_path, sizeof log_path, s_work, "hub.log");
    s_copy_tree(hub_bare, copy, out);
    s_copy_tree(syncing->node_dir, sync_node, out);
    s_hub_start(copy, log_path, endpoint, sizeof endpoint);
    s_progress("sync: hub serving at %s; node %s of %s", endpoint, syncing->keys, syncing->id);
    s_run("xueshi-node", out,
          (const char *const[]){"init", "--dir", sync_node, "--school", syncing->id, "--hub",
                                endpoint, "--hub-key", hub_keys, NULL});
    s_stats_t bare = s_time_syncs("without a roster", sync_node, out);
    s_run("xueshi-hub", out,
          (const char *const[]){"roster", "--dir", copy, "import", roster, NULL});
    s_stats_t with = s_time_syncs("with a roster", sync_node, out);
    s_hub_stop(log_path);
    s_result("sync_noop_median", bare.median * 1e3, 1, "ms");
    s_result("sync_noop_p90", bare.p90 * 1e3, 1, "ms");
    s_result("sync_noop_roster_median", with.median * 1e3, 1, "ms");
    s_result("sync_noop_roster_p90", with.p90 * 1e3, 1, "ms");
    s_result("sync_roster_per_bare", with.median / bare.median, 2, "x");

    /* ---- the goals ----------------------------------------------------------------------- */
    double close_ratio = close.median / report.median, sync_ratio = with.median / bare.median;
    printf("# goal close within 0.5 ms a rostered teacher: %s\n",
           close.median * 1e3 / (teachers + extra) <= 0.5 ? "meet" : "MISS");
    printf("# goal close within 5 x report: %s\n", close_ratio <= 5.0 ? "meet" : "MISS");
    printf("# goal workbook within 3 x report: %s\n",
           workbook.median <= 3.0 * report.median ? "meet" : "MISS");
    printf("# goal supplement --list within close: %s\n",
           supplement.median <= close.median ? "meet" : "MISS");
    printf("# goal roster adds under 10 %% to a no-op sync: %s\n",
           sync_ratio < 1.1 ? "meet" : "MISS");

    free(schools);
    free(names);
    if (keeping)
        s_progress("bench_year: kept %s", s_work);
    else
        bench_remove_tree(s_work);
    return 0;
}
