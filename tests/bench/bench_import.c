/* bench_import: how close `xueshi-node import` and `record` come to raw, durable LMDB writes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "sheet_gen.h"
#include "xs/identity.h"
#include "xs/record.h"
#include "xs/store.h"
#include "xs/text.h"

#ifndef XS_BIN_DIR
#define XS_BIN_DIR "build/bin"
#endif

#define S_ROWS 100000           /* rows in the generated sheet */
#define S_TEACHERS 3000         /* distinct teachers in it */
#define S_CHUNK 8192            /* records per commit, as node/cmd_import.c commits them */
#define S_RUNS 50               /* single-record appends timed per method */
#define S_REPEATS 5             /* bulk imports and raw appends timed, each into a fresh store */
#define S_MAP ((size_t)1 << 30) /* map size of the raw environments, bytes */
#define S_DEDUPE_KEY 16         /* bytes of a dedupe key (node/node.h NODE_DEDUPE_KEY_BYTES) */

/* The node's tables, in its open order (node/node.h enum node_table). */
static const char *const s_node_tables[] = {"meta", "records", "dedupe"};
enum { S_T_META, S_T_RECORDS, S_T_DEDUPE, S_T_COUNT };

extern char **environ;

/* Every encoded record of the node's store, back to back, in sequence order. */
typedef struct s_records {
    uint8_t *bytes;  /* the encodings */
    size_t *offset;  /* count + 1 offsets into bytes */
    size_t count;    /* records */
    size_t cap;      /* slots in offset */
    size_t size;     /* bytes used */
    size_t size_cap; /* bytes allocated */
} s_records_t;

/* One measurement: wall time, and the CPU time (user + system) spent in it, in seconds. */
typedef struct s_time {
    double wall, cpu;
} s_time_t;

static double s_cpu(const struct rusage *ru) {
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/* CPU time this process has used so far, in seconds. */
static double s_self_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return s_cpu(&ru);
}

