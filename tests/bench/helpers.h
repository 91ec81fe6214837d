/* helpers: what every benchmark program shares: clocks and numbers, its child processes (killed
 * on any exit), the hub and node commands it drives, and what their output says. */
#ifndef BENCH_HELPERS_H
#define BENCH_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- clocks, numbers, files ---- */

/* Seconds on the monotonic clock. */
double bench_now(void);
/* Sleeps ms milliseconds, resuming after signals. */
void bench_sleep_ms(long ms);
/* Formats value with thousands separators ("242,700") into out; returns out. */
const char *bench_thousands(double value, char out[32]);
/* Removes the tree at path (files and directories the benchmark made). */
void bench_remove_tree(const char *path);
/* Copies the tree at from (directories and regular files) to the new path to; -1 with errno
 * set on the first failure. For stores no process has open. */
int bench_copy_tree(const char *from, const char *to);
/* The county policy a benchmark's hub certifies with into out (cap bytes): XS_BENCH_POLICY,
 * or the source tree's baiwanzi.ini. -1 when the source tree cannot be found from this file's
 * compiled path (then XS_BENCH_POLICY must be set). */
int bench_policy_path(char *out, size_t cap);
/* The shipped policies into paths (at most cap): the .ini files of schema/policies under
 * $XS_SOURCE_DIR, else under the source tree this file was compiled from, sorted by path;
 * returns their count (0 when the directory cannot be read). */
size_t bench_shipped_policies(char paths[][1024], size_t cap);
/* Copies the last non-empty line of the text file at path, without its newline, into out (cap
 * bytes, cut to fit; "" when none). -1 with errno set when the file cannot be opened. */
int bench_last_line(const char *path, char *out, size_t cap);
/* qsort comparator for doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);
/* Sorts n samples in place; the smallest into *best, the median into *median. */
void bench_best_median(double *samples, size_t n, double *best, double *median);
/* A positive integer from the environment variable name, or fallback when it is unset; dies
 * on anything else. */
long bench_env_long(const char *name, long fallback);

/* ---- the benchmark program and its children ---- */

/* Names the program in its messages, and makes every child it starts or tracks die with it:
 * on exit (bench_die too) and on SIGINT, SIGTERM or SIGHUP. Call first. */
void bench_init(const char *program);
/* Prints "PROGRAM: message" on stderr and exits 1, killing the children first. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Makes a new scratch directory PARENT/xs-bench-NAME.XXXXXX into out (cap bytes); parent NULL:
 * $TMPDIR, else /tmp. Dies when it cannot. */
void bench_scratch(char *out, size_t cap, const char *parent, const char *name);
/* Joins dir and name into out (cap bytes); dies when it does not fit. */
void bench_path(char *out, size_t cap, const char *dir, const char *name);
/* Remembers a running child, to be killed if the program ends first; forgets one reaped. */
void bench_track(pid_t pid);
void bench_untrack(pid_t pid);

/* What a reaped child used in its life. */
typedef struct bench_usage {
    double cpu;     /* user + system CPU time of all its threads, seconds */
    long maxrss_kb; /* its peak resident set size, KiB */
} bench_usage_t;

/* Starts the program at path (found on PATH when it holds no '/') with args (argv[1..],
 * NULL-terminated, at most 38), its stdout and stderr to out_path (truncated; NULL:
 * /dev/null). Returns its pid, or -1 with errno set. Not tracked. */
pid_t bench_spawn(const char *path, const char *out_path, const char *const *args);
/* Waits for pid, resuming after signals; returns its wait status, or -1 with errno set. */
int bench_wait(pid_t pid);
/* Waits for pid and forgets it (bench_untrack); its usage into *usage when not NULL. Returns
 * its wait status; dies when it cannot wait. */
int bench_reap(pid_t pid, bench_usage_t *usage);
/* Waits up to ms for pid to exit and reaps it: its wait status, or -1 when it still runs. */
int bench_reap_within(pid_t pid, long ms, bench_usage_t *usage);
/* CPU time a running process has used so far, all its threads, in seconds (from the
 * scheduler's nanosecond counters); -1 when it cannot be read. */
double bench_proc_cpu(pid_t pid);
/* A running process's peak resident set size so far (VmHWM), KiB; -1 when unreadable. */
long bench_proc_hwm_kb(pid_t pid);
/* A kB field of /proc/PID/status ("RssAnon", "RssFile", "VmHWM"); -1 when unreadable. */
long bench_proc_status_kb(pid_t pid, const char *field);

