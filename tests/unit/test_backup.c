/* test_backup: a directory as one checksummed file and back; every truncation, every flipped
 * byte, another kind and names that escape are refused with nothing extracted; a restore over
 * an existing directory keeps it aside; the streaming hash equals the one-shot hash. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"
#include "xs/backup.h"
#include "xs/identity.h"
#include "xs/store.h"

static const char *const s_tables[1] = {"meta"};

typedef struct fixture {
    char dir[256];  /* scratch directory */
    char src[300];  /* dir/src: the directory backed up */
    char file[300]; /* dir/b.xsbak: the backup */
} fixture_t;

static void s_write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* Reads a whole file into a malloc'd buffer; *len its size. */
static uint8_t *s_read_file(const char *path, size_t *len) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    fclose(f);
    *len = (size_t)st.st_size;
    return buf;
}

static void s_put_file(const char *path, const uint8_t *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

typedef struct s_fill {
    unsigned count;   /* entries */
    size_t value_len; /* bytes of each value */
} s_fill_t;

static xs_err s_fill_step(xs_txn_t *txn, void *ctx) {
    const s_fill_t *f = ctx;
    uint8_t key[8], *value = malloc(f->value_len);
    if (!value)
        return XS_ENOMEM;
    xs_err err = XS_OK;
    for (unsigned i = 0; err == XS_OK && i < f->count; i++) {
        memset(value, (int)(i & 0xff), f->value_len);
        xs_store_u64_key(i, key);
        err = xs_store_put(txn, 0, key, 8, value, f->value_len, XS_PUT_APPEND);
    }
    free(value);
    return err;
}

/* Makes fx->src: a store of count entries, two key files, a nested file, and what a backup
 * leaves out (a store set aside, a .tmp file). */
static void s_make_src(fixture_t *fx, unsigned count, size_t value_len) {
    char path[400];
    xs_store_t *store = NULL;
    assert_int_equal(mkdir(fx->src, 0700), 0);
    snprintf(path, sizeof path, "%s/store", fx->src);
    assert_int_equal(xs_store_open(&store, path, s_tables, 1, 0), XS_OK);
    s_fill_t fill = {count, value_len};
    assert_int_equal(xs_store_update(store, s_fill_step, &fill), XS_OK);
    xs_store_close(&store);
    snprintf(path, sizeof path, "%s/hub.secret", fx->src);
    s_write_file(path, "secret bytes", 0600);
    snprintf(path, sizeof path, "%s/hub.pub", fx->src);
    s_write_file(path, "xs1:public\n", 0644);
    snprintf(path, sizeof path, "%s/years", fx->src);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/years/2025-2026", fx->src);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/years/2025-2026/公示.csv", fx->src);
    s_write_file(path, "teacher_id,hours\nT1,12\n", 0644);
    snprintf(path, sizeof path, "%s/store.replaced-1", fx->src);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/store.replaced-1/data.mdb", fx->src);
    s_write_file(path, "old", 0600);
    snprintf(path, sizeof path, "%s/half.tmp", fx->src);
    s_write_file(path, "half", 0600);
}

static void s_backup(fixture_t *fx, const char *kind, xs_backup_info_t *info) {
    char path[400];
    xs_store_t *store = NULL;
    snprintf(path, sizeof path, "%s/store", fx->src);
    assert_int_equal(xs_store_open_readonly(&store, path, s_tables, 1), XS_OK);
    xs_backup_source_t src = {"test", kind, "2", fx->src, store};
    assert_int_equal(xs_backup_write(&src, fx->file, info), XS_OK);
    xs_store_close(&store);
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_backup") != 0) {
        free(fx);
        return -1;
    }
    snprintf(fx->src, sizeof fx->src, "%s/src", fx->dir);
    snprintf(fx->file, sizeof fx->file, "%s/b.xsbak", fx->dir);
    *state = fx;
    return xs_identity_setup() == XS_OK ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

static int s_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

