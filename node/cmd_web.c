/* xueshi-node web: the village operator's pages in a browser, until SIGINT or SIGTERM;
 * xueshi-node web-passwd: set the password they ask for off loopback. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"
#include "node.h"
#include "web.h"
#include "xs/http.h"
#include "xs/text.h"

#define S_USAGE                                                                                    \
    "xueshi-node web --dir DIR [--listen 127.0.0.1:8090] [--tls-cert CERT.pem --tls-key "          \
    "KEY.pem]\n"                                                                                   \
    "       (an address other than loopback needs --tls-cert, --tls-key and web-passwd)"
#define S_PASSWD_USAGE                                                                             \
    "xueshi-node web-passwd --dir DIR   (the password from the terminal or stdin)"

/* The password's file in DIR, and the shortest and longest password taken. */
#define S_PASSWD_FILE "web.passwd"
#define S_PASSWORD_MIN_CHARS 8
#define S_PASSWORD_MAX_BYTES 1024

/* Reads DIR/web.passwd into hash: XS_ENOTFOUND when there is none, XS_ECORRUPT when it does not
 * hold a password hash. */
static xs_err s_read_passwd(const char *dir, char hash[XS_PWHASH_MAX]) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, S_PASSWD_FILE) >= (int)sizeof path)
        return XS_ETOOBIG;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? XS_ENOTFOUND : errno == EACCES ? XS_EPERM : XS_EIO;
    size_t n = fread(hash, 1, XS_PWHASH_MAX - 1, f);
    fclose(f);
    hash[n] = '\0';
    while (n > 0 && (hash[n - 1] == '\n' || hash[n - 1] == '\r'))
        hash[--n] = '\0';
    return strncmp(hash, "$argon2", 7) == 0 ? XS_OK : XS_ECORRUPT;
}

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
    if (xs_http_listen_parse(listen, &loopback) != XS_OK) {
        fprintf(stderr,
                "xueshi-node web: 监听地址 \"%s\" 应写作 地址:端口，如 127.0.0.1:8090、"
                "0.0.0.0:8443 (listen address must be HOST:PORT)\n",
                listen);
        return 2;
    }
    if (!cert != !key) {
        fprintf(stderr, "xueshi-node web: --tls-cert 与 --tls-key 须同时给出 (give both)\n");
        return 2;
    }
    xs_err err = loopback ? XS_ENOTFOUND : s_read_passwd(dir, hash);
    if (!loopback && (!cert || err != XS_OK)) {
        fprintf(
            stderr,
            "xueshi-node web: 拒绝在 %s 上启动：本机以外的地址须使用 HTTPS（--tls-cert 证书.pem "
            "--tls-key 私钥.pem）并设置登录密码（xueshi-node web-passwd --dir %s）%s "
            "(refused: an address other than loopback needs HTTPS and a password%s)\n",
            listen, dir,
            !cert                 ? "；未给出证书"
            : err == XS_ENOTFOUND ? "；尚未设置密码"
                                  : "；密码文件无法读取",
            !cert                 ? ": no certificate given"
            : err == XS_ENOTFOUND ? ": no password set"
                                  : ": the password file is unreadable");
        return 2;
    }
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
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    printf("界面已停止 (UI stopped)\n");
    rc = 0;
out:
    node_web_stop(&web);
    node_close(&node);
    explicit_bzero(hash, sizeof hash);
    return rc;
}

/* Reads one line (without its end) of at most cap - 1 bytes from f into out, with echo off
 * when f is a terminal. -1 at end of input or when the line is too long. */
static int s_read_line(FILE *f, char *out, size_t cap, int tty) {
    struct termios old, quiet;
    int echo_off = tty && tcgetattr(fileno(f), &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(f), TCSAFLUSH, &quiet);
    }
    char *got = fgets(out, (int)cap, f);
    if (echo_off) {
        tcsetattr(fileno(f), TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return -1;
    size_t n = strlen(out);
    if (n == cap - 1 && out[n - 1] != '\n')
        return -1;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return (int)n;
}

/* Characters (code points) of valid UTF-8 text. */
static size_t s_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Writes hash to DIR/web.passwd: a temporary file (0600), synced, renamed over it. */
static xs_err s_write_passwd(const char *dir, const char *hash) {
    char path[4096], tmp[4200];
    if (snprintf(path, sizeof path, "%s/%s", dir, S_PASSWD_FILE) >= (int)sizeof path)
        return XS_ETOOBIG;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EACCES ? XS_EPERM : XS_EIO;
    size_t len = strlen(hash);
    xs_err err = XS_OK;
    if (fchmod(fd, 0600) != 0 || write(fd, hash, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
        err = errno == ENOSPC ? XS_EFULL : XS_EIO;
    if (err == XS_OK && fsync(fd) != 0)
        err = XS_EIO;
    if (close(fd) != 0 && err == XS_OK)
        err = XS_EIO;
    if (err == XS_OK && rename(tmp, path) != 0)
        err = XS_EIO;
    if (err != XS_OK) {
        unlink(tmp);
        return err;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return XS_OK;
}

int node_cmd_web_passwd(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    char password[S_PASSWORD_MAX_BYTES + 2], again[S_PASSWORD_MAX_BYTES + 2];
    char hash[XS_PWHASH_MAX];
    int rc = 1;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_PASSWD_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    node_close(&node);
    int tty = isatty(STDIN_FILENO);
    if (tty)
        fprintf(stderr, "网页界面新密码 (new password for the web UI, user admin): ");
    int n = s_read_line(stdin, password, sizeof password, tty);
    if (n >= 0 && tty) {
        fprintf(stderr, "再输入一次 (again): ");
        int m = s_read_line(stdin, again, sizeof again, tty);
        if (m != n || strcmp(again, password) != 0) {
            fprintf(stderr, "xueshi-node web-passwd: 两次输入的密码不同，未更改 (the two entries "
                            "differ; nothing changed)\n");
            rc = 2;
            goto out;
        }
    }
    if (n < 0 || !xs_text_utf8_valid(password, (size_t)n) ||
        s_chars(password) < S_PASSWORD_MIN_CHARS) {
        fprintf(stderr,
                "xueshi-node web-passwd: 密码至少 %d 个字符、至多 %d 字节，未更改 (the password "
                "needs %d characters or more, %d bytes at most; nothing changed)\n",
                S_PASSWORD_MIN_CHARS, S_PASSWORD_MAX_BYTES, S_PASSWORD_MIN_CHARS,
                S_PASSWORD_MAX_BYTES);
        rc = 2;
        goto out;
    }
    err = xs_identity_pwhash(password, (size_t)n, hash);
    if (err == XS_OK)
        err = s_write_passwd(dir, hash);
    if (err != XS_OK) {
        xs_log_err(err, "写入 %s/%s (writing the password file)", dir, S_PASSWD_FILE);
        goto out;
    }
    printf("网页界面密码已设置 (password set): %s/%s，用户名 (user) admin；"
           "重新启动 xueshi-node web 后生效 (takes effect when web restarts)\n",
           dir, S_PASSWD_FILE);
    rc = 0;
out:
    explicit_bzero(password, sizeof password);
    explicit_bzero(again, sizeof again);
    explicit_bzero(hash, sizeof hash);
    return rc;
}
