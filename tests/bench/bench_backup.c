/* bench_backup: what a hot backup costs a county hub: its time and size against a plain copy
 * of the hub's directory, a restore's time, and a sync's time while backups run beside it
 * against the same sync alone.
 *
 * Usage: bench_backup [SCRATCH_PARENT]  (default $TMPDIR or /tmp). Environment: XS_KEEP=1
 * keeps the scratch directory; XS_BENCH_BIN=DIR takes the programs from DIR;
 * XS_BENCH_POLICY=FILE.ini replaces the source tree's baiwanzi policy; XS_BENCH_HELD=N the
 * records the hub holds (default 200000), XS_BENCH_RECORDS=N the records of the timed sync
 * (default 100000), XS_BENCH_RUNS=N the runs of each figure (default 3).
 *
 * The hub holds one school's XS_BENCH_HELD records (3,000 teachers, one academic year, synced
 * once). Backup: `xueshi-hub backup` while the hub serves, against copying its directory file
 * by file (what a county would do without the command, and which is not a consistent copy of
 * a store being written); both to the same disk, medians of the runs. Restore: `xueshi-hub
 * restore` of that backup into a new directory (the whole file checked first) against the
 * same copy. Sync under backup: a second school's XS_BENCH_RECORDS records synced into the hub
 * (both reset from copies each run), alone, then with `xueshi-hub backup` started again and
 * again beside it until the sync ends; figure: the sync's wall time with backups over alone. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "sheet_gen.h"

#define S_HELD 200000    /* records the hub holds before the figures */
#define S_RECORDS 100000 /* records of the timed sync */
#define S_RUNS 3
#define S_MAX_RUNS 20
#define S_TEACHERS 3000

/* Bytes of the regular files under path, summed (a directory's size on disk, roughly). */
static unsigned long long s_tree_bytes(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? (unsigned long long)st.st_size : 0;
    char cmd[4200];
    unsigned long long total = 0, kb;
    /* du counts what the files hold on disk; LMDB's file is sparse past its last page. */
    snprintf(cmd, sizeof cmd, "du -sk '%s'", path);
    FILE *p = popen(cmd, "r");
    if (p && fscanf(p, "%llu", &kb) == 1)
        total = kb * 1024;
    if (p)
        pclose(p);
    return total;
}

