/* staff: the owner of HUB_T_STAFF and HUB_META_STAFF.
 *
 * Layout: HUB_T_STAFF holds version (4, big-endian) → xs_staff_encode of that version, every
 * version kept (schema/roster.md §4); HUB_META_STAFF is the current version as a u64, 0 (or
 * absent) while none was imported.
 *
 * Invariants, and the one function that moves each:
 *   - Versions 1..META STAFF are all stored, each decoding to a roster whose own version
 *     field is its key: hub_staff_put writes the next version and moves META STAFF together.
 *   - A stored version never changes: hub_staff_put refuses to overwrite one. */
#include "staff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest stored roster: XS_STAFF_MAX teachers of the longest entry (roster.md §4). */
#define S_STORED_MAX ((size_t)XS_STAFF_MAX * 640 + 64)

static void s_key(uint32_t version, uint8_t key[4]) {
    key[0] = (uint8_t)(version >> 24);
    key[1] = (uint8_t)(version >> 16);
    key[2] = (uint8_t)(version >> 8);
    key[3] = (uint8_t)version;
}

xs_err hub_staff_version(xs_txn_t *txn, uint32_t version, xs_staff_t *out) {
    uint8_t key[4];
    xs_bytes_t v;
    memset(out, 0, sizeof *out);
    if (version == 0)
        return XS_ENOTFOUND;
    s_key(version, key);
    xs_err err = xs_store_get(txn, HUB_T_STAFF, key, sizeof key, &v);
    if (err != XS_OK)
        return err;
    err = xs_staff_decode(out, v.ptr, v.len);
    if (err == XS_ENOMEM)
        return err;
    if (err != XS_OK || out->version != version) {
        xs_staff_free(out);
        return XS_ECORRUPT;
    }
    return XS_OK;
}

xs_err hub_staff_current(xs_txn_t *txn, xs_staff_t *out) {
    uint64_t current;
    memset(out, 0, sizeof *out);
    xs_err err = hub_meta_get_u64(txn, HUB_META_STAFF, &current);
    if (err != XS_OK)
        return err;
    if (current == 0)
        return XS_OK;
    if (current > UINT32_MAX)
        return XS_ECORRUPT;
    err = hub_staff_version(txn, (uint32_t)current, out);
    return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
}

xs_err hub_staff_put(xs_txn_t *txn, xs_staff_t *staff, int64_t now) {
    uint64_t current;
    uint8_t key[4];
    xs_writer_t w;
    xs_err err = hub_meta_get_u64(txn, HUB_META_STAFF, &current);
    if (err != XS_OK)
        return err;
    if (current >= UINT32_MAX)
        return XS_ETOOBIG;
    staff->version = (uint32_t)current + 1;
    staff->issued_at = now;
    s_key(staff->version, key);
    xs_writer_init(&w, S_STORED_MAX);
    xs_staff_encode(staff, &w);
    err = xs_writer_err(&w);
    if (err == XS_OK)
        err = xs_store_put(txn, HUB_T_STAFF, key, sizeof key, w.data, w.len, XS_PUT_NOOVERWRITE);
    if (err == XS_EEXIST)
        err = XS_ECORRUPT; /* a version past META STAFF already stored */
    if (err == XS_OK)
        err = hub_meta_put_u64(txn, HUB_META_STAFF, staff->version);
    xs_writer_free(&w);
    return err;
}

/* One node's part as last built: at which version, for which schools, its body's hash. */
typedef struct s_memo {
    uint8_t origin[XS_SIGN_PK_BYTES];
    uint8_t schools[XS_HASH_BYTES]; /* s_schools_key of the node's schools */
    uint8_t hash[XS_HASH_BYTES];    /* hash of the part's body */
    uint32_t version;               /* 0: an empty slot */
} s_memo_t;

struct hub_staff_cache {
    xs_staff_t staff; /* the roster of version staff.version; 0: none loaded */
    s_memo_t *memo;   /* open addressing by origin; capacity a power of two */
    size_t memo_count, memo_cap;
};

xs_err hub_staff_cache_new(hub_staff_cache_t **out) {
    *out = calloc(1, sizeof **out);
    return *out ? XS_OK : XS_ENOMEM;
}

void hub_staff_cache_destroy(hub_staff_cache_t **cache) {
    if (!*cache)
        return;
    xs_staff_free(&(*cache)->staff);
    free((*cache)->memo);
    free(*cache);
    *cache = NULL;
}

