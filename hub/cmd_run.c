/* xueshi-hub run: serve nodes over CURVE-encrypted ZeroMQ until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hub.h"
#include "serve.h"

#define S_USAGE "xueshi-hub run --dir DIR --listen tcp://ADDR:PORT"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig) {
    (void)sig;
    s_stop = 1;
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
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), HUB_OPEN_KEYS) != XS_OK)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    xs_err err = hub_serve_open(&serve, &hub, listen);
    if (err != XS_OK) {
        xs_log_err(err, "无法监听 %s (cannot listen)", listen);
        hub_close(&hub);
        return 1;
    }
    printf("县级中心运行中 (hub serving) %s，认定规则 %s 第 %u 版\n", hub_serve_endpoint(serve),
           hub.policy->id, hub.policy->version);
    fflush(stdout);
    hub_serve_run(serve, &s_stop);
    printf("县级中心已停止 (hub stopped)\n");
    hub_serve_close(&serve);
    hub_close(&hub);
    return 0;
}
