/* test_http: the HTTP server: GET and HEAD answered with the security headers, other methods
 * refused, POST forms (urlencoded, multipart with a file) read where a server asks for them,
 * with oversize and malformed bodies refused, huge and garbage requests refused without
 * stopping the server, a slow client not blocking others, Host checked on loopback, logins
 * over plain loopback and TLS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "scratch.h"
#include "xs/http.h"
#include "xs/identity.h"

#define S_PASSWORD "正确的密码 correct horse"

/* The test handler: echoes what it was asked, or answers as the path says. */
static void s_handler(void *ctx, xs_http_request_t *req) {
    (void)ctx;
    const char *path = xs_http_path(req);
    if (strcmp(path, "/silent") == 0)
        return; /* answers nothing: the server must say 500 */
    if (strcmp(path, "/slow") == 0)
        sleep(2);
    if (strcmp(path, "/file") == 0) {
        FILE *f = tmpfile();
        assert_non_null(f);
        fputs("PK file body", f);
        fflush(f);
        int fd = dup(fileno(f));
        fclose(f);
        assert_int_equal(xs_http_header_add(req, "Content-Disposition",
                                            "attachment; filename*=UTF-8''%E6%B1%87.xlsx"),
                         XS_OK);
        assert_int_equal(xs_http_respond_file(req, 200, "application/octet-stream", &fd), XS_OK);
        assert_int_equal(fd, -1);
        return;
    }
    if (strcmp(xs_http_method(req), "POST") == 0) {
        /* Echoes fields a and b and the file part f. */
        char text[512];
        const char *a = xs_http_form(req, "a"), *b = xs_http_form(req, "b"), *name = NULL;
        const uint8_t *bytes = NULL;
        size_t len = 0;
        /* A text field is not a file, nor a file a text field. */
        assert_int_equal(xs_http_upload(req, "a", &bytes, &len, NULL), XS_ENOTFOUND);
        assert_null(xs_http_form(req, "f"));
        xs_err err = xs_http_upload(req, "f", &bytes, &len, &name);
        int n = snprintf(text, sizeof text, "a=%s b=%s f=%s:%.*s", a ? a : "-", b ? b : "-",
                         err == XS_OK ? name : "-", err == XS_OK ? (int)len : 0,
                         err == XS_OK ? (const char *)bytes : "");
        void *body = malloc((size_t)n);
        assert_non_null(body);
        memcpy(body, text, (size_t)n);
        assert_int_equal(xs_http_respond(req, 200, "text/plain; charset=utf-8", &body, (size_t)n),
                         XS_OK);
        return;
    }
    assert_null(xs_http_form(req, "q"));
    assert_int_equal(xs_http_header_add(req, "Bad\nName", "x"), XS_EINVAL);
    assert_int_equal(xs_http_header_add(req, "X-Test", "a\r\nSet-Cookie: x=1"), XS_EINVAL);
    char text[512];
    const char *q = xs_http_query(req, "q");
    const char *h = xs_http_header(req, "x-echo");
    int n = snprintf(text, sizeof text, "method=%s path=%s q=%s h=%s client=%s\n",
                     xs_http_method(req), path, q ? q : "-", h ? h : "-", xs_http_client(req));
    void *body = malloc((size_t)n);
    assert_non_null(body);
    memcpy(body, text, (size_t)n);
    assert_int_equal(xs_http_respond(req, 200, "text/plain; charset=utf-8", &body, (size_t)n),
                     XS_OK);
    assert_null(body);
}

typedef struct fixture {
    xs_http_t *http;
    uint16_t port;
    char dir[256];
    char *reply; /* the last raw reply */
    size_t reply_len;
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    xs_http_config_t config = {.listen = "127.0.0.1:0", .handler = s_handler};
    if (xs_http_start(&fx->http, &config) != XS_OK)
        return -1;
    fx->port = xs_http_port(fx->http);
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_http") != 0)
        return -1;
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_http_stop(&fx->http);
    assert_null(fx->http);
    xs_scratch_remove(fx->dir);
    free(fx->reply);
    free(fx);
    return 0;
}

