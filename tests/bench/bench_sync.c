/* bench_sync: `xueshi-node sync` of 100,000 records against its floor (Ed25519 verify of the same
 * envelopes plus their raw durable append in the hub's grouping), and its bytes on the wire.
 *
 * Usage: bench_sync [SCRATCH_PARENT]  (default $TMPDIR or /tmp). XS_KEEP=1 keeps the scratch
 * directory; XS_BENCH_BIN=DIR takes the programs from DIR; XS_BENCH_POLICY=FILE.ini replaces
 * the source tree's baiwanzi policy; XS_BENCH_PERF=PREFIX adds one profiled sync (s_profile).
 *
 * Figures (issue 13), each a ratio measured in the same run: records/s of the sync (goal
 * ≥ 300,000) and its ratio to the floor (goal ≤ 3×); bytes per record on the wire, both ways,
 * everything the TCP connection carries, for 10,000 records of 3,000 teachers (goal ≤ 48). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "sheet_gen.h"
#include "xs/batch.h"
#include "xs/identity.h"
#include "xs/record.h"
#include "xs/store.h"
#include "xs/text.h"

#define S_ROWS 100000           /* records of the throughput sync */
#define S_WIRE_ROWS 10000       /* records of the bytes-on-the-wire sync */
#define S_TEACHERS 3000         /* distinct teachers in the generated sheets */
#define S_FEW_TEACHERS 60       /* teachers of the second wire sheet: one central school */
#define S_REPEATS 3             /* throughput syncs, each into a fresh hub and node */
#define S_RAW_PER_REPEAT 3      /* raw appends per repetition: a VM's fsync time wanders */
#define S_NOOP_RUNS 5           /* no-op syncs timed */
#define S_GROUP_DEFAULT 16      /* envelopes per raw commit when the hub log cannot be read */
#define S_MAP ((size_t)1 << 30) /* map size of the raw environments, bytes */
#define S_SCHOOL "S01"
#define S_GOAL_RATE 300000.0 /* records per second */
#define S_GOAL_FLOOR 3.0     /* times the floor */
#define S_GOAL_WIRE 48.0     /* bytes per record, both ways */
/* protocol.md §1: the batch signature's context, with its NUL. */
static const char s_batch_context[] = "xueshi-batch-1";
#define S_CONTEXT_BYTES (sizeof s_batch_context)
/* Bytes a CURVE MESSAGE command adds inside its ZMTP frame (libzmq 4.3): the name
 * "\x07MESSAGE" (8), the short nonce (8), the box MAC (16) and the flags byte (1). */
#define S_CURVE_MESSAGE_OVERHEAD 33
/* The ZMTP 3 greeting each side sends first, bytes. */
#define S_ZMTP_GREETING 64

/* Writes a benchmark sheet (sheet_gen), blocks of block_days days, or dies. */
static void s_sheet(const char *path, unsigned rows, unsigned teachers, unsigned block_days) {
    if (bench_sheet_write(path, rows, teachers, block_days) != 0)
        bench_die("%s: %s", path, strerror(errno));
}

/* ---- a hub and a node ----------------------------------------------------------------- */

typedef struct s_site {
    bench_hub_t hub;     /* the hub, running once set up */
    char node_dir[4096]; /* the node's directory */
    char out[4096];      /* output of the last setup command */
    char node_keys[256]; /* the node's public keys */
} s_site_t;

/* Makes a fresh hub and node under scratch/name, enrolls the node, imports sheet into it
 * and starts the hub; the node still has to learn where the hub is (s_site_point). */
static void s_site_setup(s_site_t *site, const char *scratch, const char *name, const char *sheet,
                         const char *policy) {
    char dir[4096], hub_dir[4096];
    memset(site, 0, sizeof *site);
    bench_path(dir, sizeof dir, scratch, name);
    if (mkdir(dir, 0700) != 0)
        bench_die("mkdir %s: %s", dir, strerror(errno));
    bench_path(hub_dir, sizeof hub_dir, dir, "hub");
    bench_path(site->node_dir, sizeof site->node_dir, dir, "node");
    bench_path(site->out, sizeof site->out, dir, "setup.out");
    bench_hub_init(&site->hub, hub_dir, policy, site->out);
    bench_node_init(site->node_dir, S_SCHOOL, site->node_keys, site->out);
    bench_enroll(&site->hub, site->node_keys, S_SCHOOL, site->out);
    bench_node_import(site->node_dir, sheet, site->out);
    bench_hub_start(&site->hub);
}

/* Points the node at endpoint (the hub, or a relay in front of it). */
static void s_site_point(s_site_t *site, const char *endpoint) {
    bench_node_point(site->node_dir, S_SCHOOL, endpoint, site->hub.keys, site->out);
}
/* ---- the node's sealed envelopes ------------------------------------------------------ */

typedef struct s_envelopes {
    uint8_t *bytes;    /* the envelopes, back to back, in first_seq order */
    size_t *offset;    /* count + 1 offsets into bytes */
    uint64_t *first;   /* each one's first_seq (the node's key) */
    xs_batch_t *batch; /* each one opened (pointers into bytes) */
    size_t count, cap, size, size_cap;
    uint64_t records; /* records in them */
} s_envelopes_t;

static void s_check(int rc, const char *what) {
    if (rc != 0)
        bench_die("lmdb %s: %s", what, mdb_strerror(rc));
}

