/* entry: recording one activity and voiding one, from what a user typed (the record command's
 * options, the 登记 form's fields), with every refusal handed back as data; prints nothing. */
#ifndef NODE_ENTRY_H
#define NODE_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "staff.h"

/* One field as a user gave it: a name and its text, both borrowed for the call. */
typedef struct node_entry_field {
    const char *name; /* a record field's name (xs_field_name: "teacher_id", "role", …), or the
                         record command's option name for it ("teacher") */
    const char *text; /* the value as typed; NULL or empty (after trimming): the field is
                         absent, as a form's empty input is */
} node_entry_field_t;

/* Builds an activity record from fields (n of them) into *rec, without checking it against
 * the policy: each field is set with xs_record_set_text (Chinese labels of roles, levels,
 * grades and unit, dates as yyyy-m-d, yyyy/m/d, yyyy.m.d), the category is resolved with
 * node_category_parse under policy (NULL: built-ins only), school_id defaults to the node's,
 * and recorded_at is now (unix seconds). rec's strings borrow from fields' texts and from
 * node: valid while both are. Returns XS_OK, or XS_EINVAL with *why filled when a field name
 * is unknown (field NODE_REFUSAL_F_NONE), one is given twice, or a value is refused. */
XS_MUST_USE xs_err node_entry_build(const node_t *node, const xs_policy_t *policy,
                                    const node_entry_field_t *fields, size_t n, int64_t now,
                                    xs_record_t *rec, node_refusal_t *why);

/* Checks a built record as the node records it: node_check_why (the policy's rules, no date
 * after tomorrow, this node's school), then node_staff_why (with staff's roster held, only its
 * teachers of this school; staff NULL or zeroed: anyone). Returns XS_OK, or XS_EINVAL with
 * *why filled. */
XS_MUST_USE xs_err node_entry_check(const node_t *node, const xs_policy_t *policy,
                                    const xs_staff_t *staff, const xs_record_t *rec,
                                    node_refusal_t *why);

/* Appends a checked record durably in one write step (node_append, never skipping a known
 * one); *seq gets its sequence number. Returns the encoder's or the store's error. */
XS_MUST_USE xs_err node_entry_append(node_t *node, const xs_record_t *rec, uint64_t *seq);

/* node_entry_build, node_entry_check and node_entry_append in one: records one activity from
 * fields. *why is cleared first. Returns XS_OK with *seq set; XS_EINVAL with *why filled when
 * refused (nothing written); or the store's error (why->why stays XS_REASON_NONE; nothing
 * printed, the caller says it). */
XS_MUST_USE xs_err node_entry_add(node_t *node, const xs_policy_t *policy, const xs_staff_t *staff,
                                  const node_entry_field_t *fields, size_t n, int64_t now,
                                  uint64_t *seq, node_refusal_t *why);

/* Voids activity record target: appends a correction (kind correction, voids target, the
 * target's teacher and school, reason as its note, operator_ when not NULL, recorded_at now)
 * in one write step that first checks the target, so two voids cannot race. *void_seq gets
 * the correction's sequence number. *why is cleared first. Refusals, nothing written, *why
 * filled: XS_EINVAL when reason is empty, over XS_NOTE_MAX bytes or not UTF-8, or operator_
 * over XS_ID_MAX bytes (field note or operator), or target is not an activity (field voids);
 * XS_ENOTFOUND when there is no record target (field voids, why bad_target); XS_EEXIST when a
 * correction already voids it (field voids, why voided). Otherwise the store's error
 * (XS_ECORRUPT when the target does not decode), why->why XS_REASON_NONE. */
XS_MUST_USE xs_err node_void_add(node_t *node, uint64_t target, const char *reason,
                                 const char *operator_, int64_t now, uint64_t *void_seq,
                                 node_refusal_t *why);

#endif
