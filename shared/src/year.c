/* year: the closed year's signed documents (schema/year.md). As for receipts, the signature
 * is checked over the raw body before the body is decoded; decoding is strict and bounded:
 * every count is checked against the bytes left before anything is allocated for it. */
#include "xs/year.h"

#include <stdlib.h>
#include <string.h>

#include "xs/certify.h"
#include "xs/envelope.h"
#include "xs/standing.h"
#include "xs/text.h"

/* Signature contexts (schema/year.md §1): the ASCII name and its 0x00 byte. */
static const char s_year_context[] = "xueshi-year-1";
static const char s_amend_context[] = "xueshi-amend-1";
static const char s_final_context[] = "xueshi-final-1";

/* Elements of each array (schema/year.md §2-§4). */
#define S_DOC_ELEMENTS 13
#define S_AMEND_ELEMENTS 8
#define S_FINAL_ELEMENTS 6
#define S_ROW_ELEMENTS 10
#define S_TOTAL_ELEMENTS 8
#define S_ROLE_ELEMENTS 7
#define S_ENTRY_ELEMENTS 8
#define S_OBJECTION_ELEMENTS 6
/* Academic years a document may name. */
#define S_YEAR_MIN 1970
#define S_YEAR_MAX 2148

/* What open allocates; everything the opened struct points to lives here. */
typedef struct s_owned {
    uint8_t *body; /* a copy of the verified body: strings borrow it */
    xs_year_row_t *rows;
    xs_year_total_t *totals;
    xs_year_role_t *roles;
    xs_year_entry_t *entries;
    xs_year_objection_t *objections;
} s_owned_t;

static void s_owned_free(void *p) {
    s_owned_t *o = p;
    if (!o)
        return;
    free(o->body);
    free(o->rows);
    free(o->totals);
    free(o->roles);
    free(o->entries);
    free(o->objections);
    free(o);
}

void xs_year_hash(const void *body, size_t len, uint8_t out[XS_HASH_BYTES]) {
    xs_identity_hash(body, len, out);
}

/* ---- checks shared by sign and open, so that whatever signs also opens ---- */

static int s_text_ok(xs_str_t s, size_t min, size_t max) {
    return s.len >= min && s.len <= max &&
           (s.len == 0 || (s.ptr && xs_text_utf8_valid(s.ptr, s.len)));
}

static int s_year_ok(int32_t year) {
    return year >= S_YEAR_MIN && year <= S_YEAR_MAX;
}

