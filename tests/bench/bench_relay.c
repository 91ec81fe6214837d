/* bench_relay: a central school's relay forwarding a satellite's backlog to the hub, against a
 * direct sync of the same records, and a USB bundle's bytes per record.
 *
 * Usage: bench_relay [SCRATCH_PARENT]  (default $TMPDIR or /tmp). XS_KEEP=1 keeps the scratch
 * directory; XS_BENCH_BIN=DIR takes the programs from DIR; XS_BENCH_POLICY=FILE.ini replaces
 * the source tree's baiwanzi policy. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "sheet_gen.h"
#include "xs/identity.h"
#include "xs/record.h"
#include "xs/store.h"
#include "xs/text.h"

#define S_ROWS 50000          /* records the relay forwards, and the direct sync sends */
#define S_BUNDLE_ROWS 10000   /* records of the bundle */
#define S_TEACHERS 3000       /* distinct teachers in the generated sheets */
#define S_RELAY_SCHOOL "ZX01" /* the central school */
#define S_SCHOOL "S01"        /* the satellite's school, and the direct node's */
#define S_SYNC_TIMEOUT "900"  /* seconds a sync may take */
#define S_READY_MS 10000      /* how long a hub or relay may take to start serving */
#define S_FORWARD_MS 600000   /* how long the relay may take to forward everything */
/* Bytes of a bundle that are not envelopes (protocol.md §7): the 145-byte prefix, each
 * chunk's 4-byte length and 17-byte authenticator, and the end marker's chunk. */
#define S_BUNDLE_PREFIX 145
#define S_CHUNK_OVERHEAD (4 + 17)

/* ---- the sheet: sheet_gen ------------------------------------------------------------- */

/* Writes a benchmark sheet (sheet_gen) or dies. */
static void s_write_sheet(const char *path, unsigned rows, unsigned teachers) {
    if (bench_sheet_write(path, rows, teachers, 10) != 0)
        bench_die("%s: %s", path, strerror(errno));
}

/* The last non-empty line of a text file holding marker (any line when marker is NULL),
 * without its newline, into out; returns 0 when there is none. */
static int s_find_line(const char *path, const char *marker, char *out, size_t cap) {
    char line[4096];
    int found = 0;
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t len = strlen(line);
        if (len == 0 || (marker && !strstr(line, marker)))
            continue;
        len = len < cap - 1 ? len : cap - 1;
        memcpy(out, line, len);
        out[len] = '\0';
        found = 1;
    }
    fclose(f);
    return found;
}

static void s_last_line(const char *path, char *out, size_t cap) {
    if (!s_find_line(path, NULL, out, cap))
        bench_die("%s: no output", path);
}

static double s_run(const char *program, const char *out_path, const char *const *args) {
    return bench_run(program, out_path, args, NULL);
}

/* Polls log every millisecond until it holds marker; dies after timeout_ms or when pid
 * exits first. Returns the seconds waited. */
static double s_wait_log(const char *log, const char *marker, long timeout_ms, pid_t pid) {
    char line[4096];
    double t0 = bench_now();
    while (!s_find_line(log, marker, line, sizeof line)) {
        int status = bench_reap_within(pid, 0, NULL);
        if (status != -1)
            bench_die("a program exited (status %d) before printing \"%s\" (see %s)", status,
                      marker, log);
        if ((bench_now() - t0) * 1e3 > timeout_ms)
            bench_die("no \"%s\" within %ld ms (see %s)", marker, timeout_ms, log);
        bench_sleep_ms(1);
    }
    return bench_now() - t0;
}

/* Stops a background program with SIGTERM; dies unless it exits 0. */
static void s_stop(pid_t *pid, const char *log) {
    if (!*pid)
        return;
    kill(*pid, SIGTERM);
    int status = bench_reap(*pid, NULL);
    *pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("a program did not stop cleanly (status %d; see %s)", status, log);
}

