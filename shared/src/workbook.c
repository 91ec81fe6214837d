/* workbook: the 学时认定汇总表 as an Excel workbook, written with libxlsxwriter. */
#include "xs/workbook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#include "xs/record.h"
#include "xs/report.h"
#include "xs/text.h"

/* Rows above the data: the title, the line naming the policy and the data, the header. */
#define S_TOP 3
/* Most rows a sheet holds (Excel's limit). */
#define S_ROWS_MAX 1048576u
/* Longest text a cell holds, in bytes here (Excel's limit is 32,767 characters). */
#define S_CELL_MAX 32767u
/* The widest header the columns give: 3 + 3 per bucket (year and cycle) + 2. */
#define S_COLS_MAX (3 + 6 * XS_POLICY_BUCKETS_MAX + 2)
/* Excel's paper size code of A4. */
#define S_PAPER_A4 9

/* One school's line of 各校统计. */
typedef struct s_school {
    char id[XS_ID_MAX + 1];
    uint32_t teachers, met, not_met, exempt;
    uint64_t unsynced;
    int64_t last_sync;
    int known; /* the hub told its sync */
} s_school_t;

struct xs_workbook {
    lxw_workbook *book;
    lxw_worksheet *summary, *short_list, *schools;
    lxw_format *title, *subtitle, *header, *text, *hours, *percent, *bold;
    xs_workbook_title_t t;
    char *path, *tmp;     /* the file asked for, and the name written before the rename */
    uint32_t summary_row; /* next data row of each sheet */
    uint32_t short_row;
    int cycle_col[XS_POLICY_BUCKETS_MAX]; /* the first cycle column of a bucket; 0: none */
    int conclusion_col;                   /* 认定结论's column; 原因 follows */
    int cycle_year;                       /* the first academic year of the cycle holding
                                             t.year */
    int cycle_ends;                       /* 1: that cycle ends with t.year */
    s_school_t *school_list;
    size_t school_count, school_cap;
    char source[256];                                  /* the title's source, copied */
    char labels[S_COLS_MAX][XS_POLICY_LABEL_MAX + 64]; /* 汇总表's headers, while written */
    char cell[S_CELL_MAX + 4];                         /* a string cell being written */
};

static xs_err s_lxw(lxw_error e) {
    if (e == LXW_NO_ERROR)
        return XS_OK;
    if (e == LXW_ERROR_MEMORY_MALLOC_FAILED)
        return XS_ENOMEM;
    xs_log("写出工作簿 (writing the workbook): %s", lxw_strerror(e));
    return XS_EIO;
}

/* Copies len bytes of s into wb->cell as a cell's text: cut at Excel's limit on a character
 * boundary, and each control character XML cannot carry shown as U+FFFD. */
static const char *s_text(xs_workbook_t *wb, const char *s, size_t len) {
    len = xs_text_utf8_prefix(s, len, S_CELL_MAX);
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < sizeof wb->cell; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            memcpy(wb->cell + o, "\xef\xbf\xbd", 3);
            o += 3;
        } else {
            wb->cell[o++] = (char)c;
        }
    }
    wb->cell[o] = '\0';
    return wb->cell;
}

static xs_err s_str(xs_workbook_t *wb, lxw_worksheet *ws, uint32_t row, int col, const char *s,
                    size_t len, lxw_format *f) {
    return s_lxw(worksheet_write_string(ws, row, (lxw_col_t)col, s_text(wb, s, len), f));
}

static xs_err s_cstr(xs_workbook_t *wb, lxw_worksheet *ws, uint32_t row, int col, const char *s,
                     lxw_format *f) {
    return s_str(wb, ws, row, col, s, strlen(s), f);
}

/* Hours as a number with two decimals, rounded half up as the CSV report rounds them. */
static xs_err s_hours(xs_workbook_t *wb, lxw_worksheet *ws, uint32_t row, int col,
                      uint64_t seconds) {
    uint64_t hundredths = seconds / 36 + (seconds % 36 >= 18);
    return s_lxw(
        worksheet_write_number(ws, row, (lxw_col_t)col, (double)hundredths / 100.0, wb->hours));
}

/* 是否达标 of a total: an advisory requirement (credit-rules §6.4) says so. */
static const char *s_met(uint8_t met, int binding) {
    if (met == XS_MET_YES)
        return binding ? "是" : "是（参考）";
    if (met == XS_MET_NO)
        return binding ? "否" : "否（参考）";
    return "—";
}

