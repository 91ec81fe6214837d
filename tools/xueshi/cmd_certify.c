/* xueshi certify: certify hours from a register CSV under a policy file (CSV in, CSV out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs/certify.h"
#include "xs/cli.h"
#include "xs/csv.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/report.h"
#include "xs/sheet.h"
#include "xs/staff.h"
#include "xs/standing.h"
#include "xs/workbook.h"
#include "xs/year.h"
#include "xueshi.h"

#define S_USAGE                                                                                    \
    "xueshi certify --policy FILE.ini --records FILE.csv [--detail] [--roster 名册.csv --year "  \
    "2025-2026]\n"                                                                                 \
    "       [--format csv|xlsx] [--out FILE.xlsx]   (xlsx: the workbook of one --year)"
/* Largest roster file read, in bytes: XS_STAFF_MAX teachers of ordinary lines. */
#define S_ROSTER_FILE_MAX (64u * 1024 * 1024)

/* Copies of the strings the engine reads (teacher_id, event, work), which must outlive the
 * CSV reader's row: blocks that never move, so pointers into them stay valid. */
typedef struct s_block {
    struct s_block *next;
    size_t used, cap;
    char bytes[];
} s_block_t;

static const char *s_keep(s_block_t **head, const char *s, size_t len) {
    s_block_t *b = *head;
    if (len == 0)
        return "";
    if (!b || b->cap - b->used < len) {
        size_t cap = len > (1u << 20) ? len : (1u << 20);
        s_block_t *fresh = malloc(sizeof *fresh + cap);
        if (!fresh)
            return NULL;
        fresh->next = b;
        fresh->used = 0;
        fresh->cap = cap;
        *head = b = fresh;
    }
    char *copy = b->bytes + b->used;
    memcpy(copy, s, len);
    b->used += len;
    return copy;
}

static void s_free_blocks(s_block_t *b) {
    while (b) {
        s_block_t *next = b->next;
        free(b);
        b = next;
    }
}

/* Keeps only what certification reads; the rest borrowed from the row goes. */
static int s_keep_strings(s_block_t **blocks, xs_record_t *rec) {
    xs_str_t *keep[] = {&rec->teacher_id, &rec->event, &rec->work};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *copy = s_keep(blocks, keep[i]->ptr, keep[i]->len);
        if (!copy)
            return 0;
        keep[i]->ptr = copy;
    }
    rec->school_id = rec->note = rec->operator_ = rec->ref = (xs_str_t){NULL, 0};
    rec->present &=
        ~((1u << XS_F_SCHOOL_ID) | (1u << XS_F_NOTE) | (1u << XS_F_OPERATOR) | (1u << XS_F_REF));
    return 1;
}

/* A row the sheet refused: which record, and the fault to report for it. */
typedef struct s_refusal {
    size_t index;
    xs_field field;
    xs_reason why;
} s_refusal_t;

typedef struct s_certify {
    const xs_policy_t *policy;
    xs_record_t *records;
    uint64_t *lines;
    size_t count, cap;
    s_refusal_t *refusals;
    size_t nrefusals, refusals_cap;
    s_block_t *blocks;            /* the strings records point into */
    const xs_staff_t *roster;     /* --roster: every teacher it lists is reported; NULL: none */
    int year;                     /* with a roster: the academic year reported */
    size_t next_staff;            /* roster entries before it are printed (by teacher_id) */
    xs_workbook_t *wb;            /* --format xlsx: the workbook rows go to; NULL: CSV */
    const xs_certify_row_t *rows; /* the engine's rows of the run (the workbook's standings) */
} s_certify_t;

/* What the command line asks for. */
typedef struct s_args {
    const char *policy;  /* --policy: the policy file */
    const char *records; /* --records: the register CSV */
    int detail;          /* --detail: one line per row rather than the summary */
    const char *roster;  /* --roster: the county's teacher roster CSV, or NULL */
    int year;            /* --year: the academic year (2025 for 2025-2026); 0: all */
    const char *out;     /* --out: the workbook's path (--format xlsx), or NULL */
} s_args_t;

