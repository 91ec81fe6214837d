/* codec: msgpack-c packs into bounded buffers; decoding is a hand-checked cursor, because
 * msgpack-c's unpacker allocates from counts an attacker chooses (docs/architecture.md §3). */
#include "xs/codec.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

void xs_writer_init(xs_writer_t *w, size_t max) {
    memset(w, 0, sizeof *w);
    w->max = max;
}

void xs_writer_reset(xs_writer_t *w) {
    w->len = 0;
    w->err = XS_OK;
}

void xs_writer_free(xs_writer_t *w) {
    free(w->data);
    w->data = NULL;
    w->len = w->cap = 0;
}

void xs_writer_raw(xs_writer_t *w, const void *bytes, size_t len) {
    if (w->err != XS_OK || len == 0)
        return;
    if (len > w->max || w->len > w->max - len) {
        w->err = XS_ETOOBIG;
        return;
    }
    if (w->len + len > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + len)
            cap *= 2;
        if (cap > w->max)
            cap = w->max;
        uint8_t *grown = realloc(w->data, cap);
        if (!grown) {
            w->err = XS_ENOMEM;
            return;
        }
        w->data = grown;
        w->cap = cap;
    }
    memcpy(w->data + w->len, bytes, len);
    w->len += len;
}

static int s_write(void *data, const char *buf, size_t len) {
    xs_writer_t *w = data;
    xs_writer_raw(w, buf, len);
    return w->err == XS_OK ? 0 : -1;
}

#define S_PACKER(w)                                                                                \
    msgpack_packer pk;                                                                             \
    msgpack_packer_init(&pk, (w), s_write)

void xs_codec_put_nil(xs_writer_t *w) {
    S_PACKER(w);
    (void)msgpack_pack_nil(&pk);
}

void xs_codec_put_bool(xs_writer_t *w, int value) {
    S_PACKER(w);
    (void)(value ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk));
}

void xs_codec_put_uint(xs_writer_t *w, uint64_t value) {
    S_PACKER(w);
    (void)msgpack_pack_uint64(&pk, value);
}

void xs_codec_put_int(xs_writer_t *w, int64_t value) {
    S_PACKER(w);
    (void)msgpack_pack_int64(&pk, value);
}

void xs_codec_put_str(xs_writer_t *w, const char *s, size_t len) {
    if (len > UINT32_MAX) {
        w->err = XS_ETOOBIG;
        return;
    }
    S_PACKER(w);
    if (msgpack_pack_str(&pk, len) == 0)
        (void)msgpack_pack_str_body(&pk, s, len);
}

void xs_codec_put_bin(xs_writer_t *w, const void *bytes, size_t len) {
    if (len > UINT32_MAX) {
        w->err = XS_ETOOBIG;
        return;
    }
    S_PACKER(w);
    if (msgpack_pack_bin(&pk, len) == 0)
        (void)msgpack_pack_bin_body(&pk, bytes, len);
}

void xs_codec_put_array(xs_writer_t *w, uint32_t count) {
    S_PACKER(w);
    (void)msgpack_pack_array(&pk, count);
}

void xs_codec_put_map(xs_writer_t *w, uint32_t count) {
    S_PACKER(w);
    (void)msgpack_pack_map(&pk, count);
}

/* ---- decoding ---- */

static uint64_t s_be(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

xs_codec_type xs_codec_peek(const xs_reader_t *r) {
    if (r->pos >= r->end)
        return XS_CODEC_NONE;
    uint8_t b = *r->pos;
    if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf)
        return XS_CODEC_UINT;
    if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
        return XS_CODEC_INT;
    if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb))
        return XS_CODEC_STR;
    if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd)
        return XS_CODEC_ARRAY;
    if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf)
        return XS_CODEC_MAP;
    switch (b) {
    case 0xc0:
        return XS_CODEC_NIL;
    case 0xc2:
    case 0xc3:
        return XS_CODEC_BOOL;
    case 0xc4:
    case 0xc5:
    case 0xc6:
        return XS_CODEC_BIN;
    case 0xca:
    case 0xcb:
        return XS_CODEC_FLOAT;
    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        return XS_CODEC_EXT;
    default:
        return XS_CODEC_NONE; /* 0xc1 is never used */
    }
}

xs_err xs_codec_get_nil(xs_reader_t *r) {
    if (r->pos >= r->end || *r->pos != 0xc0)
        return XS_EMALFORMED;
    r->pos++;
    return XS_OK;
}

xs_err xs_codec_get_bool(xs_reader_t *r, int *out) {
    if (r->pos >= r->end || (*r->pos != 0xc2 && *r->pos != 0xc3))
        return XS_EMALFORMED;
    *out = *r->pos == 0xc3;
    r->pos++;
    return XS_OK;
}

