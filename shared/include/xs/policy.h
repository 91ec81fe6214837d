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
#define XS_POLICY_BLOB_MAX (24 * 1024)
/* Newest version of the compiled blob layout (schema/policy.md §4): format 3 carries role
 * requirements and require_review; a policy without either still compiles to format 2, so its
 * bytes and hash stay what they were. Both decode. */
#define XS_POLICY_FORMAT 3
#define XS_POLICY_FORMAT_MIN 2
/* Category codes a record can carry (records.md §3.2): 1..10 built in, 11..255 a policy's. */
#define XS_POLICY_CODES 256
#define XS_POLICY_CUSTOM_FIRST 11
/* Most categories, caps and bucket terms one policy defines. */
#define XS_POLICY_CUSTOM_MAX 32
#define XS_POLICY_CAPS_MAX 16
#define XS_POLICY_TERMS_MAX 64
/* Seconds of credit in a hundredth of an hour: every hours figure is exact in seconds. */
#define XS_POLICY_SECONDS_PER_HUNDREDTH 36u
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

/* Credit parameters of schema/credit-rules.md §2; every amount of credit is in seconds. */
typedef struct xs_policy_credit {
    uint32_t speaker_factor;           /* lecture speaker credit = factor × attended time */
    uint32_t day_seconds;              /* external_training credit per day without hours */
    uint32_t research_session_seconds; /* per session, organizer and participant alike */
    uint32_t open_class_seconds;       /* per open or demonstration class */
    uint32_t reflection_min_chars;     /* shortest reflection credited, in characters */
    uint32_t reflection_seconds;       /* credit of a long enough reflection */
    uint32_t design_unit_seconds;      /* credit of a unit design (单元整体教学设计) */
    uint32_t design_min_chars;         /* shortest other teaching design credited, in characters */
    uint32_t design_seconds;           /* credit of a long enough other teaching design */
    uint32_t paper_min_chars;          /* shortest paper credited, in characters */
    uint32_t award_seconds[4];         /* paper awarded grade 1, 2, 3 (index 0 unused) */
    uint32_t published_seconds[XS_LEVEL_COUNT]; /* paper published, by xs_level (municipal and
                                                   above; lower entries unused) */
    uint32_t project_seconds[2][2]; /* [0: national or provincial, 1: municipal or county]
                                       [0: host or main_writer, 1: participant] */
    uint32_t exam_seconds[3];       /* exam tier [0: top, 1: middle, 2: bottom] */
} xs_policy_credit_t;

/* A category the county defines besides the ten of records.md §3.2 (credit-rules §6.3). */
typedef struct xs_policy_category {
    uint8_t code;       /* XS_POLICY_CUSTOM_FIRST..255: what records carry; never reused */
    uint8_t rule;       /* xs_rule: XS_RULE_FIXED, _MINUTES, _HOURS or _DAYS */
    uint8_t same_event; /* 1: one teacher's records of one non-empty event count once (§3.3) */
    uint32_t seconds;   /* FIXED: credit per record; DAYS: credit per day; else 0 */
    char name[XS_POLICY_BUCKET_MAX + 1]; /* [a-z][a-z0-9_]*: its name in CSV and commands */
    char label[XS_POLICY_LABEL_MAX + 1]; /* Chinese label ("案例分析"), also accepted in CSV */
} xs_policy_category_t;

/* A cap (credit-rules §6.2): within each teacher × period, at most count credited records of
 * its categories, chosen as in §3.3; the rest are capped. */
typedef struct xs_policy_cap {
    char name[XS_POLICY_BUCKET_MAX + 1];       /* "writing" */
    uint8_t period;                            /* XS_SCOPE_YEAR or XS_SCOPE_SEMESTER */
    uint32_t count;                            /* 1..1000 */
    uint64_t categories[XS_POLICY_CODES / 64]; /* bit (c % 64) of word c / 64 per code c */
} xs_policy_cap_t;

/* One category a bucket counts, at the levels it counts it (credit-rules §6.5): a credited
 * record of that category counts when min_level <= its level <= max_level (a level over
 * XS_LEVEL_NATIONAL counts as XS_LEVEL_NONE). */
typedef struct xs_policy_term {
    uint8_t category;  /* category code */
    uint8_t min_level; /* xs_level */
    uint8_t max_level; /* xs_level */
} xs_policy_term_t;

