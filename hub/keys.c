/* keys: the hub's key rotations: the statement, the chain in the store, the key file. */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs/receipt.h"

/* The successor's file name while a rotation is under way (DIR/hub-next.secret). */
#define S_NEXT "hub-next"

xs_err hub_keys_chain(xs_txn_t *txn, xs_bytes_t *chain) {
    xs_err err = hub_meta_get(txn, HUB_META_ROTATIONS, chain);
    if (err == XS_ENOTFOUND) {
        chain->ptr = NULL;
        chain->len = 0;
        err = XS_OK;
    }
    return err;
}

/* The key in force by the chain in txn into key, and the chain's statements into *count;
 * *has = 0 when the hub never rotated. */
static xs_err s_in_force(xs_txn_t *txn, uint8_t key[XS_SIGN_PK_BYTES], int *has, uint32_t *count) {
    xs_bytes_t chain;
    xs_rotation_t steps[XS_ROTATION_CHAIN_MAX];
    size_t n;
    xs_err err = hub_keys_chain(txn, &chain);
    *has = 0;
    *count = 0;
    if (err != XS_OK || chain.len == 0)
        return err;
    /* The chain is the hub's own: followed from its first key. */
    if (xs_rotation_chain_count(chain.ptr, chain.len, count) != XS_OK ||
        xs_rotation_follow(chain.ptr, chain.len, NULL, key, steps, XS_ROTATION_CHAIN_MAX, &n) !=
            XS_OK)
        return XS_ECORRUPT;
    *has = 1;
    return XS_OK;
}

/* What the write step of a rotation needs and leaves. */
typedef struct s_rotate {
    hub_t *hub;
    const xs_identity_t *next;
    int64_t now;
    xs_rotation_t done;
} s_rotate_t;

static xs_err s_rotate_step(xs_txn_t *txn, void *ctx) {
    s_rotate_t *r = ctx;
    xs_bytes_t chain, policy;
    xs_writer_t statement, grown, env;
    uint32_t count;
    xs_err err = hub_keys_chain(txn, &chain);
    if (err != XS_OK)
        return err;
    if (xs_rotation_chain_count(chain.ptr, chain.len, &count) != XS_OK)
        return XS_ECORRUPT;
    xs_writer_init(&statement, XS_ROTATION_MAX_BYTES);
    xs_writer_init(&grown, XS_ROTATION_CHAIN_MAX_BYTES);
    xs_writer_init(&env, XS_RECEIPT_POLICY_MAX_BYTES);
    err = xs_rotation_sign(&statement, r->hub->id, r->next, count + 1, r->now);
    if (err == XS_OK)
        err = xs_rotation_chain_append(&grown, chain.ptr, chain.len, statement.data, statement.len);
    if (err == XS_OK)
        err = xs_rotation_open(statement.data, statement.len, &r->done);
    /* VIEW offers the policy under the key in force. */
    if (err == XS_OK)
        err = hub_meta_get(txn, HUB_META_POLICY, &policy);
    if (err == XS_OK)
        err = xs_receipt_policy_sign(&env, r->next, policy.ptr, policy.len);
    if (err == XS_OK)
        err = hub_meta_put(txn, HUB_META_POLICY_ENV, env.data, env.len);
    if (err == XS_OK)
        err = hub_meta_put(txn, HUB_META_ROTATIONS, grown.data, grown.len);
    xs_writer_free(&statement);
    xs_writer_free(&grown);
    xs_writer_free(&env);
    return err;
}

/* 1 when DIR/NAME.secret exists. */
static int s_exists(const char *dir, const char *name) {
    char path[4096];
    struct stat st;
    return snprintf(path, sizeof path, "%s/%s.secret", dir, name) < (int)sizeof path &&
           stat(path, &st) == 0;
}

/* Removes DIR/hub-next.{secret,pub}, a successor no statement names. */
static void s_drop_next(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.secret", dir, S_NEXT);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.pub", dir, S_NEXT);
    unlink(path);
}

