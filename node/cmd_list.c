/* xueshi-node list: show the node's records as a table or as CSV for Excel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "xs/csv.h"
#include "xs/text.h"

#define S_USAGE "xueshi-node list --dir DIR [--teacher T] [--year 2025-2026] [--format table|csv]"

/* Columns of the CSV form, between id and voided_by: the import sheet's own columns, so an
 * office reads the list like its register (and those columns import into another node). */
static const xs_field s_csv_fields[] = {
    XS_F_SCHOOL_ID, XS_F_TEACHER_ID, XS_F_DATE,  XS_F_CATEGORY, XS_F_ROLE,     XS_F_MINUTES,
    XS_F_HOURS,     XS_F_DAYS,       XS_F_CHARS, XS_F_UNIT,     XS_F_LEVEL,    XS_F_GRADE,
    XS_F_WORK,      XS_F_EVENT,      XS_F_SCORE, XS_F_NOTE,     XS_F_OPERATOR, XS_F_REF,
};
#define S_NCSV (sizeof s_csv_fields / sizeof s_csv_fields[0])

/* A voided record and the correction that voided it. */
typedef struct s_void {
    uint64_t target, by;
} s_void_t;

typedef struct s_list {
    s_void_t *voids; /* sorted by target */
    size_t nvoids, cap;
} s_list_t;

static int s_cmp_void(const void *a, const void *b) {
    uint64_t x = ((const s_void_t *)a)->target, y = ((const s_void_t *)b)->target;
    return x < y ? -1 : x > y;
}

static uint64_t s_voided_by(const s_list_t *l, uint64_t seq) {
    s_void_t key = {seq, 0};
    const s_void_t *hit =
        l->nvoids ? bsearch(&key, l->voids, l->nvoids, sizeof key, s_cmp_void) : NULL;
    return hit ? hit->by : 0;
}

