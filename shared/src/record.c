/* record: names, validation and the msgpack form of one record (schema/records.md). */
#include "xs/record.h"

#include <stdio.h>
#include <string.h>

#include "xs/text.h"

static const char *const s_category_names[XS_CAT_COUNT] = {
    NULL,         "lecture",    "external_training", "online_training", "research_session",
    "open_class", "reflection", "teaching_design",   "paper",           "project",
    "exam",
};
static const char *const s_category_zh[XS_CAT_COUNT] = {
    NULL,       "专题讲座", "集中培训", "远程网络培训", "校本教研活动", "公开课",
    "教学反思", "教学设计", "论文",     "课题研究",     "专业知识考试",
};
static const char *const s_role_names[XS_ROLE_COUNT] = {
    "", "participant", "speaker", "organizer", "host", "main_writer",
};
static const char *const s_level_names[XS_LEVEL_COUNT] = {
    "", "school", "county", "municipal", "provincial", "national",
};
static const char *const s_grade_names[XS_GRADE_COUNT] = {"", "1", "2", "3", "published"};
/* Chinese labels (records.md §3.3–§3.5), then the shorter words people also write. */
static const char *const s_role_zh[XS_ROLE_COUNT] = {
    "", "参与者", "主讲人", "组织者", "主持人", "主要执笔人",
};
static const char *const s_role_short[XS_ROLE_COUNT] = {"",     "参与", "主讲",
                                                        "组织", "主持", "执笔人"};
static const char *const s_level_zh[XS_LEVEL_COUNT] = {
    "", "校级", "县级", "市级", "省级", "国家级",
};
static const char *const s_level_short[XS_LEVEL_COUNT] = {"", "校", "县", "市", "省", "国家"};
static const char *const s_grade_zh[XS_GRADE_COUNT] = {"", "一等奖", "二等奖", "三等奖",
                                                       "公开发表"};
static const char *const s_grade_short[XS_GRADE_COUNT] = {"", "一等", "二等", "三等", "发表"};
static const char *const s_unit_names[3] = {NULL, "0", "1"};
static const char *const s_unit_zh[3] = {NULL, "否", "是"};
static const char *const s_field_zh[XS_F_COUNT] = {
    "格式版本", "种类",     "教师编号", "学校", "日期",   "类别", "角色",     "分钟", "学时",
    "天数",     "字数",     "单元",     "级别", "等级",   "题目", "活动",     "成绩", "备注",
    "登记人",   "登记时间", "编号",     "更正", "课时数", "审核", "审核结论",
};
static const char *const s_field_names[XS_F_COUNT] = {
    "version", "kind",    "teacher_id", "school_id", "date",     "category",    "role",
    "minutes", "hours",   "days",       "chars",     "unit",     "level",       "grade",
    "work",    "event",   "score",      "note",      "operator", "recorded_at", "ref",
    "voids",   "lessons", "reviews",    "verdict",
};
static const struct {
    const char *code, *zh;
} s_reasons[XS_REASON_COUNT] = {
    [XS_REASON_NONE] = {"", ""},
    [XS_REASON_UNKNOWN_CATEGORY] = {"unknown_category", "未知的活动类别"},
    [XS_REASON_MISSING_FIELD] = {"missing_field", "缺少必填项"},
    [XS_REASON_OUT_OF_RANGE] = {"out_of_range", "数值超出范围"},
    [XS_REASON_BAD_VALUE] = {"bad_value", "取值无效"},
    [XS_REASON_BAD_DATE] = {"bad_date", "日期无效"},
    [XS_REASON_FUTURE_DATE] = {"future_date", "日期晚于今天"},
    [XS_REASON_BAD_ROLE] = {"bad_role", "该类别不适用此角色"},
    [XS_REASON_BAD_AWARD] = {"bad_award", "获奖须县级及以上、一至三等奖"},
    [XS_REASON_BAD_PUBLICATION] = {"bad_publication", "公开发表须市级及以上"},
    [XS_REASON_TOO_SHORT] = {"too_short", "字数不足"},
    [XS_REASON_DUPLICATE_EVENT] = {"duplicate_event", "同一活动已计"},
    [XS_REASON_DUPLICATE_WORK] = {"duplicate_work", "同一成果已计"},
    [XS_REASON_CAPPED] = {"capped", "本学年该类已达上限"},
    [XS_REASON_VOIDED] = {"voided", "已被更正作废"},
    [XS_REASON_OUT_OF_SCOPE] = {"out_of_scope", "学校不在本节点范围"},
    [XS_REASON_BAD_TARGET] = {"bad_target", "更正所指记录不存在"},
    [XS_REASON_INCOMPLETE_UNIT] = {"incomplete_unit", "单元教学设计须登记题目和课时数"},
    [XS_REASON_RETURNED] = {"returned", "学校审核退回"},
};

