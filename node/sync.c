/* sync: sealing records into signed batches, and one session with the hub (protocol.md §5). */
#include "sync.h"

#include "lanes.h"
#include "recover.h"
#include "seal.h"
#include "staff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs/progress.h"
#include "xs/batch.h"
#include "xs/bundle.h"
#include "xs/chain.h"
#include "xs/log.h"
#include "xs/proto.h"
#include "xs/receipt.h"
#include "xs/roster.h"
#include "xs/transport.h"

/* ---- the session ---- */

/* Longest wait for the peer's first reply of a session, in seconds: a relay waits less, for
 * while it waits for the hub its satellites wait for it (they allow S_CONTACT_SECONDS). */
#define S_CONTACT_SECONDS 5
#define S_RELAY_CONTACT_SECONDS 2

/* Raises a lane's counter to value (when larger), in a write step of its own. */
typedef struct s_raise {
    const node_lane_t *lane;
    node_lane_counter which;
    uint64_t value;
} s_raise_t;

static xs_err s_raise_step(xs_txn_t *txn, void *ctx) {
    const s_raise_t *r = ctx;
    return node_lane_raise(txn, r->lane, r->which, r->value);
}

static xs_err s_raise(node_t *node, const node_lane_t *lane, node_lane_counter which,
                      uint64_t value) {
    s_raise_t r = {lane, which, value};
    return value ? xs_store_update(node->store, s_raise_step, &r) : XS_OK;
}

/* A sealed batch the hub may need. */
typedef struct s_out {
    uint64_t first, last; /* its sequence numbers */
    uint8_t *envelope;    /* a copy */
    size_t len;
    int sent;     /* sent in this session */
    int answered; /* an ACK came for it */
    int acked;    /* the peer holds it (ACK accepted, already held, or held by a relay) */
} s_out_t;

/* What a session has measured of the link, to size what it seals and sends (docs/design.md,
 * "How a session adapts to the link"). Rates are in bytes per second, times in seconds on the
 * monotonic clock. */
typedef struct s_link {
    double rate;          /* the best rate acknowledgements showed this session; 0: none */
    double floor;         /* a rate the link surely reaches, from the first reply's delay */
    double stored;        /* the last session's rate (NODE_META_LINK_RATE); 0: none */
    double busy_since;    /* when batches started to be in flight without a pause */
    uint64_t busy_acked;  /* bytes acknowledged since then */
    double train_at;      /* when the first ACK of that flow came; 0: none yet */
    uint64_t train_acked; /* bytes acknowledged after that one */
    double opened_at;     /* when the connection was opened */
    double replied_at;    /* when the first reply came; 0: not yet */
} s_link_t;

typedef struct s_session {
    node_t *node;
    node_sync_result_t *res;
    xs_client_t *client;
    uint8_t hub_sign[32]; /* the county hub's signing key: receipts, policy, roster */
    uint8_t peer_box[32]; /* the transport key of what we connect to (hub or relay) */
    char endpoint[260];
    struct timespec deadline;
    xs_writer_t frame;
    s_out_t *out;
    size_t nout, out_cap;
    xs_receipt_t *scratch;   /* one receipt being checked */
    int contact_seconds;     /* longest wait for the peer's first reply */
    const xs_identity_t *id; /* this node's key: its records are sealed as the link takes them */
    s_link_t link;           /* the link as this session measures it */
    int adopted;             /* 1 once this session adopted the hub's chain */
} s_session_t;

