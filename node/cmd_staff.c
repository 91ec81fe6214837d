/* xueshi-node staff: show the node's part of the county's teacher roster (protocol.md §10). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "node.h"
#include "staff.h"
#include "xs/csv.h"
#include "xs/text.h"

#define S_USAGE                                                                                                     \
    "xueshi-node staff --dir DIR [--out FILE.csv]\n"                                                                \
    "  显示本节点收到的教师花名册：版本、日期和教师名单 (the node's part of the county's\n" \
    "  teacher roster: version, date, and its teachers as CSV; --out writes the CSV for Excel)"

/* Writes a date cell: YYYY-MM-DD, or empty for a bound not given (INT32_MIN, INT32_MAX). */
static xs_err s_date_cell(FILE *f, int32_t date, int last) {
    char text[11];
    if (date == INT32_MIN || date == INT32_MAX)
        return xs_csv_write_cell(f, "", 0, last);
    xs_date_format(date, text);
    return xs_csv_write_cell(f, text, 10, last);
}

/* Writes the part's teachers as CSV as `xueshi-hub roster show` does (schema/roster.md §6: the
 * roster's columns, roles joined with "；", the status's Chinese label), so the file reads like
 * the county's sheet; with_bom for a file Excel opens. XS_EIO. */
static xs_err s_write_csv(FILE *f, const xs_staff_t *staff, int with_bom) {
    static const char *const cols[] = {"teacher_id", "name",   "school_id",   "roles",
                                       "hired",      "status", "status_from", "status_to"};
    const size_t ncols = sizeof cols / sizeof cols[0];
    xs_err err = with_bom ? xs_csv_write_bom(f) : XS_OK;
    for (size_t i = 0; err == XS_OK && i < ncols; i++)
        err = xs_csv_write_cell(f, cols[i], strlen(cols[i]), i + 1 == ncols);
    for (uint32_t i = 0; err == XS_OK && i < staff->count; i++) {
        const xs_staff_entry_t *e = &staff->entries[i];
        char roles[XS_STAFF_ROLES_MAX * (XS_STAFF_ROLE_MAX + 3) + 1] = "";
        size_t n = 0;
        for (uint32_t r = 0; r < e->role_count; r++)
            n += (size_t)snprintf(roles + n, sizeof roles - n, "%s%s", r ? "；" : "", e->roles[r]);
        const char *status = xs_staff_status_zh(e->status);
        err = xs_csv_write_cell(f, e->teacher_id, strlen(e->teacher_id), 0);
        if (err == XS_OK)
            err = xs_csv_write_cell(f, e->name, strlen(e->name), 0);
        if (err == XS_OK)
            err = xs_csv_write_cell(f, e->school_id, strlen(e->school_id), 0);
        if (err == XS_OK)
            err = xs_csv_write_cell(f, roles, n, 0);
        if (err == XS_OK)
            err = s_date_cell(f, e->hired, 0);
        if (err == XS_OK)
            err = xs_csv_write_cell(f, status ? status : "", status ? strlen(status) : 0, 0);
        if (err == XS_OK)
            err = s_date_cell(f, e->status_from, 0);
        if (err == XS_OK)
            err = s_date_cell(f, e->status_to, 1);
    }
    return err;
}

/* Counts the parts a relay keeps for its satellites: every entry but the node's own. */
static xs_err s_count_part(void *ctx, const xs_bytes_t *key, const xs_bytes_t *part) {
    (void)key;
    (void)part;
    ++*(uint64_t *)ctx;
    return XS_OK;
}

int node_cmd_staff(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"out", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1], *dir, *out;
    size_t npos;
    node_t node;
    xs_staff_t staff;
    xs_txn_t *txn = NULL;
    uint64_t parts = 0;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !(dir = xs_cli_get(opts, nopts, "dir")))
        return node_usage(S_USAGE);
    out = xs_cli_get(opts, nopts, "out");
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    err = node_staff_load(&node, &staff);
    if (err == XS_ENOTFOUND) {
        printf("本节点还没有教师花名册：县里导入花名册后，同步或导入回执包即可取得 (no teacher "
               "roster yet: it comes with a sync or a receipts bundle once the county has "
               "imported one)\n");
        node_close(&node);
        return 0;
    }
    if (err != XS_OK) {
        node_close(&node);
        return node_exit_code(err, dir);
    }
    if (xs_store_read(node.store, &txn) == XS_OK &&
        node_staff_each(txn, s_count_part, &parts) != XS_OK)
        parts = 1;
    xs_store_end(&txn);
    char issued[11];
    xs_date_format((int32_t)(staff.issued_at / 86400), issued);
    printf(
        "教师花名册 (teacher roster): 第 %u 版 (version %u)，%s 导入 (imported)，本节点 %u 名教师 "
        "(%u teachers)\n",
        staff.version, staff.version, issued, staff.count, staff.count);
    if (parts > 1)
        printf("另为卫星校保存花名册 %llu 份，转交各校 (keeps %llu satellites' parts to hand on)\n",
               (unsigned long long)(parts - 1), (unsigned long long)(parts - 1));
    int rc = 0;
    if (out) {
        FILE *f = fopen(out, "wb");
        err = f ? s_write_csv(f, &staff, 1) : XS_EIO;
        if (f && fclose(f) != 0)
            err = XS_EIO;
        if (err == XS_OK) {
            printf("已写出 (written) %s\n", out);
        } else {
            fprintf(stderr, "xueshi-node: 无法写入 %s (cannot write)\n", out);
            rc = 1;
        }
    } else if (s_write_csv(stdout, &staff, 0) != XS_OK || fflush(stdout) != 0) {
        fprintf(stderr, "xueshi-node: 输出失败 (cannot write output)\n");
        rc = 1;
    }
    xs_staff_free(&staff);
    node_close(&node);
    return rc;
}
