/* text: UTF-8 checks, trimming, exact decimal parsing, civil dates for user input, and base45
 * for bytes carried as text. */
#ifndef XS_TEXT_H
#define XS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

/* Returns 1 when len bytes at s are well-formed UTF-8 (no overlongs, surrogates or NULs). */
int xs_text_utf8_valid(const char *s, size_t len);

/* The longest prefix of the UTF-8 text s (len bytes) of at most max bytes that does not end
 * inside a character: for quoting or cutting text without splitting a Chinese character. */
size_t xs_text_utf8_prefix(const char *s, size_t len, size_t max);
/* Narrows [*s, *s + *len) past leading and trailing ASCII white space. */
void xs_text_trim(const char **s, size_t *len);

/* Parses an unsigned decimal with at most `scale` fractional digits into value × 10^scale
 * ("2.5" at scale 2 gives 250). Refuses signs, exponents, more fractional digits than
 * scale, and results above max: XS_EINVAL. */
XS_MUST_USE xs_err xs_text_parse_fixed(const char *s, size_t len, unsigned scale, uint64_t max,
                                       uint64_t *out);

/* Writes value / 10^scale with exactly `scale` decimals ("2.50"); returns bytes written. */
size_t xs_text_format_fixed(char *out, size_t cap, uint64_t value, unsigned scale);

/* Writes one formatted message into buf when cap > 0 (buf may then be NULL), cut short at a
 * whole UTF-8 character when it does not fit. */
void xs_text_message(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Columns a terminal gives len bytes of UTF-8: 2 for an East Asian Wide or Fullwidth
 * character (Unicode UAX #11: CJK, Hangul, kana, fullwidth forms, CJK punctuation), 0 for a
 * combining mark, a zero-width character or a variation selector, 1 for anything else; a byte
 * that is not UTF-8 counts 1. */
size_t xs_text_width(const char *s, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date; month 1..12, day 1..31 unchecked. */
int32_t xs_date_from_civil(int year, unsigned month, unsigned day);
/* The civil date of a day count from xs_date_from_civil. */
void xs_date_to_civil(int32_t days, int *year, unsigned *month, unsigned *day);
/* Parses a real calendar day in years 1970..2149 written YYYY-M-D, YYYY/M/D or YYYY.M.D (month
 * and day of 1 or 2 digits, one separator throughout, as Excel in a Chinese locale writes
 * them): XS_EINVAL else. Stored and shown canonically by xs_date_format. */
XS_MUST_USE xs_err xs_date_parse(const char *s, size_t len, int32_t *days);
/* Writes "YYYY-MM-DD" and a NUL into out (cap ≥ 11). */
void xs_date_format(int32_t days, char out[11]);
/* Room for xs_text_local_time's text and its NUL. */
#define XS_TEXT_TIME_MAX 32
/* Writes unix time t as local "YYYY-MM-DD HH:MM" and a NUL into out; "" for a time that does
 * not fit. */
void xs_text_local_time(int64_t t, char out[XS_TEXT_TIME_MAX]);

/* Today's date in local time, as days since 1970-01-01. */
int32_t xs_date_today(void);

/* The characters base45 encodes len bytes in (RFC 9285 §4): 3 per pair of bytes, 2 for a last
 * odd byte. */
size_t xs_text_base45_len(size_t len);

/* Writes len bytes as base45 (RFC 9285: the alphabet "0-9A-Z $%*+-./:" of a QR code's
 * alphanumeric mode) and a NUL into out (cap bytes); *written (may be NULL) gets the
 * characters, NUL excluded. XS_ETOOBIG when cap < xs_text_base45_len(len) + 1 (out is then
 * not written). */
XS_MUST_USE xs_err xs_text_base45_encode(const void *bytes, size_t len, char *out, size_t cap,
                                         size_t *written);

/* Decodes len characters of base45 into out (cap bytes); *written gets the bytes. Strict:
 * XS_EMALFORMED for a character outside the alphabet (lower case and white space included), a
 * length of 3k + 1, a group of three over 0xFFFF or a last pair over 0xFF; XS_ETOOBIG when
 * the bytes do not fit cap. out's contents are unspecified on error. */
XS_MUST_USE xs_err xs_text_base45_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                                         size_t *written);

#endif
