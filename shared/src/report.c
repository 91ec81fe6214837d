/* report: the certification CSV, shared so every place that prints it prints the same bytes. */
#include "xs/report.h"
#include "xs/standing.h"

#include <stdio.h>
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

/* The summary header, with a name column after teacher_id when named. */
static xs_err s_summary_begin(FILE *f, int with_school, int named) {
    static const char *const cols[] = {"teacher_id", "scope",          "period",
                                       "bucket",     "credited_hours", "required_hours",
                                       "met",        "binding",        "reason"};
    xs_err err = xs_csv_write_bom(f);
    if (err == XS_OK && with_school)
        err = s_cell(f, "school_id", 0);
    for (size_t i = 0; err == XS_OK && i < sizeof cols / sizeof cols[0]; i++) {
        err = s_cell(f, cols[i], i + 1 == sizeof cols / sizeof cols[0]);
        if (err == XS_OK && i == 0 && named)
            err = s_cell(f, "name", 0);
    }
    return err;
}

xs_err xs_report_summary_begin(FILE *f, int with_school) {
    return s_summary_begin(f, with_school, 0);
}

xs_err xs_report_summary_begin_named(FILE *f, int with_school) {
    return s_summary_begin(f, with_school, 1);
}

/* One teacher's summary rows; name (NULL: no column) after teacher_id; rows of exempt_year
 * (0: none) say exempt instead of met. */
static xs_err s_summary_teacher(FILE *f, const xs_policy_t *policy,
                                const xs_certify_teacher_t *teacher, const xs_str_t *school,
                                const xs_str_t *name, int exempt_year) {
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
        /* binding says yes or no only where something is required (credit-rules §6.4). */
        const char *binding = l->total->met == XS_MET_NONE ? "" : l->total->binding ? "yes" : "no";
        char reason[XS_REPORT_REASON_MAX];
        size_t reason_len = xs_report_total_reason(policy, l->total, reason, sizeof reason);
        if (exempt_year && l->total->scope != XS_SCOPE_CYCLE && l->total->year == exempt_year) {
            met = binding = "";
            reason_len = (size_t)snprintf(reason, sizeof reason, "%s", XS_REPORT_EXEMPT);
        }
        if (school)
            err = s_str_cell(f, school, 0);
        if (err == XS_OK)
            err = s_str_cell(f, &teacher->teacher_id, 0);
        if (err == XS_OK && name)
            err = s_str_cell(f, name, 0);
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
            err = s_cell(f, met, 0);
        if (err == XS_OK)
            err = s_cell(f, binding, 0);
        if (err == XS_OK)
            err = xs_csv_write_cell(f, reason, reason_len, 1);
    }
    if (lines != stack)
        free(lines);
    return err;
}

xs_err xs_report_summary_teacher(FILE *f, const xs_policy_t *policy,
                                 const xs_certify_teacher_t *teacher, const xs_str_t *school) {
    return s_summary_teacher(f, policy, teacher, school, NULL, 0);
}

