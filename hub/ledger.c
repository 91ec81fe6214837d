/* ledger: the owner of HUB_T_CHAIN, HUB_T_BATCHES, HUB_T_ACKS, HUB_T_RECORDS, HUB_T_TEACHERS,
 * HUB_T_EXAMS and HUB_T_FORKS; loads accepted records for the certification engine.
 *
 * Invariants, all kept inside one merge transaction, and the function that moves each:
 *   - CHAIN's batch entries (origin + first_seq keys), BATCHES and ACKS have the same keys: a
 *     stored batch has its chain entry (hub_ledger_put_batch, with the envelope) and the ACK
 *     it was answered with (hub_ledger_put_ack).
 *   - CHAIN also holds, under an origin's bare 32-byte key, its head (xs/chain.h, "Heads"):
 *     the origin holds every seq 1..through in `batches` entries. hub_ledger_put_batch moves
 *     it with each entry it stores (xs_chain_put_headed); hub_ledger_view walks only the
 *     entries past it, so a no-op sync's VIEW costs the same whatever the history. An origin
 *     without a head (a store written before heads) is walked whole, and gets its head with
 *     its next batch. Every walk of entries here checks for 40-byte keys, so none sees it.
 *   - An origin's CHAIN entries never overlap, and an entry next to another links to it:
 *     hub_ledger_check finds any batch that would break this, which is quarantined instead.
 *   - Every seq of a stored batch has one RECORDS entry pointing into that batch's envelope
 *     (hub_ledger_put_record); records are never rewritten: a batch is stored once.
 *   - TEACHERS and EXAMS index accepted records only (hub_ledger_put_teacher,
 *     hub_ledger_put_exam), so loading skips nothing they name. EXAMS holds every exam
 *     record, every correction and every review (merge.c decides): a full run's standings
 *     (xs_certify_exams_build) need what may void or return an exam.
 *   - FORKS only grows (hub_ledger_quarantine); a proof is never removed or replaced. */
#include "ledger.h"

#include <stdlib.h>
#include <string.h>

/* A HUB_T_RECORDS value: the batch's first_seq (8), the record's offset (4) and length (4) in
 * its envelope, its outcome (1). */
#define S_REC_VALUE_BYTES 17
/* A HUB_T_TEACHERS key: teacher_id, 0x00, origin (32), seq (8). */
#define S_TEACHER_KEY_MAX (XS_ID_MAX + 1 + XS_CHAIN_KEY_BYTES)
/* A HUB_T_FORKS key: origin (32), first_seq (8), hash (32). */
#define S_FORK_KEY_BYTES (XS_CHAIN_KEY_BYTES + XS_HASH_BYTES)

/* Reads a HUB_T_CHAIN entry: only the linked form is a hub's. */
static xs_err s_chain_entry(const xs_bytes_t *k, const xs_bytes_t *v, xs_chain_entry_t *e) {
    if (v->len != XS_CHAIN_LINKED_VALUE_BYTES)
        return XS_ECORRUPT;
    return xs_chain_parse(k, v, e);
}

xs_err hub_ledger_check(xs_txn_t *txn, const xs_batch_t *b, int *held, int *fork, int *linked) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_chain_entry_t e;
    xs_bytes_t k, v;
    uint64_t last = b->first_seq + b->count - 1;
    *held = *fork = *linked = 0;
    xs_chain_key(b->origin, b->first_seq, key);
    xs_err err = xs_store_cursor_open(txn, HUB_T_CHAIN, &cur);
    if (err != XS_OK)
        return err;
    /* The first entry at or after first_seq: the same batch, an overlap, or the next link. */
    err = xs_store_cursor_seek(cur, key, sizeof key, &k, &v);
    if (err == XS_OK && k.len == XS_CHAIN_KEY_BYTES && memcmp(k.ptr, b->origin, 32) == 0) {
        if ((err = s_chain_entry(&k, &v, &e)) != XS_OK)
            goto out;
        if (e.first_seq == b->first_seq) {
            if (e.count == b->count && memcmp(e.hash, b->hash, 32) == 0)
                *held = 1;
            else
                *fork = 1;
            goto done;
        }
        if (e.first_seq <= last ||
            (e.first_seq == last + 1 && memcmp(e.prev_hash, b->hash, 32) != 0)) {
            *fork = 1;
            goto done;
        }
    } else if (err != XS_OK && err != XS_ENOTFOUND) {
        goto out;
    }
    /* The last entry before first_seq: an overlap, or the previous link. */
    err = err == XS_OK ? xs_store_cursor_prev(cur, &k, &v) : xs_store_cursor_last(cur, &k, &v);
    if (err == XS_OK && k.len == XS_CHAIN_KEY_BYTES && memcmp(k.ptr, b->origin, 32) == 0) {
        if ((err = s_chain_entry(&k, &v, &e)) != XS_OK)
            goto out;
        /* Its last seq, not one past it: that would wrap to 0 for a batch ending at 2^64 - 1. */
        uint64_t held_last = e.first_seq + e.count - 1;
        if (held_last >= b->first_seq ||
            (held_last + 1 == b->first_seq && memcmp(e.hash, b->prev_hash, 32) != 0))
            *fork = 1;
        else if (held_last + 1 == b->first_seq)
            *linked = 1;
    } else if (err != XS_OK && err != XS_ENOTFOUND) {
        goto out;
    }
