/* xueshi certify: certify hours from a register CSV under a policy file (CSV in, CSV out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/certify.h"
#include "xs/cli.h"
#include "xs/csv.h"
#include "xs/policy.h"
#include "xs/report.h"
#include "xs/sheet.h"
#include "xueshi.h"

#define S_USAGE "xueshi certify --policy FILE.ini --records FILE.csv [--detail]"

/* Copies of the strings the engine reads (teacher_id, event, work), which must outlive the
 * CSV reader's row: blocks that never move, so pointers into them stay valid. */
typedef struct s_block {
    struct s_block *next;
    size_t used, cap;
    char bytes[];
} s_block_t;

static const char *s_keep(s_block_t **head, const char *s, size_t len) {
    s_block_t *b = *head;
    if (len == 0)
        return "";
    if (!b || b->cap - b->used < len) {
        size_t cap = len > (1u << 20) ? len : (1u << 20);
        s_block_t *fresh = malloc(sizeof *fresh + cap);
        if (!fresh)
            return NULL;
        fresh->next = b;
        fresh->used = 0;
        fresh->cap = cap;
        *head = b = fresh;
    }
    char *copy = b->bytes + b->used;
    memcpy(copy, s, len);
    b->used += len;
    return copy;
}

static void s_free_blocks(s_block_t *b) {
    while (b) {
        s_block_t *next = b->next;
        free(b);
        b = next;
    }
}

/* Keeps only what certification reads; the rest borrowed from the row goes. */
static int s_keep_strings(s_block_t **blocks, xs_record_t *rec) {
    xs_str_t *keep[] = {&rec->teacher_id, &rec->event, &rec->work};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *copy = s_keep(blocks, keep[i]->ptr, keep[i]->len);
        if (!copy)
            return 0;
        keep[i]->ptr = copy;
    }
    rec->school_id = rec->note = rec->operator_ = rec->ref = (xs_str_t){NULL, 0};
    rec->present &=
        ~((1u << XS_F_SCHOOL_ID) | (1u << XS_F_NOTE) | (1u << XS_F_OPERATOR) | (1u << XS_F_REF));
    return 1;
}

/* A row the sheet refused: which record, and the fault to report for it. */
typedef struct s_refusal {
    size_t index;
    xs_field field;
    xs_reason why;
} s_refusal_t;

typedef struct s_certify {
    const xs_policy_t *policy;
    xs_record_t *records;
    uint64_t *lines;
    size_t count, cap;
    s_refusal_t *refusals;
    size_t nrefusals, refusals_cap;
} s_certify_t;

static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *teacher) {
    const s_certify_t *c = ctx;
    return xs_report_summary_teacher(stdout, c->policy, teacher, NULL);
}

static int s_grow(void **array, size_t *cap, size_t count, size_t size) {
    if (count < *cap)
        return 1;
    size_t grown = *cap ? *cap * 2 : 4096;
    void *p = realloc(*array, grown * size);
    if (!p)
        return 0;
    *array = p;
    *cap = grown;
    return 1;
}

