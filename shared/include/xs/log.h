/* log: events of the long-running processes (hub run, hub web, node run and its relay, node
 * web): one line each, with a timestamp, the program, the school or node, and what happened;
 * to the journal under systemd, to stderr otherwise; and a rate limiter for what a stranger
 * can make the hub say as often as it likes (refused handshakes, bad requests). Interactive
 * commands keep xs_log and xs_log_err (xs/err.h). */
#ifndef XS_LOG_H
#define XS_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xs/service.h"

/* An event's severity: the syslog priority the journal files it under. */
typedef enum xs_severity {
    XS_SEV_ERR = XS_PRIORITY_ERR,         /* something failed: a person should look */
    XS_SEV_WARNING = XS_PRIORITY_WARNING, /* refused or cut short; the process goes on */
    XS_SEV_NOTICE = XS_PRIORITY_NOTICE,   /* starts and stops */
    XS_SEV_INFO = XS_PRIORITY_INFO,       /* routine work: a sync session, a merge */
} xs_severity;

/* Longest message of one event, in bytes (longer ones are cut at a character boundary). */
#define XS_EVENT_MESSAGE_MAX 2048
/* Longest event line xs_event_line writes, with its timestamp, names and newline. */
#define XS_EVENT_LINE_MAX (XS_EVENT_MESSAGE_MAX + 512)

/* Writes one event: under the journal (xs_service_under_journal) an entry with PRIORITY=,
 * SYSLOG_IDENTIFIER= (xs_log_program_name), XUESHI_SCHOOL= (and XUESHI_NODE=) from who, and
 * the message; otherwise the line of xs_event_line, now, to stderr (or the stream given to
 * xs_event_stream). who is the school or node the event is about: "SCHOOL", or "SCHOOL #N"
 * for the hub's enrolled node number N; NULL for the process itself. Line breaks and other
 * control characters in the message become spaces: an event is one line. Safe from several
 * threads. */
void xs_event(xs_severity level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats the stderr form of an event into buf (size bytes, at least 64):
 * "2026-12-04T05:40:00Z PROGRAM [WHO] MESSAGE\n", the time in UTC from unix seconds when,
 * WHO "-" when who is NULL, control characters of who and message as spaces. Returns the
 * bytes written without the NUL (a message too long is cut, keeping the newline). */
size_t xs_event_line(char *buf, size_t size, int64_t when, const char *program, const char *who,
                     const char *message);

/* Sends later events to stream (borrowed until changed) as lines, never to the journal;
 * NULL restores the default (the journal under systemd, else stderr). For tests. */
void xs_event_stream(FILE *stream);

/* Turns the process's xs_log and xs_log_err lines into events about who (copied; NULL: the
 * process itself): warnings, and errors for xs_log_err. For a long-running process, once at
 * its start; xs_event_capture_end undoes it. */
void xs_event_capture(const char *who);
void xs_event_capture_end(void);

/* Tells the operator of something that went well (a policy updated, a rotation followed): a
 * line on stdout, or, while xs_event_capture is on (a long-running process), an event of
 * notice level about its who. */
void xs_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- rate limiting -------------------------------------------------------------------------- */

/* Keys one limiter tells apart (a reason: "refused/unknown_key"), and their longest length. */
#define XS_LOG_LIMIT_KEYS 16
#define XS_LOG_LIMIT_KEY_MAX 47

/* One key's window. */
typedef struct xs_log_limit_slot {
    char key[XS_LOG_LIMIT_KEY_MAX + 1]; /* "" when the slot is free */
    int64_t window_start;               /* unix seconds the key's current window began */
    uint32_t lines;                     /* lines let through in the window */
    uint64_t suppressed;                /* lines held back in the window */
} xs_log_limit_slot_t;

/* At most max_lines lines per key per window of window_seconds; the lines held back are
 * counted and said in one summary when the window ends. Use from one thread. */
typedef struct xs_log_limit {
    uint32_t max_lines;      /* lines per key per window */
    uint32_t window_seconds; /* the window, in seconds */
    xs_log_limit_slot_t slots[XS_LOG_LIMIT_KEYS];
} xs_log_limit_t;

/* Told that key's window ended (or its slot was needed for another key) with suppressed
 * lines held back, so the caller says so once. key is valid during the call. */
typedef void (*xs_log_limit_fn)(void *ctx, const char *key, uint64_t suppressed);

/* Starts a limiter with no key seen: at most max_lines (≥ 1) per key per window_seconds
 * (≥ 1). */
void xs_log_limit_init(xs_log_limit_t *limit, uint32_t max_lines, uint32_t window_seconds);

/* Whether a line under key (cut to XS_LOG_LIMIT_KEY_MAX bytes) may be written at unix second
 * now: 1, or 0 when the key's window is full (the line is counted as suppressed). A window
 * that ended, or a slot taken for a new key when all are used (the oldest window), is first
 * reported to fn (may be NULL) when it held lines back. */
int xs_log_limit_take(xs_log_limit_t *limit, const char *key, int64_t now, xs_log_limit_fn fn,
                      void *ctx);

/* Ends every window over by now, reporting to fn those that held lines back: call it now and
 * then (a server's idle turn), so a flood that stopped is still summed up. */
void xs_log_limit_sweep(xs_log_limit_t *limit, int64_t now, xs_log_limit_fn fn, void *ctx);

/* xs_event through limit under key (at the current time): a window that ended with lines held
 * back is first summed up as one event "已省略 K 条同类记录 (suppressed K similar lines:
 * KEY)" at level. */
void xs_event_limited(xs_log_limit_t *limit, const char *key, xs_severity level, const char *who,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* xs_log_limit_sweep at the current time, summing up each ended window as xs_event_limited
 * does, at level warning. */
void xs_event_limit_sweep(xs_log_limit_t *limit);

#endif
