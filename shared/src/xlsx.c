/* xlsx: a bounded reader of an XLSX workbook's first worksheet, as CSV text (libzip, expat). */
#include "xs/xlsx.h"

#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "xs/csv.h"
#include "xs/text.h"

/* Longest text of one cell or shared string, in bytes: Excel holds at most 32767 characters,
 * which take up to 4 bytes each in UTF-8. */
#define S_TEXT_MAX ((size_t)128 * 1024)
/* Longest part name followed from the workbook's relationships. */
#define S_PATH_MAX 512
/* Bytes read from a part at a time. */
#define S_CHUNK (64 * 1024)
/* Bytes rendered for one number (a number shown without an exponent up to 1E+30). */
#define S_NUMBER_MAX 64
/* The smallest shared string entry ("<si/>") takes this many bytes of the part. */
#define S_SI_MIN 5

#define S_TEXT_LONG "单元格文本过长 (a cell's text is too long)"
#define S_CSV_LONG "转换结果超过 1 GiB (the CSV would be over 1 GiB)"
#define S_INVALID "不是有效的 XLSX 工作簿 (not a valid XLSX workbook): "
#define S_TOO_LARGE "工作表过大 (worksheet too large): "

/* A growable byte buffer with a maximum. */
typedef struct s_buf {
    char *bytes;
    size_t len, cap;
} s_buf;

/* A custom number format: its id and whether it shows a date. */
typedef struct s_numfmt {
    uint32_t id;
    uint8_t date;
} s_numfmt;

/* One worksheet row written to the output: where its "\n" is and how many cells it has. */
typedef struct s_line {
    size_t end;     /* offset of the row's "\n" in the output */
    uint32_t cells; /* cells written, 1..XS_XLSX_COLS_MAX */
} s_line;

/* Where a cell's value comes from, by its t attribute. */
typedef enum s_type {
    S_T_NUMBER, /* absent or "n" */
    S_T_SHARED, /* "s": an index into the shared strings */
    S_T_INLINE, /* "inlineStr": <is><t> */
    S_T_STR,    /* "str": a formula's string result */
    S_T_BOOL,   /* "b" */
    S_T_ERROR,  /* "e": "#N/A", shown as is */
    S_T_DATE,   /* "d": an ISO 8601 date */
} s_type;

/* The whole conversion: the zip, what the workbook, styles and shared strings said, the
 * state of the worksheet being read, and the CSV written so far. */
typedef struct s_book {
    zip_t *zip;
    char *errbuf;
    size_t cap;
    xs_err err;         /* first error; XS_OK while none */
    const char *part;   /* name of the part being parsed, for messages */
    XML_Parser parser;  /* the parser of that part */
    int date1904;       /* workbookPr date1904: serials count from 1904-01-01 */
    int sheet_seen;     /* the first <sheet> was read */
    char sheet_rid[64]; /* its relationship id */
    char sheet_path[S_PATH_MAX];
    /* shared strings: string i is sst.bytes[sst_off[i] .. sst_off[i + 1]) */
    s_buf sst;
    uint32_t *sst_off;
    size_t sst_count, sst_off_cap;
    /* styles: cellXfs' number format ids, then whether each shows a date */
    uint32_t *xf_fmt;
    uint8_t *xf_date;
    size_t xf_count, xf_cap;
    s_numfmt *fmts;
    size_t fmt_count, fmt_cap;
    int in_cell_xfs;
    /* text being collected (a <t>, <v>), and where */
    s_buf text;
    int collect;  /* depth of elements whose text is collected */
    int in_si;    /* inside <si> (shared strings) or <is> (an inline string) */
    int in_rph;   /* inside <rPh>: phonetic text, not shown */
    int in_value; /* inside <v> */
    /* the worksheet */
    int in_data;      /* inside <sheetData> */
    uint32_t row;     /* current row number; 0 before the first */
    int in_row;       /* inside <row> */
    uint32_t col;     /* column of the current or last cell of the row; 0 before */
    int in_cell;      /* inside <c> */
    s_type type;      /* the current cell's t */
    uint32_t style;   /* its s */
    uint32_t written; /* last column written on the current row; 0 while none */
    uint32_t lines;   /* lines ended in the output */
    uint32_t widest;  /* most cells any row was written with */
    s_buf out;        /* the CSV */
    s_line *rows;     /* each row written */
    size_t row_count, row_cap;
} s_book;

