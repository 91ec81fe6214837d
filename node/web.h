/* web: the village operator's pages (xueshi-node web): 登记 one activity, 导入 a register, the
 * 记录 list with void, 学时 totals, 同步 and U盘, server-rendered over the open node and
 * served by xs_http; every form a POST carrying a CSRF token. */
#ifndef NODE_WEB_H
#define NODE_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* Largest request body the pages take (a register sheet uploaded whole), in bytes. */
#define NODE_WEB_BODY_MAX ((size_t)32 << 20)
/* Largest page rendered, in bytes. */
#define NODE_WEB_PAGE_MAX ((size_t)16 << 20)
/* Most rows the 记录 page lists (the newest); a filter narrows it. */
#define NODE_WEB_ROWS_MAX 2000
/* Seconds one sync session started from the 同步 page may take. */
#define NODE_WEB_SYNC_SECONDS 20

/* How the pages are served. Strings are read during node_web_start only. */
typedef struct node_web_config {
    const char *listen;        /* "HOST:PORT" as xs_http_config_t.listen; NULL: 127.0.0.1:8090 */
    const char *tls_cert;      /* PEM certificate: HTTPS; NULL: plain HTTP */
    const char *tls_key;       /* its private key, with tls_cert */
    const char *password_hash; /* xs_identity_pwhash string every request must log in with
                                  (user admin); NULL: none (loopback only) */
    int sync_timeout_ms;       /* one sync session's limit; 0: NODE_WEB_SYNC_SECONDS */
} node_web_config_t;

/* The address the pages listen on when none is given. */
#define NODE_WEB_LISTEN_DEFAULT "127.0.0.1:8090"

typedef struct node_web node_web_t;

/* Serves the pages over node (open, borrowed until node_web_stop) on threads of their own and
 * returns at once. A fresh random CSRF secret is made for the process: a form rendered by an
 * earlier process is refused (403, saying to reload it). A listen address other than loopback
 * is refused (XS_EPERM) unless both TLS and a password are given. Errors as xs_http_start
 * (XS_EINVAL, XS_EPERM, XS_ENOTFOUND, XS_ETOOBIG, XS_EIO, XS_ENET), XS_ENOMEM. *out is the
 * caller's; stop it with node_web_stop. */
XS_MUST_USE xs_err node_web_start(node_web_t **out, node_t *node, const node_web_config_t *config);

/* The port the pages are served on (the one picked, for port 0). */
uint16_t node_web_port(const node_web_t *web);

/* Stops serving, waits for the requests being answered, and frees *web; accepts NULL and nulls
 * the pointer. The node stays open. */
void node_web_stop(node_web_t **web);

#endif
