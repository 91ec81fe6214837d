/* test_standing: a teacher's yearly standing (schema/credit-rules.md §7.1, §7.3, §7.4) under
 * the shipped Wenzhou and Baiwanzi policies: exemption, a teacher with no records, role
 * requirements judged in their period's last year, probation across two academic years, the
 * part (其中) requirement, advisory against binding totals, review, and the Chinese reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/certify.h"
#include "xs/policy.h"
#include "xs/record.h"
#include "xs/staff.h"
#include "xs/standing.h"
#include "xs/text.h"

#define S_H(h) ((uint64_t)(h)*3600u)
#define S_RECORDS_MAX 32

/* ---- helpers ---- */

/* A shipped policy, with `extra` inserted right after its [policy] line (may be ""). */
static xs_policy_t *s_policy(const char *id, const char *extra) {
    char path[512], err[512];
    const char *root = getenv("XS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/schema/policies/%s.ini", root ? root : XS_SOURCE_DIR, id);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    char *text = test_malloc(XS_POLICY_FILE_MAX + 256);
    size_t len = fread(text, 1, XS_POLICY_FILE_MAX, f);
    fclose(f);
    text[len] = '\0';
    char *at = strstr(text, "[policy]\n");
    assert_non_null(at);
    at += strlen("[policy]\n");
    size_t more = strlen(extra);
    memmove(at + more, at, strlen(at) + 1);
    memcpy(at, extra, more);
    xs_policy_t *p = NULL;
    if (xs_policy_parse(&p, text, len + more, "test.ini", err, sizeof err) != XS_OK)
        fail_msg("%s", err);
    test_free(text);
    return p;
}

/* A record of teacher T1 from "field=value;..."; category_code, when not 0, replaces the
 * category (a policy's own, which the record's text form does not know). */
static xs_record_t s_rec(const char *spec, unsigned category_code) {
    xs_record_t r;
    xs_record_init(&r);
    char full[256];
    snprintf(full, sizeof full, "teacher_id=T1;%s", spec);
    const char *p = full;
    while (*p) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        assert_non_null(eq);
        int field = xs_field_parse(p, (size_t)(eq - p));
        assert_true(field >= 0);
        xs_reason why;
        if (xs_record_set_text(&r, (xs_field)field, eq + 1, (size_t)(end - eq - 1), &why) != XS_OK)
            fail_msg("bad value in %s: %s", spec, xs_reason_code(why));
        p = *end ? end + 1 : end;
    }
    /* Strings point into full, which dies here: only the teacher is a string these tests use. */
    r.teacher_id.ptr = "T1";
    r.teacher_id.len = 2;
    if (category_code)
        r.category = (uint8_t)category_code;
    return r;
}

/* The code of a category of the policy, by name. */
static unsigned s_code(const xs_policy_t *p, const char *name) {
    int code = xs_policy_category_parse(p, name, strlen(name));
    assert_true(code > 0);
    return (unsigned)code;
}

static int32_t s_day(int y, unsigned m, unsigned d) {
    return xs_date_from_civil(y, m, d);
}

/* A roster line of T1: active since always, with the roles given ("" for none). */
static xs_staff_entry_t s_entry(const char *role_a, const char *role_b) {
    xs_staff_entry_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.teacher_id, sizeof e.teacher_id, "T1");
    snprintf(e.name, sizeof e.name, "张三");
    snprintf(e.school_id, sizeof e.school_id, "S1");
    if (role_a[0])
        snprintf(e.roles[e.role_count++], sizeof e.roles[0], "%s", role_a);
    if (role_b[0])
        snprintf(e.roles[e.role_count++], sizeof e.roles[0], "%s", role_b);
    e.hired = INT32_MIN;
    e.status = XS_STAFF_ACTIVE;
    e.status_from = INT32_MIN;
    e.status_to = INT32_MAX;
    return e;
}

typedef struct s_case {
    const xs_policy_t *policy;
    const xs_staff_entry_t *entry; /* NULL: not on the roster */
    const xs_record_t *records;
    xs_certify_row_t rows[S_RECORDS_MAX];
    int year;
    const uint8_t *approved; /* per record: 1 when the school approved it; NULL: none */
    int seen;                /* the callback ran for T1 */
    xs_err err;
    xs_standing_t standing;
    char reason[1024];
} s_case_t;