/* Writes one formatted line into errbuf when the caller gave room, cut at a character. */
static void s_message(char *errbuf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_message(char *errbuf, size_t cap, const char *fmt, ...) {
    if (!errbuf || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(errbuf, cap, fmt, ap);
    va_end(ap);
    if (n < 0) {
        errbuf[0] = '\0';
    } else if ((size_t)n >= cap) {
        size_t len = cap - 1, start = len;
        while (start > 0 && ((unsigned char)errbuf[start - 1] & 0xc0) == 0x80)
            start--;
        if (start > 0 && !xs_text_utf8_valid(errbuf + start - 1, len - start + 1))
            errbuf[start - 1] = '\0';
    }
}

/* Records the first error with its message and stops the parser running, if any. */
static void s_fail(s_book *b, xs_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_fail(s_book *b, xs_err err, const char *fmt, ...) {
    if (b->err != XS_OK)
        return;
    b->err = err;
    if (b->errbuf && b->cap) {
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        s_message(b->errbuf, b->cap, "%s", n < 0 ? "" : line);
    }
    if (b->parser)
        XML_StopParser(b->parser, XML_FALSE);
}

static void s_nomem(s_book *b) {
    s_fail(b, XS_ENOMEM, "内存不足 (out of memory)");
}

/* Makes room for more bytes in buf, up to max; 0 (and b's error set: XS_ETOOBIG saying
 * too_big, or XS_ENOMEM) when it cannot. */
static int s_reserve(s_book *b, s_buf *buf, size_t more, size_t max, const char *too_big) {
    if (more > max || buf->len > max - more) {
        s_fail(b, XS_ETOOBIG, S_TOO_LARGE "%s", too_big);
        return 0;
    }
    if (buf->len + more <= buf->cap)
        return 1;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + more)
        cap = cap > max / 2 ? max : cap * 2;
    char *bytes = realloc(buf->bytes, cap);
    if (!bytes) {
        s_nomem(b);
        return 0;
    }
    buf->bytes = bytes;
    buf->cap = cap;
    return 1;
}

static int s_append(s_book *b, s_buf *buf, const char *s, size_t len, size_t max,
                    const char *too_big) {
    if (!s_reserve(b, buf, len, max, too_big))
        return 0;
    if (len)
        memcpy(buf->bytes + buf->len, s, len);
    buf->len += len;
    return 1;
}

/* Grows an array of size-byte items to hold one more, at most max items. */
static int s_grow(s_book *b, void **items, size_t *cap, size_t count, size_t size, size_t max) {
    if (count < *cap)
        return 1;
    if (count >= max) {
        s_fail(b, XS_ETOOBIG, S_TOO_LARGE "%s 的条目过多 (too many entries)", b->part);
        return 0;
    }
    size_t grown = *cap ? *cap * 2 : 64;
    if (grown > max)
        grown = max;
    void *more = realloc(*items, grown * size);
    if (!more) {
        s_nomem(b);
        return 0;
    }
    *items = more;
    *cap = grown;
    return 1;
}

/* An element's name without its namespace prefix ("x:row" is "row"). */
static const char *s_local(const XML_Char *name) {
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

/* The value of the attribute whose local name is name, or NULL. */
static const char *s_attr(const XML_Char **attrs, const char *name) {
    for (size_t i = 0; attrs[i] && attrs[i + 1]; i += 2)
        if (strcmp(s_local(attrs[i]), name) == 0)
            return attrs[i + 1];
    return NULL;
}

/* Parses a decimal number of at most 10 digits into *out; 0 when s is not one. */
static int s_uint(const char *s, uint64_t *out) {
    uint64_t v = 0;
    size_t i = 0;
    if (!s || !s[0])
        return 0;
    for (; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 10)
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

static int s_true(const char *s) {
    return s && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0);
}

/* What a libzip error means to the person holding the file, Chinese first; libzip's own text
 * (English) for the rarer ones. */
static const char *s_zip_why(int code, const char *libzip_text) {
    switch (code) {
    case ZIP_ER_NOZIP:
    case ZIP_ER_EOF:
    case ZIP_ER_SEEK:
    case ZIP_ER_READ:
    case ZIP_ER_INCONS:
    case ZIP_ER_CRC:
    case ZIP_ER_ZLIB:
        return "文件不完整或已损坏，请重新复制或在 Excel 中重新保存 (the file is cut short or "
               "damaged: copy it again, or save it again from Excel)";
    case ZIP_ER_COMPNOTSUPP:
    case ZIP_ER_ENCRNOTSUPP:
        return "使用了不支持的压缩方式，请在 Excel 中另存 (an unsupported compression: save it "
               "again from Excel)";
    default:
        return libzip_text;
    }
}

/* ---- XML parts ---------------------------------------------------------------------------- */

static void XMLCALL s_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                              const XML_Char *pubid, int internal) {
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)internal;
    s_book *b = ud;
    s_fail(b, XS_EMALFORMED, S_INVALID "%s 含有 DOCTYPE 声明 (has a DOCTYPE declaration)", b->part);
}

static void XMLCALL s_entity(void *ud, const XML_Char *name, int param, const XML_Char *value,
                             int value_len, const XML_Char *base, const XML_Char *sysid,
                             const XML_Char *pubid, const XML_Char *notation) {
    (void)name;
    (void)param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    s_book *b = ud;
    s_fail(b, XS_EMALFORMED, S_INVALID "%s 声明了实体 (declares an entity)", b->part);
}

static void XMLCALL s_collect(void *ud, const XML_Char *s, int len) {
    s_book *b = ud;
    if (b->collect > 0 && !b->in_rph && len > 0)
        (void)s_append(b, &b->text, s, (size_t)len, S_TEXT_MAX, S_TEXT_LONG);
}

/* Parses the part named name with the handlers, streaming it out of the zip: never more than
 * XS_XLSX_PART_MAX bytes, whatever its header says. A missing part is an error when required,
 * else *found is 0. */
static xs_err s_parse(s_book *b, const char *name, int required, int *found,
                      XML_StartElementHandler start, XML_EndElementHandler end) {
    zip_stat_t st;
    zip_file_t *file = NULL;
    char *chunk = NULL;
    size_t total = 0;
    if (found)
        *found = 0;
    b->part = name;
    zip_int64_t index = zip_name_locate(b->zip, name, ZIP_FL_NOCASE);
    if (index < 0) {
        if (required)
            s_fail(b, XS_EMALFORMED, S_INVALID "缺少 %s (%s is missing)", name, name);
        return b->err;
    }
    if (found)
        *found = 1;
    zip_stat_init(&st);
    if (zip_stat_index(b->zip, (zip_uint64_t)index, 0, &st) != 0) {
        s_fail(b, XS_EMALFORMED, S_INVALID "%s: %s", name,
               s_zip_why(zip_error_code_zip(zip_get_error(b->zip)), zip_strerror(b->zip)));
        return b->err;
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
        s_fail(b, XS_EMALFORMED,
               "XLSX 已加密 (the workbook is encrypted): 请取消密码后另存 "
               "(remove the password in Excel, save, and import again)");
        return b->err;
    }
    if ((st.valid & ZIP_STAT_SIZE) && st.size > XS_XLSX_PART_MAX) {
        s_fail(b, XS_ETOOBIG, S_TOO_LARGE "%s 超过 %zu 字节 (over the size limit)", name,
               XS_XLSX_PART_MAX);
        return b->err;
    }
    file = zip_fopen_index(b->zip, (zip_uint64_t)index, 0);
    if (!file) {
        s_fail(b, XS_EMALFORMED, S_INVALID "%s: %s", name,
               s_zip_why(zip_error_code_zip(zip_get_error(b->zip)), zip_strerror(b->zip)));
        return b->err;
    }
    chunk = malloc(S_CHUNK);
    b->parser = XML_ParserCreate(NULL);
    if (!chunk || !b->parser) {
        s_nomem(b);
        goto out;
    }
    XML_SetUserData(b->parser, b);
    XML_SetParamEntityParsing(b->parser, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetStartDoctypeDeclHandler(b->parser, s_doctype);
    XML_SetEntityDeclHandler(b->parser, s_entity);
    XML_SetElementHandler(b->parser, start, end);
    XML_SetCharacterDataHandler(b->parser, s_collect);
    b->text.len = 0;
    b->collect = 0;
    for (;;) {
        zip_int64_t n = zip_fread(file, chunk, S_CHUNK);
        if (n < 0) {
            s_fail(
                b, XS_EMALFORMED, S_INVALID "%s: %s", name,
                s_zip_why(zip_error_code_zip(zip_file_get_error(file)), zip_file_strerror(file)));
            goto out;
        }
        total += (size_t)n;
        if (total > XS_XLSX_PART_MAX) {
            s_fail(b, XS_ETOOBIG, S_TOO_LARGE "%s 超过 %zu 字节 (over the size limit)", name,
                   XS_XLSX_PART_MAX);
            goto out;
        }
        if (XML_Parse(b->parser, chunk, (int)n, n == 0) != XML_STATUS_OK) {
            s_fail(b, XS_EMALFORMED, S_INVALID "%s 第 %lu 行 (line %lu): %s", name,
                   (unsigned long)XML_GetCurrentLineNumber(b->parser),
                   (unsigned long)XML_GetCurrentLineNumber(b->parser),
                   XML_ErrorString(XML_GetErrorCode(b->parser)));
            goto out;
        }
        if (b->err != XS_OK || n == 0)
            break;
    }
out:
    if (b->parser)
        XML_ParserFree(b->parser);
    b->parser = NULL;
    free(chunk);
    zip_fclose(file);
    return b->err;
}

/* ---- workbook and its relationships ------------------------------------------------------- */

static void XMLCALL s_workbook_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
    s_book *b = ud;
    const char *local = s_local(name);
    if (strcmp(local, "workbookPr") == 0) {
        b->date1904 = s_true(s_attr(attrs, "date1904"));
    } else if (strcmp(local, "sheet") == 0 && !b->sheet_seen) {
        const char *rid = s_attr(attrs, "id");
        b->sheet_seen = 1;
        if (!rid || strlen(rid) >= sizeof b->sheet_rid) {
            s_fail(b, XS_EMALFORMED, S_INVALID "%s 的第一个工作表没有 r:id (no r:id)", b->part);
            return;
        }
        memcpy(b->sheet_rid, rid, strlen(rid) + 1);
    }
}

static void XMLCALL s_ignore_end(void *ud, const XML_Char *name) {
    (void)ud;
    (void)name;
}

/* Resolves a relationship target against xl/ into b->sheet_path: "/xl/..." is absolute,
 * anything else relative to xl/, with "." and ".." segments taken out. */
static int s_resolve(s_book *b, const char *target) {
    char joined[S_PATH_MAX * 2];
    char *segs[S_PATH_MAX];
    size_t nsegs = 0, len = 0;
    int n = target[0] == '/' ? snprintf(joined, sizeof joined, "%s", target + 1)
                             : snprintf(joined, sizeof joined, "xl/%s", target);
    if (n < 0 || (size_t)n >= sizeof joined)
        return 0;
    for (char *p = joined; *p;) {
        char *seg = p;
        char *slash = strchr(p, '/');
        if (slash) {
            *slash = '\0';
            p = slash + 1;
        } else {
            p += strlen(p);
        }
        if (seg[0] == '\0' || strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            if (nsegs == 0)
                return 0;
            nsegs--;
            continue;
        }
        segs[nsegs++] = seg;
    }
    b->sheet_path[0] = '\0';
    for (size_t i = 0; i < nsegs; i++) {
        size_t seg_len = strlen(segs[i]);
        if (len + seg_len + 2 > sizeof b->sheet_path)
            return 0;
        if (i)
            b->sheet_path[len++] = '/';
        memcpy(b->sheet_path + len, segs[i], seg_len);
        len += seg_len;
        b->sheet_path[len] = '\0';
    }
    return len > 0;
}

static void XMLCALL s_rels_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
    s_book *b = ud;
    if (strcmp(s_local(name), "Relationship") != 0 || b->sheet_path[0])
        return;
    const char *id = s_attr(attrs, "Id"), *target = s_attr(attrs, "Target");
    if (!id || strcmp(id, b->sheet_rid) != 0)
        return;
    if (!target || !s_resolve(b, target))
        s_fail(b, XS_EMALFORMED, S_INVALID "第一个工作表的位置无效 (bad worksheet target)");
}

