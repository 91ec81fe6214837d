/* hub: the county hub's directory, store layout and enrolled nodes, shared by its commands. */
#ifndef HUB_H
#define HUB_H

#include <stdint.h>

#include "xs/backup.h"
#include "xs/chain.h"
#include "xs/cli.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/record.h"
#include "xs/store.h"

/* Tables of the hub's LMDB environment, in open order (docs/design.md, "The hub store"). Each
 * has one owner, the only file that knows its key and value layout; everyone else calls it. */
enum hub_table {
    HUB_T_META,     /* hub.c: named entries (enum hub_meta) */
    HUB_T_NODES,    /* hub.c: origin (32) → node info (hub_node_t, msgpack) */
    HUB_T_BOXKEYS,  /* hub.c: CURVE key (32) → origin (32): who a connection is */
    HUB_T_CHAIN,    /* ledger.c: origin (32) + first_seq (8) → count (4) + hash (32) +
                       prev_hash (32): xs_chain's linked form; origin (32) alone → the
                       origin's contiguous head: through (8) + batches (8) */
    HUB_T_BATCHES,  /* ledger.c: origin (32) + first_seq (8) → the envelope, verbatim */
    HUB_T_ACKS,     /* ledger.c: origin (32) + first_seq (8) → the ACK frame sent for it */
    HUB_T_RECORDS,  /* ledger.c: origin (32) + seq (8) → first_seq (8) + offset (4) + len (4) +
                       outcome (1) */
    HUB_T_TEACHERS, /* ledger.c: teacher_id + 0x00 + origin (32) + seq (8) → "" */
    HUB_T_EXAMS,    /* ledger.c: origin (32) + seq (8) of every accepted exam record,
                       correction and review → "" */
    HUB_T_FOLLOW,   /* outbox.c: origin (32) + teacher_id → generation (8) + issued_at (8):
                       receipts a node should get; origin (32) + 0xff → its newest generation */
    HUB_T_FORKS,    /* ledger.c: origin (32) + first_seq (8) + hash (32) → quarantined envelope,
                       kept forever as proof */
    HUB_T_STAFF,    /* staff.c: roster version (4, big-endian) → the roster (xs_staff_encode),
                       every version kept */
    HUB_T_YEARS,    /* year.c: academic year (2, big-endian) + kind (1) + number (4) → a closed
                       year's signed documents and objections */
    HUB_T_FROZEN,   /* year.c: academic year (2) + origin (32) + seq (8) → the record's row as
                       a closed year (or its supplements) certified it */
    HUB_T_CROWS,    /* credit.c: origin (32) + seq (8) → the accepted record's row */
    HUB_T_CGROUPS,  /* credit.c: teacher_id + 0x00 + kind (1) + group (16, or year 2) + origin
                       (32) + seq (8) → "": which records compete, and a teacher's origins */
    HUB_T_CTARGETS, /* credit.c: target origin (32) + seq (8) + naming origin (32) + seq (8)
                       → "": corrections and reviews by the record they name */
    HUB_T_CSUMS,    /* credit.c: teacher_id + 0x00 + year (2) → the teacher's sums of it */
    HUB_T_CEXAMS,   /* credit.c: event length (2) + event + score (4) + origin (32) + seq (8)
                       → kept (1) + tier (1) + teacher_id: exam records bearing a tier */
    HUB_T_METRICS,  /* metrics.c: counter name (ASCII: "sync_sessions", "batches", "records",
                       "refused/REASON", "merge_bucket/LE" (observations in that bucket only),
                       "merge_count", "merge_sum_us") → u64 (8, big-endian), added to since
                       the store began; "seen/" + origin (32) → unix seconds (8) of the node's
                       latest HELLO */
    HUB_T_COUNT
};

/* Named entries of HUB_T_META; their keys are written once, in hub.c. */
typedef enum hub_meta {
    HUB_META_FORMAT,      /* the store's format, HUB_FORMAT */
    HUB_META_POLICY,      /* the compiled county policy */
    HUB_META_POLICY_ENV,  /* its hub-signed envelope, as VIEW carries it (protocol.md §5) */
    HUB_META_GENERATION,  /* u64: the last receipt generation issued (outbox.c moves it) */
    HUB_META_NEXT_NUMBER, /* u64: the enrollment number the next node gets (hub_node_add) */
    HUB_META_STAFF,       /* u64: the roster's current version, 0: none (staff.c moves it) */
    HUB_META_CREDIT,      /* the hash of the policy the certification state was built under
                             (credit.c moves it) */
    HUB_META_ROTATIONS,   /* the chain of the hub's key rotation statements (keys.c moves it;
                             protocol.md §11) */
    HUB_META_COUNT
} hub_meta;

/* The store format this program writes and reads (HUB_META_FORMAT): an older one is upgraded
 * by `xueshi-hub migrate` (hub/migrate.c lists the steps), a newer one refused. Format 2: the
 * certification state (credit.c) is built; format 1 (or none stored) predates that. */