const char *xs_reason_code(xs_reason reason) {
    return (unsigned)reason < XS_REASON_COUNT ? s_reasons[reason].code : "";
}

const char *xs_reason_zh(xs_reason reason) {
    return (unsigned)reason < XS_REASON_COUNT ? s_reasons[reason].zh : "";
}

#define S_NAME(table, count, code) ((unsigned)(code) < (count) ? (table)[code] : NULL)
const char *xs_category_name(unsigned c) {
    return S_NAME(s_category_names, XS_CAT_COUNT, c);
}
const char *xs_category_zh(unsigned c) {
    return S_NAME(s_category_zh, XS_CAT_COUNT, c);
}
const char *xs_role_name(unsigned c) {
    return S_NAME(s_role_names, XS_ROLE_COUNT, c);
}
const char *xs_level_name(unsigned c) {
    return S_NAME(s_level_names, XS_LEVEL_COUNT, c);
}
const char *xs_grade_name(unsigned c) {
    return S_NAME(s_grade_names, XS_GRADE_COUNT, c);
}
const char *xs_field_name(xs_field f) {
    return S_NAME(s_field_names, XS_F_COUNT, f);
}
const char *xs_role_zh(unsigned c) {
    return S_NAME(s_role_zh, XS_ROLE_COUNT, c);
}
const char *xs_level_zh(unsigned c) {
    return S_NAME(s_level_zh, XS_LEVEL_COUNT, c);
}
const char *xs_grade_zh(unsigned c) {
    return S_NAME(s_grade_zh, XS_GRADE_COUNT, c);
}
const char *xs_field_zh(xs_field f) {
    return S_NAME(s_field_zh, XS_F_COUNT, f);
}

/* Index of the name in table[first..count), compared exactly; -1 when absent. */
static int s_lookup(const char *const *table, int first, int count, const char *s, size_t len) {
    for (int i = first; i < count; i++)
        if (table[i] && strlen(table[i]) == len && memcmp(table[i], s, len) == 0)
            return i;
    return -1;
}

int xs_category_parse(const char *s, size_t len) {
    int code = s_lookup(s_category_names, 1, XS_CAT_COUNT, s, len);
    return code >= 0 ? code : s_lookup(s_category_zh, 1, XS_CAT_COUNT, s, len);
}

/* The code of a role, level or grade written as its name, its Chinese label or the label's
 * shorter form; -1 when none. */
static int s_lookup3(const char *const *names, const char *const *zh, const char *const *shorter,
                     int count, const char *s, size_t len) {
    int code = s_lookup(names, 1, count, s, len);
    if (code < 0)
        code = s_lookup(zh, 1, count, s, len);
    return code >= 0 ? code : s_lookup(shorter, 1, count, s, len);
}

/* The roles a built-in category takes (credit-rules.md §3.1), as a bit per xs_role; 0: any. */
static uint32_t s_category_roles(unsigned category) {
#define S_R(r) (1u << (r))
    switch (category) {
    case XS_CAT_LECTURE:
        return S_R(XS_ROLE_PARTICIPANT) | S_R(XS_ROLE_SPEAKER);
    case XS_CAT_RESEARCH_SESSION:
        return S_R(XS_ROLE_PARTICIPANT) | S_R(XS_ROLE_ORGANIZER);
    case XS_CAT_PROJECT:
        return S_R(XS_ROLE_PARTICIPANT) | S_R(XS_ROLE_HOST) | S_R(XS_ROLE_MAIN_WRITER);
    default:
        return 0;
    }
#undef S_R
}

size_t xs_category_roles(unsigned category, char *out, size_t cap) {
    uint32_t roles = s_category_roles(category);
    if (!roles)
        return xs_field_allowed(XS_F_ROLE, out, cap);
    size_t n = 0;
    if (cap)
        out[0] = '\0';
    for (unsigned r = 1; r < XS_ROLE_COUNT && cap; r++) {
        if (!(roles >> r & 1u))
            continue;
        int w = snprintf(out + n, cap - n, "%s%s/%s", n ? "、" : "", s_role_zh[r], s_role_names[r]);
        if (w < 0 || (size_t)w >= cap - n) {
            out[n] = '\0';
            break;
        }
        n += (size_t)w;
    }
    return n;
}

