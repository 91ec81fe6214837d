/* certify: the certification engine, a pure function of (policy, set of records) giving each
 * record's credit and each teacher's totals (schema/credit-rules.md §3,
 * docs/architecture.md §6). */
#ifndef XS_CERTIFY_H
#define XS_CERTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"
#include "xs/policy.h"
#include "xs/record.h"

/* What became of one record. */
typedef enum xs_certify_status {
    XS_CERT_CREDITED = 0,   /* credited: counts toward the totals */
    XS_CERT_DUPLICATE = 1,  /* duplicate: same event (§3.3) or same work, paper (§3.5) or
                               project (§6.7), already counted */
    XS_CERT_CAPPED = 2,     /* capped: over a cap of the policy (§3.6, §6.2) */
    XS_CERT_REJECTED = 3,   /* rejected: invalid, or a rule gives it no credit (§3.1, §3.2) */
    XS_CERT_VOIDED = 4,     /* voided: a correction in the set voids it */
    XS_CERT_CORRECTION = 5, /* correction: a valid correction; it voids related_id */
    XS_CERT_REVIEW = 6,     /* review: a valid review (审核) of related_id, an activity of the
                               same teacher */
} xs_certify_status;
#define XS_CERT_STATUS_COUNT 7

/* A record's review state (credit-rules §7.2), as xs_certify_row_t.review holds it: the
 * verdict of the valid review with the largest id that names it. */
typedef enum xs_certify_review {
    XS_REVIEW_NONE = 0,     /* no review names it (未审核) */
    XS_REVIEW_APPROVED = 1, /* 审核通过 */
    XS_REVIEW_RETURNED = 2, /* 退回: the record is rejected with reason returned; related_id is
                               the returning review */
} xs_certify_review;

/* English code ("credited") and Chinese label ("已认定") of a status; "" when unknown. */
const char *xs_certify_status_name(unsigned status);
const char *xs_certify_status_zh(unsigned status);

/* Whether a requirement is met. */
typedef enum xs_certify_met {
    XS_MET_NONE = 0, /* nothing is required in this scope */
    XS_MET_NO = 1,
    XS_MET_YES = 2,
} xs_certify_met;

/* English code ("none", "no", "yes") and Chinese label ("无要求", "未达标", "达标"). */
const char *xs_certify_met_name(unsigned met);
const char *xs_certify_met_zh(unsigned met);

/* Exam tiers of §3.4, as held in xs_certify_row_t.tier. */
typedef enum xs_certify_tier {
    XS_TIER_NONE = 0,
    XS_TIER_TOP = 1,    /* 前三分之一 */
    XS_TIER_MIDDLE = 2, /* 中间 */
    XS_TIER_BOTTOM = 3, /* 后三分之一 */
} xs_certify_tier;

/* The result for one input record, at the same index as the record. */
typedef struct xs_certify_row {
    uint64_t related_id;       /* duplicate or capped: the id of a record kept in its place;
                                  voided: the id of the voiding correction (the smallest when
                                  several); rejected as returned: the id of the returning
                                  review; correction: the id it voids; review: the id it
                                  reviews; else 0 */
    uint32_t credited_seconds; /* credit counted, in seconds; 0 unless status is credited */
    uint32_t base_seconds;     /* credit by §2 (exam: by its tier) before §3.3-§3.6, in
                                  seconds; 0 when rejected, voided or a correction */
    int16_t year;              /* academic year by its first calendar year (2025: 2025-2026);
                                  0 when the record has no valid date */
    uint8_t semester;          /* 1 or 2; 0 with year 0 */
    uint8_t status;            /* xs_certify_status */
    uint8_t reason;            /* xs_reason; XS_REASON_NONE when credited */
    uint8_t field;             /* rejected: the xs_field at fault (chars for too_short);
                                  else 0 */
    uint8_t category;          /* the record's category code, as given */
    uint8_t tier;              /* exam records with a base credit: xs_certify_tier */
    uint8_t review;            /* activities: xs_certify_review; else 0 */
} xs_certify_row_t;

/* Why a requirement is not met (credit-rules §6.8), bits of xs_certify_total_t.why. */
typedef enum xs_certify_why {
    XS_WHY_HOURS_SHORT = 1,    /* hours_short: credited seconds below the requirement */
    XS_WHY_SINGLE_MISSING = 2, /* single_missing: no record reaches the single-record
                                  requirement */
} xs_certify_why;

