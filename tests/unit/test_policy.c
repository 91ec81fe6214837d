/* test_policy: the shipped policies, the INI reader's refusals, the calendar and the blob. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/policy.h"
#include "xs/text.h"

#define S_ALL 0x7feu /* bits of categories 1..10 */
#define S_CAT(c) (1u << (c))
#define S_H(h) ((uint32_t)(h)*3600u)

static xs_policy_t *s_load(const char *id) {
    char path[512], err[512];
    const char *root = getenv("XS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/schema/policies/%s.ini", root ? root : XS_SOURCE_DIR, id);
    xs_policy_t *p = NULL;
    xs_err rc = xs_policy_load(&p, path, err, sizeof err);
    if (rc != XS_OK)
        fail_msg("%s: %s", path, err);
    return p;
}

static xs_policy_t *s_parse(const char *text) {
    char err[512];
    xs_policy_t *p = NULL;
    xs_err rc = xs_policy_parse(&p, text, strlen(text), "t.ini", err, sizeof err);
    if (rc != XS_OK)
        fail_msg("%s", err);
    return p;
}

static const xs_policy_bucket_t *s_bucket(const xs_policy_t *p, const char *name) {
    int b = xs_policy_bucket_find(p, name, strlen(name));
    if (b < 0)
        fail_msg("no bucket %s", name);
    return &p->buckets[b];
}

/* Bit of the bucket named name in bucket_mask. */
static unsigned s_bit(const xs_policy_t *p, const char *name) {
    int b = xs_policy_bucket_find(p, name, strlen(name));
    if (b < 0)
        fail_msg("no bucket %s", name);
    return 1u << b;
}

/* 1 when the cap holds category code. */
static int s_caps(const xs_policy_cap_t *cap, unsigned code) {
    return (int)((cap->categories[code / 64] >> (code % 64)) & 1u);
}

/* The default caps of credit-rules §6.2: writing (reflection, teaching_design) and paper,
 * one a year each, and nothing else. */
static void s_assert_default_caps(const xs_policy_t *p) {
    assert_int_equal(p->cap_count, 2);
    assert_string_equal(p->caps[0].name, "writing");
    assert_string_equal(p->caps[1].name, "paper");
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(p->caps[i].period, XS_SCOPE_YEAR);
        assert_int_equal(p->caps[i].count, 1);
    }
    for (unsigned c = 0; c < XS_POLICY_CODES; c++) {
        assert_int_equal(s_caps(&p->caps[0], c),
                         c == XS_CAT_REFLECTION || c == XS_CAT_TEACHING_DESIGN);
        assert_int_equal(s_caps(&p->caps[1], c), c == XS_CAT_PAPER);
        unsigned want = c == XS_CAT_REFLECTION || c == XS_CAT_TEACHING_DESIGN ? 1
                        : c == XS_CAT_PAPER                                   ? 2
                                                                              : 0;
        assert_int_equal(p->cap_of[c], want);
    }
}

/* schema/credit-rules.md §4: every shipped policy, with exactly its buckets and requirements. */
static void test_shipped_baiwanzi_total_40h_a_year_200h_a_cycle(void **state) {
    (void)state;
    xs_policy_t *p = s_load("baiwanzi");
    assert_string_equal(p->id, "baiwanzi");
    assert_int_equal(p->version, 2);
    assert_int_equal(p->bucket_count, 1);
    const xs_policy_bucket_t *total = s_bucket(p, "total");
    assert_int_equal(total->members, S_ALL);
    assert_int_equal(total->all, 1);
    assert_int_equal(total->advisory, 0);
    s_assert_default_caps(p); /* written out in the file, with seed 004's line */
    assert_int_equal(p->custom_count, 0);
    for (unsigned c = 1; c < XS_CAT_COUNT; c++)
        for (unsigned l = 0; l < XS_LEVEL_COUNT; l++)
            assert_int_equal(p->bucket_mask[c][l], 1);
    assert_int_equal(p->bucket_mask[11][0], 0);
    assert_int_equal(total->required_seconds[XS_SCOPE_YEAR], S_H(40));
    assert_int_equal(total->required_seconds[XS_SCOPE_SEMESTER], 0);
    assert_int_equal(total->required_seconds[XS_SCOPE_CYCLE], S_H(200));
    assert_int_equal(p->single.category, XS_CAT_NONE);
    xs_policy_destroy(&p);
    assert_null(p);
}

static void test_shipped_dali_school_is_activity_plus_outcome(void **state) {
    (void)state;
    xs_policy_t *p = s_load("dali");
    assert_int_equal(p->bucket_count, 4);
    const xs_policy_bucket_t *network = s_bucket(p, "network");
    const xs_policy_bucket_t *activity = s_bucket(p, "activity");
    const xs_policy_bucket_t *outcome = s_bucket(p, "outcome");
    const xs_policy_bucket_t *school = s_bucket(p, "school");
    assert_int_equal(network->members, S_CAT(XS_CAT_ONLINE_TRAINING));
    assert_int_equal(activity->members, S_CAT(XS_CAT_LECTURE) | S_CAT(XS_CAT_RESEARCH_SESSION) |
                                            S_CAT(XS_CAT_OPEN_CLASS) |
                                            S_CAT(XS_CAT_EXTERNAL_TRAINING));
    assert_int_equal(outcome->members, S_CAT(XS_CAT_REFLECTION) | S_CAT(XS_CAT_TEACHING_DESIGN) |
                                           S_CAT(XS_CAT_PAPER) | S_CAT(XS_CAT_PROJECT) |
                                           S_CAT(XS_CAT_EXAM));
    assert_int_equal(school->categories, 0);
    assert_int_equal(school->members, activity->members | outcome->members);
    assert_int_equal(network->required_seconds[XS_SCOPE_YEAR], S_H(30));
    assert_int_equal(school->required_seconds[XS_SCOPE_YEAR], S_H(50));
    assert_int_equal(activity->required_seconds[XS_SCOPE_SEMESTER], S_H(18));
    assert_int_equal(outcome->required_seconds[XS_SCOPE_SEMESTER], S_H(7));
    assert_int_equal(activity->required_seconds[XS_SCOPE_YEAR], 0);
    for (unsigned b = 0; b < p->bucket_count; b++)
        assert_int_equal(p->buckets[b].required_seconds[XS_SCOPE_CYCLE], 0);
    assert_string_equal(xs_policy_bucket_label(p, 3), "校本研修");
    assert_int_equal(p->version, 2);
    s_assert_default_caps(p);
    assert_int_equal(p->custom_count, 0); /* the county's own categories: an example only */
    assert_int_equal(p->bucket_mask[XS_CAT_EXAM][XS_LEVEL_NONE],
                     s_bit(p, "outcome") | s_bit(p, "school"));
    assert_int_equal(p->bucket_mask[XS_CAT_ONLINE_TRAINING][XS_LEVEL_NATIONAL],
                     s_bit(p, "network"));
    xs_policy_destroy(&p);
}

static void test_shipped_wenzhou_single_90h_external_training(void **state) {
    (void)state;
    xs_policy_t *p = s_load("wenzhou");
    assert_int_equal(p->bucket_count, 2);
    const xs_policy_bucket_t *total = s_bucket(p, "total");
    const xs_policy_bucket_t *school = s_bucket(p, "school");
    assert_int_equal(total->members, S_ALL);
    assert_int_equal(school->members,
                     S_ALL & ~S_CAT(XS_CAT_EXTERNAL_TRAINING) & ~S_CAT(XS_CAT_ONLINE_TRAINING));
    assert_int_equal(total->required_seconds[XS_SCOPE_YEAR], S_H(48));
    assert_int_equal(school->required_seconds[XS_SCOPE_YEAR], S_H(24));
    assert_int_equal(total->required_seconds[XS_SCOPE_CYCLE], S_H(360));
    assert_int_equal(school->required_seconds[XS_SCOPE_CYCLE], S_H(120));
    assert_int_equal(p->single.category, XS_CAT_EXTERNAL_TRAINING);
    assert_int_equal(p->single.min_seconds, S_H(90));
    assert_string_equal(p->buckets[p->single.bucket].name, "total");
    assert_int_equal(p->credit.day_seconds, S_H(8));
    /* Seed 003 "一般不少于48学时": the yearly hours are advisory, the cycle's binding. */
    assert_int_equal(total->advisory, 1u << XS_SCOPE_YEAR);
    assert_int_equal(school->advisory, 1u << XS_SCOPE_YEAR);
    assert_int_equal(p->version, 3);
    s_assert_default_caps(p);
    xs_policy_destroy(&p);
}

/* 1 when the set holds code. */
static int s_in(const uint64_t set[XS_POLICY_CODES / 64], unsigned code) {
    return (int)((set[code / 64] >> (code % 64)) & 1u);
}

/* Seed 003 lines 22 and 24: four roles. Probation training counts toward the role only
 * ("不列入教师周期内专业发展培训学时数"); class-teacher and management training count toward
 * the cycle's total too, not toward school-based training. */
