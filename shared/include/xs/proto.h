/* proto: the sync messages between a node and its hub, one msgpack frame each, encoded and
 * decoded with hard bounds. Normative format: schema/protocol.md §5. */
#ifndef XS_PROTO_H
#define XS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/record.h"

/* Protocol version, the first element of every frame (protocol.md §5). */
#define XS_PROTO_VERSION 1
/* Largest frame sent or accepted, in bytes: a full batch envelope and room for the rest
 * (protocol.md §5; also ZMQ_MAXMSGSIZE, §6). */
#define XS_PROTO_FRAME_MAX (1024 * 1024 + 64 * 1024)
/* Bounds of a message's lists; a frame over any of them is refused as malformed. */
#define XS_PROTO_GAPS_MAX 256      /* VIEW gaps: ranges */
#define XS_PROTO_REJECTED_MAX 4096 /* ACK rejected: one per record at most */
#define XS_PROTO_RECEIPTS_MAX 4096 /* RECEIPTS receipts: envelopes per message */
#define XS_PROTO_BATCHES_MAX 1024  /* BATCHES envelopes per message */
/* Leaves under one root in a RECEIPTS group (the Merkle tree's bound, protocol.md §4.2), and
 * the largest leaf: a receipt's periods and totals, without the envelope around them. */
#define XS_PROTO_LEAVES_MAX 65536
#define XS_PROTO_LEAF_MAX (XS_PROTO_RECEIPT_MAX - 1024)
/* Bytes of envelopes one BATCHES frame carries at most: one envelope of the largest size. */
#define XS_PROTO_BATCHES_BYTES (1024 * 1024)
/* Envelopes the protocol carries, in bytes; the modules that sign them write no larger. */
#define XS_PROTO_RECEIPT_MAX                                                                       \
    (64 * 1024)                               /* a receipt envelope (§4), or a root envelope      \
                                                 (§4.2) */
#define XS_PROTO_POLICY_MAX (24 * 1024 + 128) /* a signed policy envelope (VIEW policy) */
#define XS_PROTO_ROSTER_MAX (512 * 1024)      /* a roster envelope (§8) */
#define XS_PROTO_STAFF_MAX (1024 * 1024)      /* a signed roster part (§10) */
/* Byte limits of a message's strings (UTF-8). */
#define XS_PROTO_REASON_MAX 32    /* a rejected record's reason code (records.md §7) */
#define XS_PROTO_MESSAGE_MAX 1024 /* ERROR message, Chinese then English */

/* Message types (protocol.md §5), the second element of every frame. */
typedef enum xs_msg_type {
    XS_MSG_HELLO = 1,      /* node → hub: what the node holds */
    XS_MSG_VIEW = 2,       /* hub → node: what the hub holds of the node */
    XS_MSG_BATCH = 3,      /* node → hub: one batch envelope */
    XS_MSG_ACK = 4,        /* hub → node: the outcome of one batch */
    XS_MSG_FETCH = 5,      /* node → hub: asks for receipts */
    XS_MSG_RECEIPTS = 6,   /* hub → node: a page of receipts: envelopes, or leaves under a
                              signed root */
    XS_MSG_ERROR = 7,      /* hub → node: a refused frame */
    XS_MSG_SATELLITES = 8, /* relay → hub: asks for its roster (§8) */
    XS_MSG_ROSTER = 9,     /* hub → relay: the signed roster (§8) */
    XS_MSG_PULL = 10,      /* node → hub: asks for its own batches back (§9) */
    XS_MSG_BATCHES = 11,   /* hub → node: a page of the node's batch envelopes (§9) */
    XS_MSG_STAFF_GET = 12, /* node → hub: asks for its part of the teacher roster (§10) */
    XS_MSG_STAFF = 13,     /* hub → node: the signed roster part, or nil (§10) */
} xs_msg_type;
#define XS_MSG_TYPE_MAX 13

/* ACK status (protocol.md §5). */
typedef enum xs_ack_status {
    XS_ACK_ACCEPTED = 0, /* stored and merged */
    XS_ACK_HELD = 1,     /* already held: nothing changed */
    XS_ACK_FORK = 2,     /* a fork: quarantined, nothing merged (§2.1) */
    XS_ACK_REFUSED = 3,  /* refused; error says why */
    XS_ACK_RELAYED = 4,  /* held by a relay, not yet confirmed by the hub (§8) */
} xs_ack_status;