/* One total: a teacher's credit in one bucket over one academic year, semester or cycle. */
typedef struct xs_certify_total {
    uint64_t credited_seconds; /* credited seconds of the bucket's categories in the scope */
    uint32_t required_seconds; /* the policy's requirement (per semester for a semester); 0:
                                  none */
    uint32_t single_seconds;   /* cycle rows with single_met set: the largest credit of one
                                  record of the single-record category, in seconds; else 0 */
    int16_t year;              /* year and semester rows: the academic year (2025 for
                                  2025-2026); cycle rows: the cycle's first academic year */
    uint8_t scope;             /* xs_scope */
    uint8_t bucket;            /* index of the policy's bucket */
    uint8_t semester;          /* 1 or 2 for semester rows; else 0 */
    uint8_t met;               /* xs_certify_met: none without a requirement; for the cycle
                                  row of the bucket the policy's single-record requirement
                                  joins, yes only when both the seconds and that
                                  requirement are met */
    uint8_t single_met;        /* that cycle row only: xs_certify_met of the single-record
                                  requirement alone; else XS_MET_NONE */
    uint8_t binding;           /* 1: a requirement that decides whether the teacher met the
                                  policy; 0: advisory (§6.4) or none */
    uint8_t why;               /* met == no: xs_certify_why bits; else 0 */
    uint32_t unreviewed;       /* under require_review: credited records counted here that
                                  the school has not approved, so the total is provisional;
                                  else 0 */
} xs_certify_total_t;

/* One teacher's ledger, handed to the caller's callback. Everything borrowed here is valid
 * only during the call. */
typedef struct xs_certify_teacher {
    xs_str_t teacher_id;     /* the engine's copy of the teacher's id */
    const uint32_t *records; /* indices into the input of the teacher's records
                                (corrections and reviews excluded), in record id order */
    size_t record_count;
    const xs_certify_total_t *totals; /* for each academic year, ascending: one year row per
                                         bucket in policy order, then semester 1 and semester 2
                                         rows of each bucket with a semester requirement;
                                         then for each cycle, ascending, one cycle row per
                                         bucket with a cycle requirement */
    size_t total_count;
} xs_certify_teacher_t;

/* Called once per teacher, in ascending byte order of teacher_id, after that teacher's rows
 * are final. Returning other than XS_OK stops the run, which returns that error. */
typedef xs_err (*xs_certify_teacher_fn)(void *ctx, const xs_certify_teacher_t *teacher);

/* Which academic years get totals. */
typedef struct xs_certify_opts {
    int first_year; /* first academic year reported (2024 for 2024-2025) */
    int last_year;  /* last academic year reported; with first_year 0 and last_year 0 (or opts
                       NULL) each teacher gets the academic years they have dated records in
                       (of any status), and the cycles holding those years */
} xs_certify_opts_t;

/* Exam standings: the kept scores of every exam event (§3.4), which ranking needs across
 * all teachers. Owns copies of the event names. */
typedef struct xs_certify_exams xs_certify_exams_t;

/* Certifies count records (schema/credit-rules.md §3.1-§3.7 as revision 2, §6, has them: the
 * policy's own categories, caps, level-filtered buckets and advisory requirements). ids[i] is
 * record i's caller-given id, unique in the set: it breaks ties (smaller wins) and is what
 * corrections' `voids` name; ids NULL means ids[i] = i + 1. rows (count entries, the caller's)
 * receives record i's result at index i. exams: NULL ranks exams among these records; else the
 * standings of a larger set (the hub certifying a few teachers of a county). on_teacher may be
 * NULL. Records must stay unchanged during the call. A correction voids the record whose id is its
 * `voids`, whatever its teacher and whichever id is larger (a store whose `voids` is a per-origin
 * sequence number maps it into the ids' space in the copy it passes). A review (credit-rules §7)
 * reviews the activity whose id is its `reviews` (mapped as `voids` is) when that record is of the
 * review's teacher_id, else it is rejected bad_target; the activity's row.review is the verdict of
 * its valid review with the largest id, and when that one returned it the activity is rejected
 * with reason returned (unless a correction voids it). Under policy->require_review each total
 * counts in `unreviewed` the credited records it counts that are not approved. Records without a
 * teacher_id get rows but no ledger. The same set in any order gives the same rows and ledgers.
 * Returns
 * XS_EINVAL when one teacher has two records with one id (no callback has run then) or opts give a
 * bad range, XS_ETOOBIG past 2^32 - 2 records, XS_ENOMEM, or the callback's error. */
