/* year: the hub-signed documents of a closed academic year (schema/year.md): the year document
 * that freezes every teacher's result, the amendments (补认定) that certify what came later,
 * and the finalization that ends the notice window (公示) with the objections' decisions. */
#ifndef XS_YEAR_H
#define XS_YEAR_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/record.h"

/* Body format of the three documents (schema/year.md, element 0). */
#define XS_YEAR_FORMAT 1
/* Most teacher rows one document holds (a county's roster and then some). */
#define XS_YEAR_TEACHERS_MAX 400000
/* Most totals of one row: a year row and two semester rows per bucket, a cycle row per
 * bucket. */
#define XS_YEAR_TOTALS_MAX (4 * XS_POLICY_BUCKETS_MAX)
/* Most entries of one amendment, and objections of one finalization. */
#define XS_YEAR_ENTRIES_MAX 1000000
#define XS_YEAR_OBJECTIONS_MAX 100000
/* Longest name of a row (the roster's limit), and longest objection note or decision. */
#define XS_YEAR_NAME_MAX 64
#define XS_YEAR_TEXT_MAX XS_NOTE_MAX
/* Largest envelope of any of the three documents, in bytes. */
#define XS_YEAR_MAX_BYTES ((size_t)512 * 1024 * 1024)

/* One total of a row (schema/year.md §2 "total"): its year is the document's year, or for a
 * cycle row the first year of the cycle holding it. */
typedef struct xs_year_total {
    uint64_t credited_seconds; /* credit counted, in seconds */
    uint32_t required_seconds; /* the requirement, in seconds; 0: none */
    uint32_t unreviewed;       /* credited records counted here the school has not approved */
    uint8_t scope;             /* xs_scope */
    uint8_t semester;          /* 1 or 2 for semester rows; else 0 */
    uint8_t bucket;            /* index of the policy's bucket */
    uint8_t met;               /* xs_certify_met */
    uint8_t binding;           /* 1: the requirement decides whether the policy is met */
} xs_year_total_t;

/* One role requirement of a row (xs_standing_role_t as signed). */
typedef struct xs_year_role {
    uint64_t credited_seconds; /* credit of the role's categories in its period */
    uint64_t part_seconds;     /* credit of its part's categories; 0 without one */
    uint32_t required_seconds;
    uint32_t part_required; /* 0: no part */
    uint8_t role;           /* index in the policy's roles */
    uint8_t judged;         /* 1: the period ends within this year */
    uint8_t met;            /* xs_certify_met */
} xs_year_role_t;

/* One teacher's frozen result. Strings and arrays are borrowed (from the caller's memory when
 * signing, from the document when opened). */
typedef struct xs_year_row {
    xs_str_t teacher_id;       /* 1..XS_ID_MAX bytes */
    xs_str_t name;             /* 0..XS_YEAR_NAME_MAX bytes; empty when not on the roster */
    xs_str_t school_id;        /* 0..XS_ID_MAX bytes */
    uint8_t state;             /* xs_standing_state */
    uint8_t met;               /* xs_certify_met of the year */
    uint8_t why;               /* xs_standing_why bits */
    uint8_t final;             /* 1: nothing provisional (no unreviewed record) */
    uint64_t credited_seconds; /* credit of the year, each record once */
    uint32_t total_count;      /* 0..XS_YEAR_TOTALS_MAX */
    const xs_year_total_t *totals;
    uint32_t role_count; /* 0..XS_POLICY_ROLES_MAX */
    const xs_year_role_t *roles;
} xs_year_row_t;

/* The year document (schema/year.md §2). Filled by the caller for xs_year_sign; xs_year_open
 * fills it and owns what it points to until xs_year_doc_free. */
typedef struct xs_year_doc {
    uint8_t hub[XS_SIGN_PK_BYTES]; /* the signing hub; set by open, not read by sign */
    int32_t year;                  /* the academic year (2025 for 2025-2026) */
    xs_str_t policy_id;            /* the policy it was certified under */
    uint32_t policy_version;
    uint8_t policy_hash[XS_HASH_BYTES];
    uint32_t roster_version;             /* the roster version; 0: none */
    uint8_t roster_hash[XS_HASH_BYTES];  /* hash of its xs_staff_encode bytes */
    int64_t closed_at;                   /* unix seconds */
    int64_t notice_until;                /* unix seconds: the end of the notice window */
    uint32_t record_count;               /* records certified into the year */
    uint8_t records_hash[XS_HASH_BYTES]; /* xs_receipt_records_hash of their identities */
    size_t row_count;
    const xs_year_row_t *rows;   /* teacher_id ascending (byte order), unique */
    uint8_t hash[XS_HASH_BYTES]; /* xs_year_hash of the body: set by sign and open */
    void *owned;                 /* open's storage */
} xs_year_doc_t;

