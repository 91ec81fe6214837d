/* recover: adopting the hub's copy of this node's chain (protocol.md §9). Every envelope is
 * checked against the node's own key and the chain before anything is written, and the whole
 * rebuild is one write step: a crash leaves the node as it was, or rebuilt. */
#include "recover.h"

#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "xs/batch.h"

/* One adopted batch: a copy of its envelope and where it stands. */
typedef struct s_taken {
    uint8_t *envelope;
    size_t len;
    uint64_t first;
    uint32_t count;
    uint8_t hash[32];
} s_taken_t;

struct node_adopt {
    uint8_t origin[32];
    uint64_t from; /* the first seq to rebuild */
    s_taken_t *taken;
    size_t count, cap;
};

xs_err node_adopt_begin(node_adopt_t **out, const uint8_t origin[32], uint64_t from) {
    node_adopt_t *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!a)
        return XS_ENOMEM;
    memcpy(a->origin, origin, 32);
    a->from = from ? from : 1;
    *out = a;
    return XS_OK;
}

void node_adopt_destroy(node_adopt_t **a) {
    if (!a || !*a)
        return;
    for (size_t i = 0; i < (*a)->count; i++)
        free((*a)->taken[i].envelope);
    free((*a)->taken);
    free(*a);
    *a = NULL;
}

uint64_t node_adopt_next(const node_adopt_t *a) {
    if (a->count == 0)
        return a->from;
    const s_taken_t *last = &a->taken[a->count - 1];
    return last->first + last->count;
}

xs_err node_adopt_take(node_adopt_t *a, const uint8_t *envelope, size_t len) {
    xs_batch_t b;
    xs_err err = xs_batch_open(envelope, len, &b);
    if (err != XS_OK)
        return err;
    if (memcmp(b.origin, a->origin, 32) != 0)
        return XS_ECRYPTO; /* not signed by this node */
    if (a->count == 0) {
        /* The first must hold `from`; rebuilding then starts at its first seq. */
        if (b.first_seq > a->from || b.first_seq + b.count - 1 < a->from)
            return XS_EFORK;
    } else {
        const s_taken_t *prev = &a->taken[a->count - 1];
        if (b.first_seq != prev->first + prev->count || !b.has_prev_hash ||
            memcmp(b.prev_hash, prev->hash, 32) != 0)
            return XS_EFORK;
    }
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        s_taken_t *grown = realloc(a->taken, cap * sizeof *grown);
        if (!grown)
            return XS_ENOMEM;
        a->taken = grown;
        a->cap = cap;
    }
    s_taken_t *t = &a->taken[a->count];
    if (!(t->envelope = malloc(len)))
        return XS_ENOMEM;
    memcpy(t->envelope, envelope, len);
    t->len = len;
    t->first = b.first_seq;
    t->count = b.count;
    memcpy(t->hash, b.hash, 32);
    a->count++;
    return XS_OK;
}

/* ---- the write step ---- */

/* A local record taken aside: a copy of its bytes, and the seq it ends up with. */
typedef struct s_local {
    uint64_t seq, now;
    uint8_t *bytes;
    size_t len;
} s_local_t;

/* An adopted record's content hash and seq, sorted by hash to find byte-identical ones. */
typedef struct s_known {
    uint8_t hash[16];
    uint64_t seq;
} s_known_t;

typedef struct s_step {
    node_adopt_t *a;
    node_adopt_result_t *res;
    s_local_t *locals;
    size_t nlocal, local_cap;
    s_known_t *known;
    size_t nknown, known_cap;
} s_step_t;

static void s_step_free(s_step_t *st) {
    for (size_t i = 0; i < st->nlocal; i++)
        free(st->locals[i].bytes);
    free(st->locals);
    free(st->known);
    st->locals = NULL;
    st->known = NULL;
    st->nlocal = st->local_cap = st->nknown = st->known_cap = 0;
}

static xs_err s_keep_local(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len) {
    s_step_t *st = ctx;
    if (st->nlocal == st->local_cap) {
        size_t cap = st->local_cap ? st->local_cap * 2 : 64;
        s_local_t *grown = realloc(st->locals, cap * sizeof *grown);
        if (!grown)
            return XS_ENOMEM;
        st->locals = grown;
        st->local_cap = cap;
    }
    s_local_t *l = &st->locals[st->nlocal];
    if (!(l->bytes = malloc(len ? len : 1)))
        return XS_ENOMEM;
    memcpy(l->bytes, bytes, len);
    l->len = len;
    l->seq = seq;
    l->now = 0;
    st->nlocal++;
    return XS_OK;
}

static int s_known_cmp(const void *x, const void *y) {
    return memcmp(((const s_known_t *)x)->hash, ((const s_known_t *)y)->hash, 16);
}

static xs_err s_put_record(s_step_t *st, xs_txn_t *txn, uint64_t seq, const uint8_t *bytes,
                           size_t len) {
    xs_record_t rec;
    node_dedupe_t key;
    if (xs_record_decode_bytes(bytes, len, &rec) != XS_OK)
        return XS_EMALFORMED;
    node_dedupe_key(&rec, &key);
    if (st->nknown == st->known_cap) {
        size_t cap = st->known_cap ? st->known_cap * 2 : 256;
        s_known_t *grown = realloc(st->known, cap * sizeof *grown);
        if (!grown)
            return XS_ENOMEM;
        st->known = grown;
        st->known_cap = cap;
    }
    xs_identity_hash_short(bytes, len, st->known[st->nknown].hash, 16);
    st->known[st->nknown++].seq = seq;
    return node_put(txn, seq, bytes, len, &key, 0);
}

