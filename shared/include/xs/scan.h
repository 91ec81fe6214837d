/* scan: reading a QR code off a picture (the one door to zbar), for an auditor's photograph or
 * a rendered page. */
#ifndef XS_SCAN_H
#define XS_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

/* 1 when this build can scan (it was built with zbar), else 0: xs_scan_qr then refuses. */
int xs_scan_available(void);

/* Finds the QR codes in a grey picture (width × height bytes, row by row, 0 black … 255 white,
 * as xs_draw_png_gray reads one) and copies the first one's text, with a NUL, into out (cap
 * bytes); *len gets its bytes. XS_ENOTFOUND when there is none, XS_ETOOBIG when its text does
 * not fit cap - 1, XS_EINVAL when the build cannot scan (xs_scan_available) or the picture is
 * empty, XS_ENOMEM. */
XS_MUST_USE xs_err xs_scan_qr(const uint8_t *gray, unsigned width, unsigned height, char *out,
                              size_t cap, size_t *len);

#endif
