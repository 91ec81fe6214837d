/* xueshi: the command-line tool for county admins and auditors (certify, verify). */
#include <stdio.h>
#include <string.h>

#include "xs/cli.h"
#include "xueshi.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} s_commands[] = {
    {"certify", tool_cmd_certify, "按认定规则计算学时 (certify hours from a CSV)"},
    {"verify", tool_cmd_verify, "离线核验认定回执 (check a hub-signed receipt offline)"},
};

static void s_overview(FILE *out) {
    fprintf(out, "xueshi — 学时认定工具 (credit-hour certification tool)\n\n"
                 "用法 (usage): xueshi COMMAND [options]\n\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        fprintf(out, "  %-8s %s\n", s_commands[i].name, s_commands[i].help);
}

int main(int argc, char **argv) {
    int front = xs_cli_front("xueshi", argc, argv, s_overview);
    if (front >= 0)
        return front;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 2, argv + 2);
    return xs_cli_unknown_command("xueshi", argv[1]);
}