const char *xs_workbook_conclusion(const xs_standing_t *st) {
    if (st->state == XS_STANDING_EXEMPT)
        return "免于认定";
    return st->met == XS_MET_YES ? "达标" : st->met == XS_MET_NO ? "未达标" : "无要求";
}

/* Writes a sheet's two title rows across cols columns and its header. */
static xs_err s_sheet_top(xs_workbook_t *wb, lxw_worksheet *ws, const char *sheet_title,
                          const char *const *headers, int cols) {
    char year[XS_POLICY_YEAR_LABEL], when[32], hex[2 * XS_HASH_BYTES + 1], line[1024];
    const xs_policy_t *p = wb->t.policy;
    xs_policy_year_label(wb->t.year, year);
    xs_text_local_time(wb->t.made_at, when);
    xs_hex_encode(wb->t.data_hash, XS_HASH_BYTES, hex);
    snprintf(line, sizeof line, "%s %s 学年 %s", p->name[0] ? p->name : p->id, year, sheet_title);
    xs_err err = s_lxw(worksheet_merge_range(ws, 0, 0, 0, (lxw_col_t)(cols - 1),
                                             s_text(wb, line, strlen(line)), wb->title));
    snprintf(line, sizeof line, "认定规则：%s（%s 第 %u 版）；数据：%s，指纹 %s；生成于 %s",
             p->name[0] ? p->name : p->id, p->id, p->version, wb->t.source, hex, when);
    if (err == XS_OK)
        err = s_lxw(worksheet_merge_range(ws, 1, 0, 1, (lxw_col_t)(cols - 1),
                                          s_text(wb, line, strlen(line)), wb->subtitle));
    for (int c = 0; err == XS_OK && c < cols; c++)
        err = s_cstr(wb, ws, 2, c, headers[c], wb->header);
    if (err == XS_OK) {
        worksheet_set_row(ws, 2, 32, NULL);
        worksheet_freeze_panes(ws, S_TOP, 3);
        worksheet_set_landscape(ws);
        worksheet_set_paper(ws, S_PAPER_A4);
        worksheet_fit_to_pages(ws, 1, 0);
        err = s_lxw(worksheet_repeat_rows(ws, 0, S_TOP - 1));
    }
    return err;
}

static xs_err s_summary_top(xs_workbook_t *wb) {
    char(*labels)[XS_POLICY_LABEL_MAX + 64] = wb->labels;
    const char *headers[S_COLS_MAX];
    const xs_policy_t *p = wb->t.policy;
    char cycle[XS_POLICY_CYCLE_LABEL];
    int n = 0;
    headers[n++] = "学校";
    headers[n++] = "教师编号";
    headers[n++] = "姓名";
    static const char *const parts[3] = {"已认定学时", "应修学时", "是否达标"};
    for (size_t b = 0; b < p->bucket_count; b++)
        for (int k = 0; k < 3; k++, n++) {
            snprintf(labels[n], sizeof labels[n], "%s\n%s", xs_policy_bucket_label(p, b), parts[k]);
            headers[n] = labels[n];
        }
    xs_policy_cycle_label(p, wb->cycle_year, cycle);
    for (size_t b = 0; b < p->bucket_count; b++) {
        if (!p->buckets[b].required_seconds[XS_SCOPE_CYCLE])
            continue;
        wb->cycle_col[b] = n;
        for (int k = 0; k < 3; k++, n++) {
            snprintf(labels[n], sizeof labels[n], "%s（%s周期）\n%s", xs_policy_bucket_label(p, b),
                     cycle, parts[k]);
            headers[n] = labels[n];
        }
    }
    wb->conclusion_col = n;
    headers[n++] = "认定结论";
    headers[n++] = "原因";
    xs_err err = s_sheet_top(wb, wb->summary, "教师继续教育学时认定汇总表", headers, n);
    lxw_worksheet *ws = wb->summary;
    worksheet_set_column(ws, 0, 0, 12, NULL);
    worksheet_set_column(ws, 1, 1, 14, NULL);
    worksheet_set_column(ws, 2, 2, 10, NULL);
    worksheet_set_column(ws, 3, (lxw_col_t)(wb->conclusion_col - 1), 11, NULL);
    worksheet_set_column(ws, (lxw_col_t)wb->conclusion_col, (lxw_col_t)wb->conclusion_col, 10,
                         NULL);
    worksheet_set_column(ws, (lxw_col_t)(wb->conclusion_col + 1),
                         (lxw_col_t)(wb->conclusion_col + 1), 60, NULL);
    return err;
}

