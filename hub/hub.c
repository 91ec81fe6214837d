/* hub: opening a hub directory and reading and writing enrolled nodes. */
#include "hub.h"

#include <stdio.h>
#include <string.h>

#include "xs/codec.h"

const char *const hub_tables[HUB_T_COUNT] = {
    "meta",    "nodes",    "boxkeys", "chain",    "batches", "acks",
    "records", "teachers", "exams",   "receipts", "follow",  "forks",
};

xs_err hub_open(hub_t *hub, const char *dir, int with_keys) {
    char path[4096];
    xs_txn_t *txn = NULL;
    xs_bytes_t blob;
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
    xs_err err = xs_store_open(&hub->store, path, hub_tables, HUB_T_COUNT, 0);
    if (err != XS_OK) {
        xs_log_err(err, "打开数据库 %s (opening the store)", path);
        goto out;
    }
    if ((err = xs_store_read(hub->store, &txn)) != XS_OK)
        goto out;
    err = xs_store_get(txn, HUB_T_META, "policy", 6, &blob);
    if (err == XS_OK)
        err = xs_policy_decode(&hub->policy, blob.ptr, blob.len);
    if (err == XS_OK)
        err = xs_policy_hash(hub->policy, hub->policy_hash);
    xs_store_end(&txn);
    if (err != XS_OK) {
        xs_log_err(err, "%s 的认定规则无法读取，请重新运行 xueshi-hub init (the hub's policy)",
                   dir);
        goto out;
    }
    if (with_keys && (err = xs_identity_load(&hub->id, dir, "hub")) != XS_OK)
        xs_log_err(err, "县级中心密钥 %s/hub.secret (hub key)", dir);
out:
    if (err != XS_OK)
        hub_close(hub);
    return err;
}

void hub_close(hub_t *hub) {
    xs_policy_destroy(&hub->policy);
    xs_identity_destroy(&hub->id);
    xs_store_close(&hub->store);
}

/* Node info is a msgpack array of 10: number, box, school, proxies, enrolled_at, revoked_at,
 * last_sync, fork_seq, forks, origin (docs/design.md). */
xs_err hub_node_put(xs_txn_t *txn, const hub_node_t *node) {
    xs_writer_t w;
    xs_writer_init(&w, 8192);
    xs_codec_put_array(&w, 10);
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

xs_err hub_node_get(xs_txn_t *txn, const uint8_t origin[32], hub_node_t *node) {
    xs_bytes_t v;
    xs_reader_t r;
    uint32_t n, len;
    uint64_t u;
    const uint8_t *bin;
    xs_err err = xs_store_get(txn, HUB_T_NODES, origin, 32, &v);
    if (err != XS_OK)
        return err;
    memset(node, 0, sizeof *node);
    xs_reader_init(&r, v.ptr, v.len);
    if (xs_codec_get_array(&r, &n) != XS_OK || n != 10 || xs_codec_get_uint(&r, &u) != XS_OK ||
        u > UINT32_MAX)
        return XS_ECORRUPT;
    node->number = (uint32_t)u;
    if (xs_codec_get_bin(&r, &bin, &len) != XS_OK || len != 32)
        return XS_ECORRUPT;
    memcpy(node->box, bin, 32);
    if (!s_get_str(&r, node->school, sizeof node->school) ||
        xs_codec_get_array(&r, &node->proxy_count) != XS_OK || node->proxy_count > HUB_MAX_PROXIES)
        return XS_ECORRUPT;
    for (uint32_t i = 0; i < node->proxy_count; i++)
        if (!s_get_str(&r, node->proxies[i], sizeof node->proxies[i]))
            return XS_ECORRUPT;
    if (xs_codec_get_int(&r, &node->enrolled_at) != XS_OK ||
        xs_codec_get_int(&r, &node->revoked_at) != XS_OK ||
        xs_codec_get_int(&r, &node->last_sync) != XS_OK ||
        xs_codec_get_uint(&r, &node->fork_seq) != XS_OK ||
        xs_codec_get_uint(&r, &node->forks) != XS_OK || xs_codec_get_bin(&r, &bin, &len) != XS_OK ||
        len != 32)
        return XS_ECORRUPT;
    memcpy(node->origin, bin, 32);
    return XS_OK;
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
