/* xueshi-node import: bulk-record a school's 学时登记表 CSV, chunk by chunk, re-import safe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "importer.h"
#include "node.h"
#include "staff.h"
#include "xs/csv.h"
#include "xs/progress.h"
#include "xs/sheet.h"

#define S_USAGE                                                                                    \
    "xueshi-node import --dir DIR [--operator NAME] FILE\n"                                        \
    "  FILE: the 学时登记表 as CSV UTF-8 or an Excel workbook (.xlsx)"

/* Reads the options; XS_EINVAL, with the usage or the refusal printed, when they are not an
 * import (exit code 2). */
static xs_err s_parse(int argc, char **argv, const char **path, const char **operator_,
                      const char **dir) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"operator", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    if (node_args(argc, argv, opts, nopts, pos, 1, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || npos != 1 || !(*dir = xs_cli_get(opts, nopts, "dir"))) {
        node_usage(S_USAGE);
        return XS_EINVAL;
    }
    *path = pos[0];
    *operator_ = xs_cli_get(opts, nopts, "operator");
    if (*operator_ && strlen(*operator_) > XS_ID_MAX) {
        fprintf(stderr, "xueshi-node: --operator 过长 (too long)\n");
        return XS_EINVAL;
    }
    return XS_OK;
}

/* What the import prints as it goes. */
typedef struct s_report {
    xs_progress_t progress; /* rows read, on stderr after a second */
    uint64_t rows;          /* rows read so far */
} s_report_t;

static void s_on_refused(void *ctx, uint32_t line, const char *field_zh, const char *text) {
    s_report_t *r = ctx;
    (void)field_zh; /* the text names the field */
    xs_progress_clear(&r->progress);
    fprintf(stderr, "xueshi-node: 第 %u 行 (line %u): 拒绝登记 (refused): %s\n", line, line, text);
}

static void s_on_committed(void *ctx, uint64_t recorded, uint64_t known, uint32_t through_line) {
    s_report_t *r = ctx;
    xs_progress_clear(&r->progress);
    printf("已提交 (committed): 新登记 %llu 条，已登记 %llu 条，至第 %u 行 (through line "
           "%u)\n",
           (unsigned long long)recorded, (unsigned long long)known, through_line, through_line);
    fflush(stdout);
}

static void s_on_progress(void *ctx, uint64_t rows) {
    s_report_t *r = ctx;
    r->rows = rows;
    xs_progress_update(&r->progress, rows);
}

/* Checks that path opens and is not over the reader's limit, saying so in one line when not
 * (the reader would say it less helpfully). */
static xs_err s_can_read(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr,
                "xueshi-node: 无法打开 %s：%s；请检查文件名和路径 (cannot open the file: check "
                "its name and path)\n",
                path, strerror(errno));
        return XS_EIO;
    }
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    fclose(f);
    if (size < 0) {
        fprintf(stderr,
                "xueshi-node: 无法读取 %s，它不是普通文件 (cannot read: not a regular file)\n",
                path);
        return XS_EIO;
    }
    if ((unsigned long)size > XS_CSV_MAX_FILE) {
        fprintf(stderr,
                "xueshi-node: %s 太大（超过 %zu 字节），请分成几个文件分别导入 (the file is "
                "larger than the limit: split it and import each part)\n",
                path, (size_t)XS_CSV_MAX_FILE);
        return XS_ETOOBIG;
    }
    return XS_OK;
}

/* Prints the closing line: what the import did, and whether it ran to the end. */
static void s_summary(const node_import_result_t *res, const xs_policy_t *policy,
                      uint32_t staff_version) {
    char hint[NODE_REFUSAL_MAX];
    printf("导入%s (import %s): 新登记 %llu 条 (recorded)，已登记跳过 %llu 条 (already "
           "recorded)，拒绝 %llu 条 (refused)\n",
           res->stopped ? "中止" : "完成", res->stopped ? "stopped" : "done",
           (unsigned long long)res->recorded, (unsigned long long)res->known,
           (unsigned long long)res->refused);
    if (res->unknown_category)
        node_category_hint(policy);
    node_import_teacher_hint(res, staff_version, hint, sizeof hint);
    if (hint[0])
        fprintf(stderr, "xueshi-node: %s\n", hint);
}

int node_cmd_import(int argc, char **argv) {
    node_t node;
    xs_policy_t *policy = NULL;
    xs_staff_t staff = {0};
    xs_csv_t *csv = NULL;
    node_import_result_t res;
    s_report_t report;
    const char *dir = NULL, *path = NULL, *operator_ = NULL;
    char msg[512];
    int rc = 2;
    memset(&report, 0, sizeof report);
    if (s_parse(argc, argv, &path, &operator_, &dir) != XS_OK)
        return 2;
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    /* Without a policy (or with one in an older format) the built-in categories are known. */
    err = node_policy(&node, &policy);
    if (err == XS_ECORRUPT) {
        rc = node_exit_code(err, dir);
        goto out;
    }
    /* With the county's roster held, rows of teachers not in it are refused. */
    err = node_staff_load(&node, &staff);
    if (err != XS_OK && err != XS_ENOTFOUND) {
        rc = node_exit_code(err, dir);
        goto out;
    }
    if (s_can_read(path) != XS_OK)
        goto out;
    /* A CSV in UTF-8 or an XLSX; GBK, UTF-16 and .xls are named, with how to save them. */
    if ((err = xs_sheet_open_file(&csv, path, msg, sizeof msg)) != XS_OK) {
        fprintf(stderr, "xueshi-node: %s: %s\n", path,
                msg[0] ? msg : "无法读取，请另存为 CSV UTF-8（逗号分隔）后再导入 (cannot read)");
        goto out;
    }
    xs_progress_begin(&report.progress, "xueshi-node", "导入 (import)", "行 (rows)", 0);
    node_import_sink_t sink = {s_on_refused, s_on_committed, s_on_progress, &report};
    err = node_import_run(&node, policy, &staff, csv, operator_, (int64_t)time(NULL), &sink, &res);
    xs_progress_end(&report.progress, report.rows);
    if (res.store_failed) {
        xs_log_err(err,
                   "第 %u 行之前的一批未写入 (the chunk before line %u was not recorded; earlier "
                   "chunks were)",
                   res.last_line, res.last_line);
        rc = node_exit_code(err, dir);
    } else if (err == XS_ENOTFOUND || err == XS_EINVAL) {
        fprintf(stderr, "xueshi-node: %s %s\n", path, res.why);
        goto out; /* nothing was read: no summary */
    } else if (err == XS_ECSV || err == XS_ETOOBIG) {
        fprintf(stderr, "xueshi-node: %s %s\n", path, res.why);
        rc = 2;
    } else if (err != XS_OK) {
        xs_log_err(err, "导入中止 (import stopped)");
        rc = 1;
    } else {
        rc = res.refused ? 1 : 0;
    }
    s_summary(&res, policy, staff.version);
out:
    xs_csv_close(&csv);
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
    node_close(&node);
    return rc;
}
