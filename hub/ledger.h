/* ledger: what the hub holds of every origin's batches (the chain, the envelopes verbatim,
 * the ACK sent for each, the index of records, teachers and exams, the quarantined forks),
 * and loading a teacher's (or every exam's) accepted records for the certification engine. */
#ifndef HUB_LEDGER_H
#define HUB_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "xs/batch.h"
#include "xs/certify.h"
#include "xs/receipt.h"

/* A record's outcome at merge: accepted, or else an xs_reason (out_of_scope, malformed). */
#define HUB_OUTCOME_ACCEPTED 0

/* Bits of an engine id below the origin's enrollment number: seq < 2^40 per origin. */
#define HUB_ID_SEQ_BITS 40

/* ---- storing batches (inside hub_merge's write transaction) ---- */

/* Does batch b agree with the chain held for its origin? Sets *held when the identical batch
 * is there, *fork when a different one claims any of its sequence numbers or a link breaks
 * (protocol.md §2.1), *linked when the batch ending at first_seq - 1 is held and b's
 * prev_hash is its hash (b continues the held chain). XS_ECORRUPT on a chain entry that is
 * not the linked form. */
XS_MUST_USE xs_err hub_ledger_check(xs_txn_t *txn, const xs_batch_t *b, int *held, int *fork,
                                    int *linked);
/* Reads the ACK frame stored for the held batch (origin, first_seq) into *ack (borrowed until
 * the transaction ends or writes). XS_ECORRUPT when the batch has none. */
XS_MUST_USE xs_err hub_ledger_ack(xs_txn_t *txn, const uint8_t origin[32], uint64_t first_seq,
                                  xs_bytes_t *ack);
/* Stores new batch b, its envelope (len bytes, verbatim) and its chain entry. */
XS_MUST_USE xs_err hub_ledger_put_batch(xs_txn_t *txn, const xs_batch_t *b, const uint8_t *envelope,
                                        size_t len);
/* Indexes record entry of the stored batch b with its outcome (HUB_OUTCOME_ACCEPTED or an
 * xs_reason). */
XS_MUST_USE xs_err hub_ledger_put_record(xs_txn_t *txn, const xs_batch_t *b,
                                         const xs_batch_entry_t *entry, uint8_t outcome);
/* Indexes the accepted record (origin, seq) under its teacher (len bytes, 1..XS_ID_MAX). */
XS_MUST_USE xs_err hub_ledger_put_teacher(xs_txn_t *txn, const char *teacher, size_t len,
                                          const uint8_t origin[32], uint64_t seq);
/* Indexes the accepted record (origin, seq) among the exam records, corrections and
 * reviews. */
XS_MUST_USE xs_err hub_ledger_put_exam(xs_txn_t *txn, const uint8_t origin[32], uint64_t seq);
/* Decodes the record (origin, seq) the hub holds, whatever its outcome, into *rec (strings
 * borrow the store until the transaction's next write) and its outcome into *outcome.
 * XS_ENOTFOUND when the hub holds no such record, XS_ECORRUPT. */
XS_MUST_USE xs_err hub_ledger_record(xs_txn_t *txn, const uint8_t origin[32], uint64_t seq,
                                     xs_record_t *rec, uint8_t *outcome);
/* Stores the ACK frame (len bytes) sent for the stored batch b, for its repeats. */
XS_MUST_USE xs_err hub_ledger_put_ack(xs_txn_t *txn, const xs_batch_t *b, const uint8_t *ack,
                                      size_t len);
/* Quarantines batch b as a fork: its envelope (len bytes) kept forever as proof, under the
 * hash it disagrees with. *added is 0 when that very batch was quarantined before. */
XS_MUST_USE xs_err hub_ledger_quarantine(xs_txn_t *txn, const xs_batch_t *b,
                                         const uint8_t *envelope, size_t len, int *added);

/* ---- reading what is held ---- */

/* What the hub holds of origin's chain (xs_chain_view): read from the origin's head and the
 * entries past it, the same work whatever the length of the chain. XS_ECORRUPT on a damaged
 * head or entry. */
XS_MUST_USE xs_err hub_ledger_view(xs_txn_t *txn, const uint8_t origin[32], xs_chain_view_t *view);
/* Calls fn for every quarantined batch of origin, by first_seq then hash, with the proof's
 * envelope (borrowed until the transaction ends or writes), until fn returns other than
 * XS_OK; returns that, or XS_OK after the last. */
XS_MUST_USE xs_err hub_ledger_forks_each(xs_txn_t *txn, const uint8_t origin[32],
                                         xs_err (*fn)(void *ctx, uint64_t first_seq,
                                                      const uint8_t hash[32],
                                                      const uint8_t *envelope, size_t len),
                                         void *ctx);
/* Calls fn for origin's held batches from the one holding seq from_seq on, ascending and
 * contiguous (the walk ends at the first gap), with each chain entry and envelope (borrowed
 * until the transaction ends or writes), until fn returns other than XS_OK; returns that, or
 * XS_OK after the last. XS_ECORRUPT when an entry has no envelope. */