static xs_err s_short_top(xs_workbook_t *wb) {
    static const char *const headers[] = {"学校",       "教师编号", "姓名",     "未达标项目",
                                          "已认定学时", "应修学时", "还差学时", "原因"};
    xs_err err = s_sheet_top(wb, wb->short_list, "未达标名单", headers, 8);
    lxw_worksheet *ws = wb->short_list;
    worksheet_set_column(ws, 0, 0, 12, NULL);
    worksheet_set_column(ws, 1, 1, 14, NULL);
    worksheet_set_column(ws, 2, 2, 10, NULL);
    worksheet_set_column(ws, 3, 3, 30, NULL);
    worksheet_set_column(ws, 4, 6, 11, NULL);
    worksheet_set_column(ws, 7, 7, 60, NULL);
    return err;
}

static lxw_format *s_format(lxw_workbook *book, int kind) {
    lxw_format *f = workbook_add_format(book);
    if (!f)
        return NULL;
    format_set_font_name(f, "宋体");
    format_set_font_size(f, 11);
    switch (kind) {
    case 0: /* title */
        format_set_bold(f);
        format_set_font_size(f, 16);
        format_set_align(f, LXW_ALIGN_CENTER);
        break;
    case 1: /* subtitle */
        format_set_font_size(f, 9);
        break;
    case 2: /* header */
        format_set_bold(f);
        format_set_text_wrap(f);
        format_set_align(f, LXW_ALIGN_CENTER);
        format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
        format_set_bg_color(f, 0xDDEBF7);
        format_set_border(f, LXW_BORDER_THIN);
        break;
    case 3: /* text: "@" keeps what is typed into it text as well */
        format_set_num_format(f, "@");
        break;
    case 4: /* hours */
        format_set_num_format(f, "0.00");
        break;
    case 5: /* percent */
        format_set_num_format(f, "0.0%");
        break;
    case 6: /* bold */
        format_set_bold(f);
        break;
    }
    return f;
}

xs_err xs_workbook_open(xs_workbook_t **out, const char *path, const xs_workbook_title_t *title) {
    *out = NULL;
    if (!title->policy || title->year < 1970 || title->year > 9998)
        return XS_EINVAL;
    xs_workbook_t *wb = calloc(1, sizeof *wb);
    if (!wb)
        return XS_ENOMEM;
    wb->t = *title;
    snprintf(wb->source, sizeof wb->source, "%s", title->source ? title->source : "");
    wb->t.source = wb->source;
    wb->path = strdup(path);
    size_t tmp_len = strlen(path) + 8;
    wb->tmp = malloc(tmp_len);
    xs_err err = wb->path && wb->tmp ? XS_OK : XS_ENOMEM;
    if (err == XS_OK) {
        snprintf(wb->tmp, tmp_len, "%s.tmp", path);
        wb->book = workbook_new(wb->tmp);
        if (!wb->book) {
            xs_log("无法创建工作簿 (cannot create the workbook) %s", wb->tmp);
            err = XS_EIO;
        }
    }
    if (err == XS_OK) {
        wb->summary = workbook_add_worksheet(wb->book, "汇总表");
        wb->short_list = workbook_add_worksheet(wb->book, "未达标名单");
        wb->schools = workbook_add_worksheet(wb->book, "各校统计");
        lxw_format **formats[] = {&wb->title, &wb->subtitle, &wb->header, &wb->text,
                                  &wb->hours, &wb->percent,  &wb->bold};
        for (int k = 0; k < 7; k++)
            if (!(*formats[k] = s_format(wb->book, k)))
                err = XS_ENOMEM;
        if (!wb->summary || !wb->short_list || !wb->schools)
            err = XS_ENOMEM;
    }
    if (err == XS_OK) {
        const xs_policy_t *p = title->policy;
        wb->cycle_year = xs_policy_cycle_of(p, title->year);
        wb->cycle_ends = wb->cycle_year + (int)p->cycle_years - 1 == title->year;
        err = s_summary_top(wb);
        if (err == XS_OK)
            err = s_short_top(wb);
    }
    if (err != XS_OK) {
        xs_workbook_discard(&wb);
        return err;
    }
    *out = wb;
    return XS_OK;
}

