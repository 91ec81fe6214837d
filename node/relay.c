/* relay: a central school's node serving its satellite schools (protocol.md §8). */
#include "relay.h"

#include "lanes.h"
#include "staff.h"

#include <stdlib.h>
#include <string.h>

#include "xs/batch.h"
#include "xs/chain.h"
#include "xs/proto.h"
#include "xs/receipt.h"
#include "xs/roster.h"
#include "xs/transport.h"

#define S_WINDOW 16
#define S_RECEIPTS_PAGE_BYTES ((size_t)512 << 10)

struct node_relay {
    node_t *node;
    xs_identity_t *id; /* the relay node's own keys */
    xs_server_t *server;

    xs_roster_entry_t *roster; /* scratch for the roster's satellites */
    xs_writer_t out;           /* the reply being built */
    uint64_t new_batches;      /* stored since node_relay_take_new */
};

/* The stored roster, opened by one of the county's keys. */
typedef struct s_roster_open {
    node_relay_t *r;
    xs_bytes_t env;
    uint32_t count;
} s_roster_open_t;

static xs_err s_roster_by(void *ctx, const uint8_t key[XS_SIGN_PK_BYTES]) {
    s_roster_open_t *o = ctx;
    return xs_roster_open(o->env.ptr, o->env.len, key, xs_identity_public(o->r->id)->sign,
                          o->r->roster, XS_ROSTER_MAX, &o->count, NULL);
}

/* ZAP: admits a transport key listed in the newest roster the hub signed for this relay, by
 * the key in force or (signed before a rotation) a retired one. */
static int s_admit(void *ctx, const uint8_t box[32], uint8_t origin[32]) {
    node_relay_t *r = ctx;
    xs_txn_t *txn = NULL;
    node_county_keys_t keys;
    s_roster_open_t o = {r, {NULL, 0}, 0};
    uint32_t count = 0;
    int admit = 0;
    if (xs_store_read(r->node->store, &txn) != XS_OK)
        return -1;
    if (node_meta_get(txn, NODE_META_ROSTER, &o.env) == XS_OK &&
        node_county_keys(txn, &keys) == XS_OK && node_county_try(&keys, s_roster_by, &o) == XS_OK) {
        count = o.count;
        for (uint32_t i = 0; i < count && !admit; i++)
            if (memcmp(r->roster[i].box, box, 32) == 0) {
                memcpy(origin, r->roster[i].origin, 32);
                admit = 1;
            }
    }
    xs_store_end(&txn);
    return admit;
}

xs_err node_relay_open(node_relay_t **out, node_t *node, const char *endpoint) {
    xs_txn_t *txn = NULL;
    *out = NULL;
    node_relay_t *r = calloc(1, sizeof *r);
    if (!r || !(r->roster = malloc(XS_ROSTER_MAX * sizeof *r->roster))) {
        free(r);
        return XS_ENOMEM;
    }
    r->node = node;
    xs_writer_init(&r->out, XS_PROTO_FRAME_MAX);
    xs_err err = xs_identity_load(&r->id, node->dir, "node");
    uint8_t county[XS_SIGN_PK_BYTES];
    if (err == XS_OK)
        err = xs_store_read(node->store, &txn);
    if (err == XS_OK)
        err = node_county_key(txn, county); /* a relay must know its county */
    xs_store_end(&txn);
    if (err == XS_OK)
        err = xs_server_open(&r->server, endpoint, xs_identity_public(r->id)->box,
                             xs_identity_box_secret(r->id), s_admit, r);
    if (err != XS_OK) {
        node_relay_close(&r);
        return err;
    }
    *out = r;
    return XS_OK;
}

void node_relay_close(node_relay_t **r) {
    if (!r || !*r)
        return;
    xs_server_close(&(*r)->server);
    xs_identity_destroy(&(*r)->id);
    xs_writer_free(&(*r)->out);
    free((*r)->roster);
    free(*r);
    *r = NULL;
}

uint64_t node_relay_take_new(node_relay_t *r) {
    uint64_t n = r->new_batches;
    r->new_batches = 0;
    return n;
}

static void s_reply(node_relay_t *r, const xs_peer_t *peer, const xs_msg_t *msg) {
    xs_writer_reset(&r->out);
    xs_err err = xs_proto_encode(msg, &r->out);
    if (err == XS_OK)
        err = xs_server_send(r->server, peer, r->out.data, r->out.len);
    if (err != XS_OK && err != XS_ENOTFOUND)
        xs_log_err(err, "回复卫星校失败 (replying to a satellite)");
}

