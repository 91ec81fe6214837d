/* test_rotation: the hub's key rotation statements and the chain a node follows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/rotation.h"

/* Three keys of one hub over its life, from fixed seeds. */
static xs_identity_t *s_key(uint8_t seed_byte) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, seed_byte, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

static const uint8_t *s_pk(const xs_identity_t *id) {
    return xs_identity_public(id)->sign;
}

/* The chain k0 → k1 → k2 into *chain (owned by the caller). */
static void s_chain(xs_writer_t *chain, xs_identity_t *k[3]) {
    xs_writer_t one, next;
    xs_writer_init(chain, XS_ROTATION_CHAIN_MAX_BYTES);
    for (uint32_t i = 0; i < 2; i++) {
        xs_writer_init(&one, XS_ROTATION_MAX_BYTES);
        xs_writer_init(&next, XS_ROTATION_CHAIN_MAX_BYTES);
        assert_int_equal(xs_rotation_sign(&one, k[i], k[i + 1], i + 1, 1000 + i), XS_OK);
        assert_int_equal(
            xs_rotation_chain_append(&next, chain->data, chain->len, one.data, one.len), XS_OK);
        xs_writer_free(chain);
        *chain = next;
        xs_writer_free(&one);
    }
}

static void test_statement_opens_and_names_both_keys(void **state) {
    (void)state;
    xs_identity_t *a = s_key(1), *b = s_key(2);
    xs_writer_t w;
    xs_rotation_t r;
    xs_writer_init(&w, XS_ROTATION_MAX_BYTES);
    assert_int_equal(xs_rotation_sign(&w, a, b, 1, 1700000000), XS_OK);
    assert_int_equal(xs_rotation_open(w.data, w.len, &r), XS_OK);
    assert_memory_equal(r.old_key, s_pk(a), 32);
    assert_memory_equal(r.new_key, s_pk(b), 32);
    assert_int_equal(r.number, 1);
    assert_int_equal(r.at, 1700000000);
    /* Any flipped byte is refused: the old key's signature or the new key's proof fails, or
     * the bytes no longer parse. */
    for (size_t i = 0; i < w.len; i++) {
        w.data[i] ^= 0x01;
        assert_int_not_equal(xs_rotation_open(w.data, w.len, &r), XS_OK);
        w.data[i] ^= 0x01;
    }
    /* Every truncation is refused. */
    for (size_t cut = 0; cut < w.len; cut++)
        assert_int_not_equal(xs_rotation_open(w.data, cut, &r), XS_OK);
    /* A key cannot succeed itself; numbers start at 1. */
    xs_writer_reset(&w);
    assert_int_equal(xs_rotation_sign(&w, a, a, 1, 0), XS_EINVAL);
    assert_int_equal(xs_rotation_sign(&w, a, b, 0, 0), XS_EINVAL);
    xs_writer_free(&w);
    xs_identity_destroy(&a);
    xs_identity_destroy(&b);
}

static void test_node_follows_chain_from_any_key_it_held(void **state) {
    (void)state;
    xs_identity_t *k[3] = {s_key(1), s_key(2), s_key(3)}, *other = s_key(9);
    xs_writer_t chain;
    xs_rotation_t steps[XS_ROTATION_CHAIN_MAX];
    uint8_t current[32];
    size_t n;
    s_chain(&chain, k);
    /* From the key given at init, from the middle one, from the one in force. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xs_rotation_follow(chain.data, chain.len, s_pk(k[i]), current, steps,
                                            XS_ROTATION_CHAIN_MAX, &n),
                         XS_OK);
        assert_memory_equal(current, s_pk(k[2]), 32);
        assert_int_equal(n, 2);
    }
    /* The hub reads its own chain from its first key; the header says how many it holds. */
    uint32_t count;
    assert_int_equal(
        xs_rotation_follow(chain.data, chain.len, NULL, current, steps, XS_ROTATION_CHAIN_MAX, &n),
        XS_OK);
    assert_memory_equal(current, s_pk(k[2]), 32);
    assert_int_equal(xs_rotation_chain_count(chain.data, chain.len, &count), XS_OK);
    assert_int_equal(count, 2);
    assert_int_equal(xs_rotation_chain_count(NULL, 0, &count), XS_OK);
    assert_int_equal(count, 0);
    assert_int_equal(xs_rotation_chain_count("\xc0", 1, &count), XS_EMALFORMED);
    assert_int_equal(xs_rotation_follow(NULL, 0, NULL, current, steps, XS_ROTATION_CHAIN_MAX, &n),
                     XS_EINVAL);
    /* Another hub's key is not in the chain. */
    assert_int_equal(xs_rotation_follow(chain.data, chain.len, s_pk(other), current, steps,
                                        XS_ROTATION_CHAIN_MAX, &n),
                     XS_ECRYPTO);
    /* No chain: the trusted key stays in force. */
    assert_int_equal(
        xs_rotation_follow(NULL, 0, s_pk(k[0]), current, steps, XS_ROTATION_CHAIN_MAX, &n), XS_OK);
    assert_memory_equal(current, s_pk(k[0]), 32);
    /* Old receipts stay good as historical: a retired key is trusted for what it signed
     * while in force, not after. */
    assert_int_equal(xs_rotation_follow(chain.data, chain.len, s_pk(k[0]), current, steps,
                                        XS_ROTATION_CHAIN_MAX, &n),
                     XS_OK);
    assert_true(xs_rotation_trusts(current, steps, n, s_pk(k[2]), 99999));
    assert_true(xs_rotation_trusts(current, steps, n, s_pk(k[0]), 1000));
    assert_false(xs_rotation_trusts(current, steps, n, s_pk(k[0]), 1001));
    assert_true(xs_rotation_trusts(current, steps, n, s_pk(k[1]), 1001));
    assert_false(xs_rotation_trusts(current, steps, n, s_pk(other), 0));
    xs_writer_free(&chain);
    for (int i = 0; i < 3; i++)
        xs_identity_destroy(&k[i]);
    xs_identity_destroy(&other);
}