done:
    err = XS_OK;
out:
    xs_store_cursor_close(&cur);
    return err;
}

xs_err hub_ledger_ack(xs_txn_t *txn, const uint8_t origin[32], uint64_t first_seq,
                      xs_bytes_t *ack) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_chain_key(origin, first_seq, key);
    xs_err err = xs_store_get(txn, HUB_T_ACKS, key, sizeof key, ack);
    return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
}

xs_err hub_ledger_put_batch(xs_txn_t *txn, const xs_batch_t *b, const uint8_t *envelope,
                            size_t len) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_chain_entry_t e;
    memset(&e, 0, sizeof e);
    e.first_seq = b->first_seq;
    e.count = b->count;
    memcpy(e.hash, b->hash, 32);
    if (b->has_prev_hash)
        memcpy(e.prev_hash, b->prev_hash, 32);
    xs_chain_key(b->origin, b->first_seq, key);
    xs_err err = xs_store_put(txn, HUB_T_BATCHES, key, sizeof key, envelope, len, 0);
    return err == XS_OK ? xs_chain_put_headed(txn, HUB_T_CHAIN, b->origin, &e, 1) : err;
}

xs_err hub_ledger_put_record(xs_txn_t *txn, const xs_batch_t *b, const xs_batch_entry_t *entry,
                             uint8_t outcome) {
    uint8_t key[XS_CHAIN_KEY_BYTES], where[S_REC_VALUE_BYTES];
    xs_store_u64_key(b->first_seq, where);
    xs_store_u32_key((uint32_t)entry->offset, where + 8);
    xs_store_u32_key((uint32_t)entry->len, where + 12);
    where[16] = outcome;
    xs_chain_key(b->origin, entry->seq, key);
    return xs_store_put(txn, HUB_T_RECORDS, key, sizeof key, where, sizeof where, 0);
}

xs_err hub_ledger_put_teacher(xs_txn_t *txn, const char *teacher, size_t len,
                              const uint8_t origin[32], uint64_t seq) {
    uint8_t key[S_TEACHER_KEY_MAX];
    if (len == 0 || len > XS_ID_MAX)
        return XS_EINVAL;
    memcpy(key, teacher, len);
    key[len] = 0;
    xs_chain_key(origin, seq, key + len + 1);
    return xs_store_put(txn, HUB_T_TEACHERS, key, len + 1 + XS_CHAIN_KEY_BYTES, "", 0, 0);
}

xs_err hub_ledger_put_exam(xs_txn_t *txn, const uint8_t origin[32], uint64_t seq) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_chain_key(origin, seq, key);
    return xs_store_put(txn, HUB_T_EXAMS, key, sizeof key, "", 0, 0);
}

xs_err hub_ledger_put_ack(xs_txn_t *txn, const xs_batch_t *b, const uint8_t *ack, size_t len) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_chain_key(b->origin, b->first_seq, key);
    return xs_store_put(txn, HUB_T_ACKS, key, sizeof key, ack, len, 0);
}

xs_err hub_ledger_quarantine(xs_txn_t *txn, const xs_batch_t *b, const uint8_t *envelope,
                             size_t len, int *added) {
    uint8_t key[S_FORK_KEY_BYTES];
    xs_bytes_t v;
    *added = 0;
    xs_chain_key(b->origin, b->first_seq, key);
    memcpy(key + XS_CHAIN_KEY_BYTES, b->hash, XS_HASH_BYTES);
    xs_err err = xs_store_get(txn, HUB_T_FORKS, key, sizeof key, &v);
    if (err != XS_ENOTFOUND)
        return err;
    *added = 1;
    return xs_store_put(txn, HUB_T_FORKS, key, sizeof key, envelope, len, 0);
}

