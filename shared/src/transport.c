/* transport: the one file that speaks ZeroMQ — CURVE DEALER/ROUTER and the hub's ZAP handler. */
#include "xs/transport.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "xs/identity.h"

/* protocol.md §6: the options both ends set. */
/* ZMQ_MAXMSGSIZE applies to the frame on the wire, which under CURVE is the payload plus the
 * MESSAGE command's nonce, MAC and flags (33 bytes in libzmq 4.3). zmq gets this slack so a
 * payload of exactly XS_TRANSPORT_MAX_MSG passes; recv refuses anything bigger itself. */
#define S_CURVE_SLACK 256
#define S_HEARTBEAT_IVL_MS 5000
#define S_HEARTBEAT_TIMEOUT_MS 15000
#define S_HEARTBEAT_TTL_MS 15000
#define S_RECONNECT_IVL_MS 100
#define S_RECONNECT_IVL_MAX_MS 5000
/* A handshake includes a ZAP round trip through the hub's recv loop; slow links need slack. */
#define S_HANDSHAKE_IVL_MS 10000
/* Messages queued per peer on the way in. The credit window keeps a node below this; the cap
 * bounds what one peer can pin in the hub's memory (64 × 1.06 MiB). */
#define S_HWM XS_TRANSPORT_QUEUE
/* A server's queue per peer on the way out: its replies are small (ACKs, a VIEW) or few (a
 * page of receipts), and a whole window of ACKs leaves at once after a group commit. */
#define S_SERVER_SNDHWM 1024
/* How long a server send waits for room in a full queue before giving up on the peer. */
#define S_SEND_WAIT_MS 2000
/* How long a client send waits for room while the server works through what it queued. */
#define S_CLIENT_SEND_WAIT_MS 10000
/* How long a closing client waits for its last messages to leave. */
#define S_CLIENT_LINGER_MS 2000

/* The longest endpoint a client keeps, with its NUL. */
#define S_ENDPOINT_MAX 320
/* How long a client may spend asking a peer that broke a handshake off for its greeting. */
#define S_PROBE_MS 2000
/* ZMTP 3 (rfc.zeromq.org/spec/23): a greeting is 64 bytes; the mechanism is 20 bytes at 12. */
#define S_GREETING_BYTES 64

/* RFC 27: the handler's well-known endpoint, inside the server's own context. */
#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_MONITOR_ENDPOINT "inproc://xs.client.monitor"
/* A ZAP request for CURVE is 7 frames after the envelope; read at most this many. */
#define S_ZAP_MAX_FRAMES 10
#define S_USER_ID_HEX 64

/* Draft option in libzmq 4.3 (only builds with ZMQ_BUILD_DRAFT_API accept it): refuse CURVE
 * clients when no ZAP handler is bound. We bind one first anyway; this is defence in depth. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

struct xs_server {
    void *zctx;         /* the server's own zmq context: its ZAP endpoint is private to it */
    void *zap;          /* ROUTER bound on S_ZAP_ENDPOINT: the ZAP handler */
    void *router;       /* ROUTER, CURVE server, where nodes connect */
    xs_admit_fn admit;  /* the caller's admission check */
    void *admit_ctx;    /* its argument */
    zmq_msg_t last;     /* payload returned by the last recv, kept until the next */
    char endpoint[256]; /* endpoint actually bound (ZMQ_LAST_ENDPOINT) */
    xs_transport_stats_t stats;
};

struct xs_client {
    void *zctx;          /* the client's own zmq context */
    void *dealer;        /* DEALER, CURVE client */
    void *monitor;       /* PAIR receiving the dealer's handshake events */
    zmq_msg_t last;      /* payload returned by the last recv, kept until the next */
    bool allow_oversize; /* tests only: skip the local size check on send */
    bool failed;         /* the last handshake outcome seen was a failure */
    const char *why;     /* the last handshake failure, described ("Broken pipe"); NULL: none */
    int peer_curve;      /* the probe's answer: 1 a CURVE server, 0 not one, -1 not asked */
    char endpoint[S_ENDPOINT_MAX]; /* what the dealer connects to, for the probe */
    xs_transport_stats_t stats;
};

