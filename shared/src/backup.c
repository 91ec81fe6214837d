/* backup: writing, verifying and extracting a program's directory as one checksummed file
 * (the format is in xs/backup.h). */
#include "xs/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xs/cli.h"
#include "xs/identity.h"
#include "xs/progress.h"
#include "xs/text.h"

static const char s_magic[8] = {'X', 'S', 'B', 'A', 'C', 'K', 'U', 'P'};
#define S_TRAILER XS_HASH_BYTES
/* Bytes the writer and readers buffer. */
#define S_BUF (256u * 1024u)
#define S_MIB (1024.0 * 1024.0)

static xs_err s_errno(int e) {
    switch (e) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return XS_EFULL;
    case EACCES:
    case EPERM:
    case EROFS:
        return XS_EPERM;
    case ENOENT:
        return XS_ENOTFOUND;
    case EEXIST:
        return XS_EEXIST;
    case ENOMEM:
        return XS_ENOMEM;
    default:
        return XS_EIO;
    }
}

static void s_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void s_put_u64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t s_get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void xs_backup_stamp(int64_t t, char out[16]) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) || strftime(out, 16, "%Y%m%d-%H%M%S", &tm) == 0)
        snprintf(out, 16, "%lld", (long long)t);
}

/* ---- names ---- */

/* Whether name is an entry name a backup may hold: a relative path of 1 ..
 * XS_BACKUP_DEPTH_MAX parts, none empty, "." or "..", no control bytes, at most
 * XS_BACKUP_NAME_MAX bytes; under "store/" only the store's copy itself. */
static int s_name_ok(const char *name, size_t len) {
    size_t parts = 0, part = 0;
    if (len == 0 || len > XS_BACKUP_NAME_MAX)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '/') {
            size_t start = i - part;
            if (part == 0 || (part == 1 && name[start] == '.') ||
                (part == 2 && name[start] == '.' && name[start + 1] == '.'))
                return 0;
            if (++parts > XS_BACKUP_DEPTH_MAX)
                return 0;
            part = 0;
            continue;
        }
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
        part++;
    }
    size_t slen = sizeof XS_BACKUP_STORE_ENTRY - 1;
    if ((len >= 6 && memcmp(name, "store/", 6) == 0) || (len == 5 && memcmp(name, "store", 5) == 0))
        return len == slen && memcmp(name, XS_BACKUP_STORE_ENTRY, slen) == 0;
    return 1;
}

static int s_word_ok(const char *s, size_t len, size_t max, int digits) {
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (digits ? !(c >= '0' && c <= '9') : !(c >= 'a' && c <= 'z'))
            return 0;
    }
    return 1;
}

