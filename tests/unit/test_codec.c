/* test_codec: the bounded msgpack writer and the allocation-free reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "xs/codec.h"
#include "xs/record.h"

/* A record with every field, encoded into w (caller frees). */
static void s_full_record(xs_writer_t *w) {
    xs_record_t rec;
    xs_record_init(&rec);
    rec.present = (1u << XS_F_COUNT) - 1;
    rec.kind = XS_KIND_REVIEW; /* only a review carries every key (records.md §5 rule 10) */
    rec.reviews = 16;
    rec.verdict = XS_VERDICT_RETURNED;
    rec.date = 20159;
    rec.category = XS_CAT_PAPER;
    rec.role = XS_ROLE_HOST;
    rec.minutes = 90;
    rec.hours = 1250;
    rec.days = 5;
    rec.chars = 3500;
    rec.unit = 1;
    rec.level = XS_LEVEL_COUNTY;
    rec.grade = XS_GRADE_FIRST;
    rec.score = 8750;
    rec.recorded_at = 1741770000;
    rec.voids = 17;
    rec.teacher_id = (xs_str_t){"T0001", 5};
    rec.school_id = (xs_str_t){"S01", 3};
    rec.work = (xs_str_t){"农村小学低年级识字教学的实践探索", 48};
    rec.event = (xs_str_t){"2025年县教师专业知识考试", 34};
    rec.note = (xs_str_t){"note", 4};
    rec.operator_ = (xs_str_t){"A01", 3};
    rec.ref = (xs_str_t){"R-7", 3};
    xs_writer_init(w, XS_RECORD_MAX);
    xs_record_encode(&rec, w);
    assert_int_equal(xs_writer_err(w), XS_OK);
}

/* Every proper prefix of a valid record is refused, by the record decoder and by skip,
 * and the reader never moves on a refusal. */
static void test_truncated_prefixes(void **state) {
    (void)state;
    xs_writer_t w;
    xs_record_t rec;
    s_full_record(&w);
    assert_int_equal(xs_record_decode_bytes(w.data, w.len, &rec), XS_OK);
    for (size_t n = 0; n < w.len; n++) {
        /* A copy of exactly n bytes, so that ASan sees any read past the end. */
        uint8_t *prefix = test_malloc(n ? n : 1);
        memcpy(prefix, w.data, n);
        xs_reader_t r;
        assert_int_equal(xs_record_decode_bytes(prefix, n, &rec), XS_EMALFORMED);
        xs_reader_init(&r, prefix, n);
        assert_int_equal(xs_record_decode(&r, &rec), XS_EMALFORMED);
        assert_ptr_equal(r.pos, prefix);
        assert_int_equal(xs_codec_skip(&r), XS_EMALFORMED);
        assert_ptr_equal(r.pos, prefix);
        test_free(prefix);
    }
    xs_reader_t r;
    xs_reader_init(&r, w.data, w.len);
    assert_int_equal(xs_codec_skip(&r), XS_OK);
    assert_int_equal(xs_reader_left(&r), 0);
    xs_writer_free(&w);
}

