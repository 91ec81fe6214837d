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

#include "ledger.h"
#include "outbox.h"
#include "year.h"
#include "xs/receipt.h"

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

/* A teacher whose receipt must be reissued: a copy of the id. */
typedef struct s_teacher {
    char id[XS_ID_MAX];
    uint32_t len;
} s_teacher_t;

/* An exam event that gained records: every teacher who sat it is re-ranked. */
typedef struct s_event {
    char name[XS_EVENT_MAX];
    uint32_t len;
} s_event_t;

typedef struct s_merge {
    hub_t *hub;
    hub_item_t *items;
    size_t n;
    hub_merge_stats_t stats;
    s_teacher_t *teachers; /* affected teachers; sorted and made unique before certifying */
    size_t nteachers, teachers_cap;
    s_event_t *events; /* exam events touched */
    size_t nevents, events_cap;
    hub_ledger_t ledger;    /* one teacher's records at a time */
    hub_ledger_t exams;     /* the county's exam records and corrections, for standings */
    xs_receipt_t *receipt;  /* scratch for one receipt */
    xs_writer_t signed_env; /* one signed receipt */
    uint64_t generation;    /* the generation this merge issues receipts at */
    int64_t now;
    xs_txn_t *txn;              /* the write transaction certifying */
    hub_closed_cache_t *closed; /* closed years met, so a closed year's totals are its own */
    xs_err cb_err;              /* error inside the certify callback */
} s_merge_t;

static int s_push(void **array, size_t *cap, size_t count, size_t size) {
    if (count < *cap)
        return 1;
    size_t grown = *cap ? *cap * 2 : 64;
    void *p = realloc(*array, grown * size);
    if (!p)
        return 0;
    *array = p;
    *cap = grown;
    return 1;
}

static xs_err s_add_teacher(s_merge_t *m, const char *id, size_t len) {
    if (len == 0 || len > XS_ID_MAX)
        return XS_OK;
    if (!s_push((void **)&m->teachers, &m->teachers_cap, m->nteachers, sizeof *m->teachers))
        return XS_ENOMEM;
    memcpy(m->teachers[m->nteachers].id, id, len);
    m->teachers[m->nteachers++].len = (uint32_t)len;
    return XS_OK;
}

static xs_err s_add_event(s_merge_t *m, const char *name, size_t len) {
    for (size_t i = 0; i < m->nevents; i++)
        if (m->events[i].len == len && memcmp(m->events[i].name, name, len) == 0)
            return XS_OK;
    if (len > XS_EVENT_MAX ||
        !s_push((void **)&m->events, &m->events_cap, m->nevents, sizeof *m->events))
        return XS_ENOMEM;
    memcpy(m->events[m->nevents].name, name, len);
    m->events[m->nevents++].len = (uint32_t)len;
    return XS_OK;
}

