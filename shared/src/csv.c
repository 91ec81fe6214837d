/* csv: RFC 4180 reading over one in-memory copy of the file, and quoting for reports. */
#include "xs/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct xs_csv {
    char *owned;          /* the file's bytes when opened from a file; NULL when borrowed */
    const char *pos;      /* next unread byte */
    const char *end;      /* one past the last byte */
    uint32_t line;        /* physical line pos is on */
    uint32_t result_line; /* what xs_csv_line reports */
    xs_err err;           /* sticky error; XS_OK while none */
    const char *why;      /* description of err; "" while none */
    char *scratch;        /* XS_CSV_MAX_ROW bytes for unescaped cells; malloc'd on first need */
};

static const char s_bom[3] = {'\xef', '\xbb', '\xbf'};

static xs_err s_open(xs_csv_t **out, char *owned, const char *bytes, size_t len) {
    *out = NULL;
    if (len > XS_CSV_MAX_FILE)
        return XS_ETOOBIG;
    xs_csv_t *c = calloc(1, sizeof *c);
    if (!c)
        return XS_ENOMEM;
    c->owned = owned;
    c->pos = bytes;
    c->end = bytes + len;
    if (len >= sizeof s_bom && memcmp(bytes, s_bom, sizeof s_bom) == 0)
        c->pos += sizeof s_bom;
    c->line = 1;
    c->why = "";
    *out = c;
    return XS_OK;
}

xs_err xs_csv_open_mem(xs_csv_t **out, const void *bytes, size_t len) {
    /* An empty input may come as NULL; point at a static byte so arithmetic stays defined. */
    static const char none = 0;
    return s_open(out, NULL, len ? (const char *)bytes : &none, len);
}

static xs_err s_errno_err(int e) {
    if (e == ENOENT || e == ENOTDIR)
        return XS_ENOTFOUND;
    if (e == EACCES || e == EPERM)
        return XS_EPERM;
    if (e == ENOMEM)
        return XS_ENOMEM;
    return XS_EIO;
}

xs_err xs_csv_read_file(const char *path, char **out, size_t *out_len) {
    xs_err err = XS_OK;
    char *bytes = NULL;
    size_t len = 0, cap;
    struct stat st;
    *out = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) != 0) {
        err = s_errno_err(errno);
        xs_log_err(err, "无法打开 %s (cannot open): %s", path, strerror(errno));
        goto out;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > XS_CSV_MAX_FILE) {
        err = XS_ETOOBIG;
        xs_log_err(err, "%s 超过 %zu 字节 (larger than the limit)", path, (size_t)XS_CSV_MAX_FILE);
        goto out;
    }
    /* One byte past the size so the first pass already sees end of file. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 64 * 1024;
    for (;;) {
        if (len == cap) {
            if (cap > XS_CSV_MAX_FILE)
                break; /* refused below */
            size_t grown = cap * 2 > XS_CSV_MAX_FILE + 1 ? XS_CSV_MAX_FILE + 1 : cap * 2;
            char *more = realloc(bytes, grown);
            if (!more) {
                err = XS_ENOMEM;
                goto out;
            }
            bytes = more;
            cap = grown;
        } else if (!bytes) {
            bytes = malloc(cap);
            if (!bytes) {
                err = XS_ENOMEM;
                goto out;
            }
        }
        size_t n = fread(bytes + len, 1, cap - len, f);
        len += n;
        if (n == 0 || len < cap) {
            if (ferror(f)) {
                err = s_errno_err(errno);
                xs_log_err(err, "无法读取 %s (cannot read): %s", path, strerror(errno));
                goto out;
            }
            if (feof(f))
                break;
        }
    }
    if (len > XS_CSV_MAX_FILE) {
        err = XS_ETOOBIG;
        xs_log_err(err, "%s 超过 %zu 字节 (larger than the limit)", path, (size_t)XS_CSV_MAX_FILE);
        goto out;
    }
    *out = bytes;
    *out_len = len;
    bytes = NULL;
out:
    free(bytes);
    if (f)
        fclose(f);
    return err;
}

xs_err xs_csv_open_owned(xs_csv_t **out, char **bytes, size_t len) {
    static char none = 0;
    xs_err err = s_open(out, *bytes, *bytes ? *bytes : &none, len);
    if (err == XS_OK)
        *bytes = NULL; /* the reader owns it now */
    return err;
}