/* Counts that the remaining bytes cannot hold are refused at once. */
static void test_huge_counts(void **state) {
    (void)state;
    static const struct {
        const char *what;
        uint8_t bytes[8];
        size_t len;
    } cases[] = {
        {"map32", {0xdf, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01}, 7},
        {"array32", {0xdd, 0xff, 0xff, 0xff, 0xff, 0x00}, 6},
        {"map16", {0xde, 0xff, 0xff, 0x00, 0x01}, 5},
        {"array16", {0xdc, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04}, 7},
        {"fixmap", {0x8f, 0x00, 0x01}, 3},
        {"fixarray", {0x9f, 0x00}, 2},
        {"str32", {0xdb, 0xff, 0xff, 0xff, 0xff, 0x41}, 6},
        {"str8", {0xd9, 0x05, 0x41, 0x42}, 4},
        {"fixstr", {0xa3, 0x41, 0x42}, 3},
        {"bin32", {0xc6, 0xff, 0xff, 0xff, 0xff, 0x00}, 6},
        {"ext32", {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00}, 7},
        {"fixext16", {0xd8, 0x01, 0x00, 0x00}, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xs_reader_t r;
        uint32_t count;
        const char *s;
        const uint8_t *b;
        xs_reader_init(&r, cases[i].bytes, cases[i].len);
        switch (xs_codec_peek(&r)) {
        case XS_CODEC_MAP:
            assert_int_equal(xs_codec_get_map(&r, &count), XS_EMALFORMED);
            break;
        case XS_CODEC_ARRAY:
            assert_int_equal(xs_codec_get_array(&r, &count), XS_EMALFORMED);
            break;
        case XS_CODEC_STR:
            assert_int_equal(xs_codec_get_str(&r, &s, &count), XS_EMALFORMED);
            break;
        case XS_CODEC_BIN:
            assert_int_equal(xs_codec_get_bin(&r, &b, &count), XS_EMALFORMED);
            break;
        case XS_CODEC_EXT:
            break;
        default:
            fail_msg("%s: unexpected type", cases[i].what);
        }
        assert_ptr_equal(r.pos, cases[i].bytes);
        if (xs_codec_skip(&r) != XS_EMALFORMED)
            fail_msg("%s: skipped", cases[i].what);
        assert_ptr_equal(r.pos, cases[i].bytes);
    }
    /* The same counts are fine when the bytes are there: a map entry takes two bytes. */
    static const uint8_t map2[] = {0x82, 0x00, 0x01, 0x02, 0x03};
    static const uint8_t map2_short[] = {0x82, 0x00, 0x01, 0x02};
    xs_reader_t r;
    uint32_t count;
    xs_reader_init(&r, map2, sizeof map2);
    assert_int_equal(xs_codec_get_map(&r, &count), XS_OK);
    assert_int_equal(count, 2);
    xs_reader_init(&r, map2_short, sizeof map2_short);
    assert_int_equal(xs_codec_get_map(&r, &count), XS_EMALFORMED);
    assert_ptr_equal(r.pos, map2_short);
}

/* Writes depth nested one-element arrays around 0x01 into buf; returns the length. */
static size_t s_nest(uint8_t *buf, size_t depth) {
    memset(buf, 0x91, depth);
    buf[depth] = 0x01;
    return depth + 1;
}

static void test_skip_depth(void **state) {
    (void)state;
    static uint8_t buf[100001];
    xs_reader_t r;
    size_t len = s_nest(buf, XS_CODEC_MAX_DEPTH);
    xs_reader_init(&r, buf, len);
    assert_int_equal(xs_codec_skip(&r), XS_OK);
    assert_int_equal(xs_reader_left(&r), 0);
    len = s_nest(buf, XS_CODEC_MAX_DEPTH + 1);
    xs_reader_init(&r, buf, len);
    assert_int_equal(xs_codec_skip(&r), XS_EMALFORMED);
    assert_ptr_equal(r.pos, buf);
    /* Far deeper input stops at the limit instead of exhausting the stack. */
    len = s_nest(buf, sizeof buf - 1);
    xs_reader_init(&r, buf, len);
    assert_int_equal(xs_codec_skip(&r), XS_EMALFORMED);
    /* Maps count too: {0: {0: ... 1}}. */
    for (size_t i = 0; i < 2 * (XS_CODEC_MAX_DEPTH + 1); i += 2) {
        buf[i] = 0x81;
        buf[i + 1] = 0x00;
    }
    buf[2 * (XS_CODEC_MAX_DEPTH + 1)] = 0x01;
    xs_reader_init(&r, buf, 2 * (XS_CODEC_MAX_DEPTH + 1) + 1);
    assert_int_equal(xs_codec_skip(&r), XS_EMALFORMED);
    xs_reader_init(&r, buf + 2, 2 * XS_CODEC_MAX_DEPTH + 1);
    assert_int_equal(xs_codec_skip(&r), XS_OK);
}

/* Skips every msgpack type, including ones no decoder of ours reads. */
static void test_skip_types(void **state) {
    (void)state;
    static const uint8_t values[] = {
        0xc0,                                                                   /* nil */
        0xc2, 0xc3,                                                             /* false, true */
        0xca, 0x3f, 0x80, 0x00, 0x00,                                           /* float32 1.0 */
        0xcb, 0x3f, 0xf0, 0,    0,    0,    0, 0, 0,                            /* float64 1.0 */
        0xc4, 0x02, 0xaa, 0xbb,                                                 /* bin8 */
        0xd4, 0x01, 0x00,                                                       /* fixext1 */
        0xd5, 0x01, 0x00, 0x00,                                                 /* fixext2 */
        0xd6, 0x01, 0,    0,    0,    0,                                        /* fixext4 */
        0xd7, 0x01, 0,    0,    0,    0,    0, 0, 0, 0,                         /* fixext8 */
        0xd8, 0x01, 0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* fixext16 */
        0xc7, 0x01, 0x05, 0x00,                                                 /* ext8 */
        0xc8, 0x00, 0x01, 0x05, 0x00,                                           /* ext16 */
        0xc9, 0x00, 0x00, 0x00, 0x00, 0x05,                                     /* ext32, empty */
        0x92, 0xa1, 0x41, 0x80,                                                 /* ["A", {}] */
        0xe0,                                                                   /* -32 */
        0xd3, 0x80, 0,    0,    0,    0,    0, 0, 0,                            /* INT64_MIN */
    };
    xs_reader_t r;
    int n = 0;
    xs_reader_init(&r, values, sizeof values);
    while (xs_reader_left(&r) > 0) {
        if (xs_codec_skip(&r) != XS_OK)
            fail_msg("value %d at offset %td not skipped", n, r.pos - values);
        n++;
    }
    assert_int_equal(n, 17);
    /* 0xc1 is never used. */
    static const uint8_t never = 0xc1;
    xs_reader_init(&r, &never, 1);
    assert_int_equal(xs_codec_peek(&r), XS_CODEC_NONE);
    assert_int_equal(xs_codec_skip(&r), XS_EMALFORMED);
    xs_reader_init(&r, values, 0);
    assert_int_equal(xs_codec_peek(&r), XS_CODEC_NONE);
}

static void test_uint_boundaries(void **state) {
    (void)state;
    static const struct {
        uint64_t value;
        size_t len;
    } cases[] = {
        {0, 1},
        {127, 1},
        {128, 2},
        {255, 2},
        {256, 3},
        {65535, 3},
        {65536, 5},
        {UINT32_MAX, 5},
        {(uint64_t)UINT32_MAX + 1, 9},
        {(uint64_t)INT64_MAX + 1, 9},
        {UINT64_MAX, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xs_writer_t w;
        xs_reader_t r;
        uint64_t u;
        int64_t v;
        xs_writer_init(&w, 16);
        xs_codec_put_uint(&w, cases[i].value);
        assert_int_equal(xs_writer_err(&w), XS_OK);
        assert_int_equal(w.len, cases[i].len);
        xs_reader_init(&r, w.data, w.len);
        assert_int_equal(xs_codec_peek(&r), XS_CODEC_UINT);
        assert_int_equal(xs_codec_get_uint(&r, &u), XS_OK);
        assert_true(u == cases[i].value);
        assert_int_equal(xs_reader_left(&r), 0);
        /* Above INT64_MAX an unsigned value does not fit the signed reader. */
        xs_reader_init(&r, w.data, w.len);
        if (cases[i].value > INT64_MAX) {
            assert_int_equal(xs_codec_get_int(&r, &v), XS_EMALFORMED);
            assert_ptr_equal(r.pos, w.data);
        } else {
            assert_int_equal(xs_codec_get_int(&r, &v), XS_OK);
            assert_true((uint64_t)v == cases[i].value);
        }
        /* Every shorter read is truncated. */
        for (size_t n = 0; n < w.len; n++) {
            xs_reader_init(&r, w.data, n);
            assert_int_equal(xs_codec_get_uint(&r, &u), XS_EMALFORMED);
        }
        xs_writer_free(&w);
    }
}

static void test_int_boundaries(void **state) {
    (void)state;
    static const struct {
        int64_t value;
        size_t len;
    } cases[] = {
        {INT64_MIN, 9}, {(int64_t)INT32_MIN - 1, 9},
        {INT32_MIN, 5}, {INT16_MIN - 1, 5},
        {INT16_MIN, 3}, {INT8_MIN - 1, 3},
        {INT8_MIN, 2},  {-33, 2},
        {-32, 1},       {-1, 1},
        {0, 1},         {127, 1},
        {128, 2},       {INT32_MAX, 5},
        {INT64_MAX, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xs_writer_t w;
        xs_reader_t r;
        int64_t v;
        uint64_t u;
        xs_writer_init(&w, 16);
        xs_codec_put_int(&w, cases[i].value);
        assert_int_equal(xs_writer_err(&w), XS_OK);
        if (w.len != cases[i].len)
            fail_msg("%lld takes %zu bytes, expected %zu", (long long)cases[i].value, w.len,
                     cases[i].len);
        xs_reader_init(&r, w.data, w.len);
        assert_int_equal(xs_codec_peek(&r), cases[i].value < 0 ? XS_CODEC_INT : XS_CODEC_UINT);
        assert_int_equal(xs_codec_get_int(&r, &v), XS_OK);
        assert_true(v == cases[i].value);
        assert_int_equal(xs_reader_left(&r), 0);
        /* A negative value is not an unsigned one. */
        xs_reader_init(&r, w.data, w.len);
        if (cases[i].value < 0) {
            assert_int_equal(xs_codec_get_uint(&r, &u), XS_EMALFORMED);
            assert_ptr_equal(r.pos, w.data);
        } else {
            assert_int_equal(xs_codec_get_uint(&r, &u), XS_OK);
            assert_true(u == (uint64_t)cases[i].value);
        }
        xs_writer_free(&w);
    }
    /* Signed encodings of non-negative values read as unsigned (records.md §5.5). */
    static const uint8_t int8_five[] = {0xd0, 0x05};
    static const uint8_t int64_max[] = {0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    xs_reader_t r;
    uint64_t u;
    xs_reader_init(&r, int8_five, sizeof int8_five);
    assert_int_equal(xs_codec_get_uint(&r, &u), XS_OK);
    assert_int_equal(u, 5);
    xs_reader_init(&r, int64_max, sizeof int64_max);
    assert_int_equal(xs_codec_get_uint(&r, &u), XS_OK);
    assert_true(u == INT64_MAX);
}

static void test_strings_and_types(void **state) {
    (void)state;
    static char text[70000];
    memset(text, 'z', sizeof text);
    static const struct {
        size_t len;
        size_t header;
    } cases[] = {{0, 1}, {31, 1}, {32, 2}, {255, 2}, {256, 3}, {65535, 3}, {65536, 5}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xs_writer_t w;
        xs_reader_t r;
        const char *s;
        const uint8_t *b;
        uint32_t len;
        xs_writer_init(&w, 1u << 20);
        xs_codec_put_str(&w, text, cases[i].len);
        xs_codec_put_bin(&w, text, cases[i].len);
        assert_int_equal(xs_writer_err(&w), XS_OK);
        xs_reader_init(&r, w.data, w.len);
        /* The wrong reader refuses and leaves the cursor alone. */
        assert_int_equal(xs_codec_get_bin(&r, &b, &len), XS_EMALFORMED);
        assert_int_equal(xs_codec_get_uint(&r, (uint64_t[1]){0}), XS_EMALFORMED);
        assert_int_equal(xs_codec_get_str(&r, &s, &len), XS_OK);
        assert_int_equal(len, cases[i].len);
        assert_int_equal((const uint8_t *)s - w.data, cases[i].header);
        assert_int_equal(xs_codec_get_str(&r, &s, &len), XS_EMALFORMED);
        assert_int_equal(xs_codec_get_bin(&r, &b, &len), XS_OK);
        assert_int_equal(len, cases[i].len);
        assert_int_equal(xs_reader_left(&r), 0);
        xs_writer_free(&w);
    }
    xs_writer_t w;
    xs_reader_t r;
    uint32_t count;
    int flag;
    xs_writer_init(&w, 64);
    xs_codec_put_nil(&w);
    xs_codec_put_bool(&w, 1);
    xs_codec_put_bool(&w, 0);
    xs_codec_put_array(&w, 16);
    xs_codec_put_map(&w, 65536);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    assert_int_equal(w.len, 1 + 1 + 1 + 3 + 5);
    xs_reader_init(&r, w.data, w.len);
    assert_int_equal(xs_codec_get_bool(&r, &flag), XS_EMALFORMED);
    assert_int_equal(xs_codec_get_nil(&r), XS_OK);
    assert_int_equal(xs_codec_get_nil(&r), XS_EMALFORMED);
    assert_int_equal(xs_codec_get_bool(&r, &flag), XS_OK);
    assert_int_equal(flag, 1);
    assert_int_equal(xs_codec_get_bool(&r, &flag), XS_OK);
    assert_int_equal(flag, 0);
    /* Headers alone: their elements are not there, so both counts are refused. */
    assert_int_equal(xs_codec_peek(&r), XS_CODEC_ARRAY);
    assert_int_equal(xs_codec_get_array(&r, &count), XS_EMALFORMED);
    xs_writer_free(&w);
}

static void test_writer_limits(void **state) {
    (void)state;
    xs_writer_t w;
    xs_writer_init(&w, 9);
    xs_codec_put_uint(&w, UINT64_MAX); /* exactly 9 bytes */
    assert_int_equal(xs_writer_err(&w), XS_OK);
    assert_int_equal(w.len, 9);
    xs_codec_put_nil(&w);
    assert_int_equal(xs_writer_err(&w), XS_ETOOBIG);
    assert_int_equal(w.len, 9);
    /* Sticky: later writes do nothing, even ones that would fit after a reset. */
    xs_codec_put_str(&w, "", 0);
    assert_int_equal(xs_writer_err(&w), XS_ETOOBIG);
    assert_int_equal(w.len, 9);
    xs_writer_reset(&w);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    assert_int_equal(w.len, 0);
    xs_codec_put_str(&w, "0123456789", 10); /* 11 bytes */
    assert_int_equal(xs_writer_err(&w), XS_ETOOBIG);
    assert_true(w.len <= 9);
    xs_writer_free(&w);
    assert_null(w.data);

    /* Byte by byte across the first allocation, up to the maximum and one past it. */
    xs_writer_init(&w, 1000);
    for (int i = 0; i < 1000; i++)
        xs_writer_raw(&w, "x", 1);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    assert_int_equal(w.len, 1000);
    assert_true(w.cap <= 1000);
    xs_writer_raw(&w, "x", 1);
    assert_int_equal(xs_writer_err(&w), XS_ETOOBIG);
    assert_int_equal(w.len, 1000);
    xs_writer_free(&w);

    /* A zero maximum refuses the first byte. */
    xs_writer_init(&w, 0);
    xs_codec_put_nil(&w);
    assert_int_equal(xs_writer_err(&w), XS_ETOOBIG);
    xs_writer_free(&w);
}

/* peek agrees with the readers for every first byte. */
static void test_peek_every_byte(void **state) {
    (void)state;
    for (unsigned b = 0; b < 256; b++) {
        uint8_t buf[40] = {(uint8_t)b};
        xs_reader_t r;
        uint64_t u;
        int64_t i;
        const char *s;
        uint32_t n;
        xs_reader_init(&r, buf, sizeof buf);
        xs_codec_type t = xs_codec_peek(&r);
        switch (t) {
        case XS_CODEC_UINT:
            assert_int_equal(xs_codec_get_uint(&r, &u), XS_OK);
            break;
        case XS_CODEC_INT:
            assert_int_equal(xs_codec_get_int(&r, &i), XS_OK);
            break;
        case XS_CODEC_STR:
            assert_int_equal(xs_codec_get_str(&r, &s, &n), XS_OK);
            break;
        case XS_CODEC_NONE:
            assert_int_equal(b, 0xc1);
            break;
        default:
            break;
        }
        /* Followed by zeros, every value but 0xc1 is complete, fixmap 0x8f included. */
        xs_reader_init(&r, buf, sizeof buf);
        if (t != XS_CODEC_NONE)
            assert_int_equal(xs_codec_skip(&r), XS_OK);
    }
}

/* A hash field of the wrong length, and a date outside int32_t, are malformed and leave the
 * reader where it was; the right ones are read. */
static void test_bin_exact_and_i32(void **state) {
    (void)state;
    xs_writer_t w;
    xs_reader_t r;
    uint8_t hash[32], got[32];
    int32_t day;
    memset(hash, 7, sizeof hash);
    xs_writer_init(&w, 256);
    xs_codec_put_bin(&w, hash, 31);
    xs_codec_put_bin(&w, hash, 32);
    xs_codec_put_int(&w, (int64_t)INT32_MAX + 1);
    xs_codec_put_int(&w, INT32_MIN);
    xs_reader_init(&r, w.data, w.len);
    const uint8_t *start = r.pos;
    assert_int_equal(xs_codec_get_bin_exact(&r, got, 32), XS_EMALFORMED);
    assert_ptr_equal(r.pos, start);
    assert_int_equal(xs_codec_skip(&r), XS_OK);
    assert_int_equal(xs_codec_get_bin_exact(&r, got, 32), XS_OK);
    assert_memory_equal(got, hash, 32);
    start = r.pos;
    assert_int_equal(xs_codec_get_i32(&r, &day), XS_EMALFORMED);
    assert_ptr_equal(r.pos, start);
    assert_int_equal(xs_codec_skip(&r), XS_OK);
    assert_int_equal(xs_codec_get_i32(&r, &day), XS_OK);
    assert_int_equal(day, INT32_MIN);
    xs_writer_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_prefixes), cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_skip_depth),         cmocka_unit_test(test_skip_types),
        cmocka_unit_test(test_uint_boundaries),    cmocka_unit_test(test_int_boundaries),
        cmocka_unit_test(test_bin_exact_and_i32),  cmocka_unit_test(test_strings_and_types),
        cmocka_unit_test(test_writer_limits),      cmocka_unit_test(test_peek_every_byte),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