/* Reads every envelope of the node's "batches" table (node/node.h NODE_T_BATCHES). */
static void s_read_envelopes(const char *node_dir, s_envelopes_t *out) {
    char path[4096];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    memset(out, 0, sizeof *out);
    bench_path(path, sizeof path, node_dir, "store");
    s_check(mdb_env_create(&env), "env_create");
    s_check(mdb_env_set_maxdbs(env, XS_STORE_MAX_TABLES), "set_maxdbs");
    s_check(mdb_env_open(env, path, MDB_RDONLY, 0600), "env_open");
    s_check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "txn_begin");
    s_check(mdb_dbi_open(txn, "batches", 0, &dbi), "dbi_open batches");
    s_check(mdb_cursor_open(txn, dbi, &cur), "cursor_open");
    int rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8)
            bench_die("a batches key of %zu bytes", k.mv_size);
        if (out->count + 1 >= out->cap) {
            out->cap = out->cap ? out->cap * 2 : 256;
            out->offset = realloc(out->offset, out->cap * sizeof *out->offset);
            out->first = realloc(out->first, out->cap * sizeof *out->first);
            if (!out->offset || !out->first)
                bench_die("out of memory");
        }
        while (out->size + v.mv_size > out->size_cap) {
            out->size_cap = out->size_cap ? out->size_cap * 2 : (size_t)1 << 22;
            if (!(out->bytes = realloc(out->bytes, out->size_cap)))
                bench_die("out of memory");
        }
        out->first[out->count] = xs_store_key_u64(k.mv_data);
        out->offset[out->count++] = out->size;
        memcpy(out->bytes + out->size, v.mv_data, v.mv_size);
        out->size += v.mv_size;
    }
    if (rc != MDB_NOTFOUND)
        s_check(rc, "cursor_get");
    if (out->offset)
        out->offset[out->count] = out->size;
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    if (!(out->batch = calloc(out->count ? out->count : 1, sizeof *out->batch)))
        bench_die("out of memory");
    for (size_t i = 0; i < out->count; i++) {
        if (xs_batch_open(out->bytes + out->offset[i], out->offset[i + 1] - out->offset[i],
                          &out->batch[i]) != XS_OK)
            bench_die("the node's envelope %zu does not open", i);
        out->records += out->batch[i].count;
    }
}

static void s_free_envelopes(s_envelopes_t *e) {
    free(e->bytes);
    free(e->offset);
    free(e->first);
    free(e->batch);
    memset(e, 0, sizeof *e);
}

/* Appends every envelope to a fresh durable environment at dir, under the hub's key (origin
 * then big-endian first_seq) with MDB_APPEND, one commit per group of sizes[i] envelopes
 * (the hub's group commits), S_GROUP_DEFAULT per commit past the groups given. Returns the
 * seconds from the first begin to the last commit. */
static double s_raw_append(const char *dir, const s_envelopes_t *e, const unsigned *sizes,
                           size_t groups) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    if (mkdir(dir, 0700) != 0)
        bench_die("mkdir %s: %s", dir, strerror(errno));
    s_check(mdb_env_create(&env), "env_create");
    s_check(mdb_env_set_maxdbs(env, 4), "set_maxdbs");
    s_check(mdb_env_set_mapsize(env, S_MAP), "set_mapsize");
    s_check(mdb_env_open(env, dir, 0, 0600), "env_open");
    s_check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
    s_check(mdb_dbi_open(txn, "batches", MDB_CREATE, &dbi), "dbi_open");
    s_check(mdb_txn_commit(txn), "commit");
    double t0 = bench_now();
    size_t i = 0;
    for (size_t g = 0; i < e->count; g++) {
        size_t n = g < groups && sizes[g] ? sizes[g] : S_GROUP_DEFAULT;
        s_check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
        for (size_t end = i + n; i < end && i < e->count; i++) {
            uint8_t key[40];
            memcpy(key, e->batch[i].origin, 32);
            xs_store_u64_key(e->first[i], key + 32);
            MDB_val k = {sizeof key, key};
            MDB_val v = {e->offset[i + 1] - e->offset[i], e->bytes + e->offset[i]};
            s_check(mdb_put(txn, dbi, &k, &v, MDB_APPEND), "put");
        }
        s_check(mdb_txn_commit(txn), "commit");
    }
    double t = bench_now() - t0;
    mdb_env_close(env);
    return t;
}

/* Seconds to verify every envelope's signature (xs_identity_verify over context || body, the
 * buffers built beforehand), best of runs. */
static double s_verify_floor(const s_envelopes_t *e, int runs) {
    uint8_t **signed_bytes = calloc(e->count ? e->count : 1, sizeof *signed_bytes);
    if (!signed_bytes)
        bench_die("out of memory");
    for (size_t i = 0; i < e->count; i++) {
        if (!(signed_bytes[i] = malloc(S_CONTEXT_BYTES + e->batch[i].body_len)))
            bench_die("out of memory");
        memcpy(signed_bytes[i], s_batch_context, S_CONTEXT_BYTES);
        memcpy(signed_bytes[i] + S_CONTEXT_BYTES, e->batch[i].body, e->batch[i].body_len);
    }
    double best = 1e9;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        for (size_t i = 0; i < e->count; i++)
            if (xs_identity_verify(e->batch[i].origin, signed_bytes[i],
                                   S_CONTEXT_BYTES + e->batch[i].body_len,
                                   e->batch[i].signature) != XS_OK)
                bench_die("envelope %zu does not verify", i);
        double t = bench_now() - t0;
        best = t < best ? t : best;
    }
    for (size_t i = 0; i < e->count; i++)
        free(signed_bytes[i]);
    free(signed_bytes);
    return best;
}

/* Seconds for xs_batch_open of every envelope (the hub's per-batch CPU before its write
 * transaction: verify, decode every record, hash), best of runs. */
static double s_open_floor(const s_envelopes_t *e, int runs) {
    double best = 1e9;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        for (size_t i = 0; i < e->count; i++) {
            xs_batch_t b;
            if (xs_batch_open(e->bytes + e->offset[i], e->offset[i + 1] - e->offset[i], &b) !=
                XS_OK)
                bench_die("envelope %zu does not open", i);
        }
        double t = bench_now() - t0;
        best = t < best ? t : best;
    }
    return best;
}

