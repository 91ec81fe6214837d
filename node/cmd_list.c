/* xueshi-node list: show the node's records as a table or as CSV for Excel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node.h"
#include "reviews.h"
#include "staff.h"
#include "xs/csv.h"
#include "xs/text.h"

#define S_USAGE                                                                                              \
    "xueshi-node list --dir DIR [--teacher T] [--year 2025-2026] [--format table|csv]\n"                     \
    "  --format csv: 可用 Excel 打开，也可再导入 (import) 或交 xueshi certify 计算 (opens in " \
    "Excel, "                                                                                                \
    "and reads back into import and certify)"

/* Columns of the CSV form, between id and voided_by: the import sheet's own columns, so an
 * office reads the list like its register (and those columns import into another node), with
 * `name` (the roster's, the sheet's name column) after teacher_id. After voided_by come the
 * school's review of the record (未审核, 已通过, 已退回) and the reason of a return. */
static const xs_field s_csv_fields[] = {
    XS_F_SCHOOL_ID, XS_F_TEACHER_ID, XS_F_DATE, XS_F_CATEGORY, XS_F_ROLE,  XS_F_MINUTES, XS_F_HOURS,
    XS_F_DAYS,      XS_F_CHARS,      XS_F_UNIT, XS_F_LESSONS,  XS_F_LEVEL, XS_F_GRADE,   XS_F_WORK,
    XS_F_EVENT,     XS_F_SCORE,      XS_F_NOTE, XS_F_OPERATOR, XS_F_REF,
};
#define S_NCSV (sizeof s_csv_fields / sizeof s_csv_fields[0])

/* What the first pass gathers: which records are voided, and how each was reviewed. */
typedef struct s_list {
    node_voids_t voids;     /* sorted */
    node_reviews_t reviews; /* each record's latest review, sorted */
} s_list_t;

/* Writes field f of rec as text a user (and the importer) reads back: returns the length. A
 * category is named under policy (NULL: built-ins only); a code it does not define is shown as
 * its number. */
static size_t s_field_text(const xs_policy_t *policy, const xs_record_t *rec, xs_field f, char *out,
                           size_t cap) {
    const xs_str_t *s = NULL;
    out[0] = '\0';
    if (!((rec->present >> f) & 1u))
        return 0;
    switch (f) {
    case XS_F_SCHOOL_ID:
        s = &rec->school_id;
        break;
    case XS_F_TEACHER_ID:
        s = &rec->teacher_id;
        break;
    case XS_F_WORK:
        s = &rec->work;
        break;
    case XS_F_EVENT:
        s = &rec->event;
        break;
    case XS_F_NOTE:
        s = &rec->note;
        break;
    case XS_F_OPERATOR:
        s = &rec->operator_;
        break;
    case XS_F_REF:
        s = &rec->ref;
        break;
    case XS_F_DATE:
        xs_date_format(rec->date, out);
        return 10;
    case XS_F_CATEGORY: {
        const char *name = xs_policy_category_name(policy, rec->category);
        if (name)
            return (size_t)snprintf(out, cap, "%s", name);
        return (size_t)snprintf(out, cap, "%u", rec->category);
    }
    case XS_F_ROLE:
        return (size_t)snprintf(out, cap, "%s", xs_role_name(rec->role));
    case XS_F_LEVEL:
        return (size_t)snprintf(out, cap, "%s", xs_level_name(rec->level));
    case XS_F_GRADE:
        return (size_t)snprintf(out, cap, "%s", xs_grade_name(rec->grade));
    case XS_F_UNIT:
        return (size_t)snprintf(out, cap, "%u", rec->unit);
    case XS_F_MINUTES:
        return xs_text_format_fixed(out, cap, rec->minutes, 0);
    case XS_F_CHARS:
        return xs_text_format_fixed(out, cap, rec->chars, 0);
    case XS_F_LESSONS:
        return xs_text_format_fixed(out, cap, rec->lessons, 0);
    case XS_F_HOURS:
        return xs_text_format_fixed(out, cap, rec->hours, 2);
    case XS_F_SCORE:
        return xs_text_format_fixed(out, cap, rec->score, 2);
    case XS_F_DAYS:
        return xs_text_format_fixed(out, cap, (uint64_t)rec->days * 5, 1);
    default:
        return 0;
    }
    size_t n = s->len < cap - 1 ? s->len : cap - 1;
    memcpy(out, s->ptr, n);
    out[n] = '\0';
    return n;
}