/* Error codes carried by ACK and ERROR (protocol.md §5.1); 0 means none. */
typedef enum xs_proto_code {
    XS_PCODE_NONE = 0,
    XS_PCODE_MALFORMED = 1,     /* the frame or envelope does not parse */
    XS_PCODE_VERSION = 2,       /* unsupported protocol or format version */
    XS_PCODE_TOO_BIG = 3,       /* over a size limit */
    XS_PCODE_BAD_SIGNATURE = 4, /* a signature does not verify */
    XS_PCODE_WRONG_ORIGIN = 5,  /* the batch's origin is not the sender nor relayed for */
    XS_PCODE_REVOKED = 6,       /* the sender's key is revoked */
    XS_PCODE_UNKNOWN = 7,       /* the sender's key is not enrolled */
    XS_PCODE_INTERNAL = 8,      /* the hub could not store it; retry later */
} xs_proto_code;
#define XS_PCODE_MAX 8

/* The stable English name of a code ("bad_signature"); "" for 0 and unknown codes. */
const char *xs_proto_code_name(unsigned code);
/* A static message, Chinese then English ("签名无效 (bad signature)"), for ERROR frames and
 * logs; never NULL ("未知错误 (unknown error)" for unknown codes). */
const char *xs_proto_code_message(unsigned code);
/* The code a hub sends for an error of this library: XS_EMALFORMED → malformed,
 * XS_EVERSION → version, XS_ETOOBIG → too_big, XS_ECRYPTO → bad_signature; anything else
 * (disk full, storage) → internal. wrong_origin, revoked and unknown are the hub's own
 * judgements and have no xs_err. */
xs_proto_code xs_proto_code_from_err(xs_err err);
/* The xs_err a node reports for a code it received, which decides its reaction (protocol.md
 * §5.1): XS_EAGAIN for internal (the hub failed for now: retry with back-off); XS_EPERM for
 * wrong_origin, revoked and unknown (the county must enroll); XS_EMALFORMED, XS_EVERSION,
 * XS_ETOOBIG, XS_ECRYPTO for the rest (this node must be looked at); XS_EREFUSED for 0 and
 * codes this library does not know. */
xs_err xs_proto_code_to_err(unsigned code);

/* An inclusive range of missing sequence numbers (VIEW gaps). */
typedef struct xs_proto_range {
    uint64_t from; /* first missing seq */
    uint64_t to;   /* last missing seq, >= from */
} xs_proto_range_t;

/* One record an ACK reports as rejected (protocol.md §3). */
typedef struct xs_proto_rejected {
    uint32_t index;   /* its index in the batch, < the ACK's count */
    xs_reason reason; /* encode: the reason sent (not XS_REASON_NONE); decode: the reason of
                         `code`, or XS_REASON_NONE for a code this library does not know */
    xs_str_t code;    /* decode: the reason code as received, borrowed; ignored by encode */
} xs_proto_rejected_t;

/* A list as received: its elements' bytes, validated by xs_proto_decode, borrowed from the
 * frame; walk it with xs_proto_iter_init and the xs_proto_next_* function of its kind. */
typedef struct xs_proto_list {
    const uint8_t *bytes; /* the elements, after the array header */
    size_t len;           /* their bytes */
    uint32_t count;       /* elements */
} xs_proto_list_t;

/* Borrowed bytes of a message (an envelope, a policy); ptr NULL means nil where allowed. */
typedef struct xs_proto_blob {
    const uint8_t *ptr;
    size_t len;
} xs_proto_blob_t;

/* HELLO (node → hub). */
typedef struct xs_msg_hello {
    uint64_t head_seq;                  /* last seq the node has sealed; 0: none */
    uint64_t receipts_have;             /* generation of its newest receipts; 0: none */
    int has_policy_hash;                /* 0: nil (the node holds no policy) */
    uint8_t policy_hash[XS_HASH_BYTES]; /* hash of the compiled policy it holds */
    int has_origin;                     /* 1: asks for a satellite the sender relays for */
    uint8_t origin[XS_SIGN_PK_BYTES];   /* that satellite's key (§8) */
} xs_msg_hello_t;

/* VIEW (hub → node). */
typedef struct xs_msg_view {
    uint64_t have_through;        /* every seq <= it is held */
    uint64_t held_max;            /* the highest seq held, >= have_through; 0: none */
    const xs_proto_range_t *gaps; /* encode: gap_count ranges, ascending, disjoint, each
                                     above have_through and below held_max; decoded: NULL */
    uint32_t gap_count;           /* ranges, at most XS_PROTO_GAPS_MAX */
    xs_proto_list_t gap_list;     /* decoded: read with xs_proto_next_gap */
    uint32_t window;              /* batches the node may have unacknowledged */
    uint64_t receipts_gen;        /* the hub's receipt generation for the node */
    xs_proto_blob_t policy;       /* signed policy envelope (xs_receipt_policy_open), at most
                                     XS_RECEIPT_POLICY_MAX_BYTES; ptr NULL: nil, the node's
                                     policy is current */
    uint64_t fork_seq;            /* first seq of a quarantined fork; 0: none */
    uint64_t confirmed_through;   /* every seq <= it is confirmed by the hub: from a hub,
                                     have_through; from a relay, as last heard (§8) */
    xs_proto_blob_t rotations;    /* the hub's chain of key rotation statements (§11), at most
                                     XS_ROTATION_CHAIN_MAX_BYTES; ptr NULL: nil, never rotated */
} xs_msg_view_t;

