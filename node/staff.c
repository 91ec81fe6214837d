/* staff: the roster parts a node holds (protocol.md §10), and the roster's rules for a record.
 *
 * NODE_T_STAFF: origin (32) → the newest part envelope the hub signed for that origin, verbatim.
 * The node's own origin holds its own part; on a relay, each satellite's origin holds that
 * satellite's, which the relay hands on and never reads. A part is stored only when it opens
 * against the county key for its origin, and never over a newer one (node_staff_put). */
#include "staff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/proto.h"

_Static_assert(XS_STAFF_PART_BYTES <= XS_PROTO_STAFF_MAX, "a part fits a STAFF frame");

xs_err node_staff_get(xs_txn_t *txn, const uint8_t origin[XS_SIGN_PK_BYTES], xs_bytes_t *part) {
    return xs_store_get(txn, NODE_T_STAFF, origin, XS_SIGN_PK_BYTES, part);
}

xs_err node_staff_hash(const void *part, size_t len, uint8_t hash[XS_HASH_BYTES]) {
    const uint8_t *body, *signature;
    size_t body_len;
    xs_err err =
        xs_codec_split_envelope(part, len, &body, &body_len, &signature, XS_SIGNATURE_BYTES);
    if (err == XS_OK)
        xs_identity_hash(body, body_len, hash);
    return err;
}

xs_err node_staff_have(xs_txn_t *txn, const uint8_t origin[XS_SIGN_PK_BYTES],
                       uint8_t hash[XS_HASH_BYTES], int *has) {
    xs_bytes_t part;
    *has = 0;
    memset(hash, 0, XS_HASH_BYTES);
    xs_err err = node_staff_get(txn, origin, &part);
    if (err == XS_ENOTFOUND)
        return XS_OK;
    if (err == XS_OK)
        *has = node_staff_hash(part.ptr, part.len, hash) == XS_OK;
    return err;
}

/* Whether a part of (version, issued_at) is older than one of (held_version, held_at). */
static int s_older(const xs_staff_t *part, const xs_staff_t *held) {
    if (part->version != held->version)
        return part->version < held->version;
    return part->issued_at < held->issued_at;
}

xs_err node_staff_put(xs_txn_t *txn, const uint8_t county[XS_SIGN_PK_BYTES],
                      const uint8_t origin[XS_SIGN_PK_BYTES], const void *part, size_t len,
                      int *stored) {
    xs_staff_t fresh = {0}, held = {0};
    xs_bytes_t old;
    *stored = 0;
    xs_err err = xs_staff_part_open(part, len, county, origin, &fresh);
    if (err != XS_OK)
        return err;
    err = node_staff_get(txn, origin, &old);
    if (err == XS_OK && old.len == len && memcmp(old.ptr, part, len) == 0)
        goto out; /* held already: nothing to write */
    /* A held part that no longer opens (damaged, or of another county key) gives way. */
    if (err == XS_OK && xs_staff_part_open(old.ptr, old.len, county, origin, &held) == XS_OK &&
        s_older(&fresh, &held)) {
        err = XS_OK;
        goto out;
    }
    if (err == XS_OK || err == XS_ENOTFOUND)
        err = xs_store_put(txn, NODE_T_STAFF, origin, XS_SIGN_PK_BYTES, part, len, 0);
    *stored = err == XS_OK;
out:
    xs_staff_free(&fresh);
    xs_staff_free(&held);
    return err;
}

xs_err node_staff_each(xs_txn_t *txn, node_staff_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_err err = xs_store_cursor_open(txn, NODE_T_STAFF, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v))
        if ((err = fn(ctx, &k, &v)) != XS_OK)
            break;
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* The origins a prune deletes, gathered before deleting (a cursor's walk must not see its
 * table change under it). */
typedef struct s_prune {
    const uint8_t *self;
    const uint8_t (*keep)[XS_SIGN_PK_BYTES];
    size_t count;
    uint8_t (*drop)[XS_SIGN_PK_BYTES]; /* grown as needed */
    size_t ndrop, cap;
    int damaged; /* 1: a key of another length was seen (deleted too) */
} s_prune_t;

static xs_err s_prune_one(void *ctx, const xs_bytes_t *key, const xs_bytes_t *part) {
    s_prune_t *p = ctx;
    (void)part;
    if (key->len != XS_SIGN_PK_BYTES) {
        p->damaged = 1;
        return XS_OK;
    }
    if (memcmp(key->ptr, p->self, XS_SIGN_PK_BYTES) == 0)
        return XS_OK;
    for (size_t i = 0; i < p->count; i++)
        if (memcmp(key->ptr, p->keep[i], XS_SIGN_PK_BYTES) == 0)
            return XS_OK;
    if (p->ndrop == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        uint8_t(*grown)[XS_SIGN_PK_BYTES] = realloc(p->drop, cap * sizeof *grown);
        if (!grown)
            return XS_ENOMEM;
        p->drop = grown;
        p->cap = cap;
    }
    memcpy(p->drop[p->ndrop++], key->ptr, XS_SIGN_PK_BYTES);
    return XS_OK;
}

