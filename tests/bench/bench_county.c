/* bench_county: the hub at county scale: its CPU per record for one node of 1,000,000 records
 * against one of 100,000, and 200 nodes of 2,000 records syncing at once against 50.
 *
 * Usage: bench_county [SCRATCH_PARENT]  (default $TMPDIR or /tmp). Environment: XS_KEEP=1
 * keeps the scratch directory; XS_BENCH_BIN=DIR takes the programs from DIR;
 * XS_BENCH_POLICY=FILE.ini replaces the source tree's baiwanzi policy; XS_BENCH_PART=records
 * or nodes runs one part only; XS_BENCH_SMALL=N and XS_BENCH_BIG=N size the one-node syncs
 * (default 100000 and 1000000 records); XS_BENCH_FEW=N and XS_BENCH_NODES=N the concurrent
 * ones (default 50 and 200 nodes), XS_BENCH_NODE_RECORDS=N each node's records (default 2000).
 *
 * Records: one node, 3,000 teachers (the sheet generator, one-day blocks: every record in one
 * academic year), imported (not timed), then one `xueshi-node sync` into a fresh hub. The hub's
 * CPU is its threads' during the sync (their scheduler counters before and after; its whole
 * life's, from wait4, is printed too), its peak RSS the reaped hub's ru_maxrss. Figure: CPU
 * per record at the big sync over the small one, goal ≤ 1.2.
 *
 * Nodes: the county has 3,000 teachers; node k is school S%03d with 15 teachers of its own,
 * T(15k + 1) .. T(15k + 15) (3,000 / 200: a school's staff), and the same 2,000 rows of the
 * generator for them (two-day blocks, about 266 days, one academic year): the 50-node run's
 * nodes are the 200-node run's first 50, byte for byte (copies made before either syncs), so
 * only their number differs. Every node is enrolled at one fresh hub; all their syncs start at
 * once, as processes on loopback; the time runs from the first start to the last exit.
 * Figure: aggregate records/s of 200 nodes over that of 50, goal ≥ 1.0; the hub's peak RSS of
 * both (VmHWM just before it stops). On 2 cores the nodes' own CPU (sealing, signing)
 * competes with the hub's: the hub's CPU during the burst is printed too. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "sheet_gen.h"
#include "xs/progress.h"

#define S_SMALL 100000       /* records of the small one-node sync */
#define S_BIG 1000000        /* records of the big one */
#define S_TEACHERS 3000      /* teachers of the county */
#define S_FEW 50             /* nodes of the smaller burst */
#define S_NODES 200          /* nodes of the larger burst */
#define S_NODE_RECORDS 2000  /* records of each node of a burst */
#define S_MAX_NODES 1000     /* most nodes of a burst */
#define S_GOAL_CPU 1.2       /* hub CPU per record, big over small */
#define S_GOAL_NODES 1.0     /* aggregate records/s, many nodes over few */
#define S_BURST_SECONDS 1800 /* longest a burst may take */

/* ---- records: one node, a small and a big sync ---- */

/* What one one-node sync cost. */
typedef struct s_one {
    unsigned long long records;
    double wall;         /* the sync, start to exit */
    bench_usage_t node;  /* the node's sync */
    bench_usage_t hub;   /* the hub's whole life */
    double hub_sync_cpu; /* the hub's CPU during the sync */
    bench_merges_t merges;
    long anon_kb, file_kb; /* the hub's resident memory after the sync: its heap, and the
                              pages of the store's map it touched */
} s_one_t;

