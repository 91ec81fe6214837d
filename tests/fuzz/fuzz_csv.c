/* fuzz_csv: the CSV reader and the sheet mapping on arbitrary bytes; every row read is written
 * back with the writer and must read back identically. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/csv.h"
#include "xs/sheet.h"

/* Inputs past this are not interesting: the limits under test are per row (64 KiB). */
#define S_INPUT_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes row with the writer (after a BOM, as reports are) and reads it back: the same cells,
 * once the formula guard is taken off. */
static void s_round_trip(const xs_csv_row_t *row) {
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return;
    if (xs_csv_write_bom(f) != XS_OK || xs_csv_write_row(f, row->cells, row->count) != XS_OK) {
        fclose(f);
        free(out);
        return;
    }
    fclose(f);
    xs_csv_t *c = NULL;
    xs_csv_row_t back;
    if (xs_csv_open_mem(&c, out, len) != XS_OK)
        abort();
    xs_err err = xs_csv_next(c, &back);
    /* Quoting may push a row that was just under the limit over it. */
    if (err == XS_ETOOBIG && len > XS_CSV_MAX_ROW)
        goto out;
    if (err != XS_OK || back.count != row->count)
        abort();
    for (size_t i = 0; i < row->count; i++) {
        /* a formula-like cell comes back behind its guard, which xs_csv_unguard removes */
        const char *s = back.cells[i].ptr;
        size_t n = back.cells[i].len;
        xs_csv_unguard(&s, &n);
        if (n != row->cells[i].len || memcmp(s, row->cells[i].ptr, n) != 0)
            abort();
    }
    if (xs_csv_next(c, &back) != XS_ENOTFOUND)
        abort();
out:
    xs_csv_close(&c);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > S_INPUT_MAX)
        return 0;
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    xs_sheet_t sheet;
    xs_record_t rec;
    xs_sheet_extra_t extra;
    xs_field field;
    xs_reason why;
    char msg[256];
    int have_sheet = 0;
    uint32_t last_line = 0;
    xs_err err;
    if (xs_csv_open_mem(&c, data, size) != XS_OK)
        return 0;
    while ((err = xs_csv_next(c, &row)) == XS_OK) {
        if (row.count < 1 || row.count > XS_CSV_MAX_CELLS || row.line <= last_line)
            abort();
        last_line = row.line;
        for (size_t i = 0; i < row.count; i++)
            if (!row.cells[i].ptr && row.cells[i].len)
                abort();
        if (!have_sheet) {
            have_sheet = xs_sheet_header(&sheet, &row, msg, sizeof msg) == XS_OK;
            if (strlen(msg) >= sizeof msg)
                abort();
        } else if (!xs_csv_row_blank(&row)) {
            if (xs_sheet_row(&sheet, &row, &rec, &extra, &field, &why) == XS_OK)
                (void)xs_record_check(&rec, &field);
            else if (why == XS_REASON_NONE || !xs_sheet_field_name(field))
                abort();
        }
        s_round_trip(&row);
    }
    if (err != XS_ENOTFOUND && err != XS_ECSV && err != XS_ETOOBIG && err != XS_ENOMEM)
        abort();
    xs_csv_close(&c);
    return 0;
}