xs_err xs_report_summary_teacher_named(FILE *f, const xs_policy_t *policy,
                                       const xs_certify_teacher_t *teacher, const xs_str_t *school,
                                       const xs_str_t *name, int exempt_year) {
    return s_summary_teacher(f, policy, teacher, school, name, exempt_year);
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

size_t xs_report_year_totals(const xs_policy_t *policy, const xs_certify_total_t *in, size_t n,
                             int year, xs_certify_total_t *out, size_t cap) {
    xs_certify_total_t zero[3 * XS_POLICY_BUCKETS_MAX * 2];
    size_t nzero = xs_standing_zero_totals(policy, year, zero, sizeof zero / sizeof zero[0]);
    size_t kept = 0, own = 0, cycles = 0;
    for (size_t i = 0; i < n; i++) {
        own += in[i].scope != XS_SCOPE_CYCLE && in[i].year == year;
        cycles += in[i].scope == XS_SCOPE_CYCLE && year >= in[i].year &&
                  year < in[i].year + (int)policy->cycle_years;
    }
    for (size_t i = 0; !own && i < nzero && kept < cap; i++)
        if (zero[i].scope != XS_SCOPE_CYCLE)
            out[kept++] = zero[i];
    for (size_t i = 0; i < n && kept < cap; i++) {
        const xs_certify_total_t *t = &in[i];
        int keep = t->scope == XS_SCOPE_CYCLE
                       ? year >= t->year && year < t->year + (int)policy->cycle_years
                       : year == t->year;
        if (keep)
            out[kept++] = *t;
    }
    for (size_t i = 0; !cycles && i < nzero && kept < cap; i++)
        if (zero[i].scope == XS_SCOPE_CYCLE)
            out[kept++] = zero[i];
    return kept;
}

xs_err xs_report_detail_begin(FILE *f, int with_school) {
    static const char *const cols[] = {"line",           "teacher_id", "academic_year", "category",
                                       "credited_hours", "status",     "reason"};
    xs_err err = xs_csv_write_bom(f);
    if (err == XS_OK && with_school)
        err = s_cell(f, "school_id", 0);
    for (size_t i = 0; err == XS_OK && i < sizeof cols / sizeof cols[0]; i++)
        err = s_cell(f, cols[i], i + 1 == sizeof cols / sizeof cols[0]);
    return err;
}

xs_err xs_report_detail_row(FILE *f, const xs_policy_t *policy, const xs_str_t *school,
                            const char *line, const xs_record_t *rec, const xs_certify_row_t *row,
                            unsigned flags) {
    return xs_report_detail_row_note(f, policy, school, line, rec, row, flags, NULL);
}

xs_err xs_report_detail_row_note(FILE *f, const xs_policy_t *policy, const xs_str_t *school,
                                 const char *line, const xs_record_t *rec,
                                 const xs_certify_row_t *row, unsigned flags,
                                 const xs_str_t *note) {
    /* room for the longest reason: a code, a phrase and a returning review's whole note */
    char year[XS_POLICY_YEAR_LABEL] = "", hours[24], reason[256 + XS_NOTE_MAX];
    char category[XS_POLICY_BUCKET_MAX + XS_POLICY_LABEL_MAX + 2] = ""; /* "name label" */
    if (row->year)
        xs_policy_year_label(row->year, year);
    xs_certify_format_hours(hours, sizeof hours, row->credited_seconds);
    const char *name = xs_policy_category_name(policy, row->category);
    const char *label =
        flags & XS_REPORT_LABEL ? xs_policy_category_label(policy, row->category) : NULL;
    if (name && label && *label)
        snprintf(category, sizeof category, "%s %s", name, label);
    else if (name)
        snprintf(category, sizeof category, "%s", name);
    else if (row->category)
        /* A code the policy does not define (unknown_category): say which one it was. */
        snprintf(category, sizeof category, "%u", row->category);
    size_t n = 0;
    if (row->reason != XS_REASON_NONE) {
        n = (size_t)snprintf(reason, sizeof reason, "%s ", xs_reason_code(row->reason));
        if (n >= sizeof reason)
            n = sizeof reason - 1;
        n += xs_certify_reason_note(policy, rec, row, note, reason + n, sizeof reason - n);
    }
    xs_err err = school ? s_str_cell(f, school, 0) : XS_OK;
    if (err == XS_OK)
        err = s_cell(f, line, 0);
    if (err == XS_OK)
        err = s_str_cell(f, &rec->teacher_id, 0);
    if (err == XS_OK)
        err = s_cell(f, year, 0);
    if (err == XS_OK)
        err = s_cell(f, category, 0);
    if (err == XS_OK)
        err = s_cell(f, hours, 0);
    if (err == XS_OK)
        err = s_cell(f, xs_certify_status_name(row->status), 0);
    if (err == XS_OK)
        err = xs_csv_write_cell(f, reason, n, 1);
    return err;
}

size_t xs_report_total_reason(const xs_policy_t *policy, const xs_certify_total_t *total, char *out,
                              size_t cap) {
    if (!cap)
        return 0;
    out[0] = '\0';
    if (total->met != XS_MET_NO)
        return 0;
    if (policy && (!(total->why & XS_WHY_SINGLE_MISSING) || policy->single.category != XS_CAT_NONE))
        return xs_certify_total_reason(policy, total, out, cap);
    /* Without the policy (or with one that has no single-record requirement, so not the
     * receipt's), the single-record part is named by its code and a generic phrase. */
    xs_certify_total_t hours_only = *total;
    hours_only.why &= (uint8_t)~XS_WHY_SINGLE_MISSING;
    size_t len = hours_only.why ? xs_certify_total_reason(policy, &hours_only, out, cap) : 0;
    if ((total->why & XS_WHY_SINGLE_MISSING) && len + 1 < cap) {
        int n = snprintf(out + len, cap - len, "%s%s", len ? "; " : "",
                         "single_missing 缺少规定的单项培训");
        if (n > 0)
            len += (size_t)n < cap - len ? (size_t)n : cap - len - 1;
    }
    return len;
}

void xs_report_receipt_total(const xs_receipt_total_t *in, xs_certify_total_t *out) {
    memset(out, 0, sizeof *out);
    out->credited_seconds = in->credited_seconds;
    out->required_seconds = in->required_seconds;
    out->year = (int16_t)in->year;
    out->scope = in->scope;
    out->bucket = in->bucket;
    out->semester = in->semester;
    out->met = in->met;
    out->single_met = in->single_met;
    out->binding = in->binding;
    if (in->met == XS_MET_NO) {
        /* A receipt carries no reason: it follows from the figures (credit-rules §6.8). */
        if (in->required_seconds && in->credited_seconds < in->required_seconds)
            out->why |= XS_WHY_HOURS_SHORT;
        if (in->single_met == XS_MET_NO)
            out->why |= XS_WHY_SINGLE_MISSING;
    }
}