/* A statement that does not continue the chain is refused: skipped number, another key. */
static void test_broken_chain_refused(void **state) {
    (void)state;
    xs_identity_t *k[3] = {s_key(1), s_key(2), s_key(3)}, *other = s_key(9);
    xs_writer_t chain, stray, grown;
    s_chain(&chain, k);
    xs_writer_init(&stray, XS_ROTATION_MAX_BYTES);
    xs_writer_init(&grown, XS_ROTATION_CHAIN_MAX_BYTES);
    /* Retiring k1 again (k2 is in force) as number 3. */
    assert_int_equal(xs_rotation_sign(&stray, k[1], other, 3, 2000), XS_OK);
    assert_int_equal(xs_rotation_chain_append(&grown, chain.data, chain.len, stray.data, stray.len),
                     XS_EINVAL);
    /* The right key, the wrong number. */
    xs_writer_reset(&stray);
    xs_writer_reset(&grown);
    assert_int_equal(xs_rotation_sign(&stray, k[2], other, 5, 2000), XS_OK);
    assert_int_equal(xs_rotation_chain_append(&grown, chain.data, chain.len, stray.data, stray.len),
                     XS_EINVAL);
    /* A truncated chain does not parse. */
    uint8_t current[32];
    xs_rotation_t steps[4];
    size_t n;
    for (size_t cut = 1; cut < chain.len; cut++)
        assert_int_not_equal(xs_rotation_follow(chain.data, cut, s_pk(k[0]), current, steps, 4, &n),
                             XS_OK);
    xs_writer_free(&stray);
    xs_writer_free(&grown);
    xs_writer_free(&chain);
    for (int i = 0; i < 3; i++)
        xs_identity_destroy(&k[i]);
    xs_identity_destroy(&other);
}

/* The golden vector (schema/vectors/rotation.txt): keys from seeds 01.. and 02.., rotation 1
 * at 1700000000, gives these bytes; they open to those fields. */
static void test_golden_vector(void **state) {
    (void)state;
    char path[4096], line[1024], hex[2 * XS_ROTATION_MAX_BYTES + 1];
    const char *root = getenv("XS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/schema/vectors/rotation.txt", root ? root : XS_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    hex[0] = '\0';
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "hex: ", 5) == 0)
            snprintf(hex, sizeof hex, "%.*s", (int)strcspn(line + 5, "\r\n"), line + 5);
    fclose(f);
    xs_identity_t *a = s_key(1), *b = s_key(2);
    xs_writer_t w;
    xs_writer_init(&w, XS_ROTATION_MAX_BYTES);
    assert_int_equal(xs_rotation_sign(&w, a, b, 1, 1700000000), XS_OK);
    char got[2 * XS_ROTATION_MAX_BYTES + 1];
    xs_hex_encode(w.data, w.len, got);
    if (strcmp(got, hex) != 0)
        fail_msg("rotation vector differs: got\n%s", got);
    xs_writer_free(&w);
    xs_identity_destroy(&a);
    xs_identity_destroy(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statement_opens_and_names_both_keys),
        cmocka_unit_test(test_node_follows_chain_from_any_key_it_held),
        cmocka_unit_test(test_broken_chain_refused),
        cmocka_unit_test(test_golden_vector),
    };
    return cmocka_run_group_tests_name("rotation", tests, NULL, NULL);
}
