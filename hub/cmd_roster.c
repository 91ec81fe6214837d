/* xueshi-hub roster: import the county's teacher roster (a new version, its changes listed),
 * show a version as CSV, list the versions (schema/roster.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hub.h"
#include "staff.h"
#include "xs/csv.h"
#include "xs/text.h"

#define S_USAGE                                                                                    \
    "xueshi-hub roster --dir DIR import FILE.csv\n"                                                \
    "       xueshi-hub roster --dir DIR show [--school SCHOOL_ID] [--version N]\n"                 \
    "       xueshi-hub roster --dir DIR history"

/* Room for the messages of a refused file; lines past it are counted, not shown. */
#define S_ERRBUF (256 * 1024)

/* One import: the file's bytes, and what the write step found. */
typedef struct s_import {
    const char *csv;
    size_t len;
    int64_t now;
    xs_staff_t current; /* the roster before */
    xs_staff_t roster;  /* the roster read, stored as the next version */
    int unchanged;
    char *errbuf;
    uint32_t bad_lines;
    uint32_t changes[XS_STAFF_CHANGED + 1];
} s_import_t;

static xs_err s_import_step(xs_txn_t *txn, void *ctx) {
    s_import_t *im = ctx;
    return hub_staff_import(txn, im->csv, im->len, im->now, &im->current, &im->roster,
                            &im->unchanged, im->errbuf, S_ERRBUF, &im->bad_lines);
}

/* Reads the whole file at path (at most XS_CSV_MAX_FILE bytes) into *out (malloc'd). */
static xs_err s_read_file(const char *path, char **out, size_t *len) {
    struct stat st;
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f)
        return XS_ENOTFOUND;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return XS_EIO;
    }
    if ((uint64_t)st.st_size > XS_CSV_MAX_FILE) {
        fclose(f);
        return XS_ETOOBIG;
    }
    *out = malloc((size_t)st.st_size + 1);
    if (!*out) {
        fclose(f);
        return XS_ENOMEM;
    }
    *len = fread(*out, 1, (size_t)st.st_size, f);
    int bad = ferror(f) || *len != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        free(*out);
        *out = NULL;
        return XS_EIO;
    }
    return XS_OK;
}