static void s_one(const char *scratch, const char *name, const char *policy, unsigned records,
                  s_one_t *r) {
    char dir[4096], path[4096], sheet[4096], out[4096], node_keys[256];
    bench_hub_t hub;
    bench_sync_line_t sum;
    bench_sheet_t rows = {records, S_TEACHERS, 1, 0, 0};
    memset(r, 0, sizeof *r);
    bench_path(dir, sizeof dir, scratch, name);
    if (mkdir(dir, 0700) != 0)
        bench_die("mkdir %s: %s", dir, strerror(errno));
    bench_path(sheet, sizeof sheet, dir, "sheet.csv");
    bench_path(out, sizeof out, dir, "setup.out");
    fprintf(stderr, "bench_county: %u records: sheet, node, hub\n", records);
    if (bench_sheet_write_rows(sheet, &rows) != 0)
        bench_die("%s: %s", sheet, strerror(errno));
    bench_path(path, sizeof path, dir, "hub");
    bench_hub_init(&hub, path, policy, out);
    bench_path(path, sizeof path, dir, "node");
    bench_node_init(path, "S001", node_keys, out);
    bench_enroll(&hub, node_keys, "S001", out);
    bench_node_import(path, sheet, out);
    unlink(sheet);
    bench_hub_start(&hub);
    bench_node_point(path, "S001", hub.endpoint, hub.keys, out);
    fprintf(stderr, "bench_county: %u records: sync\n", records);
    bench_path(out, sizeof out, dir, "sync.out");
    double cpu0 = bench_proc_cpu(hub.pid);
    r->wall = bench_sync(path, out, &sum, &r->node);
    r->hub_sync_cpu = bench_proc_cpu(hub.pid) - cpu0;
    r->anon_kb = bench_proc_status_kb(hub.pid, "RssAnon");
    r->file_kb = bench_proc_status_kb(hub.pid, "RssFile");
    bench_hub_stop(&hub, &r->hub);
    bench_merges_read(hub.log, &r->merges);
    r->records = sum.records;
    if (sum.records != records || r->merges.records != records)
        bench_die("the sync sent %llu records and the hub merged %llu, not %u (see %s)",
                  sum.records, r->merges.records, records, hub.log);
}

static void s_records(const char *scratch, const char *policy) {
    long small = bench_env_long("XS_BENCH_SMALL", S_SMALL);
    long big = bench_env_long("XS_BENCH_BIG", S_BIG);
    s_one_t r[2];
    char a[32];
    s_one(scratch, "small", policy, (unsigned)small, &r[0]);
    s_one(scratch, "big", policy, (unsigned)big, &r[1]);
    printf("records: one node, %d teachers, one sync into a fresh hub\n", S_TEACHERS);
    for (int i = 0; i < 2; i++) {
        double n = (double)r[i].records;
        printf("  %s records: sync %.2f s = %s rec/s; hub CPU %.2f s during the sync = %.2f "
               "µs/record (%.2f s in its life); hub peak RSS %.1f MiB (after the sync: heap "
               "%.1f MiB, the store's mapped pages %.1f MiB); node CPU %.2f s; %zu group "
               "commits, merge time %.0f ms (its log)\n",
               bench_thousands(n, a), r[i].wall, bench_thousands(n / r[i].wall, (char[32]){0}),
               r[i].hub_sync_cpu, r[i].hub_sync_cpu / n * 1e6, r[i].hub.cpu,
               (double)r[i].hub.maxrss_kb / 1024, (double)r[i].anon_kb / 1024,
               (double)r[i].file_kb / 1024, r[i].node.cpu, r[i].merges.groups, r[i].merges.ms);
    }
    /* The hub's CPU during the sync: its start-up, the same for both, would flatter the ratio. */
    double per[2] = {r[0].hub_sync_cpu / (double)r[0].records,
                     r[1].hub_sync_cpu / (double)r[1].records};
    double ratio = per[1] / per[0];
    printf("  hub CPU per record during the sync, %s against %s records: %.2fx (over the hub's "
           "whole life: %.2fx)\n",
           bench_thousands((double)r[1].records, a),
           bench_thousands((double)r[0].records, (char[32]){0}), ratio,
           (r[1].hub.cpu / (double)r[1].records) / (r[0].hub.cpu / (double)r[0].records));
    printf("  goal ≤ %.1fx: %s (%.2fx)\n", S_GOAL_CPU, ratio <= S_GOAL_CPU ? "met" : "NOT met",
           ratio);
}

