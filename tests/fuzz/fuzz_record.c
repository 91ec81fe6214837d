/* fuzz_record: libFuzzer harness for the record decoder (schema/records.md §5). Whatever
 * decodes must re-encode to a record that decodes to the same fields, and validate without
 * crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/codec.h"
#include "xs/record.h"

/* Inputs past this gain nothing: decode_bytes refuses anything over XS_RECORD_MAX. */
#define FUZZ_MAX_INPUT (2 * XS_RECORD_MAX)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_str_equal(xs_str_t a, xs_str_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* 1 when a and b hold the same fields and values; a kind of 0 counts the same whether its
 * key was on the wire or not (the encoder omits it, records.md §4.1), and b (re-encoded) has
 * the lowest version that carries a's fields: 3 exactly when a review's keys are present, else 2
 * exactly when lessons is present. */
static int s_same_record(const xs_record_t *a, const xs_record_t *b) {
    uint32_t kind_bit = 1u << XS_F_KIND;
    uint32_t pa = a->present, pb = b->present;
    if (a->kind == XS_KIND_ACTIVITY)
        pa &= ~kind_bit;
    if (b->kind == XS_KIND_ACTIVITY)
        pb &= ~kind_bit;
    uint32_t review_keys = (1u << XS_F_REVIEWS) | (1u << XS_F_VERDICT);
    unsigned lowest = (a->present & review_keys) ? 3u : (a->present >> XS_F_LESSONS) & 1u ? 2u : 1u;
    return pa == pb && b->version == lowest && a->version >= lowest && a->kind == b->kind &&
           a->category == b->category && a->role == b->role && a->level == b->level &&
           a->grade == b->grade && a->unit == b->unit && a->date == b->date &&
           a->minutes == b->minutes && a->hours == b->hours && a->days == b->days &&
           a->chars == b->chars && a->score == b->score && a->lessons == b->lessons &&
           a->recorded_at == b->recorded_at && a->voids == b->voids && a->reviews == b->reviews &&
           a->verdict == b->verdict && s_str_equal(a->teacher_id, b->teacher_id) &&
           s_str_equal(a->school_id, b->school_id) && s_str_equal(a->work, b->work) &&
           s_str_equal(a->event, b->event) && s_str_equal(a->note, b->note) &&
           s_str_equal(a->operator_, b->operator_) && s_str_equal(a->ref, b->ref);
}

static void s_check(const xs_record_t *rec, xs_reason *reason, xs_field *field) {
    *reason = xs_record_check(rec, field);
    if ((unsigned)*reason >= XS_REASON_COUNT || (unsigned)*field >= XS_F_COUNT)
        abort();
}

/* Runs one input; returns 0, and abort()s when the decoder or encoder breaks a rule. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FUZZ_MAX_INPUT)
        return 0;

    /* The generic skipper walks the same bytes value by value. */
    xs_reader_t r;
    xs_reader_init(&r, data, size);
    while (xs_reader_left(&r) > 0 && xs_codec_skip(&r) == XS_OK) {
    }
    if (r.pos < data || r.pos > data + size)
        abort();

    /* A stream decode never reads past the end and, refused as malformed, stays put. */
    xs_record_t rec;
    xs_reader_init(&r, data, size);
    xs_err err = xs_record_decode(&r, &rec);
    if (r.pos > data + size || (err == XS_EMALFORMED && r.pos != data))
        abort();

    if (xs_record_decode_bytes(data, size, &rec) != XS_OK)
        return 0;
    xs_reason reason, reason2;
    xs_field field, field2;
    s_check(&rec, &reason, &field);

    xs_writer_t w, w2;
    xs_record_t again;
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_writer_init(&w2, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    /* The canonical form is never longer than any form that decoded. */
    if (xs_writer_err(&w) != XS_OK || w.len > size)
        abort();
    if (xs_record_decode_bytes(w.data, w.len, &again) != XS_OK || !s_same_record(&rec, &again))
        abort();
    s_check(&again, &reason2, &field2);
    if (reason != reason2 || (reason != XS_REASON_NONE && field != field2))
        abort();
    /* Encoding is a fixed point after one round. */
    xs_record_encode(&again, &w2);
    if (xs_writer_err(&w2) != XS_OK || w2.len != w.len || memcmp(w2.data, w.data, w.len) != 0)
        abort();
    xs_writer_free(&w);
    xs_writer_free(&w2);
    return 0;
}
