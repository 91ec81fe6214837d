/* bench_certify: times the whole `xueshi certify` run (read, parse, certify, print) on a
 * generated county register of 1,000,000 rows of 30,000 teachers under each shipped policy,
 * and the engine alone on the same rows read in this process; prints per policy the whole
 * run's seconds, the engine's seconds and its records per second. The goal is the summary
 * run within 3 s.
 * Usage: bench_certify [policy.ini|- [records [teachers]]]; without a policy (or with "-")
 * every .ini file in schema/policies of $XS_SOURCE_DIR, else of the source root of this file.
 * The source also builds against earlier trees (revision 1, credit in minutes) with this
 * directory's helpers.c beside it.
 * Set XS_BENCH_KEEP=1 to keep the generated sheet and outputs (their directory is printed). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "xs/certify.h"
#include "xs/csv.h"
#include "xs/policy.h"
#include "xs/sheet.h"
#include "xs/text.h"

#ifndef XS_BIN_DIR
#define XS_BIN_DIR "build/bin"
#endif

#define S_RUNS 3           /* timed runs of each mode; the best counts */
#define S_SCHOOL_SIZE 30   /* teachers per school */
#define S_FIRST_YEAR 2024  /* records fall in 2024-2025 and 2025-2026 */
#define S_GOAL_SECONDS 3.0 /* the summary run's budget */
#define S_POLICIES_MAX 16

extern char **environ;

/* The scratch files, removed at exit unless XS_BENCH_KEEP=1. */
static char s_dir[] = "/tmp/xs-bench-certify.XXXXXX", s_sheet[64], s_out[64];

static void s_cleanup(void) {
    unlink(s_sheet);
    unlink(s_out);
    rmdir(s_dir);
}

static uint64_t s_seed = 0x9e3779b97f4a7c15ull;

static uint64_t s_rand(void) {
    s_seed ^= s_seed << 13;
    s_seed ^= s_seed >> 7;
    s_seed ^= s_seed << 17;
    return s_seed;
}

/* A uniform number in [0, n). */
static unsigned s_below(unsigned n) {
    return (unsigned)(s_rand() % n);
}

static void s_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void s_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_certify: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static const char *const s_surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                         "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"};
static const char *const s_given[] = {"秀兰", "建国", "红梅", "志强", "丽华", "光",
                                      "雪",   "海燕", "明",   "小芳", "静",   "伟"};
static const char *const s_topics[] = {"低年级识字教学",   "数学课堂提问", "作业设计与批改",
                                       "大单元教学",       "英语绘本阅读", "科学探究实验",
                                       "双减背景下的作业", "班级管理",     "书法进课堂"};
static const char *const s_lectures[] = {"新课标解读", "信息技术与课堂融合", "心理健康教育",
                                         "安全教育", "师德师风专题"};
/* Notes offices write; two hold a comma, one also quotes, so the CSV quotes them. */
static const char *const s_notes[] = {"已交讲稿", "证书已核",       "\"县里统一组织, 在中心校\"",
                                      "补登",     "心得已交教务处", "\"两天, \"\"实操\"\" 为主\""};

/* One teacher: staff number, name, school. */
typedef struct s_teacher {
    char id[24];
    char name[16];
    unsigned school;
} s_teacher_t;

/* Whether this library's sheets take a lessons column (credit-rules §6.6): a register for an
 * earlier one leaves it out, as its offices would. */
static int s_lessons_column;

/* Writes one row of teacher t (index t_index) into f, dated in 2024-2025 or 2025-2026: with
 * what revision 2 reads, online training's level, a unit design's title and lessons, a
 * project's title. */
