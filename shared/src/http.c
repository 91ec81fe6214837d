/* http: the only module that speaks libmicrohttpd: bounded GET/HEAD requests (and POST forms,
 * read whole through MHD's post processor) on a thread per connection, TLS through GnuTLS,
 * HTTP Basic against an Argon2id hash, and a log line for every refusal. */
#include "xs/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xs/identity.h"
#include "xs/log.h"
#include "xs/text.h"

/* Logins remembered, and for how long, so a page does not pay the password hash each time. */
#define S_LOGINS 16
#define S_LOGIN_SECONDS 600
/* How long a wrong password keeps its connection waiting, in milliseconds. */
#define S_WRONG_PASSWORD_MS 1000
/* Bytes of a request's path kept for its log line. */
#define S_LOG_PATH_MAX 160
/* Longest header name and value a handler may add. */
#define S_HEADER_NAME_MAX 64
#define S_HEADER_VALUE_MAX 1024
/* Bytes the post processor buffers of a field at a time (MHD's minimum is 256). */
#define S_POST_BUFFER 4096
/* Longest multipart boundary (RFC 2046), and the bytes kept of a body's either end to check
 * that it opens and closes with it. */
#define S_BOUNDARY_MAX 70
#define S_EDGE 80

/* Headers every response carries: no scripts, nothing from elsewhere, no framing, no caching,
 * no referrer (docs/design.md, "The dashboard"). */
static const char *const s_security_headers[][2] = {
    {"Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
    {"X-Frame-Options", "DENY"},
};

struct xs_http {
    struct MHD_Daemon *daemon;
    xs_http_handler_fn handler;
    void *ctx;
    int loopback;                      /* listening on loopback: Host is checked */
    char password_hash[XS_PWHASH_MAX]; /* "" when no password is asked */
    char *cert, *key;                  /* PEM bytes handed to GnuTLS, NUL-terminated */
    size_t key_len;                    /* bytes of key, wiped at stop */
    uint16_t port;                     /* the bound port */
    int post;                          /* 1: POST is served */
    size_t body_max;                   /* largest POST body read, in bytes */
    pthread_mutex_t lock;              /* guards logins and the refusal count */
    pthread_mutex_t verify_lock;       /* one password hash at a time: each takes 64 MiB */
    uint8_t login_key[32];             /* keys the memo's tags; never leaves the process */
    unsigned refused_pending;          /* refusals before a request line parsed, not logged */
    unsigned refused_status;           /* the status of the latest of them */
    xs_log_limit_t log_limit;          /* refusals' lines, per reason (under lock): a flood of
                                          bad requests or wrong passwords writes a few lines
                                          and one count */
    struct {
        uint8_t tag[XS_HASH_BYTES]; /* keyed hash of "user\0password" */
        time_t until;               /* wall-clock seconds it is good until; 0: free */
    } logins[S_LOGINS];
};

/* Refusals logged per reason, at most this many lines a window, then one count. */
#define S_LOG_LINES 5
#define S_LOG_WINDOW_S 60

/* Logs a refusal (a request that did not parse, a 4xx, a wrong password) under key through
 * the server's limiter. */
__attribute__((format(printf, 3, 4))) static void s_refusal(xs_http_t *http, const char *key,
                                                            const char *fmt, ...) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&http->lock);
    xs_event_limited(&http->log_limit, key, XS_SEV_WARNING, NULL, "%s", message);
    pthread_mutex_unlock(&http->lock);
}

/* What the server keeps of one connection (MHD's socket context): who it is, and whether a
 * request line of it parsed. */
typedef struct s_sock {
    char client[INET6_ADDRSTRLEN]; /* the client's address */
    int parsed;                    /* 1 once a request line of it parsed */
} s_sock_t;

/* One field or file of a POST body. */
typedef struct s_field {
    char *name;     /* the field's name, NUL-terminated */
    char *filename; /* a file part's file name ("" when none was sent); NULL: a text field */
    char *value;    /* len bytes, and a NUL after them */
    size_t len, cap;
} s_field_t;