static int s_version_ok(const char *s, size_t len) {
    if (len == 0 || len > XS_BACKUP_VERSION_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* ---- writing ---- */

typedef struct s_writer {
    int fd;
    xs_hash_stream_t hash;
    uint8_t *buf; /* S_BUF bytes waiting to be written */
    size_t have;
    uint64_t written; /* bytes of the file so far, buffered ones included */
    xs_err err;       /* sticky */
} s_writer_t;

static void s_flush(s_writer_t *w) {
    size_t done = 0;
    while (w->err == XS_OK && done < w->have) {
        ssize_t n = write(w->fd, w->buf + done, w->have - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            w->err = n < 0 ? s_errno(errno) : XS_EIO;
        else
            done += (size_t)n;
    }
    w->have = 0;
}

/* Adds bytes to the file and its checksum. */
static void s_out(s_writer_t *w, const void *bytes, size_t len) {
    const uint8_t *p = bytes;
    if (w->err != XS_OK)
        return;
    xs_hash_stream_update(&w->hash, bytes, len);
    w->written += len;
    while (len > 0) {
        size_t room = S_BUF - w->have, n = len < room ? len : room;
        memcpy(w->buf + w->have, p, n);
        w->have += n;
        p += n;
        len -= n;
        if (w->have == S_BUF)
            s_flush(w);
    }
}

static void s_out_u8(s_writer_t *w, uint8_t v) {
    s_out(w, &v, 1);
}

static void s_out_u32(s_writer_t *w, uint32_t v) {
    uint8_t b[4];
    xs_store_u32_key(v, b);
    s_out(w, b, 4);
}

static void s_out_u64(s_writer_t *w, uint64_t v) {
    uint8_t b[8];
    s_put_u64(b, v);
    s_out(w, b, 8);
}

static void s_out_text8(s_writer_t *w, const char *s) {
    size_t len = strlen(s);
    s_out_u8(w, (uint8_t)len);
    s_out(w, s, len);
}

/* An entry's head: tag, name, mode. */
static void s_entry_head(s_writer_t *w, const char *name, unsigned mode) {
    uint8_t b[2];
    size_t len = strlen(name);
    s_out_u8(w, 'F');
    s_put_u16(b, (uint16_t)len);
    s_out(w, b, 2);
    s_out(w, name, len);
    s_put_u16(b, (uint16_t)(mode & 0777));
    s_out(w, b, 2);
}

/* Streams what fd holds, to its end, as one entry's chunks, its end and total; *total gets
 * the bytes. With progress, reports MiB done. Reads to the end even after the file's write
 * failed, so that a pipe's writer never meets a closed pipe. */
static xs_err s_entry_body(s_writer_t *w, int fd, uint8_t *chunk, uint64_t *total,
                           xs_progress_t *progress) {
    uint64_t sum = 0;
    size_t have = 0;
    xs_err err = XS_OK;
    for (;;) {
        ssize_t n = read(fd, chunk + have, XS_BACKUP_CHUNK_MAX - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = s_errno(errno);
            break;
        }
        have += (size_t)n;
        if (have == XS_BACKUP_CHUNK_MAX || (n == 0 && have > 0)) {
            s_out_u32(w, (uint32_t)have);
            s_out(w, chunk, have);
            sum += have;
            have = 0;
            if (progress)
                xs_progress_update(progress, (uint64_t)((double)sum / S_MIB));
        }
        if (n == 0)
            break;
    }
    s_out_u32(w, 0);
    s_out_u64(w, sum);
    *total = sum;
    return err;
}

typedef struct s_copy {
    xs_store_t *store;
    int fd; /* the pipe's write end: closed by the copying thread */
    xs_err err;
} s_copy_t;

static void *s_copy_main(void *arg) {
    s_copy_t *c = arg;
    c->err = xs_store_copy_fd(c->store, c->fd);
    close(c->fd);
    return NULL;
}

/* The store's entry: LMDB's compacted copy, written by a thread into a pipe and streamed from
 * it, so that no copy of the store lands on disk on its own. */
static xs_err s_write_store(s_writer_t *w, const xs_backup_source_t *src, uint8_t *chunk,
                            uint64_t *bytes) {
    int fds[2];
    pthread_t thread;
    xs_progress_t progress;
    if (pipe(fds) != 0)
        return s_errno(errno);
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    s_copy_t copy = {src->store, fds[1], XS_OK};
    if (pthread_create(&thread, NULL, s_copy_main, &copy) != 0) {
        close(fds[0]);
        close(fds[1]);
        return XS_ENOMEM;
    }
    s_entry_head(w, XS_BACKUP_STORE_ENTRY, 0600);
    xs_progress_begin(&progress, src->program, "备份数据库 (backing up the store)", "MiB", 0);
    xs_err err = s_entry_body(w, fds[0], chunk, bytes, &progress);
    xs_progress_end(&progress, (uint64_t)((double)*bytes / S_MIB));
    pthread_join(thread, NULL);
    close(fds[0]);
    if (copy.err != XS_OK)
        return copy.err;
    return err;
}

/* The files to back up, as names relative to the directory. */
typedef struct s_list {
    char **names;
    size_t count, cap;
} s_list_t;

static void s_list_free(s_list_t *l) {
    for (size_t i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static int s_ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && memcmp(s + n - t, tail, t) == 0;
}

/* Whether the directory entry name (in a directory depth deep, 0: the top) is left out. */
static int s_skipped(const char *name, int depth) {
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 1;
    if (depth == 0 && (strcmp(name, "store") == 0 || strncmp(name, "store.", 6) == 0))
        return 1;
    return s_ends_with(name, ".tmp") || s_ends_with(name, ".part") ||
           s_ends_with(name, XS_BACKUP_SUFFIX);
}

/* Adds the regular files under dir/rel (rel "" for dir itself) to l, except the file out
 * (the backup being written, by device and inode). */
static xs_err s_collect(const char *dir, const char *rel, int depth, const struct stat *out,
                        s_list_t *l) {
    char path[4096], name[XS_BACKUP_NAME_MAX + 2];
    struct stat st;
    if (snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel) >= (int)sizeof path)
        return XS_EINVAL;
    DIR *d = opendir(path);
    if (!d)
        return s_errno(errno);
    xs_err err = XS_OK;
    struct dirent *e;
    while (err == XS_OK && (errno = 0, e = readdir(d)) != NULL) {
        if (s_skipped(e->d_name, depth))
            continue;
        if (snprintf(name, sizeof name, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                (int)sizeof name ||
            !s_name_ok(name, strlen(name))) {
            xs_log("备份不能包含 %s/%s：名称过长或含控制字符 (a name a backup cannot hold: too "
                   "long, too deep or with control characters)",
                   dir, name);
            err = XS_EINVAL;
            break;
        }
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            err = s_errno(errno);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 >= XS_BACKUP_DEPTH_MAX) {
                xs_log("备份不能包含 %s/%s：目录层次过深 (too deep)", dir, name);
                err = XS_EINVAL;
            } else {
                err = s_collect(dir, name, depth + 1, out, l);
            }
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            xs_log("跳过 %s/%s：不是普通文件 (skipped: not a regular file)", dir, name);
            continue;
        }
        if (st.st_dev == out->st_dev && st.st_ino == out->st_ino)
            continue;
        if (l->count + 1 >= XS_BACKUP_ENTRIES_MAX) { /* the store is one more */
            err = XS_ETOOBIG;
            break;
        }
        if (l->count == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 16;
            char **grown = realloc(l->names, cap * sizeof *grown);
            if (!grown) {
                err = XS_ENOMEM;
                break;
            }
            l->names = grown;
            l->cap = cap;
        }
        if (!(l->names[l->count] = strdup(name))) {
            err = XS_ENOMEM;
            break;
        }
        l->count++;
    }
    if (err == XS_OK && errno != 0)
        err = s_errno(errno);
    closedir(d);
    return err;
}

static int s_by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One file's entry. */
static xs_err s_write_file(s_writer_t *w, const char *dir, const char *name, uint8_t *chunk,
                           uint64_t *bytes) {
    char path[4096];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return XS_EINVAL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        xs_err err = s_errno(errno);
        if (fd >= 0)
            close(fd);
        xs_log_err(err, "读取 %s (reading)", path);
        return err;
    }
    s_entry_head(w, name, (unsigned)st.st_mode);
    xs_err err = s_entry_body(w, fd, chunk, bytes, NULL);
    close(fd);
    return err;
}

/* Syncs the directory that holds path, so that a rename in it lasts. */
static void s_sync_parent(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

xs_err xs_backup_write(const xs_backup_source_t *src, const char *out_path,
                       xs_backup_info_t *info) {
    char tmp[4096];
    struct stat out_st;
    s_list_t list = {NULL, 0, 0};
    s_writer_t w;
    uint8_t digest[XS_HASH_BYTES];
    uint64_t store_bytes = 0, bytes = 0;
    memset(&w, 0, sizeof w);
    w.fd = -1;
    if (!s_word_ok(src->kind, strlen(src->kind), XS_BACKUP_KIND_MAX, 0) ||
        !s_word_ok(src->store_format, strlen(src->store_format), XS_BACKUP_STORE_FORMAT_MAX, 1) ||
        !s_version_ok(XS_VERSION, strlen(XS_VERSION)))
        return XS_EINVAL;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", out_path) >= (int)sizeof tmp)
        return XS_EINVAL;
    uint8_t *chunk = malloc(XS_BACKUP_CHUNK_MAX);
    w.buf = malloc(S_BUF);
    xs_err err = chunk && w.buf ? XS_OK : XS_ENOMEM;
    if (err == XS_OK && (w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        err = s_errno(errno);
    if (err != XS_OK) {
        xs_log_err(err, "创建备份文件 %s (creating the backup file)", tmp);
        goto out;
    }
    if (fstat(w.fd, &out_st) != 0) {
        err = s_errno(errno);
        goto out;
    }
    /* The names first: a directory that cannot be backed up fails before the long copy. */
    if ((err = s_collect(src->dir, "", 0, &out_st, &list)) != XS_OK) {
        if (err == XS_ETOOBIG)
            xs_log("%s 中的文件超过 %d 个，无法备份 (over %d files in the directory)", src->dir,
                   XS_BACKUP_ENTRIES_MAX - 1, XS_BACKUP_ENTRIES_MAX - 1);
        else
            xs_log_err(err, "读取目录 %s (reading the directory)", src->dir);
        goto out;
    }
    qsort(list.names, list.count, sizeof *list.names, s_by_name);
    xs_hash_stream_init(&w.hash);
    int64_t created_at = (int64_t)time(NULL);
    uint8_t b[2];
    s_out(&w, s_magic, sizeof s_magic);
    s_put_u16(b, XS_BACKUP_FORMAT);
    s_out(&w, b, 2);
    s_out_text8(&w, src->kind);
    s_out_u64(&w, (uint64_t)created_at);
    s_out_text8(&w, XS_VERSION);
    s_out_text8(&w, src->store_format);
    if ((err = s_write_store(&w, src, chunk, &store_bytes)) != XS_OK) {
        xs_log_err(err, "复制数据库 (copying the store)");
        goto out;
    }
    for (size_t i = 0; err == XS_OK && i < list.count; i++)
        err = s_write_file(&w, src->dir, list.names[i], chunk, &bytes);
    if (err != XS_OK)
        goto out;
    s_out_u8(&w, 'E');
    s_out_u32(&w, (uint32_t)(list.count + 1));
    xs_hash_stream_final(&w.hash, digest);
    /* The trailer is not part of what it sums: written around s_out. */
    w.written += sizeof digest;
    if (w.err == XS_OK && S_BUF - w.have < sizeof digest)
        s_flush(&w);
    memcpy(w.buf + w.have, digest, sizeof digest);
    w.have += sizeof digest;
    s_flush(&w);
    if ((err = w.err) == XS_OK && fsync(w.fd) != 0)
        err = s_errno(errno);
    if (err == XS_OK && close(w.fd) != 0)
        err = s_errno(errno);
    w.fd = -1;
    if (err == XS_OK && rename(tmp, out_path) != 0)
        err = s_errno(errno);
    if (err == XS_OK)
        s_sync_parent(out_path);
    if (err != XS_OK)
        xs_log_err(err, "写入备份文件 %s (writing the backup file)", out_path);
    if (err == XS_OK && info) {
        memset(info, 0, sizeof *info);
        snprintf(info->kind, sizeof info->kind, "%s", src->kind);
        snprintf(info->version, sizeof info->version, "%s", XS_VERSION);
        snprintf(info->store_format, sizeof info->store_format, "%s", src->store_format);
        info->created_at = created_at;
        info->entries = list.count + 1;
        info->store_bytes = store_bytes;
        info->file_bytes = w.written;
    }
out:
    if (err == XS_OK && w.err != XS_OK)
        err = w.err;
    if (w.fd >= 0)
        close(w.fd);
    if (err != XS_OK)
        unlink(tmp);
    s_list_free(&list);
    free(w.buf);
    free(chunk);
    return err;
}

/* ---- reading ---- */

typedef struct s_reader {
    int fd;
    xs_hash_stream_t hash;
    uint8_t *buf;
    size_t have, off; /* buf[off .. have) not yet taken */
    uint64_t pos;     /* bytes of the file taken (and summed) */
    uint64_t summed;  /* bytes the checksum covers: the file's size less the trailer */
    xs_err io;        /* a read error: sticky */
    xs_progress_t *progress;
} s_reader_t;

/* Takes n bytes into out (NULL: only sums them). 0 when the summed part of the file ends
 * first (a truncated file, or lengths that claim too much) or a read fails. */
static int s_take(s_reader_t *r, void *out, size_t n) {
    uint8_t *p = out;
    if (r->io != XS_OK || n > r->summed - r->pos)
        return 0;
    while (n > 0) {
        if (r->off == r->have) {
            ssize_t got = read(r->fd, r->buf, S_BUF);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                r->io = got < 0 ? s_errno(errno) : XS_ECORRUPT; /* shrank since fstat */
                return 0;
            }
            r->have = (size_t)got;
            r->off = 0;
        }
        size_t k = r->have - r->off < n ? r->have - r->off : n;
        /* The trailer may share the buffer: sum only what is taken. */
        xs_hash_stream_update(&r->hash, r->buf + r->off, k);
        if (p) {
            memcpy(p, r->buf + r->off, k);
            p += k;
        }
        r->off += k;
        r->pos += k;
        n -= k;
        if (r->progress && (r->pos & 0xfffff) < k)
            xs_progress_update(r->progress, (uint64_t)((double)r->pos / S_MIB));
    }
    return 1;
}

static int s_take_u8(s_reader_t *r, uint8_t *v) {
    return s_take(r, v, 1);
}

static int s_take_u16(s_reader_t *r, uint16_t *v) {
    uint8_t b[2];
    if (!s_take(r, b, 2))
        return 0;
    *v = (uint16_t)(b[0] << 8 | b[1]);
    return 1;
}

static int s_take_u32(s_reader_t *r, uint32_t *v) {
    uint8_t b[4];
    if (!s_take(r, b, 4))
        return 0;
    *v = xs_store_key_u32(b);
    return 1;
}

static int s_take_u64(s_reader_t *r, uint64_t *v) {
    uint8_t b[8];
    if (!s_take(r, b, 8))
        return 0;
    *v = s_get_u64(b);
    return 1;
}

/* A 1-byte length and that many bytes into out (cap bytes, NUL-terminated). */
static int s_take_text8(s_reader_t *r, char *out, size_t cap) {
    uint8_t len;
    if (!s_take_u8(r, &len) || len >= cap || !s_take(r, out, len))
        return 0;
    out[len] = '\0';
    return 1;
}

/* What the walk over entries does with each: verify only (sink NULL) or write it. */
typedef struct s_sink {
    const char *into; /* the directory extracted into */
    int fd;           /* the entry being written; -1 between entries */
} s_sink_t;

/* Where the parse stopped, for the operator. */
typedef struct s_parse {
    xs_err err;      /* XS_OK, or why the structure failed */
    const char *why; /* static bilingual reason */
} s_parse_t;

static int s_fail(s_parse_t *p, xs_err err, const char *why) {
    if (p->err == XS_OK) {
        p->err = err;
        p->why = why;
    }
    return 0;
}

/* Makes the directories of name under into (0700); 0 with errno set when one cannot be. */
static int s_make_parents(const char *into, const char *name) {
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", into, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return 0;
    }
    for (char *p = path + strlen(into) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return 0;
        *p = '/';
    }
    return 1;
}

static int s_sink_open(s_sink_t *sink, const char *name, unsigned mode, s_parse_t *p) {
    char path[4096];
    if (!s_make_parents(sink->into, name) ||
        snprintf(path, sizeof path, "%s/%s", sink->into, name) >= (int)sizeof path)
        return s_fail(p, s_errno(errno), "无法创建目录 (cannot make a directory)");
    /* O_EXCL: a name twice in one file is refused, and nothing is written through a link. */
    sink->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (sink->fd < 0)
        return s_fail(p, errno == EEXIST ? XS_EMALFORMED : s_errno(errno),
                      errno == EEXIST ? "备份中有重复的文件名 (a name occurs twice)"
                                      : "无法写入文件 (cannot write a file)");
    if (fchmod(sink->fd, (mode & 0755) | 0600) != 0)
        return s_fail(p, s_errno(errno), "无法写入文件 (cannot write a file)");
    return 1;
}

static int s_sink_write(s_sink_t *sink, const uint8_t *bytes, size_t len, s_parse_t *p) {
    while (len > 0) {
        ssize_t n = write(sink->fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return s_fail(p, n < 0 ? s_errno(errno) : XS_EIO, "无法写入文件 (cannot write a file)");
        bytes += n;
        len -= (size_t)n;
    }
    return 1;
}

static int s_sink_close(s_sink_t *sink, s_parse_t *p) {
    int ok = fsync(sink->fd) == 0;
    int e = errno;
    ok = close(sink->fd) == 0 && ok;
    sink->fd = -1;
    if (!ok)
        return s_fail(p, s_errno(e), "无法写入文件 (cannot write a file)");
    return 1;
}

/* Parses the header into info; checks kind when not NULL. */
static int s_parse_header(s_reader_t *r, const char *kind, xs_backup_info_t *info, s_parse_t *p) {
    uint8_t magic[8];
    uint16_t format;
    uint64_t created;
    if (!s_take(r, magic, sizeof magic) || memcmp(magic, s_magic, sizeof magic) != 0)
        return s_fail(p, XS_EMALFORMED, "不是学时系统的备份文件 (not a xueshi backup file)");
    if (!s_take_u16(r, &format))
        return s_fail(p, XS_ECORRUPT, "备份文件不完整 (the backup file is truncated)");
    if (format != XS_BACKUP_FORMAT)
        return s_fail(p, XS_EMALFORMED,
                      "备份文件格式比本程序新，请安装新版学时系统 (the backup's archive format is "
                      "newer than this program's: install a newer xueshi)");
    if (!s_take_text8(r, info->kind, sizeof info->kind) ||
        !s_word_ok(info->kind, strlen(info->kind), XS_BACKUP_KIND_MAX, 0) ||
        !s_take_u64(r, &created) || created > INT64_MAX ||
        !s_take_text8(r, info->version, sizeof info->version) ||
        !s_version_ok(info->version, strlen(info->version)) ||
        !s_take_text8(r, info->store_format, sizeof info->store_format) ||
        !s_word_ok(info->store_format, strlen(info->store_format), XS_BACKUP_STORE_FORMAT_MAX, 1))
        return s_fail(p, XS_EMALFORMED, "备份文件头无效 (the backup's header is malformed)");
    info->created_at = (int64_t)created;
    if (kind && strcmp(kind, info->kind) != 0)
        return s_fail(p, XS_EMALFORMED,
                      strcmp(info->kind, "hub") == 0
                          ? "这是县级中心的备份，不是节点的 (a hub's backup, not a node's)"
                      : strcmp(info->kind, "node") == 0
                          ? "这是节点的备份，不是县级中心的 (a node's backup, not a hub's)"
                          : "备份的种类不对 (a backup of another kind)");
    return 1;
}

/* Parses the entries and the end; with sink, writes each entry under sink->into. */
static int s_parse_entries(s_reader_t *r, xs_backup_info_t *info, s_sink_t *sink, uint8_t *chunk,
                           s_parse_t *p) {
    char name[XS_BACKUP_NAME_MAX + 1];
    uint64_t count = 0;
    int has_store = 0;
    for (;;) {
        uint8_t tag;
        uint16_t name_len, mode;
        uint32_t n, end_count;
        uint64_t sum = 0, total;
        if (!s_take_u8(r, &tag))
            return s_fail(p, XS_ECORRUPT, "备份文件不完整 (the backup file is truncated)");
        if (tag == 'E') {
            if (!s_take_u32(r, &end_count))
                return s_fail(p, XS_ECORRUPT, "备份文件不完整 (the backup file is truncated)");
            if (end_count != count || r->pos != r->summed)
                return s_fail(p, XS_EMALFORMED,
                              "备份文件结尾无效 (the backup's end does not match its entries)");
            if (!has_store)
                return s_fail(p, XS_EMALFORMED, "备份中没有数据库 (the backup holds no store)");
            info->entries = count;
            return 1;
        }
        if (tag != 'F' || ++count > XS_BACKUP_ENTRIES_MAX)
            return s_fail(p, XS_EMALFORMED, "备份文件结构无效 (the backup is malformed)");
        if (!s_take_u16(r, &name_len) || name_len > XS_BACKUP_NAME_MAX ||
            !s_take(r, name, name_len) || !s_take_u16(r, &mode))
            return s_fail(p, XS_EMALFORMED, "备份文件结构无效 (the backup is malformed)");
        name[name_len] = '\0';
        if (memchr(name, '\0', name_len) || !s_name_ok(name, name_len) || mode > 0777)
            return s_fail(p, XS_EMALFORMED,
                          "备份中有不允许的文件名 (a name in the backup is not allowed: absolute, "
                          "with .., or too long)");
        int is_store = strcmp(name, XS_BACKUP_STORE_ENTRY) == 0;
        if (is_store && has_store++)
            return s_fail(p, XS_EMALFORMED, "备份中有重复的文件名 (a name occurs twice)");
        if (sink && !s_sink_open(sink, name, mode, p))
            return 0;
        for (;;) {
            if (!s_take_u32(r, &n))
                return s_fail(p, XS_ECORRUPT, "备份文件不完整 (the backup file is truncated)");
            if (n == 0)
                break;
            if (n > XS_BACKUP_CHUNK_MAX)
                return s_fail(p, XS_EMALFORMED, "备份文件结构无效 (the backup is malformed)");
            if (!s_take(r, sink ? chunk : NULL, n))
                return s_fail(p, XS_ECORRUPT, "备份文件不完整 (the backup file is truncated)");
            if (sink && !s_sink_write(sink, chunk, n, p))
                return 0;
            sum += n;
        }
        if (!s_take_u64(r, &total))
            return s_fail(p, XS_ECORRUPT, "备份文件不完整 (the backup file is truncated)");
        if (total != sum)
            return s_fail(p, XS_EMALFORMED, "备份文件结构无效 (the backup is malformed)");
        if (is_store)
            info->store_bytes = sum;
        if (sink && !s_sink_close(sink, p))
            return 0;
    }
}

/* One pass over the file at path: sums it, parses it, and with sink writes its entries. The
 * checksum decides first: a file that fails it is damaged (XS_ECORRUPT) whatever its
 * structure says. */
static xs_err s_pass(const char *path, const char *kind, const char *program, s_sink_t *sink,
                     xs_backup_info_t *info, const char **why) {
    struct stat st;
    s_reader_t r;
    s_parse_t p = {XS_OK, NULL};
    xs_progress_t progress;
    uint8_t digest[XS_HASH_BYTES], trailer[XS_HASH_BYTES], magic[8];
    memset(&r, 0, sizeof r);
    memset(info, 0, sizeof *info);
    *why = NULL;
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0 || fstat(r.fd, &st) != 0) {
        xs_err err = s_errno(errno);
        if (r.fd >= 0)
            close(r.fd);
        *why = err == XS_ENOTFOUND ? "备份文件不存在 (no such backup file)"
                                   : "无法读取备份文件 (cannot read the backup file)";
        return err;
    }
    xs_err err = XS_OK;
    uint8_t *chunk = sink ? malloc(XS_BACKUP_CHUNK_MAX) : NULL;
    r.buf = malloc(S_BUF);
    if (!r.buf || (sink && !chunk)) {
        err = XS_ENOMEM;
        *why = "内存不足 (out of memory)";
        goto out;
    }
    /* Not ours at all: say so, rather than "damaged". */
    ssize_t got = pread(r.fd, magic, sizeof magic, 0);
    if (!S_ISREG(st.st_mode) || got < (ssize_t)sizeof magic ||
        memcmp(magic, s_magic, sizeof magic) != 0) {
        err = got >= 0 && got < (ssize_t)sizeof magic && S_ISREG(st.st_mode) &&
                      memcmp(magic, s_magic, (size_t)got) == 0
                  ? XS_ECORRUPT
                  : XS_EMALFORMED;
        *why = err == XS_ECORRUPT ? "备份文件不完整 (the backup file is truncated)"
                                  : "不是学时系统的备份文件 (not a xueshi backup file)";
        goto out;
    }
    if ((uint64_t)st.st_size < sizeof s_magic + S_TRAILER) {
        err = XS_ECORRUPT;
        *why = "备份文件不完整 (the backup file is truncated)";
        goto out;
    }
    r.summed = (uint64_t)st.st_size - S_TRAILER;
    info->file_bytes = (uint64_t)st.st_size;
    xs_hash_stream_init(&r.hash);
    xs_progress_begin(&progress, program,
                      sink ? "解开备份 (extracting the backup)" : "校验备份 (verifying the backup)",
                      "MiB", (uint64_t)((double)st.st_size / S_MIB));
    r.progress = &progress;
    int parsed = s_parse_header(&r, kind, info, &p);
    if (!parsed && p.err == XS_EMALFORMED && kind && info->kind[0] && strcmp(kind, info->kind)) {
        err = p.err; /* another kind: no need to read it all to refuse it */
        *why = p.why;
        goto out_progress;
    }
    if (parsed)
        parsed = s_parse_entries(&r, info, sink, chunk, &p);
    if (sink && sink->fd >= 0) {
        close(sink->fd);
        sink->fd = -1;
    }
    if (sink && !parsed) {
        err = p.err; /* nothing is kept of a failed extraction: no need to read on */
        *why = p.why;
        goto out_progress;
    }
    /* Sum the rest of the file, whatever the structure said, then read the trailer. */
    while (r.io == XS_OK && r.pos < r.summed) {
        uint64_t rest = r.summed - r.pos;
        if (!s_take(&r, NULL, rest < S_BUF ? (size_t)rest : S_BUF))
            break;
    }
    size_t t = 0;
    while (r.io == XS_OK && t < sizeof trailer) {
        if (r.off == r.have) {
            ssize_t n = read(r.fd, r.buf, S_BUF);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                r.io = n < 0 ? s_errno(errno) : XS_ECORRUPT;
                break;
            }
            r.have = (size_t)n;
            r.off = 0;
        }
        size_t k = r.have - r.off < sizeof trailer - t ? r.have - r.off : sizeof trailer - t;
        memcpy(trailer + t, r.buf + r.off, k);
        r.off += k;
        t += k;
    }
    xs_hash_stream_final(&r.hash, digest);
    if (r.io != XS_OK) {
        err = r.io;
        *why = err == XS_ECORRUPT ? "备份文件在读取时变短了 (the backup file shrank while read)"
                                  : "无法读取备份文件 (cannot read the backup file)";
    } else if (memcmp(digest, trailer, sizeof digest) != 0) {
        err = XS_ECORRUPT;
        *why = "备份文件校验和不符：文件不完整、损坏或被改动 (the checksum does not match: the "
               "backup file is truncated, damaged or altered)";
    } else if (!parsed) {
        err = p.err == XS_ECORRUPT ? XS_EMALFORMED : p.err;
        *why = p.why;
    }
out_progress:
    xs_progress_end(&progress, (uint64_t)((double)r.pos / S_MIB));
out:
    close(r.fd);
    free(r.buf);
    free(chunk);
    return err;
}

xs_err xs_backup_verify(const char *path, const char *kind, const char *program,
                        xs_backup_info_t *info, const char **why) {
    const char *reason = NULL;
    xs_err err = s_pass(path, kind, program, NULL, info, &reason);
    if (why)
        *why = reason;
    return err;
}

/* Extracts the file at path, already verified, into the new directory into: the second
 * pass, which checks the checksum again as it writes; into is removed on failure. */
static xs_err s_extract(const char *path, const char *kind, const char *program, const char *into,
                        xs_backup_info_t *info, const char **why) {
    if (mkdir(into, 0700) != 0) {
        xs_err err = s_errno(errno);
        *why = err == XS_EEXIST ? "解开的目录已存在 (the directory to extract into exists)"
                                : "无法创建目录 (cannot make a directory)";
        return err;
    }
    s_sink_t sink = {into, -1};
    xs_err err = s_pass(path, kind, program, &sink, info, why);
    if (err == XS_OK)
        s_sync_parent(into);
    else if (xs_backup_remove_tree(into) != XS_OK)
        xs_log("无法删除未完成的 %s，请手动删除 (cannot remove the unfinished directory: remove "
               "it by hand)",
               into);
    return err;
}

xs_err xs_backup_extract(const char *path, const char *kind, const char *program, const char *into,
                         xs_backup_info_t *info, const char **why) {
    const char *reason = NULL;
    xs_err err = s_pass(path, kind, program, NULL, info, &reason);
    if (err == XS_OK)
        err = s_extract(path, kind, program, into, info, &reason);
    if (why)
        *why = reason;
    return err;
}

static xs_err s_remove(int parent, const char *name, int depth) {
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? XS_OK : XS_EIO;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(parent, name, 0) == 0 ? XS_OK : XS_EIO;
    if (depth > XS_BACKUP_DEPTH_MAX + 2)
        return XS_EIO;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return XS_EIO;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return XS_EIO;
    }
    xs_err err = XS_OK;
    struct dirent *e;
    while (err == XS_OK && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            err = s_remove(dirfd(d), e->d_name, depth + 1);
    closedir(d);
    if (err == XS_OK && unlinkat(parent, name, AT_REMOVEDIR) != 0)
        err = XS_EIO;
    return err;
}

xs_err xs_backup_remove_tree(const char *path) {
    return s_remove(AT_FDCWD, path, 0);
}

/* ---- restoring ---- */

/* dir without trailing slashes into out (cap bytes); 0 when it does not fit or is "/". */
static int s_trim_dir(const char *dir, char *out, size_t cap) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len == 0 || len >= cap || (len == 1 && dir[0] == '/'))
        return 0;
    memcpy(out, dir, len);
    out[len] = '\0';
    return 1;
}

