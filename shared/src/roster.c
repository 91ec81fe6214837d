/* roster: the hub-signed list of satellites a relay may admit (protocol.md §8). */
#include "xs/roster.h"

#include <string.h>

#include "xs/envelope.h"
#include "xs/text.h"

static const char s_roster_context[] = "xueshi-roster-1";

/* A school id as a roster carries it: 1..XS_ID_MAX bytes of UTF-8. */
static int s_school_ok(const char *school, size_t len) {
    return len >= 1 && len <= XS_ID_MAX && xs_text_utf8_valid(school, len);
}

xs_err xs_roster_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                      const uint8_t relay[XS_SIGN_PK_BYTES], int64_t issued_at,
                      const xs_roster_entry_t *entries, uint32_t count) {
    xs_writer_t signed_bytes;
    if (count > XS_ROSTER_MAX)
        return XS_EINVAL;
    for (uint32_t i = 0; i < count; i++)
        if (!s_school_ok(entries[i].school, strlen(entries[i].school)))
            return XS_EINVAL;
    xs_writer_init(&signed_bytes, XS_ROSTER_MAX_BYTES);
    xs_writer_raw(&signed_bytes, s_roster_context, sizeof s_roster_context);
    xs_codec_put_array(&signed_bytes, 5);
    xs_codec_put_uint(&signed_bytes, 1);
    xs_codec_put_bin(&signed_bytes, xs_identity_public(hub)->sign, XS_SIGN_PK_BYTES);
    xs_codec_put_bin(&signed_bytes, relay, XS_SIGN_PK_BYTES);
    xs_codec_put_int(&signed_bytes, issued_at);
    xs_codec_put_array(&signed_bytes, count);
    for (uint32_t i = 0; i < count; i++) {
        xs_codec_put_array(&signed_bytes, 3);
        xs_codec_put_bin(&signed_bytes, entries[i].origin, XS_SIGN_PK_BYTES);
        xs_codec_put_bin(&signed_bytes, entries[i].box, XS_BOX_PK_BYTES);
        xs_codec_put_str(&signed_bytes, entries[i].school, strlen(entries[i].school));
    }
    xs_err err = xs_writer_err(&signed_bytes);
    if (err == XS_OK)
        err = xs_envelope_seal(envelope, hub, &signed_bytes, sizeof s_roster_context,
                               XS_ROSTER_MAX_BYTES);
    xs_writer_free(&signed_bytes);
    return err;
}

xs_err xs_roster_open(const void *envelope, size_t len, const uint8_t hub[XS_SIGN_PK_BYTES],
                      const uint8_t relay[XS_SIGN_PK_BYTES], xs_roster_entry_t *entries,
                      uint32_t cap, uint32_t *count, int64_t *issued_at) {
    const uint8_t *body, *signature, *bin;
    size_t body_len;
    uint32_t n, blen;
    uint64_t format;
    int64_t when;
    xs_reader_t r;
    if (len > XS_ROSTER_MAX_BYTES)
        return XS_ETOOBIG;
    xs_err err =
        xs_codec_split_envelope(envelope, len, &body, &body_len, &signature, XS_SIGNATURE_BYTES);
    if (err == XS_OK)
        err = xs_envelope_verify(s_roster_context, sizeof s_roster_context, hub, body, body_len,
                                 signature);
    if (err != XS_OK)
        return err;
    xs_reader_init(&r, body, body_len);
    if (xs_codec_get_array(&r, &n) != XS_OK || n != 5 || xs_codec_get_uint(&r, &format) != XS_OK ||
        format != 1 || xs_codec_get_bin(&r, &bin, &blen) != XS_OK || blen != 32 ||
        memcmp(bin, hub, 32) != 0 || xs_codec_get_bin(&r, &bin, &blen) != XS_OK || blen != 32)
        return XS_EMALFORMED;
    if (memcmp(bin, relay, 32) != 0)
        return XS_EPERM; /* signed for another relay */
    if (xs_codec_get_int(&r, &when) != XS_OK || xs_codec_get_array(&r, &n) != XS_OK ||
        n > XS_ROSTER_MAX || n > cap)
        return XS_EMALFORMED;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k;
        const char *school;
        const uint8_t *origin, *box;
        uint32_t olen, boxlen, slen;
        if (xs_codec_get_array(&r, &k) != XS_OK || k != 3 ||
            xs_codec_get_bin(&r, &origin, &olen) != XS_OK || olen != 32 ||
            xs_codec_get_bin(&r, &box, &boxlen) != XS_OK || boxlen != 32 ||
            xs_codec_get_str(&r, &school, &slen) != XS_OK || !s_school_ok(school, slen))
            return XS_EMALFORMED;
        memcpy(entries[i].origin, origin, 32);
        memcpy(entries[i].box, box, 32);
        memcpy(entries[i].school, school, slen);
        entries[i].school[slen] = '\0';
    }
    if (xs_reader_left(&r) != 0)
        return XS_EMALFORMED;
    *count = n;
    if (issued_at)
        *issued_at = when;
    return XS_OK;
}
