/* xueshi-node certificate: print a teacher's 学时证明 for a year as a one-page PDF, with the
 * QR code of the hub's signed receipt, or 暂定 when the node has only its own records. */
#include <stdio.h>
#include <string.h>

#include "certificate.h"
#include "check.h"
#include "node.h"
#include "staff.h"
#include "xs/certificate.h"
#include "xs/receipt.h"

#define S_USAGE                                                                                                                     \
    "xueshi-node certificate --dir DIR --teacher T --year 2025-2026 --out FILE.pdf\n"                                               \
    "  打印教师该学年的学时证明（A4 一页）：有县级中心的认定回执时附二维码，可用 xueshi verify " \
    "--scan 核验；\n  否则按本节点记录暂定 (a teacher's certificate for the year: with the "                           \
    "hub's receipt as a QR code,\n  else provisional from the node's records)"

int node_cmd_certificate(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},
                           {"teacher", 1, NULL},
                           {"year", 1, NULL},
                           {"out", 1, NULL},
                           {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    xs_policy_t *policy = NULL;
    xs_staff_t staff = {0};
    node_certificate_info_t info;
    int year, rc = 1;
    const char *dir = NULL, *teacher = NULL, *out = NULL, *label = NULL;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !(dir = xs_cli_get(opts, nopts, "dir")) ||
        !(teacher = xs_cli_get(opts, nopts, "teacher")) ||
        !(label = xs_cli_get(opts, nopts, "year")) || !(out = xs_cli_get(opts, nopts, "out")))
        return node_usage(S_USAGE);
    if (node_parse_year(label, &year) != XS_OK)
        return 2;
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    err = node_policy_needed(&node, &policy);
    if (err != XS_OK) {
        rc = node_exit_code(err, dir);
        goto out;
    }
    /* Names come from the roster part; without one (or unreadable: said) they are empty. */
    if (node_staff_load(&node, &staff) != XS_OK)
        memset(&staff, 0, sizeof staff);
    err = node_certificate_write(&node, policy, &staff, teacher, year, out, &info);
    if (err == XS_ENOTFOUND) {
        fprintf(stderr,
                "xueshi-node: 本节点没有教师 %s 的记录，花名册中也没有 (no records of that "
                "teacher here, nor on the roster)\n",
                teacher);
    } else if (err == XS_ETOOBIG) {
        fprintf(stderr,
                "xueshi-node: 教师 %s 的认定回执有 %zu 字节，二维码最多容纳 %d 字节，无法打印；"
                "未截断，未写出文件 (the receipt is %zu bytes; a QR code holds at most %d: "
                "nothing written, nothing cut)\n",
                teacher, info.receipt_len, XS_RECEIPT_TEXT_BYTES_MAX, info.receipt_len,
                XS_RECEIPT_TEXT_BYTES_MAX);
    } else if (err != XS_OK) {
        xs_log_err(err, "打印学时证明 (printing the certificate) %s", out);
        rc = node_exit_code(err, dir);
        goto out;
    } else {
        printf("已写出 (written) %s：%s，认定结论 %s，%zu 项活动 (activities)\n", out,
               info.provisional ? "暂定 (provisional)，无二维码 (no QR code)"
                                : "附认定回执二维码 (with the receipt's QR code)",
               xs_certificate_conclusion_zh(info.conclusion), info.activities);
        if (info.provisional)
            printf("暂定原因 (why provisional): %s\n", info.why);
        else
            printf("核验 (check): xueshi verify --scan 扫得的文字 --hub-key 县级中心公钥\n");
        rc = fflush(stdout) == 0 ? 0 : 1;
    }
out:
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
    node_close(&node);
    return rc;
}
