/* credit: the hub's certification state, kept incrementally in its store (docs/scale.md): each
 * accepted record's row, each teacher's sums per academic year, the county's exam standings,
 * and the groups that say which records compete (same event, same work, a cap's period).
 * A merge updates it for what it brought: it re-certifies only the records a new one can
 * change, never a teacher's whole history, and the state equals the engine's full run
 * (xs_certify_run) over the same records, row for row and total for total. */
#ifndef HUB_CREDIT_H
#define HUB_CREDIT_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "year.h"
#include "xs/certify.h"
#include "xs/receipt.h"
#include "xs/record.h"

/* One merge's pass over the state: what it added, and the teachers whose result changed. */
typedef struct hub_credit hub_credit_t;

/* Starts a pass inside the write transaction txn, under hub->policy. The state must be
 * current (hub_credit_ready). XS_ENOMEM. */
XS_MUST_USE xs_err hub_credit_begin(hub_credit_t **out, hub_t *hub, xs_txn_t *txn);

/* Notes the accepted record (origin, seq), decoded as rec, of a batch this transaction
 * stored: indexes it in its groups and marks what it can change. rec is read during the call
 * only. XS_ENOMEM, the store's errors. */
XS_MUST_USE xs_err hub_credit_add(hub_credit_t *c, const uint8_t origin[32], uint64_t seq,
                                  const xs_record_t *rec);

/* Called for each teacher whose receipt changed, in teacher_id byte order, with every origin
 * holding records of theirs (count origins, valid during the call). */
typedef xs_err (*hub_credit_changed_fn)(void *ctx, const char *teacher, size_t len,
                                        const uint8_t (*origins)[32], size_t count);

/* Re-certifies what the added records can change (their groups, the records they void or
 * review, the exam events they enter, whose participants are re-ranked once), stores the new
 * rows and sums, and calls changed (may be NULL) for each teacher whose rows or sums moved.
 * Call once, after the last hub_credit_add. The store's errors, XS_ENOMEM, the engine's, or
 * changed's. */
XS_MUST_USE xs_err hub_credit_finish(hub_credit_t *c, hub_credit_changed_fn changed, void *ctx);

/* Frees a pass; accepts NULL and nulls the pointer. */
void hub_credit_end(hub_credit_t **c);

/* Told after each teacher: how many are done, of how many. */
typedef void (*hub_credit_progress_fn)(void *ctx, size_t done, size_t total);

/* Rebuilds the whole state from the ledger under hub->policy, in write transaction txn: after
 * a policy change, or in a store written before the state existed. Calls changed for every
 * teacher with records, progress (may be NULL) after each. The store's errors, XS_ENOMEM,
 * the engine's. */
XS_MUST_USE xs_err hub_credit_rebuild(hub_t *hub, xs_txn_t *txn, hub_credit_changed_fn changed,
                                      void *changed_ctx, hub_credit_progress_fn progress,
                                      void *progress_ctx);

/* Calls changed for every teacher with an activity, in teacher_id byte order, with their
 * origins, certifying nothing: what makes every receipt anew when only how they are built
 * changed (a closed year's frozen totals), not any row. progress (may be NULL) after each
 * teacher. The store's errors, XS_ENOMEM, or changed's. */
XS_MUST_USE xs_err hub_credit_mark_all(hub_t *hub, xs_txn_t *txn, hub_credit_changed_fn changed,
                                       void *ctx, hub_credit_progress_fn progress,
                                       void *progress_ctx);

/* *ready = 1 when the store holds the state for the policy whose blob hashes to policy_hash;
 * 0 when it must be rebuilt (a store written before the state, or another policy). */
XS_MUST_USE xs_err hub_credit_ready(xs_txn_t *txn, const uint8_t policy_hash[XS_HASH_BYTES],
                                    int *ready);

/* ---- reading the state ---- */

/* The stored row of the accepted record (origin, seq): activities, corrections and reviews
 * alike, as xs_certify_run gives it with the engine id of HUB_ID_SEQ_BITS in related_id.
 * XS_ENOTFOUND when the record is not accepted or not held. */
XS_MUST_USE xs_err hub_credit_row(xs_txn_t *txn, const uint8_t origin[32], uint64_t seq,
                                  xs_certify_row_t *row);

/* Fills r with teacher's (len bytes) receipt from the state, unsigned: teacher_id (borrowed
 * from teacher), the policy (borrowed from hub), the periods with their record counts and
 * hashes, the totals as the engine orders them, closed years applied (schema/year.md §5)
 * through closed (hub_closed_cache_new; NULL: a cache made for the call);
 * generation and issued_at are left 0. Reads the teacher's sums and the identities of the
 * records in their periods, not the records. XS_ENOTFOUND when the teacher has no accepted
 * record, XS_ETOOBIG, the store's errors, XS_ENOMEM. */
XS_MUST_USE xs_err hub_credit_receipt(hub_t *hub, xs_txn_t *txn, hub_closed_cache_t *closed,
                                      const char *teacher, size_t len, xs_receipt_t *r);

/* The teacher's totals as xs_certify_teacher_t.totals gives them for opts NULL (closed years
 * not applied): at most cap rows into out, their number in *count. XS_ENOTFOUND (no accepted
 * record), XS_ETOOBIG (more than cap), the store's errors, XS_ENOMEM. */
XS_MUST_USE xs_err hub_credit_totals(hub_t *hub, xs_txn_t *txn, const char *teacher, size_t len,
                                     xs_certify_total_t *out, size_t cap, size_t *count);

#endif