/* Byte order of two strings, the shorter first on a tie. */
static int s_str_cmp(xs_str_t a, xs_str_t b) {
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int s_total_ok(const xs_year_total_t *t) {
    return t->scope < XS_SCOPE_COUNT && t->bucket < XS_POLICY_BUCKETS_MAX && t->met <= XS_MET_YES &&
           t->binding <= 1 &&
           (t->scope == XS_SCOPE_SEMESTER ? t->semester >= 1 && t->semester <= 2
                                          : t->semester == 0);
}

static int s_role_ok(const xs_year_role_t *r) {
    return r->role < XS_POLICY_ROLES_MAX && r->judged <= 1 && r->met <= XS_MET_YES;
}

static int s_row_ok(const xs_year_row_t *row) {
    if (!s_text_ok(row->teacher_id, 1, XS_ID_MAX) || !s_text_ok(row->name, 0, XS_YEAR_NAME_MAX) ||
        !s_text_ok(row->school_id, 0, XS_ID_MAX) || row->state > XS_STANDING_UNROSTERED ||
        row->met > XS_MET_YES || row->why > (XS_STANDING_WHY_HOURS | XS_STANDING_WHY_ROLE) ||
        row->final > 1 || row->total_count > XS_YEAR_TOTALS_MAX ||
        row->role_count > XS_POLICY_ROLES_MAX || (row->total_count && !row->totals) ||
        (row->role_count && !row->roles))
        return 0;
    for (uint32_t i = 0; i < row->total_count; i++)
        if (!s_total_ok(&row->totals[i]))
            return 0;
    for (uint32_t i = 0; i < row->role_count; i++)
        if (!s_role_ok(&row->roles[i]))
            return 0;
    return 1;
}

static int s_rows_ok(const xs_year_row_t *rows, size_t count) {
    if (count > XS_YEAR_TEACHERS_MAX || (count && !rows))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (!s_row_ok(&rows[i]) ||
            (i > 0 && s_str_cmp(rows[i - 1].teacher_id, rows[i].teacher_id) >= 0))
            return 0;
    return 1;
}

static int s_entry_cmp(const xs_year_entry_t *a, const xs_year_entry_t *b) {
    int c = memcmp(a->origin, b->origin, XS_SIGN_PK_BYTES);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int s_entries_ok(const xs_year_entry_t *e, size_t count) {
    if (count > XS_YEAR_ENTRIES_MAX || (count && !e))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (!s_text_ok(e[i].teacher_id, 1, XS_ID_MAX) ||
            !s_text_ok(e[i].note, 0, XS_YEAR_TEXT_MAX) ||
            (i > 0 && s_entry_cmp(&e[i - 1], &e[i]) >= 0))
            return 0;
    return 1;
}

static int s_objections_ok(const xs_year_objection_t *o, size_t count) {
    if (count > XS_YEAR_OBJECTIONS_MAX || (count && !o))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (o[i].number < 1 || !s_text_ok(o[i].teacher_id, 1, XS_ID_MAX) ||
            !s_text_ok(o[i].note, 1, XS_YEAR_TEXT_MAX) ||
            !s_text_ok(o[i].decision, 1, XS_YEAR_TEXT_MAX) ||
            (i > 0 && o[i - 1].number >= o[i].number))
            return 0;
    return 1;
}

/* ---- encoding ---- */

static void s_put_text(xs_writer_t *w, xs_str_t s) {
    xs_codec_put_str(w, s.len ? s.ptr : "", s.len);
}

static void s_put_rows(xs_writer_t *w, const xs_year_row_t *rows, size_t count) {
    xs_codec_put_array(w, (uint32_t)count);
    for (size_t i = 0; i < count; i++) {
        const xs_year_row_t *row = &rows[i];
        xs_codec_put_array(w, S_ROW_ELEMENTS);
        s_put_text(w, row->teacher_id);
        s_put_text(w, row->name);
        s_put_text(w, row->school_id);
        xs_codec_put_uint(w, row->state);
        xs_codec_put_uint(w, row->met);
        xs_codec_put_uint(w, row->why);
        xs_codec_put_uint(w, row->final);
        xs_codec_put_uint(w, row->credited_seconds);
        xs_codec_put_array(w, row->total_count);
        for (uint32_t k = 0; k < row->total_count; k++) {
            const xs_year_total_t *t = &row->totals[k];
            xs_codec_put_array(w, S_TOTAL_ELEMENTS);
            xs_codec_put_uint(w, t->scope);
            xs_codec_put_uint(w, t->semester);
            xs_codec_put_uint(w, t->bucket);
            xs_codec_put_uint(w, t->credited_seconds);
            xs_codec_put_uint(w, t->required_seconds);
            xs_codec_put_uint(w, t->met);
            xs_codec_put_uint(w, t->binding);
            xs_codec_put_uint(w, t->unreviewed);
        }
        xs_codec_put_array(w, row->role_count);
        for (uint32_t k = 0; k < row->role_count; k++) {
            const xs_year_role_t *r = &row->roles[k];
            xs_codec_put_array(w, S_ROLE_ELEMENTS);
            xs_codec_put_uint(w, r->role);
            xs_codec_put_uint(w, r->judged);
            xs_codec_put_uint(w, r->met);
            xs_codec_put_uint(w, r->credited_seconds);
            xs_codec_put_uint(w, r->required_seconds);
            xs_codec_put_uint(w, r->part_seconds);
            xs_codec_put_uint(w, r->part_required);
        }
    }
}

/* Starts the signed bytes: the context, then the body's array header, format and hub key. */
static void s_begin(xs_writer_t *w, const char *context, size_t context_len, uint32_t elements,
                    const xs_identity_t *hub) {
    xs_writer_init(w, context_len + XS_YEAR_MAX_BYTES);
    xs_writer_raw(w, context, context_len);
    xs_codec_put_array(w, elements);
    xs_codec_put_uint(w, XS_YEAR_FORMAT);
    xs_codec_put_bin(w, xs_identity_public(hub)->sign, XS_SIGN_PK_BYTES);
}

/* Seals the signed bytes into envelope and hashes the body into hash. Frees w. */
static xs_err s_seal(xs_writer_t *envelope, const xs_identity_t *hub, xs_writer_t *w,
                     size_t context_len, uint8_t hash[XS_HASH_BYTES]) {
    xs_err err = xs_writer_err(w);
    if (err == XS_OK)
        err = xs_envelope_seal(envelope, hub, w, context_len, XS_YEAR_MAX_BYTES);
    if (err == XS_OK)
        xs_year_hash(w->data + context_len, w->len - context_len, hash);
    xs_writer_free(w);
    return err;
}

xs_err xs_year_sign(xs_writer_t *envelope, const xs_identity_t *hub, xs_year_doc_t *doc) {
    xs_writer_t w;
    if (!s_year_ok(doc->year) || !s_text_ok(doc->policy_id, 1, XS_POLICY_ID_MAX) ||
        doc->notice_until < doc->closed_at || !s_rows_ok(doc->rows, doc->row_count))
        return XS_EINVAL;
    s_begin(&w, s_year_context, sizeof s_year_context, S_DOC_ELEMENTS, hub);
    xs_codec_put_int(&w, doc->year);
    s_put_text(&w, doc->policy_id);
    xs_codec_put_uint(&w, doc->policy_version);
    xs_codec_put_bin(&w, doc->policy_hash, XS_HASH_BYTES);
    xs_codec_put_uint(&w, doc->roster_version);
    xs_codec_put_bin(&w, doc->roster_hash, XS_HASH_BYTES);
    xs_codec_put_int(&w, doc->closed_at);
    xs_codec_put_int(&w, doc->notice_until);
    xs_codec_put_uint(&w, doc->record_count);
    xs_codec_put_bin(&w, doc->records_hash, XS_HASH_BYTES);
    s_put_rows(&w, doc->rows, doc->row_count);
    return s_seal(envelope, hub, &w, sizeof s_year_context, doc->hash);
}

xs_err xs_year_amend_sign(xs_writer_t *envelope, const xs_identity_t *hub, xs_year_amend_t *a) {
    xs_writer_t w;
    if (!s_year_ok(a->year) || a->number < 1 || !s_entries_ok(a->entries, a->entry_count) ||
        !s_rows_ok(a->rows, a->row_count))
        return XS_EINVAL;
    s_begin(&w, s_amend_context, sizeof s_amend_context, S_AMEND_ELEMENTS, hub);
    xs_codec_put_int(&w, a->year);
    xs_codec_put_bin(&w, a->closed_hash, XS_HASH_BYTES);
    xs_codec_put_uint(&w, a->number);
    xs_codec_put_int(&w, a->issued_at);
    xs_codec_put_array(&w, (uint32_t)a->entry_count);
    for (size_t i = 0; i < a->entry_count; i++) {
        const xs_year_entry_t *e = &a->entries[i];
        xs_codec_put_array(&w, S_ENTRY_ELEMENTS);
        xs_codec_put_bin(&w, e->origin, XS_SIGN_PK_BYTES);
        xs_codec_put_uint(&w, e->seq);
        s_put_text(&w, e->teacher_id);
        xs_codec_put_uint(&w, e->category);
        xs_codec_put_int(&w, e->date);
        xs_codec_put_uint(&w, e->frozen_seconds);
        xs_codec_put_uint(&w, e->seconds);
        s_put_text(&w, e->note);
    }
    s_put_rows(&w, a->rows, a->row_count);
    return s_seal(envelope, hub, &w, sizeof s_amend_context, a->hash);
}

xs_err xs_year_final_sign(xs_writer_t *envelope, const xs_identity_t *hub, xs_year_final_t *f) {
    xs_writer_t w;
    if (!s_year_ok(f->year) || !s_objections_ok(f->objections, f->objection_count))
        return XS_EINVAL;
    s_begin(&w, s_final_context, sizeof s_final_context, S_FINAL_ELEMENTS, hub);
    xs_codec_put_int(&w, f->year);
    xs_codec_put_bin(&w, f->closed_hash, XS_HASH_BYTES);
    xs_codec_put_int(&w, f->finalized_at);
    xs_codec_put_array(&w, (uint32_t)f->objection_count);
    for (size_t i = 0; i < f->objection_count; i++) {
        const xs_year_objection_t *o = &f->objections[i];
        xs_codec_put_array(&w, S_OBJECTION_ELEMENTS);
        xs_codec_put_uint(&w, o->number);
        s_put_text(&w, o->teacher_id);
        xs_codec_put_int(&w, o->filed_at);
        s_put_text(&w, o->note);
        s_put_text(&w, o->decision);
        xs_codec_put_int(&w, o->decided_at);
    }
    return s_seal(envelope, hub, &w, sizeof s_final_context, f->hash);
}

/* ---- decoding ---- */

static int s_get_u(xs_reader_t *r, uint64_t max, uint64_t *out) {
    return xs_codec_get_uint(r, out) == XS_OK && *out <= max;
}

static int s_get_u8(xs_reader_t *r, uint64_t max, uint8_t *out) {
    uint64_t v;
    if (!s_get_u(r, max, &v))
        return 0;
    *out = (uint8_t)v;
    return 1;
}

static int s_get_u32(xs_reader_t *r, uint32_t *out) {
    uint64_t v;
    if (!s_get_u(r, UINT32_MAX, &v))
        return 0;
    *out = (uint32_t)v;
    return 1;
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

static int s_array(xs_reader_t *r, uint32_t elements) {
    uint32_t n;
    return xs_codec_get_array(r, &n) == XS_OK && n == elements;
}

/* Decodes one row; its totals and roles go to totals and roles (room for the maximums). */
static int s_get_row(xs_reader_t *r, xs_year_row_t *row, xs_year_total_t *totals,
                     xs_year_role_t *roles) {
    uint32_t n;
    memset(row, 0, sizeof *row);
    if (!s_array(r, S_ROW_ELEMENTS) || !s_get_text(r, &row->teacher_id) ||
        !s_get_text(r, &row->name) || !s_get_text(r, &row->school_id) ||
        !s_get_u8(r, UINT8_MAX, &row->state) || !s_get_u8(r, UINT8_MAX, &row->met) ||
        !s_get_u8(r, UINT8_MAX, &row->why) || !s_get_u8(r, UINT8_MAX, &row->final) ||
        xs_codec_get_uint(r, &row->credited_seconds) != XS_OK ||
        xs_codec_get_array(r, &n) != XS_OK || n > XS_YEAR_TOTALS_MAX)
        return 0;
    row->total_count = n;
    for (uint32_t k = 0; k < n; k++) {
        xs_year_total_t *t = &totals[k];
        memset(t, 0, sizeof *t);
        if (!s_array(r, S_TOTAL_ELEMENTS) || !s_get_u8(r, UINT8_MAX, &t->scope) ||
            !s_get_u8(r, UINT8_MAX, &t->semester) || !s_get_u8(r, UINT8_MAX, &t->bucket) ||
            xs_codec_get_uint(r, &t->credited_seconds) != XS_OK ||
            !s_get_u32(r, &t->required_seconds) || !s_get_u8(r, UINT8_MAX, &t->met) ||
            !s_get_u8(r, UINT8_MAX, &t->binding) || !s_get_u32(r, &t->unreviewed))
            return 0;
    }
    if (xs_codec_get_array(r, &n) != XS_OK || n > XS_POLICY_ROLES_MAX)
        return 0;
    row->role_count = n;
    for (uint32_t k = 0; k < n; k++) {
        xs_year_role_t *o = &roles[k];
        memset(o, 0, sizeof *o);
        if (!s_array(r, S_ROLE_ELEMENTS) || !s_get_u8(r, UINT8_MAX, &o->role) ||
            !s_get_u8(r, UINT8_MAX, &o->judged) || !s_get_u8(r, UINT8_MAX, &o->met) ||
            xs_codec_get_uint(r, &o->credited_seconds) != XS_OK ||
            !s_get_u32(r, &o->required_seconds) ||
            xs_codec_get_uint(r, &o->part_seconds) != XS_OK || !s_get_u32(r, &o->part_required))
            return 0;
    }
    row->totals = totals;
    row->roles = roles;
    return s_row_ok(row);
}

/* Decodes the rows array into o (rows, totals, roles), in two passes: the first checks every
 * row and counts its totals and roles, so the second fills arrays of exactly that size. */
static xs_err s_get_rows(xs_reader_t *r, s_owned_t *o, size_t *count) {
    xs_year_total_t scratch_totals[XS_YEAR_TOTALS_MAX];
    xs_year_role_t scratch_roles[XS_POLICY_ROLES_MAX];
    xs_year_row_t row;
    uint32_t n;
    size_t ntotals = 0, nroles = 0;
    if (xs_codec_get_array(r, &n) != XS_OK || n > XS_YEAR_TEACHERS_MAX)
        return XS_EMALFORMED;
    xs_reader_t first = *r;
    xs_str_t prev = {NULL, 0};
    for (uint32_t i = 0; i < n; i++) {
        if (!s_get_row(&first, &row, scratch_totals, scratch_roles) ||
            (i > 0 && s_str_cmp(prev, row.teacher_id) >= 0))
            return XS_EMALFORMED;
        prev = row.teacher_id;
        ntotals += row.total_count;
        nroles += row.role_count;
    }
    o->rows = malloc(n ? n * sizeof *o->rows : 1);
    o->totals = malloc(ntotals ? ntotals * sizeof *o->totals : 1);
    o->roles = malloc(nroles ? nroles * sizeof *o->roles : 1);
    if (!o->rows || !o->totals || !o->roles)
        return XS_ENOMEM;
    ntotals = nroles = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!s_get_row(r, &o->rows[i], o->totals + ntotals, o->roles + nroles))
            return XS_EMALFORMED; /* not reached: the first pass read the same bytes */
        ntotals += o->rows[i].total_count;
        nroles += o->rows[i].role_count;
    }
    *count = n;
    return XS_OK;
}

/* Splits and verifies an envelope of one kind: reads the body's element count, format and hub
 * key, refuses another hub (XS_ECRYPTO), verifies the signature, then copies the body into a
 * new s_owned_t and points r just past the hub key in the copy. */
static xs_err s_open(const void *envelope, size_t len, const char *context, size_t context_len,
                     uint32_t elements, const uint8_t expected[XS_SIGN_PK_BYTES],
                     uint8_t hub_out[XS_SIGN_PK_BYTES], uint8_t hash[XS_HASH_BYTES],
                     s_owned_t **owned, xs_reader_t *r) {
    const uint8_t *body, *signature, *hub;
    size_t body_len;
    uint32_t n, hub_len;
    uint64_t format;
    int64_t other;
    *owned = NULL;
    if (len > XS_YEAR_MAX_BYTES)
        return XS_ETOOBIG;
    xs_err err =
        xs_codec_split_envelope(envelope, len, &body, &body_len, &signature, XS_SIGNATURE_BYTES);
    if (err != XS_OK)
        return err;
    xs_reader_init(r, body, body_len);
    if (xs_codec_get_array(r, &n) != XS_OK)
        return XS_EMALFORMED;
    if (xs_codec_get_uint(r, &format) != XS_OK)
        return xs_codec_get_int(r, &other) == XS_OK ? XS_EVERSION : XS_EMALFORMED;
    if (format != XS_YEAR_FORMAT)
        return XS_EVERSION;
    if (n != elements || xs_codec_get_bin(r, &hub, &hub_len) != XS_OK ||
        hub_len != XS_SIGN_PK_BYTES)
        return XS_EMALFORMED;
    if (expected && memcmp(hub, expected, XS_SIGN_PK_BYTES) != 0)
        return XS_ECRYPTO;
    if ((err = xs_envelope_verify(context, context_len, hub, body, body_len, signature)) != XS_OK)
        return err;
    s_owned_t *o = calloc(1, sizeof *o);
    if (!o || !(o->body = malloc(body_len ? body_len : 1))) {
        s_owned_free(o);
        return XS_ENOMEM;
    }
    memcpy(o->body, body, body_len);
    memcpy(hub_out, hub, XS_SIGN_PK_BYTES);
    xs_year_hash(body, body_len, hash);
    size_t offset = (size_t)(r->pos - body);
    xs_reader_init(r, o->body + offset, body_len - offset);
    *owned = o;
    return XS_OK;
}

xs_err xs_year_open(const void *envelope, size_t len, const uint8_t hub[XS_SIGN_PK_BYTES],
                    xs_year_doc_t *out) {
    s_owned_t *o;
    xs_reader_t r;
    memset(out, 0, sizeof *out);
    xs_err err = s_open(envelope, len, s_year_context, sizeof s_year_context, S_DOC_ELEMENTS, hub,
                        out->hub, out->hash, &o, &r);
    if (err != XS_OK)
        return err;
    out->owned = o;
    err = XS_EMALFORMED;
    if (!s_get_i32(&r, &out->year) || !s_year_ok(out->year) || !s_get_text(&r, &out->policy_id) ||
        !s_text_ok(out->policy_id, 1, XS_POLICY_ID_MAX) || !s_get_u32(&r, &out->policy_version) ||
        !s_get_hash(&r, out->policy_hash) || !s_get_u32(&r, &out->roster_version) ||
        !s_get_hash(&r, out->roster_hash) || xs_codec_get_int(&r, &out->closed_at) != XS_OK ||
        xs_codec_get_int(&r, &out->notice_until) != XS_OK || out->notice_until < out->closed_at ||
        !s_get_u32(&r, &out->record_count) || !s_get_hash(&r, out->records_hash))
        goto fail;
    if ((err = s_get_rows(&r, o, &out->row_count)) != XS_OK)
        goto fail;
    out->rows = o->rows;
    if (xs_reader_left(&r) == 0)
        return XS_OK;
    err = XS_EMALFORMED;
fail:
    xs_year_doc_free(out);
    return err;
}

void xs_year_doc_free(xs_year_doc_t *doc) {
    s_owned_free(doc->owned);
    memset(doc, 0, sizeof *doc);
}

xs_err xs_year_amend_open(const void *envelope, size_t len, const uint8_t hub[XS_SIGN_PK_BYTES],
                          xs_year_amend_t *out) {
    s_owned_t *o;
    xs_reader_t r;
    uint32_t n;
    memset(out, 0, sizeof *out);
    xs_err err = s_open(envelope, len, s_amend_context, sizeof s_amend_context, S_AMEND_ELEMENTS,
                        hub, out->hub, out->hash, &o, &r);
    if (err != XS_OK)
        return err;
    out->owned = o;
    err = XS_EMALFORMED;
    if (!s_get_i32(&r, &out->year) || !s_year_ok(out->year) || !s_get_hash(&r, out->closed_hash) ||
        !s_get_u32(&r, &out->number) || out->number < 1 ||
        xs_codec_get_int(&r, &out->issued_at) != XS_OK || xs_codec_get_array(&r, &n) != XS_OK ||
        n > XS_YEAR_ENTRIES_MAX)
        goto fail;
    /* n elements of at least one byte each are in the body: n is bounded by its length. */
    if (!(o->entries = malloc(n ? n * sizeof *o->entries : 1))) {
        err = XS_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        xs_year_entry_t *e = &o->entries[i];
        uint32_t u;
        if (!s_array(&r, S_ENTRY_ELEMENTS) || !s_get_hash(&r, e->origin) ||
            xs_codec_get_uint(&r, &e->seq) != XS_OK || !s_get_text(&r, &e->teacher_id) ||
            !s_get_u8(&r, UINT8_MAX, &e->category) || !s_get_i32(&r, &e->date) ||
            !s_get_u32(&r, &u))
            goto fail;
        e->frozen_seconds = u;
        if (!s_get_u32(&r, &e->seconds) || !s_get_text(&r, &e->note))
            goto fail;
    }
    out->entries = o->entries;
    out->entry_count = n;
    if (!s_entries_ok(out->entries, out->entry_count))
        goto fail;
    if ((err = s_get_rows(&r, o, &out->row_count)) != XS_OK)
        goto fail;
    out->rows = o->rows;
    if (xs_reader_left(&r) == 0)
        return XS_OK;
    err = XS_EMALFORMED;
fail:
    xs_year_amend_free(out);
    return err;
}

void xs_year_amend_free(xs_year_amend_t *amend) {
    s_owned_free(amend->owned);
    memset(amend, 0, sizeof *amend);
}

xs_err xs_year_final_open(const void *envelope, size_t len, const uint8_t hub[XS_SIGN_PK_BYTES],
                          xs_year_final_t *out) {
    s_owned_t *o;
    xs_reader_t r;
    uint32_t n;
    memset(out, 0, sizeof *out);
    xs_err err = s_open(envelope, len, s_final_context, sizeof s_final_context, S_FINAL_ELEMENTS,
                        hub, out->hub, out->hash, &o, &r);
    if (err != XS_OK)
        return err;
    out->owned = o;
    err = XS_EMALFORMED;
    if (!s_get_i32(&r, &out->year) || !s_year_ok(out->year) || !s_get_hash(&r, out->closed_hash) ||
        xs_codec_get_int(&r, &out->finalized_at) != XS_OK || xs_codec_get_array(&r, &n) != XS_OK ||
        n > XS_YEAR_OBJECTIONS_MAX)
        goto fail;
    if (!(o->objections = malloc(n ? n * sizeof *o->objections : 1))) {
        err = XS_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        xs_year_objection_t *b = &o->objections[i];
        if (!s_array(&r, S_OBJECTION_ELEMENTS) || !s_get_u32(&r, &b->number) ||
            !s_get_text(&r, &b->teacher_id) || xs_codec_get_int(&r, &b->filed_at) != XS_OK ||
            !s_get_text(&r, &b->note) || !s_get_text(&r, &b->decision) ||
            xs_codec_get_int(&r, &b->decided_at) != XS_OK)
            goto fail;
    }
    out->objections = o->objections;
    out->objection_count = n;
    if (s_objections_ok(out->objections, n) && xs_reader_left(&r) == 0)
        return XS_OK;
fail:
    xs_year_final_free(out);
    return err;
}

void xs_year_final_free(xs_year_final_t *final) {
    s_owned_free(final->owned);
    memset(final, 0, sizeof *final);
}

const xs_year_row_t *xs_year_find(const xs_year_row_t *rows, size_t count, const char *teacher_id,
                                  size_t len) {
    xs_str_t key = {teacher_id, (uint32_t)len};
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = s_str_cmp(rows[mid].teacher_id, key);
        if (c == 0)
            return &rows[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

xs_err xs_year_parse(const char *text, size_t len, int *year) {
    int first = 0, second = 0;
    if (len != 9 || text[4] != '-')
        return XS_EINVAL;
    for (size_t i = 0; i < 9; i++) {
        if (i == 4)
            continue;
        if (text[i] < '0' || text[i] > '9')
            return XS_EINVAL;
        if (i < 4)
            first = first * 10 + (text[i] - '0');
        else
            second = second * 10 + (text[i] - '0');
    }
    if (second != first + 1 || !s_year_ok(first))
        return XS_EINVAL;
    *year = first;
    return XS_OK;
}