xs_err xs_csv_open_file(xs_csv_t **out, const char *path) {
    char *bytes;
    size_t len;
    *out = NULL;
    xs_err err = xs_csv_read_file(path, &bytes, &len);
    if (err == XS_OK)
        err = xs_csv_open_owned(out, &bytes, len);
    free(bytes);
    return err;
}

void xs_csv_close(xs_csv_t **c) {
    if (!c || !*c)
        return;
    free((*c)->owned);
    free((*c)->scratch);
    free(*c);
    *c = NULL;
}

uint32_t xs_csv_line(const xs_csv_t *c) {
    return c->result_line;
}

const char *xs_csv_why(const xs_csv_t *c) {
    return c->why;
}

/* Copies the quoted cell body [from, to) into out with each "" turned into "; returns its
 * length. The body was scanned already, so every quote in it is the first of a pair. */
static size_t s_unescape(char *out, const char *from, const char *to) {
    size_t n = 0;
    while (from < to) {
        const char *quote = memchr(from, '"', (size_t)(to - from));
        const char *stop = quote ? quote + 1 : to; /* keep one quote of the pair */
        memcpy(out + n, from, (size_t)(stop - from));
        n += (size_t)(stop - from);
        from = quote ? quote + 2 : to;
    }
    return n;
}

xs_err xs_csv_next(xs_csv_t *c, xs_csv_row_t *row) {
    const char *p = c->pos, *end = c->end;
    uint32_t line = c->line;
    row->count = 0;
    if (c->err != XS_OK)
        return c->err;
    for (;;) { /* completely empty lines are skipped but counted */
        if (p == end) {
            c->pos = p;
            c->line = line;
            return XS_ENOTFOUND;
        }
        if (*p == '\n') {
            p++;
            line++;
        } else if (*p == '\r' && end - p >= 2 && p[1] == '\n') {
            p += 2;
            line++;
        } else {
            break;
        }
    }
    const char *row_start = p;
    const char *eol = NULL; /* next LF at or after p (or end), found lazily */
    uint32_t row_line = line, quote_line = line;
    size_t used = 0; /* scratch bytes taken by this row's cells */
    row->line = row_line;
    for (;;) {
        if (row->count == XS_CSV_MAX_CELLS) {
            c->why = "一行超过 64 列 (more than 64 cells in a row)";
            goto too_big;
        }
        xs_csv_cell_t *cell = &row->cells[row->count++];
        if (p < end && *p == '"') {
            quote_line = line;
            const char *body = ++p;
            size_t pairs = 0;
            for (;;) {
                while (p < end && *p != '"') {
                    line += *p == '\n';
                    p++;
                }
                if (p == end) {
                    c->why = "引号未闭合 (unterminated quote)";
                    goto broken;
                }
                if (end - p >= 2 && p[1] == '"') {
                    pairs++;
                    p += 2;
                    continue;
                }
                break;
            }
            const char *body_end = p++; /* p is now past the closing quote */
            if ((size_t)(p - row_start) > XS_CSV_MAX_ROW)
                goto row_too_long;
            if (pairs) {
                if (!c->scratch && !(c->scratch = malloc(XS_CSV_MAX_ROW))) {
                    c->err = XS_ENOMEM;
                    c->why = "内存不足 (out of memory)";
                    c->result_line = row_line;
                    return c->err;
                }
                /* Fits: unescaping shrinks, and the row's raw bytes are within the maximum. */
                cell->ptr = c->scratch + used;
                cell->len = s_unescape(c->scratch + used, body, body_end);
                used += cell->len;
            } else {
                cell->ptr = body;
                cell->len = (size_t)(body_end - body);
            }
            if (p == end)
                break;
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == '\n') {
                p++;
                line++;
                break;
            }
            if (*p == '\r' && end - p >= 2 && p[1] == '\n') {
                p += 2;
                line++;
                break;
            }
            c->why = "右引号后有多余字符 (character after a closing quote)";
            goto broken;
        }
        if (!eol || eol < p) {
            eol = memchr(p, '\n', (size_t)(end - p));
            if (!eol)
                eol = end;
        }
        const char *comma = memchr(p, ',', (size_t)(eol - p));
        const char *stop = comma ? comma : eol;
        cell->ptr = p;
        cell->len = (size_t)(stop - p);
        if (!comma && stop < end && cell->len > 0 && stop[-1] == '\r')
            cell->len--; /* CRLF */
        if ((size_t)(p + cell->len - row_start) > XS_CSV_MAX_ROW)
            goto row_too_long;
        if (comma) {
            p = comma + 1;
            continue;
        }
        if (stop < end) {
            p = stop + 1;
            line++;
        } else {
            p = end;
        }
        break;
    }
    c->pos = p;
    c->line = line;
    c->result_line = row_line;
    return XS_OK;
