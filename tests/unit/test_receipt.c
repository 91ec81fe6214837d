/* test_receipt: hub-signed receipts, their records_hash, building one from a certified ledger,
 * signed policy envelopes, a receipt as text, and receipts under a signed Merkle root with
 * their golden vectors (schema/protocol.md §4, §4.1, §4.2, §5; schema/vectors/receipt-root.txt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/certify.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/receipt.h"
#include "xs/text.h"

typedef struct fixture {
    xs_identity_t *hub;
    xs_identity_t *other;
    xs_receipt_t receipt; /* filled by s_sample */
    xs_receipt_t opened;
} fixture_t;

static xs_identity_t *s_key(uint8_t fill) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->hub = s_key(0x33);
    fx->other = s_key(0x44);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_identity_destroy(&fx->hub);
    xs_identity_destroy(&fx->other);
    free(fx);
    return 0;
}

static xs_str_t s_str(const char *s) {
    xs_str_t out = {s, (uint32_t)strlen(s)};
    return out;
}

/* A receipt of two years and a cycle, with year, semester and cycle totals. */
static void s_sample(xs_receipt_t *r) {
    memset(r, 0, sizeof *r);
    r->teacher_id = s_str("T0001");
    r->policy_id = s_str("wenzhou");
    r->policy_version = 3;
    memset(r->policy_hash, 0x5a, sizeof r->policy_hash);
    r->generation = 42;
    r->issued_at = 1741770000;
    r->period_count = 3;
    r->periods[0] = (xs_receipt_period_t){XS_SCOPE_YEAR, 2023, 4, {1}, 0, {0}};
    r->periods[1] = (xs_receipt_period_t){XS_SCOPE_YEAR, 2024, 1, {2}, 0, {0}};
    r->periods[2] = (xs_receipt_period_t){XS_SCOPE_CYCLE, 2021, 5, {3}, 0, {0}};
    r->total_count = 4;
    r->totals[0] = (xs_receipt_total_t){.credited_seconds = 2880,
                                        .required_seconds = 2880,
                                        .year = 2023,
                                        .scope = XS_SCOPE_YEAR,
                                        .met = XS_MET_YES};
    r->totals[1] = (xs_receipt_total_t){.credited_seconds = 90,
                                        .required_seconds = 0,
                                        .year = 2023,
                                        .scope = XS_SCOPE_SEMESTER,
                                        .semester = 2,
                                        .bucket = 1,
                                        .met = XS_MET_NONE};
    r->totals[2] = (xs_receipt_total_t){.credited_seconds = 1ull << 40,
                                        .required_seconds = 1,
                                        .year = 2024,
                                        .scope = XS_SCOPE_YEAR,
                                        .met = XS_MET_YES};
    r->totals[3] = (xs_receipt_total_t){.credited_seconds = 0,
                                        .required_seconds = 21600,
                                        .year = 2021,
                                        .scope = XS_SCOPE_CYCLE,
                                        .bucket = 15,
                                        .met = XS_MET_NO};
}

static void s_assert_same(const xs_receipt_t *a, const xs_receipt_t *b) {
    assert_int_equal(a->teacher_id.len, b->teacher_id.len);
    assert_memory_equal(a->teacher_id.ptr, b->teacher_id.ptr, a->teacher_id.len);
    assert_int_equal(a->policy_id.len, b->policy_id.len);
    assert_memory_equal(a->policy_id.ptr, b->policy_id.ptr, a->policy_id.len);
    assert_int_equal(a->policy_version, b->policy_version);
    assert_memory_equal(a->policy_hash, b->policy_hash, 32);
    assert_int_equal(a->generation, b->generation);
    assert_int_equal(a->issued_at, b->issued_at);
    assert_int_equal(a->period_count, b->period_count);
    for (uint32_t i = 0; i < a->period_count; i++) {
        assert_int_equal(a->periods[i].scope, b->periods[i].scope);
        assert_int_equal(a->periods[i].year, b->periods[i].year);
        assert_int_equal(a->periods[i].record_count, b->periods[i].record_count);
        assert_memory_equal(a->periods[i].records_hash, b->periods[i].records_hash, 32);
        assert_int_equal(a->periods[i].closed, b->periods[i].closed);
        assert_memory_equal(a->periods[i].closed_hash, b->periods[i].closed_hash, 32);
    }
    assert_int_equal(a->total_count, b->total_count);
    for (uint32_t i = 0; i < a->total_count; i++) {
        const xs_receipt_total_t *x = &a->totals[i], *y = &b->totals[i];
        assert_int_equal(x->credited_seconds, y->credited_seconds);
        assert_int_equal(x->required_seconds, y->required_seconds);
        assert_int_equal(x->year, y->year);
        assert_int_equal(x->scope, y->scope);
        assert_int_equal(x->semester, y->semester);
        assert_int_equal(x->bucket, y->bucket);
        assert_int_equal(x->met, y->met);
        assert_int_equal(x->binding, y->binding);
        assert_int_equal(x->single_met, y->single_met);
    }
}

/* Signs r with the fixture's hub into env (caller frees). */
static void s_sign(const fixture_t *fx, const xs_receipt_t *r, xs_writer_t *env) {
    xs_writer_init(env, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_sign(env, fx->hub, r), XS_OK);
}

static void test_round_trip(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    s_sample(&fx->receipt);
    s_sign(fx, &fx->receipt, &env);
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    assert_int_equal(xs_receipt_open(env.data, env.len, hub, &fx->opened), XS_OK);
    s_assert_same(&fx->receipt, &fx->opened);
    assert_memory_equal(fx->opened.hub, hub, 32);
    /* Strings borrow the envelope. */
    assert_true(fx->opened.teacher_id.ptr > (const char *)env.data &&
                fx->opened.teacher_id.ptr < (const char *)env.data + env.len);
    /* Any hub: the caller reads which one signed. */
    memset(&fx->opened, 0, sizeof fx->opened);
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_OK);
    assert_memory_equal(fx->opened.hub, hub, 32);
    /* Signing is deterministic. */
    xs_writer_t again;
    s_sign(fx, &fx->receipt, &again);
    assert_int_equal(again.len, env.len);
    assert_memory_equal(again.data, env.data, env.len);
    xs_writer_free(&again);
    xs_writer_free(&env);
}

static void test_tampered(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    s_sample(&fx->receipt);
    s_sign(fx, &fx->receipt, &env);
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    uint8_t *copy = malloc(env.len);
    assert_non_null(copy);
    for (size_t i = 0; i < env.len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(copy, env.data, env.len);
            copy[i] ^= (uint8_t)(1u << bit);
            xs_err err = xs_receipt_open(copy, env.len, hub, &fx->opened);
            if (err != XS_ECRYPTO && err != XS_EMALFORMED && err != XS_EVERSION)
                fail_msg("byte %zu bit %u: %d", i, bit, err);
            err = xs_receipt_open(copy, env.len, NULL, &fx->opened);
            if (err != XS_ECRYPTO && err != XS_EMALFORMED && err != XS_EVERSION)
                fail_msg("byte %zu bit %u, any hub: %d", i, bit, err);
        }
    }
    /* The last byte is the signature's: a signature failure. */
    memcpy(copy, env.data, env.len);
    copy[env.len - 1] ^= 1;
    assert_int_equal(xs_receipt_open(copy, env.len, hub, &fx->opened), XS_ECRYPTO);
    for (size_t n = 0; n < env.len; n++)
        assert_int_equal(xs_receipt_open(env.data, n, hub, &fx->opened), XS_EMALFORMED);
    free(copy);
    xs_writer_free(&env);
}

static void test_wrong_hub(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env, forged;
    s_sample(&fx->receipt);
    s_sign(fx, &fx->receipt, &env);
    const uint8_t *other = xs_identity_public(fx->other)->sign;
    assert_int_equal(xs_receipt_open(env.data, env.len, other, &fx->opened), XS_ECRYPTO);

    /* Another key signs a body naming the hub, or its own. */
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_OK);
    xs_reader_t r;
    uint32_t n, body_len;
    const uint8_t *body;
    xs_reader_init(&r, env.data, env.len);
    assert_int_equal(xs_codec_get_array(&r, &n), XS_OK);
    assert_int_equal(xs_codec_get_bin(&r, &body, &body_len), XS_OK);
    static const char context[] = "xueshi-receipt-1";
    uint8_t *signed_bytes = malloc(sizeof context + body_len);
    assert_non_null(signed_bytes);
    memcpy(signed_bytes, context, sizeof context);
    memcpy(signed_bytes + sizeof context, body, body_len);
    uint8_t sig[64];
    xs_identity_sign(fx->other, signed_bytes, sizeof context + body_len, sig);
    xs_writer_init(&forged, XS_RECEIPT_MAX_BYTES);
    xs_codec_put_array(&forged, 2);
    xs_codec_put_bin(&forged, body, body_len);
    xs_codec_put_bin(&forged, sig, 64);
    assert_int_equal(xs_receipt_open(forged.data, forged.len, NULL, &fx->opened), XS_ECRYPTO);
    assert_int_equal(
        xs_receipt_open(forged.data, forged.len, xs_identity_public(fx->hub)->sign, &fx->opened),
        XS_ECRYPTO);
    free(signed_bytes);
    xs_writer_free(&forged);

    /* The other key's own receipt opens with NULL (the caller then sees the hub) only. */
    xs_writer_t theirs;
    xs_writer_init(&theirs, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_sign(&theirs, fx->other, &fx->receipt), XS_OK);
    assert_int_equal(xs_receipt_open(theirs.data, theirs.len, NULL, &fx->opened), XS_OK);
    assert_memory_equal(fx->opened.hub, other, 32);
    assert_int_equal(
        xs_receipt_open(theirs.data, theirs.len, xs_identity_public(fx->hub)->sign, &fx->opened),
        XS_ECRYPTO);
    xs_writer_free(&theirs);

    /* A batch signature (another context) over the same body is no receipt signature. */
    static const char batch_context[] = "xueshi-batch-1";
    signed_bytes = malloc(sizeof batch_context + body_len);
    assert_non_null(signed_bytes);
    memcpy(signed_bytes, batch_context, sizeof batch_context);
    memcpy(signed_bytes + sizeof batch_context, body, body_len);
    xs_identity_sign(fx->hub, signed_bytes, sizeof batch_context + body_len, sig);
    xs_writer_init(&forged, XS_RECEIPT_MAX_BYTES);
    xs_codec_put_array(&forged, 2);
    xs_codec_put_bin(&forged, body, body_len);
    xs_codec_put_bin(&forged, sig, 64);
    assert_int_equal(xs_receipt_open(forged.data, forged.len, NULL, &fx->opened), XS_ECRYPTO);
    free(signed_bytes);
    xs_writer_free(&forged);
    xs_writer_free(&env);
}

/* What may not be signed: the rules the decoder also enforces. */
static void test_sign_refuses(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    xs_receipt_t *r = &fx->receipt;
    xs_writer_init(&env, XS_RECEIPT_MAX_BYTES);
    static const char id65[] = "12345678901234567890123456789012345678901234567890123456789012345";

    s_sample(r);
    r->teacher_id = s_str("");
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->teacher_id = s_str(id65);
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    r->teacher_id.len = 64;
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_OK);
    s_sample(r);
    r->teacher_id = s_str("T\xff");
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->policy_id = s_str("123456789012345678901234567890123");
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->periods[1].year = 2023; /* years not strictly ascending */
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->periods[0].scope = XS_SCOPE_CYCLE; /* a cycle before a year */
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->periods[0].scope = XS_SCOPE_SEMESTER;
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->totals[0].semester = 1; /* a year row with a semester */
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->totals[1].semester = 0; /* a semester row without one */
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->totals[0].met = 3;
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->totals[0].bucket = XS_POLICY_BUCKETS_MAX;
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->period_count = XS_RECEIPT_PERIODS_MAX + 1;
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    s_sample(r);
    r->total_count = XS_RECEIPT_TOTALS_MAX + 1;
    assert_int_equal(xs_receipt_sign(&env, fx->hub, r), XS_EINVAL);
    xs_writer_free(&env);
}

