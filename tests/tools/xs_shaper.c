/* xs_shaper: a loopback TCP proxy for tests that emulates a poor link: rate, delay, cuts. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The link model, for each direction (client→server "up", server→client "down"):
 *
 *   source --read--> queue --bottleneck (rate, shared)--> in flight (rtt/2) --write--> dest
 *
 * A connection's queue of one direction is one ring of S_RING_BYTES. Three counters of bytes
 * since the connection opened walk along it, written_total ≤ sent_total ≤ read_total:
 * read_total moves when the source is read (s_receive), sent_total when bytes cross the
 * bottleneck (s_transmit), written_total when the destination takes them (s_deliver). The
 * bytes in flight, [written_total, sent_total), are cut into segments, each with the time it
 * arrives at the far end. A full ring stops reading from the source: backpressure, no growth.
 *
 * The bottleneck of a direction is shared by all connections (one link), served round robin,
 * S_PACKET bytes at a time: a packet starts when the link is free and occupies it for its
 * length at the rate, then arrives rtt/2 later. A FIN crosses after the last byte.
 *
 * With --up U --period P the link is up for the first U s of every P s since start. At each
 * down moment every open connection is reset on both sides (SO_LINGER 0) and its queues are
 * dropped; a client that connects while the link is down is accepted and reset at once, so
 * its connect "succeeds" and its first read or write fails within milliseconds: it retries
 * promptly instead of hanging. The listening socket stays bound throughout.
 *
 * Counters (--stats, and stderr at exit): bytes_up, bytes delivered to the upstream;
 * bytes_down, bytes delivered to clients; connections, clients forwarded (not those reset
 * while down); cuts, open connections reset by the link going down. */

/* Bytes queued for one direction of one connection (a power of two). */
#define S_RING_BYTES ((uint64_t)4 << 20)
/* In-flight segments kept for one direction of one connection. */
#define S_SEGS 1024
/* Bytes that cross the bottleneck at once, as one packet: also the burst. */
#define S_PACKET 512
/* Connections forwarded at once; more are reset at accept. */
#define S_MAX_CONNS 256
/* A link idle for less than this keeps its schedule (poll wakes late); longer, it restarts. */
#define S_SLACK_US 20000

enum { S_UP = 0, S_DOWN = 1 }; /* directions; also the index of the source fd in a connection */

/* Bytes in flight up to end (a byte count since the connection opened), arriving at release. */
typedef struct seg {
    uint64_t end;       /* sent_total when the segment closed */
    int64_t release_us; /* when its bytes reach the destination, monotonic µs */
} seg_t;

/* One direction of one connection: what was read from the source and not yet written. */
typedef struct flow {
    uint8_t *ring;          /* S_RING_BYTES of queue, indexed by byte count modulo its size */
    uint64_t read_total;    /* bytes read from the source */
    uint64_t sent_total;    /* bytes that crossed the bottleneck */
    uint64_t written_total; /* bytes the destination took */
    seg_t segs[S_SEGS];     /* in-flight segments, a ring from seg_first */
    unsigned seg_first;     /* index of the oldest segment */
    unsigned seg_count;     /* segments in flight */
    bool src_eof;           /* the source sent its FIN */
    int64_t fin_release_us; /* when that FIN reaches the destination; -1 until it is sent */
    bool fin_done;          /* the destination was shut down for writing */
    bool dst_blocked;       /* the last write would block: wait for POLLOUT */
} flow_t;

/* One accepted connection and its upstream. */
typedef struct conn {
    int fd[2];       /* fd[S_UP]: the client; fd[S_DOWN]: the upstream server */
    bool connecting; /* the upstream connect has not completed */
    bool failed;     /* to be reset on both sides */
    flow_t flow[2];  /* flow[d] reads fd[d] and writes fd[1 - d] */
} conn_t;

