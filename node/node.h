/* node: the village node's directory, store layout and append path, shared by its commands. */
#ifndef NODE_H
#define NODE_H

#include <stdint.h>
#include <stdio.h>

#include "xs/backup.h"
#include "xs/cli.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/receipt.h"
#include "xs/record.h"
#include "xs/rotation.h"
#include "xs/store.h"

/* Tables of the node's LMDB environment, in open order. */
enum node_table {
    NODE_T_META,     /* named values (node_meta_key): node.c */
    NODE_T_RECORDS,  /* seq (8-byte big-endian) → encoded record (schema/records.md): node.c */
    NODE_T_DEDUPE,   /* content or ref key (node_dedupe_t) → seq: rows already recorded: node.c */
    NODE_T_BATCHES,  /* first_seq (8) → sealed batch envelope (protocol.md §2): lanes.c */
    NODE_T_RECEIPTS, /* teacher_id → the newest hub-signed receipt (protocol.md §4): lanes.c */
    /* A relay's satellites (protocol.md §8), each key led by the satellite's origin (32),
     * all owned by lanes.c: */
    NODE_T_SAT_BATCHES,  /* origin + first_seq (8) → the satellite's envelope, verbatim */
    NODE_T_SAT_CHAIN,    /* origin + first_seq (8) → count (4) + batch hash (32); origin
                            alone → the satellite's head (xs/chain.h, "Heads") */
    NODE_T_SAT_STATE,    /* origin + "acked_through" / "receipts_gen" → u64 (8) */
    NODE_T_SAT_RECEIPTS, /* origin + teacher_id → the newest receipt for that teacher */
    NODE_T_STAFF, /* origin (32) → the newest hub-signed part of the teacher roster for that
                     origin: this node's own, and a relay's satellites' (protocol.md §10):
                     staff.c */
    NODE_T_COUNT
};

/* Values of NODE_T_META, each under its name (node_meta_name); u64 values are 8 bytes
 * big-endian. The counters that must agree, sealed ≥ acked ≥ confirmed, are moved by seal.c
 * (sealed_through, head_hash) and lanes.c (the rest). */
typedef enum node_meta_key {
    NODE_META_FORMAT,            /* "format": NODE_FORMAT */
    NODE_META_SCHOOL,            /* "school": the node's own school id */
    NODE_META_POLICY,            /* "policy": the compiled policy blob */
    NODE_META_POLICY_ENV,        /* "policy_env": the hub-signed policy, for satellites */
    NODE_META_HUB,               /* "hub": the endpoint synced with (hub or relay) */
    NODE_META_HUB_KEYS,          /* "hub_keys" (64): its signing then transport key */
    NODE_META_COUNTY_KEY,        /* "county_key" (64): the hub's keys, when through a relay */
    NODE_META_SEALED_THROUGH,    /* "sealed_through" (u64): last seq sealed into a batch */
    NODE_META_HEAD_HASH,         /* "head_hash" (32): hash of the last sealed batch */
    NODE_META_ACKED_THROUGH,     /* "acked_through" (u64): the peer holds every seq ≤ it */
    NODE_META_CONFIRMED_THROUGH, /* "confirmed_through" (u64): the hub holds every seq ≤ it */
    NODE_META_RECEIPTS_GEN,      /* "receipts_gen" (u64): newest complete receipts held */
    NODE_META_ROSTER,            /* "roster": the hub-signed list of satellites to admit */
    NODE_META_RELAY,             /* "relay": present while the node relays */
    NODE_META_LINK_RATE,         /* "link_rate" (u64): bytes per second the last sync measured */
    NODE_META_LAST_SYNC,         /* "last_sync" (u64): unix seconds a sync session last ended
                                    with the hub holding everything (sync.c) */
    NODE_META_ROTATIONS,         /* "rotations": the hub's chain of key rotation statements
                                    the node followed (protocol.md §11; node.c moves it with
                                    the signing half of county_key or hub_keys) */
    NODE_META_RESTORED,          /* "restored" (u64): unix seconds `xueshi-node restore` put
                                    this store back from a backup; present until a sync session
                                    has compared the chain with the hub's (and adopted the hub's
                                    when it is behind, protocol.md §9) or `recover` rebuilt the
                                    store. While present, node_seal seals nothing. Written by
                                    cmd_backup.c, removed by sync.c */
    NODE_META_COUNT
} node_meta_key;

