/* usb: a node's side of USB bundles (protocol.md §7): every batch the hub has not confirmed
 * goes out; receipts and the county's policy come in, each verified against the county key. */
#include "usb.h"

#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "seal.h"
#include "staff.h"
#include "xs/confirm.h"
#include "xs/receipt.h"
#include "xs/roster.h"

typedef struct s_out {
    node_envelope_fn fn;
    void *ctx;
    uint64_t count;
} s_out_t;

static xs_err s_out_one(void *ctx, const node_lane_batch_t *b) {
    s_out_t *o = ctx;
    xs_err err = o->fn(o->ctx, b->envelope, b->len);
    o->count += err == XS_OK;
    return err;
}

typedef struct s_sat_out {
    s_out_t out;
    xs_txn_t *txn;
} s_sat_out_t;

/* A satellite's batch goes out unless the hub has confirmed it. */
static xs_err s_sat_filter(void *ctx, const node_lane_batch_t *b) {
    s_sat_out_t *o = ctx;
    node_lane_t lane = node_lane_satellite(b->origin);
    uint64_t confirmed;
    xs_err err = node_lane_get(o->txn, &lane, NODE_LANE_CONFIRMED, &confirmed);
    if (err != XS_OK || b->last <= confirmed)
        return err;
    return s_out_one(&o->out, b);
}

xs_err node_unconfirmed(node_t *node, node_envelope_fn fn, void *ctx, uint64_t *count) {
    xs_txn_t *txn = NULL;
    node_lane_t self = node_lane_self();
    uint64_t confirmed = 0;
    s_sat_out_t o = {{fn, ctx, 0}, NULL};
    *count = 0;
    xs_err err = xs_store_read(node->store, &txn);
    /* Confirmed by the hub, not merely held by a relay: a bundle carries everything else. */
    if (err == XS_OK)
        err = node_lane_get(txn, &self, NODE_LANE_CONFIRMED, &confirmed);
    /* This node's own batches, then its satellites'. */
    if (err == XS_OK)
        err = node_lane_batches(txn, &self, confirmed, s_out_one, &o.out);
    o.txn = txn;
    if (err == XS_OK)
        err = node_lane_satellite_batches(txn, s_sat_filter, &o);
    xs_store_end(&txn);
    *count = o.out.count;
    return err;
}

typedef struct s_take {
    const xs_bundle_items_t *items;
    const uint8_t *self;          /* this node's origin */
    uint8_t *county;              /* the hub's signing key: the key in force */
    xs_receipt_t *scratch;        /* the receipt being taken */
    xs_receipt_t *held;           /* the one held for its teacher */
    node_receipts_taken_t *taken; /* out */
} s_take_t;

/* Kinds of receipts-bundle item (protocol.md §7.1). */
enum { S_ITEM_RECEIPT, S_ITEM_POLICY, S_ITEM_CONFIRM, S_ITEM_PART, S_ITEM_ROTATIONS };

/* Splits a receipts-bundle item: [origin, receipt envelope], [nil, policy envelope],
 * [origin, confirmation envelope, 1] or [origin, roster part, 2]. Returns its kind, or -1 when
 * it is none of these. */
static int s_item(const xs_bundle_item_t *item, const uint8_t **origin, const uint8_t **env,
                  uint32_t *len) {
    xs_reader_t r;
    uint32_t n, olen;
    uint64_t kind = 0;
    xs_reader_init(&r, item->ptr, item->len);
    if (xs_codec_get_array(&r, &n) != XS_OK || (n != 2 && n != 3))
        return -1;
    if (xs_codec_get_nil(&r) == XS_OK)
        *origin = NULL;
    else if (xs_codec_get_bin(&r, origin, &olen) != XS_OK || olen != 32)
        return -1;
    if (xs_codec_get_bin(&r, env, len) != XS_OK ||
        (n == 3 && (xs_codec_get_uint(&r, &kind) != XS_OK || kind < 1 || kind > 3 ||
                    !*origin != (kind == 3))) ||
        xs_reader_left(&r) != 0)
        return -1;
    if (n == 3)
        return kind == 1 ? S_ITEM_CONFIRM : kind == 2 ? S_ITEM_PART : S_ITEM_ROTATIONS;
    return *origin ? S_ITEM_RECEIPT : S_ITEM_POLICY;
}

/* The lane a bundle item for origin belongs to: this node's own, or a satellite's whose
 * batches this relay holds. *ours = 0 when neither. */
static xs_err s_lane_of(s_take_t *t, xs_txn_t *txn, const uint8_t *origin, node_lane_t *lane,
                        int *ours) {
    *lane = node_lane_self();
    *ours = 1;
    if (memcmp(origin, t->self, 32) == 0)
        return XS_OK;
    xs_err err = node_lane_holds(txn, origin, ours);
    *lane = node_lane_satellite(origin);
    return err;
}

/* A confirmation: how far the hub holds origin's chain. Taken only when the chain it names is
 * the one this node holds (same seq, same batch hash); then nothing up to there is exported
 * again, and a relay tells the satellite in its next VIEW. */
