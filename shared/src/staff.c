/* staff: the county's teacher roster: its CSV reader, stored form and signed parts
 * (schema/roster.md). */
#include "xs/staff.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/csv.h"
#include "xs/envelope.h"
#include "xs/text.h"

/* Signing context of a part (roster.md §5), its NUL included by sizeof. */
static const char s_part_context[] = "xueshi-staff-1";

#define S_FORMAT 1
#define S_NO_DATE_LO INT32_MIN /* hired, status_from: not given */
#define S_NO_DATE_HI INT32_MAX /* status_to: not given */

/* ---- names ---- */

static const char *const s_status_names[XS_STAFF_STATUS_COUNT] = {"active", "on_leave", "retired",
                                                                  "left"};
static const char *const s_status_zh[XS_STAFF_STATUS_COUNT] = {"在职", "离岗", "退休", "调出"};
static const char *const s_change_names[] = {NULL, "added", "moved", "removed", "changed"};
static const char *const s_change_zh[] = {NULL, "新增", "调校", "移出", "信息变更"};

const char *xs_staff_status_name(unsigned status) {
    return status < XS_STAFF_STATUS_COUNT ? s_status_names[status] : NULL;
}

const char *xs_staff_status_zh(unsigned status) {
    return status < XS_STAFF_STATUS_COUNT ? s_status_zh[status] : NULL;
}

const char *xs_staff_change_name(unsigned change) {
    return change >= XS_STAFF_ADDED && change <= XS_STAFF_CHANGED ? s_change_names[change] : NULL;
}

const char *xs_staff_change_zh(unsigned change) {
    return change >= XS_STAFF_ADDED && change <= XS_STAFF_CHANGED ? s_change_zh[change] : NULL;
}

void xs_staff_free(xs_staff_t *staff) {
    free(staff->entries);
    memset(staff, 0, sizeof *staff);
}

/* ---- values shared by the reader and the decoders ---- */

/* 1 when len bytes at s are 1..max bytes of UTF-8 without control characters: an id or name
 * as the roster carries it (roster.md §1). */
