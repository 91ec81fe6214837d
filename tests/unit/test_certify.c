/* test_certify: worked examples of schema/credit-rules.md §2-§4 and §6 a county admin can
 * check by hand. */
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
#include "xs/text.h"

#define S_H(h) ((uint32_t)(h)*3600u)
#define S_MAX_LEDGERS 64

/* ---- helpers ---- */

/* The text of a shipped policy file (schema/policies/<id>.ini); the caller frees it. */
static char *s_policy_text(const char *id, size_t *len) {
    char path[512];
    const char *root = getenv("XS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/schema/policies/%s.ini", root ? root : XS_SOURCE_DIR, id);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    char *text = test_malloc(XS_POLICY_FILE_MAX);
    *len = fread(text, 1, XS_POLICY_FILE_MAX, f);
    fclose(f);
    return text;
}

/* A policy from text, as a county would write its file. */
static xs_policy_t *s_parse(const char *text, size_t len) {
    char err[512];
    xs_policy_t *p = NULL;
    if (xs_policy_parse(&p, text, len, "test.ini", err, sizeof err) != XS_OK)
        fail_msg("%s", err);
    return p;
}

/* A shipped policy with sections added at the end of its file (extra may be ""). */
static xs_policy_t *s_policy_plus(const char *id, const char *extra) {
    size_t len, more = strlen(extra);
    char *text = s_policy_text(id, &len);
    if (len + more + 1 > XS_POLICY_FILE_MAX)
        fail_msg("policy text too long");
    text[len++] = '\n';
    memcpy(text + len, extra, more);
    xs_policy_t *p = s_parse(text, len + more);
    test_free(text);
    return p;
}

/* A shipped policy as its file says. */
static xs_policy_t *s_policy(const char *id) {
    return s_policy_plus(id, "");
}

/* A record from "field=value;field=value" as an office types it into the sheet. Strings
 * borrow spec, so spec must outlive the record (string literals do). */
static xs_record_t s_rec(const char *spec) {
    xs_record_t r;
    xs_record_init(&r);
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            fail_msg("bad spec %s", spec);
        int f = xs_field_parse(p, (size_t)(eq - p));
        if (f < 0)
            fail_msg("bad field in %s", spec);
        xs_reason why;
        if (xs_record_set_text(&r, (xs_field)f, eq + 1, (size_t)(end - eq - 1), &why) != XS_OK)
            fail_msg("bad value in %s: %s", spec, xs_reason_code(why));
        p = *end ? end + 1 : end;
    }
    return r;
}

static xs_record_t s_correction(uint64_t voids) {
    xs_record_t r;
    xs_record_init(&r);
    r.kind = XS_KIND_CORRECTION;
    r.voids = voids;
    r.present |= (1u << XS_F_KIND) | (1u << XS_F_VOIDS);
    return r;
}

/* A review by school S01 of record `reviews` of teacher (a string literal), on 2025-03-19;
 * a returned one says why. */
static xs_record_t s_review(const char *teacher, uint64_t reviews, xs_verdict verdict) {
    xs_record_t r = s_rec("school_id=S01;date=2025-03-19");
    r.kind = XS_KIND_REVIEW;
    r.teacher_id = (xs_str_t){teacher, (uint32_t)strlen(teacher)};
    r.reviews = reviews;
    r.verdict = (uint8_t)verdict;
    r.present |=
        (1u << XS_F_KIND) | (1u << XS_F_TEACHER_ID) | (1u << XS_F_REVIEWS) | (1u << XS_F_VERDICT);
    if (verdict == XS_VERDICT_RETURNED) {
        r.note = (xs_str_t){"证书学时与登记不符", (uint32_t)strlen("证书学时与登记不符")};
        r.present |= 1u << XS_F_NOTE;
    }
    return r;
}

typedef struct s_ledger {
    char teacher[XS_ID_MAX + 1];
    size_t record_count;
    size_t total_count;
    xs_certify_total_t totals[128];
    uint64_t digest; /* of everything the callback saw, records named by id */
} s_ledger_t;

typedef struct s_book {
    const uint64_t *ids; /* to name records by id in digests; NULL: index + 1 */
    size_t count;
    s_ledger_t ledgers[S_MAX_LEDGERS];
    uint64_t digest; /* of all ledgers in callback order */
} s_book_t;

static uint64_t s_fnv(uint64_t h, const void *bytes, size_t len) {
    const uint8_t *p = bytes;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static xs_err s_capture(void *ctx, const xs_certify_teacher_t *t) {
    s_book_t *book = ctx;
    if (book->count == S_MAX_LEDGERS)
        fail_msg("too many teachers for the test book");
    s_ledger_t *l = &book->ledgers[book->count++];
    memset(l, 0, sizeof *l);
    assert_true(t->teacher_id.len <= XS_ID_MAX);
    memcpy(l->teacher, t->teacher_id.ptr, t->teacher_id.len);
    l->record_count = t->record_count;
    l->total_count = t->total_count;
    assert_true(t->total_count <= 128);
    memcpy(l->totals, t->totals, t->total_count * sizeof *t->totals);
    uint64_t h = 0xcbf29ce484222325ull;
    h = s_fnv(h, t->teacher_id.ptr, t->teacher_id.len);
    for (size_t j = 0; j < t->record_count; j++) {
        uint64_t id = book->ids ? book->ids[t->records[j]] : t->records[j] + 1u;
        h = s_fnv(h, &id, sizeof id);
    }
    for (size_t k = 0; k < t->total_count; k++) {
        const xs_certify_total_t *x = &t->totals[k];
        uint64_t fields[] = {x->credited_seconds,
                             x->required_seconds,
                             x->single_seconds,
                             (uint64_t)(int64_t)x->year,
                             x->scope,
                             x->bucket,
                             x->semester,
                             x->met,
                             x->single_met,
                             x->binding,
                             x->why,
                             x->unreviewed};
        h = s_fnv(h, fields, sizeof fields);
    }
    l->digest = h;
    book->digest = s_fnv(book->digest ? book->digest : 0xcbf29ce484222325ull, &h, sizeof h);
    return XS_OK;
}

static void s_run(const xs_policy_t *p, const xs_record_t *recs, const uint64_t *ids, size_t n,
                  xs_certify_row_t *rows, s_book_t *book) {
    memset(book, 0, sizeof *book);
    book->ids = ids;
    assert_int_equal(xs_certify_run(p, NULL, recs, ids, n, NULL, rows, s_capture, book), XS_OK);
}

static const s_ledger_t *s_ledger(const s_book_t *book, const char *teacher) {
    for (size_t i = 0; i < book->count; i++)
        if (strcmp(book->ledgers[i].teacher, teacher) == 0)
            return &book->ledgers[i];
    fail_msg("no ledger for %s", teacher);
    return NULL;
}

/* The total row of teacher × scope × bucket × year (× semester). */
static const xs_certify_total_t *s_total(const xs_policy_t *p, const s_book_t *book,
                                         const char *teacher, xs_scope scope, const char *bucket,
                                         int year, unsigned semester) {
    const s_ledger_t *l = s_ledger(book, teacher);
    int b = xs_policy_bucket_find(p, bucket, strlen(bucket));
    assert_true(b >= 0);
    for (size_t k = 0; k < l->total_count; k++) {
        const xs_certify_total_t *x = &l->totals[k];
        if (x->scope == scope && x->bucket == b && x->year == year && x->semester == semester)
            return x;
    }
    fail_msg("no total %s %d %s %d-%u", teacher, scope, bucket, year, semester);
    return NULL;
}

static void s_expect(const xs_certify_row_t *row, xs_certify_status status, uint32_t credited,
                     xs_reason reason) {
    /* credited is given in minutes, the unit these examples are stated in */
    if (row->status != status || row->credited_seconds != credited * 60u || row->reason != reason)
        fail_msg("row: %s %u s %s; want %s %u min %s", xs_certify_status_name(row->status),
                 row->credited_seconds, xs_reason_code(row->reason), xs_certify_status_name(status),
                 credited, xs_reason_code(reason));
}

/* ---- §2: base credit ---- */

/* One record of each kind, in different years where a yearly cap would interfere: the
 * reflection and the designs too, as they share one cap (§6.2). */
static void test_base_credit_of_every_category(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    static const struct {
        const char *spec;
        uint32_t minutes;
    } cases[] = {
        {"teacher_id=T1;date=2024-10-08;category=lecture;minutes=90", 90},
        {"teacher_id=T1;date=2024-10-09;category=lecture;role=participant;minutes=45", 45},
        {"teacher_id=T1;date=2024-10-10;category=lecture;role=speaker;minutes=60", 240},
        {"teacher_id=T1;date=2024-10-11;category=external_training;hours=12.5", 750},
        {"teacher_id=T1;date=2024-10-12;category=external_training;days=2.5", 1200},
        {"teacher_id=T1;date=2024-10-13;category=online_training;hours=50", 3000},
        {"teacher_id=T1;date=2024-10-14;category=research_session;role=organizer", 60},
        {"teacher_id=T1;date=2024-10-15;category=research_session", 60},
        {"teacher_id=T1;date=2024-10-16;category=open_class", 240},
        {"teacher_id=T1;date=2016-10-17;category=reflection;chars=1000", 240},
        {"teacher_id=T1;date=2024-10-18;category=teaching_design;unit=1;work=U;lessons=4", 600},
        {"teacher_id=T1;date=2023-10-18;category=teaching_design;chars=800", 240},
        {"teacher_id=T1;date=2022-10-01;category=paper;chars=2000;level=county;grade=1;work=A",
         720},
        {"teacher_id=T1;date=2021-10-01;category=paper;chars=3000;level=municipal;grade=2;"
         "work=B",
         480},
        {"teacher_id=T1;date=2020-10-01;category=paper;chars=3000;level=national;grade=3;work=C",
         240},
        {"teacher_id=T1;date=2019-10-01;category=paper;chars=3000;level=national;"
         "grade=published;work=D",
         960},
        {"teacher_id=T1;date=2018-10-01;category=paper;chars=3000;level=provincial;"
         "grade=published;work=E",
         840},
        {"teacher_id=T1;date=2017-10-01;category=paper;chars=3000;level=municipal;"
         "grade=published;work=F",
         720},
        {"teacher_id=T1;date=2024-11-01;category=project;level=provincial;role=host;work=P1", 2400},
        {"teacher_id=T1;date=2024-11-02;category=project;level=national;role=participant;"
         "work=P2",
         1200},
        {"teacher_id=T1;date=2024-11-03;category=project;level=municipal;role=main_writer;"
         "work=P3",
         1800},
        {"teacher_id=T1;date=2024-11-04;category=project;level=county;work=P4", 900},
        {"teacher_id=T1;date=2024-11-05;category=exam;event=2024 exam;score=88", 120},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    xs_record_t recs[N];
    xs_certify_row_t rows[N];
    s_book_t book;
    for (size_t i = 0; i < N; i++)
        recs[i] = s_rec(cases[i].spec);
    s_run(p, recs, NULL, N, rows, &book);
    for (size_t i = 0; i < N; i++) {
        if (rows[i].status != XS_CERT_CREDITED ||
            rows[i].credited_seconds != cases[i].minutes * 60u ||
            rows[i].base_seconds != cases[i].minutes * 60u)
            fail_msg("%s: %s %u", cases[i].spec, xs_certify_status_name(rows[i].status),
                     rows[i].credited_seconds);
    }
    assert_int_equal(rows[N - 1].tier, XS_TIER_MIDDLE); /* alone: fewer than 3 */
    xs_policy_destroy(&p);
}

/* A school expert speaking 45 minutes gets 3 h, the 45-minute listener 0.75 h (4:1). */
static void test_speaker_counts_four_times(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=lecture;role=speaker;minutes=45;"
              "event=新课标专题讲座"),
        s_rec("teacher_id=T2;date=2024-10-10;category=lecture;minutes=45;event=新课标专题讲座"),
    };
    xs_certify_row_t rows[2];
    s_book_t book;
    s_run(p, recs, NULL, 2, rows, &book);
    char hours[24];
    s_expect(&rows[0], XS_CERT_CREDITED, 180, XS_REASON_NONE);
    xs_certify_format_hours(hours, sizeof hours, rows[0].credited_seconds);
    assert_string_equal(hours, "3.00");
    s_expect(&rows[1], XS_CERT_CREDITED, 45, XS_REASON_NONE);
    xs_certify_format_hours(hours, sizeof hours, rows[1].credited_seconds);
    assert_string_equal(hours, "0.75");
    xs_policy_destroy(&p);
}