/* Reads an integer of either sign; *negative says which field of the union holds it. */
static xs_err s_get_integer(xs_reader_t *r, uint64_t *u, int64_t *i, int *negative) {
    size_t left = xs_reader_left(r);
    if (left == 0)
        return XS_EMALFORMED;
    uint8_t b = r->pos[0];
    unsigned n;
    *negative = 0;
    if (b <= 0x7f) {
        *u = b;
        r->pos++;
        return XS_OK;
    }
    if (b >= 0xe0) {
        *i = (int8_t)b;
        *negative = 1;
        r->pos++;
        return XS_OK;
    }
    switch (b) {
    case 0xcc:
        n = 1;
        break;
    case 0xcd:
        n = 2;
        break;
    case 0xce:
        n = 4;
        break;
    case 0xcf:
        n = 8;
        break;
    case 0xd0:
        n = 1;
        break;
    case 0xd1:
        n = 2;
        break;
    case 0xd2:
        n = 4;
        break;
    case 0xd3:
        n = 8;
        break;
    default:
        return XS_EMALFORMED;
    }
    if (left < 1 + n)
        return XS_EMALFORMED;
    uint64_t raw = s_be(r->pos + 1, n);
    if (b <= 0xcf) {
        *u = raw;
    } else {
        int64_t v;
        switch (n) {
        case 1:
            v = (int8_t)raw;
            break;
        case 2:
            v = (int16_t)raw;
            break;
        case 4:
            v = (int32_t)raw;
            break;
        default:
            memcpy(&v, &raw, sizeof v);
            break;
        }
        if (v >= 0) {
            *u = (uint64_t)v;
        } else {
            *i = v;
            *negative = 1;
        }
    }
    r->pos += 1 + n;
    return XS_OK;
}

xs_err xs_codec_get_uint(xs_reader_t *r, uint64_t *out) {
    xs_reader_t save = *r;
    uint64_t u = 0;
    int64_t i = 0;
    int negative;
    if (s_get_integer(r, &u, &i, &negative) != XS_OK || negative) {
        *r = save;
        return XS_EMALFORMED;
    }
    *out = u;
    return XS_OK;
}

xs_err xs_codec_get_int(xs_reader_t *r, int64_t *out) {
    xs_reader_t save = *r;
    uint64_t u = 0;
    int64_t i = 0;
    int negative;
    if (s_get_integer(r, &u, &i, &negative) != XS_OK || (!negative && u > INT64_MAX)) {
        *r = save;
        return XS_EMALFORMED;
    }
    *out = negative ? i : (int64_t)u;
    return XS_OK;
}

/* Reads the length prefix of a str/bin/container header: tiny (in the first byte) or 1, 2,
 * 4 bytes after it. */
static xs_err s_get_len(xs_reader_t *r, unsigned len_bytes, uint32_t tiny, uint32_t *len) {
    size_t left = xs_reader_left(r);
    if (left < 1 + len_bytes)
        return XS_EMALFORMED;
    *len = len_bytes ? (uint32_t)s_be(r->pos + 1, len_bytes) : tiny;
    r->pos += 1 + len_bytes;
    return XS_OK;
}

static xs_err s_get_blob(xs_reader_t *r, int want_str, const uint8_t **p, uint32_t *len) {
    xs_reader_t save = *r;
    if (r->pos >= r->end)
        return XS_EMALFORMED;
    uint8_t b = *r->pos;
    xs_err err = XS_EMALFORMED;
    if (want_str) {
        if (b >= 0xa0 && b <= 0xbf)
            err = s_get_len(r, 0, b & 0x1f, len);
        else if (b == 0xd9)
            err = s_get_len(r, 1, 0, len);
        else if (b == 0xda)
            err = s_get_len(r, 2, 0, len);
        else if (b == 0xdb)
            err = s_get_len(r, 4, 0, len);
    } else {
        if (b == 0xc4)
            err = s_get_len(r, 1, 0, len);
        else if (b == 0xc5)
            err = s_get_len(r, 2, 0, len);
        else if (b == 0xc6)
            err = s_get_len(r, 4, 0, len);
    }
    if (err != XS_OK || *len > xs_reader_left(r)) {
        *r = save;
        return XS_EMALFORMED;
    }
    *p = r->pos;
    r->pos += *len;
    return XS_OK;
}

xs_err xs_codec_get_str(xs_reader_t *r, const char **s, uint32_t *len) {
    const uint8_t *p;
    xs_err err = s_get_blob(r, 1, &p, len);
    if (err == XS_OK)
        *s = (const char *)p;
    return err;
}

xs_err xs_codec_get_bin(xs_reader_t *r, const uint8_t **bytes, uint32_t *len) {
    return s_get_blob(r, 0, bytes, len);
}

xs_err xs_codec_get_bin_exact(xs_reader_t *r, uint8_t *out, uint32_t len) {
    xs_reader_t save = *r;
    const uint8_t *bytes;
    uint32_t got;
    if (s_get_blob(r, 0, &bytes, &got) != XS_OK || got != len) {
        *r = save;
        return XS_EMALFORMED;
    }
    memcpy(out, bytes, len);
    return XS_OK;
}

