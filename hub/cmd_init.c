/* xueshi-hub init: create the hub's store and keys, and sign the county policy. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hub.h"
#include "xs/receipt.h"

#define S_USAGE "xueshi-hub init --dir DIR --policy FILE.ini"

struct s_init {
    const uint8_t *blob; /* compiled policy */
    size_t blob_len;
    const uint8_t *signed_env; /* its signed envelope (protocol.md §5, VIEW) */
    size_t signed_len;
};

/* Writes the store's format and policy; XS_EEXIST when the store already has a policy (a new
 * version goes through `xueshi-hub policy`, which re-certifies everyone under it). */
static xs_err s_write(xs_txn_t *txn, void *ctx) {
    const struct s_init *init = ctx;
    xs_bytes_t held;
    xs_err err = hub_meta_get(txn, HUB_META_POLICY, &held);
    if (err == XS_OK)
        return XS_EEXIST;
    if (err != XS_ENOTFOUND)
        return err;
    err = hub_meta_put(txn, HUB_META_FORMAT, HUB_FORMAT, strlen(HUB_FORMAT));
    if (err == XS_OK)
        err = hub_meta_put(txn, HUB_META_POLICY, init->blob, init->blob_len);
    if (err == XS_OK)
        err = hub_meta_put(txn, HUB_META_POLICY_ENV, init->signed_env, init->signed_len);
    return err;
}

/* Says that dir is a hub already, which init never replaces; the exit code. */
static int s_already(const char *dir, const char *policy_file) {
    fprintf(stderr,
            "xueshi-hub: %s 已是一个县级中心，init 不会覆盖它的密钥和认定规则；启用新版规则请用 "
            "xueshi-hub policy --dir %s %s (already a hub: init replaces neither its keys nor "
            "its policy; to put a new policy version in force use xueshi-hub policy --dir %s "
            "%s)\n",
            dir, dir, policy_file, dir, policy_file);
    return XS_EXIT_USAGE;
}

int hub_cmd_init(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"policy", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char path[4096], line[XS_PUBKEYS_TEXT_LEN + 1];
    xs_identity_t *id = NULL;
    xs_store_t *store = NULL;
    xs_policy_t *policy = NULL;
    xs_writer_t blob, env;
    int rc = 1;
    xs_writer_init(&blob, XS_POLICY_BLOB_MAX);
    xs_writer_init(&env, XS_RECEIPT_POLICY_MAX_BYTES);
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "policy"))
        return hub_usage(S_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    const char *policy_file = xs_cli_get(opts, nopts, "policy");
    xs_err err = xs_policy_load_said(&policy, policy_file);
    if (err != XS_OK) {
        rc = 2;
        goto out;
    }
    /* A hub already here keeps its keys and policy: init never replaces them. */
    snprintf(path, sizeof path, "%s/hub.secret", dir);
    struct stat st;
    int has_key = stat(path, &st) == 0;
    snprintf(path, sizeof path, "%s/store/data.mdb", dir);
    if (has_key || stat(path, &st) == 0) {
        rc = s_already(dir, policy_file);
        goto out;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "xueshi-hub: 无法创建目录 %s (cannot create directory): %s\n", dir,
                strerror(errno));
        goto out;
    }
    if ((err = xs_identity_create(&id, dir, "hub")) != XS_OK) {
        xs_log_err(err, "县级中心密钥 %s/hub.secret (hub key)", dir);
        goto out;
    }
    snprintf(path, sizeof path, "%s/store", dir);
    if ((err = xs_store_open(&store, path, hub_tables, HUB_T_COUNT, 0)) != XS_OK) {
        xs_log_err(err, "创建数据库 %s (creating the store)", path);
        goto out;
    }
    xs_policy_compile(policy, &blob);
    if ((err = xs_writer_err(&blob)) != XS_OK ||
        (err = xs_receipt_policy_sign(&env, id, blob.data, blob.len)) != XS_OK) {
        xs_log_err(err, "签署认定规则 (signing the policy)");
        goto out;
    }
    struct s_init init = {blob.data, blob.len, env.data, env.len};
    if ((err = xs_store_update(store, s_write, &init)) == XS_EEXIST) {
        rc = s_already(dir, policy_file); /* another init got there first */
        goto out;
    }
    if (err != XS_OK) {
        xs_log_err(err, "写入县级中心信息 (writing hub metadata)");
        goto out;
    }
    xs_pubkeys_format(xs_identity_public(id), line);
    printf("县级中心已初始化 (hub initialised): %s\n", dir);
    printf("认定规则 (policy): %s 第 %u 版 %s\n", policy->id, policy->version, policy->name);
    printf("县级中心公钥 (hub public keys), 各节点 init 时使用 (give to every node's init):\n%s\n",
           line);
    rc = 0;
out:
    xs_writer_free(&blob);
    xs_writer_free(&env);
    xs_policy_destroy(&policy);
    xs_store_close(&store);
    xs_identity_destroy(&id);
    return rc;
}
