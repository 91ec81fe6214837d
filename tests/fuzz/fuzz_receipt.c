/* fuzz_receipt: libFuzzer harness for receipts under a signed Merkle root (protocol.md §4.2):
 * the standalone receipt xs_receipt_open reads, and the page xs_receipt_page_open reads. Each
 * input is opened as a receipt envelope as it is; then, signed with a fixed hub key, as a leaf
 * under a root, and as a page ([root body: bin, leaves: array of bin]), to reach the leaf and
 * page decoders behind the signature and the path. A leaf under a root the hub signed is never
 * refused for its path; a leaf that opens encodes again into one that opens the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/codec.h"
#include "xs/envelope.h"
#include "xs/identity.h"
#include "xs/receipt.h"

/* Inputs past this gain nothing: a larger receipt is refused unread. */
#define FUZZ_MAX_INPUT (XS_RECEIPT_MAX_BYTES + 64)
/* Most leaves of a page made of an input. */
#define FUZZ_PAGE_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed hub key: seed 20 21 .. 3f, the "hub" of schema/vectors/receipt-root.txt. */
static xs_identity_t *s_hub;
static xs_receipt_t s_receipt, s_again;

static const xs_identity_t *s_hub_key(void) {
    if (!s_hub) {
        uint8_t seed[32];
        for (int i = 0; i < 32; i++)
            seed[i] = (uint8_t)(0x20 + i);
        if (xs_identity_from_seed(&s_hub, seed) != XS_OK)
            abort();
    }
    return s_hub;
}

