/* migrate: the steps from each older hub store format to the next, run in one write step.
 *
 * The formats (HUB_META_FORMAT):
 *   1  the first releases: the certification state (credit.c) may be missing; `run` built it.
 *   2  the certification state is built under the stored policy: step 1 → 2 builds it (and
 *      issues every receipt anew), as `run` did at its start before. */
#include "migrate.h"

#include <stdio.h>
#include <string.h>

#include "credit.h"
#include "merge.h"

typedef struct s_migrate {
    hub_t *hub;
    unsigned from; /* out: the format found */
    hub_migrate_progress_fn progress;
    void *progress_ctx;
    int unbuilt; /* out: 1 when the state waits for a policy that decodes */
} s_migrate_t;

/* 1 → 2: the certification state, built under the stored policy when it is not. */
static xs_err s_step_2(s_migrate_t *m, xs_txn_t *txn) {
    int ready = 0;
    hub_recertify_stats_t stats;
    if (!m->hub->policy) {
        /* A policy of an older format: `xueshi-hub policy` rebuilds the state when it stores
         * the new version, and a merge would before it certifies anything. */
        m->unbuilt = 1;
        return XS_OK;
    }
    xs_err err = hub_credit_ready(txn, m->hub->policy_hash, &ready);
    if (err != XS_OK || ready)
        return err;
    return hub_recertify(m->hub, txn, m->progress, m->progress_ctx, &stats);
}

static xs_err s_step(xs_txn_t *txn, void *ctx) {
    s_migrate_t *m = ctx;
    xs_bytes_t v;
    unsigned format = 1;
    xs_err err = hub_meta_get(txn, HUB_META_FORMAT, &v);
    if (err == XS_OK)
        err = xs_store_format_parse(v.ptr, v.len, &format);
    else if (err == XS_ENOTFOUND)
        err = XS_OK;
    if (err != XS_OK)
        return err;
    m->from = format;
    if (format > HUB_FORMAT_NUMBER)
        return XS_EVERSION;
    if (format == HUB_FORMAT_NUMBER)
        return XS_EEXIST; /* current: nothing to write */
    if (format < 2 && (err = s_step_2(m, txn)) != XS_OK)
        return err;
    return hub_meta_put(txn, HUB_META_FORMAT, HUB_FORMAT, strlen(HUB_FORMAT));
}

xs_err hub_migrate(hub_t *hub, unsigned *from, int *unbuilt, hub_migrate_progress_fn progress,
                   void *progress_ctx) {
    s_migrate_t m = {hub, 0, progress, progress_ctx, 0};
    xs_err err = xs_store_update(hub->store, s_step, &m);
    *from = m.from;
    *unbuilt = m.unbuilt;
    return err == XS_EEXIST ? XS_OK : err;
}
