/* roster: the hub-signed list of satellites a relay may admit (schema/protocol.md §8). */
#ifndef XS_ROSTER_H
#define XS_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/proto.h"
#include "xs/record.h"

/* Most satellites one roster lists, and the largest roster envelope (protocol.md §8). */
#define XS_ROSTER_MAX 4096
#define XS_ROSTER_MAX_BYTES XS_PROTO_ROSTER_MAX

/* One satellite a relay may admit. */
typedef struct xs_roster_entry {
    uint8_t origin[XS_SIGN_PK_BYTES]; /* the satellite node's signing key */
    uint8_t box[XS_BOX_PK_BYTES];     /* its CURVE transport key, which the relay admits */
    char school[XS_ID_MAX + 1];       /* its school */
} xs_roster_entry_t;

/* Signs the roster of relay (its origin) listing count satellites and appends the envelope
 * (protocol.md §8) to envelope. XS_EINVAL (over XS_ROSTER_MAX, a bad school), XS_ETOOBIG,
 * XS_ENOMEM. */
XS_MUST_USE xs_err xs_roster_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                  const uint8_t relay[XS_SIGN_PK_BYTES], int64_t issued_at,
                                  const xs_roster_entry_t *entries, uint32_t count);

/* Opens a roster envelope signed by hub for relay, verifying the signature before decoding,
 * into entries (room for cap) and *count; *issued_at (may be NULL) gets its time. XS_ECRYPTO
 * (not the hub's), XS_EPERM (signed for another relay), XS_EMALFORMED (also more than cap
 * satellites), XS_ETOOBIG, XS_ENOMEM. */
XS_MUST_USE xs_err xs_roster_open(const void *envelope, size_t len,
                                  const uint8_t hub[XS_SIGN_PK_BYTES],
                                  const uint8_t relay[XS_SIGN_PK_BYTES], xs_roster_entry_t *entries,
                                  uint32_t cap, uint32_t *count, int64_t *issued_at);

#endif