/* Seconds to sign every body once more with a throwaway key: the node's sealing floor. */
static double s_sign_floor(const s_envelopes_t *e) {
    uint8_t seed[32] = {1}, sig[XS_SIGNATURE_BYTES];
    xs_identity_t *id = NULL;
    if (xs_identity_from_seed(&id, seed) != XS_OK)
        bench_die("xs_identity_from_seed");
    size_t cap = 0;
    uint8_t *buf = NULL;
    double total = 0;
    for (size_t i = 0; i < e->count; i++) {
        size_t len = S_CONTEXT_BYTES + e->batch[i].body_len;
        if (len > cap && !(buf = realloc(buf, cap = len)))
            bench_die("out of memory");
        memcpy(buf, s_batch_context, S_CONTEXT_BYTES);
        memcpy(buf + S_CONTEXT_BYTES, e->batch[i].body, e->batch[i].body_len);
        double t0 = bench_now();
        xs_identity_sign(id, buf, len, sig);
        total += bench_now() - t0;
    }
    free(buf);
    xs_identity_destroy(&id);
    return total;
}

/* ---- the counting relay --------------------------------------------------------------- */

enum { S_UP, S_DOWN }; /* node → hub, hub → node */
enum {
    S_K_HANDSHAKE,
    S_K_MESSAGE,
    S_K_DATA
}; /* a ZMTP frame: handshake command, CURVE
      MESSAGE command, or a plain data frame */
#define S_RELAY_PAIRS 8
#define S_RELAY_EVENTS 65536
#define S_RELAY_BUF (64 * 1024)

/* A ZMTP 3 stream parser for one direction (RFC 23, 26): the 64-byte greeting, then frames of
 * a flags byte, a 1- or 8-byte size and the body. A command's body starts with its name
 * (length byte, then the name); so does a CURVE MESSAGE, which libzmq 4.3 sends as a data
 * frame. */
typedef struct s_zmtp {
    enum { S_Z_GREETING, S_Z_FLAGS, S_Z_SIZE, S_Z_NAME_LEN, S_Z_NAME, S_Z_BODY } state;
    uint64_t left;      /* bytes left in the greeting, the size field, the name or the body */
    uint8_t flags;      /* the frame's flags */
    uint64_t size;      /* the frame body's bytes */
    uint64_t header;    /* the frame header's bytes */
    char name[16];      /* a command's name, its first bytes */
    unsigned name_len;  /* the name's bytes */
    unsigned name_have; /* of which read so far */
} s_zmtp_t;

/* One ZMTP frame the relay saw, in the order it saw them. */
typedef struct s_event {
    uint8_t way;    /* S_UP or S_DOWN */
    uint8_t kind;   /* S_K_* */
    uint32_t bytes; /* header and body */
    uint32_t body;  /* body only */
    char name[12];  /* command name */
} s_event_t;

/* What the relay counted since the last s_relay_take. */
typedef struct s_relay_stats {
    uint64_t bytes[2];    /* bytes carried, each way */
    uint64_t reads[2];    /* read() calls that returned data, each way */
    uint64_t turns;       /* reads whose direction differs from the previous read's */
    uint64_t connections; /* TCP connections accepted */
    size_t nevents;       /* frames seen; events holds the first S_RELAY_EVENTS */
    s_event_t events[S_RELAY_EVENTS];
} s_relay_stats_t;

typedef struct s_relay {
    int listen_fd;          /* where nodes connect */
    int stop[2];            /* a pipe: writing to stop[1] ends the thread */
    struct sockaddr_in hub; /* where the hub listens */
    uint16_t port;          /* the relay's own port */
    pthread_t thread;
    pthread_mutex_t lock; /* guards stats, active and last_way */
    pthread_cond_t idle;  /* signalled when a connection closes */
    int active;           /* connections open */
    int last_way;         /* direction of the last read, -1 before any */
    s_relay_stats_t stats;
} s_relay_t;

typedef struct s_pair {
    int fd[2];        /* [S_UP] the node's side (read: node → hub), [S_DOWN] the hub's side */
    s_zmtp_t zmtp[2]; /* a parser per direction */
} s_pair_t;

/* Records a frame whose header and first bytes (a command's name) have been read. Called
 * locked. */
static void s_relay_event(s_relay_t *r, int way, const s_zmtp_t *z) {
    s_relay_stats_t *st = &r->stats;
    if (st->nevents < S_RELAY_EVENTS) {
        s_event_t *e = &st->events[st->nevents];
        memset(e, 0, sizeof *e);
        e->way = (uint8_t)way;
        e->bytes = (uint32_t)(z->header + z->size);
        e->body = (uint32_t)z->size;
        size_t n = z->name_len < sizeof e->name - 1 ? z->name_len : sizeof e->name - 1;
        n = n < sizeof z->name ? n : sizeof z->name;
        memcpy(e->name, z->name, n);
        /* libzmq 4.3 sends CURVE MESSAGE as a data frame starting "\x07MESSAGE", without the
         * command flag; the handshake commands carry it. */
        if (z->name_len == 7 && memcmp(z->name, "MESSAGE", 7) == 0)
            e->kind = S_K_MESSAGE;
        else
            e->kind = z->flags & 0x04 ? S_K_HANDSHAKE : S_K_DATA;
    }
    st->nevents++;
}

