/* check: reading a stored record safely, and walking a node's whole store for damage.
 *
 * LMDB keeps no checksums, so a flipped byte shows only as bytes that fail their own rules,
 * or as LMDB reading a page it should not, which can crash the reader. Every table is walked
 * by its own forked child, which opens the store read-only and reports each problem as one
 * line on a pipe ("P text"), its progress ("N entries") and its end ("E entries"); the parent
 * never maps the store, so a child killed by a signal is one more problem, and the next table
 * is still checked.
 *
 * Keys and value layouts are their owners' (node.h lists them): the walks and lookups here go
 * through node.c and lanes.c, which hand on damaged entries marked as such; what is checked,
 * and how it is said, is this file's. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lanes.h"
#include "staff.h"
#include "xs/batch.h"
#include "xs/chain.h"
#include "xs/receipt.h"
#include "xs/roster.h"
#include "xs/text.h"

/* Entries between two progress notes to the parent, and between two lines on stderr. */
#define S_NOTE_EVERY 4096
#define S_PROGRESS_EVERY 100000
/* Longest problem line, in bytes. */
#define S_LINE_MAX 512
/* Child exit code: the store could not be opened (reported), so no table can be walked. */
#define S_EXIT_NO_STORE 3

/* Each table's label, in the order of enum node_table (node.h), then the key file's. */
static const char *const s_labels[] = {
    "节点信息",     "记录",           "去重索引",   "已封装批次", "认定回执", "卫星校批次",
    "卫星校批次链", "卫星校同步状态", "卫星校回执", "教师花名册", "节点密钥",
};
_Static_assert(sizeof s_labels / sizeof s_labels[0] == NODE_CHECK_KEY_FILE + 1,
               "a label per table");

const char *node_check_label(unsigned table) {
    return table <= NODE_CHECK_KEY_FILE ? s_labels[table] : "?";
}

void node_corrupt_hint(const char *dir) {
    fprintf(stderr,
            "xueshi-node: 数据已损坏 (the store is corrupted): 请运行 xueshi-node check --dir %s "
            "(run the check)\n",
            dir);
}

int node_exit_code(xs_err err, const char *dir) {
    if (err != XS_ECORRUPT)
        return 1;
    node_corrupt_hint(dir);
    return NODE_EXIT_CORRUPT;
}

/* Decodes a record's bytes and checks them, for node_record_read. */
static xs_err s_record_decode(const xs_bytes_t *val, xs_record_t *rec, char why[NODE_WHY_MAX]) {
    xs_field field;
    if (xs_record_decode_bytes(val->ptr, val->len, rec) != XS_OK) {
        snprintf(why, NODE_WHY_MAX, "无法解码 (cannot be decoded)");
        return XS_ECORRUPT;
    }
    xs_reason reason = xs_record_check(rec, &field);
    /* A county's own category (11..255) was checked under the policy when it was recorded;
     * the policy may have changed since, and what it credits is the engine's to say. */
    if (reason == XS_REASON_UNKNOWN_CATEGORY && field == XS_F_CATEGORY &&
        rec->category >= XS_POLICY_CUSTOM_FIRST)
        reason = XS_REASON_NONE;
    if (reason != XS_REASON_NONE) {
        snprintf(why, NODE_WHY_MAX, "不是有效记录：%s %s (not a valid record: %s %s)",
                 xs_field_name(field), xs_reason_zh(reason), xs_field_name(field),
                 xs_reason_code(reason));
        return XS_ECORRUPT;
    }
    return XS_OK;
}

xs_err node_record_read(const xs_bytes_t *key, const xs_bytes_t *val, uint64_t *seq,
                        xs_record_t *rec, char why[NODE_WHY_MAX]) {
    *seq = node_record_seq(key);
    if (*seq == 0) {
        snprintf(why, NODE_WHY_MAX, "键损坏 (damaged key)");
        return XS_ECORRUPT;
    }
    return s_record_decode(val, rec, why);
}

/* ---- the child: one table's walk ---- */

/* One child's walk. */
typedef struct s_walk {
    int fd;                     /* pipe to the parent */
    int progress_fd;            /* where progress lines go: the check's stderr */
    unsigned table;             /* the table walked (enum node_table) */
    const xs_identity_t *id;    /* this node's key; NULL when it could not be loaded */
    struct timespec start;      /* when the whole check began */
    xs_store_t *store;          /* opened read-only */
    xs_txn_t *txn;              /* the snapshot walked */
    xs_txn_t *look;             /* a second one for lookups: a damaged page they meet
                                   ends that snapshot, not the walk */
    uint64_t entries;           /* entries of the child's own table read so far */
    char school[XS_ID_MAX + 1]; /* the node's school, "" when meta lacks it */
    int has_county;             /* 1 when meta holds the county hub's key */
    node_county_keys_t county;  /* its keys: in force, then those rotated out */
    xs_receipt_t *receipt;      /* scratch for receipts */
    /* The walk of records, or of the batch chain, in sequence order. */
    uint64_t next_seq;           /* the seq the next record or batch must start at; 0: unknown */
    int has_hash;                /* 1 when hash is the previous batch's */
    uint8_t hash[XS_HASH_BYTES]; /* the previous batch's hash */
    uint64_t batches;            /* batches opened */
} s_walk_t;