static int s_text_ok(const char *s, size_t len, size_t max) {
    if (len == 0 || len > max || !xs_text_utf8_valid(s, len))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* The last day xs_date_parse accepts: dates outside 0..this are never in a roster. */
static int32_t s_date_last(void) {
    return xs_date_from_civil(2149, 12, 31);
}

/* 1 when an entry's dates and status agree (roster.md §1): known status, dates in range,
 * status_from ≤ status_to, and no status dates on an active teacher. */
static int s_entry_dates_ok(const xs_staff_entry_t *e) {
    int32_t last = s_date_last();
    if (e->status >= XS_STAFF_STATUS_COUNT)
        return 0;
    if (e->hired != S_NO_DATE_LO && (e->hired < 0 || e->hired > last))
        return 0;
    if (e->status_from != S_NO_DATE_LO && (e->status_from < 0 || e->status_from > last))
        return 0;
    if (e->status_to != S_NO_DATE_HI && (e->status_to < 0 || e->status_to > last))
        return 0;
    if (e->status == XS_STAFF_ACTIVE &&
        (e->status_from != S_NO_DATE_LO || e->status_to != S_NO_DATE_HI))
        return 0;
    return e->status_from == S_NO_DATE_LO || e->status_to == S_NO_DATE_HI ||
           e->status_from <= e->status_to;
}

/* ---- CSV reader (roster.md §2) ---- */

enum s_col {
    S_COL_NONE = -1, /* a column the roster does not read (性别, 电话…): ignored */
    S_COL_ID = 0,
    S_COL_NAME,
    S_COL_SCHOOL,
    S_COL_ROLES,
    S_COL_HIRED,
    S_COL_STATUS,
    S_COL_FROM,
    S_COL_TO,
    S_COL_COUNT
};

/* Every name a header cell may carry; English names are matched after ASCII case folding. */
static const struct {
    const char *name;
    int column;
} s_columns[] = {
    {"teacher_id", S_COL_ID}, {"教师编号", S_COL_ID},      {"工号", S_COL_ID},
    {"name", S_COL_NAME},     {"姓名", S_COL_NAME},        {"school_id", S_COL_SCHOOL},
    {"学校", S_COL_SCHOOL},   {"学校编号", S_COL_SCHOOL},  {"roles", S_COL_ROLES},
    {"role", S_COL_ROLES},    {"角色", S_COL_ROLES},       {"职务", S_COL_ROLES},
    {"hired", S_COL_HIRED},   {"入职日期", S_COL_HIRED},   {"status", S_COL_STATUS},
    {"状态", S_COL_STATUS},   {"status_from", S_COL_FROM}, {"起始日期", S_COL_FROM},
    {"status_to", S_COL_TO},  {"截止日期", S_COL_TO},
};
#define S_NCOLUMNS (sizeof s_columns / sizeof s_columns[0])
#define S_NAME_LONGEST 32

static const char *const s_col_names[S_COL_COUNT] = {
    "teacher_id", "name", "school_id", "roles", "hired", "status", "status_from", "status_to"};
static const char *const s_col_zh[S_COL_COUNT] = {"教师编号", "姓名", "学校",     "角色",
                                                  "入职日期", "状态", "起始日期", "截止日期"};

/* Bytes of a cell quoted in a message, cut at a character boundary. */
#define S_ECHO_MAX 40

static int s_column(const char *s, size_t len) {
    char folded[S_NAME_LONGEST];
    if (len > S_NAME_LONGEST)
        return S_COL_NONE;
    for (size_t i = 0; i < len; i++)
        folded[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    for (size_t i = 0; i < S_NCOLUMNS; i++)
        if (strlen(s_columns[i].name) == len && memcmp(s_columns[i].name, folded, len) == 0)
            return s_columns[i].column;
    return S_COL_NONE;
}

static int s_echo_len(const char *s, size_t len) {
    return (int)xs_text_utf8_prefix(s, len, S_ECHO_MAX);
}

/* The reader's state: the roster being built, the line each entry came from, and the
 * messages so far. */
typedef struct s_parse {
    xs_staff_t *out;
    uint32_t *lines; /* lines[i]: the CSV line of out->entries[i] */
    uint32_t cap;    /* entries allocated */
    char *errbuf;
    size_t errcap, errlen;
    int errfull; /* a message did not fit: later ones are counted, not written */
    uint32_t bad;
    int (*known_school)(void *ctx, const char *school, size_t len);
    void *ctx;
} s_parse_t;

/* Adds one line's message ("第 N 行 (line N): …") to errbuf when it fits whole. */
static void s_refuse(s_parse_t *p, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_refuse(s_parse_t *p, uint32_t line, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    p->bad++;
    if (!p->errbuf || p->errcap == 0 || p->errfull)
        return;
    int head = snprintf(msg, sizeof msg, "第 %u 行 (line %u): ", line, line);
    va_start(ap, fmt);
    int n = vsnprintf(msg + head, sizeof msg - (size_t)head, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)head + (size_t)n;
    if (len >= sizeof msg)
        len = sizeof msg - 1;
    if (p->errlen + len + 2 > p->errcap) {
        p->errfull = 1;
        return;
    }
    memcpy(p->errbuf + p->errlen, msg, len);
    p->errlen += len;
    p->errbuf[p->errlen++] = '\n';
    p->errbuf[p->errlen] = '\0';
}

/* A cell of a data row, unguarded and trimmed; empty when the row is shorter. */
static void s_cell(const xs_csv_row_t *row, const int *where, int col, const char **s,
                   size_t *len) {
    *s = "";
    *len = 0;
    if (where[col] < 0 || (size_t)where[col] >= row->count)
        return;
    *s = row->cells[where[col]].ptr;
    *len = row->cells[where[col]].len;
    if (*len && (*s)[0] == '\'')
        xs_csv_unguard(s, len); /* a cell this software wrote, formula-guarded */
    xs_text_trim(s, len);
}

/* Parses YYYY-MM-DD or YYYY/MM/DD (month and day may have one digit, as spreadsheets write
 * them) into days. XS_EINVAL. */
static xs_err s_date(const char *s, size_t len, int32_t *days) {
    unsigned part[3] = {0, 0, 0}, digits[3] = {0, 0, 0};
    size_t k = 0;
    char sep = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (++digits[k] > (k == 0 ? 4u : 2u))
                return XS_EINVAL;
            part[k] = part[k] * 10 + (unsigned)(c - '0');
        } else if ((c == '-' || c == '/') && k < 2 && (sep == 0 || sep == c)) {
            sep = c;
            k++;
        } else {
            return XS_EINVAL;
        }
    }
    if (k != 2 || digits[0] != 4 || digits[1] == 0 || digits[2] == 0)
        return XS_EINVAL;
    char canon[16];
    int n = snprintf(canon, sizeof canon, "%04u-%02u-%02u", part[0], part[1], part[2]);
    if (n != 10)
        return XS_EINVAL;
    return xs_date_parse(canon, 10, days);
}

static int s_status(const char *s, size_t len) {
    char folded[16];
    if (len == 0)
        return XS_STAFF_ACTIVE;
    if (len >= sizeof folded)
        return -1;
    for (size_t i = 0; i < len; i++)
        folded[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    for (unsigned i = 0; i < XS_STAFF_STATUS_COUNT; i++)
        if ((strlen(s_status_names[i]) == len && memcmp(s_status_names[i], folded, len) == 0) ||
            (strlen(s_status_zh[i]) == len && memcmp(s_status_zh[i], s, len) == 0))
            return (int)i;
    return -1;
}

/* Length of the role separator at s (";", "；", "、", ",", "，"), or 0. */
static size_t s_role_sep(const char *s, size_t left) {
    if (s[0] == ';' || s[0] == ',')
        return 1;
    if (left >= 3 &&
        (memcmp(s, "；", 3) == 0 || memcmp(s, "、", 3) == 0 || memcmp(s, "，", 3) == 0))
        return 3;
    return 0;
}

/* Splits a roles cell into e->roles, dropping repeats. 0 and a message on a bad cell. */
static int s_roles(s_parse_t *p, uint32_t line, xs_staff_entry_t *e, const char *s, size_t len) {
    size_t i = 0;
    while (i <= len) {
        size_t start = i, sep = 0;
        while (i < len && (sep = s_role_sep(s + i, len - i)) == 0)
            i++;
        const char *role = s + start;
        size_t rlen = i - start;
        xs_text_trim(&role, &rlen);
        i += i < len ? sep : 1;
        if (rlen == 0)
            continue;
        if (!s_text_ok(role, rlen, XS_STAFF_ROLE_MAX)) {
            s_refuse(p, line,
                     "角色“%.*s”过长或含控制字符 (role too long or has control characters)",
                     s_echo_len(role, rlen), role);
            return 0;
        }
        int repeat = 0;
        for (uint32_t k = 0; k < e->role_count; k++)
            if (strlen(e->roles[k]) == rlen && memcmp(e->roles[k], role, rlen) == 0)
                repeat = 1;
        if (repeat)
            continue;
        if (e->role_count == XS_STAFF_ROLES_MAX) {
            s_refuse(p, line, "角色多于 %d 个 (more than %d roles)", XS_STAFF_ROLES_MAX,
                     XS_STAFF_ROLES_MAX);
            return 0;
        }
        memcpy(e->roles[e->role_count], role, rlen);
        e->roles[e->role_count][rlen] = '\0';
        e->role_count++;
    }
    return 1;
}

/* A date cell into *day (left as is when empty). 0 and a message when bad. */
static int s_date_cell(s_parse_t *p, uint32_t line, int col, const char *s, size_t len,
                       int32_t *day) {
    if (len == 0)
        return 1;
    if (s_date(s, len, day) == XS_OK)
        return 1;
    s_refuse(p, line,
             "%s“%.*s”不是日期，应写作 2024-09-01 或 2024/9/1 (%s is not a date YYYY-MM-DD)",
             s_col_zh[col], s_echo_len(s, len), s, s_col_names[col]);
    return 0;
}

/* Reads one data row into a new entry; a bad row gets a message and no entry. */
static xs_err s_row(s_parse_t *p, const xs_csv_row_t *row, const int *where, size_t columns) {
    const char *s;
    size_t len;
    uint32_t line = row->line;
    for (size_t i = 0; i < row->count; i++) {
        if (!xs_text_utf8_valid(row->cells[i].ptr, row->cells[i].len)) {
            s_refuse(
                p, line,
                "不是 UTF-8 文本（可能是 GBK 编码），请另存为 UTF-8 编码（Excel：“CSV UTF-8”） "
                "(not UTF-8 text, perhaps GBK: save the file as UTF-8)");
            return XS_OK;
        }
    }
    for (size_t i = columns; i < row->count; i++) {
        s = row->cells[i].ptr;
        len = row->cells[i].len;
        xs_text_trim(&s, &len);
        if (len) {
            s_refuse(p, line, "单元格多于表头的 %zu 列 (more cells than the header's %zu)", columns,
                     columns);
            return XS_OK;
        }
    }
    xs_staff_entry_t e;
    memset(&e, 0, sizeof e);
    e.hired = S_NO_DATE_LO;
    e.status_from = S_NO_DATE_LO;
    e.status_to = S_NO_DATE_HI;
    static const size_t max[3] = {XS_ID_MAX, XS_STAFF_NAME_MAX, XS_ID_MAX};
    char *dest[3] = {e.teacher_id, e.name, e.school_id};
    for (int col = S_COL_ID; col <= S_COL_SCHOOL; col++) {
        s_cell(row, where, col, &s, &len);
        if (len == 0) {
            s_refuse(p, line, "%s为空 (%s is empty)", s_col_zh[col], s_col_names[col]);
            return XS_OK;
        }
        if (!s_text_ok(s, len, max[col])) {
            s_refuse(p, line,
                     "%s“%.*s”超过 %zu 字节或含控制字符 (%s too long or has control "
                     "characters)",
                     s_col_zh[col], s_echo_len(s, len), s, max[col], s_col_names[col]);
            return XS_OK;
        }
        memcpy(dest[col], s, len);
        dest[col][len] = '\0';
    }
    if (p->known_school && !p->known_school(p->ctx, e.school_id, strlen(e.school_id))) {
        s_refuse(p, line,
                 "未知学校“%s”：没有登记为该校服务的节点 (unknown school \"%s\": no enrolled "
                 "node serves it)",
                 e.school_id, e.school_id);
        return XS_OK;
    }
    s_cell(row, where, S_COL_ROLES, &s, &len);
    if (!s_roles(p, line, &e, s, len))
        return XS_OK;
    s_cell(row, where, S_COL_HIRED, &s, &len);
    if (!s_date_cell(p, line, S_COL_HIRED, s, len, &e.hired))
        return XS_OK;
    s_cell(row, where, S_COL_STATUS, &s, &len);
    int status = s_status(s, len);
    if (status < 0) {
        s_refuse(p, line,
                 "状态“%.*s”应为 在职、离岗、退休 或 调出 (status must be active, on_leave, "
                 "retired or left)",
                 s_echo_len(s, len), s);
        return XS_OK;
    }
    e.status = (uint8_t)status;
    s_cell(row, where, S_COL_FROM, &s, &len);
    if (!s_date_cell(p, line, S_COL_FROM, s, len, &e.status_from))
        return XS_OK;
    s_cell(row, where, S_COL_TO, &s, &len);
    if (!s_date_cell(p, line, S_COL_TO, s, len, &e.status_to))
        return XS_OK;
    if (e.status == XS_STAFF_ACTIVE &&
        (e.status_from != S_NO_DATE_LO || e.status_to != S_NO_DATE_HI)) {
        s_refuse(p, line,
                 "状态为在职时起始日期和截止日期应为空 (an active teacher has no status "
                 "dates)");
        return XS_OK;
    }
    if (!s_entry_dates_ok(&e)) {
        s_refuse(p, line, "截止日期早于起始日期 (status_to is before status_from)");
        return XS_OK;
    }
    if (p->out->count == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 256;
        if (cap > XS_STAFF_MAX)
            cap = XS_STAFF_MAX;
        xs_staff_entry_t *entries = realloc(p->out->entries, cap * sizeof *entries);
        if (!entries)
            return XS_ENOMEM;
        p->out->entries = entries;
        uint32_t *lines = realloc(p->lines, cap * sizeof *lines);
        if (!lines)
            return XS_ENOMEM;
        p->lines = lines;
        p->cap = cap;
    }
    p->lines[p->out->count] = line;
    p->out->entries[p->out->count++] = e;
    return XS_OK;
}

/* Reads the header into where[column] (the cell index, or -1). 0 and a message when bad. */
static int s_header(s_parse_t *p, const xs_csv_row_t *row, int where[S_COL_COUNT]) {
    for (int c = 0; c < S_COL_COUNT; c++)
        where[c] = -1;
    for (size_t i = 0; i < row->count; i++) {
        const char *s = row->cells[i].ptr;
        size_t len = row->cells[i].len;
        xs_text_trim(&s, &len);
        if (!xs_text_utf8_valid(s, len)) {
            s_refuse(p, row->line,
                     "表头不是 UTF-8 文本（可能是 GBK 编码），请另存为 UTF-8 编码（Excel：“CSV "
                     "UTF-8”） (header is not UTF-8 text, perhaps GBK: save the file as UTF-8)");
            return 0;
        }
        int col = s_column(s, len);
        if (col == S_COL_NONE)
            continue;
        if (where[col] >= 0) {
            s_refuse(p, row->line, "第 %d 列与第 %zu 列都是“%s” (columns %d and %zu are both %s)",
                     where[col] + 1, i + 1, s_col_zh[col], where[col] + 1, i + 1, s_col_names[col]);
            return 0;
        }
        where[col] = (int)i;
    }
    for (int col = S_COL_ID; col <= S_COL_SCHOOL; col++) {
        if (where[col] < 0) {
            s_refuse(p, row->line, "缺少必需的列“%s” (missing required column %s)", s_col_zh[col],
                     s_col_names[col]);
            return 0;
        }
    }
    return 1;
}

/* Sorts the entries by teacher_id (stably, so among equal ids the first line comes first) and
 * names every repeat with the line it repeats. XS_ENOMEM. */
static xs_err s_sort_and_check(s_parse_t *p) {
    xs_staff_t *out = p->out;
    uint32_t n = out->count;
    if (n < 2)
        return XS_OK;
    uint32_t *order = malloc(n * sizeof *order), *buf = malloc(n * sizeof *buf);
    xs_staff_entry_t *sorted = malloc(n * sizeof *sorted);
    if (!order || !buf || !sorted) {
        free(order);
        free(buf);
        free(sorted);
        return XS_ENOMEM;
    }
    /* Bottom-up merge sort of indices: stable, and each entry keeps its line. */
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    for (uint32_t width = 1; width < n; width *= 2) { /* n ≤ XS_STAFF_MAX: no overflow */
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                buf[k++] =
                    strcmp(out->entries[order[b]].teacher_id, out->entries[order[a]].teacher_id) < 0
                        ? order[b++]
                        : order[a++];
            while (a < mid)
                buf[k++] = order[a++];
            while (b < hi)
                buf[k++] = order[b++];
        }
        memcpy(order, buf, n * sizeof *order);
    }
    uint32_t first = 0;
    for (uint32_t i = 0; i < n; i++) {
        const xs_staff_entry_t *e = &out->entries[order[i]];
        uint32_t was = p->lines[order[first]];
        if (i > 0 && strcmp(out->entries[order[first]].teacher_id, e->teacher_id) == 0)
            s_refuse(p, p->lines[order[i]],
                     "教师编号“%s”重复，与第 %u 行相同 (teacher_id \"%s\" repeats line %u)",
                     e->teacher_id, was, e->teacher_id, was);
        else
            first = i;
        sorted[i] = *e;
    }
    free(out->entries);
    out->entries = sorted;
    free(order);
    free(buf);
    return XS_OK;
}

xs_err xs_staff_parse_csv(xs_staff_t *out, const char *text, size_t len,
                          int (*known_school)(void *ctx, const char *school, size_t len), void *ctx,
                          char *errbuf, size_t cap, uint32_t *bad_lines) {
    s_parse_t p;
    xs_csv_t *csv = NULL;
    xs_csv_row_t *row = NULL;
    int where[S_COL_COUNT];
    size_t columns = 0;
    int header = 0;
    uint32_t rows = 0;
    memset(out, 0, sizeof *out);
    memset(&p, 0, sizeof p);
    p.out = out;
    p.errbuf = errbuf;
    p.errcap = cap;
    p.known_school = known_school;
    p.ctx = ctx;
    if (errbuf && cap)
        errbuf[0] = '\0';
    *bad_lines = 0;
    xs_err err = xs_csv_open_mem(&csv, text, len);
    if (err != XS_OK)
        goto out;
    row = malloc(sizeof *row);
    if (!row) {
        err = XS_ENOMEM;
        goto out;
    }
    for (;;) {
        err = xs_csv_next(csv, row);
        if (err == XS_ENOTFOUND) {
            err = XS_OK;
            break;
        }
        if (err != XS_OK) {
            s_refuse(&p, xs_csv_line(csv),
                     "CSV 格式错误，读取停止 (broken CSV, reading stopped): %s", xs_csv_why(csv));
            err = XS_OK;
            break;
        }
        if (!header) {
            /* A header not read (a GBK file's Chinese names): the lines that are not UTF-8
             * are still named, since that is what the user must fix. */
            header = s_header(&p, row, where) ? 1 : -1;
            columns = row->count;
            continue;
        }
        if (xs_csv_row_blank(row))
            continue;
        if (++rows > XS_STAFF_MAX) {
            s_refuse(&p, row->line, "花名册多于 %d 人 (more than %d teachers)", XS_STAFF_MAX,
                     XS_STAFF_MAX);
            err = XS_ETOOBIG;
            goto out;
        }
        if (header < 0) {
            for (size_t i = 0; i < row->count; i++)
                if (!xs_text_utf8_valid(row->cells[i].ptr, row->cells[i].len)) {
                    s_refuse(&p, row->line,
                             "不是 UTF-8 文本（可能是 GBK 编码），请另存为 UTF-8 编码（Excel："
                             "“CSV UTF-8”） (not UTF-8 text, perhaps GBK: save the file as "
                             "UTF-8)");
                    break;
                }
            continue;
        }
        err = s_row(&p, row, where, columns);
        if (err != XS_OK)
            goto out;
    }
    if (!header)
        s_refuse(&p, 1, "空文件，没有表头 (empty file, no header)");
    else if (header > 0 && rows == 0)
        s_refuse(&p, 1, "表中没有教师 (no teachers in the file)");
    if (header > 0)
        err = s_sort_and_check(&p);
    if (err == XS_OK && p.bad)
        err = XS_EINVAL;
out:
    *bad_lines = p.bad;
    free(row);
    free(p.lines);
    xs_csv_close(&csv);
    if (err != XS_OK)
        xs_staff_free(out);
    return err;
}

const xs_staff_entry_t *xs_staff_find(const xs_staff_t *staff, const char *teacher_id, size_t len) {
    size_t lo = 0, hi = staff->count;
    if (len > XS_ID_MAX)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *id = staff->entries[mid].teacher_id;
        size_t idlen = strlen(id);
        int c = memcmp(id, teacher_id, idlen < len ? idlen : len);
        if (c == 0)
            c = idlen < len ? -1 : idlen > len ? 1 : 0;
        if (c == 0)
            return &staff->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- nearest ---- */

/* Most code points compared; longer text compares its first ones. */
#define S_CP_MAX 64

/* Decodes up to S_CP_MAX code points of s into cp (invalid bytes count one each). */
static size_t s_code_points(const char *s, size_t len, uint32_t cp[S_CP_MAX]) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0, i = 0;
    while (i < len && n < S_CP_MAX) {
        unsigned c = u[i];
        size_t need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (need > len - i - 1)
            need = 0;
        for (size_t k = 1; k <= need; k++)
            if ((u[i + k] & 0xc0) != 0x80)
                need = 0;
        uint32_t v = need == 0 ? c : c & (0x3fu >> need);
        for (size_t k = 1; k <= need; k++)
            v = (v << 6) | (u[i + k] & 0x3fu);
        cp[n++] = v;
        i += need + 1;
    }
    return n;
}

/* Edit distance of a and b, or limit + 1 once it must exceed limit. */
static size_t s_distance(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t limit) {
    size_t row[S_CP_MAX + 1];
    if ((na > nb ? na - nb : nb - na) > limit)
        return limit + 1;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0], best;
        row[0] = i;
        best = row[0];
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t v = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best)
                best = v;
        }
        if (best > limit)
            return limit + 1;
    }
    return row[nb];
}

