/* receipt: the hub-signed statement of one teacher's confirmed totals, signed alone or as a
 * leaf under a signed Merkle root, and the hub-signed policy envelope. Normative formats:
 * schema/protocol.md §4, §4.2 and §5 (VIEW `policy`). */
#ifndef XS_RECEIPT_H
#define XS_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "xs/certify.h"
#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/proto.h"
#include "xs/record.h"

/* Body format versions (protocol.md §4, element 0): format 3 is written when a period is of a
 * closed year (its `closed` element), format 2 otherwise; format 1, whose totals are in
 * minutes, is read too. */
#define XS_RECEIPT_FORMAT 3
#define XS_RECEIPT_FORMAT_OPEN 2
/* Most periods and totals one receipt holds. A period is an academic year or a cycle the
 * teacher has records in: 128 covers a century of years with their cycles. Totals are at
 * most 3 rows per bucket and year (year, two semesters) plus cycle rows: 1024 covers 20 years
 * of a policy with the most buckets (16) and semester requirements on all, or 100 years of a
 * usual one. The hub refuses to build a larger receipt (XS_ETOOBIG). */
#define XS_RECEIPT_PERIODS_MAX 128
#define XS_RECEIPT_TOTALS_MAX 1024
/* Largest receipt envelope accepted or written, in bytes: the protocol's bound. A full receipt
 * (limits above, every integer at its widest) is under 40 KiB. */
#define XS_RECEIPT_MAX_BYTES XS_PROTO_RECEIPT_MAX
/* Largest signed policy envelope accepted or written: a compiled blob plus its framing and
 * signature (protocol.md §5, VIEW). */
#define XS_RECEIPT_POLICY_MAX_BYTES XS_PROTO_POLICY_MAX

/* One academic year or cycle of a receipt (protocol.md §4 "period"). */
typedef struct xs_receipt_period {
    uint8_t scope;         /* XS_SCOPE_YEAR or XS_SCOPE_CYCLE */
    int32_t year;          /* the academic year, or the cycle's first academic year (2025 for
                              2025-2026) */
    uint32_t record_count; /* the teacher's records certified in it, whatever their status */
    uint8_t records_hash[XS_HASH_BYTES]; /* xs_receipt_records_hash of their identities */
    uint8_t closed;                      /* 1: a closed academic year (定案, schema/year.md):
                                            its totals are the year document's */
    uint8_t closed_hash[XS_HASH_BYTES];  /* closed: xs_year_hash of the year document's body */
} xs_receipt_period_t;

/* One total row (protocol.md §4 "total"), as xs_certify_total_t gives it. */
typedef struct xs_receipt_total {
    uint64_t credited_seconds; /* credit counted, in seconds */
    uint32_t required_seconds; /* the requirement, in seconds; 0: none */
    int32_t year;              /* academic year, or the cycle's first academic year */
    uint8_t scope;             /* xs_scope */
    uint8_t semester;          /* 1 or 2 for semester rows; else 0 */
    uint8_t bucket;            /* index of the policy's bucket, < XS_POLICY_BUCKETS_MAX */
    uint8_t met;               /* xs_certify_met */
    uint8_t binding;           /* 1: the requirement decides whether the policy is met; 0:
                                  advisory, or none */
    uint8_t single_met;        /* xs_certify_met of the single-record requirement this row
                                  carries (certify.h); XS_MET_NONE elsewhere */
} xs_receipt_total_t;

/* A receipt. The arrays are held inline (about 30 KiB in all): allocate one and reuse it
 * rather than keeping many on a stack. */
typedef struct xs_receipt {
    uint8_t hub[XS_SIGN_PK_BYTES];      /* the signing hub's key; set by sign, filled by open */
    xs_str_t teacher_id;                /* 1..XS_ID_MAX bytes of UTF-8; borrowed */
    xs_str_t policy_id;                 /* 1..XS_POLICY_ID_MAX bytes of UTF-8; borrowed */
    uint32_t policy_version;            /* the policy's version */
    uint8_t policy_hash[XS_HASH_BYTES]; /* hash of its compiled blob */
    uint64_t generation;                /* the hub's receipt generation when issued */
    int64_t issued_at;                  /* unix seconds */
    uint32_t period_count;              /* periods in use */
    uint32_t total_count;               /* totals in use */
    xs_receipt_period_t periods[XS_RECEIPT_PERIODS_MAX]; /* years ascending, then cycles
                                                            ascending */
    xs_receipt_total_t totals[XS_RECEIPT_TOTALS_MAX];    /* in the engine's order */
} xs_receipt_t;