/* Whether the roster line e makes its teacher exempt (免于认定) in c->year. */
static int s_exempt(const s_certify_t *c, const xs_staff_entry_t *e) {
    xs_standing_t st;
    return e && xs_standing_of(&st, c->policy, e, NULL, NULL, NULL, c->year) == XS_OK &&
           st.state == XS_STANDING_EXEMPT;
}

/* Prints the rostered teachers before teacher (len bytes; NULL: all that are left) that have
 * no records: 0 in every row of c->year, not met where something is required, or exempt.
 * The teacher itself, when rostered, is skipped: the run prints them. */
static xs_err s_absent_before(s_certify_t *c, const char *teacher, size_t len) {
    xs_err err = XS_OK;
    while (err == XS_OK && c->roster && c->next_staff < c->roster->count) {
        const xs_staff_entry_t *e = &c->roster->entries[c->next_staff];
        size_t elen = strlen(e->teacher_id);
        if (teacher) {
            int cmp = memcmp(e->teacher_id, teacher, elen < len ? elen : len);
            if (cmp > 0 || (cmp == 0 && elen >= len)) {
                c->next_staff += cmp == 0 && elen == len;
                return XS_OK;
            }
        }
        c->next_staff++;
        xs_certify_total_t totals[3 * XS_POLICY_BUCKETS_MAX];
        xs_certify_teacher_t view = {{e->teacher_id, (uint32_t)elen}, NULL, 0, totals, 0};
        view.total_count =
            xs_standing_zero_totals(c->policy, c->year, totals, sizeof totals / sizeof totals[0]);
        xs_str_t name = {e->name, (uint32_t)strlen(e->name)};
        if (c->wb) {
            xs_standing_t st;
            err = xs_standing_of(&st, c->policy, e, NULL, NULL, NULL, c->year);
            xs_workbook_teacher_t row = {
                {e->school_id, (uint32_t)strlen(e->school_id)}, view.teacher_id, name, &view, &st};
            if (err == XS_OK)
                err = xs_workbook_teacher(c->wb, &row);
        } else {
            err = xs_report_summary_teacher_named(stdout, c->policy, &view, NULL, &name,
                                                  s_exempt(c, e) ? c->year : 0);
        }
    }
    return err;
}

/* Adds one certified teacher's row to the workbook: their totals of c->year (0 where they
 * have no records dated in it) and their standing that year. */
static xs_err s_book_teacher(s_certify_t *c, const xs_certify_teacher_t *teacher,
                             const xs_staff_entry_t *e) {
    size_t cap = teacher->total_count + 6 * XS_POLICY_BUCKETS_MAX;
    xs_certify_total_t *keep = malloc(cap * sizeof *keep);
    if (!keep)
        return XS_ENOMEM;
    xs_certify_teacher_t view = *teacher;
    view.totals = keep;
    view.total_count =
        xs_report_year_totals(c->policy, teacher->totals, teacher->total_count, c->year, keep, cap);
    xs_standing_t st;
    xs_err err = xs_standing_of(&st, c->policy, e, teacher, c->records, c->rows, c->year);
    if (err == XS_EINVAL) /* no records dated in the year: judged as without records */
        err = xs_standing_of(&st, c->policy, e, NULL, NULL, NULL, c->year);
    xs_workbook_teacher_t row = {{e ? e->school_id : "", e ? (uint32_t)strlen(e->school_id) : 0},
                                 teacher->teacher_id,
                                 {e ? e->name : "", e ? (uint32_t)strlen(e->name) : 0},
                                 &view,
                                 &st};
    if (err == XS_OK)
        err = xs_workbook_teacher(c->wb, &row);
    free(keep);
    return err;
}

