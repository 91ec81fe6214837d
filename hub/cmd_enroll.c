/* xueshi-hub enroll / revoke: admit a node's keys for its schools, or stop accepting them. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hub.h"
#include "xs/text.h"

#define S_ENROLL_USAGE                                                                             \
    "xueshi-hub enroll --dir DIR --node NODE_KEYS --school SCHOOL_ID [--proxy-for S1,S2,...]"
#define S_REVOKE_USAGE "xueshi-hub revoke --dir DIR --node NODE_KEYS"

struct s_enroll {
    hub_node_t node;     /* what to enroll */
    int revoke;          /* revoke instead */
    const char *refusal; /* out: why nothing changed, or NULL */
    int unchanged;       /* out: already so */
};

static xs_err s_enroll(xs_txn_t *txn, void *ctx) {
    struct s_enroll *e = ctx;
    hub_node_t old;
    e->refusal = NULL;
    e->unchanged = 0;
    xs_err err = hub_node_get(txn, e->node.origin, &old);
    if (err != XS_OK && err != XS_ENOTFOUND)
        return err;
    if (e->revoke) {
        if (err == XS_ENOTFOUND) {
            e->refusal = "该节点未登记 (not enrolled)";
            return XS_ENOTFOUND;
        }
        if (old.revoked_at) {
            e->unchanged = 1;
            return XS_OK;
        }
        old.revoked_at = (int64_t)time(NULL);
        return hub_node_put(txn, &old);
    }
    if (err == XS_ENOTFOUND) {
        err = hub_node_add(txn, &e->node, (int64_t)time(NULL));
        if (err == XS_EEXIST)
            e->refusal = "传输密钥已属于另一节点 (transport key belongs to another node)";
        return err;
    }
    if (old.revoked_at) {
        e->refusal = "该节点密钥已吊销，请节点重新 init 生成新密钥 (revoked keys cannot be "
                     "enrolled again; the node must init new keys)";
        return XS_EPERM;
    }
    if (memcmp(old.box, e->node.box, 32) != 0) {
        e->refusal = "签名密钥相同但传输密钥不同 (same signing key, different transport key)";
        return XS_EINVAL;
    }
    /* Re-enrolling updates the schools; the number and history stay. */
    memcpy(old.school, e->node.school, sizeof old.school);
    old.proxy_count = e->node.proxy_count;
    memcpy(old.proxies, e->node.proxies, sizeof old.proxies);
    e->node = old;
    return hub_node_put(txn, &e->node);
}

/* Splits "S1,S2" into node->proxies; 0 on a bad list. */
static int s_proxies(const char *list, hub_node_t *node) {
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *s = p;
        xs_text_trim(&s, &len);
        if (len == 0 || len > XS_ID_MAX || node->proxy_count >= HUB_MAX_PROXIES ||
            !xs_text_utf8_valid(s, len))
            return 0;
        memcpy(node->proxies[node->proxy_count], s, len);
        node->proxies[node->proxy_count++][len] = '\0';
        p = comma ? comma + 1 : p + strlen(p);
    }
    return 1;
}

static int s_run(int argc, char **argv, int revoke) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},
                           {"node", 1, NULL},
                           {"school", 1, NULL},
                           {"proxy-for", 1, NULL},
                           {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1], *usage = revoke ? S_REVOKE_USAGE : S_ENROLL_USAGE;
    size_t npos;
    xs_pubkeys_t keys;
    hub_t hub;
    struct s_enroll e;
    memset(&e, 0, sizeof e);
    e.revoke = revoke;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK)
        return hub_usage(usage);
    const char *dir = xs_cli_get(opts, nopts, "dir"), *text = xs_cli_get(opts, nopts, "node");
    const char *school = xs_cli_get(opts, nopts, "school");
    const char *proxies = xs_cli_get(opts, nopts, "proxy-for");
    if (xs_cli_get(opts, nopts, "help") || !dir || !text || (!revoke && !school) ||
        (revoke && (school || proxies)))
        return hub_usage(usage);
    if (xs_pubkeys_parse(text, strlen(text), &keys) != XS_OK) {
        fprintf(stderr, "xueshi-hub: 节点公钥格式不对，应为 xueshi-node init 最后一行 "
                        "(node keys look like the last line of xueshi-node init: xs1:...)\n");
        return 2;
    }
    memcpy(e.node.origin, keys.sign, 32);
    memcpy(e.node.box, keys.box, 32);
    if (!revoke) {
        size_t len = strlen(school);
        if (len == 0 || len > XS_ID_MAX || !xs_text_utf8_valid(school, len)) {
            fprintf(stderr, "xueshi-hub: 学校编号无效 (invalid school id)\n");
            return 2;
        }
        memcpy(e.node.school, school, len + 1);
        if (proxies && !s_proxies(proxies, &e.node)) {
            fprintf(stderr, "xueshi-hub: --proxy-for 无效 (invalid school list)\n");
            return 2;
        }
    }
    if (hub_open(&hub, dir, 0) != XS_OK)
        return 1;
    xs_err err = xs_store_update(hub.store, s_enroll, &e);
    hub_close(&hub);
    if (e.refusal) {
        fprintf(stderr, "xueshi-hub: %s\n", e.refusal);
        return 2;
    }
    if (err != XS_OK) {
        xs_log_err(err, "未写入 (nothing written)");
        return 1;
    }
    char hex[65];
    xs_hex_encode(keys.sign, 8, hex);
    if (revoke)
        printf("%s (revoked): 节点 %s…，此后不再接受其任何数据；已收到的记录仍然有效\n",
               e.unchanged ? "早已吊销" : "已吊销", hex);
    else
        printf("已登记 (enrolled): 节点 %s… 编号 %u，学校 %s%s%s\n", hex, e.node.number,
               e.node.school, e.node.proxy_count ? "，代管 " : "",
               e.node.proxy_count ? proxies : "");
    return 0;
}

int hub_cmd_enroll(int argc, char **argv) {
    return s_run(argc, argv, 0);
}

int hub_cmd_revoke(int argc, char **argv) {
    return s_run(argc, argv, 1);
}