int tool_cmd_certify(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"policy", 1, NULL}, {"records", 1, NULL}, {"detail", 0, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char msg[512];
    xs_policy_t *policy = NULL;
    xs_csv_t *csv = NULL;
    xs_csv_row_t *row = NULL;
    xs_sheet_t sheet;
    s_block_t *blocks = NULL;
    s_certify_t c = {0};
    xs_certify_row_t *rows = NULL;
    int rc = 2;
    static char outbuf[1 << 16];

    if (xs_cli_parse(argc, argv, opts, nopts, pos, 0, &npos, msg, sizeof msg) != XS_OK) {
        fprintf(stderr, "xueshi: %s\n用法 (usage): %s\n", msg, S_USAGE);
        return 2;
    }
    if (xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "policy") ||
        !xs_cli_get(opts, nopts, "records")) {
        fprintf(stderr, "用法 (usage): %s\n", S_USAGE);
        return 2;
    }
    const char *path = xs_cli_get(opts, nopts, "records");
    int detail = xs_cli_get(opts, nopts, "detail") != NULL;
    xs_err err = xs_policy_load(&policy, xs_cli_get(opts, nopts, "policy"), msg, sizeof msg);
    if (err != XS_OK) {
        if (err == XS_EPOLICY)
            fprintf(stderr, "xueshi: 认定规则有误 (policy refused): %s\n", msg);
        else
            xs_log_err(err, "无法读取认定规则 %s (cannot read policy)",
                       xs_cli_get(opts, nopts, "policy"));
        goto out;
    }
    c.policy = policy;
    if ((err = xs_csv_open_file(&csv, path)) != XS_OK) {
        xs_log_err(err, "无法读取 %s (cannot read)", path);
        goto out;
    }
    if (!(row = malloc(sizeof *row))) {
        xs_log_err(XS_ENOMEM, "certify");
        goto out;
    }
    err = xs_csv_next(csv, row);
    if (err == XS_ENOTFOUND) {
        fprintf(stderr, "xueshi: %s 是空文件，没有表头 (empty file, no header)\n", path);
        goto out;
    }
    if (err != XS_OK)
        goto broken;
    if (xs_sheet_header(&sheet, row, msg, sizeof msg) != XS_OK) {
        fprintf(stderr, "xueshi: %s 第 1 行 (line 1): %s\n", path, msg);
        goto out;
    }
    while ((err = xs_csv_next(csv, row)) == XS_OK) {
        xs_record_t rec;
        xs_field field;
        xs_reason why;
        if (xs_csv_row_blank(row))
            continue;
        if (c.count == c.cap) {
            size_t cap = c.cap;
            uint64_t *lines;
            if (!s_grow((void **)&c.records, &cap, c.count, sizeof *c.records) ||
                !(lines = realloc(c.lines, cap * sizeof *lines))) {
                err = XS_ENOMEM;
                break;
            }
            c.lines = lines;
            c.cap = cap;
        }
        if (xs_sheet_row(&sheet, row, &rec, NULL, &field, &why) != XS_OK) {
            /* The row still gets its detail line and its teacher a ledger: it enters as a
             * record no rule accepts (version 0), and its reason is the sheet's. */
            if (!s_grow((void **)&c.refusals, &c.refusals_cap, c.nrefusals, sizeof *c.refusals)) {
                err = XS_ENOMEM;
                break;
            }
            c.refusals[c.nrefusals++] = (s_refusal_t){c.count, field, why};
            rec.version = 0;
        }
        if (!s_keep_strings(&blocks, &rec)) {
            err = XS_ENOMEM;
            break;
        }
        c.lines[c.count] = row->line;
        c.records[c.count++] = rec;
    }
    if (err != XS_ENOTFOUND) {
        if (err == XS_ECSV || err == XS_ETOOBIG)
            goto broken;
        xs_log_err(err, "读取 %s (reading)", path);
        goto out;
    }
    if (c.count && !(rows = malloc(c.count * sizeof *rows))) {
        xs_log_err(XS_ENOMEM, "certify");
        goto out;
    }
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    err = detail ? xs_report_detail_begin(stdout) : xs_report_summary_begin(stdout, 0);
    if (err == XS_OK)
        err = xs_certify_run(policy, NULL, c.records, c.lines, c.count, NULL, rows,
                             detail ? NULL : s_on_teacher, &c);
    if (err == XS_OK && detail) {
        size_t r = 0;
        for (size_t i = 0; err == XS_OK && i < c.count; i++) {
            if (r < c.nrefusals && c.refusals[r].index == i) {
                rows[i].status = XS_CERT_REJECTED;
                rows[i].reason = (uint8_t)c.refusals[r].why;
                rows[i].field = (uint8_t)c.refusals[r].field;
                rows[i].credited_minutes = 0;
                r++;
            }
            err = xs_report_detail_row(stdout, policy, c.lines[i], &c.records[i], &rows[i]);
        }
    }
    if (err == XS_OK && fflush(stdout) != 0)
        err = XS_EIO;
    if (err != XS_OK) {
        xs_log_err(err, "认定失败 (certification failed)");
        rc = 1;
        goto out;
    }
    rc = 0;
    goto out;
broken:
    fprintf(stderr, "xueshi: %s 第 %u 行 (line %u): CSV 格式错误 (broken CSV): %s\n", path,
            xs_csv_line(csv), xs_csv_line(csv), xs_csv_why(csv));
    rc = 2;
out:
    free(rows);
    free(c.records);
    free(c.lines);
    free(c.refusals);
    s_free_blocks(blocks);
    free(row);
    xs_csv_close(&csv);
    xs_policy_destroy(&policy);
    return rc;
}
