/* sheet: header names and aliases of the 学时登记表, and one row's cells onto one record. */
#include "xs/sheet.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/text.h"
#include "xs/xlsx.h"

/* Every name a header cell may carry; English names are matched after ASCII case folding. */
static const struct {
    const char *name;
    int column; /* xs_field or XS_SHEET_COL_NAME */
} s_columns[] = {
    {"teacher_id", XS_F_TEACHER_ID},
    {"school_id", XS_F_SCHOOL_ID},
    {"date", XS_F_DATE},
    {"category", XS_F_CATEGORY},
    {"role", XS_F_ROLE},
    {"minutes", XS_F_MINUTES},
    {"hours", XS_F_HOURS},
    {"days", XS_F_DAYS},
    {"chars", XS_F_CHARS},
    {"unit", XS_F_UNIT},
    {"lessons", XS_F_LESSONS},
    {"level", XS_F_LEVEL},
    {"grade", XS_F_GRADE},
    {"work", XS_F_WORK},
    {"event", XS_F_EVENT},
    {"score", XS_F_SCORE},
    {"note", XS_F_NOTE},
    {"operator", XS_F_OPERATOR},
    {"ref", XS_F_REF},
    {"name", XS_SHEET_COL_NAME},
    {"id", XS_SHEET_COL_ID},
    {"voided_by", XS_SHEET_COL_VOIDED_BY},
    {"review", XS_SHEET_COL_REVIEW},
    {"review_reason", XS_SHEET_COL_REVIEW_REASON},
    {"教师编号", XS_F_TEACHER_ID},
    {"工号", XS_F_TEACHER_ID},
    {"学校", XS_F_SCHOOL_ID},
    {"日期", XS_F_DATE},
    {"类别", XS_F_CATEGORY},
    {"角色", XS_F_ROLE},
    {"分钟", XS_F_MINUTES},
    {"学时", XS_F_HOURS},
    {"天数", XS_F_DAYS},
    {"字数", XS_F_CHARS},
    {"单元", XS_F_UNIT},
    {"课时数", XS_F_LESSONS},
    {"级别", XS_F_LEVEL},
    {"等级", XS_F_GRADE},
    {"题目", XS_F_WORK},
    {"活动", XS_F_EVENT},
    {"成绩", XS_F_SCORE},
    {"备注", XS_F_NOTE},
    {"登记人", XS_F_OPERATOR},
    {"编号", XS_F_REF},
    {"课时", XS_F_LESSONS},
    {"姓名", XS_SHEET_COL_NAME},
};
#define S_NCOLUMNS (sizeof s_columns / sizeof s_columns[0])

/* Longer than any name in the tables above: such text is never a match. */
#define S_NAME_LONGEST 32

/* Bytes of a column name quoted in a message, cut at a character boundary. */
#define S_ECHO_MAX 40

static const struct {
    xs_field field;
    const char *name, *zh;
} s_required[] = {
    {XS_F_TEACHER_ID, "teacher_id", "教师编号"},
    {XS_F_DATE, "date", "日期"},
    {XS_F_CATEGORY, "category", "类别"},
};

