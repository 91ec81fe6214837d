/* test_identity: key files on disk, signatures, BLAKE2b hashes, the public key text form, and
 * password hashes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs/identity.h"

/* Size of NAME.secret: magic, Ed25519 secret key (seed and public half), X25519 secret key. */
#define S_SECRET_BYTES (8 + 64 + 32)

typedef struct fixture {
    char dir[256]; /* scratch directory, removed after the test */
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/xs_identity_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    static const char *const names[] = {"node", "hub", "other", "bad"};
    char path[400];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.secret", fx->dir, names[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.pub", fx->dir, names[i]);
        unlink(path);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void s_file_path(const fixture_t *fx, const char *name, const char *ext, char *out,
                        size_t cap) {
    int n = snprintf(out, cap, "%s/%s.%s", fx->dir, name, ext);
    assert_true(n > 0 && (size_t)n < cap);
}

/* Reads a whole small file into out; returns its length. */
static size_t s_slurp(const char *path, uint8_t *out, size_t cap) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, cap, f);
    assert_int_equal(ferror(f), 0);
    fclose(f);
    return n;
}

/* Writes bytes to path, replacing it, with mode 0600 (so only the contents are wrong). */
static void s_spit(const char *path, const void *bytes, size_t len) {
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    close(fd);
}

static xs_identity_t *s_create(const fixture_t *fx, const char *name) {
    xs_identity_t *id = NULL;
    assert_int_equal(xs_identity_create(&id, fx->dir, name), XS_OK);
    assert_non_null(id);
    return id;
}

/* ---- hashes ---- */