static void test_shipped_wenzhou_roles_of_seed_003(void **state) {
    (void)state;
    xs_policy_t *p = s_load("wenzhou");
    assert_int_equal(p->require_review, 0);
    assert_int_equal(p->custom_count, 4);
    int class_training = xs_policy_category_parse(p, "class_teacher_training", 22);
    int management = xs_policy_category_parse(p, "学校管理培训", strlen("学校管理培训"));
    int probation = xs_policy_category_parse(p, "新任教师培训", strlen("新任教师培训"));
    int practice = xs_policy_category_parse(p, "probation_practice", 18);
    assert_true(class_training > 10 && management > 10 && probation > 10 && practice > 10);
    unsigned total = s_bit(p, "total"), school = s_bit(p, "school");
    for (unsigned l = 0; l < XS_LEVEL_COUNT; l++) {
        assert_int_equal(p->bucket_mask[probation][l], 0);
        assert_int_equal(p->bucket_mask[practice][l], 0);
        assert_int_equal(p->bucket_mask[class_training][l], total);
        assert_int_equal(p->bucket_mask[management][l], total);
        assert_int_equal(p->bucket_mask[XS_CAT_EXTERNAL_TRAINING][l], total);
        assert_int_equal(p->bucket_mask[XS_CAT_LECTURE][l], total | school);
    }
    assert_int_equal(p->role_count, 4);
    static const struct {
        const char *name, *label;
        unsigned period, hours, part_hours;
    } want[] = {
        {"key_teacher", "骨干教师", XS_ROLE_PERIOD_CYCLE, 120, 0},
        {"class_teacher", "班主任", XS_ROLE_PERIOD_CYCLE, 30, 0},
        {"principal", "校长", XS_ROLE_PERIOD_CYCLE, 120, 0},
        {"new_teacher", "新任教师", XS_ROLE_PERIOD_PROBATION, 180, 60},
    };
    const int only[] = {XS_CAT_EXTERNAL_TRAINING, class_training, management, -1};
    for (unsigned r = 0; r < 4; r++) {
        const xs_policy_role_t *role = &p->roles[r];
        assert_string_equal(role->name, want[r].name);
        assert_string_equal(role->label, want[r].label);
        assert_int_equal(role->period, want[r].period);
        assert_int_equal(role->required_seconds, S_H(want[r].hours));
        assert_int_equal(role->part_seconds, S_H(want[r].part_hours));
        assert_int_equal(xs_policy_role_find(p, want[r].name, strlen(want[r].name)), (int)r);
        assert_int_equal(xs_policy_role_find(p, want[r].label, strlen(want[r].label)), (int)r);
        for (unsigned c = 0; c < XS_POLICY_CODES; c++) {
            int in = only[r] >= 0 ? (int)c == only[r] : ((int)c == probation || (int)c == practice);
            assert_int_equal(s_in(role->categories, c), in);
            assert_int_equal(s_in(role->part_categories, c), r == 3 && (int)c == practice);
        }
    }
    assert_int_equal(xs_policy_role_find(p, "教师", strlen("教师")), -1);
    assert_int_equal(xs_policy_role_find(p, "班主任 ", strlen("班主任 ")), -1);
    xs_policy_destroy(&p);
}

static void test_shipped_xinxiang_network_school_16h_80h(void **state) {
    (void)state;
    xs_policy_t *p = s_load("xinxiang");
    const xs_policy_bucket_t *network = s_bucket(p, "network_school");
    const xs_policy_bucket_t *school = s_bucket(p, "school");
    assert_int_equal(network->members, S_CAT(XS_CAT_ONLINE_TRAINING));
    assert_int_equal(school->members, S_ALL); /* online_training below county level too */
    assert_int_equal(network->term_count, 1);
    assert_int_equal(network->terms[0].category, XS_CAT_ONLINE_TRAINING);
    assert_int_equal(network->terms[0].min_level, XS_LEVEL_COUNTY);
    assert_int_equal(network->terms[0].max_level, XS_LEVEL_NATIONAL);
    assert_int_equal(school->term_count, 10);
    assert_int_equal(school->terms[2].category, XS_CAT_ONLINE_TRAINING);
    assert_int_equal(school->terms[2].min_level, XS_LEVEL_NONE);
    assert_int_equal(school->terms[2].max_level, XS_LEVEL_SCHOOL);
    unsigned n = s_bit(p, "network_school"), s = s_bit(p, "school");
    assert_int_equal(p->bucket_mask[XS_CAT_ONLINE_TRAINING][XS_LEVEL_NONE], s);
    assert_int_equal(p->bucket_mask[XS_CAT_ONLINE_TRAINING][XS_LEVEL_SCHOOL], s);
    for (unsigned l = XS_LEVEL_COUNTY; l < XS_LEVEL_COUNT; l++)
        assert_int_equal(p->bucket_mask[XS_CAT_ONLINE_TRAINING][l], n);
    for (unsigned l = 0; l < XS_LEVEL_COUNT; l++)
        assert_int_equal(p->bucket_mask[XS_CAT_LECTURE][l], s);
    /* A level the engine does not know counts as none. */
    assert_int_equal(xs_policy_buckets_of(p, XS_CAT_ONLINE_TRAINING, 9), s);
    assert_int_equal(xs_policy_buckets_of(p, XS_CAT_ONLINE_TRAINING, XS_LEVEL_PROVINCIAL), n);
    assert_int_equal(p->version, 2);
    s_assert_default_caps(p);
    assert_int_equal(network->required_seconds[XS_SCOPE_YEAR], S_H(16));
    assert_int_equal(network->required_seconds[XS_SCOPE_CYCLE], S_H(80));
    assert_int_equal(school->required_seconds[XS_SCOPE_YEAR], 0);
    assert_int_equal(school->required_seconds[XS_SCOPE_CYCLE], 0);
    xs_policy_destroy(&p);
}

/* All four: calendar defaults of schema/credit-rules.md §4. */
static void test_shipped_calendars_start_09_01_02_01_cycle_2021(void **state) {
    (void)state;
    static const char *const ids[] = {"baiwanzi", "dali", "wenzhou", "xinxiang"};
    for (size_t i = 0; i < 4; i++) {
        xs_policy_t *p = s_load(ids[i]);
        assert_string_equal(p->id, ids[i]);
        assert_int_equal(p->year_start[0], 9);
        assert_int_equal(p->year_start[1], 1);
        assert_int_equal(p->second_semester[0], 2);
        assert_int_equal(p->second_semester[1], 1);
        assert_int_equal(p->first_cycle_year, 2021);
        assert_int_equal(p->cycle_years, 5);
        xs_policy_destroy(&p);
    }
}

/* A policy that says nothing of credit gets every value of schema/credit-rules.md §2. */
static void test_defaults_are_credit_rules_section_2(void **state) {
    (void)state;
    xs_policy_t *p = s_parse("[policy]\nid = t\nversion = 3\n[bucket.all_of_it]\n"
                             "categories = all\n");
    const xs_policy_credit_t *c = &p->credit;
    assert_int_equal(p->version, 3);
    assert_int_equal(c->speaker_factor, 4);
    assert_int_equal(c->day_seconds, S_H(8));
    assert_int_equal(c->research_session_seconds, S_H(1));
    assert_int_equal(c->open_class_seconds, S_H(4));
    assert_int_equal(c->reflection_min_chars, 1000);
    assert_int_equal(c->reflection_seconds, S_H(4));
    assert_int_equal(c->design_unit_seconds, S_H(10));
    assert_int_equal(c->design_min_chars, 800);
    assert_int_equal(c->design_seconds, S_H(4));
    assert_int_equal(c->paper_min_chars, 2000);
    assert_int_equal(c->award_seconds[1], S_H(12));
    assert_int_equal(c->award_seconds[2], S_H(8));
    assert_int_equal(c->award_seconds[3], S_H(4));
    assert_int_equal(c->published_seconds[XS_LEVEL_NATIONAL], S_H(16));
    assert_int_equal(c->published_seconds[XS_LEVEL_PROVINCIAL], S_H(14));
    assert_int_equal(c->published_seconds[XS_LEVEL_MUNICIPAL], S_H(12));
    assert_int_equal(c->project_seconds[0][0], S_H(40));
    assert_int_equal(c->project_seconds[0][1], S_H(20));
    assert_int_equal(c->project_seconds[1][0], S_H(30));
    assert_int_equal(c->project_seconds[1][1], S_H(15));
    assert_int_equal(c->exam_seconds[0], S_H(3));
    assert_int_equal(c->exam_seconds[1], S_H(2));
    assert_int_equal(c->exam_seconds[2], S_H(1));
    s_assert_default_caps(p);
    assert_string_equal(p->name, "");
    assert_string_equal(xs_policy_bucket_label(p, 0), "all_of_it");
    xs_policy_destroy(&p);
}

/* Overrides, comments, a byte order mark, CRLF lines, Chinese list separators, forward
 * bucket references and hours with decimals. */
static void test_overrides_and_file_conventions(void **state) {
    (void)state;
    xs_policy_t *p = s_parse("\xef\xbb\xbf; 测试规则\r\n"
                             "# another comment\r\n"
                             "[require.year]   ; requirements before their buckets\r\n"
                             "both = 12.5\r\n"
                             "[policy]\r\n"
                             "id = test-1\r\n"
                             "version = 7\r\n"
                             "name = 测试县 ; 名称\r\n"
                             "year_start = 08-15\r\n"
                             "second_semester_start = 01-20\r\n"
                             "first_cycle_year = 2019\r\n"
                             "cycle_years = 3\r\n"
                             "[credit.lecture]\r\n"
                             "speaker_factor = 2\r\n"
                             "[credit.external_training]\r\n"
                             "hours_per_day = 6.5\r\n"
                             "[credit.reflection]\r\n"
                             "min_chars = 1500\r\n"
                             "[credit.exam]\r\n"
                             "top_hours = 0.01\r\n"
                             "[bucket.both]\r\n"
                             "label = 合计#1\r\n"
                             "buckets = one，two\r\n"
                             "[bucket.one]\r\n"
                             "categories = lecture、 exam\r\n"
                             "[bucket.two]\r\n"
                             "categories = paper , project\r\n");
    assert_string_equal(p->id, "test-1");
    assert_int_equal(p->version, 7);
    assert_string_equal(p->name, "测试县");
    assert_int_equal(p->year_start[0], 8);
    assert_int_equal(p->year_start[1], 15);
    assert_int_equal(p->second_semester[0], 1);
    assert_int_equal(p->second_semester[1], 20);
    assert_int_equal(p->first_cycle_year, 2019);
    assert_int_equal(p->cycle_years, 3);
    assert_int_equal(p->credit.speaker_factor, 2);
    assert_int_equal(p->credit.day_seconds, 23400); /* 6.5 h */
    assert_int_equal(p->credit.reflection_min_chars, 1500);
    assert_int_equal(p->credit.exam_seconds[0], 36); /* 0.01 h */
    const xs_policy_bucket_t *both = s_bucket(p, "both");
    assert_string_equal(both->label, "合计#1"); /* '#' not after a space is text */
    assert_int_equal(both->members, S_CAT(XS_CAT_LECTURE) | S_CAT(XS_CAT_EXAM) |
                                        S_CAT(XS_CAT_PAPER) | S_CAT(XS_CAT_PROJECT));
    assert_int_equal(both->required_seconds[XS_SCOPE_YEAR], 45000); /* 12.5 h */
    xs_policy_destroy(&p);
}

