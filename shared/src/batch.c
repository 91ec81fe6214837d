/* batch: signed batch envelopes (protocol.md §2). The signature is checked over the raw body
 * before anything past its fixed prefix is decoded (docs/architecture.md §3). */
#include "xs/batch.h"

#include <stdlib.h>
#include <string.h>

#include "xs/envelope.h"

/* Signature context (protocol.md §1): the ASCII name and its 0x00 byte. */
static const char s_context[] = "xueshi-batch-1";
#define S_CONTEXT_BYTES (sizeof s_context) /* the NUL is part of the context */

/* The first four bytes of a format-1 body: array of 8, format 1, bin8 of 32 (protocol.md §2);
 * a format-2 or format-3 body has 0x02 or 0x03 in place of the 0x01. */
static const uint8_t s_prefix[4] = {0x98, 0x01, 0xc4, 0x20};
#define S_PREFIX_FORMAT 1 /* where the format sits in s_prefix */

/* Bytes of a msgpack bin header for len bytes. */
static size_t s_bin_header(size_t len) {
    return len <= 0xff ? 2 : len <= 0xffff ? 3 : 5;
}

/* Highest record version a body format carries (protocol.md §2): format n carries versions
 * 1..n, and from format 2 on at least one record of version n. */
static unsigned s_record_version_max(unsigned format) {
    return format;
}

/* Checks the body's fixed prefix. A body that is an array whose first element is an integer
 * other than 1..3 is another format (XS_EVERSION); anything else unlike the prefix is
 * malformed. */
static xs_err s_check_prefix(const uint8_t *body, size_t body_len) {
    xs_reader_t r;
    uint32_t count;
    uint64_t u;
    int64_t i;
    xs_reader_init(&r, body, body_len);
    if (xs_codec_get_array(&r, &count) != XS_OK)
        return XS_EMALFORMED;
    if (xs_codec_get_uint(&r, &u) == XS_OK ? u < XS_BATCH_FORMAT_FIRST || u > XS_BATCH_FORMAT
                                           : xs_codec_get_int(&r, &i) == XS_OK)
        return XS_EVERSION;
    /* The format in its one-byte form: a wider integer breaks the fixed prefix. */
    if (body_len < XS_BATCH_PREFIX_BYTES || body[0] != s_prefix[0] ||
        body[S_PREFIX_FORMAT] < XS_BATCH_FORMAT_FIRST || body[S_PREFIX_FORMAT] > XS_BATCH_FORMAT ||
        memcmp(body + 2, s_prefix + 2, sizeof s_prefix - 2) != 0)
        return XS_EMALFORMED;
    return XS_OK;
}

/* Splits the envelope and checks its size and body prefix: every check made before the
 * signature. */
static xs_err s_frame(const void *envelope, size_t len, const uint8_t **body, size_t *body_len,
                      const uint8_t **signature) {
    if (len > XS_BATCH_MAX_BYTES)
        return XS_ETOOBIG;
    xs_err err =
        xs_codec_split_envelope(envelope, len, body, body_len, signature, XS_SIGNATURE_BYTES);
    if (err != XS_OK)
        return err;
    return s_check_prefix(*body, *body_len);
}

/* Reads a bin32 or nil into hash; *has says which. */
static xs_err s_get_hash_or_nil(xs_reader_t *r, uint8_t hash[XS_HASH_BYTES], int *has) {
    const uint8_t *bytes;
    uint32_t len;
    if (xs_codec_get_nil(r) == XS_OK) {
        memset(hash, 0, XS_HASH_BYTES);
        *has = 0;
        return XS_OK;
    }
    if (xs_codec_get_bin(r, &bytes, &len) != XS_OK || len != XS_HASH_BYTES)
        return XS_EMALFORMED;
    memcpy(hash, bytes, XS_HASH_BYTES);
    *has = 1;
    return XS_OK;
}

