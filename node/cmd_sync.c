/* xueshi-node sync and run: one sync session with the hub, or keep syncing. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"
#include "sync.h"
#include "xs/log.h"
#include "xs/service.h"
#include "xs/text.h"

#define S_SYNC_USAGE "xueshi-node sync --dir DIR [--timeout SECONDS]"
#define S_RUN_USAGE                                                                                \
    "xueshi-node run --dir DIR [--timeout SECONDS] [--relay-listen tcp://ADDR:PORT]\n"             \
    "  --relay-listen: also serve the satellite schools this central school relays for"
/* run's wait after an outcome that needs a person (protocol.md §5.1), in seconds. */
#define S_PERSON_RETRY_SECONDS 300

/* Where s_report and s_plan say things: NULL prints to stdout for the operator (sync); else
 * the events of run, about this school. */
static const char *s_event_who;

/* One line of a report: printed, or under run an event. */
__attribute__((format(printf, 1, 2))) static void s_say(const char *fmt, ...) {
    char line[XS_EVENT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s_event_who)
        xs_event(XS_SEV_INFO, s_event_who, "%s", line);
    else
        printf("%s\n", line);
}

/* Says what a session did, for the operator and the log. */
static void s_report(const node_sync_result_t *r, xs_err err) {
    char when[32] = "";
    if (!s_event_who) { /* an event has its own timestamp */
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S ", &tm);
    }
    s_say("%s同步%s (sync %s): 发送 %llu 批 %llu 条 (sent)，对方已收到至序号 %llu / 本地 %llu "
          "(peer holds through / sealed)，县里已确认至序号 %llu (hub confirmed)，回执 %llu 份 "
          "(receipts)，%d 个来回 (round trips)%s",
          when, err == XS_OK ? "完成" : "未完成", err == XS_OK ? "done" : "incomplete",
          (unsigned long long)r->sent_batches, (unsigned long long)r->sent_records,
          (unsigned long long)r->have_through, (unsigned long long)r->head_seq,
          (unsigned long long)r->confirmed_through, (unsigned long long)r->receipts, r->round_trips,
          r->rejected ? "，有被拒收的记录 (some rejected)" : "");
    if (r->relay_held)
        s_say("  其中 %llu 批由中心校暂存，待转交县里 (%llu batches held by the relay, not yet "
              "confirmed by the hub)",
              (unsigned long long)r->relay_held, (unsigned long long)r->relay_held);
    if (r->satellites)
        s_say("  代管 %u 所卫星校：转交 %llu 批 %llu 条 (relayed for %u satellites)", r->satellites,
              (unsigned long long)r->relayed_batches, (unsigned long long)r->relayed_records,
              r->satellites);
    if (r->staff_version)
        s_say("  教师花名册已更新 (teacher roster updated): 第 %u 版，本节点 %u 名教师 (version "
              "%u, %u teachers)",
              r->staff_version, r->staff_count, r->staff_version, r->staff_count);
    if (r->staff_relayed)
        s_say("  为 %u 所卫星校取得新的教师花名册 (new roster parts for %u satellites)",
              r->staff_relayed, r->staff_relayed);
    fflush(stdout);
}

node_sync_outcome_t node_sync_outcome(xs_err err) {
    switch (err) {
    case XS_OK:
        return (node_sync_outcome_t){0, 0, NULL};
    case XS_ETIMEOUT: /* unreachable, silent, or the link broke during the handshake */
    case XS_ENET:     /* a network failure; the hub's admission check failed for now */
        return (node_sync_outcome_t){
            XS_EXIT_OFFLINE, 0,
            "连不上县级中心：请检查网络，稍后再同步；没有网络时可用 U盘 带数据去县里 (the hub "
            "cannot be reached: check the network and try again, or use a USB bundle)"};
    case XS_EAGAIN: /* ERROR or ACK `internal`: the hub's disk is full, or the like */
        return (node_sync_outcome_t){
            XS_EXIT_OFFLINE, 0,
            "县级中心暂时出错，请稍后再试 (the hub failed for now: try again later)"};
    case XS_EREFUSED: /* the hub refused our key at the handshake: not enrolled or revoked */
    case XS_EPERM:    /* ERROR or ACK revoked, unknown, wrong_origin */
        return (node_sync_outcome_t){XS_EXIT_REFUSED, 1,
                                     "请县级管理员为本节点登记或恢复登记 (ask the county to "
                                     "enroll this node, or to enroll it again)"};
    case XS_EFORK:
        return (node_sync_outcome_t){XS_EXIT_FORK, 1,
                                     "请县级管理员处理分叉 (the county must look at the fork)"};
    case XS_ECRYPTO: /* wrong hub key (handshake), or ACK bad_signature */
        return (node_sync_outcome_t){
            XS_EXIT_REFUSED, 1,
            "请核对县级中心公钥 (init --hub-key)，或请县级管理员核对本节点的登记 (check the "
            "hub key this node holds, or ask the county to check this node's enrollment)"};
    case XS_EVERSION:
        return (node_sync_outcome_t){1, 1,
                                     "本节点与县级中心的软件版本不兼容，请升级 (this node's "
                                     "software and the hub's do not match: update)"};
    case XS_EMALFORMED: /* ERROR or ACK malformed, too_big: a bug, or a damaged batch */
    case XS_ETOOBIG:
        return (node_sync_outcome_t){1, 1,
                                     "本节点与县级中心之间的数据无法读取，请联系技术支持 (data "
                                     "between this node and the hub does not parse: contact "
                                     "support)"};
    case XS_ENOTFOUND:
        return (node_sync_outcome_t){1, 1,
                                     "请用 xueshi-node init --hub --hub-key 设置县级中心 (set "
                                     "the hub with xueshi-node init --hub --hub-key)"};
    default: /* trouble here that may pass: disk full, store busy */
        return (node_sync_outcome_t){1, 0,
                                     "同步未完成，请稍后再试；仍不行请联系技术支持 (not done: try "
                                     "again later, else contact support)"};
    }
}