/* Sends one line to the parent. */
static void s_send(const s_walk_t *w, const char *line, size_t len) {
    while (len > 0) {
        ssize_t n = write(w->fd, line, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        line += n;
        len -= (size_t)n;
    }
}

/* Reports one problem: a formatted line, control characters blanked. */
__attribute__((format(printf, 2, 3))) static void s_problem(const s_walk_t *w, const char *fmt,
                                                            ...) {
    char line[S_LINE_MAX + 3] = "P ";
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + 2, S_LINE_MAX, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < S_LINE_MAX ? (size_t)n : S_LINE_MAX - 1;
    for (size_t i = 2; i < len + 2; i++)
        if ((unsigned char)line[i] < 0x20)
            line[i] = ' ';
    line[len + 2] = '\n';
    s_send(w, line, len + 3);
}

/* Writes bytes (from the store, perhaps damaged) for a problem line: as text when they are
 * short printable UTF-8, else as hex of their first bytes. */
static const char *s_show(const void *bytes, size_t len, char out[80]) {
    const unsigned char *p = bytes;
    if (len == 0)
        return "\"\"";
    int text = len > 0 && len <= 64 && xs_text_utf8_valid(bytes, len);
    for (size_t i = 0; text && i < len; i++)
        text = p[i] >= 0x20 && p[i] != 0x7f;
    if (text) {
        memcpy(out, bytes, len);
        out[len] = '\0';
        return out;
    }
    size_t shown = len < 32 ? len : 32;
    out[0] = '0';
    out[1] = 'x';
    xs_hex_encode(p, shown, out + 2);
    if (shown < len)
        memcpy(out + 2 + 2 * shown, "...", 4);
    return out;
}

static int s_is(const xs_bytes_t *b, const char *s) {
    return b->len == strlen(s) && memcmp(b->ptr, s, b->len) == 0;
}

/* Counts an entry of the child's own table; tells the parent now and then, and stderr when
 * the check is slow. */
static void s_tick(s_walk_t *w) {
    char line[48];
    w->entries++;
    if (w->entries % S_NOTE_EVERY == 0) {
        int n = snprintf(line, sizeof line, "N %llu\n", (unsigned long long)w->entries);
        s_send(w, line, (size_t)n);
    }
    if (w->entries % S_PROGRESS_EVERY == 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - w->start.tv_sec >= 1)
            dprintf(w->progress_fd, "检查中 (checking) %s: 已读 %llu 条 (entries read)\n",
                    node_tables[w->table], (unsigned long long)w->entries);
    }
}

/* Reports how the walk of the child's own table ended: stopped by err before the end, or
 * with an entry count other than the one the table records. */
static void s_walked(s_walk_t *w, xs_err err) {
    uint64_t recorded;
    const char *name = node_tables[w->table];
    unsigned long long walked = (unsigned long long)w->entries;
    if (err != XS_OK)
        s_problem(w, "读取 %s 表在第 %llu 条之后中断：%s (the walk stopped after %llu entries)",
                  name, walked, xs_strerror(err), walked);
    else if (node_table_count(w->txn, w->table, &recorded) == XS_OK && recorded != walked)
        s_problem(w,
                  "%s 表记载有 %llu 条，实际读到 %llu 条 (the table says %llu entries, the "
                  "walk found %llu)",
                  name, (unsigned long long)recorded, walked, (unsigned long long)recorded, walked);
}

/* ---- lookups, in the second snapshot ---- */

/* Begins the second snapshot anew: LMDB ends a transaction that met a damaged page. */
static void s_renew(s_walk_t *w) {
    xs_store_end(&w->look);
    if (xs_store_read(w->store, &w->look) != XS_OK)
        w->look = NULL;
}

/* Ends a lookup of what (a formatted name) that returned err: an error other than absence is
 * reported and the snapshot renewed. Returns err. */
__attribute__((format(printf, 3, 4))) static xs_err s_looked(s_walk_t *w, xs_err err,
                                                             const char *what, ...) {
    char name[S_LINE_MAX / 2];
    va_list ap;
    if (err == XS_OK || err == XS_ENOTFOUND)
        return err;
    va_start(ap, what);
    vsnprintf(name, sizeof name, what, ap);
    va_end(ap);
    s_problem(w, "%s 读取失败：%s (cannot read)", name, xs_strerror(err));
    s_renew(w);
    return err;
}

/* A meta value (s_looked). XS_ESTORE when the snapshot could not be renewed (reported when it
 * ended), as for each lookup below. */
static xs_err s_meta(s_walk_t *w, node_meta_key key, xs_bytes_t *v) {
    if (!w->look)
        return XS_ESTORE;
    return s_looked(w, node_meta_get(w->look, key, v), "节点信息 %s", node_meta_name(key));
}