xs_err node_staff_prune(xs_txn_t *txn, const uint8_t self[XS_SIGN_PK_BYTES],
                        const uint8_t (*keep)[XS_SIGN_PK_BYTES], size_t count, uint64_t *dropped) {
    s_prune_t p = {self, keep, count, NULL, 0, 0, 0};
    xs_err err = node_staff_each(txn, s_prune_one, &p);
    for (size_t i = 0; err == XS_OK && i < p.ndrop; i++)
        err = xs_store_del(txn, NODE_T_STAFF, p.drop[i], XS_SIGN_PK_BYTES);
    if (dropped)
        *dropped = err == XS_OK ? p.ndrop : 0;
    free(p.drop);
    return err;
}

xs_err node_staff_open(xs_txn_t *txn, const uint8_t origin[XS_SIGN_PK_BYTES], xs_staff_t *out) {
    node_county_keys_t county;
    xs_bytes_t part;
    memset(out, 0, sizeof *out);
    xs_err err = node_staff_get(txn, origin, &part);
    if (err == XS_OK)
        err = node_county_keys(txn, &county);
    /* A part signed before a rotation stays good until the hub's roster changes. */
    if (err == XS_OK)
        err = XS_ECRYPTO;
    const uint8_t *key;
    for (size_t i = 0; err == XS_ECRYPTO && (key = node_county_key_at(&county, i)); i++)
        err = xs_staff_part_open(part.ptr, part.len, key, origin, out);
    return err;
}

xs_err node_staff_load(node_t *node, xs_staff_t *out) {
    xs_identity_t *id = NULL;
    xs_txn_t *txn = NULL;
    memset(out, 0, sizeof *out);
    xs_err err = xs_identity_load(&id, node->dir, "node");
    if (err != XS_OK) {
        xs_log_err(err, "节点密钥 %s/node.secret (node key)", node->dir);
        return err;
    }
    err = xs_store_read(node->store, &txn);
    if (err == XS_OK)
        err = node_staff_open(txn, xs_identity_public(id)->sign, out);
    xs_store_end(&txn);
    xs_identity_destroy(&id);
    if (err != XS_OK && err != XS_ENOTFOUND)
        xs_log_err(err, "本节点的教师花名册无法读取，下次同步会重新取得 (the node's part of the "
                        "teacher roster cannot be read; the next sync fetches it again)");
    return err;
}

const char *node_staff_name(const xs_staff_t *staff, const char *teacher_id, size_t len) {
    const xs_staff_entry_t *e =
        staff && staff->count ? xs_staff_find(staff, teacher_id, len) : NULL;
    return e ? e->name : "";
}

int node_staff_why(const xs_staff_t *staff, const xs_record_t *rec, node_refusal_t *out) {
    if (!staff || staff->version == 0 || !((rec->present >> XS_F_TEACHER_ID) & 1u))
        return 1;
    const char *id = rec->teacher_id.ptr;
    int id_len = (int)rec->teacher_id.len;
    const xs_staff_entry_t *e = xs_staff_find(staff, id, rec->teacher_id.len);
    if (e && strlen(e->school_id) == rec->school_id.len &&
        memcmp(e->school_id, rec->school_id.ptr, rec->school_id.len) == 0)
        return 1;
    if (!out)
        return 0;
    out->field = XS_F_TEACHER_ID;
    out->why = XS_REASON_OUT_OF_SCOPE;
    if (e) {
        snprintf(out->text, sizeof out->text,
                 "教师 %.*s %s 在花名册中属于学校 %s，不是 %.*s (teacher %.*s belongs to school %s "
                 "in the county's roster, not %.*s)",
                 id_len, id, e->name, e->school_id, (int)rec->school_id.len, rec->school_id.ptr,
                 id_len, id, e->school_id, (int)rec->school_id.len, rec->school_id.ptr);
        return 0;
    }
    const xs_staff_entry_t *near[NODE_STAFF_NEAREST];
    size_t n = xs_staff_nearest(staff, id, rec->teacher_id.len, near, NODE_STAFF_NEAREST);
    char zh[NODE_STAFF_NEAREST * (XS_ID_MAX + XS_STAFF_NAME_MAX + 4) + 1] = "";
    char en[NODE_STAFF_NEAREST * (XS_ID_MAX + 2) + 1] = "";
    size_t zl = 0, el = 0;
    for (size_t i = 0; i < n; i++) {
        zl += (size_t)snprintf(zh + zl, sizeof zh - zl, "%s%s %s", i ? ", " : "",
                               near[i]->teacher_id, near[i]->name);
        el += (size_t)snprintf(en + el, sizeof en - el, "%s%s", i ? ", " : "", near[i]->teacher_id);
    }
    if (n > 0)
        snprintf(out->text, sizeof out->text,
                 "教师 %.*s 不在花名册中; 是否是: %s? (teacher %.*s is not in the county's roster; "
                 "did you mean %s?)",
                 id_len, id, zh, id_len, id, en);
    else
        snprintf(out->text, sizeof out->text,
                 "教师 %.*s 不在花名册中 (teacher %.*s is not in the county's roster)", id_len, id,
                 id_len, id);
    return 0;
}

int node_staff_admits(const xs_staff_t *staff, const xs_record_t *rec, long line) {
    node_refusal_t out;
    char where[64] = "";
    if (node_staff_why(staff, rec, &out))
        return 1;
    if (line > 0)
        snprintf(where, sizeof where, "第 %ld 行 (line %ld): ", line, line);
    fprintf(stderr, "xueshi-node: %s拒绝登记 (refused): %s\n", where, out.text);
    return 0;
}