/* Copies s folded to ASCII lower case into out (S_NAME_LONGEST bytes); 0 when too long. */
static int s_fold(const char *s, size_t len, char out[S_NAME_LONGEST]) {
    if (len > S_NAME_LONGEST)
        return 0;
    for (size_t i = 0; i < len; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    return 1;
}

/* The column a trimmed header name stands for, or XS_SHEET_COL_NONE when unknown. */
static int s_column(const char *s, size_t len) {
    char folded[S_NAME_LONGEST];
    if (!s_fold(s, len, folded))
        return XS_SHEET_COL_NONE;
    for (size_t i = 0; i < S_NCOLUMNS; i++)
        if (strlen(s_columns[i].name) == len && memcmp(s_columns[i].name, folded, len) == 0)
            return s_columns[i].column;
    return XS_SHEET_COL_NONE;
}

/* How many bytes of valid UTF-8 s to quote in a message: at most S_ECHO_MAX, never half a
 * character. */
static int s_echo_len(const char *s, size_t len) {
    return (int)xs_text_utf8_prefix(s, len, S_ECHO_MAX);
}

xs_err xs_sheet_header(xs_sheet_t *out, const xs_csv_row_t *header, char *errbuf, size_t cap) {
    return xs_sheet_header_policy(out, header, NULL, errbuf, cap);
}

xs_err xs_sheet_header_policy(xs_sheet_t *out, const xs_csv_row_t *header,
                              const xs_policy_t *policy, char *errbuf, size_t cap) {
    /* 1 + the column where each field (and, after them, each other column) was seen; 0 while
     * unseen. */
    uint32_t seen[XS_F_COUNT - XS_SHEET_COL_REVIEW_REASON] = {0};
    assert(header->count <= XS_CSV_MAX_CELLS);
    memset(out, 0, sizeof *out);
    xs_text_message(errbuf, cap, "%s", "");
    for (size_t i = 0; i < header->count; i++) {
        const char *s = header->cells[i].ptr;
        size_t len = header->cells[i].len;
        unsigned number = (unsigned)i + 1; /* as a spreadsheet user counts */
        xs_text_trim(&s, &len);
        if (!xs_text_utf8_valid(s, len)) {
            xs_text_message(errbuf, cap,
                            "第 %u 列的列名不是 UTF-8 文本，请在 Excel 中另存为“CSV UTF-8” "
                            "(column %u: header is not UTF-8; save as \"CSV UTF-8\")",
                            number, number);
            return XS_EINVAL;
        }
        if (len == 0) {
            out->column[i] = XS_SHEET_COL_NONE;
            continue;
        }
        int column = s_column(s, len);
        int echo = s_echo_len(s, len);
        if (column == XS_SHEET_COL_NONE) {
            xs_text_message(errbuf, cap,
                            "未知的列 \"%.*s\"，第 %u 列 (unknown column \"%.*s\", column %u)",
                            echo, s, number, echo, s, number);
            return XS_EINVAL;
        }
        uint32_t *first =
            &seen[column >= 0 ? (unsigned)column : (unsigned)(XS_F_COUNT - 1 - column)];
        if (*first) {
            xs_text_message(errbuf, cap,
                            "重复的列 \"%.*s\"，第 %u 列与第 %u 列相同 "
                            "(repeated column \"%.*s\", column %u repeats column %u)",
                            echo, s, number, (unsigned)*first, echo, s, number, (unsigned)*first);
            return XS_EINVAL;
        }
        *first = number;
        out->column[i] = (int8_t)column;
    }
    for (size_t i = 0; i < sizeof s_required / sizeof s_required[0]; i++) {
        if (!seen[s_required[i].field]) {
            xs_text_message(errbuf, cap,
                            "缺少必需的列 \"%s\"（%s）(missing required column \"%s\")",
                            s_required[i].name, s_required[i].zh, s_required[i].name);
            return XS_EINVAL;
        }
    }
    out->count = (uint32_t)header->count;
    out->policy = policy;
    return XS_OK;
}

/* Sets the category from its cell: the English name in any ASCII case or the Chinese label,
 * of a built-in category or one of the sheet's policy (xs_policy_category_parse). An empty
 * cell leaves it absent. XS_EINVAL (unknown_category) for anything else. */
static xs_err s_category(const xs_sheet_t *sheet, xs_record_t *rec, const char *s, size_t len) {
    xs_text_trim(&s, &len);
    if (len == 0)
        return XS_OK;
    int code = xs_policy_category_parse(sheet->policy, s, len);
    if (code <= 0)
        return XS_EINVAL;
    rec->category = (uint8_t)code;
    rec->present |= 1u << XS_F_CATEGORY;
    return XS_OK;
}

/* 1 when a review cell says the school returned the record. */
static int s_returned(const char *s, size_t len) {
    static const char *const words[] = {"已退回", "退回", "returned"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0)
            return 1;
    return 0;
}

static int s_blank(const xs_csv_cell_t *cell) {
    const char *s = cell->ptr;
    size_t len = cell->len;
    xs_text_trim(&s, &len);
    return len == 0;
}

/* Keeps the first fault of a row; later cells are still read, so a refused row keeps its
 * teacher and category for the report. */
static void s_fault(xs_field *field, xs_reason *why, int *faulted, xs_field f, xs_reason r) {
    if (*faulted)
        return;
    *faulted = 1;
    *field = f;
    *why = r;
}

xs_err xs_sheet_row(const xs_sheet_t *sheet, const xs_csv_row_t *row, xs_record_t *rec,
                    xs_sheet_extra_t *extra, xs_field *field, xs_reason *why) {
    int faulted = 0;
    xs_record_init(rec);
    if (extra) {
        memset(extra, 0, sizeof *extra);
        extra->line = row->line;
        extra->cells = (uint32_t)row->count;
    }
    *field = XS_SHEET_F_ROW;
    *why = XS_REASON_NONE;
    if (row->count != sheet->count)
        s_fault(field, why, &faulted, XS_SHEET_F_ROW, XS_REASON_BAD_VALUE);
    size_t cells = row->count < sheet->count ? row->count : sheet->count;
    for (size_t i = 0; i < cells; i++) {
        const xs_csv_cell_t *cell = &row->cells[i];
        int column = sheet->column[i];
        if (column == XS_SHEET_COL_NONE) {
            if (!s_blank(cell))
                s_fault(field, why, &faulted, XS_SHEET_F_ROW, XS_REASON_BAD_VALUE);
            continue;
        }
        const char *s = cell->ptr;
        size_t len = cell->len;
        if (len && s[0] == '\'')
            xs_csv_unguard(&s, &len); /* a cell this software wrote, formula-guarded */
        if (column == XS_SHEET_COL_NAME) {
            xs_text_trim(&s, &len);
            if (len > XS_SHEET_NAME_MAX)
                s_fault(field, why, &faulted, XS_SHEET_F_NAME, XS_REASON_OUT_OF_RANGE);
            else if (!xs_text_utf8_valid(s, len))
                s_fault(field, why, &faulted, XS_SHEET_F_NAME, XS_REASON_BAD_VALUE);
            else if (extra) {
                extra->name.ptr = s;
                extra->name.len = (uint32_t)len;
            }
            continue;
        }
        if (column == XS_SHEET_COL_ID || column == XS_SHEET_COL_REVIEW_REASON)
            continue;
        if (column == XS_SHEET_COL_VOIDED_BY || column == XS_SHEET_COL_REVIEW) {
            xs_text_trim(&s, &len);
            if (column == XS_SHEET_COL_VOIDED_BY && len)
                s_fault(field, why, &faulted, XS_F_VOIDS, XS_REASON_VOIDED);
            if (column == XS_SHEET_COL_REVIEW && s_returned(s, len))
                s_fault(field, why, &faulted, XS_F_REVIEWS, XS_REASON_RETURNED);
            continue;
        }
        if (column == XS_F_CATEGORY) {
            if (s_category(sheet, rec, s, len) != XS_OK)
                s_fault(field, why, &faulted, XS_F_CATEGORY, XS_REASON_UNKNOWN_CATEGORY);
            continue;
        }
        xs_reason cell_why;
        if (xs_record_set_text(rec, (xs_field)column, s, len, &cell_why) != XS_OK)
            s_fault(field, why, &faulted, (xs_field)column, cell_why);
    }
    return faulted ? XS_EINVAL : XS_OK;
}

const char *xs_sheet_field_name(xs_field field) {
    if (field == XS_SHEET_F_ROW)
        return "row";
    if (field == XS_SHEET_F_NAME)
        return "name";
    return xs_field_name(field);
}

/* What a sheet's bytes are, by their first bytes and their encoding. */
typedef enum s_format {
    S_CSV_UTF8,
    S_XLSX,    /* a zip: "PK\3\4" */
    S_XLS,     /* an OLE compound file: Excel 97–2003 */
    S_UTF16,   /* a UTF-16 BOM: Excel's "Unicode 文本" */
    S_GBK,     /* not UTF-8, but every byte pair a GBK/GB18030 one */
    S_UNKNOWN, /* neither */
} s_format;

/* 1 when bytes (not UTF-8) read as GBK/GB18030 two-byte characters and ASCII throughout. */
static int s_gbk_like(const unsigned char *b, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (b[i] < 0x80)
            continue;
        if (b[i] == 0x80 || b[i] == 0xff || i + 1 >= len || b[i + 1] < 0x30 || b[i + 1] == 0x7f ||
            b[i + 1] == 0xff)
            return 0;
        i++;
    }
    return 1;
}