/* Every element of format 2 (policy.md §2): the policy's own categories, caps replaced,
 * removed and added, level filters, advisory requirements, and what they derive. */
static const char s_rich[] =
    "[policy]\nid = t\nversion = 1\n"
    "[bucket.total]\ncategories = all\n"
    "[bucket.online]\ncategories = online_training >= municipal, video\n"
    "[bucket.local]\n"
    "categories = online_training<municipal, case_study>=county, case_study < school\n"
    "[category.case_study]\ncode = 11\nlabel = 案例分析\nrule = fixed\nhours = 2.5\n"
    "same_event = once\n"
    "[category.study_day]\ncode = 200\nlabel = 研修日\nrule = days\n"
    "[category.video]\ncode = 12\nlabel = 视频学习\nrule = minutes\n"
    "[category.certificate]\ncode = 13\nlabel = 证书学习\nrule = hours\n"
    "[cap.outcomes]\ncategories = case_study, teaching_design, paper\ncount = 3\n"
    "[cap.writing]\ncategories = reflection\nperiod = semester\ncount = 2\n"
    "[cap.paper]\ncount = none\n"
    "[require.year]\ntotal = 40\nonline = 10\nadvisory = online\n"
    "[require.semester]\ntotal = 20\nadvisory = total\n"
    "[require.cycle]\ntotal = 200\nlocal = 5\n"
    "[require.single]\ncategory = case_study\nhours = 2.5\nbucket = local\n";

static void test_format_2_elements_parse_to_their_structs(void **state) {
    (void)state;
    xs_policy_t *p = s_parse(s_rich);
    /* Categories of the policy's own, in file order. */
    assert_int_equal(p->custom_count, 4);
    assert_string_equal(p->custom[0].name, "case_study");
    assert_string_equal(p->custom[0].label, "案例分析");
    assert_int_equal(p->custom[0].code, 11);
    assert_int_equal(p->custom[0].rule, XS_RULE_FIXED);
    assert_int_equal(p->custom[0].seconds, 9000); /* 2.5 h */
    assert_int_equal(p->custom[0].same_event, 1);
    assert_int_equal(p->custom[1].code, 200);
    assert_int_equal(p->custom[1].rule, XS_RULE_DAYS);
    assert_int_equal(p->custom[1].seconds, S_H(8)); /* days: 8 h a day unless told */
    assert_int_equal(p->custom[1].same_event, 0);
    assert_int_equal(p->custom[2].rule, XS_RULE_MINUTES);
    assert_int_equal(p->custom[2].seconds, 0);
    assert_int_equal(p->custom[3].rule, XS_RULE_HOURS);
    assert_int_equal(p->custom_of[11], 1);
    assert_int_equal(p->custom_of[200], 2);
    assert_int_equal(p->custom_of[12], 3);
    assert_int_equal(p->custom_of[XS_CAT_LECTURE], 0);
    /* Caps: the defaults first as changed (writing replaced, paper removed), then new ones. */
    assert_int_equal(p->cap_count, 2);
    assert_string_equal(p->caps[0].name, "writing");
    assert_int_equal(p->caps[0].period, XS_SCOPE_SEMESTER);
    assert_int_equal(p->caps[0].count, 2);
    assert_string_equal(p->caps[1].name, "outcomes");
    assert_int_equal(p->caps[1].period, XS_SCOPE_YEAR);
    assert_int_equal(p->caps[1].count, 3);
    for (unsigned c = 0; c < XS_POLICY_CODES; c++) {
        assert_int_equal(s_caps(&p->caps[0], c), c == XS_CAT_REFLECTION);
        assert_int_equal(s_caps(&p->caps[1], c),
                         c == 11 || c == XS_CAT_TEACHING_DESIGN || c == XS_CAT_PAPER);
        unsigned want = c == XS_CAT_REFLECTION                                        ? 1
                        : c == 11 || c == XS_CAT_TEACHING_DESIGN || c == XS_CAT_PAPER ? 2
                                                                                      : 0;
        assert_int_equal(p->cap_of[c], want);
    }
    /* Level filters: ">= level" is level..national, "< level" none..level - 1. */
    const xs_policy_bucket_t *online = s_bucket(p, "online");
    const xs_policy_bucket_t *local = s_bucket(p, "local");
    assert_int_equal(online->term_count, 2);
    assert_int_equal(online->terms[0].category, XS_CAT_ONLINE_TRAINING);
    assert_int_equal(online->terms[0].min_level, XS_LEVEL_MUNICIPAL);
    assert_int_equal(online->terms[0].max_level, XS_LEVEL_NATIONAL);
    assert_int_equal(online->terms[1].category, 12);
    assert_int_equal(online->terms[1].min_level, XS_LEVEL_NONE);
    assert_int_equal(online->terms[1].max_level, XS_LEVEL_NATIONAL);
    assert_int_equal(local->term_count, 3);
    assert_int_equal(local->terms[0].max_level, XS_LEVEL_COUNTY);
    assert_int_equal(local->terms[1].category, 11);
    assert_int_equal(local->terms[1].min_level, XS_LEVEL_COUNTY);
    assert_int_equal(local->terms[2].category, 11);
    assert_int_equal(local->terms[2].min_level, XS_LEVEL_NONE);
    assert_int_equal(local->terms[2].max_level, XS_LEVEL_NONE);
    assert_int_equal(online->members, S_CAT(XS_CAT_ONLINE_TRAINING));
    assert_int_equal(local->members, S_CAT(XS_CAT_ONLINE_TRAINING));
    assert_int_equal(s_bucket(p, "total")->members, S_ALL);
    unsigned t = s_bit(p, "total"), o = s_bit(p, "online"), l = s_bit(p, "local");
    assert_int_equal(p->bucket_mask[XS_CAT_ONLINE_TRAINING][XS_LEVEL_COUNTY], t | l);
    assert_int_equal(p->bucket_mask[XS_CAT_ONLINE_TRAINING][XS_LEVEL_MUNICIPAL], t | o);
    assert_int_equal(p->bucket_mask[11][XS_LEVEL_NONE], t | l);
    assert_int_equal(p->bucket_mask[11][XS_LEVEL_SCHOOL], t); /* neither term */
    assert_int_equal(p->bucket_mask[11][XS_LEVEL_NATIONAL], t | l);
    assert_int_equal(p->bucket_mask[12][XS_LEVEL_SCHOOL], t | o);
    assert_int_equal(p->bucket_mask[200][XS_LEVEL_NONE], t); /* `all` counts custom codes */
    assert_int_equal(p->bucket_mask[201][XS_LEVEL_NONE], 0); /* a code nobody defines */
    /* Advisory requirements, by scope. */
    assert_int_equal(online->advisory, 1u << XS_SCOPE_YEAR);
    assert_int_equal(s_bucket(p, "total")->advisory, 1u << XS_SCOPE_SEMESTER);
    assert_int_equal(local->advisory, 0);
    /* The single requirement may name a category of the policy's own. */
    assert_int_equal(p->single.category, 11);
    assert_int_equal(p->single.min_seconds, 9000);
    xs_policy_destroy(&p);
}

/* Nested buckets carry their levels: a bucket listing another counts what it counts, at the
 * same levels, custom codes included. */
static void test_bucket_mask_follows_nested_buckets(void **state) {
    (void)state;
    xs_policy_t *p = s_parse("[policy]\nid = t\nversion = 1\n"
                             "[bucket.outer]\nbuckets = middle\n"
                             "[bucket.middle]\nbuckets = inner\ncategories = exam\n"
                             "[bucket.inner]\ncategories = online_training >= provincial, own\n"
                             "[category.own]\ncode = 99\nlabel = 自定\nrule = fixed\nhours = 1\n");
    unsigned o = s_bit(p, "outer"), m = s_bit(p, "middle"), i = s_bit(p, "inner");
    assert_int_equal(p->bucket_mask[XS_CAT_ONLINE_TRAINING][XS_LEVEL_PROVINCIAL], o | m | i);
    assert_int_equal(p->bucket_mask[XS_CAT_ONLINE_TRAINING][XS_LEVEL_MUNICIPAL], 0);
    assert_int_equal(p->bucket_mask[99][XS_LEVEL_NONE], o | m | i);
    assert_int_equal(p->bucket_mask[XS_CAT_EXAM][XS_LEVEL_NONE], o | m);
    assert_int_equal(s_bucket(p, "outer")->members,
                     S_CAT(XS_CAT_EXAM) | S_CAT(XS_CAT_ONLINE_TRAINING));
    assert_int_equal(s_bucket(p, "outer")->categories, 0);
    xs_policy_destroy(&p);
}

/* Category lookups: English names in any ASCII case, exact Chinese labels, the policy's own
 * categories only under that policy. */
static void test_category_lookups(void **state) {
    (void)state;
    xs_policy_t *p = s_parse(s_rich);
    assert_int_equal(xs_policy_category_parse(NULL, "lecture", 7), XS_CAT_LECTURE);
    assert_int_equal(xs_policy_category_parse(p, "LeCtUrE", 7), XS_CAT_LECTURE);
    const char *zh = xs_category_zh(XS_CAT_ONLINE_TRAINING);
    assert_int_equal(xs_policy_category_parse(NULL, zh, strlen(zh)), XS_CAT_ONLINE_TRAINING);
    assert_int_equal(xs_policy_category_parse(p, "Case_Study", 10), 11);
    assert_int_equal(xs_policy_category_parse(p, "案例分析", strlen("案例分析")), 11);
    assert_int_equal(xs_policy_category_parse(p, "研修日", strlen("研修日")), 200);
    assert_int_equal(xs_policy_category_parse(NULL, "case_study", 10), -1);
    assert_int_equal(xs_policy_category_parse(p, "case_stud", 9), -1);
    assert_int_equal(xs_policy_category_parse(p, "案例", strlen("案例")), -1);
    assert_int_equal(xs_policy_category_parse(p, "", 0), -1);
    assert_string_equal(xs_policy_category_name(p, 200), "study_day");
    assert_string_equal(xs_policy_category_label(p, 12), "视频学习");
    assert_string_equal(xs_policy_category_name(p, XS_CAT_EXAM), "exam");
    assert_string_equal(xs_policy_category_label(NULL, XS_CAT_ONLINE_TRAINING), zh);
    assert_null(xs_policy_category_name(p, 14));
    assert_null(xs_policy_category_label(p, 255));
    assert_null(xs_policy_category_name(NULL, 11));
    assert_null(xs_policy_category_name(p, 0));
    assert_null(xs_policy_category_name(p, 300));
    xs_policy_destroy(&p);
}

