/* progress: a line on stderr for work that runs longer than a second (rows or batches done,
 * rate, time left), redrawn in place on a terminal, plain lines in a log. */
#ifndef XS_PROGRESS_H
#define XS_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

/* Seconds of work before the first line, and between plain lines when not on a terminal. */
#define XS_PROGRESS_DELAY 1.0

/* One piece of work being measured; fields are xs_progress_begin's, read-only to callers. */
typedef struct xs_progress {
    FILE *out;           /* stderr */
    int tty;             /* 1: out is a terminal: one line redrawn in place */
    const char *program; /* "xueshi-node" */
    const char *what;    /* "导入 (import)" */
    const char *unit;    /* "行 (rows)" */
    uint64_t total;      /* units in all; 0 when unknown (no time left is shown) */
    double start;        /* when the work began, seconds of CLOCK_MONOTONIC */
    double last;         /* when a line was last written; 0: none yet */
    uint32_t calls;      /* xs_progress_update calls: the clock is read every 16th */
} xs_progress_t;

/* Starts measuring work of total units (0: unknown) for program; strings are borrowed until
 * xs_progress_end. Writes nothing. */
void xs_progress_begin(xs_progress_t *p, const char *program, const char *what, const char *unit,
                       uint64_t total);

/* Reports done units so far; cheap enough to call per row. Once XS_PROGRESS_DELAY has passed,
 * writes "PROGRAM: WHAT 1200/5000 UNIT, 800 UNIT/秒 (per second), 约 5 秒后完成 (ETA)", at most
 * 4 times a second redrawn in place on a terminal, once per XS_PROGRESS_DELAY as a plain line
 * otherwise. */
void xs_progress_update(xs_progress_t *p, uint64_t done);

/* xs_progress_update with the clock given (seconds, as xs_progress_t.start): for tests. */
void xs_progress_update_at(xs_progress_t *p, uint64_t done, double now);

/* Erases a line drawn in place on a terminal, so that a message printed next starts on a line
 * of its own; the next update draws it again. Nothing to do in a log. */
void xs_progress_clear(xs_progress_t *p);

/* Ends the work: a line drawn on a terminal is finished with the final count and a newline,
 * so that what is printed next starts on a line of its own. */
void xs_progress_end(xs_progress_t *p, uint64_t done);

#endif
