/* test_batch: sealing and opening signed batch envelopes (schema/protocol.md §2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "xs/batch.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/record.h"

/* The signature context of protocol.md §1, NUL included. */
static const char s_context[] = "xueshi-batch-1";

#define S_RECORDS 3

typedef struct fixture {
    xs_identity_t *node;  /* the sealing node */
    xs_identity_t *other; /* another enrolled node */
    xs_writer_t records[S_RECORDS];
    xs_batch_slice_t slices[S_RECORDS];
} fixture_t;

static xs_identity_t *s_key(uint8_t fill) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

/* Encodes a lecture record of teacher_id into w. */
static void s_lecture(xs_writer_t *w, const char *teacher_id, uint32_t minutes) {
    xs_record_t rec;
    xs_record_init(&rec);
    rec.present |=
        1u << XS_F_TEACHER_ID | 1u << XS_F_DATE | 1u << XS_F_CATEGORY | 1u << XS_F_MINUTES;
    rec.teacher_id.ptr = teacher_id;
    rec.teacher_id.len = (uint32_t)strlen(teacher_id);
    rec.date = 20159;
    rec.category = XS_CAT_LECTURE;
    rec.minutes = minutes;
    xs_writer_init(w, XS_RECORD_MAX);
    xs_record_encode(&rec, w);
    assert_int_equal(xs_writer_err(w), XS_OK);
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->node = s_key(0x11);
    fx->other = s_key(0x22);
    static const char *const teachers[S_RECORDS] = {"T0001", "T0002", "T0003"};
    for (int i = 0; i < S_RECORDS; i++) {
        s_lecture(&fx->records[i], teachers[i], 45u + 15u * (uint32_t)i);
        fx->slices[i].ptr = fx->records[i].data;
        fx->slices[i].len = fx->records[i].len;
    }
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_identity_destroy(&fx->node);
    xs_identity_destroy(&fx->other);
    for (int i = 0; i < S_RECORDS; i++)
        xs_writer_free(&fx->records[i]);
    free(fx);
    return 0;
}

/* Seals the fixture's records as seq 1..3 into env (caller frees). */
static void s_seal_first(const fixture_t *fx, xs_writer_t *env, uint8_t hash[32]) {
    xs_writer_init(env, XS_BATCH_MAX_BYTES);
    assert_int_equal(
        xs_batch_seal(env, fx->node, 1, NULL, NULL, 1741770000, fx->slices, S_RECORDS, hash),
        XS_OK);
}

/* Wraps body in an envelope signed by id over context || body, as a sealer would. */
static void s_wrap(xs_writer_t *env, const xs_identity_t *id, const char *context,
                   size_t context_len, const uint8_t *body, size_t body_len) {
    uint8_t *signed_bytes = malloc(context_len + body_len);
    uint8_t sig[XS_SIGNATURE_BYTES];
    assert_non_null(signed_bytes);
    memcpy(signed_bytes, context, context_len);
    memcpy(signed_bytes + context_len, body, body_len);
    xs_identity_sign(id, signed_bytes, context_len + body_len, sig);
    free(signed_bytes);
    xs_writer_init(env, XS_BATCH_MAX_BYTES + 1024);
    xs_codec_put_array(env, 2);
    xs_codec_put_bin(env, body, body_len);
    xs_codec_put_bin(env, sig, sizeof sig);
    assert_int_equal(xs_writer_err(env), XS_OK);
}

/* Writes a body header (protocol.md §2, elements 0..6) for origin id; the caller appends
 * the records element. */
static void s_header(xs_writer_t *body, const xs_identity_t *id, uint64_t first_seq, uint64_t count,
                     const uint8_t *prev_hash) {
    xs_writer_init(body, XS_BATCH_MAX_BYTES);
    xs_codec_put_array(body, 8);
    xs_codec_put_uint(body, 1);
    xs_codec_put_bin(body, xs_identity_public(id)->sign, 32);
    xs_codec_put_uint(body, first_seq);
    xs_codec_put_uint(body, count);
    if (prev_hash)
        xs_codec_put_bin(body, prev_hash, 32);
    else
        xs_codec_put_nil(body);
    xs_codec_put_nil(body);
    xs_codec_put_int(body, 1741770000);
}

/* Signs body properly (the node's key, the batch context) and opens the envelope. */
static xs_err s_open_signed_body(const fixture_t *fx, const xs_writer_t *body) {
    xs_writer_t env;
    xs_batch_t batch;
    assert_int_equal(xs_writer_err(body), XS_OK);
    s_wrap(&env, fx->node, s_context, sizeof s_context, body->data, body->len);
    xs_err err = xs_batch_open(env.data, env.len, &batch);
    xs_writer_free(&env);
    return err;
}