/* What the server keeps of one request from its first line to its end (MHD's con_cls). */
typedef struct s_conn {
    char client[INET6_ADDRSTRLEN];     /* the client's address */
    char method[16];                   /* set when the request line was parsed whole */
    char path[S_LOG_PATH_MAX + 1];     /* the request's URI as sent, made printable, cut */
    int reading;                       /* 1: a POST passed its checks and its body is being read;
                                          2: the body is whole and handed to the handler */
    struct MHD_PostProcessor *post;    /* parses the body; NULL when it has no content type */
    size_t body_max;                   /* bytes the body may take */
    size_t body_len;                   /* bytes of body received so far */
    unsigned refusal;                  /* 400 or 413 once the body is refused; 0 */
    char boundary[S_BOUNDARY_MAX + 3]; /* a multipart body's "--" and boundary; "" otherwise */
    char edge[2][S_EDGE];              /* the body's first and (a ring) last bytes */
    size_t head_len;                   /* bytes in edge[0] */
    s_field_t *fields;                 /* nfields of them, in the order sent */
    size_t nfields;
} s_conn_t;

struct xs_http_request {
    xs_http_t *http;
    struct MHD_Connection *con;
    s_conn_t *conn; /* NULL when it could not be allocated (then no POST is read) */
    const char *method;
    const char *path;
    struct MHD_Response *response; /* the answer given, until queued */
    unsigned status;
    size_t header_count;
    struct {
        char name[S_HEADER_NAME_MAX];
        char value[S_HEADER_VALUE_MAX];
    } headers[XS_HTTP_HEADERS_MAX];
};

/* ---- listen addresses ---- */

typedef struct s_listen {
    struct sockaddr_storage addr;
    int v6;
    int loopback;
} s_listen_t;

static xs_err s_listen_parse(const char *listen, s_listen_t *out) {
    char host[64];
    const char *port_text;
    memset(out, 0, sizeof *out);
    if (!listen || !*listen)
        return XS_EINVAL;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host)
            return XS_EINVAL;
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        port_text = close + 2;
        out->v6 = 1;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host || strchr(listen, ':') != colon)
            return XS_EINVAL;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port_text = colon + 1;
    }
    char *end;
    errno = 0;
    long port = strtol(port_text, &end, 10);
    if (!*port_text || *end || errno || port < 0 || port > 65535 || *port_text == '-' ||
        *port_text == '+' || *port_text == ' ')
        return XS_EINVAL;
    if (!out->v6 && strcasecmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (out->v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return XS_EINVAL;
        out->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
                        (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&out->addr;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return XS_EINVAL;
        out->loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    return XS_OK;
}

xs_err xs_http_listen_parse(const char *listen, int *loopback) {
    s_listen_t l;
    xs_err err = s_listen_parse(listen, &l);
    if (err == XS_OK && loopback)
        *loopback = l.loopback;
    return err;
}

/* 1 when a Host header names this machine's loopback (any port): a page of a loopback
 * listen is not handed to a name that merely resolves here (DNS rebinding). */
static int s_host_is_loopback(const char *host) {
    char name[64];
    size_t len;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close || (size_t)(close - host - 1) >= sizeof name)
            return 0;
        len = (size_t)(close - host - 1);
        memcpy(name, host + 1, len);
        name[len] = '\0';
        if (close[1] != '\0' && close[1] != ':')
            return 0;
        struct in6_addr a6;
        return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    const char *colon = strchr(host, ':');
    len = colon ? (size_t)(colon - host) : strlen(host);
    if (len >= sizeof name)
        return 0;
    memcpy(name, host, len);
    name[len] = '\0';
    if (strcasecmp(name, "localhost") == 0)
        return 1;
    struct in_addr a4;
    return inet_pton(AF_INET, name, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

/* ---- logging ---- */

/* Copies text into out (cap bytes, cut at a character), each control byte made '?', so a
 * request cannot forge log lines. */
static void s_printable(const char *text, char *out, size_t cap) {
    size_t len = xs_text_utf8_prefix(text, strlen(text), cap - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[len] = '\0';
}

static void s_client_text(struct MHD_Connection *con, char out[INET6_ADDRSTRLEN]) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, INET6_ADDRSTRLEN, "?");
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  INET6_ADDRSTRLEN);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  INET6_ADDRSTRLEN);
}

/* 1 on a connection's thread (a thread per connection) while a request whose line parsed is
 * being read or answered: a refusal then is that request's, logged when it ends. */
static _Thread_local int s_in_request;

/* MHD's own complaints (a refused TLS handshake, a request it could not parse...). A refusal
 * of a request whose line parsed is logged when the request ends (s_completed); one made
 * before (a line malformed or too long) has no request and no client here: it is counted, and
 * logged by the next connection that closes without its line parsing (s_connection). */
