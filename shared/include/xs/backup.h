/* backup: a program's directory as one file with a checksum, written while the store serves,
 * verified whole before anything of it is extracted.
 *
 * The file (all integers big-endian; docs/operations.md describes it for operators):
 *   header   magic "XSBACKUP" (8), archive format (2) = XS_BACKUP_FORMAT,
 *            kind (1-byte length + "hub" or "node"), created_at (8, unix seconds),
 *            program version (1-byte length + text), store format (1-byte length + digits)
 *   entries  each: tag 'F' (1), name (2-byte length + a relative path, '/' between parts),
 *            mode (2, permission bits), the bytes as chunks (4-byte length, 1 ..
 *            XS_BACKUP_CHUNK_MAX, then that many bytes) ended by a 4-byte 0, then the total
 *            length (8), which must equal the chunks' sum. The store is the entry
 *            XS_BACKUP_STORE_ENTRY: LMDB's compacted copy of data.mdb.
 *   end      tag 'E' (1), the number of entries (4)
 *   trailer  BLAKE2b-256 (32) of every byte before it. */
#ifndef XS_BACKUP_H
#define XS_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "xs/err.h"
#include "xs/store.h"

#define XS_BACKUP_FORMAT 1
#define XS_BACKUP_KIND_MAX 15          /* bytes of the kind ("hub", "node") */
#define XS_BACKUP_VERSION_MAX 63       /* bytes of the program version */
#define XS_BACKUP_STORE_FORMAT_MAX 15  /* digits of the store format */
#define XS_BACKUP_NAME_MAX 255         /* bytes of an entry's name */
#define XS_BACKUP_DEPTH_MAX 8          /* parts of an entry's name */
#define XS_BACKUP_ENTRIES_MAX 4096     /* entries of one file, the store included */
#define XS_BACKUP_CHUNK_MAX (1u << 20) /* bytes of one chunk */
#define XS_BACKUP_STORE_ENTRY "store/data.mdb"
/* Suffix the backups a program names itself carry. */
#define XS_BACKUP_SUFFIX ".xsbak"

/* What a backup file says of itself. */
typedef struct xs_backup_info {
    char kind[XS_BACKUP_KIND_MAX + 1];                 /* "hub" or "node" */
    int64_t created_at;                                /* unix seconds the backup began */
    char version[XS_BACKUP_VERSION_MAX + 1];           /* the version of the program */
    char store_format[XS_BACKUP_STORE_FORMAT_MAX + 1]; /* the store's format, digits */
    uint64_t entries;                                  /* files, the store included */
    uint64_t store_bytes;                              /* bytes of the store's copy */
    uint64_t file_bytes;                               /* bytes of the backup file */
} xs_backup_info_t;

/* What xs_backup_write backs up. Strings and store are borrowed for the call. */
typedef struct xs_backup_source {
    const char *program;      /* "xueshi-hub": names progress lines */
    const char *kind;         /* "hub" or "node": 1 .. XS_BACKUP_KIND_MAX letters a-z */
    const char *store_format; /* the store's format as stored: digits */
    const char *dir;          /* the directory backed up; its store is dir/store */
    xs_store_t *store;        /* dir/store, open; may be serving other processes meanwhile */
} xs_backup_source_t;

/* Writes a backup of src to out_path: the store's compacted copy from one read snapshot, then
 * every regular file under src->dir (sorted by name; at most XS_BACKUP_DEPTH_MAX deep) except
 * the store directory, stores set aside (top-level names starting "store."), and files named
 * *.tmp, *.part or *.xsbak. Streams: nothing large is held in memory. Writes out_path.tmp,
 * syncs it and renames it over out_path, so out_path is whole or absent; out_path.tmp is
 * removed on failure. Shows progress on stderr after a second. *info (may be NULL) gets what
 * was written. XS_EINVAL (bad src strings, a name too long or too deep), XS_ETOOBIG (over
 * XS_BACKUP_ENTRIES_MAX entries), XS_EFULL, XS_EIO, XS_EPERM, the store's errors. A message
 * naming the file is printed on failure. */