/* The largest receipt, every integer at its widest, fits XS_RECEIPT_MAX_BYTES and opens. */
static void test_limits(void **state) {
    fixture_t *fx = *state;
    xs_receipt_t *r = &fx->receipt;
    static char teacher[XS_ID_MAX + 1], policy_id[XS_POLICY_ID_MAX + 1];
    memset(teacher, 'T', XS_ID_MAX);
    memset(policy_id, 'p', XS_POLICY_ID_MAX);
    memset(r, 0, sizeof *r);
    r->teacher_id = s_str(teacher);
    r->policy_id = s_str(policy_id);
    r->policy_version = UINT32_MAX;
    r->generation = UINT64_MAX;
    r->issued_at = INT64_MIN;
    r->period_count = XS_RECEIPT_PERIODS_MAX;
    for (uint32_t i = 0; i < XS_RECEIPT_PERIODS_MAX; i++) {
        r->periods[i].scope = i < 64 ? XS_SCOPE_YEAR : XS_SCOPE_CYCLE;
        r->periods[i].year = INT32_MIN + (int32_t)(i % 64) * 1000;
        r->periods[i].record_count = UINT32_MAX;
    }
    r->total_count = XS_RECEIPT_TOTALS_MAX;
    for (uint32_t i = 0; i < XS_RECEIPT_TOTALS_MAX; i++) {
        r->totals[i] = (xs_receipt_total_t){
            UINT64_MAX, UINT32_MAX, INT32_MIN, XS_SCOPE_SEMESTER, 2, XS_POLICY_BUCKETS_MAX - 1,
            XS_MET_YES, 1,          XS_MET_YES};
    }
    xs_writer_t env;
    s_sign(fx, r, &env);
    assert_true(env.len <= XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_OK);
    s_assert_same(r, &fx->opened);
    xs_writer_free(&env);
    /* Over the size limit before anything is read. */
    uint8_t *big = calloc(1, XS_RECEIPT_MAX_BYTES + 1);
    assert_non_null(big);
    assert_int_equal(xs_receipt_open(big, XS_RECEIPT_MAX_BYTES + 1, NULL, &fx->opened), XS_ETOOBIG);
    free(big);
}

/* Builds a signed envelope around a body the test writes by hand. */
static void s_wrap_receipt(const fixture_t *fx, const xs_writer_t *body, xs_writer_t *env) {
    static const char context[] = "xueshi-receipt-1";
    uint8_t *signed_bytes = malloc(sizeof context + body->len);
    uint8_t sig[64];
    assert_non_null(signed_bytes);
    memcpy(signed_bytes, context, sizeof context);
    memcpy(signed_bytes + sizeof context, body->data, body->len);
    xs_identity_sign(fx->hub, signed_bytes, sizeof context + body->len, sig);
    free(signed_bytes);
    xs_writer_init(env, XS_RECEIPT_MAX_BYTES);
    xs_codec_put_array(env, 2);
    xs_codec_put_bin(env, body->data, body->len);
    xs_codec_put_bin(env, sig, 64);
}

static void test_body_rules(void **state) {
    fixture_t *fx = *state;
    xs_writer_t body, env;
    /* Format 4 is another version. */
    xs_writer_init(&body, 1024);
    xs_codec_put_array(&body, 10);
    xs_codec_put_uint(&body, 4);
    xs_codec_put_bin(&body, xs_identity_public(fx->hub)->sign, 32);
    s_wrap_receipt(fx, &body, &env);
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_EVERSION);
    xs_writer_free(&env);
    xs_writer_free(&body);

    /* A signed body with a period count over the limit, or trailing bytes, is malformed. */
    xs_writer_init(&body, 1024);
    xs_codec_put_array(&body, 10);
    xs_codec_put_uint(&body, 1);
    xs_codec_put_bin(&body, xs_identity_public(fx->hub)->sign, 32);
    xs_codec_put_str(&body, "T1", 2);
    xs_codec_put_str(&body, "p", 1);
    xs_codec_put_uint(&body, 1);
    uint8_t hash[32] = {0};
    xs_codec_put_bin(&body, hash, 32);
    xs_codec_put_uint(&body, 1);
    xs_codec_put_int(&body, 0);
    size_t mark = body.len;
    xs_codec_put_array(&body, 0);
    xs_codec_put_array(&body, 0);
    s_wrap_receipt(fx, &body, &env);
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_OK);
    xs_writer_free(&env);
    xs_codec_put_nil(&body); /* trailing */
    s_wrap_receipt(fx, &body, &env);
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_EMALFORMED);
    xs_writer_free(&env);
    body.len = mark;
    xs_writer_raw(&body, "\xdc\x00\x81", 3); /* 129 periods claimed, none there */
    s_wrap_receipt(fx, &body, &env);
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_EMALFORMED);
    xs_writer_free(&env);
    xs_writer_free(&body);
}

/* Body format of an envelope: its body's second byte (a fixarray of 10, then the format). */
static unsigned s_format(const xs_writer_t *env) {
    const uint8_t *body, *sig;
    size_t len;
    assert_int_equal(xs_codec_split_envelope(env->data, env->len, &body, &len, &sig, 64), XS_OK);
    return body[1];
}

/* A closed year's period carries the year document's hash (format 3, 定案); a receipt
 * without one stays format 2; format 3 without a closed period, or a closed cycle, is refused. */
static void test_closed_year(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    s_sample(&fx->receipt);
    s_sign(fx, &fx->receipt, &env);
    assert_int_equal(s_format(&env), 2);
    xs_writer_free(&env);

    fx->receipt.periods[1].closed = 1;
    memset(fx->receipt.periods[1].closed_hash, 0xc1, 32);
    s_sign(fx, &fx->receipt, &env);
    assert_int_equal(s_format(&env), 3);
    assert_int_equal(
        xs_receipt_open(env.data, env.len, xs_identity_public(fx->hub)->sign, &fx->opened), XS_OK);
    s_assert_same(&fx->receipt, &fx->opened);
    assert_int_equal(fx->opened.periods[0].closed, 0);
    assert_int_equal(fx->opened.periods[1].closed, 1);
    /* Flipping a byte of the closed hash breaks the signature. */
    env.data[env.len - 64 - 40] ^= 1;
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_ECRYPTO);
    xs_writer_free(&env);

    /* Only a year is closed. */
    fx->receipt.periods[2].closed = 1;
    xs_writer_init(&env, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_sign(&env, fx->hub, &fx->receipt), XS_EINVAL);
    xs_writer_free(&env);

    /* Format 3 whose periods are all open is malformed: the lowest format that carries it. */
    xs_writer_t body;
    uint8_t hash[32] = {0};
    xs_writer_init(&body, 1024);
    xs_codec_put_array(&body, 10);
    xs_codec_put_uint(&body, 3);
    xs_codec_put_bin(&body, xs_identity_public(fx->hub)->sign, 32);
    xs_codec_put_str(&body, "T1", 2);
    xs_codec_put_str(&body, "p", 1);
    xs_codec_put_uint(&body, 1);
    xs_codec_put_bin(&body, hash, 32);
    xs_codec_put_uint(&body, 1);
    xs_codec_put_int(&body, 0);
    xs_codec_put_array(&body, 1);
    xs_codec_put_array(&body, 5);
    xs_codec_put_uint(&body, XS_SCOPE_YEAR);
    xs_codec_put_int(&body, 2025);
    xs_codec_put_uint(&body, 0);
    xs_codec_put_bin(&body, hash, 32);
    size_t mark = body.len;
    xs_codec_put_nil(&body);
    xs_codec_put_array(&body, 0);
    s_wrap_receipt(fx, &body, &env);
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_EMALFORMED);
    xs_writer_free(&env);
    body.len = mark;
    xs_codec_put_bin(&body, hash, 32);
    xs_codec_put_array(&body, 0);
    s_wrap_receipt(fx, &body, &env);
    assert_int_equal(xs_receipt_open(env.data, env.len, NULL, &fx->opened), XS_OK);
    assert_int_equal(fx->opened.periods[0].closed, 1);
    xs_writer_free(&env);
    xs_writer_free(&body);
}

static void test_records_hash(void **state) {
    (void)state;
    uint8_t a[32], b[32];
    memset(a, 0xaa, 32);
    memset(b, 0x01, 32);
    xs_receipt_ident_t ids[3] = {{a, 2}, {b, 0x0102030405060708ull}, {a, 1}};
    xs_receipt_ident_t shuffled[3] = {ids[2], ids[0], ids[1]};
    uint8_t h1[32], h2[32], expect[32];
    assert_int_equal(xs_receipt_records_hash(ids, 3, h1), XS_OK);
    assert_int_equal(xs_receipt_records_hash(shuffled, 3, h2), XS_OK);
    assert_memory_equal(h1, h2, 32);
    /* By hand: (b, 0x0102..08), (a, 1), (a, 2), 40 bytes each, big-endian seqs. */
    uint8_t buf[120];
    memcpy(buf, b, 32);
    memcpy(buf + 32, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    memcpy(buf + 40, a, 32);
    memcpy(buf + 72, "\0\0\0\0\0\0\0\x01", 8);
    memcpy(buf + 80, a, 32);
    memcpy(buf + 112, "\0\0\0\0\0\0\0\x02", 8);
    xs_identity_hash(buf, sizeof buf, expect);
    assert_memory_equal(h1, expect, 32);
    /* Nothing hashes zero bytes. */
    assert_int_equal(xs_receipt_records_hash(NULL, 0, h1), XS_OK);
    xs_identity_hash("", 0, expect);
    assert_memory_equal(h1, expect, 32);
}

/* ---- building from the certification engine ---- */

#define S_BUILD_RECORDS 6

typedef struct s_build {
    const fixture_t *fx;
    const xs_policy_t *policy;
    uint8_t policy_hash[32];
    const xs_certify_row_t *rows;
    const xs_receipt_ident_t *ids;
    xs_receipt_t *receipt;
    xs_receipt_t *opened;
    unsigned teachers;
} s_build_t;

/* records_hash of the teacher's records whose year (or cycle) is key. */
static void s_expected_period(const s_build_t *b, const xs_certify_teacher_t *t, int cycle, int key,
                              uint32_t *count, uint8_t hash[32]) {
    xs_receipt_ident_t picked[S_BUILD_RECORDS];
    size_t n = 0;
    for (size_t k = 0; k < t->record_count; k++) {
        uint32_t i = t->records[k];
        int year = b->rows[i].year;
        if (year == 0)
            continue;
        if ((cycle ? xs_policy_cycle_of(b->policy, year) : year) == key)
            picked[n++] = b->ids[i];
    }
    *count = (uint32_t)n;
    assert_int_equal(xs_receipt_records_hash(picked, n, hash), XS_OK);
}

static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *t) {
    s_build_t *b = ctx;
    xs_writer_t env;
    b->teachers++;
    assert_int_equal(
        xs_receipt_build(b->receipt, b->policy, b->policy_hash, t, b->rows, b->ids, 7, 1741770000),
        XS_OK);
    xs_writer_init(&env, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_sign(&env, b->fx->hub, b->receipt), XS_OK);
    assert_int_equal(
        xs_receipt_open(env.data, env.len, xs_identity_public(b->fx->hub)->sign, b->opened), XS_OK);
    const xs_receipt_t *r = b->opened;
    assert_int_equal(r->teacher_id.len, t->teacher_id.len);
    assert_memory_equal(r->teacher_id.ptr, t->teacher_id.ptr, t->teacher_id.len);
    assert_int_equal(r->policy_id.len, strlen(b->policy->id));
    assert_memory_equal(r->policy_id.ptr, b->policy->id, r->policy_id.len);
    assert_int_equal(r->policy_version, b->policy->version);
    assert_memory_equal(r->policy_hash, b->policy_hash, 32);
    assert_int_equal(r->generation, 7);
    /* Totals row for row. */
    assert_int_equal(r->total_count, t->total_count);
    for (size_t i = 0; i < t->total_count; i++) {
        assert_int_equal(r->totals[i].credited_seconds, t->totals[i].credited_seconds);
        assert_int_equal(r->totals[i].required_seconds, t->totals[i].required_seconds);
        assert_int_equal(r->totals[i].year, t->totals[i].year);
        assert_int_equal(r->totals[i].scope, t->totals[i].scope);
        assert_int_equal(r->totals[i].semester, t->totals[i].semester);
        assert_int_equal(r->totals[i].bucket, t->totals[i].bucket);
        assert_int_equal(r->totals[i].met, t->totals[i].met);
    }
    /* Periods: T0001 has dated records in 2023, 2024 and 2026 (cycles 2021 and 2026) and
     * one undated record; T0002 one record in 2024. */
    static const struct {
        uint8_t scope;
        int year;
    } t1[] = {{0, 2023}, {0, 2024}, {0, 2026}, {2, 2021}, {2, 2026}}, t2[] = {{0, 2024}, {2, 2021}};
    int first = t->teacher_id.len == 5 && memcmp(t->teacher_id.ptr, "T0001", 5) == 0;
    size_t expect_count = first ? 5 : 2;
    assert_int_equal(r->period_count, expect_count);
    for (size_t i = 0; i < expect_count; i++) {
        uint8_t scope = first ? t1[i].scope : t2[i].scope;
        int year = first ? t1[i].year : t2[i].year;
        uint32_t count;
        uint8_t hash[32];
        assert_int_equal(r->periods[i].scope, scope);
        assert_int_equal(r->periods[i].year, year);
        s_expected_period(b, t, scope == XS_SCOPE_CYCLE, year, &count, hash);
        assert_true(count > 0);
        assert_int_equal(r->periods[i].record_count, count);
        assert_memory_equal(r->periods[i].records_hash, hash, 32);
    }
    if (first)
        assert_int_equal(r->periods[3].record_count, 3); /* 2023 once, 2024 twice: cycle 2021 */
    xs_writer_free(&env);
    return XS_OK;
}