static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *teacher) {
    s_case_t *c = ctx;
    c->seen = 1;
    for (size_t i = 0; c->approved && i < teacher->record_count; i++)
        if (c->approved[teacher->records[i]])
            c->rows[teacher->records[i]].review = XS_REVIEW_APPROVED;
    c->err =
        xs_standing_of(&c->standing, c->policy, c->entry, teacher, c->records, c->rows, c->year);
    if (c->err == XS_OK)
        xs_standing_reason(c->policy, &c->standing, teacher, c->year, c->reason, sizeof c->reason);
    return XS_OK;
}

/* Certifies the records with totals for the five years up to `year` and the next, and
 * computes T1's standing in `year` (with no records, from no ledger). */
static void s_stand(s_case_t *c, const xs_policy_t *p, const xs_staff_entry_t *entry,
                    const xs_record_t *records, size_t count, int year) {
    assert_true(count <= S_RECORDS_MAX);
    c->policy = p;
    c->entry = entry;
    c->records = records;
    c->year = year;
    c->seen = 0;
    c->err = XS_EINVAL;
    c->reason[0] = '\0';
    xs_certify_opts_t opts = {.first_year = year - 5, .last_year = year + 1};
    assert_int_equal(xs_certify_run(p, NULL, records, NULL, count, &opts, c->rows, s_on_teacher, c),
                     XS_OK);
    if (!c->seen) {
        c->err = xs_standing_of(&c->standing, p, entry, NULL, records, c->rows, year);
        if (c->err == XS_OK)
            xs_standing_reason(p, &c->standing, NULL, year, c->reason, sizeof c->reason);
    }
    assert_int_equal(c->err, XS_OK);
}

/* Records meeting every Wenzhou cycle total of 2021-2026 and its single 90 h training, none of
 * them external_training but the one of 2022 (100 h): 100 + 5 × 24 + 140 = 360 h, school
 * 120 h. */
#define S_CYCLE_MET                                                                                \
    s_rec("date=2022-10-10;category=external_training;hours=100", 0),                              \
        s_rec("date=2022-11-01;category=lecture;minutes=1440", 0),                                 \
        s_rec("date=2022-11-02;category=lecture;minutes=1440", 0),                                 \
        s_rec("date=2023-11-03;category=lecture;minutes=1440", 0),                                 \
        s_rec("date=2023-11-04;category=lecture;minutes=1440", 0),                                 \
        s_rec("date=2024-11-05;category=lecture;minutes=1440", 0),                                 \
        s_rec("date=2024-12-01;category=online_training;hours=140", 0)
#define S_CYCLE_MET_COUNT 7

/* ---- §7.1 the roster and exemption ---- */

/* In service fewer than half of 2025-2026's 365 days: hired on 2026-04-01 (153 days), on
 * leave 2025-10-01..2026-06-30 (92 days left), retired from 2025-12-01 (91 days). Hired on
 * 2026-03-01 (184 days, more than half) is judged, and with nothing recorded is not met. */