static size_t s_prefix(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    return i;
}

/* How near text is to one string: 0 is nearest; S_FAR when not near at all. */
#define S_FAR ((size_t)-1)
static size_t s_score(const uint32_t *t, size_t nt, const char *s) {
    uint32_t cp[S_CP_MAX];
    size_t n = s_code_points(s, strlen(s), cp);
    size_t d = s_distance(t, nt, cp, n, 2);
    if (d <= 2)
        return d;
    if (s_prefix(t, nt, cp, n) >= 2)
        return 3 + (nt > n ? nt - n : n - nt);
    return S_FAR;
}

size_t xs_staff_nearest(const xs_staff_t *staff, const char *text, size_t len,
                        const xs_staff_entry_t **out, size_t max) {
    uint32_t t[S_CP_MAX];
    size_t score[16], found = 0;
    if (max > 16)
        max = 16;
    if (max == 0 || len == 0)
        return 0;
    size_t nt = s_code_points(text, len, t);
    for (uint32_t i = 0; i < staff->count; i++) {
        const xs_staff_entry_t *e = &staff->entries[i];
        size_t s;
        if (strlen(e->name) == len && memcmp(e->name, text, len) == 0) {
            s = 0; /* an exact name ranks before any id */
        } else {
            size_t a = s_score(t, nt, e->teacher_id), b = s_score(t, nt, e->name);
            s = a < b ? a : b;
            if (s == S_FAR)
                continue;
            s += 1;
        }
        if (found == max && score[found - 1] <= s)
            continue;
        size_t k = found < max ? found++ : found - 1;
        while (k > 0 && score[k - 1] > s) {
            score[k] = score[k - 1];
            out[k] = out[k - 1];
            k--;
        }
        score[k] = s;
        out[k] = e;
    }
    return found;
}

