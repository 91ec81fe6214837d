/* test_hub_hostile: a real xueshi-hub on loopback against hostile peers: unknown and revoked
 * keys, forged and altered batches, replays from another node, out-of-scope records,
 * malformed and oversize frames, repeats, forks, a chain at the top of the seq range. Every
 * case checks the reply AND that the hub stored nothing it should not have (VIEW,
 * `xueshi-hub nodes`, `xueshi-hub report`). The cases share one hub and run in order: each
 * continues A's chain where the one before left it. */
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
#include "xs/record.h"
#include "xs/staff.h"
#include "xs/transport.h"

/* A reply that must come comes by this many milliseconds. */
#define S_PATIENCE_MS 5000
/* How long we listen for a reply that must not come. */
#define S_SILENCE_MS 1500
/* How long the hub may take to start serving. */
#define S_START_MS 10000
/* Bytes kept of a command's standard output. */
#define S_OUT_MAX (256 * 1024)

/* A node as the test drives it: its directory, keys, connection and chain. */
typedef struct node_fx {
    const char *name;                   /* "a", "b", "c" */
    const char *school;                 /* the school it is enrolled for */
    char dir[400];                      /* its xueshi-node directory */
    char keys[XS_PUBKEYS_TEXT_LEN + 1]; /* its public keys, text form */
    char hex[17];                       /* first 8 bytes of its origin, as `nodes` prints */
    xs_identity_t *id;                  /* its keys, loaded from DIR/node.secret */
    xs_client_t *client;                /* its connection to the hub */
    uint64_t next_seq;                  /* first seq of its next batch */
    uint8_t prev_hash[XS_HASH_BYTES];   /* hash of its last accepted batch */
} node_fx_t;

typedef struct fixture {
    char dir[256];                          /* scratch directory */
    char hub_dir[400];                      /* the hub's --dir */
    char hub_log[400];                      /* the running hub's stdout and stderr */
    char endpoint[64];                      /* where it listens */
    char hub_keys[XS_PUBKEYS_TEXT_LEN + 1]; /* the last line of `xueshi-hub init` */
    xs_pubkeys_t hub_pub;                   /* parsed hub_keys */
    pid_t hub_pid;                          /* the running hub, or 0 */
    node_fx_t a, b, c;                      /* a: school S1, b: school S2, c: S3 (revoked later) */
    uint8_t *reply;                         /* a copy of the last message received */
    size_t reply_len;                       /* its bytes */
    char *out;                              /* a command's standard output */
} fixture_t;

static fixture_t *g_fx;
/* fork_seq the hub reports for A once test_fork has run. */
static uint64_t s_a_fork_seq;

static int64_t s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_bin(char *path, size_t cap, const char *program) {
    const char *bin = getenv("XS_BIN");
    snprintf(path, cap, "%s/%s", bin && *bin ? bin : XS_BIN_DIR, program);
}

/* Runs argv (argv[0] a program name in the bin directory) to its end, its standard output in
 * out (NUL-terminated, truncated to cap - 1). Returns its exit status, or -1. */
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