static void s_error(node_relay_t *r, const xs_peer_t *peer, xs_proto_code code) {
    xs_msg_t msg;
    xs_proto_error(&msg, code);
    s_reply(r, peer, &msg);
}

/* A satellite's counter; 0 when unset or unreadable (then the satellite is told less). */
static uint64_t s_state(xs_txn_t *txn, const uint8_t origin[32], node_lane_counter which) {
    node_lane_t lane = node_lane_satellite(origin);
    uint64_t v;
    return node_lane_get(txn, &lane, which, &v) == XS_OK ? v : 0;
}

static void s_hello(node_relay_t *r, const xs_peer_t *peer, const xs_msg_t *hello) {
    xs_txn_t *txn = NULL;
    xs_chain_view_t view;
    xs_bytes_t policy = {NULL, 0}, chain = {NULL, 0};
    xs_proto_range_t gaps[XS_CHAIN_MAX_GAPS];
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    if (hello->u.hello.has_origin) {
        s_error(r, peer, XS_PCODE_WRONG_ORIGIN); /* a relay does not relay for relays */
        return;
    }
    xs_err err = xs_store_read(r->node->store, &txn);
    if (err == XS_OK)
        err = node_lane_view(txn, peer->origin, &view);
    if (err != XS_OK) {
        xs_store_end(&txn);
        s_error(r, peer, XS_PCODE_INTERNAL);
        return;
    }
    /* The hub's policy, as the hub signed it, when the satellite's differs. */
    uint8_t hash[32];
    int has_policy = 0;
    if (node_policy_hash(txn, hash, &has_policy) == XS_OK && has_policy &&
        (!hello->u.hello.has_policy_hash || memcmp(hash, hello->u.hello.policy_hash, 32) != 0) &&
        node_meta_get(txn, NODE_META_POLICY_ENV, &policy) != XS_OK)
        policy = (xs_bytes_t){NULL, 0};
    for (size_t i = 0; i < view.gap_count; i++)
        gaps[i] = (xs_proto_range_t){view.gaps[i][0], view.gaps[i][1]};
    msg.type = XS_MSG_VIEW;
    msg.u.view.have_through = view.have_through;
    msg.u.view.held_max = view.held_max;
    msg.u.view.gaps = gaps;
    msg.u.view.gap_count = (uint32_t)view.gap_count;
    msg.u.view.window = S_WINDOW;
    msg.u.view.receipts_gen = s_state(txn, peer->origin, NODE_LANE_RECEIPTS_GEN);
    msg.u.view.policy = (xs_proto_blob_t){policy.ptr, policy.len};
    msg.u.view.confirmed_through = s_state(txn, peer->origin, NODE_LANE_CONFIRMED);
    /* The hub's key rotations this relay followed: its satellites follow them too. */
    if (node_meta_get(txn, NODE_META_ROTATIONS, &chain) == XS_OK)
        msg.u.view.rotations = (xs_proto_blob_t){chain.ptr, chain.len};
    s_reply(r, peer, &msg); /* before the snapshot ends: policy and chain borrow it */
    xs_store_end(&txn);
}

/* Stores a satellite's batch (verified already) unless held, and says how it stands. */
typedef struct s_hold {
    const xs_batch_t *batch;
    uint8_t status; /* out: xs_ack_status */
} s_hold_t;

static xs_err s_hold_step(xs_txn_t *txn, void *ctx) {
    s_hold_t *h = ctx;
    const xs_batch_t *b = h->batch;
    xs_chain_entry_t e;
    xs_err err = node_lane_entry(txn, b->origin, b->first_seq, &e);
    if (err == XS_OK) {
        if (e.count != b->count || memcmp(e.hash, b->hash, 32) != 0) {
            h->status = XS_ACK_FORK; /* the hub is the judge; the relay keeps the first */
            return XS_OK;
        }
        uint64_t confirmed = s_state(txn, b->origin, NODE_LANE_CONFIRMED);
        h->status = confirmed >= b->first_seq + b->count - 1 ? XS_ACK_ACCEPTED : XS_ACK_RELAYED;
        return XS_OK;
    }
    if (err != XS_ENOTFOUND)
        return err;
    h->status = XS_ACK_RELAYED;
    node_lane_t lane = node_lane_satellite(b->origin);
    return node_lane_store(txn, &lane, b->first_seq, b->count, b->hash, b->envelope,
                           b->envelope_len);
}

