/* cli: "--name value" option parsing shared by the programs. */
#ifndef XS_CLI_H
#define XS_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "xs/err.h"

/* The exit codes every program and command uses, and only these (xs_cli_exit_codes). */
#define XS_EXIT_OK 0      /* done */
#define XS_EXIT_FAIL 1    /* not everything was done: refused rows, or an error said above */
#define XS_EXIT_USAGE 2   /* bad usage or input: nothing was changed */
#define XS_EXIT_OFFLINE 3 /* the hub or relay cannot be reached: try again later */
#define XS_EXIT_REFUSED                                                                            \
    4                  /* the peer refused: not enrolled, revoked, or a key that does not match */
#define XS_EXIT_FORK 5 /* forked batches: the county must look */
#define XS_EXIT_CORRUPT 6 /* the store is corrupted: run check */

/* One option a command accepts. */
typedef struct xs_cli_opt {
    const char *name;  /* without the leading "--" */
    int takes_value;   /* 1: "--name VALUE" or "--name=VALUE"; 0: a flag */
    const char *value; /* set by xs_cli_parse: the value, or "1" for a flag; NULL if absent */
} xs_cli_opt_t;

/* Parses argv[0..argc) against opts; other words are positional, kept in order in pos (at
 * most max_pos). "-h" and "--help" ask for help: the "help" flag is set when opts has one,
 * and the parse returns XS_EINVAL without a message when it has not (xs_cli_usage then prints
 * the help). Unknown options, missing values, repeats and too many positionals are XS_EINVAL
 * with a message in errbuf. Values borrow argv. */
XS_MUST_USE xs_err xs_cli_parse(int argc, char **argv, xs_cli_opt_t *opts, size_t nopts,
                                const char **pos, size_t max_pos, size_t *npos, char *errbuf,
                                size_t cap);

/* Longest configuration file, in bytes. */
#define XS_CLI_CONFIG_MAX (64 * 1024)

/* Fills, from a configuration file's text (INI: "key = value" lines, "#" or ";" comments,
 * "[section]" headers), the options of opts that are still unset (NULL): keys before any
 * section apply to every command and are ignored where opts has no option of that name; keys
 * under [command] apply to that command only and must name one of its options. A flag's value
 * is yes/true/1 (set) or no/false/0 (left unset); "help" is never read from a file. text is
 * changed in place and the values borrow it. XS_EINVAL with "line N: what" in errbuf. */
XS_MUST_USE xs_err xs_cli_config_parse(char *text, size_t len, const char *command,
                                       xs_cli_opt_t *opts, size_t nopts, char *errbuf, size_t cap);

/* xs_cli_parse for a program's command: prints "PROGRAM: message" on bad input. "--config
 * FILE" (or --config=FILE), accepted by every command, reads FILE (at most XS_CLI_CONFIG_MAX
 * bytes) with xs_cli_config_parse for the command xs_cli_front saw, after the command line: a
 * flag given on the line overrides the file. The file's values live for the process. */
XS_MUST_USE xs_err xs_cli_args(const char *program, int argc, char **argv, xs_cli_opt_t *opts,
                               size_t nopts, const char **pos, size_t max_pos, size_t *npos);

/* Prints a command's usage text ("用法 (usage): ..."). When help was asked (-h or --help seen
 * by xs_cli_parse), prints it and the exit codes to stdout and exits the process with 0;
 * otherwise prints it to stderr with where to read more, and returns XS_EXIT_USAGE. */
int xs_cli_usage(const char *text);

/* Prints the exit codes (XS_EXIT_*), one per line, to out. */
void xs_cli_exit_codes(FILE *out);

/* Handles a program's first word: none → overview on stderr, XS_EXIT_USAGE; -h, --help, help →
 * overview and exit codes on stdout, 0; -V, --version, version → "PROGRAM VERSION" on stdout, 0.
 * Names the program in every log line (xs_log_program). Returns that exit code, or -1 when
 * argv[1] is for the program's own commands. overview prints the program's command list. */
int xs_cli_front(const char *program, int argc, char **argv, void (*overview)(FILE *out));

/* Says on stderr, in one line, that word is not one of program's commands, and returns
 * XS_EXIT_USAGE. */
int xs_cli_unknown_command(const char *program, const char *word);

/* The value of option name after xs_cli_parse, or NULL when absent or not an option. */
const char *xs_cli_get(const xs_cli_opt_t *opts, size_t nopts, const char *name);

#endif
