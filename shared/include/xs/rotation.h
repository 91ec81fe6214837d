/* rotation: the hub's key rotation statements (protocol.md §11): the old signing key names
 * its successor, the new key proves it holds itself, and a chain of them takes a node from
 * the key it was given to the key in force. */
#ifndef XS_ROTATION_H
#define XS_ROTATION_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"

/* Longest statement envelope, in bytes. */
#define XS_ROTATION_MAX_BYTES 256
/* Most statements a chain holds: rotations over a hub's life. */
#define XS_ROTATION_CHAIN_MAX 64
/* Longest chain, in bytes: its array header and every statement as a bin. */
#define XS_ROTATION_CHAIN_MAX_BYTES (8 + XS_ROTATION_CHAIN_MAX * (XS_ROTATION_MAX_BYTES + 5))

/* One statement, opened. */
typedef struct xs_rotation {
    uint8_t old_key[XS_SIGN_PK_BYTES]; /* the key retired: it signed the statement */
    uint8_t new_key[XS_SIGN_PK_BYTES]; /* its successor: it signed its own proof */
    uint32_t number;                   /* 1 for a hub's first rotation, then one more each */
    int64_t at;                        /* unix seconds the old key was retired */
} xs_rotation_t;

/* Signs the statement that old_id's signing key is retired at `at` in favour of new_id's, as
 * rotation `number`, and appends its envelope to out. XS_EINVAL (number 0, or the same key),
 * XS_ETOOBIG, XS_ENOMEM. */
XS_MUST_USE xs_err xs_rotation_sign(xs_writer_t *out, const xs_identity_t *old_id,
                                    const xs_identity_t *new_id, uint32_t number, int64_t at);

/* Opens a statement envelope of len bytes: both signatures must verify (the old key's over
 * the statement, the new key's over its proof). XS_ETOOBIG, XS_EMALFORMED, XS_EVERSION,
 * XS_ECRYPTO. */
XS_MUST_USE xs_err xs_rotation_open(const void *envelope, size_t len, xs_rotation_t *out);

/* Writes into out a chain: the statements of chain (chain_len bytes; 0: none yet) with
 * envelope appended. The new statement must open, be number one more than the last, and
 * retire the last statement's new key. XS_ETOOBIG (XS_ROTATION_CHAIN_MAX), XS_EINVAL (it
 * does not continue the chain), the errors of xs_rotation_follow. */
XS_MUST_USE xs_err xs_rotation_chain_append(xs_writer_t *out, const void *chain, size_t chain_len,
                                            const void *envelope, size_t len);

/* The number of statements chain (chain_len bytes; 0: none) says it holds, from its array
 * header alone (nothing is verified) into *count. XS_EMALFORMED. */
XS_MUST_USE xs_err xs_rotation_chain_count(const void *chain, size_t chain_len, uint32_t *count);

/* Follows chain (chain_len bytes; 0: none) from trusted, a key the caller trusts (the one it
 * was given, or one it has followed to since; NULL: the chain's own first key, for the hub
 * reading the chain it made): every statement must open, be numbered 1, 2, … and retire its
 * predecessor's new key, and trusted must be one of the chain's keys.
 * Writes the key in force into current, and the statements into steps (up to max; *nsteps
 * their count, all of them: XS_ETOOBIG when more than max). No chain: current = trusted.
 * XS_ECRYPTO when trusted is not in the chain (another hub's), XS_EMALFORMED, XS_EINVAL (a
 * broken chain), XS_EVERSION. */
XS_MUST_USE xs_err xs_rotation_follow(const void *chain, size_t chain_len,
                                      const uint8_t trusted[XS_SIGN_PK_BYTES],
                                      uint8_t current[XS_SIGN_PK_BYTES], xs_rotation_t *steps,
                                      size_t max, size_t *nsteps);

/* 1 when key is current, or retired by one of steps at or after signed_at (a signature it
 * made while it was in force: a historical one); signed_at < 0 when the signature carries no
 * time (then any retired key of steps will do). */
int xs_rotation_trusts(const uint8_t current[XS_SIGN_PK_BYTES], const xs_rotation_t *steps,
                       size_t nsteps, const uint8_t key[XS_SIGN_PK_BYTES], int64_t signed_at);

#endif
