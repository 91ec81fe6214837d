/* seal: sealing a node's unsealed records into signed batches (protocol.md §2). */
#ifndef NODE_SEAL_H
#define NODE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* How much one call seals: batches of at most batch_bytes of records (and
 * XS_BATCH_SEAL_RECORDS records), at most max_batches of them (0: no limit). */
typedef struct node_seal_limits {
    size_t batch_bytes;   /* 0: XS_BATCH_SEAL_BYTES */
    uint64_t max_batches; /* 0: every unsealed record */
} node_seal_limits_t;

/* Seals unsealed records, in seq order, into batches signed with id, within lim (NULL: all of
 * them, in the largest batches), in one write step: each batch links to the one before
 * (prev_hash), and sealed_through and head_hash move with the last. *sealed gets the number
 * of new batches, *left (may be NULL) whether unsealed records remain. XS_EREFUSED, sealing
 * nothing, while the store is marked restored from a backup (NODE_META_RESTORED) and records
 * wait to be sealed: a sync session removes the mark. A message is printed on failure. */
XS_MUST_USE xs_err node_seal(node_t *node, const xs_identity_t *id, const node_seal_limits_t *lim,
                             uint64_t *sealed, int *left);

#endif
