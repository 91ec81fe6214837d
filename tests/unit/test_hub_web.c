/* test_hub_web: the dashboard's pages rendered into memory over a small hub store (hub/web.c):
 * every stored string escaped (a teacher named <script>, a note beginning with =, an event
 * holding an <img onerror>), the school's figures those of the summary, unknown paths,
 * schools and teachers 404, a bad year 400, the workbook downloaded as a file, a new policy
 * version followed on the next page, a closed year shown from its document, and a page made
 * in the background handed over whole. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <time.h>
#include <unistd.h>

#include "scratch.h"
#include "hub.h"
#include "merge.h"
#include "web.h"
#include "xs/batch.h"
#include "xs/record.h"

static const char s_policy[] = "[policy]\n"
                               "id = webtest\n"
                               "version = 1\n"
                               "name = 看板测试县\n"
                               "\n"
                               "[bucket.total]\n"
                               "label = 合计\n"
                               "categories = all\n"
                               "\n"
                               "[require.year]\n"
                               "total = 2\n";

static const char s_policy_v2[] = "[policy]\n"
                                  "id = webtest\n"
                                  "version = 2\n"
                                  "name = 看板测试县第二版\n"
                                  "\n"
                                  "[bucket.total]\n"
                                  "label = 合计\n"
                                  "categories = all\n"
                                  "\n"
                                  "[require.year]\n"
                                  "total = 1\n";

#define S_HOSTILE_NAME "<script>alert(1)</script>"
#define S_HOSTILE_NOTE "=HYPERLINK(\"http://evil.example\",\"点我\")"
#define S_HOSTILE_EVENT "<img src=x onerror=alert(1)>讲座"

static const char s_roster[] =
    "teacher_id,name,school_id,roles,hired,status,status_from,status_to\n"
    "T1," S_HOSTILE_NAME ",S1,,2010-09-01,,,\n"
    "T2,\"O'Brien & \"\"Co\"\"\",S1,,2012-09-01,,,\n"
    "T3,王芳,S1,,2012-09-01,,,\n";

#define S_OUT_MAX (16 * 1024)
#define S_YEAR "2025-2026"

typedef struct fixture {
    char dir[256];
    char hub_dir[300];
    char out[S_OUT_MAX];
    xs_identity_t *node;
    hub_t hub;
    hub_web_t *web;
    uint8_t prev[32];
    uint64_t next_seq;
    hub_web_page_t page;
    const char *year;   /* the ?year= of the next render; NULL: none */
    const char *school; /* the ?school= */
} fixture_t;

static int s_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int s_command(fixture_t *fx, int (*cmd)(int, char **), char **argv, int argc) {
    return xs_scratch_command(fx->dir, cmd, argv, argc, fx->out, NULL, sizeof fx->out);
}

/* One activity: teacher, date, minutes of a lecture, and its event and note (may be NULL). */
typedef struct activity {
    const char *teacher, *date, *minutes, *event, *note;
} activity_t;

