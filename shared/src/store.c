/* store: the only module that speaks LMDB; translates its errors and grows the map. */
#include "xs/store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "xs/err.h"

/* Largest map the store grows to: 1 TiB of address space, far beyond any county. */
#define S_MAP_LIMIT ((size_t)1 << 40)
/* Free space under which a failed write is taken for a full disk, in bytes. */
#define S_FULL_SLACK ((uint64_t)1 << 20)

struct xs_store {
    MDB_env *env;
    MDB_dbi dbi[XS_STORE_MAX_TABLES]; /* table handles, in the order given at open */
    unsigned ntables;
    size_t map_size;           /* bytes currently mapped */
    pthread_rwlock_t map_lock; /* threads sharing the store (the dashboard's, the node's web
                                  UI): each transaction, read or write, holds it shared for its
                                  life; remapping the file takes it alone, so no thread uses a
                                  mapping being replaced, and LMDB's rule that no transaction
                                  of the process be open while it remaps holds */
};

struct xs_txn {
    xs_store_t *store;
    MDB_txn *txn;
    int map_full; /* a write step's: set by a write that hit MDB_MAP_FULL */
};

struct xs_cursor {
    MDB_cursor *cur;
};

/* Maps an LMDB or errno code to xs_err, logging the original. */
static xs_err s_err(int rc, const char *what) {
    xs_err err;
    switch (rc) {
    case MDB_SUCCESS:
        return XS_OK;
    case MDB_NOTFOUND:
        return XS_ENOTFOUND;
    case MDB_KEYEXIST:
        return XS_EEXIST;
    case ENOSPC:
    case EFBIG:
    case EDQUOT:
        err = XS_EFULL;
        break;
    case EACCES:
    case EROFS:
    case EPERM:
        err = XS_EPERM;
        break;
    case EAGAIN:
        err = XS_EBUSY;
        break;
    case ENOMEM:
        err = XS_ENOMEM;
        break;
    case EIO:
        err = XS_EIO;
        break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        err = XS_ECORRUPT;
        break;
    default:
        err = XS_ESTORE;
        break;
    }
    xs_log_err(err, "数据库出错 (lmdb %s: %s, %d)", what, mdb_strerror(rc), rc);
    return err;
}

/* As s_err, for a failed write. LMDB reports a short write as EIO, and a write that runs out
 * of disk (or into the file size limit) is usually short: that is a full disk, not a bad one. */
static xs_err s_write_err(MDB_env *env, int rc, const char *what) {
    int fd;
    struct stat st;
    struct statvfs vfs;
    struct rlimit rl;
    if (rc != EIO || mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st) != 0)
        return s_err(rc, what);
    if ((getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
         (rlim_t)st.st_size >= rl.rlim_cur) ||
        (fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < S_FULL_SLACK)) {
        xs_log_err(XS_EFULL, "磁盘已满，请腾出空间后重试 (lmdb %s: %s, %d, short write)", what,
                   mdb_strerror(rc), rc);
        return XS_EFULL;
    }
    return s_err(rc, what);
}

/* Frees a store whose opening failed. */
static void s_open_failed(xs_store_t *s) {
    if (s->env)
        mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->map_lock);
    free(s);
}

/* Seconds a remap waits for other threads' read transactions to end. */
#define S_REMAP_WAIT_SECONDS 10

/* Sets the map size (0: the size the file records) with no transaction of another thread
 * open: EBUSY when they do not end in time (or this thread holds one). With seen other than 0,
 * only while the map is still seen bytes: another thread may have grown it meanwhile. */
static int s_remap(xs_store_t *s, size_t size, size_t seen) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += S_REMAP_WAIT_SECONDS;
    if (pthread_rwlock_timedwrlock(&s->map_lock, &until) != 0)
        return EBUSY;
    if (seen && s->map_size != seen) {
        pthread_rwlock_unlock(&s->map_lock);
        return 0;
    }
    int rc = mdb_env_set_mapsize(s->env, size);
    MDB_envinfo info;
    if (rc == 0 && mdb_env_info(s->env, &info) == 0)
        s->map_size = info.me_mapsize;
    pthread_rwlock_unlock(&s->map_lock);
    return rc;
}