/* The bytes of record seq (s_looked). */
static xs_err s_record_bytes(s_walk_t *w, uint64_t seq, xs_bytes_t *v) {
    if (!w->look)
        return XS_ESTORE;
    return s_looked(w, node_record_get(w->look, seq, v), "记录 %llu", (unsigned long long)seq);
}

/* The record seq, decoded: XS_ENOTFOUND, XS_ECORRUPT (silently: the records table's own walk
 * reports it) or a store error (reported). */
static xs_err s_record(s_walk_t *w, uint64_t seq, xs_bytes_t *val, xs_record_t *rec) {
    char why[NODE_WHY_MAX];
    xs_err err = s_record_bytes(w, seq, val);
    return err == XS_OK ? s_record_decode(val, rec, why) : err;
}

/* The seq a dedupe key names, 0 when its value is damaged (s_looked). */
static xs_err s_dedupe(s_walk_t *w, const node_dedupe_t *key, uint64_t *seq) {
    char shown[80];
    if (!w->look)
        return XS_ESTORE;
    return s_looked(w, node_dedupe_get(w->look, key, seq), "去重索引 %s",
                    s_show(key->bytes, key->len, shown));
}

/* A satellite's chain entry for its batch at first. XS_ECORRUPT, unreported, when the entry
 * is damaged (the chain's own walk reports that) or the store is: the snapshot is renewed. */
static xs_err s_link(s_walk_t *w, const uint8_t *origin, uint64_t first, xs_chain_entry_t *e) {
    if (!w->look)
        return XS_ESTORE;
    xs_err err = node_lane_entry(w->look, origin, first, e);
    if (err == XS_ECORRUPT) {
        s_renew(w);
        return err;
    }
    return s_looked(w, err, "卫星校批次链 %llu", (unsigned long long)first);
}

/* A satellite's batch envelope at first (s_looked). */
static xs_err s_sat_batch(s_walk_t *w, const uint8_t *origin, uint64_t first, xs_bytes_t *env) {
    node_lane_t lane = node_lane_satellite(origin);
    if (!w->look)
        return XS_ESTORE;
    return s_looked(w, node_lane_batch_get(w->look, &lane, first, env), "卫星校批次 %llu",
                    (unsigned long long)first);
}

/* ---- meta ---- */

static xs_err s_meta_entry(void *ctx, const xs_bytes_t *name, const xs_bytes_t *v) {
    s_walk_t *w = ctx;
    char shown[80];
    unsigned i = 0;
    s_tick(w);
    while (i < NODE_META_COUNT && !s_is(name, node_meta_name((node_meta_key)i)))
        i++;
    if (i == NODE_META_COUNT) {
        s_problem(w, "节点信息中有未知的键 %s (unknown meta key)",
                  s_show(name->ptr, name->len, shown));
        return XS_OK;
    }
    node_meta_key key = (node_meta_key)i;
    int bad = node_meta_len(key) && v->len != node_meta_len(key);
    switch (key) {
    case NODE_META_FORMAT:
        bad = !s_is(v, NODE_FORMAT);
        break;
    case NODE_META_SCHOOL:
        bad = v->len == 0 || v->len > XS_ID_MAX || !xs_text_utf8_valid(v->ptr, v->len);
        break;
    case NODE_META_HUB:
        bad = v->len < 6 || v->len > 256 || memcmp(v->ptr, "tcp://", 6) != 0;
        break;
    case NODE_META_RELAY:
        bad = !s_is(v, "1");
        break;
    case NODE_META_POLICY: {
        xs_policy_t *policy = NULL;
        /* An older format is out of date, not damaged: the next sync replaces it. */
        xs_err err = xs_policy_decode(&policy, v->ptr, v->len);
        bad = err != XS_OK && err != XS_EVERSION;
        xs_policy_destroy(&policy);
        break;
    }
    case NODE_META_POLICY_ENV:
        if (w->has_county) {
            const uint8_t *blob;
            size_t len;
            bad = 1;
            const uint8_t *county;
            for (size_t k = 0; bad && (county = node_county_key_at(&w->county, k)); k++)
                bad = xs_receipt_policy_open(v->ptr, v->len, county, &blob, &len) != XS_OK;
        }
        break;
    case NODE_META_ROTATIONS:
        /* The chain the node followed must lead to the key in force. */
        if (w->has_county) {
            uint8_t current[XS_SIGN_PK_BYTES];
            size_t n;
            xs_rotation_t *steps = malloc(XS_ROTATION_CHAIN_MAX * sizeof *steps);
            bad = steps && (xs_rotation_follow(v->ptr, v->len, w->county.current, current, steps,
                                               XS_ROTATION_CHAIN_MAX, &n) != XS_OK ||
                            memcmp(current, w->county.current, XS_SIGN_PK_BYTES) != 0);
            free(steps);
        }
        break;
    case NODE_META_ROSTER:
        if (w->has_county && w->id) {
            xs_roster_entry_t *entries = malloc(XS_ROSTER_MAX * sizeof *entries);
            uint32_t count;
            bad = entries != NULL;
            const uint8_t *county;
            for (size_t k = 0; entries && bad && (county = node_county_key_at(&w->county, k)); k++)
                bad = xs_roster_open(v->ptr, v->len, county, xs_identity_public(w->id)->sign,
                                     entries, XS_ROSTER_MAX, &count, NULL) != XS_OK;
            free(entries);
        }
        break;
    default:
        break;
    }
    if (bad)
        s_problem(w, "节点信息 %s 的值损坏 (meta value damaged)", node_meta_name(key));
    return XS_OK;
}

