/* chain: what a store holds of one origin's batch chain: contiguous head, highest seq, gaps. */
#ifndef XS_CHAIN_H
#define XS_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"
#include "xs/store.h"

/* Most gaps a view lists (protocol.md §5, VIEW). */
#define XS_CHAIN_MAX_GAPS 256
/* A chain table's key: the origin's 32-byte key, then first_seq (8 bytes, big-endian). */
#define XS_CHAIN_KEY_BYTES 40

/* What a store holds of one origin. */
typedef struct xs_chain_view {
    uint64_t have_through;               /* every seq ≤ it is held */
    uint64_t held_max;                   /* the highest seq held; 0: none */
    uint64_t gaps[XS_CHAIN_MAX_GAPS][2]; /* missing [from, to] ranges below held_max */
    size_t gap_count;                    /* gaps listed (the first XS_CHAIN_MAX_GAPS) */
    uint64_t batches;                    /* batches held */
} xs_chain_view_t;

/* Computes origin's view from table, whose keys are XS_CHAIN_KEY_BYTES (origin, first_seq)
 * and whose values begin with the batch's record count (4 bytes, big-endian), inside txn.
 * XS_ECORRUPT on a value shorter than that. */
XS_MUST_USE xs_err xs_chain_view(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                                 xs_chain_view_t *view);

/* Builds the key origin + big-endian seq. */
void xs_chain_key(const uint8_t origin[32], uint64_t seq, uint8_t key[XS_CHAIN_KEY_BYTES]);

#endif