/* ---- shared strings ----------------------------------------------------------------------- */

/* Ends the current shared string: its bytes stay in sst, its end goes into sst_off. */
static void s_sst_push(s_book *b) {
    size_t max = XS_XLSX_PART_MAX / S_SI_MIN + 1;
    if (!s_append(b, &b->sst, b->text.bytes, b->text.len, XS_XLSX_PART_MAX,
                  "共享字符串过多 (too many shared strings)") ||
        !s_grow(b, (void **)&b->sst_off, &b->sst_off_cap, b->sst_count + 1, sizeof *b->sst_off,
                max + 1))
        return;
    b->sst_count++;
    b->sst_off[b->sst_count] = (uint32_t)b->sst.len;
}

static void XMLCALL s_sst_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
    (void)attrs;
    s_book *b = ud;
    const char *local = s_local(name);
    if (strcmp(local, "si") == 0) {
        b->in_si = 1;
        b->text.len = 0;
    } else if (strcmp(local, "rPh") == 0) {
        b->in_rph++;
    } else if (strcmp(local, "t") == 0 && b->in_si) {
        b->collect++;
    }
}

static void XMLCALL s_sst_end(void *ud, const XML_Char *name) {
    s_book *b = ud;
    const char *local = s_local(name);
    if (strcmp(local, "si") == 0 && b->in_si) {
        b->in_si = 0;
        s_sst_push(b);
    } else if (strcmp(local, "rPh") == 0 && b->in_rph) {
        b->in_rph--;
    } else if (strcmp(local, "t") == 0 && b->collect) {
        b->collect--;
    }
}