xs_err xs_backup_restore(const char *path, const char *kind, const char *program,
                         const char *dir_given, xs_backup_check_fn check, void *ctx,
                         char aside[XS_BACKUP_ASIDE_MAX], xs_backup_info_t *info) {
    char dir[4096], store[4200], into[4200], stamp[16];
    struct stat st;
    const char *why = NULL;
    int in_use = 0, exists;
    aside[0] = '\0';
    if (!s_trim_dir(dir_given, dir, sizeof dir))
        return XS_EINVAL;
    xs_err err = xs_backup_verify(path, kind, program, info, &why);
    if (err != XS_OK) {
        fprintf(stderr,
                "%s: 备份文件 %s 不能使用，未作任何改动 (the backup cannot be used; nothing "
                "changed): %s\n",
                program, path, why ? why : xs_strerror(err));
        return err;
    }
    if ((err = check(ctx, NULL, info)) != XS_OK)
        return err;
    exists = stat(dir, &st) == 0;
    if (exists && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: %s 不是目录，未作任何改动 (not a directory; nothing changed)\n",
                program, dir);
        return XS_EEXIST;
    }
    snprintf(store, sizeof store, "%s/store", dir);
    if (exists && (err = xs_store_in_use(store, &in_use)) != XS_OK) {
        xs_log_err(err, "检查 %s 是否在使用 (checking whether the store is in use)", store);
        return err;
    }
    if (in_use) {
        fprintf(stderr,
                "%s: %s 的数据库正在使用（run 或 web 正在运行），请先停止服务再恢复，未作任何改动 "
                "(the store is in use by a running service: stop it first; nothing changed)\n",
                program, dir);
        return XS_EBUSY;
    }
    snprintf(into, sizeof into, "%s.restoring-%ld", dir, (long)getpid());
    if (xs_backup_remove_tree(into) != XS_OK) { /* a crashed restore's, by the same pid */
        fprintf(stderr, "%s: 无法删除 %s (cannot remove)\n", program, into);
        return XS_EIO;
    }
    err = s_extract(path, kind, program, into, info, &why);
    if (err != XS_OK) {
        fprintf(stderr,
                "%s: 无法解开备份 %s，未作任何改动 (cannot extract the backup; nothing "
                "changed): %s\n",
                program, path, why ? why : xs_strerror(err));
        return err;
    }
    if ((err = check(ctx, into, info)) != XS_OK)
        goto fail;
    if (exists) {
        xs_backup_stamp((int64_t)time(NULL), stamp);
        int n = 0;
        do
            snprintf(aside, XS_BACKUP_ASIDE_MAX,
                     n ? "%s.before-restore-%s-%d" : "%s.before-restore-%s", dir, stamp, n);
        while (lstat(aside, &st) == 0 && ++n < 1000);
        if (rename(dir, aside) != 0) {
            err = s_errno(errno);
            fprintf(stderr,
                    "%s: 无法把 %s 移到 %s，未作任何改动 (cannot move the directory "
                    "aside; nothing changed): %s\n",
                    program, dir, aside, strerror(errno));
            aside[0] = '\0';
            goto fail;
        }
    }
    if (rename(into, dir) != 0) {
        err = s_errno(errno);
        fprintf(stderr, "%s: 无法把恢复的目录 %s 改名为 %s (cannot rename): %s\n", program, into,
                dir, strerror(errno));
        if (aside[0] && rename(aside, dir) != 0)
            fprintf(stderr,
                    "%s: 原目录留在 %s，请手动改回 %s (the old directory is at %s: rename "
                    "it back by hand)\n",
                    program, aside, dir, aside);
        aside[0] = '\0';
        goto fail;
    }
    s_sync_parent(dir);
    return XS_OK;
