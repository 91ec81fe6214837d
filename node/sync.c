/* sync: sealing records into signed batches, and one session with the hub (protocol.md §5). */
#include "sync.h"

#include "lanes.h"
#include "recover.h"
#include "seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs/batch.h"
#include "xs/bundle.h"
#include "xs/chain.h"
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
    int sent, acked;
} s_out_t;

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
    const xs_identity_t *id; /* this node's keys */
    int adopted;             /* 1 once this session adopted the hub's chain */
} s_session_t;

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
            xs_log("%s 不接受本节点的握手：本节点所记的对方公钥 (init --hub-key) 很可能不对 (%s "
                   "breaks off every handshake: the hub key this node holds is likely wrong)",
                   s->endpoint, s->endpoint);
            return XS_ECRYPTO;
        }
        if (err == XS_ETIMEOUT && handshake != XS_OK) {
            xs_log("与 %s 的握手一直未能完成：线路中断或对方暂时出错，稍后再试 (the handshake "
                   "with %s keeps breaking off: a bad link, or the hub failing for now; try "
                   "again later)",
                   s->endpoint, s->endpoint);
            return XS_ETIMEOUT;
        }
        if (err == XS_ETIMEOUT) {
            xs_log("无法连接县级中心或对方无应答 (%s is unreachable or silent)", s->endpoint);
            return err;
        }
        if (err == XS_EREFUSED) {
            xs_log("对方拒绝了本节点：未登记或已吊销 (refused this node: not enrolled, or "
                   "revoked)");
            return err;
        }
        if (err != XS_OK) {
            xs_log_err(err, "接收失败 (receive failed)");
            return err;
        }
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
        if (msg->type == want)
            return XS_OK;
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

