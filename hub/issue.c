/* issue: receipts built from the certification state when asked for, signed once per page
 * under a Merkle root (protocol.md §4.2). Nothing here is stored: the same state gives the
 * same page, byte for byte, since the root's generation and time are the marks' and Ed25519
 * signatures are deterministic. */
#include "issue.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credit.h"
#include "outbox.h"
#include "year.h"

void hub_issue_page_init(hub_issue_page_t *page) {
    memset(page, 0, sizeof *page);
    xs_writer_init(&page->root, XS_RECEIPT_MAX_BYTES);
    xs_writer_init(&page->leaf_bytes, XS_PROTO_FRAME_MAX);
}

void hub_issue_page_free(hub_issue_page_t *page) {
    xs_writer_free(&page->root);
    xs_writer_free(&page->leaf_bytes);
    free(page->leaves);
    memset(page, 0, sizeof *page);
}

typedef struct s_page {
    hub_t *hub;
    xs_txn_t *txn;
    hub_issue_page_t *page;
    size_t max_bytes;
    size_t *offsets; /* each leaf's start in leaf_bytes */
    size_t cap;
    xs_receipt_t *receipt; /* scratch */
    xs_writer_t leaf;      /* one leaf */
    hub_closed_cache_t *closed;
    int64_t issued_at;
} s_page_t;

static xs_err s_page_add(void *ctx, const hub_outbox_mark_t *mark, int *stop) {
    s_page_t *p = ctx;
    hub_issue_page_t *page = p->page;
    if (page->count == XS_RECEIPT_TREE_MAX) {
        page->more = 1;
        *stop = 1;
        return XS_OK;
    }
    xs_err err =
        hub_credit_receipt(p->hub, p->txn, p->closed, mark->teacher, mark->teacher_len, p->receipt);
    if (err == XS_ENOTFOUND)
        return XS_OK; /* marked, yet no record is held: nothing to say */
    if (err != XS_OK)
        return err;
    size_t before = page->leaf_bytes.len;
    xs_writer_reset(&p->leaf);
    if ((err = xs_receipt_leaf_encode(&p->leaf, p->receipt)) != XS_OK)
        return err;
    if (before + p->leaf.len > p->max_bytes) {
        /* Full: the rest on the next page (a leaf alone always fits an empty page). */
        if (page->count == 0)
            return XS_ETOOBIG;
        page->more = 1;
        *stop = 1;
        return XS_OK;
    }
    xs_writer_raw(&page->leaf_bytes, p->leaf.data, p->leaf.len);
    if ((err = xs_writer_err(&page->leaf_bytes)) != XS_OK)
        return err;
    if (page->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        size_t *o = realloc(p->offsets, cap * sizeof *o);
        if (!o)
            return XS_ENOMEM;
        p->offsets = o;
        p->cap = cap;
    }
    p->offsets[page->count++] = before;
    if (mark->generation > page->generation)
        page->generation = mark->generation;
    if (mark->issued_at > p->issued_at)
        p->issued_at = mark->issued_at;
    memcpy(page->last_teacher, mark->teacher, mark->teacher_len);
    page->last_teacher_len = mark->teacher_len;
    return XS_OK;
}