static void test_round_trip(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    uint8_t hash[32], body_hash[32];
    xs_batch_t batch;
    s_seal_first(fx, &env, hash);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);

    assert_memory_equal(batch.origin, xs_identity_public(fx->node)->sign, 32);
    assert_int_equal(batch.first_seq, 1);
    assert_int_equal(batch.count, S_RECORDS);
    assert_false(batch.has_prev_hash);
    assert_false(batch.has_policy_hash);
    assert_int_equal(batch.sealed_at, 1741770000);
    assert_memory_equal(batch.hash, hash, 32);
    xs_identity_hash(batch.body, batch.body_len, body_hash);
    assert_memory_equal(body_hash, hash, 32);
    /* The fixed prefix of protocol.md §2. */
    static const uint8_t prefix[4] = {0x98, 0x01, 0xc4, 0x20};
    assert_memory_equal(batch.body, prefix, 4);
    assert_memory_equal(batch.body + 4, batch.origin, 32);
    assert_true(batch.body > (const uint8_t *)env.data &&
                batch.body + batch.body_len <= (const uint8_t *)env.data + env.len);

    /* Records come back byte for byte, with their seq and their slice of the envelope. */
    xs_batch_iter_t it;
    xs_batch_entry_t entry;
    xs_record_t rec;
    xs_batch_iter_init(&it, &batch);
    for (uint32_t i = 0; i < S_RECORDS; i++) {
        assert_int_equal(xs_batch_next(&it, &entry, i % 2 ? &rec : NULL), XS_OK);
        assert_int_equal(entry.index, i);
        assert_int_equal(entry.seq, 1 + i);
        assert_int_equal(entry.len, fx->slices[i].len);
        assert_memory_equal(entry.bytes, fx->slices[i].ptr, entry.len);
        assert_ptr_equal(env.data + entry.offset, entry.bytes);
        if (i % 2)
            assert_int_equal(rec.minutes, 45u + 15u * i);
    }
    assert_int_equal(xs_batch_next(&it, &entry, NULL), XS_ENOTFOUND);

    uint8_t origin[32];
    assert_int_equal(xs_batch_peek_origin(env.data, env.len, origin), XS_OK);
    assert_memory_equal(origin, batch.origin, 32);
    xs_writer_free(&env);
}

/* A second batch chains to the first through prev_hash, and carries the policy hash. */
static void test_chain(void **state) {
    fixture_t *fx = *state;
    xs_writer_t first, second;
    uint8_t hash1[32], hash2[32], policy_hash[32];
    xs_batch_t batch;
    memset(policy_hash, 0xab, sizeof policy_hash);
    s_seal_first(fx, &first, hash1);
    xs_writer_init(&second, XS_BATCH_MAX_BYTES);
    assert_int_equal(
        xs_batch_seal(&second, fx->node, 4, hash1, policy_hash, -5, fx->slices, 2, hash2), XS_OK);
    assert_int_equal(xs_batch_open(second.data, second.len, &batch), XS_OK);
    assert_int_equal(batch.first_seq, 4);
    assert_int_equal(batch.count, 2);
    assert_true(batch.has_prev_hash);
    assert_memory_equal(batch.prev_hash, hash1, 32);
    assert_true(batch.has_policy_hash);
    assert_memory_equal(batch.policy_hash, policy_hash, 32);
    assert_int_equal(batch.sealed_at, -5);
    assert_memory_not_equal(hash1, hash2, 32);
    /* Sealing is deterministic: the same inputs give the same bytes. */
    xs_writer_t again;
    uint8_t hash3[32];
    xs_writer_init(&again, XS_BATCH_MAX_BYTES);
    assert_int_equal(
        xs_batch_seal(&again, fx->node, 4, hash1, policy_hash, -5, fx->slices, 2, hash3), XS_OK);
    assert_int_equal(again.len, second.len);
    assert_memory_equal(again.data, second.data, second.len);
    xs_writer_free(&first);
    xs_writer_free(&second);
    xs_writer_free(&again);
}

/* Every single-bit and whole-byte change anywhere is refused; only a change of the format
 * byte may read as another version. */
