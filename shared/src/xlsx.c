/* xlsx: a bounded reader of an XLSX workbook's first worksheet, as CSV text (libzip, expat). */
#include "xs/xlsx.h"

#include <stdio.h>

xs_err xs_xlsx_to_csv(const void *zip, size_t len, char **csv, size_t *csv_len, char *errbuf,
                      size_t cap) {
    (void)zip;
    (void)len;
    *csv = NULL;
    *csv_len = 0;
    if (cap)
        snprintf(errbuf, cap, "暂不能读取 XLSX (cannot read XLSX yet)");
    return XS_EMALFORMED;
}