static void s_roles(const xs_staff_entry_t *e, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < e->role_count && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? "；" : "", e->roles[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void s_date(int32_t day, int32_t none, char out[11]) {
    if (day == none)
        out[0] = '\0';
    else
        xs_date_format(day, out);
}

/* What changed in a teacher's own information ("角色 (roles) 班主任 → 骨干教师"). */
static void s_what_changed(const xs_staff_entry_t *a, const xs_staff_entry_t *b) {
    char before[XS_STAFF_ROLES_MAX * (XS_STAFF_ROLE_MAX + 3) + 1];
    char after[sizeof before];
    if (strcmp(a->name, b->name) != 0)
        printf("  姓名 (name) %s → %s", a->name, b->name);
    s_roles(a, before, sizeof before);
    s_roles(b, after, sizeof after);
    if (strcmp(before, after) != 0)
        printf("  角色 (roles) %s → %s", before[0] ? before : "-", after[0] ? after : "-");
    if (a->hired != b->hired) {
        s_date(a->hired, INT32_MIN, before);
        s_date(b->hired, INT32_MIN, after);
        printf("  入职日期 (hired) %s → %s", before[0] ? before : "-", after[0] ? after : "-");
    }
    if (a->status != b->status || a->status_from != b->status_from ||
        a->status_to != b->status_to) {
        char from[11], to[11];
        s_date(a->status_from, INT32_MIN, from);
        s_date(a->status_to, INT32_MAX, to);
        printf("  状态 (status) %s", xs_staff_status_zh(a->status));
        if (from[0] || to[0])
            printf(" %s~%s", from, to);
        s_date(b->status_from, INT32_MIN, from);
        s_date(b->status_to, INT32_MAX, to);
        printf(" → %s", xs_staff_status_zh(b->status));
        if (from[0] || to[0])
            printf(" %s~%s", from, to);
    }
}

/* Prints one change line: 新增/调校/移出/信息变更 with id, name and school(s). */
static xs_err s_print_change(void *ctx, xs_staff_change change, const xs_staff_entry_t *old_e,
                             const xs_staff_entry_t *new_e) {
    s_import_t *im = ctx;
    const xs_staff_entry_t *e = new_e ? new_e : old_e;
    im->changes[change]++;
    printf("%s (%s) %s %s ", xs_staff_change_zh(change), xs_staff_change_name(change),
           e->teacher_id, e->name);
    if (change == XS_STAFF_MOVED)
        printf("%s → %s", old_e->school_id, new_e->school_id);
    else
        printf("%s", e->school_id);
    if (change == XS_STAFF_CHANGED)
        s_what_changed(old_e, new_e);
    printf("\n");
    return XS_OK;
}

static int s_import(hub_t *hub, const char *path) {
    s_import_t im;
    char *csv = NULL;
    int rc = 1;
    memset(&im, 0, sizeof im);
    xs_err err = s_read_file(path, &csv, &im.len);
    if (err != XS_OK) {
        xs_log_err(err, "无法读取 %s (cannot read)", path);
        return 1;
    }
    im.csv = csv;
    im.now = (int64_t)time(NULL);
    im.errbuf = malloc(S_ERRBUF);
    if (!im.errbuf) {
        free(csv);
        xs_log_err(XS_ENOMEM, "导入花名册 (roster import)");
        return 1;
    }
    im.errbuf[0] = '\0';
    err = xs_store_update(hub->store, s_import_step, &im);
    if (err == XS_EINVAL || (err == XS_ETOOBIG && im.bad_lines)) {
        uint32_t shown = 0;
        for (const char *line = im.errbuf; *line;) {
            const char *end = strchr(line, '\n');
            size_t n = end ? (size_t)(end - line) : strlen(line);
            fprintf(stderr, "xueshi-hub: %s %.*s\n", path, (int)n, line);
            shown++;
            line += n + (end ? 1 : 0);
        }
        if (im.bad_lines > shown)
            fprintf(stderr, "xueshi-hub: 另有 %u 行有误未列出 (%u more bad lines not shown)\n",
                    im.bad_lines - shown, im.bad_lines - shown);
        fprintf(stderr,
                "xueshi-hub: 花名册未导入：%u 行有误，请改正后重新导入 (roster not imported: %u "
                "bad line(s); fix them and import again)\n",
                im.bad_lines, im.bad_lines);
    } else if (err != XS_OK) {
        xs_log_err(err, "导入花名册 (importing the roster)");
    } else if (im.unchanged) {
        printf("花名册没有变化，仍为第%u版: 共%u人 (roster unchanged: still version %u, %u "
               "teachers)\n",
               im.current.version, im.current.count, im.current.version, im.current.count);
        rc = 0;
    } else {
        err = xs_staff_diff(&im.current, &im.roster, s_print_change, &im);
        printf("花名册第%u版: 共%u人, 新增%u, 调校%u, 移出%u, 变更%u (roster version %u: %u "
               "teachers, %u added, %u moved, %u removed, %u changed)\n",
               im.roster.version, im.roster.count, im.changes[XS_STAFF_ADDED],
               im.changes[XS_STAFF_MOVED], im.changes[XS_STAFF_REMOVED],
               im.changes[XS_STAFF_CHANGED], im.roster.version, im.roster.count,
               im.changes[XS_STAFF_ADDED], im.changes[XS_STAFF_MOVED], im.changes[XS_STAFF_REMOVED],
               im.changes[XS_STAFF_CHANGED]);
        rc = 0;
    }
    xs_staff_free(&im.current);
    xs_staff_free(&im.roster);
    free(im.errbuf);
    free(csv);
    return rc;
}

/* Writes one roster entry as a CSV row (the columns of roster.md §2, so it imports again). */
static xs_err s_show_row(const xs_staff_entry_t *e) {
    char roles[XS_STAFF_ROLES_MAX * (XS_STAFF_ROLE_MAX + 3) + 1], hired[11], from[11], to[11];
    s_roles(e, roles, sizeof roles);
    s_date(e->hired, INT32_MIN, hired);
    s_date(e->status_from, INT32_MIN, from);
    s_date(e->status_to, INT32_MAX, to);
    const char *cells[] = {e->teacher_id, e->name, e->school_id,
                           roles,         hired,   xs_staff_status_zh(e->status),
                           from,          to};
    const size_t n = sizeof cells / sizeof cells[0];
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < n; i++)
        err = xs_csv_write_cell(stdout, cells[i], strlen(cells[i]), i + 1 == n);
    return err;
}

static int s_show(hub_t *hub, const char *school, const char *version) {
    xs_txn_t *txn = NULL;
    xs_staff_t staff = {0};
    uint32_t wanted = 0;
    static const char *const header[] = {"teacher_id", "name",   "school_id",   "roles",
                                         "hired",      "status", "status_from", "status_to"};
    if (version) {
        char *end;
        long v = strtol(version, &end, 10);
        if (*version == '\0' || *end || v < 1 || v > (long)UINT32_MAX) {
            fprintf(stderr, "xueshi-hub: --version 应为正整数 (a version number, 1 or more)\n");
            return 2;
        }
        wanted = (uint32_t)v;
    }
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK)
        err = wanted ? hub_staff_version(txn, wanted, &staff) : hub_staff_current(txn, &staff);
    xs_store_end(&txn);
    if (err == XS_ENOTFOUND || (err == XS_OK && staff.version == 0)) {
        if (wanted)
            fprintf(stderr, "xueshi-hub: 没有第 %u 版花名册 (no roster version %u)\n", wanted,
                    wanted);
        else
            fprintf(stderr, "xueshi-hub: 尚未导入花名册 (no roster imported yet): xueshi-hub "
                            "roster --dir DIR import FILE.csv\n");
        return 1;
    }
    if (err != XS_OK) {
        xs_log_err(err, "读取花名册 (reading the roster)");
        return 1;
    }
    err = xs_csv_write_bom(stdout);
    for (size_t i = 0; err == XS_OK && i < sizeof header / sizeof header[0]; i++)
        err = xs_csv_write_cell(stdout, header[i], strlen(header[i]),
                                i + 1 == sizeof header / sizeof header[0]);
    for (uint32_t i = 0; err == XS_OK && i < staff.count; i++)
        if (!school || strcmp(staff.entries[i].school_id, school) == 0)
            err = s_show_row(&staff.entries[i]);
    if (err == XS_OK && fflush(stdout) != 0)
        err = XS_EIO;
    xs_staff_free(&staff);
    if (err != XS_OK) {
        xs_log_err(err, "输出花名册 (writing the roster)");
        return 1;
    }
    return 0;
}

