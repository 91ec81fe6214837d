/* xlsx: a bounded reader of an XLSX workbook's first worksheet, as CSV text (libzip, expat). */
#ifndef XS_XLSX_H
#define XS_XLSX_H

#include <stddef.h>

#include "xs/err.h"

/* Largest uncompressed part (worksheet, shared strings, styles, workbook) read, in bytes. */
#define XS_XLSX_PART_MAX ((size_t)256 << 20)
/* Most rows and columns of the worksheet read. */
#define XS_XLSX_ROWS_MAX 1048576u
#define XS_XLSX_COLS_MAX 64u

/* Converts the first worksheet (in workbook order) of the XLSX workbook in the len bytes at zip
 * into UTF-8 CSV text, written as xs_csv_write_cell quotes it, without a BOM: *csv (malloc'd,
 * the caller's) and *csv_len. Line N is the worksheet's row N (rows the sheet skips are empty
 * lines; a line break inside a cell becomes a space). Cells are shown as Excel shows them:
 * shared and inline strings as written, numbers without an exponent or a trailing ".0", a
 * number in a date format as YYYY-MM-DD (a time of day it carries is dropped), booleans as
 * TRUE/FALSE, formulas by their cached value. XS_EMALFORMED for bytes that are not a zip, a zip
 * that is not a workbook or XML that does not parse; XS_ETOOBIG for a part past XS_XLSX_PART_MAX, a
 * row or column past the limits or a result past XS_CSV_MAX_FILE; XS_ENOMEM. On error errbuf (cap
 * bytes, may be 0) holds one line, Chinese first, saying what is wrong. */
XS_MUST_USE xs_err xs_xlsx_to_csv(const void *zip, size_t len, char **csv, size_t *csv_len,
                                  char *errbuf, size_t cap);

#endif
