/* test_staff: the teacher roster: its CSV reader and refusals, nearest matches, diff, stored
 * form, signed parts and service days (schema/roster.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/staff.h"
#include "xs/text.h"

#define S_ERRCAP 4096

static xs_identity_t *s_key(uint8_t fill) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

/* Schools of the test county: S1, S2 and 村小甲. */
static int s_known(void *ctx, const char *school, size_t len) {
    (void)ctx;
    static const char *const known[] = {"S1", "S2", "村小甲"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i]) == len && memcmp(known[i], school, len) == 0)
            return 1;
    return 0;
}

static xs_err s_parse(xs_staff_t *out, const char *csv, char *errbuf, uint32_t *bad) {
    return xs_staff_parse_csv(out, csv, strlen(csv), s_known, NULL, errbuf, S_ERRCAP, bad);
}

static int32_t s_day(const char *date) {
    int32_t days = 0;
    assert_int_equal(xs_date_parse(date, strlen(date), &days), XS_OK);
    return days;
}

static const char s_chinese[] =
    "\xEF\xBB\xBF"
    "工号,姓名,学校编号,职务,入职日期,状态,起始日期,截止日期,电话\r\n"
    "T003,王芳,S2,骨干教师；班主任,2010/9/1,离岗,2025-03-01,2025-06-30,138\r\n"
    "T001,张伟,S1,班主任、骨干教师,2015-09-01,,,,139\r\n"
    "\r\n"
    ",,,,,,,,\r\n"
    "'=T002,李娜,村小甲,\"校长, 新任教师\",2024-08-26,退休,2026-01-01,,\r\n";

/* A Chinese sheet with a BOM: ids sorted, roles split on ；、 and commas, both date forms,
 * statuses, unknown columns ignored, the formula guard removed, blank lines skipped. */
