/* store: one LMDB environment with named tables, durable write steps, and map growth. */
#ifndef XS_STORE_H
#define XS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"

/* Map size a new store starts with, in bytes; it doubles whenever a write step fills it. */
#define XS_STORE_MAP_DEFAULT ((size_t)64 << 20)
#define XS_STORE_MAX_TABLES 32

typedef struct xs_store xs_store_t;
typedef struct xs_txn xs_txn_t;
typedef struct xs_cursor xs_cursor_t;

/* Bytes borrowed from the store: valid until the transaction that returned them ends. */
typedef struct xs_bytes {
    const void *ptr;
    size_t len;
} xs_bytes_t;

/* Flags for xs_store_put. */
#define XS_PUT_APPEND 1u      /* key sorts after every key in the table (fast path) */
#define XS_PUT_NOOVERWRITE 2u /* fail with XS_EEXIST when the key is present */

/* Opens (creating when absent) the LMDB environment in directory path with the named tables,
 * in that order; tables are then addressed by index. map_size 0 means XS_STORE_MAP_DEFAULT.
 * Clears stale reader slots of dead processes. XS_EBUSY, XS_EPERM, XS_EIO, XS_ESTORE. */
XS_MUST_USE xs_err xs_store_open(xs_store_t **out, const char *path, const char *const *tables,
                                 unsigned ntables, size_t map_size);

/* Closes the environment; accepts NULL and nulls the pointer. No transaction may be open. */
void xs_store_close(xs_store_t **store);

/* Current map size in bytes (grows over the store's life). */
size_t xs_store_map_size(const xs_store_t *store);

/* Begins a read-only snapshot. End it with xs_store_end, on the same thread. Threads may
 * read one store at once, a snapshot each: adopting a map another process grew waits (up to
 * 10 s) until no other thread's snapshot is open, else XS_EBUSY. */
XS_MUST_USE xs_err xs_store_read(xs_store_t *store, xs_txn_t **out);

/* Ends a read-only transaction; accepts NULL and nulls the pointer. */
void xs_store_end(xs_txn_t **txn);

/* One logical write step: must do all its writes through txn and may run more than once
 * (the store reruns it after growing a full map), so it must not change *ctx in a way a
 * rerun would see, except through the on_commit hook below. */
typedef xs_err (*xs_store_step_fn)(xs_txn_t *txn, void *ctx);

/* Runs step inside one write transaction and commits it durably. If step returns an error
 * the transaction is aborted and that error returned: nothing is half-written. A full map
 * is grown and the step rerun; a full disk is XS_EFULL. No read transaction of this thread
 * may be open on the store while it runs; other threads may read and write meanwhile (LMDB
 * runs one write at a time; growing the map waits, up to 10 s, for their transactions to
 * end, else XS_EBUSY). */
XS_MUST_USE xs_err xs_store_update(xs_store_t *store, xs_store_step_fn step, void *ctx);

/* Writes key → value in table. XS_EEXIST under XS_PUT_NOOVERWRITE when present. */
XS_MUST_USE xs_err xs_store_put(xs_txn_t *txn, unsigned table, const void *key, size_t klen,
                                const void *val, size_t vlen, unsigned flags);

/* Reads key from table into *val (borrowed until txn ends). XS_ENOTFOUND when absent. */
XS_MUST_USE xs_err xs_store_get(xs_txn_t *txn, unsigned table, const void *key, size_t klen,
                                xs_bytes_t *val);

/* Reads an 8-byte big-endian counter stored under key in table into *value: 0 when absent.
 * XS_ECORRUPT when the value is not 8 bytes; the store's errors. */
XS_MUST_USE xs_err xs_store_get_u64(xs_txn_t *txn, unsigned table, const void *key, size_t klen,
                                    uint64_t *value);

/* Deletes key from table. XS_ENOTFOUND when absent. */
XS_MUST_USE xs_err xs_store_del(xs_txn_t *txn, unsigned table, const void *key, size_t klen);

/* Empties a table (its entries; the table stays) inside write transaction txn. XS_EFULL,
 * XS_ESTORE. */
XS_MUST_USE xs_err xs_store_clear(xs_txn_t *txn, unsigned table);

/* Number of entries in table. */
XS_MUST_USE xs_err xs_store_count(xs_txn_t *txn, unsigned table, uint64_t *count);

/* Opens a cursor on table, valid until txn ends or xs_store_cursor_close. */
XS_MUST_USE xs_err xs_store_cursor_open(xs_txn_t *txn, unsigned table, xs_cursor_t **out);

/* Positions at the first key ≥ key (key NULL: the first entry) and returns it.
 * XS_ENOTFOUND when there is none. Returned bytes are borrowed until txn ends. */
XS_MUST_USE xs_err xs_store_cursor_seek(xs_cursor_t *c, const void *key, size_t klen, xs_bytes_t *k,
                                        xs_bytes_t *v);

/* Moves to the next entry. XS_ENOTFOUND past the last. */
XS_MUST_USE xs_err xs_store_cursor_next(xs_cursor_t *c, xs_bytes_t *k, xs_bytes_t *v);