/* The stored name of a meta key. */
const char *node_meta_name(node_meta_key key);
/* The length a meta value must have, in bytes (as in the list above); 0 when any will do. */
size_t node_meta_len(node_meta_key key);
/* Reads a meta value, borrowed until txn ends. XS_ENOTFOUND when absent. */
XS_MUST_USE xs_err node_meta_get(xs_txn_t *txn, node_meta_key key, xs_bytes_t *value);
/* Writes a meta value. XS_EINVAL when len is not the key's node_meta_len. */
XS_MUST_USE xs_err node_meta_put(xs_txn_t *txn, node_meta_key key, const void *value, size_t len);
/* Decodes a u64 meta value (as node_meta_get returns it) into *out. XS_ECORRUPT when it is
 * not 8 bytes. */
XS_MUST_USE xs_err node_meta_u64(const xs_bytes_t *value, uint64_t *out);
/* Reads a u64 meta value into *out, 0 when absent. XS_ECORRUPT when not 8 bytes. */
XS_MUST_USE xs_err node_meta_get_u64(xs_txn_t *txn, node_meta_key key, uint64_t *out);
/* Writes a u64 meta value. */
XS_MUST_USE xs_err node_meta_put_u64(xs_txn_t *txn, node_meta_key key, uint64_t value);
/* Deletes a meta value; XS_OK when it was absent. */
XS_MUST_USE xs_err node_meta_del(xs_txn_t *txn, node_meta_key key);

/* Called for each entry of a meta walk with its stored name and value, both borrowed until the
 * walk's txn ends; any error other than XS_OK stops the walk and is returned. */
typedef xs_err (*node_meta_fn)(void *ctx, const xs_bytes_t *name, const xs_bytes_t *value);
/* Calls fn for every entry of NODE_T_META in name order, names node_meta_name does not know
 * included (a checker's view). Returns the store's error when the walk cannot go on. */
XS_MUST_USE xs_err node_meta_each(xs_txn_t *txn, node_meta_fn fn, void *ctx);

/* The tables' names, for xs_store_open. */
extern const char *const node_tables[NODE_T_COUNT];

/* The number of entries the store records for table (enum node_table), into *count. */
XS_MUST_USE xs_err node_table_count(xs_txn_t *txn, unsigned table, uint64_t *count);

/* The store format this program writes and reads (NODE_META_FORMAT); a newer one is refused,
 * an older one upgraded by `xueshi-node migrate`. */
#define NODE_FORMAT "1"
#define NODE_FORMAT_NUMBER 1u

/* Reads the format of the node store in directory store_path (DIR/store) into *format,
 * opening it read-only and writing nothing: 1 when none is stored. XS_ENOTFOUND (no store),
 * XS_ECORRUPT (a format that is not a number), the store's errors. */
XS_MUST_USE xs_err node_format_read(const char *store_path, unsigned *format);
/* XS_OK when format is NODE_FORMAT_NUMBER; else says, naming dir, what to do and returns
 * XS_EVERSION. */
XS_MUST_USE xs_err node_format_check(const char *dir, unsigned format);
/* The node as its backup, restore and migrate commands see it (xs/backup.h). */
extern const xs_backup_program_t node_backup_program;
/* Longest dedupe key: a marker, a school id, a NUL and a ref. */
#define NODE_DEDUPE_KEY_MAX (2 + XS_ID_MAX + XS_REF_MAX)

/* A record's dedupe key. Content keys lead with the activity date so that a chronological
 * sheet inserts them nearly in order (few B-tree pages touched per commit). */
typedef struct node_dedupe {
    uint8_t bytes[NODE_DEDUPE_KEY_MAX];
    size_t len;
} node_dedupe_t;

/* An open node directory. */
typedef struct node {
    const char *dir;            /* the --dir given, borrowed from argv */
    xs_store_t *store;          /* DIR/store */
    char school[XS_ID_MAX + 1]; /* the node's own school id */
} node_t;

/* Opens DIR's store and reads its school; XS_ENOTFOUND when DIR is not an initialised
 * node, XS_EVERSION when its store is of another format than NODE_FORMAT (checked before
 * anything is written to it; messages printed). */
XS_MUST_USE xs_err node_open(node_t *node, const char *dir);
/* Closes what node_open opened; safe on a zeroed node. */
void node_close(node_t *node);