static void test_parse_chinese(void **state) {
    (void)state;
    xs_staff_t staff;
    char err[S_ERRCAP];
    uint32_t bad = 99;
    assert_int_equal(s_parse(&staff, s_chinese, err, &bad), XS_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(staff.count, 3);
    assert_int_equal(staff.version, 0);
    assert_string_equal(staff.entries[0].teacher_id, "=T002");
    assert_string_equal(staff.entries[1].teacher_id, "T001");
    assert_string_equal(staff.entries[2].teacher_id, "T003");
    const xs_staff_entry_t *li = &staff.entries[0], *zhang = &staff.entries[1],
                           *wang = &staff.entries[2];
    assert_string_equal(li->school_id, "村小甲");
    assert_int_equal(li->role_count, 2);
    assert_string_equal(li->roles[0], "校长");
    assert_string_equal(li->roles[1], "新任教师");
    assert_int_equal(li->status, XS_STAFF_RETIRED);
    assert_int_equal(li->status_from, s_day("2026-01-01"));
    assert_int_equal(li->status_to, INT32_MAX);
    assert_string_equal(zhang->name, "张伟");
    assert_int_equal(zhang->role_count, 2);
    assert_string_equal(zhang->roles[0], "班主任");
    assert_string_equal(zhang->roles[1], "骨干教师");
    assert_int_equal(zhang->status, XS_STAFF_ACTIVE);
    assert_int_equal(zhang->status_from, INT32_MIN);
    assert_int_equal(zhang->hired, s_day("2015-09-01"));
    assert_int_equal(wang->hired, s_day("2010-09-01"));
    assert_int_equal(wang->status, XS_STAFF_ON_LEAVE);
    assert_int_equal(wang->status_to, s_day("2025-06-30"));
    assert_int_equal(wang->role_count, 2);
    xs_staff_free(&staff);
    assert_null(staff.entries);
}

/* English headers in any case and any order; only the three required columns. */
static void test_parse_english(void **state) {
    (void)state;
    xs_staff_t staff;
    char err[S_ERRCAP];
    uint32_t bad = 0;
    assert_int_equal(s_parse(&staff,
                             "School_ID,Name,TEACHER_ID,status\n"
                             "S1,Ann,A1,on_leave\n"
                             "S2,Bob,B2,Left\n",
                             err, &bad),
                     XS_OK);
    assert_int_equal(staff.count, 2);
    assert_string_equal(staff.entries[0].teacher_id, "A1");
    assert_string_equal(staff.entries[0].school_id, "S1");
    assert_int_equal(staff.entries[0].status, XS_STAFF_ON_LEAVE);
    assert_int_equal(staff.entries[1].status, XS_STAFF_LEFT);
    assert_int_equal(staff.entries[1].hired, INT32_MIN);
    assert_int_equal(staff.entries[1].role_count, 0);
    assert_non_null(xs_staff_find(&staff, "B2", 2));
    assert_null(xs_staff_find(&staff, "B", 1));
    assert_null(xs_staff_find(&staff, "B22", 3));
    xs_staff_free(&staff);
}

/* Every bad line is named, and nothing is returned. */
static void test_parse_refusals(void **state) {
    (void)state;
    xs_staff_t staff;
    char err[S_ERRCAP];
    uint32_t bad = 0;
    assert_int_equal(s_parse(&staff,
                             "teacher_id,name,school_id,roles,hired,status,status_from,status_to\n"
                             "T1,Ann,S1,,,,,\n"                         /* 2: fine */
                             "T2,,S1,,,,,\n"                            /* 3: no name */
                             "T3,Cat,S9,,,,,\n"                         /* 4: unknown school */
                             "T4,Dan,S1,,2024-02-30,,,\n"               /* 5: bad date */
                             "T5,Eve,S1,,,sick,,\n"                     /* 6: bad status */
                             "T1,Ann2,S2,,,,,\n"                        /* 7: repeats line 2 */
                             "T6,Fay,S1,a;b;c;d;e;f;g;h;i,,,,\n"        /* 8: nine roles */
                             "T7,Gus,S1,,,离岗,2025-05-01,2025-04-01\n" /* 9: to < from */
                             "T8,Hal,S1,,,在职,2025-05-01,\n"           /* 10: dates on active */
                             "T9,Ivy,S1,,,,,,x\n", /* 11: a cell past the header */
                             err, &bad),
                     XS_EINVAL);
    assert_int_equal(bad, 9);
    assert_null(staff.entries);
    assert_int_equal(staff.count, 0);
    assert_null(strstr(err, "第 2 行 (line 2)"));
    assert_non_null(strstr(err, "第 3 行 (line 3): 姓名为空"));
    assert_non_null(strstr(err, "第 4 行 (line 4): 未知学校“S9”"));
    assert_non_null(strstr(err, "第 5 行 (line 5): 入职日期“2024-02-30”不是日期"));
    assert_non_null(strstr(err, "第 6 行 (line 6): 状态“sick”"));
    assert_non_null(strstr(err, "第 7 行 (line 7): 教师编号“T1”重复，与第 2 行相同"));
    assert_non_null(strstr(err, "第 8 行 (line 8): 角色多于 8 个"));
    assert_non_null(strstr(err, "第 9 行 (line 9): 截止日期早于起始日期"));
    assert_non_null(strstr(err, "第 10 行 (line 10): 状态为在职时"));
    assert_non_null(strstr(err, "第 11 行 (line 11): 单元格多于表头"));

    /* A missing required column, and a column given twice, refuse the header line. */
    assert_int_equal(s_parse(&staff, "teacher_id,姓名\nT1,Ann\n", err, &bad), XS_EINVAL);
    assert_non_null(strstr(err, "第 1 行 (line 1): 缺少必需的列“学校” (missing required column "
                                "school_id)"));
    assert_int_equal(s_parse(&staff, "工号,教师编号,name,school_id\n", err, &bad), XS_EINVAL);
    assert_non_null(strstr(err, "第 1 列与第 2 列都是“教师编号”"));
    /* An empty file, and broken quoting, which stops the reading at its line. */
    assert_int_equal(s_parse(&staff, "", err, &bad), XS_EINVAL);
    assert_non_null(strstr(err, "空文件"));
    assert_int_equal(s_parse(&staff, "teacher_id,name,school_id\nT1,\"Ann,S1\n", err, &bad),
                     XS_EINVAL);
    assert_non_null(strstr(err, "第 2 行 (line 2): CSV 格式错误"));
    /* An id over XS_ID_MAX bytes. */
    char csv[256];
    snprintf(csv, sizeof csv, "teacher_id,name,school_id\n%0*d,Ann,S1\n", XS_ID_MAX + 1, 7);
    assert_int_equal(s_parse(&staff, csv, err, &bad), XS_EINVAL);
    assert_non_null(strstr(err, "第 2 行 (line 2): 教师编号"));
    /* Without a callback any school is known. */
    assert_int_equal(xs_staff_parse_csv(&staff, "teacher_id,name,school_id\nT1,A,S9\n", 34, NULL,
                                        NULL, err, sizeof err, &bad),
                     XS_OK);
    assert_int_equal(staff.count, 1);
    xs_staff_free(&staff);
}

/* A file saved as GBK is refused line by line, with the way out: save it as UTF-8. */
static void test_parse_gbk(void **state) {
    (void)state;
    xs_staff_t staff;
    char err[S_ERRCAP];
    uint32_t bad = 0;
    /* "工号,姓名,学校\nT1,张伟,S1\nT2,AB,S1\nT3,李娜,S1\n" in GBK. */
    static const char gbk[] = "\xB9\xA4\xBA\xC5,\xD0\xD5\xC3\xFB,\xD1\xA7\xD0\xA3\n"
                              "T1,\xD5\xC5\xCE\xB0,S1\n"
                              "T2,AB,S1\n"
                              "T3,\xC0\xEE\xC4\xC8,S1\n";
    assert_int_equal(s_parse(&staff, gbk, err, &bad), XS_EINVAL);
    assert_int_equal(bad, 3);
    assert_non_null(strstr(err, "第 1 行 (line 1): 表头不是 UTF-8"));
    assert_non_null(strstr(err, "第 2 行 (line 2): 不是 UTF-8 文本（可能是 GBK 编码），请另存为 "
                                "UTF-8 编码"));
    assert_null(strstr(err, "第 3 行"));
    assert_non_null(strstr(err, "第 4 行 (line 4)"));
    /* English header, GBK names. */
    static const char mixed[] = "teacher_id,name,school_id\nT1,\xD5\xC5\xCE\xB0,S1\n";
    assert_int_equal(s_parse(&staff, mixed, err, &bad), XS_EINVAL);
    assert_int_equal(bad, 1);
    assert_non_null(strstr(err, "第 2 行 (line 2): 不是 UTF-8 文本"));
    assert_null(staff.entries);
}

/* Messages stop at the buffer's end but every bad line is counted. */
static void test_parse_errbuf_cap(void **state) {
    (void)state;
    xs_staff_t staff;
    char err[100];
    uint32_t bad = 0;
    const char *csv = "teacher_id,name,school_id\nT1,,S1\nT2,,S1\nT3,,S1\nT4,,S1\n";
    assert_int_equal(
        xs_staff_parse_csv(&staff, csv, strlen(csv), s_known, NULL, err, sizeof err, &bad),
        XS_EINVAL);
    assert_int_equal(bad, 4);
    assert_true(strlen(err) < sizeof err);
    assert_true(xs_text_utf8_valid(err, strlen(err)));
}

/* Nearest matches: an exact name first, then ids and names within two edits or sharing a
 * prefix; nothing for text far from everyone. */
static void test_nearest(void **state) {
    (void)state;
    xs_staff_t staff;
    char err[S_ERRCAP];
    uint32_t bad = 0;
    const xs_staff_entry_t *near[4];
    assert_int_equal(s_parse(&staff,
                             "teacher_id,name,school_id\n"
                             "T1001,张伟,S1\n"
                             "T1002,张伟强,S1\n"
                             "T2001,李娜,S2\n"
                             "X9,王芳,S2\n",
                             err, &bad),
                     XS_OK);
    size_t n = xs_staff_nearest(&staff, "张伟", strlen("张伟"), near, 4);
    assert_true(n >= 2);
    assert_string_equal(near[0]->teacher_id, "T1001");
    assert_string_equal(near[1]->teacher_id, "T1002");
    n = xs_staff_nearest(&staff, "T1010", 5, near, 4);
    assert_true(n >= 2);
    assert_string_equal(near[0]->teacher_id, "T1001"); /* distance 2, ids in order */
    n = xs_staff_nearest(&staff, "T2011", 5, near, 1);
    assert_int_equal(n, 1);
    assert_string_equal(near[0]->teacher_id, "T2001");
    assert_int_equal(xs_staff_nearest(&staff, "QQQQQQQ", 7, near, 4), 0);
    assert_int_equal(xs_staff_nearest(&staff, "", 0, near, 4), 0);
    n = xs_staff_nearest(&staff, "李", strlen("李"), near, 4);
    assert_true(n >= 1);
    assert_string_equal(near[0]->teacher_id, "T2001");
    xs_staff_free(&staff);
}

typedef struct {
    int count;
    xs_staff_change change[8];
    char id[8][XS_ID_MAX + 1];
} s_seen_t;

static xs_err s_collect(void *ctx, xs_staff_change change, const xs_staff_entry_t *old_e,
                        const xs_staff_entry_t *new_e) {
    s_seen_t *seen = ctx;
    const xs_staff_entry_t *e = new_e ? new_e : old_e;
    if (change == XS_STAFF_ADDED)
        assert_null(old_e);
    if (change == XS_STAFF_REMOVED)
        assert_null(new_e);
    seen->change[seen->count] = change;
    snprintf(seen->id[seen->count], sizeof seen->id[0], "%s", e->teacher_id);
    seen->count++;
    return seen->count == 99 ? XS_EINVAL : XS_OK;
}

/* One line per changed teacher, in id order; unchanged teachers are not called. */
static void test_diff(void **state) {
    (void)state;
    xs_staff_t a, b, empty = {0};
    char err[S_ERRCAP];
    uint32_t bad = 0;
    s_seen_t seen = {0};
    assert_int_equal(s_parse(&a,
                             "teacher_id,name,school_id,roles\n"
                             "T1,Ann,S1,班主任\nT2,Bob,S1,\nT3,Cat,S1,\nT4,Dan,S2,\n",
                             err, &bad),
                     XS_OK);
    assert_int_equal(s_parse(&b,
                             "teacher_id,name,school_id,roles\n"
                             "T1,Ann,S1,骨干教师\nT2,Bob,S2,\nT4,Dan,S2,\nT5,Eve,S1,\n",
                             err, &bad),
                     XS_OK);
    assert_int_equal(xs_staff_diff(&a, &b, s_collect, &seen), XS_OK);
    assert_int_equal(seen.count, 4);
    assert_int_equal(seen.change[0], XS_STAFF_CHANGED);
    assert_string_equal(seen.id[0], "T1");
    assert_int_equal(seen.change[1], XS_STAFF_MOVED);
    assert_string_equal(seen.id[1], "T2");
    assert_int_equal(seen.change[2], XS_STAFF_REMOVED);
    assert_string_equal(seen.id[2], "T3");
    assert_int_equal(seen.change[3], XS_STAFF_ADDED);
    assert_string_equal(seen.id[3], "T5");
    memset(&seen, 0, sizeof seen);
    assert_int_equal(xs_staff_diff(&empty, &a, s_collect, &seen), XS_OK);
    assert_int_equal(seen.count, 4);
    assert_string_equal(xs_staff_change_zh(XS_STAFF_MOVED), "调校");
    assert_string_equal(xs_staff_change_name(XS_STAFF_CHANGED), "changed");
    assert_null(xs_staff_change_zh(0));
    assert_string_equal(xs_staff_status_zh(XS_STAFF_LEFT), "调出");
    assert_null(xs_staff_status_name(4));
    xs_staff_free(&a);
    xs_staff_free(&b);
}

/* The stored form reads back equal and is the same bytes every time; hostile bytes (every
 * truncation, every single-byte change, unsorted ids, huge counts) never crash and never
 * yield a roster breaking its invariants. */
static void test_encode_decode(void **state) {
    (void)state;
    xs_staff_t staff, back;
    char err[S_ERRCAP];
    uint32_t bad = 0;
    xs_writer_t w, w2;
    assert_int_equal(s_parse(&staff, s_chinese, err, &bad), XS_OK);
    staff.version = 7;
    staff.issued_at = 1760000000;
    xs_writer_init(&w, 1 << 20);
    xs_writer_init(&w2, 1 << 20);
    xs_staff_encode(&staff, &w);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    assert_int_equal(xs_staff_decode(&back, w.data, w.len), XS_OK);
    assert_int_equal(back.version, 7);
    assert_int_equal(back.issued_at, 1760000000);
    assert_int_equal(back.count, staff.count);
    assert_memory_equal(back.entries, staff.entries, staff.count * sizeof *staff.entries);
    xs_staff_encode(&back, &w2);
    assert_int_equal(w2.len, w.len);
    assert_memory_equal(w2.data, w.data, w.len);
    xs_staff_free(&back);

    for (size_t cut = 0; cut < w.len; cut++) {
        assert_int_not_equal(xs_staff_decode(&back, w.data, cut), XS_OK);
        assert_null(back.entries);
    }
    uint8_t *copy = malloc(w.len + 1);
    for (size_t i = 0; i < w.len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(copy, w.data, w.len);
            copy[i] ^= (uint8_t)(1u << bit);
            if (xs_staff_decode(&back, copy, w.len) == XS_OK) {
                for (uint32_t k = 1; k < back.count; k++)
                    assert_true(strcmp(back.entries[k - 1].teacher_id, back.entries[k].teacher_id) <
                                0);
                for (uint32_t k = 0; k < back.count; k++)
                    assert_true(back.entries[k].status < XS_STAFF_STATUS_COUNT);
                xs_staff_free(&back);
            }
        }
    }
    memcpy(copy, w.data, w.len);
    copy[w.len] = 0xc0; /* a trailing byte */
    assert_int_equal(xs_staff_decode(&back, copy, w.len + 1), XS_EMALFORMED);
    free(copy);

    /* Unsorted ids, and a count no input could hold. */
    xs_staff_entry_t swap = staff.entries[0];
    staff.entries[0] = staff.entries[1];
    staff.entries[1] = swap;
    xs_writer_reset(&w);
    xs_staff_encode(&staff, &w);
    assert_int_equal(xs_staff_decode(&back, w.data, w.len), XS_EMALFORMED);
    static const uint8_t huge[] = {0x94, 0x01, 0x01, 0x01, 0xdd, 0x00, 0x02, 0x00, 0x00};
    assert_int_equal(xs_staff_decode(&back, huge, sizeof huge), XS_EMALFORMED);
    static const uint8_t lying[] = {0x94, 0x01, 0x01, 0x01, 0xdd, 0x00, 0x00, 0x10, 0x00};
    assert_int_equal(xs_staff_decode(&back, lying, sizeof lying), XS_EMALFORMED);
    static const uint8_t format2[] = {0x94, 0x02, 0x01, 0x01, 0x90};
    assert_int_equal(xs_staff_decode(&back, format2, sizeof format2), XS_EMALFORMED);
    /* The shortest entry there is: [A, B, C, [], nil, 0, nil, nil], 12 bytes. */
    static const uint8_t shortest[] = {0x94, 0x01, 0x01, 0x01, 0x91, 0x98, 0xa1, 'A', 0xa1,
                                       'B',  0xa1, 'C',  0x90, 0xc0, 0x00, 0xc0, 0xc0};
    assert_int_equal(xs_staff_decode(&back, shortest, sizeof shortest), XS_OK);
    assert_int_equal(back.count, 1);
    assert_string_equal(back.entries[0].school_id, "C");
    xs_staff_free(&back);
    static const uint8_t none[] = {0x94, 0x01, 0x00, 0x00, 0x90};
    assert_int_equal(xs_staff_decode(&back, none, sizeof none), XS_OK);
    assert_int_equal(back.count, 0);
    xs_staff_free(&back);
    xs_writer_free(&w);
    xs_writer_free(&w2);
    xs_staff_free(&staff);
}

