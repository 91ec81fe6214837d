/* xueshi-node: a school's offline node: records training activities and syncs them. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "node.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} s_commands[] = {
    {"init", node_cmd_init, "初始化节点 (create the store and keys)"},
    {"record", node_cmd_record, "登记一项活动 (record one activity)"},
    {"import", node_cmd_import, "导入学时登记表 CSV (import a register sheet)"},
    {"list", node_cmd_list, "列出记录 (list records)"},
    {"void", node_cmd_void, "作废一条记录 (void a record)"},
    {"policy", node_cmd_policy, "设置认定规则 (set the county policy)"},
    {"totals", node_cmd_totals, "查看暂定与已认定学时 (provisional and confirmed totals)"},
    {"sync", node_cmd_sync, "与县级中心同步一次 (one sync session with the hub)"},
    {"run", node_cmd_run, "持续同步 (keep syncing)"},
    {"receipt", node_cmd_receipt, "导出认定回执 (export a teacher's signed receipt)"},
    {"export", node_cmd_export, "导出数据包带去县里 (write a USB bundle for the hub)"},
    {"import-receipts", node_cmd_import_receipts, "导入县里的回执包 (import a receipts bundle)"},
    {"recover", node_cmd_recover, "从县级中心恢复本节点数据 (rebuild the store from the hub)"},
};

static int s_usage(void) {
    fprintf(stderr, "xueshi-node — 学时节点 (xueshi school node)\n\n"
                    "用法 (usage): xueshi-node COMMAND --dir DIR [options]\n\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        fprintf(stderr, "  %-16s %s\n", s_commands[i].name, s_commands[i].help);
    fprintf(stderr, "\n每个命令的选项: xueshi-node COMMAND --help (options of a command)\n");
    return 2;
}

int main(int argc, char **argv) {
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit is a full disk: get EFBIG, not killed */
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
        return s_usage();
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "xueshi-node: 未知命令 \"%s\" (unknown command)\n", argv[1]);
    return s_usage();
}