/* ---- diff ---- */

static int s_same_info(const xs_staff_entry_t *a, const xs_staff_entry_t *b) {
    if (strcmp(a->name, b->name) != 0 || a->role_count != b->role_count || a->hired != b->hired ||
        a->status != b->status || a->status_from != b->status_from || a->status_to != b->status_to)
        return 0;
    for (uint32_t i = 0; i < a->role_count; i++)
        if (strcmp(a->roles[i], b->roles[i]) != 0)
            return 0;
    return 1;
}

xs_err xs_staff_diff(const xs_staff_t *old, const xs_staff_t *new_,
                     xs_err (*fn)(void *ctx, xs_staff_change change, const xs_staff_entry_t *old_e,
                                  const xs_staff_entry_t *new_e),
                     void *ctx) {
    uint32_t i = 0, j = 0;
    while (i < old->count || j < new_->count) {
        const xs_staff_entry_t *a = i < old->count ? &old->entries[i] : NULL;
        const xs_staff_entry_t *b = j < new_->count ? &new_->entries[j] : NULL;
        int c = !a ? 1 : !b ? -1 : strcmp(a->teacher_id, b->teacher_id);
        xs_err err = XS_OK;
        if (c < 0) {
            err = fn(ctx, XS_STAFF_REMOVED, a, NULL);
            i++;
        } else if (c > 0) {
            err = fn(ctx, XS_STAFF_ADDED, NULL, b);
            j++;
        } else {
            if (strcmp(a->school_id, b->school_id) != 0)
                err = fn(ctx, XS_STAFF_MOVED, a, b);
            else if (!s_same_info(a, b))
                err = fn(ctx, XS_STAFF_CHANGED, a, b);
            i++;
            j++;
        }
        if (err != XS_OK)
            return err;
    }
    return XS_OK;
}

