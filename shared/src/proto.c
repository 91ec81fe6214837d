/* proto: sync message frames (protocol.md §5). The decoder reads every element against the
 * bytes left and every list against its bound, and allocates nothing. */
#include "xs/proto.h"

#include <string.h>

#include "xs/batch.h"
#include "xs/rotation.h"
#include "xs/text.h"

/* Elements after version and type, by message type (protocol.md §5). */
static const uint8_t s_elements[XS_MSG_TYPE_MAX + 1] = {
    [XS_MSG_HELLO] = 4,  [XS_MSG_VIEW] = 9,     [XS_MSG_BATCH] = 1,   [XS_MSG_ACK] = 5,
    [XS_MSG_FETCH] = 3,  [XS_MSG_RECEIPTS] = 4, [XS_MSG_ERROR] = 2,   [XS_MSG_SATELLITES] = 0,
    [XS_MSG_ROSTER] = 1, [XS_MSG_PULL] = 2,     [XS_MSG_BATCHES] = 2, [XS_MSG_STAFF_GET] = 2,
    [XS_MSG_STAFF] = 1,
};

static const char *const s_type_names[XS_MSG_TYPE_MAX + 1] = {
    "",      "HELLO",      "VIEW",   "BATCH", "ACK",     "FETCH",     "RECEIPTS",
    "ERROR", "SATELLITES", "ROSTER", "PULL",  "BATCHES", "STAFF_GET", "STAFF",
};

/* §5.1: name and message, Chinese then English. */
static const struct {
    const char *name;
    const char *message;
} s_codes[XS_PCODE_MAX + 1] = {
    [XS_PCODE_NONE] = {"", "成功 (ok)"},
    [XS_PCODE_MALFORMED] = {"malformed", "数据无法解析 (malformed frame or envelope)"},
    [XS_PCODE_VERSION] = {"version", "协议或格式版本不受支持 (unsupported version)"},
    [XS_PCODE_TOO_BIG] = {"too_big", "超出大小限制 (over a size limit)"},
    [XS_PCODE_BAD_SIGNATURE] = {"bad_signature", "签名无效 (bad signature)"},
    [XS_PCODE_WRONG_ORIGIN] = {"wrong_origin",
                               "批次来源不是发送节点 (batch origin is not the sender)"},
    [XS_PCODE_REVOKED] = {"revoked", "节点密钥已吊销 (key revoked)"},
    [XS_PCODE_UNKNOWN] = {"unknown", "节点未登记 (key not enrolled)"},
    [XS_PCODE_INTERNAL] = {"internal",
                           "中心暂时无法保存，请稍后重试 (hub could not store it; retry later)"},
};

const char *xs_proto_code_name(unsigned code) {
    return code <= XS_PCODE_MAX ? s_codes[code].name : "";
}

const char *xs_proto_code_message(unsigned code) {
    return code <= XS_PCODE_MAX ? s_codes[code].message : "未知错误 (unknown error)";
}

xs_proto_code xs_proto_code_from_err(xs_err err) {
    switch (err) {
    case XS_EMALFORMED:
        return XS_PCODE_MALFORMED;
    case XS_EVERSION:
        return XS_PCODE_VERSION;
    case XS_ETOOBIG:
        return XS_PCODE_TOO_BIG;
    case XS_ECRYPTO:
        return XS_PCODE_BAD_SIGNATURE;
    default:
        return XS_PCODE_INTERNAL;
    }
}

xs_err xs_proto_code_to_err(unsigned code) {
    switch (code) {
    case XS_PCODE_MALFORMED:
        return XS_EMALFORMED;
    case XS_PCODE_VERSION:
        return XS_EVERSION;
    case XS_PCODE_TOO_BIG:
        return XS_ETOOBIG;
    case XS_PCODE_BAD_SIGNATURE:
        return XS_ECRYPTO;
    case XS_PCODE_WRONG_ORIGIN:
    case XS_PCODE_REVOKED:
    case XS_PCODE_UNKNOWN:
        return XS_EPERM;
    case XS_PCODE_INTERNAL:
        return XS_EAGAIN; /* the hub's trouble, not a verdict on this node: retry */
    default:
        return XS_EREFUSED;
    }
}