static void s_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void s_die(const char *fmt, ...) {
    va_list ap;
    fputs("bench_import: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Runs XS_BIN_DIR/xueshi-node with args (NULL-terminated after argv[0]), stdout to out_path
 * (or /dev/null); returns its wall and CPU time, dies unless it exits 0. */
static s_time_t s_node(const char *out_path, const char *const *args) {
    char program[4096];
    const char *argv[32];
    size_t n = 0;
    snprintf(program, sizeof program, "%s/xueshi-node", XS_BIN_DIR);
    argv[n++] = program;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int status;
    double t0 = bench_now();
    int rc = posix_spawn(&pid, program, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        s_die("cannot start %s: %s", program, strerror(rc));
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            s_die("wait4: %s", strerror(errno));
    s_time_t t = {bench_now() - t0, s_cpu(&ru)};
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        s_die("xueshi-node %s failed (status %d)", args[0], status);
    return t;
}

static void s_check(int rc, const char *what) {
    if (rc != 0)
        s_die("lmdb %s: %s", what, mdb_strerror(rc));
}

/* Reads every record of the node's store at dir/store, in sequence order, into *out. */
static void s_read_records(const char *dir, s_records_t *out) {
    char path[4096];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    memset(out, 0, sizeof *out);
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        s_die("path too long: %s/store", dir);
    s_check(mdb_env_create(&env), "env_create");
    s_check(mdb_env_set_maxdbs(env, XS_STORE_MAX_TABLES), "set_maxdbs");
    s_check(mdb_env_open(env, path, MDB_RDONLY, 0600), "env_open");
    s_check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "txn_begin");
    s_check(mdb_dbi_open(txn, s_node_tables[S_T_RECORDS], 0, &dbi), "dbi_open");
    s_check(mdb_cursor_open(txn, dbi, &cur), "cursor_open");
    int rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (out->count + 1 >= out->cap) {
            out->cap = out->cap ? out->cap * 2 : 1024;
            out->offset = realloc(out->offset, out->cap * sizeof *out->offset);
            if (!out->offset)
                s_die("out of memory");
        }
        if (out->size + v.mv_size > out->size_cap) {
            out->size_cap = out->size_cap ? out->size_cap * 2 : (size_t)1 << 20;
            out->bytes = realloc(out->bytes, out->size_cap);
            if (!out->bytes)
                s_die("out of memory");
        }
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
}

/* A fresh, durable (default flags) LMDB environment in dir with one or two tables. */
static MDB_env *s_raw_env(const char *dir, MDB_dbi *records, MDB_dbi *dedupe) {
    MDB_env *env;
    MDB_txn *txn;
    if (mkdir(dir, 0700) != 0)
        s_die("mkdir %s: %s", dir, strerror(errno));
    s_check(mdb_env_create(&env), "env_create");
    s_check(mdb_env_set_maxdbs(env, 4), "set_maxdbs");
    s_check(mdb_env_set_mapsize(env, S_MAP), "set_mapsize");
    s_check(mdb_env_open(env, dir, 0, 0600), "env_open");
    s_check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
    s_check(mdb_dbi_open(txn, "records", MDB_CREATE, records), "dbi_open");
    if (dedupe)
        s_check(mdb_dbi_open(txn, "dedupe", MDB_CREATE, dedupe), "dbi_open");
    s_check(mdb_txn_commit(txn), "commit");
    return env;
}

/* Appends all records in commits of S_CHUNK, keys big-endian sequence numbers from 1; with a
 * dedupe table, also puts a 16-byte hash of each record there, as import does. */
static s_time_t s_raw_append(const char *dir, const s_records_t *recs, int with_dedupe) {
    MDB_dbi records, dedupe;
    MDB_env *env = s_raw_env(dir, &records, with_dedupe ? &dedupe : NULL);
    double t0 = bench_now(), cpu0 = s_self_cpu();
    for (size_t first = 0; first < recs->count; first += S_CHUNK) {
        MDB_txn *txn;
        size_t last = first + S_CHUNK < recs->count ? first + S_CHUNK : recs->count;
        s_check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
        for (size_t i = first; i < last; i++) {
            uint8_t seq[8], hash[S_DEDUPE_KEY];
            const uint8_t *bytes = recs->bytes + recs->offset[i];
            size_t len = recs->offset[i + 1] - recs->offset[i];
            xs_store_u64_key(i + 1, seq);
            if (with_dedupe) {
                xs_identity_hash_short(bytes, len, hash, sizeof hash);
                MDB_val hk = {sizeof hash, hash}, hv = {8, seq};
                s_check(mdb_put(txn, dedupe, &hk, &hv, MDB_NOOVERWRITE), "put dedupe");
            }
            MDB_val k = {8, seq}, v = {len, (void *)bytes};
            s_check(mdb_put(txn, records, &k, &v, MDB_APPEND), "put");
        }
        s_check(mdb_txn_commit(txn), "commit");
    }
    s_time_t t = {bench_now() - t0, s_self_cpu() - cpu0};
    mdb_env_close(env);
    return t;
}

/* Sorts n samples (seconds) and gives their median and 90th percentile (nearest rank). */
static void s_percentiles(double *samples, size_t n, double *median, double *p90) {
    qsort(samples, n, sizeof *samples, bench_cmp_double);
    *median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    *p90 = samples[(size_t)ceil(0.9 * (double)n) - 1];
}

/* The typical lecture: teacher T0001 of school S01, 90 minutes as participant, recorded now,
 * no operator. Encodes it into w. */
static void s_typical_lecture(xs_writer_t *w) {
    xs_record_t rec;
    xs_record_init(&rec);
    rec.teacher_id = (xs_str_t){"T0001", 5};
    rec.school_id = (xs_str_t){"S01", 3};
    rec.date = xs_date_from_civil(2025, 3, 1);
    rec.category = XS_CAT_LECTURE;
    rec.role = XS_ROLE_PARTICIPANT;
    rec.minutes = 90;
    rec.recorded_at = (int64_t)time(NULL);
    rec.present |= (1u << XS_F_TEACHER_ID) | (1u << XS_F_SCHOOL_ID) | (1u << XS_F_DATE) |
                   (1u << XS_F_CATEGORY) | (1u << XS_F_ROLE) | (1u << XS_F_MINUTES) |
                   (1u << XS_F_RECORDED_AT);
    xs_writer_init(w, XS_RECORD_MAX);
    xs_record_encode(&rec, w);
    if (xs_writer_err(w) != XS_OK)
        s_die("encoding the typical lecture");
}

/* One record as node_append stores it: the next sequence number from the last key, the
 * dedupe key, the record. */
struct s_append {
    const uint8_t *bytes;
    size_t len;
    uint8_t key[S_DEDUPE_KEY];
};

static xs_err s_append_step(xs_txn_t *txn, void *ctx) {
    const struct s_append *a = ctx;
    xs_cursor_t *cur = NULL;
    xs_bytes_t last, val;
    uint64_t seq = 1;
    uint8_t seq_key[8];
    xs_err err = xs_store_cursor_open(txn, S_T_RECORDS, &cur);
    if (err != XS_OK)
        return err;
    err = xs_store_cursor_last(cur, &last, &val);
    xs_store_cursor_close(&cur);
    if (err == XS_OK)
        seq = xs_store_key_u64(last.ptr) + 1;
    else if (err != XS_ENOTFOUND)
        return err;
    xs_store_u64_key(seq, seq_key);
    err = xs_store_put(txn, S_T_DEDUPE, a->key, S_DEDUPE_KEY, seq_key, 8, XS_PUT_NOOVERWRITE);
    if (err == XS_OK)
        err = xs_store_put(txn, S_T_RECORDS, seq_key, 8, a->bytes, a->len, XS_PUT_APPEND);
    return err;
}

static void s_path(char *out, size_t cap, const char *dir, const char *name) {
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap)
        s_die("path too long: %s/%s", dir, name);
}

/* Median of n samples (sorted in place). */
static double s_median(double *samples, size_t n) {
    double median, p90;
    s_percentiles(samples, n, &median, &p90);
    return median;
}

int main(int argc, char **argv) {
    char dir[4096], sheet[4096], node_dir[4096], out[4096], path[4096], name[64];
    char a[32], b[32];
    const char *parent = argc > 1 ? argv[1] : getenv("TMPDIR");
    if (snprintf(dir, sizeof dir, "%s/xs-bench.XXXXXX", parent ? parent : "/tmp") >=
            (int)sizeof dir ||
        !mkdtemp(dir))
        s_die("cannot make a scratch directory under %s", parent ? parent : "/tmp");
    if (xs_identity_setup() != XS_OK)
        s_die("libsodium");
    s_path(sheet, sizeof sheet, dir, "sheet.csv");
    s_path(out, sizeof out, dir, "import.out");
    printf("bench_import: scratch %s, node %s/xueshi-node\n", dir, XS_BIN_DIR);

    /* Part 1: bulk import against raw appends of the same bytes. */
    if (bench_sheet_write(sheet, S_ROWS, S_TEACHERS, 10) != 0)
        s_die("%s: %s", sheet, strerror(errno));
    struct stat st;
    if (stat(sheet, &st) != 0)
        s_die("stat %s", sheet);
    printf("sheet: %d rows, %d teachers, %.1f MB\n", S_ROWS, S_TEACHERS, (double)st.st_size / 1e6);

    /* Each method S_REPEATS times into fresh stores, interleaved so that the drift of a shared
     * machine's disk hits all three alike; best and median reported. */
    s_time_t import_t[S_REPEATS], raw_t[S_REPEATS], dedupe_t[S_REPEATS];
    s_records_t recs = {0};
    for (int rep = 0; rep < S_REPEATS; rep++) {
        snprintf(name, sizeof name, "node-%d", rep);
        s_path(node_dir, sizeof node_dir, dir, name);
        s_node(NULL, (const char *const[]){"init", "--dir", node_dir, "--school", "S01", NULL});
        import_t[rep] =
            s_node(out, (const char *const[]){"import", "--dir", node_dir, sheet, NULL});
        if (rep == 0) {
            s_read_records(node_dir, &recs);
            if (recs.count != S_ROWS)
                s_die("import stored %zu records, expected %d (see %s)", recs.count, S_ROWS, out);
        }
        snprintf(name, sizeof name, "raw-%d", rep);
        s_path(path, sizeof path, dir, name);
        raw_t[rep] = s_raw_append(path, &recs, 0);
        snprintf(name, sizeof name, "raw-dedupe-%d", rep);
        s_path(path, sizeof path, dir, name);
        dedupe_t[rep] = s_raw_append(path, &recs, 1);
    }
    double wall[3][S_REPEATS], cpu[3][S_REPEATS], best[3], median[3], best_cpu[3];
    const s_time_t *runs[3] = {import_t, raw_t, dedupe_t};
    for (int m = 0; m < 3; m++) {
        for (int rep = 0; rep < S_REPEATS; rep++) {
            wall[m][rep] = runs[m][rep].wall;
            cpu[m][rep] = runs[m][rep].cpu;
        }
        median[m] = s_median(wall[m], S_REPEATS);
        best[m] = wall[m][0];
        s_median(cpu[m], S_REPEATS);
        best_cpu[m] = cpu[m][0];
    }
    double n = (double)recs.count;
    printf("import: %zu records in %.3f s = %s rec/s; raw LMDB append: %.3f s = %s rec/s; "
           "ratio %.2fx  (best of %d)\n",
           recs.count, best[0], bench_thousands(n / best[0], a), best[1],
           bench_thousands(n / best[1], b), best[0] / best[1], S_REPEATS);
    printf("  medians: import %.3f s, raw append %.3f s, ratio %.2fx\n", median[0], median[1],
           median[0] / median[1]);
    printf("  raw LMDB append + a 16-byte dedupe key put per record (the writes import makes): "
           "best %.3f s = %s rec/s, median %.3f s; import / that: best %.2fx, median %.2fx\n",
           best[2], bench_thousands(n / best[2], a), median[2], best[0] / best[2],
           median[0] / median[2]);
    printf("  CPU (user + sys), best: import %.3f s (whole process: parse, check, encode, hash, "
           "store), raw append %.3f s, raw append + dedupe %.3f s\n",
           best_cpu[0], best_cpu[1], best_cpu[2]);

    xs_writer_t typical;
    s_typical_lecture(&typical);
    printf("encoded record: %.1f bytes on average over the import; typical lecture (T0001, S01, "
           "90 min participant, recorded_at, no operator) %zu bytes\n",
           (double)recs.size / (double)recs.count, typical.len);
    s_path(node_dir, sizeof node_dir, dir, "node-0");
    s_path(path, sizeof path, node_dir, "store/data.mdb");
    if (stat(path, &st) != 0)
        s_die("stat %s", path);
    printf("store: data.mdb %.1f MB after import = %.1f bytes per record (records, dedupe index "
           "and free pages)\n",
           (double)st.st_size / 1e6, (double)st.st_size / (double)recs.count);
    s_path(path, sizeof path, dir, "raw-0/data.mdb");
    if (stat(path, &st) == 0)
        printf("  raw append environment: %.1f bytes per record\n",
               (double)st.st_size / (double)recs.count);
    s_path(path, sizeof path, dir, "raw-dedupe-0/data.mdb");
    if (stat(path, &st) == 0)
        printf("  raw append + dedupe environment: %.1f bytes per record\n",
               (double)st.st_size / (double)recs.count);

    /* Part 2: one durable record at a time, the three ways interleaved. */
    double proc[S_RUNS], node_path[S_RUNS], raw_one[S_RUNS], med[3], p90[3];
    xs_store_t *store = NULL;
    s_path(path, sizeof path, dir, "single-node");
    if (xs_store_open(&store, path, s_node_tables, S_T_COUNT, 0) != XS_OK)
        s_die("xs_store_open %s", path);
    MDB_dbi records;
    s_path(path, sizeof path, dir, "single-raw");
    MDB_env *env = s_raw_env(path, &records, NULL);
    for (int i = 0; i < S_RUNS; i++) {
        char note[32];
        snprintf(note, sizeof note, "bench %d", i);
        proc[i] =
            s_node(NULL, (const char *const[]){"record", "--dir", node_dir, "--teacher", "T0001",
                                               "--date", "2025-03-01", "--category", "lecture",
                                               "--minutes", "90", "--note", note, NULL})
                .wall;

        struct s_append ap = {typical.data, typical.len, {0}};
        uint8_t seed[8];
        xs_store_u64_key((uint64_t)i, seed);
        xs_identity_hash_short(seed, sizeof seed, ap.key, sizeof ap.key);
        double t0 = bench_now();
        if (xs_store_update(store, s_append_step, &ap) != XS_OK)
            s_die("xs_store_update");
        node_path[i] = bench_now() - t0;

        MDB_txn *txn;
        uint8_t seq[8];
        xs_store_u64_key((uint64_t)i + 1, seq);
        MDB_val k = {8, seq}, v = {typical.len, typical.data};
        t0 = bench_now();
        s_check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
        s_check(mdb_put(txn, records, &k, &v, MDB_APPEND), "put");
        s_check(mdb_txn_commit(txn), "commit");
        raw_one[i] = bench_now() - t0;
    }
    xs_store_close(&store);
    mdb_env_close(env);
    s_percentiles(proc, S_RUNS, &med[0], &p90[0]);
    s_percentiles(node_path, S_RUNS, &med[1], &p90[1]);
    s_percentiles(raw_one, S_RUNS, &med[2], &p90[2]);
    printf("record, %d runs each, median / p90:\n", S_RUNS);
    printf("  xueshi-node record (whole process, store of %zu): %.3f / %.3f ms; "
           "%.2fx / %.2fx raw\n",
           recs.count, med[0] * 1e3, p90[0] * 1e3, med[0] / med[2], p90[0] / p90[2]);
    printf("  xs_store_update, record + dedupe key (node_append's writes): %.3f / %.3f ms; "
           "%.2fx / %.2fx raw\n",
           med[1] * 1e3, p90[1] * 1e3, med[1] / med[2], p90[1] / p90[2]);
    printf("  raw LMDB single put + commit: %.3f / %.3f ms\n", med[2] * 1e3, p90[2] * 1e3);

    xs_writer_free(&typical);
    free(recs.bytes);
    free(recs.offset);
    if (getenv("XS_KEEP"))
        printf("kept %s\n", dir);
    else
        bench_remove_tree(dir);
    return 0;
}