/* The school's line, added when new. */
static s_school_t *s_school(xs_workbook_t *wb, const char *id, size_t len) {
    if (len > XS_ID_MAX)
        len = XS_ID_MAX;
    for (size_t i = wb->school_count; i-- > 0;)
        if (strlen(wb->school_list[i].id) == len && memcmp(wb->school_list[i].id, id, len) == 0)
            return &wb->school_list[i];
    if (wb->school_count == wb->school_cap) {
        size_t cap = wb->school_cap ? 2 * wb->school_cap : 32;
        void *p = realloc(wb->school_list, cap * sizeof *wb->school_list);
        if (!p)
            return NULL;
        wb->school_list = p;
        wb->school_cap = cap;
    }
    s_school_t *s = &wb->school_list[wb->school_count++];
    memset(s, 0, sizeof *s);
    memcpy(s->id, id, len);
    s->id[len] = '\0';
    return s;
}

/* The total of the teacher's row for bucket b in scope at year (the cycle's first year for a
 * cycle); NULL when the engine gave none. */
static const xs_certify_total_t *s_total(const xs_certify_teacher_t *t, int scope, int year,
                                         size_t b) {
    for (size_t i = 0; i < t->total_count; i++) {
        const xs_certify_total_t *x = &t->totals[i];
        if (x->scope == scope && x->year == year && x->bucket == b && x->semester == 0)
            return x;
    }
    return NULL;
}

/* One shortfall line of 未达标名单. */
static xs_err s_short_line(xs_workbook_t *wb, const xs_workbook_teacher_t *t, const char *what,
                           uint64_t credited, uint64_t required, const char *reason) {
    lxw_worksheet *ws = wb->short_list;
    uint32_t row = S_TOP + wb->short_row;
    if (row >= S_ROWS_MAX)
        return XS_ETOOBIG;
    wb->short_row++;
    xs_err err = s_str(wb, ws, row, 0, t->school_id.ptr, t->school_id.len, wb->text);
    if (err == XS_OK)
        err = s_str(wb, ws, row, 1, t->teacher_id.ptr, t->teacher_id.len, wb->text);
    if (err == XS_OK)
        err = s_str(wb, ws, row, 2, t->name.ptr, t->name.len, wb->text);
    if (err == XS_OK)
        err = s_cstr(wb, ws, row, 3, what, wb->text);
    if (err == XS_OK)
        err = s_hours(wb, ws, row, 4, credited);
    if (err == XS_OK)
        err = s_hours(wb, ws, row, 5, required);
    if (err == XS_OK)
        err = s_hours(wb, ws, row, 6, required > credited ? required - credited : 0);
    if (err == XS_OK)
        err = s_cstr(wb, ws, row, 7, reason, wb->text);
    return err;
}

/* The teacher's binding requirements not met in the year, each on a line of its own. */
static xs_err s_shortfalls(xs_workbook_t *wb, const xs_workbook_teacher_t *t, const char *reason) {
    const xs_policy_t *p = wb->t.policy;
    const xs_standing_t *st = t->standing;
    char what[XS_POLICY_LABEL_MAX + 64], label[XS_POLICY_SEMESTER_LABEL + 8];
    size_t lines = 0;
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < t->teacher->total_count; i++) {
        const xs_certify_total_t *x = &t->teacher->totals[i];
        int in_year = x->scope != XS_SCOPE_CYCLE && x->year == wb->t.year;
        int cycle = x->scope == XS_SCOPE_CYCLE && x->year == wb->cycle_year && wb->cycle_ends;
        if (!x->binding || x->met != XS_MET_NO || !(in_year || cycle))
            continue;
        const char *unit = "学年";
        if (x->scope == XS_SCOPE_CYCLE) {
            xs_policy_cycle_label(p, x->year, label);
            unit = "周期";
        } else if (x->scope == XS_SCOPE_SEMESTER) {
            xs_policy_semester_label(x->year, x->semester, label);
            unit = "学期";
        } else {
            xs_policy_year_label(x->year, label);
        }
        snprintf(what, sizeof what, "%s（%s%s）", xs_policy_bucket_label(p, x->bucket), label,
                 unit);
        err = s_short_line(wb, t, what, x->credited_seconds, x->required_seconds, reason);
        lines++;
    }
    for (uint32_t i = 0; err == XS_OK && i < st->role_count; i++) {
        const xs_standing_role_t *r = &st->roles[i];
        if (!r->judged || r->met != XS_MET_NO)
            continue;
        snprintf(what, sizeof what, "%s（岗位要求）", p->roles[r->role].label);
        err = s_short_line(wb, t, what, r->credited_seconds, r->required_seconds, reason);
        lines++;
    }
    /* Not met for a reason no figure above shows: still listed. */
    if (err == XS_OK && lines == 0)
        err = s_short_line(wb, t, "—", st->credited_seconds, 0, reason);
    return err;
}

