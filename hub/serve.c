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
#include "metrics.h"
#include "outbox.h"
#include "staff.h"
#include "xs/log.h"
#include "xs/proto.h"
#include "xs/roster.h"
#include "xs/service.h"
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

/* Counters reach the store inside merges; refusals and HELLOs with no merge to ride on wait
 * at most this long, so a flood of refused handshakes is one write per interval, not one per
 * frame. */
#define S_METRICS_FLUSH_SECONDS 5
/* A sync session (what one node's HELLO begins) has ended when the node has been quiet this
 * long, or says HELLO again; its outcome is then logged. Sessions followed at once. */
#define S_SESSION_QUIET_SECONDS 5
#define S_SESSIONS_MAX 64
/* Refused handshakes and bad requests: at most this many lines per reason per window. */
#define S_LIMIT_LINES 5
#define S_LIMIT_WINDOW_SECONDS 60
/* Longest "SCHOOL #N" naming a node in events. */
#define S_WHO_MAX (XS_ID_MAX + 16)

/* A sync session being followed, for its outcome's event. */
typedef struct s_session {
    int used;            /* 0: a free slot */
    uint8_t origin[32];  /* the node synced (a satellite, when a relay syncs for it) */
    char who[S_WHO_MAX]; /* "SCHOOL #N" */
    double started;      /* monotonic seconds of its HELLO */
    double heard;        /* monotonic seconds of its latest message or batch */
    uint64_t batches;    /* batches newly stored */
    uint64_t records;    /* records newly stored */
    uint64_t refused;    /* batches refused, quarantined or already held */
} s_session_t;

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
    hub_metrics_t pending;    /* counters not yet in the store: added by the next merge's
                                 transaction (hub_metrics_note_merge) or by s_tick's flush */
    double flushed_at;        /* monotonic seconds of the last flush */
    double swept_at;          /* monotonic seconds of the last sweep of sessions and limits */
    xs_log_limit_t limit;     /* refused handshakes and bad requests, per reason */
    s_session_t sessions[S_SESSIONS_MAX];
};

static double s_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* "SCHOOL #N" of a stored node. */
static void s_who_node(const hub_node_t *node, char who[S_WHO_MAX]) {
    snprintf(who, S_WHO_MAX, "%s #%u", node->school, node->number);
}

/* "SCHOOL #N" of the node origin, read in a snapshot of its own; NULL when not enrolled (or
 * the store fails): the event then names the process only. */
static const char *s_who(hub_serve_t *s, const uint8_t origin[32], char who[S_WHO_MAX]) {
    xs_txn_t *txn = NULL;
    hub_node_t node;
    const char *found = NULL;
    if (xs_store_read(s->hub->store, &txn) == XS_OK && hub_node_get(txn, origin, &node) == XS_OK) {
        s_who_node(&node, who);
        found = who;
    }
    xs_store_end(&txn);
    return found;
}

/* Adds pending to the store now; kept for later when the store fails. */
static void s_metrics_flush(hub_serve_t *s) {
    xs_err err = hub_metrics_flush(s->hub, &s->pending);
    if (err != XS_OK)
        xs_log_err(err, "写入运行计数 (writing the hub's counters)");
    s->flushed_at = s_now();
}

/* Says that something was refused, rate-limited per reason. who may be NULL. */
static void s_refusal_log(hub_serve_t *s, hub_refusal reason, const char *who, const char *what) {
    char key[XS_LOG_LIMIT_KEY_MAX + 1];
    snprintf(key, sizeof key, "refused/%s", hub_refusal_name(reason));
    xs_event_limited(&s->limit, key, XS_SEV_WARNING, who, "%s (refused: %s)", what,
                     hub_refusal_name(reason));
}

/* Counts one refusal and says so (s_refusal_log). */
static void s_refused(hub_serve_t *s, hub_refusal reason, const char *who, const char *what) {
    s->pending.refused[reason]++;
    s_refusal_log(s, reason, who, what);
}

/* Logs a session's outcome and frees its slot. */
static void s_session_end(s_session_t *ss) {
    if (!ss->used)
        return;
    xs_event(XS_SEV_INFO, ss->who,
             "同步结束 (sync session): 新 %llu 批 %llu 条已合并 (merged)，未采用 %llu 批 "
             "(refused or held)，用时 %.0f ms",
             (unsigned long long)ss->batches, (unsigned long long)ss->records,
             (unsigned long long)ss->refused, (ss->heard - ss->started) * 1e3);
    ss->used = 0;
}

/* The session of origin; NULL when none is followed. */
static s_session_t *s_session_find(hub_serve_t *s, const uint8_t origin[32]) {
    for (size_t i = 0; i < S_SESSIONS_MAX; i++)
        if (s->sessions[i].used && memcmp(s->sessions[i].origin, origin, 32) == 0)
            return &s->sessions[i];
    return NULL;
}

