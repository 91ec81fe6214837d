/* test_hub_custom_category: credit-rules §6.3 worked by hand, in one process: a county's own
 * category 案例分析 (code 11, 2 h per record) recorded at a node by its Chinese label, sealed by
 * the node, merged and certified at the hub; and a record of code 12, which the county's policy
 * does not define, stored at the hub and certified rejected (unknown_category), not dropped.
 * tests/integration/test_policy_update.sh does the same with processes over ZeroMQ. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scratch.h"
#include "hub.h"
#include "lanes.h"
#include "ledger.h"
#include "merge.h"
#include "node.h"
#include "issue.h"
#include "outbox.h"
#include "seal.h"
#include "xs/report.h"

/* The county's policy, as its admin writes it (schema/policy.md §2): one bucket of every
 * category, 10 h a year, and the county's own 案例分析 worth 2 h per record. */
static const char s_county[] = "[policy]\n"
                               "id = demo_county\n"
                               "version = 1\n"
                               "name = 示例县学时认定\n"
                               "\n"
                               "[category.case_study]\n"
                               "code = 11\n"
                               "label = 案例分析\n"
                               "rule = fixed\n"
                               "hours = 2\n"
                               "\n"
                               "[bucket.total]\n"
                               "label = 合计\n"
                               "categories = all\n"
                               "\n"
                               "[require.year]\n"
                               "total = 10\n";

/* A draft the school set at its node (`xueshi-node policy`): the county's, plus 研修日志 as code
 * 12, which the county's policy does not define. */
static const char s_draft_extra[] = "\n"
                                    "[category.study_log]\n"
                                    "code = 12\n"
                                    "label = 研修日志\n"
                                    "rule = fixed\n"
                                    "hours = 1\n";

/* Bytes kept of a command's standard output. */
#define S_OUT_MAX (16 * 1024)

typedef struct fixture {
    char dir[256];          /* scratch directory */
    char hub_dir[300];      /* the hub's --dir */
    char node_dir[300];     /* the node's --dir */
    char county_path[300];  /* s_county, as a file for `xueshi-hub init --policy` */
    char draft_path[300];   /* s_county + s_draft_extra, for `xueshi-node policy` */
    char out[S_OUT_MAX];    /* the last command's standard output */
    xs_policy_t *county;    /* s_county, parsed */
    xs_identity_t *node_id; /* the node's keys, as `xueshi-node init` made them */
    hub_t hub;              /* open with its keys */
    node_t node;            /* open */
} fixture_t;

/* Runs a command of either program in this process, its standard output into fx->out.
 * Returns its exit code. */
static int s_command(fixture_t *fx, int (*cmd)(int, char **), char **argv, int argc) {
    int rc = xs_scratch_command(fx->dir, cmd, argv, argc, fx->out, NULL, sizeof fx->out);
    assert_true(rc >= 0);
    return rc;
}