static xs_err s_history_line(void *ctx, const hub_staff_version_info_t *info) {
    int *seen = ctx;
    char when[XS_TEXT_TIME_MAX];
    xs_text_local_time(info->issued_at, when);
    printf("%-4u %-16s %6u %6u %6u %6u %6u\n", info->version, when, info->count,
           info->changes[XS_STAFF_ADDED], info->changes[XS_STAFF_MOVED],
           info->changes[XS_STAFF_REMOVED], info->changes[XS_STAFF_CHANGED]);
    (*seen)++;
    return XS_OK;
}

static int s_history(hub_t *hub) {
    xs_txn_t *txn = NULL;
    int seen = 0;
    printf("版本 导入时间           人数   新增   调校   移出   变更\n"
           "(version, imported, teachers, added, moved, removed, changed)\n");
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK)
        err = hub_staff_history(txn, s_history_line, &seen);
    xs_store_end(&txn);
    if (err != XS_OK) {
        xs_log_err(err, "读取花名册 (reading the roster)");
        return 1;
    }
    if (!seen)
        printf("尚未导入花名册 (no roster imported yet)\n");
    return 0;
}

int hub_cmd_roster(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"school", 1, NULL}, {"version", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[2];
    size_t npos;
    hub_t hub;
    if (hub_args(argc, argv, opts, nopts, pos, 2, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") || npos == 0)
        return hub_usage(S_USAGE);
    const char *verb = pos[0];
    int import = strcmp(verb, "import") == 0, show = strcmp(verb, "show") == 0,
        history = strcmp(verb, "history") == 0;
    if ((!import && !show && !history) || (import ? npos != 2 : npos != 1) ||
        (!show && (xs_cli_get(opts, nopts, "school") || xs_cli_get(opts, nopts, "version"))))
        return hub_usage(S_USAGE);
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), HUB_OPEN_ANY_POLICY) != XS_OK)
        return 1;
    int rc =
        import ? s_import(&hub, pos[1])
        : show ? s_show(&hub, xs_cli_get(opts, nopts, "school"), xs_cli_get(opts, nopts, "version"))
               : s_history(&hub);
    hub_close(&hub);
    return rc;
}