size_t xs_field_allowed(xs_field f, char *out, size_t cap) {
    const char *const *names, *const *zh;
    int count;
    switch (f) {
    case XS_F_ROLE:
        names = s_role_names, zh = s_role_zh, count = XS_ROLE_COUNT;
        break;
    case XS_F_LEVEL:
        names = s_level_names, zh = s_level_zh, count = XS_LEVEL_COUNT;
        break;
    case XS_F_GRADE:
        names = s_grade_names, zh = s_grade_zh, count = XS_GRADE_COUNT;
        break;
    case XS_F_CATEGORY:
        names = s_category_names, zh = s_category_zh, count = XS_CAT_COUNT;
        break;
    case XS_F_UNIT:
        names = s_unit_names, zh = s_unit_zh, count = 3;
        break;
    default:
        if (cap)
            out[0] = '\0';
        return 0;
    }
    size_t n = 0;
    for (int i = 1; i < count && cap; i++) {
        int w = snprintf(out + n, cap - n, "%s%s/%s", i > 1 ? "、" : "", zh[i], names[i]);
        if (w < 0 || (size_t)w >= cap - n) {
            out[n] = '\0';
            break;
        }
        n += (size_t)w;
    }
    return n;
}

int xs_field_parse(const char *s, size_t len) {
    return s_lookup(s_field_names, 0, XS_F_COUNT, s, len);
}

void xs_record_init(xs_record_t *rec) {
    memset(rec, 0, sizeof *rec);
    rec->version = XS_RECORD_VERSION_FIRST;
    rec->kind = XS_KIND_ACTIVITY;
    rec->present = 1u << XS_F_VERSION;
}

#define S_HAS(rec, f) (((rec)->present >> (f)) & 1u)

static uint32_t s_str_max(xs_field f) {
    switch (f) {
    case XS_F_WORK:
        return XS_WORK_MAX;
    case XS_F_EVENT:
        return XS_EVENT_MAX;
    case XS_F_NOTE:
        return XS_NOTE_MAX;
    case XS_F_REF:
        return XS_REF_MAX;
    default:
        return XS_ID_MAX;
    }
}

static xs_str_t *s_str_field(xs_record_t *rec, xs_field f) {
    switch (f) {
    case XS_F_TEACHER_ID:
        return &rec->teacher_id;
    case XS_F_SCHOOL_ID:
        return &rec->school_id;
    case XS_F_WORK:
        return &rec->work;
    case XS_F_EVENT:
        return &rec->event;
    case XS_F_NOTE:
        return &rec->note;
    case XS_F_OPERATOR:
        return &rec->operator_;
    case XS_F_REF:
        return &rec->ref;
    default:
        return NULL;
    }
}

/* Returns the numeric slot of a plain integer field, or NULL. */
static uint32_t *s_u32_field(xs_record_t *rec, xs_field f) {
    switch (f) {
    case XS_F_MINUTES:
        return &rec->minutes;
    case XS_F_HOURS:
        return &rec->hours;
    case XS_F_DAYS:
        return &rec->days;
    case XS_F_CHARS:
        return &rec->chars;
    case XS_F_SCORE:
        return &rec->score;
    case XS_F_LESSONS:
        return &rec->lessons;
    default:
        return NULL;
    }
}

