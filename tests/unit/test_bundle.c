/* test_bundle: writing and reading USB bundles, and refusing every damaged one
 * (schema/protocol.md §7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xs/bundle.h"
#include "xs/identity.h"

#if defined(__SANITIZE_ADDRESS__)
#define S_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_ASAN 1
#endif
#endif

/* The reasons xs_bundle_read gives, as an operator reads them. */
static const char s_truncated[] = "数据包不完整 (truncated)";
static const char s_tampered[] = "数据包被改动 (tampered)";

typedef struct fixture {
    xs_identity_t *hub;       /* the recipient of batches bundles */
    xs_identity_t *other_hub; /* another county's hub */
    xs_identity_t *node;      /* the recipient of receipts bundles */
} fixture_t;

/* A bundle's bytes in a buffer of exactly their size, so that ASan sees any read past it. */
typedef struct blob {
    uint8_t *bytes;
    size_t len;
} blob_t;

static xs_identity_t *s_key(uint8_t first) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(first + i);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    /* The keys of schema/vectors/protocol.txt, and a third. */
    fx->node = s_key(0x00);
    fx->hub = s_key(0x20);
    fx->other_hub = s_key(0x40);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_identity_destroy(&fx->hub);
    xs_identity_destroy(&fx->other_hub);
    xs_identity_destroy(&fx->node);
    free(fx);
    return 0;
}

static const uint8_t *s_box(const xs_identity_t *id) {
    return xs_identity_public(id)->box;
}

static blob_t s_copy(const void *bytes, size_t len) {
    blob_t b = {malloc(len ? len : 1), len};
    assert_non_null(b.bytes);
    if (len)
        memcpy(b.bytes, bytes, len);
    return b;
}

/* Writes items to a bundle in memory; finish 0 frees the writer without finishing. */
static blob_t s_write(uint8_t kind, const uint8_t *recipient, const xs_bundle_item_t *items,
                      size_t count, int finish) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    xs_bundle_writer_t *w = NULL;
    assert_int_equal(xs_bundle_writer_open(&w, f, kind, recipient), XS_OK);
    assert_non_null(w);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(xs_bundle_writer_add(w, items[i].ptr, items[i].len), XS_OK);
    if (finish)
        assert_int_equal(xs_bundle_writer_finish(w), XS_OK);
    xs_bundle_writer_free(&w);
    assert_null(w);
    xs_bundle_writer_free(&w); /* NULL is accepted */
    assert_int_equal(fclose(f), 0);
    blob_t b = s_copy(buf, size);
    free(buf);
    return b;
}

/* Reads b expecting a refusal with err (and reason, when not NULL); returns the reason. */
static const char *s_refused(const blob_t *b, uint8_t kind, const xs_identity_t *recipient,
                             xs_err err, const char *reason) {
    xs_bundle_items_t items;
    const char *why = NULL;
    memset(&items, 0xa5, sizeof items);
    assert_int_equal(xs_bundle_read(b->bytes, b->len, kind, recipient, &items, &why), err);
    assert_non_null(why);
    if (reason)
        assert_string_equal(why, reason);
    /* Refused whole: nothing of it is handed out. */
    assert_int_equal(items.count, 0);
    assert_null(items.items);
    assert_null(items.plaintext);
    xs_bundle_items_free(&items);
    return why;
}

/* Fills item i's bytes with a pattern of (i, j), so that any mix-up shows. */
static uint8_t s_pattern(size_t i, size_t j) {
    return (uint8_t)(i * 131u + j * 7u + (j >> 8));
}

/* Makes count items of varied sizes; the item at max_at (if < count) is XS_BUNDLE_ITEM_MAX. */
static xs_bundle_item_t *s_items(size_t count, size_t max_at) {
    xs_bundle_item_t *items = calloc(count ? count : 1, sizeof *items);
    assert_non_null(items);
    for (size_t i = 0; i < count; i++) {
        size_t len = i == max_at ? XS_BUNDLE_ITEM_MAX : i % 50 == 0 ? 0 : (i * 7919u) % 4000u;
        uint8_t *bytes = malloc(len ? len : 1);
        assert_non_null(bytes);
        for (size_t j = 0; j < len; j++)
            bytes[j] = s_pattern(i, j);
        items[i].ptr = bytes;
        items[i].len = len;
    }
    return items;
}