static xs_err s_take_confirm(s_take_t *t, xs_txn_t *txn, const uint8_t *origin, const uint8_t *env,
                             uint32_t len) {
    xs_confirm_t c;
    node_lane_t lane;
    int ours, ends;
    if (xs_confirm_open(env, len, t->county, &c) != XS_OK || memcmp(c.origin, origin, 32) != 0) {
        t->taken->refused++;
        return XS_OK;
    }
    xs_err err = s_lane_of(t, txn, origin, &lane, &ours);
    if (err == XS_OK && ours)
        err = node_lane_ends_with(txn, &lane, c.through, c.head_hash, &ends);
    if (err != XS_OK || !ours || !ends) {
        t->taken->not_ours += err == XS_OK;
        return err;
    }
    if ((err = node_lane_raise(txn, &lane, NODE_LANE_CONFIRMED, c.through)) == XS_OK &&
        (err = node_lane_raise(txn, &lane, NODE_LANE_ACKED, c.through)) == XS_OK)
        t->taken->confirmations++;
    return err;
}

/* The county's policy: adopted when it verifies and decodes. */
static xs_err s_take_policy(s_take_t *t, xs_txn_t *txn, const uint8_t *env, uint32_t len) {
    const uint8_t *blob;
    size_t blob_len;
    xs_policy_t *policy = NULL;
    if (xs_receipt_policy_open(env, len, t->county, &blob, &blob_len) != XS_OK ||
        xs_policy_decode(&policy, blob, blob_len) != XS_OK) {
        t->taken->refused++;
        return XS_OK;
    }
    xs_policy_destroy(&policy);
    xs_err err = node_put_signed_policy(txn, blob, blob_len, env, len);
    t->taken->policy = err == XS_OK;
    return err;
}

/* A receipt for origin's teacher: kept for this node, or by a relay for a satellite whose
 * batches it holds. */
static xs_err s_take_receipt(s_take_t *t, xs_txn_t *txn, const uint8_t *origin, const uint8_t *env,
                             uint32_t len) {
    uint64_t gen;
    if (xs_receipt_open(env, len, t->county, t->scratch) != XS_OK) {
        t->taken->refused++;
        return XS_OK;
    }
    node_lane_t lane;
    int ours;
    xs_err err = s_lane_of(t, txn, origin, &lane, &ours);
    if (err != XS_OK)
        return err;
    if (!ours) {
        t->taken->not_ours++;
        return XS_OK;
    }
    int kept;
    err = node_lane_receipt_keep(txn, &lane, t->county, t->scratch, env, len, t->held, &kept);
    if (err == XS_OK)
        err = node_lane_get(txn, &lane, NODE_LANE_RECEIPTS_GEN, &gen);
    if (err == XS_OK && t->scratch->generation > gen)
        err = node_lane_put(txn, &lane, NODE_LANE_RECEIPTS_GEN, t->scratch->generation);
    if (err == XS_OK && !kept)
        t->taken->older++;
    else if (err == XS_OK && lane.origin)
        t->taken->satellites++;
    else if (err == XS_OK)
        t->taken->own++;
    return err;
}

/* Whether origin is a satellite in the roster the hub signed for this relay (none when the
 * node does not relay). */
static xs_err s_relays_for(s_take_t *t, xs_txn_t *txn, const uint8_t *origin, int *yes) {
    xs_bytes_t env;
    uint32_t count = 0;
    *yes = 0;
    xs_err err = node_meta_get(txn, NODE_META_ROSTER, &env);
    if (err == XS_ENOTFOUND)
        return XS_OK;
    xs_roster_entry_t *entries = err == XS_OK ? malloc(XS_ROSTER_MAX * sizeof *entries) : NULL;
    if (err == XS_OK && !entries)
        err = XS_ENOMEM;
    if (err == XS_OK && xs_roster_open(env.ptr, env.len, t->county, t->self, entries, XS_ROSTER_MAX,
                                       &count, NULL) != XS_OK)
        count = 0; /* a roster that does not open admits no one */
    for (uint32_t i = 0; err == XS_OK && i < count && !*yes; i++)
        *yes = memcmp(entries[i].origin, origin, 32) == 0;
    free(entries);
    return err;
}

/* A part of the teacher roster (protocol.md §10): this node's own, or on a relay a satellite's
 * in its roster, to hand on; stored when it opens against the county key for that origin and
 * is not older than the one held. Parts of other nodes are not kept: their teachers are not
 * this school's. */
static xs_err s_take_part(s_take_t *t, xs_txn_t *txn, const uint8_t *origin, const uint8_t *env,
                          uint32_t len) {
    int ours = memcmp(origin, t->self, 32) == 0, stored = 0;
    xs_err err = ours ? XS_OK : s_relays_for(t, txn, origin, &ours);
    if (err != XS_OK)
        return err;
    if (!ours) {
        t->taken->not_ours++;
        return XS_OK;
    }
    err = node_staff_put(txn, t->county, origin, env, len, &stored);
    if (err == XS_ECRYPTO || err == XS_EPERM || err == XS_EMALFORMED || err == XS_ETOOBIG) {
        t->taken->refused++;
        return XS_OK;
    }
    if (err == XS_OK && stored && memcmp(origin, t->self, 32) == 0)
        t->taken->staff = 1;
    else if (err == XS_OK && stored)
        t->taken->staff_satellites++;
    return err;
}