static void s_batch(node_relay_t *r, const xs_peer_t *peer, const xs_msg_t *in) {
    xs_batch_t b;
    xs_msg_t ack;
    memset(&ack, 0, sizeof ack);
    ack.type = XS_MSG_ACK;
    xs_err err = xs_batch_open(in->u.batch.envelope.ptr, in->u.batch.envelope.len, &b);
    if (err == XS_OK) {
        ack.u.ack.first_seq = b.first_seq;
        ack.u.ack.count = b.count;
    }
    if (err != XS_OK || memcmp(b.origin, peer->origin, 32) != 0) {
        ack.u.ack.status = XS_ACK_REFUSED;
        ack.u.ack.error =
            (uint8_t)(err != XS_OK ? xs_proto_code_from_err(err) : XS_PCODE_WRONG_ORIGIN);
        s_reply(r, peer, &ack);
        return;
    }
    s_hold_t hold = {&b, 0};
    if ((err = xs_store_update(r->node->store, s_hold_step, &hold)) != XS_OK) {
        xs_log_err(err, "中心校暂存失败 (the relay could not store a batch)");
        ack.u.ack.status = XS_ACK_REFUSED;
        ack.u.ack.error = XS_PCODE_INTERNAL;
    } else {
        ack.u.ack.status = hold.status;
        r->new_batches += hold.status == XS_ACK_RELAYED;
    }
    s_reply(r, peer, &ack);
}

static xs_err s_page_add(void *ctx, const char *teacher, size_t len, const xs_bytes_t *env) {
    (void)teacher;
    (void)len;
    return xs_proto_page_add(ctx, env->ptr, env->len) ? XS_OK : XS_EEXIST; /* full: stop */
}

/* The receipts the relay holds for the satellite's teachers, a page at a time. */
static void s_fetch(node_relay_t *r, const xs_peer_t *peer, const xs_msg_t *fetch) {
    xs_txn_t *txn = NULL;
    xs_proto_page_t page;
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    if (fetch->u.fetch.has_origin) {
        s_error(r, peer, XS_PCODE_WRONG_ORIGIN);
        return;
    }
    xs_proto_page_init(&page, malloc(XS_PROTO_RECEIPTS_MAX * sizeof *page.items),
                       XS_PROTO_RECEIPTS_MAX, S_RECEIPTS_PAGE_BYTES);
    xs_err err = page.items ? xs_store_read(r->node->store, &txn) : XS_ENOMEM;
    if (err == XS_OK)
        msg.u.receipts.generation = s_state(txn, peer->origin, NODE_LANE_RECEIPTS_GEN);
    /* The relay keeps the newest receipt per teacher: a satellite behind gets them all. */
    if (err == XS_OK && fetch->u.fetch.receipts_have < msg.u.receipts.generation) {
        node_lane_t lane = node_lane_satellite(peer->origin);
        err = node_lane_receipts(txn, &lane, fetch->u.fetch.after.ptr, fetch->u.fetch.after.len,
                                 s_page_add, &page);
        if (err == XS_EEXIST)
            err = XS_OK;
    }
    if (err == XS_OK) {
        msg.type = XS_MSG_RECEIPTS;
        msg.u.receipts.receipts = page.items;
        msg.u.receipts.receipt_count = page.count;
        msg.u.receipts.more = page.more;
        s_reply(r, peer, &msg);
    } else {
        s_error(r, peer, XS_PCODE_INTERNAL);
    }
    xs_store_end(&txn);
    free(page.items);
}

/* A page of a satellite's own batches, contiguous from from_seq (protocol.md §9). */
typedef struct s_pull_page {
    xs_proto_page_t page;
    uint64_t next; /* the seq the next batch must start at; 0: any (the first) */
} s_pull_page_t;

static xs_err s_pull_add(void *ctx, const node_lane_batch_t *b) {
    s_pull_page_t *p = ctx;
    if (p->next && b->first != p->next)
        return XS_EEXIST; /* a gap: the page ends before it */
    if (!xs_proto_page_add(&p->page, b->envelope, b->len))
        return XS_EEXIST; /* full */
    p->next = b->last + 1;
    return XS_OK;
}

