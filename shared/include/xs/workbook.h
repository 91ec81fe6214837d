/* workbook: the 学时认定汇总表 of one academic year as an Excel workbook (XLSX) with the sheets
 * 汇总表 (one row per teacher), 未达标名单 (who falls short, by how much) and 各校统计 (per
 * school). The only module that touches libxlsxwriter. */
#ifndef XS_WORKBOOK_H
#define XS_WORKBOOK_H

#include <stddef.h>
#include <stdint.h>

#include "xs/certify.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/standing.h"

/* What the title rows say. */
typedef struct xs_workbook_title {
    const xs_policy_t *policy;        /* the policy every teacher is judged by: its buckets
                                         are the columns; borrowed until close */
    int year;                         /* the academic year (2025 for 2025-2026) */
    const char *source;               /* what the data is, in Chinese ("定案年度文件" or
                                         "县级中心数据"); borrowed until open returns */
    uint8_t data_hash[XS_HASH_BYTES]; /* the hash of the data it was made from */
    int64_t made_at;                  /* unix seconds */
} xs_workbook_title_t;

/* One teacher's row. */
typedef struct xs_workbook_teacher {
    xs_str_t school_id;                  /* may be empty */
    xs_str_t teacher_id;                 /* 1..XS_ID_MAX bytes */
    xs_str_t name;                       /* may be empty */
    const xs_certify_teacher_t *teacher; /* the engine's totals; the rows of the title's year
                                            and of the cycle holding it are read, a bucket
                                            without a year row is shown as 0 */
    const xs_standing_t *standing;       /* their standing in the title's year */
} xs_workbook_teacher_t;

typedef struct xs_workbook xs_workbook_t;

/* Starts a workbook to be written to path at xs_workbook_close: the three sheets with their
 * title rows, headers, frozen panes, column widths and A4 landscape printing. XS_EINVAL (a
 * year out of range, no policy), XS_ENOMEM, XS_EIO. */
XS_MUST_USE xs_err xs_workbook_open(xs_workbook_t **out, const char *path,
                                    const xs_workbook_title_t *title);

/* Adds one teacher's row to 汇总表, their shortfalls to 未达标名单, and counts them in their
 * school. Teachers are rows in the order given. Ids are text cells; hours numbers with two
 * decimals; every string is written as text (a cell beginning with = is never a formula).
 * XS_ENOMEM, XS_EIO, XS_ETOOBIG (over a sheet's 1,048,576 rows). */
XS_MUST_USE xs_err xs_workbook_teacher(xs_workbook_t *wb, const xs_workbook_teacher_t *t);

/* Tells 各校统计 what the hub knows of a school's sync: records its nodes sealed that the hub
 * does not hold, and its latest sync (unix seconds; 0: never). A school with no teachers
 * gets a row too. XS_ENOMEM. */
XS_MUST_USE xs_err xs_workbook_school(xs_workbook_t *wb, const char *school_id, uint64_t unsynced,
                                      int64_t last_sync);

/* Writes 各校统计 and the file (to a temporary name, then renamed over path), and frees the
 * workbook; *wb is NULLed either way. XS_EIO (nothing is left at path), XS_ENOMEM. */
XS_MUST_USE xs_err xs_workbook_close(xs_workbook_t **wb);

/* Frees a workbook without writing it; accepts NULL and *wb NULL, and NULLs *wb. */
void xs_workbook_discard(xs_workbook_t **wb);

/* The conclusion of a standing, as the workbook and certificates print it: 达标, 未达标,
 * 免于认定, or 无要求 when nothing binding applies. Static. */
const char *xs_workbook_conclusion(const xs_standing_t *standing);

#endif
