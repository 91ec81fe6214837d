/* test_draw: PDF pages (a document opens, draws, measures and closes; bad paths and bad text
 * are refused) and PNGs read as grey pixels (colour, transparency, and hostile headers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scratch.h"
#include "xs/draw.h"

/* A 3 × 2 8-bit grey PNG: rows 0 128 255 / 255 64 0. */
static const uint8_t s_gray_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0xb8,
    0x1f, 0x39, 0xc6, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60,
    0x68, 0xf8, 0xcf, 0xf0, 0xdf, 0x81, 0x01, 0x00, 0x0b, 0x80, 0x02, 0xbf, 0x70, 0xdb, 0xbc,
    0xac, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
/* A 2 × 1 RGBA PNG: opaque red, then fully transparent black. */
static const uint8_t s_rgba_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0xf4,
    0x22, 0x7f, 0x8a, 0x00, 0x00, 0x00, 0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
    0xcf, 0xc0, 0x00, 0x44, 0x0c, 0x0c, 0x00, 0x0c, 0xfc, 0x01, 0xff, 0x5c, 0xfd, 0x14, 0x95,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

typedef struct fixture {
    char dir[512];
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx || xs_scratch_make(fx->dir, sizeof fx->dir, "test_draw") != 0)
        return -1;
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* Writes len bytes to dir/name; the path into path. */
static void s_write(const fixture_t *fx, const char *name, const void *bytes, size_t len,
                    char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Two pages with every kind of drawing; text measures by its length and wraps in a width. */
static void test_document(void **state) {
    fixture_t *fx = *state;
    char path[1024], head[8] = {0};
    snprintf(path, sizeof path, "%s/doc.pdf", fx->dir);
    xs_draw_t *d = NULL;
    assert_int_equal(xs_draw_open(&d, path), XS_OK);
    xs_draw_font_t font = {.size = 12};
    double w1, w2, h1, h2, h;
    assert_int_equal(xs_draw_measure(d, "学时", &font, &w1, &h1), XS_OK);
    assert_int_equal(xs_draw_measure(d, "学时学时", &font, &w2, &h2), XS_OK);
    assert_true(w1 > 5 && w2 > 1.8 * w1);
    assert_true(h1 > 3 && h1 < 8);
    font.width = w1 * 1.1;
    assert_int_equal(xs_draw_measure(d, "学时学时学时", &font, NULL, &h), XS_OK);
    assert_true(h > 2.5 * h1);
    font.ellipsize = 1;
    assert_int_equal(xs_draw_measure(d, "学时学时学时", &font, NULL, &h), XS_OK);
    assert_true(h < 1.5 * h1);
    assert_int_equal(xs_draw_watermark(d, "暂定", 120, 45, 0.85), XS_OK);
    assert_int_equal(xs_draw_text(d, 20, 20, "继续教育学时证明", &font, &h), XS_OK);
    xs_draw_line(d, 20, 30, 190, 30, 0.5, 0);
    xs_draw_rect(d, 20, 40, 50, 10, 0, 0.9);
    xs_draw_rect(d, 20, 60, 50, 10, 0.3, 0);
    const uint8_t modules[9] = {1, 0, 1, 0, 1, 0, 1, 0, 1};
    xs_draw_modules(d, 20, 80, 20, modules, 3);
    assert_int_equal(xs_draw_page_end(d), XS_OK);
    assert_int_equal(xs_draw_text(d, 20, 20, "第二页", &font, NULL), XS_OK);
    /* Bad text draws nothing. */
    assert_int_equal(xs_draw_text(d, 20, 20, "\xc0\xaf", &font, NULL), XS_EINVAL);
    assert_int_equal(xs_draw_measure(d, "\xff", &font, NULL, NULL), XS_EINVAL);
    assert_int_equal(xs_draw_watermark(d, "\xed\xa0\x80", 120, 45, 0.85), XS_EINVAL);
    assert_int_equal(xs_draw_close(&d), XS_OK);
    assert_null(d);
    assert_int_equal(xs_draw_close(&d), XS_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, 5, f), 5);
    fclose(f);
    assert_string_equal(head, "%PDF-");
}

static void test_open_refused(void **state) {
    fixture_t *fx = *state;
    char path[1024];
    snprintf(path, sizeof path, "%s/missing/doc.pdf", fx->dir);
    xs_draw_t *d = NULL;
    assert_int_equal(xs_draw_open(&d, path), XS_EIO);
    assert_null(d);
}

/* Grey and RGBA PNGs come back as grey, transparency over white. */
static void test_png_gray(void **state) {
    fixture_t *fx = *state;
    char path[1024];
    uint8_t *px = NULL;
    unsigned w, h;
    s_write(fx, "gray.png", s_gray_png, sizeof s_gray_png, path, sizeof path);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_OK);
    assert_int_equal(w, 3);
    assert_int_equal(h, 2);
    const uint8_t want[6] = {0, 128, 255, 255, 64, 0};
    assert_memory_equal(px, want, 6);
    free(px);
    s_write(fx, "rgba.png", s_rgba_png, sizeof s_rgba_png, path, sizeof path);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_OK);
    assert_int_equal(w, 2);
    assert_int_equal(h, 1);
    assert_int_equal(px[0], 76); /* red: 0.299 × 255 */
    assert_int_equal(px[1], 255);
    free(px);
}

/* A missing file, a file that is not a PNG, one cut short, one whose header claims a huge
 * picture (refused before anything is allocated for it). */
static void test_png_refusals(void **state) {
    fixture_t *fx = *state;
    char path[1024];
    uint8_t *px = (uint8_t *)1;
    unsigned w = 9, h = 9;
    snprintf(path, sizeof path, "%s/none.png", fx->dir);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_EIO);
    assert_null(px);
    assert_int_equal(w, 0);
    s_write(fx, "text.png", "%PDF-1.5 not a picture at all", 29, path, sizeof path);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_EMALFORMED);
    s_write(fx, "short.png", s_gray_png, 40, path, sizeof path);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_EMALFORMED);
    s_write(fx, "head.png", s_gray_png, 20, path, sizeof path);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_EMALFORMED);
    uint8_t huge[sizeof s_gray_png];
    memcpy(huge, s_gray_png, sizeof huge);
    huge[16] = huge[20] = 0x00, huge[17] = huge[21] = 0x01; /* 65536 + 3 per side */
    s_write(fx, "huge.png", huge, sizeof huge, path, sizeof path);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_ETOOBIG);
    memcpy(huge, s_gray_png, sizeof huge);
    huge[18] = 0x30; /* 12288 × 12288 (+ 3): each side allowed, the whole not */
    huge[22] = 0x30;
    s_write(fx, "wide.png", huge, sizeof huge, path, sizeof path);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_ETOOBIG);
    memcpy(huge, s_gray_png, sizeof huge);
    huge[19] = 0; /* width 0 */
    s_write(fx, "zero.png", huge, sizeof huge, path, sizeof path);
    assert_int_equal(xs_draw_png_gray(path, &px, &w, &h), XS_EMALFORMED);
    assert_null(px);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_open_refused),
        cmocka_unit_test(test_png_gray),
        cmocka_unit_test(test_png_refusals),
    };
    return cmocka_run_group_tests_name("draw", tests, s_setup, s_teardown);
}