static void s_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void s_mhd_log(void *cls, const char *fmt, va_list ap) {
    xs_http_t *http = cls;
    char line[256], printable[S_LOG_PATH_MAX + 1];
    vsnprintf(line, sizeof line, fmt, ap);
    const char *code = strstr(line, "HTTP response code is ");
    if (code) {
        if (!s_in_request) {
            pthread_mutex_lock(&http->lock);
            http->refused_pending++;
            http->refused_status = (unsigned)strtoul(code + 22, NULL, 10);
            pthread_mutex_unlock(&http->lock);
        }
        return;
    }
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    s_printable(line, printable, sizeof printable);
    xs_log("web: %s", printable);
}

static unsigned s_status(struct MHD_Connection *con) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_HTTP_STATUS);
    return info ? info->http_status : 0;
}

/* A connection opens and closes (on the listening thread). One that closes with a refusal
 * counted and no request line parsed is the refused one: logged with its client. */
static void s_connection(void *cls, struct MHD_Connection *con, void **socket_context,
                         enum MHD_ConnectionNotificationCode code) {
    xs_http_t *http = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        s_sock_t *s = calloc(1, sizeof *s);
        if (s)
            s_client_text(con, s->client);
        *socket_context = s;
        return;
    }
    s_sock_t *s = *socket_context;
    unsigned status = 0;
    *socket_context = NULL;
    pthread_mutex_lock(&http->lock);
    if (s && !s->parsed && http->refused_pending) {
        http->refused_pending--;
        status = http->refused_status;
    }
    pthread_mutex_unlock(&http->lock);
    if (status)
        s_refusal(http, "web/unparsed",
                  "web: %s 请求无法解析 (the request line did not parse) → %u", s->client, status);
    free(s);
}

static s_sock_t *s_sock(struct MHD_Connection *con) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Called with the request line's URI, before its headers: the request's record begins. */
static void *s_uri_log(void *cls, const char *uri, struct MHD_Connection *con) {
    (void)cls;
    s_sock_t *sock = s_sock(con);
    if (sock)
        sock->parsed = 1;
    s_in_request = 1;
    s_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    s_client_text(con, c->client);
    s_printable(uri ? uri : "", c->path, sizeof c->path);
    snprintf(c->method, sizeof c->method, "-");
    return c;
}

/* Frees what a request's body left: its fields and the post processor. */
static void s_conn_free(s_conn_t *c) {
    if (c->post)
        MHD_destroy_post_processor(c->post);
    for (size_t i = 0; i < c->nfields; i++) {
        free(c->fields[i].name);
        free(c->fields[i].filename);
        free(c->fields[i].value);
    }
    free(c->fields);
    free(c);
}

/* Called when a request ends, however: one line for every 4xx, then the record is freed. */
static void s_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                        enum MHD_RequestTerminationCode code) {
    xs_http_t *http = cls;
    (void)code;
    s_conn_t *c = *con_cls;
    *con_cls = NULL;
    s_in_request = 0;
    unsigned status = s_status(con);
    if (!c)
        return;
    if (status >= 400 && status < 500) {
        char key[16];
        snprintf(key, sizeof key, "web/%u", status);
        s_refusal(http, key, "web: %s %s %s → %u", c->client, c->method, c->path, status);
    }
    s_conn_free(c);
}

/* ---- answering ---- */

xs_err xs_http_header_add(xs_http_request_t *req, const char *name, const char *value) {
    size_t nlen = strlen(name), vlen = strlen(value);
    if (nlen == 0 || nlen >= S_HEADER_NAME_MAX || vlen >= S_HEADER_VALUE_MAX)
        return nlen >= S_HEADER_NAME_MAX || vlen >= S_HEADER_VALUE_MAX ? XS_ETOOBIG : XS_EINVAL;
    for (size_t i = 0; i < nlen; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c))
            return XS_EINVAL;
    }
    for (size_t i = 0; i < vlen; i++)
        if (value[i] == '\r' || value[i] == '\n')
            return XS_EINVAL;
    if (req->header_count >= XS_HTTP_HEADERS_MAX)
        return XS_ETOOBIG;
    memcpy(req->headers[req->header_count].name, name, nlen + 1);
    memcpy(req->headers[req->header_count].value, value, vlen + 1);
    req->header_count++;
    return XS_OK;
}

/* Adds the security headers, the content type and the handler's headers to response. */
static xs_err s_decorate(xs_http_request_t *req, struct MHD_Response *response,
                         const char *content_type) {
    for (size_t i = 0; i < sizeof s_security_headers / sizeof s_security_headers[0]; i++)
        if (MHD_add_response_header(response, s_security_headers[i][0], s_security_headers[i][1]) !=
            MHD_YES)
            return XS_ENOMEM;
    if (MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES)
        return XS_ENOMEM;
    for (size_t i = 0; i < req->header_count; i++)
        if (MHD_add_response_header(response, req->headers[i].name, req->headers[i].value) !=
            MHD_YES)
            return XS_EINVAL;
    return XS_OK;
}

