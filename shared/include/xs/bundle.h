/* bundle: the encrypted, chunk-authenticated file that carries envelopes on a USB stick.
 * Normative format: schema/protocol.md §7. */
#ifndef XS_BUNDLE_H
#define XS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xs/err.h"
#include "xs/identity.h"

/* What a bundle carries (protocol.md §7, `kind`). */
typedef enum xs_bundle_kind {
    XS_BUNDLE_BATCHES = 1,  /* batch envelopes (§2), node to hub */
    XS_BUNDLE_RECEIPTS = 2, /* receipt envelopes (§4), hub to node */
} xs_bundle_kind;

/* Bytes before the first chunk: magic 8, kind 1, recipient 32, sealed key 80, header 24. */
#define XS_BUNDLE_PREFIX_BYTES 145
/* Largest item (one envelope), in bytes: 1 MiB + 64 KiB, as a protocol frame (§5). */
#define XS_BUNDLE_ITEM_MAX (1024 * 1024 + 64 * 1024)
/* Largest chunk ciphertext, in bytes: an item and its 17-byte authenticator (§7). */
#define XS_BUNDLE_CHUNK_MAX (XS_BUNDLE_ITEM_MAX + 17)
/* Largest bundle read, in bytes (1 GiB): about 4096 full batches of a node's sealing size. */
#define XS_BUNDLE_FILE_MAX ((size_t)1 << 30)

typedef struct xs_bundle_writer xs_bundle_writer_t;

/* One item of a bundle that was read. */
typedef struct xs_bundle_item {
    const uint8_t *ptr; /* the item's bytes (one envelope), borrowed from the owning
                           xs_bundle_items_t: valid until xs_bundle_items_free */
    size_t len;         /* their count, at most XS_BUNDLE_ITEM_MAX */
} xs_bundle_item_t;

/* Every item of a bundle, as xs_bundle_read gives them; free with xs_bundle_items_free. */
typedef struct xs_bundle_items {
    uint8_t kind;            /* the bundle's xs_bundle_kind */
    size_t count;            /* items, as the end marker confirmed; may be 0 */
    xs_bundle_item_t *items; /* count items in file order, malloc'd; NULL when count is 0 */
    uint8_t *plaintext;      /* owned buffer every item points into, malloc'd */
    size_t plaintext_len;    /* bytes of it in use: the sum of the items' lengths */
} xs_bundle_items_t;

/* Starts a bundle of kind (XS_BUNDLE_BATCHES or XS_BUNDLE_RECEIPTS) on f, encrypted to
 * recipient_box_pk (the recipient's X25519 transport key, xs_pubkeys_t.box): draws a fresh
 * stream key, seals it to the recipient, wipes it, and writes the 145-byte prefix
 * (protocol.md §7). f is borrowed and must stay open until xs_bundle_writer_free; the writer
 * writes with fwrite and never closes it. *out is the caller's. Returns XS_EINVAL (kind not
 * 1 or 2, or a recipient key libsodium refuses), XS_ECRYPTO (libsodium cannot start),
 * XS_EFULL (disk full), XS_EIO (another write error), XS_ENOMEM. On error *out is NULL and f
 * may hold a partial prefix: the caller deletes the file. */
XS_MUST_USE xs_err xs_bundle_writer_open(xs_bundle_writer_t **out, FILE *f, uint8_t kind,
                                         const uint8_t recipient_box_pk[XS_BOX_PK_BYTES]);

/* Encrypts len bytes of item (an envelope; 0 is allowed) as the next chunk and writes it.
 * item is the caller's and only read during the call. Returns XS_ETOOBIG (len over
 * XS_BUNDLE_ITEM_MAX; nothing written, the writer stays usable), XS_EINVAL (after
 * xs_bundle_writer_finish), XS_EFULL, XS_EIO, XS_ENOMEM. A write error is sticky: every later
 * call returns it, and the file must be deleted. */
XS_MUST_USE xs_err xs_bundle_writer_add(xs_bundle_writer_t *w, const void *item, size_t len);

/* Writes the end marker [count, kind] as the final chunk, then makes the file durable:
 * fflush, and fsync when f has a file descriptor that supports it (a pipe or a memory stream
 * has nothing to sync), so that a stick pulled out right after holds the whole bundle. The
 * caller still checks fclose. Returns XS_EINVAL (called twice), XS_EFULL, XS_EIO, or the
 * sticky error of an earlier call. */
XS_MUST_USE xs_err xs_bundle_writer_finish(xs_bundle_writer_t *w);

/* Wipes the stream state and frees *w; accepts NULL and nulls the pointer. A writer freed
 * before a successful xs_bundle_writer_finish leaves a file without its end marker, which
 * every reader refuses as truncated. */
void xs_bundle_writer_free(xs_bundle_writer_t **w);

/* Reads a whole bundle of len bytes held in memory, addressed to recipient and of the given
 * kind, and refuses all of it, using none of its items, when protocol.md §7 says so. On
 * success *out owns a copy of every item (bytes is then no longer needed) and must be freed
 * with xs_bundle_items_free. When why is not NULL it receives a static bilingual reason on
 * error (for the operator: "数据包被改动 (tampered)"), NULL on success. Returns:
 *   XS_ETOOBIG    len over XS_BUNDLE_FILE_MAX, or a chunk length over XS_BUNDLE_CHUNK_MAX
 *                 (refused before anything is allocated for it)
 *   XS_EMALFORMED not a bundle (magic or kind byte), a bundle of the other kind, truncated
 *                 (ends before the final chunk, the empty file included), bytes after the
 *                 final chunk, a chunk length under 17, an unexpected chunk tag, a bad end
 *                 marker, or a marker count that differs from the items read
 *   XS_EPERM      addressed to another recipient's key
 *   XS_ECRYPTO    the stream key does not unseal with recipient's key, or a chunk fails
 *                 authentication (a tampered byte)
 *   XS_ENOMEM
 * Every allocation is bounded by len. On error *out is empty (safe to free). */
XS_MUST_USE xs_err xs_bundle_read(const void *bytes, size_t len, uint8_t kind,
                                  const xs_identity_t *recipient, xs_bundle_items_t *out,
                                  const char **why);

/* Frees what xs_bundle_read gave and empties *items; accepts an already empty one. */
void xs_bundle_items_free(xs_bundle_items_t *items);

/* Reads the file at path whole into a malloc'd buffer (*bytes, the caller frees it with
 * free; non-NULL even for an empty file) of *len bytes, for xs_bundle_read. Returns
 * XS_ENOTFOUND (no such file), XS_EPERM (not readable), XS_ETOOBIG (over XS_BUNDLE_FILE_MAX),
 * XS_EIO (a directory, or a read error), XS_ENOMEM. On error *bytes is NULL. */
XS_MUST_USE xs_err xs_bundle_load_file(const char *path, uint8_t **bytes, size_t *len);

#endif