static void test_exempt_under_half_the_year(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou", "");
    xs_record_t none[1];
    s_case_t *c = test_calloc(1, sizeof *c);

    xs_staff_entry_t late = s_entry("", "");
    late.hired = s_day(2026, 4, 1);
    s_stand(c, p, &late, none, 0, 2025);
    assert_int_equal(c->standing.state, XS_STANDING_EXEMPT);
    assert_int_equal(c->standing.service_days, 153);
    assert_int_equal(c->standing.met, XS_MET_NONE);
    assert_int_equal(c->standing.why, 0);
    assert_string_equal(c->reason, "免于认定（在岗不足半年）");
    assert_string_equal(xs_standing_state_zh(c->standing.state), "免于认定");
    assert_string_equal(xs_standing_state_name(c->standing.state), "exempt");

    xs_staff_entry_t leave = s_entry("", "");
    leave.status = XS_STAFF_ON_LEAVE;
    leave.status_from = s_day(2025, 10, 1);
    leave.status_to = s_day(2026, 6, 30);
    s_stand(c, p, &leave, none, 0, 2025);
    assert_int_equal(c->standing.state, XS_STANDING_EXEMPT);
    assert_int_equal(c->standing.service_days, 92);

    xs_staff_entry_t retired = s_entry("", "");
    retired.status = XS_STAFF_RETIRED;
    retired.status_from = s_day(2025, 12, 1);
    s_stand(c, p, &retired, none, 0, 2025);
    assert_int_equal(c->standing.state, XS_STANDING_EXEMPT);
    assert_int_equal(c->standing.service_days, 91);
    /* The year before, retired from 2025-12-01 served it all. */
    s_stand(c, p, &retired, none, 0, 2024);
    assert_int_equal(c->standing.state, XS_STANDING_CERTIFIED);
    assert_int_equal(c->standing.service_days, 365);

    xs_staff_entry_t march = s_entry("", "");
    march.hired = s_day(2026, 3, 1);
    s_stand(c, p, &march, none, 0, 2025);
    assert_int_equal(c->standing.state, XS_STANDING_CERTIFIED);
    assert_int_equal(c->standing.service_days, 184);
    assert_int_equal(c->standing.met, XS_MET_NO);
    /* Half counts: 183 of 365 days is judged, 182 is exempt. */
    march.hired = s_day(2026, 3, 2);
    s_stand(c, p, &march, none, 0, 2025);
    assert_int_equal(c->standing.service_days, 183);
    assert_int_equal(c->standing.state, XS_STANDING_CERTIFIED);
    march.hired = s_day(2026, 3, 3);
    s_stand(c, p, &march, none, 0, 2025);
    assert_int_equal(c->standing.service_days, 182);
    assert_int_equal(c->standing.state, XS_STANDING_EXEMPT);
    test_free(c);
    xs_policy_destroy(&p);
}

/* Not on the roster: judged by the policy all the same, over the whole year. */
static void test_unrostered_is_judged(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou", "");
    xs_record_t recs[] = {S_CYCLE_MET};
    s_case_t *c = test_calloc(1, sizeof *c);
    s_stand(c, p, NULL, recs, S_CYCLE_MET_COUNT, 2025);
    assert_int_equal(c->standing.state, XS_STANDING_UNROSTERED);
    assert_string_equal(xs_standing_state_zh(c->standing.state), "不在名册");
    assert_int_equal(c->standing.service_days, 365);
    assert_int_equal(c->standing.met, XS_MET_YES);
    assert_int_equal(c->standing.role_count, 0);
    assert_string_equal(c->reason, "");
    assert_null(xs_standing_state_name(3));
    assert_string_equal(xs_standing_state_name(XS_STANDING_CERTIFIED), "certified");
    test_free(c);
    xs_policy_destroy(&p);
}

/* ---- §7.4 the yearly result ---- */

/* A rostered teacher who recorded nothing: in the cycle's last year every binding total is
 * short by all of it, with the reasons the engine gives; in another year Wenzhou's totals are
 * advisory and nothing binds. */
static void test_no_records_is_not_met(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou", "");
    xs_staff_entry_t e = s_entry("", "");
    xs_record_t none[1];
    s_case_t *c = test_calloc(1, sizeof *c);
    s_stand(c, p, &e, none, 0, 2025);
    assert_int_equal(c->standing.state, XS_STANDING_CERTIFIED);
    assert_int_equal(c->standing.met, XS_MET_NO);
    assert_int_equal(c->standing.why, XS_STANDING_WHY_HOURS);
    assert_int_equal(c->standing.credited_seconds, 0);
    assert_int_equal(c->standing.final, 1);
    assert_string_equal(c->reason, "hours_short 专业发展培训（周期）还差360.00学时; single_missing "
                                   "专业发展培训（周期）缺少一次不少于90学时的集中培训; "
                                   "hours_short 校本培训（周期）还差120.00学时");
    s_stand(c, p, &e, none, 0, 2023);
    assert_int_equal(c->standing.met, XS_MET_NONE);
    assert_string_equal(c->reason, "");
    test_free(c);
    xs_policy_destroy(&p);
}

/* Baiwanzi's 40 h a year binds: 30 h in 2023-2024 is not met; Wenzhou's 48 h a year is
 * advisory (seed 003 "一般不少于"), so the same 30 h decides nothing there. */