/* xs_policy_check: built-ins as xs_record_check; the policy's own by their rule; any other
 * code unknown_category on the category field. */
static void test_policy_check_by_rule(void **state) {
    (void)state;
    xs_policy_t *p = s_parse(s_rich);
    xs_record_t rec;
    xs_field field;
    xs_record_init(&rec);
    rec.teacher_id = (xs_str_t){"t1", 2};
    rec.date = 20000;
    rec.present |= 1u << XS_F_TEACHER_ID | 1u << XS_F_DATE | 1u << XS_F_CATEGORY;
    rec.category = XS_CAT_OPEN_CLASS;
    assert_int_equal(xs_policy_check(p, &rec, &field), XS_REASON_NONE);
    assert_int_equal(xs_policy_check(NULL, &rec, &field), XS_REASON_NONE);
    rec.category = 11; /* fixed: needs nothing more */
    assert_int_equal(xs_policy_check(p, &rec, &field), XS_REASON_NONE);
    assert_int_equal(xs_policy_check(NULL, &rec, &field), XS_REASON_UNKNOWN_CATEGORY);
    assert_int_equal(field, XS_F_CATEGORY);
    rec.category = 12; /* minutes */
    assert_int_equal(xs_policy_check(p, &rec, &field), XS_REASON_MISSING_FIELD);
    assert_int_equal(field, XS_F_MINUTES);
    rec.minutes = 90;
    rec.present |= 1u << XS_F_MINUTES;
    assert_int_equal(xs_policy_check(p, &rec, &field), XS_REASON_NONE);
    rec.category = 13; /* hours */
    assert_int_equal(xs_policy_check(p, &rec, &field), XS_REASON_MISSING_FIELD);
    assert_int_equal(field, XS_F_HOURS);
    rec.category = 200; /* days */
    assert_int_equal(xs_policy_check(p, &rec, &field), XS_REASON_MISSING_FIELD);
    assert_int_equal(field, XS_F_DAYS);
    static const unsigned unknown[] = {14, 99, 201, 255};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        rec.category = (uint8_t)unknown[i];
        field = XS_F_VERSION;
        assert_int_equal(xs_policy_check(p, &rec, &field), XS_REASON_UNKNOWN_CATEGORY);
        assert_int_equal(field, XS_F_CATEGORY);
    }
    xs_policy_destroy(&p);
}

