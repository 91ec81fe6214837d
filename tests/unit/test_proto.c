/* test_proto: message frames (schema/protocol.md §5), and the golden vectors of
 * schema/vectors/protocol.txt for batches, receipts, policy envelopes and frames, checked
 * both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/batch.h"
#include "xs/certify.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/proto.h"
#include "xs/receipt.h"

/* ---- helpers ---- */

static xs_str_t s_str(const char *s) {
    xs_str_t out = {s, (uint32_t)strlen(s)};
    return out;
}

/* Encodes msg into w (caller frees) and checks it worked. */
static void s_encode(const xs_msg_t *msg, xs_writer_t *w) {
    xs_writer_init(w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(msg, w), XS_OK);
}

/* Every prefix of a valid frame is refused as malformed. */
static void s_assert_prefixes_refused(const xs_writer_t *w) {
    xs_msg_t msg;
    for (size_t n = 0; n < w->len; n++) {
        uint8_t *prefix = malloc(n ? n : 1); /* exact size, so ASan sees any overread */
        assert_non_null(prefix);
        memcpy(prefix, w->data, n);
        xs_err err = xs_proto_decode(prefix, n, &msg);
        if (err != XS_EMALFORMED)
            fail_msg("prefix of %zu of %zu bytes: %d", n, w->len, err);
        free(prefix);
    }
}

/* Decodes w; checks the type and that every prefix is refused. */
static void s_decode(const xs_writer_t *w, xs_msg_type type, xs_msg_t *msg) {
    assert_int_equal(xs_proto_decode(w->data, w->len, msg), XS_OK);
    assert_int_equal(msg->type, type);
    s_assert_prefixes_refused(w);
}

/* ---- every message type round-trips ---- */

static void test_hello(void **state) {
    (void)state;
    xs_msg_t in = {.type = XS_MSG_HELLO}, out;
    xs_writer_t w;
    in.u.hello.head_seq = UINT64_MAX;
    in.u.hello.receipts_have = 12;
    in.u.hello.has_policy_hash = 1;
    memset(in.u.hello.policy_hash, 0xcd, 32);
    in.u.hello.has_origin = 1; /* a relay speaking for its satellite */
    memset(in.u.hello.origin, 0x5a, 32);
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_HELLO, &out);
    assert_true(out.u.hello.has_origin);
    assert_memory_equal(out.u.hello.origin, in.u.hello.origin, 32);
    assert_int_equal(out.u.hello.head_seq, UINT64_MAX);
    assert_int_equal(out.u.hello.receipts_have, 12);
    assert_true(out.u.hello.has_policy_hash);
    assert_memory_equal(out.u.hello.policy_hash, in.u.hello.policy_hash, 32);
    xs_writer_free(&w);

    in.u.hello.has_policy_hash = 0;
    in.u.hello.has_origin = 0;
    in.u.hello.head_seq = 0;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_HELLO, &out);
    assert_false(out.u.hello.has_policy_hash);
    assert_false(out.u.hello.has_origin);
    assert_int_equal(out.u.hello.head_seq, 0);
    xs_writer_free(&w);
}

static void test_view(void **state) {
    (void)state;
    static const uint8_t policy[] = {0x92, 0xc4, 0x01, 0x00, 0xc4, 0x00};
    xs_proto_range_t gaps[3] = {{11, 20}, {22, 22}, {30, UINT64_MAX - 1}};
    xs_msg_t in = {.type = XS_MSG_VIEW}, out;
    xs_writer_t w;
    in.u.view.have_through = 10;
    in.u.view.held_max = UINT64_MAX;
    in.u.view.gaps = gaps;
    in.u.view.gap_count = 3;
    in.u.view.window = 8;
    in.u.view.receipts_gen = 99;
    in.u.view.policy.ptr = policy;
    in.u.view.policy.len = sizeof policy;
    in.u.view.fork_seq = 22;
    in.u.view.confirmed_through = 7;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_VIEW, &out);
    assert_int_equal(out.u.view.have_through, 10);
    assert_int_equal(out.u.view.held_max, UINT64_MAX);
    assert_null(out.u.view.gaps);
    assert_int_equal(out.u.view.gap_count, 3);
    xs_proto_iter_t it;
    xs_proto_range_t gap;
    xs_proto_iter_init(&it, &out.u.view.gap_list);
    for (int i = 0; i < 3; i++) {
        assert_true(xs_proto_next_gap(&it, &gap));
        assert_int_equal(gap.from, gaps[i].from);
        assert_int_equal(gap.to, gaps[i].to);
    }
    assert_false(xs_proto_next_gap(&it, &gap));
    assert_int_equal(out.u.view.window, 8);
    assert_int_equal(out.u.view.receipts_gen, 99);
    assert_int_equal(out.u.view.policy.len, sizeof policy);
    assert_memory_equal(out.u.view.policy.ptr, policy, sizeof policy);
    assert_int_equal(out.u.view.fork_seq, 22);
    assert_int_equal(out.u.view.confirmed_through, 7);
    xs_writer_free(&w);

    /* Nothing held: no gaps, policy nil. */
    memset(&in.u.view, 0, sizeof in.u.view);
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_VIEW, &out);
    assert_int_equal(out.u.view.held_max, 0);
    assert_int_equal(out.u.view.gap_count, 0);
    assert_null(out.u.view.policy.ptr);
    xs_proto_iter_init(&it, &out.u.view.gap_list);
    assert_false(xs_proto_next_gap(&it, &gap));
    xs_writer_free(&w);

    /* The encoder refuses gaps that are out of order, overlapping, not above have_through or
     * not below held_max. */
    xs_proto_range_t bad[4][2] = {
        {{5, 6}, {1, 2}}, {{5, 6}, {6, 7}}, {{3, 4}, {8, 9}}, {{5, 6}, {8, 10}}};
    in.u.view.have_through = 3;
    in.u.view.held_max = 10;
    in.u.view.gap_count = 2;
    for (int i = 0; i < 4; i++) {
        in.u.view.gaps = bad[i];
        xs_writer_init(&w, XS_PROTO_FRAME_MAX);
        assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
        xs_writer_free(&w);
    }
    xs_proto_range_t reversed = {9, 8};
    in.u.view.gaps = &reversed;
    in.u.view.gap_count = 1;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    /* held_max below have_through. */
    in.u.view.gap_count = 0;
    in.u.view.held_max = 2;
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
}

static void test_batch_msg(void **state) {
    (void)state;
    uint8_t seed[32] = {9};
    xs_identity_t *node = NULL;
    assert_int_equal(xs_identity_from_seed(&node, seed), XS_OK);
    static const uint8_t rec[] = {0x85, 0x00, 0x01, 0x02, 0xa5, 'T',  '0',  '0',  '0',
                                  '3',  0x04, 0xcd, 0x4d, 0x46, 0x05, 0x01, 0x07, 0x2d};
    xs_batch_slice_t slice = {rec, sizeof rec};
    xs_writer_t env, w;
    uint8_t hash[32];
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, node, 1, NULL, NULL, 0, &slice, 1, hash), XS_OK);
    xs_msg_t in = {.type = XS_MSG_BATCH}, out;
    in.u.batch.envelope.ptr = env.data;
    in.u.batch.envelope.len = env.len;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_BATCH, &out);
    assert_int_equal(out.u.batch.envelope.len, env.len);
    assert_memory_equal(out.u.batch.envelope.ptr, env.data, env.len);
    xs_batch_t batch;
    assert_int_equal(xs_batch_open(out.u.batch.envelope.ptr, out.u.batch.envelope.len, &batch),
                     XS_OK);
    assert_memory_equal(batch.hash, hash, 32);
    xs_writer_free(&w);
    xs_writer_free(&env);
    xs_identity_destroy(&node);
}

static void test_ack(void **state) {
    (void)state;
    xs_proto_rejected_t rejected[2] = {{0, XS_REASON_OUT_OF_SCOPE, {0}},
                                       {1023, XS_REASON_BAD_DATE, {0}}};
    xs_msg_t in = {.type = XS_MSG_ACK}, out;
    xs_writer_t w;
    in.u.ack.first_seq = 1025;
    in.u.ack.count = 1024;
    in.u.ack.status = XS_ACK_ACCEPTED;
    in.u.ack.rejected = rejected;
    in.u.ack.rejected_count = 2;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_ACK, &out);
    assert_int_equal(out.u.ack.first_seq, 1025);
    assert_int_equal(out.u.ack.count, 1024);
    assert_int_equal(out.u.ack.status, XS_ACK_ACCEPTED);
    assert_int_equal(out.u.ack.error, 0);
    assert_int_equal(out.u.ack.rejected_count, 2);
    assert_null(out.u.ack.rejected);
    xs_proto_iter_t it;
    xs_proto_rejected_t rej;
    xs_proto_iter_init(&it, &out.u.ack.rejected_list);
    assert_true(xs_proto_next_rejected(&it, &rej));
    assert_int_equal(rej.index, 0);
    assert_int_equal(rej.reason, XS_REASON_OUT_OF_SCOPE);
    assert_int_equal(rej.code.len, strlen("out_of_scope"));
    assert_memory_equal(rej.code.ptr, "out_of_scope", rej.code.len);
    assert_true(xs_proto_next_rejected(&it, &rej));
    assert_int_equal(rej.index, 1023);
    assert_int_equal(rej.reason, XS_REASON_BAD_DATE);
    assert_false(xs_proto_next_rejected(&it, &rej));
    xs_writer_free(&w);

    /* Held by a relay, not yet confirmed by the hub (protocol.md §8). */
    memset(&in.u.ack, 0, sizeof in.u.ack);
    in.u.ack.first_seq = 7;
    in.u.ack.count = 3;
    in.u.ack.status = XS_ACK_RELAYED;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_ACK, &out);
    assert_int_equal(out.u.ack.status, XS_ACK_RELAYED);
    xs_writer_free(&w);

    /* Refused before the header could be read: no seq, no count, an error code. */
    memset(&in.u.ack, 0, sizeof in.u.ack);
    in.u.ack.status = XS_ACK_REFUSED;
    in.u.ack.error = XS_PCODE_WRONG_ORIGIN;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_ACK, &out);
    assert_int_equal(out.u.ack.status, XS_ACK_REFUSED);
    assert_int_equal(out.u.ack.error, XS_PCODE_WRONG_ORIGIN);
    assert_int_equal(out.u.ack.count, 0);
    xs_writer_free(&w);

    /* What may not be sent: a status past relayed, an error without refusal, a refusal
     * without error, an index at count, more rejected than records, seq without count. */
    struct {
        uint64_t first_seq;
        uint32_t count;
        uint8_t status, error;
        uint32_t rejected_count;
    } bad[] = {{1, 2, XS_ACK_RELAYED + 1, 0, 0}, {1, 2, XS_ACK_HELD, 4, 0},
               {1, 2, XS_ACK_REFUSED, 0, 0},     {1, 1, XS_ACK_ACCEPTED, 0, 2},
               {1, 2, XS_ACK_RELAYED, 4, 0},     {1, 0, XS_ACK_REFUSED, 1, 0},
               {0, 0, XS_ACK_ACCEPTED, 0, 0},    {1, 4097, XS_ACK_ACCEPTED, 0, 0},
               {1, 2, XS_ACK_REFUSED, 9, 0}};
    xs_proto_rejected_t at_count[2] = {{0, XS_REASON_OUT_OF_SCOPE, {0}},
                                       {2, XS_REASON_OUT_OF_SCOPE, {0}}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        in.u.ack.first_seq = bad[i].first_seq;
        in.u.ack.count = bad[i].count;
        in.u.ack.status = bad[i].status;
        in.u.ack.error = bad[i].error;
        in.u.ack.rejected = rejected;
        in.u.ack.rejected_count = bad[i].rejected_count;
        xs_writer_init(&w, XS_PROTO_FRAME_MAX);
        if (xs_proto_encode(&in, &w) != XS_EINVAL)
            fail_msg("bad ack %zu encoded", i);
        xs_writer_free(&w);
    }
    in.u.ack.first_seq = 1;
    in.u.ack.count = 2;
    in.u.ack.status = XS_ACK_ACCEPTED;
    in.u.ack.error = 0;
    in.u.ack.rejected = at_count;
    in.u.ack.rejected_count = 2;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);

    /* A reason code this library does not know still decodes, as XS_REASON_NONE. */
    static const uint8_t frame[] = {0x97, 0x01, 0x04, 0x01, 0x01, 0x00, 0x00,
                                    0x91, 0x92, 0x00, 0xa3, 'n',  'e',  'w'};
    assert_int_equal(xs_proto_decode(frame, sizeof frame, &out), XS_OK);
    xs_proto_iter_init(&it, &out.u.ack.rejected_list);
    assert_true(xs_proto_next_rejected(&it, &rej));
    assert_int_equal(rej.reason, XS_REASON_NONE);
    assert_int_equal(rej.code.len, 3);
}

