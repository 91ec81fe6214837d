/* report: the certification CSV, shared so every place that prints it prints the same bytes. */
#include "xs/report.h"

#include <stdlib.h>
#include <string.h>

#include "xs/csv.h"

static const char *const s_scope_names[XS_SCOPE_COUNT] = {"year", "semester", "cycle"};

/* One summary row before sorting; strings point into static or policy storage. */
typedef struct s_line {
    const char *scope;
    char period[16];
    const char *bucket;
    const xs_certify_total_t *total;
} s_line_t;

static int s_cmp_line(const void *pa, const void *pb) {
    const s_line_t *a = pa, *b = pb;
    int c = strcmp(a->scope, b->scope);
    if (c == 0)
        c = strcmp(a->period, b->period);
    if (c == 0)
        c = strcmp(a->bucket, b->bucket);
    return c;
}

static xs_err s_cell(FILE *f, const char *s, int last) {
    return xs_csv_write_cell(f, s, strlen(s), last);
}

static xs_err s_str_cell(FILE *f, const xs_str_t *s, int last) {
    return xs_csv_write_cell(f, s->len ? s->ptr : "", s->len, last);
}

xs_err xs_report_summary_begin(FILE *f, int with_school) {
    static const char *const cols[] = {"teacher_id",     "scope",          "period", "bucket",
                                       "credited_hours", "required_hours", "met"};
    xs_err err = xs_csv_write_bom(f);
    if (err == XS_OK && with_school)
        err = s_cell(f, "school_id", 0);
    for (size_t i = 0; err == XS_OK && i < sizeof cols / sizeof cols[0]; i++)
        err = s_cell(f, cols[i], i + 1 == sizeof cols / sizeof cols[0]);
    return err;
}

xs_err xs_report_summary_teacher(FILE *f, const xs_policy_t *policy,
                                 const xs_certify_teacher_t *teacher, const xs_str_t *school) {
    s_line_t stack[64], *lines = stack;
    if (teacher->total_count > sizeof stack / sizeof stack[0]) {
        lines = malloc(teacher->total_count * sizeof *lines);
        if (!lines)
            return XS_ENOMEM;
    }
    for (size_t i = 0; i < teacher->total_count; i++) {
        const xs_certify_total_t *t = &teacher->totals[i];
        s_line_t *l = &lines[i];
        l->total = t;
        l->scope = t->scope < XS_SCOPE_COUNT ? s_scope_names[t->scope] : "";
        l->bucket = xs_policy_bucket_name(policy, t->bucket);
        if (t->scope == XS_SCOPE_SEMESTER)
            xs_policy_semester_label(t->year, t->semester, l->period);
        else if (t->scope == XS_SCOPE_CYCLE)
            xs_policy_cycle_label(policy, t->year, l->period);
        else
            xs_policy_year_label(t->year, l->period);
    }
    qsort(lines, teacher->total_count, sizeof *lines, s_cmp_line);
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < teacher->total_count; i++) {
        const s_line_t *l = &lines[i];
        char credited[24], required[24] = "";
        xs_certify_format_hours(credited, sizeof credited, l->total->credited_seconds);
        if (l->total->required_seconds)
            xs_certify_format_hours(required, sizeof required, l->total->required_seconds);
        const char *met = l->total->met == XS_MET_NONE ? "" : xs_certify_met_name(l->total->met);
        if (school)
            err = s_str_cell(f, school, 0);
        if (err == XS_OK)
            err = s_str_cell(f, &teacher->teacher_id, 0);
        if (err == XS_OK)
            err = s_cell(f, l->scope, 0);
        if (err == XS_OK)
            err = s_cell(f, l->period, 0);
        if (err == XS_OK)
            err = s_cell(f, l->bucket, 0);
        if (err == XS_OK)
            err = s_cell(f, credited, 0);
        if (err == XS_OK)
            err = s_cell(f, required, 0);
        if (err == XS_OK)
            err = s_cell(f, met, 1);
    }
    if (lines != stack)
        free(lines);
    return err;
}

size_t xs_report_filter_year(const xs_policy_t *policy, const xs_certify_total_t *in, size_t n,
                             int year, xs_certify_total_t *out) {
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const xs_certify_total_t *t = &in[i];
        int keep = !year || (t->scope == XS_SCOPE_CYCLE
                                 ? year >= t->year && year < t->year + (int)policy->cycle_years
                                 : year == t->year);
        if (keep)
            out[kept++] = *t;
    }
    return kept;
}

xs_err xs_report_detail_begin(FILE *f) {
    static const char *const cols[] = {"line",           "teacher_id", "academic_year", "category",
                                       "credited_hours", "status",     "reason"};
    xs_err err = xs_csv_write_bom(f);
    for (size_t i = 0; err == XS_OK && i < sizeof cols / sizeof cols[0]; i++)
        err = s_cell(f, cols[i], i + 1 == sizeof cols / sizeof cols[0]);
    return err;
}

xs_err xs_report_detail_row(FILE *f, const xs_policy_t *policy, uint64_t line,
                            const xs_record_t *rec, const xs_certify_row_t *row) {
    char num[24], year[XS_POLICY_YEAR_LABEL] = "", hours[24], reason[256];
    snprintf(num, sizeof num, "%llu", (unsigned long long)line);
    if (row->year)
        xs_policy_year_label(row->year, year);
    xs_certify_format_hours(hours, sizeof hours, row->credited_seconds);
    const char *category = xs_category_name(row->category);
    size_t n = 0;
    if (row->reason != XS_REASON_NONE) {
        n = (size_t)snprintf(reason, sizeof reason, "%s ", xs_reason_code(row->reason));
        if (n >= sizeof reason)
            n = sizeof reason - 1;
        n += xs_certify_reason_text(policy, rec, row, reason + n, sizeof reason - n);
    }
    xs_err err = s_cell(f, num, 0);
    if (err == XS_OK)
        err = s_str_cell(f, &rec->teacher_id, 0);
    if (err == XS_OK)
        err = s_cell(f, year, 0);
    if (err == XS_OK)
        err = s_cell(f, category ? category : "", 0);
    if (err == XS_OK)
        err = s_cell(f, hours, 0);
    if (err == XS_OK)
        err = s_cell(f, xs_certify_status_name(row->status), 0);
    if (err == XS_OK)
        err = xs_csv_write_cell(f, reason, n, 1);
    return err;
}
