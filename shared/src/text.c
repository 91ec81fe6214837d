/* text: UTF-8 checks, trimming, exact decimals and civil dates. */
#include "xs/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int xs_text_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            if (c == 0)
                return 0;
            p++;
            continue;
        }
        unsigned need;
        unsigned min;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= need)
            return 0;
        for (unsigned i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += need + 1;
    }
    return 1;
}

static int s_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

size_t xs_text_utf8_prefix(const char *s, size_t len, size_t max) {
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xc0u) == 0x80u)
        max--;
    return max;
}

void xs_text_trim(const char **s, size_t *len) {
    while (*len > 0 && s_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && s_space((*s)[*len - 1]))
        (*len)--;
}

xs_err xs_text_parse_fixed(const char *s, size_t len, unsigned scale, uint64_t max, uint64_t *out) {
    uint64_t value = 0;
    size_t i = 0;
    unsigned int_digits = 0, frac_digits = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return XS_EINVAL;
        value = value * 10 + digit;
    }
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, frac_digits++) {
            uint64_t digit = (uint64_t)(s[i] - '0');
            if (frac_digits >= scale)
                return XS_EINVAL;
            if (value > (UINT64_MAX - digit) / 10)
                return XS_EINVAL;
            value = value * 10 + digit;
        }
        if (frac_digits == 0)
            return XS_EINVAL;
    }
    if (i != len || int_digits == 0)
        return XS_EINVAL;
    for (; frac_digits < scale; frac_digits++) {
        if (value > UINT64_MAX / 10)
            return XS_EINVAL;
        value *= 10;
    }
    if (value > max)
        return XS_EINVAL;
    *out = value;
    return XS_OK;
}