/* ---- styles ------------------------------------------------------------------------------- */

/* 1 when a custom number format code shows a date: it has a y, d or m (outside quoted text,
 * [..] colours and conditions, and escaped characters) and is not a time of h, m and s only. */
static int s_code_is_date(const char *code) {
    int y = 0, m = 0, d = 0, h = 0, s = 0;
    for (const char *p = code; *p; p++) {
        char ch = *p;
        if (ch == '"') {
            const char *close = strchr(p + 1, '"');
            if (!close)
                break;
            p = close;
            continue;
        }
        if (ch == '[') {
            const char *close = strchr(p + 1, ']');
            if (!close)
                break;
            p = close;
            continue;
        }
        if (ch == '\\' || ch == '_' || ch == '*') {
            if (!p[1])
                break;
            p++;
            continue;
        }
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        y |= ch == 'y';
        m |= ch == 'm';
        d |= ch == 'd';
        h |= ch == 'h';
        s |= ch == 's';
    }
    return y || d || (m && !h && !s);
}

/* 1 when the built-in number format id shows a date (ECMA-376 18.8.30 and the CJK ids). */
static int s_builtin_is_date(uint32_t id) {
    return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) ||
           (id >= 50 && id <= 58);
}

static void XMLCALL s_styles_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
    s_book *b = ud;
    const char *local = s_local(name);
    uint64_t id = 0;
    if (strcmp(local, "cellXfs") == 0) {
        b->in_cell_xfs = 1;
    } else if (strcmp(local, "xf") == 0 && b->in_cell_xfs) {
        if (!s_uint(s_attr(attrs, "numFmtId"), &id) || id > UINT32_MAX)
            id = 0;
        if (!s_grow(b, (void **)&b->xf_fmt, &b->xf_cap, b->xf_count, sizeof *b->xf_fmt,
                    XS_XLSX_PART_MAX / 4))
            return;
        b->xf_fmt[b->xf_count++] = (uint32_t)id;
    } else if (strcmp(local, "numFmt") == 0) {
        const char *code = s_attr(attrs, "formatCode");
        if (!s_uint(s_attr(attrs, "numFmtId"), &id) || id > UINT32_MAX || !code)
            return;
        if (!s_grow(b, (void **)&b->fmts, &b->fmt_cap, b->fmt_count, sizeof *b->fmts,
                    XS_XLSX_PART_MAX / 16))
            return;
        b->fmts[b->fmt_count].id = (uint32_t)id;
        b->fmts[b->fmt_count].date = (uint8_t)s_code_is_date(code);
        b->fmt_count++;
    }
}

