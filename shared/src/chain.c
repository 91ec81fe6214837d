/* chain: what a store holds of one origin's batch chain: contiguous head, highest seq, gaps. */
#include "xs/chain.h"

#include <string.h>

/* An origin's head (see chain.h): seqs 1..through held, in batches. */
typedef struct s_head {
    uint64_t through;
    uint64_t batches;
} s_head_t;

/* Reads origin's head; *found 0 (and a zero head) when the origin has none yet. */
static xs_err s_head_get(xs_txn_t *txn, unsigned table, const uint8_t origin[32], s_head_t *h,
                         int *found) {
    xs_bytes_t v;
    memset(h, 0, sizeof *h);
    *found = 0;
    xs_err err = xs_store_get(txn, table, origin, 32, &v);
    if (err == XS_ENOTFOUND)
        return XS_OK;
    if (err != XS_OK)
        return err;
    if (v.len != XS_CHAIN_HEAD_BYTES)
        return XS_ECORRUPT;
    h->through = xs_store_key_u64(v.ptr);
    h->batches = xs_store_key_u64((const uint8_t *)v.ptr + 8);
    *found = 1;
    return XS_OK;
}

static xs_err s_head_put(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                         const s_head_t *h) {
    uint8_t value[XS_CHAIN_HEAD_BYTES];
    xs_store_u64_key(h->through, value);
    xs_store_u64_key(h->batches, value + 8);
    return xs_store_put(txn, table, origin, 32, value, sizeof value, 0);
}

/* Absorbs into h every entry of origin from seq `from` on that starts at or before
 * h->through + 1, in order: the head moves past the batches that now continue it. */
static xs_err s_head_absorb(xs_txn_t *txn, unsigned table, const uint8_t origin[32], uint64_t from,
                            s_head_t *h) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_chain_entry_t e;
    xs_err err = xs_store_cursor_open(txn, table, &cur);
    if (err != XS_OK)
        return err;
    xs_chain_key(origin, from, key);
    for (err = xs_store_cursor_seek(cur, key, sizeof key, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != XS_CHAIN_KEY_BYTES || memcmp(k.ptr, origin, 32) != 0)
            break;
        if ((err = xs_chain_parse(&k, &v, &e)) != XS_OK)
            break;
        if (h->through == UINT64_MAX || e.first_seq > h->through + 1)
            break;
        uint64_t last = e.first_seq + (e.count - 1);
        if (last > h->through)
            h->through = last;
        h->batches++;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err xs_chain_put_headed(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                           const xs_chain_entry_t *e, int link) {
    xs_chain_entry_t old;
    s_head_t h;
    int found, known = 0;
    xs_err err = s_head_get(txn, table, origin, &h, &found);
    /* Inside the head already (a fork the caller should have refused): counted once. */
    if (err == XS_OK && found && e->first_seq <= h.through) {
        err = xs_chain_get(txn, table, origin, e->first_seq, &old);
        known = err == XS_OK;
        err = err == XS_ENOTFOUND ? XS_OK : err;
    }
    if (err == XS_OK)
        err = xs_chain_put(txn, table, origin, e, link);
    if (err != XS_OK)
        return err;
    if (found && e->first_seq <= h.through) {
        uint64_t last = e->first_seq + (e->count - 1);
        h.batches += !known;
        h.through = last > h.through ? last : h.through;
    }
    /* Without a head, every entry is walked once to make it. */
    if (h.through < UINT64_MAX &&
        (err = s_head_absorb(txn, table, origin, found ? h.through + 1 : 0, &h)) != XS_OK)
        return err;
    return s_head_put(txn, table, origin, &h);
}

xs_err xs_chain_view_headed(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                            xs_chain_view_t *view) {
    s_head_t h;
    int found;
    xs_err err = s_head_get(txn, table, origin, &h, &found);
    if (err != XS_OK)
        return err;
    return xs_chain_view_after(txn, table, origin, h.through, h.batches, view);
}

void xs_chain_key(const uint8_t origin[32], uint64_t seq, uint8_t key[XS_CHAIN_KEY_BYTES]) {
    memcpy(key, origin, 32);
    xs_store_u64_key(seq, key + 32);
}

xs_err xs_chain_view(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                     xs_chain_view_t *view) {
    return xs_chain_view_after(txn, table, origin, 0, 0, view);
}

xs_err xs_chain_view_after(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                           uint64_t through, uint64_t batches, xs_chain_view_t *view) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    uint64_t held = through; /* the highest seq seen held, 0: none (not "one past it", which
                                wraps to 0 for a batch ending at 2^64 - 1) */
    size_t gaps = 0;
    xs_err err = XS_ENOTFOUND;
    memset(view, 0, sizeof *view);
    view->batches = batches;
    /* Nothing can start past 2^64 - 1; from 0 when nothing is known. */
    if (through < UINT64_MAX) {
        xs_chain_key(origin, through ? through + 1 : 0, key);
        err = xs_store_cursor_open(txn, table, &cur);
        if (err != XS_OK)
            return err;
        err = xs_store_cursor_seek(cur, key, sizeof key, &k, &v);
    }
    for (; err == XS_OK; err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != XS_CHAIN_KEY_BYTES || memcmp(k.ptr, origin, 32) != 0)
            break;
        if (v.len < 4) {
            err = XS_ECORRUPT;
            break;
        }
        uint64_t first = xs_store_key_u64((const uint8_t *)k.ptr + 32);
        uint64_t count = xs_store_key_u32(v.ptr);
        if (first > held && first - held > 1) {
            if (gaps < XS_CHAIN_MAX_GAPS) {
                view->gaps[gaps][0] = held + 1;
                view->gaps[gaps][1] = first - 1;
            }
            gaps++;
        }
        if (count > 0 && first + (count - 1) > held)
            held = first + (count - 1);
        view->batches++;
    }
    xs_store_cursor_close(&cur);
    if (err != XS_OK && err != XS_ENOTFOUND)
        return err;
    view->held_max = held;
    view->have_through = gaps ? view->gaps[0][0] - 1 : view->held_max;
    /* Gaps past the first XS_CHAIN_MAX_GAPS are listed in a later view, once these fill. */
    view->gap_count = gaps < XS_CHAIN_MAX_GAPS ? gaps : XS_CHAIN_MAX_GAPS;
    return XS_OK;
}

