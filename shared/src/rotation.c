/* rotation: the hub's key rotation statements and their chain (protocol.md §11). */
#include "xs/rotation.h"

#include <string.h>

#include "xs/envelope.h"

#define S_FORMAT 1
/* The old key signs the statement under this context, the new key its proof under the
 * second: neither signature is valid for anything else (protocol.md §1). */
static const char s_context[] = "xueshi-rotation-1";
static const char s_proof_context[] = "xueshi-rotation-proof-1";
/* The proof's bytes after its context: old key, new key, number (4) and at (8), big-endian. */
#define S_PROOF_LEN (2 * XS_SIGN_PK_BYTES + 4 + 8)

static void s_proof_bytes(const xs_rotation_t *r,
                          uint8_t out[sizeof s_proof_context + S_PROOF_LEN]) {
    uint8_t *p = out;
    memcpy(p, s_proof_context, sizeof s_proof_context);
    p += sizeof s_proof_context;
    memcpy(p, r->old_key, XS_SIGN_PK_BYTES);
    memcpy(p + XS_SIGN_PK_BYTES, r->new_key, XS_SIGN_PK_BYTES);
    p += 2 * XS_SIGN_PK_BYTES;
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(r->number >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        p[4 + i] = (uint8_t)((uint64_t)r->at >> (56 - 8 * i));
}

xs_err xs_rotation_sign(xs_writer_t *out, const xs_identity_t *old_id, const xs_identity_t *new_id,
                        uint32_t number, int64_t at) {
    xs_rotation_t r;
    uint8_t proof[sizeof s_proof_context + S_PROOF_LEN], proof_sig[XS_SIGNATURE_BYTES];
    memcpy(r.old_key, xs_identity_public(old_id)->sign, XS_SIGN_PK_BYTES);
    memcpy(r.new_key, xs_identity_public(new_id)->sign, XS_SIGN_PK_BYTES);
    r.number = number;
    r.at = at;
    if (number == 0 || memcmp(r.old_key, r.new_key, XS_SIGN_PK_BYTES) == 0)
        return XS_EINVAL;
    s_proof_bytes(&r, proof);
    xs_identity_sign(new_id, proof, sizeof proof, proof_sig);
    xs_writer_t body;
    xs_writer_init(&body, XS_ROTATION_MAX_BYTES);
    xs_writer_raw(&body, s_context, sizeof s_context);
    xs_codec_put_array(&body, 6);
    xs_codec_put_uint(&body, S_FORMAT);
    xs_codec_put_bin(&body, r.old_key, XS_SIGN_PK_BYTES);
    xs_codec_put_bin(&body, r.new_key, XS_SIGN_PK_BYTES);
    xs_codec_put_uint(&body, number);
    xs_codec_put_int(&body, at);
    xs_codec_put_bin(&body, proof_sig, XS_SIGNATURE_BYTES);
    xs_err err = xs_writer_err(&body);
    if (err == XS_OK)
        err = xs_envelope_seal(out, old_id, &body, sizeof s_context, XS_ROTATION_MAX_BYTES);
    xs_writer_free(&body);
    return err;
}

xs_err xs_rotation_open(const void *envelope, size_t len, xs_rotation_t *out) {
    const uint8_t *body, *sig;
    size_t body_len;
    uint32_t count, sig_len;
    uint64_t format, number;
    if (len > XS_ROTATION_MAX_BYTES)
        return XS_ETOOBIG;
    xs_err err = xs_codec_split_envelope(envelope, len, &body, &body_len, &sig, XS_SIGNATURE_BYTES);
    if (err != XS_OK)
        return err;
    xs_reader_t r;
    xs_reader_init(&r, body, body_len);
    if (xs_codec_get_array(&r, &count) != XS_OK || count != 6 ||
        xs_codec_get_uint(&r, &format) != XS_OK)
        return XS_EMALFORMED;
    if (format != S_FORMAT)
        return XS_EVERSION;
    const uint8_t *proof_sig;
    if (xs_codec_get_bin_exact(&r, out->old_key, XS_SIGN_PK_BYTES) != XS_OK ||
        xs_codec_get_bin_exact(&r, out->new_key, XS_SIGN_PK_BYTES) != XS_OK ||
        xs_codec_get_uint(&r, &number) != XS_OK || number == 0 || number > UINT32_MAX ||
        xs_codec_get_int(&r, &out->at) != XS_OK ||
        xs_codec_get_bin(&r, &proof_sig, &sig_len) != XS_OK || sig_len != XS_SIGNATURE_BYTES ||
        xs_reader_left(&r) != 0)
        return XS_EMALFORMED;
    out->number = (uint32_t)number;
    if (memcmp(out->old_key, out->new_key, XS_SIGN_PK_BYTES) == 0)
        return XS_EMALFORMED;
    if ((err = xs_envelope_verify(s_context, sizeof s_context, out->old_key, body, body_len,
                                  sig)) != XS_OK)
        return err;
    uint8_t proof[sizeof s_proof_context + S_PROOF_LEN];
    s_proof_bytes(out, proof);
    return xs_identity_verify(out->new_key, proof, sizeof proof, proof_sig);
}

/* Reads the chain's statements one by one: fn(ctx, statement, envelope, len) for each, in
 * order, after checking each continues the one before. */
static xs_err s_walk(const void *chain, size_t chain_len,
                     xs_err (*fn)(void *ctx, const xs_rotation_t *r, const uint8_t *env,
                                  uint32_t len),
                     void *ctx) {
    xs_reader_t rd;
    uint32_t count;
    xs_rotation_t prev;
    if (chain_len == 0)
        return XS_OK;
    if (chain_len > XS_ROTATION_CHAIN_MAX_BYTES)
        return XS_ETOOBIG;
    xs_reader_init(&rd, chain, chain_len);
    if (xs_codec_get_array(&rd, &count) != XS_OK || count > XS_ROTATION_CHAIN_MAX)
        return XS_EMALFORMED;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *env;
        uint32_t len;
        xs_rotation_t r;
        if (xs_codec_get_bin(&rd, &env, &len) != XS_OK)
            return XS_EMALFORMED;
        xs_err err = xs_rotation_open(env, len, &r);
        if (err != XS_OK)
            return err;
        if (r.number != i + 1 ||
            (i > 0 && (memcmp(r.old_key, prev.new_key, XS_SIGN_PK_BYTES) != 0 || r.at < prev.at)))
            return XS_EINVAL;
        if ((err = fn(ctx, &r, env, len)) != XS_OK)
            return err;
        prev = r;
    }
    return xs_reader_left(&rd) == 0 ? XS_OK : XS_EMALFORMED;
}