static void XMLCALL s_styles_end(void *ud, const XML_Char *name) {
    s_book *b = ud;
    if (strcmp(s_local(name), "cellXfs") == 0)
        b->in_cell_xfs = 0;
}

static int s_numfmt_cmp(const void *l, const void *r) {
    const s_numfmt *a = l, *c = r;
    return a->id < c->id ? -1 : a->id > c->id;
}

/* Works out which cell styles show a date, from their number formats. */
static void s_styles_resolve(s_book *b) {
    if (!b->xf_count)
        return;
    b->xf_date = calloc(b->xf_count, 1);
    if (!b->xf_date) {
        s_nomem(b);
        return;
    }
    if (b->fmt_count)
        qsort(b->fmts, b->fmt_count, sizeof *b->fmts, s_numfmt_cmp);
    for (size_t i = 0; i < b->xf_count; i++) {
        s_numfmt key = {.id = b->xf_fmt[i]};
        const s_numfmt *custom =
            b->fmt_count ? bsearch(&key, b->fmts, b->fmt_count, sizeof *b->fmts, s_numfmt_cmp)
                         : NULL;
        b->xf_date[i] = (uint8_t)(custom ? custom->date : s_builtin_is_date(key.id));
    }
}

/* ---- cell values -------------------------------------------------------------------------- */

/* Writes v as Excel's General format shows it in a wide column, without an exponent while
 * |v| < 1E+30: at most 15 significant digits, no trailing zeros. out holds S_NUMBER_MAX. */