/* Seconds on the monotonic clock. */
static double s_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int s_ms_left(const struct timespec *deadline) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
                   (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

static xs_err s_send(s_session_t *s, const xs_msg_t *msg) {
    xs_writer_reset(&s->frame);
    xs_err err = xs_proto_encode(msg, &s->frame);
    if (err == XS_OK)
        err = xs_client_send(s->client, s->frame.data, s->frame.len);
    if (err != XS_OK)
        xs_log_err(err, "发送失败 (send failed)");
    return err;
}

/* Says why a receive failed for good (a refusal at the handshake, or another error) and
 * returns err. */
static xs_err s_receive_failed(xs_err err) {
    if (err == XS_EREFUSED)
        xs_log("县级中心拒绝了本节点：未登记或已吊销，请县级管理员登记本节点 (xueshi-hub enroll) "
               "(the hub refused this node: not enrolled, or revoked; ask the county to enroll "
               "it)");
    else
        xs_log_err(err, "接收失败 (receive failed)");
    return err;
}

/* Receives one message of the expected type before the deadline; explains failures. The
 * message borrows the client's buffer until the next receive. What each failure means for
 * sync and run: protocol.md §5.1 and §6. */
static xs_err s_recv(s_session_t *s, xs_msg_type want, xs_msg_t *msg) {
    xs_err handshake = XS_OK; /* the last handshake failure, while zmq retries it */
    for (;;) {
        const uint8_t *bytes;
        size_t len;
        int left = s_ms_left(&s->deadline);
        xs_err err = left ? xs_client_recv(s->client, left, &bytes, &len) : XS_ETIMEOUT;
        if (err == XS_ENET || err == XS_ECRYPTO) {
            /* zmq tries the handshake again on its own: a broken link or a hub restarting
             * passes when it reconnects; a wrong key fails every time. Judge at the deadline,
             * by the last failure. */
            handshake = err;
            continue;
        }
        if (err == XS_ETIMEOUT && s_ms_left(&s->deadline) > 0)
            continue; /* a signal woke the wait early */
        if (err == XS_ETIMEOUT && handshake == XS_ECRYPTO) {
            xs_log("县级中心 %s "
                   "不接受本节点的握手：本节点所记的县级中心公钥很可能不对，请向县级管理员核对"
                   "公钥后重新运行 xueshi-node init --hub --hub-key (%s breaks off every "
                   "handshake: the hub key this node holds is likely wrong; check it with the "
                   "county and run init again)",
                   s->endpoint, s->endpoint);
            return XS_ECRYPTO;
        }
        if (err == XS_ETIMEOUT && handshake != XS_OK) {
            xs_log("与 %s 的握手一直未能完成：线路中断或对方暂时出错，稍后再试 (the handshake "
                   "with %s keeps breaking off: a bad link, or the hub failing for now; try "
                   "again later): %s",
                   s->endpoint, s->endpoint, xs_client_why(s->client));
            return XS_ETIMEOUT;
        }
        if (err == XS_ETIMEOUT) {
            xs_log(
                "无法连接 %s 或对方无应答，请检查网络后再试，或用 U 盘导出 (%s is unreachable or "
                "silent: check the link and try again, or export to a USB stick)",
                s->endpoint, s->endpoint);
            return err;
        }
        if (err != XS_OK)
            return s_receive_failed(err);
        if (xs_proto_decode(bytes, len, msg) != XS_OK) {
            xs_log("收到无法解析的消息，已忽略 (ignored a malformed message)");
            continue;
        }
        if (msg->type == XS_MSG_ERROR) {
            /* internal: the hub failed for now (XS_EAGAIN, try later); any other code is a
             * verdict on this node or what it sent. */
            xs_log("对方报告错误 (the peer reports): %.*s", (int)msg->u.error.message.len,
                   msg->u.error.message.ptr);
            return xs_proto_code_to_err(msg->u.error.code);
        }
        if (msg->type == want) {
            if (s->link.replied_at == 0)
                s->link.replied_at = s_now();
            return XS_OK;
        }
        /* A stray reply of an earlier, interrupted exchange: skip it. */
    }
}

/* Stores a newer policy the hub signed, and its envelope for satellites. */
typedef struct s_policy_take {
    const uint8_t *blob, *env;
    size_t blob_len, env_len;
} s_policy_take_t;

static xs_err s_put_policy(xs_txn_t *txn, void *ctx) {
    const s_policy_take_t *p = ctx;
    return node_put_signed_policy(txn, p->blob, p->blob_len, p->env, p->env_len);
}

/* What following the hub's rotations takes and finds. */
typedef struct s_rotations_take {
    const xs_proto_blob_t *chain;
    uint8_t *hub_sign; /* the session's county key: the key in force after the step */
    int rotated;
} s_rotations_take_t;

static xs_err s_put_rotations(xs_txn_t *txn, void *ctx) {
    s_rotations_take_t *t = ctx;
    xs_err err = node_county_follow(txn, t->chain->ptr, t->chain->len, &t->rotated);
    if (err == XS_OK)
        err = node_county_key(txn, t->hub_sign);
    return err;
}

/* Follows the hub's key rotations VIEW carries (protocol.md §11) before anything the new key
 * signed is read. */
static xs_err s_take_rotations(s_session_t *s, const xs_proto_blob_t *chain) {
    s_rotations_take_t t = {chain, s->hub_sign, 0};
    xs_err err = xs_store_update(s->node->store, s_put_rotations, &t);
    if (err != XS_OK)
        xs_log_err(err, "县级中心的密钥轮换声明无效，未采用 (the hub's key rotation statement "
                        "was not accepted)");
    else if (t.rotated)
        xs_say("县级中心已轮换签名密钥，本节点已改用新密钥 (the hub rotated its signing key: "
               "followed)");
    return err;
}

/* Opens the policy envelope by one of the county's keys (a relay may hand on one signed
 * before a rotation). */
typedef struct s_policy_open {
    const xs_proto_blob_t *env;
    s_policy_take_t *take;
} s_policy_open_t;

static xs_err s_policy_by(void *ctx, const uint8_t key[XS_SIGN_PK_BYTES]) {
    s_policy_open_t *o = ctx;
    return xs_receipt_policy_open(o->env->ptr, o->env->len, key, &o->take->blob,
                                  &o->take->blob_len);
}

static xs_err s_take_policy(s_session_t *s, const xs_proto_blob_t *env) {
    s_policy_take_t take = {NULL, env->ptr, 0, env->len};
    xs_policy_t *policy = NULL;
    node_county_keys_t *keys = malloc(sizeof *keys);
    xs_txn_t *txn = NULL;
    s_policy_open_t o = {env, &take};
    xs_err err = keys ? xs_store_read(s->node->store, &txn) : XS_ENOMEM;
    if (err == XS_OK)
        err = node_county_keys(txn, keys);
    xs_store_end(&txn);
    if (err == XS_OK)
        err = node_county_try(keys, s_policy_by, &o);
    free(keys);
    if (err == XS_OK)
        err = xs_policy_decode(&policy, take.blob, take.blob_len);
    if (err != XS_OK) {
        xs_log_err(err, "县级中心发来的认定规则无效，未采用 (the hub's policy was not accepted)");
        return err;
    }
    err = xs_store_update(s->node->store, s_put_policy, &take);
    if (err == XS_OK) {
        s->res->policy_updated = 1;
        xs_say("认定规则已更新 (policy updated): %s 第 %u 版", policy->id, policy->version);
    }
    xs_policy_destroy(&policy);
    return err;
}

/* Does the peer lack any seq of [first, last], by its VIEW? */
static int s_peer_lacks(const xs_msg_view_t *view, uint64_t first, uint64_t last) {
    if (last > view->held_max)
        return 1;
    xs_proto_iter_t it;
    xs_proto_range_t gap;
    xs_proto_iter_init(&it, &view->gap_list);
    while (xs_proto_next_gap(&it, &gap))
        if (gap.from <= last && gap.to >= first)
            return 1;
    return 0;
}

static void s_drop_out(s_session_t *s) {
    for (size_t i = 0; i < s->nout; i++)
        free(s->out[i].envelope);
    s->nout = 0;
}

/* Keeps a copy of one batch the peer may need; with view NULL, of every batch it is handed. */
typedef struct s_collecting {
    s_session_t *s;
    const xs_msg_view_t *view;
    uint64_t acked;
} s_collecting_t;

static xs_err s_collect_one(void *ctx, const node_lane_batch_t *b) {
    s_collecting_t *c = ctx;
    s_session_t *s = c->s;
    if (c->view && b->last <= c->acked && !s_peer_lacks(c->view, b->first, b->last))
        return XS_OK;
    if (s->nout == s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap * 2 : 64;
        s_out_t *grown = realloc(s->out, cap * sizeof *grown);
        if (!grown)
            return XS_ENOMEM;
        s->out = grown;
        s->out_cap = cap;
    }
    s_out_t *o = &s->out[s->nout];
    memset(o, 0, sizeof *o);
    o->first = b->first;
    o->last = b->last;
    o->len = b->len;
    if (!(o->envelope = malloc(b->len)))
        return XS_ENOMEM;
    memcpy(o->envelope, b->envelope, b->len);
    s->nout++;
    return XS_OK;
}

/* What is left to seal on this node's own lane. */
typedef struct s_unsealed {
    uint64_t sealed_through; /* the last seq sealed */
    uint64_t last_seq;       /* the last seq recorded */
    int any;                 /* 1: records after it wait to be sealed */
} s_unsealed_t;

/* Collects the lane's batches to send: those the peer lacks, and those it never
 * acknowledged (after a restore from an old copy they differ from what the hub holds: a fork
 * the hub must see). Both lie after min(acked, have_through). For this node's own lane, also
 * says what is left to seal, and reads the link rate the last session measured. */
static xs_err s_collect(s_session_t *s, const node_lane_t *lane, const xs_msg_view_t *view,
                        s_unsealed_t *unsealed) {
    xs_txn_t *txn = NULL;
    s_collecting_t c = {s, view, 0};
    uint64_t next = 1, rate = 0;
    memset(unsealed, 0, sizeof *unsealed);
    s_drop_out(s);
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err == XS_OK)
        err = node_lane_get(txn, lane, NODE_LANE_ACKED, &c.acked);
    uint64_t after = c.acked < view->have_through ? c.acked : view->have_through;
    if (err == XS_OK)
        err = node_lane_batches(txn, lane, after, s_collect_one, &c);
    if (err == XS_OK && !lane->origin) {
        err = node_meta_get_u64(txn, NODE_META_SEALED_THROUGH, &unsealed->sealed_through);
        if (err == XS_OK)
            err = node_next_seq(txn, &next);
        unsealed->last_seq = next - 1;
        unsealed->any = err == XS_OK && next - 1 > unsealed->sealed_through;
        if (err == XS_OK && node_meta_get_u64(txn, NODE_META_LINK_RATE, &rate) == XS_OK)
            s->link.stored = (double)rate;
    }
    xs_store_end(&txn);
    return err;
}

/* Remembers how far the peer has acknowledged the lane, so no later session resends it, and
 * the link's rate for the next session to start from. */
typedef struct s_acked {
    const node_lane_t *lane;
    uint64_t through;
    uint64_t rate; /* bytes per second; 0: nothing measured */
} s_acked_t;

static xs_err s_put_acked(xs_txn_t *txn, void *ctx) {
    const s_acked_t *a = ctx;
    xs_err err = node_lane_put(txn, a->lane, NODE_LANE_ACKED, a->through);
    if (err == XS_OK && a->rate)
        err = node_meta_put_u64(txn, NODE_META_LINK_RATE, a->rate);
    return err;
}

static xs_err s_save_acked(s_session_t *s, const node_lane_t *lane, uint64_t *through) {
    xs_txn_t *txn = NULL;
    uint64_t old = 0;
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err == XS_OK)
        err = node_lane_get(txn, lane, NODE_LANE_ACKED, &old);
    xs_store_end(&txn);
    *through = old;
    for (size_t i = 0; err == XS_OK && i < s->nout; i++) {
        if (s->out[i].first > *through + 1 || !s->out[i].acked)
            break;
        if (s->out[i].last > *through)
            *through = s->out[i].last;
    }
    if (err == XS_OK && *through > old) {
        s_acked_t a = {lane, *through, (uint64_t)s->link.rate};
        err = xs_store_update(s->node->store, s_put_acked, &a);
    }
    return err;
}

/* ---- pushing batches at the pace of the link ----
 *
 * A session seals this node's records only as they are about to be sent, in rounds (one write
 * step each), in batches of about S_BATCH_SECONDS of link at the rate measured so far; keeps
 * about S_FLIGHT_SECONDS of link in flight; and takes the link for cut when no ACK comes for
 * S_STALL_FACTOR times as long as the next was expected in. A batch once sealed never changes,
 * so its size must be right when it is sealed: a batch too large for the time the link stays
 * up would be resent whole forever. */