static int s_connect(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Sends len raw bytes to the server and reads the reply until it closes; returns the status
 * of its first line, 0 when there is none (closed without answering). */
static unsigned s_raw(fixture_t *fx, const char *bytes, size_t len) {
    int fd = s_connect(fx->port);
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, bytes + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close a huge request early; its answer is still read */
        sent += (size_t)n;
    }
    free(fx->reply);
    fx->reply = NULL;
    fx->reply_len = 0;
    size_t cap = 0;
    for (;;) {
        if (fx->reply_len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            fx->reply = realloc(fx->reply, cap);
            assert_non_null(fx->reply);
        }
        ssize_t n = recv(fd, fx->reply + fx->reply_len, 4096, 0);
        if (n <= 0)
            break;
        fx->reply_len += (size_t)n;
    }
    close(fd);
    if (!fx->reply) {
        fx->reply = calloc(1, 1);
        assert_non_null(fx->reply);
    }
    fx->reply[fx->reply_len] = '\0';
    unsigned status = 0;
    if (fx->reply_len > 12 && strncmp(fx->reply, "HTTP/1.", 7) == 0)
        status = (unsigned)strtoul(fx->reply + 9, NULL, 10);
    return status;
}

/* s_raw of a NUL-terminated text. */
static unsigned s_text(fixture_t *fx, const char *text) {
    return s_raw(fx, text, strlen(text));
}

/* Sends a request of METHOD for TARGET with extra header lines (each ending in \r\n). */
static unsigned s_request(fixture_t *fx, const char *method, const char *target,
                          const char *headers) {
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%sConnection: close\r\n\r\n", method,
                     target, fx->port, headers ? headers : "");
    assert_true(n > 0 && (size_t)n < sizeof req);
    return s_raw(fx, req, (size_t)n);
}

static const char *s_body(const fixture_t *fx) {
    const char *end = strstr(fx->reply, "\r\n\r\n");
    return end ? end + 4 : "";
}

static void test_get_and_head(void **state) {
    fixture_t *fx = *state;
    assert_int_equal(s_request(fx, "GET", "/a%E6%B1%87/b?q=%E4%B8%AD+x&z=1", "X-Echo: yes\r\n"),
                     200);
    assert_string_equal(s_body(fx), "method=GET path=/a汇/b q=中 x h=yes client=127.0.0.1\n");
    /* Every answer carries the security headers. */
    assert_non_null(strstr(fx->reply, "Content-Security-Policy: default-src 'none'"));
    assert_non_null(strstr(fx->reply, "X-Content-Type-Options: nosniff"));
    assert_non_null(strstr(fx->reply, "Referrer-Policy: no-referrer"));
    assert_non_null(strstr(fx->reply, "Cache-Control: no-store"));
    assert_non_null(strstr(fx->reply, "frame-ancestors 'none'"));
    assert_null(strstr(fx->reply, "X-Test"));
    assert_int_equal(s_request(fx, "HEAD", "/x", NULL), 200);
    assert_string_equal(s_body(fx), "");
    assert_int_equal(s_request(fx, "GET", "/file", NULL), 200);
    assert_string_equal(s_body(fx), "PK file body");
    assert_non_null(strstr(fx->reply, "filename*=UTF-8''%E6%B1%87.xlsx"));
    assert_int_equal(s_request(fx, "GET", "/silent", NULL), 500);
}

static void test_methods_refused(void **state) {
    fixture_t *fx = *state;
    static const char *const methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "XYZ"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        assert_int_equal(s_request(fx, methods[i], "/", "Content-Length: 5\r\n"), 405);
        assert_non_null(strstr(fx->reply, "Allow: GET, HEAD"));
    }
    /* A POST with a body that is never read is still refused, and the server goes on. */
    const char post[] = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\n"
                        "Connection: close\r\n\r\nhello world";
    assert_int_equal(s_raw(fx, post, sizeof post - 1), 405);
    assert_int_equal(s_request(fx, "GET", "/", NULL), 200);
}