XS_MUST_USE xs_err hub_ledger_batches_each(xs_txn_t *txn, const uint8_t origin[32],
                                           uint64_t from_seq,
                                           xs_err (*fn)(void *ctx, const xs_chain_entry_t *e,
                                                        const uint8_t *envelope, size_t len),
                                           void *ctx);

/* The batch of origin ending exactly at seq: its chain entry. XS_ENOTFOUND when no held batch
 * ends there. */
XS_MUST_USE xs_err hub_ledger_ending(xs_txn_t *txn, const uint8_t origin[32], uint64_t seq,
                                     xs_chain_entry_t *e);

/* *follows = 1 when batch b starts right after one of its origin's quarantined batches and
 * links to it (its prev_hash is that batch's hash): it continues the fork's side. */
XS_MUST_USE xs_err hub_ledger_follows_fork(xs_txn_t *txn, const xs_batch_t *b, int *follows);

/* The highest last seq of origin's quarantined batches into *seq; 0: none. */
XS_MUST_USE xs_err hub_ledger_fork_point(xs_txn_t *txn, const uint8_t origin[32], uint64_t *seq);
/* Calls fn once for every teacher with indexed records, in teacher_id byte order, until fn
 * returns other than XS_OK; returns that, or XS_OK after the last. teacher is a copy, valid
 * during the call. */
XS_MUST_USE xs_err hub_ledger_teachers_each(
    xs_txn_t *txn, xs_err (*fn)(void *ctx, const char *teacher, size_t len), void *ctx);

/* How many accepted records are indexed under a teacher (what the teachers walk loads), and
 * how many records are held in all (what hub_ledger_unindexed_each walks), into *indexed and
 * *held: the totals a report's progress counts toward. */
XS_MUST_USE xs_err hub_ledger_counts(xs_txn_t *txn, uint64_t *indexed, uint64_t *held);

/* Calls fn, in (origin, seq) order, for every held record no teacher index names: refused at
 * merge (outcome an xs_reason, out_of_scope), or accepted without a teacher_id. rec borrows
 * the store until the transaction ends or writes. Stops at fn's first error and returns it;
 * XS_ECORRUPT on an entry that does not point at a decodable record. */
XS_MUST_USE xs_err hub_ledger_unindexed_each(xs_txn_t *txn,
                                             xs_err (*fn)(void *ctx, const uint8_t origin[32],
                                                          uint64_t seq, const xs_record_t *rec,
                                                          uint8_t outcome),
                                             void *ctx);

/* Calls fn, in (origin, seq) order, for every held record with its outcome; rec borrows the
 * store until the transaction ends or writes. Stops at fn's first error and returns it;
 * XS_ECORRUPT on an entry that does not point at a decodable record. */
XS_MUST_USE xs_err hub_ledger_records_each(xs_txn_t *txn,
                                           xs_err (*fn)(void *ctx, const uint8_t origin[32],
                                                        uint64_t seq, const xs_record_t *rec,
                                                        uint8_t outcome),
                                           void *ctx);

/* Calls fn for every record indexed under teacher (len bytes), in (origin, seq) order, until
 * fn returns other than XS_OK; returns that, or XS_OK after the last. */
XS_MUST_USE xs_err hub_ledger_teacher_each(xs_txn_t *txn, const char *teacher, size_t len,
                                           xs_err (*fn)(void *ctx, const uint8_t origin[32],
                                                        uint64_t seq),
                                           void *ctx);

/* ---- loading records for the engine ---- */

/* Records loaded for the engine. Records' strings borrow the store: valid until the
 * transaction's next write or its end. */
typedef struct hub_ledger {
    xs_record_t *records;       /* decoded records */
    uint64_t *ids;              /* engine ids: origin number << 40 | seq */
    uint8_t (*origins)[32];     /* each record's origin */
    uint64_t *seqs;             /* each record's seq */
    xs_receipt_ident_t *idents; /* (origin, seq), set by hub_ledger_idents */
    xs_certify_row_t *rows;     /* the engine's output, one per record */
    size_t count, cap;
    struct {
        uint8_t origin[32];
        uint32_t number;
    } * numbers; /* origins seen, with their enrollment number */
    size_t nnumbers, numbers_cap;
} hub_ledger_t;

/* Forgets the records (keeps allocations and the origin numbers). */
void hub_ledger_reset(hub_ledger_t *l);
/* Frees everything; the ledger is zeroed. */
void hub_ledger_free(hub_ledger_t *l);

/* Loads every accepted record of teacher (len bytes), replacing what l held. */
XS_MUST_USE xs_err hub_ledger_teacher(hub_ledger_t *l, xs_txn_t *txn, const char *teacher,
                                      size_t len);
/* Loads every accepted exam record of the county, replacing what l held. */
XS_MUST_USE xs_err hub_ledger_exams(hub_ledger_t *l, xs_txn_t *txn);
/* Points idents at origins (after the last load) and returns them. */
const xs_receipt_ident_t *hub_ledger_idents(hub_ledger_t *l);

#endif