/* A batch sealed for the link takes about this long on it. */
#define S_BATCH_SECONDS 2.0
/* Bytes in flight: what the link carries in this long (at least two and a half batches). */
#define S_FLIGHT_SECONDS 5.0
/* The smallest batch sealed, bytes of records. */
#define S_BATCH_MIN_BYTES 2048.0
/* The rate assumed before anything is measured, bytes per second: 8 KB batches. A slower
 * rate the last session measured is taken instead; a faster one is not, for the node may have
 * moved to a slower link since. */
#define S_START_RATE 4096.0
/* The rate the stall timeout allows for before anything is measured: 16 kbit/s. */
#define S_SLOW_RATE 2048.0
/* Bytes that cross the link one after another before the first reply (the CURVE handshake,
 * HELLO and VIEW): over the time that took, a rate the link surely reaches. On a LAN it lets
 * the first batches be as large as batches get. */
#define S_CONTACT_BYTES 900.0
/* The stall timeout: this many times the time the next ACK was expected in, at least
 * S_STALL_MIN_SECONDS. The time expected allows S_TURN_SECONDS for the round trip and the
 * hub's merge; after a reset, S_RECONNECT_SECONDS more for the link to come back. */
#define S_STALL_FACTOR 3.0
#define S_STALL_MIN_SECONDS 5.0
#define S_TURN_SECONDS 1.0
#define S_RECONNECT_SECONDS 6.0
/* ACKs after the first of a flow measure the rate once they span this long: one ACK held back
 * by a busy hub and released with the next must not pass for a fast link. */
#define S_TRAIN_SECONDS 1.0

/* The rate to size batches and what is in flight by, bytes per second. */
static double s_link_rate(const s_link_t *l) {
    double rate = l->rate;
    if (rate == 0)
        rate = l->stored > 0 && l->stored < S_START_RATE ? l->stored : S_START_RATE;
    return rate > l->floor ? rate : l->floor;
}

/* Bytes of records to seal into one batch. */
static size_t s_batch_bytes(const s_link_t *l) {
    double bytes = s_link_rate(l) * S_BATCH_SECONDS;
    if (bytes < S_BATCH_MIN_BYTES)
        bytes = S_BATCH_MIN_BYTES;
    return bytes >= (double)XS_BATCH_SEAL_BYTES ? XS_BATCH_SEAL_BYTES : (size_t)bytes;
}

/* Bytes that may be in flight; 0: as many as the window allows (the link is fast enough that
 * batches are as large as they get). */
static uint64_t s_flight_bytes(const s_link_t *l) {
    size_t batch = s_batch_bytes(l);
    if (batch == XS_BATCH_SEAL_BYTES)
        return 0;
    double bytes = s_link_rate(l) * S_FLIGHT_SECONDS;
    return bytes > 2.5 * (double)batch ? (uint64_t)bytes : (uint64_t)(2.5 * (double)batch);
}

/* What pushing one lane's batches gave. */
typedef struct s_pushed {
    uint64_t batches, records, acked, relayed, rejected, fork_seq;
} s_pushed_t;

/* One lane's push under way: s->out[0, next) have been sent. */
typedef struct s_pusher {
    s_session_t *s;
    const node_lane_t *lane;
    s_pushed_t *p;
    uint32_t window;        /* batches the peer lets be unacknowledged */
    size_t next;            /* the next of s->out to send */
    size_t in_flight;       /* batches sent and not answered */
    uint64_t flight_bytes;  /* their bytes */
    s_unsealed_t unsealed;  /* this node's own lane: what is left to seal; any 0 otherwise */
    double heard_at;        /* when the peer was last heard, or batches last started to flow */
    int resent;             /* what was in flight was queued again after a reset, and the peer
                               has not been heard since */
    xs_err verdict;         /* a fork or a refusal an ACK reported */
    xs_progress_t progress; /* records acknowledged, on stderr after a second */
    uint64_t acked_records; /* records of the batches acknowledged */
} s_pusher_t;

/* Whether a batch of len bytes sent now would be acknowledged before the session's deadline:
 * one that would not is left for the next session, rather than lost in flight. The first of a
 * session goes whatever the time. */
static int s_in_time(const s_pusher_t *u, size_t len) {
    double need = (double)(u->flight_bytes + len) / s_link_rate(&u->s->link) + S_TURN_SECONDS;
    return u->p->batches == 0 || need * 1000 <= s_ms_left(&u->s->deadline);
}

/* Whether a batch of len bytes may be sent now. */
static int s_fits(const s_pusher_t *u, size_t len) {
    if (!s_in_time(u, len))
        return 0;
    if (u->in_flight == 0)
        return 1;
    if (u->in_flight >= u->window)
        return 0;
    uint64_t cap = s_flight_bytes(&u->s->link);
    return cap == 0 || u->flight_bytes + len <= cap;
}

/* How many batches the next sealing round makes, once everything sealed has been sent: what
 * may be sent now; on a fast link with a full window, the next window, sealed while the hub
 * merges this one. */
static uint64_t s_round_batches(const s_pusher_t *u) {
    const s_link_t *l = &u->s->link;
    uint64_t cap = s_flight_bytes(l), batch = s_batch_bytes(l);
    if (!s_in_time(u, batch))
        return 0;
    if (cap == 0)
        return u->in_flight < u->window ? u->window - u->in_flight : u->window;
    if (u->in_flight >= u->window)
        return 0;
    uint64_t room = u->flight_bytes < cap ? (cap - u->flight_bytes) / batch : 0;
    if (room == 0 && u->in_flight == 0)
        room = 1;
    return room < u->window - u->in_flight ? room : u->window - u->in_flight;
}

/* Seals a round of up to `batches` batches of this node's records, sized to the link, in one
 * write step, and adds them to what is sent. */
static xs_err s_seal_round(s_pusher_t *u, uint64_t batches) {
    s_session_t *s = u->s;
    node_seal_limits_t lim = {s_batch_bytes(&s->link), batches};
    s_collecting_t c = {s, NULL, 0};
    xs_txn_t *txn = NULL;
    uint64_t sealed = 0;
    xs_err err = node_seal(s->node, s->id, &lim, &sealed, &u->unsealed.any);
    if (err != XS_OK || sealed == 0)
        return err;
    s->res->sealed_batches += sealed;
    if ((err = xs_store_read(s->node->store, &txn)) == XS_OK)
        err = node_lane_batches(txn, u->lane, u->unsealed.sealed_through, s_collect_one, &c);
    xs_store_end(&txn);
    if (err == XS_OK && s->nout) {
        u->unsealed.sealed_through = s->out[s->nout - 1].last;
        if (u->unsealed.sealed_through > s->res->head_seq)
            s->res->head_seq = u->unsealed.sealed_through;
    }
    return err;
}

static xs_err s_send_batch(s_session_t *s, const s_out_t *o) {
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_BATCH;
    msg.u.batch.envelope = (xs_proto_blob_t){o->envelope, o->len};
    return s_send(s, &msg);
}

/* Batches start to flow after a pause: the rate and the stall are timed from now. */
static void s_flow_starts(s_pusher_t *u) {
    s_link_t *l = &u->s->link;
    l->busy_since = u->heard_at = s_now();
    l->busy_acked = l->train_acked = 0;
    l->train_at = 0;
}

/* Measures the link by one more ACK of len bytes while batches flow: the bytes acknowledged
 * over the time since they started to flow (less than the link's rate by the first round trip,
 * never more), and, over a second or more, the bytes acknowledged after the first ACK over the
 * time since it (the pipe full all along: the rate itself, round trips and outages left out). */
static void s_measure(s_link_t *l, size_t len) {
    double now = s_now(), busy = now - l->busy_since;
    l->busy_acked += len;
    if (busy < 1e-3)
        busy = 1e-3;
    if ((double)l->busy_acked / busy > l->rate)
        l->rate = (double)l->busy_acked / busy;
    if (l->train_at == 0) {
        l->train_at = now;
        return;
    }
    l->train_acked += len;
    if (now - l->train_at >= S_TRAIN_SECONDS &&
        (double)l->train_acked / (now - l->train_at) > l->rate)
        l->rate = (double)l->train_acked / (now - l->train_at);
}