static void s_free_body(void *body) {
    free(body);
}

xs_err xs_http_respond(xs_http_request_t *req, unsigned status, const char *content_type,
                       void **body, size_t len) {
    void *bytes = *body;
    *body = NULL;
    if (req->response) {
        free(bytes);
        return XS_EINVAL;
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer_with_free_callback(len, bytes, s_free_body);
    if (!response) {
        free(bytes);
        return XS_ENOMEM;
    }
    xs_err err = s_decorate(req, response, content_type);
    if (err != XS_OK) {
        MHD_destroy_response(response);
        return err;
    }
    req->response = response;
    req->status = status;
    return XS_OK;
}

xs_err xs_http_respond_file(xs_http_request_t *req, unsigned status, const char *content_type,
                            int *fd) {
    int file = *fd;
    struct stat st;
    *fd = -1;
    if (req->response) {
        close(file);
        return XS_EINVAL;
    }
    if (fstat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(file);
        return XS_EIO;
    }
    struct MHD_Response *response = MHD_create_response_from_fd((uint64_t)st.st_size, file);
    if (!response) {
        close(file);
        return XS_ENOMEM;
    }
    xs_err err = s_decorate(req, response, content_type);
    if (err != XS_OK) {
        MHD_destroy_response(response);
        return err;
    }
    req->response = response;
    req->status = status;
    return XS_OK;
}

/* Queues a short HTML page of the server's own: a refusal, or a handler that gave nothing. */
static enum MHD_Result s_refuse(xs_http_request_t *req, unsigned status, const char *title) {
    char page[512];
    int n = snprintf(page, sizeof page,
                     "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                     "<title>%u %s</title></head><body><h1>%u %s</h1></body></html>\n",
                     status, title, status, title);
    void *body = malloc((size_t)n);
    if (!body)
        return MHD_NO;
    memcpy(body, page, (size_t)n);
    if (req->response) {
        MHD_destroy_response(req->response);
        req->response = NULL;
    }
    if (xs_http_respond(req, status, "text/html; charset=utf-8", &body, (size_t)n) != XS_OK)
        return MHD_NO;
    enum MHD_Result r = MHD_queue_response(req->con, status, req->response);
    MHD_destroy_response(req->response);
    req->response = NULL;
    return r;
}

/* ---- logins ---- */

static void s_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* 1 when the request carries the admin's credentials: remembered from an earlier login, or
 * checked against the hash (one check at a time), then remembered and logged. A wrong one
 * waits S_WRONG_PASSWORD_MS on this connection's thread and is logged. */
static int s_login(xs_http_t *http, xs_http_request_t *req) {
    char *password = NULL;
    char *user = MHD_basic_auth_get_username_password(req->con, &password);
    uint8_t tag[XS_HASH_BYTES];
    int ok = 0;
    if (!user || !password)
        goto out;
    size_t ulen = strlen(user), plen = strlen(password);
    char *joined = malloc(ulen + 1 + plen);
    if (!joined)
        goto out;
    memcpy(joined, user, ulen + 1);
    memcpy(joined + ulen + 1, password, plen);
    xs_identity_keyed_hash(http->login_key, joined, ulen + 1 + plen, tag);
    explicit_bzero(joined, ulen + 1 + plen);
    free(joined);
    time_t now = time(NULL);
    pthread_mutex_lock(&http->lock);
    for (size_t i = 0; i < S_LOGINS && !ok; i++)
        ok = http->logins[i].until > now && memcmp(http->logins[i].tag, tag, sizeof tag) == 0;
    pthread_mutex_unlock(&http->lock);
    if (ok)
        goto out;
    if (strcmp(user, XS_HTTP_USER) == 0) {
        pthread_mutex_lock(&http->verify_lock);
        ok = xs_identity_pwhash_verify(http->password_hash, password, plen) == XS_OK;
        pthread_mutex_unlock(&http->verify_lock);
    }
    if (!ok) {
        s_sleep_ms(S_WRONG_PASSWORD_MS);
        s_refusal(http, "web/login",
                  "web: %s 登录失败：用户名或密码错误 (login failed: wrong user or password)",
                  req->conn ? req->conn->client : "?");
        goto out;
    }
    pthread_mutex_lock(&http->lock);
    size_t slot = 0;
    for (size_t i = 1; i < S_LOGINS; i++)
        if (http->logins[i].until < http->logins[slot].until)
            slot = i;
    memcpy(http->logins[slot].tag, tag, sizeof tag);
    http->logins[slot].until = now + S_LOGIN_SECONDS;
    pthread_mutex_unlock(&http->lock);
    xs_log("web: %s 登录 (login) %s", req->conn ? req->conn->client : "?", XS_HTTP_USER);
out:
    if (password) {
        explicit_bzero(password, strlen(password));
        MHD_free(password);
    }
    if (user)
        MHD_free(user);
    return ok;
}

/* ---- a POST's body ---- */

/* The post processor's iterator: appends a piece of a field's value (off 0 begins a field). */
static enum MHD_Result s_post_piece(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size) {
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    s_conn_t *c = cls;
    s_field_t *f = c->nfields ? &c->fields[c->nfields - 1] : NULL;
    if (!key || strnlen(key, XS_HTTP_FIELD_NAME_MAX + 1) > XS_HTTP_FIELD_NAME_MAX)
        return MHD_NO;
    if (off == 0 || !f || strcmp(f->name, key) != 0) {
        if (c->nfields >= XS_HTTP_FIELDS_MAX)
            return MHD_NO;
        if (c->nfields % 16 == 0) {
            s_field_t *grown = realloc(c->fields, (c->nfields + 16) * sizeof *grown);
            if (!grown)
                return MHD_NO;
            c->fields = grown;
        }
        f = &c->fields[c->nfields];
        memset(f, 0, sizeof *f);
        f->name = strdup(key);
        f->filename = filename ? strdup(filename) : NULL;
        f->value = malloc(1);
        c->nfields++;
        if (!f->name || (filename && !f->filename) || !f->value)
            return MHD_NO;
        f->value[0] = '\0';
        f->cap = 1;
    }
    if (!size)
        return MHD_YES;
    /* Decoded fields are never longer than the body that carried them. */
    if (size > c->body_max || f->len > c->body_max - size)
        return MHD_NO;
    if (f->len + size + 1 > f->cap) {
        size_t cap = f->cap;
        while (cap < f->len + size + 1)
            cap *= 2;
        char *grown = realloc(f->value, cap);
        if (!grown)
            return MHD_NO;
        f->value = grown;
        f->cap = cap;
    }
    memcpy(f->value + f->len, data, size);
    f->len += size;
    f->value[f->len] = '\0';
    return MHD_YES;
}

/* 1 when every text field of a finished body is UTF-8 without NUL bytes, and every file name
 * UTF-8. */
static int s_fields_valid(const s_conn_t *c) {
    for (size_t i = 0; i < c->nfields; i++) {
        const s_field_t *f = &c->fields[i];
        if (!xs_text_utf8_valid(f->name, strlen(f->name)))
            return 0;
        if (f->filename && !xs_text_utf8_valid(f->filename, strlen(f->filename)))
            return 0;
        if (!f->filename &&
            (memchr(f->value, '\0', f->len) || !xs_text_utf8_valid(f->value, f->len)))
            return 0;
    }
    return 1;
}

/* Keeps the first and the last S_EDGE bytes of a body (the last in a ring by body_len). */
static void s_edges(s_conn_t *c, const char *data, size_t n) {
    for (size_t i = 0; i < n && c->head_len < S_EDGE; i++)
        c->edge[0][c->head_len++] = data[i];
    size_t from = n > S_EDGE ? n - S_EDGE : 0;
    for (size_t i = from; i < n; i++)
        c->edge[1][(c->body_len + i) % S_EDGE] = data[i];
}

/* 1 unless a multipart body does not open with its boundary or does not close with it
 * ("--BOUNDARY--" and maybe a line end): MHD's parser skips such text without a word. */
static int s_multipart_whole(const s_conn_t *c) {
    size_t blen = strlen(c->boundary);
    if (!blen || !c->body_len)
        return 1;
    if (c->head_len < blen || memcmp(c->edge[0], c->boundary, blen) != 0)
        return 0;
    char tail[S_EDGE];
    size_t have = c->body_len < S_EDGE ? c->body_len : S_EDGE;
    for (size_t i = 0; i < have; i++)
        tail[i] = c->edge[1][(c->body_len - have + i) % S_EDGE];
    while (have && (tail[have - 1] == '\r' || tail[have - 1] == '\n'))
        have--;
    return have >= blen + 2 && memcmp(tail + have - blen - 2, c->boundary, blen) == 0 &&
           memcmp(tail + have - 2, "--", 2) == 0;
}

/* Copies the boundary parameter of a multipart/form-data content type, after "--", into out
 * ("" for another type); 0 when a multipart type has none that fits. */
static int s_boundary(const char *type, char out[S_BOUNDARY_MAX + 3]) {
    out[0] = '\0';
    if (strncasecmp(type, "multipart/form-data", 19) != 0)
        return 1;
    const char *b = type;
    while (*b && strncasecmp(b, "boundary=", 9) != 0)
        b++;
    if (!*b)
        return 0;
    b += 9;
    size_t len;
    if (*b == '"') {
        const char *close = strchr(++b, '"');
        len = close ? (size_t)(close - b) : 0;
    } else {
        len = strcspn(b, "; \t");
    }
    if (len == 0 || len > S_BOUNDARY_MAX)
        return 0;
    memcpy(out, "--", 2);
    memcpy(out + 2, b, len);
    out[len + 2] = '\0';
    return 1;
}

/* ---- the request ---- */

/* Queues a refusal for a request whose record is conn (made for the occasion). */
static enum MHD_Result s_refuse_con(xs_http_t *http, struct MHD_Connection *con, s_conn_t *conn,
                                    const char *method, const char *url, unsigned status,
                                    const char *title) {
    xs_http_request_t *req = calloc(1, sizeof *req);
    if (!req)
        return MHD_NO;
    req->http = http;
    req->con = con;
    req->conn = conn;
    req->method = method;
    req->path = url;
    enum MHD_Result result = s_refuse(req, status, title);
    free(req);
    return result;
}

/* The body of a POST that passed its checks: a piece of it (fed to the post processor), or its
 * end. A body refused on the way is answered at once when MHD lets it, else at its end. */
static enum MHD_Result s_post_body(xs_http_t *http, struct MHD_Connection *con, s_conn_t *conn,
                                   const char *url, const char *upload_data,
                                   size_t *upload_data_size) {
    size_t n = *upload_data_size;
    if (n) {
        *upload_data_size = 0;
        if (conn->refusal == 413)
            return MHD_NO;
        /* A body past its limit is not read on: answered now where MHD takes an answer
         * before the body ends (0.9.75 does not), else the connection is closed. */
        if (n > conn->body_max - conn->body_len) {
            conn->refusal = 413;
            return s_refuse_con(http, con, conn, "POST", url, 413,
                                "内容过大 (request body too large)");
        }
        /* A body that does not parse is read to its end (within the limit), then refused. */
        if (!conn->refusal) {
            s_edges(conn, upload_data, n);
            if (!conn->post || MHD_post_process(conn->post, upload_data, n) != MHD_YES)
                conn->refusal = 400;
        }
        conn->body_len += n;
        return MHD_YES;
    }
    if (!conn->refusal && conn->post && MHD_destroy_post_processor(conn->post) != MHD_YES)
        conn->refusal = 400;
    conn->post = NULL;
    if (!conn->refusal && (!s_fields_valid(conn) || !s_multipart_whole(conn)))
        conn->refusal = 400;
    if (conn->refusal == 413)
        return s_refuse_con(http, con, conn, "POST", url, 413, "内容过大 (request body too large)");
    if (conn->refusal)
        return s_refuse_con(http, con, conn, "POST", url, 400,
                            "请求内容无法解析 (malformed request body)");
    return MHD_YES; /* the handler runs */
}

/* 1 when a request announces a body (Content-Length other than 0, or chunked). */
static int s_has_body(struct MHD_Connection *con, uint64_t *length) {
    const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Transfer-Encoding");
    *length = 0;
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        *length = errno || *end || cl[0] == '-' ? UINT64_MAX : (uint64_t)v;
    }
    return *length > 0 || (te && strcasecmp(te, "identity") != 0);
}

