/* issue: the receipts the hub hands out, built from the certification state (credit.h) when
 * asked for, and signed once per page under a Merkle root (protocol.md §4.2). */
#ifndef HUB_ISSUE_H
#define HUB_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "xs/codec.h"
#include "xs/proto.h"
#include "xs/receipt.h"

/* One page of an origin's receipts: the signed root and every leaf under it, in teacher_id
 * order. Owns its bytes. */
typedef struct hub_issue_page {
    xs_writer_t root;             /* the root envelope, signed once; len 0 when count is 0 */
    xs_proto_blob_t *leaves;      /* count leaves, pointing into leaf_bytes */
    size_t count;                 /* leaves on the page */
    xs_writer_t leaf_bytes;       /* the leaves, back to back */
    uint64_t generation;          /* the newest generation of the page's receipts (the root's) */
    int more;                     /* 1: more receipts follow after last_teacher */
    char last_teacher[XS_ID_MAX]; /* the page's last teacher_id, for the next FETCH's after */
    size_t last_teacher_len;
} hub_issue_page_t;

/* Zeroes a page for its first use. */
void hub_issue_page_init(hub_issue_page_t *page);
/* Frees a page's bytes; it may be initialised again. */
void hub_issue_page_free(hub_issue_page_t *page);

/* Fills page with the receipts marked for origin at a generation above have, of the
 * teachers after `after` (after_len bytes; NULL: from the first), as many as fit max_bytes of
 * leaves and XS_RECEIPT_TREE_MAX, each built now from the state, and signs their root once
 * with hub->id (hub opened with keys). The root's generation and issued_at are the newest of
 * the page's marks, so the same state gives the same page byte for byte. A page with no
 * receipt has no root. The store's errors, XS_ENOMEM, XS_ETOOBIG, XS_EINVAL (after too
 * long). */
XS_MUST_USE xs_err hub_issue_page(hub_t *hub, xs_txn_t *txn, const uint8_t origin[32],
                                  uint64_t have, const char *after, size_t after_len,
                                  size_t max_bytes, hub_issue_page_t *page);

/* Calls fn for each leaf of page, in order, with its standalone receipt (xs_receipt_page_open
 * over the page, checked against hub's own key: one tree for the whole page): what a receipts
 * bundle carries. XS_OK for a page without leaves; the receipt layer's errors, or fn's. */
XS_MUST_USE xs_err hub_issue_page_each(hub_t *hub, const hub_issue_page_t *page,
                                       xs_receipt_leaf_fn fn, void *ctx);

/* Builds teacher's (len bytes) receipt from the state now and appends it to out as a signed
 * standalone receipt of a tree of one leaf, at the hub's current generation: for a
 * certificate's QR code. Needs hub->id. XS_ENOTFOUND (no accepted record), the store's
 * errors, XS_ENOMEM, XS_ETOOBIG. */
XS_MUST_USE xs_err hub_issue_one(hub_t *hub, xs_txn_t *txn, const char *teacher, size_t len,
                                 xs_writer_t *out);

#endif
