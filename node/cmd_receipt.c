/* xueshi-node receipt: write a teacher's hub-signed receipt to a file, for an auditor. */
#include <stdio.h>
#include <string.h>

#include "lanes.h"
#include "node.h"

#define S_USAGE "xueshi-node receipt --dir DIR --teacher T --out FILE"

int node_cmd_receipt(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"teacher", 1, NULL}, {"out", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    xs_txn_t *txn = NULL;
    xs_bytes_t env;
    int rc = 1;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "teacher") || !xs_cli_get(opts, nopts, "out"))
        return node_usage(S_USAGE);
    if (node_open(&node, xs_cli_get(opts, nopts, "dir")) != XS_OK)
        return 1;
    const char *teacher = xs_cli_get(opts, nopts, "teacher");
    node_lane_t self = node_lane_self();
    xs_err err = xs_store_read(node.store, &txn);
    if (err == XS_OK)
        err = node_lane_receipt_get(txn, &self, teacher, strlen(teacher), &env);
    if (err == XS_ENOTFOUND) {
        fprintf(stderr,
                "xueshi-node: 没有教师 %s 的认定回执，请先同步 (no receipt yet: sync first)\n",
                teacher);
    } else if (err != XS_OK) {
        xs_log_err(err, "读取认定回执 (reading the receipt)");
    } else {
        FILE *f = fopen(xs_cli_get(opts, nopts, "out"), "wb");
        if (f && fwrite(env.ptr, 1, env.len, f) == env.len && fclose(f) == 0) {
            printf("已写出 (written) %s：用 xueshi verify 核验 (check it with xueshi verify)\n",
                   xs_cli_get(opts, nopts, "out"));
            rc = 0;
        } else {
            if (f)
                fclose(f);
            fprintf(stderr, "xueshi-node: 无法写入 %s (cannot write)\n",
                    xs_cli_get(opts, nopts, "out"));
        }
    }
    xs_store_end(&txn);
    node_close(&node);
    return rc;
}
