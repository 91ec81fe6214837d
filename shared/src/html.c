/* html: text made safe for a page, the one door for stored and sent strings into HTML. */
#include "xs/html.h"

#include <string.h>

#include "xs/text.h"

void xs_html_text(xs_writer_t *w, const char *text, size_t len) {
    size_t i = 0, run = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        const char *entity = NULL;
        size_t step = 1;
        if (c == '&')
            entity = "&amp;";
        else if (c == '<')
            entity = "&lt;";
        else if (c == '>')
            entity = "&gt;";
        else if (c == '"')
            entity = "&quot;";
        else if (c == '\'')
            entity = "&#39;";
        else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            entity = "&#xFFFD;";
        else if (c >= 0x80) {
            step = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (i + step > len || !xs_text_utf8_valid(text + i, step)) {
                entity = "&#xFFFD;";
                step = 1;
            }
        }
        if (entity) {
            xs_writer_raw(w, text + run, i - run);
            xs_writer_raw(w, entity, strlen(entity));
            i += step;
            run = i;
        } else {
            i += step;
        }
    }
    xs_writer_raw(w, text + run, len - run);
}

void xs_html_url(xs_writer_t *w, const char *text, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            xs_writer_raw(w, &text[i], 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            xs_writer_raw(w, esc, 3);
        }
    }
}
