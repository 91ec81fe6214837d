/* policy: the INI reader, checks, compiled blob and calendar of a county's policy
 * (schema/policy.md). */
#include "xs/policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/identity.h"
#include "xs/text.h"

/* Longest line of a policy file, in bytes (policy.md §1). */
#define S_LINE_MAX 4096
/* Ranges of values a policy may hold (policy.md §2), in their stored units. */
#define S_HOURS_MIN_SECONDS 36u         /* 0.01 h */
#define S_HOURS_MAX_SECONDS 3600000u    /* 1000 h */
#define S_REQUIRE_MAX_SECONDS 36000000u /* 10000 h */
#define S_CHARS_MAX 10000000u
#define S_FACTOR_MAX 100u
#define S_CAP_MAX 1000u
#define S_DAY_MAX_SECONDS 86400u
#define S_YEAR_MIN 1970
#define S_YEAR_MAX 2149
#define S_CYCLE_YEARS_MAX 10u
#define S_MAGIC "xueshi-policy"

/* ---- credit parameters: one table drives defaults, file keys, ranges and the blob ---- */

typedef enum s_value_kind {
    S_HOURS,  /* hours with at most two decimals, stored in seconds */
    S_CHARS,  /* a character count */
    S_FACTOR, /* a small positive multiplier */
} s_value_kind;

typedef struct s_param {
    uint8_t category;  /* the [credit.<category>] section holding the key */
    const char *key;   /* the key in that section */
    s_value_kind kind; /* how the value is written and checked */
    size_t offset;     /* where it lives in xs_policy_credit_t */
    uint32_t fallback; /* default of schema/credit-rules.md §2, stored units */
    uint32_t min, max; /* accepted range, stored units */
} s_param_t;

