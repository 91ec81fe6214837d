/* hub: opening a hub directory; the owner of HUB_T_META, HUB_T_NODES and HUB_T_BOXKEYS.
 *
 * Invariants of these tables, and the one function that moves each:
 *   - BOXKEYS box → origin exactly when NODES holds origin with that box: hub_node_add writes
 *     both, nothing deletes either (revocation is a field of the node).
 *   - Every node's number is unique and below META next_number: hub_node_add takes the next
 *     and moves next_number past it; re-enrollment (hub_node_put) keeps a node's number.
 *   - A node's fork fields (fork_seq, forks, fork_resolved_*) move only in
 *     merge.c, which lists their invariants. */
#include "hub.h"
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xs/codec.h"

const char *const hub_tables[HUB_T_COUNT] = {
    "meta",          "nodes",          "boxkeys",     "chain",        "batches",
    "acks",          "records",        "teachers",    "exams",        "follow",
    "forks",         "staff",          "years",       "frozen",       "credit_rows",
    "credit_groups", "credit_targets", "credit_sums", "credit_exams", "metrics",
};

/* The keys of enum hub_meta, written once. */
static const struct {
    const char *key;
    size_t len;
} s_meta_keys[HUB_META_COUNT] = {
    [HUB_META_FORMAT] = {"format", 6},
    [HUB_META_POLICY] = {"policy", 6},
    [HUB_META_POLICY_ENV] = {"policy_env", 10},
    [HUB_META_GENERATION] = {"generation", 10},
    [HUB_META_NEXT_NUMBER] = {"next_number", 11},
    [HUB_META_STAFF] = {"staff", 5},
    [HUB_META_CREDIT] = {"credit", 6},
    [HUB_META_ROTATIONS] = {"rotations", 9},
};

xs_err hub_meta_get(xs_txn_t *txn, hub_meta name, xs_bytes_t *value) {
    return xs_store_get(txn, HUB_T_META, s_meta_keys[name].key, s_meta_keys[name].len, value);
}

xs_err hub_meta_put(xs_txn_t *txn, hub_meta name, const void *value, size_t len) {
    return xs_store_put(txn, HUB_T_META, s_meta_keys[name].key, s_meta_keys[name].len, value, len,
                        0);
}

xs_err hub_meta_get_u64(xs_txn_t *txn, hub_meta name, uint64_t *value) {
    return xs_store_get_u64(txn, HUB_T_META, s_meta_keys[name].key, s_meta_keys[name].len, value);
}

xs_err hub_meta_put_u64(xs_txn_t *txn, hub_meta name, uint64_t value) {
    uint8_t buf[8];
    xs_store_u64_key(value, buf);
    return hub_meta_put(txn, name, buf, sizeof buf);
}

const xs_backup_program_t hub_backup_program = {
    "xueshi-hub",      "hub",
    hub_tables,        "format",
    HUB_FORMAT_NUMBER, "不是县级中心目录 (not a hub directory)"};

xs_err hub_format_read(const char *store_path, unsigned *format) {
    return xs_store_format_read(store_path, hub_tables, s_meta_keys[HUB_META_FORMAT].key, format);
}

xs_err hub_format_check(const char *dir, unsigned format) {
    return xs_store_format_check("xueshi-hub", dir, format, HUB_FORMAT_NUMBER);
}

