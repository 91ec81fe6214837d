/* sync: sealing records into signed batches and one sync session with the hub. */
#ifndef NODE_SYNC_H
#define NODE_SYNC_H

#include <stdint.h>

#include "node.h"

/* What one session did. */
typedef struct node_sync_result {
    uint64_t sealed_batches;    /* batches sealed in the session, as the link took them */
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
    uint64_t relayed_acked;     /* of those batches, the ones the hub acknowledged */
    uint32_t satellites;        /* a relay: satellites in its roster */
    uint64_t head_seq;          /* the last seq this node has sealed */
    uint64_t fork_seq;          /* first seq of this session's batch the hub quarantined as a
                                   fork; 0: none */
    uint64_t fork_noted;        /* first seq of a fork the hub holds for this node from another
                                   copy of it (VIEW fork_seq); 0: none */
    int policy_updated;         /* 1 when the hub sent a newer policy */
    uint32_t staff_version;     /* the version of this node's roster part, when the session
                                   brought a new one; 0: none came (protocol.md §10) */
    uint32_t staff_count;       /* its teachers */
    uint32_t staff_relayed;     /* a relay: satellites' new parts stored to hand on */
    uint64_t adopted_records;   /* records of the hub's chain adopted (protocol.md §9) */
    uint64_t renumbered;        /* this node's own records renumbered after the hub's head */
    int fork_resolved;          /* 1 when this session resolved its own fork by adopting */
    int round_trips;            /* request/reply exchanges after the handshake */
} node_sync_result_t;

/* One session: ask for the node's part of the teacher roster and say hello, adopt the hub's chain
 * when this node was restored from an old copy (protocol.md §9), send what the hub lacks, sealing
 * new records as the link takes them (in batches sized to the rate measured, a few seconds of link
 * in flight), take the acks (saving progress as they come), and fetch and store new receipts; a
 * relay then does the same for each satellite (its batches, receipts and roster part). Gives up
 * after timeout_ms in all, or when no ACK comes for several times as long as one was expected in
 * (the link is cut; what was acknowledged stays acknowledged: res->acked_batches). Returns XS_OK
 * when the hub holds everything and the receipts are stored; XS_ETIMEOUT or XS_ENET (unreachable,
 * silent, the link stalled or broke, or time ran out), XS_EAGAIN (the hub failed for now: retry),
 * XS_EREFUSED (not enrolled or revoked, at the handshake), XS_EPERM (revoked, unknown, wrong
 * origin), XS_ECRYPTO (wrong hub key, or a bad signature), XS_EFORK (a fork adopting could not
 * resolve: res->fork_seq), XS_ENOTFOUND (no hub configured), or another error; a message has
 * been printed. */
XS_MUST_USE xs_err node_sync(node_t *node, int timeout_ms, node_sync_result_t *res);

/* Where the node stands with the hub, read from its store in one snapshot (the 同步 page). */
typedef struct node_sync_status {
    int has_hub;                /* 1 when a hub (or relay) endpoint is configured */
    char endpoint[256];         /* that endpoint, cut to fit; "" when none */
    int through_relay;          /* 1 when the node syncs through a relay, not the hub itself */
    int is_relay;               /* 1 when the node relays for satellites */
    uint64_t last_sync;         /* unix seconds a session last ended with the hub holding
                                   everything (meta "last_sync"); 0: never */
    uint64_t records;           /* records in the store (the last seq) */
    uint64_t sealed_through;    /* every seq ≤ it is sealed into a signed batch */
    uint64_t acked_through;     /* every seq ≤ it is held by the peer (hub or relay) */
    uint64_t confirmed_through; /* every seq ≤ it is confirmed by the hub itself */
    uint64_t unsealed;          /* records not yet sealed: records - sealed_through */
    uint64_t waiting;           /* records the peer does not hold yet: records - acked_through */
    uint64_t held_at_relay;     /* records a relay holds that the hub has not confirmed:
                                   acked_through - confirmed_through, through a relay; else 0 */
    uint64_t link_rate;         /* bytes per second the last session measured; 0: none */
} node_sync_status_t;

/* Reads the node's sync status into *out. Returns XS_OK, XS_ECORRUPT on a damaged counter, or
 * the store's error. Prints nothing. */
XS_MUST_USE xs_err node_sync_status(node_t *node, node_sync_status_t *out);

/* Parses a --timeout value in seconds (NULL: 30) into *ms; prints why it is refused. */
XS_MUST_USE xs_err node_timeout_ms(const char *text, int *ms);

/* How sync, run and the 同步 page react to how a session ended (protocol.md §5.1 and §6 list
 * every case). */
typedef struct node_sync_outcome {
    int exit_code;      /* sync's exit status (XS_EXIT_*) */
    int needs_person;   /* 1: retrying soon cannot help: run waits its longest back-off */
    const char *advice; /* what to do, one bilingual line; NULL after a session that ended well.
                           run repeats it at each attempt that needs a person */
} node_sync_outcome_t;

/* The outcome of a session that ended with err (node_sync's result). */
node_sync_outcome_t node_sync_outcome(xs_err err);

/* One session as the sync command runs it: sync, print the one-line report, and return the
 * command's exit code. */
int node_sync_command(node_t *node, int timeout_ms);

#endif