/* The hash of the schools a node's part covers, in its enrollment's order: a change of its
 * school or proxies makes another part even at the same roster version. */
static void s_schools_key(const char *const *schools, size_t count, uint8_t out[XS_HASH_BYTES]) {
    char joined[(1 + HUB_MAX_PROXIES) * (XS_ID_MAX + 1)];
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(schools[i]);
        memcpy(joined + len, schools[i], n + 1); /* each with its NUL: no two lists join alike */
        len += n + 1;
    }
    xs_identity_hash(joined, len, out);
}

/* The memo slot of origin: its own, or the empty one it would take. */
static s_memo_t *s_memo_slot(s_memo_t *memo, size_t cap, const uint8_t origin[XS_SIGN_PK_BYTES]) {
    size_t i = ((size_t)origin[0] | (size_t)origin[1] << 8 | (size_t)origin[2] << 16) & (cap - 1);
    while (memo[i].version && memcmp(memo[i].origin, origin, XS_SIGN_PK_BYTES) != 0)
        i = (i + 1) & (cap - 1);
    return &memo[i];
}

/* Remembers a node's part; a memo that cannot grow forgets (the part is then built again). */
static void s_memo_put(hub_staff_cache_t *c, const s_memo_t *m) {
    if ((c->memo_count + 1) * 2 > c->memo_cap) {
        size_t cap = c->memo_cap ? c->memo_cap * 2 : 64;
        s_memo_t *grown = calloc(cap, sizeof *grown);
        if (!grown)
            return;
        for (size_t i = 0; i < c->memo_cap; i++)
            if (c->memo[i].version)
                *s_memo_slot(grown, cap, c->memo[i].origin) = c->memo[i];
        free(c->memo);
        c->memo = grown;
        c->memo_cap = cap;
    }
    s_memo_t *slot = s_memo_slot(c->memo, c->memo_cap, m->origin);
    c->memo_count += slot->version == 0;
    *slot = *m;
}

xs_err hub_staff_part(xs_txn_t *txn, const xs_identity_t *hub, const hub_node_t *node,
                      hub_staff_cache_t *cache, const uint8_t *have, xs_writer_t *envelope,
                      int *current) {
    const char *schools[1 + HUB_MAX_PROXIES];
    size_t count = 0;
    xs_staff_t own = {0}, *staff = cache ? &cache->staff : &own;
    uint64_t version;
    s_memo_t m;
    *current = 0;
    xs_err err = hub_meta_get_u64(txn, HUB_META_STAFF, &version);
    if (err != XS_OK)
        return err;
    if (version == 0)
        return XS_ENOTFOUND;
    if (version > UINT32_MAX)
        return XS_ECORRUPT;
    schools[count++] = node->school;
    for (uint32_t i = 0; i < node->proxy_count && i < HUB_MAX_PROXIES; i++)
        schools[count++] = node->proxies[i];
    memset(&m, 0, sizeof m);
    memcpy(m.origin, node->origin, XS_SIGN_PK_BYTES);
    s_schools_key(schools, count, m.schools);
    m.version = (uint32_t)version;
    if (cache && have && cache->memo_cap) {
        const s_memo_t *known = s_memo_slot(cache->memo, cache->memo_cap, node->origin);
        if (known->version == m.version && memcmp(known->schools, m.schools, XS_HASH_BYTES) == 0 &&
            memcmp(known->hash, have, XS_HASH_BYTES) == 0) {
            *current = 1;
            return XS_OK;
        }
    }
    if (staff->version != version) {
        xs_staff_free(staff);
        if ((err = hub_staff_current(txn, staff)) != XS_OK)
            return err;
    }
    size_t mark = envelope->len;
    err = xs_staff_part_sign(envelope, hub, node->origin, staff, schools, count);
    xs_staff_free(&own);
    const uint8_t *body, *signature;
    size_t body_len;
    if (err == XS_OK)
        err = xs_codec_split_envelope(envelope->data + mark, envelope->len - mark, &body, &body_len,
                                      &signature, XS_SIGNATURE_BYTES);
    if (err != XS_OK)
        return err;
    xs_identity_hash(body, body_len, m.hash);
    if (cache)
        s_memo_put(cache, &m);
    if (have && memcmp(m.hash, have, XS_HASH_BYTES) == 0) {
        envelope->len = mark; /* the node holds it: nothing to send */
        *current = 1;
    }
    return XS_OK;
}

