/* lanes: a node's sealed batches and receipts, its own and its satellites', and their
 * counters. The only file that knows the layout of NODE_T_BATCHES, NODE_T_RECEIPTS and the
 * NODE_T_SAT_* tables (node.h).
 *
 * Invariants, per lane, and who moves them:
 *   sealed_through ≥ acked_through ≥ confirmed_through (own lane; seal.c moves sealed_through,
 *   sync.c raises acked and confirmed through node_lane_raise after the peer's ACK or VIEW,
 *   usb.c raises confirmed from a hub-signed confirmation, recover.c rewrites all three when it
 *   adopts the hub's chain). A satellite's acked_through is the hub's confirmation of it, so it
 *   is its confirmed_through as well. receipts_gen only grows, and only when a complete set of
 *   receipts of that generation is stored.
 *   A satellite's NODE_T_SAT_CHAIN entries have its head beside them (xs/chain.h, "Heads"):
 *   node_lane_store moves it with each entry, so node_lane_view (the VIEW a satellite's HELLO
 *   gets, and the head a relay's HELLO names) walks only the entries past it, whatever the
 *   satellite's history; a chain stored before heads is walked whole until its next batch.
 *   node_lane_links hands the heads on marked as such. */
#include "lanes.h"

#include <string.h>

node_lane_t node_lane_self(void) {
    node_lane_t lane = {NULL};
    return lane;
}

node_lane_t node_lane_satellite(const uint8_t origin[32]) {
    node_lane_t lane = {origin};
    return lane;
}

/* Names of a satellite's counters in NODE_T_SAT_STATE, after its origin. */
static const char *s_sat_counter(node_lane_counter which) {
    return which == NODE_LANE_RECEIPTS_GEN ? "receipts_gen" : "acked_through";
}

static node_meta_key s_own_counter(node_lane_counter which) {
    return which == NODE_LANE_ACKED       ? NODE_META_ACKED_THROUGH
           : which == NODE_LANE_CONFIRMED ? NODE_META_CONFIRMED_THROUGH
                                          : NODE_META_RECEIPTS_GEN;
}

/* Builds origin + suffix into key (room for 32 + XS_ID_MAX); returns its length. */
static size_t s_sat_key(const uint8_t origin[32], const void *suffix, size_t len, uint8_t *key) {
    memcpy(key, origin, 32);
    if (len)
        memcpy(key + 32, suffix, len);
    return 32 + len;
}

xs_err node_lane_get(xs_txn_t *txn, const node_lane_t *lane, node_lane_counter which,
                     uint64_t *out) {
    if (!lane->origin)
        return node_meta_get_u64(txn, s_own_counter(which), out);
    uint8_t key[64];
    const char *name = s_sat_counter(which);
    return xs_store_get_u64(txn, NODE_T_SAT_STATE, key,
                            s_sat_key(lane->origin, name, strlen(name), key), out);
}

xs_err node_lane_put(xs_txn_t *txn, const node_lane_t *lane, node_lane_counter which,
                     uint64_t value) {
    if (!lane->origin)
        return node_meta_put_u64(txn, s_own_counter(which), value);
    uint8_t key[64], v[8];
    const char *name = s_sat_counter(which);
    xs_store_u64_key(value, v);
    return xs_store_put(txn, NODE_T_SAT_STATE, key,
                        s_sat_key(lane->origin, name, strlen(name), key), v, 8, 0);
}

xs_err node_lane_raise(xs_txn_t *txn, const node_lane_t *lane, node_lane_counter which,
                       uint64_t value) {
    uint64_t old;
    xs_err err = node_lane_get(txn, lane, which, &old);
    if (err == XS_OK && value > old)
        err = node_lane_put(txn, lane, which, value);
    return err;
}

/* ---- batches ---- */

/* This node's own batches: keys are first_seq; a batch ends where the next begins, the last
 * at sealed_through. */