static void s_row(FILE *f, const s_teacher_t *t, size_t t_index) {
    static const int32_t first = 19967; /* 2024-09-01; 2025-09-01 is first + 365 */
    int32_t date = first + (int32_t)s_below(730);
    unsigned roll = s_below(1000);
    unsigned session = 0;
    if (roll < 480) {
        /* 教研组活动: weekly, on the school's day; every teacher of the school attends. */
        session = s_below(104);
        date = first + (int32_t)(session * 7 + t->school % 5);
    } else if (roll < 680) {
        /* 专题讲座: twice a month at the school. */
        session = s_below(48);
        date = first + (int32_t)(session * 15 + t->school % 7);
    }
    char day[11];
    xs_date_format(date, day);
    int year = S_FIRST_YEAR + (date >= first + 365);
    /* Half the rows have a note. */
    const char *note = s_below(2) ? "" : s_notes[s_below(sizeof s_notes / sizeof s_notes[0])];
    /* Columns: teacher_id,name,school_id,date,category,role,minutes,hours,days,chars,unit,
     * level,grade,work,event,score,note[,lessons] */
    const char *lessons = s_lessons_column ? ",4" : "", *no_lessons = s_lessons_column ? "," : "";
    fprintf(f, "%s,%s,S%05u,%s,", t->id, t->name, t->school, day);
    if (roll < 480) {
        fprintf(f, "research_session,%s,,,,,,,,,第%u学区 教研组活动 %s %s,,%s%s\r\n",
                s_below(8) == 0 ? "organizer" : "participant", t->school, day,
                s_topics[(t->school + session) % (sizeof s_topics / sizeof s_topics[0])], note,
                no_lessons);
    } else if (roll < 680) {
        unsigned speaker = s_below(25) == 0;
        fprintf(f, "lecture,%s,%u,,,,,,,,校本培训 %s: %s,,%s%s\r\n", speaker ? "speaker" : "",
                45 + 15 * s_below(6), day, s_lectures[session % 5], note, no_lessons);
    } else if (roll < 780) {
        /* county-organised programmes mostly; a third the school chose (§6.5) */
        static const char *const levels[] = {"",       "school",    "county",
                                             "county", "municipal", "provincial"};
        fprintf(f, "online_training,,,%u.%u,,,,%s,,,,,%s%s\r\n", 5 + s_below(50), s_below(2) * 5,
                levels[s_below(6)], note, no_lessons);
    } else if (roll < 800) {
        if (s_below(3) == 0)
            fprintf(f, "external_training,,,%u,,,,,,,,,%s%s\r\n", 8 + s_below(100), note,
                    no_lessons);
        else
            fprintf(f, "external_training,,,,%u.%u,,,,,,,,%s%s\r\n", 1 + s_below(10),
                    s_below(2) * 5, note, no_lessons);
    } else if (roll < 855) {
        fprintf(f, "open_class,,,,,,,,,,,,%s%s\r\n", note, no_lessons);
    } else if (roll < 905) {
        fprintf(f, "reflection,,,,,%u,,,,,,,%s%s\r\n", 600 + s_below(2400), note, no_lessons);
    } else if (roll < 935) {
        if (s_below(4) == 0) /* a unit design: its title and lessons (§6.6) */
            fprintf(f, "teaching_design,,,,,,1,,,%s 单元%u,,,%s%s\r\n", s_topics[t_index % 9],
                    s_below(8) + 1, note, lessons);
        else
            fprintf(f, "teaching_design,,,,,%u,0,,,,,,%s%s\r\n", 500 + s_below(2500), note,
                    no_lessons);
    } else if (roll < 950) {
        static const char *const levels[] = {"county", "municipal", "provincial", "national"};
        unsigned published = s_below(3) == 0;
        fprintf(f, "paper,,,,,%u,,%s,%s,%s之%zu,,,%s%s\r\n", 1500 + s_below(6000),
                levels[published ? 1 + s_below(3) : s_below(4)],
                published ? "published" : (const char *[]){"1", "2", "3"}[s_below(3)],
                s_topics[t_index % 9], t_index * 3 + s_below(2), note, no_lessons);
    } else if (roll < 960) {
        /* a concluded project and its title (§6.7); now and then recorded twice */
        static const char *const levels[] = {"county", "municipal", "provincial", "national"};
        static const char *const roles[] = {"host", "main_writer", "participant", ""};
        fprintf(f, "project,%s,,,,,,%s,,课题:%s %zu,,,%s%s\r\n", roles[s_below(4)],
                levels[s_below(4)], s_topics[t_index % 9], t_index * 2 + s_below(2), note,
                no_lessons);
    } else if (roll < 990) {
        /* 教师专业知识考试: one county exam a year. */
        fprintf(f, "exam,,,,,,,,,,%d-%d学年县教师专业知识考试,%u.%u,%s%s\r\n", year, year + 1,
                40 + s_below(60), s_below(10), note, no_lessons);
    } else {
        /* One row in a hundred the office got wrong: rejected, and the run goes on. */
        static const char *const wrong[] = {"lecture,,九十,,,,,,,,,,", "reflection,,,,,一千,,,,,,,",
                                            "lecture,,2000,,,,,,,,,,", "dancing,,45,,,,,,,,,,"};
        fprintf(f, "%s%s%s\r\n", wrong[s_below(4)], note, no_lessons);
    }
}

