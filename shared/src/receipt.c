/* receipt: hub-signed receipts (protocol.md §4) and policy envelopes (protocol.md §5, VIEW).
 * As for batches, the signature is checked over the raw body before the body is decoded. */
#include "xs/receipt.h"

#include <stdlib.h>
#include <string.h>

#include "xs/envelope.h"
#include "xs/text.h"

/* Signature contexts (protocol.md §1): the ASCII name and its 0x00 byte. */
static const char s_receipt_context[] = "xueshi-receipt-1";
static const char s_policy_context[] = "xueshi-policy-1";

/* Elements of a receipt body, of a period and of a total (protocol.md §4). */
#define S_BODY_ELEMENTS 10
#define S_PERIOD_ELEMENTS 4
/* A period of format 3: with its `closed` element. */
#define S_PERIOD_ELEMENTS_3 5
#define S_TOTAL_ELEMENTS 9
/* A total of format 1: credit and requirement in minutes, no binding or single_met. */
#define S_TOTAL_ELEMENTS_1 7
/* Bytes of one identity in a records_hash: origin, then seq big-endian. */
#define S_IDENT_BYTES (XS_SIGN_PK_BYTES + 8)

_Static_assert(XS_POLICY_BLOB_MAX + 128 <= XS_PROTO_POLICY_MAX,
               "a signed policy envelope fits the protocol's bound");

/* ---- receipts ---- */

static int s_str_ok(xs_str_t s, size_t max) {
    return s.len >= 1 && s.len <= max && s.ptr && xs_text_utf8_valid(s.ptr, s.len);
}

/* 1 when r holds what protocol.md §4 allows: counts within the maximums, strings, periods
 * (years ascending, then cycles ascending) and totals in range. The one check for both
 * directions, so that whatever signs also opens. */
static int s_receipt_ok(const xs_receipt_t *r) {
    if (r->period_count > XS_RECEIPT_PERIODS_MAX || r->total_count > XS_RECEIPT_TOTALS_MAX ||
        !s_str_ok(r->teacher_id, XS_ID_MAX) || !s_str_ok(r->policy_id, XS_POLICY_ID_MAX))
        return 0;
    for (uint32_t i = 0; i < r->period_count; i++) {
        const xs_receipt_period_t *p = &r->periods[i];
        if ((p->scope != XS_SCOPE_YEAR && p->scope != XS_SCOPE_CYCLE) || p->closed > 1 ||
            (p->closed && p->scope != XS_SCOPE_YEAR))
            return 0;
        if (i > 0) {
            const xs_receipt_period_t *prev = &r->periods[i - 1];
            if (p->scope < prev->scope || (p->scope == prev->scope && p->year <= prev->year))
                return 0;
        }
    }
    for (uint32_t i = 0; i < r->total_count; i++) {
        const xs_receipt_total_t *t = &r->totals[i];
        if (t->scope >= XS_SCOPE_COUNT || t->bucket >= XS_POLICY_BUCKETS_MAX ||
            t->met > XS_MET_YES || t->binding > 1 || t->single_met > XS_MET_YES ||
            (t->scope == XS_SCOPE_SEMESTER ? t->semester < 1 || t->semester > 2 : t->semester != 0))
            return 0;
    }
    return 1;
}

/* The format a receipt is written in: the lowest that carries what it holds. */
static unsigned s_format_of(const xs_receipt_t *r) {
    for (uint32_t i = 0; i < r->period_count; i++)
        if (r->periods[i].closed)
            return XS_RECEIPT_FORMAT;
    return XS_RECEIPT_FORMAT_OPEN;
}

