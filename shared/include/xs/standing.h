/* standing: a rostered teacher's result for one academic year, as the county certifies it
 * (schema/credit-rules.md §7): exempt or not, the policy's role requirements the roster
 * gives them, and whether they met the policy that year. Built on the engine's ledger. */
#ifndef XS_STANDING_H
#define XS_STANDING_H

#include <stddef.h>
#include <stdint.h>

#include "xs/certify.h"
#include "xs/err.h"
#include "xs/policy.h"
#include "xs/record.h"
#include "xs/staff.h"

/* A teacher's state for the year. */
typedef enum xs_standing_state {
    XS_STANDING_CERTIFIED = 0,  /* 认定: judged by the policy */
    XS_STANDING_EXEMPT = 1,     /* 免于认定: in service fewer than half the year's days (not yet
                                   hired, on leave, retired or left) */
    XS_STANDING_UNROSTERED = 2, /* 不在名册: has records but is not on the roster; judged by the
                                   policy like a rostered teacher */
} xs_standing_state;

/* English name ("exempt") and Chinese label ("免于认定") of a state; NULL when unknown. */
const char *xs_standing_state_name(unsigned state);
const char *xs_standing_state_zh(unsigned state);

/* Why a year is not met, bits of xs_standing_t.why. */
typedef enum xs_standing_why {
    XS_STANDING_WHY_HOURS = 1, /* a binding total of the year (or of a cycle ending with it)
                                  is not met */
    XS_STANDING_WHY_ROLE = 2,  /* a role requirement judged this year is not met */
} xs_standing_why;

/* One role requirement the roster gives the teacher, over the period that holds the year. */
typedef struct xs_standing_role {
    uint8_t role;              /* index in policy->roles */
    uint8_t judged;            /* 1: the period ends within this year, so met decides the
                                  year's result; 0: progress only */
    uint8_t met;               /* xs_certify_met of the requirement and its part together */
    uint64_t credited_seconds; /* credited seconds of the role's categories in the period */
    uint32_t required_seconds;
    uint64_t part_seconds;  /* credited seconds of the part's categories; 0 without one */
    uint32_t part_required; /* the part's requirement; 0: none */
    int32_t from, to;       /* the period: first and last day (inclusive) */
} xs_standing_role_t;

/* A teacher's standing for one academic year. */
typedef struct xs_standing {
    uint8_t state;             /* xs_standing_state */
    uint8_t met;               /* xs_certify_met for the year: yes when every binding year and
                                  semester total, every binding cycle total of a cycle ending this
                                  year, and every judged role requirement is met; none when nothing
                                  binding applies or exempt; else no */
    uint8_t why;               /* met == no: xs_standing_why bits */
    uint8_t final;             /* 1 unless the policy requires review and unreviewed > 0 */
    uint32_t unreviewed;       /* the year's credited records (dated in it) the school has not
                                  approved (under require_review; else 0) */
    uint64_t credited_seconds; /* credit of the year in all buckets, each record once */
    uint32_t service_days;     /* xs_staff_service_days over the year; the year's length
                                  when not on the roster */
    uint32_t role_count;
    xs_standing_role_t roles[XS_POLICY_ROLES_MAX]; /* in policy order, roles the teacher has
                                                      whose period touches the year (a
                                                      probation only with a hired date);
                                                      none when exempt or not rostered */
} xs_standing_t;

/* Computes the standing of one teacher in academic year `year` (2025 for 2025-2026). entry:
 * the teacher's roster line, or NULL when not on the roster (state unrostered). teacher: the
 * engine's ledger for them, run with opts covering at least the year and, for cycle and
 * probation roles, the years of the period (the cycle: xs_policy_cycle_of); NULL when they
 * have no records (everything 0, met no where a requirement binds). records and rows are the
 * engine's input and output that teacher->records indexes. XS_EINVAL (a year outside the
 * ledger's totals), XS_OK. */
XS_MUST_USE xs_err xs_standing_of(xs_standing_t *out, const xs_policy_t *policy,
                                  const xs_staff_entry_t *entry,
                                  const xs_certify_teacher_t *teacher, const xs_record_t *records,
                                  const xs_certify_row_t *rows, int year);

/* Writes into out (room for cap) the totals the engine would give a teacher with no records in
 * academic year `year`, in its order: a year row per bucket, the semester rows of buckets
 * with a semester requirement, then the cycle rows of the cycle holding the year; every
 * credit 0, each requirement not met (why hours_short, and single_missing on the cycle row
 * the single-record requirement joins). Returns how many (at most cap). */
size_t xs_standing_zero_totals(const xs_policy_t *policy, int year, xs_certify_total_t *out,
                               size_t cap);

/* Writes the reasons of a standing not met, NUL-terminated, into out (cap bytes) and returns
 * the length: the xs_certify_total_reason of each binding total not met, then per role not
 * met "role_short 骨干教师还差20.00学时" (and for a part not met "role_short
 * 新任教师其中新任教师实践培训还差10.00学时"), joined with "; "; "免于认定（在岗不足半年）" for an
 * exempt teacher; "" when met. A reason longer than cap is cut at a character boundary. teacher
 * and year as given to xs_standing_of. */
size_t xs_standing_reason(const xs_policy_t *policy, const xs_standing_t *standing,
                          const xs_certify_teacher_t *teacher, int year, char *out, size_t cap);

#endif