/* 2.5 days away without a certificate's hours: 2.5 × 8 h = 20 h. Half a day: 4 h. */
static void test_external_training_2_5_days_without_certificate_is_20h(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=external_training;days=2.5"),
        s_rec("teacher_id=T1;date=2024-10-20;category=external_training;days=0.5"),
    };
    xs_certify_row_t rows[2];
    s_book_t book;
    s_run(p, recs, NULL, 2, rows, &book);
    char hours[24];
    xs_certify_format_hours(hours, sizeof hours, rows[0].credited_seconds);
    assert_string_equal(hours, "20.00");
    s_expect(&rows[1], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    xs_policy_destroy(&p);
}

/* A certificate of 6 h for a 3-day course: the certificate's 6 h count, not 24 h. */
static void test_external_training_with_hours_and_days_uses_hours(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t rec = s_rec("teacher_id=T1;date=2024-10-10;category=external_training;hours=6;"
                            "days=3");
    xs_certify_row_t row;
    s_book_t book;
    s_run(p, &rec, NULL, 1, &row, &book);
    s_expect(&row, XS_CERT_CREDITED, 360, XS_REASON_NONE);
    xs_policy_destroy(&p);
}

/* 999 characters are one short of 1000: rejected, "字数不足1000"; the same for designs
 * (800) and papers (2000). */
static void test_reflection_999_chars_rejected_too_short(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=reflection;chars=999"),
        s_rec("teacher_id=T1;date=2024-10-10;category=teaching_design;chars=799"),
        s_rec("teacher_id=T1;date=2024-10-10;category=paper;chars=1999;level=county;grade=1;"
              "work=W"),
    };
    static const char *const texts[] = {"字数不足1000", "字数不足800", "字数不足2000"};
    xs_certify_row_t rows[3];
    s_book_t book;
    s_run(p, recs, NULL, 3, rows, &book);
    for (size_t i = 0; i < 3; i++) {
        char text[64];
        s_expect(&rows[i], XS_CERT_REJECTED, 0, XS_REASON_TOO_SHORT);
        assert_int_equal(rows[i].base_seconds, 0);
        assert_int_equal(rows[i].field, XS_F_CHARS);
        size_t len = xs_certify_reason_text(p, &recs[i], &rows[i], text, sizeof text);
        assert_string_equal(text, texts[i]);
        assert_int_equal(len, strlen(texts[i]));
    }
    xs_policy_destroy(&p);
}

/* Two 4-h reflections in 2024-2025: the earlier is kept, the later capped; one in
 * 2025-2026 (from 09-01) is credited. On the same day the smaller record id wins. */
static void test_two_reflections_in_one_year_one_capped_by_tie_break(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-11-20;category=reflection;chars=1500"),
        s_rec("teacher_id=T1;date=2024-10-10;category=reflection;chars=1200"),
        s_rec("teacher_id=T1;date=2025-08-31;category=reflection;chars=3000"),
        s_rec("teacher_id=T1;date=2025-09-01;category=reflection;chars=1000"),
        s_rec("teacher_id=T2;date=2024-10-10;category=reflection;chars=1200"),
        s_rec("teacher_id=T2;date=2024-10-10;category=reflection;chars=1300"),
    };
    uint64_t ids[] = {11, 12, 13, 14, 20, 7};
    xs_certify_row_t rows[6];
    s_book_t book;
    s_run(p, recs, ids, 6, rows, &book);
    s_expect(&rows[0], XS_CERT_CAPPED, 0, XS_REASON_CAPPED);
    assert_int_equal(rows[0].related_id, 12);
    assert_int_equal(rows[0].base_seconds, 240 * 60);
    s_expect(&rows[1], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    s_expect(&rows[2], XS_CERT_CAPPED, 0, XS_REASON_CAPPED);
    s_expect(&rows[3], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    assert_int_equal(rows[3].year, 2025);
    s_expect(&rows[4], XS_CERT_CAPPED, 0, XS_REASON_CAPPED);
    assert_int_equal(rows[4].related_id, 7);
    s_expect(&rows[5], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     240 * 60);
    xs_policy_destroy(&p);
}

/* A unit design (10 h) and a 500-character design in one year: the short one is rejected,
 * the unit design credited. With a 900-character design instead, the unit design is kept
 * (higher credit, though later) and the other capped. */
static void test_unit_design_and_short_design_in_one_year(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2025-03-01;category=teaching_design;unit=1;work=圆的面积;"
              "lessons=3"),
        s_rec("teacher_id=T1;date=2024-10-01;category=teaching_design;chars=500"),
        s_rec("teacher_id=T2;date=2025-03-01;category=teaching_design;unit=1;work=圆的面积;"
              "lessons=3"),
        s_rec("teacher_id=T2;date=2024-10-01;category=teaching_design;chars=900"),
    };
    xs_certify_row_t rows[4];
    s_book_t book;
    s_run(p, recs, NULL, 4, rows, &book);
    s_expect(&rows[0], XS_CERT_CREDITED, 600, XS_REASON_NONE);
    s_expect(&rows[1], XS_CERT_REJECTED, 0, XS_REASON_TOO_SHORT);
    s_expect(&rows[2], XS_CERT_CREDITED, 600, XS_REASON_NONE);
    s_expect(&rows[3], XS_CERT_CAPPED, 0, XS_REASON_CAPPED);
    assert_int_equal(rows[3].related_id, 3);
    xs_policy_destroy(&p);
}

/* A paper awarded first prize at county level in May 2024 (12 h) and the same paper, its
 * title typed with other case and spacing, published provincially in March 2025 (14 h):
 * counted once, at 14 h; the award is a duplicate. */
static void test_same_paper_awarded_2024_published_2025_counts_once_at_14h(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-05-20;category=paper;chars=5000;level=county;grade=1;"
              "work=Rural Reading  Circles in Village Schools"),
        s_rec("teacher_id=T1;date=2025-03-15;category=paper;chars=5200;level=provincial;"
              "grade=published;work=rural reading circles in\tVILLAGE schools"),
        s_rec("teacher_id=T2;date=2024-05-20;category=paper;chars=5000;level=county;grade=2;"
              "work=农村小学 阅读圈"),
        s_rec("teacher_id=T2;date=2023-05-20;category=paper;chars=5000;level=county;grade=3;"
              "work=农村小学\xe3\x80\x80\xe3\x80\x80阅读圈"),
    };
    xs_certify_row_t rows[4];
    s_book_t book;
    s_run(p, recs, NULL, 4, rows, &book);
    s_expect(&rows[0], XS_CERT_DUPLICATE, 0, XS_REASON_DUPLICATE_WORK);
    assert_int_equal(rows[0].related_id, 2);
    assert_int_equal(rows[0].base_seconds, 720 * 60);
    s_expect(&rows[1], XS_CERT_CREDITED, 840, XS_REASON_NONE);
    s_expect(&rows[2], XS_CERT_CREDITED, 480, XS_REASON_NONE);
    s_expect(&rows[3], XS_CERT_DUPLICATE, 0, XS_REASON_DUPLICATE_WORK);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2023, 0)->credited_seconds, 0);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     840 * 60);
    char norm[64];
    size_t len = xs_certify_normalize_work("  Rural Reading  Circles\t in \xe3\x80\x80X ", 33, norm,
                                           sizeof norm);
    assert_int_equal(len, strlen("rural reading circles in x"));
    assert_memory_equal(norm, "rural reading circles in x", len);
    xs_policy_destroy(&p);
}

/* Six teachers sit one exam: 90, 90, 80, 70, 70, 60. n = 6, floor(n/3) = 2.
 * 90: k = 0 < 2: top. 80: k = 2, m = 3: middle. 70: k = 3, m = 1 < 2: bottom.
 * 60: m = 0: bottom. E1's retake at 50 is a duplicate and does not count in n. */
static void test_exam_six_participants_90_90_80_70_70_60(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=E1;date=2025-01-10;category=exam;event=2025年县考;score=90"),
        s_rec("teacher_id=E2;date=2025-01-10;category=exam;event=2025年县考;score=90"),
        s_rec("teacher_id=E3;date=2025-01-10;category=exam;event=2025年县考;score=80"),
        s_rec("teacher_id=E4;date=2025-01-10;category=exam;event=2025年县考;score=70"),
        s_rec("teacher_id=E5;date=2025-01-10;category=exam;event=2025年县考;score=70"),
        s_rec("teacher_id=E6;date=2025-01-10;category=exam;event=2025年县考;score=60"),
        s_rec("teacher_id=E1;date=2025-01-20;category=exam;event=2025年县考;score=50"),
        /* Three with distinct scores: one per tier. */
        s_rec("teacher_id=F1;date=2025-01-10;category=exam;event=F;score=90.5"),
        s_rec("teacher_id=F2;date=2025-01-10;category=exam;event=F;score=80"),
        s_rec("teacher_id=F3;date=2025-01-10;category=exam;event=F;score=70"),
        /* Three equal: k = 0 < 1 for all: all top. */
        s_rec("teacher_id=G1;date=2025-01-10;category=exam;event=G;score=75"),
        s_rec("teacher_id=G2;date=2025-01-10;category=exam;event=G;score=75"),
        s_rec("teacher_id=G3;date=2025-01-10;category=exam;event=G;score=75"),
        /* Two: fewer than three, both middle. */
        s_rec("teacher_id=H1;date=2025-01-10;category=exam;event=H;score=100"),
        s_rec("teacher_id=H2;date=2025-01-10;category=exam;event=H;score=0"),
    };
    enum { N = sizeof recs / sizeof recs[0] };
    static const uint32_t want[N] = {180, 180, 120, 60,  60,  60,  0,  180,
                                     120, 60,  180, 180, 180, 120, 120};
    static const uint8_t tiers[N] = {1, 1, 2, 3, 3, 3, 3, 1, 2, 3, 1, 1, 1, 2, 2};
    xs_certify_row_t rows[N];
    s_book_t book;
    s_run(p, recs, NULL, N, rows, &book);
    for (size_t i = 0; i < N; i++) {
        if (rows[i].credited_seconds != want[i] * 60u || rows[i].tier != tiers[i])
            fail_msg("record %zu: %u min tier %u", i + 1, rows[i].credited_seconds, rows[i].tier);
    }
    s_expect(&rows[6], XS_CERT_DUPLICATE, 0, XS_REASON_DUPLICATE_EVENT);
    assert_int_equal(rows[6].related_id, 1);

    xs_certify_exams_t *exams = NULL;
    assert_int_equal(xs_certify_exams_build(&exams, p, recs, NULL, N), XS_OK);
    assert_int_equal(xs_certify_exams_count(exams), 4);
    assert_int_equal(xs_certify_exams_participants(exams, "2025年县考", strlen("2025年县考")), 6);
    assert_int_equal(xs_certify_exams_participants(exams, "H", 1), 2);
    assert_int_equal(xs_certify_exams_participants(exams, "nope", 4), 0);
    xs_certify_exams_destroy(&exams);
    assert_null(exams);
    xs_policy_destroy(&p);
}