/* Each malformed policy is refused whole, with "file:line: reason". */
static void test_parse_errors_name_file_and_line(void **state) {
    (void)state;
    static const char head[] = "[policy]\nid = t\nversion = 1\n[bucket.total]\ncategories = all\n";
    static const struct {
        const char *body; /* appended to head (lines 1-5) unless it starts with '!' */
        const char *where;
        const char *says; /* a part of the reason */
    } cases[] = {
        {"[credit.paper]\nmin_chars = 2000\nmin_words = 3\n", "t.ini:8: ", "unknown key"},
        {"[credit.poem]\n", "t.ini:6: ", "unknown category"},
        {"[reward]\n", "t.ini:6: ", "unknown section"},
        {"[credit.reflection]\nhours = four\n", "t.ini:7: ", "not a number of hours"},
        {"[credit.reflection]\nhours = 4.125\n", "t.ini:7: ", "at most 2 decimals"},
        {"[credit.reflection]\nmin_chars = -3\n", "t.ini:7: ", "not a whole number"},
        {"[credit.reflection]\nmin_chars = 20000000\n", "t.ini:7: ", "out of range"},
        {"[credit.reflection]\nhours = 0\n", "t.ini:7: ", "out of range"},
        {"[credit.reflection]\nyearly_cap = 1\n",
         "t.ini:7: ", "yearly_cap was removed in policy version 2: write a [cap.<name>] section"},
        {"[bucket.x]\ncategories = lecture, poem\n", "t.ini:7: ", "unknown category): poem"},
        {"[bucket.x]\ncategories = lecture,, exam\n", "t.ini:7: ", "empty item"},
        {"[bucket.x]\ncategories = all, exam\n", "t.ini:7: ", "stands alone"},
        {"[bucket.x]\ncategories = all, all\n", "t.ini:7: ", "stands alone"}, /* §1: no repeats */
        {"[bucket.x]\ncategories = exam, exam\n", "t.ini:7: ", "listed twice"},
        {"[bucket.x]\nbuckets = nowhere\n", "t.ini:7: ", "no such bucket): nowhere"},
        {"[require.year]\nnowhere = 3\n", "t.ini:7: ", "no such bucket): nowhere"},
        {"[bucket.a]\nbuckets = b\n[bucket.b]\nlabel = B\nbuckets = a\n", "t.ini:10: ", "circle"},
        {"[bucket.a]\nbuckets = a\n", "t.ini:7: ", "circle"},
        {"[bucket.lecture]\n", "t.ini:6: ", "bucket names"},
        {"[bucket.empty]\nlabel = 空\n", "t.ini:6: ", "counts no category"},
        {"[bucket.Total]\n", "t.ini:6: ", "bucket names"},
        {"[bucket.total]\n", "t.ini:6: ", "section repeated"},
        {"[policy]\n", "t.ini:6: ", "section repeated"},
        {"[require.year]\ntotal = 1\ntotal = 2\n", "t.ini:8: ", "key repeated"},
        {"[require.year]\ntotal =\n", "t.ini:7: ", "empty value"},
        {"[require.year]\ntotal 40\n", "t.ini:7: ", "expected key = value"},
        {"[require.year\n", "t.ini:6: ", "without ']'"},
        {"[policy2]\n", "t.ini:6: ", "unknown section"},
        {"!id = t\n[policy]\n", "t.ini:1: ", "before any [section]"},
        {"![policy]\nversion = 1\n[bucket.total]\ncategories = all\n", "t.ini:1: ", "missing id"},
        {"!# no policy at all\n[bucket.total]\ncategories = all\n", "t.ini:1: ", "missing id"},
        {"!\n\n[policy]\nid = t\n[bucket.total]\ncategories = all\n",
         "t.ini:3: ", "missing version"},
        {"![policy]\nid = t\nversion = 1\n", "t.ini:3: ", "no [bucket.<name>]"},
        {"![policy]\nid = T\n", "t.ini:2: ", "id is"},
        {"![policy]\nid = t\nversion = 0\n", "t.ini:3: ", "out of range"},
        {"![policy]\nid = t\nversion = 1\nyear_start = 02-29\n", "t.ini:4: ", "no such day"},
        {"![policy]\nid = t\nversion = 1\nyear_start = 9-1\n", "t.ini:4: ", "MM-DD"},
        {"![policy]\nid = t\nversion = 1\nyear_start = 02-01\n[bucket.total]\n"
         "categories = all\n",
         "t.ini:4: ", "equals year_start"},
        {"![policy]\nid = t\nversion = 1\ncycle_years = 11\n", "t.ini:4: ", "out of range"},
        {"![policy]\nid = t\nversion = 1\nfirst_cycle_year = 1969\n", "t.ini:4: ", "out of range"},
        {"![policy]\nid = t\nname = \xe6\xb5\x8b\xff\n", "t.ini:3: ", "not UTF-8"},
        {"[require.single]\ncategory = external_training\nhours = 90\nbucket = total\n",
         "t.ini:9: ", "no [require.cycle] entry"},
        {"[require.cycle]\ntotal = 1\n[require.single]\ncategory = external_training\n",
         "t.ini:8: ", "needs category, hours and bucket"},
        {"[bucket.x]\ncategories = lecture\n[require.cycle]\nx = 1\n[require.single]\n"
         "category = exam\nhours = 1\nbucket = x\n",
         "t.ini:13: ", "does not count exam"},
        /* Format 2 (policy.md §2): caps, categories, level filters, advisory. */
        {"[cap.more]\ncategories = paper\ncount = 2\n",
         "t.ini:7: ", "category paper is in two caps: paper and more"},
        {"[cap.writing]\ncategories = reflection, paper\ncount = 1\n",
         "t.ini:7: ", "category paper is in two caps"},
        {"[cap.x]\ncategories = exam, exam\ncount = 1\n", "t.ini:7: ", "listed twice"},
        {"[cap.x]\ncategories = poem\ncount = 1\n", "t.ini:7: ", "unknown category): poem"},
        {"[cap.x]\ncategories = exam\n", "t.ini:6: ", "needs categories and count"},
        {"[cap.x]\ncount = none\n", "t.ini:7: ", "removes a default cap"},
        {"[cap.paper]\ncategories = paper\ncount = none\n", "t.ini:7: ", "lists no categories"},
        {"[cap.x]\ncategories = exam\ncount = 0\n", "t.ini:8: ", "out of range 1..1000"},
        {"[cap.x]\ncategories = exam\ncount = 1\nperiod = month\n",
         "t.ini:9: ", "period is year or semester"},
        {"[cap.X]\n", "t.ini:6: ", "cap names"},
        {"[category.a]\ncode = 11\nlabel = 甲\nrule = minutes\n[category.b]\ncode = 11\n",
         "t.ini:11: ", "code 11 is category a's already"},
        {"[category.a]\ncode = 10\n", "t.ini:7: ", "out of range 11..255"},
        {"[category.a]\ncode = 256\n", "t.ini:7: ", "out of range 11..255"},
        {"[category.a]\nlabel = 专题讲座\n",
         "t.ini:7: ", "label 专题讲座 is built-in category lecture's"},
        {"[category.a]\ncode = 11\nlabel = 甲\nrule = minutes\n[category.b]\nlabel = 甲\n",
         "t.ini:11: ", "label 甲 is category a's already"},
        {"[category.a]\ncode = 11\nlabel = Exam\nrule = minutes\n",
         "t.ini:8: ", "label is the name of category exam"},
        {"[category.a]\ncode = 11\nlabel = 甲\n", "t.ini:6: ", "needs code, label and rule"},
        {"[category.a]\ncode = 11\nlabel = 甲\nrule = fixed\n",
         "t.ini:6: ", "rule fixed needs hours"},
        {"[category.a]\ncode = 11\nlabel = 甲\nrule = minutes\nhours = 2\n",
         "t.ini:10: ", "take no hours"},
        {"[category.a]\ncode = 11\nlabel = 甲\nrule = days\nhours = 25\n",
         "t.ini:10: ", "hours per day out of range"},
        {"[category.a]\nrule = weekly\n", "t.ini:7: ", "rule is fixed, minutes, hours or days"},
        {"[category.a]\nsame_event = twice\n", "t.ini:7: ", "same_event takes only"},
        {"[category.lecture]\n", "t.ini:6: ", "category names"},
        {"[category.all]\n", "t.ini:6: ", "category names"},
        {"[category.a]\n[category.a]\n", "t.ini:7: ", "section repeated"},
        {"[category.total]\ncode = 11\nlabel = 甲\nrule = minutes\n",
         "t.ini:4: ", "bucket total has the name of a category"},
        {"[credit.case_study]\n", "t.ini:6: ", "[category.<name>]"},
        {"[bucket.x]\ncategories = online_training > county\n", "t.ini:7: ", "bad level filter"},
        {"[bucket.x]\ncategories = online_training <= county\n", "t.ini:7: ", "bad level filter"},
        {"[bucket.x]\ncategories = online_training >= city\n", "t.ini:7: ", "bad level filter"},
        {"[bucket.x]\ncategories = online_training >= none\n", "t.ini:7: ", "bad level filter"},
        {"[bucket.x]\ncategories = >= county\n", "t.ini:7: ", "bad level filter"},
        {"[bucket.x]\ncategories = all >= county\n", "t.ini:7: ", "bad level filter"},
        {"[bucket.x]\ncategories = online_training >= county >= national\n",
         "t.ini:7: ", "bad level filter"},
        {"[bucket.x]\ncategories = poem >= county\n", "t.ini:7: ", "unknown category): poem"},
        {"[bucket.x]\ncategories = online_training >= county, online_training >= national\n",
         "t.ini:7: ", "overlapping levels"},
        {"[bucket.x]\ncategories = online_training < municipal, online_training >= county\n",
         "t.ini:7: ", "overlapping levels"},
        {"[bucket.x]\ncategories = exam\ncategories = lecture\n", "t.ini:8: ", "key repeated"},
        {"[require.year]\nadvisory = total\n",
         "t.ini:7: ", "advisory bucket total has no requirement"},
        {"[require.year]\ntotal = 1\n[require.cycle]\ntotal = 2\nadvisory = nowhere\n",
         "t.ini:10: ", "no such bucket): nowhere"},
        {"[require.year]\ntotal = 1\nadvisory = total, total\n", "t.ini:8: ", "listed twice"},
        {"[bucket.advisory]\n", "t.ini:6: ", "bucket names"},
        {"[require.cycle]\ntotal = 1\n[require.single]\ncategory = own\nhours = 1\nbucket = "
         "total\n",
         "t.ini:9: ", "unknown category): own"},
        {"[bucket.x]\ncategories = online_training\n[category.own]\ncode = 11\nlabel = 甲\n"
         "rule = minutes\n[require.cycle]\nx = 1\n[require.single]\ncategory = own\n"
         "hours = 1\nbucket = x\n",
         "t.ini:17: ", "does not count own"},
        /* School review and role requirements (policy.md §2). */
        {"![policy]\nid = t\nversion = 1\nrequire_review = maybe\n",
         "t.ini:4: ", "require_review is yes or no"},
        {"[role.x]\nlabel = 甲\n", "t.ini:6: ", "needs label, categories and hours"},
        {"[role.x]\ncategories = exam\nhours = 1\n", "t.ini:6: ", "needs label"},
        {"[role.X]\n", "t.ini:6: ", "role names"},
        {"[role.x]\n[role.x]\n", "t.ini:7: ", "section repeated"},
        {"[role.x]\nperiod = month\n", "t.ini:7: ", "period is year, cycle or probation"},
        {"[role.x]\nhours = 0\n", "t.ini:7: ", "out of range"},
        {"[role.x]\nhours = 10000.01\n", "t.ini:7: ", "out of range"},
        {"[role.x]\nyears = 2\n", "t.ini:7: ", "unknown key"},
        {"[role.x]\nlabel = 一二三四五六七八九十一\n", "t.ini:7: ", "at most 32 bytes"},
        {"[role.x]\nlabel = 班主任、校长\n", "t.ini:7: ", "no list separator"},
        {"[role.x]\nlabel = a,b\n", "t.ini:7: ", "no list separator"},
        {"[role.x]\nlabel = 班主任；校长\n", "t.ini:7: ", "no list separator"},
        {"[role.x]\nlabel = 班主任;校长\n", "t.ini:7: ", "no list separator"},
        {"[role.a]\nlabel = 甲\ncategories = exam\nhours = 1\n[role.b]\nlabel = 甲\n",
         "t.ini:11: ", "label 甲 is role a's already"},
        {"[role.a]\nlabel = b\ncategories = exam\nhours = 1\n[role.b]\nlabel = 乙\n"
         "categories = exam\nhours = 1\n",
         "t.ini:7: ", "label is the name of role b"},
        {"[role.a]\nlabel = 甲\ncategories = poem\nhours = 1\n",
         "t.ini:8: ", "unknown category): poem"},
        {"[role.a]\nlabel = 甲\ncategories = online_training >= county\nhours = 1\n",
         "t.ini:8: ", "unknown category"},
        {"[role.a]\nlabel = 甲\ncategories = exam, 教师专业知识考试\nhours = 1\n",
         "t.ini:8: ", "unknown category"},
        {"[role.a]\nlabel = 甲\ncategories = exam, exam\nhours = 1\n", "t.ini:8: ", "listed twice"},
        {"[role.a]\nlabel = 甲\ncategories = exam\nhours = 1\npart_hours = 1\n",
         "t.ini:10: ", "part_categories and part_hours go together"},
        {"[role.a]\nlabel = 甲\ncategories = exam\nhours = 1\npart_categories = exam\n",
         "t.ini:10: ", "part_categories and part_hours go together"},
        {"[role.a]\nlabel = 甲\ncategories = exam\nhours = 1\npart_categories = lecture\n"
         "part_hours = 1\n",
         "t.ini:10: ", "part category lecture is not one of the role's categories"},
        {"[role.a]\nlabel = 甲\ncategories = exam, lecture\nhours = 1\n"
         "part_categories = lecture\npart_hours = 2\n",
         "t.ini:11: ", "part_hours exceeds the role's hours"},
        {"[role.r1]\n[role.r2]\n[role.r3]\n[role.r4]\n[role.r5]\n[role.r6]\n[role.r7]\n"
         "[role.r8]\n[role.r9]\n[role.r10]\n[role.r11]\n[role.r12]\n[role.r13]\n"
         "[role.r14]\n[role.r15]\n[role.r16]\n[role.r17]\n",
         "t.ini:22: ", "more than 16 roles"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048], err[512];
        if (cases[i].body[0] == '!')
            snprintf(text, sizeof text, "%s", cases[i].body + 1);
        else
            snprintf(text, sizeof text, "%s%s", head, cases[i].body);
        xs_policy_t *p = (xs_policy_t *)1;
        xs_err rc = xs_policy_parse(&p, text, strlen(text), "t.ini", err, sizeof err);
        if (rc != XS_EPOLICY || p != NULL || strncmp(err, cases[i].where, strlen(cases[i].where)) ||
            !strstr(err, cases[i].says))
            fail_msg("case %zu: rc %d, message \"%s\"; want \"%s...%s\"", i, rc, err,
                     cases[i].where, cases[i].says);
    }
}

static void test_missing_file_is_named_and_huge_text_too_big(void **state) {
    (void)state;
    char err[512];
    xs_policy_t *p = NULL;
    assert_int_equal(xs_policy_load(&p, "/nonexistent/x.ini", err, sizeof err), XS_ENOTFOUND);
    assert_null(p);
    assert_non_null(strstr(err, "/nonexistent/x.ini"));
    assert_int_equal(strncmp(err, "找不到认定规则文件", strlen("找不到认定规则文件")), 0);
    char *big = test_calloc(XS_POLICY_FILE_MAX + 1, 1);
    memset(big, '\n', XS_POLICY_FILE_MAX + 1);
    assert_int_equal(xs_policy_parse(&p, big, XS_POLICY_FILE_MAX + 1, "big.ini", err, sizeof err),
                     XS_ETOOBIG);
    assert_null(p);
    test_free(big);
}

static int32_t s_day(const char *text) {
    int32_t d;
    assert_int_equal(xs_date_parse(text, strlen(text), &d), XS_OK);
    return d;
}

/* 08-31 is the last day of an academic year, 09-01 the first; 01-31 is in semester 1,
 * 02-01 starts semester 2; cycle 2021-2026 is five academic years. */
