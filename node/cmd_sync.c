/* xueshi-node sync and run: one sync session with the hub, or keep syncing. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"
#include "sync.h"
#include "xs/text.h"

#define S_SYNC_USAGE "xueshi-node sync --dir DIR [--timeout SECONDS]"
#define S_RUN_USAGE                                                                                \
    "xueshi-node run --dir DIR [--timeout SECONDS] [--relay-listen tcp://ADDR:PORT]\n"             \
    "  --relay-listen: also serve the satellite schools this central school relays for"

/* Prints one line about a session, for the operator and the log. */
static void s_report(const node_sync_result_t *r, xs_err err) {
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s 同步%s (sync %s): 发送 %llu 批 %llu 条 (sent)，对方已收到至序号 %llu / 本地 %llu "
           "(peer holds through / sealed)，县里已确认至序号 %llu (hub confirmed)，回执 %llu 份 "
           "(receipts)，%d 个来回 (round trips)%s\n",
           when, err == XS_OK ? "完成" : "未完成", err == XS_OK ? "done" : "incomplete",
           (unsigned long long)r->sent_batches, (unsigned long long)r->sent_records,
           (unsigned long long)r->have_through, (unsigned long long)r->head_seq,
           (unsigned long long)r->confirmed_through, (unsigned long long)r->receipts,
           r->round_trips, r->rejected ? "，有被拒收的记录 (some rejected)" : "");
    if (r->relay_held)
        printf("  其中 %llu 批由中心校暂存，待转交县里 (%llu batches held by the relay, not yet "
               "confirmed by the hub)\n",
               (unsigned long long)r->relay_held, (unsigned long long)r->relay_held);
    if (r->satellites)
        printf("  代管 %u 所卫星校：转交 %llu 批 %llu 条 (relayed for %u satellites)\n",
               r->satellites, (unsigned long long)r->relayed_batches,
               (unsigned long long)r->relayed_records, r->satellites);
    fflush(stdout);
}

static int s_timeout_ms(const char *text, int *ms) {
    uint64_t seconds = 30;
    if (text &&
        (xs_text_parse_fixed(text, strlen(text), 0, 86400, &seconds) != XS_OK || seconds == 0)) {
        fprintf(stderr, "xueshi-node: --timeout 应为 1..86400 秒 (seconds)\n");
        return 0;
    }
    *ms = (int)seconds * 1000;
    return 1;
}

int node_cmd_sync(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"timeout", 1, NULL}, {"help", 0, NULL}};
    const char *pos[1];
    size_t npos;
    node_t node;
    node_sync_result_t res;
    int timeout_ms;
    if (node_args(argc, argv, opts, 3, pos, 0, &npos) != XS_OK || opts[2].value || !opts[0].value)
        return node_usage(S_SYNC_USAGE);
    if (!s_timeout_ms(opts[1].value, &timeout_ms))
        return 2;
    if (node_open(&node, opts[0].value) != XS_OK)
        return 1;
    xs_err err = node_sync(&node, timeout_ms, &res);
    node_close(&node);
    s_report(&res, err);
    switch (err) {
    case XS_OK:
        return 0;
    case XS_ETIMEOUT:
        return 3;     /* unreachable: try again later */
    case XS_EREFUSED: /* the handshake was refused: not enrolled or revoked */
    case XS_EPERM:    /* the hub says revoked, unknown, or not ours to send */
        return 4;
    case XS_EFORK:
        return 5; /* the county must look at it */
    default:
        return 1;
    }
}

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig) {
    (void)sig;
    s_stop = 1;
}

/* The last sequence number recorded, to notice new records. */
static uint64_t s_last_seq(node_t *node) {
    xs_txn_t *txn = NULL;
    uint64_t seq = 1;
    if (xs_store_read(node->store, &txn) == XS_OK && node_next_seq(txn, &seq) != XS_OK)
        seq = 1;
    xs_store_end(&txn);
    return seq - 1;
}

/* Marks the node as a relay, so its syncs carry its satellites' batches too. */
static xs_err s_mark_relay(xs_txn_t *txn, void *ctx) {
    (void)ctx;
    return node_meta_put(txn, NODE_META_RELAY, "1", 1);
}

static double s_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int node_cmd_run(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"timeout", 1, NULL}, {"help", 0, NULL}, {"relay-listen", 1, NULL}};
    const char *pos[1];
    size_t npos;
    node_t node;
    node_relay_t *relay = NULL;
    int timeout_ms, rc = 0;
    if (node_args(argc, argv, opts, 4, pos, 0, &npos) != XS_OK || opts[2].value || !opts[0].value)
        return node_usage(S_RUN_USAGE);
    if (!s_timeout_ms(opts[1].value, &timeout_ms))
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (node_open(&node, opts[0].value) != XS_OK)
        return 1;
    if (opts[3].value) {
        xs_err err = xs_store_update(node.store, s_mark_relay, NULL);
        if (err == XS_OK)
            err = node_relay_open(&relay, &node, opts[3].value);
        if (err != XS_OK) {
            xs_log_err(err, "无法为卫星校监听 %s (cannot serve satellites)", opts[3].value);
            node_close(&node);
            return 1;
        }
        printf("中心校中转运行中 (relay serving) %s\n", opts[3].value);
        fflush(stdout);
    }
    /* Sync now; then soon after new records (or satellites' batches), every 10 minutes anyway
     * for fresh receipts, 1 s after a session cut short that made progress, and with doubling
     * back-off (2 s to 5 min) while the hub is away. */
    unsigned backoff = 0;
    double next = 0;
    uint64_t seen = 0;
    while (!s_stop) {
        if (s_now() >= next) {
            node_sync_result_t res;
            xs_err err = node_sync(&node, timeout_ms, &res);
            s_report(&res, err);
            if (!relay && (err == XS_EREFUSED || err == XS_EPERM || err == XS_ENOTFOUND)) {
                rc = 1;
                break; /* retrying cannot help */
            }
            /* A relay's satellites are waiting on it: it retries a missing hub more often. A
             * session the link cut after the hub acknowledged something goes on in a second. */
            unsigned most = relay ? 60 : 300;
            int cut =
                (err == XS_ETIMEOUT || err == XS_ENET) && (res.acked_batches || res.relayed_acked);
            backoff = err == XS_OK || cut ? 0
                      : backoff           ? (backoff * 2 > most ? most : backoff * 2)
                                          : 2;
            next = s_now() + (cut ? 1 : backoff ? backoff : 600);
            seen = s_last_seq(&node);
        }
        if (relay) {
            xs_err err = node_relay_serve(relay, 200);
            if (err != XS_OK && err != XS_ETIMEOUT)
                xs_log_err(err, "卫星校服务 (serving satellites)");
        } else {
            usleep(200 * 1000);
        }
        /* New work: sync within a couple of seconds; within ten while the hub is away. */
        int fresh = (relay && node_relay_take_new(relay)) || s_last_seq(&node) != seen;
        double soon = s_now() + (backoff ? 10 : 2);
        if (fresh && next > soon)
            next = soon;
    }
    node_relay_close(&relay);
    node_close(&node);
    return rc;
}