/* Writes field f of rec as text a user (and the importer) reads back: returns the length. */
static size_t s_field_text(const xs_record_t *rec, xs_field f, char *out, size_t cap) {
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
    case XS_F_CATEGORY:
        return (size_t)snprintf(out, cap, "%s", xs_category_name(rec->category));
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
        S_ADD("%s ", xs_role_name(rec->role));
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
    if (rec->level)
        S_ADD("%s ", xs_level_name(rec->level));
    if (rec->grade)
        S_ADD("grade=%s ", xs_grade_name(rec->grade));
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

int node_cmd_list(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},
                           {"teacher", 1, NULL},
                           {"year", 1, NULL},
                           {"format", 1, NULL},
                           {"help", 0, NULL}};
    const char *pos[1];
    size_t npos;
    node_t node;
    xs_txn_t *txn = NULL;
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_record_t rec;
    s_list_t list = {0};
    int rc = 1, csv = 0;
    int32_t from = INT32_MIN, to = INT32_MAX;
    uint64_t shown = 0, voided = 0;
    if (node_args(argc, argv, opts, 5, pos, 0, &npos) != XS_OK || opts[4].value || !opts[0].value)
        return node_usage(S_USAGE);
    const char *teacher = opts[1].value, *year = opts[2].value, *format = opts[3].value;
    if (format && strcmp(format, "csv") == 0)
        csv = 1;
    else if (format && strcmp(format, "table") != 0)
        return node_usage(S_USAGE);
    int first_year = 0;
    if (year && node_parse_year(year, &first_year) != XS_OK)
        return 2;
    if (node_open(&node, opts[0].value) != XS_OK)
        return 1;
    if (year) {
        /* The node's policy says when an academic year starts; 09-01 without one. */
        xs_policy_t *policy = NULL;
        if (node_policy(&node, &policy) == XS_OK) {
            from = xs_policy_semester_start(policy, first_year, 1);
            to = xs_policy_semester_start(policy, first_year + 1, 1) - 1;
        } else {
            from = xs_date_from_civil(first_year, 9, 1);
            to = xs_date_from_civil(first_year + 1, 9, 1) - 1;
        }
        xs_policy_destroy(&policy);
    }
    xs_err err = xs_store_read(node.store, &txn);
    if (err == XS_OK)
        err = xs_store_cursor_open(txn, NODE_T_RECORDS, &cur);
    /* First pass: which records are voided, and by which correction. */
    for (err = err ? err : xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (xs_record_decode_bytes(v.ptr, v.len, &rec) != XS_OK)
            continue; /* reported in the second pass */
        if (rec.kind != XS_KIND_CORRECTION)
            continue;
        if (list.nvoids == list.cap) {
            size_t cap = list.cap ? list.cap * 2 : 64;
            s_void_t *grown = realloc(list.voids, cap * sizeof *grown);
            if (!grown) {
                err = XS_ENOMEM;
                break;
            }
            list.voids = grown;
            list.cap = cap;
        }
        list.voids[list.nvoids++] = (s_void_t){rec.voids, xs_store_key_u64(k.ptr)};
    }
    if (err != XS_ENOTFOUND)
        goto fail;
    if (list.nvoids > 0) /* qsort and bsearch want a non-null array even when empty */
        qsort(list.voids, list.nvoids, sizeof *list.voids, s_cmp_void);

    if (csv) {
        if (xs_csv_write_bom(stdout) != XS_OK || xs_csv_write_cell(stdout, "id", 2, 0) != XS_OK)
            goto io;
        for (size_t i = 0; i < S_NCSV; i++) {
            const char *name = xs_field_name(s_csv_fields[i]);
            if (xs_csv_write_cell(stdout, name, strlen(name), 0) != XS_OK)
                goto io;
        }
        if (xs_csv_write_cell(stdout, "voided_by", 9, 1) != XS_OK)
            goto io;
    } else {
        node_pad("编号", 8);
        node_pad("日期", 12);
        node_pad("教师", 12);
        node_pad("类别", 14);
        node_pad("状态", 18);
        puts("内容");
    }
    for (err = xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        uint64_t seq = xs_store_key_u64(k.ptr);
        if (xs_record_decode_bytes(v.ptr, v.len, &rec) != XS_OK) {
            fprintf(stderr, "xueshi-node: 记录 %llu 无法解码 (record cannot be decoded)\n",
                    (unsigned long long)seq);
            rc = 3;
            continue;
        }
        if (rec.kind != XS_KIND_ACTIVITY)
            continue;
        if (teacher && (rec.teacher_id.len != strlen(teacher) ||
                        memcmp(rec.teacher_id.ptr, teacher, rec.teacher_id.len) != 0))
            continue;
        if (rec.date < from || rec.date > to)
            continue;
        uint64_t by = s_voided_by(&list, seq);
        char text[XS_NOTE_MAX + 1], idbuf[24], status[48], detail[1200];
        shown++;
        voided += by != 0;
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)seq);
        if (csv) {
            if (xs_csv_write_cell(stdout, idbuf, strlen(idbuf), 0) != XS_OK)
                goto io;
            for (size_t i = 0; i < S_NCSV; i++) {
                size_t n = s_field_text(&rec, s_csv_fields[i], text, sizeof text);
                if (xs_csv_write_cell(stdout, text, n, 0) != XS_OK)
                    goto io;
            }
            int n = by ? snprintf(text, sizeof text, "%llu", (unsigned long long)by) : 0;
            if (xs_csv_write_cell(stdout, text, (size_t)n, 1) != XS_OK)
                goto io;
            continue;
        }
        if (by)
            snprintf(status, sizeof status, "已作废(#%llu)", (unsigned long long)by);
        else
            snprintf(status, sizeof status, "有效");
        s_field_text(&rec, XS_F_DATE, text, sizeof text);
        node_pad(idbuf, 8);
        node_pad(text, 12);
        s_field_text(&rec, XS_F_TEACHER_ID, text, sizeof text);
        node_pad(text, 12);
        const char *zh = xs_category_zh(rec.category);
        node_pad(zh ? zh : "?", 14);
        node_pad(status, 18);
        s_detail(&rec, detail, sizeof detail);
        puts(detail);
    }
    if (err != XS_ENOTFOUND)
        goto fail;
    if (!csv)
        printf("共 %llu 条记录，其中作废 %llu 条 (%llu records, %llu voided)\n",
               (unsigned long long)shown, (unsigned long long)voided, (unsigned long long)shown,
               (unsigned long long)voided);
    if (rc == 1)
        rc = 0;
    goto out;
io:
    fprintf(stderr, "xueshi-node: 输出失败 (cannot write output)\n");
    rc = 1;
    goto out;
fail:
    xs_log_err(err, "读取记录 (reading records)");
    rc = 1;
out:
    if (fflush(stdout) != 0)
        rc = 1;
    free(list.voids);
    xs_store_cursor_close(&cur);
    xs_store_end(&txn);
    node_close(&node);
    return rc;
}