/* Sends what the window and the bytes in flight allow, sealing this node's own records in
 * rounds as the link takes them. */
static xs_err s_fill(s_pusher_t *u) {
    s_session_t *s = u->s;
    for (;;) {
        /* After a refusal nothing more is sent: the rest would be refused the same way, or (the
         * hub failing for now) only fill a queue it cannot store; the next session resends. */
        while (u->next < s->nout && s_fits(u, s->out[u->next].len) &&
               (u->verdict == XS_OK || u->verdict == XS_EFORK)) {
            s_out_t *o = &s->out[u->next];
            if (u->in_flight == 0)
                s_flow_starts(u);
            xs_err err = s_send_batch(s, o);
            if (err != XS_OK)
                return err;
            o->sent = 1;
            u->next++;
            u->in_flight++;
            u->flight_bytes += o->len;
            u->p->batches++;
            u->p->records += o->last - o->first + 1;
        }
        if (u->next < s->nout || !u->unsealed.any || u->verdict != XS_OK)
            return XS_OK;
        uint64_t batches = s_round_batches(u);
        if (batches == 0)
            return XS_OK;
        xs_err err = s_seal_round(u, batches);
        if (err != XS_OK)
            return err;
    }
}

/* After a reset (zmq failing to reconnect: the connection the batches went on is gone, and
 * what was in flight on it), queues every unanswered batch again, to leave when zmq has
 * reconnected. Once, until the peer is heard from again: later failures are the same outage. */
static xs_err s_resend(s_pusher_t *u) {
    s_session_t *s = u->s;
    size_t again = 0;
    if (u->resent)
        return XS_OK;
    for (size_t i = 0; i < u->next; i++) {
        if (!s->out[i].sent || s->out[i].answered)
            continue;
        xs_err err = s_send_batch(s, &s->out[i]);
        if (err != XS_OK)
            return err;
        again++;
    }
    u->resent = 1;
    s_flow_starts(u);
    xs_log("连接中断，重连后重发未确认的 %zu 批 (the connection dropped; %zu unacknowledged "
           "batches go again when it is back)",
           again, again);
    return XS_OK;
}

/* How long the peer may stay silent while batches are in flight, in seconds. */
static double s_stall_seconds(const s_pusher_t *u) {
    const s_session_t *s = u->s;
    double rate = s->link.rate > 0 ? s->link.rate : S_SLOW_RATE;
    size_t oldest = 0;
    if (rate < s->link.floor)
        rate = s->link.floor;
    for (size_t i = 0; i < u->next && !oldest; i++)
        if (s->out[i].sent && !s->out[i].answered)
            oldest = s->out[i].len;
    double wait = S_STALL_FACTOR * ((double)oldest / rate + S_TURN_SECONDS);
    if (wait < S_STALL_MIN_SECONDS)
        wait = S_STALL_MIN_SECONDS;
    return u->resent ? wait + S_RECONNECT_SECONDS : wait;
}

/* Waits for the peer's next ACK until the stall timeout or the session's deadline; with poll,
 * takes only one already there. XS_ETIMEOUT when none came (a message says why, unless poll);
 * XS_EREFUSED, an error the peer reported, or another receive error. The message borrows the
 * client's buffer until the next receive. */
static xs_err s_await_ack(s_pusher_t *u, int poll, xs_msg_t *ack) {
    s_session_t *s = u->s;
    for (;;) {
        int wait = 0;
        if (!poll) {
            double stall_ms = (u->heard_at + s_stall_seconds(u) - s_now()) * 1000;
            int left = s_ms_left(&s->deadline);
            if (left == 0) {
                xs_log("同步时间已到，尚有 %zu 批未确认 (the session's time ran out with %zu "
                       "batches unacknowledged)",
                       u->in_flight, u->in_flight);
                return XS_ETIMEOUT;
            }
            if (stall_ms <= 0) {
                xs_log("%.0f 秒未收到确认，链路可能已断；已确认的不会重发 (no acknowledgement for "
                       "%.0f s: the link seems cut; what was acknowledged is not sent again)",
                       s_stall_seconds(u), s_stall_seconds(u));
                return XS_ETIMEOUT;
            }
            wait = stall_ms + 1 < left ? (int)stall_ms + 1 : left;
        }
        const uint8_t *bytes;
        size_t len;
        xs_err err = xs_client_recv(s->client, wait, &bytes, &len);
        if (err == XS_ETIMEOUT && poll)
            return err;
        if (err == XS_ETIMEOUT)
            continue; /* time up (said above), or a signal woke the wait early */
        if (err == XS_ENET) {
            if ((err = s_resend(u)) != XS_OK)
                return err;
            continue;
        }
        if (err != XS_OK)
            return s_receive_failed(err);
        u->heard_at = s_now();
        u->resent = 0;
        if (xs_proto_decode(bytes, len, ack) != XS_OK) {
            xs_log("收到无法解析的消息，已忽略 (ignored a malformed message)");
            continue;
        }
        if (ack->type == XS_MSG_ERROR) {
            xs_log("对方报告错误 (the peer reports): %.*s", (int)ack->u.error.message.len,
                   ack->u.error.message.ptr);
            return xs_proto_code_to_err(ack->u.error.code);
        }
        if (ack->type == XS_MSG_ACK)
            return XS_OK;
        /* A stray reply of an earlier, interrupted exchange: skip it. */
    }
}

/* Takes one ACK: answers its batch, and measures the link by it. */
static void s_take_ack(s_pusher_t *u, const xs_msg_t *ack) {
    s_session_t *s = u->s;
    s_pushed_t *p = u->p;
    size_t i = 0;
    /* A batch the hub could not even open is refused with first_seq 0: it answers the oldest
     * batch still unanswered, as the hub answers in order. */
    int unread = ack->u.ack.first_seq == 0 && ack->u.ack.status == XS_ACK_REFUSED;
    while (i < u->next && !(s->out[i].sent && !s->out[i].answered &&
                            (unread || s->out[i].first == ack->u.ack.first_seq)))
        i++;
    if (i == u->next)
        return; /* an ACK of an earlier session's batch, or one sent twice */
    s_out_t *o = &s->out[i];
    o->answered = 1;
    u->in_flight--;
    u->flight_bytes -= o->len;
    s_measure(&s->link, o->len);
    switch (ack->u.ack.status) {
    case XS_ACK_RELAYED: /* the relay holds it durably: it need not be sent again */
    case XS_ACK_ACCEPTED:
    case XS_ACK_HELD:
        p->relayed += ack->u.ack.status == XS_ACK_RELAYED;
        o->acked = 1;
        p->acked++;
        u->acked_records += o->last - o->first + 1;
        xs_progress_update_at(&u->progress, u->acked_records, s_now());
        p->rejected += ack->u.ack.rejected_count;
        if (ack->u.ack.rejected_count)
            xs_say("县级中心拒收 %u 条记录 (records rejected), 批次 %llu 起: 学校不在本节点登记"
                   "范围 (school outside this node's enrollment)",
                   ack->u.ack.rejected_count, (unsigned long long)ack->u.ack.first_seq);
        break;
    case XS_ACK_FORK:
        if (!p->fork_seq || ack->u.ack.first_seq < p->fork_seq)
            p->fork_seq = ack->u.ack.first_seq;
        u->verdict = XS_EFORK;
        break;
    default: {
        xs_err why = xs_proto_code_to_err(ack->u.ack.error);
        if (why == XS_EAGAIN)
            xs_log(
                "县级中心暂时无法保存批次 %llu，稍后重试 (the hub could not store batch %llu for "
                "now; it goes again later)",
                (unsigned long long)o->first, (unsigned long long)o->first);
        else
            xs_log("对方拒绝批次 %llu (the batch was refused): %s", (unsigned long long)o->first,
                   xs_proto_code_message(ack->u.ack.error));
        if (u->verdict == XS_OK || u->verdict == XS_EAGAIN)
            u->verdict = why; /* a fork still wins */
        break;
    }
    }
}

