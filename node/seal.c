/* seal: sealing records into signed batches. The one writer of sealed_through and head_hash;
 * it appends to the lane of this node's own batches (lanes.c). */
#include "seal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanes.h"
#include "xs/batch.h"

typedef struct s_seal {
    const xs_identity_t *id;
    node_seal_limits_t lim;
    int64_t now;
    xs_batch_slice_t *slices; /* XS_BATCH_SEAL_RECORDS */
    xs_writer_t envelope;
    uint64_t sealed; /* out: batches sealed */
    int left;        /* out: unsealed records remain */
    int restored;    /* out: refused, the store is marked restored (NODE_META_RESTORED) */
} s_seal_t;

/* Seals slices[0..count) starting at first, stores the envelope, advances the chain. */
static xs_err s_seal_one(s_seal_t *s, xs_txn_t *txn, uint64_t first, uint32_t count,
                         uint8_t prev[32], const uint8_t *policy) {
    uint8_t hash[32];
    node_lane_t self = node_lane_self();
    xs_writer_reset(&s->envelope);
    xs_err err = xs_batch_seal(&s->envelope, s->id, first, first == 1 ? NULL : prev, policy, s->now,
                               s->slices, count, hash);
    if (err == XS_OK)
        err = node_lane_store(txn, &self, first, count, hash, s->envelope.data, s->envelope.len);
    if (err == XS_OK) {
        memcpy(prev, hash, 32);
        s->sealed++;
    }
    return err;
}

/* Stores where the chain now ends. */
static xs_err s_set_head(xs_txn_t *txn, uint64_t last, const uint8_t prev[32]) {
    xs_err err = node_meta_put_u64(txn, NODE_META_SEALED_THROUGH, last);
    return err == XS_OK ? node_meta_put(txn, NODE_META_HEAD_HASH, prev, 32) : err;
}

/* One record of the walk: sealed into the current batch, which is sealed first when full. */
typedef struct s_walk {
    s_seal_t *s;
    xs_txn_t *txn;
    const uint8_t *policy;
    uint8_t prev[32];
    uint64_t first, last; /* the current batch's first seq; the last seq taken */
    uint32_t count;       /* records in the current batch */
    size_t bytes;         /* their bytes */
} s_walk_t;

static xs_err s_take(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len) {
    s_walk_t *w = ctx;
    s_seal_t *s = w->s;
    if (w->count == XS_BATCH_SEAL_RECORDS ||
        (w->count > 0 && w->bytes + len > s->lim.batch_bytes)) {
        xs_err err = s_seal_one(s, w->txn, w->first, w->count, w->prev, w->policy);
        if (err != XS_OK)
            return err;
        w->first += w->count;
        w->count = 0;
        w->bytes = 0;
        if (s->lim.max_batches && s->sealed == s->lim.max_batches) {
            s->left = 1;
            return XS_EEXIST; /* stop: the limit is reached */
        }
    }
    s->slices[w->count++] = (xs_batch_slice_t){bytes, len};
    w->bytes += len;
    w->last = seq;
    return XS_OK;
}

static xs_err s_seal_step(xs_txn_t *txn, void *ctx) {
    s_seal_t *s = ctx;
    uint64_t through;
    int has_policy;
    uint8_t policy[32];
    xs_bytes_t v;
    s_walk_t w;
    memset(&w, 0, sizeof w);
    s->sealed = 0;
    s->left = 0;
    xs_err err = node_meta_get_u64(txn, NODE_META_SEALED_THROUGH, &through);
    if (err == XS_OK && through > 0) {
        err = node_meta_get(txn, NODE_META_HEAD_HASH, &v);
        if (err == XS_OK && v.len != 32)
            err = XS_ECORRUPT;
        if (err == XS_OK)
            memcpy(w.prev, v.ptr, 32);
    }
    if (err == XS_OK)
        err = node_policy_hash(txn, policy, &has_policy);
    if (err != XS_OK)
        return err;
    /* A store put back from a backup may be behind the hub, which then holds other batches
     * under the seqs this one would seal next: nothing is sealed until a sync session has
     * compared the chains (and adopted the hub's, protocol.md §9) and removed the mark. */
    uint64_t restored = 0, next = 0;
    if ((err = node_meta_get_u64(txn, NODE_META_RESTORED, &restored)) != XS_OK ||
        (restored && (err = node_next_seq(txn, &next)) != XS_OK))
        return err;
    if (restored && next > through + 1) {
        s->restored = 1;
        return XS_EREFUSED;
    }
    w.s = s;
    w.txn = txn;
    w.policy = has_policy ? policy : NULL;
    w.first = through + 1;
    w.last = through;
    err = node_records(txn, through + 1, s_take, &w);
    if (err == XS_EEXIST) /* stopped at the limit: the chain ends before the current batch */
        return s_set_head(txn, w.first - 1, w.prev);
    if (err != XS_OK)
        return err;
    if (w.count && (err = s_seal_one(s, txn, w.first, w.count, w.prev, w.policy)) != XS_OK)
        return err;
    return s->sealed ? s_set_head(txn, w.last, w.prev) : XS_OK;
}

xs_err node_seal(node_t *node, const xs_identity_t *id, const node_seal_limits_t *lim,
                 uint64_t *sealed, int *left) {
    s_seal_t s;
    memset(&s, 0, sizeof s);
    s.id = id;
    s.now = (int64_t)time(NULL);
    if (lim)
        s.lim = *lim;
    if (s.lim.batch_bytes == 0 || s.lim.batch_bytes > XS_BATCH_SEAL_BYTES)
        s.lim.batch_bytes = XS_BATCH_SEAL_BYTES;
    *sealed = 0;
    if (left)
        *left = 0;
    if (!(s.slices = malloc(XS_BATCH_SEAL_RECORDS * sizeof *s.slices)))
        return XS_ENOMEM;
    xs_writer_init(&s.envelope, XS_BATCH_MAX_BYTES);
    xs_err err = xs_store_update(node->store, s_seal_step, &s);
    if (err == XS_OK) {
        *sealed = s.sealed;
        if (left)
            *left = s.left;
    } else if (s.restored) {
        xs_log("本节点是从备份恢复的，新记录暂不封装：请先与县级中心同步一次 (xueshi-node sync "
               "--dir %s)，同步会先接上县里已有的记录链；县级中心连不上时可用 xueshi-node "
               "recover --dir %s 从县级中心重建 (this node was restored from a backup and seals "
               "nothing new until one sync with the hub has taken up the chain the hub holds: "
               "run `xueshi-node sync --dir %s`, or rebuild from the hub with `xueshi-node "
               "recover --dir %s`)",
               node->dir, node->dir, node->dir, node->dir);
    } else {
        xs_log_err(err, "封装批次失败 (sealing batches failed)");
    }
    xs_writer_free(&s.envelope);
    free(s.slices);
    return err;
}