row_too_long:
    c->why = "一行超过 64 KiB (row longer than 64 KiB)";
too_big:
    row->count = 0;
    c->err = XS_ETOOBIG;
    c->result_line = row_line;
    return c->err;
broken:
    row->count = 0;
    c->err = XS_ECSV;
    c->result_line = quote_line;
    return c->err;
}

static int s_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

int xs_csv_row_blank(const xs_csv_row_t *row) {
    for (size_t i = 0; i < row->count; i++)
        for (size_t j = 0; j < row->cells[i].len; j++)
            if (!s_space(row->cells[i].ptr[j]))
                return 0;
    return 1;
}

static xs_err s_put(FILE *f, const void *bytes, size_t len) {
    if (len == 0)
        return XS_OK;
    return fwrite(bytes, 1, len, f) == len ? XS_OK : XS_EIO;
}

xs_err xs_csv_write_bom(FILE *f) {
    return s_put(f, s_bom, sizeof s_bom);
}

static int s_needs_quotes(const char *s, size_t len) {
    if (len == 0)
        return 0;
    if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t')
        return 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
            return 1;
    return 0;
}

/* Writes s quoted, each quote doubled, after the formula guard when guard is set. */
static xs_err s_put_quoted(FILE *f, const char *s, size_t len, int guard) {
    const char *end = s + len;
    if (s_put(f, guard ? "\"'" : "\"", guard ? 2 : 1) != XS_OK)
        return XS_EIO;
    while (s < end) {
        const char *quote = memchr(s, '"', (size_t)(end - s));
        const char *stop = quote ? quote + 1 : end; /* write the quote once here ... */
        if (s_put(f, s, (size_t)(stop - s)) != XS_OK)
            return XS_EIO;
        if (quote && s_put(f, "\"", 1) != XS_OK) /* ... and once more */
            return XS_EIO;
        s = stop;
    }
    return s_put(f, "\"", 1);
}

/* 1 when a spreadsheet would read s as a formula once its leading apostrophes are gone. */
static int s_formula_like(const char *s, size_t len) {
    size_t i = 0;
    while (i < len && s[i] == '\'')
        i++;
    return i < len && (s[i] == '=' || s[i] == '+' || s[i] == '-' || s[i] == '@' || s[i] == '\t' ||
                       s[i] == '\r');
}

void xs_csv_unguard(const char **s, size_t *len) {
    if (*len > 1 && (*s)[0] == '\'' && s_formula_like(*s + 1, *len - 1)) {
        (*s)++;
        (*len)--;
    }
}

xs_err xs_csv_write_cell(FILE *f, const char *s, size_t len, int last) {
    int guard = s_formula_like(s, len);
    xs_err err;
    if (s_needs_quotes(s, len))
        err = s_put_quoted(f, s, len, guard);
    else if (guard && s_put(f, "'", 1) != XS_OK)
        err = XS_EIO;
    else
        err = s_put(f, s, len);
    if (err != XS_OK)
        return err;
    return last ? s_put(f, "\r\n", 2) : s_put(f, ",", 1);
}

xs_err xs_csv_write_row(FILE *f, const xs_csv_cell_t *cells, size_t count) {
    if (count == 1 && cells[0].len == 0)
        return s_put(f, "\"\"\r\n", 4);
    for (size_t i = 0; i < count; i++) {
        xs_err err = xs_csv_write_cell(f, cells[i].ptr, cells[i].len, i + 1 == count);
        if (err != XS_OK)
            return err;
    }
    return XS_OK;
}