static xs_record_t s_lecture(const char *teacher, int year, unsigned month, unsigned day) {
    xs_record_t rec;
    xs_record_init(&rec);
    rec.present |= 1u << XS_F_TEACHER_ID | 1u << XS_F_CATEGORY | 1u << XS_F_MINUTES;
    rec.teacher_id.ptr = teacher;
    rec.teacher_id.len = (uint32_t)strlen(teacher);
    rec.category = XS_CAT_LECTURE;
    rec.minutes = 90;
    if (year) {
        rec.present |= 1u << XS_F_DATE;
        rec.date = xs_date_from_civil(year, month, day);
    }
    return rec;
}

static void test_build_from_certify(void **state) {
    fixture_t *fx = *state;
    char path[512], errbuf[512];
    const char *root = getenv("XS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/schema/policies/wenzhou.ini", root ? root : XS_SOURCE_DIR);
    xs_policy_t *policy = NULL;
    if (xs_policy_load(&policy, path, errbuf, sizeof errbuf) != XS_OK)
        fail_msg("%s", errbuf);

    xs_record_t recs[S_BUILD_RECORDS] = {
        s_lecture("T0001", 2023, 10, 10), s_lecture("T0001", 2025, 3, 12),
        s_lecture("T0002", 2025, 3, 12),  s_lecture("T0001", 2026, 10, 1),
        s_lecture("T0001", 0, 0, 0),      s_lecture("T0001", 2025, 5, 20),
    };
    uint8_t node_a[32], node_b[32];
    memset(node_a, 0xa0, 32);
    memset(node_b, 0xb0, 32);
    xs_receipt_ident_t ids[S_BUILD_RECORDS] = {{node_b, 9}, {node_a, 3}, {node_a, 4},
                                               {node_a, 5}, {node_b, 1}, {node_a, 300}};
    xs_certify_row_t rows[S_BUILD_RECORDS];
    s_build_t b = {.fx = fx, .policy = policy, .rows = rows, .ids = ids};
    b.receipt = &fx->receipt;
    b.opened = &fx->opened;
    assert_int_equal(xs_policy_hash(policy, b.policy_hash), XS_OK);
    assert_int_equal(
        xs_certify_run(policy, NULL, recs, NULL, S_BUILD_RECORDS, NULL, rows, s_on_teacher, &b),
        XS_OK);
    assert_int_equal(b.teachers, 2);
    xs_policy_destroy(&policy);
}

/* ---- policy envelopes ---- */

static void test_policy_envelope(void **state) {
    fixture_t *fx = *state;
    static const uint8_t blob[] = {0x93, 0x01, 0xa7, 'w', 'e', 'n', 'z', 'h', 'o', 'u', 0x01};
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    const uint8_t *got;
    size_t got_len;
    xs_writer_t env;
    xs_writer_init(&env, XS_RECEIPT_POLICY_MAX_BYTES);
    assert_int_equal(xs_receipt_policy_sign(&env, fx->hub, blob, sizeof blob), XS_OK);
    assert_int_equal(xs_receipt_policy_open(env.data, env.len, hub, &got, &got_len), XS_OK);
    assert_int_equal(got_len, sizeof blob);
    assert_memory_equal(got, blob, sizeof blob);
    assert_int_equal(xs_receipt_policy_open(env.data, env.len, xs_identity_public(fx->other)->sign,
                                            &got, &got_len),
                     XS_ECRYPTO);
    for (size_t i = 0; i < env.len; i++) {
        uint8_t *copy = malloc(env.len);
        assert_non_null(copy);
        memcpy(copy, env.data, env.len);
        copy[i] ^= 0x04;
        xs_err err = xs_receipt_policy_open(copy, env.len, hub, &got, &got_len);
        assert_true(err == XS_ECRYPTO || err == XS_EMALFORMED);
        free(copy);
    }
    for (size_t n = 0; n < env.len; n++)
        assert_int_equal(xs_receipt_policy_open(env.data, n, hub, &got, &got_len), XS_EMALFORMED);
    /* A receipt's signature is no policy signature, and the other way round. */
    xs_writer_t receipt;
    s_sample(&fx->receipt);
    s_sign(fx, &fx->receipt, &receipt);
    assert_int_equal(xs_receipt_policy_open(receipt.data, receipt.len, hub, &got, &got_len),
                     XS_ECRYPTO);
    xs_writer_free(&receipt);
    xs_writer_free(&env);

    uint8_t *big = calloc(1, XS_POLICY_BLOB_MAX + 1);
    assert_non_null(big);
    xs_writer_init(&env, 2 * XS_RECEIPT_POLICY_MAX_BYTES);
    assert_int_equal(xs_receipt_policy_sign(&env, fx->hub, big, XS_POLICY_BLOB_MAX + 1),
                     XS_ETOOBIG);
    assert_int_equal(xs_receipt_policy_sign(&env, fx->hub, big, XS_POLICY_BLOB_MAX), XS_OK);
    assert_int_equal(xs_receipt_policy_open(env.data, env.len, hub, &got, &got_len), XS_OK);
    assert_int_equal(got_len, XS_POLICY_BLOB_MAX);
    free(big);
    xs_writer_free(&env);
}

/* A receipt as text (protocol.md §4.1): "XS1:" and base45; decoding gives the very bytes,
 * which open; white space around it (a scanner's line end) is ignored. */
static void test_text_round_trip(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    char text[XS_RECEIPT_TEXT_MAX + 1], padded[XS_RECEIPT_TEXT_MAX + 16];
    uint8_t back[XS_RECEIPT_TEXT_BYTES_MAX];
    size_t text_len, back_len;
    s_sample(&fx->receipt);
    s_sign(fx, &fx->receipt, &env);
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    assert_int_equal(xs_receipt_text_encode(env.data, env.len, text, sizeof text, &text_len),
                     XS_OK);
    assert_int_equal(text_len, strlen(text));
    assert_int_equal(text_len, 4 + xs_text_base45_len(env.len));
    assert_memory_equal(text, "XS1:", 4);
    assert_int_equal(xs_receipt_text_decode(text, text_len, back, sizeof back, &back_len), XS_OK);
    assert_int_equal(back_len, env.len);
    assert_memory_equal(back, env.data, env.len);
    assert_int_equal(xs_receipt_open(back, back_len, hub, &fx->opened), XS_OK);
    s_assert_same(&fx->receipt, &fx->opened);
    int n = snprintf(padded, sizeof padded, " \t%s\r\n", text);
    assert_int_equal(xs_receipt_text_decode(padded, (size_t)n, back, sizeof back, &back_len),
                     XS_OK);
    assert_int_equal(back_len, env.len);
    assert_memory_equal(back, env.data, env.len);
    /* A short buffer for either is refused, not cut. */
    assert_int_equal(xs_receipt_text_encode(env.data, env.len, text, text_len, NULL), XS_ETOOBIG);
    assert_int_equal(xs_receipt_text_decode(text, text_len, back, env.len - 1, &back_len),
                     XS_ETOOBIG);
    xs_writer_free(&env);
}

/* Every character of the text changed to every other character of the alphabet (and to a few
 * outside it): refused as text, or bytes whose signature fails. Never a receipt. */
static void test_text_every_change(void **state) {
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:az=\x80";
    fixture_t *fx = *state;
    xs_writer_t env;
    char text[XS_RECEIPT_TEXT_MAX + 1];
    uint8_t back[XS_RECEIPT_TEXT_BYTES_MAX];
    size_t text_len, back_len, refused_text = 0, refused_open = 0;
    s_sample(&fx->receipt);
    s_sign(fx, &fx->receipt, &env);
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    assert_int_equal(xs_receipt_text_encode(env.data, env.len, text, sizeof text, &text_len),
                     XS_OK);
    for (size_t i = 0; i < text_len; i++) {
        char was = text[i];
        for (const char *c = alphabet; *c; c++) {
            if (*c == was)
                continue;
            text[i] = *c;
            xs_err err = xs_receipt_text_decode(text, text_len, back, sizeof back, &back_len);
            if (err != XS_OK) {
                if (err != XS_EMALFORMED)
                    fail_msg("character %zu as '%c': %d", i, *c, err);
                refused_text++;
                continue;
            }
            err = xs_receipt_open(back, back_len, NULL, &fx->opened);
            if (err != XS_ECRYPTO && err != XS_EMALFORMED && err != XS_EVERSION)
                fail_msg("character %zu as '%c' opened: %d", i, *c, err);
            err = xs_receipt_open(back, back_len, hub, &fx->opened);
            if (err == XS_OK)
                fail_msg("character %zu as '%c' opened against the hub", i, *c);
            refused_open++;
        }
        text[i] = was;
    }
    /* Both kinds of refusal happen: the signature is what catches a well-formed change. */
    assert_true(refused_text > 0);
    assert_true(refused_open > 0);
    xs_writer_free(&env);
}

/* The text's bounds: 2861 bytes give 4296 characters, one more byte none; a text without its
 * prefix, with it in lower case, empty after it, or too long, is refused. */