/* One event, recorded twice for T1 (as listener, then as speaker): counted once, the
 * speaker's higher credit kept. T2 at the same event is unaffected; the same event name in
 * another category is another activity. */
static void test_duplicate_event_counted_once(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=lecture;minutes=90;event=师德专题"),
        s_rec("teacher_id=T1;date=2024-10-12;category=lecture;role=speaker;minutes=90;"
              "event=师德专题"),
        s_rec("teacher_id=T2;date=2024-10-10;category=lecture;minutes=90;event=师德专题"),
        s_rec("teacher_id=T1;date=2024-11-10;category=research_session;event=语文组第3次"),
        s_rec("teacher_id=T1;date=2024-11-03;category=research_session;event=语文组第3次"),
        s_rec("teacher_id=T1;date=2024-11-03;category=open_class;event=语文组第3次"),
        s_rec("teacher_id=T1;date=2024-11-04;category=research_session"),
        s_rec("teacher_id=T1;date=2024-11-05;category=research_session"),
    };
    enum { N = sizeof recs / sizeof recs[0] };
    xs_certify_row_t rows[N];
    s_book_t book;
    s_run(p, recs, NULL, N, rows, &book);
    s_expect(&rows[0], XS_CERT_DUPLICATE, 0, XS_REASON_DUPLICATE_EVENT);
    assert_int_equal(rows[0].related_id, 2);
    s_expect(&rows[1], XS_CERT_CREDITED, 360, XS_REASON_NONE);
    s_expect(&rows[2], XS_CERT_CREDITED, 90, XS_REASON_NONE);
    s_expect(&rows[3], XS_CERT_DUPLICATE, 0, XS_REASON_DUPLICATE_EVENT);
    assert_int_equal(rows[3].related_id, 5); /* same credit: the earlier date */
    s_expect(&rows[4], XS_CERT_CREDITED, 60, XS_REASON_NONE);
    s_expect(&rows[5], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    s_expect(&rows[6], XS_CERT_CREDITED, 60, XS_REASON_NONE); /* no event: no duplicate */
    s_expect(&rows[7], XS_CERT_CREDITED, 60, XS_REASON_NONE);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     (360 + 60 + 240 + 60 + 60) * 60);
    xs_policy_destroy(&p);
}

/* Record 1 is voided by corrections 3 and 6 (the smaller, 3, is named); a correction of a
 * missing record or of a correction is rejected; nothing is erased. */
static void test_voided_record_and_corrections(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=lecture;minutes=90"),
        s_rec("teacher_id=T1;date=2024-10-11;category=lecture;minutes=60"),
        s_correction(1),
        s_correction(99),
        s_correction(3),
        s_correction(1),
        s_rec("date=2024-10-11;category=lecture;minutes=60"), /* no teacher */
    };
    enum { N = sizeof recs / sizeof recs[0] };
    xs_certify_row_t rows[N];
    s_book_t book;
    s_run(p, recs, NULL, N, rows, &book);
    s_expect(&rows[0], XS_CERT_VOIDED, 0, XS_REASON_VOIDED);
    assert_int_equal(rows[0].related_id, 3);
    assert_int_equal(rows[0].year, 2024);
    s_expect(&rows[1], XS_CERT_CREDITED, 60, XS_REASON_NONE);
    s_expect(&rows[2], XS_CERT_CORRECTION, 0, XS_REASON_NONE);
    assert_int_equal(rows[2].related_id, 1);
    s_expect(&rows[3], XS_CERT_REJECTED, 0, XS_REASON_BAD_TARGET);
    s_expect(&rows[4], XS_CERT_REJECTED, 0, XS_REASON_BAD_TARGET);
    s_expect(&rows[5], XS_CERT_CORRECTION, 0, XS_REASON_NONE);
    s_expect(&rows[6], XS_CERT_REJECTED, 0, XS_REASON_MISSING_FIELD);
    assert_int_equal(rows[6].field, XS_F_TEACHER_ID);
    assert_int_equal(book.count, 1);
    assert_int_equal(s_ledger(&book, "T1")->record_count, 2);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     60 * 60);
    xs_policy_destroy(&p);
}

/* Records the office cannot credit, each with its reason and field; the rest of the run
 * goes on. */
static void test_validation_rejections(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    static const struct {
        const char *spec;
        xs_reason reason;
        xs_field field;
    } cases[] = {
        {"teacher_id=T1;date=2024-10-10;category=lecture", XS_REASON_MISSING_FIELD, XS_F_MINUTES},
        {"teacher_id=T1;date=2024-10-10;category=lecture;minutes=0", XS_REASON_OUT_OF_RANGE,
         XS_F_MINUTES},
        {"teacher_id=T1;date=2024-10-10;category=lecture;minutes=1441", XS_REASON_OUT_OF_RANGE,
         XS_F_MINUTES},
        {"teacher_id=T1;date=2024-10-10;category=lecture;role=host;minutes=10", XS_REASON_BAD_ROLE,
         XS_F_ROLE},
        {"teacher_id=T1;date=2024-10-10;category=research_session;role=speaker", XS_REASON_BAD_ROLE,
         XS_F_ROLE},
        {"teacher_id=T1;date=2024-10-10;category=paper;chars=3000;level=school;grade=1;work=W",
         XS_REASON_BAD_AWARD, XS_F_LEVEL},
        {"teacher_id=T1;date=2024-10-10;category=paper;chars=3000;level=county;"
         "grade=published;work=W",
         XS_REASON_BAD_PUBLICATION, XS_F_LEVEL},
        {"teacher_id=T1;date=2024-10-10;category=paper;chars=3000;level=county;grade=1",
         XS_REASON_MISSING_FIELD, XS_F_WORK},
        {"teacher_id=T1;date=2024-10-10;category=exam;event=E", XS_REASON_MISSING_FIELD,
         XS_F_SCORE},
        {"teacher_id=T1;date=2024-10-10;category=exam;score=80", XS_REASON_MISSING_FIELD,
         XS_F_EVENT},
        {"teacher_id=T1;date=2024-10-10;category=exam;event=E;score=1000.01",
         XS_REASON_OUT_OF_RANGE, XS_F_SCORE},
        {"teacher_id=T1;date=2024-10-10;category=project;level=school;work=P", XS_REASON_BAD_VALUE,
         XS_F_LEVEL},
        {"teacher_id=T1;date=2024-10-10;category=external_training", XS_REASON_MISSING_FIELD,
         XS_F_HOURS},
        {"teacher_id=T1;date=2024-10-10;category=external_training;days=365.5",
         XS_REASON_OUT_OF_RANGE, XS_F_DAYS},
        {"teacher_id=T1;date=2024-10-10;category=online_training;hours=1000.01",
         XS_REASON_OUT_OF_RANGE, XS_F_HOURS},
        {"teacher_id=T1;date=2024-10-10;category=reflection;chars=10000001", XS_REASON_OUT_OF_RANGE,
         XS_F_CHARS},
        {"teacher_id=T1;category=open_class", XS_REASON_MISSING_FIELD, XS_F_DATE},
        {"teacher_id=T1;date=2024-10-10", XS_REASON_MISSING_FIELD, XS_F_CATEGORY},
        {"date=2024-10-10;category=open_class", XS_REASON_MISSING_FIELD, XS_F_TEACHER_ID},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    xs_record_t recs[N + 2];
    xs_certify_row_t rows[N + 2];
    for (size_t i = 0; i < N; i++)
        recs[i] = s_rec(cases[i].spec);
    recs[N] = s_rec("teacher_id=T1;date=2024-10-10;category=open_class");
    recs[N].category = 42; /* from a newer sender */
    recs[N + 1] = s_rec("teacher_id=T1;date=2024-10-10;category=open_class");
    s_book_t book;
    s_run(p, recs, NULL, N + 2, rows, &book);
    for (size_t i = 0; i < N; i++) {
        if (rows[i].status != XS_CERT_REJECTED || rows[i].reason != cases[i].reason ||
            rows[i].field != cases[i].field || rows[i].credited_seconds != 0)
            fail_msg("%s: %s %s %s", cases[i].spec, xs_certify_status_name(rows[i].status),
                     xs_reason_code(rows[i].reason), xs_field_name(rows[i].field));
    }
    s_expect(&rows[N], XS_CERT_REJECTED, 0, XS_REASON_UNKNOWN_CATEGORY);
    s_expect(&rows[N + 1], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     240 * 60);
    xs_policy_destroy(&p);
}

/* ---- §1 and §4: years, semesters, cycles and each shipped policy ---- */

/* Dali: 08-31 closes 2024-2025 (its second semester); 09-01 opens 2025-2026; 01-31 is
 * still semester 1; 02-01 starts semester 2. */
static void test_academic_year_and_semester_boundaries(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("dali");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2025-08-31;category=lecture;minutes=60"),
        s_rec("teacher_id=T1;date=2025-09-01;category=lecture;minutes=120"),
        s_rec("teacher_id=T1;date=2026-01-31;category=lecture;minutes=180"),
        s_rec("teacher_id=T1;date=2026-02-01;category=lecture;minutes=240"),
    };
    static const int years[] = {2024, 2025, 2025, 2025};
    static const unsigned semesters[] = {2, 1, 1, 2};
    xs_certify_row_t rows[4];
    s_book_t book;
    s_run(p, recs, NULL, 4, rows, &book);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rows[i].year, years[i]);
        assert_int_equal(rows[i].semester, semesters[i]);
    }
    assert_int_equal(
        s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "activity", 2024, 1)->credited_seconds, 0);
    assert_int_equal(
        s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "activity", 2024, 2)->credited_seconds, 60 * 60);
    assert_int_equal(
        s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "activity", 2025, 1)->credited_seconds,
        300 * 60);
    assert_int_equal(
        s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "activity", 2025, 2)->credited_seconds,
        240 * 60);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "school", 2025, 0)->credited_seconds,
                     540 * 60);
    /* Two years, each: 4 year rows and 2 × 2 semester rows; dali has no cycle rows. */
    assert_int_equal(s_ledger(&book, "T1")->total_count, 2 * (4 + 4));
    xs_policy_destroy(&p);
}

/* Baiwanzi: 40 h in each year of 2021-2026 meets every year and the 200-h cycle; with
 * 39.99 h (143964 seconds) in one year, that year and the cycle are not met. */