/* Opens s's tables (with dbi_flags, in a transaction begun with txn_flags) and hands s to *out;
 * on failure frees s. The commit keeps the table handles for later transactions. */
static xs_err s_open_tables(xs_store_t *s, unsigned txn_flags, unsigned dbi_flags,
                            const char *const *tables, xs_store_t **out) {
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(s->env, NULL, txn_flags, &txn);
    xs_err err = rc ? s_err(rc, "begin") : XS_OK;
    for (unsigned i = 0; err == XS_OK && i < s->ntables; i++)
        if ((rc = mdb_dbi_open(txn, tables[i], dbi_flags, &s->dbi[i])) != 0)
            err = s_err(rc, "dbi_open");
    if (err == XS_OK) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc != 0)
            err = s_err(rc, "commit");
    }
    if (txn)
        mdb_txn_abort(txn);
    if (err != XS_OK) {
        s_open_failed(s);
        return err;
    }
    *out = s;
    return XS_OK;
}

xs_err xs_store_open(xs_store_t **out, const char *path, const char *const *tables,
                     unsigned ntables, size_t map_size) {
    int rc, dead;
    xs_err err = XS_OK;
    *out = NULL;
    if (ntables > XS_STORE_MAX_TABLES)
        return XS_EINVAL;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return errno == EACCES ? XS_EPERM : errno == ENOSPC ? XS_EFULL : XS_EIO;
    xs_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return XS_ENOMEM;
    if (pthread_rwlock_init(&s->map_lock, NULL) != 0) {
        free(s);
        return XS_ENOMEM;
    }
    s->ntables = ntables;
    s->map_size = map_size ? map_size : XS_STORE_MAP_DEFAULT;
    if ((rc = mdb_env_create(&s->env)) != 0 ||
        (rc = mdb_env_set_maxdbs(s->env, XS_STORE_MAX_TABLES)) != 0 ||
        (rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0 ||
        (rc = mdb_env_open(s->env, path, MDB_NOTLS, 0600)) != 0) {
        err = s_err(rc, "open");
        goto out;
    }
    /* A map grown by an earlier run is larger than what we asked for: adopt it. mdb_env_open
     * maps only the size asked for (or the data's size); size 0 takes the size the file
     * records, which commits only ever raise. */
    MDB_envinfo info;
    if ((rc = mdb_env_set_mapsize(s->env, 0)) != 0 || (rc = mdb_env_info(s->env, &info)) != 0) {
        err = s_err(rc, "map size");
        goto out;
    }
    if (info.me_mapsize >= s->map_size)
        s->map_size = info.me_mapsize;
    else if ((rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0) {
        err = s_err(rc, "map size");
        goto out;
    }
    (void)mdb_reader_check(s->env, &dead); /* slots of killed processes */
    return s_open_tables(s, 0, MDB_CREATE, tables, out);
out:
    s_open_failed(s);
    return err;
}

void xs_store_close(xs_store_t **store) {
    if (!store || !*store)
        return;
    mdb_env_close((*store)->env);
    pthread_rwlock_destroy(&(*store)->map_lock);
    free(*store);
    *store = NULL;
}

size_t xs_store_map_size(const xs_store_t *store) {
    return store->map_size;
}

/* Begins a transaction, adopting a map another process has grown meanwhile. The transaction
 * holds map_lock shared from here until it ends (xs_store_end, or the end of the step). */
static int s_begin(xs_store_t *s, unsigned flags, MDB_txn **txn) {
    pthread_rwlock_rdlock(&s->map_lock);
    int rc = mdb_txn_begin(s->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        pthread_rwlock_unlock(&s->map_lock);
        if ((rc = s_remap(s, 0, 0)) != 0)
            return rc;
        pthread_rwlock_rdlock(&s->map_lock);
        rc = mdb_txn_begin(s->env, NULL, flags, txn);
    }
    if (rc != 0)
        pthread_rwlock_unlock(&s->map_lock);
    return rc;
}

xs_err xs_store_read(xs_store_t *store, xs_txn_t **out) {
    *out = NULL;
    xs_txn_t *t = malloc(sizeof *t);
    if (!t)
        return XS_ENOMEM;
    t->store = store;
    int rc = s_begin(store, MDB_RDONLY, &t->txn);
    if (rc != 0) {
        free(t);
        return s_err(rc, "begin read");
    }
    *out = t;
    return XS_OK;
}

void xs_store_end(xs_txn_t **txn) {
    if (!txn || !*txn)
        return;
    mdb_txn_abort((*txn)->txn);
    pthread_rwlock_unlock(&(*txn)->store->map_lock);
    free(*txn);
    *txn = NULL;
}

xs_err xs_store_update(xs_store_t *store, xs_store_step_fn step, void *ctx) {
    for (;;) {
        xs_txn_t t = {store, NULL, 0};
        int rc = s_begin(store, 0, &t.txn);
        if (rc != 0)
            return s_err(rc, "begin write");
        size_t seen = store->map_size; /* read under map_lock: only a remap changes it */
        xs_err err = step(&t, ctx);
        if (err == XS_OK) {
            rc = mdb_txn_commit(t.txn);
            pthread_rwlock_unlock(&store->map_lock);
            if (rc == 0)
                return XS_OK;
            if (rc != MDB_MAP_FULL)
                return s_write_err(store->env, rc, "commit");
            t.map_full = 1;
        } else {
            mdb_txn_abort(t.txn);
            pthread_rwlock_unlock(&store->map_lock);
            if (!t.map_full)
                return err;
        }
        /* The map is full: grow it (no transaction is open now) and run the step again. */
        if (seen >= S_MAP_LIMIT)
            return XS_EFULL;
        if ((rc = s_remap(store, seen * 2, seen)) != 0)
            return s_err(rc, "grow map");
    }
}

static int s_table_ok(const xs_txn_t *t, unsigned table) {
    return table < t->store->ntables;
}

xs_err xs_store_put(xs_txn_t *t, unsigned table, const void *key, size_t klen, const void *val,
                    size_t vlen, unsigned flags) {
    if (!s_table_ok(t, table))
        return XS_EINVAL;
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    unsigned mflags = 0;
    if (flags & XS_PUT_APPEND)
        mflags |= MDB_APPEND;
    if (flags & XS_PUT_NOOVERWRITE)
        mflags |= MDB_NOOVERWRITE;
    int rc = mdb_put(t->txn, t->store->dbi[table], &k, &v, mflags);
    if (rc == MDB_MAP_FULL) {
        t->map_full = 1;
        return XS_EFULL;
    }
    if (rc == MDB_KEYEXIST)
        return XS_EEXIST;
    return s_write_err(t->store->env, rc, "put");
}

xs_err xs_store_get(xs_txn_t *t, unsigned table, const void *key, size_t klen, xs_bytes_t *val) {
    if (!s_table_ok(t, table))
        return XS_EINVAL;
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(t->txn, t->store->dbi[table], &k, &v);
    if (rc == MDB_NOTFOUND)
        return XS_ENOTFOUND;
    if (rc != 0)
        return s_err(rc, "get");
    val->ptr = v.mv_data;
    val->len = v.mv_size;
    return XS_OK;
}

xs_err xs_store_get_u64(xs_txn_t *txn, unsigned table, const void *key, size_t klen,
                        uint64_t *value) {
    xs_bytes_t v = {NULL, 0};
    xs_err err = xs_store_get(txn, table, key, klen, &v);
    *value = 0;
    if (err == XS_ENOTFOUND)
        return XS_OK;
    if (err == XS_OK && v.len != 8)
        return XS_ECORRUPT;
    if (err == XS_OK)
        *value = xs_store_key_u64(v.ptr);
    return err;
}

xs_err xs_store_del(xs_txn_t *t, unsigned table, const void *key, size_t klen) {
    if (!s_table_ok(t, table))
        return XS_EINVAL;
    MDB_val k = {klen, (void *)key};
    int rc = mdb_del(t->txn, t->store->dbi[table], &k, NULL);
    if (rc == MDB_NOTFOUND)
        return XS_ENOTFOUND;
    if (rc == MDB_MAP_FULL) {
        t->map_full = 1;
        return XS_EFULL;
    }
    return s_write_err(t->store->env, rc, "del");
}

xs_err xs_store_clear(xs_txn_t *t, unsigned table) {
    if (!s_table_ok(t, table))
        return XS_EINVAL;
    int rc = mdb_drop(t->txn, t->store->dbi[table], 0);
    if (rc == MDB_MAP_FULL) {
        t->map_full = 1;
        return XS_EFULL;
    }
    return s_write_err(t->store->env, rc, "drop");
}

xs_err xs_store_count(xs_txn_t *t, unsigned table, uint64_t *count) {
    if (!s_table_ok(t, table))
        return XS_EINVAL;
    MDB_stat st;
    int rc = mdb_stat(t->txn, t->store->dbi[table], &st);
    if (rc != 0)
        return s_err(rc, "stat");
    *count = st.ms_entries;
    return XS_OK;
}

xs_err xs_store_cursor_open(xs_txn_t *t, unsigned table, xs_cursor_t **out) {
    *out = NULL;
    if (!s_table_ok(t, table))
        return XS_EINVAL;
    xs_cursor_t *c = malloc(sizeof *c);
    if (!c)
        return XS_ENOMEM;
    int rc = mdb_cursor_open(t->txn, t->store->dbi[table], &c->cur);
    if (rc != 0) {
        free(c);
        return s_err(rc, "cursor");
    }
    *out = c;
    return XS_OK;
}

static xs_err s_cursor_get(xs_cursor_t *c, MDB_val *k, MDB_val *v, MDB_cursor_op op,
                           xs_bytes_t *key, xs_bytes_t *val) {
    int rc = mdb_cursor_get(c->cur, k, v, op);
    if (rc == MDB_NOTFOUND)
        return XS_ENOTFOUND;
    if (rc != 0)
        return s_err(rc, "cursor get");
    if (key) {
        key->ptr = k->mv_data;
        key->len = k->mv_size;
    }
    if (val) {
        val->ptr = v->mv_data;
        val->len = v->mv_size;
    }
    return XS_OK;
}

xs_err xs_store_cursor_seek(xs_cursor_t *c, const void *key, size_t klen, xs_bytes_t *k,
                            xs_bytes_t *v) {
    MDB_val mk = {klen, (void *)key}, mv = {0, NULL};
    return s_cursor_get(c, &mk, &mv, key ? MDB_SET_RANGE : MDB_FIRST, k, v);
}

xs_err xs_store_cursor_next(xs_cursor_t *c, xs_bytes_t *k, xs_bytes_t *v) {
    MDB_val mk = {0, NULL}, mv = {0, NULL};
    return s_cursor_get(c, &mk, &mv, MDB_NEXT, k, v);
}

xs_err xs_store_cursor_prev(xs_cursor_t *c, xs_bytes_t *k, xs_bytes_t *v) {
    MDB_val mk = {0, NULL}, mv = {0, NULL};
    return s_cursor_get(c, &mk, &mv, MDB_PREV, k, v);
}

xs_err xs_store_cursor_last(xs_cursor_t *c, xs_bytes_t *k, xs_bytes_t *v) {
    MDB_val mk = {0, NULL}, mv = {0, NULL};
    return s_cursor_get(c, &mk, &mv, MDB_LAST, k, v);
}

void xs_store_cursor_close(xs_cursor_t **c) {
    if (!c || !*c)
        return;
    mdb_cursor_close((*c)->cur);
    free(*c);
    *c = NULL;
}

xs_err xs_store_open_readonly(xs_store_t **out, const char *path, const char *const *tables,
                              unsigned ntables) {
    MDB_envinfo info;
    struct stat st;
    int rc;
    xs_err err = XS_OK;
    *out = NULL;
    if (ntables > XS_STORE_MAX_TABLES)
        return XS_EINVAL;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? XS_ENOTFOUND : errno == EACCES ? XS_EPERM : XS_EIO;
    xs_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return XS_ENOMEM;
    if (pthread_rwlock_init(&s->map_lock, NULL) != 0) {
        free(s);
        return XS_ENOMEM;
    }
    s->ntables = ntables;
    /* No map size is set: LMDB then maps the size the store records, at least its data. */
    if ((rc = mdb_env_create(&s->env)) != 0 ||
        (rc = mdb_env_set_maxdbs(s->env, XS_STORE_MAX_TABLES)) != 0 ||
        (rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_RDONLY, 0600)) != 0 ||
        (rc = mdb_env_info(s->env, &info)) != 0) {
        err = s_err(rc, "open read-only");
        goto out;
    }
    s->map_size = info.me_mapsize;
    return s_open_tables(s, MDB_RDONLY, 0, tables, out);
out:
    s_open_failed(s);
    return err;
}

/* ---- the guard against faults while reading a corrupted map ----
 *
 * LMDB has no page checksums. A flipped byte can send it to a page past the end of the file
 * (SIGBUS in the map), through a pointer built from garbage (SIGSEGV with the instruction in
 * LMDB), or into one of its own page assertions (abort). The guard turns exactly those into
 * the caller's message and exit code, and ends the process there: after a fault inside LMDB
 * nothing it holds can be trusted, and a reader has changed nothing, so there is nothing to
 * finish. It must not turn a bug of the program into "the store is corrupted": any other
 * fault goes back to the disposition it had (a core dump, or a sanitizer's report). Telling
 * the two apart needs to know where the fault happened, which the handler reads from
 * /proc/self/maps with open, read and close; those, write, _exit, sigaction and raise are the
 * only calls it makes, all async-signal-safe, and all it reads is set before it is installed.
 */

#include <fcntl.h>
#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

/* What the handler needs, set before it is installed: it reads nothing else. */
static char s_guard_message[XS_STORE_GUARD_MAX];
static size_t s_guard_len;
static int s_guard_code;
static struct sigaction s_guard_prev[3]; /* SIGSEGV, SIGBUS, SIGABRT as they were */
static const int s_guard_signals[3] = {SIGSEGV, SIGBUS, SIGABRT};
static char s_guard_maps[4096]; /* a window on /proc/self/maps, for the handler only */

/* One mapping of the process, as far as the guard cares. */
typedef struct s_guard_map {
    uintptr_t start, end; /* its addresses, end excluded */
    int store;            /* 1: a store's data file (data.mdb) */
    int lmdb;             /* 1: the LMDB library */
} s_guard_map_t;

/* The faulting instruction's address from the handler's context, or 0 where unknown. */
static uintptr_t s_guard_pc(const void *context) {
    const ucontext_t *uc = context;
#if defined(__x86_64__) && defined(__linux__)
    return (uintptr_t)uc->uc_mcontext.gregs[16]; /* REG_RIP */
#elif defined(__i386__) && defined(__linux__)
    return (uintptr_t)uc->uc_mcontext.gregs[14]; /* REG_EIP */
#elif defined(__aarch64__) && defined(__linux__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

/* Reads a hexadecimal number at *p, advancing it. */
static uintptr_t s_guard_hex(const char **p, const char *end) {
    uintptr_t v = 0;
    for (; *p < end; (*p)++) {
        char c = **p;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : 16u;
        if (d == 16u)
            break;
        v = v << 4 | d;
    }
    return v;
}

/* One line of /proc/self/maps ("start-end perms offset dev inode path"): fills *out when the
 * mapping holds addr; notes in *lmdb_mapped whether LMDB is a library of its own. */
static void s_guard_line(const char *p, const char *end, uintptr_t addr, s_guard_map_t *out,
                         int *found, int *lmdb_mapped) {
    uintptr_t start = s_guard_hex(&p, end);
    if (p == end || *p++ != '-')
        return;
    uintptr_t stop = s_guard_hex(&p, end);
    const char *name = NULL;
    for (const char *q = p; q < end; q++) /* the fields before the path hold no slash */
        if (*q == '/')
            name = q + 1;
    size_t len = name ? (size_t)(end - name) : 0;
    int lmdb = len >= 7 && memcmp(name, "liblmdb", 7) == 0;
    *lmdb_mapped |= lmdb;
    if (addr >= start && addr < stop) {
        *out = (s_guard_map_t){start, stop, len == 8 && memcmp(name, "data.mdb", 8) == 0, lmdb};
        *found = 1;
    }
}

/* Finds the mapping holding addr: 1 when found, 0 when none holds it, -1 when the maps cannot
 * be read. Uses only open, read and close, which are async-signal-safe. */
static int s_guard_find(uintptr_t addr, s_guard_map_t *out, int *lmdb_mapped) {
    int found = 0, skipping = 0; /* skipping: inside a line longer than the window */
    size_t have = 0;
    *lmdb_mapped = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, s_guard_maps + have, sizeof s_guard_maps - have);
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        const char *line = s_guard_maps, *end = s_guard_maps + have, *nl;
        while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
            if (!skipping)
                s_guard_line(line, nl, addr, out, &found, lmdb_mapped);
            skipping = 0;
            line = nl + 1;
        }
        have = (size_t)(end - line);
        memmove(s_guard_maps, line, have);
        if (have == sizeof s_guard_maps) { /* its start holds the addresses: enough */
            s_guard_line(s_guard_maps, s_guard_maps + have, addr, out, &found, lmdb_mapped);
            have = 0;
            skipping = 1;
        }
    }
    close(fd);
    return found;
}

