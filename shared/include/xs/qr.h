/* qr: a QR code's modules for a short text (the one door to libqrencode). */
#ifndef XS_QR_H
#define XS_QR_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

/* Most bytes of text xs_qr_encode takes: what a QR code holds in 8-bit mode at level L is
 * less; alphanumeric text holds up to 4296 characters. */
#define XS_QR_TEXT_MAX 7089

/* A QR code: a square of modules, without its quiet zone (leave 4 modules blank around it). */
typedef struct xs_qr {
    int version;      /* 1..40 */
    char level;       /* error correction level: 'M', or 'L' when M could not hold the text */
    int width;        /* modules per side: 17 + 4 × version */
    uint8_t *modules; /* width × width bytes, row by row from the top left: 1 dark, 0 light */
} xs_qr_t;

/* Encodes len bytes of text (no NUL inside) in the smallest QR code that holds it, the modes
 * (numeric, alphanumeric, 8-bit) chosen per stretch of text, case kept: at level M, or at
 * level L when M cannot hold it. *out is the caller's (xs_qr_destroy). XS_ETOOBIG when no
 * version holds it at level L (or len over XS_QR_TEXT_MAX), XS_EINVAL (len 0, a NUL),
 * XS_ENOMEM. */
XS_MUST_USE xs_err xs_qr_encode(xs_qr_t **out, const char *text, size_t len);

/* Frees *qr; accepts NULL and nulls the pointer. */
void xs_qr_destroy(xs_qr_t **qr);

#endif
