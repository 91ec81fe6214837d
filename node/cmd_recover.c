/* xueshi-node recover: rebuild a node's store from the hub's copies of its own signed batches,
 * after the store was lost or damaged (protocol.md §9). The old store is set aside, never
 * deleted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "node.h"
#include "sync.h"

#define S_USAGE                                                                                    \
    "xueshi-node recover --dir DIR [--timeout SECONDS]\n"                                          \
    "  rebuilds DIR/store from the county hub; the old store is kept as "                          \
    "DIR/store.replaced-TIME.\n"                                                                   \
    "  On a new PC: copy the backed-up node.secret into DIR and run\n"                             \
    "  xueshi-node init --dir DIR --school ... --hub ... --hub-key ... --recover"

/* The meta values a rebuilt store keeps: who the node is and whom it syncs with. */
static const node_meta_key s_kept[] = {NODE_META_FORMAT,     NODE_META_SCHOOL,     NODE_META_HUB,
                                       NODE_META_HUB_KEYS,   NODE_META_COUNTY_KEY, NODE_META_POLICY,
                                       NODE_META_POLICY_ENV, NODE_META_RELAY};
#define S_KEPT (sizeof s_kept / sizeof s_kept[0])

typedef struct s_saved {
    uint8_t *value[S_KEPT];
    size_t len[S_KEPT];
} s_saved_t;

static void s_saved_free(s_saved_t *saved) {
    for (size_t i = 0; i < S_KEPT; i++)
        free(saved->value[i]);
}

/* Copies the kept meta values out of the old store; XS_ENOTFOUND when it has no hub. */
static xs_err s_save(node_t *old, s_saved_t *saved) {
    xs_txn_t *txn = NULL;
    xs_err err = xs_store_read(old->store, &txn);
    for (size_t i = 0; err == XS_OK && i < S_KEPT; i++) {
        xs_bytes_t v;
        xs_err got = node_meta_get(txn, s_kept[i], &v);
        if (got == XS_ENOTFOUND) {
            if (s_kept[i] == NODE_META_HUB || s_kept[i] == NODE_META_HUB_KEYS)
                err = XS_ENOTFOUND;
            continue;
        }
        if (got != XS_OK || !(saved->value[i] = malloc(v.len ? v.len : 1))) {
            err = got != XS_OK ? got : XS_ENOMEM;
            break;
        }
        memcpy(saved->value[i], v.ptr, v.len);
        saved->len[i] = v.len;
    }
    xs_store_end(&txn);
    return err;
}

static xs_err s_restore_step(xs_txn_t *txn, void *ctx) {
    const s_saved_t *saved = ctx;
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < S_KEPT; i++)
        if (saved->value[i])
            err = node_meta_put(txn, s_kept[i], saved->value[i], saved->len[i]);
    return err;
}

/* Sets DIR/store aside (when there is one): it is never deleted. */
static xs_err s_set_aside(const char *dir) {
    char path[4096], aside[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/store", dir);
    if (stat(path, &st) != 0 && errno == ENOENT)
        return XS_OK;
    /* A name no earlier recovery took: rename() would replace an empty directory. */
    long long now = (long long)time(NULL);
    int n = 0;
    do
        snprintf(aside, sizeof aside, n ? "%s/store.replaced-%lld-%d" : "%s/store.replaced-%lld",
                 dir, now, n);
    while (stat(aside, &st) == 0 && ++n < 1000);
    if (rename(path, aside) != 0) {
        fprintf(stderr, "xueshi-node: 无法移开旧数据库 %s (cannot set the old store aside): %s\n",
                path, strerror(errno));
        return XS_EIO;
    }
    printf("旧数据库已保留为 (the old store is kept as) %s\n", aside);
    return XS_OK;
}

/* Sets DIR/store aside and creates an empty one holding the saved meta values. */
static xs_err s_replace_store(const char *dir, const s_saved_t *saved) {
    char path[4096];
    xs_store_t *store = NULL;
    snprintf(path, sizeof path, "%s/store", dir);
    xs_err err = s_set_aside(dir);
    if (err != XS_OK)
        return err;
    err = xs_store_open(&store, path, node_tables, NODE_T_COUNT, 0);
    if (err == XS_OK)
        err = xs_store_update(store, s_restore_step, (void *)saved);
    xs_store_close(&store);
    if (err != XS_OK)
        xs_log_err(err, "创建新数据库 %s (creating the new store)", path);
    return err;
}

/* The old store cannot tell who this node is: start afresh from the options given, as
 * `init --recover` does. */
static int s_recover_as_init(const char *dir, const char *school, const char *hub,
                             const char *hub_key, const char *county_key) {
    char *args[16];
    int n = 0;
    if (s_set_aside(dir) != XS_OK)
        return 1;
    args[n++] = "--dir";
    args[n++] = (char *)dir;
    args[n++] = "--school";
    args[n++] = (char *)school;
    args[n++] = "--hub";
    args[n++] = (char *)hub;
    args[n++] = "--hub-key";
    args[n++] = (char *)hub_key;
    if (county_key) {
        args[n++] = "--county-key";
        args[n++] = (char *)county_key;
    }
    args[n++] = "--recover";
    args[n] = NULL;
    return node_cmd_init(n, args);
}

int node_cmd_recover(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},       {"timeout", 1, NULL}, {"help", 0, NULL},
                           {"school", 1, NULL},    {"hub", 1, NULL},     {"hub-key", 1, NULL},
                           {"county-key", 1, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    s_saved_t saved;
    xs_identity_t *id = NULL;
    int timeout_ms;
    memset(&saved, 0, sizeof saved);
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    const char *school = xs_cli_get(opts, nopts, "school"), *hub = xs_cli_get(opts, nopts, "hub");
    const char *hub_key = xs_cli_get(opts, nopts, "hub-key");
    if (!school != !hub || !hub != !hub_key)
        return node_usage(S_USAGE);
    if (node_timeout_ms(xs_cli_get(opts, nopts, "timeout"), &timeout_ms) != XS_OK)
        return 2;
    xs_err err = xs_identity_load(&id, dir, "node");
    xs_identity_destroy(&id);
    if (err != XS_OK) {
        xs_log_err(err,
                   "节点密钥 %s/node.secret：请先从备份复制 (the node key: copy it from the "
                   "backup first)",
                   dir);
        return 1;
    }
    if (hub)
        return s_recover_as_init(dir, school, hub, hub_key, xs_cli_get(opts, nopts, "county-key"));
    if (node_open(&node, dir) != XS_OK) {
        xs_log(
            "%s 的旧数据库无法读取，请加上 --school --hub --hub-key 再运行 (the old store cannot "
            "be read: give --school, --hub and --hub-key)",
            dir);
        return 1;
    }
    err = s_save(&node, &saved);
    node_close(&node);
    if (err == XS_ENOTFOUND)
        xs_log("%s 的数据库里没有县级中心地址，请加上 --school --hub --hub-key 再运行 (no hub in "
               "the store: give --school, --hub and --hub-key)",
               dir);
    if (err == XS_OK)
        err = s_replace_store(dir, &saved);
    s_saved_free(&saved);
    if (err != XS_OK || node_open(&node, dir) != XS_OK)
        return 1;
    int rc = node_sync_command(&node, timeout_ms);
    node_close(&node);
    return rc;
}