static unsigned long long s_file_bytes(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

/* The median of n samples (sorted in place). */
static double s_median(double *samples, int n) {
    double best, median;
    bench_best_median(samples, (size_t)n, &best, &median);
    return median;
}

/* Makes school's node in dir, enrolled at hub, with rows of the sheet generator from teacher
 * teacher0 imported (not synced). */
static void s_school(const bench_hub_t *hub, const char *scratch, const char *dir,
                     const char *school, unsigned rows, unsigned teacher0, const char *out) {
    char sheet[4096], keys[256];
    bench_sheet_t part = {rows, S_TEACHERS, 1, 0, teacher0};
    bench_path(sheet, sizeof sheet, scratch, "sheet.csv");
    if (bench_sheet_write_rows(sheet, &part) != 0)
        bench_die("%s: %s", sheet, strerror(errno));
    bench_node_init(dir, school, keys, out);
    bench_enroll(hub, keys, school, out);
    bench_node_point(dir, school, hub->endpoint, hub->keys, out);
    bench_node_import(dir, sheet, out);
    unlink(sheet);
}

int main(int argc, char **argv) {
    char scratch[4096], policy[4096], hub_dir[4096], out[4096], a_dir[4096], b_dir[4096];
    char hub_tmpl[4096], b_tmpl[4096], backup[4096], copy[4096], restored[4096], n1[32], n2[32];
    bench_hub_t hub;
    bench_sync_line_t sum;
    bench_init("bench_backup");
    long held = bench_env_long("XS_BENCH_HELD", S_HELD);
    long records = bench_env_long("XS_BENCH_RECORDS", S_RECORDS);
    long runs = bench_env_long("XS_BENCH_RUNS", S_RUNS);
    if (runs > S_MAX_RUNS || held > 4000000 || records > 4000000)
        bench_die("XS_BENCH_RUNS ≤ %d, XS_BENCH_HELD and XS_BENCH_RECORDS ≤ 4000000", S_MAX_RUNS);
    bench_scratch(scratch, sizeof scratch, argc > 1 ? argv[1] : NULL, "backup");
    if (bench_policy_path(policy, sizeof policy) != 0)
        bench_die("cannot find the source tree: set XS_BENCH_POLICY to a policy .ini");
    bench_path(hub_dir, sizeof hub_dir, scratch, "hub");
    bench_path(hub_tmpl, sizeof hub_tmpl, scratch, "hub.template");
    bench_path(a_dir, sizeof a_dir, scratch, "a");
    bench_path(b_dir, sizeof b_dir, scratch, "b");
    bench_path(b_tmpl, sizeof b_tmpl, scratch, "b.template");
    bench_path(backup, sizeof backup, scratch, "hub.xsbak");
    bench_path(copy, sizeof copy, scratch, "hub.copy");
    bench_path(restored, sizeof restored, scratch, "hub.restored");
    bench_path(out, sizeof out, scratch, "setup.out");
    printf("bench_backup: scratch %s, programs %s, policy %s\n", scratch, bench_bin(), policy);

    /* The hub with school A's records; school B's imported, not synced: both kept as
     * templates for the sync runs. */
    bench_hub_init(&hub, hub_dir, policy, out);
    bench_hub_start(&hub);
    s_school(&hub, scratch, a_dir, "A01", (unsigned)held, 0, out);
    s_school(&hub, scratch, b_dir, "B01", (unsigned)records, S_TEACHERS, out);
    fprintf(stderr, "bench_backup: syncing %s records into the hub\n", bench_thousands(held, n1));
    bench_sync(a_dir, out, &sum, NULL);
    if (sum.records != (unsigned long long)held)
        bench_die("school A's sync sent %llu records, not %ld: %s", sum.records, held, sum.line);
    bench_hub_stop(&hub, NULL);
    if (bench_copy_tree(hub_dir, hub_tmpl) != 0 || bench_copy_tree(b_dir, b_tmpl) != 0)
        bench_die("templates: %s", strerror(errno));
    bench_hub_start(&hub);

    /* Backup against a copy of the directory, the hub serving. */
    double t_backup[S_MAX_RUNS], t_copy[S_MAX_RUNS], t_restore[S_MAX_RUNS], t_copy2[S_MAX_RUNS];
    for (int i = 0; i < runs; i++) {
        unlink(backup);
        t_backup[i] = bench_run(
            "xueshi-hub", out,
            (const char *const[]){"backup", "--dir", hub_dir, "--out", backup, NULL}, NULL);
        bench_remove_tree(copy);
        double t0 = bench_now();
        if (bench_copy_tree(hub_dir, copy) != 0)
            bench_die("copy: %s", strerror(errno));
        sync();
        t_copy[i] = bench_now() - t0;
    }
    unsigned long long dir_bytes = s_tree_bytes(hub_dir), backup_bytes = s_file_bytes(backup);
    /* Restore of that backup into a new directory, against the same copy. */
    for (int i = 0; i < runs; i++) {
        bench_remove_tree(restored);
        t_restore[i] = bench_run(
            "xueshi-hub", out,
            (const char *const[]){"restore", "--dir", restored, "--from", backup, NULL}, NULL);
        bench_remove_tree(copy);
        double t0 = bench_now();
        if (bench_copy_tree(hub_dir, copy) != 0)
            bench_die("copy: %s", strerror(errno));
        sync();
        t_copy2[i] = bench_now() - t0;
    }
    bench_hub_stop(&hub, NULL);

    /* B's sync alone, then with backups beside it. */
    double t_alone[S_MAX_RUNS], t_beside[S_MAX_RUNS];
    unsigned backups_beside = 0;
    for (int i = 0; i < runs; i++) {
        for (int with = 0; with < 2; with++) {
            bench_remove_tree(hub_dir);
            bench_remove_tree(b_dir);
            if (bench_copy_tree(hub_tmpl, hub_dir) != 0 || bench_copy_tree(b_tmpl, b_dir) != 0)
                bench_die("reset: %s", strerror(errno));
            bench_hub_start(&hub);
            bench_node_point(b_dir, "B01", hub.endpoint, hub.keys, out);
            pid_t sync_pid = bench_start(
                "xueshi-node", out,
                (const char *const[]){"sync", "--dir", b_dir, "--timeout", "600", NULL});
            double t0 = bench_now();
            pid_t bk = 0;
            int status = -1;
            for (;;) {
                if (with && bk == 0) {
                    unlink(backup);
                    bk = bench_start(
                        "xueshi-hub", NULL,
                        (const char *const[]){"backup", "--dir", hub_dir, "--out", backup, NULL});
                }
                if ((status = bench_reap_within(sync_pid, 20, NULL)) >= 0)
                    break;
                if (bk && bench_reap_within(bk, 0, NULL) >= 0) {
                    backups_beside++;
                    bk = 0;
                }
            }
            double wall = bench_now() - t0;
            if (bk && bench_reap(bk, NULL) >= 0)
                backups_beside++;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || bench_sync_line(out, &sum) != 0 ||
                sum.records != (unsigned long long)records)
                bench_die("school B's sync (run %d%s) did not send its %ld records", i + 1,
                          with ? ", backups beside" : "", records);
            (with ? t_beside : t_alone)[i] = wall;
            bench_hub_stop(&hub, NULL);
        }
    }

    double backup_s = s_median(t_backup, (int)runs), copy_s = s_median(t_copy, (int)runs);
    double restore_s = s_median(t_restore, (int)runs), copy2_s = s_median(t_copy2, (int)runs);
    double alone = s_median(t_alone, (int)runs), beside = s_median(t_beside, (int)runs);
    printf("hub holding %s records: directory %.1f MiB, backup file %.1f MiB (%.2f×)\n",
           bench_thousands(held, n1), dir_bytes / 1048576.0, backup_bytes / 1048576.0,
           dir_bytes ? (double)backup_bytes / (double)dir_bytes : 0);
    printf("backup while serving: %.2f s median of %ld; copying the directory: %.2f s; ratio "
           "%.2f×\n",
           backup_s, runs, copy_s, copy_s > 0 ? backup_s / copy_s : 0);
    printf("restore (file checked whole, then extracted): %.2f s median; copying the directory: "
           "%.2f s; ratio %.2f×\n",
           restore_s, copy2_s, copy2_s > 0 ? restore_s / copy2_s : 0);
    printf("sync of %s records: alone %.2f s, with backups beside it %.2f s (%u backups ran "
           "during %ld syncs); ratio %.2f×\n",
           bench_thousands(records, n2), alone, beside, backups_beside, runs,
           alone > 0 ? beside / alone : 0);
    if (!getenv("XS_KEEP"))
        bench_remove_tree(scratch);
    return 0;
}
