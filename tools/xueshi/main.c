/* xueshi: the command-line tool for county admins and auditors (certify, verify). */
#include <stdio.h>
#include <string.h>

#include "xueshi.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} s_commands[] = {
    {"certify", tool_cmd_certify, "按认定规则计算学时 (certify hours from a CSV)"},
    {"verify", tool_cmd_verify, "离线核验认定回执 (check a hub-signed receipt offline)"},
};

static int s_usage(void) {
    fprintf(stderr, "xueshi — 学时认定工具 (credit-hour certification tool)\n\n"
                    "用法 (usage): xueshi COMMAND [options]\n\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        fprintf(stderr, "  %-8s %s\n", s_commands[i].name, s_commands[i].help);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
        return s_usage();
    if (strcmp(argv[1], "--version") == 0) {
        puts("xueshi 0.1.0");
        return 0;
    }
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "xueshi: 未知命令 \"%s\" (unknown command)\n", argv[1]);
    return s_usage();
}
