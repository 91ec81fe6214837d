/* test_text: UTF-8 checks, trimming, exact decimals, civil dates and base45. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs/text.h"

/* Encodes code point cp as UTF-8 (surrogates too, as a careless encoder would). */
static size_t s_utf8(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Every code point alone: valid unless it is NUL or a surrogate; every proper prefix of a
 * multi-byte sequence is not. */
static void test_utf8_every_code_point(void **state) {
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        char buf[4];
        size_t n = s_utf8(cp, buf);
        int want = cp != 0 && (cp < 0xd800 || cp > 0xdfff);
        if (xs_text_utf8_valid(buf, n) != want)
            fail_msg("U+%04X judged %d", (unsigned)cp, !want);
        for (size_t k = 1; k < n; k++)
            assert_int_equal(xs_text_utf8_valid(buf, k), 0);
    }
}

static void test_utf8_refusals(void **state) {
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        int valid;
    } cases[] = {
        {"", 0, 1},
        {"T0001", 5, 1},
        {"\xe5\xad\xa6\xe6\x97\xb6", 6, 1}, /* 学时 */
        {"\xf0\x9f\x98\x80", 4, 1},         /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 4, 1},         /* U+10FFFF */
        {"\xed\x9f\xbf", 3, 1},             /* U+D7FF */
        {"\xee\x80\x80", 3, 1},             /* U+E000 */
        {"\xc0\xaf", 2, 0},                 /* overlong '/' */
        {"\xc1\xbf", 2, 0},                 /* overlong U+007F */
        {"\xe0\x80\xaf", 3, 0},             /* overlong '/' */
        {"\xe0\x9f\xbf", 3, 0},             /* overlong U+07FF */
        {"\xf0\x80\x80\xaf", 4, 0},         /* overlong '/' */
        {"\xf0\x8f\xbf\xbf", 4, 0},         /* overlong U+FFFF */
        {"\xed\xa0\x80", 3, 0},             /* U+D800 */
        {"\xed\xbf\xbf", 3, 0},             /* U+DFFF */
        {"\xed\xa0\xbd\xed\xb8\x80", 6, 0}, /* CESU-8 pair */
        {"\xf4\x90\x80\x80", 4, 0},         /* U+110000 */
        {"\xf5\x80\x80\x80", 4, 0},
        {"\xf8\x88\x80\x80\x80", 5, 0}, /* five-byte form */
        {"\xfe", 1, 0},
        {"\xff", 1, 0},
        {"\x80", 1, 0}, /* lone continuation */
        {"A\xbf", 2, 0},
        {"\xe5\xad", 2, 0},     /* cut */
        {"\xe5\x41\xa6", 3, 0}, /* ASCII inside a sequence */
        {"A\0B", 3, 0},         /* NUL */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (xs_text_utf8_valid(cases[i].bytes, cases[i].len) != cases[i].valid)
            fail_msg("case %zu judged %d", i, !cases[i].valid);
}