/* Seals the activities as the node's next batch and merges it. */
static void s_send(fixture_t *fx, const activity_t *acts, uint32_t count) {
    xs_writer_t recs[8], env;
    xs_batch_slice_t slices[8];
    uint8_t hash[32];
    assert_true(count <= 8);
    for (uint32_t i = 0; i < count; i++) {
        xs_record_t rec;
        xs_reason why;
        xs_record_init(&rec);
        const struct {
            xs_field f;
            const char *text;
        } fields[] = {{XS_F_TEACHER_ID, acts[i].teacher}, {XS_F_DATE, acts[i].date},
                      {XS_F_CATEGORY, "lecture"},         {XS_F_ROLE, "participant"},
                      {XS_F_MINUTES, acts[i].minutes},    {XS_F_SCHOOL_ID, "S1"},
                      {XS_F_EVENT, acts[i].event},        {XS_F_NOTE, acts[i].note}};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            if (fields[f].text)
                assert_int_equal(xs_record_set_text(&rec, fields[f].f, fields[f].text,
                                                    strlen(fields[f].text), &why),
                                 XS_OK);
        xs_writer_init(&recs[i], XS_RECORD_MAX);
        xs_record_encode(&rec, &recs[i]);
        assert_int_equal(xs_writer_err(&recs[i]), XS_OK);
        slices[i] = (xs_batch_slice_t){recs[i].data, recs[i].len};
    }
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(&env, fx->node, fx->next_seq,
                                   fx->next_seq == 1 ? NULL : fx->prev, NULL, (int64_t)time(NULL),
                                   slices, count, hash),
                     XS_OK);
    memcpy(fx->prev, hash, 32);
    fx->next_seq += count;
    hub_item_t item;
    hub_merge_stats_t stats;
    hub_item_open(&item, env.data, env.len, xs_identity_public(fx->node)->sign);
    assert_int_equal(item.open_err, XS_OK);
    assert_int_equal(hub_merge(&fx->hub, &item, 1, &stats), XS_OK);
    assert_int_equal(item.status, XS_ACK_ACCEPTED);
    hub_item_free(&item);
    xs_writer_free(&env);
    for (uint32_t i = 0; i < count; i++)
        xs_writer_free(&recs[i]);
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char path[400], keys[XS_PUBKEYS_TEXT_LEN + 1];
    if (!fx)
        return -1;
    *state = fx;
    fx->next_seq = 1;
    fx->page.fd = -1;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_web") != 0)
        return -1;
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    snprintf(path, sizeof path, "%s/policy.ini", fx->dir);
    if (s_write_file(path, s_policy) != 0)
        return -1;
    char *init[] = {"--dir", fx->hub_dir, "--policy", path, NULL};
    if (s_command(fx, hub_cmd_init, init, 4) != 0)
        return -1;
    if (xs_identity_create(&fx->node, fx->dir, "node") != XS_OK)
        return -1;
    xs_pubkeys_format(xs_identity_public(fx->node), keys);
    char *enroll[] = {"--dir", fx->hub_dir, "--node", keys, "--school", "S1", NULL};
    if (s_command(fx, hub_cmd_enroll, enroll, 6) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/roster.csv", fx->dir);
    if (s_write_file(path, s_roster) != 0)
        return -1;
    char *roster[] = {"--dir", fx->hub_dir, "import", path, NULL};
    if (s_command(fx, hub_cmd_roster, roster, 4) != 0)
        return -1;
    if (hub_open(&fx->hub, fx->hub_dir, HUB_OPEN_KEYS) != XS_OK)
        return -1;
    /* T1: 90 + 45 minutes; T3: 30 minutes with a hostile event and note; T2 records nothing. */
    const activity_t acts[] = {
        {"T1", "2025-10-15", "90", "秋季讲座", NULL},
        {"T1", "2025-11-20", "45", NULL, NULL},
        {"T3", "2025-12-01", "30", S_HOSTILE_EVENT, S_HOSTILE_NOTE},
    };
    s_send(fx, acts, 3);
    return hub_web_open(&fx->web, &fx->hub, fx->dir) == XS_OK ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    hub_web_page_free(&fx->page);
    hub_web_close(&fx->web);
    assert_null(fx->web);
    hub_close(&fx->hub);
    xs_identity_destroy(&fx->node);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* Runs a command of the hub with the pages and the hub closed (LMDB opens an environment once
 * per process), and opens them again. Returns its exit code. */
static int s_command_closed(fixture_t *fx, int (*cmd)(int, char **), char **argv, int argc) {
    hub_web_page_free(&fx->page);
    hub_web_close(&fx->web);
    hub_close(&fx->hub);
    int rc = s_command(fx, cmd, argv, argc);
    assert_int_equal(hub_open(&fx->hub, fx->hub_dir, HUB_OPEN_KEYS), XS_OK);
    assert_int_equal(hub_web_open(&fx->web, &fx->hub, fx->dir), XS_OK);
    return rc;
}

static const char *s_param(void *ctx, const char *name) {
    fixture_t *fx = ctx;
    if (strcmp(name, "year") == 0)
        return fx->year;
    if (strcmp(name, "school") == 0)
        return fx->school;
    return NULL;
}

/* Renders path with fx->year; returns the status. The body is NUL-terminated text. */
static unsigned s_render(fixture_t *fx, const char *path) {
    hub_web_page_free(&fx->page);
    assert_int_equal(hub_web_render(fx->web, path, s_param, fx, &fx->page), XS_OK);
    if (fx->page.fd < 0) {
        xs_writer_raw(&fx->page.body, "", 1);
        assert_int_equal(xs_writer_err(&fx->page.body), XS_OK);
    }
    return fx->page.status;
}

static const char *s_body(const fixture_t *fx) {
    return (const char *)fx->page.body.data;
}

/* The first place needle occurs in haystack, ASCII case folded; NULL when nowhere. */
static const char *s_find_nocase(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = haystack; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return p;
    }
    return NULL;
}