/* Maps a zmq errno to xs_err and logs it with zmq's own message. */
static xs_err s_fail(const char *what, int zerr) {
    xs_err err;
    switch (zerr) {
    case ENOMEM:
        err = XS_ENOMEM;
        break;
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENOCOMPATPROTO:
        err = XS_EINVAL;
        break;
    case EHOSTUNREACH:
        err = XS_ENOTFOUND;
        break;
    case EAGAIN:
    case EINTR:
        err = XS_ETIMEOUT;
        break;
    default:
        err = XS_ENET;
        break;
    }
    xs_log_err(err, "网络库出错 (zmq %s: %s)", what, zmq_strerror(zerr));
    return err;
}

static xs_err s_set_int(void *sock, int option, int value, const char *name) {
    if (zmq_setsockopt(sock, option, &value, sizeof value) != 0)
        return s_fail(name, zmq_errno());
    return XS_OK;
}

/* protocol.md §6: size cap, heartbeats, reconnect backoff, queue bounds, handshake limit. */
static xs_err s_set_common(void *sock, int linger_ms, int sndhwm) {
    int64_t max_msg = (int64_t)(XS_TRANSPORT_MAX_MSG + S_CURVE_SLACK);
    xs_err err;
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg) != 0)
        return s_fail("setsockopt ZMQ_MAXMSGSIZE", zmq_errno());
    if ((err = s_set_int(sock, ZMQ_HEARTBEAT_IVL, S_HEARTBEAT_IVL_MS, "ZMQ_HEARTBEAT_IVL")) ||
        (err = s_set_int(sock, ZMQ_HEARTBEAT_TIMEOUT, S_HEARTBEAT_TIMEOUT_MS,
                         "ZMQ_HEARTBEAT_TIMEOUT")) ||
        (err = s_set_int(sock, ZMQ_HEARTBEAT_TTL, S_HEARTBEAT_TTL_MS, "ZMQ_HEARTBEAT_TTL")) ||
        (err = s_set_int(sock, ZMQ_RECONNECT_IVL, S_RECONNECT_IVL_MS, "ZMQ_RECONNECT_IVL")) ||
        (err = s_set_int(sock, ZMQ_RECONNECT_IVL_MAX, S_RECONNECT_IVL_MAX_MS,
                         "ZMQ_RECONNECT_IVL_MAX")) ||
        (err = s_set_int(sock, ZMQ_HANDSHAKE_IVL, S_HANDSHAKE_IVL_MS, "ZMQ_HANDSHAKE_IVL")) ||
        (err = s_set_int(sock, ZMQ_SNDHWM, sndhwm, "ZMQ_SNDHWM")) ||
        (err = s_set_int(sock, ZMQ_RCVHWM, S_HWM, "ZMQ_RCVHWM")) ||
        (err = s_set_int(sock, ZMQ_LINGER, linger_ms, "ZMQ_LINGER")))
        return err;
    return XS_OK;
}

static xs_err s_set_key(void *sock, int option, const uint8_t key[32], const char *name) {
    if (zmq_setsockopt(sock, option, key, 32) != 0)
        return s_fail(name, zmq_errno());
    return XS_OK;
}

static int64_t s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline for zmq_poll: -1 forever, 0 when passed. */
static long s_left(int timeout_ms, int64_t deadline) {
    if (timeout_ms < 0)
        return -1;
    int64_t left = deadline - s_now_ms();
    return left > 0 ? (long)left : 0;
}

/* Discards the rest of a multipart message. */
static void s_drain(void *sock) {
    int more = 1;
    size_t more_len = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_len) == 0 && more) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        int rc = zmq_msg_recv(&frame, sock, ZMQ_DONTWAIT);
        zmq_msg_close(&frame);
        if (rc < 0)
            break;
    }
}