static void s_unhex(const char *hex, uint8_t *out, size_t n) {
    assert_int_equal(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void test_hash_is_blake2b_256(void **state) {
    (void)state;
    uint8_t got[XS_HASH_BYTES], want[XS_HASH_BYTES];
    xs_identity_hash("", 0, got);
    s_unhex("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8", want, sizeof want);
    assert_memory_equal(got, want, sizeof want);
    xs_identity_hash("abc", 3, got);
    s_unhex("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319", want, sizeof want);
    assert_memory_equal(got, want, sizeof want);
    /* One more byte is a different hash. */
    xs_identity_hash("abcd", 4, got);
    assert_memory_not_equal(got, want, sizeof want);
}

static void test_hash_short_is_its_own_length(void **state) {
    (void)state;
    uint8_t full[XS_HASH_BYTES], out[80];
    const char *msg = "teacher 42, 90 minutes";
    xs_identity_hash(msg, strlen(msg), full);

    /* 16 bytes: not the first half of the 32-byte hash (BLAKE2b hashes its output length). */
    memset(out, 0xA5, sizeof out);
    xs_identity_hash_short(msg, strlen(msg), out, 16);
    assert_memory_not_equal(out, full, 16);
    for (size_t i = 16; i < sizeof out; i++)
        assert_int_equal(out[i], 0xA5); /* nothing written past out_len */

    /* 32 bytes: the same as xs_identity_hash. */
    xs_identity_hash_short(msg, strlen(msg), out, 32);
    assert_memory_equal(out, full, 32);

    /* 64 bytes: BLAKE2b-512, RFC 7693 appendix A. */
    uint8_t want[64];
    memset(out, 0xA5, sizeof out);
    xs_identity_hash_short("abc", 3, out, 64);
    s_unhex("ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
            want, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(out[64], 0xA5);

    /* Deterministic, and sensitive to the input. */
    uint8_t again[16];
    xs_identity_hash_short(msg, strlen(msg), out, 16);
    xs_identity_hash_short(msg, strlen(msg), again, 16);
    assert_memory_equal(out, again, 16);
    xs_identity_hash_short("teacher 43, 90 minutes", strlen(msg), again, 16);
    assert_memory_not_equal(out, again, 16);
}

/* ---- key files ---- */

static void test_create_writes_secret_0600_and_pub(void **state) {
    fixture_t *fx = *state;
    char path[400];
    struct stat sb;
    mode_t old = umask(0); /* even a permissive umask must not expose the secret */
    xs_identity_t *id = s_create(fx, "node");
    umask(old);

    s_file_path(fx, "node", "secret", path, sizeof path);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(sb.st_size, S_SECRET_BYTES);

    /* NAME.pub is one line of text that parses back to the identity's public keys. */
    uint8_t text[512];
    s_file_path(fx, "node", "pub", path, sizeof path);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0077, 0044); /* public: others may read it */
    size_t n = s_slurp(path, text, sizeof text);
    assert_int_equal(n, XS_PUBKEYS_TEXT_LEN + 1);
    assert_int_equal(text[n - 1], '\n');
    assert_memory_equal(text, "xs1:", 4);
    xs_pubkeys_t parsed;
    assert_int_equal(xs_pubkeys_parse((const char *)text, n, &parsed), XS_OK);
    const xs_pubkeys_t *pub = xs_identity_public(id);
    assert_memory_equal(parsed.sign, pub->sign, sizeof parsed.sign);
    assert_memory_equal(parsed.box, pub->box, sizeof parsed.box);

    /* Real keys: not all zero, and two different ones. */
    static const uint8_t zero[XS_SIGN_PK_BYTES];
    assert_memory_not_equal(pub->sign, zero, sizeof zero);
    assert_memory_not_equal(pub->box, zero, sizeof zero);
    assert_memory_not_equal(pub->sign, pub->box, sizeof zero);

    xs_identity_destroy(&id);
    assert_null(id);
    xs_identity_destroy(&id); /* NULL is accepted */
    xs_identity_destroy(NULL);
}

static void test_create_twice_refused_first_key_kept(void **state) {
    fixture_t *fx = *state;
    char secret[400], pub[400];
    uint8_t secret_before[256], secret_after[256], pub_before[256], pub_after[256];
    xs_identity_t *first = s_create(fx, "node");
    s_file_path(fx, "node", "secret", secret, sizeof secret);
    s_file_path(fx, "node", "pub", pub, sizeof pub);
    size_t ns = s_slurp(secret, secret_before, sizeof secret_before);
    size_t np = s_slurp(pub, pub_before, sizeof pub_before);

    xs_identity_t *second = (xs_identity_t *)1;
    assert_int_equal(xs_identity_create(&second, fx->dir, "node"), XS_EEXIST);
    assert_null(second);
    assert_int_equal(s_slurp(secret, secret_after, sizeof secret_after), ns);
    assert_memory_equal(secret_after, secret_before, ns);
    assert_int_equal(s_slurp(pub, pub_after, sizeof pub_after), np);
    assert_memory_equal(pub_after, pub_before, np);

    /* The key on disk is still the first one. */
    xs_identity_t *loaded = NULL;
    assert_int_equal(xs_identity_load(&loaded, fx->dir, "node"), XS_OK);
    assert_memory_equal(xs_identity_public(loaded), xs_identity_public(first),
                        sizeof(xs_pubkeys_t));
    xs_identity_destroy(&loaded);
    xs_identity_destroy(&first);
}

static void test_create_refused_by_stale_pub_leaves_no_secret(void **state) {
    fixture_t *fx = *state;
    char secret[400], pub[400];
    struct stat sb;
    s_file_path(fx, "node", "secret", secret, sizeof secret);
    s_file_path(fx, "node", "pub", pub, sizeof pub);
    s_spit(pub, "an older key\n", 13);
    xs_identity_t *id = NULL;
    assert_int_equal(xs_identity_create(&id, fx->dir, "node"), XS_EEXIST);
    assert_null(id);
    assert_int_equal(stat(secret, &sb), -1); /* no secret without its public half */
    uint8_t text[64];
    assert_int_equal(s_slurp(pub, text, sizeof text), 13);
    assert_memory_equal(text, "an older key\n", 13);
}

static void test_load_returns_the_created_keys(void **state) {
    fixture_t *fx = *state;
    xs_identity_t *made = s_create(fx, "node");
    xs_identity_t *loaded = NULL;
    assert_int_equal(xs_identity_load(&loaded, fx->dir, "node"), XS_OK);
    assert_non_null(loaded);
    const xs_pubkeys_t *a = xs_identity_public(made), *b = xs_identity_public(loaded);
    assert_memory_equal(a->sign, b->sign, XS_SIGN_PK_BYTES);
    assert_memory_equal(a->box, b->box, XS_BOX_PK_BYTES);
    assert_memory_equal(xs_identity_box_secret(made), xs_identity_box_secret(loaded), 32);

    /* What the loaded key signs, the created key's public half verifies, and the reverse. */
    uint8_t sig[XS_SIGNATURE_BYTES];
    xs_identity_sign(loaded, "batch 7", 7, sig);
    assert_int_equal(xs_identity_verify(a->sign, "batch 7", 7, sig), XS_OK);
    xs_identity_sign(made, "batch 8", 7, sig);
    assert_int_equal(xs_identity_verify(b->sign, "batch 8", 7, sig), XS_OK);

    /* A second identity is a different one. */
    xs_identity_t *other = s_create(fx, "other");
    assert_memory_not_equal(xs_identity_public(other)->sign, a->sign, XS_SIGN_PK_BYTES);
    assert_memory_not_equal(xs_identity_public(other)->box, a->box, XS_BOX_PK_BYTES);
    xs_identity_destroy(&other);
    xs_identity_destroy(&loaded);
    xs_identity_destroy(&made);
}

static void test_load_refuses_secret_readable_by_others(void **state) {
    fixture_t *fx = *state;
    char secret[400];
    xs_identity_t *id = s_create(fx, "node");
    xs_identity_destroy(&id);
    s_file_path(fx, "node", "secret", secret, sizeof secret);
    static const mode_t bad[] = {0644, 0640, 0604, 0660, 0606, 0610, 0601};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(secret, bad[i]), 0);
        id = (xs_identity_t *)1;
        assert_int_equal(xs_identity_load(&id, fx->dir, "node"), XS_EPERM);
        assert_null(id);
    }
    /* Owner-only modes are fine, read-only included. */
    static const mode_t good[] = {0600, 0400};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(chmod(secret, good[i]), 0);
        assert_int_equal(xs_identity_load(&id, fx->dir, "node"), XS_OK);
        xs_identity_destroy(&id);
    }
}

