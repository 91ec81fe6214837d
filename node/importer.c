/* importer: a 学时登记表 recorded chunk by chunk, re-import safe; every refusal handed back. */
#include "importer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/sheet.h"

/* A row ready to store: its encoding lives in the chunk's writer. */
typedef struct s_row {
    size_t offset, len; /* bytes in chunk.encoded */
    node_dedupe_t key;  /* dedupe key */
} s_row_t;

typedef struct s_chunk {
    xs_writer_t encoded; /* the rows' encodings, back to back */
    s_row_t *rows;       /* NODE_IMPORT_CHUNK_ROWS slots */
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

/* One import: what it reads, the chunk being filled, and where it reports. */
typedef struct s_import {
    node_t *node;                   /* the open node */
    const xs_policy_t *policy;      /* names the county's categories; NULL: built-ins */
    const xs_staff_t *staff;        /* the node's part of the roster; NULL or zeroed: none */
    const char *operator_;          /* operator of rows without one, or NULL */
    int64_t now;                    /* recorded_at of every row, unix seconds */
    xs_csv_t *csv;                  /* the sheet, the caller's */
    xs_csv_row_t *row;              /* the row just read */
    xs_sheet_t sheet;               /* its columns, from the header */
    s_chunk_t chunk;                /* rows waiting to be stored */
    const node_import_sink_t *sink; /* where it reports */
    node_import_result_t *out;      /* what it did */
} s_import_t;

/* The Chinese name of a field xs_sheet_row names. */
static const char *s_field_zh(xs_field field) {
    if (field == XS_SHEET_F_ROW)
        return "整行";
    if (field == XS_SHEET_F_NAME)
        return "姓名";
    const char *zh = field < XS_F_COUNT ? xs_field_zh(field) : NULL;
    return zh ? zh : "内容";
}

/* Reports a refused row to the sink and counts it. */
static void s_refused(s_import_t *im, const node_refusal_t *why, xs_field field) {
    im->out->refused++;
    if (im->sink && im->sink->refused)
        im->sink->refused(im->sink->ctx, im->row->line, s_field_zh(field), why->text);
}

/* Words a refusal of xs_sheet_row: the cell's value where the field has a column. */
static void s_sheet_refusal(const s_import_t *im, xs_field field, xs_reason reason, uint32_t cells,
                            node_refusal_t *why) {
    const xs_csv_row_t *row = im->row;
    if (field == XS_SHEET_F_ROW) {
        why->field = NODE_REFUSAL_F_NONE;
        why->why = reason;
        if (cells != im->sheet.count)
            snprintf(why->text, sizeof why->text,
                     "这一行有 %u 格，表头有 %u 格 (the row has %u cells, the header %u) (row: %s)",
                     cells, im->sheet.count, cells, im->sheet.count, xs_reason_code(reason));
        else
            snprintf(why->text, sizeof why->text,
                     "表头为空的一列里填了内容 (a cell under a column without a name) (row: %s)",
                     xs_reason_code(reason));
        return;
    }
    if (field == XS_SHEET_F_NAME) {
        why->field = NODE_REFUSAL_F_NONE;
        why->why = reason;
        snprintf(why->text, sizeof why->text, "姓名：%s (name: %s)", xs_reason_zh(reason),
                 xs_reason_code(reason));
        return;
    }
    for (uint32_t c = 0; c < im->sheet.count && c < row->count; c++)
        if (im->sheet.column[c] == (int8_t)field) {
            node_refusal_set(why, im->policy, field, reason, row->cells[c].ptr, row->cells[c].len);
            return;
        }
    node_refusal_set(why, im->policy, field, reason, NULL, 0);
}

/* Takes the row just read: refuses it (to the sink), or completes it and adds its encoding to
 * the chunk. Returns the chunk writer's error. */
static xs_err s_take_row(s_import_t *im) {
    xs_record_t rec;
    xs_sheet_extra_t extra;
    xs_field field;
    xs_reason reason;
    node_refusal_t why;
    node_refusal_clear(&why);
    if (xs_sheet_row(&im->sheet, im->row, &rec, &extra, &field, &reason) != XS_OK) {
        s_sheet_refusal(im, field, reason, extra.cells, &why);
        s_refused(im, &why, field);
        if (reason == XS_REASON_UNKNOWN_CATEGORY)
            im->out->unknown_category++;
        return XS_OK;
    }
    if (rec.school_id.len == 0) {
        rec.school_id = (xs_str_t){im->node->school, (uint32_t)strlen(im->node->school)};
        rec.present |= 1u << XS_F_SCHOOL_ID;
    }
    if (im->operator_ && rec.operator_.len == 0) {
        rec.operator_ = (xs_str_t){im->operator_, (uint32_t)strlen(im->operator_)};
        rec.present |= 1u << XS_F_OPERATOR;
    }
    rec.recorded_at = im->now;
    rec.present |= 1u << XS_F_RECORDED_AT;
    if (node_check_why(im->node, im->policy, &rec, &why) != XS_REASON_NONE) {
        s_refused(im, &why, why.field);
        if (why.why == XS_REASON_UNKNOWN_CATEGORY)
            im->out->unknown_category++;
        return XS_OK;
    }
    if (!node_staff_why(im->staff, &rec, &why)) {
        s_refused(im, &why, why.field);
        im->out->unknown_teacher++;
        return XS_OK;
    }
    s_chunk_t *c = &im->chunk;
    s_row_t *r = &c->rows[c->count++];
    r->offset = c->encoded.len;
    xs_record_encode(&rec, &c->encoded);
    r->len = c->encoded.len - r->offset;
    node_dedupe_key(&rec, &r->key);
    return xs_writer_err(&c->encoded);
}

/* Stores the chunk's rows, if any, in one durable step and reports it. Returns the store's
 * error (store_failed set). */
static xs_err s_commit(s_import_t *im) {
    s_chunk_t *c = &im->chunk;
    if (c->count == 0)
        return XS_OK;
    xs_err err = xs_store_update(im->node->store, s_store_chunk, c);
    if (err != XS_OK) {
        im->out->store_failed = 1;
        return err;
    }
    im->out->recorded += c->recorded;
    im->out->known += c->known;
    if (im->sink && im->sink->committed)
        im->sink->committed(im->sink->ctx, im->out->recorded, im->out->known, im->out->last_line);
    c->count = 0;
    xs_writer_reset(&c->encoded);
    return XS_OK;
}

/* Says in out->why that the CSV broke where the reader stopped. */
static void s_csv_broken(s_import_t *im) {
    uint32_t line = xs_csv_line(im->csv);
    snprintf(im->out->why, sizeof im->out->why,
             "第 %u 行 (line %u): CSV 格式错误，导入停止；之前的行已登记，改正后重新导入即可 "
             "(broken CSV, import stopped; the rows before it are recorded: fix it and import "
             "again): %s",
             line, line, xs_csv_why(im->csv));
}

/* Reads the header into im->sheet. */
static xs_err s_header(s_import_t *im) {
    char msg[512];
    xs_err err = xs_csv_next(im->csv, im->row);
    if (err == XS_ENOTFOUND) {
        snprintf(im->out->why, sizeof im->out->why, "%s",
                 "是空文件，没有表头 (empty file, no header)");
        return XS_ENOTFOUND;
    }
    if (err != XS_OK) {
        s_csv_broken(im);
        return err == XS_ETOOBIG ? XS_ETOOBIG : XS_ECSV;
    }
    if (xs_sheet_header_policy(&im->sheet, im->row, im->policy, msg, sizeof msg) != XS_OK) {
        snprintf(im->out->why, sizeof im->out->why, "第 1 行 (line 1): %s", msg);
        return XS_EINVAL;
    }
    return XS_OK;
}

/* Reads every row after the header, storing them chunk by chunk; a broken CSV stores the rows
 * before it. */
static xs_err s_rows(s_import_t *im) {
    for (;;) {
        xs_err err = xs_csv_next(im->csv, im->row);
        if (err == XS_OK) {
            im->out->last_line = im->row->line;
            im->out->rows++;
            if (im->sink && im->sink->progress)
                im->sink->progress(im->sink->ctx, im->out->rows);
            if (xs_csv_row_blank(im->row))
                continue;
            if ((err = s_take_row(im)) != XS_OK)
                return err;
            if (im->chunk.count < NODE_IMPORT_CHUNK_ROWS)
                continue;
        } else if (err != XS_ENOTFOUND && err != XS_ECSV && err != XS_ETOOBIG) {
            return err;
        }
        /* A full chunk, the end of the file, or broken CSV: store what came before. */
        xs_err stored = s_commit(im);
        if (stored != XS_OK)
            return stored;
        if (err == XS_ECSV || err == XS_ETOOBIG)
            s_csv_broken(im);
        if (err != XS_OK)
            return err == XS_ENOTFOUND ? XS_OK : err;
    }
}

xs_err node_import_run(node_t *node, const xs_policy_t *policy, const xs_staff_t *staff,
                       xs_csv_t *csv, const char *operator_, int64_t now,
                       const node_import_sink_t *sink, node_import_result_t *out) {
    s_import_t im;
    memset(&im, 0, sizeof im);
    memset(out, 0, sizeof *out);
    out->last_line = 1;
    im.node = node;
    im.policy = policy;
    im.staff = staff;
    im.operator_ = operator_;
    im.now = now;
    im.csv = csv;
    im.sink = sink;
    im.out = out;
    xs_err err = XS_OK;
    im.row = malloc(sizeof *im.row);
    im.chunk.rows = malloc(NODE_IMPORT_CHUNK_ROWS * sizeof *im.chunk.rows);
    xs_writer_init(&im.chunk.encoded, (size_t)NODE_IMPORT_CHUNK_ROWS * XS_RECORD_MAX);
    if (!im.row || !im.chunk.rows) {
        snprintf(out->why, sizeof out->why, "%s", "内存不足 (out of memory)");
        err = XS_ENOMEM;
    }
    if (err == XS_OK)
        err = s_header(&im);
    if (err == XS_OK)
        err = s_rows(&im);
    if (err == XS_ENOMEM && !out->why[0])
        snprintf(out->why, sizeof out->why, "%s", "内存不足 (out of memory)");
    out->stopped = err != XS_OK;
    xs_writer_free(&im.chunk.encoded);
    free(im.chunk.rows);
    free(im.row);
    return err;
}

void node_import_teacher_hint(const node_import_result_t *res, uint32_t staff_version, char *out,
                              size_t cap) {
    if (!cap)
        return;
    out[0] = '\0';
    if (res->unknown_teacher == 0)
        return;
    snprintf(out, cap,
             "%llu 行的教师不在县里的花名册（第 %u 版）中或不属于本校：请核对教师编号，或请县里"
             "更新花名册后再同步 (%llu rows name a teacher not in the county's roster, version %u, "
             "or of another school: check the ids, or have the county update the roster and sync)",
             (unsigned long long)res->unknown_teacher, staff_version,
             (unsigned long long)res->unknown_teacher, staff_version);
}