/* ---- msgpack forms (roster.md §4, §5) ---- */

static void s_put_date(xs_writer_t *w, int32_t day, int32_t none) {
    if (day == none)
        xs_codec_put_nil(w);
    else
        xs_codec_put_int(w, day);
}

/* [teacher_id, name, school_id, [roles], hired, status, status_from, status_to] */
static void s_put_entry(xs_writer_t *w, const xs_staff_entry_t *e) {
    xs_codec_put_array(w, 8);
    xs_codec_put_str(w, e->teacher_id, strlen(e->teacher_id));
    xs_codec_put_str(w, e->name, strlen(e->name));
    xs_codec_put_str(w, e->school_id, strlen(e->school_id));
    xs_codec_put_array(w, e->role_count);
    for (uint32_t i = 0; i < e->role_count; i++)
        xs_codec_put_str(w, e->roles[i], strlen(e->roles[i]));
    s_put_date(w, e->hired, S_NO_DATE_LO);
    xs_codec_put_uint(w, e->status);
    s_put_date(w, e->status_from, S_NO_DATE_LO);
    s_put_date(w, e->status_to, S_NO_DATE_HI);
}

void xs_staff_encode(const xs_staff_t *staff, xs_writer_t *w) {
    xs_codec_put_array(w, 4);
    xs_codec_put_uint(w, S_FORMAT);
    xs_codec_put_uint(w, staff->version);
    xs_codec_put_int(w, staff->issued_at);
    xs_codec_put_array(w, staff->count);
    for (uint32_t i = 0; i < staff->count; i++)
        s_put_entry(w, &staff->entries[i]);
}

