/* xueshi-node void: append a correction that voids an earlier activity record. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "entry.h"
#include "node.h"
#include "xs/text.h"

#define S_USAGE "xueshi-node void --dir DIR RECORD_ID --reason TEXT [--operator NAME]"

int node_cmd_void(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"reason", 1, NULL}, {"operator", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    uint64_t target;
    node_t node;
    if (node_args(argc, argv, opts, nopts, pos, 1, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || npos != 1)
        return node_usage(S_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir"), *reason = xs_cli_get(opts, nopts, "reason");
    const char *operator_ = xs_cli_get(opts, nopts, "operator");
    if (!dir || !reason)
        return node_usage(S_USAGE);
    if (xs_text_parse_fixed(pos[0], strlen(pos[0]), 0, UINT64_MAX, &target) != XS_OK ||
        target == 0) {
        fprintf(stderr, "xueshi-node: 记录编号无效 (invalid record id): %s\n", pos[0]);
        return 2;
    }
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    node_refusal_t why;
    uint64_t seq = 0;
    err = node_void_add(&node, target, reason, operator_, (int64_t)time(NULL), &seq, &why);
    node_close(&node);
    if (why.why != XS_REASON_NONE) {
        fprintf(stderr, "xueshi-node: 不能作废 %llu (cannot void): %s\n",
                (unsigned long long)target, why.text);
        return 2;
    }
    if (err != XS_OK) {
        xs_log_err(err, "作废失败，未写入 (nothing written)");
        return node_exit_code(err, dir);
    }
    printf("已作废 (voided) %llu，更正记录 (correction) %llu\n", (unsigned long long)target,
           (unsigned long long)seq);
    return 0;
}
