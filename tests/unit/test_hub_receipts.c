/* test_hub_receipts: a real xueshi-hub on loopback pages a node's receipts over FETCH. One
 * node records one activity for each of 2,500 teachers, whose ids are prefixes of each other
 * ("T1", "T10", "T100", "T1000") or 64 bytes long: more receipts than one RECEIPTS reply
 * holds. Paging with `after` = the last teacher of the page before must bring every receipt
 * exactly once, in teacher order; a FETCH after any teacher starts at the next one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scratch.h"
#include "xs/batch.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/proto.h"
#include "xs/receipt.h"
#include "xs/record.h"
#include "xs/transport.h"

/* Teachers "T1".."T<S_SHORT>", and one 64-byte id "T<n>-zzz…" for every S_LONG_EVERY-th n. */
#define S_SHORT 4800
#define S_LONG_EVERY 24
#define S_TEACHERS (S_SHORT + S_SHORT / S_LONG_EVERY)
/* Records per batch the test seals. */
#define S_BATCH 500
/* A reply that must come comes by this many milliseconds. */
#define S_PATIENCE_MS 20000
/* How long the hub may take to start serving. */
#define S_START_MS 10000
/* Bytes kept of a command's standard output. */
#define S_OUT_MAX (64 * 1024)

typedef struct teacher {
    char id[XS_ID_MAX + 1];
    size_t len;
} teacher_t;

typedef struct fixture {
    char dir[256];                      /* scratch directory */
    char hub_dir[400];                  /* the hub's --dir */
    char hub_log[400];                  /* the running hub's stdout and stderr */
    char endpoint[64];                  /* where it listens */
    xs_pubkeys_t hub_pub;               /* the hub's public keys */
    pid_t hub_pid;                      /* the running hub, or 0 */
    xs_identity_t *node;                /* the node's keys */
    xs_client_t *client;                /* its connection */
    teacher_t *teachers;                /* every teacher, in byte order */
    uint8_t *reply;                     /* a copy of the last message received */
    size_t reply_len;                   /* its bytes */
    xs_receipt_t *receipt;              /* scratch for one opened receipt */
    char out[S_OUT_MAX];                /* a command's standard output */
    char keys[XS_PUBKEYS_TEXT_LEN + 1]; /* the node's public keys, text form */
} fixture_t;

static int64_t s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_bin(char *path, size_t cap, const char *program) {
    const char *bin = getenv("XS_BIN");
    snprintf(path, cap, "%s/%s", bin && *bin ? bin : XS_BIN_DIR, program);
}

/* Runs argv (argv[0] a program of the bin directory) to its end, its standard output in out.
 * Returns its exit status, or -1. */
static int s_run(char *out, size_t cap, const char *const *argv) {
    char path[600];
    int fds[2];
    s_bin(path, sizeof path, argv[0]);
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        char chunk[4096];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t keep = (size_t)n;
        if (len + keep > cap - 1)
            keep = cap - 1 - len;
        memcpy(out + len, chunk, keep);
        len += keep;
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A free loopback TCP port, as the kernel picks one. */
static int s_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

/* 1 once something accepts TCP connections on the port. */
static int s_port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int s_cmp_teacher(const void *pa, const void *pb) {
    const teacher_t *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->id, b->id, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Fills fx->teachers, sorted as the hub's tables sort keys. */
static int s_teachers(fixture_t *fx) {
    size_t n = 0;
    if (!(fx->teachers = calloc(S_TEACHERS, sizeof *fx->teachers)))
        return -1;
    for (int i = 1; i <= S_SHORT; i++) {
        teacher_t *t = &fx->teachers[n++];
        t->len = (size_t)snprintf(t->id, sizeof t->id, "T%d", i);
        if (i % S_LONG_EVERY == 0) {
            t = &fx->teachers[n++];
            t->len = (size_t)snprintf(t->id, sizeof t->id, "T%d-", i);
            memset(t->id + t->len, 'z', XS_ID_MAX - t->len);
            t->len = XS_ID_MAX;
            t->id[XS_ID_MAX] = '\0';
        }
    }
    if (n != S_TEACHERS)
        return -1;
    qsort(fx->teachers, n, sizeof *fx->teachers, s_cmp_teacher);
    return 0;
}

/* The index of teacher id (len bytes) in fx->teachers, or -1. */
static long s_find(const fixture_t *fx, const char *id, size_t len) {
    teacher_t key;
    memcpy(key.id, id, len);
    key.len = len;
    const teacher_t *t = bsearch(&key, fx->teachers, S_TEACHERS, sizeof key, s_cmp_teacher);
    return t ? (long)(t - fx->teachers) : -1;
}

/* ---- the hub process ---- */

static void s_dump_log(const fixture_t *fx) {
    FILE *f = fopen(fx->hub_log, "r");
    char line[1024];
    if (!f)
        return;
    fprintf(stderr, "---- %s ----\n", fx->hub_log);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fprintf(stderr, "---- end ----\n");
    fclose(f);
}

/* 1 when the hub's log holds sanitizer output. */
static int s_log_has_sanitizer(const fixture_t *fx) {
    FILE *f = fopen(fx->hub_log, "r");
    char line[1024];
    int found = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "runtime error") || strstr(line, "Sanitizer"))
            found = 1;
    fclose(f);
    return found;
}

