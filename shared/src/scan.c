/* scan: QR codes read through zbar, the only file that includes it; a build without zbar
 * (XS_HAVE_ZBAR undefined) keeps the functions and says it cannot scan. */
#include "xs/scan.h"

#include <string.h>

#ifdef XS_HAVE_ZBAR
#include <zbar.h>

int xs_scan_available(void) {
    return 1;
}

xs_err xs_scan_qr(const uint8_t *gray, unsigned width, unsigned height, char *out, size_t cap,
                  size_t *len) {
    *len = 0;
    if (!width || !height || cap == 0)
        return XS_EINVAL;
    zbar_image_scanner_t *scanner = zbar_image_scanner_create();
    zbar_image_t *image = zbar_image_create();
    xs_err err = XS_ENOTFOUND;
    if (!scanner || !image) {
        err = XS_ENOMEM;
        goto out;
    }
    /* QR codes only, their bytes as they are: no guess at a character set. */
    zbar_image_scanner_set_config(scanner, 0, ZBAR_CFG_ENABLE, 0);
    zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
    zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
    zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(image, width, height);
    /* zbar only reads the pixels; no cleanup handler, so they stay the caller's. */
    zbar_image_set_data(image, gray, (unsigned long)width * height, NULL);
    if (zbar_scan_image(scanner, image) < 0) {
        err = XS_ENOMEM;
        goto out;
    }
    for (const zbar_symbol_t *s = zbar_image_first_symbol(image); s; s = zbar_symbol_next(s)) {
        if (zbar_symbol_get_type(s) != ZBAR_QRCODE)
            continue;
        size_t n = zbar_symbol_get_data_length(s);
        if (n >= cap) {
            err = XS_ETOOBIG;
            goto out;
        }
        memcpy(out, zbar_symbol_get_data(s), n);
        out[n] = '\0';
        *len = n;
        err = XS_OK;
        goto out;
    }
out:
    if (image)
        zbar_image_destroy(image);
    if (scanner)
        zbar_image_scanner_destroy(scanner);
    return err;
}

#else

int xs_scan_available(void) {
    return 0;
}

xs_err xs_scan_qr(const uint8_t *gray, unsigned width, unsigned height, char *out, size_t cap,
                  size_t *len) {
    (void)gray, (void)width, (void)height, (void)out, (void)cap;
    *len = 0;
    return XS_EINVAL;
}

#endif