/* A satellite restored from an old copy asks for its own batches back. */
static void s_pull(node_relay_t *r, const xs_peer_t *peer, const xs_msg_t *pull) {
    xs_txn_t *txn = NULL;
    s_pull_page_t pulled = {{NULL, 0, 0, 0, 0, 0}, 0};
    xs_proto_page_t *page = &pulled.page;
    if (pull->u.pull.has_origin) {
        s_error(r, peer, XS_PCODE_WRONG_ORIGIN);
        return;
    }
    xs_proto_page_init(page, malloc(XS_PROTO_BATCHES_MAX * sizeof *page->items),
                       XS_PROTO_BATCHES_MAX, XS_PROTO_BATCHES_BYTES);
    xs_err err = page->items ? xs_store_read(r->node->store, &txn) : XS_ENOMEM;
    if (err == XS_OK) {
        node_lane_t lane = node_lane_satellite(peer->origin);
        err = node_lane_batches(txn, &lane, pull->u.pull.from_seq - 1, s_pull_add, &pulled);
        if (err == XS_EEXIST)
            err = XS_OK;
    }
    if (err == XS_OK) {
        xs_msg_t msg;
        memset(&msg, 0, sizeof msg);
        msg.type = XS_MSG_BATCHES;
        msg.u.batches.envelopes = page->items;
        msg.u.batches.envelope_count = page->count;
        msg.u.batches.more = page->more;
        s_reply(r, peer, &msg); /* before the snapshot ends: the page borrows it */
    } else {
        s_error(r, peer, XS_PCODE_INTERNAL);
    }
    xs_store_end(&txn);
    free(page->items);
}

/* A satellite's part of the teacher roster, as the relay last fetched it from the hub: nil
 * when the satellite holds it already, or the relay holds none (protocol.md §10). The part is
 * the hub's, signed for the satellite: the relay hands it on and cannot alter it. */
static void s_staff(node_relay_t *r, const xs_peer_t *peer, const xs_msg_t *get) {
    xs_txn_t *txn = NULL;
    xs_bytes_t part;
    xs_msg_t msg;
    uint8_t hash[XS_HASH_BYTES];
    memset(&msg, 0, sizeof msg);
    if (get->u.staff_get.has_origin) {
        s_error(r, peer, XS_PCODE_WRONG_ORIGIN); /* a relay does not relay for relays */
        return;
    }
    msg.type = XS_MSG_STAFF;
    xs_err err = xs_store_read(r->node->store, &txn);
    if (err == XS_OK) {
        err = node_staff_get(txn, peer->origin, &part);
        if (err == XS_OK && node_staff_hash(part.ptr, part.len, hash) == XS_OK &&
            !(get->u.staff_get.has_have && memcmp(hash, get->u.staff_get.have, 32) == 0))
            msg.u.staff.part = (xs_proto_blob_t){part.ptr, part.len};
        if (err == XS_ENOTFOUND)
            err = XS_OK;
    }
    if (err == XS_OK)
        s_reply(r, peer, &msg); /* before the snapshot ends: the part borrows it */
    else
        s_error(r, peer, XS_PCODE_INTERNAL);
    xs_store_end(&txn);
}

xs_err node_relay_serve(node_relay_t *r, int timeout_ms) {
    xs_peer_t peer;
    const uint8_t *frame;
    size_t len;
    xs_msg_t msg;
    xs_err err = xs_server_recv(r->server, timeout_ms, &peer, &frame, &len);
    if (err != XS_OK)
        return err;
    if ((err = xs_proto_decode(frame, len, &msg)) != XS_OK) {
        s_error(r, &peer, xs_proto_code_from_err(err));
        return XS_OK;
    }
    switch (msg.type) {
    case XS_MSG_HELLO:
        s_hello(r, &peer, &msg);
        break;
    case XS_MSG_BATCH:
        s_batch(r, &peer, &msg);
        break;
    case XS_MSG_FETCH:
        s_fetch(r, &peer, &msg);
        break;
    case XS_MSG_PULL:
        s_pull(r, &peer, &msg);
        break;
    case XS_MSG_STAFF_GET:
        s_staff(r, &peer, &msg);
        break;
    default:
        s_error(r, &peer, XS_PCODE_MALFORMED);
        break;
    }
    return XS_OK;
}
