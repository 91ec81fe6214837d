/* cli: "--name value" option parsing shared by the programs. */
#include "xs/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef XS_VERSION
#define XS_VERSION "0"
#endif

/* The program running, for the lines that name it; and whether -h or --help was given. */
static const char *s_program = "xueshi";
static int s_help_asked;
/* What xs_cli_args found wrong, said with the usage on the same line; "" when nothing. */
static char s_pending[256];

xs_err xs_cli_parse(int argc, char **argv, xs_cli_opt_t *opts, size_t nopts, const char **pos,
                    size_t max_pos, size_t *npos, char *errbuf, size_t cap) {
    int asked = 0; /* -h or --help in this argv */
    *npos = 0;
    for (size_t i = 0; i < nopts; i++)
        opts[i].value = NULL;
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            s_help_asked = asked = 1;
            for (size_t i = 0; i < nopts; i++)
                if (strcmp(opts[i].name, "help") == 0 && !opts[i].takes_value)
                    opts[i].value = "1";
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (*npos >= max_pos) {
                snprintf(errbuf, cap, "多余的参数 \"%s\" (unexpected argument)", arg);
                return XS_EINVAL;
            }
            pos[(*npos)++] = arg;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        xs_cli_opt_t *opt = NULL;
        for (size_t i = 0; i < nopts; i++)
            if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
                opt = &opts[i];
        if (!opt) {
            snprintf(errbuf, cap, "未知选项 \"%s\" (unknown option)", arg);
            return XS_EINVAL;
        }
        if (opt->value) {
            snprintf(errbuf, cap, "选项 --%s 重复 (option given twice)", opt->name);
            return XS_EINVAL;
        }
        if (!opt->takes_value) {
            if (eq) {
                snprintf(errbuf, cap, "选项 --%s 不带值 (takes no value)", opt->name);
                return XS_EINVAL;
            }
            opt->value = "1";
        } else if (eq) {
            opt->value = eq + 1;
        } else if (a + 1 < argc) {
            opt->value = argv[++a];
        } else {
            snprintf(errbuf, cap, "选项 --%s 缺少值 (needs a value)", opt->name);
            return XS_EINVAL;
        }
    }
    if (asked && !xs_cli_get(opts, nopts, "help")) {
        if (cap)
            errbuf[0] = '\0';
        return XS_EINVAL;
    }
    return XS_OK;
}

const char *xs_cli_get(const xs_cli_opt_t *opts, size_t nopts, const char *name) {
    for (size_t i = 0; i < nopts; i++)
        if (strcmp(opts[i].name, name) == 0)
            return opts[i].value;
    return NULL;
}

xs_err xs_cli_args(const char *program, int argc, char **argv, xs_cli_opt_t *opts, size_t nopts,
                   const char **pos, size_t max_pos, size_t *npos) {
    char msg[256];
    xs_err err = xs_cli_parse(argc, argv, opts, nopts, pos, max_pos, npos, msg, sizeof msg);
    s_program = program;
    snprintf(s_pending, sizeof s_pending, "%s", err != XS_OK && !s_help_asked ? msg : "");
    return err;
}

void xs_cli_exit_codes(FILE *out) {
    fprintf(out,
            "退出码 (exit codes):\n"
            "  0  成功 (done)\n"
            "  1  未全部完成：有被拒绝的行，或出错，见上面的说明 (not everything was done: "
            "see the messages)\n"
            "  2  用法或输入有误，未做任何更改 (bad usage or input: nothing was changed)\n"
            "  3  连不上县级中心或中心校，稍后再试 (the hub or relay cannot be reached: try "
            "later)\n"
            "  4  对方拒绝：未登记、已吊销或公钥不符 (refused: not enrolled, revoked, or a key "
            "that does not match)\n"
            "  5  批次分叉，请县级管理员处理 (forked batches: the county must look)\n"
            "  6  数据已损坏，请运行 check (the store is corrupted: run check)\n");
}

int xs_cli_usage(const char *text) {
    if (s_help_asked) {
        printf("用法 (usage): %s\n\n", text);
        xs_cli_exit_codes(stdout);
        fflush(stdout);
        exit(ferror(stdout) ? XS_EXIT_FAIL : XS_EXIT_OK);
    }
    /* One line: what was wrong, the usage's first line, and where the rest is. */
    int first = (int)strcspn(text, "\n");
    fprintf(stderr, "%s: %s%s用法 (usage): %.*s%s（完整说明加 --help (more: --help)）\n", s_program,
            s_pending, s_pending[0] ? "；" : "", first, text, text[first] ? " …" : "");
    s_pending[0] = '\0';
    return XS_EXIT_USAGE;
}

int xs_cli_front(const char *program, int argc, char **argv, void (*overview)(FILE *out)) {
    s_program = program;
    xs_log_program(program);
    if (argc < 2) {
        overview(stderr);
        return XS_EXIT_USAGE;
    }
    const char *w = argv[1];
    if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0 || strcmp(w, "help") == 0) {
        overview(stdout);
        putchar('\n');
        xs_cli_exit_codes(stdout);
        return fflush(stdout) == 0 && !ferror(stdout) ? XS_EXIT_OK : XS_EXIT_FAIL;
    }
    if (strcmp(w, "-V") == 0 || strcmp(w, "--version") == 0 || strcmp(w, "version") == 0) {
        printf("%s %s\n", program, XS_VERSION);
        return fflush(stdout) == 0 && !ferror(stdout) ? XS_EXIT_OK : XS_EXIT_FAIL;
    }
    return -1;
}

int xs_cli_unknown_command(const char *program, const char *word) {
    fprintf(stderr,
            "%s: 未知命令 \"%s\"，可用的命令见 %s --help (unknown command: see %s --help)\n",
            program, word, program, program);
    return XS_EXIT_USAGE;
}