static xs_err s_take_step(xs_txn_t *txn, void *ctx) {
    s_take_t *t = ctx;
    memset(t->taken, 0, sizeof *t->taken);
    for (size_t i = 0; i < t->items->count; i++) {
        const uint8_t *origin, *env;
        uint32_t len;
        xs_err err = XS_OK;
        switch (s_item(&t->items->items[i], &origin, &env, &len)) {
        case S_ITEM_POLICY:
            err = s_take_policy(t, txn, env, len);
            break;
        case S_ITEM_RECEIPT:
            err = s_take_receipt(t, txn, origin, env, len);
            break;
        case S_ITEM_CONFIRM:
            err = s_take_confirm(t, txn, origin, env, len);
            break;
        case S_ITEM_PART:
            err = s_take_part(t, txn, origin, env, len);
            break;
        case S_ITEM_ROTATIONS: {
            /* The hub's key rotations, first: what follows is signed by the key in force. */
            int rotated = 0;
            err = node_county_follow(txn, env, len, &rotated);
            if (err == XS_OK) {
                t->taken->rotated |= rotated;
                err = node_county_key(txn, t->county);
            } else if (err == XS_ECRYPTO || err == XS_EINVAL || err == XS_EMALFORMED ||
                       err == XS_EVERSION || err == XS_ETOOBIG) {
                t->taken->refused++;
                err = XS_OK;
            }
            break;
        }
        default:
            t->taken->refused++;
            break;
        }
        if (err != XS_OK)
            return err;
    }
    return XS_OK;
}

xs_err node_take_receipts(node_t *node, const xs_bundle_items_t *items,
                          node_receipts_taken_t *taken) {
    xs_identity_t *id = NULL;
    xs_txn_t *txn = NULL;
    uint8_t county[32];
    memset(taken, 0, sizeof *taken);
    s_take_t t = {items, NULL, county, malloc(sizeof(xs_receipt_t)), malloc(sizeof(xs_receipt_t)),
                  taken};
    xs_err err = t.scratch && t.held ? xs_identity_load(&id, node->dir, "node") : XS_ENOMEM;
    if (err == XS_OK)
        err = xs_store_read(node->store, &txn);
    if (err == XS_OK)
        err = node_county_key(txn, county);
    xs_store_end(&txn);
    if (err == XS_OK) {
        t.self = xs_identity_public(id)->sign;
        err = xs_store_update(node->store, s_take_step, &t);
    }
    xs_identity_destroy(&id);
    free(t.scratch);
    free(t.held);
    return err;
}

static xs_err s_bundle_add(void *ctx, const uint8_t *envelope, size_t len) {
    return xs_bundle_writer_add(ctx, envelope, len);
}

xs_err node_export_bundle(node_t *node, FILE *f, uint64_t *count) {
    xs_identity_t *id = NULL;
    xs_txn_t *txn = NULL;
    xs_bundle_writer_t *w = NULL;
    uint8_t hub_box[32];
    uint64_t sealed = 0;
    *count = 0;
    xs_err err = xs_identity_load(&id, node->dir, "node");
    if (err == XS_OK)
        err = node_seal(node, id, NULL, &sealed, NULL);
    if (err == XS_OK && (err = xs_store_read(node->store, &txn)) == XS_OK)
        err = node_county_box(txn, hub_box);
    xs_store_end(&txn);
    if (err == XS_OK)
        err = xs_bundle_writer_open(&w, f, XS_BUNDLE_BATCHES, hub_box);
    if (err == XS_OK)
        err = node_unconfirmed(node, s_bundle_add, w, count);
    if (err == XS_OK)
        err = xs_bundle_writer_finish(w);
    xs_bundle_writer_free(&w);
    if (err == XS_OK && fflush(f) != 0)
        err = XS_EIO;
    xs_identity_destroy(&id);
    return err;
}

xs_err node_import_receipts(node_t *node, const uint8_t *bytes, size_t len,
                            node_receipts_taken_t *taken, const char **why) {
    xs_identity_t *id = NULL;
    xs_bundle_items_t items;
    memset(&items, 0, sizeof items);
    memset(taken, 0, sizeof *taken);
    *why = NULL;
    xs_err err = xs_identity_load(&id, node->dir, "node");
    if (err == XS_OK) {
        err = xs_bundle_read(bytes, len, XS_BUNDLE_RECEIPTS, id, &items, why);
        if (err != XS_OK && !*why)
            *why = xs_strerror(err);
    }
    if (err == XS_OK)
        err = node_take_receipts(node, &items, taken);
    xs_bundle_items_free(&items);
    xs_identity_destroy(&id);
    return err;
}