static void test_fetch(void **state) {
    (void)state;
    xs_msg_t in = {.type = XS_MSG_FETCH}, out;
    xs_writer_t w;
    in.u.fetch.receipts_have = 5;
    in.u.fetch.after = s_str("教师T0001");
    in.u.fetch.has_origin = 1;
    memset(in.u.fetch.origin, 0x77, 32);
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_FETCH, &out);
    assert_true(out.u.fetch.has_origin);
    assert_memory_equal(out.u.fetch.origin, in.u.fetch.origin, 32);
    assert_int_equal(out.u.fetch.receipts_have, 5);
    assert_int_equal(out.u.fetch.after.len, in.u.fetch.after.len);
    assert_memory_equal(out.u.fetch.after.ptr, in.u.fetch.after.ptr, in.u.fetch.after.len);
    xs_writer_free(&w);
    in.u.fetch.after.ptr = NULL;
    in.u.fetch.after.len = 0;
    in.u.fetch.has_origin = 0;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_FETCH, &out);
    assert_null(out.u.fetch.after.ptr);
    assert_false(out.u.fetch.has_origin);
    xs_writer_free(&w);
    /* An after that is no teacher_id. */
    static const char *const bad[] = {
        "", "T\xc0\x80", "12345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < 3; i++) {
        in.u.fetch.after = s_str(bad[i]);
        xs_writer_init(&w, XS_PROTO_FRAME_MAX);
        assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
        xs_writer_free(&w);
    }
}

static void test_receipts(void **state) {
    (void)state;
    static const uint8_t one[] = {1, 2, 3}, two[] = {4};
    xs_proto_blob_t receipts[3] = {{one, sizeof one}, {two, sizeof two}, {one, 0}};
    xs_msg_t in = {.type = XS_MSG_RECEIPTS}, out;
    xs_writer_t w;
    in.u.receipts.generation = 1ull << 33;
    in.u.receipts.receipts = receipts;
    in.u.receipts.receipt_count = 3;
    in.u.receipts.more = 1;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_RECEIPTS, &out);
    assert_int_equal(out.u.receipts.generation, 1ull << 33);
    assert_int_equal(out.u.receipts.receipt_count, 3);
    assert_true(out.u.receipts.more);
    xs_proto_iter_t it;
    xs_proto_blob_t blob;
    xs_proto_iter_init(&it, &out.u.receipts.receipt_list);
    for (int i = 0; i < 3; i++) {
        assert_true(xs_proto_next_receipt(&it, &blob));
        assert_int_equal(blob.len, receipts[i].len);
        if (blob.len)
            assert_memory_equal(blob.ptr, receipts[i].ptr, blob.len);
    }
    assert_false(xs_proto_next_receipt(&it, &blob));
    xs_writer_free(&w);
    in.u.receipts.receipt_count = 0;
    in.u.receipts.more = 0;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_RECEIPTS, &out);
    assert_false(out.u.receipts.more);
    assert_int_equal(out.u.receipts.receipt_count, 0);
    assert_null(out.u.receipts.root.ptr);
    assert_int_equal(out.u.receipts.leaf_count, 0);
    xs_writer_free(&w);
}

/* A hub's page travels as a group: the root envelope and every leaf under it, in order, with
 * no envelope in receipts (protocol.md §5). */
static void test_receipts_group(void **state) {
    (void)state;
    static const uint8_t root[] = {0x92, 0xc4, 0x01, 0x00, 0xc4, 0x00}, a[] = {0x93, 1, 2, 3},
                         b[] = {0x91, 0xc0};
    xs_proto_blob_t leaves[3] = {{a, sizeof a}, {b, sizeof b}, {a, 0}};
    xs_msg_t in = {.type = XS_MSG_RECEIPTS}, out;
    xs_writer_t w;
    in.u.receipts.generation = 42;
    in.u.receipts.more = 1;
    in.u.receipts.root = (xs_proto_blob_t){root, sizeof root};
    in.u.receipts.leaves = leaves;
    in.u.receipts.leaf_count = 3;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_RECEIPTS, &out);
    assert_int_equal(out.u.receipts.generation, 42);
    assert_true(out.u.receipts.more);
    assert_int_equal(out.u.receipts.receipt_count, 0);
    assert_int_equal(out.u.receipts.root.len, sizeof root);
    assert_memory_equal(out.u.receipts.root.ptr, root, sizeof root);
    assert_int_equal(out.u.receipts.leaf_count, 3);
    assert_null(out.u.receipts.leaves);
    xs_proto_iter_t it;
    xs_proto_blob_t blob;
    xs_proto_iter_init(&it, &out.u.receipts.leaf_list);
    for (int i = 0; i < 3; i++) {
        assert_true(xs_proto_next_leaf(&it, &blob));
        assert_int_equal(blob.len, leaves[i].len);
        if (blob.len)
            assert_memory_equal(blob.ptr, leaves[i].ptr, blob.len);
    }
    assert_false(xs_proto_next_leaf(&it, &blob));
    xs_writer_free(&w);

    /* A group and receipts together decode as sent: the message does not forbid it. */
    xs_proto_blob_t receipt = {b, sizeof b};
    in.u.receipts.receipts = &receipt;
    in.u.receipts.receipt_count = 1;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_RECEIPTS, &out);
    assert_int_equal(out.u.receipts.receipt_count, 1);
    assert_int_equal(out.u.receipts.leaf_count, 3);
    xs_writer_free(&w);

    /* The encoder refuses a root without leaves, leaves without a root, a leaf with no bytes
     * behind it, and a root or leaf over its bound. */
    static uint8_t big[XS_PROTO_RECEIPT_MAX + 1];
    in.u.receipts.receipt_count = 0;
    in.u.receipts.leaf_count = 0;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_reset(&w);
    in.u.receipts.leaf_count = 1;
    in.u.receipts.root = (xs_proto_blob_t){NULL, 0};
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_reset(&w);
    in.u.receipts.root = (xs_proto_blob_t){root, sizeof root};
    in.u.receipts.leaves = NULL;
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_reset(&w);
    leaves[0] = (xs_proto_blob_t){NULL, 0};
    in.u.receipts.leaves = leaves;
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_reset(&w);
    leaves[0] = (xs_proto_blob_t){big, XS_PROTO_LEAF_MAX + 1};
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_reset(&w);
    leaves[0] = (xs_proto_blob_t){big, XS_PROTO_LEAF_MAX};
    assert_int_equal(xs_proto_encode(&in, &w), XS_OK);
    xs_writer_reset(&w);
    in.u.receipts.root = (xs_proto_blob_t){big, XS_PROTO_RECEIPT_MAX + 1};
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
}

static void test_error(void **state) {
    (void)state;
    xs_msg_t in = {.type = XS_MSG_ERROR}, out;
    xs_writer_t w;
    for (unsigned code = 1; code <= XS_PCODE_MAX; code++) {
        in.u.error.code = (uint8_t)code;
        in.u.error.message = s_str(xs_proto_code_message(code));
        s_encode(&in, &w);
        s_decode(&w, XS_MSG_ERROR, &out);
        assert_int_equal(out.u.error.code, code);
        assert_int_equal(out.u.error.message.len, in.u.error.message.len);
        assert_memory_equal(out.u.error.message.ptr, in.u.error.message.ptr,
                            in.u.error.message.len);
        xs_writer_free(&w);
    }
    in.u.error.code = 0;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    in.u.error.code = XS_PCODE_MAX + 1;
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
}

