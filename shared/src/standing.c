/* standing: a rostered teacher's result for one academic year (schema/credit-rules.md §7.1,
 * §7.3, §7.4): exempt or judged, the role requirements the roster gives them, and whether the
 * year is met, from the engine's ledger and rows. */
#include "xs/standing.h"
#include "xs/text.h"

#include <stdio.h>
#include <string.h>

/* The totals that decide a year (§7.4): binding year and semester rows of the year, and
 * binding cycle rows of a cycle whose last academic year it is. */
static int s_decides(const xs_policy_t *p, const xs_certify_total_t *t, int year) {
    if (!t->binding)
        return 0;
    if (t->scope == XS_SCOPE_YEAR || t->scope == XS_SCOPE_SEMESTER)
        return t->year == year;
    return t->scope == XS_SCOPE_CYCLE && t->year == xs_policy_cycle_of(p, year) &&
           year == t->year + (int)p->cycle_years - 1;
}

/* Calls fn for each total that decides the year: the ledger's, or, for a teacher without
 * records (teacher NULL), the rows the engine would give them, every one 0 and not met. */
typedef void (*s_total_fn)(void *ctx, const xs_certify_total_t *total);

static void s_each_deciding(const xs_policy_t *p, const xs_certify_teacher_t *teacher, int year,
                            s_total_fn fn, void *ctx) {
    if (teacher) {
        for (size_t i = 0; i < teacher->total_count; i++)
            if (s_decides(p, &teacher->totals[i], year))
                fn(ctx, &teacher->totals[i]);
        return;
    }
    int cycle = xs_policy_cycle_of(p, year);
    for (unsigned scope = 0; scope < XS_SCOPE_COUNT; scope++) {
        for (unsigned b = 0; b < p->bucket_count; b++) {
            const xs_policy_bucket_t *bk = &p->buckets[b];
            uint32_t required = bk->required_seconds[scope];
            if (!required || ((bk->advisory >> scope) & 1u))
                continue;
            xs_certify_total_t t;
            memset(&t, 0, sizeof t);
            t.scope = (uint8_t)scope;
            t.bucket = (uint8_t)b;
            t.year = (int16_t)(scope == XS_SCOPE_CYCLE ? cycle : year);
            t.required_seconds = required;
            t.met = XS_MET_NO;
            t.why = XS_WHY_HOURS_SHORT;
            t.binding = 1;
            if (scope == XS_SCOPE_CYCLE && p->single.category != XS_CAT_NONE &&
                p->single.bucket == b) {
                t.single_met = XS_MET_NO;
                t.why |= XS_WHY_SINGLE_MISSING;
            }
            for (unsigned semester = 1; semester <= (scope == XS_SCOPE_SEMESTER ? 2u : 1u);
                 semester++) {
                t.semester = (uint8_t)(scope == XS_SCOPE_SEMESTER ? semester : 0);
                if (s_decides(p, &t, year))
                    fn(ctx, &t);
            }
        }
    }
}

static int s_has(const uint64_t set[XS_POLICY_CODES / 64], unsigned code) {
    return code < XS_POLICY_CODES && ((set[code / 64] >> (code % 64)) & 1u);
}

/* 1 when one of the entry's roles names role r (by its name or label). */
static int s_has_role(const xs_policy_t *p, const xs_staff_entry_t *e, unsigned r) {
    for (uint32_t k = 0; k < e->role_count && k < XS_STAFF_ROLES_MAX; k++)
        if (xs_policy_role_find(p, e->roles[k], strnlen(e->roles[k], sizeof e->roles[k])) == (int)r)
            return 1;
    return 0;
}

/* The role's period around the year (§7.3); 0 when it does not touch the year, or when a
 * probation has no hired date to start from. */
