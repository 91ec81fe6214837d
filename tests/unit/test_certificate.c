/* test_certificate: the 学时证明 PDF: pages per teacher, the receipt's QR code on a confirmed
 * page and none on a provisional one, one page however many activities, and the refusals
 * (a receipt too large for a QR code, another teacher's, an altered one). Where poppler-utils
 * and zbar-tools are installed the pages are rendered and read back as an auditor would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"
#include "xs/certificate.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/receipt.h"
#include "xs/report.h"
#include "xs/text.h"

typedef struct fixture {
    char dir[512];
    xs_policy_t *policy;
    xs_identity_t *hub;
    xs_receipt_t receipt;
    xs_writer_t envelope; /* the receipt of T0001, signed by hub */
    xs_certify_total_t totals[8];
    size_t total_count;
    xs_certificate_activity_t activities[300];
} fixture_t;

static const char s_title[] = "县级专题讲座：乡村课堂的提问设计";

/* A receipt of teacher with the year 2025-2026 and its cycle (2021-2025 under wenzhou), and
 * extra totals rows of other years to make it larger. */
static void s_receipt(xs_receipt_t *r, const char *teacher, uint32_t extra) {
    memset(r, 0, sizeof *r);
    r->teacher_id = (xs_str_t){teacher, (uint32_t)strlen(teacher)};
    r->policy_id = (xs_str_t){"wenzhou", 7};
    r->policy_version = 1;
    r->generation = 7;
    r->issued_at = 1767225600; /* 2026-01-01 */
    r->period_count = 2;
    r->periods[0] = (xs_receipt_period_t){XS_SCOPE_YEAR, 2025, 12, {1}, 0, {0}};
    r->periods[1] = (xs_receipt_period_t){XS_SCOPE_CYCLE, 2021, 40, {2}, 0, {0}};
    r->total_count = 3;
    r->totals[0] = (xs_receipt_total_t){.credited_seconds = 52 * 3600,
                                        .required_seconds = 48 * 3600,
                                        .year = 2025,
                                        .scope = XS_SCOPE_YEAR,
                                        .met = XS_MET_YES};
    r->totals[1] = (xs_receipt_total_t){.credited_seconds = 20 * 3600 + 1800,
                                        .required_seconds = 24 * 3600,
                                        .year = 2025,
                                        .scope = XS_SCOPE_YEAR,
                                        .bucket = 1,
                                        .met = XS_MET_NO};
    r->totals[2] = (xs_receipt_total_t){.credited_seconds = 372 * 3600,
                                        .required_seconds = 360 * 3600,
                                        .year = 2021,
                                        .scope = XS_SCOPE_CYCLE,
                                        .met = XS_MET_YES,
                                        .binding = 1};
    for (uint32_t i = 0; i < extra; i++)
        r->totals[r->total_count++] = (xs_receipt_total_t){.credited_seconds = 1000000 + i,
                                                           .required_seconds = 48 * 3600,
                                                           .year = (int32_t)(2000 + i % 20),
                                                           .scope = XS_SCOPE_SEMESTER,
                                                           .semester = 1,
                                                           .met = XS_MET_NO};
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char msg[256], path[1024];
    uint8_t seed[32];
    if (!fx || xs_scratch_make(fx->dir, sizeof fx->dir, "test_certificate") != 0)
        return -1;
    snprintf(path, sizeof path, "%s/schema/policies/wenzhou.ini", XS_SOURCE_DIR);
    if (xs_policy_load(&fx->policy, path, msg, sizeof msg) != XS_OK)
        return -1;
    memset(seed, 0x5c, sizeof seed);
    if (xs_identity_from_seed(&fx->hub, seed) != XS_OK)
        return -1;
    s_receipt(&fx->receipt, "T0001", 0);
    xs_writer_init(&fx->envelope, XS_RECEIPT_MAX_BYTES);
    if (xs_receipt_sign(&fx->envelope, fx->hub, &fx->receipt) != XS_OK)
        return -1;
    for (uint32_t i = 0; i < fx->receipt.total_count; i++)
        xs_report_receipt_total(&fx->receipt.totals[i], &fx->totals[i]);
    fx->total_count = fx->receipt.total_count;
    for (size_t i = 0; i < 300; i++)
        fx->activities[i] = (xs_certificate_activity_t){
            xs_date_from_civil(2025, 9, 1) + (int32_t)i, (uint8_t)(1 + i % 10),
            (xs_str_t){s_title, (uint32_t)strlen(s_title)}, 5400};
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_scratch_remove(fx->dir);
    xs_policy_destroy(&fx->policy);
    xs_identity_destroy(&fx->hub);
    xs_writer_free(&fx->envelope);
    free(fx);
    return 0;
}

