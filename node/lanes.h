/* lanes: the only door to a node's sealed batches and receipts, its own and (on a relay) each
 * satellite's (protocol.md §8), and to the counters that say how far each has travelled. */
#ifndef NODE_LANES_H
#define NODE_LANES_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "xs/batch.h"
#include "xs/chain.h"
#include "xs/receipt.h"

/* Whose batches: this node's own (origin NULL), or one satellite's. */
typedef struct node_lane {
    const uint8_t *origin; /* NULL: this node; else the satellite's signing key (32 bytes) */
} node_lane_t;

/* This node's own lane. */
node_lane_t node_lane_self(void);
/* A satellite's lane; origin is borrowed for the lane's life. */
node_lane_t node_lane_satellite(const uint8_t origin[32]);

/* A lane's counters (each a u64, 0 until set). */
typedef enum node_lane_counter {
    NODE_LANE_ACKED,        /* every seq ≤ it is held by the peer (the hub, or this node's
                               relay); for a satellite, by the hub */
    NODE_LANE_CONFIRMED,    /* every seq ≤ it is confirmed by the hub itself */
    NODE_LANE_RECEIPTS_GEN, /* generation of the newest complete set of receipts held */
} node_lane_counter;

/* Reads a counter into *out (0 when unset). XS_ECORRUPT on a damaged value. */
XS_MUST_USE xs_err node_lane_get(xs_txn_t *txn, const node_lane_t *lane, node_lane_counter which,
                                 uint64_t *out);
/* Writes a counter. */
XS_MUST_USE xs_err node_lane_put(xs_txn_t *txn, const node_lane_t *lane, node_lane_counter which,
                                 uint64_t value);
/* Writes a counter only when value is larger than what it holds. */
XS_MUST_USE xs_err node_lane_raise(xs_txn_t *txn, const node_lane_t *lane, node_lane_counter which,
                                   uint64_t value);

/* One stored batch, as a walk hands it out. envelope is borrowed until the walk's txn ends. */
typedef struct node_lane_batch {
    const uint8_t *origin; /* its origin: NULL for this node's own */
    uint64_t first, last;  /* its sequence numbers */
    const uint8_t *envelope;
    size_t len;
} node_lane_batch_t;

/* Called for each batch of a walk; any error other than XS_OK stops the walk and is returned. */
typedef xs_err (*node_lane_batch_fn)(void *ctx, const node_lane_batch_t *batch);

/* Calls fn for each of the lane's batches that ends after seq after, in seq order. */
XS_MUST_USE xs_err node_lane_batches(xs_txn_t *txn, const node_lane_t *lane, uint64_t after,
                                     node_lane_batch_fn fn, void *ctx);
/* Calls fn for each batch of every satellite, by origin then seq. */
XS_MUST_USE xs_err node_lane_satellite_batches(xs_txn_t *txn, node_lane_batch_fn fn, void *ctx);

/* Stores a batch envelope (first_seq, count records, batch hash) in its lane: this node's own
 * are appended in seq order (it must follow every stored one); a satellite's gets its chain
 * entry too. */
XS_MUST_USE xs_err node_lane_store(xs_txn_t *txn, const node_lane_t *lane, uint64_t first_seq,
                                   uint32_t count, const uint8_t hash[32], const void *envelope,
                                   size_t len);
/* Deletes this node's own batches from first_seq on (adopting the hub's chain, recover.c). */
XS_MUST_USE xs_err node_lane_drop_from(xs_txn_t *txn, uint64_t first_seq);
/* The envelope of this node's own batch starting at first_seq, borrowed until txn ends. */
XS_MUST_USE xs_err node_lane_own_batch(xs_txn_t *txn, uint64_t first_seq, xs_bytes_t *env);

/* The envelope of the lane's batch starting at first_seq, borrowed until txn ends.
 * XS_ENOTFOUND. */
XS_MUST_USE xs_err node_lane_batch_get(xs_txn_t *txn, const node_lane_t *lane, uint64_t first_seq,
                                       xs_bytes_t *env);

/* *ends = 1 when the lane holds a batch ending exactly at seq whose hash is hash: the chain a
 * hub-signed confirmation speaks of is this one. */
XS_MUST_USE xs_err node_lane_ends_with(xs_txn_t *txn, const node_lane_t *lane, uint64_t seq,
                                       const uint8_t hash[32], int *ends);

/* A satellite's chain entry for the batch starting at first_seq. XS_ENOTFOUND. */
XS_MUST_USE xs_err node_lane_entry(xs_txn_t *txn, const uint8_t origin[32], uint64_t first_seq,
                                   xs_chain_entry_t *e);
/* What the relay holds of a satellite: head, highest seq, gaps; the same work whatever the
 * satellite's history (its head, and the entries past it). XS_ECORRUPT on a damaged head. */
XS_MUST_USE xs_err node_lane_view(xs_txn_t *txn, const uint8_t origin[32], xs_chain_view_t *view);
/* *held = 1 when the relay holds any batch of the satellite origin. */
XS_MUST_USE xs_err node_lane_holds(xs_txn_t *txn, const uint8_t origin[32], int *held);