/* Feeds n bytes of one direction to its parser. Called locked. */
static void s_zmtp_feed(s_relay_t *r, int way, s_zmtp_t *z, const uint8_t *p, size_t n) {
    while (n > 0) {
        switch (z->state) {
        case S_Z_GREETING: {
            size_t take = n < z->left ? n : (size_t)z->left;
            p += take, n -= take, z->left -= take;
            if (z->left == 0)
                z->state = S_Z_FLAGS;
            break;
        }
        case S_Z_FLAGS:
            z->flags = *p++, n--;
            z->left = z->flags & 0x02 ? 8 : 1;
            z->header = 1 + z->left;
            z->size = 0;
            z->state = S_Z_SIZE;
            break;
        case S_Z_SIZE:
            z->size = z->size << 8 | *p++, n--;
            if (--z->left > 0)
                break;
            z->name_len = 0;
            z->left = z->size;
            if (z->size > 0) { /* a command's name, or the start of a data frame */
                z->state = S_Z_NAME_LEN;
            } else {
                s_relay_event(r, way, z);
                z->state = S_Z_FLAGS;
            }
            break;
        case S_Z_NAME_LEN:
            z->left--;
            z->name_len = *p < z->left ? *p : (unsigned)z->left;
            z->name_have = 0;
            p++, n--;
            if (z->name_len > 0) {
                z->state = S_Z_NAME;
                break;
            }
            s_relay_event(r, way, z);
            z->state = z->left ? S_Z_BODY : S_Z_FLAGS;
            break;
        case S_Z_NAME:
            if (z->name_have < sizeof z->name)
                z->name[z->name_have] = (char)*p;
            z->name_have++;
            p++, n--, z->left--;
            if (z->name_have < z->name_len)
                break;
            s_relay_event(r, way, z);
            z->state = z->left ? S_Z_BODY : S_Z_FLAGS;
            break;
        case S_Z_BODY: {
            size_t take = n < z->left ? n : (size_t)z->left;
            p += take, n -= take, z->left -= take;
            if (z->left == 0)
                z->state = S_Z_FLAGS;
            break;
        }
        }
    }
}

static void s_pair_reset(s_pair_t *pair) {
    for (int w = 0; w < 2; w++) {
        memset(&pair->zmtp[w], 0, sizeof pair->zmtp[w]);
        pair->zmtp[w].state = S_Z_GREETING;
        pair->zmtp[w].left = S_ZMTP_GREETING;
    }
}

static int s_write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void s_pair_close(s_relay_t *r, s_pair_t *pair) {
    close(pair->fd[0]);
    close(pair->fd[1]);
    pair->fd[0] = pair->fd[1] = -1;
    pthread_mutex_lock(&r->lock);
    r->active--;
    pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->lock);
}

/* The relay thread: accepts nodes, connects each to the hub, copies and counts bytes. */
static void *s_relay_main(void *arg) {
    s_relay_t *r = arg;
    s_pair_t pairs[S_RELAY_PAIRS];
    static uint8_t buf[S_RELAY_BUF];
    for (size_t i = 0; i < S_RELAY_PAIRS; i++)
        pairs[i].fd[0] = pairs[i].fd[1] = -1;
    for (;;) {
        struct pollfd pfd[2 + 2 * S_RELAY_PAIRS];
        size_t owner[2 + 2 * S_RELAY_PAIRS];
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){r->stop[0], POLLIN, 0};
        pfd[n++] = (struct pollfd){r->listen_fd, POLLIN, 0};
        for (size_t i = 0; i < S_RELAY_PAIRS; i++)
            if (pairs[i].fd[0] >= 0)
                for (int w = 0; w < 2; w++) {
                    owner[n] = i * 2 + (size_t)w;
                    pfd[n++] = (struct pollfd){pairs[i].fd[w], POLLIN, 0};
                }
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            bench_die("relay poll: %s", strerror(errno));
        }
        if (pfd[0].revents)
            break;
        for (nfds_t k = 2; k < n; k++) {
            if (!pfd[k].revents)
                continue;
            s_pair_t *pair = &pairs[owner[k] / 2];
            int way = (int)(owner[k] % 2);
            if (pair->fd[way] < 0)
                continue; /* closed earlier in this round */
            ssize_t got = read(pair->fd[way], buf, sizeof buf);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0 || s_write_all(pair->fd[!way], buf, (size_t)got) != 0) {
                s_pair_close(r, pair);
                continue;
            }
            pthread_mutex_lock(&r->lock);
            r->stats.bytes[way] += (uint64_t)got;
            r->stats.reads[way]++;
            if (r->last_way >= 0 && r->last_way != way)
                r->stats.turns++;
            r->last_way = way;
            s_zmtp_feed(r, way, &pair->zmtp[way], buf, (size_t)got);
            pthread_mutex_unlock(&r->lock);
        }
        if (pfd[1].revents & POLLIN) {
            int node_fd = accept(r->listen_fd, NULL, NULL);
            if (node_fd < 0)
                continue;
            int hub_fd = socket(AF_INET, SOCK_STREAM, 0);
            size_t i = 0;
            while (i < S_RELAY_PAIRS && pairs[i].fd[0] >= 0)
                i++;
            if (hub_fd < 0 || i == S_RELAY_PAIRS ||
                connect(hub_fd, (const struct sockaddr *)&r->hub, sizeof r->hub) != 0) {
                fprintf(stderr, "bench_sync: relay cannot connect to the hub: %s\n",
                        strerror(errno));
                close(node_fd);
                if (hub_fd >= 0)
                    close(hub_fd);
                continue;
            }
            int one = 1; /* as libzmq sets on its own TCP sockets */
            setsockopt(node_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            setsockopt(hub_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            pairs[i].fd[S_UP] = node_fd;
            pairs[i].fd[S_DOWN] = hub_fd;
            s_pair_reset(&pairs[i]);
            pthread_mutex_lock(&r->lock);
            r->active++;
            r->stats.connections++;
            pthread_mutex_unlock(&r->lock);
        }
    }
    for (size_t i = 0; i < S_RELAY_PAIRS; i++)
        if (pairs[i].fd[0] >= 0)
            s_pair_close(r, &pairs[i]);
    return NULL;
}

/* Starts a relay on 127.0.0.1 (a free port) in front of the hub at endpoint
 * "tcp://127.0.0.1:PORT". */