/* A named sum of credit: the categories it counts and what it requires. */
typedef struct xs_policy_bucket {
    char name[XS_POLICY_BUCKET_MAX + 1];         /* "school" */
    char label[XS_POLICY_LABEL_MAX + 1];         /* "校本研修"; "" when the file gives none */
    uint8_t all;                                 /* 1: `categories = all`: every category the policy
                                                    knows, at every level */
    uint32_t term_count;                         /* terms in use */
    xs_policy_term_t terms[XS_POLICY_TERMS_MAX]; /* the categories the file lists, in order */
    uint32_t categories;                         /* derived: bit (1u << xs_category) per built-in
                                                    category of terms (any level), all of them for
                                                    `all` */
    uint32_t buckets; /* bit (1u << bucket index) per bucket the file lists */
    uint32_t members; /* derived: every built-in category counted at some level, directly or
                         through listed buckets (use bucket_mask for levels and custom codes) */
    uint32_t required_seconds[XS_SCOPE_COUNT]; /* requirement per xs_scope; 0: none */
    uint8_t advisory; /* bit (1u << xs_scope): that requirement is advisory (§6.4): reported,
                         but it does not decide whether the teacher met the policy */
} xs_policy_bucket_t;

/* A requirement on one record: within each cycle, at least one credited record of category
 * with at least min_seconds credit (Wenzhou: one external_training of ≥ 90 h). */
typedef struct xs_policy_single {
    uint8_t category;     /* category code; XS_CAT_NONE when the policy has no such requirement */
    uint8_t bucket;       /* index of the bucket whose cycle requirement it joins */
    uint32_t min_seconds; /* least credit of the one record, in seconds */
    char label[XS_POLICY_LABEL_MAX + 1]; /* Chinese label for reports; may be "" */
} xs_policy_single_t;

/* Most role requirements one policy defines. */
#define XS_POLICY_ROLES_MAX 16
/* Longest role label, in bytes: the longest role a roster line can name (staff.h
 * XS_STAFF_ROLE_MAX), so every label can match. */
#define XS_POLICY_ROLE_LABEL_MAX 32

/* When a role requirement's credit is counted (schema/policy.md §2, [role.*] `period`). */
typedef enum xs_role_period {
    XS_ROLE_PERIOD_YEAR = 0,      /* each academic year */
    XS_ROLE_PERIOD_CYCLE = 1,     /* each cycle; judged in the cycle's last year */
    XS_ROLE_PERIOD_PROBATION = 2, /* the year from the roster's `hired` date (试用期); judged in
                                     the academic year holding its last day */
} xs_role_period;

/* A requirement on the teachers a roster gives a role (seed 003: 骨干教师 ≥ 120 h of
 * centralised training per cycle; 班主任 ≥ 30 h of special training; 校长 ≥ 120 h of
 * management training; 新任教师 ≥ 180 h in probation, of which ≥ 60 h practice). Credit of
 * the listed categories counts, whatever buckets they are in (a category in no bucket, such
 * as probation training, counts toward the role only: "不列入周期学时"). */
typedef struct xs_policy_role {
    char name[XS_POLICY_BUCKET_MAX + 1];       /* [a-z][a-z0-9_]*: "key_teacher" */
    char label[XS_POLICY_LABEL_MAX + 1];       /* the roster's word for it: "骨干教师"; at most
                                                  XS_POLICY_ROLE_LABEL_MAX bytes */
    uint8_t period;                            /* xs_role_period */
    uint32_t required_seconds;                 /* 0.01 h .. 10000 h, in seconds */
    uint64_t categories[XS_POLICY_CODES / 64]; /* bit (c % 64) of word c / 64 per code c */
    uint32_t part_seconds;                     /* "of which" (其中): 0 none, else at least this
                                                  (at most required_seconds) */
    uint64_t part_categories[XS_POLICY_CODES / 64]; /* ... of these categories, a subset of
                                                       categories; empty without a part */
} xs_policy_role_t;

/* A loaded policy: read-only once built by xs_policy_load/parse/decode, which fill the
 * derived tables too. */
typedef struct xs_policy {
    char id[XS_POLICY_ID_MAX + 1];     /* "wenzhou" */
    uint32_t version;                  /* the county's revision number, from 1 */
    char name[XS_POLICY_NAME_MAX + 1]; /* Chinese title; "" when the file gives none */
    uint8_t year_start[2];             /* first day of an academic year: month, day */
    uint8_t second_semester[2];        /* first day of the second semester: month, day */
    int32_t first_cycle_year;          /* first academic year of a cycle (2021: 2021-2022) */
    uint32_t cycle_years;              /* academic years per cycle */
    xs_policy_credit_t credit;         /* credit rules */
    uint32_t custom_count;             /* categories the policy defines */
    xs_policy_category_t custom[XS_POLICY_CUSTOM_MAX]; /* in the file's order */
    uint32_t cap_count;                                /* caps in force */
    xs_policy_cap_t caps[XS_POLICY_CAPS_MAX];          /* the defaults, as the file changes them */
    uint32_t bucket_count; /* buckets in use, 1..XS_POLICY_BUCKETS_MAX */
    xs_policy_bucket_t buckets[XS_POLICY_BUCKETS_MAX]; /* in the file's order */
    xs_policy_single_t single;                         /* the single-record requirement, if any */
    uint8_t require_review; /* 1: `require_review = yes`: a record counts as final only once its
                               school approved it (credit-rules §7); else reviews only return */
    uint32_t role_count;    /* role requirements */
    xs_policy_role_t roles[XS_POLICY_ROLES_MAX]; /* in the file's order */
    /* Derived when the policy is built (not in the blob), for the engine's inner loop: */
    uint8_t custom_of[XS_POLICY_CODES]; /* code → 1 + index in custom; 0: not a custom code */
    uint8_t cap_of[XS_POLICY_CODES];    /* code → 1 + index in caps; 0: uncapped */
    uint16_t bucket_mask[XS_POLICY_CODES][XS_LEVEL_COUNT]; /* code, level → bit (1u << b) per
                                                              bucket b a credited record of
                                                              them counts in */
} xs_policy_t;

