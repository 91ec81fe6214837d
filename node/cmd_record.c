/* xueshi-node record: append one activity, durably, after validating it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "node.h"
#include "staff.h"

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

struct s_append {
    const uint8_t *bytes; /* encoded record */
    size_t len;
    node_dedupe_t key;
    uint64_t seq; /* out: the new record's sequence number */
};

static xs_err s_append(xs_txn_t *txn, void *ctx) {
    struct s_append *a = ctx;
    return node_append(txn, a->bytes, a->len, &a->key, &a->seq);
}

int node_cmd_record(int argc, char **argv) {
    xs_cli_opt_t opts[S_NFIELDS + 2];
    const size_t nopts = S_NFIELDS + 2;
    const char *pos[1];
    size_t npos;
    node_t node;
    xs_policy_t *policy = NULL;
    xs_staff_t staff = {0};
    xs_record_t rec;
    xs_writer_t w;
    int rc = 1;
    for (size_t i = 0; i < S_NFIELDS; i++)
        opts[i] = (xs_cli_opt_t){s_fields[i].option, 1, NULL};
    opts[S_NFIELDS] = (xs_cli_opt_t){"dir", 1, NULL};
    opts[S_NFIELDS + 1] = (xs_cli_opt_t){"help", 0, NULL};
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_USAGE);

    xs_record_init(&rec);
    for (size_t i = 0; i < S_NFIELDS; i++) {
        xs_reason why;
        const char *v = xs_cli_get(opts, nopts, s_fields[i].option);
        if (s_fields[i].field == XS_F_CATEGORY)
            continue; /* named under the node's policy, below */
        if (v && xs_record_set_text(&rec, s_fields[i].field, v, strlen(v), &why) != XS_OK) {
            fprintf(stderr, "xueshi-node: 拒绝登记 (refused): --%s \"%s\": %s (%s)\n",
                    s_fields[i].option, v, xs_reason_zh(why), xs_reason_code(why));
            return 2;
        }
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
    const char *category = xs_cli_get(opts, nopts, "category");
    if (category) {
        int code = node_category_parse(policy, category, strlen(category));
        if (code <= 0) {
            fprintf(stderr, "xueshi-node: 拒绝登记 (refused): --category \"%s\": %s (%s)\n",
                    category, xs_reason_zh(XS_REASON_UNKNOWN_CATEGORY),
                    xs_reason_code(XS_REASON_UNKNOWN_CATEGORY));
            node_category_hint(policy);
            rc = 2;
            goto out;
        }
        rec.category = (uint8_t)code;
        rec.present |= 1u << XS_F_CATEGORY;
    }
    if (rec.school_id.len == 0) {
        rec.school_id.ptr = node.school;
        rec.school_id.len = (uint32_t)strlen(node.school);
        rec.present |= 1u << XS_F_SCHOOL_ID;
    }
    rec.recorded_at = (int64_t)time(NULL);
    rec.present |= 1u << XS_F_RECORDED_AT;
    if (node_check(&node, policy, &rec, 0) != XS_REASON_NONE) {
        rc = 2;
        goto out;
    }
    /* With the county's roster held, only its teachers of this school; without, anyone. */
    err = node_staff_load(&node, &staff);
    if (err != XS_OK && err != XS_ENOTFOUND) {
        rc = node_exit_code(err, dir);
        goto out;
    }
    if (!node_staff_admits(&staff, &rec, 0)) {
        rc = 2;
        goto out;
    }
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    struct s_append a = {w.data, w.len, {{0}, 0}, 0};
    node_dedupe_key(&rec, &a.key);
    err = xs_writer_err(&w);
    if (err == XS_OK)
        err = xs_store_update(node.store, s_append, &a);
    xs_writer_free(&w);
    if (err != XS_OK) {
        xs_log_err(err, "登记失败，未写入 (not recorded)");
        rc = node_exit_code(err, dir);
        goto out;
    }
    printf("已登记 (recorded) %llu\n", (unsigned long long)a.seq);
    rc = 0;
out:
    xs_staff_free(&staff);
    xs_policy_destroy(&policy);
    node_close(&node);
    return rc;
}
