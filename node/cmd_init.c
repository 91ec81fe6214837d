/* xueshi-node init: create a node's directory, store and keys. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "node.h"
#include "sync.h"
#include "xs/text.h"

#define S_USAGE                                                                                    \
    "xueshi-node init --dir DIR --school SCHOOL_ID [--hub tcp://HOST:PORT --hub-key KEYS]\n"       \
    "       [--county-key HUB_KEYS] [--policy FILE.ini] [--recover]\n"                             \
    "  --hub/--hub-key: the county hub, or the central school's relay that serves this school;\n"  \
    "  --county-key: the hub's keys when --hub is a relay (receipts are checked against them);\n"  \
    "  --recover: on a new PC, with the school's backed-up node.secret copied into DIR: fetch\n"   \
    "             this node's records back from the hub (exit codes as sync)"

/* How long a recovery session may take in all: a school's whole history comes back. */
#define S_RECOVER_TIMEOUT_MS (10 * 60 * 1000)

struct s_init {
    const char *school;
};

struct s_hub {
    const char *endpoint; /* where the hub (or the central school's relay) listens */
    xs_pubkeys_t keys;    /* its public keys */
    int has_county;       /* 1: --hub is a relay; the county hub's keys follow */
    xs_pubkeys_t county;  /* the county hub's public keys */
};

static xs_err s_write_hub(xs_txn_t *txn, void *ctx) {
    const struct s_hub *hub = ctx;
    uint8_t keys[64];
    memcpy(keys, hub->keys.sign, 32);
    memcpy(keys + 32, hub->keys.box, 32);
    xs_err err = node_meta_put(txn, NODE_META_HUB, hub->endpoint, strlen(hub->endpoint));
    if (err == XS_OK)
        err = node_meta_put(txn, NODE_META_HUB_KEYS, keys, sizeof keys);
    if (err == XS_OK && hub->has_county) {
        memcpy(keys, hub->county.sign, 32);
        memcpy(keys + 32, hub->county.box, 32);
        err = node_meta_put(txn, NODE_META_COUNTY_KEY, keys, sizeof keys);
    }
    return err;
}

static xs_err s_write_meta(xs_txn_t *txn, void *ctx) {
    const struct s_init *init = ctx;
    xs_err err = node_meta_put(txn, NODE_META_FORMAT, NODE_FORMAT, strlen(NODE_FORMAT));
    if (err == XS_OK)
        err = node_meta_put(txn, NODE_META_SCHOOL, init->school, strlen(init->school));
    return err;
}

/* What the command line asks for. */
typedef struct s_args {
    const char *dir;    /* --dir: the node's directory */
    const char *school; /* --school: the school's id */
    const char *policy; /* --policy: a policy file to install, or NULL */
    int recover;        /* --recover: fetch this node's records back from the hub */
    struct s_hub hub;   /* --hub, --hub-key, --county-key; endpoint NULL when not given */
} s_args_t;

/* Checks the hub's endpoint and keys into hub; 0, or 2 after saying why. */
static int s_parse_hub(struct s_hub *hub, const char *endpoint, const char *hub_key,
                       const char *county_key) {
    if (county_key) {
        if (xs_pubkeys_parse(county_key, strlen(county_key), &hub->county) != XS_OK) {
            fprintf(stderr, "xueshi-node: --county-key 格式不对 (the last line of xueshi-hub "
                            "init: xs1:...)\n");
            return 2;
        }
        hub->has_county = 1;
    }
    if (endpoint) {
        hub->endpoint = endpoint;
        if (strncmp(hub->endpoint, "tcp://", 6) != 0 || strlen(hub->endpoint) > 256) {
            fprintf(stderr, "xueshi-node: --hub 应为 tcp://主机:端口 (like tcp://HOST:PORT)\n");
            return 2;
        }
        if (xs_pubkeys_parse(hub_key, strlen(hub_key), &hub->keys) != XS_OK) {
            fprintf(stderr, "xueshi-node: --hub-key 格式不对，应为县级中心 init 的最后一行 "
                            "(the last line of xueshi-hub init: xs1:...)\n");
            return 2;
        }
    }
    return 0;
}

/* Reads and checks the options into a; 0, or the exit code after saying why. */
static int s_parse(int argc, char **argv, s_args_t *a) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},        {"school", 1, NULL}, {"policy", 1, NULL},
                           {"help", 0, NULL},       {"hub", 1, NULL},    {"hub-key", 1, NULL},
                           {"county-key", 1, NULL}, {"recover", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    memset(a, 0, sizeof *a);
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK)
        return node_usage(S_USAGE);
    const char *hub_endpoint = xs_cli_get(opts, nopts, "hub");
    const char *hub_key = xs_cli_get(opts, nopts, "hub-key");
    const char *county_key = xs_cli_get(opts, nopts, "county-key");
    a->recover = xs_cli_get(opts, nopts, "recover") != NULL;
    if (xs_cli_get(opts, nopts, "help") || !hub_endpoint != !hub_key ||
        (county_key && !hub_endpoint) || (a->recover && !hub_endpoint))
        return node_usage(S_USAGE);
    int rc = s_parse_hub(&a->hub, hub_endpoint, hub_key, county_key);
    if (rc != 0)
        return rc;
    a->dir = xs_cli_get(opts, nopts, "dir");
    a->school = xs_cli_get(opts, nopts, "school");
    a->policy = xs_cli_get(opts, nopts, "policy");
    if (!a->dir || !a->school)
        return node_usage(S_USAGE);
    size_t slen = strlen(a->school);
    if (slen == 0 || slen > XS_ID_MAX || !xs_text_utf8_valid(a->school, slen) ||
        strpbrk(a->school, ",\"\r\n")) {
        fprintf(stderr, "xueshi-node: 学校编号无效 (invalid school id): \"%s\"\n", a->school);
        return 2;
    }
    return 0;
}