static void test_advisory_against_binding(void **state) {
    (void)state;
    xs_policy_t *baiwanzi = s_policy("baiwanzi", "");
    xs_policy_t *wenzhou = s_policy("wenzhou", "");
    xs_staff_entry_t e = s_entry("", "");
    xs_record_t recs[] = {
        s_rec("date=2023-10-10;category=external_training;hours=30", 0),
    };
    s_case_t *c = test_calloc(1, sizeof *c);
    s_stand(c, baiwanzi, &e, recs, 1, 2023);
    assert_int_equal(c->standing.met, XS_MET_NO);
    assert_int_equal(c->standing.why, XS_STANDING_WHY_HOURS);
    assert_int_equal(c->standing.credited_seconds, S_H(30));
    assert_string_equal(c->reason, "hours_short 校本研修学时（学年）还差10.00学时");
    s_stand(c, wenzhou, &e, recs, 1, 2023);
    assert_int_equal(c->standing.met, XS_MET_NONE);
    assert_int_equal(c->standing.credited_seconds, S_H(30));
    assert_string_equal(c->reason, "");
    test_free(c);
    xs_policy_destroy(&baiwanzi);
    xs_policy_destroy(&wenzhou);
}

/* A ledger that does not hold the year (certified without opts, no records in it). */
static xs_err s_standing_2020(void *ctx, const xs_certify_teacher_t *teacher) {
    s_case_t *c = ctx;
    c->err = xs_standing_of(&c->standing, c->policy, c->entry, teacher, c->records, c->rows, 2020);
    return XS_OK;
}

static void test_year_outside_the_ledger_is_einval(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou", "");
    xs_record_t recs[] = {s_rec("date=2023-10-10;category=external_training;hours=30", 0)};
    s_case_t *c = test_calloc(1, sizeof *c);
    xs_staff_entry_t e = s_entry("", "");
    c->policy = p;
    c->entry = &e;
    c->records = recs;
    c->err = XS_OK;
    assert_int_equal(xs_certify_run(p, NULL, recs, NULL, 1, NULL, c->rows, s_standing_2020, c),
                     XS_OK);
    assert_int_equal(c->err, XS_EINVAL);
    test_free(c);
    xs_policy_destroy(&p);
}

/* ---- §7.3 role requirements ---- */

/* 骨干教师: 120 h of external_training in the cycle, judged in its last year (2025-2026) and
 * progress before. The roster may name the role by its label or its name. */
static void test_key_teacher_judged_in_the_cycles_last_year(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou", "");
    xs_staff_entry_t e = s_entry("班主任助理", "骨干教师");
    xs_record_t recs[S_CYCLE_MET_COUNT + 1] = {S_CYCLE_MET};
    s_case_t *c = test_calloc(1, sizeof *c);

    s_stand(c, p, &e, recs, S_CYCLE_MET_COUNT, 2023);
    assert_int_equal(c->standing.role_count, 1);
    const xs_standing_role_t *r = &c->standing.roles[0];
    assert_string_equal(p->roles[r->role].name, "key_teacher");
    assert_int_equal(r->judged, 0);
    assert_int_equal(r->met, XS_MET_NO);
    assert_int_equal(r->credited_seconds, S_H(100));
    assert_int_equal(r->required_seconds, S_H(120));
    assert_int_equal(r->from, s_day(2021, 9, 1));
    assert_int_equal(r->to, s_day(2026, 8, 31));
    assert_int_equal(c->standing.met, XS_MET_NONE); /* progress decides nothing */

    s_stand(c, p, &e, recs, S_CYCLE_MET_COUNT, 2025);
    r = &c->standing.roles[0];
    assert_int_equal(r->judged, 1);
    assert_int_equal(c->standing.met, XS_MET_NO);
    assert_int_equal(c->standing.why, XS_STANDING_WHY_ROLE); /* the totals are met */
    assert_string_equal(c->reason, "role_short 骨干教师还差20.00学时");

    recs[S_CYCLE_MET_COUNT] = s_rec("date=2026-08-31;category=external_training;hours=20", 0);
    s_stand(c, p, &e, recs, S_CYCLE_MET_COUNT + 1, 2025);
    assert_int_equal(c->standing.roles[0].credited_seconds, S_H(120));
    assert_int_equal(c->standing.roles[0].met, XS_MET_YES);
    assert_int_equal(c->standing.met, XS_MET_YES);
    assert_string_equal(c->reason, "");

    /* By its name, and with a record the day after the cycle, which does not count. */
    xs_staff_entry_t by_name = s_entry("key_teacher", "");
    recs[S_CYCLE_MET_COUNT] = s_rec("date=2026-09-01;category=external_training;hours=20", 0);
    s_stand(c, p, &by_name, recs, S_CYCLE_MET_COUNT + 1, 2025);
    assert_int_equal(c->standing.role_count, 1);
    assert_int_equal(c->standing.roles[0].credited_seconds, S_H(100));
    assert_int_equal(c->standing.met, XS_MET_NO);

    /* Without the role on the roster, the same records meet the year. */
    xs_staff_entry_t plain = s_entry("", "");
    s_stand(c, p, &plain, recs, S_CYCLE_MET_COUNT, 2025);
    assert_int_equal(c->standing.role_count, 0);
    assert_int_equal(c->standing.met, XS_MET_YES);
    test_free(c);
    xs_policy_destroy(&p);
}

