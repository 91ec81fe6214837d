/* bench_certify: times the whole `xueshi certify` run (read, parse, certify, print) on a
 * generated county register of 1,000,000 rows of 30,000 teachers, and prints records per
 * second. The goal is the summary run within 3 s.
 * Usage: bench_certify [policy.ini [records [teachers]]]; the policy defaults to
 * $XS_SOURCE_DIR/schema/policies/dali.ini, else the one under the source root of this file.
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
#include "xs/text.h"

#ifndef XS_BIN_DIR
#define XS_BIN_DIR "build/bin"
#endif

#define S_RUNS 3           /* timed runs of each mode; the best counts */
#define S_SCHOOL_SIZE 30   /* teachers per school */
#define S_FIRST_YEAR 2024  /* records fall in 2024-2025 and 2025-2026 */
#define S_GOAL_SECONDS 3.0 /* the summary run's budget */

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

/* Writes one row of teacher t (index t_index) into f, dated in 2024-2025 or 2025-2026. */
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
     * level,grade,work,event,score,note */
    fprintf(f, "%s,%s,S%05u,%s,", t->id, t->name, t->school, day);
    if (roll < 480) {
        fprintf(f, "research_session,%s,,,,,,,,,第%u学区 教研组活动 %s %s,,%s\r\n",
                s_below(8) == 0 ? "organizer" : "participant", t->school, day,
                s_topics[(t->school + session) % (sizeof s_topics / sizeof s_topics[0])], note);
    } else if (roll < 680) {
        unsigned speaker = s_below(25) == 0;
        fprintf(f, "lecture,%s,%u,,,,,,,,校本培训 %s: %s,,%s\r\n", speaker ? "speaker" : "",
                45 + 15 * s_below(6), day, s_lectures[session % 5], note);
    } else if (roll < 780) {
        fprintf(f, "online_training,,,%u.%u,,,,,,,,,%s\r\n", 5 + s_below(50), s_below(2) * 5, note);
    } else if (roll < 800) {
        if (s_below(3) == 0)
            fprintf(f, "external_training,,,%u,,,,,,,,,%s\r\n", 8 + s_below(100), note);
        else
            fprintf(f, "external_training,,,,%u.%u,,,,,,,,%s\r\n", 1 + s_below(10), s_below(2) * 5,
                    note);
    } else if (roll < 855) {
        fprintf(f, "open_class,,,,,,,,,,,,%s\r\n", note);
    } else if (roll < 905) {
        fprintf(f, "reflection,,,,,%u,,,,,,,%s\r\n", 600 + s_below(2400), note);
    } else if (roll < 935) {
        unsigned unit = s_below(4) == 0;
        fprintf(f, "teaching_design,,,,,%u,%u,,,,,,%s\r\n", 500 + s_below(2500), unit, note);
    } else if (roll < 950) {
        static const char *const levels[] = {"county", "municipal", "provincial", "national"};
        unsigned published = s_below(3) == 0;
        fprintf(f, "paper,,,,,%u,,%s,%s,%s之%zu,,,%s\r\n", 1500 + s_below(6000),
                levels[published ? 1 + s_below(3) : s_below(4)],
                published ? "published" : (const char *[]){"1", "2", "3"}[s_below(3)],
                s_topics[t_index % 9], t_index * 3 + s_below(2), note);
    } else if (roll < 960) {
        static const char *const levels[] = {"county", "municipal", "provincial", "national"};
        static const char *const roles[] = {"host", "main_writer", "participant", ""};
        fprintf(f, "project,%s,,,,,,%s,,,,,%s\r\n", roles[s_below(4)], levels[s_below(4)], note);
    } else if (roll < 990) {
        /* 教师专业知识考试: one county exam a year. */
        fprintf(f, "exam,,,,,,,,,,%d-%d学年县教师专业知识考试,%u.%u,%s\r\n", year, year + 1,
                40 + s_below(60), s_below(10), note);
    } else {
        /* One row in a hundred the office got wrong: rejected, and the run goes on. */
        static const char *const wrong[] = {"lecture,,九十,,,,,,,,,,", "reflection,,,,,一千,,,,,,,",
                                            "lecture,,2000,,,,,,,,,,", "dancing,,45,,,,,,,,,,"};
        fprintf(f, "%s%s\r\n", wrong[s_below(4)], note);
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

int main(int argc, char **argv) {
    char policy[1024];
    const char *root = getenv("XS_SOURCE_DIR");
    if (argc > 1) {
        snprintf(policy, sizeof policy, "%s", argv[1]);
    } else if (root) {
        snprintf(policy, sizeof policy, "%s/schema/policies/dali.ini", root);
    } else {
        /* This file is tests/bench/bench_certify.c under the source root. */
        const char *self = __FILE__;
        const char *cut = strstr(self, "tests/bench/");
        int keep = cut ? (int)(cut - self) : 0;
        snprintf(policy, sizeof policy, "%.*sschema/policies/dali.ini", keep, self);
    }
    char *end = NULL;
    size_t records = argc > 2 ? strtoul(argv[2], &end, 10) : 1000000;
    int bad = argc > 2 && (*end != '\0' || end == argv[2]);
    size_t teachers = argc > 3 ? strtoul(argv[3], &end, 10) : 30000;
    bad |= argc > 3 && (*end != '\0' || end == argv[3]);
    if (bad || records == 0 || teachers == 0 || records > 20000000 || teachers > 10000000) {
        fprintf(stderr, "usage: %s [policy.ini [records [teachers]]]\n", argv[0]);
        return 2;
    }
    if (access(policy, R_OK) != 0)
        s_die("cannot read the policy %s: %s", policy, strerror(errno));
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
    fputs("\xEF\xBB\xBFteacher_id,name,school_id,date,category,role,minutes,hours,days,chars,unit,"
          "level,grade,work,event,score,note\r\n",
          f);
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
    printf("policy %s\nprogram %s\n", policy, program);

    double summary = s_time("certify (summary)", program, policy, sheet, out, 0, records);
    s_time("certify --detail", program, policy, sheet, out, 1, records);
    printf("summary run %s the %.1f s goal\n", summary <= S_GOAL_SECONDS ? "meets" : "MISSES",
           S_GOAL_SECONDS);

    free(t);
    return 0;
}
