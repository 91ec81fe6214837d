/* xueshi-hub run: serve nodes over CURVE-encrypted ZeroMQ until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs/chain.h"
#include "hub.h"
#include "merge.h"
#include "xs/proto.h"
#include "xs/receipt.h"
#include "xs/roster.h"
#include "xs/transport.h"

#define S_USAGE "xueshi-hub run --dir DIR --listen tcp://ADDR:PORT"

/* Group commit: batches queued while the hub was busy merge in one transaction, up to these
 * bounds. */
#define S_GROUP_ITEMS 64
#define S_GROUP_BYTES ((size_t)32 << 20)
/* While batches are queued, how long to wait for the next before merging: a node's window
 * arrives one frame at a time, and every merge re-certifies each teacher it touches, so a
 * group cut short by a frame still in flight costs a whole extra certification pass. */
#define S_GROUP_LINGER_MS 2
/* Batches a node may have unacknowledged (VIEW window): as many as one group commit takes
 * while staying below the transport queue, so a sync merges in few groups. */
#define S_WINDOW 48
/* A page of receipts: RECEIPTS frames stay well under the frame limit. */
#define S_RECEIPTS_PAGE_BYTES ((size_t)512 << 10)

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig) {
    (void)sig;
    s_stop = 1;
}

/* A queued BATCH: its sender's address and a copy of the envelope. */
typedef struct s_queued {
    xs_peer_t peer;
    uint8_t *envelope;
    size_t len;
} s_queued_t;

typedef struct s_server {
    hub_t hub;
    xs_server_t *server;
    s_queued_t queue[S_GROUP_ITEMS];
    size_t queued;
    size_t queued_bytes;
    xs_writer_t out; /* the reply being built */
} s_server_t;

/* ZAP: admits a CURVE key that belongs to an enrolled, unrevoked node. */
static int s_admit(void *ctx, const uint8_t box[32], uint8_t origin[32]) {
    s_server_t *s = ctx;
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    hub_node_t node;
    int admit = 0;
    if (xs_store_read(s->hub.store, &txn) != XS_OK)
        return 0;
    if (xs_store_get(txn, HUB_T_BOXKEYS, box, 32, &v) == XS_OK && v.len == 32 &&
        hub_node_get(txn, v.ptr, &node) == XS_OK && !node.revoked_at) {
        memcpy(origin, node.origin, 32);
        admit = 1;
    }
    xs_store_end(&txn);
    if (!admit) {
        char hex[17];
        xs_hex_encode(box, 8, hex);
        xs_log("拒绝连接 (connection refused): 传输密钥 %s… 未登记或已吊销 (not enrolled or "
               "revoked)",
               hex);
    }
    return admit;
}

static void s_send(s_server_t *s, const xs_peer_t *peer, const uint8_t *bytes, size_t len) {
    xs_err err = xs_server_send(s->server, peer, bytes, len);
    if (err != XS_OK && err != XS_ENOTFOUND)
        xs_log_err(err, "发送失败 (send failed)");
}

static void s_reply(s_server_t *s, const xs_peer_t *peer, const xs_msg_t *msg) {
    xs_writer_reset(&s->out);
    xs_err err = xs_proto_encode(msg, &s->out);
    if (err != XS_OK) {
        xs_log_err(err, "编码回复 (encoding a reply)");
        return;
    }
    s_send(s, peer, s->out.data, s->out.len);
}

static void s_error(s_server_t *s, const xs_peer_t *peer, xs_proto_code code) {
    xs_msg_t msg;
    xs_proto_error(&msg, code);
    s_reply(s, peer, &msg);
}

/* The newest receipt generation among the node's teachers. */
static xs_err s_receipts_gen(xs_txn_t *txn, const uint8_t origin[32], uint64_t *gen) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    *gen = 0;
    xs_err err = xs_store_cursor_open(txn, HUB_T_FOLLOW, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, origin, 32, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len <= 32 || memcmp(k.ptr, origin, 32) != 0)
            break;
        if (v.len == 8 && xs_store_key_u64(v.ptr) > *gen)
            *gen = xs_store_key_u64(v.ptr);
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* The node a HELLO or FETCH asks about: the sender, or a satellite it relays for (§8).
 * Replies ERROR itself and returns 0 when the sender may not ask. */