static void test_flipped_bytes(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    uint8_t hash[32];
    xs_batch_t batch;
    s_seal_first(fx, &env, hash);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    size_t body_at = (size_t)(batch.body - env.data);
    size_t format_at = body_at + 1;
    uint8_t *copy = malloc(env.len);
    assert_non_null(copy);
    static const uint8_t flips[] = {0x01, 0x02, 0x10, 0x80, 0xff};
    for (size_t i = 0; i < env.len; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(copy, env.data, env.len);
            copy[i] ^= flips[f];
            xs_err err = xs_batch_open(copy, env.len, &batch);
            if (err == XS_EVERSION && i == format_at)
                continue;
            if (err != XS_ECRYPTO && err != XS_EMALFORMED)
                fail_msg("byte %zu ^ 0x%02x: %d", i, flips[f], err);
        }
    }
    /* A change inside the body or the signature is a signature failure, not a parse error. */
    memcpy(copy, env.data, env.len);
    copy[env.len - 1] ^= 1;
    assert_int_equal(xs_batch_open(copy, env.len, &batch), XS_ECRYPTO);
    memcpy(copy, env.data, env.len);
    copy[body_at + 40] ^= 1;
    assert_int_equal(xs_batch_open(copy, env.len, &batch), XS_ECRYPTO);
    free(copy);
    xs_writer_free(&env);
}

static void test_other_key(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env, forged;
    uint8_t hash[32];
    xs_batch_t batch;
    s_seal_first(fx, &env, hash);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);

    /* The node's body, signed by another key. */
    s_wrap(&forged, fx->other, s_context, sizeof s_context, batch.body, batch.body_len);
    assert_int_equal(xs_batch_open(forged.data, forged.len, &batch), XS_ECRYPTO);
    xs_writer_free(&forged);

    /* The node's key, but a signature made for another purpose. */
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    static const char receipt_context[] = "xueshi-receipt-1";
    s_wrap(&forged, fx->node, receipt_context, sizeof receipt_context, batch.body, batch.body_len);
    assert_int_equal(xs_batch_open(forged.data, forged.len, &batch), XS_ECRYPTO);
    xs_writer_free(&forged);

    /* Without the context's NUL byte. */
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    s_wrap(&forged, fx->node, s_context, sizeof s_context - 1, batch.body, batch.body_len);
    assert_int_equal(xs_batch_open(forged.data, forged.len, &batch), XS_ECRYPTO);
    xs_writer_free(&forged);

    /* Another node seals, then claims to be the first node: the origin is signed. */
    xs_writer_t theirs;
    xs_writer_init(&theirs, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&theirs, fx->other, 1, NULL, NULL, 0, fx->slices, 1, hash),
                     XS_OK);
    assert_int_equal(xs_batch_open(theirs.data, theirs.len, &batch), XS_OK);
    size_t origin_at = (size_t)(batch.body - theirs.data) + 4;
    memcpy(theirs.data + origin_at, xs_identity_public(fx->node)->sign, 32);
    assert_int_equal(xs_batch_open(theirs.data, theirs.len, &batch), XS_ECRYPTO);
    xs_writer_free(&theirs);
    xs_writer_free(&env);
}

static void test_truncations(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env, body;
    uint8_t hash[32];
    xs_batch_t batch;
    s_seal_first(fx, &env, hash);
    for (size_t n = 0; n < env.len; n++) {
        uint8_t *prefix = malloc(n ? n : 1); /* exact size, so ASan sees any overread */
        assert_non_null(prefix);
        memcpy(prefix, env.data, n);
        assert_int_equal(xs_batch_open(prefix, n, &batch), XS_EMALFORMED);
        free(prefix);
    }
    /* Every prefix of the body, each properly signed, is refused after verification. */
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    for (size_t n = 0; n < batch.body_len; n++) {
        xs_writer_init(&body, XS_BATCH_MAX_BYTES);
        xs_writer_raw(&body, batch.body, n);
        xs_writer_t wrapped;
        s_wrap(&wrapped, fx->node, s_context, sizeof s_context, body.data ? body.data : hash, n);
        xs_batch_t b2;
        assert_int_equal(xs_batch_open(wrapped.data, wrapped.len, &b2), XS_EMALFORMED);
        xs_writer_free(&wrapped);
        xs_writer_free(&body);
    }
    /* And trailing bytes, after the envelope or after the body (signed), are refused. */
    xs_writer_t longer;
    xs_writer_init(&longer, XS_BATCH_MAX_BYTES);
    xs_writer_raw(&longer, env.data, env.len);
    xs_codec_put_nil(&longer);
    assert_int_equal(xs_batch_open(longer.data, longer.len, &batch), XS_EMALFORMED);
    xs_writer_free(&longer);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    xs_writer_init(&body, XS_BATCH_MAX_BYTES);
    xs_writer_raw(&body, batch.body, batch.body_len);
    xs_codec_put_uint(&body, 0);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);
    xs_writer_free(&env);
}