static void s_expect_corrupt(const fixture_t *fx, const void *bytes, size_t len) {
    char secret[400];
    s_file_path(fx, "bad", "secret", secret, sizeof secret);
    s_spit(secret, bytes, len);
    xs_identity_t *id = (xs_identity_t *)1;
    assert_int_equal(xs_identity_load(&id, fx->dir, "bad"), XS_ECORRUPT);
    assert_null(id);
}

static void test_load_refuses_damaged_secret(void **state) {
    fixture_t *fx = *state;
    char secret[400];
    uint8_t good[S_SECRET_BYTES + 16], bytes[S_SECRET_BYTES + 16];
    xs_identity_t *id = s_create(fx, "node");
    xs_identity_destroy(&id);
    s_file_path(fx, "node", "secret", secret, sizeof secret);
    assert_int_equal(s_slurp(secret, good, sizeof good), S_SECRET_BYTES);

    s_expect_corrupt(fx, "", 0);                    /* empty */
    s_expect_corrupt(fx, good, 8);                  /* magic only */
    s_expect_corrupt(fx, good, S_SECRET_BYTES - 1); /* truncated by one byte */
    memcpy(bytes, good, S_SECRET_BYTES);
    bytes[S_SECRET_BYTES] = '\n';
    s_expect_corrupt(fx, bytes, S_SECRET_BYTES + 1); /* trailing bytes */
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 73 + 11);
    s_expect_corrupt(fx, bytes, S_SECRET_BYTES); /* garbage of the right length */
    memcpy(bytes, good, S_SECRET_BYTES);
    bytes[0] ^= 0x20;
    s_expect_corrupt(fx, bytes, S_SECRET_BYTES); /* "xSKEY001": not our magic */
    s_expect_corrupt(fx, "xs1:not a secret key file\n", 26);

    /* A flipped bit in the Ed25519 key: the seed no longer matches its public half. */
    memcpy(bytes, good, S_SECRET_BYTES);
    bytes[8 + 5] ^= 0x01; /* seed */
    s_expect_corrupt(fx, bytes, S_SECRET_BYTES);
    memcpy(bytes, good, S_SECRET_BYTES);
    bytes[8 + 32 + 5] ^= 0x01; /* public half */
    s_expect_corrupt(fx, bytes, S_SECRET_BYTES);

    /* The original file, copied, loads. */
    s_file_path(fx, "bad", "secret", secret, sizeof secret);
    s_spit(secret, good, S_SECRET_BYTES);
    assert_int_equal(xs_identity_load(&id, fx->dir, "bad"), XS_OK);
    xs_identity_destroy(&id);
}

