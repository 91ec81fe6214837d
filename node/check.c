/* check: reading a stored record safely, and walking a node's whole store for damage.
 *
 * LMDB keeps no checksums, so a flipped byte shows only as bytes that fail their own rules,
 * or as LMDB reading a page it should not, which can crash the reader. Every table is walked
 * by its own forked child, which opens the store read-only and reports each problem as one
 * line on a pipe ("P text"), its progress ("N entries") and its end ("E entries"); the parent
 * never maps the store, so a child killed by a signal is one more problem, and the next table
 * is still checked. */
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

static const char *const s_labels[NODE_T_COUNT + 1] = {
    "节点信息",   "记录",         "去重索引",       "已封装批次", "认定回执",
    "卫星校批次", "卫星校批次链", "卫星校同步状态", "卫星校回执", "节点密钥",
};

const char *node_check_label(unsigned table) {
    return table <= NODE_T_COUNT ? s_labels[table] : "?";
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

xs_err node_record_read(const xs_bytes_t *key, const xs_bytes_t *val, uint64_t *seq,
                        xs_record_t *rec, char why[NODE_WHY_MAX]) {
    xs_field field;
    *seq = 0;
    if (key->len != 8) {
        snprintf(why, NODE_WHY_MAX, "键损坏 (damaged key)");
        return XS_ECORRUPT;
    }
    *seq = xs_store_key_u64(key->ptr);
    if (xs_record_decode_bytes(val->ptr, val->len, rec) != XS_OK) {
        snprintf(why, NODE_WHY_MAX, "无法解码 (cannot be decoded)");
        return XS_ECORRUPT;
    }
    xs_reason reason = xs_record_check(rec, &field);
    if (reason != XS_REASON_NONE) {
        snprintf(why, NODE_WHY_MAX, "不是有效记录：%s %s (not a valid record: %s %s)",
                 xs_field_name(field), xs_reason_zh(reason), xs_field_name(field),
                 xs_reason_code(reason));
        return XS_ECORRUPT;
    }
    return XS_OK;
}

/* ---- the child: one table's walk ---- */

/* One child's walk. */
typedef struct s_walk {
    int fd;                           /* pipe to the parent */
    int progress_fd;                  /* where progress lines go: the check's stderr */
    unsigned table;                   /* the table walked */
    const xs_identity_t *id;          /* this node's key; NULL when it could not be loaded */
    struct timespec start;            /* when the whole check began */
    xs_store_t *store;                /* opened read-only */
    xs_txn_t *txn;                    /* the snapshot walked */
    xs_txn_t *look;                   /* a second one for lookups: a damaged page they meet
                                         ends that snapshot, not the walk */
    uint64_t entries;                 /* entries read so far */
    char school[XS_ID_MAX + 1];       /* the node's school, "" when meta lacks it */
    int has_county;                   /* 1 when meta holds the county hub's key */
    uint8_t county[XS_SIGN_PK_BYTES]; /* that key */
    xs_receipt_t *receipt;            /* scratch for receipts */
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

/* Counts an entry; tells the parent now and then, and stderr when the check is slow. */
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

/* A lookup in the second snapshot. A store error other than absence is reported, and the
 * snapshot renewed: LMDB ends a transaction that met a damaged page. */
static xs_err s_get(s_walk_t *w, unsigned table, const void *key, size_t klen, xs_bytes_t *val) {
    if (!w->look)
        return XS_ESTORE; /* it could not be renewed: reported when it ended */
    xs_err err = xs_store_get(w->look, table, key, klen, val);
    if (err == XS_OK || err == XS_ENOTFOUND)
        return err;
    char shown[80];
    s_problem(w, "%s 表中 %s 读取失败：%s (cannot read)", node_tables[table],
              s_show(key, klen, shown), xs_strerror(err));
    xs_store_end(&w->look);
    if (xs_store_read(w->store, &w->look) != XS_OK)
        w->look = NULL;
    return err;
}

/* The record seq, decoded from the second snapshot: XS_ENOTFOUND, XS_ECORRUPT (silently: the
 * records table's own walk reports it) or a store error (reported). */
static xs_err s_record(s_walk_t *w, uint64_t seq, xs_bytes_t *val, xs_record_t *rec) {
    uint8_t key[8];
    char why[NODE_WHY_MAX];
    xs_store_u64_key(seq, key);
    xs_err err = s_get(w, NODE_T_RECORDS, key, 8, val);
    if (err != XS_OK)
        return err;
    xs_bytes_t k = {key, 8};
    return node_record_read(&k, val, &seq, rec, why);
}

/* What to do with each entry of the table walked. */
typedef void (*s_entry_fn)(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v);

/* Walks table in w->txn, calling fn on every entry. The child's own table's walk (own 1)
 * counts its entries and reports a walk that stops before the end and an entry count other
 * than the one the table records; another table's walk leaves that to its own child. */
static void s_walk(s_walk_t *w, unsigned table, s_entry_fn fn, int own) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    uint64_t walked = 0, recorded;
    xs_err err = xs_store_cursor_open(w->txn, table, &cur);
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        walked++;
        if (own)
            s_tick(w);
        fn(w, &k, &v);
    }
    xs_store_cursor_close(&cur);
    if (!own)
        return;
    if (err != XS_ENOTFOUND)
        s_problem(w, "读取 %s 表在第 %llu 条之后中断：%s (the walk stopped after %llu entries)",
                  node_tables[table], (unsigned long long)walked, xs_strerror(err),
                  (unsigned long long)walked);
    else if (xs_store_count(w->txn, table, &recorded) == XS_OK && recorded != walked)
        s_problem(w,
                  "%s 表记载有 %llu 条，实际读到 %llu 条 (the table says %llu entries, the "
                  "walk found %llu)",
                  node_tables[table], (unsigned long long)recorded, (unsigned long long)walked,
                  (unsigned long long)recorded, (unsigned long long)walked);
}