/* A node's part holds its schools' teachers only, opens for that node under the hub's key,
 * and is refused for another node (XS_EPERM), another key or a changed byte (XS_ECRYPTO). */
static void test_part(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(1), *node = s_key(2), *other = s_key(3);
    xs_staff_t staff, part;
    char err[S_ERRCAP];
    uint32_t bad = 0;
    xs_writer_t env, env2;
    const uint8_t *hub_key = xs_identity_public(hub)->sign;
    const uint8_t *node_key = xs_identity_public(node)->sign;
    assert_int_equal(s_parse(&staff, s_chinese, err, &bad), XS_OK);
    staff.version = 3;
    staff.issued_at = 1770000000;
    const char *schools[] = {"村小甲", "S1", "S1"};
    xs_writer_init(&env, XS_STAFF_PART_BYTES);
    xs_writer_init(&env2, XS_STAFF_PART_BYTES);
    assert_int_equal(xs_staff_part_sign(&env, hub, node_key, &staff, schools, 3), XS_OK);
    assert_int_equal(xs_staff_part_open(env.data, env.len, hub_key, node_key, &part), XS_OK);
    assert_int_equal(part.version, 3);
    assert_int_equal(part.issued_at, 1770000000);
    assert_int_equal(part.count, 2);
    assert_string_equal(part.entries[0].teacher_id, "=T002");
    assert_string_equal(part.entries[1].teacher_id, "T001");
    assert_null(xs_staff_find(&part, "T003", 4)); /* S2's teacher is not in S1's part */
    xs_staff_free(&part);

    /* The same schools in another order give the same bytes. */
    const char *reordered[] = {"S1", "村小甲"};
    assert_int_equal(xs_staff_part_sign(&env2, hub, node_key, &staff, reordered, 2), XS_OK);
    assert_int_equal(env2.len, env.len);
    assert_memory_equal(env2.data, env.data, env.len);

    assert_int_equal(
        xs_staff_part_open(env.data, env.len, hub_key, xs_identity_public(other)->sign, &part),
        XS_EPERM);
    assert_int_equal(
        xs_staff_part_open(env.data, env.len, xs_identity_public(other)->sign, node_key, &part),
        XS_ECRYPTO);
    uint8_t *copy = malloc(env.len);
    memcpy(copy, env.data, env.len);
    copy[env.len / 2] ^= 0x01;
    assert_int_equal(xs_staff_part_open(copy, env.len, hub_key, node_key, &part), XS_ECRYPTO);
    assert_null(part.entries);
    free(copy);
    assert_int_equal(xs_staff_part_open(env.data, env.len - 1, hub_key, node_key, &part),
                     XS_EMALFORMED);
    assert_int_equal(
        xs_staff_part_open(env.data, XS_STAFF_PART_BYTES + 1, hub_key, node_key, &part),
        XS_ETOOBIG);

    /* No school, too many schools, a bad school id. */
    assert_int_equal(xs_staff_part_sign(&env2, hub, node_key, &staff, schools, 0), XS_EINVAL);
    assert_int_equal(
        xs_staff_part_sign(&env2, hub, node_key, &staff, schools, XS_STAFF_SCHOOLS_MAX + 1),
        XS_EINVAL);
    const char *empty_school[] = {""};
    assert_int_equal(xs_staff_part_sign(&env2, hub, node_key, &staff, empty_school, 1), XS_EINVAL);

    /* A school without teachers gives an empty part, which still opens. */
    const char *lonely[] = {"S9"};
    xs_writer_reset(&env2);
    assert_int_equal(xs_staff_part_sign(&env2, hub, node_key, &staff, lonely, 1), XS_OK);
    assert_int_equal(xs_staff_part_open(env2.data, env2.len, hub_key, node_key, &part), XS_OK);
    assert_int_equal(part.count, 0);
    xs_staff_free(&part);

    xs_writer_free(&env);
    xs_writer_free(&env2);
    xs_staff_free(&staff);
    xs_identity_destroy(&hub);
    xs_identity_destroy(&node);
    xs_identity_destroy(&other);
}

