/* bundle: USB bundles (protocol.md §7): items sealed to a recipient in a libsodium
 * secretstream, read back whole or refused whole. */
#include "xs/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs/codec.h"

/* protocol.md §7 layout: offsets of each field of the prefix. */
static const uint8_t s_magic[8] = {'X', 'S', 'B', 'N', 'D', 'L', '0', '1'};
#define S_KIND_AT 8
#define S_RECIPIENT_AT 9
#define S_SEALED_AT 41
#define S_SEALED_BYTES (crypto_secretstream_xchacha20poly1305_KEYBYTES + crypto_box_SEALBYTES)
#define S_HEADER_AT (S_SEALED_AT + S_SEALED_BYTES)
#define S_LENGTH_BYTES 4
#define S_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
/* Additional data of the first chunk (protocol.md §7, "the 65 bytes"): magic, kind and
 * recipient, then the stream header. The sealed key needs no binding: a changed one either
 * does not unseal or gives another key, under which no chunk authenticates. */
#define S_AD_BYTES (S_SEALED_AT + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
/* The end marker [count, kind] is a few bytes of msgpack; more is not a marker. */
#define S_MARKER_MAX 16

_Static_assert(S_HEADER_AT + crypto_secretstream_xchacha20poly1305_HEADERBYTES ==
                   XS_BUNDLE_PREFIX_BYTES,
               "protocol.md §7 prefix is 145 bytes");
_Static_assert(S_SEALED_BYTES == 80, "protocol.md §7 sealed key is 80 bytes");
_Static_assert(S_AD_BYTES == 65, "protocol.md §7 first chunk's additional data is 65 bytes");
_Static_assert(S_ABYTES == 17, "protocol.md §7 chunk overhead is 17 bytes");
_Static_assert(XS_BUNDLE_CHUNK_MAX <= UINT32_MAX, "a chunk length fits its 4 bytes");

/* Reasons given to the operator, one per refusal of protocol.md §7. */
static const char s_why_too_big[] = "数据包过大 (bundle too large)";
static const char s_why_not_bundle[] = "不是学时数据包 (not a xueshi bundle)";
static const char s_why_kind[] = "数据包类型不符 (bundle of the wrong kind)";
static const char s_why_for_other_hub[] = "数据包不是发给本县级中心的 (bundle for another hub)";
static const char s_why_for_other_node[] = "数据包不是发给本学校节点的 (bundle for another node)";
static const char s_why_unseal[] = "无法解开数据包密钥 (bundle key does not unseal)";
static const char s_why_tampered[] = "数据包被改动 (tampered)";
static const char s_why_truncated[] = "数据包不完整 (truncated)";
static const char s_why_trailing[] = "数据包结尾后有多余数据 (bytes after the end marker)";
static const char s_why_chunk_big[] = "数据块超过大小限制 (chunk over the size limit)";
static const char s_why_chunk_len[] = "数据块长度无效 (bad chunk length)";
static const char s_why_tag[] = "数据块类型无效 (unexpected chunk tag)";
static const char s_why_marker[] = "数据包结束标记有误 (bad end marker)";
static const char s_why_count[] = "数据包条目数与结束标记不符 (item count differs from end marker)";

struct xs_bundle_writer {
    FILE *file;                                         /* borrowed; never closed here */
    crypto_secretstream_xchacha20poly1305_state *state; /* sodium_malloc'd: derived key */
    uint8_t ad[S_AD_BYTES]; /* additional data of the first chunk (protocol.md §7) */
    int ad_used;            /* 1 once the first chunk is pushed */
    uint8_t *chunk;         /* length prefix and ciphertext of one chunk, malloc'd */
    size_t chunk_cap;       /* bytes allocated, at most 4 + XS_BUNDLE_CHUNK_MAX */
    uint64_t count;         /* items pushed */
    uint8_t kind;           /* xs_bundle_kind */
    int finished;           /* 1 after a successful xs_bundle_writer_finish */
    xs_err err;             /* first write error, sticky; XS_OK while none */
};

