/* node: opening a node directory, checking and appending records. */
#include "node.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "xs/text.h"

const char *const node_tables[NODE_T_COUNT] = {
    "meta",        "records",   "dedupe",    "batches",      "receipts",
    "sat_batches", "sat_chain", "sat_state", "sat_receipts", "staff",
};

/* Each meta key's stored name and the length of its value, 0: any (node.h, node_meta_key). */
static const struct {
    const char *name;
    size_t len;
} s_meta[NODE_META_COUNT] = {
    [NODE_META_FORMAT] = {"format", 0},
    [NODE_META_SCHOOL] = {"school", 0},
    [NODE_META_POLICY] = {"policy", 0},
    [NODE_META_POLICY_ENV] = {"policy_env", 0},
    [NODE_META_HUB] = {"hub", 0},
    [NODE_META_HUB_KEYS] = {"hub_keys", 64},
    [NODE_META_COUNTY_KEY] = {"county_key", 64},
    [NODE_META_SEALED_THROUGH] = {"sealed_through", 8},
    [NODE_META_HEAD_HASH] = {"head_hash", 32},
    [NODE_META_ACKED_THROUGH] = {"acked_through", 8},
    [NODE_META_CONFIRMED_THROUGH] = {"confirmed_through", 8},
    [NODE_META_RECEIPTS_GEN] = {"receipts_gen", 8},
    [NODE_META_ROSTER] = {"roster", 0},
    [NODE_META_RELAY] = {"relay", 0},
    [NODE_META_LINK_RATE] = {"link_rate", 8},
    [NODE_META_LAST_SYNC] = {"last_sync", 8},
    [NODE_META_ROTATIONS] = {"rotations", 0},
    [NODE_META_RESTORED] = {"restored", 8},
};

const char *node_meta_name(node_meta_key key) {
    return s_meta[key].name;
}

size_t node_meta_len(node_meta_key key) {
    return s_meta[key].len;
}

xs_err node_meta_get(xs_txn_t *txn, node_meta_key key, xs_bytes_t *value) {
    const char *name = s_meta[key].name;
    return xs_store_get(txn, NODE_T_META, name, strlen(name), value);
}

xs_err node_meta_put(xs_txn_t *txn, node_meta_key key, const void *value, size_t len) {
    const char *name = s_meta[key].name;
    if (s_meta[key].len && len != s_meta[key].len)
        return XS_EINVAL;
    return xs_store_put(txn, NODE_T_META, name, strlen(name), value, len, 0);
}

xs_err node_meta_u64(const xs_bytes_t *value, uint64_t *out) {
    if (value->len != 8)
        return XS_ECORRUPT;
    *out = xs_store_key_u64(value->ptr);
    return XS_OK;
}

xs_err node_meta_get_u64(xs_txn_t *txn, node_meta_key key, uint64_t *out) {
    xs_bytes_t v;
    *out = 0;
    xs_err err = node_meta_get(txn, key, &v);
    if (err == XS_ENOTFOUND)
        return XS_OK;
    return err == XS_OK ? node_meta_u64(&v, out) : err;
}

xs_err node_meta_put_u64(xs_txn_t *txn, node_meta_key key, uint64_t value) {
    uint8_t v[8];
    xs_store_u64_key(value, v);
    return node_meta_put(txn, key, v, sizeof v);
}

