/* year: the hub's closed academic years (schema/year.md): the signed documents and objections
 * (HUB_T_YEARS), the frozen row of every record a closed year certified (HUB_T_FROZEN),
 * closing a year, the 补认定 list and its amendments, and the closed year's part of every
 * receipt the hub builds afterwards. */
#ifndef HUB_YEAR_H
#define HUB_YEAR_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "merge.h"
#include "xs/certify.h"
#include "xs/receipt.h"
#include "xs/standing.h"
#include "xs/year.h"

/* What an HUB_T_YEARS entry holds: key academic year (2, big-endian) + kind (1) + number (4,
 * big-endian). */
typedef enum hub_year_kind {
    HUB_YEAR_DOC = 1,       /* number 0: the year document's envelope */
    HUB_YEAR_OBJECTION = 2, /* number 1..: an objection (msgpack: teacher_id, filed_at, note,
                               decision or nil, decided_at) */
    HUB_YEAR_FINAL = 3,     /* number 0: the finalization's envelope */
    HUB_YEAR_AMEND = 4,     /* number 1..: amendment N's envelope */
    HUB_YEAR_POLICY = 5,    /* number 0: the compiled policy blob the year was closed under, so
                               that what prints the closed year names its buckets as it did */
} hub_year_kind;

/* Reads an entry of HUB_T_YEARS into *value (borrowed until the transaction ends or writes).
 * XS_ENOTFOUND when absent. */
XS_MUST_USE xs_err hub_year_get(xs_txn_t *txn, int year, hub_year_kind kind, uint32_t number,
                                xs_bytes_t *value);
/* The highest number of kind stored for year into *number; 0: none. */
XS_MUST_USE xs_err hub_year_last(xs_txn_t *txn, int year, hub_year_kind kind, uint32_t *number);

/* An objection as stored. */
typedef struct hub_objection {
    uint32_t number;                     /* 1, 2, … in filing order */
    char teacher[XS_ID_MAX + 1];         /* the teacher_id */
    int64_t filed_at;                    /* unix seconds */
    char note[XS_YEAR_TEXT_MAX + 1];     /* the objection */
    char decision[XS_YEAR_TEXT_MAX + 1]; /* "" while undecided */
    int64_t decided_at;                  /* 0 while undecided */
} hub_objection_t;

/* Records an objection to closed year `year` with the next number, into *number. XS_EINVAL
 * for a teacher or note empty, too long or not UTF-8. */
XS_MUST_USE xs_err hub_year_objection_add(xs_txn_t *txn, int year, const char *teacher,
                                          const char *note, int64_t now, uint32_t *number);
/* Records the decision on objection number. XS_ENOTFOUND when there is none, XS_EINVAL for a
 * decision empty, too long or not UTF-8. */
XS_MUST_USE xs_err hub_year_objection_decide(xs_txn_t *txn, int year, uint32_t number,
                                             const char *decision, int64_t now);
/* Calls fn for every objection to year, by number, until it returns other than XS_OK; returns
 * that, XS_OK after the last, or XS_ECORRUPT. *o is valid during the call. */
XS_MUST_USE xs_err hub_year_objections_each(xs_txn_t *txn, int year,
                                            xs_err (*fn)(void *ctx, const hub_objection_t *o),
                                            void *ctx);

/* ---- a closed year, loaded ---- */

/* A closed year as the hub holds it: the year document, its amendments, the policy it was
 * closed under. Owns everything. */
typedef struct hub_closed_year {
    int year;
    xs_year_doc_t doc;
    size_t amend_count;
    xs_year_amend_t *amends; /* number 1.. in order */
    xs_policy_t *policy;     /* the policy the year was closed under */
    int finalized;           /* 1 once finalized */
} hub_closed_year_t;

/* Loads closed year `year`, checked against hub's key. XS_ENOTFOUND when the year is not
 * closed; XS_ECORRUPT when a stored document does not open. */
XS_MUST_USE xs_err hub_closed_year_load(hub_t *hub, xs_txn_t *txn, int year,
                                        hub_closed_year_t *out);
/* Frees what hub_closed_year_load gave and zeroes *c; accepts a zeroed one. */
void hub_closed_year_free(hub_closed_year_t *c);
/* The closed result of a teacher (len bytes): the row of the latest amendment that holds one,
 * else the year document's; NULL when the year has none for them. Valid while c is. */
const xs_year_row_t *hub_closed_year_row(const hub_closed_year_t *c, const char *teacher,
                                         size_t len);

/* Rebuilds from a closed row what printing it needs, as the close saw it: the engine's totals
 * (into totals, room for XS_YEAR_TOTALS_MAX; their year the closed year's, or its cycle's,
 * why derived from the figures) as *view, and the teacher's standing as *st, for
 * xs_standing_reason and the report. view borrows totals and row. */
void hub_closed_row_view(const xs_policy_t *policy, int year, const xs_year_row_t *row,
                         xs_certify_total_t *totals, xs_certify_teacher_t *view, xs_standing_t *st);

/* What closed year `year` (or a supplement after it) certified record (origin, seq) dated in
 * it: its status (xs_certify_status) and credited seconds, into *status and *credited_seconds.
 * XS_ENOTFOUND when the year froze no row for it (not closed, or the record arrived after),
 * XS_ECORRUPT. */