/* The county hub's signing key, which receipts, policies and rosters must verify against:
 * from "county_key" when the node syncs through a relay, else from "hub_keys". XS_ENOTFOUND
 * when the node has no hub configured. */
XS_MUST_USE xs_err node_county_key(xs_txn_t *txn, uint8_t key[32]);
/* The county hub's signing keys, as the node's followed rotations (protocol.md §11) say. */
typedef struct node_county_keys {
    uint8_t current[XS_SIGN_PK_BYTES];          /* the key in force */
    size_t nsteps;                              /* rotations followed to it */
    xs_rotation_t steps[XS_ROTATION_CHAIN_MAX]; /* their statements, oldest first: each
                                                   old_key a key retired at its `at` */
} node_county_keys_t;

/* Reads the county's keys into *out. XS_ENOTFOUND when no hub is configured, XS_ECORRUPT. */
XS_MUST_USE xs_err node_county_keys(xs_txn_t *txn, node_county_keys_t *out);

/* The i-th of keys: 0 the key in force, then the retired ones, newest first; NULL past the
 * last. Borrowed from keys. */
const uint8_t *node_county_key_at(const node_county_keys_t *keys, size_t i);

/* Opens a hub-signed receipt envelope (xs_receipt_open) by any of keys: the key in force, or a
 * retired one for a receipt it issued while in force (historical). XS_ECRYPTO when none. */
XS_MUST_USE xs_err node_receipt_open(const node_county_keys_t *keys, const void *envelope,
                                     size_t len, xs_receipt_t *out);

/* Calls open(ctx, key) with each of keys, in force first, until one returns other than
 * XS_ECRYPTO: for what the hub signed without a time (its policy, roster, parts), which a node
 * may hold from before a rotation. Returns that result. */
XS_MUST_USE xs_err node_county_try(const node_county_keys_t *keys,
                                   xs_err (*open)(void *ctx, const uint8_t key[XS_SIGN_PK_BYTES]),
                                   void *ctx);

/* Follows the hub's chain of rotation statements (chain_len bytes, as VIEW or a receipts
 * bundle carries it) from the key the node trusts, in write transaction txn: stores the chain
 * and the key in force (the signing half of county_key, or of hub_keys when the node syncs
 * with the hub itself); *rotated (may be NULL) = 1 when the key in force changed. A chain the
 * node's key is not in (another hub's), or one shorter than the node's, is refused:
 * XS_ECRYPTO, XS_EINVAL; XS_EMALFORMED. */
XS_MUST_USE xs_err node_county_follow(xs_txn_t *txn, const void *chain, size_t chain_len,
                                      int *rotated);

/* The county hub's transport key, which bundles are encrypted to; found as above. */
XS_MUST_USE xs_err node_county_box(xs_txn_t *txn, uint8_t key[32]);

/* Loads the node's policy (set by init --policy or the policy command) into *out, the
 * caller's. XS_ENOTFOUND, silently, when none is set; a decode error is printed. */
XS_MUST_USE xs_err node_policy(node_t *node, xs_policy_t **out);

/* node_policy for a command that cannot go on without one: XS_ENOTFOUND is said too, with the
 * command that sets it. */
XS_MUST_USE xs_err node_policy_needed(node_t *node, xs_policy_t **out);

/* Loads the policy file at path, prints a refusal with file and line, and on success stores
 * its compiled blob as the node's policy in one write step. */
XS_MUST_USE xs_err node_set_policy(xs_store_t *store, const char *path);

/* Stores a compiled policy blob and the hub-signed envelope it came in (kept for satellites),
 * both verified by the caller. */
XS_MUST_USE xs_err node_put_signed_policy(xs_txn_t *txn, const void *blob, size_t blob_len,
                                          const void *envelope, size_t envelope_len);

/* Parses an academic year label "2025-2026" into its first calendar year; XS_EINVAL and a
 * message when it is not one. */
XS_MUST_USE xs_err node_parse_year(const char *label, int *year);

/* Key of a record for re-import detection: 0x00, the big-endian date and 11 bytes of BLAKE2b
 * over its encoding without recorded_at and operator; or, when it has a ref, 0x01, its school,
 * a NUL and the ref itself. */
void node_dedupe_key(const xs_record_t *rec, node_dedupe_t *key);

/* The hash of the node's compiled policy into hash; *has = 0 when it holds none. */
XS_MUST_USE xs_err node_policy_hash(xs_txn_t *txn, uint8_t hash[32], int *has);