/* Days in service: from hiring on, less the days away. */
static void test_service_days(void **state) {
    (void)state;
    xs_staff_entry_t e;
    memset(&e, 0, sizeof e);
    e.hired = INT32_MIN;
    e.status = XS_STAFF_ACTIVE;
    e.status_from = INT32_MIN;
    e.status_to = INT32_MAX;
    int32_t from = s_day("2025-09-01"), to = s_day("2026-08-31");
    assert_int_equal(xs_staff_service_days(&e, from, to), 365);
    e.hired = s_day("2026-03-01");
    assert_int_equal(xs_staff_service_days(&e, from, to), 184);
    e.hired = s_day("2026-09-01");
    assert_int_equal(xs_staff_service_days(&e, from, to), 0);
    e.hired = s_day("2010-09-01");
    e.status = XS_STAFF_ON_LEAVE;
    e.status_from = s_day("2025-10-01");
    e.status_to = s_day("2025-10-10");
    assert_int_equal(xs_staff_service_days(&e, from, to), 355);
    e.status = XS_STAFF_RETIRED;
    e.status_from = s_day("2026-01-01");
    e.status_to = INT32_MAX;
    assert_int_equal(xs_staff_service_days(&e, from, to), 122);
    e.status_from = INT32_MIN; /* retired since always */
    assert_int_equal(xs_staff_service_days(&e, from, to), 0);
    assert_int_equal(xs_staff_service_days(&e, to, from), 0);
}

int main(void) {
    if (xs_identity_setup() != XS_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_chinese),
        cmocka_unit_test(test_parse_english),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_parse_gbk),
        cmocka_unit_test(test_parse_errbuf_cap),
        cmocka_unit_test(test_nearest),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_part),
        cmocka_unit_test(test_service_days),
    };
    return cmocka_run_group_tests_name("staff", tests, NULL, NULL);
}