/* 班主任 and 校长 together: each counts only its own category, and both reasons are said. */
static void test_two_roles_each_their_categories(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou", "");
    xs_staff_entry_t e = s_entry("校长", "班主任");
    xs_record_t recs[S_CYCLE_MET_COUNT + 2] = {S_CYCLE_MET};
    recs[S_CYCLE_MET_COUNT] =
        s_rec("date=2024-03-01;category=external_training;hours=25", s_code(p, "班主任专题培训"));
    recs[S_CYCLE_MET_COUNT + 1] = s_rec("date=2025-10-01;category=external_training;hours=100",
                                        s_code(p, "management_training"));
    s_case_t *c = test_calloc(1, sizeof *c);
    s_stand(c, p, &e, recs, S_CYCLE_MET_COUNT + 2, 2025);
    assert_int_equal(c->standing.role_count, 2);
    /* In policy order: class_teacher before principal, whatever the roster's order. */
    assert_string_equal(p->roles[c->standing.roles[0].role].name, "class_teacher");
    assert_string_equal(p->roles[c->standing.roles[1].role].name, "principal");
    assert_int_equal(c->standing.roles[0].credited_seconds, S_H(25));
    assert_int_equal(c->standing.roles[1].credited_seconds, S_H(100));
    assert_int_equal(c->standing.why, XS_STANDING_WHY_ROLE);
    assert_string_equal(c->reason, "role_short 班主任还差5.00学时; role_short 校长还差20.00学时");
    /* Both count toward the cycle's total, not toward school-based training. */
    assert_int_equal(c->standing.credited_seconds, S_H(100));
    test_free(c);
    xs_policy_destroy(&p);
}

/* 新任教师 hired 2022-11-01: probation 2022-11-01..2023-10-31, progress in 2022-2023 and
 * judged in 2023-2024, which holds its last day. 180 h of which 60 h practice: 130 + 50 h is
 * short of practice only; 10 h more on the last day meets it; a day later does not count.
 * Probation training is in no bucket, so it never counts toward the year or the cycle. */
