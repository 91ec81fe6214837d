/* test_qr: QR codes for a text (libqrencode) and reading them back off a picture (zbar): the
 * sizes and levels, the refusals, and a round trip through pixels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/qr.h"
#include "xs/receipt.h"
#include "xs/scan.h"

/* Pixels per module and quiet-zone modules of the pictures drawn here. */
#define S_PX 4
#define S_QUIET 4

/* Draws qr as a grey picture (*width × *width, caller frees): black modules on white. */
static uint8_t *s_picture(const xs_qr_t *qr, unsigned *width) {
    unsigned side = (unsigned)(qr->width + 2 * S_QUIET) * S_PX;
    uint8_t *px = malloc((size_t)side * side);
    assert_non_null(px);
    memset(px, 255, (size_t)side * side);
    for (int r = 0; r < qr->width; r++)
        for (int c = 0; c < qr->width; c++)
            if (qr->modules[r * qr->width + c])
                for (unsigned y = 0; y < S_PX; y++)
                    memset(px + ((size_t)(r + S_QUIET) * S_PX + y) * side +
                               (size_t)(c + S_QUIET) * S_PX,
                           0, S_PX);
    *width = side;
    return px;
}

/* A text of n characters of QR alphanumeric mode (what a receipt's text is made of). */
static char *s_alnum(size_t n) {
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    char *text = malloc(n + 1);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        text[i] = alphabet[(i * 7 + i / 45) % 45];
    text[n] = '\0';
    return text;
}

/* A short text: level M, the smallest version, a square of 0s and 1s with finder patterns. */
static void test_encode(void **state) {
    (void)state;
    xs_qr_t *qr = NULL;
    assert_int_equal(xs_qr_encode(&qr, "XS1:BB8", 7), XS_OK);
    assert_non_null(qr);
    assert_int_equal(qr->version, 1);
    assert_int_equal(qr->level, 'M');
    assert_int_equal(qr->width, 21);
    size_t dark = 0;
    for (int i = 0; i < qr->width * qr->width; i++) {
        assert_true(qr->modules[i] <= 1);
        dark += qr->modules[i];
    }
    assert_true(dark > 100 && dark < 341);
    /* The finder pattern's corners: dark at the three corners, light at the fourth's edge. */
    assert_int_equal(qr->modules[0], 1);
    assert_int_equal(qr->modules[20], 1);
    assert_int_equal(qr->modules[20 * 21], 1);
    xs_qr_destroy(&qr);
    assert_null(qr);
    xs_qr_destroy(&qr);
    xs_qr_destroy(NULL);
}

/* Alphanumeric text as long as receipts' texts get: M while it holds them (3391 characters),
 * then L up to 4296, then nothing. */
static void test_sizes(void **state) {
    (void)state;
    xs_qr_t *qr = NULL;
    char *text = s_alnum(XS_RECEIPT_TEXT_MAX + 1);
    assert_int_equal(xs_qr_encode(&qr, text, 3391), XS_OK);
    assert_int_equal(qr->level, 'M');
    assert_int_equal(qr->version, 40);
    xs_qr_destroy(&qr);
    assert_int_equal(xs_qr_encode(&qr, text, 3392), XS_OK);
    assert_int_equal(qr->level, 'L');
    assert_int_equal(qr->width, 17 + 4 * qr->version);
    xs_qr_destroy(&qr);
    assert_int_equal(xs_qr_encode(&qr, text, XS_RECEIPT_TEXT_MAX), XS_OK);
    assert_int_equal(qr->level, 'L');
    assert_int_equal(qr->version, 40);
    xs_qr_destroy(&qr);
    assert_int_equal(xs_qr_encode(&qr, text, XS_RECEIPT_TEXT_MAX + 1), XS_ETOOBIG);
    assert_null(qr);
    free(text);
    /* Lower case forces 8-bit mode: far less fits. */
    text = malloc(XS_QR_TEXT_MAX + 2);
    assert_non_null(text);
    memset(text, 'a', XS_QR_TEXT_MAX + 1);
    text[XS_QR_TEXT_MAX + 1] = '\0';
    assert_int_equal(xs_qr_encode(&qr, text, 2954), XS_ETOOBIG);
    assert_int_equal(xs_qr_encode(&qr, text, XS_QR_TEXT_MAX + 1), XS_ETOOBIG);
    assert_null(qr);
    free(text);
}

static void test_refusals(void **state) {
    (void)state;
    xs_qr_t *qr = NULL;
    assert_int_equal(xs_qr_encode(&qr, "", 0), XS_EINVAL);
    assert_int_equal(xs_qr_encode(&qr, "AB\0CD", 5), XS_EINVAL);
    assert_null(qr);
}

/* Drawn as pixels and scanned, a code gives its text back exactly, short or as long as a
 * receipt's text may be; a blank picture has none; a small buffer is refused. */
static void test_scan_round_trip(void **state) {
    (void)state;
    if (!xs_scan_available())
        skip();
    static const size_t lengths[] = {7, 600, 2000, XS_RECEIPT_TEXT_MAX};
    char out[XS_RECEIPT_TEXT_MAX + 1];
    size_t len;
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        char *text = s_alnum(lengths[i]);
        memcpy(text, "XS1:", 4);
        xs_qr_t *qr = NULL;
        unsigned side;
        assert_int_equal(xs_qr_encode(&qr, text, lengths[i]), XS_OK);
        uint8_t *px = s_picture(qr, &side);
        assert_int_equal(xs_scan_qr(px, side, side, out, sizeof out, &len), XS_OK);
        assert_int_equal(len, lengths[i]);
        assert_memory_equal(out, text, len);
        assert_int_equal(out[len], '\0');
        if (i == 1)
            assert_int_equal(xs_scan_qr(px, side, side, out, 600, &len), XS_ETOOBIG);
        memset(px, 255, (size_t)side * side);
        assert_int_equal(xs_scan_qr(px, side, side, out, sizeof out, &len), XS_ENOTFOUND);
        free(px);
        xs_qr_destroy(&qr);
        free(text);
    }
    uint8_t one = 0;
    assert_int_equal(xs_scan_qr(&one, 0, 1, out, sizeof out, &len), XS_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_scan_round_trip),
    };
    return cmocka_run_group_tests_name("qr", tests, NULL, NULL);
}
