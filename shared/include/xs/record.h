/* record: the immutable activity fact, its compact msgpack form, and its validation.
 * Normative format: schema/records.md. */
#ifndef XS_RECORD_H
#define XS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"

/* Record format versions (records.md §1): 1 is keys 0..21; 2 adds key 22 (lessons); 3 adds
 * the review kind and keys 23..24 (reviews, verdict). The encoder writes the lowest version
 * that carries a record (3 exactly for a review, which holds keys 23..24, else 2 exactly when
 * lessons is present), so a record without lessons keeps its version-1 bytes. */
#define XS_RECORD_VERSION_FIRST 1
#define XS_RECORD_VERSION 3 /* the highest version this library knows */
/* Largest encoded record accepted anywhere, in bytes. */
#define XS_RECORD_MAX 4096

/* Per-field byte limits for strings (UTF-8). */
#define XS_ID_MAX 64     /* teacher_id, school_id, operator */
#define XS_WORK_MAX 512  /* title of a paper, a project or a unit design */
#define XS_EVENT_MAX 256 /* event name */
#define XS_NOTE_MAX 1024 /* free note, or a correction's reason */
#define XS_REF_MAX 128   /* the office's own row key */

/* A borrowed, unterminated UTF-8 string; ptr may be NULL when len is 0. */
typedef struct xs_str {
    const char *ptr;
    uint32_t len;
} xs_str_t;

typedef enum xs_kind {
    XS_KIND_ACTIVITY = 0,   /* a training activity */
    XS_KIND_CORRECTION = 1, /* voids an earlier record of the same origin */
    XS_KIND_REVIEW = 2,     /* version 3: the school's review (学校审核) of an earlier record of
                               the same origin, named by `reviews`: approved or returned */
} xs_kind;

/* A review's verdict (key 24, records.md §3.6). */
typedef enum xs_verdict {
    XS_VERDICT_NONE = 0,     /* not a review */
    XS_VERDICT_APPROVED = 1, /* 审核通过 */
    XS_VERDICT_RETURNED = 2, /* 退回: `note` says why */
} xs_verdict;

/* Activity categories (schema/credit-rules.md §2); 0 is "none", codes are wire values. Codes
 * 11..255 are categories a county policy defines (records.md §3.2, policy.md §2). */
typedef enum xs_category {
    XS_CAT_NONE = 0,
    XS_CAT_LECTURE = 1,
    XS_CAT_EXTERNAL_TRAINING = 2,
    XS_CAT_ONLINE_TRAINING = 3,
    XS_CAT_RESEARCH_SESSION = 4,
    XS_CAT_OPEN_CLASS = 5,
    XS_CAT_REFLECTION = 6,
    XS_CAT_TEACHING_DESIGN = 7,
    XS_CAT_PAPER = 8,
    XS_CAT_PROJECT = 9,
    XS_CAT_EXAM = 10,
} xs_category;
#define XS_CAT_COUNT 11

typedef enum xs_role {
    XS_ROLE_NONE = 0, /* empty: participant where participant is allowed */
    XS_ROLE_PARTICIPANT = 1,
    XS_ROLE_SPEAKER = 2,
    XS_ROLE_ORGANIZER = 3,
    XS_ROLE_HOST = 4,
    XS_ROLE_MAIN_WRITER = 5,
} xs_role;
#define XS_ROLE_COUNT 6

/* Ordered: a larger code is a higher level. */
typedef enum xs_level {
    XS_LEVEL_NONE = 0,
    XS_LEVEL_SCHOOL = 1,
    XS_LEVEL_COUNTY = 2,
    XS_LEVEL_MUNICIPAL = 3,
    XS_LEVEL_PROVINCIAL = 4,
    XS_LEVEL_NATIONAL = 5,
} xs_level;
#define XS_LEVEL_COUNT 6

typedef enum xs_grade {
    XS_GRADE_NONE = 0,
    XS_GRADE_FIRST = 1, /* 一等奖 */
    XS_GRADE_SECOND = 2,
    XS_GRADE_THIRD = 3,
    XS_GRADE_PUBLISHED = 4, /* 公开发表 */
} xs_grade;
#define XS_GRADE_COUNT 5