static int s_target(s_server_t *s, xs_txn_t *txn, const xs_peer_t *peer, int has_origin,
                    const uint8_t origin[32], hub_node_t *target) {
    hub_node_t sender;
    xs_proto_code code = XS_PCODE_INTERNAL;
    xs_err err = hub_node_get(txn, peer->origin, &sender);
    if (err == XS_OK && sender.revoked_at) {
        code = XS_PCODE_REVOKED;
    } else if (err == XS_OK && has_origin) {
        err = hub_relays_for(txn, &sender, origin, target);
        if (err == XS_OK)
            return 1;
        if (err == XS_ENOTFOUND || err == XS_EPERM)
            code = XS_PCODE_WRONG_ORIGIN;
    } else if (err == XS_OK) {
        *target = sender;
        return 1;
    } else if (err == XS_ENOTFOUND) {
        code = XS_PCODE_UNKNOWN;
    }
    if (code == XS_PCODE_INTERNAL)
        xs_log_err(err, "读取节点状态 (reading the node's state)");
    s_error(s, peer, code);
    return 0;
}

static void s_hello(s_server_t *s, const xs_peer_t *peer, const xs_msg_t *hello) {
    xs_txn_t *txn = NULL;
    xs_chain_view_t view;
    hub_node_t node;
    xs_bytes_t policy = {NULL, 0};
    xs_proto_range_t gaps[XS_CHAIN_MAX_GAPS];
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    xs_err err = xs_store_read(s->hub.store, &txn);
    if (err == XS_OK &&
        !s_target(s, txn, peer, hello->u.hello.has_origin, hello->u.hello.origin, &node)) {
        xs_store_end(&txn);
        return;
    }
    if (err == XS_OK)
        err = xs_chain_view(txn, HUB_T_CHAIN, node.origin, &view);
    if (err == XS_OK)
        err = s_receipts_gen(txn, node.origin, &msg.u.view.receipts_gen);
    if (err == XS_OK && !hello->u.hello.has_origin &&
        (!hello->u.hello.has_policy_hash ||
         memcmp(hello->u.hello.policy_hash, s->hub.policy_hash, 32) != 0))
        err = xs_store_get(txn, HUB_T_META, "policy_env", 10, &policy);
    if (err != XS_OK) {
        xs_store_end(&txn);
        xs_log_err(err, "读取节点状态 (reading the node's state)");
        s_error(s, peer, XS_PCODE_INTERNAL);
        return;
    }
    for (size_t i = 0; i < view.gap_count; i++)
        gaps[i] = (xs_proto_range_t){view.gaps[i][0], view.gaps[i][1]};
    msg.type = XS_MSG_VIEW;
    msg.u.view.have_through = view.have_through;
    msg.u.view.held_max = view.held_max;
    msg.u.view.gaps = gaps;
    msg.u.view.gap_count = (uint32_t)view.gap_count;
    msg.u.view.window = S_WINDOW;
    msg.u.view.policy = (xs_proto_blob_t){policy.ptr, policy.len};
    msg.u.view.fork_seq = node.fork_seq;
    msg.u.view.confirmed_through = view.have_through;
    s_reply(s, peer, &msg); /* encoded before the snapshot ends: policy borrows it */
    xs_store_end(&txn);
}