fail:
    if (xs_backup_remove_tree(into) != XS_OK)
        fprintf(stderr, "%s: 无法删除未完成的 %s，请手动删除 (remove it by hand)\n", program, into);
    return err;
}

xs_err xs_backup_path_beside(const char *dir_given, const char *label, char *out, size_t cap) {
    char dir[4096], stamp[16];
    if (!s_trim_dir(dir_given, dir, sizeof dir))
        return XS_EINVAL;
    xs_backup_stamp((int64_t)time(NULL), stamp);
    const char *slash = strrchr(dir, '/');
    int n = slash ? snprintf(out, cap, "%.*s/%s-%s-%s%s", (int)(slash - dir), dir, slash + 1, label,
                             stamp, XS_BACKUP_SUFFIX)
                  : snprintf(out, cap, "%s-%s-%s%s", dir, label, stamp, XS_BACKUP_SUFFIX);
    return n < 0 || (size_t)n >= cap ? XS_EINVAL : XS_OK;
}

/* ---- a program's backup commands ---- */

/* One backup of a directory being pruned: its name and modification time. */
typedef struct s_kept {
    char name[256];
    struct timespec mtime;
} s_kept_t;

static int s_kept_newer_first(const void *a, const void *b) {
    const s_kept_t *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
    return strcmp(y->name, x->name);
}

