/* xueshi-hub web: the county dashboard, a read-only process beside `run`, with /metrics
 * (Prometheus) and /healthz, until SIGINT or SIGTERM; xueshi-hub web-passwd: set the admin
 * password it asks for off loopback. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub.h"
#include "metrics.h"
#include "web.h"
#include "xs/http.h"
#include "xs/log.h"
#include "xs/service.h"
#include "xs/webauth.h"

/* Largest /metrics answer, in bytes: a county's nodes take a line each. */
#define S_METRICS_MAX ((size_t)8 << 20)
/* The main thread's longest wait for a signal, in milliseconds, between watchdog pings. */
#define S_TURN_MS 1000

/* What the request handler serves: the dashboard's pages, and the hub for /metrics and
 * /healthz. */
typedef struct s_server {
    hub_web_t *web;
    hub_t *hub;
} s_server_t;

#define S_USAGE                                                                                    \
    "xueshi-hub web --dir DIR [--listen 127.0.0.1:8080] [--tls-cert CERT.pem --tls-key "           \
    "KEY.pem]\n"                                                                                   \
    "       (an address other than loopback needs --tls-cert, --tls-key and web-passwd)"
#define S_PASSWD_USAGE "xueshi-hub web-passwd --dir DIR   (the password from the terminal or stdin)"

/* The query of the request being answered, for the pages. */
static const char *s_param(void *ctx, const char *name) {
    return xs_http_query(ctx, name);
}

/* Answers with a small text body. */
static void s_text(xs_http_request_t *req, unsigned status, const char *content_type,
                   xs_writer_t *body) {
    void *bytes = body->data;
    body->data = NULL;
    xs_err err = xs_http_respond(req, status, content_type, &bytes, body->len);
    if (err != XS_OK)
        xs_log_err(err, "web: %s", xs_http_path(req));
    xs_writer_free(body);
}

/* /metrics: the hub's counters in Prometheus text format 0.0.4 (hub_metrics_render).
 *
 * Who may read it: whoever may read the dashboard, by the same rule, since the server asks
 * every request alike. On loopback (the default listen) nothing is asked: a Prometheus on the
 * hub's own machine scrapes it as it is. Anywhere else the server runs only with TLS and the
 * admin password (xs_webauth_check), and asks HTTP Basic credentials on every request,
 * /metrics included: a Prometheus on another host scrapes over https with basic_auth
 * (username admin, the web-passwd password). No cookie or session is involved either way. */
static void s_metrics(s_server_t *srv, xs_http_request_t *req) {
    xs_writer_t body;
    xs_writer_init(&body, S_METRICS_MAX);
    xs_err err = hub_metrics_render(srv->hub, (int64_t)time(NULL), &body);
    if (err != XS_OK) {
        xs_log_err(err, "web: /metrics");
        xs_writer_reset(&body);
        xs_writer_raw(&body, "store unreadable\n", 17);
        s_text(req, 503, "text/plain; charset=utf-8", &body);
        return;
    }
    s_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", &body);
}

/* /healthz: 200 "ok" when the store opens a snapshot and reads, else 503. */
static void s_health(s_server_t *srv, xs_http_request_t *req) {
    xs_writer_t body;
    xs_writer_init(&body, 256);
    xs_err err = hub_metrics_health(srv->hub);
    if (err == XS_OK)
        xs_writer_raw(&body, "ok\n", 3);
    else
        xs_writer_raw(&body, "store unreadable\n", 17);
    s_text(req, err == XS_OK ? 200 : 503, "text/plain; charset=utf-8", &body);
}

/* Answers one request with its page (hub_web_serve), or /metrics and /healthz, on the
 * connection's thread. */
static void s_handle(void *ctx, xs_http_request_t *req) {
    s_server_t *srv = ctx;
    hub_web_t *web = srv->web;
    hub_web_page_t page;
    if (strcmp(xs_http_path(req), "/metrics") == 0) {
        s_metrics(srv, req);
        return;
    }
    if (strcmp(xs_http_path(req), "/healthz") == 0) {
        s_health(srv, req);
        return;
    }
    if (hub_web_serve(web, xs_http_path(req), s_param, req, &page) != XS_OK) {
        hub_web_page_free(&page);
        return; /* the server answers 500 */
    }
    xs_err err = XS_OK;
    if (page.fd >= 0) {
        if (page.disposition[0])
            err = xs_http_header_add(req, "Content-Disposition", page.disposition);
        if (err == XS_OK)
            err = xs_http_respond_file(req, page.status, page.content_type, &page.fd);
    } else {
        void *body = page.body.data;
        page.body.data = NULL;
        err = xs_http_respond(req, page.status, page.content_type, &body, page.body.len);
    }
    if (err != XS_OK) /* the server answers 500 */
        xs_log_err(err, "web: %s", xs_http_path(req));
    hub_web_page_free(&page);
}

