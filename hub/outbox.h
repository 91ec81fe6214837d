/* outbox: which teachers' receipts each origin should get, and at which generation: the
 * marks a merge leaves for every origin holding records of a teacher whose result changed,
 * each origin's newest mark, and the generation counter. The receipts themselves are built
 * from the certification state when asked for (issue.h). */
#ifndef HUB_OUTBOX_H
#define HUB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "xs/proto.h"

/* One mark: teacher's receipt is due to an origin. Borrowed from the transaction (valid until
 * it ends or writes). */
typedef struct hub_outbox_mark {
    const char *teacher; /* the teacher_id */
    size_t teacher_len;  /* its bytes, 1..XS_ID_MAX */
    uint64_t generation; /* the generation the teacher's result last changed at */
    int64_t issued_at;   /* unix seconds of that change */
} hub_outbox_mark_t;

/* What hub_outbox_each calls for each mark; set *stop to end the walk early. Any error other
 * than XS_OK ends the walk and is returned. */
typedef xs_err (*hub_outbox_fn)(void *ctx, const hub_outbox_mark_t *mark, int *stop);

/* Starts a receipt generation: one past the last issued, stored, in *generation. */
XS_MUST_USE xs_err hub_outbox_next_generation(xs_txn_t *txn, uint64_t *generation);

/* The last generation issued (0: none) into *generation. */
XS_MUST_USE xs_err hub_outbox_last_generation(xs_txn_t *txn, uint64_t *generation);

/* Marks teacher (teacher_len bytes) at generation and issued_at for each of the count origins
 * (repeats allowed), and raises each origin's newest generation. origins may not borrow the
 * store. XS_EINVAL for a teacher_id of 0 or over XS_ID_MAX bytes. */
XS_MUST_USE xs_err hub_outbox_put(xs_txn_t *txn, const char *teacher, size_t teacher_len,
                                  const uint8_t (*origins)[32], size_t count, uint64_t generation,
                                  int64_t issued_at);

/* The newest generation among origin's marks into *generation (0: none): one read, whatever
 * the number of marks. */
XS_MUST_USE xs_err hub_outbox_generation(xs_txn_t *txn, const uint8_t origin[32],
                                         uint64_t *generation);

/* Calls fn, in teacher_id byte order, for every mark of origin at a generation above have, of
 * the teachers after `after` (after_len bytes; NULL: from the first). XS_OK after the last or
 * a stop, fn's error, or the store's. XS_EINVAL for an after over XS_ID_MAX bytes. */
XS_MUST_USE xs_err hub_outbox_each(xs_txn_t *txn, const uint8_t origin[32], uint64_t have,
                                   const char *after, size_t after_len, hub_outbox_fn fn,
                                   void *ctx);

#endif