/* SATELLITES carries nothing; ROSTER one envelope, not opened here (protocol.md §8). */
static void test_roster(void **state) {
    (void)state;
    static const uint8_t envelope[] = {0x92, 0xc4, 0x01, 0x95, 0xc4, 0x00};
    xs_msg_t in = {.type = XS_MSG_SATELLITES}, out;
    xs_writer_t w;
    s_encode(&in, &w);
    assert_int_equal(w.len, 3);
    s_decode(&w, XS_MSG_SATELLITES, &out);
    xs_writer_free(&w);
    in.type = XS_MSG_ROSTER;
    in.u.roster.envelope.ptr = envelope;
    in.u.roster.envelope.len = sizeof envelope;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_ROSTER, &out);
    assert_int_equal(out.u.roster.envelope.len, sizeof envelope);
    assert_memory_equal(out.u.roster.envelope.ptr, envelope, sizeof envelope);
    xs_writer_free(&w);
    in.u.roster.envelope.len = XS_PROTO_ROSTER_MAX + 1;
    xs_writer_init(&w, 2 * XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    in.u.roster.envelope.ptr = NULL;
    in.u.roster.envelope.len = 0;
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
}

/* A page takes blobs while they fit its count and its bytes, then says more follow. */
static void test_page(void **state) {
    (void)state;
    static const uint8_t blob[100] = {0};
    xs_proto_blob_t items[3];
    xs_proto_page_t page;
    xs_proto_page_init(&page, items, 3, 250);
    assert_true(xs_proto_page_add(&page, blob, 100));
    assert_true(xs_proto_page_add(&page, blob, 100));
    assert_false(xs_proto_page_add(&page, blob, 100)); /* 300 bytes > 250 */
    assert_true(page.more);
    assert_int_equal(page.count, 2);
    xs_proto_page_init(&page, items, 3, 1000);
    for (int i = 0; i < 3; i++)
        assert_true(xs_proto_page_add(&page, blob, 10));
    assert_false(page.more);
    assert_false(xs_proto_page_add(&page, blob, 10)); /* a fourth: over the count */
    assert_true(page.more);
    assert_int_equal(page.bytes, 30);
}

/* §5.1 names and messages, and the mapping to and from xs_err. */
static void test_codes(void **state) {
    (void)state;
    static const char *const names[] = {"",        "malformed",     "version",
                                        "too_big", "bad_signature", "wrong_origin",
                                        "revoked", "unknown",       "internal"};
    for (unsigned code = 0; code <= XS_PCODE_MAX; code++) {
        assert_string_equal(xs_proto_code_name(code), names[code]);
        const char *m = xs_proto_code_message(code);
        /* Chinese first, then English in parentheses. */
        assert_true((unsigned char)m[0] >= 0x80);
        assert_non_null(strstr(m, " ("));
        assert_int_equal(m[strlen(m) - 1], ')');
    }
    assert_string_equal(xs_proto_code_name(9), "");
    assert_non_null(xs_proto_code_message(200));
    assert_int_equal(xs_proto_code_from_err(XS_EMALFORMED), XS_PCODE_MALFORMED);
    assert_int_equal(xs_proto_code_from_err(XS_EVERSION), XS_PCODE_VERSION);
    assert_int_equal(xs_proto_code_from_err(XS_ETOOBIG), XS_PCODE_TOO_BIG);
    assert_int_equal(xs_proto_code_from_err(XS_ECRYPTO), XS_PCODE_BAD_SIGNATURE);
    assert_int_equal(xs_proto_code_from_err(XS_EFULL), XS_PCODE_INTERNAL);
    /* protocol.md §5.1: the reaction each code asks of a node. */
    assert_int_equal(xs_proto_code_to_err(XS_PCODE_MALFORMED), XS_EMALFORMED);
    assert_int_equal(xs_proto_code_to_err(XS_PCODE_VERSION), XS_EVERSION);
    assert_int_equal(xs_proto_code_to_err(XS_PCODE_TOO_BIG), XS_ETOOBIG);
    assert_int_equal(xs_proto_code_to_err(XS_PCODE_BAD_SIGNATURE), XS_ECRYPTO);
    assert_int_equal(xs_proto_code_to_err(XS_PCODE_WRONG_ORIGIN), XS_EPERM);
    assert_int_equal(xs_proto_code_to_err(XS_PCODE_REVOKED), XS_EPERM);
    assert_int_equal(xs_proto_code_to_err(XS_PCODE_UNKNOWN), XS_EPERM);
    /* The hub's disk is full: a retry fixes it, the node is not refused. */
    assert_int_equal(xs_proto_code_to_err(XS_PCODE_INTERNAL), XS_EAGAIN);
    assert_int_equal(xs_proto_code_to_err(0), XS_EREFUSED);
    assert_int_equal(xs_proto_code_to_err(200), XS_EREFUSED);
    assert_string_equal(xs_proto_type_name(XS_MSG_RECEIPTS), "RECEIPTS");
    assert_string_equal(xs_proto_type_name(0), "");
    assert_string_equal(xs_proto_type_name(XS_MSG_SATELLITES), "SATELLITES");
    assert_string_equal(xs_proto_type_name(XS_MSG_ROSTER), "ROSTER");
    assert_string_equal(xs_proto_type_name(XS_MSG_PULL), "PULL");
    assert_string_equal(xs_proto_type_name(XS_MSG_STAFF_GET), "STAFF_GET");
    assert_string_equal(xs_proto_type_name(XS_MSG_STAFF), "STAFF");
    assert_string_equal(xs_proto_type_name(14), "");
}

/* ---- malformed frames ---- */

static void s_expect(const uint8_t *frame, size_t len, xs_err want) {
    xs_msg_t msg;
    xs_err err = xs_proto_decode(frame, len, &msg);
    if (err != want)
        fail_msg("frame of %zu bytes: got %d, want %d", len, err, want);
}
#define S_EXPECT(want, ...)                                                                        \
    do {                                                                                           \
        static const uint8_t frame_[] = {__VA_ARGS__};                                             \
        s_expect(frame_, sizeof frame_, want);                                                     \
    } while (0)

static void test_malformed(void **state) {
    (void)state;
    S_EXPECT(XS_OK, 0x96, 0x01, 0x01, 0x00, 0x00, 0xc0, 0xc0); /* control: a HELLO */
    S_EXPECT(XS_EVERSION, 0x96, 0x02, 0x01, 0x00, 0x00, 0xc0, 0xc0);
    S_EXPECT(XS_EVERSION, 0x92, 0x00, 0x01);
    S_EXPECT(XS_EVERSION, 0x92, 0xff, 0x01);                                 /* version -1 */
    S_EXPECT(XS_EMALFORMED, 0x92, 0xc0, 0x01);                               /* version nil */
    S_EXPECT(XS_EMALFORMED, 0x91, 0x01);                                     /* no type */
    S_EXPECT(XS_EMALFORMED, 0x92, 0x01, 0x00);                               /* type 0 */
    S_EXPECT(XS_EMALFORMED, 0x92, 0x01, 0x0a);                               /* type 10 */
    S_EXPECT(XS_EMALFORMED, 0x92, 0x01, 0xa1, 0x31);                         /* type as a string */
    S_EXPECT(XS_EMALFORMED, 0x97, 0x01, 0x01, 0x00, 0x00, 0xc0, 0xc0, 0xc0); /* one too many */
    S_EXPECT(XS_EMALFORMED, 0x95, 0x01, 0x01, 0x00, 0x00, 0xc0);             /* one too few */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x01, 0xff, 0x00, 0xc0, 0xc0);       /* negative head */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x01, 0x00, 0x00, 0xc4, 0x01, 0x00, 0xc0); /* hash of 1 */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x01, 0x00, 0x00, 0xa0, 0xc0); /* hash as string */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x01, 0x00, 0x00, 0xc0, 0x00); /* origin as integer */
    S_EXPECT(XS_OK, 0x90 | 2, 0x01, 0x08);                             /* SATELLITES */
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x08, 0xc0);                   /* ... with an element */
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x09, 0xc0);                   /* ROSTER of nil */
    S_EXPECT(XS_EMALFORMED, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01); /* array32 huge */
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x03, 0xc0);                   /* BATCH of nil */
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x03, 0xc6, 0xff, 0xff, 0xff, 0xff); /* bin huge */
    /* VIEW window over 32 bits. */
    S_EXPECT(XS_EMALFORMED, 0x9b, 0x01, 0x02, 0x00, 0x00, 0x90, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0, 0x00,
             0xc0, 0x00, 0x00, 0xc0);
    S_EXPECT(XS_OK, 0x9b, 0x01, 0x02, 0x00, 0x00, 0x90, 0xce, 0xff, 0xff, 0xff, 0xff, 0x00, 0xc0,
             0x00, 0x00, 0xc0);
    /* A gap of three elements. */
    S_EXPECT(XS_EMALFORMED, 0x9b, 0x01, 0x02, 0x00, 0x05, 0x91, 0x93, 0x01, 0x01, 0x01, 0x00, 0x00,
             0xc0, 0x00, 0x00, 0xc0);
    S_EXPECT(XS_OK, 0x9b, 0x01, 0x02, 0x00, 0x05, 0x91, 0x92, 0x01, 0x01, 0x00, 0x00, 0xc0, 0x00,
             0x00, 0xc0);
    /* Rotations that are not bin. */
    S_EXPECT(XS_EMALFORMED, 0x9b, 0x01, 0x02, 0x00, 0x05, 0x91, 0x92, 0x01, 0x01, 0x00, 0x00, 0xc0,
             0x00, 0x00, 0x90);
    /* VIEWs of earlier drafts: without held_max, without confirmed_through, without rotations. */
    S_EXPECT(XS_EMALFORMED, 0x9a, 0x01, 0x02, 0x00, 0x05, 0x91, 0x92, 0x01, 0x01, 0x00, 0x00, 0xc0,
             0x00, 0x00);
    S_EXPECT(XS_EMALFORMED, 0x98, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00, 0xc0, 0x00);
    S_EXPECT(XS_EMALFORMED, 0x99, 0x01, 0x02, 0x00, 0x00, 0x90, 0x00, 0x00, 0xc0, 0x00);
    /* A rejected reason that is not a string, or empty. */
    S_EXPECT(XS_EMALFORMED, 0x97, 0x01, 0x04, 0x01, 0x01, 0x00, 0x00, 0x91, 0x92, 0x00, 0x01);
    S_EXPECT(XS_EMALFORMED, 0x97, 0x01, 0x04, 0x01, 0x01, 0x00, 0x00, 0x91, 0x92, 0x00, 0xa0);
    /* ERROR message not UTF-8. */
    S_EXPECT(XS_EMALFORMED, 0x94, 0x01, 0x07, 0x01, 0xa1, 0xff);
    /* RECEIPTS with a receipt as a string. */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x91, 0xa1, 0x41, 0xc2, 0xc0);
    /* RECEIPTS without a group (an earlier draft), and with a group: control, then broken. */
    S_EXPECT(XS_EMALFORMED, 0x95, 0x01, 0x06, 0x01, 0x90, 0xc2);
    S_EXPECT(XS_OK, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x92, 0xc4, 0x01, 0x00, 0x91, 0xc4, 0x01,
             0x00);
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x92, 0xc4, 0x01, 0x00,
             0x90); /* no leaf */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x92, 0xc0, 0x91, 0xc4, 0x01,
             0x00); /* root nil */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x92, 0xc4, 0x01, 0x00, 0x91, 0xa1,
             0x41); /* a leaf as a string */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x93, 0xc4, 0x01, 0x00, 0x91, 0xc4,
             0x01, 0x00, 0xc0); /* a group of three */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x91, 0xc4, 0x01,
             0x00);                                                    /* a group of one */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x90); /* a group empty */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x92, 0xc4, 0x01, 0x00, 0xdd, 0xff,
             0xff, 0xff, 0xff, 0xc4, 0x01, 0x00); /* leaves counted past the bytes */
    S_EXPECT(XS_EMALFORMED, 0x96, 0x01, 0x06, 0x01, 0x90, 0xc2, 0x92, 0xc4, 0x01, 0x00, 0x91, 0xc4,
             0x02, 0x00); /* a leaf's length past the bytes */

    /* Over the frame cap before anything is read. */
    uint8_t *big = calloc(1, XS_PROTO_FRAME_MAX + 1);
    assert_non_null(big);
    s_expect(big, XS_PROTO_FRAME_MAX + 1, XS_ETOOBIG);
    free(big);
}

