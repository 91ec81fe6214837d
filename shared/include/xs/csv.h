/* csv: a fast, bounded RFC 4180 reader over a file or memory, and writers for Excel reports. */
#ifndef XS_CSV_H
#define XS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xs/err.h"

/* Most cells one row may have. */
#define XS_CSV_MAX_CELLS 64
/* Most bytes one row may take in the file, quotes included, line end excluded. */
#define XS_CSV_MAX_ROW (64 * 1024)
/* Largest input accepted, in bytes. */
#define XS_CSV_MAX_FILE ((size_t)1 << 30)

/* One cell: unterminated bytes, quotes removed and "" turned into ". */
typedef struct xs_csv_cell {
    const char *ptr; /* first byte; never NULL in a row from xs_csv_next */
    size_t len;      /* bytes */
} xs_csv_cell_t;

/* One row. Cells borrow from the reader: valid until the next xs_csv_next or xs_csv_close. */
typedef struct xs_csv_row {
    size_t count;  /* cells in this row, 1..XS_CSV_MAX_CELLS */
    uint32_t line; /* physical 1-based line the row starts on (the header is line 1) */
    xs_csv_cell_t cells[XS_CSV_MAX_CELLS];
} xs_csv_row_t;

typedef struct xs_csv xs_csv_t;

/* Reads the whole file at path into memory and opens a reader over it (the reader owns the
 * copy). Returns XS_ENOTFOUND when there is no such file, XS_EPERM when it may not be read,
 * XS_ETOOBIG over XS_CSV_MAX_FILE, XS_EIO on other read errors (each logged with errno's
 * text), XS_ENOMEM. */
XS_MUST_USE xs_err xs_csv_open_file(xs_csv_t **out, const char *path);

/* Reads the whole file at path, at most XS_CSV_MAX_FILE bytes, into *bytes (malloc'd, the
 * caller's) and *len, and logs why not: XS_ENOTFOUND, XS_EPERM, XS_ETOOBIG, XS_EIO, XS_ENOMEM. */
XS_MUST_USE xs_err xs_csv_read_file(const char *path, char **bytes, size_t *len);

/* Opens a reader over the len malloc'd bytes at *bytes, which it takes on success (*bytes
 * nulled) and leaves to the caller on error. XS_ETOOBIG, XS_ENOMEM. */
XS_MUST_USE xs_err xs_csv_open_owned(xs_csv_t **out, char **bytes, size_t len);

/* Opens a reader over len bytes the caller keeps alive and unchanged until xs_csv_close.
 * Returns XS_ETOOBIG over XS_CSV_MAX_FILE, XS_ENOMEM. */
XS_MUST_USE xs_err xs_csv_open_mem(xs_csv_t **out, const void *bytes, size_t len);

/* Frees the reader and what it owns; accepts NULL and *c == NULL, and sets *c to NULL. */
void xs_csv_close(xs_csv_t **c);

/* Reads the next row into *row. A UTF-8 BOM at the start is skipped; lines end in LF or CRLF
 * (a lone CR is data); lines that are completely empty are skipped but counted; a quote
 * inside an unquoted cell is kept as data, as Excel does. Returns XS_OK, XS_ENOTFOUND after
 * the last row, XS_ECSV for broken quoting (a quote never closed, or a character other than
 * a comma or line end after a closing quote), XS_ETOOBIG for a row over XS_CSV_MAX_CELLS
 * cells or XS_CSV_MAX_ROW bytes. Errors are sticky: later calls return the same error. */
XS_MUST_USE xs_err xs_csv_next(xs_csv_t *c, xs_csv_row_t *row);

/* The physical 1-based line the last xs_csv_next was about: the row's first line after XS_OK;
 * after a quoting error the line of the broken cell's opening quote; after a limit error the
 * row's first line; after XS_ENOTFOUND unchanged. 0 before the first row. */
uint32_t xs_csv_line(const xs_csv_t *c);

/* A static bilingual description of the last error ("引号未闭合 (unterminated quote)"), or
 * "" while there is none. */
const char *xs_csv_why(const xs_csv_t *c);

/* Returns 1 when every cell of row is empty or ASCII white space: Excel writes such rows
 * (",,,") for lines that were formatted but left empty, and importers skip them. */
int xs_csv_row_blank(const xs_csv_row_t *row);

/* Writers. Output is UTF-8 with a BOM and CRLF line ends, which Excel (also the Chinese
 * editions, which otherwise assume GBK) opens correctly and every RFC 4180 reader accepts.
 * Each returns XS_EIO when f refuses the bytes. */

/* Writes the UTF-8 BOM; call it first, once per file. */
XS_MUST_USE xs_err xs_csv_write_bom(FILE *f);

/* Writes one cell followed by a comma, or by CRLF when last is nonzero. The cell is quoted
 * only when it must be: it holds a comma, quote, CR or LF, or starts or ends with a space or
 * tab (which spreadsheet programs would otherwise drop). A cell a spreadsheet would take for a
 * formula (its first character after any apostrophes is =, +, -, @, tab or CR) is written
 * with one more apostrophe in front, which makes it text; xs_csv_unguard removes it. A row
 * made of one empty cell would read back as an empty line, which readers skip:
 * xs_csv_write_row quotes it. */
XS_MUST_USE xs_err xs_csv_write_cell(FILE *f, const char *s, size_t len, int last);

/* Undoes xs_csv_write_cell's formula guard on a cell read back: drops one leading apostrophe
 * when the first character after the apostrophes is =, +, -, @, tab or CR. Reading what the
 * writer wrote gives the original bytes exactly. */
void xs_csv_unguard(const char **s, size_t *len);

/* Writes count cells (count ≥ 1) as one row ending in CRLF. */
XS_MUST_USE xs_err xs_csv_write_row(FILE *f, const xs_csv_cell_t *cells, size_t count);

#endif
