/* staff: the parts of the county's teacher roster a node holds (protocol.md §10): its own and,
 * on a relay, each satellite's; the one owner of NODE_T_STAFF, and the roster's rules for the
 * records a user gives. */
#ifndef NODE_STAFF_H
#define NODE_STAFF_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "xs/staff.h"

/* How many near matches an "unknown teacher" refusal names. */
#define NODE_STAFF_NEAREST 3

/* Stores part (a signed part envelope of len bytes) as origin's, when it opens against county
 * for origin and is not older than the part held for origin: a lower version, or the same
 * version issued earlier, is older. A held part that no longer opens is replaced. *stored gets
 * 1 when the part was stored, 0 when the one held is newer or the same bytes (nothing
 * written). Errors of
 * xs_staff_part_open (XS_ECRYPTO, XS_EPERM, XS_EMALFORMED, XS_ETOOBIG, XS_ENOMEM) store
 * nothing; or the store's error. */
XS_MUST_USE xs_err node_staff_put(xs_txn_t *txn, const uint8_t county[XS_SIGN_PK_BYTES],
                                  const uint8_t origin[XS_SIGN_PK_BYTES], const void *part,
                                  size_t len, int *stored);

/* The part envelope held for origin, borrowed until txn ends. XS_ENOTFOUND. */
XS_MUST_USE xs_err node_staff_get(xs_txn_t *txn, const uint8_t origin[XS_SIGN_PK_BYTES],
                                  xs_bytes_t *part);

/* The hash of a part envelope's body (what STAFF_GET's `have` names) into hash.
 * XS_EMALFORMED when the envelope does not split into a body and a signature. */
XS_MUST_USE xs_err node_staff_hash(const void *part, size_t len, uint8_t hash[XS_HASH_BYTES]);

/* The hash of the body of the part held for origin into hash; *has = 0 when none is held, or
 * the one held does not split (then the peer sends a new one). */
XS_MUST_USE xs_err node_staff_have(xs_txn_t *txn, const uint8_t origin[XS_SIGN_PK_BYTES],
                                   uint8_t hash[XS_HASH_BYTES], int *has);

/* Deletes every part held for an origin other than self and the count origins of keep (a
 * relay's roster): the teachers of schools this node no longer serves are not kept.
 * *dropped (may be NULL) gets how many were deleted. */
XS_MUST_USE xs_err node_staff_prune(xs_txn_t *txn, const uint8_t self[XS_SIGN_PK_BYTES],
                                    const uint8_t (*keep)[XS_SIGN_PK_BYTES], size_t count,
                                    uint64_t *dropped);

/* Called for each entry of NODE_T_STAFF with its key (an origin of XS_SIGN_PK_BYTES bytes, or
 * damaged when of another length) and its part envelope, both borrowed until the walk's txn
 * ends; an error stops the walk and is returned. */
typedef xs_err (*node_staff_fn)(void *ctx, const xs_bytes_t *key, const xs_bytes_t *part);
/* Calls fn for every entry of NODE_T_STAFF in key order. */
XS_MUST_USE xs_err node_staff_each(xs_txn_t *txn, node_staff_fn fn, void *ctx);

/* Opens the part held for origin, against the county key the node holds, into *out (owned:
 * xs_staff_free). XS_ENOTFOUND when none is held or the node has no county key; the errors
 * of xs_staff_part_open. */
XS_MUST_USE xs_err node_staff_open(xs_txn_t *txn, const uint8_t origin[XS_SIGN_PK_BYTES],
                                   xs_staff_t *out);

/* Loads the node's own part (its origin from DIR/node.secret) into *out (owned: xs_staff_free;
 * zeroed when there is none). XS_ENOTFOUND, silently, when the node holds none: the roster
 * has not reached it, and everything works as without one. Other errors are printed. */
XS_MUST_USE xs_err node_staff_load(node_t *node, xs_staff_t *out);

/* Whether staff (the node's part; NULL or without a version: no roster held, anything goes)
 * admits rec's teacher: the teacher_id is in it and its school there is rec's school_id.
 * Otherwise returns 0 and fills *out (may be NULL): field teacher_id, why out_of_scope, and a
 * line naming the teacher and, when not on the roster, up to NODE_STAFF_NEAREST near matches
 * (xs_staff_nearest) with their names, or, when of another school, that school. Prints
 * nothing. */
int node_staff_why(const xs_staff_t *staff, const xs_record_t *rec, node_refusal_t *out);
/* node_staff_why, printing the refusal (with line when > 0) to stderr as one line. */
int node_staff_admits(const xs_staff_t *staff, const xs_record_t *rec, long line);

/* The name staff gives teacher_id (len bytes), or "" when staff is NULL or lacks it. */
const char *node_staff_name(const xs_staff_t *staff, const char *teacher_id, size_t len);

#endif
