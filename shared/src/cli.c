/* cli: "--name value" option parsing shared by the programs. */
#include "xs/cli.h"

#include <stdio.h>
#include <string.h>

xs_err xs_cli_parse(int argc, char **argv, xs_cli_opt_t *opts, size_t nopts, const char **pos,
                    size_t max_pos, size_t *npos, char *errbuf, size_t cap) {
    *npos = 0;
    for (size_t i = 0; i < nopts; i++)
        opts[i].value = NULL;
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
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
    if (err != XS_OK)
        fprintf(stderr, "%s: %s\n", program, msg);
    return err;
}

int xs_cli_usage(const char *text) {
    fprintf(stderr, "用法 (usage): %s\n", text);
    return 2;
}