typedef struct shaper {
    struct sockaddr_storage to; /* upstream address */
    socklen_t to_len;           /* its length */
    uint64_t rate_bps;          /* link rate in bits per second; 0: unlimited */
    int64_t delay_us;           /* one-way delay, rtt/2, in µs */
    int64_t merge_us;           /* in-flight segments closer than this in time are merged */
    int64_t up_us;              /* up time at the start of each period, in µs */
    int64_t period_us;          /* period length in µs; 0: always up */
    int64_t start_us;           /* when the first period began, monotonic µs */
    int64_t deadline_us;        /* when the proxy exits by itself, monotonic µs */
    uint64_t downs_seen;        /* down moments already acted upon */
    int64_t free_at_us[2];      /* when each direction's bottleneck finishes its last packet */
    unsigned next_conn[2];      /* round-robin position of each direction's bottleneck */
    conn_t *conns[S_MAX_CONNS];
    unsigned conn_count;
    uint64_t bytes[2];    /* bytes delivered: [S_UP] to servers, [S_DOWN] to clients */
    uint64_t connections; /* client connections forwarded */
    uint64_t cuts;        /* connections cut because the link went down */
} shaper_t;

static int g_stop_pipe[2] = {-1, -1};

static void s_on_signal(int sig) {
    (void)sig;
    int saved = errno;
    ssize_t n = write(g_stop_pipe[1], "x", 1);
    (void)n;
    errno = saved;
}

/* Monotonic time in µs. */
static int64_t s_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void s_usage(void) {
    fprintf(stderr, "usage: xs_shaper --listen 127.0.0.1:PORT --to 127.0.0.1:PORT\n"
                    "         [--rate BITS_PER_SECOND] [--rtt MS] [--up SECONDS --period SECONDS]\n"
                    "         [--stats FILE] [--max-seconds SECONDS]\n");
}

/* Parses a whole decimal integer in [min, max] into *out; -1 when text is anything else. */
static int s_parse_int(const char *text, long long min, long long max, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Parses decimal seconds in (0, max] into µs; -1 when text is anything else. */
static int s_parse_seconds(const char *text, double max, int64_t *out_us) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v > 0) || v > max)
        return -1;
    *out_us = (int64_t)(v * 1e6 + 0.5);
    return 0;
}

/* Parses "A.B.C.D:PORT" or "[::1]:PORT" into *out. Only loopback addresses are accepted: this
 * proxy is for tests on this machine. PORT 0 only when port_zero_ok. Returns 0, or -1 with a
 * message on stderr. */
static int s_parse_addr(const char *option, const char *text, bool port_zero_ok,
                        struct sockaddr_storage *out, socklen_t *out_len) {
    const char *colon = strrchr(text, ':');
    char host[64];
    long long port;
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof host ||
        s_parse_int(colon + 1, port_zero_ok ? 0 : 1, 65535, &port) != 0) {
        fprintf(stderr, "xs_shaper: %s %s: expected HOST:PORT\n", option, text);
        return -1;
    }
    size_t host_len = (size_t)(colon - text);
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    memset(out, 0, sizeof *out);
    if (host[0] == '[' && host_len >= 2 && host[host_len - 1] == ']') {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)out;
        host[host_len - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &sa->sin6_addr) != 1 ||
            !IN6_IS_ADDR_LOOPBACK(&sa->sin6_addr))
            goto not_loopback;
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t)port);
        *out_len = sizeof *sa;
        return 0;
    }
    struct sockaddr_in *sa = (struct sockaddr_in *)out;
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || (ntohl(sa->sin_addr.s_addr) >> 24) != 127)
        goto not_loopback;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    *out_len = sizeof *sa;
    return 0;
not_loopback:
    fprintf(stderr,
            "xs_shaper: %s %s: only numeric loopback addresses (127.x.x.x, [::1]) are allowed\n",
            option, text);
    return -1;
}

