/* fuzz_xlsx: the XLSX reader on arbitrary bytes. An input starting with 'X' is XML instead:
 * its worksheet, shared strings and styles parts (split at NUL bytes), which the harness
 * stores in a zip of its own beside a fixed workbook, so mutations reach the XML rather than
 * breaking the zip's checksums. What converts must read back as CSV whose rows all have the
 * same number of cells, each row on a later line than the one before. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/csv.h"
#include "xs/text.h"
#include "xs/xlsx.h"

/* Inputs past this gain nothing: parts repeat their structure. */
#define S_INPUT_MAX (256 * 1024)
/* Bytes of the zip the harness stores: the input and the fixed parts with their headers. */
#define S_ZIP_MAX (S_INPUT_MAX + 8192)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char s_workbook[] =
    "<workbook xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
    "<sheets><sheet name=\"s\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
static const char s_rels[] = "<Relationships><Relationship Id=\"rId1\" "
                             "Target=\"worksheets/sheet1.xml\"/></Relationships>";

typedef struct s_zip {
    uint8_t *bytes;
    size_t len;
    uint8_t central[4096];
    size_t central_len;
    uint16_t entries;
} s_zip;

static uint32_t s_crc32(const uint8_t *p, size_t len) {
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void s_le(uint8_t *p, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Appends one stored (uncompressed) entry and its central directory record. */
static void s_zip_add(s_zip *z, const char *name, const void *body, size_t len) {
    size_t name_len = strlen(name);
    uint32_t crc = s_crc32(body, len);
    uint8_t *h = z->bytes + z->len, *c = z->central + z->central_len;
    memset(h, 0, 30);
    s_le(h, 0x04034b50u, 4);
    s_le(h + 4, 20, 2);
    s_le(h + 12, 0x21, 2);
    s_le(h + 14, crc, 4);
    s_le(h + 18, (uint32_t)len, 4);
    s_le(h + 22, (uint32_t)len, 4);
    s_le(h + 26, (uint32_t)name_len, 2);
    memset(c, 0, 46);
    s_le(c, 0x02014b50u, 4);
    s_le(c + 4, 20, 2);
    s_le(c + 6, 20, 2);
    s_le(c + 14, 0x21, 2);
    s_le(c + 16, crc, 4);
    s_le(c + 20, (uint32_t)len, 4);
    s_le(c + 24, (uint32_t)len, 4);
    s_le(c + 28, (uint32_t)name_len, 2);
    s_le(c + 42, (uint32_t)z->len, 4);
    memcpy(c + 46, name, name_len);
    z->central_len += 46 + name_len;
    memcpy(h + 30, name, name_len);
    if (len)
        memcpy(h + 30 + name_len, body, len);
    z->len += 30 + name_len + len;
    z->entries++;
}

static void s_zip_end(s_zip *z) {
    uint8_t *e;
    memcpy(z->bytes + z->len, z->central, z->central_len);
    e = z->bytes + z->len + z->central_len;
    memset(e, 0, 22);
    s_le(e, 0x06054b50u, 4);
    s_le(e + 8, z->entries, 2);
    s_le(e + 10, z->entries, 2);
    s_le(e + 12, (uint32_t)z->central_len, 4);
    s_le(e + 16, (uint32_t)z->len, 4);
    z->len += z->central_len + 22;
}

/* Checks what a conversion gave: a refusal says why in UTF-8; CSV reads back evenly. */
static void s_check(xs_err err, char *csv, size_t csv_len, const char *msg) {
    if (err != XS_OK) {
        if (csv || csv_len || !msg[0] || !xs_text_utf8_valid(msg, strlen(msg)))
            abort();
        if (err != XS_EMALFORMED && err != XS_ETOOBIG && err != XS_ENOMEM)
            abort();
        return;
    }
    if (!csv || msg[0])
        abort();
    xs_csv_t *c = NULL;
    xs_csv_row_t row;
    size_t cells = 0;
    uint32_t last_line = 0;
    if (xs_csv_open_mem(&c, csv, csv_len) != XS_OK)
        abort();
    while ((err = xs_csv_next(c, &row)) == XS_OK) {
        if ((cells && row.count != cells) || row.line <= last_line)
            abort();
        cells = row.count;
        last_line = row.line;
    }
    /* a row of long cells may pass the reader's 64 KiB */
    if (err != XS_ENOTFOUND && err != XS_ETOOBIG)
        abort();
    xs_csv_close(&c);
    free(csv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *csv = NULL, msg[256];
    size_t csv_len = 0;
    if (size > S_INPUT_MAX)
        return 0;
    if (size == 0 || data[0] != 'X') {
        xs_err err = xs_xlsx_to_csv(data, size, &csv, &csv_len, msg, sizeof msg);
        s_check(err, csv, csv_len, msg);
        return 0;
    }
    static const char *const names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                        "xl/styles.xml"};
    s_zip z = {.bytes = malloc(S_ZIP_MAX)};
    if (!z.bytes)
        return 0;
    s_zip_add(&z, "xl/workbook.xml", s_workbook, sizeof s_workbook - 1);
    s_zip_add(&z, "xl/_rels/workbook.xml.rels", s_rels, sizeof s_rels - 1);
    const uint8_t *p = data + 1, *end = data + size;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && p <= end; i++) {
        const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
        const uint8_t *stop = nul ? nul : end;
        s_zip_add(&z, names[i], p, (size_t)(stop - p));
        p = stop + 1;
    }
    s_zip_end(&z);
    xs_err err = xs_xlsx_to_csv(z.bytes, z.len, &csv, &csv_len, msg, sizeof msg);
    s_check(err, csv, csv_len, msg);
    free(z.bytes);
    return 0;
}