static int s_get_text(xs_reader_t *r, size_t max, char *dest) {
    const char *s;
    uint32_t len;
    if (xs_codec_get_str(r, &s, &len) != XS_OK || !s_text_ok(s, len, max))
        return 0;
    memcpy(dest, s, len);
    dest[len] = '\0';
    return 1;
}

static int s_get_date(xs_reader_t *r, int32_t none, int32_t *day) {
    int64_t v;
    if (xs_codec_peek(r) == XS_CODEC_NIL) {
        *day = none;
        return xs_codec_get_nil(r) == XS_OK;
    }
    if (xs_codec_get_int(r, &v) != XS_OK || v < 0 || v > s_date_last())
        return 0;
    *day = (int32_t)v;
    return 1;
}

static int s_get_entry(xs_reader_t *r, xs_staff_entry_t *e) {
    uint32_t n;
    uint64_t status;
    memset(e, 0, sizeof *e);
    if (xs_codec_get_array(r, &n) != XS_OK || n != 8 || !s_get_text(r, XS_ID_MAX, e->teacher_id) ||
        !s_get_text(r, XS_STAFF_NAME_MAX, e->name) || !s_get_text(r, XS_ID_MAX, e->school_id) ||
        xs_codec_get_array(r, &n) != XS_OK || n > XS_STAFF_ROLES_MAX)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!s_get_text(r, XS_STAFF_ROLE_MAX, e->roles[i]))
            return 0;
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(e->roles[k], e->roles[i]) == 0)
                return 0;
    }
    e->role_count = n;
    if (!s_get_date(r, S_NO_DATE_LO, &e->hired) || xs_codec_get_uint(r, &status) != XS_OK ||
        status >= XS_STAFF_STATUS_COUNT)
        return 0;
    e->status = (uint8_t)status;
    return s_get_date(r, S_NO_DATE_LO, &e->status_from) &&
           s_get_date(r, S_NO_DATE_HI, &e->status_to) && s_entry_dates_ok(e);
}