/* Whether an abort is LMDB's: a page check that fails formats "mdb.c:LINE: Assertion 'EXPR'
 * failed in mdb_FUNCTION()" into a buffer on its own stack frame, prints it and calls abort().
 * So the live stack above this handler, up to 64 KiB and within its mapping, is searched for
 * that text. Not instrumented: the search reads other frames, redzones included. */
__attribute__((no_sanitize_address)) static int s_guard_lmdb_abort(void) {
    static const char tail[] = "' failed in mdb_", head[] = "Assertion '";
    s_guard_map_t stack;
    int lmdb_mapped;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if (s_guard_find(sp, &stack, &lmdb_mapped) != 1)
        return 0;
    const volatile char *p = (const volatile char *)sp;
    size_t n = stack.end - sp < 65536 ? stack.end - sp : 65536;
    for (size_t i = sizeof head; i + sizeof tail - 1 <= n; i++) {
        size_t t = 0;
        while (t < sizeof tail - 1 && p[i + t] == tail[t])
            t++;
        if (t < sizeof tail - 1)
            continue;
        for (size_t j = i >= 400 ? i - 400 : 0; j + sizeof head - 1 <= i; j++) {
            size_t h = 0;
            while (h < sizeof head - 1 && p[j + h] == head[h])
                h++;
            if (h == sizeof head - 1)
                return 1;
        }
    }
    return 0;
}