static void s_relay_start(s_relay_t *r, const char *endpoint) {
    static const char prefix[] = "tcp://127.0.0.1:";
    memset(r, 0, sizeof *r);
    char *end;
    if (strncmp(endpoint, prefix, sizeof prefix - 1) != 0)
        bench_die("the hub's endpoint %s is not tcp://127.0.0.1:PORT", endpoint);
    long port = strtol(endpoint + sizeof prefix - 1, &end, 10);
    if (*end || port <= 0 || port > 65535)
        bench_die("the hub's endpoint %s has no port", endpoint);
    r->hub.sin_family = AF_INET;
    r->hub.sin_port = htons((uint16_t)port);
    r->hub.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in me = {0};
    me.sin_family = AF_INET;
    me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof me;
    if ((r->listen_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        bind(r->listen_fd, (const struct sockaddr *)&me, sizeof me) != 0 ||
        listen(r->listen_fd, 8) != 0 ||
        getsockname(r->listen_fd, (struct sockaddr *)&me, &len) != 0 || pipe(r->stop) != 0)
        bench_die("relay socket: %s", strerror(errno));
    r->port = ntohs(me.sin_port);
    r->last_way = -1;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->idle, NULL);
    if (pthread_create(&r->thread, NULL, s_relay_main, r) != 0)
        bench_die("pthread_create");
}

/* Waits (up to 10 s) until every connection since the last take has closed, then copies the
 * counts into out and starts counting afresh. */
static void s_relay_take(s_relay_t *r, s_relay_stats_t *out) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&r->lock);
    while (r->active > 0)
        if (pthread_cond_timedwait(&r->idle, &r->lock, &deadline) == ETIMEDOUT) {
            fprintf(stderr, "bench_sync: relay connection still open after the sync\n");
            break;
        }
    memcpy(out, &r->stats, sizeof *out);
    memset(&r->stats, 0, sizeof r->stats);
    r->last_way = -1;
    pthread_mutex_unlock(&r->lock);
}

static void s_relay_stop(s_relay_t *r) {
    if (write(r->stop[1], "x", 1) != 1)
        bench_die("relay stop: %s", strerror(errno));
    pthread_join(r->thread, NULL);
    close(r->listen_fd);
    close(r->stop[0]);
    close(r->stop[1]);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->idle);
}

/* Application messages (CURVE MESSAGE commands) by what they must be, in protocol order
 * (protocol.md §5.2): up STAFF_GET and HELLO, BATCH × batches, FETCH…; down STAFF and VIEW,
 * ACK × batches, RECEIPTS…. Payload bytes are the frame body less S_CURVE_MESSAGE_OVERHEAD. */
typedef struct s_breakdown {
    uint64_t handshake_bytes[2];  /* greeting and handshake commands, each way */
    uint64_t handshake_frames[2]; /* handshake commands, each way */
    uint64_t msgs[2], msg_bytes[2];
    uint64_t hello, batch, fetch; /* payload bytes up (hello: STAFF_GET and HELLO) */
    uint64_t nbatch, nfetch;      /* messages up */
    uint64_t view, ack, receipts; /* payload bytes down (view: STAFF and VIEW) */
    uint64_t nack, nreceipts;     /* messages down */
    uint64_t other_frames;        /* frames that are neither (data frames) */
    uint64_t app_round_trips;     /* down messages following an up message */
} s_breakdown_t;

/* Messages each side sends before the batches: STAFF_GET and HELLO up, STAFF and VIEW down. */
#define S_OPENING_MESSAGES 2

static void s_breakdown(const s_relay_stats_t *st, uint64_t batches, s_breakdown_t *b) {
    uint64_t up = 0, down = 0;
    int last = -1;
    size_t n = st->nevents < S_RELAY_EVENTS ? st->nevents : S_RELAY_EVENTS;
    memset(b, 0, sizeof *b);
    for (int w = 0; w < 2; w++)
        b->handshake_bytes[w] = st->connections * S_ZMTP_GREETING;
    for (size_t i = 0; i < n; i++) {
        const s_event_t *e = &st->events[i];
        if (e->kind == S_K_HANDSHAKE) {
            b->handshake_bytes[e->way] += e->bytes;
            b->handshake_frames[e->way]++;
            continue;
        }
        if (e->kind != S_K_MESSAGE) {
            b->other_frames++;
            continue;
        }
        uint64_t payload =
            e->body > S_CURVE_MESSAGE_OVERHEAD ? e->body - S_CURVE_MESSAGE_OVERHEAD : 0;
        b->msgs[e->way]++;
        b->msg_bytes[e->way] += e->bytes;
        if (e->way == S_DOWN && last == S_UP)
            b->app_round_trips++;
        last = e->way;
        if (e->way == S_UP) {
            if (up < S_OPENING_MESSAGES)
                b->hello += payload;
            else if (up < S_OPENING_MESSAGES + batches)
                b->batch += payload, b->nbatch++;
            else
                b->fetch += payload, b->nfetch++;
            up++;
        } else {
            if (down < S_OPENING_MESSAGES)
                b->view += payload;
            else if (down < S_OPENING_MESSAGES + batches)
                b->ack += payload, b->nack++;
            else
                b->receipts += payload, b->nreceipts++;
            down++;
        }
    }
}

/* ---- the report ----------------------------------------------------------------------- */

/* The county policy the hub certifies with: XS_BENCH_POLICY, or the source tree's. */
static void s_policy_path(char *out, size_t cap) {
    if (bench_policy_path(out, cap) != 0)
        bench_die("cannot find the source tree: set XS_BENCH_POLICY to a policy .ini");
}