XS_MUST_USE xs_err xs_certify_run(const xs_policy_t *policy, const xs_certify_exams_t *exams,
                                  const xs_record_t *records, const uint64_t *ids, size_t count,
                                  const xs_certify_opts_t *opts, xs_certify_row_t *rows,
                                  xs_certify_teacher_fn on_teacher, void *ctx);

/* Certifies one teacher: as xs_certify_run, for the records of that one teacher plus the
 * corrections that void them and the reviews of them (records without a teacher_id are
 * rejected as usual; reviews carry the teacher_id of the record they review). This is
 * the hub's incremental step: pass the county's standings as exams so the teacher's exam
 * tiers match a full run. XS_EINVAL when two teacher_ids appear. */
XS_MUST_USE xs_err xs_certify_teacher(const xs_policy_t *policy, const xs_certify_exams_t *exams,
                                      const xs_record_t *records, const uint64_t *ids, size_t count,
                                      const xs_certify_opts_t *opts, xs_certify_row_t *rows,
                                      xs_certify_teacher_fn on_teacher, void *ctx);

/* Builds the exam standings of a set of records (steps 1-3 applied, so voided, rejected and
 * duplicate exam records do not count); other categories may be passed and are skipped
 * cheaply. ids as in xs_certify_run. *out is the caller's. XS_EINVAL, XS_ETOOBIG,
 * XS_ENOMEM as xs_certify_run. When a record of an exam event changes, rebuild and
 * re-certify every teacher who sat that event. */
XS_MUST_USE xs_err xs_certify_exams_build(xs_certify_exams_t **out, const xs_policy_t *policy,
                                          const xs_record_t *records, const uint64_t *ids,
                                          size_t count);

/* Frees *exams; accepts NULL and nulls the pointer. */
void xs_certify_exams_destroy(xs_certify_exams_t **exams);

/* Number of exam events in the standings, and the number of kept records (participants) of
 * the event named `event` (len bytes): 0 when the event is unknown. */
size_t xs_certify_exams_count(const xs_certify_exams_t *exams);
size_t xs_certify_exams_participants(const xs_certify_exams_t *exams, const char *event,
                                     size_t len);

/* One teacher's sums over one academic year: what step 7 adds up from the rows. The hub keeps
 * one per teacher and year and moves it as rows change (hub/credit.c); the engine fills its
 * own the same way, so totals built from either are the same. */
typedef struct xs_certify_sums {
    uint64_t credited[2][XS_POLICY_BUCKETS_MAX];   /* per semester (index semester - 1) and
                                                      bucket: credited seconds */
    uint32_t unreviewed[2][XS_POLICY_BUCKETS_MAX]; /* under require_review: credited records
                                                      counted there not approved; else 0 */
    uint32_t held;                                 /* the teacher's activity records dated in
                                                      the year, whatever their status */
    uint32_t best; /* the largest credit of one credited record of the policy's single-record
                      category counted by its bucket, in seconds; 0: none */
    int16_t year;  /* the academic year (2025 for 2025-2026) */
} xs_certify_sums_t;

/* The level an activity record's buckets filter on (§6.5): its level when present and known,
 * else XS_LEVEL_NONE. */
unsigned xs_certify_level(const xs_record_t *rec);

/* The academic year (2025 for 2025-2026) of an activity record's date as the engine reads it,
 * with its semester (1 or 2) into *semester; 0 (semester 0) when it has no valid date. */
int xs_certify_record_year(const xs_policy_t *policy, const xs_record_t *rec, unsigned *semester);

/* Adds (sign 1) or removes (sign -1) the part of one activity row (of a record of level
 * `level`) in s, whose year must be row->year: held, and when credited its seconds in the
 * buckets its category and level count in, and its unreviewed count under require_review.
 * best is not moved (a largest value cannot be removed): the caller recomputes it. A row
 * without a year moves nothing. */
void xs_certify_sums_apply(const xs_policy_t *policy, xs_certify_sums_t *s,
                           const xs_certify_row_t *row, unsigned level, int sign);

/* Whether a credited row of a record of level `level` counts toward the single-record
 * requirement (its category, counted by its bucket): a candidate for xs_certify_sums_t.best. */