xs_err node_meta_del(xs_txn_t *txn, node_meta_key key) {
    const char *name = s_meta[key].name;
    xs_err err = xs_store_del(txn, NODE_T_META, name, strlen(name));
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_meta_each(xs_txn_t *txn, node_meta_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_err err = xs_store_cursor_open(txn, NODE_T_META, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v))
        if ((err = fn(ctx, &k, &v)) != XS_OK)
            break;
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_table_count(xs_txn_t *txn, unsigned table, uint64_t *count) {
    return xs_store_count(txn, table, count);
}

const xs_backup_program_t node_backup_program = {
    "xueshi-node",      "node",
    node_tables,        "format",
    NODE_FORMAT_NUMBER, "不是已初始化的节点目录 (not an initialised node directory)"};

xs_err node_format_read(const char *store_path, unsigned *format) {
    return xs_store_format_read(store_path, node_tables, s_meta[NODE_META_FORMAT].name, format);
}

xs_err node_format_check(const char *dir, unsigned format) {
    return xs_store_format_check("xueshi-node", dir, format, NODE_FORMAT_NUMBER);
}

xs_err node_open(node_t *node, const char *dir) {
    char path[4096];
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    unsigned format = 0;
    memset(node, 0, sizeof *node);
    node->dir = dir;
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return XS_ETOOBIG;
    FILE *probe = fopen(path, "r");
    if (!probe) {
        xs_log("%s 不是已初始化的节点目录，请先运行 xueshi-node init (not an initialised node "
               "directory)",
               dir);
        return XS_ENOTFOUND;
    }
    fclose(probe);
    xs_err err = node_format_read(path, &format);
    if (err != XS_OK && err != XS_ENOTFOUND) {
        xs_log_err(err, "读取数据库格式 %s (reading the store's format)", path);
        return err;
    }
    if (err == XS_OK && (err = node_format_check(dir, format)) != XS_OK)
        return err;
    err = xs_store_open(&node->store, path, node_tables, NODE_T_COUNT, 0);
    if (err != XS_OK) {
        xs_log_err(err, "打开数据库 %s (opening the store)", path);
        return err;
    }
    if ((err = xs_store_read(node->store, &txn)) != XS_OK)
        goto out;
    err = node_meta_get(txn, NODE_META_SCHOOL, &v);
    if (err == XS_OK && v.len <= XS_ID_MAX) {
        memcpy(node->school, v.ptr, v.len);
        node->school[v.len] = '\0';
    } else if (err == XS_OK || err == XS_ENOTFOUND) {
        xs_log("%s 的初始化没有完成，请重新运行 xueshi-node init (initialisation incomplete)", dir);
        err = XS_ENOTFOUND;
    }
out:
    xs_store_end(&txn);
    if (err != XS_OK)
        node_close(node);
    return err;
}

void node_close(node_t *node) {
    xs_store_close(&node->store);
}

/* Half of the county hub's keys: offset 0 signing, 32 transport. */
static xs_err s_county_half(xs_txn_t *txn, size_t offset, uint8_t key[32]) {
    xs_bytes_t v;
    xs_err err = node_meta_get(txn, NODE_META_COUNTY_KEY, &v);
    if (err == XS_ENOTFOUND)
        err = node_meta_get(txn, NODE_META_HUB_KEYS, &v);
    if (err == XS_OK && v.len != 64)
        err = XS_ECORRUPT;
    if (err == XS_OK)
        memcpy(key, (const uint8_t *)v.ptr + offset, 32);
    return err;
}

xs_err node_county_key(xs_txn_t *txn, uint8_t key[32]) {
    return s_county_half(txn, 0, key);
}

xs_err node_county_box(xs_txn_t *txn, uint8_t key[32]) {
    return s_county_half(txn, 32, key);
}

xs_err node_county_keys(xs_txn_t *txn, node_county_keys_t *out) {
    xs_bytes_t chain;
    uint8_t followed[XS_SIGN_PK_BYTES];
    out->nsteps = 0;
    xs_err err = node_county_key(txn, out->current);
    if (err != XS_OK)
        return err;
    err = node_meta_get(txn, NODE_META_ROTATIONS, &chain);
    if (err == XS_ENOTFOUND)
        return XS_OK;
    /* The chain was followed to the key in force when it was stored: its statements' old keys
     * are the retired ones. */
    if (err == XS_OK && xs_rotation_follow(chain.ptr, chain.len, out->current, followed, out->steps,
                                           XS_ROTATION_CHAIN_MAX, &out->nsteps) != XS_OK)
        err = XS_ECORRUPT;
    return err;
}

const uint8_t *node_county_key_at(const node_county_keys_t *keys, size_t i) {
    if (i == 0)
        return keys->current;
    return i <= keys->nsteps ? keys->steps[keys->nsteps - i].old_key : NULL;
}

xs_err node_receipt_open(const node_county_keys_t *keys, const void *envelope, size_t len,
                         xs_receipt_t *out) {
    xs_err err = xs_receipt_open(envelope, len, NULL, out);
    if (err == XS_OK &&
        !xs_rotation_trusts(keys->current, keys->steps, keys->nsteps, out->hub, out->issued_at))
        err = XS_ECRYPTO;
    return err;
}

xs_err node_county_try(const node_county_keys_t *keys,
                       xs_err (*open)(void *ctx, const uint8_t key[XS_SIGN_PK_BYTES]), void *ctx) {
    xs_err err = XS_ECRYPTO;
    const uint8_t *key;
    for (size_t i = 0; err == XS_ECRYPTO && (key = node_county_key_at(keys, i)); i++)
        err = open(ctx, key);
    return err;
}

xs_err node_county_follow(xs_txn_t *txn, const void *chain, size_t chain_len, int *rotated) {
    xs_rotation_t steps[XS_ROTATION_CHAIN_MAX];
    size_t n;
    uint32_t held = 0;
    uint8_t trusted[XS_SIGN_PK_BYTES], current[XS_SIGN_PK_BYTES], keys[64];
    xs_bytes_t v;
    node_meta_key where = NODE_META_COUNTY_KEY;
    if (rotated)
        *rotated = 0;
    if (chain_len == 0)
        return XS_OK;
    xs_err err = node_county_key(txn, trusted);
    if (err == XS_OK)
        err = xs_rotation_follow(chain, chain_len, trusted, current, steps, XS_ROTATION_CHAIN_MAX,
                                 &n);
    if (err != XS_OK)
        return err;
    /* Never back to a shorter chain: an old statement replayed changes nothing. */
    if ((err = node_meta_get(txn, NODE_META_ROTATIONS, &v)) == XS_OK) {
        if (xs_rotation_chain_count(v.ptr, v.len, &held) != XS_OK)
            held = 0; /* unreadable: the chain that opened replaces it */
    } else if (err != XS_ENOTFOUND) {
        return err;
    }
    if (n < held)
        return XS_EINVAL;
    if (n == held && memcmp(current, trusted, sizeof current) == 0)
        return XS_OK;
    if ((err = node_meta_get(txn, NODE_META_COUNTY_KEY, &v)) == XS_ENOTFOUND) {
        where = NODE_META_HUB_KEYS;
        err = node_meta_get(txn, where, &v);
    }
    if (err == XS_OK && v.len != sizeof keys)
        err = XS_ECORRUPT;
    if (err != XS_OK)
        return err;
    memcpy(keys, v.ptr, sizeof keys);
    memcpy(keys, current, XS_SIGN_PK_BYTES);
    if ((err = node_meta_put(txn, where, keys, sizeof keys)) == XS_OK)
        err = node_meta_put(txn, NODE_META_ROTATIONS, chain, chain_len);
    if (err == XS_OK && rotated)
        *rotated = memcmp(current, trusted, sizeof current) != 0;
    return err;
}

xs_err node_policy(node_t *node, xs_policy_t **out) {
    xs_txn_t *txn = NULL;
    xs_bytes_t blob;
    *out = NULL;
    xs_err err = xs_store_read(node->store, &txn);
    if (err != XS_OK)
        return err;
    err = node_meta_get(txn, NODE_META_POLICY, &blob);
    if (err == XS_OK)
        err = xs_policy_decode(out, blob.ptr, blob.len);
    xs_store_end(&txn);
    if (err == XS_EVERSION)
        xs_log("节点保存的认定规则是旧格式，同步一次即可取得县里的新版 (the node's policy is in an "
               "older format; sync, or import the county's USB bundle, to get the current one)");
    else if (err != XS_OK && err != XS_ENOTFOUND)
        xs_log_err(err, "节点的认定规则无法读取 (the node's policy cannot be read)");
    return err;
}

xs_err node_policy_needed(node_t *node, xs_policy_t **out) {
    xs_err err = node_policy(node, out);
    if (err == XS_ENOTFOUND)
        xs_log("节点尚未设置认定规则 (no policy set): xueshi-node policy --dir %s FILE.ini",
               node->dir);
    return err;
}

struct s_policy_blob {
    const uint8_t *bytes;
    size_t len;
};

static xs_err s_put_policy(xs_txn_t *txn, void *ctx) {
    const struct s_policy_blob *b = ctx;
    return node_meta_put(txn, NODE_META_POLICY, b->bytes, b->len);
}

xs_err node_set_policy(xs_store_t *store, const char *path) {
    xs_policy_t *policy = NULL;
    xs_writer_t w;
    xs_err err = xs_policy_load_said(&policy, path);
    if (err != XS_OK)
        return err;
    xs_writer_init(&w, XS_POLICY_BLOB_MAX);
    xs_policy_compile(policy, &w);
    err = xs_writer_err(&w);
    struct s_policy_blob blob = {w.data, w.len};
    if (err == XS_OK)
        err = xs_store_update(store, s_put_policy, &blob);
    if (err == XS_OK)
        printf("认定规则 (policy): %s 第 %u 版 %s\n", policy->id, policy->version, policy->name);
    else
        xs_log_err(err, "保存认定规则 (storing the policy)");
    xs_writer_free(&w);
    xs_policy_destroy(&policy);
    return err;
}

xs_err node_put_signed_policy(xs_txn_t *txn, const void *blob, size_t blob_len,
                              const void *envelope, size_t envelope_len) {
    xs_err err = node_meta_put(txn, NODE_META_POLICY, blob, blob_len);
    return err == XS_OK ? node_meta_put(txn, NODE_META_POLICY_ENV, envelope, envelope_len) : err;
}

xs_err node_parse_year(const char *label, int *year) {
    uint64_t y1, y2;
    if (strlen(label) != 9 || label[4] != '-' ||
        xs_text_parse_fixed(label, 4, 0, 2148, &y1) != XS_OK ||
        xs_text_parse_fixed(label + 5, 4, 0, 2149, &y2) != XS_OK || y2 != y1 + 1 || y1 < 1970) {
        xs_log("学年格式应为 2025-2026 (an academic year looks like 2025-2026): %s", label);
        return XS_EINVAL;
    }
    *year = (int)y1;
    return XS_OK;
}

void node_dedupe_key(const xs_record_t *rec, node_dedupe_t *key) {
    if (rec->ref.len > 0) {
        /* The office's own row key identifies the row, whatever else it says. */
        size_t n = 0;
        key->bytes[n++] = 0x01;
        memcpy(key->bytes + n, rec->school_id.ptr, rec->school_id.len);
        n += rec->school_id.len;
        key->bytes[n++] = 0x00;
        memcpy(key->bytes + n, rec->ref.ptr, rec->ref.len);
        key->len = n + rec->ref.len;
        return;
    }
    xs_writer_t w;
    xs_record_t content = *rec;
    content.present &= ~((1u << XS_F_RECORDED_AT) | (1u << XS_F_OPERATOR));
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&content, &w);
    uint32_t date = (rec->present >> XS_F_DATE) & 1u ? (uint32_t)rec->date : 0;
    key->bytes[0] = 0x00;
    key->bytes[1] = (uint8_t)(date >> 24);
    key->bytes[2] = (uint8_t)(date >> 16);
    key->bytes[3] = (uint8_t)(date >> 8);
    key->bytes[4] = (uint8_t)date;
    uint8_t hash[16]; /* BLAKE2b's shortest output; 11 bytes of it suffice within one date */
    xs_identity_hash_short(w.data, w.len, hash, sizeof hash);
    memcpy(key->bytes + 5, hash, 11);
    key->len = 16;
    xs_writer_free(&w);
}