/* ---- meta ---- */

/* Meta keys (node.h, NODE_T_META) and the length of their values; 0: any. */
static const struct {
    const char *name;
    size_t len;
} s_meta_keys[] = {
    {"format", 0},       {"school", 0},        {"policy", 0},
    {"hub", 0},          {"hub_keys", 64},     {"sealed_through", 8},
    {"head_hash", 32},   {"acked_through", 8}, {"confirmed_through", 8},
    {"receipts_gen", 8}, {"county_key", 64},   {"policy_env", 0},
    {"roster", 0},       {"relay", 0},
};
#define S_NMETA (sizeof s_meta_keys / sizeof s_meta_keys[0])

static int s_is(const xs_bytes_t *b, const char *s) {
    return b->len == strlen(s) && memcmp(b->ptr, s, b->len) == 0;
}

static void s_meta_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    char shown[80];
    size_t i = 0;
    while (i < S_NMETA && !s_is(k, s_meta_keys[i].name))
        i++;
    if (i == S_NMETA) {
        s_problem(w, "节点信息中有未知的键 %s (unknown meta key)", s_show(k->ptr, k->len, shown));
        return;
    }
    const char *name = s_meta_keys[i].name;
    int bad = s_meta_keys[i].len && v->len != s_meta_keys[i].len;
    if (strcmp(name, "format") == 0) {
        bad = !s_is(v, NODE_FORMAT);
    } else if (strcmp(name, "school") == 0) {
        bad = v->len == 0 || v->len > XS_ID_MAX || !xs_text_utf8_valid(v->ptr, v->len);
    } else if (strcmp(name, "hub") == 0) {
        bad = v->len < 6 || v->len > 256 || memcmp(v->ptr, "tcp://", 6) != 0;
    } else if (strcmp(name, "relay") == 0) {
        bad = !s_is(v, "1");
    } else if (strcmp(name, "policy") == 0) {
        xs_policy_t *policy = NULL;
        bad = xs_policy_decode(&policy, v->ptr, v->len) != XS_OK;
        xs_policy_destroy(&policy);
    } else if (strcmp(name, "policy_env") == 0 && w->has_county) {
        const uint8_t *blob;
        size_t len;
        bad = xs_receipt_policy_open(v->ptr, v->len, w->county, &blob, &len) != XS_OK;
    } else if (strcmp(name, "roster") == 0 && w->has_county && w->id) {
        xs_roster_entry_t *entries = malloc(XS_ROSTER_MAX * sizeof *entries);
        uint32_t count;
        bad = entries && xs_roster_open(v->ptr, v->len, w->county, xs_identity_public(w->id)->sign,
                                        entries, XS_ROSTER_MAX, &count, NULL) != XS_OK;
        free(entries);
    }
    if (bad)
        s_problem(w, "节点信息 %s 的值损坏 (meta value damaged)", name);
}