/* BATCH (node → hub). */
typedef struct xs_msg_batch {
    xs_proto_blob_t envelope; /* a batch envelope (protocol.md §2), verbatim, at most
                                 XS_BATCH_MAX_BYTES; xs_proto_decode does not open it */
} xs_msg_batch_t;

/* ACK (hub → node). */
typedef struct xs_msg_ack {
    uint64_t first_seq;                  /* the batch's first_seq; 0 only when refused unread */
    uint32_t count;                      /* its count, 1..4096; 0 exactly when first_seq is 0 */
    uint8_t status;                      /* xs_ack_status */
    uint8_t error;                       /* xs_proto_code: 1..8 when status is refused, else 0 */
    const xs_proto_rejected_t *rejected; /* encode: rejected_count entries, each index <
                                            count; decoded: NULL */
    uint32_t rejected_count;             /* at most count (and XS_PROTO_REJECTED_MAX) */
    xs_proto_list_t rejected_list;       /* decoded: read with xs_proto_next_rejected */
} xs_msg_ack_t;

/* FETCH (node → hub). */
typedef struct xs_msg_fetch {
    uint64_t receipts_have;           /* generation of the node's newest receipts; 0: none */
    xs_str_t after;                   /* teacher_id to continue after (1..XS_ID_MAX bytes of UTF-8);
                                         ptr NULL: nil, from the start */
    int has_origin;                   /* 1: for a satellite the sender relays for */
    uint8_t origin[XS_SIGN_PK_BYTES]; /* that satellite's key (§8) */
} xs_msg_fetch_t;

/* RECEIPTS (hub → node). A hub sends its page as a group (a signed root and every leaf under
 * it) with no envelope in receipts; a relay sends the standalone receipts it keeps in receipts
 * with no group. */
typedef struct xs_msg_receipts {
    uint64_t generation;             /* the hub's generation for the node */
    const xs_proto_blob_t *receipts; /* encode: receipt_count receipt envelopes, each at most
                                        XS_PROTO_RECEIPT_MAX, by teacher_id; decoded: NULL */
    uint32_t receipt_count;          /* at most XS_PROTO_RECEIPTS_MAX */
    xs_proto_list_t receipt_list;    /* decoded: read with xs_proto_next_receipt */
    int more;                        /* 1: FETCH again after the last teacher_id */
    xs_proto_blob_t root;            /* group: the root envelope (protocol.md §4.2), at most
                                        XS_PROTO_RECEIPT_MAX; not opened by xs_proto_decode
                                        (xs_receipt_page_open does); ptr NULL: no group */
    const xs_proto_blob_t *leaves;   /* encode: leaf_count leaves under root, in order, each
                                        at most XS_PROTO_LEAF_MAX; decoded: NULL */
    uint32_t leaf_count;             /* 1..XS_PROTO_LEAVES_MAX with a root; 0 without */
    xs_proto_list_t leaf_list;       /* decoded: read with xs_proto_next_leaf */
} xs_msg_receipts_t;

/* ERROR (hub → node). */
typedef struct xs_msg_error {
    uint8_t code;     /* xs_proto_code, 1..XS_PCODE_MAX */
    xs_str_t message; /* Chinese then English, UTF-8, at most XS_PROTO_MESSAGE_MAX bytes */
} xs_msg_error_t;

/* ROSTER (hub → relay); SATELLITES (relay → hub) has no member: it carries nothing. */
typedef struct xs_msg_roster {
    xs_proto_blob_t envelope; /* the signed roster (§8), at most XS_PROTO_ROSTER_MAX; not
                                 opened by xs_proto_decode */
} xs_msg_roster_t;

/* PULL (node → hub, §9). */
typedef struct xs_msg_pull {
    uint64_t from_seq;                /* the first seq wanted, >= 1 */
    int has_origin;                   /* 1: for a satellite the sender relays for */
    uint8_t origin[XS_SIGN_PK_BYTES]; /* that satellite's key (§8) */
} xs_msg_pull_t;

/* BATCHES (hub → node, §9). */
typedef struct xs_msg_batches {
    const xs_proto_blob_t *envelopes; /* encode: envelope_count batch envelopes, ascending, each
                                         at most XS_BATCH_MAX_BYTES and together at most
                                         XS_PROTO_BATCHES_BYTES; decoded: NULL */
    uint32_t envelope_count;          /* at most XS_PROTO_BATCHES_MAX */
    xs_proto_list_t envelope_list;    /* decoded: read with xs_proto_next_envelope */
    int more;                         /* 1: PULL again from after the last envelope */
} xs_msg_batches_t;

