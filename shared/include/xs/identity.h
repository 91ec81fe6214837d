/* identity: a program's Ed25519 signing key and X25519 transport key, on disk and in use. */
#ifndef XS_IDENTITY_H
#define XS_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

#define XS_SIGN_PK_BYTES 32
#define XS_SIGNATURE_BYTES 64
#define XS_BOX_PK_BYTES 32
#define XS_HASH_BYTES 32
/* Length of the text form of xs_pubkeys_t, without the NUL. */
#define XS_PUBKEYS_TEXT_LEN (4 + 64 + 1 + 64)

/* The public half of an identity: what a hub enrolls and a node learns of its hub. */
typedef struct xs_pubkeys {
    uint8_t sign[XS_SIGN_PK_BYTES]; /* Ed25519 public key: signs records and receipts */
    uint8_t box[XS_BOX_PK_BYTES];   /* X25519 public key: CURVE transport and sealed bundles */
} xs_pubkeys_t;

typedef struct xs_identity xs_identity_t;

/* Initialises libsodium once; safe to call repeatedly. Returns XS_ECRYPTO if it cannot. */
XS_MUST_USE xs_err xs_identity_setup(void);

/* Generates a new identity and writes DIR/NAME.secret (mode 0600, both secret keys) and
 * DIR/NAME.pub (the text form). Refuses to overwrite: XS_EEXIST. *out is the caller's. */
XS_MUST_USE xs_err xs_identity_create(xs_identity_t **out, const char *dir, const char *name);

/* xs_identity_create for a signing key's successor: a new Ed25519 key, and old's X25519
 * transport key kept (nodes and relays dial it). Written to DIR/NAME.secret and DIR/NAME.pub
 * like any identity. XS_EEXIST, XS_EIO, XS_ENOMEM. *out is the caller's. */
XS_MUST_USE xs_err xs_identity_create_successor(xs_identity_t **out, const char *dir,
                                                const char *name, const xs_identity_t *old);
/* Renames DIR/FROM.pub and then DIR/FROM.secret over DIR/TO.pub and DIR/TO.secret, and syncs
 * the directory: once it returns XS_OK, DIR/TO.secret is FROM's key for good. XS_ENOTFOUND
 * (no FROM), XS_EIO. */
XS_MUST_USE xs_err xs_identity_rename(const char *dir, const char *from, const char *to);
/* Loads DIR/NAME.secret. XS_ENOTFOUND when missing, XS_EPERM when readable by others,
 * XS_ECORRUPT when the file is not a key file. *out is the caller's. */
XS_MUST_USE xs_err xs_identity_load(xs_identity_t **out, const char *dir, const char *name);

/* Derives an identity from a 32-byte seed, deterministically and without touching the disk:
 * the Ed25519 key from the seed itself, the X25519 key from a keyed BLAKE2b of it. For tests
 * and golden vectors (schema/vectors/protocol.txt), where a fixed key must give fixed bytes;
 * a real node or hub uses xs_identity_create. The seed is not kept. XS_ECRYPTO, XS_ENOMEM.
 * *out is the caller's. */
XS_MUST_USE xs_err xs_identity_from_seed(xs_identity_t **out, const uint8_t seed[32]);

/* Wipes and frees *id; accepts NULL and nulls the pointer. */
void xs_identity_destroy(xs_identity_t **id);

/* The identity's public keys; valid while id lives. */
const xs_pubkeys_t *xs_identity_public(const xs_identity_t *id);

/* The X25519 secret key, for the CURVE transport only; valid while id lives. */
const uint8_t *xs_identity_box_secret(const xs_identity_t *id);

/* Signs len bytes of msg with the Ed25519 key (detached signature). */
void xs_identity_sign(const xs_identity_t *id, const void *msg, size_t len,
                      uint8_t sig[XS_SIGNATURE_BYTES]);

/* Verifies a detached Ed25519 signature: XS_OK or XS_ECRYPTO. */
XS_MUST_USE xs_err xs_identity_verify(const uint8_t pk[XS_SIGN_PK_BYTES], const void *msg,
                                      size_t len, const uint8_t sig[XS_SIGNATURE_BYTES]);

/* BLAKE2b-256 of len bytes. */
void xs_identity_hash(const void *bytes, size_t len, uint8_t out[XS_HASH_BYTES]);

/* BLAKE2b of len bytes into out_len (16..64) bytes, for index keys. */
void xs_identity_hash_short(const void *bytes, size_t len, uint8_t *out, size_t out_len);

/* Room for a password hash string (libsodium's crypto_pwhash_STRBYTES), NUL included. */
#define XS_PWHASH_MAX 128

/* Hashes a password of len bytes for storing (Argon2id through crypto_pwhash_str, at the
 * interactive limits: about 64 MiB and a tenth of a second) into out, NUL-terminated, with
 * its own random salt and parameters. XS_ENOMEM when the hashing memory cannot be had,
 * XS_ECRYPTO when libsodium cannot be set up. */
XS_MUST_USE xs_err xs_identity_pwhash(const char *password, size_t len, char out[XS_PWHASH_MAX]);

/* Checks a password of len bytes against a string from xs_identity_pwhash: XS_OK when it
 * matches, XS_ECRYPTO when it does not, XS_EMALFORMED when hash is not such a string.
 * Costs as much memory and time as the hashing did: callers bound how many run at once. */
XS_MUST_USE xs_err xs_identity_pwhash_verify(const char *hash, const char *password, size_t len);

/* Fills len bytes of out with unpredictable random bytes (for process-local keys). */
void xs_identity_random(void *out, size_t len);

/* Keyed BLAKE2b-256 of len bytes under a 32-byte key: a tag that cannot be made or checked
 * without the key (memos of a credential without keeping it). */
void xs_identity_keyed_hash(const uint8_t key[32], const void *bytes, size_t len,
                            uint8_t out[XS_HASH_BYTES]);

/* Writes the one-line text form "xs1:<64 hex sign>.<64 hex box>" and a NUL into out. */
void xs_pubkeys_format(const xs_pubkeys_t *keys, char out[XS_PUBKEYS_TEXT_LEN + 1]);

/* Parses the text form (surrounding white space allowed): XS_OK or XS_EINVAL. */
XS_MUST_USE xs_err xs_pubkeys_parse(const char *text, size_t len, xs_pubkeys_t *out);

/* Writes 2*len lowercase hex digits and a NUL into out. */
void xs_hex_encode(const uint8_t *bytes, size_t len, char *out);

/* ---- streaming hash ---- */

/* A BLAKE2b-256 over bytes given in pieces (a file too large to hold): the same digest as
 * xs_identity_hash over their concatenation. Opaque; lives on the caller's stack. */
typedef struct xs_hash_stream {
    _Alignas(64) unsigned char state[512]; /* libsodium's crypto_generichash_state */
} xs_hash_stream_t;

/* Starts a stream (no key, 32-byte digest). */
void xs_hash_stream_init(xs_hash_stream_t *h);

/* Adds len bytes (borrowed during the call). */
void xs_hash_stream_update(xs_hash_stream_t *h, const void *bytes, size_t len);

/* Writes the digest of everything added into out and wipes the state; h must be started
 * again before further use. */
void xs_hash_stream_final(xs_hash_stream_t *h, uint8_t out[XS_HASH_BYTES]);

#endif