/* STAFF_GET names the part held and whom it is for; STAFF carries a part up to its bound, or
 * nil (protocol.md §10). */
static void test_staff(void **state) {
    (void)state;
    xs_msg_t in, out;
    xs_writer_t w;
    memset(&in, 0, sizeof in);
    in.type = XS_MSG_STAFF_GET;
    s_encode(&in, &w);
    assert_int_equal(w.len, 5); /* 0x94 1 12 nil nil */
    s_decode(&w, XS_MSG_STAFF_GET, &out);
    assert_false(out.u.staff_get.has_have);
    assert_false(out.u.staff_get.has_origin);
    xs_writer_free(&w);
    in.u.staff_get.has_have = 1;
    memset(in.u.staff_get.have, 0xab, 32);
    in.u.staff_get.has_origin = 1;
    memset(in.u.staff_get.origin, 0x5c, 32);
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_STAFF_GET, &out);
    assert_true(out.u.staff_get.has_have);
    assert_memory_equal(out.u.staff_get.have, in.u.staff_get.have, 32);
    assert_true(out.u.staff_get.has_origin);
    assert_memory_equal(out.u.staff_get.origin, in.u.staff_get.origin, 32);
    xs_writer_free(&w);

    /* nil, then the largest part: the frame still fits (XS_STAFF_PART_BYTES, staff.h). */
    memset(&in, 0, sizeof in);
    in.type = XS_MSG_STAFF;
    s_encode(&in, &w);
    s_decode(&w, XS_MSG_STAFF, &out);
    assert_null(out.u.staff.part.ptr);
    xs_writer_free(&w);
    uint8_t *part = malloc(XS_PROTO_STAFF_MAX + 1);
    assert_non_null(part);
    memset(part, 0x42, XS_PROTO_STAFF_MAX + 1);
    in.u.staff.part = (xs_proto_blob_t){part, XS_PROTO_STAFF_MAX};
    s_encode(&in, &w);
    assert_true(w.len <= XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_OK); /* prefixes: too many */
    assert_int_equal(out.u.staff.part.len, XS_PROTO_STAFF_MAX);
    assert_memory_equal(out.u.staff.part.ptr, part, XS_PROTO_STAFF_MAX);
    xs_writer_free(&w);
    /* One byte over: refused both ways. */
    in.u.staff.part.len = XS_PROTO_STAFF_MAX + 1;
    xs_writer_init(&w, 2 * XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_reset(&w);
    xs_codec_put_array(&w, 3);
    xs_codec_put_uint(&w, XS_PROTO_VERSION);
    xs_codec_put_uint(&w, XS_MSG_STAFF);
    xs_codec_put_bin(&w, part, XS_PROTO_STAFF_MAX + 1);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_EMALFORMED);
    in.u.staff.part = (xs_proto_blob_t){NULL, 3}; /* a length without bytes */
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
    free(part);

    /* Hostile STAFF_GET and STAFF frames. */
    S_EXPECT(XS_OK, 0x94, 0x01, 0x0c, 0xc0, 0xc0);
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x0c, 0xc0);                   /* no origin */
    S_EXPECT(XS_EMALFORMED, 0x95, 0x01, 0x0c, 0xc0, 0xc0, 0xc0);       /* one too many */
    S_EXPECT(XS_EMALFORMED, 0x94, 0x01, 0x0c, 0xc4, 0x01, 0x00, 0xc0); /* have of 1 byte */
    S_EXPECT(XS_EMALFORMED, 0x94, 0x01, 0x0c, 0xc0, 0x00);             /* origin an integer */
    S_EXPECT(XS_EMALFORMED, 0x94, 0x01, 0x0c, 0xa0, 0xc0);             /* have a string */
    S_EXPECT(XS_OK, 0x93, 0x01, 0x0d, 0xc0);
    S_EXPECT(XS_OK, 0x93, 0x01, 0x0d, 0xc4, 0x00);                           /* an empty part */
    S_EXPECT(XS_EMALFORMED, 0x92, 0x01, 0x0d);                               /* no part */
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x0d, 0xa1, 0x78);                   /* part a string */
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x0d, 0xc6, 0xff, 0xff, 0xff, 0xff); /* bin huge */
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x0d, 0xc4, 0x02, 0x00);             /* shorter than said */
    S_EXPECT(XS_EMALFORMED, 0x93, 0x01, 0x0e, 0xc0);                         /* type 14 */
}

