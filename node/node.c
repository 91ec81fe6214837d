/* node: opening a node directory, checking and appending records. */
#include "node.h"

#include <stdio.h>
#include <string.h>

#include "xs/text.h"

static const char *const s_tables[NODE_T_COUNT] = {"meta", "records", "dedupe"};

xs_err node_open(node_t *node, const char *dir) {
    char path[4096];
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    memset(node, 0, sizeof *node);
    node->dir = dir;
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return XS_ETOOBIG;
    FILE *probe = fopen(path, "r");
    if (!probe) {
        xs_log("%s 不是已初始化的节点目录，请先运行 xueshi-node init (not an initialised node "
               "directory)",
               dir);
        return XS_ENOTFOUND;
    }
    fclose(probe);
    xs_err err = xs_store_open(&node->store, path, s_tables, NODE_T_COUNT, 0);
    if (err != XS_OK) {
        xs_log_err(err, "打开数据库 %s (opening the store)", path);
        return err;
    }
    if ((err = xs_store_read(node->store, &txn)) != XS_OK)
        goto out;
    err = xs_store_get(txn, NODE_T_META, "school", 6, &v);
    if (err == XS_OK && v.len <= XS_ID_MAX) {
        memcpy(node->school, v.ptr, v.len);
        node->school[v.len] = '\0';
    } else if (err == XS_OK || err == XS_ENOTFOUND) {
        xs_log("%s 的初始化没有完成，请重新运行 xueshi-node init (initialisation incomplete)",
               dir);
        err = XS_ENOTFOUND;
    }
out:
    xs_store_end(&txn);
    if (err != XS_OK)
        node_close(node);
    return err;
}

void node_close(node_t *node) {
    xs_store_close(&node->store);
}

void node_dedupe_key(const xs_record_t *rec, uint8_t key[NODE_DEDUPE_KEY_BYTES]) {
    uint8_t buf[XS_RECORD_MAX + 8];
    xs_writer_t w;
    if (rec->ref.len > 0) {
        /* The office's own row key identifies the row, whatever else it says. */
        size_t n = 0;
        memcpy(buf, "ref", 4);
        n = 4;
        memcpy(buf + n, rec->school_id.ptr, rec->school_id.len);
        n += rec->school_id.len;
        buf[n++] = 0;
        memcpy(buf + n, rec->ref.ptr, rec->ref.len);
        n += rec->ref.len;
        xs_identity_hash_short(buf, n, key, NODE_DEDUPE_KEY_BYTES);
        return;
    }
    xs_record_t content = *rec;
    content.present &= ~((1u << XS_F_RECORDED_AT) | (1u << XS_F_OPERATOR));
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&content, &w);
    xs_identity_hash_short(w.data, w.len, key, NODE_DEDUPE_KEY_BYTES);
    xs_writer_free(&w);
}

xs_err node_next_seq(xs_txn_t *txn, uint64_t *seq) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t last, val;
    xs_err err = xs_store_cursor_open(txn, NODE_T_RECORDS, &cur);
    if (err != XS_OK)
        return err;
    err = xs_store_cursor_last(cur, &last, &val);
    xs_store_cursor_close(&cur);
    if (err == XS_ENOTFOUND) {
        *seq = 1;
        return XS_OK;
    }
    if (err == XS_OK)
        *seq = xs_store_key_u64(last.ptr) + 1;
    return err;
}

xs_err node_put(xs_txn_t *txn, uint64_t seq, const uint8_t *bytes, size_t len,
                const uint8_t key[NODE_DEDUPE_KEY_BYTES], int skip_known) {
    uint8_t seq_key[8];
    xs_store_u64_key(seq, seq_key);
    xs_err err = xs_store_put(txn, NODE_T_DEDUPE, key, NODE_DEDUPE_KEY_BYTES, seq_key, 8,
                              XS_PUT_NOOVERWRITE);
    if (err == XS_EEXIST && skip_known)
        return XS_EEXIST;
    if (err != XS_OK && err != XS_EEXIST)
        return err;
    return xs_store_put(txn, NODE_T_RECORDS, seq_key, 8, bytes, len, XS_PUT_APPEND);
}

xs_err node_append(xs_txn_t *txn, const uint8_t *bytes, size_t len,
                   const uint8_t key[NODE_DEDUPE_KEY_BYTES], uint64_t *seq) {
    xs_err err = node_next_seq(txn, seq);
    if (err == XS_OK)
        err = node_put(txn, *seq, bytes, len, key, 0);
    return err;
}

xs_reason node_check(const node_t *node, const xs_record_t *rec, long line) {
    xs_field field;
    xs_reason why = xs_record_check(rec, &field);
    if (why == XS_REASON_NONE && rec->kind == XS_KIND_ACTIVITY &&
        rec->date > xs_date_today() + 1) {
        why = XS_REASON_FUTURE_DATE;
        field = XS_F_DATE;
    }
    if (why == XS_REASON_NONE && rec->school_id.len > 0 &&
        (rec->school_id.len != strlen(node->school) ||
         memcmp(rec->school_id.ptr, node->school, rec->school_id.len) != 0)) {
        why = XS_REASON_OUT_OF_SCOPE;
        field = XS_F_SCHOOL_ID;
    }
    if (why != XS_REASON_NONE) {
        char where[64] = "";
        if (line > 0)
            snprintf(where, sizeof where, "第 %ld 行 (line %ld): ", line, line);
        fprintf(stderr, "xueshi-node: %s拒绝登记 (refused): %s: %s (%s)\n", where,
                xs_field_name(field), xs_reason_zh(why), xs_reason_code(why));
    }
    return why;
}

int node_usage(const char *text) {
    fprintf(stderr, "用法 (usage): %s\n", text);
    return 2;
}

xs_err node_args(int argc, char **argv, xs_cli_opt_t *opts, size_t nopts, const char **pos,
                 size_t max_pos, size_t *npos) {
    char msg[256];
    xs_err err = xs_cli_parse(argc, argv, opts, nopts, pos, max_pos, npos, msg, sizeof msg);
    if (err != XS_OK)
        fprintf(stderr, "xueshi-node: %s\n", msg);
    return err;
}