xs_err node_timeout_ms(const char *text, int *ms) {
    uint64_t seconds = 30;
    if (text &&
        (xs_text_parse_fixed(text, strlen(text), 0, 86400, &seconds) != XS_OK || seconds == 0)) {
        fprintf(stderr, "xueshi-node: --timeout 应为 1..86400 秒 (seconds)\n");
        return XS_EINVAL;
    }
    *ms = (int)seconds * 1000;
    return XS_OK;
}

int node_cmd_sync(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"timeout", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    int timeout_ms;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_SYNC_USAGE);
    if (node_timeout_ms(xs_cli_get(opts, nopts, "timeout"), &timeout_ms) != XS_OK)
        return 2;
    if (node_open(&node, xs_cli_get(opts, nopts, "dir")) != XS_OK)
        return 1;
    int rc = node_sync_command(&node, timeout_ms);
    node_close(&node);
    return rc;
}

int node_sync_command(node_t *node, int timeout_ms) {
    node_sync_result_t res;
    xs_err err = node_sync(node, timeout_ms, &res);
    s_report(&res, err);
    return node_sync_outcome(err).exit_code;
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

/* When run syncs next (protocol.md §5.1). Sync now; then soon after new records (or
 * satellites' batches), every 10 minutes anyway for fresh receipts, 1 s after a session cut
 * short that made progress, and with doubling back-off (2 s to 5 min) while the hub is away.
 * What needs a person (a refusal, a fork, a wrong key) is retried every 5 minutes: the county
 * may enroll the node again meanwhile. Only a node without a hub stops. */
typedef struct s_schedule {
    unsigned backoff;       /* current back-off while the hub is away, in seconds; 0: none */
    int waiting_for_person; /* 1: the last session needs a person to act first */
    double next;            /* when the next session starts, in s_now() seconds */
    uint64_t seen;          /* the last sequence number recorded when the last session ended */
} s_schedule_t;

/* What run's command line asks for. */
typedef struct s_run_args {
    const char *dir;          /* --dir: the node's directory */
    int timeout_ms;           /* --timeout: a session's limit, in milliseconds */
    const char *relay_listen; /* --relay-listen: where to serve satellites, or NULL */
} s_run_args_t;

/* Reads and checks run's options into a; 0, or the exit code after saying why. */
static int s_parse_run(int argc, char **argv, s_run_args_t *a) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"timeout", 1, NULL}, {"help", 0, NULL}, {"relay-listen", 1, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    memset(a, 0, sizeof *a);
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_RUN_USAGE);
    if (node_timeout_ms(xs_cli_get(opts, nopts, "timeout"), &a->timeout_ms) != XS_OK)
        return 2;
    a->dir = xs_cli_get(opts, nopts, "dir");
    a->relay_listen = xs_cli_get(opts, nopts, "relay-listen");
    return 0;
}

/* SIGINT and SIGTERM end run's loop after the current step. */
static void s_catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Marks the node a relay and serves its satellites at listen; says why when it cannot. */
static xs_err s_open_relay(node_relay_t **relay, node_t *node, const char *listen) {
    xs_err err = xs_store_update(node->store, s_mark_relay, NULL);
    if (err == XS_OK)
        err = node_relay_open(relay, node, listen);
    if (err != XS_OK) {
        xs_log_err(err, "无法为卫星校监听 %s (cannot serve satellites)", listen);
        return err;
    }
    xs_event(XS_SEV_NOTICE, node->school, "中心校中转运行中 (relay serving) %s", listen);
    return XS_OK;
}