xs_err hub_ledger_batches_each(xs_txn_t *txn, const uint8_t origin[32], uint64_t from_seq,
                               xs_err (*fn)(void *ctx, const xs_chain_entry_t *e,
                                            const uint8_t *envelope, size_t len),
                               void *ctx) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v, env;
    xs_chain_entry_t e;
    uint64_t next = 0; /* the seq the next batch must start at; 0: the first, any */
    xs_err err = xs_store_cursor_open(txn, HUB_T_CHAIN, &cur);
    if (err != XS_OK)
        return err;
    /* The batch holding from_seq starts at or before it: step back one entry from the first
     * at or after from_seq (or from the table's end), unless that lands on another origin. */
    xs_chain_key(origin, from_seq, key);
    err = xs_store_cursor_seek(cur, key, sizeof key, &k, &v);
    int exact = err == XS_OK && k.len == sizeof key && memcmp(k.ptr, key, sizeof key) == 0;
    if (!exact && (err == XS_OK || err == XS_ENOTFOUND)) {
        err = err == XS_OK ? xs_store_cursor_prev(cur, &k, &v) : xs_store_cursor_last(cur, &k, &v);
        int ours = err == XS_OK && k.len == XS_CHAIN_KEY_BYTES && memcmp(k.ptr, origin, 32) == 0;
        if (!ours && (err == XS_OK || err == XS_ENOTFOUND))
            err = xs_store_cursor_seek(cur, key, sizeof key, &k, &v);
    }
    for (; err == XS_OK; err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != XS_CHAIN_KEY_BYTES || memcmp(k.ptr, origin, 32) != 0)
            break;
        if ((err = s_chain_entry(&k, &v, &e)) != XS_OK)
            break;
        if (e.first_seq + e.count - 1 < from_seq)
            continue;
        if (next && e.first_seq != next)
            break; /* a gap */
        if ((err = xs_store_get(txn, HUB_T_BATCHES, k.ptr, k.len, &env)) != XS_OK) {
            err = err == XS_ENOTFOUND ? XS_ECORRUPT : err;
            break;
        }
        if ((err = fn(ctx, &e, env.ptr, env.len)) != XS_OK)
            break;
        next = e.first_seq + e.count;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* Stops a walk at the first batch, keeping its entry. */
static xs_err s_first_entry(void *ctx, const xs_chain_entry_t *e, const uint8_t *envelope,
                            size_t len) {
    (void)envelope;
    (void)len;
    *(xs_chain_entry_t *)ctx = *e;
    return XS_EEXIST;
}

xs_err hub_ledger_ending(xs_txn_t *txn, const uint8_t origin[32], uint64_t seq,
                         xs_chain_entry_t *e) {
    memset(e, 0, sizeof *e);
    xs_err err = hub_ledger_batches_each(txn, origin, seq, s_first_entry, e);
    if (err == XS_EEXIST && e->first_seq + e->count - 1 == seq)
        return XS_OK;
    return err == XS_OK || err == XS_EEXIST ? XS_ENOTFOUND : err;
}

xs_err hub_ledger_view(xs_txn_t *txn, const uint8_t origin[32], xs_chain_view_t *view) {
    return xs_chain_view_headed(txn, HUB_T_CHAIN, origin, view);
}

xs_err hub_ledger_forks_each(xs_txn_t *txn, const uint8_t origin[32],
                             xs_err (*fn)(void *ctx, uint64_t first_seq, const uint8_t hash[32],
                                          const uint8_t *envelope, size_t len),
                             void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_err err = xs_store_cursor_open(txn, HUB_T_FORKS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, origin, 32, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        const uint8_t *key = k.ptr;
        if (k.len < 32 || memcmp(key, origin, 32) != 0)
            break;
        if (k.len != S_FORK_KEY_BYTES) {
            err = XS_ECORRUPT;
            goto out;
        }
        if ((err = fn(ctx, xs_store_key_u64(key + 32), key + XS_CHAIN_KEY_BYTES, v.ptr, v.len)) !=
            XS_OK)
            goto out; /* fn's own error, even XS_ENOTFOUND */
    }
    if (err == XS_ENOTFOUND)
        err = XS_OK;
out:
    xs_store_cursor_close(&cur);
    return err;
}