static void s_items_free(xs_bundle_item_t *items, size_t count) {
    for (size_t i = 0; i < count; i++)
        free((void *)items[i].ptr);
    free(items);
}

/* Writes count items, reads them back and checks each byte and the file's exact size. */
static void s_round_trip(uint8_t kind, const xs_identity_t *recipient, size_t count,
                         size_t max_at) {
    xs_bundle_item_t *items = s_items(count, max_at);
    blob_t b = s_write(kind, s_box(recipient), items, count, 1);
    size_t expect_len = XS_BUNDLE_PREFIX_BYTES, total = 0;
    for (size_t i = 0; i < count; i++) {
        expect_len += 4 + items[i].len + 17;
        total += items[i].len;
    }
    /* The end marker [count, kind]: fixarray, the count's shortest uint, a fixint. */
    expect_len += 4 + 1 + (count < 128 ? 1 : count < 256 ? 2 : 3) + 1 + 17;
    assert_int_equal(b.len, expect_len);

    xs_bundle_items_t got;
    const char *why = "unset";
    assert_int_equal(xs_bundle_read(b.bytes, b.len, kind, recipient, &got, &why), XS_OK);
    assert_null(why);
    /* The items are the reader's own: the file's bytes can go. */
    memset(b.bytes, 0, b.len);
    free(b.bytes);
    assert_int_equal(got.kind, kind);
    assert_int_equal(got.count, count);
    assert_int_equal(got.plaintext_len, total);
    assert_true(got.plaintext_len <= expect_len);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(got.items[i].len, items[i].len);
        if (items[i].len)
            assert_memory_equal(got.items[i].ptr, items[i].ptr, items[i].len);
        assert_true(got.items[i].ptr >= got.plaintext &&
                    got.items[i].ptr + got.items[i].len <= got.plaintext + got.plaintext_len);
    }
    xs_bundle_items_free(&got);
    assert_null(got.items);
    assert_null(got.plaintext);
    xs_bundle_items_free(&got); /* twice is harmless */
    s_items_free(items, count);
}

static void test_round_trip_empty(void **state) {
    fixture_t *fx = *state;
    s_round_trip(XS_BUNDLE_BATCHES, fx->hub, 0, SIZE_MAX);
    s_round_trip(XS_BUNDLE_RECEIPTS, fx->node, 0, SIZE_MAX);
}

static void test_round_trip_one(void **state) {
    fixture_t *fx = *state;
    s_round_trip(XS_BUNDLE_BATCHES, fx->hub, 1, SIZE_MAX);
    s_round_trip(XS_BUNDLE_RECEIPTS, fx->node, 1, SIZE_MAX);
    /* A single item at the maximum. */
    s_round_trip(XS_BUNDLE_BATCHES, fx->hub, 1, 0);
}

static void test_round_trip_many(void **state) {
    fixture_t *fx = *state;
    s_round_trip(XS_BUNDLE_BATCHES, fx->hub, 300, 150);
    s_round_trip(XS_BUNDLE_RECEIPTS, fx->node, 300, 299);
}

