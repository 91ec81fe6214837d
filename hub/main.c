/* xueshi-hub: the county hub that verifies, merges and certifies what the nodes send. */
#include <stdio.h>
#include <string.h>

static int s_usage(void) {
    fprintf(stderr,
            "xueshi-hub — 县级学时中心 (xueshi county hub)\n\n"
            "用法 (usage): xueshi-hub COMMAND --dir DIR [options]\n\n"
            "本版本尚未提供任何命令：同步、登记节点与认定汇总随同步功能提供。\n"
            "(This version has no commands yet: sync, enrollment and reports come with sync.)\n"
            "学时认定现可离线运行 (certification runs offline today): xueshi certify --help\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        puts("xueshi-hub 0.1.0");
        return 0;
    }
    return s_usage();
}
