/* metrics: the hub's counters (sync sessions, batches, records merged, refusals by reason, a
 * merge-latency histogram, when each node last said HELLO), kept in HUB_T_METRICS, and their
 * Prometheus text exposition (format 0.0.4) with the store's use and the nodes' ages. */
#ifndef HUB_METRICS_H
#define HUB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "merge.h"
#include "xs/codec.h"
#include "xs/proto.h"

/* Why the hub turned something away, as the label reason="..." names it. */
typedef enum hub_refusal {
    HUB_REFUSED_UNKNOWN_KEY,   /* "unknown_key": a handshake or message from a key not enrolled */
    HUB_REFUSED_REVOKED,       /* "revoked": from a revoked node */
    HUB_REFUSED_MALFORMED,     /* "malformed": a frame or envelope that does not parse */
    HUB_REFUSED_VERSION,       /* "version": an unsupported protocol or format version */
    HUB_REFUSED_TOO_BIG,       /* "too_big": over a size limit */
    HUB_REFUSED_BAD_SIGNATURE, /* "bad_signature": a batch whose signature does not verify */
    HUB_REFUSED_WRONG_ORIGIN,  /* "wrong_origin": another node's batch, not relayed for */
    HUB_REFUSED_FORK,          /* "fork": a batch quarantined as a fork (nothing merged) */
    HUB_REFUSED_DUPLICATE,     /* "duplicate": a batch already held, answered as before */
    HUB_REFUSED_INTERNAL,      /* "internal": the hub could not store it (disk full...) */
    HUB_REFUSED_COUNT
} hub_refusal;

/* The label value of a reason ("unknown_key"); static. */
const char *hub_refusal_name(hub_refusal reason);
/* The reason of an ERROR or ACK code (xs_proto_code); malformed for codes it does not know. */
hub_refusal hub_refusal_from_code(uint8_t code);

/* Merge-latency buckets: upper bounds in seconds, the last +Inf (Prometheus le=). */
#define HUB_METRICS_BUCKETS 12
extern const double hub_metrics_bucket_le[HUB_METRICS_BUCKETS];
/* The longest run of HELLO times one pending set keeps before it must be flushed. */
#define HUB_METRICS_SEEN_MAX 64

/* A node's latest HELLO. */
typedef struct hub_metrics_seen {
    uint8_t origin[32]; /* the node's origin */
    int64_t at;         /* unix seconds */
} hub_metrics_seen_t;

/* Counters: as stored (hub_metrics_read), or the increments a server collects in memory and
 * adds in one write (hub_metrics_add). */
typedef struct hub_metrics {
    uint64_t sessions; /* sync sessions begun (a HELLO, for the node itself or a satellite) */
    uint64_t batches;  /* batches newly stored */
    uint64_t records;  /* records newly stored */
    uint64_t refused[HUB_REFUSED_COUNT];           /* refusals, by reason */
    uint64_t merge_buckets[HUB_METRICS_BUCKETS];   /* merges that took at most bucket i's bound
                                                      and more than bucket i-1's: not cumulative */
    uint64_t merge_count;                          /* merges observed */
    uint64_t merge_sum_us;                         /* their time, in microseconds */
    size_t seen_count;                             /* entries of seen used */
    hub_metrics_seen_t seen[HUB_METRICS_SEEN_MAX]; /* HELLO times, one per origin */
} hub_metrics_t;

/* Empties m. */
void hub_metrics_clear(hub_metrics_t *m);
/* 1 when m holds anything to add. */
int hub_metrics_pending(const hub_metrics_t *m);
/* Counts one merge that took seconds. */
void hub_metrics_observe_merge(hub_metrics_t *m, double seconds);
/* Notes origin's HELLO at unix second at (one entry per origin, the latest kept). Returns 0
 * when m has no room for a new origin (nothing noted: flush m, then note again), else 1. */
int hub_metrics_note_seen(hub_metrics_t *m, const uint8_t origin[32], int64_t at);

/* Adds every counter of delta to the stored ones and writes its HELLO times, inside the
 * caller's write transaction (the merge's, so the counters cost no commit of their own); may
 * run again when the transaction is rerun. XS_ECORRUPT (a stored counter not 8 bytes), the
 * store's errors. */
XS_MUST_USE xs_err hub_metrics_add(xs_txn_t *txn, const hub_metrics_t *delta);

/* A hub_merge_note_fn: adds, in the merge's own transaction, the batches and records it
 * stored and its items' refusals (forks, duplicates, refused by their ACK's code), plus the
 * counters of ctx (a hub_metrics_t *, pending beside the merge; may be NULL), which it leaves
 * as they are: the caller empties them once the merge commits. */
XS_MUST_USE xs_err hub_metrics_note_merge(void *ctx, xs_txn_t *txn, const hub_merge_stats_t *st,
                                          const hub_item_t *items, size_t n);

/* Adds *pending in a write transaction of its own and empties it when that commits; nothing
 * when it holds nothing. The store's errors (pending is then kept). */
XS_MUST_USE xs_err hub_metrics_flush(hub_t *hub, hub_metrics_t *pending);

/* Reads the stored counters into *out (its seen entries are left empty). XS_ECORRUPT. */
XS_MUST_USE xs_err hub_metrics_read(xs_txn_t *txn, hub_metrics_t *out);

/* Reads the unix second of origin's latest HELLO into *at: 0 when none was stored. */
XS_MUST_USE xs_err hub_metrics_seen_at(xs_txn_t *txn, const uint8_t origin[32], int64_t *at);

/* Appends the counters of m as Prometheus text (format 0.0.4, each family with # HELP and
 * # TYPE): xueshi_hub_sync_sessions_total, xueshi_hub_batches_total,
 * xueshi_hub_records_merged_total, xueshi_hub_refused_total{reason="..."} (every reason,
 * also at 0), and the histogram xueshi_hub_merge_seconds (_bucket{le="..."} cumulative,
 * _sum, _count). */
void hub_metrics_render_counters(const hub_metrics_t *m, xs_writer_t *out);

/* Appends a Prometheus label value to out, escaped as the format asks (\\, \", \n). */
void hub_metrics_label(xs_writer_t *out, const char *value);

/* Renders the whole exposition into out from one read snapshot of the hub's store at unix
 * second now: the counters (hub_metrics_render_counters), xueshi_hub_store_map_bytes,
 * xueshi_hub_store_used_bytes, xueshi_hub_nodes{state="active|revoked"} and, for every
 * active node that has synced, xueshi_hub_node_last_sync_age_seconds{node="N",school="..."}
 * (since its latest HELLO or merge, whichever is later). The store's errors, XS_ETOOBIG when
 * out's maximum is reached. */
XS_MUST_USE xs_err hub_metrics_render(hub_t *hub, int64_t now, xs_writer_t *out);

/* Whether the hub's store opens a snapshot and reads its format entry: XS_OK, or the store's
 * error (for /healthz). */
XS_MUST_USE xs_err hub_metrics_health(hub_t *hub);

#endif