static void s_put_be32(uint8_t *out, uint32_t v) {
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static uint32_t s_get_be32(const uint8_t *in) {
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

static xs_err s_errno_write(int e) {
    return e == ENOSPC || e == EDQUOT ? XS_EFULL : XS_EIO;
}

/* Writes len bytes to the writer's file; a failure becomes the sticky error. */
static xs_err s_write(xs_bundle_writer_t *w, const void *bytes, size_t len) {
    errno = 0;
    if (fwrite(bytes, 1, len, w->file) != len) {
        w->err = s_errno_write(errno);
        xs_log_err(w->err, "写入数据包 (writing bundle): %s", strerror(errno));
    }
    return w->err;
}

/* Encrypts one plaintext chunk with tag and writes its length and ciphertext. */
static xs_err s_push(xs_bundle_writer_t *w, const void *plain, size_t len, unsigned char tag) {
    size_t need = S_LENGTH_BYTES + len + S_ABYTES;
    if (need > w->chunk_cap) {
        /* Grow in steps so that many small items do not realloc each time. */
        size_t cap = w->chunk_cap ? w->chunk_cap : 4096;
        while (cap < need)
            cap *= 2;
        if (cap > S_LENGTH_BYTES + XS_BUNDLE_CHUNK_MAX)
            cap = S_LENGTH_BYTES + XS_BUNDLE_CHUNK_MAX;
        uint8_t *chunk = realloc(w->chunk, cap);
        if (!chunk)
            return XS_ENOMEM; /* the stream has not moved: the writer stays usable */
        w->chunk = chunk;
        w->chunk_cap = cap;
    }
    unsigned long long clen = 0;
    const uint8_t *ad = w->ad_used ? NULL : w->ad;
    if (crypto_secretstream_xchacha20poly1305_push(w->state, w->chunk + S_LENGTH_BYTES, &clen,
                                                   plain, len, ad, ad ? sizeof w->ad : 0,
                                                   tag) != 0) {
        w->err = XS_ECRYPTO;
        return w->err;
    }
    w->ad_used = 1;
    s_put_be32(w->chunk, (uint32_t)clen);
    return s_write(w, w->chunk, S_LENGTH_BYTES + (size_t)clen);
}

xs_err xs_bundle_writer_open(xs_bundle_writer_t **out, FILE *f, uint8_t kind,
                             const uint8_t recipient_box_pk[XS_BOX_PK_BYTES]) {
    uint8_t prefix[XS_BUNDLE_PREFIX_BYTES];
    uint8_t *stream_key = NULL;
    xs_bundle_writer_t *w = NULL;
    xs_err err;

    *out = NULL;
    if (kind != XS_BUNDLE_BATCHES && kind != XS_BUNDLE_RECEIPTS)
        return XS_EINVAL;
    if ((err = xs_identity_setup()) != XS_OK)
        return err;
    w = calloc(1, sizeof *w);
    stream_key = sodium_malloc(crypto_secretstream_xchacha20poly1305_KEYBYTES);
    if (!w || !stream_key || !(w->state = sodium_malloc(sizeof *w->state))) {
        err = XS_ENOMEM;
        goto out;
    }
    w->file = f;
    w->kind = kind;

    memcpy(prefix, s_magic, sizeof s_magic);
    prefix[S_KIND_AT] = kind;
    memcpy(prefix + S_RECIPIENT_AT, recipient_box_pk, XS_BOX_PK_BYTES);
    crypto_secretstream_xchacha20poly1305_keygen(stream_key);
    /* Refused only for a key whose shared secret would be all zeros (a low-order point). */
    if (crypto_box_seal(prefix + S_SEALED_AT, stream_key,
                        crypto_secretstream_xchacha20poly1305_KEYBYTES, recipient_box_pk) != 0) {
        err = XS_EINVAL;
        goto out;
    }
    if (crypto_secretstream_xchacha20poly1305_init_push(w->state, prefix + S_HEADER_AT,
                                                        stream_key) != 0) {
        err = XS_ECRYPTO;
        goto out;
    }
    memcpy(w->ad, prefix, S_SEALED_AT);
    memcpy(w->ad + S_SEALED_AT, prefix + S_HEADER_AT,
           crypto_secretstream_xchacha20poly1305_HEADERBYTES);
    err = s_write(w, prefix, sizeof prefix);

out:
    if (stream_key) {
        sodium_memzero(stream_key, crypto_secretstream_xchacha20poly1305_KEYBYTES);
        sodium_free(stream_key);
    }
    if (err != XS_OK)
        xs_bundle_writer_free(&w);
    *out = w;
    return err;
}

xs_err xs_bundle_writer_add(xs_bundle_writer_t *w, const void *item, size_t len) {
    if (w->finished)
        return XS_EINVAL;
    if (w->err != XS_OK)
        return w->err;
    if (len > XS_BUNDLE_ITEM_MAX)
        return XS_ETOOBIG;
    xs_err err = s_push(w, item, len, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    if (err == XS_OK)
        w->count++;
    return err;
}

xs_err xs_bundle_writer_finish(xs_bundle_writer_t *w) {
    if (w->finished)
        return XS_EINVAL;
    if (w->err != XS_OK)
        return w->err;

    xs_writer_t marker;
    xs_writer_init(&marker, S_MARKER_MAX);
    xs_codec_put_array(&marker, 2);
    xs_codec_put_uint(&marker, w->count);
    xs_codec_put_uint(&marker, w->kind);
    xs_err err = xs_writer_err(&marker);
    if (err == XS_OK)
        err = s_push(w, marker.data, marker.len, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    xs_writer_free(&marker);
    if (err != XS_OK)
        return err;

    /* Durable before we say so: the operator pulls the stick out on our word. */
    errno = 0;
    if (fflush(w->file) != 0) {
        w->err = s_errno_write(errno);
        xs_log_err(w->err, "写入数据包 (flushing bundle): %s", strerror(errno));
        return w->err;
    }
    int fd = fileno(w->file);
    /* A memory stream has no descriptor; a pipe or socket cannot be synced (EINVAL, EROFS). */
    if (fd >= 0 && fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
        w->err = s_errno_write(errno);
        xs_log_err(w->err, "写入数据包 (syncing bundle): %s", strerror(errno));
        return w->err;
    }
    w->finished = 1;
    return XS_OK;
}

void xs_bundle_writer_free(xs_bundle_writer_t **w) {
    if (!w || !*w)
        return;
    xs_bundle_writer_t *writer = *w;
    if (writer->state) {
        sodium_memzero(writer->state, sizeof *writer->state);
        sodium_free(writer->state);
    }
    free(writer->chunk);
    free(writer);
    *w = NULL;
}

void xs_bundle_items_free(xs_bundle_items_t *items) {
    if (!items)
        return;
    free(items->items);
    free(items->plaintext);
    memset(items, 0, sizeof *items);
}

/* The unsealed stream key and the pull state, together in one sodium_malloc'd block. */
typedef struct s_secrets {
    uint8_t stream_key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    crypto_secretstream_xchacha20poly1305_state state;
} s_secrets_t;

/* Reads the end marker [count, kind] (protocol.md §7) from len bytes. */
static int s_marker(const uint8_t *plain, size_t len, uint64_t *count, uint64_t *kind) {
    xs_reader_t r;
    uint32_t elements;
    xs_reader_init(&r, plain, len);
    return xs_codec_get_array(&r, &elements) == XS_OK && elements == 2 &&
           xs_codec_get_uint(&r, count) == XS_OK && xs_codec_get_uint(&r, kind) == XS_OK &&
           xs_reader_left(&r) == 0;
}

xs_err xs_bundle_read(const void *bytes, size_t len, uint8_t kind, const xs_identity_t *recipient,
                      xs_bundle_items_t *out, const char **why) {
    const uint8_t *file = bytes;
    const xs_pubkeys_t *pub = xs_identity_public(recipient);
    s_secrets_t *secrets = NULL;
    size_t items_cap = 0;
    const char *reason = NULL;
    xs_err err = XS_EMALFORMED;

    memset(out, 0, sizeof *out);
    if (len > XS_BUNDLE_FILE_MAX) {
        err = XS_ETOOBIG;
        reason = s_why_too_big;
        goto out;
    }
    /* The prefix, field by field, so that a cut file says "truncated" and not "not ours". */
    size_t magic_len = len < sizeof s_magic ? len : sizeof s_magic;
    if (magic_len > 0 && memcmp(file, s_magic, magic_len) != 0)
        goto not_bundle;
    if (len <= S_KIND_AT)
        goto truncated;
    if (file[S_KIND_AT] != XS_BUNDLE_BATCHES && file[S_KIND_AT] != XS_BUNDLE_RECEIPTS)
        goto not_bundle;
    if (file[S_KIND_AT] != kind) {
        reason = s_why_kind;
        goto malformed;
    }
    if (len < S_SEALED_AT)
        goto truncated;
    if (memcmp(file + S_RECIPIENT_AT, pub->box, XS_BOX_PK_BYTES) != 0) {
        err = XS_EPERM;
        reason = kind == XS_BUNDLE_BATCHES ? s_why_for_other_hub : s_why_for_other_node;
        goto out;
    }
    if (len < XS_BUNDLE_PREFIX_BYTES)
        goto truncated;

    if ((err = xs_identity_setup()) != XS_OK) {
        reason = xs_strerror(err);
        goto out;
    }
    secrets = sodium_malloc(sizeof *secrets);
    if (!secrets) {
        err = XS_ENOMEM;
        reason = xs_strerror(err);
        goto out;
    }
    if (crypto_box_seal_open(secrets->stream_key, file + S_SEALED_AT, S_SEALED_BYTES, pub->box,
                             xs_identity_box_secret(recipient)) != 0 ||
        crypto_secretstream_xchacha20poly1305_init_pull(&secrets->state, file + S_HEADER_AT,
                                                        secrets->stream_key) != 0) {
        err = XS_ECRYPTO;
        reason = s_why_unseal;
        goto out;
    }
    sodium_memzero(secrets->stream_key, sizeof secrets->stream_key);
    uint8_t ad[S_AD_BYTES];
    memcpy(ad, file, S_SEALED_AT);
    memcpy(ad + S_SEALED_AT, file + S_HEADER_AT, crypto_secretstream_xchacha20poly1305_HEADERBYTES);

    /* Every chunk's plaintext is shorter than its ciphertext, so the bytes after the prefix
     * hold all of it: the one allocation the file's contents size, bounded by the file. */
    size_t body_len = len - XS_BUNDLE_PREFIX_BYTES;
    out->plaintext = malloc(body_len ? body_len : 1);
    if (!out->plaintext) {
        err = XS_ENOMEM;
        reason = xs_strerror(err);
        goto out;
    }
    out->kind = kind;

    size_t pos = XS_BUNDLE_PREFIX_BYTES;
    size_t plain_used = 0;
    int first = 1; /* the next chunk is the first: it carries ad */
    for (;;) {
        if (len - pos < S_LENGTH_BYTES)
            goto truncated; /* the file ends before its final chunk */
        uint32_t clen = s_get_be32(file + pos);
        pos += S_LENGTH_BYTES;
        if (clen > XS_BUNDLE_CHUNK_MAX) {
            err = XS_ETOOBIG;
            reason = s_why_chunk_big;
            goto out;
        }
        if (clen < S_ABYTES) {
            reason = s_why_chunk_len;
            goto malformed;
        }
        if (clen > len - pos)
            goto truncated;

        uint8_t *plain = out->plaintext + plain_used;
        unsigned long long plain_len = 0;
        unsigned char tag = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(&secrets->state, plain, &plain_len, &tag,
                                                       file + pos, clen, first ? ad : NULL,
                                                       first ? sizeof ad : 0) != 0) {
            err = XS_ECRYPTO;
            reason = s_why_tampered;
            goto out;
        }
        first = 0;
        pos += clen;

        if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
            uint64_t marker_count, marker_kind;
            if (!s_marker(plain, (size_t)plain_len, &marker_count, &marker_kind) ||
                marker_kind != kind) {
                reason = s_why_marker;
                goto malformed;
            }
            if (marker_count != out->count) {
                reason = s_why_count;
                goto malformed;
            }
            break;
        }
        if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
            reason = s_why_tag;
            goto malformed;
        }
        if (out->count == items_cap) {
            /* Each chunk takes at least 21 bytes of the file: this stays bounded by len. */
            size_t cap = items_cap ? items_cap * 2 : 16;
            xs_bundle_item_t *items = realloc(out->items, cap * sizeof *items);
            if (!items) {
                err = XS_ENOMEM;
                reason = xs_strerror(err);
                goto out;
            }
            out->items = items;
            items_cap = cap;
        }
        out->items[out->count].ptr = plain;
        out->items[out->count].len = (size_t)plain_len;
        out->count++;
        plain_used += (size_t)plain_len;
    }
    if (pos != len) {
        reason = s_why_trailing;
        goto malformed;
    }
    out->plaintext_len = plain_used;
    err = XS_OK;
    goto out;

not_bundle:
    reason = s_why_not_bundle;
    goto malformed;
truncated:
    reason = s_why_truncated;
malformed:
    err = XS_EMALFORMED;
out:
    if (secrets) {
        sodium_memzero(secrets, sizeof *secrets);
        sodium_free(secrets);
    }
    if (err != XS_OK)
        xs_bundle_items_free(out);
    if (why)
        *why = err == XS_OK ? NULL : reason;
    return err;
}

xs_err xs_bundle_load_file(const char *path, uint8_t **bytes, size_t *len) {
    struct stat st;
    uint8_t *buf = NULL;
    size_t cap, used = 0;
    xs_err err = XS_OK;

    *bytes = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = errno == ENOENT || errno == ENOTDIR ? XS_ENOTFOUND
              : errno == EACCES || errno == EPERM ? XS_EPERM
                                                  : XS_EIO;
        if (err == XS_EIO)
            xs_log_err(err, "读取数据包 %s (reading bundle): %s", path, strerror(errno));
        return err;
    }
    if (fstat(fd, &st) != 0) {
        err = XS_EIO;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        err = XS_EIO;
        goto out;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > XS_BUNDLE_FILE_MAX) {
        err = XS_ETOOBIG;
        goto out;
    }
    /* One byte more than the size says, so that a file that grew is seen growing. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 64 * 1024;
    if (!(buf = malloc(cap))) {
        err = XS_ENOMEM;
        goto out;
    }
    for (;;) {
        if (used == cap) {
            if (cap > XS_BUNDLE_FILE_MAX) {
                err = XS_ETOOBIG;
                goto out;
            }
            size_t grown = cap > XS_BUNDLE_FILE_MAX / 2 ? XS_BUNDLE_FILE_MAX + 1 : cap * 2;
            uint8_t *more = realloc(buf, grown);
            if (!more) {
                err = XS_ENOMEM;
                goto out;
            }
            buf = more;
            cap = grown;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = XS_EIO;
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    if (used > XS_BUNDLE_FILE_MAX)
        err = XS_ETOOBIG;

out:
    if (err != XS_OK && err != XS_ETOOBIG)
        xs_log_err(err, "读取数据包 %s (reading bundle): %s", path, strerror(errno));
    close(fd);
    if (err != XS_OK) {
        free(buf);
        return err;
    }
    *bytes = buf;
    *len = used;
    return XS_OK;
}