static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *teacher) {
    s_certify_t *c = ctx;
    if (c->wb) {
        xs_err err = s_absent_before(c, teacher->teacher_id.ptr, teacher->teacher_id.len);
        const xs_staff_entry_t *e =
            c->roster ? xs_staff_find(c->roster, teacher->teacher_id.ptr, teacher->teacher_id.len)
                      : NULL;
        return err == XS_OK ? s_book_teacher(c, teacher, e) : err;
    }
    if (!c->roster && !c->year)
        return xs_report_summary_teacher(stdout, c->policy, teacher, NULL);
    xs_err err = s_absent_before(c, teacher->teacher_id.ptr, teacher->teacher_id.len);
    xs_certify_total_t *keep = malloc((teacher->total_count + 1) * sizeof *keep);
    if (err != XS_OK || !keep) {
        free(keep);
        return err != XS_OK ? err : XS_ENOMEM;
    }
    xs_certify_teacher_t view = *teacher;
    view.totals = keep;
    view.total_count =
        xs_report_filter_year(c->policy, teacher->totals, teacher->total_count, c->year, keep);
    const xs_staff_entry_t *e =
        c->roster ? xs_staff_find(c->roster, teacher->teacher_id.ptr, teacher->teacher_id.len)
                  : NULL;
    xs_str_t name = {e ? e->name : "", e ? (uint32_t)strlen(e->name) : 0};
    if (view.total_count && !c->roster)
        err = xs_report_summary_teacher(stdout, c->policy, &view, NULL);
    else if (view.total_count)
        err = xs_report_summary_teacher_named(stdout, c->policy, &view, NULL, &name,
                                              s_exempt(c, e) ? c->year : 0);
    free(keep);
    return err;
}

static int s_grow(void **array, size_t *cap, size_t count, size_t size) {
    if (count < *cap)
        return 1;
    size_t grown = *cap ? *cap * 2 : 4096;
    void *p = realloc(*array, grown * size);
    if (!p)
        return 0;
    *array = p;
    *cap = grown;
    return 1;
}

