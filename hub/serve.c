/* serve: the hub's protocol responder: ZAP admission, HELLO/VIEW, FETCH/RECEIPTS,
 * SATELLITES/ROSTER, STAFF_GET/STAFF, and BATCH frames queued and merged in group commits. */
#include "serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "issue.h"
#include "keys.h"
#include "ledger.h"
#include "merge.h"
#include "outbox.h"
#include "staff.h"
#include "xs/proto.h"
#include "xs/roster.h"
#include "xs/transport.h"

/* Group commit: batches queued while the hub was busy merge in one transaction, up to these
 * bounds: many schools syncing at once share a merge and its durable commit. */
#define S_GROUP_ITEMS 256
#define S_GROUP_BYTES ((size_t)32 << 20)
/* While batches are queued, how long to wait for the next before merging: a node's window
 * arrives one frame at a time, and a group cut short by a frame still in flight costs a
 * whole extra durable commit. */
#define S_GROUP_LINGER_MS 10
/* Batches a node may have unacknowledged (VIEW window): as many as one group commit takes
 * while staying below the transport queue, so a sync merges in few groups. */
#define S_WINDOW 48
/* Bytes of leaves on a page of receipts: RECEIPTS frames stay well under the frame limit. */
#define S_RECEIPTS_PAGE_BYTES ((size_t)512 << 10)

/* A queued BATCH: its sender's address and a copy of the envelope. */
typedef struct s_queued {
    xs_peer_t peer;
    uint8_t *envelope;
    size_t len;
} s_queued_t;

/* The queue's counters agree: queued ≤ S_GROUP_ITEMS, and queued_bytes is the sum of the
 * queued envelopes' lengths. s_handle appends one BATCH (hub_serve_run flushes as soon as a
 * bound is reached, so the queue never overflows); s_flush merges and empties it. */
struct hub_serve {
    hub_t *hub;          /* borrowed from the caller */
    xs_server_t *server; /* the CURVE ROUTER */
    s_queued_t queue[S_GROUP_ITEMS];
    hub_item_t items[S_GROUP_ITEMS]; /* the queue opened for s_flush */
    size_t queued;
    size_t queued_bytes;
    xs_writer_t out;          /* the reply being built */
    hub_staff_cache_t *staff; /* the teacher roster and nodes' parts (hub_staff_part); NULL
                                 when it could not be made: parts are then built each time */
};