static xs_err s_fork_point(void *ctx, uint64_t first_seq, const uint8_t hash[32],
                           const uint8_t *envelope, size_t len) {
    uint64_t *seq = ctx;
    xs_batch_t proof;
    (void)hash;
    /* Its last seq needs its count: open the proof (forks are rare). */
    uint64_t last = xs_batch_open(envelope, len, &proof) == XS_OK
                        ? proof.first_seq + (proof.count - 1)
                        : first_seq;
    if (last > *seq)
        *seq = last;
    return XS_OK;
}

/* A batch looking for the quarantined one it would continue. */
typedef struct s_follow {
    const xs_batch_t *b;
    int follows;
} s_follow_t;

static xs_err s_follows(void *ctx, uint64_t first_seq, const uint8_t hash[32],
                        const uint8_t *envelope, size_t len) {
    s_follow_t *f = ctx;
    xs_batch_t proof;
    if (first_seq >= f->b->first_seq || memcmp(hash, f->b->prev_hash, 32) != 0)
        return XS_OK;
    /* Only a proof whose hash it names: open it for its count (forks are rare). */
    if (xs_batch_open(envelope, len, &proof) == XS_OK &&
        proof.first_seq + proof.count == f->b->first_seq) {
        f->follows = 1;
        return XS_EEXIST; /* found: stop */
    }
    return XS_OK;
}

xs_err hub_ledger_follows_fork(xs_txn_t *txn, const xs_batch_t *b, int *follows) {
    s_follow_t f = {b, 0};
    *follows = 0;
    if (!b->has_prev_hash)
        return XS_OK;
    xs_err err = hub_ledger_forks_each(txn, b->origin, s_follows, &f);
    *follows = f.follows;
    return err == XS_EEXIST ? XS_OK : err;
}

xs_err hub_ledger_fork_point(xs_txn_t *txn, const uint8_t origin[32], uint64_t *seq) {
    *seq = 0;
    return hub_ledger_forks_each(txn, origin, s_fork_point, seq);
}

xs_err hub_ledger_teachers_each(xs_txn_t *txn,
                                xs_err (*fn)(void *ctx, const char *teacher, size_t len),
                                void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    char last[XS_ID_MAX + 1];
    size_t last_len = 0;
    xs_err err = xs_store_cursor_open(txn, HUB_T_TEACHERS, &cur);
    if (err != XS_OK)
        return err;
    /* The index is sorted by teacher: each teacher's entries are one run. */
    for (err = xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        const char *key = k.ptr;
        const char *nul = memchr(key, 0, k.len);
        if (!nul || (size_t)(nul - key) > XS_ID_MAX) {
            err = XS_ECORRUPT;
            goto out;
        }
        size_t len = (size_t)(nul - key);
        if (len == last_len && memcmp(key, last, len) == 0)
            continue;
        memcpy(last, key, len);
        last_len = len;
        if ((err = fn(ctx, last, len)) != XS_OK)
            goto out; /* fn's own error, even XS_ENOTFOUND */
    }
    if (err == XS_ENOTFOUND)
        err = XS_OK;
out:
    xs_store_cursor_close(&cur);
    return err;
}

xs_err hub_ledger_counts(xs_txn_t *txn, uint64_t *indexed, uint64_t *held) {
    xs_err err = xs_store_count(txn, HUB_T_TEACHERS, indexed);
    return err == XS_OK ? xs_store_count(txn, HUB_T_RECORDS, held) : err;
}

/* Decodes the record a HUB_T_RECORDS entry (origin's, value where) points at into *rec. */
static xs_err s_decode_at(xs_txn_t *txn, const uint8_t origin[32], const xs_bytes_t *where,
                          xs_record_t *rec) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_bytes_t env;
    const uint8_t *w = where->ptr;
    if (where->len != S_REC_VALUE_BYTES)
        return XS_ECORRUPT;
    uint32_t offset = xs_store_key_u32(w + 8);
    uint32_t len = xs_store_key_u32(w + 12);
    xs_chain_key(origin, xs_store_key_u64(w), key);
    xs_err err = xs_store_get(txn, HUB_T_BATCHES, key, sizeof key, &env);
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    if ((size_t)offset + len > env.len ||
        xs_record_decode_bytes((const uint8_t *)env.ptr + offset, len, rec) != XS_OK)
        return XS_ECORRUPT;
    return XS_OK;
}

