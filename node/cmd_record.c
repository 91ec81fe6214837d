/* xueshi-node record: append one activity, durably, after validating it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "entry.h"
#include "node.h"

#define S_USAGE                                                                                    \
    "xueshi-node record --dir DIR --teacher T --date YYYY-MM-DD --category C\n"                    \
    "       [--role R] [--minutes N] [--hours H] [--days D] [--chars N] [--unit 0|1] [--lessons "  \
    "N]\n"                                                                                         \
    "       [--level L] [--grade G] [--work TITLE] [--event E] [--score S] [--note TEXT]\n"        \
    "       [--operator NAME] [--ref KEY] [--school SCHOOL_ID]\n"                                  \
    "  categories: lecture external_training online_training research_session open_class\n"        \
    "              reflection teaching_design paper project exam, by name or Chinese label,\n"     \
    "              and the county's own categories once the node holds its policy"

/* Command-line options that set record fields, and the field each sets. */
static const struct {
    const char *option;
    xs_field field;
} s_fields[] = {
    {"teacher", XS_F_TEACHER_ID}, {"date", XS_F_DATE},       {"category", XS_F_CATEGORY},
    {"role", XS_F_ROLE},          {"minutes", XS_F_MINUTES}, {"hours", XS_F_HOURS},
    {"days", XS_F_DAYS},          {"chars", XS_F_CHARS},     {"unit", XS_F_UNIT},
    {"level", XS_F_LEVEL},        {"grade", XS_F_GRADE},     {"work", XS_F_WORK},
    {"event", XS_F_EVENT},        {"score", XS_F_SCORE},     {"note", XS_F_NOTE},
    {"operator", XS_F_OPERATOR},  {"ref", XS_F_REF},         {"school", XS_F_SCHOOL_ID},
    {"lessons", XS_F_LESSONS},
};
#define S_NFIELDS (sizeof s_fields / sizeof s_fields[0])

int node_cmd_record(int argc, char **argv) {
    xs_cli_opt_t opts[S_NFIELDS + 2];
    const size_t nopts = S_NFIELDS + 2;
    node_entry_field_t fields[S_NFIELDS];
    const char *pos[1];
    size_t npos, nfields = 0;
    node_t node;
    xs_policy_t *policy = NULL;
    xs_staff_t staff = {0};
    node_refusal_t why;
    uint64_t seq = 0;
    int rc = 1;
    for (size_t i = 0; i < S_NFIELDS; i++)
        opts[i] = (xs_cli_opt_t){s_fields[i].option, 1, NULL};
    opts[S_NFIELDS] = (xs_cli_opt_t){"dir", 1, NULL};
    opts[S_NFIELDS + 1] = (xs_cli_opt_t){"help", 0, NULL};
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_USAGE);
    for (size_t i = 0; i < S_NFIELDS; i++) {
        const char *v = xs_cli_get(opts, nopts, s_fields[i].option);
        if (v)
            fields[nfields++] = (node_entry_field_t){xs_field_name(s_fields[i].field), v};
    }
    const char *dir = xs_cli_get(opts, nopts, "dir");
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    /* The county's own categories come with its policy; without one (or with one in an older
     * format) the built-in categories are all the node knows. */
    err = node_policy(&node, &policy);
    if (err == XS_ECORRUPT) {
        rc = node_exit_code(err, dir);
        goto out;
    }
    /* With the county's roster held, only its teachers of this school; without, anyone. */
    err = node_staff_load(&node, &staff);
    if (err != XS_OK && err != XS_ENOTFOUND) {
        rc = node_exit_code(err, dir);
        goto out;
    }
    err = node_entry_add(&node, policy, &staff, fields, nfields, (int64_t)time(NULL), &seq, &why);
    if (why.why != XS_REASON_NONE) {
        fprintf(stderr, "xueshi-node: 拒绝登记 (refused): %s\n", why.text);
        rc = 2;
        goto out;
    }
    if (err != XS_OK) {
        xs_log_err(err, "登记失败，未写入 (not recorded)");
        rc = node_exit_code(err, dir);
        goto out;
    }
    printf("已登记 (recorded) %llu\n", (unsigned long long)seq);
    rc = 0;
out:
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
    node_close(&node);
    return rc;
}
