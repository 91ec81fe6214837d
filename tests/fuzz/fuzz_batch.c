/* fuzz_batch: libFuzzer harness for batch envelopes (schema/protocol.md §2). Each input is
 * opened as an envelope, and also signed as a body with a fixed key, so that the fuzzer
 * reaches the decoder behind the signature check. Whatever opens must hold together: records
 * that decode, consecutive seqs, slices inside the envelope, the body's hash, and sealing the
 * same content again must open to the same content. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/batch.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/record.h"

/* Inputs past this gain nothing: an envelope over XS_BATCH_MAX_BYTES is refused unread. */
#define FUZZ_MAX_INPUT (XS_BATCH_MAX_BYTES + 64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed key: seed 00 01 .. 1f, the "node" of schema/vectors/protocol.txt. */
static xs_identity_t *s_key;

static const xs_identity_t *s_fixed_key(void) {
    if (!s_key) {
        uint8_t seed[32];
        for (int i = 0; i < 32; i++)
            seed[i] = (uint8_t)i;
        if (xs_identity_from_seed(&s_key, seed) != XS_OK)
            abort();
    }
    return s_key;
}

/* Opens len bytes and checks every promise of xs_batch_open; returns its result. */
static xs_err s_open_checked(const uint8_t *envelope, size_t len) {
    xs_batch_t batch;
    uint8_t origin[32], hash[32];
    xs_err err = xs_batch_open(envelope, len, &batch);
    if (err != XS_OK && err != XS_EMALFORMED && err != XS_ECRYPTO && err != XS_EVERSION &&
        err != XS_ETOOBIG && err != XS_ENOMEM)
        abort();
    xs_err peek = xs_batch_peek_origin(envelope, len, origin);
    /* peek and open share every check made before the signature. */
    if ((peek == XS_ETOOBIG || peek == XS_EVERSION || peek == XS_EMALFORMED) && err != peek)
        abort();
    if (err == XS_ETOOBIG && peek != XS_ETOOBIG)
        abort();
    if (err != XS_OK)
        return err;
    if (peek != XS_OK || memcmp(origin, batch.origin, 32) != 0)
        abort();
    if (batch.count < 1 || batch.count > XS_BATCH_MAX_RECORDS || batch.first_seq < 1 ||
        batch.has_prev_hash != (batch.first_seq > 1) || batch.body < envelope ||
        batch.body + batch.body_len > envelope + len || batch.records < batch.body ||
        batch.records + batch.records_len != batch.body + batch.body_len)
        abort();
    xs_identity_hash(batch.body, batch.body_len, hash);
    if (memcmp(hash, batch.hash, 32) != 0)
        abort();

    xs_batch_slice_t *slices = calloc(batch.count, sizeof *slices);
    if (!slices)
        abort();
    xs_batch_iter_t it;
    xs_batch_entry_t entry;
    xs_record_t rec;
    size_t total = 0;
    xs_batch_iter_init(&it, &batch);
    for (uint32_t i = 0; i < batch.count; i++) {
        if (xs_batch_next(&it, &entry, i % 2 ? &rec : NULL) != XS_OK || entry.index != i ||
            entry.seq != batch.first_seq + i || entry.bytes != envelope + entry.offset ||
            entry.offset + entry.len > len ||
            xs_record_decode_bytes(entry.bytes, entry.len, &rec) != XS_OK)
            abort();
        slices[i].ptr = entry.bytes;
        slices[i].len = entry.len;
        total += entry.len;
    }
    if (xs_batch_next(&it, &entry, NULL) != XS_ENOTFOUND || total != batch.records_len)
        abort();

    /* Sealed again by the fixed key (when it is the origin), the content is the same. */
    if (memcmp(batch.origin, xs_identity_public(s_fixed_key())->sign, 32) == 0) {
        xs_writer_t again;
        xs_batch_t reopened;
        uint8_t again_hash[32];
        xs_writer_init(&again, XS_BATCH_MAX_BYTES);
        err = xs_batch_seal(&again, s_fixed_key(), batch.first_seq,
                            batch.has_prev_hash ? batch.prev_hash : NULL,
                            batch.has_policy_hash ? batch.policy_hash : NULL, batch.sealed_at,
                            slices, batch.count, again_hash);
        /* Canonical headers are never longer, so what opened fits when sealed again. */
        if (err != XS_OK || again.len > len ||
            xs_batch_open(again.data, again.len, &reopened) != XS_OK ||
            reopened.first_seq != batch.first_seq || reopened.count != batch.count ||
            reopened.sealed_at != batch.sealed_at || reopened.records_len != batch.records_len ||
            memcmp(reopened.records, batch.records, batch.records_len) != 0 ||
            memcmp(reopened.hash, again_hash, 32) != 0)
            abort();
        xs_writer_free(&again);
    }
    free(slices);
    return XS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char context[] = "xueshi-batch-1";
    if (size > FUZZ_MAX_INPUT)
        return 0;
    s_open_checked(data, size);

    /* The input as a body, signed as a sealer would. */
    if (size > XS_BATCH_MAX_BYTES - 128)
        return 0;
    uint8_t *signed_bytes = malloc(sizeof context + size);
    uint8_t sig[64];
    if (!signed_bytes)
        abort();
    memcpy(signed_bytes, context, sizeof context);
    if (size)
        memcpy(signed_bytes + sizeof context, data, size);
    xs_identity_sign(s_fixed_key(), signed_bytes, sizeof context + size, sig);
    free(signed_bytes);
    xs_writer_t envelope;
    xs_writer_init(&envelope, XS_BATCH_MAX_BYTES);
    xs_codec_put_array(&envelope, 2);
    xs_codec_put_bin(&envelope, data, size);
    xs_codec_put_bin(&envelope, sig, sizeof sig);
    if (xs_writer_err(&envelope) != XS_OK)
        abort();
    /* Exactly sized, so ASan sees any read past the end. */
    uint8_t *exact = malloc(envelope.len);
    if (!exact)
        abort();
    memcpy(exact, envelope.data, envelope.len);
    xs_err err = s_open_checked(exact, envelope.len);
    /* A body that opens is exactly the input. */
    if (err == XS_OK) {
        xs_batch_t batch;
        if (xs_batch_open(exact, envelope.len, &batch) != XS_OK || batch.body_len != size ||
            memcmp(batch.body, data, size) != 0)
            abort();
    }
    free(exact);
    xs_writer_free(&envelope);
    return 0;
}