static void s_check_meta(s_walk_t *w) {
    xs_bytes_t v;
    s_walk(w, NODE_T_META, s_meta_entry, 1);
    if (s_get(w, NODE_T_META, "format", 6, &v) == XS_ENOTFOUND)
        s_problem(w, "节点信息缺少 format (meta lacks format)");
    if (s_get(w, NODE_T_META, "school", 6, &v) == XS_ENOTFOUND)
        s_problem(w, "节点信息缺少学校编号 (meta lacks the school)");
}

/* ---- records ---- */

/* The records walk: sequence numbers run from 1 without holes; w->next_seq is the next. */
static void s_record_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    xs_record_t rec, target;
    xs_bytes_t tv;
    uint64_t seq;
    char why[NODE_WHY_MAX], shown[80];
    xs_err err = node_record_read(k, v, &seq, &rec, why);
    if (seq == 0) {
        s_problem(w, "记录表中有损坏的键 %s (damaged key)", s_show(k->ptr, k->len, shown));
        return;
    }
    if (seq > w->next_seq)
        s_problem(w, "记录 %llu 至 %llu 缺失 (records missing)", (unsigned long long)w->next_seq,
                  (unsigned long long)(seq - 1));
    else if (seq < w->next_seq)
        s_problem(w, "记录 %llu 排在 %llu 之后 (out of order)", (unsigned long long)seq,
                  (unsigned long long)(w->next_seq - 1));
    if (seq >= w->next_seq)
        w->next_seq = seq + 1;
    if (err != XS_OK) {
        s_problem(w, "记录 %llu 数据已损坏 (record %llu is corrupted): %s", (unsigned long long)seq,
                  (unsigned long long)seq, why);
        return;
    }
    if (w->school[0] && (rec.school_id.len != strlen(w->school) ||
                         memcmp(rec.school_id.ptr, w->school, rec.school_id.len) != 0))
        s_problem(w, "记录 %llu 的学校编号不是本节点的 (record %llu: not this node's school)",
                  (unsigned long long)seq, (unsigned long long)seq);
    if (rec.kind != XS_KIND_CORRECTION)
        return;
    err = rec.voids < seq ? s_record(w, rec.voids, &tv, &target) : XS_EINVAL;
    if (err == XS_EINVAL || err == XS_ENOTFOUND)
        s_problem(w,
                  "更正记录 %llu 所指的记录 %llu 不存在 (correction %llu voids no earlier "
                  "record)",
                  (unsigned long long)seq, (unsigned long long)rec.voids, (unsigned long long)seq);
    else if (err == XS_OK && target.kind != XS_KIND_ACTIVITY)
        s_problem(w, "更正记录 %llu 所指的记录 %llu 不是活动 (correction voids a correction)",
                  (unsigned long long)seq, (unsigned long long)rec.voids);
}

static void s_check_records(s_walk_t *w) {
    w->next_seq = 1;
    s_walk(w, NODE_T_RECORDS, s_record_entry, 1);
}