/* Stores the newest receipt of a teacher (teacher_len bytes) in the lane. */
XS_MUST_USE xs_err node_lane_receipt_put(xs_txn_t *txn, const node_lane_t *lane,
                                         const char *teacher, size_t teacher_len,
                                         const void *envelope, size_t len);
/* Stores envelope (len bytes), opened by the caller into *receipt against the county key,
 * as its teacher's receipt in the lane, unless the receipt held there is newer: one that opens
 * against county (protocol.md §4: a node keeps the largest generation). held is scratch for
 * opening the one held. *kept = 1 when stored, 0 when the one held stays. The store's
 * errors, XS_EINVAL (no teacher_id). */
XS_MUST_USE xs_err node_lane_receipt_keep(xs_txn_t *txn, const node_lane_t *lane,
                                          const uint8_t county[32], const xs_receipt_t *receipt,
                                          const void *envelope, size_t len, xs_receipt_t *held,
                                          int *kept);
/* Reads a teacher's receipt envelope, borrowed until txn ends. XS_ENOTFOUND. */
XS_MUST_USE xs_err node_lane_receipt_get(xs_txn_t *txn, const node_lane_t *lane,
                                         const char *teacher, size_t teacher_len, xs_bytes_t *env);

/* Called for each receipt of a walk, in teacher order; an error stops the walk. */
typedef xs_err (*node_lane_receipt_fn)(void *ctx, const char *teacher, size_t teacher_len,
                                       const xs_bytes_t *envelope);
/* Calls fn for each receipt of the lane whose teacher sorts after `after` (after_len bytes;
 * 0: from the first). */
XS_MUST_USE xs_err node_lane_receipts(xs_txn_t *txn, const node_lane_t *lane, const char *after,
                                      size_t after_len, node_lane_receipt_fn fn, void *ctx);

/* ---- raw walks: every entry as stored, damaged ones included, for the store check ---- */

/* One entry of a batches or receipts table, with what its key says; all of it borrowed until
 * the walk's txn ends. */
typedef struct node_lane_raw {
    xs_bytes_t key;        /* the key as stored, to name a damaged one */
    xs_bytes_t value;      /* the envelope as stored */
    int damaged;           /* 1 when the key lacks the table's layout: the fields below unset */
    const uint8_t *origin; /* the satellite's signing key (32), inside key; NULL: this node's */
    uint64_t first_seq;    /* batches: the first seq the key names */
    const char *teacher;   /* receipts: the teacher the key names, inside key */
    size_t teacher_len;    /* its bytes */
} node_lane_raw_t;

/* Called for each entry of a raw walk; any error other than XS_OK stops it and is returned. */
typedef xs_err (*node_lane_raw_fn)(void *ctx, const node_lane_raw_t *entry);

/* Calls fn for every stored batch of the lane, or (lane NULL) of every satellite, in key
 * order, damaged keys included. Returns the store's error when the walk cannot go on. */
XS_MUST_USE xs_err node_lane_raw_batches(xs_txn_t *txn, const node_lane_t *lane,
                                         node_lane_raw_fn fn, void *ctx);
/* Calls fn for every satellite's receipt, in key order, damaged keys included. */
XS_MUST_USE xs_err node_lane_raw_receipts(xs_txn_t *txn, node_lane_raw_fn fn, void *ctx);

/* One entry of the satellites' batch chains, borrowed until the walk's txn ends. */
typedef struct node_lane_link {
    xs_bytes_t key;         /* the key as stored, to name a damaged one */
    int damaged;            /* 1 when key or value lacks the chain's layout: the rest unset */
    int head;               /* 1: the satellite's head beside its entries (xs/chain.h,
                               "Heads"), not an entry: origin set, entry unset */
    const uint8_t *origin;  /* the satellite's signing key (32), inside key */
    xs_chain_entry_t entry; /* the batch the chain records there */
} node_lane_link_t;

/* Called for each chain entry of a walk; an error stops the walk and is returned. */
typedef xs_err (*node_lane_link_fn)(void *ctx, const node_lane_link_t *link);

/* Calls fn for every entry of every satellite's chain, in key order, damaged ones included,
 * and for each satellite's head, marked as one. */
XS_MUST_USE xs_err node_lane_links(xs_txn_t *txn, node_lane_link_fn fn, void *ctx);

/* One of a satellite's stored counters, borrowed until the walk's txn ends. */
typedef struct node_lane_state {
    xs_bytes_t key;          /* the key as stored, to name a damaged one */
    int damaged;             /* 1 when the key names no counter or the value is no u64 */
    const uint8_t *origin;   /* the satellite's signing key (32), inside key */
    node_lane_counter which; /* the counter (NODE_LANE_ACKED stands for confirmed too) */
    uint64_t value;          /* its value */
} node_lane_state_t;

/* Called for each counter of a walk; an error stops the walk and is returned. */
typedef xs_err (*node_lane_state_fn)(void *ctx, const node_lane_state_t *state);

/* Calls fn for every satellite counter, in key order, damaged ones included. */
XS_MUST_USE xs_err node_lane_states(xs_txn_t *txn, node_lane_state_fn fn, void *ctx);

#endif