/* No stored string reaches a page as markup: no script, no img element. */
static void s_assert_inert(const fixture_t *fx) {
    const char *body = s_body(fx);
    assert_null(s_find_nocase(body, "<script"));
    assert_null(s_find_nocase(body, "<img"));
}

/* The <tr> of a page that holds text, NUL-terminated into out. */
static void s_row_of(const fixture_t *fx, const char *text, char *out, size_t cap) {
    const char *hit = strstr(s_body(fx), text);
    assert_non_null(hit);
    const char *start = hit;
    while (start > s_body(fx) && strncmp(start, "<tr", 3) != 0)
        start--;
    const char *end = strstr(hit, "</tr>");
    assert_non_null(end);
    size_t len = (size_t)(end - start);
    assert_true(len < cap);
    memcpy(out, start, len);
    out[len] = '\0';
}

static void test_county(void **state) {
    fixture_t *fx = *state;
    fx->year = S_YEAR;
    assert_int_equal(s_render(fx, "/"), 200);
    assert_string_equal(fx->page.content_type, "text/html; charset=utf-8");
    const char *body = s_body(fx);
    assert_non_null(strstr(body, "<h1>全县学时认定概况 2025-2026 学年</h1>"));
    assert_non_null(strstr(body, "看板测试县（webtest 第 1 版）"));
    /* Three rostered teachers of S1: T1 met (2.25 h of 2), T2 and T3 not: 33.3%. */
    assert_non_null(strstr(body, "教师 3 人：达标 <span class=\"yes\">1</span>"));
    assert_non_null(strstr(body, "<svg"));
    assert_non_null(strstr(body, "33.3%（1/3）"));
    assert_non_null(strstr(body, "<a href=\"/school/S1?year=2025-2026\">S1</a>"));
    assert_non_null(strstr(body, "/download/2025-2026/%E6%B1%87%E6%80%BB%E8%A1%A8.xlsx"));
    s_assert_inert(fx);
    /* No year: today's academic year. */
    fx->year = NULL;
    assert_int_equal(s_render(fx, "/"), 200);
}

