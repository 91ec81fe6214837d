/* xueshi-node void: append a correction that voids an earlier activity record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "node.h"
#include "xs/text.h"

#define S_USAGE "xueshi-node void --dir DIR RECORD_ID --reason TEXT [--operator NAME]"

struct s_void {
    uint64_t target;       /* sequence number to void */
    const char *reason;    /* the correction's note */
    const char *operator_; /* who voids it, or NULL */
    uint64_t seq;          /* out: the correction's sequence number */
    const char *refusal;   /* out: why nothing was written, or NULL */
};

/* A walk's step: refuses (XS_EEXIST) when the entry is a correction voiding v->target. */
static xs_err s_voids_target(void *ctx, uint64_t seq, const xs_bytes_t *key,
                             const xs_bytes_t *bytes) {
    struct s_void *v = ctx;
    xs_record_t rec;
    (void)seq;
    (void)key;
    if (xs_record_decode_bytes(bytes->ptr, bytes->len, &rec) == XS_OK &&
        rec.kind == XS_KIND_CORRECTION && rec.voids == v->target) {
        v->refusal = "这条记录已作废 (already voided)";
        return XS_EEXIST;
    }
    return XS_OK;
}

/* Finds the target and whether a correction already voids it, then appends the correction,
 * all in one write transaction so two voids cannot race. */
static xs_err s_void(xs_txn_t *txn, void *ctx) {
    struct s_void *v = ctx;
    xs_bytes_t val;
    xs_record_t target, rec;
    v->refusal = NULL;
    xs_err err = node_record_get(txn, v->target, &val);
    if (err == XS_ENOTFOUND) {
        v->refusal = "没有这条记录 (no such record)";
        return XS_ENOTFOUND;
    }
    if (err != XS_OK)
        return err;
    if ((err = xs_record_decode_bytes(val.ptr, val.len, &target)) != XS_OK)
        return XS_ECORRUPT;
    if (target.kind != XS_KIND_ACTIVITY) {
        v->refusal = "只能作废活动记录 (only activity records can be voided)";
        return XS_EINVAL;
    }
    /* Corrections come after their target: scan from it for one that voids it. */
    if ((err = node_records_raw_from(txn, v->target, s_voids_target, v)) != XS_OK)
        return err;

    xs_record_init(&rec);
    rec.kind = XS_KIND_CORRECTION;
    rec.voids = v->target;
    rec.teacher_id = target.teacher_id;
    rec.school_id = target.school_id;
    rec.note = (xs_str_t){v->reason, (uint32_t)strlen(v->reason)};
    rec.recorded_at = (int64_t)time(NULL);
    rec.present |= (1u << XS_F_VOIDS) | (1u << XS_F_TEACHER_ID) | (1u << XS_F_SCHOOL_ID) |
                   (1u << XS_F_NOTE) | (1u << XS_F_RECORDED_AT);
    if (v->operator_) {
        rec.operator_ = (xs_str_t){v->operator_, (uint32_t)strlen(v->operator_)};
        rec.present |= 1u << XS_F_OPERATOR;
    }
    xs_writer_t w;
    node_dedupe_t dedupe;
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    node_dedupe_key(&rec, &dedupe);
    err = xs_writer_err(&w);
    if (err == XS_OK)
        err = node_append(txn, w.data, w.len, &dedupe, &v->seq);
    xs_writer_free(&w);
    return err;
}

int node_cmd_void(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"reason", 1, NULL}, {"operator", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    uint64_t target;
    node_t node;
    if (node_args(argc, argv, opts, nopts, pos, 1, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || npos != 1)
        return node_usage(S_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir"), *reason = xs_cli_get(opts, nopts, "reason");
    const char *operator_ = xs_cli_get(opts, nopts, "operator");
    if (!dir || !reason)
        return node_usage(S_USAGE);
    if (xs_text_parse_fixed(pos[0], strlen(pos[0]), 0, UINT64_MAX, &target) != XS_OK ||
        target == 0) {
        fprintf(stderr, "xueshi-node: 记录编号无效 (invalid record id): %s\n", pos[0]);
        return 2;
    }
    size_t rlen = strlen(reason);
    if (rlen == 0 || rlen > XS_NOTE_MAX || !xs_text_utf8_valid(reason, rlen) ||
        (operator_ && strlen(operator_) > XS_ID_MAX)) {
        fprintf(stderr, "xueshi-node: --reason 或 --operator 无效 (invalid reason or operator)\n");
        return 2;
    }
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    struct s_void v = {target, reason, operator_, 0, NULL};
    err = xs_store_update(node.store, s_void, &v);
    node_close(&node);
    if (v.refusal) {
        fprintf(stderr, "xueshi-node: 不能作废 %llu (cannot void): %s\n",
                (unsigned long long)target, v.refusal);
        return 2;
    }
    if (err != XS_OK) {
        xs_log_err(err, "作废失败，未写入 (nothing written)");
        return node_exit_code(err, dir);
    }
    printf("已作废 (voided) %llu，更正记录 (correction) %llu\n", (unsigned long long)target,
           (unsigned long long)v.seq);
    return 0;
}