/* Copies the last non-empty line of text into line. */
static int s_last_line(const char *text, char *line, size_t cap) {
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    size_t start = len;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    if (len == start || len - start >= cap)
        return -1;
    memcpy(line, text + start, len - start);
    line[len - start] = '\0';
    return 0;
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

/* ---- messages ---- */

static xs_err s_encode(const xs_msg_t *msg, xs_writer_t *w) {
    xs_writer_init(w, XS_PROTO_FRAME_MAX);
    return xs_proto_encode(msg, w);
}

static xs_err s_client(xs_client_t **out, const xs_identity_t *id) {
    const xs_pubkeys_t *pub = xs_identity_public(id);
    return xs_client_open(out, g_fx->endpoint, g_fx->hub_pub.box, pub->box,
                          xs_identity_box_secret(id));
}

/* Waits for one message on c and keeps a copy in g_fx->reply. XS_ETIMEOUT, XS_EREFUSED... */
static xs_err s_recv(xs_client_t *c, int timeout_ms) {
    int64_t deadline = s_now_ms() + timeout_ms;
    for (;;) {
        const uint8_t *bytes;
        size_t len;
        int64_t left = deadline - s_now_ms();
        if (left <= 0)
            return XS_ETIMEOUT;
        xs_err err = xs_client_recv(c, (int)left, &bytes, &len);
        if (err == XS_ETIMEOUT)
            continue; /* a signal (our children exiting) woke the wait */
        if (err != XS_OK)
            return err;
        memcpy(g_fx->reply, bytes, len);
        g_fx->reply_len = len;
        return XS_OK;
    }
}

/* Sends a frame and waits for the one reply, decoded into *msg (borrowing g_fx->reply). */
static xs_err s_request(xs_client_t *c, const void *frame, size_t len, xs_msg_t *msg) {
    xs_err err = xs_client_send(c, frame, len);
    if (err == XS_OK)
        err = s_recv(c, S_PATIENCE_MS);
    if (err == XS_OK)
        err = xs_proto_decode(g_fx->reply, g_fx->reply_len, msg);
    return err;
}

typedef struct view {
    uint64_t have_through, held_max, fork_seq;
    uint32_t gap_count;
} view_t;

/* HELLO → VIEW on c; XS_OK with *v filled, or why not. */
static xs_err s_hello(xs_client_t *c, view_t *v) {
    xs_msg_t msg;
    xs_writer_t w;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_HELLO;
    xs_err err = s_encode(&msg, &w);
    if (err == XS_OK)
        err = s_request(c, w.data, w.len, &msg);
    xs_writer_free(&w);
    if (err != XS_OK)
        return err;
    if (msg.type != XS_MSG_VIEW)
        return XS_EMALFORMED;
    v->have_through = msg.u.view.have_through;
    v->held_max = msg.u.view.held_max;
    v->fork_seq = msg.u.view.fork_seq;
    v->gap_count = msg.u.view.gap_count;
    return XS_OK;
}

/* Checks in the helpers below report the caller's line. */
#define S_EQ(a, b, line)                                                                           \
    _assert_int_equal(cast_to_largest_integral_type(a), cast_to_largest_integral_type(b),          \
                      __FILE__, line)

/* HELLO → VIEW on n's connection shows exactly this (and no gaps). */
#define s_assert_view(n, have_through, held_max, fork_seq)                                         \
    s_assert_view_at(n, have_through, held_max, fork_seq, __LINE__)
static void s_assert_view_at(node_fx_t *n, uint64_t have_through, uint64_t held_max,
                             uint64_t fork_seq, int line) {
    view_t v;
    S_EQ(s_hello(n->client, &v), XS_OK, line);
    S_EQ(v.have_through, have_through, line);
    S_EQ(v.held_max, held_max, line);
    S_EQ(v.gap_count, 0, line);
    S_EQ(v.fork_seq, fork_seq, line);
}

/* Sends one BATCH frame holding len bytes of envelope; *ack is the decoded ACK. */
static void s_batch(xs_client_t *c, const uint8_t *envelope, size_t len, xs_msg_t *ack) {
    xs_msg_t msg;
    xs_writer_t w;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_BATCH;
    msg.u.batch.envelope = (xs_proto_blob_t){envelope, len};
    assert_int_equal(s_encode(&msg, &w), XS_OK);
    assert_int_equal(s_request(c, w.data, w.len, ack), XS_OK);
    xs_writer_free(&w);
    assert_int_equal(ack->type, XS_MSG_ACK);
}

/* One record of a batch the tests seal. */
typedef struct rec_spec {
    const char *teacher;
    const char *school;
} rec_spec_t;

/* Seals count records at first_seq (prev: the previous batch's hash, NULL at 1) with n's keys
 * into *env (initialised here); note varies the content. */
static void s_seal(const node_fx_t *n, uint64_t first_seq, const uint8_t *prev,
                   const rec_spec_t *specs, uint32_t count, const char *note, xs_writer_t *env,
                   uint8_t hash[XS_HASH_BYTES]) {
    xs_writer_t recs[8];
    xs_batch_slice_t slices[8];
    assert_true(count <= 8);
    for (uint32_t i = 0; i < count; i++) {
        xs_record_t rec;
        xs_reason why;
        xs_field field;
        xs_record_init(&rec);
        const struct {
            xs_field f;
            const char *text;
        } fields[] = {
            {XS_F_TEACHER_ID, specs[i].teacher},
            {XS_F_SCHOOL_ID, specs[i].school},
            {XS_F_DATE, "2025-03-12"},
            {XS_F_CATEGORY, "lecture"},
            {XS_F_ROLE, "participant"},
            {XS_F_MINUTES, "90"},
            {XS_F_NOTE, note},
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
    assert_int_equal(
        xs_batch_seal(env, n->id, first_seq, prev, NULL, (int64_t)time(NULL), slices, count, hash),
        XS_OK);
    for (uint32_t i = 0; i < count; i++)
        xs_writer_free(&recs[i]);
}

/* Seals at n's next place in its chain. */
static void s_seal_next(const node_fx_t *n, const rec_spec_t *specs, uint32_t count,
                        const char *note, xs_writer_t *env, uint8_t hash[XS_HASH_BYTES]) {
    s_seal(n, n->next_seq, n->next_seq == 1 ? NULL : n->prev_hash, specs, count, note, env, hash);
}

/* The chain moved on: the batch of count records with this hash was accepted. */
static void s_advance(node_fx_t *n, uint32_t count, const uint8_t hash[XS_HASH_BYTES]) {
    n->next_seq += count;
    memcpy(n->prev_hash, hash, XS_HASH_BYTES);
}

#define s_assert_ack(ack, first_seq, count, status, error, rejected)                               \
    s_assert_ack_at(ack, first_seq, count, status, error, rejected, __LINE__)
static void s_assert_ack_at(const xs_msg_t *ack, uint64_t first_seq, uint32_t count,
                            unsigned status, unsigned error, uint32_t rejected, int line) {
    S_EQ(ack->u.ack.status, status, line);
    S_EQ(ack->u.ack.error, error, line);
    S_EQ(ack->u.ack.first_seq, first_seq, line);
    S_EQ(ack->u.ack.count, count, line);
    S_EQ(ack->u.ack.rejected_count, rejected, line);
}

/* Where the body starts inside an envelope [bin body, bin signature]. */
static size_t s_body_offset(const uint8_t *env) {
    assert_int_equal(env[0], 0x92);
    switch (env[1]) {
    case 0xc4:
        return 3;
    case 0xc5:
        return 4;
    case 0xc6:
        return 6;
    default:
        fail_msg("envelope body is not a bin");
    }
    return 0;
}

/* ---- what the hub holds, through its own commands ---- */

static const char *s_report(void) {
    const char *argv[] = {"xueshi-hub", "report", "--dir", g_fx->hub_dir, NULL};
    assert_int_equal(s_run(g_fx->out, S_OUT_MAX, argv), 0);
    return g_fx->out;
}

/* 1 when the report has a row of teacher. */
static int s_reported(const char *report, const char *teacher) {
    char needle[80];
    snprintf(needle, sizeof needle, ",%s,", teacher);
    return strstr(report, needle) != NULL;
}

typedef struct node_row {
    int revoked;
    unsigned long long have_through, held_max, gaps, forks;
} node_row_t;

/* Reads n's line of `xueshi-hub nodes`: the last four columns and the state. */
static void s_nodes(const node_fx_t *n, node_row_t *row) {
    const char *argv[] = {"xueshi-hub", "nodes", "--dir", g_fx->hub_dir, NULL};
    assert_int_equal(s_run(g_fx->out, S_OUT_MAX, argv), 0);
    char *line = strstr(g_fx->out, n->hex);
    assert_non_null(line);
    char *end = strchr(line, '\n');
    if (end)
        *end = '\0';
    row->revoked = strstr(line, "已吊销") != NULL;
    char *tok[32];
    size_t ntok = 0;
    for (char *p = line; ntok < 32;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        tok[ntok++] = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
    }
    assert_true(ntok >= 6);
    unsigned long long *cols[4] = {&row->have_through, &row->held_max, &row->gaps, &row->forks};
    for (size_t i = 0; i < 4; i++) {
        char *e;
        *cols[i] = strtoull(tok[ntok - 4 + i], &e, 10);
        assert_true(*e == '\0');
    }
}

/* n's line of `xueshi-hub nodes` shows exactly this (and no gaps). */
#define s_assert_nodes(n, have_through, held_max, forks)                                           \
    s_assert_nodes_at(n, have_through, held_max, forks, __LINE__)
static void s_assert_nodes_at(const node_fx_t *n, unsigned long long have_through,
                              unsigned long long held_max, unsigned long long forks, int line) {
    node_row_t row;
    s_nodes(n, &row);
    S_EQ(row.have_through, have_through, line);
    S_EQ(row.held_max, held_max, line);
    S_EQ(row.gaps, 0, line);
    S_EQ(row.forks, forks, line);
}

/* ---- the hub process ---- */

/* Starts `xueshi-hub run` on fx->endpoint (port) and waits until it serves. */
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
    /* Ready when it accepts TCP, then when an enrolled node gets HELLO → VIEW. */
    int64_t deadline = s_now_ms() + S_START_MS;
    while (!s_port_open(port)) {
        if (s_now_ms() > deadline || waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        usleep(20 * 1000);
    }
    node_fx_t *nodes[] = {&fx->a, &fx->b};
    for (size_t i = 0; i < 2; i++) {
        view_t v;
        if (s_client(&nodes[i]->client, nodes[i]->id) != XS_OK)
            return -1;
        xs_err err = s_hello(nodes[i]->client, &v);
        if (err != XS_OK) {
            /* A hub built from an older library answers frames this test cannot read. */
            fprintf(stderr, "hub not ready: %s (is %s/xueshi-hub stale? rebuild it)\n",
                    xs_strerror(err), getenv("XS_BIN") ? getenv("XS_BIN") : XS_BIN_DIR);
            return -1;
        }
    }
    return 0;
}

/* Prints the hub's log to stderr (on failure, and whatever a sanitizer said). */
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
        if (r < 0 && errno != EINTR) {
            fx->hub_pid = 0;
            return -1;
        }
        if (s_now_ms() > deadline) {
            kill(fx->hub_pid, SIGKILL);
            waitpid(fx->hub_pid, &status, 0);
            fx->hub_pid = 0;
            return -1;
        }
        usleep(20 * 1000);
    }
    fx->hub_pid = 0;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

/* ---- group setup ---- */

static int s_node_init(fixture_t *fx, node_fx_t *n, const char *name, const char *school) {
    char line[XS_PUBKEYS_TEXT_LEN + 64];
    xs_pubkeys_t pub;
    n->name = name;
    n->school = school;
    n->next_seq = 1;
    snprintf(n->dir, sizeof n->dir, "%s/node-%s", fx->dir, name);
    const char *init[] = {"xueshi-node", "init",       "--dir", n->dir,
                          "--school",    school,       "--hub", fx->endpoint,
                          "--hub-key",   fx->hub_keys, NULL};
    if (s_run(fx->out, S_OUT_MAX, init) != 0 || s_last_line(fx->out, line, sizeof line) != 0 ||
        xs_pubkeys_parse(line, strlen(line), &pub) != XS_OK)
        return -1;
    if (strlen(line) != XS_PUBKEYS_TEXT_LEN)
        return -1;
    memcpy(n->keys, line, XS_PUBKEYS_TEXT_LEN + 1);
    xs_hex_encode(pub.sign, 8, n->hex);
    const char *enroll[] = {"xueshi-hub", "enroll",   "--dir", fx->hub_dir, "--node",
                            n->keys,      "--school", school,  NULL};
    if (s_run(fx->out, S_OUT_MAX, enroll) != 0)
        return -1;
    if (xs_identity_load(&n->id, n->dir, "node") != XS_OK)
        return -1;
    return memcmp(xs_identity_public(n->id)->sign, pub.sign, 32) == 0 ? 0 : -1;
}

static int s_group_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char line[XS_PUBKEYS_TEXT_LEN + 64], policy[600];
    if (!fx)
        return -1;
    g_fx = fx;
    *state = fx;
    signal(SIGPIPE, SIG_IGN);
    if (xs_identity_setup() != XS_OK)
        return -1;
    fx->reply = malloc(XS_TRANSPORT_MAX_MSG);
    fx->out = malloc(S_OUT_MAX);
    if (!fx->reply || !fx->out)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_hostile") != 0)
        return -1;
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    snprintf(fx->hub_log, sizeof fx->hub_log, "%s/hub.log", fx->dir);
    const char *src = getenv("XS_SOURCE_DIR");
    snprintf(policy, sizeof policy, "%s/schema/policies/baiwanzi.ini",
             src && *src ? src : XS_SOURCE_DIR);
    const char *init[] = {"xueshi-hub", "init", "--dir", fx->hub_dir, "--policy", policy, NULL};
    if (s_run(fx->out, S_OUT_MAX, init) != 0 || s_last_line(fx->out, line, sizeof line) != 0 ||
        xs_pubkeys_parse(line, strlen(line), &fx->hub_pub) != XS_OK) {
        fprintf(stderr, "xueshi-hub init failed:\n%s\n", fx->out);
        return -1;
    }
    if (strlen(line) != XS_PUBKEYS_TEXT_LEN)
        return -1;
    memcpy(fx->hub_keys, line, XS_PUBKEYS_TEXT_LEN + 1);
    /* The port is known before the nodes' init names it. */
    int port = s_free_port();
    if (port < 0)
        return -1;
    snprintf(fx->endpoint, sizeof fx->endpoint, "tcp://127.0.0.1:%d", port);
    if (s_node_init(fx, &fx->a, "a", "S1") != 0 || s_node_init(fx, &fx->b, "b", "S2") != 0 ||
        s_node_init(fx, &fx->c, "c", "S3") != 0) {
        fprintf(stderr, "node init or enroll failed:\n%s\n", fx->out);
        return -1;
    }
    if (s_hub_start(fx, port) != 0) {
        s_dump_log(fx);
        return -1;
    }
    return 0;
}

static int s_group_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    node_fx_t *nodes[] = {&fx->a, &fx->b, &fx->c};
    for (size_t i = 0; i < 3; i++) {
        xs_client_close(&nodes[i]->client);
        xs_identity_destroy(&nodes[i]->id);
    }
    if (fx->hub_pid) {
        s_hub_stop(fx);
        s_dump_log(fx);
    }
    xs_scratch_remove(fx->dir);
    free(fx->reply);
    free(fx->out);
    free(fx);
    g_fx = NULL;
    return 0;
}