xs_err xs_workbook_teacher(xs_workbook_t *wb, const xs_workbook_teacher_t *t) {
    const xs_policy_t *p = wb->t.policy;
    const xs_standing_t *st = t->standing;
    lxw_worksheet *ws = wb->summary;
    uint32_t row = S_TOP + wb->summary_row;
    xs_certify_total_t zero[3 * XS_POLICY_BUCKETS_MAX * 2];
    char reason[XS_REPORT_REASON_MAX];
    if (row >= S_ROWS_MAX)
        return XS_ETOOBIG;
    s_school_t *school = s_school(wb, t->school_id.ptr, t->school_id.len);
    if (!school)
        return XS_ENOMEM;
    wb->summary_row++;
    size_t nzero = xs_standing_zero_totals(p, wb->t.year, zero, sizeof zero / sizeof zero[0]);
    int exempt = st->state == XS_STANDING_EXEMPT;
    xs_err err = s_str(wb, ws, row, 0, t->school_id.ptr, t->school_id.len, wb->text);
    if (err == XS_OK)
        err = s_str(wb, ws, row, 1, t->teacher_id.ptr, t->teacher_id.len, wb->text);
    if (err == XS_OK)
        err = s_str(wb, ws, row, 2, t->name.ptr, t->name.len, wb->text);
    for (size_t b = 0; err == XS_OK && b < p->bucket_count; b++) {
        int scopes[2] = {XS_SCOPE_YEAR, XS_SCOPE_CYCLE};
        int cols[2] = {3 + 3 * (int)b, wb->cycle_col[b]};
        for (int k = 0; err == XS_OK && k < 2; k++) {
            if (!cols[k])
                continue;
            int year = scopes[k] == XS_SCOPE_YEAR ? wb->t.year : wb->cycle_year;
            const xs_certify_total_t *x = s_total(t->teacher, scopes[k], year, b);
            if (!x) { /* no records dated in the year: 0, against what the policy requires */
                xs_certify_teacher_t none = {{NULL, 0}, NULL, 0, zero, nzero};
                x = s_total(&none, scopes[k], year, b);
            }
            uint64_t credited = x ? x->credited_seconds : 0;
            uint32_t required = x ? x->required_seconds : p->buckets[b].required_seconds[scopes[k]];
            uint8_t met = x ? x->met : XS_MET_NONE;
            err = s_hours(wb, ws, row, cols[k], credited);
            if (err == XS_OK && required)
                err = s_hours(wb, ws, row, cols[k] + 1, required);
            if (err == XS_OK)
                err = s_cstr(wb, ws, row, cols[k] + 2,
                             exempt ? "—" : s_met(met, x ? x->binding : 1), wb->text);
        }
    }
    xs_standing_reason(p, st, t->teacher, wb->t.year, reason, sizeof reason);
    if (err == XS_OK) {
        const char *conclusion = xs_workbook_conclusion(st);
        char shown[64];
        if (!st->final && !exempt) {
            snprintf(shown, sizeof shown, "%s（%u 条待审核）", conclusion, st->unreviewed);
            conclusion = shown;
        }
        err = s_cstr(wb, ws, row, wb->conclusion_col, conclusion, wb->text);
    }
    if (err == XS_OK)
        err = s_cstr(wb, ws, row, wb->conclusion_col + 1, reason, wb->text);
    school->teachers++;
    if (exempt)
        school->exempt++;
    else if (st->met == XS_MET_YES || st->met == XS_MET_NONE)
        school->met += st->met == XS_MET_YES;
    if (!exempt && st->met == XS_MET_NO) {
        school->not_met++;
        if (err == XS_OK)
            err = s_shortfalls(wb, t, reason);
    }
    return err;
}

xs_err xs_workbook_school(xs_workbook_t *wb, const char *school_id, uint64_t unsynced,
                          int64_t last_sync) {
    s_school_t *s = s_school(wb, school_id, strlen(school_id));
    if (!s)
        return XS_ENOMEM;
    s->unsynced = unsynced;
    s->last_sync = last_sync;
    s->known = 1;
    return XS_OK;
}