/* ---- the programs under test ---- */

/* The directory of the programs: XS_BENCH_BIN, else this build's. */
const char *bench_bin(void);
/* Starts bench_bin()/program (or program itself when it holds a '/') with args, output to
 * out_path (NULL: /dev/null), tracked; dies when it cannot start. */
pid_t bench_start(const char *program, const char *out_path, const char *const *args);
/* Runs program with args to completion, output to out_path; dies unless it exits 0. Returns
 * its wall time in seconds; its usage into *usage when not NULL. While it runs, the last line
 * of its output goes to stderr once a second when it changed (its own progress lines). */
double bench_run(const char *program, const char *out_path, const char *const *args,
                 bench_usage_t *usage);
/* Waits until the text file at path holds marker and copies what follows it, up to white
 * space, a comma or a byte ≥ 0x80, into out (cap bytes); dies when pid exits first or after
 * seconds. */
void bench_wait_for(const char *path, const char *marker, pid_t pid, double seconds, char *out,
                    size_t cap);

/* A hub of the benchmark. */
typedef struct bench_hub {
    char dir[4096];     /* its directory */
    char log[4096];     /* the running hub's output */
    char keys[256];     /* its public keys, text form */
    char endpoint[256]; /* where it listens, as it said */
    pid_t pid;          /* the running hub; 0 when stopped */
} bench_hub_t;

/* Makes a hub in dir (its log next to it, dir.log) certifying under policy; setup output to
 * out. */
void bench_hub_init(bench_hub_t *hub, const char *dir, const char *policy, const char *out);
/* Starts `xueshi-hub run` on a free loopback port and waits until it serves. */
void bench_hub_start(bench_hub_t *hub);
/* Stops it with SIGTERM; its usage into *usage when not NULL; dies unless it exits 0. */
void bench_hub_stop(bench_hub_t *hub, bench_usage_t *usage);
/* Makes a node of school in dir; its public keys into keys (256 bytes). */
void bench_node_init(const char *dir, const char *school, char *keys, const char *out);
/* Enrolls the node with keys at hub, for school. */
void bench_enroll(const bench_hub_t *hub, const char *node_keys, const char *school,
                  const char *out);
/* Points the node at endpoint (a hub, or something in front of it) holding hub_keys. */
void bench_node_point(const char *dir, const char *school, const char *endpoint,
                      const char *hub_keys, const char *out);
/* Imports a register sheet into the node. */
void bench_node_import(const char *dir, const char *sheet, const char *out);
/* Bytes of the values of one table of a node's store (node/node.h), and their count. */
void bench_node_table(const char *node_dir, const char *table, uint64_t *bytes, uint64_t *count);

/* What a node's sync summary line says. */
typedef struct bench_sync_line {
    unsigned long long batches, records; /* sent */
    unsigned long long through, sealed;  /* the peer holds through / sealed here */
    unsigned long long receipts;         /* stored */
    char line[1024];                     /* the line itself */
} bench_sync_line_t;

/* Reads the last sync summary line of a node's output at path; 0, or -1 when it has none. */
int bench_sync_line(const char *path, bench_sync_line_t *s);
/* Reads every sync summary line of a node's output at path (`run` prints one per session):
 * into *sum (may be NULL) what they sent and stored, summed, and where the last one left
 * the counters; into *last (may be NULL) the last line. Returns how many there are. */
unsigned bench_sync_lines(const char *path, bench_sync_line_t *sum, bench_sync_line_t *last);
/* Runs `xueshi-node sync` of the node in dir, output to out_path; dies unless it exits 0 with
 * a summary line, read into *s. Returns its wall time; its usage into *usage when not NULL. */
double bench_sync(const char *dir, const char *out_path, bench_sync_line_t *s,
                  bench_usage_t *usage);

/* The hub's merge lines, one per group commit, summed. */
#define BENCH_MAX_GROUPS 4096
typedef struct bench_merges {
    size_t groups;                    /* merge lines */
    unsigned sizes[BENCH_MAX_GROUPS]; /* batches in each of the first groups, in order */
    unsigned long long batches;       /* new batches stored */
    unsigned long long records;       /* new records stored */
    unsigned long long held;          /* batches that came again, already held */
    unsigned long long receipts;      /* teachers the log names after 回执, summed */
    double ms;                        /* merge time the hub measured, summed, milliseconds */
} bench_merges_t;

/* Reads a hub's log; dies when it cannot be read. */
void bench_merges_read(const char *log, bench_merges_t *m);

#endif