static void s_check_meta(s_walk_t *w) {
    xs_bytes_t v;
    s_walked(w, node_meta_each(w->txn, s_meta_entry, w));
    if (s_meta(w, NODE_META_FORMAT, &v) == XS_ENOTFOUND)
        s_problem(w, "节点信息缺少 format (meta lacks format)");
    if (s_meta(w, NODE_META_SCHOOL, &v) == XS_ENOTFOUND)
        s_problem(w, "节点信息缺少学校编号 (meta lacks the school)");
}

/* ---- records ---- */

/* The records walk: sequence numbers run from 1 without holes; w->next_seq is the next. */
static xs_err s_record_entry(void *ctx, uint64_t seq, const xs_bytes_t *k, const xs_bytes_t *v) {
    s_walk_t *w = ctx;
    xs_record_t rec, target;
    xs_bytes_t tv;
    char why[NODE_WHY_MAX], shown[80];
    s_tick(w);
    if (seq == 0) {
        s_problem(w, "记录表中有损坏的键 %s (damaged key)", s_show(k->ptr, k->len, shown));
        return XS_OK;
    }
    if (seq > w->next_seq)
        s_problem(w, "记录 %llu 至 %llu 缺失 (records missing)", (unsigned long long)w->next_seq,
                  (unsigned long long)(seq - 1));
    else if (seq < w->next_seq)
        s_problem(w, "记录 %llu 排在 %llu 之后 (out of order)", (unsigned long long)seq,
                  (unsigned long long)(w->next_seq - 1));
    if (seq >= w->next_seq)
        w->next_seq = seq + 1;
    if (s_record_decode(v, &rec, why) != XS_OK) {
        s_problem(w, "记录 %llu 数据已损坏 (record %llu is corrupted): %s", (unsigned long long)seq,
                  (unsigned long long)seq, why);
        return XS_OK;
    }
    if (w->school[0] && (rec.school_id.len != strlen(w->school) ||
                         memcmp(rec.school_id.ptr, w->school, rec.school_id.len) != 0))
        s_problem(w, "记录 %llu 的学校编号不是本节点的 (record %llu: not this node's school)",
                  (unsigned long long)seq, (unsigned long long)seq);
    if (rec.kind == XS_KIND_REVIEW) {
        xs_err err = rec.reviews < seq ? s_record(w, rec.reviews, &tv, &target) : XS_EINVAL;
        if (err == XS_EINVAL || err == XS_ENOTFOUND)
            s_problem(w,
                      "审核记录 %llu 所指的记录 %llu 不存在 (review %llu names no earlier "
                      "record)",
                      (unsigned long long)seq, (unsigned long long)rec.reviews,
                      (unsigned long long)seq);
        else if (err == XS_OK && target.kind != XS_KIND_ACTIVITY)
            s_problem(w, "审核记录 %llu 所指的记录 %llu 不是活动 (review of a non-activity)",
                      (unsigned long long)seq, (unsigned long long)rec.reviews);
        return XS_OK;
    }
    if (rec.kind != XS_KIND_CORRECTION)
        return XS_OK;
    xs_err err = rec.voids < seq ? s_record(w, rec.voids, &tv, &target) : XS_EINVAL;
    if (err == XS_EINVAL || err == XS_ENOTFOUND)
        s_problem(w,
                  "更正记录 %llu 所指的记录 %llu 不存在 (correction %llu voids no earlier "
                  "record)",
                  (unsigned long long)seq, (unsigned long long)rec.voids, (unsigned long long)seq);
    else if (err == XS_OK && target.kind != XS_KIND_ACTIVITY)
        s_problem(w, "更正记录 %llu 所指的记录 %llu 不是活动 (correction voids a correction)",
                  (unsigned long long)seq, (unsigned long long)rec.voids);
    return XS_OK;
}

static void s_check_records(s_walk_t *w) {
    w->next_seq = 1;
    s_walked(w, node_records_raw(w->txn, s_record_entry, w));
}

/* ---- dedupe ---- */

/* A dedupe entry: its seq exists, and that record has this very key. */
static xs_err s_dedupe_entry(void *ctx, const xs_bytes_t *k, uint64_t seq) {
    s_walk_t *w = ctx;
    xs_record_t rec;
    xs_bytes_t rv;
    node_dedupe_t key;
    char shown[80];
    s_tick(w);
    if (seq == 0) {
        s_problem(w, "去重索引 %s 的值损坏 (damaged dedupe value)", s_show(k->ptr, k->len, shown));
        return XS_OK;
    }
    xs_err err = s_record(w, seq, &rv, &rec);
    if (err == XS_ENOTFOUND)
        s_problem(w, "去重索引 %s 指向不存在的记录 %llu (points at no record)",
                  s_show(k->ptr, k->len, shown), (unsigned long long)seq);
    if (err != XS_OK)
        return XS_OK;
    node_dedupe_key(&rec, &key);
    if (key.len != k->len || memcmp(key.bytes, k->ptr, key.len) != 0)
        s_problem(w, "去重索引 %s 与记录 %llu 的内容不符 (does not match the record)",
                  s_show(k->ptr, k->len, shown), (unsigned long long)seq);
    return XS_OK;
}