/* A count the records disagree with, either way, is refused even though properly signed. */
static void test_count_mismatch(void **state) {
    fixture_t *fx = *state;
    xs_writer_t body;

    s_header(&body, fx->node, 1, 3, NULL); /* says 3, holds 2 */
    xs_codec_put_array(&body, 2);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    xs_writer_raw(&body, fx->slices[1].ptr, fx->slices[1].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, 1, 2, NULL); /* says 2, holds 3 */
    xs_codec_put_array(&body, 3);
    for (int i = 0; i < 3; i++)
        xs_writer_raw(&body, fx->slices[i].ptr, fx->slices[i].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, 1, 3, NULL); /* array says 3, but only 2 records follow */
    xs_codec_put_array(&body, 3);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    xs_writer_raw(&body, fx->slices[1].ptr, fx->slices[1].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, 1, 0, NULL); /* count 0 */
    xs_codec_put_array(&body, 0);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    /* The well-formed control: the same helper with matching counts opens. */
    s_header(&body, fx->node, 1, 2, NULL);
    xs_codec_put_array(&body, 2);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    xs_writer_raw(&body, fx->slices[1].ptr, fx->slices[1].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_OK);
    xs_writer_free(&body);
}

/* Counts far beyond the bytes present are refused from the header alone. */
static void test_huge_counts(void **state) {
    fixture_t *fx = *state;
    xs_writer_t body;
    static const uint8_t ten[10] = {0x81, 0x00, 0x01, 0x81, 0x00, 0x01, 0x81, 0x00, 0x01, 0xc0};

    s_header(&body, fx->node, 1, 4096, NULL);
    xs_writer_raw(&body, "\xdc\x10\x00", 3); /* array16 of 4096 */
    xs_writer_raw(&body, ten, sizeof ten);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, 1, 4096, NULL);
    xs_writer_raw(&body, "\xdd\xff\xff\xff\xff", 5); /* array32 of 2^32 - 1 */
    xs_writer_raw(&body, ten, sizeof ten);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, 1, 4097, NULL); /* over the protocol's limit */
    xs_codec_put_array(&body, 1);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    /* An envelope whose body bin claims more than is there. */
    static const uint8_t env[] = {0x92, 0xc6, 0x7f, 0xff, 0xff, 0xff, 0x98, 0x01};
    xs_batch_t batch;
    assert_int_equal(xs_batch_open(env, sizeof env, &batch), XS_EMALFORMED);
    uint8_t origin[32];
    assert_int_equal(xs_batch_peek_origin(env, sizeof env, origin), XS_EMALFORMED);
}

/* prev_hash is nil exactly when first_seq is 1. */
static void test_prev_hash_rule(void **state) {
    fixture_t *fx = *state;
    xs_writer_t body, env;
    uint8_t hash[32], prev[32];
    memset(prev, 7, sizeof prev);

    s_header(&body, fx->node, 5, 1, NULL);
    xs_codec_put_array(&body, 1);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, 1, 1, prev);
    xs_codec_put_array(&body, 1);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, 0, 1, NULL); /* no seq 0 */
    xs_codec_put_array(&body, 1);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, UINT64_MAX, 2, prev); /* the range passes 2^64 - 1 */
    xs_codec_put_array(&body, 2);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    xs_writer_raw(&body, fx->slices[1].ptr, fx->slices[1].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    /* The sealer refuses the same mistakes. */
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 5, NULL, NULL, 0, fx->slices, 1, hash),
                     XS_EINVAL);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, prev, NULL, 0, fx->slices, 1, hash),
                     XS_EINVAL);
    assert_int_equal(xs_batch_seal(&env, fx->node, 0, NULL, NULL, 0, fx->slices, 1, hash),
                     XS_EINVAL);
    assert_int_equal(xs_batch_seal(&env, fx->node, UINT64_MAX, prev, NULL, 0, fx->slices, 2, hash),
                     XS_EINVAL);
    assert_int_equal(xs_batch_seal(&env, fx->node, UINT64_MAX, prev, NULL, 0, fx->slices, 1, hash),
                     XS_OK);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, fx->slices, 0, hash),
                     XS_EINVAL);
    xs_writer_free(&env);
}

/* Writes a body header as s_header does, of the given format. */
static void s_header_format(xs_writer_t *body, const xs_identity_t *id, unsigned format,
                            uint64_t count) {
    xs_writer_init(body, XS_BATCH_MAX_BYTES);
    xs_codec_put_array(body, 8);
    xs_codec_put_uint(body, format);
    xs_codec_put_bin(body, xs_identity_public(id)->sign, 32);
    xs_codec_put_uint(body, 1);
    xs_codec_put_uint(body, count);
    xs_codec_put_nil(body);
    xs_codec_put_nil(body);
    xs_codec_put_int(body, 1741770000);
}

