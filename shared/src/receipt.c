/* receipt: hub-signed receipts (protocol.md §4), receipts under a signed Merkle root (§4.2)
 * and policy envelopes (protocol.md §5, VIEW). As for batches, the signature is checked over
 * the raw body before the body is decoded; a leaf is decoded only once its path leads to the
 * signed root. */
#include "xs/receipt.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "xs/envelope.h"
#include "xs/text.h"

/* Signature contexts (protocol.md §1): the ASCII name and its 0x00 byte. */
static const char s_receipt_context[] = "xueshi-receipt-1";
static const char s_policy_context[] = "xueshi-policy-1";
static const char s_root_context[] = "xueshi-receipts-1";

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

/* 1 when what a leaf holds (protocol.md §4.2: teacher_id, periods, totals) is what §4 allows:
 * counts within the maximums, the teacher_id, periods (years ascending, then cycles
 * ascending) and totals in range. */
static int s_leaf_ok(const xs_receipt_t *r) {
    if (r->period_count > XS_RECEIPT_PERIODS_MAX || r->total_count > XS_RECEIPT_TOTALS_MAX ||
        !s_str_ok(r->teacher_id, XS_ID_MAX))
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

/* 1 when r holds what protocol.md §4 allows: its leaf's content and its policy_id. The one
 * check for both directions, so that whatever signs also opens. */
static int s_receipt_ok(const xs_receipt_t *r) {
    return s_leaf_ok(r) && s_str_ok(r->policy_id, XS_POLICY_ID_MAX);
}

/* The format a receipt is written in: the lowest that carries what it holds. */
static unsigned s_format_of(const xs_receipt_t *r) {
    for (uint32_t i = 0; i < r->period_count; i++)
        if (r->periods[i].closed)
            return XS_RECEIPT_FORMAT;
    return XS_RECEIPT_FORMAT_OPEN;
}

/* Appends r's periods (protocol.md §4 "period": of 5 elements, `closed` the fifth, when
 * with_closed; else of 4) and totals (of 9): what a body of format 2 or 3 and a leaf (§4.2)
 * share. */
static void s_put_periods_totals(xs_writer_t *w, const xs_receipt_t *r, int with_closed) {
    xs_codec_put_array(w, r->period_count);
    for (uint32_t i = 0; i < r->period_count; i++) {
        const xs_receipt_period_t *p = &r->periods[i];
        xs_codec_put_array(w, with_closed ? S_PERIOD_ELEMENTS_3 : S_PERIOD_ELEMENTS);
        xs_codec_put_uint(w, p->scope);
        xs_codec_put_int(w, p->year);
        xs_codec_put_uint(w, p->record_count);
        xs_codec_put_bin(w, p->records_hash, XS_HASH_BYTES);
        if (!with_closed)
            continue;
        if (p->closed)
            xs_codec_put_bin(w, p->closed_hash, XS_HASH_BYTES);
        else
            xs_codec_put_nil(w);
    }
    xs_codec_put_array(w, r->total_count);
    for (uint32_t i = 0; i < r->total_count; i++) {
        const xs_receipt_total_t *t = &r->totals[i];
        xs_codec_put_array(w, S_TOTAL_ELEMENTS);
        xs_codec_put_uint(w, t->scope);
        xs_codec_put_int(w, t->year);
        xs_codec_put_uint(w, t->semester);
        xs_codec_put_uint(w, t->bucket);
        xs_codec_put_uint(w, t->credited_seconds);
        xs_codec_put_uint(w, t->required_seconds);
        xs_codec_put_uint(w, t->met);
        xs_codec_put_uint(w, t->binding);
        xs_codec_put_uint(w, t->single_met);
    }
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
    s_put_periods_totals(&signed_bytes, r, format == XS_RECEIPT_FORMAT);
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

/* Reads a periods array (protocol.md §4 "period") into out: each of `elements` (4, or 5
 * with `closed`: then at least one period is closed), or for elements 0 (a leaf, §4.2) all of
 * 4 or all of 5 as the first says. 0 when malformed. */
static int s_get_periods(xs_reader_t *r, unsigned elements, xs_receipt_t *out) {
    uint64_t u;
    uint32_t n;
    if (xs_codec_get_array(r, &n) != XS_OK || n > XS_RECEIPT_PERIODS_MAX)
        return 0;
    out->period_count = n;
    int any_closed = 0;
    for (uint32_t i = 0; i < n; i++) {
        xs_receipt_period_t *p = &out->periods[i];
        uint32_t got;
        if (xs_codec_get_array(r, &got) != XS_OK)
            return 0;
        if (elements == 0)
            elements = got;
        if (got != elements || (got != S_PERIOD_ELEMENTS && got != S_PERIOD_ELEMENTS_3) ||
            !s_get_uint_max(r, XS_SCOPE_COUNT - 1, &u))
            return 0;
        p->scope = (uint8_t)u;
        if (!s_get_i32(r, &p->year) || !s_get_uint_max(r, UINT32_MAX, &u))
            return 0;
        p->record_count = (uint32_t)u;
        if (!s_get_hash(r, p->records_hash))
            return 0;
        p->closed = 0;
        memset(p->closed_hash, 0, XS_HASH_BYTES);
        if (elements != S_PERIOD_ELEMENTS_3)
            continue;
        if (xs_codec_peek(r) == XS_CODEC_NIL) {
            if (xs_codec_get_nil(r) != XS_OK)
                return 0;
        } else if (s_get_hash(r, p->closed_hash)) {
            p->closed = 1;
            any_closed = 1;
        } else {
            return 0;
        }
    }
    /* Periods of 5 without a closed one: the lowest form that carries them is of 4. */
    return elements != S_PERIOD_ELEMENTS_3 || any_closed;
}

/* Reads a totals array (protocol.md §4 "total") into out: of 7 elements in minutes for format
 * 1 (converted; a requirement counts as binding), else of 9. 0 when malformed. */
static int s_get_totals(xs_reader_t *r, unsigned format, xs_receipt_t *out) {
    uint32_t n;
    if (xs_codec_get_array(r, &n) != XS_OK || n > XS_RECEIPT_TOTALS_MAX)
        return 0;
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
            return 0;
        if (format == 1)
            binding = required != 0;
        else if (!s_get_uint_max(r, 1, &binding) || !s_get_uint_max(r, XS_MET_YES, &single))
            return 0;
        t->scope = (uint8_t)scope;
        t->semester = (uint8_t)semester;
        t->bucket = (uint8_t)bucket;
        t->credited_seconds = credited * unit;
        t->required_seconds = (uint32_t)(required * unit);
        t->met = (uint8_t)met;
        t->binding = (uint8_t)binding;
        t->single_met = (uint8_t)single;
    }
    return 1;
}

/* Decodes the body after its hub key: elements 2..9. A format-1 body's totals are in minutes
 * and are converted; their requirements count as binding. A format-3 body's periods carry
 * `closed`, and at least one is closed (else it would be format 2). */
static xs_err s_decode_rest(xs_reader_t *r, unsigned format, xs_receipt_t *out) {
    uint64_t u;
    if (!s_get_text(r, &out->teacher_id) || !s_get_text(r, &out->policy_id) ||
        !s_get_uint_max(r, UINT32_MAX, &u))
        return XS_EMALFORMED;
    out->policy_version = (uint32_t)u;
    if (!s_get_hash(r, out->policy_hash) || xs_codec_get_uint(r, &out->generation) != XS_OK ||
        xs_codec_get_int(r, &out->issued_at) != XS_OK ||
        !s_get_periods(r, format == XS_RECEIPT_FORMAT ? S_PERIOD_ELEMENTS_3 : S_PERIOD_ELEMENTS,
                       out) ||
        !s_get_totals(r, format, out) || xs_reader_left(r) != 0 || !s_receipt_ok(out))
        return XS_EMALFORMED;
    return XS_OK;
}

/* ---- receipts under a signed Merkle root (protocol.md §4.2) ---- */

/* Elements of a root body, of a leaf and of a standalone receipt envelope. */
#define S_ROOT_ELEMENTS 9
#define S_LEAF_ELEMENTS 3
#define S_STANDALONE_ELEMENTS 5
/* Largest root body: every element at its widest is 166 bytes. */
#define S_ROOT_BODY_MAX 192
/* Largest root envelope: the body, the signature and their framing. */
#define S_ROOT_ENVELOPE_MAX (S_ROOT_BODY_MAX + 80)
/* The first byte hashed with a leaf and with an inner node (RFC 6962 §2.1): no leaf's hash
 * is ever an inner node's. */
#define S_LEAF_PREFIX 0x00
#define S_NODE_PREFIX 0x01

_Static_assert(1 + 3 + S_ROOT_BODY_MAX + 2 + XS_SIGNATURE_BYTES + 3 + XS_RECEIPT_LEAF_MAX + 5 + 1 +
                       XS_RECEIPT_PATH_MAX * (2 + XS_HASH_BYTES) <=
                   XS_RECEIPT_MAX_BYTES,
               "the largest standalone receipt fits a receipt's bound");
_Static_assert(XS_RECEIPT_LEAF_MAX <= UINT16_MAX, "a leaf's length fits a bin 16");
_Static_assert((1L << XS_RECEIPT_PATH_MAX) == XS_RECEIPT_TREE_MAX,
               "a path of the fullest tree has XS_RECEIPT_PATH_MAX hashes");

/* A root body (protocol.md §4.2) as read; hub and policy_id borrow the body. */
typedef struct s_root {
    const uint8_t *hub; /* XS_SIGN_PK_BYTES */
    xs_str_t policy_id;
    uint32_t policy_version;
    uint8_t policy_hash[XS_HASH_BYTES];
    uint64_t generation;
    int64_t issued_at;
    uint32_t leaf_count; /* 1..XS_RECEIPT_TREE_MAX */
    uint8_t root[XS_HASH_BYTES];
} s_root_t;

/* Reads what a root body says before its signature is checked: the format and the hub key.
 * XS_EVERSION (an integer format other than 4), XS_EMALFORMED. */
static xs_err s_root_head(xs_reader_t *r, const uint8_t **hub) {
    uint32_t elements, hub_len;
    uint64_t format;
    int64_t other_format;
    if (xs_codec_get_array(r, &elements) != XS_OK)
        return XS_EMALFORMED;
    if (xs_codec_get_uint(r, &format) != XS_OK)
        return xs_codec_get_int(r, &other_format) == XS_OK ? XS_EVERSION : XS_EMALFORMED;
    if (format != XS_RECEIPT_FORMAT_ROOT)
        return XS_EVERSION;
    if (elements != S_ROOT_ELEMENTS || xs_codec_get_bin(r, hub, &hub_len) != XS_OK ||
        hub_len != XS_SIGN_PK_BYTES)
        return XS_EMALFORMED;
    return XS_OK;
}

/* Decodes the rest of a root body, elements 2..8, strictly into *out. XS_EMALFORMED. */
static xs_err s_root_rest(xs_reader_t *r, s_root_t *out) {
    uint64_t u;
    if (!s_get_text(r, &out->policy_id) || !s_str_ok(out->policy_id, XS_POLICY_ID_MAX) ||
        !s_get_uint_max(r, UINT32_MAX, &u))
        return XS_EMALFORMED;
    out->policy_version = (uint32_t)u;
    if (!s_get_hash(r, out->policy_hash) || xs_codec_get_uint(r, &out->generation) != XS_OK ||
        xs_codec_get_int(r, &out->issued_at) != XS_OK ||
        !s_get_uint_max(r, XS_RECEIPT_TREE_MAX, &u) || u == 0)
        return XS_EMALFORMED;
    out->leaf_count = (uint32_t)u;
    if (!s_get_hash(r, out->root) || xs_reader_left(r) != 0)
        return XS_EMALFORMED;
    return XS_OK;
}

/* Opens a root body (body_len bytes) and its signature: reads the hub key, refuses it when
 * expected_hub is given and differs, verifies the signature, and only then decodes the rest
 * into *out. XS_EMALFORMED, XS_EVERSION, XS_ECRYPTO, XS_ENOMEM. */
static xs_err s_root_open(const uint8_t *body, size_t body_len, const uint8_t *signature,
                          const uint8_t *expected_hub, s_root_t *out) {
    xs_reader_t r;
    if (body_len > S_ROOT_BODY_MAX)
        return XS_EMALFORMED;
    xs_reader_init(&r, body, body_len);
    xs_err err = s_root_head(&r, &out->hub);
    if (err != XS_OK)
        return err;
    if (expected_hub && memcmp(out->hub, expected_hub, XS_SIGN_PK_BYTES) != 0)
        return XS_ECRYPTO;
    err = xs_envelope_verify(s_root_context, sizeof s_root_context, out->hub, body, body_len,
                             signature);
    if (err != XS_OK)
        return err;
    return s_root_rest(&r, out);
}

/* Decodes a leaf (protocol.md §4.2) strictly into out's teacher_id (borrowing leaf), periods
 * and totals. XS_EMALFORMED. */
static xs_err s_leaf_decode(const uint8_t *leaf, size_t len, xs_receipt_t *out) {
    xs_reader_t r;
    uint32_t elements;
    xs_reader_init(&r, leaf, len);
    if (xs_codec_get_array(&r, &elements) != XS_OK || elements != S_LEAF_ELEMENTS ||
        !s_get_text(&r, &out->teacher_id) || !s_get_periods(&r, 0, out) ||
        !s_get_totals(&r, XS_RECEIPT_FORMAT_ROOT, out) || xs_reader_left(&r) != 0 ||
        !s_leaf_ok(out))
        return XS_EMALFORMED;
    return XS_OK;
}

xs_err xs_receipt_leaf_encode(xs_writer_t *leaf, const xs_receipt_t *r) {
    xs_writer_t bytes;
    if (!s_leaf_ok(r))
        return XS_EINVAL;
    xs_writer_init(&bytes, XS_RECEIPT_LEAF_MAX);
    xs_codec_put_array(&bytes, S_LEAF_ELEMENTS);
    xs_codec_put_str(&bytes, r->teacher_id.ptr, r->teacher_id.len);
    s_put_periods_totals(&bytes, r, s_format_of(r) == XS_RECEIPT_FORMAT);
    xs_err err = xs_writer_err(&bytes);
    if (err == XS_OK) {
        xs_writer_raw(leaf, bytes.data, bytes.len);
        err = xs_writer_err(leaf);
    }
    xs_writer_free(&bytes);
    return err;
}

void xs_receipt_leaf_hash(const void *leaf, size_t len, uint8_t out[XS_HASH_BYTES]) {
    /* BLAKE2b is hashed in one call here: the prefix and the leaf are copied together. */
    uint8_t prefixed[1 + XS_RECEIPT_LEAF_MAX];
    assert(len <= XS_RECEIPT_LEAF_MAX);
    if (len > XS_RECEIPT_LEAF_MAX) {
        memset(out, 0, XS_HASH_BYTES);
        return;
    }
    prefixed[0] = S_LEAF_PREFIX;
    if (len)
        memcpy(prefixed + 1, leaf, len);
    xs_identity_hash(prefixed, 1 + len, out);
}

/* An inner node's hash: BLAKE2b-256 of 0x01 || left || right. out may be left or right. */
static void s_node_hash(const uint8_t left[XS_HASH_BYTES], const uint8_t right[XS_HASH_BYTES],
                        uint8_t out[XS_HASH_BYTES]) {
    uint8_t bytes[1 + 2 * XS_HASH_BYTES];
    bytes[0] = S_NODE_PREFIX;
    memcpy(bytes + 1, left, XS_HASH_BYTES);
    memcpy(bytes + 1 + XS_HASH_BYTES, right, XS_HASH_BYTES);
    xs_identity_hash(bytes, sizeof bytes, out);
}

/* A Merkle tree over n leaf hashes with all its levels (protocol.md §4.2): level 0 is the
 * leaves; level l + 1 hashes level l's nodes in pairs, left to right, and carries an odd last
 * node up unchanged. That builds RFC 6962's MTH (split at the largest power of two below n)
 * from the bottom, and keeps every node a path needs. */
typedef struct s_tree {
    const uint8_t (*level[XS_RECEIPT_PATH_MAX + 1])[XS_HASH_BYTES]; /* each level's nodes */
    size_t width[XS_RECEIPT_PATH_MAX + 1];                          /* nodes of each level */
    unsigned height;                 /* levels above the leaves: the root is level[height][0] */
    uint8_t (*above)[XS_HASH_BYTES]; /* levels 1..height, malloc'd; NULL for one leaf */
} s_tree_t;

/* Builds t over n leaf hashes (borrowed: they must outlive t); free t.above after.
 * XS_EINVAL (n 0 or over XS_RECEIPT_TREE_MAX), XS_ENOMEM. */
static xs_err s_tree_build(s_tree_t *t, const uint8_t (*leaves)[XS_HASH_BYTES], size_t n) {
    memset(t, 0, sizeof *t);
    if (n == 0 || n > XS_RECEIPT_TREE_MAX)
        return XS_EINVAL;
    t->level[0] = leaves;
    t->width[0] = n;
    if (n == 1)
        return XS_OK;
    /* The levels above hold ceil(n/2) + ceil(n/4) + ... < n + height nodes. */
    t->above = malloc((n + XS_RECEIPT_PATH_MAX) * XS_HASH_BYTES);
    if (!t->above)
        return XS_ENOMEM;
    uint8_t(*next)[XS_HASH_BYTES] = t->above;
    while (t->width[t->height] > 1) {
        const uint8_t(*below)[XS_HASH_BYTES] = t->level[t->height];
        size_t width = t->width[t->height];
        for (size_t i = 0; i + 1 < width; i += 2)
            s_node_hash(below[i], below[i + 1], next[i / 2]);
        if (width % 2)
            memcpy(next[width / 2], below[width - 1], XS_HASH_BYTES);
        t->height++;
        t->level[t->height] = (const uint8_t(*)[XS_HASH_BYTES])next;
        t->width[t->height] = (width + 1) / 2;
        next += (width + 1) / 2;
    }
    return XS_OK;
}

/* Writes the audit path of leaf index (< t's leaves) into path, from the leaf's sibling up:
 * the sibling at each level where there is one. Returns its length. */
static size_t s_tree_path(const s_tree_t *t, size_t index, uint8_t (*path)[XS_HASH_BYTES]) {
    size_t len = 0;
    for (unsigned l = 0; l < t->height; l++) {
        size_t sibling = (index >> l) ^ 1;
        if (sibling < t->width[l])
            memcpy(path[len++], t->level[l][sibling], XS_HASH_BYTES);
    }
    return len;
}

/* The length of leaf index's audit path among n leaves: the levels where its ancestor has a
 * sibling. */
static size_t s_path_len(size_t index, size_t n) {
    size_t len = 0;
    for (; n > 1; index >>= 1, n = (n + 1) / 2)
        len += (index ^ 1) < n;
    return len;
}

/* Folds leaf_hash up its audit path as RFC 9162 §2.1.3.2 verifies an inclusion proof, into
 * root. 0 when the path cannot be leaf index's among n leaves (too short or too long). */
static int s_fold(const uint8_t leaf_hash[XS_HASH_BYTES], size_t index, size_t n,
                  const uint8_t (*path)[XS_HASH_BYTES], size_t path_len,
                  uint8_t root[XS_HASH_BYTES]) {
    if (index >= n)
        return 0;
    size_t fn = index, sn = n - 1;
    memcpy(root, leaf_hash, XS_HASH_BYTES);
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0)
            return 0;
        if ((fn & 1) || fn == sn) {
            /* A left sibling; or no right one at the levels up to the next left one. */
            s_node_hash(path[i], root, root);
            while (fn != 0 && (fn & 1) == 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            s_node_hash(root, path[i], root);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0;
}

xs_err xs_receipt_tree_root(const uint8_t (*leaf_hashes)[XS_HASH_BYTES], size_t n,
                            uint8_t root[XS_HASH_BYTES]) {
    s_tree_t t;
    xs_err err = s_tree_build(&t, leaf_hashes, n);
    if (err == XS_OK)
        memcpy(root, t.level[t.height][0], XS_HASH_BYTES);
    free(t.above);
    return err;
}

xs_err xs_receipt_tree_path(const uint8_t (*leaf_hashes)[XS_HASH_BYTES], size_t n, size_t index,
                            uint8_t (*path)[XS_HASH_BYTES], size_t *path_len) {
    s_tree_t t;
    *path_len = 0;
    if (index >= n)
        return XS_EINVAL;
    xs_err err = s_tree_build(&t, leaf_hashes, n);
    if (err == XS_OK)
        *path_len = s_tree_path(&t, index, path);
    free(t.above);
    return err;
}

xs_err xs_receipt_root_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                            const xs_receipt_t *head, size_t leaf_count,
                            const uint8_t root[XS_HASH_BYTES]) {
    xs_writer_t signed_bytes;
    if (leaf_count == 0 || leaf_count > XS_RECEIPT_TREE_MAX ||
        !s_str_ok(head->policy_id, XS_POLICY_ID_MAX))
        return XS_EINVAL;
    xs_writer_init(&signed_bytes, sizeof s_root_context + S_ROOT_BODY_MAX);
    xs_writer_raw(&signed_bytes, s_root_context, sizeof s_root_context);
    xs_codec_put_array(&signed_bytes, S_ROOT_ELEMENTS);
    xs_codec_put_uint(&signed_bytes, XS_RECEIPT_FORMAT_ROOT);
    xs_codec_put_bin(&signed_bytes, xs_identity_public(hub)->sign, XS_SIGN_PK_BYTES);
    xs_codec_put_str(&signed_bytes, head->policy_id.ptr, head->policy_id.len);
    xs_codec_put_uint(&signed_bytes, head->policy_version);
    xs_codec_put_bin(&signed_bytes, head->policy_hash, XS_HASH_BYTES);
    xs_codec_put_uint(&signed_bytes, head->generation);
    xs_codec_put_int(&signed_bytes, head->issued_at);
    xs_codec_put_uint(&signed_bytes, leaf_count);
    xs_codec_put_bin(&signed_bytes, root, XS_HASH_BYTES);
    xs_err err = xs_writer_err(&signed_bytes);
    if (err == XS_OK)
        err = xs_envelope_seal(envelope, hub, &signed_bytes, sizeof s_root_context,
                               S_ROOT_ENVELOPE_MAX);
    xs_writer_free(&signed_bytes);
    return err;
}

/* Appends the standalone receipt envelope [body, signature, leaf, index, path] to out. */
static void s_put_standalone(xs_writer_t *out, const uint8_t *body, size_t body_len,
                             const uint8_t *signature, const uint8_t *leaf, size_t leaf_len,
                             size_t index, const uint8_t (*path)[XS_HASH_BYTES], size_t path_len) {
    xs_codec_put_array(out, S_STANDALONE_ELEMENTS);
    xs_codec_put_bin(out, body, body_len);
    xs_codec_put_bin(out, signature, XS_SIGNATURE_BYTES);
    xs_codec_put_bin(out, leaf, leaf_len);
    xs_codec_put_uint(out, index);
    xs_codec_put_array(out, (uint32_t)path_len);
    for (size_t i = 0; i < path_len; i++)
        xs_codec_put_bin(out, path[i], XS_HASH_BYTES);
}

/* Splits a root envelope and decodes its body, unverified, into *root. XS_EMALFORMED. */
static xs_err s_root_split(const void *root_env, size_t root_len, const uint8_t **body,
                           size_t *body_len, const uint8_t **signature, s_root_t *root) {
    xs_reader_t r;
    if (root_len > S_ROOT_ENVELOPE_MAX ||
        xs_codec_split_envelope(root_env, root_len, body, body_len, signature,
                                XS_SIGNATURE_BYTES) != XS_OK ||
        *body_len > S_ROOT_BODY_MAX)
        return XS_EMALFORMED;
    xs_reader_init(&r, *body, *body_len);
    if (s_root_head(&r, &root->hub) != XS_OK || s_root_rest(&r, root) != XS_OK)
        return XS_EMALFORMED;
    return XS_OK;
}

xs_err xs_receipt_standalone(xs_writer_t *out, const void *root_env, size_t root_len,
                             const void *leaf, size_t leaf_len, size_t index,
                             const uint8_t (*path)[XS_HASH_BYTES], size_t path_len) {
    const uint8_t *body, *signature;
    size_t body_len;
    s_root_t root;
    xs_err err = s_root_split(root_env, root_len, &body, &body_len, &signature, &root);
    if (err != XS_OK)
        return err;
    if (leaf_len > XS_RECEIPT_LEAF_MAX)
        return XS_ETOOBIG;
    if (leaf_len == 0 || index >= root.leaf_count || path_len != s_path_len(index, root.leaf_count))
        return XS_EINVAL;
    s_put_standalone(out, body, body_len, signature, leaf, leaf_len, index, path, path_len);
    return xs_writer_err(out);
}

/* Opens a standalone receipt envelope (protocol.md §4.2) of len bytes, at most
 * XS_RECEIPT_MAX_BYTES, as xs_receipt_open says. */
/* Fills a receipt's fields that come from its root. */
static void s_root_fill(const s_root_t *root, xs_receipt_t *out) {
    memcpy(out->hub, root->hub, XS_SIGN_PK_BYTES);
    out->policy_id = root->policy_id;
    out->policy_version = root->policy_version;
    memcpy(out->policy_hash, root->policy_hash, XS_HASH_BYTES);
    out->generation = root->generation;
    out->issued_at = root->issued_at;
}

static xs_err s_open_standalone(const uint8_t *envelope, size_t len, const uint8_t *expected_hub,
                                xs_receipt_t *out) {
    const uint8_t *body, *signature, *leaf;
    uint32_t elements, body_len, signature_len, leaf_len, path_len;
    uint64_t index;
    uint8_t path[XS_RECEIPT_PATH_MAX][XS_HASH_BYTES], leaf_hash[XS_HASH_BYTES];
    uint8_t folded[XS_HASH_BYTES];
    xs_reader_t r;
    s_root_t root;

    /* The whole envelope's shape first, then the root's signature, then the path. */
    xs_reader_init(&r, envelope, len);
    if (xs_codec_get_array(&r, &elements) != XS_OK || elements != S_STANDALONE_ELEMENTS ||
        xs_codec_get_bin(&r, &body, &body_len) != XS_OK ||
        xs_codec_get_bin(&r, &signature, &signature_len) != XS_OK ||
        signature_len != XS_SIGNATURE_BYTES || xs_codec_get_bin(&r, &leaf, &leaf_len) != XS_OK ||
        xs_codec_get_uint(&r, &index) != XS_OK || xs_codec_get_array(&r, &path_len) != XS_OK ||
        path_len > XS_RECEIPT_PATH_MAX)
        return XS_EMALFORMED;
    for (uint32_t i = 0; i < path_len; i++)
        if (!s_get_hash(&r, path[i]))
            return XS_EMALFORMED;
    if (xs_reader_left(&r) != 0 || leaf_len == 0)
        return XS_EMALFORMED;
    if (leaf_len > XS_RECEIPT_LEAF_MAX)
        return XS_ETOOBIG;
    xs_err err = s_root_open(body, body_len, signature, expected_hub, &root);
    if (err != XS_OK)
        return err;
    if (index >= root.leaf_count || path_len != s_path_len((size_t)index, root.leaf_count))
        return XS_EMALFORMED;
    xs_receipt_leaf_hash(leaf, leaf_len, leaf_hash);
    if (!s_fold(leaf_hash, (size_t)index, root.leaf_count, (const uint8_t(*)[XS_HASH_BYTES])path,
                path_len, folded) ||
        memcmp(folded, root.root, XS_HASH_BYTES) != 0)
        return XS_ECRYPTO;
    err = s_leaf_decode(leaf, leaf_len, out);
    if (err == XS_OK)
        s_root_fill(&root, out);
    return err;
}

xs_err xs_receipt_page_open(const void *root_env, size_t root_len, const xs_proto_blob_t *leaves,
                            size_t n, const uint8_t hub[XS_SIGN_PK_BYTES], xs_receipt_leaf_fn fn,
                            void *ctx) {
    const uint8_t *body, *signature;
    size_t body_len;
    s_root_t root;
    s_tree_t tree = {0};
    uint8_t(*hashes)[XS_HASH_BYTES] = NULL;
    uint8_t path[XS_RECEIPT_PATH_MAX][XS_HASH_BYTES];
    xs_receipt_t *scratch = NULL;
    xs_writer_t receipt;
    xs_err err;

    if (!hub || !fn)
        return XS_EINVAL;
    if (root_len > S_ROOT_ENVELOPE_MAX)
        return XS_ETOOBIG;
    err = xs_codec_split_envelope(root_env, root_len, &body, &body_len, &signature,
                                  XS_SIGNATURE_BYTES);
    if (err == XS_OK)
        err = s_root_open(body, body_len, signature, hub, &root);
    if (err != XS_OK)
        return err;
    if (n != root.leaf_count)
        return XS_EMALFORMED;
    for (size_t i = 0; i < n; i++) {
        if (leaves[i].len > XS_RECEIPT_LEAF_MAX)
            return XS_ETOOBIG;
        if (!leaves[i].ptr || leaves[i].len == 0)
            return XS_EMALFORMED;
    }
    xs_writer_init(&receipt, XS_RECEIPT_MAX_BYTES);
    hashes = malloc(n * XS_HASH_BYTES);
    scratch = malloc(sizeof *scratch);
    if (!hashes || !scratch) {
        err = XS_ENOMEM;
        goto out;
    }
    /* The whole page first: its leaves make the signed root, and every one decodes. */
    for (size_t i = 0; i < n; i++)
        xs_receipt_leaf_hash(leaves[i].ptr, leaves[i].len, hashes[i]);
    err = s_tree_build(&tree, (const uint8_t(*)[XS_HASH_BYTES])hashes, n);
    if (err != XS_OK)
        goto out;
    if (memcmp(tree.level[tree.height][0], root.root, XS_HASH_BYTES) != 0) {
        err = XS_ECRYPTO;
        goto out;
    }
    for (size_t i = 0; i < n && err == XS_OK; i++)
        err = s_leaf_decode(leaves[i].ptr, leaves[i].len, scratch);
    /* Then each leaf's standalone receipt, in one writer. */
    for (size_t i = 0; i < n && err == XS_OK; i++) {
        size_t path_len = s_tree_path(&tree, i, path);
        xs_writer_reset(&receipt);
        s_put_standalone(&receipt, body, body_len, signature, leaves[i].ptr, leaves[i].len, i,
                         (const uint8_t(*)[XS_HASH_BYTES])path, path_len);
        err = xs_writer_err(&receipt);
        /* The leaf decoded above: again into the scratch the callback reads. */
        if (err == XS_OK && (err = s_leaf_decode(leaves[i].ptr, leaves[i].len, scratch)) == XS_OK) {
            s_root_fill(&root, scratch);
            err = fn(ctx, i, receipt.data, receipt.len, scratch);
        }
    }
out:
    free(tree.above);
    free(hashes);
    free(scratch);
    xs_writer_free(&receipt);
    return err;
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
    /* A standalone receipt (§4.2) is an array of 5; a signed body's envelope of 2 (§4). */
    xs_reader_init(&r, envelope, len);
    if (xs_codec_get_array(&r, &elements) == XS_OK && elements == S_STANDALONE_ELEMENTS)
        return s_open_standalone(envelope, len, expected_hub, out);
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
