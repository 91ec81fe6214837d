/* merge: verifying, storing, indexing and certifying batches in one write transaction. It
 * owns no table: the ledger stores batches, the outbox receipts, hub.c the nodes.
 *
 * A node's fork fields (hub_node_t) agree with its quarantined batches (HUB_T_FORKS); each
 * moves only here, when s_quarantine adds a proof or s_resolve sees a batch accepted:
 *   - forks is the number of the origin's proofs, and fork_seq the first_seq of the latest
 *     one added (0: none): s_quarantine.
 *   - fork_resolved_at is nonzero exactly when, since the latest proof was added, the hub
 *     accepted a batch of the origin that links to the chain it holds (its prev_hash is the
 *     hash of the held batch before it) and ends at or after the last seq of every proof:
 *     the origin's key signed a continuation of the hub's chain over and past the fork, so
 *     the node adopted the hub's side of it. fork_resolved_through is that batch's last seq.
 * s_resolve sets both; s_quarantine clears both (a fork after the resolution is open again).
 *   - last_sync is the time of the merge of the origin's latest batch: s_merge_item. */
#include "merge.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credit.h"
#include "ledger.h"
#include "outbox.h"

#define S_ACK_MAX (64 * 1024)

void hub_item_open(hub_item_t *item, const uint8_t *envelope, size_t len,
                   const uint8_t sender[32]) {
    memset(item, 0, sizeof *item);
    item->envelope = envelope;
    item->len = len;
    memcpy(item->sender, sender, 32);
    item->open_err = xs_batch_open(envelope, len, &item->batch);
    xs_writer_init(&item->ack, S_ACK_MAX);
}

void hub_item_free(hub_item_t *item) {
    xs_writer_free(&item->ack);
}

typedef struct s_merge {
    hub_t *hub;
    hub_item_t *items;
    size_t n;
    hub_merge_stats_t stats;
    hub_credit_t *credit; /* the certification pass of this transaction */
    uint64_t generation;  /* the generation this merge marks changed teachers at; 0: none yet */
    int64_t now;
    xs_txn_t *txn;
    hub_merge_note_fn note; /* hub_merge_noting's, or NULL */
    void *note_ctx;
} s_merge_t;

/* Writes item's ACK frame. */
static xs_err s_ack(hub_item_t *item, uint8_t status, uint8_t error,
                    const xs_proto_rejected_t *rejected, uint32_t nrejected) {
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_ACK;
    if (item->open_err == XS_OK) {
        msg.u.ack.first_seq = item->batch.first_seq;
        msg.u.ack.count = item->batch.count;
    }
    msg.u.ack.status = status;
    msg.u.ack.error = error;
    msg.u.ack.rejected = rejected;
    msg.u.ack.rejected_count = nrejected;
    item->status = status;
    item->error = error;
    xs_writer_reset(&item->ack);
    return xs_proto_encode(&msg, &item->ack);
}

/* Stores a new batch, its chain entry, its records' index entries, and its stored ACK. */
static xs_err s_store(s_merge_t *m, xs_txn_t *txn, hub_item_t *item, hub_node_t *node) {
    const xs_batch_t *b = &item->batch;
    xs_proto_rejected_t *rejected = NULL;
    uint32_t nrejected = 0;
    xs_batch_iter_t it;
    xs_batch_entry_t entry;
    xs_record_t rec;
    xs_err err;

    if ((err = hub_ledger_put_batch(txn, b, item->envelope, item->len)) != XS_OK)
        return err;
    xs_batch_iter_init(&it, b);
    while ((err = xs_batch_next(&it, &entry, &rec)) == XS_OK) {
        uint8_t outcome = HUB_OUTCOME_ACCEPTED;
        /* A record without a school is the node's own; any other school must be served. */
        if (rec.school_id.len && !hub_node_serves(node, rec.school_id.ptr, rec.school_id.len)) {
            outcome = XS_REASON_OUT_OF_SCOPE;
            if (!rejected && !(rejected = calloc(b->count, sizeof *rejected))) {
                err = XS_ENOMEM;
                break;
            }
            rejected[nrejected].index = entry.index;
            rejected[nrejected++].reason = XS_REASON_OUT_OF_SCOPE;
        }
        if ((err = hub_ledger_put_record(txn, b, &entry, outcome)) != XS_OK)
            break;
        m->stats.records++;
        if (outcome != HUB_OUTCOME_ACCEPTED) {
            m->stats.rejected++;
            continue;
        }
        if (rec.teacher_id.len > 0 &&
            (err = hub_ledger_put_teacher(txn, rec.teacher_id.ptr, rec.teacher_id.len, b->origin,
                                          entry.seq)) != XS_OK)
            break;
        /* The engine's full runs (a year's close, a new policy) rank exams from every exam
         * record and every record that may void or return one. */
        if ((rec.kind == XS_KIND_CORRECTION || rec.kind == XS_KIND_REVIEW ||
             (rec.kind == XS_KIND_ACTIVITY && rec.category == XS_CAT_EXAM)) &&
            (err = hub_ledger_put_exam(txn, b->origin, entry.seq)) != XS_OK)
            break;
        if ((err = hub_credit_add(m->credit, b->origin, entry.seq, &rec)) != XS_OK)
            break;
    }
    if (err == XS_ENOTFOUND)
        err = XS_OK;
    if (err == XS_OK)
        err = s_ack(item, XS_ACK_ACCEPTED, XS_PCODE_NONE, rejected, nrejected);
    if (err == XS_OK)
        err = hub_ledger_put_ack(txn, b, item->ack.data, item->ack.len);
    item->rejected = nrejected;
    free(rejected);
    if (err == XS_OK)
        m->stats.batches++;
    return err;
}