/* Removes dir's KIND-*.xsbak files beyond the newest keep; says what it removed. */
static void s_prune(const xs_backup_program_t *p, const char *dir, unsigned keep) {
    char path[4600];
    size_t n = 0, cap = 0, klen = strlen(p->kind);
    s_kept_t *all = NULL;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        struct stat st;
        if (len < klen + 1 + sizeof XS_BACKUP_SUFFIX || len >= sizeof all->name ||
            strncmp(e->d_name, p->kind, klen) != 0 || e->d_name[klen] != '-' ||
            strcmp(e->d_name + len - (sizeof XS_BACKUP_SUFFIX - 1), XS_BACKUP_SUFFIX) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            s_kept_t *grown = realloc(all, (cap = cap ? 2 * cap : 64) * sizeof *all);
            if (!grown)
                break;
            all = grown;
        }
        snprintf(all[n].name, sizeof all[n].name, "%s", e->d_name);
        all[n++].mtime = st.st_mtim;
    }
    if (d)
        closedir(d);
    if (n > keep)
        qsort(all, n, sizeof *all, s_kept_newer_first);
    for (size_t i = keep; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, all[i].name);
        if (unlink(path) == 0)
            printf("已删除较早的备份 (older backup removed): %s\n", path);
        else
            xs_log("无法删除较早的备份 %s (cannot remove an older backup): %s", path,
                   strerror(errno));
    }
    free(all);
}