#define HUB_FORMAT "2"
#define HUB_FORMAT_NUMBER 2u
#define HUB_MAX_PROXIES 32

/* An enrolled node, as stored in HUB_T_NODES. Strings are owned copies. */
typedef struct hub_node {
    uint8_t origin[XS_SIGN_PK_BYTES]; /* the node's Ed25519 key: its identity */
    uint8_t box[XS_BOX_PK_BYTES];     /* its CURVE key */
    uint32_t number;                  /* enrollment order, from 1: high bits of engine ids */
    char school[XS_ID_MAX + 1];       /* its own school */
    uint32_t proxy_count;             /* schools it may record or relay for */
    char proxies[HUB_MAX_PROXIES][XS_ID_MAX + 1];
    int64_t enrolled_at;            /* unix seconds */
    int64_t revoked_at;             /* unix seconds; 0 while active */
    int64_t last_sync;              /* unix seconds of the last message; 0: never */
    uint64_t fork_seq;              /* first seq of the latest quarantined fork; 0: none */
    uint64_t forks;                 /* quarantined batches */
    int64_t fork_resolved_at;       /* unix seconds when the node's key signed a continuation
                                       of the hub's chain past every quarantined batch's first
                                       seq; 0: no fork, or unresolved */
    uint64_t fork_resolved_through; /* the last seq of the batch that resolved it; 0: none */
    uint64_t head_seq;              /* the last seq the node has sealed, as its latest HELLO
                                       (its own or a relay's for it) said; 0: not known */
    uint32_t head_via;              /* the enrollment number of the relay that said it; 0: the
                                       node itself */
} hub_node_t;

/* An open hub directory. */
typedef struct hub {
    const char *dir;     /* the --dir given, borrowed from argv */
    xs_store_t *store;   /* DIR/store */
    xs_identity_t *id;   /* DIR/hub.secret, when opened with keys */
    xs_policy_t *policy; /* the county policy, decoded from the stored compiled blob; NULL only
                            when opened with HUB_OPEN_ANY_POLICY and the blob does not decode */
    uint8_t policy_hash[XS_HASH_BYTES]; /* hash of the stored blob policy was decoded from */
    uint32_t rotations; /* statements of the key rotation chain id was last checked against
                           (keys.c): a chain of as many needs no second look */
} hub_t;

/* Flags of hub_open. */
#define HUB_OPEN_KEYS 1 /* load DIR/hub.secret too */
#define HUB_OPEN_ANY_POLICY                                                                        \
    2 /* open even when the stored policy does not decode (an older                                \
         format): hub->policy is then NULL; for `xueshi-hub policy` */

#define HUB_OPEN_ANY_FORMAT                                                                        \
    4 /* open a store of another format than HUB_FORMAT: for `xueshi-hub migrate` */

/* Opens DIR's store, its policy and (HUB_OPEN_KEYS) its identity. A store of another format
 * than HUB_FORMAT is refused (XS_EVERSION) before anything is written to it, with a message
 * naming `xueshi-hub migrate` (older) or a newer xueshi (newer), unless HUB_OPEN_ANY_FORMAT.
 * A stored policy of an older format (XS_EVERSION) is refused with a message naming
 * `xueshi-hub policy`, unless HUB_OPEN_ANY_POLICY. Prints why on failure. */
XS_MUST_USE xs_err hub_open(hub_t *hub, const char *dir, int flags);

/* Follows the policy stored in the store (`xueshi-hub policy` may have replaced it since the
 * hub was opened, from another process): when the stored blob's hash differs from
 * hub->policy_hash, decodes it and replaces hub->policy, and sets *changed (may be NULL).
 * Call it at the start of a transaction that certifies or answers with the policy: LMDB
 * serialises write transactions, so a merge never certifies under a policy older than the one
 * stored when it began. XS_EVERSION, XS_EMALFORMED, XS_ENOMEM (hub->policy is then kept). */
XS_MUST_USE xs_err hub_policy_follow(hub_t *hub, xs_txn_t *txn, int *changed);

/* Reads the id (into id, XS_POLICY_ID_MAX + 1 bytes) and version of a compiled policy blob of
 * any format, from its leading elements (policy.md §4: name, format, id, version), for
 * replacing a stored policy that no longer decodes. XS_EMALFORMED. */
XS_MUST_USE xs_err hub_policy_peek(const void *blob, size_t len, char id[XS_POLICY_ID_MAX + 1],
                                   uint32_t *version);
/* Reads the format of the hub store in directory store_path (DIR/store) into *format, opening
 * it read-only and writing nothing: 1 when none is stored (the first releases). XS_ENOTFOUND
 * (no store), XS_ECORRUPT (a format that is not a number), the store's errors. */
XS_MUST_USE xs_err hub_format_read(const char *store_path, unsigned *format);
/* XS_OK when format is HUB_FORMAT_NUMBER; else says, naming dir, what to do (`xueshi-hub
 * migrate --dir DIR` for an older one, a newer xueshi for a newer one) and returns
 * XS_EVERSION. */