static void test_huge_and_garbage(void **state) {
    fixture_t *fx = *state;
    size_t big = 100 * 1024;
    char *req = malloc(big + 256);
    assert_non_null(req);
    /* A 100 KB URL. */
    memcpy(req, "GET /", 5);
    memset(req + 5, 'a', big);
    const char tail[] = " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    memcpy(req + 5 + big, tail, sizeof tail - 1);
    /* The server answers and closes while the rest is still coming; on a loaded machine the
     * close can reach the client as a reset that loses the answer: up to three tries. */
    unsigned status = 0;
    for (int try = 0; try < 3 && status == 0; try++)
        status = s_raw(fx, req, 5 + big + sizeof tail - 1);
    assert_true(status >= 400 && status < 500);
    /* A 100 KB header. */
    const char head[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ";
    memcpy(req, head, sizeof head - 1);
    memset(req + sizeof head - 1, 'b', big);
    memcpy(req + sizeof head - 1 + big, "\r\n\r\n", 4);
    status = 0;
    for (int try = 0; try < 3 && status == 0; try++)
        status = s_raw(fx, req, sizeof head - 1 + big + 4);
    assert_true(status >= 400 && status < 500);
    free(req);
    /* Garbage: request lines that do not parse get 400 (a line without any space is closed
     * unanswered by libmicrohttpd 0.9.75, which the next requests must not notice). */
    assert_int_equal(s_text(fx, "XYZ /\r\n\r\n"), 400);
    assert_int_equal(s_text(fx, "GET / XYZ/9\r\nHost: 127.0.0.1\r\n\r\n"), 400);
    assert_int_equal(s_text(fx, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon\r\n\r\n"), 400);
    status = s_text(fx, "XYZ\r\n\r\n");
    assert_true(status == 0 || status == 400);
    char junk[600];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 37 + 11);
    junk[sizeof junk - 4] = '\r', junk[sizeof junk - 3] = '\n';
    junk[sizeof junk - 2] = '\r', junk[sizeof junk - 1] = '\n';
    status = s_raw(fx, junk, sizeof junk);
    assert_true(status == 0 || (status >= 400 && status < 500));
    /* A path that does not decode to UTF-8, and one not starting with '/'. */
    assert_int_equal(s_request(fx, "GET", "/%FF%FE", NULL), 400);
    assert_int_equal(s_request(fx, "GET", "*", NULL), 400);
    /* The server still answers. */
    assert_int_equal(s_request(fx, "GET", "/after", NULL), 200);
    assert_non_null(strstr(s_body(fx), "path=/after"));
}

/* A client that sends half a request, and one whose page takes two seconds, do not hold up
 * another client's request. */
static void test_slow_client_does_not_block(void **state) {
    fixture_t *fx = *state;
    int idle = s_connect(fx->port);
    assert_int_equal(send(idle, "GET / HT", 8, MSG_NOSIGNAL), 8);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(s_request(fx, "GET", "/quick", NULL), 200);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took < 1.0);
    close(idle);
    /* A page that takes two seconds to make, asked for first, on another connection. */
    int slow = s_connect(fx->port);
    char req[128];
    int n = snprintf(req, sizeof req, "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_int_equal(send(slow, req, (size_t)n, MSG_NOSIGNAL), n);
    usleep(200 * 1000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(s_request(fx, "GET", "/quick", NULL), 200);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took < 1.0);
    char reply[64] = "";
    assert_true(recv(slow, reply, sizeof reply - 1, 0) > 12);
    assert_memory_equal(reply, "HTTP/1.1 200", 12);
    close(slow);
}

/* On a loopback listen, a Host that is not loopback (DNS rebinding) is refused. */
static void test_host_checked(void **state) {
    fixture_t *fx = *state;
    char req[256];
    static const char *const refused[] = {"evil.example", "evil.example:80", "10.0.0.1", "[::2]:80",
                                          "localhost.evil.example"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                         refused[i]);
        assert_int_equal(s_raw(fx, req, (size_t)n), 421);
    }
    static const char *const accepted[] = {"localhost:1", "LOCALHOST", "127.0.0.1", "127.1.2.3:9",
                                           "[::1]:8080"};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                         accepted[i]);
        assert_int_equal(s_raw(fx, req, (size_t)n), 200);
    }
}