/* Sends the collected batches, and this node's own records sealed as the link takes them,
 * under the window and the bytes in flight; takes their ACKs, saving how far the peer holds
 * the lane after each burst of them. After a fork or a refusal nothing more is sealed. */
static xs_err s_push(s_session_t *s, const node_lane_t *lane, uint32_t window,
                     const s_unsealed_t *unsealed, s_pushed_t *p, uint64_t *acked_through) {
    s_pusher_t u;
    xs_err err = XS_OK;
    memset(&u, 0, sizeof u);
    memset(p, 0, sizeof *p);
    u.s = s;
    u.lane = lane;
    u.p = p;
    if (!lane->origin && s->id)
        u.unsealed = *unsealed;
    /* Whatever the peer offers, stay below what the transport queues for one peer. */
    u.window = window == 0 ? 1 : window > XS_TRANSPORT_QUEUE - 8 ? XS_TRANSPORT_QUEUE - 8 : window;
    if (s->link.floor == 0 && s->link.replied_at > s->link.opened_at)
        s->link.floor = S_CONTACT_BYTES / (s->link.replied_at - s->link.opened_at);
    uint64_t records = u.unsealed.any ? u.unsealed.last_seq - u.unsealed.sealed_through : 0;
    for (size_t i = 0; i < s->nout; i++)
        records += s->out[i].last - s->out[i].first + 1;
    xs_progress_begin(&u.progress, "xueshi-node", "同步 (sync)", "条 (records)", records);
    for (;;) {
        xs_msg_t ack;
        if ((err = s_fill(&u)) != XS_OK || u.in_flight == 0)
            break;
        if ((err = s_await_ack(&u, 0, &ack)) != XS_OK)
            break;
        do
            s_take_ack(&u, &ack);
        while ((err = s_await_ack(&u, 1, &ack)) == XS_OK);
        if (err != XS_ETIMEOUT || (err = s_save_acked(s, lane, acked_through)) != XS_OK)
            break;
    }
    if (err == XS_OK && u.verdict == XS_OK && (u.next < s->nout || u.unsealed.any)) {
        xs_log("本次同步的时间将尽，余下的下次再发 (the session's time is nearly up: the rest goes "
               "next time)");
        err = XS_ETIMEOUT;
    }
    xs_progress_end(&u.progress, u.acked_records);
    xs_err saved = s_save_acked(s, lane, acked_through);
    if (err == XS_OK)
        err = saved;
    return err != XS_OK ? err : u.verdict;
}

/* Stores one page of receipts (protocol.md §5.3), the newest per teacher: the envelopes of
 * `receipts`, each verified against the county hub's key (one that fails is dropped), and the
 * group's leaves, kept as standalone receipts once the whole group verifies (a group that fails
 * stores nothing of the page). */
typedef struct s_receipts {
    s_session_t *s;
    const node_lane_t *lane;
    const xs_msg_receipts_t *page;
    const xs_proto_blob_t *leaves; /* the group's leaves, as an array */
    xs_receipt_t *held;            /* scratch: the receipt held for a teacher */
    uint64_t stored;               /* out */
    int complete;                  /* the last page: store its generation */
    int group_failed;              /* out: the group did not verify (its error returned) */
    char last[XS_ID_MAX];          /* out: the page's last teacher */
    size_t last_len;
} s_receipts_t;

/* Keeps one receipt envelope of the page that opens against the county key. */
static xs_err s_keep_receipt(s_receipts_t *r, xs_txn_t *txn, const uint8_t *env, size_t len,
                             const xs_receipt_t *rc) {
    int kept = 0;
    memcpy(r->last, rc->teacher_id.ptr, rc->teacher_id.len);
    r->last_len = rc->teacher_id.len;
    xs_err err = node_lane_receipt_keep(txn, r->lane, r->s->hub_sign, rc, env, len, r->held, &kept);
    r->stored += kept;
    return err;
}

typedef struct s_leaf_ctx {
    s_receipts_t *r;
    xs_txn_t *txn;
    xs_err err; /* the first error of the store, not of the group's check */
} s_leaf_ctx_t;

/* xs_receipt_page_open's callback: the standalone receipt of one verified leaf. */
static xs_err s_take_leaf(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                          const xs_receipt_t *opened) {
    s_leaf_ctx_t *c = ctx;
    (void)index;
    /* The page verified once, root and leaves: nothing of it is checked again. */
    c->err = s_keep_receipt(c->r, c->txn, receipt, len, opened);
    return c->err;
}

static xs_err s_store_receipts(xs_txn_t *txn, void *ctx) {
    s_receipts_t *r = ctx;
    xs_proto_iter_t it;
    xs_proto_blob_t env;
    xs_err err = XS_OK;
    r->stored = 0;
    r->last_len = 0;
    r->group_failed = 0;
    xs_proto_iter_init(&it, &r->page->receipt_list);
    while (err == XS_OK && xs_proto_next_receipt(&it, &env)) {
        xs_receipt_t *rc = r->s->scratch;
        if ((err = xs_receipt_open(env.ptr, env.len, r->s->hub_sign, rc)) != XS_OK) {
            xs_log_err(err, "认定回执签名无效，已丢弃 (a receipt failed its check; dropped)");
            err = XS_OK;
            continue;
        }
        err = s_keep_receipt(r, txn, env.ptr, env.len, rc);
    }
    if (err == XS_OK && r->page->root.ptr) {
        s_leaf_ctx_t c = {r, txn, XS_OK};
        err = xs_receipt_page_open(r->page->root.ptr, r->page->root.len, r->leaves,
                                   r->page->leaf_count, r->s->hub_sign, s_take_leaf, &c);
        r->group_failed = err != XS_OK && err != XS_ENOMEM && c.err == XS_OK;
    }
    if (err == XS_OK && r->complete)
        err = node_lane_put(txn, r->lane, NODE_LANE_RECEIPTS_GEN, r->page->generation);
    return err;
}

/* Stores a RECEIPTS page in one write step; explains a group that fails. The leaves are
 * gathered into an array for xs_receipt_page_open. */
static xs_err s_store_page(s_session_t *s, const node_lane_t *lane, const xs_msg_t *page,
                           s_receipts_t *r) {
    const xs_msg_receipts_t *rc = &page->u.receipts;
    xs_proto_blob_t *leaves = NULL;
    *r = (s_receipts_t){.s = s, .lane = lane, .page = rc, .complete = !rc->more};
    xs_err err = (r->held = malloc(sizeof *r->held)) ? XS_OK : XS_ENOMEM;
    if (err == XS_OK && rc->leaf_count && !(leaves = malloc(rc->leaf_count * sizeof *leaves)))
        err = XS_ENOMEM;
    if (err == XS_OK && rc->leaf_count) {
        xs_proto_iter_t it;
        uint32_t n = 0;
        xs_proto_iter_init(&it, &rc->leaf_list);
        while (n < rc->leaf_count && xs_proto_next_leaf(&it, &leaves[n]))
            n++;
        err = n == rc->leaf_count ? XS_OK : XS_EMALFORMED;
    }
    r->leaves = leaves;
    if (err == XS_OK)
        err = xs_store_update(s->node->store, s_store_receipts, r);
    if (r->group_failed && err == XS_ECRYPTO)
        xs_log_err(
            err,
            "县级中心发来的 %u 份认定回执与本节点保存的县级中心公钥不符，一份也未保存；请核对 "
            "xueshi-node init 时给的 --hub-key（经中心校同步时为 --county-key）(the hub's "
            "page of %u receipts failed its check against the county key this node holds; "
            "none stored: check the key given to init)",
            rc->leaf_count, rc->leaf_count);
    else if (r->group_failed)
        xs_log_err(err,
                   "县级中心发来的 %u 份认定回执无法读取，一份也未保存；请升级本节点软件，仍不行请"
                   "联系技术支持 (the hub's page of %u receipts does not parse; none stored: "
                   "update this node's software, else contact support)",
                   rc->leaf_count, rc->leaf_count);
    free(leaves);
    free(r->held);
    return err;
}

