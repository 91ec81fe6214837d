/* xueshi-node export / import-receipts: USB bundles where there is no link at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb.h"
#include "xs/bundle.h"

#define S_EXPORT_USAGE "xueshi-node export --dir DIR --out FILE"
#define S_IMPORT_USAGE "xueshi-node import-receipts --dir DIR FILE"

int node_cmd_export(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"out", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    uint64_t count = 0;
    char part[4200];
    FILE *f = NULL;
    int rc = 1;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "out"))
        return node_usage(S_EXPORT_USAGE);
    const char *out = xs_cli_get(opts, nopts, "out");
    if (snprintf(part, sizeof part, "%s.part", out) >= (int)sizeof part)
        return 2;
    if (node_open(&node, xs_cli_get(opts, nopts, "dir")) != XS_OK)
        return 1;
    xs_err err = XS_OK;
    /* Written beside the target and renamed when whole: a stick never holds half a bundle
     * under the bundle's name. */
    if (!(f = fopen(part, "wb"))) {
        fprintf(stderr, "xueshi-node: 无法写入 %s (cannot write)\n", part);
        goto out;
    }
    err = node_export_bundle(&node, f, &count);
    if (err == XS_ENOTFOUND)
        xs_log("节点未设置县级中心，无法加密 (no hub configured: init --hub --hub-key)");
    if (fclose(f) != 0 && err == XS_OK)
        err = XS_EIO;
    f = NULL;
    if (err == XS_OK && rename(part, out) != 0)
        err = XS_EIO;
    if (err != XS_OK) {
        remove(part);
        goto out;
    }
    printf("已导出 %llu 批未经县里确认的数据到 %s，请带到县里用 xueshi-hub import 导入 "
           "(exported %llu unconfirmed batches)\n",
           (unsigned long long)count, out, (unsigned long long)count);
    rc = 0;
out:
    if (err != XS_OK)
        xs_log_err(err, "导出失败 (export failed)");
    node_close(&node);
    return rc;
}

int node_cmd_import_receipts(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos, len;
    node_t node;
    node_receipts_taken_t taken;
    uint8_t *bytes = NULL;
    const char *why = NULL;
    int rc = 1;
    if (node_args(argc, argv, opts, nopts, pos, 1, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || npos != 1 || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_IMPORT_USAGE);
    if (node_open(&node, xs_cli_get(opts, nopts, "dir")) != XS_OK)
        return 1;
    xs_err err = xs_bundle_load_file(pos[0], &bytes, &len);
    if (err == XS_OK)
        err = node_import_receipts(&node, bytes, len, &taken, &why);
    if (why) {
        fprintf(stderr, "xueshi-node: %s 被拒绝，未导入任何内容 (refused, nothing imported): %s\n",
                pos[0], why);
        rc = 2;
        goto out;
    }
    if (err != XS_OK) {
        xs_log_err(err, "导入认定回执 (importing receipts)");
        goto out;
    }
    printf("已导入认定回执 (receipts imported): 本校 %llu 份，卫星校 %llu 份%s%s%s%s%s%s\n",
           (unsigned long long)taken.own, (unsigned long long)taken.satellites,
           taken.policy ? "，认定规则已更新 (policy updated)" : "",
           taken.staff ? "，教师花名册已更新 (teacher roster updated)" : "",
           taken.confirmations ? "，县里已确认收到的批次今后不再导出 (batches the hub confirmed "
                                 "are not exported again)"
                               : "",
           taken.older ? "，比已有回执旧的已跳过 (older than those held: skipped)" : "",
           taken.not_ours ? "，不属于本节点的已跳过 (others skipped)" : "",
           taken.refused ? "，签名无效的已丢弃 (invalid ones dropped)" : "");
    if (taken.rotated)
        printf("县级中心已轮换签名密钥，本节点已改用新密钥 (the hub rotated its signing key: "
               "followed)\n");
    if (taken.staff_satellites)
        printf("为 %llu 所卫星校保存了新的教师花名册，下次同步时转交 (new roster parts kept for "
               "%llu satellites, handed on when they next sync)\n",
               (unsigned long long)taken.staff_satellites,
               (unsigned long long)taken.staff_satellites);
    rc = taken.refused ? 1 : 0;
out:
    free(bytes);
    node_close(&node);
    return rc;
}