xs_err hub_ledger_record(xs_txn_t *txn, const uint8_t origin[32], uint64_t seq, xs_record_t *rec,
                         uint8_t *outcome) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_bytes_t where;
    xs_chain_key(origin, seq, key);
    xs_err err = xs_store_get(txn, HUB_T_RECORDS, key, sizeof key, &where);
    if (err != XS_OK)
        return err;
    if (where.len != S_REC_VALUE_BYTES)
        return XS_ECORRUPT;
    *outcome = ((const uint8_t *)where.ptr)[16];
    return s_decode_at(txn, origin, &where, rec);
}

/* Walks every held record; with unindexed, only those no teacher index names. */
static xs_err s_records_walk(xs_txn_t *txn, int unindexed,
                             xs_err (*fn)(void *ctx, const uint8_t origin[32], uint64_t seq,
                                          const xs_record_t *rec, uint8_t outcome),
                             void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_record_t rec;
    xs_err err = xs_store_cursor_open(txn, HUB_T_RECORDS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        uint8_t origin[32];
        if (k.len != XS_CHAIN_KEY_BYTES || v.len != S_REC_VALUE_BYTES) {
            err = XS_ECORRUPT;
            break;
        }
        memcpy(origin, k.ptr, 32);
        uint8_t outcome = ((const uint8_t *)v.ptr)[16];
        if ((err = s_decode_at(txn, origin, &v, &rec)) != XS_OK)
            break;
        /* merge.c indexes exactly the accepted records with a teacher_id. */
        if (unindexed && outcome == HUB_OUTCOME_ACCEPTED && rec.teacher_id.len > 0)
            continue;
        if ((err = fn(ctx, origin, xs_store_key_u64((const uint8_t *)k.ptr + 32), &rec, outcome)) !=
            XS_OK)
            goto out; /* fn's own error, even XS_ENOTFOUND */
    }
    if (err == XS_ENOTFOUND)
        err = XS_OK;
out:
    xs_store_cursor_close(&cur);
    return err;
}

xs_err hub_ledger_unindexed_each(xs_txn_t *txn,
                                 xs_err (*fn)(void *ctx, const uint8_t origin[32], uint64_t seq,
                                              const xs_record_t *rec, uint8_t outcome),
                                 void *ctx) {
    return s_records_walk(txn, 1, fn, ctx);
}

xs_err hub_ledger_records_each(xs_txn_t *txn,
                               xs_err (*fn)(void *ctx, const uint8_t origin[32], uint64_t seq,
                                            const xs_record_t *rec, uint8_t outcome),
                               void *ctx) {
    return s_records_walk(txn, 0, fn, ctx);
}

xs_err hub_ledger_teacher_each(xs_txn_t *txn, const char *teacher, size_t len,
                               xs_err (*fn)(void *ctx, const uint8_t origin[32], uint64_t seq),
                               void *ctx) {
    uint8_t key[XS_ID_MAX + 1];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    if (len == 0 || len > XS_ID_MAX)
        return XS_EINVAL;
    memcpy(key, teacher, len);
    key[len] = 0;
    xs_err err = xs_store_cursor_open(txn, HUB_T_TEACHERS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, key, len + 1, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != len + 1 + XS_CHAIN_KEY_BYTES || memcmp(k.ptr, key, len + 1) != 0)
            break;
        const uint8_t *rest = (const uint8_t *)k.ptr + len + 1;
        uint8_t origin[32];
        memcpy(origin, rest, 32);
        if ((err = fn(ctx, origin, xs_store_key_u64(rest + 32))) != XS_OK)
            goto out; /* fn's own error, even XS_ENOTFOUND */
    }
    if (err == XS_ENOTFOUND)
        err = XS_OK;
out:
    xs_store_cursor_close(&cur);
    return err;
}

void hub_ledger_reset(hub_ledger_t *l) {
    l->count = 0;
}

void hub_ledger_free(hub_ledger_t *l) {
    free(l->records);
    free(l->ids);
    free(l->origins);
    free(l->seqs);
    free(l->idents);
    free(l->rows);
    free(l->numbers);
    memset(l, 0, sizeof *l);
}

