/* html: text made safe for a page, the one door for stored and sent strings into HTML. */
#ifndef XS_HTML_H
#define XS_HTML_H

#include <stddef.h>

#include "xs/codec.h"

/* Appends len bytes of text to w HTML-escaped, for element content and quoted attribute values
 * alike: & < > " ' as entities, control bytes (tab and line feed kept) and bytes that are not
 * UTF-8 as U+FFFD. */
void xs_html_text(xs_writer_t *w, const char *text, size_t len);

/* Appends len bytes to w percent-encoded for a URL's path segment or query value, or a file
 * name in a header: everything but RFC 3986's unreserved characters. */
void xs_html_url(xs_writer_t *w, const char *text, size_t len);

#endif