static void test_calendar_boundaries_08_31_09_01_01_31_02_01(void **state) {
    (void)state;
    xs_policy_t *p = s_load("baiwanzi");
    static const struct {
        const char *date;
        int year;
        unsigned semester;
        const char *label;
    } days[] = {
        {"2025-08-31", 2024, 2, "2024-2025-2"}, {"2025-09-01", 2025, 1, "2025-2026-1"},
        {"2025-12-31", 2025, 1, "2025-2026-1"}, {"2026-01-01", 2025, 1, "2025-2026-1"},
        {"2026-01-31", 2025, 1, "2025-2026-1"}, {"2026-02-01", 2025, 2, "2025-2026-2"},
        {"2024-02-29", 2023, 2, "2023-2024-2"}, {"2021-09-01", 2021, 1, "2021-2022-1"},
    };
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        unsigned sem = 0;
        char label[XS_POLICY_SEMESTER_LABEL];
        int year = xs_policy_year_of(p, s_day(days[i].date), &sem);
        xs_policy_semester_label(year, sem, label);
        if (year != days[i].year || sem != days[i].semester || strcmp(label, days[i].label))
            fail_msg("%s: %d-%u %s", days[i].date, year, sem, label);
    }
    char label[XS_POLICY_CYCLE_LABEL];
    xs_policy_year_label(2025, label);
    assert_string_equal(label, "2025-2026");
    assert_int_equal(xs_policy_cycle_of(p, 2021), 2021);
    assert_int_equal(xs_policy_cycle_of(p, 2025), 2021);
    assert_int_equal(xs_policy_cycle_of(p, 2026), 2026);
    assert_int_equal(xs_policy_cycle_of(p, 2020), 2016);
    assert_int_equal(xs_policy_cycle_of(p, 2016), 2016);
    assert_int_equal(xs_policy_cycle_of(p, 2015), 2011);
    xs_policy_cycle_label(p, 2021, label);
    assert_string_equal(label, "2021-2026");
    xs_policy_cycle_label(p, 2026, label);
    assert_string_equal(label, "2026-2031");
    assert_int_equal(xs_policy_semester_start(p, 2025, 1), s_day("2025-09-01"));
    assert_int_equal(xs_policy_semester_start(p, 2025, 2), s_day("2026-02-01"));
    xs_policy_destroy(&p);

    /* A second semester that starts in the same calendar year as the academic year. */
    p = s_parse("[policy]\nid = t\nversion = 1\nyear_start = 01-10\n"
                "second_semester_start = 07-01\n[bucket.b]\ncategories = all\n");
    unsigned sem;
    assert_int_equal(xs_policy_year_of(p, s_day("2025-01-09"), &sem), 2024);
    assert_int_equal(sem, 2);
    assert_int_equal(xs_policy_year_of(p, s_day("2025-01-10"), &sem), 2025);
    assert_int_equal(sem, 1);
    assert_int_equal(xs_policy_year_of(p, s_day("2025-06-30"), &sem), 2025);
    assert_int_equal(sem, 1);
    assert_int_equal(xs_policy_year_of(p, s_day("2025-07-01"), &sem), 2025);
    assert_int_equal(sem, 2);
    assert_int_equal(xs_policy_semester_start(p, 2025, 2), s_day("2025-07-01"));
    xs_policy_destroy(&p);
}

static void s_compile(const xs_policy_t *p, xs_writer_t *w) {
    xs_writer_init(w, XS_POLICY_BLOB_MAX);
    xs_policy_compile(p, w);
    assert_int_equal(xs_writer_err(w), XS_OK);
}

/* compile → decode → compile gives the same bytes and hash, for every shipped policy. */
static void test_compile_decode_compile_is_byte_identical(void **state) {
    (void)state;
    static const char *const ids[] = {"baiwanzi", "dali", "wenzhou", "xinxiang"};
    uint8_t hashes[4][32];
    for (size_t i = 0; i < 4; i++) {
        xs_policy_t *p = s_load(ids[i]), *q = NULL;
        xs_writer_t w1, w2;
        s_compile(p, &w1);
        assert_int_equal(xs_policy_decode(&q, w1.data, w1.len), XS_OK);
        s_compile(q, &w2);
        assert_int_equal(w1.len, w2.len);
        assert_memory_equal(w1.data, w2.data, w1.len);
        assert_memory_equal(p, q, sizeof *p);
        uint8_t h1[32], h2[32];
        assert_int_equal(xs_policy_hash(p, h1), XS_OK);
        assert_int_equal(xs_policy_hash(q, h2), XS_OK);
        assert_memory_equal(h1, h2, 32);
        memcpy(hashes[i], h1, 32);
        for (size_t j = 0; j < i; j++)
            assert_memory_not_equal(hashes[j], h1, 32);
        xs_writer_free(&w1);
        xs_writer_free(&w2);
        xs_policy_destroy(&p);
        xs_policy_destroy(&q);
    }
}

/* The golden policy of schema/policy.md §4: a cap, a category of its own, a level filter and
 * an advisory requirement. */
static const char s_golden_text[] = "[policy]\nid = g\nversion = 2\nname = 试\n"
                                    "[category.case_study]\ncode = 11\nlabel = 案例\n"
                                    "rule = fixed\nhours = 2\n"
                                    "[cap.case]\ncategories = case_study\ncount = 2\n"
                                    "[bucket.t]\nlabel = 总\n"
                                    "categories = lecture, online_training >= county, case_study\n"
                                    "[require.year]\nt = 1\nadvisory = t\n";

/* Frozen layout of schema/policy.md §4: the golden policy's blob, byte for byte, and its
 * BLAKE2b-256 (both computed independently, by a Python msgpack writer and
 * hashlib.blake2b(digest_size=32)). */
static void test_blob_golden_vector(void **state) {
    (void)state;
    xs_policy_t *p = s_parse(s_golden_text);
    static const char golden[] =
        "9dad7875657368692d706f6c69637902a16702a3e8af959409010201cd07e505dc001704cd7080cd0e10"
        "cd3840cd03e8cd3840cd8ca0cd0320cd3840cd07d0cda8c0cd7080cd3840cda8c0cdc4e0cde100ce0002"
        "3280ce00011940ce0001a5e0cdd2f0cd2a30cd1c20cd0e1091960baa636173655f7374756479a6e6a188"
        "e4be8b01cd1c20009394a777726974696e67000192060794a570617065720001910894a4636173650002"
        "910b9199a174a3e680bb00939301000593030205930b000500cd0e10000001c0";
    static const char golden_hash[] =
        "ae686a489d3475ff165f5e04face5459964d47456cd4beb82d656d32e2f024b3";
    xs_writer_t w;
    s_compile(p, &w);
    char hex[2 * 512 + 1] = {0};
    assert_true(w.len <= 512);
    for (size_t i = 0; i < w.len; i++)
        snprintf(hex + 2 * i, 3, "%02x", w.data[i]);
    assert_string_equal(hex, golden);
    assert_int_equal(w.len, 200);
    uint8_t hash[32];
    char hash_hex[65] = {0};
    assert_int_equal(xs_policy_hash(p, hash), XS_OK);
    for (size_t i = 0; i < 32; i++)
        snprintf(hash_hex + 2 * i, 3, "%02x", hash[i]);
    assert_string_equal(hash_hex, golden_hash);
    xs_policy_t *q = NULL;
    assert_int_equal(xs_policy_decode(&q, w.data, w.len), XS_OK);
    assert_memory_equal(p, q, sizeof *p);
    xs_writer_free(&w);
    xs_policy_destroy(&p);
    xs_policy_destroy(&q);
}

/* The format-1 golden vector (minutes, yearly caps) is another version, not a malformed blob:
 * its file must be compiled again. */
static void test_format_1_blob_is_eversion(void **state) {
    (void)state;
    /* tests/unit/test_policy.c's golden vector until revision 2 (git show c229b0a^). */
    static const char format_1[] =
        "9cad7875657368692d706f6c69637901a16702a3e8af959409010201cd07e505dc001704cd01e03cccf0"
        "cd03e8ccf0cd0258cd0320ccf0cd07d0cd02d0cd01e0ccf0cd02d0cd0348cd03c0cd0960cd04b0cd0708"
        "cd0384ccb4783c9a000000000001010100009197a174a3e680bbcd0402003c0000c0";
    uint8_t blob[sizeof format_1 / 2];
    for (size_t i = 0; i < sizeof blob; i++) {
        unsigned byte;
        assert_int_equal(sscanf(format_1 + 2 * i, "%2x", &byte), 1);
        blob[i] = (uint8_t)byte;
    }
    xs_policy_t *q = (xs_policy_t *)1;
    assert_int_equal(xs_policy_decode(&q, blob, sizeof blob), XS_EVERSION);
    assert_null(q);
}

/* The golden policy of format 3 (schema/policy.md §4): require_review and one role with a
 * part. */
static const char s_golden_3_text[] = "[policy]\nid = g\nversion = 3\nrequire_review = yes\n"
                                      "[bucket.t]\ncategories = lecture\n"
                                      "[role.new_teacher]\nlabel = 新任教师\n"
                                      "categories = lecture, exam\nperiod = probation\n"
                                      "hours = 180\npart_categories = exam\npart_hours = 60\n";

/* Frozen layout of format 3, computed independently as the format-2 vector was. */
static void test_blob_golden_vector_format_3(void **state) {
    (void)state;
    xs_policy_t *p = s_parse(s_golden_3_text);
    assert_int_equal(p->require_review, 1);
    assert_int_equal(p->role_count, 1);
    static const char golden[] =
        "9fad7875657368692d706f6c69637903a16703a09409010201cd07e505dc001704cd7080cd0e10cd3840"
        "cd03e8cd3840cd8ca0cd0320cd3840cd07d0cda8c0cd7080cd3840cda8c0cdc4e0cde100ce00023280ce"
        "00011940ce0001a5e0cdd2f0cd2a30cd1c20cd0e10909294a777726974696e67000192060794a5706170"
        "6572000191089199a174a00091930100050000000000c0019197ab6e65775f74656163686572ace696b0"
        "e4bbbbe69599e5b88802ce0009e34092010ace00034bc0910a";
    static const char golden_hash[] =
        "8193065d404f77bd5f4c16200df986b7ed1a151d61ae84cdbd033e08ab19c0bd";
    xs_writer_t w;
    s_compile(p, &w);
    char hex[2 * 512 + 1] = {0};
    assert_true(w.len <= 512);
    for (size_t i = 0; i < w.len; i++)
        snprintf(hex + 2 * i, 3, "%02x", w.data[i]);
    assert_string_equal(hex, golden);
    assert_int_equal(w.len, 193);
    uint8_t hash[32];
    char hash_hex[65] = {0};
    assert_int_equal(xs_policy_hash(p, hash), XS_OK);
    for (size_t i = 0; i < 32; i++)
        snprintf(hash_hex + 2 * i, 3, "%02x", hash[i]);
    assert_string_equal(hash_hex, golden_hash);
    xs_policy_t *q = NULL;
    assert_int_equal(xs_policy_decode(&q, w.data, w.len), XS_OK);
    assert_memory_equal(p, q, sizeof *p);
    xs_writer_free(&w);
    xs_policy_destroy(&p);
    xs_policy_destroy(&q);
}

/* The lowest format that carries a policy: without roles and review it is format 2, byte for
 * byte as before format 3 existed (so the hash receipts carry does not change); `require_review
 * = no` says nothing new. A format-3 blob of such a policy is not canonical and is refused. */