static void test_text_limits(void **state) {
    (void)state;
    static uint8_t bytes[XS_RECEIPT_TEXT_BYTES_MAX + 1];
    static char text[XS_RECEIPT_TEXT_MAX + 64];
    uint8_t back[XS_RECEIPT_TEXT_BYTES_MAX];
    size_t len, back_len;
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 131 + 7);
    assert_int_equal(
        xs_receipt_text_encode(bytes, XS_RECEIPT_TEXT_BYTES_MAX, text, sizeof text, &len), XS_OK);
    assert_int_equal(len, XS_RECEIPT_TEXT_MAX);
    assert_int_equal(xs_receipt_text_decode(text, len, back, sizeof back, &back_len), XS_OK);
    assert_int_equal(back_len, XS_RECEIPT_TEXT_BYTES_MAX);
    assert_int_equal(
        xs_receipt_text_encode(bytes, XS_RECEIPT_TEXT_BYTES_MAX + 1, text, sizeof text, &len),
        XS_ETOOBIG);
    assert_int_equal(xs_receipt_text_encode(bytes, 0, text, sizeof text, &len), XS_EINVAL);
    /* Over the bound: refused before it is read. */
    memset(text, '0', sizeof text);
    memcpy(text, "XS1:", 4);
    assert_int_equal(
        xs_receipt_text_decode(text, XS_RECEIPT_TEXT_MAX + 3, back, sizeof back, &back_len),
        XS_ETOOBIG);
    static const char *const bad[] = {"",    "XS1:",   "xs1:BB8",  "XS2:BB8",
                                      "BB8", "XS1BB8", "XS1: BB8", "XS1:BB8 BB8x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (xs_receipt_text_decode(bad[i], strlen(bad[i]), back, sizeof back, &back_len) !=
            XS_EMALFORMED)
            fail_msg("\"%s\" read", bad[i]);
}

/* ---- receipts under a signed Merkle root (protocol.md §4.2) ---- */

/* RFC 6962 §2.1's MTH as written there, recursively, over leaf hashes: the reference the
 * library's bottom-up tree is checked against. */
static void s_ref_mth(const uint8_t (*d)[32], size_t n, uint8_t out[32]) {
    uint8_t node[65];
    size_t k = 1;
    if (n == 1) {
        memcpy(out, d[0], 32);
        return;
    }
    while (k * 2 < n)
        k *= 2;
    node[0] = 0x01;
    s_ref_mth(d, k, node + 1);
    s_ref_mth(d + k, n - k, node + 33);
    xs_identity_hash(node, sizeof node, out);
}

/* RFC 6962 §2.1.1's PATH(m, D[n]) into out; returns its length. */
static size_t s_ref_path(size_t m, const uint8_t (*d)[32], size_t n, uint8_t (*out)[32]) {
    size_t k = 1, len;
    if (n == 1)
        return 0;
    while (k * 2 < n)
        k *= 2;
    if (m < k) {
        len = s_ref_path(m, d, k, out);
        s_ref_mth(d + k, n - k, out[len]);
    } else {
        len = s_ref_path(m - k, d + k, n - k, out);
        s_ref_mth(d, k, out[len]);
    }
    return len + 1;
}

/* n distinct leaf hashes (caller frees). */
static uint8_t (*s_hashes(size_t n))[32] {
    uint8_t(*h)[32] = malloc(n * 32);
    assert_non_null(h);
    for (size_t i = 0; i < n; i++) {
        uint8_t seed[8];
        for (unsigned k = 0; k < 8; k++)
            seed[k] = (uint8_t)(i >> (8 * k));
        xs_identity_hash(seed, sizeof seed, h[i]);
    }
    return h;
}

/* The path of leaf i of the n leaf hashes h is RFC 6962's. */
static void s_check_path(const uint8_t (*h)[32], size_t n, size_t i) {
    uint8_t path[XS_RECEIPT_PATH_MAX][32], ref[XS_RECEIPT_PATH_MAX + 1][32];
    size_t len;
    assert_int_equal(xs_receipt_tree_path(h, n, i, path, &len), XS_OK);
    size_t ref_len = s_ref_path(i, h, n, ref);
    if (len != ref_len || (len && memcmp(path, ref, len * 32) != 0))
        fail_msg("the path of leaf %zu of %zu is not RFC 6962's", i, n);
    assert_true(len <= XS_RECEIPT_PATH_MAX);
}

/* The root of the library's tree over n leaves, and its paths (every step-th and the last),
 * are RFC 6962's. */
static void s_check_shape(size_t n, size_t step) {
    uint8_t(*h)[32] = s_hashes(n);
    uint8_t root[32], want[32];
    assert_int_equal(xs_receipt_tree_root(h, n, root), XS_OK);
    s_ref_mth(h, n, want);
    if (memcmp(root, want, 32) != 0)
        fail_msg("the root of %zu leaves is not RFC 6962's", n);
    for (size_t i = 0; i < n; i += step)
        s_check_path(h, n, i);
    s_check_path(h, n, n - 1);
    free(h);
}

static void test_tree_shape(void **state) {
    (void)state;
    for (size_t n = 1; n <= 70; n++)
        s_check_shape(n, 1);
    s_check_shape(127, 1);
    s_check_shape(128, 1);
    s_check_shape(129, 1);
    s_check_shape(1000, 7);
    /* The fullest tree: every path is of 16 hashes. */
    s_check_shape(XS_RECEIPT_TREE_MAX, 4099);
    s_check_shape(XS_RECEIPT_TREE_MAX - 1, 4099);

    /* One leaf: its hash is the root, its path empty. */
    uint8_t(*h)[32] = s_hashes(2), root[32], path[XS_RECEIPT_PATH_MAX][32];
    size_t len = 99;
    assert_int_equal(xs_receipt_tree_root(h, 1, root), XS_OK);
    assert_memory_equal(root, h[0], 32);
    assert_int_equal(xs_receipt_tree_path(h, 1, 0, path, &len), XS_OK);
    assert_int_equal(len, 0);
    /* No tree of no leaf, or of more than the maximum; no path past the leaves. */
    assert_int_equal(xs_receipt_tree_root(h, 0, root), XS_EINVAL);
    assert_int_equal(xs_receipt_tree_root(h, XS_RECEIPT_TREE_MAX + 1, root), XS_EINVAL);
    assert_int_equal(xs_receipt_tree_path(h, 2, 2, path, &len), XS_EINVAL);
    assert_int_equal(xs_receipt_tree_path(h, 0, 0, path, &len), XS_EINVAL);
    free(h);

    /* The leaf hash: BLAKE2b-256 of 0x00 || leaf; an inner node's prefix is 0x01. */
    uint8_t want[32], got[32];
    xs_identity_hash("\0abc", 4, want);
    xs_receipt_leaf_hash("abc", 3, got);
    assert_memory_equal(got, want, 32);
}

/* Leaf i of a test page: the sample receipt under its own teacher_id (id, 16 bytes), with
 * totals and periods that differ from leaf to leaf, some of a closed year, some without. */
static void s_leaf_receipt(size_t i, xs_receipt_t *r, char id[16]) {
    s_sample(r);
    snprintf(id, 16, "T%05u", (unsigned)(i % 1000000u));
    r->teacher_id = s_str(id);
    r->totals[0].credited_seconds = i * 3600;
    r->totals[3].binding = (uint8_t)(i % 2);
    r->totals[3].single_met = (uint8_t)(i % 3);
    r->total_count = 1 + (uint32_t)(i % 4);
    if (i % 3 == 1) {
        r->periods[1].closed = 1;
        memset(r->periods[1].closed_hash, (int)(i & 0xff), 32);
    }
    if (i % 7 == 6)
        r->period_count = 0;
}

/* A page of n leaves signed by the fixture's hub: leaf i is s_leaf_receipt(i + first). */
typedef struct s_page {
    size_t n;
    xs_writer_t *leaves;
    xs_proto_blob_t *blobs;
    uint8_t (*hashes)[32];
    uint8_t root[32];
    xs_writer_t root_env;
} s_page_t;

static void s_page_make(fixture_t *fx, size_t n, size_t first, s_page_t *page) {
    char id[16];
    page->n = n;
    page->leaves = calloc(n, sizeof *page->leaves);
    page->blobs = calloc(n, sizeof *page->blobs);
    page->hashes = malloc(n * 32);
    assert_true(page->leaves && page->blobs && page->hashes);
    for (size_t i = 0; i < n; i++) {
        s_leaf_receipt(first + i, &fx->receipt, id);
        xs_writer_init(&page->leaves[i], XS_RECEIPT_LEAF_MAX);
        assert_int_equal(xs_receipt_leaf_encode(&page->leaves[i], &fx->receipt), XS_OK);
        page->blobs[i] = (xs_proto_blob_t){page->leaves[i].data, page->leaves[i].len};
        xs_receipt_leaf_hash(page->leaves[i].data, page->leaves[i].len, page->hashes[i]);
    }
    assert_int_equal(xs_receipt_tree_root(page->hashes, n, page->root), XS_OK);
    s_sample(&fx->receipt); /* the head: policy, generation, issued_at */
    xs_writer_init(&page->root_env, 1024);
    assert_int_equal(xs_receipt_root_sign(&page->root_env, fx->hub, &fx->receipt, n, page->root),
                     XS_OK);
}

static void s_page_free(s_page_t *page) {
    for (size_t i = 0; i < page->n; i++)
        xs_writer_free(&page->leaves[i]);
    free(page->leaves);
    free(page->blobs);
    free(page->hashes);
    xs_writer_free(&page->root_env);
}

/* What xs_receipt_page_open's callback checks and keeps. */
typedef struct s_walk {
    fixture_t *fx;
    const s_page_t *page;
    size_t first;      /* leaf i is s_leaf_receipt(first + i) */
    size_t calls;      /* callbacks so far */
    size_t rebuild;    /* every rebuild-th receipt is also built with xs_receipt_standalone */
    xs_writer_t *kept; /* page->n writers: each receipt's bytes, kept; or NULL */
    size_t stop_at;    /* the callback fails at this index (XS_EIO); SIZE_MAX: never */
} s_walk_t;

static xs_err s_on_leaf(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                        const xs_receipt_t *opened) {
    s_walk_t *w = ctx;
    fixture_t *fx = w->fx;
    char id[16];
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    assert_int_equal(index, w->calls);
    w->calls++;
    if (index == w->stop_at)
        return XS_EIO;
    assert_true(len <= XS_RECEIPT_MAX_BYTES);
    /* It opens to the receipt the leaf was made of, the root giving the rest. */
    assert_int_equal(xs_receipt_open(receipt, len, hub, &fx->opened), XS_OK);
    s_leaf_receipt(w->first + index, &fx->receipt, id);
    s_assert_same(&fx->receipt, &fx->opened);
    assert_memory_equal(fx->opened.hub, hub, 32);
    /* What the walk hands on, opened already, is what opening the receipt alone gives. */
    s_assert_same(opened, &fx->opened);
    assert_memory_equal(opened->hub, hub, 32);
    assert_true(fx->opened.teacher_id.ptr > (const char *)receipt &&
                fx->opened.teacher_id.ptr < (const char *)receipt + len);
    assert_true(fx->opened.policy_id.ptr > (const char *)receipt &&
                fx->opened.policy_id.ptr < (const char *)receipt + len);
    if (w->kept) {
        xs_writer_init(&w->kept[index], XS_RECEIPT_MAX_BYTES);
        xs_writer_raw(&w->kept[index], receipt, len);
        assert_int_equal(xs_writer_err(&w->kept[index]), XS_OK);
    }
    /* The same bytes as the receipt built from its parts. */
    if (w->rebuild && (index % w->rebuild == 0 || index == w->page->n - 1)) {
        uint8_t path[XS_RECEIPT_PATH_MAX][32];
        size_t path_len;
        xs_writer_t again;
        const s_page_t *p = w->page;
        assert_int_equal(xs_receipt_tree_path(p->hashes, p->n, index, path, &path_len), XS_OK);
        xs_writer_init(&again, XS_RECEIPT_MAX_BYTES);
        assert_int_equal(xs_receipt_standalone(&again, p->root_env.data, p->root_env.len,
                                               p->leaves[index].data, p->leaves[index].len, index,
                                               path, path_len),
                         XS_OK);
        assert_int_equal(again.len, len);
        assert_memory_equal(again.data, receipt, len);
        xs_writer_free(&again);
    }
    return XS_OK;
}

static void s_walk_init(s_walk_t *w, fixture_t *fx, const s_page_t *page, size_t first) {
    memset(w, 0, sizeof *w);
    w->fx = fx;
    w->page = page;
    w->first = first;
    w->rebuild = 1;
    w->stop_at = SIZE_MAX;
}