/* A page of the node's receipts newer than it holds, in teacher order after `after`. */
static void s_fetch(s_server_t *s, const xs_peer_t *peer, const xs_msg_t *fetch) {
    xs_txn_t *txn = NULL;
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v, receipt;
    uint8_t key[32 + XS_ID_MAX];
    xs_proto_blob_t *page = NULL;
    uint32_t count = 0;
    size_t bytes = 0;
    int more = 0;
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    size_t klen = 32;
    hub_node_t node;
    xs_err err = (page = malloc(XS_PROTO_RECEIPTS_MAX * sizeof *page)) ? XS_OK : XS_ENOMEM;
    if (err == XS_OK)
        err = xs_store_read(s->hub.store, &txn);
    if (err == XS_OK &&
        !s_target(s, txn, peer, fetch->u.fetch.has_origin, fetch->u.fetch.origin, &node)) {
        xs_store_end(&txn);
        free(page);
        return;
    }
    memcpy(key, node.origin, 32);
    if (fetch->u.fetch.after.ptr) {
        memcpy(key + 32, fetch->u.fetch.after.ptr, fetch->u.fetch.after.len);
        klen += fetch->u.fetch.after.len;
    }
    if (err == XS_OK)
        err = s_receipts_gen(txn, node.origin, &msg.u.receipts.generation);
    if (err == XS_OK)
        err = xs_store_cursor_open(txn, HUB_T_FOLLOW, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, key, klen, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len <= 32 || memcmp(k.ptr, node.origin, 32) != 0)
            break;
        if (k.len == klen && klen > 32 && memcmp(k.ptr, key, klen) == 0)
            continue; /* `after` itself was sent already */
        if (v.len != 8 || xs_store_key_u64(v.ptr) <= fetch->u.fetch.receipts_have)
            continue;
        err = xs_store_get(txn, HUB_T_RECEIPTS, (const uint8_t *)k.ptr + 32, k.len - 32, &receipt);
        if (err == XS_ENOTFOUND)
            continue;
        if (err != XS_OK)
            break;
        if (count == XS_PROTO_RECEIPTS_MAX || bytes + receipt.len > S_RECEIPTS_PAGE_BYTES) {
            more = 1;
            break;
        }
        page[count++] = (xs_proto_blob_t){receipt.ptr, receipt.len};
        bytes += receipt.len;
    }
    if (err == XS_OK || err == XS_ENOTFOUND) {
        msg.type = XS_MSG_RECEIPTS;
        msg.u.receipts.receipts = page;
        msg.u.receipts.receipt_count = count;
        msg.u.receipts.more = more;
        s_reply(s, peer, &msg);
    } else {
        xs_log_err(err, "读取认定回执 (reading receipts)");
        s_error(s, peer, XS_PCODE_INTERNAL);
    }
    xs_store_cursor_close(&cur);
    xs_store_end(&txn);
    free(page);
}

/* The signed roster of a relay: the enrolled, unrevoked nodes of the schools it proxies for
 * (protocol.md §8). */
static void s_roster(s_server_t *s, const xs_peer_t *peer) {
    xs_txn_t *txn = NULL;
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    hub_node_t relay, node;
    uint32_t count = 0;
    xs_writer_t env;
    xs_writer_init(&env, XS_ROSTER_MAX_BYTES);
    xs_roster_entry_t *entries = malloc(XS_ROSTER_MAX * sizeof *entries);
    xs_err err = entries ? xs_store_read(s->hub.store, &txn) : XS_ENOMEM;
    if (err == XS_OK && !s_target(s, txn, peer, 0, NULL, &relay))
        goto out;
    if (err == XS_OK)
        err = xs_store_cursor_open(txn, HUB_T_NODES, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != 32 || hub_relays_for(txn, &relay, k.ptr, &node) != XS_OK)
            continue;
        if (count == XS_ROSTER_MAX)
            break;
        memcpy(entries[count].origin, node.origin, 32);
        memcpy(entries[count].box, node.box, 32);
        memcpy(entries[count].school, node.school, sizeof node.school);
        count++;
    }
    if (err == XS_ENOTFOUND || err == XS_OK)
        err = xs_roster_sign(&env, s->hub.id, relay.origin, (int64_t)time(NULL), entries,
                                     count);
    if (err == XS_OK) {
        xs_msg_t msg;
        memset(&msg, 0, sizeof msg);
        msg.type = XS_MSG_ROSTER;
        msg.u.roster.envelope = (xs_proto_blob_t){env.data, env.len};
        s_reply(s, peer, &msg);
    } else {
        xs_log_err(err, "签发卫星校名单 (signing a roster)");
        s_error(s, peer, XS_PCODE_INTERNAL);
    }
out:
    xs_store_cursor_close(&cur);
    xs_store_end(&txn);
    xs_writer_free(&env);
    free(entries);
}

