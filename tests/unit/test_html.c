/* test_html: what a stored string becomes on a page, and in a link. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "xs/html.h"

/* The escaped form of text (len bytes), NUL-terminated in out. */
static const char *s_escape(const char *text, size_t len, char *out, size_t cap) {
    xs_writer_t w;
    xs_writer_init(&w, 4096);
    xs_html_text(&w, text, len);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    assert_true(w.len < cap);
    if (w.len)
        memcpy(out, w.data, w.len);
    out[w.len] = '\0';
    xs_writer_free(&w);
    return out;
}

static void test_markup_is_text(void **state) {
    (void)state;
    char out[512];
    const char *in = "<script>alert('x')</script> & \"公开课\"";
    assert_string_equal(s_escape(in, strlen(in), out, sizeof out),
                        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;公开课&quot;");
}

static void test_bad_bytes_become_replacement(void **state) {
    (void)state;
    char out[512];
    /* a NUL, an ESC, a lone continuation byte, a character cut at the end; tab and LF kept */
    const char in[] = {'a', '\0', '\x1b', '\x80', '\t', '\n', '\xe4', '\xb8'};
    assert_string_equal(s_escape(in, sizeof in, out, sizeof out),
                        "a&#xFFFD;&#xFFFD;&#xFFFD;\t\n&#xFFFD;&#xFFFD;");
    assert_string_equal(s_escape("", 0, out, sizeof out), "");
}

static void test_url_keeps_only_unreserved(void **state) {
    (void)state;
    xs_writer_t w;
    xs_writer_init(&w, 256);
    const char *in = "T 001/学时?a=b&c~_.-";
    xs_html_url(&w, in, strlen(in));
    assert_int_equal(xs_writer_err(&w), XS_OK);
    const char *want = "T%20001%2F%E5%AD%A6%E6%97%B6%3Fa%3Db%26c~_.-";
    assert_int_equal(w.len, strlen(want));
    assert_memory_equal(w.data, want, w.len);
    xs_writer_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markup_is_text),
        cmocka_unit_test(test_bad_bytes_become_replacement),
        cmocka_unit_test(test_url_keeps_only_unreserved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
