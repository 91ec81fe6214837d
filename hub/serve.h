/* serve: the hub's side of the sync protocol (schema/protocol.md §5, §8) over CURVE-encrypted
 * ZeroMQ: admits enrolled keys, answers HELLO, FETCH and SATELLITES, and merges BATCH frames
 * in group commits. */
#ifndef HUB_SERVE_H
#define HUB_SERVE_H

#include <signal.h>

#include "hub.h"

typedef struct hub_serve hub_serve_t;

/* Listens at endpoint for hub, which must be opened with its keys and outlive the server.
 * XS_EINVAL (a bad endpoint), XS_ENET (cannot bind), XS_ENOMEM. *out is the caller's. */
XS_MUST_USE xs_err hub_serve_open(hub_serve_t **out, hub_t *hub, const char *endpoint);

/* The endpoint bound, with its port resolved; valid while s lives. */
const char *hub_serve_endpoint(const hub_serve_t *s);

/* Serves until *stop is nonzero (a signal handler sets it), then tells the service manager
 * it is stopping, merges what is queued, logs the open sessions' outcomes and returns.
 * Failures of single messages are logged and answered, never returned. Sends the watchdog's
 * pings (xs_service_watchdog) from its loop, idle or busy: its idle wait is at most 200 ms and
 * a quarter of the watchdog interval. Logs each sync session's outcome, refused handshakes and
 * bad requests (rate-limited) as events, and keeps the hub's counters (metrics.h): in the
 * merge's transaction, or in a write of their own at most every few seconds. */
void hub_serve_run(hub_serve_t *s, volatile sig_atomic_t *stop);

/* Closes the server (unsent replies are dropped); accepts NULL and nulls the pointer. */
void hub_serve_close(hub_serve_t **s);

#endif