xs_err xs_batch_seal(xs_writer_t *envelope, const xs_identity_t *origin, uint64_t first_seq,
                     const uint8_t prev_hash[XS_HASH_BYTES],
                     const uint8_t policy_hash[XS_HASH_BYTES], int64_t sealed_at,
                     const xs_batch_slice_t *records, uint32_t count,
                     uint8_t hash_out[XS_HASH_BYTES]) {
    uint8_t signature[XS_SIGNATURE_BYTES];
    xs_writer_t signed_bytes;
    xs_record_t rec;
    xs_err err = XS_OK;
    unsigned format = XS_BATCH_FORMAT_FIRST;

    if (count < 1 || count > XS_BATCH_MAX_RECORDS || first_seq < 1 ||
        first_seq - 1 > UINT64_MAX - count || (prev_hash == NULL) != (first_seq == 1) ||
        records == NULL)
        return XS_EINVAL;
    for (uint32_t i = 0; i < count; i++) {
        err = records[i].len > XS_RECORD_MAX
                  ? XS_EMALFORMED
                  : xs_record_decode_bytes(records[i].ptr, records[i].len, &rec);
        if (err != XS_OK)
            return err == XS_EVERSION ? XS_EVERSION : XS_EMALFORMED;
        /* The lowest format that carries every record (protocol.md §2). */
        if (rec.version > s_record_version_max(format))
            format = rec.version;
    }

    /* context || body in one buffer, so the signature needs no copy. */
    xs_writer_init(&signed_bytes, S_CONTEXT_BYTES + XS_BATCH_MAX_BYTES);
    xs_writer_raw(&signed_bytes, s_context, S_CONTEXT_BYTES);
    xs_codec_put_array(&signed_bytes, 8);
    xs_codec_put_uint(&signed_bytes, format);
    xs_codec_put_bin(&signed_bytes, xs_identity_public(origin)->sign, XS_SIGN_PK_BYTES);
    xs_codec_put_uint(&signed_bytes, first_seq);
    xs_codec_put_uint(&signed_bytes, count);
    if (prev_hash)
        xs_codec_put_bin(&signed_bytes, prev_hash, XS_HASH_BYTES);
    else
        xs_codec_put_nil(&signed_bytes);
    if (policy_hash)
        xs_codec_put_bin(&signed_bytes, policy_hash, XS_HASH_BYTES);
    else
        xs_codec_put_nil(&signed_bytes);
    xs_codec_put_int(&signed_bytes, sealed_at);
    xs_codec_put_array(&signed_bytes, count);
    for (uint32_t i = 0; i < count; i++)
        xs_writer_raw(&signed_bytes, records[i].ptr, records[i].len);
    if ((err = xs_writer_err(&signed_bytes)) != XS_OK)
        goto out;

    const uint8_t *body = signed_bytes.data + S_CONTEXT_BYTES;
    size_t body_len = signed_bytes.len - S_CONTEXT_BYTES;
    size_t envelope_len = 1 + s_bin_header(body_len) + body_len + 2 + XS_SIGNATURE_BYTES;
    if (envelope_len > XS_BATCH_MAX_BYTES) {
        err = XS_ETOOBIG;
        goto out;
    }
    xs_identity_sign(origin, signed_bytes.data, signed_bytes.len, signature);
    xs_codec_put_array(envelope, 2);
    xs_codec_put_bin(envelope, body, body_len);
    xs_codec_put_bin(envelope, signature, sizeof signature);
    if ((err = xs_writer_err(envelope)) != XS_OK)
        goto out;
    xs_identity_hash(body, body_len, hash_out);
out:
    xs_writer_free(&signed_bytes);
    return err;
}

xs_err xs_batch_peek_origin(const void *envelope, size_t len, uint8_t origin[XS_SIGN_PK_BYTES]) {
    const uint8_t *body, *signature;
    size_t body_len;
    xs_err err = s_frame(envelope, len, &body, &body_len, &signature);
    if (err == XS_OK)
        memcpy(origin, body + sizeof s_prefix, XS_SIGN_PK_BYTES);
    return err;
}