/* Lists at and past their bounds, both directions. */
static void test_list_bounds(void **state) {
    (void)state;
    xs_writer_t w;
    xs_msg_t in, out;

    xs_proto_range_t *gaps = calloc(XS_PROTO_GAPS_MAX + 1, sizeof *gaps);
    assert_non_null(gaps);
    for (uint32_t i = 0; i <= XS_PROTO_GAPS_MAX; i++)
        gaps[i].from = gaps[i].to = 2 * i + 2;
    memset(&in, 0, sizeof in);
    in.type = XS_MSG_VIEW;
    in.u.view.held_max = 2 * XS_PROTO_GAPS_MAX + 3;
    in.u.view.gaps = gaps;
    in.u.view.gap_count = XS_PROTO_GAPS_MAX;
    s_encode(&in, &w);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_OK);
    assert_int_equal(out.u.view.gap_count, XS_PROTO_GAPS_MAX);
    xs_writer_free(&w);
    in.u.view.gap_count = XS_PROTO_GAPS_MAX + 1;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    /* The same list written by hand is refused by the decoder. */
    xs_writer_reset(&w);
    xs_codec_put_array(&w, 10);
    xs_codec_put_uint(&w, 1);
    xs_codec_put_uint(&w, XS_MSG_VIEW);
    xs_codec_put_uint(&w, 0);
    xs_codec_put_uint(&w, in.u.view.held_max);
    xs_codec_put_array(&w, XS_PROTO_GAPS_MAX + 1);
    for (uint32_t i = 0; i <= XS_PROTO_GAPS_MAX; i++) {
        xs_codec_put_array(&w, 2);
        xs_codec_put_uint(&w, gaps[i].from);
        xs_codec_put_uint(&w, gaps[i].to);
    }
    xs_codec_put_uint(&w, 0);
    xs_codec_put_uint(&w, 0);
    xs_codec_put_nil(&w);
    xs_codec_put_uint(&w, 0);
    xs_codec_put_uint(&w, 0);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_EMALFORMED);
    xs_writer_free(&w);
    free(gaps);

    /* Rejected: one per record at most, and at most 4096. */
    xs_proto_rejected_t *rejected = calloc(XS_PROTO_REJECTED_MAX + 1, sizeof *rejected);
    assert_non_null(rejected);
    for (uint32_t i = 0; i <= XS_PROTO_REJECTED_MAX; i++) {
        rejected[i].index = i % XS_PROTO_REJECTED_MAX;
        rejected[i].reason = XS_REASON_OUT_OF_SCOPE;
    }
    memset(&in, 0, sizeof in);
    in.type = XS_MSG_ACK;
    in.u.ack.first_seq = 1;
    in.u.ack.count = XS_BATCH_MAX_RECORDS;
    in.u.ack.rejected = rejected;
    in.u.ack.rejected_count = XS_PROTO_REJECTED_MAX;
    s_encode(&in, &w);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_OK);
    assert_int_equal(out.u.ack.rejected_count, XS_PROTO_REJECTED_MAX);
    xs_writer_free(&w);
    in.u.ack.rejected_count = XS_PROTO_REJECTED_MAX + 1;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
    free(rejected);

    /* Receipts: at most 4096 per message, each at most XS_RECEIPT_MAX_BYTES. */
    xs_proto_blob_t *receipts = calloc(XS_PROTO_RECEIPTS_MAX + 1, sizeof *receipts);
    assert_non_null(receipts);
    static const uint8_t tiny[1] = {0};
    for (uint32_t i = 0; i <= XS_PROTO_RECEIPTS_MAX; i++) {
        receipts[i].ptr = tiny;
        receipts[i].len = 1;
    }
    memset(&in, 0, sizeof in);
    in.type = XS_MSG_RECEIPTS;
    in.u.receipts.receipts = receipts;
    in.u.receipts.receipt_count = XS_PROTO_RECEIPTS_MAX;
    s_encode(&in, &w);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_OK);
    xs_writer_free(&w);
    in.u.receipts.receipt_count = XS_PROTO_RECEIPTS_MAX + 1;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
    uint8_t *large = calloc(1, XS_RECEIPT_MAX_BYTES + 1);
    assert_non_null(large);
    receipts[0].ptr = large;
    receipts[0].len = XS_RECEIPT_MAX_BYTES + 1;
    in.u.receipts.receipt_count = 1;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_reset(&w);
    xs_codec_put_array(&w, 6);
    xs_codec_put_uint(&w, 1);
    xs_codec_put_uint(&w, XS_MSG_RECEIPTS);
    xs_codec_put_uint(&w, 0);
    xs_codec_put_array(&w, 1);
    xs_codec_put_bin(&w, large, XS_RECEIPT_MAX_BYTES + 1);
    xs_codec_put_bool(&w, 0);
    xs_codec_put_nil(&w);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_EMALFORMED);
    xs_writer_free(&w);

    /* A group: at most XS_PROTO_LEAVES_MAX leaves of at most XS_PROTO_LEAF_MAX bytes, and a
     * root of at most XS_PROTO_RECEIPT_MAX; the protocol's bounds are the tree's. */
    assert_int_equal(XS_PROTO_LEAVES_MAX, XS_RECEIPT_TREE_MAX);
    assert_int_equal(XS_PROTO_LEAF_MAX, XS_RECEIPT_LEAF_MAX);
    xs_proto_blob_t *leaves = calloc(XS_PROTO_LEAVES_MAX + 1, sizeof *leaves);
    assert_non_null(leaves);
    for (uint32_t i = 0; i <= XS_PROTO_LEAVES_MAX; i++)
        leaves[i] = (xs_proto_blob_t){tiny, 1};
    memset(&in, 0, sizeof in);
    in.type = XS_MSG_RECEIPTS;
    in.u.receipts.root = (xs_proto_blob_t){tiny, 1};
    in.u.receipts.leaves = leaves;
    in.u.receipts.leaf_count = XS_PROTO_LEAVES_MAX;
    s_encode(&in, &w);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_OK);
    assert_int_equal(out.u.receipts.leaf_count, XS_PROTO_LEAVES_MAX);
    xs_writer_free(&w);
    in.u.receipts.leaf_count = XS_PROTO_LEAVES_MAX + 1;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    /* ... and hand-made frames over each bound are refused. */
    for (int over = 0; over < 3; over++) {
        xs_writer_reset(&w);
        xs_codec_put_array(&w, 6);
        xs_codec_put_uint(&w, 1);
        xs_codec_put_uint(&w, XS_MSG_RECEIPTS);
        xs_codec_put_uint(&w, 0);
        xs_codec_put_array(&w, 0);
        xs_codec_put_bool(&w, 0);
        xs_codec_put_array(&w, 2);
        xs_codec_put_bin(&w, large, over == 0 ? XS_PROTO_RECEIPT_MAX + 1 : 1);
        uint32_t n = over == 1 ? XS_PROTO_LEAVES_MAX + 1 : 1;
        xs_codec_put_array(&w, n);
        for (uint32_t i = 0; i < n; i++)
            xs_codec_put_bin(&w, large, over == 2 ? XS_PROTO_LEAF_MAX + 1 : 1);
        assert_int_equal(xs_writer_err(&w), XS_OK);
        assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_EMALFORMED);
    }
    xs_writer_free(&w);
    free(leaves);
    free(large);
    free(receipts);

    /* A batch envelope over 1 MiB does not travel, and a frame over the cap is not written. */
    uint8_t *huge = calloc(1, XS_BATCH_MAX_BYTES + 1);
    assert_non_null(huge);
    memset(&in, 0, sizeof in);
    in.type = XS_MSG_BATCH;
    in.u.batch.envelope.ptr = huge;
    in.u.batch.envelope.len = XS_BATCH_MAX_BYTES;
    s_encode(&in, &w);
    assert_int_equal(xs_proto_decode(w.data, w.len, &out), XS_OK);
    xs_writer_free(&w);
    in.u.batch.envelope.len = XS_BATCH_MAX_BYTES + 1;
    xs_writer_init(&w, 2 * XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
    free(huge);
    xs_writer_init(&w, 8);
    memset(&in, 0, sizeof in);
    in.type = XS_MSG_HELLO;
    in.u.hello.head_seq = UINT64_MAX;
    assert_int_equal(xs_proto_encode(&in, &w), XS_ETOOBIG);
    xs_writer_free(&w);
    in.type = (xs_msg_type)(XS_MSG_TYPE_MAX + 1);
    xs_writer_init(&w, 64);
    assert_int_equal(xs_proto_encode(&in, &w), XS_EINVAL);
    xs_writer_free(&w);
}

/* ---- golden vectors: schema/vectors/protocol.txt ---- */

#define S_FILE_MAX (1u << 20)
#define S_VECTORS_MAX 128
#define S_FIELDS_MAX 64
#define S_LIST_MAX 16

typedef struct s_vector {
    const char *name;
    unsigned line;
    const char *kind, *key, *hex, *expect;
    const char *field[S_FIELDS_MAX]; /* "name" */
    const char *value[S_FIELDS_MAX]; /* its value */
    unsigned nfields;
} s_vector_t;

typedef struct s_vectors {
    char *text;
    s_vector_t v[S_VECTORS_MAX];
    unsigned count;
    xs_identity_t *node, *hub;
    xs_policy_t *baiwanzi;        /* schema/policies/baiwanzi.ini: the default credit rules */
    xs_receipt_t receipt, opened; /* scratch for receipt vectors */
} s_vectors_t;

static const char *s_after(const char *line, const char *key) {
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0 || line[n] != ':')
        return NULL;
    return line[n + 1] == ' ' ? line + n + 2 : line + n + 1;
}

static int s_hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes hex into a new buffer (caller frees); fails the test on bad hex. */
static uint8_t *s_unhex(const char *hex, size_t *len) {
    size_t n = strlen(hex);
    assert_int_equal(n % 2, 0);
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = s_hexval(hex[2 * i]), lo = s_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            fail_msg("bad hex %s", hex);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

static void s_hex32(const char *hex, uint8_t out[32]) {
    size_t len;
    uint8_t *bytes = s_unhex(hex, &len);
    assert_int_equal(len, 32);
    memcpy(out, bytes, 32);
    free(bytes);
}

/* 32 bytes of hex into out and 1, or 0 (out zeroed) for "nil". */
static int s_hash_or_nil(const char *value, uint8_t out[32]);

static const char *s_get(const s_vector_t *v, const char *name) {
    for (unsigned i = 0; i < v->nfields; i++)
        if (strcmp(v->field[i], name) == 0)
            return v->value[i];
    return NULL;
}

static const char *s_need(const s_vector_t *v, const char *name) {
    const char *value = s_get(v, name);
    if (!value)
        fail_msg("%s: no %s", v->name, name);
    return value;
}

static int s_hash_or_nil(const char *value, uint8_t out[32]) {
    if (strcmp(value, "nil") == 0) {
        memset(out, 0, 32);
        return 0;
    }
    s_hex32(value, out);
    return 1;
}

static uint64_t s_u64(const char *s) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || (*end != '\0' && *end != ' ') || errno || *s == '-')
        fail_msg("bad number %s", s);
    return v;
}

static int64_t s_i64(const char *s) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || (*end != '\0' && *end != ' ') || errno)
        fail_msg("bad number %s", s);
    return v;
}

/* Splits "a b c ..." into at most n numbers. */
static unsigned s_numbers(const char *s, int64_t *out, unsigned n) {
    unsigned k = 0;
    while (*s && k < n) {
        char *end;
        out[k++] = strtoll(s, &end, 10);
        if (end == s)
            fail_msg("bad list %s", s);
        s = end;
        while (*s == ' ')
            s++;
    }
    return k;
}

static char *s_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = malloc(S_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, S_FILE_MAX + 1, f) : 0;
    int bad = !text || ferror(f) || n > S_FILE_MAX;
    fclose(f);
    if (bad) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