xs_err hub_open(hub_t *hub, const char *dir, int flags) {
    char path[4096];
    xs_txn_t *txn = NULL;
    xs_bytes_t blob;
    unsigned format = 0;
    memset(hub, 0, sizeof *hub);
    hub->dir = dir;
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return XS_ETOOBIG;
    FILE *probe = fopen(path, "r");
    if (!probe) {
        xs_log("%s 不是县级中心目录，请先运行 xueshi-hub init (not a hub directory)", dir);
        return XS_ENOTFOUND;
    }
    fclose(probe);
    xs_err err = XS_OK;
    if (!(flags & HUB_OPEN_ANY_FORMAT)) {
        err = hub_format_read(path, &format);
        if (err != XS_OK && err != XS_ENOTFOUND) {
            xs_log_err(err, "读取数据库格式 %s (reading the store's format)", path);
            return err;
        }
        if (err == XS_OK && (err = hub_format_check(dir, format)) != XS_OK)
            return err;
    }
    err = xs_store_open(&hub->store, path, hub_tables, HUB_T_COUNT, 0);
    if (err != XS_OK) {
        xs_log_err(err, "打开数据库 %s (opening the store)", path);
        goto out;
    }
    if ((err = xs_store_read(hub->store, &txn)) != XS_OK)
        goto out;
    err = hub_meta_get(txn, HUB_META_POLICY, &blob);
    if (err == XS_OK) {
        xs_identity_hash(blob.ptr, blob.len, hub->policy_hash);
        err = xs_policy_decode(&hub->policy, blob.ptr, blob.len);
        if (err == XS_EVERSION && (flags & HUB_OPEN_ANY_POLICY))
            err = XS_OK; /* policy stays NULL: the caller replaces it */
    }
    xs_store_end(&txn);
    if (err == XS_EVERSION) {
        xs_log("%s 保存的认定规则是旧版软件的格式，请用 xueshi-hub policy --dir %s --policy "
               "规则.ini 导入新版规则（版本号须更高），再运行本命令 (the hub's stored policy is "
               "in an older format: load the county's policy file with a higher version with "
               "xueshi-hub policy --dir %s --policy FILE.ini, then run this command again)",
               dir, dir, dir);
        goto out;
    }
    if (err != XS_OK) {
        xs_log_err(err, "%s 的认定规则无法读取，请重新运行 xueshi-hub init (the hub's policy)",
                   dir);
        goto out;
    }
    if ((flags & HUB_OPEN_KEYS) && (err = xs_identity_load(&hub->id, dir, "hub")) != XS_OK)
        xs_log_err(err, "县级中心密钥 %s/hub.secret (hub key)", dir);
    else if (flags & HUB_OPEN_KEYS)
        err = hub_keys_check(hub);
out:
    if (err != XS_OK)
        hub_close(hub);
    return err;
}

xs_err hub_policy_follow(hub_t *hub, xs_txn_t *txn, int *changed) {
    xs_bytes_t blob;
    uint8_t hash[XS_HASH_BYTES];
    xs_policy_t *fresh = NULL;
    if (changed)
        *changed = 0;
    xs_err err = hub_meta_get(txn, HUB_META_POLICY, &blob);
    if (err != XS_OK)
        return err;
    xs_identity_hash(blob.ptr, blob.len, hash);
    if (hub->policy && memcmp(hash, hub->policy_hash, sizeof hash) == 0)
        return XS_OK;
    if ((err = xs_policy_decode(&fresh, blob.ptr, blob.len)) != XS_OK)
        return err;
    xs_policy_destroy(&hub->policy);
    hub->policy = fresh;
    memcpy(hub->policy_hash, hash, sizeof hash);
    if (changed)
        *changed = 1;
    return XS_OK;
}

xs_err hub_policy_peek(const void *blob, size_t len, char id[XS_POLICY_ID_MAX + 1],
                       uint32_t *version) {
    xs_reader_t r;
    uint32_t n, id_len;
    const char *name, *s;
    uint64_t format, v;
    xs_reader_init(&r, blob, len);
    if (xs_codec_get_array(&r, &n) != XS_OK || n < 4 ||
        xs_codec_get_str(&r, &name, &id_len) != XS_OK || id_len != 13 ||
        memcmp(name, "xueshi-policy", 13) != 0 || xs_codec_get_uint(&r, &format) != XS_OK ||
        xs_codec_get_str(&r, &s, &id_len) != XS_OK || id_len == 0 || id_len > XS_POLICY_ID_MAX ||
        xs_codec_get_uint(&r, &v) != XS_OK || v == 0 || v > INT32_MAX)
        goto malformed;
    memcpy(id, s, id_len);
    id[id_len] = '\0';
    *version = (uint32_t)v;
    return XS_OK;
malformed:
    return XS_EMALFORMED;
}

void hub_close(hub_t *hub) {
    xs_policy_destroy(&hub->policy);
    xs_identity_destroy(&hub->id);
    xs_store_close(&hub->store);
}

/* Node info is a msgpack array of 14: number, box, school, proxies, enrolled_at, revoked_at,
 * last_sync, fork_seq, forks, origin, fork_resolved_at, fork_resolved_through, head_seq,
 * head_via. Records written before the later fields existed are arrays of the first 10 or 12,
 * read with the missing ones 0 (an open fork stays open, no head known), and rewritten as 14
 * by the next hub_node_put. */
#define S_NODE_FIELDS_V1 10
#define S_NODE_FIELDS_V2 12
#define S_NODE_FIELDS 14