xs_err xs_record_set_text(xs_record_t *rec, xs_field f, const char *text, size_t len,
                          xs_reason *why) {
    xs_text_trim(&text, &len);
    *why = XS_REASON_NONE;
    if (len == 0)
        return XS_OK;
    uint64_t v;
    int code;
    xs_str_t *str = s_str_field(rec, f);
    if (str) {
        if (len > s_str_max(f)) {
            *why = XS_REASON_OUT_OF_RANGE;
            return XS_EINVAL;
        }
        if (!xs_text_utf8_valid(text, len)) {
            *why = XS_REASON_BAD_VALUE;
            return XS_EINVAL;
        }
        str->ptr = text;
        str->len = (uint32_t)len;
        rec->present |= 1u << f;
        return XS_OK;
    }
    switch (f) {
    case XS_F_DATE:
        if (xs_date_parse(text, len, &rec->date) != XS_OK) {
            *why = XS_REASON_BAD_DATE;
            return XS_EINVAL;
        }
        break;
    case XS_F_CATEGORY:
        code = xs_category_parse(text, len);
        if (code < 0) {
            *why = XS_REASON_UNKNOWN_CATEGORY;
            return XS_EINVAL;
        }
        rec->category = (uint8_t)code;
        break;
    case XS_F_ROLE:
        code = s_lookup3(s_role_names, s_role_zh, s_role_short, XS_ROLE_COUNT, text, len);
        if (code < 0)
            goto bad_value;
        rec->role = (uint8_t)code;
        break;
    case XS_F_LEVEL:
        code = s_lookup3(s_level_names, s_level_zh, s_level_short, XS_LEVEL_COUNT, text, len);
        if (code < 0)
            goto bad_value;
        rec->level = (uint8_t)code;
        break;
    case XS_F_GRADE:
        code = s_lookup3(s_grade_names, s_grade_zh, s_grade_short, XS_GRADE_COUNT, text, len);
        if (code < 0)
            goto bad_value;
        rec->grade = (uint8_t)code;
        break;
    case XS_F_UNIT:
        if (len == 1 && (text[0] == '0' || text[0] == '1'))
            rec->unit = (uint8_t)(text[0] - '0');
        else if (len == 3 && memcmp(text, "否", 3) == 0)
            rec->unit = 0;
        else if (len == 3 && memcmp(text, "是", 3) == 0)
            rec->unit = 1;
        else
            goto bad_value;
        break;
    case XS_F_MINUTES:
    case XS_F_CHARS:
    case XS_F_LESSONS:
        if (xs_text_parse_fixed(text, len, 0, UINT32_MAX, &v) != XS_OK)
            goto bad_value;
        *s_u32_field(rec, f) = (uint32_t)v;
        /* The record now needs version 2, as the encoder will write it (records.md §4.1). */
        if (f == XS_F_LESSONS && rec->version < 2)
            rec->version = 2;
        break;
    case XS_F_HOURS:
    case XS_F_SCORE:
        if (xs_text_parse_fixed(text, len, 2, UINT32_MAX, &v) != XS_OK)
            goto bad_value;
        *s_u32_field(rec, f) = (uint32_t)v;
        break;
    case XS_F_DAYS:
        /* Days come in halves: parse tenths and require .0 or .5. */
        if (xs_text_parse_fixed(text, len, 1, (uint64_t)UINT32_MAX * 5, &v) != XS_OK || v % 5 != 0)
            goto bad_value;
        rec->days = (uint32_t)(v / 5);
        break;
    case XS_F_VOIDS:
        if (xs_text_parse_fixed(text, len, 0, UINT64_MAX, &v) != XS_OK)
            goto bad_value;
        rec->voids = v;
        break;
    default:
        /* version, kind and recorded_at are set by the program, never by users; so are a
         * review's reviews and verdict, which no activity may carry (records.md §9). */
        goto bad_value;
    }
    rec->present |= 1u << f;
    return XS_OK;
bad_value:
    *why = XS_REASON_BAD_VALUE;
    return XS_EINVAL;
}

/* Latest date the format carries: 2149-12-31 (xs_date_from_civil(2149, 12, 31)). */
#define S_DATE_MAX 65743

#define S_BIT(f) (1u << (f))
/* The fields each category's credit depends on (schema/credit-rules.md §2, records.md §6). */
static const uint32_t s_uses[XS_CAT_COUNT] = {
    [XS_CAT_LECTURE] = S_BIT(XS_F_MINUTES) | S_BIT(XS_F_ROLE),
    [XS_CAT_EXTERNAL_TRAINING] = S_BIT(XS_F_HOURS) | S_BIT(XS_F_DAYS),
    [XS_CAT_ONLINE_TRAINING] = S_BIT(XS_F_HOURS) | S_BIT(XS_F_LEVEL),
    [XS_CAT_RESEARCH_SESSION] = S_BIT(XS_F_ROLE) | S_BIT(XS_F_EVENT),
    [XS_CAT_REFLECTION] = S_BIT(XS_F_CHARS),
    [XS_CAT_TEACHING_DESIGN] =
        S_BIT(XS_F_CHARS) | S_BIT(XS_F_UNIT) | S_BIT(XS_F_WORK) | S_BIT(XS_F_LESSONS),
    [XS_CAT_PAPER] = S_BIT(XS_F_CHARS) | S_BIT(XS_F_WORK) | S_BIT(XS_F_LEVEL) | S_BIT(XS_F_GRADE),
    [XS_CAT_PROJECT] = S_BIT(XS_F_LEVEL) | S_BIT(XS_F_ROLE) | S_BIT(XS_F_WORK),
    [XS_CAT_EXAM] = S_BIT(XS_F_EVENT) | S_BIT(XS_F_SCORE),
};

