/* xueshi-hub policy: put a new version of the county policy in force: check it against the
 * stored one, sign and store it, and re-certify every teacher under it in one step. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hub.h"
#include "merge.h"
#include "xs/receipt.h"

#define S_USAGE                                                                                    \
    "xueshi-hub policy --dir DIR [FILE.ini | --policy FILE.ini]\n"                                 \
    "       without a file: show the policy in force"

/* Seconds a re-certification runs before it shows progress, and between two lines. */
#define S_PROGRESS_AFTER 1.0

/* One replacement: the new policy, its blob and envelope, and what the write step found. */
typedef struct s_replace {
    hub_t *hub;
    xs_policy_t *policy; /* the new policy; moves into hub->policy in the step */
    const uint8_t *blob; /* its compiled blob */
    size_t blob_len;
    const uint8_t *signed_env; /* its signed envelope (protocol.md §5, VIEW) */
    size_t signed_len;
    char old_id[XS_POLICY_ID_MAX + 1]; /* the stored policy's id and version */
    uint32_t old_version;
    hub_recertify_stats_t stats; /* what the re-certification did */
    struct timespec start;       /* when the step began */
    double last_shown;           /* seconds after start of the last progress line; 0: none */
} s_replace_t;

static double s_elapsed(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Shows how far the re-certification is, once it has run a second, then every second. */
static void s_progress(void *ctx, size_t done, size_t total) {
    s_replace_t *r = ctx;
    double t = s_elapsed(&r->start);
    if (t < S_PROGRESS_AFTER || (r->last_shown > 0 && t - r->last_shown < 1.0 && done < total))
        return;
    r->last_shown = t;
    fprintf(stderr, "重新认定 (re-certifying): %zu / %zu 位教师 (teachers), %.0f 秒 (s)\n", done,
            total, t);
}

/* The write step: refuses another county's policy or a version not above the stored one
 * (XS_EPOLICY; the stored id and version are in r), else stores the new policy and its
 * envelope and re-certifies everyone under it. Rerunnable. */
static xs_err s_step(xs_txn_t *txn, void *ctx) {
    s_replace_t *r = ctx;
    xs_bytes_t stored;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    r->last_shown = 0;
    xs_err err = hub_meta_get(txn, HUB_META_POLICY, &stored);
    if (err == XS_OK)
        err = hub_policy_peek(stored.ptr, stored.len, r->old_id, &r->old_version);
    if (err == XS_EMALFORMED)
        err = XS_ECORRUPT;
    if (err != XS_OK)
        return err;
    if (strcmp(r->old_id, r->policy->id) != 0 || r->policy->version <= r->old_version)
        return XS_EPOLICY;
    if ((err = hub_meta_put(txn, HUB_META_POLICY, r->blob, r->blob_len)) != XS_OK ||
        (err = hub_meta_put(txn, HUB_META_POLICY_ENV, r->signed_env, r->signed_len)) != XS_OK)
        return err;
    /* From here the hub certifies under the new policy; on a rerun it already does. */
    if (r->hub->policy != r->policy) {
        xs_policy_destroy(&r->hub->policy);
        r->hub->policy = r->policy;
    }
    xs_identity_hash(r->blob, r->blob_len, r->hub->policy_hash);
    return hub_recertify(r->hub, txn, s_progress, r, &r->stats);
}

/* Loads the policy file; 0, or 2 after saying why. */
static int s_load(xs_policy_t **policy, const char *path) {
    return xs_policy_load_said(policy, path) == XS_OK ? 0 : 2;
}

/* Says why the stored policy was not replaced. */
static void s_refused(const s_replace_t *r) {
    if (strcmp(r->old_id, r->policy->id) != 0)
        fprintf(stderr,
                "xueshi-hub: 拒绝：本中心的认定规则是 %s，不能换成另一套规则 %s (refused: this hub "
                "certifies under policy %s; %s is another policy, not a new version of it)\n",
                r->old_id, r->policy->id, r->old_id, r->policy->id);
    else
        fprintf(stderr,
                "xueshi-hub: 拒绝：新规则的版本号 %u 须高于现行的第 %u 版，请在文件的 [policy] "
                "中提高 version (refused: version %u must be higher than the current version "
                "%u; raise `version` in [policy])\n",
                r->policy->version, r->old_version, r->policy->version, r->old_version);
}

/* Prints the policy in force; the exit code. */
static int s_show(const char *dir) {
    hub_t hub;
    if (hub_open(&hub, dir, 0) != XS_OK)
        return 1;
    printf("现行认定规则 (policy in force): %s 第 %u 版 %s\n", hub.policy->id, hub.policy->version,
           hub.policy->name);
    hub_close(&hub);
    return 0;
}

int hub_cmd_policy(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"policy", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    const char *file;
    hub_t hub;
    s_replace_t r;
    xs_writer_t blob, env;
    int rc = 1;
    if (hub_args(argc, argv, opts, nopts, pos, 1, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        (npos == 1 && xs_cli_get(opts, nopts, "policy")))
        return hub_usage(S_USAGE);
    if (npos == 0 && !xs_cli_get(opts, nopts, "policy"))
        return s_show(xs_cli_get(opts, nopts, "dir"));
    file = npos == 1 ? pos[0] : xs_cli_get(opts, nopts, "policy");
    memset(&r, 0, sizeof r);
    if (s_load(&r.policy, file) != 0)
        return 2;
    xs_writer_init(&blob, XS_POLICY_BLOB_MAX);
    xs_writer_init(&env, XS_RECEIPT_POLICY_MAX_BYTES);
    /* A store whose policy is of an older format opens too: this command replaces it. */
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), HUB_OPEN_KEYS | HUB_OPEN_ANY_POLICY) !=
        XS_OK) {
        xs_policy_destroy(&r.policy);
        goto out;
    }
    xs_policy_compile(r.policy, &blob);
    xs_err err = xs_writer_err(&blob);
    if (err == XS_OK)
        err = xs_receipt_policy_sign(&env, hub.id, blob.data, blob.len);
    if (err != XS_OK) {
        xs_log_err(err, "签署认定规则 (signing the policy)");
        xs_policy_destroy(&r.policy);
        goto out;
    }
    r.hub = &hub;
    r.blob = blob.data;
    r.blob_len = blob.len;
    r.signed_env = env.data;
    r.signed_len = env.len;
    err = xs_store_update(hub.store, s_step, &r);
    if (err == XS_EPOLICY)
        s_refused(&r);
    if (hub.policy != r.policy)
        xs_policy_destroy(&r.policy); /* never stored: the hub does not own it */
    if (err == XS_EPOLICY) {
        rc = 2;
    } else if (err != XS_OK) {
        xs_log_err(err, "认定规则未更换，原规则仍然有效 (the policy was not replaced; the "
                        "previous one stays in force)");
    } else {
        printf("认定规则已更换 (policy replaced): %s 第 %u 版 → %s 第 %u 版 %s\n", r.old_id,
               r.old_version, hub.policy->id, hub.policy->version, hub.policy->name);
        printf("已重新认定 %llu 位教师，回执代次 %llu；各校下次同步时取回新规则和新回执 "
               "(re-certified %llu teachers at receipt generation %llu; schools get the new "
               "policy and receipts at their next sync)\n",
               (unsigned long long)r.stats.teachers, (unsigned long long)r.stats.generation,
               (unsigned long long)r.stats.teachers, (unsigned long long)r.stats.generation);
        rc = 0;
    }
out:
    xs_writer_free(&blob);
    xs_writer_free(&env);
    hub_close(&hub);
    return rc;
}