/* STAFF_GET (node → hub, §10). */
typedef struct xs_msg_staff_get {
    int has_have;                     /* 0: nil, the sender holds no part */
    uint8_t have[XS_HASH_BYTES];      /* hash of the body of the part it holds */
    int has_origin;                   /* 1: for a satellite the sender relays for */
    uint8_t origin[XS_SIGN_PK_BYTES]; /* that satellite's key (§8) */
} xs_msg_staff_get_t;

/* STAFF (hub → node, §10). */
typedef struct xs_msg_staff {
    xs_proto_blob_t part; /* the signed part envelope, at most XS_PROTO_STAFF_MAX; ptr NULL:
                             nil (the part held is current, or the county has no roster); not
                             opened by xs_proto_decode */
} xs_msg_staff_t;

/* One message: type says which member of u holds it. Lists are given two ways: to encode,
 * the caller's array with its count; decoded, the list as received (`*_list`, validated)
 * with the count set and the array pointer NULL. Everything decoded borrows the frame and is
 * valid while it is. */
typedef struct xs_msg {
    xs_msg_type type;
    union {
        xs_msg_hello_t hello;
        xs_msg_view_t view;
        xs_msg_batch_t batch;
        xs_msg_ack_t ack;
        xs_msg_fetch_t fetch;
        xs_msg_receipts_t receipts;
        xs_msg_error_t error;
        xs_msg_roster_t roster;
        xs_msg_pull_t pull;
        xs_msg_batches_t batches;
        xs_msg_staff_get_t staff_get;
        xs_msg_staff_t staff;
    } u;
} xs_msg_t;

/* A cursor over a decoded list. */
typedef struct xs_proto_iter {
    xs_reader_t reader; /* over the elements not yet returned */
    uint32_t left;      /* elements not yet returned */
} xs_proto_iter_t;

/* Appends msg as one frame to w. XS_EINVAL when msg breaks a rule above (unknown type, a
 * list over its bound, a range out of order, a string too long or not UTF-8, an error code
 * or status out of range), XS_ETOOBIG when the frame exceeds XS_PROTO_FRAME_MAX or w's
 * maximum, XS_ENOMEM. On error w's contents are unspecified. */
XS_MUST_USE xs_err xs_proto_encode(const xs_msg_t *msg, xs_writer_t *w);

/* Decodes exactly len bytes as one frame into *msg; pointers borrow frame. Refuses, leaving
 * *msg unspecified: XS_ETOOBIG (over XS_PROTO_FRAME_MAX), XS_EVERSION (a well-formed frame
 * head of another protocol version), XS_EMALFORMED (not an array, an unknown type, the wrong
 * number of elements, any element of the wrong type or out of the bounds above, trailing
 * bytes). Whether the type is one the receiver expects is the caller's check. */
XS_MUST_USE xs_err xs_proto_decode(const void *frame, size_t len, xs_msg_t *msg);

/* Starts a walk over a decoded list. */
void xs_proto_iter_init(xs_proto_iter_t *it, const xs_proto_list_t *list);
/* Each returns 1 and the next element, or 0 at the end of the list (or on bytes that
 * xs_proto_decode did not validate). */
int xs_proto_next_gap(xs_proto_iter_t *it, xs_proto_range_t *out);
int xs_proto_next_rejected(xs_proto_iter_t *it, xs_proto_rejected_t *out);
int xs_proto_next_receipt(xs_proto_iter_t *it, xs_proto_blob_t *out);
int xs_proto_next_envelope(xs_proto_iter_t *it, xs_proto_blob_t *out);
int xs_proto_next_leaf(xs_proto_iter_t *it, xs_proto_blob_t *out);

/* A RECEIPTS or BATCHES page being filled: at most cap blobs and max_bytes of them. */
typedef struct xs_proto_page {
    xs_proto_blob_t *items; /* the caller's room for cap blobs, each borrowed */
    uint32_t cap, count;
    size_t max_bytes, bytes;
    int more; /* set when a blob did not fit: the reply tells the peer to ask again */
} xs_proto_page_t;

/* Starts an empty page over items (room for cap), bounded by max_bytes. */
void xs_proto_page_init(xs_proto_page_t *page, xs_proto_blob_t *items, uint32_t cap,
                        size_t max_bytes);
/* Adds a blob (borrowed) and returns 1, or returns 0 and sets more when it does not fit. */
int xs_proto_page_add(xs_proto_page_t *page, const void *ptr, size_t len);

/* Fills *msg as the ERROR for code (1..XS_PCODE_MAX), with its static bilingual message. */
void xs_proto_error(xs_msg_t *msg, xs_proto_code code);

/* The English name of a message type ("HELLO"), or "" when unknown. */
const char *xs_proto_type_name(unsigned type);

#endif
