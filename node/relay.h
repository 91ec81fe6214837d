/* relay: a central school's node serving its satellite schools (protocol.md §8). */
#ifndef NODE_RELAY_H
#define NODE_RELAY_H

#include "node.h"

typedef struct node_relay node_relay_t;

/* Listens on endpoint for the satellites in the node's roster (ZAP admits exactly their
 * keys). node must stay open while the relay lives. XS_ENET (cannot bind), XS_ENOMEM, or the
 * identity's error. *out is the caller's. */
XS_MUST_USE xs_err node_relay_open(node_relay_t **out, node_t *node, const char *endpoint);

/* Serves satellites for up to timeout_ms: answers HELLO, stores BATCH durably before its ACK
 * (held by relay), and hands out the receipts and roster parts the relay holds. Returns XS_OK, or
 * XS_ETIMEOUT when nothing came. */
XS_MUST_USE xs_err node_relay_serve(node_relay_t *r, int timeout_ms);

/* Batches stored since the last call (the uplink should forward them soon). */
uint64_t node_relay_take_new(node_relay_t *r);

/* Closes the relay; accepts NULL and nulls the pointer. */
void node_relay_close(node_relay_t **r);

#endif
