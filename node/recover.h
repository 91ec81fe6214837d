/* recover: rebuilding a node's chain from the hub's copies of its own batches, after a lost
 * PC or a restore from an old copy (protocol.md §9). */
#ifndef NODE_RECOVER_H
#define NODE_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

typedef struct node_adopt node_adopt_t;

/* What an adoption changed. */
typedef struct node_adopt_result {
    uint64_t from;     /* the first seq rebuilt */
    uint64_t batches;  /* batches adopted from the hub */
    uint64_t records;  /* records in them */
    uint64_t head;     /* the chain's new head: the last adopted seq */
    uint64_t same;     /* local records after `from` the hub already held (dropped) */
    uint64_t appended; /* local records after `from` renumbered after the head */
} node_adopt_result_t;

/* Starts adopting the hub's chain of origin (this node's signing key) from seq from (1 for a
 * lost PC). *out is the caller's. XS_ENOMEM. */
XS_MUST_USE xs_err node_adopt_begin(node_adopt_t **out, const uint8_t origin[32], uint64_t from);
/* Takes one envelope the hub sent: it must open (§2), be signed by origin, and continue the
 * chain taken so far (the first one starting at or before `from`). XS_ECRYPTO (not ours),
 * XS_EFORK (does not link), XS_EMALFORMED, XS_ENOMEM; nothing is kept on error. */
XS_MUST_USE xs_err node_adopt_take(node_adopt_t *a, const uint8_t *envelope, size_t len);
/* The seq to PULL from next: one past the last envelope taken, or `from`. */
uint64_t node_adopt_next(const node_adopt_t *a);
/* Replaces the node's chain from `from` on with what was taken, in one write step
 * (protocol.md §9 steps 1-4). The node's own records after `from` that the hub lacks are
 * renumbered after the new head, unsealed. XS_ENOTFOUND when nothing was taken (nothing is
 * changed then). */
XS_MUST_USE xs_err node_adopt_commit(node_adopt_t *a, node_t *node, node_adopt_result_t *res);
/* Frees an adoption; accepts NULL and nulls the pointer. */
void node_adopt_destroy(node_adopt_t **a);

#endif
