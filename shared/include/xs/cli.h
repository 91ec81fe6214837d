/* cli: "--name value" option parsing shared by the programs. */
#ifndef XS_CLI_H
#define XS_CLI_H

#include <stddef.h>

#include "xs/err.h"

/* One option a command accepts. */
typedef struct xs_cli_opt {
    const char *name;  /* without the leading "--" */
    int takes_value;   /* 1: "--name VALUE" or "--name=VALUE"; 0: a flag */
    const char *value; /* set by xs_cli_parse: the value, or "1" for a flag; NULL if absent */
} xs_cli_opt_t;

/* Parses argv[0..argc) against opts; other words are positional, kept in order in pos (at
 * most max_pos). Unknown options, missing values, repeats and too many positionals are
 * XS_EINVAL with a message in errbuf. Values borrow argv. */
XS_MUST_USE xs_err xs_cli_parse(int argc, char **argv, xs_cli_opt_t *opts, size_t nopts,
                                const char **pos, size_t max_pos, size_t *npos, char *errbuf,
                                size_t cap);

/* xs_cli_parse for a program's command: prints "PROGRAM: message" on bad input. */
XS_MUST_USE xs_err xs_cli_args(const char *program, int argc, char **argv, xs_cli_opt_t *opts,
                               size_t nopts, const char **pos, size_t max_pos, size_t *npos);

/* Prints a command's usage text ("用法 (usage): ...") to stderr and returns exit code 2. */
int xs_cli_usage(const char *text);

/* The value of option name after xs_cli_parse, or NULL when absent or not an option. */
const char *xs_cli_get(const xs_cli_opt_t *opts, size_t nopts, const char *name);

#endif