static void s_print_wire(const char *title, const s_relay_stats_t *st, const s_breakdown_t *b,
                         double records) {
    char a[32];
    uint64_t total = st->bytes[S_UP] + st->bytes[S_DOWN];
    printf("%s\n", title);
    printf("  bytes up %s, down %s, total %s", bench_thousands((double)st->bytes[S_UP], a),
           bench_thousands((double)st->bytes[S_DOWN], (char[32]){0}),
           bench_thousands((double)total, (char[32]){0}));
    if (records > 0)
        printf(" = %.1f bytes/record (up %.1f, down %.1f)", (double)total / records,
               (double)st->bytes[S_UP] / records, (double)st->bytes[S_DOWN] / records);
    printf("\n");
    printf("  CURVE handshake (greetings + HELLO/WELCOME/INITIATE/READY): up %llu B, down %llu B "
           "over %llu TCP connection(s)\n",
           (unsigned long long)b->handshake_bytes[S_UP],
           (unsigned long long)b->handshake_bytes[S_DOWN], (unsigned long long)st->connections);
    printf("  application messages (CURVE MESSAGE frames): up %llu (%llu B on the wire), down "
           "%llu (%llu B); %llu frames of other kinds\n",
           (unsigned long long)b->msgs[S_UP], (unsigned long long)b->msg_bytes[S_UP],
           (unsigned long long)b->msgs[S_DOWN], (unsigned long long)b->msg_bytes[S_DOWN],
           (unsigned long long)b->other_frames);
    printf("    payloads up: STAFF_GET+HELLO %llu B, BATCH %llu × = %llu B, FETCH %llu × = %llu "
           "B\n",
           (unsigned long long)b->hello, (unsigned long long)b->nbatch,
           (unsigned long long)b->batch, (unsigned long long)b->nfetch,
           (unsigned long long)b->fetch);
    printf("    payloads down: STAFF+VIEW %llu B, ACK %llu × = %llu B, RECEIPTS %llu × = %llu B\n",
           (unsigned long long)b->view, (unsigned long long)b->nack, (unsigned long long)b->ack,
           (unsigned long long)b->nreceipts, (unsigned long long)b->receipts);
}

/* Bytes on the wire and a no-op sync for one sheet: a fresh hub and node through the relay, a
 * full sync, then (with_noop) no-op syncs. */
static void s_wire(const char *scratch, const char *name, const char *sheet, unsigned rows,
                   unsigned teachers, const char *policy, int with_noop) {
    s_site_t site;
    s_relay_t *relay = calloc(1, sizeof *relay);
    s_relay_stats_t *st = malloc(sizeof *st);
    s_breakdown_t b;
    bench_sync_line_t sum;
    s_envelopes_t env;
    char endpoint[64], out[4096], title[256], a[32];
    if (!relay || !st)
        bench_die("out of memory");
    s_site_setup(&site, scratch, name, sheet, policy);
    s_relay_start(relay, site.hub.endpoint);
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%u", (unsigned)relay->port);
    s_site_point(&site, endpoint);
    bench_path(out, sizeof out, site.node_dir, "../sync.out");
    double t = bench_sync(site.node_dir, out, &sum, NULL);
    s_relay_take(relay, st);
    if (sum.records != rows)
        bench_die("the sync sent %llu records, expected %u: %s", sum.records, rows, sum.line);
    s_read_envelopes(site.node_dir, &env);
    s_breakdown(st, sum.batches, &b);
    snprintf(title, sizeof title,
             "wire: %s records (%u teachers) node → hub through a counting TCP relay, fresh hub: "
             "%.3f s",
             bench_thousands(rows, a), teachers, t);
    s_print_wire(title, st, &b, rows);
    printf("  for scale: the %zu sealed envelopes are %zu B = %.1f B/record; receipts %llu\n",
           env.count, env.size, (double)env.size / rows, sum.receipts);
    double per_record = (double)(st->bytes[S_UP] + st->bytes[S_DOWN]) / rows;
    printf("  goal ≤ %.0f bytes/record, both ways, everything the TCP connection carries: %s "
           "(%.1f)\n",
           S_GOAL_WIRE, per_record <= S_GOAL_WIRE ? "met" : "NOT met", per_record);
    s_free_envelopes(&env);

    if (with_noop) {
        double walls[S_NOOP_RUNS], best, median;
        s_relay_stats_t *first = malloc(sizeof *first);
        if (!first)
            bench_die("out of memory");
        for (int i = 0; i < S_NOOP_RUNS; i++) {
            walls[i] = bench_sync(site.node_dir, out, &sum, NULL);
            s_relay_take(relay, i == 0 ? first : st);
            if (sum.records != 0)
                bench_die("the no-op sync sent %llu records: %s", sum.records, sum.line);
        }
        bench_best_median(walls, S_NOOP_RUNS, &best, &median);
        s_breakdown(first, 0, &b);
        printf("no-op sync (nothing new) against that hub through the relay, %d runs: wall best "
               "%.1f ms, median %.1f ms\n",
               S_NOOP_RUNS, best * 1e3, median * 1e3);
        printf("  node says: %s\n", sum.line);
        s_print_wire("  first no-op run on the wire:", first, &b, 0);
        printf("  round trips: %llu application round trip(s) (a hub MESSAGE frame following a "
               "node MESSAGE frame, as the relay saw them); %llu TCP direction turns in all "
               "(relay reads whose direction differs from the previous read's, handshake "
               "included); relay reads up %llu, down %llu\n",
               (unsigned long long)b.app_round_trips, (unsigned long long)first->turns,
               (unsigned long long)first->reads[S_UP], (unsigned long long)first->reads[S_DOWN]);
        uint64_t total = first->bytes[S_UP] + first->bytes[S_DOWN];
        printf("  no-op: one round trip after the handshake, under 1 KB: round trips %s (%llu), "
               "bytes %s (%llu B in all, %llu B after the handshake)\n",
               b.app_round_trips == 1 ? "met" : "NOT met", (unsigned long long)b.app_round_trips,
               total < 1024 ? "met" : "NOT met", (unsigned long long)total,
               (unsigned long long)(b.msg_bytes[S_UP] + b.msg_bytes[S_DOWN]));
        free(first);
    }
    s_relay_stop(relay);
    bench_hub_stop(&site.hub, NULL);
    free(relay);
    free(st);
}

/* With XS_BENCH_PERF=PREFIX, profiles one more 100k sync (not counted): perf records the hub
 * into PREFIX.hub.data and the node into PREFIX.node.data (DWARF call graphs: the Release
 * build has no frame pointers). */
