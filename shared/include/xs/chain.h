/* chain: what a store holds of one origin's batch chain: contiguous head, highest seq, gaps. */
#ifndef XS_CHAIN_H
#define XS_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"
#include "xs/store.h"

/* Most gaps a view lists (protocol.md §5, VIEW). */
#define XS_CHAIN_MAX_GAPS 256
/* A chain table's key: the origin's 32-byte key, then first_seq (8 bytes, big-endian). */
#define XS_CHAIN_KEY_BYTES 40

/* What a store holds of one origin. */
typedef struct xs_chain_view {
    uint64_t have_through;               /* every seq ≤ it is held */
    uint64_t held_max;                   /* the highest seq held; 0: none */
    uint64_t gaps[XS_CHAIN_MAX_GAPS][2]; /* missing [from, to] ranges below held_max */
    size_t gap_count;                    /* gaps listed (the first XS_CHAIN_MAX_GAPS) */
    uint64_t batches;                    /* batches held */
} xs_chain_view_t;

/* Computes origin's view from table, whose keys are XS_CHAIN_KEY_BYTES (origin, first_seq)
 * and whose values begin with the batch's record count (4 bytes, big-endian), inside txn.
 * XS_ECORRUPT on a value shorter than that. */
XS_MUST_USE xs_err xs_chain_view(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                                 xs_chain_view_t *view);
/* xs_chain_view when the table's owner knows that origin holds every seq 1..through, in
 * `batches` batches, and no batch starting at through + 1 (a summary it keeps as the chain
 * moves): walks only the entries after through. through = batches = 0 is xs_chain_view. */
XS_MUST_USE xs_err xs_chain_view_after(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                                       uint64_t through, uint64_t batches, xs_chain_view_t *view);

/* A chain table's value: the batch's record count (4 bytes, big-endian) and hash (32), then,
 * in tables that keep links, its prev_hash (32; zeros for the first batch). */
#define XS_CHAIN_VALUE_BYTES 36
#define XS_CHAIN_LINKED_VALUE_BYTES 68

/* One batch as a chain table holds it. */
typedef struct xs_chain_entry {
    uint64_t first_seq;    /* its first sequence number */
    uint32_t count;        /* its records */
    uint8_t hash[32];      /* the hash of its body */
    uint8_t prev_hash[32]; /* the hash it links to; zeros when not kept or the first */
} xs_chain_entry_t;

/* Writes origin's entry e into table: with link, the prev_hash too (68 bytes), else 36. */
XS_MUST_USE xs_err xs_chain_put(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                                const xs_chain_entry_t *e, int link);

/* Parses a chain table's key k and value v into *e. XS_ECORRUPT when either is not one. */
XS_MUST_USE xs_err xs_chain_parse(const xs_bytes_t *k, const xs_bytes_t *v, xs_chain_entry_t *e);

/* Reads origin's entry for the batch starting at first_seq. XS_ENOTFOUND, XS_ECORRUPT. */
XS_MUST_USE xs_err xs_chain_get(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                                uint64_t first_seq, xs_chain_entry_t *e);

/* Heads. A table may keep, under an origin's bare 32-byte key, the origin's head: through (8)
 * and batches (8), big-endian, such that the origin holds every seq 1..through in `batches`
 * entries and no entry starts at through + 1. The bare key sorts before the origin's entries;
 * a walk of entries must step over keys that are not XS_CHAIN_KEY_BYTES long. */
#define XS_CHAIN_HEAD_BYTES 16

/* xs_chain_put, and moves origin's head past e and every entry that now continues it (an
 * origin without a head gets one: its entries are walked once). Inside one write
 * transaction. XS_ECORRUPT on a damaged head or entry. */
XS_MUST_USE xs_err xs_chain_put_headed(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                                       const xs_chain_entry_t *e, int link);
/* xs_chain_view of a table kept with xs_chain_put_headed: reads the head and walks only the
 * entries after it, the same work whatever the chain's length (an origin without a head is
 * walked whole). XS_ECORRUPT on a damaged head. */
XS_MUST_USE xs_err xs_chain_view_headed(xs_txn_t *txn, unsigned table, const uint8_t origin[32],
                                        xs_chain_view_t *view);

/* Builds the key origin + big-endian seq. */
void xs_chain_key(const uint8_t origin[32], uint64_t seq, uint8_t key[XS_CHAIN_KEY_BYTES]);

#endif