/* Through a real file: the writer's fflush and fsync, and xs_bundle_load_file. */
static void test_file_round_trip(void **state) {
    fixture_t *fx = *state;
    char path[] = "/tmp/xs_test_bundle_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    xs_bundle_item_t *items = s_items(5, SIZE_MAX);
    xs_bundle_writer_t *w = NULL;
    assert_int_equal(xs_bundle_writer_open(&w, f, XS_BUNDLE_BATCHES, s_box(fx->hub)), XS_OK);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(xs_bundle_writer_add(w, items[i].ptr, items[i].len), XS_OK);
    assert_int_equal(xs_bundle_writer_finish(w), XS_OK);
    xs_bundle_writer_free(&w);
    assert_int_equal(fclose(f), 0);

    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(xs_bundle_load_file(path, &bytes, &len), XS_OK);
    assert_non_null(bytes);
    xs_bundle_items_t got;
    assert_int_equal(xs_bundle_read(bytes, len, XS_BUNDLE_BATCHES, fx->hub, &got, NULL), XS_OK);
    assert_int_equal(got.count, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(got.items[i].len, items[i].len);
        if (items[i].len)
            assert_memory_equal(got.items[i].ptr, items[i].ptr, items[i].len);
    }
    xs_bundle_items_free(&got);
    free(bytes);
    s_items_free(items, 5);
    assert_int_equal(unlink(path), 0);

    /* Gone, a directory: no bytes. */
    bytes = (uint8_t *)path;
    assert_int_equal(xs_bundle_load_file(path, &bytes, &len), XS_ENOTFOUND);
    assert_null(bytes);
    assert_int_equal(xs_bundle_load_file("/tmp", &bytes, &len), XS_EIO);
    assert_null(bytes);

    /* An empty file loads (as zero bytes) and is refused as truncated. */
    memcpy(path + sizeof path - 7, "XXXXXX", 6);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(xs_bundle_load_file(path, &bytes, &len), XS_OK);
    assert_non_null(bytes);
    assert_int_equal(len, 0);
    blob_t empty = {bytes, 0};
    s_refused(&empty, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, s_truncated);
    free(bytes);
    assert_int_equal(unlink(path), 0);
}

/* A small bundle of two items, for the byte-by-byte tests. */
static blob_t s_small(const fixture_t *fx) {
    static const char first[] = "first envelope";
    static const char second[] = "second";
    xs_bundle_item_t items[2] = {{(const uint8_t *)first, sizeof first - 1},
                                 {(const uint8_t *)second, sizeof second - 1}};
    return s_write(XS_BUNDLE_BATCHES, s_box(fx->hub), items, 2, 1);
}

static void test_wrong_recipient(void **state) {
    fixture_t *fx = *state;
    blob_t b = s_small(fx);
    const char *why = s_refused(&b, XS_BUNDLE_BATCHES, fx->other_hub, XS_EPERM, NULL);
    assert_non_null(strstr(why, "bundle for another hub"));
    free(b.bytes);

    /* A receipts bundle for another node says so. */
    b = s_write(XS_BUNDLE_RECEIPTS, s_box(fx->node), NULL, 0, 1);
    why = s_refused(&b, XS_BUNDLE_RECEIPTS, fx->hub, XS_EPERM, NULL);
    assert_non_null(strstr(why, "bundle for another node"));
    free(b.bytes);

    /* Written to another hub and relabelled as ours: the key does not unseal. */
    b = s_write(XS_BUNDLE_BATCHES, s_box(fx->other_hub), NULL, 0, 1);
    memcpy(b.bytes + 9, s_box(fx->hub), 32);
    why = s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_ECRYPTO, NULL);
    assert_non_null(strstr(why, "does not unseal"));
    free(b.bytes);
}

static void test_truncated_every_length(void **state) {
    fixture_t *fx = *state;
    blob_t b = s_small(fx);
    for (size_t n = 0; n < b.len; n++) {
        blob_t cut = s_copy(b.bytes, n);
        s_refused(&cut, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, s_truncated);
        free(cut.bytes);
    }
    free(b.bytes);
}

static void test_flip_every_byte(void **state) {
    fixture_t *fx = *state;
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    blob_t b = s_small(fx);
    size_t first_chunk_end = XS_BUNDLE_PREFIX_BYTES + 4 + 14 + 17;
    for (size_t m = 0; m < sizeof masks; m++) {
        for (size_t i = 0; i < b.len; i++) {
            b.bytes[i] ^= masks[m];
            xs_bundle_items_t items;
            const char *why = NULL;
            xs_err err = xs_bundle_read(b.bytes, b.len, XS_BUNDLE_BATCHES, fx->hub, &items, &why);
            b.bytes[i] ^= masks[m];
            assert_int_not_equal(err, XS_OK);
            assert_non_null(why);
            assert_int_equal(items.count, 0);
            assert_null(items.plaintext);
            if (i < 9)
                assert_int_equal(err, XS_EMALFORMED); /* magic, kind */
            else if (i < 41)
                assert_int_equal(err, XS_EPERM); /* recipient */
            else if (i < XS_BUNDLE_PREFIX_BYTES)
                assert_int_equal(err, XS_ECRYPTO); /* sealed key, header */
            else if (i >= XS_BUNDLE_PREFIX_BYTES + 4 && i < first_chunk_end) {
                assert_int_equal(err, XS_ECRYPTO); /* ciphertext */
                assert_string_equal(why, s_tampered);
            } else
                assert_true(err == XS_EMALFORMED || err == XS_ECRYPTO || err == XS_ETOOBIG);
        }
    }
    /* Untouched, it still reads. */
    xs_bundle_items_t items;
    assert_int_equal(xs_bundle_read(b.bytes, b.len, XS_BUNDLE_BATCHES, fx->hub, &items, NULL),
                     XS_OK);
    assert_int_equal(items.count, 2);
    xs_bundle_items_free(&items);
    free(b.bytes);
}