/* Writes addr as "A.B.C.D:PORT" or "[::1]:PORT" into text. */
static void s_format_addr(const struct sockaddr_storage *addr, char *text, size_t cap) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &sa->sin6_addr, host, sizeof host);
        snprintf(text, cap, "[%s]:%u", host, (unsigned)ntohs(sa->sin6_port));
    } else {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
        snprintf(text, cap, "%s:%u", host, (unsigned)ntohs(sa->sin_port));
    }
}

static int s_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Closes fd so that its peer sees a reset (RST), not an orderly end. */
static void s_close_reset(int fd) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* ---- the link's schedule ---- */

/* Down moments (start + k * period + up) passed by now. */
static uint64_t s_downs_by(const shaper_t *sh, int64_t now) {
    if (sh->period_us == 0 || sh->up_us >= sh->period_us)
        return 0;
    int64_t elapsed = now - sh->start_us;
    return elapsed < sh->up_us ? 0 : (uint64_t)((elapsed - sh->up_us) / sh->period_us) + 1;
}

/* Whether the link is up at now. */
static bool s_link_up(const shaper_t *sh, int64_t now) {
    if (sh->period_us == 0)
        return true;
    return (now - sh->start_us) % sh->period_us < sh->up_us;
}

/* When the link next goes up or down after now; INT64_MAX when it never changes. */
static int64_t s_next_change(const shaper_t *sh, int64_t now) {
    if (sh->period_us == 0 || sh->up_us >= sh->period_us)
        return INT64_MAX;
    int64_t elapsed = now - sh->start_us;
    int64_t period_start = sh->start_us + elapsed / sh->period_us * sh->period_us;
    int64_t in_period = elapsed % sh->period_us;
    return in_period < sh->up_us ? period_start + sh->up_us : period_start + sh->period_us;
}

/* ---- connections ---- */

/* Frees c, closing both sockets: with a reset when reset, else as they are (already shut
 * down both ways). */
static void s_conn_destroy(conn_t **c_ptr, bool reset) {
    conn_t *c = *c_ptr;
    if (!c)
        return;
    for (int d = 0; d < 2; d++) {
        if (c->fd[d] >= 0) {
            if (reset)
                s_close_reset(c->fd[d]);
            else
                close(c->fd[d]);
        }
        free(c->flow[d].ring);
    }
    free(c);
    *c_ptr = NULL;
}

/* Opens the upstream for an accepted client (taking client_fd) and adds the connection.
 * On failure the client is reset and -1 returned. */
static int s_conn_open(shaper_t *sh, int client_fd) {
    int one = 1;
    conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        s_close_reset(client_fd);
        return -1;
    }
    c->fd[S_UP] = client_fd;
    c->fd[S_DOWN] = -1;
    for (int d = 0; d < 2; d++) {
        c->flow[d].fin_release_us = -1;
        c->flow[d].ring = malloc(S_RING_BYTES);
        if (!c->flow[d].ring)
            goto failed;
    }
    setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s_set_nonblocking(client_fd) != 0)
        goto failed;
    c->fd[S_DOWN] = socket(sh->to.ss_family, SOCK_STREAM, 0);
    if (c->fd[S_DOWN] < 0 || s_set_nonblocking(c->fd[S_DOWN]) != 0)
        goto failed;
    setsockopt(c->fd[S_DOWN], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd[S_DOWN], (const struct sockaddr *)&sh->to, sh->to_len) == 0)
        c->connecting = false;
    else if (errno == EINPROGRESS)
        c->connecting = true;
    else
        goto failed;
    sh->conns[sh->conn_count++] = c;
    sh->connections++;
    return 0;
failed:
    s_conn_destroy(&c, true);
    return -1;
}

/* Accepts every pending client: forwarded while the link is up, reset at once while it is
 * down (the client's connect completes, then its first read or write fails). */
static void s_accept(shaper_t *sh, int listen_fd, int64_t now) {
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: poll again later */
        }
        if (!s_link_up(sh, now)) {
            s_close_reset(fd);
        } else if (sh->conn_count == S_MAX_CONNS) {
            fprintf(stderr, "xs_shaper: %d connections open, resetting a new one\n", S_MAX_CONNS);
            s_close_reset(fd);
        } else if (s_conn_open(sh, fd) != 0) {
            fprintf(stderr, "xs_shaper: cannot open the upstream: %s\n", strerror(errno));
        }
    }
}

