/* test_transport: CURVE + ZAP on loopback — admission, refusal, size caps, routing, restarts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/proto.h"
#include "xs/transport.h"

/* Every wait in these tests ends by this many milliseconds, even when something is wrong. */
#define S_PATIENCE_MS 5000
#define S_NODES 3

/* What the admit callback knows: enrolled transport keys and the origins they map to. */
typedef struct enrolment {
    uint8_t box[S_NODES][32];    /* enrolled X25519 keys */
    uint8_t origin[S_NODES][32]; /* the Ed25519 key each one maps to */
    int verdict[S_NODES];        /* what admit answers for each: 1, 0 or -1 */
    int calls;                   /* how many times admit ran */
    int calls_unknown;           /* ... for a key not in the table */
} enrolment_t;

typedef struct fixture {
    char dir[256];                /* scratch directory for key files */
    xs_identity_t *hub;           /* the hub's keys */
    xs_identity_t *node[S_NODES]; /* nodes' keys */
    xs_identity_t *stranger;      /* keys nobody enrolled */
    enrolment_t enrolment;
    xs_server_t *server;
    char endpoint[256]; /* where the server listens */
} fixture_t;

static int64_t s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int s_admit(void *ctx, const uint8_t client_box_pk[32], uint8_t origin[32]) {
    enrolment_t *en = ctx;
    en->calls++;
    for (int i = 0; i < S_NODES; i++) {
        if (memcmp(en->box[i], client_box_pk, 32) == 0) {
            if (en->verdict[i] > 0)
                memcpy(origin, en->origin[i], 32);
            return en->verdict[i];
        }
    }
    en->calls_unknown++;
    return 0;
}

static void s_unlink_keys(const char *dir, const char *name) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s.secret", dir, name);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    unlink(path);
}