XS_MUST_USE xs_err xs_backup_write(const xs_backup_source_t *src, const char *out_path,
                                   xs_backup_info_t *info);

/* Reads the backup at path whole and checks it: its checksum over every byte, then its
 * structure, names and lengths, and (kind not NULL) that it is a backup of kind. Extracts
 * nothing. *info gets what it says of itself. XS_ENOTFOUND (no file), XS_EMALFORMED (not a
 * xueshi backup, a newer archive format, a structure or name that fails its checks, or
 * another kind), XS_ECORRUPT (truncated, or the checksum does not match: damaged or
 * tampered), XS_EIO, XS_EPERM. program names the progress line; why (may be NULL) gets a
 * static bilingual reason on error. */
XS_MUST_USE xs_err xs_backup_verify(const char *path, const char *kind, const char *program,
                                    xs_backup_info_t *info, const char **why);

/* xs_backup_verify, then extracts every entry into the new directory into (it must not exist;
 * its parent must), checking the checksum again as it goes: a file changed since the check is
 * refused. Files are synced; directories are made 0700. On any error into and everything
 * under it is removed: nothing is left half-made. Errors as xs_backup_verify, and XS_EEXIST
 * (into exists), XS_EFULL. */
XS_MUST_USE xs_err xs_backup_extract(const char *path, const char *kind, const char *program,
                                     const char *into, xs_backup_info_t *info, const char **why);

/* Removes the directory tree at path that this process made (xs_backup_extract's, a failed
 * restore's): regular files and directories, at most XS_BACKUP_DEPTH_MAX + 2 deep; symbolic
 * links are removed, not followed. XS_OK when path does not exist; XS_EIO. */
XS_MUST_USE xs_err xs_backup_remove_tree(const char *path);

/* Writes "YYYYmmdd-HHMMSS" (local time of t) and a NUL into out: the time in the names of
 * backups and directories set aside. */
void xs_backup_stamp(int64_t t, char out[16]);

/* Checks a restore's store, the program's part of xs_backup_restore: with dir NULL, before
 * anything is extracted, from what the file says (info->store_format); then with dir the
 * extracted directory, whose store it may open, check and write (a node marks itself
 * restored). Says why on failure; any error stops the restore with nothing replaced. */
typedef xs_err (*xs_backup_check_fn)(void *ctx, const char *dir, const xs_backup_info_t *info);

/* Room for the name a directory is set aside under. */
#define XS_BACKUP_ASIDE_MAX 4200

/* Restores the backup at path (of kind, for program) as directory dir: verifies the file
 * whole (xs_backup_verify); refuses while a process has dir's store open (XS_EBUSY: a
 * running server, the web pages); extracts it beside dir ("DIR.restoring-PID") and lets check
 * look at it; then moves an existing dir aside to "DIR.before-restore-STAMP" (never deleted)
 * and renames the extracted directory into place. aside gets the name dir was moved to, ""
 * when there was none. On error nothing is replaced and what was extracted is removed.
 * Messages name program and the file. Errors as xs_backup_extract, XS_EBUSY, check's. */
XS_MUST_USE xs_err xs_backup_restore(const char *path, const char *kind, const char *program,
                                     const char *dir, xs_backup_check_fn check, void *ctx,
                                     char aside[XS_BACKUP_ASIDE_MAX], xs_backup_info_t *info);

/* Writes into out (cap bytes) the path of a backup beside dir: "PARENT/BASE-label-STAMP.xsbak"
 * (dir's trailing slashes ignored; STAMP from xs_backup_stamp of now). XS_EINVAL when dir is
 * "/" or the path does not fit. */
XS_MUST_USE xs_err xs_backup_path_beside(const char *dir, const char *label, char *out, size_t cap);

#endif