static void s_same_file(const char *a, const char *b) {
    size_t la, lb;
    uint8_t *x = s_read_file(a, &la), *y = s_read_file(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
}

/* Round trip: a store over several chunks, the files, their modes; what is left out stays
 * out; the extracted store holds every entry. */
static void test_round_trip(void **state) {
    fixture_t *fx = *state;
    xs_backup_info_t written, read;
    const char *why = NULL;
    char into[400], a[500], b[500];
    s_make_src(fx, 3000, 1000); /* about 3 MiB: several chunks */
    s_backup(fx, "hub", &written);
    assert_int_equal(written.entries, 4);
    assert_true(written.store_bytes > 2 * XS_BACKUP_CHUNK_MAX);
    snprintf(a, sizeof a, "%s.tmp", fx->file);
    assert_false(s_exists(a)); /* renamed into place */
    assert_int_equal(xs_backup_verify(fx->file, "hub", "test", &read, &why), XS_OK);
    assert_null(why);
    assert_string_equal(read.kind, "hub");
    assert_string_equal(read.store_format, "2");
    assert_string_equal(read.version, XS_VERSION);
    assert_int_equal(read.created_at, written.created_at);
    assert_int_equal(read.entries, 4);
    assert_int_equal(read.store_bytes, written.store_bytes);
    assert_int_equal(read.file_bytes, written.file_bytes);

    snprintf(into, sizeof into, "%s/out", fx->dir);
    assert_int_equal(xs_backup_extract(fx->file, "hub", "test", into, &read, &why), XS_OK);
    const char *same[] = {"hub.secret", "hub.pub", "years/2025-2026/公示.csv"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "%s/%s", fx->src, same[i]);
        snprintf(b, sizeof b, "%s/%s", into, same[i]);
        s_same_file(a, b);
    }
    struct stat st;
    snprintf(b, sizeof b, "%s/hub.secret", into);
    assert_int_equal(stat(b, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(b, sizeof b, "%s/store.replaced-1", into);
    assert_false(s_exists(b));
    snprintf(b, sizeof b, "%s/half.tmp", into);
    assert_false(s_exists(b));

    xs_store_t *store = NULL;
    xs_txn_t *txn = NULL;
    uint64_t count = 0;
    xs_bytes_t v;
    uint8_t key[8];
    snprintf(b, sizeof b, "%s/store", into);
    assert_int_equal(xs_store_open_readonly(&store, b, s_tables, 1), XS_OK);
    assert_int_equal(xs_store_read(store, &txn), XS_OK);
    assert_int_equal(xs_store_count(txn, 0, &count), XS_OK);
    assert_int_equal(count, 3000);
    xs_store_u64_key(2999, key);
    assert_int_equal(xs_store_get(txn, 0, key, 8, &v), XS_OK);
    assert_int_equal(v.len, 1000);
    assert_int_equal(((const uint8_t *)v.ptr)[999], 2999 & 0xff);
    xs_store_end(&txn);
    xs_store_close(&store);

    /* Extracting where something is already refuses. */
    assert_int_equal(xs_backup_extract(fx->file, "hub", "test", into, &read, &why), XS_EEXIST);
}

/* Positions probed in a file of len bytes: every one of the head (the header, the entries'
 * heads, the start of the store's copy) and the tail (the last file entries, the end and the
 * trailer), and every 61st of the store's pages between. */
static int s_probed(size_t i, size_t len) {
    return i < 1024 || i + 1024 >= len || i % 61 == 0;
}

/* Every prefix of a small backup (s_probed) is refused, and extracting one leaves nothing
 * behind. */
static void test_truncated_everywhere(void **state) {
    fixture_t *fx = *state;
    xs_backup_info_t info;
    const char *why;
    char cut[400], into[400];
    size_t len;
    s_make_src(fx, 3, 10);
    s_backup(fx, "node", &info);
    uint8_t *whole = s_read_file(fx->file, &len);
    snprintf(cut, sizeof cut, "%s/cut.xsbak", fx->dir);
    snprintf(into, sizeof into, "%s/into", fx->dir);
    for (size_t n = 0; n < len; n++) {
        if (!s_probed(n, len))
            continue;
        s_put_file(cut, whole, n);
        xs_err err = xs_backup_verify(cut, "node", "test", &info, &why);
        if (err != XS_ECORRUPT)
            fail_msg("a backup cut at %zu of %zu bytes: %s, not XS_ECORRUPT", n, len,
                     xs_strerror(err));
        assert_non_null(why);
        if (n % 97 == 0 || n + 40 > len) {
            assert_int_not_equal(xs_backup_extract(cut, "node", "test", into, &info, &why), XS_OK);
            assert_false(s_exists(into));
        }
    }
    s_put_file(cut, whole, len);
    assert_int_equal(xs_backup_verify(cut, "node", "test", &info, &why), XS_OK);
    /* One byte too many is refused as well. */
    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, whole, len);
    longer[len] = 0;
    s_put_file(cut, longer, len + 1);
    assert_int_not_equal(xs_backup_verify(cut, "node", "test", &info, &why), XS_OK);
    free(longer);
    free(whole);
}

/* Each byte flipped (s_probed), anywhere, is refused. */
static void test_flipped_byte(void **state) {
    fixture_t *fx = *state;
    xs_backup_info_t info;
    const char *why;
    char bad[400], into[400];
    size_t len;
    s_make_src(fx, 3, 10);
    s_backup(fx, "node", &info);
    uint8_t *whole = s_read_file(fx->file, &len);
    snprintf(bad, sizeof bad, "%s/bad.xsbak", fx->dir);
    snprintf(into, sizeof into, "%s/into", fx->dir);
    for (size_t i = 0; i < len; i++) {
        if (!s_probed(i, len))
            continue;
        whole[i] ^= 0x01;
        s_put_file(bad, whole, len);
        xs_err err = xs_backup_verify(bad, "node", "test", &info, &why);
        if (err != XS_ECORRUPT && err != XS_EMALFORMED)
            fail_msg("byte %zu of %zu flipped: %s", i, len, xs_strerror(err));
        if (i % 101 == 0) {
            assert_int_not_equal(xs_backup_extract(bad, "node", "test", into, &info, &why), XS_OK);
            assert_false(s_exists(into));
        }
        whole[i] ^= 0x01;
    }
    /* A flip past the header is the checksum's to find. */
    whole[len / 2] ^= 0x80;
    s_put_file(bad, whole, len);
    assert_int_equal(xs_backup_verify(bad, "node", "test", &info, &why), XS_ECORRUPT);
    assert_non_null(strstr(why, "checksum"));
    free(whole);
}

/* A hub's backup is not a node's, and a file that is not a backup says so. */
static void test_wrong_kind(void **state) {
    fixture_t *fx = *state;
    xs_backup_info_t info;
    const char *why;
    char into[400], other[400];
    s_make_src(fx, 3, 10);
    s_backup(fx, "hub", &info);
    snprintf(into, sizeof into, "%s/into", fx->dir);
    assert_int_equal(xs_backup_verify(fx->file, "node", "test", &info, &why), XS_EMALFORMED);
    assert_non_null(strstr(why, "a hub's backup, not a node's"));
    assert_int_equal(xs_backup_extract(fx->file, "node", "test", into, &info, &why), XS_EMALFORMED);
    assert_false(s_exists(into));
    assert_int_equal(xs_backup_verify(fx->file, NULL, "test", &info, &why), XS_OK);
    snprintf(other, sizeof other, "%s/hub.pub", fx->src);
    assert_int_equal(xs_backup_verify(other, "hub", "test", &info, &why), XS_EMALFORMED);
    assert_non_null(strstr(why, "not a xueshi backup"));
    snprintf(other, sizeof other, "%s/none.xsbak", fx->dir);
    assert_int_equal(xs_backup_verify(other, "hub", "test", &info, &why), XS_ENOTFOUND);
}

/* ---- hand-made files, with a right checksum ---- */

typedef struct s_craft {
    uint8_t bytes[8192];
    size_t len;
} s_craft_t;

static void s_c(s_craft_t *c, const void *p, size_t n) {
    assert_true(c->len + n <= sizeof c->bytes);
    memcpy(c->bytes + c->len, p, n);
    c->len += n;
}

static void s_c_u16(s_craft_t *c, unsigned v) {
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    s_c(c, b, 2);
}

static void s_c_u32(s_craft_t *c, uint32_t v) {
    uint8_t b[4];
    xs_store_u32_key(v, b);
    s_c(c, b, 4);
}

static void s_c_text8(s_craft_t *c, const char *s) {
    uint8_t n = (uint8_t)strlen(s);
    s_c(c, &n, 1);
    s_c(c, s, n);
}

static void s_c_entry(s_craft_t *c, const char *name, size_t name_len, const char *body) {
    uint8_t zero8[8] = {0}, tag = 'F';
    s_c(c, &tag, 1);
    s_c_u16(c, (unsigned)name_len);
    s_c(c, name, name_len);
    s_c_u16(c, 0600);
    size_t n = strlen(body);
    if (n) {
        s_c_u32(c, (uint32_t)n);
        s_c(c, body, n);
    }
    s_c_u32(c, 0);
    zero8[7] = (uint8_t)n;
    s_c(c, zero8, 8);
}

/* A backup of kind "hub" holding a store entry and one entry named name (len bytes). */
static void s_craft(s_craft_t *c, const char *name, size_t name_len) {
    uint8_t created[8] = {0, 0, 0, 0, 0x65, 0, 0, 0}, tag = 'E';
    uint8_t digest[XS_HASH_BYTES];
    xs_hash_stream_t h;
    c->len = 0;
    s_c(c, "XSBACKUP", 8);
    s_c_u16(c, XS_BACKUP_FORMAT);
    s_c_text8(c, "hub");
    s_c(c, created, 8);
    s_c_text8(c, "0.1.0");
    s_c_text8(c, "2");
    s_c_entry(c, XS_BACKUP_STORE_ENTRY, strlen(XS_BACKUP_STORE_ENTRY), "not really a store");
    s_c_entry(c, name, name_len, "escaped");
    s_c(c, &tag, 1);
    s_c_u32(c, 2);
    xs_hash_stream_init(&h);
    xs_hash_stream_update(&h, c->bytes, c->len);
    xs_hash_stream_final(&h, digest);
    s_c(c, digest, sizeof digest);
}

/* Names that would write outside the directory, or where the store lives, are refused whole:
 * nothing is extracted. */
static void test_name_escapes(void **state) {
    fixture_t *fx = *state;
    xs_backup_info_t info;
    const char *why;
    char into[400], outside[400], path[500], longest[XS_BACKUP_NAME_MAX + 2];
    s_craft_t *c = malloc(sizeof *c);
    assert_non_null(c);
    snprintf(into, sizeof into, "%s/d/into", fx->dir);
    snprintf(path, sizeof path, "%s/d", fx->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(outside, sizeof outside, "%s/d/x", fx->dir);
    static const char *const bad[] = {
        "../x",
        "/tmp/x",
        "a/../../x",
        "./x",
        "a//x",
        "x/",
        "..",
        ".",
        "store/lock.mdb",
        "store",
        "years/\n/x",
        "a/b/c/d/e/f/g/h/i",
        "store/data.mdb" /* a second store entry */,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_craft(c, bad[i], strlen(bad[i]));
        s_put_file(fx->file, c->bytes, c->len);
        xs_err err = xs_backup_verify(fx->file, "hub", "test", &info, &why);
        if (err != XS_EMALFORMED)
            fail_msg("name \"%s\": %s, not XS_EMALFORMED", bad[i], xs_strerror(err));
        assert_int_equal(xs_backup_extract(fx->file, "hub", "test", into, &info, &why),
                         XS_EMALFORMED);
        assert_false(s_exists(into));
        assert_false(s_exists(outside));
    }
    /* A NUL inside a name, and a name over the limit. */
    s_craft(c, "a\0b", 3);
    s_put_file(fx->file, c->bytes, c->len);
    assert_int_equal(xs_backup_verify(fx->file, "hub", "test", &info, &why), XS_EMALFORMED);
    memset(longest, 'n', sizeof longest);
    s_craft(c, longest, XS_BACKUP_NAME_MAX + 1);
    s_put_file(fx->file, c->bytes, c->len);
    assert_int_equal(xs_backup_verify(fx->file, "hub", "test", &info, &why), XS_EMALFORMED);
    /* The longest name allowed, and a nested one, go through. */
    s_craft(c, longest, XS_BACKUP_NAME_MAX);
    s_put_file(fx->file, c->bytes, c->len);
    assert_int_equal(xs_backup_verify(fx->file, "hub", "test", &info, &why), XS_OK);
    s_craft(c, "years/2025-2026/a.csv", 21);
    s_put_file(fx->file, c->bytes, c->len);
    assert_int_equal(xs_backup_extract(fx->file, "hub", "test", into, &info, &why), XS_OK);
    snprintf(path, sizeof path, "%s/years/2025-2026/a.csv", into);
    assert_true(s_exists(path));
    free(c);
}

static int s_checked;
static xs_err s_check_ok(void *ctx, const char *dir, const xs_backup_info_t *info) {
    (void)ctx;
    (void)info;
    if (dir)
        s_checked++;
    return XS_OK;
}
static xs_err s_check_refuse(void *ctx, const char *dir, const xs_backup_info_t *info) {
    (void)ctx;
    (void)info;
    return dir ? XS_EVERSION : XS_OK;
}

/* A restore over a directory moves it aside, never deletes it; a refused one changes
 * nothing. */
static void test_restore_keeps_aside(void **state) {
    fixture_t *fx = *state;
    xs_backup_info_t info;
    char target[400], aside[XS_BACKUP_ASIDE_MAX], path[XS_BACKUP_ASIDE_MAX + 100];
    s_make_src(fx, 3, 10);
    s_backup(fx, "hub", &info);
    snprintf(target, sizeof target, "%s/restored", fx->dir);
    assert_int_equal(
        xs_backup_restore(fx->file, "hub", "test", target, s_check_ok, NULL, aside, &info), XS_OK);
    assert_int_equal(s_checked, 1);
    assert_string_equal(aside, "");
    snprintf(path, sizeof path, "%s/mine.txt", target);
    s_write_file(path, "written after the restore", 0600);
    /* Again, over it: the directory there moves aside with what it held. */
    assert_int_equal(
        xs_backup_restore(fx->file, "hub", "test", target, s_check_ok, NULL, aside, &info), XS_OK);
    assert_non_null(strstr(aside, "/restored.before-restore-"));
    snprintf(path, sizeof path, "%s/mine.txt", aside);
    assert_true(s_exists(path));
    snprintf(path, sizeof path, "%s/mine.txt", target);
    assert_false(s_exists(path));
    snprintf(path, sizeof path, "%s/hub.secret", target);
    assert_true(s_exists(path));
    /* The program's check refuses: nothing moves, nothing is left extracted. */
    snprintf(path, sizeof path, "%s/mine.txt", target);
    s_write_file(path, "kept", 0600);
    assert_int_equal(
        xs_backup_restore(fx->file, "hub", "test", target, s_check_refuse, NULL, aside, &info),
        XS_EVERSION);
    assert_true(s_exists(path));
    snprintf(path, sizeof path, "%s.restoring-%ld", target, (long)getpid());
    assert_false(s_exists(path));
    /* A damaged file: refused before anything. */
    size_t len;
    uint8_t *whole = s_read_file(fx->file, &len);
    whole[len - 1] ^= 1;
    s_put_file(fx->file, whole, len);
    free(whole);
    assert_int_equal(
        xs_backup_restore(fx->file, "hub", "test", target, s_check_ok, NULL, aside, &info),
        XS_ECORRUPT);
    snprintf(path, sizeof path, "%s/mine.txt", target);
    assert_true(s_exists(path));
}

/* A store in use by this process's own open does not count; the probe writes nothing. */
static void test_in_use(void **state) {
    fixture_t *fx = *state;
    char path[400];
    int in_use = 1;
    snprintf(path, sizeof path, "%s/none", fx->dir);
    assert_int_equal(xs_store_in_use(path, &in_use), XS_OK);
    assert_int_equal(in_use, 0);
    s_make_src(fx, 3, 10);
    snprintf(path, sizeof path, "%s/store", fx->src);
    assert_int_equal(xs_store_in_use(path, &in_use), XS_OK);
    assert_int_equal(in_use, 0);
    /* Another process holding it open: in use. */
    int ready[2], hold[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        xs_store_t *store = NULL;
        char c;
        if (xs_store_open(&store, path, s_tables, 1, 0) != XS_OK)
            _exit(1);
        (void)!write(ready[1], "r", 1);
        (void)!read(hold[0], &c, 1);
        xs_store_close(&store);
        _exit(0);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(xs_store_in_use(path, &in_use), XS_OK);
    assert_int_equal(in_use, 1);
    assert_int_equal(write(hold[1], "q", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(xs_store_in_use(path, &in_use), XS_OK);
    assert_int_equal(in_use, 0);
    close(ready[0]);
    close(ready[1]);
    close(hold[0]);
    close(hold[1]);
}

/* The streaming hash over pieces equals the one-shot hash. */
static void test_hash_stream(void **state) {
    (void)state;
    uint8_t bytes[5000], one[XS_HASH_BYTES], streamed[XS_HASH_BYTES];
    xs_hash_stream_t h;
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 31 + 7);
    xs_identity_hash(bytes, sizeof bytes, one);
    xs_hash_stream_init(&h);
    for (size_t off = 0, step = 1; off < sizeof bytes; off += step, step = step * 3 + 1)
        xs_hash_stream_update(&h, bytes + off,
                              off + step > sizeof bytes ? sizeof bytes - off : step);
    xs_hash_stream_final(&h, streamed);
    assert_memory_equal(one, streamed, sizeof one);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_everywhere, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_kind, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_name_escapes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_restore_keeps_aside, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_in_use, s_setup, s_teardown),
        cmocka_unit_test(test_hash_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
