/* confirm: hub-signed "confirmed through" statements (protocol.md §7). */
#include "xs/confirm.h"

#include <string.h>

#include "xs/envelope.h"

static const char s_context[] = "xueshi-confirm-1";

xs_err xs_confirm_sign(xs_writer_t *envelope, const xs_identity_t *hub, const xs_confirm_t *c) {
    xs_writer_t signed_bytes;
    if (c->through == 0)
        return XS_EINVAL;
    xs_writer_init(&signed_bytes, sizeof s_context + XS_CONFIRM_MAX_BYTES);
    xs_writer_raw(&signed_bytes, s_context, sizeof s_context);
    xs_codec_put_array(&signed_bytes, 6);
    xs_codec_put_uint(&signed_bytes, XS_CONFIRM_FORMAT);
    xs_codec_put_bin(&signed_bytes, xs_identity_public(hub)->sign, XS_SIGN_PK_BYTES);
    xs_codec_put_bin(&signed_bytes, c->origin, XS_SIGN_PK_BYTES);
    xs_codec_put_uint(&signed_bytes, c->through);
    xs_codec_put_bin(&signed_bytes, c->head_hash, XS_HASH_BYTES);
    xs_codec_put_int(&signed_bytes, c->issued_at);
    xs_err err = xs_writer_err(&signed_bytes);
    if (err == XS_OK)
        err =
            xs_envelope_seal(envelope, hub, &signed_bytes, sizeof s_context, XS_CONFIRM_MAX_BYTES);
    xs_writer_free(&signed_bytes);
    return err;
}

/* Reads a bin of exactly 32 bytes into out. */
static int s_get32(xs_reader_t *r, uint8_t out[32]) {
    const uint8_t *bytes;
    uint32_t len;
    if (xs_codec_get_bin(r, &bytes, &len) != XS_OK || len != 32)
        return 0;
    memcpy(out, bytes, 32);
    return 1;
}

xs_err xs_confirm_open(const void *envelope, size_t len, const uint8_t hub[XS_SIGN_PK_BYTES],
                       xs_confirm_t *out) {
    const uint8_t *body;
    size_t body_len;
    xs_reader_t r;
    uint32_t n;
    uint64_t format;
    xs_err err = xs_envelope_open(envelope, len, XS_CONFIRM_MAX_BYTES, s_context, sizeof s_context,
                                  hub, &body, &body_len);
    if (err != XS_OK)
        return err;
    xs_reader_init(&r, body, body_len);
    if (xs_codec_get_array(&r, &n) != XS_OK || xs_codec_get_uint(&r, &format) != XS_OK)
        return XS_EMALFORMED;
    if (format != XS_CONFIRM_FORMAT)
        return XS_EVERSION;
    if (n != 6 || !s_get32(&r, out->hub) || memcmp(out->hub, hub, 32) != 0 ||
        !s_get32(&r, out->origin) || xs_codec_get_uint(&r, &out->through) != XS_OK ||
        out->through == 0 || !s_get32(&r, out->head_hash) ||
        xs_codec_get_int(&r, &out->issued_at) != XS_OK || xs_reader_left(&r) != 0)
        return XS_EMALFORMED;
    return XS_OK;
}