/* ---- nodes: many syncing at once ---- */

/* A burst's nodes, made once. */
typedef struct s_nodes {
    unsigned count;    /* nodes made */
    unsigned records;  /* each node's records */
    char dir[4096];    /* their parent directory */
    char (*keys)[256]; /* each one's public keys */
} s_nodes_t;

static void s_school(unsigned k, char school[16]) {
    snprintf(school, 16, "S%03u", k + 1);
}

/* Makes count nodes under scratch/nodes, each with its school, teachers and records. */
static void s_make_nodes(s_nodes_t *nodes, const char *scratch, unsigned count, unsigned records) {
    char sheet[4096], out[4096], dir[4096], school[16], name[32];
    xs_progress_t progress;
    nodes->count = count;
    nodes->records = records;
    if (!(nodes->keys = calloc(count, sizeof *nodes->keys)))
        bench_die("out of memory");
    bench_path(nodes->dir, sizeof nodes->dir, scratch, "nodes");
    if (mkdir(nodes->dir, 0700) != 0)
        bench_die("mkdir %s: %s", nodes->dir, strerror(errno));
    bench_path(sheet, sizeof sheet, scratch, "node.csv");
    bench_path(out, sizeof out, scratch, "setup.out");
    unsigned per = S_TEACHERS / count ? S_TEACHERS / count : 1;
    xs_progress_begin(&progress, "bench_county", "建节点 (making nodes)", "个 (nodes)", count);
    for (unsigned k = 0; k < count; k++) {
        bench_sheet_t rows = {records, per, 2, 0, (k * per) % S_TEACHERS};
        s_school(k, school);
        snprintf(name, sizeof name, "%u", k);
        bench_path(dir, sizeof dir, nodes->dir, name);
        if (bench_sheet_write_rows(sheet, &rows) != 0)
            bench_die("%s: %s", sheet, strerror(errno));
        bench_node_init(dir, school, nodes->keys[k], out);
        bench_node_import(dir, sheet, out);
        xs_progress_update_at(&progress, k + 1, bench_now());
    }
    xs_progress_end(&progress, count);
}

/* What a burst gave. */
typedef struct s_burst {
    unsigned nodes;
    double wall;            /* first start to last exit */
    double median, slowest; /* one node's sync, start to exit */
    double hub_cpu;         /* the hub's CPU during the burst */
    double nodes_cpu;       /* the nodes' syncs' CPU, summed */
    long hub_hwm_kb;        /* the hub's peak RSS, VmHWM just before it stops */
    long anon_kb, file_kb;  /* its heap and its store's mapped pages then */
    bench_usage_t hub;      /* the hub's whole life */
    bench_merges_t merges;  /* its log */
} s_burst_t;

/* The output of node k's sync in a burst's directory dir, into out (4096 bytes). */
static void s_sync_out(const char *dir, unsigned k, char *out) {
    char name[32];
    snprintf(name, sizeof name, "sync-%u.out", k);
    bench_path(out, 4096, dir, name);
}

/* Syncs the first n of nodes at once, at a fresh hub under scratch/name; with copy, copies of
 * them (the originals stay unsynced). */