/* Creates the node's directory unless it exists; 0, or 1 after saying why. */
static int s_make_dir(const char *dir) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "xueshi-node: 无法创建目录 %s (cannot create directory): %s\n", dir,
                strerror(errno));
        return 1;
    }
    return 0;
}

/* Opens the node's key in dir, creating it unless recovering; says why when it cannot. An
 * identity already there means init ran before, or (--recover) it is the school's backed-up
 * key: keep it, finish what is missing. A new key has nothing to recover. */
static xs_err s_open_identity(xs_identity_t **id, const char *dir, int recover) {
    xs_err err = recover ? xs_identity_load(id, dir, "node") : xs_identity_create(id, dir, "node");
    if (recover && err == XS_ENOTFOUND) {
        fprintf(stderr,
                "xueshi-node: 请先把学校备份的 node.secret 复制到 %s (copy the school's "
                "backed-up node.secret into the directory first)\n",
                dir);
        return err;
    }
    if (err == XS_EEXIST)
        err = xs_identity_load(id, dir, "node");
    if (err != XS_OK)
        xs_log_err(err, "节点密钥 %s/node.secret (node key)", dir);
    return err;
}

/* Writes the school into a new store; a store already there must be the same school's. 0, or
 * 1 after saying why. */
static int s_claim_school(xs_store_t *store, const s_args_t *a) {
    xs_txn_t *txn = NULL;
    xs_bytes_t existing;
    size_t slen = strlen(a->school);
    xs_err err = xs_store_read(store, &txn);
    if (err != XS_OK)
        return 1;
    err = node_meta_get(txn, NODE_META_SCHOOL, &existing);
    int same = err == XS_OK && existing.len == slen && memcmp(existing.ptr, a->school, slen) == 0;
    xs_store_end(&txn);
    if (err == XS_OK && !same) {
        fprintf(stderr, "xueshi-node: %s 已初始化为另一所学校 (already a node of another school)\n",
                a->dir);
        return 1;
    }
    struct s_init init = {a->school};
    if (err == XS_ENOTFOUND && (err = xs_store_update(store, s_write_meta, &init)) != XS_OK) {
        xs_log_err(err, "写入节点信息 (writing node metadata)");
        return 1;
    }
    return 0;
}

/* Opens DIR/store and writes what init sets: the school, the policy, the hub. 0, or 1 after
 * saying why. */
static int s_write_store(s_args_t *a) {
    char path[4096];
    xs_store_t *store = NULL;
    int rc = 1;
    snprintf(path, sizeof path, "%s/store", a->dir);
    xs_err err = xs_store_open(&store, path, node_tables, NODE_T_COUNT, 0);
    if (err != XS_OK) {
        xs_log_err(err, "创建数据库 %s (creating the store)", path);
        return 1;
    }
    if (s_claim_school(store, a) != 0)
        goto out;
    if (a->policy && node_set_policy(store, a->policy) != XS_OK)
        goto out;
    if (a->hub.endpoint && (err = xs_store_update(store, s_write_hub, &a->hub)) != XS_OK) {
        xs_log_err(err, "写入县级中心地址 (writing the hub's address)");
        goto out;
    }
    rc = 0;
out:
    xs_store_close(&store);
    return rc;
}

/* Prints what was set up, and the node's public keys for the county to enroll. */
static void s_print(const s_args_t *a, const xs_identity_t *id) {
    char line[XS_PUBKEYS_TEXT_LEN + 1];
    xs_pubkeys_format(xs_identity_public(id), line);
    printf("节点已初始化 (node initialised): %s, 学校 (school) %s\n", a->dir, a->school);
    if (a->hub.endpoint)
        printf("同步到 (syncs to) %s\n", a->hub.endpoint);
    printf("节点公钥 (node public keys), 交县级管理员登记 (give to the county admin):\n%s\n", line);
}

/* --recover: the store is empty: the session adopts the hub's copy of the chain (§9). The
 * exit code as sync's. */
static int s_recover(const char *dir) {
    node_t node;
    if (node_open(&node, dir) != XS_OK)
        return 1;
    printf("从县级中心取回本节点的记录 (fetching this node's records from the hub)\n");
    int rc = node_sync_command(&node, S_RECOVER_TIMEOUT_MS);
    node_close(&node);
    return rc;
}

int node_cmd_init(int argc, char **argv) {
    s_args_t args;
    xs_identity_t *id = NULL;
    int rc = s_parse(argc, argv, &args);
    if (rc != 0)
        return rc;
    /* A policy that will be refused refuses the init before anything is made. */
    if (args.policy) {
        xs_policy_t *policy = NULL;
        xs_err err = xs_policy_load_said(&policy, args.policy);
        xs_policy_destroy(&policy);
        if (err != XS_OK)
            return XS_EXIT_USAGE;
    }
    if (s_make_dir(args.dir) != 0 || s_open_identity(&id, args.dir, args.recover) != XS_OK ||
        s_write_store(&args) != 0) {
        xs_identity_destroy(&id);
        return 1;
    }
    s_print(&args, id);
    xs_identity_destroy(&id);
    return args.recover ? s_recover(args.dir) : 0;
}