/* Sets when to sync next after a session that ended with err. A relay's satellites are
 * waiting on it: it retries a missing hub more often. A session the link cut after the hub
 * acknowledged something goes on in a second; one it cut after the hub answered, in two, without
 * backing off further: a link that drops every few seconds is not a hub that is away. */
static void s_plan(s_schedule_t *s, xs_err err, const node_sync_result_t *res, int is_relay) {
    node_sync_outcome_t outcome = node_sync_outcome(err);
    unsigned most = is_relay ? 60 : 300, wait;
    int cut = (err == XS_ETIMEOUT || err == XS_ENET) && (res->acked_batches || res->relayed_acked);
    s->waiting_for_person = outcome.needs_person;
    if (s->waiting_for_person) {
        s->backoff = 0;
        wait = S_PERSON_RETRY_SECONDS;
        s_say("  %s；%u 分钟后再试 (trying again in %u minutes)", outcome.advice, wait / 60,
              wait / 60);
        fflush(stdout);
    } else {
        int answered = (err == XS_ETIMEOUT || err == XS_ENET) && res->round_trips > 0;
        if (err == XS_OK || cut || answered)
            s->backoff = 0;
        else
            s->backoff = s->backoff ? (s->backoff * 2 > most ? most : s->backoff * 2) : 2;
        wait = cut ? 1 : answered ? 2 : s->backoff ? s->backoff : 600;
    }
    s->next = s_now() + wait;
}

/* Runs one session, reports it and plans the next; XS_ENOTFOUND when a node that is no relay
 * has no hub to sync with (init must set one), and run stops. */
static xs_err s_sync_once(node_t *node, node_relay_t *relay, int timeout_ms, s_schedule_t *s) {
    node_sync_result_t res;
    xs_err err = node_sync(node, timeout_ms, &res);
    s_report(&res, err);
    if (!relay && err == XS_ENOTFOUND)
        return err;
    s_plan(s, err, &res, relay != NULL);
    s->seen = s_last_seq(node);
    return XS_OK;
}

/* Waits a moment, serving the satellites meanwhile when a relay. */
static void s_idle(node_relay_t *relay) {
    if (relay) {
        xs_err err = node_relay_serve(relay, 200);
        if (err != XS_OK && err != XS_ETIMEOUT)
            xs_log_err(err, "卫星校服务 (serving satellites)");
    } else {
        usleep(200 * 1000);
    }
}

/* New work: sync within a couple of seconds; within ten while the hub is away; not early
 * while a person must act first. */
static void s_notice_new(s_schedule_t *s, node_t *node, node_relay_t *relay) {
    int fresh = (relay && node_relay_take_new(relay)) || s_last_seq(node) != s->seen;
    double soon = s_now() + (s->backoff ? 10 : 2);
    if (fresh && !s->waiting_for_person && s->next > soon)
        s->next = soon;
}

int node_cmd_run(int argc, char **argv) {
    s_run_args_t args;
    node_t node;
    node_relay_t *relay = NULL;
    s_schedule_t sched = {0};
    int rc = s_parse_run(argc, argv, &args);
    if (rc != 0)
        return rc;
    s_catch_signals();
    if (node_open(&node, args.dir) != XS_OK)
        return 1;
    /* From here on, every line is an event about this school: timestamped, to the journal
     * under systemd. */
    s_event_who = node.school;
    xs_event_capture(node.school);
    if (args.relay_listen && s_open_relay(&relay, &node, args.relay_listen) != XS_OK) {
        node_close(&node);
        return 1;
    }
    xs_event(XS_SEV_NOTICE, node.school, "节点运行中 (node running)%s",
             relay ? "，并为卫星校中转 (relaying for satellites)" : "");
    xs_service_ready(relay ? "节点运行中，并为卫星校中转 (node running, relaying)"
                           : "节点运行中 (node running)");
    while (!s_stop) {
        /* The watchdog's pings: this loop turns every 200 ms, and a session lasts at most
         * --timeout (WatchdogSec= must exceed it). */
        xs_service_watchdog();
        if (s_now() >= sched.next && s_sync_once(&node, relay, args.timeout_ms, &sched) != XS_OK) {
            rc = 1;
            break;
        }
        s_idle(relay);
        s_notice_new(&sched, &node, relay);
    }
    xs_service_stopping();
    node_relay_close(&relay);
    xs_event(XS_SEV_NOTICE, node.school, "节点已停止 (node stopped)");
    xs_event_capture_end();
    s_event_who = NULL;
    node_close(&node);
    return rc;
}
