/* migrate: upgrading a hub store of an older format to HUB_FORMAT, step by step. */
#ifndef HUB_MIGRATE_H
#define HUB_MIGRATE_H

#include "hub.h"

/* Told after each teacher of a step that certifies: how many are done, of how many. */
typedef void (*hub_migrate_progress_fn)(void *ctx, size_t done, size_t total);

/* Upgrades hub's store (opened with HUB_OPEN_ANY_FORMAT | HUB_OPEN_KEYS) from the format it
 * holds to HUB_FORMAT in one write step: every step from there on, then the new format, or
 * nothing. *from gets the format found (HUB_FORMAT_NUMBER: nothing to do, nothing written).
 * *unbuilt gets 1 when the stored policy is of an older format (hub->policy NULL): the
 * certification state is then left to `xueshi-hub policy`, which must come next. XS_EVERSION
 * when the store's format is newer than this program's; the store's errors, XS_ENOMEM, the
 * engine's. progress may be NULL. */
XS_MUST_USE xs_err hub_migrate(hub_t *hub, unsigned *from, int *unbuilt,
                               hub_migrate_progress_fn progress, void *progress_ctx);

#endif
