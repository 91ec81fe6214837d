/* test_receipt: hub-signed receipts, their records_hash, building one from a certified ledger,
 * signed policy envelopes, and a receipt as text (schema/protocol.md §4, §4.1, §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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
    };
    return cmocka_run_group_tests_name("receipt", tests, s_setup, s_teardown);
}