int xs_certify_single_candidate(const xs_policy_t *policy, const xs_certify_row_t *row,
                                unsigned level);

/* Step 7 from sums: the totals of one teacher, exactly as xs_certify_teacher_t.totals orders
 * them, from years (count entries, years ascending and distinct; entries may have held 0).
 * opts as xs_certify_run. At most cap rows into out, their number into *count. XS_ETOOBIG
 * (cap too small), XS_EINVAL (years out of order, a bad opts range). */
XS_MUST_USE xs_err xs_certify_totals(const xs_policy_t *policy, const xs_certify_sums_t *years,
                                     size_t count, const xs_certify_opts_t *opts,
                                     xs_certify_total_t *out, size_t cap, size_t *total_count);

/* Most rows xs_certify_totals can give for years spanning `span` academic years: what to
 * allocate. */
size_t xs_certify_totals_max(const xs_policy_t *policy, size_t span);

/* One exam event's kept scores, for xs_certify_exams_make. */
typedef struct xs_certify_exam_event {
    const char *name; /* the event, len bytes */
    size_t len;
    const uint32_t *scores; /* count kept scores, in hundredths of a point, any order */
    size_t count;
} xs_certify_exam_event_t;

/* Builds standings from events given directly (count distinct names): what the hub keeps in
 * its store. *out is the caller's (xs_certify_exams_destroy). XS_EINVAL (a name repeated),
 * XS_ENOMEM. */
XS_MUST_USE xs_err xs_certify_exams_make(xs_certify_exams_t **out,
                                         const xs_certify_exam_event_t *events, size_t count);

/* The tier (§3.4) a score (hundredths of a point) gets in the event named `event` (len
 * bytes) of exams: middle when the event has fewer than 3 participants or is unknown. */
xs_certify_tier xs_certify_exams_tier(const xs_certify_exams_t *exams, const char *event,
                                      size_t len, uint32_t score);

/* Writes the Chinese reason of a row, NUL-terminated, into out (cap bytes) and returns its
 * length: xs_reason_zh(row->reason), with the policy's threshold after a too_short reason
 * ("字数不足1000"); "" when the row has no reason. rec is the row's record. Same as
 * xs_certify_reason_note(policy, rec, row, NULL, out, cap). */
size_t xs_certify_reason_text(const xs_policy_t *policy, const xs_record_t *rec,
                              const xs_certify_row_t *row, char *out, size_t cap);

/* As xs_certify_reason_text, followed for a row rejected as returned by the school's reason,
 * note (the returning review's `note`, xs_certify_review_note; NULL or empty: none):
 * "学校审核退回：证书学时与登记不符". */
size_t xs_certify_reason_note(const xs_policy_t *policy, const xs_record_t *rec,
                              const xs_certify_row_t *row, const xs_str_t *note, char *out,
                              size_t cap);

/* The note of the review that returned row's record (row rejected with reason returned): of
 * the review among records[0..count) whose id (ids as xs_certify_run took them; NULL: i + 1)
 * is row->related_id. NULL when the row was not returned or the review is not there. Borrows
 * from records. */
const xs_str_t *xs_certify_review_note(const xs_record_t *records, const uint64_t *ids,
                                       size_t count, const xs_certify_row_t *row);

/* Writes seconds as hours with two decimals, rounded half up ("1.50" for 5400, "0.01" for
 * 18), NUL-terminated, into out (cap bytes; 24 always suffice); returns its length. */
size_t xs_certify_format_hours(char *out, size_t cap, uint64_t seconds);

/* Writes the reason a total is not met (§6.8), NUL-terminated, into out (cap bytes) and
 * returns its length: per bit of why, its English code and a Chinese phrase
 * ("hours_short 还差3.50学时", "single_missing 缺少一次不少于90学时的集中培训"), joined
 * with "; "; "" when the total is met or has no requirement. */
size_t xs_certify_total_reason(const xs_policy_t *policy, const xs_certify_total_t *total,
                               char *out, size_t cap);

/* A paper's `work` made comparable (§3.5): trimmed, each run of white space (ASCII, and the
 * ideographic space U+3000) made one ' ', ASCII letters lowercased. Writes at most cap bytes
 * to out and returns the length (never more than len). */
size_t xs_certify_normalize_work(const char *work, size_t len, char *out, size_t cap);

#endif