static void test_listen_parse(void **state) {
    (void)state;
    int lo = -1;
    assert_int_equal(xs_http_listen_parse("127.0.0.1:8080", &lo), XS_OK);
    assert_int_equal(lo, 1);
    assert_int_equal(xs_http_listen_parse("localhost:80", &lo), XS_OK);
    assert_int_equal(lo, 1);
    assert_int_equal(xs_http_listen_parse("[::1]:0", &lo), XS_OK);
    assert_int_equal(lo, 1);
    assert_int_equal(xs_http_listen_parse("0.0.0.0:8443", &lo), XS_OK);
    assert_int_equal(lo, 0);
    assert_int_equal(xs_http_listen_parse("[::]:8443", &lo), XS_OK);
    assert_int_equal(lo, 0);
    assert_int_equal(xs_http_listen_parse("192.168.1.5:1", &lo), XS_OK);
    assert_int_equal(lo, 0);
    static const char *const bad[] = {
        "",       "8080",    "127.0.0.1", "127.0.0.1:", "1.2.3.4:-1",  "1.2.3.4:65536",
        "::1:80", "[::1]80", "host:80",   "1.2.3:80",   "1.2.3.4:8 0", "[zz]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(xs_http_listen_parse(bad[i], NULL), XS_EINVAL);
}

/* Anywhere but loopback needs both TLS and a password. */
static void test_non_loopback_refused(void **state) {
    (void)state;
    xs_http_t *http = NULL;
    xs_http_config_t config = {.listen = "0.0.0.0:0", .handler = s_handler};
    assert_int_equal(xs_http_start(&http, &config), XS_EPERM);
    config.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$x$y";
    assert_int_equal(xs_http_start(&http, &config), XS_EPERM);
    config.password_hash = NULL;
    config.tls_cert = "/nonexistent/cert.pem";
    config.tls_key = "/nonexistent/key.pem";
    assert_int_equal(xs_http_start(&http, &config), XS_EPERM);
    assert_null(http);
    config.listen = "127.0.0.1:0";
    assert_int_equal(xs_http_start(&http, &config), XS_ENOTFOUND);
    config.tls_key = NULL;
    assert_int_equal(xs_http_start(&http, &config), XS_EINVAL);
    assert_null(http);
}

/* Base64 of "user:password", for a Basic header. */
static void s_basic(const char *user, const char *password, char *out, size_t cap) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char plain[256];
    int n = snprintf(plain, sizeof plain, "%s:%s", user, password);
    assert_true(n > 0 && (size_t)n < sizeof plain);
    size_t o = 0;
    for (int i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)plain[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)plain[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)plain[i + 2];
        assert_true(o + 4 < cap);
        out[o++] = digits[v >> 18 & 63];
        out[o++] = digits[v >> 12 & 63];
        out[o++] = i + 1 < n ? digits[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? digits[v & 63] : '=';
    }
    out[o] = '\0';
}

static double s_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* With a password, every request needs it: none → 401 at once, a wrong one → 401 after about
 * a second, the right one → 200 (and again, remembered, without the wait). */
static void test_password(void **state) {
    fixture_t *fx = *state;
    char hash[XS_PWHASH_MAX], auth[256], header[320];
    assert_int_equal(xs_identity_pwhash(S_PASSWORD, strlen(S_PASSWORD), hash), XS_OK);
    assert_int_equal(xs_identity_pwhash_verify(hash, S_PASSWORD, strlen(S_PASSWORD)), XS_OK);
    assert_int_equal(xs_identity_pwhash_verify(hash, "wrong", 5), XS_ECRYPTO);
    assert_int_equal(xs_identity_pwhash_verify("plain", "plain", 5), XS_EMALFORMED);
    xs_http_stop(&fx->http);
    xs_http_config_t config = {
        .listen = "127.0.0.1:0", .handler = s_handler, .password_hash = hash};
    assert_int_equal(xs_http_start(&fx->http, &config), XS_OK);
    fx->port = xs_http_port(fx->http);
    assert_int_equal(s_request(fx, "GET", "/", NULL), 401);
    assert_non_null(strstr(fx->reply, "WWW-Authenticate: Basic realm=\"xueshi\""));
    s_basic("admin", "wrong password", auth, sizeof auth);
    snprintf(header, sizeof header, "Authorization: Basic %s\r\n", auth);
    double t0 = s_now();
    assert_int_equal(s_request(fx, "GET", "/", header), 401);
    assert_true(s_now() - t0 >= 0.9);
    s_basic("root", S_PASSWORD, auth, sizeof auth);
    snprintf(header, sizeof header, "Authorization: Basic %s\r\n", auth);
    assert_int_equal(s_request(fx, "GET", "/", header), 401);
    s_basic("admin", S_PASSWORD, auth, sizeof auth);
    snprintf(header, sizeof header, "Authorization: Basic %s\r\n", auth);
    assert_int_equal(s_request(fx, "GET", "/in", header), 200);
    assert_non_null(strstr(s_body(fx), "path=/in"));
    t0 = s_now();
    assert_int_equal(s_request(fx, "GET", "/again", header), 200);
    assert_true(s_now() - t0 < 0.5);
    assert_int_equal(s_request(fx, "GET", "/", "Authorization: Basic !!!\r\n"), 401);
}