/* ---- the cases ---- */

/* A key nobody enrolled: ZAP refuses the handshake, no message ever reaches the hub. */
static void test_unenrolled_key(void **state) {
    fixture_t *fx = *state;
    xs_identity_t *stranger = NULL;
    xs_client_t *c = NULL;
    xs_msg_t msg;
    xs_writer_t w;
    assert_int_equal(xs_identity_create(&stranger, fx->dir, "stranger"), XS_OK);
    assert_int_equal(s_client(&c, stranger), XS_OK);
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_HELLO;
    assert_int_equal(s_encode(&msg, &w), XS_OK);
    assert_int_equal(xs_client_send(c, w.data, w.len), XS_OK);
    /* A batch it signed itself, queued behind: it must never be merged. */
    node_fx_t fake = {.id = stranger, .next_seq = 1};
    rec_spec_t spec = {"TSTRANGER", "S1"};
    xs_writer_t env, frame;
    uint8_t hash[32];
    s_seal_next(&fake, &spec, 1, "stranger", &env, hash);
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_BATCH;
    msg.u.batch.envelope = (xs_proto_blob_t){env.data, env.len};
    assert_int_equal(s_encode(&msg, &frame), XS_OK);
    /* Once the refusal has come back the client has nowhere to queue (XS_ETIMEOUT); before
     * it, the frame is queued and dropped with the connection. Either way nothing arrives. */
    xs_err sent = xs_client_send(c, frame.data, frame.len);
    assert_true(sent == XS_OK || sent == XS_ETIMEOUT);
    assert_int_equal(s_recv(c, S_PATIENCE_MS), XS_EREFUSED);
    /* And nothing after the refusal either. */
    assert_int_equal(s_recv(c, 300), XS_ETIMEOUT);
    xs_client_close(&c);
    xs_writer_free(&w);
    xs_writer_free(&env);
    xs_writer_free(&frame);
    xs_identity_destroy(&stranger);

    assert_false(s_reported(s_report(), "TSTRANGER"));
    const char *argv[] = {"xueshi-hub", "nodes", "--dir", fx->hub_dir, NULL};
    assert_int_equal(s_run(fx->out, S_OUT_MAX, argv), 0);
    /* The three enrolled nodes and the two header lines; nobody else. */
    size_t lines = 0;
    for (const char *p = fx->out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 5);
    s_assert_view(&fx->a, 0, 0, 0);
}

