/* test_roster: the hub-signed roster of a relay's satellites (protocol.md §8) and the signed
 * envelope every hub-signed statement shares. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "xs/envelope.h"
#include "xs/roster.h"

static xs_identity_t *s_key(uint8_t fill) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

static void s_entry(xs_roster_entry_t *e, uint8_t fill, const char *school) {
    memset(e, 0, sizeof *e);
    memset(e->origin, fill, 32);
    memset(e->box, fill + 1, 32);
    memcpy(e->school, school, strlen(school));
}

/* The relay reads back exactly the satellites the hub listed, with the time it signed. */
static void test_roster_round_trip(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(1), *relay = s_key(2);
    xs_roster_entry_t in[2], out[4];
    uint32_t count = 0;
    int64_t when = 0;
    xs_writer_t env;
    s_entry(&in[0], 10, "S101");
    s_entry(&in[1], 20, "村小甲");
    xs_writer_init(&env, XS_ROSTER_MAX_BYTES);
    const uint8_t *relay_key = xs_identity_public(relay)->sign;
    assert_int_equal(xs_roster_sign(&env, hub, relay_key, 1760000000, in, 2), XS_OK);
    assert_int_equal(xs_roster_open(env.data, env.len, xs_identity_public(hub)->sign, relay_key,
                                    out, 4, &count, &when),
                     XS_OK);
    assert_int_equal(count, 2);
    assert_int_equal(when, 1760000000);
    assert_memory_equal(out[1].origin, in[1].origin, 32);
    assert_memory_equal(out[1].box, in[1].box, 32);
    assert_string_equal(out[1].school, "村小甲");
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
    xs_identity_destroy(&relay);
}

/* A roster is refused when another key signed it, when it names another relay, when a byte
 * changed, or when it lists more satellites than the reader has room for. */
static void test_roster_refusals(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(1), *relay = s_key(2), *other = s_key(3);
    xs_roster_entry_t in[3], out[3];
    uint32_t count = 0;
    xs_writer_t env;
    for (int i = 0; i < 3; i++)
        s_entry(&in[i], (uint8_t)(10 * i + 10), "S1");
    xs_writer_init(&env, XS_ROSTER_MAX_BYTES);
    const uint8_t *hub_key = xs_identity_public(hub)->sign;
    const uint8_t *relay_key = xs_identity_public(relay)->sign;
    assert_int_equal(xs_roster_sign(&env, hub, relay_key, 1, in, 3), XS_OK);
    assert_int_equal(xs_roster_open(env.data, env.len, xs_identity_public(other)->sign, relay_key,
                                    out, 3, &count, NULL),
                     XS_ECRYPTO);
    assert_int_equal(xs_roster_open(env.data, env.len, hub_key, xs_identity_public(other)->sign,
                                    out, 3, &count, NULL),
                     XS_EPERM);
    assert_int_equal(xs_roster_open(env.data, env.len, hub_key, relay_key, out, 2, &count, NULL),
                     XS_EMALFORMED);
    uint8_t *copy = malloc(env.len);
    memcpy(copy, env.data, env.len);
    copy[env.len / 2] ^= 0x20;
    assert_int_equal(xs_roster_open(copy, env.len, hub_key, relay_key, out, 3, &count, NULL),
                     XS_ECRYPTO);
    free(copy);
    /* A school name that is not UTF-8 is never signed. */
    in[0].school[0] = (char)0xff;
    xs_writer_reset(&env);
    assert_int_equal(xs_roster_sign(&env, hub, relay_key, 1, in, 1), XS_EINVAL);
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
    xs_identity_destroy(&relay);
    xs_identity_destroy(&other);
}

/* A signature made under one context never verifies under another, and an envelope over its
 * bound is refused before anything is verified. */
static void test_envelope_contexts(void **state) {
    (void)state;
    static const char ctx_a[] = "xueshi-test-a", ctx_b[] = "xueshi-test-b";
    xs_identity_t *key = s_key(7);
    xs_writer_t signed_bytes, env;
    const uint8_t *body;
    size_t body_len;
    xs_writer_init(&signed_bytes, 1024);
    xs_writer_init(&env, 1024);
    xs_writer_raw(&signed_bytes, ctx_a, sizeof ctx_a);
    xs_codec_put_str(&signed_bytes, "学时", strlen("学时"));
    assert_int_equal(xs_envelope_seal(&env, key, &signed_bytes, sizeof ctx_a, 1024), XS_OK);
    const uint8_t *pk = xs_identity_public(key)->sign;
    assert_int_equal(
        xs_envelope_open(env.data, env.len, 1024, ctx_a, sizeof ctx_a, pk, &body, &body_len),
        XS_OK);
    assert_int_equal(body_len, signed_bytes.len - sizeof ctx_a);
    assert_int_equal(
        xs_envelope_open(env.data, env.len, 1024, ctx_b, sizeof ctx_b, pk, &body, &body_len),
        XS_ECRYPTO);
    assert_int_equal(
        xs_envelope_open(env.data, env.len, env.len - 1, ctx_a, sizeof ctx_a, pk, &body, &body_len),
        XS_ETOOBIG);
    xs_writer_t small;
    xs_writer_init(&small, 1024);
    assert_int_equal(xs_envelope_seal(&small, key, &signed_bytes, sizeof ctx_a, 20), XS_ETOOBIG);
    assert_int_equal(small.len, 0);
    xs_writer_free(&small);
    xs_writer_free(&signed_bytes);
    xs_writer_free(&env);
    xs_identity_destroy(&key);
}

int main(void) {
    if (xs_identity_setup() != XS_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roster_round_trip),
        cmocka_unit_test(test_roster_refusals),
        cmocka_unit_test(test_envelope_contexts),
    };
    return cmocka_run_group_tests_name("roster", tests, NULL, NULL);
}
