/* certificate: the printed 学时证明, one A4 page per teacher in a PDF, laid out from what the
 * caller gives: the teacher, the year and the policy, each bucket's credited and required
 * hours, the conclusion, the credited activities, and the QR code of the teacher's hub-signed
 * receipt as text (protocol.md §4.1); or, from provisional totals, 暂定 across the page and no
 * QR code. */
#ifndef XS_CERTIFICATE_H
#define XS_CERTIFICATE_H

#include <stddef.h>
#include <stdint.h>

#include "xs/certify.h"
#include "xs/err.h"
#include "xs/policy.h"
#include "xs/record.h"

/* The conclusion (认定结论) a page states for the year. */
typedef enum xs_certificate_conclusion {
    XS_CERTIFICATE_NONE = 0,    /* nothing binding is required this year: "—" */
    XS_CERTIFICATE_MET = 1,     /* 达标 */
    XS_CERTIFICATE_NOT_MET = 2, /* 未达标 */
    XS_CERTIFICATE_EXEMPT = 3,  /* 免于认定 */
} xs_certificate_conclusion;

/* Chinese label of a conclusion ("达标"); "—" for XS_CERTIFICATE_NONE or an unknown one. */
const char *xs_certificate_conclusion_zh(unsigned conclusion);

/* One credited activity as its page lists it. */
typedef struct xs_certificate_activity {
    int32_t date;              /* days since 1970-01-01 */
    uint8_t category;          /* category code, labelled under the page's policy */
    xs_str_t title;            /* what it was (its event, work or note); may be empty; borrowed */
    uint64_t credited_seconds; /* the credit the engine gave it */
} xs_certificate_activity_t;

/* The activity a record and its engine row make (title: the event, else the work, else the
 * note, borrowed from rec). */
void xs_certificate_activity_of(const xs_record_t *rec, const xs_certify_row_t *row,
                                xs_certificate_activity_t *out);

/* One teacher's page. Everything is borrowed for the call of xs_certificate_add only. */
typedef struct xs_certificate_page {
    const xs_policy_t *policy;        /* the policy judged by: its name, id, version, bucket and
                                         category labels, cycles */
    xs_str_t teacher_id;              /* 1..XS_ID_MAX bytes */
    xs_str_t teacher_name;            /* may be empty */
    xs_str_t school_id;               /* may be empty */
    int year;                         /* the academic year (2025 for 2025-2026) */
    const xs_certify_total_t *totals; /* the year's rows, as xs_report_filter_year keeps them:
                                         year, semester, and the cycle holding it */
    size_t total_count;
    uint8_t conclusion; /* xs_certificate_conclusion */
    const char *reason; /* why not met, in Chinese (xs_standing_reason); NULL or "" */
    const xs_certificate_activity_t *activities; /* the credited activities, by date */
    size_t activity_count;
    int32_t issued;         /* days since 1970-01-01: the receipt's day, else today */
    const uint8_t *receipt; /* the hub-signed receipt envelope behind the figures, carried
                               whole in the QR code; NULL: provisional (暂定, no code) */
    size_t receipt_len;
    int closed; /* 1: the year is closed and final (定案) */
} xs_certificate_page_t;

/* A PDF of certificates being written. */
typedef struct xs_certificate xs_certificate_t;

/* Starts a PDF at path: written beside it as "<path>.part" and renamed into place by
 * xs_certificate_end, so path never holds half a document. *out is the caller's. XS_EIO (the
 * directory cannot be written), XS_ETOOBIG (path too long), XS_ENOMEM. */
XS_MUST_USE xs_err xs_certificate_begin(xs_certificate_t **out, const char *path);

/* Adds page as one A4 page. With a receipt: it must open (its own hub's signature) and be of
 * page->teacher_id, and its text must fit a QR code. Activities that do not fit the page are
 * counted on its last line ("另有 N 项，见明细"). Nothing is drawn when it fails:
 * XS_ECRYPTO or XS_EMALFORMED (a receipt that does not open), XS_EINVAL (another teacher's
 * receipt, text not UTF-8, a teacher_id empty or too long), XS_ETOOBIG (a receipt over
 * XS_RECEIPT_TEXT_BYTES_MAX bytes: no QR code holds it, and it is never cut), XS_EIO,
 * XS_ENOMEM. */
XS_MUST_USE xs_err xs_certificate_add(xs_certificate_t *doc, const xs_certificate_page_t *page);

/* The pages added so far. */
size_t xs_certificate_pages(const xs_certificate_t *doc);

/* Finishes the document, moves it to its path and frees *doc (NULL accepted; nulled).
 * XS_EINVAL when no page was added, XS_EIO when it could not be written whole: the partial
 * file is removed and path is left as it was. */
XS_MUST_USE xs_err xs_certificate_end(xs_certificate_t **doc);

/* Drops the document: the partial file is removed, *doc freed (NULL accepted; nulled). */
void xs_certificate_abandon(xs_certificate_t **doc);

#endif
