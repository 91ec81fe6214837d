/* envelope: the signed envelope [body: bin, signature: bin of 64] that batches' siblings share
 * (receipts, policies, rosters, confirmations; protocol.md §1): Ed25519 over a context string
 * and the body, so a signature made for one purpose is never valid for another. */
#ifndef XS_ENVELOPE_H
#define XS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"

/* Signs signed_bytes, which holds the context (its NUL included, context_len bytes) followed
 * by the body, with key, and appends [body, signature] to envelope. XS_ETOOBIG when the
 * envelope would exceed max bytes (nothing appended), or envelope's own error. */
XS_MUST_USE xs_err xs_envelope_seal(xs_writer_t *envelope, const xs_identity_t *key,
                                    const xs_writer_t *signed_bytes, size_t context_len,
                                    size_t max);

/* Verifies signature by key over context (context_len bytes, its NUL included) || body.
 * XS_ECRYPTO when it does not verify, XS_ENOMEM. */
XS_MUST_USE xs_err xs_envelope_verify(const char *context, size_t context_len,
                                      const uint8_t key[XS_SIGN_PK_BYTES], const uint8_t *body,
                                      size_t body_len, const uint8_t *signature);

/* Splits an envelope of at most max bytes and verifies it by key under context; *body
 * borrows envelope. XS_ETOOBIG, XS_EMALFORMED, XS_ECRYPTO, XS_ENOMEM. */
XS_MUST_USE xs_err xs_envelope_open(const void *envelope, size_t len, size_t max,
                                    const char *context, size_t context_len,
                                    const uint8_t key[XS_SIGN_PK_BYTES], const uint8_t **body,
                                    size_t *body_len);

#endif
