/* sheet: maps the office's 学时登记表 CSV (a header row, then one activity per row) to records. */
#ifndef XS_SHEET_H
#define XS_SHEET_H

#include <stddef.h>
#include <stdint.h>

#include "xs/csv.h"
#include "xs/err.h"
#include "xs/policy.h"
#include "xs/record.h"

/* Columns that are not record fields, as held in xs_sheet_t.column. */
#define XS_SHEET_COL_NONE (-1) /* empty header name: ignored, but its cells must stay blank */
#define XS_SHEET_COL_NAME (-2) /* name / 姓名: the teacher's name, shown, never recorded */
/* The columns `xueshi-node list --format csv` adds, so that its output reads back: */
#define XS_SHEET_COL_ID (-3)            /* id: the listing node's record number, ignored */
#define XS_SHEET_COL_VOIDED_BY (-4)     /* voided_by: a row voided there is refused (voided) */
#define XS_SHEET_COL_REVIEW (-5)        /* review: a row returned there (已退回) is refused */
#define XS_SHEET_COL_REVIEW_REASON (-6) /* review_reason: ignored */

/* Values xs_sheet_row puts in *field for faults that are not a record field's. Neither field
 * can be a sheet column, so neither is ambiguous there; xs_sheet_field_name names them. */
#define XS_SHEET_F_ROW XS_F_VERSION /* the whole row ("row"): see xs_sheet_row */
#define XS_SHEET_F_NAME XS_F_KIND   /* the name cell ("name") */

/* Longest name cell accepted, in bytes. */
#define XS_SHEET_NAME_MAX 64

/* Which column holds what, from the header row. */
typedef struct xs_sheet {
    uint32_t count;                  /* cells in the header; every row must have as many */
    int8_t column[XS_CSV_MAX_CELLS]; /* per column: its xs_field, or an XS_SHEET_COL_ value */
    const xs_policy_t *policy;       /* resolves category cells; NULL: built-in categories only;
                                        borrowed from xs_sheet_header's caller */
} xs_sheet_t;

/* What a row holds besides the record. */
typedef struct xs_sheet_extra {
    xs_str_t name;  /* the name cell, trimmed; len 0 when absent; borrowed like rec's strings */
    uint32_t line;  /* physical line the row starts on: the record's id within the file */
    uint32_t cells; /* cells the row has (compare with the sheet's count on a refused row) */
} xs_sheet_extra_t;

/* Opens the 学时登记表 at path for xs_sheet_header and xs_sheet_row, whatever Excel saved it
 * as: a CSV in UTF-8 (with or without a BOM), or an XLSX workbook, whose first worksheet is read
 * (xs/xlsx.h) with line N of the reader being the worksheet's row N. A CSV in UTF-16 ("Unicode
 * 文本"), in GBK/GB18030 (Excel's "CSV（逗号分隔）" on a Chinese Windows) or in any other
 * encoding, and an old binary .xls, are refused with XS_ECSV and a one-line message in errbuf,
 * Chinese first, naming what the file is and how to save it as "CSV UTF-8（逗号分隔）"; a broken
 * XLSX with xs_xlsx_to_csv's error and message. File errors are xs_csv_read_file's (logged, and
 * described in errbuf). *out is the caller's (xs_csv_close). */
XS_MUST_USE xs_err xs_sheet_open_file(xs_csv_t **out, const char *path, char *errbuf, size_t cap);

/* xs_sheet_open_file over len bytes in memory (an upload), which the reader copies. */
XS_MUST_USE xs_err xs_sheet_open_mem(xs_csv_t **out, const void *bytes, size_t len, char *errbuf,
                                     size_t cap);

/* Reads the header row into *out. Columns come in any order and are named by record field
 * (teacher_id, school_id, date, category, role, minutes, hours, days, chars, unit, level,
 * grade, work, event, score, note, operator, ref, lessons) or name, or by the Chinese aliases
 * 教师编号/工号, 学校, 日期, 类别, 角色, 分钟, 学时, 天数, 字数, 单元, 级别, 等级, 题目, 活动,
 * 成绩, 备注, 登记人, 编号, 课时/课时数, 姓名; and the columns a node's `list --format csv` adds
 * (id, voided_by, review, review_reason); names are trimmed and ASCII-case-folded. A column
 * with an empty name is ignored. Returns XS_EINVAL for an unknown or repeated column, a missing
 * teacher_id, date or category column, or a header that is not UTF-8 (a CSV saved as GBK), and
 * writes a one-line message, Chinese first, naming the column into errbuf (cap bytes, may be 0); ""
 * on XS_OK. Rows may name the built-in categories only: see xs_sheet_header_policy. */
XS_MUST_USE xs_err xs_sheet_header(xs_sheet_t *out, const xs_csv_row_t *header, char *errbuf,
                                   size_t cap);

/* xs_sheet_header for a sheet whose rows may also name the categories policy defines (NULL:
 * the built-ins only); policy must outlive every xs_sheet_row call on *out. */
XS_MUST_USE xs_err xs_sheet_header_policy(xs_sheet_t *out, const xs_csv_row_t *header,
                                          const xs_policy_t *policy, char *errbuf, size_t cap);

/* Fills *rec (xs_record_init, then xs_record_set_text per mapped cell) and *extra (may be
 * NULL) from one data row; does not call xs_record_check. A category cell may hold the English
 * name in any ASCII case or the exact Chinese label ("专题讲座", "案例分析") of a built-in
 * category or one the sheet's policy defines (xs_policy_category_parse); anything else is
 * refused as unknown_category. Strings in rec
 * and extra borrow from row's cells: valid until the next xs_csv_next or xs_csv_close. Every
 * readable cell is set even on a refused row (so a report can still name its teacher and
 * category). Returns XS_OK (with *why XS_REASON_NONE) or XS_EINVAL with the first fault in
 * header order:
 *   - a cell's value refused by xs_record_set_text: *field is that field, *why its reason;
 *   - a name cell that is not UTF-8 (bad_value) or over XS_SHEET_NAME_MAX (out_of_range):
 *     *field is XS_SHEET_F_NAME;
 *   - a row a node's listing shows voided (a voided_by cell) or returned (review 已退回 or
 *     returned): *field is XS_F_VOIDS or XS_F_REVIEWS, *why voided or returned;
 *   - a row with a different number of cells than the header, or a non-blank cell under a
 *     column with an empty name: *field is XS_SHEET_F_ROW, *why XS_REASON_BAD_VALUE, and
 *     extra->cells tells the count.
 * Callers skip rows xs_csv_row_blank finds blank before calling this. */
XS_MUST_USE xs_err xs_sheet_row(const xs_sheet_t *sheet, const xs_csv_row_t *row, xs_record_t *rec,
                                xs_sheet_extra_t *extra, xs_field *field, xs_reason *why);

/* Name of a *field from xs_sheet_row: "row" for XS_SHEET_F_ROW, "name" for XS_SHEET_F_NAME,
 * else xs_field_name(field). */
const char *xs_sheet_field_name(xs_field field);

#endif