static int s_period(const xs_policy_t *p, const xs_policy_role_t *role, const xs_staff_entry_t *e,
                    int year, int32_t *from, int32_t *to, uint8_t *judged) {
    int32_t year_from = xs_policy_semester_start(p, year, 1);
    int32_t year_to = xs_policy_semester_start(p, year + 1, 1) - 1;
    switch (role->period) {
    case XS_ROLE_PERIOD_YEAR:
        *from = year_from;
        *to = year_to;
        *judged = 1;
        return 1;
    case XS_ROLE_PERIOD_CYCLE: {
        int cycle = xs_policy_cycle_of(p, year);
        int last = cycle + (int)p->cycle_years - 1;
        *from = xs_policy_semester_start(p, cycle, 1);
        *to = xs_policy_semester_start(p, last + 1, 1) - 1;
        *judged = year == last;
        return 1;
    }
    case XS_ROLE_PERIOD_PROBATION:
        if (e->hired == INT32_MIN || e->hired > INT32_MAX - 365)
            return 0;
        *from = e->hired;
        *to = e->hired + 364; /* 试用期: one year from the hired date */
        if (*from > year_to || *to < year_from)
            return 0;
        *judged = xs_policy_year_of(p, *to, NULL) == year;
        return 1;
    default:
        return 0;
    }
}

typedef struct s_judge {
    xs_standing_t *out;
    int any; /* a deciding total was seen */
} s_judge_t;

static void s_judge_total(void *ctx, const xs_certify_total_t *total) {
    s_judge_t *j = ctx;
    j->any = 1;
    if (total->met != XS_MET_YES)
        j->out->why |= XS_STANDING_WHY_HOURS;
}

/* Appends one zero total to out when there is room. */
static void s_zero(const xs_policy_t *p, size_t b, uint8_t scope, uint8_t semester, int year,
                   xs_certify_total_t *out, size_t cap, size_t *n) {
    const xs_policy_bucket_t *bk = &p->buckets[b];
    uint32_t req = bk->required_seconds[scope];
    if (*n == cap)
        return;
    xs_certify_total_t *t = &out[(*n)++];
    memset(t, 0, sizeof *t);
    t->required_seconds = req;
    t->year = (int16_t)year;
    t->scope = scope;
    t->bucket = (uint8_t)b;
    t->semester = semester;
    t->met = req ? XS_MET_NO : XS_MET_NONE;
    t->binding = req && !((bk->advisory >> scope) & 1u);
    t->why = req ? XS_WHY_HOURS_SHORT : 0;
    if (scope == XS_SCOPE_CYCLE && p->single.category != XS_CAT_NONE && p->single.bucket == b) {
        t->met = XS_MET_NO;
        t->single_met = XS_MET_NO;
        t->why |= XS_WHY_SINGLE_MISSING;
    }
}

size_t xs_standing_zero_totals(const xs_policy_t *policy, int year, xs_certify_total_t *out,
                               size_t cap) {
    size_t n = 0;
    for (size_t b = 0; b < policy->bucket_count; b++)
        s_zero(policy, b, XS_SCOPE_YEAR, 0, year, out, cap, &n);
    for (uint8_t sem = 1; sem <= 2; sem++)
        for (size_t b = 0; b < policy->bucket_count; b++)
            if (policy->buckets[b].required_seconds[XS_SCOPE_SEMESTER])
                s_zero(policy, b, XS_SCOPE_SEMESTER, sem, year, out, cap, &n);
    int cycle = xs_policy_cycle_of(policy, year);
    for (size_t b = 0; b < policy->bucket_count; b++)
        if (policy->buckets[b].required_seconds[XS_SCOPE_CYCLE])
            s_zero(policy, b, XS_SCOPE_CYCLE, 0, cycle, out, cap, &n);
    return n;
}