/* A page of T0001 (张老师) with n activities, confirmed by the fixture's receipt or not. */
static xs_certificate_page_t s_page(fixture_t *fx, size_t n, int confirmed) {
    xs_certificate_page_t page = {
        .policy = fx->policy,
        .teacher_id = {"T0001", 5},
        .teacher_name = {"张老师", (uint32_t)strlen("张老师")},
        .school_id = {"S001", 4},
        .year = 2025,
        .totals = fx->totals,
        .total_count = fx->total_count,
        .conclusion = XS_CERTIFICATE_NOT_MET,
        .reason = "hours_short 校本培训还差3.50学时",
        .activities = fx->activities,
        .activity_count = n,
        .issued = xs_date_from_civil(2026, 1, 1),
        .receipt = confirmed ? fx->envelope.data : NULL,
        .receipt_len = confirmed ? fx->envelope.len : 0,
    };
    return page;
}

/* Reads the whole file at path into buf (cap bytes); returns its length, or -1. */
static long s_slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

/* Runs a shell command, its output (cut at cap - 1) into out; returns its exit status, or -1. */
static int s_run(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int s_have(const char *tool) {
    char cmd[128], out[256];
    snprintf(cmd, sizeof cmd, "command -v %s", tool);
    return s_run(cmd, out, sizeof out) == 0;
}

/* Three pages (confirmed, provisional, confirmed with 300 activities): a PDF of three pages;
 * rendered, the first holds the receipt's text, the second no code, the third counts the
 * activities it could not list. */
static void test_pages(void **state) {
    fixture_t *fx = *state;
    char path[1024], cmd[4096], out[8192];
    static char pdf[1 << 20];
    snprintf(path, sizeof path, "%s/cert.pdf", fx->dir);
    xs_certificate_t *doc = NULL;
    assert_int_equal(xs_certificate_begin(&doc, path), XS_OK);
    xs_certificate_page_t page = s_page(fx, 5, 1);
    assert_int_equal(xs_certificate_add(doc, &page), XS_OK);
    page = s_page(fx, 5, 0);
    assert_int_equal(xs_certificate_add(doc, &page), XS_OK);
    page = s_page(fx, 300, 1);
    assert_int_equal(xs_certificate_add(doc, &page), XS_OK);
    assert_int_equal(xs_certificate_pages(doc), 3);
    /* Until it ends, the path holds nothing. */
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(xs_certificate_end(&doc), XS_OK);
    assert_null(doc);
    long n = s_slurp(path, pdf, sizeof pdf);
    assert_true(n > 1000);
    assert_memory_equal(pdf, "%PDF-", 5);
    if (!s_have("pdfinfo") || !s_have("pdftoppm") || !s_have("zbarimg") || !s_have("pdftotext")) {
        fprintf(stderr, "poppler-utils or zbar-tools missing: the pages are not read back\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "pdfinfo '%s' | grep '^Pages:'", path);
    assert_int_equal(s_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, " 3"));
    snprintf(cmd, sizeof cmd, "cd '%s' && pdftoppm -r 200 -png cert.pdf page", fx->dir);
    assert_int_equal(s_run(cmd, out, sizeof out), 0);
    /* Page 1: the QR code holds the receipt's text, exactly. */
    char text[XS_RECEIPT_TEXT_MAX + 1];
    size_t text_len;
    assert_int_equal(
        xs_receipt_text_encode(fx->envelope.data, fx->envelope.len, text, sizeof text, &text_len),
        XS_OK);
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q '%s/page-1.png'", fx->dir);
    assert_int_equal(s_run(cmd, out, sizeof out), 0);
    assert_true(strncmp(out, text, text_len) == 0);
    assert_true(out[text_len] == '\0' || out[text_len] == '\n');
    /* Page 2: provisional, no code at all (zbarimg exits 4: nothing found). */
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q '%s/page-2.png'", fx->dir);
    assert_int_equal(s_run(cmd, out, sizeof out), 4);
    snprintf(cmd, sizeof cmd, "pdftotext -f 2 -l 2 '%s' -", path);
    assert_int_equal(s_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "暂定"));
    /* Page 1 is not provisional; it names the teacher and the conclusion. */
    snprintf(cmd, sizeof cmd, "pdftotext -f 1 -l 1 '%s' -", path);
    assert_int_equal(s_run(cmd, out, sizeof out), 0);
    assert_null(strstr(out, "暂定"));
    assert_non_null(strstr(out, "张老师"));
    assert_non_null(strstr(out, "未达标"));
    /* Page 3: 300 activities on one page, the rest counted. */
    snprintf(cmd, sizeof cmd, "pdftotext -f 3 -l 3 '%s' -", path);
    assert_int_equal(s_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "另有 "));
    assert_non_null(strstr(out, "项，见明细"));
}