/* Fields, in wire-key order (schema/records.md §2). */
typedef enum xs_field {
    XS_F_VERSION = 0,
    XS_F_KIND = 1,
    XS_F_TEACHER_ID = 2,
    XS_F_SCHOOL_ID = 3,
    XS_F_DATE = 4,
    XS_F_CATEGORY = 5,
    XS_F_ROLE = 6,
    XS_F_MINUTES = 7,
    XS_F_HOURS = 8,
    XS_F_DAYS = 9,
    XS_F_CHARS = 10,
    XS_F_UNIT = 11,
    XS_F_LEVEL = 12,
    XS_F_GRADE = 13,
    XS_F_WORK = 14,
    XS_F_EVENT = 15,
    XS_F_SCORE = 16,
    XS_F_NOTE = 17,
    XS_F_OPERATOR = 18,
    XS_F_RECORDED_AT = 19,
    XS_F_REF = 20,
    XS_F_VOIDS = 21,
    XS_F_LESSONS = 22, /* version 2 */
    XS_F_REVIEWS = 23, /* version 3, reviews only */
    XS_F_VERDICT = 24, /* version 3, reviews only */
} xs_field;
#define XS_F_COUNT 25

/* One record. Strings borrow from whatever the record was decoded or parsed from. */
typedef struct xs_record {
    uint8_t version;     /* record format version: 1; 2 when lessons is present; 3 for a
                            review */
    uint8_t kind;        /* xs_kind */
    uint8_t category;    /* xs_category, or 11..255: a category a policy defines */
    uint8_t role;        /* xs_role */
    uint8_t level;       /* xs_level */
    uint8_t grade;       /* xs_grade */
    uint8_t unit;        /* 1: a unit design (单元整体教学设计) */
    uint32_t present;    /* bit (1u << xs_field) set for every field that was given */
    int32_t date;        /* activity date, days since 1970-01-01 */
    uint32_t minutes;    /* attended minutes, 1..1440 */
    uint32_t hours;      /* certificate hours, in hundredths of an hour */
    uint32_t days;       /* training days, in half days */
    uint32_t chars;      /* length of a written work, in characters */
    uint32_t score;      /* exam score, in hundredths of a point */
    uint32_t lessons;    /* lessons (课时数) a unit design covers; version 2 only */
    int64_t recorded_at; /* when the office recorded it, unix seconds */
    uint64_t voids;      /* correction: sequence number of the voided record, same origin */
    uint64_t reviews;    /* review: sequence number of the reviewed record, same origin */
    uint8_t verdict;     /* review: xs_verdict */
    xs_str_t teacher_id, school_id, work, event, note, operator_, ref;
} xs_record_t;

/* Why a record was refused or not credited: a stable English code plus a Chinese phrase. */
typedef enum xs_reason {
    XS_REASON_NONE = 0,
    XS_REASON_UNKNOWN_CATEGORY, /* unknown_category 未知的活动类别 */
    XS_REASON_MISSING_FIELD,    /* missing_field 缺少必填项 */
    XS_REASON_OUT_OF_RANGE,     /* out_of_range 数值超出范围 */
    XS_REASON_BAD_VALUE,        /* bad_value 取值无效 */
    XS_REASON_BAD_DATE,         /* bad_date 日期无效 */
    XS_REASON_FUTURE_DATE,      /* future_date 日期晚于今天 */
    XS_REASON_BAD_ROLE,         /* bad_role 该类别不适用此角色 */
    XS_REASON_BAD_AWARD,        /* bad_award 获奖须县级及以上、一至三等奖 */
    XS_REASON_BAD_PUBLICATION,  /* bad_publication 发表须市级及以上 */
    XS_REASON_TOO_SHORT,        /* too_short 字数不足 */
    XS_REASON_DUPLICATE_EVENT,  /* duplicate_event 同一活动已计 */
    XS_REASON_DUPLICATE_WORK,   /* duplicate_work 同一成果已计 */
    XS_REASON_CAPPED,           /* capped 本学年该类已达上限 */
    XS_REASON_VOIDED,           /* voided 已被更正作废 */
    XS_REASON_OUT_OF_SCOPE,     /* out_of_scope 学校不在本节点范围 */
    XS_REASON_BAD_TARGET,       /* bad_target 更正所指记录不存在 */
    XS_REASON_INCOMPLETE_UNIT,  /* incomplete_unit 单元教学设计须登记题目和课时数 */
    XS_REASON_RETURNED,         /* returned 学校审核退回 (the review's note says why) */
} xs_reason;
#define XS_REASON_COUNT 19

/* Stable English code of a reason ("too_short"); "" for XS_REASON_NONE. */
const char *xs_reason_code(xs_reason reason);
/* Chinese phrase of a reason ("字数不足"); "" for XS_REASON_NONE. */
const char *xs_reason_zh(xs_reason reason);

/* English names used in CSV and on the command line, and Chinese labels for reports.
 * Each returns NULL for a code it does not know. */
