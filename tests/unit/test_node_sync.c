/* test_node_sync: the real `xueshi-node sync` and `run` against a fake hub served by this
 * process (an xs_server admitting the node's key, or a bare TCP listener): the exit status and
 * retries for every ERROR code (protocol.md §5.1), a peer that breaks the handshake off, a
 * wrong hub key (§6), and receipts that come as a group under a signed root (§5.3): kept one
 * per teacher when the group verifies, the newest generation winning, none when it does not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scratch.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/proto.h"
#include "xs/receipt.h"
#include "xs/transport.h"

/* How long a child may run before the test gives up on it, in milliseconds. */
#define S_PATIENCE_MS 20000
/* The --timeout given to sync and run, in seconds: bounds the cases that wait for a peer. */
#define S_SYNC_TIMEOUT "3"
/* Bytes kept of a child's output. */
#define S_OUT_MAX (64 * 1024)
/* HELLOs a fake hub answers with a scripted ERROR before it answers with VIEW. */
#define S_SCRIPT_MAX 4

typedef struct fixture {
    char dir[256];                          /* scratch directory */
    char node_dir[400];                     /* a node that holds the fake hub's keys */
    char wrong_dir[400];                    /* a node that holds a stranger's keys as the hub's */
    char log[400];                          /* the last child's stdout and stderr */
    char hub_keys[XS_PUBKEYS_TEXT_LEN + 1]; /* the fake hub's public keys, text form */
    char stranger_keys[XS_PUBKEYS_TEXT_LEN + 1];
    xs_identity_t *hub;      /* the fake hub's keys */
    xs_identity_t *stranger; /* keys nobody serves with */
    xs_pubkeys_t node_pub;   /* the node's public keys, admitted by the fake hub */
    xs_server_t *server;     /* the fake hub */
    char endpoint[256];      /* where it listens */
    char out[S_OUT_MAX];     /* the last child's output */
} fixture_t;

/* Teachers on a page of receipts the fake hub sends. */
#define S_PAGE_TEACHERS 3

/* A page of receipts the fake hub sends as RECEIPTS' group (protocol.md §5.3). */
typedef struct page {
    const xs_identity_t *signer; /* signs the root: the hub, or a stranger */
    uint64_t generation;         /* of the root, and RECEIPTS' generation */
    uint64_t credited;           /* seconds credited to each teacher in its year total */
    int tamper;                  /* 1: a leaf changes after the root is signed */
} page_t;

/* What the fake hub answers: ERROR codes[i] to the i-th HELLO, then VIEW (nothing held, no
 * receipts unless page is set: a node with nothing to send is done after it); STAFF nil to
 * every STAFF_GET; to FETCH, the page. */
typedef struct script {
    unsigned codes[S_SCRIPT_MAX]; /* 0 ends the list */
    int hellos;                   /* out: HELLOs received */
    unsigned batch_code;          /* refuse every BATCH, unread (first_seq 0), with this code */
    int batches;                  /* out: BATCHes received */
    const page_t *page;           /* VIEW names its generation, and FETCH gets it; NULL: none */
    int fetches;                  /* out: FETCHes received */
} script_t;

static int64_t s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int s_admit(void *ctx, const uint8_t client_box_pk[32], uint8_t origin[32]) {
    const fixture_t *fx = ctx;
    if (memcmp(client_box_pk, fx->node_pub.box, 32) != 0)
        return 0;
    memcpy(origin, fx->node_pub.sign, 32);
    return 1;
}