/* Reads and parses the policy file at path (at most XS_POLICY_FILE_MAX bytes). On success
 * *out is the caller's (free with xs_policy_destroy). A refused file gives XS_EPOLICY with
 * "file:line: reason" in errbuf; a missing one XS_ENOTFOUND, one that may not be read XS_EPERM,
 * an unreadable one XS_EIO or XS_ETOOBIG, each with a Chinese-first message in errbuf;
 * XS_ENOMEM. */
XS_MUST_USE xs_err xs_policy_load(xs_policy_t **out, const char *path, char *errbuf, size_t cap);

/* xs_policy_load that says why not in one log line (xs_log), with what to do. */
XS_MUST_USE xs_err xs_policy_load_said(xs_policy_t **out, const char *path);

/* Parses len bytes of policy text; display_name stands for the file in messages. Same
 * results as xs_policy_load. text is not kept. */
XS_MUST_USE xs_err xs_policy_parse(xs_policy_t **out, const char *text, size_t len,
                                   const char *display_name, char *errbuf, size_t cap);

/* Frees *policy; accepts NULL and nulls the pointer. */
void xs_policy_destroy(xs_policy_t **policy);

/* Appends the policy's compiled blob (schema/policy.md §4: format 3 when it has roles or
 * require_review, else format 2) to w; the same policy always gives the same bytes. Errors
 * are sticky in w. */
void xs_policy_compile(const xs_policy_t *policy, xs_writer_t *w);

/* Builds a policy from a compiled blob of at most XS_POLICY_BLOB_MAX bytes, checked as
 * strictly as a file; only the exact bytes xs_policy_compile writes are accepted, so one
 * policy has one hash. XS_EMALFORMED, XS_EVERSION (a format other than 2 and 3), XS_ETOOBIG,
 * XS_ENOMEM. *out is the caller's. The blob is not kept. */
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
/* Seconds bucket b requires in scope (per semester for XS_SCOPE_SEMESTER); 0: none. */
uint32_t xs_policy_required_seconds(const xs_policy_t *policy, size_t b, xs_scope scope);

/* The buckets (bit 1u << b) a credited record of category code at level counts in; a level
 * over XS_LEVEL_NATIONAL counts as XS_LEVEL_NONE (policy.md §2). */
static inline uint16_t xs_policy_buckets_of(const xs_policy_t *policy, unsigned code,
                                            unsigned level) {
    if (code >= XS_POLICY_CODES)
        return 0;
    return policy->bucket_mask[code][level < XS_LEVEL_COUNT ? level : XS_LEVEL_NONE];
}

/* Certificate hours in hundredths of an hour to seconds, exactly: 0.01 h gives 36. */
static inline uint64_t xs_policy_hours_to_seconds(uint32_t hundredths) {
    return (uint64_t)hundredths * XS_POLICY_SECONDS_PER_HUNDREDTH;
}

/* Validates rec under the policy (credit-rules §3.1): a built-in category as xs_record_check
 * does; a policy's own category by its rule (xs_record_check_rule); any other code is
 * unknown_category. policy NULL knows the built-in categories only. */
xs_reason xs_policy_check(const xs_policy_t *policy, const xs_record_t *rec, xs_field *field);

/* English name ("lecture", "case_study") and Chinese label ("专题讲座", "案例分析") of a
 * category code under the policy (NULL: built-in only); NULL for a code it does not define.
 * Valid while the policy lives. */
const char *xs_policy_category_name(const xs_policy_t *policy, unsigned code);
const char *xs_policy_category_label(const xs_policy_t *policy, unsigned code);

/* The code of the category named by len bytes of s: its English name (ASCII case folded) or
 * its exact Chinese label, built-in or the policy's (NULL: built-in only); -1 when none. */
int xs_policy_category_parse(const xs_policy_t *policy, const char *s, size_t len);

/* The index of the role requirement whose name or label is exactly s (len bytes), as a
 * roster names roles; -1 when none. */
int xs_policy_role_find(const xs_policy_t *policy, const char *s, size_t len);

#endif