/* The seq a local record ended up with (after renumbering), or 0 when it was not local. */
static uint64_t s_moved(const s_step_t *st, uint64_t old) {
    size_t lo = 0, hi = st->nlocal;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->locals[mid].seq < old)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < st->nlocal && st->locals[lo].seq == old ? st->locals[lo].now : 0;
}

/* Appends a local record the hub lacks at seq; a correction voiding, or a review reviewing,
 * another local record follows its target's new number. */
static xs_err s_append_local(s_step_t *st, xs_txn_t *txn, const s_local_t *l, uint64_t seq) {
    xs_record_t rec;
    node_dedupe_t key;
    if (xs_record_decode_bytes(l->bytes, l->len, &rec) != XS_OK)
        return XS_ECORRUPT;
    node_dedupe_key(&rec, &key);
    uint64_t *named = rec.kind == XS_KIND_CORRECTION ? &rec.voids
                      : rec.kind == XS_KIND_REVIEW   ? &rec.reviews
                                                     : NULL;
    uint64_t target = named ? s_moved(st, *named) : 0;
    if (!target || target == *named)
        return node_put(txn, seq, l->bytes, l->len, &key, 0);
    xs_writer_t w;
    xs_writer_init(&w, XS_RECORD_MAX);
    *named = target;
    xs_record_encode(&rec, &w);
    xs_err err = xs_writer_err(&w);
    if (err == XS_OK)
        err = node_put(txn, seq, w.data, w.len, &key, 0);
    xs_writer_free(&w);
    return err;
}

static xs_err s_adopt_step(xs_txn_t *txn, void *ctx) {
    s_step_t *st = ctx;
    node_adopt_t *a = st->a;
    node_adopt_result_t *res = st->res;
    node_lane_t self = node_lane_self();
    s_step_free(st); /* a rerun after the map grew starts over */
    memset(res, 0, sizeof *res);
    uint64_t from = a->count && a->taken[0].first < a->from ? a->taken[0].first : a->from;
    res->from = from;
    /* 1. Take the node's own records from `from` aside; 2. clear them and their batches. */
    xs_err err = node_records(txn, from, s_keep_local, st);
    if (err == XS_OK)
        err = node_truncate(txn, from);
    if (err == XS_OK)
        err = node_lane_drop_from(txn, from);
    /* 2. The hub's batches and their records, each at its own seq. */
    uint64_t head = from - 1;
    uint8_t head_hash[32] = {0};
    for (size_t i = 0; err == XS_OK && i < a->count; i++) {
        const s_taken_t *t = &a->taken[i];
        xs_batch_t b;
        xs_batch_iter_t it;
        xs_batch_entry_t e;
        if ((err = node_lane_store(txn, &self, t->first, t->count, t->hash, t->envelope, t->len)) !=
                XS_OK ||
            (err = xs_batch_open(t->envelope, t->len, &b)) != XS_OK)
            break;
        xs_batch_iter_init(&it, &b);
        while (err == XS_OK && (err = xs_batch_next(&it, &e, NULL)) == XS_OK)
            err = s_put_record(st, txn, e.seq, e.bytes, e.len);
        if (err == XS_ENOTFOUND)
            err = XS_OK;
        head = t->first + t->count - 1;
        memcpy(head_hash, t->hash, 32);
        res->batches++;
        res->records += t->count;
    }
    res->head = head;
    if (err != XS_OK)
        return err;
    /* 3. Local records: the same bytes as an adopted record are that record; the rest follow
     * the head, in order. */
    qsort(st->known, st->nknown, sizeof *st->known, s_known_cmp);
    uint64_t next = head + 1;
    for (size_t i = 0; i < st->nlocal; i++) {
        s_known_t probe;
        xs_identity_hash_short(st->locals[i].bytes, st->locals[i].len, probe.hash, 16);
        const s_known_t *hit =
            bsearch(&probe, st->known, st->nknown, sizeof *st->known, s_known_cmp);
        st->locals[i].now = hit ? hit->seq : next++;
    }
    for (size_t i = 0; err == XS_OK && i < st->nlocal; i++) {
        const s_local_t *l = &st->locals[i];
        if (l->now <= head) {
            res->same++;
            continue;
        }
        err = s_append_local(st, txn, l, l->now);
        res->appended++;
    }
    /* 4. The chain's head is the hub's. */
    if (err == XS_OK)
        err = node_meta_put_u64(txn, NODE_META_SEALED_THROUGH, head);
    if (err == XS_OK)
        err = node_meta_put(txn, NODE_META_HEAD_HASH, head_hash, 32);
    if (err == XS_OK)
        err = node_lane_put(txn, &self, NODE_LANE_ACKED, head);
    if (err == XS_OK)
        err = node_lane_put(txn, &self, NODE_LANE_CONFIRMED, head);
    return err;
}

xs_err node_adopt_commit(node_adopt_t *a, node_t *node, node_adopt_result_t *res) {
    s_step_t st;
    memset(&st, 0, sizeof st);
    memset(res, 0, sizeof *res);
    if (a->count == 0)
        return XS_ENOTFOUND; /* the hub holds nothing from `from` on: nothing to adopt */
    st.a = a;
    st.res = res;
    xs_err err = xs_store_update(node->store, s_adopt_step, &st);
    s_step_free(&st);
    return err;
}
