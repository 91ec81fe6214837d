/* transport: CURVE-encrypted ZeroMQ between a node's DEALER and a hub's ZAP-guarded ROUTER. */
#ifndef XS_TRANSPORT_H
#define XS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

/* The largest frame either side accepts (protocol.md §5, §6), in bytes: 1 MiB + 64 KiB. A
 * receiver drops a bigger frame unseen (zmq cuts the connection of a peer sending more than
 * a few hundred bytes over); senders refuse one locally with XS_ETOOBIG. */
#define XS_TRANSPORT_MAX_MSG ((size_t)1 << 20 | (size_t)64 << 10)
/* Messages one peer may have queued each way; a sender with more unacknowledged messages
 * than this in flight gets XS_ETIMEOUT from send, so a sync window stays below it. */
#define XS_TRANSPORT_QUEUE 64
/* The ZAP domain a hub's ROUTER announces (protocol.md §6). */
#define XS_TRANSPORT_ZAP_DOMAIN "xueshi"

typedef struct xs_server xs_server_t; /* a ROUTER, CURVE server, with its own ZAP handler */
typedef struct xs_client xs_client_t; /* a DEALER, CURVE client */

/* The authenticated sender of a message: never a routing id the peer chose. */
typedef struct xs_peer {
    uint8_t routing[256]; /* ROUTER routing id (zmq-generated), to address the reply */
    size_t routing_len;   /* bytes of routing used, 1..255 */
    uint8_t origin[32];   /* the node's Ed25519 key, from the ZAP User-Id of its connection */
} xs_peer_t;

/* Message and byte counts of one endpoint, for benchmarks and logs. Bytes are payload only. */
typedef struct xs_transport_stats {
    uint64_t msgs_sent;      /* messages handed to zmq */
    uint64_t bytes_sent;     /* their payload, in bytes */
    uint64_t msgs_received;  /* messages returned to the caller */
    uint64_t bytes_received; /* their payload, in bytes */
    uint64_t msgs_dropped;   /* received, not returned: oversize, no User-Id */
    uint64_t msgs_multipart; /* server: of more than one frame, returned empty (refused) */
    uint64_t zap_admitted;   /* server: handshakes the ZAP handler answered 200 */
    uint64_t zap_denied;     /* server: handshakes answered 400 (refused) or 500 (error) */
} xs_transport_stats_t;

/* Decides whether a CURVE client key may connect. Return 1 and fill origin to admit (ZAP 200,
 * User-Id = origin in hex); 0 to refuse (ZAP 400: the client gets XS_EREFUSED); negative when
 * the decision could not be made, e.g. the store failed (ZAP 500: the client gets XS_ENET and
 * may try again later with a new connection). Called once per handshake, on the thread that
 * calls xs_server_recv, from inside it. Admission is decided at the handshake only: a key
 * revoked later keeps its open connection, so the caller checks each message's origin. */
typedef int (*xs_admit_fn)(void *ctx, const uint8_t client_box_pk[32], uint8_t origin[32]);

/* Opens a CURVE server on endpoint ("tcp://0.0.0.0:7450"; "tcp://127.0.0.1:*" picks a free
 * port, see xs_server_endpoint). Binds the ZAP handler first, so no client is ever admitted
 * without admit() agreeing. box_secret is read here and handed to zmq only; the caller keeps
 * it. admit and ctx must outlive the server. XS_EINVAL (bad endpoint or NULL admit), XS_ENET
 * (cannot bind: address in use…), XS_ENOMEM. *out is the caller's. */
XS_MUST_USE xs_err xs_server_open(xs_server_t **out, const char *endpoint,
                                  const uint8_t box_public[32], const uint8_t box_secret[32],
                                  xs_admit_fn admit, void *ctx);

/* The endpoint actually bound, with the port resolved ("tcp://127.0.0.1:40123"); valid
 * while s lives. */
const char *xs_server_endpoint(const xs_server_t *s);

/* Waits up to timeout_ms (0: poll once, -1: forever) for one message, answering ZAP requests
 * (calling admit) meanwhile: a hub must call it often, or handshakes stall. Fills *peer and
 * sets *bytes, *len to the payload; *bytes is valid until the next xs_server_recv or close.
 * A message of more than one frame is returned with an empty payload (len 0), which the
 * protocol decoder refuses as malformed, so the caller answers it with ERROR like any frame
 * that does not parse (protocol.md §5). Messages without a parsable User-Id are dropped
 * unseen. XS_ETIMEOUT when nothing came in time, also early when a signal interrupted the wait
 * (so the caller can check its stop flag); XS_ENET on a zmq failure. Never XS_ETOOBIG: a frame
 * over XS_TRANSPORT_MAX_MSG is dropped unseen, or zmq cuts the sender's connection. */