static void test_load_missing_is_enotfound(void **state) {
    fixture_t *fx = *state;
    char dir[400];
    xs_identity_t *id = (xs_identity_t *)1;
    assert_int_equal(xs_identity_load(&id, fx->dir, "node"), XS_ENOTFOUND);
    assert_null(id);
    snprintf(dir, sizeof dir, "%s/no-such-dir", fx->dir);
    assert_int_equal(xs_identity_load(&id, dir, "node"), XS_ENOTFOUND);
    /* A public half alone is not an identity. */
    xs_identity_t *made = s_create(fx, "node");
    xs_identity_destroy(&made);
    char secret[400];
    s_file_path(fx, "node", "secret", secret, sizeof secret);
    assert_int_equal(unlink(secret), 0);
    assert_int_equal(xs_identity_load(&id, fx->dir, "node"), XS_ENOTFOUND);
}

/* ---- signatures ---- */

static void test_sign_verify_and_tampering(void **state) {
    fixture_t *fx = *state;
    xs_identity_t *id = s_create(fx, "node");
    xs_identity_t *other = s_create(fx, "other");
    const uint8_t *pk = xs_identity_public(id)->sign;
    uint8_t msg[100], sig[XS_SIGNATURE_BYTES], bad[XS_SIGNATURE_BYTES];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 3);
    xs_identity_sign(id, msg, sizeof msg, sig);
    assert_int_equal(xs_identity_verify(pk, msg, sizeof msg, sig), XS_OK);

    /* Any flipped bit in the message is caught. */
    for (size_t i = 0; i < sizeof msg; i += 7) {
        msg[i] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(xs_identity_verify(pk, msg, sizeof msg, sig), XS_ECRYPTO);
        msg[i] ^= (uint8_t)(1u << (i % 8));
    }
    /* A shorter or longer message is another message. */
    assert_int_equal(xs_identity_verify(pk, msg, sizeof msg - 1, sig), XS_ECRYPTO);
    /* Any flipped bit in the signature is caught. */
    for (size_t i = 0; i < XS_SIGNATURE_BYTES; i++) {
        memcpy(bad, sig, sizeof bad);
        bad[i] ^= (uint8_t)(0x80u >> (i % 8));
        assert_int_equal(xs_identity_verify(pk, msg, sizeof msg, bad), XS_ECRYPTO);
    }
    /* Another identity's key does not verify it; its own signature does not pass for ours. */
    assert_int_equal(xs_identity_verify(xs_identity_public(other)->sign, msg, sizeof msg, sig),
                     XS_ECRYPTO);
    xs_identity_sign(other, msg, sizeof msg, bad);
    assert_int_equal(xs_identity_verify(pk, msg, sizeof msg, bad), XS_ECRYPTO);
    assert_int_equal(xs_identity_verify(xs_identity_public(other)->sign, msg, sizeof msg, bad),
                     XS_OK);
    /* The box key is not a signing key. */
    assert_int_equal(xs_identity_verify(xs_identity_public(id)->box, msg, sizeof msg, sig),
                     XS_ECRYPTO);
    /* The empty message can be signed too. */
    xs_identity_sign(id, "", 0, sig);
    assert_int_equal(xs_identity_verify(pk, "", 0, sig), XS_OK);
    assert_int_equal(xs_identity_verify(pk, "x", 1, sig), XS_ECRYPTO);
    xs_identity_destroy(&other);
    xs_identity_destroy(&id);
}

/* ---- text form of public keys ---- */

static void s_sample_keys(xs_pubkeys_t *k) {
    for (int i = 0; i < 32; i++) {
        k->sign[i] = (uint8_t)i;
        k->box[i] = (uint8_t)(0xff - i);
    }
}

