/* xueshi-node: a school's offline node: records training activities and syncs them. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "node.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    int guarded; /* 1: reads the store in this process, under xs_store_guard */
    const char *help;
} s_commands[] = {
    {"init", node_cmd_init, 1, "初始化节点 (create the store and keys)"},
    {"record", node_cmd_record, 1, "登记一项活动 (record one activity)"},
    {"import", node_cmd_import, 1, "导入学时登记表 CSV (import a register sheet)"},
    {"list", node_cmd_list, 1, "列出记录 (list records)"},
    {"void", node_cmd_void, 1, "作废一条记录 (void a record)"},
    {"review", node_cmd_review, 1,
     "学校审核：通过或退回记录 (the school's review: approve or return)"},
    {"policy", node_cmd_policy, 1, "设置认定规则 (set the county policy)"},
    {"totals", node_cmd_totals, 1, "查看暂定与已认定学时 (provisional and confirmed totals)"},
    {"sync", node_cmd_sync, 1, "与县级中心同步一次 (one sync session with the hub)"},
    {"run", node_cmd_run, 1, "持续同步 (keep syncing)"},
    {"receipt", node_cmd_receipt, 1, "导出认定回执 (export a teacher's signed receipt)"},
    {"export", node_cmd_export, 1, "导出数据包带去县里 (write a USB bundle for the hub)"},
    {"import-receipts", node_cmd_import_receipts, 1, "导入县里的回执包 (import a receipts bundle)"},
    {"staff", node_cmd_staff, 1, "查看教师花名册 (show the teacher roster the node holds)"},
    {"certificate", node_cmd_certificate, 1,
     "打印学时证明 PDF (print a teacher's certificate for a year)"},
    {"web", node_cmd_web, 1, "用浏览器登记和查看 (the operator's pages in a browser)"},
    {"web-passwd", node_cmd_web_passwd, 1, "设置网页界面的密码 (set the web UI's password)"},
    {"recover", node_cmd_recover, 1, "从县级中心恢复本节点数据 (rebuild the store from the hub)"},
    {"backup", node_cmd_backup, 1, "热备份为一个文件 (hot backup to one file, while running)"},
    {"restore", node_cmd_restore, 1,
     "从备份恢复，先校验整个文件 (restore from a backup, verified first)"},
    {"migrate", node_cmd_migrate, 1,
     "升级旧格式的数据库，先备份 (upgrade an older store format, backing up first)"},
    /* check reads the store only in child processes, whose crashes it reports itself. */
    {"check", node_cmd_check, 0, "检查数据库是否损坏 (check the store for damage)"},
};

static void s_overview(FILE *out) {
    fprintf(out, "xueshi-node — 学时节点 (xueshi school node)\n\n"
                 "用法 (usage): xueshi-node COMMAND --dir DIR [options]\n\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        fprintf(out, "  %-16s %s\n", s_commands[i].name, s_commands[i].help);
    fprintf(out, "\n每个命令的选项: xueshi-node COMMAND --help (options of a command)\n"
                 "网页界面 (the operator's web UI): xueshi-node web --dir DIR\n");
}

/* The directory a command was given (--dir DIR or --dir=DIR), or "DIR". */
static const char *s_dir(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--dir=", 6) == 0)
            return argv[i] + 6;
    }
    return "DIR";
}

/* What a command says when the store it reads turns out to be corrupted. */
#define S_GUARD_TEXT                                                                                    \
    "xueshi-node: 数据已损坏 (the store is corrupted): 请运行 xueshi-node check --dir %s (run " \
    "the check)\n"

/* LMDB keeps no checksums: a damaged page can make it, or whoever reads what it returned,
 * fault. xs_store_guard turns such a fault into this message and the corruption exit code,
 * and leaves any other fault a crash. */
static void s_guard(const char *dir) {
    char message[XS_STORE_GUARD_MAX];
    int n = snprintf(message, sizeof message, S_GUARD_TEXT, dir);
    if (n < 0 || (size_t)n >= sizeof message)
        snprintf(message, sizeof message, S_GUARD_TEXT, "DIR");
    if (xs_store_guard(message, NODE_EXIT_CORRUPT) != XS_OK)
        fprintf(stderr, "xueshi-node: 无法安装损坏保护 (cannot install the corruption guard)\n");
}

int main(int argc, char **argv) {
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit is a full disk: get EFBIG, not killed */
    int front = xs_cli_front("xueshi-node", argc, argv, s_overview);
    if (front >= 0)
        return front;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++) {
        if (strcmp(argv[1], s_commands[i].name) != 0)
            continue;
        if (s_commands[i].guarded)
            s_guard(s_dir(argc - 2, argv + 2));
        return s_commands[i].run(argc - 2, argv + 2);
    }
    return xs_cli_unknown_command("xueshi-node", argv[1]);
}
