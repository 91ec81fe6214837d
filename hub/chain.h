/* chain: what the hub holds of an origin's batch chain. */
#ifndef HUB_CHAIN_H
#define HUB_CHAIN_H

#include "hub.h"

/* Most gaps one VIEW lists (protocol.md §5). */
#define HUB_VIEW_MAX_GAPS 256

/* What the hub holds of one origin. */
typedef struct hub_view {
    uint64_t have_through; /* every seq ≤ it is held */
    uint64_t held_max;     /* the highest seq held; 0: none */
    uint64_t gaps[HUB_VIEW_MAX_GAPS][2]; /* missing [from, to] ranges below held_max */
    size_t gap_count;
    uint64_t batches; /* batches held */
} hub_view_t;

/* Computes origin's view from HUB_T_CHAIN inside txn. */
XS_MUST_USE xs_err hub_chain_view(xs_txn_t *txn, const uint8_t origin[32], hub_view_t *view);

#endif