/* Runs argv (argv[0] the program) with stdout to out_path; returns the wall time in seconds
 * and the child's CPU time and peak memory. Dies unless it exits 0. */
static double s_run(char *const argv[], const char *out_path, double *cpu, long *max_rss_kb) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    double start = bench_now();
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        s_die("cannot start %s: %s", argv[0], strerror(rc));
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            s_die("wait4: %s", strerror(errno));
    double wall = bench_now() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        s_die("%s exited with status %d", argv[0], status);
    *cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    *max_rss_kb = ru.ru_maxrss;
    return wall;
}

/* Counts the lines (LF) of the file at path. */
static size_t s_lines(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        s_die("cannot read %s: %s", path, strerror(errno));
    char chunk[1 << 16];
    size_t n, lines = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        for (size_t i = 0; i < n; i++)
            lines += chunk[i] == '\n';
    fclose(f);
    return lines;
}

/* Times S_RUNS runs of certify (with --detail when detail), output to out_path; prints each
 * run and the best, and returns the best wall time. */
static double s_time(const char *label, const char *program, const char *policy, const char *sheet,
                     const char *out_path, int detail, size_t records) {
    char *argv[] = {(char *)program,
                    "certify",
                    "--policy",
                    (char *)policy,
                    "--records",
                    (char *)sheet,
                    detail ? "--detail" : NULL,
                    NULL};
    double best = 1e30, best_cpu = 0;
    long rss = 0;
    for (int run = 0; run < S_RUNS; run++) {
        double cpu;
        long run_rss;
        double wall = s_run(argv, out_path, &cpu, &run_rss);
        printf("  %-22s run %d: %6.3f s wall, %6.3f s cpu\n", label, run + 1, wall, cpu);
        if (wall < best) {
            best = wall;
            best_cpu = cpu;
        }
        if (run_rss > rss)
            rss = run_rss;
    }
    printf("%-24s best %6.3f s wall (%.3f s cpu), %10.0f records/s, peak RSS %ld MiB, "
           "%zu output lines\n",
           label, best, best_cpu, (double)records / best, rss / 1024, s_lines(out_path));
    return best;
}

/* 1 when this library's sheet header takes a lessons column. */
static int s_sheet_takes_lessons(void) {
    static const char header[] = "teacher_id,date,category,lessons\n";
    xs_csv_t *csv = NULL;
    xs_csv_row_t *row = malloc(sizeof *row);
    xs_sheet_t sheet;
    int ok = row && xs_csv_open_mem(&csv, header, sizeof header - 1) == XS_OK &&
             xs_csv_next(csv, row) == XS_OK && xs_sheet_header(&sheet, row, NULL, 0) == XS_OK;
    xs_csv_close(&csv);
    free(row);
    return ok;
}

/* The register read in this process, as `xueshi certify` reads it: records, their line
 * numbers as ids, and the strings the engine reads, copied into blocks. */
typedef struct s_register {
    xs_record_t *records;
    uint64_t *ids;
    size_t count, cap;
    char **blocks;
    size_t block_count, used; /* blocks; bytes used of the last */
} s_register_t;

#define S_BLOCK (8u << 20)

static void s_keep(s_register_t *reg, xs_str_t *str) {
    if (!str->len)
        return;
    if (!reg->block_count || reg->used + str->len > S_BLOCK) {
        reg->blocks = realloc(reg->blocks, (reg->block_count + 1) * sizeof *reg->blocks);
        if (!reg->blocks || !(reg->blocks[reg->block_count++] = malloc(S_BLOCK)))
            s_die("out of memory");
        reg->used = 0;
    }
    char *copy = reg->blocks[reg->block_count - 1] + reg->used;
    memcpy(copy, str->ptr, str->len);
    reg->used += str->len;
    str->ptr = copy;
}

