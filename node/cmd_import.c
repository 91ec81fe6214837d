/* xueshi-node import: bulk-record a school's 学时登记表 CSV, chunk by chunk, re-import safe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "node.h"
#include "staff.h"
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

/* One import: the sheet being read, the chunk being filled, and what happened so far. */
typedef struct s_import {
    node_t node;               /* the open node */
    xs_policy_t *policy;       /* its policy, naming the county's categories; NULL: built-ins */
    xs_staff_t staff;          /* its part of the county's roster; zeroed: none held */
    const char *path;          /* the sheet's file */
    const char *operator_;     /* --operator, or NULL */
    int64_t now;               /* recorded_at of every row, unix seconds */
    xs_csv_t *csv;             /* the sheet */
    xs_csv_row_t *row;         /* the row just read */
    xs_sheet_t sheet;          /* its columns, from the header */
    s_chunk_t chunk;           /* rows waiting to be stored */
    uint64_t recorded;         /* rows stored by committed chunks */
    uint64_t known;            /* rows found already recorded */
    uint64_t refused;          /* rows refused */
    uint64_t unknown_category; /* of which for a category the node does not know */
    uint64_t unknown_teacher;  /* of which for a teacher not in the roster (or its school) */
    uint32_t last_line;        /* line of the last row read */
    int header_broken;         /* 1 when the CSV broke in the header (printed) */
    int commit_failed;         /* 1 when a chunk was not stored (printed) */
} s_import_t;

/* Reads the options; XS_EINVAL, with the usage or the refusal printed, when they are not an
 * import (exit code 2). */
static xs_err s_parse(int argc, char **argv, s_import_t *im, const char **dir) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"operator", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    if (node_args(argc, argv, opts, nopts, pos, 1, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || npos != 1 || !(*dir = xs_cli_get(opts, nopts, "dir"))) {
        node_usage(S_USAGE);
        return XS_EINVAL;
    }
    im->path = pos[0];
    im->operator_ = xs_cli_get(opts, nopts, "operator");
    if (im->operator_ && strlen(im->operator_) > XS_ID_MAX) {
        fprintf(stderr, "xueshi-node: --operator 过长 (too long)\n");
        return XS_EINVAL;
    }
    return XS_OK;
}

/* Prints that the CSV broke where the reader stopped. */
static void s_csv_broken(const s_import_t *im) {
    fprintf(stderr,
            "xueshi-node: %s 第 %u 行 (line %u): CSV 格式错误，导入停止 (broken CSV, import "
            "stopped): %s\n",
            im->path, xs_csv_line(im->csv), xs_csv_line(im->csv), xs_csv_why(im->csv));
}

/* Opens the sheet, allocates the chunk and reads the header. XS_OK, or why the import cannot
 * start (printed; header_broken set when the CSV broke in the header). */
static xs_err s_begin(s_import_t *im) {
    char msg[512];
    xs_err err = xs_csv_open_file(&im->csv, im->path);
    if (err != XS_OK) {
        xs_log_err(err, "无法读取 %s (cannot read)", im->path);
        return err;
    }
    im->row = malloc(sizeof *im->row);
    im->chunk.rows = malloc(S_CHUNK_ROWS * sizeof *im->chunk.rows);
    xs_writer_init(&im->chunk.encoded, (size_t)S_CHUNK_ROWS * XS_RECORD_MAX);
    if (!im->row || !im->chunk.rows) {
        xs_log_err(XS_ENOMEM, "import");
        return XS_ENOMEM;
    }
    err = xs_csv_next(im->csv, im->row);
    if (err == XS_ENOTFOUND) {
        fprintf(stderr, "xueshi-node: %s 是空文件，没有表头 (empty file, no header)\n", im->path);
        return XS_ENOTFOUND;
    }
    if (err != XS_OK) {
        s_csv_broken(im);
        im->header_broken = 1;
        return XS_ECSV;
    }
    if (xs_sheet_header_policy(&im->sheet, im->row, im->policy, msg, sizeof msg) != XS_OK) {
        fprintf(stderr, "xueshi-node: %s 第 1 行 (line 1): %s\n", im->path, msg);
        return XS_EINVAL;
    }
    return XS_OK;
}

/* Takes the row just read: refuses it (printed), or completes it and adds its encoding to
 * the chunk. Returns the chunk writer's error. */
