/* batch: sealing consecutive records into a signed, hash-chained envelope, and opening one.
 * Normative format: schema/protocol.md §2. */
#ifndef XS_BATCH_H
#define XS_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/record.h"

/* Body formats (protocol.md §2, element 0): format 1 carries version-1 records only; format 2
 * carries records of versions 1 and 2, at least one of version 2; format 3 carries records of
 * versions 1..3, at least one of version 3 (a review). The sealer writes the lowest format
 * that carries its records, so a batch of version-1 records keeps its format-1 bytes. */
#define XS_BATCH_FORMAT_FIRST 1
#define XS_BATCH_FORMAT 3 /* the highest format this module knows */
/* Largest envelope accepted or written, in bytes (protocol.md §2). */
#define XS_BATCH_MAX_BYTES (1024 * 1024)
/* Most records one batch may hold (protocol.md §2, `count`). */
#define XS_BATCH_MAX_RECORDS 4096
/* What a node puts in one batch at most: records, and bytes of records (protocol.md §2);
 * sealing does not enforce these, the node's sync loop does. */
#define XS_BATCH_SEAL_RECORDS 1024
#define XS_BATCH_SEAL_BYTES (256 * 1024)
/* Length of the body's fixed prefix: 0x98, the format (0x01..0x03), 0xc4 0x20 and the
 * 32-byte origin. */
#define XS_BATCH_PREFIX_BYTES 36

/* One already-encoded record handed to xs_batch_seal; bytes are the caller's. */
typedef struct xs_batch_slice {
    const void *ptr; /* the record's msgpack bytes (records.md §4) */
    size_t len;      /* their count, at most XS_RECORD_MAX */
} xs_batch_slice_t;

/* An opened, verified batch. Every pointer borrows the envelope given to xs_batch_open and is
 * valid while those bytes are. */
typedef struct xs_batch {
    uint8_t format;                     /* body format, 1..3 */
    uint8_t origin[XS_SIGN_PK_BYTES];   /* the sealing node's signing key, which signed it */
    uint64_t first_seq;                 /* sequence number of record 0, >= 1 */
    uint32_t count;                     /* records, 1..XS_BATCH_MAX_RECORDS */
    int has_prev_hash;                  /* 1 when prev_hash is set: exactly when first_seq > 1 */
    uint8_t prev_hash[XS_HASH_BYTES];   /* hash of the body of the batch ending at first_seq-1 */
    int has_policy_hash;                /* 1 when the node held a policy when sealing */
    uint8_t policy_hash[XS_HASH_BYTES]; /* hash of that compiled policy; zeros when none */
    int64_t sealed_at;                  /* unix seconds when sealed, as the node's clock said */
    uint8_t hash[XS_HASH_BYTES];        /* the batch hash: BLAKE2b-256 of the body */
    const uint8_t *envelope;            /* the whole envelope, as given */
    size_t envelope_len;                /* its bytes */
    const uint8_t *body;                /* the signed body inside it */
    size_t body_len;                    /* its bytes */
    const uint8_t *signature;           /* the 64-byte Ed25519 signature inside it */
    const uint8_t *records;             /* the records' bytes, one after another, after the
                                           records array's header, to the end of the body */
    size_t records_len;                 /* their bytes */
} xs_batch_t;

/* A cursor over an opened batch's records; fill with xs_batch_iter_init. */
typedef struct xs_batch_iter {
    const xs_batch_t *batch; /* the batch walked; borrowed */
    xs_reader_t reader;      /* over the records not yet returned */
    uint32_t index;          /* index of the next record */
} xs_batch_iter_t;

/* One record of an opened batch, as the iterator returns it. */
typedef struct xs_batch_entry {
    const uint8_t *bytes; /* the record's exact bytes, borrowed from the envelope */
    size_t len;           /* their count */
    size_t offset;        /* where they start in the envelope, for indexing by slice */
    uint64_t seq;         /* its sequence number: first_seq + index */
    uint32_t index;       /* its position in the batch, from 0 */
} xs_batch_entry_t;

/* Seals count records (first_seq .. first_seq + count - 1) into a batch (protocol.md §2) and
 * appends its envelope to envelope; hash_out receives the batch hash. prev_hash is the hash of
 * the batch ending at first_seq - 1 and MUST be NULL exactly when first_seq is 1;
 * policy_hash is the compiled policy's hash, or NULL when the node holds none. Each record is
 * copied byte for byte and must decode under records.md §5; the body is of format 3 when a
 * record is of version 3, else of format 2 when a record is of version 2, else of format 1. Returns
 * XS_EINVAL (count not 1..XS_BATCH_MAX_RECORDS, first_seq 0 or its range past 2^64 - 1, prev_hash
 * given or not against first_seq), XS_EMALFORMED or XS_EVERSION (a record does not decode),
 * XS_ETOOBIG (the envelope would exceed XS_BATCH_MAX_BYTES, or envelope's own maximum), XS_ENOMEM.
 * On error envelope's contents are unspecified. */
XS_MUST_USE xs_err xs_batch_seal(xs_writer_t *envelope, const xs_identity_t *origin,
                                 uint64_t first_seq, const uint8_t prev_hash[XS_HASH_BYTES],
                                 const uint8_t policy_hash[XS_HASH_BYTES], int64_t sealed_at,
                                 const xs_batch_slice_t *records, uint32_t count,
                                 uint8_t hash_out[XS_HASH_BYTES]);

/* Opens len bytes holding exactly one envelope: checks the size, reads the origin from the
 * body's fixed prefix, verifies the signature over the raw body, and only then decodes the
 * header strictly and checks that every record decodes and that their number is count
 * (protocol.md §2). Fills *out, whose pointers borrow envelope. Returns XS_ETOOBIG (over
 * XS_BATCH_MAX_BYTES), XS_EVERSION (a body format other than 1..3, a record of another
 * version, a record of a version above the body's format, or a body of format 2 or 3 without
 * a record of that version),
 * XS_EMALFORMED (anything else that does not parse, trailing bytes included),
 * XS_ECRYPTO (the signature does not verify), XS_ENOMEM. *out is unspecified on error. */
XS_MUST_USE xs_err xs_batch_open(const void *envelope, size_t len, xs_batch_t *out);

/* Reads the origin an envelope claims, without verifying anything: for routing only (which
 * node's chain, which key to look up) before xs_batch_open. XS_ETOOBIG, XS_EVERSION,
 * XS_EMALFORMED as xs_batch_open's structural checks. */
XS_MUST_USE xs_err xs_batch_peek_origin(const void *envelope, size_t len,
                                        uint8_t origin[XS_SIGN_PK_BYTES]);

/* Starts a walk over the records of a batch filled by xs_batch_open; it borrows batch. */
void xs_batch_iter_init(xs_batch_iter_t *it, const xs_batch_t *batch);

/* Returns the next record in *entry and, when rec is not NULL, decoded into *rec (strings
 * borrow the envelope). XS_OK, XS_ENOTFOUND after the last record, or XS_EMALFORMED when the
 * batch was not filled by a successful xs_batch_open. */
XS_MUST_USE xs_err xs_batch_next(xs_batch_iter_t *it, xs_batch_entry_t *entry, xs_record_t *rec);

#endif