const char *xs_category_name(unsigned category);
const char *xs_category_zh(unsigned category);
const char *xs_role_name(unsigned role);
const char *xs_level_name(unsigned level);
const char *xs_grade_name(unsigned grade);
const char *xs_field_name(xs_field field);
/* Chinese labels of roles, levels, grades ("主讲人", "县级", "一等奖") and fields ("角色"). */
const char *xs_role_zh(unsigned role);
const char *xs_level_zh(unsigned level);
const char *xs_grade_zh(unsigned grade);
const char *xs_field_zh(xs_field field);
/* Looks a category up by English name or exact Chinese label of a built-in category; returns
 * the code, or -1 when unknown. */
int xs_category_parse(const char *s, size_t len);
/* Writes the values a field given as a word accepts, for a refusal to name: "参与者/participant、
 * 主讲人/speaker…" for role, level, grade, the built-in categories and unit; "" (0) for
 * any other field. Returns the bytes written, cut at a whole value to fit cap. */
size_t xs_field_allowed(xs_field field, char *out, size_t cap);
/* Writes the roles a built-in category takes ("参与者/participant、主讲人/speaker" for a lecture),
 * or every role for a category that takes any, as xs_field_allowed writes them. */
size_t xs_category_roles(unsigned category, char *out, size_t cap);
int xs_field_parse(const char *s, size_t len);

/* Zeroes rec and sets version (XS_RECORD_VERSION_FIRST) and kind for a new activity. */
void xs_record_init(xs_record_t *rec);

/* Sets one field from user text (CSV cell or command-line value), trimmed; empty text
 * leaves the field absent. Roles, levels and grades are English names (exact case), Chinese
 * labels or their short forms ("主讲", "县", "一等"); unit is 0/1 or 否/是; dates as
 * xs_date_parse reads them. Numbers are exact decimals: hours and score to 0.01, days to 0.5.
 * Strings borrow text. On a bad value returns XS_EINVAL and sets *why. */
XS_MUST_USE xs_err xs_record_set_text(xs_record_t *rec, xs_field field, const char *text,
                                      size_t len, xs_reason *why);

/* How a category a policy defines (policy.md §2) takes its credit. */
typedef enum xs_rule {
    XS_RULE_BUILTIN = 0, /* one of the ten categories of §3.2 */
    XS_RULE_FIXED = 1,   /* fixed hours per record */
    XS_RULE_MINUTES = 2, /* attended minutes */
    XS_RULE_HOURS = 3,   /* certificate hours */
    XS_RULE_DAYS = 4,    /* days × hours per day */
} xs_rule;
#define XS_RULE_COUNT 5

/* Checks rec against schema/credit-rules.md §3.1 (records.md §6): category known, required
 * fields present and in range, date real, category-specific rules. Returns XS_REASON_NONE
 * when valid, else the reason, with the offending field in *field. Does not look at the
 * clock. Same as xs_record_check_rule(rec, XS_RULE_BUILTIN, field). */
xs_reason xs_record_check(const xs_record_t *rec, xs_field *field);

/* Validates rec as xs_record_check does, except that a category code of 11..255 is judged by
 * rule (XS_RULE_BUILTIN: unknown_category): FIXED needs nothing more; MINUTES needs minutes;
 * HOURS needs hours; DAYS needs days; each in the ranges of rule 8. A rule given for a
 * built-in code (1..10) is ignored; a rule of XS_RULE_COUNT or more is unknown_category. */
xs_reason xs_record_check_rule(const xs_record_t *rec, unsigned rule, xs_field *field);

/* Appends rec's msgpack encoding to w (absent fields are omitted), under the lowest version
 * that carries it (3 exactly when reviews or verdict is present, as in every review, else 2
 * exactly when lessons is present, else 1), whatever rec->version says. */
void xs_record_encode(const xs_record_t *rec, xs_writer_t *w);

/* Decodes one record of at most XS_RECORD_MAX bytes from r. Strings in *rec point into r's
 * bytes. Returns XS_EMALFORMED (bad types, unknown or repeated keys, a key of version 2 in a
 * version-1 record, a key of version 3 in an earlier one or in a record that is not a review,
 * over-long or invalid UTF-8 strings) or XS_EVERSION (a version other than 1..3); *rec is then
 * unspecified. */
XS_MUST_USE xs_err xs_record_decode(xs_reader_t *r, xs_record_t *rec);

/* Decodes exactly len bytes as one record (trailing bytes are XS_EMALFORMED). */
XS_MUST_USE xs_err xs_record_decode_bytes(const void *bytes, size_t len, xs_record_t *rec);

#endif