/* A record's identity (records.md §8), as the hub knows it. */
typedef struct xs_receipt_ident {
    const uint8_t *origin; /* the sealing node's 32-byte signing key; borrowed */
    uint64_t seq;          /* the record's sequence number at that node */
} xs_receipt_ident_t;

/* Signs r's body (protocol.md §4) with hub and appends the envelope to envelope. The body
 * names hub's own key; r->hub is not read. XS_EINVAL (a count over its maximum, a string
 * empty, too long or not UTF-8, a period or total out of its range), XS_ETOOBIG (over
 * XS_RECEIPT_MAX_BYTES or envelope's maximum), XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                   const xs_receipt_t *r);

/* Opens a receipt envelope of len bytes: a signed body (protocol.md §4, formats 1-3) or a
 * standalone receipt (§4.2). Reads the hub key from the (root) body's first elements, refuses
 * it when expected_hub is given and differs (XS_ECRYPTO), verifies the signature; for a
 * standalone receipt then checks that the leaf's audit path leads to the signed root
 * (XS_ECRYPTO when it does not; XS_EMALFORMED for an index or a path length that cannot be of
 * the root's leaf_count); and only then decodes the body, or the leaf, strictly into *out: a
 * standalone receipt's teacher_id, periods and totals are its leaf's, the rest its root's.
 * expected_hub NULL accepts any hub: the caller must then check out->hub. out's strings borrow
 * envelope. XS_ETOOBIG, XS_EMALFORMED, XS_EVERSION (another body format), XS_ECRYPTO,
 * XS_ENOMEM; *out is unspecified on error. */
XS_MUST_USE xs_err xs_receipt_open(const void *envelope, size_t len,
                                   const uint8_t expected_hub[XS_SIGN_PK_BYTES], xs_receipt_t *out);

/* The records_hash of a period (protocol.md §4): each identity as 40 bytes (origin, then seq
 * big-endian), sorted ascending, concatenated and hashed. ids is not changed; count 0 hashes
 * zero bytes. XS_ETOOBIG (count too large to buffer), XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_records_hash(const xs_receipt_ident_t *ids, size_t count,
                                           uint8_t out[XS_HASH_BYTES]);

/* Fills *out from one teacher's ledger, as the hub's certify callback receives it: teacher_id
 * (borrowed from teacher: valid during the callback only, so sign there), the policy's id
 * (borrowed from policy) and version, policy_hash (the caller computes it once with
 * xs_policy_hash), generation and issued_at; one period per academic year the teacher has a
 * dated record in, then one per cycle holding such a year; the totals row for row. rows and
 * ids are indexed like the records given to xs_certify_run (ids[i] is record i's identity).
 * out->hub is left zero (xs_receipt_sign names the key). XS_ETOOBIG (more periods or totals
 * than the maximums), XS_EINVAL (no teacher_id), XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_build(xs_receipt_t *out, const xs_policy_t *policy,
                                    const uint8_t policy_hash[XS_HASH_BYTES],
                                    const xs_certify_teacher_t *teacher,
                                    const xs_certify_row_t *rows, const xs_receipt_ident_t *ids,
                                    uint64_t generation, int64_t issued_at);

/* Signs a compiled policy blob (policy.md §4) and appends the envelope [blob, signature]
 * (protocol.md §5, VIEW) to envelope. XS_ETOOBIG (blob over XS_POLICY_BLOB_MAX, or envelope's
 * maximum), XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_policy_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                          const void *blob, size_t blob_len);

/* Opens a policy envelope of len bytes signed by hub (the node's enrolled hub; the envelope
 * does not name its signer). *blob borrows envelope; decode it with xs_policy_decode.
 * XS_ETOOBIG, XS_EMALFORMED, XS_ECRYPTO, XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_policy_open(const void *envelope, size_t len,
                                          const uint8_t hub[XS_SIGN_PK_BYTES], const uint8_t **blob,
                                          size_t *blob_len);

/* A receipt as text (protocol.md §4.1): XS_RECEIPT_TEXT_PREFIX, then the envelope's bytes
 * verbatim in base45 (RFC 9285), whose alphabet is a QR code's alphanumeric mode. */