/* A HELLO for node: ends its previous session, begins a new one, counts it. */
static void s_session_begin(hub_serve_t *s, const hub_node_t *node) {
    s_session_t *ss = s_session_find(s, node->origin);
    if (ss) {
        s_session_end(ss);
    } else {
        ss = &s->sessions[0];
        for (size_t i = 0; i < S_SESSIONS_MAX; i++) {
            if (!s->sessions[i].used) {
                ss = &s->sessions[i];
                break;
            }
            if (s->sessions[i].heard < ss->heard)
                ss = &s->sessions[i];
        }
        s_session_end(ss);
    }
    memset(ss, 0, sizeof *ss);
    ss->used = 1;
    memcpy(ss->origin, node->origin, 32);
    s_who_node(node, ss->who);
    ss->started = ss->heard = s_now();
    s->pending.sessions++;
    if (!hub_metrics_note_seen(&s->pending, node->origin, (int64_t)time(NULL))) {
        s_metrics_flush(s);
        (void)hub_metrics_note_seen(&s->pending, node->origin, (int64_t)time(NULL));
    }
}

/* A message about node origin: its session goes on. */
static void s_session_touch(hub_serve_t *s, const uint8_t origin[32]) {
    s_session_t *ss = s_session_find(s, origin);
    if (ss)
        ss->heard = s_now();
}