int xs_backup_command(const xs_backup_program_t *p, const char *dir, const char *out,
                      const char *keep_text, xs_backup_info_t *info) {
    char path[4096], format_text[16], when[XS_TEXT_TIME_MAX], named[4600], stamp[16];
    unsigned format;
    struct stat st;
    xs_store_t *store = NULL;
    const char *into = NULL; /* the directory out names, when it is one */
    uint64_t keep = 0;
    if (keep_text &&
        (xs_text_parse_fixed(keep_text, strlen(keep_text), 0, XS_BACKUP_KEEP_MAX, &keep) != XS_OK ||
         keep == 0)) {
        xs_log("--keep %s：须为 1 到 %u 之间的整数 (must be a whole number from 1 to %u)",
               keep_text, XS_BACKUP_KEEP_MAX, XS_BACKUP_KEEP_MAX);
        return XS_EXIT_USAGE;
    }
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return XS_EXIT_USAGE;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        into = out;
        xs_backup_stamp((int64_t)time(NULL), stamp);
        for (unsigned k = 1;; k++) {
            int w = k == 1 ? snprintf(named, sizeof named, "%s/%s-%s%s", into, p->kind, stamp,
                                      XS_BACKUP_SUFFIX)
                           : snprintf(named, sizeof named, "%s/%s-%s-%u%s", into, p->kind, stamp, k,
                                      XS_BACKUP_SUFFIX);
            if (w < 0 || (size_t)w >= sizeof named)
                return XS_EXIT_USAGE;
            if (access(named, F_OK) != 0)
                break;
            if (k > 1000)
                return XS_EXIT_FAIL;
        }
        out = named;
    }
    xs_err err = xs_store_format_read(path, p->tables, p->format_key, &format);
    if (err == XS_ENOTFOUND) {
        xs_log("%s %s", dir, p->not_here);
        return XS_EXIT_USAGE;
    }
    if (err == XS_OK)
        err = xs_store_open_readonly(&store, path, p->tables, 1);
    if (err != XS_OK) {
        xs_log_err(err, "打开数据库 %s (opening the store)", path);
        return XS_EXIT_FAIL;
    }
    snprintf(format_text, sizeof format_text, "%u", format);
    xs_backup_source_t src = {p->program, p->kind, format_text, dir, store};
    err = xs_backup_write(&src, out, info);
    xs_store_close(&store);
    if (err != XS_OK)
        return XS_EXIT_FAIL;
    xs_text_local_time(info->created_at, when);
    printf("备份完成 (backup written): %s\n  数据库 (store) %.1f MiB，共 %llu 个文件 (files)，"
           "格式 (format) %s，快照时间 (snapshot at) %s\n",
           out, (double)info->store_bytes / (1024.0 * 1024.0), (unsigned long long)info->entries,
           info->store_format, when);
    if (into && keep)
        s_prune(p, into, (unsigned)keep);
    return XS_EXIT_OK;
}