xs_err xs_standing_of(xs_standing_t *out, const xs_policy_t *policy, const xs_staff_entry_t *entry,
                      const xs_certify_teacher_t *teacher, const xs_record_t *records,
                      const xs_certify_row_t *rows, int year) {
    memset(out, 0, sizeof *out);
    out->final = 1;
    if (teacher) {
        int held = 0;
        for (size_t i = 0; i < teacher->total_count && !held; i++)
            held = teacher->totals[i].scope == XS_SCOPE_YEAR && teacher->totals[i].year == year;
        if (!held)
            return XS_EINVAL;
    }
    int32_t year_from = xs_policy_semester_start(policy, year, 1);
    int32_t year_to = xs_policy_semester_start(policy, year + 1, 1) - 1;
    uint32_t days = (uint32_t)(year_to - year_from + 1);

    /* The year's credit, each record once, and what the school has not approved yet. */
    for (size_t i = 0; teacher && i < teacher->record_count; i++) {
        uint32_t idx = teacher->records[i];
        const xs_certify_row_t *row = &rows[idx];
        if (row->status != XS_CERT_CREDITED || row->year != year)
            continue;
        if (xs_policy_buckets_of(policy, row->category, records[idx].level))
            out->credited_seconds += row->credited_seconds;
        if (policy->require_review && row->review != XS_REVIEW_APPROVED)
            out->unreviewed++;
    }
    out->final = !(policy->require_review && out->unreviewed > 0);

    /* §7.1: not on the roster is judged all the same; in service under half the year is not. */
    if (!entry) {
        out->state = XS_STANDING_UNROSTERED;
        out->service_days = days;
    } else {
        int32_t served = xs_staff_service_days(entry, year_from, year_to);
        out->service_days = served > 0 ? (uint32_t)served : 0;
        if ((uint64_t)out->service_days * 2 < days) {
            out->state = XS_STANDING_EXEMPT;
            out->met = XS_MET_NONE;
            return XS_OK;
        }
    }

    s_judge_t judge = {.out = out, .any = 0};
    s_each_deciding(policy, teacher, year, s_judge_total, &judge);

    /* §7.3: the roles the roster gives the teacher. */
    int judged_any = 0;
    for (unsigned r = 0; entry && r < policy->role_count; r++) {
        const xs_policy_role_t *role = &policy->roles[r];
        xs_standing_role_t *sr = &out->roles[out->role_count];
        if (!s_has_role(policy, entry, r) ||
            !s_period(policy, role, entry, year, &sr->from, &sr->to, &sr->judged))
            continue;
        sr->role = (uint8_t)r;
        sr->required_seconds = role->required_seconds;
        sr->part_required = role->part_seconds;
        for (size_t i = 0; teacher && i < teacher->record_count; i++) {
            uint32_t idx = teacher->records[i];
            const xs_certify_row_t *row = &rows[idx];
            int32_t date = records[idx].date;
            if (row->status != XS_CERT_CREDITED || date < sr->from || date > sr->to)
                continue;
            if (s_has(role->categories, row->category))
                sr->credited_seconds += row->credited_seconds;
            if (s_has(role->part_categories, row->category))
                sr->part_seconds += row->credited_seconds;
        }
        int met =
            sr->credited_seconds >= sr->required_seconds && sr->part_seconds >= sr->part_required;
        sr->met = met ? XS_MET_YES : XS_MET_NO;
        if (sr->judged) {
            judged_any = 1;
            if (!met)
                out->why |= XS_STANDING_WHY_ROLE;
        }
        out->role_count++;
    }

    if (out->why)
        out->met = XS_MET_NO;
    else
        out->met = judge.any || judged_any ? XS_MET_YES : XS_MET_NONE;
    return XS_OK;
}

const char *xs_standing_state_name(unsigned state) {
    static const char *const names[] = {"certified", "exempt", "unrostered"};
    return state < sizeof names / sizeof names[0] ? names[state] : NULL;
}

const char *xs_standing_state_zh(unsigned state) {
    static const char *const labels[] = {"认定", "免于认定", "不在名册"};
    return state < sizeof labels / sizeof labels[0] ? labels[state] : NULL;
}

/* A reason being written: out (cap bytes) always NUL-terminated; once a piece does not fit,
 * it is cut at a UTF-8 character boundary and nothing more is written, so a short buffer
 * holds a prefix of the whole reason. */
typedef struct s_text {
    const xs_policy_t *policy;
    char *out;
    size_t cap;
    size_t len;
    int full;
} s_text_t;

static void s_put(s_text_t *t, const char *s, size_t n) {
    if (t->full)
        return;
    if (n > t->cap - 1 - t->len) {
        n = xs_text_utf8_prefix(s, n, t->cap - 1 - t->len);
        t->full = 1;
    }
    memcpy(t->out + t->len, s, n);
    t->len += n;
    t->out[t->len] = '\0';
}