static void test_probation_spans_two_years_with_a_part(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou", "");
    unsigned training = s_code(p, "probation_training"), practice = s_code(p, "新任教师实践培训");
    xs_staff_entry_t e = s_entry("新任教师", "");
    e.hired = s_day(2022, 11, 1);
    xs_record_t recs[] = {
        s_rec("date=2023-01-10;category=external_training;hours=130", training),
        s_rec("date=2023-09-15;category=external_training;hours=50", practice),
        s_rec("date=2023-11-01;category=external_training;hours=10", practice),
    };
    s_case_t *c = test_calloc(1, sizeof *c);

    s_stand(c, p, &e, recs, 2, 2022);
    assert_int_equal(c->standing.role_count, 1);
    const xs_standing_role_t *r = &c->standing.roles[0];
    assert_int_equal(r->judged, 0);
    assert_int_equal(r->from, s_day(2022, 11, 1));
    assert_int_equal(r->to, s_day(2023, 10, 31));
    assert_int_equal(r->credited_seconds, S_H(180));
    assert_int_equal(r->part_seconds, S_H(50));
    assert_int_equal(r->part_required, S_H(60));
    assert_int_equal(r->met, XS_MET_NO);
    assert_int_equal(c->standing.met, XS_MET_NONE);
    assert_int_equal(c->standing.credited_seconds, 0); /* 不列入周期学时 */

    s_stand(c, p, &e, recs, 2, 2023);
    assert_int_equal(c->standing.roles[0].judged, 1);
    assert_int_equal(c->standing.met, XS_MET_NO);
    assert_int_equal(c->standing.why, XS_STANDING_WHY_ROLE);
    assert_string_equal(c->reason, "role_short 新任教师其中新任教师实践培训还差10.00学时");

    /* The day after probation does not count. */
    s_stand(c, p, &e, recs, 3, 2023);
    assert_int_equal(c->standing.roles[0].part_seconds, S_H(50));
    assert_int_equal(c->standing.credited_seconds, 0);
    /* On its last day it does. */
    recs[2] = s_rec("date=2023-10-31;category=external_training;hours=10", practice);
    s_stand(c, p, &e, recs, 3, 2023);
    assert_int_equal(c->standing.roles[0].part_seconds, S_H(60));
    assert_int_equal(c->standing.roles[0].credited_seconds, S_H(190));
    assert_int_equal(c->standing.met, XS_MET_YES);

    /* Short of both: the whole and the part are each said. */
    s_stand(c, p, &e, recs + 1, 1, 2023);
    assert_string_equal(c->reason, "role_short 新任教师还差130.00学时; role_short "
                                   "新任教师其中新任教师实践培训还差10.00学时");

    /* Two years later probation is over: the role no longer appears. */
    s_stand(c, p, &e, recs, 3, 2024);
    assert_int_equal(c->standing.role_count, 0);

    /* Without a hired date the probation role does not apply. */
    xs_staff_entry_t undated = s_entry("新任教师", "");
    s_stand(c, p, &undated, recs, 2, 2023);
    assert_int_equal(c->standing.role_count, 0);
    test_free(c);
    xs_policy_destroy(&p);
}

/* ---- §7.2 review ---- */

/* Under require_review a credited record the school has not approved counts provisionally:
 * the year is met but not final until every one is approved. Without it nothing is counted. */
static void test_require_review_makes_the_result_provisional(void **state) {
    (void)state;
    xs_policy_t *strict = s_policy("wenzhou", "require_review = yes\n");
    xs_policy_t *lax = s_policy("wenzhou", "");
    xs_staff_entry_t e = s_entry("", "");
    xs_record_t recs[] = {S_CYCLE_MET};
    uint8_t approved[S_CYCLE_MET_COUNT] = {0};
    s_case_t *c = test_calloc(1, sizeof *c);

    c->approved = approved;
    s_stand(c, strict, &e, recs, S_CYCLE_MET_COUNT, 2024);
    /* 2024-2025 holds two records: a lecture and the online training. */
    assert_int_equal(c->standing.unreviewed, 2);
    assert_int_equal(c->standing.final, 0);
    assert_int_equal(c->standing.met, XS_MET_NONE);

    s_stand(c, strict, &e, recs, S_CYCLE_MET_COUNT, 2025);
    assert_int_equal(c->standing.unreviewed, 0); /* nothing recorded in 2025-2026 */
    assert_int_equal(c->standing.final, 1);
    assert_int_equal(c->standing.met, XS_MET_YES);

    approved[5] = 1; /* the 2024 lecture */
    s_stand(c, strict, &e, recs, S_CYCLE_MET_COUNT, 2024);
    assert_int_equal(c->standing.unreviewed, 1);
    assert_int_equal(c->standing.final, 0);
    approved[6] = 1; /* and the online training */
    s_stand(c, strict, &e, recs, S_CYCLE_MET_COUNT, 2024);
    assert_int_equal(c->standing.unreviewed, 0);
    assert_int_equal(c->standing.final, 1);

    c->approved = NULL;
    s_stand(c, lax, &e, recs, S_CYCLE_MET_COUNT, 2024);
    assert_int_equal(c->standing.unreviewed, 0);
    assert_int_equal(c->standing.final, 1);
    test_free(c);
    xs_policy_destroy(&strict);
    xs_policy_destroy(&lax);
}