static xs_err s_page_open(fixture_t *fx, const s_page_t *page, s_walk_t *w) {
    return xs_receipt_page_open(page->root_env.data, page->root_env.len, page->blobs, page->n,
                                xs_identity_public(fx->hub)->sign, s_on_leaf, w);
}

/* Pages of 1, 2, 3, 5 and 1000 leaves (and every size up to 40): each standalone receipt
 * opens to the receipt its leaf was made of, and is the one built from its parts. */
static void test_page_round_trip(void **state) {
    fixture_t *fx = *state;
    static const size_t sizes[] = {1, 2, 3, 5, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0] + 40; s++) {
        size_t n = s < 5 ? sizes[s] : s - 4;
        s_page_t page;
        s_walk_t walk;
        s_page_make(fx, n, 0, &page);
        s_walk_init(&walk, fx, &page, 0);
        walk.rebuild = n == 1000 ? 97 : 1;
        assert_int_equal(s_page_open(fx, &page, &walk), XS_OK);
        assert_int_equal(walk.calls, n);
        s_page_free(&page);
    }
    /* The receipts signed alone still open, and to the same receipt. */
    char id[16];
    xs_writer_t env;
    for (size_t i = 0; i < 7; i++) {
        s_leaf_receipt(i, &fx->receipt, id);
        s_sign(fx, &fx->receipt, &env);
        assert_int_equal(s_format(&env), i % 3 == 1 ? 3 : 2);
        assert_int_equal(
            xs_receipt_open(env.data, env.len, xs_identity_public(fx->hub)->sign, &fx->opened),
            XS_OK);
        s_assert_same(&fx->receipt, &fx->opened);
        xs_writer_free(&env);
    }
}

/* A standalone receipt taken apart (its bytes borrowed) and put together again. */
typedef struct s_parts {
    const uint8_t *body, *signature, *leaf;
    uint32_t body_len, leaf_len, path_len;
    uint64_t index;
    uint8_t path[XS_RECEIPT_PATH_MAX + 1][32];
} s_parts_t;

static void s_split(const xs_writer_t *receipt, s_parts_t *p) {
    xs_reader_t r;
    uint32_t n, sig_len;
    xs_reader_init(&r, receipt->data, receipt->len);
    assert_int_equal(xs_codec_get_array(&r, &n), XS_OK);
    assert_int_equal(n, 5);
    assert_int_equal(xs_codec_get_bin(&r, &p->body, &p->body_len), XS_OK);
    assert_int_equal(xs_codec_get_bin(&r, &p->signature, &sig_len), XS_OK);
    assert_int_equal(sig_len, 64);
    assert_int_equal(xs_codec_get_bin(&r, &p->leaf, &p->leaf_len), XS_OK);
    assert_int_equal(xs_codec_get_uint(&r, &p->index), XS_OK);
    assert_int_equal(xs_codec_get_array(&r, &p->path_len), XS_OK);
    assert_true(p->path_len <= XS_RECEIPT_PATH_MAX);
    for (uint32_t i = 0; i < p->path_len; i++)
        assert_int_equal(xs_codec_get_bin_exact(&r, p->path[i], 32), XS_OK);
    assert_int_equal(xs_reader_left(&r), 0);
}

/* Opens the receipt p describes, against the fixture's hub. */
static xs_err s_join_open(fixture_t *fx, const s_parts_t *p) {
    xs_writer_t w;
    xs_writer_init(&w, 2 * XS_RECEIPT_MAX_BYTES);
    xs_codec_put_array(&w, 5);
    xs_codec_put_bin(&w, p->body, p->body_len);
    xs_codec_put_bin(&w, p->signature, 64);
    xs_codec_put_bin(&w, p->leaf, p->leaf_len);
    xs_codec_put_uint(&w, p->index);
    xs_codec_put_array(&w, p->path_len);
    for (uint32_t i = 0; i < p->path_len; i++)
        xs_codec_put_bin(&w, p->path[i], 32);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    xs_err err = xs_receipt_open(w.data, w.len, xs_identity_public(fx->hub)->sign, &fx->opened);
    xs_writer_free(&w);
    return err;
}

/* Signs body (len bytes) with key under context, into sig. */
static void s_sign_as(const xs_identity_t *key, const char *context, const uint8_t *body,
                      size_t len, uint8_t sig[64]) {
    size_t context_len = strlen(context) + 1;
    uint8_t *bytes = malloc(context_len + len);
    assert_non_null(bytes);
    memcpy(bytes, context, context_len);
    memcpy(bytes + context_len, body, len);
    xs_identity_sign(key, bytes, context_len + len, sig);
    free(bytes);
}

/* Every way of changing a standalone receipt is refused: a bit of the leaf, of a path hash or
 * of the signature, another index, another leaf_count, a path a hash short or long, a leaf or
 * a path of another page, another signer or context, any bit anywhere, any truncation. */
static void test_standalone_tampered(void **state) {
    fixture_t *fx = *state;
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    s_page_t page, other;
    s_walk_t walk, other_walk;
    xs_writer_t kept[5], other_kept[5];
    s_parts_t p, q;
    s_page_make(fx, 5, 0, &page);
    s_walk_init(&walk, fx, &page, 0);
    walk.kept = kept;
    assert_int_equal(s_page_open(fx, &page, &walk), XS_OK);
    s_page_make(fx, 5, 100, &other);
    s_walk_init(&other_walk, fx, &other, 100);
    other_walk.kept = other_kept;
    assert_int_equal(s_page_open(fx, &other, &other_walk), XS_OK);

    /* Leaf 1 of 5: a path of 3 hashes, as leaves 0, 2 and 3 have; leaf 4's is of 1. */
    s_split(&kept[1], &p);
    assert_int_equal(p.index, 1);
    assert_int_equal(p.path_len, 3);
    assert_int_equal(s_join_open(fx, &p), XS_OK);
    uint8_t leaf[XS_RECEIPT_LEAF_MAX];
    memcpy(leaf, p.leaf, p.leaf_len);
    const uint8_t *was = p.leaf;
    p.leaf = leaf;
    for (uint32_t i = 0; i < p.leaf_len; i++) {
        leaf[i] ^= 0x10;
        if (s_join_open(fx, &p) != XS_ECRYPTO)
            fail_msg("leaf byte %u changed: not refused by the path", i);
        leaf[i] ^= 0x10;
    }
    p.leaf = was;
    for (uint32_t k = 0; k < p.path_len; k++) {
        p.path[k][k * 7] ^= 0x01;
        assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
        p.path[k][k * 7] ^= 0x01;
    }
    uint8_t sig[64];
    memcpy(sig, p.signature, 64);
    const uint8_t *sig_was = p.signature;
    p.signature = sig;
    sig[10] ^= 0x40;
    assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
    p.signature = sig_was;
    /* Another index: of the same path length the path leads elsewhere; else it cannot be. */
    for (uint64_t index = 0; index < 8; index++) {
        p.index = index;
        assert_int_equal(s_join_open(fx, &p), index == 1   ? XS_OK
                                              : index <= 3 ? XS_ECRYPTO
                                                           : XS_EMALFORMED);
    }
    p.index = 1;
    /* A path a hash short, or long. */
    p.path_len = 2;
    assert_int_equal(s_join_open(fx, &p), XS_EMALFORMED);
    p.path_len = 4;
    memset(p.path[3], 0x77, 32);
    assert_int_equal(s_join_open(fx, &p), XS_EMALFORMED);
    p.path_len = 0;
    assert_int_equal(s_join_open(fx, &p), XS_EMALFORMED);
    p.path_len = 3;
    /* Another leaf_count in the signed body (3 → 6: 1 byte) breaks the signature. */
    uint8_t body[256];
    assert_true(p.body_len <= sizeof body);
    memcpy(body, p.body, p.body_len);
    assert_int_equal(body[p.body_len - 35], 5);
    body[p.body_len - 35] = 6;
    const uint8_t *body_was = p.body;
    p.body = body;
    assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
    /* The body signed by another key: not the hub's; opened for any hub, it is the other's. */
    body[p.body_len - 35] = 5;
    s_sign_as(fx->other, "xueshi-receipts-1", body, p.body_len, sig);
    p.signature = sig;
    assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
    /* Signed by the hub as a receipt body, or as a batch: another context. */
    s_sign_as(fx->hub, "xueshi-receipt-1", body, p.body_len, sig);
    assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
    s_sign_as(fx->hub, "xueshi-batch-1", body, p.body_len, sig);
    assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
    s_sign_as(fx->hub, "xueshi-receipts-1", body, p.body_len, sig);
    assert_int_equal(s_join_open(fx, &p), XS_OK);
    p.body = body_was;
    p.signature = sig_was;

    /* A leaf from another page, with its own path or this one's, under this root. */
    s_split(&other_kept[1], &q);
    p.leaf = q.leaf;
    p.leaf_len = q.leaf_len;
    assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
    memcpy(p.path, q.path, sizeof p.path);
    assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
    /* The other page's root with this page's leaf and path. */
    s_split(&kept[1], &p);
    p.body = q.body;
    p.signature = q.signature;
    assert_int_equal(s_join_open(fx, &p), XS_ECRYPTO);
    /* and the other page's receipt itself is fine. */
    assert_int_equal(s_join_open(fx, &q), XS_OK);

    /* Another expected hub; none expected: the caller reads the hub. */
    const xs_writer_t *r4 = &kept[4];
    assert_int_equal(
        xs_receipt_open(r4->data, r4->len, xs_identity_public(fx->other)->sign, &fx->opened),
        XS_ECRYPTO);
    assert_int_equal(xs_receipt_open(r4->data, r4->len, NULL, &fx->opened), XS_OK);
    assert_memory_equal(fx->opened.hub, hub, 32);

    /* Every bit of a whole receipt, and every truncation. */
    uint8_t *copy = malloc(r4->len);
    assert_non_null(copy);
    for (size_t i = 0; i < r4->len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(copy, r4->data, r4->len);
            copy[i] ^= (uint8_t)(1u << bit);
            xs_err err = xs_receipt_open(copy, r4->len, hub, &fx->opened);
            if (err != XS_ECRYPTO && err != XS_EMALFORMED && err != XS_EVERSION)
                fail_msg("byte %zu bit %u: %d", i, bit, err);
            err = xs_receipt_open(copy, r4->len, NULL, &fx->opened);
            if (err != XS_ECRYPTO && err != XS_EMALFORMED && err != XS_EVERSION)
                fail_msg("byte %zu bit %u, any hub: %d", i, bit, err);
        }
    }
    for (size_t n = 0; n < r4->len; n++)
        assert_int_equal(xs_receipt_open(r4->data, n, hub, &fx->opened), XS_EMALFORMED);
    free(copy);

    for (size_t i = 0; i < 5; i++) {
        xs_writer_free(&kept[i]);
        xs_writer_free(&other_kept[i]);
    }
    s_page_free(&page);
    s_page_free(&other);
}

/* A page that is not whole, not in order, not the hub's or not leaves opens nothing; the
 * callback's error stops the walk. */