static int s_write_file(const char *path, const char *a, const char *b) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(a, f) >= 0 && (!b || fputs(b, f) >= 0);
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* ---- setup: the county's hub, a school's node, enrolled ---- */

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char msg[512], hub_keys[XS_PUBKEYS_TEXT_LEN + 1], node_keys[XS_PUBKEYS_TEXT_LEN + 1];
    if (!fx)
        return -1;
    *state = fx;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_cat") != 0)
        return -1;
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    snprintf(fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    snprintf(fx->county_path, sizeof fx->county_path, "%s/county.ini", fx->dir);
    snprintf(fx->draft_path, sizeof fx->draft_path, "%s/draft.ini", fx->dir);
    if (xs_policy_parse(&fx->county, s_county, strlen(s_county), "county.ini", msg, sizeof msg) !=
        XS_OK) {
        fprintf(stderr, "county policy refused: %s\n", msg);
        return -1;
    }
    if (s_write_file(fx->county_path, s_county, NULL) != 0 ||
        s_write_file(fx->draft_path, s_county, s_draft_extra) != 0)
        return -1;

    /* xueshi-hub init: its last line is the hub's public keys, which the node is given. */
    char *hub_init[] = {"--dir", fx->hub_dir, "--policy", fx->county_path, NULL};
    if (s_command(fx, hub_cmd_init, hub_init, 4) != 0)
        return -1;
    const char *last = strstr(fx->out, "xs1:");
    if (!last || strlen(last) < XS_PUBKEYS_TEXT_LEN)
        return -1;
    memcpy(hub_keys, last, XS_PUBKEYS_TEXT_LEN);
    hub_keys[XS_PUBKEYS_TEXT_LEN] = '\0';

    /* xueshi-node init for school S1, syncing to the hub (no connection is made here). */
    char *node_init[] = {"--dir",     fx->node_dir, "--school", "S1", "--hub", "tcp://127.0.0.1:1",
                         "--hub-key", hub_keys,     NULL};
    if (s_command(fx, node_cmd_init, node_init, 8) != 0)
        return -1;
    if (xs_identity_load(&fx->node_id, fx->node_dir, "node") != XS_OK)
        return -1;

    /* xueshi-hub enroll, as test_hub_fork does. */
    xs_pubkeys_format(xs_identity_public(fx->node_id), node_keys);
    char *enroll[] = {"--dir", fx->hub_dir, "--node", node_keys, "--school", "S1", NULL};
    if (s_command(fx, hub_cmd_enroll, enroll, 6) != 0)
        return -1;
    if (hub_open(&fx->hub, fx->hub_dir, HUB_OPEN_KEYS) != XS_OK)
        return -1;
    return node_open(&fx->node, fx->node_dir) == XS_OK ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    node_close(&fx->node);
    hub_close(&fx->hub);
    xs_identity_destroy(&fx->node_id);
    xs_policy_destroy(&fx->county);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* ---- the node ---- */

/* The node takes the hub's signed policy as a sync does (sync.c, VIEW `policy`): opened
 * against the county key the node holds, then stored with its envelope. */
static xs_err s_put_policy(xs_txn_t *txn, void *ctx) {
    const xs_bytes_t *p = ctx; /* [0]: the blob, [1]: its envelope */
    return node_put_signed_policy(txn, p[0].ptr, p[0].len, p[1].ptr, p[1].len);
}

static void s_node_takes_hub_policy(fixture_t *fx) {
    xs_txn_t *txn = NULL;
    xs_bytes_t env;
    uint8_t county_key[32];
    const uint8_t *blob;
    size_t blob_len;
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_meta_get(txn, HUB_META_POLICY_ENV, &env), XS_OK);
    uint8_t *copy = malloc(env.len);
    assert_non_null(copy);
    memcpy(copy, env.ptr, env.len);
    size_t copy_len = env.len;
    xs_store_end(&txn);

    assert_int_equal(xs_store_read(fx->node.store, &txn), XS_OK);
    assert_int_equal(node_county_key(txn, county_key), XS_OK);
    xs_store_end(&txn);
    assert_int_equal(xs_receipt_policy_open(copy, copy_len, county_key, &blob, &blob_len), XS_OK);
    xs_bytes_t parts[2] = {{blob, blob_len}, {copy, copy_len}};
    assert_int_equal(xs_store_update(fx->node.store, s_put_policy, parts), XS_OK);
    free(copy);
}

typedef struct s_append {
    const uint8_t *bytes; /* the encoded record */
    size_t len;
    node_dedupe_t key;
    uint64_t seq; /* out: its sequence number */
} s_append_t;

static xs_err s_append(xs_txn_t *txn, void *ctx) {
    s_append_t *a = ctx;
    return node_append(txn, a->bytes, a->len, &a->key, &a->seq);
}

/* Records one activity as `xueshi-node record --teacher T --date D --category C [--event E]`
 * does (cmd_record.c): the category named under the node's policy (node_category_parse:
 * xs_policy_category_parse of the trimmed text), the node's school, node_check, then
 * node_append. Returns XS_REASON_NONE and the new seq in *seq, or why it was refused. */