/* A record's dedupe key is in the index, for it or an earlier record with the same key. */
static xs_err s_dedupe_record(void *ctx, uint64_t seq, const xs_bytes_t *k, const xs_bytes_t *v) {
    s_walk_t *w = ctx;
    xs_record_t rec;
    node_dedupe_t key;
    uint64_t named;
    char why[NODE_WHY_MAX];
    (void)k;
    if (seq == 0 || s_record_decode(v, &rec, why) != XS_OK)
        return XS_OK; /* the records table's walk reports it */
    node_dedupe_key(&rec, &key);
    xs_err err = s_dedupe(w, &key, &named);
    if (err == XS_ENOTFOUND)
        s_problem(w, "记录 %llu 不在去重索引中 (record %llu is missing from the dedupe index)",
                  (unsigned long long)seq, (unsigned long long)seq);
    else if (err == XS_OK && (named == 0 || named > seq))
        s_problem(w,
                  "记录 %llu 的去重索引指向别处 (record %llu: its dedupe entry points "
                  "elsewhere)",
                  (unsigned long long)seq, (unsigned long long)seq);
    return XS_OK;
}

static void s_check_dedupe(s_walk_t *w) {
    s_walked(w, node_dedupe_each(w->txn, s_dedupe_entry, w));
    /* The records' own child reports what stops this walk. */
    xs_err err = node_records_raw(w->txn, s_dedupe_record, w);
    (void)err;
}

/* ---- batches ---- */

/* Every record of an opened batch is the records table's, byte for byte. */
static void s_batch_records(s_walk_t *w, const xs_batch_t *b) {
    xs_batch_iter_t it;
    xs_batch_entry_t e;
    xs_bytes_t v;
    xs_batch_iter_init(&it, b);
    while (xs_batch_next(&it, &e, NULL) == XS_OK) {
        xs_err err = s_record_bytes(w, e.seq, &v);
        if (err == XS_ENOTFOUND)
            s_problem(w, "批次 %llu 中的记录 %llu 不在记录表中 (sealed record missing)",
                      (unsigned long long)b->first_seq, (unsigned long long)e.seq);
        else if (err == XS_OK && (v.len != e.len || memcmp(v.ptr, e.bytes, e.len) != 0))
            s_problem(w,
                      "记录 %llu 与已签名批次 %llu 中的副本不一致 (record %llu differs from "
                      "its signed copy)",
                      (unsigned long long)e.seq, (unsigned long long)b->first_seq,
                      (unsigned long long)e.seq);
    }
}

static xs_err s_batch_entry(void *ctx, const node_lane_raw_t *entry) {
    s_walk_t *w = ctx;
    xs_batch_t b;
    char shown[80];
    s_tick(w);
    if (entry->damaged) {
        s_problem(w, "批次表中有损坏的键 %s (damaged key)",
                  s_show(entry->key.ptr, entry->key.len, shown));
        w->next_seq = 0;
        w->has_hash = 0;
        return XS_OK;
    }
    uint64_t first = entry->first_seq;
    xs_err err = xs_batch_open(entry->value.ptr, entry->value.len, &b);
    if (err != XS_OK) {
        s_problem(w, "批次 %llu 无法打开：%s (the batch does not open)", (unsigned long long)first,
                  xs_strerror(err));
        w->next_seq = 0;
        w->has_hash = 0;
        return XS_OK;
    }
    w->batches++;
    if (b.first_seq != first)
        s_problem(w, "批次 %llu 存放在键 %llu 下 (stored under another key)",
                  (unsigned long long)b.first_seq, (unsigned long long)first);
    if (w->id && memcmp(b.origin, xs_identity_public(w->id)->sign, XS_SIGN_PK_BYTES) != 0)
        s_problem(w, "批次 %llu 不是本节点的密钥签名的 (not signed by this node's key)",
                  (unsigned long long)b.first_seq);
    if (w->next_seq && b.first_seq != w->next_seq)
        s_problem(w, "批次 %llu 应从记录 %llu 开始 (the chain expects first_seq %llu)",
                  (unsigned long long)b.first_seq, (unsigned long long)w->next_seq,
                  (unsigned long long)w->next_seq);
    else if (w->has_hash && (!b.has_prev_hash || memcmp(b.prev_hash, w->hash, 32) != 0))
        s_problem(w, "批次 %llu 的 prev_hash 与上一批不符 (does not chain to the previous batch)",
                  (unsigned long long)b.first_seq);
    s_batch_records(w, &b);
    w->next_seq = b.first_seq + b.count;
    memcpy(w->hash, b.hash, 32);
    w->has_hash = 1;
    return XS_OK;
}