xs_err xs_receipt_sign(xs_writer_t *envelope, const xs_identity_t *hub, const xs_receipt_t *r) {
    xs_writer_t signed_bytes;
    if (!s_receipt_ok(r))
        return XS_EINVAL;
    unsigned format = s_format_of(r);
    xs_writer_init(&signed_bytes, sizeof s_receipt_context + XS_RECEIPT_MAX_BYTES);
    xs_writer_raw(&signed_bytes, s_receipt_context, sizeof s_receipt_context);
    xs_codec_put_array(&signed_bytes, S_BODY_ELEMENTS);
    xs_codec_put_uint(&signed_bytes, format);
    xs_codec_put_bin(&signed_bytes, xs_identity_public(hub)->sign, XS_SIGN_PK_BYTES);
    xs_codec_put_str(&signed_bytes, r->teacher_id.ptr, r->teacher_id.len);
    xs_codec_put_str(&signed_bytes, r->policy_id.ptr, r->policy_id.len);
    xs_codec_put_uint(&signed_bytes, r->policy_version);
    xs_codec_put_bin(&signed_bytes, r->policy_hash, XS_HASH_BYTES);
    xs_codec_put_uint(&signed_bytes, r->generation);
    xs_codec_put_int(&signed_bytes, r->issued_at);
    xs_codec_put_array(&signed_bytes, r->period_count);
    for (uint32_t i = 0; i < r->period_count; i++) {
        const xs_receipt_period_t *p = &r->periods[i];
        xs_codec_put_array(&signed_bytes,
                           format == XS_RECEIPT_FORMAT ? S_PERIOD_ELEMENTS_3 : S_PERIOD_ELEMENTS);
        xs_codec_put_uint(&signed_bytes, p->scope);
        xs_codec_put_int(&signed_bytes, p->year);
        xs_codec_put_uint(&signed_bytes, p->record_count);
        xs_codec_put_bin(&signed_bytes, p->records_hash, XS_HASH_BYTES);
        if (format != XS_RECEIPT_FORMAT)
            continue;
        if (p->closed)
            xs_codec_put_bin(&signed_bytes, p->closed_hash, XS_HASH_BYTES);
        else
            xs_codec_put_nil(&signed_bytes);
    }
    xs_codec_put_array(&signed_bytes, r->total_count);
    for (uint32_t i = 0; i < r->total_count; i++) {
        const xs_receipt_total_t *t = &r->totals[i];
        xs_codec_put_array(&signed_bytes, S_TOTAL_ELEMENTS);
        xs_codec_put_uint(&signed_bytes, t->scope);
        xs_codec_put_int(&signed_bytes, t->year);
        xs_codec_put_uint(&signed_bytes, t->semester);
        xs_codec_put_uint(&signed_bytes, t->bucket);
        xs_codec_put_uint(&signed_bytes, t->credited_seconds);
        xs_codec_put_uint(&signed_bytes, t->required_seconds);
        xs_codec_put_uint(&signed_bytes, t->met);
        xs_codec_put_uint(&signed_bytes, t->binding);
        xs_codec_put_uint(&signed_bytes, t->single_met);
    }
    xs_err err = xs_writer_err(&signed_bytes);
    if (err == XS_OK)
        err = xs_envelope_seal(envelope, hub, &signed_bytes, sizeof s_receipt_context,
                               XS_RECEIPT_MAX_BYTES);
    xs_writer_free(&signed_bytes);
    return err;
}

/* Reads an unsigned integer of at most max. */
static int s_get_uint_max(xs_reader_t *r, uint64_t max, uint64_t *out) {
    return xs_codec_get_uint(r, out) == XS_OK && *out <= max;
}

/* Reads a hash: bin of exactly XS_HASH_BYTES. */
static int s_get_hash(xs_reader_t *r, uint8_t out[XS_HASH_BYTES]) {
    return xs_codec_get_bin_exact(r, out, XS_HASH_BYTES) == XS_OK;
}

/* Reads an integer within int32_t. */
static int s_get_i32(xs_reader_t *r, int32_t *out) {
    return xs_codec_get_i32(r, out) == XS_OK;
}

static int s_get_text(xs_reader_t *r, xs_str_t *out) {
    return xs_codec_get_str(r, &out->ptr, &out->len) == XS_OK;
}

/* Decodes the body after its hub key: elements 2..9. A format-1 body's totals are in minutes
 * and are converted; their requirements count as binding. A format-3 body's periods carry
 * `closed`, and at least one is closed (else it would be format 2). */
