/* test_node_web: the operator's pages (node/web.c) served over a scratch node and spoken to
 * over HTTP: the 登记 form of a category with its csrf field; a POST without the token, with a
 * wrong one, or from another site refused (403) with nothing stored; a good lecture stored and
 * answered 303; a bad role answered on the form with #error naming 角色 and its values; void,
 * and voiding twice refused; stored text escaped on the list; a sheet imported with its
 * refused rows listed; no listen beyond loopback without a password. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "scratch.h"
#include "node.h"
#include "web.h"
#include "xs/text.h"

#define S_OUT_MAX (16 * 1024)
#define S_FORM "application/x-www-form-urlencoded"
#define S_BOUNDARY "----xsWebTest"

typedef struct fixture {
    char dir[256];       /* scratch directory */
    char node_dir[300];  /* the node's --dir */
    char out[S_OUT_MAX]; /* init's output */
    char err[S_OUT_MAX];
    node_t node;      /* open for the pages */
    node_web_t *web;  /* serving them */
    uint16_t port;    /* on this port of 127.0.0.1 */
    char csrf[80];    /* the token a form carried */
    char *reply;      /* the last reply, headers and body, NUL-terminated */
    size_t reply_len; /* its bytes */
} fixture_t;

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    signal(SIGPIPE, SIG_IGN);
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_web") != 0)
        return -1;
    snprintf(fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    char *init[] = {"--dir", fx->node_dir, "--school", "S01", NULL};
    if (xs_scratch_command(fx->dir, node_cmd_init, init, 4, fx->out, fx->err, sizeof fx->out) != 0)
        return -1;
    if (node_open(&fx->node, fx->node_dir) != XS_OK)
        return -1;
    node_web_config_t config = {.listen = "127.0.0.1:0"};
    if (node_web_start(&fx->web, &fx->node, &config) != XS_OK)
        return -1;
    fx->port = node_web_port(fx->web);
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    node_web_stop(&fx->web);
    assert_null(fx->web);
    node_close(&fx->node);
    xs_scratch_remove(fx->dir);
    free(fx->reply);
    free(fx);
    return 0;
}

/* Sends len raw bytes and reads the reply until the server closes; returns its status, 0 when
 * there is none. */