static void test_trim(void **state) {
    (void)state;
    const char *s = " \t\r\n T0001 \v\f";
    size_t len = strlen(s);
    xs_text_trim(&s, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(s, "T0001", 5);
    s = "   ";
    len = 3;
    xs_text_trim(&s, &len);
    assert_int_equal(len, 0);
    s = "";
    len = 0;
    xs_text_trim(&s, &len);
    assert_int_equal(len, 0);
    /* Only ASCII white space: an ideographic space (U+3000) stays. */
    s = "\xe3\x80\x80"
        "A";
    len = 4;
    xs_text_trim(&s, &len);
    assert_int_equal(len, 4);
}

static xs_err s_fixed(const char *s, unsigned scale, uint64_t max, uint64_t *out) {
    *out = 0xdeadbeef;
    return xs_text_parse_fixed(s, strlen(s), scale, max, out);
}

static void test_parse_fixed(void **state) {
    (void)state;
    static const struct {
        const char *text;
        unsigned scale;
        uint64_t max;
        uint64_t value;
    } good[] = {
        {"0", 0, 10, 0},
        {"007", 0, 10, 7},
        {"12.5", 2, UINT32_MAX, 1250},
        {"12.50", 2, UINT32_MAX, 1250},
        {"12", 2, UINT32_MAX, 1200},
        {"0.01", 2, UINT32_MAX, 1},
        {"87.5", 2, 100000, 8750},
        {"2.5", 1, 100, 25},
        {"1440", 0, 1440, 1440},
        {"18446744073709551615", 0, UINT64_MAX, UINT64_MAX},
        {"184467440737095516.15", 2, UINT64_MAX, UINT64_MAX},
        {"1844674407370955161.5", 1, UINT64_MAX, UINT64_MAX},
        {"4294967295", 0, UINT32_MAX, UINT32_MAX},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        uint64_t v;
        if (s_fixed(good[i].text, good[i].scale, good[i].max, &v) != XS_OK || v != good[i].value)
            fail_msg("\"%s\" at scale %u", good[i].text, good[i].scale);
    }
    static const struct {
        const char *text;
        unsigned scale;
        uint64_t max;
    } bad[] = {
        {"", 2, UINT64_MAX},
        {".", 2, UINT64_MAX},
        {".5", 2, UINT64_MAX},
        {"5.", 2, UINT64_MAX},
        {"1.005", 2, UINT64_MAX}, /* too many decimals */
        {"1.0", 0, UINT64_MAX},   /* no decimals allowed */
        {"+1", 0, UINT64_MAX},
        {"-1", 0, UINT64_MAX},
        {"1e3", 0, UINT64_MAX},
        {" 1", 0, UINT64_MAX},
        {"1 ", 0, UINT64_MAX},
        {"1,5", 1, UINT64_MAX},
        {"0x10", 0, UINT64_MAX},
        {"1.2.3", 2, UINT64_MAX},
        {"1441", 0, 1440}, /* over max */
        {"4294967296", 0, UINT32_MAX},
        {"18446744073709551616", 0, UINT64_MAX}, /* overflow while reading digits */
        {"99999999999999999999", 0, UINT64_MAX},
        {"184467440737095516.16", 2, UINT64_MAX}, /* overflow in the last decimal */
        {"184467440737095517", 2, UINT64_MAX},    /* overflow while scaling */
        {"00000000000000000000000000000000001", 0, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t v;
        if (s_fixed(bad[i].text, bad[i].scale, bad[i].max, &v) != XS_EINVAL)
            fail_msg("\"%s\" at scale %u accepted", bad[i].text, bad[i].scale);
        assert_true(v == 0xdeadbeef);
    }
    /* Leading zeros do not overflow. */
    uint64_t v;
    assert_int_equal(s_fixed("00000000000000000000000000000000001", 0, 1, &v), XS_OK);
    assert_int_equal(v, 1);
}

static void test_format_fixed(void **state) {
    (void)state;
    char buf[32];
    assert_int_equal(xs_text_format_fixed(buf, sizeof buf, 1250, 2), 5);
    assert_string_equal(buf, "12.50");
    assert_int_equal(xs_text_format_fixed(buf, sizeof buf, 5, 2), 4);
    assert_string_equal(buf, "0.05");
    assert_int_equal(xs_text_format_fixed(buf, sizeof buf, 90, 0), 2);
    assert_string_equal(buf, "90");
    xs_text_format_fixed(buf, sizeof buf, UINT64_MAX, 2);
    assert_string_equal(buf, "184467440737095516.15");
    /* Truncated output is still terminated and says how much it wrote. */
    assert_int_equal(xs_text_format_fixed(buf, 4, 1250, 2), 3);
    assert_string_equal(buf, "12.");
    /* Round trip with the parser at every scale used. */
    for (unsigned scale = 0; scale <= 2; scale++)
        for (uint64_t value = 0; value < 20000; value += 7) {
            uint64_t back;
            size_t n = xs_text_format_fixed(buf, sizeof buf, value, scale);
            assert_int_equal(xs_text_parse_fixed(buf, n, scale, UINT64_MAX, &back), XS_OK);
            assert_true(back == value);
        }
}

static int s_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Every day 1970-01-01..2149-12-31: format, parse and the civil conversions agree, and the
 * calendar advances one day at a time. */
static void test_dates_every_day(void **state) {
    (void)state;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 1970;
    unsigned m = 1, d = 1;
    int32_t last = xs_date_from_civil(2149, 12, 31);
    assert_int_equal(xs_date_from_civil(1970, 1, 1), 0);
    assert_int_equal(last, 65743);
    for (int32_t day = 0; day <= last; day++) {
        char text[11], want[11];
        int cy;
        unsigned cm, cd;
        int32_t back;
        want[0] = (char)('0' + y / 1000);
        want[1] = (char)('0' + y / 100 % 10);
        want[2] = (char)('0' + y / 10 % 10);
        want[3] = (char)('0' + y % 10);
        want[4] = '-';
        want[5] = (char)('0' + m / 10);
        want[6] = (char)('0' + m % 10);
        want[7] = '-';
        want[8] = (char)('0' + d / 10);
        want[9] = (char)('0' + d % 10);
        want[10] = '\0';
        xs_date_format(day, text);
        if (strcmp(text, want) != 0)
            fail_msg("day %d formats as %s, expected %s", day, text, want);
        assert_int_equal(xs_date_parse(text, 10, &back), XS_OK);
        assert_int_equal(back, day);
        xs_date_to_civil(day, &cy, &cm, &cd);
        assert_true(cy == y && cm == m && cd == d);
        assert_int_equal(xs_date_from_civil(y, m, d), day);
        /* Advance the reference calendar by one day. */
        unsigned month_len = mdays[m - 1] + (m == 2 && s_leap(y));
        if (++d > month_len) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    assert_int_equal(y, 2150);
}

static void test_date_parse_refusals(void **state) {
    (void)state;
    static const char *const bad[] = {
        "2025-02-29", "2100-02-29",  "2024-02-30",  "2025-04-31", "2025-13-01", "2025-00-10",
        "2025-01-00", "2025-01-32",  "1969-12-31",  "2150-01-01", "2025-3/12",  "2025/03-12",
        "20250312",   "2025-03-12 ", " 2025-03-12", "2025-03-1x", "+025-03-12", "２０２５-03-12",
        "",           "2025-003-1",  "2025-3-",     "2025--3",    "2025_3_12",  "2025.2.29",
        "2025/4/31",  "25-3-12",     "2025-3-123",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int32_t day = -7;
        if (xs_date_parse(bad[i], strlen(bad[i]), &day) != XS_EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(day, -7);
    }
    /* Leap years: every year divisible by 4 in range except 2100. */
    int leaps = 0;
    for (int y = 1970; y <= 2149; y++) {
        char text[11];
        int32_t day;
        xs_date_format(xs_date_from_civil(y, 2, 28), text);
        text[9] = '9';
        if (xs_date_parse(text, 10, &day) == XS_OK) {
            assert_true(y % 4 == 0 && y != 2100);
            leaps++;
        }
    }
    assert_int_equal(leaps, 44);
    int32_t day;
    /* How Excel in a Chinese locale, and people, write the same day. */
    static const char *const same[] = {"2025-10-05", "2025-10-5", "2025/10/5",
                                       "2025/10/05", "2025.10.5", "2025.10.05"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        assert_int_equal(xs_date_parse(same[i], strlen(same[i]), &day), XS_OK);
        assert_int_equal(day, xs_date_from_civil(2025, 10, 5));
    }
    assert_int_equal(xs_date_parse("2025/1/1", 8, &day), XS_OK);
    assert_int_equal(day, xs_date_from_civil(2025, 1, 1));
    assert_int_equal(xs_date_parse("2024-02-29", 10, &day), XS_OK);
    assert_int_equal(day, 19782);
    assert_int_equal(xs_date_parse("2000-02-29", 10, &day), XS_OK);
}

/* Any int32 day count formats without overflow (decoded records carry any int32). */
static void test_date_extremes(void **state) {
    (void)state;
    static const int32_t days[] = {INT32_MIN, -719469, -719468, -1, INT32_MAX - 719468, INT32_MAX};
    for (size_t i = 0; i < sizeof days / sizeof *days; i++) {
        char text[11];
        int y;
        unsigned m, d;
        xs_date_format(days[i], text);
        assert_int_equal(strlen(text), 10);
        xs_date_to_civil(days[i], &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    }
    int y;
    unsigned m, d;
    xs_date_to_civil(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
    /* Today is after the format began and before it ends. */
    int32_t today = xs_date_today();
    assert_true(today > xs_date_from_civil(2024, 1, 1) && today < 65743);
}

/* A cut never splits a character: "学时" is 6 bytes; 4 bytes keep one character. */
static void test_utf8_prefix(void **state) {
    (void)state;
    assert_int_equal(xs_text_utf8_prefix("学时", 6, 10), 6);
    assert_int_equal(xs_text_utf8_prefix("学时", 6, 6), 6);
    assert_int_equal(xs_text_utf8_prefix("学时", 6, 5), 3);
    assert_int_equal(xs_text_utf8_prefix("学时", 6, 4), 3);
    assert_int_equal(xs_text_utf8_prefix("学时", 6, 2), 0);
    assert_int_equal(xs_text_utf8_prefix("ab学", 5, 3), 2);
}

/* RFC 9285 §4.3 and §4.4 golden vectors, both ways. */
static void test_base45_vectors(void **state) {
    (void)state;
    static const struct {
        const char *bytes, *text;
    } cases[] = {
        {"AB", "BB8"},
        {"Hello!!", "%69 VD92EX0"},
        {"base-45", "UJCLQE7W581"},
        {"ietf!", "QED8WEX0"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        uint8_t bytes[64];
        size_t n = strlen(cases[i].bytes), written = 99;
        assert_int_equal(xs_text_base45_len(n), strlen(cases[i].text));
        assert_int_equal(xs_text_base45_encode(cases[i].bytes, n, text, sizeof text, &written),
                         XS_OK);
        assert_string_equal(text, cases[i].text);
        assert_int_equal(written, strlen(cases[i].text));
        assert_int_equal(
            xs_text_base45_decode(cases[i].text, written, bytes, sizeof bytes, &written), XS_OK);
        assert_int_equal(written, n);
        assert_memory_equal(bytes, cases[i].bytes, n);
    }
}

/* Every byte pair, every odd last byte: encode then decode gives them back; the extremes. */
static void test_base45_round_trip(void **state) {
    (void)state;
    for (unsigned v = 0; v <= 0xffff; v++) {
        uint8_t in[3] = {(uint8_t)(v >> 8), (uint8_t)v, (uint8_t)(v * 7)}, out[3];
        char text[8];
        size_t n, back;
        for (size_t len = 2; len <= 3; len++) {
            assert_int_equal(xs_text_base45_encode(in, len, text, sizeof text, &n), XS_OK);
            /* Never a trailing space: a scanner's trim cannot eat a character. */
            assert_true(text[n - 1] != ' ');
            assert_int_equal(xs_text_base45_decode(text, n, out, sizeof out, &back), XS_OK);
            assert_int_equal(back, len);
            assert_memory_equal(in, out, len);
        }
    }
    char text[8];
    size_t n;
    assert_int_equal(xs_text_base45_encode("\xff\xff", 2, text, sizeof text, &n), XS_OK);
    assert_string_equal(text, "FGW");
    assert_int_equal(xs_text_base45_encode("\xff", 1, text, sizeof text, &n), XS_OK);
    assert_string_equal(text, "U5");
}

/* Strict decoding: bad characters, a bad length, values out of range, a short buffer. */
static void test_base45_refusals(void **state) {
    (void)state;
    static const char *const bad[] = {
        "GGW",  /* 65536 (RFC 9285 §6) */
        "A",    /* a length of 3k + 1 */
        "BB8A", /* likewise */
        "::",   /* a last pair of 2024 */
        "U6",   /* 300 */
        "bb8",  /* lower case */
        "BB\n", /* white space inside */
        "BB=",  /* outside the alphabet */
        "BB\x80",
    };
    uint8_t out[16];
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(xs_text_base45_decode(bad[i], strlen(bad[i]), out, sizeof out, &n),
                         XS_EMALFORMED);
    assert_int_equal(xs_text_base45_decode("BB8BB8", 6, out, 3, &n), XS_ETOOBIG);
    assert_int_equal(xs_text_base45_decode("BB8BB8", 6, out, 4, &n), XS_OK);
    char text[4];
    assert_int_equal(xs_text_base45_encode("AB", 2, text, 3, &n), XS_ETOOBIG);
    assert_int_equal(xs_text_base45_encode("AB", 2, text, 4, &n), XS_OK);
}

/* Terminal columns: CJK and fullwidth take two, combining marks none, the rest one. */
static void test_width(void **state) {
    (void)state;
    static const struct {
        const char *text;
        size_t width;
    } cases[] = {
        {"", 0},
        {"T0001", 5},
        {"专题讲座", 8},
        {"教师 T1", 7},
        {"《论文》", 8},
        {"，。", 4},
        {"ＡＢ", 4},
        {"é", 1},
        {"e\xcc\x81", 1},
        {"—", 1},
        {"한국", 4},
        {"かな", 4},
        {"\xf0\xa0\x80\x80", 2},
        {"a\xff"
         "b",
         3},
        {"\xe4\xb8", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (xs_text_width(cases[i].text, strlen(cases[i].text)) != cases[i].width)
            fail_msg("\"%s\": %zu columns, want %zu", cases[i].text,
                     xs_text_width(cases[i].text, strlen(cases[i].text)), cases[i].width);
}

/* A unix time as a local minute, whatever the zone. */
static void test_local_time(void **state) {
    (void)state;
    char out[XS_TEXT_TIME_MAX];
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    xs_text_local_time(1764750000, out); /* 2025-12-03 08:20 UTC */
    assert_string_equal(out, "2025-12-03 16:20");
    setenv("TZ", "UTC", 1);
    tzset();
    xs_text_local_time(0, out);
    assert_string_equal(out, "1970-01-01 00:00");
    unsetenv("TZ");
    tzset();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_local_time),
        cmocka_unit_test(test_utf8_every_code_point),
        cmocka_unit_test(test_utf8_refusals),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_parse_fixed),
        cmocka_unit_test(test_format_fixed),
        cmocka_unit_test(test_dates_every_day),
        cmocka_unit_test(test_date_parse_refusals),
        cmocka_unit_test(test_date_extremes),
        cmocka_unit_test(test_utf8_prefix),
        cmocka_unit_test(test_base45_vectors),
        cmocka_unit_test(test_base45_round_trip),
        cmocka_unit_test(test_base45_refusals),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