/* Quarantines a fork with its proof: the envelope, under the hash it disagrees with. A new
 * proof reopens a resolved fork. */
static xs_err s_quarantine(s_merge_t *m, xs_txn_t *txn, hub_item_t *item, hub_node_t *node) {
    const xs_batch_t *b = &item->batch;
    int added;
    xs_err err = hub_ledger_quarantine(txn, b, item->envelope, item->len, &added);
    if (err != XS_OK)
        return err;
    if (added) {
        node->forks++;
        node->fork_seq = b->first_seq;
        node->fork_resolved_at = 0;
        node->fork_resolved_through = 0;
    }
    m->stats.forks++;
    return s_ack(item, XS_ACK_FORK, XS_PCODE_NONE, NULL, 0);
}

/* After batch b of node's origin was accepted (linked: it continues the chain the hub holds):
 * when it also reaches the last seq of every quarantined batch, the origin's key has signed a
 * continuation of the hub's chain over the whole fork. A batch after a gap links to nothing
 * the hub holds and resolves nothing (one that continues a quarantined batch is quarantined
 * itself). */
static xs_err s_resolve(s_merge_t *m, xs_txn_t *txn, const xs_batch_t *b, int linked,
                        hub_node_t *node) {
    uint64_t point;
    if (node->forks == 0 || node->fork_resolved_at != 0 || !linked)
        return XS_OK;
    xs_err err = hub_ledger_fork_point(txn, node->origin, &point);
    if (err == XS_OK && b->first_seq + (b->count - 1) >= point) {
        node->fork_resolved_at = m->now;
        node->fork_resolved_through = b->first_seq + (b->count - 1);
    }
    return err;
}

/* One item inside the transaction. */
static xs_err s_merge_item(s_merge_t *m, xs_txn_t *txn, hub_item_t *item) {
    hub_node_t node, sender;
    int held, fork, linked;
    xs_bytes_t stored;
    if (item->open_err != XS_OK) {
        m->stats.refused++;
        return s_ack(item, XS_ACK_REFUSED, (uint8_t)xs_proto_code_from_err(item->open_err), NULL,
                     0);
    }
    const xs_batch_t *b = &item->batch;
    xs_err err = hub_node_get(txn, item->sender, &sender);
    if (err == XS_ENOTFOUND || (err == XS_OK && sender.revoked_at)) {
        m->stats.refused++;
        return s_ack(item, XS_ACK_REFUSED,
                     err == XS_ENOTFOUND ? XS_PCODE_UNKNOWN : XS_PCODE_REVOKED, NULL, 0);
    }
    if (err != XS_OK)
        return err;
    node = sender;
    if (memcmp(b->origin, item->sender, 32) != 0) {
        /* Only a relay may carry another node's batch, and only a satellite's (§8). */
        err = hub_relays_for(txn, &sender, b->origin, &node);
        if (err == XS_ENOTFOUND || err == XS_EPERM) {
            m->stats.refused++;
            return s_ack(item, XS_ACK_REFUSED, XS_PCODE_WRONG_ORIGIN, NULL, 0);
        }
        if (err != XS_OK)
            return err;
    }
    if ((err = hub_ledger_check(txn, b, &held, &fork, &linked)) != XS_OK)
        return err;
    /* After a gap, a batch that continues a quarantined batch is the fork's side going on:
     * quarantined too, or the node's re-sealed records would later collide with it. */
    if (!held && !fork && !linked && (err = hub_ledger_follows_fork(txn, b, &fork)) != XS_OK)
        return err;
    if (held) {
        /* A repeated batch gets, byte for byte, the reply it got the first time. */
        m->stats.held++;
        if ((err = hub_ledger_ack(txn, b->origin, b->first_seq, &stored)) != XS_OK)
            return err;
        item->status = XS_ACK_HELD;
        xs_writer_reset(&item->ack);
        xs_writer_raw(&item->ack, stored.ptr, stored.len);
        return xs_writer_err(&item->ack);
    }
    if (fork)
        err = s_quarantine(m, txn, item, &node);
    else if ((err = s_store(m, txn, item, &node)) == XS_OK)
        err = s_resolve(m, txn, b, linked, &node);
    if (err != XS_OK)
        return err;
    node.last_sync = m->now;
    return hub_node_put(txn, &node);
}