const char *xs_proto_type_name(unsigned type) {
    return type <= XS_MSG_TYPE_MAX ? s_type_names[type] : "";
}

/* The reason whose code is s, or XS_REASON_NONE. */
static xs_reason s_reason_of(xs_str_t s) {
    for (unsigned r = 1; r < XS_REASON_COUNT; r++) {
        const char *code = xs_reason_code((xs_reason)r);
        if (strlen(code) == s.len && memcmp(code, s.ptr, s.len) == 0)
            return (xs_reason)r;
    }
    return XS_REASON_NONE;
}

static int s_text_ok(const char *s, size_t len, size_t min, size_t max) {
    return len >= min && len <= max && (len == 0 || (s && xs_text_utf8_valid(s, len)));
}

/* ---- rules shared by both directions ---- */

static int s_gap_ok(const xs_proto_range_t *gap, uint64_t have_through, const uint64_t *prev_to) {
    return gap->from <= gap->to && gap->from > have_through && (!prev_to || gap->from > *prev_to);
}

static int s_ack_head_ok(uint64_t first_seq, uint64_t count, uint64_t status, uint64_t error) {
    if (count > XS_BATCH_MAX_RECORDS || (first_seq == 0) != (count == 0) || status > XS_ACK_RELAYED)
        return 0;
    if (status == XS_ACK_REFUSED)
        return error >= 1 && error <= XS_PCODE_MAX;
    return error == 0 && count > 0;
}

/* ---- encoding ---- */

static void s_put_hash_or_nil(xs_writer_t *w, int has, const uint8_t hash[XS_HASH_BYTES]) {
    if (has)
        xs_codec_put_bin(w, hash, XS_HASH_BYTES);
    else
        xs_codec_put_nil(w);
}