/* A receipt whose text no QR code holds is refused, never cut; the document goes on. */
static void test_too_big(void **state) {
    fixture_t *fx = *state;
    char path[1024];
    xs_receipt_t *big = malloc(sizeof *big);
    xs_writer_t env;
    assert_non_null(big);
    s_receipt(big, "T0001", 400);
    xs_writer_init(&env, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_sign(&env, fx->hub, big), XS_OK);
    assert_true(env.len > XS_RECEIPT_TEXT_BYTES_MAX);
    snprintf(path, sizeof path, "%s/big.pdf", fx->dir);
    xs_certificate_t *doc = NULL;
    assert_int_equal(xs_certificate_begin(&doc, path), XS_OK);
    xs_certificate_page_t page = s_page(fx, 3, 1);
    page.receipt = env.data;
    page.receipt_len = env.len;
    assert_int_equal(xs_certificate_add(doc, &page), XS_ETOOBIG);
    assert_int_equal(xs_certificate_pages(doc), 0);
    page = s_page(fx, 3, 1);
    assert_int_equal(xs_certificate_add(doc, &page), XS_OK);
    assert_int_equal(xs_certificate_end(&doc), XS_OK);
    assert_int_equal(access(path, F_OK), 0);
    xs_writer_free(&env);
    free(big);
}

/* Another teacher's receipt, an altered one and a bad path are refused. */
static void test_refusals(void **state) {
    fixture_t *fx = *state;
    char path[1024];
    xs_receipt_t *other = malloc(sizeof *other);
    xs_writer_t env;
    assert_non_null(other);
    s_receipt(other, "T0002", 0);
    xs_writer_init(&env, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_sign(&env, fx->hub, other), XS_OK);
    snprintf(path, sizeof path, "%s/refused.pdf", fx->dir);
    xs_certificate_t *doc = NULL;
    assert_int_equal(xs_certificate_begin(&doc, path), XS_OK);
    xs_certificate_page_t page = s_page(fx, 3, 1);
    page.receipt = env.data;
    page.receipt_len = env.len;
    assert_int_equal(xs_certificate_add(doc, &page), XS_EINVAL);
    /* One byte of the signed body changed. */
    uint8_t *altered = malloc(fx->envelope.len);
    assert_non_null(altered);
    memcpy(altered, fx->envelope.data, fx->envelope.len);
    altered[fx->envelope.len - 80] ^= 1;
    page = s_page(fx, 3, 1);
    page.receipt = altered;
    assert_int_equal(xs_certificate_add(doc, &page), XS_ECRYPTO);
    /* Text that is not UTF-8. */
    page = s_page(fx, 3, 0);
    page.teacher_name = (xs_str_t){"\xff\xfe", 2};
    assert_int_equal(xs_certificate_add(doc, &page), XS_EINVAL);
    /* Nothing added: no document, and nothing left behind. */
    assert_int_equal(xs_certificate_end(&doc), XS_EINVAL);
    assert_int_equal(access(path, F_OK), -1);
    char part[1100];
    snprintf(part, sizeof part, "%s.part", path);
    assert_int_equal(access(part, F_OK), -1);
    /* Abandoned: nothing left either. */
    assert_int_equal(xs_certificate_begin(&doc, path), XS_OK);
    page = s_page(fx, 3, 0);
    assert_int_equal(xs_certificate_add(doc, &page), XS_OK);
    xs_certificate_abandon(&doc);
    assert_null(doc);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access(part, F_OK), -1);
    /* A directory that does not exist. */
    snprintf(path, sizeof path, "%s/no/such/dir/x.pdf", fx->dir);
    assert_int_equal(xs_certificate_begin(&doc, path), XS_EIO);
    assert_null(doc);
    free(altered);
    xs_writer_free(&env);
    free(other);
}

static void test_conclusion_labels(void **state) {
    (void)state;
    assert_string_equal(xs_certificate_conclusion_zh(XS_CERTIFICATE_MET), "达标");
    assert_string_equal(xs_certificate_conclusion_zh(XS_CERTIFICATE_NOT_MET), "未达标");
    assert_string_equal(xs_certificate_conclusion_zh(XS_CERTIFICATE_EXEMPT), "免于认定");
    assert_string_equal(xs_certificate_conclusion_zh(XS_CERTIFICATE_NONE), "—");
    assert_string_equal(xs_certificate_conclusion_zh(99), "—");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_conclusion_labels),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
