/* xueshi-node web: the village operator's pages in a browser, until SIGINT or SIGTERM;
 * xueshi-node web-passwd: set the password they ask for off loopback. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node.h"
#include "web.h"
#include "xs/http.h"
#include "xs/log.h"
#include "xs/service.h"
#include "xs/webauth.h"

/* The main thread's longest wait for a signal, in milliseconds, between watchdog pings. */
#define S_TURN_MS 1000

/* Whether the node's store still opens a snapshot: the watchdog is fed only then. */
static int s_store_reads(node_t *node) {
    xs_txn_t *txn = NULL;
    xs_err err = xs_store_read(node->store, &txn);
    xs_store_end(&txn);
    return err == XS_OK;
}

#define S_USAGE                                                                                    \
    "xueshi-node web --dir DIR [--listen 127.0.0.1:8090] [--tls-cert CERT.pem --tls-key "          \
    "KEY.pem]\n"                                                                                   \
    "       (an address other than loopback needs --tls-cert, --tls-key and web-passwd)"
#define S_PASSWD_USAGE                                                                             \
    "xueshi-node web-passwd --dir DIR   (the password from the terminal or stdin)"

int node_cmd_web(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},
                           {"listen", 1, NULL},
                           {"tls-cert", 1, NULL},
                           {"tls-key", 1, NULL},
                           {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    node_web_t *web = NULL;
    char hash[XS_PWHASH_MAX];
    int loopback = 0, rc = 1;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    const char *listen = xs_cli_get(opts, nopts, "listen");
    const char *cert = xs_cli_get(opts, nopts, "tls-cert");
    const char *key = xs_cli_get(opts, nopts, "tls-key");
    if (!listen)
        listen = NODE_WEB_LISTEN_DEFAULT;
    int refused = xs_webauth_check("xueshi-node web", dir, listen, cert, key, &loopback, hash);
    if (refused)
        return refused;
    xs_err err;
    err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    /* The server's threads inherit this mask: only the main thread takes the signals. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    node_web_config_t config = {
        .listen = listen,
        .tls_cert = cert,
        .tls_key = key,
        .password_hash = loopback ? NULL : hash,
    };
    err = node_web_start(&web, &node, &config);
    if (err != XS_OK) {
        xs_log_err(err, "界面无法启动 (the UI cannot start) %s%s", listen,
                   err == XS_ENET ? "：端口已被占用或地址不可用，请换一个端口，如 --listen "
                                    "127.0.0.1:8091 (address in use or unavailable)"
                                  : "");
        rc = err == XS_EPERM ? 2 : 1;
        goto out;
    }
    /* The address as given (the host part), with the port bound. */
    const char *colon = strrchr(listen, ':');
    printf("界面地址 (UI at): %s://%.*s:%u/\n", cert ? "https" : "http", (int)(colon - listen),
           listen, node_web_port(web));
    if (!loopback)
        printf("须登录 (login required): 用户名 (user) %s\n", XS_HTTP_USER);
    printf("请用浏览器打开上面的地址；按 Ctrl+C 停止 (open it in a browser; Ctrl+C stops)\n");
    fflush(stdout);
    /* Under a service manager: ready now, and the watchdog's pings come from this loop. */
    xs_event_capture(node.school);
    xs_event(XS_SEV_NOTICE, node.school, "界面运行中 (UI serving) %s://%.*s:%u/",
             cert ? "https" : "http", (int)(colon - listen), listen, node_web_port(web));
    xs_service_ready("界面运行中 (UI serving)");
    uint64_t watchdog = xs_service_watchdog_usec();
    long turn_ms = watchdog && watchdog / 4000 < S_TURN_MS ? (long)(watchdog / 4000) : S_TURN_MS;
    struct timespec turn = {turn_ms / 1000, (turn_ms % 1000) * 1000000L};
    for (;;) {
        if (s_store_reads(&node))
            xs_service_watchdog();
        if (sigtimedwait(&stop, NULL, &turn) >= 0)
            break;
    }
    xs_service_stopping();
    printf("界面已停止 (UI stopped)\n");
    rc = 0;
out:
    node_web_stop(&web);
    node_close(&node);
    explicit_bzero(hash, sizeof hash);
    return rc;
}

int node_cmd_web_passwd(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_PASSWD_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    node_close(&node);
    return xs_webauth_passwd("xueshi-node web", dir);
}