XS_MUST_USE xs_err xs_server_recv(xs_server_t *s, int timeout_ms, xs_peer_t *peer,
                                  const uint8_t **bytes, size_t *len);

/* Queues len bytes for peer (as filled by xs_server_recv) without blocking. XS_ENOTFOUND when
 * the peer's connection is gone; XS_ETIMEOUT when its queue is full (it is not reading);
 * XS_ETOOBIG over XS_TRANSPORT_MAX_MSG; XS_ENET on another zmq failure. */
XS_MUST_USE xs_err xs_server_send(xs_server_t *s, const xs_peer_t *peer, const void *bytes,
                                  size_t len);

/* This server's counters. */
void xs_server_stats(const xs_server_t *s, xs_transport_stats_t *out);

/* Closes the ROUTER (unsent replies are dropped: linger 0), then the ZAP handler; accepts
 * NULL and nulls the pointer. The endpoint is free for a new xs_server_open on return. */
void xs_server_close(xs_server_t **s);

/* Opens a CURVE client towards endpoint ("tcp://hub.example:7450"), authenticating the server
 * by server_box_pk. Connects in the background and reconnects on its own (after 100 ms; refused
 * TCP connects back off to 5 s); nothing waits here. box_secret is handed to zmq only; the caller
 * keeps it. XS_EINVAL (bad endpoint, or longer than 319 bytes), XS_ENET, XS_ENOMEM. *out is the
 * caller's. */
XS_MUST_USE xs_err xs_client_open(xs_client_t **out, const char *endpoint,
                                  const uint8_t server_box_pk[32], const uint8_t box_public[32],
                                  const uint8_t box_secret[32]);

/* Queues len bytes for the server; they leave once the handshake is done. When the queue is
 * full and the server has answered before (it is busy), waits up to 10 s for room; else does
 * not block. XS_ETIMEOUT when the queue stays full (the server is not taking messages); XS_ETOOBIG
 * over XS_TRANSPORT_MAX_MSG; XS_ENET on another zmq failure. */
XS_MUST_USE xs_err xs_client_send(xs_client_t *c, const void *bytes, size_t len);

/* Waits up to timeout_ms (0: poll once, -1: forever) for one message from the server; *bytes
 * is valid until the next xs_client_recv or close. Multipart messages are dropped.
 * XS_ETIMEOUT when nothing came (also early on a signal). A failed handshake (protocol.md §6):
 *   XS_EREFUSED  the server's ZAP handler refused our key (not enrolled, or revoked);
 *   XS_ECRYPTO   the peer is a CURVE server that will not finish a handshake with us (it
 *                hangs up on our HELLO: it does not hold the secret of server_box_pk), or it
 *                breaks the handshake's rules (another mechanism: not a xueshi hub);
 *   XS_ENET      the connection broke or was reset before the handshake was done, or the
 *                hub's ZAP handler failed (500): a retry may pass.
 * To tell a wrong key from a peer that merely hangs up (libzmq reports both alike), the first
 * such failure costs up to 2 s more than timeout_ms: the client asks the peer for its greeting
 * over a second connection. Each failure is reported once, by the recv that sees it. After a
 * ZAP answer other than 200 the client is dead (zmq does not retry; its queued messages are
 * dropped and later sends fail): close it, and open a new one to try again. After other
 * handshake failures zmq retries about every 100-200 ms until closed, and each retry fails the
 * same way or passes. */
XS_MUST_USE xs_err xs_client_recv(xs_client_t *c, int timeout_ms, const uint8_t **bytes,
                                  size_t *len);

/* The last handshake failure xs_client_recv saw, described for a log line ("Broken pipe",
 * "Connection reset by peer"; "ZAP" or "CURVE" for a refusal or a key that does not match); ""
 * when none. Static. */
const char *xs_client_why(const xs_client_t *c);

/* This client's counters (zap_* stay 0). */
void xs_client_stats(const xs_client_t *c, xs_transport_stats_t *out);

/* Closes the client, giving queued messages up to 2 s to leave (none when the last handshake
 * failed, or when the server never answered: they never could, or are requests the caller
 * repeats); accepts NULL and nulls the pointer. */
void xs_client_close(xs_client_t **c);

/* Tests only: lets c send frames over XS_TRANSPORT_MAX_MSG, to prove a server drops them. */
void xs_client_test_allow_oversize(xs_client_t *c);

/* Tests only: queues one message of two frames (first, then second), which no xueshi peer
 * sends, to prove a server refuses it. XS_ENET (or XS_ETIMEOUT: queue full) when zmq fails. */
XS_MUST_USE xs_err xs_client_test_send_parts(xs_client_t *c, const void *first, size_t first_len,
                                             const void *second, size_t second_len);

#endif