/* The fewest bytes an entry takes (§4: an array header, three one-character strings, an empty
 * roles array, nil, a status and two nils): no allocation for entries the input cannot hold. */
#define S_ENTRY_MIN 12

/* Reads count entries, sorted strictly by teacher_id, into out->entries. */
static xs_err s_get_entries(xs_reader_t *r, uint32_t count, xs_staff_t *out) {
    if (count == 0)
        return XS_OK;
    if (count > xs_reader_left(r) / S_ENTRY_MIN)
        return XS_EMALFORMED;
    out->entries = malloc((size_t)count * sizeof *out->entries);
    if (!out->entries)
        return XS_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        if (!s_get_entry(r, &out->entries[i]))
            return XS_EMALFORMED;
        if (i > 0 && strcmp(out->entries[i - 1].teacher_id, out->entries[i].teacher_id) >= 0)
            return XS_EMALFORMED;
        out->count = i + 1;
    }
    return XS_OK;
}

xs_err xs_staff_decode(xs_staff_t *out, const void *bytes, size_t len) {
    xs_reader_t r;
    uint32_t n;
    uint64_t format, version;
    int64_t issued_at;
    memset(out, 0, sizeof *out);
    xs_reader_init(&r, bytes, len);
    if (xs_codec_get_array(&r, &n) != XS_OK || n != 4 || xs_codec_get_uint(&r, &format) != XS_OK ||
        format != S_FORMAT || xs_codec_get_uint(&r, &version) != XS_OK || version > UINT32_MAX ||
        xs_codec_get_int(&r, &issued_at) != XS_OK || xs_codec_get_array(&r, &n) != XS_OK)
        return XS_EMALFORMED;
    if (n > XS_STAFF_MAX)
        return XS_ETOOBIG;
    out->version = (uint32_t)version;
    out->issued_at = issued_at;
    xs_err err = s_get_entries(&r, n, out);
    if (err == XS_OK && xs_reader_left(&r) != 0)
        err = XS_EMALFORMED;
    if (err != XS_OK)
        xs_staff_free(out);
    return err;
}

int32_t xs_staff_service_days(const xs_staff_entry_t *e, int32_t from, int32_t to) {
    int64_t start = from;
    if (e->hired != S_NO_DATE_LO && e->hired > start)
        start = e->hired;
    if (start > to)
        return 0;
    int64_t days = (int64_t)to - start + 1;
    if (e->status != XS_STAFF_ACTIVE) {
        int64_t away_from = e->status_from > start ? e->status_from : start;
        int64_t away_to = e->status_to < to ? e->status_to : to;
        if (away_from <= away_to)
            days -= away_to - away_from + 1;
    }
    return (int32_t)days;
}

/* ---- signed parts (roster.md §5) ---- */

static int s_str_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when school is among the n sorted schools. */
static int s_school_in(const char *const *schools, size_t n, const char *school) {
    return bsearch(&school, schools, n, sizeof *schools, s_str_cmp) != NULL;
}