static xs_err s_take_row(s_import_t *im) {
    xs_record_t rec;
    xs_field field;
    xs_reason why;
    const xs_csv_row_t *row = im->row;
    if (xs_sheet_row(&im->sheet, row, &rec, NULL, &field, &why) != XS_OK) {
        fprintf(stderr, "xueshi-node: 第 %u 行 (line %u): 拒绝登记 (refused): %s: %s (%s)\n",
                row->line, row->line, xs_sheet_field_name(field), xs_reason_zh(why),
                xs_reason_code(why));
        im->refused++;
        if (why == XS_REASON_UNKNOWN_CATEGORY)
            im->unknown_category++;
        return XS_OK;
    }
    if (rec.school_id.len == 0) {
        rec.school_id = (xs_str_t){im->node.school, (uint32_t)strlen(im->node.school)};
        rec.present |= 1u << XS_F_SCHOOL_ID;
    }
    if (im->operator_ && rec.operator_.len == 0) {
        rec.operator_ = (xs_str_t){im->operator_, (uint32_t)strlen(im->operator_)};
        rec.present |= 1u << XS_F_OPERATOR;
    }
    rec.recorded_at = im->now;
    rec.present |= 1u << XS_F_RECORDED_AT;
    if (node_check(&im->node, im->policy, &rec, row->line) != XS_REASON_NONE) {
        im->refused++;
        return XS_OK;
    }
    if (!node_staff_admits(&im->staff, &rec, row->line)) {
        im->refused++;
        im->unknown_teacher++;
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

/* Stores the chunk's rows, if any, in one durable step and says so. The store's error is
 * printed and returned. */
static xs_err s_commit(s_import_t *im) {
    s_chunk_t *c = &im->chunk;
    if (c->count == 0)
        return XS_OK;
    xs_err err = xs_store_update(im->node.store, s_store_chunk, c);
    if (err != XS_OK) {
        xs_log_err(err,
                   "第 %u 行之前的一批未写入 (the chunk before line %u was not "
                   "recorded; earlier chunks were)",
                   im->last_line, im->last_line);
        return err;
    }
    im->recorded += c->recorded;
    im->known += c->known;
    printf("已提交 (committed): 新登记 %llu 条，已登记 %llu 条，至第 %u 行 (through line "
           "%u)\n",
           (unsigned long long)im->recorded, (unsigned long long)im->known, im->last_line,
           im->last_line);
    fflush(stdout);
    c->count = 0;
    xs_writer_reset(&c->encoded);
    return XS_OK;
}

/* Reads every row after the header, storing them chunk by chunk; a broken CSV stores the
 * rows before it. Returns XS_OK at the end of the file, XS_ECSV or XS_ETOOBIG when the CSV
 * broke, or the reader's or the store's error (commit_failed set, printed). */
static xs_err s_rows(s_import_t *im) {
    for (;;) {
        xs_err err = xs_csv_next(im->csv, im->row);
        if (err == XS_OK) {
            im->last_line = im->row->line;
            if (xs_csv_row_blank(im->row))
                continue;
            if ((err = s_take_row(im)) != XS_OK)
                return err;
            if (im->chunk.count < S_CHUNK_ROWS)
                continue;
        } else if (err != XS_ENOTFOUND && err != XS_ECSV && err != XS_ETOOBIG) {
            return err;
        }
        /* A full chunk, the end of the file, or broken CSV: store what came before. */
        xs_err stored = s_commit(im);
        if (stored != XS_OK) {
            im->commit_failed = 1;
            return stored;
        }
        if (err != XS_OK)
            return err == XS_ENOTFOUND ? XS_OK : err;
    }
}

/* Prints the closing line: what the import did, and whether it ran to the end. */
static void s_summary(const s_import_t *im, int stopped) {
    printf("导入%s (import %s): 新登记 %llu 条 (recorded)，已登记跳过 %llu 条 (already "
           "recorded)，拒绝 %llu 条 (refused)\n",
           stopped ? "中止" : "完成", stopped ? "stopped" : "done",
           (unsigned long long)im->recorded, (unsigned long long)im->known,
           (unsigned long long)im->refused);
    if (im->unknown_category)
        node_category_hint(im->policy);
    if (im->unknown_teacher)
        fprintf(
            stderr,
            "xueshi-node: %llu 行的教师不在县里的花名册（第 %u 版）中或不属于本校：请核对教师编号，"
            "或请县里更新花名册后再同步 (%llu rows name a teacher not in the county's roster, "
            "version %u, or of another school: check the ids, or have the county update the "
            "roster and sync)\n",
            (unsigned long long)im->unknown_teacher, im->staff.version,
            (unsigned long long)im->unknown_teacher, im->staff.version);
}

int node_cmd_import(int argc, char **argv) {
    s_import_t im;
    const char *dir = NULL;
    int rc = 2;
    memset(&im, 0, sizeof im);
    im.last_line = 1;
    if (s_parse(argc, argv, &im, &dir) != XS_OK)
        return 2;
    xs_err err = node_open(&im.node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    /* Without a policy (or with one in an older format) the built-in categories are known. */
    err = node_policy(&im.node, &im.policy);
    if (err == XS_ECORRUPT) {
        node_close(&im.node);
        return node_exit_code(err, dir);
    }
    /* With the county's roster held, rows of teachers not in it are refused. */
    err = node_staff_load(&im.node, &im.staff);
    if (err != XS_OK && err != XS_ENOTFOUND) {
        xs_policy_destroy(&im.policy);
        node_close(&im.node);
        return node_exit_code(err, dir);
    }
    err = s_begin(&im);
    if (err == XS_OK) {
        im.now = (int64_t)time(NULL);
        err = s_rows(&im);
        if (im.commit_failed) {
            rc = node_exit_code(err, dir);
        } else if (err == XS_ECSV || err == XS_ETOOBIG) {
            s_csv_broken(&im);
            rc = 2;
        } else if (err != XS_OK) {
            xs_log_err(err, "导入中止 (import stopped)");
            rc = 1;
        } else {
            rc = im.refused ? 1 : 0;
        }
        s_summary(&im, err != XS_OK);
    } else if (im.header_broken) {
        s_summary(&im, 1);
    }
    xs_writer_free(&im.chunk.encoded);
    free(im.chunk.rows);
    free(im.row);
    xs_csv_close(&im.csv);
    xs_staff_free(&im.staff);
    xs_policy_destroy(&im.policy);
    node_close(&im.node);
    return rc;
}