/* The one field a policy-defined category's rule needs, or XS_F_VERSION for none
 * (records.md §6, policy.md §2). */
static xs_field s_rule_field(unsigned rule) {
    switch (rule) {
    case XS_RULE_MINUTES:
        return XS_F_MINUTES;
    case XS_RULE_HOURS:
        return XS_F_HOURS;
    case XS_RULE_DAYS:
        return XS_F_DAYS;
    default:
        return XS_F_VERSION;
    }
}

xs_reason xs_record_check(const xs_record_t *rec, xs_field *field) {
    return xs_record_check_rule(rec, XS_RULE_BUILTIN, field);
}

xs_reason xs_record_check_rule(const xs_record_t *rec, unsigned rule, xs_field *field) {
#define S_FAIL(f, r)                                                                               \
    do {                                                                                           \
        *field = (f);                                                                              \
        return (r);                                                                                \
    } while (0)
#define S_NEED(f)                                                                                  \
    do {                                                                                           \
        if (!S_HAS(rec, f))                                                                        \
            S_FAIL(f, XS_REASON_MISSING_FIELD);                                                    \
    } while (0)
/* A required string must also be non-empty: a decoded "" would credit nobody. */
#define S_NEED_STR(f, str)                                                                         \
    do {                                                                                           \
        if (!S_HAS(rec, f) || (str).len == 0)                                                      \
            S_FAIL(f, XS_REASON_MISSING_FIELD);                                                    \
    } while (0)
#define S_RANGE(f, value, lo, hi)                                                                  \
    do {                                                                                           \
        if (S_HAS(rec, f) && ((value) < (lo) || (value) > (hi)))                                   \
            S_FAIL(f, XS_REASON_OUT_OF_RANGE);                                                     \
    } while (0)
    *field = XS_F_VERSION;
    if (rec->version < XS_RECORD_VERSION_FIRST || rec->version > XS_RECORD_VERSION)
        S_FAIL(XS_F_VERSION, XS_REASON_BAD_VALUE);
    if (rec->kind == XS_KIND_CORRECTION) {
        S_NEED(XS_F_VOIDS);
        return XS_REASON_NONE;
    }
    /* A review is a record of kind 2 holding a review's key: only version 3 carries them. */
    int review_keys = (rec->present & (S_BIT(XS_F_REVIEWS) | S_BIT(XS_F_VERDICT))) != 0;
    if (rec->kind == XS_KIND_REVIEW && review_keys) {
        /* records.md §6 rule 3: the reviewed record's teacher, so that it reaches their
         * ledger; the school that reviewed; when; what; and why when returned. */
        S_NEED_STR(XS_F_TEACHER_ID, rec->teacher_id);
        S_NEED_STR(XS_F_SCHOOL_ID, rec->school_id);
        S_NEED(XS_F_DATE);
        if (rec->date < 0 || rec->date > S_DATE_MAX)
            S_FAIL(XS_F_DATE, XS_REASON_BAD_DATE);
        S_NEED(XS_F_REVIEWS);
        if (rec->reviews == 0)
            S_FAIL(XS_F_REVIEWS, XS_REASON_OUT_OF_RANGE);
        S_NEED(XS_F_VERDICT);
        if (rec->verdict != XS_VERDICT_APPROVED && rec->verdict != XS_VERDICT_RETURNED)
            S_FAIL(XS_F_VERDICT, XS_REASON_BAD_VALUE);
        if (rec->verdict == XS_VERDICT_RETURNED)
            S_NEED_STR(XS_F_NOTE, rec->note);
        return XS_REASON_NONE;
    }
    /* Kind 2 without them is the reserved code it was before version 3 (records.md §3.1). */
    if (rec->kind != XS_KIND_ACTIVITY)
        S_FAIL(XS_F_KIND, XS_REASON_BAD_VALUE);
    /* A review's keys on an activity: no decoded record has them (records.md §5 rule 10). */
    if (S_HAS(rec, XS_F_REVIEWS))
        S_FAIL(XS_F_REVIEWS, XS_REASON_BAD_VALUE);
    if (S_HAS(rec, XS_F_VERDICT))
        S_FAIL(XS_F_VERDICT, XS_REASON_BAD_VALUE);
    S_NEED_STR(XS_F_TEACHER_ID, rec->teacher_id);
    S_NEED(XS_F_DATE);
    if (rec->date < 0 || rec->date > S_DATE_MAX)
        S_FAIL(XS_F_DATE, XS_REASON_BAD_DATE);
    S_NEED(XS_F_CATEGORY);
    /* A code of 11..255 is a category a policy defines: only its rule can judge it. */
    int builtin = rec->category >= 1 && rec->category < XS_CAT_COUNT;
    if (rec->category == XS_CAT_NONE ||
        (!builtin && (rule == XS_RULE_BUILTIN || rule >= XS_RULE_COUNT)))
        S_FAIL(XS_F_CATEGORY, XS_REASON_UNKNOWN_CATEGORY);
    xs_field rule_field = builtin ? XS_F_VERSION : s_rule_field(rule);
    /* Fields a category does not use are ignored (schema/credit-rules.md §3.1), so only the
     * used ones are range-checked; with both hours and days, external_training uses the
     * hours, and only a unit design uses work and lessons. */
    uint32_t uses = builtin ? s_uses[rec->category] : S_BIT(XS_F_EVENT);
    if (rule_field != XS_F_VERSION)
        uses |= S_BIT(rule_field);
    if (rec->category == XS_CAT_EXTERNAL_TRAINING && S_HAS(rec, XS_F_HOURS))
        uses &= ~S_BIT(XS_F_DAYS);
    if (rec->category == XS_CAT_TEACHING_DESIGN && rec->unit != 1)
        uses &= ~(S_BIT(XS_F_WORK) | S_BIT(XS_F_LESSONS));
#define S_USED(f) (uses & S_BIT(f))
    if (S_USED(XS_F_ROLE) && rec->role >= XS_ROLE_COUNT)
        S_FAIL(XS_F_ROLE, XS_REASON_BAD_VALUE);
    if (S_USED(XS_F_LEVEL) && rec->level >= XS_LEVEL_COUNT)
        S_FAIL(XS_F_LEVEL, XS_REASON_BAD_VALUE);
    if (S_USED(XS_F_GRADE) && rec->grade >= XS_GRADE_COUNT)
        S_FAIL(XS_F_GRADE, XS_REASON_BAD_VALUE);
    if (S_USED(XS_F_UNIT) && rec->unit > 1)
        S_FAIL(XS_F_UNIT, XS_REASON_BAD_VALUE);
    if (S_USED(XS_F_MINUTES))
        S_RANGE(XS_F_MINUTES, rec->minutes, 1u, 1440u);
    if (S_USED(XS_F_DAYS))
        S_RANGE(XS_F_DAYS, rec->days, 1u, 730u);
    if (S_USED(XS_F_HOURS))
        S_RANGE(XS_F_HOURS, rec->hours, 1u, 100000u);
    if (S_USED(XS_F_CHARS) && rec->chars > 10000000u)
        S_FAIL(XS_F_CHARS, XS_REASON_OUT_OF_RANGE);
    if (S_USED(XS_F_SCORE) && rec->score > 100000u)
        S_FAIL(XS_F_SCORE, XS_REASON_OUT_OF_RANGE);
    if (S_USED(XS_F_LESSONS))
        S_RANGE(XS_F_LESSONS, rec->lessons, 2u, 100u);
#undef S_USED

    if (!builtin) {
        if (rule_field != XS_F_VERSION)
            S_NEED(rule_field);
        return XS_REASON_NONE;
    }
    unsigned role = rec->role;
    switch (rec->category) {
    case XS_CAT_LECTURE:
        S_NEED(XS_F_MINUTES);
        if (role != XS_ROLE_NONE && role != XS_ROLE_PARTICIPANT && role != XS_ROLE_SPEAKER)
            S_FAIL(XS_F_ROLE, XS_REASON_BAD_ROLE);
        break;
    case XS_CAT_EXTERNAL_TRAINING:
        if (!S_HAS(rec, XS_F_HOURS) && !S_HAS(rec, XS_F_DAYS))
            S_FAIL(XS_F_HOURS, XS_REASON_MISSING_FIELD);
        break;
    case XS_CAT_ONLINE_TRAINING:
        S_NEED(XS_F_HOURS);
        break;
    case XS_CAT_RESEARCH_SESSION:
        if (role != XS_ROLE_NONE && role != XS_ROLE_PARTICIPANT && role != XS_ROLE_ORGANIZER)
            S_FAIL(XS_F_ROLE, XS_REASON_BAD_ROLE);
        break;
    case XS_CAT_OPEN_CLASS:
        break;
    case XS_CAT_REFLECTION:
        S_NEED(XS_F_CHARS);
        break;
    case XS_CAT_TEACHING_DESIGN:
        if (rec->unit) {
            /* credit-rules §6.6: a unit design is registered with its title and lessons. */
            if (!S_HAS(rec, XS_F_WORK) || rec->work.len == 0)
                S_FAIL(XS_F_WORK, XS_REASON_INCOMPLETE_UNIT);
            if (!S_HAS(rec, XS_F_LESSONS))
                S_FAIL(XS_F_LESSONS, XS_REASON_INCOMPLETE_UNIT);
        } else {
            S_NEED(XS_F_CHARS);
        }
        break;
    case XS_CAT_PAPER:
        S_NEED(XS_F_CHARS);
        S_NEED_STR(XS_F_WORK, rec->work);
        S_NEED(XS_F_GRADE);
        S_NEED(XS_F_LEVEL);
        if (rec->grade == XS_GRADE_PUBLISHED) {
            if (rec->level < XS_LEVEL_MUNICIPAL)
                S_FAIL(XS_F_LEVEL, XS_REASON_BAD_PUBLICATION);
        } else if (rec->grade == XS_GRADE_NONE) {
            /* A decoded grade 0 is present yet no prize: an award needs grade 1..3. */
            S_FAIL(XS_F_GRADE, XS_REASON_BAD_AWARD);
        } else if (rec->level < XS_LEVEL_COUNTY) {
            S_FAIL(XS_F_LEVEL, XS_REASON_BAD_AWARD);
        }
        break;
    case XS_CAT_PROJECT:
        S_NEED(XS_F_LEVEL);
        S_NEED_STR(XS_F_WORK, rec->work); /* credit-rules §6.7: the project's title */
        if (rec->level < XS_LEVEL_COUNTY)
            S_FAIL(XS_F_LEVEL, XS_REASON_BAD_VALUE);
        if (role != XS_ROLE_NONE && role != XS_ROLE_PARTICIPANT && role != XS_ROLE_HOST &&
            role != XS_ROLE_MAIN_WRITER)
            S_FAIL(XS_F_ROLE, XS_REASON_BAD_ROLE);
        break;
    case XS_CAT_EXAM:
        S_NEED_STR(XS_F_EVENT, rec->event);
        S_NEED(XS_F_SCORE);
        break;
    }
    return XS_REASON_NONE;
#undef S_FAIL
#undef S_NEED
#undef S_NEED_STR
#undef S_RANGE
}

