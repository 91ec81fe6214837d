/* importer: recording a school's 学时登记表 from an open reader, chunk by chunk, re-import
 * safe, reporting each refused row and each durable commit through a sink; prints nothing. */
#ifndef NODE_IMPORTER_H
#define NODE_IMPORTER_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "staff.h"
#include "xs/csv.h"

/* Rows per write transaction: each chunk commits durably on its own, so a crash loses at most
 * the chunk in flight, which the next import of the same sheet records. */
#define NODE_IMPORT_CHUNK_ROWS 8192

/* Where an import reports as it goes; any function may be NULL. Strings are borrowed for the
 * call only. */
typedef struct node_import_sink {
    /* A row refused, nothing of it stored: its physical line, the field's Chinese name
     * (xs_field_zh; "整行" for the whole row, "姓名" for the name cell), and the refusal's one
     * line as node_refusal_t.text words it. */
    void (*refused)(void *ctx, uint32_t line, const char *field_zh, const char *text);
    /* A chunk stored durably: the totals so far of rows stored and of rows found already
     * recorded, and the line of the last row the chunk took. */
    void (*committed)(void *ctx, uint64_t recorded, uint64_t known, uint32_t through_line);
    /* Rows read so far (blank rows included), at every row: for a progress line. */
    void (*progress)(void *ctx, uint64_t rows);
    void *ctx; /* handed to each */
} node_import_sink_t;

/* What an import did. */
typedef struct node_import_result {
    uint64_t rows;              /* data rows read, blank ones included */
    uint64_t recorded;          /* rows stored by committed chunks */
    uint64_t known;             /* rows found already recorded (a re-import), not stored again */
    uint64_t refused;           /* rows refused */
    uint64_t unknown_category;  /* of which for a category the node does not know */
    uint64_t unknown_teacher;   /* of which for a teacher not in the roster (or its school) */
    uint32_t last_line;         /* line of the last row read (1: the header only) */
    int stopped;                /* 1 when the sheet was not read to its end (see why) */
    int store_failed;           /* 1 when a chunk could not be stored: the error returned is
                                   the store's, the chunks before it were stored */
    char why[NODE_REFUSAL_MAX]; /* when stopped: one line, Chinese first, saying where and why
                                   (broken CSV at line N, a bad header, an empty file); else "" */
} node_import_result_t;

/* Imports the sheet csv reads (header row, then one activity per row; xs_sheet_open_file or
 * xs_sheet_open_mem opened it; the caller still owns and closes it) into node: each row is
 * mapped by xs_sheet_row (categories resolved under policy, NULL: built-ins only), completed
 * (school_id the node's when empty, operator_ when the row has none and operator_ is not
 * NULL, recorded_at now), checked by node_check_why and node_staff_why (staff NULL or zeroed:
 * no roster held), and stored NODE_IMPORT_CHUNK_ROWS at a time, each chunk in one durable
 * write step; a row whose dedupe key is registered is counted known and not stored again.
 * Blank rows are skipped. Refused rows go to sink->refused and are not stored. *out is filled
 * in every case. Returns XS_OK when the sheet was read to its end (refused rows or not);
 * XS_ENOTFOUND for an empty sheet (no header); XS_EINVAL for a header xs_sheet_header_policy
 * refuses; XS_ECSV or XS_ETOOBIG when the CSV broke (the rows before it stored); XS_ENOMEM;
 * or the store's error with out->store_failed set. On every error but the store's, out->why
 * says it. */
XS_MUST_USE xs_err node_import_run(node_t *node, const xs_policy_t *policy, const xs_staff_t *staff,
                                   xs_csv_t *csv, const char *operator_, int64_t now,
                                   const node_import_sink_t *sink, node_import_result_t *out);

/* Writes into out (cap bytes, one line, no newline) what to do about res's rows of teachers not
 * in the roster, whose version is staff_version: check the ids, or have the county update the
 * roster and sync; "" when there were none. */
void node_import_teacher_hint(const node_import_result_t *res, uint32_t staff_version, char *out,
                              size_t cap);

#endif