static void test_page_refused(void **state) {
    fixture_t *fx = *state;
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    s_page_t page;
    s_walk_t walk;
    s_page_make(fx, 5, 0, &page);
    const uint8_t *root = page.root_env.data;
    size_t root_len = page.root_env.len;
#define S_OPEN(blobs, n, key) xs_receipt_page_open(root, root_len, blobs, n, key, s_on_leaf, &walk)
    s_walk_init(&walk, fx, &page, 0);
    assert_int_equal(S_OPEN(page.blobs, 4, hub), XS_EMALFORMED);
    assert_int_equal(S_OPEN(page.blobs + 1, 4, hub), XS_EMALFORMED);
    assert_int_equal(S_OPEN(page.blobs, 0, hub), XS_EMALFORMED);
    assert_int_equal(S_OPEN(page.blobs, 5, xs_identity_public(fx->other)->sign), XS_ECRYPTO);
    assert_int_equal(S_OPEN(page.blobs, 5, NULL), XS_EINVAL);
    xs_proto_blob_t blobs[6];
    memcpy(blobs, page.blobs, sizeof page.blobs[0] * 5);
    blobs[5] = blobs[4];
    assert_int_equal(S_OPEN(blobs, 6, hub), XS_EMALFORMED);
    blobs[1] = page.blobs[2];
    blobs[2] = page.blobs[1];
    assert_int_equal(S_OPEN(blobs, 5, hub), XS_ECRYPTO);
    memcpy(blobs, page.blobs, sizeof page.blobs[0] * 5);
    uint8_t leaf[XS_RECEIPT_LEAF_MAX];
    memcpy(leaf, page.blobs[3].ptr, page.blobs[3].len);
    leaf[page.blobs[3].len - 1] ^= 1;
    blobs[3].ptr = leaf;
    assert_int_equal(S_OPEN(blobs, 5, hub), XS_ECRYPTO);
    blobs[3].len = 0;
    assert_int_equal(S_OPEN(blobs, 5, hub), XS_EMALFORMED);
    blobs[3].len = XS_RECEIPT_LEAF_MAX + 1;
    assert_int_equal(S_OPEN(blobs, 5, hub), XS_ETOOBIG);
    assert_int_equal(walk.calls, 0);
    /* A root envelope changed, or over its bound. */
    uint8_t env[1024];
    memcpy(env, root, root_len);
    env[root_len - 1] ^= 1;
    assert_int_equal(xs_receipt_page_open(env, root_len, page.blobs, 5, hub, s_on_leaf, &walk),
                     XS_ECRYPTO);
    env[root_len - 1] ^= 1;
    env[7] ^= 1; /* the hub key in the body */
    assert_int_equal(xs_receipt_page_open(env, root_len, page.blobs, 5, hub, s_on_leaf, &walk),
                     XS_ECRYPTO);
    assert_int_equal(xs_receipt_page_open(env, 1000, page.blobs, 5, hub, s_on_leaf, &walk),
                     XS_ETOOBIG);
    assert_int_equal(walk.calls, 0);

    /* The hub signed a root over a leaf that is no leaf: nothing is called. */
    xs_proto_blob_t odd[2] = {page.blobs[0], {(const uint8_t *)"\x93\xa1x\x90\x90\xc0", 6}};
    uint8_t hashes[2][32], odd_root[32];
    xs_receipt_leaf_hash(odd[0].ptr, odd[0].len, hashes[0]);
    xs_receipt_leaf_hash(odd[1].ptr, odd[1].len, hashes[1]);
    assert_int_equal(xs_receipt_tree_root(hashes, 2, odd_root), XS_OK);
    xs_writer_t odd_env;
    xs_writer_init(&odd_env, 1024);
    s_sample(&fx->receipt);
    assert_int_equal(xs_receipt_root_sign(&odd_env, fx->hub, &fx->receipt, 2, odd_root), XS_OK);
    assert_int_equal(xs_receipt_page_open(odd_env.data, odd_env.len, odd, 2, hub, s_on_leaf, &walk),
                     XS_EMALFORMED);
    assert_int_equal(walk.calls, 0);
    xs_writer_free(&odd_env);

    /* The callback's error stops the walk and is returned. */
    walk.stop_at = 2;
    assert_int_equal(S_OPEN(page.blobs, 5, hub), XS_EIO);
    assert_int_equal(walk.calls, 3);
#undef S_OPEN
    s_page_free(&page);
}

/* The standalone receipt of one leaf under a root of leaf_count leaves, the other leaves'
 * hashes made up, into out. */
static void s_single(fixture_t *fx, const uint8_t *leaf, size_t len, size_t leaf_count,
                     size_t index, xs_writer_t *out) {
    uint8_t(*h)[32] = s_hashes(leaf_count), root[32], path[XS_RECEIPT_PATH_MAX][32];
    size_t path_len;
    xs_receipt_t head;
    xs_writer_t env;
    xs_receipt_leaf_hash(leaf, len, h[index]);
    assert_int_equal(xs_receipt_tree_root(h, leaf_count, root), XS_OK);
    assert_int_equal(xs_receipt_tree_path(h, leaf_count, index, path, &path_len), XS_OK);
    s_sample(&head);
    xs_writer_init(&env, 1024);
    assert_int_equal(xs_receipt_root_sign(&env, fx->hub, &head, leaf_count, root), XS_OK);
    xs_writer_init(out, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(
        xs_receipt_standalone(out, env.data, env.len, leaf, len, index, path, path_len), XS_OK);
    xs_writer_free(&env);
    free(h);
}

/* What a leaf may hold, and how: the rules of a signed body's periods and totals; periods of
 * 4, or of 5 when one is closed; nothing after it. What the builders refuse. */
static void test_leaf_rules(void **state) {
    fixture_t *fx = *state;
    const uint8_t *hub = xs_identity_public(fx->hub)->sign;
    xs_receipt_t *r = &fx->receipt;
    xs_writer_t leaf, env;
    static const char id65[] = "12345678901234567890123456789012345678901234567890123456789012345";
    xs_writer_init(&leaf, XS_RECEIPT_LEAF_MAX);

    /* A leaf reads no policy: a receipt without one has a leaf, as the sign rules say else. */
    s_sample(r);
    r->policy_id = s_str("");
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_OK);
    /* [teacher_id, periods of 4, totals of 9] */
    assert_int_equal(leaf.data[0], 0x93);
    assert_int_equal(leaf.data[1], 0xa5);
    assert_int_equal(leaf.data[7], 0x93);
    assert_int_equal(leaf.data[8], 0x94);
    s_single(fx, leaf.data, leaf.len, 1, 0, &env);
    assert_int_equal(xs_receipt_open(env.data, env.len, hub, &fx->opened), XS_OK);
    xs_writer_free(&env);
    s_sample(r);
    r->periods[0].closed = 1;
    xs_writer_reset(&leaf);
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_OK);
    assert_int_equal(leaf.data[8], 0x95);
    s_single(fx, leaf.data, leaf.len, 3, 2, &env);
    assert_int_equal(xs_receipt_open(env.data, env.len, hub, &fx->opened), XS_OK);
    s_assert_same(r, &fx->opened);
    xs_writer_free(&env);
    s_sample(r);
    r->teacher_id = s_str("");
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_EINVAL);
    r->teacher_id = s_str(id65);
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_EINVAL);
    r->teacher_id = s_str("T\xff");
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_EINVAL);
    s_sample(r);
    r->periods[1].year = 2023;
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_EINVAL);
    s_sample(r);
    r->periods[2].closed = 1; /* a closed cycle */
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_EINVAL);
    s_sample(r);
    r->totals[1].semester = 0;
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_EINVAL);
    s_sample(r);
    r->total_count = XS_RECEIPT_TOTALS_MAX + 1;
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_EINVAL);
    /* The leaf's own bound, and the writer's. */
    xs_writer_t small;
    s_sample(r);
    xs_writer_init(&small, 16);
    assert_int_equal(xs_receipt_leaf_encode(&small, r), XS_ETOOBIG);
    xs_writer_free(&small);

    /* Leaves written by hand, signed under a root: what the decoder refuses. */
    static const struct {
        const char *bytes;
        size_t len;
        xs_err want;
    } hand[] = {
        {"\x93\xa2T1\x90\x90", 6, XS_OK},
        {"\x93\xa2T1\x90\x90\xc0", 7, XS_EMALFORMED},     /* a byte after it */
        {"\x94\xa2T1\x90\x90\x90", 7, XS_EMALFORMED},     /* 4 elements */
        {"\x93\xa0\x90\x90", 4, XS_EMALFORMED},           /* no teacher_id */
        {"\x93\xc4\x02T1\x90\x90", 7, XS_EMALFORMED},     /* teacher_id as bin */
        {"\x93\xa2T1\x91\x90\x90", 7, XS_EMALFORMED},     /* a period of 0 elements */
        {"\x93\xa2T1\x90\x91\x90", 7, XS_EMALFORMED},     /* a total of 0 elements */
        {"\x93\xa2T1\xdc\x00\x81\x90", 8, XS_EMALFORMED}, /* 129 periods claimed */
    };
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        s_single(fx, (const uint8_t *)hand[i].bytes, hand[i].len, 2, i % 2, &env);
        if (xs_receipt_open(env.data, env.len, hub, &fx->opened) != hand[i].want)
            fail_msg("hand-made leaf %zu", i);
        xs_writer_free(&env);
    }
    /* Periods of 5 all open (of 4 carries them), or of 4 and 5 mixed. */
    uint8_t hash[32] = {0};
    for (int shape = 0; shape < 3; shape++) {
        xs_writer_reset(&leaf);
        xs_codec_put_array(&leaf, 3);
        xs_codec_put_str(&leaf, "T1", 2);
        xs_codec_put_array(&leaf, 2);
        for (int k = 0; k < 2; k++) {
            int five = shape == 0 || (shape == 1 && k == 1) || shape == 2;
            xs_codec_put_array(&leaf, five ? 5 : 4);
            xs_codec_put_uint(&leaf, XS_SCOPE_YEAR);
            xs_codec_put_int(&leaf, 2024 + k);
            xs_codec_put_uint(&leaf, 1);
            xs_codec_put_bin(&leaf, hash, 32);
            if (five && shape == 2 && k == 0)
                xs_codec_put_bin(&leaf, hash, 32);
            else if (five)
                xs_codec_put_nil(&leaf);
        }
        xs_codec_put_array(&leaf, 0);
        s_single(fx, leaf.data, leaf.len, 1, 0, &env);
        assert_int_equal(xs_receipt_open(env.data, env.len, hub, &fx->opened),
                         shape == 2 ? XS_OK : XS_EMALFORMED);
        xs_writer_free(&env);
    }
    xs_writer_free(&leaf);
}

/* What the root and standalone builders refuse. */
static void test_root_refuses(void **state) {
    fixture_t *fx = *state;
    uint8_t root[32] = {1}, path[XS_RECEIPT_PATH_MAX][32] = {{0}};
    xs_writer_t env, out, receipt;
    s_sample(&fx->receipt);
    xs_writer_init(&env, 1024);
    xs_writer_init(&out, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_root_sign(&env, fx->hub, &fx->receipt, 0, root), XS_EINVAL);
    assert_int_equal(
        xs_receipt_root_sign(&env, fx->hub, &fx->receipt, XS_RECEIPT_TREE_MAX + 1, root),
        XS_EINVAL);
    fx->receipt.policy_id = s_str("");
    assert_int_equal(xs_receipt_root_sign(&env, fx->hub, &fx->receipt, 1, root), XS_EINVAL);
    fx->receipt.policy_id = s_str("123456789012345678901234567890123");
    assert_int_equal(xs_receipt_root_sign(&env, fx->hub, &fx->receipt, 1, root), XS_EINVAL);
    assert_int_equal(env.len, 0);
    s_sample(&fx->receipt);
    assert_int_equal(xs_receipt_root_sign(&env, fx->hub, &fx->receipt, 5, root), XS_OK);
    /* The body's first 36 bytes are fixed: 0x99, format 4, bin 32, the hub key. */
    const uint8_t *body, *sig;
    size_t body_len;
    assert_int_equal(xs_codec_split_envelope(env.data, env.len, &body, &body_len, &sig, 64), XS_OK);
    assert_memory_equal(body, "\x99\x04\xc4\x20", 4);
    assert_memory_equal(body + 4, xs_identity_public(fx->hub)->sign, 32);

    /* Leaf 4 of 5 has a path of 1 hash; leaf 5 is none. */
    const uint8_t(*p)[32] = path;
    assert_int_equal(xs_receipt_standalone(&out, env.data, env.len, "x", 1, 4, p, 1), XS_OK);
    assert_int_equal(xs_receipt_standalone(&out, env.data, env.len, "x", 1, 4, p, 2), XS_EINVAL);
    assert_int_equal(xs_receipt_standalone(&out, env.data, env.len, "x", 1, 0, p, 2), XS_EINVAL);
    assert_int_equal(xs_receipt_standalone(&out, env.data, env.len, "x", 1, 5, p, 1), XS_EINVAL);
    assert_int_equal(xs_receipt_standalone(&out, env.data, env.len, "x", 0, 4, p, 1), XS_EINVAL);
    assert_int_equal(
        xs_receipt_standalone(&out, env.data, env.len, "x", XS_RECEIPT_LEAF_MAX + 1, 4, p, 1),
        XS_ETOOBIG);
    /* A receipt envelope, a cut root envelope: not a root envelope. */
    s_sign(fx, &fx->receipt, &receipt);
    assert_int_equal(xs_receipt_standalone(&out, receipt.data, receipt.len, "x", 1, 0, p, 0),
                     XS_EMALFORMED);
    assert_int_equal(xs_receipt_standalone(&out, env.data, env.len - 1, "x", 1, 4, p, 1),
                     XS_EMALFORMED);
    xs_writer_free(&receipt);
    xs_writer_free(&out);
    xs_writer_free(&env);
}