static void s_profile(const char *scratch, const char *sheet, const char *policy,
                      const char *prefix) {
    s_site_t site;
    char hub_data[4096], node_data[4096], pid_text[32], out[4096], perf_out[4096], node[4096];
    s_site_setup(&site, scratch, "profile", sheet, policy);
    s_site_point(&site, site.hub.endpoint);
    snprintf(hub_data, sizeof hub_data, "%s.hub.data", prefix);
    snprintf(node_data, sizeof node_data, "%s.node.data", prefix);
    snprintf(pid_text, sizeof pid_text, "%d", (int)site.hub.pid);
    snprintf(node, sizeof node, "%s/xueshi-node", bench_bin());
    bench_path(perf_out, sizeof perf_out, scratch, "perf.out");
    pid_t perf = bench_start("/usr/bin/perf", perf_out,
                             (const char *const[]){"record", "--call-graph", "dwarf,16384", "-F",
                                                   "1000", "-o", hub_data, "-p", pid_text, NULL});
    bench_sleep_ms(500);
    bench_path(out, sizeof out, scratch, "profile-sync.out");
    double t = bench_run("/usr/bin/perf", out,
                         (const char *const[]){"record", "--call-graph", "dwarf,16384", "-F",
                                               "1000", "-o", node_data, node, "sync", "--dir",
                                               site.node_dir, "--timeout", "900", NULL},
                         NULL);
    kill(perf, SIGINT);
    bench_reap(perf, NULL);
    bench_hub_stop(&site.hub, NULL);
    printf("profile: one more 100k sync under perf (%.3f s, not counted): perf report -i %s, "
           "perf report -i %s\n",
           t, hub_data, node_data);
}

