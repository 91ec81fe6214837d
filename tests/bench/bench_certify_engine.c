/* bench_certify_engine: times the certification engine on 1,000,000 synthetic records of
 * 30,000 teachers already in memory, under each shipped policy, and prints per policy the
 * whole run (policy load and certification), the engine's seconds and its records per second.
 * Usage: bench_certify_engine [policy.ini|- [records [teachers]]]; without a policy (or with
 * "-") every .ini file in schema/policies of $XS_SOURCE_DIR, else of this source tree.
 * The source also builds against earlier trees (revision 1, credit in minutes) with this
 * directory's helpers.c beside it, so one generator times the engine before and after a
 * change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "xs/certify.h"
#include "xs/policy.h"
#include "xs/record.h"
#include "xs/text.h"

#define S_ROUNDS 5
#define S_SCHOOL_SIZE 30 /* teachers per school */
#define S_POLICIES_MAX 16

/* Credit of a total in seconds, whichever unit the library counts in. */
#ifdef XS_POLICY_SECONDS_PER_HUNDREDTH
#define S_SECONDS(x) ((x).credited_seconds)
#else
#define S_SECONDS(x) ((x).credited_minutes * 60u)
#endif

static uint64_t s_seed = 0x2545f4914f6cdd1dull;

static uint64_t s_rand(void) {
    s_seed ^= s_seed << 13;
    s_seed ^= s_seed >> 7;
    s_seed ^= s_seed << 17;
    return s_seed;
}

static double s_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: what the engine costs on a machine that is busy otherwise. */
static double s_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An append-only store for the generated strings; records borrow from it. */
typedef struct s_arena {
    char *bytes;
    size_t len, cap;
} s_arena_t;

static xs_str_t s_put(s_arena_t *a, const char *text) {
    size_t len = strlen(text);
    if (a->len + len > a->cap) {
        fprintf(stderr, "bench: arena full\n");
        exit(1);
    }
    memcpy(a->bytes + a->len, text, len);
    xs_str_t s = {a->bytes + a->len, (uint32_t)len};
    a->len += len;
    return s;
}

/* Sums of what a report would print, so the callback does real work. */
typedef struct s_sink {
    uint64_t teachers, totals, met, seconds;
} s_sink_t;

static xs_err s_consume(void *ctx, const xs_certify_teacher_t *t) {
    s_sink_t *sink = ctx;
    sink->teachers++;
    sink->totals += t->total_count;
    for (size_t k = 0; k < t->total_count; k++) {
        sink->met += t->totals[k].met == XS_MET_YES;
        sink->seconds += S_SECONDS(t->totals[k]);
    }
    return XS_OK;
}

static void s_set(xs_record_t *r, xs_field f) {
    r->present |= 1u << f;
}

/* One realistic record of teacher t (school t / S_SCHOOL_SIZE) on a day of 2021-2026, with
 * what revision 2 reads (credit-rules §6): online training's level, a unit design's title and
 * lessons, a project's title, and now and then a category code no shipped policy defines. */