/* ZAP: admits a CURVE key that belongs to an enrolled, unrevoked node. */
static int s_admit(void *ctx, const uint8_t box[32], uint8_t origin[32]) {
    hub_serve_t *s = ctx;
    xs_txn_t *txn = NULL;
    hub_node_t node;
    int admit = 0;
    if (xs_store_read(s->hub->store, &txn) != XS_OK)
        return 0;
    if (hub_node_by_box(txn, box, &node) == XS_OK && !node.revoked_at) {
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

static void s_send(hub_serve_t *s, const xs_peer_t *peer, const uint8_t *bytes, size_t len) {
    xs_err err = xs_server_send(s->server, peer, bytes, len);
    if (err != XS_OK && err != XS_ENOTFOUND)
        xs_log_err(err, "发送失败 (send failed)");
}

static void s_reply(hub_serve_t *s, const xs_peer_t *peer, const xs_msg_t *msg) {
    xs_writer_reset(&s->out);
    xs_err err = xs_proto_encode(msg, &s->out);
    if (err != XS_OK) {
        xs_log_err(err, "编码回复 (encoding a reply)");
        return;
    }
    s_send(s, peer, s->out.data, s->out.len);
}

static void s_error(hub_serve_t *s, const xs_peer_t *peer, xs_proto_code code) {
    xs_msg_t msg;
    xs_proto_error(&msg, code);
    s_reply(s, peer, &msg);
}

/* The node a HELLO or FETCH asks about: the sender, or a satellite it relays for (§8).
 * Replies ERROR itself and returns 0 when the sender may not ask. */
static int s_target(hub_serve_t *s, xs_txn_t *txn, const xs_peer_t *peer, int has_origin,
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

/* Says that the hub now serves the policy `xueshi-hub policy` stored. */
static void s_policy_note(const hub_serve_t *s) {
    printf("认定规则已更新，按新规则认定 (policy reloaded): %s 第 %u 版\n", s->hub->policy->id,
           s->hub->policy->version);
    fflush(stdout);
}

/* Follows a policy stored since the last look (hub_policy_follow), so VIEW offers the current
 * one. */
static xs_err s_follow_policy(hub_serve_t *s, xs_txn_t *txn) {
    int changed, rotated;
    xs_err err = hub_policy_follow(s->hub, txn, &changed);
    if (err == XS_OK && changed)
        s_policy_note(s);
    /* `xueshi-hub rotate-keys` beside this process: sign with the key in force from now. */
    if (err == XS_OK && (err = hub_keys_follow(s->hub, txn, &rotated)) == XS_OK && rotated) {
        printf("签名密钥已轮换，改用新密钥 (signing key rotated: signing with the new key)\n");
        fflush(stdout);
    }
    return err;
}

static void s_hello(hub_serve_t *s, const xs_peer_t *peer, const xs_msg_t *hello) {
    xs_txn_t *txn = NULL;
    xs_chain_view_t view;
    hub_node_t node;
    xs_bytes_t policy = {NULL, 0}, chain = {NULL, 0};
    xs_proto_range_t gaps[XS_CHAIN_MAX_GAPS];
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    xs_err err = xs_store_read(s->hub->store, &txn);
    if (err == XS_OK)
        err = s_follow_policy(s, txn);
    if (err == XS_OK &&
        !s_target(s, txn, peer, hello->u.hello.has_origin, hello->u.hello.origin, &node)) {
        xs_store_end(&txn);
        return;
    }
    if (err == XS_OK)
        err = hub_ledger_view(txn, node.origin, &view);
    if (err == XS_OK)
        err = hub_outbox_generation(txn, node.origin, &msg.u.view.receipts_gen);
    if (err == XS_OK)
        err = hub_keys_chain(txn, &chain);
    if (err == XS_OK && !hello->u.hello.has_origin &&
        (!hello->u.hello.has_policy_hash ||
         memcmp(hello->u.hello.policy_hash, s->hub->policy_hash, 32) != 0))
        err = hub_meta_get(txn, HUB_META_POLICY_ENV, &policy);
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
    msg.u.view.fork_seq = node.fork_resolved_at ? 0 : node.fork_seq; /* resolved: nothing to say */
    msg.u.view.confirmed_through = view.have_through;
    msg.u.view.rotations = (xs_proto_blob_t){chain.ptr, chain.len};
    s_reply(s, peer, &msg); /* encoded before the snapshot ends: policy and chain borrow it */
    xs_store_end(&txn);
    /* What the node has sealed, for the county's view of what it has not yet sent: written
     * only when it changed, after the answer. */
    if (node.head_seq != hello->u.hello.head_seq) {
        uint32_t via = 0;
        hub_node_t *relay = hello->u.hello.has_origin ? malloc(sizeof *relay) : NULL;
        if (relay && xs_store_read(s->hub->store, &txn) == XS_OK &&
            hub_node_get(txn, peer->origin, relay) == XS_OK)
            via = relay->number;
        xs_store_end(&txn);
        free(relay);
        err = hub_node_note_head(s->hub, node.origin, hello->u.hello.head_seq, via);
        if (err != XS_OK)
            xs_log_err(err, "记录节点已封存的序号 (noting the node's head)");
    }
}

/* A page of the node's receipts newer than it holds, in teacher order after `after`, built
 * now from the certification state and signed once under one root: RECEIPTS' group
 * (protocol.md §5.3). The same state gives the same page, so a repeated FETCH gets the same
 * bytes. */
static void s_fetch(hub_serve_t *s, const xs_peer_t *peer, const xs_msg_t *fetch) {
    const xs_msg_fetch_t *f = &fetch->u.fetch;
    xs_txn_t *txn = NULL;
    hub_issue_page_t page;
    hub_node_t node;
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    hub_issue_page_init(&page);
    xs_err err = xs_store_read(s->hub->store, &txn);
    if (err == XS_OK && !s_target(s, txn, peer, f->has_origin, f->origin, &node))
        goto out;
    if (err == XS_OK)
        err = hub_outbox_generation(txn, node.origin, &msg.u.receipts.generation);
    if (err == XS_OK)
        err = hub_issue_page(s->hub, txn, node.origin, f->receipts_have, f->after.ptr, f->after.len,
                             S_RECEIPTS_PAGE_BYTES, &page);
    if (err == XS_OK) {
        msg.type = XS_MSG_RECEIPTS;
        msg.u.receipts.more = page.more;
        if (page.count) {
            msg.u.receipts.root = (xs_proto_blob_t){page.root.data, page.root.len};
            msg.u.receipts.leaves = page.leaves;
            msg.u.receipts.leaf_count = (uint32_t)page.count;
        }
        s_reply(s, peer, &msg);
    } else {
        xs_log_err(err, "生成认定回执 (building receipts)");
        s_error(s, peer, XS_PCODE_INTERNAL);
    }
out:
    xs_store_end(&txn);
    hub_issue_page_free(&page);
}

static xs_err s_pull_add(void *ctx, const xs_chain_entry_t *e, const uint8_t *envelope,
                         size_t len) {
    (void)e;
    return xs_proto_page_add(ctx, envelope, len) ? XS_OK : XS_EEXIST; /* full: stop */
}

/* A node (or a relay for its satellite) asks for its own batches back, verbatim, from
 * from_seq on: it was restored from an old copy or lost its store (protocol.md §9). */
static void s_pull(hub_serve_t *s, const xs_peer_t *peer, const xs_msg_t *pull) {
    const xs_msg_pull_t *p = &pull->u.pull;
    xs_txn_t *txn = NULL;
    hub_node_t node;
    xs_proto_page_t page;
    xs_proto_page_init(&page, malloc(XS_PROTO_BATCHES_MAX * sizeof *page.items),
                       XS_PROTO_BATCHES_MAX, XS_PROTO_BATCHES_BYTES);
    xs_err err = page.items ? XS_OK : XS_ENOMEM;
    if (err == XS_OK)
        err = xs_store_read(s->hub->store, &txn);
    if (err == XS_OK && !s_target(s, txn, peer, p->has_origin, p->origin, &node))
        goto out;
    if (err == XS_OK) {
        err = hub_ledger_batches_each(txn, node.origin, p->from_seq, s_pull_add, &page);
        if (err == XS_EEXIST)
            err = XS_OK;
    }
    if (err == XS_OK) {
        xs_msg_t msg;
        memset(&msg, 0, sizeof msg);
        msg.type = XS_MSG_BATCHES;
        msg.u.batches.envelopes = page.items;
        msg.u.batches.envelope_count = page.count;
        msg.u.batches.more = page.more;
        s_reply(s, peer, &msg); /* encoded before the snapshot ends: the page borrows it */
    } else {
        xs_log_err(err, "读取节点的批次 (reading a node's batches)");
        s_error(s, peer, XS_PCODE_INTERNAL);
    }
out:
    xs_store_end(&txn);
    free(page.items);
}

/* A roster being built: the relay asking, and the satellites found so far. */
typedef struct s_roster {
    const hub_node_t *relay;
    xs_roster_entry_t *entries; /* room for XS_ROSTER_MAX */
    uint32_t count;
} s_roster_t;

static xs_err s_roster_add(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    s_roster_t *r = ctx;
    hub_node_t satellite;
    if (r->count == XS_ROSTER_MAX ||
        hub_relays_for(txn, r->relay, node->origin, &satellite) != XS_OK)
        return XS_OK;
    xs_roster_entry_t *e = &r->entries[r->count++];
    memcpy(e->origin, satellite.origin, 32);
    memcpy(e->box, satellite.box, 32);
    memcpy(e->school, satellite.school, sizeof satellite.school);
    return XS_OK;
}

/* The signed roster of a relay: the enrolled, unrevoked nodes of the schools it proxies for
 * (protocol.md §8). */
static void s_roster(hub_serve_t *s, const xs_peer_t *peer) {
    xs_txn_t *txn = NULL;
    hub_node_t relay;
    s_roster_t r = {&relay, NULL, 0};
    xs_writer_t env;
    xs_writer_init(&env, XS_ROSTER_MAX_BYTES);
    r.entries = malloc(XS_ROSTER_MAX * sizeof *r.entries);
    xs_err err = r.entries ? xs_store_read(s->hub->store, &txn) : XS_ENOMEM;
    if (err == XS_OK && !s_target(s, txn, peer, 0, NULL, &relay))
        goto out;
    if (err == XS_OK)
        err = hub_nodes_each(txn, s_roster_add, &r);
    if (err == XS_OK)
        err =
            xs_roster_sign(&env, s->hub->id, relay.origin, (int64_t)time(NULL), r.entries, r.count);
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
    xs_store_end(&txn);
    xs_writer_free(&env);
    free(r.entries);
}

/* The part of the county's teacher roster for the sender, or a satellite it relays for: nil
 * when the part it holds is the current one, or the county has no roster (protocol.md §10). */
static void s_staff(hub_serve_t *s, const xs_peer_t *peer, const xs_msg_t *get) {
    const xs_msg_staff_get_t *g = &get->u.staff_get;
    xs_txn_t *txn = NULL;
    hub_node_t node;
    xs_writer_t part;
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_STAFF;
    xs_writer_init(&part, XS_STAFF_PART_BYTES);
    xs_err err = xs_store_read(s->hub->store, &txn);
    if (err == XS_OK && !s_target(s, txn, peer, g->has_origin, g->origin, &node))
        goto out;
    int current = 0;
    if (err == XS_OK)
        err = hub_staff_part(txn, s->hub->id, &node, s->staff, g->has_have ? g->have : NULL, &part,
                             &current);
    if (err == XS_OK) {
        if (!current)
            msg.u.staff.part = (xs_proto_blob_t){part.data, part.len};
    } else if (err == XS_ENOTFOUND) {
        err = XS_OK; /* no roster imported: nothing to hand out */
    }
    if (err == XS_OK) {
        s_reply(s, peer, &msg);
    } else {
        xs_log_err(err, "签发教师花名册 (signing a roster part)");
        s_error(s, peer, XS_PCODE_INTERNAL);
    }
out:
    xs_store_end(&txn);
    xs_writer_free(&part);
}

/* Verifies, merges and acknowledges every queued batch in one transaction. */
static void s_flush(hub_serve_t *s) {
    hub_item_t *items = s->items;
    hub_merge_stats_t st;
    size_t n = s->queued;
    if (n == 0)
        return;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n; i++)
        hub_item_open(&items[i], s->queue[i].envelope, s->queue[i].len, s->queue[i].peer.origin);
    xs_err err = hub_merge(s->hub, items, n, &st);
    if (st.policy_changed)
        s_policy_note(s);
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
static void s_handle(hub_serve_t *s, const xs_peer_t *peer, const uint8_t *frame, size_t len) {
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
    else if (msg.type == XS_MSG_PULL)
        s_pull(s, peer, &msg);
    else if (msg.type == XS_MSG_STAFF_GET)
        s_staff(s, peer, &msg);
    else
        s_error(s, peer, XS_PCODE_MALFORMED);
}

xs_err hub_serve_open(hub_serve_t **out, hub_t *hub, const char *endpoint) {
    hub_serve_t *s = calloc(1, sizeof *s); /* large: the queue */
    *out = NULL;
    if (!s)
        return XS_ENOMEM;
    s->hub = hub;
    xs_writer_init(&s->out, XS_PROTO_FRAME_MAX);
    if (hub_staff_cache_new(&s->staff) != XS_OK)
        s->staff = NULL; /* parts are built each time: slower, never wrong */
    const xs_pubkeys_t *pub = xs_identity_public(hub->id);
    xs_err err =
        xs_server_open(&s->server, endpoint, pub->box, xs_identity_box_secret(hub->id), s_admit, s);
    if (err != XS_OK) {
        hub_serve_close(&s);
        return err;
    }
    *out = s;
    return XS_OK;
}

const char *hub_serve_endpoint(const hub_serve_t *s) {
    return xs_server_endpoint(s->server);
}

void hub_serve_run(hub_serve_t *s, volatile sig_atomic_t *stop) {
    while (!*stop) {
        xs_peer_t peer;
        const uint8_t *frame;
        size_t len;
        /* Wait when idle; when batches are queued, only briefly for the rest of the burst. */
        xs_err err =
            xs_server_recv(s->server, s->queued ? S_GROUP_LINGER_MS : 200, &peer, &frame, &len);
        if (err == XS_OK) {
            s_handle(s, &peer, frame, len);
            if (s->queued < S_GROUP_ITEMS && s->queued_bytes < S_GROUP_BYTES)
                continue;
        } else if (err != XS_ETIMEOUT) {
            xs_log_err(err, "接收失败 (receive failed)");
        }
        s_flush(s);
    }
    s_flush(s);
}

void hub_serve_close(hub_serve_t **sp) {
    hub_serve_t *s = *sp;
    if (!s)
        return;
    for (size_t i = 0; i < s->queued; i++)
        free(s->queue[i].envelope);
    xs_server_close(&s->server);
    xs_writer_free(&s->out);
    hub_staff_cache_destroy(&s->staff);
    free(s);
    *sp = NULL;
}