size_t xs_text_format_fixed(char *out, size_t cap, uint64_t value, unsigned scale) {
    /* digits from the right: at most 20 of a uint64_t, the point, and leading zeros up to
     * scale + 1 digits ("0.05") */
    char buf[64];
    size_t n = 0;
    if (scale > 40)
        scale = 40;
    do {
        if (n == scale && scale)
            buf[n++] = '.';
        buf[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value || n <= scale);
    if (!cap)
        return 0;
    size_t len = n < cap ? n : cap - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = buf[n - 1 - i];
    out[len] = '\0';
    return len;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int32_t xs_date_from_civil(int year, unsigned month, unsigned day) {
    year -= month <= 2;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const unsigned yoe = (unsigned)(year - era * 400);
    const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void xs_date_to_civil(int32_t days, int *year, unsigned *month, unsigned *day) {
    /* 64-bit: days + 719468 overflows int near INT32_MAX, and decoded dates are any int32. */
    const int64_t z = (int64_t)days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int y = (int)(yoe + era * 400);
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (*month <= 2);
}

static int s_digits(const char *s, size_t n, unsigned *out) {
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Code point ranges, sorted, of East Asian Wide (W) and Fullwidth (F) characters. */
static const uint32_t s_wide[][2] = {
    {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2329, 0x232a},   {0x23e9, 0x23ec},
    {0x23f0, 0x23f0},   {0x23f3, 0x23f3},   {0x25fd, 0x25fe},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267f, 0x267f},   {0x2693, 0x2693},   {0x26a1, 0x26a1},
    {0x26aa, 0x26ab},   {0x26bd, 0x26be},   {0x26c4, 0x26c5},   {0x26ce, 0x26ce},
    {0x26d4, 0x26d4},   {0x26ea, 0x26ea},   {0x26f2, 0x26f3},   {0x26f5, 0x26f5},
    {0x26fa, 0x26fa},   {0x26fd, 0x26fd},   {0x2705, 0x2705},   {0x270a, 0x270b},
    {0x2728, 0x2728},   {0x274c, 0x274c},   {0x274e, 0x274e},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27b0, 0x27b0},   {0x27bf, 0x27bf},
    {0x2b1b, 0x2b1c},   {0x2b50, 0x2b50},   {0x2b55, 0x2b55},   {0x2e80, 0x303e},
    {0x3041, 0x33ff},   {0x3400, 0x4dbf},   {0x4e00, 0x9fff},   {0xa000, 0xa4cf},
    {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe10, 0xfe19},
    {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x16fe0, 0x16fe4},
    {0x17000, 0x18cff}, {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
    {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f251}, {0x1f300, 0x1f64f},
    {0x1f680, 0x1f6ff}, {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

/* Code point ranges, sorted, that take no column: combining marks, zero-width characters,
 * variation selectors. */
static const uint32_t s_zero[][2] = {
    {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a}, {0x064b, 0x065f},
    {0x200b, 0x200f}, {0x202a, 0x202e}, {0x2060, 0x2064}, {0x20d0, 0x20ff}, {0x302a, 0x302d},
    {0x3099, 0x309a}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff}, {0xe0100, 0xe01ef},
};

static int s_in(const uint32_t (*ranges)[2], size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < ranges[mid][0])
            hi = mid;
        else if (cp > ranges[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

void xs_text_message(char *buf, size_t cap, const char *fmt, ...) {
    if (!buf || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf[0] = '\0';
    } else if ((size_t)n >= cap) {
        /* Cut short: drop a character the cut left incomplete. */
        size_t len = cap - 1, start = len;
        while (start > 0 && ((unsigned char)buf[start - 1] & 0xc0) == 0x80)
            start--;
        if (start > 0 && !xs_text_utf8_valid(buf + start - 1, len - start + 1))
            buf[start - 1] = '\0';
    }
}

size_t xs_text_width(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t w = 0;
    while (p < end) {
        uint32_t cp;
        size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
        if (n == 0 || (size_t)(end - p) < n || !xs_text_utf8_valid((const char *)p, n)) {
            w++;
            p++;
            continue;
        }
        cp = n == 1 ? p[0] : (uint32_t)(p[0] & (0x7f >> n));
        for (size_t i = 1; i < n; i++)
            cp = (cp << 6) | (p[i] & 0x3fu);
        p += n;
        if (s_in(s_zero, sizeof s_zero / sizeof s_zero[0], cp))
            continue;
        w += s_in(s_wide, sizeof s_wide / sizeof s_wide[0], cp) ? 2 : 1;
    }
    return w;
}

xs_err xs_date_parse(const char *s, size_t len, int32_t *days) {
    unsigned y, m = 0, d = 0;
    /* YYYY, a separator, 1 or 2 digits, the same separator, 1 or 2 digits. */
    if (len < 8 || len > 10 || !s_digits(s, 4, &y))
        return XS_EINVAL;
    char sep = s[4];
    if (sep != '-' && sep != '/' && sep != '.')
        return XS_EINVAL;
    size_t i = 5, n = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9' && n < 2; i++, n++)
        m = m * 10 + (unsigned)(s[i] - '0');
    if (n == 0 || i >= len || s[i] != sep)
        return XS_EINVAL;
    for (i++, n = 0; i < len && s[i] >= '0' && s[i] <= '9' && n < 2; i++, n++)
        d = d * 10 + (unsigned)(s[i] - '0');
    if (n == 0 || i != len)
        return XS_EINVAL;
    if (y < 1970 || y > 2149 || m < 1 || m > 12 || d < 1)
        return XS_EINVAL;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned last = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        last = 29;
    if (d > last)
        return XS_EINVAL;
    *days = xs_date_from_civil((int)y, m, d);
    return XS_OK;
}

void xs_date_format(int32_t days, char out[11]) {
    int y;
    unsigned m, d;
    xs_date_to_civil(days, &y, &m, &d);
    /* Years outside 0..9999 cannot occur for int32 day counts the format carries. */
    unsigned yy = (unsigned)(y < 0 ? 0 : y) % 10000u;
    out[0] = (char)('0' + yy / 1000);
    out[1] = (char)('0' + yy / 100 % 10);
    out[2] = (char)('0' + yy / 10 % 10);
    out[3] = (char)('0' + yy % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10 % 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10 % 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

void xs_text_local_time(int64_t t, char out[XS_TEXT_TIME_MAX]) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) || strftime(out, XS_TEXT_TIME_MAX, "%Y-%m-%d %H:%M", &tm) == 0)
        out[0] = '\0';
}

int32_t xs_date_today(void) {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return xs_date_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

/* RFC 9285 §4: the 45 characters, by value. */
static const char s_base45[45] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/* The value of base45 character c, or -1. */
static int s_base45_value(unsigned char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    switch (c) {
    case ' ':
        return 36;
    case '$':
        return 37;
    case '%':
        return 38;
    case '*':
        return 39;
    case '+':
        return 40;
    case '-':
        return 41;
    case '.':
        return 42;
    case '/':
        return 43;
    case ':':
        return 44;
    default:
        return -1;
    }
}

size_t xs_text_base45_len(size_t len) {
    return len / 2 * 3 + (len % 2) * 2;
}

xs_err xs_text_base45_encode(const void *bytes, size_t len, char *out, size_t cap,
                             size_t *written) {
    const uint8_t *in = bytes;
    if (len / 2 > (SIZE_MAX - 3) / 3 || cap < xs_text_base45_len(len) + 1)
        return XS_ETOOBIG;
    size_t n = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        unsigned v = (unsigned)in[i] << 8 | in[i + 1];
        out[n++] = s_base45[v % 45];
        out[n++] = s_base45[v / 45 % 45];
        out[n++] = s_base45[v / (45 * 45)];
    }
    if (len % 2) {
        unsigned v = in[len - 1];
        out[n++] = s_base45[v % 45];
        out[n++] = s_base45[v / 45];
    }
    out[n] = '\0';
    if (written)
        *written = n;
    return XS_OK;
}

xs_err xs_text_base45_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                             size_t *written) {
    if (len % 3 == 1)
        return XS_EMALFORMED;
    size_t need = len / 3 * 2 + (len % 3 ? 1 : 0);
    if (need > cap)
        return XS_ETOOBIG;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        size_t group = len - i < 3 ? len - i : 3;
        unsigned v = 0, scale = 1;
        for (size_t k = 0; k < group; k++) {
            int d = s_base45_value((unsigned char)text[i + k]);
            if (d < 0)
                return XS_EMALFORMED;
            v += (unsigned)d * scale;
            scale *= 45;
        }
        if (v > (group == 3 ? 0xffffu : 0xffu))
            return XS_EMALFORMED;
        if (group == 3)
            out[n++] = (uint8_t)(v >> 8);
        out[n++] = (uint8_t)(v & 0xff);
    }
    *written = n;
    return XS_OK;
}