/* ---- dedupe ---- */

/* A dedupe entry: its seq exists, and that record has this very key. */
static void s_dedupe_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    xs_record_t rec;
    xs_bytes_t rv;
    node_dedupe_t key;
    char shown[80];
    if (v->len != 8) {
        s_problem(w, "去重索引 %s 的值损坏 (damaged dedupe value)", s_show(k->ptr, k->len, shown));
        return;
    }
    uint64_t seq = xs_store_key_u64(v->ptr);
    xs_err err = s_record(w, seq, &rv, &rec);
    if (err == XS_ENOTFOUND)
        s_problem(w, "去重索引 %s 指向不存在的记录 %llu (points at no record)",
                  s_show(k->ptr, k->len, shown), (unsigned long long)seq);
    if (err != XS_OK)
        return;
    node_dedupe_key(&rec, &key);
    if (key.len != k->len || memcmp(key.bytes, k->ptr, key.len) != 0)
        s_problem(w, "去重索引 %s 与记录 %llu 的内容不符 (does not match the record)",
                  s_show(k->ptr, k->len, shown), (unsigned long long)seq);
}

/* A record's dedupe key is in the index, for it or an earlier record with the same key. */
static void s_dedupe_record(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    xs_record_t rec;
    xs_bytes_t hit;
    node_dedupe_t key;
    uint64_t seq;
    char why[NODE_WHY_MAX];
    if (node_record_read(k, v, &seq, &rec, why) != XS_OK)
        return; /* the records table's walk reports it */
    node_dedupe_key(&rec, &key);
    xs_err err = s_get(w, NODE_T_DEDUPE, key.bytes, key.len, &hit);
    if (err == XS_ENOTFOUND)
        s_problem(w, "记录 %llu 不在去重索引中 (record %llu is missing from the dedupe index)",
                  (unsigned long long)seq, (unsigned long long)seq);
    else if (err == XS_OK && (hit.len != 8 || xs_store_key_u64(hit.ptr) > seq))
        s_problem(w,
                  "记录 %llu 的去重索引指向别处 (record %llu: its dedupe entry points "
                  "elsewhere)",
                  (unsigned long long)seq, (unsigned long long)seq);
}

static void s_check_dedupe(s_walk_t *w) {
    s_walk(w, NODE_T_DEDUPE, s_dedupe_entry, 1);
    s_walk(w, NODE_T_RECORDS, s_dedupe_record, 0);
}

/* ---- batches ---- */

