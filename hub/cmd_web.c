/* xueshi-hub web: the county dashboard, a read-only process beside `run`, until SIGINT or
 * SIGTERM; xueshi-hub web-passwd: set the admin password it asks for off loopback. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "web.h"
#include "xs/http.h"
#include "xs/webauth.h"

#define S_USAGE                                                                                    \
    "xueshi-hub web --dir DIR [--listen 127.0.0.1:8080] [--tls-cert CERT.pem --tls-key "           \
    "KEY.pem]\n"                                                                                   \
    "       (an address other than loopback needs --tls-cert, --tls-key and web-passwd)"
#define S_PASSWD_USAGE "xueshi-hub web-passwd --dir DIR   (the password from the terminal or stdin)"

/* The query of the request being answered, for the pages. */
static const char *s_param(void *ctx, const char *name) {
    return xs_http_query(ctx, name);
}

/* Answers one request with its page (hub_web_serve), on the connection's thread. */
static void s_handle(void *ctx, xs_http_request_t *req) {
    hub_web_t *web = ctx;
    hub_web_page_t page;
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
        .ctx = web,
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
    printf("县级看板运行中 (dashboard serving) %s://%.*s:%u/ 只读 (read-only)%s\n",
           cert ? "https" : "http", (int)(colon - listen), listen, xs_http_port(http),
           loopback ? "" : "，须登录 (login required: user admin)");
    fflush(stdout);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    printf("县级看板已停止 (dashboard stopped)\n");
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
