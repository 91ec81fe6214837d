/* metrics: the owner of HUB_T_METRICS; the hub's counters, added inside the merge's write
 * transaction, and the Prometheus text the dashboard process serves at /metrics.
 *
 * Every stored counter only grows: hub_metrics_add is the one function that writes them, and
 * it adds. A counter of Prometheus type counter must never go down, or rate() sees a reset. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define S_SEEN_PREFIX "seen/"
#define S_SEEN_PREFIX_LEN 5

const double hub_metrics_bucket_le[HUB_METRICS_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1,    2.5,   5,    10,  1e300};
/* The bounds as le="..." says them, and as the stored keys name them. */
static const char *const s_le_text[HUB_METRICS_BUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};

static const char *const s_refusal_names[HUB_REFUSED_COUNT] = {
    [HUB_REFUSED_UNKNOWN_KEY] = "unknown_key",   [HUB_REFUSED_REVOKED] = "revoked",
    [HUB_REFUSED_MALFORMED] = "malformed",       [HUB_REFUSED_VERSION] = "version",
    [HUB_REFUSED_TOO_BIG] = "too_big",           [HUB_REFUSED_BAD_SIGNATURE] = "bad_signature",
    [HUB_REFUSED_WRONG_ORIGIN] = "wrong_origin", [HUB_REFUSED_FORK] = "fork",
    [HUB_REFUSED_DUPLICATE] = "duplicate",       [HUB_REFUSED_INTERNAL] = "internal",
};

const char *hub_refusal_name(hub_refusal reason) {
    return reason < HUB_REFUSED_COUNT ? s_refusal_names[reason] : "malformed";
}

hub_refusal hub_refusal_from_code(uint8_t code) {
    switch (code) {
    case XS_PCODE_VERSION:
        return HUB_REFUSED_VERSION;
    case XS_PCODE_TOO_BIG:
        return HUB_REFUSED_TOO_BIG;
    case XS_PCODE_BAD_SIGNATURE:
        return HUB_REFUSED_BAD_SIGNATURE;
    case XS_PCODE_WRONG_ORIGIN:
        return HUB_REFUSED_WRONG_ORIGIN;
    case XS_PCODE_REVOKED:
        return HUB_REFUSED_REVOKED;
    case XS_PCODE_UNKNOWN:
        return HUB_REFUSED_UNKNOWN_KEY;
    case XS_PCODE_INTERNAL:
        return HUB_REFUSED_INTERNAL;
    default:
        return HUB_REFUSED_MALFORMED;
    }
}

void hub_metrics_clear(hub_metrics_t *m) {
    memset(m, 0, sizeof *m);
}

int hub_metrics_pending(const hub_metrics_t *m) {
    int any = m->sessions || m->batches || m->records || m->merge_count || m->seen_count;
    for (size_t i = 0; i < HUB_REFUSED_COUNT && !any; i++)
        any = m->refused[i] != 0;
    return any;
}

void hub_metrics_observe_merge(hub_metrics_t *m, double seconds) {
    size_t i = 0;
    if (seconds < 0)
        seconds = 0;
    while (i + 1 < HUB_METRICS_BUCKETS && seconds > hub_metrics_bucket_le[i])
        i++;
    m->merge_buckets[i]++;
    m->merge_count++;
    m->merge_sum_us += (uint64_t)(seconds * 1e6 + 0.5);
}

int hub_metrics_note_seen(hub_metrics_t *m, const uint8_t origin[32], int64_t at) {
    for (size_t i = 0; i < m->seen_count; i++)
        if (memcmp(m->seen[i].origin, origin, 32) == 0) {
            if (at > m->seen[i].at)
                m->seen[i].at = at;
            return 1;
        }
    if (m->seen_count == HUB_METRICS_SEEN_MAX)
        return 0;
    memcpy(m->seen[m->seen_count].origin, origin, 32);
    m->seen[m->seen_count++].at = at;
    return 1;
}

