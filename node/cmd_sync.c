/* xueshi-node sync and run: one sync session with the hub, or keep syncing. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sync.h"
#include "xs/text.h"

#define S_SYNC_USAGE "xueshi-node sync --dir DIR [--timeout SECONDS]"
#define S_RUN_USAGE "xueshi-node run --dir DIR [--timeout SECONDS]"

/* Prints one line about a session, for the operator and the log. */
static void s_report(const node_sync_result_t *r, xs_err err) {
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s 同步%s (sync %s): 发送 %llu 批 %llu 条 (sent)，县里已确认至序号 %llu / 本地 %llu "
           "(hub holds through / sealed)，回执 %llu 份 (receipts)%s\n",
           when, err == XS_OK ? "完成" : "未完成", err == XS_OK ? "done" : "incomplete",
           (unsigned long long)r->sent_batches, (unsigned long long)r->sent_records,
           (unsigned long long)r->have_through, (unsigned long long)r->head_seq,
           (unsigned long long)r->receipts, r->rejected ? "，有被拒收的记录 (some rejected)" : "");
    fflush(stdout);
}

static int s_timeout_ms(const char *text, int *ms) {
    uint64_t seconds = 30;
    if (text && (xs_text_parse_fixed(text, strlen(text), 0, 86400, &seconds) != XS_OK ||
                 seconds == 0)) {
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
    if (node_args(argc, argv, opts, 3, pos, 0, &npos) != XS_OK || opts[2].value ||
        !opts[0].value)
        return node_usage(S_SYNC_USAGE);
    if (!s_timeout_ms(opts[1].value, &timeout_ms))
        return 2;
    if (node_open(&node, opts[0].value) != XS_OK)
        return 1;
    xs_err err = node_sync(&node, timeout_ms, &res);
    node_close(&node);
    s_report(&res, err);
    switch (err) {
    case XS_OK: return 0;
    case XS_ETIMEOUT: return 3;  /* unreachable: try again later */
    case XS_EREFUSED: return 4;  /* not enrolled or revoked */
    case XS_EFORK: return 5;     /* the county must look at it */
    default: return 1;
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

int node_cmd_run(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"timeout", 1, NULL}, {"help", 0, NULL}};
    const char *pos[1];
    size_t npos;
    node_t node;
    int timeout_ms;
    if (node_args(argc, argv, opts, 3, pos, 0, &npos) != XS_OK || opts[2].value ||
        !opts[0].value)
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
    /* Sync now; then soon after new records, every 10 minutes anyway for fresh receipts, and
     * with doubling back-off (2 s to 5 min) while the hub is away. */
    unsigned backoff = 0;
    while (!s_stop) {
        node_sync_result_t res;
        xs_err err = node_sync(&node, timeout_ms, &res);
        s_report(&res, err);
        if (err == XS_EREFUSED || err == XS_ENOTFOUND)
            break; /* retrying cannot help */
        backoff = err == XS_OK ? 0 : backoff ? (backoff * 2 > 300 ? 300 : backoff * 2) : 2;
        uint64_t seen = s_last_seq(&node);
        unsigned waited = 0, wait = backoff ? backoff : 600;
        while (!s_stop && waited < wait) {
            sleep(1);
            waited++;
            if (!backoff && s_last_seq(&node) != seen)
                break; /* new records: sync soon */
        }
    }
    node_close(&node);
    return 0;
}