xs_err xs_staff_part_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                          const uint8_t origin[XS_SIGN_PK_BYTES], const xs_staff_t *staff,
                          const char *const *schools, size_t count) {
    const char *sorted[XS_STAFF_SCHOOLS_MAX];
    size_t n = 0;
    uint32_t teachers = 0;
    if (count == 0 || count > XS_STAFF_SCHOOLS_MAX)
        return XS_EINVAL;
    for (size_t i = 0; i < count; i++) {
        if (!s_text_ok(schools[i], strlen(schools[i]), XS_ID_MAX))
            return XS_EINVAL;
        sorted[i] = schools[i];
    }
    /* Sorted and without repeats, so the same node gives the same bytes whatever the order
     * of its proxies. */
    qsort(sorted, count, sizeof *sorted, s_str_cmp);
    for (size_t i = 0; i < count; i++)
        if (n == 0 || strcmp(sorted[n - 1], sorted[i]) != 0)
            sorted[n++] = sorted[i];
    for (uint32_t i = 0; i < staff->count; i++)
        if (s_school_in(sorted, n, staff->entries[i].school_id))
            teachers++;
    if (teachers > XS_STAFF_PART_MAX)
        return XS_ETOOBIG;
    xs_writer_t signed_bytes;
    xs_writer_init(&signed_bytes, XS_STAFF_PART_BYTES);
    xs_writer_raw(&signed_bytes, s_part_context, sizeof s_part_context);
    xs_codec_put_array(&signed_bytes, 7);
    xs_codec_put_uint(&signed_bytes, S_FORMAT);
    xs_codec_put_bin(&signed_bytes, xs_identity_public(hub)->sign, XS_SIGN_PK_BYTES);
    xs_codec_put_bin(&signed_bytes, origin, XS_SIGN_PK_BYTES);
    xs_codec_put_uint(&signed_bytes, staff->version);
    xs_codec_put_int(&signed_bytes, staff->issued_at);
    xs_codec_put_array(&signed_bytes, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        xs_codec_put_str(&signed_bytes, sorted[i], strlen(sorted[i]));
    xs_codec_put_array(&signed_bytes, teachers);
    for (uint32_t i = 0; i < staff->count; i++)
        if (s_school_in(sorted, n, staff->entries[i].school_id))
            s_put_entry(&signed_bytes, &staff->entries[i]);
    xs_err err = xs_writer_err(&signed_bytes);
    if (err == XS_OK)
        err = xs_envelope_seal(envelope, hub, &signed_bytes, sizeof s_part_context,
                               XS_STAFF_PART_BYTES);
    xs_writer_free(&signed_bytes);
    return err;
}

xs_err xs_staff_part_open(const void *envelope, size_t len, const uint8_t hub[XS_SIGN_PK_BYTES],
                          const uint8_t origin[XS_SIGN_PK_BYTES], xs_staff_t *out) {
    const uint8_t *body, *bin;
    size_t body_len;
    uint32_t n, blen, schools;
    uint64_t format, version;
    int64_t issued_at;
    char school[XS_STAFF_SCHOOLS_MAX][XS_ID_MAX + 1];
    const char *listed[XS_STAFF_SCHOOLS_MAX];
    xs_reader_t r;
    memset(out, 0, sizeof *out);
    xs_err err = xs_envelope_open(envelope, len, XS_STAFF_PART_BYTES, s_part_context,
                                  sizeof s_part_context, hub, &body, &body_len);
    if (err != XS_OK)
        return err;
    xs_reader_init(&r, body, body_len);
    if (xs_codec_get_array(&r, &n) != XS_OK || n != 7 || xs_codec_get_uint(&r, &format) != XS_OK ||
        format != S_FORMAT || xs_codec_get_bin(&r, &bin, &blen) != XS_OK ||
        blen != XS_SIGN_PK_BYTES || memcmp(bin, hub, XS_SIGN_PK_BYTES) != 0 ||
        xs_codec_get_bin(&r, &bin, &blen) != XS_OK || blen != XS_SIGN_PK_BYTES)
        return XS_EMALFORMED;
    if (memcmp(bin, origin, XS_SIGN_PK_BYTES) != 0)
        return XS_EPERM; /* signed for another node */
    if (xs_codec_get_uint(&r, &version) != XS_OK || version > UINT32_MAX ||
        xs_codec_get_int(&r, &issued_at) != XS_OK || xs_codec_get_array(&r, &schools) != XS_OK ||
        schools == 0 || schools > XS_STAFF_SCHOOLS_MAX)
        return XS_EMALFORMED;
    for (uint32_t i = 0; i < schools; i++) {
        if (!s_get_text(&r, XS_ID_MAX, school[i]) ||
            (i > 0 && strcmp(school[i - 1], school[i]) >= 0))
            return XS_EMALFORMED;
        listed[i] = school[i];
    }
    if (xs_codec_get_array(&r, &n) != XS_OK)
        return XS_EMALFORMED;
    if (n > XS_STAFF_PART_MAX)
        return XS_ETOOBIG;
    out->version = (uint32_t)version;
    out->issued_at = issued_at;
    err = s_get_entries(&r, n, out);
    if (err == XS_OK && xs_reader_left(&r) != 0)
        err = XS_EMALFORMED;
    for (uint32_t i = 0; err == XS_OK && i < out->count; i++)
        if (!s_school_in(listed, schools, out->entries[i].school_id))
            err = XS_EMALFORMED; /* a teacher of a school the part does not cover */
    if (err != XS_OK)
        xs_staff_free(out);
    return err;
}
