/* usb: what a USB bundle carries for a node (protocol.md §7): the batches the hub has not
 * confirmed, out; the hub's receipts, policy and roster parts, in. */
#ifndef NODE_USB_H
#define NODE_USB_H

#include <stdint.h>
#include <stdio.h>

#include "node.h"
#include "xs/bundle.h"

/* Calls fn(ctx, envelope, len) for every sealed batch the hub has not confirmed: this node's
 * own, then (on a relay) its satellites'. *count gets how many. Stops at fn's error. */
typedef xs_err (*node_envelope_fn)(void *ctx, const uint8_t *envelope, size_t len);
XS_MUST_USE xs_err node_unconfirmed(node_t *node, node_envelope_fn fn, void *ctx, uint64_t *count);

/* Writes the export bundle into f: this node's records sealed first, then every batch the hub
 * has not confirmed (node_unconfirmed), encrypted to the county hub; *count gets the batches.
 * XS_ENOTFOUND when the node has no hub configured (nothing to encrypt to); the identity's,
 * the store's or the writer's error. f is flushed, not closed. */
XS_MUST_USE xs_err node_export_bundle(node_t *node, FILE *f, uint64_t *count);

/* What a receipts bundle brought. */
typedef struct node_receipts_taken {
    uint64_t own;              /* receipts for this node's teachers */
    uint64_t satellites;       /* receipts a relay keeps for its satellites */
    uint64_t older;            /* older than the receipt held for the teacher: skipped */
    uint64_t not_ours;         /* for a node this one neither is nor relays for: skipped */
    uint64_t refused;          /* not signed by the county hub, or malformed: skipped */
    int policy;                /* 1 when it brought the county's signed policy */
    uint64_t confirmations;    /* hub-signed "confirmed through" statements taken */
    int staff;                 /* 1 when it brought a newer part of the teacher roster for this
                                  node (protocol.md §10) */
    uint64_t staff_satellites; /* a relay: newer roster parts kept for its satellites */
    int rotated;               /* 1 when it brought a key rotation the node followed (§11) */
} node_receipts_taken_t;

/* Stores the receipts, policy, confirmations and roster parts of a read receipts bundle
 * (protocol.md §7.1), each verified against the county hub's key first, in one write step. */
XS_MUST_USE xs_err node_take_receipts(node_t *node, const xs_bundle_items_t *items,
                                      node_receipts_taken_t *taken);

/* Reads a receipts bundle of len bytes, opened with this node's key, and takes what it holds
 * (node_take_receipts). A bundle refused as a whole (not for this node, truncated, tampered)
 * returns the reader's error with *why saying why, and nothing is taken; otherwise *why is NULL
 * and the error is the key's or the store's. */
XS_MUST_USE xs_err node_import_receipts(node_t *node, const uint8_t *bytes, size_t len,
                                        node_receipts_taken_t *taken, const char **why);

#endif