xs_err hub_keys_rotate(hub_t *hub, int64_t now, xs_rotation_t *done) {
    xs_identity_t *next = NULL;
    xs_err err = hub_keys_check(hub);
    if (err != XS_OK)
        return err;
    /* A successor left by a rotation cut short before its step is named by no statement
     * (hub_keys_check above would have put a named one in place): it never signed anything. */
    if (s_exists(hub->dir, S_NEXT))
        s_drop_next(hub->dir);
    if ((err = xs_identity_create_successor(&next, hub->dir, S_NEXT, hub->id)) != XS_OK)
        return err;
    s_rotate_t r = {hub, next, now, {{0}, {0}, 0, 0}};
    err = xs_store_update(hub->store, s_rotate_step, &r);
    if (err != XS_OK) {
        s_drop_next(hub->dir);
        xs_identity_destroy(&next);
        return err;
    }
    if ((err = xs_identity_rename(hub->dir, S_NEXT, "hub")) != XS_OK) {
        xs_identity_destroy(&next);
        return err; /* the statement stands: hub_keys_check finishes the rename */
    }
    xs_identity_destroy(&hub->id);
    hub->id = next;
    hub->rotations = r.done.number;
    *done = r.done;
    return XS_OK;
}

xs_err hub_keys_check(hub_t *hub) {
    xs_txn_t *txn = NULL;
    uint8_t key[XS_SIGN_PK_BYTES];
    int has;
    uint32_t count;
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK)
        err = s_in_force(txn, key, &has, &count);
    xs_store_end(&txn);
    if (err != XS_OK)
        return err;
    hub->rotations = count;
    if (!has || memcmp(key, xs_identity_public(hub->id)->sign, sizeof key) == 0)
        return XS_OK;
    xs_identity_t *next = NULL;
    if (xs_identity_load(&next, hub->dir, S_NEXT) == XS_OK &&
        memcmp(key, xs_identity_public(next)->sign, sizeof key) == 0 &&
        xs_identity_rename(hub->dir, S_NEXT, "hub") == XS_OK) {
        xs_identity_destroy(&hub->id);
        hub->id = next;
        xs_log("%s: 完成了上次中断的密钥轮换 (finished a key rotation that was cut short)",
               hub->dir);
        return XS_OK;
    }
    xs_identity_destroy(&next);
    xs_log("%s/hub.secret 不是现行的签名密钥（已被轮换掉），请从备份恢复现行密钥 (hub.secret is "
           "not the signing key in force: it was rotated out; restore the current key from a "
           "backup)",
           hub->dir);
    return XS_ECRYPTO;
}

xs_err hub_keys_follow(hub_t *hub, xs_txn_t *txn, int *changed) {
    uint8_t key[XS_SIGN_PK_BYTES];
    int has;
    uint32_t count;
    xs_bytes_t chain;
    if (changed)
        *changed = 0;
    /* Asked at every session: the chain only grows, so one of the length last checked is the
     * same chain, and its signatures need no second look. */
    xs_err err = hub_keys_chain(txn, &chain);
    if (err == XS_OK && xs_rotation_chain_count(chain.ptr, chain.len, &count) != XS_OK)
        err = XS_ECORRUPT;
    if (err != XS_OK || count == hub->rotations || !hub->id)
        return err;
    if ((err = s_in_force(txn, key, &has, &count)) != XS_OK)
        return err;
    if (!has || memcmp(key, xs_identity_public(hub->id)->sign, sizeof key) == 0) {
        hub->rotations = count;
        return XS_OK;
    }
    xs_identity_t *fresh = NULL;
    /* The rotation may not have renamed its file yet: the successor is then hub-next. */
    if ((err = xs_identity_load(&fresh, hub->dir, "hub")) == XS_OK &&
        memcmp(key, xs_identity_public(fresh)->sign, sizeof key) != 0) {
        xs_identity_destroy(&fresh);
        err = xs_identity_load(&fresh, hub->dir, S_NEXT);
        if (err == XS_OK && memcmp(key, xs_identity_public(fresh)->sign, sizeof key) != 0)
            err = XS_ECRYPTO;
    }
    if (err != XS_OK) {
        xs_identity_destroy(&fresh);
        return err;
    }
    xs_identity_destroy(&hub->id);
    hub->id = fresh;
    hub->rotations = count;
    if (changed)
        *changed = 1;
    return XS_OK;
}
