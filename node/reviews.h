/* reviews: what later records say of an earlier one among a node's records: the school's
 * reviews (审核, records.md §3.1), the latest verdict on each record, and the corrections that
 * void records, as `xueshi-node list`, `review` and the 记录 page show them. */
#ifndef NODE_REVIEWS_H
#define NODE_REVIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "xs/record.h"

/* The review state of one record. */
typedef struct node_review {
    uint64_t target; /* sequence number of the reviewed record */
    uint64_t by;     /* sequence number of its latest review (the largest) */
    uint8_t verdict; /* that review's xs_verdict */
    xs_str_t note;   /* that review's note: the reason of a return; borrowed from the walk's
                        records, valid while their transaction is */
} node_review_t;

/* What a walk over the records gathers: every reviewed record once. */
typedef struct node_reviews {
    node_review_t *items; /* sorted by target once node_reviews_sort ran */
    size_t count, cap;
} node_reviews_t;

/* Notes record seq when it is a review (other kinds are ignored). XS_ENOMEM. */
XS_MUST_USE xs_err node_reviews_add(node_reviews_t *r, uint64_t seq, const xs_record_t *rec);

/* Sorts what was added and keeps, for each record, its latest review: the later wins, so a
 * record approved after it was returned is approved (and the reverse). */
void node_reviews_sort(node_reviews_t *r);

/* The review state of record target after node_reviews_sort, or NULL when none reviews it. */
const node_review_t *node_reviews_find(const node_reviews_t *r, uint64_t target);

/* Frees what r holds and zeroes it. */
void node_reviews_free(node_reviews_t *r);

/* What a walk over the records gathers of its corrections: which record each voids. */
typedef struct node_voids {
    struct node_void {
        uint64_t target; /* sequence number of the voided record */
        uint64_t by;     /* sequence number of the correction voiding it */
    } * items;           /* sorted by target, then correction, once node_voids_sort ran */
    size_t count, cap;
} node_voids_t;

/* Notes record seq when it is a correction (other kinds are ignored). XS_ENOMEM. */
XS_MUST_USE xs_err node_voids_add(node_voids_t *v, uint64_t seq, const xs_record_t *rec);

/* Sorts what was added, for node_voids_by. */
void node_voids_sort(node_voids_t *v);

/* The first correction voiding record target after node_voids_sort, or 0 when none does. */
uint64_t node_voids_by(const node_voids_t *v, uint64_t target);

/* Frees what v holds and zeroes it. */
void node_voids_free(node_voids_t *v);

/* Chinese label of a record's review state: "未审核" (state NULL), "已通过", "已退回". */
const char *node_review_label(const node_review_t *state);

#endif