static void s_general(double v, char out[S_NUMBER_MAX]) {
    char sci[32], digits[16];
    size_t nd = 0, len = 0;
    if (v == 0 || !isfinite(v)) {
        snprintf(out, S_NUMBER_MAX, "%s", v == 0 ? "0" : "#NUM!");
        return;
    }
    snprintf(sci, sizeof sci, "%.14e", fabs(v)); /* d.ddddddddddddddde±XX */
    const char *e = strchr(sci, 'e');
    long exp = e ? strtol(e + 1, NULL, 10) : 0;
    for (const char *p = sci; p < e && nd < sizeof digits - 1; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    if (exp >= 30 || exp <= -30) {
        snprintf(out, S_NUMBER_MAX, "%.15G", v);
        return;
    }
    if (v < 0)
        out[len++] = '-';
    if (exp >= 0) {
        for (long i = 0; i <= exp; i++)
            out[len++] = (size_t)i < nd ? digits[i] : '0';
        if ((size_t)exp + 1 < nd) {
            out[len++] = '.';
            for (size_t i = (size_t)exp + 1; i < nd; i++)
                out[len++] = digits[i];
        }
    } else {
        out[len++] = '0';
        out[len++] = '.';
        for (long i = -1; i > exp; i--)
            out[len++] = '0';
        for (size_t i = 0; i < nd; i++)
            out[len++] = digits[i];
    }
    out[len] = '\0';
}

/* Writes the date a serial in the workbook's date system stands for as YYYY-MM-DD (its day
 * when it also has a time); 0 when the serial is not a date Excel shows. */
static int s_date(double v, int date1904, char out[S_NUMBER_MAX]) {
    if (!isfinite(v) || v < (date1904 ? 0 : 1) || v >= (date1904 ? 2957004 : 2958466))
        return 0;
    long serial = (long)floor(v);
    long days; /* since 1970-01-01 */
    if (date1904) {
        days = serial - 24107;
    } else if (serial == 60) {
        /* Lotus 1-2-3's 1900-02-29, which Excel keeps */
        snprintf(out, S_NUMBER_MAX, "1900-02-29");
        return 1;
    } else {
        days = serial < 60 ? serial - 25568 : serial - 25569;
    }
    /* civil_from_days (H. Hinnant) */
    long z = days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long year = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long day = doy - (153 * mp + 2) / 5 + 1;
    long month = mp < 10 ? mp + 3 : mp - 9;
    year += month <= 2;
    snprintf(out, S_NUMBER_MAX, "%04ld-%02ld-%02ld", year, month, day);
    return 1;
}

/* Sets *s and *len to what the current cell shows, from b->text. */
static void s_cell_value(s_book *b, const char **s, size_t *len, char number[S_NUMBER_MAX]) {
    *s = b->text.bytes ? b->text.bytes : "";
    *len = b->text.len;
    if (b->type == S_T_INLINE || b->type == S_T_STR || b->type == S_T_ERROR)
        return;
    if (b->text.len == 0)
        return;
    if (!s_append(b, &b->text, "", 1, S_TEXT_MAX + 1, S_TEXT_LONG))
        return;
    b->text.len--;
    const char *v = b->text.bytes;
    switch (b->type) {
    case S_T_SHARED: {
        uint64_t index;
        if (!s_uint(v, &index) || index >= b->sst_count) {
            s_fail(b, XS_EMALFORMED,
                   S_INVALID "第 %u 行引用了不存在的共享字符串 (row %u: bad shared string index)",
                   (unsigned)b->row, (unsigned)b->row);
            return;
        }
        *s = b->sst.bytes + b->sst_off[index];
        *len = b->sst_off[index + 1] - b->sst_off[index];
        return;
    }
    case S_T_BOOL:
        *s = strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ? "TRUE" : "FALSE";
        *len = strlen(*s);
        return;
    case S_T_DATE: {
        const char *t = strchr(v, 'T');
        if (t && t - v == 10)
            *len = 10;
        return;
    }
    default:
        break;
    }
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || !isfinite(d))
        return; /* not a number: shown as written */
    if (b->style < b->xf_count && b->xf_date && b->xf_date[b->style] &&
        s_date(d, b->date1904, number)) {
        *s = number;
    } else {
        s_general(d, number);
        *s = number;
    }
    *len = strlen(*s);
}

/* ---- the CSV ------------------------------------------------------------------------------ */

static int s_out(s_book *b, const char *s, size_t len) {
    if (len == 0)
        return 1;
    if (!s_reserve(b, &b->out, len, XS_CSV_MAX_FILE, S_CSV_LONG))
        return 0;
    memcpy(b->out.bytes + b->out.len, s, len);
    b->out.len += len;
    return 1;
}

static int s_out_repeat(s_book *b, char ch, size_t count) {
    if (count == 0)
        return 1;
    if (!s_reserve(b, &b->out, count, XS_CSV_MAX_FILE, S_CSV_LONG))
        return 0;
    memset(b->out.bytes + b->out.len, ch, count);
    b->out.len += count;
    return 1;
}

/* Ends the current row in the output, if anything was written on it. */
static void s_row_end(s_book *b) {
    if (!b->written)
        return;
    if (!s_grow(b, (void **)&b->rows, &b->row_cap, b->row_count, sizeof *b->rows,
                (size_t)XS_XLSX_ROWS_MAX + 1))
        return;
    b->rows[b->row_count].end = b->out.len;
    b->rows[b->row_count].cells = b->written;
    b->row_count++;
    if (b->written > b->widest)
        b->widest = b->written;
    b->written = 0;
    b->lines++;
    (void)s_out(b, "\n", 1);
}

static int s_edge_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Writes one non-empty cell at column b->col of row b->row: line breaks become spaces, and it
 * is quoted when it holds a comma or quote or starts or ends with a space. */
static void s_write_cell(s_book *b, const char *s, size_t len) {
    if (b->col > XS_XLSX_COLS_MAX) {
        s_fail(b, XS_ETOOBIG,
               S_TOO_LARGE "第 %u 行有超过 %u 列的内容 (row %u has cells past column %u)",
               (unsigned)b->row, XS_XLSX_COLS_MAX, (unsigned)b->row, XS_XLSX_COLS_MAX);
        return;
    }
    if (!b->written && b->lines + 1 < b->row) {
        if (!s_out_repeat(b, '\n', b->row - 1 - b->lines))
            return;
        b->lines = b->row - 1;
    }
    if (!s_out_repeat(b, ',', b->written ? b->col - b->written : b->col - 1))
        return;
    b->written = b->col;
    /* a line break at either end becomes a space there */
    int quote = s_edge_space(s[0]) || s_edge_space(s[len - 1]);
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"';
    if (quote && !s_out(b, "\"", 1))
        return;
    for (size_t i = 0; i < len; i++) {
        const char *run = s + i;
        size_t n = 0;
        while (i + n < len && s[i + n] != '"' && s[i + n] != '\r' && s[i + n] != '\n')
            n++;
        if (n && !s_out(b, run, n))
            return;
        i += n;
        if (i == len)
            break;
        if (s[i] == '"' && !s_out(b, "\"\"", 2))
            return;
        if (s[i] == '\r' || s[i] == '\n') {
            if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
                i++;
            if (!s_out(b, " ", 1))
                return;
        }
    }
    if (quote)
        (void)s_out(b, "\"", 1);
}

