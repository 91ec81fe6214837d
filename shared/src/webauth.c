/* webauth: the rules both web servers start under (the hub's dashboard, the node's pages): a
 * listen address, loopback or HTTPS with a password, and the password file web-passwd writes. */
#include "xs/webauth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "xs/cli.h"
#include "xs/http.h"
#include "xs/text.h"

#define S_PASSWD_FILE XS_WEBAUTH_FILE
#define S_PASSWORD_MIN_CHARS XS_WEBAUTH_MIN_CHARS
#define S_PASSWORD_MAX_BYTES XS_WEBAUTH_MAX_BYTES

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

int xs_webauth_check(const char *program, const char *dir, const char *listen, const char *cert,
                     const char *key, int *loopback, char hash[XS_PWHASH_MAX]) {
    if (xs_http_listen_parse(listen, loopback) != XS_OK) {
        fprintf(stderr,
                "%s: 监听地址 \"%s\" 应写作 地址:端口，如 127.0.0.1:8090、[::1]:8090、"
                "0.0.0.0:8443 (listen address must be HOST:PORT)\n",
                program, listen);
        return XS_EXIT_USAGE;
    }
    if (!cert != !key) {
        fprintf(stderr, "%s: --tls-cert 与 --tls-key 须同时给出 (give both)\n", program);
        return XS_EXIT_USAGE;
    }
    if (*loopback)
        return 0;
    xs_err err = s_read_passwd(dir, hash);
    if (cert && err == XS_OK)
        return 0;
    fprintf(stderr,
            "%s: 拒绝在 %s 上启动：本机回环地址以外须使用 HTTPS（--tls-cert 证书.pem --tls-key "
            "私钥.pem）并设置登录密码（%s-passwd --dir %s）%s (refused: an address other than "
            "loopback needs HTTPS and a password%s)\n",
            program, listen, program, dir,
            !cert                 ? "；未给出证书"
            : err == XS_ENOTFOUND ? "；尚未设置密码"
                                  : "；密码文件无法读取",
            !cert                 ? ": no certificate given"
            : err == XS_ENOTFOUND ? ": no password set"
                                  : ": the password file is unreadable");
    return XS_EXIT_USAGE;
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

int xs_webauth_passwd(const char *program, const char *dir) {
    char password[S_PASSWORD_MAX_BYTES + 2], again[S_PASSWORD_MAX_BYTES + 2];
    char hash[XS_PWHASH_MAX];
    int rc = XS_EXIT_FAIL;
    int tty = isatty(STDIN_FILENO);
    if (tty)
        fprintf(stderr, "网页登录新密码 (new web password, user %s): ", XS_HTTP_USER);
    int n = s_read_line(stdin, password, sizeof password, tty);
    if (n >= 0 && tty) {
        fprintf(stderr, "再输入一次 (again): ");
        int m = s_read_line(stdin, again, sizeof again, tty);
        if (m != n || strcmp(again, password) != 0) {
            fprintf(stderr,
                    "%s-passwd: 两次输入的密码不同，未更改 (the two entries differ; nothing "
                    "changed)\n",
                    program);
            rc = XS_EXIT_USAGE;
            goto out;
        }
    }
    if (n < 0 || !xs_text_utf8_valid(password, (size_t)n) ||
        s_chars(password) < S_PASSWORD_MIN_CHARS) {
        fprintf(stderr,
                "%s-passwd: 密码至少 %d 个字符、至多 %d 字节，未更改 (the password needs %d "
                "characters or more, %d bytes at most; nothing changed)\n",
                program, S_PASSWORD_MIN_CHARS, S_PASSWORD_MAX_BYTES, S_PASSWORD_MIN_CHARS,
                S_PASSWORD_MAX_BYTES);
        rc = XS_EXIT_USAGE;
        goto out;
    }
    xs_err err = xs_identity_pwhash(password, (size_t)n, hash);
    if (err == XS_OK)
        err = s_write_passwd(dir, hash);
    if (err != XS_OK) {
        xs_log_err(err, "写入 %s/%s (writing the password file)", dir, S_PASSWD_FILE);
        goto out;
    }
    printf("网页登录密码已设置 (password set): %s/%s，用户名 (user) %s；重新启动 %s 后生效 (takes "
           "effect when it restarts)\n",
           dir, S_PASSWD_FILE, XS_HTTP_USER, program);
    rc = 0;
out:
    explicit_bzero(password, sizeof password);
    explicit_bzero(again, sizeof again);
    explicit_bzero(hash, sizeof hash);
    return rc;
}