/* Frames that do not parse: ERROR malformed or version, nothing else, and the hub serves on. */
static void test_malformed_frames(void **state) {
    fixture_t *fx = *state;
    xs_msg_t msg;
    xs_writer_t hello;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_HELLO;
    assert_int_equal(s_encode(&msg, &hello), XS_OK);

    uint8_t random_bytes[200];
    srand(12345);
    for (size_t i = 0; i < sizeof random_bytes; i++)
        random_bytes[i] = (uint8_t)rand();
    random_bytes[0] = 0xc1; /* never valid msgpack, whatever follows */
    const uint8_t version2[] = {0x95, 0x02, 0x01, 0x00, 0x00, 0xc0}; /* HELLO, version 2 */
    const uint8_t huge_map[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    const uint8_t huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01};
    const uint8_t huge_bin[] = {0x93, 0x01, 0x03, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00};
    const uint8_t view_from_node[] = {0x99, 0x01, 0x02, 0x00, 0x00,
                                      0x90, 0x10, 0x00, 0xc0, 0x00}; /* a VIEW: not for the hub */
    const uint8_t unknown_type[] = {0x92, 0x01, 0x63};
    const uint8_t nested[] = {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
                              0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
                              0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01};
    const uint8_t empty[1] = {0};
    const struct {
        const char *what;
        const uint8_t *bytes;
        size_t len;
        unsigned code;
    } cases[] = {
        {"random bytes", random_bytes, sizeof random_bytes, XS_PCODE_MALFORMED},
        {"truncated HELLO", hello.data, hello.len - 1, XS_PCODE_MALFORMED},
        {"HELLO cut to its head", hello.data, 2, XS_PCODE_MALFORMED},
        {"version 2", version2, sizeof version2, XS_PCODE_VERSION},
        {"map32 header, 4 G entries", huge_map, sizeof huge_map, XS_PCODE_MALFORMED},
        {"array32 header, 4 G elements", huge_array, sizeof huge_array, XS_PCODE_MALFORMED},
        {"BATCH with a 4 GiB bin header", huge_bin, sizeof huge_bin, XS_PCODE_MALFORMED},
        {"a VIEW sent to the hub", view_from_node, sizeof view_from_node, XS_PCODE_MALFORMED},
        {"unknown type 99", unknown_type, sizeof unknown_type, XS_PCODE_MALFORMED},
        {"nested 29 deep", nested, sizeof nested, XS_PCODE_MALFORMED},
        {"empty frame", empty, 0, XS_PCODE_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xs_err err = s_request(fx->a.client, cases[i].bytes, cases[i].len, &msg);
        if (err != XS_OK)
            fail_msg("%s: %s", cases[i].what, xs_strerror(err));
        if (msg.type != XS_MSG_ERROR || msg.u.error.code != cases[i].code)
            fail_msg("%s: got type %d code %u, want ERROR %u", cases[i].what, (int)msg.type,
                     msg.type == XS_MSG_ERROR ? msg.u.error.code : 0, cases[i].code);
        /* The hub keeps serving the same connection. */
        s_assert_view(&fx->a, 0, 0, 0);
    }
    /* An envelope that is not a batch, inside a well-formed BATCH: ACK refused malformed. */
    const uint8_t junk[] = {0x92, 0xc4, 0x01, 0x00, 0xc4, 0x00};
    s_batch(fx->a.client, junk, sizeof junk, &msg);
    s_assert_ack(&msg, 0, 0, XS_ACK_REFUSED, XS_PCODE_MALFORMED, 0);
    /* Nothing stored, and another client is served as well. */
    s_assert_view(&fx->a, 0, 0, 0);
    s_assert_view(&fx->b, 0, 0, 0);
    xs_writer_free(&hello);
    s_assert_nodes(&fx->a, 0, 0, 0);
}

/* A frame over the cap: no reply to it, the connection dropped, the hub serves a new client. */
static void test_oversize_frame(void **state) {
    fixture_t *fx = *state;
    xs_client_t *c = NULL;
    size_t len = XS_TRANSPORT_MAX_MSG + 4096;
    uint8_t *frame = malloc(len);
    assert_non_null(frame);
    /* [1, BATCH, bin32 of the rest]: a well-formed head, far too big. */
    size_t bin = len - 8;
    const uint8_t head[] = {0x93,
                            0x01,
                            0x03,
                            0xc6,
                            (uint8_t)(bin >> 24),
                            (uint8_t)(bin >> 16),
                            (uint8_t)(bin >> 8),
                            (uint8_t)bin};
    memcpy(frame, head, sizeof head);
    memset(frame + sizeof head, 0x5a, bin);
    assert_int_equal(s_client(&c, fx->a.id), XS_OK);
    assert_int_equal(xs_client_send(c, frame, len), XS_ETOOBIG); /* refused locally first */
    xs_client_test_allow_oversize(c);
    assert_int_equal(xs_client_send(c, frame, len), XS_OK);
    assert_int_equal(s_recv(c, S_SILENCE_MS), XS_ETIMEOUT);
    xs_client_close(&c);
    free(frame);
    /* A new client, and the old ones, are served; nothing was stored. */
    assert_int_equal(s_client(&c, fx->b.id), XS_OK);
    view_t v;
    assert_int_equal(s_hello(c, &v), XS_OK);
    assert_int_equal(v.held_max, 0);
    xs_client_close(&c);
    s_assert_view(&fx->a, 0, 0, 0);
    s_assert_nodes(&fx->a, 0, 0, 0);
}

/* A batch sealed by A with one byte of its signature flipped: refused, bad_signature. */
static void test_forged_signature(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    uint8_t hash[32];
    xs_msg_t ack;
    rec_spec_t spec = {"TFORGED", "S1"};
    s_seal_next(&fx->a, &spec, 1, "forged", &env, hash);
    const size_t where[] = {env.len - 64, env.len - 33, env.len - 1}; /* R, S, S's last byte */
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        env.data[where[i]] ^= 0x01;
        s_batch(fx->a.client, env.data, env.len, &ack);
        s_assert_ack(&ack, 0, 0, XS_ACK_REFUSED, XS_PCODE_BAD_SIGNATURE, 0);
        env.data[where[i]] ^= 0x01;
    }
    xs_writer_free(&env);
    s_assert_view(&fx->a, 0, 0, 0);
    s_assert_nodes(&fx->a, 0, 0, 0);
    assert_false(s_reported(s_report(), "TFORGED"));
}