/* A reason cut short by its buffer stays NUL-terminated and whole UTF-8. */
static void test_reason_fits_its_buffer(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou", "");
    xs_staff_entry_t e = s_entry("", "");
    xs_record_t none[1];
    s_case_t *c = test_calloc(1, sizeof *c);
    s_stand(c, p, &e, none, 0, 2025);
    size_t full = strlen(c->reason);
    for (size_t cap = 1; cap <= full + 1; cap++) {
        char out[1024];
        memset(out, 'x', sizeof out);
        size_t n = xs_standing_reason(p, &c->standing, NULL, 2025, out, cap);
        assert_true(n < cap);
        assert_int_equal(strlen(out), n);
        assert_true(xs_text_utf8_valid(out, n));
        assert_memory_equal(out, c->reason, n);
    }
    test_free(c);
    xs_policy_destroy(&p);
}

/* What the engine gives the one teacher of a run: their totals, copied. */
typedef struct s_zero_case {
    xs_certify_total_t totals[64];
    size_t count;
} s_zero_case_t;

static xs_err s_keep_totals(void *ctx, const xs_certify_teacher_t *t) {
    s_zero_case_t *z = ctx;
    z->count = t->total_count < 64 ? t->total_count : 64;
    memcpy(z->totals, t->totals, z->count * sizeof *z->totals);
    return XS_OK;
}

/* The zero totals of a teacher without records are exactly the engine's totals of a teacher
 * whose one record that year credits nothing (a lecture without its minutes), under every
 * shipped policy: same rows, order, requirements, met, binding and why. */
static void test_zero_totals_are_the_engines(void **state) {
    (void)state;
    static const char *const ids[] = {"baiwanzi", "dali", "wenzhou", "xinxiang"};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        xs_policy_t *p = s_policy(ids[k], "");
        xs_record_t r = s_rec("school_id=S1;date=2025-10-09;category=lecture", 0);
        xs_certify_row_t row;
        s_zero_case_t *z = test_calloc(1, sizeof *z);
        xs_certify_total_t *mine = test_calloc(64, sizeof *mine);
        assert_int_equal(xs_certify_run(p, NULL, &r, NULL, 1, NULL, &row, s_keep_totals, z), XS_OK);
        assert_int_equal(row.status, XS_CERT_REJECTED);
        size_t n = xs_standing_zero_totals(p, 2025, mine, 64);
        assert_int_equal(n, z->count);
        for (size_t i = 0; i < n; i++) {
            const xs_certify_total_t *a = &mine[i], *b = &z->totals[i];
            assert_int_equal(a->scope, b->scope);
            assert_int_equal(a->year, b->year);
            assert_int_equal(a->semester, b->semester);
            assert_int_equal(a->bucket, b->bucket);
            assert_int_equal(a->credited_seconds, 0);
            assert_int_equal(a->required_seconds, b->required_seconds);
            assert_int_equal(a->met, b->met);
            assert_int_equal(a->binding, b->binding);
            assert_int_equal(a->why, b->why);
            assert_int_equal(a->single_met, b->single_met);
        }
        assert_int_equal(xs_standing_zero_totals(p, 2025, mine, 2), n < 2 ? n : 2);
        test_free(mine);
        test_free(z);
        xs_policy_destroy(&p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exempt_under_half_the_year),
        cmocka_unit_test(test_unrostered_is_judged),
        cmocka_unit_test(test_no_records_is_not_met),
        cmocka_unit_test(test_advisory_against_binding),
        cmocka_unit_test(test_year_outside_the_ledger_is_einval),
        cmocka_unit_test(test_key_teacher_judged_in_the_cycles_last_year),
        cmocka_unit_test(test_two_roles_each_their_categories),
        cmocka_unit_test(test_probation_spans_two_years_with_a_part),
        cmocka_unit_test(test_require_review_makes_the_result_provisional),
        cmocka_unit_test(test_reason_fits_its_buffer),
        cmocka_unit_test(test_zero_totals_are_the_engines),
    };
    return cmocka_run_group_tests_name("standing", tests, NULL, NULL);
}