static int s_vectors_setup(void **state) {
    s_vectors_t *vs = calloc(1, sizeof *vs);
    if (!vs)
        return -1;
    *state = vs;
    const char *dir = getenv("XS_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/schema/vectors/protocol.txt",
             dir && *dir ? dir : XS_SOURCE_DIR);
    if (!(vs->text = s_read_file(path))) {
        print_error("cannot read %s\n", path);
        return -1;
    }
    char err[512];
    snprintf(path, sizeof path, "%s/schema/policies/baiwanzi.ini",
             dir && *dir ? dir : XS_SOURCE_DIR);
    if (xs_policy_load(&vs->baiwanzi, path, err, sizeof err) != XS_OK) {
        print_error("cannot load %s: %s\n", path, err);
        return -1;
    }
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    if (xs_identity_from_seed(&vs->node, seed) != XS_OK)
        return -1;
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0x20 + i);
    if (xs_identity_from_seed(&vs->hub, seed) != XS_OK)
        return -1;
    s_vector_t *cur = NULL;
    unsigned lineno = 0;
    for (char *line = vs->text; line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        const char *rest;
        if (line[0] == '\0') {
            cur = NULL;
        } else if (line[0] == '#') {
            /* comment */
        } else if ((rest = s_after(line, "name"))) {
            if (vs->count == S_VECTORS_MAX)
                return -1;
            cur = &vs->v[vs->count++];
            cur->name = rest;
            cur->line = lineno;
        } else if (!cur) {
            print_error("protocol.txt:%u: line outside a block\n", lineno);
            return -1;
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
            if (!eq || cur->nfields == S_FIELDS_MAX) {
                print_error("protocol.txt:%u: cannot read \"%s\"\n", lineno, line);
                return -1;
            }
            *eq = '\0';
            cur->field[cur->nfields] = line;
            cur->value[cur->nfields++] = eq + 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int s_vectors_teardown(void **state) {
    s_vectors_t *vs = *state;
    if (vs) {
        xs_identity_destroy(&vs->node);
        xs_identity_destroy(&vs->hub);
        xs_policy_destroy(&vs->baiwanzi);
        free(vs->text);
        free(vs);
    }
    return 0;
}

static xs_err s_expected_err(const s_vector_t *v) {
    static const struct {
        const char *name;
        xs_err err;
    } table[] = {{"ok", XS_OK},
                 {"malformed", XS_EMALFORMED},
                 {"version", XS_EVERSION},
                 {"crypto", XS_ECRYPTO},
                 {"toobig", XS_ETOOBIG}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (v->expect && strcmp(v->expect, table[i].name) == 0)
            return table[i].err;
    fail_msg("%s: bad expect", v->name);
    return XS_OK;
}

static const xs_identity_t *s_signer(const s_vectors_t *vs, const s_vector_t *v) {
    if (v->key && strcmp(v->key, "node") == 0)
        return vs->node;
    if (v->key && strcmp(v->key, "hub") == 0)
        return vs->hub;
    fail_msg("%s: no key", v->name);
    return NULL;
}

/* Compares produced bytes with the vector's, byte for byte. */
static void s_same_bytes(const s_vector_t *v, const uint8_t *want, size_t want_len,
                         const xs_writer_t *got) {
    if (got->len != want_len || memcmp(got->data, want, want_len) != 0)
        fail_msg("%s (line %u): encoding differs (%zu bytes, want %zu)", v->name, v->line, got->len,
                 want_len);
}

/* The records of a batch that verified, certified together (ids = seq) under the default
 * credit rules, certify as each does alone (id 1): status, reason and credited seconds. What
 * each gives alone is the certify: line of its vector in records.txt, which test_record checks,
 * so a signed batch's records certify under revision 2 as their record vectors say. */
static void s_certify_batch(const s_vectors_t *vs, const s_vector_t *v, const xs_record_t *recs,
                            const uint64_t *seqs, uint32_t n) {
    xs_certify_row_t together[S_LIST_MAX], alone;
    assert_int_equal(xs_certify_run(vs->baiwanzi, NULL, recs, seqs, n, NULL, together, NULL, NULL),
                     XS_OK);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id = 1;
        assert_int_equal(
            xs_certify_run(vs->baiwanzi, NULL, &recs[i], &id, 1, NULL, &alone, NULL, NULL), XS_OK);
        if (together[i].status != alone.status || together[i].reason != alone.reason ||
            together[i].credited_seconds != alone.credited_seconds)
            fail_msg("%s: record %u (seq %llu) certifies as %s %s %u in its batch, %s %s %u alone",
                     v->name, (unsigned)i, (unsigned long long)seqs[i],
                     xs_certify_status_name(together[i].status),
                     together[i].reason ? xs_reason_code((xs_reason)together[i].reason) : "-",
                     (unsigned)together[i].credited_seconds, xs_certify_status_name(alone.status),
                     alone.reason ? xs_reason_code((xs_reason)alone.reason) : "-",
                     (unsigned)alone.credited_seconds);
    }
}

/* Returns the body format of a batch that opened as expected, 0 for a refused one. */
static unsigned s_check_batch(const s_vectors_t *vs, const s_vector_t *v, const uint8_t *bytes,
                              size_t len) {
    xs_batch_t batch;
    xs_err err = xs_batch_open(bytes, len, &batch);
    if (err != s_expected_err(v))
        fail_msg("%s: open gave %d", v->name, err);
    if (err != XS_OK)
        return 0;
    uint8_t origin[32], prev[32], policy[32], hash[32];
    s_hex32(s_need(v, "origin"), origin);
    assert_memory_equal(batch.origin, origin, 32);
    assert_memory_equal(batch.origin, xs_identity_public(s_signer(vs, v))->sign, 32);
    assert_int_equal(batch.first_seq, s_u64(s_need(v, "first_seq")));
    assert_int_equal(batch.count, s_u64(s_need(v, "count")));
    int has_prev = strcmp(s_need(v, "prev_hash"), "nil") != 0;
    int has_policy = strcmp(s_need(v, "policy_hash"), "nil") != 0;
    assert_int_equal(batch.has_prev_hash, has_prev);
    assert_int_equal(batch.has_policy_hash, has_policy);
    if (has_prev) {
        s_hex32(s_need(v, "prev_hash"), prev);
        assert_memory_equal(batch.prev_hash, prev, 32);
    }
    if (has_policy) {
        s_hex32(s_need(v, "policy_hash"), policy);
        assert_memory_equal(batch.policy_hash, policy, 32);
    }
    assert_int_equal(batch.sealed_at, s_i64(s_need(v, "sealed_at")));
    s_hex32(s_need(v, "hash"), hash);
    assert_memory_equal(batch.hash, hash, 32);

    /* The records, in order, and sealing them again gives the same envelope. */
    xs_batch_slice_t slices[S_LIST_MAX];
    uint8_t *owned[S_LIST_MAX];
    xs_record_t recs[S_LIST_MAX];
    uint64_t seqs[S_LIST_MAX];
    uint32_t n = 0;
    xs_batch_iter_t it;
    xs_batch_entry_t entry;
    xs_batch_iter_init(&it, &batch);
    for (unsigned i = 0; i < v->nfields; i++) {
        if (strcmp(v->field[i], "record") != 0)
            continue;
        assert_true(n < S_LIST_MAX);
        owned[n] = s_unhex(v->value[i], &slices[n].len);
        slices[n].ptr = owned[n];
        assert_int_equal(xs_batch_next(&it, &entry, &recs[n]), XS_OK);
        assert_int_equal(entry.seq, batch.first_seq + n);
        seqs[n] = entry.seq;
        assert_int_equal(entry.len, slices[n].len);
        assert_memory_equal(entry.bytes, slices[n].ptr, entry.len);
        n++;
    }
    assert_int_equal(n, batch.count);
    assert_int_equal(xs_batch_next(&it, &entry, NULL), XS_ENOTFOUND);
    xs_writer_t env;
    uint8_t sealed_hash[32];
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, s_signer(vs, v), batch.first_seq, has_prev ? prev : NULL,
                                   has_policy ? policy : NULL, batch.sealed_at, slices, n,
                                   sealed_hash),
                     XS_OK);
    s_same_bytes(v, bytes, len, &env);
    assert_memory_equal(sealed_hash, hash, 32);
    xs_writer_free(&env);
    for (uint32_t i = 0; i < n; i++)
        free(owned[i]);
    s_certify_batch(vs, v, recs, seqs, n);
    return batch.format;
}

static void s_check_policy(const s_vectors_t *vs, const s_vector_t *v, const uint8_t *bytes,
                           size_t len) {
    const uint8_t *blob;
    size_t blob_len;
    xs_err err =
        xs_receipt_policy_open(bytes, len, xs_identity_public(vs->hub)->sign, &blob, &blob_len);
    if (err != s_expected_err(v))
        fail_msg("%s: open gave %d", v->name, err);
    if (err != XS_OK)
        return;
    size_t want_len;
    uint8_t *want = s_unhex(s_need(v, "blob"), &want_len);
    assert_int_equal(blob_len, want_len);
    assert_memory_equal(blob, want, want_len);
    xs_writer_t env;
    xs_writer_init(&env, XS_RECEIPT_POLICY_MAX_BYTES);
    assert_int_equal(xs_receipt_policy_sign(&env, s_signer(vs, v), want, want_len), XS_OK);
    s_same_bytes(v, bytes, len, &env);
    xs_writer_free(&env);
    free(want);
}

static void s_check_receipt(s_vectors_t *vs, const s_vector_t *v, const uint8_t *bytes,
                            size_t len) {
    xs_receipt_t *got = &vs->opened, *want = &vs->receipt;
    xs_err err = xs_receipt_open(bytes, len, xs_identity_public(vs->hub)->sign, got);
    if (err != s_expected_err(v))
        fail_msg("%s: open gave %d", v->name, err);
    if (err != XS_OK)
        return;
    memset(want, 0, sizeof *want);
    s_hex32(s_need(v, "hub"), want->hub);
    want->teacher_id = s_str(s_need(v, "teacher_id"));
    want->policy_id = s_str(s_need(v, "policy_id"));
    want->policy_version = (uint32_t)s_u64(s_need(v, "policy_version"));
    s_hex32(s_need(v, "policy_hash"), want->policy_hash);
    want->generation = s_u64(s_need(v, "generation"));
    want->issued_at = s_i64(s_need(v, "issued_at"));
    unsigned format = (unsigned)s_u64(s_need(v, "format"));
    unsigned items = format == 1 ? 7 : 9, unit = format == 1 ? 60 : 1;
    for (unsigned i = 0; i < v->nfields; i++) {
        int64_t n[9] = {0};
        if (strcmp(v->field[i], "period") == 0) {
            char value[256];
            snprintf(value, sizeof value, "%s", v->value[i]);
            xs_receipt_period_t *p = &want->periods[want->period_count++];
            if (format == 3) {
                /* "... records_hash closed": the last word is the year document's hash or nil */
                char *closed = strrchr(value, ' ');
                assert_non_null(closed);
                *closed++ = '\0';
                p->closed = strcmp(closed, "nil") != 0;
                if (p->closed)
                    s_hex32(closed, p->closed_hash);
            }
            const char *hash = strrchr(value, ' ');
            assert_non_null(hash);
            assert_int_equal(s_numbers(value, n, 3), 3);
            p->scope = (uint8_t)n[0];
            p->year = (int32_t)n[1];
            p->record_count = (uint32_t)n[2];
            s_hex32(hash + 1, p->records_hash);
        } else if (strcmp(v->field[i], "total") == 0) {
            assert_int_equal(s_numbers(v->value[i], n, items), items);
            xs_receipt_total_t *t = &want->totals[want->total_count++];
            /* format 1: minutes, and a requirement is binding */
            *t = (xs_receipt_total_t){.credited_seconds = (uint64_t)n[4] * unit,
                                      .required_seconds = (uint32_t)(n[5] * unit),
                                      .year = (int32_t)n[1],
                                      .scope = (uint8_t)n[0],
                                      .semester = (uint8_t)n[2],
                                      .bucket = (uint8_t)n[3],
                                      .met = (uint8_t)n[6],
                                      .binding = format == 1 ? n[5] != 0 : (uint8_t)n[7],
                                      .single_met = (uint8_t)n[8]};
        }
    }
    assert_memory_equal(got->hub, want->hub, 32);
    assert_int_equal(got->teacher_id.len, want->teacher_id.len);
    assert_memory_equal(got->teacher_id.ptr, want->teacher_id.ptr, want->teacher_id.len);
    assert_int_equal(got->policy_id.len, want->policy_id.len);
    assert_memory_equal(got->policy_id.ptr, want->policy_id.ptr, want->policy_id.len);
    assert_int_equal(got->policy_version, want->policy_version);
    assert_memory_equal(got->policy_hash, want->policy_hash, 32);
    assert_int_equal(got->generation, want->generation);
    assert_int_equal(got->issued_at, want->issued_at);
    assert_int_equal(got->period_count, want->period_count);
    for (uint32_t i = 0; i < want->period_count; i++) {
        const xs_receipt_period_t *a = &got->periods[i], *b = &want->periods[i];
        assert_true(a->scope == b->scope && a->year == b->year &&
                    a->record_count == b->record_count && a->closed == b->closed);
        assert_memory_equal(a->records_hash, b->records_hash, 32);
        assert_memory_equal(a->closed_hash, b->closed_hash, 32);
    }
    assert_int_equal(got->total_count, want->total_count);
    for (uint32_t i = 0; i < want->total_count; i++) {
        const xs_receipt_total_t *a = &got->totals[i], *b = &want->totals[i];
        assert_true(a->credited_seconds == b->credited_seconds &&
                    a->required_seconds == b->required_seconds && a->year == b->year &&
                    a->scope == b->scope && a->semester == b->semester && a->bucket == b->bucket &&
                    a->met == b->met && a->binding == b->binding && a->single_met == b->single_met);
    }
    if (format == 1)
        return; /* read, never written again */
    xs_writer_t env;
    xs_writer_init(&env, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_sign(&env, s_signer(vs, v), want), XS_OK);
    s_same_bytes(v, bytes, len, &env);
    xs_writer_free(&env);
}