static void s_puts(s_text_t *t, const char *s) {
    s_put(t, s, strlen(s));
}

/* "; " between two reasons. */
static void s_next(s_text_t *t) {
    if (t->len)
        s_puts(t, "; ");
}

/* One total's reason, each of its parts named by bucket and scope so a list of several reads
 * alone: "hours_short 网络研修（学年）还差28.50学时". */
static void s_reason_total(void *ctx, const xs_certify_total_t *total) {
    s_text_t *t = ctx;
    char text[256], where[XS_POLICY_LABEL_MAX + 32];
    size_t n = xs_certify_total_reason(t->policy, total, text, sizeof text);
    if (!n)
        return;
    const char *label = xs_policy_bucket_label(t->policy, total->bucket);
    if (!label || !*label)
        label = xs_policy_bucket_name(t->policy, total->bucket);
    const char *scope = total->scope == XS_SCOPE_CYCLE ? "周期"
                        : total->scope == XS_SCOPE_SEMESTER
                            ? (total->semester == 1 ? "第一学期" : "第二学期")
                            : "学年";
    snprintf(where, sizeof where, "%s（%s）", label ? label : "", scope);
    /* The engine's text is "code phrase[; code phrase]": the bucket goes before each phrase. */
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && !(text[end] == ';' && end + 1 < n && text[end + 1] == ' '))
            end++;
        const char *space = memchr(text + i, ' ', end - i);
        s_next(t);
        if (space) {
            s_put(t, text + i, (size_t)(space - (text + i)) + 1);
            s_puts(t, where);
            s_put(t, space + 1, (size_t)(text + end - (space + 1)));
        } else {
            s_put(t, text + i, end - i);
        }
        i = end + 2;
    }
}

/* "还差N.NN学时". */
static void s_short_by(s_text_t *t, uint64_t seconds) {
    char hours[24];
    size_t n = xs_certify_format_hours(hours, sizeof hours, seconds);
    s_puts(t, "还差");
    s_put(t, hours, n);
    s_puts(t, "学时");
}

size_t xs_standing_reason(const xs_policy_t *policy, const xs_standing_t *standing,
                          const xs_certify_teacher_t *teacher, int year, char *out, size_t cap) {
    if (!cap)
        return 0;
    out[0] = '\0';
    s_text_t t = {.policy = policy, .out = out, .cap = cap, .len = 0, .full = 0};
    if (standing->state == XS_STANDING_EXEMPT) {
        s_puts(&t, "免于认定（在岗不足半年）");
        return t.len;
    }
    if (standing->met != XS_MET_NO)
        return 0;
    if (standing->why & XS_STANDING_WHY_HOURS)
        s_each_deciding(policy, teacher, year, s_reason_total, &t);
    for (uint32_t i = 0; i < standing->role_count && i < XS_POLICY_ROLES_MAX; i++) {
        const xs_standing_role_t *sr = &standing->roles[i];
        if (!sr->judged || sr->met == XS_MET_YES || sr->role >= policy->role_count)
            continue;
        const xs_policy_role_t *role = &policy->roles[sr->role];
        if (sr->credited_seconds < sr->required_seconds) {
            s_next(&t);
            s_puts(&t, "role_short ");
            s_puts(&t, role->label);
            s_short_by(&t, sr->required_seconds - sr->credited_seconds);
        }
        if (sr->part_seconds < sr->part_required) {
            /* "其中" and the part's categories: "新任教师其中新任教师实践培训还差10.00学时" */
            s_next(&t);
            s_puts(&t, "role_short ");
            s_puts(&t, role->label);
            s_puts(&t, "其中");
            int first = 1;
            for (unsigned c = 0; c < XS_POLICY_CODES; c++) {
                const char *label =
                    s_has(role->part_categories, c) ? xs_policy_category_label(policy, c) : NULL;
                if (!label)
                    continue;
                if (!first)
                    s_puts(&t, "、");
                s_puts(&t, label);
                first = 0;
            }
            s_short_by(&t, sr->part_required - sr->part_seconds);
        }
    }
    return t.len;
}
