/* merge: verifying, storing, indexing and certifying batches, in one write transaction. */
#ifndef HUB_MERGE_H
#define HUB_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "xs/batch.h"
#include "xs/codec.h"
#include "xs/proto.h"

/* One batch envelope on its way in, from the network or a bundle. */
typedef struct hub_item {
    const uint8_t *envelope; /* the envelope; the caller's, alive through hub_merge */
    size_t len;              /* its bytes */
    uint8_t sender[32];      /* the authenticated sender: the connection's origin, or for a
                                bundle the bundle's origin */
    xs_batch_t batch;        /* filled by hub_item_open */
    xs_err open_err;         /* what hub_item_open found: XS_OK when verified */
    /* Filled by hub_merge. */
    xs_writer_t ack;   /* the ACK frame to send back (owned; hub_item_free frees it) */
    uint8_t status;    /* xs_ack_status */
    uint8_t error;     /* xs_proto_code when refused */
    uint32_t rejected; /* records rejected (out of scope) */
} hub_item_t;

/* What one hub_merge did, for the log line. */
typedef struct hub_merge_stats {
    uint64_t batches;   /* batches newly stored */
    uint64_t records;   /* records newly stored */
    uint64_t rejected;  /* of which rejected (out of scope) */
    uint64_t held;      /* batches already held */
    uint64_t forks;     /* batches quarantined as forks */
    uint64_t refused;   /* batches refused */
    uint64_t teachers;  /* teachers whose result moved, marked for their origins */
    int policy_changed; /* 1: the merge found and followed a new stored policy */
} hub_merge_stats_t;

/* Prepares item for envelope (len bytes) from sender: verifies the signature and decodes the
 * batch (the CPU-heavy part, done before the write transaction). */
void hub_item_open(hub_item_t *item, const uint8_t *envelope, size_t len, const uint8_t sender[32]);
/* Frees the item's ACK frame. */
void hub_item_free(hub_item_t *item);

/* Merges n opened items in one durable write transaction (protocol.md §2.1, §3, §4): refuses
 * what must be refused, answers batches already held with their stored ACK, quarantines
 * forks, stores and indexes new batches, then moves the certification state by what they
 * change (credit.h) and marks each teacher whose result moved for every origin holding their
 * records, at one new generation (receipts are built when fetched: issue.h). Every item gets
 * its ACK frame. Returns
 * XS_OK, or the storage error (nothing of the merge is then stored; every item's ACK says
 * internal). */
XS_MUST_USE xs_err hub_merge(hub_t *hub, hub_item_t *items, size_t n, hub_merge_stats_t *stats);

/* Called at the end of a merge's write step, inside its transaction, once every item has its
 * status and ACK: writes what the caller keeps beside the merge (the hub's counters, in
 * metrics.c) without a commit of its own. Runs again when the store reruns the step; an error
 * aborts the whole merge. */
typedef xs_err (*hub_merge_note_fn)(void *ctx, xs_txn_t *txn, const hub_merge_stats_t *stats,
                                    const hub_item_t *items, size_t n);

/* hub_merge, calling note (may be NULL) with ctx inside its transaction. */
XS_MUST_USE xs_err hub_merge_noting(hub_t *hub, hub_item_t *items, size_t n,
                                    hub_merge_stats_t *stats, hub_merge_note_fn note, void *ctx);

/* What hub_recertify did. */
typedef struct hub_recertify_stats {
    uint64_t teachers;   /* teachers marked for new receipts: every one with records */
    uint64_t generation; /* the receipt generation they were issued at */
} hub_recertify_stats_t;

/* Told after each teacher: how many are done, of how many. */
typedef void (*hub_progress_fn)(void *ctx, size_t done, size_t total);

/* Makes every receipt anew under hub->policy (which the caller may just have stored in txn):
 * rebuilds the certification state whole (hub_credit_rebuild) when it was made under another
 * policy, and marks every teacher with records at one new generation for every origin holding
 * them, so nodes fetch new receipts at their next sync (a year's close needs only the marks).
 * Runs in the caller's write transaction. progress (may be NULL) is called after each
 * teacher. The store's error, XS_ENOMEM, or the engine's. */
XS_MUST_USE xs_err hub_recertify(hub_t *hub, xs_txn_t *txn, hub_progress_fn progress, void *ctx,
                                 hub_recertify_stats_t *stats);

#endif