static xs_reason s_record(fixture_t *fx, const char *teacher, const char *date,
                          const char *category, const char *event, uint64_t *seq) {
    xs_policy_t *policy = NULL;
    xs_record_t rec;
    xs_reason why = XS_REASON_NONE;
    xs_writer_t w;
    const struct {
        xs_field f;
        const char *text;
    } fields[] = {{XS_F_TEACHER_ID, teacher}, {XS_F_DATE, date}, {XS_F_EVENT, event}};
    xs_record_init(&rec);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].text)
            assert_int_equal(
                xs_record_set_text(&rec, fields[i].f, fields[i].text, strlen(fields[i].text), &why),
                XS_OK);
    assert_int_equal(node_policy(&fx->node, &policy), XS_OK);
    int code = node_category_parse(policy, category, strlen(category));
    if (code <= 0) {
        xs_policy_destroy(&policy);
        return XS_REASON_UNKNOWN_CATEGORY;
    }
    rec.category = (uint8_t)code;
    rec.present |= 1u << XS_F_CATEGORY;
    rec.school_id = (xs_str_t){fx->node.school, (uint32_t)strlen(fx->node.school)};
    rec.present |= 1u << XS_F_SCHOOL_ID;
    rec.recorded_at = (int64_t)time(NULL);
    rec.present |= 1u << XS_F_RECORDED_AT;
    why = node_check(&fx->node, policy, &rec, 0);
    xs_policy_destroy(&policy);
    if (why != XS_REASON_NONE)
        return why;
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    s_append_t a = {w.data, w.len, {{0}, 0}, 0};
    node_dedupe_key(&rec, &a.key);
    assert_int_equal(xs_store_update(fx->node.store, s_append, &a), XS_OK);
    xs_writer_free(&w);
    *seq = a.seq;
    return XS_REASON_NONE;
}

/* ---- the hub ---- */

/* The receipt of teacher T1 in the page the node's next sync fetches, as a standalone
 * envelope, copied. */
typedef struct s_found {
    uint8_t *envelope;
    size_t len;
} s_found_t;

static xs_err s_keep_t1(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                        const xs_receipt_t *opened) {
    (void)opened;
    s_found_t *found = ctx;
    xs_receipt_t *r = malloc(sizeof *r);
    (void)index;
    assert_non_null(r);
    assert_int_equal(xs_receipt_open(receipt, len, NULL, r), XS_OK);
    if (r->teacher_id.len == 2 && memcmp(r->teacher_id.ptr, "T1", 2) == 0) {
        found->envelope = malloc(len);
        assert_non_null(found->envelope);
        memcpy(found->envelope, receipt, len);
        found->len = len;
    }
    free(r);
    return XS_OK;
}

static void s_receipt_of_t1(hub_t *hub, xs_txn_t *txn, const uint8_t origin[32], s_found_t *found) {
    hub_issue_page_t page;
    hub_issue_page_init(&page);
    assert_int_equal(hub_issue_page(hub, txn, origin, 0, NULL, 0, XS_PROTO_FRAME_MAX, &page),
                     XS_OK);
    assert_int_equal(hub_issue_page_each(hub, &page, s_keep_t1, found), XS_OK);
    hub_issue_page_free(&page);
}

/* The summary rows `xueshi-hub report` prints for a teacher, into a stream. */
typedef struct s_summary {
    const xs_policy_t *policy;
    FILE *f;
} s_summary_t;

static xs_err s_summary_row(void *ctx, const xs_certify_teacher_t *teacher) {
    s_summary_t *s = ctx;
    xs_str_t school = {"S1", 2};
    return xs_report_summary_teacher(s->f, s->policy, teacher, &school);
}

/* ---- the worked example ---- */