/* A version-2 record: a unit design with its title and lessons (records.md §2, key 22). */
static void s_unit_design(xs_writer_t *w) {
    xs_record_t rec;
    xs_reason why;
    static const struct {
        xs_field f;
        const char *text;
    } cells[] = {
        {XS_F_TEACHER_ID, "T0006"},         {XS_F_DATE, "2025-03-20"},
        {XS_F_CATEGORY, "teaching_design"}, {XS_F_UNIT, "1"},
        {XS_F_WORK, "分数的初步认识"},      {XS_F_LESSONS, "4"},
    };
    xs_record_init(&rec);
    for (size_t i = 0; i < sizeof cells / sizeof *cells; i++)
        assert_int_equal(
            xs_record_set_text(&rec, cells[i].f, cells[i].text, strlen(cells[i].text), &why),
            XS_OK);
    xs_writer_init(w, XS_RECORD_MAX);
    xs_record_encode(&rec, w);
    assert_int_equal(xs_writer_err(w), XS_OK);
}

static void test_versions(void **state) {
    fixture_t *fx = *state;
    xs_writer_t body;
    xs_batch_t batch;

    /* A body of format 4 is another version, refused before any signature check. */
    xs_writer_init(&body, 4096);
    xs_codec_put_array(&body, 9);
    xs_codec_put_uint(&body, 4);
    xs_codec_put_bin(&body, xs_identity_public(fx->node)->sign, 32);
    xs_writer_t env;
    s_wrap(&env, fx->other, s_context, sizeof s_context, body.data, body.len);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_EVERSION);
    uint8_t origin[32];
    assert_int_equal(xs_batch_peek_origin(env.data, env.len, origin), XS_EVERSION);
    xs_writer_free(&env);
    xs_writer_free(&body);

    /* Format 1, 2 or 3 written in a wider integer breaks the fixed prefix. */
    for (unsigned format = 1; format <= 3; format++) {
        xs_writer_init(&body, 4096);
        xs_writer_raw(&body, "\x98\xcc", 2);
        xs_writer_raw(&body, &(uint8_t){(uint8_t)format}, 1);
        xs_codec_put_bin(&body, xs_identity_public(fx->node)->sign, 32);
        assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
        xs_writer_free(&body);
    }

    /* A record of version 2 (no lessons) inside a format-1 batch. */
    static const uint8_t v2[] = {0x83, 0x00, 0x02, 0x02, 0xa2, 'T', '1', 0x05, 0x01};
    s_header(&body, fx->node, 1, 1, NULL);
    xs_codec_put_array(&body, 1);
    xs_writer_raw(&body, v2, sizeof v2);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EVERSION);
    xs_writer_free(&body);
    /* The same record in a format-2 batch opens, and the sealer writes format 2 for it. */
    s_header_format(&body, fx->node, 2, 1);
    xs_codec_put_array(&body, 1);
    xs_writer_raw(&body, v2, sizeof v2);
    assert_int_equal(s_open_signed_body(fx, &body), XS_OK);
    xs_writer_free(&body);
    xs_batch_slice_t slice = {v2, sizeof v2};
    uint8_t hash[32];
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, &slice, 1, hash), XS_OK);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    assert_int_equal(batch.format, 2);
    xs_writer_free(&env);

    /* A record of version 3 (no review keys) in a format-1 or format-2 batch; in a format-3
     * batch it opens, and the sealer writes format 3 for it. */
    static const uint8_t v3[] = {0x83, 0x00, 0x03, 0x02, 0xa2, 'T', '1', 0x05, 0x01};
    for (unsigned format = 1; format <= 3; format++) {
        s_header_format(&body, fx->node, format, 2);
        xs_codec_put_array(&body, 2);
        xs_writer_raw(&body, v2, sizeof v2);
        xs_writer_raw(&body, v3, sizeof v3);
        assert_int_equal(s_open_signed_body(fx, &body), format == 3 ? XS_OK : XS_EVERSION);
        xs_writer_free(&body);
    }
    slice = (xs_batch_slice_t){v3, sizeof v3};
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, &slice, 1, hash), XS_OK);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    assert_int_equal(batch.format, 3);
    xs_writer_free(&env);

    /* A record of version 4 is refused in every format, and by the sealer. */
    static const uint8_t v4[] = {0x83, 0x00, 0x04, 0x02, 0xa2, 'T', '1', 0x05, 0x01};
    for (unsigned format = 1; format <= 3; format++) {
        s_header_format(&body, fx->node, format, 2);
        xs_codec_put_array(&body, 2);
        xs_writer_raw(&body, v3, sizeof v3);
        xs_writer_raw(&body, v4, sizeof v4);
        assert_int_equal(s_open_signed_body(fx, &body), XS_EVERSION);
        xs_writer_free(&body);
    }
    slice = (xs_batch_slice_t){v4, sizeof v4};
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, &slice, 1, hash), XS_EVERSION);
    xs_writer_free(&env);

    /* Format 2 is for batches with a version-2 record: one of version-1 records only is not a
     * body any sealer writes (protocol.md §2). */
    s_header_format(&body, fx->node, 2, 2);
    xs_codec_put_array(&body, 2);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    xs_writer_raw(&body, fx->slices[1].ptr, fx->slices[1].len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EVERSION);
    xs_writer_free(&body);
    /* Likewise format 3 for batches with a version-3 record: version 1 and 2 are not enough. */
    s_header_format(&body, fx->node, 3, 2);
    xs_codec_put_array(&body, 2);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    xs_writer_raw(&body, v2, sizeof v2);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EVERSION);
    xs_writer_free(&body);
}