/* Removes the connections that failed (reset) or ended on both sides (closed). */
static void s_sweep(shaper_t *sh) {
    for (unsigned i = 0; i < sh->conn_count;) {
        conn_t *c = sh->conns[i];
        bool ended = c->flow[S_UP].fin_done && c->flow[S_DOWN].fin_done;
        if (!c->failed && !ended) {
            i++;
            continue;
        }
        s_conn_destroy(&sh->conns[i], c->failed);
        sh->conns[i] = sh->conns[--sh->conn_count];
    }
}

/* The link went down: resets every connection, dropping what was queued or in flight. */
static void s_cut_all(shaper_t *sh) {
    for (unsigned i = 0; i < sh->conn_count; i++)
        sh->conns[i]->failed = true;
    sh->cuts += sh->conn_count;
    s_sweep(sh);
}

/* ---- one direction of a connection ---- */

/* Reads once from fd into f, as much as the ring holds. Returns -1 when the source failed. */
static int s_receive(flow_t *f, int fd) {
    uint64_t room = S_RING_BYTES - (f->read_total - f->written_total);
    uint64_t pos = f->read_total & (S_RING_BYTES - 1);
    size_t len = (size_t)(room < S_RING_BYTES - pos ? room : S_RING_BYTES - pos);
    if (len == 0)
        return 0;
    ssize_t n;
    do
        n = recv(fd, f->ring + pos, len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        f->read_total += (uint64_t)n;
    else if (n == 0)
        f->src_eof = true;
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -1;
    return 0;
}

/* Whether f has room for another in-flight segment and bytes waiting for the bottleneck. */
static bool s_waiting(const flow_t *f) {
    return f->read_total > f->sent_total && f->seg_count < S_SEGS;
}

/* Records that bytes more of f crossed the bottleneck and reach the destination at release_us. */
static void s_flow_send(flow_t *f, uint64_t bytes, int64_t release_us, int64_t merge_us) {
    f->sent_total += bytes;
    if (f->seg_count > 0) {
        seg_t *last = &f->segs[(f->seg_first + f->seg_count - 1) % S_SEGS];
        if (release_us - last->release_us < merge_us) {
            /* one segment, released at the later time: earlier bytes wait at most merge_us */
            last->end = f->sent_total;
            if (release_us > last->release_us)
                last->release_us = release_us;
            return;
        }
    }
    seg_t *seg = &f->segs[(f->seg_first + f->seg_count) % S_SEGS];
    seg->end = f->sent_total;
    seg->release_us = release_us;
    f->seg_count++;
}

/* Runs direction d's bottleneck up to now: packets of the waiting connections, round robin. */
static void s_transmit(shaper_t *sh, int d, int64_t now) {
    for (;;) {
        if (sh->rate_bps > 0 && sh->free_at_us[d] > now)
            return;
        conn_t *c = NULL;
        for (unsigned k = 0; k < sh->conn_count && !c; k++) {
            unsigned i = (sh->next_conn[d] + k) % sh->conn_count;
            if (s_waiting(&sh->conns[i]->flow[d])) {
                c = sh->conns[i];
                sh->next_conn[d] = i + 1;
            }
        }
        if (!c)
            return;
        flow_t *f = &c->flow[d];
        uint64_t bytes = f->read_total - f->sent_total;
        int64_t done = now;
        if (sh->rate_bps > 0) {
            if (bytes > S_PACKET)
                bytes = S_PACKET;
            int64_t start = sh->free_at_us[d] >= now - S_SLACK_US ? sh->free_at_us[d] : now;
            done = start + (int64_t)((bytes * 8 * 1000000 + sh->rate_bps - 1) / sh->rate_bps);
            sh->free_at_us[d] = done;
        }
        s_flow_send(f, bytes, done + sh->delay_us, sh->merge_us);
    }
}

/* Sends f's FIN across once the source ended and its last byte is sent. */
static void s_transmit_fin(const shaper_t *sh, flow_t *f, int64_t now) {
    if (!f->src_eof || f->fin_release_us >= 0 || f->sent_total != f->read_total)
        return;
    f->fin_release_us = now + sh->delay_us;
    if (f->seg_count > 0) {
        int64_t last = f->segs[(f->seg_first + f->seg_count - 1) % S_SEGS].release_us;
        if (last > f->fin_release_us)
            f->fin_release_us = last;
    }
}

/* Writes to fd the bytes of f that have arrived by now, then the FIN when it has. Returns -1
 * when the destination failed. */
static int s_deliver(flow_t *f, int fd, int64_t now, uint64_t *delivered) {
    uint64_t end = f->written_total;
    for (unsigned i = 0; i < f->seg_count; i++) {
        const seg_t *seg = &f->segs[(f->seg_first + i) % S_SEGS];
        if (seg->release_us > now)
            break;
        end = seg->end;
    }
    while (f->written_total < end && !f->dst_blocked) {
        uint64_t pos = f->written_total & (S_RING_BYTES - 1);
        uint64_t len = end - f->written_total;
        if (len > S_RING_BYTES - pos)
            len = S_RING_BYTES - pos;
        ssize_t n = send(fd, f->ring + pos, (size_t)len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            f->dst_blocked = true;
            break;
        }
        f->written_total += (uint64_t)n;
        *delivered += (uint64_t)n;
    }
    while (f->seg_count > 0 && f->segs[f->seg_first].end <= f->written_total) {
        f->seg_first = (f->seg_first + 1) % S_SEGS;
        f->seg_count--;
    }
    if (f->fin_release_us >= 0 && !f->fin_done && f->written_total == f->read_total &&
        f->fin_release_us <= now) {
        shutdown(fd, SHUT_WR);
        f->fin_done = true;
    }
    return 0;
}

/* The earliest time after which f has something to write; INT64_MAX when nothing. */
static int64_t s_flow_next(const flow_t *f) {
    if (f->dst_blocked)
        return INT64_MAX; /* POLLOUT wakes us */
    if (f->seg_count > 0)
        return f->segs[f->seg_first].release_us;
    if (f->fin_release_us >= 0 && !f->fin_done && f->written_total == f->read_total)
        return f->fin_release_us;
    return INT64_MAX;
}

/* ---- the loop ---- */

/* Handles poll's report rev on connection c's side d. */
static void s_conn_event(conn_t *c, int d, short rev) {
    if (d == S_DOWN && c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd[S_DOWN], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
            c->failed = true;
        else
            c->connecting = false;
        return;
    }
    if (rev & POLLERR) {
        c->failed = true;
        return;
    }
    if (rev & (POLLOUT | POLLHUP))
        c->flow[1 - d].dst_blocked = false; /* after a hang-up the next write says how */
    if ((rev & (POLLIN | POLLHUP)) && s_receive(&c->flow[d], c->fd[d]) != 0)
        c->failed = true;
}

/* The events wanted on connection c's side d. */
static short s_conn_events(const conn_t *c, int d) {
    if (d == S_DOWN && c->connecting)
        return POLLOUT;
    const flow_t *in = &c->flow[d];
    short events = 0;
    if (!in->src_eof && in->read_total - in->written_total < S_RING_BYTES)
        events |= POLLIN;
    if (c->flow[1 - d].dst_blocked)
        events |= POLLOUT;
    return events;
}

/* Forwards until a signal, the deadline, or a failure of poll. Returns 0, or -1. */
static int s_run(shaper_t *sh, int listen_fd) {
    static struct pollfd pfds[2 + 2 * S_MAX_CONNS];
    static conn_t *owners[2 + 2 * S_MAX_CONNS];
    for (;;) {
        int64_t now = s_now_us();
        if (now >= sh->deadline_us) {
            fprintf(stderr, "xs_shaper: --max-seconds reached, exiting\n");
            return 0;
        }
        uint64_t downs = s_downs_by(sh, now);
        if (downs > sh->downs_seen) {
            sh->downs_seen = downs;
            s_cut_all(sh);
        }
        for (int d = 0; d < 2; d++)
            s_transmit(sh, d, now);
        int64_t wake = sh->deadline_us;
        int64_t change = s_next_change(sh, now);
        if (change < wake)
            wake = change;
        for (unsigned i = 0; i < sh->conn_count; i++) {
            conn_t *c = sh->conns[i];
            for (int d = 0; d < 2 && !c->failed; d++) {
                flow_t *f = &c->flow[d];
                s_transmit_fin(sh, f, now);
                if (sh->rate_bps > 0 && s_waiting(f) && sh->free_at_us[d] < wake)
                    wake = sh->free_at_us[d];
                if (d == S_UP && c->connecting)
                    continue; /* POLLOUT on the upstream says when it can be written */
                if (s_deliver(f, c->fd[1 - d], now, &sh->bytes[d]) != 0)
                    c->failed = true;
                int64_t next = s_flow_next(f);
                if (next < wake)
                    wake = next;
            }
        }
        s_sweep(sh);

        nfds_t n = 0;
        pfds[n] = (struct pollfd){.fd = g_stop_pipe[0], .events = POLLIN};
        owners[n++] = NULL;
        pfds[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
        owners[n++] = NULL;
        for (unsigned i = 0; i < sh->conn_count; i++) {
            for (int d = 0; d < 2; d++) {
                short events = s_conn_events(sh->conns[i], d);
                /* no events: leave the fd out, or a hung-up peer would wake poll forever */
                pfds[n] =
                    (struct pollfd){.fd = events ? sh->conns[i]->fd[d] : -1, .events = events};
                owners[n++] = sh->conns[i];
            }
        }
        int64_t wait_us = wake - s_now_us();
        int timeout_ms = wait_us <= 0         ? 0
                         : wait_us >= 1000000 ? 1000
                                              : (int)((wait_us + 999) / 1000);
        int ready = poll(pfds, n, timeout_ms);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "xs_shaper: poll: %s\n", strerror(errno));
            return -1;
        }
        if (pfds[0].revents)
            return 0; /* SIGTERM or SIGINT */
        if (pfds[1].revents & POLLIN)
            s_accept(sh, listen_fd, s_now_us());
        for (nfds_t k = 2; k < n; k++) {
            if (pfds[k].revents && !owners[k]->failed)
                s_conn_event(owners[k], (int)((k - 2) % 2), pfds[k].revents);
        }
        s_sweep(sh);
    }
}