int main(int argc, char **argv) {
    char scratch[4096], sheet[4096], wire_sheet[4096], few_sheet[4096], policy[4096];
    char name[64], path[4096], out[4096], a[32], b[32];
    bench_init("bench_sync");
    bench_scratch(scratch, sizeof scratch, argc > 1 ? argv[1] : NULL, "sync");
    if (xs_identity_setup() != XS_OK)
        bench_die("libsodium");
    s_policy_path(policy, sizeof policy);
    bench_path(sheet, sizeof sheet, scratch, "sheet.csv");
    bench_path(wire_sheet, sizeof wire_sheet, scratch, "wire.csv");
    bench_path(few_sheet, sizeof few_sheet, scratch, "wire-few.csv");
    s_sheet(sheet, S_ROWS, S_TEACHERS, 10);
    s_sheet(wire_sheet, S_WIRE_ROWS, S_TEACHERS, 10);
    /* 167 activities per teacher: two-day blocks keep them within a year, not in the future. */
    s_sheet(few_sheet, S_WIRE_ROWS, S_FEW_TEACHERS, 2);
    printf("bench_sync: scratch %s, programs %s, policy %s\n", scratch, bench_bin(), policy);

    /* Throughput. Each repetition: a fresh hub and node, the sheet imported (not timed), one
     * timed sync; then the raw append of the same envelopes with the hub's grouping, into a
     * fresh environment, right after (drift of a shared disk hits both). */
    double sync_t[S_REPEATS], raw_t[S_REPEATS * S_RAW_PER_REPEAT], merge_ms[S_REPEATS];
    double node_cpu[S_REPEATS], hub_cpu[S_REPEATS], pair_ratio[S_REPEATS], verify = 0;
    long hub_rss[S_REPEATS];
    bench_merges_t *merges = calloc(S_REPEATS, sizeof *merges);
    s_envelopes_t env = {0};
    bench_sync_line_t sum;
    double noop[S_NOOP_RUNS];
    if (!merges)
        bench_die("out of memory");
    for (int rep = 0; rep < S_REPEATS; rep++) {
        s_site_t site;
        bench_usage_t node_use, hub_use;
        fprintf(stderr, "bench_sync: throughput run %d of %d\n", rep + 1, S_REPEATS);
        snprintf(name, sizeof name, "sync-%d", rep);
        s_site_setup(&site, scratch, name, sheet, policy);
        s_site_point(&site, site.hub.endpoint);
        snprintf(name, sizeof name, "sync-%d/sync.out", rep);
        bench_path(out, sizeof out, scratch, name);
        sync_t[rep] = bench_sync(site.node_dir, out, &sum, &node_use);
        node_cpu[rep] = node_use.cpu;
        if (sum.records != S_ROWS || sum.through != S_ROWS)
            bench_die("the sync sent %llu records, the hub holds through %llu: %s", sum.records,
                      sum.through, sum.line);
        if (rep == 0) {
            printf("  node says: %s\n", sum.line);
            s_read_envelopes(site.node_dir, &env);
            verify = s_verify_floor(&env, 3);
            /* A no-op sync of a node with this history, straight to the hub. */
            for (int i = 0; i < S_NOOP_RUNS; i++)
                noop[i] = bench_sync(site.node_dir, out, &sum, NULL);
        }
        bench_hub_stop(&site.hub, &hub_use);
        hub_cpu[rep] = hub_use.cpu;
        hub_rss[rep] = hub_use.maxrss_kb;
        bench_merges_read(site.hub.log, &merges[rep]);
        if (merges[rep].records != S_ROWS)
            bench_die("the hub log shows %llu records merged (see %s)", merges[rep].records,
                      site.hub.log);
        merge_ms[rep] = merges[rep].ms;
        double *raw = &raw_t[rep * S_RAW_PER_REPEAT];
        for (int i = 0; i < S_RAW_PER_REPEAT; i++) {
            snprintf(name, sizeof name, "raw-%d-%d", rep, i);
            bench_path(path, sizeof path, scratch, name);
            raw[i] = s_raw_append(path, &env, merges[rep].sizes,
                                  merges[rep].groups < BENCH_MAX_GROUPS ? merges[rep].groups
                                                                        : BENCH_MAX_GROUPS);
        }
        double raw_sorted[S_RAW_PER_REPEAT], raw_best, raw_median;
        memcpy(raw_sorted, raw, sizeof raw_sorted);
        bench_best_median(raw_sorted, S_RAW_PER_REPEAT, &raw_best, &raw_median);
        pair_ratio[rep] = sync_t[rep] / (verify + raw_median);
        printf("  run %d: sync %.3f s (node CPU %.3f s, hub CPU %.3f s%s, hub peak RSS %.1f MiB); "
               "hub: %zu group commits, merge time %.0f ms (its log); raw append with its "
               "grouping %.3f, %.3f, %.3f s; sync / (verify + median raw) %.1fx\n",
               rep + 1, sync_t[rep], node_cpu[rep], hub_cpu[rep],
               rep == 0 ? ", with the no-op syncs" : "", (double)hub_rss[rep] / 1024,
               merges[rep].groups, merges[rep].ms, raw[0], raw[1], raw[2], pair_ratio[rep]);
    }
    double n = (double)env.records, best[2], median[2], mbest, mmedian, nbest, nmedian;
    double sizes_min = 1e9, sizes_max = 0;
    for (size_t g = 0; g < merges[0].groups && g < BENCH_MAX_GROUPS; g++) {
        sizes_min = merges[0].sizes[g] < sizes_min ? merges[0].sizes[g] : sizes_min;
        sizes_max = merges[0].sizes[g] > sizes_max ? merges[0].sizes[g] : sizes_max;
    }
    bench_best_median(sync_t, S_REPEATS, &best[0], &median[0]);
    bench_best_median(raw_t, S_REPEATS * S_RAW_PER_REPEAT, &best[1], &median[1]);
    bench_best_median(merge_ms, S_REPEATS, &mbest, &mmedian);
    bench_best_median(noop, S_NOOP_RUNS, &nbest, &nmedian);
    double rbest, rmedian;
    bench_best_median(pair_ratio, S_REPEATS, &rbest, &rmedian);
    printf("sync: %s records node → hub on loopback, fresh hub, %zu envelopes (%.1f MB, %.0f "
           "B/record), best of %d:\n",
           bench_thousands(n, a), env.count, (double)env.size / 1e6, (double)env.size / n,
           S_REPEATS);
    printf("  xueshi-node sync (seal, handshake, send, hub verify+merge+certify+commit, acks, "
           "receipts): best %.3f s = %s rec/s, median %.3f s = %s rec/s\n",
           best[0], bench_thousands(n / best[0], a), median[0], bench_thousands(n / median[0], b));
    printf("  of which the hub's merges (its log, summed): best %.0f ms, median %.0f ms; run 1: "
           "%zu groups of %.0f..%.0f batches, the log names %llu teachers' receipts for %d "
           "teachers\n",
           mbest, mmedian, merges[0].groups, sizes_min, sizes_max, merges[0].receipts, S_TEACHERS);
    for (int rep = 0; rep < S_REPEATS; rep++) {
        unsigned total = 0;
        printf("  run %d: batches per group commit:", rep + 1);
        for (size_t g = 0; g < merges[rep].groups && g < BENCH_MAX_GROUPS; g++) {
            printf("%s%u", g ? "," : " ", merges[rep].sizes[g]);
            total += merges[rep].sizes[g];
        }
        printf(" (%u of %zu envelopes)\n", total, env.count);
    }
    double open = s_open_floor(&env, 3), sign = s_sign_floor(&env);
    printf("  the floor: Ed25519 verify of the same envelopes (xs_identity_verify, best of 3) "
           "%.1f ms = %s rec/s, plus their raw LMDB append (40-byte hub keys, MDB_APPEND, one "
           "durable commit per hub group), %d runs: best %.1f ms, median %.1f ms\n",
           verify * 1e3, bench_thousands(n / verify, a), S_REPEATS * S_RAW_PER_REPEAT,
           best[1] * 1e3, median[1] * 1e3);
    printf("  ratio sync / floor: paired (each sync against the verify floor plus the median of "
           "the raw appends right after it: this VM's fsync time wanders) median %.1fx, best "
           "%.1fx; best/best %.1fx\n",
           rmedian, rbest, best[0] / (verify + best[1]));
    printf("  for scale: xs_batch_open (verify + decode + hash, the hub's per-batch CPU before "
           "its write) %.1f ms; Ed25519 sign of the same bodies (the node's sealing floor) %.1f "
           "ms\n",
           open * 1e3, sign * 1e3);
    printf("  goal ≥ %s rec/s: %s (%s rec/s best of %d, %s median)\n",
           bench_thousands(S_GOAL_RATE, b), n / best[0] >= S_GOAL_RATE ? "met" : "NOT met",
           bench_thousands(n / best[0], a), S_REPEATS, bench_thousands(n / median[0], path));
    printf("  goal ≤ %.0fx the floor (verify + raw grouped append): %s (%.1fx, paired median)\n",
           S_GOAL_FLOOR, rmedian <= S_GOAL_FLOOR ? "met" : "NOT met", rmedian);
    printf("  no-op sync of this node (%s records, %zu batches of history), straight to the "
           "hub: best %.1f ms, median %.1f ms (bench_noop compares histories)\n",
           bench_thousands(n, a), env.count, nbest * 1e3, nmedian * 1e3);
    s_free_envelopes(&env);
    free(merges);

    /* Bytes on the wire, then a no-op sync, through the relay. */
    fprintf(stderr, "bench_sync: bytes on the wire\n");
    s_wire(scratch, "wire", wire_sheet, S_WIRE_ROWS, S_TEACHERS, policy, 1);
    s_wire(scratch, "wire-few", few_sheet, S_WIRE_ROWS, S_FEW_TEACHERS, policy, 0);

    const char *perf = getenv("XS_BENCH_PERF");
    if (perf)
        s_profile(scratch, sheet, policy, perf);

    if (getenv("XS_KEEP"))
        printf("kept %s\n", scratch);
    else
        bench_remove_tree(scratch);
    return 0;
}