XS_MUST_USE xs_err hub_year_frozen(xs_txn_t *txn, int year, const uint8_t origin[32], uint64_t seq,
                                   uint8_t *status, uint32_t *credited_seconds);

/* The totals of a teacher with no records in academic year `year`, as the engine would give
 * them (every credit 0, each requirement not met), into out (room for XS_YEAR_TOTALS_MAX);
 * returns how many. */
size_t hub_year_zero_totals(const xs_policy_t *policy, int year, xs_certify_total_t *out);

/* The closed years a merge has met, loaded once each: per write step, since a close may
 * commit between two. */
typedef struct hub_closed_cache hub_closed_cache_t;

/* Creates an empty cache for hub (borrowed). XS_ENOMEM. */
XS_MUST_USE xs_err hub_closed_cache_new(hub_closed_cache_t **out, hub_t *hub);
/* Forgets every loaded year: call it at the start of each write step. */
void hub_closed_cache_reset(hub_closed_cache_t *cache);
/* Frees the cache; accepts NULL and nulls the pointer. */
void hub_closed_cache_destroy(hub_closed_cache_t **cache);

/* Makes receipt r, just built by xs_receipt_build from teacher's ledger (rows and ids indexed
 * like its records), say what the closed years decided: each closed year's period carries the
 * year document's hash, its records are those the closed year (and its amendments) certified,
 * its year and semester totals are the teacher's closed row, and each cycle total counts the
 * closed year at its frozen credit (live cycle − live year + frozen year, per bucket), its met
 * judged again. XS_ETOOBIG (more totals than a receipt holds), the store's errors. */
XS_MUST_USE xs_err hub_closed_apply(hub_closed_cache_t *cache, xs_txn_t *txn,
                                    const xs_certify_teacher_t *teacher,
                                    const xs_certify_row_t *rows, const xs_receipt_ident_t *ids,
                                    xs_receipt_t *r);

/* ---- closing ---- */

/* What hub_year_close did. */
typedef struct hub_close_stats {
    uint64_t teachers;              /* rows of the year document */
    uint64_t unrostered;            /* of which not on the roster */
    uint64_t exempt;                /* of which exempt */
    uint64_t met;                   /* of which met (达标) */
    uint64_t not_met;               /* of which not met */
    uint64_t records;               /* records certified into the year */
    hub_recertify_stats_t receipts; /* the receipts issued again */
} hub_close_stats_t;

/* Closes academic year `year` in the caller's write transaction: certifies every teacher of
 * the current roster and every teacher with records not on it (the cycle holding the year,
 * through the year, with the county's exam standings), signs the year document with
 * notice_until, stores it, the policy it was closed under and the frozen row of every record
 * dated in the year, and issues every teacher's receipt again (the closed year final). The
 * document's envelope is appended to envelope. progress (may be NULL) is told after each
 * teacher, then after each receipt. XS_EEXIST when the year is closed already, XS_ENOTFOUND
 * when the hub has no roster; hub must hold its keys. */
XS_MUST_USE xs_err hub_year_close(hub_t *hub, xs_txn_t *txn, int year, int64_t now,
                                  int64_t notice_until, hub_progress_fn progress, void *ctx,
                                  xs_writer_t *envelope, hub_close_stats_t *stats);

/* Signs the finalization of closed year c (schema/year.md §4) with every objection and its
 * decision, stores it, and appends the envelope to envelope. XS_EEXIST when the year is
 * finalized already, XS_EAGAIN when an objection has no decision yet. */
XS_MUST_USE xs_err hub_year_finalize(hub_t *hub, xs_txn_t *txn, const hub_closed_year_t *c,
                                     int64_t now, xs_writer_t *envelope);

/* ---- 补认定 ---- */

/* One record of the 补认定 list, and its teacher's closed row amended by the list. */
typedef struct hub_supplement {
    xs_year_entry_t entry; /* strings borrowed during the call */
    uint8_t level;         /* the record's xs_level, for its buckets */
    uint8_t semester;      /* its semester, 1 or 2 */
    uint8_t late;          /* 1: not in the closed year's records (arrived after) */
    xs_str_t name;         /* the teacher's name on the roster; empty when not on it */
} hub_supplement_t;

/* Calls fn for each record of the 补认定 list of closed year c (schema/year.md §3): every
 * record dated in the year that the closed year did not certify, or that the current
 * certification (the hub's policy, all records, the county's exam standings) credits
 * differently from its frozen row; by teacher_id, then origin and seq. Stops at fn's first
 * error and returns it. */
XS_MUST_USE xs_err hub_year_supplements(hub_t *hub, xs_txn_t *txn, const hub_closed_year_t *c,
                                        xs_err (*fn)(void *ctx, const hub_supplement_t *s),
                                        void *ctx);

/* Certifies the 补认定 list of closed year c as amendment number c->amend_count + 1 (none when
 * the list is empty: *number 0): signs it, stores it and the entries' new frozen rows, and
 * issues every teacher's receipt again. The envelope is appended to envelope. */
XS_MUST_USE xs_err hub_year_amend(hub_t *hub, xs_txn_t *txn, const hub_closed_year_t *c,
                                  int64_t now, xs_writer_t *envelope, uint32_t *number,
                                  size_t *entries);

#endif