static void s_read_register(s_register_t *reg, const char *path) {
    xs_csv_t *csv = NULL;
    xs_csv_row_t *row = malloc(sizeof *row);
    xs_sheet_t sheet;
    char msg[512];
    if (!row || xs_csv_open_file(&csv, path) != XS_OK || xs_csv_next(csv, row) != XS_OK ||
        xs_sheet_header(&sheet, row, msg, sizeof msg) != XS_OK)
        s_die("cannot read the register %s", path);
    xs_err err;
    while ((err = xs_csv_next(csv, row)) == XS_OK) {
        if (xs_csv_row_blank(row))
            continue;
        if (reg->count == reg->cap) {
            reg->cap = reg->cap ? reg->cap * 2 : 1u << 16;
            reg->records = realloc(reg->records, reg->cap * sizeof *reg->records);
            reg->ids = realloc(reg->ids, reg->cap * sizeof *reg->ids);
            if (!reg->records || !reg->ids)
                s_die("out of memory");
        }
        xs_record_t *rec = &reg->records[reg->count];
        xs_field field;
        xs_reason why;
        if (xs_sheet_row(&sheet, row, rec, NULL, &field, &why) != XS_OK)
            rec->version = 0; /* as the command does: a record no rule accepts */
        s_keep(reg, &rec->teacher_id);
        s_keep(reg, &rec->event);
        s_keep(reg, &rec->work);
        rec->school_id = rec->note = rec->operator_ = rec->ref = (xs_str_t){NULL, 0};
        reg->ids[reg->count++] = row->line;
    }
    if (err != XS_ENOTFOUND)
        s_die("reading %s: %s", path, xs_strerror(err));
    xs_csv_close(&csv);
    free(row);
}

static xs_err s_count_ledger(void *ctx, const xs_certify_teacher_t *t) {
    *(size_t *)ctx += t->total_count;
    return XS_OK;
}

/* Times the engine S_RUNS times on the register under the policy at path; the best. */
static double s_engine(const char *path, const s_register_t *reg, xs_certify_row_t *rows) {
    char err[512];
    xs_policy_t *policy = NULL;
    if (xs_policy_load(&policy, path, err, sizeof err) != XS_OK)
        s_die("%s", err);
    double best = 1e30;
    for (int run = 0; run < S_RUNS; run++) {
        size_t totals = 0;
        double start = bench_now();
        xs_err rc = xs_certify_run(policy, NULL, reg->records, reg->ids, reg->count, NULL, rows,
                                   s_count_ledger, &totals);
        double took = bench_now() - start;
        if (rc != XS_OK)
            s_die("certify: %s", xs_strerror(rc));
        best = took < best ? took : best;
    }
    xs_policy_destroy(&policy);
    return best;
}