/* Keys 23 and 24: version 3, a review's only (records.md §2). */
#define S_REVIEW_KEYS ((1u << XS_F_REVIEWS) | (1u << XS_F_VERDICT))

void xs_record_encode(const xs_record_t *rec, xs_writer_t *w) {
    xs_record_t copy = *rec;
    uint32_t present = rec->present | (1u << XS_F_VERSION);
    if (rec->kind != XS_KIND_ACTIVITY)
        present |= 1u << XS_F_KIND;
    else
        present &= ~(1u << XS_F_KIND);
    xs_codec_put_map(w, (uint32_t)__builtin_popcount(present));
    for (unsigned f = 0; f < XS_F_COUNT; f++) {
        if (!((present >> f) & 1u))
            continue;
        xs_codec_put_uint(w, f);
        const xs_str_t *str = s_str_field(&copy, (xs_field)f);
        const uint32_t *num = s_u32_field(&copy, (xs_field)f);
        if (str) {
            xs_codec_put_str(w, str->ptr, str->len);
        } else if (num) {
            xs_codec_put_uint(w, *num);
        } else {
            switch ((xs_field)f) {
            case XS_F_VERSION:
                /* The lowest version that carries the record (records.md §4.1). */
                xs_codec_put_uint(w, (present & S_REVIEW_KEYS)          ? 3u
                                     : ((present >> XS_F_LESSONS) & 1u) ? 2u
                                                                        : 1u);
                break;
            case XS_F_KIND:
                xs_codec_put_uint(w, rec->kind);
                break;
            case XS_F_DATE:
                xs_codec_put_int(w, rec->date);
                break;
            case XS_F_CATEGORY:
                xs_codec_put_uint(w, rec->category);
                break;
            case XS_F_ROLE:
                xs_codec_put_uint(w, rec->role);
                break;
            case XS_F_UNIT:
                xs_codec_put_uint(w, rec->unit);
                break;
            case XS_F_LEVEL:
                xs_codec_put_uint(w, rec->level);
                break;
            case XS_F_GRADE:
                xs_codec_put_uint(w, rec->grade);
                break;
            case XS_F_RECORDED_AT:
                xs_codec_put_int(w, rec->recorded_at);
                break;
            case XS_F_VOIDS:
                xs_codec_put_uint(w, rec->voids);
                break;
            case XS_F_REVIEWS:
                xs_codec_put_uint(w, rec->reviews);
                break;
            case XS_F_VERDICT:
                xs_codec_put_uint(w, rec->verdict);
                break;
            default:
                break; /* strings and numbers handled above */
            }
        }
    }
}

