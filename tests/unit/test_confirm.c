/* test_confirm: the hub-signed "confirmed through" statement a receipts bundle carries
 * (protocol.md §7). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "xs/confirm.h"

static xs_identity_t *s_key(uint8_t fill) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

/* A school reads back the seq and head hash the hub signed; nobody else's key opens it, and a
 * changed byte or a zero seq is refused. */
static void test_confirm_round_trip_and_refusals(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(1), *other = s_key(2);
    xs_confirm_t in, out;
    memset(&in, 0, sizeof in);
    memset(in.origin, 0xab, 32);
    memset(in.head_hash, 0xcd, 32);
    in.through = 3000;
    in.issued_at = 1764700000;
    xs_writer_t env;
    xs_writer_init(&env, XS_CONFIRM_MAX_BYTES);
    assert_int_equal(xs_confirm_sign(&env, hub, &in), XS_OK);
    const uint8_t *hub_key = xs_identity_public(hub)->sign;
    assert_int_equal(xs_confirm_open(env.data, env.len, hub_key, &out), XS_OK);
    assert_int_equal(out.through, 3000);
    assert_int_equal(out.issued_at, 1764700000);
    assert_memory_equal(out.origin, in.origin, 32);
    assert_memory_equal(out.head_hash, in.head_hash, 32);
    assert_memory_equal(out.hub, hub_key, 32);
    assert_int_equal(xs_confirm_open(env.data, env.len, xs_identity_public(other)->sign, &out),
                     XS_ECRYPTO);
    env.data[env.len - 70] ^= 1; /* inside the body */
    assert_int_equal(xs_confirm_open(env.data, env.len, hub_key, &out), XS_ECRYPTO);
    assert_int_equal(xs_confirm_open(env.data, XS_CONFIRM_MAX_BYTES + 1, hub_key, &out),
                     XS_ETOOBIG);
    in.through = 0;
    xs_writer_reset(&env);
    assert_int_equal(xs_confirm_sign(&env, hub, &in), XS_EINVAL);
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
    xs_identity_destroy(&other);
}

int main(void) {
    if (xs_identity_setup() != XS_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confirm_round_trip_and_refusals),
    };
    return cmocka_run_group_tests_name("confirm", tests, NULL, NULL);
}