/* Reads the options into a; 0, or the exit code after printing the usage. */
static int s_parse(int argc, char **argv, s_args_t *a) {
    xs_cli_opt_t opts[] = {{"policy", 1, NULL}, {"records", 1, NULL}, {"detail", 0, NULL},
                           {"roster", 1, NULL}, {"year", 1, NULL},    {"format", 1, NULL},
                           {"out", 1, NULL},    {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char msg[512];
    memset(a, 0, sizeof *a);
    if (xs_cli_parse(argc, argv, opts, nopts, pos, 0, &npos, msg, sizeof msg) != XS_OK) {
        if (msg[0])
            fprintf(stderr, "xueshi: %s\n", msg);
        return xs_cli_usage(S_USAGE);
    }
    if (xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "policy") ||
        !xs_cli_get(opts, nopts, "records"))
        return xs_cli_usage(S_USAGE);
    a->policy = xs_cli_get(opts, nopts, "policy");
    a->records = xs_cli_get(opts, nopts, "records");
    a->detail = xs_cli_get(opts, nopts, "detail") != NULL;
    a->roster = xs_cli_get(opts, nopts, "roster");
    const char *year = xs_cli_get(opts, nopts, "year");
    if (year && xs_year_parse(year, strlen(year), &a->year) != XS_OK) {
        fprintf(stderr, "xueshi: --year 应写作 2025-2026 (write the academic year as 2025-2026)\n");
        return 2;
    }
    const char *format = xs_cli_get(opts, nopts, "format");
    int xlsx = format && strcmp(format, "xlsx") == 0;
    if (format && !xlsx && strcmp(format, "csv") != 0) {
        fprintf(stderr, "用法 (usage): %s\n", S_USAGE);
        return 2;
    }
    a->out = xs_cli_get(opts, nopts, "out");
    if ((xlsx && (!a->out || !year || a->detail)) || (a->out && !xlsx)) {
        fprintf(stderr, "xueshi: 工作簿用 --format xlsx --out FILE.xlsx --year 2025-2026，不带 "
                        "--detail (the workbook takes --format xlsx, --out and --year, without "
                        "--detail)\n");
        return 2;
    }
    if (a->roster && (!year || a->detail)) {
        fprintf(stderr,
                "xueshi: --roster 须与 --year 一起使用，只用于汇总表 (--roster needs --year, "
                "and is for the summary only)\n用法 (usage): %s\n",
                S_USAGE);
        return 2;
    }
    return 0;
}

/* Reads the roster CSV at path into *roster (any school); 0, or 2 after saying why (every
 * bad line). */
static int s_read_roster(xs_staff_t *roster, const char *path) {
    size_t len = 0;
    char *text = NULL, *msg = malloc(16384);
    FILE *f = fopen(path, "rb");
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    int rc = 2;
    if (!msg || size < 0 || (unsigned long)size > S_ROSTER_FILE_MAX || fseek(f, 0, SEEK_SET) != 0 ||
        !(text = malloc((size_t)size + 1)) ||
        (len = fread(text, 1, (size_t)size, f)) != (size_t)size) {
        fprintf(stderr, "xueshi: 无法读取教师名册 %s (cannot read the roster)\n", path);
        goto out;
    }
    uint32_t bad = 0;
    xs_err err = xs_staff_parse_csv(roster, text, len, NULL, NULL, msg, 16384, &bad);
    if (err == XS_OK)
        rc = 0;
    else if (bad)
        fprintf(stderr, "%s教师名册 %s 有 %u 行有误，未使用 (the roster has %u bad lines)\n", msg,
                path, bad, bad);
    else
        xs_log_err(err, "读取教师名册 %s (reading the roster)", path);
out:
    if (f)
        fclose(f);
    free(text);
    free(msg);
    return rc;
}

/* Loads the policy file at path, saying why when it cannot. */
static xs_err s_load_policy(xs_policy_t **policy, const char *path) {
    return xs_policy_load_said(policy, path);
}

/* Says where the CSV at path stopped parsing. */
static void s_broken(xs_csv_t *csv, const char *path) {
    fprintf(stderr, "xueshi: %s 第 %u 行 (line %u): CSV 格式错误 (broken CSV): %s\n", path,
            xs_csv_line(csv), xs_csv_line(csv), xs_csv_why(csv));
}

/* Reads the header row into sheet; 0, or 2 after saying why. */
static int s_read_header(xs_csv_t *csv, xs_csv_row_t *row, xs_sheet_t *sheet,
                         const xs_policy_t *policy, const char *path) {
    char msg[512];
    xs_err err = xs_csv_next(csv, row);
    if (err == XS_ENOTFOUND) {
        fprintf(stderr, "xueshi: %s 是空文件，没有表头 (empty file, no header)\n", path);
        return 2;
    }
    if (err != XS_OK) {
        s_broken(csv, path);
        return 2;
    }
    if (xs_sheet_header_policy(sheet, row, policy, msg, sizeof msg) != XS_OK) {
        fprintf(stderr, "xueshi: %s 第 1 行 (line 1): %s\n", path, msg);
        return 2;
    }
    return 0;
}

/* Adds one row to c; blank rows are skipped. XS_ENOMEM is the only error. */
static xs_err s_add_row(s_certify_t *c, const xs_sheet_t *sheet, const xs_csv_row_t *row) {
    xs_record_t rec;
    xs_field field;
    xs_reason why;
    if (xs_csv_row_blank(row))
        return XS_OK;
    if (c->count == c->cap) {
        size_t cap = c->cap;
        uint64_t *lines;
        if (!s_grow((void **)&c->records, &cap, c->count, sizeof *c->records) ||
            !(lines = realloc(c->lines, cap * sizeof *lines)))
            return XS_ENOMEM;
        c->lines = lines;
        c->cap = cap;
    }
    if (xs_sheet_row(sheet, row, &rec, NULL, &field, &why) != XS_OK) {
        /* The row still gets its detail line and its teacher a ledger: it enters as a
         * record no rule accepts (version 0), and its reason is the sheet's. */
        if (!s_grow((void **)&c->refusals, &c->refusals_cap, c->nrefusals, sizeof *c->refusals))
            return XS_ENOMEM;
        c->refusals[c->nrefusals++] = (s_refusal_t){c->count, field, why};
        rec.version = 0;
    }
    if (!s_keep_strings(&c->blocks, &rec))
        return XS_ENOMEM;
    c->lines[c->count] = row->line;
    c->records[c->count++] = rec;
    return XS_OK;
}

/* Reads the rows after the header into c; 0, or 2 after saying why. */
static int s_read_rows(s_certify_t *c, xs_csv_t *csv, xs_csv_row_t *row, const xs_sheet_t *sheet,
                       const char *path) {
    xs_err err;
    while ((err = xs_csv_next(csv, row)) == XS_OK)
        if ((err = s_add_row(c, sheet, row)) != XS_OK)
            break;
    if (err == XS_ENOTFOUND)
        return 0;
    if (err == XS_ECSV || err == XS_ETOOBIG)
        s_broken(csv, path);
    else
        xs_log_err(err, "读取 %s (reading)", path);
    return 2;
}

/* Reads the register CSV at path into c; 0, or 2 after saying why. */
static int s_read_register(s_certify_t *c, const char *path) {
    xs_csv_t *csv = NULL;
    xs_csv_row_t *row = NULL;
    xs_sheet_t sheet;
    int rc = 2;
    xs_err err = xs_csv_open_file(&csv, path);
    if (err != XS_OK)
        xs_log_err(err, "无法读取 %s (cannot read)", path);
    else if (!(row = malloc(sizeof *row)))
        xs_log_err(XS_ENOMEM, "认定 (certify)");
    else if ((rc = s_read_header(csv, row, &sheet, c->policy, path)) == 0)
        rc = s_read_rows(c, csv, row, &sheet, path);
    free(row);
    xs_csv_close(&csv);
    return rc;
}

/* Prints one detail line per record, a refused row with the sheet's reason. */
static xs_err s_print_detail(const s_certify_t *c, xs_certify_row_t *rows) {
    xs_err err = XS_OK;
    size_t r = 0;
    for (size_t i = 0; err == XS_OK && i < c->count; i++) {
        if (r < c->nrefusals && c->refusals[r].index == i) {
            rows[i].status = XS_CERT_REJECTED;
            rows[i].reason = (uint8_t)c->refusals[r].why;
            rows[i].field = (uint8_t)c->refusals[r].field;
            rows[i].credited_seconds = 0;
            r++;
        }
        char line[24];
        snprintf(line, sizeof line, "%llu", (unsigned long long)c->lines[i]);
        /* A register holds no reviews, yet a returned row would show the school's reason. */
        const xs_str_t *note = xs_certify_review_note(c->records, c->lines, c->count, &rows[i]);
        err = xs_report_detail_row_note(stdout, c->policy, NULL, line, &c->records[i], &rows[i], 0,
                                        note);
    }
    return err;
}

/* Hashes the file at path into out; XS_EIO when it cannot be read whole. */
static xs_err s_file_hash(const char *path, uint8_t out[XS_HASH_BYTES]) {
    FILE *f = fopen(path, "rb");
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *bytes = size >= 0 && (size_t)size <= XS_CSV_MAX_FILE ? malloc((size_t)size + 1) : NULL;
    xs_err err =
        bytes && fseek(f, 0, SEEK_SET) == 0 && fread(bytes, 1, (size_t)size, f) == (size_t)size
            ? XS_OK
            : XS_EIO;
    if (err == XS_OK)
        xs_identity_hash(bytes, (size_t)size, out);
    if (f)
        fclose(f);
    free(bytes);
    return err;
}

/* The workbook's fingerprint of what it was made from: the hash of the policy's compiled
 * form, the register's bytes and the roster's (none: 32 zero bytes), hashed together. */
static xs_err s_data_hash(const xs_policy_t *policy, const s_args_t *a,
                          uint8_t out[XS_HASH_BYTES]) {
    uint8_t parts[3][XS_HASH_BYTES];
    memset(parts, 0, sizeof parts);
    xs_err err = xs_policy_hash(policy, parts[0]);
    if (err == XS_OK)
        err = s_file_hash(a->records, parts[1]);
    if (err == XS_OK && a->roster)
        err = s_file_hash(a->roster, parts[2]);
    if (err == XS_OK)
        xs_identity_hash(parts, sizeof parts, out);
    return err;
}

/* Certifies c's records into the workbook at a->out; the exit code. */
static int s_certify_book(s_certify_t *c, const s_args_t *a) {
    xs_certify_row_t *rows = NULL;
    xs_workbook_title_t title;
    char source[600];
    memset(&title, 0, sizeof title);
    snprintf(source, sizeof source, "登记表 %s%s%s", a->records, a->roster ? "，名册 " : "",
             a->roster ? a->roster : "");
    title.policy = c->policy;
    title.year = a->year;
    title.source = source;
    title.made_at = (int64_t)time(NULL);
    xs_err err = c->count && !(rows = malloc(c->count * sizeof *rows)) ? XS_ENOMEM : XS_OK;
    if (err == XS_OK)
        err = s_data_hash(c->policy, a, title.data_hash);
    if (err == XS_OK)
        err = xs_workbook_open(&c->wb, a->out, &title);
    c->rows = rows;
    if (err == XS_OK)
        err = xs_certify_run(c->policy, NULL, c->records, c->lines, c->count, NULL, rows,
                             s_on_teacher, c);
    if (err == XS_OK)
        err = s_absent_before(c, NULL, 0);
    if (err == XS_OK)
        err = xs_workbook_close(&c->wb);
    xs_workbook_discard(&c->wb);
    free(rows);
    if (err != XS_OK) {
        xs_log_err(err, "生成工作簿 %s (writing the workbook)", a->out);
        return 1;
    }
    fprintf(stderr, "已写出工作簿 (workbook written): %s\n", a->out);
    return 0;
}

/* Certifies c's records and prints the summary, or the detail; the exit code. */
static int s_certify_print(s_certify_t *c, int detail) {
    static char outbuf[1 << 16];
    xs_certify_row_t *rows = NULL;
    if (c->count && !(rows = malloc(c->count * sizeof *rows))) {
        xs_log_err(XS_ENOMEM, "认定 (certify)");
        return 2;
    }
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    xs_err err = detail      ? xs_report_detail_begin(stdout, 0)
                 : c->roster ? xs_report_summary_begin_named(stdout, 0)
                             : xs_report_summary_begin(stdout, 0);
    if (err == XS_OK)
        err = xs_certify_run(c->policy, NULL, c->records, c->lines, c->count, NULL, rows,
                             detail ? NULL : s_on_teacher, c);
    if (err == XS_OK && !detail)
        err = s_absent_before(c, NULL, 0);
    if (err == XS_OK && detail)
        err = s_print_detail(c, rows);
    if (err == XS_OK && fflush(stdout) != 0)
        err = XS_EIO;
    free(rows);
    if (err != XS_OK) {
        xs_log_err(err, "认定失败 (certification failed)");
        return 1;
    }
    return 0;
}

int tool_cmd_certify(int argc, char **argv) {
    s_args_t args;
    xs_policy_t *policy = NULL;
    s_certify_t c = {0};
    xs_staff_t roster = {0};
    int rc = s_parse(argc, argv, &args);
    if (rc != 0)
        return rc;
    rc = 2;
    if (s_load_policy(&policy, args.policy) == XS_OK) {
        c.policy = policy;
        c.year = args.year;
        if (args.roster && (rc = s_read_roster(&roster, args.roster)) == 0)
            c.roster = &roster;
        if ((!args.roster || c.roster) && (rc = s_read_register(&c, args.records)) == 0)
            rc = args.out ? s_certify_book(&c, &args) : s_certify_print(&c, args.detail);
    }
    xs_staff_free(&roster);
    free(c.records);
    free(c.lines);
    free(c.refusals);
    s_free_blocks(c.blocks);
    xs_policy_destroy(&policy);
    return rc;
}
