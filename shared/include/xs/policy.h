/* policy: a county's credit rules and requirements, from its INI file or its compiled blob.
 * Normative formats: schema/policy.md. */
#ifndef XS_POLICY_H
#define XS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/record.h"

/* Byte limits of the policy's strings (UTF-8), terminator excluded. */
#define XS_POLICY_ID_MAX 32     /* id: [a-z0-9_-]+ */
#define XS_POLICY_NAME_MAX 256  /* name, the Chinese title */
#define XS_POLICY_BUCKET_MAX 32 /* a bucket name: [a-z][a-z0-9_]* */
#define XS_POLICY_LABEL_MAX 128 /* a bucket's or requirement's Chinese label */
/* Most buckets one policy may define. */
#define XS_POLICY_BUCKETS_MAX 16
/* Largest policy file and largest compiled blob accepted, in bytes. */
#define XS_POLICY_FILE_MAX (256 * 1024)
#define XS_POLICY_BLOB_MAX (16 * 1024)
/* Version of the compiled blob layout (schema/policy.md §4). */
#define XS_POLICY_FORMAT 1
/* Buffer sizes of the labels below, NUL included: "2025-2026", "2025-2026-1", "2021-2026". */
#define XS_POLICY_YEAR_LABEL 10
#define XS_POLICY_SEMESTER_LABEL 12
#define XS_POLICY_CYCLE_LABEL 10

/* The scopes a requirement applies to (schema/credit-rules.md §1). */
typedef enum xs_scope {
    XS_SCOPE_YEAR = 0,     /* one academic year */
    XS_SCOPE_SEMESTER = 1, /* each semester of an academic year */
    XS_SCOPE_CYCLE = 2,    /* one cycle of cycle_years academic years */
} xs_scope;
#define XS_SCOPE_COUNT 3

/* Credit parameters of schema/credit-rules.md §2; every amount of credit is in minutes. */
typedef struct xs_policy_credit {
    uint32_t speaker_factor;           /* lecture speaker credit = factor × attended minutes */
    uint32_t day_minutes;              /* external_training credit per day without hours */
    uint32_t research_session_minutes; /* per session, organizer and participant alike */
    uint32_t open_class_minutes;       /* per open or demonstration class */
    uint32_t reflection_min_chars;     /* shortest reflection credited, in characters */
    uint32_t reflection_minutes;       /* credit of a long enough reflection */
    uint32_t design_unit_minutes;      /* credit of a unit design (单元整体教学设计) */
    uint32_t design_min_chars;         /* shortest other teaching design credited, in characters */
    uint32_t design_minutes;           /* credit of a long enough other teaching design */
    uint32_t paper_min_chars;          /* shortest paper credited, in characters */
    uint32_t award_minutes[4];         /* paper awarded grade 1, 2, 3 (index 0 unused) */
    uint32_t published_minutes[XS_LEVEL_COUNT]; /* paper published, by xs_level (municipal and
                                                   above; lower entries unused) */
    uint32_t project_minutes[2][2];    /* [0: national or provincial, 1: municipal or county]
                                          [0: host or main_writer, 1: participant] */
    uint32_t exam_minutes[3];          /* exam tier [0: top, 1: middle, 2: bottom] */
    uint32_t yearly_cap[XS_CAT_COUNT]; /* most records credited per teacher and academic
                                          year, by xs_category; 0: no cap */
} xs_policy_credit_t;

/* A named sum of credit: the categories it counts and what it requires. */
typedef struct xs_policy_bucket {
    char name[XS_POLICY_BUCKET_MAX + 1]; /* "school" */
    char label[XS_POLICY_LABEL_MAX + 1]; /* "校本研修"; "" when the file gives none */
    uint32_t categories;                 /* bit (1u << xs_category) per category the file lists */
    uint32_t buckets;                    /* bit (1u << bucket index) per bucket the file lists */
    uint32_t members; /* every category counted, directly or through listed buckets */
    uint32_t required_minutes[XS_SCOPE_COUNT]; /* requirement per xs_scope; 0: none */
} xs_policy_bucket_t;

/* A requirement on one record: within each cycle, at least one credited record of category
 * with at least min_minutes credit (Wenzhou: one external_training of ≥ 90 h). */
typedef struct xs_policy_single {
    uint8_t category;     /* xs_category; XS_CAT_NONE when the policy has no such requirement */
    uint8_t bucket;       /* index of the bucket whose cycle requirement it joins */
    uint32_t min_minutes; /* least credit of the one record, in minutes */
    char label[XS_POLICY_LABEL_MAX + 1]; /* Chinese label for reports; may be "" */
} xs_policy_single_t;