/* A loopback port nobody listens on right now. */
static unsigned s_free_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        bench_die("cannot find a free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* Starts `xueshi-hub run --dir dir --listen endpoint`, output to log; waits until it serves. */
static pid_t s_hub_start(const char *dir, const char *endpoint, const char *log) {
    pid_t pid = bench_start("xueshi-hub", log,
                            (const char *const[]){"run", "--dir", dir, "--listen", endpoint, NULL});
    s_wait_log(log, "(hub serving)", S_READY_MS, pid);
    return pid;
}

/* Starts `xueshi-node run --dir dir --relay-listen endpoint`, output to log; waits until it
 * serves satellites (its uplink starts right after). */
static pid_t s_relay_start(const char *dir, const char *endpoint, const char *log) {
    pid_t pid =
        bench_start("xueshi-node", log,
                    (const char *const[]){"run", "--dir", dir, "--relay-listen", endpoint, NULL});
    s_wait_log(log, "(relay serving)", S_READY_MS, pid);
    return pid;
}

/* New records the hub's log says it merged, summed over its merge lines. */
static unsigned long long s_merged(const char *log) {
    static bench_merges_t m; /* large: not on the stack */
    bench_merges_read(log, &m);
    return m.records;
}

/* What a sync summary line says: "发送 B 批 R 条". */
static void s_sent(const char *out_path, unsigned long long *batches, unsigned long long *records,
                   char *line, size_t cap) {
    bench_sync_line_t sum;
    if (bench_sync_line(out_path, &sum) != 0)
        bench_die("no sync summary in %s", out_path);
    *batches = sum.batches;
    *records = sum.records;
    snprintf(line, cap, "%s", sum.line);
}

/* The county policy the hub certifies with: XS_BENCH_POLICY, or the source tree's. */
static void s_policy_path(char *out, size_t cap) {
    if (bench_policy_path(out, cap) != 0)
        bench_die("cannot find the source tree: set XS_BENCH_POLICY to a policy .ini");
}

/* Initialises a hub at dir; its public keys into keys. */
static void s_hub_init(const char *dir, const char *policy, const char *out, char *keys,
                       size_t cap) {
    s_run("xueshi-hub", out, (const char *const[]){"init", "--dir", dir, "--policy", policy, NULL});
    s_last_line(out, keys, cap);
}

/* Initialises (or re-points) a node; its public keys into keys. county may be NULL. */
static void s_node_init(const char *dir, const char *school, const char *endpoint,
                        const char *peer_keys, const char *county, const char *out, char *keys,
                        size_t cap) {
    if (county)
        s_run("xueshi-node", out,
              (const char *const[]){"init", "--dir", dir, "--school", school, "--hub", endpoint,
                                    "--hub-key", peer_keys, "--county-key", county, NULL});
    else
        s_run("xueshi-node", out,
              (const char *const[]){"init", "--dir", dir, "--school", school, "--hub", endpoint,
                                    "--hub-key", peer_keys, NULL});
    s_last_line(out, keys, cap);
}

int main(int argc, char **argv) {
    char scratch[4096], sheet[4096], small_sheet[4096], policy[4096], out[4096], line[4096];
    char hub_dir[4096], hub_log[4096], relay_dir[4096], relay_log[4096], sat_dir[4096];
    char hub2_dir[4096], hub2_log[4096], direct_dir[4096], bundle_dir[4096], bundle[4096];
    char hub_keys[256], hub2_keys[256], relay_keys[256], sat_keys[256], direct_keys[256];
    char bundle_keys[256], hub_ep[64], relay_ep[64], hub2_ep[64], a[32], b[32];
    unsigned long long batches, records;
    bench_init("bench_relay");
    bench_scratch(scratch, sizeof scratch, argc > 1 ? argv[1] : NULL, "relay");
    if (xs_identity_setup() != XS_OK)
        bench_die("libsodium");
    s_policy_path(policy, sizeof policy);
    bench_path(sheet, sizeof sheet, scratch, "sheet.csv");
    bench_path(small_sheet, sizeof small_sheet, scratch, "sheet-10k.csv");
    bench_path(out, sizeof out, scratch, "setup.out");
    bench_path(hub_dir, sizeof hub_dir, scratch, "hub");
    bench_path(hub_log, sizeof hub_log, scratch, "hub.log");
    bench_path(relay_dir, sizeof relay_dir, scratch, "relay");
    bench_path(relay_log, sizeof relay_log, scratch, "relay.log");
    bench_path(sat_dir, sizeof sat_dir, scratch, "satellite");
    bench_path(hub2_dir, sizeof hub2_dir, scratch, "hub2");
    bench_path(hub2_log, sizeof hub2_log, scratch, "hub2.log");
    bench_path(direct_dir, sizeof direct_dir, scratch, "direct");
    bench_path(bundle_dir, sizeof bundle_dir, scratch, "teaching-point");
    bench_path(bundle, sizeof bundle, scratch, "teaching-point.xsb");
    s_write_sheet(sheet, S_ROWS, S_TEACHERS);
    s_write_sheet(small_sheet, S_BUNDLE_ROWS, S_TEACHERS);
    printf("bench_relay: scratch %s, programs %s, policy %s\n", scratch, bench_bin(), policy);

    /* ---- part 1: a satellite's backlog through the relay ---- */
    snprintf(hub_ep, sizeof hub_ep, "tcp://127.0.0.1:%u", s_free_port());
    snprintf(relay_ep, sizeof relay_ep, "tcp://127.0.0.1:%u", s_free_port());
    s_hub_init(hub_dir, policy, out, hub_keys, sizeof hub_keys);
    s_node_init(relay_dir, S_RELAY_SCHOOL, hub_ep, hub_keys, NULL, out, relay_keys,
                sizeof relay_keys);
    s_node_init(sat_dir, S_SCHOOL, relay_ep, relay_keys, hub_keys, out, sat_keys, sizeof sat_keys);
    s_run("xueshi-hub", out,
          (const char *const[]){"enroll", "--dir", hub_dir, "--node", relay_keys, "--school",
                                S_RELAY_SCHOOL, "--proxy-for", S_SCHOOL, NULL});
    s_run("xueshi-hub", out,
          (const char *const[]){"enroll", "--dir", hub_dir, "--node", sat_keys, "--school",
                                S_SCHOOL, NULL});
    s_run("xueshi-node", out, (const char *const[]){"import", "--dir", sat_dir, sheet, NULL});
    /* The relay takes its roster from the hub once; then the hub goes away. */
    pid_t hub = s_hub_start(hub_dir, hub_ep, hub_log);
    pid_t relay = s_relay_start(relay_dir, relay_ep, relay_log);
    s_wait_log(relay_log, "所卫星校", S_READY_MS, relay);
    s_stop(&hub, hub_log);
    bench_path(out, sizeof out, scratch, "satellite-sync.out");
    double deliver =
        s_run("xueshi-node", out,
              (const char *const[]){"sync", "--dir", sat_dir, "--timeout", S_SYNC_TIMEOUT, NULL});
    s_sent(out, &batches, &records, line, sizeof line);
    if (records != S_ROWS || !strstr(line, "县里已确认至序号 0 "))
        bench_die("the satellite's sync to the relay: %s", line);
    unsigned long long held_batches = batches;
    /* The relay now retries the absent hub with a back-off of 2 s up to 5 min; restarting it
     * when the hub is back starts its uplink at once, so the back-off is not measured. */
    s_stop(&relay, relay_log);
    char relay_log1[4096];
    bench_path(relay_log1, sizeof relay_log1, scratch, "relay-1.log");
    rename(relay_log, relay_log1);
    double t0 = bench_now();
    hub = s_hub_start(hub_dir, hub_ep, hub_log);
    double hub_up = bench_now() - t0;
    relay = s_relay_start(relay_dir, relay_ep, relay_log);
    double merged_at = 0;
    while (s_merged(hub_log) < S_ROWS) {
        if ((bench_now() - t0) * 1e3 > S_FORWARD_MS)
            bench_die("the hub merged %llu of %d records in %d s (see %s)", s_merged(hub_log),
                      S_ROWS, S_FORWARD_MS / 1000, hub_log);
        bench_sleep_ms(1);
    }
    merged_at = bench_now() - t0;
    s_wait_log(relay_log, "所卫星校", S_FORWARD_MS, relay);
    double session_at = bench_now() - t0;
    if (!s_find_line(relay_log, "所卫星校", line, sizeof line) || !strstr(line, "转交 ") ||
        sscanf(strstr(line, "转交 "), "转交 %llu 批 %llu 条", &batches, &records) != 2 ||
        records != S_ROWS)
        bench_die("the relay's uplink: %s (see %s)", line, relay_log);
    s_stop(&relay, relay_log);
    s_stop(&hub, hub_log);

    /* ---- part 2: the same records straight to a fresh hub ---- */
    snprintf(hub2_ep, sizeof hub2_ep, "tcp://127.0.0.1:%u", s_free_port());
    s_hub_init(hub2_dir, policy, out, hub2_keys, sizeof hub2_keys);
    s_node_init(direct_dir, S_SCHOOL, hub2_ep, hub2_keys, NULL, out, direct_keys,
                sizeof direct_keys);
    s_run("xueshi-hub", out,
          (const char *const[]){"enroll", "--dir", hub2_dir, "--node", direct_keys, "--school",
                                S_SCHOOL, NULL});
    s_run("xueshi-node", out, (const char *const[]){"import", "--dir", direct_dir, sheet, NULL});
    /* Sealed beforehand, as the satellite's batches were when the relay forwarded them:
     * export seals every record first (the bundle itself is thrown away). */
    char throwaway[4096];
    bench_path(throwaway, sizeof throwaway, scratch, "direct.xsb");
    double seal =
        s_run("xueshi-node", out,
              (const char *const[]){"export", "--dir", direct_dir, "--out", throwaway, NULL});
    pid_t hub2 = s_hub_start(hub2_dir, hub2_ep, hub2_log);
    bench_path(out, sizeof out, scratch, "direct-sync.out");
    double direct = s_run(
        "xueshi-node", out,
        (const char *const[]){"sync", "--dir", direct_dir, "--timeout", S_SYNC_TIMEOUT, NULL});
    s_sent(out, &batches, &records, line, sizeof line);
    if (records != S_ROWS)
        bench_die("the direct sync sent %llu records: %s", records, line);
    s_stop(&hub2, hub2_log);
    if (s_merged(hub2_log) != S_ROWS)
        bench_die("the direct hub merged %llu records (see %s)", s_merged(hub2_log), hub2_log);

    printf("relay forwarding: %s records (%llu batches, %d teachers) a satellite delivered to "
           "its relay while the hub was down:\n",
           bench_thousands(S_ROWS, a), held_batches, S_TEACHERS);
    printf("  satellite → relay, hub down (seal, send, relay verifies and stores each batch "
           "durably, ACK held by relay): %.3f s = %s rec/s\n",
           deliver, bench_thousands(S_ROWS / deliver, a));
    printf("  hub start → relay (restarted at once) forwards → all merged at the hub (its log): "
           "%.3f s = %s rec/s; relay's uplink done (satellite's %d receipts fetched and stored): "
           "%.3f s = %s rec/s (hub start-up %.0f ms of it)\n",
           merged_at, bench_thousands(S_ROWS / merged_at, a), S_TEACHERS, session_at,
           bench_thousands(S_ROWS / session_at, b), hub_up * 1e3);
    printf("direct sync: the same %s records from an identical node (sealed beforehand: %.3f s) "
           "to a fresh hub: %.3f s = %s rec/s\n",
           bench_thousands(S_ROWS, a), seal, direct, bench_thousands(S_ROWS / direct, b));
    printf("  ratio relay / direct (records/s, hub start to the relay's uplink done vs. the "
           "node's sync): %.2f\n",
           direct / session_at);

    /* ---- part 3: bytes per record on a USB stick ---- */
    s_node_init(bundle_dir, "TP01", "tcp://127.0.0.1:1", hub_keys, NULL, out, bundle_keys,
                sizeof bundle_keys);
    s_run("xueshi-node", out,
          (const char *const[]){"import", "--dir", bundle_dir, small_sheet, NULL});
    s_run("xueshi-node", out,
          (const char *const[]){"export", "--dir", bundle_dir, "--out", bundle, NULL});
    struct stat st;
    if (stat(bundle, &st) != 0)
        bench_die("%s: %s", bundle, strerror(errno));
    uint64_t envelope_count, envelope_total;
    bench_node_table(bundle_dir, "batches", &envelope_total, &envelope_count);
    size_t envelopes = (size_t)envelope_count, envelope_bytes = (size_t)envelope_total;
    size_t overhead = (size_t)st.st_size - envelope_bytes;
    printf("bundle: %s records, %zu envelopes: bundle file %lld B = %.2f B/record; sealed "
           "envelopes %zu B = %.2f B/record; the bundle adds %zu B (= %d prefix + %zu × %d per "
           "chunk + %zu end marker) = %.3f B/record\n",
           bench_thousands(S_BUNDLE_ROWS, a), envelopes, (long long)st.st_size,
           (double)st.st_size / S_BUNDLE_ROWS, envelope_bytes,
           (double)envelope_bytes / S_BUNDLE_ROWS, overhead, S_BUNDLE_PREFIX, envelopes,
           S_CHUNK_OVERHEAD, overhead - S_BUNDLE_PREFIX - envelopes * S_CHUNK_OVERHEAD,
           (double)overhead / S_BUNDLE_ROWS);

    if (getenv("XS_KEEP"))
        printf("kept %s\n", scratch);
    else
        bench_remove_tree(scratch);
    return 0;
}