static void test_baiwanzi_40h_a_year_and_200h_a_cycle(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=A;date=2021-10-01;category=online_training;hours=40"),
        s_rec("teacher_id=A;date=2022-10-01;category=online_training;hours=40"),
        s_rec("teacher_id=A;date=2023-10-01;category=online_training;hours=40"),
        s_rec("teacher_id=A;date=2024-10-01;category=online_training;hours=40"),
        s_rec("teacher_id=A;date=2026-08-31;category=online_training;hours=40"),
        s_rec("teacher_id=B;date=2021-10-01;category=online_training;hours=40"),
        s_rec("teacher_id=B;date=2022-10-01;category=online_training;hours=40"),
        s_rec("teacher_id=B;date=2023-10-01;category=online_training;hours=40"),
        s_rec("teacher_id=B;date=2024-10-01;category=online_training;hours=40"),
        s_rec("teacher_id=B;date=2025-10-01;category=online_training;hours=39.99"),
    };
    xs_certify_row_t rows[10];
    s_book_t book;
    s_run(p, recs, NULL, 10, rows, &book);
    for (int y = 2021; y <= 2025; y++) {
        const xs_certify_total_t *a = s_total(p, &book, "A", XS_SCOPE_YEAR, "total", y, 0);
        assert_int_equal(a->credited_seconds, S_H(40));
        assert_int_equal(a->required_seconds, S_H(40));
        assert_int_equal(a->met, XS_MET_YES);
    }
    const xs_certify_total_t *cycle = s_total(p, &book, "A", XS_SCOPE_CYCLE, "total", 2021, 0);
    assert_int_equal(cycle->credited_seconds, S_H(200));
    assert_int_equal(cycle->met, XS_MET_YES);
    assert_int_equal(cycle->single_met, XS_MET_NONE);
    const xs_certify_total_t *b = s_total(p, &book, "B", XS_SCOPE_YEAR, "total", 2025, 0);
    assert_int_equal(b->credited_seconds, 143964);
    assert_int_equal(b->met, XS_MET_NO);
    cycle = s_total(p, &book, "B", XS_SCOPE_CYCLE, "total", 2021, 0);
    assert_int_equal(cycle->credited_seconds, S_H(160) + 143964);
    assert_int_equal(cycle->met, XS_MET_NO);
    char hours[24];
    xs_certify_format_hours(hours, sizeof hours, cycle->credited_seconds);
    assert_string_equal(hours, "199.99"); /* exact: 160 h + 39.99 h */

    /* Reporting 2024-2025 .. 2026-2027 for B: years without records are shown empty, and
     * the two cycles they touch are given whole. */
    xs_certify_opts_t opts = {.first_year = 2024, .last_year = 2026};
    memset(&book, 0, sizeof book);
    assert_int_equal(xs_certify_run(p, NULL, recs + 5, NULL, 5, &opts, rows, s_capture, &book),
                     XS_OK);
    assert_int_equal(s_ledger(&book, "B")->total_count, 3 + 2);
    assert_int_equal(s_total(p, &book, "B", XS_SCOPE_YEAR, "total", 2026, 0)->met, XS_MET_NO);
    assert_int_equal(s_total(p, &book, "B", XS_SCOPE_CYCLE, "total", 2021, 0)->credited_seconds,
                     S_H(160) + 143964);
    assert_int_equal(s_total(p, &book, "B", XS_SCOPE_CYCLE, "total", 2026, 0)->credited_seconds, 0);
    xs_policy_destroy(&p);
}

/* Dali 2024-2025: semester 1 has 18 h of activity (a course) and 10 h of outcome: a unit
 * design (10 h) and a reflection (4 h), of which one cap over both keeps the unit design
 * (§6.2; revision 1 credited both, 14 h). Semester 2 has 18 h of activity (lectures) but
 * only 4 h of outcome (a third prize). School = activity + outcome = 18 + 10 + 18 + 4 =
 * 50 h ≥ 50 h; network 30 h. */
static void test_dali_semesters_and_school_is_activity_plus_outcome(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("dali");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-15;category=external_training;hours=18"),
        s_rec("teacher_id=T1;date=2024-11-15;category=reflection;chars=1200"),
        s_rec("teacher_id=T1;date=2024-12-15;category=teaching_design;unit=1;work=分数;"
              "lessons=5"),
        s_rec("teacher_id=T1;date=2025-03-15;category=lecture;minutes=540;event=L1"),
        s_rec("teacher_id=T1;date=2025-04-15;category=lecture;minutes=540;event=L2"),
        s_rec("teacher_id=T1;date=2025-05-15;category=paper;chars=2500;level=county;grade=3;"
              "work=W"),
        s_rec("teacher_id=T1;date=2024-11-01;category=online_training;hours=30"),
    };
    xs_certify_row_t rows[7];
    s_book_t book;
    s_run(p, recs, NULL, 7, rows, &book);
    const xs_certify_total_t *x;
    x = s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "activity", 2024, 1);
    assert_int_equal(x->credited_seconds, S_H(18));
    assert_int_equal(x->met, XS_MET_YES);
    x = s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "outcome", 2024, 1);
    assert_int_equal(x->credited_seconds, S_H(10));
    assert_int_equal(x->met, XS_MET_YES);
    s_expect(&rows[1], XS_CERT_CAPPED, 0, XS_REASON_CAPPED);
    assert_int_equal(rows[1].related_id, 3);
    x = s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "activity", 2024, 2);
    assert_int_equal(x->credited_seconds, S_H(18));
    assert_int_equal(x->met, XS_MET_YES);
    x = s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "outcome", 2024, 2);
    assert_int_equal(x->credited_seconds, S_H(4));
    assert_int_equal(x->required_seconds, S_H(7));
    assert_int_equal(x->met, XS_MET_NO);
    x = s_total(p, &book, "T1", XS_SCOPE_YEAR, "school", 2024, 0);
    assert_int_equal(x->credited_seconds, S_H(50));
    assert_int_equal(x->met, XS_MET_YES);
    x = s_total(p, &book, "T1", XS_SCOPE_YEAR, "network", 2024, 0);
    assert_int_equal(x->credited_seconds, S_H(30));
    assert_int_equal(x->met, XS_MET_YES);
    x = s_total(p, &book, "T1", XS_SCOPE_YEAR, "activity", 2024, 0);
    assert_int_equal(x->met, XS_MET_NONE);
    xs_policy_destroy(&p);
}

/* Wenzhou, cycle 2021-2026: both teachers have 74 h a year (370 h; school 120 h). A's
 * external training came as two courses of 45 h: the cycle is not met. B had one 90-h
 * course: met. */
static void test_wenzhou_cycle_needs_one_90h_external_training(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou");
    static const char *const years[] = {"2021", "2022", "2023", "2024", "2025"};
    xs_record_t recs[32];
    char specs[32][160];
    size_t n = 0;
    for (size_t t = 0; t < 2; t++) {
        const char *who = t ? "B" : "A";
        for (size_t y = 0; y < 5; y++) {
            snprintf(specs[n], sizeof specs[n],
                     "teacher_id=%s;date=%s-10-01;category=lecture;minutes=1440", who, years[y]);
            recs[n] = s_rec(specs[n]);
            n++;
            /* 50 h a year: online, except the external training years. */
            snprintf(specs[n], sizeof specs[n],
                     "teacher_id=%s;date=%s-11-01;category=online_training;hours=%s", who, years[y],
                     y < 2 ? (t ? (y == 0 ? "5" : "50") : "5") : "50");
            recs[n] = s_rec(specs[n]);
            n++;
        }
    }
    /* A: two 45-h courses (2021, 2022); B: one 90-h course in 2021 (and 45 h online more
     * in 2022 so both have the same totals). */
    recs[n++] = s_rec("teacher_id=A;date=2021-12-01;category=external_training;hours=45");
    recs[n++] = s_rec("teacher_id=A;date=2022-12-01;category=external_training;hours=45");
    recs[n++] = s_rec("teacher_id=B;date=2021-12-01;category=external_training;hours=90");
    recs[n++] = s_rec("teacher_id=B;date=2022-12-01;category=online_training;hours=0.01");
    xs_certify_row_t rows[32];
    s_book_t book;
    s_run(p, recs, NULL, n, rows, &book);
    const xs_certify_total_t *a = s_total(p, &book, "A", XS_SCOPE_CYCLE, "total", 2021, 0);
    const xs_certify_total_t *b = s_total(p, &book, "B", XS_SCOPE_CYCLE, "total", 2021, 0);
    assert_int_equal(a->credited_seconds, S_H(370));
    assert_true(b->credited_seconds >= S_H(360));
    assert_int_equal(a->required_seconds, S_H(360));
    assert_int_equal(a->single_met, XS_MET_NO);
    assert_int_equal(a->single_seconds, S_H(45));
    assert_int_equal(a->met, XS_MET_NO);
    assert_int_equal(b->single_met, XS_MET_YES);
    assert_int_equal(b->single_seconds, S_H(90));
    assert_int_equal(b->met, XS_MET_YES);
    const xs_certify_total_t *school = s_total(p, &book, "A", XS_SCOPE_CYCLE, "school", 2021, 0);
    assert_int_equal(school->credited_seconds, S_H(120));
    assert_int_equal(school->met, XS_MET_YES);
    assert_int_equal(school->single_met, XS_MET_NONE);
    const xs_certify_total_t *year = s_total(p, &book, "A", XS_SCOPE_YEAR, "school", 2021, 0);
    assert_int_equal(year->credited_seconds, S_H(24));
    assert_int_equal(year->met, XS_MET_YES);
    year = s_total(p, &book, "A", XS_SCOPE_YEAR, "total", 2021, 0);
    assert_int_equal(year->credited_seconds, S_H(24 + 5 + 45));
    assert_int_equal(year->met, XS_MET_YES);
    xs_policy_destroy(&p);
}

/* Xinxiang: 16 h of county-organised online training in 2024-2025 meets network_school;
 * school has no requirement. The online records name their level: without one they would
 * count in school (§6.5). */
static void test_xinxiang_network_school_16h_a_year(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("xinxiang");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-01;category=online_training;hours=16;level=county"),
        s_rec("teacher_id=T1;date=2024-10-02;category=open_class"),
        s_rec("teacher_id=T2;date=2024-10-01;category=online_training;hours=15.99;"
              "level=provincial"),
    };
    xs_certify_row_t rows[3];
    s_book_t book;
    s_run(p, recs, NULL, 3, rows, &book);
    const xs_certify_total_t *x = s_total(p, &book, "T1", XS_SCOPE_YEAR, "network_school", 2024, 0);
    assert_int_equal(x->met, XS_MET_YES);
    x = s_total(p, &book, "T1", XS_SCOPE_YEAR, "school", 2024, 0);
    assert_int_equal(x->credited_seconds, 240 * 60);
    assert_int_equal(x->met, XS_MET_NONE);
    x = s_total(p, &book, "T2", XS_SCOPE_YEAR, "network_school", 2024, 0);
    assert_int_equal(x->met, XS_MET_NO);
    x = s_total(p, &book, "T1", XS_SCOPE_CYCLE, "network_school", 2021, 0);
    assert_int_equal(x->credited_seconds, S_H(16));
    assert_int_equal(x->met, XS_MET_NO);
    xs_policy_destroy(&p);
}

/* ---- §6: revision 2 ---- */

/* The reason text of a total, as `xueshi certify` prints it. */
static const char *s_reason(const xs_policy_t *p, const xs_certify_total_t *x) {
    static char text[256];
    xs_certify_total_reason(p, x, text, sizeof text);
    return text;
}

/* §6.1, §6.5: three certificates of a county programme, 5.34 + 5.34 + 5.32 h in 2024-2025:
 * (534 + 534 + 532) hundredths × 36 s = 1600 × 36 = 57600 s = 16.00 h ≥ 16 h: met. (In
 * minutes, revision 1 rounded each to 320 + 320 + 319 = 959 min = 15.98 h: not met.) */
static void test_xinxiang_three_certificates_make_exactly_16h(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("xinxiang");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-08;category=online_training;hours=5.34;level=county"),
        s_rec("teacher_id=T1;date=2024-12-08;category=online_training;hours=5.34;level=county"),
        s_rec("teacher_id=T1;date=2025-04-08;category=online_training;hours=5.32;level=county"),
    };
    xs_certify_row_t rows[3];
    s_book_t book;
    s_run(p, recs, NULL, 3, rows, &book);
    assert_int_equal(rows[0].credited_seconds, 19224); /* 534 × 36 */
    assert_int_equal(rows[2].credited_seconds, 19152); /* 532 × 36 */
    const xs_certify_total_t *x = s_total(p, &book, "T1", XS_SCOPE_YEAR, "network_school", 2024, 0);
    assert_int_equal(x->credited_seconds, 57600);
    char hours[24];
    xs_certify_format_hours(hours, sizeof hours, x->credited_seconds);
    assert_string_equal(hours, "16.00");
    assert_int_equal(x->required_seconds, S_H(16));
    assert_int_equal(x->met, XS_MET_YES);
    assert_int_equal(x->binding, 1);
    assert_int_equal(x->why, 0);
    assert_string_equal(s_reason(p, x), "");
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "school", 2024, 0)->credited_seconds,
                     0);
    xs_policy_destroy(&p);
}

/* §6.5: online study a school or the teacher chose (no level, or level school) is school
 * study: 10 h + 6 h count in school, 0 in network_school; 4 h at municipal level count in
 * network_school only. */