static xs_err s_grow(hub_ledger_t *l) {
    if (l->count < l->cap)
        return XS_OK;
    size_t cap = l->cap ? l->cap * 2 : 256;
#define S_REALLOC(field)                                                                           \
    do {                                                                                           \
        void *p = realloc(l->field, cap * sizeof *l->field);                                       \
        if (!p)                                                                                    \
            return XS_ENOMEM;                                                                      \
        l->field = p;                                                                              \
    } while (0)
    S_REALLOC(records);
    S_REALLOC(ids);
    S_REALLOC(origins);
    S_REALLOC(seqs);
    S_REALLOC(idents);
    S_REALLOC(rows);
#undef S_REALLOC
    l->cap = cap;
    return XS_OK;
}

/* The enrollment number of origin, from the cache or the nodes table. */
static xs_err s_number(hub_ledger_t *l, xs_txn_t *txn, const uint8_t origin[32], uint32_t *out) {
    for (size_t i = 0; i < l->nnumbers; i++)
        if (memcmp(l->numbers[i].origin, origin, 32) == 0) {
            *out = l->numbers[i].number;
            return XS_OK;
        }
    hub_node_t node;
    xs_err err = hub_node_get(txn, origin, &node);
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    if (l->nnumbers == l->numbers_cap) {
        size_t cap = l->numbers_cap ? l->numbers_cap * 2 : 16;
        void *p = realloc(l->numbers, cap * sizeof *l->numbers);
        if (!p)
            return XS_ENOMEM;
        l->numbers = p;
        l->numbers_cap = cap;
    }
    memcpy(l->numbers[l->nnumbers].origin, origin, 32);
    l->numbers[l->nnumbers++].number = node.number;
    *out = node.number;
    return XS_OK;
}

/* Loads record (origin, seq) when it was accepted. */
static xs_err s_add(hub_ledger_t *l, xs_txn_t *txn, const uint8_t origin[32], uint64_t seq) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_bytes_t where;
    uint32_t number;
    xs_chain_key(origin, seq, key);
    xs_err err = xs_store_get(txn, HUB_T_RECORDS, key, sizeof key, &where);
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    if (where.len != S_REC_VALUE_BYTES)
        return XS_ECORRUPT;
    if (((const uint8_t *)where.ptr)[16] != HUB_OUTCOME_ACCEPTED)
        return XS_OK;
    if ((err = s_grow(l)) != XS_OK || (err = s_number(l, txn, origin, &number)) != XS_OK)
        return err;
    xs_record_t *rec = &l->records[l->count];
    if ((err = s_decode_at(txn, origin, &where, rec)) != XS_OK)
        return err;
    uint64_t high = (uint64_t)number << HUB_ID_SEQ_BITS;
    /* Corrections void, and reviews review, a record of their own origin. */
    if (rec->kind == XS_KIND_CORRECTION)
        rec->voids = high | rec->voids;
    else if (rec->kind == XS_KIND_REVIEW)
        rec->reviews = high | rec->reviews;
    l->ids[l->count] = high | seq;
    memcpy(l->origins[l->count], origin, 32);
    l->seqs[l->count] = seq;
    l->count++;
    return XS_OK;
}

typedef struct s_teacher_load {
    hub_ledger_t *l;
    xs_txn_t *txn;
} s_teacher_load_t;

static xs_err s_teacher_add(void *ctx, const uint8_t origin[32], uint64_t seq) {
    s_teacher_load_t *t = ctx;
    return s_add(t->l, t->txn, origin, seq);
}

xs_err hub_ledger_teacher(hub_ledger_t *l, xs_txn_t *txn, const char *teacher, size_t len) {
    s_teacher_load_t t = {l, txn};
    hub_ledger_reset(l);
    return hub_ledger_teacher_each(txn, teacher, len, s_teacher_add, &t);
}

xs_err hub_ledger_exams(hub_ledger_t *l, xs_txn_t *txn) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    hub_ledger_reset(l);
    xs_err err = xs_store_cursor_open(txn, HUB_T_EXAMS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        uint8_t origin[32];
        if (k.len != XS_CHAIN_KEY_BYTES) {
            err = XS_ECORRUPT;
            break;
        }
        memcpy(origin, k.ptr, 32);
        if ((err = s_add(l, txn, origin, xs_store_key_u64((const uint8_t *)k.ptr + 32))) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

const xs_receipt_ident_t *hub_ledger_idents(hub_ledger_t *l) {
    for (size_t i = 0; i < l->count; i++) {
        l->idents[i].origin = l->origins[i];
        l->idents[i].seq = l->seqs[i];
    }
    return l->idents;
}