static void test_bytes_after_end(void **state) {
    fixture_t *fx = *state;
    static const char *const reason = "数据包结尾后有多余数据 (bytes after the end marker)";
    blob_t b = s_small(fx);
    /* One byte, a zero length field, and the final chunk again. */
    size_t last_chunk = b.len - (4 + 3 + 17);
    for (size_t extra = 1; extra <= 3; extra++) {
        size_t more = extra == 1 ? 1 : extra == 2 ? 4 : b.len - last_chunk;
        blob_t longer = {malloc(b.len + more), b.len + more};
        assert_non_null(longer.bytes);
        memcpy(longer.bytes, b.bytes, b.len);
        if (extra == 3)
            memcpy(longer.bytes + b.len, b.bytes + last_chunk, more);
        else
            memset(longer.bytes + b.len, extra == 1 ? 0x42 : 0, more);
        s_refused(&longer, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, reason);
        free(longer.bytes);
    }
    free(b.bytes);
}

/* Chunks moved, dropped or taken from another bundle fail authentication. */
static void test_chunks_reordered(void **state) {
    fixture_t *fx = *state;
    static const char a[] = "AAAA", c[] = "CCCC";
    xs_bundle_item_t items[2] = {{(const uint8_t *)a, 4}, {(const uint8_t *)c, 4}};
    blob_t b = s_write(XS_BUNDLE_BATCHES, s_box(fx->hub), items, 2, 1);
    size_t chunk = 4 + 4 + 17, at = XS_BUNDLE_PREFIX_BYTES;

    blob_t swapped = s_copy(b.bytes, b.len);
    memcpy(swapped.bytes + at, b.bytes + at + chunk, chunk);
    memcpy(swapped.bytes + at + chunk, b.bytes + at, chunk);
    s_refused(&swapped, XS_BUNDLE_BATCHES, fx->hub, XS_ECRYPTO, s_tampered);
    free(swapped.bytes);

    /* The first item dropped. */
    blob_t dropped = s_copy(b.bytes, b.len - chunk);
    memcpy(dropped.bytes + at, b.bytes + at + chunk, b.len - at - chunk);
    s_refused(&dropped, XS_BUNDLE_BATCHES, fx->hub, XS_ECRYPTO, s_tampered);
    free(dropped.bytes);

    /* The same items in a second bundle to the same hub: its prefix with our chunks. */
    blob_t other = s_write(XS_BUNDLE_BATCHES, s_box(fx->hub), items, 2, 1);
    assert_int_equal(other.len, b.len);
    memcpy(other.bytes + at, b.bytes + at, b.len - at);
    s_refused(&other, XS_BUNDLE_BATCHES, fx->hub, XS_ECRYPTO, s_tampered);
    free(other.bytes);
    free(b.bytes);
}

static void test_unfinished_writer(void **state) {
    fixture_t *fx = *state;
    xs_bundle_item_t *items = s_items(3, SIZE_MAX);
    for (size_t count = 0; count <= 3; count++) {
        blob_t b = s_write(XS_BUNDLE_BATCHES, s_box(fx->hub), items, count, 0);
        s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, s_truncated);
        free(b.bytes);
    }
    s_items_free(items, 3);
}