static void test_xinxiang_online_training_without_level_counts_in_school(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("xinxiang");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-08;category=online_training;hours=10"),
        s_rec("teacher_id=T1;date=2024-10-09;category=online_training;hours=6;level=school"),
        s_rec("teacher_id=T1;date=2024-10-10;category=online_training;hours=4;level=municipal"),
    };
    xs_certify_row_t rows[3];
    s_book_t book;
    s_run(p, recs, NULL, 3, rows, &book);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(rows[i].status, XS_CERT_CREDITED);
    const xs_certify_total_t *net =
        s_total(p, &book, "T1", XS_SCOPE_YEAR, "network_school", 2024, 0);
    assert_int_equal(net->credited_seconds, S_H(4));
    assert_int_equal(net->met, XS_MET_NO);
    assert_string_equal(s_reason(p, net), "hours_short 还差12.00学时"); /* 16 - 4 */
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "school", 2024, 0)->credited_seconds,
                     S_H(16));
    assert_int_equal(
        s_total(p, &book, "T1", XS_SCOPE_CYCLE, "network_school", 2021, 0)->credited_seconds,
        S_H(4));
    xs_policy_destroy(&p);
}

/* §6.2, §6.6: a reflection (1200 chars, 4 h, October) and a unit design (10 h, March) in
 * 2024-2025 share one cap of one a year: the unit design, of higher credit, is kept though
 * later; the reflection is capped in its favour. Total 10 h. */
static void test_reflection_and_unit_design_share_one_cap(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=reflection;chars=1200"),
        s_rec("teacher_id=T1;date=2025-03-01;category=teaching_design;unit=1;"
              "work=分数的初步认识;lessons=6"),
    };
    xs_certify_row_t rows[2];
    s_book_t book;
    s_run(p, recs, NULL, 2, rows, &book);
    s_expect(&rows[0], XS_CERT_CAPPED, 0, XS_REASON_CAPPED);
    assert_int_equal(rows[0].base_seconds, S_H(4));
    assert_int_equal(rows[0].related_id, 2);
    s_expect(&rows[1], XS_CERT_CREDITED, 600, XS_REASON_NONE);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     S_H(10));
    xs_policy_destroy(&p);
}

/* §6.6: a unit design registers its title and its lessons (2..100); without lessons it is
 * rejected incomplete_unit (field lessons), without a title incomplete_unit (field work).
 * No character minimum applies: 0 characters with both is 10 h. */
static void test_unit_design_without_lessons_rejected_incomplete_unit(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=teaching_design;unit=1;work=圆的面积"),
        s_rec("teacher_id=T2;date=2024-10-10;category=teaching_design;unit=1;lessons=4"),
        s_rec("teacher_id=T3;date=2024-10-10;category=teaching_design;unit=1;work=圆的面积;"
              "lessons=4;chars=0"),
    };
    xs_certify_row_t rows[3];
    s_book_t book;
    s_run(p, recs, NULL, 3, rows, &book);
    s_expect(&rows[0], XS_CERT_REJECTED, 0, XS_REASON_INCOMPLETE_UNIT);
    assert_int_equal(rows[0].field, XS_F_LESSONS);
    assert_int_equal(rows[0].base_seconds, 0);
    s_expect(&rows[1], XS_CERT_REJECTED, 0, XS_REASON_INCOMPLETE_UNIT);
    assert_int_equal(rows[1].field, XS_F_WORK);
    s_expect(&rows[2], XS_CERT_CREDITED, 600, XS_REASON_NONE);
    char text[128];
    xs_certify_reason_text(p, &recs[0], &rows[0], text, sizeof text);
    assert_string_equal(text, xs_reason_zh(XS_REASON_INCOMPLETE_UNIT));
    xs_policy_destroy(&p);
}

/* §6.7: one provincial project hosted (40 h, concluded June 2023), recorded again in 2024
 * with its title in other case and spacing and as municipal (30 h): counted once, the 40-h
 * record; the other is a duplicate of it. With equal credit the earlier is kept. A paper of
 * the same title is another work (§6.7: papers and projects are compared among their own). */
static void test_same_project_in_two_years_counts_once(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2023-06-30;category=project;level=provincial;role=host;"
              "work=Rural Reading Circles"),
        s_rec("teacher_id=T1;date=2024-06-30;category=project;level=municipal;role=host;"
              "work=  rural reading   CIRCLES "),
        s_rec("teacher_id=T1;date=2024-07-01;category=paper;chars=3000;level=county;grade=1;"
              "work=Rural Reading Circles"),
        s_rec("teacher_id=T2;date=2024-06-30;category=project;level=county;"
              "work=农村小学　阅读圈"),
        s_rec("teacher_id=T2;date=2023-06-30;category=project;level=municipal;"
              "work=农村小学 阅读圈"),
    };
    xs_certify_row_t rows[5];
    s_book_t book;
    s_run(p, recs, NULL, 5, rows, &book);
    s_expect(&rows[0], XS_CERT_CREDITED, 2400, XS_REASON_NONE);
    s_expect(&rows[1], XS_CERT_DUPLICATE, 0, XS_REASON_DUPLICATE_WORK);
    assert_int_equal(rows[1].related_id, 1);
    assert_int_equal(rows[1].base_seconds, S_H(30));
    s_expect(&rows[2], XS_CERT_CREDITED, 720, XS_REASON_NONE);
    /* T2: 15 h each (participant, municipal or county): the earlier, 2023, is kept */
    s_expect(&rows[3], XS_CERT_DUPLICATE, 0, XS_REASON_DUPLICATE_WORK);
    assert_int_equal(rows[3].related_id, 5);
    s_expect(&rows[4], XS_CERT_CREDITED, 900, XS_REASON_NONE);
    /* T1: 2022-2023 has the project's 40 h; 2023-2024 only the paper's 12 h, as the
     * project's second record is a duplicate */
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2022, 0)->credited_seconds,
                     S_H(40));
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2023, 0)->credited_seconds,
                     S_H(12));
    xs_policy_destroy(&p);
}

/* Wenzhou §6.4, §6.8: 370 h in cycle 2021-2026 (24 h of lectures a year = 120 h school, a
 * course of 89.99 h, 160.01 h online) reaches 360 h, but no course reaches 90 h: the cycle
 * total is not met, says single_missing, and binds. The school row (120 h ≥ 120 h) is met. */
static void test_wenzhou_89_99h_course_single_missing(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou");
    xs_record_t recs[] = {
        s_rec("teacher_id=W1;date=2021-10-01;category=lecture;minutes=1440"),
        s_rec("teacher_id=W1;date=2022-10-01;category=lecture;minutes=1440"),
        s_rec("teacher_id=W1;date=2023-10-01;category=lecture;minutes=1440"),
        s_rec("teacher_id=W1;date=2024-10-01;category=lecture;minutes=1440"),
        s_rec("teacher_id=W1;date=2025-10-01;category=lecture;minutes=1440"),
        s_rec("teacher_id=W1;date=2021-12-01;category=external_training;hours=89.99"),
        s_rec("teacher_id=W1;date=2021-11-01;category=online_training;hours=0.01"),
        s_rec("teacher_id=W1;date=2022-11-01;category=online_training;hours=40"),
        s_rec("teacher_id=W1;date=2023-11-01;category=online_training;hours=40"),
        s_rec("teacher_id=W1;date=2024-11-01;category=online_training;hours=40"),
        s_rec("teacher_id=W1;date=2025-11-01;category=online_training;hours=40"),
    };
    enum { N = sizeof recs / sizeof recs[0] };
    xs_certify_row_t rows[N];
    s_book_t book;
    s_run(p, recs, NULL, N, rows, &book);
    const xs_certify_total_t *x = s_total(p, &book, "W1", XS_SCOPE_CYCLE, "total", 2021, 0);
    assert_int_equal(x->credited_seconds, S_H(370));
    assert_int_equal(x->single_seconds, 8999 * 36);
    assert_int_equal(x->single_met, XS_MET_NO);
    assert_int_equal(x->met, XS_MET_NO);
    assert_int_equal(x->why, XS_WHY_SINGLE_MISSING);
    assert_int_equal(x->binding, 1);
    assert_string_equal(s_reason(p, x), "single_missing 缺少一次不少于90学时的集中培训");
    /* Without the policy's label, the phrase is made of the hours and the category's label,
     * to the same words. */
    char label[sizeof p->single.label];
    memcpy(label, p->single.label, sizeof label);
    p->single.label[0] = '\0';
    assert_string_equal(s_reason(p, x), "single_missing 缺少一次不少于90学时的集中培训");
    memcpy(p->single.label, label, sizeof label);
    x = s_total(p, &book, "W1", XS_SCOPE_CYCLE, "school", 2021, 0);
    assert_int_equal(x->credited_seconds, S_H(120));
    assert_int_equal(x->met, XS_MET_YES);
    assert_int_equal(x->binding, 1);
    assert_string_equal(s_reason(p, x), "");
    xs_policy_destroy(&p);
}

/* The single record counts only when its bucket counts it (policy.md §5): a policy whose
 * cycle bucket takes external training organised by a county or higher wants one such
 * course of >= 90 h; a 90-h school course is credited but is not that record. */
static void test_single_record_must_be_counted_by_its_bucket(void **state) {
    (void)state;
    static const char text[] = "[policy]\nid = s\nversion = 1\n"
                               "[bucket.county]\ncategories = external_training >= county\n"
                               "[require.cycle]\ncounty = 90\n"
                               "[require.single]\ncategory = external_training\nhours = 90\n"
                               "bucket = county\n";
    xs_policy_t *p = s_parse(text, sizeof text - 1);
    xs_record_t recs[] = {
        s_rec("teacher_id=A;date=2022-10-01;category=external_training;hours=90;level=school"),
        s_rec("teacher_id=A;date=2023-10-01;category=external_training;hours=90;level=county"),
        s_rec("teacher_id=B;date=2022-10-01;category=external_training;hours=90;level=school"),
        s_rec("teacher_id=B;date=2023-10-01;category=external_training;hours=50;level=county"),
        s_rec("teacher_id=B;date=2024-10-01;category=external_training;hours=40;level=county"),
    };
    enum { N = sizeof recs / sizeof recs[0] };
    xs_certify_row_t rows[N];
    s_book_t book;
    s_run(p, recs, NULL, N, rows, &book);
    const xs_certify_total_t *a = s_total(p, &book, "A", XS_SCOPE_CYCLE, "county", 2021, 0);
    assert_int_equal(a->credited_seconds, S_H(90));
    assert_int_equal(a->single_seconds, S_H(90));
    assert_int_equal(a->met, XS_MET_YES);
    /* B: 90 h in the bucket (50 + 40 at county level), but no one county course of 90 h;
     * the school course of 90 h is neither in the bucket nor the single record. */
    const xs_certify_total_t *b = s_total(p, &book, "B", XS_SCOPE_CYCLE, "county", 2021, 0);
    assert_int_equal(b->credited_seconds, S_H(90));
    assert_int_equal(b->single_seconds, S_H(50));
    assert_int_equal(b->single_met, XS_MET_NO);
    assert_int_equal(b->met, XS_MET_NO);
    assert_int_equal(b->why, XS_WHY_SINGLE_MISSING);
    xs_policy_destroy(&p);
}

/* Wenzhou §6.4: 40 h in 2024-2025 (24 h of lectures, 16 h online) is 8 h short of the
 * yearly 48 h, which is advisory: met no, binding no, "还差8.00学时". The school row (24 h ≥
 * 24 h) is met, advisory too. The cycle rows still bind: 40 h of 360 h, 320 h short, and
 * no 90-h course. */