static xs_err s_take_policy(s_session_t *s, const xs_proto_blob_t *env) {
    s_policy_take_t take = {NULL, env->ptr, 0, env->len};
    xs_policy_t *policy = NULL;
    xs_err err =
        xs_receipt_policy_open(env->ptr, env->len, s->hub_sign, &take.blob, &take.blob_len);
    if (err == XS_OK)
        err = xs_policy_decode(&policy, take.blob, take.blob_len);
    if (err != XS_OK) {
        xs_log_err(err, "县级中心发来的认定规则无效，未采用 (the hub's policy was not accepted)");
        return err;
    }
    err = xs_store_update(s->node->store, s_put_policy, &take);
    if (err == XS_OK) {
        s->res->policy_updated = 1;
        printf("认定规则已更新 (policy updated): %s 第 %u 版\n", policy->id, policy->version);
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

/* Keeps a copy of one batch the peer may need. */
typedef struct s_collecting {
    s_session_t *s;
    const xs_msg_view_t *view;
    uint64_t acked;
} s_collecting_t;

static xs_err s_collect_one(void *ctx, const node_lane_batch_t *b) {
    s_collecting_t *c = ctx;
    s_session_t *s = c->s;
    if (b->last <= c->acked && !s_peer_lacks(c->view, b->first, b->last))
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

/* Collects the lane's batches to send: those the peer lacks, and those it never
 * acknowledged (after a restore from an old copy they differ from what the hub holds: a fork
 * the hub must see). Both lie after min(acked, have_through). */
static xs_err s_collect(s_session_t *s, const node_lane_t *lane, const xs_msg_view_t *view) {
    xs_txn_t *txn = NULL;
    s_collecting_t c = {s, view, 0};
    s_drop_out(s);
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err == XS_OK)
        err = node_lane_get(txn, lane, NODE_LANE_ACKED, &c.acked);
    uint64_t after = c.acked < view->have_through ? c.acked : view->have_through;
    if (err == XS_OK)
        err = node_lane_batches(txn, lane, after, s_collect_one, &c);
    xs_store_end(&txn);
    return err;
}

/* Remembers how far the peer has acknowledged the lane, so no later session resends it. */
typedef struct s_acked {
    const node_lane_t *lane;
    uint64_t through;
} s_acked_t;

static xs_err s_put_acked(xs_txn_t *txn, void *ctx) {
    const s_acked_t *a = ctx;
    return node_lane_put(txn, a->lane, NODE_LANE_ACKED, a->through);
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
        s_acked_t a = {lane, *through};
        err = xs_store_update(s->node->store, s_put_acked, &a);
    }
    return err;
}

/* What pushing one lane's batches gave. */
typedef struct s_pushed {
    uint64_t batches, records, acked, relayed, rejected, fork_seq;
} s_pushed_t;

/* Sends the collected batches under the window and takes their ACKs. */
static xs_err s_push(s_session_t *s, const node_lane_t *lane, uint32_t window, s_pushed_t *p,
                     uint64_t *acked_through) {
    size_t next = 0, in_flight = 0, done = 0;
    xs_err err = XS_OK, verdict = XS_OK;
    memset(p, 0, sizeof *p);
    /* Whatever the peer offers, stay below what the transport queues for one peer. */
    if (window == 0)
        window = 1;
    if (window > XS_TRANSPORT_QUEUE - 8)
        window = XS_TRANSPORT_QUEUE - 8;
    while (done < s->nout) {
        while (in_flight < window && next < s->nout) {
            xs_msg_t msg;
            memset(&msg, 0, sizeof msg);
            msg.type = XS_MSG_BATCH;
            msg.u.batch.envelope = (xs_proto_blob_t){s->out[next].envelope, s->out[next].len};
            if ((err = s_send(s, &msg)) != XS_OK)
                return err;
            s->out[next].sent = 1;
            p->batches++;
            p->records += s->out[next].last - s->out[next].first + 1;
            next++;
            in_flight++;
        }
        xs_msg_t ack;
        if ((err = s_recv(s, XS_MSG_ACK, &ack)) != XS_OK)
            break;
        size_t i = 0;
        while (i < s->nout &&
               !(s->out[i].sent && !s->out[i].acked && s->out[i].first == ack.u.ack.first_seq))
            i++;
        if (i == s->nout)
            continue; /* an ACK of an earlier session's batch */
        in_flight--;
        done++;
        switch (ack.u.ack.status) {
        case XS_ACK_RELAYED: /* the relay holds it durably: it need not be sent again */
        case XS_ACK_ACCEPTED:
        case XS_ACK_HELD:
            p->relayed += ack.u.ack.status == XS_ACK_RELAYED;
            s->out[i].acked = 1;
            p->acked++;
            p->rejected += ack.u.ack.rejected_count;
            if (ack.u.ack.rejected_count)
                printf("县级中心拒收 %u 条记录 (records rejected), 批次 %llu 起: 学校不在本节点登记"
                       "范围 (school outside this node's enrollment)\n",
                       ack.u.ack.rejected_count, (unsigned long long)ack.u.ack.first_seq);
            break;
        case XS_ACK_FORK:
            if (!p->fork_seq || ack.u.ack.first_seq < p->fork_seq)
                p->fork_seq = ack.u.ack.first_seq;
            verdict = XS_EFORK;
            break;
        default:
            xs_log("对方拒绝批次 %llu (the batch was refused): %s",
                   (unsigned long long)ack.u.ack.first_seq, xs_proto_code_message(ack.u.ack.error));
            if (verdict == XS_OK)
                verdict = xs_proto_code_to_err(ack.u.ack.error);
            break;
        }
    }
    xs_err saved = s_save_acked(s, lane, acked_through);
    if (err == XS_OK)
        err = saved;
    return err != XS_OK ? err : verdict;
}

/* Stores one page of receipts, each verified against the county hub's key first. */
typedef struct s_receipts {
    s_session_t *s;
    const node_lane_t *lane;
    const xs_proto_list_t *list;
    uint64_t stored;      /* out */
    uint64_t generation;  /* the page's generation, stored when complete */
    int complete;         /* the last page: store the generation */
    char last[XS_ID_MAX]; /* out: the page's last teacher */
    size_t last_len;
} s_receipts_t;

static xs_err s_store_receipts(xs_txn_t *txn, void *ctx) {
    s_receipts_t *r = ctx;
    xs_proto_iter_t it;
    xs_proto_blob_t env;
    r->stored = 0;
    r->last_len = 0;
    xs_proto_iter_init(&it, r->list);
    while (xs_proto_next_receipt(&it, &env)) {
        xs_receipt_t *rc = r->s->scratch;
        xs_err err = xs_receipt_open(env.ptr, env.len, r->s->hub_sign, rc);
        if (err != XS_OK) {
            xs_log_err(err, "认定回执签名无效，已丢弃 (a receipt failed its check; dropped)");
            continue;
        }
        memcpy(r->last, rc->teacher_id.ptr, rc->teacher_id.len);
        r->last_len = rc->teacher_id.len;
        if ((err = node_lane_receipt_put(txn, r->lane, rc->teacher_id.ptr, rc->teacher_id.len,
                                         env.ptr, env.len)) != XS_OK)
            return err;
        r->stored++;
    }
    return r->complete ? node_lane_put(txn, r->lane, NODE_LANE_RECEIPTS_GEN, r->generation) : XS_OK;
}

static xs_err s_fetch(s_session_t *s, const node_lane_t *lane, uint64_t have, uint64_t *stored) {
    char after[XS_ID_MAX];
    size_t after_len = 0;
    int more = 1;
    xs_err err = XS_OK;
    while (more && err == XS_OK) {
        xs_msg_t msg, page;
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
        s_receipts_t r = {
            s, lane, &page.u.receipts.receipt_list, 0, page.u.receipts.generation, !more, {0}, 0};
        err = xs_store_update(s->node->store, s_store_receipts, &r);
        *stored += r.stored;
        if (more && r.last_len == 0)
            break; /* nothing to continue from: take the rest next session */
        after_len = r.last_len;
        memcpy(after, r.last, after_len);
    }
    return err;
}

/* Adopts the hub's copy of this node's chain after what the hub confirmed (protocol.md §9):
 * PULL it page by page, verify every envelope against this node's key, rebuild in one write
 * step, then seal the node's own records that follow the hub's head. */
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
    printf("已采用县级中心的记录链 (adopted the hub's chain): 序号 %llu–%llu 共 %llu 条；本机另有 "
           "%llu 条新记录排在其后重新封装 (renumbered after it)，%llu 条县里已有 (already held)\n",
           (unsigned long long)r.from, (unsigned long long)r.head, (unsigned long long)r.records,
           (unsigned long long)r.appended, (unsigned long long)r.same);
    fflush(stdout);
    uint64_t sealed;
    return node_seal(s->node, s->id, NULL, &sealed, NULL);
}