/* Sends a POST of body (len bytes) with content type type to fx's server. */
static unsigned s_post(fixture_t *fx, const char *type, const char *body, size_t len) {
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /form HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     fx->port, type, len);
    assert_true(n > 0 && (size_t)n < sizeof head);
    char *req = malloc((size_t)n + len);
    assert_non_null(req);
    memcpy(req, head, (size_t)n);
    memcpy(req + n, body, len);
    unsigned status = s_raw(fx, req, (size_t)n + len);
    free(req);
    return status;
}

/* Sends a chunked POST of type to /form: count chunks of the len bytes at piece. */
static unsigned s_chunked(fixture_t *fx, const char *type, const char *piece, size_t len,
                          int count) {
    char head[512], size[32];
    int n = snprintf(head, sizeof head,
                     "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
                     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                     type);
    int sn = snprintf(size, sizeof size, "%zx\r\n", len);
    assert_true(n > 0 && (size_t)n < sizeof head && sn > 0);
    size_t total = (size_t)n + (size_t)count * ((size_t)sn + len + 2) + 5, used = (size_t)n;
    char *req = malloc(total);
    assert_non_null(req);
    memcpy(req, head, (size_t)n);
    for (int i = 0; i < count; i++) {
        memcpy(req + used, size, (size_t)sn);
        memcpy(req + used + sn, piece, len);
        memcpy(req + used + sn + len, "\r\n", 2);
        used += (size_t)sn + len + 2;
    }
    memcpy(req + used, "0\r\n\r\n", 5);
    unsigned status = s_raw(fx, req, total);
    free(req);
    return status;
}

#define S_BOUNDARY "----xsBoundary7MA4YWxk"
#define S_MULTIPART "multipart/form-data; boundary=" S_BOUNDARY

/* A server that takes POST: forms urlencoded and multipart (a file part with its name) reach
 * the handler; a body over the limit is 413, a body that does not parse or is not UTF-8 400,
 * another content type 415; and the server goes on answering. */
