/* staff: the owner of HUB_T_STAFF and HUB_META_STAFF: every version of the county's teacher
 * roster (schema/roster.md §4) and the signed part each node gets (roster.md §5). */
#ifndef HUB_STAFF_H
#define HUB_STAFF_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "xs/staff.h"

/* Loads the current roster into *out (owned; free with xs_staff_free): version 0 and no
 * entries when none was imported. XS_ECORRUPT, XS_ENOMEM. */
XS_MUST_USE xs_err hub_staff_current(xs_txn_t *txn, xs_staff_t *out);

/* Loads roster version `version` (1..current) into *out. XS_ENOTFOUND, XS_ECORRUPT,
 * XS_ENOMEM. */
XS_MUST_USE xs_err hub_staff_version(xs_txn_t *txn, uint32_t version, xs_staff_t *out);

/* Stores staff as the next version with issued_at = now, sets staff->version and
 * ->issued_at, and moves HUB_META_STAFF. */
XS_MUST_USE xs_err hub_staff_put(xs_txn_t *txn, xs_staff_t *staff, int64_t now);

/* What a server keeps between requests for parts: the current roster, decoded once per
 * version, and the hash of each node's part body at that version. */
typedef struct hub_staff_cache hub_staff_cache_t;

/* Creates an empty cache into *out. XS_ENOMEM. */
XS_MUST_USE xs_err hub_staff_cache_new(hub_staff_cache_t **out);
/* Frees the cache; accepts NULL and nulls the pointer. */
void hub_staff_cache_destroy(hub_staff_cache_t **cache);

/* The part of the current roster for node: the teachers of its school and of the schools it
 * may proxy for. When have (may be NULL) is the hash of the body of that part, sets *current
 * and writes nothing; else signs the part, appends the envelope to envelope and clears
 * *current. cache: NULL, or the caller's cache (hub_staff_cache_new): a stored version never
 * changes, so the roster is decoded once per version, and a node asking again for the part it
 * holds (same version, same schools) is answered without building it. XS_ENOTFOUND when no
 * roster was imported. */
XS_MUST_USE xs_err hub_staff_part(xs_txn_t *txn, const xs_identity_t *hub, const hub_node_t *node,
                                  hub_staff_cache_t *cache, const uint8_t *have,
                                  xs_writer_t *envelope, int *current);

/* Reads a roster CSV (len bytes) into *roster against the county's schools: those an enrolled
 * node serves, as its own or a proxied school (revoked nodes' schools still count), and loads
 * the current roster into *current; both owned by the caller, freed first (a store step may
 * run twice). Stores *roster as the next version (hub_staff_put) unless it equals the current
 * one, which sets *unchanged. XS_EINVAL with the bad lines in errbuf and *bad_lines
 * (xs_staff_parse_csv), XS_ETOOBIG, XS_ECORRUPT, XS_ENOMEM. */
XS_MUST_USE xs_err hub_staff_import(xs_txn_t *txn, const char *csv, size_t len, int64_t now,
                                    xs_staff_t *current, xs_staff_t *roster, int *unchanged,
                                    char *errbuf, size_t cap, uint32_t *bad_lines);

/* One stored version, as hub_staff_history reports it. */
typedef struct hub_staff_version_info {
    uint32_t version;
    int64_t issued_at;                      /* unix seconds of the import */
    uint32_t count;                         /* teachers */
    uint32_t changes[XS_STAFF_CHANGED + 1]; /* per xs_staff_change: teachers so changed from the
                                               version before (the first: all added) */
} hub_staff_version_info_t;

/* Calls fn for every stored version, oldest first, until it returns other than XS_OK;
 * returns that, XS_OK after the last, XS_ECORRUPT, XS_ENOMEM. */
XS_MUST_USE xs_err hub_staff_history(xs_txn_t *txn,
                                     xs_err (*fn)(void *ctx, const hub_staff_version_info_t *info),
                                     void *ctx);

#endif
