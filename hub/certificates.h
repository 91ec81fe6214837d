/* certificates: the 学时证明 the county prints, one A4 page per teacher of a year, into one
 * PDF: a teacher's, a school's, or the county's; each page with the QR code of the teacher's
 * hub-signed receipt when that receipt certifies exactly the figures printed. */
#ifndef HUB_CERTIFICATES_H
#define HUB_CERTIFICATES_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"

/* What hub_certificates_run printed. */
typedef struct hub_certificates_stats {
    size_t pages;       /* teachers printed, a page each */
    size_t provisional; /* of which without a receipt that certifies the year as printed: 暂定,
                           no QR code */
    char too_big[XS_ID_MAX + 1]; /* XS_ETOOBIG: the teacher whose receipt no QR code holds */
    size_t too_big_len;          /* and that receipt's bytes */
} hub_certificates_stats_t;

/* Writes the certificates of academic year `year` (2025 for 2025-2026, not 0) to the PDF at
 * path, inside txn (a read snapshot is enough): of teacher only when teacher is not NULL, of
 * the teachers of school (NULL: the county's) otherwise, in teacher_id order, as
 * hub_summary_each gives them (a closed year as it was closed; rostered teachers without
 * records at 0). A page's figures, conclusion and reason are the summary's; its activities
 * the teacher's credited records of the year (a closed year's as it froze them); its QR code
 * the teacher's receipt, built from the certification state and signed now (hub_issue_one:
 * hub must be opened with keys, HUB_OPEN_KEYS), when that receipt has the year and gives the
 * very rows printed; otherwise (or without keys) the page is 暂定 with no code. path is written
 * whole or not at all. *stats (may be NULL) is filled. XS_ENOTFOUND when no teacher matches
 * (nothing written), XS_ETOOBIG when a receipt is too large for a QR code (stats name it; nothing
 * written: a receipt is never cut), XS_EINVAL (year 0), XS_EIO, XS_ENOMEM, XS_ECORRUPT. */
XS_MUST_USE xs_err hub_certificates_run(hub_t *hub, xs_txn_t *txn, int year, const char *teacher,
                                        const char *school, const char *path,
                                        hub_certificates_stats_t *stats);

/* hub_certificates_run without the stats: the one call the dashboard's downloads make. */
XS_MUST_USE xs_err hub_certificates_write(hub_t *hub, xs_txn_t *txn, int year, const char *teacher,
                                          const char *school, const char *path);

#endif