/* The largest leaf under the fullest tree: a path of 16 hashes, and the receipt fits
 * XS_RECEIPT_MAX_BYTES and opens, first leaf and last. */
static void test_standalone_limits(void **state) {
    fixture_t *fx = *state;
    xs_receipt_t *r = &fx->receipt;
    static char teacher[XS_ID_MAX + 1];
    memset(teacher, 'T', XS_ID_MAX);
    s_sample(r); /* the root's policy, generation and issued_at (s_single's) */
    r->teacher_id = s_str(teacher);
    r->period_count = XS_RECEIPT_PERIODS_MAX;
    for (uint32_t i = 0; i < XS_RECEIPT_PERIODS_MAX; i++) {
        r->periods[i].scope = i < 64 ? XS_SCOPE_YEAR : XS_SCOPE_CYCLE;
        r->periods[i].year = INT32_MIN + (int32_t)(i % 64) * 1000;
        r->periods[i].record_count = UINT32_MAX;
        r->periods[i].closed = i < 64;
    }
    r->total_count = XS_RECEIPT_TOTALS_MAX;
    for (uint32_t i = 0; i < XS_RECEIPT_TOTALS_MAX; i++)
        r->totals[i] = (xs_receipt_total_t){
            UINT64_MAX, UINT32_MAX, INT32_MIN, XS_SCOPE_SEMESTER, 2, XS_POLICY_BUCKETS_MAX - 1,
            XS_MET_YES, 1,          XS_MET_YES};
    xs_writer_t leaf, env;
    xs_writer_init(&leaf, XS_RECEIPT_LEAF_MAX);
    assert_int_equal(xs_receipt_leaf_encode(&leaf, r), XS_OK);
    const size_t at[] = {0, XS_RECEIPT_TREE_MAX - 1};
    for (size_t k = 0; k < 2; k++) {
        s_single(fx, leaf.data, leaf.len, XS_RECEIPT_TREE_MAX, at[k], &env);
        assert_true(env.len <= XS_RECEIPT_MAX_BYTES);
        s_parts_t parts;
        s_split(&env, &parts);
        assert_int_equal(parts.path_len, XS_RECEIPT_PATH_MAX);
        assert_int_equal(
            xs_receipt_open(env.data, env.len, xs_identity_public(fx->hub)->sign, &fx->opened),
            XS_OK);
        s_assert_same(r, &fx->opened);
        xs_writer_free(&env);
    }
    /* A path of 17 hashes is refused unread. */
    s_single(fx, leaf.data, leaf.len, 2, 0, &env);
    s_parts_t parts;
    s_split(&env, &parts);
    parts.path_len = XS_RECEIPT_PATH_MAX + 1;
    assert_int_equal(s_join_open(fx, &parts), XS_EMALFORMED);
    xs_writer_free(&env);
    xs_writer_free(&leaf);
}

/* ---- golden vectors: schema/vectors/receipt-root.txt ---- */

#define S_VEC_FILE_MAX (256 * 1024)
#define S_VECS_MAX 64
#define S_VEC_FIELDS 24

typedef struct s_vec {
    const char *name, *kind, *key, *hex, *expect;
    unsigned line;
    const char *field[S_VEC_FIELDS]; /* "name" */
    const char *value[S_VEC_FIELDS]; /* its value, to the end of the line */
    unsigned nfields;
} s_vec_t;

typedef struct s_vecs {
    char *text;
    s_vec_t v[S_VECS_MAX];
    unsigned count;
    xs_identity_t *hub; /* seed 20 21 .. 3f */
} s_vecs_t;

static const char *s_after(const char *line, const char *key) {
    size_t n = strlen(key);
    return strncmp(line, key, n) == 0 && line[n] == ':' && line[n + 1] == ' ' ? line + n + 2 : NULL;
}

