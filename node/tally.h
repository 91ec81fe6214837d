/* tally: each teacher's credit on this node, offline: provisional (暂定) totals certified from
 * the node's own records under its policy, confirmed (已认定) totals from the hub-signed
 * receipts it holds, and what is still missing to meet each requirement; prints nothing. */
#ifndef NODE_TALLY_H
#define NODE_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "staff.h"
#include "xs/certify.h"

/* Room for a period label: "2025-2026", "2025-2026-1" or a cycle's "2021-2026". */
#define NODE_TALLY_PERIOD_MAX 16
/* Room for node_tally_missing_text's line, NUL included. */
#define NODE_TALLY_MISSING_MAX 1024

/* One requirement row of a teacher: a bucket over an academic year, a semester or a cycle. */
typedef struct node_tally_row {
    xs_certify_total_t provisional;     /* from the node's records: scope, year, semester, bucket,
                                           credited and required seconds, met, binding, why,
                                           unreviewed (certify.h) */
    int has_confirmed;                  /* 1 when the teacher's verified receipt holds this row */
    xs_certify_total_t confirmed;       /* that receipt's row (xs_report_receipt_total), when
                                           has_confirmed; else zeroed */
    int closed;                         /* 1 when the receipt says the row's year is closed (定案,
                                           schema/year.md) */
    int exempt;                         /* 1 when the teacher is exempt (免于认定) in this row's
                                           year, and it is a year or semester row */
    char period[NODE_TALLY_PERIOD_MAX]; /* the row's period label */
    const char *bucket;                 /* the bucket's label, borrowed from the policy */
    uint64_t missing_seconds;           /* provisional: required minus credited while short (met no,
                                           hours_short); 0 when met, exempt or nothing is required */
} node_tally_row_t;

/* One teacher, as node_tally_run hands it out; everything borrowed for the call only. */
typedef struct node_tally_teacher {
    const xs_policy_t *policy;    /* the policy the rows are certified under */
    xs_str_t teacher_id;          /* the teacher's id */
    const char *name;             /* the roster's name for them, or "" */
    int has_records;              /* 0: a rostered teacher without records here (zero rows) */
    int has_receipt;              /* 1 when the node holds a receipt for them that verifies */
    int bad_receipt;              /* 1 when it holds one that fails its check (not used) */
    int exempt;                   /* 1 when exempt (免于认定) in the year asked */
    const node_tally_row_t *rows; /* in the engine's order (xs_certify_teacher_t.totals) */
    size_t count;
} node_tally_teacher_t;

/* Called once per teacher, in ascending byte order of teacher_id; an error stops the run and
 * is returned. */
typedef xs_err (*node_tally_fn)(void *ctx, const node_tally_teacher_t *teacher);

/* Which teachers and years a tally covers. */
typedef struct node_tally_opts {
    const char *teacher; /* only this teacher_id, or NULL: every teacher */
    int year;            /* only this academic year (2025 for 2025-2026) and the cycle holding
                            it; 0: every year the records have */
    int64_t now;         /* unix seconds: without year, rostered teachers without records are
                            shown in the academic year holding now */
} node_tally_opts_t;

/* What a run saw besides the teachers. */
typedef struct node_tally_summary {
    size_t teachers;       /* teachers handed to fn (those with no row in the year are not) */
    int has_hub;           /* 1 when the node knows the county key receipts verify against */
    uint64_t bad_receipts; /* receipts held that failed their check (their teacher is shown
                              without confirmed figures, bad_receipt set) */
    int corrupted;         /* 1 when a stored record could not be read (the rest were tallied): the
                              caller says so and exits NODE_EXIT_CORRUPT */
} node_tally_summary_t;

/* Certifies the node's records under policy (the node's, not NULL) in one read snapshot, and
 * calls fn for each teacher with rows in opts' year: teachers with records, and the rostered
 * teachers of the schools the node records for that have none (staff NULL or zeroed: no
 * roster), each with the confirmed rows of their receipt beside the provisional ones. *sum
 * (may be NULL) is filled. Prints nothing but what node_recordset_load says of a record that
 * does not read (sum->corrupted). Returns XS_OK, XS_ENOMEM, the store's error, or fn's. */
XS_MUST_USE xs_err node_tally_run(node_t *node, const xs_policy_t *policy, const xs_staff_t *staff,
                                  const node_tally_opts_t *opts, node_tally_fn fn, void *ctx,
                                  node_tally_summary_t *sum);

/* Writes into out (cap bytes, one line, NUL-terminated, cut to fit) what teacher still lacks,
 * provisionally, for each requirement of the rows that has one: "专业课程 2025-2026 还差
 * 12.00 学时；…" (and the single-record requirement's reason where that is short); "已达标"
 * when every requirement is met; "免于认定" when exempt; "-" when nothing is required. A
 * binding requirement comes before an advisory one, which is marked (建议). Returns the bytes
 * written. */
size_t node_tally_missing_text(const node_tally_teacher_t *teacher, char *out, size_t cap);

#endif