static void s_make(xs_record_t *r, const xs_str_t *teacher_ids, const xs_str_t *school_ids,
                   const xs_str_t *events, size_t event_count, const xs_str_t *works,
                   size_t work_count, size_t t) {
    static const int32_t first = 18871; /* 2021-09-01 */
    xs_record_init(r);
    r->teacher_id = teacher_ids[t];
    s_set(r, XS_F_TEACHER_ID);
    r->school_id = school_ids[t / S_SCHOOL_SIZE];
    s_set(r, XS_F_SCHOOL_ID);
    r->date = first + (int32_t)(s_rand() % 1826);
    s_set(r, XS_F_DATE);
    s_set(r, XS_F_CATEGORY);
    unsigned roll = (unsigned)(s_rand() % 100);
    size_t school = t / S_SCHOOL_SIZE;
    /* A school's events: 40 per kind, shared by its teachers. */
    size_t event = (school * 97 + s_rand() % 40) % event_count;
    if (roll < 30) {
        r->category = XS_CAT_LECTURE;
        r->minutes = 45 + (uint32_t)(s_rand() % 4) * 15;
        s_set(r, XS_F_MINUTES);
        if (s_rand() % 20 == 0) {
            r->role = XS_ROLE_SPEAKER;
            s_set(r, XS_F_ROLE);
        }
        r->event = events[event];
        s_set(r, XS_F_EVENT);
    } else if (roll < 55) {
        r->category = XS_CAT_RESEARCH_SESSION;
        r->event = events[(event + 1) % event_count];
        s_set(r, XS_F_EVENT);
    } else if (roll < 65) {
        r->category = XS_CAT_ONLINE_TRAINING;
        r->hours = 500 + (uint32_t)(s_rand() % 4000);
        s_set(r, XS_F_HOURS);
        /* county-organised programmes mostly; a third chosen by the school (§6.5) */
        unsigned level = (unsigned)(s_rand() % 6);
        if (level >= 2) {
            r->level = (uint8_t)(level == 5 ? XS_LEVEL_SCHOOL : level);
            s_set(r, XS_F_LEVEL);
        }
    } else if (roll < 73) {
        r->category = XS_CAT_EXTERNAL_TRAINING;
        if (s_rand() % 2) {
            r->days = 1 + (uint32_t)(s_rand() % 10);
            s_set(r, XS_F_DAYS);
        } else {
            r->hours = 800 + (uint32_t)(s_rand() % 9000);
            s_set(r, XS_F_HOURS);
        }
    } else if (roll < 78) {
        r->category = XS_CAT_OPEN_CLASS;
    } else if (roll < 85) {
        r->category = XS_CAT_REFLECTION;
        r->chars = 600 + (uint32_t)(s_rand() % 3000);
        s_set(r, XS_F_CHARS);
    } else if (roll < 91) {
        r->category = XS_CAT_TEACHING_DESIGN;
        r->unit = s_rand() % 4 == 0;
        r->chars = 500 + (uint32_t)(s_rand() % 3000);
        s_set(r, XS_F_CHARS);
        s_set(r, XS_F_UNIT);
        if (r->unit) {
            r->work = works[(t * 7 + s_rand() % 3) % work_count];
            s_set(r, XS_F_WORK);
#ifdef XS_RECORD_VERSION_FIRST   /* lessons: record version 2 */
            if (s_rand() % 10) { /* one in ten forgets them: incomplete_unit */
                r->lessons = 2 + (uint32_t)(s_rand() % 8);
                r->version = 2;
                s_set(r, XS_F_LESSONS);
            }
#endif
        }
    } else if (roll < 94) {
        r->category = XS_CAT_PAPER;
        r->chars = 1500 + (uint32_t)(s_rand() % 6000);
        r->work = works[(t * 7 + s_rand() % 3) % work_count];
        r->grade = (uint8_t)(1 + s_rand() % 4);
        r->level = (uint8_t)(r->grade == XS_GRADE_PUBLISHED ? 3 + s_rand() % 3 : 2 + s_rand() % 4);
        s_set(r, XS_F_CHARS);
        s_set(r, XS_F_WORK);
        s_set(r, XS_F_GRADE);
        s_set(r, XS_F_LEVEL);
    } else if (roll < 95) {
        r->category = XS_CAT_PROJECT;
        r->level = (uint8_t)(2 + s_rand() % 4);
        r->role = (uint8_t)(s_rand() % 3 == 0 ? XS_ROLE_HOST : XS_ROLE_PARTICIPANT);
        r->work = works[(t * 5 + s_rand() % 2) % work_count];
        s_set(r, XS_F_LEVEL);
        s_set(r, XS_F_ROLE);
        s_set(r, XS_F_WORK);
    } else if (roll < 96 && s_rand() % 4 == 0) {
        /* a county's own category (案例分析) that these policies do not define: rejected */
        r->category = 11;
        r->event = events[event];
        s_set(r, XS_F_EVENT);
    } else {
        r->category = XS_CAT_EXAM;
        int year = 2021 + (int)((r->date - first) / 366);
        r->event = events[event_count - 1 - (size_t)(year - 2021)]; /* one county exam a year */
        r->score = (uint32_t)(s_rand() % 10001);
        s_set(r, XS_F_EVENT);
        s_set(r, XS_F_SCORE);
    }
}

/* Certifies the records S_ROUNDS times under the policy at path; prints one line of
 * numbers per policy. 0, or 1 after saying why. */