static xs_err s_own_batches(xs_txn_t *txn, uint64_t after, node_lane_batch_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v, nk, nv;
    uint64_t sealed;
    xs_err err = node_meta_get_u64(txn, NODE_META_SEALED_THROUGH, &sealed);
    if (err == XS_OK)
        err = xs_store_cursor_open(txn, NODE_T_BATCHES, &cur);
    if (err != XS_OK)
        return err;
    /* Start at the batch holding after + 1: the last one starting at or before it. */
    uint8_t key[8];
    xs_store_u64_key(after + 1, key);
    err = xs_store_cursor_seek(cur, key, 8, &k, &v);
    if (err == XS_OK && xs_store_key_u64(k.ptr) > after + 1) {
        if (xs_store_cursor_prev(cur, &k, &v) != XS_OK)
            err = xs_store_cursor_seek(cur, NULL, 0, &k, &v);
    } else if (err == XS_ENOTFOUND) {
        err = xs_store_cursor_last(cur, &k, &v);
    }
    while (err == XS_OK) {
        if (k.len != 8) {
            err = XS_ECORRUPT;
            break;
        }
        node_lane_batch_t b = {NULL, xs_store_key_u64(k.ptr), sealed, v.ptr, v.len};
        xs_err next = xs_store_cursor_next(cur, &nk, &nv);
        if (next == XS_OK && nk.len == 8)
            b.last = xs_store_key_u64(nk.ptr) - 1;
        else if (next != XS_ENOTFOUND)
            next = next == XS_OK ? XS_ECORRUPT : next;
        if (b.last < b.first) {
            err = XS_ECORRUPT;
            break;
        }
        if (b.last > after && (err = fn(ctx, &b)) != XS_OK)
            break;
        err = next;
        k = nk;
        v = nv;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* Satellites' batches ending after seq after: only origin's, or (origin NULL) all of them. */
static xs_err s_sat_batches(xs_txn_t *txn, const uint8_t *origin, uint64_t after,
                            node_lane_batch_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_err err = xs_store_cursor_open(txn, NODE_T_SAT_BATCHES, &cur);
    if (err != XS_OK)
        return err;
    if (origin)
        xs_chain_key(origin, 0, key);
    for (err = xs_store_cursor_seek(cur, origin ? key : NULL, origin ? sizeof key : 0, &k, &v);
         err == XS_OK; err = xs_store_cursor_next(cur, &k, &v)) {
        if (origin && (k.len < 32 || memcmp(k.ptr, origin, 32) != 0))
            break;
        xs_chain_entry_t e;
        if (k.len != XS_CHAIN_KEY_BYTES) {
            err = XS_ECORRUPT;
            break;
        }
        uint64_t first = xs_store_key_u64((const uint8_t *)k.ptr + 32);
        if ((err = xs_chain_get(txn, NODE_T_SAT_CHAIN, k.ptr, first, &e)) != XS_OK) {
            err = err == XS_ENOTFOUND ? XS_ECORRUPT : err;
            break;
        }
        node_lane_batch_t b = {k.ptr, e.first_seq, e.first_seq + e.count - 1, v.ptr, v.len};
        if (b.last > after && (err = fn(ctx, &b)) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_lane_batches(xs_txn_t *txn, const node_lane_t *lane, uint64_t after,
                         node_lane_batch_fn fn, void *ctx) {
    return lane->origin ? s_sat_batches(txn, lane->origin, after, fn, ctx)
                        : s_own_batches(txn, after, fn, ctx);
}

xs_err node_lane_satellite_batches(xs_txn_t *txn, node_lane_batch_fn fn, void *ctx) {
    return s_sat_batches(txn, NULL, 0, fn, ctx);
}

xs_err node_lane_store(xs_txn_t *txn, const node_lane_t *lane, uint64_t first_seq, uint32_t count,
                       const uint8_t hash[32], const void *envelope, size_t len) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    if (!lane->origin) {
        xs_store_u64_key(first_seq, key);
        return xs_store_put(txn, NODE_T_BATCHES, key, 8, envelope, len, XS_PUT_APPEND);
    }
    xs_chain_entry_t e;
    memset(&e, 0, sizeof e);
    e.first_seq = first_seq;
    e.count = count;
    memcpy(e.hash, hash, 32);
    xs_chain_key(lane->origin, first_seq, key);
    xs_err err = xs_store_put(txn, NODE_T_SAT_BATCHES, key, sizeof key, envelope, len, 0);
    return err == XS_OK ? xs_chain_put_headed(txn, NODE_T_SAT_CHAIN, lane->origin, &e, 0) : err;
}

/* The first batch of a walk, checked against the seq and hash it should end with. */
typedef struct s_ending {
    uint64_t seq;
    const uint8_t *hash;
    int ends;
} s_ending_t;

static xs_err s_check_ending(void *ctx, const node_lane_batch_t *b) {
    s_ending_t *e = ctx;
    xs_batch_t opened;
    e->ends = b->last == e->seq && xs_batch_open(b->envelope, b->len, &opened) == XS_OK &&
              memcmp(opened.hash, e->hash, 32) == 0;
    return XS_EEXIST; /* one is enough */
}

xs_err node_lane_ends_with(xs_txn_t *txn, const node_lane_t *lane, uint64_t seq,
                           const uint8_t hash[32], int *ends) {
    s_ending_t e = {seq, hash, 0};
    xs_err err = seq ? node_lane_batches(txn, lane, seq - 1, s_check_ending, &e) : XS_OK;
    *ends = e.ends;
    return err == XS_EEXIST ? XS_OK : err;
}

xs_err node_lane_drop_from(xs_txn_t *txn, uint64_t first_seq) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    uint8_t key[8];
    uint64_t doomed[64];
    xs_err err;
    /* Collect, then delete: a cursor is not moved under its own deletions. */
    do {
        size_t n = 0;
        if ((err = xs_store_cursor_open(txn, NODE_T_BATCHES, &cur)) != XS_OK)
            return err;
        xs_store_u64_key(first_seq, key);
        for (err = xs_store_cursor_seek(cur, key, 8, &k, &v); err == XS_OK && n < 64;
             err = xs_store_cursor_next(cur, &k, &v))
            doomed[n++] = xs_store_key_u64(k.ptr);
        xs_store_cursor_close(&cur);
        if (err != XS_OK && err != XS_ENOTFOUND)
            return err;
        for (size_t i = 0; i < n; i++) {
            xs_store_u64_key(doomed[i], key);
            if ((err = xs_store_del(txn, NODE_T_BATCHES, key, 8)) != XS_OK)
                return err;
        }
        err = n == 64 ? XS_OK : XS_ENOTFOUND;
    } while (err == XS_OK);
    return XS_OK;
}

xs_err node_lane_batch_get(xs_txn_t *txn, const node_lane_t *lane, uint64_t first_seq,
                           xs_bytes_t *env) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    if (!lane->origin) {
        xs_store_u64_key(first_seq, key);
        return xs_store_get(txn, NODE_T_BATCHES, key, 8, env);
    }
    xs_chain_key(lane->origin, first_seq, key);
    return xs_store_get(txn, NODE_T_SAT_BATCHES, key, sizeof key, env);
}

xs_err node_lane_own_batch(xs_txn_t *txn, uint64_t first_seq, xs_bytes_t *env) {
    node_lane_t self = node_lane_self();
    return node_lane_batch_get(txn, &self, first_seq, env);
}

xs_err node_lane_entry(xs_txn_t *txn, const uint8_t origin[32], uint64_t first_seq,
                       xs_chain_entry_t *e) {
    return xs_chain_get(txn, NODE_T_SAT_CHAIN, origin, first_seq, e);
}

xs_err node_lane_view(xs_txn_t *txn, const uint8_t origin[32], xs_chain_view_t *view) {
    return xs_chain_view_headed(txn, NODE_T_SAT_CHAIN, origin, view);
}

xs_err node_lane_holds(xs_txn_t *txn, const uint8_t origin[32], int *held) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    *held = 0;
    xs_chain_key(origin, 0, key);
    xs_err err = xs_store_cursor_open(txn, NODE_T_SAT_CHAIN, &cur);
    if (err == XS_OK && (err = xs_store_cursor_seek(cur, key, sizeof key, &k, &v)) == XS_OK)
        *held = k.len == sizeof key && memcmp(k.ptr, origin, 32) == 0;
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* ---- receipts ---- */

static unsigned s_receipts_table(const node_lane_t *lane) {
    return lane->origin ? NODE_T_SAT_RECEIPTS : NODE_T_RECEIPTS;
}

/* The key of a teacher's receipt in the lane; its length. */
static size_t s_receipt_key(const node_lane_t *lane, const char *teacher, size_t len,
                            uint8_t key[32 + XS_ID_MAX]) {
    if (len > XS_ID_MAX)
        len = XS_ID_MAX;
    if (!lane->origin) {
        if (len)
            memcpy(key, teacher, len);
        return len;
    }
    return s_sat_key(lane->origin, teacher, len, key);
}

xs_err node_lane_receipt_put(xs_txn_t *txn, const node_lane_t *lane, const char *teacher,
                             size_t teacher_len, const void *envelope, size_t len) {
    uint8_t key[32 + XS_ID_MAX];
    if (teacher_len == 0 || teacher_len > XS_ID_MAX)
        return XS_EINVAL;
    return xs_store_put(txn, s_receipts_table(lane), key,
                        s_receipt_key(lane, teacher, teacher_len, key), envelope, len, 0);
}

xs_err node_lane_receipt_keep(xs_txn_t *txn, const node_lane_t *lane, const uint8_t county[32],
                              const xs_receipt_t *receipt, const void *envelope, size_t len,
                              xs_receipt_t *held, int *kept) {
    const xs_str_t *teacher = &receipt->teacher_id;
    xs_bytes_t env;
    *kept = 0;
    xs_err err = node_lane_receipt_get(txn, lane, teacher->ptr, teacher->len, &env);
    if (err == XS_OK && xs_receipt_open(env.ptr, env.len, county, held) == XS_OK &&
        held->generation > receipt->generation)
        return XS_OK; /* a newer one is held: a late bundle or page changes nothing */
    if (err != XS_OK && err != XS_ENOTFOUND)
        return err;
    err = node_lane_receipt_put(txn, lane, teacher->ptr, teacher->len, envelope, len);
    *kept = err == XS_OK;
    return err;
}

xs_err node_lane_receipt_get(xs_txn_t *txn, const node_lane_t *lane, const char *teacher,
                             size_t teacher_len, xs_bytes_t *env) {
    uint8_t key[32 + XS_ID_MAX];
    if (teacher_len == 0 || teacher_len > XS_ID_MAX)
        return XS_ENOTFOUND;
    return xs_store_get(txn, s_receipts_table(lane), key,
                        s_receipt_key(lane, teacher, teacher_len, key), env);
}

xs_err node_lane_receipts(xs_txn_t *txn, const node_lane_t *lane, const char *after,
                          size_t after_len, node_lane_receipt_fn fn, void *ctx) {
    uint8_t key[32 + XS_ID_MAX];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    size_t prefix = lane->origin ? 32 : 0;
    size_t klen = lane->origin ? s_sat_key(lane->origin, after, after_len, key)
                               : s_receipt_key(lane, after, after_len, key);
    xs_err err = xs_store_cursor_open(txn, s_receipts_table(lane), &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, klen ? key : NULL, klen, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (prefix && (k.len <= 32 || memcmp(k.ptr, lane->origin, 32) != 0))
            break;
        if (after_len && k.len == klen && memcmp(k.ptr, key, klen) == 0)
            continue; /* `after` itself */
        if ((err = fn(ctx, (const char *)k.ptr + prefix, k.len - prefix, &v)) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* ---- raw walks ---- */

/* Fills what a batches key says: first_seq (8) for this node's own, origin + first_seq for a
 * satellite's. */
static void s_batch_key(int own, node_lane_raw_t *e) {
    size_t want = own ? 8 : XS_CHAIN_KEY_BYTES;
    e->damaged = e->key.len != want;
    if (e->damaged)
        return;
    e->origin = own ? NULL : e->key.ptr;
    e->first_seq = xs_store_key_u64((const uint8_t *)e->key.ptr + want - 8);
}

xs_err node_lane_raw_batches(xs_txn_t *txn, const node_lane_t *lane, node_lane_raw_fn fn,
                             void *ctx) {
    const uint8_t *only = lane ? lane->origin : NULL; /* one satellite's */
    int own = lane && !lane->origin;
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    if (only)
        xs_chain_key(only, 0, key);
    xs_err err = xs_store_cursor_open(txn, own ? NODE_T_BATCHES : NODE_T_SAT_BATCHES, &cur);
    for (err = err ? err
                   : xs_store_cursor_seek(cur, only ? key : NULL, only ? sizeof key : 0, &k, &v);
         err == XS_OK; err = xs_store_cursor_next(cur, &k, &v)) {
        if (only && (k.len < 32 || memcmp(k.ptr, only, 32) != 0))
            break;
        node_lane_raw_t e = {.key = k, .value = v};
        s_batch_key(own, &e);
        if ((err = fn(ctx, &e)) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_lane_raw_receipts(xs_txn_t *txn, node_lane_raw_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_err err = xs_store_cursor_open(txn, NODE_T_SAT_RECEIPTS, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        node_lane_raw_t e = {.key = k, .value = v, .damaged = k.len <= 32};
        if (!e.damaged) {
            e.origin = k.ptr;
            e.teacher = (const char *)k.ptr + 32;
            e.teacher_len = k.len - 32;
        }
        if ((err = fn(ctx, &e)) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_lane_links(xs_txn_t *txn, node_lane_link_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_err err = xs_store_cursor_open(txn, NODE_T_SAT_CHAIN, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        node_lane_link_t link = {.key = k};
        link.head = k.len == 32 && v.len == XS_CHAIN_HEAD_BYTES;
        link.damaged = !link.head && xs_chain_parse(&k, &v, &link.entry) != XS_OK;
        link.origin = link.damaged ? NULL : k.ptr;
        if ((err = fn(ctx, &link)) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* Fills which counter a NODE_T_SAT_STATE key names (after the origin) and its value; damaged
 * when it names none or the value is no u64. */
static void s_state_entry(const xs_bytes_t *v, node_lane_state_t *st) {
    static const node_lane_counter counters[] = {NODE_LANE_ACKED, NODE_LANE_RECEIPTS_GEN};
    st->damaged = 1;
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        const char *name = s_sat_counter(counters[i]);
        if (st->key.len == 32 + strlen(name) &&
            memcmp((const uint8_t *)st->key.ptr + 32, name, strlen(name)) == 0) {
            st->which = counters[i];
            st->damaged = v->len != 8;
        }
    }
    if (st->damaged)
        return;
    st->origin = st->key.ptr;
    st->value = xs_store_key_u64(v->ptr);
}

xs_err node_lane_states(xs_txn_t *txn, node_lane_state_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_err err = xs_store_cursor_open(txn, NODE_T_SAT_STATE, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        node_lane_state_t st = {.key = k};
        s_state_entry(&v, &st);
        if ((err = fn(ctx, &st)) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}