/* Writes the elements of msg after version and type; XS_EINVAL when msg breaks a rule. */
static xs_err s_encode_body(const xs_msg_t *msg, xs_writer_t *w) {
    switch (msg->type) {
    case XS_MSG_HELLO:
        xs_codec_put_uint(w, msg->u.hello.head_seq);
        xs_codec_put_uint(w, msg->u.hello.receipts_have);
        s_put_hash_or_nil(w, msg->u.hello.has_policy_hash, msg->u.hello.policy_hash);
        s_put_hash_or_nil(w, msg->u.hello.has_origin, msg->u.hello.origin);
        return XS_OK;
    case XS_MSG_VIEW: {
        const xs_msg_view_t *v = &msg->u.view;
        if (v->gap_count > XS_PROTO_GAPS_MAX || (v->gap_count > 0 && !v->gaps) ||
            (v->policy.ptr && v->policy.len > XS_PROTO_POLICY_MAX) ||
            (v->rotations.ptr && v->rotations.len > XS_ROTATION_CHAIN_MAX_BYTES) ||
            v->held_max < v->have_through ||
            (v->gap_count > 0 && v->gaps[v->gap_count - 1].to >= v->held_max))
            return XS_EINVAL;
        xs_codec_put_uint(w, v->have_through);
        xs_codec_put_uint(w, v->held_max);
        xs_codec_put_array(w, v->gap_count);
        for (uint32_t i = 0; i < v->gap_count; i++) {
            if (!s_gap_ok(&v->gaps[i], v->have_through, i > 0 ? &v->gaps[i - 1].to : NULL))
                return XS_EINVAL;
            xs_codec_put_array(w, 2);
            xs_codec_put_uint(w, v->gaps[i].from);
            xs_codec_put_uint(w, v->gaps[i].to);
        }
        xs_codec_put_uint(w, v->window);
        xs_codec_put_uint(w, v->receipts_gen);
        if (v->policy.ptr)
            xs_codec_put_bin(w, v->policy.ptr, v->policy.len);
        else
            xs_codec_put_nil(w);
        xs_codec_put_uint(w, v->fork_seq);
        xs_codec_put_uint(w, v->confirmed_through);
        if (v->rotations.ptr)
            xs_codec_put_bin(w, v->rotations.ptr, v->rotations.len);
        else
            xs_codec_put_nil(w);
        return XS_OK;
    }
    case XS_MSG_BATCH:
        if (!msg->u.batch.envelope.ptr || msg->u.batch.envelope.len > XS_BATCH_MAX_BYTES)
            return XS_EINVAL;
        xs_codec_put_bin(w, msg->u.batch.envelope.ptr, msg->u.batch.envelope.len);
        return XS_OK;
    case XS_MSG_ACK: {
        const xs_msg_ack_t *a = &msg->u.ack;
        if (!s_ack_head_ok(a->first_seq, a->count, a->status, a->error) ||
            a->rejected_count > a->count || (a->rejected_count > 0 && !a->rejected))
            return XS_EINVAL;
        xs_codec_put_uint(w, a->first_seq);
        xs_codec_put_uint(w, a->count);
        xs_codec_put_uint(w, a->status);
        xs_codec_put_uint(w, a->error);
        xs_codec_put_array(w, a->rejected_count);
        for (uint32_t i = 0; i < a->rejected_count; i++) {
            const xs_proto_rejected_t *rej = &a->rejected[i];
            if (rej->index >= a->count || rej->reason == XS_REASON_NONE ||
                (unsigned)rej->reason >= XS_REASON_COUNT)
                return XS_EINVAL;
            const char *code = xs_reason_code(rej->reason);
            xs_codec_put_array(w, 2);
            xs_codec_put_uint(w, rej->index);
            xs_codec_put_str(w, code, strlen(code));
        }
        return XS_OK;
    }
    case XS_MSG_FETCH:
        if (msg->u.fetch.after.ptr &&
            !s_text_ok(msg->u.fetch.after.ptr, msg->u.fetch.after.len, 1, XS_ID_MAX))
            return XS_EINVAL;
        xs_codec_put_uint(w, msg->u.fetch.receipts_have);
        if (msg->u.fetch.after.ptr)
            xs_codec_put_str(w, msg->u.fetch.after.ptr, msg->u.fetch.after.len);
        else
            xs_codec_put_nil(w);
        s_put_hash_or_nil(w, msg->u.fetch.has_origin, msg->u.fetch.origin);
        return XS_OK;
    case XS_MSG_RECEIPTS: {
        const xs_msg_receipts_t *rc = &msg->u.receipts;
        if (rc->receipt_count > XS_PROTO_RECEIPTS_MAX || (rc->receipt_count > 0 && !rc->receipts))
            return XS_EINVAL;
        int group_ok = rc->root.ptr ? rc->root.len <= XS_PROTO_RECEIPT_MAX && rc->leaf_count >= 1 &&
                                          rc->leaf_count <= XS_PROTO_LEAVES_MAX && rc->leaves
                                    : rc->leaf_count == 0;
        if (!group_ok)
            return XS_EINVAL;
        xs_codec_put_uint(w, rc->generation);
        xs_codec_put_array(w, rc->receipt_count);
        for (uint32_t i = 0; i < rc->receipt_count; i++) {
            if (!rc->receipts[i].ptr || rc->receipts[i].len > XS_PROTO_RECEIPT_MAX)
                return XS_EINVAL;
            xs_codec_put_bin(w, rc->receipts[i].ptr, rc->receipts[i].len);
        }
        xs_codec_put_bool(w, rc->more != 0);
        if (!rc->root.ptr) {
            xs_codec_put_nil(w);
            return XS_OK;
        }
        xs_codec_put_array(w, 2);
        xs_codec_put_bin(w, rc->root.ptr, rc->root.len);
        xs_codec_put_array(w, rc->leaf_count);
        for (uint32_t i = 0; i < rc->leaf_count; i++) {
            if (!rc->leaves[i].ptr || rc->leaves[i].len > XS_PROTO_LEAF_MAX)
                return XS_EINVAL;
            xs_codec_put_bin(w, rc->leaves[i].ptr, rc->leaves[i].len);
        }
        return XS_OK;
    }
    case XS_MSG_ERROR:
        if (msg->u.error.code < 1 || msg->u.error.code > XS_PCODE_MAX ||
            !s_text_ok(msg->u.error.message.ptr, msg->u.error.message.len, 0, XS_PROTO_MESSAGE_MAX))
            return XS_EINVAL;
        xs_codec_put_uint(w, msg->u.error.code);
        xs_codec_put_str(w, msg->u.error.message.ptr, msg->u.error.message.len);
        return XS_OK;
    case XS_MSG_SATELLITES:
        return XS_OK;
    case XS_MSG_ROSTER:
        if (!msg->u.roster.envelope.ptr || msg->u.roster.envelope.len > XS_PROTO_ROSTER_MAX)
            return XS_EINVAL;
        xs_codec_put_bin(w, msg->u.roster.envelope.ptr, msg->u.roster.envelope.len);
        return XS_OK;
    case XS_MSG_PULL:
        if (msg->u.pull.from_seq == 0)
            return XS_EINVAL;
        xs_codec_put_uint(w, msg->u.pull.from_seq);
        s_put_hash_or_nil(w, msg->u.pull.has_origin, msg->u.pull.origin);
        return XS_OK;
    case XS_MSG_BATCHES: {
        const xs_msg_batches_t *b = &msg->u.batches;
        size_t total = 0;
        if (b->envelope_count > XS_PROTO_BATCHES_MAX || (b->envelope_count > 0 && !b->envelopes))
            return XS_EINVAL;
        xs_codec_put_array(w, b->envelope_count);
        for (uint32_t i = 0; i < b->envelope_count; i++) {
            total += b->envelopes[i].len;
            if (!b->envelopes[i].ptr || b->envelopes[i].len > XS_BATCH_MAX_BYTES ||
                total > XS_PROTO_BATCHES_BYTES)
                return XS_EINVAL;
            xs_codec_put_bin(w, b->envelopes[i].ptr, b->envelopes[i].len);
        }
        xs_codec_put_bool(w, b->more != 0);
        return XS_OK;
    }
    case XS_MSG_STAFF_GET:
        s_put_hash_or_nil(w, msg->u.staff_get.has_have, msg->u.staff_get.have);
        s_put_hash_or_nil(w, msg->u.staff_get.has_origin, msg->u.staff_get.origin);
        return XS_OK;
    case XS_MSG_STAFF:
        if (msg->u.staff.part.len > XS_PROTO_STAFF_MAX ||
            (!msg->u.staff.part.ptr && msg->u.staff.part.len))
            return XS_EINVAL;
        if (msg->u.staff.part.ptr)
            xs_codec_put_bin(w, msg->u.staff.part.ptr, msg->u.staff.part.len);
        else
            xs_codec_put_nil(w);
        return XS_OK;
    }
    return XS_EINVAL;
}