xs_err hub_node_put(xs_txn_t *txn, const hub_node_t *node) {
    xs_writer_t w;
    xs_writer_init(&w, 8192);
    xs_codec_put_array(&w, S_NODE_FIELDS);
    xs_codec_put_uint(&w, node->number);
    xs_codec_put_bin(&w, node->box, sizeof node->box);
    xs_codec_put_str(&w, node->school, strlen(node->school));
    xs_codec_put_array(&w, node->proxy_count);
    for (uint32_t i = 0; i < node->proxy_count; i++)
        xs_codec_put_str(&w, node->proxies[i], strlen(node->proxies[i]));
    xs_codec_put_int(&w, node->enrolled_at);
    xs_codec_put_int(&w, node->revoked_at);
    xs_codec_put_int(&w, node->last_sync);
    xs_codec_put_uint(&w, node->fork_seq);
    xs_codec_put_uint(&w, node->forks);
    xs_codec_put_bin(&w, node->origin, sizeof node->origin);
    xs_codec_put_int(&w, node->fork_resolved_at);
    xs_codec_put_uint(&w, node->fork_resolved_through);
    xs_codec_put_uint(&w, node->head_seq);
    xs_codec_put_uint(&w, node->head_via);
    xs_err err = xs_writer_err(&w);
    if (err == XS_OK)
        err = xs_store_put(txn, HUB_T_NODES, node->origin, 32, w.data, w.len, 0);
    xs_writer_free(&w);
    return err;
}

static int s_get_str(xs_reader_t *r, char *out, size_t cap) {
    const char *s;
    uint32_t len;
    if (xs_codec_get_str(r, &s, &len) != XS_OK || len >= cap)
        return 0;
    memcpy(out, s, len);
    out[len] = '\0';
    return 1;
}

/* Decodes a HUB_T_NODES value into *node. */
static xs_err s_node_decode(const xs_bytes_t *v, hub_node_t *node) {
    xs_reader_t r;
    uint32_t n, len;
    uint64_t u;
    const uint8_t *bin;
    memset(node, 0, sizeof *node);
    xs_reader_init(&r, v->ptr, v->len);
    if (xs_codec_get_array(&r, &n) != XS_OK ||
        (n != S_NODE_FIELDS && n != S_NODE_FIELDS_V2 && n != S_NODE_FIELDS_V1) ||
        xs_codec_get_uint(&r, &u) != XS_OK || u > UINT32_MAX)
        goto malformed;
    node->number = (uint32_t)u;
    if (xs_codec_get_bin(&r, &bin, &len) != XS_OK || len != 32)
        goto malformed;
    memcpy(node->box, bin, 32);
    if (!s_get_str(&r, node->school, sizeof node->school) ||
        xs_codec_get_array(&r, &node->proxy_count) != XS_OK || node->proxy_count > HUB_MAX_PROXIES)
        goto malformed;
    for (uint32_t i = 0; i < node->proxy_count; i++)
        if (!s_get_str(&r, node->proxies[i], sizeof node->proxies[i]))
            goto malformed;
    if (xs_codec_get_int(&r, &node->enrolled_at) != XS_OK ||
        xs_codec_get_int(&r, &node->revoked_at) != XS_OK ||
        xs_codec_get_int(&r, &node->last_sync) != XS_OK ||
        xs_codec_get_uint(&r, &node->fork_seq) != XS_OK ||
        xs_codec_get_uint(&r, &node->forks) != XS_OK || xs_codec_get_bin(&r, &bin, &len) != XS_OK ||
        len != 32)
        goto malformed;
    memcpy(node->origin, bin, 32);
    if (n >= S_NODE_FIELDS_V2 && (xs_codec_get_int(&r, &node->fork_resolved_at) != XS_OK ||
                                  xs_codec_get_uint(&r, &node->fork_resolved_through) != XS_OK))
        goto malformed;
    if (n >= S_NODE_FIELDS) {
        if (xs_codec_get_uint(&r, &node->head_seq) != XS_OK || xs_codec_get_uint(&r, &u) != XS_OK ||
            u > UINT32_MAX)
            goto malformed;
        node->head_via = (uint32_t)u;
    }
    return XS_OK;
malformed:
    return XS_ECORRUPT;
}

