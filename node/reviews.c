/* reviews: the latest review of each record among a node's records (records.md §3.1), and
 * the corrections that void records. */
#include "reviews.h"

#include <stdlib.h>
#include <string.h>

xs_err node_reviews_add(node_reviews_t *r, uint64_t seq, const xs_record_t *rec) {
    if (rec->kind != XS_KIND_REVIEW)
        return XS_OK;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        node_review_t *grown = realloc(r->items, cap * sizeof *grown);
        if (!grown)
            return XS_ENOMEM;
        r->items = grown;
        r->cap = cap;
    }
    r->items[r->count++] = (node_review_t){rec->reviews, seq, rec->verdict, rec->note};
    return XS_OK;
}

/* By target, then by review: the latest review of a target is the last of its run. */
static int s_cmp(const void *a, const void *b) {
    const node_review_t *x = a, *y = b;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return x->by < y->by ? -1 : x->by > y->by;
}

void node_reviews_sort(node_reviews_t *r) {
    if (r->count == 0)
        return;
    qsort(r->items, r->count, sizeof *r->items, s_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (kept && r->items[kept - 1].target == r->items[i].target)
            kept--; /* a later review of the same record replaces the earlier */
        r->items[kept++] = r->items[i];
    }
    r->count = kept;
}

const node_review_t *node_reviews_find(const node_reviews_t *r, uint64_t target) {
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->items[mid].target < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->count && r->items[lo].target == target ? &r->items[lo] : NULL;
}

void node_reviews_free(node_reviews_t *r) {
    free(r->items);
    memset(r, 0, sizeof *r);
}

const char *node_review_label(const node_review_t *state) {
    if (!state)
        return "未审核";
    return state->verdict == XS_VERDICT_RETURNED ? "已退回" : "已通过";
}

xs_err node_voids_add(node_voids_t *v, uint64_t seq, const xs_record_t *rec) {
    if (rec->kind != XS_KIND_CORRECTION)
        return XS_OK;
    if (v->count == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        struct node_void *grown = realloc(v->items, cap * sizeof *grown);
        if (!grown)
            return XS_ENOMEM;
        v->items = grown;
        v->cap = cap;
    }
    v->items[v->count++] = (struct node_void){rec->voids, seq};
    return XS_OK;
}

static int s_cmp_void(const void *a, const void *b) {
    const struct node_void *x = a, *y = b;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return x->by < y->by ? -1 : x->by > y->by;
}

void node_voids_sort(node_voids_t *v) {
    if (v->count > 0) /* qsort wants a non-null array */
        qsort(v->items, v->count, sizeof *v->items, s_cmp_void);
}

uint64_t node_voids_by(const node_voids_t *v, uint64_t target) {
    size_t lo = 0, hi = v->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->items[mid].target < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->count && v->items[lo].target == target ? v->items[lo].by : 0;
}

void node_voids_free(node_voids_t *v) {
    free(v->items);
    memset(v, 0, sizeof *v);
}