static int s_cmp_teacher(const void *pa, const void *pb) {
    const s_teacher_t *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->id, b->id, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

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

/* Whether review rec of batch b names an exam record (or one the hub does not hold yet, which
 * may be one): its event is re-ranked then. */
static xs_err s_reviews_exam(s_merge_t *m, xs_txn_t *txn, const xs_batch_t *b,
                             const xs_record_t *rec, int *exam) {
    xs_record_t target;
    uint8_t outcome;
    xs_err err = hub_ledger_record(txn, b->origin, rec->reviews, &target, &outcome);
    *exam = err == XS_ENOTFOUND;
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_OK : err;
    if (target.kind != XS_KIND_ACTIVITY || target.category != XS_CAT_EXAM)
        return XS_OK;
    *exam = 1;
    return target.event.len ? s_add_event(m, target.event.ptr, target.event.len) : XS_OK;
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
            ((err = hub_ledger_put_teacher(txn, rec.teacher_id.ptr, rec.teacher_id.len, b->origin,
                                           entry.seq)) != XS_OK ||
             (err = s_add_teacher(m, rec.teacher_id.ptr, rec.teacher_id.len)) != XS_OK))
            break;
        /* Exam standings need every exam record, every correction (which may void one) and
         * every review of one (which may return it); a review that returns an exam re-ranks
         * the event. */
        int exam_review = 0;
        if (rec.kind == XS_KIND_REVIEW &&
            (err = s_reviews_exam(m, txn, b, &rec, &exam_review)) != XS_OK)
            break;
        if (rec.kind == XS_KIND_CORRECTION || exam_review ||
            (rec.kind == XS_KIND_ACTIVITY && rec.category == XS_CAT_EXAM)) {
            if ((err = hub_ledger_put_exam(txn, b->origin, entry.seq)) != XS_OK)
                break;
            if (rec.category == XS_CAT_EXAM && rec.event.len &&
                (err = s_add_event(m, rec.event.ptr, rec.event.len)) != XS_OK)
                break;
        }
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

/* The engine's callback: signs the teacher's receipt while the ledger is valid. */
static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *teacher) {
    s_merge_t *m = ctx;
    const xs_receipt_ident_t *ids = hub_ledger_idents(&m->ledger);
    xs_err err = xs_receipt_build(m->receipt, m->hub->policy, m->hub->policy_hash, teacher,
                                  m->ledger.rows, ids, m->generation, m->now);
    /* After a close nothing changes the closed year's result (schema/year.md §5). */
    if (err == XS_OK)
        err = hub_closed_apply(m->closed, m->txn, teacher, m->ledger.rows, ids, m->receipt);
    xs_writer_reset(&m->signed_env);
    if (err == XS_OK)
        err = xs_receipt_sign(&m->signed_env, m->hub->id, m->receipt);
    return err;
}

/* Re-certifies one teacher from all their accepted records and stores the new receipt, and
 * marks it for every origin that holds records of theirs. Reads first, writes after: values
 * read from the store are valid only until the transaction's next write. */
static xs_err s_certify(s_merge_t *m, xs_txn_t *txn, const xs_certify_exams_t *standings,
                        const s_teacher_t *t) {
    hub_ledger_t *l = &m->ledger;
    xs_err err = hub_ledger_teacher(l, txn, t->id, t->len);
    if (err != XS_OK || l->count == 0)
        return err;
    xs_writer_reset(&m->signed_env);
    err = xs_certify_teacher(m->hub->policy, standings, l->records, l->ids, l->count, NULL, l->rows,
                             s_on_teacher, m);
    if (err != XS_OK || m->signed_env.len == 0)
        return err;
    /* The origins are the ledger's copies, not the store's: the writes may move pages. */
    err = hub_outbox_put(txn, t->id, t->len, m->signed_env.data, m->signed_env.len, l->origins,
                         l->count, m->generation);
    if (err == XS_OK)
        m->stats.teachers++;
    return err;
}

/* Certifies every affected teacher under the county's exam standings. */
static xs_err s_certify_all(s_merge_t *m, xs_txn_t *txn) {
    xs_certify_exams_t *standings = NULL;
    xs_err err;
    if (m->nteachers == 0)
        return XS_OK;
    /* Exam tiers rank each teacher within the event: new results there re-rank everyone who
     * sat it. */
    if ((err = hub_ledger_exams(&m->exams, txn)) != XS_OK)
        return err;
    for (size_t i = 0; i < m->exams.count && m->nevents; i++) {
        const xs_record_t *r = &m->exams.records[i];
        for (size_t e = 0; e < m->nevents; e++)
            if (r->category == XS_CAT_EXAM && r->event.len == m->events[e].len &&
                memcmp(r->event.ptr, m->events[e].name, r->event.len) == 0 &&
                (err = s_add_teacher(m, r->teacher_id.ptr, r->teacher_id.len)) != XS_OK)
                return err;
    }
    if ((err = xs_certify_exams_build(&standings, m->hub->policy, m->exams.records, m->exams.ids,
                                      m->exams.count)) != XS_OK)
        return err;
    qsort(m->teachers, m->nteachers, sizeof *m->teachers, s_cmp_teacher);
    size_t unique = 0;
    for (size_t i = 0; i < m->nteachers; i++)
        if (unique == 0 || s_cmp_teacher(&m->teachers[unique - 1], &m->teachers[i]) != 0)
            m->teachers[unique++] = m->teachers[i];
    m->nteachers = unique;

    err = hub_outbox_next_generation(txn, &m->generation);
    for (size_t i = 0; err == XS_OK && i < m->nteachers; i++)
        err = s_certify(m, txn, standings, &m->teachers[i]);
    xs_certify_exams_destroy(&standings);
    return err;
}

