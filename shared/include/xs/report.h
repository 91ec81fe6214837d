/* report: the certification CSV both `xueshi certify` and the hub print (学时认定汇总表). */
#ifndef XS_REPORT_H
#define XS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "xs/certify.h"
#include "xs/err.h"
#include "xs/policy.h"
#include "xs/receipt.h"
#include "xs/record.h"

/* Room for a total's reason (xs_report_total_reason), NUL included. */
#define XS_REPORT_REASON_MAX 512

/* Writes the UTF-8 BOM and the summary header (schema/credit-rules.md §6)
 * "[school_id,]teacher_id,scope,period,bucket,credited_hours,required_hours,met,binding,reason".
 * XS_EIO. */
XS_MUST_USE xs_err xs_report_summary_begin(FILE *f, int with_school);

/* Writes one teacher's summary rows sorted by scope, period and bucket (byte order): year rows
 * for every bucket, semester rows for buckets with a semester requirement, cycle rows for
 * buckets with a cycle requirement. school (may be NULL) is written first when not NULL.
 * met is yes/no where something is required, else empty; binding likewise yes (the
 * requirement decides whether the teacher met the policy) or no (advisory); reason is
 * xs_report_total_reason's. XS_EIO, XS_ENOMEM. */
XS_MUST_USE xs_err xs_report_summary_teacher(FILE *f, const xs_policy_t *policy,
                                             const xs_certify_teacher_t *teacher,
                                             const xs_str_t *school);

/* The reason cell of a teacher exempt in a year (免于认定, credit-rules §7). */
#define XS_REPORT_EXEMPT "exempt 免于认定（在岗不足半年）"

/* As xs_report_summary_begin, with a `name` column after teacher_id (the hub's report, which
 * names rostered teachers). XS_EIO. */
XS_MUST_USE xs_err xs_report_summary_begin_named(FILE *f, int with_school);

/* As xs_report_summary_teacher, with name (may be empty) after teacher_id. Rows of academic
 * year exempt_year (its year and semester rows; 0: none) are of a teacher exempt that year:
 * met and binding empty, reason XS_REPORT_EXEMPT. XS_EIO, XS_ENOMEM. */
XS_MUST_USE xs_err xs_report_summary_teacher_named(FILE *f, const xs_policy_t *policy,
                                                   const xs_certify_teacher_t *teacher,
                                                   const xs_str_t *school, const xs_str_t *name,
                                                   int exempt_year);

/* Copies into out (room for n) the totals of academic year `year` (2025 for 2025-2026): its
 * year and semester rows, and the rows of the cycle holding it; year 0 keeps all. Returns
 * how many were kept. */
size_t xs_report_filter_year(const xs_policy_t *policy, const xs_certify_total_t *in, size_t n,
                             int year, xs_certify_total_t *out);

/* As xs_report_filter_year for a year (not 0), for a teacher who may have no records dated
 * in it: when none of in is a year or semester row of `year`, the rows the engine gives a
 * teacher without records that year (xs_standing_zero_totals: 0 against what the policy
 * requires) come first, and the zero cycle rows stand in when in has none of its cycle.
 * Writes at most cap rows (n + 3 * XS_POLICY_BUCKETS_MAX * 2 always suffice); returns how
 * many. */
size_t xs_report_year_totals(const xs_policy_t *policy, const xs_certify_total_t *in, size_t n,
                             int year, xs_certify_total_t *out, size_t cap);

/* Writes the UTF-8 BOM and the detail header
 * "[school_id,]line,teacher_id,academic_year,category,credited_hours,status,reason". XS_EIO. */
XS_MUST_USE xs_err xs_report_detail_begin(FILE *f, int with_school);

/* Flags of xs_report_detail_row. */
#define XS_REPORT_LABEL 1 /* the category cell gives the Chinese label after the name */

/* Writes one record's detail row. school (may be NULL) is written first when not NULL, as in
 * the summary; line is the record's id in its source (a sheet's line number, a hub's
 * "<node key>:<seq>"), NUL-terminated. The category is its English name under the policy (a
 * county's own, "case_study", too), with XS_REPORT_LABEL followed by a space and its Chinese
 * label ("case_study 案例分析"); its number when the policy does not define it. The reason is
 * "<code> <Chinese phrase>" ("too_short 字数不足1000", "unknown_category 未知的活动类别");
 * empty when credited. XS_EIO. */
XS_MUST_USE xs_err xs_report_detail_row(FILE *f, const xs_policy_t *policy, const xs_str_t *school,
                                        const char *line, const xs_record_t *rec,
                                        const xs_certify_row_t *row, unsigned flags);

/* As xs_report_detail_row, with the school's reason after a returned row's
 * ("returned 学校审核退回：证书学时与登记不符"): note is the returning review's
 * (xs_certify_review_note), NULL or empty for none. XS_EIO. */
XS_MUST_USE xs_err xs_report_detail_row_note(FILE *f, const xs_policy_t *policy,
                                             const xs_str_t *school, const char *line,
                                             const xs_record_t *rec, const xs_certify_row_t *row,
                                             unsigned flags, const xs_str_t *note);

/* Writes why total is not met (credit-rules §6.8), NUL-terminated, into out (cap bytes) and
 * returns its length: xs_certify_total_reason when policy is given; without one (a receipt
 * read with no policy at hand) the same codes with a generic phrase for the single-record
 * requirement. "" when met or nothing is required. */
size_t xs_report_total_reason(const xs_policy_t *policy, const xs_certify_total_t *total, char *out,
                              size_t cap);

/* Fills *out from a receipt's total row, deriving why (a receipt carries none): hours_short
 * when credited < required, single_missing when single_met is no. */
void xs_report_receipt_total(const xs_receipt_total_t *in, xs_certify_total_t *out);

#endif