/* ---- import ---- */

/* The county's schools: every school an enrolled node serves, sorted, for the CSV reader. */
typedef struct s_schools {
    char (*names)[XS_ID_MAX + 1];
    size_t count, cap;
} s_schools_t;

static xs_err s_add_school(s_schools_t *s, const char *school) {
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        void *names = realloc(s->names, cap * sizeof *s->names);
        if (!names)
            return XS_ENOMEM;
        s->names = names;
        s->cap = cap;
    }
    snprintf(s->names[s->count++], sizeof s->names[0], "%s", school);
    return XS_OK;
}

static xs_err s_collect(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    (void)txn;
    s_schools_t *s = ctx;
    xs_err err = s_add_school(s, node->school);
    for (uint32_t i = 0; err == XS_OK && i < node->proxy_count; i++)
        err = s_add_school(s, node->proxies[i]);
    return err;
}

static int s_school_cmp(const void *a, const void *b) {
    return strcmp(a, b);
}

static int s_known(void *ctx, const char *school, size_t len) {
    const s_schools_t *s = ctx;
    char name[XS_ID_MAX + 1];
    if (len > XS_ID_MAX)
        return 0;
    memcpy(name, school, len);
    name[len] = '\0';
    return bsearch(name, s->names, s->count, sizeof s->names[0], s_school_cmp) != NULL;
}

static xs_err s_any_change(void *ctx, xs_staff_change change, const xs_staff_entry_t *old_e,
                           const xs_staff_entry_t *new_e) {
    (void)ctx, (void)change, (void)old_e, (void)new_e;
    return XS_EEXIST; /* one is enough */
}

xs_err hub_staff_import(xs_txn_t *txn, const char *csv, size_t len, int64_t now,
                        xs_staff_t *current, xs_staff_t *roster, int *unchanged, char *errbuf,
                        size_t cap, uint32_t *bad_lines) {
    s_schools_t schools = {0};
    xs_staff_free(current);
    xs_staff_free(roster);
    *unchanged = 0;
    *bad_lines = 0;
    xs_err err = hub_nodes_each(txn, s_collect, &schools);
    if (err == XS_OK) {
        qsort(schools.names, schools.count, sizeof schools.names[0], s_school_cmp);
        err = xs_staff_parse_csv(roster, csv, len, s_known, &schools, errbuf, cap, bad_lines);
    }
    if (err == XS_OK)
        err = hub_staff_current(txn, current);
    if (err == XS_OK) {
        /* XS_EEXIST: some teacher changed (s_any_change stops at the first). */
        if (current->version > 0 && xs_staff_diff(current, roster, s_any_change, NULL) == XS_OK) {
            *unchanged = 1; /* the same roster again: nothing to store */
            roster->version = current->version;
            roster->issued_at = current->issued_at;
        } else {
            err = hub_staff_put(txn, roster, now);
        }
    }
    free(schools.names);
    return err;
}

/* ---- history ---- */

static xs_err s_count_change(void *ctx, xs_staff_change change, const xs_staff_entry_t *old_e,
                             const xs_staff_entry_t *new_e) {
    (void)old_e, (void)new_e;
    hub_staff_version_info_t *info = ctx;
    info->changes[change]++;
    return XS_OK;
}

xs_err hub_staff_history(xs_txn_t *txn,
                         xs_err (*fn)(void *ctx, const hub_staff_version_info_t *info), void *ctx) {
    uint64_t current;
    xs_staff_t before = {0}, roster = {0};
    xs_err err = hub_meta_get_u64(txn, HUB_META_STAFF, &current);
    if (err == XS_OK && current > UINT32_MAX)
        err = XS_ECORRUPT;
    for (uint32_t v = 1; err == XS_OK && v <= current; v++) {
        hub_staff_version_info_t info;
        memset(&info, 0, sizeof info);
        err = hub_staff_version(txn, v, &roster);
        if (err == XS_ENOTFOUND)
            err = XS_ECORRUPT;
        if (err == XS_OK)
            err = xs_staff_diff(&before, &roster, s_count_change, &info);
        if (err != XS_OK)
            break;
        info.version = v;
        info.issued_at = roster.issued_at;
        info.count = roster.count;
        xs_staff_free(&before);
        before = roster;
        memset(&roster, 0, sizeof roster);
        err = fn(ctx, &info);
    }
    xs_staff_free(&before);
    xs_staff_free(&roster);
    return err;
}
