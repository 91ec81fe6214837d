/* xueshi-node import: bulk-record a school's 学时登记表 CSV, chunk by chunk, re-import safe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h"
#include "xs/csv.h"
#include "xs/sheet.h"

#define S_USAGE "xueshi-node import --dir DIR [--operator NAME] FILE.csv"

/* Rows per write transaction: each chunk commits durably on its own, so a crash loses at
 * most the chunk in flight, which the next import of the same file records. */
#define S_CHUNK_ROWS 8192

/* A row ready to store: its encoding lives in the chunk's writer. */
typedef struct s_row {
    size_t offset, len; /* bytes in chunk.encoded */
    node_dedupe_t key;  /* dedupe key */
} s_row_t;

typedef struct s_chunk {
    xs_writer_t encoded; /* the rows' encodings, back to back */
    s_row_t *rows;       /* S_CHUNK_ROWS slots */
    size_t count;        /* rows waiting */
    uint64_t recorded;   /* out of the step: rows stored */
    uint64_t known;      /* out of the step: rows already recorded */
} s_chunk_t;

/* Stores the chunk's rows in one transaction; rerunnable: counters restart each run. */
static xs_err s_store_chunk(xs_txn_t *txn, void *ctx) {
    s_chunk_t *c = ctx;
    uint64_t seq;
    c->recorded = c->known = 0;
    xs_err err = node_next_seq(txn, &seq);
    for (size_t i = 0; err == XS_OK && i < c->count; i++) {
        const s_row_t *r = &c->rows[i];
        err = node_put(txn, seq, c->encoded.data + r->offset, r->len, &r->key, 1);
        if (err == XS_EEXIST) {
            c->known++;
            err = XS_OK;
        } else if (err == XS_OK) {
            c->recorded++;
            seq++;
        }
    }
    return err;
}