static const char *const s_type_names[] = {"",      "HELLO",    "VIEW",      "BATCH",      "ACK",
                                           "FETCH", "RECEIPTS", "ERROR",     "SATELLITES", "ROSTER",
                                           "PULL",  "BATCHES",  "STAFF_GET", "STAFF"};

/* Builds the message the fields describe; list arrays go into the caller's storage and
 * binary values into owned (freed by the caller, count in *nowned). */
static void s_build_msg(const s_vector_t *v, xs_msg_t *m, xs_proto_range_t *gaps,
                        xs_proto_rejected_t *rejected, xs_proto_blob_t *receipts,
                        xs_proto_blob_t *leaves, uint8_t **owned, unsigned *nowned) {
    const char *type = s_need(v, "type");
    memset(m, 0, sizeof *m);
    for (unsigned t = 1; t <= XS_MSG_TYPE_MAX; t++)
        if (strcmp(type, s_type_names[t]) == 0)
            m->type = (xs_msg_type)t;
    assert_int_not_equal(m->type, 0);
    *nowned = 0;
    switch (m->type) {
    case XS_MSG_HELLO:
        m->u.hello.head_seq = s_u64(s_need(v, "head_seq"));
        m->u.hello.receipts_have = s_u64(s_need(v, "receipts_have"));
        if (strcmp(s_need(v, "policy_hash"), "nil") != 0) {
            m->u.hello.has_policy_hash = 1;
            s_hex32(s_need(v, "policy_hash"), m->u.hello.policy_hash);
        }
        m->u.hello.has_origin = s_hash_or_nil(s_need(v, "origin"), m->u.hello.origin);
        break;
    case XS_MSG_VIEW:
        m->u.view.have_through = s_u64(s_need(v, "have_through"));
        m->u.view.held_max = s_u64(s_need(v, "held_max"));
        m->u.view.gaps = gaps;
        for (unsigned i = 0; i < v->nfields; i++) {
            int64_t n[2];
            if (strcmp(v->field[i], "gap") != 0)
                continue;
            assert_int_equal(s_numbers(v->value[i], n, 2), 2);
            assert_true(m->u.view.gap_count < S_LIST_MAX);
            gaps[m->u.view.gap_count++] = (xs_proto_range_t){(uint64_t)n[0], (uint64_t)n[1]};
        }
        m->u.view.window = (uint32_t)s_u64(s_need(v, "window"));
        m->u.view.receipts_gen = s_u64(s_need(v, "receipts_gen"));
        if (strcmp(s_need(v, "policy"), "nil") != 0) {
            owned[*nowned] = s_unhex(s_need(v, "policy"), &m->u.view.policy.len);
            m->u.view.policy.ptr = owned[(*nowned)++];
        }
        m->u.view.fork_seq = s_u64(s_need(v, "fork_seq"));
        m->u.view.confirmed_through = s_u64(s_need(v, "confirmed_through"));
        if (strcmp(s_need(v, "rotations"), "nil") != 0) {
            owned[*nowned] = s_unhex(s_need(v, "rotations"), &m->u.view.rotations.len);
            m->u.view.rotations.ptr = owned[(*nowned)++];
        }
        break;
    case XS_MSG_BATCH:
        owned[*nowned] = s_unhex(s_need(v, "envelope"), &m->u.batch.envelope.len);
        m->u.batch.envelope.ptr = owned[(*nowned)++];
        break;
    case XS_MSG_ACK:
        m->u.ack.first_seq = s_u64(s_need(v, "first_seq"));
        m->u.ack.count = (uint32_t)s_u64(s_need(v, "count"));
        m->u.ack.status = (uint8_t)s_u64(s_need(v, "status"));
        m->u.ack.error = (uint8_t)s_u64(s_need(v, "error"));
        m->u.ack.rejected = rejected;
        for (unsigned i = 0; i < v->nfields; i++) {
            if (strcmp(v->field[i], "rejected") != 0)
                continue;
            const char *code = strchr(v->value[i], ' ');
            assert_non_null(code);
            xs_proto_rejected_t *r = &rejected[m->u.ack.rejected_count++];
            r->index = (uint32_t)s_u64(v->value[i]);
            r->reason = XS_REASON_NONE;
            for (unsigned k = 1; k < XS_REASON_COUNT; k++)
                if (strcmp(code + 1, xs_reason_code((xs_reason)k)) == 0)
                    r->reason = (xs_reason)k;
            r->code = s_str(code + 1);
        }
        break;
    case XS_MSG_FETCH:
        m->u.fetch.receipts_have = s_u64(s_need(v, "receipts_have"));
        if (s_get(v, "after"))
            m->u.fetch.after = s_str(s_get(v, "after"));
        m->u.fetch.has_origin = s_hash_or_nil(s_need(v, "origin"), m->u.fetch.origin);
        break;
    case XS_MSG_RECEIPTS:
        m->u.receipts.generation = s_u64(s_need(v, "generation"));
        m->u.receipts.receipts = receipts;
        for (unsigned i = 0; i < v->nfields; i++) {
            if (strcmp(v->field[i], "receipt") != 0)
                continue;
            xs_proto_blob_t *b = &receipts[m->u.receipts.receipt_count++];
            owned[*nowned] = s_unhex(v->value[i], &b->len);
            b->ptr = owned[(*nowned)++];
        }
        m->u.receipts.more = (int)s_u64(s_need(v, "more"));
        if (strcmp(s_need(v, "root"), "nil") != 0) {
            owned[*nowned] = s_unhex(s_need(v, "root"), &m->u.receipts.root.len);
            m->u.receipts.root.ptr = owned[(*nowned)++];
        }
        m->u.receipts.leaves = leaves;
        for (unsigned i = 0; i < v->nfields; i++) {
            if (strcmp(v->field[i], "leaf") != 0)
                continue;
            xs_proto_blob_t *b = &leaves[m->u.receipts.leaf_count++];
            owned[*nowned] = s_unhex(v->value[i], &b->len);
            b->ptr = owned[(*nowned)++];
        }
        break;
    case XS_MSG_ERROR:
        m->u.error.code = (uint8_t)s_u64(s_need(v, "code"));
        m->u.error.message = s_str(s_need(v, "message"));
        break;
    case XS_MSG_SATELLITES:
        break;
    case XS_MSG_ROSTER:
        owned[*nowned] = s_unhex(s_need(v, "roster"), &m->u.roster.envelope.len);
        m->u.roster.envelope.ptr = owned[(*nowned)++];
        break;
    case XS_MSG_PULL:
        m->u.pull.from_seq = s_u64(s_need(v, "from_seq"));
        m->u.pull.has_origin = s_hash_or_nil(s_need(v, "origin"), m->u.pull.origin);
        break;
    case XS_MSG_BATCHES:
        m->u.batches.envelopes = receipts;
        for (unsigned i = 0; i < v->nfields; i++) {
            if (strcmp(v->field[i], "envelope") != 0)
                continue;
            xs_proto_blob_t *b = &receipts[m->u.batches.envelope_count++];
            owned[*nowned] = s_unhex(v->value[i], &b->len);
            b->ptr = owned[(*nowned)++];
        }
        m->u.batches.more = (int)s_u64(s_need(v, "more"));
        break;
    case XS_MSG_STAFF_GET:
        m->u.staff_get.has_have = s_hash_or_nil(s_need(v, "have"), m->u.staff_get.have);
        m->u.staff_get.has_origin = s_hash_or_nil(s_need(v, "origin"), m->u.staff_get.origin);
        break;
    case XS_MSG_STAFF:
        if (strcmp(s_need(v, "part"), "nil") != 0) {
            owned[*nowned] = s_unhex(s_need(v, "part"), &m->u.staff.part.len);
            m->u.staff.part.ptr = owned[(*nowned)++];
        }
        break;
    }
}