static void s_burst(const s_nodes_t *nodes, unsigned n, int copy, const char *scratch,
                    const char *name, const char *policy, s_burst_t *r) {
    char dir[4096], path[4096], out[4096], node[4096], school[16], leaf[32];
    bench_hub_t hub;
    pid_t *pids = calloc(n, sizeof *pids);
    double *took = calloc(n, sizeof *took);
    char(*dirs)[4096] = calloc(n, sizeof *dirs);
    xs_progress_t progress;
    memset(r, 0, sizeof *r);
    r->nodes = n;
    if (!pids || !took || !dirs)
        bench_die("out of memory");
    bench_path(dir, sizeof dir, scratch, name);
    if (mkdir(dir, 0700) != 0)
        bench_die("mkdir %s: %s", dir, strerror(errno));
    bench_path(out, sizeof out, dir, "setup.out");
    bench_path(path, sizeof path, dir, "hub");
    bench_hub_init(&hub, path, policy, out);
    bench_hub_start(&hub);
    fprintf(stderr, "bench_county: %u nodes: enrolling them at a fresh hub\n", n);
    for (unsigned k = 0; k < n; k++) {
        snprintf(leaf, sizeof leaf, "%u", k);
        bench_path(node, sizeof node, nodes->dir, leaf);
        if (copy) {
            bench_path(dirs[k], sizeof dirs[k], dir, leaf);
            if (bench_copy_tree(node, dirs[k]) != 0)
                bench_die("copying %s: %s", node, strerror(errno));
        } else {
            snprintf(dirs[k], sizeof dirs[k], "%s", node);
        }
        s_school(k, school);
        bench_enroll(&hub, nodes->keys[k], school, out);
        bench_node_point(dirs[k], school, hub.endpoint, hub.keys, out);
    }

    /* All at once. */
    double cpu0 = bench_proc_cpu(hub.pid), t0 = bench_now();
    for (unsigned k = 0; k < n; k++) {
        s_sync_out(dir, k, out);
        pids[k] =
            bench_start("xueshi-node", out,
                        (const char *const[]){"sync", "--dir", dirs[k], "--timeout", "900", NULL});
    }
    xs_progress_begin(&progress, "bench_county", "同步 (syncs)", "个节点 (nodes)", n);
    unsigned done = 0;
    while (done < n) {
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, 0, &ru);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            bench_die("wait4: %s", strerror(errno));
        unsigned k = 0;
        while (k < n && pids[k] != pid)
            k++;
        if (pid == hub.pid)
            bench_die("the hub exited during the burst (status %d; see %s)", status, hub.log);
        if (k == n)
            continue; /* not a sync */
        bench_untrack(pid);
        took[k] = bench_now() - t0;
        r->nodes_cpu += (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                        (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
        pids[k] = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            bench_die("node %u's sync failed (status %d; see %s/sync-%u.out)", k, status, dir, k);
        xs_progress_update_at(&progress, ++done, bench_now());
        if (bench_now() - t0 > S_BURST_SECONDS)
            bench_die("the burst of %u nodes took over %d s", n, S_BURST_SECONDS);
    }
    r->wall = bench_now() - t0;
    r->hub_cpu = bench_proc_cpu(hub.pid) - cpu0;
    xs_progress_end(&progress, n);
    r->hub_hwm_kb = bench_proc_hwm_kb(hub.pid);
    r->anon_kb = bench_proc_status_kb(hub.pid, "RssAnon");
    r->file_kb = bench_proc_status_kb(hub.pid, "RssFile");
    bench_hub_stop(&hub, &r->hub);
    bench_merges_read(hub.log, &r->merges);
    for (unsigned k = 0; k < n; k++) {
        bench_sync_line_t sum;
        s_sync_out(dir, k, out);
        if (bench_sync_line(out, &sum) != 0 || sum.records != nodes->records ||
            sum.through != nodes->records)
            bench_die("node %u did not send its %u records (see %s)", k, nodes->records, out);
    }
    if (r->merges.records != (unsigned long long)n * nodes->records)
        bench_die("the hub merged %llu records, not %llu (see %s)", r->merges.records,
                  (unsigned long long)n * nodes->records, hub.log);
    double best;
    bench_best_median(took, n, &best, &r->median);
    r->slowest = took[n - 1];
    free(pids);
    free(took);
    free(dirs);
}

static void s_print_burst(const s_burst_t *r, unsigned records) {
    char a[32], b[32];
    double total = (double)r->nodes * records;
    printf("  %u nodes × %s records = %s: %.2f s = %s rec/s; a node's sync: median %.2f s, "
           "slowest %.2f s; hub CPU %.2f s during the burst (%.2f s in its life), the nodes' "
           "%.2f s; hub peak RSS %.1f MiB (after the burst: heap %.1f MiB, the store's mapped "
           "pages %.1f MiB); %zu group commits (%.1f batches each), merge time %.0f ms (its "
           "log)\n",
           r->nodes, bench_thousands(records, a), bench_thousands(total, b), r->wall,
           bench_thousands(total / r->wall, (char[32]){0}), r->median, r->slowest, r->hub_cpu,
           r->hub.cpu, r->nodes_cpu,
           (double)(r->hub_hwm_kb > 0 ? r->hub_hwm_kb : r->hub.maxrss_kb) / 1024,
           (double)r->anon_kb / 1024, (double)r->file_kb / 1024, r->merges.groups,
           r->merges.groups ? (double)r->merges.batches / r->merges.groups : 0, r->merges.ms);
}

static void s_many(const char *scratch, const char *policy) {
    long few = bench_env_long("XS_BENCH_FEW", S_FEW);
    long many = bench_env_long("XS_BENCH_NODES", S_NODES);
    long records = bench_env_long("XS_BENCH_NODE_RECORDS", S_NODE_RECORDS);
    s_nodes_t nodes;
    s_burst_t r[2];
    if (few > many || many > S_MAX_NODES || records > 100000)
        bench_die("XS_BENCH_FEW ≤ XS_BENCH_NODES ≤ %d, XS_BENCH_NODE_RECORDS ≤ 100000",
                  S_MAX_NODES);
    s_make_nodes(&nodes, scratch, (unsigned)many, (unsigned)records);
    s_burst(&nodes, (unsigned)few, 1, scratch, "few", policy, &r[0]);
    s_burst(&nodes, (unsigned)many, 0, scratch, "many", policy, &r[1]);
    printf("nodes: each its own school and %ld of the county's %d teachers, %ld records each, "
           "all syncing at once into a fresh hub (processes on loopback)\n",
           S_TEACHERS / many, S_TEACHERS, records);
    s_print_burst(&r[0], (unsigned)records);
    s_print_burst(&r[1], (unsigned)records);
    double rate[2] = {(double)r[0].nodes * (double)records / r[0].wall,
                      (double)r[1].nodes * (double)records / r[1].wall};
    double ratio = rate[1] / rate[0];
    printf("  aggregate records/s, %u nodes over %u: %.2fx\n", r[1].nodes, r[0].nodes, ratio);
    printf("  goal ≥ %.1fx: %s (%.2fx)\n", S_GOAL_NODES, ratio >= S_GOAL_NODES ? "met" : "NOT met",
           ratio);
    free(nodes.keys);
}

int main(int argc, char **argv) {
    char scratch[4096], policy[4096];
    const char *part = getenv("XS_BENCH_PART");
    bench_init("bench_county");
    if (part && strcmp(part, "records") != 0 && strcmp(part, "nodes") != 0)
        bench_die("XS_BENCH_PART=%s: records or nodes", part);
    bench_scratch(scratch, sizeof scratch, argc > 1 ? argv[1] : NULL, "county");
    if (bench_policy_path(policy, sizeof policy) != 0)
        bench_die("cannot find the source tree: set XS_BENCH_POLICY to a policy .ini");
    printf("bench_county: scratch %s, programs %s, policy %s\n", scratch, bench_bin(), policy);
    fflush(stdout);
    if (!part || strcmp(part, "records") == 0)
        s_records(scratch, policy);
    fflush(stdout);
    if (!part || strcmp(part, "nodes") == 0)
        s_many(scratch, policy);
    if (getenv("XS_KEEP"))
        printf("kept %s\n", scratch);
    else
        bench_remove_tree(scratch);
    return 0;
}