/* The certification pass's report: teacher's result changed; mark it for every origin holding
 * their records, at this merge's generation. */
static xs_err s_changed(void *ctx, const char *teacher, size_t len, const uint8_t (*origins)[32],
                        size_t count) {
    s_merge_t *m = ctx;
    xs_err err = XS_OK;
    if (!m->generation)
        err = hub_outbox_next_generation(m->txn, &m->generation);
    if (err == XS_OK)
        err = hub_outbox_put(m->txn, teacher, len, origins, count, m->generation, m->now);
    if (err == XS_OK)
        m->stats.teachers++;
    return err;
}

/* The write step; rerunnable: everything it produces is reset first. */
static xs_err s_step(xs_txn_t *txn, void *ctx) {
    s_merge_t *m = ctx;
    int changed;
    memset(&m->stats, 0, sizeof m->stats);
    m->generation = 0;
    m->txn = txn;
    hub_credit_end(&m->credit);
    /* `xueshi-hub policy` may have stored a new policy since the last merge: certify under the
     * one stored now (it re-certified everyone already under it). */
    xs_err err = hub_policy_follow(m->hub, txn, &changed);
    if (err == XS_OK && changed)
        m->stats.policy_changed = 1;
    /* A store written before the certification state, or under another policy, gets it
     * rebuilt first (the policy command rebuilds it when it stores a new one). */
    int ready = 0;
    if (err == XS_OK)
        err = hub_credit_ready(txn, m->hub->policy_hash, &ready);
    if (err == XS_OK && !ready)
        err = hub_credit_rebuild(m->hub, txn, s_changed, m, NULL, NULL);
    if (err == XS_OK)
        err = hub_credit_begin(&m->credit, m->hub, txn);
    for (size_t i = 0; err == XS_OK && i < m->n; i++)
        err = s_merge_item(m, txn, &m->items[i]);
    if (err == XS_OK)
        err = hub_credit_finish(m->credit, s_changed, m);
    if (err == XS_OK && m->note)
        err = m->note(m->note_ctx, txn, &m->stats, m->items, m->n);
    return err;
}

/* Starts a merge or re-certification of hub's store. */
static void s_begin(s_merge_t *m, hub_t *hub) {
    memset(m, 0, sizeof *m);
    m->hub = hub;
    m->now = (int64_t)time(NULL);
}

xs_err hub_merge(hub_t *hub, hub_item_t *items, size_t n, hub_merge_stats_t *stats) {
    return hub_merge_noting(hub, items, n, stats, NULL, NULL);
}

xs_err hub_merge_noting(hub_t *hub, hub_item_t *items, size_t n, hub_merge_stats_t *stats,
                        hub_merge_note_fn note, void *ctx) {
    s_merge_t m;
    s_begin(&m, hub);
    m.items = items;
    m.n = n;
    m.note = note;
    m.note_ctx = ctx;
    xs_err err = xs_store_update(hub->store, s_step, &m);
    int policy_changed = m.stats.policy_changed;
    if (err != XS_OK) {
        /* Nothing was stored: every item says so, and the node will send it again. */
        for (size_t i = 0; i < n; i++)
            if (s_ack(&items[i], XS_ACK_REFUSED, XS_PCODE_INTERNAL, NULL, 0) != XS_OK)
                items[i].ack.len = 0;
        memset(&m.stats, 0, sizeof m.stats);
        m.stats.refused = n;
    }
    m.stats.policy_changed = policy_changed;
    *stats = m.stats;
    hub_credit_end(&m.credit);
    return err;
}

xs_err hub_recertify(hub_t *hub, xs_txn_t *txn, hub_progress_fn progress, void *ctx,
                     hub_recertify_stats_t *stats) {
    s_merge_t m;
    memset(stats, 0, sizeof *stats);
    s_begin(&m, hub);
    m.txn = txn;
    /* Rows change only under another policy; a closed year changes only how receipts are
     * built from them. */
    int ready = 0;
    xs_err err = hub_credit_ready(txn, hub->policy_hash, &ready);
    if (err == XS_OK)
        err = ready ? hub_credit_mark_all(hub, txn, s_changed, &m, progress, ctx)
                    : hub_credit_rebuild(hub, txn, s_changed, &m, progress, ctx);
    if (err == XS_OK) {
        stats->teachers = m.stats.teachers;
        stats->generation = m.generation;
    }
    return err;
}