static void test_case_study_recorded_synced_certified(void **state) {
    fixture_t *fx = *state;
    uint64_t seq = 0, sealed = 0;
    int left = 1;

    /* The county's text defines 案例分析 as code 11; 研修日志 is not the county's. */
    assert_int_equal(xs_policy_category_parse(fx->county, "案例分析", strlen("案例分析")), 11);
    assert_string_equal(xs_policy_category_name(fx->county, 11), "case_study");
    assert_int_equal(xs_policy_category_parse(fx->county, "研修日志", strlen("研修日志")), -1);

    /* 1. The node gets the hub's signed policy, byte for byte the county's text compiled. */
    s_node_takes_hub_policy(fx);
    xs_policy_t *node_policy_now = NULL;
    uint8_t county_hash[32], node_hash[32];
    assert_int_equal(node_policy(&fx->node, &node_policy_now), XS_OK);
    assert_int_equal(xs_policy_hash(fx->county, county_hash), XS_OK);
    assert_int_equal(xs_policy_hash(node_policy_now, node_hash), XS_OK);
    assert_memory_equal(node_hash, county_hash, 32);
    assert_memory_equal(fx->hub.policy_hash, county_hash, 32);
    assert_int_equal(xs_policy_category_parse(node_policy_now, "案例分析", strlen("案例分析")), 11);
    xs_policy_destroy(&node_policy_now);

    /* 2. The school records T1's two case studies by the Chinese label, two different events:
     * seq 1 and 2. Under the county's policy 研修日志 is refused at the node. */
    assert_int_equal(s_record(fx, "T1", "2025-10-10", "案例分析", "课例一", &seq), XS_REASON_NONE);
    assert_int_equal(seq, 1);
    assert_int_equal(s_record(fx, "T1", "2025-10-11", "案例分析", "课例二", &seq), XS_REASON_NONE);
    assert_int_equal(seq, 2);
    assert_int_equal(s_record(fx, "T1", "2025-10-12", "研修日志", NULL, &seq),
                     XS_REASON_UNKNOWN_CATEGORY);

    /* Under a draft the school set itself (`xueshi-node policy draft.ini`), 研修日志 is code 12
     * and is recorded: seq 3. The hub's policy still does not define it. */
    assert_int_equal(
        s_command(fx, node_cmd_policy, (char *[]){"--dir", fx->node_dir, fx->draft_path, NULL}, 3),
        0);
    assert_int_equal(s_record(fx, "T1", "2025-10-12", "研修日志", NULL, &seq), XS_REASON_NONE);
    assert_int_equal(seq, 3);

    /* 3. The node seals seq 1..3 into one batch signed with its key (`xueshi-node sync` does
     * this before it sends). */
    assert_int_equal(node_seal(&fx->node, fx->node_id, NULL, &sealed, &left), XS_OK);
    assert_int_equal(sealed, 1);
    assert_int_equal(left, 0);
    xs_txn_t *txn = NULL;
    xs_bytes_t env;
    assert_int_equal(xs_store_read(fx->node.store, &txn), XS_OK);
    assert_int_equal(node_lane_own_batch(txn, 1, &env), XS_OK);
    uint8_t *batch = malloc(env.len);
    assert_non_null(batch);
    memcpy(batch, env.ptr, env.len);
    size_t batch_len = env.len;
    xs_store_end(&txn);

    /* 4. The hub merges it: all three records stored, none refused; T1 certified. */
    const uint8_t *origin = xs_identity_public(fx->node_id)->sign;
    hub_item_t item;
    hub_merge_stats_t stats;
    hub_item_open(&item, batch, batch_len, origin);
    assert_int_equal(item.open_err, XS_OK);
    assert_int_equal(hub_merge(&fx->hub, &item, 1, &stats), XS_OK);
    assert_int_equal(item.status, XS_ACK_ACCEPTED);
    assert_int_equal(stats.records, 3);
    assert_int_equal(stats.rejected, 0);
    assert_int_equal(stats.teachers, 1);
    hub_item_free(&item);
    free(batch);

    /* 5. T1's receipt, as the node will fetch it, signed by the hub. */
    s_found_t found = {NULL, 0};
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    s_receipt_of_t1(&fx->hub, txn, origin, &found);
    xs_store_end(&txn);
    assert_non_null(found.envelope);
    xs_receipt_t *receipt = malloc(sizeof *receipt);
    assert_non_null(receipt);
    assert_int_equal(
        xs_receipt_open(found.envelope, found.len, xs_identity_public(fx->hub.id)->sign, receipt),
        XS_OK);
    assert_int_equal(receipt->teacher_id.len, 2);
    assert_memory_equal(receipt->teacher_id.ptr, "T1", 2);
    assert_memory_equal(receipt->policy_hash, county_hash, 32);

    /* The academic year 2025-2026 holds all three records: the hub kept code 12. */
    const xs_receipt_period_t *year = NULL;
    for (uint32_t i = 0; i < receipt->period_count; i++)
        if (receipt->periods[i].scope == XS_SCOPE_YEAR && receipt->periods[i].year == 2025)
            year = &receipt->periods[i];
    assert_non_null(year);
    assert_int_equal(year->record_count, 3);

    /* The bucket `total`, year 2025-2026:
     *   案例分析 课例一   2 h × 3600 s =  7200 s
     *   案例分析 课例二   2 h × 3600 s =  7200 s
     *   研修日志 (12)     rejected     =     0 s
     *   credited                        = 14400 s = 4.00 h
     *   required         10 h × 3600 s  = 36000 s = 10.00 h
     *   met no, binding yes; short by 36000 - 14400 = 21600 s = 6.00 h. */
    const xs_receipt_total_t *total = NULL;
    for (uint32_t i = 0; i < receipt->total_count; i++)
        if (receipt->totals[i].scope == XS_SCOPE_YEAR && receipt->totals[i].year == 2025 &&
            receipt->totals[i].bucket == 0)
            total = &receipt->totals[i];
    assert_non_null(total);
    assert_int_equal(total->credited_seconds, 2 * 2 * 3600);
    assert_int_equal(total->credited_seconds, 14400);
    assert_int_equal(total->required_seconds, 10 * 3600);
    assert_int_equal(total->met, XS_MET_NO);
    assert_int_equal(total->binding, 1);
    char hours[24], reason[XS_REPORT_REASON_MAX];
    xs_certify_format_hours(hours, sizeof hours, total->credited_seconds);
    assert_string_equal(hours, "4.00");
    xs_certify_format_hours(hours, sizeof hours, total->required_seconds);
    assert_string_equal(hours, "10.00");
    assert_string_equal(xs_certify_met_name(total->met), "no");
    xs_certify_total_t as_certified;
    xs_report_receipt_total(total, &as_certified);
    xs_report_total_reason(fx->hub.policy, &as_certified, reason, sizeof reason);
    assert_string_equal(reason, "hours_short 还差6.00学时");
    free(receipt);
    free(found.envelope);

    /* 6. The hub's certification of T1 (`xueshi-hub report`, and `--detail`): code 12 is
     * held, and rejected unknown_category with no credit. */
    hub_ledger_t ledger;
    memset(&ledger, 0, sizeof ledger);
    char *text = NULL;
    size_t text_len = 0;
    FILE *f = open_memstream(&text, &text_len);
    assert_non_null(f);
    s_summary_t summary = {fx->hub.policy, f};
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    assert_int_equal(hub_ledger_teacher(&ledger, txn, "T1", 2), XS_OK);
    assert_int_equal(ledger.count, 3);
    assert_int_equal(xs_certify_teacher(fx->hub.policy, NULL, ledger.records, ledger.ids,
                                        ledger.count, NULL, ledger.rows, s_summary_row, &summary),
                     XS_OK);
    int case_studies = 0, unknown = 0;
    for (size_t i = 0; i < ledger.count; i++) {
        const xs_certify_row_t *row = &ledger.rows[i];
        if (row->category == 11) {
            assert_int_equal(row->status, XS_CERT_CREDITED);
            assert_int_equal(row->credited_seconds, 7200);
            case_studies++;
        } else {
            assert_int_equal(row->category, 12);
            assert_int_equal(ledger.seqs[i], 3);
            assert_int_equal(row->status, XS_CERT_REJECTED);
            assert_int_equal(row->reason, XS_REASON_UNKNOWN_CATEGORY);
            assert_int_equal(row->credited_seconds, 0);
            xs_str_t school = {"S1", 2};
            assert_int_equal(xs_report_detail_row(f, fx->hub.policy, &school, "n1:3",
                                                  &ledger.records[i], row, XS_REPORT_LABEL),
                             XS_OK);
            unknown++;
        }
    }
    xs_store_end(&txn);
    hub_ledger_free(&ledger);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(case_studies, 2);
    assert_int_equal(unknown, 1);
    /* What the county admin reads: the summary row, then the detail row of code 12. */
    assert_string_equal(text, "S1,T1,year,2025-2026,total,4.00,10.00,no,yes,"
                              "hours_short 还差6.00学时\r\n"
                              "S1,n1:3,T1,2025-2026,12,0.00,rejected,"
                              "unknown_category 未知的活动类别\r\n");
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_study_recorded_synced_certified),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