/* What a walk that copies the chain keeps. */
typedef struct s_copy {
    xs_writer_t *out;
    xs_rotation_t last;
    uint32_t count;
} s_copy_t;

static xs_err s_copy(void *ctx, const xs_rotation_t *r, const uint8_t *env, uint32_t len) {
    s_copy_t *c = ctx;
    xs_codec_put_bin(c->out, env, len);
    c->last = *r;
    c->count++;
    return XS_OK;
}

xs_err xs_rotation_chain_count(const void *chain, size_t chain_len, uint32_t *count) {
    xs_reader_t rd;
    *count = 0;
    if (chain_len == 0)
        return XS_OK;
    xs_reader_init(&rd, chain, chain_len);
    return xs_codec_get_array(&rd, count) == XS_OK ? XS_OK : XS_EMALFORMED;
}

xs_err xs_rotation_chain_append(xs_writer_t *out, const void *chain, size_t chain_len,
                                const void *envelope, size_t len) {
    xs_rotation_t r;
    uint32_t count;
    xs_err err = xs_rotation_chain_count(chain, chain_len, &count);
    if (err != XS_OK)
        return err;
    if (count >= XS_ROTATION_CHAIN_MAX)
        return XS_ETOOBIG;
    if ((err = xs_rotation_open(envelope, len, &r)) != XS_OK)
        return err;
    xs_codec_put_array(out, count + 1);
    s_copy_t c = {out, {{0}, {0}, 0, 0}, 0};
    if ((err = s_walk(chain, chain_len, s_copy, &c)) != XS_OK)
        return err;
    if (r.number != count + 1 ||
        (count > 0 &&
         (memcmp(r.old_key, c.last.new_key, XS_SIGN_PK_BYTES) != 0 || r.at < c.last.at)))
        return XS_EINVAL;
    xs_codec_put_bin(out, envelope, len);
    return xs_writer_err(out);
}

/* What a walk that follows the chain keeps. */
typedef struct s_follow {
    const uint8_t *trusted;
    int found; /* trusted is one of the chain's keys */
    xs_rotation_t *steps;
    size_t max, n;
    uint8_t current[XS_SIGN_PK_BYTES];
} s_follow_t;

static xs_err s_follow(void *ctx, const xs_rotation_t *r, const uint8_t *env, uint32_t len) {
    (void)env;
    (void)len;
    s_follow_t *f = ctx;
    if (!f->trusted || memcmp(r->old_key, f->trusted, XS_SIGN_PK_BYTES) == 0 ||
        memcmp(r->new_key, f->trusted, XS_SIGN_PK_BYTES) == 0)
        f->found = 1;
    if (f->n < f->max)
        f->steps[f->n] = *r;
    f->n++;
    memcpy(f->current, r->new_key, XS_SIGN_PK_BYTES);
    return XS_OK;
}

xs_err xs_rotation_follow(const void *chain, size_t chain_len,
                          const uint8_t trusted[XS_SIGN_PK_BYTES],
                          uint8_t current[XS_SIGN_PK_BYTES], xs_rotation_t *steps, size_t max,
                          size_t *nsteps) {
    s_follow_t f = {trusted, 0, steps, max, 0, {0}};
    *nsteps = 0;
    xs_err err = s_walk(chain, chain_len, s_follow, &f);
    if (err != XS_OK)
        return err;
    if (f.n == 0) {
        if (!trusted)
            return XS_EINVAL; /* no chain: no first key to follow from */
        memcpy(current, trusted, XS_SIGN_PK_BYTES);
        return XS_OK;
    }
    if (!f.found)
        return XS_ECRYPTO;
    *nsteps = f.n;
    if (f.n > max)
        return XS_ETOOBIG;
    memcpy(current, f.current, XS_SIGN_PK_BYTES);
    return XS_OK;
}

int xs_rotation_trusts(const uint8_t current[XS_SIGN_PK_BYTES], const xs_rotation_t *steps,
                       size_t nsteps, const uint8_t key[XS_SIGN_PK_BYTES], int64_t signed_at) {
    if (memcmp(current, key, XS_SIGN_PK_BYTES) == 0)
        return 1;
    for (size_t i = 0; i < nsteps; i++)
        if (memcmp(steps[i].old_key, key, XS_SIGN_PK_BYTES) == 0 &&
            (signed_at < 0 || signed_at <= steps[i].at))
            return 1;
    return 0;
}