static void test_post(void **state) {
    fixture_t *fx = *state;
    xs_http_stop(&fx->http);
    xs_http_config_t config = {
        .listen = "127.0.0.1:0", .handler = s_handler, .post = 1, .body_max = 4096};
    assert_int_equal(xs_http_start(&fx->http, &config), XS_OK);
    fx->port = xs_http_port(fx->http);
    const char form[] = "a=%E4%B8%AD+x&b=2025%2F10%2F5&c=";
    assert_int_equal(s_post(fx, "application/x-www-form-urlencoded", form, sizeof form - 1), 200);
    assert_string_equal(s_body(fx), "a=中 x b=2025/10/5 f=-:");
    /* The same as multipart, with a file whose bytes are not text. */
    const char multi[] = "--" S_BOUNDARY "\r\n"
                         "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                         "讲座\r\n"
                         "--" S_BOUNDARY "\r\n"
                         "Content-Disposition: form-data; name=\"f\"; filename=\"登记表.csv\"\r\n"
                         "Content-Type: text/csv\r\n\r\n"
                         "teacher_id,date\r\nT1,2025-10-05\r\n"
                         "\r\n--" S_BOUNDARY "--\r\n";
    assert_int_equal(s_post(fx, S_MULTIPART, multi, sizeof multi - 1), 200);
    assert_string_equal(s_body(fx), "a=讲座 b=- f=登记表.csv:teacher_id,date\r\nT1,2025-10-05\r\n");
    /* No body at all: the handler runs with no fields. */
    assert_int_equal(s_request(fx, "POST", "/form", "Content-Length: 0\r\n"), 200);
    assert_string_equal(s_body(fx), "a=- b=- f=-:");
    /* Over the limit, announced: 413 without reading it. */
    char *big = malloc(8192);
    assert_non_null(big);
    memset(big, 'x', 8192);
    memcpy(big, "a=", 2);
    assert_int_equal(s_post(fx, "application/x-www-form-urlencoded", big, 8192), 413);
    /* Over the limit, chunked: refused, never handed on; a body that stops parsing at once
     * (no boundary) is cut at the limit too, not read on. */
    unsigned status = s_chunked(fx, "application/x-www-form-urlencoded", big, 4096, 3);
    assert_true(status == 0 || status == 413);
    assert_null(strstr(fx->reply, "a=xxx"));
    status = s_chunked(fx, S_MULTIPART, big, 4096, 64);
    assert_true(status == 0 || status == 413);
    free(big);
    /* Malformed: a multipart body cut short, one whose boundary never comes, text that is not
     * UTF-8; and a content type the server does not read. */
    assert_int_equal(s_post(fx, S_MULTIPART, multi, 80), 400);
    const char stray[] = "no boundary here at all\r\n";
    assert_int_equal(s_post(fx, S_MULTIPART, stray, sizeof stray - 1), 400);
    assert_int_equal(s_post(fx, "application/x-www-form-urlencoded", "a=%FF%FE", 8), 400);
    assert_int_equal(s_post(fx, "application/x-www-form-urlencoded", "a=%00", 5), 400);
    assert_int_equal(s_post(fx, "application/json", "{}", 2), 415);
    assert_int_equal(s_request(fx, "PUT", "/form", "Content-Length: 0\r\n"), 405);
    assert_non_null(strstr(fx->reply, "Allow: GET, HEAD, POST"));
    /* The server still answers. */
    assert_int_equal(s_post(fx, "application/x-www-form-urlencoded", "b=ok", 4), 200);
    assert_string_equal(s_body(fx), "a=- b=ok f=-:");
}

/* Runs a shell command; returns its exit status. */
static int s_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int s_sh(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* Over TLS on any address: a self-signed certificate made here with openssl; requests are made
 * by `openssl s_client`. Plain HTTP to the TLS port gets no page. */
static void test_tls(void **state) {
    fixture_t *fx = *state;
    char cert[300], key[300], hash[XS_PWHASH_MAX], auth[256], out[300];
    snprintf(cert, sizeof cert, "%s/cert.pem", fx->dir);
    snprintf(key, sizeof key, "%s/key.pem", fx->dir);
    snprintf(out, sizeof out, "%s/reply.txt", fx->dir);
    assert_int_equal(s_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                          "-days 2 -subj /CN=127.0.0.1 -keyout '%s' -out '%s' >/dev/null 2>&1",
                          key, cert),
                     0);
    assert_int_equal(xs_identity_pwhash(S_PASSWORD, strlen(S_PASSWORD), hash), XS_OK);
    xs_http_stop(&fx->http);
    xs_http_config_t config = {.listen = "0.0.0.0:0",
                               .handler = s_handler,
                               .tls_cert = cert,
                               .tls_key = key,
                               .password_hash = hash};
    assert_int_equal(xs_http_start(&fx->http, &config), XS_OK);
    fx->port = xs_http_port(fx->http);
    assert_true(fx->port > 0);
    s_basic("admin", S_PASSWORD, auth, sizeof auth);
    const char *cases[][2] = {{auth, "HTTP/1.1 200"}, {"YWRtaW46bm9wZQ==", "HTTP/1.1 401"}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(
            s_sh("printf 'GET /tls HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAuthorization: Basic "
                 "%s\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -quiet -connect "
                 "127.0.0.1:%u >'%s' 2>/dev/null; grep -q '%s' '%s'",
                 cases[i][0], fx->port, out, cases[i][1], out),
            0);
    }
    assert_int_equal(s_sh("grep -q 'path=/tls' '%s'", out), 1); /* the 401 has no page */
    /* Plain HTTP to the TLS port is not answered with a page. */
    assert_int_equal(s_request(fx, "GET", "/", NULL) == 200, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_and_head, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_methods_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_huge_and_garbage, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_slow_client_does_not_block, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_host_checked, s_setup, s_teardown),
        cmocka_unit_test(test_listen_parse),
        cmocka_unit_test(test_non_loopback_refused),
        cmocka_unit_test_setup_teardown(test_password, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tls, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_post, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
