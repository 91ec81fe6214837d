/* draw: printed pages as PDF, laid out in millimetres on A4 (the one door to cairo and pango):
 * text in a Chinese-capable font, lines, boxes, a QR code's modules and a watermark; and a PNG
 * read back as grey pixels, for a scanner. */
#ifndef XS_DRAW_H
#define XS_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

/* A4 portrait, in millimetres. */
#define XS_DRAW_PAGE_WIDTH 210.0
#define XS_DRAW_PAGE_HEIGHT 297.0
/* Font families tried in order: whichever the machine has that covers Chinese. */
#define XS_DRAW_FAMILIES "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, sans-serif"
#define XS_DRAW_MONO_FAMILIES "Noto Sans Mono CJK SC, WenQuanYi Micro Hei Mono, monospace"
/* Largest PNG xs_draw_png_gray reads: pixels per side and in all (a page at 600 dpi is
 * 4961 × 7016). */
#define XS_DRAW_PNG_SIDE_MAX 16384u
#define XS_DRAW_PNG_PIXELS_MAX (64u * 1024u * 1024u)

/* A PDF document being drawn. */
typedef struct xs_draw xs_draw_t;

/* Alignment of text within its width. */
typedef enum xs_draw_align {
    XS_DRAW_LEFT = 0,
    XS_DRAW_CENTER = 1,
    XS_DRAW_RIGHT = 2,
} xs_draw_align;

/* How a piece of text is set. A zeroed one is 10 pt, regular, black, one line from x. */
typedef struct xs_draw_font {
    double size;   /* points; 0: 10 */
    int bold;      /* 1: bold */
    int mono;      /* 1: the monospaced families (keys, hashes) */
    double width;  /* mm: wrap into lines this wide; 0: one line, as long as it is */
    int align;     /* xs_draw_align within width (width 0: left) */
    int ellipsize; /* with width: one line, cut with "…" where it would pass width */
    double gray;   /* ink: 0 black … 1 white */
} xs_draw_font_t;

/* Creates the PDF file at path (replacing it) for A4 pages; the first page is open. *out is the
 * caller's: xs_draw_close. XS_EIO when the file cannot be created, XS_ENOMEM. */
XS_MUST_USE xs_err xs_draw_open(xs_draw_t **out, const char *path);

/* Draws text (UTF-8, NUL-terminated) with its top left corner at (x, y) mm (with a width and an
 * alignment, the box's); *height (may be NULL) gets the height it took, in mm. XS_EINVAL for
 * text that is not UTF-8. */
XS_MUST_USE xs_err xs_draw_text(xs_draw_t *d, double x, double y, const char *text,
                                const xs_draw_font_t *font, double *height);

/* What xs_draw_text would take, without drawing: *width and *height (each may be NULL) in mm.
 * XS_EINVAL for text that is not UTF-8. */
XS_MUST_USE xs_err xs_draw_measure(xs_draw_t *d, const char *text, const xs_draw_font_t *font,
                                   double *width, double *height);

/* A straight line from (x1, y1) to (x2, y2), line_width mm wide, of grey gray (0 black). */
void xs_draw_line(xs_draw_t *d, double x1, double y1, double x2, double y2, double line_width,
                  double gray);

/* A rectangle with its top left at (x, y), w × h mm: its outline line_width mm wide, or filled
 * when line_width is 0; of grey gray. */
void xs_draw_rect(xs_draw_t *d, double x, double y, double w, double h, double line_width,
                  double gray);

/* A square matrix of modules (width × width bytes, row by row: nonzero dark, as xs_qr_t has
 * them) drawn black on white in a size × size mm square at (x, y), with a white quiet zone of
 * 4 modules inside that square. */
void xs_draw_modules(xs_draw_t *d, double x, double y, double size, const uint8_t *modules,
                     int width);

/* Large text across the middle of the page, turned by angle degrees (counter-clockwise), of
 * grey gray: drawn before the page's other content, it stays behind it. XS_EINVAL for text
 * that is not UTF-8. */
XS_MUST_USE xs_err xs_draw_watermark(xs_draw_t *d, const char *text, double size, double angle,
                                     double gray);

/* Ends the current page and opens the next (a document ends with the page xs_draw_close
 * finds open, so end a page only when another follows). XS_EIO, XS_ENOMEM: cairo's error so
 * far. */
XS_MUST_USE xs_err xs_draw_page_end(xs_draw_t *d);

/* Ends the document: writes the last page, closes the file and frees *d (NULL accepted; *d is
 * nulled). XS_EIO when anything could not be drawn or written (a full disk…): the file is then
 * incomplete and the caller removes it. */
XS_MUST_USE xs_err xs_draw_close(xs_draw_t **d);

/* Reads the PNG file at path as 8-bit grey pixels (0 black … 255 white, transparency over
 * white), row by row: *pixels (the caller's: free()) of *width × *height bytes. XS_EIO when it
 * cannot be read, XS_EMALFORMED when it is not a PNG, XS_ETOOBIG over XS_DRAW_PNG_SIDE_MAX or
 * XS_DRAW_PNG_PIXELS_MAX, XS_ENOMEM. */
XS_MUST_USE xs_err xs_draw_png_gray(const char *path, uint8_t **pixels, unsigned *width,
                                    unsigned *height);

#endif