static xs_err s_fetch(s_session_t *s, const node_lane_t *lane, uint64_t have, uint64_t *stored) {
    char after[XS_ID_MAX];
    size_t after_len = 0;
    int more = 1;
    xs_err err = XS_OK;
    while (more && err == XS_OK) {
        xs_msg_t msg, page;
        s_receipts_t r;
        memset(&msg, 0, sizeof msg);
        msg.type = XS_MSG_FETCH;
        msg.u.fetch.receipts_have = have;
        if (after_len)
            msg.u.fetch.after = (xs_str_t){after, (uint32_t)after_len};
        if (lane->origin) {
            msg.u.fetch.has_origin = 1;
            memcpy(msg.u.fetch.origin, lane->origin, 32);
        }
        if ((err = s_send(s, &msg)) != XS_OK || (err = s_recv(s, XS_MSG_RECEIPTS, &page)) != XS_OK)
            break;
        s->res->round_trips++;
        more = page.u.receipts.more;
        err = s_store_page(s, lane, &page, &r);
        *stored += r.stored;
        if (more && r.last_len == 0)
            break; /* nothing to continue from: take the rest next session */
        after_len = r.last_len;
        memcpy(after, r.last, after_len);
    }
    return err;
}

/* Adopts the hub's copy of this node's chain after what the hub confirmed (protocol.md §9):
 * PULL it page by page, verify every envelope against this node's key and rebuild in one write
 * step; the node's own records that follow the hub's head are then sealed as they are sent. */
static xs_err s_adopt(s_session_t *s) {
    xs_txn_t *txn = NULL;
    node_adopt_t *a = NULL;
    node_adopt_result_t r;
    node_lane_t self = node_lane_self();
    uint64_t confirmed = 0;
    int more = 1;
    s->adopted = 1;
    uint64_t acked = 0;
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err == XS_OK)
        err = node_lane_get(txn, &self, NODE_LANE_CONFIRMED, &confirmed);
    if (err == XS_OK)
        err = node_lane_get(txn, &self, NODE_LANE_ACKED, &acked);
    xs_store_end(&txn);
    /* Only what the hub acknowledged of this node's own batches is the same at both ends. */
    if (acked < confirmed)
        confirmed = acked;
    if (err == XS_OK)
        err = node_adopt_begin(&a, xs_identity_public(s->id)->sign, confirmed + 1);
    while (err == XS_OK && more) {
        xs_msg_t pull, page;
        xs_proto_iter_t it;
        xs_proto_blob_t env;
        memset(&pull, 0, sizeof pull);
        pull.type = XS_MSG_PULL;
        pull.u.pull.from_seq = node_adopt_next(a);
        if ((err = s_send(s, &pull)) != XS_OK || (err = s_recv(s, XS_MSG_BATCHES, &page)) != XS_OK)
            break;
        s->res->round_trips++;
        more = page.u.batches.more && page.u.batches.envelope_count > 0;
        xs_proto_iter_init(&it, &page.u.batches.envelope_list);
        while (err == XS_OK && xs_proto_next_envelope(&it, &env))
            err = node_adopt_take(a, env.ptr, env.len);
        if (err != XS_OK)
            xs_log_err(err,
                       "县级中心发回的批次未通过核验，未采用 (a batch the hub sent back failed "
                       "its check; nothing adopted)");
    }
    if (err == XS_OK)
        err = node_adopt_commit(a, s->node, &r);
    node_adopt_destroy(&a);
    if (err == XS_ENOTFOUND)
        return XS_OK; /* the hub holds nothing newer after all */
    if (err != XS_OK)
        return err;
    s->res->adopted_records = r.records;
    s->res->renumbered = r.appended;
    s->res->head_seq = r.head + r.appended;
    xs_say("已采用县级中心的记录链 (adopted the hub's chain): 序号 %llu–%llu 共 %llu 条；本机另有 "
           "%llu 条新记录排在其后重新封装 (renumbered after it)，%llu 条县里已有 (already held)",
           (unsigned long long)r.from, (unsigned long long)r.head, (unsigned long long)r.records,
           (unsigned long long)r.appended, (unsigned long long)r.same);
    return XS_OK; /* the records after the hub's head are sealed as they are sent (s_push) */
}

/* Removes the mark of a store restored from a backup (NODE_META_RESTORED), when present. */
static xs_err s_unmark_restored(xs_txn_t *txn, void *ctx) {
    uint64_t restored = 0;
    (void)ctx;
    xs_err err = node_meta_get_u64(txn, NODE_META_RESTORED, &restored);
    if (err == XS_OK && !restored)
        return XS_EEXIST; /* nothing to write: no commit */
    return err == XS_OK ? node_meta_del(txn, NODE_META_RESTORED) : err;
}

/* ---- the teacher roster (protocol.md §10) ---- */

/* Asks for the lane's part of the roster, naming the one held: STAFF_GET goes out right
 * before HELLO, so its answer comes before VIEW and a session with nothing new still takes
 * one round trip. */
static xs_err s_staff_ask(s_session_t *s, const node_lane_t *lane) {
    xs_txn_t *txn = NULL;
    xs_msg_t get;
    memset(&get, 0, sizeof get);
    get.type = XS_MSG_STAFF_GET;
    const uint8_t *origin = lane->origin ? lane->origin : xs_identity_public(s->id)->sign;
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err == XS_OK)
        err = node_staff_have(txn, origin, get.u.staff_get.have, &get.u.staff_get.has_have);
    xs_store_end(&txn);
    if (err != XS_OK)
        return err;
    if (lane->origin) {
        get.u.staff_get.has_origin = 1;
        memcpy(get.u.staff_get.origin, lane->origin, 32);
    }
    return s_send(s, &get);
}

/* Stores a part the peer sent, in a write step of its own. */
typedef struct s_staff_take {
    const uint8_t *county, *origin;
    xs_proto_blob_t part;
    xs_err refused; /* out: why the part was not taken (xs_staff_part_open's error) */
    int stored;     /* out */
} s_staff_take_t;

static xs_err s_put_staff(xs_txn_t *txn, void *ctx) {
    s_staff_take_t *t = ctx;
    xs_err err = node_staff_put(txn, t->county, t->origin, t->part.ptr, t->part.len, &t->stored);
    t->refused = XS_OK;
    if (err == XS_ECRYPTO || err == XS_EPERM || err == XS_EMALFORMED || err == XS_ETOOBIG) {
        t->refused = err; /* not the county's part for this node: keep the one held */
        err = XS_OK;
    }
    return err;
}

/* Takes the answer to s_staff_ask: stores a new part for the lane's origin when it opens
 * against the county key; nil means the part held is current (or there is no roster). A part
 * that fails its check is dropped and said, and the session goes on: records do not wait for
 * the roster. */
static xs_err s_staff_take(s_session_t *s, const node_lane_t *lane) {
    xs_msg_t msg;
    xs_err err = s_recv(s, XS_MSG_STAFF, &msg);
    if (err == XS_EMALFORMED) {
        /* A peer of an earlier release knows no STAFF_GET: it refused only that frame. */
        xs_log("对方不提供教师花名册（软件版本较旧），本次未更新 (the peer does not hand out the "
               "teacher roster: older software)");
        return XS_OK;
    }
    if (err != XS_OK || !msg.u.staff.part.ptr)
        return err;
    s_staff_take_t t = {s->hub_sign, lane->origin ? lane->origin : xs_identity_public(s->id)->sign,
                        msg.u.staff.part, XS_OK, 0};
    if ((err = xs_store_update(s->node->store, s_put_staff, &t)) != XS_OK)
        return err;
    if (t.refused != XS_OK) {
        xs_log_err(t.refused, "收到的教师花名册未通过核验，未采用 (a roster part failed its "
                              "check; not taken)");
        return XS_OK;
    }
    if (!t.stored)
        return XS_OK;
    if (lane->origin) {
        s->res->staff_relayed++;
        return XS_OK;
    }
    xs_staff_t part;
    xs_txn_t *txn = NULL;
    if (xs_store_read(s->node->store, &txn) == XS_OK &&
        node_staff_open(txn, t.origin, &part) == XS_OK) {
        s->res->staff_version = part.version;
        s->res->staff_count = part.count;
        xs_staff_free(&part);
    }
    xs_store_end(&txn);
    return XS_OK;
}