static xs_err s_decode_rest(xs_reader_t *r, unsigned format, xs_receipt_t *out) {
    uint64_t u;
    uint32_t n;
    if (!s_get_text(r, &out->teacher_id) || !s_get_text(r, &out->policy_id) ||
        !s_get_uint_max(r, UINT32_MAX, &u))
        goto malformed;
    out->policy_version = (uint32_t)u;
    if (!s_get_hash(r, out->policy_hash) || xs_codec_get_uint(r, &out->generation) != XS_OK ||
        xs_codec_get_int(r, &out->issued_at) != XS_OK || xs_codec_get_array(r, &n) != XS_OK ||
        n > XS_RECEIPT_PERIODS_MAX)
        goto malformed;
    out->period_count = n;
    int any_closed = 0;
    for (uint32_t i = 0; i < n; i++) {
        xs_receipt_period_t *p = &out->periods[i];
        uint32_t elements;
        if (xs_codec_get_array(r, &elements) != XS_OK ||
            elements != (format == XS_RECEIPT_FORMAT ? S_PERIOD_ELEMENTS_3 : S_PERIOD_ELEMENTS) ||
            !s_get_uint_max(r, XS_SCOPE_COUNT - 1, &u))
            goto malformed;
        p->scope = (uint8_t)u;
        if (!s_get_i32(r, &p->year) || !s_get_uint_max(r, UINT32_MAX, &u))
            goto malformed;
        p->record_count = (uint32_t)u;
        if (!s_get_hash(r, p->records_hash))
            goto malformed;
        p->closed = 0;
        memset(p->closed_hash, 0, XS_HASH_BYTES);
        if (format != XS_RECEIPT_FORMAT)
            continue;
        if (xs_codec_peek(r) == XS_CODEC_NIL) {
            if (xs_codec_get_nil(r) != XS_OK)
                goto malformed;
        } else if (s_get_hash(r, p->closed_hash)) {
            p->closed = 1;
            any_closed = 1;
        } else {
            goto malformed;
        }
    }
    if (format == XS_RECEIPT_FORMAT && !any_closed)
        goto malformed;
    if (xs_codec_get_array(r, &n) != XS_OK || n > XS_RECEIPT_TOTALS_MAX)
        goto malformed;
    out->total_count = n;
    for (uint32_t i = 0; i < n; i++) {
        xs_receipt_total_t *t = &out->totals[i];
        uint64_t scope, semester, bucket, credited, required, met, binding = 0, single = 0;
        uint32_t elements;
        unsigned unit = format == 1 ? 60 : 1;
        if (xs_codec_get_array(r, &elements) != XS_OK ||
            elements != (format == 1 ? S_TOTAL_ELEMENTS_1 : S_TOTAL_ELEMENTS) ||
            !s_get_uint_max(r, XS_SCOPE_COUNT - 1, &scope) || !s_get_i32(r, &t->year) ||
            !s_get_uint_max(r, 2, &semester) || !s_get_uint_max(r, UINT8_MAX, &bucket) ||
            !s_get_uint_max(r, UINT64_MAX / unit, &credited) ||
            !s_get_uint_max(r, UINT32_MAX / unit, &required) ||
            !s_get_uint_max(r, XS_MET_YES, &met))
            goto malformed;
        if (format == 1)
            binding = required != 0;
        else if (!s_get_uint_max(r, 1, &binding) || !s_get_uint_max(r, XS_MET_YES, &single))
            goto malformed;
        t->scope = (uint8_t)scope;
        t->semester = (uint8_t)semester;
        t->bucket = (uint8_t)bucket;
        t->credited_seconds = credited * unit;
        t->required_seconds = (uint32_t)(required * unit);
        t->met = (uint8_t)met;
        t->binding = (uint8_t)binding;
        t->single_met = (uint8_t)single;
    }
    if (xs_reader_left(r) != 0 || !s_receipt_ok(out))
        goto malformed;
    return XS_OK;
malformed:
    return XS_EMALFORMED;
}