#define S_AT(member) offsetof(xs_policy_credit_t, member)
#define S_H(h) ((uint32_t)(h)*3600u)
/* Blob order is this table's order (policy.md §4): append only, in a new format version. */
static const s_param_t s_params[] = {
    {XS_CAT_LECTURE, "speaker_factor", S_FACTOR, S_AT(speaker_factor), 4, 1, S_FACTOR_MAX},
    {XS_CAT_EXTERNAL_TRAINING, "hours_per_day", S_HOURS, S_AT(day_seconds), S_H(8),
     S_HOURS_MIN_SECONDS, S_DAY_MAX_SECONDS},
    {XS_CAT_RESEARCH_SESSION, "hours", S_HOURS, S_AT(research_session_seconds), S_H(1),
     S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS},
    {XS_CAT_OPEN_CLASS, "hours", S_HOURS, S_AT(open_class_seconds), S_H(4), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_REFLECTION, "min_chars", S_CHARS, S_AT(reflection_min_chars), 1000, 0, S_CHARS_MAX},
    {XS_CAT_REFLECTION, "hours", S_HOURS, S_AT(reflection_seconds), S_H(4), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_TEACHING_DESIGN, "unit_hours", S_HOURS, S_AT(design_unit_seconds), S_H(10),
     S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS},
    {XS_CAT_TEACHING_DESIGN, "min_chars", S_CHARS, S_AT(design_min_chars), 800, 0, S_CHARS_MAX},
    {XS_CAT_TEACHING_DESIGN, "hours", S_HOURS, S_AT(design_seconds), S_H(4), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_PAPER, "min_chars", S_CHARS, S_AT(paper_min_chars), 2000, 0, S_CHARS_MAX},
    {XS_CAT_PAPER, "award_hours_1", S_HOURS, S_AT(award_seconds[1]), S_H(12), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_PAPER, "award_hours_2", S_HOURS, S_AT(award_seconds[2]), S_H(8), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_PAPER, "award_hours_3", S_HOURS, S_AT(award_seconds[3]), S_H(4), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_PAPER, "published_hours_municipal", S_HOURS,
     S_AT(published_seconds[XS_LEVEL_MUNICIPAL]), S_H(12), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_PAPER, "published_hours_provincial", S_HOURS,
     S_AT(published_seconds[XS_LEVEL_PROVINCIAL]), S_H(14), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_PAPER, "published_hours_national", S_HOURS, S_AT(published_seconds[XS_LEVEL_NATIONAL]),
     S_H(16), S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS},
    {XS_CAT_PROJECT, "host_hours_national_provincial", S_HOURS, S_AT(project_seconds[0][0]),
     S_H(40), S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS},
    {XS_CAT_PROJECT, "participant_hours_national_provincial", S_HOURS, S_AT(project_seconds[0][1]),
     S_H(20), S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS},
    {XS_CAT_PROJECT, "host_hours_municipal_county", S_HOURS, S_AT(project_seconds[1][0]), S_H(30),
     S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS},
    {XS_CAT_PROJECT, "participant_hours_municipal_county", S_HOURS, S_AT(project_seconds[1][1]),
     S_H(15), S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS},
    {XS_CAT_EXAM, "top_hours", S_HOURS, S_AT(exam_seconds[0]), S_H(3), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_EXAM, "middle_hours", S_HOURS, S_AT(exam_seconds[1]), S_H(2), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
    {XS_CAT_EXAM, "bottom_hours", S_HOURS, S_AT(exam_seconds[2]), S_H(1), S_HOURS_MIN_SECONDS,
     S_HOURS_MAX_SECONDS},
};
#define S_PARAM_COUNT (sizeof s_params / sizeof s_params[0])
#undef S_AT

static uint32_t *s_param_slot(xs_policy_credit_t *credit, const s_param_t *param) {
    return (uint32_t *)(void *)((char *)credit + param->offset);
}

static uint32_t s_param_get(const xs_policy_credit_t *credit, const s_param_t *param) {
    uint32_t v;
    memcpy(&v, (const char *)credit + param->offset, sizeof v);
    return v;
}

/* ---- small helpers ---- */

static int s_is(const char *s, size_t len, const char *word) {
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* 1 when len bytes of s equal the NUL-terminated ASCII name, folding ASCII case in s. */
static int s_same_folded(const char *s, size_t len, const char *name) {
    if (strlen(name) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c != name[i])
            return 0;
    }
    return 1;
}

static void s_bit_set(uint64_t set[XS_POLICY_CODES / 64], unsigned code) {
    set[code / 64] |= (uint64_t)1 << (code % 64);
}

static int s_bit_has(const uint64_t set[XS_POLICY_CODES / 64], unsigned code) {
    return (int)((set[code / 64] >> (code % 64)) & 1u);
}

/* The default caps of credit-rules §6.2, in this order (policy.md §2). */
static const struct {
    const char *name;
    uint8_t categories[2]; /* 0: unused */
} s_default_caps[] = {
    {"writing", {XS_CAT_REFLECTION, XS_CAT_TEACHING_DESIGN}},
    {"paper", {XS_CAT_PAPER, 0}},
};
#define S_DEFAULT_CAPS (sizeof s_default_caps / sizeof s_default_caps[0])

static void s_default_cap(xs_policy_cap_t *cap, size_t d) {
    memset(cap, 0, sizeof *cap);
    memcpy(cap->name, s_default_caps[d].name, strlen(s_default_caps[d].name));
    cap->period = XS_SCOPE_YEAR;
    cap->count = 1;
    for (size_t i = 0; i < 2; i++)
        if (s_default_caps[d].categories[i])
            s_bit_set(cap->categories, s_default_caps[d].categories[i]);
}

/* Defaults of schema/credit-rules.md §1, §2 and §6.2 for everything but id, version and
 * buckets. */
static void s_defaults(xs_policy_t *p) {
    memset(p, 0, sizeof *p);
    p->year_start[0] = 9;
    p->year_start[1] = 1;
    p->second_semester[0] = 2;
    p->second_semester[1] = 1;
    p->first_cycle_year = 2021;
    p->cycle_years = 5;
    for (size_t i = 0; i < S_PARAM_COUNT; i++)
        *s_param_slot(&p->credit, &s_params[i]) = s_params[i].fallback;
    for (size_t d = 0; d < S_DEFAULT_CAPS; d++)
        s_default_cap(&p->caps[p->cap_count++], d);
}

/* ---- checks shared by the file reader and the blob decoder ---- */

static int s_month_day_valid(unsigned month, unsigned day) {
    /* February 29 is refused: the day must exist every year. */
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month >= 1 && month <= 12 && day >= 1 && day <= mdays[month - 1];
}

static int s_id_valid(const char *s, size_t len) {
    if (len == 0 || len > XS_POLICY_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* [a-z][a-z0-9_]*, at most XS_POLICY_BUCKET_MAX bytes: the shape of every name a file gives
 * a bucket, a cap or a category. */
static int s_name_valid(const char *s, size_t len) {
    if (len == 0 || len > XS_POLICY_BUCKET_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* A custom category's name: a name, not a built-in category and not "all". */
static int s_category_name_valid(const char *s, size_t len) {
    return s_name_valid(s, len) && xs_category_parse(s, len) < 0 && !s_is(s, len, "all");
}

/* A bucket name: a name, not a built-in category, "all" or "advisory" (the key of
 * [require.*] that lists advisory buckets). */
static int s_bucket_name_valid(const char *s, size_t len) {
    return s_category_name_valid(s, len) && !s_is(s, len, "advisory");
}

/* A role's label: 1..XS_POLICY_ROLE_LABEL_MAX bytes of UTF-8, neither starting nor ending with
 * a space or tab, without a separator of a roster's roles cell (',', ';', '，', '；', '、'), so a
 * roster can name it (schema/roster.md). */
static int s_role_label_valid(const char *s, size_t len) {
    if (len == 0 || len > XS_POLICY_ROLE_LABEL_MAX || !xs_text_utf8_valid(s, len) ||
        memchr(s, ',', len) || memchr(s, ';', len) || s[0] == ' ' || s[0] == '\t' ||
        s[len - 1] == ' ' || s[len - 1] == '\t')
        return 0;
    static const char *const wide[] = {"\xef\xbc\x8c", "\xef\xbc\x9b", "\xe3\x80\x81"}; /* ，；、 */
    for (size_t i = 0; i + 3 <= len; i++)
        for (size_t w = 0; w < sizeof wide / sizeof wide[0]; w++)
            if (memcmp(s + i, wide[w], 3) == 0)
                return 0;
    return 1;
}

#define S_ALL_CATEGORIES (((1u << XS_CAT_COUNT) - 1u) & ~1u)

/* 1 when the policy defines code: a built-in category or one of its own. */
static int s_code_defined(const xs_policy_t *p, unsigned code) {
    if (code >= 1 && code < XS_CAT_COUNT)
        return 1;
    for (uint32_t i = 0; i < p->custom_count && i < XS_POLICY_CUSTOM_MAX; i++)
        if (p->custom[i].code == code)
            return 1;
    return 0;
}

/* Finds a circle of bucket references; returns 0 and names one bucket on it in *loop. */
static int s_no_circle(const xs_policy_t *p, unsigned *loop) {
    /* Depth-first order with colours: 0 new, 1 on the path, 2 done. */
    uint8_t colour[XS_POLICY_BUCKETS_MAX] = {0};
    unsigned stack[XS_POLICY_BUCKETS_MAX], next[XS_POLICY_BUCKETS_MAX];
    for (unsigned root = 0; root < p->bucket_count; root++) {
        if (colour[root])
            continue;
        unsigned depth = 0;
        stack[0] = root;
        next[0] = 0;
        colour[root] = 1;
        while (1) {
            unsigned b = stack[depth];
            unsigned child = next[depth];
            while (child < p->bucket_count && !((p->buckets[b].buckets >> child) & 1u))
                child++;
            if (child < p->bucket_count) {
                next[depth] = child + 1;
                if (colour[child] == 1) {
                    *loop = b;
                    return 0;
                }
                if (colour[child] == 0) {
                    colour[child] = 1;
                    depth++;
                    stack[depth] = child;
                    next[depth] = 0;
                }
                continue;
            }
            colour[b] = 2;
            if (depth == 0)
                break;
            depth--;
        }
    }
    return 1;
}

/* Computes the derived tables (custom_of, cap_of, bucket_mask) and each bucket's built-in
 * categories and members from what the file or blob carries: the one place they are made,
 * after parse and after decode alike. Assumes the counts are within their limits. */
static void s_derive(xs_policy_t *p) {
    memset(p->custom_of, 0, sizeof p->custom_of);
    memset(p->cap_of, 0, sizeof p->cap_of);
    memset(p->bucket_mask, 0, sizeof p->bucket_mask);
    for (uint32_t i = 0; i < p->custom_count; i++)
        p->custom_of[p->custom[i].code] = (uint8_t)(i + 1);
    for (uint32_t i = 0; i < p->cap_count; i++)
        for (unsigned c = 0; c < XS_POLICY_CODES; c++)
            if (s_bit_has(p->caps[i].categories, c) && !p->cap_of[c])
                p->cap_of[c] = (uint8_t)(i + 1);
    /* reach[b]: b and every bucket b lists, directly or through others. */
    uint32_t reach[XS_POLICY_BUCKETS_MAX];
    for (unsigned b = 0; b < p->bucket_count; b++)
        reach[b] = (1u << b) | p->buckets[b].buckets;
    for (unsigned round = 0; round < XS_POLICY_BUCKETS_MAX; round++)
        for (unsigned b = 0; b < p->bucket_count; b++)
            for (unsigned c = 0; c < p->bucket_count; c++)
                if ((reach[b] >> c) & 1u)
                    reach[b] |= reach[c];
    /* direct[code][level]: the buckets that count it by their own terms or `all`. */
    static const uint16_t zero[XS_LEVEL_COUNT];
    uint16_t(*direct)[XS_LEVEL_COUNT] = p->bucket_mask; /* filled in place, then closed */
    for (unsigned b = 0; b < p->bucket_count; b++) {
        xs_policy_bucket_t *bk = &p->buckets[b];
        bk->categories = 0;
        if (bk->all) {
            bk->categories = S_ALL_CATEGORIES;
            for (unsigned c = 1; c < XS_POLICY_CODES; c++)
                if (c < XS_CAT_COUNT || p->custom_of[c])
                    for (unsigned l = 0; l < XS_LEVEL_COUNT; l++)
                        direct[c][l] |= (uint16_t)(1u << b);
        }
        for (uint32_t t = 0; t < bk->term_count; t++) {
            const xs_policy_term_t *term = &bk->terms[t];
            if (term->category < XS_CAT_COUNT)
                bk->categories |= 1u << term->category;
            for (unsigned l = term->min_level; l <= term->max_level && l < XS_LEVEL_COUNT; l++)
                direct[term->category][l] |= (uint16_t)(1u << b);
        }
    }
    for (unsigned b = 0; b < p->bucket_count; b++) {
        uint32_t members = 0;
        for (unsigned c = 0; c < p->bucket_count; c++)
            if ((reach[b] >> c) & 1u)
                members |= p->buckets[c].categories;
        p->buckets[b].members = members;
    }
    for (unsigned c = 1; c < XS_POLICY_CODES; c++) {
        if (memcmp(direct[c], zero, sizeof zero) == 0)
            continue;
        for (unsigned l = 0; l < XS_LEVEL_COUNT; l++) {
            uint32_t counted = direct[c][l], closed = 0;
            for (unsigned b = 0; b < p->bucket_count; b++)
                if (reach[b] & counted)
                    closed |= 1u << b;
            p->bucket_mask[c][l] = (uint16_t)closed;
        }
    }
}

/* 1 when bucket b counts a credited record of code at some level. */
static int s_bucket_counts(const xs_policy_t *p, unsigned b, unsigned code) {
    for (unsigned l = 0; l < XS_LEVEL_COUNT; l++)
        if ((p->bucket_mask[code][l] >> b) & 1u)
            return 1;
    return 0;
}

/* Checks everything a policy must satisfy (policy.md §2, §4), whether it came from a file or
 * a blob, and derives its tables. Returns 1, or 0 with a short English reason in why. */
static int s_validate(xs_policy_t *p, char *why, size_t cap) {
#define S_BAD(...)                                                                                 \
    do {                                                                                           \
        snprintf(why, cap, __VA_ARGS__);                                                           \
        return 0;                                                                                  \
    } while (0)
    if (!s_id_valid(p->id, strnlen(p->id, sizeof p->id)))
        S_BAD("bad id");
    if (p->version < 1 || p->version > INT32_MAX)
        S_BAD("bad version");
    if (!xs_text_utf8_valid(p->name, strnlen(p->name, sizeof p->name)))
        S_BAD("name is not UTF-8");
    if (!s_month_day_valid(p->year_start[0], p->year_start[1]) ||
        !s_month_day_valid(p->second_semester[0], p->second_semester[1]))
        S_BAD("bad month-day");
    if (p->year_start[0] == p->second_semester[0] && p->year_start[1] == p->second_semester[1])
        S_BAD("second_semester_start equals year_start");
    if (p->first_cycle_year < S_YEAR_MIN || p->first_cycle_year > S_YEAR_MAX)
        S_BAD("bad first_cycle_year");
    if (p->cycle_years < 1 || p->cycle_years > S_CYCLE_YEARS_MAX)
        S_BAD("bad cycle_years");
    for (size_t i = 0; i < S_PARAM_COUNT; i++) {
        uint32_t v = s_param_get(&p->credit, &s_params[i]);
        if (v < s_params[i].min || v > s_params[i].max)
            S_BAD("credit value out of range: %s.%s", xs_category_name(s_params[i].category),
                  s_params[i].key);
    }
    /* Unused slots stay zero so equal policies compile to equal bytes. */
    if (p->credit.award_seconds[0] != 0)
        S_BAD("unused credit slot set");
    for (unsigned l = 0; l < XS_LEVEL_MUNICIPAL; l++)
        if (p->credit.published_seconds[l] != 0)
            S_BAD("unused credit slot set");

    /* Categories of the policy's own (§2 [category.<name>]). */
    if (p->custom_count > XS_POLICY_CUSTOM_MAX)
        S_BAD("too many categories");
    for (uint32_t i = 0; i < p->custom_count; i++) {
        const xs_policy_category_t *cat = &p->custom[i];
        size_t nlen = strnlen(cat->name, sizeof cat->name);
        size_t llen = strnlen(cat->label, sizeof cat->label);
        if (!s_category_name_valid(cat->name, nlen))
            S_BAD("bad category name");
        if (cat->code < XS_POLICY_CUSTOM_FIRST)
            S_BAD("category %s: code below %d", cat->name, XS_POLICY_CUSTOM_FIRST);
        if (llen == 0 || !xs_text_utf8_valid(cat->label, llen))
            S_BAD("category %s: bad label", cat->name);
        for (unsigned c = 1; c < XS_CAT_COUNT; c++)
            if (strcmp(cat->label, xs_category_zh(c)) == 0 ||
                s_same_folded(cat->label, llen, xs_category_name(c)))
                S_BAD("category %s: label %s is built-in category %s's", cat->name, cat->label,
                      xs_category_name(c));
        for (uint32_t o = 0; o < p->custom_count; o++) {
            if (s_same_folded(cat->label, llen, p->custom[o].name))
                S_BAD("category %s: label is category %s's name", cat->name, p->custom[o].name);
            if (o >= i)
                continue;
            if (strcmp(p->custom[o].name, cat->name) == 0)
                S_BAD("category %s defined twice", cat->name);
            if (p->custom[o].code == cat->code)
                S_BAD("categories %s and %s share code %u", p->custom[o].name, cat->name,
                      (unsigned)cat->code);
            if (strcmp(p->custom[o].label, cat->label) == 0)
                S_BAD("categories %s and %s share label %s", p->custom[o].name, cat->name,
                      cat->label);
        }
        switch (cat->rule) {
        case XS_RULE_FIXED:
            if (cat->seconds < S_HOURS_MIN_SECONDS || cat->seconds > S_HOURS_MAX_SECONDS)
                S_BAD("category %s: hours out of range", cat->name);
            break;
        case XS_RULE_DAYS:
            if (cat->seconds < S_HOURS_MIN_SECONDS || cat->seconds > S_DAY_MAX_SECONDS)
                S_BAD("category %s: hours per day out of range", cat->name);
            break;
        case XS_RULE_MINUTES:
        case XS_RULE_HOURS:
            if (cat->seconds != 0)
                S_BAD("category %s: hours given for a rule that takes none", cat->name);
            break;
        default:
            S_BAD("category %s: bad rule", cat->name);
        }
        if (cat->same_event > 1)
            S_BAD("category %s: bad same_event", cat->name);
    }
    for (uint32_t i = p->custom_count; i < XS_POLICY_CUSTOM_MAX; i++) {
        static const xs_policy_category_t unused;
        if (memcmp(&p->custom[i], &unused, sizeof unused) != 0)
            S_BAD("unused category slot set");
    }

    /* Caps (§2 [cap.<name>]). */
    if (p->cap_count > XS_POLICY_CAPS_MAX)
        S_BAD("too many caps");
    uint64_t capped[XS_POLICY_CODES / 64] = {0};
    for (uint32_t i = 0; i < p->cap_count; i++) {
        const xs_policy_cap_t *c = &p->caps[i];
        if (!s_name_valid(c->name, strnlen(c->name, sizeof c->name)))
            S_BAD("bad cap name");
        for (uint32_t o = 0; o < i; o++)
            if (strcmp(p->caps[o].name, c->name) == 0)
                S_BAD("cap %s defined twice", c->name);
        if (c->period != XS_SCOPE_YEAR && c->period != XS_SCOPE_SEMESTER)
            S_BAD("cap %s: bad period", c->name);
        if (c->count < 1 || c->count > S_CAP_MAX)
            S_BAD("cap %s: count out of range", c->name);
        unsigned n = 0;
        for (unsigned code = 0; code < XS_POLICY_CODES; code++) {
            if (!s_bit_has(c->categories, code))
                continue;
            if (!s_code_defined(p, code))
                S_BAD("cap %s: unknown category code %u", c->name, code);
            if (s_bit_has(capped, code))
                S_BAD("cap %s: category %u is in two caps", c->name, code);
            s_bit_set(capped, code);
            n++;
        }
        if (n == 0)
            S_BAD("cap %s caps no category", c->name);
    }
    for (uint32_t i = p->cap_count; i < XS_POLICY_CAPS_MAX; i++) {
        static const xs_policy_cap_t unused;
        if (memcmp(&p->caps[i], &unused, sizeof unused) != 0)
            S_BAD("unused cap slot set");
    }

    /* Buckets (§2 [bucket.<name>], [require.*]). */
    if (p->bucket_count < 1 || p->bucket_count > XS_POLICY_BUCKETS_MAX)
        S_BAD("bad bucket count");
    for (unsigned b = 0; b < p->bucket_count; b++) {
        xs_policy_bucket_t *bk = &p->buckets[b];
        size_t len = strnlen(bk->name, sizeof bk->name);
        if (!s_bucket_name_valid(bk->name, len))
            S_BAD("bad bucket name");
        for (unsigned o = 0; o < b; o++)
            if (strcmp(p->buckets[o].name, bk->name) == 0)
                S_BAD("bucket %s defined twice", bk->name);
        for (uint32_t i = 0; i < p->custom_count; i++)
            if (strcmp(p->custom[i].name, bk->name) == 0)
                S_BAD("bucket %s has a category's name", bk->name);
        if (!xs_text_utf8_valid(bk->label, strnlen(bk->label, sizeof bk->label)))
            S_BAD("bucket label is not UTF-8");
        if (bk->all > 1 || (bk->all && bk->term_count))
            S_BAD("bucket %s: all stands alone", bk->name);
        if (bk->term_count > XS_POLICY_TERMS_MAX)
            S_BAD("bucket %s: too many categories", bk->name);
        for (uint32_t t = 0; t < bk->term_count; t++) {
            const xs_policy_term_t *term = &bk->terms[t];
            if (!s_code_defined(p, term->category))
                S_BAD("bucket %s lists an unknown category", bk->name);
            if (term->min_level > term->max_level || term->max_level > XS_LEVEL_NATIONAL)
                S_BAD("bucket %s: bad level range", bk->name);
            for (uint32_t o = 0; o < t; o++)
                if (bk->terms[o].category == term->category &&
                    bk->terms[o].min_level <= term->max_level &&
                    term->min_level <= bk->terms[o].max_level)
                    S_BAD("bucket %s lists category %u twice at one level", bk->name,
                          (unsigned)term->category);
        }
        for (uint32_t t = bk->term_count; t < XS_POLICY_TERMS_MAX; t++) {
            static const xs_policy_term_t unused;
            if (memcmp(&bk->terms[t], &unused, sizeof unused) != 0)
                S_BAD("unused term slot set");
        }
        if (p->bucket_count < 32 && (bk->buckets >> p->bucket_count) != 0)
            S_BAD("bucket %s lists an unknown bucket", bk->name);
        if (!bk->all && !bk->term_count && !bk->buckets)
            S_BAD("bucket %s counts no category", bk->name);
        for (unsigned s = 0; s < XS_SCOPE_COUNT; s++)
            if (bk->required_seconds[s] > S_REQUIRE_MAX_SECONDS)
                S_BAD("requirement out of range");
        for (unsigned s = 0; s < 8; s++)
            if (((bk->advisory >> s) & 1u) && (s >= XS_SCOPE_COUNT || !bk->required_seconds[s]))
                S_BAD("bucket %s: advisory without a requirement", bk->name);
    }
    for (unsigned b = p->bucket_count; b < XS_POLICY_BUCKETS_MAX; b++) {
        static const xs_policy_bucket_t unused;
        if (memcmp(&p->buckets[b], &unused, sizeof unused) != 0)
            S_BAD("unused bucket slot set");
    }
    unsigned loop;
    if (!s_no_circle(p, &loop))
        S_BAD("circular bucket reference through %s", p->buckets[loop].name);
    s_derive(p);

    /* The single-record requirement (§2 [require.single]). */
    xs_policy_single_t *single = &p->single;
    if (!xs_text_utf8_valid(single->label, strnlen(single->label, sizeof single->label)))
        S_BAD("single label is not UTF-8");
    if (single->category == XS_CAT_NONE) {
        if (single->bucket || single->min_seconds || single->label[0])
            S_BAD("single requirement without a category");
    } else {
        if (!s_code_defined(p, single->category))
            S_BAD("single requirement names an unknown category");
        if (single->bucket >= p->bucket_count)
            S_BAD("single requirement names an unknown bucket");
        if (single->min_seconds < S_HOURS_MIN_SECONDS || single->min_seconds > S_HOURS_MAX_SECONDS)
            S_BAD("single requirement hours out of range");
        const xs_policy_bucket_t *bk = &p->buckets[single->bucket];
        if (!bk->required_seconds[XS_SCOPE_CYCLE])
            S_BAD("single requirement's bucket %s has no cycle requirement", bk->name);
        if (!s_bucket_counts(p, single->bucket, single->category))
            S_BAD("bucket %s does not count %s", bk->name,
                  xs_policy_category_name(p, single->category));
    }

    /* School review and role requirements (§2 require_review, [role.<name>]). */
    if (p->require_review > 1)
        S_BAD("bad require_review");
    if (p->role_count > XS_POLICY_ROLES_MAX)
        S_BAD("too many roles");
    for (uint32_t i = 0; i < p->role_count; i++) {
        const xs_policy_role_t *role = &p->roles[i];
        size_t llen = strnlen(role->label, sizeof role->label);
        if (!s_name_valid(role->name, strnlen(role->name, sizeof role->name)))
            S_BAD("bad role name");
        if (!s_role_label_valid(role->label, llen))
            S_BAD("role %s: bad label", role->name);
        for (uint32_t o = 0; o < p->role_count; o++) {
            if (o != i && strcmp(p->roles[o].name, role->label) == 0)
                S_BAD("role %s: label is role %s's name", role->name, p->roles[o].name);
            if (o >= i)
                continue;
            if (strcmp(p->roles[o].name, role->name) == 0)
                S_BAD("role %s defined twice", role->name);
            if (strcmp(p->roles[o].label, role->label) == 0)
                S_BAD("roles %s and %s share label %s", p->roles[o].name, role->name, role->label);
        }
        if (role->period > XS_ROLE_PERIOD_PROBATION)
            S_BAD("role %s: bad period", role->name);
        if (role->required_seconds < S_HOURS_MIN_SECONDS ||
            role->required_seconds > S_REQUIRE_MAX_SECONDS)
            S_BAD("role %s: hours out of range", role->name);
        unsigned n = 0, parts = 0;
        for (unsigned code = 0; code < XS_POLICY_CODES; code++) {
            int in = s_bit_has(role->categories, code);
            int part = s_bit_has(role->part_categories, code);
            if (in && !s_code_defined(p, code))
                S_BAD("role %s: unknown category code %u", role->name, code);
            if (part && !in)
                S_BAD("role %s: part category %u is not one of its categories", role->name, code);
            n += (unsigned)in;
            parts += (unsigned)part;
        }
        if (n == 0)
            S_BAD("role %s counts no category", role->name);
        if ((role->part_seconds == 0) != (parts == 0))
            S_BAD("role %s: part_hours and part_categories go together", role->name);
        if (role->part_seconds && (role->part_seconds < S_HOURS_MIN_SECONDS ||
                                   role->part_seconds > role->required_seconds))
            S_BAD("role %s: part hours out of range", role->name);
    }
    for (uint32_t i = p->role_count; i < XS_POLICY_ROLES_MAX; i++) {
        static const xs_policy_role_t unused;
        if (memcmp(&p->roles[i], &unused, sizeof unused) != 0)
            S_BAD("unused role slot set");
    }
    return 1;
#undef S_BAD
}

/* ---- the INI reader (policy.md §1-§3) ---- */

typedef enum s_section {
    S_SEC_NONE,
    S_SEC_POLICY,
    S_SEC_CREDIT,   /* arg: the category */
    S_SEC_CATEGORY, /* arg: the index in p->custom */
    S_SEC_CAP,      /* arg: the index in ps->caps */
    S_SEC_BUCKET,   /* arg: the bucket index */
    S_SEC_REQUIRE,  /* arg: the xs_scope */
    S_SEC_SINGLE,
    S_SEC_ROLE, /* arg: the index in p->roles */
} s_section;

/* A name that must be resolved once the whole file is read, and where it was written. */
typedef struct s_pending {
    char name[XS_POLICY_BUCKET_MAX + 1];
    unsigned line;
    uint8_t owner;     /* the bucket or cap listing it, or the xs_scope requiring it */
    uint8_t min_level; /* a bucket's category: the levels it counts */
    uint8_t max_level;
    uint32_t seconds; /* for a requirement */
} s_pending_t;

/* A [cap.<name>] section as the file writes it. */
typedef struct s_file_cap {
    char name[XS_POLICY_BUCKET_MAX + 1];
    unsigned line;            /* of the section header */
    unsigned categories_line; /* of its categories key; 0: none */
    unsigned count_line;      /* of its count key; 0: none */
    uint8_t period;
    uint8_t remove; /* count = none */
    uint32_t count;
} s_file_cap_t;

/* Where the keys of a [category.<name>] section were written (0: absent). */
typedef struct s_file_category {
    unsigned line, code_line, label_line, rule_line, hours_line, same_event_line;
} s_file_category_t;

/* Where the keys of a [role.<name>] section were written (0: absent). */
typedef struct s_file_role {
    unsigned line, label_line, categories_line, hours_line, part_categories_line, part_hours_line;
} s_file_role_t;

#define S_KEYS_MAX 32 /* most distinct keys one section may hold */
#define S_FILE_CAPS_MAX (XS_POLICY_CAPS_MAX + S_DEFAULT_CAPS)
#define S_CAP_ITEMS_MAX (XS_CAT_COUNT - 1 + XS_POLICY_CUSTOM_MAX) /* categories of one cap */

typedef struct s_parser {
    const char *file;
    char *errbuf;
    size_t cap;
    unsigned line;
    xs_policy_t *p;
    s_section section;
    unsigned arg;
    char seen_keys[S_KEYS_MAX][40]; /* keys met in the current section */
    unsigned seen_key_count;
    unsigned policy_line; /* line of [policy], for "missing id" */
    unsigned have_id, have_version;
    unsigned year_start_line, second_line;
    uint32_t credit_sections;  /* bit per category whose section was met */
    unsigned require_sections; /* bit per scope */
    unsigned single_line;      /* line of [require.single]; 0 when absent */
    unsigned single_have_hours;
    s_pending_t single_category;
    s_pending_t single_bucket;
    s_pending_t refs[XS_POLICY_BUCKETS_MAX * XS_POLICY_BUCKETS_MAX]; /* buckets = ... */
    unsigned ref_count;
    unsigned ref_line[XS_POLICY_BUCKETS_MAX];    /* line of each bucket's "buckets" key */
    unsigned bucket_line[XS_POLICY_BUCKETS_MAX]; /* line of each [bucket.<name>] */
    s_pending_t terms[XS_POLICY_BUCKETS_MAX * XS_POLICY_TERMS_MAX]; /* categories = ... */
    unsigned term_count;
    unsigned bucket_terms[XS_POLICY_BUCKETS_MAX]; /* terms each bucket lists */
    s_pending_t requires[XS_POLICY_BUCKETS_MAX * XS_SCOPE_COUNT];
    unsigned require_count;
    s_pending_t advisories[XS_POLICY_BUCKETS_MAX * XS_SCOPE_COUNT];
    unsigned advisory_count;
    s_file_category_t categories[XS_POLICY_CUSTOM_MAX];
    s_file_cap_t caps[S_FILE_CAPS_MAX];
    unsigned cap_count;
    s_pending_t cap_items[S_FILE_CAPS_MAX * S_CAP_ITEMS_MAX];
    unsigned cap_item_count;
    unsigned cap_items_of[S_FILE_CAPS_MAX];
    s_file_role_t roles[XS_POLICY_ROLES_MAX];
    s_pending_t role_items[XS_POLICY_ROLES_MAX * S_CAP_ITEMS_MAX]; /* categories = ...; owner:
                                                                      the role */
    unsigned role_item_count;
    unsigned role_items_of[XS_POLICY_ROLES_MAX];
    s_pending_t part_items[XS_POLICY_ROLES_MAX * S_CAP_ITEMS_MAX]; /* part_categories = ... */
    unsigned part_item_count;
    unsigned part_items_of[XS_POLICY_ROLES_MAX];
} s_parser_t;

__attribute__((format(printf, 2, 3))) static xs_err s_fail(s_parser_t *ps, const char *fmt, ...) {
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (ps->cap)
        snprintf(ps->errbuf, ps->cap, "%s:%u: %s", ps->file, ps->line, reason);
    return XS_EPOLICY;
}

/* Copies len bytes and a NUL into a buffer of cap bytes; the caller checked len < cap. */
static void s_copy(char *dst, size_t cap, const char *src, size_t len) {
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Shortens a value for a message so a long line cannot swamp it. */
static int s_show(size_t len) {
    return len > 64 ? 64 : (int)len;
}

static xs_err s_parse_uint(s_parser_t *ps, const char *v, size_t len, uint64_t min, uint64_t max,
                           uint64_t *out) {
    if (xs_text_parse_fixed(v, len, 0, UINT64_MAX, out) != XS_OK)
        return s_fail(ps, "不是整数 (not a whole number): \"%.*s\"", s_show(len), v);
    if (*out < min || *out > max)
        return s_fail(ps, "超出范围 (out of range %llu..%llu): %.*s", (unsigned long long)min,
                      (unsigned long long)max, s_show(len), v);
    return XS_OK;
}

/* Hours with at most two decimals, converted to seconds (exact) and checked against
 * [min, max]. */
static xs_err s_parse_hours(s_parser_t *ps, const char *v, size_t len, uint32_t min, uint32_t max,
                            uint32_t *seconds) {
    uint64_t hundredths;
    if (xs_text_parse_fixed(v, len, 2, UINT32_MAX, &hundredths) != XS_OK)
        return s_fail(ps, "不是学时数 (not a number of hours, at most 2 decimals): \"%.*s\"",
                      s_show(len), v);
    uint64_t sec = hundredths * XS_POLICY_SECONDS_PER_HUNDREDTH;
    if (sec < min || sec > max)
        return s_fail(ps, "超出范围 (hours out of range %u.%02u..%u): %.*s", min / 3600,
                      min % 3600 / 36, max / 3600, s_show(len), v);
    *seconds = (uint32_t)sec;
    return XS_OK;
}

static xs_err s_parse_month_day(s_parser_t *ps, const char *v, size_t len, uint8_t out[2]) {
    unsigned m, d;
    if (len != 5 || v[2] != '-' || v[0] < '0' || v[0] > '9' || v[1] < '0' || v[1] > '9' ||
        v[3] < '0' || v[3] > '9' || v[4] < '0' || v[4] > '9')
        return s_fail(ps, "日期应为 MM-DD (expected MM-DD): \"%.*s\"", s_show(len), v);
    m = (unsigned)(v[0] - '0') * 10 + (unsigned)(v[1] - '0');
    d = (unsigned)(v[3] - '0') * 10 + (unsigned)(v[4] - '0');
    if (!s_month_day_valid(m, d))
        return s_fail(ps, "无此日期 (no such day every year): %.*s", s_show(len), v);
    out[0] = (uint8_t)m;
    out[1] = (uint8_t)d;
    return XS_OK;
}

static xs_err s_parse_text(s_parser_t *ps, const char *v, size_t len, char *dst, size_t cap) {
    if (len >= cap)
        return s_fail(ps, "文字过长 (text longer than %zu bytes)", cap - 1);
    s_copy(dst, cap, v, len);
    return XS_OK;
}

/* Splits a list at ',', '，' or '、'; calls item for each trimmed, non-empty item. */
typedef xs_err (*s_item_fn)(s_parser_t *ps, const char *item, size_t len);
static xs_err s_each_item(s_parser_t *ps, const char *v, size_t len, s_item_fn item) {
    size_t start = 0, i = 0;
    while (1) {
        size_t sep = 0;
        if (i == len)
            sep = 0;
        else if (v[i] == ',')
            sep = 1;
        else if (len - i >= 3 && memcmp(v + i, "\xef\xbc\x8c", 3) == 0) /* ， */
            sep = 3;
        else if (len - i >= 3 && memcmp(v + i, "\xe3\x80\x81", 3) == 0) /* 、 */
            sep = 3;
        else {
            i++;
            continue;
        }
        const char *s = v + start;
        size_t n = i - start;
        xs_text_trim(&s, &n);
        if (n == 0)
            return s_fail(ps, "列表中有空项 (empty item in a list)");
        xs_err err = item(ps, s, n);
        if (err != XS_OK)
            return err;
        if (i == len)
            return XS_OK;
        i += sep;
        start = i;
    }
}

/* The code of a category a file names: a built-in name, or the name of a [category.<name>]
 * section anywhere in the file (so call it once the file is read); -1 when none. */
static int s_category_code(const xs_policy_t *p, const char *s, size_t len) {
    int c = xs_category_parse(s, len);
    if (c >= 0)
        return c;
    for (uint32_t i = 0; i < p->custom_count; i++)
        if (s_is(s, len, p->custom[i].name))
            return p->custom[i].code;
    return -1;
}

static xs_err s_unknown_category(s_parser_t *ps, const char *s, size_t len) {
    return s_fail(ps, "未知的活动类别 (unknown category): %.*s", s_show(len), s);
}

/* A category name kept for s_finish, which knows every [category.<name>]. */
static xs_err s_pend_name(s_parser_t *ps, s_pending_t *slot, const char *s, size_t len) {
    if (len > XS_POLICY_BUCKET_MAX)
        return s_unknown_category(ps, s, len);
    memset(slot, 0, sizeof *slot);
    s_copy(slot->name, sizeof slot->name, s, len);
    slot->line = ps->line;
    slot->owner = (uint8_t)ps->arg;
    return XS_OK;
}

/* One item of a bucket's categories (policy.md §2): `name`, `name >= level` or
 * `name < level`. */
static xs_err s_term_item(s_parser_t *ps, const char *s, size_t len) {
    xs_policy_bucket_t *bk = &ps->p->buckets[ps->arg];
    if (s_is(s, len, "all")) {
        if (ps->bucket_terms[ps->arg] || bk->all) /* "all, all" is not alone either */
            return s_fail(ps, "all 须单独使用 (\"all\" stands alone)");
        bk->all = 1;
        return XS_OK;
    }
    if (bk->all)
        return s_fail(ps, "all 须单独使用 (\"all\" stands alone)");
    uint8_t min = XS_LEVEL_NONE, max = XS_LEVEL_NATIONAL;
    const char *op = s;
    while (op < s + len && *op != '<' && *op != '>')
        op++;
    size_t name_len = (size_t)(op - s);
    if (op < s + len) {
        /* A level filter: ">= level" counts that level and above, "< level" those below. */
        size_t op_len = (op[0] == '>' && op + 1 < s + len && op[1] == '=') ? 2 : 1;
        const char *level = op + op_len;
        size_t level_len = (size_t)(s + len - level);
        const char *name = s;
        xs_text_trim(&name, &name_len);
        xs_text_trim(&level, &level_len);
        int l = -1;
        for (unsigned i = XS_LEVEL_SCHOOL; i < XS_LEVEL_COUNT; i++)
            if (s_is(level, level_len, xs_level_name(i)))
                l = (int)i;
        int ge = op[0] == '>' && op_len == 2;
        int lt = op[0] == '<' && (level_len == 0 || level[0] != '=');
        if ((!ge && !lt) || l < 0 || name_len == 0 || s_is(name, name_len, "all"))
            return s_fail(ps,
                          "级别条件无效 (bad level filter: write `category >= level` or "
                          "`category < level`, level school, county, municipal, provincial or "
                          "national): %.*s",
                          s_show(len), s);
        if (ge)
            min = (uint8_t)l;
        else
            max = (uint8_t)(l - 1);
        len = name_len;
        s = name;
    }
    if (ps->bucket_terms[ps->arg] == XS_POLICY_TERMS_MAX)
        return s_fail(ps, "类别过多 (more than %d categories in one bucket)", XS_POLICY_TERMS_MAX);
    s_pending_t *term = &ps->terms[ps->term_count];
    xs_err err = s_pend_name(ps, term, s, len);
    if (err != XS_OK)
        return err;
    term->min_level = min;
    term->max_level = max;
    ps->term_count++;
    ps->bucket_terms[ps->arg]++;
    return XS_OK;
}

static xs_err s_cap_item(s_parser_t *ps, const char *s, size_t len) {
    if (ps->cap_items_of[ps->arg] == S_CAP_ITEMS_MAX)
        return s_fail(ps, "类别过多 (more than %d categories in one cap)", S_CAP_ITEMS_MAX);
    xs_err err = s_pend_name(ps, &ps->cap_items[ps->cap_item_count], s, len);
    if (err != XS_OK)
        return err;
    ps->cap_item_count++;
    ps->cap_items_of[ps->arg]++;
    return XS_OK;
}

static xs_err s_role_item(s_parser_t *ps, const char *s, size_t len) {
    if (ps->role_items_of[ps->arg] == S_CAP_ITEMS_MAX)
        return s_fail(ps, "类别过多 (more than %d categories in one role)", S_CAP_ITEMS_MAX);
    xs_err err = s_pend_name(ps, &ps->role_items[ps->role_item_count], s, len);
    if (err != XS_OK)
        return err;
    ps->role_item_count++;
    ps->role_items_of[ps->arg]++;
    return XS_OK;
}

static xs_err s_part_item(s_parser_t *ps, const char *s, size_t len) {
    if (ps->part_items_of[ps->arg] == S_CAP_ITEMS_MAX)
        return s_fail(ps, "类别过多 (more than %d categories in one role)", S_CAP_ITEMS_MAX);
    xs_err err = s_pend_name(ps, &ps->part_items[ps->part_item_count], s, len);
    if (err != XS_OK)
        return err;
    ps->part_item_count++;
    ps->part_items_of[ps->arg]++;
    return XS_OK;
}

static xs_err s_bucket_item(s_parser_t *ps, const char *s, size_t len) {
    if (!s_bucket_name_valid(s, len))
        return s_fail(ps, "不是组名 (not a bucket name): %.*s", s_show(len), s);
    for (unsigned i = 0; i < ps->ref_count; i++)
        if (ps->refs[i].owner == ps->arg && s_is(s, len, ps->refs[i].name))
            return s_fail(ps, "组重复 (bucket listed twice): %.*s", s_show(len), s);
    if (ps->ref_count == sizeof ps->refs / sizeof ps->refs[0])
        return s_fail(ps, "引用过多 (too many bucket references)");
    s_pending_t *ref = &ps->refs[ps->ref_count++];
    s_copy(ref->name, sizeof ref->name, s, len);
    ref->line = ps->line;
    ref->owner = (uint8_t)ps->arg;
    return XS_OK;
}

static xs_err s_advisory_item(s_parser_t *ps, const char *s, size_t len) {
    if (!s_bucket_name_valid(s, len))
        return s_fail(ps, "不是组名 (not a bucket name): %.*s", s_show(len), s);
    for (unsigned i = 0; i < ps->advisory_count; i++)
        if (ps->advisories[i].owner == ps->arg && s_is(s, len, ps->advisories[i].name))
            return s_fail(ps, "组重复 (bucket listed twice): %.*s", s_show(len), s);
    if (ps->advisory_count == sizeof ps->advisories / sizeof ps->advisories[0])
        return s_fail(ps, "引用过多 (too many advisory buckets)");
    s_pending_t *adv = &ps->advisories[ps->advisory_count++];
    s_copy(adv->name, sizeof adv->name, s, len);
    adv->line = ps->line;
    adv->owner = (uint8_t)ps->arg;
    return XS_OK;
}

static xs_err s_section_start(s_parser_t *ps, const char *name, size_t len) {
    xs_policy_t *p = ps->p;
    ps->seen_key_count = 0;
    if (s_is(name, len, "policy")) {
        if (ps->policy_line)
            return s_fail(ps, "重复的节 (section repeated): [policy]");
        ps->policy_line = ps->line;
        ps->section = S_SEC_POLICY;
        return XS_OK;
    }
    if (len > 7 && memcmp(name, "credit.", 7) == 0) {
        int c = xs_category_parse(name + 7, len - 7);
        if (c < 0)
            return s_fail(ps,
                          "未知的活动类别 (unknown category; a county's own category takes "
                          "[category.<name>]): [%.*s]",
                          s_show(len), name);
        if ((ps->credit_sections >> c) & 1u)
            return s_fail(ps, "重复的节 (section repeated): [%.*s]", s_show(len), name);
        ps->credit_sections |= 1u << c;
        ps->section = S_SEC_CREDIT;
        ps->arg = (unsigned)c;
        return XS_OK;
    }
    if (len > 9 && memcmp(name, "category.", 9) == 0) {
        const char *cname = name + 9;
        size_t clen = len - 9;
        if (!s_category_name_valid(cname, clen))
            return s_fail(ps,
                          "类别名无效 (category names are [a-z][a-z0-9_]*, at most %d bytes, not "
                          "a built-in category or \"all\"): [%.*s]",
                          XS_POLICY_BUCKET_MAX, s_show(len), name);
        for (uint32_t i = 0; i < p->custom_count; i++)
            if (s_is(cname, clen, p->custom[i].name))
                return s_fail(ps, "重复的节 (section repeated): [%.*s]", s_show(len), name);
        if (p->custom_count == XS_POLICY_CUSTOM_MAX)
            return s_fail(ps, "类别过多 (more than %d categories of the policy's own)",
                          XS_POLICY_CUSTOM_MAX);
        s_copy(p->custom[p->custom_count].name, sizeof p->custom[0].name, cname, clen);
        ps->categories[p->custom_count].line = ps->line;
        ps->section = S_SEC_CATEGORY;
        ps->arg = p->custom_count++;
        return XS_OK;
    }
    if (len > 4 && memcmp(name, "cap.", 4) == 0) {
        const char *cname = name + 4;
        size_t clen = len - 4;
        if (!s_name_valid(cname, clen))
            return s_fail(ps,
                          "上限名无效 (cap names are [a-z][a-z0-9_]*, at most %d bytes): [%.*s]",
                          XS_POLICY_BUCKET_MAX, s_show(len), name);
        for (unsigned i = 0; i < ps->cap_count; i++)
            if (s_is(cname, clen, ps->caps[i].name))
                return s_fail(ps, "重复的节 (section repeated): [%.*s]", s_show(len), name);
        if (ps->cap_count == S_FILE_CAPS_MAX)
            return s_fail(ps, "上限过多 (more than %d caps)", XS_POLICY_CAPS_MAX);
        s_file_cap_t *fc = &ps->caps[ps->cap_count];
        s_copy(fc->name, sizeof fc->name, cname, clen);
        fc->line = ps->line;
        fc->period = XS_SCOPE_YEAR;
        ps->section = S_SEC_CAP;
        ps->arg = ps->cap_count++;
        return XS_OK;
    }
    if (len > 7 && memcmp(name, "bucket.", 7) == 0) {
        const char *bname = name + 7;
        size_t blen = len - 7;
        if (!s_bucket_name_valid(bname, blen))
            return s_fail(ps,
                          "组名无效 (bucket names are [a-z][a-z0-9_]*, at most %d bytes, not a "
                          "category, \"all\" or \"advisory\"): [%.*s]",
                          XS_POLICY_BUCKET_MAX, s_show(len), name);
        if (xs_policy_bucket_find(p, bname, blen) >= 0)
            return s_fail(ps, "重复的节 (section repeated): [%.*s]", s_show(len), name);
        if (p->bucket_count == XS_POLICY_BUCKETS_MAX)
            return s_fail(ps, "组过多 (more than %d buckets)", XS_POLICY_BUCKETS_MAX);
        s_copy(p->buckets[p->bucket_count].name, sizeof p->buckets[0].name, bname, blen);
        ps->bucket_line[p->bucket_count] = ps->line;
        ps->section = S_SEC_BUCKET;
        ps->arg = p->bucket_count++;
        return XS_OK;
    }
    static const char *const scopes[XS_SCOPE_COUNT] = {"require.year", "require.semester",
                                                       "require.cycle"};
    for (unsigned s = 0; s < XS_SCOPE_COUNT; s++) {
        if (s_is(name, len, scopes[s])) {
            if ((ps->require_sections >> s) & 1u)
                return s_fail(ps, "重复的节 (section repeated): [%s]", scopes[s]);
            ps->require_sections |= 1u << s;
            ps->section = S_SEC_REQUIRE;
            ps->arg = s;
            return XS_OK;
        }
    }
    if (len > 5 && memcmp(name, "role.", 5) == 0) {
        const char *rname = name + 5;
        size_t rlen = len - 5;
        if (!s_name_valid(rname, rlen))
            return s_fail(ps,
                          "角色名无效 (role names are [a-z][a-z0-9_]*, at most %d bytes): [%.*s]",
                          XS_POLICY_BUCKET_MAX, s_show(len), name);
        for (uint32_t i = 0; i < p->role_count; i++)
            if (s_is(rname, rlen, p->roles[i].name))
                return s_fail(ps, "重复的节 (section repeated): [%.*s]", s_show(len), name);
        if (p->role_count == XS_POLICY_ROLES_MAX)
            return s_fail(ps, "角色过多 (more than %d roles)", XS_POLICY_ROLES_MAX);
        s_copy(p->roles[p->role_count].name, sizeof p->roles[0].name, rname, rlen);
        p->roles[p->role_count].period = XS_ROLE_PERIOD_CYCLE;
        ps->roles[p->role_count].line = ps->line;
        ps->section = S_SEC_ROLE;
        ps->arg = p->role_count++;
        return XS_OK;
    }
    if (s_is(name, len, "require.single")) {
        if (ps->single_line)
            return s_fail(ps, "重复的节 (section repeated): [require.single]");
        ps->single_line = ps->line;
        ps->section = S_SEC_SINGLE;
        return XS_OK;
    }
    return s_fail(ps, "未知的节 (unknown section): [%.*s]", s_show(len), name);
}

static xs_err s_unknown_key(s_parser_t *ps, const char *key, size_t klen) {
    return s_fail(ps, "未知的键 (unknown key in this section): %.*s", s_show(klen), key);
}

static xs_err s_key_policy(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    xs_policy_t *p = ps->p;
    uint64_t n;
    xs_err err;
    if (s_is(k, kl, "id")) {
        if (!s_id_valid(v, vl))
            return s_fail(ps, "id 无效 (id is [a-z0-9_-]+, at most %d bytes): %.*s",
                          XS_POLICY_ID_MAX, s_show(vl), v);
        s_copy(p->id, sizeof p->id, v, vl);
        ps->have_id = 1;
        return XS_OK;
    }
    if (s_is(k, kl, "version")) {
        if ((err = s_parse_uint(ps, v, vl, 1, INT32_MAX, &n)) != XS_OK)
            return err;
        p->version = (uint32_t)n;
        ps->have_version = 1;
        return XS_OK;
    }
    if (s_is(k, kl, "name"))
        return s_parse_text(ps, v, vl, p->name, sizeof p->name);
    if (s_is(k, kl, "year_start")) {
        ps->year_start_line = ps->line;
        return s_parse_month_day(ps, v, vl, p->year_start);
    }
    if (s_is(k, kl, "second_semester_start")) {
        ps->second_line = ps->line;
        return s_parse_month_day(ps, v, vl, p->second_semester);
    }
    if (s_is(k, kl, "first_cycle_year")) {
        if ((err = s_parse_uint(ps, v, vl, S_YEAR_MIN, S_YEAR_MAX, &n)) != XS_OK)
            return err;
        p->first_cycle_year = (int32_t)n;
        return XS_OK;
    }
    if (s_is(k, kl, "cycle_years")) {
        if ((err = s_parse_uint(ps, v, vl, 1, S_CYCLE_YEARS_MAX, &n)) != XS_OK)
            return err;
        p->cycle_years = (uint32_t)n;
        return XS_OK;
    }
    if (s_is(k, kl, "require_review")) {
        if (s_is(v, vl, "yes"))
            p->require_review = 1;
        else if (s_is(v, vl, "no"))
            p->require_review = 0;
        else
            return s_fail(ps, "require_review 只能为 yes 或 no (require_review is yes or no): %.*s",
                          s_show(vl), v);
        return XS_OK;
    }
    return s_unknown_key(ps, k, kl);
}

static xs_err s_key_credit(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    xs_policy_credit_t *credit = &ps->p->credit;
    uint64_t n;
    xs_err err;
    (void)v;
    if (s_is(k, kl, "yearly_cap"))
        return s_fail(ps, "yearly_cap 已取消，请改用 [cap.<name>] 节 (yearly_cap was removed in "
                          "policy version 2: write a [cap.<name>] section, schema/policy.md §2)");
    for (size_t i = 0; i < S_PARAM_COUNT; i++) {
        const s_param_t *param = &s_params[i];
        if (param->category != ps->arg || !s_is(k, kl, param->key))
            continue;
        uint32_t *slot = s_param_slot(credit, param);
        if (param->kind == S_HOURS)
            return s_parse_hours(ps, v, vl, param->min, param->max, slot);
        if ((err = s_parse_uint(ps, v, vl, param->min, param->max, &n)) != XS_OK)
            return err;
        *slot = (uint32_t)n;
        return XS_OK;
    }
    return s_unknown_key(ps, k, kl);
}

static xs_err s_key_category(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    xs_policy_t *p = ps->p;
    xs_policy_category_t *cat = &p->custom[ps->arg];
    s_file_category_t *fc = &ps->categories[ps->arg];
    uint64_t n;
    xs_err err;
    if (s_is(k, kl, "code")) {
        if ((err = s_parse_uint(ps, v, vl, XS_POLICY_CUSTOM_FIRST, XS_POLICY_CODES - 1, &n)) !=
            XS_OK)
            return err;
        for (unsigned i = 0; i < ps->arg; i++)
            if (p->custom[i].code == n)
                return s_fail(ps, "类别代码重复 (code %u is category %s's already)", (unsigned)n,
                              p->custom[i].name);
        cat->code = (uint8_t)n;
        fc->code_line = ps->line;
        return XS_OK;
    }
    if (s_is(k, kl, "label")) {
        if ((err = s_parse_text(ps, v, vl, cat->label, sizeof cat->label)) != XS_OK)
            return err;
        for (unsigned c = 1; c < XS_CAT_COUNT; c++)
            if (strcmp(cat->label, xs_category_zh(c)) == 0)
                return s_fail(ps, "类别名称重复 (label %s is built-in category %s's)", cat->label,
                              xs_category_name(c));
        for (unsigned i = 0; i < ps->arg; i++)
            if (strcmp(p->custom[i].label, cat->label) == 0)
                return s_fail(ps, "类别名称重复 (label %s is category %s's already)", cat->label,
                              p->custom[i].name);
        fc->label_line = ps->line;
        return XS_OK;
    }
    if (s_is(k, kl, "rule")) {
        static const char *const rules[] = {"fixed", "minutes", "hours", "days"};
        static const uint8_t codes[] = {XS_RULE_FIXED, XS_RULE_MINUTES, XS_RULE_HOURS,
                                        XS_RULE_DAYS};
        for (size_t i = 0; i < 4; i++) {
            if (s_is(v, vl, rules[i])) {
                cat->rule = codes[i];
                fc->rule_line = ps->line;
                return XS_OK;
            }
        }
        return s_fail(ps, "计算方式无效 (rule is fixed, minutes, hours or days): %.*s", s_show(vl),
                      v);
    }
    if (s_is(k, kl, "hours")) {
        fc->hours_line = ps->line;
        return s_parse_hours(ps, v, vl, S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS, &cat->seconds);
    }
    if (s_is(k, kl, "same_event")) {
        if (!s_is(v, vl, "once"))
            return s_fail(ps, "same_event 只能为 once (same_event takes only \"once\"): %.*s",
                          s_show(vl), v);
        cat->same_event = 1;
        fc->same_event_line = ps->line;
        return XS_OK;
    }
    return s_unknown_key(ps, k, kl);
}

static xs_err s_key_cap(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    s_file_cap_t *fc = &ps->caps[ps->arg];
    uint64_t n;
    xs_err err;
    if (s_is(k, kl, "categories")) {
        fc->categories_line = ps->line;
        return s_each_item(ps, v, vl, s_cap_item);
    }
    if (s_is(k, kl, "period")) {
        if (s_is(v, vl, "year"))
            fc->period = XS_SCOPE_YEAR;
        else if (s_is(v, vl, "semester"))
            fc->period = XS_SCOPE_SEMESTER;
        else
            return s_fail(ps, "期间无效 (period is year or semester): %.*s", s_show(vl), v);
        return XS_OK;
    }
    if (s_is(k, kl, "count")) {
        fc->count_line = ps->line;
        if (s_is(v, vl, "none")) {
            fc->remove = 1;
            return XS_OK;
        }
        if ((err = s_parse_uint(ps, v, vl, 1, S_CAP_MAX, &n)) != XS_OK)
            return err;
        fc->count = (uint32_t)n;
        return XS_OK;
    }
    return s_unknown_key(ps, k, kl);
}

static xs_err s_key_bucket(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    xs_policy_bucket_t *bk = &ps->p->buckets[ps->arg];
    if (s_is(k, kl, "label"))
        return s_parse_text(ps, v, vl, bk->label, sizeof bk->label);
    if (s_is(k, kl, "categories"))
        return s_each_item(ps, v, vl, s_term_item);
    if (s_is(k, kl, "buckets")) {
        ps->ref_line[ps->arg] = ps->line;
        return s_each_item(ps, v, vl, s_bucket_item);
    }
    return s_unknown_key(ps, k, kl);
}

static xs_err s_key_require(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    if (s_is(k, kl, "advisory"))
        return s_each_item(ps, v, vl, s_advisory_item);
    if (!s_bucket_name_valid(k, kl))
        return s_fail(ps, "不是组名 (not a bucket name): %.*s", s_show(kl), k);
    s_pending_t *req = &ps->requires[ps->require_count];
    if (ps->require_count == sizeof ps->requires / sizeof ps->requires[0])
        return s_fail(ps, "要求过多 (too many requirements)");
    xs_err err =
        s_parse_hours(ps, v, vl, S_HOURS_MIN_SECONDS, S_REQUIRE_MAX_SECONDS, &req->seconds);
    if (err != XS_OK)
        return err;
    s_copy(req->name, sizeof req->name, k, kl);
    req->line = ps->line;
    req->owner = (uint8_t)ps->arg;
    ps->require_count++;
    return XS_OK;
}

static xs_err s_key_single(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    xs_policy_single_t *single = &ps->p->single;
    if (s_is(k, kl, "category"))
        return s_pend_name(ps, &ps->single_category, v, vl);
    if (s_is(k, kl, "hours")) {
        ps->single_have_hours = 1;
        return s_parse_hours(ps, v, vl, S_HOURS_MIN_SECONDS, S_HOURS_MAX_SECONDS,
                             &single->min_seconds);
    }
    if (s_is(k, kl, "bucket")) {
        if (!s_bucket_name_valid(v, vl))
            return s_fail(ps, "不是组名 (not a bucket name): %.*s", s_show(vl), v);
        s_copy(ps->single_bucket.name, sizeof ps->single_bucket.name, v, vl);
        ps->single_bucket.line = ps->line;
        return XS_OK;
    }
    if (s_is(k, kl, "label"))
        return s_parse_text(ps, v, vl, single->label, sizeof single->label);
    return s_unknown_key(ps, k, kl);
}

static xs_err s_key_role(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    xs_policy_t *p = ps->p;
    xs_policy_role_t *role = &p->roles[ps->arg];
    s_file_role_t *fr = &ps->roles[ps->arg];
    xs_err err;
    if (s_is(k, kl, "label")) {
        if ((err = s_parse_text(ps, v, vl, role->label, sizeof role->label)) != XS_OK)
            return err;
        if (!s_role_label_valid(role->label, vl))
            return s_fail(ps,
                          "角色名称无效 (a role's label is the roster's word for it: at most %d "
                          "bytes, no list separator): %.*s",
                          XS_POLICY_ROLE_LABEL_MAX, s_show(vl), v);
        for (unsigned i = 0; i < ps->arg; i++)
            if (strcmp(p->roles[i].label, role->label) == 0)
                return s_fail(ps, "角色名称重复 (label %s is role %s's already)", role->label,
                              p->roles[i].name);
        fr->label_line = ps->line;
        return XS_OK;
    }
    if (s_is(k, kl, "categories")) {
        fr->categories_line = ps->line;
        return s_each_item(ps, v, vl, s_role_item);
    }
    if (s_is(k, kl, "part_categories")) {
        fr->part_categories_line = ps->line;
        return s_each_item(ps, v, vl, s_part_item);
    }
    if (s_is(k, kl, "period")) {
        static const char *const periods[] = {"year", "cycle", "probation"};
        static const uint8_t codes[] = {XS_ROLE_PERIOD_YEAR, XS_ROLE_PERIOD_CYCLE,
                                        XS_ROLE_PERIOD_PROBATION};
        for (size_t i = 0; i < 3; i++) {
            if (s_is(v, vl, periods[i])) {
                role->period = codes[i];
                return XS_OK;
            }
        }
        return s_fail(ps, "期间无效 (period is year, cycle or probation): %.*s", s_show(vl), v);
    }
    if (s_is(k, kl, "hours")) {
        fr->hours_line = ps->line;
        return s_parse_hours(ps, v, vl, S_HOURS_MIN_SECONDS, S_REQUIRE_MAX_SECONDS,
                             &role->required_seconds);
    }
    if (s_is(k, kl, "part_hours")) {
        fr->part_hours_line = ps->line;
        return s_parse_hours(ps, v, vl, S_HOURS_MIN_SECONDS, S_REQUIRE_MAX_SECONDS,
                             &role->part_seconds);
    }
    return s_unknown_key(ps, k, kl);
}

static xs_err s_key(s_parser_t *ps, const char *k, size_t kl, const char *v, size_t vl) {
    if (ps->section == S_SEC_NONE)
        return s_fail(ps, "键须在节内 (key before any [section]): %.*s", s_show(kl), k);
    for (size_t i = 0; i < kl; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return s_fail(ps, "键名无效 (keys are [a-z0-9_]+): %.*s", s_show(kl), k);
    }
    if (kl >= sizeof ps->seen_keys[0])
        return s_unknown_key(ps, k, kl);
    for (unsigned i = 0; i < ps->seen_key_count; i++)
        if (s_is(k, kl, ps->seen_keys[i]))
            return s_fail(ps, "重复的键 (key repeated): %.*s", s_show(kl), k);
    if (ps->seen_key_count == S_KEYS_MAX)
        return s_fail(ps, "键过多 (too many keys in one section)");
    s_copy(ps->seen_keys[ps->seen_key_count++], sizeof ps->seen_keys[0], k, kl);
    if (vl == 0)
        return s_fail(ps, "缺少值 (empty value): %.*s", s_show(kl), k);
    switch (ps->section) {
    case S_SEC_POLICY:
        return s_key_policy(ps, k, kl, v, vl);
    case S_SEC_CREDIT:
        return s_key_credit(ps, k, kl, v, vl);
    case S_SEC_CATEGORY:
        return s_key_category(ps, k, kl, v, vl);
    case S_SEC_CAP:
        return s_key_cap(ps, k, kl, v, vl);
    case S_SEC_BUCKET:
        return s_key_bucket(ps, k, kl, v, vl);
    case S_SEC_REQUIRE:
        return s_key_require(ps, k, kl, v, vl);
    case S_SEC_SINGLE:
        return s_key_single(ps, k, kl, v, vl);
    case S_SEC_ROLE:
        return s_key_role(ps, k, kl, v, vl);
    case S_SEC_NONE:
        break;
    }
    return s_unknown_key(ps, k, kl);
}

/* Cuts an inline comment: ';' or '#' at the start or after a space or tab. */
static size_t s_cut_comment(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((s[i] == ';' || s[i] == '#') && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
            return i;
    return len;
}

static xs_err s_line(s_parser_t *ps, const char *s, size_t len) {
    if (len > S_LINE_MAX)
        return s_fail(ps, "行过长 (line longer than %d bytes)", S_LINE_MAX);
    if (!xs_text_utf8_valid(s, len))
        return s_fail(ps, "不是 UTF-8 文本 (not UTF-8 text)");
    xs_text_trim(&s, &len);
    if (len == 0 || s[0] == ';' || s[0] == '#')
        return XS_OK;
    if (s[0] == '[') {
        len = s_cut_comment(s, len);
        xs_text_trim(&s, &len);
        if (len < 2 || s[len - 1] != ']')
            return s_fail(ps, "节名须以 ] 结束 (section header without ']')");
        const char *name = s + 1;
        size_t nlen = len - 2;
        xs_text_trim(&name, &nlen);
        return s_section_start(ps, name, nlen);
    }
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return s_fail(ps, "应为 键 = 值 (expected key = value): %.*s", s_show(len), s);
    const char *key = s, *value = eq + 1;
    size_t klen = (size_t)(eq - s), vlen = len - klen - 1;
    xs_text_trim(&key, &klen);
    xs_text_trim(&value, &vlen);
    vlen = s_cut_comment(value, vlen);
    xs_text_trim(&value, &vlen);
    if (klen == 0)
        return s_fail(ps, "缺少键名 (missing key before '=')");
    return s_key(ps, key, klen, value, vlen);
}

/* Resolves a category name s_pend_name kept, at the line it was written. */
static xs_err s_resolve_category(s_parser_t *ps, const s_pending_t *item, int *code) {
    ps->line = item->line;
    *code = s_category_code(ps->p, item->name, strlen(item->name));
    if (*code < 0)
        return s_unknown_category(ps, item->name, strlen(item->name));
    return XS_OK;
}

/* Completes the policy's own categories: required keys, and hours as the rule wants them. */
static xs_err s_finish_categories(s_parser_t *ps) {
    xs_policy_t *p = ps->p;
    for (uint32_t i = 0; i < p->custom_count; i++) {
        xs_policy_category_t *cat = &p->custom[i];
        const s_file_category_t *fc = &ps->categories[i];
        ps->line = fc->line;
        if (!fc->code_line || !fc->label_line || !fc->rule_line)
            return s_fail(ps, "[category.%s] 须有 code、label、rule (needs code, label and rule)",
                          cat->name);
        for (uint32_t o = 0; o < p->custom_count; o++) {
            if (s_same_folded(cat->label, strlen(cat->label), p->custom[o].name)) {
                ps->line = fc->label_line;
                return s_fail(ps, "类别名称与类别名相同 (label is the name of category %s)",
                              p->custom[o].name);
            }
        }
        for (unsigned c = 1; c < XS_CAT_COUNT; c++) {
            if (s_same_folded(cat->label, strlen(cat->label), xs_category_name(c))) {
                ps->line = fc->label_line;
                return s_fail(ps, "类别名称与类别名相同 (label is the name of category %s)",
                              xs_category_name(c));
            }
        }
        switch (cat->rule) {
        case XS_RULE_FIXED:
            if (!fc->hours_line)
                return s_fail(ps, "rule = fixed 须有 hours (rule fixed needs hours: the credit "
                                  "of one record)");
            break;
        case XS_RULE_DAYS:
            if (!fc->hours_line)
                cat->seconds = S_H(8);
            if (cat->seconds > S_DAY_MAX_SECONDS) {
                ps->line = fc->hours_line;
                return s_fail(ps, "超出范围 (hours per day out of range 0.01..24)");
            }
            break;
        default:
            if (fc->hours_line) {
                ps->line = fc->hours_line;
                return s_fail(ps, "rule = minutes 或 hours 不用 hours (rules minutes and hours "
                                  "take no hours: the record gives them)");
            }
            break;
        }
    }
    return XS_OK;
}

/* Builds p->caps: the defaults as the file changes them, then the file's new caps. */
static xs_err s_finish_caps(s_parser_t *ps) {
    xs_policy_t *p = ps->p;
    uint8_t used[S_FILE_CAPS_MAX] = {0};
    unsigned first_item[S_FILE_CAPS_MAX];
    for (unsigned i = 0, n = 0; i < ps->cap_count; i++) {
        first_item[i] = n;
        n += ps->cap_items_of[i];
    }
    for (unsigned i = 0; i < ps->cap_count; i++) {
        const s_file_cap_t *fc = &ps->caps[i];
        ps->line = fc->line;
        int is_default = 0;
        for (size_t d = 0; d < S_DEFAULT_CAPS; d++)
            is_default |= strcmp(fc->name, s_default_caps[d].name) == 0;
        if (fc->remove) {
            if (!is_default) {
                ps->line = fc->count_line;
                return s_fail(ps, "count = none 只能取消默认上限 (count = none removes a default "
                                  "cap: writing or paper)");
            }
            if (fc->categories_line || ps->cap_items_of[i]) {
                ps->line = fc->categories_line;
                return s_fail(ps, "已取消的上限不列类别 (a removed cap lists no categories)");
            }
            continue;
        }
        if (!fc->count_line || !fc->categories_line)
            return s_fail(ps, "[cap.%s] 须有 categories、count (needs categories and count)",
                          fc->name);
    }
    /* Order: the defaults first (kept, replaced or removed), then new caps in file order. */
    p->cap_count = 0;
    memset(p->caps, 0, sizeof p->caps);
    unsigned order[S_FILE_CAPS_MAX + S_DEFAULT_CAPS];
    unsigned order_count = 0;
    for (size_t d = 0; d < S_DEFAULT_CAPS; d++) {
        unsigned found = UINT32_MAX;
        for (unsigned i = 0; i < ps->cap_count; i++)
            if (strcmp(ps->caps[i].name, s_default_caps[d].name) == 0)
                found = i;
        if (found == UINT32_MAX) {
            order[order_count++] = UINT32_MAX - 1 - (unsigned)d; /* the default as it is */
        } else {
            used[found] = 1;
            if (!ps->caps[found].remove)
                order[order_count++] = found;
        }
    }
    for (unsigned i = 0; i < ps->cap_count; i++)
        if (!used[i])
            order[order_count++] = i;
    uint8_t owner[XS_POLICY_CODES];       /* 1 + index in p->caps of the cap holding a code */
    unsigned owner_line[XS_POLICY_CODES]; /* where the file put it in that cap */
    memset(owner, 0, sizeof owner);
    memset(owner_line, 0, sizeof owner_line);
    for (unsigned o = 0; o < order_count; o++) {
        if (p->cap_count == XS_POLICY_CAPS_MAX) {
            ps->line = order[o] < ps->cap_count ? ps->caps[order[o]].line : ps->line;
            return s_fail(ps, "上限过多 (more than %d caps)", XS_POLICY_CAPS_MAX);
        }
        xs_policy_cap_t *cap = &p->caps[p->cap_count];
        if (order[o] >= UINT32_MAX - S_DEFAULT_CAPS) {
            s_default_cap(cap, UINT32_MAX - 1 - order[o]);
            for (unsigned c = 0; c < XS_POLICY_CODES; c++) {
                if (!s_bit_has(cap->categories, c))
                    continue;
                if (owner[c]) {
                    /* A replaced default took a category of a default kept as it is. */
                    ps->line = owner_line[c];
                    return s_fail(ps,
                                  "同一类别不能属于两个上限 (category %s is in two caps: %s and "
                                  "the default %s; change or remove [cap.%s] too)",
                                  xs_category_name(c), p->caps[owner[c] - 1].name, cap->name,
                                  cap->name);
                }
                owner[c] = (uint8_t)(p->cap_count + 1);
            }
            p->cap_count++;
            continue;
        }
        const s_file_cap_t *fc = &ps->caps[order[o]];
        memcpy(cap->name, fc->name, sizeof cap->name);
        cap->period = fc->period;
        cap->count = fc->count;
        for (unsigned k = 0; k < ps->cap_items_of[order[o]]; k++) {
            const s_pending_t *item = &ps->cap_items[first_item[order[o]] + k];
            int code;
            xs_err err = s_resolve_category(ps, item, &code);
            if (err != XS_OK)
                return err;
            if (s_bit_has(cap->categories, (unsigned)code))
                return s_fail(ps, "类别重复 (category listed twice): %s", item->name);
            if (owner[code])
                return s_fail(ps,
                              "同一类别不能属于两个上限 (category %s is in two caps: %s and %s)",
                              item->name, p->caps[owner[code] - 1].name, fc->name);
            s_bit_set(cap->categories, (unsigned)code);
            owner[code] = (uint8_t)(p->cap_count + 1);
            owner_line[code] = item->line;
        }
        p->cap_count++;
    }
    return XS_OK;
}

/* Resolves each bucket's category items into terms. */
static xs_err s_finish_terms(s_parser_t *ps) {
    xs_policy_t *p = ps->p;
    for (unsigned i = 0; i < ps->term_count; i++) {
        const s_pending_t *item = &ps->terms[i];
        xs_policy_bucket_t *bk = &p->buckets[item->owner];
        int code;
        xs_err err = s_resolve_category(ps, item, &code);
        if (err != XS_OK)
            return err;
        for (uint32_t t = 0; t < bk->term_count; t++)
            if (bk->terms[t].category == code && bk->terms[t].min_level <= item->max_level &&
                item->min_level <= bk->terms[t].max_level)
                return s_fail(ps,
                              "类别重复或级别范围重叠 (category listed twice, or at overlapping "
                              "levels): %s",
                              item->name);
        xs_policy_term_t *term = &bk->terms[bk->term_count++];
        term->category = (uint8_t)code;
        term->min_level = item->min_level;
        term->max_level = item->max_level;
    }
    return XS_OK;
}

/* Resolves n category items into the set of codes, refusing one listed twice. */
static xs_err s_resolve_set(s_parser_t *ps, const s_pending_t *items, unsigned n,
                            uint64_t set[XS_POLICY_CODES / 64]) {
    for (unsigned k = 0; k < n; k++) {
        int code;
        xs_err err = s_resolve_category(ps, &items[k], &code);
        if (err != XS_OK)
            return err;
        if (s_bit_has(set, (unsigned)code))
            return s_fail(ps, "类别重复 (category listed twice): %s", items[k].name);
        s_bit_set(set, (unsigned)code);
    }
    return XS_OK;
}

/* Completes the role requirements: required keys, their categories and the part (其中). */
static xs_err s_finish_roles(s_parser_t *ps) {
    xs_policy_t *p = ps->p;
    unsigned first_item = 0, first_part = 0;
    for (uint32_t i = 0; i < p->role_count; i++) {
        xs_policy_role_t *role = &p->roles[i];
        const s_file_role_t *fr = &ps->roles[i];
        ps->line = fr->line;
        if (!fr->label_line || !fr->categories_line || !fr->hours_line)
            return s_fail(ps,
                          "[role.%s] 须有 label、categories、hours (needs label, categories "
                          "and hours)",
                          role->name);
        if (!fr->part_categories_line != !fr->part_hours_line) {
            ps->line = fr->part_categories_line ? fr->part_categories_line : fr->part_hours_line;
            return s_fail(ps, "part_categories 与 part_hours 须同时给出 (part_categories and "
                              "part_hours go together)");
        }
        for (uint32_t o = 0; o < p->role_count; o++) {
            if (o != i && strcmp(p->roles[o].name, role->label) == 0) {
                ps->line = fr->label_line;
                return s_fail(ps, "角色名称与角色名相同 (label is the name of role %s)",
                              p->roles[o].name);
            }
        }
        xs_err err =
            s_resolve_set(ps, &ps->role_items[first_item], ps->role_items_of[i], role->categories);
        if (err != XS_OK)
            return err;
        err = s_resolve_set(ps, &ps->part_items[first_part], ps->part_items_of[i],
                            role->part_categories);
        if (err != XS_OK)
            return err;
        for (unsigned k = 0; k < ps->part_items_of[i]; k++) {
            const s_pending_t *item = &ps->part_items[first_part + k];
            if (!s_bit_has(role->categories,
                           (unsigned)s_category_code(p, item->name, strlen(item->name)))) {
                ps->line = item->line;
                return s_fail(ps,
                              "其中的类别须在 categories 中 (part category %s is not one of "
                              "the role's categories)",
                              item->name);
            }
        }
        if (role->part_seconds > role->required_seconds) {
            ps->line = fr->part_hours_line;
            return s_fail(ps, "part_hours 不能大于 hours (part_hours exceeds the role's hours)");
        }
        first_item += ps->role_items_of[i];
        first_part += ps->part_items_of[i];
    }
    return XS_OK;
}

/* Resolves the names the file used before the sections they name were known. */
static xs_err s_finish(s_parser_t *ps) {
    xs_policy_t *p = ps->p;
    unsigned eof_line = ps->line;
    xs_err err;
    if (!ps->have_id || !ps->have_version) {
        ps->line = ps->policy_line ? ps->policy_line : 1;
        return s_fail(ps, "缺少 %s (missing %s in [policy])", ps->have_id ? "version" : "id",
                      ps->have_id ? "version" : "id");
    }
    if (p->year_start[0] == p->second_semester[0] && p->year_start[1] == p->second_semester[1]) {
        ps->line = ps->second_line ? ps->second_line : ps->year_start_line;
        return s_fail(ps, "第二学期不能与学年同日开始 (second_semester_start equals year_start)");
    }
    if (p->bucket_count == 0) {
        ps->line = eof_line;
        return s_fail(ps, "未定义任何组 (no [bucket.<name>] section)");
    }
    if ((err = s_finish_categories(ps)) != XS_OK)
        return err;
    for (unsigned b = 0; b < p->bucket_count; b++) {
        for (uint32_t i = 0; i < p->custom_count; i++) {
            if (strcmp(p->buckets[b].name, p->custom[i].name) == 0) {
                ps->line = ps->bucket_line[b];
                return s_fail(ps, "组名与类别名相同 (bucket %s has the name of a category)",
                              p->buckets[b].name);
            }
        }
    }
    if ((err = s_finish_caps(ps)) != XS_OK)
        return err;
    if ((err = s_finish_terms(ps)) != XS_OK)
        return err;
    for (unsigned i = 0; i < ps->ref_count; i++) {
        s_pending_t *ref = &ps->refs[i];
        int target = xs_policy_bucket_find(p, ref->name, strlen(ref->name));
        ps->line = ref->line;
        if (target < 0)
            return s_fail(ps, "未定义的组 (no such bucket): %s", ref->name);
        p->buckets[ref->owner].buckets |= 1u << target;
    }
    unsigned loop;
    if (!s_no_circle(p, &loop)) {
        ps->line = ps->ref_line[loop];
        return s_fail(ps, "组之间循环引用 (buckets include each other in a circle): %s",
                      p->buckets[loop].name);
    }
    for (unsigned b = 0; b < p->bucket_count; b++) {
        const xs_policy_bucket_t *bk = &p->buckets[b];
        if (!bk->all && !bk->term_count && !bk->buckets) {
            ps->line = ps->bucket_line[b];
            return s_fail(ps, "该组不计任何类别 (bucket %s counts no category)", bk->name);
        }
    }
    for (unsigned i = 0; i < ps->require_count; i++) {
        s_pending_t *req = &ps->requires[i];
        int target = xs_policy_bucket_find(p, req->name, strlen(req->name));
        ps->line = req->line;
        if (target < 0)
            return s_fail(ps, "未定义的组 (no such bucket): %s", req->name);
        p->buckets[target].required_seconds[req->owner] = req->seconds;
    }
    for (unsigned i = 0; i < ps->advisory_count; i++) {
        s_pending_t *adv = &ps->advisories[i];
        int target = xs_policy_bucket_find(p, adv->name, strlen(adv->name));
        ps->line = adv->line;
        if (target < 0)
            return s_fail(ps, "未定义的组 (no such bucket): %s", adv->name);
        if (!p->buckets[target].required_seconds[adv->owner])
            return s_fail(ps,
                          "建议性要求须有学时要求 (advisory bucket %s has no requirement in this "
                          "section)",
                          adv->name);
        p->buckets[target].advisory |= (uint8_t)(1u << adv->owner);
    }
    s_derive(p);
    if (ps->single_line) {
        xs_policy_single_t *single = &p->single;
        ps->line = ps->single_line;
        if (!ps->single_category.line || !ps->single_have_hours || !ps->single_bucket.line)
            return s_fail(ps, "[require.single] 须有 category、hours、bucket (needs category, "
                              "hours and bucket)");
        int code;
        if ((err = s_resolve_category(ps, &ps->single_category, &code)) != XS_OK)
            return err;
        single->category = (uint8_t)code;
        ps->line = ps->single_bucket.line;
        int target =
            xs_policy_bucket_find(p, ps->single_bucket.name, strlen(ps->single_bucket.name));
        if (target < 0)
            return s_fail(ps, "未定义的组 (no such bucket): %s", ps->single_bucket.name);
        const xs_policy_bucket_t *bk = &p->buckets[target];
        if (!bk->required_seconds[XS_SCOPE_CYCLE])
            return s_fail(ps, "该组没有周期要求 (bucket %s has no [require.cycle] entry)",
                          bk->name);
        if (!s_bucket_counts(p, (unsigned)target, single->category))
            return s_fail(ps, "该组不计此类别 (bucket %s does not count %s)", bk->name,
                          ps->single_category.name);
        single->bucket = (uint8_t)target;
    }
    if ((err = s_finish_roles(ps)) != XS_OK)
        return err;
    char why[160];
    if (!s_validate(p, why, sizeof why)) {
        ps->line = eof_line;
        return s_fail(ps, "%s", why);
    }
    return XS_OK;
}
xs_err xs_policy_parse(xs_policy_t **out, const char *text, size_t len, const char *display_name,
                       char *errbuf, size_t cap) {
    *out = NULL;
    if (cap)
        errbuf[0] = '\0';
    s_parser_t *ps = calloc(1, sizeof *ps);
    xs_policy_t *p = malloc(sizeof *p);
    xs_err err = XS_ENOMEM;
    if (!ps || !p)
        goto out;
    s_defaults(p);
    ps->file = display_name ? display_name : "policy";
    ps->errbuf = errbuf;
    ps->cap = cap;
    ps->p = p;
    if (len > XS_POLICY_FILE_MAX) {
        if (cap)
            snprintf(errbuf, cap, "%s: 文件过大 (larger than %d bytes)", ps->file,
                     XS_POLICY_FILE_MAX);
        err = XS_ETOOBIG;
        goto out;
    }
    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* a byte order mark, as Windows editors write */
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        ps->line++;
        err = s_line(ps, text + pos, end - pos);
        if (err != XS_OK)
            goto out;
        pos = nl ? end + 1 : len;
    }
    err = s_finish(ps);
    if (err == XS_OK) {
        *out = p;
        p = NULL;
    }
out:
    free(ps);
    free(p);
    if (err == XS_ENOMEM && cap)
        snprintf(errbuf, cap, "%s: %s", display_name ? display_name : "policy", xs_strerror(err));
    return err;
}

xs_err xs_policy_load(xs_policy_t **out, const char *path, char *errbuf, size_t cap) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        xs_err why = e == ENOENT || e == ENOTDIR ? XS_ENOTFOUND
                     : e == EACCES || e == EPERM ? XS_EPERM
                                                 : XS_EIO;
        if (cap && why == XS_ENOTFOUND)
            snprintf(errbuf, cap,
                     "找不到认定规则文件 %s，请检查文件名和路径（县里下发的 .ini 文件）(no policy "
                     "file %s: check the name and the path)",
                     path, path);
        else if (cap)
            snprintf(errbuf, cap, "无法打开认定规则文件 %s (cannot open the policy file): %s", path,
                     strerror(e));
        return why;
    }
    char *text = malloc(XS_POLICY_FILE_MAX + 1);
    xs_err err = XS_ENOMEM;
    if (!text) {
        if (cap)
            snprintf(errbuf, cap, "%s: %s", path, xs_strerror(err));
        goto out;
    }
    size_t len = fread(text, 1, XS_POLICY_FILE_MAX + 1, f);
    if (ferror(f)) {
        err = XS_EIO;
        if (cap)
            snprintf(errbuf, cap, "%s: %s", path, xs_strerror(err));
        goto out;
    }
    if (len > XS_POLICY_FILE_MAX) {
        err = XS_ETOOBIG;
        if (cap)
            snprintf(errbuf, cap, "%s: 文件过大 (larger than %d bytes)", path, XS_POLICY_FILE_MAX);
        goto out;
    }
    err = xs_policy_parse(out, text, len, path, errbuf, cap);
out:
    free(text);
    fclose(f);
    return err;
}

xs_err xs_policy_load_said(xs_policy_t **out, const char *path) {
    char msg[768];
    xs_err err = xs_policy_load(out, path, msg, sizeof msg);
    if (err == XS_EPOLICY)
        xs_log("认定规则有误，未做任何更改，请改正后重试 (policy refused, nothing changed): %s",
               msg);
    else if (err != XS_OK)
        xs_log("%s", msg);
    return err;
}

void xs_policy_destroy(xs_policy_t **policy) {
    if (!policy || !*policy)
        return;
    free(*policy);
    *policy = NULL;
}

/* ---- the compiled blob (policy.md §4) ---- */

#define S_BLOB_ITEMS_2 13 /* format 2 */
#define S_BLOB_ITEMS_3 15 /* format 3: require_review and roles appended */
#define S_ROLE_ITEMS 7
#define S_CATEGORY_ITEMS 6
#define S_CAP_ITEMS 4
#define S_BUCKET_ITEMS 9
#define S_TERM_ITEMS 3
#define S_SINGLE_ITEMS 4

static void s_put_cstr(xs_writer_t *w, const char *s) {
    xs_codec_put_str(w, s, strlen(s));
}

/* The lowest format that carries the policy (policy.md §4): 3 with roles or require_review,
 * else 2, so a policy of neither keeps the bytes and hash it had before format 3. */
static unsigned s_format_of(const xs_policy_t *p) {
    return p->role_count || p->require_review ? 3u : 2u;
}

/* A set of codes as the blob carries it: an array of the codes, ascending. */
static void s_put_codes(xs_writer_t *w, const uint64_t set[XS_POLICY_CODES / 64]) {
    uint32_t n = 0;
    for (unsigned c = 0; c < XS_POLICY_CODES; c++)
        n += (uint32_t)s_bit_has(set, c);
    xs_codec_put_array(w, n);
    for (unsigned c = 0; c < XS_POLICY_CODES; c++)
        if (s_bit_has(set, c))
            xs_codec_put_uint(w, c);
}

void xs_policy_compile(const xs_policy_t *p, xs_writer_t *w) {
    unsigned format = s_format_of(p);
    xs_codec_put_array(w, format == 3 ? S_BLOB_ITEMS_3 : S_BLOB_ITEMS_2);
    s_put_cstr(w, S_MAGIC);
    xs_codec_put_uint(w, format);
    s_put_cstr(w, p->id);
    xs_codec_put_uint(w, p->version);
    s_put_cstr(w, p->name);
    xs_codec_put_array(w, 4);
    xs_codec_put_uint(w, p->year_start[0]);
    xs_codec_put_uint(w, p->year_start[1]);
    xs_codec_put_uint(w, p->second_semester[0]);
    xs_codec_put_uint(w, p->second_semester[1]);
    xs_codec_put_int(w, p->first_cycle_year);
    xs_codec_put_uint(w, p->cycle_years);
    xs_codec_put_array(w, (uint32_t)S_PARAM_COUNT);
    for (size_t i = 0; i < S_PARAM_COUNT; i++)
        xs_codec_put_uint(w, s_param_get(&p->credit, &s_params[i]));
    xs_codec_put_array(w, p->custom_count);
    for (uint32_t i = 0; i < p->custom_count; i++) {
        const xs_policy_category_t *cat = &p->custom[i];
        xs_codec_put_array(w, S_CATEGORY_ITEMS);
        xs_codec_put_uint(w, cat->code);
        s_put_cstr(w, cat->name);
        s_put_cstr(w, cat->label);
        xs_codec_put_uint(w, cat->rule);
        xs_codec_put_uint(w, cat->seconds);
        xs_codec_put_uint(w, cat->same_event);
    }
    xs_codec_put_array(w, p->cap_count);
    for (uint32_t i = 0; i < p->cap_count; i++) {
        const xs_policy_cap_t *cap = &p->caps[i];
        xs_codec_put_array(w, S_CAP_ITEMS);
        s_put_cstr(w, cap->name);
        xs_codec_put_uint(w, cap->period);
        xs_codec_put_uint(w, cap->count);
        s_put_codes(w, cap->categories);
    }
    xs_codec_put_array(w, p->bucket_count);
    for (unsigned b = 0; b < p->bucket_count; b++) {
        const xs_policy_bucket_t *bk = &p->buckets[b];
        xs_codec_put_array(w, S_BUCKET_ITEMS);
        s_put_cstr(w, bk->name);
        s_put_cstr(w, bk->label);
        xs_codec_put_uint(w, bk->all);
        xs_codec_put_array(w, bk->term_count);
        for (uint32_t t = 0; t < bk->term_count; t++) {
            xs_codec_put_array(w, S_TERM_ITEMS);
            xs_codec_put_uint(w, bk->terms[t].category);
            xs_codec_put_uint(w, bk->terms[t].min_level);
            xs_codec_put_uint(w, bk->terms[t].max_level);
        }
        xs_codec_put_uint(w, bk->buckets);
        for (unsigned s = 0; s < XS_SCOPE_COUNT; s++)
            xs_codec_put_uint(w, bk->required_seconds[s]);
        xs_codec_put_uint(w, bk->advisory);
    }
    if (p->single.category == XS_CAT_NONE) {
        xs_codec_put_nil(w);
    } else {
        xs_codec_put_array(w, S_SINGLE_ITEMS);
        xs_codec_put_uint(w, p->single.category);
        xs_codec_put_uint(w, p->single.bucket);
        xs_codec_put_uint(w, p->single.min_seconds);
        s_put_cstr(w, p->single.label);
    }
    if (format < 3)
        return;
    xs_codec_put_uint(w, p->require_review);
    xs_codec_put_array(w, p->role_count);
    for (uint32_t i = 0; i < p->role_count; i++) {
        const xs_policy_role_t *role = &p->roles[i];
        xs_codec_put_array(w, S_ROLE_ITEMS);
        s_put_cstr(w, role->name);
        s_put_cstr(w, role->label);
        xs_codec_put_uint(w, role->period);
        xs_codec_put_uint(w, role->required_seconds);
        s_put_codes(w, role->categories);
        xs_codec_put_uint(w, role->part_seconds);
        s_put_codes(w, role->part_categories);
    }
}

/* Reads a string of at most cap - 1 bytes into a NUL-terminated buffer. Interior NULs and
 * bad UTF-8 are refused here or by s_validate. */
static xs_err s_get_text(xs_reader_t *r, char *dst, size_t cap) {
    const char *s;
    uint32_t len;
    if (xs_codec_get_str(r, &s, &len) != XS_OK || len >= cap || memchr(s, '\0', len))
        return XS_EMALFORMED;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return XS_OK;
}

static xs_err s_get_u32(xs_reader_t *r, uint32_t max, uint32_t *out) {
    uint64_t v;
    if (xs_codec_get_uint(r, &v) != XS_OK || v > max)
        return XS_EMALFORMED;
    *out = (uint32_t)v;
    return XS_OK;
}

static xs_err s_get_u8(xs_reader_t *r, uint8_t *out) {
    uint32_t v;
    if (s_get_u32(r, UINT8_MAX, &v) != XS_OK)
        return XS_EMALFORMED;
    *out = (uint8_t)v;
    return XS_OK;
}

/* An array header of exactly want elements, or of at most max when want is 0. */
static xs_err s_get_array(xs_reader_t *r, uint32_t want, uint32_t max, uint32_t *count) {
    uint32_t n;
    if (xs_codec_get_array(r, &n) != XS_OK || (want && n != want) || (!want && n > max))
        return XS_EMALFORMED;
    if (count)
        *count = n;
    return XS_OK;
}

static xs_err s_get_category(xs_reader_t *r, xs_policy_category_t *cat) {
    if (s_get_array(r, S_CATEGORY_ITEMS, 0, NULL) != XS_OK || s_get_u8(r, &cat->code) != XS_OK ||
        s_get_text(r, cat->name, sizeof cat->name) != XS_OK ||
        s_get_text(r, cat->label, sizeof cat->label) != XS_OK || s_get_u8(r, &cat->rule) != XS_OK ||
        s_get_u32(r, UINT32_MAX, &cat->seconds) != XS_OK || s_get_u8(r, &cat->same_event) != XS_OK)
        return XS_EMALFORMED;
    return XS_OK;
}

/* A set of codes (s_put_codes). Out of order or repeated codes decode, but do not re-encode
 * to the same bytes, so the canonical check refuses them. */
static xs_err s_get_codes(xs_reader_t *r, uint64_t set[XS_POLICY_CODES / 64]) {
    uint32_t n;
    uint8_t code;
    if (s_get_array(r, 0, XS_POLICY_CODES, &n) != XS_OK)
        return XS_EMALFORMED;
    for (uint32_t i = 0; i < n; i++) {
        if (s_get_u8(r, &code) != XS_OK)
            return XS_EMALFORMED;
        s_bit_set(set, code);
    }
    return XS_OK;
}

static xs_err s_get_cap(xs_reader_t *r, xs_policy_cap_t *cap) {
    if (s_get_array(r, S_CAP_ITEMS, 0, NULL) != XS_OK ||
        s_get_text(r, cap->name, sizeof cap->name) != XS_OK || s_get_u8(r, &cap->period) != XS_OK ||
        s_get_u32(r, UINT32_MAX, &cap->count) != XS_OK || s_get_codes(r, cap->categories) != XS_OK)
        return XS_EMALFORMED;
    return XS_OK;
}

static xs_err s_get_role(xs_reader_t *r, xs_policy_role_t *role) {
    if (s_get_array(r, S_ROLE_ITEMS, 0, NULL) != XS_OK ||
        s_get_text(r, role->name, sizeof role->name) != XS_OK ||
        s_get_text(r, role->label, sizeof role->label) != XS_OK ||
        s_get_u8(r, &role->period) != XS_OK ||
        s_get_u32(r, UINT32_MAX, &role->required_seconds) != XS_OK ||
        s_get_codes(r, role->categories) != XS_OK ||
        s_get_u32(r, UINT32_MAX, &role->part_seconds) != XS_OK ||
        s_get_codes(r, role->part_categories) != XS_OK)
        return XS_EMALFORMED;
    return XS_OK;
}

static xs_err s_get_bucket(xs_reader_t *r, xs_policy_bucket_t *bk) {
    if (s_get_array(r, S_BUCKET_ITEMS, 0, NULL) != XS_OK ||
        s_get_text(r, bk->name, sizeof bk->name) != XS_OK ||
        s_get_text(r, bk->label, sizeof bk->label) != XS_OK || s_get_u8(r, &bk->all) != XS_OK ||
        s_get_array(r, 0, XS_POLICY_TERMS_MAX, &bk->term_count) != XS_OK)
        return XS_EMALFORMED;
    for (uint32_t t = 0; t < bk->term_count; t++) {
        xs_policy_term_t *term = &bk->terms[t];
        if (s_get_array(r, S_TERM_ITEMS, 0, NULL) != XS_OK ||
            s_get_u8(r, &term->category) != XS_OK || s_get_u8(r, &term->min_level) != XS_OK ||
            s_get_u8(r, &term->max_level) != XS_OK)
            return XS_EMALFORMED;
    }
    if (s_get_u32(r, UINT32_MAX, &bk->buckets) != XS_OK)
        return XS_EMALFORMED;
    for (unsigned s = 0; s < XS_SCOPE_COUNT; s++)
        if (s_get_u32(r, UINT32_MAX, &bk->required_seconds[s]) != XS_OK)
            return XS_EMALFORMED;
    if (s_get_u8(r, &bk->advisory) != XS_OK)
        return XS_EMALFORMED;
    return XS_OK;
}

xs_err xs_policy_decode(xs_policy_t **out, const void *blob, size_t len) {
    *out = NULL;
    if (len > XS_POLICY_BLOB_MAX)
        return XS_ETOOBIG;
    xs_policy_t *p = malloc(sizeof *p);
    if (!p)
        return XS_ENOMEM;
    memset(p, 0, sizeof *p);
    xs_reader_t r;
    xs_reader_init(&r, blob, len);
    uint32_t count, v;
    uint64_t format;
    int64_t year;
    const char *magic;
    uint32_t magic_len;
    char why[160];
    xs_err err = XS_EMALFORMED;
    if (xs_codec_get_array(&r, &count) != XS_OK || count < 2 ||
        xs_codec_get_str(&r, &magic, &magic_len) != XS_OK || magic_len != strlen(S_MAGIC) ||
        memcmp(magic, S_MAGIC, magic_len) != 0 || xs_codec_get_uint(&r, &format) != XS_OK)
        goto malformed;
    if (format < XS_POLICY_FORMAT_MIN || format > XS_POLICY_FORMAT) {
        err = XS_EVERSION; /* format 1 (minutes, yearly caps) included: recompile its file */
        goto malformed;
    }
    if (count != (format == 3 ? S_BLOB_ITEMS_3 : S_BLOB_ITEMS_2) ||
        s_get_text(&r, p->id, sizeof p->id) != XS_OK ||
        s_get_u32(&r, INT32_MAX, &p->version) != XS_OK ||
        s_get_text(&r, p->name, sizeof p->name) != XS_OK || s_get_array(&r, 4, 0, NULL) != XS_OK ||
        s_get_u8(&r, &p->year_start[0]) != XS_OK || s_get_u8(&r, &p->year_start[1]) != XS_OK ||
        s_get_u8(&r, &p->second_semester[0]) != XS_OK ||
        s_get_u8(&r, &p->second_semester[1]) != XS_OK || xs_codec_get_int(&r, &year) != XS_OK ||
        year < S_YEAR_MIN || year > S_YEAR_MAX ||
        s_get_u32(&r, S_CYCLE_YEARS_MAX, &p->cycle_years) != XS_OK)
        goto malformed;
    p->first_cycle_year = (int32_t)year;
    if (s_get_array(&r, S_PARAM_COUNT, 0, NULL) != XS_OK)
        goto malformed;
    for (size_t i = 0; i < S_PARAM_COUNT; i++) {
        if (s_get_u32(&r, UINT32_MAX, &v) != XS_OK)
            goto malformed;
        *s_param_slot(&p->credit, &s_params[i]) = v;
    }
    if (s_get_array(&r, 0, XS_POLICY_CUSTOM_MAX, &p->custom_count) != XS_OK)
        goto malformed;
    for (uint32_t i = 0; i < p->custom_count; i++)
        if (s_get_category(&r, &p->custom[i]) != XS_OK)
            goto malformed;
    if (s_get_array(&r, 0, XS_POLICY_CAPS_MAX, &p->cap_count) != XS_OK)
        goto malformed;
    for (uint32_t i = 0; i < p->cap_count; i++)
        if (s_get_cap(&r, &p->caps[i]) != XS_OK)
            goto malformed;
    if (s_get_array(&r, 0, XS_POLICY_BUCKETS_MAX, &p->bucket_count) != XS_OK)
        goto malformed;
    for (unsigned b = 0; b < p->bucket_count; b++)
        if (s_get_bucket(&r, &p->buckets[b]) != XS_OK)
            goto malformed;
    if (xs_codec_peek(&r) == XS_CODEC_NIL) {
        if (xs_codec_get_nil(&r) != XS_OK)
            goto malformed;
    } else if (s_get_array(&r, S_SINGLE_ITEMS, 0, NULL) != XS_OK ||
               s_get_u8(&r, &p->single.category) != XS_OK || p->single.category == 0 ||
               s_get_u8(&r, &p->single.bucket) != XS_OK ||
               s_get_u32(&r, UINT32_MAX, &p->single.min_seconds) != XS_OK ||
               s_get_text(&r, p->single.label, sizeof p->single.label) != XS_OK) {
        goto malformed;
    }
    if (format == 3) {
        /* A format-3 blob without roles or review is not canonical: the check below refuses
         * it, since such a policy compiles to format 2. */
        if (s_get_u8(&r, &p->require_review) != XS_OK ||
            s_get_array(&r, 0, XS_POLICY_ROLES_MAX, &p->role_count) != XS_OK)
            goto malformed;
        for (uint32_t i = 0; i < p->role_count; i++)
            if (s_get_role(&r, &p->roles[i]) != XS_OK)
                goto malformed;
    }
    if (xs_reader_left(&r) != 0 || !s_validate(p, why, sizeof why))
        goto malformed;
    /* Only the canonical bytes of a policy are accepted, so one policy has one hash. */
    xs_writer_t w;
    xs_writer_init(&w, XS_POLICY_BLOB_MAX);
    xs_policy_compile(p, &w);
    if (xs_writer_err(&w) != XS_OK) {
        err = xs_writer_err(&w);
    } else if (w.len == len && memcmp(w.data, blob, len) == 0) {
        err = XS_OK;
    }
    xs_writer_free(&w);
    if (err != XS_OK)
        goto malformed;
    *out = p;
    return XS_OK;
malformed:
    free(p);
    return err;
}

xs_err xs_policy_hash(const xs_policy_t *policy, uint8_t out[32]) {
    xs_writer_t w;
    xs_writer_init(&w, XS_POLICY_BLOB_MAX);
    xs_policy_compile(policy, &w);
    xs_err err = xs_writer_err(&w);
    if (err == XS_OK)
        xs_identity_hash(w.data, w.len, out);
    xs_writer_free(&w);
    return err;
}

/* ---- calendar (schema/credit-rules.md §1) ---- */

int xs_policy_year_of(const xs_policy_t *p, int32_t date, unsigned *semester) {
    int y;
    unsigned m, d;
    xs_date_to_civil(date, &y, &m, &d);
    unsigned md = m * 100 + d;
    unsigned ys = p->year_start[0] * 100u + p->year_start[1];
    unsigned ss = p->second_semester[0] * 100u + p->second_semester[1];
    if (semester) {
        /* The second semester runs from ss to the day before ys, possibly across 01-01. */
        int second = ss < ys ? (md >= ss && md < ys) : (md >= ss || md < ys);
        *semester = second ? 2 : 1;
    }
    return md >= ys ? y : y - 1;
}

int32_t xs_policy_semester_start(const xs_policy_t *p, int year, unsigned semester) {
    int32_t first = xs_date_from_civil(year, p->year_start[0], p->year_start[1]);
    if (semester != 2)
        return first;
    int32_t second = xs_date_from_civil(year, p->second_semester[0], p->second_semester[1]);
    if (second <= first)
        second = xs_date_from_civil(year + 1, p->second_semester[0], p->second_semester[1]);
    return second;
}

int xs_policy_cycle_of(const xs_policy_t *p, int year) {
    int span = (int)p->cycle_years;
    int offset = year - p->first_cycle_year;
    int index = offset >= 0 ? offset / span : -((-offset + span - 1) / span);
    return p->first_cycle_year + index * span;
}

/* Writes four digits of year (clamped to 0..9999), as labels carry them. */
static void s_put_year(char *out, int year) {
    unsigned y = year < 0 ? 0u : year > 9999 ? 9999u : (unsigned)year;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
}

/* "YYYY-YYYY" of two years, NUL-terminated, into 10 bytes. */
static void s_put_span(char *out, int from, int to) {
    s_put_year(out, from);
    out[4] = '-';
    s_put_year(out + 5, to);
    out[9] = '\0';
}

void xs_policy_year_label(int year, char out[XS_POLICY_YEAR_LABEL]) {
    s_put_span(out, year, year + 1);
}

void xs_policy_semester_label(int year, unsigned semester, char out[XS_POLICY_SEMESTER_LABEL]) {
    s_put_span(out, year, year + 1);
    out[9] = '-';
    out[10] = semester == 2 ? '2' : '1';
    out[11] = '\0';
}

void xs_policy_cycle_label(const xs_policy_t *p, int cycle_year, char out[XS_POLICY_CYCLE_LABEL]) {
    s_put_span(out, cycle_year, cycle_year + (int)p->cycle_years);
}

size_t xs_policy_bucket_count(const xs_policy_t *p) {
    return p->bucket_count;
}

const char *xs_policy_bucket_name(const xs_policy_t *p, size_t b) {
    return b < p->bucket_count ? p->buckets[b].name : "";
}

const char *xs_policy_bucket_label(const xs_policy_t *p, size_t b) {
    if (b >= p->bucket_count)
        return "";
    return p->buckets[b].label[0] ? p->buckets[b].label : p->buckets[b].name;
}

int xs_policy_bucket_find(const xs_policy_t *p, const char *name, size_t len) {
    for (unsigned b = 0; b < p->bucket_count; b++)
        if (s_is(name, len, p->buckets[b].name))
            return (int)b;
    return -1;
}

uint32_t xs_policy_required_seconds(const xs_policy_t *p, size_t b, xs_scope scope) {
    if (b >= p->bucket_count || (unsigned)scope >= XS_SCOPE_COUNT)
        return 0;
    return p->buckets[b].required_seconds[scope];
}

/* ---- categories under a policy ---- */

xs_reason xs_policy_check(const xs_policy_t *p, const xs_record_t *rec, xs_field *field) {
    unsigned rule = XS_RULE_BUILTIN;
    if (p && p->custom_of[rec->category])
        rule = p->custom[p->custom_of[rec->category] - 1].rule;
    return xs_record_check_rule(rec, rule, field);
}

const char *xs_policy_category_name(const xs_policy_t *p, unsigned code) {
    if (p && code < XS_POLICY_CODES && p->custom_of[code])
        return p->custom[p->custom_of[code] - 1].name;
    return xs_category_name(code);
}

const char *xs_policy_category_label(const xs_policy_t *p, unsigned code) {
    if (p && code < XS_POLICY_CODES && p->custom_of[code])
        return p->custom[p->custom_of[code] - 1].label;
    return xs_category_zh(code);
}

/* 1 when len bytes of s are the English name (ASCII case folded) or the exact label; the
 * first byte rules most out before anything is measured. */
static int s_names_category(const char *s, size_t len, const char *name, const char *label) {
    if (len == 0)
        return 0;
    if ((s[0] | 0x20) == name[0] && s_same_folded(s, len, name))
        return 1;
    return s[0] == label[0] && strlen(label) == len && memcmp(label, s, len) == 0;
}

int xs_policy_category_parse(const xs_policy_t *p, const char *s, size_t len) {
    for (unsigned c = 1; c < XS_CAT_COUNT; c++)
        if (s_names_category(s, len, xs_category_name(c), xs_category_zh(c)))
            return (int)c;
    for (uint32_t i = 0; p && i < p->custom_count; i++) {
        const xs_policy_category_t *cat = &p->custom[i];
        if (s_names_category(s, len, cat->name, cat->label))
            return cat->code;
    }
    return -1;
}

int xs_policy_role_find(const xs_policy_t *p, const char *s, size_t len) {
    for (uint32_t i = 0; i < p->role_count; i++)
        if (s_is(s, len, p->roles[i].name) || s_is(s, len, p->roles[i].label))
            return (int)i;
    return -1;
}