xs_err xs_codec_get_i32(xs_reader_t *r, int32_t *out) {
    xs_reader_t save = *r;
    int64_t v;
    if (xs_codec_get_int(r, &v) != XS_OK || v < INT32_MIN || v > INT32_MAX) {
        *r = save;
        return XS_EMALFORMED;
    }
    *out = (int32_t)v;
    return XS_OK;
}

static xs_err s_get_container(xs_reader_t *r, int want_map, uint32_t *count) {
    xs_reader_t save = *r;
    if (r->pos >= r->end)
        return XS_EMALFORMED;
    uint8_t b = *r->pos;
    xs_err err = XS_EMALFORMED;
    if (want_map) {
        if (b >= 0x80 && b <= 0x8f)
            err = s_get_len(r, 0, b & 0x0f, count);
        else if (b == 0xde)
            err = s_get_len(r, 2, 0, count);
        else if (b == 0xdf)
            err = s_get_len(r, 4, 0, count);
    } else {
        if (b >= 0x90 && b <= 0x9f)
            err = s_get_len(r, 0, b & 0x0f, count);
        else if (b == 0xdc)
            err = s_get_len(r, 2, 0, count);
        else if (b == 0xdd)
            err = s_get_len(r, 4, 0, count);
    }
    /* Each element takes at least one byte; a map entry takes two. */
    uint64_t need = (uint64_t)*count * (want_map ? 2u : 1u);
    if (err != XS_OK || need > xs_reader_left(r)) {
        *r = save;
        return XS_EMALFORMED;
    }
    return XS_OK;
}

xs_err xs_codec_get_array(xs_reader_t *r, uint32_t *count) {
    return s_get_container(r, 0, count);
}

xs_err xs_codec_get_map(xs_reader_t *r, uint32_t *count) {
    return s_get_container(r, 1, count);
}

static xs_err s_skip(xs_reader_t *r, unsigned depth) {
    if (depth > XS_CODEC_MAX_DEPTH)
        return XS_EMALFORMED;
    uint64_t u;
    int64_t i;
    int negative, flag;
    const uint8_t *p;
    uint32_t len, count;
    xs_err err;
    size_t left = xs_reader_left(r);
    switch (xs_codec_peek(r)) {
    case XS_CODEC_NIL:
        return xs_codec_get_nil(r);
    case XS_CODEC_BOOL:
        return xs_codec_get_bool(r, &flag);
    case XS_CODEC_UINT:
    case XS_CODEC_INT:
        return s_get_integer(r, &u, &i, &negative);
    case XS_CODEC_FLOAT: {
        unsigned n = *r->pos == 0xca ? 4 : 8;
        if (left < 1 + n)
            return XS_EMALFORMED;
        r->pos += 1 + n;
        return XS_OK;
    }
    case XS_CODEC_STR:
        return s_get_blob(r, 1, &p, &len);
    case XS_CODEC_BIN:
        return s_get_blob(r, 0, &p, &len);
    case XS_CODEC_EXT: {
        uint8_t b = *r->pos;
        unsigned hdr;
        uint64_t body;
        if (b >= 0xd4 && b <= 0xd8) {
            hdr = 2;
            body = 1u << (b - 0xd4);
        } else {
            unsigned n = b == 0xc7 ? 1 : b == 0xc8 ? 2 : 4;
            if (left < 1 + n)
                return XS_EMALFORMED;
            hdr = 2 + n;
            body = s_be(r->pos + 1, n);
        }
        if (left < hdr || body > left - hdr)
            return XS_EMALFORMED;
        r->pos += hdr + body;
        return XS_OK;
    }
    case XS_CODEC_ARRAY:
    case XS_CODEC_MAP: {
        int is_map = xs_codec_peek(r) == XS_CODEC_MAP;
        xs_reader_t save = *r;
        err = s_get_container(r, is_map, &count);
        if (err != XS_OK)
            return err;
        uint64_t n = (uint64_t)count * (is_map ? 2u : 1u);
        for (uint64_t k = 0; k < n; k++) {
            err = s_skip(r, depth + 1);
            if (err != XS_OK) {
                *r = save;
                return err;
            }
        }
        return XS_OK;
    }
    case XS_CODEC_NONE:
        break;
    }
    return XS_EMALFORMED;
}

xs_err xs_codec_skip(xs_reader_t *r) {
    xs_reader_t save = *r;
    xs_err err = s_skip(r, 0);
    if (err != XS_OK)
        *r = save;
    return err;
}

xs_err xs_codec_split_envelope(const void *envelope, size_t len, const uint8_t **body,
                               size_t *body_len, const uint8_t **signature, uint32_t sig_len) {
    xs_reader_t r;
    uint32_t count, n, got;
    xs_reader_init(&r, envelope, len);
    if (xs_codec_get_array(&r, &count) != XS_OK || count != 2 ||
        xs_codec_get_bin(&r, body, &n) != XS_OK || xs_codec_get_bin(&r, signature, &got) != XS_OK ||
        got != sig_len || xs_reader_left(&r) != 0)
        return XS_EMALFORMED;
    *body_len = n;
    return XS_OK;
}