/* Column number of a cell reference ("C5" is 3); 0 when it has no letters or too many. */
static uint32_t s_ref_col(const char *ref) {
    uint32_t col = 0;
    size_t i = 0;
    for (; (ref[i] >= 'A' && ref[i] <= 'Z') || (ref[i] >= 'a' && ref[i] <= 'z'); i++) {
        if (i >= 3)
            return 0;
        col = col * 26 + (uint32_t)((ref[i] | 0x20) - 'a' + 1);
    }
    return col;
}

static void XMLCALL s_sheet_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
    s_book *b = ud;
    const char *local = s_local(name);
    if (strcmp(local, "sheetData") == 0) {
        b->in_data = 1;
    } else if (!b->in_data) {
        return;
    } else if (strcmp(local, "row") == 0) {
        uint64_t r;
        const char *attr = s_attr(attrs, "r");
        s_row_end(b);
        if (!attr)
            r = (uint64_t)b->row + 1;
        else if (!s_uint(attr, &r) || r == 0 || r <= b->row) {
            s_fail(b, XS_EMALFORMED, S_INVALID "行号无效或乱序 (bad row number) \"%.20s\"", attr);
            return;
        }
        if (r > XS_XLSX_ROWS_MAX) {
            s_fail(b, XS_ETOOBIG, S_TOO_LARGE "超过 %u 行 (more than %u rows)", XS_XLSX_ROWS_MAX,
                   XS_XLSX_ROWS_MAX);
            return;
        }
        b->row = (uint32_t)r;
        b->col = 0;
        b->in_row = 1;
    } else if (strcmp(local, "c") == 0 && b->in_row) {
        const char *ref = s_attr(attrs, "r"), *t = s_attr(attrs, "t"), *style = s_attr(attrs, "s");
        uint32_t col = ref ? s_ref_col(ref) : b->col + 1;
        uint64_t s = 0;
        if (col == 0 || col <= b->col) {
            s_fail(b, XS_EMALFORMED,
                   S_INVALID "第 %u 行的单元格位置无效或乱序 (row %u: bad cell reference)",
                   (unsigned)b->row, (unsigned)b->row);
            return;
        }
        b->col = col;
        b->in_cell = 1;
        b->style = style && s_uint(style, &s) && s <= UINT32_MAX ? (uint32_t)s : 0;
        b->type = !t || strcmp(t, "n") == 0     ? S_T_NUMBER
                  : strcmp(t, "s") == 0         ? S_T_SHARED
                  : strcmp(t, "inlineStr") == 0 ? S_T_INLINE
                  : strcmp(t, "str") == 0       ? S_T_STR
                  : strcmp(t, "b") == 0         ? S_T_BOOL
                  : strcmp(t, "e") == 0         ? S_T_ERROR
                  : strcmp(t, "d") == 0         ? S_T_DATE
                                                : S_T_NUMBER;
        b->text.len = 0;
        b->collect = 0;
        b->in_si = 0;
        b->in_rph = 0;
        b->in_value = 0;
    } else if (!b->in_cell) {
        return;
    } else if (strcmp(local, "v") == 0) {
        /* an inline string's text is in <is>; a stray <v> beside it is not shown */
        if (b->type != S_T_INLINE) {
            b->in_value = 1;
            b->collect++;
        }
    } else if (strcmp(local, "is") == 0) {
        b->in_si = 1;
    } else if (strcmp(local, "rPh") == 0) {
        b->in_rph++;
    } else if (strcmp(local, "t") == 0 && b->in_si && b->type == S_T_INLINE) {
        b->collect++;
    }
}

static void XMLCALL s_sheet_end(void *ud, const XML_Char *name) {
    s_book *b = ud;
    const char *local = s_local(name);
    if (strcmp(local, "sheetData") == 0) {
        s_row_end(b);
        b->in_data = 0;
        b->in_row = 0;
    } else if (!b->in_data) {
        return;
    } else if (strcmp(local, "row") == 0) {
        s_row_end(b);
        b->in_row = 0;
    } else if (strcmp(local, "c") == 0 && b->in_cell) {
        const char *s;
        size_t len;
        char number[S_NUMBER_MAX];
        b->in_cell = 0;
        b->collect = 0;
        s_cell_value(b, &s, &len, number);
        if (b->err == XS_OK && len > 0)
            s_write_cell(b, s, len);
    } else if (!b->in_cell) {
        return;
    } else if (strcmp(local, "v") == 0 && b->in_value) {
        b->in_value = 0;
        b->collect--;
    } else if (strcmp(local, "is") == 0) {
        b->in_si = 0;
    } else if (strcmp(local, "rPh") == 0 && b->in_rph) {
        b->in_rph--;
    } else if (strcmp(local, "t") == 0 && b->collect && !b->in_value) {
        b->collect--;
    }
}