/* Checks a POST's headers before its body is read: its length, and a content type the post
 * processor reads. MHD_YES to read the body (conn->reading), or the refusal queued. */
static enum MHD_Result s_post_begin(xs_http_t *http, xs_http_request_t *req, s_conn_t *conn) {
    uint64_t length;
    int body = s_has_body(req->con, &length);
    if (length > http->body_max)
        return s_refuse(req, 413, "内容过大 (request body too large)");
    const char *type = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND, "Content-Type");
    conn->body_max = http->body_max;
    if (type) {
        if (!s_boundary(type, conn->boundary))
            return s_refuse(req, 400, "请求内容无法解析 (malformed request body)");
        conn->post = MHD_create_post_processor(req->con, S_POST_BUFFER, s_post_piece, conn);
        if (!conn->post)
            return s_refuse(req, 415, "不支持的内容类型 (unsupported content type)");
    } else if (body) {
        return s_refuse(req, 415, "不支持的内容类型 (unsupported content type)");
    }
    conn->reading = 1;
    return MHD_YES;
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *con, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls) {
    (void)version;
    xs_http_t *http = cls;
    s_conn_t *conn = *con_cls;
    enum MHD_Result result;
    int post = strcmp(method, "POST") == 0 && http->post;
    int body_done = 0;
    if (conn && conn->reading == 1) {
        int piece = *upload_data_size != 0;
        result = s_post_body(http, con, conn, url, upload_data, upload_data_size);
        if (piece || result != MHD_YES || conn->refusal)
            return result;
        conn->reading = 2; /* the body is whole: the handler runs */
        body_done = 1;
    }
    /* A body (on any method but a POST being read) is never read: the answer below is queued
     * on the first call. */
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    xs_http_request_t *req = calloc(1, sizeof *req);
    if (!req)
        return MHD_NO;
    req->http = http;
    req->con = con;
    req->conn = conn;
    req->method = method;
    req->path = url;
    if (body_done)
        goto handle;
    if (conn)
        s_printable(method, conn->method, sizeof conn->method);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && !post) {
        if (xs_http_header_add(req, "Allow", http->post ? "GET, HEAD, POST" : "GET, HEAD") != XS_OK)
            result = MHD_NO;
        else
            result = s_refuse(req, 405, "不支持的请求方法 (method not allowed)");
        goto out;
    }
    const char *host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Host");
    if (http->loopback && host && !s_host_is_loopback(host)) {
        result = s_refuse(req, 421, "主机名不符 (misdirected request)");
        goto out;
    }
    if (url[0] != '/' || !xs_text_utf8_valid(url, strlen(url))) {
        result = s_refuse(req, 400, "请求无效 (bad request)");
        goto out;
    }
    if (http->password_hash[0] && !s_login(http, req)) {
        if (xs_http_header_add(req, "WWW-Authenticate",
                               "Basic realm=\"xueshi\", charset=\"UTF-8\"") != XS_OK)
            result = MHD_NO;
        else
            result = s_refuse(req, 401, "需要登录 (login required: user admin)");
        goto out;
    }
    if (post) {
        result = conn ? s_post_begin(http, req, conn) : MHD_NO;
        goto out;
    }
