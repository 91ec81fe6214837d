/* envelope: signed envelopes [body, signature] under a context string (protocol.md §1). */
#include "xs/envelope.h"

#include <stdlib.h>
#include <string.h>

xs_err xs_envelope_verify(const char *context, size_t context_len,
                          const uint8_t key[XS_SIGN_PK_BYTES], const uint8_t *body, size_t body_len,
                          const uint8_t *signature) {
    uint8_t *signed_bytes = malloc(context_len + body_len);
    if (!signed_bytes)
        return XS_ENOMEM;
    memcpy(signed_bytes, context, context_len);
    memcpy(signed_bytes + context_len, body, body_len);
    xs_err err = xs_identity_verify(key, signed_bytes, context_len + body_len, signature);
    free(signed_bytes);
    return err;
}

xs_err xs_envelope_seal(xs_writer_t *envelope, const xs_identity_t *key,
                        const xs_writer_t *signed_bytes, size_t context_len, size_t max) {
    uint8_t signature[XS_SIGNATURE_BYTES];
    const uint8_t *body = signed_bytes->data + context_len;
    size_t body_len = signed_bytes->len - context_len;
    size_t header = body_len <= 0xff ? 2 : body_len <= 0xffff ? 3 : 5;
    if (1 + header + body_len + 2 + XS_SIGNATURE_BYTES > max)
        return XS_ETOOBIG;
    xs_identity_sign(key, signed_bytes->data, signed_bytes->len, signature);
    xs_codec_put_array(envelope, 2);
    xs_codec_put_bin(envelope, body, body_len);
    xs_codec_put_bin(envelope, signature, sizeof signature);
    return xs_writer_err(envelope);
}

xs_err xs_envelope_open(const void *envelope, size_t len, size_t max, const char *context,
                        size_t context_len, const uint8_t key[XS_SIGN_PK_BYTES],
                        const uint8_t **body, size_t *body_len) {
    const uint8_t *signature;
    if (len > max)
        return XS_ETOOBIG;
    xs_err err =
        xs_codec_split_envelope(envelope, len, body, body_len, &signature, XS_SIGNATURE_BYTES);
    if (err != XS_OK)
        return err;
    return xs_envelope_verify(context, context_len, key, *body, *body_len, signature);
}