xs_err xs_backup_check_copy(const xs_backup_program_t *p, const char *dir,
                            const xs_backup_info_t *info) {
    char path[4200];
    unsigned said, held;
    xs_identity_t *id = NULL;
    xs_err err = xs_store_format_parse(info->store_format, strlen(info->store_format), &said);
    if (err == XS_OK && said > p->format) {
        xs_log("备份中的数据库格式为 %u，比本程序认识的格式 %u 新：请安装新版学时系统 (xueshi) "
               "后再恢复，未作任何改动 (the backup's store format %u is newer than this "
               "program's %u: install a newer xueshi; nothing changed)",
               said, p->format, said, p->format);
        return XS_EVERSION;
    }
    if (err != XS_OK || !dir)
        return err;
    snprintf(path, sizeof path, "%s/store", dir);
    err = xs_store_format_read(path, p->tables, p->format_key, &held);
    if (err == XS_OK && held != said)
        err = XS_ECORRUPT;
    if (err != XS_OK) {
        xs_log_err(err, "备份中的数据库无法打开或格式不符，未作任何改动 (the backup's store "
                        "does not open or does not match its header; nothing changed)");
        return err;
    }
    if ((err = xs_identity_load(&id, dir, p->kind)) != XS_OK)
        xs_log_err(err, "备份中的密钥 %s.secret，未作任何改动 (the backup's key; nothing changed)",
                   p->kind);
    xs_identity_destroy(&id);
    return err;
}