/* A review: the school returns record 2 of its node (records.md §3.1, a version-3 record). */
static void s_review(xs_writer_t *w) {
    xs_record_t rec;
    xs_record_init(&rec);
    rec.kind = XS_KIND_REVIEW;
    rec.teacher_id = (xs_str_t){"T0001", 5};
    rec.school_id = (xs_str_t){"S01", 3};
    rec.date = 20166;
    rec.reviews = 2;
    rec.verdict = XS_VERDICT_RETURNED;
    rec.note = (xs_str_t){"学时不符", (uint32_t)strlen("学时不符")};
    rec.present |= (1u << XS_F_TEACHER_ID) | (1u << XS_F_SCHOOL_ID) | (1u << XS_F_DATE) |
                   (1u << XS_F_REVIEWS) | (1u << XS_F_VERDICT) | (1u << XS_F_NOTE);
    xs_writer_init(w, XS_RECORD_MAX);
    xs_record_encode(&rec, w);
    assert_int_equal(xs_writer_err(w), XS_OK);
}

/* A review travels in a format-3 batch beside version-1 and version-2 records; without it the
 * same records keep format 2 (protocol.md §2). */
static void test_format_3(void **state) {
    fixture_t *fx = *state;
    xs_writer_t unit, review, env;
    xs_batch_t batch;
    uint8_t hash[32];
    s_unit_design(&unit);
    s_review(&review);
    assert_int_equal(((const uint8_t *)review.data)[2], 3); /* version 3 */

    xs_batch_slice_t slices[3] = {fx->slices[0], {unit.data, unit.len}, {review.data, review.len}};
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 1741770000, slices, 3, hash),
                     XS_OK);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    assert_int_equal(batch.format, 3);
    static const uint8_t prefix[4] = {0x98, 0x03, 0xc4, 0x20};
    assert_memory_equal(batch.body, prefix, 4);
    xs_batch_iter_t it;
    xs_batch_entry_t entry;
    xs_record_t rec;
    xs_batch_iter_init(&it, &batch);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(xs_batch_next(&it, &entry, &rec), XS_OK);
        assert_int_equal(entry.len, slices[i].len);
        assert_memory_equal(entry.bytes, slices[i].ptr, entry.len);
        assert_int_equal(rec.version, i + 1);
    }
    assert_int_equal(rec.kind, XS_KIND_REVIEW);
    assert_true(rec.reviews == 2);
    assert_int_equal(rec.verdict, XS_VERDICT_RETURNED);
    xs_writer_free(&env);

    /* Without the review: format 2. */
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 1741770000, slices, 2, hash),
                     XS_OK);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    assert_int_equal(batch.format, 2);
    xs_writer_free(&env);

    /* The review cannot be slipped into a format-2 body. */
    xs_writer_t body;
    s_header_format(&body, fx->node, 2, 2);
    xs_codec_put_array(&body, 2);
    xs_writer_raw(&body, unit.data, unit.len);
    xs_writer_raw(&body, review.data, review.len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EVERSION);
    xs_writer_free(&body);
    xs_writer_free(&unit);
    xs_writer_free(&review);
}

/* A unit design with lessons travels in a format-2 batch beside version-1 records; a batch
 * of version-1 records stays format 1 (protocol.md §2). */
