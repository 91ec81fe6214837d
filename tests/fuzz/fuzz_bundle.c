/* fuzz_bundle: libFuzzer harness for USB bundles (schema/protocol.md §7). Each input is read
 * as a bundle addressed to a fixed hub; whatever reads must hold together. Since the fuzzer
 * cannot forge an authenticated chunk, the input is also cut into items and written as a
 * real bundle to that hub, which must read back to exactly those items, and must be refused
 * once truncated or changed at a place the input picks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/bundle.h"
#include "xs/identity.h"

/* Inputs past this gain nothing: the prefix and chunk framing are all the parser reads
 * before authentication, and the written bundle's items need not be large. */
#define FUZZ_MAX_INPUT (256 * 1024)
/* Most items the input is cut into. */
#define FUZZ_MAX_ITEMS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed recipient: seed 20 21 .. 3f, the "hub" of schema/vectors/protocol.txt. */
static xs_identity_t *s_hub;

static const xs_identity_t *s_fixed_hub(void) {
    if (!s_hub) {
        uint8_t seed[32];
        for (int i = 0; i < 32; i++)
            seed[i] = (uint8_t)(0x20 + i);
        if (xs_identity_from_seed(&s_hub, seed) != XS_OK)
            abort();
    }
    return s_hub;
}

/* Reads len bytes as kind and checks every promise of xs_bundle_read; returns its result. */
static xs_err s_read_checked(const uint8_t *bytes, size_t len, uint8_t kind,
                             xs_bundle_items_t *items) {
    const char *why = "unset";
    xs_err err = xs_bundle_read(bytes, len, kind, s_fixed_hub(), items, &why);
    if (err != XS_OK) {
        if ((err != XS_EMALFORMED && err != XS_ETOOBIG && err != XS_EPERM && err != XS_ECRYPTO &&
             err != XS_ENOMEM) ||
            !why || items->count || items->items || items->plaintext)
            abort();
        return err;
    }
    size_t total = 0;
    if (why || items->kind != kind || len < XS_BUNDLE_PREFIX_BYTES || items->plaintext_len > len ||
        (items->count && !items->items))
        abort();
    for (size_t i = 0; i < items->count; i++) {
        const xs_bundle_item_t *it = &items->items[i];
        if (it->len > XS_BUNDLE_ITEM_MAX || it->ptr < items->plaintext ||
            it->ptr + it->len > items->plaintext + items->plaintext_len)
            abort();
        total += it->len;
    }
    if (total != items->plaintext_len)
        abort();
    return XS_OK;
}

/* Cuts the input into items: the first byte says how many (at most FUZZ_MAX_ITEMS), the rest
 * is shared out by the following bytes' values. Returns the count. */
static size_t s_cut(const uint8_t *data, size_t size, xs_bundle_item_t *items) {
    if (size == 0)
        return 0;
    size_t count = data[0] % (FUZZ_MAX_ITEMS + 1);
    size_t pos = 1;
    for (size_t i = 0; i < count; i++) {
        size_t len = pos < size ? data[pos] * 16u + (size - pos) % 16u : 0;
        if (len > size - pos)
            len = size - pos;
        items[i].ptr = data + pos;
        items[i].len = len;
        pos += len;
    }
    return count;
}

/* Writes the items as a bundle of kind to the fixed hub; *out is malloc'd, exactly sized. */
static size_t s_write(const xs_bundle_item_t *items, size_t count, uint8_t kind, uint8_t **out) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    xs_bundle_writer_t *w = NULL;
    if (!f || xs_bundle_writer_open(&w, f, kind, xs_identity_public(s_fixed_hub())->box) != XS_OK)
        abort();
    for (size_t i = 0; i < count; i++)
        if (xs_bundle_writer_add(w, items[i].ptr, items[i].len) != XS_OK)
            abort();
    if (xs_bundle_writer_finish(w) != XS_OK)
        abort();
    xs_bundle_writer_free(&w);
    if (fclose(f) != 0)
        abort();
    *out = malloc(len);
    if (!*out)
        abort();
    memcpy(*out, buf, len);
    free(buf);
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xs_bundle_items_t items;
    if (size > FUZZ_MAX_INPUT)
        return 0;

    /* The input as a bundle, of the kind it names when it names one. */
    uint8_t kind =
        size > 8 && data[8] == XS_BUNDLE_RECEIPTS ? XS_BUNDLE_RECEIPTS : XS_BUNDLE_BATCHES;
    if (s_read_checked(data, size, kind, &items) == XS_OK) {
        xs_bundle_items_free(&items);
        /* Of the other kind it never reads. */
        uint8_t other = kind == XS_BUNDLE_BATCHES ? XS_BUNDLE_RECEIPTS : XS_BUNDLE_BATCHES;
        if (s_read_checked(data, size, other, &items) != XS_EMALFORMED)
            abort();
    }

    /* The input as items of a real bundle: they come back exactly. */
    xs_bundle_item_t cut[FUZZ_MAX_ITEMS];
    size_t count = s_cut(data, size, cut);
    uint8_t *bundle = NULL;
    size_t len = s_write(cut, count, kind, &bundle);
    if (s_read_checked(bundle, len, kind, &items) != XS_OK || items.count != count)
        abort();
    for (size_t i = 0; i < count; i++)
        if (items.items[i].len != cut[i].len ||
            (cut[i].len && memcmp(items.items[i].ptr, cut[i].ptr, cut[i].len) != 0))
            abort();
    xs_bundle_items_free(&items);

    /* Truncated, or with one byte changed, where the input's last bytes say: refused. */
    size_t where = 0;
    for (size_t i = size > 4 ? size - 4 : 0; i < size; i++)
        where = where << 8 | data[i];
    where %= len;
    if (s_read_checked(bundle, where, kind, &items) != XS_EMALFORMED)
        abort();
    uint8_t flip = size ? (uint8_t)(data[size - 1] | 1) : 1;
    bundle[where] ^= flip;
    if (s_read_checked(bundle, len, kind, &items) == XS_OK)
        abort();
    free(bundle);
    return 0;
}