int node_cmd_import(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"operator", 1, NULL}, {"help", 0, NULL}};
    const char *pos[1];
    size_t npos;
    node_t node = {0};
    xs_csv_t *csv = NULL;
    xs_csv_row_t *row = NULL;
    xs_sheet_t sheet;
    s_chunk_t chunk = {0};
    char msg[512];
    uint64_t recorded = 0, known = 0, refused = 0;
    uint32_t last_line = 1;
    int rc = 2, stopped = 1;
    if (node_args(argc, argv, opts, 3, pos, 1, &npos) != XS_OK || opts[2].value || npos != 1 ||
        !opts[0].value)
        return node_usage(S_USAGE);
    const char *path = pos[0], *operator_ = opts[1].value;
    if (operator_ && strlen(operator_) > XS_ID_MAX) {
        fprintf(stderr, "xueshi-node: --operator 过长 (too long)\n");
        return 2;
    }
    if (node_open(&node, opts[0].value) != XS_OK)
        return 1;
    xs_err err = xs_csv_open_file(&csv, path);
    if (err != XS_OK) {
        xs_log_err(err, "无法读取 %s (cannot read)", path);
        goto out;
    }
    row = malloc(sizeof *row);
    chunk.rows = malloc(S_CHUNK_ROWS * sizeof *chunk.rows);
    xs_writer_init(&chunk.encoded, (size_t)S_CHUNK_ROWS * XS_RECORD_MAX);
    if (!row || !chunk.rows) {
        xs_log_err(XS_ENOMEM, "import");
        goto out;
    }
    err = xs_csv_next(csv, row);
    if (err == XS_ENOTFOUND) {
        fprintf(stderr, "xueshi-node: %s 是空文件，没有表头 (empty file, no header)\n", path);
        goto out;
    }
    if (err != XS_OK)
        goto csv_error;
    if (xs_sheet_header(&sheet, row, msg, sizeof msg) != XS_OK) {
        fprintf(stderr, "xueshi-node: %s 第 1 行 (line 1): %s\n", path, msg);
        goto out;
    }
    int64_t now = (int64_t)time(NULL);
    for (;;) {
        err = xs_csv_next(csv, row);
        if (err == XS_OK) {
            xs_record_t rec;
            xs_field field;
            xs_reason why;
            last_line = row->line;
            if (xs_csv_row_blank(row))
                continue;
            if (xs_sheet_row(&sheet, row, &rec, NULL, &field, &why) != XS_OK) {
                fprintf(stderr,
                        "xueshi-node: 第 %u 行 (line %u): 拒绝登记 (refused): %s: %s (%s)\n",
                        row->line, row->line, xs_sheet_field_name(field), xs_reason_zh(why),
                        xs_reason_code(why));
                refused++;
                continue;
            }
            if (rec.school_id.len == 0) {
                rec.school_id = (xs_str_t){node.school, (uint32_t)strlen(node.school)};
                rec.present |= 1u << XS_F_SCHOOL_ID;
            }
            if (operator_ && rec.operator_.len == 0) {
                rec.operator_ = (xs_str_t){operator_, (uint32_t)strlen(operator_)};
                rec.present |= 1u << XS_F_OPERATOR;
            }
            rec.recorded_at = now;
            rec.present |= 1u << XS_F_RECORDED_AT;
            if (node_check(&node, &rec, row->line) != XS_REASON_NONE) {
                refused++;
                continue;
            }
            s_row_t *r = &chunk.rows[chunk.count++];
            r->offset = chunk.encoded.len;
            xs_record_encode(&rec, &chunk.encoded);
            r->len = chunk.encoded.len - r->offset;
            node_dedupe_key(&rec, &r->key);
            if ((err = xs_writer_err(&chunk.encoded)) != XS_OK)
                break;
            if (chunk.count < S_CHUNK_ROWS)
                continue;
        } else if (err != XS_ENOTFOUND && err != XS_ECSV && err != XS_ETOOBIG) {
            break;
        }
        /* A full chunk, the end of the file, or broken CSV: store what came before. */
        if (chunk.count > 0) {
            xs_err serr = xs_store_update(node.store, s_store_chunk, &chunk);
            if (serr != XS_OK) {
                xs_log_err(serr,
                           "第 %u 行之前的一批未写入 (the chunk before line %u was not "
                           "recorded; earlier chunks were)",
                           last_line, last_line);
                rc = 1;
                goto summary;
            }
            recorded += chunk.recorded;
            known += chunk.known;
            printf("已提交 (committed): 新登记 %llu 条，已登记 %llu 条，至第 %u 行 (through line "
                   "%u)\n",
                   (unsigned long long)recorded, (unsigned long long)known, last_line, last_line);
            fflush(stdout);
            chunk.count = 0;
            xs_writer_reset(&chunk.encoded);
        }
        if (err != XS_OK) {
            if (err == XS_ENOTFOUND)
                err = XS_OK;
            break;
        }
    }
    if (err != XS_OK && err != XS_ECSV && err != XS_ETOOBIG) {
        xs_log_err(err, "导入中止 (import stopped)");
        rc = 1;
        goto summary;
    }
    if (err != XS_OK) {
    csv_error:
        fprintf(stderr,
                "xueshi-node: %s 第 %u 行 (line %u): CSV 格式错误，导入停止 (broken CSV, import "
                "stopped): %s\n",
                path, xs_csv_line(csv), xs_csv_line(csv), xs_csv_why(csv));
        rc = 2;
        goto summary;
    }
    rc = refused ? 1 : 0;
    stopped = 0;
summary:
    printf("导入%s (import %s): 新登记 %llu 条 (recorded)，已登记跳过 %llu 条 (already "
           "recorded)，拒绝 %llu 条 (refused)\n",
           stopped ? "中止" : "完成", stopped ? "stopped" : "done", (unsigned long long)recorded,
           (unsigned long long)known, (unsigned long long)refused);
out:
    xs_writer_free(&chunk.encoded);
    free(chunk.rows);
    free(row);
    xs_csv_close(&csv);
    node_close(&node);
    return rc;
}