static void s_same_str(xs_str_t a, xs_str_t b) {
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

static void s_same_blob(xs_proto_blob_t a, xs_proto_blob_t b) {
    assert_int_equal(a.ptr == NULL, b.ptr == NULL);
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

/* The decoded message got holds what want (built from the fields) says. */
static void s_same_msg(const xs_msg_t *got, const xs_msg_t *want) {
    xs_proto_iter_t it;
    assert_int_equal(got->type, want->type);
    switch (want->type) {
    case XS_MSG_HELLO:
        assert_int_equal(got->u.hello.head_seq, want->u.hello.head_seq);
        assert_int_equal(got->u.hello.receipts_have, want->u.hello.receipts_have);
        assert_int_equal(got->u.hello.has_policy_hash, want->u.hello.has_policy_hash);
        assert_memory_equal(got->u.hello.policy_hash, want->u.hello.policy_hash, 32);
        assert_int_equal(got->u.hello.has_origin, want->u.hello.has_origin);
        assert_memory_equal(got->u.hello.origin, want->u.hello.origin, 32);
        break;
    case XS_MSG_VIEW: {
        xs_proto_range_t gap;
        assert_int_equal(got->u.view.have_through, want->u.view.have_through);
        assert_int_equal(got->u.view.held_max, want->u.view.held_max);
        assert_int_equal(got->u.view.gap_count, want->u.view.gap_count);
        xs_proto_iter_init(&it, &got->u.view.gap_list);
        for (uint32_t i = 0; i < want->u.view.gap_count; i++) {
            assert_true(xs_proto_next_gap(&it, &gap));
            assert_int_equal(gap.from, want->u.view.gaps[i].from);
            assert_int_equal(gap.to, want->u.view.gaps[i].to);
        }
        assert_false(xs_proto_next_gap(&it, &gap));
        assert_int_equal(got->u.view.window, want->u.view.window);
        assert_int_equal(got->u.view.receipts_gen, want->u.view.receipts_gen);
        s_same_blob(got->u.view.policy, want->u.view.policy);
        assert_int_equal(got->u.view.fork_seq, want->u.view.fork_seq);
        assert_int_equal(got->u.view.confirmed_through, want->u.view.confirmed_through);
        s_same_blob(got->u.view.rotations, want->u.view.rotations);
        break;
    }
    case XS_MSG_BATCH:
        s_same_blob(got->u.batch.envelope, want->u.batch.envelope);
        break;
    case XS_MSG_ACK: {
        xs_proto_rejected_t rej;
        assert_int_equal(got->u.ack.first_seq, want->u.ack.first_seq);
        assert_int_equal(got->u.ack.count, want->u.ack.count);
        assert_int_equal(got->u.ack.status, want->u.ack.status);
        assert_int_equal(got->u.ack.error, want->u.ack.error);
        assert_int_equal(got->u.ack.rejected_count, want->u.ack.rejected_count);
        xs_proto_iter_init(&it, &got->u.ack.rejected_list);
        for (uint32_t i = 0; i < want->u.ack.rejected_count; i++) {
            assert_true(xs_proto_next_rejected(&it, &rej));
            assert_int_equal(rej.index, want->u.ack.rejected[i].index);
            assert_int_equal(rej.reason, want->u.ack.rejected[i].reason);
            s_same_str(rej.code, want->u.ack.rejected[i].code);
        }
        assert_false(xs_proto_next_rejected(&it, &rej));
        break;
    }
    case XS_MSG_FETCH:
        assert_int_equal(got->u.fetch.receipts_have, want->u.fetch.receipts_have);
        assert_int_equal(got->u.fetch.after.ptr == NULL, want->u.fetch.after.ptr == NULL);
        s_same_str(got->u.fetch.after, want->u.fetch.after);
        assert_int_equal(got->u.fetch.has_origin, want->u.fetch.has_origin);
        assert_memory_equal(got->u.fetch.origin, want->u.fetch.origin, 32);
        break;
    case XS_MSG_RECEIPTS: {
        xs_proto_blob_t blob;
        assert_int_equal(got->u.receipts.generation, want->u.receipts.generation);
        assert_int_equal(got->u.receipts.receipt_count, want->u.receipts.receipt_count);
        xs_proto_iter_init(&it, &got->u.receipts.receipt_list);
        for (uint32_t i = 0; i < want->u.receipts.receipt_count; i++) {
            assert_true(xs_proto_next_receipt(&it, &blob));
            s_same_blob(blob, want->u.receipts.receipts[i]);
        }
        assert_false(xs_proto_next_receipt(&it, &blob));
        assert_int_equal(got->u.receipts.more, want->u.receipts.more);
        s_same_blob(got->u.receipts.root, want->u.receipts.root);
        assert_int_equal(got->u.receipts.leaf_count, want->u.receipts.leaf_count);
        xs_proto_iter_init(&it, &got->u.receipts.leaf_list);
        for (uint32_t i = 0; i < want->u.receipts.leaf_count; i++) {
            assert_true(xs_proto_next_leaf(&it, &blob));
            s_same_blob(blob, want->u.receipts.leaves[i]);
        }
        assert_false(xs_proto_next_leaf(&it, &blob));
        break;
    }
    case XS_MSG_ERROR:
        assert_int_equal(got->u.error.code, want->u.error.code);
        s_same_str(got->u.error.message, want->u.error.message);
        break;
    case XS_MSG_SATELLITES:
        break;
    case XS_MSG_ROSTER:
        s_same_blob(got->u.roster.envelope, want->u.roster.envelope);
        break;
    case XS_MSG_PULL:
        assert_int_equal(got->u.pull.from_seq, want->u.pull.from_seq);
        assert_int_equal(got->u.pull.has_origin, want->u.pull.has_origin);
        assert_memory_equal(got->u.pull.origin, want->u.pull.origin, 32);
        break;
    case XS_MSG_BATCHES: {
        xs_proto_blob_t env;
        assert_int_equal(got->u.batches.envelope_count, want->u.batches.envelope_count);
        xs_proto_iter_init(&it, &got->u.batches.envelope_list);
        for (uint32_t i = 0; i < want->u.batches.envelope_count; i++) {
            assert_true(xs_proto_next_envelope(&it, &env));
            s_same_blob(env, want->u.batches.envelopes[i]);
        }
        assert_false(xs_proto_next_envelope(&it, &env));
        assert_int_equal(got->u.batches.more, want->u.batches.more);
        break;
    }
    case XS_MSG_STAFF_GET:
        assert_int_equal(got->u.staff_get.has_have, want->u.staff_get.has_have);
        assert_memory_equal(got->u.staff_get.have, want->u.staff_get.have, 32);
        assert_int_equal(got->u.staff_get.has_origin, want->u.staff_get.has_origin);
        assert_memory_equal(got->u.staff_get.origin, want->u.staff_get.origin, 32);
        break;
    case XS_MSG_STAFF:
        s_same_blob(got->u.staff.part, want->u.staff.part);
        break;
    }
}

/* Counts the leaves xs_receipt_page_open hands on. */
static xs_err s_count_leaf(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                           const xs_receipt_t *opened) {
    (void)opened;
    (void)receipt;
    (void)len;
    assert_int_equal(index, *(size_t *)ctx);
    (*(size_t *)ctx)++;
    return XS_OK;
}

static void s_check_frame(const s_vectors_t *vs, const s_vector_t *v, const uint8_t *bytes,
                          size_t len) {
    xs_msg_t got, want;
    xs_err err = xs_proto_decode(bytes, len, &got);
    if (err != s_expected_err(v))
        fail_msg("%s: decode gave %d", v->name, err);
    if (err != XS_OK)
        return;
    xs_proto_range_t gaps[S_LIST_MAX];
    xs_proto_rejected_t rejected[S_LIST_MAX];
    xs_proto_blob_t receipts[S_LIST_MAX], leaves[S_LIST_MAX];
    uint8_t *owned[S_LIST_MAX];
    unsigned nowned;
    s_build_msg(v, &want, gaps, rejected, receipts, leaves, owned, &nowned);
    s_same_msg(&got, &want);
    if (want.type == XS_MSG_RECEIPTS && want.u.receipts.root.ptr) {
        /* A group is a page that opens against the hub's key (protocol.md §4.2). */
        size_t n = 0;
        assert_int_equal(xs_receipt_page_open(want.u.receipts.root.ptr, want.u.receipts.root.len,
                                              want.u.receipts.leaves, want.u.receipts.leaf_count,
                                              xs_identity_public(vs->hub)->sign, s_count_leaf, &n),
                         XS_OK);
        assert_int_equal(n, want.u.receipts.leaf_count);
    }
    xs_writer_t w;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&want, &w), XS_OK);
    s_same_bytes(v, bytes, len, &w);
    xs_writer_free(&w);
    for (unsigned i = 0; i < nowned; i++)
        free(owned[i]);
}

static void test_vectors(void **state) {
    s_vectors_t *vs = *state;
    unsigned by_kind[4] = {0}, ok = 0;
    static const char *const kinds[4] = {"batch", "policy", "receipt", "frame"};
    unsigned types_seen = 0, format_1_certified = 0;
    assert_true(vs->count >= 30);
    for (unsigned i = 0; i < vs->count; i++) {
        const s_vector_t *v = &vs->v[i];
        if (!v->kind || !v->hex || !v->expect)
            fail_msg("%s (line %u): kind, hex and expect are required", v->name, v->line);
        size_t len;
        uint8_t *bytes = s_unhex(v->hex, &len);
        unsigned k = 0;
        while (k < 4 && strcmp(v->kind, kinds[k]) != 0)
            k++;
        switch (k) {
        case 0:
            format_1_certified += s_check_batch(vs, v, bytes, len) == 1;
            break;
        case 1:
            s_check_policy(vs, v, bytes, len);
            break;
        case 2:
            s_check_receipt(vs, v, bytes, len);
            break;
        case 3:
            s_check_frame(vs, v, bytes, len);
            break;
        default:
            fail_msg("%s: unknown kind %s", v->name, v->kind);
        }
        by_kind[k]++;
        if (strcmp(v->expect, "ok") == 0) {
            ok++;
            if (k == 3)
                for (unsigned t = 1; t <= XS_MSG_TYPE_MAX; t++)
                    if (strcmp(s_need(v, "type"), s_type_names[t]) == 0)
                        types_seen |= 1u << t;
        }
        free(bytes);
    }
    /* Every kind has vectors, and every message type an ok one. */
    for (unsigned k = 0; k < 4; k++)
        assert_true(by_kind[k] > 0);
    assert_int_equal(types_seen, ((1u << (XS_MSG_TYPE_MAX + 1)) - 1) & ~1u);
    assert_true(ok >= 15);
    /* batch_first and batch_second: signed under format 1, certified under revision 2. */
    assert_true(format_1_certified >= 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),          cmocka_unit_test(test_view),
        cmocka_unit_test(test_batch_msg),      cmocka_unit_test(test_ack),
        cmocka_unit_test(test_fetch),          cmocka_unit_test(test_receipts),
        cmocka_unit_test(test_receipts_group), cmocka_unit_test(test_error),
        cmocka_unit_test(test_roster),         cmocka_unit_test(test_staff),
        cmocka_unit_test(test_page),           cmocka_unit_test(test_codes),
        cmocka_unit_test(test_malformed),      cmocka_unit_test(test_list_bounds),
    };
    const struct CMUnitTest vector_tests[] = {
        cmocka_unit_test(test_vectors),
    };
    int failed = cmocka_run_group_tests_name("proto", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("protocol_vectors", vector_tests, s_vectors_setup,
                                          s_vectors_teardown);
    return failed;
}
