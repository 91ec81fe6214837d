/* xueshi-node check: walk the whole store, table by table, and say whether it is sound. */
#include <stdio.h>

#include "check.h"

#define S_USAGE                                                                                                       \
    "xueshi-node check --dir DIR\n"                                                                                   \
    "  读遍整个数据库并报告损坏之处，不修改任何数据 (reads the whole store, changes nothing)\n" \
    "  退出码 (exit codes): 0 存储完好 (sound), 6 发现损坏 (problems found),\n"                            \
    "                       1 无法检查 (could not check), 2 用法错误 (usage)"

/* Problems listed in full; the others are counted. */
#define S_LIST_MAX 20

/* The problems seen so far. */
typedef struct s_report {
    char listed[S_LIST_MAX][640]; /* the first S_LIST_MAX, with their table */
    size_t nlisted;               /* lines in listed */
    uint64_t problems;            /* problems seen */
} s_report_t;

static const char *s_name(unsigned table) {
    return table < NODE_CHECK_KEY_FILE ? node_tables[table] : "node.secret";
}

static void s_on_problem(void *ctx, unsigned table, const char *text) {
    s_report_t *r = ctx;
    if (r->nlisted < S_LIST_MAX)
        snprintf(r->listed[r->nlisted++], sizeof r->listed[0], "%s: %s", s_name(table), text);
    r->problems++;
}

/* One line per table, as its walk ends. */
static void s_on_table(void *ctx, const node_check_table_t *t) {
    (void)ctx;
    printf("  ");
    node_pad(s_name(t->table), 14);
    node_pad(node_check_label(t->table), 16);
    if (t->table < NODE_CHECK_KEY_FILE && t->complete)
        printf("%10llu 条 (entries)  ", (unsigned long long)t->entries);
    else if (t->table < NODE_CHECK_KEY_FILE)
        printf("    未读完 (unfinished)  ");
    if (t->problems)
        printf("%llu 处问题 (problems)\n", (unsigned long long)t->problems);
    else
        printf("完好 (sound)\n");
    fflush(stdout);
}

int node_cmd_check(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1], *dir;
    size_t npos;
    uint64_t problems = 0;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !(dir = xs_cli_get(opts, nopts, "dir")))
        return node_usage(S_USAGE);
    static s_report_t report; /* 13 KiB of listed lines: not on the stack */
    node_check_sink_t sink = {s_on_problem, s_on_table, &report};
    printf("检查 (checking) %s\n", dir);
    xs_err err = node_check_run(dir, &sink, &problems);
    if (err == XS_ENOTFOUND)
        return 1;
    if (report.nlisted > 0) {
        printf("问题 (problems):\n");
        for (size_t i = 0; i < report.nlisted; i++)
            printf("  %s\n", report.listed[i]);
        if (report.problems > report.nlisted)
            printf("  ……另有 %llu 处未列出 (%llu more not listed)\n",
                   (unsigned long long)(report.problems - report.nlisted),
                   (unsigned long long)(report.problems - report.nlisted));
    }
    if (err != XS_OK) {
        xs_log_err(err, "检查未能完成 (the check could not finish)");
        return 1;
    }
    if (problems == 0) {
        printf("存储完好 (store is sound)\n");
        return 0;
    }
    printf("发现 %llu 处损坏 (%llu problems)\n", (unsigned long long)problems,
           (unsigned long long)problems);
    return NODE_EXIT_CORRUPT;
}