xs_err xs_chain_put(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                    const xs_chain_entry_t *e, int link) {
    uint8_t key[XS_CHAIN_KEY_BYTES], value[XS_CHAIN_LINKED_VALUE_BYTES];
    xs_chain_key(origin, e->first_seq, key);
    xs_store_u32_key(e->count, value);
    memcpy(value + 4, e->hash, 32);
    memcpy(value + 36, e->prev_hash, 32);
    return xs_store_put(txn, table, key, sizeof key, value,
                        link ? XS_CHAIN_LINKED_VALUE_BYTES : XS_CHAIN_VALUE_BYTES, 0);
}

xs_err xs_chain_parse(const xs_bytes_t *k, const xs_bytes_t *v, xs_chain_entry_t *e) {
    if (k->len != XS_CHAIN_KEY_BYTES ||
        (v->len != XS_CHAIN_VALUE_BYTES && v->len != XS_CHAIN_LINKED_VALUE_BYTES))
        return XS_ECORRUPT;
    const uint8_t *c = v->ptr;
    e->first_seq = xs_store_key_u64((const uint8_t *)k->ptr + 32);
    e->count = xs_store_key_u32(c);
    memcpy(e->hash, c + 4, 32);
    if (v->len == XS_CHAIN_LINKED_VALUE_BYTES)
        memcpy(e->prev_hash, c + 36, 32);
    else
        memset(e->prev_hash, 0, 32);
    return e->count ? XS_OK : XS_ECORRUPT;
}

xs_err xs_chain_get(xs_txn_t *txn, unsigned table, const uint8_t origin[32], uint64_t first_seq,
                    xs_chain_entry_t *e) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_bytes_t k = {key, sizeof key}, v;
    xs_chain_key(origin, first_seq, key);
    xs_err err = xs_store_get(txn, table, key, sizeof key, &v);
    return err == XS_OK ? xs_chain_parse(&k, &v, e) : err;
}