handle:
    http->handler(http->ctx, req);
    if (!req->response) {
        result = s_refuse(req, 500, "内部错误 (internal error)");
        goto out;
    }
    result = MHD_queue_response(con, req->status, req->response);
    MHD_destroy_response(req->response);
    req->response = NULL;
out:
    if (req->response)
        MHD_destroy_response(req->response);
    free(req);
    return result;
}

const char *xs_http_method(const xs_http_request_t *req) {
    return req->method;
}

const char *xs_http_path(const xs_http_request_t *req) {
    return req->path;
}

const char *xs_http_query(const xs_http_request_t *req, const char *name) {
    return MHD_lookup_connection_value(req->con, MHD_GET_ARGUMENT_KIND, name);
}

const char *xs_http_header(const xs_http_request_t *req, const char *name) {
    return MHD_lookup_connection_value(req->con, MHD_HEADER_KIND, name);
}

const char *xs_http_client(const xs_http_request_t *req) {
    return req->conn ? req->conn->client : "?";
}

/* The first field of the body named name that is (file 1) or is not (file 0) a file part. */
static const s_field_t *s_field(const xs_http_request_t *req, const char *name, int file) {
    const s_conn_t *c = req->conn;
    if (!c || c->reading != 2)
        return NULL;
    for (size_t i = 0; i < c->nfields; i++)
        if ((c->fields[i].filename != NULL) == file && strcmp(c->fields[i].name, name) == 0)
            return &c->fields[i];
    return NULL;
}