int xs_backup_restore_command(const xs_backup_program_t *p, const char *dir, const char *from,
                              xs_backup_check_fn check, void *ctx, xs_backup_info_t *info) {
    char aside[XS_BACKUP_ASIDE_MAX], when[XS_TEXT_TIME_MAX];
    unsigned format = 0;
    xs_err err = xs_backup_restore(from, p->kind, p->program, dir, check, ctx, aside, info);
    if (err != XS_OK)
        return err == XS_EMALFORMED || err == XS_ECORRUPT || err == XS_EVERSION ||
                       err == XS_ENOTFOUND
                   ? XS_EXIT_USAGE
                   : XS_EXIT_FAIL;
    xs_text_local_time(info->created_at, when);
    printf("已恢复 (restored) %s，来自备份 (from) %s：快照时间 (snapshot at) %s，版本 (version) "
           "%s，数据库格式 (store format) %s\n",
           dir, from, when, info->version, info->store_format);
    if (aside[0])
        printf("原目录已保留为 (the directory there before is kept as) %s\n", aside);
    if (xs_store_format_parse(info->store_format, strlen(info->store_format), &format) == XS_OK &&
        format < p->format)
        printf("数据库格式较旧，请运行 %s migrate --dir %s (an older store format: run `%s "
               "migrate --dir %s`)\n",
               p->program, dir, p->program, dir);
    return XS_EXIT_OK;
}

int xs_backup_migrate_begin(const xs_backup_program_t *p, const char *dir, const char *out,
                            char *used, size_t cap, unsigned *format) {
    char path[4096], label[32];
    int in_use = 0;
    xs_backup_info_t info;
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return XS_EXIT_USAGE;
    xs_err err = xs_store_format_read(path, p->tables, p->format_key, format);
    if (err == XS_ENOTFOUND) {
        xs_log("%s %s", dir, p->not_here);
        return XS_EXIT_USAGE;
    }
    if (err != XS_OK) {
        xs_log_err(err, "读取数据库格式 %s (reading the store's format)", path);
        return XS_EXIT_FAIL;
    }
    if (*format == p->format) {
        printf("数据库已是当前格式 %u，无需升级 (the store is current: format %u)\n", *format,
               *format);
        return XS_EXIT_OK;
    }
    if (*format > p->format)
        return xs_store_format_check(p->program, dir, *format, p->format) == XS_OK ? XS_EXIT_OK
                                                                                   : XS_EXIT_USAGE;
    if ((err = xs_store_in_use(path, &in_use)) != XS_OK || in_use) {
        xs_log("%s 的数据库正在使用：请先停止 %s run 和 web，再升级，未作任何改动 (the store is "
               "in use: stop `run` and `web` first; nothing changed)",
               dir, p->program);
        return XS_EXIT_FAIL;
    }
    if (out) {
        if (snprintf(used, cap, "%s", out) >= (int)cap)
            return XS_EXIT_USAGE;
    } else {
        snprintf(label, sizeof label, "format-%u", *format);
        if (xs_backup_path_beside(dir, label, used, cap) != XS_OK) {
            xs_log("无法在 %s 旁边命名备份文件，请用 --backup 指定 (cannot name a backup beside "
                   "the directory: give --backup FILE)",
                   dir);
            return XS_EXIT_USAGE;
        }
    }
    printf("升级前先备份 (backing up first) 到 %s\n", used);
    if (xs_backup_command(p, dir, used, NULL, &info) != XS_EXIT_OK) {
        xs_log("备份没有完成，未升级 (the backup failed: nothing upgraded)");
        return XS_EXIT_FAIL;
    }
    return -1;
}