static void test_policy_without_roles_stays_format_2(void **state) {
    (void)state;
    size_t len = strlen(s_golden_text);
    char *text = test_malloc(len + 64);
    memcpy(text, s_golden_text, len + 1);
    /* After "[policy]\n...name = 试\n": the policy section's last key. */
    char *cut = strstr(text, "[category.");
    assert_non_null(cut);
    memmove(cut + strlen("require_review = no\n"), cut, strlen(cut) + 1);
    memcpy(cut, "require_review = no\n", strlen("require_review = no\n"));
    xs_policy_t *plain = s_parse(s_golden_text), *said_no = s_parse(text);
    xs_writer_t a, b;
    s_compile(plain, &a);
    s_compile(said_no, &b);
    assert_int_equal(a.data[15], 2); /* the format element, after the array and magic */
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    /* The same policy dressed as format 3: 15 elements, review 0, no roles. */
    uint8_t *dressed = test_malloc(a.len + 2);
    memcpy(dressed, a.data, a.len);
    dressed[0] = 0x9f;
    dressed[15] = 3;
    dressed[a.len] = 0x00;
    dressed[a.len + 1] = 0x90;
    xs_policy_t *q = (xs_policy_t *)1;
    assert_int_equal(xs_policy_decode(&q, dressed, a.len + 2), XS_EMALFORMED);
    assert_null(q);
    /* A format-2 header over format-3 content is refused too. */
    xs_policy_t *roles = s_parse(s_golden_3_text);
    xs_writer_t c;
    s_compile(roles, &c);
    c.data[0] = 0x9d;
    c.data[15] = 2;
    assert_int_equal(xs_policy_decode(&q, c.data, c.len), XS_EMALFORMED);
    c.data[0] = 0x9f;
    c.data[15] = 2;
    assert_int_equal(xs_policy_decode(&q, c.data, c.len), XS_EMALFORMED);
    assert_null(q);
    test_free(dressed);
    test_free(text);
    xs_writer_free(&a);
    xs_writer_free(&b);
    xs_writer_free(&c);
    xs_policy_destroy(&plain);
    xs_policy_destroy(&said_no);
    xs_policy_destroy(&roles);
}

/* The largest policy a file can hold, every count and string at its maximum, compiles under
 * XS_POLICY_BLOB_MAX and decodes to itself. */
static void test_maximal_policy_fits_the_blob_limit(void **state) {
    (void)state;
    size_t cap = 256 * 1024, len = 0;
    char *text = test_malloc(cap);
#define S_ADD(...) (len += (size_t)snprintf(text + len, cap - len, __VA_ARGS__))
    /* A 128-byte Chinese label unique by its number (42 CJK characters and two digits). */
    char label[160];
    const char *cjk = "\xe4\xb8\x80"; /* 一 */
#define S_LABEL(n)                                                                                 \
    do {                                                                                           \
        size_t at = 0;                                                                             \
        for (int k = 0; k < 42; k++)                                                               \
            at += (size_t)snprintf(label + at, sizeof label - at, "%s", cjk);                      \
        snprintf(label + at, sizeof label - at, "%02d", (n));                                      \
    } while (0)
    char name[256];
    memset(name, 0, sizeof name);
    for (int k = 0; k < 85; k++)
        memcpy(name + 3 * k, "\xe5\x8e\xbf", 3); /* 县 × 85 = 255 bytes */
    S_ADD("[policy]\nid = %s\nversion = 2147483647\nname = %sx\nrequire_review = yes\n",
          "abcdefghijklmnopqrstuvwxyz012345", name);
    S_ADD("[credit.paper]\nmin_chars = 10000000\n");
    for (int c = 0; c < XS_POLICY_CUSTOM_MAX; c++) {
        S_LABEL(c);
        S_ADD("[category.c%031d]\ncode = %d\nlabel = %s\nrule = fixed\nhours = 1000\n"
              "same_event = once\n",
              c, 200 + c, label);
    }
    /* 16 caps over the 42 categories: the defaults removed. */
    S_ADD("[cap.writing]\ncount = none\n[cap.paper]\ncount = none\n");
    for (int k = 0; k < XS_POLICY_CAPS_MAX; k++) {
        S_ADD("[cap.k%031d]\ncount = 1000\nperiod = semester\ncategories = ", k);
        int first = 1;
        for (int c = 1; c < XS_CAT_COUNT; c++)
            if ((c - 1) % XS_POLICY_CAPS_MAX == k)
                S_ADD("%s%s", first ? "" : ", ", xs_category_name((unsigned)c)), first = 0;
        for (int c = 0; c < XS_POLICY_CUSTOM_MAX; c++)
            if ((c + 10) % XS_POLICY_CAPS_MAX == k)
                S_ADD("%sc%031d", first ? "" : ", ", c), first = 0;
        S_ADD("\n");
    }
    /* 16 buckets of 64 terms each (32 categories at two level ranges), each listing the
     * later ones, each with advisory requirements in every scope. */
    for (int b = 0; b < XS_POLICY_BUCKETS_MAX; b++) {
        S_LABEL(b);
        S_ADD("[bucket.b%031d]\nlabel = %s\ncategories = ", b, label);
        for (int c = 0; c < 32; c++)
            S_ADD("%sc%031d < county, c%031d >= county", c ? ", " : "", c, c);
        S_ADD("\n");
        if (b + 1 < XS_POLICY_BUCKETS_MAX) {
            S_ADD("buckets = ");
            for (int o = b + 1; o < XS_POLICY_BUCKETS_MAX; o++)
                S_ADD("%sb%031d", o > b + 1 ? ", " : "", o);
            S_ADD("\n");
        }
    }
    static const char *const scopes[] = {"year", "semester", "cycle"};
    for (int s = 0; s < 3; s++) {
        S_ADD("[require.%s]\n", scopes[s]);
        for (int b = 0; b < XS_POLICY_BUCKETS_MAX; b++)
            S_ADD("b%031d = 9999.99\n", b);
        S_ADD("advisory = ");
        for (int b = 0; b < XS_POLICY_BUCKETS_MAX; b++)
            S_ADD("%sb%031d", b ? ", " : "", b);
        S_ADD("\n");
    }
    S_LABEL(99);
    S_ADD("[require.single]\ncategory = c%031d\nhours = 1000\nbucket = b%031d\nlabel = %s\n", 0, 0,
          label);
    /* 16 roles over every category, each with a part of every category but one, and a
     * 32-byte label (10 CJK characters and two digits). */
    for (int r = 0; r < XS_POLICY_ROLES_MAX; r++) {
        S_ADD("[role.r%031d]\nlabel = 骨干教师骨干教师骨干%02d\nperiod = probation\n"
              "hours = 9999.99\npart_hours = 9999.99\ncategories = ",
              r, r);
        for (int c = 1; c < XS_CAT_COUNT; c++)
            S_ADD("%s, ", xs_category_name((unsigned)c));
        for (int c = 0; c < XS_POLICY_CUSTOM_MAX; c++)
            S_ADD("%sc%031d", c ? ", " : "", c);
        S_ADD("\npart_categories = ");
        for (int c = 2; c < XS_CAT_COUNT; c++)
            S_ADD("%s, ", xs_category_name((unsigned)c));
        for (int c = 0; c < XS_POLICY_CUSTOM_MAX; c++)
            S_ADD("%sc%031d", c ? ", " : "", c);
        S_ADD("\n");
    }
#undef S_ADD
#undef S_LABEL
    assert_true(len < cap);
    xs_policy_t *p = s_parse(text);
    assert_int_equal(p->custom_count, XS_POLICY_CUSTOM_MAX);
    assert_int_equal(p->cap_count, XS_POLICY_CAPS_MAX);
    assert_int_equal(p->bucket_count, XS_POLICY_BUCKETS_MAX);
    for (unsigned b = 0; b < p->bucket_count; b++)
        assert_int_equal(p->buckets[b].term_count, XS_POLICY_TERMS_MAX);
    assert_int_equal(strlen(p->name), XS_POLICY_NAME_MAX);
    assert_int_equal(strlen(p->custom[0].label), XS_POLICY_LABEL_MAX);
    assert_int_equal(p->role_count, XS_POLICY_ROLES_MAX);
    assert_int_equal(strlen(p->roles[XS_POLICY_ROLES_MAX - 1].label), XS_POLICY_ROLE_LABEL_MAX);
    xs_writer_t w1, w2;
    s_compile(p, &w1);
    print_message("maximal policy: %zu of %d bytes\n", w1.len, XS_POLICY_BLOB_MAX);
    assert_true(w1.len <= XS_POLICY_BLOB_MAX);
    xs_policy_t *q = NULL;
    assert_int_equal(xs_policy_decode(&q, w1.data, w1.len), XS_OK);
    s_compile(q, &w2);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.data, w2.data, w1.len);
    assert_memory_equal(p, q, sizeof *p);
    xs_writer_free(&w1);
    xs_writer_free(&w2);
    xs_policy_destroy(&p);
    xs_policy_destroy(&q);
    test_free(text);
}

/* Hostile blobs: every prefix is refused; every single-byte change is refused or decodes
 * to a policy that recompiles to exactly the changed bytes. */
static void s_hostile(const xs_policy_t *p) {
    xs_policy_t *q;
    xs_writer_t w, again;
    s_compile(p, &w);
    for (size_t n = 0; n < w.len; n++) {
        uint8_t *prefix = test_malloc(n ? n : 1);
        memcpy(prefix, w.data, n);
        q = (xs_policy_t *)1;
        xs_err rc = xs_policy_decode(&q, prefix, n);
        assert_true(rc == XS_EMALFORMED || rc == XS_EVERSION);
        assert_null(q);
        test_free(prefix);
    }
    uint8_t *copy = test_malloc(w.len);
    static const uint8_t deltas[] = {0x01, 0x02, 0x04, 0x80, 0xff, 0x10};
    for (size_t i = 0; i < w.len; i++) {
        for (size_t d = 0; d < sizeof deltas; d++) {
            memcpy(copy, w.data, w.len);
            copy[i] ^= deltas[d];
            q = NULL;
            if (xs_policy_decode(&q, copy, w.len) != XS_OK)
                continue;
            s_compile(q, &again);
            assert_int_equal(again.len, w.len);
            assert_memory_equal(again.data, copy, w.len);
            xs_writer_free(&again);
            xs_policy_destroy(&q);
        }
    }
    test_free(copy);
    /* Trailing bytes, another format version, too big. */
    uint8_t *longer = test_malloc(w.len + 1);
    memcpy(longer, w.data, w.len);
    longer[w.len] = 0xc0;
    assert_int_equal(xs_policy_decode(&q, longer, w.len + 1), XS_EMALFORMED);
    test_free(longer);
    assert_int_equal(xs_policy_decode(&q, w.data, XS_POLICY_BLOB_MAX + 1), XS_ETOOBIG);
    xs_writer_free(&w);
}