const char *xs_http_form(const xs_http_request_t *req, const char *name) {
    const s_field_t *f = s_field(req, name, 0);
    return f ? f->value : NULL;
}

xs_err xs_http_upload(const xs_http_request_t *req, const char *name, const uint8_t **bytes,
                      size_t *len, const char **filename) {
    const s_field_t *f = s_field(req, name, 1);
    if (!f)
        return XS_ENOTFOUND;
    *bytes = (const uint8_t *)f->value;
    *len = f->len;
    if (filename)
        *filename = f->filename;
    return XS_OK;
}

/* ---- the server ---- */

/* Reads a whole PEM file (at most XS_HTTP_PEM_MAX bytes) into *out, NUL-terminated. */
static xs_err s_read_pem(const char *path, char **out, size_t *len) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? XS_ENOTFOUND : errno == EACCES ? XS_EPERM : XS_EIO;
    char *bytes = malloc(XS_HTTP_PEM_MAX + 1);
    size_t used = 0;
    xs_err err = bytes ? XS_OK : XS_ENOMEM;
    while (err == XS_OK) {
        ssize_t n = read(fd, bytes + used, XS_HTTP_PEM_MAX + 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err = XS_EIO;
        else if (n == 0)
            break;
        else if ((used += (size_t)n) > XS_HTTP_PEM_MAX)
            err = XS_ETOOBIG;
    }
    close(fd);
    if (err == XS_OK && used == 0)
        err = XS_EINVAL;
    if (err != XS_OK) {
        if (bytes)
            explicit_bzero(bytes, XS_HTTP_PEM_MAX + 1);
        free(bytes);
        return err;
    }
    bytes[used] = '\0';
    *out = bytes;
    *len = used;
    return XS_OK;
}