xs_err xs_receipt_open(const void *envelope, size_t len,
                       const uint8_t expected_hub[XS_SIGN_PK_BYTES], xs_receipt_t *out) {
    const uint8_t *body, *signature, *hub;
    size_t body_len;
    xs_reader_t r;
    uint32_t elements, hub_len;
    uint64_t format;
    int64_t other_format;

    out->period_count = out->total_count = 0;
    if (len > XS_RECEIPT_MAX_BYTES)
        return XS_ETOOBIG;
    xs_err err =
        xs_codec_split_envelope(envelope, len, &body, &body_len, &signature, XS_SIGNATURE_BYTES);
    if (err != XS_OK)
        return err;
    /* Only the format and the hub key are read before the signature is checked. */
    xs_reader_init(&r, body, body_len);
    if (xs_codec_get_array(&r, &elements) != XS_OK)
        return XS_EMALFORMED;
    if (xs_codec_get_uint(&r, &format) != XS_OK)
        return xs_codec_get_int(&r, &other_format) == XS_OK ? XS_EVERSION : XS_EMALFORMED;
    if (format < 1 || format > XS_RECEIPT_FORMAT)
        return XS_EVERSION;
    if (elements != S_BODY_ELEMENTS || xs_codec_get_bin(&r, &hub, &hub_len) != XS_OK ||
        hub_len != XS_SIGN_PK_BYTES)
        return XS_EMALFORMED;
    if (expected_hub && memcmp(hub, expected_hub, XS_SIGN_PK_BYTES) != 0)
        return XS_ECRYPTO;
    err = xs_envelope_verify(s_receipt_context, sizeof s_receipt_context, hub, body, body_len,
                             signature);
    if (err != XS_OK)
        return err;
    memcpy(out->hub, hub, XS_SIGN_PK_BYTES);
    return s_decode_rest(&r, (unsigned)format, out);
}

/* ---- a receipt as text (protocol.md §4.1) ---- */

#define S_TEXT_PREFIX_LEN (sizeof XS_RECEIPT_TEXT_PREFIX - 1)

_Static_assert(S_TEXT_PREFIX_LEN + XS_RECEIPT_TEXT_BYTES_MAX / 2 * 3 +
                       XS_RECEIPT_TEXT_BYTES_MAX % 2 * 2 <=
                   XS_RECEIPT_TEXT_MAX,
               "the largest envelope with a text form fits the text's bound");
_Static_assert(S_TEXT_PREFIX_LEN + (XS_RECEIPT_TEXT_BYTES_MAX + 1) / 2 * 3 +
                       (XS_RECEIPT_TEXT_BYTES_MAX + 1) % 2 * 2 >
                   XS_RECEIPT_TEXT_MAX,
               "one byte more has none");

xs_err xs_receipt_text_encode(const void *envelope, size_t len, char *out, size_t cap,
                              size_t *text_len) {
    if (len == 0)
        return XS_EINVAL;
    if (len > XS_RECEIPT_TEXT_BYTES_MAX || cap < S_TEXT_PREFIX_LEN + 1)
        return XS_ETOOBIG;
    size_t body;
    xs_err err = xs_text_base45_encode(envelope, len, out + S_TEXT_PREFIX_LEN,
                                       cap - S_TEXT_PREFIX_LEN, &body);
    if (err != XS_OK)
        return err;
    memcpy(out, XS_RECEIPT_TEXT_PREFIX, S_TEXT_PREFIX_LEN);
    if (text_len)
        *text_len = S_TEXT_PREFIX_LEN + body;
    return XS_OK;
}

xs_err xs_receipt_text_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                              size_t *envelope_len) {
    xs_text_trim(&text, &len);
    if (len > XS_RECEIPT_TEXT_MAX)
        return XS_ETOOBIG;
    if (len <= S_TEXT_PREFIX_LEN || memcmp(text, XS_RECEIPT_TEXT_PREFIX, S_TEXT_PREFIX_LEN) != 0)
        return XS_EMALFORMED;
    return xs_text_base45_decode(text + S_TEXT_PREFIX_LEN, len - S_TEXT_PREFIX_LEN, out, cap,
                                 envelope_len);
}

/* ---- records_hash ---- */

static int s_ident_cmp(const void *a, const void *b) {
    return memcmp(a, b, S_IDENT_BYTES);
}