#define XS_RECEIPT_TEXT_PREFIX "XS1:"
/* Most characters of a receipt's text: what a QR code holds in alphanumeric mode (version 40,
 * error correction level L). A receipt whose text would be longer has no text form. */
#define XS_RECEIPT_TEXT_MAX 4296
/* The largest envelope whose text fits XS_RECEIPT_TEXT_MAX: 4292 base45 characters. */
#define XS_RECEIPT_TEXT_BYTES_MAX 2861

/* Writes envelope (len bytes, the receipt envelope as signed; not checked here) as text and a
 * NUL into out (cap bytes; XS_RECEIPT_TEXT_MAX + 1 always suffice); *text_len (may be NULL)
 * gets its characters. Never cuts: XS_ETOOBIG when the text would be over
 * XS_RECEIPT_TEXT_MAX characters (len over XS_RECEIPT_TEXT_BYTES_MAX) or over cap - 1;
 * XS_EINVAL for len 0. */
XS_MUST_USE xs_err xs_receipt_text_encode(const void *envelope, size_t len, char *out, size_t cap,
                                          size_t *text_len);

/* Reads a receipt's text (len bytes, as a scanner gives it: ASCII white space around it is
 * ignored) into out (cap bytes; XS_RECEIPT_TEXT_BYTES_MAX always suffice); *envelope_len gets
 * the envelope's bytes, which the caller opens with xs_receipt_open: only the signature says
 * whether they are a real receipt. XS_EMALFORMED (no XS_RECEIPT_TEXT_PREFIX, a character
 * outside base45, a bad length or group value, nothing after the prefix), XS_ETOOBIG (over
 * XS_RECEIPT_TEXT_MAX characters, or more bytes than cap). */
XS_MUST_USE xs_err xs_receipt_text_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                                          size_t *envelope_len);

/* ---- receipts under a signed Merkle root (protocol.md §4.2) ----
 *
 * The hub signs once per page of receipts: each teacher's receipt is a leaf (its teacher_id,
 * periods and totals), the leaves hang under one Merkle tree, and the hub signs a root body
 * naming the policy, the generation, the time, the number of leaves and the root. A receipt
 * that travels alone (a node's copy, a USB bundle item, a certificate's QR code) is a
 * standalone envelope: the signed root, the leaf, its index and its audit path.
 * xs_receipt_open opens it like any receipt. */

/* Format of a root body (element 0), and of the receipt a standalone envelope gives. */
#define XS_RECEIPT_FORMAT_ROOT 4
/* Most leaves under one root, and so most hashes in an audit path (2^16 leaves: 16). */
#define XS_RECEIPT_TREE_MAX 65536
#define XS_RECEIPT_PATH_MAX 16
/* Largest leaf encoding accepted or written: a full receipt's periods and totals. */
#define XS_RECEIPT_LEAF_MAX (XS_RECEIPT_MAX_BYTES - 1024)

/* Encodes r's leaf (protocol.md §4.2: teacher_id, periods, totals) and appends it to leaf.
 * Reads r's teacher_id, periods and totals only. XS_EINVAL (as xs_receipt_sign checks),
 * XS_ETOOBIG (over XS_RECEIPT_LEAF_MAX or leaf's maximum), XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_leaf_encode(xs_writer_t *leaf, const xs_receipt_t *r);

/* The hash of a leaf's bytes (len bytes): BLAKE2b-256 of 0x00 || leaf. len is at most
 * XS_RECEIPT_LEAF_MAX: no longer leaf is valid, and every reader refuses one before hashing
 * it; a longer len is a caller's error (asserted; else out is 32 zero bytes). The prefix and
 * the leaf are hashed in one call, from a copy on the stack (up to 63 KiB). */
void xs_receipt_leaf_hash(const void *leaf, size_t len, uint8_t out[XS_HASH_BYTES]);