static void test_wenzhou_40h_in_a_year_is_advisory(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("wenzhou");
    xs_record_t recs[] = {
        s_rec("teacher_id=W2;date=2024-10-01;category=lecture;minutes=1440"),
        s_rec("teacher_id=W2;date=2024-11-01;category=online_training;hours=16"),
    };
    xs_certify_row_t rows[2];
    s_book_t book;
    s_run(p, recs, NULL, 2, rows, &book);
    const xs_certify_total_t *x = s_total(p, &book, "W2", XS_SCOPE_YEAR, "total", 2024, 0);
    assert_int_equal(x->credited_seconds, S_H(40));
    assert_int_equal(x->met, XS_MET_NO);
    assert_int_equal(x->binding, 0);
    assert_int_equal(x->why, XS_WHY_HOURS_SHORT);
    assert_string_equal(s_reason(p, x), "hours_short 还差8.00学时");
    x = s_total(p, &book, "W2", XS_SCOPE_YEAR, "school", 2024, 0);
    assert_int_equal(x->met, XS_MET_YES);
    assert_int_equal(x->binding, 0);
    x = s_total(p, &book, "W2", XS_SCOPE_CYCLE, "total", 2021, 0);
    assert_int_equal(x->credited_seconds, S_H(40));
    assert_int_equal(x->met, XS_MET_NO);
    assert_int_equal(x->binding, 1);
    assert_int_equal(x->why, XS_WHY_HOURS_SHORT | XS_WHY_SINGLE_MISSING);
    assert_string_equal(
        s_reason(p, x),
        "hours_short 还差320.00学时; single_missing 缺少一次不少于90学时的集中培训");
    x = s_total(p, &book, "W2", XS_SCOPE_CYCLE, "school", 2021, 0);
    assert_int_equal(x->binding, 1);
    assert_string_equal(s_reason(p, x), "hours_short 还差96.00学时"); /* 120 - 24 */
    xs_policy_destroy(&p);
}

/* The policy's own categories the examples below use (credit-rules §6.3, policy.md). */
#define S_CASE_STUDY                                                                               \
    "[category.case_study]\ncode = 11\nlabel = 案例分析\nrule = fixed\nhours = 2\n"            \
    "same_event = once\n"
#define S_RESEARCH_LOG "[category.research_log]\ncode = 12\nlabel = 研修日志\nrule = hours\n"

/* §6.3: baiwanzi with its own 案例分析 (code 11, 2 h a record, one event once). T1 writes
 * two case studies of event 案例A (one counts: the earlier) and one without an event: 2 + 2
 * = 4 h in `total`, which counts all categories. A record of code 12, which the policy does
 * not define, is rejected unknown_category, never dropped; under a policy that defines 12
 * (研修日志, certificate hours) the same record's 1.5 h are credited: 5.5 h. */
static void test_custom_category_credited_unknown_code_rejected(void **state) {
    (void)state;
    xs_policy_t *p = s_policy_plus("baiwanzi", S_CASE_STUDY);
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=open_class;event=案例A"),
        s_rec("teacher_id=T1;date=2024-10-20;category=open_class;event=案例A"),
        s_rec("teacher_id=T1;date=2024-10-30;category=open_class"),
        s_rec("teacher_id=T1;date=2024-11-10;category=open_class;hours=1.5"),
    };
    recs[0].category = recs[1].category = recs[2].category = 11;
    recs[3].category = 12;
    xs_certify_row_t rows[4];
    s_book_t book;
    s_run(p, recs, NULL, 4, rows, &book);
    s_expect(&rows[0], XS_CERT_CREDITED, 120, XS_REASON_NONE);
    s_expect(&rows[1], XS_CERT_DUPLICATE, 0, XS_REASON_DUPLICATE_EVENT);
    assert_int_equal(rows[1].related_id, 1);
    s_expect(&rows[2], XS_CERT_CREDITED, 120, XS_REASON_NONE);
    s_expect(&rows[3], XS_CERT_REJECTED, 0, XS_REASON_UNKNOWN_CATEGORY);
    assert_int_equal(rows[3].category, 12);
    assert_int_equal(rows[3].field, XS_F_CATEGORY);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     S_H(4));
    xs_policy_destroy(&p);

    p = s_policy_plus("baiwanzi", S_CASE_STUDY S_RESEARCH_LOG);
    s_run(p, recs, NULL, 4, rows, &book);
    s_expect(&rows[3], XS_CERT_CREDITED, 90, XS_REASON_NONE);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     S_H(4) + 5400);
    xs_policy_destroy(&p);
}

/* §6.3: each credit rule of a county's own category. Attended minutes: 90 min = 5400 s.
 * Days at 6 h a day: 2.5 days (5 halves) × 21600 s / 2 = 54000 s = 15 h. Without
 * same_event, two records of one event both count. */
static void test_custom_category_rules(void **state) {
    (void)state;
    xs_policy_t *p = s_policy_plus(
        "baiwanzi", "[category.subject_contest]\ncode = 20\nlabel = 学科竞赛辅导\nrule = minutes\n"
                    "[category.study_tour]\ncode = 21\nlabel = 跟岗研修\nrule = days\n"
                    "hours = 6\n");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=open_class;minutes=90;event=竞赛"),
        s_rec("teacher_id=T1;date=2024-10-11;category=open_class;minutes=90;event=竞赛"),
        s_rec("teacher_id=T1;date=2024-10-12;category=open_class;days=2.5"),
        s_rec("teacher_id=T1;date=2024-10-13;category=open_class"),
    };
    recs[0].category = recs[1].category = 20;
    recs[2].category = recs[3].category = 21;
    xs_certify_row_t rows[4];
    s_book_t book;
    s_run(p, recs, NULL, 4, rows, &book);
    s_expect(&rows[0], XS_CERT_CREDITED, 90, XS_REASON_NONE);
    s_expect(&rows[1], XS_CERT_CREDITED, 90, XS_REASON_NONE);
    s_expect(&rows[2], XS_CERT_CREDITED, 900, XS_REASON_NONE);
    s_expect(&rows[3], XS_CERT_REJECTED, 0, XS_REASON_MISSING_FIELD); /* no days */
    assert_int_equal(rows[3].field, XS_F_DAYS);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     S_H(18));
    xs_policy_destroy(&p);
}

/* The writing cap of credit-rules §6.2 by semester instead of year: the default removed, a
 * cap of the same categories put in its place. */
#define S_SEMESTER_CAP                                                                             \
    "[cap.writing]\ncount = none\n"                                                                \
    "[cap.x]\ncategories = reflection, teaching_design\nperiod = semester\ncount = 1\n"

/* §6.2: a cap over a semester ([cap.x] period = semester, one record), in a county's policy
 * of one bucket. T1's two reflections of semester 1 of 2024-2025 (October, November) keep
 * one, the earlier (same credit); T2's one in each semester (October, March) are both
 * credited: 8 h. */
static void test_semester_cap(void **state) {
    (void)state;
    static const char text[] = "[policy]\nid = t\nversion = 1\n"
                               "[bucket.total]\ncategories = all\n"
                               "[require.year]\ntotal = 40\n" S_SEMESTER_CAP;
    xs_policy_t *p = s_parse(text, sizeof text - 1);
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=reflection;chars=1200"),
        s_rec("teacher_id=T1;date=2024-11-10;category=reflection;chars=1500"),
        s_rec("teacher_id=T2;date=2024-10-10;category=reflection;chars=1200"),
        s_rec("teacher_id=T2;date=2025-03-10;category=reflection;chars=1200"),
    };
    xs_certify_row_t rows[4];
    s_book_t book;
    s_run(p, recs, NULL, 4, rows, &book);
    s_expect(&rows[0], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    s_expect(&rows[1], XS_CERT_CAPPED, 0, XS_REASON_CAPPED);
    assert_int_equal(rows[1].related_id, 1);
    s_expect(&rows[2], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    s_expect(&rows[3], XS_CERT_CREDITED, 240, XS_REASON_NONE);
    assert_int_equal(s_total(p, &book, "T2", XS_SCOPE_YEAR, "total", 2024, 0)->credited_seconds,
                     S_H(8));
    xs_policy_destroy(&p);
}

/* ---- §7: the school's review ---- */

/* Record 1 approved, record 2 returned (rejected, naming the review, whatever it earned),
 * record 3 returned and then approved (the later review wins), record 4 approved and then
 * returned; a review of a correction, of a missing record and an invalid one are refused. */
static void test_reviews_approve_return_and_latest_wins(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=lecture;minutes=90"),
        s_rec("teacher_id=T1;date=2024-10-11;category=lecture;minutes=60"),
        s_rec("teacher_id=T1;date=2024-10-12;category=lecture;minutes=30"),
        s_rec("teacher_id=T1;date=2024-10-13;category=lecture;minutes=45"),
        s_review("T1", 1, XS_VERDICT_APPROVED),  /* 5 */
        s_review("T1", 2, XS_VERDICT_RETURNED),  /* 6 */
        s_review("T1", 3, XS_VERDICT_RETURNED),  /* 7 */
        s_review("T1", 3, XS_VERDICT_APPROVED),  /* 8: wins over 7 */
        s_review("T1", 4, XS_VERDICT_RETURNED),  /* 10 wins over 9 */
        s_review("T1", 4, XS_VERDICT_APPROVED),  /* placed before 10, id 9 */
        s_correction(2),                         /* 11 */
        s_review("T1", 11, XS_VERDICT_APPROVED), /* 12: a correction is no activity */
        s_review("T1", 99, XS_VERDICT_APPROVED), /* 13: no such record */
        s_review("T1", 1, XS_VERDICT_RETURNED),  /* 14: no note */
    };
    enum { N = sizeof recs / sizeof recs[0] };
    uint64_t ids[N] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 9, 11, 12, 13, 14};
    recs[13].present &= ~(1u << XS_F_NOTE);
    xs_certify_row_t rows[N];
    s_book_t book;
    s_run(p, recs, ids, N, rows, &book);
    s_expect(&rows[0], XS_CERT_CREDITED, 90, XS_REASON_NONE);
    assert_int_equal(rows[0].review, XS_REVIEW_APPROVED);
    s_expect(&rows[1], XS_CERT_VOIDED, 0, XS_REASON_VOIDED); /* a correction outranks it */
    assert_int_equal(rows[1].review, XS_REVIEW_RETURNED);
    s_expect(&rows[2], XS_CERT_CREDITED, 30, XS_REASON_NONE);
    assert_int_equal(rows[2].review, XS_REVIEW_APPROVED);
    s_expect(&rows[3], XS_CERT_REJECTED, 0, XS_REASON_RETURNED);
    assert_int_equal(rows[3].review, XS_REVIEW_RETURNED);
    assert_int_equal(rows[3].related_id, 10);
    assert_int_equal(rows[3].base_seconds, 0);
    for (size_t i = 4; i <= 9; i++)
        s_expect(&rows[i], XS_CERT_REVIEW, 0, XS_REASON_NONE);
    assert_int_equal(rows[4].related_id, 1);
    assert_int_equal(rows[4].review, XS_REVIEW_NONE);
    s_expect(&rows[10], XS_CERT_CORRECTION, 0, XS_REASON_NONE);
    s_expect(&rows[11], XS_CERT_REJECTED, 0, XS_REASON_BAD_TARGET);
    s_expect(&rows[12], XS_CERT_REJECTED, 0, XS_REASON_BAD_TARGET);
    s_expect(&rows[13], XS_CERT_REJECTED, 0, XS_REASON_MISSING_FIELD);
    assert_int_equal(rows[13].field, XS_F_NOTE);
    assert_string_equal(xs_certify_status_name(XS_CERT_REVIEW), "review");
    assert_string_equal(xs_certify_status_zh(XS_CERT_REVIEW), "审核");

    /* Reviews are not the teacher's records; only 1 and 3 count: 2 h. */
    assert_int_equal(s_ledger(&book, "T1")->record_count, 4);
    const xs_certify_total_t *year = s_total(p, &book, "T1", XS_SCOPE_YEAR, "total", 2024, 0);
    assert_int_equal(year->credited_seconds, S_H(2));
    assert_int_equal(year->unreviewed, 0); /* the policy does not require review */

    /* The returned row's reason is the school's: its note, found by the review's id. */
    const xs_str_t *note = xs_certify_review_note(recs, ids, N, &rows[3]);
    assert_non_null(note);
    assert_ptr_equal(note, &recs[8].note);
    assert_null(xs_certify_review_note(recs, ids, N, &rows[0]));
    char text[256];
    size_t len = xs_certify_reason_note(p, &recs[3], &rows[3], note, text, sizeof text);
    assert_string_equal(text, "学校审核退回：证书学时与登记不符");
    assert_int_equal(len, strlen(text));
    xs_certify_reason_text(p, &recs[3], &rows[3], text, sizeof text);
    assert_string_equal(text, "学校审核退回");
    xs_policy_destroy(&p);
}