static void s_check_batches(s_walk_t *w) {
    node_lane_t self = node_lane_self();
    xs_bytes_t v;
    uint64_t sealed = 0;
    w->next_seq = 1;
    s_walked(w, node_lane_raw_batches(w->txn, &self, s_batch_entry, w));
    xs_err err = s_meta(w, NODE_META_SEALED_THROUGH, &v);
    if (err == XS_OK && node_meta_u64(&v, &sealed) != XS_OK)
        return; /* reported by meta's walk */
    if (err != XS_OK && err != XS_ENOTFOUND)
        return; /* reported just now */
    err = s_meta(w, NODE_META_HEAD_HASH, &v);
    if (w->next_seq && sealed != w->next_seq - 1)
        s_problem(w,
                  "节点信息 sealed_through 为 %llu，批次封装到 %llu (meta sealed_through "
                  "disagrees with the last batch)",
                  (unsigned long long)sealed, (unsigned long long)(w->next_seq - 1));
    if (w->has_hash && (err != XS_OK || v.len != 32 || memcmp(v.ptr, w->hash, 32) != 0))
        s_problem(w, "节点信息 head_hash 与最后一批的哈希不符 (meta head_hash disagrees with the "
                     "last batch)");
    if (w->batches == 0 && w->next_seq == 1 && err == XS_OK)
        s_problem(w, "没有批次，节点信息却有 head_hash (head_hash without batches)");
}

/* ---- receipts ---- */

/* A receipt verifies against the county key and is the keyed teacher's. */
static void s_receipt(s_walk_t *w, const char *teacher, size_t len, const xs_bytes_t *v) {
    char shown[80];
    if (!w->has_county) {
        s_problem(w, "教师 %s 的认定回执无法核对：没有县级中心公钥 (no county key to verify it)",
                  s_show(teacher, len, shown));
        return;
    }
    xs_err err = w->receipt ? node_receipt_open(&w->county, v->ptr, v->len, w->receipt) : XS_ENOMEM;
    if (err != XS_OK)
        s_problem(w, "教师 %s 的认定回执无效：%s (the receipt fails its check)",
                  s_show(teacher, len, shown), xs_strerror(err));
    else if (w->receipt->teacher_id.len != len ||
             memcmp(w->receipt->teacher_id.ptr, teacher, len) != 0)
        s_problem(w, "存在教师 %s 名下的回执属于别人 (a receipt under another teacher)",
                  s_show(teacher, len, shown));
}

static xs_err s_receipt_entry(void *ctx, const char *teacher, size_t len, const xs_bytes_t *env) {
    s_walk_t *w = ctx;
    s_tick(w);
    s_receipt(w, teacher, len, env);
    return XS_OK;
}

static void s_check_receipts(s_walk_t *w) {
    node_lane_t self = node_lane_self();
    w->receipt = malloc(sizeof *w->receipt);
    s_walked(w, node_lane_receipts(w->txn, &self, "", 0, s_receipt_entry, w));
}

/* ---- a relay's satellites ---- */

static xs_err s_sat_batch_entry(void *ctx, const node_lane_raw_t *entry) {
    s_walk_t *w = ctx;
    xs_batch_t b;
    xs_chain_entry_t link;
    char shown[80];
    s_tick(w);
    if (entry->damaged) {
        s_problem(w, "卫星校批次表中有损坏的键 %s (damaged key)",
                  s_show(entry->key.ptr, entry->key.len, shown));
        return XS_OK;
    }
    uint64_t first = entry->first_seq;
    xs_err err = xs_batch_open(entry->value.ptr, entry->value.len, &b);
    if (err != XS_OK) {
        s_problem(w, "卫星校批次 %llu 无法打开：%s (the batch does not open)",
                  (unsigned long long)first, xs_strerror(err));
        return XS_OK;
    }
    if (b.first_seq != first || memcmp(b.origin, entry->origin, 32) != 0)
        s_problem(w, "卫星校批次 %llu 存放在别的键下 (stored under another key)",
                  (unsigned long long)b.first_seq);
    err = s_link(w, entry->origin, first, &link);
    if (err == XS_ENOTFOUND || err == XS_ECORRUPT ||
        (err == XS_OK && (link.count != b.count || memcmp(link.hash, b.hash, 32) != 0)))
        s_problem(w, "卫星校批次 %llu 与批次链记载的不符 (disagrees with the chain table)",
                  (unsigned long long)b.first_seq);
    return XS_OK;
}

static void s_check_sat_batches(s_walk_t *w) {
    s_walked(w, node_lane_raw_batches(w->txn, NULL, s_sat_batch_entry, w));
}

static xs_err s_sat_chain_entry(void *ctx, const node_lane_link_t *link) {
    s_walk_t *w = ctx;
    xs_bytes_t envelope;
    char shown[80];
    s_tick(w);
    if (link->head)
        return XS_OK; /* the satellite's head beside its entries (xs/chain.h) */
    if (link->damaged) {
        s_problem(w, "卫星校批次链 %s 损坏 (damaged chain entry)",
                  s_show(link->key.ptr, link->key.len, shown));
        return XS_OK;
    }
    if (s_sat_batch(w, link->origin, link->entry.first_seq, &envelope) == XS_ENOTFOUND)
        s_problem(w, "卫星校批次链 %llu 没有对应的批次 (a chain entry without its batch)",
                  (unsigned long long)link->entry.first_seq);
    return XS_OK;
}