/* ZAP: admits a CURVE key that belongs to an enrolled, unrevoked node. */
static int s_admit(void *ctx, const uint8_t box[32], uint8_t origin[32]) {
    hub_serve_t *s = ctx;
    xs_txn_t *txn = NULL;
    hub_node_t node;
    int admit = 0;
    if (xs_store_read(s->hub->store, &txn) != XS_OK)
        return 0;
    xs_err err = hub_node_by_box(txn, box, &node);
    if (err == XS_OK && !node.revoked_at) {
        memcpy(origin, node.origin, 32);
        admit = 1;
    }
    xs_store_end(&txn);
    if (!admit) {
        char hex[17], who[S_WHO_MAX], what[96];
        xs_hex_encode(box, 8, hex);
        if (err == XS_OK)
            s_who_node(&node, who);
        snprintf(what, sizeof what, "拒绝连接 (handshake refused): 传输密钥 %s… %s", hex,
                 err == XS_OK ? "已吊销 (revoked)" : "未登记 (not enrolled)");
        s_refused(s, err == XS_OK ? HUB_REFUSED_REVOKED : HUB_REFUSED_UNKNOWN_KEY,
                  err == XS_OK ? who : NULL, what);
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
    if (code == XS_PCODE_INTERNAL) {
        xs_log_err(err, "读取节点状态 (reading the node's state)");
    } else {
        char who[S_WHO_MAX];
        if (err == XS_OK)
            s_who_node(&sender, who);
        s_refused(s, hub_refusal_from_code(code), err == XS_OK ? who : NULL,
                  code == XS_PCODE_WRONG_ORIGIN
                      ? "拒绝代发请求 (refused to answer for another node)"
                      : "拒绝请求 (request refused)");
    }
    s_error(s, peer, code);
    return 0;
}

/* Says that the hub now serves the policy `xueshi-hub policy` stored. */
static void s_policy_note(const hub_serve_t *s) {
    xs_event(XS_SEV_NOTICE, NULL, "认定规则已更新，按新规则认定 (policy reloaded): %s 第 %u 版",
             s->hub->policy->id, s->hub->policy->version);
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
        xs_event(XS_SEV_NOTICE, NULL,
                 "签名密钥已轮换，改用新密钥 (signing key rotated: signing with the new key)");
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
        s_session_begin(s, &node);
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
        s_session_touch(s, node.origin);
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
    if (err == XS_OK)
        s_session_touch(s, node.origin);
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
    if (err == XS_OK)
        s_session_touch(s, node.origin);
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

/* After a merge: the item's session goes on, and a refused or forked batch is logged. */
static void s_item_outcome(hub_serve_t *s, const hub_item_t *item, const xs_peer_t *peer) {
    const uint8_t *origin = item->open_err == XS_OK ? item->batch.origin : peer->origin;
    s_session_t *ss = s_session_find(s, origin);
    if (ss) {
        ss->heard = s_now();
        if (item->status == XS_ACK_ACCEPTED) {
            ss->batches++;
            ss->records += item->batch.count;
        } else {
            ss->refused++;
        }
    }
    if (item->status != XS_ACK_REFUSED && item->status != XS_ACK_FORK)
        return;
    char who[S_WHO_MAX], what[160];
    const char *named = ss ? ss->who : s_who(s, origin, who);
    if (item->open_err == XS_OK)
        snprintf(what, sizeof what, "%s: 序号 %llu 起 %u 条 (batch from seq %llu, %u records)",
                 item->status == XS_ACK_FORK ? "批次分叉，已隔离 (fork quarantined)"
                                             : "拒收批次 (batch refused)",
                 (unsigned long long)item->batch.first_seq, item->batch.count,
                 (unsigned long long)item->batch.first_seq, item->batch.count);
    else
        snprintf(what, sizeof what, "拒收批次 (batch refused): %s", xs_strerror(item->open_err));
    s_refusal_log(
        s, item->status == XS_ACK_FORK ? HUB_REFUSED_FORK : hub_refusal_from_code(item->error),
        named, what);
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
    xs_err err = hub_merge_noting(s->hub, items, n, &st, hub_metrics_note_merge, &s->pending);
    if (st.policy_changed)
        s_policy_note(s);
    if (err == XS_OK) {
        hub_metrics_clear(&s->pending); /* the merge's transaction holds it now */
    } else {
        s->pending.refused[HUB_REFUSED_INTERNAL] += n;
        xs_log_err(err, "合并失败，未写入，节点会重发 (merge failed; nothing stored; nodes will "
                        "resend)");
    }
    for (size_t i = 0; i < n; i++) {
        s_item_outcome(s, &items[i], &s->queue[i].peer);
        if (items[i].ack.len)
            s_send(s, &s->queue[i].peer, items[i].ack.data, items[i].ack.len);
        hub_item_free(&items[i]);
        free(s->queue[i].envelope);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    hub_metrics_observe_merge(&s->pending, ms / 1e3);
    xs_event(XS_SEV_INFO, NULL,
             "合并 (merge): %zu 批: 新 %llu 批 %llu 条 (拒收 %llu)，已有 %llu，分叉 %llu，拒绝 "
             "%llu，回执 %llu 人，%.1f ms",
             n, (unsigned long long)st.batches, (unsigned long long)st.records,
             (unsigned long long)st.rejected, (unsigned long long)st.held,
             (unsigned long long)st.forks, (unsigned long long)st.refused,
             (unsigned long long)st.teachers, ms);
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
        char who[S_WHO_MAX], what[96];
        snprintf(what, sizeof what, "无法解析的消息 (bad request): %zu 字节 (bytes)", len);
        s_refused(s, hub_refusal_from_code((uint8_t)xs_proto_code_from_err(err)),
                  s_who(s, peer->origin, who), what);
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
    else {
        char who[S_WHO_MAX];
        s_refused(s, HUB_REFUSED_MALFORMED, s_who(s, peer->origin, who),
                  "不应发给县级中心的消息 (a message the hub does not take)");
        s_error(s, peer, XS_PCODE_MALFORMED);
    }
}

xs_err hub_serve_open(hub_serve_t **out, hub_t *hub, const char *endpoint) {
    hub_serve_t *s = calloc(1, sizeof *s); /* large: the queue */
    *out = NULL;
    if (!s)
        return XS_ENOMEM;
    s->hub = hub;
    xs_log_limit_init(&s->limit, S_LIMIT_LINES, S_LIMIT_WINDOW_SECONDS);
    s->flushed_at = s->swept_at = s_now();
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

/* Housekeeping of every turn: the watchdog's ping; once a second, sessions gone quiet are
 * logged and rate limits summed up; pending counters reach the store every few seconds. */
static void s_tick(hub_serve_t *s) {
    xs_service_watchdog();
    double now = s_now();
    if (now - s->swept_at >= 1) {
        s->swept_at = now;
        for (size_t i = 0; i < S_SESSIONS_MAX; i++)
            if (s->sessions[i].used && now - s->sessions[i].heard >= S_SESSION_QUIET_SECONDS)
                s_session_end(&s->sessions[i]);
        xs_event_limit_sweep(&s->limit);
    }
    if (now - s->flushed_at >= S_METRICS_FLUSH_SECONDS && hub_metrics_pending(&s->pending))
        s_metrics_flush(s);
}

void hub_serve_run(hub_serve_t *s, volatile sig_atomic_t *stop) {
    /* An idle wait well under any watchdog interval: the ping comes from this loop. */
    int idle_ms = 200;
    uint64_t watchdog = xs_service_watchdog_usec();
    if (watchdog && watchdog / 4000 < (uint64_t)idle_ms)
        idle_ms = watchdog / 4000 ? (int)(watchdog / 4000) : 1;
    while (!*stop) {
        xs_peer_t peer;
        const uint8_t *frame;
        size_t len;
        s_tick(s);
        /* Wait when idle; when batches are queued, only briefly for the rest of the burst. */
        xs_err err =
            xs_server_recv(s->server, s->queued ? S_GROUP_LINGER_MS : idle_ms, &peer, &frame, &len);
        if (err == XS_OK) {
            s_handle(s, &peer, frame, len);
            if (s->queued < S_GROUP_ITEMS && s->queued_bytes < S_GROUP_BYTES)
                continue;
        } else if (err != XS_ETIMEOUT) {
            xs_log_err(err, "接收失败 (receive failed)");
        }
        s_flush(s);
    }
    xs_service_stopping();
    s_flush(s);
    for (size_t i = 0; i < S_SESSIONS_MAX; i++)
        s_session_end(&s->sessions[i]);
    xs_event_limit_sweep(&s->limit);
    s_metrics_flush(s);
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