static void s_detail(const xs_record_t *rec, char *out, size_t cap) {
    char num[32];
    size_t n = 0;
#define S_ADD(...)                                                                                 \
    do {                                                                                           \
        if (n < cap)                                                                               \
            n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__);                                  \
    } while (0)
    out[0] = '\0';
    if (rec->role)
        S_ADD("%s ", xs_role_zh(rec->role));
    if ((rec->present >> XS_F_MINUTES) & 1u)
        S_ADD("%u分钟 ", rec->minutes);
    if ((rec->present >> XS_F_HOURS) & 1u) {
        xs_text_format_fixed(num, sizeof num, rec->hours, 2);
        S_ADD("%s学时 ", num);
    }
    if ((rec->present >> XS_F_DAYS) & 1u) {
        xs_text_format_fixed(num, sizeof num, (uint64_t)rec->days * 5, 1);
        S_ADD("%s天 ", num);
    }
    if ((rec->present >> XS_F_CHARS) & 1u)
        S_ADD("%u字 ", rec->chars);
    if (rec->unit)
        S_ADD("单元设计 ");
    if ((rec->present >> XS_F_LESSONS) & 1u)
        S_ADD("%u课时 ", rec->lessons);
    if (rec->level)
        S_ADD("%s ", xs_level_zh(rec->level));
    if (rec->grade)
        S_ADD("%s ", xs_grade_zh(rec->grade));
    if ((rec->present >> XS_F_SCORE) & 1u) {
        xs_text_format_fixed(num, sizeof num, rec->score, 2);
        S_ADD("%s分 ", num);
    }
    if (rec->event.len)
        S_ADD("[%.*s] ", (int)rec->event.len, rec->event.ptr);
    if (rec->work.len)
        S_ADD("《%.*s》 ", (int)rec->work.len, rec->work.ptr);
#undef S_ADD
}

/* What the user asked list for. */
typedef struct s_query {
    const char *dir;     /* --dir */
    const char *teacher; /* only this teacher, or NULL */
    const char *year;    /* only this academic year ("2025-2026"), or NULL */
    int first_year;      /* the year's first calendar year, when year is given */
    int csv;             /* 1: CSV for Excel; 0: a table */
    xs_policy_t *policy; /* the node's policy, naming its county's categories; NULL: none */
    xs_staff_t staff;    /* the node's part of the roster, naming its teachers; zeroed: none */
    int32_t from, to;    /* activity dates shown, days since 1970-01-01, inclusive */
} s_query_t;

/* Reads the options into *q; XS_EINVAL, with the usage or the refusal printed, when they are
 * not a query (exit code 2). */
static xs_err s_parse(int argc, char **argv, s_query_t *q) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},
                           {"teacher", 1, NULL},
                           {"year", 1, NULL},
                           {"format", 1, NULL},
                           {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    memset(q, 0, sizeof *q);
    q->from = INT32_MIN;
    q->to = INT32_MAX;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !(q->dir = xs_cli_get(opts, nopts, "dir"))) {
        node_usage(S_USAGE);
        return XS_EINVAL;
    }
    const char *format = xs_cli_get(opts, nopts, "format");
    q->teacher = xs_cli_get(opts, nopts, "teacher");
    q->year = xs_cli_get(opts, nopts, "year");
    if (format && strcmp(format, "csv") == 0) {
        q->csv = 1;
    } else if (format && strcmp(format, "table") != 0) {
        node_usage(S_USAGE);
        return XS_EINVAL;
    }
    if (q->year && node_parse_year(q->year, &q->first_year) != XS_OK)
        return XS_EINVAL;
    return XS_OK;
}

