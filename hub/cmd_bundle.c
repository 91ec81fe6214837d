/* xueshi-hub import / export-receipts: USB bundles where there is no link at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "merge.h"
#include "xs/bundle.h"
#include "xs/codec.h"

#define S_IMPORT_USAGE "xueshi-hub import --dir DIR FILE"
#define S_EXPORT_USAGE "xueshi-hub export-receipts --dir DIR --node NODE_KEYS --out FILE"
/* Batches merged per transaction, as the server groups them. */
#define S_GROUP 64

static const char *s_outcome(const hub_item_t *item) {
    switch (item->status) {
    case XS_ACK_ACCEPTED:
        return "新 (new)";
    case XS_ACK_HELD:
        return "已有 (already known)";
    case XS_ACK_FORK:
        return "分叉，已隔离 (fork, quarantined)";
    default:
        return "拒绝 (rejected)";
    }
}

int hub_cmd_import(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const char *pos[1], *why = NULL;
    size_t npos, len;
    hub_t hub;
    xs_bundle_items_t items;
    uint8_t *bytes = NULL;
    hub_item_t group[S_GROUP];
    hub_merge_stats_t total, st;
    int rc = 1;
    memset(&items, 0, sizeof items);
    memset(&total, 0, sizeof total);
    if (hub_args(argc, argv, opts, 2, pos, 1, &npos) != XS_OK || opts[1].value || npos != 1 ||
        !opts[0].value)
        return hub_usage(S_IMPORT_USAGE);
    if (hub_open(&hub, opts[0].value, 1) != XS_OK)
        return 1;
    xs_err err = xs_bundle_load_file(pos[0], &bytes, &len);
    if (err != XS_OK) {
        xs_log_err(err, "无法读取 %s (cannot read)", pos[0]);
        goto out;
    }
    /* Nothing is merged until the whole bundle has been read and authenticated. */
    if ((err = xs_bundle_read(bytes, len, XS_BUNDLE_BATCHES, hub.id, &items, &why)) != XS_OK) {
        fprintf(stderr, "xueshi-hub: %s 被拒绝，未合并任何内容 (refused, nothing merged): %s\n",
                pos[0], why ? why : xs_strerror(err));
        rc = 2;
        goto out;
    }
    for (size_t first = 0; first < items.count; first += S_GROUP) {
        size_t n = items.count - first < S_GROUP ? items.count - first : S_GROUP;
        for (size_t i = 0; i < n; i++) {
            const xs_bundle_item_t *it = &items.items[first + i];
            uint8_t origin[32] = {0};
            /* A bundle is carried by anyone: each batch answers for its own origin. */
            if (xs_batch_peek_origin(it->ptr, it->len, origin) != XS_OK)
                memset(origin, 0, sizeof origin);
            hub_item_open(&group[i], it->ptr, it->len, origin);
        }
        err = hub_merge(&hub, group, n, &st);
        for (size_t i = 0; i < n; i++) {
            const hub_item_t *g = &group[i];
            char hex[17] = "?";
            if (g->open_err == XS_OK)
                xs_hex_encode(g->batch.origin, 8, hex);
            printf("  节点 %s… 序号 %llu-%llu: %s%s%s\n", hex,
                   (unsigned long long)g->batch.first_seq,
                   (unsigned long long)(g->batch.first_seq + g->batch.count - 1), s_outcome(g),
                   g->status == XS_ACK_REFUSED ? " " : "",
                   g->status == XS_ACK_REFUSED ? xs_proto_code_message(g->error) : "");
            hub_item_free(&group[i]);
        }
        if (err != XS_OK) {
            xs_log_err(err, "合并失败，这一组未写入 (merge failed; this group stored nothing)");
            goto out;
        }
        total.batches += st.batches;
        total.records += st.records;
        total.rejected += st.rejected;
        total.held += st.held;
        total.forks += st.forks;
        total.refused += st.refused;
        total.teachers += st.teachers;
    }
    printf("导入完成 (import done): 新 %llu 批 %llu 条 (拒收 %llu 条)，已有 %llu 批，分叉 %llu，"
           "拒绝 %llu，回执 %llu 人 (new, known, forks, refused, teachers receipted)\n",
           (unsigned long long)total.batches, (unsigned long long)total.records,
           (unsigned long long)total.rejected, (unsigned long long)total.held,
           (unsigned long long)total.forks, (unsigned long long)total.refused,
           (unsigned long long)total.teachers);
    rc = total.refused || total.forks ? 1 : 0;
out:
    xs_bundle_items_free(&items);
    free(bytes);
    hub_close(&hub);
    return rc;
}

