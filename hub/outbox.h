/* outbox: which receipts each origin should get: every teacher's newest hub-signed receipt,
 * the origins that follow it and at which generation, and the generation counter. */
#ifndef HUB_OUTBOX_H
#define HUB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "xs/proto.h"

/* One receipt marked for an origin; its bytes borrow the transaction (valid until it ends or
 * writes). */
typedef struct hub_outbox_receipt {
    const char *teacher;     /* the teacher_id */
    size_t teacher_len;      /* its bytes, 1..XS_ID_MAX */
    const uint8_t *envelope; /* the teacher's newest receipt envelope */
    size_t len;              /* its bytes */
    uint64_t generation;     /* the generation it was marked for the origin at */
} hub_outbox_receipt_t;

/* What hub_outbox_each calls for each receipt; set *stop to end the walk early. Any error
 * other than XS_OK ends the walk and is returned. */
typedef xs_err (*hub_outbox_fn)(void *ctx, const hub_outbox_receipt_t *receipt, int *stop);

/* Starts a receipt generation: one past the last issued, stored, in *generation. */
XS_MUST_USE xs_err hub_outbox_next_generation(xs_txn_t *txn, uint64_t *generation);

/* Stores envelope (len bytes) as teacher's (teacher_len bytes) newest receipt and marks it at
 * generation for each of the count origins (repeats allowed). Reads nothing of origins after
 * its first write, so they may not borrow the store. XS_EINVAL for a teacher_id of 0 or over
 * XS_ID_MAX bytes. */
XS_MUST_USE xs_err hub_outbox_put(xs_txn_t *txn, const char *teacher, size_t teacher_len,
                                  const void *envelope, size_t len, const uint8_t (*origins)[32],
                                  size_t count, uint64_t generation);

/* Reads teacher's (teacher_len bytes) newest receipt envelope into *envelope, borrowed until
 * the transaction ends or writes. XS_ENOTFOUND when the hub has issued none. */
XS_MUST_USE xs_err hub_outbox_receipt(xs_txn_t *txn, const char *teacher, size_t teacher_len,
                                      xs_bytes_t *envelope);

/* The newest generation among origin's receipts into *generation; 0: none. */
XS_MUST_USE xs_err hub_outbox_generation(xs_txn_t *txn, const uint8_t origin[32],
                                         uint64_t *generation);

/* Calls fn, in teacher_id byte order, for every receipt marked for origin at a generation
 * above have, of the teachers after `after` (after_len bytes; NULL: from the first). XS_OK
 * after the last or a stop, fn's error, or the store's. XS_EINVAL for an after over
 * XS_ID_MAX bytes. */
XS_MUST_USE xs_err hub_outbox_each(xs_txn_t *txn, const uint8_t origin[32], uint64_t have,
                                   const char *after, size_t after_len, hub_outbox_fn fn,
                                   void *ctx);

/* One page of hub_outbox_each's receipts added to page, in order, as many as fit; page->more
 * is set when another was left out (the next page is after this page's last teacher). The
 * envelopes borrow the transaction. */
XS_MUST_USE xs_err hub_outbox_page(xs_txn_t *txn, const uint8_t origin[32], uint64_t have,
                                   const char *after, size_t after_len, xs_proto_page_t *page);

#endif