/* Every record of an opened batch is the records table's, byte for byte. */
static void s_batch_records(s_walk_t *w, const xs_batch_t *b) {
    xs_batch_iter_t it;
    xs_batch_entry_t e;
    xs_bytes_t v;
    uint8_t key[8];
    xs_batch_iter_init(&it, b);
    while (xs_batch_next(&it, &e, NULL) == XS_OK) {
        xs_store_u64_key(e.seq, key);
        xs_err err = s_get(w, NODE_T_RECORDS, key, 8, &v);
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

static void s_batch_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    xs_batch_t b;
    char shown[80];
    if (k->len != 8) {
        s_problem(w, "批次表中有损坏的键 %s (damaged key)", s_show(k->ptr, k->len, shown));
        w->next_seq = 0;
        w->has_hash = 0;
        return;
    }
    uint64_t first = xs_store_key_u64(k->ptr);
    xs_err err = xs_batch_open(v->ptr, v->len, &b);
    if (err != XS_OK) {
        s_problem(w, "批次 %llu 无法打开：%s (the batch does not open)", (unsigned long long)first,
                  xs_strerror(err));
        w->next_seq = 0;
        w->has_hash = 0;
        return;
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
}

static void s_check_batches(s_walk_t *w) {
    xs_bytes_t v;
    uint64_t sealed = 0;
    w->next_seq = 1;
    s_walk(w, NODE_T_BATCHES, s_batch_entry, 1);
    xs_err err = s_get(w, NODE_T_META, "sealed_through", 14, &v);
    if (err == XS_OK && v.len == 8)
        sealed = xs_store_key_u64(v.ptr);
    else if (err != XS_ENOTFOUND)
        return; /* reported by meta's walk, or just now */
    err = s_get(w, NODE_T_META, "head_hash", 9, &v);
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

/* A receipt verifies against the county key and is the keyed teacher's; prefix bytes of the
 * key (a satellite's origin) come before the teacher. */
static void s_receipt(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v, size_t prefix) {
    char shown[80];
    if (k->len <= prefix) {
        s_problem(w, "%s 表中有损坏的键 %s (damaged key)", node_tables[w->table],
                  s_show(k->ptr, k->len, shown));
        return;
    }
    const char *teacher = (const char *)k->ptr + prefix;
    size_t len = k->len - prefix;
    if (!w->has_county) {
        s_problem(w, "教师 %s 的认定回执无法核对：没有县级中心公钥 (no county key to verify it)",
                  s_show(teacher, len, shown));
        return;
    }
    xs_err err = w->receipt ? xs_receipt_open(v->ptr, v->len, w->county, w->receipt) : XS_ENOMEM;
    if (err != XS_OK)
        s_problem(w, "教师 %s 的认定回执无效：%s (the receipt fails its check)",
                  s_show(teacher, len, shown), xs_strerror(err));
    else if (w->receipt->teacher_id.len != len ||
             memcmp(w->receipt->teacher_id.ptr, teacher, len) != 0)
        s_problem(w, "存在教师 %s 名下的回执属于别人 (a receipt under another teacher)",
                  s_show(teacher, len, shown));
}

static void s_receipt_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    s_receipt(w, k, v, 0);
}

static void s_sat_receipt_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    s_receipt(w, k, v, 32);
}

/* ---- a relay's satellites ---- */

static void s_sat_batch_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    xs_batch_t b;
    xs_bytes_t chain;
    char shown[80];
    if (k->len != XS_CHAIN_KEY_BYTES) {
        s_problem(w, "卫星校批次表中有损坏的键 %s (damaged key)", s_show(k->ptr, k->len, shown));
        return;
    }
    uint64_t first = xs_store_key_u64((const uint8_t *)k->ptr + 32);
    xs_err err = xs_batch_open(v->ptr, v->len, &b);
    if (err != XS_OK) {
        s_problem(w, "卫星校批次 %llu 无法打开：%s (the batch does not open)",
                  (unsigned long long)first, xs_strerror(err));
        return;
    }
    if (b.first_seq != first || memcmp(b.origin, k->ptr, 32) != 0)
        s_problem(w, "卫星校批次 %llu 存放在别的键下 (stored under another key)",
                  (unsigned long long)b.first_seq);
    /* The chain entry (node.h, NODE_T_SAT_CHAIN): count (4, big-endian), then the hash. */
    err = s_get(w, NODE_T_SAT_CHAIN, k->ptr, k->len, &chain);
    const uint8_t *c = chain.ptr;
    if (err == XS_ENOTFOUND || (err == XS_OK && (chain.len != 36 ||
                                                 ((uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 |
                                                  (uint32_t)c[2] << 8 | c[3]) != b.count ||
                                                 memcmp(c + 4, b.hash, 32) != 0)))
        s_problem(w, "卫星校批次 %llu 与批次链记载的不符 (disagrees with the chain table)",
                  (unsigned long long)b.first_seq);
}

static void s_sat_chain_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    xs_bytes_t envelope;
    char shown[80];
    if (k->len != XS_CHAIN_KEY_BYTES || v->len != 36) {
        s_problem(w, "卫星校批次链 %s 损坏 (damaged chain entry)", s_show(k->ptr, k->len, shown));
        return;
    }
    if (s_get(w, NODE_T_SAT_BATCHES, k->ptr, k->len, &envelope) == XS_ENOTFOUND)
        s_problem(w, "卫星校批次链 %llu 没有对应的批次 (a chain entry without its batch)",
                  (unsigned long long)xs_store_key_u64((const uint8_t *)k->ptr + 32));
}