/* One lane: STAFF_GET and HELLO, STAFF and VIEW, the batches the peer lacks, their ACKs,
 * then new receipts. */
static xs_err s_lane(s_session_t *s, const node_lane_t *lane, s_pushed_t *pushed,
                     uint64_t *receipts) {
    xs_txn_t *txn = NULL;
    uint64_t have = 0, head = 0, acked = 0;
    uint8_t policy[32];
    int has_policy = 0;
    xs_msg_t hello, view;
    memset(pushed, 0, sizeof *pushed);
    memset(&hello, 0, sizeof hello);
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err == XS_OK)
        err = node_lane_get(txn, lane, NODE_LANE_RECEIPTS_GEN, &have);
    if (err == XS_OK && !lane->origin) {
        err = node_meta_get_u64(txn, NODE_META_SEALED_THROUGH, &head);
        if (err == XS_OK)
            err = node_policy_hash(txn, policy, &has_policy);
    } else if (err == XS_OK) {
        xs_chain_view_t held;
        if ((err = node_lane_view(txn, lane->origin, &held)) == XS_OK)
            head = held.held_max;
    }
    xs_store_end(&txn);
    if (err != XS_OK)
        return err;
    hello.type = XS_MSG_HELLO;
    hello.u.hello.head_seq = head;
    hello.u.hello.receipts_have = have;
    hello.u.hello.has_policy_hash = has_policy;
    memcpy(hello.u.hello.policy_hash, policy, 32);
    if (lane->origin) {
        hello.u.hello.has_origin = 1;
        memcpy(hello.u.hello.origin, lane->origin, 32);
    }
    /* The first reply says whether the peer is there at all: wait for it briefly, so that an
     * unreachable hub costs a relay's satellites seconds, not the whole session's timeout. */
    struct timespec deadline = s->deadline, contact;
    clock_gettime(CLOCK_MONOTONIC, &contact);
    contact.tv_sec += s->contact_seconds;
    if (contact.tv_sec < s->deadline.tv_sec)
        s->deadline = contact;
    err = s_staff_ask(s, lane);
    if (err == XS_OK)
        err = s_send(s, &hello);
    if (err == XS_OK)
        err = s_staff_take(s, lane);
    if (err == XS_OK)
        err = s_recv(s, XS_MSG_VIEW, &view);
    s->deadline = deadline;
    if (err != XS_OK)
        return err;
    s->res->round_trips++;
    uint64_t receipts_gen = view.u.view.receipts_gen, window = view.u.view.window;
    uint64_t confirmed = view.u.view.confirmed_through;
    if (!lane->origin) {
        s->res->head_seq = head;
        s->res->have_through = view.u.view.have_through;
        s->res->confirmed_through = confirmed;
        s->res->fork_noted = view.u.view.fork_seq;
        if (view.u.view.rotations.ptr &&
            (err = s_take_rotations(s, &view.u.view.rotations)) != XS_OK)
            return err;
        if (view.u.view.policy.ptr && (err = s_take_policy(s, &view.u.view.policy)) != XS_OK)
            return err;
        /* The peer holds seqs this node never sealed: it was restored from an old copy. */
        if (view.u.view.held_max > head && !s->adopted && (err = s_adopt(s)) != XS_OK)
            return err;
        /* The chain now continues the hub's: a restore's mark has done its work. */
        err = xs_store_update(s->node->store, s_unmark_restored, NULL);
        if (err != XS_OK && err != XS_EEXIST)
            return err;
    }
    s_unsealed_t unsealed;
    if ((err = s_collect(s, lane, &view.u.view, &unsealed)) != XS_OK)
        return err;
    xs_err pushed_err = XS_OK;
    if (s->nout || unsealed.any) {
        pushed_err = s_push(s, lane, (uint32_t)window, &unsealed, pushed, &acked);
        /* What the peer holds, also when the link cut the push short. */
        if (!lane->origin && acked > s->res->have_through)
            s->res->have_through = acked;
        if (pushed_err != XS_OK && pushed_err != XS_EFORK)
            return pushed_err;
        /* Acknowledged by the hub itself (not held by a relay): confirmed. */
        if (!lane->origin && pushed->relayed == 0 && acked > s->res->confirmed_through)
            s->res->confirmed_through = acked;
    }
    /* What the hub has confirmed, as far as this peer knows: export leaves out only that. Only
     * this node's own batches count, the ones the peer acknowledged byte for byte: a VIEW of a
     * node restored from an old copy covers seqs another copy sealed. */
    if (!lane->origin) {
        uint64_t own = 0;
        xs_txn_t *rtxn = NULL;
        if ((err = xs_store_read(s->node->store, &rtxn)) == XS_OK)
            err = node_lane_get(rtxn, lane, NODE_LANE_ACKED, &own);
        xs_store_end(&rtxn);
        if (err == XS_OK && s->res->confirmed_through > own)
            s->res->confirmed_through = own;
        if (err != XS_OK ||
            (err = s_raise(s->node, lane, NODE_LANE_CONFIRMED, s->res->confirmed_through)) != XS_OK)
            return err;
    }
    /* Receipts changed if anything new was merged, or the peer has newer ones. */
    if (pushed->acked || receipts_gen != have)
        err = s_fetch(s, lane, have, receipts);
    return err != XS_OK ? err : pushed_err;
}

/* Roster (protocol.md §8): the satellites the hub lets this relay admit. The roster parts of
 * satellites no longer in it go (protocol.md §10): their teachers are not this school's to
 * keep. */
typedef struct s_roster_take {
    xs_proto_blob_t env;
    const uint8_t *self;
    uint8_t (*satellites)[XS_SIGN_PK_BYTES];
    uint32_t count;
} s_roster_take_t;

static xs_err s_put_roster(xs_txn_t *txn, void *ctx) {
    const s_roster_take_t *r = ctx;
    xs_err err = node_meta_put(txn, NODE_META_ROSTER, r->env.ptr, r->env.len);
    if (err == XS_OK)
        err = node_staff_prune(txn, r->self, (const uint8_t(*)[XS_SIGN_PK_BYTES])r->satellites,
                               r->count, NULL);
    return err;
}

/* A relay's uplink: a fresh roster, then each satellite's lane. */
static xs_err s_relay(s_session_t *s, const xs_identity_t *id) {
    xs_msg_t ask, roster;
    uint32_t count = 0;
    memset(&ask, 0, sizeof ask);
    ask.type = XS_MSG_SATELLITES;
    xs_roster_entry_t *entries = malloc(XS_ROSTER_MAX * sizeof *entries);
    xs_err err = entries ? s_send(s, &ask) : XS_ENOMEM;
    if (err == XS_OK)
        err = s_recv(s, XS_MSG_ROSTER, &roster);
    if (err == XS_OK)
        err =
            xs_roster_open(roster.u.roster.envelope.ptr, roster.u.roster.envelope.len, s->hub_sign,
                           xs_identity_public(id)->sign, entries, XS_ROSTER_MAX, &count, NULL);
    s_roster_take_t take = {{NULL, 0}, xs_identity_public(id)->sign, NULL, count};
    if (err == XS_OK)
        take.env = roster.u.roster.envelope;
    if (err == XS_OK && count && !(take.satellites = malloc(count * sizeof *take.satellites)))
        err = XS_ENOMEM;
    for (uint32_t i = 0; err == XS_OK && i < count; i++)
        memcpy(take.satellites[i], entries[i].origin, XS_SIGN_PK_BYTES);
    if (err == XS_OK)
        err = xs_store_update(s->node->store, s_put_roster, &take);
    free(take.satellites);
    for (uint32_t i = 0; err == XS_OK && i < count; i++) {
        node_lane_t lane = node_lane_satellite(entries[i].origin);
        s_pushed_t pushed;
        uint64_t receipts = 0;
        err = s_lane(s, &lane, &pushed, &receipts);
        if (err == XS_EFORK)
            err = XS_OK; /* the satellite's own sync reports its fork; the relay goes on */
        s->res->relayed_batches += pushed.batches;
        s->res->relayed_records += pushed.records;
        s->res->relayed_acked += pushed.acked;
        s->res->receipts += receipts;
    }
    s->res->satellites = count;
    free(entries);
    return err;
}

