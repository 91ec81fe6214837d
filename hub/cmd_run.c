/* xueshi-hub run: serve nodes over CURVE-encrypted ZeroMQ until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "credit.h"
#include "hub.h"
#include "merge.h"
#include "serve.h"
#include "xs/log.h"
#include "xs/progress.h"
#include "xs/service.h"

#define S_USAGE "xueshi-hub run --dir DIR --listen tcp://ADDR:PORT"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig) {
    (void)sig;
    s_stop = 1;
}

/* hub_recertify's progress, as a progress line; total is known at the first call. */
static void s_progress(void *ctx, size_t done, size_t total) {
    xs_progress_t *p = ctx;
    if (p->total == 0)
        xs_progress_begin(p, "xueshi-hub", "建立认定状态 (building the certification state)",
                          "位教师 (teachers)", total);
    xs_progress_update(p, done);
}

static xs_err s_rebuild_step(xs_txn_t *txn, void *ctx) {
    hub_t *hub = ((void **)ctx)[0];
    hub_recertify_stats_t stats;
    return hub_recertify(hub, txn, s_progress, ((void **)ctx)[1], &stats);
}

/* A store written by a release before the certification state (docs/scale.md) gets it built
 * once, with progress, before any node is served: not inside a node's first merge. */
static xs_err s_prepare(hub_t *hub) {
    xs_txn_t *txn = NULL;
    xs_progress_t progress;
    int ready = 0;
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK)
        err = hub_credit_ready(txn, hub->policy_hash, &ready);
    xs_store_end(&txn);
    if (err != XS_OK || ready)
        return err;
    memset(&progress, 0, sizeof progress);
    void *ctx[2] = {hub, &progress};
    err = xs_store_update(hub->store, s_rebuild_step, ctx);
    if (progress.total)
        xs_progress_end(&progress, progress.total);
    if (err == XS_OK)
        xs_event(XS_SEV_NOTICE, NULL, "认定状态已建立 (certification state built)");
    return err;
}

int hub_cmd_run(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"listen", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    hub_t hub;
    hub_serve_t *serve = NULL;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "listen"))
        return hub_usage(S_USAGE);
    const char *listen = xs_cli_get(opts, nopts, "listen");
    /* From here on, every line is an event: timestamped, to the journal under systemd. */
    xs_event_capture(NULL);
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), HUB_OPEN_KEYS) != XS_OK)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    xs_err err = s_prepare(&hub);
    if (err != XS_OK) {
        xs_log_err(err, "无法建立认定状态 (cannot build the certification state)");
        hub_close(&hub);
        return 1;
    }
    err = hub_serve_open(&serve, &hub, listen);
    if (err != XS_OK) {
        xs_log_err(err, "无法监听 %s (cannot listen)", listen);
        hub_close(&hub);
        return 1;
    }
    char status[256];
    snprintf(status, sizeof status, "县级中心运行中 (hub serving) %s，认定规则 %s 第 %u 版",
             hub_serve_endpoint(serve), hub.policy->id, hub.policy->version);
    xs_event(XS_SEV_NOTICE, NULL, "%s", status);
    xs_service_ready(status);
    hub_serve_run(serve, &s_stop);
    xs_event(XS_SEV_NOTICE, NULL, "县级中心已停止 (hub stopped)");
    hub_serve_close(&serve);
    hub_close(&hub);
    return 0;
}
