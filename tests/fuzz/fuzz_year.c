/* fuzz_year: libFuzzer harness for the closed year's documents (schema/year.md). The first
 * byte picks the document (year, amendment, finalization); the rest is a body, which the
 * harness signs with a fixed hub key (the fuzzer cannot forge signatures) after writing that
 * key where a body holds it. Whatever opens must sign again, and what that signs must open to
 * the same bytes once more: the decoder accepts only what the encoder can write back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/year.h"

/* Inputs past this gain nothing: the structure repeats. */
#define FUZZ_MAX_INPUT (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xs_identity_t *s_hub;

static const xs_identity_t *s_fixed_hub(void) {
    if (!s_hub) {
        uint8_t seed[32];
        for (int i = 0; i < 32; i++)
            seed[i] = (uint8_t)(0x20 + i);
        if (xs_identity_from_seed(&s_hub, seed) != XS_OK)
            abort();
    }
    return s_hub;
}

static const char *const s_contexts[3] = {"xueshi-year-1", "xueshi-amend-1", "xueshi-final-1"};

/* Signs body (len bytes) under context into env, as xs_envelope_seal would. */
static void s_wrap(const char *context, const uint8_t *body, size_t len, xs_writer_t *env) {
    size_t clen = strlen(context) + 1;
    uint8_t *signed_bytes = malloc(clen + len);
    uint8_t sig[64];
    if (!signed_bytes)
        abort();
    memcpy(signed_bytes, context, clen);
    memcpy(signed_bytes + clen, body, len);
    xs_identity_sign(s_fixed_hub(), signed_bytes, clen + len, sig);
    free(signed_bytes);
    xs_codec_put_array(env, 2);
    xs_codec_put_bin(env, body, len);
    xs_codec_put_bin(env, sig, 64);
}

/* Opens env as kind; on success signs the result again into out. Returns the open's error. */
static xs_err s_round(unsigned kind, const xs_writer_t *env, xs_writer_t *out) {
    const uint8_t *key = xs_identity_public(s_fixed_hub())->sign;
    xs_err err;
    if (kind == 0) {
        xs_year_doc_t doc;
        if ((err = xs_year_open(env->data, env->len, key, &doc)) == XS_OK) {
            if (xs_year_sign(out, s_fixed_hub(), &doc) != XS_OK)
                abort();
            xs_year_doc_free(&doc);
        } else if (doc.owned || doc.rows) {
            abort();
        }
    } else if (kind == 1) {
        xs_year_amend_t a;
        if ((err = xs_year_amend_open(env->data, env->len, key, &a)) == XS_OK) {
            if (xs_year_amend_sign(out, s_fixed_hub(), &a) != XS_OK)
                abort();
            xs_year_amend_free(&a);
        } else if (a.owned || a.rows || a.entries) {
            abort();
        }
    } else {
        xs_year_final_t f;
        if ((err = xs_year_final_open(env->data, env->len, key, &f)) == XS_OK) {
            if (xs_year_final_sign(out, s_fixed_hub(), &f) != XS_OK)
                abort();
            xs_year_final_free(&f);
        } else if (f.owned || f.objections) {
            abort();
        }
    }
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    unsigned kind = data[0] % 3;
    size_t len = size - 1;
    uint8_t *body = malloc(len ? len : 1);
    if (!body)
        abort();
    memcpy(body, data + 1, len);
    /* A body's hub key follows its array header and format: [0x9X, 0x01, 0xc4, 0x20, key]. */
    if (len >= 36 && body[2] == 0xc4 && body[3] == 0x20)
        memcpy(body + 4, xs_identity_public(s_fixed_hub())->sign, 32);
    xs_writer_t env, again, third;
    xs_writer_init(&env, FUZZ_MAX_INPUT + 128);
    xs_writer_init(&again, XS_YEAR_MAX_BYTES);
    xs_writer_init(&third, XS_YEAR_MAX_BYTES);
    s_wrap(s_contexts[kind], body, len, &env);
    xs_err err = s_round(kind, &env, &again);
    if (err == XS_OK) {
        /* The re-signed document opens, and signs to the very same bytes. */
        if (s_round(kind, &again, &third) != XS_OK || third.len != again.len ||
            memcmp(third.data, again.data, again.len) != 0)
            abort();
    } else if (err != XS_EMALFORMED && err != XS_EVERSION && err != XS_ECRYPTO &&
               err != XS_ETOOBIG && err != XS_ENOMEM) {
        abort();
    }
    xs_writer_free(&env);
    xs_writer_free(&again);
    xs_writer_free(&third);
    free(body);
    return 0;
}
