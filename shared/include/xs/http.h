/* http: a small HTTP(S) server for server-rendered pages (libmicrohttpd, GnuTLS): GET and HEAD,
 * and where a server asks for it POST with a bounded form body; a thread per connection,
 * optional TLS and an admin password. */
#ifndef XS_HTTP_H
#define XS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

/* The address a server listens on when none is given. */
#define XS_HTTP_LISTEN_DEFAULT "127.0.0.1:8080"
/* The one user name the admin password is asked with (HTTP Basic). */
#define XS_HTTP_USER "admin"
/* Bytes a client's request line and headers may take in all: over it, 414 or 431. */
#define XS_HTTP_REQUEST_MAX (16 * 1024)
/* Most connections served at once (a thread each), and from one client address. */
#define XS_HTTP_CONNECTIONS_MAX 64
#define XS_HTTP_CONNECTIONS_PER_CLIENT 16
/* Seconds a connection may stay idle before it is closed. */
#define XS_HTTP_IDLE_SECONDS 30
/* Largest PEM certificate or key file read for TLS, in bytes. */
#define XS_HTTP_PEM_MAX (64 * 1024)
/* Most headers a handler adds to one response. */
#define XS_HTTP_HEADERS_MAX 8
/* Largest POST body read when a server takes POST without saying how much, in bytes. */
#define XS_HTTP_BODY_DEFAULT (64 * 1024)
/* Most fields and files one POST body may carry, and the longest name of one, in bytes. */
#define XS_HTTP_FIELDS_MAX 256
#define XS_HTTP_FIELD_NAME_MAX 128

typedef struct xs_http xs_http_t;
typedef struct xs_http_request xs_http_request_t;

/* Handles one GET or HEAD request (or POST, with its body read whole): answers it with
 * xs_http_respond or xs_http_respond_file (else the client gets 500). Runs on the connection's own
 * thread, several at once. */
typedef void (*xs_http_handler_fn)(void *ctx, xs_http_request_t *req);

/* How a server starts. Strings are read during xs_http_start only. */
typedef struct xs_http_config {
    const char *listen;        /* "HOST:PORT": an IPv4 literal, "[IPv6]" or localhost; port 0
                                  takes a free one; NULL: XS_HTTP_LISTEN_DEFAULT */
    const char *tls_cert;      /* PEM certificate file: HTTPS; NULL: plain HTTP */
    const char *tls_key;       /* PEM private key file, with tls_cert */
    const char *password_hash; /* an xs_identity_pwhash string: every request must carry HTTP
                                  Basic credentials XS_HTTP_USER and the password; NULL: none */
    int post;                  /* 1: POST is served too, its body application/x-www-form-
                                  urlencoded or multipart/form-data; 0: POST gets 405 */
    size_t body_max;           /* largest POST body read, in bytes (over it: 413); 0:
                                  XS_HTTP_BODY_DEFAULT */
    xs_http_handler_fn handler;
    void *ctx; /* handed to handler */
} xs_http_config_t;

/* Parses a listen address "HOST:PORT" as xs_http_config_t.listen describes it and sets
 * *loopback (may be NULL) to 1 when HOST is 127.0.0.0/8, ::1 or localhost. XS_EINVAL. */
XS_MUST_USE xs_err xs_http_listen_parse(const char *listen, int *loopback);

/* Starts serving config->listen on threads of its own and returns at once. A listen address
 * other than loopback is refused (XS_EPERM) unless both TLS and a password are configured.
 * Every response carries a Content-Security-Policy without scripts, nosniff, no referrer,
 * no-store and no framing; a request other than GET or HEAD (or POST, with config->post) gets
 * 405; a POST body over body_max gets 413 (at once when its Content-Length says so), one of
 * another content type 415, one that does not parse (or whose text fields are not UTF-8) 400,
 * all before the handler runs; a request to a loopback
 * listen naming another Host gets 421 (no DNS rebinding); a request with wrong or missing
 * credentials gets 401 (a wrong password after about a second); every 4xx and every login is
 * logged with the client's address (xs_log). XS_EINVAL (bad listen, missing TLS half or
 * handler), XS_EPERM, XS_ENOTFOUND or XS_ETOOBIG (a PEM file missing or over
 * XS_HTTP_PEM_MAX), XS_EIO, XS_ENET (cannot bind: the address or port is taken). *out is the
 * caller's; stop it with xs_http_stop. */
XS_MUST_USE xs_err xs_http_start(xs_http_t **out, const xs_http_config_t *config);

/* The port the server listens on (the one picked, for port 0). */
uint16_t xs_http_port(const xs_http_t *http);

/* Stops accepting, waits for the running requests, and frees *http; accepts NULL and nulls
 * the pointer. */
void xs_http_stop(xs_http_t **http);

/* ---- inside a handler: everything borrowed is valid until the handler returns ---- */

/* "GET", "HEAD" or "POST". HEAD is answered like GET; the server sends no body. */
const char *xs_http_method(const xs_http_request_t *req);
/* The path, percent-decoded, without the query: valid UTF-8, starting with '/'. */
const char *xs_http_path(const xs_http_request_t *req);
/* The decoded value of query parameter name, or NULL when absent. */
const char *xs_http_query(const xs_http_request_t *req, const char *name);
/* The value of request header name (any case), or NULL when absent. */
const char *xs_http_header(const xs_http_request_t *req, const char *name);
/* The client's address as text ("127.0.0.1", "::1"). */
const char *xs_http_client(const xs_http_request_t *req);

/* The value of text field name of a POST's body (a urlencoded pair, or a multipart part
 * without a file name): NUL-terminated valid UTF-8 without NUL bytes; the first when the name
 * repeats; NULL when absent (or not a POST). */
const char *xs_http_form(const xs_http_request_t *req, const char *name);

/* The file part name of a multipart POST body: *bytes and *len get its content, *filename
 * (may be NULL) the file name the browser sent (UTF-8, "" when it sent none: no file chosen,
 * len 0). XS_ENOTFOUND when the body has no file part of that name. */
XS_MUST_USE xs_err xs_http_upload(const xs_http_request_t *req, const char *name,
                                  const uint8_t **bytes, size_t *len, const char **filename);

/* Adds a response header (Content-Disposition, Location...) to the answer the handler is
 * about to give. XS_EINVAL for a name or value holding a line break or a name that is not a
 * token, XS_ETOOBIG past XS_HTTP_HEADERS_MAX. */
XS_MUST_USE xs_err xs_http_header_add(xs_http_request_t *req, const char *name, const char *value);

/* Answers with status, content_type (a static string) and the len bytes at *body, which the
 * server takes (malloc'd; *body is nulled, also on error). XS_EINVAL when the request was
 * answered already, XS_ENOMEM. */
XS_MUST_USE xs_err xs_http_respond(xs_http_request_t *req, unsigned status,
                                   const char *content_type, void **body, size_t len);

/* Answers with status, content_type and the whole of the open file *fd (from its start),
 * which the server takes and closes (*fd becomes -1, also on error). XS_EINVAL as above,
 * XS_EIO when the file cannot be read, XS_ENOMEM. */
XS_MUST_USE xs_err xs_http_respond_file(xs_http_request_t *req, unsigned status,
                                        const char *content_type, int *fd);

#endif
