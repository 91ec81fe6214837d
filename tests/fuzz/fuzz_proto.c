/* fuzz_proto: libFuzzer harness for message frames (schema/protocol.md §5) and receipts (§4).
 * A frame that decodes must encode again into a frame that decodes to the same message; the
 * envelopes it carries go through their own openers. Each input is also signed as a receipt
 * body with a fixed hub key, to reach the receipt decoder behind the signature check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/batch.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/confirm.h"
#include "xs/envelope.h"
#include "xs/proto.h"
#include "xs/receipt.h"

/* Inputs past this gain nothing: a larger frame is refused unread. */
#define FUZZ_MAX_INPUT XS_PROTO_FRAME_MAX

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed hub key: seed 20 21 .. 3f, the "hub" of schema/vectors/protocol.txt. */
static xs_identity_t *s_hub;
/* Lists of a decoded message, as arrays for the encoder. */
static xs_proto_range_t s_gaps[XS_PROTO_GAPS_MAX];
static xs_proto_rejected_t s_rejected[XS_PROTO_REJECTED_MAX];
static xs_proto_blob_t s_receipts[XS_PROTO_RECEIPTS_MAX];
static xs_proto_blob_t s_leaves[XS_PROTO_LEAVES_MAX];
static xs_proto_blob_t s_envelopes[XS_PROTO_BATCHES_MAX];
static xs_receipt_t s_receipt, s_receipt_again;

static const xs_identity_t *s_hub_key(void) {
    if (!s_hub) {
        uint8_t seed[32];
        for (int i = 0; i < 32; i++)
            seed[i] = (uint8_t)(0x20 + i);
        if (xs_identity_from_seed(&s_hub, seed) != XS_OK)
            abort();
    }
    return s_hub;
}