XS_MUST_USE xs_err hub_format_check(const char *dir, unsigned format);
/* The hub as its backup, restore and migrate commands see it (xs/backup.h). */
extern const xs_backup_program_t hub_backup_program;
/* Closes what hub_open opened; safe on a zeroed hub. */
void hub_close(hub_t *hub);
/* The tables' names, for xs_store_open. */
extern const char *const hub_tables[HUB_T_COUNT];

/* Reads the named meta entry into *value (borrowed until the transaction ends or writes).
 * XS_ENOTFOUND when absent. */
XS_MUST_USE xs_err hub_meta_get(xs_txn_t *txn, hub_meta name, xs_bytes_t *value);
/* Writes the named meta entry. */
XS_MUST_USE xs_err hub_meta_put(xs_txn_t *txn, hub_meta name, const void *value, size_t len);
/* Reads a u64 meta entry into *value: 0 when absent; XS_ECORRUPT when not 8 bytes. */
XS_MUST_USE xs_err hub_meta_get_u64(xs_txn_t *txn, hub_meta name, uint64_t *value);
/* Writes a u64 meta entry. */
XS_MUST_USE xs_err hub_meta_put_u64(xs_txn_t *txn, hub_meta name, uint64_t value);

/* Reads node origin into *node: XS_ENOTFOUND when not enrolled. */
XS_MUST_USE xs_err hub_node_get(xs_txn_t *txn, const uint8_t origin[32], hub_node_t *node);
/* Writes *node under its origin. */
XS_MUST_USE xs_err hub_node_put(xs_txn_t *txn, const hub_node_t *node);
/* Reads into *node the node whose CURVE key is box: XS_ENOTFOUND when none. */
XS_MUST_USE xs_err hub_node_by_box(xs_txn_t *txn, const uint8_t box[32], hub_node_t *node);
/* Enrolls a new node: gives it the next enrollment number and enrolled_at = now, binds its
 * CURVE key to it and writes it. XS_EEXIST when its CURVE key belongs to a node already. */
XS_MUST_USE xs_err hub_node_add(xs_txn_t *txn, hub_node_t *node, int64_t now);
/* Calls fn for every enrolled node, in origin order, until it returns other than XS_OK;
 * returns that, XS_OK after the last, or XS_ECORRUPT. *node is valid during the call. */
XS_MUST_USE xs_err hub_nodes_each(xs_txn_t *txn,
                                  xs_err (*fn)(void *ctx, xs_txn_t *txn, const hub_node_t *node),
                                  void *ctx);
/* Remembers what a HELLO said of node origin's head (head_seq, and via: the relay's number
 * that said it, 0: the node itself), in a write transaction of its own, only when it differs
 * from what is stored. XS_ENOTFOUND when origin is not enrolled, the store's errors. */
XS_MUST_USE xs_err hub_node_note_head(hub_t *hub, const uint8_t origin[32], uint64_t head_seq,
                                      uint32_t via);
/* 1 when school (len bytes) is the node's own school or one it is enrolled to proxy for. */
int hub_node_serves(const hub_node_t *node, const char *school, size_t len);

/* Reads into *satellite the node origin when relay may speak for it (protocol.md §8): it is
 * enrolled, unrevoked, not the relay, and its school is one relay proxies for. XS_EPERM when
 * not, XS_ENOTFOUND when origin is not enrolled. */
XS_MUST_USE xs_err hub_relays_for(xs_txn_t *txn, const hub_node_t *relay, const uint8_t origin[32],
                                  hub_node_t *satellite);

/* Option parsing and usage of this program's commands (xs_cli_args, xs_cli_usage). */
#define hub_args(...) xs_cli_args("xueshi-hub", __VA_ARGS__)
#define hub_usage(text) xs_cli_usage(text)

/* Commands: each takes the words after its name and returns the process exit code. */
int hub_cmd_init(int argc, char **argv);
int hub_cmd_enroll(int argc, char **argv);
int hub_cmd_revoke(int argc, char **argv);
int hub_cmd_nodes(int argc, char **argv);
int hub_cmd_run(int argc, char **argv);
int hub_cmd_report(int argc, char **argv);
int hub_cmd_import(int argc, char **argv);
int hub_cmd_export_receipts(int argc, char **argv);
int hub_cmd_policy(int argc, char **argv);
int hub_cmd_roster(int argc, char **argv);
int hub_cmd_close(int argc, char **argv);
int hub_cmd_objection(int argc, char **argv);
int hub_cmd_finalize(int argc, char **argv);
int hub_cmd_supplement(int argc, char **argv);
int hub_cmd_certificate(int argc, char **argv);
int hub_cmd_web(int argc, char **argv);
int hub_cmd_web_passwd(int argc, char **argv);
int hub_cmd_rotate_keys(int argc, char **argv);
int hub_cmd_backup(int argc, char **argv);
int hub_cmd_restore(int argc, char **argv);
int hub_cmd_migrate(int argc, char **argv);

#endif
