/* helpers: small helpers every benchmark program shares. */
#ifndef BENCH_HELPERS_H
#define BENCH_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

/* Seconds on the monotonic clock. */
double bench_now(void);
/* Sleeps ms milliseconds, resuming after signals. */
void bench_sleep_ms(long ms);
/* Formats value with thousands separators ("242,700") into out; returns out. */
const char *bench_thousands(double value, char out[32]);
/* Removes the tree at path (files and directories the benchmark made). */
void bench_remove_tree(const char *path);
/* The county policy a benchmark's hub certifies with into out (cap bytes): XS_BENCH_POLICY,
 * or the source tree's baiwanzi.ini. -1 when the source tree cannot be found from this file's
 * compiled path (then XS_BENCH_POLICY must be set). */
int bench_policy_path(char *out, size_t cap);
/* The shipped policies into paths (at most cap): the .ini files of schema/policies under
 * $XS_SOURCE_DIR, else under the source tree this file was compiled from, sorted by path;
 * returns their count (0 when the directory cannot be read). */
size_t bench_shipped_policies(char paths[][1024], size_t cap);
/* Starts the program at path (found on PATH when it holds no '/') with args (argv[1..],
 * NULL-terminated, at most 38), its stdout and stderr to out_path (truncated; NULL:
 * /dev/null). Returns its pid, or -1 with errno set. */
pid_t bench_spawn(const char *path, const char *out_path, const char *const *args);
/* Copies the last non-empty line of the text file at path, without its newline, into out (cap
 * bytes, cut to fit; "" when none). -1 with errno set when the file cannot be opened. */
int bench_last_line(const char *path, char *out, size_t cap);
/* Waits for pid, resuming after signals; returns its wait status, or -1 with errno set. */
int bench_wait(pid_t pid);
/* qsort comparator for doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

#endif
