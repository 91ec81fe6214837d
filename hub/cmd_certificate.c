/* xueshi-hub certificate: print the 学时证明 of a teacher, or of every teacher of a school, for
 * a year: one PDF, a page per teacher, each with the QR code of the teacher's signed receipt. */
#include <stdio.h>
#include <string.h>

#include "certificates.h"
#include "hub.h"
#include "xs/receipt.h"
#include "xs/year.h"

#define S_USAGE                                                                                                           \
    "xueshi-hub certificate --dir DIR --year 2025-2026 (--teacher T | --school S) --out "                                 \
    "FILE.pdf\n"                                                                                                          \
    "  打印学时证明：一位教师，或一所学校的全部教师，每人一页 A4，附认定回执二维码\n" \
    "  (certificates of a teacher or of a school's teachers: a page each, with the receipt's QR "                         \
    "code)"

int hub_cmd_certificate(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},    {"year", 1, NULL}, {"teacher", 1, NULL},
                           {"school", 1, NULL}, {"out", 1, NULL},  {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    hub_t hub;
    xs_txn_t *txn = NULL;
    hub_certificates_stats_t stats;
    int year, rc = 1;
    const char *dir = NULL, *label = NULL, *out = NULL;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !(dir = xs_cli_get(opts, nopts, "dir")) ||
        !(label = xs_cli_get(opts, nopts, "year")) || !(out = xs_cli_get(opts, nopts, "out")))
        return hub_usage(S_USAGE);
    const char *teacher = xs_cli_get(opts, nopts, "teacher");
    const char *school = xs_cli_get(opts, nopts, "school");
    if (!teacher == !school)
        return hub_usage(S_USAGE);
    if (xs_year_parse(label, strlen(label), &year) != XS_OK) {
        fprintf(stderr, "xueshi-hub: 学年格式应为 2025-2026 (academic year like 2025-2026)\n");
        return 2;
    }
    if (hub_open(&hub, dir, 0) != XS_OK)
        return 1;
    /* Keys: each page's QR code is a receipt the hub signs now. */
    xs_err err = xs_identity_load(&hub.id, dir, "hub");
    if (err != XS_OK) {
        xs_log_err(err, "县级中心密钥 %s/hub.secret (hub key)", dir);
        fprintf(stderr,
                "xueshi-hub: 学时证明的二维码须由县级中心签名：请以能读取 %s/hub.secret 的用户，"
                "在保存县级中心密钥的电脑上运行 (the certificates' QR codes are signed by the "
                "hub: run this as a user who can read %s/hub.secret, on the hub's computer)\n",
                dir, dir);
        hub_close(&hub);
        return 1;
    }
    err = xs_store_read(hub.store, &txn);
    if (err == XS_OK)
        err = hub_certificates_run(&hub, txn, year, teacher, school, out, &stats);
    if (err == XS_OK) {
        printf("已写出 (written) %s：%zu 页 (pages)", out, stats.pages);
        if (stats.provisional)
            printf("，其中 %zu 页暂定、无二维码：县级中心尚无覆盖该学年的认定回执 (%zu "
                   "provisional, without a QR code: no receipt covers the year)",
                   stats.provisional, stats.provisional);
        printf("\n");
        rc = fflush(stdout) == 0 ? 0 : 1;
    } else if (err == XS_ENOTFOUND) {
        fprintf(stderr, "xueshi-hub: 该学年没有%s %s 的教师 (no such teacher in that year)\n",
                teacher ? "编号为" : "学校", teacher ? teacher : school);
    } else if (err == XS_ETOOBIG) {
        fprintf(stderr,
                "xueshi-hub: 教师 %s 的认定回执有 %zu 字节，二维码最多容纳 %d 字节，无法打印；"
                "未截断，未写出文件 (the receipt is %zu bytes; a QR code holds at most %d: "
                "nothing written, nothing cut)\n",
                stats.too_big, stats.too_big_len, XS_RECEIPT_TEXT_BYTES_MAX, stats.too_big_len,
                XS_RECEIPT_TEXT_BYTES_MAX);
    } else {
        xs_log_err(err, "打印学时证明 (printing certificates) %s", out);
    }
    xs_store_end(&txn);
    hub_close(&hub);
    return rc;
}