/* Decodes hex into a new buffer (caller frees); fails the test on bad hex. */
static uint8_t *s_unhex(const char *hex, size_t *len) {
    size_t n = strlen(hex);
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    if (n % 2)
        fail_msg("odd hex %s", hex);
    for (size_t i = 0; i < n; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            fail_msg("bad hex %s", hex);
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    *len = n / 2;
    return out;
}

/* 64 hex digits (and nothing else up to end or a space) into out. */
static void s_hex32(const char *hex, uint8_t out[32]) {
    char word[65];
    size_t n = strcspn(hex, " ");
    if (n != 64)
        fail_msg("not a hash: %s", hex);
    memcpy(word, hex, 64);
    word[64] = '\0';
    size_t len;
    uint8_t *bytes = s_unhex(word, &len);
    memcpy(out, bytes, 32);
    free(bytes);
}

static const char *s_vec_get(const s_vec_t *v, const char *name) {
    for (unsigned i = 0; i < v->nfields; i++)
        if (strcmp(v->field[i], name) == 0)
            return v->value[i];
    fail_msg("%s (line %u): no %s", v->name, v->line, name);
    return NULL;
}

static const s_vec_t *s_vec_find(const s_vecs_t *vs, const char *name) {
    for (unsigned i = 0; i < vs->count; i++)
        if (strcmp(vs->v[i].name, name) == 0)
            return &vs->v[i];
    fail_msg("no vector %s", name);
    return NULL;
}

/* Reads up to n integers separated by single spaces; returns how many, *rest past them. */
static unsigned s_ints(const char *s, int64_t *out, unsigned n, const char **rest) {
    unsigned k = 0;
    while (k < n && *s) {
        char *end;
        errno = 0;
        long long value = strtoll(s, &end, 10);
        if (end == s || errno || (*end != ' ' && *end != '\0'))
            break;
        out[k++] = value;
        s = *end ? end + 1 : end;
    }
    *rest = s;
    return k;
}

static int64_t s_int(const s_vec_t *v, const char *name) {
    int64_t value = 0;
    const char *rest;
    if (s_ints(s_vec_get(v, name), &value, 1, &rest) != 1 || *rest)
        fail_msg("%s: %s is not an integer", v->name, name);
    return value;
}

static char *s_read_text(const char *name) {
    const char *dir = getenv("XS_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/schema/vectors/%s", dir && *dir ? dir : XS_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    char *text = malloc(S_VEC_FILE_MAX + 1);
    assert_non_null(text);
    size_t n = fread(text, 1, S_VEC_FILE_MAX + 1, f);
    fclose(f);
    assert_true(n <= S_VEC_FILE_MAX);
    text[n] = '\0';
    return text;
}

static void s_vecs_read(s_vecs_t *vs) {
    s_vec_t *cur = NULL;
    unsigned lineno = 0;
    vs->text = s_read_text("receipt-root.txt");
    for (char *line = vs->text; line;) {
        char *nl = strchr(line, '\n');
        const char *rest;
        if (nl)
            *nl = '\0';
        lineno++;
        if (line[0] == '\0') {
            cur = NULL;
        } else if (line[0] == '#') {
            /* a comment */
        } else if ((rest = s_after(line, "name"))) {
            assert_true(vs->count < S_VECS_MAX);
            cur = &vs->v[vs->count++];
            cur->name = rest;
            cur->line = lineno;
        } else if (!cur) {
            fail_msg("receipt-root.txt:%u: a line outside a block", lineno);
        } else if ((rest = s_after(line, "kind"))) {
            cur->kind = rest;
        } else if ((rest = s_after(line, "key"))) {
            cur->key = rest;
        } else if ((rest = s_after(line, "hex"))) {
            cur->hex = rest;
        } else if ((rest = s_after(line, "expect"))) {
            cur->expect = rest;
        } else {
            char *eq = strchr(line, '=');
            if (!eq || cur->nfields == S_VEC_FIELDS)
                fail_msg("receipt-root.txt:%u: cannot read \"%s\"", lineno, line);
            *eq = '\0';
            cur->field[cur->nfields] = line;
            cur->value[cur->nfields++] = eq + 1;
        }
        line = nl ? nl + 1 : NULL;
    }
}

/* A leaf vector's teacher_id, periods and totals into r (the rest zero). */
static void s_vec_leaf(const s_vec_t *v, xs_receipt_t *r) {
    memset(r, 0, sizeof *r);
    r->teacher_id = s_str(s_vec_get(v, "teacher_id"));
    for (unsigned i = 0; i < v->nfields; i++) {
        int64_t n[9];
        const char *rest;
        if (strcmp(v->field[i], "period") == 0) {
            xs_receipt_period_t *p = &r->periods[r->period_count++];
            assert_int_equal(s_ints(v->value[i], n, 3, &rest), 3);
            *p = (xs_receipt_period_t){(uint8_t)n[0], (int32_t)n[1], (uint32_t)n[2], {0}, 0, {0}};
            s_hex32(rest, p->records_hash);
            rest += 64;
            if (*rest == ' ' && strcmp(rest + 1, "nil") != 0) {
                p->closed = 1;
                s_hex32(rest + 1, p->closed_hash);
            } else if (*rest && strcmp(rest, " nil") != 0) {
                fail_msg("%s: bad period %s", v->name, v->value[i]);
            }
        } else if (strcmp(v->field[i], "total") == 0) {
            if (s_ints(v->value[i], n, 9, &rest) != 9 || *rest)
                fail_msg("%s: bad total %s", v->name, v->value[i]);
            r->totals[r->total_count++] = (xs_receipt_total_t){
                (uint64_t)n[4], (uint32_t)n[5], (int32_t)n[1], (uint8_t)n[0], (uint8_t)n[2],
                (uint8_t)n[3],  (uint8_t)n[6],  (uint8_t)n[7], (uint8_t)n[8]};
        }
    }
}

/* The hashes of a tree vector's path line of index i (the line "i h1 h2 ..."): *len of them. */
static void s_vec_path(const s_vec_t *tree, size_t index, uint8_t (*path)[32], size_t *len) {
    size_t k = 0;
    for (unsigned i = 0; i < tree->nfields; i++) {
        int64_t at;
        const char *rest;
        if (strcmp(tree->field[i], "path") != 0 || k++ != index)
            continue;
        assert_int_equal(s_ints(tree->value[i], &at, 1, &rest), 1);
        assert_int_equal(at, (int64_t)index);
        for (*len = 0; *rest; (*len)++) {
            assert_true(*len < XS_RECEIPT_PATH_MAX);
            s_hex32(rest, path[*len]);
            rest += 64;
            if (*rest == ' ')
                rest++;
        }
        return;
    }
    fail_msg("%s: no path of %zu", tree->name, index);
}

/* Compares the bytes made with the vector's, byte for byte. */
static void s_vec_same(const s_vec_t *v, const uint8_t *want, size_t len, const xs_writer_t *got) {
    if (got->len != len || memcmp(got->data, want, len) != 0)
        fail_msg("%s (line %u): the encoding differs (%zu bytes, want %zu)", v->name, v->line,
                 got->len, len);
}

static void s_vec_check_leaf(fixture_t *fx, const s_vec_t *v, const uint8_t *bytes, size_t len) {
    uint8_t hash[32], want[32];
    xs_writer_t leaf;
    s_vec_leaf(v, &fx->receipt);
    xs_writer_init(&leaf, XS_RECEIPT_LEAF_MAX);
    assert_int_equal(xs_receipt_leaf_encode(&leaf, &fx->receipt), XS_OK);
    s_vec_same(v, bytes, len, &leaf);
    xs_writer_free(&leaf);
    xs_receipt_leaf_hash(bytes, len, hash);
    s_hex32(s_vec_get(v, "leaf_hash"), want);
    assert_memory_equal(hash, want, 32);
}

static void s_vec_check_tree(const s_vec_t *v) {
    uint8_t hashes[16][32], root[32], want[32], path[XS_RECEIPT_PATH_MAX][32];
    uint8_t want_path[XS_RECEIPT_PATH_MAX][32];
    size_t n = 0, len, want_len;
    for (unsigned i = 0; i < v->nfields; i++)
        if (strcmp(v->field[i], "leaf_hash") == 0) {
            assert_true(n < 16);
            s_hex32(v->value[i], hashes[n++]);
        }
    assert_int_equal(xs_receipt_tree_root(hashes, n, root), XS_OK);
    s_hex32(s_vec_get(v, "root"), want);
    if (memcmp(root, want, 32) != 0)
        fail_msg("%s: another root", v->name);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(xs_receipt_tree_path(hashes, n, i, path, &len), XS_OK);
        s_vec_path(v, i, want_path, &want_len);
        if (len != want_len || (len && memcmp(path, want_path, 32 * len) != 0))
            fail_msg("%s: another path of %zu", v->name, i);
    }
}

static void s_vec_check_root(fixture_t *fx, const s_vecs_t *vs, const s_vec_t *v,
                             const uint8_t *bytes, size_t len) {
    uint8_t hub[32], root[32];
    xs_receipt_t *head = &fx->receipt;
    memset(head, 0, sizeof *head);
    s_hex32(s_vec_get(v, "hub"), hub);
    assert_memory_equal(hub, xs_identity_public(vs->hub)->sign, 32);
    assert_string_equal(v->key, "hub");
    head->policy_id = s_str(s_vec_get(v, "policy_id"));
    head->policy_version = (uint32_t)s_int(v, "policy_version");
    s_hex32(s_vec_get(v, "policy_hash"), head->policy_hash);
    head->generation = (uint64_t)s_int(v, "generation");
    head->issued_at = s_int(v, "issued_at");
    s_hex32(s_vec_get(v, "root"), root);
    xs_writer_t env;
    xs_writer_init(&env, 1024);
    assert_int_equal(
        xs_receipt_root_sign(&env, vs->hub, head, (size_t)s_int(v, "leaf_count"), root), XS_OK);
    s_vec_same(v, bytes, len, &env);
    xs_writer_free(&env);
    /* Its body and signature; the body's first 36 bytes fixed, the key among them. */
    const uint8_t *body, *sig;
    size_t body_len, want_len;
    uint8_t *want = s_unhex(s_vec_get(v, "body"), &want_len);
    assert_int_equal(xs_codec_split_envelope(bytes, len, &body, &body_len, &sig, 64), XS_OK);
    assert_int_equal(body_len, want_len);
    assert_memory_equal(body, want, want_len);
    assert_memory_equal(body, "\x99\x04\xc4\x20", 4);
    assert_memory_equal(body + 4, hub, 32);
    free(want);
    want = s_unhex(s_vec_get(v, "signature"), &want_len);
    assert_int_equal(want_len, 64);
    assert_memory_equal(sig, want, 64);
    free(want);
}

static void s_vec_check_receipt(fixture_t *fx, const s_vecs_t *vs, const s_vec_t *v,
                                const uint8_t *bytes, size_t len) {
    static const struct {
        const char *name;
        xs_err err;
    } expects[] = {{"ok", XS_OK},
                   {"malformed", XS_EMALFORMED},
                   {"version", XS_EVERSION},
                   {"crypto", XS_ECRYPTO},
                   {"toobig", XS_ETOOBIG}};
    const uint8_t *hub = xs_identity_public(vs->hub)->sign;
    size_t e = 0;
    while (e < sizeof expects / sizeof expects[0] && strcmp(v->expect, expects[e].name) != 0)
        e++;
    if (e == sizeof expects / sizeof expects[0])
        fail_msg("%s: bad expect %s", v->name, v->expect);
    xs_err err = xs_receipt_open(bytes, len, hub, &fx->opened);
    if (err != expects[e].err)
        fail_msg("%s (line %u): opened with %d, want %s", v->name, v->line, err, v->expect);
    if (err != XS_OK)
        return;
    /* The leaf's content, the root's policy, generation and time. */
    const s_vec_t *root = s_vec_find(vs, s_vec_get(v, "root"));
    const s_vec_t *leaf = s_vec_find(vs, s_vec_get(v, "leaf"));
    const s_vec_t *tree = s_vec_find(vs, s_vec_get(v, "path"));
    s_vec_leaf(leaf, &fx->receipt);
    fx->receipt.policy_id = s_str(s_vec_get(root, "policy_id"));
    fx->receipt.policy_version = (uint32_t)s_int(root, "policy_version");
    s_hex32(s_vec_get(root, "policy_hash"), fx->receipt.policy_hash);
    fx->receipt.generation = (uint64_t)s_int(root, "generation");
    fx->receipt.issued_at = s_int(root, "issued_at");
    s_assert_same(&fx->receipt, &fx->opened);
    assert_memory_equal(fx->opened.hub, hub, 32);
    /* Built again from its parts. */
    size_t root_len, leaf_len, path_len, index = (size_t)s_int(v, "index");
    uint8_t *root_bytes = s_unhex(root->hex, &root_len),
            *leaf_bytes = s_unhex(leaf->hex, &leaf_len);
    uint8_t path[XS_RECEIPT_PATH_MAX][32];
    s_vec_path(tree, index, path, &path_len);
    xs_writer_t again;
    xs_writer_init(&again, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_standalone(&again, root_bytes, root_len, leaf_bytes, leaf_len,
                                           index, path, path_len),
                     XS_OK);
    s_vec_same(v, bytes, len, &again);
    xs_writer_free(&again);
    free(root_bytes);
    free(leaf_bytes);
    /* Its text form (protocol.md §4.1), both ways. */
    char text[XS_RECEIPT_TEXT_MAX + 1];
    uint8_t back[XS_RECEIPT_TEXT_BYTES_MAX];
    size_t text_len, back_len;
    const char *want = s_vec_get(v, "text");
    assert_int_equal(xs_receipt_text_encode(bytes, len, text, sizeof text, &text_len), XS_OK);
    assert_string_equal(text, want);
    assert_int_equal(xs_receipt_text_decode(want, strlen(want), back, sizeof back, &back_len),
                     XS_OK);
    assert_int_equal(back_len, len);
    assert_memory_equal(back, bytes, len);
}

/* What root_3's page gives: each receipt's bytes, in order. */
typedef struct s_vec_page {
    const s_vecs_t *vs;
    const s_vec_t *want[4];
    size_t calls;
} s_vec_page_t;

static xs_err s_vec_on_leaf(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                            const xs_receipt_t *opened) {
    (void)opened;
    s_vec_page_t *page = ctx;
    size_t want_len;
    assert_true(index < 3 && index == page->calls);
    page->calls++;
    uint8_t *want = s_unhex(page->want[index]->hex, &want_len);
    assert_int_equal(len, want_len);
    assert_memory_equal(receipt, want, len);
    free(want);
    return XS_OK;
}

static void test_root_vectors(void **state) {
    fixture_t *fx = *state;
    s_vecs_t *vs = calloc(1, sizeof *vs);
    unsigned kinds[4] = {0}, refused[5] = {0};
    static const char *const kind_names[4] = {"leaf", "tree", "root", "receipt"};
    assert_non_null(vs);
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0x20 + i);
    assert_int_equal(xs_identity_from_seed(&vs->hub, seed), XS_OK);
    s_vecs_read(vs);
    for (unsigned i = 0; i < vs->count; i++) {
        const s_vec_t *v = &vs->v[i];
        unsigned k = 0;
        while (k < 4 && (!v->kind || strcmp(v->kind, kind_names[k]) != 0))
            k++;
        if (k == 4) {
            fail_msg("%s (line %u): no kind, or an unknown one", v->name, v->line);
            return;
        }
        kinds[k]++;
        if (k == 1) {
            s_vec_check_tree(v);
            continue;
        }
        if (!v->hex || !v->expect)
            fail_msg("%s (line %u): hex and expect are required", v->name, v->line);
        size_t len;
        uint8_t *bytes = s_unhex(v->hex, &len);
        if (k == 0)
            s_vec_check_leaf(fx, v, bytes, len);
        else if (k == 2)
            s_vec_check_root(fx, vs, v, bytes, len);
        else
            s_vec_check_receipt(fx, vs, v, bytes, len);
        if (k == 3 && strcmp(v->expect, "ok") != 0)
            refused[strcmp(v->expect, "malformed") == 0 ? 0
                    : strcmp(v->expect, "crypto") == 0  ? 1
                                                        : 2]++;
        free(bytes);
    }
    assert_true(kinds[0] >= 3 && kinds[1] >= 3 && kinds[2] >= 1 && kinds[3] >= 10);
    assert_true(refused[0] > 0 && refused[1] > 0 && refused[2] > 0);

    /* root_3's page, its three leaves: exactly the three standalone receipts. */
    const s_vec_t *root = s_vec_find(vs, "root_3");
    xs_proto_blob_t leaves[3];
    uint8_t *owned[3];
    s_vec_page_t page = {.vs = vs};
    for (size_t i = 0; i < 3; i++) {
        static const char *const names[3] = {"receipt_t0001", "receipt_t0002", "receipt_t0003"};
        page.want[i] = s_vec_find(vs, names[i]);
        assert_int_equal(s_int(page.want[i], "index"), (int64_t)i);
        owned[i] = s_unhex(s_vec_find(vs, s_vec_get(page.want[i], "leaf"))->hex, &leaves[i].len);
        leaves[i].ptr = owned[i];
    }
    size_t root_len;
    uint8_t *root_bytes = s_unhex(root->hex, &root_len);
    assert_int_equal(xs_receipt_page_open(root_bytes, root_len, leaves, 3,
                                          xs_identity_public(vs->hub)->sign, s_vec_on_leaf, &page),
                     XS_OK);
    assert_int_equal(page.calls, 3);
    free(root_bytes);
    for (size_t i = 0; i < 3; i++)
        free(owned[i]);
    xs_identity_destroy(&vs->hub);
    free(vs->text);
    free(vs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_wrong_hub),
        cmocka_unit_test(test_sign_refuses),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_body_rules),
        cmocka_unit_test(test_closed_year),
        cmocka_unit_test(test_records_hash),
        cmocka_unit_test(test_build_from_certify),
        cmocka_unit_test(test_policy_envelope),
        cmocka_unit_test(test_text_round_trip),
        cmocka_unit_test(test_text_every_change),
        cmocka_unit_test(test_text_limits),
        cmocka_unit_test(test_tree_shape),
        cmocka_unit_test(test_page_round_trip),
        cmocka_unit_test(test_standalone_tampered),
        cmocka_unit_test(test_page_refused),
        cmocka_unit_test(test_leaf_rules),
        cmocka_unit_test(test_root_refuses),
        cmocka_unit_test(test_standalone_limits),
        cmocka_unit_test(test_root_vectors),
    };
    return cmocka_run_group_tests_name("receipt", tests, s_setup, s_teardown);
}