static void s_check_sat_chain(s_walk_t *w) {
    s_walked(w, node_lane_links(w->txn, s_sat_chain_entry, w));
}

static xs_err s_sat_state_entry(void *ctx, const node_lane_state_t *state) {
    s_walk_t *w = ctx;
    char shown[80];
    s_tick(w);
    if (state->damaged)
        s_problem(w, "卫星校同步状态 %s 损坏 (damaged state entry)",
                  s_show(state->key.ptr, state->key.len, shown));
    return XS_OK;
}

static void s_check_sat_state(s_walk_t *w) {
    s_walked(w, node_lane_states(w->txn, s_sat_state_entry, w));
}

static xs_err s_sat_receipt_entry(void *ctx, const node_lane_raw_t *entry) {
    s_walk_t *w = ctx;
    char shown[80];
    s_tick(w);
    if (entry->damaged)
        s_problem(w, "%s 表中有损坏的键 %s (damaged key)", node_tables[w->table],
                  s_show(entry->key.ptr, entry->key.len, shown));
    else
        s_receipt(w, entry->teacher, entry->teacher_len, &entry->value);
    return XS_OK;
}

static void s_check_sat_receipts(s_walk_t *w) {
    w->receipt = malloc(sizeof *w->receipt);
    s_walked(w, node_lane_raw_receipts(w->txn, s_sat_receipt_entry, w));
}

/* ---- the teacher roster's parts ---- */

static xs_err s_staff_entry(void *ctx, const xs_bytes_t *key, const xs_bytes_t *part) {
    s_walk_t *w = ctx;
    char shown[80];
    xs_staff_t staff;
    s_tick(w);
    if (key->len != XS_SIGN_PK_BYTES) {
        s_problem(w, "教师花名册表中有损坏的键 %s (damaged key)",
                  s_show(key->ptr, key->len, shown));
        return XS_OK;
    }
    if (!w->has_county)
        return XS_OK; /* nothing to open it against: the meta walk reports a missing key */
    xs_err err = XS_ECRYPTO;
    const uint8_t *county;
    for (size_t i = 0; err == XS_ECRYPTO && (county = node_county_key_at(&w->county, i)); i++)
        err = xs_staff_part_open(part->ptr, part->len, county, key->ptr, &staff);
    if (err == XS_OK)
        xs_staff_free(&staff);
    else
        s_problem(w,
                  "节点 %s 的教师花名册无法用县级中心的公钥打开：%s；下次同步会重新取得 (the "
                  "roster part does not open against the county key for its origin)",
                  s_show(key->ptr, key->len, shown), xs_strerror(err));
    return XS_OK;
}

static void s_check_staff(s_walk_t *w) {
    s_walked(w, node_staff_each(w->txn, s_staff_entry, w));
}

/* ---- one child ---- */

/* Each table's check, in the order of enum node_table (node.h), as s_labels. */
static void (*const s_checks[])(s_walk_t *w) = {
    s_check_meta,         s_check_records,     s_check_dedupe,    s_check_batches,
    s_check_receipts,     s_check_sat_batches, s_check_sat_chain, s_check_sat_state,
    s_check_sat_receipts, s_check_staff,
};
_Static_assert(sizeof s_checks / sizeof s_checks[0] == NODE_CHECK_KEY_FILE, "a check per table");

/* Reads what several walks need from meta: the school and the county key. */
static void s_load_meta(s_walk_t *w) {
    xs_bytes_t v;
    if (s_meta(w, NODE_META_SCHOOL, &v) == XS_OK && v.len > 0 && v.len <= XS_ID_MAX) {
        memcpy(w->school, v.ptr, v.len);
        w->school[v.len] = '\0';
    }
    w->has_county = w->look && node_county_keys(w->look, &w->county) == XS_OK;
}

/* Opens the store read-only and walks w->table; returns the child's exit code. */
static int s_child(s_walk_t *w, const char *dir) {
    char path[4096], line[48];
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return 1;
    unsigned tables = NODE_T_COUNT;
    xs_err err = xs_store_open_readonly(&w->store, path, node_tables, tables);
    /* A store of the release before the roster, not opened since: no staff table yet, which
     * the next command that opens it creates. The rest is checked; the roster holds nothing. */
    if (err == XS_ENOTFOUND) {
        tables = NODE_T_STAFF;
        err = xs_store_open_readonly(&w->store, path, node_tables, tables);
    }
    if (err == XS_OK && (err = xs_store_read(w->store, &w->txn)) == XS_OK)
        err = xs_store_read(w->store, &w->look);
    if (err != XS_OK) {
        s_problem(w, "无法打开数据库：%s (the store cannot be opened)", xs_strerror(err));
        return S_EXIT_NO_STORE;
    }
    s_load_meta(w);
    if (w->table < tables)
        s_checks[w->table](w);
    int n = snprintf(line, sizeof line, "E %llu\n", (unsigned long long)w->entries);
    s_send(w, line, (size_t)n);
    /* The child ends with _exit: nothing of the parent's (stdio buffers, atexit) runs twice,
     * so what it opened is left to the kernel. */
    return 0;
}