int hub_cmd_web(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},
                           {"listen", 1, NULL},
                           {"tls-cert", 1, NULL},
                           {"tls-key", 1, NULL},
                           {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    hub_t hub;
    hub_web_t *web = NULL;
    xs_http_t *http = NULL;
    char hash[XS_PWHASH_MAX];
    int loopback = 0, rc = 1;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    const char *listen = xs_cli_get(opts, nopts, "listen");
    const char *cert = xs_cli_get(opts, nopts, "tls-cert");
    const char *key = xs_cli_get(opts, nopts, "tls-key");
    if (!listen)
        listen = XS_HTTP_LISTEN_DEFAULT;
    xs_event_capture(NULL);
    int refused = xs_webauth_check("xueshi-hub web", dir, listen, cert, key, &loopback, hash);
    if (refused)
        return refused;
    xs_err err;
    if (hub_open(&hub, dir, 0) != XS_OK)
        return 1;
    /* Keys: the certificates it serves carry receipts signed when they are made. */
    if ((err = xs_identity_load(&hub.id, dir, "hub")) != XS_OK) {
        xs_log_err(err, "县级中心密钥 %s/hub.secret (hub key)", dir);
        fprintf(stderr,
                "xueshi-hub: 看板打印的学时证明须由县级中心签名：请以能读取 %s/hub.secret 的用户"
                "运行 (the dashboard's certificates are signed by the hub: run it as a user who "
                "can read %s/hub.secret)\n",
                dir, dir);
        goto out;
    }
    if ((err = hub_web_open(&web, &hub, NULL)) != XS_OK) {
        xs_log_err(err, "看板 (dashboard): %s/hub.pub", dir);
        goto out;
    }
    s_server_t srv = {web, &hub};
    /* The server's threads inherit this mask: only the main thread takes the signals. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    xs_http_config_t config = {
        .listen = listen,
        .tls_cert = cert,
        .tls_key = key,
        .password_hash = loopback ? NULL : hash,
        .handler = s_handle,
        .ctx = &srv,
    };
    err = xs_http_start(&http, &config);
    if (err != XS_OK) {
        xs_log_err(err, "看板无法启动 (dashboard cannot start) %s%s", listen,
                   err == XS_ENET ? "：端口已被占用或地址不可用 (address in use or unavailable)"
                                  : "");
        goto out;
    }
    /* The address as given (the host part), with the port bound. */
    const char *colon = strrchr(listen, ':');
    char status[512];
    snprintf(status, sizeof status,
             "县级看板运行中 (dashboard serving) %s://%.*s:%u/ 只读 (read-only)%s",
             cert ? "https" : "http", (int)(colon - listen), listen, xs_http_port(http),
             loopback ? "" : "，须登录 (login required: user admin)");
    xs_event(XS_SEV_NOTICE, NULL, "%s", status);
    xs_service_ready(status);
    /* The watchdog's pings come from here, and only while the store still reads. */
    uint64_t watchdog = xs_service_watchdog_usec();
    long turn_ms = watchdog && watchdog / 4000 < S_TURN_MS ? (long)(watchdog / 4000) : S_TURN_MS;
    struct timespec turn = {turn_ms / 1000, (turn_ms % 1000) * 1000000L};
    for (;;) {
        if (hub_metrics_health(&hub) == XS_OK)
            xs_service_watchdog();
        if (sigtimedwait(&stop, NULL, &turn) >= 0)
            break;
    }
    xs_service_stopping();
    xs_event(XS_SEV_NOTICE, NULL, "县级看板已停止 (dashboard stopped)");
    rc = 0;
out:
    xs_http_stop(&http);
    hub_web_close(&web);
    hub_close(&hub);
    explicit_bzero(hash, sizeof hash);
    return rc;
}

int hub_cmd_web_passwd(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    hub_t hub;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_PASSWD_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    if (hub_open(&hub, dir, 0) != XS_OK)
        return 1;
    hub_close(&hub);
    return xs_webauth_passwd("xueshi-hub web", dir);
}