xs_err xs_batch_open(const void *envelope, size_t len, xs_batch_t *out) {
    uint64_t first_seq, count;
    uint32_t n;
    xs_reader_t r;
    xs_record_t rec;
    memset(out, 0, sizeof *out);
    xs_err err = s_frame(envelope, len, &out->body, &out->body_len, &out->signature);
    if (err != XS_OK)
        return err;
    out->format = out->body[S_PREFIX_FORMAT];
    memcpy(out->origin, out->body + sizeof s_prefix, XS_SIGN_PK_BYTES);
    if ((err = xs_envelope_verify(s_context, S_CONTEXT_BYTES, out->origin, out->body, out->body_len,
                                  out->signature)) != XS_OK)
        return err;

    /* Signed by origin: now the rest of the header, strictly (protocol.md §2). */
    xs_reader_init(&r, out->body + XS_BATCH_PREFIX_BYTES, out->body_len - XS_BATCH_PREFIX_BYTES);
    if (xs_codec_get_uint(&r, &first_seq) != XS_OK || first_seq < 1 ||
        xs_codec_get_uint(&r, &count) != XS_OK || count < 1 || count > XS_BATCH_MAX_RECORDS ||
        first_seq - 1 > UINT64_MAX - count ||
        s_get_hash_or_nil(&r, out->prev_hash, &out->has_prev_hash) != XS_OK ||
        out->has_prev_hash != (first_seq > 1) ||
        s_get_hash_or_nil(&r, out->policy_hash, &out->has_policy_hash) != XS_OK ||
        xs_codec_get_int(&r, &out->sealed_at) != XS_OK || xs_codec_get_array(&r, &n) != XS_OK ||
        n != count)
        goto malformed;
    out->first_seq = first_seq;
    out->count = (uint32_t)count;
    out->records = r.pos;
    unsigned version_max = 0;
    for (uint32_t i = 0; i < out->count; i++) {
        err = xs_record_decode(&r, &rec);
        if (err == XS_EVERSION)
            return err;
        if (err != XS_OK)
            goto malformed;
        if (rec.version > s_record_version_max(out->format))
            return XS_EVERSION; /* a version-2 record in a format-1 body, or the like */
        if (rec.version > version_max)
            version_max = rec.version;
    }
    /* Format 2 is the format of batches that carry a version-2 record, format 3 of those that
     * carry a version-3 record; one that carries none is not a body any sealer writes
     * (protocol.md §2). */
    if (out->format > XS_BATCH_FORMAT_FIRST && version_max < out->format)
        return XS_EVERSION;
    out->records_len = (size_t)(r.pos - out->records);
    if (xs_reader_left(&r) != 0)
        goto malformed;
    out->envelope = envelope;
    out->envelope_len = len;
    xs_identity_hash(out->body, out->body_len, out->hash);
    return XS_OK;
malformed:
    return XS_EMALFORMED;
}

void xs_batch_iter_init(xs_batch_iter_t *it, const xs_batch_t *batch) {
    it->batch = batch;
    xs_reader_init(&it->reader, batch->records, batch->records_len);
    it->index = 0;
}

xs_err xs_batch_next(xs_batch_iter_t *it, xs_batch_entry_t *entry, xs_record_t *rec) {
    const xs_batch_t *batch = it->batch;
    if (it->index >= batch->count)
        return XS_ENOTFOUND;
    const uint8_t *start = it->reader.pos;
    xs_err err = rec ? xs_record_decode(&it->reader, rec) : xs_codec_skip(&it->reader);
    if (err != XS_OK || !batch->envelope || start < batch->envelope)
        return XS_EMALFORMED;
    entry->bytes = start;
    entry->len = (size_t)(it->reader.pos - start);
    entry->offset = (size_t)(start - batch->envelope);
    entry->seq = batch->first_seq + it->index;
    entry->index = it->index++;
    return XS_OK;
}
