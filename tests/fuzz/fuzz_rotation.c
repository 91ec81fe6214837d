/* fuzz_rotation: key rotation statements and their chain (protocol.md §11) on arbitrary bytes.
 * The first byte picks the input's form: a statement (it must open only when both signatures
 * verify, which the fuzzer cannot forge, so what opens came from the seed corpus), a chain
 * followed from fixed keys, or a recipe: a chain built from fixed keys with the fuzzer's
 * numbers, times and order, whose verdict must agree with the chain rules. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/rotation.h"

/* Inputs past this gain nothing: a chain holds at most XS_ROTATION_CHAIN_MAX statements. */
#define FUZZ_MAX_INPUT (XS_ROTATION_CHAIN_MAX_BYTES + 64)
#define S_KEYS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xs_identity_t *s_keys[S_KEYS];

/* Fixed keys, from seeds 0x01.. (the golden vector's first two). */
static void s_setup(void) {
    if (s_keys[0])
        return;
    for (int i = 0; i < S_KEYS; i++) {
        uint8_t seed[32];
        memset(seed, i + 1, sizeof seed);
        if (xs_identity_from_seed(&s_keys[i], seed) != XS_OK)
            abort();
    }
}

static const uint8_t *s_pk(int i) {
    return xs_identity_public(s_keys[i])->sign;
}

/* Follows chain from each fixed key; whatever it accepts must end at a key the chain names. */
static void s_follow(const uint8_t *chain, size_t len) {
    xs_rotation_t steps[XS_ROTATION_CHAIN_MAX];
    uint8_t current[XS_SIGN_PK_BYTES];
    size_t n;
    for (int k = 0; k < S_KEYS; k++) {
        if (xs_rotation_follow(chain, len, s_pk(k), current, steps, XS_ROTATION_CHAIN_MAX, &n) !=
            XS_OK)
            continue;
        if (n == 0 ? memcmp(current, s_pk(k), 32) != 0
                   : memcmp(current, steps[n - 1].new_key, 32) != 0)
            abort();
        for (size_t i = 0; i < n; i++)
            if (steps[i].number != i + 1 ||
                (i > 0 && memcmp(steps[i].old_key, steps[i - 1].new_key, 32) != 0))
                abort();
        if (!xs_rotation_trusts(current, steps, n, current, INT64_MAX))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    s_setup();
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    switch (data[0] % 3) {
    case 0: {
        xs_rotation_t r;
        if (xs_rotation_open(body, len, &r) == XS_OK &&
            (r.number == 0 || memcmp(r.old_key, r.new_key, 32) == 0))
            abort();
        break;
    }
    case 1:
        s_follow(body, len);
        break;
    default: {
        /* Each step: 3 bytes: old key index, new key index, number; at from the step's place. */
        xs_writer_t chain, one, grown;
        xs_writer_init(&chain, XS_ROTATION_CHAIN_MAX_BYTES);
        int ok = 1;
        for (size_t i = 0; i + 3 <= len && i / 3 < 8; i += 3) {
            int from = body[i] % S_KEYS, to = body[i + 1] % S_KEYS;
            xs_writer_init(&one, XS_ROTATION_MAX_BYTES);
            xs_writer_init(&grown, XS_ROTATION_CHAIN_MAX_BYTES);
            xs_err err = xs_rotation_sign(&one, s_keys[from], s_keys[to], body[i + 2] % 10,
                                          1700000000 + (int64_t)i);
            if (err == XS_OK)
                err = xs_rotation_chain_append(&grown, chain.data, chain.len, one.data, one.len);
            if (err == XS_OK) {
                xs_writer_free(&chain);
                chain = grown;
            } else {
                xs_writer_free(&grown);
                ok = 0;
            }
            xs_writer_free(&one);
        }
        (void)ok;
        /* What append accepted is a chain that follows from its first key. */
        s_follow(chain.data, chain.len);
        xs_writer_free(&chain);
        break;
    }
    }
    return 0;
}