/* Called for each record of a walk with its seq and encoded bytes (borrowed until the walk's
 * txn ends); any error other than XS_OK stops the walk and is returned. */
typedef xs_err (*node_record_fn)(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len);
/* Calls fn for each record from seq from on, in seq order. XS_ECORRUPT when the numbering has a
 * hole or a key is damaged. */
XS_MUST_USE xs_err node_records(xs_txn_t *txn, uint64_t from, node_record_fn fn, void *ctx);
/* Reads record seq's bytes, borrowed until txn ends. XS_ENOTFOUND. */
XS_MUST_USE xs_err node_record_get(xs_txn_t *txn, uint64_t seq, xs_bytes_t *bytes);

/* The seq a key of NODE_T_RECORDS names; 0 when it is not one (a damaged key). */
uint64_t node_record_seq(const xs_bytes_t *key);
/* Called for each entry of a raw walk of the records: its seq (0 when the key is damaged), its
 * key and its bytes, borrowed until the walk's txn ends; an error stops the walk. */
typedef xs_err (*node_record_raw_fn)(void *ctx, uint64_t seq, const xs_bytes_t *key,
                                     const xs_bytes_t *bytes);
/* Calls fn for every entry of NODE_T_RECORDS in key order: unlike node_records, damaged keys,
 * holes and disorder are handed on, not an end. Returns the store's error when the walk cannot
 * go on. */
XS_MUST_USE xs_err node_records_raw(xs_txn_t *txn, node_record_raw_fn fn, void *ctx);
/* node_records_raw over the entries whose key sorts at or after seq from's (0: every entry). */
XS_MUST_USE xs_err node_records_raw_from(xs_txn_t *txn, uint64_t from, node_record_raw_fn fn,
                                         void *ctx);

/* Reads the seq a dedupe key names into *seq; 0 when the stored value is damaged.
 * XS_ENOTFOUND when the key is not registered. */
XS_MUST_USE xs_err node_dedupe_get(xs_txn_t *txn, const node_dedupe_t *key, uint64_t *seq);
/* Called for each entry of a dedupe walk: the key's bytes (borrowed until the walk's txn ends)
 * and the seq it names, 0 when the stored value is damaged; an error stops the walk. */
typedef xs_err (*node_dedupe_fn)(void *ctx, const xs_bytes_t *key, uint64_t seq);
/* Calls fn for every entry of NODE_T_DEDUPE in key order. Returns the store's error when the
 * walk cannot go on. */
XS_MUST_USE xs_err node_dedupe_each(xs_txn_t *txn, node_dedupe_fn fn, void *ctx);

/* The sequence number the next appended record gets (1 for an empty store). */
XS_MUST_USE xs_err node_next_seq(xs_txn_t *txn, uint64_t *seq);

/* Stores one encoded record as seq (which must be node_next_seq's, then one more for each
 * record stored since) and registers its dedupe key. With skip_known, a record whose key is
 * registered is not stored and XS_EEXIST returned; without, it is stored anyway and the
 * first key stays. */
XS_MUST_USE xs_err node_put(xs_txn_t *txn, uint64_t seq, const uint8_t *bytes, size_t len,
                            const node_dedupe_t *key, int skip_known);

/* Deletes every record from seq from on, and each one's dedupe key where it names that record
 * (recover.c rebuilds what follows). XS_ECORRUPT on a record that does not decode. */
XS_MUST_USE xs_err node_truncate(xs_txn_t *txn, uint64_t from);

/* node_next_seq then node_put without skip_known: *seq gets the new sequence number. */
XS_MUST_USE xs_err node_append(xs_txn_t *txn, const uint8_t *bytes, size_t len,
                               const node_dedupe_t *key, uint64_t *seq);

/* Room for a refusal's text, NUL included. */
#define NODE_REFUSAL_MAX 1024
/* A field value for node_refusal_t.field when the refusal is of no one record field (an unknown
 * field name, a whole row of a sheet). */
#define NODE_REFUSAL_F_NONE XS_F_COUNT

/* Why something a user gave is refused, as data: the command line prints text as one line
 * after "xueshi-node: 拒绝登记 (refused): "; the web UI shows it beside the form. */