static int s_same_str(xs_str_t a, xs_str_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The leaf's content of two receipts is the same. */
static int s_same_leaf(const xs_receipt_t *a, const xs_receipt_t *b) {
    if (!s_same_str(a->teacher_id, b->teacher_id) || a->period_count != b->period_count ||
        a->total_count != b->total_count)
        return 0;
    for (uint32_t i = 0; i < a->period_count; i++) {
        const xs_receipt_period_t *x = &a->periods[i], *y = &b->periods[i];
        if (x->scope != y->scope || x->year != y->year || x->record_count != y->record_count ||
            x->closed != y->closed || memcmp(x->records_hash, y->records_hash, 32) != 0 ||
            memcmp(x->closed_hash, y->closed_hash, 32) != 0)
            return 0;
    }
    for (uint32_t i = 0; i < a->total_count; i++) {
        const xs_receipt_total_t *x = &a->totals[i], *y = &b->totals[i];
        if (x->credited_seconds != y->credited_seconds ||
            x->required_seconds != y->required_seconds || x->year != y->year ||
            x->scope != y->scope || x->semester != y->semester || x->bucket != y->bucket ||
            x->met != y->met || x->binding != y->binding || x->single_met != y->single_met)
            return 0;
    }
    return 1;
}

/* Signs a root over leaf_count leaves whose hash of leaf index is leaf_hash (the others made
 * up) into root_env, and writes leaf's standalone receipt into receipt. */
static void s_under_root(const uint8_t *leaf, size_t len, size_t leaf_count, size_t index,
                         xs_writer_t *root_env, xs_writer_t *receipt) {
    uint8_t hashes[5][XS_HASH_BYTES], root[XS_HASH_BYTES], path[XS_RECEIPT_PATH_MAX][32];
    size_t path_len;
    xs_receipt_t *head = &s_again;
    for (size_t i = 0; i < leaf_count; i++)
        memset(hashes[i], (int)i + 1, XS_HASH_BYTES);
    xs_receipt_leaf_hash(leaf, len, hashes[index]);
    memset(head, 0, sizeof *head);
    head->policy_id = (xs_str_t){"fuzz", 4};
    head->generation = 7;
    if (xs_receipt_tree_root(hashes, leaf_count, root) != XS_OK ||
        xs_receipt_tree_path(hashes, leaf_count, index, path, &path_len) != XS_OK ||
        xs_receipt_root_sign(root_env, s_hub_key(), head, leaf_count, root) != XS_OK ||
        xs_receipt_standalone(receipt, root_env->data, root_env->len, leaf, len, index, path,
                              path_len) != XS_OK)
        abort();
}

/* Opens leaf under a root the hub signed, at an index among up to 5 leaves: it opens or is
 * malformed, never refused for its path; a single leaf's page says the same and gives the
 * same receipt. A leaf that opens, encoded again, opens to the same content; want, when
 * given, is the content it must open to. */
static const uint8_t *s_page_want;
static size_t s_page_want_len, s_page_calls;

static xs_err s_on_single(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                          const xs_receipt_t *opened) {
    (void)opened;
    (void)ctx;
    if (index != 0 || len != s_page_want_len || memcmp(receipt, s_page_want, len) != 0)
        abort();
    s_page_calls++;
    return XS_OK;
}

static void s_leaf_checked(const uint8_t *leaf, size_t len, const xs_receipt_t *want) {
    const uint8_t *hub = xs_identity_public(s_hub_key())->sign;
    xs_writer_t root_env, receipt;
    if (len == 0 || len > XS_RECEIPT_LEAF_MAX)
        return;
    size_t leaf_count = 1 + len % 5, index = (len / 5) % leaf_count;
    xs_writer_init(&root_env, 1024);
    xs_writer_init(&receipt, XS_RECEIPT_MAX_BYTES);
    s_under_root(leaf, len, leaf_count, index, &root_env, &receipt);
    xs_err err = xs_receipt_open(receipt.data, receipt.len, hub, &s_receipt);
    if (err != XS_OK && err != XS_EMALFORMED)
        abort();
    if (want && (err != XS_OK || !s_same_leaf(want, &s_receipt)))
        abort();
    if (leaf_count == 1) {
        xs_proto_blob_t page = {leaf, len};
        s_page_want = receipt.data;
        s_page_want_len = receipt.len;
        s_page_calls = 0;
        xs_err page_err =
            xs_receipt_page_open(root_env.data, root_env.len, &page, 1, hub, s_on_single, NULL);
        if (page_err != err || s_page_calls != (err == XS_OK))
            abort();
    }
    if (err == XS_OK && !want) {
        static xs_receipt_t first;
        xs_writer_t again;
        first = s_receipt;
        xs_writer_init(&again, XS_RECEIPT_LEAF_MAX);
        if (xs_receipt_leaf_encode(&again, &first) != XS_OK || again.len > len)
            abort();
        s_leaf_checked(again.data, again.len, &first);
        xs_writer_free(&again);
    }
    xs_writer_free(&root_env);
    xs_writer_free(&receipt);
}

/* The input as [root body, leaves]: the body signed by the hub, the page opened; every
 * receipt the page gives opens. */
static xs_err s_on_page_leaf(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                             const xs_receipt_t *opened) {
    (void)opened;
    (void)ctx;
    (void)index;
    if (xs_receipt_open(receipt, len, xs_identity_public(s_hub_key())->sign, &s_again) != XS_OK)
        abort();
    return XS_OK;
}

static void s_page_checked(const uint8_t *data, size_t size) {
    static const char context[] = "xueshi-receipts-1";
    static xs_proto_blob_t leaves[FUZZ_PAGE_MAX];
    xs_reader_t r;
    uint32_t elements, n, body_len;
    const uint8_t *body;
    xs_reader_init(&r, data, size);
    if (xs_codec_get_array(&r, &elements) != XS_OK || elements != 2 ||
        xs_codec_get_bin(&r, &body, &body_len) != XS_OK || body_len > 1024 ||
        xs_codec_get_array(&r, &n) != XS_OK || n > FUZZ_PAGE_MAX)
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        if (xs_codec_get_bin(&r, &leaves[i].ptr, &len) != XS_OK)
            return;
        leaves[i].len = len;
    }
    xs_writer_t signed_bytes, root_env;
    xs_writer_init(&signed_bytes, sizeof context + 1024);
    xs_writer_init(&root_env, 2048);
    xs_writer_raw(&signed_bytes, context, sizeof context);
    xs_writer_raw(&signed_bytes, body, body_len);
    if (xs_envelope_seal(&root_env, s_hub_key(), &signed_bytes, sizeof context, 2048) != XS_OK)
        abort();
    xs_err err = xs_receipt_page_open(root_env.data, root_env.len, leaves, n,
                                      xs_identity_public(s_hub_key())->sign, s_on_page_leaf, NULL);
    if (err != XS_OK && err != XS_EMALFORMED && err != XS_EVERSION && err != XS_ECRYPTO &&
        err != XS_ETOOBIG && err != XS_ENOMEM)
        abort();
    xs_writer_free(&signed_bytes);
    xs_writer_free(&root_env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FUZZ_MAX_INPUT)
        return 0;
    /* As it is: a receipt of either kind, or bytes that are none. */
    xs_err err = xs_receipt_open(data, size, NULL, &s_receipt);
    if (err != XS_OK && err != XS_EMALFORMED && err != XS_ECRYPTO && err != XS_EVERSION &&
        err != XS_ETOOBIG && err != XS_ENOMEM)
        abort();
    if (err == XS_OK && size && data[0] == 0x95) {
        /* A standalone receipt that opens: its leaf, encoded again, opens the same. */
        static xs_receipt_t opened;
        xs_writer_t leaf;
        opened = s_receipt;
        xs_writer_init(&leaf, XS_RECEIPT_LEAF_MAX);
        if (xs_receipt_leaf_encode(&leaf, &opened) != XS_OK)
            abort();
        s_leaf_checked(leaf.data, leaf.len, &opened);
        xs_writer_free(&leaf);
    }
    /* As a leaf the hub signed a root over, and as a page the hub signed. */
    s_leaf_checked(data, size, NULL);
    s_page_checked(data, size);
    return 0;
}
