/* sync: sealing records into signed batches and one sync session with the hub. */
#ifndef NODE_SYNC_H
#define NODE_SYNC_H

#include <stdint.h>

#include "node.h"
#include "xs/bundle.h"

/* What one session did. */
typedef struct node_sync_result {
    uint64_t sealed_batches;    /* batches sealed at the start of the session */
    uint64_t sent_batches;      /* batches sent */
    uint64_t sent_records;      /* records in them */
    uint64_t acked_batches;     /* batches the hub stored or already held */
    uint64_t rejected;          /* records the hub rejected (out of scope) */
    uint64_t receipts;          /* receipts received and stored */
    uint64_t have_through;      /* the peer (hub or relay) holds every seq up to here */
    uint64_t confirmed_through; /* the hub has confirmed every seq up to here (as the peer
                                   knows it; through a relay, as the relay last heard) */
    uint64_t relay_held;        /* batches a relay took into its keeping, not yet confirmed */
    uint64_t relayed_batches;   /* a relay: satellites' batches forwarded to the hub */
    uint64_t relayed_records;   /* their records */
    uint32_t satellites;        /* a relay: satellites in its roster */
    uint64_t head_seq;          /* the last seq this node has sealed */
    uint64_t fork_seq;          /* first seq of this session's batch the hub quarantined as a
                                   fork; 0: none */
    uint64_t fork_noted;        /* first seq of a fork the hub holds for this node from another
                                   copy of it (VIEW fork_seq); 0: none */
    int policy_updated;         /* 1 when the hub sent a newer policy */
    int round_trips;            /* request/reply exchanges after the handshake */
} node_sync_result_t;

/* Seals every unsealed record into batches of at most XS_BATCH_SEAL_RECORDS records (one
 * write step), signed with id. *sealed gets the number of new batches. */
XS_MUST_USE xs_err node_seal(node_t *node, const xs_identity_t *id, uint64_t *sealed);

/* One session: seal, say hello, send what the hub lacks under its window, take the acks, and
 * fetch and store new receipts. Gives up after timeout_ms in all. Returns XS_OK when the hub
 * holds everything and the receipts are stored; XS_ETIMEOUT (hub unreachable or silent),
 * XS_EREFUSED (not enrolled or revoked), XS_EFORK (a fork: res->fork_seq), XS_ENOTFOUND (no
 * hub configured), or another error; a message has been printed. */
XS_MUST_USE xs_err node_sync(node_t *node, int timeout_ms, node_sync_result_t *res);

/* Calls fn(ctx, envelope, len) for every sealed batch the hub has not confirmed: this node's
 * own, then (on a relay) its satellites'. *count gets how many. Stops at fn's error. */
typedef xs_err (*node_envelope_fn)(void *ctx, const uint8_t *envelope, size_t len);
XS_MUST_USE xs_err node_unconfirmed(node_t *node, node_envelope_fn fn, void *ctx, uint64_t *count);

/* What a receipts bundle brought. */
typedef struct node_receipts_taken {
    uint64_t own;        /* receipts for this node's teachers */
    uint64_t satellites; /* receipts a relay keeps for its satellites */
    uint64_t not_ours;   /* for a node this one neither is nor relays for: skipped */
    uint64_t refused;    /* not signed by the county hub, or malformed: skipped */
    int policy;          /* 1 when it brought the county's signed policy */
} node_receipts_taken_t;

/* Stores the receipts of a read receipts bundle (protocol.md §7), each verified against the
 * county hub's key first, in one write step. */
XS_MUST_USE xs_err node_take_receipts(node_t *node, const xs_bundle_items_t *items,
                                      node_receipts_taken_t *taken);

#endif