xs_err node_policy_hash(xs_txn_t *txn, uint8_t hash[32], int *has) {
    xs_bytes_t blob;
    xs_err err = node_meta_get(txn, NODE_META_POLICY, &blob);
    *has = err == XS_OK;
    if (err == XS_OK)
        xs_identity_hash(blob.ptr, blob.len, hash);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_records(xs_txn_t *txn, uint64_t from, node_record_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    uint8_t key[8];
    uint64_t expect = from;
    xs_err err = xs_store_cursor_open(txn, NODE_T_RECORDS, &cur);
    if (err != XS_OK)
        return err;
    xs_store_u64_key(from, key);
    for (err = xs_store_cursor_seek(cur, key, 8, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (node_record_seq(&k) != expect) {
            err = XS_ECORRUPT; /* records are numbered without holes */
            break;
        }
        if ((err = fn(ctx, expect, v.ptr, v.len)) != XS_OK)
            break;
        expect++;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_record_get(xs_txn_t *txn, uint64_t seq, xs_bytes_t *bytes) {
    uint8_t key[8];
    xs_store_u64_key(seq, key);
    return xs_store_get(txn, NODE_T_RECORDS, key, 8, bytes);
}

uint64_t node_record_seq(const xs_bytes_t *key) {
    return key->len == 8 ? xs_store_key_u64(key->ptr) : 0;
}

xs_err node_records_raw_from(xs_txn_t *txn, uint64_t from, node_record_raw_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    uint8_t key[8];
    xs_store_u64_key(from, key);
    xs_err err = xs_store_cursor_open(txn, NODE_T_RECORDS, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, from ? key : NULL, from ? 8 : 0, &k, &v);
         err == XS_OK; err = xs_store_cursor_next(cur, &k, &v))
        if ((err = fn(ctx, node_record_seq(&k), &k, &v)) != XS_OK)
            break;
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_records_raw(xs_txn_t *txn, node_record_raw_fn fn, void *ctx) {
    return node_records_raw_from(txn, 0, fn, ctx);
}

/* The seq a dedupe value names; 0 when it is not 8 bytes. */
static uint64_t s_dedupe_seq(const xs_bytes_t *value) {
    return value->len == 8 ? xs_store_key_u64(value->ptr) : 0;
}

xs_err node_dedupe_get(xs_txn_t *txn, const node_dedupe_t *key, uint64_t *seq) {
    xs_bytes_t v;
    xs_err err = xs_store_get(txn, NODE_T_DEDUPE, key->bytes, key->len, &v);
    *seq = err == XS_OK ? s_dedupe_seq(&v) : 0;
    return err;
}

xs_err node_dedupe_each(xs_txn_t *txn, node_dedupe_fn fn, void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_err err = xs_store_cursor_open(txn, NODE_T_DEDUPE, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v))
        if ((err = fn(ctx, &k, s_dedupe_seq(&v))) != XS_OK)
            break;
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err node_next_seq(xs_txn_t *txn, uint64_t *seq) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t last, val;
    xs_err err = xs_store_cursor_open(txn, NODE_T_RECORDS, &cur);
    if (err != XS_OK)
        return err;
    err = xs_store_cursor_last(cur, &last, &val);
    xs_store_cursor_close(&cur);
    if (err == XS_ENOTFOUND) {
        *seq = 1;
        return XS_OK;
    }
    if (err == XS_OK)
        *seq = xs_store_key_u64(last.ptr) + 1;
    return err;
}

xs_err node_put(xs_txn_t *txn, uint64_t seq, const uint8_t *bytes, size_t len,
                const node_dedupe_t *key, int skip_known) {
    uint8_t seq_key[8];
    xs_store_u64_key(seq, seq_key);
    xs_err err =
        xs_store_put(txn, NODE_T_DEDUPE, key->bytes, key->len, seq_key, 8, XS_PUT_NOOVERWRITE);
    if (err == XS_EEXIST && skip_known)
        return XS_EEXIST;
    if (err != XS_OK && err != XS_EEXIST)
        return err;
    return xs_store_put(txn, NODE_T_RECORDS, seq_key, 8, bytes, len, XS_PUT_APPEND);
}

xs_err node_truncate(xs_txn_t *txn, uint64_t from) {
    uint64_t next;
    xs_err err = node_next_seq(txn, &next);
    /* From the last record down, so that no cursor moves under its own deletions. */
    for (uint64_t seq = next; err == XS_OK && seq-- > from;) {
        xs_bytes_t bytes;
        xs_record_t rec;
        node_dedupe_t key;
        uint64_t named;
        uint8_t seq_key[8];
        xs_store_u64_key(seq, seq_key);
        if ((err = xs_store_get(txn, NODE_T_RECORDS, seq_key, 8, &bytes)) != XS_OK)
            break;
        if (xs_record_decode_bytes(bytes.ptr, bytes.len, &rec) != XS_OK) {
            err = XS_ECORRUPT;
            break;
        }
        node_dedupe_key(&rec, &key);
        err = node_dedupe_get(txn, &key, &named);
        if (err == XS_OK && named == seq)
            err = xs_store_del(txn, NODE_T_DEDUPE, key.bytes, key.len);
        else if (err == XS_OK || err == XS_ENOTFOUND)
            err = XS_OK;
        if (err == XS_OK)
            err = xs_store_del(txn, NODE_T_RECORDS, seq_key, 8);
    }
    return err;
}

xs_err node_append(xs_txn_t *txn, const uint8_t *bytes, size_t len, const node_dedupe_t *key,
                   uint64_t *seq) {
    xs_err err = node_next_seq(txn, seq);
    if (err == XS_OK)
        err = node_put(txn, *seq, bytes, len, key, 0);
    return err;
}

int node_category_parse(const xs_policy_t *policy, const char *text, size_t len) {
    xs_text_trim(&text, &len);
    return xs_policy_category_parse(policy, text, len);
}

/* Appends to out (cap bytes, n used) what fmt gives, cut to fit; returns the new length. */
__attribute__((format(printf, 4, 5))) static size_t s_cat(char *out, size_t cap, size_t n,
                                                          const char *fmt, ...) {
    va_list ap;
    if (n + 1 >= cap)
        return n;
    va_start(ap, fmt);
    int w = vsnprintf(out + n, cap - n, fmt, ap);
    va_end(ap);
    if (w < 0)
        return n;
    if ((size_t)w >= cap - n) {
        /* Cut at a whole UTF-8 character. */
        size_t end = cap - 1;
        while (end > n && ((unsigned char)out[end] & 0xc0) == 0x80)
            end--;
        out[end] = '\0';
        return end;
    }
    return n + (size_t)w;
}

size_t node_category_allowed(const xs_policy_t *policy, char *out, size_t cap) {
    size_t n = xs_field_allowed(XS_F_CATEGORY, out, cap);
    for (uint32_t i = 0; policy && i < policy->custom_count; i++)
        n = s_cat(out, cap, n, "%s%s/%s", n ? "、" : "", policy->custom[i].label,
                  policy->custom[i].name);
    return n;
}

void node_category_hint_text(const xs_policy_t *policy, char *out, size_t cap) {
    size_t n = 0;
    if (cap)
        out[0] = '\0';
    if (!policy) {
        s_cat(out, cap, 0, "%s",
              "本节点还没有县里的认定规则，只认识内置的十个类别；县里自定义的类别随认定规则一起下"
              "发：同步一次 (sync) 或导入县里的 U 盘数据包即可 (this node has no county policy yet "
              "and knows only the ten built-in categories; the county's own categories arrive "
              "with its policy at the next sync or USB bundle)");
        return;
    }
    n = s_cat(out, cap, n,
              "认定规则 %s 第 %u 版没有这个类别 (policy %s v%u does not define this category)。",
              policy->id, policy->version, policy->id, policy->version);
    if (policy->custom_count == 0)
        n = s_cat(out, cap, n, "%s",
                  "本县没有自定义类别 (the county defines no categories of its own)");
    else
        n = s_cat(out, cap, n, "%s", "本县自定义类别 (the county's own categories):");
    for (uint32_t i = 0; i < policy->custom_count; i++)
        n = s_cat(out, cap, n, "%s %s %s", i ? "," : "", policy->custom[i].name,
                  policy->custom[i].label);
}

void node_category_hint(const xs_policy_t *policy) {
    char text[NODE_REFUSAL_MAX];
    node_category_hint_text(policy, text, sizeof text);
    fprintf(stderr, "xueshi-node: %s\n", text);
}

void node_refusal_clear(node_refusal_t *why) {
    why->field = NODE_REFUSAL_F_NONE;
    why->why = XS_REASON_NONE;
    why->text[0] = '\0';
}

/* Longest value a refusal quotes, in bytes. */
#define S_VALUE_SHOWN 80

void node_refusal_set(node_refusal_t *out, const xs_policy_t *policy, xs_field field, xs_reason why,
                      const char *value, size_t vlen) {
    char allowed[NODE_REFUSAL_MAX / 2], shown[S_VALUE_SHOWN + 4];
    size_t n = 0, cap = sizeof out->text;
    const char *zh = field < XS_F_COUNT ? xs_field_zh(field) : NULL;
    const char *name = field < XS_F_COUNT ? xs_field_name(field) : NULL;
    out->field = field;
    out->why = why;
    out->text[0] = '\0';
    n = s_cat(out->text, cap, n, "%s", zh ? zh : "内容");
    if (value) {
        /* One line whatever was typed: control bytes become spaces, the rest is cut short. */
        size_t k = 0;
        for (size_t i = 0; i < vlen && k < S_VALUE_SHOWN; i++)
            shown[k++] = (unsigned char)value[i] < 0x20 || value[i] == 0x7f ? ' ' : value[i];
        while (k > 0 && k < vlen && ((unsigned char)value[k] & 0xc0) == 0x80)
            k--; /* the character cut at S_VALUE_SHOWN goes whole */
        shown[k] = '\0';
        n = s_cat(out->text, cap, n, "「%s%s」", shown, k < vlen ? "…" : "");
    }
    n = s_cat(out->text, cap, n, "%s", why == XS_REASON_BAD_VALUE ? "无效" : "：");
    if (why != XS_REASON_BAD_VALUE)
        n = s_cat(out->text, cap, n, "%s", xs_reason_zh(why));
    if (field == XS_F_CATEGORY)
        node_category_allowed(policy, allowed, sizeof allowed);
    else if (field < XS_F_COUNT)
        xs_field_allowed(field, allowed, sizeof allowed);
    else
        allowed[0] = '\0';
    if (allowed[0] && why != XS_REASON_MISSING_FIELD)
        n = s_cat(out->text, cap, n, "，可填：%s", allowed);
    if (field == XS_F_CATEGORY && why == XS_REASON_UNKNOWN_CATEGORY && !policy)
        n = s_cat(out->text, cap, n, "%s",
                  "；县里自定义的类别随认定规则下发，同步一次即可 (the county's own categories "
                  "arrive with its policy)");
    if (field == XS_F_DATE && (why == XS_REASON_BAD_DATE || why == XS_REASON_BAD_VALUE))
        n = s_cat(out->text, cap, n, "%s", "，日期写作 2025-10-15、2025/10/15 或 2025.10.15");
    s_cat(out->text, cap, n, " (%s: %s)", name ? name : "field", xs_reason_code(why));
}

xs_reason node_check_why(const node_t *node, const xs_policy_t *policy, const xs_record_t *rec,
                         node_refusal_t *out) {
    xs_field field;
    xs_reason why = xs_policy_check(policy, rec, &field);
    if (why == XS_REASON_NONE && rec->kind == XS_KIND_ACTIVITY && rec->date > xs_date_today() + 1) {
        why = XS_REASON_FUTURE_DATE;
        field = XS_F_DATE;
    }
    if (why == XS_REASON_NONE && rec->school_id.len > 0 &&
        (rec->school_id.len != strlen(node->school) ||
         memcmp(rec->school_id.ptr, node->school, rec->school_id.len) != 0)) {
        why = XS_REASON_OUT_OF_SCOPE;
        field = XS_F_SCHOOL_ID;
    }
    if (!out)
        return why;
    if (why == XS_REASON_NONE) {
        node_refusal_clear(out);
    } else if (why == XS_REASON_OUT_OF_SCOPE && field == XS_F_SCHOOL_ID) {
        char value[XS_ID_MAX + 1];
        size_t len = rec->school_id.len < XS_ID_MAX ? rec->school_id.len : XS_ID_MAX;
        memcpy(value, rec->school_id.ptr, len);
        value[len] = '\0';
        out->field = field;
        out->why = why;
        snprintf(out->text, sizeof out->text,
                 "学校「%s」不是本节点的学校 %s，本节点只能为 %s 登记 (school_id: out_of_scope)",
                 value, node->school, node->school);
    } else if (why == XS_REASON_BAD_ROLE && field == XS_F_ROLE) {
        /* The roles this category takes, not every role there is. */
        char roles[NODE_REFUSAL_MAX / 2];
        const char *category = xs_category_zh(rec->category);
        xs_category_roles(rec->category, roles, sizeof roles);
        out->field = field;
        out->why = why;
        snprintf(out->text, sizeof out->text, "角色「%s」不适用于%s，可填：%s (role: bad_role)",
                 xs_role_zh(rec->role) ? xs_role_zh(rec->role) : "?",
                 category ? category : "该类别", roles);
    } else {
        node_refusal_set(out, policy, field, why, NULL, 0);
    }
    return why;
}

xs_reason node_check(const node_t *node, const xs_policy_t *policy, const xs_record_t *rec,
                     long line) {
    node_refusal_t out;
    xs_reason why = node_check_why(node, policy, rec, &out);
    if (why != XS_REASON_NONE) {
        char where[64] = "";
        if (line > 0)
            snprintf(where, sizeof where, "第 %ld 行 (line %ld): ", line, line);
        fprintf(stderr, "xueshi-node: %s拒绝登记 (refused): %s\n", where, out.text);
    }
    return why;
}

void node_pad_n(const char *s, size_t len, size_t width) {
    fwrite(s, 1, len, stdout);
    for (size_t w = xs_text_width(s, len); w < width; w++)
        putchar(' ');
}

void node_pad(const char *s, size_t width) {
    node_pad_n(s, strlen(s), width);
}
