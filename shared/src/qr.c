/* qr: QR codes through libqrencode, the only file that includes it. */
#include "xs/qr.h"

#include <errno.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

/* Encodes text (NUL-terminated) at level; NULL with *err set when it fails. */
static QRcode *s_encode(const char *text, QRecLevel level, xs_err *err) {
    errno = 0;
    QRcode *code = QRcode_encodeString(text, 0, level, QR_MODE_8, 1);
    if (!code)
        *err = errno == ERANGE ? XS_ETOOBIG : errno == EINVAL ? XS_EINVAL : XS_ENOMEM;
    return code;
}

xs_err xs_qr_encode(xs_qr_t **out, const char *text, size_t len) {
    *out = NULL;
    if (len == 0 || memchr(text, '\0', len))
        return XS_EINVAL;
    if (len > XS_QR_TEXT_MAX)
        return XS_ETOOBIG;
    char *copy = malloc(len + 1);
    xs_qr_t *qr = calloc(1, sizeof *qr);
    QRcode *code = NULL;
    xs_err err = copy && qr ? XS_OK : XS_ENOMEM;
    if (err != XS_OK)
        goto out;
    memcpy(copy, text, len);
    copy[len] = '\0';
    qr->level = 'M';
    code = s_encode(copy, QR_ECLEVEL_M, &err);
    if (!code && err == XS_ETOOBIG) {
        qr->level = 'L';
        err = XS_OK;
        code = s_encode(copy, QR_ECLEVEL_L, &err);
    }
    if (!code)
        goto out;
    size_t n = (size_t)code->width * (size_t)code->width;
    if (!(qr->modules = malloc(n))) {
        err = XS_ENOMEM;
        goto out;
    }
    /* libqrencode's byte per module: bit 0 is the colour, the other bits what the module is. */
    for (size_t i = 0; i < n; i++)
        qr->modules[i] = code->data[i] & 1u;
    qr->version = code->version;
    qr->width = code->width;
    *out = qr;
    qr = NULL;
out:
    if (code)
        QRcode_free(code);
    free(copy);
    xs_qr_destroy(&qr);
    return err;
}

void xs_qr_destroy(xs_qr_t **qr) {
    if (!qr || !*qr)
        return;
    free((*qr)->modules);
    free(*qr);
    *qr = NULL;
}
