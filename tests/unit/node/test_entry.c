/* test_entry: one activity recorded, or voided, from typed fields, every refusal as data: the
 * field named in Chinese with the values it accepts, Chinese roles and levels accepted, the
 * roster's nearest teachers named, a void refused twice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "scratch.h"
#include "sync.h"
#include "xs/text.h"

typedef struct fixture {
    char dir[256];      /* scratch directory */
    char node_dir[300]; /* the node's --dir */
    node_t node;        /* open */
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char out[4096];
    if (!fx)
        return -1;
    *state = fx;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_entry") != 0)
        return -1;
    snprintf(fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    char *init[] = {"--dir", fx->node_dir, "--school", "S1", NULL};
    if (xs_scratch_command(fx->dir, node_cmd_init, init, 4, out, NULL, sizeof out) != 0)
        return -1;
    return node_open(&fx->node, fx->node_dir) == XS_OK ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    node_close(&fx->node);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* How many records the node holds. */
static uint64_t s_records(fixture_t *fx) {
    xs_txn_t *txn = NULL;
    uint64_t next = 0;
    assert_int_equal(xs_store_read(fx->node.store, &txn), XS_OK);
    assert_int_equal(node_next_seq(txn, &next), XS_OK);
    xs_store_end(&txn);
    return next - 1;
}

static xs_err s_add(fixture_t *fx, const xs_staff_t *staff, const node_entry_field_t *fields,
                    size_t n, uint64_t *seq, node_refusal_t *why) {
    return node_entry_add(&fx->node, NULL, staff, fields, n, 1760000000, seq, why);
}
#define S_N(a) (sizeof(a) / sizeof((a)[0]))

/* A role the node does not know: the refusal names 角色, the value typed, and the roles. */
static void test_refusal_names_field_and_allowed(void **state) {
    fixture_t *fx = *state;
    node_refusal_t why;
    uint64_t seq = 0;
    node_entry_field_t f[] = {{"teacher_id", "T1"},
                              {"date", "2025-10-05"},
                              {"category", "lecture"},
                              {"role", "主讲者"},
                              {"minutes", "90"}};
    assert_int_equal(s_add(fx, NULL, f, S_N(f), &seq, &why), XS_EINVAL);
    assert_int_equal(why.field, XS_F_ROLE);
    assert_int_equal(why.why, XS_REASON_BAD_VALUE);
    assert_non_null(strstr(why.text, "角色「主讲者」无效"));
    assert_non_null(strstr(why.text, "主讲人/speaker"));
    assert_non_null(strstr(why.text, "参与者/participant"));
    assert_non_null(strstr(why.text, "(role: bad_value)"));
    assert_null(strchr(why.text, '\n'));
    assert_int_equal(s_records(fx), 0);

    /* An unknown category lists the categories, by Chinese label and name. */
    node_entry_field_t c[] = {{"teacher", "T1"}, {"date", "2025-10-05"}, {"category", "跳舞"}};
    assert_int_equal(s_add(fx, NULL, c, S_N(c), &seq, &why), XS_EINVAL);
    assert_int_equal(why.field, XS_F_CATEGORY);
    assert_int_equal(why.why, XS_REASON_UNKNOWN_CATEGORY);
    assert_non_null(strstr(why.text, "类别「跳舞」"));
    assert_non_null(strstr(why.text, "专题讲座/lecture"));

    /* The policy's rules: minutes 0 is out of range, named in Chinese. */
    node_entry_field_t m[] = {
        {"teacher_id", "T1"}, {"date", "2025-10-05"}, {"category", "lecture"}, {"minutes", "0"}};
    assert_int_equal(s_add(fx, NULL, m, S_N(m), &seq, &why), XS_EINVAL);
    assert_int_equal(why.field, XS_F_MINUTES);
    assert_non_null(strstr(why.text, xs_field_zh(XS_F_MINUTES)));
    assert_non_null(strstr(why.text, "(minutes: out_of_range)"));

    /* Another school, a field no record has (a form's stray input), a missing teacher. */
    node_entry_field_t s[] = {{"teacher_id", "T1"},
                              {"date", "2025-10-05"},
                              {"category", "lecture"},
                              {"minutes", "90"},
                              {"school_id", "S9"}};
    assert_int_equal(s_add(fx, NULL, s, S_N(s), &seq, &why), XS_EINVAL);
    assert_int_equal(why.why, XS_REASON_OUT_OF_SCOPE);
    assert_non_null(strstr(why.text, "S9"));
    node_entry_field_t u[] = {{"teacher_id", "T1"}, {"csrf\n", "x"}};
    assert_int_equal(s_add(fx, NULL, u, S_N(u), &seq, &why), XS_EINVAL);
    assert_int_equal(why.field, NODE_REFUSAL_F_NONE);
    assert_non_null(strstr(why.text, "csrf"));
    assert_null(strchr(why.text, '\n'));
    node_entry_field_t t[] = {
        {"teacher_id", ""}, {"date", "2025-10-05"}, {"category", "lecture"}, {"minutes", "90"}};
    assert_int_equal(s_add(fx, NULL, t, S_N(t), &seq, &why), XS_EINVAL);
    assert_int_equal(why.field, XS_F_TEACHER_ID);
    assert_int_equal(why.why, XS_REASON_MISSING_FIELD);
    assert_int_equal(s_records(fx), 0);
}

/* Chinese labels of category, role and level, and a date as Excel writes it, are recorded. */
static void test_chinese_accepted(void **state) {
    fixture_t *fx = *state;
    node_refusal_t why;
    uint64_t seq = 0;
    xs_txn_t *txn = NULL;
    xs_bytes_t bytes;
    xs_record_t rec;
    node_entry_field_t f[] = {{"teacher", "T1"}, {"date", "2025/10/5"}, {"category", "公开课"},
                              {"role", "主讲"},  {"level", "县级"},     {"operator", "教务处"},
                              {"note", ""}};
    assert_int_equal(s_add(fx, NULL, f, S_N(f), &seq, &why), XS_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(why.why, XS_REASON_NONE);
    assert_string_equal(why.text, "");
    assert_int_equal(xs_store_read(fx->node.store, &txn), XS_OK);
    assert_int_equal(node_record_get(txn, 1, &bytes), XS_OK);
    assert_int_equal(xs_record_decode_bytes(bytes.ptr, bytes.len, &rec), XS_OK);
    assert_int_equal(rec.category, XS_CAT_OPEN_CLASS);
    assert_int_equal(rec.role, XS_ROLE_SPEAKER);
    assert_int_equal(rec.level, XS_LEVEL_COUNTY);
    assert_int_equal(rec.date, xs_date_from_civil(2025, 10, 5));
    assert_int_equal(rec.school_id.len, 2);
    assert_memory_equal(rec.school_id.ptr, "S1", 2);
    assert_int_equal(rec.recorded_at, 1760000000);
    xs_store_end(&txn);
}

/* With the county's roster held, a teacher not in it is refused naming the nearest. */
static void test_roster_nearest(void **state) {
    fixture_t *fx = *state;
    node_refusal_t why;
    uint64_t seq = 0;
    xs_staff_entry_t entries[2];
    memset(entries, 0, sizeof entries);
    snprintf(entries[0].teacher_id, sizeof entries[0].teacher_id, "T0012");
    snprintf(entries[0].name, sizeof entries[0].name, "张三");
    snprintf(entries[0].school_id, sizeof entries[0].school_id, "S1");
    snprintf(entries[1].teacher_id, sizeof entries[1].teacher_id, "T0013");
    snprintf(entries[1].name, sizeof entries[1].name, "李四");
    snprintf(entries[1].school_id, sizeof entries[1].school_id, "S2");
    xs_staff_t staff = {1, 0, 2, entries};
    node_entry_field_t f[] = {{"teacher_id", "T0O12"},
                              {"date", "2025-10-05"},
                              {"category", "lecture"},
                              {"minutes", "90"}};
    assert_int_equal(s_add(fx, &staff, f, S_N(f), &seq, &why), XS_EINVAL);
    assert_int_equal(why.field, XS_F_TEACHER_ID);
    assert_non_null(strstr(why.text, "教师 T0O12 不在花名册中; 是否是: T0012 张三"));
    f[0].text = "T0013";
    assert_int_equal(s_add(fx, &staff, f, S_N(f), &seq, &why), XS_EINVAL);
    assert_non_null(strstr(why.text, "属于学校 S2"));
    f[0].text = "T0012";
    assert_int_equal(s_add(fx, &staff, f, S_N(f), &seq, &why), XS_OK);
}

/* A void appends a correction; voiding again, a missing record or a correction is refused. */
static void test_void(void **state) {
    fixture_t *fx = *state;
    node_refusal_t why;
    uint64_t seq = 0, corr = 0;
    node_entry_field_t f[] = {
        {"teacher_id", "T1"}, {"date", "2025-10-05"}, {"category", "lecture"}, {"minutes", "90"}};
    assert_int_equal(s_add(fx, NULL, f, S_N(f), &seq, &why), XS_OK);
    assert_int_equal(node_void_add(&fx->node, seq, "  ", NULL, 1760000001, &corr, &why), XS_EINVAL);
    assert_int_equal(why.field, XS_F_NOTE);
    assert_int_equal(node_void_add(&fx->node, seq, "重复登记", "教务处", 1760000001, &corr, &why),
                     XS_OK);
    assert_int_equal(corr, seq + 1);
    assert_int_equal(why.why, XS_REASON_NONE);
    assert_int_equal(node_void_add(&fx->node, seq, "again", NULL, 1760000002, &corr, &why),
                     XS_EEXIST);
    assert_int_equal(why.why, XS_REASON_VOIDED);
    assert_non_null(strstr(why.text, "已作废"));
    assert_int_equal(node_void_add(&fx->node, 99, "x", NULL, 1760000002, &corr, &why),
                     XS_ENOTFOUND);
    assert_non_null(strstr(why.text, "no such record"));
    assert_int_equal(node_void_add(&fx->node, seq + 1, "x", NULL, 1760000002, &corr, &why),
                     XS_EINVAL);
    assert_int_equal(why.field, XS_F_VOIDS);
    assert_int_equal(s_records(fx), seq + 1);
}

static xs_err s_put_last_sync(xs_txn_t *txn, void *ctx) {
    (void)ctx;
    return node_meta_put_u64(txn, NODE_META_LAST_SYNC, 1760000100);
}

/* The 同步 page's status: records not sealed yet, no hub, and the last sync once noted. */
static void test_sync_status(void **state) {
    fixture_t *fx = *state;
    node_refusal_t why;
    uint64_t seq = 0;
    node_sync_status_t st;
    node_entry_field_t f[] = {
        {"teacher_id", "T1"}, {"date", "2025-10-05"}, {"category", "lecture"}, {"minutes", "90"}};
    assert_int_equal(s_add(fx, NULL, f, S_N(f), &seq, &why), XS_OK);
    assert_int_equal(node_sync_status(&fx->node, &st), XS_OK);
    assert_int_equal(st.has_hub, 0);
    assert_int_equal(st.through_relay, 0);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.unsealed, 1);
    assert_int_equal(st.waiting, 1);
    assert_int_equal(st.last_sync, 0);
    assert_int_equal(xs_store_update(fx->node.store, s_put_last_sync, NULL), XS_OK);
    assert_int_equal(node_sync_status(&fx->node, &st), XS_OK);
    assert_int_equal(st.last_sync, 1760000100);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusal_names_field_and_allowed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_chinese_accepted, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_roster_nearest, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_void, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sync_status, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