/* Loads the node's policy into q (it names the county's own categories) and sets q's date
 * range to its academic year: the policy says when a year starts, 09-01 without one. */
static void s_year_range(node_t *node, s_query_t *q) {
    if (node_policy(node, &q->policy) != XS_OK)
        q->policy = NULL;
    const xs_policy_t *policy = q->policy;
    if (!q->year)
        return;
    if (policy) {
        q->from = xs_policy_semester_start(policy, q->first_year, 1);
        q->to = xs_policy_semester_start(policy, q->first_year + 1, 1) - 1;
    } else {
        q->from = xs_date_from_civil(q->first_year, 9, 1);
        q->to = xs_date_from_civil(q->first_year + 1, 9, 1) - 1;
    }
}

/* A step of the first pass: notes the correction or the review the entry is, if it is one. */
static xs_err s_collect_void(void *ctx, uint64_t seq, const xs_bytes_t *key,
                             const xs_bytes_t *bytes) {
    s_list_t *list = ctx;
    xs_record_t rec;
    char why[NODE_WHY_MAX];
    if (node_record_read(key, bytes, &seq, &rec, why) != XS_OK)
        return XS_OK; /* reported in the second pass */
    xs_err err = node_reviews_add(&list->reviews, seq, &rec);
    return err == XS_OK ? node_voids_add(&list->voids, seq, &rec) : err;
}

/* First pass over the records: which are voided, and by which correction, sorted; and how
 * the school reviewed each. */
static xs_err s_collect_voids(xs_txn_t *txn, s_list_t *list) {
    xs_err err = node_records_raw(txn, s_collect_void, list);
    if (err != XS_OK)
        return err;
    node_reviews_sort(&list->reviews);
    node_voids_sort(&list->voids);
    return XS_OK;
}

/* Prints the column headings; -1 when stdout fails. */
static int s_print_header(int csv) {
    if (!csv) {
        node_pad("编号", 8);
        node_pad("日期", 12);
        node_pad("教师", 12);
        node_pad("姓名", 10);
        node_pad("类别", 14);
        node_pad("状态", 18);
        node_pad("审核", 8);
        puts("内容");
        return 0;
    }
    if (xs_csv_write_bom(stdout) != XS_OK || xs_csv_write_cell(stdout, "id", 2, 0) != XS_OK)
        return -1;
    for (size_t i = 0; i < S_NCSV; i++) {
        const char *name = xs_field_name(s_csv_fields[i]);
        if (xs_csv_write_cell(stdout, name, strlen(name), 0) != XS_OK)
            return -1;
        if (s_csv_fields[i] == XS_F_TEACHER_ID && xs_csv_write_cell(stdout, "name", 4, 0) != XS_OK)
            return -1;
    }
    return xs_csv_write_cell(stdout, "voided_by", 9, 0) != XS_OK ||
                   xs_csv_write_cell(stdout, "review", 6, 0) != XS_OK ||
                   xs_csv_write_cell(stdout, "review_reason", 13, 1) != XS_OK
               ? -1
               : 0;
}

/* The reason a returned record shows: its review's note; "" otherwise. */
static xs_str_t s_return_reason(const node_review_t *review) {
    if (review && review->verdict == XS_VERDICT_RETURNED)
        return review->note;
    return (xs_str_t){"", 0};
}

/* Prints record id as one CSV row; by is the correction voiding it, or 0; review its latest
 * review, or NULL. -1 when stdout fails. */
static int s_print_csv_row(const s_query_t *q, const xs_record_t *rec, const char *id, uint64_t by,
                           const node_review_t *review) {
    char text[XS_NOTE_MAX + 1];
    if (xs_csv_write_cell(stdout, id, strlen(id), 0) != XS_OK)
        return -1;
    for (size_t i = 0; i < S_NCSV; i++) {
        size_t n = s_field_text(q->policy, rec, s_csv_fields[i], text, sizeof text);
        if (xs_csv_write_cell(stdout, text, n, 0) != XS_OK)
            return -1;
        if (s_csv_fields[i] != XS_F_TEACHER_ID)
            continue;
        const char *name = node_staff_name(&q->staff, rec->teacher_id.ptr, rec->teacher_id.len);
        if (xs_csv_write_cell(stdout, name, strlen(name), 0) != XS_OK)
            return -1;
    }
    int n = by ? snprintf(text, sizeof text, "%llu", (unsigned long long)by) : 0;
    const char *label = node_review_label(review);
    xs_str_t reason = s_return_reason(review);
    return xs_csv_write_cell(stdout, text, (size_t)n, 0) != XS_OK ||
                   xs_csv_write_cell(stdout, label, strlen(label), 0) != XS_OK ||
                   xs_csv_write_cell(stdout, reason.ptr, reason.len, 1) != XS_OK
               ? -1
               : 0;
}

