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
/* The command word xs_cli_front saw ("run"), for a configuration file's [run] section. */
static const char *s_command = "";
/* The configuration file read by xs_cli_args; the options' values borrow it. */
static char s_config[XS_CLI_CONFIG_MAX + 1];

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

/* Strips spaces and tabs from both ends of [*start, *end). */
static void s_trim(char **start, char **end) {
    while (*start < *end && (**start == ' ' || **start == '\t'))
        (*start)++;
    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
        (*end)--;
}

/* The value a flag's "yes"/"no" word gives: 1, 0, or -1 when it is neither. */
static int s_flag_word(const char *v) {
    static const char *const yes[] = {"yes", "true", "1", "on"}, *const no[] = {"no", "false", "0",
                                                                                "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0)
            return 1;
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

xs_err xs_cli_config_parse(char *text, size_t len, const char *command, xs_cli_opt_t *opts,
                           size_t nopts, char *errbuf, size_t cap) {
    char *p = text, *end = text + len;
    int in_section = 0, ours = 1; /* in a [section]; and it is this command's */
    for (unsigned line = 1; p < end; line++) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        char *next = eol ? eol + 1 : end, *a = p, *b = eol ? eol : end;
        p = next;
        s_trim(&a, &b);
        if (a == b || *a == '#' || *a == ';')
            continue;
        if (memchr(a, '\0', (size_t)(b - a))) {
            snprintf(errbuf, cap, "第 %u 行含有 NUL 字节 (line %u holds a NUL byte)", line, line);
            return XS_EINVAL;
        }
        if (*a == '[') {
            if (b[-1] != ']' || b - a < 3) {
                snprintf(errbuf, cap, "第 %u 行的节名不完整 (line %u: a bad [section])", line,
                         line);
                return XS_EINVAL;
            }
            in_section = 1;
            ours = (size_t)(b - a - 2) == strlen(command) &&
                   memcmp(a + 1, command, (size_t)(b - a - 2)) == 0;
            continue;
        }
        char *eq = memchr(a, '=', (size_t)(b - a));
        if (!eq) {
            snprintf(errbuf, cap, "第 %u 行不是 key = value (line %u is not key = value)", line,
                     line);
            return XS_EINVAL;
        }
        char *ka = a, *kb = eq, *va = eq + 1, *vb = b;
        s_trim(&ka, &kb);
        s_trim(&va, &vb);
        if (vb - va >= 2 && *va == '"' && vb[-1] == '"')
            va++, vb--;
        *kb = '\0';
        *vb = '\0';
        if (!ours)
            continue;
        xs_cli_opt_t *opt = NULL;
        for (size_t i = 0; i < nopts; i++)
            if (strcmp(opts[i].name, ka) == 0 && strcmp(ka, "help") != 0)
                opt = &opts[i];
        if (!opt) {
            if (!in_section)
                continue; /* another command's option */
            snprintf(errbuf, cap, "第 %u 行: [%s] 没有选项 %s (line %u: %s takes no %s)", line,
                     command, ka, line, command, ka);
            return XS_EINVAL;
        }
        if (opt->value)
            continue; /* the command line said it */
        if (!opt->takes_value) {
            int set = s_flag_word(va);
            if (set < 0) {
                snprintf(errbuf, cap, "第 %u 行: %s 应为 yes 或 no (line %u: %s is yes or no)",
                         line, ka, line, ka);
                return XS_EINVAL;
            }
            opt->value = set ? "1" : NULL;
        } else {
            opt->value = va;
        }
    }
    return XS_OK;
}

/* Reads the file a "--config" word names into s_config and applies it; the message in msg. */
static xs_err s_config_apply(const char *path, xs_cli_opt_t *opts, size_t nopts, char *msg,
                             size_t cap) {
    char why[200];
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, cap, "无法读取配置文件 %s (cannot read the config file)", path);
        return XS_EINVAL;
    }
    size_t n = fread(s_config, 1, sizeof s_config, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > XS_CLI_CONFIG_MAX) {
        snprintf(msg, cap, "配置文件 %s %s", path,
                 bad ? "读取出错 (read error)" : "超过 64 KiB (over 64 KiB)");
        return XS_EINVAL;
    }
    s_config[n] = '\0';
    xs_err err = xs_cli_config_parse(s_config, n, s_command, opts, nopts, why, sizeof why);
    if (err != XS_OK)
        snprintf(msg, cap, "配置文件 %s %s (config file)", path, why);
    return err;
}

/* Where argv names a configuration file ("--config FILE" or "--config=FILE"): the index of
 * its word, with *path set; -1 when it names none; -2 when --config has no value. */
static int s_config_word(int argc, char **argv, const char **path) {
    for (int a = 0; a < argc; a++) {
        if (strcmp(argv[a], "--") == 0)
            return -1;
        if (strncmp(argv[a], "--config=", 9) == 0) {
            *path = argv[a] + 9;
            return a;
        }
        if (strcmp(argv[a], "--config") == 0) {
            if (a + 1 >= argc)
                return -2;
            *path = argv[a + 1];
            return a;
        }
    }
    return -1;
}

/* Longest command line xs_cli_args takes, in words. */
#define S_MAX_WORDS 256

xs_err xs_cli_args(const char *program, int argc, char **argv, xs_cli_opt_t *opts, size_t nopts,
                   const char **pos, size_t max_pos, size_t *npos) {
    char msg[256];
    const char *config = NULL;
    char *words[S_MAX_WORDS];
    int at = s_config_word(argc, argv, &config), nwords = 0;
    xs_err err = XS_OK;
    if (at == -2 || argc > S_MAX_WORDS) {
        snprintf(msg, sizeof msg, "%s",
                 at == -2 ? "选项 --config 缺少值 (needs a value)" : "参数太多 (too many words)");
        err = XS_EINVAL;
    } else {
        for (int a = 0; a < argc; a++)
            if (a != at && !(at >= 0 && a == at + 1 && strcmp(argv[at], "--config") == 0))
                words[nwords++] = argv[a];
        err = xs_cli_parse(nwords, words, opts, nopts, pos, max_pos, npos, msg, sizeof msg);
        if (err == XS_OK && config)
            err = s_config_apply(config, opts, nopts, msg, sizeof msg);
    }
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
    s_command = w;
    return -1;
}

int xs_cli_unknown_command(const char *program, const char *word) {
    fprintf(stderr,
            "%s: 未知命令 \"%s\"，可用的命令见 %s --help (unknown command: see %s --help)\n",
            program, word, program, program);
    return XS_EXIT_USAGE;
}