static unsigned s_raw(fixture_t *fx, const char *bytes, size_t len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(fx->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    for (size_t sent = 0; sent < len;) {
        ssize_t n = send(fd, bytes + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    free(fx->reply);
    fx->reply = NULL;
    fx->reply_len = 0;
    size_t cap = 0;
    for (;;) {
        if (fx->reply_len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            fx->reply = realloc(fx->reply, cap);
            assert_non_null(fx->reply);
        }
        ssize_t n = recv(fd, fx->reply + fx->reply_len, 4096, 0);
        if (n <= 0)
            break;
        fx->reply_len += (size_t)n;
    }
    close(fd);
    if (!fx->reply) {
        fx->reply = calloc(1, 1);
        assert_non_null(fx->reply);
    }
    fx->reply[fx->reply_len] = '\0';
    return fx->reply_len > 12 && strncmp(fx->reply, "HTTP/1.", 7) == 0
               ? (unsigned)strtoul(fx->reply + 9, NULL, 10)
               : 0;
}

/* GET target. */
static unsigned s_get(fixture_t *fx, const char *target) {
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n", target,
                     fx->port);
    assert_true(n > 0 && (size_t)n < sizeof req);
    return s_raw(fx, req, (size_t)n);
}

/* POSTs body (len bytes) of content type type to path, with extra header lines. */
static unsigned s_post(fixture_t *fx, const char *path, const char *type, const char *body,
                       size_t len, const char *headers) {
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
                     path, fx->port, type, len, headers ? headers : "");
    assert_true(n > 0 && (size_t)n < sizeof head);
    char *req = malloc((size_t)n + len);
    assert_non_null(req);
    memcpy(req, head, (size_t)n);
    memcpy(req + n, body, len);
    unsigned status = s_raw(fx, req, (size_t)n + len);
    free(req);
    return status;
}

/* s_post of a urlencoded form. */
static unsigned s_form(fixture_t *fx, const char *path, const char *body) {
    return s_post(fx, path, S_FORM, body, strlen(body), NULL);
}

static const char *s_body(const fixture_t *fx) {
    const char *end = strstr(fx->reply, "\r\n\r\n");
    return end ? end + 4 : "";
}

static int s_has(const fixture_t *fx, const char *needle) {
    return strstr(s_body(fx), needle) != NULL;
}

/* Reads the csrf token of the page just fetched into fx->csrf. */
static void s_take_csrf(fixture_t *fx) {
    const char *at = strstr(s_body(fx), "name=\"csrf\" value=\"");
    assert_non_null(at);
    at += strlen("name=\"csrf\" value=\"");
    size_t len = strcspn(at, "\"");
    assert_true(len > 16 && len < sizeof fx->csrf);
    memcpy(fx->csrf, at, len);
    fx->csrf[len] = '\0';
}

/* The records stored so far. */
static uint64_t s_records(fixture_t *fx) {
    xs_txn_t *txn = NULL;
    uint64_t next = 0;
    assert_int_equal(xs_store_read(fx->node.store, &txn), XS_OK);
    assert_int_equal(node_next_seq(txn, &next), XS_OK);
    xs_store_end(&txn);
    return next - 1;
}

/* POSTs a lecture form with the token and the extra pairs (URL-encoded, leading '&'). */
static unsigned s_lecture(fixture_t *fx, const char *extra) {
    char body[1024];
    snprintf(body, sizeof body, "csrf=%s&category=lecture&teacher_id=T1&date=2025%%2F10%%2F5%s",
             fx->csrf, extra);
    return s_form(fx, "/record", body);
}

static void test_record_form(void **state) {
    fixture_t *fx = *state;
    assert_int_equal(s_get(fx, "/"), 303);
    assert_non_null(strstr(fx->reply, "Location: /record"));
    assert_int_equal(s_get(fx, "/record"), 200);
    assert_true(s_has(fx, "href=\"/record?category=lecture\""));
    assert_true(s_has(fx, "href=\"/record?category=exam\""));
    /* Every page has the navigation. */
    static const char *const nav[] = {"/record", "/import", "/records", "/totals", "/sync", "/usb"};
    for (size_t i = 0; i < sizeof nav / sizeof nav[0]; i++) {
        char link[64];
        snprintf(link, sizeof link, "<a href=\"%s\"", nav[i]);
        assert_true(s_has(fx, link));
    }
    assert_int_equal(s_get(fx, "/record?category=lecture"), 200);
    assert_non_null(strstr(fx->reply, "Content-Type: text/html; charset=utf-8"));
    assert_true(s_has(fx, "<form method=\"post\" action=\"/record\""));
    assert_true(s_has(fx, "<input type=\"hidden\" name=\"csrf\" value=\""));
    assert_true(s_has(fx, "<input type=\"hidden\" name=\"category\" value=\"lecture\">"));
    assert_true(s_has(fx, "name=\"teacher_id\""));
    assert_true(s_has(fx, "name=\"minutes\""));
    assert_true(s_has(fx, "<select id=\"f-role\" name=\"role\">"));
    assert_true(s_has(fx, "<option value=\"speaker\">主讲人</option>"));
    assert_false(s_has(fx, "name=\"score\"")); /* an exam's field, not a lecture's */
    assert_false(s_has(fx, "<script"));
    assert_int_equal(s_get(fx, "/record?category=paper"), 200);
    assert_true(s_has(fx, "<select id=\"f-grade\" name=\"grade\">"));
    assert_true(s_has(fx, "一等奖"));
    /* An unknown category: the menu, saying so. */
    assert_int_equal(s_get(fx, "/record?category=nope"), 200);
    assert_true(s_has(fx, "id=\"error\""));
    assert_int_equal(s_get(fx, "/style.css"), 200);
    assert_non_null(strstr(fx->reply, "text/css"));
    assert_int_equal(s_get(fx, "/nowhere"), 404);
}

/* A POST without the form's token, with a wrong one, or from another site changes nothing. */
static void test_csrf(void **state) {
    fixture_t *fx = *state;
    const char good[] = "category=lecture&teacher_id=T1&date=2025-10-05&minutes=90";
    assert_int_equal(s_form(fx, "/record", good), 403);
    assert_true(s_has(fx, "重新打开此页"));
    char body[512];
    snprintf(body, sizeof body, "csrf=%064d&%s", 0, good);
    assert_int_equal(s_form(fx, "/record", body), 403);
    assert_int_equal(s_form(fx, "/void", "csrf=x&seq=1&reason=r"), 403);
    assert_int_equal(s_records(fx), 0);
    /* The right token, posted from another site's page. */
    assert_int_equal(s_get(fx, "/record?category=lecture"), 200);
    s_take_csrf(fx);
    snprintf(body, sizeof body, "csrf=%s&%s", fx->csrf, good);
    assert_int_equal(
        s_post(fx, "/record", S_FORM, body, strlen(body), "Origin: http://evil.example\r\n"), 403);
    assert_int_equal(s_records(fx), 0);
    /* From this server's own page it goes through. */
    char origin[64];
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u\r\n", fx->port);
    assert_int_equal(s_post(fx, "/record", S_FORM, body, strlen(body), origin), 303);
    assert_int_equal(s_records(fx), 1);
    /* As a browser posts it under the no-referrer policy (Origin: null): the token decides. */
    assert_int_equal(s_post(fx, "/record", S_FORM, body, strlen(body), "Origin: null\r\n"), 303);
    assert_int_equal(s_records(fx), 2);
}

static void test_record_stored(void **state) {
    fixture_t *fx = *state;
    assert_int_equal(s_get(fx, "/record?category=lecture"), 200);
    s_take_csrf(fx);
    assert_int_equal(s_lecture(fx, "&minutes=90&role=%E4%B8%BB%E8%AE%B2&event=x"), 303);
    assert_non_null(strstr(fx->reply, "Location: /records?added=1"));
    xs_txn_t *txn = NULL;
    xs_bytes_t bytes;
    xs_record_t rec;
    char date[11];
    assert_int_equal(xs_store_read(fx->node.store, &txn), XS_OK);
    assert_int_equal(node_record_get(txn, 1, &bytes), XS_OK);
    assert_int_equal(xs_record_decode_bytes(bytes.ptr, bytes.len, &rec), XS_OK);
    assert_int_equal(rec.category, XS_CAT_LECTURE);
    assert_int_equal(rec.minutes, 90);
    assert_int_equal(rec.role, XS_ROLE_SPEAKER); /* 主讲, a short Chinese label */
    xs_date_format(rec.date, date);
    assert_string_equal(date, "2025-10-05");
    assert_int_equal(rec.teacher_id.len, 2);
    assert_memory_equal(rec.teacher_id.ptr, "T1", 2);
    assert_int_equal(rec.school_id.len, 3);
    xs_store_end(&txn);
    assert_int_equal(s_get(fx, "/records?added=1"), 200);
    assert_true(s_has(fx, "id=\"notice\""));
    assert_true(s_has(fx, "<table id=\"records\">"));
    assert_true(s_has(fx, "<tr id=\"r-1\">"));
    assert_true(s_has(fx, "主讲人 90 分钟"));
}

static void test_bad_role(void **state) {
    fixture_t *fx = *state;
    assert_int_equal(s_get(fx, "/record?category=lecture"), 200);
    s_take_csrf(fx);
    /* 主讲者 is no role's label. */
    assert_int_equal(s_lecture(fx, "&minutes=90&role=%E4%B8%BB%E8%AE%B2%E8%80%85"), 200);
    const char *error = strstr(s_body(fx), "<p class=\"error\" id=\"error\">");
    assert_non_null(error);
    const char *end = strstr(error, "</p>");
    assert_non_null(end);
    char line[2048];
    snprintf(line, sizeof line, "%.*s", (int)(end - error), error);
    assert_non_null(strstr(line, "角色"));
    assert_non_null(strstr(line, "参与者/participant"));
    assert_non_null(strstr(line, "主讲人/speaker"));
    /* The form is shown again, filled in, with a fresh way to submit it. */
    assert_true(s_has(fx, "<form method=\"post\" action=\"/record\""));
    assert_true(s_has(fx, "name=\"teacher_id\" value=\"T1\""));
    assert_true(s_has(fx, "name=\"minutes\" value=\"90\""));
    assert_int_equal(s_records(fx), 0);
    /* A role the category does not take, and a date that is no date. */
    assert_int_equal(s_lecture(fx, "&minutes=90&role=organizer"), 200);
    assert_true(s_has(fx, "id=\"error\""));
    char body[512];
    snprintf(body, sizeof body, "csrf=%s&category=lecture&teacher_id=T1&date=2025-13-40&minutes=9",
             fx->csrf);
    assert_int_equal(s_form(fx, "/record", body), 200);
    assert_true(s_has(fx, "日期"));
    assert_int_equal(s_records(fx), 0);
}

static void test_void(void **state) {
    fixture_t *fx = *state;
    char body[512];
    assert_int_equal(s_get(fx, "/record?category=lecture"), 200);
    s_take_csrf(fx);
    assert_int_equal(s_lecture(fx, "&minutes=45&event=%3Cscript%3Ealert(1)%3C%2Fscript%3E"), 303);
    /* Stored text is escaped on the list, and a live row has its void form. */
    assert_int_equal(s_get(fx, "/records"), 200);
    assert_true(s_has(fx, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_false(s_has(fx, "<script>"));
    assert_true(s_has(fx, "<form method=\"post\" action=\"/void\""));
    assert_true(s_has(fx, "<input type=\"hidden\" name=\"seq\" value=\"1\">"));
    assert_true(s_has(fx, "name=\"reason\" required"));
    snprintf(body, sizeof body, "csrf=%s&seq=1&reason=%%E7%%99%%BB%%E9%%94%%99", fx->csrf);
    assert_int_equal(s_form(fx, "/void", body), 303);
    assert_non_null(strstr(fx->reply, "Location: /records?voided=1"));
    assert_int_equal(s_records(fx), 2);
    assert_int_equal(s_get(fx, "/records?voided=1"), 200);
    assert_true(s_has(fx, "<tr id=\"r-1\" class=\"voided\">"));
    assert_true(s_has(fx, "已作废"));
    assert_false(s_has(fx, "name=\"seq\" value=\"1\"")); /* no void form on a voided row */
    /* Voiding it again, or a record that is not there, or without a reason: refused. */
    assert_int_equal(s_form(fx, "/void", body), 200);
    assert_true(s_has(fx, "id=\"error\""));
    snprintf(body, sizeof body, "csrf=%s&seq=99&reason=x", fx->csrf);
    assert_int_equal(s_form(fx, "/void", body), 200);
    assert_true(s_has(fx, "id=\"error\""));
    snprintf(body, sizeof body, "csrf=%s&seq=2&reason=", fx->csrf);
    assert_int_equal(s_form(fx, "/void", body), 200);
    assert_true(s_has(fx, "id=\"error\""));
    assert_int_equal(s_records(fx), 2);
    /* Filters: another teacher lists nothing. */
    assert_int_equal(s_get(fx, "/records?teacher=T9"), 200);
    assert_false(s_has(fx, "id=\"r-1\""));
    assert_int_equal(s_get(fx, "/records?year=2025-2026&category=lecture"), 200);
    assert_true(s_has(fx, "id=\"r-1\""));
    assert_int_equal(s_get(fx, "/records?year=2024-2025"), 200);
    assert_false(s_has(fx, "id=\"r-1\""));
}

static void test_import(void **state) {
    fixture_t *fx = *state;
    assert_int_equal(s_get(fx, "/import"), 200);
    assert_true(s_has(fx, "enctype=\"multipart/form-data\""));
    assert_true(s_has(fx, "<input type=\"file\" id=\"f-sheet\" name=\"sheet\""));
    s_take_csrf(fx);
    char body[2048];
    int n = snprintf(body, sizeof body,
                     "--" S_BOUNDARY "\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n"
                     "%s\r\n--" S_BOUNDARY "\r\nContent-Disposition: form-data; "
                     "name=\"operator\"\r\n\r\n王老师\r\n--" S_BOUNDARY "\r\n"
                     "Content-Disposition: form-data; name=\"sheet\"; filename=\"登记表.csv\"\r\n"
                     "Content-Type: text/csv\r\n\r\n"
                     "teacher_id,date,category,minutes\r\nT2,2025-10-06,lecture,60\r\n"
                     "T3,2025/10/7,lecture,abc\r\n\r\n--" S_BOUNDARY "--\r\n",
                     fx->csrf);
    assert_true(n > 0 && (size_t)n < sizeof body);
    const char *type = "multipart/form-data; boundary=" S_BOUNDARY;
    assert_int_equal(s_post(fx, "/import", type, body, (size_t)n, NULL), 200);
    assert_true(s_has(fx, "<p id=\"summary\""));
    assert_true(s_has(fx, "新登记 1 条，已登记跳过 0 条，拒绝 1 条"));
    assert_true(s_has(fx, "<table id=\"refused\">"));
    assert_true(s_has(fx, "<tr><td class=\"line\">3</td><td>分钟</td>"));
    assert_int_equal(s_records(fx), 1);
    /* The same sheet again: nothing new. */
    assert_int_equal(s_post(fx, "/import", type, body, (size_t)n, NULL), 200);
    assert_true(s_has(fx, "新登记 0 条，已登记跳过 1 条，拒绝 1 条"));
    assert_int_equal(s_records(fx), 1);
}

/* The other pages answer, and a sync without a hub says what to do. */
static void test_other_pages(void **state) {
    fixture_t *fx = *state;
    assert_int_equal(s_get(fx, "/totals"), 200);
    assert_int_equal(s_get(fx, "/sync"), 200);
    assert_true(s_has(fx, "<form method=\"post\" action=\"/sync\">"));
    s_take_csrf(fx);
    char body[128];
    snprintf(body, sizeof body, "csrf=%s", fx->csrf);
    assert_int_equal(s_form(fx, "/sync", body), 200);
    assert_true(s_has(fx, "id=\"outcome\""));
    assert_true(s_has(fx, "init --hub"));
    assert_int_equal(s_get(fx, "/usb"), 200);
    assert_true(s_has(fx, "action=\"/usb/export\""));
    assert_true(s_has(fx, "action=\"/usb/receipts\""));
    assert_int_equal(s_form(fx, "/usb/export", body), 200); /* no hub to encrypt to: said */
    assert_true(s_has(fx, "id=\"outcome\""));
}

/* Beyond loopback, the pages need TLS and a password. */
static void test_non_loopback_refused(void **state) {
    fixture_t *fx = *state;
    node_web_t *web = NULL;
    node_web_config_t config = {.listen = "0.0.0.0:0"};
    assert_int_equal(node_web_start(&web, &fx->node, &config), XS_EPERM);
    assert_null(web);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_form, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_csrf, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_record_stored, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_role, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_void, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_import, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_other_pages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_non_loopback_refused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