static int s_same_str(xs_str_t a, xs_str_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int s_same_blob(xs_proto_blob_t a, xs_proto_blob_t b) {
    return (a.ptr == NULL) == (b.ptr == NULL) && a.len == b.len &&
           (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Turns a decoded message's lists into arrays, so it can be encoded; 0 when it holds a
 * reason code the encoder cannot write (one this library does not know). */
static int s_to_arrays(xs_msg_t *m) {
    xs_proto_iter_t it;
    uint32_t n = 0;
    switch (m->type) {
    case XS_MSG_VIEW:
        xs_proto_iter_init(&it, &m->u.view.gap_list);
        while (n < XS_PROTO_GAPS_MAX && xs_proto_next_gap(&it, &s_gaps[n]))
            n++;
        if (n != m->u.view.gap_count)
            abort();
        m->u.view.gaps = s_gaps;
        break;
    case XS_MSG_ACK:
        xs_proto_iter_init(&it, &m->u.ack.rejected_list);
        while (n < XS_PROTO_REJECTED_MAX && xs_proto_next_rejected(&it, &s_rejected[n])) {
            if (s_rejected[n].reason == XS_REASON_NONE)
                return 0;
            n++;
        }
        if (n != m->u.ack.rejected_count)
            abort();
        m->u.ack.rejected = s_rejected;
        break;
    case XS_MSG_RECEIPTS:
        xs_proto_iter_init(&it, &m->u.receipts.receipt_list);
        while (n < XS_PROTO_RECEIPTS_MAX && xs_proto_next_receipt(&it, &s_receipts[n]))
            n++;
        if (n != m->u.receipts.receipt_count)
            abort();
        m->u.receipts.receipts = s_receipts;
        n = 0;
        xs_proto_iter_init(&it, &m->u.receipts.leaf_list);
        while (n < XS_PROTO_LEAVES_MAX && xs_proto_next_leaf(&it, &s_leaves[n]))
            n++;
        if (n != m->u.receipts.leaf_count)
            abort();
        m->u.receipts.leaves = n ? s_leaves : NULL;
        break;
    case XS_MSG_BATCHES:
        xs_proto_iter_init(&it, &m->u.batches.envelope_list);
        while (n < XS_PROTO_BATCHES_MAX && xs_proto_next_envelope(&it, &s_envelopes[n]))
            n++;
        if (n != m->u.batches.envelope_count)
            abort();
        m->u.batches.envelopes = s_envelopes;
        break;
    default:
        break;
    }
    return 1;
}

/* 1 when b, decoded from a's encoding, holds the same scalars and list lengths as a (the
 * lists themselves are compared by s_same_lists). */
static int s_same_msg(const xs_msg_t *a, const xs_msg_t *b) {
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case XS_MSG_HELLO:
        return a->u.hello.head_seq == b->u.hello.head_seq &&
               a->u.hello.receipts_have == b->u.hello.receipts_have &&
               a->u.hello.has_policy_hash == b->u.hello.has_policy_hash &&
               memcmp(a->u.hello.policy_hash, b->u.hello.policy_hash, 32) == 0 &&
               a->u.hello.has_origin == b->u.hello.has_origin &&
               memcmp(a->u.hello.origin, b->u.hello.origin, 32) == 0;
    case XS_MSG_VIEW:
        return a->u.view.have_through == b->u.view.have_through &&
               a->u.view.held_max == b->u.view.held_max &&
               a->u.view.gap_count == b->u.view.gap_count && a->u.view.window == b->u.view.window &&
               a->u.view.receipts_gen == b->u.view.receipts_gen &&
               s_same_blob(a->u.view.policy, b->u.view.policy) &&
               a->u.view.fork_seq == b->u.view.fork_seq &&
               a->u.view.confirmed_through == b->u.view.confirmed_through;
    case XS_MSG_BATCH:
        return s_same_blob(a->u.batch.envelope, b->u.batch.envelope);
    case XS_MSG_ACK:
        return a->u.ack.first_seq == b->u.ack.first_seq && a->u.ack.count == b->u.ack.count &&
               a->u.ack.status == b->u.ack.status && a->u.ack.error == b->u.ack.error &&
               a->u.ack.rejected_count == b->u.ack.rejected_count;
    case XS_MSG_FETCH:
        return a->u.fetch.receipts_have == b->u.fetch.receipts_have &&
               (a->u.fetch.after.ptr == NULL) == (b->u.fetch.after.ptr == NULL) &&
               s_same_str(a->u.fetch.after, b->u.fetch.after) &&
               a->u.fetch.has_origin == b->u.fetch.has_origin &&
               memcmp(a->u.fetch.origin, b->u.fetch.origin, 32) == 0;
    case XS_MSG_RECEIPTS:
        return a->u.receipts.generation == b->u.receipts.generation &&
               a->u.receipts.receipt_count == b->u.receipts.receipt_count &&
               a->u.receipts.more == b->u.receipts.more &&
               s_same_blob(a->u.receipts.root, b->u.receipts.root) &&
               a->u.receipts.leaf_count == b->u.receipts.leaf_count;
    case XS_MSG_ERROR:
        return a->u.error.code == b->u.error.code &&
               s_same_str(a->u.error.message, b->u.error.message);
    case XS_MSG_SATELLITES:
        return 1;
    case XS_MSG_ROSTER:
        return s_same_blob(a->u.roster.envelope, b->u.roster.envelope);
    case XS_MSG_PULL:
        return a->u.pull.from_seq == b->u.pull.from_seq &&
               a->u.pull.has_origin == b->u.pull.has_origin &&
               memcmp(a->u.pull.origin, b->u.pull.origin, 32) == 0;
    case XS_MSG_BATCHES:
        return a->u.batches.envelope_count == b->u.batches.envelope_count &&
               a->u.batches.more == b->u.batches.more;
    case XS_MSG_STAFF_GET:
        return a->u.staff_get.has_have == b->u.staff_get.has_have &&
               memcmp(a->u.staff_get.have, b->u.staff_get.have, 32) == 0 &&
               a->u.staff_get.has_origin == b->u.staff_get.has_origin &&
               memcmp(a->u.staff_get.origin, b->u.staff_get.origin, 32) == 0;
    case XS_MSG_STAFF:
        return s_same_blob(a->u.staff.part, b->u.staff.part);
    }
    return 0;
}

/* 1 when the decoded lists of a and b hold the same elements. */
static int s_same_lists(const xs_msg_t *a, const xs_msg_t *b) {
    xs_proto_iter_t ia, ib;
    switch (a->type) {
    case XS_MSG_VIEW: {
        xs_proto_range_t x, y;
        xs_proto_iter_init(&ia, &a->u.view.gap_list);
        xs_proto_iter_init(&ib, &b->u.view.gap_list);
        while (xs_proto_next_gap(&ia, &x))
            if (!xs_proto_next_gap(&ib, &y) || x.from != y.from || x.to != y.to)
                return 0;
        return !xs_proto_next_gap(&ib, &y);
    }
    case XS_MSG_ACK: {
        xs_proto_rejected_t x, y;
        xs_proto_iter_init(&ia, &a->u.ack.rejected_list);
        xs_proto_iter_init(&ib, &b->u.ack.rejected_list);
        while (xs_proto_next_rejected(&ia, &x))
            if (!xs_proto_next_rejected(&ib, &y) || x.index != y.index || x.reason != y.reason ||
                !s_same_str(x.code, y.code))
                return 0;
        return !xs_proto_next_rejected(&ib, &y);
    }
    case XS_MSG_RECEIPTS: {
        xs_proto_blob_t x, y;
        xs_proto_iter_init(&ia, &a->u.receipts.receipt_list);
        xs_proto_iter_init(&ib, &b->u.receipts.receipt_list);
        while (xs_proto_next_receipt(&ia, &x))
            if (!xs_proto_next_receipt(&ib, &y) || !s_same_blob(x, y))
                return 0;
        if (xs_proto_next_receipt(&ib, &y))
            return 0;
        xs_proto_iter_init(&ia, &a->u.receipts.leaf_list);
        xs_proto_iter_init(&ib, &b->u.receipts.leaf_list);
        while (xs_proto_next_leaf(&ia, &x))
            if (!xs_proto_next_leaf(&ib, &y) || !s_same_blob(x, y))
                return 0;
        return !xs_proto_next_leaf(&ib, &y);
    }
    case XS_MSG_BATCHES: {
        xs_proto_blob_t x, y;
        xs_proto_iter_init(&ia, &a->u.batches.envelope_list);
        xs_proto_iter_init(&ib, &b->u.batches.envelope_list);
        while (xs_proto_next_envelope(&ia, &x))
            if (!xs_proto_next_envelope(&ib, &y) || !s_same_blob(x, y))
                return 0;
        return !xs_proto_next_envelope(&ib, &y);
    }
    default:
        return 1;
    }
}

/* Opens a receipt and, when it opens, signs it again with the fixed key and checks that the
 * copy opens to the same fields. */
static void s_receipt_checked(const uint8_t *envelope, size_t len) {
    xs_err err = xs_receipt_open(envelope, len, NULL, &s_receipt);
    if (err != XS_OK && err != XS_EMALFORMED && err != XS_ECRYPTO && err != XS_EVERSION &&
        err != XS_ETOOBIG && err != XS_ENOMEM)
        abort();
    if (err != XS_OK)
        return;
    xs_writer_t again;
    xs_writer_init(&again, XS_RECEIPT_MAX_BYTES);
    if (xs_receipt_sign(&again, s_hub_key(), &s_receipt) != XS_OK ||
        xs_receipt_open(again.data, again.len, xs_identity_public(s_hub_key())->sign,
                        &s_receipt_again) != XS_OK ||
        !s_same_str(s_receipt.teacher_id, s_receipt_again.teacher_id) ||
        !s_same_str(s_receipt.policy_id, s_receipt_again.policy_id) ||
        s_receipt.generation != s_receipt_again.generation ||
        s_receipt.period_count != s_receipt_again.period_count ||
        s_receipt.total_count != s_receipt_again.total_count)
        abort();
    for (uint32_t i = 0; i < s_receipt.period_count; i++) {
        const xs_receipt_period_t *a = &s_receipt.periods[i], *b = &s_receipt_again.periods[i];
        if (a->scope != b->scope || a->year != b->year || a->record_count != b->record_count ||
            memcmp(a->records_hash, b->records_hash, 32) != 0)
            abort();
    }
    for (uint32_t i = 0; i < s_receipt.total_count; i++) {
        const xs_receipt_total_t *a = &s_receipt.totals[i], *b = &s_receipt_again.totals[i];
        if (a->credited_seconds != b->credited_seconds ||
            a->required_seconds != b->required_seconds || a->year != b->year ||
            a->scope != b->scope || a->semester != b->semester || a->bucket != b->bucket ||
            a->met != b->met)
            abort();
    }
    xs_writer_free(&again);
}

/* xs_receipt_page_open's callback: each standalone receipt of a page that verified opens
 * alone to a receipt of that hub. */
static xs_err s_leaf_checked(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                             const xs_receipt_t *opened) {
    (void)opened;
    size_t *next = ctx;
    if (index != (*next)++ ||
        xs_receipt_open(receipt, len, xs_identity_public(s_hub_key())->sign, &s_receipt) != XS_OK)
        abort();
    return XS_OK;
}

/* A RECEIPTS group opens as a page against the fixed hub key, or is refused with a defined
 * error and hands on nothing. */
static void s_group_checked(const xs_msg_receipts_t *rc) {
    xs_proto_iter_t it;
    uint32_t n = 0;
    size_t called = 0;
    xs_proto_iter_init(&it, &rc->leaf_list);
    while (n < XS_PROTO_LEAVES_MAX && xs_proto_next_leaf(&it, &s_leaves[n]))
        n++;
    if (n != rc->leaf_count)
        abort();
    xs_err err =
        xs_receipt_page_open(rc->root.ptr, rc->root.len, s_leaves, n,
                             xs_identity_public(s_hub_key())->sign, s_leaf_checked, &called);
    if (err != XS_OK && err != XS_EMALFORMED && err != XS_ECRYPTO && err != XS_EVERSION &&
        err != XS_ETOOBIG && err != XS_ENOMEM)
        abort();
    if (err == XS_OK ? called != n : called != 0)
        abort();
}

static void s_frame_checked(const uint8_t *data, size_t size) {
    xs_msg_t msg, again;
    xs_err err = xs_proto_decode(data, size, &msg);
    if (err != XS_OK && err != XS_EMALFORMED && err != XS_EVERSION && err != XS_ETOOBIG)
        abort();
    if (err != XS_OK)
        return;

    /* What the message carries goes through its own opener. */
    if (msg.type == XS_MSG_BATCH) {
        xs_batch_t batch;
        err = xs_batch_open(msg.u.batch.envelope.ptr, msg.u.batch.envelope.len, &batch);
        if (err != XS_OK && err != XS_EMALFORMED && err != XS_ECRYPTO && err != XS_EVERSION &&
            err != XS_ENOMEM)
            abort();
    } else if (msg.type == XS_MSG_RECEIPTS) {
        xs_proto_iter_t it;
        xs_proto_blob_t receipt;
        xs_proto_iter_init(&it, &msg.u.receipts.receipt_list);
        while (xs_proto_next_receipt(&it, &receipt))
            s_receipt_checked(receipt.ptr, receipt.len);
        if (msg.u.receipts.root.ptr)
            s_group_checked(&msg.u.receipts);
    } else if (msg.type == XS_MSG_VIEW && msg.u.view.policy.ptr) {
        const uint8_t *blob;
        size_t blob_len;
        err = xs_receipt_policy_open(msg.u.view.policy.ptr, msg.u.view.policy.len,
                                     xs_identity_public(s_hub_key())->sign, &blob, &blob_len);
        if (err != XS_OK && err != XS_EMALFORMED && err != XS_ECRYPTO && err != XS_ETOOBIG &&
            err != XS_ENOMEM)
            abort();
    }

    /* Encoded again (shortest forms), it decodes to the same message. */
    xs_msg_t copy = msg;
    if (!s_to_arrays(&copy))
        return;
    xs_writer_t w;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    if (xs_proto_encode(&copy, &w) != XS_OK || w.len > size ||
        xs_proto_decode(w.data, w.len, &again) != XS_OK || !s_same_lists(&msg, &again) ||
        !s_same_msg(&copy, &again))
        abort();
    xs_writer_free(&w);
}

/* The input as a confirmation body (protocol.md §7.1) signed by the hub: it opens or is
 * refused with a defined error, and what opens signs again to the same fields. */
static void s_confirm_checked(const uint8_t *data, size_t size) {
    static const char context[] = "xueshi-confirm-1";
    if (size > XS_CONFIRM_MAX_BYTES)
        return;
    xs_writer_t signed_bytes, env;
    xs_writer_init(&signed_bytes, sizeof context + XS_CONFIRM_MAX_BYTES);
    xs_writer_init(&env, XS_CONFIRM_MAX_BYTES);
    xs_writer_raw(&signed_bytes, context, sizeof context);
    xs_writer_raw(&signed_bytes, data, size);
    const uint8_t *hub = xs_identity_public(s_hub_key())->sign;
    xs_confirm_t c, again;
    if (xs_envelope_seal(&env, s_hub_key(), &signed_bytes, sizeof context, XS_CONFIRM_MAX_BYTES) ==
        XS_OK) {
        xs_err err = xs_confirm_open(env.data, env.len, hub, &c);
        if (err != XS_OK && err != XS_EMALFORMED && err != XS_EVERSION)
            abort();
        if (err == XS_OK) {
            xs_writer_reset(&env);
            if (xs_confirm_sign(&env, s_hub_key(), &c) != XS_OK ||
                xs_confirm_open(env.data, env.len, hub, &again) != XS_OK ||
                again.through != c.through || again.issued_at != c.issued_at ||
                memcmp(again.origin, c.origin, 32) != 0 ||
                memcmp(again.head_hash, c.head_hash, 32) != 0)
                abort();
        }
    }
    xs_writer_free(&signed_bytes);
    xs_writer_free(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char context[] = "xueshi-receipt-1";
    if (size > FUZZ_MAX_INPUT)
        return 0;
    s_frame_checked(data, size);
    s_receipt_checked(data, size);
    s_confirm_checked(data, size);

    /* The input as a receipt body, signed by the hub. */
    if (size > XS_RECEIPT_MAX_BYTES - 80)
        return 0;
    uint8_t *signed_bytes = malloc(sizeof context + size);
    uint8_t sig[64];
    if (!signed_bytes)
        abort();
    memcpy(signed_bytes, context, sizeof context);
    if (size)
        memcpy(signed_bytes + sizeof context, data, size);
    xs_identity_sign(s_hub_key(), signed_bytes, sizeof context + size, sig);
    free(signed_bytes);
    xs_writer_t envelope;
    xs_writer_init(&envelope, XS_RECEIPT_MAX_BYTES);
    xs_codec_put_array(&envelope, 2);
    xs_codec_put_bin(&envelope, data, size);
    xs_codec_put_bin(&envelope, sig, sizeof sig);
    if (xs_writer_err(&envelope) != XS_OK)
        abort();
    uint8_t *exact = malloc(envelope.len);
    if (!exact)
        abort();
    memcpy(exact, envelope.data, envelope.len);
    s_receipt_checked(exact, envelope.len);
    free(exact);
    xs_writer_free(&envelope);
    return 0;
}
