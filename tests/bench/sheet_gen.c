/* sheet_gen: the benchmarks' register sheets: realistic, deterministic rows. */
#include "sheet_gen.h"

#include <stdio.h>

#include "xs/record.h"
#include "xs/text.h"

/* Deterministic generator (splitmix64), so every run benchmarks the same sheet; seeded per
 * row (s_seed_row), so that any range of rows can be written alone. */
static uint64_t s_rng_state;
static uint64_t s_rng(void) {
    uint64_t z = (s_rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static unsigned s_below(unsigned n) {
    return (unsigned)(s_rng() % n);
}
static void s_seed_row(unsigned row) {
    s_rng_state = 0x5857534849ull ^ ((uint64_t)row * 0xd1342543de82ef95ull);
    (void)s_rng();
}

static const char *const s_surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄",
                                         "赵", "吴", "周", "徐", "孙", "马", "朱",
                                         "胡", "郭", "何", "高", "林", "罗"};
static const char *const s_given[] = {"伟", "芳", "娜",   "秀英", "敏",   "静",  "丽",   "强",
                                      "磊", "军", "洋",   "勇",   "艳",   "杰",  "娟",   "涛",
                                      "明", "超", "秀兰", "霞",   "平",   "刚",  "桂英", "建华",
                                      "文", "华", "红",   "玉兰", "志强", "海燕"};
static const char *const s_notes[] = {
    "校本研修：课堂观察与反馈",         "县教研室组织，含课后测验", "乡镇中心校送教下乡",
    "\"听课记录, 含\"\"评课\"\"环节\"", "线上直播回放已看完",       "补登：原登记表遗漏",
};
static const char *const s_titles[] = {
    "农村小学数学分层作业设计研究",
    "乡村学校留守儿童阅读习惯培养",
    "基于大单元的初中语文教学实践",
    "双减背景下的课后服务探索",
};

/* Writes one realistic row for row number i (0-based) of a sheet of `teachers` teachers
 * numbered after first_teacher, as bench_import does: each teacher once per block of
 * `teachers` rows, blocks on disjoint spans of block_days days (bench_import: 10), so every
 * row is a new activity. */
static void s_write_row(FILE *f, unsigned i, unsigned teachers, unsigned block_days,
                        unsigned first_teacher) {
    unsigned teacher = first_teacher + i % teachers + 1, block = i / teachers;
    s_seed_row(i);
    char date[11];
    xs_date_format(
        xs_date_from_civil(2024, 9, 2) + (int32_t)(block * block_days + s_below(block_days)), date);
    /* Columns: 工号,姓名,日期,类别,角色,分钟,学时,天数,字数,单元,级别,等级,题目,活动,成绩,备注,
     * 课时 */
    const char *role = "", *level = "", *grade = "", *title = "", *event = "";
    char minutes[8] = "", hours[16] = "", days[8] = "", chars[12] = "", unit[2] = "",
         score[16] = "", lessons[4] = "";
    unsigned roll = s_below(100), category;
    if (roll < 35) {
        category = XS_CAT_LECTURE;
        unsigned r = s_below(20);
        role = r == 0 ? "speaker" : r < 4 ? "participant" : "";
        snprintf(minutes, sizeof minutes, "%u", 30 + 15 * s_below(11));
    } else if (roll < 55) {
        category = XS_CAT_RESEARCH_SESSION;
        role = s_below(10) == 0 ? "organizer" : "";
        snprintf(minutes, sizeof minutes, "%u", 60 + 30 * s_below(3));
    } else if (roll < 65) {
        category = XS_CAT_OPEN_CLASS;
    } else if (roll < 75) {
        category = XS_CAT_ONLINE_TRAINING;
        snprintf(hours, sizeof hours, "%u.%u", 1 + s_below(40), 5 * s_below(2));
    } else if (roll < 83) {
        category = XS_CAT_EXTERNAL_TRAINING;
        snprintf(days, sizeof days, "%u.%u", s_below(5), 5);
    } else if (roll < 90) {
        category = XS_CAT_REFLECTION;
        snprintf(chars, sizeof chars, "%u", 800 + 100 * s_below(23));
    } else if (roll < 95) {
        category = XS_CAT_TEACHING_DESIGN;
        if (s_below(3) == 0) {
            /* A unit design names its unit and its lessons (credit-rules §6.6). */
            unit[0] = '1';
            title = s_titles[i % 4];
            snprintf(lessons, sizeof lessons, "%u", 2 + i % 7);
        } else
            snprintf(chars, sizeof chars, "%u", 1500 + 100 * s_below(36));
    } else if (roll < 97) {
        category = XS_CAT_PAPER;
        snprintf(chars, sizeof chars, "%u", 3000 + 500 * s_below(11));
        title = s_titles[s_below(4)];
        if (s_below(3) == 0) {
            grade = "published";
            level = s_below(2) ? "municipal" : "provincial";
        } else {
            static const char *const grades[] = {"1", "2", "3"};
            grade = grades[s_below(3)];
            level = s_below(2) ? "county" : "municipal";
        }
    } else if (roll < 98) {
        category = XS_CAT_PROJECT;
        static const char *const roles[] = {"host", "main_writer", "participant"};
        role = roles[s_below(3)];
        level = s_below(2) ? "county" : "municipal";
        title = s_titles[s_below(4)];
    } else {
        category = XS_CAT_EXAM;
        event = "2024-2025学年教师专业知识考试";
        snprintf(score, sizeof score, "%u.%u", 60 + s_below(41), s_below(10));
    }
    /* Offices write the Chinese label about half the time, the code otherwise. */
    const char *cat = s_below(2) ? xs_category_zh(category) : xs_category_name(category);
    const char *note = s_below(10) < 3 ? s_notes[s_below(6)] : "";
    fprintf(f, "T%04u,%s%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", teacher,
            s_surnames[teacher % 20], s_given[(teacher / 20) % 30], date, cat, role, minutes, hours,
            days, chars, unit, level, grade, title, event, score, note, lessons);
}

int bench_sheet_write(const char *path, unsigned rows, unsigned teachers, unsigned block_days) {
    bench_sheet_t sheet = {rows, teachers, block_days, 0, 0};
    return bench_sheet_write_rows(path, &sheet);
}

int bench_sheet_write_rows(const char *path, const bench_sheet_t *sheet) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("\xEF\xBB\xBF工号,姓名,日期,类别,角色,分钟,学时,天数,字数,单元,级别,等级,题目,活动,成绩,"
          "备注,课时\n",
          f);
    for (unsigned i = sheet->first_row; i < sheet->first_row + sheet->rows; i++)
        s_write_row(f, i, sheet->teachers, sheet->block_days, sheet->first_teacher);
    return fclose(f) == 0 ? 0 : -1;
}