static void test_kind_and_magic(void **state) {
    fixture_t *fx = *state;
    static const char not_bundle[] = "不是学时数据包 (not a xueshi bundle)";
    blob_t b = s_small(fx);
    /* A batches bundle where receipts are expected, and the other way round. */
    s_refused(&b, XS_BUNDLE_RECEIPTS, fx->hub, XS_EMALFORMED,
              "数据包类型不符 (bundle of the wrong kind)");
    blob_t r = s_write(XS_BUNDLE_RECEIPTS, s_box(fx->hub), NULL, 0, 1);
    s_refused(&r, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED,
              "数据包类型不符 (bundle of the wrong kind)");
    free(r.bytes);
    /* Kinds that do not exist. */
    static const uint8_t kinds[] = {0, 3, 0xff};
    for (size_t i = 0; i < sizeof kinds; i++) {
        b.bytes[8] = kinds[i];
        s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, not_bundle);
    }
    b.bytes[8] = XS_BUNDLE_BATCHES;
    /* Another version of the format, or another file altogether. */
    b.bytes[7] = '2';
    s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, not_bundle);
    b.bytes[7] = '1';
    blob_t text = s_copy("hello, world\n", 13);
    s_refused(&text, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, not_bundle);
    free(text.bytes);
    blob_t one = s_copy("Y", 1);
    s_refused(&one, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, not_bundle);
    free(one.bytes);
    free(b.bytes);
}

static void s_set_be32(uint8_t *at, uint32_t v) {
    at[0] = (uint8_t)(v >> 24);
    at[1] = (uint8_t)(v >> 16);
    at[2] = (uint8_t)(v >> 8);
    at[3] = (uint8_t)v;
}

/* Reads b under an address-space limit 256 MiB above what the process uses, in a child:
 * a reader that trusted a 4 GiB length would get XS_ENOMEM instead of xs_err expect. */
static void s_read_bounded(const blob_t *b, const xs_identity_t *recipient, xs_err expect) {
#ifndef S_ASAN /* ASan reserves terabytes of shadow memory: no limit fits under it. */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long pages = 0;
        FILE *statm = fopen("/proc/self/statm", "r");
        if (!statm || fscanf(statm, "%ld", &pages) != 1)
            _exit(2);
        fclose(statm);
        rlim_t limit = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)256 << 20);
        struct rlimit rl = {limit, limit};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(3);
        xs_bundle_items_t items;
        xs_err err = xs_bundle_read(b->bytes, b->len, XS_BUNDLE_BATCHES, recipient, &items, NULL);
        _exit(err == expect ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#else
    (void)b;
    (void)recipient;
    (void)expect;
#endif
}

static void test_chunk_length_field(void **state) {
    fixture_t *fx = *state;
    blob_t b = s_small(fx);
    uint8_t *length = b.bytes + XS_BUNDLE_PREFIX_BYTES;
    uint8_t saved[4];
    memcpy(saved, length, 4);

    s_set_be32(length, 0xffffffffu);
    s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_ETOOBIG, NULL);
    s_read_bounded(&b, fx->hub, XS_ETOOBIG);
    s_set_be32(length, XS_BUNDLE_CHUNK_MAX + 1);
    s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_ETOOBIG, NULL);
    /* At the maximum it is a length, but the file does not hold it. */
    s_set_be32(length, XS_BUNDLE_CHUNK_MAX);
    s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, s_truncated);
    s_read_bounded(&b, fx->hub, XS_EMALFORMED);
    /* Shorter than an authenticator: no chunk at all. */
    s_set_be32(length, 0);
    s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, NULL);
    s_set_be32(length, 16);
    s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_EMALFORMED, NULL);
    /* One more or less than written: the chunk does not authenticate. */
    s_set_be32(length, 14 + 17 + 1);
    s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_ECRYPTO, s_tampered);
    s_set_be32(length, 14 + 17 - 1);
    s_refused(&b, XS_BUNDLE_BATCHES, fx->hub, XS_ECRYPTO, s_tampered);
    memcpy(length, saved, 4);
    s_read_bounded(&b, fx->hub, XS_OK);
    free(b.bytes);

    /* A file over the size limit is refused before it is looked at. */
    xs_bundle_items_t items;
    static const uint8_t byte = 0;
    assert_int_equal(
        xs_bundle_read(&byte, XS_BUNDLE_FILE_MAX + 1, XS_BUNDLE_BATCHES, fx->hub, &items, NULL),
        XS_ETOOBIG);
}