/* Sorts count 40-byte identities in place and hashes their concatenation. */
static void s_hash_idents(uint8_t *idents, size_t count, uint8_t out[XS_HASH_BYTES]) {
    if (count > 1)
        qsort(idents, count, S_IDENT_BYTES, s_ident_cmp);
    xs_identity_hash(idents, count * S_IDENT_BYTES, out);
}

static void s_put_ident(uint8_t *dst, const xs_receipt_ident_t *id) {
    memcpy(dst, id->origin, XS_SIGN_PK_BYTES);
    for (unsigned k = 0; k < 8; k++)
        dst[XS_SIGN_PK_BYTES + k] = (uint8_t)(id->seq >> (56 - 8 * k));
}

xs_err xs_receipt_records_hash(const xs_receipt_ident_t *ids, size_t count,
                               uint8_t out[XS_HASH_BYTES]) {
    if (count > SIZE_MAX / S_IDENT_BYTES)
        return XS_ETOOBIG;
    uint8_t *idents = malloc(count ? count * S_IDENT_BYTES : 1);
    if (!idents)
        return XS_ENOMEM;
    for (size_t i = 0; i < count; i++)
        s_put_ident(idents + i * S_IDENT_BYTES, &ids[i]);
    s_hash_idents(idents, count, out);
    free(idents);
    return XS_OK;
}

/* ---- building from a certified ledger ---- */

static int s_int_cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Appends one period of the scope and year to out, from the m dated records whose years are
 * in years[] and identities in idents (40 bytes each); tmp holds m identities. */
static void s_add_period(xs_receipt_t *out, const xs_policy_t *policy, uint8_t scope, int year,
                         const int *years, const uint8_t *idents, size_t m, uint8_t *tmp) {
    xs_receipt_period_t *p = &out->periods[out->period_count++];
    size_t c = 0;
    for (size_t i = 0; i < m; i++) {
        int key = scope == XS_SCOPE_CYCLE ? xs_policy_cycle_of(policy, years[i]) : years[i];
        if (key == year)
            memcpy(tmp + S_IDENT_BYTES * c++, idents + S_IDENT_BYTES * i, S_IDENT_BYTES);
    }
    p->scope = scope;
    p->closed = 0;
    memset(p->closed_hash, 0, XS_HASH_BYTES);
    p->year = year;
    p->record_count = (uint32_t)c;
    s_hash_idents(tmp, c, p->records_hash);
}

