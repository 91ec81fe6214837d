/* report: the certification CSV both `xueshi certify` and the hub print (学时认定汇总表). */
#ifndef XS_REPORT_H
#define XS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "xs/certify.h"
#include "xs/err.h"
#include "xs/policy.h"
#include "xs/record.h"

/* Writes the UTF-8 BOM and the summary header
 * "[school_id,]teacher_id,scope,period,bucket,credited_hours,required_hours,met". XS_EIO. */
XS_MUST_USE xs_err xs_report_summary_begin(FILE *f, int with_school);

/* Writes one teacher's summary rows sorted by scope, period and bucket (byte order): year rows
 * for every bucket, semester rows for buckets with a semester requirement, cycle rows for
 * buckets with a cycle requirement. school (may be NULL) is written first when not NULL.
 * XS_EIO, XS_ENOMEM. */
XS_MUST_USE xs_err xs_report_summary_teacher(FILE *f, const xs_policy_t *policy,
                                             const xs_certify_teacher_t *teacher,
                                             const xs_str_t *school);

/* Copies into out (room for n) the totals of academic year `year` (2025 for 2025-2026): its
 * year and semester rows, and the rows of the cycle holding it; year 0 keeps all. Returns
 * how many were kept. */
size_t xs_report_filter_year(const xs_policy_t *policy, const xs_certify_total_t *in, size_t n,
                             int year, xs_certify_total_t *out);

/* Writes the UTF-8 BOM and the detail header
 * "line,teacher_id,academic_year,category,credited_hours,status,reason". XS_EIO. */
XS_MUST_USE xs_err xs_report_detail_begin(FILE *f);

/* Writes one record's detail row: line is the record's id in its source (the CSV line).
 * The reason is "<code> <Chinese phrase>" ("too_short 字数不足1000"); empty when credited.
 * XS_EIO. */
XS_MUST_USE xs_err xs_report_detail_row(FILE *f, const xs_policy_t *policy, uint64_t line,
                                        const xs_record_t *rec, const xs_certify_row_t *row);

#endif