static void test_writer_misuse(void **state) {
    fixture_t *fx = *state;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    xs_bundle_writer_t *w = (xs_bundle_writer_t *)f;
    assert_int_equal(xs_bundle_writer_open(&w, f, 0, s_box(fx->hub)), XS_EINVAL);
    assert_null(w);
    assert_int_equal(xs_bundle_writer_open(&w, f, 3, s_box(fx->hub)), XS_EINVAL);
    /* A low-order point: a shared secret of zeros, refused by libsodium. */
    static const uint8_t zero_key[32];
    assert_int_equal(xs_bundle_writer_open(&w, f, XS_BUNDLE_BATCHES, zero_key), XS_EINVAL);
    assert_null(w);
    fflush(f);
    assert_int_equal(size, 0);

    assert_int_equal(xs_bundle_writer_open(&w, f, XS_BUNDLE_BATCHES, s_box(fx->hub)), XS_OK);
    /* An item over the maximum is refused and leaves the writer usable. */
    uint8_t *big = calloc(1, XS_BUNDLE_ITEM_MAX + 1);
    assert_non_null(big);
    assert_int_equal(xs_bundle_writer_add(w, big, XS_BUNDLE_ITEM_MAX + 1), XS_ETOOBIG);
    free(big);
    assert_int_equal(xs_bundle_writer_add(w, "x", 1), XS_OK);
    assert_int_equal(xs_bundle_writer_finish(w), XS_OK);
    assert_int_equal(xs_bundle_writer_add(w, "y", 1), XS_EINVAL);
    assert_int_equal(xs_bundle_writer_finish(w), XS_EINVAL);
    xs_bundle_writer_free(&w);
    assert_int_equal(fclose(f), 0);

    blob_t b = s_copy(buf, size);
    free(buf);
    xs_bundle_items_t items;
    assert_int_equal(xs_bundle_read(b.bytes, b.len, XS_BUNDLE_BATCHES, fx->hub, &items, NULL),
                     XS_OK);
    assert_int_equal(items.count, 1);
    assert_int_equal(items.items[0].len, 1);
    assert_int_equal(items.items[0].ptr[0], 'x');
    xs_bundle_items_free(&items);
    free(b.bytes);
}

/* A full disk: the error surfaces at the latest in finish, and sticks. */
static void test_disk_full(void **state) {
    fixture_t *fx = *state;
    FILE *f = fopen("/dev/full", "wb");
    if (!f)
        skip();
    xs_bundle_writer_t *w = NULL;
    xs_err err = xs_bundle_writer_open(&w, f, XS_BUNDLE_BATCHES, s_box(fx->hub));
    if (err == XS_OK) {
        err = xs_bundle_writer_add(w, "x", 1);
        if (err == XS_OK)
            err = xs_bundle_writer_finish(w);
        assert_int_equal(err, XS_EFULL);
        assert_int_equal(xs_bundle_writer_add(w, "x", 1), XS_EFULL);
        assert_int_equal(xs_bundle_writer_finish(w), XS_EFULL);
    } else {
        assert_int_equal(err, XS_EFULL);
        assert_null(w);
    }
    xs_bundle_writer_free(&w);
    fclose(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_empty), cmocka_unit_test(test_round_trip_one),
        cmocka_unit_test(test_round_trip_many),  cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_wrong_recipient),  cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_flip_every_byte),  cmocka_unit_test(test_bytes_after_end),
        cmocka_unit_test(test_chunks_reordered), cmocka_unit_test(test_unfinished_writer),
        cmocka_unit_test(test_kind_and_magic),   cmocka_unit_test(test_chunk_length_field),
        cmocka_unit_test(test_writer_misuse),    cmocka_unit_test(test_disk_full),
    };
    return cmocka_run_group_tests_name("bundle", tests, s_setup, s_teardown);
}