/* Moves to the previous entry. XS_ENOTFOUND before the first. */
XS_MUST_USE xs_err xs_store_cursor_prev(xs_cursor_t *c, xs_bytes_t *k, xs_bytes_t *v);

/* Positions at the last entry. XS_ENOTFOUND when the table is empty. */
XS_MUST_USE xs_err xs_store_cursor_last(xs_cursor_t *c, xs_bytes_t *k, xs_bytes_t *v);

/* Closes a cursor; accepts NULL and nulls the pointer. */
void xs_store_cursor_close(xs_cursor_t **c);

/* Big-endian 8-byte keys sort numerically: the key form of sequence numbers. */
static inline void xs_store_u64_key(uint64_t v, uint8_t out[8]) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}
/* Big-endian 4-byte fields: record counts, offsets and lengths inside values. */
static inline void xs_store_u32_key(uint32_t v, uint8_t out[4]) {
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}
static inline uint32_t xs_store_key_u32(const void *key) {
    const uint8_t *p = key;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t xs_store_key_u64(const void *key) {
    const uint8_t *p = key;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Opens the environment in directory path read-only, for inspecting a store that may be
 * damaged: nothing is created or written (not even a missing table), the map is the size the
 * store records, and the tables must all exist. XS_ENOTFOUND (no store, or a table missing),
 * XS_ECORRUPT, XS_EPERM, XS_EIO, XS_ESTORE. Close with xs_store_close. */
XS_MUST_USE xs_err xs_store_open_readonly(xs_store_t **out, const char *path,
                                          const char *const *tables, unsigned ntables);

/* Longest message xs_store_guard keeps, in bytes. */
#define XS_STORE_GUARD_MAX 8192

/* Installs, for the whole process, a guard against reading a corrupted store. LMDB has no
 * page checksums: a damaged page can send it, or a reader of the bytes it returned, past the
 * end of the file or through a wild pointer. A SIGSEGV or SIGBUS whose faulting address lies
 * in a mapped store file (data.mdb), or whose faulting instruction lies in the LMDB library,
 * then writes message (copied) to stderr and ends the process with _exit(exit_code); any
 * other fault gets the disposition it had before, so a bug still crashes as a bug. Where the
 * mappings (Linux's /proc/self/maps) or the faulting instruction cannot be read, every fault
 * counts as the store's. XS_ETOOBIG (message over XS_STORE_GUARD_MAX), XS_EIO. */
XS_MUST_USE xs_err xs_store_guard(const char *message, int exit_code);

/* ---- usage, for monitoring ---- */

/* How much of its map a store uses. */
typedef struct xs_store_usage {
    uint64_t map_bytes;  /* the map's size, in bytes: the most the file may grow to before the
                            next write step doubles it */
    uint64_t used_bytes; /* pages in use up to the last one written, in bytes (LMDB's last page
                            number + 1, times the page size): what the file holds */
    uint64_t page_bytes; /* the page size, in bytes */
} xs_store_usage_t;

/* Fills *out with the store's map size and the bytes its pages use, as of the last commit
 * this process saw (mdb_env_info, mdb_env_stat). Safe beside other threads' transactions.
 * XS_ESTORE. */
XS_MUST_USE xs_err xs_store_usage(xs_store_t *store, xs_store_usage_t *out);

/* ---- hot copies (backups) ---- */

/* Writes a compacted copy of the whole store (LMDB's data file, free pages left out) to fd, a
 * file or a pipe, from one read snapshot: other threads and processes may write meanwhile,
 * and the copy holds exactly what was committed when it began. fd is borrowed, written from
 * its current position and not closed. No transaction of this thread may be open on the store.
 * XS_EFULL (disk full), XS_EIO, XS_EBUSY, XS_ESTORE (a write to fd failed otherwise: a closed
 * pipe). */
XS_MUST_USE xs_err xs_store_copy_fd(xs_store_t *store, int fd);

/* Sets *in_use to 1 when a process has the store in directory path open (a running server,
 * a reader), by LMDB's own lock on its lock file; 0 when none has, or there is no store. Call
 * it before this process opens the store: its own opening does not count. XS_EPERM, XS_EIO. */
XS_MUST_USE xs_err xs_store_in_use(const char *path, int *in_use);

/* ---- store formats ---- */

/* Parses a stored format ("2": 1 to 9 digits, not 0) into *format. XS_ECORRUPT. */
XS_MUST_USE xs_err xs_store_format_parse(const void *text, size_t len, unsigned *format);

/* Reads the format a program's store in directory path records under key in its first table
 * (the program's meta table; tables as for xs_store_open), opening the store read-only: a
 * store of a newer format is not touched. A store that records none is of format 1.
 * XS_ENOTFOUND (no store at path), XS_ECORRUPT, the errors of xs_store_open_readonly. */
XS_MUST_USE xs_err xs_store_format_read(const char *path, const char *const *tables,
                                        const char *key, unsigned *format);

/* XS_OK when format is current, the format program writes; else says in a line, naming
 * program and dir, what to do (a newer format: install a newer xueshi; an older one: run
 * `PROGRAM migrate --dir DIR`, which backs up first) and returns XS_EVERSION. */
XS_MUST_USE xs_err xs_store_format_check(const char *program, const char *dir, unsigned format,
                                         unsigned current);

#endif
