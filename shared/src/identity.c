/* identity: libsodium keys, signatures and hashes; secrets live in sodium_malloc'd memory. */
#include "xs/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* DIR/NAME.secret holds MAGIC, the Ed25519 secret key (64 bytes, public half included) and
 * the X25519 secret key (32 bytes). */
static const char s_magic[8] = {'X', 'S', 'K', 'E', 'Y', '0', '0', '1'};
#define S_SECRET_FILE_BYTES                                                                        \
    (sizeof s_magic + crypto_sign_SECRETKEYBYTES + crypto_box_SECRETKEYBYTES)

struct xs_identity {
    uint8_t sign_sk[crypto_sign_SECRETKEYBYTES]; /* Ed25519 secret key */
    uint8_t box_sk[crypto_box_SECRETKEYBYTES];   /* X25519 secret key */
    xs_pubkeys_t pub;                            /* public halves */
};

xs_err xs_identity_setup(void) {
    return sodium_init() < 0 ? XS_ECRYPTO : XS_OK;
}

static xs_err s_path(char *out, size_t cap, const char *dir, const char *name, const char *ext) {
    int n = snprintf(out, cap, "%s/%s.%s", dir, name, ext);
    return n < 0 || (size_t)n >= cap ? XS_ETOOBIG : XS_OK;
}

static xs_identity_t *s_alloc(void) {
    xs_identity_t *id = sodium_malloc(sizeof *id);
    if (id)
        memset(id, 0, sizeof *id);
    return id;
}

/* Writes len bytes to a new file with the given mode, fsync'd; refuses an existing file. */
static xs_err s_write_new(const char *path, const void *bytes, size_t len, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == EEXIST ? XS_EEXIST : errno == EACCES ? XS_EPERM : XS_EIO;
    const uint8_t *p = bytes;
    size_t left = len;
    xs_err err = XS_OK;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = errno == ENOSPC ? XS_EFULL : XS_EIO;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (err == XS_OK && fsync(fd) != 0)
        err = XS_EIO;
    close(fd);
    if (err != XS_OK)
        unlink(path);
    return err;
}

/* xs_identity_create, with the transport key of keep_box when it is given. */
static xs_err s_create(xs_identity_t **out, const char *dir, const char *name,
                       const xs_identity_t *keep_box) {
    char secret_path[4096], pub_path[4096];
    uint8_t file[S_SECRET_FILE_BYTES];
    char text[XS_PUBKEYS_TEXT_LEN + 2];
    xs_err err = xs_identity_setup();
    if (err != XS_OK)
        return err;
    if ((err = s_path(secret_path, sizeof secret_path, dir, name, "secret")) != XS_OK ||
        (err = s_path(pub_path, sizeof pub_path, dir, name, "pub")) != XS_OK)
        return err;
    xs_identity_t *id = s_alloc();
    if (!id)
        return XS_ENOMEM;
    crypto_sign_keypair(id->pub.sign, id->sign_sk);
    if (keep_box) {
        memcpy(id->pub.box, keep_box->pub.box, sizeof id->pub.box);
        memcpy(id->box_sk, keep_box->box_sk, sizeof id->box_sk);
    } else {
        crypto_box_keypair(id->pub.box, id->box_sk);
    }
    memcpy(file, s_magic, sizeof s_magic);
    memcpy(file + sizeof s_magic, id->sign_sk, sizeof id->sign_sk);
    memcpy(file + sizeof s_magic + sizeof id->sign_sk, id->box_sk, sizeof id->box_sk);
    err = s_write_new(secret_path, file, sizeof file, 0600);
    sodium_memzero(file, sizeof file);
    if (err != XS_OK)
        goto out;
    xs_pubkeys_format(&id->pub, text);
    size_t n = strlen(text);
    text[n++] = '\n';
    err = s_write_new(pub_path, text, n, 0644);
    if (err != XS_OK)
        unlink(secret_path);
out:
    if (err != XS_OK)
        xs_identity_destroy(&id);
    *out = id;
    return err;
}

xs_err xs_identity_create(xs_identity_t **out, const char *dir, const char *name) {
    return s_create(out, dir, name, NULL);
}

xs_err xs_identity_create_successor(xs_identity_t **out, const char *dir, const char *name,
                                    const xs_identity_t *old) {
    return s_create(out, dir, name, old);
}