static const char s_sample_text[] =
    "xs1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    ".fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0";

static void test_pubkeys_format_golden(void **state) {
    (void)state;
    xs_pubkeys_t k;
    char text[XS_PUBKEYS_TEXT_LEN + 8];
    s_sample_keys(&k);
    memset(text, '#', sizeof text);
    xs_pubkeys_format(&k, text);
    assert_int_equal(strlen(s_sample_text), XS_PUBKEYS_TEXT_LEN);
    assert_string_equal(text, s_sample_text);
    assert_int_equal(text[XS_PUBKEYS_TEXT_LEN + 1], '#'); /* NUL, then nothing more */

    char hex[9];
    xs_hex_encode((const uint8_t *)"\x00\x7f\x80\xff", 4, hex);
    assert_string_equal(hex, "007f80ff");
    xs_hex_encode((const uint8_t *)"", 0, hex);
    assert_string_equal(hex, "");
}

/* Parses exactly len bytes from a heap copy, so a read past the end trips the sanitizer. */
static xs_err s_parse(const char *text, size_t len, xs_pubkeys_t *out) {
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    xs_err err = xs_pubkeys_parse(copy, len, out);
    free(copy);
    return err;
}

static void s_expect_parses(const char *text) {
    xs_pubkeys_t want, got;
    s_sample_keys(&want);
    memset(&got, 0, sizeof got);
    assert_int_equal(s_parse(text, strlen(text), &got), XS_OK);
    assert_memory_equal(got.sign, want.sign, sizeof want.sign);
    assert_memory_equal(got.box, want.box, sizeof want.box);
}

static void s_expect_refused(const char *text, size_t len) {
    xs_pubkeys_t got;
    assert_int_equal(s_parse(text, len, &got), XS_EINVAL);
}

/* s_sample_text with the byte at pos replaced by c. */
static void s_expect_refused_with(size_t pos, char c) {
    char text[sizeof s_sample_text];
    memcpy(text, s_sample_text, sizeof text);
    text[pos] = c;
    s_expect_refused(text, XS_PUBKEYS_TEXT_LEN);
}

static void test_pubkeys_parse_accepts(void **state) {
    (void)state;
    char text[256];
    s_expect_parses(s_sample_text);
    snprintf(text, sizeof text, "%s\n", s_sample_text); /* as NAME.pub holds it */
    s_expect_parses(text);
    snprintf(text, sizeof text, "  \t%s\r\n", s_sample_text);
    s_expect_parses(text);
    snprintf(text, sizeof text, "\n\n%s \n\n", s_sample_text);
    s_expect_parses(text);

    /* Round trip through the formatter, with created keys. */
    xs_pubkeys_t k, got;
    for (int i = 0; i < 32; i++) {
        k.sign[i] = (uint8_t)(i * 97 + 5);
        k.box[i] = (uint8_t)(i * 31 + 200);
    }
    xs_pubkeys_format(&k, text);
    assert_int_equal(s_parse(text, strlen(text), &got), XS_OK);
    assert_memory_equal(&got, &k, sizeof k);
}

static void test_pubkeys_parse_refuses(void **state) {
    (void)state;
    char text[256];
    const size_t len = XS_PUBKEYS_TEXT_LEN;
    s_expect_refused("", 0);
    s_expect_refused(" \n", 2);
    /* Prefix. */
    s_expect_refused_with(0, 'X');
    s_expect_refused_with(2, '2');
    s_expect_refused_with(3, ';');
    snprintf(text, sizeof text, "xs2:%s", s_sample_text + 4);
    s_expect_refused(text, strlen(text));
    snprintf(text, sizeof text, "%s", s_sample_text + 4); /* no prefix at all */
    s_expect_refused(text, strlen(text));
    /* Length: one digit short, one too many, cut by len. */
    s_expect_refused(s_sample_text, len - 1);
    snprintf(text, sizeof text, "%s0", s_sample_text);
    s_expect_refused(text, strlen(text));
    snprintf(text, sizeof text, "%.*s%s", 67, s_sample_text, s_sample_text + 68); /* sign short */
    s_expect_refused(text, strlen(text));
    /* Not hex, in either half. */
    s_expect_refused_with(4, 'g');
    s_expect_refused_with(67, 'z');
    s_expect_refused_with(69, ' ');
    s_expect_refused_with(len - 1, 'G');
    s_expect_refused_with(40, '\0');
    /* The dot: missing, or something else in its place. */
    s_expect_refused_with(68, ':');
    s_expect_refused_with(68, '0');
    snprintf(text, sizeof text, "%.68s%s", s_sample_text, s_sample_text + 69);
    s_expect_refused(text, strlen(text));
    /* White space inside is not surrounding white space. */
    snprintf(text, sizeof text, "xs1: %s", s_sample_text + 4);
    s_expect_refused(text, strlen(text));
    snprintf(text, sizeof text, "%s x", s_sample_text);
    s_expect_refused(text, strlen(text));
}

