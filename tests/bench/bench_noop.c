/* bench_noop: a no-op sync (nothing to send, no receipt to fetch) of a node with 10 batches of
 * history against one with 1,000, at the same hub: the time must not grow with the history.
 *
 * Usage: bench_noop [SCRATCH_PARENT]  (default $TMPDIR or /tmp). Environment: XS_KEEP=1 keeps
 * the scratch directory; XS_BENCH_BIN=DIR takes the programs from DIR; XS_BENCH_POLICY=FILE.ini
 * replaces the source tree's baiwanzi policy; XS_BENCH_BATCHES=N gives the long history N
 * batches (default 1000); XS_BENCH_ROWS=N puts N records in each batch (default 10);
 * XS_BENCH_RUNS=N times N no-op syncs of each node (default 31).
 *
 * One hub, two nodes of the same kind, each its own school and 3,000 teachers of its own (the
 * sheet generator's rows, 10 a batch by default). Each batch of history is one import and one
 * sync, as a school that syncs after each day's entries. Then the no-op syncs alternate
 * between the two nodes, so that drift of this machine hits both alike; each is timed from
 * start to exit (wall), with the node's CPU (its rusage) and the hub's (its threads' scheduler
 * counters before and after). Figure (issue 13): the median wall at 1,000 batches over the
 * median at 10, goal ≤ 1.2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"
#include "sheet_gen.h"
#include "xs/progress.h"

#define S_SHORT 10      /* batches of the short history */
#define S_LONG 1000     /* batches of the long history */
#define S_ROWS 10       /* records per batch */
#define S_RUNS 31       /* no-op syncs timed per node */
#define S_TEACHERS 3000 /* teachers of each node */
#define S_GOAL 1.2      /* the long history's no-op over the short one's */
#define S_MAX_RUNS 1001 /* most no-op syncs timed per node */

/* A node of the benchmark and its history. */
typedef struct s_node {
    const char *name;   /* "short", "long" */
    const char *school; /* its school */
    unsigned teacher0;  /* its teachers are T(teacher0 + 1) .. T(teacher0 + S_TEACHERS) */
    char dir[4096];     /* its directory */
    char keys[256];     /* its public keys */
    unsigned batches;   /* batches synced so far */
    double wall[S_MAX_RUNS], node_cpu[S_MAX_RUNS], hub_cpu[S_MAX_RUNS]; /* per no-op, seconds */
} s_node_t;

/* One more batch of history: the node's next rows imported, then synced; dies unless the
 * sync sent exactly them. */
static void s_grow(s_node_t *node, const char *scratch, unsigned rows) {
    char sheet[4096], out[4096];
    bench_sync_line_t sum;
    bench_sheet_t part = {rows, S_TEACHERS, 1, node->batches * rows, node->teacher0};
    bench_path(sheet, sizeof sheet, scratch, "part.csv");
    bench_path(out, sizeof out, scratch, "grow.out");
    if (bench_sheet_write_rows(sheet, &part) != 0)
        bench_die("%s: %s", sheet, strerror(errno));
    bench_node_import(node->dir, sheet, out);
    bench_sync(node->dir, out, &sum, NULL);
    if (sum.records != rows || sum.batches != 1)
        bench_die("the %s node's sync sent %llu batches of %llu records, not 1 of %u: %s",
                  node->name, sum.batches, sum.records, rows, sum.line);
    node->batches++;
}

/* One timed no-op sync of node number i; dies unless it sent and fetched nothing. */
static void s_noop(s_node_t *node, const bench_hub_t *hub, const char *scratch, int i) {
    char out[4096];
    bench_sync_line_t sum;
    bench_usage_t use;
    bench_path(out, sizeof out, scratch, "noop.out");
    double hub0 = bench_proc_cpu(hub->pid);
    double wall = bench_sync(node->dir, out, &sum, &use);
    double hub1 = bench_proc_cpu(hub->pid);
    if (sum.records != 0 || sum.receipts != 0)
        bench_die("the %s node's no-op sync sent %llu records and fetched %llu receipts: %s",
                  node->name, sum.records, sum.receipts, sum.line);
    node->wall[i] = wall;
    node->node_cpu[i] = use.cpu;
    node->hub_cpu[i] = hub0 >= 0 && hub1 >= 0 ? hub1 - hub0 : 0;
}

/* The median of n samples (sorted in a copy); the best into *best. */
static double s_median(const double *samples, int n, double *best) {
    double copy[S_MAX_RUNS], median;
    memcpy(copy, samples, (size_t)n * sizeof *copy);
    bench_best_median(copy, (size_t)n, best, &median);
    return median;
}