static void test_format_2(void **state) {
    fixture_t *fx = *state;
    xs_writer_t unit, env;
    xs_batch_t batch;
    uint8_t hash[32];
    s_unit_design(&unit);
    assert_int_equal(((const uint8_t *)unit.data)[2], 2); /* version 2 */

    xs_batch_slice_t slices[3] = {fx->slices[0], {unit.data, unit.len}, fx->slices[2]};
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 1741770000, slices, 3, hash),
                     XS_OK);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    assert_int_equal(batch.format, 2);
    static const uint8_t prefix[4] = {0x98, 0x02, 0xc4, 0x20};
    assert_memory_equal(batch.body, prefix, 4);
    assert_memory_equal(batch.hash, hash, 32);
    xs_batch_iter_t it;
    xs_batch_entry_t entry;
    xs_record_t rec;
    xs_batch_iter_init(&it, &batch);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(xs_batch_next(&it, &entry, &rec), XS_OK);
        assert_int_equal(entry.len, slices[i].len);
        assert_memory_equal(entry.bytes, slices[i].ptr, entry.len);
        assert_int_equal(rec.version, i == 1 ? 2 : 1);
    }
    assert_int_equal(rec.category, XS_CAT_LECTURE);
    assert_int_equal(xs_batch_next(&it, &entry, NULL), XS_ENOTFOUND);
    uint8_t origin[32];
    assert_int_equal(xs_batch_peek_origin(env.data, env.len, origin), XS_OK);
    assert_memory_equal(origin, xs_identity_public(fx->node)->sign, 32);

    /* One flipped byte in the signed body of a format-2 batch still fails the signature. */
    uint8_t *copy = malloc(env.len);
    assert_non_null(copy);
    memcpy(copy, env.data, env.len);
    copy[(size_t)(batch.records - (const uint8_t *)env.data) + 3] ^= 0x01;
    assert_int_equal(xs_batch_open(copy, env.len, &batch), XS_ECRYPTO);
    free(copy);
    xs_writer_free(&env);

    /* Without the unit design the same sealer writes format 1. */
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(
        xs_batch_seal(&env, fx->node, 1, NULL, NULL, 1741770000, fx->slices, S_RECORDS, hash),
        XS_OK);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    assert_int_equal(batch.format, 1);
    assert_int_equal(batch.body[1], 0x01);
    xs_writer_free(&env);

    /* The unit design cannot be slipped into a format-1 body. */
    xs_writer_t body;
    s_header(&body, fx->node, 1, 2, NULL);
    xs_codec_put_array(&body, 2);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    xs_writer_raw(&body, unit.data, unit.len);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EVERSION);
    xs_writer_free(&body);
    xs_writer_free(&unit);
}

/* Records that do not decode are refused by both sides. */
static void test_bad_records(void **state) {
    fixture_t *fx = *state;
    xs_writer_t body, env;
    uint8_t hash[32];
    static const uint8_t not_a_map[] = {0x91, 0x01};
    static const uint8_t unknown_key[] = {0x82, 0x00, 0x01, 0x63, 0x01};

    s_header(&body, fx->node, 1, 2, NULL);
    xs_codec_put_array(&body, 2);
    xs_writer_raw(&body, fx->slices[0].ptr, fx->slices[0].len);
    xs_writer_raw(&body, unknown_key, sizeof unknown_key);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    s_header(&body, fx->node, 1, 1, NULL);
    xs_codec_put_array(&body, 1);
    xs_writer_raw(&body, not_a_map, sizeof not_a_map);
    assert_int_equal(s_open_signed_body(fx, &body), XS_EMALFORMED);
    xs_writer_free(&body);

    xs_batch_slice_t slices[2] = {fx->slices[0], {not_a_map, sizeof not_a_map}};
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, slices, 2, hash),
                     XS_EMALFORMED);
    /* Two records' bytes glued into one slice do not pass as one record. */
    uint8_t glued[128];
    memcpy(glued, fx->slices[0].ptr, fx->slices[0].len);
    memcpy(glued + fx->slices[0].len, fx->slices[1].ptr, fx->slices[1].len);
    xs_batch_slice_t one = {glued, fx->slices[0].len + fx->slices[1].len};
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, &one, 1, hash), XS_EMALFORMED);
    xs_writer_free(&env);
}

