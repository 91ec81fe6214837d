/* codec: msgpack encoding into bounded buffers and a bounded, allocation-free decoder. */
#ifndef XS_CODEC_H
#define XS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

/* Deepest nesting the decoder follows when skipping values it does not know. */
#define XS_CODEC_MAX_DEPTH 16

/* A growable output buffer with a hard maximum. Errors are sticky: after the first failure
 * every write is a no-op and xs_writer_err() reports it, so encoders check once at the end. */
typedef struct xs_writer {
    uint8_t *data; /* owned bytes, malloc'd; NULL until the first write */
    size_t len;    /* bytes written */
    size_t cap;    /* bytes allocated */
    size_t max;    /* largest len allowed; past it the writer fails with XS_ETOOBIG */
    xs_err err;    /* first failure, XS_OK while none */
} xs_writer_t;

/* Prepares w to hold at most max bytes; allocates nothing yet. */
void xs_writer_init(xs_writer_t *w, size_t max);
/* Forgets the contents but keeps the allocation, for reuse in a loop. */
void xs_writer_reset(xs_writer_t *w);
/* Frees w's buffer; w may be reused after xs_writer_init. */
void xs_writer_free(xs_writer_t *w);
/* Returns the first error any write hit, or XS_OK. */
static inline xs_err xs_writer_err(const xs_writer_t *w) {
    return w->err;
}
/* Appends raw, already encoded bytes (for example a nested encoded record). */
void xs_writer_raw(xs_writer_t *w, const void *bytes, size_t len);

/* msgpack writers: each appends one value in its shortest msgpack form. */
void xs_codec_put_nil(xs_writer_t *w);
void xs_codec_put_bool(xs_writer_t *w, int value);
void xs_codec_put_uint(xs_writer_t *w, uint64_t value);
void xs_codec_put_int(xs_writer_t *w, int64_t value);
void xs_codec_put_str(xs_writer_t *w, const char *s, size_t len);
void xs_codec_put_bin(xs_writer_t *w, const void *bytes, size_t len);
void xs_codec_put_array(xs_writer_t *w, uint32_t count);
void xs_codec_put_map(xs_writer_t *w, uint32_t count);

/* A read cursor over bytes the caller keeps alive. Every read is checked against end;
 * nothing is allocated, and a container's count is refused when the bytes left could not
 * hold that many elements (each element takes at least one byte). */
typedef struct xs_reader {
    const uint8_t *pos; /* next byte to read */
    const uint8_t *end; /* one past the last readable byte */
} xs_reader_t;

/* Points r at len bytes; r borrows them. */
static inline void xs_reader_init(xs_reader_t *r, const void *bytes, size_t len) {
    r->pos = (const uint8_t *)bytes;
    r->end = r->pos + len;
}
/* Bytes not yet read. */
static inline size_t xs_reader_left(const xs_reader_t *r) {
    return (size_t)(r->end - r->pos);
}

/* Kind of the next value, for decoders that accept more than one type. */
typedef enum xs_codec_type {
    XS_CODEC_NONE = 0, /* end of input or a reserved byte */
    XS_CODEC_NIL,
    XS_CODEC_BOOL,
    XS_CODEC_UINT,
    XS_CODEC_INT, /* negative integer */
    XS_CODEC_FLOAT,
    XS_CODEC_STR,
    XS_CODEC_BIN,
    XS_CODEC_ARRAY,
    XS_CODEC_MAP,
    XS_CODEC_EXT,
} xs_codec_type;

/* Returns the type of the next value without consuming it. */
xs_codec_type xs_codec_peek(const xs_reader_t *r);

/* msgpack readers: each consumes one value of the named type or returns XS_EMALFORMED
 * (wrong type, truncated, or a count the remaining bytes cannot hold) and leaves r unmoved. */
XS_MUST_USE xs_err xs_codec_get_nil(xs_reader_t *r);
XS_MUST_USE xs_err xs_codec_get_bool(xs_reader_t *r, int *out);
/* Reads a non-negative integer; a negative one is XS_EMALFORMED. */
XS_MUST_USE xs_err xs_codec_get_uint(xs_reader_t *r, uint64_t *out);
/* Reads any integer that fits in int64_t. */
XS_MUST_USE xs_err xs_codec_get_int(xs_reader_t *r, int64_t *out);
/* Reads a string; *s points into r's bytes (valid while they are) and is not terminated. */
XS_MUST_USE xs_err xs_codec_get_str(xs_reader_t *r, const char **s, uint32_t *len);
/* Reads binary data; *bytes points into r's bytes. */
XS_MUST_USE xs_err xs_codec_get_bin(xs_reader_t *r, const uint8_t **bytes, uint32_t *len);
/* Reads binary data of exactly len bytes (a key, a hash) and copies it to out. */
XS_MUST_USE xs_err xs_codec_get_bin_exact(xs_reader_t *r, uint8_t *out, uint32_t len);
/* Reads an integer within int32_t (a date, a year). */
XS_MUST_USE xs_err xs_codec_get_i32(xs_reader_t *r, int32_t *out);
XS_MUST_USE xs_err xs_codec_get_array(xs_reader_t *r, uint32_t *count);
XS_MUST_USE xs_err xs_codec_get_map(xs_reader_t *r, uint32_t *count);
/* Splits a signed envelope, exactly the len bytes [body: bin, signature: bin of sig_len]
 * (protocol.md §2, §4, §5, §8); both pointers borrow envelope. XS_EMALFORMED otherwise. */
XS_MUST_USE xs_err xs_codec_split_envelope(const void *envelope, size_t len, const uint8_t **body,
                                           size_t *body_len, const uint8_t **signature,
                                           uint32_t sig_len);
/* Skips one value of any type, nested at most XS_CODEC_MAX_DEPTH deep. */
XS_MUST_USE xs_err xs_codec_skip(xs_reader_t *r);

#endif
