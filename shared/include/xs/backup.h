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

/* ---- a program's backup commands ---- */

/* What the backup, restore and migrate commands need to know of the program they serve. */
typedef struct xs_backup_program {
    const char *program;       /* "xueshi-hub": names messages and progress */
    const char *kind;          /* "hub": the backups' kind, and the key DIR/KIND.secret */
    const char *const *tables; /* its store's tables, the first its meta table */
    const char *format_key;    /* the meta entry holding the store format ("format") */
    unsigned format;           /* the store format this program writes */
    const char *not_here;      /* says DIR is not the program's ("不是县级中心目录 (not a
                                  hub directory)") */
} xs_backup_program_t;

/* Most backups `--keep` keeps in a directory. */
#define XS_BACKUP_KEEP_MAX 10000

/* `PROGRAM backup`: backs DIR up to out (xs_backup_write), its store opened read-only (any
 * format; nothing is written to it, whoever serves it meanwhile), and prints what was
 * written. When out is a directory the file is named there, OUT/KIND-STAMP.xsbak (a second
 * one in the same second gets "-2", "-3"...), and keep (`--keep`'s text: 1 ..
 * XS_BACKUP_KEEP_MAX; NULL: all) then removes that directory's oldest KIND-*.xsbak files (by
 * modification time) beyond the newest keep. *info gets what was written. Returns the exit
 * code, having said why on failure (XS_EXIT_USAGE for a keep that is not such a number). */
int xs_backup_command(const xs_backup_program_t *p, const char *dir, const char *out,
                      const char *keep, xs_backup_info_t *info);

/* The check of a restore every program makes (xs_backup_check_fn): with dir NULL, that the
 * file's store format is not newer than p->format; with dir the extracted copy, that its store
 * records the format the file says and that its key file DIR/KIND.secret loads. Says why on
 * failure: XS_EVERSION, XS_ECORRUPT, the store's and the key file's errors. */
XS_MUST_USE xs_err xs_backup_check_copy(const xs_backup_program_t *p, const char *dir,
                                        const xs_backup_info_t *info);

/* `PROGRAM restore`: xs_backup_restore of from as dir, check (the program's, which calls
 * xs_backup_check_copy) looking at the copy; prints what was restored, the directory set
 * aside, and `migrate` when the restored format is older. Returns the exit code: 2 for a file
 * that is not a whole, good backup of this program, 1 for anything else that failed. */
int xs_backup_restore_command(const xs_backup_program_t *p, const char *dir, const char *from,
                              xs_backup_check_fn check, void *ctx, xs_backup_info_t *info);

/* `PROGRAM migrate`, before the upgrade itself: reads dir's store format into *format; a
 * current one is said and a newer one refused; a store in use is refused; else backs dir up
 * to out (NULL: beside dir, "BASE-format-N-STAMP.xsbak"; the path used goes into used, cap
 * bytes) and returns -1: the caller upgrades. Otherwise returns the exit code. */
int xs_backup_migrate_begin(const xs_backup_program_t *p, const char *dir, const char *out,
                            char *used, size_t cap, unsigned *format);

#endif