static void s_sat_state_entry(s_walk_t *w, const xs_bytes_t *k, const xs_bytes_t *v) {
    char shown[80];
    xs_bytes_t name = {(const uint8_t *)k->ptr + 32, k->len > 32 ? k->len - 32 : 0};
    if (k->len <= 32 || (!s_is(&name, "acked_through") && !s_is(&name, "receipts_gen")) ||
        v->len != 8)
        s_problem(w, "卫星校同步状态 %s 损坏 (damaged state entry)", s_show(k->ptr, k->len, shown));
}

/* ---- one child ---- */

/* Reads what several walks need from meta: the school and the county key. */
static void s_load_meta(s_walk_t *w) {
    xs_bytes_t v;
    if (s_get(w, NODE_T_META, "school", 6, &v) == XS_OK && v.len > 0 && v.len <= XS_ID_MAX) {
        memcpy(w->school, v.ptr, v.len);
        w->school[v.len] = '\0';
    }
    w->has_county = w->look && node_county_key(w->look, w->county) == XS_OK;
}

/* Opens the store read-only and walks w->table; returns the child's exit code. */
static int s_child(s_walk_t *w, const char *dir) {
    char path[4096], line[48];
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return 1;
    xs_err err = xs_store_open_readonly(&w->store, path, node_tables, NODE_T_COUNT);
    if (err == XS_OK && (err = xs_store_read(w->store, &w->txn)) == XS_OK)
        err = xs_store_read(w->store, &w->look);
    if (err != XS_OK) {
        s_problem(w, "无法打开数据库：%s (the store cannot be opened)", xs_strerror(err));
        return S_EXIT_NO_STORE;
    }
    s_load_meta(w);
    switch (w->table) {
    case NODE_T_META:
        s_check_meta(w);
        break;
    case NODE_T_RECORDS:
        s_check_records(w);
        break;
    case NODE_T_DEDUPE:
        s_check_dedupe(w);
        break;
    case NODE_T_BATCHES:
        s_check_batches(w);
        break;
    case NODE_T_RECEIPTS:
        w->receipt = malloc(sizeof *w->receipt);
        s_walk(w, NODE_T_RECEIPTS, s_receipt_entry, 1);
        break;
    case NODE_T_SAT_BATCHES:
        s_walk(w, NODE_T_SAT_BATCHES, s_sat_batch_entry, 1);
        break;
    case NODE_T_SAT_CHAIN:
        s_walk(w, NODE_T_SAT_CHAIN, s_sat_chain_entry, 1);
        break;
    case NODE_T_SAT_STATE:
        s_walk(w, NODE_T_SAT_STATE, s_sat_state_entry, 1);
        break;
    case NODE_T_SAT_RECEIPTS:
        w->receipt = malloc(sizeof *w->receipt);
        s_walk(w, NODE_T_SAT_RECEIPTS, s_sat_receipt_entry, 1);
        break;
    default:
        break;
    }
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
        node_check_table_t t = {NODE_T_COUNT, 0, 1, 0};
        char text[S_LINE_MAX];
        snprintf(text, sizeof text,
                 "%s/node.secret 无法读取：%s；无法核对批次的签名者 (the node key cannot be "
                 "read: batch signers not checked)",
                 dir, xs_strerror(err));
        if (sink->problem)
            sink->problem(sink->ctx, NODE_T_COUNT, text);
        if (sink->table)
            sink->table(sink->ctx, &t);
        (*problems)++;
    }
    w.id = id;
    err = XS_OK;
    for (unsigned table = 0; table < NODE_T_COUNT; table++) {
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