/* One lane: HELLO, VIEW, the batches the peer lacks, their ACKs, then new receipts. */
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
    err = s_send(s, &hello);
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
        if (view.u.view.policy.ptr && (err = s_take_policy(s, &view.u.view.policy)) != XS_OK)
            return err;
        /* The peer holds seqs this node never sealed: it was restored from an old copy. */
        if (view.u.view.held_max > head && !s->adopted && (err = s_adopt(s)) != XS_OK)
            return err;
    }
    if ((err = s_collect(s, lane, &view.u.view)) != XS_OK)
        return err;
    xs_err pushed_err = XS_OK;
    if (s->nout) {
        pushed_err = s_push(s, lane, (uint32_t)window, pushed, &acked);
        if (pushed_err != XS_OK && pushed_err != XS_EFORK)
            return pushed_err;
        if (!lane->origin && acked > s->res->have_through)
            s->res->have_through = acked;
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

/* Roster (protocol.md §8): the satellites the hub lets this relay admit. */
static xs_err s_put_roster(xs_txn_t *txn, void *ctx) {
    const xs_proto_blob_t *env = ctx;
    return node_meta_put(txn, NODE_META_ROSTER, env->ptr, env->len);
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
    if (err == XS_OK)
        err = xs_store_update(s->node->store, s_put_roster, &roster.u.roster.envelope);
    for (uint32_t i = 0; err == XS_OK && i < count; i++) {
        node_lane_t lane = node_lane_satellite(entries[i].origin);
        s_pushed_t pushed;
        uint64_t receipts = 0;
        err = s_lane(s, &lane, &pushed, &receipts);
        if (err == XS_EFORK)
            err = XS_OK; /* the satellite's own sync reports its fork; the relay goes on */
        s->res->relayed_batches += pushed.batches;
        s->res->relayed_records += pushed.records;
        s->res->receipts += receipts;
    }
    s->res->satellites = count;
    free(entries);
    return err;
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
    if (err != XS_OK || (err = node_seal(node, id, NULL, &res->sealed_batches, NULL)) != XS_OK ||
        (err = s_load(&s, &relay)) != XS_OK)
        goto out;
    s.contact_seconds = relay ? S_RELAY_CONTACT_SECONDS : S_CONTACT_SECONDS;
    const xs_pubkeys_t *pub = xs_identity_public(id);
    if ((err = xs_client_open(&s.client, s.endpoint, s.peer_box, pub->box,
                              xs_identity_box_secret(id))) != XS_OK) {
        xs_log_err(err, "无法连接 %s (cannot connect)", s.endpoint);
        goto out;
    }
    s_pushed_t pushed;
    node_lane_t self = node_lane_self();
    s.id = id;
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
out:
    s_drop_out(&s);
    free(s.out);
    free(s.scratch);
    xs_client_close(&s.client);
    xs_writer_free(&s.frame);
    xs_identity_destroy(&id);
    return err;
}
