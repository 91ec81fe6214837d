/* check: reading a stored record safely, and walking a node's whole store, each table in a
 * child process, to report what is damaged. */
#ifndef NODE_CHECK_H
#define NODE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* Exit code of a node command that finds its store corrupted, and of check when it finds
 * problems. */
#define NODE_EXIT_CORRUPT 6
/* The table number check reports the node's key file (DIR/node.secret) under: the one after
 * the store's tables (enum node_table). */
#define NODE_CHECK_KEY_FILE NODE_T_COUNT
/* Room for the reason node_record_read gives. */
#define NODE_WHY_MAX 160

/* Reads one entry of NODE_T_RECORDS: *seq gets its sequence number (node_record_seq: 0 when
 * the key is damaged) and *rec the record, decoded (strings borrow val) and checked as
 * xs_record_check does. XS_ECORRUPT, with a bilingual reason in why (NODE_WHY_MAX bytes), when the
 * key is damaged, the bytes do not decode, or they are not a valid record. */
XS_MUST_USE xs_err node_record_read(const xs_bytes_t *key, const xs_bytes_t *val, uint64_t *seq,
                                    xs_record_t *rec, char why[NODE_WHY_MAX]);

/* Prints that the store of the node in dir is corrupted and how to see where, for a command
 * that found it so (it then exits NODE_EXIT_CORRUPT). */
void node_corrupt_hint(const char *dir);

/* The exit code of a command that failed with err on the node in dir: NODE_EXIT_CORRUPT,
 * with node_corrupt_hint printed, for XS_ECORRUPT; 1 for any other error. */
int node_exit_code(xs_err err, const char *dir);

/* Name of a table for people ("记录"); for NODE_CHECK_KEY_FILE, the node's key file. */
const char *node_check_label(unsigned table);

/* What the walk of one table found. */
typedef struct node_check_table {
    unsigned table;    /* enum node_table; NODE_CHECK_KEY_FILE for the node's key file */
    uint64_t entries;  /* entries read */
    uint64_t problems; /* problems found in it, a crash of its walk included */
    int complete;      /* 1 when the walk read the table to its end */
} node_check_table_t;

/* Where node_check_run reports, as it goes; either function may be NULL. */
typedef struct node_check_sink {
    void (*problem)(void *ctx, unsigned table, const char *text); /* one line, bilingual */
    void (*table)(void *ctx, const node_check_table_t *t);        /* a table's walk ended */
    void *ctx;                                                    /* given to both */
} node_check_sink_t;

/* Checks the store of the node in dir without writing to it: each table is walked by a
 * forked child that opens the store read-only, so that a crash on a damaged page becomes a
 * problem of that table and the other tables are still checked. It checks every entry's
 * readability and every table's entry count; records (decode, validity, this node's school,
 * sequence numbers without holes, correction targets); the dedupe index both ways; sealed
 * batches (signed by this node's key from DIR/node.secret, chained, holding the records
 * table's bytes, ending at meta sealed_through and head_hash); receipts against the county
 * key; the meta values; a relay's satellite tables; the roster parts (each opens against the
 * county key for the origin it is stored under). Progress goes to stderr after a second.
 * *problems gets how many were found. XS_ENOTFOUND when dir holds no store (printed);
 * XS_EIO when a child cannot be started; the store's error when it cannot be opened at all
 * is a problem, not an error. */
XS_MUST_USE xs_err node_check_run(const char *dir, const node_check_sink_t *sink,
                                  uint64_t *problems);

#endif
