/* keys: the hub's signing key over its life: rotations (protocol.md §11), the chain of
 * statements nodes follow, and the key file that must match it. */
#ifndef HUB_KEYS_H
#define HUB_KEYS_H

#include "hub.h"
#include "xs/rotation.h"

/* Rotates the hub's signing key: writes a successor identity (a new Ed25519 key, the same
 * transport key) as DIR/hub-next.secret, appends the statement signed by the old key to the
 * chain and re-signs the stored policy envelope with the new key in one write step, then
 * puts the successor in place as DIR/hub.secret. hub must be open with HUB_OPEN_KEYS; on
 * XS_OK hub->id is the new key and *done the statement. A crash between the step and the
 * rename is finished by the next hub_keys_check. XS_EEXIST (DIR/hub-next.secret names a key
 * the chain does not: remove it), XS_ETOOBIG (XS_ROTATION_CHAIN_MAX), the store's and the
 * files' errors. */
XS_MUST_USE xs_err hub_keys_rotate(hub_t *hub, int64_t now, xs_rotation_t *done);

/* Checks that hub->id is the key in force, the chain's last new key (any key, without a
 * chain), and finishes a rotation a crash cut short (DIR/hub-next.secret holding that key is
 * renamed into place and loaded). XS_ECRYPTO when DIR/hub.secret is neither: said in a line. */
XS_MUST_USE xs_err hub_keys_check(hub_t *hub);

/* Reloads DIR/hub.secret when the chain in txn names a key in force other than hub->id's
 * (`xueshi-hub rotate-keys` ran beside a running hub); *changed (may be NULL) says so. A
 * chain as long as the one hub->id was last checked against is not read further. */
XS_MUST_USE xs_err hub_keys_follow(hub_t *hub, xs_txn_t *txn, int *changed);

/* The chain of rotation statements (xs_rotation_follow reads it), borrowed until txn ends;
 * len 0 when the hub never rotated. */
XS_MUST_USE xs_err hub_keys_chain(xs_txn_t *txn, xs_bytes_t *chain);

#endif
