/* summary: the county's certified result, one teacher at a time, as the report, the workbook,
 * the dashboard and the certificates show it: a closed year as it was closed (schema/year.md),
 * else the live ledger with every rostered teacher. */
#ifndef HUB_SUMMARY_H
#define HUB_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "ledger.h"
#include "xs/certify.h"
#include "xs/standing.h"

/* One teacher as the summary gives them. Everything borrowed is valid during the callback. */
typedef struct hub_summary_teacher {
    xs_str_t school_id;        /* the roster's school; else that of their latest activity; may be
                                  empty */
    xs_str_t teacher_id;       /* 1..XS_ID_MAX bytes */
    xs_str_t name;             /* the roster's name; empty when not on the roster */
    const xs_policy_t *policy; /* the policy they are judged by: a closed year's own,
                                  else the hub's */
    const xs_certify_teacher_t *teacher; /* totals of the year asked for (year 0: all) */
    int year;                            /* the academic year judged: the one asked for, or
                                            (year 0) the academic year of today */
    const xs_standing_t *standing;       /* their standing in `year` */
    int exempt_year;                     /* `year` when exempt that year, else 0 */
    int closed;                          /* 1: from the closed year's document and amendments */
    const hub_ledger_t *ledger;          /* their records and the engine's rows (live only);
                                            NULL for a closed year or a teacher without records */
} hub_summary_teacher_t;

/* Called once per teacher, in teacher_id order; a return other than XS_OK stops the walk. */
typedef xs_err (*hub_summary_fn)(void *ctx, const hub_summary_teacher_t *t);

/* Progress of a walk: records certified so far and in all, for a line once a second. */
typedef void (*hub_summary_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Walks the county's teachers of academic year `year` (2025 for 2025-2026; 0: every year,
 * judged in today's) inside txn, those of school (NULL: all), and calls fn for each: a closed
 * year from its documents, else each teacher with records certified under hub->policy, and
 * each rostered teacher without records with zero totals. progress (may be NULL) is called
 * as the walk goes. Returns fn's error, XS_ECORRUPT, XS_ENOMEM, or XS_OK. */
XS_MUST_USE xs_err hub_summary_each(hub_t *hub, xs_txn_t *txn, int year, const char *school,
                                    hub_summary_fn fn, hub_summary_progress_fn progress, void *ctx);

/* As hub_summary_each, but always over the live ledger, closed year or not, and only the
 * teachers with records (t->ledger is never NULL): the detail report's walk. */
XS_MUST_USE xs_err hub_summary_ledger_each(hub_t *hub, xs_txn_t *txn, int year, const char *school,
                                           hub_summary_fn fn, hub_summary_progress_fn progress,
                                           void *ctx);

/* The school of a teacher not on the roster, as the summary takes it: that of their latest
 * dated activity in l (ties: the larger record id); empty when none names one. Borrows l. */
xs_str_t hub_summary_latest_school(const hub_ledger_t *l);

/* What the hub knows of one school's nodes. */
typedef struct hub_summary_school {
    char school_id[XS_ID_MAX + 1];
    uint32_t nodes;    /* unrevoked nodes whose own school it is */
    int64_t last_sync; /* the latest merge from any of them, unix seconds; 0: never */
    uint64_t unsynced; /* records they have sealed (as their last HELLO, direct or through a
                          relay, said) that the hub does not hold */
    uint64_t gaps;     /* missing ranges below what the hub holds */
    uint64_t forks;    /* quarantined batches */
} hub_summary_school_t;

/* Fills *out (allocated; free() it) with one entry per school that an enrolled node serves as
 * its own school, sorted by school_id, and *count. XS_ENOMEM, XS_ECORRUPT. */
XS_MUST_USE xs_err hub_summary_schools(xs_txn_t *txn, hub_summary_school_t **out, size_t *count);

/* Writes the 学时认定汇总表 workbook (xs/workbook.h) of academic year `year` (not 0), those of
 * school (NULL: all), to path. progress as for hub_summary_each. XS_EIO, XS_ENOMEM,
 * XS_ECORRUPT. */
XS_MUST_USE xs_err hub_summary_workbook(hub_t *hub, xs_txn_t *txn, int year, const char *school,
                                        const char *path, hub_summary_progress_fn progress,
                                        void *ctx);

#endif