static const char *const s_names[S_NODES] = {"node0", "node1", "node2"};

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/xs_transport_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir))
        return -1;
    if (xs_identity_create(&fx->hub, fx->dir, "hub") != XS_OK ||
        xs_identity_create(&fx->stranger, fx->dir, "stranger") != XS_OK)
        return -1;
    for (int i = 0; i < S_NODES; i++) {
        if (xs_identity_create(&fx->node[i], fx->dir, s_names[i]) != XS_OK)
            return -1;
        const xs_pubkeys_t *pub = xs_identity_public(fx->node[i]);
        memcpy(fx->enrolment.box[i], pub->box, 32);
        memcpy(fx->enrolment.origin[i], pub->sign, 32);
        fx->enrolment.verdict[i] = 1;
    }
    const xs_pubkeys_t *hub = xs_identity_public(fx->hub);
    if (xs_server_open(&fx->server, "tcp://127.0.0.1:*", hub->box, xs_identity_box_secret(fx->hub),
                       s_admit, &fx->enrolment) != XS_OK)
        return -1;
    snprintf(fx->endpoint, sizeof fx->endpoint, "%s", xs_server_endpoint(fx->server));
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    xs_server_close(&fx->server);
    xs_identity_destroy(&fx->hub);
    xs_identity_destroy(&fx->stranger);
    s_unlink_keys(fx->dir, "hub");
    s_unlink_keys(fx->dir, "stranger");
    for (int i = 0; i < S_NODES; i++) {
        xs_identity_destroy(&fx->node[i]);
        s_unlink_keys(fx->dir, s_names[i]);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* A client with id's keys towards the fixture's hub (or towards server_pk when given). */
static xs_client_t *s_client(fixture_t *fx, const xs_identity_t *id, const uint8_t *server_pk) {
    xs_client_t *c = NULL;
    const xs_pubkeys_t *pub = xs_identity_public(id);
    if (!server_pk)
        server_pk = xs_identity_public(fx->hub)->box;
    assert_int_equal(
        xs_client_open(&c, fx->endpoint, server_pk, pub->box, xs_identity_box_secret(id)), XS_OK);
    return c;
}

/* What the server received while the tests pumped it. */
typedef struct inbox {
    int count;        /* messages received */
    size_t max_len;   /* largest payload seen, in bytes */
    xs_peer_t peer;   /* sender of the last one */
    uint8_t last[64]; /* its first bytes */
    size_t last_len;  /* its full length */
} inbox_t;

/* Serves the hub side for up to slice_ms, recording what arrives. Returns 1 if a message came. */
static int s_serve(fixture_t *fx, int slice_ms, inbox_t *in) {
    xs_peer_t peer;
    const uint8_t *bytes;
    size_t len;
    xs_err err = xs_server_recv(fx->server, slice_ms, &peer, &bytes, &len);
    if (err == XS_ETIMEOUT)
        return 0;
    assert_int_equal(err, XS_OK);
    in->count++;
    if (len > in->max_len)
        in->max_len = len;
    in->peer = peer;
    in->last_len = len;
    memcpy(in->last, bytes, len < sizeof in->last ? len : sizeof in->last);
    return 1;
}

/* Pumps server and client in turn until the client's recv returns something other than
 * XS_ETIMEOUT, or patience runs out (then XS_ETIMEOUT). */
static xs_err s_pump_client(fixture_t *fx, xs_client_t *c, inbox_t *in, const uint8_t **bytes,
                            size_t *len) {
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    while (s_now_ms() < deadline) {
        s_serve(fx, 5, in);
        xs_err err = xs_client_recv(c, 5, bytes, len);
        if (err != XS_ETIMEOUT)
            return err;
    }
    return XS_ETIMEOUT;
}

/* Pumps the server until its inbox reaches want messages or patience runs out. */
static void s_pump_server(fixture_t *fx, inbox_t *in, int want) {
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    while (in->count < want && s_now_ms() < deadline)
        s_serve(fx, 20, in);
}

/* Pumps the server for ms milliseconds whatever comes. */
static void s_pump_for(fixture_t *fx, inbox_t *in, int ms) {
    int64_t deadline = s_now_ms() + ms;
    while (s_now_ms() < deadline)
        s_serve(fx, 10, in);
}

static void test_admitted_round_trip(void **state) {
    fixture_t *fx = *state;
    xs_client_t *c = s_client(fx, fx->node[0], NULL);
    assert_int_equal(xs_client_send(c, "hello", 5), XS_OK);
    inbox_t in = {0};
    s_pump_server(fx, &in, 1);
    assert_int_equal(in.count, 1);
    assert_int_equal(in.last_len, 5);
    assert_memory_equal(in.last, "hello", 5);
    assert_memory_equal(in.peer.origin, fx->enrolment.origin[0], 32);
    assert_true(in.peer.routing_len > 0);

    assert_int_equal(xs_server_send(fx->server, &in.peer, "view", 4), XS_OK);
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(s_pump_client(fx, c, &in, &bytes, &len), XS_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(bytes, "view", 4);

    /* An empty frame is a message too (the protocol layer refuses it, not the transport). */
    assert_int_equal(xs_client_send(c, NULL, 0), XS_OK);
    s_pump_server(fx, &in, 2);
    assert_int_equal(in.count, 2);
    assert_int_equal(in.last_len, 0);

    xs_transport_stats_t cs, ss;
    xs_client_stats(c, &cs);
    xs_server_stats(fx->server, &ss);
    assert_int_equal(cs.msgs_sent, 2);
    assert_int_equal(cs.bytes_sent, 5);
    assert_int_equal(cs.msgs_received, 1);
    assert_int_equal(cs.bytes_received, 4);
    assert_int_equal(ss.msgs_received, 2);
    assert_int_equal(ss.bytes_received, 5);
    assert_int_equal(ss.msgs_sent, 1);
    assert_int_equal(ss.zap_admitted, 1);
    assert_int_equal(ss.zap_denied, 0);
    assert_int_equal(fx->enrolment.calls, 1);
    xs_client_close(&c);
    assert_null(c);
    xs_client_close(&c); /* NULL is fine */
}

static void test_refused_client(void **state) {
    fixture_t *fx = *state;
    fx->enrolment.verdict[1] = 0; /* enrolled once, now revoked */
    xs_client_t *c = s_client(fx, fx->node[1], NULL);
    assert_int_equal(xs_client_send(c, "batch", 5), XS_OK);
    inbox_t in = {0};
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(s_pump_client(fx, c, &in, &bytes, &len), XS_EREFUSED);
    /* The refusal is final: zmq does not retry (a 100 ms reconnect would show up as a second
     * admit call), nothing gets through later, and the refusal is reported once. */
    s_pump_for(fx, &in, 300);
    assert_int_equal(in.count, 0);
    assert_int_equal(fx->enrolment.calls, 1);
    assert_int_equal(xs_client_recv(c, 0, &bytes, &len), XS_ETIMEOUT);
    xs_transport_stats_t ss;
    xs_server_stats(fx->server, &ss);
    assert_int_equal(ss.msgs_received, 0);
    assert_int_equal(ss.zap_admitted, 0);
    assert_true(ss.zap_denied >= 1);
    xs_client_close(&c);

    /* An unknown key is refused the same way. */
    c = s_client(fx, fx->stranger, NULL);
    assert_int_equal(xs_client_send(c, "batch", 5), XS_OK);
    assert_int_equal(s_pump_client(fx, c, &in, &bytes, &len), XS_EREFUSED);
    assert_int_equal(in.count, 0);
    assert_true(fx->enrolment.calls_unknown >= 1);
    xs_client_close(&c);
}

static void test_admit_error_is_not_a_refusal(void **state) {
    fixture_t *fx = *state;
    fx->enrolment.verdict[2] = -1; /* the hub could not read its store */
    xs_client_t *c = s_client(fx, fx->node[2], NULL);
    assert_int_equal(xs_client_send(c, "hello", 5), XS_OK);
    inbox_t in = {0};
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(s_pump_client(fx, c, &in, &bytes, &len), XS_ENET);
    assert_int_equal(in.count, 0);
    xs_client_close(&c);
}

static void test_wrong_server_key(void **state) {
    fixture_t *fx = *state;
    /* The client believes the hub's key is the stranger's: the hub cannot read its HELLO, and
     * hangs up. That is a key problem (XS_ECRYPTO), not a network one, every time. */
    xs_client_t *c = s_client(fx, fx->node[0], xs_identity_public(fx->stranger)->box);
    assert_int_equal(xs_client_send(c, "hello", 5), XS_OK);
    inbox_t in = {0};
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(s_pump_client(fx, c, &in, &bytes, &len), XS_ECRYPTO);
    assert_int_equal(s_pump_client(fx, c, &in, &bytes, &len), XS_ECRYPTO);
    s_pump_for(fx, &in, 200);
    assert_int_equal(in.count, 0);
    /* The handshake never reached ZAP: nobody unauthenticated costs an admission check. */
    assert_int_equal(fx->enrolment.calls, 0);
    /* Its queued message can never leave: closing does not wait the linger out for it. */
    int64_t before = s_now_ms();
    xs_client_close(&c);
    assert_true(s_now_ms() - before < 1000);
}

/* A bare TCP peer on loopback, run by a thread: it accepts connections and, as mode says,
 * resets each after reading a few bytes, closes it the same way without a reset, or keeps it
 * and says nothing. */
typedef enum drop_mode { S_DROP_RESET, S_DROP_CLOSE, S_DROP_SILENT } drop_mode_t;

typedef struct dropper {
    int listener;        /* the listening socket */
    drop_mode_t mode;    /* what it does with a connection */
    atomic_int accepted; /* connections taken */
    atomic_int stop;     /* set to end the thread */
    int held[64];        /* S_DROP_SILENT: the connections kept open */
    int nheld;
    pthread_t thread;
} dropper_t;

/* Reads what a client says first (the start of its ZMTP greeting), all of it: a close with
 * unread bytes would be a reset. */
static void s_read_greeting(int conn) {
    uint8_t bytes[64];
    struct pollfd c = {conn, POLLIN, 0};
    while (poll(&c, 1, 100) > 0 && read(conn, bytes, sizeof bytes) > 0)
        ;
}

static void *s_dropper_main(void *arg) {
    dropper_t *d = arg;
    while (!atomic_load(&d->stop)) {
        struct pollfd p = {d->listener, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int conn = accept(d->listener, NULL, NULL);
        if (conn < 0)
            continue;
        atomic_fetch_add(&d->accepted, 1);
        if (d->mode == S_DROP_SILENT && d->nheld < 64) {
            d->held[d->nheld++] = conn;
            continue;
        }
        s_read_greeting(conn);
        if (d->mode == S_DROP_RESET) {
            struct linger lg = {1, 0};
            setsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(conn);
    }
    return NULL;
}

/* Starts a dropper; *endpoint gets its "tcp://127.0.0.1:PORT". */
static void s_dropper_start(dropper_t *d, drop_mode_t mode, char *endpoint, size_t cap) {
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    memset(d, 0, sizeof *d);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d->mode = mode;
    d->listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(d->listener >= 0);
    assert_int_equal(bind(d->listener, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(d->listener, 16), 0);
    assert_int_equal(getsockname(d->listener, (struct sockaddr *)&sa, &salen), 0);
    snprintf(endpoint, cap, "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
    assert_int_equal(pthread_create(&d->thread, NULL, s_dropper_main, d), 0);
}

static void s_dropper_stop(dropper_t *d) {
    atomic_store(&d->stop, 1);
    pthread_join(d->thread, NULL);
    for (int i = 0; i < d->nheld; i++)
        close(d->held[i]);
    close(d->listener);
}

/* A peer that takes the TCP connection and drops it mid-handshake, again and again, is a link
 * problem (XS_ENET: zmq retries, and a retry may pass), never a key problem: whether it resets
 * the connection or closes it like a hub refusing a key would. */
static void test_dropped_handshake_is_not_a_key_problem(void **state) {
    fixture_t *fx = *state;
    const drop_mode_t modes[] = {S_DROP_RESET, S_DROP_CLOSE};
    for (size_t m = 0; m < 2; m++) {
        dropper_t d;
        /* From here the fixture's clients connect to the dropper, not to its server. */
        s_dropper_start(&d, modes[m], fx->endpoint, sizeof fx->endpoint);
        xs_client_t *c = s_client(fx, fx->node[0], NULL);
        assert_int_equal(xs_client_send(c, "hello", 5), XS_OK);
        int failures = 0;
        int64_t deadline = s_now_ms() + S_PATIENCE_MS;
        while (failures < 3 && s_now_ms() < deadline) {
            const uint8_t *bytes;
            size_t len;
            xs_err err = xs_client_recv(c, 100, &bytes, &len);
            if (err == XS_ETIMEOUT)
                continue;
            if (err != XS_ENET)
                fail_msg("mode %zu: %s, want XS_ENET", m, xs_strerror(err));
            failures++;
        }
        assert_int_equal(failures, 3);
        assert_true(atomic_load(&d.accepted) >= 3);
        /* Nothing can leave: closing does not wait the linger out. */
        int64_t before = s_now_ms();
        xs_client_close(&c);
        assert_true(s_now_ms() - before < 1000);
        s_dropper_stop(&d);
    }
}

/* A peer that takes the connection and never answers: nothing but XS_ETIMEOUT. */
static void test_silent_peer_times_out(void **state) {
    fixture_t *fx = *state;
    dropper_t d;
    s_dropper_start(&d, S_DROP_SILENT, fx->endpoint, sizeof fx->endpoint);
    xs_client_t *c = s_client(fx, fx->node[0], NULL);
    assert_int_equal(xs_client_send(c, "hello", 5), XS_OK);
    const uint8_t *bytes;
    size_t len;
    int64_t before = s_now_ms();
    assert_int_equal(xs_client_recv(c, 1000, &bytes, &len), XS_ETIMEOUT);
    assert_true(s_now_ms() - before >= 900);
    assert_true(atomic_load(&d.accepted) >= 1);
    xs_client_close(&c);
    s_dropper_stop(&d);
}

/* A message of two frames is refused like any frame that does not parse (protocol.md §5): the
 * server hands it over empty, from its authenticated sender, so the caller answers ERROR
 * malformed; the same connection serves on. */
static void test_multipart_refused(void **state) {
    fixture_t *fx = *state;
    xs_client_t *c = s_client(fx, fx->node[0], NULL);
    assert_int_equal(xs_client_test_send_parts(c, "hello", 5, "world", 5), XS_OK);
    inbox_t in = {0};
    s_pump_server(fx, &in, 1);
    assert_int_equal(in.count, 1);
    assert_int_equal(in.last_len, 0);
    assert_memory_equal(in.peer.origin, fx->enrolment.origin[0], 32);
    xs_transport_stats_t ss;
    xs_server_stats(fx->server, &ss);
    assert_int_equal(ss.msgs_multipart, 1);

    /* What a hub or relay does with it: decode, refuse, answer. */
    xs_msg_t msg;
    assert_int_equal(xs_proto_decode(in.last, in.last_len, &msg), XS_EMALFORMED);
    xs_proto_error(&msg, xs_proto_code_from_err(XS_EMALFORMED));
    xs_writer_t w;
    xs_writer_init(&w, XS_PROTO_FRAME_MAX);
    assert_int_equal(xs_proto_encode(&msg, &w), XS_OK);
    assert_int_equal(xs_server_send(fx->server, &in.peer, w.data, w.len), XS_OK);
    xs_writer_free(&w);
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(s_pump_client(fx, c, &in, &bytes, &len), XS_OK);
    assert_int_equal(xs_proto_decode(bytes, len, &msg), XS_OK);
    assert_int_equal(msg.type, XS_MSG_ERROR);
    assert_int_equal(msg.u.error.code, XS_PCODE_MALFORMED);

    /* A whole message after it still arrives whole. */
    assert_int_equal(xs_client_send(c, "again", 5), XS_OK);
    s_pump_server(fx, &in, 2);
    assert_int_equal(in.count, 2);
    assert_int_equal(in.last_len, 5);
    assert_memory_equal(in.last, "again", 5);
    xs_client_close(&c);
}

static void test_oversize_dropped(void **state) {
    fixture_t *fx = *state;
    xs_client_t *c = s_client(fx, fx->node[0], NULL);
    size_t big_len = XS_TRANSPORT_MAX_MSG + 1;
    uint8_t *big = calloc(1, 2 * XS_TRANSPORT_MAX_MSG);
    assert_non_null(big);
    assert_int_equal(xs_client_send(c, big, big_len), XS_ETOOBIG);

    /* Exactly the limit passes, CURVE overhead notwithstanding. */
    assert_int_equal(xs_client_send(c, big, XS_TRANSPORT_MAX_MSG), XS_OK);
    inbox_t in = {0};
    s_pump_server(fx, &in, 1);
    assert_int_equal(in.count, 1);
    assert_int_equal(in.last_len, XS_TRANSPORT_MAX_MSG);

    /* A client that ignores the limit: one byte over (dropped by recv), and far over (zmq
     * drops the connection). Neither reaches the application; the client then reconnects
     * and a probe gets through. */
    xs_client_test_allow_oversize(c);
    assert_int_equal(xs_client_send(c, big, big_len), XS_OK);
    assert_int_equal(xs_client_send(c, big, 2 * XS_TRANSPORT_MAX_MSG), XS_OK);
    in.count = 0;
    in.max_len = 0;
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    while (in.count == 0 && s_now_ms() < deadline) {
        assert_int_equal(xs_client_send(c, "probe", 5), XS_OK);
        s_pump_for(fx, &in, 100);
    }
    assert_true(in.count >= 1);
    assert_int_equal(in.max_len, 5);
    xs_transport_stats_t ss;
    xs_server_stats(fx->server, &ss);
    assert_true(ss.msgs_dropped >= 1);
    /* The server refuses to send oversize replies as well. */
    assert_int_equal(xs_server_send(fx->server, &in.peer, big, big_len), XS_ETOOBIG);
    free(big);
    xs_client_close(&c);
}

static void test_send_to_gone_peer(void **state) {
    fixture_t *fx = *state;
    xs_client_t *c = s_client(fx, fx->node[0], NULL);
    assert_int_equal(xs_client_send(c, "hello", 5), XS_OK);
    inbox_t in = {0};
    s_pump_server(fx, &in, 1);
    assert_int_equal(in.count, 1);
    xs_client_close(&c);

    /* Until the hub notices the TCP close, sends are queued; after, they fail at once. */
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    xs_err err = XS_OK;
    while (err == XS_OK && s_now_ms() < deadline) {
        int64_t before = s_now_ms();
        err = xs_server_send(fx->server, &in.peer, "ack", 3);
        assert_true(s_now_ms() - before < 100); /* never blocks */
        if (err == XS_OK)
            s_pump_for(fx, &in, 10);
    }
    assert_int_equal(err, XS_ENOTFOUND);

    /* A routing id nobody has is the same. */
    xs_peer_t nobody = {.routing = {0, 1, 2, 3, 4}, .routing_len = 5};
    assert_int_equal(xs_server_send(fx->server, &nobody, "ack", 3), XS_ENOTFOUND);
}

static void test_origins_tell_clients_apart(void **state) {
    fixture_t *fx = *state;
    xs_client_t *a = s_client(fx, fx->node[0], NULL);
    xs_client_t *b = s_client(fx, fx->node[1], NULL);
    assert_int_equal(xs_client_send(a, "from-a", 6), XS_OK);
    assert_int_equal(xs_client_send(b, "from-b", 6), XS_OK);
    int seen_a = 0, seen_b = 0;
    xs_peer_t peer_a = {0}, peer_b = {0};
    inbox_t in = {0};
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    while (in.count < 2 && s_now_ms() < deadline) {
        if (!s_serve(fx, 20, &in))
            continue;
        if (memcmp(in.last, "from-a", 6) == 0) {
            assert_memory_equal(in.peer.origin, fx->enrolment.origin[0], 32);
            peer_a = in.peer;
            seen_a++;
        } else {
            assert_memory_equal(in.last, "from-b", 6);
            assert_memory_equal(in.peer.origin, fx->enrolment.origin[1], 32);
            peer_b = in.peer;
            seen_b++;
        }
    }
    assert_int_equal(seen_a, 1);
    assert_int_equal(seen_b, 1);
    assert_memory_not_equal(peer_a.origin, peer_b.origin, 32);

    /* Replies go to the right one. */
    assert_int_equal(xs_server_send(fx->server, &peer_b, "to-b", 4), XS_OK);
    assert_int_equal(xs_server_send(fx->server, &peer_a, "to-a", 4), XS_OK);
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(s_pump_client(fx, a, &in, &bytes, &len), XS_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(bytes, "to-a", 4);
    assert_int_equal(s_pump_client(fx, b, &in, &bytes, &len), XS_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(bytes, "to-b", 4);
    xs_client_close(&a);
    xs_client_close(&b);
}

static void test_hundred_round_trips(void **state) {
    fixture_t *fx = *state;
    xs_client_t *c = s_client(fx, fx->node[0], NULL);
    inbox_t in = {0};
    for (int i = 0; i < 100; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "batch-%d", i);
        assert_int_equal(xs_client_send(c, msg, (size_t)n), XS_OK);
        int before = in.count;
        s_pump_server(fx, &in, before + 1);
        assert_int_equal(in.count, before + 1);
        assert_int_equal(in.last_len, (size_t)n);
        assert_memory_equal(in.last, msg, (size_t)n);
        msg[0] = 'A';
        assert_int_equal(xs_server_send(fx->server, &in.peer, msg, (size_t)n), XS_OK);
        const uint8_t *bytes;
        size_t len;
        assert_int_equal(xs_client_recv(c, S_PATIENCE_MS, &bytes, &len), XS_OK);
        assert_int_equal(len, (size_t)n);
        assert_memory_equal(bytes, msg, (size_t)n);
    }
    /* One handshake carried all of them. */
    assert_int_equal(fx->enrolment.calls, 1);
    xs_client_close(&c);
}

static void test_server_restart(void **state) {
    fixture_t *fx = *state;
    xs_client_t *c = s_client(fx, fx->node[0], NULL);
    assert_int_equal(xs_client_send(c, "one", 3), XS_OK);
    inbox_t in = {0};
    s_pump_server(fx, &in, 1);
    assert_int_equal(in.count, 1);

    xs_server_close(&fx->server);
    assert_null(fx->server);
    xs_server_close(&fx->server); /* NULL is fine */
    const xs_pubkeys_t *hub = xs_identity_public(fx->hub);
    assert_int_equal(xs_server_open(&fx->server, fx->endpoint, hub->box,
                                    xs_identity_box_secret(fx->hub), s_admit, &fx->enrolment),
                     XS_OK);
    assert_string_equal(xs_server_endpoint(fx->server), fx->endpoint);

    /* The same client reconnects on its own and is admitted again; messages sent around the
     * restart may be lost, so it repeats itself as a node would. */
    in.count = 0;
    int64_t deadline = s_now_ms() + S_PATIENCE_MS;
    while (in.count == 0 && s_now_ms() < deadline) {
        assert_int_equal(xs_client_send(c, "two", 3), XS_OK);
        s_pump_for(fx, &in, 100);
    }
    assert_true(in.count >= 1);
    assert_memory_equal(in.last, "two", 3);
    assert_memory_equal(in.peer.origin, fx->enrolment.origin[0], 32);
    assert_int_equal(xs_server_send(fx->server, &in.peer, "ok", 2), XS_OK);
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(s_pump_client(fx, c, &in, &bytes, &len), XS_OK);
    assert_int_equal(len, 2);
    xs_client_close(&c);

    /* A second server cannot take the endpoint while one holds it. */
    xs_server_t *other = NULL;
    assert_int_equal(xs_server_open(&other, fx->endpoint, hub->box, xs_identity_box_secret(fx->hub),
                                    s_admit, &fx->enrolment),
                     XS_ENET);
    assert_null(other);
}

static volatile sig_atomic_t s_alarms;

static void s_on_alarm(int sig) {
    (void)sig;
    s_alarms++;
}

static void test_signal_interrupts_wait(void **state) {
    fixture_t *fx = *state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the wait must see EINTR */
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval tv = {.it_value = {.tv_sec = 0, .tv_usec = 100000}};
    assert_int_equal(setitimer(ITIMER_REAL, &tv, NULL), 0);

    xs_peer_t peer;
    const uint8_t *bytes;
    size_t len;
    int64_t before = s_now_ms();
    /* Forever, but for the signal: the recv returns so a hub can look at its stop flag. */
    assert_int_equal(xs_server_recv(fx->server, -1, &peer, &bytes, &len), XS_ETIMEOUT);
    assert_true(s_now_ms() - before < S_PATIENCE_MS);
    assert_int_equal(s_alarms, 1);

    /* The same for a connected client waiting on a hub that does not answer. */
    xs_client_t *c = s_client(fx, fx->node[0], NULL);
    assert_int_equal(xs_client_send(c, "hello", 5), XS_OK);
    inbox_t in = {0};
    s_pump_server(fx, &in, 1);
    assert_int_equal(in.count, 1);
    assert_int_equal(setitimer(ITIMER_REAL, &tv, NULL), 0);
    assert_int_equal(xs_client_recv(c, -1, &bytes, &len), XS_ETIMEOUT);
    assert_int_equal(s_alarms, 2);
    xs_client_close(&c);
    assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
}

static void test_bad_arguments(void **state) {
    fixture_t *fx = *state;
    const xs_pubkeys_t *hub = xs_identity_public(fx->hub);
    xs_server_t *s = NULL;
    assert_int_equal(xs_server_open(&s, "nonsense", hub->box, xs_identity_box_secret(fx->hub),
                                    s_admit, &fx->enrolment),
                     XS_EINVAL);
    assert_null(s);
    assert_int_equal(xs_server_open(&s, "tcp://127.0.0.1:*", hub->box,
                                    xs_identity_box_secret(fx->hub), NULL, NULL),
                     XS_EINVAL);
    xs_client_t *c = NULL;
    const xs_pubkeys_t *node = xs_identity_public(fx->node[0]);
    assert_int_equal(
        xs_client_open(&c, "nonsense", hub->box, node->box, xs_identity_box_secret(fx->node[0])),
        XS_EINVAL);
    assert_null(c);
}

int main(void) {
    if (xs_identity_setup() != XS_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_admitted_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refused_client, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_admit_error_is_not_a_refusal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_server_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dropped_handshake_is_not_a_key_problem, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_silent_peer_times_out, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_multipart_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_oversize_dropped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_send_to_gone_peer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_origins_tell_clients_apart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hundred_round_trips, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_server_restart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_signal_interrupts_wait, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("transport", tests, NULL, NULL);
}