/* A body byte flipped (in a record, in the header, in the origin): refused. */
static void test_body_flipped(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    uint8_t hash[32];
    xs_msg_t ack;
    rec_spec_t spec = {"TFLIPPED", "S1"};
    s_seal_next(&fx->a, &spec, 1, "flipped", &env, hash);
    size_t body = s_body_offset(env.data);
    size_t body_end = env.len - 66; /* before the signature's bin header */
    const size_t where[] = {
        body + 1,     /* format */
        body + 4,     /* origin: verified against another key */
        body + 36,    /* first_seq */
        body + 40,    /* into the header's tail */
        body_end - 3, /* the record's note */
        (body + body_end) / 2,
        1, /* the envelope's own bin header */
    };
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        env.data[where[i]] ^= 0x20;
        s_batch(fx->a.client, env.data, env.len, &ack);
        if (ack.u.ack.status != XS_ACK_REFUSED ||
            (ack.u.ack.error != XS_PCODE_BAD_SIGNATURE && ack.u.ack.error != XS_PCODE_MALFORMED &&
             ack.u.ack.error != XS_PCODE_VERSION))
            fail_msg("byte %zu flipped: status %u error %u", where[i], ack.u.ack.status,
                     ack.u.ack.error);
        assert_int_equal(ack.u.ack.rejected_count, 0);
        env.data[where[i]] ^= 0x20;
    }
    /* Trailing garbage after a valid envelope is refused too. */
    uint8_t *longer = malloc(env.len + 1);
    assert_non_null(longer);
    memcpy(longer, env.data, env.len);
    longer[env.len] = 0xc0;
    s_batch(fx->a.client, longer, env.len + 1, &ack);
    assert_int_equal(ack.u.ack.status, XS_ACK_REFUSED);
    assert_int_equal(ack.u.ack.error, XS_PCODE_MALFORMED);
    free(longer);
    xs_writer_free(&env);
    s_assert_view(&fx->a, 0, 0, 0);
    s_assert_nodes(&fx->a, 0, 0, 0);
    assert_false(s_reported(s_report(), "TFLIPPED"));
}

/* A sends [1..3], then a different validly signed [1..3]: the second is a fork, quarantined,
 * and merges nothing. */
static void test_fork(void **state) {
    fixture_t *fx = *state;
    xs_writer_t first, second;
    uint8_t h1[32], h2[32];
    xs_msg_t ack;
    const rec_spec_t one[] = {{"TFORKA1", "S1"}, {"TFORKA2", "S1"}, {"TFORKA3", "S1"}};
    const rec_spec_t two[] = {{"TFORKB1", "S1"}, {"TFORKB2", "S1"}, {"TFORKB3", "S1"}};
    assert_int_equal(fx->a.next_seq, 1);
    s_seal(&fx->a, 1, NULL, one, 3, "first", &first, h1);
    s_seal(&fx->a, 1, NULL, two, 3, "restored from an old backup", &second, h2);
    assert_memory_not_equal(h1, h2, 32);
    s_batch(fx->a.client, first.data, first.len, &ack);
    s_assert_ack(&ack, 1, 3, XS_ACK_ACCEPTED, XS_PCODE_NONE, 0);
    s_advance(&fx->a, 3, h1);
    s_batch(fx->a.client, second.data, second.len, &ack);
    s_assert_ack(&ack, 1, 3, XS_ACK_FORK, XS_PCODE_NONE, 0);
    s_assert_view(&fx->a, 3, 3, 1);
    s_assert_nodes(&fx->a, 3, 3, 1);
    const char *report = s_report();
    assert_true(s_reported(report, "TFORKA1"));
    assert_true(s_reported(report, "TFORKA2"));
    assert_true(s_reported(report, "TFORKA3"));
    assert_false(s_reported(report, "TFORKB1"));
    assert_false(s_reported(report, "TFORKB2"));
    assert_false(s_reported(report, "TFORKB3"));
    /* The fork again: the same answer, still one quarantined batch. */
    s_batch(fx->a.client, second.data, second.len, &ack);
    s_assert_ack(&ack, 1, 3, XS_ACK_FORK, XS_PCODE_NONE, 0);
    s_assert_nodes(&fx->a, 3, 3, 1);
    /* A batch [2..2] that overlaps the held [1..3] is a fork too (a broken chain). */
    xs_writer_t overlap;
    uint8_t h3[32];
    s_seal(&fx->a, 2, h1, two, 1, "overlap", &overlap, h3);
    s_batch(fx->a.client, overlap.data, overlap.len, &ack);
    s_assert_ack(&ack, 2, 1, XS_ACK_FORK, XS_PCODE_NONE, 0);
    s_assert_nodes(&fx->a, 3, 3, 2);
    s_assert_view(&fx->a, 3, 3, 2);
    s_a_fork_seq = 2;
    assert_false(s_reported(s_report(), "TFORKB1"));
    xs_writer_free(&overlap);
    xs_writer_free(&first);
    xs_writer_free(&second);
}