/* Notes the end of a session that left the hub holding everything (meta last_sync). */
static xs_err s_put_last_sync(xs_txn_t *txn, void *ctx) {
    return node_meta_put_u64(txn, NODE_META_LAST_SYNC, *(const uint64_t *)ctx);
}

/* Reads the peer's address and keys. */
static xs_err s_load(s_session_t *s, int *relay) {
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err != XS_OK)
        return err;
    err = node_meta_get(txn, NODE_META_HUB, &v);
    if (err == XS_OK && v.len < sizeof s->endpoint) {
        memcpy(s->endpoint, v.ptr, v.len);
        s->endpoint[v.len] = '\0';
        err = node_meta_get(txn, NODE_META_HUB_KEYS, &v);
    }
    if (err == XS_OK && v.len == 64) {
        memcpy(s->peer_box, (const uint8_t *)v.ptr + 32, 32);
    } else if (err == XS_OK) {
        err = XS_ECORRUPT;
    }
    if (err == XS_ENOTFOUND)
        xs_log(
            "节点未设置县级中心，请用 xueshi-node init --hub --hub-key 设置 (no hub configured)");
    /* Through a relay, the relay's keys carry the connection; the county's signs. */
    if (err == XS_OK)
        err = node_county_key(txn, s->hub_sign);
    *relay = err == XS_OK && node_meta_get(txn, NODE_META_RELAY, &v) == XS_OK;
    xs_store_end(&txn);
    return err;
}

xs_err node_sync(node_t *node, int timeout_ms, node_sync_result_t *res) {
    s_session_t s;
    xs_identity_t *id = NULL;
    int relay = 0;
    memset(&s, 0, sizeof s);
    memset(res, 0, sizeof *res);
    s.node = node;
    s.res = res;
    clock_gettime(CLOCK_MONOTONIC, &s.deadline);
    s.deadline.tv_sec += timeout_ms / 1000;
    s.deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (s.deadline.tv_nsec >= 1000000000) {
        s.deadline.tv_sec++;
        s.deadline.tv_nsec -= 1000000000;
    }
    xs_writer_init(&s.frame, XS_PROTO_FRAME_MAX);
    xs_err err = (s.scratch = malloc(sizeof *s.scratch)) ? XS_OK : XS_ENOMEM;
    if (err == XS_OK && (err = xs_identity_load(&id, node->dir, "node")) != XS_OK)
        xs_log_err(err, "节点密钥 %s/node.secret (node key)", node->dir);
    if (err != XS_OK || (err = s_load(&s, &relay)) != XS_OK)
        goto out;
    s.contact_seconds = relay ? S_RELAY_CONTACT_SECONDS : S_CONTACT_SECONDS;
    s.id = id; /* records are sealed in the session, as the link takes them (s_push) */
    s.link.opened_at = s_now();
    const xs_pubkeys_t *pub = xs_identity_public(id);
    if ((err = xs_client_open(&s.client, s.endpoint, s.peer_box, pub->box,
                              xs_identity_box_secret(id))) != XS_OK) {
        xs_log_err(err, "无法连接 %s (cannot connect)", s.endpoint);
        goto out;
    }
    s_pushed_t pushed;
    node_lane_t self = node_lane_self();
    err = s_lane(&s, &self, &pushed, &res->receipts);
    if (err == XS_EFORK && !s.adopted) {
        /* The hub holds other batches at these seqs: adopt its chain, then send again. */
        if ((err = s_adopt(&s)) == XS_OK)
            err = s_lane(&s, &self, &pushed, &res->receipts);
        if (err == XS_OK)
            res->fork_resolved = 1;
    }
    res->sent_batches = pushed.batches;
    res->sent_records = pushed.records;
    res->acked_batches = pushed.acked;
    res->relay_held = pushed.relayed;
    res->rejected = pushed.rejected;
    if (pushed.fork_seq)
        res->fork_seq = pushed.fork_seq;
    if ((err == XS_OK || err == XS_EFORK) && relay) {
        xs_err relayed = s_relay(&s, id);
        if (err == XS_OK)
            err = relayed;
    }
    if (err == XS_EFORK || (err == XS_OK && res->fork_seq))
        xs_log("分叉 (fork): 本节点自序号 %llu 起的数据与县级中心已有的不同，可能是从旧备份恢复"
               "后又登记了新记录；县里已隔离这些批次，请联系县级管理员 (this node's batches from "
               "seq %llu differ from what the hub holds, as after restoring an old copy; the hub "
               "quarantined them)",
               (unsigned long long)res->fork_seq, (unsigned long long)res->fork_seq);
    else if (res->fork_noted)
        xs_log("注意 (note): 县里记录到本节点序号 %llu 起有另一份不同的数据（另一台机器用了本节点的"
               "备份？），已隔离；本机的数据正常 (the hub holds a quarantined fork of this node "
               "from seq %llu, made by another copy of it; this copy's data is the accepted one)",
               (unsigned long long)res->fork_noted, (unsigned long long)res->fork_noted);
    if (err == XS_OK && res->fork_seq)
        err = XS_EFORK;
    if (err == XS_OK) {
        /* The 同步 page shows when the hub last held everything; the session stands without it. */
        uint64_t now = (uint64_t)time(NULL);
        xs_err noted = xs_store_update(node->store, s_put_last_sync, &now);
        if (noted != XS_OK)
            xs_log_err(noted, "记录同步时间 (noting the sync time)");
    }
out:
    s_drop_out(&s);
    free(s.out);
    free(s.scratch);
    xs_client_close(&s.client);
    xs_writer_free(&s.frame);
    xs_identity_destroy(&id);
    return err;
}

xs_err node_sync_status(node_t *node, node_sync_status_t *out) {
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    node_lane_t self = node_lane_self();
    uint64_t next = 1;
    memset(out, 0, sizeof *out);
    xs_err err = xs_store_read(node->store, &txn);
    if (err != XS_OK)
        return err;
    err = node_meta_get(txn, NODE_META_HUB, &v);
    if (err == XS_OK) {
        size_t len = v.len < sizeof out->endpoint ? v.len : sizeof out->endpoint - 1;
        memcpy(out->endpoint, v.ptr, len);
        out->endpoint[len] = '\0';
        out->has_hub = 1;
    }
    if (err == XS_OK || err == XS_ENOTFOUND)
        err = node_meta_get(txn, NODE_META_COUNTY_KEY, &v);
    out->through_relay = err == XS_OK;
    if (err == XS_OK || err == XS_ENOTFOUND)
        err = node_meta_get(txn, NODE_META_RELAY, &v);
    out->is_relay = err == XS_OK;
    if (err == XS_OK || err == XS_ENOTFOUND)
        err = node_meta_get_u64(txn, NODE_META_LAST_SYNC, &out->last_sync);
    if (err == XS_OK)
        err = node_meta_get_u64(txn, NODE_META_LINK_RATE, &out->link_rate);
    if (err == XS_OK)
        err = node_meta_get_u64(txn, NODE_META_SEALED_THROUGH, &out->sealed_through);
    if (err == XS_OK)
        err = node_lane_get(txn, &self, NODE_LANE_ACKED, &out->acked_through);
    if (err == XS_OK)
        err = node_lane_get(txn, &self, NODE_LANE_CONFIRMED, &out->confirmed_through);
    if (err == XS_OK)
        err = node_next_seq(txn, &next);
    xs_store_end(&txn);
    if (err != XS_OK)
        return err;
    out->records = next - 1;
    out->unsealed = out->records > out->sealed_through ? out->records - out->sealed_through : 0;
    out->waiting = out->records > out->acked_through ? out->records - out->acked_through : 0;
    if (out->through_relay && out->acked_through > out->confirmed_through)
        out->held_at_relay = out->acked_through - out->confirmed_through;
    return XS_OK;
}
