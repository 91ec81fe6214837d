/* draw: PDF pages through cairo, text through pango, PNG reading through cairo: the only file
 * that includes them. Coordinates come in millimetres and go to cairo in points. */
#include "xs/draw.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/text.h"

#define S_PT_PER_MM (72.0 / 25.4)
/* A QR code's quiet zone, in modules, on each side. */
#define S_QUIET 4

struct xs_draw {
    cairo_surface_t *surface;      /* the PDF */
    cairo_t *cr;                   /* drawing on its current page */
    cairo_font_options_t *options; /* unhinted metrics: text measures the same at any scale */
};

static double s_pt(double mm) {
    return mm * S_PT_PER_MM;
}

static double s_mm(double pt) {
    return pt / S_PT_PER_MM;
}

static xs_err s_status(cairo_status_t status) {
    if (status == CAIRO_STATUS_SUCCESS)
        return XS_OK;
    return status == CAIRO_STATUS_NO_MEMORY ? XS_ENOMEM : XS_EIO;
}

static double s_unit(double v) {
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void s_gray(xs_draw_t *d, double gray) {
    double g = s_unit(gray);
    cairo_set_source_rgb(d->cr, g, g, g);
}

xs_err xs_draw_open(xs_draw_t **out, const char *path) {
    *out = NULL;
    xs_draw_t *d = calloc(1, sizeof *d);
    if (!d)
        return XS_ENOMEM;
    d->surface =
        cairo_pdf_surface_create(path, s_pt(XS_DRAW_PAGE_WIDTH), s_pt(XS_DRAW_PAGE_HEIGHT));
    xs_err err = s_status(cairo_surface_status(d->surface));
    if (err == XS_OK) {
        d->cr = cairo_create(d->surface);
        err = s_status(cairo_status(d->cr));
    }
    if (err == XS_OK) {
        d->options = cairo_font_options_create();
        err = s_status(cairo_font_options_status(d->options));
    }
    if (err != XS_OK) {
        cairo_font_options_destroy(d->options);
        cairo_destroy(d->cr);
        cairo_surface_destroy(d->surface);
        free(d);
        return err;
    }
    cairo_font_options_set_hint_metrics(d->options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(d->options, CAIRO_HINT_STYLE_NONE);
    cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_CREATOR, "xueshi");
    *out = d;
    return XS_OK;
}

/* A layout of text set in font, ready to draw at the current point; NULL with *err set. */
static PangoLayout *s_layout(xs_draw_t *d, const char *text, const xs_draw_font_t *font,
                             xs_err *err) {
    if (!xs_text_utf8_valid(text, strlen(text))) {
        *err = XS_EINVAL;
        return NULL;
    }
    PangoLayout *layout = pango_cairo_create_layout(d->cr);
    PangoFontDescription *desc = pango_font_description_new();
    if (!layout || !desc) {
        if (layout)
            g_object_unref(layout);
        if (desc)
            pango_font_description_free(desc);
        *err = XS_ENOMEM;
        return NULL;
    }
    pango_cairo_context_set_font_options(pango_layout_get_context(layout), d->options);
    pango_layout_context_changed(layout);
    pango_font_description_set_family(desc, font->mono ? XS_DRAW_MONO_FAMILIES : XS_DRAW_FAMILIES);
    pango_font_description_set_absolute_size(desc,
                                             (font->size > 0 ? font->size : 10) * PANGO_SCALE);
    pango_font_description_set_weight(desc, font->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout, desc);
    pango_font_description_free(desc);
    if (font->width > 0) {
        pango_layout_set_width(layout, (int)(s_pt(font->width) * PANGO_SCALE));
        pango_layout_set_alignment(layout, font->align == XS_DRAW_CENTER  ? PANGO_ALIGN_CENTER
                                           : font->align == XS_DRAW_RIGHT ? PANGO_ALIGN_RIGHT
                                                                          : PANGO_ALIGN_LEFT);
        if (font->ellipsize) {
            pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
            pango_layout_set_height(layout, -1);
        } else {
            pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
        }
    }
    pango_layout_set_text(layout, text, -1);
    return layout;
}

xs_err xs_draw_measure(xs_draw_t *d, const char *text, const xs_draw_font_t *font, double *width,
                       double *height) {
    xs_err err = XS_OK;
    PangoLayout *layout = s_layout(d, text, font, &err);
    if (!layout)
        return err;
    PangoRectangle logical;
    pango_layout_get_extents(layout, NULL, &logical);
    if (width)
        *width = s_mm((double)logical.width / PANGO_SCALE);
    if (height)
        *height = s_mm((double)logical.height / PANGO_SCALE);
    g_object_unref(layout);
    return XS_OK;
}

xs_err xs_draw_text(xs_draw_t *d, double x, double y, const char *text, const xs_draw_font_t *font,
                    double *height) {
    xs_err err = XS_OK;
    PangoLayout *layout = s_layout(d, text, font, &err);
    if (!layout)
        return err;
    s_gray(d, font->gray);
    cairo_move_to(d->cr, s_pt(x), s_pt(y));
    pango_cairo_show_layout(d->cr, layout);
    if (height) {
        PangoRectangle logical;
        pango_layout_get_extents(layout, NULL, &logical);
        *height = s_mm((double)logical.height / PANGO_SCALE);
    }
    g_object_unref(layout);
    return XS_OK;
}

void xs_draw_line(xs_draw_t *d, double x1, double y1, double x2, double y2, double line_width,
                  double gray) {
    s_gray(d, gray);
    cairo_set_line_width(d->cr, s_pt(line_width));
    cairo_move_to(d->cr, s_pt(x1), s_pt(y1));
    cairo_line_to(d->cr, s_pt(x2), s_pt(y2));
    cairo_stroke(d->cr);
}

void xs_draw_rect(xs_draw_t *d, double x, double y, double w, double h, double line_width,
                  double gray) {
    s_gray(d, gray);
    cairo_rectangle(d->cr, s_pt(x), s_pt(y), s_pt(w), s_pt(h));
    if (line_width > 0) {
        cairo_set_line_width(d->cr, s_pt(line_width));
        cairo_stroke(d->cr);
    } else {
        cairo_fill(d->cr);
    }
}

void xs_draw_modules(xs_draw_t *d, double x, double y, double size, const uint8_t *modules,
                     int width) {
    if (width <= 0)
        return;
    double m = s_pt(size) / (width + 2 * S_QUIET);
    double x0 = s_pt(x) + S_QUIET * m, y0 = s_pt(y) + S_QUIET * m;
    xs_draw_rect(d, x, y, size, size, 0, 1);
    /* One path of a rectangle per run of dark modules in a row, filled at once: no seams. */
    for (int r = 0; r < width; r++) {
        const uint8_t *row = modules + (size_t)r * (size_t)width;
        for (int c = 0; c < width;) {
            if (!row[c]) {
                c++;
                continue;
            }
            int run = c;
            while (run < width && row[run])
                run++;
            cairo_rectangle(d->cr, x0 + c * m, y0 + r * m, (run - c) * m, m);
            c = run;
        }
    }
    s_gray(d, 0);
    cairo_set_fill_rule(d->cr, CAIRO_FILL_RULE_WINDING);
    cairo_fill(d->cr);
}

xs_err xs_draw_watermark(xs_draw_t *d, const char *text, double size, double angle, double gray) {
    xs_draw_font_t font = {.size = size, .bold = 1, .gray = gray};
    xs_err err = XS_OK;
    PangoLayout *layout = s_layout(d, text, &font, &err);
    if (!layout)
        return err;
    PangoRectangle logical;
    pango_layout_get_extents(layout, NULL, &logical);
    cairo_save(d->cr);
    s_gray(d, gray);
    cairo_translate(d->cr, s_pt(XS_DRAW_PAGE_WIDTH / 2), s_pt(XS_DRAW_PAGE_HEIGHT / 2));
    cairo_rotate(d->cr, -angle * M_PI / 180.0);
    cairo_move_to(d->cr, -(double)logical.width / PANGO_SCALE / 2,
                  -(double)logical.height / PANGO_SCALE / 2);
    pango_cairo_update_layout(d->cr, layout);
    pango_cairo_show_layout(d->cr, layout);
    cairo_restore(d->cr);
    g_object_unref(layout);
    return XS_OK;
}

xs_err xs_draw_page_end(xs_draw_t *d) {
    cairo_show_page(d->cr);
    return s_status(cairo_status(d->cr));
}

xs_err xs_draw_close(xs_draw_t **d) {
    if (!d || !*d)
        return XS_OK;
    xs_draw_t *doc = *d;
    *d = NULL;
    xs_err err = s_status(cairo_status(doc->cr));
    cairo_destroy(doc->cr);
    cairo_surface_finish(doc->surface);
    if (err == XS_OK)
        err = s_status(cairo_surface_status(doc->surface));
    cairo_surface_destroy(doc->surface);
    cairo_font_options_destroy(doc->options);
    free(doc);
    return err;
}

/* ---- reading a PNG ---- */

static uint32_t s_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static cairo_status_t s_png_read(void *closure, unsigned char *data, unsigned int length) {
    return fread(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS
                                                     : CAIRO_STATUS_READ_ERROR;
}

/* Checks the PNG signature and the IHDR's size before cairo allocates for it. */
static xs_err s_png_header(FILE *f, unsigned *width, unsigned *height) {
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t head[24];
    size_t n = fread(head, 1, sizeof head, f);
    if (ferror(f))
        return XS_EIO;
    if (n < sizeof head || memcmp(head, signature, 8) != 0 || memcmp(head + 12, "IHDR", 4) != 0)
        return XS_EMALFORMED;
    *width = s_be32(head + 16);
    *height = s_be32(head + 20);
    if (*width == 0 || *height == 0)
        return XS_EMALFORMED;
    if (*width > XS_DRAW_PNG_SIDE_MAX || *height > XS_DRAW_PNG_SIDE_MAX ||
        (uint64_t)*width * *height > XS_DRAW_PNG_PIXELS_MAX)
        return XS_ETOOBIG;
    return fseek(f, 0, SEEK_SET) == 0 ? XS_OK : XS_EIO;
}

xs_err xs_draw_png_gray(const char *path, uint8_t **pixels, unsigned *width, unsigned *height) {
    *pixels = NULL;
    *width = *height = 0;
    cairo_surface_t *png = NULL, *flat = NULL;
    cairo_t *cr = NULL;
    uint8_t *gray = NULL;
    unsigned w = 0, h = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return XS_EIO;
    xs_err err = s_png_header(f, &w, &h);
    if (err != XS_OK)
        goto out;
    png = cairo_image_surface_create_from_png_stream(s_png_read, f);
    cairo_status_t status = cairo_surface_status(png);
    if (status != CAIRO_STATUS_SUCCESS) {
        err = status == CAIRO_STATUS_NO_MEMORY                 ? XS_ENOMEM
              : status == CAIRO_STATUS_READ_ERROR && ferror(f) ? XS_EIO
                                                               : XS_EMALFORMED;
        goto out;
    }
    if ((unsigned)cairo_image_surface_get_width(png) != w ||
        (unsigned)cairo_image_surface_get_height(png) != h) {
        err = XS_EMALFORMED;
        goto out;
    }
    /* Flattened over white, whatever the PNG's colour type and transparency. */
    flat = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w, (int)h);
    cr = cairo_create(flat);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_surface(cr, png, 0, 0);
    cairo_paint(cr);
    if ((err = s_status(cairo_status(cr))) != XS_OK)
        goto out;
    cairo_surface_flush(flat);
    if (!(gray = malloc((size_t)w * h))) {
        err = XS_ENOMEM;
        goto out;
    }
    const unsigned char *data = cairo_image_surface_get_data(flat);
    int stride = cairo_image_surface_get_stride(flat);
    for (unsigned y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
        for (unsigned x = 0; x < w; x++) {
            uint32_t px = row[x];
            unsigned r = px >> 16 & 0xff, g = px >> 8 & 0xff, b = px & 0xff;
            gray[(size_t)y * w + x] = (uint8_t)((r * 299 + g * 587 + b * 114 + 500) / 1000);
        }
    }
    *pixels = gray;
    *width = w;
    *height = h;
    gray = NULL;
out:
    free(gray);
    cairo_destroy(cr);
    cairo_surface_destroy(flat);
    cairo_surface_destroy(png);
    fclose(f);
    return err;
}