/* B sends A's validly signed batch: refused wrong_origin, nothing stored; then A sends it. */
static void test_replay_from_other_node(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    uint8_t hash[32];
    xs_msg_t ack;
    uint64_t seq = fx->a.next_seq, held = seq - 1;
    const rec_spec_t specs[] = {{"TREPLAY1", "S1"}, {"TREPLAY2", "S1"}};
    s_seal_next(&fx->a, specs, 2, "replay", &env, hash);
    s_batch(fx->b.client, env.data, env.len, &ack);
    s_assert_ack(&ack, seq, 2, XS_ACK_REFUSED, XS_PCODE_WRONG_ORIGIN, 0);
    s_assert_view(&fx->a, held, held, s_a_fork_seq);
    s_assert_view(&fx->b, 0, 0, 0);
    s_assert_nodes(&fx->b, 0, 0, 0);
    node_row_t row;
    s_nodes(&fx->a, &row);
    assert_int_equal(row.held_max, held);
    assert_false(s_reported(s_report(), "TREPLAY1"));
    /* Again: still refused (a refusal is not stored as the batch's reply). */
    s_batch(fx->b.client, env.data, env.len, &ack);
    s_assert_ack(&ack, seq, 2, XS_ACK_REFUSED, XS_PCODE_WRONG_ORIGIN, 0);
    /* Its own origin sends it: accepted. */
    s_batch(fx->a.client, env.data, env.len, &ack);
    s_assert_ack(&ack, seq, 2, XS_ACK_ACCEPTED, XS_PCODE_NONE, 0);
    s_advance(&fx->a, 2, hash);
    /* A's key has continued the hub's chain over its quarantined batches: the fork is
     * resolved, and the VIEW no longer names it (protocol.md §9). */
    s_a_fork_seq = 0;
    s_assert_view(&fx->a, held + 2, held + 2, s_a_fork_seq);
    /* B replaying it now that the hub holds it: still wrong_origin, not A's stored ACK. */
    s_batch(fx->b.client, env.data, env.len, &ack);
    s_assert_ack(&ack, seq, 2, XS_ACK_REFUSED, XS_PCODE_WRONG_ORIGIN, 0);
    const char *report = s_report();
    assert_true(s_reported(report, "TREPLAY1"));
    assert_true(s_reported(report, "TREPLAY2"));
    s_assert_nodes(&fx->b, 0, 0, 0);
    xs_writer_free(&env);
}

/* STAFF_GET (protocol.md §10) from client c: have (NULL: nil), for origin (NULL: itself). */
static void s_staff_get(xs_client_t *c, const uint8_t *have, const uint8_t *origin, xs_msg_t *out) {
    xs_msg_t req;
    xs_writer_t w;
    memset(&req, 0, sizeof req);
    req.type = XS_MSG_STAFF_GET;
    if (have) {
        req.u.staff_get.has_have = 1;
        memcpy(req.u.staff_get.have, have, 32);
    }
    if (origin) {
        req.u.staff_get.has_origin = 1;
        memcpy(req.u.staff_get.origin, origin, 32);
    }
    assert_int_equal(s_encode(&req, &w), XS_OK);
    assert_int_equal(s_request(c, w.data, w.len, out), XS_OK);
    xs_writer_free(&w);
}

/* The roster's parts: nil before the county imports a roster; then each node its own school's
 * teachers, signed for it, and nil once it names the part it holds; a node asking for
 * another's part is refused wrong_origin. */