/* Writes the counters as one line to file (when given, replaced whole) and to stderr. */
static void s_write_stats(const shaper_t *sh, const char *file) {
    char line[160];
    snprintf(line, sizeof line,
             "bytes_up=%" PRIu64 " bytes_down=%" PRIu64 " connections=%" PRIu64 " cuts=%" PRIu64
             "\n",
             sh->bytes[S_UP], sh->bytes[S_DOWN], sh->connections, sh->cuts);
    fputs(line, stderr);
    if (!file)
        return;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", file) >= sizeof tmp) {
        fprintf(stderr, "xs_shaper: --stats path too long\n");
        return;
    }
    FILE *out = fopen(tmp, "w");
    if (!out || fputs(line, out) == EOF || fclose(out) != 0 || rename(tmp, file) != 0)
        fprintf(stderr, "xs_shaper: cannot write %s: %s\n", file, strerror(errno));
}

int main(int argc, char **argv) {
    static shaper_t sh;
    struct sockaddr_storage listen_addr;
    socklen_t listen_len = 0;
    const char *listen_text = NULL, *to_text = NULL, *stats_file = NULL;
    long long rate = 0, rtt_ms = 0;
    int64_t up_us = 0, period_us = 0, max_us = 600 * (int64_t)1000000;
    int listen_fd = -1, rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc) {
            s_usage();
            return 2;
        }
        const char *val = argv[++i];
        int bad = 0;
        if (strcmp(opt, "--listen") == 0)
            listen_text = val;
        else if (strcmp(opt, "--to") == 0)
            to_text = val;
        else if (strcmp(opt, "--stats") == 0)
            stats_file = val;
        else if (strcmp(opt, "--rate") == 0)
            bad = s_parse_int(val, 0, 1000000000000LL, &rate);
        else if (strcmp(opt, "--rtt") == 0)
            bad = s_parse_int(val, 0, 600000, &rtt_ms);
        else if (strcmp(opt, "--up") == 0)
            bad = s_parse_seconds(val, 86400, &up_us);
        else if (strcmp(opt, "--period") == 0)
            bad = s_parse_seconds(val, 86400, &period_us);
        else if (strcmp(opt, "--max-seconds") == 0)
            bad = s_parse_seconds(val, 7 * 86400, &max_us);
        else {
            s_usage();
            return 2;
        }
        if (bad) {
            fprintf(stderr, "xs_shaper: %s %s: not a valid value\n", opt, val);
            return 2;
        }
    }
    if (!listen_text || !to_text) {
        s_usage();
        return 2;
    }
    if ((up_us == 0) != (period_us == 0) || up_us > period_us) {
        fprintf(stderr, "xs_shaper: --up and --period go together, with up <= period\n");
        return 2;
    }
    if (s_parse_addr("--listen", listen_text, true, &listen_addr, &listen_len) != 0 ||
        s_parse_addr("--to", to_text, false, &sh.to, &sh.to_len) != 0)
        return 2;
    sh.rate_bps = (uint64_t)rate;
    sh.delay_us = rtt_ms * 1000 / 2;
    sh.merge_us = sh.delay_us / 512 > 1000 ? sh.delay_us / 512 : 1000;
    sh.up_us = up_us;
    sh.period_us = period_us;

    if (pipe(g_stop_pipe) != 0 || s_set_nonblocking(g_stop_pipe[1]) != 0) {
        fprintf(stderr, "xs_shaper: pipe: %s\n", strerror(errno));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int one = 1;
    listen_fd = socket(listen_addr.ss_family, SOCK_STREAM, 0);
    if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(listen_fd, (struct sockaddr *)&listen_addr, listen_len) != 0 ||
        listen(listen_fd, 128) != 0 || s_set_nonblocking(listen_fd) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&listen_addr, &listen_len) != 0) {
        fprintf(stderr, "xs_shaper: cannot listen on %s: %s\n", listen_text, strerror(errno));
        goto out;
    }
    char bound[80], upstream[80];
    s_format_addr(&listen_addr, bound, sizeof bound);
    s_format_addr(&sh.to, upstream, sizeof upstream);
    char schedule[80] = "always up";
    if (period_us > 0)
        snprintf(schedule, sizeof schedule, "up %.3f s of every %.3f s", (double)up_us / 1e6,
                 (double)period_us / 1e6);
    /* tests wait for this line: the periods start now */
    fprintf(stderr,
            "xs_shaper: listening on %s, forwarding to %s (rate %llu bit/s, rtt %lld ms, %s)\n",
            bound, upstream, (unsigned long long)rate, rtt_ms, schedule);
    sh.start_us = s_now_us();
    sh.deadline_us = sh.start_us + max_us;
    sh.free_at_us[S_UP] = sh.free_at_us[S_DOWN] = sh.start_us;
    rc = s_run(&sh, listen_fd) == 0 ? 0 : 1;
    s_write_stats(&sh, stats_file);
out:
    for (unsigned i = 0; i < sh.conn_count; i++)
        s_conn_destroy(&sh.conns[i], true);
    if (listen_fd >= 0)
        close(listen_fd);
    close(g_stop_pipe[0]);
    close(g_stop_pipe[1]);
    return rc;
}
