/* progress: a line on stderr for work that runs longer than a second (rows or batches done,
 * rate, time left), redrawn in place on a terminal, plain lines in a log. */
#include "xs/progress.h"

#include <time.h>
#include <unistd.h>

static double s_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void xs_progress_begin(xs_progress_t *p, const char *program, const char *what, const char *unit,
                       uint64_t total) {
    p->out = stderr;
    p->tty = isatty(STDERR_FILENO);
    p->program = program;
    p->what = what;
    p->unit = unit;
    p->total = total;
    p->start = s_now();
    p->last = 0;
    p->calls = 0;
}

/* Writes the line for done units at now. */
static void s_line(xs_progress_t *p, uint64_t done, double now) {
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    fprintf(p->out, "%s%s: %s %llu", p->tty ? "\r" : "", p->program, p->what,
            (unsigned long long)done);
    if (p->total)
        fprintf(p->out, "/%llu", (unsigned long long)p->total);
    fprintf(p->out, " %s, %.0f %s/秒 (per second)", p->unit, rate, p->unit);
    if (p->total && done < p->total && rate > 0)
        fprintf(p->out, ", 约 %.0f 秒后完成 (ETA)", (double)(p->total - done) / rate + 0.5);
    fputs(p->tty ? "\033[K" : "\n", p->out);
    fflush(p->out);
    p->last = now;
}

void xs_progress_update_at(xs_progress_t *p, uint64_t done, double now) {
    if (now - p->start < XS_PROGRESS_DELAY)
        return;
    if (p->last > 0 && now - p->last < (p->tty ? 0.25 : XS_PROGRESS_DELAY))
        return;
    s_line(p, done, now);
}

void xs_progress_update(xs_progress_t *p, uint64_t done) {
    /* The clock is read on every 16th call: a row costs microseconds, a batch milliseconds. */
    if ((p->calls++ & 15) != 0)
        return;
    xs_progress_update_at(p, done, s_now());
}

void xs_progress_clear(xs_progress_t *p) {
    if (p->tty && p->last > 0) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
        p->last = 0;
    }
}

void xs_progress_end(xs_progress_t *p, uint64_t done) {
    if (p->tty && p->last > 0) {
        s_line(p, done, s_now());
        fputc('\n', p->out);
        fflush(p->out);
    }
}
