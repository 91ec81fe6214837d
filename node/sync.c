/* sync: sealing records into signed batches, and one session with the hub (protocol.md §5). */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs/batch.h"
#include "xs/proto.h"
#include "xs/receipt.h"
#include "xs/transport.h"

/* ---- small store helpers ---- */

static xs_err s_get_u64(xs_txn_t *txn, const char *name, uint64_t *out) {
    xs_bytes_t v;
    *out = 0;
    xs_err err = xs_store_get(txn, NODE_T_META, name, strlen(name), &v);
    if (err == XS_ENOTFOUND)
        return XS_OK;
    if (err == XS_OK && v.len != 8)
        return XS_ECORRUPT;
    if (err == XS_OK)
        *out = xs_store_key_u64(v.ptr);
    return err;
}

static xs_err s_put_u64(xs_txn_t *txn, const char *name, uint64_t value) {
    uint8_t v[8];
    xs_store_u64_key(value, v);
    return xs_store_put(txn, NODE_T_META, name, strlen(name), v, 8, 0);
}

/* The hash of the node's compiled policy, when it has one. */
static xs_err s_policy_hash(xs_txn_t *txn, uint8_t hash[32], int *has) {
    xs_bytes_t blob;
    xs_err err = xs_store_get(txn, NODE_T_META, "policy", 6, &blob);
    *has = err == XS_OK;
    if (err == XS_OK)
        xs_identity_hash(blob.ptr, blob.len, hash);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* ---- sealing ---- */

typedef struct s_seal {
    const xs_identity_t *id;
    int64_t now;
    xs_batch_slice_t *slices; /* XS_BATCH_SEAL_RECORDS */
    xs_writer_t envelope;
    uint64_t sealed; /* out: batches sealed */
} s_seal_t;

/* Seals slices[0..count) starting at first, stores the envelope, advances the chain. */
static xs_err s_seal_one(s_seal_t *s, xs_txn_t *txn, uint64_t first, uint32_t count,
                         uint8_t prev[32], const uint8_t *policy) {
    uint8_t hash[32], key[8];
    xs_writer_reset(&s->envelope);
    xs_err err = xs_batch_seal(&s->envelope, s->id, first, first == 1 ? NULL : prev, policy,
                               s->now, s->slices, count, hash);
    xs_store_u64_key(first, key);
    if (err == XS_OK)
        err = xs_store_put(txn, NODE_T_BATCHES, key, 8, s->envelope.data, s->envelope.len,
                           XS_PUT_APPEND);
    if (err == XS_OK) {
        memcpy(prev, hash, 32);
        s->sealed++;
    }
    return err;
}

static xs_err s_seal_step(xs_txn_t *txn, void *ctx) {
    s_seal_t *s = ctx;
    uint64_t through;
    uint8_t prev[32] = {0}, policy[32], key[8];
    int has_policy;
    xs_bytes_t k, v;
    xs_cursor_t *cur = NULL;
    s->sealed = 0;
    xs_err err = s_get_u64(txn, "sealed_through", &through);
    if (err == XS_OK && through > 0) {
        err = xs_store_get(txn, NODE_T_META, "head_hash", 9, &v);
        if (err == XS_OK && v.len != 32)
            err = XS_ECORRUPT;
        if (err == XS_OK)
            memcpy(prev, v.ptr, 32);
    }
    if (err == XS_OK)
        err = s_policy_hash(txn, policy, &has_policy);
    if (err == XS_OK)
        err = xs_store_cursor_open(txn, NODE_T_RECORDS, &cur);
    if (err != XS_OK)
        return err;
    uint64_t first = through + 1, last = through;
    uint32_t count = 0;
    size_t bytes = 0;
    xs_store_u64_key(first, key);
    for (err = xs_store_cursor_seek(cur, key, 8, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        uint64_t seq = xs_store_key_u64(k.ptr);
        if (seq != last + 1) {
            err = XS_ECORRUPT; /* records are numbered without holes */
            break;
        }
        if (count == XS_BATCH_SEAL_RECORDS || (count > 0 && bytes + v.len > XS_BATCH_SEAL_BYTES)) {
            if ((err = s_seal_one(s, txn, first, count, prev, has_policy ? policy : NULL)) !=
                XS_OK)
                break;
            first += count;
            count = 0;
            bytes = 0;
        }
        s->slices[count++] = (xs_batch_slice_t){v.ptr, v.len};
        bytes += v.len;
        last = seq;
    }
    xs_store_cursor_close(&cur);
    if (err != XS_ENOTFOUND)
        return err;
    if (count == 0)
        return XS_OK;
    if ((err = s_seal_one(s, txn, first, count, prev, has_policy ? policy : NULL)) != XS_OK ||
        (err = s_put_u64(txn, "sealed_through", last)) != XS_OK)
        return err;
    return xs_store_put(txn, NODE_T_META, "head_hash", 9, prev, 32, 0);
}

xs_err node_seal(node_t *node, const xs_identity_t *id, uint64_t *sealed) {
    s_seal_t s;
    memset(&s, 0, sizeof s);
    s.id = id;
    s.now = (int64_t)time(NULL);
    *sealed = 0;
    if (!(s.slices = malloc(XS_BATCH_SEAL_RECORDS * sizeof *s.slices)))
        return XS_ENOMEM;
    xs_writer_init(&s.envelope, XS_BATCH_MAX_BYTES);
    xs_err err = xs_store_update(node->store, s_seal_step, &s);
    if (err == XS_OK)
        *sealed = s.sealed;
    else
        xs_log_err(err, "封装批次失败 (sealing batches failed)");
    xs_writer_free(&s.envelope);
    free(s.slices);
    return err;
}

/* ---- the session ---- */

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
    uint8_t hub_sign[32], hub_box[32];
    char endpoint[260];
    struct timespec deadline;
    xs_writer_t frame;
    s_out_t *out;
    size_t nout, out_cap;
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
 * message borrows the client's buffer until the next receive. */
static xs_err s_recv(s_session_t *s, xs_msg_type want, xs_msg_t *msg) {
    for (;;) {
        const uint8_t *bytes;
        size_t len;
        int left = s_ms_left(&s->deadline);
        xs_err err = left ? xs_client_recv(s->client, left, &bytes, &len) : XS_ETIMEOUT;
        if (err == XS_ETIMEOUT && s_ms_left(&s->deadline) > 0)
            continue; /* a signal woke the wait early */
        if (err == XS_ETIMEOUT) {
            xs_log("无法连接县级中心或对方无应答 (the hub at %s is unreachable or silent)",
                   s->endpoint);
            return err;
        }
        if (err == XS_EREFUSED) {
            xs_log("县级中心拒绝了本节点：未登记或已吊销 (the hub refused this node: not enrolled, "
                   "or revoked)");
            return err;
        }
        if (err != XS_OK) {
            xs_log_err(err, "与 %s 握手失败，县级中心公钥是否正确？(handshake failed: is the hub "
                            "key right?)",
                       s->endpoint);
            return err;
        }
        if (xs_proto_decode(bytes, len, msg) != XS_OK) {
            xs_log("收到无法解析的消息，已忽略 (ignored a malformed message)");
            continue;
        }
        if (msg->type == XS_MSG_ERROR) {
            xs_log("县级中心报告错误 (the hub reports): %.*s", (int)msg->u.error.message.len,
                   msg->u.error.message.ptr);
            return xs_proto_code_to_err(msg->u.error.code);
        }
        if (msg->type == want)
            return XS_OK;
        /* A stray reply of an earlier, interrupted exchange: skip it. */
    }
}

/* Stores a newer policy the hub signed. */
struct s_blob {
    const uint8_t *ptr;
    size_t len;
};

static xs_err s_put_policy(xs_txn_t *txn, void *ctx) {
    const struct s_blob *b = ctx;
    return xs_store_put(txn, NODE_T_META, "policy", 6, b->ptr, b->len, 0);
}

static xs_err s_take_policy(s_session_t *s, const xs_proto_blob_t *env) {
    const uint8_t *blob;
    size_t len;
    xs_policy_t *policy = NULL;
    xs_err err = xs_receipt_policy_open(env->ptr, env->len, s->hub_sign, &blob, &len);
    if (err == XS_OK)
        err = xs_policy_decode(&policy, blob, len);
    if (err != XS_OK) {
        xs_log_err(err, "县级中心发来的认定规则无效，未采用 (the hub's policy was not accepted)");
        return err;
    }
    struct s_blob b = {blob, len};
    err = xs_store_update(s->node->store, s_put_policy, &b);
    if (err == XS_OK) {
        s->res->policy_updated = 1;
        printf("认定规则已更新 (policy updated): %s 第 %u 版\n", policy->id, policy->version);
    }
    xs_policy_destroy(&policy);
    return err;
}

/* Does the hub lack any seq of [first, last], by the VIEW? */
static int s_hub_lacks(const xs_msg_view_t *view, uint64_t held_max, uint64_t first,
                       uint64_t last) {
    if (last > held_max)
        return 1;
    xs_proto_iter_t it;
    xs_proto_range_t gap;
    xs_proto_iter_init(&it, &view->gap_list);
    while (xs_proto_next_gap(&it, &gap))
        if (gap.from <= last && gap.to >= first)
            return 1;
    return 0;
}

/* Collects the batches to send: those the hub lacks, and those it never acknowledged to this
 * node (after a restore from an old copy they differ from what the hub holds: a fork the hub
 * must see). */
static xs_err s_collect(s_session_t *s, const xs_msg_view_t *view, uint64_t held_max) {
    xs_txn_t *txn = NULL;
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    uint64_t acked;
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err == XS_OK)
        err = s_get_u64(txn, "acked_through", &acked);
    if (err == XS_OK)
        err = xs_store_cursor_open(txn, NODE_T_BATCHES, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        xs_batch_t b;
        if (k.len != 8 || xs_batch_open(v.ptr, v.len, &b) != XS_OK) {
            err = XS_ECORRUPT;
            break;
        }
        uint64_t last = b.first_seq + b.count - 1;
        if (last <= acked && !s_hub_lacks(view, held_max, b.first_seq, last))
            continue;
        if (s->nout == s->out_cap) {
            size_t cap = s->out_cap ? s->out_cap * 2 : 64;
            s_out_t *grown = realloc(s->out, cap * sizeof *grown);
            if (!grown) {
                err = XS_ENOMEM;
                break;
            }
            s->out = grown;
            s->out_cap = cap;
        }
        s_out_t *o = &s->out[s->nout];
        memset(o, 0, sizeof *o);
        o->first = b.first_seq;
        o->last = last;
        o->len = v.len;
        if (!(o->envelope = malloc(v.len))) {
            err = XS_ENOMEM;
            break;
        }
        memcpy(o->envelope, v.ptr, v.len);
        s->nout++;
    }
    xs_store_cursor_close(&cur);
    xs_store_end(&txn);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* Remembers how far the hub has acknowledged, so a later session need not ask again. */
static xs_err s_put_acked(xs_txn_t *txn, void *ctx) {
    return s_put_u64(txn, "acked_through", *(const uint64_t *)ctx);
}

static xs_err s_save_acked(s_session_t *s) {
    uint64_t through = 0;
    xs_txn_t *txn = NULL;
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err == XS_OK)
        err = s_get_u64(txn, "acked_through", &through);
    xs_store_end(&txn);
    uint64_t old = through;
    for (size_t i = 0; err == XS_OK && i < s->nout; i++) {
        if (s->out[i].first > through + 1)
            break;
        if (!s->out[i].acked)
            break;
        if (s->out[i].last > through)
            through = s->out[i].last;
    }
    if (err == XS_OK && through > old)
        err = xs_store_update(s->node->store, s_put_acked, &through);
    if (err == XS_OK && through > s->res->have_through)
        s->res->have_through = through;
    return err;
}

/* Sends the collected batches under the window and takes their ACKs. */
static xs_err s_push(s_session_t *s, uint32_t window) {
    size_t next = 0, in_flight = 0, done = 0;
    xs_err err = XS_OK, verdict = XS_OK;
    if (window == 0)
        window = 1;
    while (done < s->nout) {
        while (in_flight < window && next < s->nout) {
            xs_msg_t msg;
            memset(&msg, 0, sizeof msg);
            msg.type = XS_MSG_BATCH;
            msg.u.batch.envelope = (xs_proto_blob_t){s->out[next].envelope, s->out[next].len};
            if ((err = s_send(s, &msg)) != XS_OK)
                return err;
            s->out[next].sent = 1;
            s->res->sent_batches++;
            s->res->sent_records += s->out[next].last - s->out[next].first + 1;
            next++;
            in_flight++;
        }
        xs_msg_t ack;
        if ((err = s_recv(s, XS_MSG_ACK, &ack)) != XS_OK)
            break;
        size_t i = 0;
        while (i < s->nout && !(s->out[i].sent && !s->out[i].acked &&
                                s->out[i].first == ack.u.ack.first_seq))
            i++;
        if (i == s->nout)
            continue; /* an ACK of an earlier session's batch */
        in_flight--;
        done++;
        switch (ack.u.ack.status) {
        case XS_ACK_ACCEPTED:
        case XS_ACK_HELD:
            s->out[i].acked = 1;
            s->res->acked_batches++;
            s->res->rejected += ack.u.ack.rejected_count;
            if (ack.u.ack.rejected_count)
                printf("县级中心拒收 %u 条记录 (records rejected), 批次 %llu 起: 学校不在本节点登记"
                       "范围 (school outside this node's enrollment)\n",
                       ack.u.ack.rejected_count, (unsigned long long)ack.u.ack.first_seq);
            break;
        case XS_ACK_FORK:
            if (!s->res->fork_seq || ack.u.ack.first_seq < s->res->fork_seq)
                s->res->fork_seq = ack.u.ack.first_seq;
            verdict = XS_EFORK;
            break;
        default:
            xs_log("县级中心拒绝批次 %llu (the hub refused the batch): %s",
                   (unsigned long long)ack.u.ack.first_seq,
                   xs_proto_code_message(ack.u.ack.error));
            if (verdict == XS_OK)
                verdict = xs_proto_code_to_err(ack.u.ack.error);
            break;
        }
    }
    xs_err saved = s_save_acked(s);
    if (err == XS_OK)
        err = saved;
    return err != XS_OK ? err : verdict;
}

/* Stores one page of receipts, each verified against the enrolled hub's key first. */
typedef struct s_receipts {
    const xs_proto_list_t *list;
    const uint8_t *hub;
    xs_receipt_t *scratch;
    uint64_t stored;        /* out */
    uint64_t generation;    /* the page's generation, stored when complete */
    int complete;           /* the last page: store the generation */
    xs_str_t last_teacher;  /* out: the page's last teacher (borrowed from the frame) */
} s_receipts_t;

static xs_err s_store_receipts(xs_txn_t *txn, void *ctx) {
    s_receipts_t *r = ctx;
    xs_proto_iter_t it;
    xs_proto_blob_t env;
    r->stored = 0;
    xs_proto_iter_init(&it, r->list);
    while (xs_proto_next_receipt(&it, &env)) {
        xs_err err = xs_receipt_open(env.ptr, env.len, r->hub, r->scratch);
        if (err != XS_OK) {
            xs_log_err(err, "认定回执签名无效，已丢弃 (a receipt failed its check; dropped)");
            continue;
        }
        r->last_teacher = r->scratch->teacher_id;
        if ((err = xs_store_put(txn, NODE_T_RECEIPTS, r->scratch->teacher_id.ptr,
                                r->scratch->teacher_id.len, env.ptr, env.len, 0)) != XS_OK)
            return err;
        r->stored++;
    }
    return r->complete ? s_put_u64(txn, "receipts_gen", r->generation) : XS_OK;
}

static xs_err s_fetch(s_session_t *s, uint64_t have) {
    char after[XS_ID_MAX];
    size_t after_len = 0;
    int more = 1;
    xs_err err = XS_OK;
    xs_receipt_t *scratch = malloc(sizeof *scratch);
    if (!scratch)
        return XS_ENOMEM;
    while (more && err == XS_OK) {
        xs_msg_t msg, page;
        memset(&msg, 0, sizeof msg);
        msg.type = XS_MSG_FETCH;
        msg.u.fetch.receipts_have = have;
        if (after_len)
            msg.u.fetch.after = (xs_str_t){after, (uint32_t)after_len};
        if ((err = s_send(s, &msg)) != XS_OK || (err = s_recv(s, XS_MSG_RECEIPTS, &page)) != XS_OK)
            break;
        s->res->round_trips++;
        more = page.u.receipts.more;
        s_receipts_t r = {&page.u.receipts.receipt_list, s->hub_sign, scratch, 0,
                          page.u.receipts.generation, !more, {NULL, 0}};
        err = xs_store_update(s->node->store, s_store_receipts, &r);
        s->res->receipts += r.stored;
        if (more && (r.last_teacher.len == 0 || r.last_teacher.len > sizeof after))
            break; /* nothing to continue from: take the rest next session */
        after_len = r.last_teacher.len;
        memcpy(after, r.last_teacher.ptr, after_len);
    }
    free(scratch);
    return err;
}

/* Reads what the session needs from the store. */
static xs_err s_load(s_session_t *s, uint64_t *receipts_have, uint8_t policy[32],
                     int *has_policy) {
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    xs_err err = xs_store_read(s->node->store, &txn);
    if (err != XS_OK)
        return err;
    err = xs_store_get(txn, NODE_T_META, "hub", 3, &v);
    if (err == XS_OK && v.len < sizeof s->endpoint) {
        memcpy(s->endpoint, v.ptr, v.len);
        s->endpoint[v.len] = '\0';
        err = xs_store_get(txn, NODE_T_META, "hub_keys", 8, &v);
    }
    if (err == XS_OK && v.len == 64) {
        memcpy(s->hub_sign, v.ptr, 32);
        memcpy(s->hub_box, (const uint8_t *)v.ptr + 32, 32);
    } else if (err == XS_OK) {
        err = XS_ECORRUPT;
    }
    if (err == XS_ENOTFOUND)
        xs_log("节点未设置县级中心，请用 xueshi-node init --hub --hub-key 设置 (no hub configured)");
    if (err == XS_OK)
        err = s_get_u64(txn, "receipts_gen", receipts_have);
    if (err == XS_OK)
        err = s_get_u64(txn, "sealed_through", &s->res->head_seq);
    if (err == XS_OK)
        err = s_policy_hash(txn, policy, has_policy);
    xs_store_end(&txn);
    return err;
}

xs_err node_sync(node_t *node, int timeout_ms, node_sync_result_t *res) {
    s_session_t s;
    xs_identity_t *id = NULL;
    uint64_t have;
    uint8_t policy[32];
    int has_policy;
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
    xs_err err = xs_identity_load(&id, node->dir, "node");
    if (err != XS_OK) {
        xs_log_err(err, "节点密钥 %s/node.secret (node key)", node->dir);
        goto out;
    }
    if ((err = node_seal(node, id, &res->sealed_batches)) != XS_OK ||
        (err = s_load(&s, &have, policy, &has_policy)) != XS_OK)
        goto out;
    const xs_pubkeys_t *pub = xs_identity_public(id);
    if ((err = xs_client_open(&s.client, s.endpoint, s.hub_box, pub->box,
                              xs_identity_box_secret(id))) != XS_OK) {
        xs_log_err(err, "无法连接 %s (cannot connect)", s.endpoint);
        goto out;
    }
    xs_msg_t hello, view;
    memset(&hello, 0, sizeof hello);
    hello.type = XS_MSG_HELLO;
    hello.u.hello.head_seq = res->head_seq;
    hello.u.hello.receipts_have = have;
    hello.u.hello.has_policy_hash = has_policy;
    memcpy(hello.u.hello.policy_hash, policy, 32);
    if ((err = s_send(&s, &hello)) != XS_OK || (err = s_recv(&s, XS_MSG_VIEW, &view)) != XS_OK)
        goto out;
    res->round_trips++;
    uint64_t receipts_gen = view.u.view.receipts_gen, held_max = view.u.view.held_max;
    uint32_t window = view.u.view.window;
    res->have_through = view.u.view.have_through;
    if (view.u.view.fork_seq)
        res->fork_seq = view.u.view.fork_seq;
    if (view.u.view.policy.ptr && (err = s_take_policy(&s, &view.u.view.policy)) != XS_OK)
        goto out;
    if ((err = s_collect(&s, &view.u.view, held_max)) != XS_OK)
        goto out;
    if (s.nout && (err = s_push(&s, window)) != XS_OK && err != XS_EFORK)
        goto out;
    xs_err pushed = err;
    /* Receipts changed if anything new was merged, or the hub has newer ones. */
    if (res->acked_batches || receipts_gen != have)
        err = s_fetch(&s, have);
    if (err == XS_OK)
        err = pushed;
    if (err == XS_EFORK || (err == XS_OK && res->fork_seq))
        xs_log("分叉 (fork): 本节点自序号 %llu 起的数据与县级中心已有的不同，可能是从旧备份恢复"
               "后又登记了新记录；县里已隔离这些批次，请联系县级管理员 (this node's batches from "
               "seq %llu differ from what the hub holds, as after restoring an old copy; the hub "
               "quarantined them)",
               (unsigned long long)res->fork_seq, (unsigned long long)res->fork_seq);
    if (err == XS_OK && res->fork_seq)
        err = XS_EFORK;
out:
    for (size_t i = 0; i < s.nout; i++)
        free(s.out[i].envelope);
    free(s.out);
    xs_client_close(&s.client);
    xs_writer_free(&s.frame);
    xs_identity_destroy(&id);
    return err;
}