static void s_free(xs_http_t *http) {
    if (http->key) {
        explicit_bzero(http->key, http->key_len);
        free(http->key);
    }
    free(http->cert);
    explicit_bzero(http->login_key, sizeof http->login_key);
    pthread_mutex_destroy(&http->lock);
    pthread_mutex_destroy(&http->verify_lock);
    free(http);
}

xs_err xs_http_start(xs_http_t **out, const xs_http_config_t *config) {
    s_listen_t l;
    size_t cert_len = 0;
    *out = NULL;
    if (!config->handler || !config->tls_cert != !config->tls_key)
        return XS_EINVAL;
    xs_err err = s_listen_parse(config->listen ? config->listen : XS_HTTP_LISTEN_DEFAULT, &l);
    if (err != XS_OK)
        return err;
    if (!l.loopback && (!config->tls_cert || !config->password_hash))
        return XS_EPERM;
    if (config->password_hash && strnlen(config->password_hash, XS_PWHASH_MAX) >= XS_PWHASH_MAX)
        return XS_EINVAL;
    if (config->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return XS_EINVAL;
    xs_http_t *http = calloc(1, sizeof *http);
    if (!http)
        return XS_ENOMEM;
    pthread_mutex_init(&http->lock, NULL);
    pthread_mutex_init(&http->verify_lock, NULL);
    xs_log_limit_init(&http->log_limit, S_LOG_LINES, S_LOG_WINDOW_S);
    http->handler = config->handler;
    http->ctx = config->ctx;
    http->loopback = l.loopback;
    http->post = config->post != 0;
    http->body_max = config->body_max ? config->body_max : XS_HTTP_BODY_DEFAULT;
    if (config->password_hash)
        snprintf(http->password_hash, sizeof http->password_hash, "%s", config->password_hash);
    xs_identity_random(http->login_key, sizeof http->login_key);
    if (config->tls_cert) {
        if ((err = s_read_pem(config->tls_cert, &http->cert, &cert_len)) != XS_OK ||
            (err = s_read_pem(config->tls_key, &http->key, &http->key_len)) != XS_OK)
            goto fail;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
                     MHD_USE_ERROR_LOG | (l.v6 ? MHD_USE_IPv6 : 0) |
                     (config->tls_cert ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, http->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, http->key},
        {MHD_OPTION_END, 0, NULL},
    };
    http->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_access, http, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, http,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&l.addr, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)XS_HTTP_REQUEST_MAX * 2, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)XS_HTTP_CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)XS_HTTP_CONNECTIONS_PER_CLIENT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)XS_HTTP_IDLE_SECONDS, MHD_OPTION_NOTIFY_CONNECTION, s_connection, http,
        MHD_OPTION_URI_LOG_CALLBACK, s_uri_log, http, MHD_OPTION_NOTIFY_COMPLETED, s_completed,
        http, MHD_OPTION_ARRAY, config->tls_cert ? tls : tls + 2, MHD_OPTION_END);
    if (!http->daemon) {
        err = XS_ENET;
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
    http->port = info ? info->port : 0;
    *out = http;
    return XS_OK;
fail:
    s_free(http);
    return err;
}

uint16_t xs_http_port(const xs_http_t *http) {
    return http->port;
}

void xs_http_stop(xs_http_t **http) {
    if (!http || !*http)
        return;
    if ((*http)->daemon)
        MHD_stop_daemon((*http)->daemon);
    s_free(*http);
    *http = NULL;
}