/* A loaded policy: read-only once built by xs_policy_load/parse/decode. */
typedef struct xs_policy {
    char id[XS_POLICY_ID_MAX + 1];     /* "wenzhou" */
    uint32_t version;                  /* the county's revision number, from 1 */
    char name[XS_POLICY_NAME_MAX + 1]; /* Chinese title; "" when the file gives none */
    uint8_t year_start[2];             /* first day of an academic year: month, day */
    uint8_t second_semester[2];        /* first day of the second semester: month, day */
    int32_t first_cycle_year;          /* first academic year of a cycle (2021: 2021-2022) */
    uint32_t cycle_years;              /* academic years per cycle */
    xs_policy_credit_t credit;         /* credit rules */
    uint32_t bucket_count;             /* buckets in use, 1..XS_POLICY_BUCKETS_MAX */
    xs_policy_bucket_t buckets[XS_POLICY_BUCKETS_MAX]; /* in the file's order */
    xs_policy_single_t single;                         /* the single-record requirement, if any */
} xs_policy_t;

/* Reads and parses the policy file at path (at most XS_POLICY_FILE_MAX bytes). On success
 * *out is the caller's (free with xs_policy_destroy). A refused file gives XS_EPOLICY with
 * "file:line: reason" in errbuf; an unreadable one XS_EIO or XS_ETOOBIG; XS_ENOMEM. */
XS_MUST_USE xs_err xs_policy_load(xs_policy_t **out, const char *path, char *errbuf, size_t cap);

/* Parses len bytes of policy text; display_name stands for the file in messages. Same
 * results as xs_policy_load. text is not kept. */
XS_MUST_USE xs_err xs_policy_parse(xs_policy_t **out, const char *text, size_t len,
                                   const char *display_name, char *errbuf, size_t cap);

/* Frees *policy; accepts NULL and nulls the pointer. */
void xs_policy_destroy(xs_policy_t **policy);

/* Appends the policy's compiled blob (schema/policy.md §4) to w; the same policy always
 * gives the same bytes. Errors are sticky in w. */
void xs_policy_compile(const xs_policy_t *policy, xs_writer_t *w);

/* Builds a policy from a compiled blob of at most XS_POLICY_BLOB_MAX bytes, checked as
 * strictly as a file; only the exact bytes xs_policy_compile writes are accepted, so one
 * policy has one hash. XS_EMALFORMED, XS_EVERSION (another format), XS_ETOOBIG, XS_ENOMEM.
 * *out is the caller's. The blob is not kept. */
XS_MUST_USE xs_err xs_policy_decode(xs_policy_t **out, const void *blob, size_t len);

/* BLAKE2b-256 of the compiled blob: the policy's content identity. XS_ENOMEM. */
XS_MUST_USE xs_err xs_policy_hash(const xs_policy_t *policy, uint8_t out[32]);

/* The academic year a date (days since 1970-01-01) falls in, as its first calendar year
 * (2025 for 2025-2026); *semester, when not NULL, gets 1 or 2. */
int xs_policy_year_of(const xs_policy_t *policy, int32_t date, unsigned *semester);

/* First day (days since 1970-01-01) of academic year `year`'s semester 1 or 2. */
int32_t xs_policy_semester_start(const xs_policy_t *policy, int year, unsigned semester);

/* The first academic year of the cycle holding academic year `year` (2021 for 2023). */
int xs_policy_cycle_of(const xs_policy_t *policy, int year);

/* Labels: "2025-2026", "2025-2026-1", and "2021-2026" for the cycle whose first academic
 * year is cycle_year. Each writes a NUL-terminated string that fills at most its buffer. */
void xs_policy_year_label(int year, char out[XS_POLICY_YEAR_LABEL]);
void xs_policy_semester_label(int year, unsigned semester, char out[XS_POLICY_SEMESTER_LABEL]);
void xs_policy_cycle_label(const xs_policy_t *policy, int cycle_year,
                           char out[XS_POLICY_CYCLE_LABEL]);

/* Buckets: their count, and name and label of bucket b (< count), valid while the policy
 * lives. The label falls back to the name when the file gives none. */
size_t xs_policy_bucket_count(const xs_policy_t *policy);
const char *xs_policy_bucket_name(const xs_policy_t *policy, size_t b);
const char *xs_policy_bucket_label(const xs_policy_t *policy, size_t b);
/* Index of the bucket named name (len bytes), or -1. */
int xs_policy_bucket_find(const xs_policy_t *policy, const char *name, size_t len);
/* Minutes bucket b requires in scope (per semester for XS_SCOPE_SEMESTER); 0: none. */
uint32_t xs_policy_required_minutes(const xs_policy_t *policy, size_t b, xs_scope scope);

/* Certificate hours in hundredths of an hour to whole minutes, rounded half up
 * (hundredths × 60 / 100): 2.5 h gives 150, 0.01 h gives 1. */
static inline uint32_t xs_policy_hours_to_minutes(uint32_t hundredths) {
    return (uint32_t)(((uint64_t)hundredths * 60 + 50) / 100);
}

#endif