/* Prints record id as one table line; by is the correction voiding it, or 0; review its
 * latest review, or NULL. */
static void s_print_table_row(const s_query_t *q, const xs_record_t *rec, const char *id,
                              uint64_t by, const node_review_t *review) {
    const xs_policy_t *policy = q->policy;
    char text[XS_NOTE_MAX + 1], status[48], detail[1200];
    if (by)
        snprintf(status, sizeof status, "已作废(#%llu)", (unsigned long long)by);
    else
        snprintf(status, sizeof status, "有效");
    s_field_text(policy, rec, XS_F_DATE, text, sizeof text);
    node_pad(id, 8);
    node_pad(text, 12);
    s_field_text(policy, rec, XS_F_TEACHER_ID, text, sizeof text);
    node_pad(text, 12);
    node_pad(node_staff_name(&q->staff, rec->teacher_id.ptr, rec->teacher_id.len), 10);
    const char *zh = xs_policy_category_label(policy, rec->category);
    char code[16];
    if (!zh) {
        snprintf(code, sizeof code, "?%u", rec->category);
        zh = code;
    }
    node_pad(zh, 14);
    node_pad(status, 18);
    node_pad(node_review_label(review), 8);
    s_detail(rec, detail, sizeof detail);
    xs_str_t reason = s_return_reason(review);
    if (reason.len)
        printf("%s退回原因：%.*s\n", detail, (int)reason.len, reason.ptr);
    else
        puts(detail);
}

/* Whether q selects rec (an activity of its teacher and dates). */
static int s_selected(const s_query_t *q, const xs_record_t *rec) {
    if (rec->kind != XS_KIND_ACTIVITY)
        return 0;
    if (q->teacher && (rec->teacher_id.len != strlen(q->teacher) ||
                       memcmp(rec->teacher_id.ptr, q->teacher, rec->teacher_id.len) != 0))
        return 0;
    return rec->date >= q->from && rec->date <= q->to;
}

/* What the second pass saw. */
typedef struct s_shown {
    uint64_t shown;  /* activity records printed */
    uint64_t voided; /* of which voided */
    int broken;      /* 1 when a record was corrupted or missing (reported) */
    int io_failed;   /* 1 when stdout failed: printing stopped */
} s_shown_t;

/* Reports a record that is not what the records table promises: a damaged one (its seq, or
 * 0 for a damaged key, and why), or a break in the numbering before seq (expected: the seq
 * that should have come). */
static void s_broken(uint64_t seq, uint64_t expected, const char *why) {
    if (why && seq == 0)
        fprintf(stderr, "xueshi-node: 记录表中有损坏的键 (a damaged key in the records table)\n");
    else if (why)
        fprintf(stderr, "xueshi-node: 记录 %llu 数据已损坏 (record %llu is corrupted): %s\n",
                (unsigned long long)seq, (unsigned long long)seq, why);
    else if (seq > expected)
        fprintf(stderr, "xueshi-node: 记录 %llu 至 %llu 缺失，数据已损坏 (records missing)\n",
                (unsigned long long)expected, (unsigned long long)(seq - 1));
    else
        fprintf(stderr, "xueshi-node: 记录 %llu 顺序错乱，数据已损坏 (record out of order)\n",
                (unsigned long long)seq);
}

/* What the second pass walks with. */
typedef struct s_pass {
    const s_query_t *q;
    const s_list_t *list;
    s_shown_t *out;
    uint64_t expected; /* the seq that should come next */
} s_pass_t;