xs_err xs_record_decode(xs_reader_t *r, xs_record_t *rec) {
    uint32_t count;
    uint64_t key, u;
    int64_t i;
    const uint8_t *start = r->pos;
    memset(rec, 0, sizeof *rec);
    if (xs_codec_get_map(r, &count) != XS_OK || count > XS_F_COUNT)
        goto malformed;
    for (uint32_t n = 0; n < count; n++) {
        if (xs_codec_get_uint(r, &key) != XS_OK || key >= XS_F_COUNT)
            goto malformed;
        xs_field f = (xs_field)key;
        if (S_HAS(rec, f))
            goto malformed; /* a repeated key */
        rec->present |= 1u << f;
        xs_str_t *str = s_str_field(rec, f);
        uint32_t *num = s_u32_field(rec, f);
        if (str) {
            if (xs_codec_get_str(r, &str->ptr, &str->len) != XS_OK || str->len > s_str_max(f) ||
                !xs_text_utf8_valid(str->ptr, str->len))
                goto malformed;
            continue;
        }
        if (f == XS_F_DATE || f == XS_F_RECORDED_AT) {
            if (xs_codec_get_int(r, &i) != XS_OK)
                goto malformed;
            if (f == XS_F_DATE) {
                if (i < INT32_MIN || i > INT32_MAX)
                    goto malformed;
                rec->date = (int32_t)i;
            } else {
                rec->recorded_at = i;
            }
            continue;
        }
        if (xs_codec_get_uint(r, &u) != XS_OK)
            goto malformed;
        if (num) {
            if (u > UINT32_MAX)
                goto malformed;
            *num = (uint32_t)u;
            continue;
        }
        if (f == XS_F_VOIDS || f == XS_F_REVIEWS) {
            *(f == XS_F_VOIDS ? &rec->voids : &rec->reviews) = u;
            continue;
        }
        if (u > UINT8_MAX)
            goto malformed;
        switch (f) {
        case XS_F_VERSION:
            rec->version = (uint8_t)u;
            break;
        case XS_F_KIND:
            rec->kind = (uint8_t)u;
            break;
        case XS_F_CATEGORY:
            rec->category = (uint8_t)u;
            break;
        case XS_F_ROLE:
            rec->role = (uint8_t)u;
            break;
        case XS_F_UNIT:
            rec->unit = (uint8_t)u;
            break;
        case XS_F_LEVEL:
            rec->level = (uint8_t)u;
            break;
        case XS_F_GRADE:
            rec->grade = (uint8_t)u;
            break;
        case XS_F_VERDICT:
            rec->verdict = (uint8_t)u;
            break;
        default:
            goto malformed;
        }
    }
    if (!S_HAS(rec, XS_F_VERSION))
        goto malformed;
    /* Key 22 is not part of version 1, keys 23 and 24 not of versions 1 and 2 (records.md §5
     * rule 10). */
    if (rec->version == 1 && S_HAS(rec, XS_F_LESSONS))
        goto malformed;
    if (rec->version >= 1 && rec->version <= 2 && (rec->present & S_REVIEW_KEYS))
        goto malformed;
    if (rec->version < XS_RECORD_VERSION_FIRST || rec->version > XS_RECORD_VERSION)
        return XS_EVERSION;
    /* ... and are a review's only. */
    if ((rec->present & S_REVIEW_KEYS) && rec->kind != XS_KIND_REVIEW)
        goto malformed;
    if ((size_t)(r->pos - start) > XS_RECORD_MAX)
        goto malformed;
    return XS_OK;
malformed:
    r->pos = start;
    return XS_EMALFORMED;
}

xs_err xs_record_decode_bytes(const void *bytes, size_t len, xs_record_t *rec) {
    if (len > XS_RECORD_MAX)
        return XS_ETOOBIG;
    xs_reader_t r;
    xs_reader_init(&r, bytes, len);
    xs_err err = xs_record_decode(&r, rec);
    if (err == XS_OK && xs_reader_left(&r) != 0)
        return XS_EMALFORMED;
    return err;
}