typedef struct node_refusal {
    xs_field field; /* the field refused, or NODE_REFUSAL_F_NONE */
    xs_reason why;  /* the reason; XS_REASON_NONE when nothing is refused (text is then "") */
    char text[NODE_REFUSAL_MAX]; /* one line, no newline, Chinese first, naming the field in
                                    Chinese (xs_field_zh) and, for a word field, the values it
                                    accepts; ends with "(FIELD: CODE)" in English, e.g.
                                    角色「主讲者」无效，可填：参与者/participant、主讲人/speaker…
                                    (role: bad_value) */
} node_refusal_t;

/* Clears *why: field NODE_REFUSAL_F_NONE, why XS_REASON_NONE, text "". */
void node_refusal_clear(node_refusal_t *why);

/* Fills *out for a value refused by xs_record_set_text, xs_sheet_row or xs_policy_check: the
 * field's Chinese name, the value given when value is not NULL (vlen bytes, shown in 「」, cut
 * to fit), the reason in Chinese, and for a word field the values it accepts (for category,
 * under policy: the built-ins and the policy's own, or, with policy NULL, that the county's
 * own categories arrive with its policy). */
void node_refusal_set(node_refusal_t *out, const xs_policy_t *policy, xs_field field, xs_reason why,
                      const char *value, size_t vlen);

/* Checks a record a user gives on this node: xs_policy_check under the node's policy (NULL:
 * built-in categories only), no date after tomorrow, and the school this node may record for.
 * Returns the reason, or XS_REASON_NONE; *out (may be NULL) gets the refusal as
 * node_refusal_set words it. Prints nothing. */
xs_reason node_check_why(const node_t *node, const xs_policy_t *policy, const xs_record_t *rec,
                         node_refusal_t *out);
/* node_check_why, printing the refusal (with line when > 0) to stderr as one line. */
xs_reason node_check(const node_t *node, const xs_policy_t *policy, const xs_record_t *rec,
                     long line);

/* The category code text (len bytes, trimmed) names under the node's policy (NULL: built-ins
 * only): an English name in any ASCII case or an exact Chinese label; -1 when none. */
int node_category_parse(const xs_policy_t *policy, const char *text, size_t len);
/* Writes into out (cap bytes, NUL-terminated, cut to fit) the categories a record may name
 * under policy, "专题讲座/lecture、…", the policy's own after the built-ins; with policy NULL
 * the built-ins only. Returns the bytes written. */
size_t node_category_allowed(const xs_policy_t *policy, char *out, size_t cap);
/* Writes into out (cap bytes, one line, no newline) where the county's categories come from:
 * the policy's own list, or (policy NULL) that they arrive with the county's policy. */
void node_category_hint_text(const xs_policy_t *policy, char *out, size_t cap);
/* Prints node_category_hint_text to stderr as one "xueshi-node: " line. */
void node_category_hint(const xs_policy_t *policy);

/* Prints s (len bytes) to stdout and pads it with spaces to width terminal columns, as
 * xs_text_width counts them (a CJK character takes two). */
void node_pad_n(const char *s, size_t len, size_t width);
/* node_pad_n for a NUL-terminated string. */
void node_pad(const char *s, size_t width);

/* Option parsing and usage of this program's commands (xs_cli_args, xs_cli_usage). */
#define node_args(...) xs_cli_args("xueshi-node", __VA_ARGS__)
#define node_usage(text) xs_cli_usage(text)

/* Commands: each takes the words after its name and returns the process exit code. */
int node_cmd_init(int argc, char **argv);
int node_cmd_record(int argc, char **argv);
int node_cmd_import(int argc, char **argv);
int node_cmd_list(int argc, char **argv);
int node_cmd_void(int argc, char **argv);
int node_cmd_review(int argc, char **argv);
int node_cmd_policy(int argc, char **argv);
int node_cmd_totals(int argc, char **argv);
int node_cmd_sync(int argc, char **argv);
int node_cmd_run(int argc, char **argv);
int node_cmd_receipt(int argc, char **argv);
int node_cmd_export(int argc, char **argv);
int node_cmd_import_receipts(int argc, char **argv);
int node_cmd_recover(int argc, char **argv);
int node_cmd_check(int argc, char **argv);
int node_cmd_staff(int argc, char **argv);
int node_cmd_certificate(int argc, char **argv);
int node_cmd_web(int argc, char **argv);
int node_cmd_web_passwd(int argc, char **argv);
int node_cmd_backup(int argc, char **argv);
int node_cmd_restore(int argc, char **argv);
int node_cmd_migrate(int argc, char **argv);

#endif