/* Whether a signal is the store's doing: an LMDB assertion's abort; a fault at an address in
 * a mapped store file (reading a page the file does not hold, or past it); or a fault by an
 * instruction of the LMDB library (a wild pointer from a damaged page). Where that cannot be
 * told (no maps, no instruction address, LMDB linked into the program) it is taken to be. */
static int s_guard_is_store(int sig, const siginfo_t *info, const void *context) {
    s_guard_map_t map;
    int lmdb_mapped;
    if (sig == SIGABRT)
        return s_guard_lmdb_abort();
    if (info->si_code <= 0)
        return 0; /* sent by a process, not raised by a read */
    int found = s_guard_find((uintptr_t)info->si_addr, &map, &lmdb_mapped);
    if (found < 0 || (found == 1 && map.store))
        return 1;
    uintptr_t pc = s_guard_pc(context);
    if (pc == 0 || (found = s_guard_find(pc, &map, &lmdb_mapped)) < 0 || !lmdb_mapped)
        return 1;
    return found == 1 && map.lmdb;
}

static void s_guard_handler(int sig, siginfo_t *info, void *context) {
    static volatile sig_atomic_t busy;
    if (busy++ == 0 && !s_guard_is_store(sig, info, context)) {
        /* Not the store's: hand the signal back to what handled it before (the default, or a
         * sanitizer). A fault repeats when the instruction runs again; a sent or raised
         * signal is raised again, and arrives when this handler returns. */
        for (int i = 0; i < 3; i++)
            if (s_guard_signals[i] == sig)
                sigaction(sig, &s_guard_prev[i], NULL);
        busy = 0;
        if (info->si_code <= 0)
            raise(sig);
        return;
    }
    for (size_t done = 0; done < s_guard_len;) {
        ssize_t n = write(STDERR_FILENO, s_guard_message + done, s_guard_len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    _exit(s_guard_code);
}

xs_err xs_store_guard(const char *message, int exit_code) {
    static int installed;
    struct sigaction sa;
    size_t len = strlen(message);
    if (len > sizeof s_guard_message)
        return XS_ETOOBIG;
    memcpy(s_guard_message, message, len);
    s_guard_len = len;
    s_guard_code = exit_code;
    if (installed) /* the message changed; the dispositions to fall back on did not */
        return XS_OK;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = s_guard_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++)
        if (sigaction(s_guard_signals[i], &sa, &s_guard_prev[i]) != 0)
            return XS_EIO;
    installed = 1;
    return XS_OK;
}

/* ---- usage, for monitoring ------------------------------------------------------------------ */

xs_err xs_store_usage(xs_store_t *store, xs_store_usage_t *out) {
    MDB_envinfo info;
    MDB_stat stat;
    memset(out, 0, sizeof *out);
    /* Shared: a thread growing the map replaces what mdb_env_info reads. */
    if (pthread_rwlock_rdlock(&store->map_lock) != 0)
        return XS_ESTORE;
    int rc = mdb_env_info(store->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(store->env, &stat);
    pthread_rwlock_unlock(&store->map_lock);
    if (rc != 0)
        return XS_ESTORE;
    out->page_bytes = stat.ms_psize;
    out->map_bytes = (uint64_t)info.me_mapsize;
    out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
    return XS_OK;
}

/* ---- hot copies (backups) ---- */

xs_err xs_store_copy_fd(xs_store_t *store, int fd) {
    for (int attempt = 0;; attempt++) {
        /* Held shared, as by any transaction: the copy's read snapshot must not see the map
         * replaced under it by another thread's growth. */
        pthread_rwlock_rdlock(&store->map_lock);
        int rc = mdb_env_copyfd2(store->env, fd, MDB_CP_COMPACT);
        pthread_rwlock_unlock(&store->map_lock);
        if (rc == MDB_MAP_RESIZED && attempt == 0) {
            /* Another process grew the map: adopt it and begin again (nothing was written:
             * the snapshot is taken before the first byte). */
            if ((rc = s_remap(store, 0, 0)) != 0)
                return s_err(rc, "copy: adopt map");
            continue;
        }
        if (rc == EPIPE)
            rc = EIO;
        return rc == 0 ? XS_OK : s_err(rc, "copy");
    }
}

xs_err xs_store_in_use(const char *path, int *in_use) {
    char lock_path[4096];
    struct flock probe;
    *in_use = 0;
    if (snprintf(lock_path, sizeof lock_path, "%s/lock.mdb", path) >= (int)sizeof lock_path)
        return XS_EINVAL;
    int fd = open(lock_path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? XS_OK : errno == EACCES ? XS_EPERM : XS_EIO;
    /* Every process with the environment open holds a shared lock on the lock file's first
     * byte for as long as it has it open (LMDB's mdb_env_excl_lock): an exclusive lock is
     * granted only when none has. */
    memset(&probe, 0, sizeof probe);
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_start = 0;
    probe.l_len = 1;
    int rc;
    while ((rc = fcntl(fd, F_SETLK, &probe)) != 0 && errno == EINTR)
        ;
    xs_err err = XS_OK;
    if (rc == 0) {
        probe.l_type = F_UNLCK;
        (void)fcntl(fd, F_SETLK, &probe);
    } else if (errno == EAGAIN || errno == EACCES) {
        *in_use = 1;
    } else {
        err = XS_EIO;
    }
    close(fd);
    return err;
}

/* ---- store formats ---- */

xs_err xs_store_format_parse(const void *text, size_t len, unsigned *format) {
    const char *p = text;
    unsigned v = 0;
    if (len == 0 || len > 9)
        return XS_ECORRUPT;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return XS_ECORRUPT;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0)
        return XS_ECORRUPT;
    *format = v;
    return XS_OK;
}

xs_err xs_store_format_read(const char *path, const char *const *tables, const char *key,
                            unsigned *format) {
    xs_store_t *store = NULL;
    xs_txn_t *txn = NULL;
    xs_bytes_t v = {NULL, 0};
    char data[4200];
    struct stat st;
    if (snprintf(data, sizeof data, "%s/data.mdb", path) >= (int)sizeof data)
        return XS_ETOOBIG;
    if (stat(data, &st) != 0) /* none yet: nothing to read, nothing to refuse */
        return errno == ENOENT ? XS_ENOTFOUND : XS_EIO;
    /* The meta table alone: a newer format's other tables need not be known. */
    xs_err err = xs_store_open_readonly(&store, path, tables, 1);
    if (err == XS_OK)
        err = xs_store_read(store, &txn);
    if (err == XS_OK) {
        err = xs_store_get(txn, 0, key, strlen(key), &v);
        if (err == XS_ENOTFOUND) {
            *format = 1;
            err = XS_OK;
        } else if (err == XS_OK) {
            err = xs_store_format_parse(v.ptr, v.len, format);
        }
    }
    xs_store_end(&txn);
    xs_store_close(&store);
    return err;
}

xs_err xs_store_format_check(const char *program, const char *dir, unsigned format,
                             unsigned current) {
    if (format == current)
        return XS_OK;
    if (format > current)
        xs_log("%s 的数据库格式为 %u，比本程序认识的格式 %u 新：请安装新版学时系统 (xueshi) "
               "后再运行，未作任何改动 (the store's format %u is newer than this program's %u: "
               "install a newer xueshi; nothing changed)",
               dir, format, current, format, current);
    else
        xs_log("%s 的数据库格式为 %u，本程序需要格式 %u：请先运行 %s migrate --dir %s "
               "（会先备份）(the store's format %u is older than this program's %u: run "
               "`%s migrate --dir %s`, which backs it up first)",
               dir, format, current, program, dir, format, current, program, dir);
    return XS_EVERSION;
}