xs_err hub_node_get(xs_txn_t *txn, const uint8_t origin[32], hub_node_t *node) {
    xs_bytes_t v;
    xs_err err = xs_store_get(txn, HUB_T_NODES, origin, 32, &v);
    return err == XS_OK ? s_node_decode(&v, node) : err;
}

xs_err hub_node_by_box(xs_txn_t *txn, const uint8_t box[32], hub_node_t *node) {
    xs_bytes_t v;
    xs_err err = xs_store_get(txn, HUB_T_BOXKEYS, box, 32, &v);
    if (err != XS_OK)
        return err;
    if (v.len != 32)
        return XS_ECORRUPT;
    return hub_node_get(txn, v.ptr, node);
}

xs_err hub_node_add(xs_txn_t *txn, hub_node_t *node, int64_t now) {
    xs_bytes_t v;
    uint64_t next;
    xs_err err = xs_store_get(txn, HUB_T_BOXKEYS, node->box, 32, &v);
    if (err == XS_OK)
        return XS_EEXIST;
    if (err != XS_ENOTFOUND || (err = hub_meta_get_u64(txn, HUB_META_NEXT_NUMBER, &next)) != XS_OK)
        return err;
    if (next == 0)
        next = 1;
    if (next >= UINT32_MAX)
        return XS_ETOOBIG;
    if ((err = hub_meta_put_u64(txn, HUB_META_NEXT_NUMBER, next + 1)) != XS_OK ||
        (err = xs_store_put(txn, HUB_T_BOXKEYS, node->box, 32, node->origin, 32, 0)) != XS_OK)
        return err;
    node->number = (uint32_t)next;
    node->enrolled_at = now;
    return hub_node_put(txn, node);
}

xs_err hub_nodes_each(xs_txn_t *txn, xs_err (*fn)(void *ctx, xs_txn_t *txn, const hub_node_t *node),
                      void *ctx) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    hub_node_t *node = malloc(sizeof *node);
    xs_err err = node ? xs_store_cursor_open(txn, HUB_T_NODES, &cur) : XS_ENOMEM;
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != 32 || (err = s_node_decode(&v, node)) != XS_OK) {
            err = XS_ECORRUPT;
            break;
        }
        if ((err = fn(ctx, txn, node)) != XS_OK)
            goto out; /* fn's own error, even XS_ENOTFOUND */
    }
    if (err == XS_ENOTFOUND)
        err = XS_OK;
out:
    xs_store_cursor_close(&cur);
    free(node);
    return err;
}

typedef struct s_head {
    const uint8_t *origin;
    uint64_t head_seq;
    uint32_t via;
    hub_node_t node;
} s_head_t;

static xs_err s_note_head(xs_txn_t *txn, void *ctx) {
    s_head_t *h = ctx;
    xs_err err = hub_node_get(txn, h->origin, &h->node);
    if (err != XS_OK)
        return err;
    if (h->node.head_seq == h->head_seq && h->node.head_via == h->via)
        return XS_EEXIST; /* nothing to write: no commit */
    h->node.head_seq = h->head_seq;
    h->node.head_via = h->via;
    return hub_node_put(txn, &h->node);
}

xs_err hub_node_note_head(hub_t *hub, const uint8_t origin[32], uint64_t head_seq, uint32_t via) {
    s_head_t *h = malloc(sizeof *h);
    if (!h)
        return XS_ENOMEM;
    h->origin = origin;
    h->head_seq = head_seq;
    h->via = via;
    xs_err err = xs_store_update(hub->store, s_note_head, h);
    free(h);
    return err == XS_EEXIST ? XS_OK : err;
}

int hub_node_serves(const hub_node_t *node, const char *school, size_t len) {
    if (strlen(node->school) == len && memcmp(node->school, school, len) == 0)
        return 1;
    for (uint32_t i = 0; i < node->proxy_count; i++)
        if (strlen(node->proxies[i]) == len && memcmp(node->proxies[i], school, len) == 0)
            return 1;
    return 0;
}

xs_err hub_relays_for(xs_txn_t *txn, const hub_node_t *relay, const uint8_t origin[32],
                      hub_node_t *satellite) {
    xs_err err = hub_node_get(txn, origin, satellite);
    if (err != XS_OK)
        return err;
    if (memcmp(origin, relay->origin, 32) == 0 || satellite->revoked_at ||
        relay->proxy_count == 0 ||
        !hub_node_serves(relay, satellite->school, strlen(satellite->school)))
        return XS_EPERM;
    return XS_OK;
}