static void test_decode_hostile_blobs(void **state) {
    (void)state;
    xs_policy_t *p = s_load("wenzhou");
    s_hostile(p);
    xs_policy_destroy(&p);
    p = s_load("xinxiang");
    s_hostile(p);
    xs_policy_destroy(&p);
    p = s_parse(s_golden_text);
    s_hostile(p);
    xs_policy_destroy(&p);
    p = s_parse(s_rich);
    s_hostile(p);
    xs_policy_destroy(&p);
    p = s_parse(s_golden_3_text);
    s_hostile(p);
    xs_policy_destroy(&p);
    xs_policy_t *q = NULL;
    xs_writer_t v3;
    xs_writer_init(&v3, 256);
    xs_codec_put_array(&v3, 3);
    xs_codec_put_str(&v3, "xueshi-policy", 13);
    xs_codec_put_uint(&v3, 4); /* a format this build does not know */
    xs_codec_put_nil(&v3);
    assert_int_equal(xs_policy_decode(&q, v3.data, v3.len), XS_EVERSION);
    xs_writer_free(&v3);
}

/* Blobs well formed as msgpack that break a rule of policy.md §2 are refused, as the same
 * policy in a file would be. */
static void test_decode_refuses_what_a_file_may_not_say(void **state) {
    (void)state;
    xs_policy_t *p = s_parse(s_golden_text);
    xs_policy_t bad;
#define S_REFUSED(stmt)                                                                            \
    do {                                                                                           \
        bad = *p;                                                                                  \
        stmt;                                                                                      \
        xs_writer_t w;                                                                             \
        s_compile(&bad, &w);                                                                       \
        xs_policy_t *q = (xs_policy_t *)1;                                                         \
        if (xs_policy_decode(&q, w.data, w.len) != XS_EMALFORMED || q != NULL)                     \
            fail_msg("accepted: %s", #stmt);                                                       \
        xs_writer_free(&w);                                                                        \
    } while (0)
    S_REFUSED(bad.custom[0].code = 10);                         /* a built-in code */
    S_REFUSED(bad.custom[0].rule = XS_RULE_BUILTIN);            /* no rule */
    S_REFUSED(bad.custom[0].rule = XS_RULE_COUNT);              /* unknown rule */
    S_REFUSED(bad.custom[0].seconds = 0);                       /* fixed without credit */
    S_REFUSED(bad.custom[0].same_event = 2);                    /* not a flag */
    S_REFUSED(strcpy(bad.custom[0].label, "专题讲座"));         /* a built-in label */
    S_REFUSED(strcpy(bad.custom[0].name, "exam"));              /* a built-in name */
    S_REFUSED(bad.custom[0].label[0] = '\0');                   /* no label */
    S_REFUSED(bad.caps[2].categories[0] |= 1u << XS_CAT_PAPER); /* paper in two caps */
    S_REFUSED(bad.caps[2].categories[0] = 0);                   /* a cap of nothing */
    S_REFUSED(bad.caps[2].categories[1] = 1);                   /* code 64: undefined */
    S_REFUSED(bad.caps[2].count = 0);
    S_REFUSED(bad.caps[2].count = 1001);
    S_REFUSED(bad.caps[2].period = XS_SCOPE_CYCLE);
    S_REFUSED(strcpy(bad.caps[2].name, "paper"));                 /* a name twice */
    S_REFUSED(bad.buckets[0].terms[1].min_level = 6);             /* no such level */
    S_REFUSED(bad.buckets[0].terms[1].max_level = 1);             /* min > max */
    S_REFUSED(bad.buckets[0].terms[1].category = 12);             /* undefined code */
    S_REFUSED(bad.buckets[0].terms[1].category = XS_CAT_LECTURE); /* lecture twice */
    S_REFUSED(bad.buckets[0].all = 1);                            /* all with terms */
    S_REFUSED(bad.buckets[0].advisory = 1u << XS_SCOPE_CYCLE);    /* no cycle requirement */
    S_REFUSED(bad.buckets[0].advisory = 1u << 3);                 /* no such scope */
    S_REFUSED(bad.buckets[0].term_count = 0);                     /* counts nothing */
    S_REFUSED(strcpy(bad.buckets[0].name, "case_study"));         /* a category's name */
    S_REFUSED(strcpy(bad.buckets[0].name, "advisory"));           /* reserved */
    xs_policy_destroy(&p);
    /* Roles (policy.md §2 [role.<name>]): the base has one role, new_teacher, with a part. */
    p = s_parse(s_golden_3_text);
    S_REFUSED(bad.require_review = 2);                   /* not a flag */
    S_REFUSED(bad.roles[0].period = 3);                  /* no such period */
    S_REFUSED(bad.roles[0].required_seconds = 0);        /* nothing required */
    S_REFUSED(bad.roles[0].required_seconds = 36000036); /* over 10000 h */
    S_REFUSED(bad.roles[0].part_seconds = 648036);       /* part over the whole */
    S_REFUSED(bad.roles[0].part_seconds = 0);            /* part categories without hours */
    S_REFUSED(bad.roles[0].part_categories[0] = 0);      /* part hours without categories */
    S_REFUSED(bad.roles[0].part_categories[0] |= 1u << XS_CAT_PAPER); /* not in categories */
    S_REFUSED(bad.roles[0].categories[0] = 0);                        /* counts nothing */
    S_REFUSED(bad.roles[0].categories[0] |= 1u << 0);                 /* code 0 */
    S_REFUSED(bad.roles[0].categories[1] = 1);                        /* code 64: undefined */
    S_REFUSED(bad.roles[0].label[0] = '\0');                          /* no label */
    S_REFUSED(strcpy(bad.roles[0].label, "一二三四五六七八九十一"));  /* 33 bytes */
    S_REFUSED(strcpy(bad.roles[0].label, "班主任，校长"));            /* a list */
    S_REFUSED(strcpy(bad.roles[0].name, "New"));                      /* not a name */
    S_REFUSED((bad.roles[1] = bad.roles[0], bad.role_count = 2));     /* a role twice */
    S_REFUSED((bad.roles[1] = bad.roles[0], strcpy(bad.roles[1].name, "other"),
               bad.role_count = 2)); /* two roles of one label */
    S_REFUSED((bad.roles[1] = bad.roles[0], strcpy(bad.roles[1].name, "other"),
               strcpy(bad.roles[1].label, "new_teacher"),
               bad.role_count = 2)); /* a label that is another role's name */
#undef S_REFUSED
    xs_policy_destroy(&p);
}

/* Every single-byte change of a shipped file parses or is refused with "file:line: ";
 * nothing runs on half a policy. */
static void test_mutated_files_parse_or_refuse_cleanly(void **state) {
    (void)state;
    char path[512];
    const char *root = getenv("XS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/schema/policies/dali.ini", root ? root : XS_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    assert_true(len > 0 && len < sizeof text);
    static const char changes[] = {'\0', '\n', '=', '[', ']', ',', ';', 'x', '9', ' ', '\xff'};
    char *copy = test_malloc(len);
    for (size_t i = 0; i < len; i++) {
        for (size_t c = 0; c < sizeof changes; c++) {
            memcpy(copy, text, len);
            copy[i] = changes[c];
            char err[512] = "";
            xs_policy_t *p = (xs_policy_t *)1;
            xs_err rc = xs_policy_parse(&p, copy, len, "m.ini", err, sizeof err);
            if (rc == XS_OK) {
                assert_non_null(p);
                xs_policy_destroy(&p);
            } else {
                assert_int_equal(rc, XS_EPOLICY);
                assert_null(p);
                assert_true(strncmp(err, "m.ini:", 6) == 0);
            }
        }
    }
    test_free(copy);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_baiwanzi_total_40h_a_year_200h_a_cycle),
        cmocka_unit_test(test_shipped_dali_school_is_activity_plus_outcome),
        cmocka_unit_test(test_shipped_wenzhou_single_90h_external_training),
        cmocka_unit_test(test_shipped_wenzhou_roles_of_seed_003),
        cmocka_unit_test(test_shipped_xinxiang_network_school_16h_80h),
        cmocka_unit_test(test_shipped_calendars_start_09_01_02_01_cycle_2021),
        cmocka_unit_test(test_defaults_are_credit_rules_section_2),
        cmocka_unit_test(test_overrides_and_file_conventions),
        cmocka_unit_test(test_format_2_elements_parse_to_their_structs),
        cmocka_unit_test(test_bucket_mask_follows_nested_buckets),
        cmocka_unit_test(test_category_lookups),
        cmocka_unit_test(test_policy_check_by_rule),
        cmocka_unit_test(test_parse_errors_name_file_and_line),
        cmocka_unit_test(test_missing_file_is_named_and_huge_text_too_big),
        cmocka_unit_test(test_calendar_boundaries_08_31_09_01_01_31_02_01),
        cmocka_unit_test(test_compile_decode_compile_is_byte_identical),
        cmocka_unit_test(test_blob_golden_vector),
        cmocka_unit_test(test_format_1_blob_is_eversion),
        cmocka_unit_test(test_blob_golden_vector_format_3),
        cmocka_unit_test(test_policy_without_roles_stays_format_2),
        cmocka_unit_test(test_maximal_policy_fits_the_blob_limit),
        cmocka_unit_test(test_decode_hostile_blobs),
        cmocka_unit_test(test_decode_refuses_what_a_file_may_not_say),
        cmocka_unit_test(test_mutated_files_parse_or_refuse_cleanly),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