/* ---- the parent ---- */

/* Reads the child's lines until it closes the pipe, passing problems on. */
static void s_read_child(int fd, node_check_table_t *t, const node_check_sink_t *sink) {
    FILE *in = fdopen(fd, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if (!in) {
        close(fd);
        return;
    }
    while ((n = getline(&line, &cap, in)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (n >= 2 && line[0] == 'P' && line[1] == ' ') {
            t->problems++;
            if (sink->problem)
                sink->problem(sink->ctx, t->table, line + 2);
        } else if (n >= 2 && (line[0] == 'N' || line[0] == 'E') && line[1] == ' ') {
            t->entries = strtoull(line + 2, NULL, 10);
            t->complete = line[0] == 'E';
        }
    }
    free(line);
    fclose(in);
}

/* Walks one table in a child and waits for it. Returns the child's exit code, -1 when it was
 * killed (reported as a problem), or -2 when it could not be started. */
static int s_run_child(s_walk_t *w, const char *dir, node_check_table_t *t,
                       const node_check_sink_t *sink) {
    int fds[2], status;
    char text[S_LINE_MAX];
    if (pipe(fds) != 0)
        return -2;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -2;
    }
    if (pid == 0) {
        /* A fault here is the parent's to report: no guard, and no core file either. */
        struct rlimit no_core = {0, 0};
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGABRT, SIG_DFL);
        setrlimit(RLIMIT_CORE, &no_core);
        close(fds[0]);
        w->fd = fds[1];
        /* LMDB's own log lines would repeat the problems: progress alone goes to stderr. */
        w->progress_fd = dup(STDERR_FILENO);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        _exit(s_child(w, dir));
    }
    close(fds[1]);
    s_read_child(fds[0], t, sink);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -2;
    if (WIFSIGNALED(status)) {
        char after[96] = "";
        if (t->entries > 0)
            snprintf(after, sizeof after, "，约在第 %llu 条之后 (after about %llu entries)",
                     (unsigned long long)t->entries, (unsigned long long)t->entries);
        snprintf(text, sizeof text,
                 "读取 %s 表时进程因信号 %d 终止%s：数据已损坏 (the walk crashed: the store is "
                 "corrupted)",
                 node_tables[t->table], WTERMSIG(status), after);
        t->problems++;
        if (sink->problem)
            sink->problem(sink->ctx, t->table, text);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

xs_err node_check_run(const char *dir, const node_check_sink_t *sink, uint64_t *problems) {
    char path[4096];
    struct stat st;
    xs_identity_t *id = NULL;
    s_walk_t w;
    *problems = 0;
    if (snprintf(path, sizeof path, "%s/store/data.mdb", dir) >= (int)sizeof path)
        return XS_ETOOBIG;
    if (stat(path, &st) != 0) {
        xs_log("%s 不是已初始化的节点目录，请先运行 xueshi-node init (not an initialised node "
               "directory)",
               dir);
        return XS_ENOTFOUND;
    }
    memset(&w, 0, sizeof w);
    clock_gettime(CLOCK_MONOTONIC, &w.start);
    xs_err err = xs_identity_load(&id, dir, "node");
    if (err != XS_OK) {
        node_check_table_t t = {NODE_CHECK_KEY_FILE, 0, 1, 0};
        char text[S_LINE_MAX];
        snprintf(text, sizeof text,
                 "%s/node.secret 无法读取：%s；无法核对批次的签名者 (the node key cannot be "
                 "read: batch signers not checked)",
                 dir, xs_strerror(err));
        if (sink->problem)
            sink->problem(sink->ctx, NODE_CHECK_KEY_FILE, text);
        if (sink->table)
            sink->table(sink->ctx, &t);
        (*problems)++;
    }
    w.id = id;
    err = XS_OK;
    for (unsigned table = 0; table < NODE_CHECK_KEY_FILE; table++) {
        node_check_table_t t = {table, 0, 0, 0};
        w.table = table;
        int code = s_run_child(&w, dir, &t, sink);
        if (code == -2) {
            err = XS_EIO;
            break;
        }
        if (code > 0 && code != S_EXIT_NO_STORE && !t.complete) {
            char text[S_LINE_MAX];
            snprintf(text, sizeof text, "检查 %s 表未完成 (the walk ended with exit code %d)",
                     node_tables[table], code);
            t.problems++;
            if (sink->problem)
                sink->problem(sink->ctx, table, text);
        }
        *problems += t.problems;
        if (sink->table)
            sink->table(sink->ctx, &t);
        if (code == S_EXIT_NO_STORE)
            break; /* no table can be read: one problem, not one per table */
    }
    xs_identity_destroy(&id);
    return err;
}