static s_format s_sniff(const unsigned char *b, size_t len) {
    if (len >= 4 && memcmp(b, "PK\x03\x04", 4) == 0)
        return S_XLSX;
    if (len >= 8 && memcmp(b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
        return S_XLS;
    if (len >= 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff)))
        return S_UTF16;
    if (xs_text_utf8_valid((const char *)b, len))
        return S_CSV_UTF8;
    return s_gbk_like(b, len) ? S_GBK : S_UNKNOWN;
}

#define S_SAVE_AS                                                                                                     \
    "请在 Excel 中“另存为”，文件类型选“CSV UTF-8（逗号分隔）(*.csv)”或“Excel 工作簿 " \
    "(*.xlsx)”后重新导入 "                                                                                     \
    "(save it from Excel as \"CSV UTF-8 (Comma delimited)\" or \"Excel Workbook\" and import it "                     \
    "again)"

/* Opens a reader over the len bytes at bytes after finding what they are. *owned, when not
 * NULL, is bytes' malloc'd buffer, which a CSV reader takes (nulled); without it, a CSV is
 * copied. An XLSX is converted straight from bytes. */
static xs_err s_sheet_open(xs_csv_t **out, const char *bytes, size_t len, char **owned,
                           char *errbuf, size_t cap) {
    const char *what = NULL;
    char *csv = NULL;
    size_t csv_len = len;
    xs_err err;
    switch (s_sniff((const unsigned char *)bytes, len)) {
    case S_CSV_UTF8:
        break;
    case S_XLSX:
        err = xs_xlsx_to_csv(bytes, len, &csv, &csv_len, errbuf, cap);
        if (err != XS_OK)
            return err;
        owned = &csv;
        break;
    case S_XLS:
        what = "是旧版 Excel 97-2003 工作簿 (.xls)，或设了打开密码的工作簿（请先取消密码）"
               "(an old .xls workbook, or one with a password)";
        break;
    case S_UTF16:
        what = "是 UTF-16 编码（Excel 的“Unicode 文本”）(UTF-16 text)";
        break;
    case S_GBK:
        what = "是 GBK 编码（Excel 的“CSV（逗号分隔）”）(GBK-encoded CSV)";
        break;
    case S_UNKNOWN:
        what = "不是 UTF-8 编码的 CSV (not a UTF-8 CSV)";
        break;
    }
    if (what) {
        xs_text_message(errbuf, cap, "文件%s：" S_SAVE_AS, what);
        return XS_ECSV;
    }
    if (!owned) {
        if (!(csv = malloc(len ? len : 1)))
            return XS_ENOMEM;
        if (len)
            memcpy(csv, bytes, len);
        owned = &csv;
    }
    err = xs_csv_open_owned(out, owned, csv_len);
    free(csv);
    if (err != XS_OK)
        xs_text_message(errbuf, cap, "无法读取 (cannot read): %s", xs_strerror(err));
    return err;
}

xs_err xs_sheet_open_file(xs_csv_t **out, const char *path, char *errbuf, size_t cap) {
    char *bytes;
    size_t len;
    *out = NULL;
    xs_text_message(errbuf, cap, "%s", "");
    xs_err err = xs_csv_read_file(path, &bytes, &len);
    if (err != XS_OK) {
        xs_text_message(errbuf, cap, "无法读取 %s (cannot read): %s", path, xs_strerror(err));
        return err;
    }
    err = s_sheet_open(out, bytes, len, &bytes, errbuf, cap);
    free(bytes);
    return err;
}

xs_err xs_sheet_open_mem(xs_csv_t **out, const void *data, size_t len, char *errbuf, size_t cap) {
    static const char none = 0;
    *out = NULL;
    xs_text_message(errbuf, cap, "%s", "");
    if (len > XS_CSV_MAX_FILE) {
        xs_text_message(errbuf, cap, "文件过大 (file too large)");
        return XS_ETOOBIG;
    }
    return s_sheet_open(out, len ? data : &none, len, NULL, errbuf, cap);
}