xs_err xs_identity_rename(const char *dir, const char *from, const char *to) {
    char a[4096], b[4096];
    static const char *const ext[] = {"pub", "secret"}; /* the secret last: it decides */
    for (size_t i = 0; i < 2; i++) {
        xs_err err = s_path(a, sizeof a, dir, from, ext[i]);
        if (err == XS_OK)
            err = s_path(b, sizeof b, dir, to, ext[i]);
        if (err != XS_OK)
            return err;
        if (rename(a, b) != 0)
            return errno == ENOENT ? XS_ENOTFOUND : XS_EIO;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return XS_EIO;
    int synced = fsync(fd) == 0;
    close(fd);
    return synced ? XS_OK : XS_EIO;
}

xs_err xs_identity_load(xs_identity_t **out, const char *dir, const char *name) {
    char path[4096];
    uint8_t file[S_SECRET_FILE_BYTES + 1];
    struct stat st;
    xs_identity_t *id = NULL;
    xs_err err = xs_identity_setup();
    *out = NULL;
    if (err != XS_OK)
        return err;
    if ((err = s_path(path, sizeof path, dir, name, "secret")) != XS_OK)
        return err;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? XS_ENOTFOUND : errno == EACCES ? XS_EPERM : XS_EIO;
    if (fstat(fd, &st) != 0) {
        err = XS_EIO;
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        err = XS_EPERM; /* a secret others can read is no longer secret */
        goto out;
    }
    ssize_t n = read(fd, file, sizeof file);
    if (n != (ssize_t)S_SECRET_FILE_BYTES || memcmp(file, s_magic, sizeof s_magic) != 0) {
        err = n < 0 ? XS_EIO : XS_ECORRUPT;
        goto out;
    }
    if (!(id = s_alloc())) {
        err = XS_ENOMEM;
        goto out;
    }
    memcpy(id->sign_sk, file + sizeof s_magic, sizeof id->sign_sk);
    memcpy(id->box_sk, file + sizeof s_magic + sizeof id->sign_sk, sizeof id->box_sk);
    /* The Ed25519 secret key is seed and public half: if the seed no longer yields that half,
     * the file was damaged, and the key would sign what its public key cannot verify. */
    uint8_t check_sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(id->pub.sign, check_sk, id->sign_sk);
    int damaged = sodium_memcmp(check_sk, id->sign_sk, sizeof check_sk) != 0;
    sodium_memzero(check_sk, sizeof check_sk);
    if (damaged) {
        xs_identity_destroy(&id);
        err = XS_ECORRUPT;
        goto out;
    }
    crypto_scalarmult_base(id->pub.box, id->box_sk);
    *out = id;
out:
    sodium_memzero(file, sizeof file);
    close(fd);
    return err;
}

xs_err xs_identity_from_seed(xs_identity_t **out, const uint8_t seed[32]) {
    /* A BLAKE2b key (16..64 bytes) that separates the two keys' seeds. */
    static const char box_key[] = "xueshi-identity-box-seed";
    uint8_t box_seed[crypto_box_SEEDBYTES];
    *out = NULL;
    xs_err err = xs_identity_setup();
    if (err != XS_OK)
        return err;
    xs_identity_t *id = s_alloc();
    if (!id)
        return XS_ENOMEM;
    crypto_sign_seed_keypair(id->pub.sign, id->sign_sk, seed);
    if (crypto_generichash(box_seed, sizeof box_seed, seed, 32, (const uint8_t *)box_key,
                           sizeof box_key - 1) != 0 ||
        crypto_box_seed_keypair(id->pub.box, id->box_sk, box_seed) != 0)
        err = XS_ECRYPTO;
    sodium_memzero(box_seed, sizeof box_seed);
    if (err != XS_OK)
        xs_identity_destroy(&id);
    *out = id;
    return err;
}

void xs_identity_destroy(xs_identity_t **id) {
    if (!id || !*id)
        return;
    sodium_free(*id); /* sodium_free wipes before freeing */
    *id = NULL;
}

const xs_pubkeys_t *xs_identity_public(const xs_identity_t *id) {
    return &id->pub;
}

const uint8_t *xs_identity_box_secret(const xs_identity_t *id) {
    return id->box_sk;
}

void xs_identity_sign(const xs_identity_t *id, const void *msg, size_t len,
                      uint8_t sig[XS_SIGNATURE_BYTES]) {
    crypto_sign_detached(sig, NULL, msg, len, id->sign_sk);
}

xs_err xs_identity_verify(const uint8_t pk[XS_SIGN_PK_BYTES], const void *msg, size_t len,
                          const uint8_t sig[XS_SIGNATURE_BYTES]) {
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? XS_OK : XS_ECRYPTO;
}

void xs_identity_hash(const void *bytes, size_t len, uint8_t out[XS_HASH_BYTES]) {
    crypto_generichash(out, XS_HASH_BYTES, bytes, len, NULL, 0);
}

void xs_identity_hash_short(const void *bytes, size_t len, uint8_t *out, size_t out_len) {
    crypto_generichash(out, out_len, bytes, len, NULL, 0);
}

_Static_assert(XS_PWHASH_MAX == crypto_pwhash_STRBYTES, "XS_PWHASH_MAX");

xs_err xs_identity_pwhash(const char *password, size_t len, char out[XS_PWHASH_MAX]) {
    out[0] = '\0';
    if (sodium_init() < 0)
        return XS_ECRYPTO;
    if (crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return XS_ENOMEM; /* the only documented failure: the memory limit cannot be had */
    return XS_OK;
}

xs_err xs_identity_pwhash_verify(const char *hash, const char *password, size_t len) {
    if (sodium_init() < 0)
        return XS_ECRYPTO;
    /* A string libsodium's own verifier would not parse is refused before it is tried. */
    if (strnlen(hash, XS_PWHASH_MAX) >= XS_PWHASH_MAX ||
        strncmp(hash, crypto_pwhash_STRPREFIX, strlen(crypto_pwhash_STRPREFIX)) != 0)
        return XS_EMALFORMED;
    return crypto_pwhash_str_verify(hash, password, len) == 0 ? XS_OK : XS_ECRYPTO;
}

void xs_identity_random(void *out, size_t len) {
    if (sodium_init() < 0)
        abort(); /* no entropy source: nothing secret can be made */
    randombytes_buf(out, len);
}

void xs_identity_keyed_hash(const uint8_t key[32], const void *bytes, size_t len,
                            uint8_t out[XS_HASH_BYTES]) {
    crypto_generichash(out, XS_HASH_BYTES, bytes, len, key, 32);
}

void xs_hex_encode(const uint8_t *bytes, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

void xs_pubkeys_format(const xs_pubkeys_t *keys, char out[XS_PUBKEYS_TEXT_LEN + 1]) {
    memcpy(out, "xs1:", 4);
    xs_hex_encode(keys->sign, sizeof keys->sign, out + 4);
    out[68] = '.';
    xs_hex_encode(keys->box, sizeof keys->box, out + 69);
}

static int s_hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int s_hex_decode(const char *s, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int hi = s_hex_digit(s[2 * i]), lo = s_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

xs_err xs_pubkeys_parse(const char *text, size_t len, xs_pubkeys_t *out) {
    while (len > 0 && (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r'))
        text++, len--;
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n' ||
                       text[len - 1] == '\r'))
        len--;
    if (len != XS_PUBKEYS_TEXT_LEN || memcmp(text, "xs1:", 4) != 0 || text[68] != '.' ||
        !s_hex_decode(text + 4, out->sign, sizeof out->sign) ||
        !s_hex_decode(text + 69, out->box, sizeof out->box))
        return XS_EINVAL;
    return XS_OK;
}

/* ---- streaming hash ---- */

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((xs_hash_stream_t *)0)->state),
               "xs_hash_stream_t holds libsodium's state");
_Static_assert(_Alignof(crypto_generichash_state) <= 64, "xs_hash_stream_t is aligned for it");

void xs_hash_stream_init(xs_hash_stream_t *h) {
    crypto_generichash_init((crypto_generichash_state *)(void *)h->state, NULL, 0, XS_HASH_BYTES);
}

void xs_hash_stream_update(xs_hash_stream_t *h, const void *bytes, size_t len) {
    crypto_generichash_update((crypto_generichash_state *)(void *)h->state, bytes, len);
}

void xs_hash_stream_final(xs_hash_stream_t *h, uint8_t out[XS_HASH_BYTES]) {
    crypto_generichash_final((crypto_generichash_state *)(void *)h->state, out, XS_HASH_BYTES);
    sodium_memzero(h->state, sizeof h->state);
}