/* Pads every row with empty cells to the widest row, in place from the end, so that every
 * line has as many cells as the CSV reader wants. */
static void s_pad(s_book *b) {
    size_t extra = 0;
    for (size_t i = 0; i < b->row_count; i++)
        extra += b->widest - b->rows[i].cells;
    if (!extra || !s_reserve(b, &b->out, extra, XS_CSV_MAX_FILE, S_CSV_LONG))
        return;
    size_t limit = b->out.len, shift = extra;
    for (size_t i = b->row_count; i-- > 0;) {
        size_t end = b->rows[i].end, pad = b->widest - b->rows[i].cells;
        memmove(b->out.bytes + end + shift, b->out.bytes + end, limit - end);
        shift -= pad;
        memset(b->out.bytes + end + shift, ',', pad);
        limit = end;
    }
    b->out.len += extra;
}

xs_err xs_xlsx_to_csv(const void *zip, size_t len, char **csv, size_t *csv_len, char *errbuf,
                      size_t cap) {
    s_book b = {.errbuf = errbuf, .cap = cap, .part = "xlsx"};
    zip_error_t zerr;
    zip_source_t *src = NULL;
    int found;
    *csv = NULL;
    *csv_len = 0;
    s_message(errbuf, cap, "%s", "");
    zip_error_init(&zerr);
    if (!zip || len < 22) {
        s_fail(&b, XS_EMALFORMED, S_INVALID "文件太短 (too short)");
        goto out;
    }
    src = zip_source_buffer_create(zip, len, 0, &zerr);
    if (!src) {
        s_nomem(&b);
        goto out;
    }
    b.zip = zip_open_from_source(src, ZIP_RDONLY, &zerr);
    if (!b.zip) {
        s_fail(&b, zip_error_code_zip(&zerr) == ZIP_ER_MEMORY ? XS_ENOMEM : XS_EMALFORMED,
               S_INVALID "%s", s_zip_why(zip_error_code_zip(&zerr), zip_error_strerror(&zerr)));
        goto out;
    }
    src = NULL; /* the archive owns it */
    if (s_parse(&b, "xl/workbook.xml", 1, NULL, s_workbook_start, s_ignore_end) != XS_OK)
        goto out;
    if (!b.sheet_seen) {
        s_fail(&b, XS_EMALFORMED, S_INVALID "xl/workbook.xml 中没有工作表 (no worksheet)");
        goto out;
    }
    if (s_parse(&b, "xl/_rels/workbook.xml.rels", 1, NULL, s_rels_start, s_ignore_end) != XS_OK)
        goto out;
    if (!b.sheet_path[0]) {
        s_fail(&b, XS_EMALFORMED,
               S_INVALID "找不到第一个工作表 (the first worksheet, %s, is not in the "
                         "relationships)",
               b.sheet_rid);
        goto out;
    }
    b.sst_off = calloc(1, sizeof *b.sst_off);
    if (!b.sst_off) {
        s_nomem(&b);
        goto out;
    }
    b.sst_off_cap = 1;
    if (s_parse(&b, "xl/sharedStrings.xml", 0, &found, s_sst_start, s_sst_end) != XS_OK)
        goto out;
    b.in_si = b.in_rph = b.collect = 0;
    if (s_parse(&b, "xl/styles.xml", 0, &found, s_styles_start, s_styles_end) != XS_OK)
        goto out;
    s_styles_resolve(&b);
    if (b.err != XS_OK)
        goto out;
    if (s_parse(&b, b.sheet_path, 1, NULL, s_sheet_start, s_sheet_end) != XS_OK)
        goto out;
    s_row_end(&b);
    s_pad(&b);
    if (b.err != XS_OK)
        goto out;
    if (!b.out.bytes && !s_reserve(&b, &b.out, 1, XS_CSV_MAX_FILE, S_CSV_LONG))
        goto out; /* an empty sheet is "", never NULL */
    *csv = b.out.bytes;
    *csv_len = b.out.len;
    b.out.bytes = NULL;
out:
    zip_source_free(src);
    if (b.zip)
        zip_discard(b.zip);
    zip_error_fini(&zerr);
    free(b.out.bytes);
    free(b.rows);
    free(b.text.bytes);
    free(b.sst.bytes);
    free(b.sst_off);
    free(b.xf_fmt);
    free(b.xf_date);
    free(b.fmts);
    return b.err;
}