/* A review counts only for a record of the teacher it names: the hub files it under that
 * teacher, so a review of another teacher's record is refused as bad_target, and that
 * record is untouched, in a full run and in the one-teacher run alike. */
static void test_review_of_another_teachers_record_is_bad_target(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=lecture;minutes=90"),
        s_rec("teacher_id=T2;date=2024-10-10;category=lecture;minutes=60"),
        s_review("T1", 2, XS_VERDICT_RETURNED),
    };
    xs_certify_row_t rows[3];
    s_book_t book;
    s_run(p, recs, NULL, 3, rows, &book);
    s_expect(&rows[1], XS_CERT_CREDITED, 60, XS_REASON_NONE);
    assert_int_equal(rows[1].review, XS_REVIEW_NONE);
    s_expect(&rows[2], XS_CERT_REJECTED, 0, XS_REASON_BAD_TARGET);
    assert_int_equal(rows[2].field, XS_F_REVIEWS);
    /* T1's ledger at the hub: their record and the review filed under them. */
    xs_record_t t1[] = {recs[0], recs[2]};
    uint64_t ids[] = {1, 3};
    memset(&book, 0, sizeof book);
    book.ids = ids;
    assert_int_equal(xs_certify_teacher(p, NULL, t1, ids, 2, NULL, rows, s_capture, &book), XS_OK);
    s_expect(&rows[0], XS_CERT_CREDITED, 90, XS_REASON_NONE);
    s_expect(&rows[1], XS_CERT_REJECTED, 0, XS_REASON_BAD_TARGET);
    xs_policy_destroy(&p);
}

/* Under require_review every total counts the credited records it counts that the school
 * has not approved (a returned record is not credited, so it is not among them). */
static void test_require_review_counts_unreviewed(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("dali");
    p->require_review = 1; /* as `require_review = yes` sets it */
    xs_record_t recs[] = {
        s_rec("teacher_id=T1;date=2024-10-10;category=lecture;minutes=90"),
        s_rec("teacher_id=T1;date=2024-10-11;category=lecture;minutes=60"),
        s_rec("teacher_id=T1;date=2025-03-11;category=lecture;minutes=60"),
        s_rec("teacher_id=T1;date=2025-03-12;category=lecture;minutes=30"),
        s_rec("teacher_id=T1;date=2024-09-12;category=reflection;chars=500"), /* too short */
        s_review("T1", 1, XS_VERDICT_APPROVED),
        s_review("T1", 4, XS_VERDICT_RETURNED),
    };
    enum { N = sizeof recs / sizeof recs[0] };
    xs_certify_row_t rows[N];
    s_book_t book;
    s_run(p, recs, NULL, N, rows, &book);
    s_expect(&rows[3], XS_CERT_REJECTED, 0, XS_REASON_RETURNED);
    /* Credited: 1 (approved), 2 and 3 (not reviewed); 4 returned, 5 rejected. */
    const xs_certify_total_t *year = s_total(p, &book, "T1", XS_SCOPE_YEAR, "activity", 2024, 0);
    assert_int_equal(year->credited_seconds, 210 * 60);
    assert_int_equal(year->unreviewed, 2);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "school", 2024, 0)->unreviewed, 2);
    assert_int_equal(s_total(p, &book, "T1", XS_SCOPE_YEAR, "network", 2024, 0)->unreviewed, 0);
    const xs_certify_total_t *sem1 =
        s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "activity", 2024, 1);
    assert_int_equal(sem1->unreviewed, 1);
    const xs_certify_total_t *sem2 =
        s_total(p, &book, "T1", XS_SCOPE_SEMESTER, "activity", 2024, 2);
    assert_int_equal(sem2->unreviewed, 1);
    /* Without require_review the same set is not provisional anywhere. */
    p->require_review = 0;
    s_run(p, recs, NULL, N, rows, &book);
    for (size_t k = 0; k < s_ledger(&book, "T1")->total_count; k++)
        assert_int_equal(s_ledger(&book, "T1")->totals[k].unreviewed, 0);
    xs_policy_destroy(&p);
}

/* ---- §3: order independence and the one-teacher entry point ---- */

static uint64_t s_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* 1000 records of 25 teachers, built to collide: few events, the same works in other
 * case and spacing (papers and projects), exams, corrections and invalid records, online
 * training at every level (§6.5), unit designs with and without lessons (§6.6), and codes
 * 11..13 of a policy's own categories (§6.3; S_CUSTOMS defines 11 and 13, not 12). */
static void s_random_set(xs_record_t *recs, uint64_t *ids, size_t n) {
    static const char *const teachers[] = {
        "T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09", "T10", "T11", "T12", "T13",
        "T14", "T15", "T16", "T17", "T18", "T19", "T20", "T21", "T22", "T23", "T24", "T25"};
    static const char *const events[] = {"", "", "E1", "E2", "E3", "教研一", "教研二"};
    static const char *const works[] = {"Reading Circles", "reading  circles", "READING CIRCLES",
                                        "农村 阅读",       "农村　阅读",       "Other Work"};
    static const char *const levels[] = {"county", "municipal", "provincial", "national"};
    static const char *const grades[] = {"1", "2", "3", "published"};
    static const char *const exams[] = {"X1", "X2"};
    static const char *const online_levels[] = {"", ";level=school", ";level=county",
                                                ";level=national"};
    static char specs[1000][256];
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    assert_true(n <= 1000);
    for (size_t i = 0; i < n; i++) {
        ids[i] = i + 1;
        uint64_t r = s_rand(&seed);
        if (i > 10 && r % 50 == 0) {
            recs[i] = s_correction(s_rand(&seed) % (i + 5) + 1);
            continue;
        }
        if (i > 10 && r % 7 == 1) {
            /* a review of a record of the same teacher, now and then of another's, of a
             * correction or of a record not in the set; some records reviewed twice */
            uint64_t target = s_rand(&seed) % (i + 5) + 1;
            const char *t = teachers[s_rand(&seed) % 25];
            if (target <= i && recs[target - 1].kind != XS_KIND_CORRECTION &&
                recs[target - 1].teacher_id.len && s_rand(&seed) % 8)
                t = recs[target - 1].teacher_id.ptr; /* a literal of teachers[] or a spec */
            for (size_t k = 0; k < 25; k++)
                if (strlen(teachers[k]) == 3 && strncmp(t, teachers[k], 3) == 0)
                    t = teachers[k];
            recs[i] =
                s_review(t, target, s_rand(&seed) % 3 ? XS_VERDICT_APPROVED : XS_VERDICT_RETURNED);
            continue;
        }
        const char *t = teachers[r % 25];
        int32_t date = xs_date_from_civil(2021, 9, 1) + (int32_t)(s_rand(&seed) % 1800);
        char day[11];
        xs_date_format(date, day);
        unsigned cat = (unsigned)(s_rand(&seed) % 13) + 1;
        const char *ev = events[s_rand(&seed) % 7];
        char extra[160];
        switch (cat) {
        case XS_CAT_LECTURE:
            snprintf(extra, sizeof extra, "minutes=%u%s", (unsigned)(s_rand(&seed) % 200) + 1,
                     s_rand(&seed) % 3 ? "" : ";role=speaker");
            break;
        case XS_CAT_EXTERNAL_TRAINING:
            snprintf(extra, sizeof extra, s_rand(&seed) % 2 ? "days=%u.5" : "hours=%u",
                     (unsigned)(s_rand(&seed) % 10) + 1);
            break;
        case XS_CAT_ONLINE_TRAINING:
            snprintf(extra, sizeof extra, "hours=%u%s", (unsigned)(s_rand(&seed) % 60) + 1,
                     online_levels[s_rand(&seed) % 4]);
            break;
        case XS_CAT_REFLECTION:
            snprintf(extra, sizeof extra, "chars=%u", (unsigned)(s_rand(&seed) % 2000));
            break;
        case XS_CAT_TEACHING_DESIGN:
            if (s_rand(&seed) % 4 == 0)
                snprintf(extra, sizeof extra, "unit=1;work=%s%s", works[s_rand(&seed) % 6],
                         s_rand(&seed) % 5 ? ";lessons=4" : "");
            else
                snprintf(extra, sizeof extra, "chars=%u", (unsigned)(s_rand(&seed) % 2000));
            break;
        case XS_CAT_PAPER:
            snprintf(extra, sizeof extra, "chars=%u;level=%s;grade=%s;work=%s",
                     (unsigned)(s_rand(&seed) % 4000), levels[s_rand(&seed) % 4],
                     grades[s_rand(&seed) % 4], works[s_rand(&seed) % 6]);
            break;
        case XS_CAT_PROJECT:
            snprintf(extra, sizeof extra, "level=%s;role=%s;work=%s", levels[s_rand(&seed) % 4],
                     s_rand(&seed) % 2 ? "host" : "participant", works[s_rand(&seed) % 6]);
            break;
        case 12:
            snprintf(extra, sizeof extra, "hours=%u", (unsigned)(s_rand(&seed) % 9) + 1);
            break;
        case 13:
            snprintf(extra, sizeof extra, "days=%u.5", (unsigned)(s_rand(&seed) % 3));
            break;
        case XS_CAT_EXAM:
            snprintf(extra, sizeof extra, "score=%u", (unsigned)(s_rand(&seed) % 10) * 10);
            ev = exams[s_rand(&seed) % 2];
            break;
        default:
            snprintf(extra, sizeof extra, "note=x");
            break;
        }
        snprintf(specs[i], sizeof specs[i], "teacher_id=%s;date=%s;category=%s;%s%s%s", t, day,
                 xs_category_name(cat < XS_CAT_COUNT ? cat : XS_CAT_OPEN_CLASS), extra,
                 ev[0] ? ";event=" : "", ev);
        recs[i] = s_rec(specs[i]);
        recs[i].category = (uint8_t)cat;
    }
}

/* The policy's own categories of s_random_set: 11 (2 h a record, one event once) and 13
 * (days at 8 h); 12 stays undefined. */
#define S_CUSTOMS S_CASE_STUDY "[category.study_tour]\ncode = 13\nlabel = 跟岗研修\nrule = days\n"

static int s_cmp_rows(const xs_certify_row_t *a, const xs_certify_row_t *b) {
    return a->related_id != b->related_id || a->credited_seconds != b->credited_seconds ||
           a->base_seconds != b->base_seconds || a->year != b->year || a->semester != b->semester ||
           a->status != b->status || a->reason != b->reason || a->field != b->field ||
           a->category != b->category || a->tier != b->tier || a->review != b->review;
}

/* The same 1000 records shuffled 20 times give the same rows (matched by id) and the same
 * ledgers: under wenzhou (advisory requirements, a single-record requirement) and under
 * xinxiang with a semester cap (level-filtered buckets), each with categories of its own. */