static int s_hub_start(fixture_t *fx, int port) {
    char path[600];
    s_bin(path, sizeof path, "xueshi-hub");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(fx->hub_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(path, "xueshi-hub", "run", "--dir", fx->hub_dir, "--listen", fx->endpoint,
              (char *)NULL);
        _exit(127);
    }
    fx->hub_pid = pid;
    int64_t deadline = s_now_ms() + S_START_MS;
    while (!s_port_open(port)) {
        if (s_now_ms() > deadline || waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        usleep(20 * 1000);
    }
    return 0;
}

/* SIGTERM, then the exit status (-1: did not exit in time, killed). */
static int s_hub_stop(fixture_t *fx) {
    int status = 0;
    if (!fx->hub_pid)
        return 0;
    kill(fx->hub_pid, SIGTERM);
    int64_t deadline = s_now_ms() + 10000;
    for (;;) {
        pid_t r = waitpid(fx->hub_pid, &status, WNOHANG);
        if (r == fx->hub_pid)
            break;
        if ((r < 0 && errno != EINTR) || s_now_ms() > deadline) {
            if (r >= 0) {
                kill(fx->hub_pid, SIGKILL);
                waitpid(fx->hub_pid, &status, 0);
            }
            fx->hub_pid = 0;
            return -1;
        }
        usleep(20 * 1000);
    }
    fx->hub_pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- messages ---- */

/* Sends msg and waits for the one reply, decoded into *reply (borrowing fx->reply). */
static xs_err s_request(fixture_t *fx, const xs_msg_t *msg, xs_msg_t *reply) {
    xs_writer_t w;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    xs_err err = xs_proto_encode(msg, &w);
    if (err == XS_OK)
        err = xs_client_send(fx->client, w.data, w.len);
    xs_writer_free(&w);
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    while (err == XS_OK) {
        const uint8_t *bytes;
        size_t len;
        int64_t left = deadline - s_now_ms();
        if (left <= 0)
            return XS_ETIMEOUT;
        err = xs_client_recv(fx->client, (int)left, &bytes, &len);
        if (err == XS_ETIMEOUT) {
            err = XS_OK; /* a signal woke the wait */
            continue;
        }
        if (err != XS_OK)
            break;
        memcpy(fx->reply, bytes, len);
        fx->reply_len = len;
        return xs_proto_decode(fx->reply, fx->reply_len, reply);
    }
    return err;
}

/* Seals one activity for each of count teachers at first_seq into *env (initialised here). */
static void s_seal(const fixture_t *fx, const teacher_t *teachers, uint32_t count,
                   uint64_t first_seq, const uint8_t *prev, xs_writer_t *env, uint8_t hash[32]) {
    xs_writer_t *recs = calloc(count, sizeof *recs);
    xs_batch_slice_t *slices = calloc(count, sizeof *slices);
    assert_non_null(recs);
    assert_non_null(slices);
    for (uint32_t i = 0; i < count; i++) {
        xs_record_t rec;
        xs_reason why;
        xs_field field;
        xs_record_init(&rec);
        const struct {
            xs_field f;
            const char *text;
        } fields[] = {
            {XS_F_TEACHER_ID, teachers[i].id}, {XS_F_SCHOOL_ID, "S1"},
            {XS_F_DATE, "2025-03-12"},         {XS_F_CATEGORY, "lecture"},
            {XS_F_ROLE, "participant"},        {XS_F_MINUTES, "90"},
        };
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            assert_int_equal(
                xs_record_set_text(&rec, fields[f].f, fields[f].text, strlen(fields[f].text), &why),
                XS_OK);
        assert_int_equal(xs_record_check(&rec, &field), XS_REASON_NONE);
        xs_writer_init(&recs[i], XS_RECORD_MAX);
        xs_record_encode(&rec, &recs[i]);
        assert_int_equal(xs_writer_err(&recs[i]), XS_OK);
        slices[i] = (xs_batch_slice_t){recs[i].data, recs[i].len};
    }
    xs_writer_init(env, XS_BATCH_MAX_BYTES);
    assert_int_equal(xs_batch_seal(env, fx->node, first_seq, prev, NULL, (int64_t)time(NULL),
                                   slices, count, hash),
                     XS_OK);
    for (uint32_t i = 0; i < count; i++)
        xs_writer_free(&recs[i]);
    free(recs);
    free(slices);
}

/* What s_fetch_page's walk over a page's leaves checks and counts. */
typedef struct s_walk {
    fixture_t *fx;
    const teacher_t *after;
    size_t check;
    size_t *next;
    uint32_t count;
} s_walk_t;

/* The standalone receipt of one leaf of a page that verified: it opens alone against the hub's
 * key, and is the next teacher. */
static xs_err s_leaf(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                     const xs_receipt_t *opened) {
    (void)opened;
    s_walk_t *w = ctx;
    fixture_t *fx = w->fx;
    assert_int_equal(index, w->count);
    if (w->count < w->check) {
        assert_int_equal(xs_receipt_open(receipt, len, fx->hub_pub.sign, fx->receipt), XS_OK);
        const xs_str_t *t = &fx->receipt->teacher_id;
        long at = s_find(fx, t->ptr, t->len);
        if (at < 0 || (size_t)at != *w->next)
            fail_msg("FETCH after %s: receipt %u is teacher %.*s (index %ld), expected %s",
                     w->after ? w->after->id : "(nil)", w->count, (int)t->len, t->ptr, at,
                     *w->next < S_TEACHERS ? fx->teachers[*w->next].id : "(none)");
    }
    (*w->next)++;
    w->count++;
    return XS_OK;
}

/* FETCH (receipts_have 0) after teacher `after` (NULL: from the start): the page is a group
 * (protocol.md §5.3) that verifies against the hub's key, and the first `check` receipts of
 * it (all: SIZE_MAX) are a run of consecutive teachers of fx->teachers from index *next;
 * *count gets the page's receipts and *next moves past them. Returns the reply's `more`. */
static int s_fetch_page(fixture_t *fx, const teacher_t *after, size_t check, size_t *next,
                        uint32_t *count) {
    xs_msg_t msg, page;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_FETCH;
    if (after)
        msg.u.fetch.after = (xs_str_t){after->id, (uint32_t)after->len};
    xs_err err = s_request(fx, &msg, &page);
    if (err != XS_OK) {
        s_dump_log(fx);
        fail_msg("FETCH after %s: %s", after ? after->id : "(nil)", xs_strerror(err));
    }
    assert_int_equal(page.type, XS_MSG_RECEIPTS);
    assert_int_equal(page.u.receipts.receipt_count, 0); /* the hub sends its page as a group */
    *count = 0;
    if (!page.u.receipts.root.ptr) {
        assert_int_equal(page.u.receipts.leaf_count, 0);
        return page.u.receipts.more;
    }
    uint32_t n = page.u.receipts.leaf_count;
    xs_proto_blob_t *leaves = malloc(n * sizeof *leaves);
    assert_non_null(leaves);
    xs_proto_iter_t it;
    xs_proto_iter_init(&it, &page.u.receipts.leaf_list);
    for (uint32_t i = 0; i < n; i++)
        assert_true(xs_proto_next_leaf(&it, &leaves[i]));
    s_walk_t w = {fx, after, check, next, 0};
    assert_int_equal(xs_receipt_page_open(page.u.receipts.root.ptr, page.u.receipts.root.len,
                                          leaves, n, fx->hub_pub.sign, s_leaf, &w),
                     XS_OK);
    free(leaves);
    assert_int_equal(w.count, n);
    *count = w.count;
    return page.u.receipts.more;
}

/* ---- setup ---- */

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char policy[600];
    if (!fx)
        return -1;
    *state = fx;
    signal(SIGPIPE, SIG_IGN);
    if (xs_identity_setup() != XS_OK || s_teachers(fx) != 0)
        return -1;
    fx->reply = malloc(XS_TRANSPORT_MAX_MSG);
    fx->receipt = malloc(sizeof *fx->receipt);
    if (!fx->reply || !fx->receipt)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_receipts") != 0)
        return -1;
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    snprintf(fx->hub_log, sizeof fx->hub_log, "%s/hub.log", fx->dir);
    const char *src = getenv("XS_SOURCE_DIR");
    snprintf(policy, sizeof policy, "%s/schema/policies/baiwanzi.ini",
             src && *src ? src : XS_SOURCE_DIR);
    const char *init[] = {"xueshi-hub", "init", "--dir", fx->hub_dir, "--policy", policy, NULL};
    if (s_run(fx->out, sizeof fx->out, init) != 0) {
        fprintf(stderr, "xueshi-hub init failed:\n%s\n", fx->out);
        return -1;
    }
    char *last = fx->out + strlen(fx->out);
    while (last > fx->out && last[-1] == '\n')
        *--last = '\0';
    while (last > fx->out && last[-1] != '\n')
        last--;
    if (strlen(last) != XS_PUBKEYS_TEXT_LEN ||
        xs_pubkeys_parse(last, strlen(last), &fx->hub_pub) != XS_OK)
        return -1;
    if (xs_identity_create(&fx->node, fx->dir, "node") != XS_OK)
        return -1;
    xs_pubkeys_format(xs_identity_public(fx->node), fx->keys);
    const char *enroll[] = {"xueshi-hub", "enroll",   "--dir", fx->hub_dir, "--node",
                            fx->keys,     "--school", "S1",    NULL};
    if (s_run(fx->out, sizeof fx->out, enroll) != 0)
        return -1;
    int port = s_free_port();
    if (port < 0)
        return -1;
    snprintf(fx->endpoint, sizeof fx->endpoint, "tcp://127.0.0.1:%d", port);
    if (s_hub_start(fx, port) != 0) {
        s_dump_log(fx);
        return -1;
    }
    const xs_pubkeys_t *pub = xs_identity_public(fx->node);
    return xs_client_open(&fx->client, fx->endpoint, fx->hub_pub.box, pub->box,
                          xs_identity_box_secret(fx->node)) == XS_OK
               ? 0
               : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    xs_client_close(&fx->client);
    xs_identity_destroy(&fx->node);
    if (fx->hub_pid) {
        s_hub_stop(fx);
        s_dump_log(fx);
    }
    xs_scratch_remove(fx->dir);
    free(fx->teachers);
    free(fx->reply);
    free(fx->receipt);
    free(fx);
    return 0;
}

/* ---- the cases, in order ---- */

/* The node sends one activity per teacher, in batches, in an order that is not the teachers'
 * byte order (the hub sorts them). */
static void test_send(void **state) {
    fixture_t *fx = *state;
    teacher_t *order = malloc(S_TEACHERS * sizeof *order);
    uint8_t prev[32];
    assert_non_null(order);
    for (size_t i = 0; i < S_TEACHERS; i++)
        order[i] = fx->teachers[(i * 7) % S_TEACHERS]; /* 7 is prime to S_TEACHERS */
    for (uint64_t first = 0; first < S_TEACHERS; first += S_BATCH) {
        uint32_t count = S_TEACHERS - first < S_BATCH ? (uint32_t)(S_TEACHERS - first) : S_BATCH;
        xs_writer_t env;
        uint8_t hash[32];
        xs_msg_t msg, ack;
        s_seal(fx, order + first, count, first + 1, first ? prev : NULL, &env, hash);
        memset(&msg, 0, sizeof msg);
        msg.type = XS_MSG_BATCH;
        msg.u.batch.envelope = (xs_proto_blob_t){env.data, env.len};
        assert_int_equal(s_request(fx, &msg, &ack), XS_OK);
        assert_int_equal(ack.type, XS_MSG_ACK);
        assert_int_equal(ack.u.ack.status, XS_ACK_ACCEPTED);
        assert_int_equal(ack.u.ack.count, count);
        memcpy(prev, hash, 32);
        xs_writer_free(&env);
    }
    free(order);
}

/* FETCH from the start, then after the last teacher of each page: every receipt once, in
 * order, over more than one page. A FETCH repeated gets the same bytes: the page is built
 * again from the same state, signature included. */
static void test_page_through(void **state) {
    fixture_t *fx = *state;
    size_t next = 0, pages = 0;
    uint32_t count;
    int more = s_fetch_page(fx, NULL, SIZE_MAX, &next, &count);
    size_t first_len = fx->reply_len;
    uint8_t *first = malloc(first_len);
    assert_non_null(first);
    memcpy(first, fx->reply, first_len);
    next = 0;
    assert_int_equal(s_fetch_page(fx, NULL, 0, &next, &count), more);
    assert_int_equal(fx->reply_len, first_len);
    assert_memory_equal(fx->reply, first, first_len);
    free(first);
    for (pages = 1; more; pages++) {
        assert_true(count > 0);
        teacher_t after = fx->teachers[next - 1];
        more = s_fetch_page(fx, &after, SIZE_MAX, &next, &count);
    }
    assert_int_equal(next, S_TEACHERS);
    assert_true(pages >= 2);
}

/* FETCH after each of a run of teachers, prefixes and 64-byte ids among them, and after ids
 * no teacher has: the page starts at the next teacher in byte order. */
static void test_after_each(void **state) {
    fixture_t *fx = *state;
    const char *named[] = {"T1", "T10", "T100", "T1000", "T2", "T24", "T240", "T2400"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        long at = s_find(fx, named[i], strlen(named[i]));
        assert_true(at >= 0);
        size_t next = (size_t)at + 1;
        uint32_t count;
        s_fetch_page(fx, &fx->teachers[at], 3, &next, &count);
        assert_true(count > 0);
    }
    /* Every 64-byte id, and a stride of the others. */
    for (size_t i = 0; i + 1 < S_TEACHERS; i++) {
        if (fx->teachers[i].len != XS_ID_MAX && i % 97 != 0)
            continue;
        size_t next = i + 1;
        uint32_t count;
        s_fetch_page(fx, &fx->teachers[i], 3, &next, &count);
        assert_true(count > 0);
    }
    /* After the last teacher: nothing, and no more. */
    size_t next = S_TEACHERS;
    uint32_t count;
    assert_int_equal(s_fetch_page(fx, &fx->teachers[S_TEACHERS - 1], 3, &next, &count), 0);
    assert_int_equal(count, 0);
    /* After a 64-byte id no teacher has, between "T1" and "T10": from "T10". */
    teacher_t between = {.len = XS_ID_MAX};
    memset(between.id, '/', XS_ID_MAX); /* '/' sorts before '0' */
    memcpy(between.id, "T1", 2);
    next = (size_t)s_find(fx, "T10", 3);
    s_fetch_page(fx, &between, 3, &next, &count);
    assert_true(count > 0);
}

/* The same receipts leave on a USB bundle: export-receipts counts every one; for a node that
 * is not enrolled it refuses, writing nothing. */
static void test_export(void **state) {
    fixture_t *fx = *state;
    char out[400], text[XS_PUBKEYS_TEXT_LEN + 1], want[64];
    snprintf(out, sizeof out, "%s/receipts.xsb", fx->dir);
    const char *exp[] = {"xueshi-hub", "export-receipts", "--dir", fx->hub_dir, "--node",
                         fx->keys,     "--out",           out,     NULL};
    assert_int_equal(s_run(fx->out, sizeof fx->out, exp), 0);
    snprintf(want, sizeof want, "已导出 %d 份认定回执", S_TEACHERS);
    assert_non_null(strstr(fx->out, want));
    assert_int_equal(access(out, F_OK), 0);
    xs_identity_t *stranger = NULL;
    assert_int_equal(xs_identity_create(&stranger, fx->dir, "stranger"), XS_OK);
    xs_pubkeys_format(xs_identity_public(stranger), text);
    xs_identity_destroy(&stranger);
    snprintf(out, sizeof out, "%s/stranger.xsb", fx->dir);
    exp[5] = text;
    assert_int_equal(s_run(fx->out, sizeof fx->out, exp), 1);
    assert_int_equal(access(out, F_OK), -1);
}

/* Last: SIGTERM ends the hub cleanly, and no sanitizer spoke in its log. */
static void test_clean_shutdown(void **state) {
    fixture_t *fx = *state;
    xs_client_close(&fx->client);
    int status = s_hub_stop(fx);
    if (status != 0 || s_log_has_sanitizer(fx))
        s_dump_log(fx);
    assert_int_equal(status, 0);
    assert_false(s_log_has_sanitizer(fx));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send),           cmocka_unit_test(test_page_through),
        cmocka_unit_test(test_after_each),     cmocka_unit_test(test_export),
        cmocka_unit_test(test_clean_shutdown),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