int main(int argc, char **argv) {
    char scratch[4096], policy[4096], hub_dir[4096], out[4096];
    bench_hub_t hub;
    s_node_t *nodes = calloc(2, sizeof *nodes);
    bench_init("bench_noop");
    long long_batches = bench_env_long("XS_BENCH_BATCHES", S_LONG);
    long rows = bench_env_long("XS_BENCH_ROWS", S_ROWS);
    long runs = bench_env_long("XS_BENCH_RUNS", S_RUNS);
    if (!nodes)
        bench_die("out of memory");
    if (runs > S_MAX_RUNS || long_batches < S_SHORT || rows > 4000 ||
        (unsigned long)long_batches * (unsigned long)rows > 4000000000ul)
        bench_die("XS_BENCH_RUNS ≤ %d, XS_BENCH_BATCHES ≥ %d, XS_BENCH_ROWS ≤ 4000", S_MAX_RUNS,
                  S_SHORT);
    bench_scratch(scratch, sizeof scratch, argc > 1 ? argv[1] : NULL, "noop");
    if (bench_policy_path(policy, sizeof policy) != 0)
        bench_die("cannot find the source tree: set XS_BENCH_POLICY to a policy .ini");
    bench_path(hub_dir, sizeof hub_dir, scratch, "hub");
    bench_path(out, sizeof out, scratch, "setup.out");
    printf("bench_noop: scratch %s, programs %s, policy %s\n", scratch, bench_bin(), policy);

    /* The hub and its two nodes: the short history's and the long one's. */
    bench_hub_init(&hub, hub_dir, policy, out);
    bench_hub_start(&hub);
    nodes[0] = (s_node_t){.name = "short", .school = "S01", .teacher0 = 0};
    nodes[1] = (s_node_t){.name = "long", .school = "S02", .teacher0 = S_TEACHERS};
    for (int k = 0; k < 2; k++) {
        bench_path(nodes[k].dir, sizeof nodes[k].dir, scratch, nodes[k].name);
        bench_node_init(nodes[k].dir, nodes[k].school, nodes[k].keys, out);
        bench_enroll(&hub, nodes[k].keys, nodes[k].school, out);
        bench_node_point(nodes[k].dir, nodes[k].school, hub.endpoint, hub.keys, out);
    }

    /* The histories: a batch is an import and a sync. */
    xs_progress_t progress;
    unsigned want[2] = {S_SHORT, (unsigned)long_batches};
    double t0 = bench_now();
    xs_progress_begin(&progress, "bench_noop", "历史 (history)", "批 (batches)", want[0] + want[1]);
    for (int k = 0; k < 2; k++)
        while (nodes[k].batches < want[k]) {
            s_grow(&nodes[k], scratch, (unsigned)rows);
            xs_progress_update_at(&progress, nodes[0].batches + nodes[1].batches, bench_now());
        }
    xs_progress_end(&progress, nodes[0].batches + nodes[1].batches);
    double built = bench_now() - t0;

    /* The no-op syncs, alternating; one of each first, untimed, for receipts a later merge
     * (an exam event's tiers) may have changed. */
    for (int k = 0; k < 2; k++) {
        char warm[4096];
        bench_sync_line_t sum;
        bench_path(warm, sizeof warm, scratch, "warm.out");
        bench_sync(nodes[k].dir, warm, &sum, NULL);
    }
    xs_progress_begin(&progress, "bench_noop", "空同步 (no-op syncs)", "次 (syncs)",
                      (uint64_t)(2 * runs));
    for (int i = 0; i < runs; i++) {
        for (int k = 0; k < 2; k++)
            s_noop(&nodes[(i + k) % 2], &hub, scratch, i);
        xs_progress_update_at(&progress, (uint64_t)(2 * i + 2), bench_now());
    }
    xs_progress_end(&progress, (uint64_t)(2 * runs));
    bench_usage_t hub_use;
    long hwm = bench_proc_hwm_kb(hub.pid);
    bench_hub_stop(&hub, &hub_use);

    uint64_t bytes, count;
    double wall[2], best[2], node_cpu[2], node_best[2], hub_cpu[2], hub_best[2];
    printf("no-op sync (nothing to send, no receipt to fetch), one hub, two nodes of %d "
           "teachers each, %ld records a batch; history built in %.1f s (an import and a sync "
           "per batch)\n",
           S_TEACHERS, rows, built);
    for (int k = 0; k < 2; k++) {
        bench_node_table(nodes[k].dir, "batches", &bytes, &count);
        wall[k] = s_median(nodes[k].wall, (int)runs, &best[k]);
        node_cpu[k] = s_median(nodes[k].node_cpu, (int)runs, &node_best[k]);
        hub_cpu[k] = s_median(nodes[k].hub_cpu, (int)runs, &hub_best[k]);
        printf("  %s history: %llu batches (%u synced here), %llu records; %ld no-op syncs: "
               "wall median %.1f ms (best %.1f); node CPU median %.1f ms; hub CPU median %.2f "
               "ms\n",
               nodes[k].name, (unsigned long long)count, nodes[k].batches,
               (unsigned long long)nodes[k].batches * (unsigned long long)rows, runs, wall[k] * 1e3,
               best[k] * 1e3, node_cpu[k] * 1e3, hub_cpu[k] * 1e3);
    }
    printf("  hub: CPU %.2f s in all, peak RSS %.1f MiB\n", hub_use.cpu,
           (double)(hwm > 0 ? hwm : hub_use.maxrss_kb) / 1024);
    double ratio = wall[1] / wall[0];
    printf("  ratio %u batches / %u batches: wall %.2fx (best %.2fx), node CPU %.2fx, hub CPU "
           "%.2fx\n",
           nodes[1].batches, nodes[0].batches, ratio, best[1] / best[0], node_cpu[1] / node_cpu[0],
           hub_cpu[0] > 0 ? hub_cpu[1] / hub_cpu[0] : 0);
    printf("  goal ≤ %.1fx (median wall, %u batches of history against %u): %s (%.2fx)\n", S_GOAL,
           nodes[1].batches, nodes[0].batches, ratio <= S_GOAL ? "met" : "NOT met", ratio);
    if (getenv("XS_KEEP"))
        printf("kept %s\n", scratch);
    else
        bench_remove_tree(scratch);
    free(nodes);
    return 0;
}