/* The write step; rerunnable: everything it produces is reset first. */
static xs_err s_step(xs_txn_t *txn, void *ctx) {
    s_merge_t *m = ctx;
    int changed;
    memset(&m->stats, 0, sizeof m->stats);
    m->nteachers = m->nevents = 0;
    m->txn = txn;
    hub_closed_cache_reset(m->closed);
    /* `xueshi-hub policy` may have stored a new policy since the last merge: certify under the
     * one stored now (it re-certified everyone already under it). */
    xs_err err = hub_policy_follow(m->hub, txn, &changed);
    if (err == XS_OK && changed)
        m->stats.policy_changed = 1;
    for (size_t i = 0; err == XS_OK && i < m->n; i++)
        err = s_merge_item(m, txn, &m->items[i]);
    if (err == XS_OK)
        err = s_certify_all(m, txn);
    return err;
}

/* Starts a merge or re-certification of hub's store: the receipt buffers; XS_ENOMEM. */
static xs_err s_begin(s_merge_t *m, hub_t *hub) {
    memset(m, 0, sizeof *m);
    m->hub = hub;
    m->now = (int64_t)time(NULL);
    xs_writer_init(&m->signed_env, XS_RECEIPT_MAX_BYTES);
    if (!(m->receipt = malloc(sizeof *m->receipt)))
        return XS_ENOMEM;
    return hub_closed_cache_new(&m->closed, hub);
}

/* Frees what s_begin and the steps after it allocated. */
static void s_end(s_merge_t *m) {
    hub_ledger_free(&m->ledger);
    hub_ledger_free(&m->exams);
    free(m->teachers);
    free(m->events);
    free(m->receipt);
    hub_closed_cache_destroy(&m->closed);
    xs_writer_free(&m->signed_env);
}

xs_err hub_merge(hub_t *hub, hub_item_t *items, size_t n, hub_merge_stats_t *stats) {
    s_merge_t m;
    xs_err err = s_begin(&m, hub);
    m.items = items;
    m.n = n;
    if (err == XS_OK)
        err = xs_store_update(hub->store, s_step, &m);
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
    s_end(&m);
    return err;
}

/* Collects a teacher of the ledger's index for hub_recertify. */
static xs_err s_collect_teacher(void *ctx, const char *teacher, size_t len) {
    return s_add_teacher(ctx, teacher, len);
}

xs_err hub_recertify(hub_t *hub, xs_txn_t *txn, hub_progress_fn progress, void *ctx,
                     hub_recertify_stats_t *stats) {
    s_merge_t m;
    xs_certify_exams_t *standings = NULL;
    memset(stats, 0, sizeof *stats);
    xs_err err = s_begin(&m, hub);
    m.txn = txn;
    /* Every teacher first (the walk reads), then certify and write one by one. */
    if (err == XS_OK)
        err = hub_ledger_teachers_each(txn, s_collect_teacher, &m);
    if (err == XS_OK)
        err = hub_ledger_exams(&m.exams, txn);
    if (err == XS_OK)
        err = xs_certify_exams_build(&standings, hub->policy, m.exams.records, m.exams.ids,
                                     m.exams.count);
    if (err == XS_OK)
        err = hub_outbox_next_generation(txn, &m.generation);
    for (size_t i = 0; err == XS_OK && i < m.nteachers; i++) {
        err = s_certify(&m, txn, standings, &m.teachers[i]);
        if (err == XS_OK && progress)
            progress(ctx, i + 1, m.nteachers);
    }
    if (err == XS_OK) {
        stats->teachers = m.nteachers;
        stats->receipts = m.stats.teachers;
        stats->generation = m.generation;
    }
    xs_certify_exams_destroy(&standings);
    s_end(&m);
    return err;
}