/* Verifies, merges and acknowledges every queued batch in one transaction. */
static void s_flush(s_server_t *s) {
    hub_item_t items[S_GROUP_ITEMS];
    hub_merge_stats_t st;
    size_t n = s->queued;
    if (n == 0)
        return;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n; i++)
        hub_item_open(&items[i], s->queue[i].envelope, s->queue[i].len, s->queue[i].peer.origin);
    xs_err err = hub_merge(&s->hub, items, n, &st);
    if (err != XS_OK)
        xs_log_err(err, "合并失败，未写入，节点会重发 (merge failed; nothing stored; nodes will "
                        "resend)");
    for (size_t i = 0; i < n; i++) {
        if (items[i].ack.len)
            s_send(s, &s->queue[i].peer, items[i].ack.data, items[i].ack.len);
        hub_item_free(&items[i]);
        free(s->queue[i].envelope);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("合并 (merge): %zu 批: 新 %llu 批 %llu 条 (拒收 %llu)，已有 %llu，分叉 %llu，拒绝 %llu，"
           "回执 %llu 人，%.1f ms\n",
           n, (unsigned long long)st.batches, (unsigned long long)st.records,
           (unsigned long long)st.rejected, (unsigned long long)st.held,
           (unsigned long long)st.forks, (unsigned long long)st.refused,
           (unsigned long long)st.teachers, ms);
    fflush(stdout);
    s->queued = 0;
    s->queued_bytes = 0;
}

/* Handles one frame; BATCH frames queue for the next group commit. ZAP admitted the key at
 * the handshake only, so revocation since then is checked on every message (merge checks it
 * for batches, s_hello and s_fetch here). */
static void s_handle(s_server_t *s, const xs_peer_t *peer, const uint8_t *frame, size_t len) {
    xs_msg_t msg;
    xs_err err = xs_proto_decode(frame, len, &msg);
    if (err != XS_OK) {
        s_error(s, peer, xs_proto_code_from_err(err));
        return;
    }
    if (msg.type == XS_MSG_BATCH) {
        s_queued_t *q = &s->queue[s->queued];
        q->peer = *peer;
        q->len = msg.u.batch.envelope.len;
        if (!(q->envelope = malloc(q->len ? q->len : 1))) {
            s_error(s, peer, XS_PCODE_INTERNAL);
            return;
        }
        memcpy(q->envelope, msg.u.batch.envelope.ptr, q->len);
        s->queued++;
        s->queued_bytes += q->len;
        return;
    }
    /* Anything else is answered after the batches before it are merged. */
    s_flush(s);
    if (msg.type == XS_MSG_HELLO)
        s_hello(s, peer, &msg);
    else if (msg.type == XS_MSG_FETCH)
        s_fetch(s, peer, &msg);
    else if (msg.type == XS_MSG_SATELLITES)
        s_roster(s, peer);
    else
        s_error(s, peer, XS_PCODE_MALFORMED);
}

int hub_cmd_run(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"listen", 1, NULL}, {"help", 0, NULL}};
    const char *pos[1];
    size_t npos;
    static s_server_t s; /* large: the queue */
    int rc = 1;
    if (hub_args(argc, argv, opts, 3, pos, 0, &npos) != XS_OK || opts[2].value || !opts[0].value ||
        !opts[1].value)
        return hub_usage(S_USAGE);
    if (hub_open(&s.hub, opts[0].value, 1) != XS_OK)
        return 1;
    xs_writer_init(&s.out, XS_PROTO_FRAME_MAX);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    const xs_pubkeys_t *pub = xs_identity_public(s.hub.id);
    xs_err err = xs_server_open(&s.server, opts[1].value, pub->box,
                                xs_identity_box_secret(s.hub.id), s_admit, &s);
    if (err != XS_OK) {
        xs_log_err(err, "无法监听 %s (cannot listen)", opts[1].value);
        goto out;
    }
    printf("县级中心运行中 (hub serving) %s，认定规则 %s 第 %u 版\n", xs_server_endpoint(s.server),
           s.hub.policy->id, s.hub.policy->version);
    fflush(stdout);
    while (!s_stop) {
        xs_peer_t peer;
        const uint8_t *frame;
        size_t len;
        /* Wait when idle; when batches are queued, only briefly for the rest of the burst. */
        err = xs_server_recv(s.server, s.queued ? S_GROUP_LINGER_MS : 200, &peer, &frame, &len);
        if (err == XS_OK) {
            s_handle(&s, &peer, frame, len);
            if (s.queued < S_GROUP_ITEMS && s.queued_bytes < S_GROUP_BYTES)
                continue;
        } else if (err != XS_ETIMEOUT) {
            xs_log_err(err, "接收失败 (receive failed)");
        }
        s_flush(&s);
    }
    s_flush(&s);
    printf("县级中心已停止 (hub stopped)\n");
    rc = 0;
out:
    xs_server_close(&s.server);
    xs_writer_free(&s.out);
    hub_close(&s.hub);
    return rc;
}