xs_err xs_proto_encode(const xs_msg_t *msg, xs_writer_t *w) {
    if ((unsigned)msg->type < 1 || (unsigned)msg->type > XS_MSG_TYPE_MAX)
        return XS_EINVAL;
    size_t start = w->len;
    xs_codec_put_array(w, 2u + s_elements[msg->type]);
    xs_codec_put_uint(w, XS_PROTO_VERSION);
    xs_codec_put_uint(w, (uint64_t)msg->type);
    xs_err err = s_encode_body(msg, w);
    if (err == XS_OK)
        err = xs_writer_err(w);
    if (err == XS_OK && w->len - start > XS_PROTO_FRAME_MAX)
        err = XS_ETOOBIG;
    return err;
}

/* ---- decoding ---- */

static int s_get_u32(xs_reader_t *r, uint32_t *out) {
    uint64_t v;
    if (xs_codec_get_uint(r, &v) != XS_OK || v > UINT32_MAX)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

static int s_get_hash_or_nil(xs_reader_t *r, int *has, uint8_t hash[XS_HASH_BYTES]) {
    const uint8_t *bytes;
    uint32_t len;
    if (xs_codec_get_nil(r) == XS_OK) {
        *has = 0;
        memset(hash, 0, XS_HASH_BYTES);
        return 1;
    }
    if (xs_codec_get_bin(r, &bytes, &len) != XS_OK || len != XS_HASH_BYTES)
        return 0;
    *has = 1;
    memcpy(hash, bytes, XS_HASH_BYTES);
    return 1;
}

/* Reads a bin of at most max bytes, or nil when nil_ok (ptr NULL). */
static int s_get_blob(xs_reader_t *r, int nil_ok, size_t max, xs_proto_blob_t *out) {
    uint32_t len;
    if (nil_ok && xs_codec_get_nil(r) == XS_OK) {
        out->ptr = NULL;
        out->len = 0;
        return 1;
    }
    if (xs_codec_get_bin(r, &out->ptr, &len) != XS_OK || len > max)
        return 0;
    out->len = len;
    return 1;
}

/* Reads a UTF-8 string of min..max bytes. */
static int s_get_text(xs_reader_t *r, size_t min, size_t max, xs_str_t *out) {
    return xs_codec_get_str(r, &out->ptr, &out->len) == XS_OK &&
           s_text_ok(out->ptr, out->len, min, max);
}

/* Reads a list's array header of at most max elements and points list at its elements;
 * the caller then reads each element, and s_list_end closes it. */
static int s_list_begin(xs_reader_t *r, uint32_t max, xs_proto_list_t *list) {
    if (xs_codec_get_array(r, &list->count) != XS_OK || list->count > max)
        return 0;
    list->bytes = r->pos;
    return 1;
}

static void s_list_end(const xs_reader_t *r, xs_proto_list_t *list) {
    list->len = (size_t)(r->pos - list->bytes);
}

static int s_get_gap(xs_reader_t *r, xs_proto_range_t *gap) {
    uint32_t n;
    return xs_codec_get_array(r, &n) == XS_OK && n == 2 &&
           xs_codec_get_uint(r, &gap->from) == XS_OK && xs_codec_get_uint(r, &gap->to) == XS_OK;
}

static int s_get_rejected(xs_reader_t *r, xs_proto_rejected_t *rej) {
    uint32_t n;
    if (xs_codec_get_array(r, &n) != XS_OK || n != 2 || !s_get_u32(r, &rej->index) ||
        !s_get_text(r, 1, XS_PROTO_REASON_MAX, &rej->code))
        return 0;
    rej->reason = s_reason_of(rej->code);
    return 1;
}

/* Reads RECEIPTS' group: nil, or [root, [leaf, ...]] with 1..XS_PROTO_LEAVES_MAX leaves
 * (protocol.md §5). */
static int s_get_group(xs_reader_t *r, xs_msg_receipts_t *rc) {
    xs_proto_blob_t leaf;
    uint32_t n;
    if (xs_codec_get_nil(r) == XS_OK)
        return 1;
    if (xs_codec_get_array(r, &n) != XS_OK || n != 2 ||
        !s_get_blob(r, 0, XS_PROTO_RECEIPT_MAX, &rc->root) ||
        !s_list_begin(r, XS_PROTO_LEAVES_MAX, &rc->leaf_list) || rc->leaf_list.count == 0)
        return 0;
    for (uint32_t i = 0; i < rc->leaf_list.count; i++)
        if (!s_get_blob(r, 0, XS_PROTO_LEAF_MAX, &leaf))
            return 0;
    s_list_end(r, &rc->leaf_list);
    rc->leaf_count = rc->leaf_list.count;
    return 1;
}

/* Decodes the elements after version and type. */
static int s_decode_body(xs_reader_t *r, xs_msg_t *msg) {
    switch (msg->type) {
    case XS_MSG_HELLO:
        return xs_codec_get_uint(r, &msg->u.hello.head_seq) == XS_OK &&
               xs_codec_get_uint(r, &msg->u.hello.receipts_have) == XS_OK &&
               s_get_hash_or_nil(r, &msg->u.hello.has_policy_hash, msg->u.hello.policy_hash) &&
               s_get_hash_or_nil(r, &msg->u.hello.has_origin, msg->u.hello.origin);
    case XS_MSG_VIEW: {
        xs_msg_view_t *v = &msg->u.view;
        xs_proto_range_t gap;
        uint64_t prev_to = 0;
        if (xs_codec_get_uint(r, &v->have_through) != XS_OK ||
            xs_codec_get_uint(r, &v->held_max) != XS_OK || v->held_max < v->have_through ||
            !s_list_begin(r, XS_PROTO_GAPS_MAX, &v->gap_list))
            return 0;
        for (uint32_t i = 0; i < v->gap_list.count; i++) {
            if (!s_get_gap(r, &gap) || !s_gap_ok(&gap, v->have_through, i > 0 ? &prev_to : NULL) ||
                gap.to >= v->held_max)
                return 0;
            prev_to = gap.to;
        }
        s_list_end(r, &v->gap_list);
        v->gap_count = v->gap_list.count;
        return s_get_u32(r, &v->window) && xs_codec_get_uint(r, &v->receipts_gen) == XS_OK &&
               s_get_blob(r, 1, XS_PROTO_POLICY_MAX, &v->policy) &&
               xs_codec_get_uint(r, &v->fork_seq) == XS_OK &&
               xs_codec_get_uint(r, &v->confirmed_through) == XS_OK &&
               s_get_blob(r, 1, XS_ROTATION_CHAIN_MAX_BYTES, &v->rotations);
    }
    case XS_MSG_BATCH:
        return s_get_blob(r, 0, XS_BATCH_MAX_BYTES, &msg->u.batch.envelope);
    case XS_MSG_ACK: {
        xs_msg_ack_t *a = &msg->u.ack;
        uint64_t count, status, error;
        xs_proto_rejected_t rej;
        if (xs_codec_get_uint(r, &a->first_seq) != XS_OK || xs_codec_get_uint(r, &count) != XS_OK ||
            xs_codec_get_uint(r, &status) != XS_OK || xs_codec_get_uint(r, &error) != XS_OK ||
            !s_ack_head_ok(a->first_seq, count, status, error))
            return 0;
        a->count = (uint32_t)count;
        a->status = (uint8_t)status;
        a->error = (uint8_t)error;
        if (!s_list_begin(r, XS_PROTO_REJECTED_MAX, &a->rejected_list) ||
            a->rejected_list.count > a->count)
            return 0;
        for (uint32_t i = 0; i < a->rejected_list.count; i++)
            if (!s_get_rejected(r, &rej) || rej.index >= a->count)
                return 0;
        s_list_end(r, &a->rejected_list);
        a->rejected_count = a->rejected_list.count;
        return 1;
    }
    case XS_MSG_FETCH:
        if (xs_codec_get_uint(r, &msg->u.fetch.receipts_have) != XS_OK)
            return 0;
        if (xs_codec_get_nil(r) == XS_OK) {
            msg->u.fetch.after.ptr = NULL;
            msg->u.fetch.after.len = 0;
        } else if (!s_get_text(r, 1, XS_ID_MAX, &msg->u.fetch.after)) {
            return 0;
        }
        return s_get_hash_or_nil(r, &msg->u.fetch.has_origin, msg->u.fetch.origin);
    case XS_MSG_RECEIPTS: {
        xs_msg_receipts_t *rc = &msg->u.receipts;
        xs_proto_blob_t receipt;
        if (xs_codec_get_uint(r, &rc->generation) != XS_OK ||
            !s_list_begin(r, XS_PROTO_RECEIPTS_MAX, &rc->receipt_list))
            return 0;
        for (uint32_t i = 0; i < rc->receipt_list.count; i++)
            if (!s_get_blob(r, 0, XS_PROTO_RECEIPT_MAX, &receipt))
                return 0;
        s_list_end(r, &rc->receipt_list);
        rc->receipt_count = rc->receipt_list.count;
        return xs_codec_get_bool(r, &rc->more) == XS_OK && s_get_group(r, rc);
    }
    case XS_MSG_ERROR: {
        uint64_t code;
        if (xs_codec_get_uint(r, &code) != XS_OK || code < 1 || code > XS_PCODE_MAX)
            return 0;
        msg->u.error.code = (uint8_t)code;
        return s_get_text(r, 0, XS_PROTO_MESSAGE_MAX, &msg->u.error.message);
    }
    case XS_MSG_SATELLITES:
        return 1;
    case XS_MSG_ROSTER:
        return s_get_blob(r, 0, XS_PROTO_ROSTER_MAX, &msg->u.roster.envelope);
    case XS_MSG_PULL:
        return xs_codec_get_uint(r, &msg->u.pull.from_seq) == XS_OK && msg->u.pull.from_seq > 0 &&
               s_get_hash_or_nil(r, &msg->u.pull.has_origin, msg->u.pull.origin);
    case XS_MSG_BATCHES: {
        xs_msg_batches_t *b = &msg->u.batches;
        xs_proto_blob_t env;
        size_t total = 0;
        if (!s_list_begin(r, XS_PROTO_BATCHES_MAX, &b->envelope_list))
            return 0;
        for (uint32_t i = 0; i < b->envelope_list.count; i++) {
            if (!s_get_blob(r, 0, XS_BATCH_MAX_BYTES, &env) ||
                (total += env.len) > XS_PROTO_BATCHES_BYTES)
                return 0;
        }
        s_list_end(r, &b->envelope_list);
        b->envelope_count = b->envelope_list.count;
        return xs_codec_get_bool(r, &b->more) == XS_OK;
    }
    case XS_MSG_STAFF_GET:
        return s_get_hash_or_nil(r, &msg->u.staff_get.has_have, msg->u.staff_get.have) &&
               s_get_hash_or_nil(r, &msg->u.staff_get.has_origin, msg->u.staff_get.origin);
    case XS_MSG_STAFF:
        return s_get_blob(r, 1, XS_PROTO_STAFF_MAX, &msg->u.staff.part);
    }
    return 0;
}

xs_err xs_proto_decode(const void *frame, size_t len, xs_msg_t *msg) {
    xs_reader_t r;
    uint32_t elements;
    uint64_t version, type;
    int64_t negative;
    memset(msg, 0, sizeof *msg);
    if (len > XS_PROTO_FRAME_MAX)
        return XS_ETOOBIG;
    xs_reader_init(&r, frame, len);
    if (xs_codec_get_array(&r, &elements) != XS_OK || elements < 2)
        return XS_EMALFORMED;
    if (xs_codec_get_uint(&r, &version) != XS_OK)
        return xs_codec_get_int(&r, &negative) == XS_OK ? XS_EVERSION : XS_EMALFORMED;
    if (version != XS_PROTO_VERSION)
        return XS_EVERSION;
    if (xs_codec_get_uint(&r, &type) != XS_OK || type < 1 || type > XS_MSG_TYPE_MAX ||
        elements != 2u + s_elements[type])
        return XS_EMALFORMED;
    msg->type = (xs_msg_type)type;
    if (!s_decode_body(&r, msg) || xs_reader_left(&r) != 0) {
        memset(msg, 0, sizeof *msg);
        return XS_EMALFORMED;
    }
    return XS_OK;
}

/* ---- lists ---- */

void xs_proto_iter_init(xs_proto_iter_t *it, const xs_proto_list_t *list) {
    xs_reader_init(&it->reader, list->bytes, list->bytes ? list->len : 0);
    it->left = list->bytes ? list->count : 0;
}

int xs_proto_next_gap(xs_proto_iter_t *it, xs_proto_range_t *out) {
    if (it->left == 0 || !s_get_gap(&it->reader, out))
        return 0;
    it->left--;
    return 1;
}

int xs_proto_next_rejected(xs_proto_iter_t *it, xs_proto_rejected_t *out) {
    if (it->left == 0 || !s_get_rejected(&it->reader, out))
        return 0;
    it->left--;
    return 1;
}

int xs_proto_next_receipt(xs_proto_iter_t *it, xs_proto_blob_t *out) {
    if (it->left == 0 || !s_get_blob(&it->reader, 0, SIZE_MAX, out))
        return 0;
    it->left--;
    return 1;
}

int xs_proto_next_envelope(xs_proto_iter_t *it, xs_proto_blob_t *out) {
    return xs_proto_next_receipt(it, out); /* the lists are all of bin elements */
}

int xs_proto_next_leaf(xs_proto_iter_t *it, xs_proto_blob_t *out) {
    return xs_proto_next_receipt(it, out);
}

void xs_proto_page_init(xs_proto_page_t *page, xs_proto_blob_t *items, uint32_t cap,
                        size_t max_bytes) {
    *page = (xs_proto_page_t){items, cap, 0, max_bytes, 0, 0};
}

int xs_proto_page_add(xs_proto_page_t *page, const void *ptr, size_t len) {
    if (page->count == page->cap || page->bytes + len > page->max_bytes) {
        page->more = 1;
        return 0;
    }
    page->items[page->count++] = (xs_proto_blob_t){ptr, len};
    page->bytes += len;
    return 1;
}

void xs_proto_error(xs_msg_t *msg, xs_proto_code code) {
    const char *text = xs_proto_code_message(code);
    memset(msg, 0, sizeof *msg);
    msg->type = XS_MSG_ERROR;
    msg->u.error.code = (uint8_t)code;
    msg->u.error.message = (xs_str_t){text, (uint32_t)strlen(text)};
}