static int s_hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parses exactly 64 lowercase hex digits into 32 bytes. */
static bool s_parse_user_id(const char *text, uint8_t origin[32]) {
    if (!text || strlen(text) != S_USER_ID_HEX)
        return false;
    for (size_t i = 0; i < 32; i++) {
        int hi = s_hex_digit(text[2 * i]), lo = s_hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        origin[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* ---- server ---------------------------------------------------------------------------- */

static bool s_frame_is(zmq_msg_t *frame, const char *text) {
    size_t n = strlen(text);
    return zmq_msg_size(frame) == n && memcmp(zmq_msg_data(frame), text, n) == 0;
}

/* RFC 27 reply: envelope, then version, request id, status, text, User-Id, metadata. */
static void s_zap_reply(xs_server_t *s, zmq_msg_t *routing, zmq_msg_t *request_id,
                        const char *status, const char *text, const char *user_id) {
    struct {
        const void *ptr;
        size_t len;
    } parts[8] = {
        {zmq_msg_data(routing), zmq_msg_size(routing)},
        {"", 0},
        {"1.0", 3},
        {request_id ? zmq_msg_data(request_id) : "", request_id ? zmq_msg_size(request_id) : 0},
        {status, strlen(status)},
        {text, strlen(text)},
        {user_id, strlen(user_id)},
        {"", 0},
    };
    for (size_t i = 0; i < 8; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < 8 ? ZMQ_SNDMORE : 0);
        if (zmq_send(s->zap, parts[i].ptr, parts[i].len, flags) < 0) {
            /* The handshake's session is gone; it will never be admitted. */
            s_fail("ZAP reply", zmq_errno());
            return;
        }
    }
}

/* Answers one ZAP request (RFC 27) if one is waiting. Anything malformed gets 500: the
 * handshake fails, fail closed. */
static void s_zap_serve(xs_server_t *s) {
    zmq_msg_t frames[S_ZAP_MAX_FRAMES];
    size_t n = 0;
    bool more = true;
    while (more && n < S_ZAP_MAX_FRAMES) {
        zmq_msg_init(&frames[n]);
        if (zmq_msg_recv(&frames[n], s->zap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&frames[n]);
            break;
        }
        more = zmq_msg_more(&frames[n]);
        n++;
    }
    bool truncated = more && n == S_ZAP_MAX_FRAMES;
    if (truncated)
        s_drain(s->zap);
    if (n == 0)
        goto out;

    /* frames: [routing][""][version][request id][domain][address][routing id][mechanism]
     * [client key]; a CURVE request has exactly one credential. */
    zmq_msg_t *request_id = n > 3 ? &frames[3] : NULL;
    if (truncated || n != 9 || zmq_msg_size(&frames[1]) != 0 || !s_frame_is(&frames[2], "1.0") ||
        !s_frame_is(&frames[4], XS_TRANSPORT_ZAP_DOMAIN) || !s_frame_is(&frames[7], "CURVE") ||
        zmq_msg_size(&frames[8]) != 32) {
        xs_log("准入请求格式错误，已答 500 (ZAP: malformed request, %zu frames)", n);
        s->stats.zap_denied++;
        if (n >= 2 && zmq_msg_size(&frames[1]) == 0)
            s_zap_reply(s, &frames[0], request_id, "500", "malformed ZAP request", "");
        goto out;
    }

    uint8_t client_key[32], origin[32];
    memcpy(client_key, zmq_msg_data(&frames[8]), sizeof client_key);
    memset(origin, 0, sizeof origin);
    int verdict = s->admit(s->admit_ctx, client_key, origin);
    if (verdict > 0) {
        char user_id[S_USER_ID_HEX + 1];
        xs_hex_encode(origin, sizeof origin, user_id);
        s->stats.zap_admitted++;
        s_zap_reply(s, &frames[0], request_id, "200", "OK", user_id);
    } else if (verdict == 0) {
        s->stats.zap_denied++;
        s_zap_reply(s, &frames[0], request_id, "400", "not enrolled or revoked", "");
    } else {
        s->stats.zap_denied++;
        s_zap_reply(s, &frames[0], request_id, "500", "admission check failed", "");
    }
out:
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

xs_err xs_server_open(xs_server_t **out, const char *endpoint, const uint8_t box_public[32],
                      const uint8_t box_secret[32], xs_admit_fn admit, void *ctx) {
    assert(out && box_public && box_secret);
    *out = NULL;
    if (!endpoint || !admit)
        return XS_EINVAL;
    xs_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return XS_ENOMEM;
    s->admit = admit;
    s->admit_ctx = ctx;
    zmq_msg_init(&s->last);
    xs_err err = XS_OK;
    if (!(s->zctx = zmq_ctx_new())) {
        err = s_fail("ctx_new", zmq_errno());
        goto out;
    }

    /* Fail closed: the handler exists before any CURVE connection can reach the ROUTER. */
    if (!(s->zap = zmq_socket(s->zctx, ZMQ_ROUTER))) {
        err = s_fail("socket (ZAP)", zmq_errno());
        goto out;
    }
    if ((err = s_set_int(s->zap, ZMQ_LINGER, 0, "ZMQ_LINGER (ZAP)")) != XS_OK)
        goto out;
    if (zmq_bind(s->zap, S_ZAP_ENDPOINT) != 0) {
        err = s_fail("bind " S_ZAP_ENDPOINT, zmq_errno());
        goto out;
    }

    if (!(s->router = zmq_socket(s->zctx, ZMQ_ROUTER))) {
        err = s_fail("socket (ROUTER)", zmq_errno());
        goto out;
    }
    /* Linger 0: replies to nodes still queued when the hub stops are dropped; nodes retry. */
    if ((err = s_set_common(s->router, 0, S_SERVER_SNDHWM)) != XS_OK ||
        (err = s_set_int(s->router, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY")) ||
        (err = s_set_int(s->router, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER")) ||
        (err = s_set_key(s->router, ZMQ_CURVE_PUBLICKEY, box_public, "ZMQ_CURVE_PUBLICKEY")) ||
        (err = s_set_key(s->router, ZMQ_CURVE_SECRETKEY, box_secret, "ZMQ_CURVE_SECRETKEY")))
        goto out;
    if (zmq_setsockopt(s->router, ZMQ_ZAP_DOMAIN, XS_TRANSPORT_ZAP_DOMAIN,
                       strlen(XS_TRANSPORT_ZAP_DOMAIN)) != 0) {
        err = s_fail("setsockopt ZMQ_ZAP_DOMAIN", zmq_errno());
        goto out;
    }
    int enforce = 1;
    if (zmq_setsockopt(s->router, ZMQ_ZAP_ENFORCE_DOMAIN, &enforce, sizeof enforce) != 0 &&
        zmq_errno() != EINVAL) {
        /* EINVAL: a stable (non-draft) libzmq; the handler bound above is the guard. */
        err = s_fail("setsockopt ZMQ_ZAP_ENFORCE_DOMAIN", zmq_errno());
        goto out;
    }
    if (zmq_bind(s->router, endpoint) != 0) {
        int zerr = zmq_errno();
        xs_log(
            "无法监听 %s：地址或端口可能已被占用 (cannot listen: the address or port may be taken)",
            endpoint);
        err = s_fail("bind", zerr);
        goto out;
    }
    size_t ep_len = sizeof s->endpoint;
    if (zmq_getsockopt(s->router, ZMQ_LAST_ENDPOINT, s->endpoint, &ep_len) != 0) {
        err = s_fail("getsockopt ZMQ_LAST_ENDPOINT", zmq_errno());
        goto out;
    }
    s->endpoint[sizeof s->endpoint - 1] = '\0';
out:
    if (err != XS_OK) {
        xs_server_close(&s);
        return err;
    }
    *out = s;
    return XS_OK;
}

const char *xs_server_endpoint(const xs_server_t *s) {
    assert(s);
    return s->endpoint;
}

/* Takes one message from the ROUTER if it is authenticated and within the size cap. XS_OK with
 * *peer and s->last filled (s->last empty for a multipart message); XS_ENOTFOUND when there
 * was nothing usable (dropped or none waiting). */
static xs_err s_server_take(xs_server_t *s, xs_peer_t *peer) {
    zmq_msg_t routing;
    zmq_msg_init(&routing);
    if (zmq_msg_recv(&routing, s->router, ZMQ_DONTWAIT) < 0) {
        int zerr = zmq_errno();
        zmq_msg_close(&routing);
        if (zerr == EAGAIN || zerr == EINTR)
            return XS_ENOTFOUND;
        return s_fail("recv (ROUTER)", zerr);
    }
    xs_err err = XS_ENOTFOUND;
    size_t routing_len = zmq_msg_size(&routing);
    if (!zmq_msg_more(&routing) || routing_len == 0 || routing_len > sizeof peer->routing)
        goto drop;
    if (zmq_msg_recv(&s->last, s->router, ZMQ_DONTWAIT) < 0)
        goto drop;
    /* The User-Id our ZAP handler gave this connection; zmq attaches it to every frame. */
    if (!s_parse_user_id(zmq_msg_gets(&s->last, "User-Id"), peer->origin)) {
        xs_log("丢弃一条没有可用身份的消息 (dropped a message without a usable ZAP User-Id)");
        if (zmq_msg_more(&s->last))
            s_drain(s->router);
        goto drop;
    }
    if (zmq_msg_more(&s->last)) {
        /* No xueshi message has two frames. Its sender is known, so it is refused like any
         * frame that does not parse (protocol.md §5): the caller gets an empty frame, which
         * the protocol decoder calls malformed, and answers it with ERROR. */
        s_drain(s->router);
        zmq_msg_close(&s->last);
        zmq_msg_init(&s->last);
        s->stats.msgs_multipart++;
    } else if (zmq_msg_size(&s->last) > XS_TRANSPORT_MAX_MSG) {
        goto drop;
    }
    memcpy(peer->routing, zmq_msg_data(&routing), routing_len);
    peer->routing_len = routing_len;
    s->stats.msgs_received++;
    s->stats.bytes_received += zmq_msg_size(&s->last);
    zmq_msg_close(&routing);
    return XS_OK;
drop:
    s->stats.msgs_dropped++;
    zmq_msg_close(&routing);
    zmq_msg_close(&s->last);
    zmq_msg_init(&s->last);
    return err;
}

xs_err xs_server_recv(xs_server_t *s, int timeout_ms, xs_peer_t *peer, const uint8_t **bytes,
                      size_t *len) {
    assert(s && peer && bytes && len);
    zmq_msg_close(&s->last);
    zmq_msg_init(&s->last);
    int64_t deadline = s_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        zmq_pollitem_t items[2] = {{s->router, 0, ZMQ_POLLIN, 0}, {s->zap, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, s_left(timeout_ms, deadline)) < 0) {
            int zerr = zmq_errno();
            if (zerr == EINTR)
                return XS_ETIMEOUT; /* a signal: let the caller look at its stop flag */
            return s_fail("poll (server)", zerr);
        }
        /* Handshakes first: each waits on us, and a stalled one times out the client. */
        if (items[1].revents & ZMQ_POLLIN)
            s_zap_serve(s);
        if (items[0].revents & ZMQ_POLLIN) {
            xs_err err = s_server_take(s, peer);
            if (err == XS_OK) {
                *bytes = zmq_msg_data(&s->last);
                *len = zmq_msg_size(&s->last);
                return XS_OK;
            }
            if (err != XS_ENOTFOUND)
                return err;
        }
        if (timeout_ms >= 0 && s_now_ms() >= deadline)
            return XS_ETIMEOUT;
    }
}

xs_err xs_server_send(xs_server_t *s, const xs_peer_t *peer, const void *bytes, size_t len) {
    assert(s && peer && (bytes || len == 0));
    if (len > XS_TRANSPORT_MAX_MSG)
        return XS_ETOOBIG;
    if (peer->routing_len == 0 || peer->routing_len > sizeof peer->routing)
        return XS_EINVAL;
    /* ROUTER_MANDATORY: an unknown routing id fails here (EHOSTUNREACH) instead of vanishing;
     * a full queue fails with EAGAIN instead of blocking, so wait a little for it to drain
     * (a reply dropped here would leave the node waiting for it until its timeout). */
    for (int waited = 0;; waited++) {
        if (zmq_send(s->router, peer->routing, peer->routing_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            break;
        int zerr = zmq_errno();
        if (zerr == EHOSTUNREACH)
            return XS_ENOTFOUND; /* the node went away: ordinary, not worth a log line */
        if (zerr != EAGAIN || waited >= S_SEND_WAIT_MS)
            return s_fail("send (ROUTER)", zerr);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    if (zmq_send(s->router, bytes ? bytes : "", len, ZMQ_DONTWAIT) < 0)
        return s_fail("send (ROUTER)", zmq_errno());
    s->stats.msgs_sent++;
    s->stats.bytes_sent += len;
    return XS_OK;
}

void xs_server_stats(const xs_server_t *s, xs_transport_stats_t *out) {
    assert(s && out);
    *out = s->stats;
}

void xs_server_close(xs_server_t **sp) {
    if (!sp || !*sp)
        return;
    xs_server_t *s = *sp;
    zmq_msg_close(&s->last);
    /* The ROUTER goes first: no handshake may outlive the handler that guards it. */
    if (s->router)
        zmq_close(s->router);
    if (s->zap)
        zmq_close(s->zap);
    if (s->zctx) {
        while (zmq_ctx_term(s->zctx) != 0 && zmq_errno() == EINTR)
            ;
    }
    free(s);
    *sp = NULL;
}

/* ---- client ---------------------------------------------------------------------------- */

xs_err xs_client_open(xs_client_t **out, const char *endpoint, const uint8_t server_box_pk[32],
                      const uint8_t box_public[32], const uint8_t box_secret[32]) {
    assert(out && server_box_pk && box_public && box_secret);
    *out = NULL;
    if (!endpoint)
        return XS_EINVAL;
    if (strlen(endpoint) >= S_ENDPOINT_MAX)
        return XS_EINVAL;
    xs_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return XS_ENOMEM;
    zmq_msg_init(&c->last);
    memcpy(c->endpoint, endpoint, strlen(endpoint) + 1);
    c->peer_curve = -1;
    xs_err err = XS_OK;
    if (!(c->zctx = zmq_ctx_new())) {
        err = s_fail("ctx_new", zmq_errno());
        goto out;
    }
    if (!(c->dealer = zmq_socket(c->zctx, ZMQ_DEALER))) {
        err = s_fail("socket (DEALER)", zmq_errno());
        goto out;
    }
    if ((err = s_set_common(c->dealer, S_CLIENT_LINGER_MS, S_HWM)) != XS_OK ||
        (err = s_set_key(c->dealer, ZMQ_CURVE_SERVERKEY, server_box_pk, "ZMQ_CURVE_SERVERKEY")) ||
        (err = s_set_key(c->dealer, ZMQ_CURVE_PUBLICKEY, box_public, "ZMQ_CURVE_PUBLICKEY")) ||
        (err = s_set_key(c->dealer, ZMQ_CURVE_SECRETKEY, box_secret, "ZMQ_CURVE_SECRETKEY")))
        goto out;
    /* The monitor is attached before connecting so that no handshake outcome is missed. */
    if (zmq_socket_monitor(c->dealer, S_MONITOR_ENDPOINT,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
        err = s_fail("socket_monitor", zmq_errno());
        goto out;
    }
    if (!(c->monitor = zmq_socket(c->zctx, ZMQ_PAIR))) {
        err = s_fail("socket (monitor)", zmq_errno());
        goto out;
    }
    if ((err = s_set_int(c->monitor, ZMQ_LINGER, 0, "ZMQ_LINGER (monitor)")) != XS_OK)
        goto out;
    if (zmq_connect(c->monitor, S_MONITOR_ENDPOINT) != 0) {
        err = s_fail("connect " S_MONITOR_ENDPOINT, zmq_errno());
        goto out;
    }
    if (zmq_connect(c->dealer, endpoint) != 0) {
        int zerr = zmq_errno();
        xs_log("无法连接 %s (cannot connect)", endpoint);
        err = s_fail("connect", zerr);
        goto out;
    }
out:
    if (err != XS_OK) {
        xs_client_close(&c);
        return err;
    }
    *out = c;
    return XS_OK;
}

xs_err xs_client_send(xs_client_t *c, const void *bytes, size_t len) {
    assert(c && (bytes || len == 0));
    if (len > XS_TRANSPORT_MAX_MSG && !c->allow_oversize)
        return XS_ETOOBIG;
    /* A full queue at a server that has answered means it is busy (a group commit): wait a
     * while for room rather than fail a sync. Before any answer (a refused or unreachable
     * server) nothing may ever leave, so fail at once. */
    for (int64_t deadline = s_now_ms() + S_CLIENT_SEND_WAIT_MS;;) {
        if (zmq_send(c->dealer, bytes ? bytes : "", len, ZMQ_DONTWAIT) >= 0)
            break;
        int zerr = zmq_errno();
        long left = s_left(0, deadline);
        if (zerr != EAGAIN || c->failed || c->stats.msgs_received == 0 || left <= 0)
            return s_fail("send (DEALER)", zerr);
        zmq_pollitem_t item = {c->dealer, 0, ZMQ_POLLOUT, 0};
        (void)zmq_poll(&item, 1, left > 100 ? 100 : left);
    }
    c->stats.msgs_sent++;
    c->stats.bytes_sent += len;
    return XS_OK;
}

/* 1 when greeting is a ZMTP 3 greeting offering CURVE. (The as-server flag says nothing:
 * libzmq always sends 0.) */
static bool s_greets_with_curve(const uint8_t greeting[S_GREETING_BYTES]) {
    static const uint8_t curve[20] = "CURVE";
    return greeting[0] == 0xff && (greeting[9] & 1) && greeting[10] >= 3 &&
           memcmp(greeting + 12, curve, sizeof curve) == 0;
}

/* Asks the peer at c's endpoint, over a plain connection (a STREAM socket), for its ZMTP
 * greeting: it sends its own after our signature and major version. Returns 1 when it greets
 * with CURVE (it took our TCP connection: a CURVE server), 0 when it hangs up, greets
 * otherwise, or says nothing within budget_ms. */
static int s_probe_curve_server(xs_client_t *c, int budget_ms) {
    /* Signature (0xff, 8 bytes of padding, 0x7f: versioned), then major version 3. */
    static const uint8_t opening[11] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3};
    uint8_t greeting[S_GREETING_BYTES], routing[256];
    size_t got = 0, routing_len = 0;
    int verdict = -1;
    int64_t deadline = s_now_ms() + budget_ms;
    void *probe = zmq_socket(c->zctx, ZMQ_STREAM);
    if (!probe)
        return 0;
    int linger = 0;
    if (zmq_setsockopt(probe, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_connect(probe, c->endpoint) != 0)
        verdict = 0;
    while (verdict < 0) {
        long left = s_left(0, deadline);
        zmq_pollitem_t item = {probe, 0, ZMQ_POLLIN, 0};
        if (left == 0 || (zmq_poll(&item, 1, left) < 0 && zmq_errno() != EINTR))
            break;
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        /* A STREAM message: [connection id][bytes]; no bytes: connected, or hung up. */
        zmq_msg_t id, data;
        zmq_msg_init(&id);
        zmq_msg_init(&data);
        if (zmq_msg_recv(&id, probe, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&id) &&
            zmq_msg_recv(&data, probe, ZMQ_DONTWAIT) >= 0) {
            size_t n = zmq_msg_size(&data);
            if (n == 0 && routing_len == 0 && zmq_msg_size(&id) <= sizeof routing) {
                routing_len = zmq_msg_size(&id);
                memcpy(routing, zmq_msg_data(&id), routing_len);
                if (zmq_send(probe, routing, routing_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
                    zmq_send(probe, opening, sizeof opening, ZMQ_DONTWAIT) < 0)
                    verdict = 0;
            } else if (n == 0) {
                verdict = 0; /* it hung up before a whole greeting */
            } else {
                size_t take = n < sizeof greeting - got ? n : sizeof greeting - got;
                memcpy(greeting + got, zmq_msg_data(&data), take);
                got += take;
                if (got == sizeof greeting)
                    verdict = s_greets_with_curve(greeting);
            }
        }
        s_drain(probe);
        zmq_msg_close(&id);
        zmq_msg_close(&data);
    }
    zmq_close(probe);
    return verdict > 0;
}

/* Classifies a handshake that ended without a word from the peer. libzmq reports a CURVE
 * server that cannot open our HELLO (a wrong server key: it closes the connection) exactly as
 * it reports a link or a stranger that closes it: both are an orderly close, EPIPE here. A
 * reset, a handshake timeout or anything else is the link. After an orderly close the peer is
 * asked once (up to probe_ms; 0: not now) whether it is a CURVE server. */
static xs_err s_no_detail(xs_client_t *c, uint32_t value, int probe_ms) {
    if (value != EPIPE)
        return XS_ENET;
    if (c->peer_curve < 0 && probe_ms > 0)
        c->peer_curve = s_probe_curve_server(c, probe_ms);
    return c->peer_curve == 1 ? XS_ECRYPTO : XS_ENET;
}

/* Reads every waiting monitor event. Returns the outcome of the last handshake seen: XS_OK
 * when it succeeded or none was seen, else the error recv reports (XS_EREFUSED, XS_ECRYPTO,
 * XS_ENET: see xs_client_recv); the caller says what they mean. When loud, may ask the peer who it
 * is (up to probe_ms, once per client). */
static xs_err s_client_events(xs_client_t *c, bool loud, int probe_ms) {
    xs_err verdict = XS_OK;
    for (;;) {
        zmq_msg_t head;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, c->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            break;
        }
        /* Frame 1: uint16 event, uint32 value, in host order; frame 2: the endpoint. */
        uint16_t event = 0;
        uint32_t value = 0;
        bool whole = zmq_msg_size(&head) == 6 && zmq_msg_more(&head);
        if (whole) {
            memcpy(&event, zmq_msg_data(&head), sizeof event);
            memcpy(&value, (const uint8_t *)zmq_msg_data(&head) + 2, sizeof value);
        }
        s_drain(c->monitor);
        zmq_msg_close(&head);
        if (!whole)
            continue;
        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            verdict = XS_OK;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            /* The ZAP status the hub sent in its ERROR command: 400 refused, 500 its fault. */
            verdict = value == 400 ? XS_EREFUSED : XS_ENET;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            /* It speaks ZMTP but breaks CURVE's rules with us: another mechanism (not a hub),
             * a WELCOME that does not open with the key we hold, a malformed command. */
            verdict = XS_ECRYPTO;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            verdict = s_no_detail(c, value, loud ? probe_ms : 0);
            break;
        default:
            continue;
        }
        c->failed = verdict != XS_OK;
        if (c->failed)
            c->why = event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ? zmq_strerror((int)value)
                     : event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH    ? "ZAP"
                                                                   : "CURVE";
    }
    return verdict;
}

xs_err xs_client_recv(xs_client_t *c, int timeout_ms, const uint8_t **bytes, size_t *len) {
    assert(c && bytes && len);
    zmq_msg_close(&c->last);
    zmq_msg_init(&c->last);
    int64_t deadline = s_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        zmq_pollitem_t items[2] = {{c->dealer, 0, ZMQ_POLLIN, 0}, {c->monitor, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, s_left(timeout_ms, deadline)) < 0) {
            int zerr = zmq_errno();
            if (zerr == EINTR)
                return XS_ETIMEOUT;
            return s_fail("poll (client)", zerr);
        }
        /* A message waiting came through an authenticated connection: it goes first, and the
         * events after it are read by the next call. */
        if (items[0].revents & ZMQ_POLLIN) {
            if (zmq_msg_recv(&c->last, c->dealer, ZMQ_DONTWAIT) >= 0) {
                if (!zmq_msg_more(&c->last) && zmq_msg_size(&c->last) <= XS_TRANSPORT_MAX_MSG) {
                    c->stats.msgs_received++;
                    c->stats.bytes_received += zmq_msg_size(&c->last);
                    *bytes = zmq_msg_data(&c->last);
                    *len = zmq_msg_size(&c->last);
                    return XS_OK;
                }
                if (zmq_msg_more(&c->last))
                    s_drain(c->dealer);
                c->stats.msgs_dropped++;
                zmq_msg_close(&c->last);
                zmq_msg_init(&c->last);
            } else {
                int zerr = zmq_errno();
                if (zerr != EAGAIN && zerr != EINTR)
                    return s_fail("recv (DEALER)", zerr);
            }
        }
        if (items[1].revents & ZMQ_POLLIN) {
            xs_err verdict = s_client_events(c, true, S_PROBE_MS);
            if (verdict != XS_OK)
                return verdict;
        }
        if (timeout_ms >= 0 && s_now_ms() >= deadline)
            return XS_ETIMEOUT;
    }
}

const char *xs_client_why(const xs_client_t *c) {
    return c->why ? c->why : "";
}

void xs_client_stats(const xs_client_t *c, xs_transport_stats_t *out) {
    assert(c && out);
    *out = c->stats;
}

void xs_client_test_allow_oversize(xs_client_t *c) {
    assert(c);
    c->allow_oversize = true;
}

xs_err xs_client_test_send_parts(xs_client_t *c, const void *first, size_t first_len,
                                 const void *second, size_t second_len) {
    assert(c && first && second);
    if (zmq_send(c->dealer, first, first_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(c->dealer, second, second_len, ZMQ_DONTWAIT) < 0)
        return s_fail("send (DEALER)", zmq_errno());
    c->stats.msgs_sent++;
    c->stats.bytes_sent += first_len + second_len;
    return XS_OK;
}

void xs_client_close(xs_client_t **cp) {
    if (!cp || !*cp)
        return;
    xs_client_t *c = *cp;
    zmq_msg_close(&c->last);
    if (c->dealer) {
        /* Linger lets queued messages leave, but none can after a failed handshake, and none
         * matter to a peer that never answered (they are requests the caller will repeat):
         * do not make a refused or unanswered node wait for nothing. */
        if (c->monitor)
            (void)s_client_events(c, false, 0);
        if (c->failed || c->stats.msgs_received == 0) {
            int linger = 0;
            zmq_setsockopt(c->dealer, ZMQ_LINGER, &linger, sizeof linger);
        }
        zmq_socket_monitor(c->dealer, NULL, 0);
        zmq_close(c->dealer);
    }
    if (c->monitor)
        zmq_close(c->monitor);
    if (c->zctx) {
        while (zmq_ctx_term(c->zctx) != 0 && zmq_errno() == EINTR)
            ;
    }
    free(c);
    *cp = NULL;
}
