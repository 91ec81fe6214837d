/* confirm: the hub-signed statement that it holds an origin's chain through a seq, carried
 * in receipts bundles so that a school that meets the hub only by USB learns what it need not
 * send again (schema/protocol.md §7). */
#ifndef XS_CONFIRM_H
#define XS_CONFIRM_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"

/* Body format version this module writes and reads. */
#define XS_CONFIRM_FORMAT 1
/* Largest confirmation envelope, in bytes. */
#define XS_CONFIRM_MAX_BYTES 256

/* What a confirmation says. */
typedef struct xs_confirm {
    uint8_t hub[XS_SIGN_PK_BYTES];    /* the hub that signed it */
    uint8_t origin[XS_SIGN_PK_BYTES]; /* the node whose chain it confirms */
    uint64_t through;                 /* the hub holds every seq 1..through of origin */
    uint8_t head_hash[XS_HASH_BYTES]; /* hash of the batch ending at through */
    int64_t issued_at;                /* unix seconds */
} xs_confirm_t;

/* Signs c (c->hub is ignored: the key names itself) and appends the envelope to envelope.
 * XS_EINVAL when through is 0, XS_ETOOBIG, XS_ENOMEM. */
XS_MUST_USE xs_err xs_confirm_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                   const xs_confirm_t *c);

/* Opens a confirmation signed by hub into *out, verifying before decoding. XS_ETOOBIG,
 * XS_EMALFORMED, XS_EVERSION, XS_ECRYPTO (not signed by hub), XS_ENOMEM. */
XS_MUST_USE xs_err xs_confirm_open(const void *envelope, size_t len,
                                   const uint8_t hub[XS_SIGN_PK_BYTES], xs_confirm_t *out);

#endif