/* The Merkle root over n leaf hashes (1..XS_RECEIPT_TREE_MAX), in order, as protocol.md §4.2
 * builds it (RFC 6962 §2.1's shape, inner nodes BLAKE2b-256 of 0x01 || left || right); one
 * leaf's root is its hash. XS_EINVAL for n 0 or over the maximum, XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_tree_root(const uint8_t (*leaf_hashes)[XS_HASH_BYTES], size_t n,
                                        uint8_t root[XS_HASH_BYTES]);

/* The audit path of leaf index among n leaf hashes (protocol.md §4.2, RFC 6962 §2.1.1's
 * PATH): *path_len (at most XS_RECEIPT_PATH_MAX; path has room for that many) hashes into
 * path, from the leaf's sibling up; none for one leaf. Each call hashes the whole tree (about
 * n hashes): for every path of a page, xs_receipt_page_open builds the tree once.
 * XS_EINVAL for index ≥ n or n out of range, XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_tree_path(const uint8_t (*leaf_hashes)[XS_HASH_BYTES], size_t n,
                                        size_t index, uint8_t (*path)[XS_HASH_BYTES],
                                        size_t *path_len);

/* Signs a root body (protocol.md §4.2) naming hub's key, head's policy_id, policy_version,
 * policy_hash, generation and issued_at, leaf_count and root, and appends the root envelope
 * [body, signature] to envelope. Other fields of head are not read. XS_EINVAL (leaf_count 0
 * or over XS_RECEIPT_TREE_MAX, a bad policy_id), XS_ETOOBIG, XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_root_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                        const xs_receipt_t *head, size_t leaf_count,
                                        const uint8_t root[XS_HASH_BYTES]);

/* Appends the standalone receipt of one leaf to out: the root envelope's body and signature
 * (root_env, root_len bytes, as xs_receipt_root_sign wrote it), the leaf (leaf_len bytes), its
 * index and its audit path (path_len hashes). Checks shapes only (nothing is verified): the
 * root body decodes, index is below its leaf_count and path_len is the length of that
 * index's path. XS_EINVAL (leaf_len 0, index or path_len not so), XS_EMALFORMED (root_env is
 * not a root envelope), XS_ETOOBIG (leaf over XS_RECEIPT_LEAF_MAX, or out's maximum),
 * XS_ENOMEM. */
XS_MUST_USE xs_err xs_receipt_standalone(xs_writer_t *out, const void *root_env, size_t root_len,
                                         const void *leaf, size_t leaf_len, size_t index,
                                         const uint8_t (*path)[XS_HASH_BYTES], size_t path_len);

/* Called by xs_receipt_page_open for each leaf, in order, with its standalone receipt
 * envelope (len bytes) and the receipt it holds, opened as xs_receipt_open opens it (no need
 * to check it again: the page verified), both valid during the call only. Returning other
 * than XS_OK stops the walk. */
typedef xs_err (*xs_receipt_leaf_fn)(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                                     const xs_receipt_t *opened);

/* Opens a page: the root envelope (root_len bytes) and every leaf under it (n leaves, in
 * order). Verifies the root's signature against hub (the county key the reader holds; never
 * NULL), that n is its leaf_count and that the leaves hash to its root, and decodes every
 * leaf strictly; only then calls fn for each leaf with its standalone receipt (which
 * xs_receipt_open opens to that leaf's receipt), built in one writer of at most
 * XS_RECEIPT_MAX_BYTES. Nothing is called for a page that fails. XS_EINVAL (hub or fn NULL),
 * XS_ECRYPTO (signature, another hub, or leaves that do not make the root), XS_EMALFORMED
 * (n other than the root's leaf_count, a leaf empty or not a leaf), XS_EVERSION, XS_ETOOBIG
 * (the root envelope or a leaf over its bound), XS_ENOMEM, or fn's error. */
XS_MUST_USE xs_err xs_receipt_page_open(const void *root_env, size_t root_len,
                                        const xs_proto_blob_t *leaves, size_t n,
                                        const uint8_t hub[XS_SIGN_PK_BYTES], xs_receipt_leaf_fn fn,
                                        void *ctx);

#endif