int main(int argc, char **argv) {
    static char policies[S_POLICIES_MAX][1024];
    size_t policy_count = 0;
    if (argc > 1 && strcmp(argv[1], "-") != 0) {
        snprintf(policies[0], sizeof policies[0], "%s", argv[1]);
        policy_count = 1;
    } else {
        policy_count = bench_shipped_policies(policies, S_POLICIES_MAX);
    }
    char *end = NULL;
    size_t records = argc > 2 ? strtoul(argv[2], &end, 10) : 1000000;
    int bad = argc > 2 && (*end != '\0' || end == argv[2]);
    size_t teachers = argc > 3 ? strtoul(argv[3], &end, 10) : 30000;
    bad |= argc > 3 && (*end != '\0' || end == argv[3]);
    if (bad || records == 0 || teachers == 0 || records > 20000000 || teachers > 10000000 ||
        policy_count == 0) {
        fprintf(stderr, "usage: %s [policy.ini|- [records [teachers]]]\n", argv[0]);
        return 2;
    }
    for (size_t k = 0; k < policy_count; k++)
        if (access(policies[k], R_OK) != 0)
            s_die("cannot read the policy %s: %s", policies[k], strerror(errno));
    const char *program = XS_BIN_DIR "/xueshi";
    if (access(program, X_OK) != 0)
        s_die("no %s: build the xueshi-tool target first", program);
    if (!mkdtemp(s_dir))
        s_die("mkdtemp: %s", strerror(errno));
    snprintf(s_sheet, sizeof s_sheet, "%s/register.csv", s_dir);
    snprintf(s_out, sizeof s_out, "%s/out.csv", s_dir);
    const char *keep = getenv("XS_BENCH_KEEP");
    if (keep && strcmp(keep, "1") == 0)
        printf("keeping %s\n", s_dir);
    else
        atexit(s_cleanup);
    const char *sheet = s_sheet, *out = s_out;

    /* The teachers: county staff numbers (工号), Chinese names, 30 to a school. */
    s_teacher_t *t = malloc(teachers * sizeof *t);
    if (!t)
        s_die("out of memory");
    for (size_t i = 0; i < teachers; i++) {
        snprintf(t[i].id, sizeof t[i].id, "T61052%08zu", i * 7919 % 100000000);
        snprintf(t[i].name, sizeof t[i].name, "%s%s",
                 s_surnames[s_below(sizeof s_surnames / sizeof s_surnames[0])],
                 s_given[s_below(sizeof s_given / sizeof s_given[0])]);
        t[i].school = (unsigned)(i / S_SCHOOL_SIZE) + 1;
    }
    double start = bench_now();
    FILE *f = fopen(sheet, "wb");
    if (!f)
        s_die("cannot create %s: %s", sheet, strerror(errno));
    s_lessons_column = s_sheet_takes_lessons();
    fprintf(f,
            "\xEF\xBB\xBFteacher_id,name,school_id,date,category,role,minutes,hours,days,chars,"
            "unit,level,grade,work,event,score,note%s\r\n",
            s_lessons_column ? ",lessons" : "");
    /* Rows come school by school, as offices send their sheets, teachers interleaved. */
    size_t schools = (teachers + S_SCHOOL_SIZE - 1) / S_SCHOOL_SIZE;
    size_t school_rows = records / schools ? records / schools : 1;
    for (size_t i = 0; i < records; i++) {
        size_t school = i / school_rows < schools ? i / school_rows : schools - 1;
        size_t k = school * S_SCHOOL_SIZE + s_below(S_SCHOOL_SIZE);
        if (k >= teachers)
            k = s_below((unsigned)teachers);
        s_row(f, &t[k], k);
    }
    if (fclose(f) != 0)
        s_die("writing %s failed", sheet);
    struct stat st;
    if (stat(sheet, &st) != 0)
        s_die("stat %s: %s", sheet, strerror(errno));
    printf("bench_certify: %zu records of %zu teachers, %.1f MiB sheet, generated in %.2f s\n",
           records, teachers, (double)st.st_size / (1 << 20), bench_now() - start);
    printf("program %s; lessons column: %s\n", program, s_lessons_column ? "yes" : "no");

    /* The engine alone, on the rows read here as the command reads them. */
    s_register_t reg = {0};
    start = bench_now();
    s_read_register(&reg, sheet);
    printf("register read in this process in %.2f s: %zu records\n", bench_now() - start,
           reg.count);
    xs_certify_row_t *rows = malloc((reg.count ? reg.count : 1) * sizeof *rows);
    if (!rows)
        s_die("out of memory");
    double whole[S_POLICIES_MAX], engine[S_POLICIES_MAX];
    for (size_t k = 0; k < policy_count; k++) {
        printf("policy %s\n", policies[k]);
        whole[k] = s_time("certify (summary)", program, policies[k], sheet, out, 0, records);
        s_time("certify --detail", program, policies[k], sheet, out, 1, records);
        engine[k] = s_engine(policies[k], &reg, rows);
        printf("%-24s best %6.3f s, %10.0f records/s\n", "engine (in process)", engine[k],
               (double)reg.count / engine[k]);
    }
    printf("\n%-40s %10s %10s %12s\n", "policy", "whole s", "engine s", "engine rec/s");
    int missed = 0;
    for (size_t k = 0; k < policy_count; k++) {
        const char *name = strrchr(policies[k], '/');
        printf("%-40s %10.3f %10.3f %12.0f\n", name ? name + 1 : policies[k], whole[k], engine[k],
               (double)reg.count / engine[k]);
        missed += whole[k] > S_GOAL_SECONDS;
    }
    printf("summary runs %s the %.1f s goal\n", missed ? "MISS" : "meet", S_GOAL_SECONDS);

    free(rows);
    free(reg.records);
    free(reg.ids);
    for (size_t k = 0; k < reg.block_count; k++)
        free(reg.blocks[k]);
    free(reg.blocks);
    free(t);
    return 0;
}
