/* service: sd_notify and sd_journal_send for long-running processes; the only file that
 * includes libsystemd. Without it (XS_HAVE_SYSTEMD unset) nothing watches the process and
 * nothing is notified. */
#include "xs/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef XS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif

#ifdef XS_HAVE_SYSTEMD
/* Monotonic microseconds, for spacing watchdog pings. */
static uint64_t s_now_usec(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Sends "NAME=1" and, with status, "STATUS=..." in one notification. */
static void s_notify(const char *state, const char *status) {
    if (status)
        sd_notifyf(0, "%s%sSTATUS=%s", state ? state : "", state ? "\n" : "", status);
    else if (state)
        sd_notify(0, state);
}
#endif

void xs_service_ready(const char *status) {
#ifdef XS_HAVE_SYSTEMD
    s_notify("READY=1", status);
#else
    (void)status;
#endif
}

void xs_service_status(const char *status) {
#ifdef XS_HAVE_SYSTEMD
    if (status)
        s_notify(NULL, status);
#else
    (void)status;
#endif
}

void xs_service_stopping(void) {
#ifdef XS_HAVE_SYSTEMD
    s_notify("STOPPING=1", NULL);
#endif
}

uint64_t xs_service_watchdog_usec(void) {
#ifdef XS_HAVE_SYSTEMD
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0)
        return usec;
#endif
    return 0;
}

void xs_service_watchdog(void) {
#ifdef XS_HAVE_SYSTEMD
    /* The interval is read once: WATCHDOG_USEC does not change during the process's life. */
    static int known;
    static uint64_t interval, last;
    if (!known) {
        interval = xs_service_watchdog_usec();
        known = 1;
    }
    if (!interval)
        return;
    uint64_t now = s_now_usec();
    if (last && now - last < interval / 2)
        return;
    sd_notify(0, "WATCHDOG=1");
    last = now;
#endif
}

int xs_service_journal(int priority, const char *program, const char *who, const char *message) {
#ifdef XS_HAVE_SYSTEMD
    char school[256];
    const char *node = NULL;
    if (priority < 0 || priority > 7)
        priority = XS_PRIORITY_INFO;
    if (!who)
        return sd_journal_send("MESSAGE=%s", message, "PRIORITY=%d", priority,
                               "SYSLOG_IDENTIFIER=%s", program, NULL) == 0;
    /* "SCHOOL #N": the school and the enrollment number as fields of their own. */
    const char *mark = strstr(who, " #");
    size_t len = mark ? (size_t)(mark - who) : strlen(who);
    if (len >= sizeof school)
        len = sizeof school - 1;
    memcpy(school, who, len);
    school[len] = '\0';
    if (mark)
        node = mark + 2;
    if (node)
        return sd_journal_send("MESSAGE=%s", message, "PRIORITY=%d", priority,
                               "SYSLOG_IDENTIFIER=%s", program, "XUESHI_SCHOOL=%s", school,
                               "XUESHI_NODE=%s", node, NULL) == 0;
    return sd_journal_send("MESSAGE=%s", message, "PRIORITY=%d", priority, "SYSLOG_IDENTIFIER=%s",
                           program, "XUESHI_SCHOOL=%s", school, NULL) == 0;
#else
    (void)priority;
    (void)program;
    (void)who;
    (void)message;
    return 0;
#endif
}

int xs_service_under_journal(void) {
#ifdef XS_HAVE_SYSTEMD
    /* systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream it connected; a
     * process whose stderr was redirected since (a shell's 2>file) must not trust it. */
    const char *stream = getenv("JOURNAL_STREAM");
    struct stat st;
    char *end;
    if (!stream || fstat(2, &st) != 0)
        return 0;
    unsigned long long dev = strtoull(stream, &end, 10);
    if (end == stream || *end != ':')
        return 0;
    const char *ino_text = end + 1;
    unsigned long long ino = strtoull(ino_text, &end, 10);
    if (end == ino_text || *end != '\0')
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
#else
    return 0;
#endif
}