/* Adds every receipt of origin's teachers to the bundle, as [origin, receipt] items. */
static xs_err s_add_receipts(xs_txn_t *txn, xs_bundle_writer_t *w, const uint8_t origin[32],
                             uint64_t *count) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v, receipt;
    xs_writer_t item;
    xs_writer_init(&item, XS_BUNDLE_ITEM_MAX);
    xs_err err = xs_store_cursor_open(txn, HUB_T_FOLLOW, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, origin, 32, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len <= 32 || memcmp(k.ptr, origin, 32) != 0)
            break;
        if ((err = xs_store_get(txn, HUB_T_RECEIPTS, (const uint8_t *)k.ptr + 32, k.len - 32,
                                &receipt)) == XS_ENOTFOUND)
            continue;
        if (err != XS_OK)
            break;
        xs_writer_reset(&item);
        xs_codec_put_array(&item, 2);
        xs_codec_put_bin(&item, origin, 32);
        xs_codec_put_bin(&item, receipt.ptr, receipt.len);
        if ((err = xs_writer_err(&item)) != XS_OK ||
            (err = xs_bundle_writer_add(w, item.data, item.len)) != XS_OK)
            break;
        (*count)++;
    }
    xs_store_cursor_close(&cur);
    xs_writer_free(&item);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

int hub_cmd_export_receipts(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"node", 1, NULL}, {"out", 1, NULL}, {"help", 0, NULL}};
    const char *pos[1];
    size_t npos;
    hub_t hub;
    xs_pubkeys_t keys;
    xs_txn_t *txn = NULL;
    xs_cursor_t *cur = NULL;
    xs_bundle_writer_t *w = NULL;
    hub_node_t node, satellite;
    xs_bytes_t k, v;
    uint64_t count = 0;
    uint32_t satellites = 0;
    char part[4200];
    int rc = 1;
    if (hub_args(argc, argv, opts, 4, pos, 0, &npos) != XS_OK || opts[3].value || !opts[0].value ||
        !opts[1].value || !opts[2].value)
        return hub_usage(S_EXPORT_USAGE);
    if (xs_pubkeys_parse(opts[1].value, strlen(opts[1].value), &keys) != XS_OK) {
        fprintf(stderr, "xueshi-hub: 节点公钥格式不对 (node keys look like xs1:...)\n");
        return 2;
    }
    const char *out = opts[2].value;
    if (snprintf(part, sizeof part, "%s.part", out) >= (int)sizeof part)
        return 2;
    if (hub_open(&hub, opts[0].value, 0) != XS_OK)
        return 1;
    FILE *f = NULL;
    xs_err err = xs_store_read(hub.store, &txn);
    if (err == XS_OK && (err = hub_node_get(txn, keys.sign, &node)) == XS_ENOTFOUND)
        fprintf(stderr, "xueshi-hub: 该节点未登记 (not enrolled)\n");
    if (err == XS_OK && memcmp(node.box, keys.box, 32) != 0) {
        fprintf(stderr,
                "xueshi-hub: 传输密钥与登记的不同 (transport key differs from enrollment)\n");
        err = XS_EINVAL;
    }
    if (err == XS_OK && !(f = fopen(part, "wb"))) {
        fprintf(stderr, "xueshi-hub: 无法写入 %s (cannot write)\n", part);
        err = XS_EIO;
    }
    if (err == XS_OK)
        err = xs_bundle_writer_open(&w, f, XS_BUNDLE_RECEIPTS, node.box);
    /* The county's signed policy first, as VIEW would bring it. */
    xs_bytes_t policy;
    if (err == XS_OK && (err = xs_store_get(txn, HUB_T_META, "policy_env", 10, &policy)) == XS_OK) {
        xs_writer_t item;
        xs_writer_init(&item, XS_BUNDLE_ITEM_MAX);
        xs_codec_put_array(&item, 2);
        xs_codec_put_nil(&item);
        xs_codec_put_bin(&item, policy.ptr, policy.len);
        err = xs_writer_err(&item);
        if (err == XS_OK)
            err = xs_bundle_writer_add(w, item.data, item.len);
        xs_writer_free(&item);
    }
    if (err == XS_OK)
        err = s_add_receipts(txn, w, node.origin, &count);
    /* A relay carries its satellites' receipts back too. */
    if (err == XS_OK && node.proxy_count)
        err = xs_store_cursor_open(txn, HUB_T_NODES, &cur);
    for (int more = err == XS_OK && node.proxy_count; more;) {
        err = satellites ? xs_store_cursor_next(cur, &k, &v)
                         : xs_store_cursor_seek(cur, NULL, 0, &k, &v);
        if (err != XS_OK)
            break;
        satellites = 1;
        if (k.len == 32 && hub_relays_for(txn, &node, k.ptr, &satellite) == XS_OK &&
            (err = s_add_receipts(txn, w, satellite.origin, &count)) != XS_OK)
            break;
    }
    if (err == XS_ENOTFOUND)
        err = XS_OK;
    if (err == XS_OK)
        err = xs_bundle_writer_finish(w);
    xs_bundle_writer_free(&w);
    xs_store_cursor_close(&cur);
    xs_store_end(&txn);
    if (f && fclose(f) != 0 && err == XS_OK)
        err = XS_EIO;
    if (err == XS_OK && rename(part, out) != 0)
        err = XS_EIO;
    if (err == XS_OK) {
        printf(
            "已导出 %llu 份认定回执到 %s，加密给该节点 (exported %llu receipts, encrypted to the "
            "node)\n",
            (unsigned long long)count, out, (unsigned long long)count);
        rc = 0;
    } else {
        if (f)
            remove(part);
        if (err != XS_ENOTFOUND && err != XS_EINVAL)
            xs_log_err(err, "导出认定回执失败 (exporting receipts failed)");
    }
    hub_close(&hub);
    return rc;
}