static void s_order_independence(xs_policy_t *p) {
    enum { N = 1000 };
    xs_record_t *recs = test_malloc(N * sizeof *recs), *mixed = test_malloc(N * sizeof *mixed);
    uint64_t ids[N], mixed_ids[N];
    xs_certify_row_t *rows = test_malloc(N * sizeof *rows), *again = test_malloc(N * sizeof *again);
    s_book_t *book = test_malloc(sizeof *book), *book2 = test_malloc(sizeof *book2);
    s_random_set(recs, ids, N);
    s_run(p, recs, ids, N, rows, book);
    size_t counts[XS_CERT_STATUS_COUNT] = {0}, returned = 0, approved = 0, unreviewed = 0;
    for (size_t i = 0; i < N; i++) {
        counts[rows[i].status]++;
        returned += rows[i].reason == XS_REASON_RETURNED;
        approved += rows[i].review == XS_REVIEW_APPROVED;
    }
    /* The set exercises every status, and reviews both ways. */
    for (size_t s = 0; s < XS_CERT_STATUS_COUNT; s++)
        if (counts[s] == 0)
            fail_msg("no %s row", xs_certify_status_name((unsigned)s));
    assert_true(returned > 0 && approved > 0);
    for (size_t t = 0; t < book->count; t++)
        for (size_t k = 0; k < book->ledgers[t].total_count; k++)
            unreviewed += book->ledgers[t].totals[k].unreviewed;
    assert_true(p->require_review ? unreviewed > 0 : unreviewed == 0);
    uint64_t seed = 42;
    size_t perm[N];
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < N; i++)
            perm[i] = i;
        for (size_t i = N - 1; i > 0; i--) {
            size_t j = (size_t)(s_rand(&seed) % (i + 1));
            size_t swap = perm[i];
            perm[i] = perm[j];
            perm[j] = swap;
        }
        for (size_t i = 0; i < N; i++) {
            mixed[i] = recs[perm[i]];
            mixed_ids[i] = ids[perm[i]];
        }
        s_run(p, mixed, mixed_ids, N, again, book2);
        for (size_t i = 0; i < N; i++)
            if (s_cmp_rows(&again[i], &rows[perm[i]]))
                fail_msg("round %d: record id %llu differs", round,
                         (unsigned long long)mixed_ids[i]);
        assert_int_equal(book2->count, book->count);
        assert_true(book2->digest == book->digest);
    }
    test_free(recs);
    test_free(mixed);
    test_free(rows);
    test_free(again);
    test_free(book);
    test_free(book2);
}

static void test_order_independence_1000_records_20_shuffles(void **state) {
    (void)state;
    xs_policy_t *p = s_policy_plus("wenzhou", S_CUSTOMS);
    s_order_independence(p);
    xs_policy_destroy(&p);
    p = s_policy_plus("xinxiang", S_CUSTOMS S_SEMESTER_CAP);
    p->require_review = 1; /* set as a policy's `require_review = yes` sets it */
    s_order_independence(p);
    xs_policy_destroy(&p);
}

/* The hub certifies one teacher at a time with the county's exam standings: the same rows
 * and ledger as the full run. */
static void test_one_teacher_entry_point_matches_full_run(void **state) {
    (void)state;
    enum { N = 1000 };
    xs_policy_t *p = s_policy_plus("dali", S_CUSTOMS);
    p->require_review = 1;
    xs_record_t *recs = test_malloc(N * sizeof *recs), *mine = test_malloc(N * sizeof *mine);
    uint64_t ids[N], my_ids[N];
    size_t where[N];
    xs_certify_row_t *rows = test_malloc(N * sizeof *rows),
                     *my_rows = test_malloc(N * sizeof *my_rows);
    s_book_t *book = test_malloc(sizeof *book), *one = test_malloc(sizeof *one);
    s_random_set(recs, ids, N);
    s_run(p, recs, ids, N, rows, book);
    xs_certify_exams_t *exams = NULL;
    assert_int_equal(xs_certify_exams_build(&exams, p, recs, ids, N), XS_OK);
    assert_int_equal(xs_certify_exams_count(exams), 2);
    for (size_t t = 0; t < book->count; t++) {
        const char *teacher = book->ledgers[t].teacher;
        size_t n = 0;
        for (size_t i = 0; i < N; i++) {
            const xs_record_t *r = &recs[i];
            int keep = 0;
            if (r->kind == XS_KIND_REVIEW) {
                /* reviews are the hub's under their own teacher_id */
                keep = r->teacher_id.len == strlen(teacher) &&
                       memcmp(r->teacher_id.ptr, teacher, strlen(teacher)) == 0;
            } else if (r->kind == XS_KIND_CORRECTION) {
                /* the corrections of this teacher's records */
                size_t target = (size_t)r->voids - 1;
                keep = r->voids >= 1 && target < N && recs[target].kind == XS_KIND_ACTIVITY &&
                       recs[target].teacher_id.len == strlen(teacher) &&
                       memcmp(recs[target].teacher_id.ptr, teacher, strlen(teacher)) == 0;
            } else {
                keep = r->teacher_id.len == strlen(teacher) &&
                       memcmp(r->teacher_id.ptr, teacher, strlen(teacher)) == 0;
            }
            if (keep) {
                mine[n] = *r;
                my_ids[n] = ids[i];
                where[n++] = i;
            }
        }
        memset(one, 0, sizeof *one);
        one->ids = my_ids;
        assert_int_equal(
            xs_certify_teacher(p, exams, mine, my_ids, n, NULL, my_rows, s_capture, one), XS_OK);
        assert_int_equal(one->count, 1);
        assert_true(one->ledgers[0].digest == book->ledgers[t].digest);
        for (size_t k = 0; k < n; k++)
            if (s_cmp_rows(&my_rows[k], &rows[where[k]]))
                fail_msg("%s: record id %llu differs", teacher, (unsigned long long)my_ids[k]);
    }
    /* Two teachers are refused. */
    assert_int_equal(xs_certify_teacher(p, exams, recs, ids, N, NULL, rows, s_capture, one),
                     XS_EINVAL);
    xs_certify_exams_destroy(&exams);
    test_free(recs);
    test_free(mine);
    test_free(rows);
    test_free(my_rows);
    test_free(book);
    test_free(one);
    xs_policy_destroy(&p);
}

static xs_err s_never(void *ctx, const xs_certify_teacher_t *t) {
    (void)ctx;
    (void)t;
    fail_msg("callback ran");
    return XS_OK;
}

static xs_err s_stop(void *ctx, const xs_certify_teacher_t *t) {
    (void)t;
    (*(int *)ctx)++;
    return XS_EIO;
}

/* Ids must be unique per teacher: a repeat stops the run before any ledger; a callback's
 * error stops it too. */
static void test_repeated_id_refused_and_callback_stops_the_run(void **state) {
    (void)state;
    xs_policy_t *p = s_policy("baiwanzi");
    xs_record_t recs[] = {
        s_rec("teacher_id=A;date=2024-10-10;category=open_class"),
        s_rec("teacher_id=B;date=2024-10-10;category=open_class"),
        s_rec("teacher_id=B;date=2024-10-11;category=open_class"),
    };
    uint64_t ids[] = {1, 5, 5};
    xs_certify_row_t rows[3];
    assert_int_equal(xs_certify_run(p, NULL, recs, ids, 3, NULL, rows, s_never, NULL), XS_EINVAL);
    int calls = 0;
    assert_int_equal(xs_certify_run(p, NULL, recs, NULL, 3, NULL, rows, s_stop, &calls), XS_EIO);
    assert_int_equal(calls, 1);
    assert_int_equal(xs_certify_run(p, NULL, recs, NULL, 0, NULL, rows, s_never, NULL), XS_OK);
    xs_certify_opts_t backwards = {.first_year = 2025, .last_year = 2024};
    assert_int_equal(xs_certify_run(p, NULL, recs, NULL, 3, &backwards, rows, NULL, NULL),
                     XS_EINVAL);
    xs_policy_destroy(&p);
}

/* Minutes shown as hours: two decimals, half up. */
static void test_hours_formatting_rounds_half_up(void **state) {
    (void)state;
    static const struct {
        uint64_t seconds;
        const char *text;
    } cases[] = {{0, "0.00"},     {17, "0.00"},     {18, "0.01"},     {36, "0.01"},
                 {5400, "1.50"},  {71964, "19.99"}, {72000, "20.00"}, {720000, "200.00"},
                 {19224, "5.34"}, {57600, "16.00"}, {57599, "16.00"}, {57581, "15.99"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[24];
        size_t len = xs_certify_format_hours(text, sizeof text, cases[i].seconds);
        assert_string_equal(text, cases[i].text);
        assert_int_equal(len, strlen(cases[i].text));
    }
    /* Certificate hours to seconds: exactly 36 per hundredth. */
    assert_int_equal(xs_policy_hours_to_seconds(1), 36);
    assert_int_equal(xs_policy_hours_to_seconds(534), 19224);
    assert_int_equal(xs_policy_hours_to_seconds(3999), 143964);
    assert_string_equal(xs_certify_status_zh(XS_CERT_CAPPED), "超出上限");
    assert_string_equal(xs_certify_met_name(XS_MET_YES), "yes");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_credit_of_every_category),
        cmocka_unit_test(test_speaker_counts_four_times),
        cmocka_unit_test(test_external_training_2_5_days_without_certificate_is_20h),
        cmocka_unit_test(test_external_training_with_hours_and_days_uses_hours),
        cmocka_unit_test(test_reflection_999_chars_rejected_too_short),
        cmocka_unit_test(test_two_reflections_in_one_year_one_capped_by_tie_break),
        cmocka_unit_test(test_unit_design_and_short_design_in_one_year),
        cmocka_unit_test(test_same_paper_awarded_2024_published_2025_counts_once_at_14h),
        cmocka_unit_test(test_exam_six_participants_90_90_80_70_70_60),
        cmocka_unit_test(test_duplicate_event_counted_once),
        cmocka_unit_test(test_voided_record_and_corrections),
        cmocka_unit_test(test_reviews_approve_return_and_latest_wins),
        cmocka_unit_test(test_review_of_another_teachers_record_is_bad_target),
        cmocka_unit_test(test_require_review_counts_unreviewed),
        cmocka_unit_test(test_validation_rejections),
        cmocka_unit_test(test_academic_year_and_semester_boundaries),
        cmocka_unit_test(test_baiwanzi_40h_a_year_and_200h_a_cycle),
        cmocka_unit_test(test_dali_semesters_and_school_is_activity_plus_outcome),
        cmocka_unit_test(test_wenzhou_cycle_needs_one_90h_external_training),
        cmocka_unit_test(test_xinxiang_network_school_16h_a_year),
        cmocka_unit_test(test_xinxiang_three_certificates_make_exactly_16h),
        cmocka_unit_test(test_xinxiang_online_training_without_level_counts_in_school),
        cmocka_unit_test(test_reflection_and_unit_design_share_one_cap),
        cmocka_unit_test(test_unit_design_without_lessons_rejected_incomplete_unit),
        cmocka_unit_test(test_same_project_in_two_years_counts_once),
        cmocka_unit_test(test_wenzhou_89_99h_course_single_missing),
        cmocka_unit_test(test_single_record_must_be_counted_by_its_bucket),
        cmocka_unit_test(test_wenzhou_40h_in_a_year_is_advisory),
        cmocka_unit_test(test_custom_category_credited_unknown_code_rejected),
        cmocka_unit_test(test_custom_category_rules),
        cmocka_unit_test(test_semester_cap),
        cmocka_unit_test(test_order_independence_1000_records_20_shuffles),
        cmocka_unit_test(test_one_teacher_entry_point_matches_full_run),
        cmocka_unit_test(test_repeated_id_refused_and_callback_stops_the_run),
        cmocka_unit_test(test_hours_formatting_rounds_half_up),
    };
    return cmocka_run_group_tests_name("certify", tests, NULL, NULL);
}