/* Starts bin/<program> with argv, its stdout and stderr to fx->log. Returns its pid. */
static pid_t s_spawn(fixture_t *fx, const char *const *argv) {
    char path[600];
    const char *bin = getenv("XS_BIN");
    snprintf(path, sizeof path, "%s/%s", bin && *bin ? bin : XS_BIN_DIR, argv[0]);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(fx->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(path, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Reads fx->log into fx->out. */
static void s_read_log(fixture_t *fx) {
    fx->out[0] = '\0';
    FILE *f = fopen(fx->log, "r");
    if (!f)
        return;
    size_t n = fread(fx->out, 1, sizeof fx->out - 1, f);
    fx->out[n] = '\0';
    fclose(f);
}

/* The exit status of a finished child, or -1 while it runs (-2 when it died of a signal). */
static int s_reap(pid_t pid) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

/* Encodes the RECEIPTS reply of p into w: teachers T1..T<S_PAGE_TEACHERS>, each one period and
 * one year total, under one root p->signer signs. */
static void s_encode_page(const page_t *p, xs_writer_t *w) {
    static const char *const teachers[S_PAGE_TEACHERS] = {"T1", "T2", "T3"};
    xs_writer_t leaf[S_PAGE_TEACHERS], root;
    xs_proto_blob_t leaves[S_PAGE_TEACHERS];
    uint8_t hashes[S_PAGE_TEACHERS][XS_HASH_BYTES], tree[XS_HASH_BYTES];
    xs_receipt_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->policy_id = (xs_str_t){"p", 1};
    r->policy_version = 1;
    r->generation = p->generation;
    r->issued_at = 1760000000;
    r->period_count = 1;
    r->periods[0] = (xs_receipt_period_t){.scope = XS_SCOPE_YEAR, .year = 2025, .record_count = 1};
    r->total_count = 1;
    r->totals[0] = (xs_receipt_total_t){.credited_seconds = p->credited,
                                        .year = 2025,
                                        .scope = XS_SCOPE_YEAR,
                                        .met = XS_MET_NONE,
                                        .single_met = XS_MET_NONE};
    for (int i = 0; i < S_PAGE_TEACHERS; i++) {
        r->teacher_id = (xs_str_t){teachers[i], (uint32_t)strlen(teachers[i])};
        xs_writer_init(&leaf[i], XS_RECEIPT_LEAF_MAX);
        assert_int_equal(xs_receipt_leaf_encode(&leaf[i], r), XS_OK);
        xs_receipt_leaf_hash(leaf[i].data, leaf[i].len, hashes[i]);
        leaves[i] = (xs_proto_blob_t){leaf[i].data, leaf[i].len};
    }
    assert_int_equal(
        xs_receipt_tree_root((const uint8_t(*)[XS_HASH_BYTES])hashes, S_PAGE_TEACHERS, tree),
        XS_OK);
    xs_writer_init(&root, XS_RECEIPT_MAX_BYTES);
    assert_int_equal(xs_receipt_root_sign(&root, p->signer, r, S_PAGE_TEACHERS, tree), XS_OK);
    if (p->tamper)
        leaf[1].data[leaf[1].len - 1] ^= 1; /* T2's last total, after the signature */
    xs_msg_t msg;
    memset(&msg, 0, sizeof msg);
    msg.type = XS_MSG_RECEIPTS;
    msg.u.receipts.generation = p->generation;
    msg.u.receipts.root = (xs_proto_blob_t){root.data, root.len};
    msg.u.receipts.leaves = leaves;
    msg.u.receipts.leaf_count = S_PAGE_TEACHERS;
    assert_int_equal(xs_proto_encode(&msg, w), XS_OK);
    for (int i = 0; i < S_PAGE_TEACHERS; i++)
        xs_writer_free(&leaf[i]);
    xs_writer_free(&root);
    free(r);
}

/* Answers one message the fake hub received, as the script says. */
static void s_answer(fixture_t *fx, script_t *script, const xs_peer_t *peer, const uint8_t *frame,
                     size_t len) {
    xs_msg_t msg;
    xs_writer_t w;
    assert_int_equal(xs_proto_decode(frame, len, &msg), XS_OK);
    if (msg.type == XS_MSG_BATCH && script->batch_code) {
        script->batches++;
        memset(&msg, 0, sizeof msg);
        msg.type = XS_MSG_ACK;
        msg.u.ack.status = XS_ACK_REFUSED;
        msg.u.ack.error = (uint8_t)script->batch_code;
        xs_writer_init(&w, XS_PROTO_FRAME_MAX);
        assert_int_equal(xs_proto_encode(&msg, &w), XS_OK);
        assert_int_equal(xs_server_send(fx->server, peer, w.data, w.len), XS_OK);
        xs_writer_free(&w);
        return;
    }
    if (msg.type == XS_MSG_STAFF_GET) { /* no teacher roster at this hub (protocol.md §10) */
        memset(&msg, 0, sizeof msg);
        msg.type = XS_MSG_STAFF;
        xs_writer_init(&w, XS_PROTO_FRAME_MAX);
        assert_int_equal(xs_proto_encode(&msg, &w), XS_OK);
        assert_int_equal(xs_server_send(fx->server, peer, w.data, w.len), XS_OK);
        xs_writer_free(&w);
        return;
    }
    if (msg.type == XS_MSG_FETCH && script->page) {
        script->fetches++;
        xs_writer_init(&w, XS_PROTO_FRAME_MAX);
        s_encode_page(script->page, &w);
        assert_int_equal(xs_server_send(fx->server, peer, w.data, w.len), XS_OK);
        xs_writer_free(&w);
        return;
    }
    assert_int_equal(msg.type, XS_MSG_HELLO); /* nothing to send, no receipts: nothing else */
    int n = script->hellos++;
    unsigned code = n < S_SCRIPT_MAX ? script->codes[n] : 0;
    memset(&msg, 0, sizeof msg);
    if (code) {
        xs_proto_error(&msg, (xs_proto_code)code);
    } else {
        msg.type = XS_MSG_VIEW;
        msg.u.view.window = 8;
        msg.u.view.receipts_gen = script->page ? script->page->generation : 0;
    }
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&msg, &w), XS_OK);
    assert_int_equal(xs_server_send(fx->server, peer, w.data, w.len), XS_OK);
    xs_writer_free(&w);
}

/* Serves the fake hub until the child exits (its status) or until_ms passes (-1). */
static int s_serve(fixture_t *fx, script_t *script, pid_t pid, int until_ms) {
    int64_t deadline = s_now_ms() + until_ms;
    int status;
    while ((status = s_reap(pid)) == -1 && s_now_ms() < deadline) {
        xs_peer_t peer;
        const uint8_t *frame;
        size_t len;
        xs_err err = xs_server_recv(fx->server, 20, &peer, &frame, &len);
        if (err == XS_OK)
            s_answer(fx, script, &peer, frame, len);
        else
            assert_int_equal(err, XS_ETIMEOUT);
    }
    return status;
}

/* Runs `xueshi-node sync` on dir against the fake hub; its exit status, output in fx->out. */
static int s_sync(fixture_t *fx, const char *dir, script_t *script) {
    const char *argv[] = {"xueshi-node", "sync", "--dir", dir, "--timeout", S_SYNC_TIMEOUT, NULL};
    pid_t pid = s_spawn(fx, argv);
    int status = s_serve(fx, script, pid, S_PATIENCE_MS);
    if (status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    s_read_log(fx);
    return status;
}

/* Stops a running `xueshi-node run` with SIGTERM, serving meanwhile; its exit status. */
static int s_stop_run(fixture_t *fx, script_t *script, pid_t pid) {
    kill(pid, SIGTERM);
    int status = s_serve(fx, script, pid, S_PATIENCE_MS);
    if (status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    s_read_log(fx);
    return status;
}

/* `xueshi-node init` of a node at dir towards the fake hub's endpoint, taking hub_keys as the
 * hub's; fills *pub with the node's keys. */
static int s_node_init(fixture_t *fx, const char *dir, const char *hub_keys, xs_pubkeys_t *pub) {
    const char *argv[] = {"xueshi-node", "init",       "--dir",     dir,      "--school", "S1",
                          "--hub",       fx->endpoint, "--hub-key", hub_keys, NULL};
    pid_t pid = s_spawn(fx, argv);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    s_read_log(fx);
    /* The last line is the node's public keys. */
    size_t len = strlen(fx->out);
    while (len > 0 && fx->out[len - 1] == '\n')
        len--;
    size_t start = len;
    while (start > 0 && fx->out[start - 1] != '\n')
        start--;
    return xs_pubkeys_parse(fx->out + start, len - start, pub) == XS_OK ? 0 : -1;
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    if (xs_scratch_make(fx->dir, sizeof fx->dir, "xs_node_sync") != 0)
        return -1;
    snprintf(fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    snprintf(fx->wrong_dir, sizeof fx->wrong_dir, "%s/wrong", fx->dir);
    snprintf(fx->log, sizeof fx->log, "%s/child.log", fx->dir);
    if (xs_identity_create(&fx->hub, fx->dir, "hub") != XS_OK ||
        xs_identity_create(&fx->stranger, fx->dir, "stranger") != XS_OK)
        return -1;
    xs_pubkeys_format(xs_identity_public(fx->hub), fx->hub_keys);
    xs_pubkeys_format(xs_identity_public(fx->stranger), fx->stranger_keys);
    if (xs_server_open(&fx->server, "tcp://127.0.0.1:*", xs_identity_public(fx->hub)->box,
                       xs_identity_box_secret(fx->hub), s_admit, fx) != XS_OK)
        return -1;
    snprintf(fx->endpoint, sizeof fx->endpoint, "%s", xs_server_endpoint(fx->server));
    xs_pubkeys_t wrong_pub;
    if (s_node_init(fx, fx->node_dir, fx->hub_keys, &fx->node_pub) != 0 ||
        s_node_init(fx, fx->wrong_dir, fx->stranger_keys, &wrong_pub) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_server_close(&fx->server);
    xs_identity_destroy(&fx->hub);
    xs_identity_destroy(&fx->stranger);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* Fails with the child's output. */
static void s_expect_status(const fixture_t *fx, const char *what, int status, int want) {
    if (status != want)
        fail_msg("%s: exit %d, want %d; output:\n%s", what, status, want, fx->out);
}

/* The hub's disk is full: ERROR internal is "try later" (3), not "not enrolled" (4). */
static void test_internal_error_is_retryable(void **state) {
    fixture_t *fx = *state;
    script_t script = {{XS_PCODE_INTERNAL}, 0, 0, 0, NULL, 0};
    s_expect_status(fx, "ERROR internal", s_sync(fx, fx->node_dir, &script), 3);
    assert_int_equal(script.hellos, 1);
    assert_null(strstr(fx->out, "未登记或已吊销"));
    /* The disk is fixed: the next sync goes through. */
    script_t fixed = {{0}, 0, 0, 0, NULL, 0};
    s_expect_status(fx, "after the fix", s_sync(fx, fx->node_dir, &fixed), 0);
}

/* A batch the hub could not even open is refused with first_seq 0: that answers the batch sent,
 * so the session ends at once with the hub's reason instead of waiting out its time. */
static void test_unread_batch_refusal_is_an_answer(void **state) {
    fixture_t *fx = *state;
    const char *argv[] = {"xueshi-node", "record", "--dir",      fx->node_dir, "--teacher",
                          "T1",          "--date", "2025-10-15", "--category", "lecture",
                          "--minutes",   "90",     NULL};
    int status;
    pid_t pid = s_spawn(fx, argv);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    script_t script = {{0}, 0, XS_PCODE_INTERNAL, 0, NULL, 0};
    int64_t t0 = s_now_ms();
    s_expect_status(fx, "ACK refused unread, internal", s_sync(fx, fx->node_dir, &script), 3);
    int64_t took = s_now_ms() - t0;
    assert_int_equal(script.batches, 1);
    if (took >= 2500)
        fail_msg("the refusal was not taken as the batch's answer: %lld ms; output:\n%s",
                 (long long)took, fx->out);
    assert_non_null(strstr(fx->out, "暂时无法保存"));
}

/* protocol.md §5.1: the exit status for each code an ERROR can carry. */
static void test_every_code_has_an_exit(void **state) {
    fixture_t *fx = *state;
    static const int want[XS_PCODE_MAX + 1] = {
        [XS_PCODE_MALFORMED] = 1,     [XS_PCODE_VERSION] = 1,      [XS_PCODE_TOO_BIG] = 1,
        [XS_PCODE_BAD_SIGNATURE] = 4, [XS_PCODE_WRONG_ORIGIN] = 4, [XS_PCODE_REVOKED] = 4,
        [XS_PCODE_UNKNOWN] = 4,       [XS_PCODE_INTERNAL] = 3,
    };
    for (unsigned code = 1; code <= XS_PCODE_MAX; code++) {
        script_t script = {{code}, 0, 0, 0, NULL, 0};
        int status = s_sync(fx, fx->node_dir, &script);
        if (status != want[code])
            fail_msg("ERROR %s: exit %d, want %d; output:\n%s", xs_proto_code_name(code), status,
                     want[code], fx->out);
        assert_int_equal(script.hellos, 1);
    }
}

/* run keeps trying after a transient error, and syncs once the hub is well again. */
static void test_run_retries_internal_error(void **state) {
    fixture_t *fx = *state;
    script_t script = {{XS_PCODE_INTERNAL, XS_PCODE_INTERNAL}, 0, 0, 0, NULL, 0};
    const char *argv[] = {"xueshi-node", "run",          "--dir", fx->node_dir,
                          "--timeout",   S_SYNC_TIMEOUT, NULL};
    pid_t pid = s_spawn(fx, argv);
    /* Back-off 2 s then 4 s: the third HELLO comes within 6 s and gets a VIEW. */
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    while (script.hellos < 3 && s_now_ms() < deadline) {
        int status = s_serve(fx, &script, pid, 100);
        if (status != -1) {
            s_read_log(fx);
            fail_msg("run stopped (exit %d) after %d HELLOs; output:\n%s", status, script.hellos,
                     fx->out);
        }
    }
    assert_int_equal(script.hellos, 3);
    s_serve(fx, &script, pid, 300); /* the session ends */
    s_expect_status(fx, "run stopped by SIGTERM", s_stop_run(fx, &script, pid), 0);
    assert_non_null(strstr(fx->out, "(sync done)"));
}

/* A revoked key may be enrolled again by the county: run waits and says why, it does not
 * stop. */
static void test_run_waits_out_a_refusal(void **state) {
    fixture_t *fx = *state;
    script_t script = {{XS_PCODE_REVOKED}, 0, 0, 0, NULL, 0};
    const char *argv[] = {"xueshi-node", "run",          "--dir", fx->node_dir,
                          "--timeout",   S_SYNC_TIMEOUT, NULL};
    pid_t pid = s_spawn(fx, argv);
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    while (script.hellos < 1 && s_now_ms() < deadline)
        assert_int_equal(s_serve(fx, &script, pid, 100), -1);
    assert_int_equal(script.hellos, 1);
    /* Still running a while later, and not back before its 5 minutes. */
    int status = s_serve(fx, &script, pid, 1500);
    if (status != -1) {
        s_read_log(fx);
        fail_msg("run stopped (exit %d) after a refusal; output:\n%s", status, fx->out);
    }
    assert_int_equal(script.hellos, 1);
    s_expect_status(fx, "run stopped by SIGTERM", s_stop_run(fx, &script, pid), 0);
    assert_non_null(strstr(fx->out, "(trying again in 5 minutes)"));
}

/* A TCP listener on a loopback port the kernel picks; *port gets it. */
static int s_listen(int *port) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(listener >= 0);
    assert_int_equal(bind(listener, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(listener, 16), 0);
    assert_int_equal(getsockname(listener, (struct sockaddr *)&sa, &salen), 0);
    *port = ntohs(sa.sin_port);
    return listener;
}

/* A peer that takes TCP connections on listener and drops each after a few bytes, with a
 * reset (SO_LINGER 0) or a plain close, until the child exits; its exit status. */
static int s_drop_until_exit(int listener, pid_t pid, int reset, int *accepted) {
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    int status;
    while ((status = s_reap(pid)) == -1 && s_now_ms() < deadline) {
        struct pollfd p = {listener, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int conn = accept(listener, NULL, NULL);
        if (conn < 0)
            continue;
        (*accepted)++;
        /* Read all the client says first (the start of its ZMTP greeting: a close with
         * unread bytes would be a reset), then drop it. */
        uint8_t bytes[64];
        struct pollfd c = {conn, POLLIN, 0};
        while (poll(&c, 1, 100) > 0 && read(conn, bytes, sizeof bytes) > 0)
            ;
        if (reset) {
            struct linger lg = {1, 0};
            setsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(conn);
    }
    return status;
}

/* A node whose hub is a peer that breaks every handshake off: unreachable (3), not "is the
 * key right?" (1). */
static void test_dropped_handshake_is_unreachable(void **state) {
    fixture_t *fx = *state;
    for (int reset = 1; reset >= 0; reset--) {
        int accepted = 0, port;
        int listener = s_listen(&port);
        /* A node pointed at it, with the right keys. */
        char dir[500], endpoint[64];
        snprintf(dir, sizeof dir, "%s/dropped%d", fx->dir, reset);
        snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
        const char *init[] = {"xueshi-node", "init",   "--dir",     dir,          "--school", "S1",
                              "--hub",       endpoint, "--hub-key", fx->hub_keys, NULL};
        pid_t pid = s_spawn(fx, init);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        const char *sync[] = {"xueshi-node", "sync",         "--dir", dir,
                              "--timeout",   S_SYNC_TIMEOUT, NULL};
        pid = s_spawn(fx, sync);
        status = s_drop_until_exit(listener, pid, reset, &accepted);
        close(listener);
        s_read_log(fx);
        assert_true(accepted >= 2); /* it was tried again, and failed again */
        s_expect_status(fx, reset ? "a peer that resets" : "a peer that hangs up", status, 3);
        assert_null(strstr(fx->out, "公钥"));
        /* Each way was taken: a hub refusing a key would also hang up (EPIPE). */
        assert_non_null(strstr(fx->out, reset ? "Connection reset by peer" : "Broken pipe"));
    }
}

/* The node holds a stranger's key as the hub's: the hub (a real CURVE server) breaks the
 * handshake off every time. The keys do not match: 4, with the key named and what to do. */
static void test_wrong_hub_key(void **state) {
    fixture_t *fx = *state;
    script_t script = {{0}, 0, 0, 0, NULL, 0};
    s_expect_status(fx, "wrong hub key", s_sync(fx, fx->wrong_dir, &script), 4);
    assert_int_equal(script.hellos, 0);
    assert_non_null(strstr(fx->out, "公钥"));
}

/* Runs `xueshi-node receipt` for teacher; on success opens the file against the fake hub's key
 * into *r (its generation and year total are checked by the caller). The command's status. */
static int s_receipt(fixture_t *fx, const char *teacher, xs_receipt_t *r, uint8_t *env,
                     size_t cap) {
    char out[500];
    snprintf(out, sizeof out, "%s/receipt.bin", fx->dir);
    remove(out);
    const char *argv[] = {"xueshi-node", "receipt", "--dir", fx->node_dir, "--teacher",
                          teacher,       "--out",   out,     NULL};
    pid_t pid = s_spawn(fx, argv);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    s_read_log(fx);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        return WEXITSTATUS(status);
    FILE *f = fopen(out, "rb");
    assert_non_null(f);
    size_t len = fread(env, 1, cap, f);
    fclose(f);
    assert_int_equal(xs_receipt_open(env, len, xs_identity_public(fx->hub)->sign, r), XS_OK);
    return 0;
}

/* Checks the node holds teacher's receipt of generation and credit. */
static void s_expect_receipt(fixture_t *fx, const char *teacher, uint64_t generation,
                             uint64_t credited) {
    xs_receipt_t *r = malloc(sizeof *r);
    uint8_t *env = malloc(XS_RECEIPT_MAX_BYTES);
    assert_non_null(r);
    assert_non_null(env);
    if (s_receipt(fx, teacher, r, env, XS_RECEIPT_MAX_BYTES) != 0)
        fail_msg("no receipt of %s; output:\n%s", teacher, fx->out);
    assert_int_equal(r->teacher_id.len, strlen(teacher));
    assert_memory_equal(r->teacher_id.ptr, teacher, strlen(teacher));
    assert_int_equal(r->generation, generation);
    assert_int_equal(r->total_count, 1);
    assert_int_equal(r->totals[0].credited_seconds, credited);
    free(env);
    free(r);
}

/* The hub's page comes as a group: the node verifies it once and keeps each teacher's
 * standalone receipt, which opens alone against the county key. A later page of an older
 * generation changes nothing; a newer one replaces. */
static void test_group_kept_newest_wins(void **state) {
    fixture_t *fx = *state;
    page_t page = {fx->hub, 5, 3600, 0};
    script_t script = {{0}, 0, 0, 0, &page, 0};
    s_expect_status(fx, "a page of 3", s_sync(fx, fx->node_dir, &script), 0);
    assert_int_equal(script.fetches, 1);
    assert_non_null(strstr(fx->out, "回执 3 份"));
    s_expect_receipt(fx, "T1", 5, 3600);
    s_expect_receipt(fx, "T3", 5, 3600);
    /* An older generation (a hub restored from a backup, a late page): the newer stays. */
    page_t older = {fx->hub, 3, 7200, 0};
    script_t again = {{0}, 0, 0, 0, &older, 0};
    s_expect_status(fx, "an older page", s_sync(fx, fx->node_dir, &again), 0);
    assert_int_equal(again.fetches, 1);
    assert_non_null(strstr(fx->out, "回执 0 份"));
    s_expect_receipt(fx, "T2", 5, 3600);
    page_t newer = {fx->hub, 7, 5400, 0};
    script_t third = {{0}, 0, 0, 0, &newer, 0};
    s_expect_status(fx, "a newer page", s_sync(fx, fx->node_dir, &third), 0);
    s_expect_receipt(fx, "T2", 7, 5400);
}

/* A group signed by another key, or with a leaf changed after the signature, stores nothing:
 * the session ends as a refusal of the hub's data (4), saying so. */
static void test_group_failing_stores_nothing(void **state) {
    fixture_t *fx = *state;
    xs_receipt_t *r = malloc(sizeof *r);
    uint8_t *env = malloc(XS_RECEIPT_MAX_BYTES);
    assert_non_null(r);
    assert_non_null(env);
    page_t forged = {fx->stranger, 5, 3600, 0}, tampered = {fx->hub, 5, 3600, 1};
    const page_t *pages[] = {&forged, &tampered};
    for (int i = 0; i < 2; i++) {
        script_t script = {{0}, 0, 0, 0, pages[i], 0};
        s_expect_status(fx, i ? "a leaf changed" : "a stranger's root",
                        s_sync(fx, fx->node_dir, &script), 4);
        assert_non_null(strstr(fx->out, "公钥不符，一份也未保存"));
        for (int t = 1; t <= S_PAGE_TEACHERS; t++) {
            char teacher[8];
            snprintf(teacher, sizeof teacher, "T%d", t);
            if (s_receipt(fx, teacher, r, env, XS_RECEIPT_MAX_BYTES) == 0)
                fail_msg("a failed page left %s's receipt", teacher);
        }
    }
    /* The hub's own page then goes through. */
    page_t good = {fx->hub, 5, 3600, 0};
    script_t script = {{0}, 0, 0, 0, &good, 0};
    s_expect_status(fx, "the hub's page", s_sync(fx, fx->node_dir, &script), 0);
    s_expect_receipt(fx, "T1", 5, 3600);
    free(env);
    free(r);
}

int main(void) {
    if (xs_identity_setup() != XS_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_internal_error_is_retryable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_every_code_has_an_exit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unread_batch_refusal_is_an_answer, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_run_retries_internal_error, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_run_waits_out_a_refusal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dropped_handshake_is_unreachable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_hub_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_group_kept_newest_wins, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_group_failing_stores_nothing, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("node_sync", tests, NULL, NULL);
}
