/* xueshi-hub: the county hub that verifies, merges and certifies what the nodes send. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hub.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} s_commands[] = {
    {"init", hub_cmd_init, "初始化县级中心 (create the store, keys and signed policy)"},
    {"enroll", hub_cmd_enroll, "登记节点 (enroll a node for its schools)"},
    {"revoke", hub_cmd_revoke, "吊销节点 (revoke a node's keys)"},
    {"nodes", hub_cmd_nodes, "列出节点 (list nodes, heads, gaps, forks)"},
    {"run", hub_cmd_run, "运行同步服务 (serve nodes until SIGINT/SIGTERM)"},
    {"report", hub_cmd_report, "学时认定汇总表 (the county's certified hours, CSV)"},
    {"import", hub_cmd_import, "导入学校带来的数据包 (merge a USB bundle)"},
    {"export-receipts", hub_cmd_export_receipts, "导出某节点的回执包 (receipts bundle for a node)"},
    {"policy", hub_cmd_policy,
     "更换认定规则的新版本并重新认定 (put a new policy version in force, re-certify all)"},
    {"roster", hub_cmd_roster,
     "教师花名册：导入、查看、历史版本 (teacher roster: import, show, history)"},
    {"close", hub_cmd_close,
     "学年结账认定并生成公示名单 (close a year: sign it, list it publicly)"},
    {"objection", hub_cmd_objection, "公示期内登记或列出异议 (record or list objections)"},
    {"finalize", hub_cmd_finalize, "公示期满，处理异议并定案 (end the notice window, decide)"},
    {"supplement", hub_cmd_supplement,
     "结账后的补认定名单与签发 (list or certify what came after the close)"},
    {"certificate", hub_cmd_certificate,
     "打印学时证明 PDF，一人或一校 (print certificates of a teacher or a school)"},
    {"web", hub_cmd_web, "县级看板：只读网页 (the county dashboard, read-only web pages)"},
    {"web-passwd", hub_cmd_web_passwd, "设置看板管理员密码 (set the dashboard's admin password)"},
    {"rotate-keys", hub_cmd_rotate_keys,
     "轮换县级中心签名密钥 (retire the signing key for a new one; nodes follow)"},
    {"backup", hub_cmd_backup,
     "热备份为一个文件，服务不停 (hot backup to one file, while serving)"},
    {"restore", hub_cmd_restore,
     "从备份恢复，先校验整个文件 (restore from a backup, verified first)"},
    {"migrate", hub_cmd_migrate,
     "升级旧格式的数据库，先备份 (upgrade an older store format, backing up first)"},
};

static void s_overview(FILE *out) {
    fprintf(out, "xueshi-hub — 县级学时中心 (xueshi county hub)\n\n"
                 "用法 (usage): xueshi-hub COMMAND --dir DIR [options]\n\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        fprintf(out, "  %-16s %s\n", s_commands[i].name, s_commands[i].help);
}

int main(int argc, char **argv) {
    /* A file-size limit must surface as "disk full", not kill the process mid-commit. */
    signal(SIGXFSZ, SIG_IGN);
    int front = xs_cli_front("xueshi-hub", argc, argv, s_overview);
    if (front >= 0)
        return front;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 2, argv + 2);
    return xs_cli_unknown_command("xueshi-hub", argv[1]);
}
