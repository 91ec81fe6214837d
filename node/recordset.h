/* recordset: the node's own records decoded for the certification engine, as `totals` and
 * `certificate` compute provisional (暂定) results from them. */
#ifndef NODE_RECORDSET_H
#define NODE_RECORDSET_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* The node's records, decoded: each borrows the read snapshot it came from. */
typedef struct node_recordset {
    xs_record_t *records; /* count of them, in sequence order */
    uint64_t *ids;        /* their sequence numbers: the engine's ids (corrections name them) */
    size_t count;         /* records decoded */
    size_t cap;           /* slots in both arrays */
    uint64_t corrupted;   /* records left out because they are corrupted */
} node_recordset_t;

/* Decodes every record of txn into *l (zeroed by the caller), valid until txn ends; a record
 * that does not read as a valid record is reported on stderr, counted in l->corrupted and left
 * out. XS_ENOMEM, or the store's error. */
XS_MUST_USE xs_err node_recordset_load(xs_txn_t *txn, node_recordset_t *l);

/* Frees what l holds and zeroes it. */
void node_recordset_free(node_recordset_t *l);

#endif