/* One record of an amendment (schema/year.md §3). */
typedef struct xs_year_entry {
    uint8_t origin[XS_SIGN_PK_BYTES];
    uint64_t seq;
    xs_str_t teacher_id;     /* 1..XS_ID_MAX bytes */
    uint8_t category;        /* its category code */
    int32_t date;            /* days since 1970-01-01 */
    uint32_t frozen_seconds; /* credit the closed year (or an earlier amendment) gave it; 0
                                when it arrived after */
    uint32_t seconds;        /* credit the amendment gives it */
    xs_str_t note;           /* why it is amended, 0..XS_YEAR_TEXT_MAX bytes */
} xs_year_entry_t;

/* An amendment (补认定, schema/year.md §3); ownership as xs_year_doc_t. */
typedef struct xs_year_amend {
    uint8_t hub[XS_SIGN_PK_BYTES];
    int32_t year;
    uint8_t closed_hash[XS_HASH_BYTES]; /* the year document's hash */
    uint32_t number;                    /* 1, 2, … */
    int64_t issued_at;
    size_t entry_count;
    const xs_year_entry_t *entries; /* (origin, seq) ascending, unique */
    size_t row_count;
    const xs_year_row_t *rows; /* the amended rows, teacher_id ascending, unique */
    uint8_t hash[XS_HASH_BYTES];
    void *owned;
} xs_year_amend_t;

/* One objection (异议) and its decision. */
typedef struct xs_year_objection {
    uint32_t number;     /* 1, 2, … in filing order */
    xs_str_t teacher_id; /* 1..XS_ID_MAX bytes */
    int64_t filed_at;
    xs_str_t note;     /* 1..XS_YEAR_TEXT_MAX bytes */
    xs_str_t decision; /* 1..XS_YEAR_TEXT_MAX bytes */
    int64_t decided_at;
} xs_year_objection_t;

/* The finalization (schema/year.md §4); ownership as xs_year_doc_t. */
typedef struct xs_year_final {
    uint8_t hub[XS_SIGN_PK_BYTES];
    int32_t year;
    uint8_t closed_hash[XS_HASH_BYTES];
    int64_t finalized_at;
    size_t objection_count;
    const xs_year_objection_t *objections; /* number ascending, unique */
    uint8_t hash[XS_HASH_BYTES];
    void *owned;
} xs_year_final_t;

/* The hash of a document body (BLAKE2b-256 of its bytes): what amendments, finalizations and
 * receipts name a closed year by. */
void xs_year_hash(const void *body, size_t len, uint8_t out[XS_HASH_BYTES]);

/* Signs doc's body with hub and appends the envelope [body, signature] (context
 * "xueshi-year-1\0") to envelope; sets doc->hash. XS_EINVAL (a field out of its range, rows
 * not in order, a string not UTF-8), XS_ETOOBIG, XS_ENOMEM. */
XS_MUST_USE xs_err xs_year_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                xs_year_doc_t *doc);
/* Opens a year document envelope signed by hub (NULL: any hub; check out->hub), verifying
 * before decoding, strictly, into *out, which owns a copy (free with xs_year_doc_free).
 * XS_ETOOBIG, XS_EMALFORMED, XS_EVERSION, XS_ECRYPTO (not the hub's, or altered),
 * XS_ENOMEM; *out is zeroed on error. */
XS_MUST_USE xs_err xs_year_open(const void *envelope, size_t len,
                                const uint8_t hub[XS_SIGN_PK_BYTES], xs_year_doc_t *out);
/* Frees what xs_year_open gave *doc and zeroes it; accepts a zeroed doc. */
void xs_year_doc_free(xs_year_doc_t *doc);
/* The row of teacher_id (len bytes) in rows sorted by teacher_id, or NULL. */
const xs_year_row_t *xs_year_find(const xs_year_row_t *rows, size_t count, const char *teacher_id,
                                  size_t len);

/* As xs_year_sign/open/doc_free, for an amendment (context "xueshi-amend-1\0"). */
XS_MUST_USE xs_err xs_year_amend_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                      xs_year_amend_t *amend);
XS_MUST_USE xs_err xs_year_amend_open(const void *envelope, size_t len,
                                      const uint8_t hub[XS_SIGN_PK_BYTES], xs_year_amend_t *out);
void xs_year_amend_free(xs_year_amend_t *amend);

/* As xs_year_sign/open/doc_free, for a finalization (context "xueshi-final-1\0"). */
XS_MUST_USE xs_err xs_year_final_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                      xs_year_final_t *final);
XS_MUST_USE xs_err xs_year_final_open(const void *envelope, size_t len,
                                      const uint8_t hub[XS_SIGN_PK_BYTES], xs_year_final_t *out);
void xs_year_final_free(xs_year_final_t *final);

/* Parses an academic year written "2025-2026" (len bytes) into *year (2025). XS_EINVAL. */
XS_MUST_USE xs_err xs_year_parse(const char *text, size_t len, int *year);

#endif
