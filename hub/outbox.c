/* outbox: the owner of HUB_T_FOLLOW and META generation.
 *
 * Invariants, and the one function that moves each:
 *   - META generation is the last generation issued and never decreases; every FOLLOW value
 *     is at most it: hub_outbox_next_generation moves it, one step per merge whose
 *     certification changed a teacher's result.
 *   - FOLLOW (origin, teacher) holds the generation and time the teacher's result last changed
 *     at, for every origin with records of the teacher: hub_outbox_put writes the marks.
 *   - FOLLOW (origin, 0xff) holds the largest generation of the origin's marks, the origin's
 *     receipts generation (VIEW receipts_gen, RECEIPTS generation): hub_outbox_put raises it
 *     with the marks. 0xff never occurs in UTF-8, so it sorts after every teacher_id. */
#include "outbox.h"

#include <string.h>

#define S_FOLLOW_KEY_MAX (32 + XS_ID_MAX)
#define S_MARK_BYTES 16
static const uint8_t s_newest = 0xff;

xs_err hub_outbox_next_generation(xs_txn_t *txn, uint64_t *generation) {
    uint64_t last;
    xs_err err = hub_meta_get_u64(txn, HUB_META_GENERATION, &last);
    if (err != XS_OK)
        return err;
    *generation = last + 1;
    return hub_meta_put_u64(txn, HUB_META_GENERATION, *generation);
}

xs_err hub_outbox_last_generation(xs_txn_t *txn, uint64_t *generation) {
    return hub_meta_get_u64(txn, HUB_META_GENERATION, generation);
}

xs_err hub_outbox_put(xs_txn_t *txn, const char *teacher, size_t teacher_len,
                      const uint8_t (*origins)[32], size_t count, uint64_t generation,
                      int64_t issued_at) {
    uint8_t mark[S_MARK_BYTES], key[S_FOLLOW_KEY_MAX];
    xs_err err = XS_OK;
    if (teacher_len == 0 || teacher_len > XS_ID_MAX)
        return XS_EINVAL;
    xs_store_u64_key(generation, mark);
    xs_store_u64_key((uint64_t)issued_at, mark + 8);
    for (size_t i = 0; err == XS_OK && i < count; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = memcmp(origins[j], origins[i], 32) == 0;
        if (seen)
            continue;
        memcpy(key, origins[i], 32);
        memcpy(key + 32, teacher, teacher_len);
        err = xs_store_put(txn, HUB_T_FOLLOW, key, 32 + teacher_len, mark, sizeof mark, 0);
        uint64_t newest;
        if (err == XS_OK && (err = hub_outbox_generation(txn, origins[i], &newest)) == XS_OK &&
            generation > newest) {
            key[32] = s_newest;
            err = xs_store_put(txn, HUB_T_FOLLOW, key, 33, mark, 8, 0);
        }
    }
    return err;
}

xs_err hub_outbox_generation(xs_txn_t *txn, const uint8_t origin[32], uint64_t *generation) {
    uint8_t key[33];
    xs_bytes_t v;
    memcpy(key, origin, 32);
    key[32] = s_newest;
    *generation = 0;
    xs_err err = xs_store_get(txn, HUB_T_FOLLOW, key, sizeof key, &v);
    if (err == XS_ENOTFOUND)
        return XS_OK;
    if (err != XS_OK)
        return err;
    if (v.len != 8)
        return XS_ECORRUPT;
    *generation = xs_store_key_u64(v.ptr);
    return XS_OK;
}

xs_err hub_outbox_each(xs_txn_t *txn, const uint8_t origin[32], uint64_t have, const char *after,
                       size_t after_len, hub_outbox_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
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
        if (k.len <= 32 || memcmp(k.ptr, origin, 32) != 0 ||
            ((const uint8_t *)k.ptr)[32] == s_newest)
            break;
        if (after && k.len == klen && memcmp(k.ptr, key, klen) == 0)
            continue; /* `after` itself was sent already */
        if (v.len != S_MARK_BYTES) {
            err = XS_ECORRUPT;
            break;
        }
        uint64_t generation = xs_store_key_u64(v.ptr);
        if (generation <= have)
            continue;
        hub_outbox_mark_t mark = {(const char *)k.ptr + 32, k.len - 32, generation,
                                  (int64_t)xs_store_key_u64((const uint8_t *)v.ptr + 8)};
        if ((err = fn(ctx, &mark, &stop)) != XS_OK)
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