/* A step of the second pass: prints the entry when it is a selected valid record, else reports
 * it, and reports a hole in the numbering before it. Stops (out->io_failed) when stdout
 * fails. */
static xs_err s_print_record(void *ctx, uint64_t seq, const xs_bytes_t *key,
                             const xs_bytes_t *bytes) {
    s_pass_t *p = ctx;
    xs_record_t rec;
    char why[NODE_WHY_MAX];
    xs_err bad = node_record_read(key, bytes, &seq, &rec, why);
    if (seq != 0 && seq != p->expected) {
        s_broken(seq, p->expected, NULL);
        p->out->broken = 1;
    }
    if (seq >= p->expected)
        p->expected = seq + 1;
    if (bad != XS_OK) {
        s_broken(seq, p->expected, why);
        p->out->broken = 1;
        return XS_OK;
    }
    if (!s_selected(p->q, &rec))
        return XS_OK;
    uint64_t by = node_voids_by(&p->list->voids, seq);
    const node_review_t *review = node_reviews_find(&p->list->reviews, seq);
    char id[24];
    p->out->shown++;
    p->out->voided += by != 0;
    snprintf(id, sizeof id, "%llu", (unsigned long long)seq);
    if (!p->q->csv) {
        s_print_table_row(p->q, &rec, id, by, review);
    } else if (s_print_csv_row(p->q, &rec, id, by, review) != 0) {
        p->out->io_failed = 1;
        return XS_EIO; /* stops the walk */
    }
    return XS_OK;
}

/* Second pass: prints every selected record that reads as a valid record; reports the others
 * and holes in the numbering. A store error stops it and is returned. */
static xs_err s_print_records(xs_txn_t *txn, const s_query_t *q, const s_list_t *list,
                              s_shown_t *out) {
    s_pass_t pass = {q, list, out, 1};
    xs_err err = node_records_raw(txn, s_print_record, &pass);
    return out->io_failed ? XS_OK : err;
}

int node_cmd_list(int argc, char **argv) {
    s_query_t q;
    node_t node;
    xs_txn_t *txn = NULL;
    s_list_t list = {0};
    s_shown_t seen = {0};
    int rc;
    if (s_parse(argc, argv, &q) != XS_OK)
        return 2;
    xs_err err = node_open(&node, q.dir);
    if (err != XS_OK)
        return node_exit_code(err, q.dir);
    s_year_range(&node, &q);
    /* Names come from the roster part; without one (or unreadable: said) the column is empty. */
    if (node_staff_load(&node, &q.staff) != XS_OK)
        memset(&q.staff, 0, sizeof q.staff);
    err = xs_store_read(node.store, &txn);
    if (err == XS_OK)
        err = s_collect_voids(txn, &list);
    if (err == XS_OK && s_print_header(q.csv) != 0)
        seen.io_failed = 1;
    if (err == XS_OK && !seen.io_failed)
        err = s_print_records(txn, &q, &list, &seen);
    if (err == XS_OK && seen.io_failed) {
        fprintf(stderr, "xueshi-node: 输出失败 (cannot write output)\n");
        rc = 1;
    } else if (err != XS_OK) {
        xs_log_err(err, "读取记录 (reading records)");
        rc = node_exit_code(err, q.dir);
    } else {
        if (!q.csv)
            printf("共 %llu 条记录，其中作废 %llu 条 (%llu records, %llu voided)\n",
                   (unsigned long long)seen.shown, (unsigned long long)seen.voided,
                   (unsigned long long)seen.shown, (unsigned long long)seen.voided);
        if (seen.broken)
            node_corrupt_hint(q.dir);
        rc = seen.broken ? NODE_EXIT_CORRUPT : 0;
    }
    if (fflush(stdout) != 0)
        rc = 1;
    node_voids_free(&list.voids);
    node_reviews_free(&list.reviews);
    xs_store_end(&txn);
    xs_staff_free(&q.staff);
    xs_policy_destroy(&q.policy);
    node_close(&node);
    return rc;
}