static void test_size_limits(void **state) {
    fixture_t *fx = *state;
    xs_batch_t batch;
    uint8_t hash[32];

    /* Over 1 MiB is refused before anything is read. */
    uint8_t *big = calloc(1, XS_BATCH_MAX_BYTES + 1);
    assert_non_null(big);
    assert_int_equal(xs_batch_open(big, XS_BATCH_MAX_BYTES + 1, &batch), XS_ETOOBIG);
    free(big);

    /* A record with long strings, repeated until the envelope would pass 1 MiB. */
    static char note[XS_NOTE_MAX + 1], work[XS_WORK_MAX + 1];
    memset(note, 'n', XS_NOTE_MAX);
    memset(work, 'w', XS_WORK_MAX);
    xs_record_t rec;
    xs_record_init(&rec);
    rec.present |= 1u << XS_F_TEACHER_ID | 1u << XS_F_NOTE | 1u << XS_F_WORK;
    rec.teacher_id.ptr = "T0001";
    rec.teacher_id.len = 5;
    rec.note.ptr = note;
    rec.note.len = XS_NOTE_MAX;
    rec.work.ptr = work;
    rec.work.len = XS_WORK_MAX;
    xs_writer_t one;
    xs_writer_init(&one, XS_RECORD_MAX);
    xs_record_encode(&rec, &one);
    assert_int_equal(xs_writer_err(&one), XS_OK);
    /* fits leaves room for the header and signature; over has more record bytes than 1 MiB. */
    uint32_t fits = (uint32_t)((XS_BATCH_MAX_BYTES - 200) / one.len);
    uint32_t over = (uint32_t)(XS_BATCH_MAX_BYTES / one.len + 1);
    xs_batch_slice_t *slices = calloc(over, sizeof *slices);
    assert_non_null(slices);
    for (uint32_t i = 0; i < over; i++) {
        slices[i].ptr = one.data;
        slices[i].len = one.len;
    }
    xs_writer_t env;
    xs_writer_init(&env, 2 * XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, slices, fits, hash), XS_OK);
    assert_true(env.len <= XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    assert_int_equal(batch.count, fits);
    xs_writer_reset(&env);
    assert_int_equal(xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, slices, over, hash),
                     XS_ETOOBIG);
    /* The caller's writer maximum is honoured too. */
    xs_writer_t small;
    xs_writer_init(&small, 64);
    assert_int_equal(xs_batch_seal(&small, fx->node, 1, NULL, NULL, 0, fx->slices, 1, hash),
                     XS_ETOOBIG);
    xs_writer_free(&small);
    free(slices);
    xs_writer_free(&one);
    xs_writer_free(&env);

    /* More than XS_BATCH_MAX_RECORDS is an argument error. */
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(
        xs_batch_seal(&env, fx->node, 1, NULL, NULL, 0, fx->slices, XS_BATCH_MAX_RECORDS + 1, hash),
        XS_EINVAL);
    xs_writer_free(&env);
}

/* The envelope itself: exactly [bin, bin of 64]. */
static void test_envelope_shape(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env, bad;
    uint8_t hash[32];
    xs_batch_t batch;
    s_seal_first(fx, &env, hash);
    assert_int_equal(xs_batch_open(env.data, env.len, &batch), XS_OK);
    const uint8_t *body = batch.body;
    size_t body_len = batch.body_len;
    const uint8_t *sig = batch.signature;

    xs_writer_init(&bad, XS_BATCH_MAX_BYTES); /* signature 63 bytes */
    xs_codec_put_array(&bad, 2);
    xs_codec_put_bin(&bad, body, body_len);
    xs_codec_put_bin(&bad, sig, 63);
    assert_int_equal(xs_batch_open(bad.data, bad.len, &batch), XS_EMALFORMED);
    xs_writer_reset(&bad); /* three elements */
    xs_codec_put_array(&bad, 3);
    xs_codec_put_bin(&bad, body, body_len);
    xs_codec_put_bin(&bad, sig, 64);
    xs_codec_put_nil(&bad);
    assert_int_equal(xs_batch_open(bad.data, bad.len, &batch), XS_EMALFORMED);
    xs_writer_reset(&bad); /* body as str */
    xs_codec_put_array(&bad, 2);
    xs_codec_put_str(&bad, (const char *)body, body_len);
    xs_codec_put_bin(&bad, sig, 64);
    assert_int_equal(xs_batch_open(bad.data, bad.len, &batch), XS_EMALFORMED);
    xs_writer_reset(&bad); /* a body shorter than its fixed prefix */
    xs_codec_put_array(&bad, 2);
    xs_codec_put_bin(&bad, body, 20);
    xs_codec_put_bin(&bad, sig, 64);
    assert_int_equal(xs_batch_open(bad.data, bad.len, &batch), XS_EMALFORMED);
    xs_writer_free(&bad);
    xs_writer_free(&env);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_chain),
        cmocka_unit_test(test_flipped_bytes), cmocka_unit_test(test_other_key),
        cmocka_unit_test(test_truncations),   cmocka_unit_test(test_count_mismatch),
        cmocka_unit_test(test_huge_counts),   cmocka_unit_test(test_prev_hash_rule),
        cmocka_unit_test(test_versions),      cmocka_unit_test(test_format_2),
        cmocka_unit_test(test_format_3),      cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_size_limits),   cmocka_unit_test(test_envelope_shape),
    };
    return cmocka_run_group_tests_name("batch", tests, s_setup, s_teardown);
}