xs_err xs_receipt_build(xs_receipt_t *out, const xs_policy_t *policy,
                        const uint8_t policy_hash[XS_HASH_BYTES],
                        const xs_certify_teacher_t *teacher, const xs_certify_row_t *rows,
                        const xs_receipt_ident_t *ids, uint64_t generation, int64_t issued_at) {
    xs_err err = XS_OK;
    size_t n = teacher->record_count, m = 0, distinct = 0;
    uint8_t *idents = NULL, *tmp = NULL;
    int *years = NULL, *sorted = NULL;

    memset(out->hub, 0, sizeof out->hub);
    out->period_count = out->total_count = 0;
    if (teacher->teacher_id.len == 0)
        return XS_EINVAL;
    if (teacher->total_count > XS_RECEIPT_TOTALS_MAX)
        return XS_ETOOBIG;
    if (n > SIZE_MAX / S_IDENT_BYTES / 2)
        return XS_ETOOBIG;
    out->teacher_id = teacher->teacher_id;
    out->policy_id.ptr = policy->id;
    out->policy_id.len = (uint32_t)strnlen(policy->id, sizeof policy->id);
    out->policy_version = policy->version;
    memcpy(out->policy_hash, policy_hash, XS_HASH_BYTES);
    out->generation = generation;
    out->issued_at = issued_at;

    idents = malloc(n ? n * S_IDENT_BYTES : 1);
    tmp = malloc(n ? n * S_IDENT_BYTES : 1);
    years = malloc(n ? n * sizeof *years : 1);
    sorted = malloc(n ? n * sizeof *sorted : 1);
    if (!idents || !tmp || !years || !sorted) {
        err = XS_ENOMEM;
        goto out;
    }
    /* The dated records: a record without a valid date is in no period. */
    for (size_t k = 0; k < n; k++) {
        uint32_t i = teacher->records[k];
        if (rows[i].year == 0)
            continue;
        years[m] = rows[i].year;
        s_put_ident(idents + S_IDENT_BYTES * m, &ids[i]);
        m++;
    }
    /* Distinct years ascending, then the distinct cycles holding them (ascending as well:
     * a later year never falls in an earlier cycle). */
    memcpy(sorted, years, m * sizeof *sorted);
    qsort(sorted, m, sizeof *sorted, s_int_cmp);
    for (size_t i = 0; i < m; i++)
        if (distinct == 0 || sorted[i] != sorted[distinct - 1])
            sorted[distinct++] = sorted[i];
    size_t cycles = 0;
    for (size_t i = 0; i < distinct; i++)
        if (i == 0 ||
            xs_policy_cycle_of(policy, sorted[i]) != xs_policy_cycle_of(policy, sorted[i - 1]))
            cycles++;
    if (distinct + cycles > XS_RECEIPT_PERIODS_MAX) {
        err = XS_ETOOBIG;
        goto out;
    }
    for (size_t i = 0; i < distinct; i++)
        s_add_period(out, policy, XS_SCOPE_YEAR, sorted[i], years, idents, m, tmp);
    for (size_t i = 0; i < distinct; i++) {
        int cycle = xs_policy_cycle_of(policy, sorted[i]);
        if (i == 0 || cycle != xs_policy_cycle_of(policy, sorted[i - 1]))
            s_add_period(out, policy, XS_SCOPE_CYCLE, cycle, years, idents, m, tmp);
    }

    for (size_t i = 0; i < teacher->total_count; i++) {
        const xs_certify_total_t *src = &teacher->totals[i];
        xs_receipt_total_t *t = &out->totals[i];
        t->credited_seconds = src->credited_seconds;
        t->required_seconds = src->required_seconds;
        t->year = src->year;
        t->scope = src->scope;
        t->semester = src->semester;
        t->bucket = src->bucket;
        t->met = src->met;
        t->binding = src->binding;
        t->single_met = src->single_met;
    }
    out->total_count = (uint32_t)teacher->total_count;
out:
    free(idents);
    free(tmp);
    free(years);
    free(sorted);
    if (err != XS_OK)
        out->period_count = out->total_count = 0;
    return err;
}

/* ---- policy envelopes ---- */

xs_err xs_receipt_policy_sign(xs_writer_t *envelope, const xs_identity_t *hub, const void *blob,
                              size_t blob_len) {
    xs_writer_t signed_bytes;
    if (blob_len > XS_POLICY_BLOB_MAX)
        return XS_ETOOBIG;
    xs_writer_init(&signed_bytes, sizeof s_policy_context + XS_POLICY_BLOB_MAX);
    xs_writer_raw(&signed_bytes, s_policy_context, sizeof s_policy_context);
    xs_writer_raw(&signed_bytes, blob, blob_len);
    xs_err err = xs_writer_err(&signed_bytes);
    if (err == XS_OK)
        err = xs_envelope_seal(envelope, hub, &signed_bytes, sizeof s_policy_context,
                               XS_RECEIPT_POLICY_MAX_BYTES);
    xs_writer_free(&signed_bytes);
    return err;
}

xs_err xs_receipt_policy_open(const void *envelope, size_t len, const uint8_t hub[XS_SIGN_PK_BYTES],
                              const uint8_t **blob, size_t *blob_len) {
    const uint8_t *signature;
    if (len > XS_RECEIPT_POLICY_MAX_BYTES)
        return XS_ETOOBIG;
    xs_err err =
        xs_codec_split_envelope(envelope, len, blob, blob_len, &signature, XS_SIGNATURE_BYTES);
    if (err != XS_OK)
        return err;
    if (*blob_len > XS_POLICY_BLOB_MAX)
        return XS_ETOOBIG;
    return xs_envelope_verify(s_policy_context, sizeof s_policy_context, hub, *blob, *blob_len,
                              signature);
}