static void test_staff(void **state) {
    fixture_t *fx = *state;
    const uint8_t *a = xs_identity_public(fx->a.id)->sign;
    xs_msg_t msg;
    s_staff_get(fx->a.client, NULL, NULL, &msg);
    assert_int_equal(msg.type, XS_MSG_STAFF);
    assert_null(msg.u.staff.part.ptr);

    char path[500];
    snprintf(path, sizeof path, "%s/roster.csv", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("teacher_id,name,school_id\nTA1,甲一,S1\nTA2,甲二,S1\nTB1,乙一,S2\n", f);
    assert_int_equal(fclose(f), 0);
    const char *import[] = {"xueshi-hub", "roster", "--dir", fx->hub_dir, "import", path, NULL};
    assert_int_equal(s_run(fx->out, S_OUT_MAX, import), 0);

    s_staff_get(fx->a.client, NULL, NULL, &msg);
    assert_int_equal(msg.type, XS_MSG_STAFF);
    assert_non_null(msg.u.staff.part.ptr);
    xs_staff_t part;
    assert_int_equal(
        xs_staff_part_open(msg.u.staff.part.ptr, msg.u.staff.part.len, fx->hub_pub.sign, a, &part),
        XS_OK);
    assert_int_equal(part.version, 1);
    assert_int_equal(part.count, 2);
    assert_string_equal(part.entries[0].teacher_id, "TA1");
    assert_string_equal(part.entries[1].name, "甲二");
    xs_staff_free(&part);
    /* Signed for A only: B cannot pass it off as its own. */
    assert_int_equal(xs_staff_part_open(msg.u.staff.part.ptr, msg.u.staff.part.len,
                                        fx->hub_pub.sign, xs_identity_public(fx->b.id)->sign,
                                        &part),
                     XS_EPERM);
    const uint8_t *body, *sig;
    size_t body_len;
    uint8_t have[32];
    assert_int_equal(xs_codec_split_envelope(msg.u.staff.part.ptr, msg.u.staff.part.len, &body,
                                             &body_len, &sig, XS_SIGNATURE_BYTES),
                     XS_OK);
    xs_identity_hash(body, body_len, have);
    s_staff_get(fx->a.client, have, NULL, &msg);
    assert_int_equal(msg.type, XS_MSG_STAFF);
    assert_null(msg.u.staff.part.ptr); /* current: nothing to send */
    have[0] ^= 1;
    s_staff_get(fx->a.client, have, NULL, &msg);
    assert_non_null(msg.u.staff.part.ptr); /* another part held: the current one comes */

    /* B asks for A's part: B does not relay for A. */
    s_staff_get(fx->b.client, NULL, a, &msg);
    assert_int_equal(msg.type, XS_MSG_ERROR);
    assert_int_equal(msg.u.error.code, XS_PCODE_WRONG_ORIGIN);
    s_staff_get(fx->b.client, NULL, NULL, &msg);
    assert_int_equal(msg.type, XS_MSG_STAFF);
    assert_int_equal(xs_staff_part_open(msg.u.staff.part.ptr, msg.u.staff.part.len,
                                        fx->hub_pub.sign, xs_identity_public(fx->b.id)->sign,
                                        &part),
                     XS_OK);
    assert_int_equal(part.count, 1);
    assert_string_equal(part.entries[0].teacher_id, "TB1");
    xs_staff_free(&part);
}

/* A record for school S9, outside A's scope: the batch is accepted, the record rejected
 * out_of_scope and never certified. */
static void test_out_of_scope(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    uint8_t hash[32];
    xs_msg_t ack;
    uint64_t seq = fx->a.next_seq;
    /* B's school is as foreign to A as S9. */
    const rec_spec_t specs[] = {{"TSCOPEIN", "S1"}, {"TSCOPEOUT", "S9"}, {"TSCOPEB", "S2"}};
    s_seal_next(&fx->a, specs, 3, "scope", &env, hash);
    s_batch(fx->a.client, env.data, env.len, &ack);
    s_assert_ack(&ack, seq, 3, XS_ACK_ACCEPTED, XS_PCODE_NONE, 2);
    xs_proto_iter_t it;
    xs_proto_rejected_t rej;
    const uint32_t want[] = {1, 2};
    xs_proto_iter_init(&it, &ack.u.ack.rejected_list);
    for (size_t i = 0; i < 2; i++) {
        assert_true(xs_proto_next_rejected(&it, &rej));
        assert_int_equal(rej.index, want[i]);
        assert_int_equal(rej.reason, XS_REASON_OUT_OF_SCOPE);
        assert_int_equal(rej.code.len, strlen("out_of_scope"));
        assert_memory_equal(rej.code.ptr, "out_of_scope", rej.code.len);
    }
    assert_false(xs_proto_next_rejected(&it, &rej));
    s_advance(&fx->a, 3, hash);
    s_assert_view(&fx->a, seq + 2, seq + 2, s_a_fork_seq);
    const char *report = s_report();
    assert_true(s_reported(report, "TSCOPEIN"));
    assert_false(s_reported(report, "TSCOPEOUT"));
    assert_false(s_reported(report, "TSCOPEB"));
    assert_false(strstr(report, "S9") != NULL);
    xs_writer_free(&env);
}

/* The same batch twice: byte-identical ACKs (the stored reply), stored once. */
static void test_repeated_batch(void **state) {
    fixture_t *fx = *state;
    xs_writer_t env;
    uint8_t hash[32], *first_reply;
    size_t first_len;
    xs_msg_t ack;
    uint64_t seq = fx->a.next_seq;
    const rec_spec_t specs[] = {{"TREPEAT", "S1"}, {"TREPEATX", "S9"}};
    s_seal_next(&fx->a, specs, 2, "repeat", &env, hash);
    s_batch(fx->a.client, env.data, env.len, &ack);
    s_assert_ack(&ack, seq, 2, XS_ACK_ACCEPTED, XS_PCODE_NONE, 1);
    first_len = fx->reply_len;
    first_reply = malloc(first_len);
    assert_non_null(first_reply);
    memcpy(first_reply, fx->reply, first_len);
    s_advance(&fx->a, 2, hash);
    s_assert_view(&fx->a, seq + 1, seq + 1, s_a_fork_seq);
    const char *report = s_report();
    assert_true(s_reported(report, "TREPEAT"));
    char *before = strdup(report);
    assert_non_null(before);
    /* Again, alone. */
    s_batch(fx->a.client, env.data, env.len, &ack);
    assert_int_equal(fx->reply_len, first_len);
    assert_memory_equal(fx->reply, first_reply, first_len);
    s_assert_view(&fx->a, seq + 1, seq + 1, s_a_fork_seq);
    s_assert_nodes(&fx->a, seq + 1, seq + 1, 2);
    assert_string_equal(s_report(), before);
    /* From a second connection of the same node (a retry after a reconnect): same bytes. */
    xs_client_t *c = NULL;
    assert_int_equal(s_client(&c, fx->a.id), XS_OK);
    s_batch(c, env.data, env.len, &ack);
    assert_int_equal(fx->reply_len, first_len);
    assert_memory_equal(fx->reply, first_reply, first_len);
    xs_client_close(&c);
    assert_string_equal(s_report(), before);
    /* Again, pipelined with a new batch behind it (one group commit): the repeat still gets
     * the stored bytes, the new one is accepted. */
    xs_writer_t env2, frame1, frame2;
    uint8_t hash2[32];
    const rec_spec_t next = {"TREPEATNEXT", "S1"};
    s_seal_next(&fx->a, &next, 1, "after the repeat", &env2, hash2);
    memset(&ack, 0, sizeof ack);
    ack.type = XS_MSG_BATCH;
    ack.u.batch.envelope = (xs_proto_blob_t){env.data, env.len};
    assert_int_equal(s_encode(&ack, &frame1), XS_OK);
    ack.u.batch.envelope = (xs_proto_blob_t){env2.data, env2.len};
    assert_int_equal(s_encode(&ack, &frame2), XS_OK);
    assert_int_equal(xs_client_send(fx->a.client, frame1.data, frame1.len), XS_OK);
    assert_int_equal(xs_client_send(fx->a.client, frame2.data, frame2.len), XS_OK);
    assert_int_equal(s_recv(fx->a.client, S_PATIENCE_MS), XS_OK);
    assert_int_equal(fx->reply_len, first_len);
    assert_memory_equal(fx->reply, first_reply, first_len);
    assert_int_equal(s_recv(fx->a.client, S_PATIENCE_MS), XS_OK);
    assert_int_equal(xs_proto_decode(fx->reply, fx->reply_len, &ack), XS_OK);
    assert_int_equal(ack.type, XS_MSG_ACK);
    s_assert_ack(&ack, seq + 2, 1, XS_ACK_ACCEPTED, XS_PCODE_NONE, 0);
    s_advance(&fx->a, 1, hash2);
    s_assert_view(&fx->a, seq + 2, seq + 2, s_a_fork_seq);
    report = s_report();
    assert_true(s_reported(report, "TREPEATNEXT"));
    assert_false(s_reported(report, "TREPEATX"));
    xs_writer_free(&frame1);
    xs_writer_free(&frame2);
    xs_writer_free(&env2);
    free(before);
    free(first_reply);
    xs_writer_free(&env);
}

/* C is enrolled and connected; revoked while the hub runs: its open connection's batches are
 * refused revoked, and a new connection is refused at the handshake. */
static void test_revoked_key(void **state) {
    fixture_t *fx = *state;
    node_fx_t *c = &fx->c;
    xs_writer_t env;
    uint8_t hash[32];
    xs_msg_t ack;
    view_t v;
    assert_int_equal(s_client(&c->client, c->id), XS_OK);
    assert_int_equal(s_hello(c->client, &v), XS_OK);
    assert_int_equal(v.held_max, 0);
    const char *revoke[] = {"xueshi-hub", "revoke", "--dir", fx->hub_dir, "--node", c->keys, NULL};
    assert_int_equal(s_run(fx->out, S_OUT_MAX, revoke), 0);
    node_row_t row;
    s_nodes(c, &row);
    assert_true(row.revoked);
    /* The connection admitted before the revocation: its batch is refused. */
    const rec_spec_t spec = {"TREVOKED", "S3"};
    s_seal_next(c, &spec, 1, "revoked", &env, hash);
    s_batch(c->client, env.data, env.len, &ack);
    s_assert_ack(&ack, 1, 1, XS_ACK_REFUSED, XS_PCODE_REVOKED, 0);
    /* ... and its HELLO and FETCH get ERROR revoked, not its view or receipts. */
    xs_msg_t req;
    xs_writer_t w;
    memset(&req, 0, sizeof req);
    req.type = XS_MSG_HELLO;
    assert_int_equal(s_encode(&req, &w), XS_OK);
    assert_int_equal(s_request(c->client, w.data, w.len, &ack), XS_OK);
    assert_int_equal(ack.type, XS_MSG_ERROR);
    assert_int_equal(ack.u.error.code, XS_PCODE_REVOKED);
    xs_writer_free(&w);
    memset(&req, 0, sizeof req);
    req.type = XS_MSG_FETCH;
    assert_int_equal(s_encode(&req, &w), XS_OK);
    assert_int_equal(s_request(c->client, w.data, w.len, &ack), XS_OK);
    assert_int_equal(ack.type, XS_MSG_ERROR);
    assert_int_equal(ack.u.error.code, XS_PCODE_REVOKED);
    xs_writer_free(&w);
    s_staff_get(c->client, NULL, NULL, &ack); /* nor its roster part */
    assert_int_equal(ack.type, XS_MSG_ERROR);
    assert_int_equal(ack.u.error.code, XS_PCODE_REVOKED);
    xs_client_close(&c->client);
    /* A new connection never gets a reply. */
    xs_client_t *again = NULL;
    xs_msg_t msg;
    xs_writer_t hello, frame;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_HELLO;
    assert_int_equal(s_encode(&msg, &hello), XS_OK);
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_BATCH;
    msg.u.batch.envelope = (xs_proto_blob_t){env.data, env.len};
    assert_int_equal(s_encode(&msg, &frame), XS_OK);
    assert_int_equal(s_client(&again, c->id), XS_OK);
    assert_int_equal(xs_client_send(again, hello.data, hello.len), XS_OK);
    xs_err sent = xs_client_send(again, frame.data, frame.len); /* see test_unenrolled_key */
    assert_true(sent == XS_OK || sent == XS_ETIMEOUT);
    assert_int_equal(s_recv(again, S_PATIENCE_MS), XS_EREFUSED);
    xs_client_close(&again);
    xs_writer_free(&hello);
    xs_writer_free(&frame);
    xs_writer_free(&env);
    s_nodes(c, &row);
    assert_true(row.revoked);
    assert_int_equal(row.held_max, 0);
    assert_int_equal(row.forks, 0);
    assert_false(s_reported(s_report(), "TREVOKED"));
    /* The others are unaffected. */
    s_assert_view(&fx->b, 0, 0, 0);
}

/* B jumps to the top of the sequence range: [2^64 - 2, 2^64 - 1] is held and seen as such (no
 * wrap of "one past the last seq"), and a different batch for 2^64 - 1 is a fork, not a
 * silent overwrite of the record index. */
static void test_top_of_seq_range(void **state) {
    fixture_t *fx = *state;
    xs_writer_t top, other;
    uint8_t prev[32], h1[32], h2[32];
    xs_msg_t ack;
    view_t v;
    memset(prev, 0x11, sizeof prev); /* the link to a batch the hub never saw */
    const rec_spec_t specs[] = {{"TTOP1", "S2"}, {"TTOP2", "S2"}};
    const rec_spec_t fork_spec = {"TTOPFORK", "S2"};
    s_seal(&fx->b, UINT64_MAX - 1, prev, specs, 2, "top", &top, h1);
    s_batch(fx->b.client, top.data, top.len, &ack);
    s_assert_ack(&ack, UINT64_MAX - 1, 2, XS_ACK_ACCEPTED, XS_PCODE_NONE, 0);
    assert_int_equal(s_hello(fx->b.client, &v), XS_OK);
    assert_int_equal(v.have_through, 0);
    assert_true(v.held_max == UINT64_MAX);
    assert_int_equal(v.gap_count, 1);
    s_seal(&fx->b, UINT64_MAX, h1, &fork_spec, 1, "over the top", &other, h2);
    s_batch(fx->b.client, other.data, other.len, &ack);
    s_assert_ack(&ack, UINT64_MAX, 1, XS_ACK_FORK, XS_PCODE_NONE, 0);
    node_row_t row;
    s_nodes(&fx->b, &row);
    assert_int_equal(row.have_through, 0);
    assert_true(row.held_max == UINT64_MAX);
    assert_int_equal(row.gaps, 1);
    assert_int_equal(row.forks, 1);
    const char *report = s_report();
    assert_true(s_reported(report, "TTOP1"));
    assert_true(s_reported(report, "TTOP2"));
    assert_false(s_reported(report, "TTOPFORK"));
    xs_writer_free(&top);
    xs_writer_free(&other);
}

/* Last: SIGTERM ends the hub cleanly (exit 0), and no sanitizer spoke in its log. */
static void test_clean_shutdown(void **state) {
    fixture_t *fx = *state;
    view_t v;
    assert_int_equal(s_hello(fx->a.client, &v), XS_OK);
    xs_client_close(&fx->a.client);
    xs_client_close(&fx->b.client);
    int status = s_hub_stop(fx);
    if (status != 0 || s_log_has_sanitizer(fx))
        s_dump_log(fx);
    assert_int_equal(status, 0);
    assert_false(s_log_has_sanitizer(fx));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unenrolled_key),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_oversize_frame),
        cmocka_unit_test(test_forged_signature),
        cmocka_unit_test(test_body_flipped),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_replay_from_other_node),
        cmocka_unit_test(test_out_of_scope),
        cmocka_unit_test(test_repeated_batch),
        cmocka_unit_test(test_staff),
        cmocka_unit_test(test_revoked_key),
        cmocka_unit_test(test_top_of_seq_range),
        cmocka_unit_test(test_clean_shutdown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