/* Password hashes: Argon2id strings with their own salt, that check the password they were
 * made of and no other; a string that is not one is malformed, not a wrong password. */
static void test_pwhash(void **state) {
    (void)state;
    char a[XS_PWHASH_MAX], b[XS_PWHASH_MAX];
    const char *pw = "县里的密码 2025";
    assert_int_equal(xs_identity_pwhash(pw, strlen(pw), a), XS_OK);
    assert_int_equal(xs_identity_pwhash(pw, strlen(pw), b), XS_OK);
    assert_int_equal(strncmp(a, "$argon2id$", 10), 0);
    assert_string_not_equal(a, b); /* salted */
    assert_int_equal(xs_identity_pwhash_verify(a, pw, strlen(pw)), XS_OK);
    assert_int_equal(xs_identity_pwhash_verify(b, pw, strlen(pw)), XS_OK);
    assert_int_equal(xs_identity_pwhash_verify(a, pw, strlen(pw) - 1), XS_ECRYPTO);
    assert_int_equal(xs_identity_pwhash_verify(a, "", 0), XS_ECRYPTO);
    assert_int_equal(xs_identity_pwhash_verify("", pw, strlen(pw)), XS_EMALFORMED);
    assert_int_equal(xs_identity_pwhash_verify("$2y$10$abc", pw, strlen(pw)), XS_EMALFORMED);
    a[strlen(a) - 2] ^= 1; /* a damaged hash checks nothing */
    assert_int_not_equal(xs_identity_pwhash_verify(a, pw, strlen(pw)), XS_OK);
}

/* A keyed hash depends on the key and the bytes, and random bytes differ. */
static void test_keyed_hash_and_random(void **state) {
    (void)state;
    uint8_t k1[32], k2[32], t1[XS_HASH_BYTES], t2[XS_HASH_BYTES], t3[XS_HASH_BYTES];
    xs_identity_random(k1, sizeof k1);
    xs_identity_random(k2, sizeof k2);
    assert_memory_not_equal(k1, k2, sizeof k1);
    xs_identity_keyed_hash(k1, "admin\0pw", 8, t1);
    xs_identity_keyed_hash(k2, "admin\0pw", 8, t2);
    xs_identity_keyed_hash(k1, "admin\0px", 8, t3);
    assert_memory_not_equal(t1, t2, sizeof t1);
    assert_memory_not_equal(t1, t3, sizeof t1);
    xs_identity_keyed_hash(k1, "admin\0pw", 8, t2);
    assert_memory_equal(t1, t2, sizeof t1);
}

int main(void) {
    if (xs_identity_setup() != XS_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_is_blake2b_256),
        cmocka_unit_test(test_hash_short_is_its_own_length),
        cmocka_unit_test_setup_teardown(test_create_writes_secret_0600_and_pub, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_create_twice_refused_first_key_kept, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_create_refused_by_stale_pub_leaves_no_secret, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_load_returns_the_created_keys, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_secret_readable_by_others, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_damaged_secret, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_load_missing_is_enotfound, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sign_verify_and_tampering, s_setup, s_teardown),
        cmocka_unit_test(test_pubkeys_format_golden),
        cmocka_unit_test(test_pubkeys_parse_accepts),
        cmocka_unit_test(test_pubkeys_parse_refuses),
        cmocka_unit_test(test_pwhash),
        cmocka_unit_test(test_keyed_hash_and_random),
    };
    return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