static int s_school_cmp(const void *a, const void *b) {
    return strcmp(((const s_school_t *)a)->id, ((const s_school_t *)b)->id);
}

/* One line of 各校统计 (row), from its counts. */
static xs_err s_school_line(xs_workbook_t *wb, uint32_t row, const s_school_t *s, lxw_format *f) {
    lxw_worksheet *ws = wb->schools;
    uint32_t judged = s->teachers - s->exempt;
    xs_err err = s_cstr(wb, ws, row, 0, s->id, f ? f : wb->text);
    uint32_t counts[4] = {s->teachers, s->met, s->not_met, s->exempt};
    for (int k = 0; err == XS_OK && k < 4; k++)
        err = s_lxw(worksheet_write_number(ws, row, (lxw_col_t)(1 + k), counts[k], f));
    if (err == XS_OK && judged)
        err =
            s_lxw(worksheet_write_number(ws, row, 5, (double)s->met / (double)judged, wb->percent));
    else if (err == XS_OK)
        err = s_cstr(wb, ws, row, 5, "—", wb->text);
    if (err == XS_OK && s->known)
        err = s_lxw(worksheet_write_number(ws, row, 6, (double)s->unsynced, f));
    else if (err == XS_OK)
        err = s_cstr(wb, ws, row, 6, "—", wb->text);
    if (err == XS_OK) {
        char when[XS_TEXT_TIME_MAX] = "—";
        if (s->last_sync)
            xs_text_local_time(s->last_sync, when);
        err = s_cstr(wb, ws, row, 7, s->known ? when : "—", wb->text);
    }
    return err;
}

static xs_err s_schools_sheet(xs_workbook_t *wb) {
    static const char *const headers[] = {"学校",     "教师数", "达标",       "未达标",
                                          "免于认定", "达标率", "未同步记录", "最近同步"};
    xs_err err = s_sheet_top(wb, wb->schools, "各校统计", headers, 8);
    lxw_worksheet *ws = wb->schools;
    worksheet_set_column(ws, 0, 0, 14, NULL);
    worksheet_set_column(ws, 1, 6, 11, NULL);
    worksheet_set_column(ws, 7, 7, 18, NULL);
    if (wb->school_count)
        qsort(wb->school_list, wb->school_count, sizeof *wb->school_list, s_school_cmp);
    s_school_t all;
    memset(&all, 0, sizeof all);
    memcpy(all.id, "合计", sizeof "合计");
    all.known = 1;
    uint32_t row = S_TOP;
    for (size_t i = 0; err == XS_OK && i < wb->school_count; i++, row++) {
        const s_school_t *s = &wb->school_list[i];
        err = s_school_line(wb, row, s, NULL);
        all.teachers += s->teachers;
        all.met += s->met;
        all.not_met += s->not_met;
        all.exempt += s->exempt;
        all.unsynced += s->unsynced;
        all.known &= s->known;
        if (s->last_sync > all.last_sync)
            all.last_sync = s->last_sync;
    }
    if (err == XS_OK)
        err = s_school_line(wb, row, &all, wb->bold);
    return err;
}

xs_err xs_workbook_close(xs_workbook_t **wbp) {
    xs_workbook_t *wb = *wbp;
    *wbp = NULL;
    if (!wb)
        return XS_EINVAL;
    xs_err err = s_schools_sheet(wb);
    lxw_error e = workbook_close(wb->book); /* writes the file, and frees the book */
    wb->book = NULL;
    if (err == XS_OK)
        err = s_lxw(e);
    if (err == XS_OK && rename(wb->tmp, wb->path) != 0) {
        xs_log("写出工作簿 %s (writing the workbook): %s", wb->path, strerror(errno));
        err = XS_EIO;
    }
    if (err != XS_OK)
        remove(wb->tmp);
    wb->book = NULL;
    xs_workbook_discard(&wb);
    return err;
}

void xs_workbook_discard(xs_workbook_t **wbp) {
    xs_workbook_t *wb = wbp ? *wbp : NULL;
    if (!wb)
        return;
    *wbp = NULL;
    if (wb->book) {
        /* libxlsxwriter frees a book only by writing it: write the temporary name, then
         * remove it. */
        workbook_close(wb->book);
        remove(wb->tmp);
    }
    free(wb->school_list);
    free(wb->path);
    free(wb->tmp);
    free(wb);
}