static void test_school_escapes_and_figures(void **state) {
    fixture_t *fx = *state;
    char row[4096];
    fx->year = S_YEAR;
    assert_int_equal(s_render(fx, "/school/S1"), 200);
    s_assert_inert(fx);
    const char *body = s_body(fx);
    assert_non_null(strstr(body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(body, "O&#39;Brien &amp; &quot;Co&quot;"));
    s_row_of(fx, ">T1</a>", row, sizeof row);
    assert_non_null(strstr(row, "2.25<span class=\"req\"> / 2.00</span>"));
    assert_non_null(strstr(row, "达标"));
    s_row_of(fx, ">T2</a>", row, sizeof row);
    assert_non_null(strstr(row, "<td class=\"num no\" data-bucket=\"total\">0.00"));
    assert_non_null(strstr(row, "<tr data-teacher=\"T2\">"));
    assert_non_null(strstr(row, "未达标"));
    s_row_of(fx, ">T3</a>", row, sizeof row);
    assert_non_null(strstr(row, "0.50<span class=\"req\"> / 2.00</span>"));
    assert_non_null(strstr(row, "hours_short"));
    assert_non_null(strstr(body, "?school=S1"));
}

static void test_teacher_escapes(void **state) {
    fixture_t *fx = *state;
    fx->year = S_YEAR;
    assert_int_equal(s_render(fx, "/teacher/T3"), 200);
    s_assert_inert(fx);
    const char *body = s_body(fx);
    assert_non_null(strstr(body, "教师 王芳（T3）"));
    assert_non_null(strstr(body, "=HYPERLINK(&quot;http://evil.example&quot;,&quot;点我&quot;)"));
    assert_non_null(strstr(body, "&lt;img src=x onerror=alert(1)&gt;讲座"));
    assert_non_null(strstr(body, "共 1 条"));
    assert_non_null(strstr(body, "认定回执"));
    assert_non_null(strstr(body, "县级中心按此签名发出"));
    assert_int_equal(s_render(fx, "/teacher/T1"), 200);
    s_assert_inert(fx);
    assert_non_null(strstr(s_body(fx), "教师 &lt;script&gt;alert(1)&lt;/script&gt;（T1）"));
    assert_non_null(strstr(s_body(fx), "共 2 条"));
    /* A rostered teacher without records: their page, no records, no receipt. */
    assert_int_equal(s_render(fx, "/teacher/T2"), 200);
    assert_non_null(strstr(s_body(fx), "共 0 条"));
    assert_non_null(strstr(s_body(fx), "还没有为这位教师签发回执"));
}

static void test_refusals(void **state) {
    fixture_t *fx = *state;
    char long_id[200];
    fx->year = S_YEAR;
    assert_int_equal(s_render(fx, "/nope"), 404);
    assert_int_equal(s_render(fx, "/school/"), 404);
    assert_int_equal(s_render(fx, "/school/NOPE"), 404);
    assert_int_equal(s_render(fx, "/teacher/NOPE"), 404);
    assert_non_null(strstr(s_body(fx), "没有这位教师"));
    memset(long_id, 'x', sizeof long_id);
    memcpy(long_id, "/teacher/", 9);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(s_render(fx, long_id), 404);
    static const char *const bad_years[] = {"2025",       "2025-2027", "2025/2026", "abcd-efgh",
                                            "2025-2026x", "",          "1969-1970", "-2025-202"};
    for (size_t i = 0; i < sizeof bad_years / sizeof bad_years[0]; i++) {
        fx->year = bad_years[i];
        assert_int_equal(s_render(fx, "/"), 400);
        assert_int_equal(s_render(fx, "/school/S1"), 400);
    }
    fx->year = NULL;
    assert_int_equal(s_render(fx, "/download/2025-2026/%E6%B1%87%E6%80%BB%E8%A1%A8.xlsx"), 404);
    assert_int_equal(s_render(fx, "/download/2025/汇总表.xlsx"), 400);
    assert_int_equal(s_render(fx, "/download/2025-2026/other.xlsx"), 404);
    assert_int_equal(s_render(fx, "/style.css"), 200);
    assert_string_equal(fx->page.content_type, "text/css; charset=utf-8");
}

static void test_download(void **state) {
    fixture_t *fx = *state;
    unsigned char head[4];
    fx->school = "S1";
    assert_int_equal(s_render(fx, "/download/2025-2026/汇总表.xlsx"), 200);
    assert_true(fx->page.fd >= 0);
    assert_non_null(strstr(fx->page.content_type, "spreadsheetml"));
    assert_non_null(strstr(fx->page.disposition, "attachment; filename=\"xueshi-2025-2026.xlsx\""));
    assert_non_null(strstr(fx->page.disposition,
                           "filename*=UTF-8''%E6%B1%87%E6%80%BB%E8%A1%A8-2025-2026-S1.xlsx"));
    assert_int_equal(pread(fx->page.fd, head, 4, 0), 4);
    assert_memory_equal(head, "PK\x03\x04", 4);
    /* The file was unlinked: the private directory is empty again. */
    hub_web_page_free(&fx->page);
    fx->school = "";
    assert_int_equal(s_render(fx, "/download/2025-2026/汇总表.xlsx"), 400);
}

/* `xueshi-hub policy` puts version 2 in force: the next page is judged by it. */
static void test_policy_followed(void **state) {
    fixture_t *fx = *state;
    char path[400], row[4096];
    fx->year = S_YEAR;
    assert_int_equal(s_render(fx, "/school/S1"), 200);
    s_row_of(fx, ">T3</a>", row, sizeof row);
    assert_non_null(strstr(row, "未达标"));
    snprintf(path, sizeof path, "%s/policy2.ini", fx->dir);
    assert_int_equal(s_write_file(path, s_policy_v2), 0);
    char *policy[] = {"--dir", fx->hub_dir, "--policy", path, NULL};
    assert_int_equal(s_command_closed(fx, hub_cmd_policy, policy, 4), 0);
    assert_int_equal(s_render(fx, "/school/S1"), 200);
    assert_non_null(strstr(s_body(fx), "看板测试县第二版（webtest 第 2 版）"));
    s_row_of(fx, ">T3</a>", row, sizeof row);
    assert_non_null(strstr(row, "0.50<span class=\"req\"> / 1.00</span>"));
}

/* A closed year is shown from its document, under the policy it was closed under, with the
 * same figures. */
static void test_closed_year(void **state) {
    fixture_t *fx = *state;
    char row[4096];
    char *close[] = {"--dir", fx->hub_dir, "--year", S_YEAR, NULL};
    assert_int_equal(s_command_closed(fx, hub_cmd_close, close, 4), 0);
    fx->year = S_YEAR;
    assert_int_equal(s_render(fx, "/school/S1"), 200);
    s_assert_inert(fx);
    assert_non_null(strstr(s_body(fx), "本学年已结账"));
    assert_non_null(strstr(s_body(fx), "<th>合计<br>（学年）</th>"));
    s_row_of(fx, ">T1</a>", row, sizeof row);
    assert_non_null(strstr(row, "2.25<span class=\"req\"> / 2.00</span>"));
    assert_int_equal(s_render(fx, "/"), 200);
    assert_non_null(strstr(s_body(fx), "本学年已结账"));
    assert_non_null(strstr(s_body(fx), "33.3%（1/3）"));
    assert_int_equal(s_render(fx, "/teacher/T3"), 200);
    s_assert_inert(fx);
    assert_non_null(strstr(s_body(fx), "本学年已结账"));
    fx->school = "S1";
    assert_int_equal(s_render(fx, "/download/2025-2026/汇总表.xlsx"), 200);
    assert_true(fx->page.fd >= 0);
}

/* hub_web_serve: a quick page is handed over whole; the same page twice in a row too. */
static void test_serve(void **state) {
    fixture_t *fx = *state;
    fx->year = S_YEAR;
    for (int i = 0; i < 3; i++) {
        hub_web_page_free(&fx->page);
        assert_int_equal(hub_web_serve(fx->web, "/school/S1", s_param, fx, &fx->page), XS_OK);
        assert_int_equal(fx->page.status, 200);
        xs_writer_raw(&fx->page.body, "", 1);
        assert_non_null(strstr(s_body(fx), "<h1>学校 S1 · 2025-2026 学年</h1>"));
    }
    hub_web_page_free(&fx->page);
    assert_int_equal(hub_web_serve(fx->web, "/style.css", s_param, fx, &fx->page), XS_OK);
    assert_int_equal(fx->page.status, 200);
}

/* With no wait, the first answer may be the progress page, which reloads itself; asking again
 * brings the page once it is made. */
static void test_serve_progress(void **state) {
    fixture_t *fx = *state;
    fx->year = S_YEAR;
    hub_web_set_wait(fx->web, 0);
    int progress = 0, made = 0;
    for (int i = 0; i < 200 && !made; i++) {
        hub_web_page_free(&fx->page);
        assert_int_equal(hub_web_serve(fx->web, "/", s_param, fx, &fx->page), XS_OK);
        assert_int_equal(fx->page.status, 200);
        xs_writer_raw(&fx->page.body, "", 1);
        if (strstr(s_body(fx), "正在生成")) {
            assert_non_null(strstr(s_body(fx), "<meta http-equiv=\"refresh\" content=\"1\">"));
            progress++;
            usleep(20 * 1000);
        } else {
            assert_non_null(strstr(s_body(fx), "全县学时认定概况"));
            made = 1;
        }
    }
    assert_true(made);
    /* A page left unfetched is dropped at close without a leak. */
    hub_web_page_free(&fx->page);
    assert_int_equal(hub_web_serve(fx->web, "/school/S1", s_param, fx, &fx->page), XS_OK);
    print_message("progress pages before the county page: %d\n", progress);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_county, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_school_escapes_and_figures, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_teacher_escapes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_download, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_policy_followed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_closed_year, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_serve, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_serve_progress, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