/* The stored key of a counter: name, or prefix + "/" + suffix. */
static size_t s_key(char *key, size_t size, const char *prefix, const char *suffix) {
    int n =
        suffix ? snprintf(key, size, "%s/%s", prefix, suffix) : snprintf(key, size, "%s", prefix);
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* Reads a stored counter: 0 when absent. */
static xs_err s_get(xs_txn_t *txn, const char *key, size_t klen, uint64_t *value) {
    return xs_store_get_u64(txn, HUB_T_METRICS, key, klen, value);
}

/* Adds delta to the counter named by prefix (and suffix). */
static xs_err s_add(xs_txn_t *txn, const char *prefix, const char *suffix, uint64_t delta) {
    char key[64];
    uint64_t value;
    uint8_t buf[8];
    if (delta == 0)
        return XS_OK;
    size_t klen = s_key(key, sizeof key, prefix, suffix);
    xs_err err = s_get(txn, key, klen, &value);
    if (err != XS_OK)
        return err;
    xs_store_u64_key(value + delta, buf);
    return xs_store_put(txn, HUB_T_METRICS, key, klen, buf, sizeof buf, 0);
}

xs_err hub_metrics_add(xs_txn_t *txn, const hub_metrics_t *delta) {
    xs_err err = s_add(txn, "sync_sessions", NULL, delta->sessions);
    if (err == XS_OK)
        err = s_add(txn, "batches", NULL, delta->batches);
    if (err == XS_OK)
        err = s_add(txn, "records", NULL, delta->records);
    for (size_t i = 0; err == XS_OK && i < HUB_REFUSED_COUNT; i++)
        err = s_add(txn, "refused", s_refusal_names[i], delta->refused[i]);
    for (size_t i = 0; err == XS_OK && i < HUB_METRICS_BUCKETS; i++)
        err = s_add(txn, "merge_bucket", s_le_text[i], delta->merge_buckets[i]);
    if (err == XS_OK)
        err = s_add(txn, "merge_count", NULL, delta->merge_count);
    if (err == XS_OK)
        err = s_add(txn, "merge_sum_us", NULL, delta->merge_sum_us);
    for (size_t i = 0; err == XS_OK && i < delta->seen_count; i++) {
        uint8_t key[S_SEEN_PREFIX_LEN + 32], buf[8];
        memcpy(key, S_SEEN_PREFIX, S_SEEN_PREFIX_LEN);
        memcpy(key + S_SEEN_PREFIX_LEN, delta->seen[i].origin, 32);
        xs_store_u64_key((uint64_t)delta->seen[i].at, buf);
        err = xs_store_put(txn, HUB_T_METRICS, key, sizeof key, buf, sizeof buf, 0);
    }
    return err;
}

xs_err hub_metrics_note_merge(void *ctx, xs_txn_t *txn, const hub_merge_stats_t *st,
                              const hub_item_t *items, size_t n) {
    hub_metrics_t delta;
    if (ctx)
        delta = *(const hub_metrics_t *)ctx;
    else
        hub_metrics_clear(&delta);
    delta.batches += st->batches;
    delta.records += st->records;
    for (size_t i = 0; i < n; i++) {
        if (items[i].status == XS_ACK_FORK)
            delta.refused[HUB_REFUSED_FORK]++;
        else if (items[i].status == XS_ACK_HELD)
            delta.refused[HUB_REFUSED_DUPLICATE]++;
        else if (items[i].status == XS_ACK_REFUSED)
            delta.refused[hub_refusal_from_code(items[i].error)]++;
    }
    return hub_metrics_add(txn, &delta);
}

static xs_err s_flush_step(xs_txn_t *txn, void *ctx) {
    return hub_metrics_add(txn, ctx);
}

xs_err hub_metrics_flush(hub_t *hub, hub_metrics_t *pending) {
    if (!hub_metrics_pending(pending))
        return XS_OK;
    xs_err err = xs_store_update(hub->store, s_flush_step, pending);
    if (err == XS_OK)
        hub_metrics_clear(pending);
    return err;
}

xs_err hub_metrics_read(xs_txn_t *txn, hub_metrics_t *out) {
    char key[64];
    hub_metrics_clear(out);
    xs_err err = s_get(txn, "sync_sessions", 13, &out->sessions);
    if (err == XS_OK)
        err = s_get(txn, "batches", 7, &out->batches);
    if (err == XS_OK)
        err = s_get(txn, "records", 7, &out->records);
    for (size_t i = 0; err == XS_OK && i < HUB_REFUSED_COUNT; i++)
        err = s_get(txn, key, s_key(key, sizeof key, "refused", s_refusal_names[i]),
                    &out->refused[i]);
    for (size_t i = 0; err == XS_OK && i < HUB_METRICS_BUCKETS; i++)
        err = s_get(txn, key, s_key(key, sizeof key, "merge_bucket", s_le_text[i]),
                    &out->merge_buckets[i]);
    if (err == XS_OK)
        err = s_get(txn, "merge_count", 11, &out->merge_count);
    if (err == XS_OK)
        err = s_get(txn, "merge_sum_us", 12, &out->merge_sum_us);
    return err;
}

xs_err hub_metrics_seen_at(xs_txn_t *txn, const uint8_t origin[32], int64_t *at) {
    uint8_t key[S_SEEN_PREFIX_LEN + 32];
    uint64_t value;
    memcpy(key, S_SEEN_PREFIX, S_SEEN_PREFIX_LEN);
    memcpy(key + S_SEEN_PREFIX_LEN, origin, 32);
    xs_err err = s_get(txn, (const char *)key, sizeof key, &value);
    *at = err == XS_OK ? (int64_t)value : 0;
    return err;
}

/* Appends formatted text to out (a line of the exposition). */
static void s_printf(xs_writer_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_printf(xs_writer_t *out, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        xs_writer_raw(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void hub_metrics_label(xs_writer_t *out, const char *value) {
    /* Text format 0.0.4: in a label value, backslash, double quote and line feed are
     * escaped; everything else (UTF-8 included) is itself. */
    const char *run = value;
    for (const char *p = value;; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        if (!esc && *p)
            continue;
        xs_writer_raw(out, run, (size_t)(p - run));
        if (!*p)
            break;
        xs_writer_raw(out, esc, 2);
        run = p + 1;
    }
}

/* # HELP and # TYPE of a family. */
static void s_family(xs_writer_t *out, const char *name, const char *type, const char *help) {
    s_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void hub_metrics_render_counters(const hub_metrics_t *m, xs_writer_t *out) {
    s_family(out, "xueshi_hub_sync_sessions_total", "counter",
             "Sync sessions begun by nodes (a HELLO, for a node or a satellite it relays for).");
    s_printf(out, "xueshi_hub_sync_sessions_total %llu\n", (unsigned long long)m->sessions);
    s_family(out, "xueshi_hub_batches_total", "counter", "Batches newly stored.");
    s_printf(out, "xueshi_hub_batches_total %llu\n", (unsigned long long)m->batches);
    s_family(out, "xueshi_hub_records_merged_total", "counter", "Records newly stored.");
    s_printf(out, "xueshi_hub_records_merged_total %llu\n", (unsigned long long)m->records);
    s_family(out, "xueshi_hub_refused_total", "counter",
             "Handshakes, messages and batches the hub turned away, by reason.");
    for (size_t i = 0; i < HUB_REFUSED_COUNT; i++)
        s_printf(out, "xueshi_hub_refused_total{reason=\"%s\"} %llu\n", s_refusal_names[i],
                 (unsigned long long)m->refused[i]);
    s_family(out, "xueshi_hub_merge_seconds", "histogram",
             "Time to verify, store and certify one group commit of batches, in seconds.");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < HUB_METRICS_BUCKETS; i++) {
        cumulative += m->merge_buckets[i];
        s_printf(out, "xueshi_hub_merge_seconds_bucket{le=\"%s\"} %llu\n", s_le_text[i],
                 (unsigned long long)cumulative);
    }
    s_printf(out, "xueshi_hub_merge_seconds_sum %llu.%06llu\n",
             (unsigned long long)(m->merge_sum_us / 1000000u),
             (unsigned long long)(m->merge_sum_us % 1000000u));
    s_printf(out, "xueshi_hub_merge_seconds_count %llu\n", (unsigned long long)m->merge_count);
}

/* What the node walk gathers. */
typedef struct s_nodes {
    xs_writer_t *out;
    int64_t now;
    uint64_t active, revoked;
} s_nodes_t;

static xs_err s_node_age(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    s_nodes_t *w = ctx;
    int64_t seen;
    if (node->revoked_at) {
        w->revoked++;
        return XS_OK;
    }
    w->active++;
    xs_err err = hub_metrics_seen_at(txn, node->origin, &seen);
    if (err != XS_OK)
        return err;
    int64_t last = node->last_sync > seen ? node->last_sync : seen;
    if (last == 0)
        return XS_OK; /* never synced: no age to give */
    int64_t age = w->now > last ? w->now - last : 0;
    s_printf(w->out, "xueshi_hub_node_last_sync_age_seconds{node=\"%u\",school=\"", node->number);
    hub_metrics_label(w->out, node->school);
    s_printf(w->out, "\"} %lld\n", (long long)age);
    return XS_OK;
}

xs_err hub_metrics_render(hub_t *hub, int64_t now, xs_writer_t *out) {
    xs_txn_t *txn = NULL;
    hub_metrics_t m;
    xs_store_usage_t usage;
    s_nodes_t nodes = {out, now, 0, 0};
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK)
        err = hub_metrics_read(txn, &m);
    if (err == XS_OK)
        err = xs_store_usage(hub->store, &usage);
    if (err != XS_OK)
        goto out;
    hub_metrics_render_counters(&m, out);
    s_family(out, "xueshi_hub_store_map_bytes", "gauge",
             "Size of the store's memory map: the file may grow to it before the map doubles.");
    s_printf(out, "xueshi_hub_store_map_bytes %llu\n", (unsigned long long)usage.map_bytes);
    s_family(out, "xueshi_hub_store_used_bytes", "gauge", "Bytes of the store's pages in use.");
    s_printf(out, "xueshi_hub_store_used_bytes %llu\n", (unsigned long long)usage.used_bytes);
    s_family(out, "xueshi_hub_node_last_sync_age_seconds", "gauge",
             "Seconds since an active node's latest HELLO or merged batch.");
    err = hub_nodes_each(txn, s_node_age, &nodes);
    if (err != XS_OK)
        goto out;
    s_family(out, "xueshi_hub_nodes", "gauge", "Enrolled nodes, by state.");
    s_printf(out, "xueshi_hub_nodes{state=\"active\"} %llu\n", (unsigned long long)nodes.active);
    s_printf(out, "xueshi_hub_nodes{state=\"revoked\"} %llu\n", (unsigned long long)nodes.revoked);
    err = xs_writer_err(out);
out:
    xs_store_end(&txn);
    return err;
}

xs_err hub_metrics_health(hub_t *hub) {
    xs_txn_t *txn = NULL;
    xs_bytes_t format;
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK)
        err = hub_meta_get(txn, HUB_META_FORMAT, &format);
    xs_store_end(&txn);
    return err;
}
