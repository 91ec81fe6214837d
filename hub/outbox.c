/* outbox: the owner of HUB_T_RECEIPTS, HUB_T_FOLLOW and META generation.
 *
 * Invariants, and the one function that moves each:
 *   - META generation is the last generation issued and never decreases; every FOLLOW value
 *     is at most it: hub_outbox_next_generation moves it, one step per merge that certifies.
 *   - FOLLOW (origin, teacher) exists only when RECEIPTS holds teacher's receipt, and its value
 *     is the generation that receipt was signed at, for every origin with records of the
 *     teacher: hub_outbox_put writes the receipt and its marks together.
 *   - An origin's receipts generation (VIEW receipts_gen, RECEIPTS generation) is the largest
 *     FOLLOW value under it: hub_outbox_generation computes it, nothing stores it. */
#include "outbox.h"

#include <string.h>

#define S_FOLLOW_KEY_MAX (32 + XS_ID_MAX)

xs_err hub_outbox_next_generation(xs_txn_t *txn, uint64_t *generation) {
    uint64_t last;
    xs_err err = hub_meta_get_u64(txn, HUB_META_GENERATION, &last);
    if (err != XS_OK)
        return err;
    *generation = last + 1;
    return hub_meta_put_u64(txn, HUB_META_GENERATION, *generation);
}

xs_err hub_outbox_put(xs_txn_t *txn, const char *teacher, size_t teacher_len, const void *envelope,
                      size_t len, const uint8_t (*origins)[32], size_t count, uint64_t generation) {
    uint8_t gen[8], key[S_FOLLOW_KEY_MAX];
    if (teacher_len == 0 || teacher_len > XS_ID_MAX)
        return XS_EINVAL;
    xs_store_u64_key(generation, gen);
    xs_err err = xs_store_put(txn, HUB_T_RECEIPTS, teacher, teacher_len, envelope, len, 0);
    for (size_t i = 0; err == XS_OK && i < count; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = memcmp(origins[j], origins[i], 32) == 0;
        if (seen)
            continue;
        memcpy(key, origins[i], 32);
        memcpy(key + 32, teacher, teacher_len);
        err = xs_store_put(txn, HUB_T_FOLLOW, key, 32 + teacher_len, gen, sizeof gen, 0);
    }
    return err;
}

xs_err hub_outbox_receipt(xs_txn_t *txn, const char *teacher, size_t teacher_len,
                          xs_bytes_t *envelope) {
    if (teacher_len == 0 || teacher_len > XS_ID_MAX)
        return XS_ENOTFOUND;
    return xs_store_get(txn, HUB_T_RECEIPTS, teacher, teacher_len, envelope);
}

xs_err hub_outbox_generation(xs_txn_t *txn, const uint8_t origin[32], uint64_t *generation) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    *generation = 0;
    xs_err err = xs_store_cursor_open(txn, HUB_T_FOLLOW, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, origin, 32, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len <= 32 || memcmp(k.ptr, origin, 32) != 0)
            break;
        if (v.len == 8 && xs_store_key_u64(v.ptr) > *generation)
            *generation = xs_store_key_u64(v.ptr);
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err hub_outbox_each(xs_txn_t *txn, const uint8_t origin[32], uint64_t have, const char *after,
                       size_t after_len, hub_outbox_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v, envelope;
    uint8_t key[S_FOLLOW_KEY_MAX];
    size_t klen = 32;
    int stop = 0;
    if (after && after_len > XS_ID_MAX)
        return XS_EINVAL;
    memcpy(key, origin, 32);
    if (after) {
        memcpy(key + 32, after, after_len);
        klen += after_len;
    }
    xs_err err = xs_store_cursor_open(txn, HUB_T_FOLLOW, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, key, klen, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len <= 32 || memcmp(k.ptr, origin, 32) != 0)
            break;
        if (after && k.len == klen && memcmp(k.ptr, key, klen) == 0)
            continue; /* `after` itself was sent already */
        if (v.len != 8 || xs_store_key_u64(v.ptr) <= have)
            continue;
        const char *teacher = (const char *)k.ptr + 32;
        err = xs_store_get(txn, HUB_T_RECEIPTS, teacher, k.len - 32, &envelope);
        if (err == XS_ENOTFOUND)
            continue;
        if (err != XS_OK)
            break;
        hub_outbox_receipt_t r = {teacher, k.len - 32, envelope.ptr, envelope.len,
                                  xs_store_key_u64(v.ptr)};
        if ((err = fn(ctx, &r, &stop)) != XS_OK)
            goto out; /* fn's own error, even XS_ENOTFOUND */
        if (stop)
            break;
    }
    if (err == XS_ENOTFOUND)
        err = XS_OK;
out:
    xs_store_cursor_close(&cur);
    return err;
}

static xs_err s_page_add(void *ctx, const hub_outbox_receipt_t *r, int *stop) {
    *stop = !xs_proto_page_add(ctx, r->envelope, r->len);
    return XS_OK;
}

xs_err hub_outbox_page(xs_txn_t *txn, const uint8_t origin[32], uint64_t have, const char *after,
                       size_t after_len, xs_proto_page_t *page) {
    return hub_outbox_each(txn, origin, have, after, after_len, s_page_add, page);
}