/* Signs the root over the page's leaves, head fields from the policy and the marks. */
static xs_err s_sign(hub_t *hub, hub_issue_page_t *page, const size_t *offsets, int64_t issued_at) {
    uint8_t(*hashes)[XS_HASH_BYTES] = malloc(page->count * sizeof *hashes);
    uint8_t root[XS_HASH_BYTES];
    xs_err err = XS_ENOMEM;
    if (!hashes || !(page->leaves = malloc(page->count * sizeof *page->leaves)))
        goto out;
    for (size_t i = 0; i < page->count; i++) {
        size_t end = i + 1 < page->count ? offsets[i + 1] : page->leaf_bytes.len;
        page->leaves[i] = (xs_proto_blob_t){page->leaf_bytes.data + offsets[i], end - offsets[i]};
        xs_receipt_leaf_hash(page->leaves[i].ptr, page->leaves[i].len, hashes[i]);
    }
    if ((err = xs_receipt_tree_root((const uint8_t(*)[XS_HASH_BYTES])hashes, page->count, root)) !=
        XS_OK)
        goto out;
    xs_receipt_t *head = calloc(1, sizeof *head);
    if (!head) {
        err = XS_ENOMEM;
        goto out;
    }
    head->policy_id.ptr = hub->policy->id;
    head->policy_id.len = (uint32_t)strnlen(hub->policy->id, sizeof hub->policy->id);
    head->policy_version = hub->policy->version;
    memcpy(head->policy_hash, hub->policy_hash, XS_HASH_BYTES);
    head->generation = page->generation;
    head->issued_at = issued_at;
    xs_writer_reset(&page->root);
    err = xs_receipt_root_sign(&page->root, hub->id, head, page->count, root);
    free(head);
out:
    free(hashes);
    return err;
}

xs_err hub_issue_page(hub_t *hub, xs_txn_t *txn, const uint8_t origin[32], uint64_t have,
                      const char *after, size_t after_len, size_t max_bytes,
                      hub_issue_page_t *page) {
    s_page_t p = {.hub = hub, .txn = txn, .page = page, .max_bytes = max_bytes};
    free(page->leaves);
    page->leaves = NULL;
    page->count = 0;
    page->more = 0;
    page->generation = 0;
    page->last_teacher_len = 0;
    xs_writer_reset(&page->root);
    xs_writer_reset(&page->leaf_bytes);
    if (!hub->id)
        return XS_EINVAL;
    xs_writer_init(&p.leaf, XS_RECEIPT_LEAF_MAX);
    xs_err err = (p.receipt = malloc(sizeof *p.receipt)) ? XS_OK : XS_ENOMEM;
    if (err == XS_OK)
        err = hub_closed_cache_new(&p.closed, hub);
    if (err == XS_OK)
        err = hub_outbox_each(txn, origin, have, after, after_len, s_page_add, &p);
    if (err == XS_OK && page->count)
        err = s_sign(hub, page, p.offsets, p.issued_at);
    hub_closed_cache_destroy(&p.closed);
    xs_writer_free(&p.leaf);
    free(p.receipt);
    free(p.offsets);
    return err;
}

xs_err hub_issue_page_each(hub_t *hub, const hub_issue_page_t *page, xs_receipt_leaf_fn fn,
                           void *ctx) {
    if (page->count == 0)
        return XS_OK;
    return xs_receipt_page_open(page->root.data, page->root.len, page->leaves, page->count,
                                xs_identity_public(hub->id)->sign, fn, ctx);
}

/* Copies the one standalone receipt of a page of one leaf. */
static xs_err s_copy_one(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                         const xs_receipt_t *opened) {
    (void)opened;
    (void)index;
    xs_writer_raw(ctx, receipt, len);
    return xs_writer_err(ctx);
}

xs_err hub_issue_one(hub_t *hub, xs_txn_t *txn, const char *teacher, size_t len, xs_writer_t *out) {
    hub_issue_page_t page;
    xs_receipt_t *r = malloc(sizeof *r);
    size_t offset = 0;
    uint64_t generation = 0;
    if (!r)
        return XS_ENOMEM;
    hub_issue_page_init(&page);
    xs_err err = hub->id ? hub_credit_receipt(hub, txn, NULL, teacher, len, r) : XS_EINVAL;
    if (err == XS_OK)
        err = hub_outbox_last_generation(txn, &generation);
    if (err == XS_OK)
        err = xs_receipt_leaf_encode(&page.leaf_bytes, r);
    if (err == XS_OK) {
        page.count = 1;
        page.generation = generation;
        err = s_sign(hub, &page, &offset, (int64_t)time(NULL));
    }
    if (err == XS_OK)
        err = hub_issue_page_each(hub, &page, s_copy_one, out);
    hub_issue_page_free(&page);
    free(r);
    return err;
}
