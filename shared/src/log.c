/* log: event lines of the long-running processes, to the journal or stderr, and the rate
 * limiter for what strangers can make a server say. */
#include "xs/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xs/err.h"

static FILE *s_stream; /* xs_event_stream's; NULL: the default */
static char s_capture_who[128];
static int s_capture_has_who;
static int s_capturing; /* between xs_event_capture and xs_event_capture_end */

/* Copies src into dst (room for size bytes with the NUL), control characters as spaces; a
 * cut falls on a UTF-8 character boundary. Returns the bytes written. */
static size_t s_clean(char *dst, size_t size, const char *src) {
    size_t n = 0;
    if (size == 0)
        return 0;
    for (; src[n] && n + 1 < size; n++) {
        unsigned char c = (unsigned char)src[n];
        dst[n] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    if (src[n]) /* cut inside a character: end before its first byte */
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    dst[n] = '\0';
    return n;
}

size_t xs_event_line(char *buf, size_t size, int64_t when, const char *program, const char *who,
                     const char *message) {
    char stamp[32];
    char name[128];
    time_t t = (time_t)when;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(stamp, sizeof stamp, "%lld", (long long)when);
    s_clean(name, sizeof name, who ? who : "-");
    int head = snprintf(buf, size, "%s %s [%s] ", stamp, program, name);
    if (head < 0 || (size_t)head + 2 > size) {
        buf[0] = '\0';
        return 0;
    }
    size_t n = (size_t)head;
    n += s_clean(buf + n, size - n - 1, message); /* room kept for the newline */
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

void xs_event_stream(FILE *stream) {
    s_stream = stream;
}

/* Writes one event whose message is formatted already. */
static void s_emit(xs_severity level, const char *who, const char *message) {
    const char *program = xs_log_program_name();
    if (!s_stream && xs_service_under_journal()) {
        char clean[XS_EVENT_MESSAGE_MAX];
        char name[128];
        s_clean(clean, sizeof clean, message);
        if (who)
            s_clean(name, sizeof name, who);
        if (xs_service_journal((int)level, program, who ? name : NULL, clean))
            return;
    }
    char line[XS_EVENT_LINE_MAX];
    size_t n = xs_event_line(line, sizeof line, (int64_t)time(NULL), program, who, message);
    FILE *out = s_stream ? s_stream : stderr;
    fwrite(line, 1, n, out); /* one call: lines of several threads do not interleave */
    fflush(out);
}

void xs_event(xs_severity level, const char *who, const char *fmt, ...) {
    char message[XS_EVENT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    s_emit(level, who, message);
}

/* xs_log and xs_log_err of a capturing process. */
static void s_captured(int error, const char *message) {
    s_emit(error ? XS_SEV_ERR : XS_SEV_WARNING, s_capture_has_who ? s_capture_who : NULL, message);
}

void xs_event_capture(const char *who) {
    s_capture_has_who = who != NULL;
    if (who)
        s_clean(s_capture_who, sizeof s_capture_who, who);
    xs_log_hook(s_captured);
    s_capturing = 1;
}

void xs_say(const char *fmt, ...) {
    char message[XS_EVENT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (s_capturing) {
        s_emit(XS_SEV_NOTICE, s_capture_has_who ? s_capture_who : NULL, message);
        return;
    }
    printf("%s\n", message);
    fflush(stdout);
}

void xs_event_capture_end(void) {
    xs_log_hook(NULL);
    s_capture_has_who = 0;
    s_capturing = 0;
}

void xs_log_limit_init(xs_log_limit_t *limit, uint32_t max_lines, uint32_t window_seconds) {
    memset(limit, 0, sizeof *limit);
    limit->max_lines = max_lines ? max_lines : 1;
    limit->window_seconds = window_seconds ? window_seconds : 1;
}

/* Reports a slot's held-back lines (if any) and frees its count for a new window. */
static void s_close_window(xs_log_limit_slot_t *slot, xs_log_limit_fn fn, void *ctx) {
    if (slot->suppressed && fn)
        fn(ctx, slot->key, slot->suppressed);
    slot->suppressed = 0;
    slot->lines = 0;
}

int xs_log_limit_take(xs_log_limit_t *limit, const char *key, int64_t now, xs_log_limit_fn fn,
                      void *ctx) {
    char name[XS_LOG_LIMIT_KEY_MAX + 1];
    size_t len = strlen(key);
    if (len > XS_LOG_LIMIT_KEY_MAX)
        len = XS_LOG_LIMIT_KEY_MAX;
    memcpy(name, key, len);
    name[len] = '\0';
    xs_log_limit_slot_t *slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < XS_LOG_LIMIT_KEYS && !slot; i++) {
        xs_log_limit_slot_t *s = &limit->slots[i];
        if (strcmp(s->key, name) == 0)
            slot = s;
        else if (!oldest || (s->key[0] == '\0' && oldest->key[0] != '\0') ||
                 (oldest->key[0] != '\0' && s->window_start < oldest->window_start))
            oldest = s;
    }
    if (!slot) {
        slot = oldest; /* a free slot, or the one whose window began first */
        if (slot->key[0])
            s_close_window(slot, fn, ctx);
        memcpy(slot->key, name, len + 1);
        slot->window_start = now;
        slot->lines = 0;
        slot->suppressed = 0;
    } else if (now - slot->window_start >= (int64_t)limit->window_seconds ||
               now < slot->window_start) {
        s_close_window(slot, fn, ctx);
        slot->window_start = now;
    }
    if (slot->lines < limit->max_lines) {
        slot->lines++;
        return 1;
    }
    slot->suppressed++;
    return 0;
}

void xs_log_limit_sweep(xs_log_limit_t *limit, int64_t now, xs_log_limit_fn fn, void *ctx) {
    for (size_t i = 0; i < XS_LOG_LIMIT_KEYS; i++) {
        xs_log_limit_slot_t *s = &limit->slots[i];
        if (s->key[0] &&
            (now - s->window_start >= (int64_t)limit->window_seconds || now < s->window_start)) {
            s_close_window(s, fn, ctx);
            s->key[0] = '\0'; /* nothing pending: the slot is free again */
        }
    }
}

/* Sums up an ended window as one event. */
static void s_summary(void *ctx, const char *key, uint64_t suppressed) {
    const xs_severity *level = ctx;
    xs_event(*level, NULL, "已省略 %llu 条同类记录 (suppressed %llu similar lines: %s)",
             (unsigned long long)suppressed, (unsigned long long)suppressed, key);
}

void xs_event_limited(xs_log_limit_t *limit, const char *key, xs_severity level, const char *who,
                      const char *fmt, ...) {
    if (!xs_log_limit_take(limit, key, (int64_t)time(NULL), s_summary, &level))
        return;
    char message[XS_EVENT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    s_emit(level, who, message);
}

void xs_event_limit_sweep(xs_log_limit_t *limit) {
    xs_severity level = XS_SEV_WARNING;
    xs_log_limit_sweep(limit, (int64_t)time(NULL), s_summary, &level);
}