static int s_bench(const char *path, const xs_record_t *records, const uint64_t *ids, size_t count,
                   size_t teachers, xs_certify_row_t *rows) {
    double best = 1e30, total = 0, best_whole = 1e30, best_cpu = 1e30;
    s_sink_t sink = {0};
    char err[512], id[64] = "";
    for (int round = 0; round < S_ROUNDS; round++) {
        memset(&sink, 0, sizeof sink);
        double whole = s_now();
        xs_policy_t *policy = NULL;
        if (xs_policy_load(&policy, path, err, sizeof err) != XS_OK) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
        snprintf(id, sizeof id, "%s", policy->id);
        double start = s_now(), cpu = s_cpu();
        xs_err rc = xs_certify_run(policy, NULL, records, ids, count, NULL, rows, s_consume, &sink);
        double took = s_now() - start;
        cpu = s_cpu() - cpu;
        best_cpu = cpu < best_cpu ? cpu : best_cpu;
        xs_policy_destroy(&policy);
        whole = s_now() - whole;
        if (rc != XS_OK) {
            fprintf(stderr, "bench: %s\n", xs_strerror(rc));
            return 1;
        }
        best = took < best ? took : best;
        best_whole = whole < best_whole ? whole : best_whole;
        total += took;
    }
    size_t status[XS_CERT_STATUS_COUNT] = {0};
    for (size_t i = 0; i < count; i++)
        status[rows[i].status]++;
    printf("policy %-9s whole run %.3f s, engine %.3f s (mean %.3f s over %d runs, cpu %.3f s), "
           "%.0f records/s\n",
           id, best_whole, best, total / S_ROUNDS, S_ROUNDS, best_cpu, (double)count / best);
    printf("  %zu records, %zu teachers: %llu ledgers, %llu totals, %llu met;", count, teachers,
           (unsigned long long)sink.teachers, (unsigned long long)sink.totals,
           (unsigned long long)sink.met);
    for (unsigned s = 0; s < XS_CERT_STATUS_COUNT; s++)
        printf(" %s %zu", xs_certify_status_name(s), status[s]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv) {
    static char paths[S_POLICIES_MAX][1024];
    size_t policies = 0;
    if (argc > 1 && strcmp(argv[1], "-") != 0) {
        snprintf(paths[0], sizeof paths[0], "%s", argv[1]);
        policies = 1;
    } else {
        policies = bench_shipped_policies(paths, S_POLICIES_MAX);
    }
    char *end = NULL;
    size_t count = argc > 2 ? strtoul(argv[2], &end, 10) : 1000000;
    int bad = argc > 2 && (*end != '\0' || end == argv[2]);
    size_t teachers = argc > 3 ? strtoul(argv[3], &end, 10) : 30000;
    bad |= argc > 3 && (*end != '\0' || end == argv[3]);
    if (bad || count == 0 || teachers == 0 || count > 100000000 || policies == 0) {
        fprintf(stderr, "usage: %s [policy.ini|- [records [teachers]]]\n", argv[0]);
        return 2;
    }

    /* Strings: teacher and school ids, event names, paper titles. */
    s_arena_t arena = {malloc(64u << 20), 0, 64u << 20};
    size_t schools = (teachers + S_SCHOOL_SIZE - 1) / S_SCHOOL_SIZE;
    size_t event_count = schools * 41 + 5, work_count = teachers * 3 + 7;
    xs_str_t *teacher_ids = malloc(teachers * sizeof *teacher_ids);
    xs_str_t *school_ids = malloc(schools * sizeof *school_ids);
    xs_str_t *events = malloc(event_count * sizeof *events);
    xs_str_t *works = malloc(work_count * sizeof *works);
    xs_record_t *records = malloc(count * sizeof *records);
    uint64_t *ids = malloc(count * sizeof *ids);
    xs_certify_row_t *rows = malloc(count * sizeof *rows);
    if (!arena.bytes || !teacher_ids || !school_ids || !events || !works || !records || !ids ||
        !rows) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    char text[256];
    for (size_t t = 0; t < teachers; t++) {
        snprintf(text, sizeof text, "61052619%010zu", t * 7919 % 10000000000u);
        teacher_ids[t] = s_put(&arena, text);
    }
    for (size_t s = 0; s < schools; s++) {
        snprintf(text, sizeof text, "大荔县第%zu小学", s + 1);
        school_ids[s] = s_put(&arena, text);
    }
    for (size_t e = 0; e + 5 < event_count; e++) {
        snprintf(text, sizeof text, "第%zu学区 校本研修第%zu次活动", e / 41 + 1, e % 41 + 1);
        events[e] = s_put(&arena, text);
    }
    for (size_t y = 0; y < 5; y++) {
        snprintf(text, sizeof text, "%zu-%zu学年县教师专业知识考试", 2025 - y, 2026 - y);
        events[event_count - 1 - y] = s_put(&arena, text);
    }
    for (size_t w = 0; w < work_count; w++) {
        snprintf(text, sizeof text, "%s农村小学低年级识字教学的实践探索 之%zu", w % 3 ? "" : "  ",
                 w / 3);
        works[w] = s_put(&arena, text);
    }
    /* Records teacher by teacher, then shuffled as rows of many schools' sheets would be;
     * ids are sheet line numbers. */
    for (size_t i = 0; i < count; i++) {
        s_make(&records[i], teacher_ids, school_ids, events, event_count, works, work_count,
               i % teachers);
        ids[i] = i + 2;
    }
    for (size_t i = count - 1; i > 0; i--) {
        size_t j = (size_t)(s_rand() % (i + 1));
        xs_record_t swap = records[i];
        records[i] = records[j];
        records[j] = swap;
    }
    for (size_t i = 0; i < count / 500; i++) {
        /* One correction per 500 rows, voiding an earlier line. */
        size_t at = (size_t)(s_rand() % count);
        xs_record_init(&records[at]);
        records[at].kind = XS_KIND_CORRECTION;
        records[at].voids = 2 + s_rand() % count;
        records[at].present |= (1u << XS_F_KIND) | (1u << XS_F_VOIDS);
    }

    int rc = 0;
    for (size_t k = 0; k < policies && rc == 0; k++)
        rc = s_bench(paths[k], records, ids, count, teachers, rows);
    free(arena.bytes);
    free(teacher_ids);
    free(school_ids);
    free(events);
    free(works);
    free(records);
    free(ids);
    free(rows);
    return rc;
}
