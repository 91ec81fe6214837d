/* certificate: the 学时证明 page, laid out on xs/draw.h: a title, who and which year, a table of
 * the buckets' hours, the conclusion, the credited activities (as many as fit, then a count of
 * the rest), and the receipt's QR code with how to check it, or 暂定 and no code. */
#include "xs/certificate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs/draw.h"
#include "xs/identity.h"
#include "xs/qr.h"
#include "xs/receipt.h"
#include "xs/text.h"

/* The page's frame, in mm: margins, the content's bottom and the footer's line. */
#define S_LEFT 20.0
#define S_RIGHT 190.0
#define S_WIDTH (S_RIGHT - S_LEFT)
#define S_TOP 16.0
#define S_BOTTOM 280.0
#define S_FOOTER 285.0
/* The bucket table's rows: their usual height and the most room they take. */
#define S_ROW 6.5
#define S_ROW_MIN 4.2
#define S_ROWS_ROOM 95.0
/* An activity's row. */
#define S_ACTIVITY_ROW 5.4
/* A QR code's side: 0.55 mm a module (4 px at 200 dpi), within these bounds. */
#define S_QR_MODULE 0.55
#define S_QR_MIN 36.0
#define S_QR_MAX 70.0
/* The provisional note's box. */
#define S_NOTE_HEIGHT 26.0
/* Room for one line of text a page composes (names and ids are at most 64 bytes). */
#define S_LINE 768
/* Longest path a document is written to. */
#define S_PATH_MAX 4096

struct xs_certificate {
    xs_draw_t *draw;                    /* the PDF being written at part */
    char path[S_PATH_MAX];              /* where it goes when finished */
    char part[S_PATH_MAX + 8];          /* "<path>.part" */
    size_t pages;                       /* pages added */
    xs_receipt_t *receipt;              /* scratch: the page's receipt, opened */
    char text[XS_RECEIPT_TEXT_MAX + 1]; /* scratch: the receipt as text */
};

/* A page being drawn: the first error sticks and stops the drawing. */
typedef struct s_page {
    xs_draw_t *draw;
    const xs_certificate_page_t *in;
    const xs_receipt_t *receipt; /* in->receipt opened; NULL: provisional */
    const xs_qr_t *qr;           /* its text's QR code; NULL: provisional */
    double y;                    /* where the next block starts, mm */
    xs_err err;                  /* the first error */
} s_page_t;

const char *xs_certificate_conclusion_zh(unsigned conclusion) {
    switch (conclusion) {
    case XS_CERTIFICATE_MET:
        return "达标";
    case XS_CERTIFICATE_NOT_MET:
        return "未达标";
    case XS_CERTIFICATE_EXEMPT:
        return "免于认定";
    default:
        return "—";
    }
}

void xs_certificate_activity_of(const xs_record_t *rec, const xs_certify_row_t *row,
                                xs_certificate_activity_t *out) {
    out->date = rec->date;
    out->category = rec->category;
    out->title = rec->event.len ? rec->event : rec->work.len ? rec->work : rec->note;
    out->credited_seconds = row->credited_seconds;
}

/* ---- drawing helpers ---- */

static xs_draw_font_t s_font(double size, int bold) {
    xs_draw_font_t font = {.size = size, .bold = bold};
    return font;
}

/* Draws text at (x, y) unless an error came before; returns the height it took. */
static double s_text(s_page_t *p, double x, double y, const char *text, xs_draw_font_t font) {
    double height = 0;
    if (p->err == XS_OK)
        p->err = xs_draw_text(p->draw, x, y, text, &font, &height);
    return height;
}

/* The height text would take. */
static double s_measure(s_page_t *p, const char *text, xs_draw_font_t font) {
    double height = 0;
    if (p->err == XS_OK)
        p->err = xs_draw_measure(p->draw, text, &font, NULL, &height);
    return height;
}

/* A string of len bytes into a NUL-terminated buffer (cut at a character, never mid-way). */
static void s_copy(char *out, size_t cap, const char *s, size_t len) {
    size_t n = xs_text_utf8_prefix(s, len, cap - 1);
    memcpy(out, s, n);
    out[n] = '\0';
}

/* ---- the page's blocks, top to bottom ---- */

/* The title, the policy's name and a rule under them. */
static void s_title(s_page_t *p) {
    const xs_certificate_page_t *in = p->in;
    xs_draw_font_t font = s_font(22, 1);
    font.width = S_WIDTH;
    font.align = XS_DRAW_CENTER;
    p->y += s_text(p, S_LEFT, p->y, in->receipt ? "继续教育学时证明" : "继续教育学时证明（暂定）",
                   font) +
            1.5;
    font = s_font(11, 0);
    font.width = S_WIDTH;
    font.align = XS_DRAW_CENTER;
    font.gray = 0.25;
    p->y += s_text(p, S_LEFT, p->y, in->policy->name[0] ? in->policy->name : in->policy->id, font);
    p->y += 3;
    if (p->err == XS_OK)
        xs_draw_line(p->draw, S_LEFT, p->y, S_RIGHT, p->y, 0.5, 0);
    p->y += 4;
}

/* Two fields side by side ("教师：…", "学校：…"); right may be NULL. */
static void s_fields(s_page_t *p, const char *left, const char *right) {
    xs_draw_font_t font = s_font(10.5, 0);
    font.width = right ? 84 : S_WIDTH;
    font.ellipsize = 1;
    double h = s_text(p, S_LEFT, p->y, left, font);
    if (right) {
        double hr = s_text(p, S_LEFT + 88, p->y, right, font);
        h = hr > h ? hr : h;
    }
    p->y += h + 1.6;
}

/* Who, where, which year and cycle, which policy, when, and on what the figures rest. */
static void s_identity(s_page_t *p) {
    const xs_certificate_page_t *in = p->in;
    char id[XS_ID_MAX + 1], name[S_LINE / 2], school[XS_ID_MAX + 1];
    char left[S_LINE], right[S_LINE], label[XS_POLICY_CYCLE_LABEL], date[11];
    s_copy(id, sizeof id, in->teacher_id.ptr, in->teacher_id.len);
    s_copy(name, sizeof name, in->teacher_name.ptr ? in->teacher_name.ptr : "",
           in->teacher_name.len);
    s_copy(school, sizeof school, in->school_id.ptr ? in->school_id.ptr : "", in->school_id.len);
    if (name[0])
        snprintf(left, sizeof left, "教师：%s（%s）", name, id);
    else
        snprintf(left, sizeof left, "教师：%s", id);
    snprintf(right, sizeof right, "学校：%s", school[0] ? school : "—");
    s_fields(p, left, right);
    xs_policy_year_label(in->year, label);
    snprintf(left, sizeof left, "学年：%s", label);
    xs_policy_cycle_label(in->policy, xs_policy_cycle_of(in->policy, in->year), label);
    snprintf(right, sizeof right, "周期：%s（%u 学年为一周期）", label, in->policy->cycle_years);
    s_fields(p, left, right);
    xs_date_format(in->issued, date);
    snprintf(left, sizeof left, "认定规则：%s 第 %u 版", in->policy->id, in->policy->version);
    snprintf(right, sizeof right, "%s：%s", in->receipt ? "签发日期" : "打印日期", date);
    s_fields(p, left, right);
    s_fields(p,
             !in->receipt ? "依据：登记记录，暂定计算，尚无县级中心签名的认定回执"
             : in->closed ? "依据：县级中心签名的认定回执；该学年已结账定案"
                          : "依据：县级中心签名的认定回执",
             NULL);
    p->y += 2;
}

/* The period a total row is of: "学年 2025-2026", "学期 2025-2026-1", "周期 2021-2026". */
static void s_period(const xs_policy_t *policy, const xs_certify_total_t *t, char *out,
                     size_t cap) {
    char label[XS_POLICY_SEMESTER_LABEL];
    if (t->scope == XS_SCOPE_SEMESTER) {
        xs_policy_semester_label(t->year, t->semester, label);
        snprintf(out, cap, "学期 %s", label);
    } else if (t->scope == XS_SCOPE_CYCLE) {
        xs_policy_cycle_label(policy, t->year, label);
        snprintf(out, cap, "周期 %s", label);
    } else {
        xs_policy_year_label(t->year, label);
        snprintf(out, cap, "学年 %s", label);
    }
}

/* A row's 是否达标 cell. */
static void s_met(const xs_certificate_page_t *in, const xs_certify_total_t *t, char *out,
                  size_t cap) {
    if (in->conclusion == XS_CERTIFICATE_EXEMPT && t->scope != XS_SCOPE_CYCLE &&
        t->year == in->year)
        snprintf(out, cap, "免于认定");
    else if (t->met == XS_MET_NONE)
        snprintf(out, cap, "—");
    else
        snprintf(out, cap, "%s%s", xs_certify_met_zh(t->met), t->binding ? "" : "（建议）");
}

/* The columns of the bucket table: x, width and alignment. */
static const struct {
    double x, width;
    int align;
    const char *head;
} s_cols[5] = {
    {S_LEFT + 2, 44, XS_DRAW_LEFT, "类别组"},       {S_LEFT + 46, 36, XS_DRAW_LEFT, "期间"},
    {S_LEFT + 80, 24, XS_DRAW_RIGHT, "已认定学时"}, {S_LEFT + 106, 24, XS_DRAW_RIGHT, "要求学时"},
    {S_LEFT + 136, 34, XS_DRAW_LEFT, "是否达标"},
};

/* One table row of five cells at p->y, row_h high. */
static void s_row(s_page_t *p, const char *const cells[5], double row_h, double size, int bold) {
    for (int c = 0; c < 5; c++) {
        xs_draw_font_t font = s_font(size, bold);
        font.width = s_cols[c].width;
        font.align = s_cols[c].align;
        font.ellipsize = 1;
        s_text(p, s_cols[c].x, p->y + (row_h - size * 0.3528 * 1.25) / 2, cells[c], font);
    }
    p->y += row_h;
    if (p->err == XS_OK)
        xs_draw_line(p->draw, S_LEFT, p->y, S_RIGHT, p->y, 0.2, 0.6);
}

/* The buckets' hours: a head row, then a row per total (as many as S_ROWS_ROOM holds). */
static void s_buckets(s_page_t *p) {
    const xs_certificate_page_t *in = p->in;
    double row_h = S_ROW, size = 10;
    size_t rows = in->total_count, shown = rows;
    if (rows * S_ROW > S_ROWS_ROOM) {
        row_h = S_ROWS_ROOM / (double)rows < S_ROW_MIN ? S_ROW_MIN : S_ROWS_ROOM / (double)rows;
        size = 8;
        size_t fit = (size_t)(S_ROWS_ROOM / row_h);
        shown = rows <= fit ? rows : fit - 1;
    }
    p->y += s_text(p, S_LEFT, p->y, "学时认定", s_font(12, 1)) + 1.5;
    if (p->err == XS_OK)
        xs_draw_rect(p->draw, S_LEFT, p->y, S_WIDTH, S_ROW, 0, 0.88);
    const char *head[5];
    for (int c = 0; c < 5; c++)
        head[c] = s_cols[c].head;
    s_row(p, head, S_ROW, 9.5, 1);
    for (size_t i = 0; i < shown && p->err == XS_OK; i++) {
        const xs_certify_total_t *t = &in->totals[i];
        char bucket[16], period[40], credited[24], required[24] = "—", met[40];
        const char *label = t->bucket < xs_policy_bucket_count(in->policy)
                                ? xs_policy_bucket_label(in->policy, t->bucket)
                                : NULL;
        if (!label) {
            snprintf(bucket, sizeof bucket, "#%u", t->bucket);
            label = bucket;
        }
        s_period(in->policy, t, period, sizeof period);
        xs_certify_format_hours(credited, sizeof credited, t->credited_seconds);
        if (t->required_seconds)
            xs_certify_format_hours(required, sizeof required, t->required_seconds);
        s_met(in, t, met, sizeof met);
        const char *cells[5] = {label, period, credited, required, met};
        s_row(p, cells, row_h, size, 0);
    }
    if (shown < rows) {
        char more[S_LINE];
        snprintf(more, sizeof more, "另有 %zu 行，见认定回执 (%zu more rows)", rows - shown,
                 rows - shown);
        p->y += s_text(p, S_LEFT + 2, p->y + 0.8, more, s_font(8, 0)) + 1;
    }
    p->y += 4;
}

/* 认定结论 and, when given, why. */
static void s_conclusion(s_page_t *p) {
    const xs_certificate_page_t *in = p->in;
    char line[S_LINE];
    snprintf(line, sizeof line, "认定结论：%s", xs_certificate_conclusion_zh(in->conclusion));
    p->y += s_text(p, S_LEFT, p->y, line, s_font(14, 1)) + 1;
    if (in->reason && in->reason[0]) {
        xs_draw_font_t font = s_font(9.5, 0);
        font.width = S_WIDTH;
        font.gray = 0.2;
        char why[S_LINE * 2];
        snprintf(why, sizeof why, "原因：%s", in->reason);
        p->y += s_text(p, S_LEFT, p->y, why, font);
    }
    p->y += 4;
}

/* The columns of the activity list. */
static const struct {
    double x, width;
    int align;
    const char *head;
} s_acols[4] = {
    {S_LEFT + 2, 24, XS_DRAW_LEFT, "日期"},
    {S_LEFT + 28, 34, XS_DRAW_LEFT, "类别"},
    {S_LEFT + 64, 80, XS_DRAW_LEFT, "活动"},
    {S_LEFT + 146, 22, XS_DRAW_RIGHT, "学时"},
};

/* One activity row of four cells at p->y. */
static void s_arow(s_page_t *p, const char *const cells[4], double size, int bold) {
    for (int c = 0; c < 4; c++) {
        xs_draw_font_t font = s_font(size, bold);
        font.width = s_acols[c].width;
        font.align = s_acols[c].align;
        font.ellipsize = 1;
        s_text(p, s_acols[c].x, p->y + (S_ACTIVITY_ROW - size * 0.3528 * 1.25) / 2, cells[c], font);
    }
    p->y += S_ACTIVITY_ROW;
}

/* The credited activities, down to bottom: as many as fit, the last line counting the rest. */
static void s_activities(s_page_t *p, double bottom) {
    const xs_certificate_page_t *in = p->in;
    uint64_t seconds = 0;
    char line[S_LINE], hours[24];
    for (size_t i = 0; i < in->activity_count; i++)
        seconds += in->activities[i].credited_seconds;
    xs_certify_format_hours(hours, sizeof hours, seconds);
    snprintf(line, sizeof line, "计入学时的活动（共 %zu 项，%s 学时）", in->activity_count, hours);
    p->y += s_text(p, S_LEFT, p->y, line, s_font(12, 1)) + 1.5;
    if (in->activity_count == 0) {
        p->y += s_text(p, S_LEFT + 2, p->y, "（无）", s_font(9.5, 0));
        return;
    }
    if (p->err == XS_OK)
        xs_draw_rect(p->draw, S_LEFT, p->y, S_WIDTH, S_ACTIVITY_ROW, 0, 0.88);
    const char *head[4];
    for (int c = 0; c < 4; c++)
        head[c] = s_acols[c].head;
    s_arow(p, head, 9, 1);
    size_t fit = bottom > p->y ? (size_t)((bottom - p->y) / S_ACTIVITY_ROW) : 0;
    if (fit == 0)
        fit = 1;
    size_t shown = in->activity_count <= fit ? in->activity_count : fit - 1;
    for (size_t i = 0; i < shown && p->err == XS_OK; i++) {
        const xs_certificate_activity_t *a = &in->activities[i];
        char date[11], title[S_LINE], credit[24];
        const char *category = xs_policy_category_label(in->policy, a->category);
        xs_date_format(a->date, date);
        s_copy(title, sizeof title, a->title.ptr ? a->title.ptr : "", a->title.len);
        xs_certify_format_hours(credit, sizeof credit, a->credited_seconds);
        const char *cells[4] = {date, category ? category : "?", title, credit};
        s_arow(p, cells, 9, 0);
    }
    if (shown < in->activity_count) {
        size_t more = in->activity_count - shown;
        snprintf(line, sizeof line, "另有 %zu 项，见明细 (%zu more)", more, more);
        xs_draw_font_t font = s_font(9, 0);
        font.gray = 0.2;
        s_text(p, S_LEFT + 2, p->y + 0.6, line, font);
        p->y += S_ACTIVITY_ROW;
    }
}

/* One line of the text beside the QR code. */
typedef struct s_line {
    const char *text;
    double size; /* points */
    int bold, mono;
    double gray;
} s_line_t;

/* The text beside the QR code, at (x, y) width wide; draw 0 only measures. Returns its height. */
static double s_check_text(s_page_t *p, double x, double y, double width, int draw) {
    const xs_receipt_t *r = p->receipt;
    char hex[2 * XS_SIGN_PK_BYTES + 1], key[2][48], generation[S_LINE];
    xs_hex_encode(r->hub, XS_SIGN_PK_BYTES, hex);
    /* The key in two lines of four groups of 8 hex digits, as `xueshi verify` prints it whole. */
    for (int half = 0; half < 2; half++) {
        const char *h = hex + half * 32;
        snprintf(key[half], sizeof key[half], "%.8s %.8s %.8s %.8s", h, h + 8, h + 16, h + 24);
    }
    snprintf(generation, sizeof generation, "回执代次 (generation) %llu%s",
             (unsigned long long)r->generation,
             p->in->closed ? "；该学年已结账定案 (closed and final)" : "");
    const s_line_t lines[] = {
        {"扫码核验 (scan to verify)", 11, 1, 0, 0},
        {"xueshi verify --scan 扫得的文字 --hub-key 县级中心公钥", 9, 0, 0, 0},
        {"二维码内是县级中心签名的认定回执原文：改动本页的学时，或二维码中的任何一个字符，"
         "都无法通过核验。",
         8.5, 0, 0, 0.25},
        {"县级中心签名公钥 (hub signing key)：", 8.5, 0, 0, 0},
        {key[0], 8.5, 0, 1, 0},
        {key[1], 8.5, 0, 1, 0},
        {generation, 8.5, 0, 0, 0.25},
    };
    double top = y;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        xs_draw_font_t font = s_font(lines[i].size, lines[i].bold);
        font.mono = lines[i].mono;
        font.width = width;
        font.gray = lines[i].gray;
        y += (draw ? s_text(p, x, y, lines[i].text, font) : s_measure(p, lines[i].text, font)) +
             (i == 0 ? 1.5 : 0.8);
    }
    return y - top;
}

/* The QR code's side, in mm. */
static double s_qr_side(const xs_qr_t *qr) {
    double side = (qr->width + 8) * S_QR_MODULE;
    return side < S_QR_MIN ? S_QR_MIN : side > S_QR_MAX ? S_QR_MAX : side;
}

/* The height the bottom block takes: the QR code and its text, or the provisional note. */
static double s_bottom_height(s_page_t *p) {
    if (!p->qr)
        return S_NOTE_HEIGHT;
    double side = s_qr_side(p->qr);
    double text = s_check_text(p, 0, 0, S_WIDTH - side - 6, 0);
    return side > text ? side : text;
}

/* The bottom block, from top: the QR code and how to check it, or why there is none. */
static void s_bottom(s_page_t *p, double top) {
    if (p->err != XS_OK)
        return;
    xs_draw_line(p->draw, S_LEFT, top - 3, S_RIGHT, top - 3, 0.3, 0.5);
    if (p->qr) {
        double side = s_qr_side(p->qr);
        xs_draw_modules(p->draw, S_LEFT, top, side, p->qr->modules, p->qr->width);
        s_check_text(p, S_LEFT + side + 6, top + 2, S_WIDTH - side - 6, 1);
        return;
    }
    xs_draw_rect(p->draw, S_LEFT, top, S_WIDTH, S_NOTE_HEIGHT, 0.4, 0.4);
    double y = top + 3;
    y += s_text(p, S_LEFT + 4, y, "暂定 (provisional)，无二维码", s_font(12, 1)) + 1.5;
    xs_draw_font_t font = s_font(9, 0);
    font.width = S_WIDTH - 8;
    s_text(p, S_LEFT + 4, y,
           "尚无县级中心签发、覆盖该学年的认定回执：以上学时为暂定结果，不作认定依据，不附"
           "二维码。取得回执后重新打印，即得可扫码核验的证明。(Provisional: no hub-signed "
           "receipt covers this year. Print again once one does, for a certificate that can be "
           "checked.)",
           font);
}

/* The page number and the teacher, small, under everything. */
static void s_footer(s_page_t *p, size_t number) {
    char line[S_LINE], id[XS_ID_MAX + 1];
    s_copy(id, sizeof id, p->in->teacher_id.ptr, p->in->teacher_id.len);
    snprintf(line, sizeof line, "xueshi 学时认定 · %s · 第 %zu 页", id, number);
    xs_draw_font_t font = s_font(7.5, 0);
    font.width = S_WIDTH;
    font.align = XS_DRAW_CENTER;
    font.gray = 0.5;
    s_text(p, S_LEFT, S_FOOTER, line, font);
}

/* ---- the document ---- */

xs_err xs_certificate_begin(xs_certificate_t **out, const char *path) {
    *out = NULL;
    size_t len = strlen(path);
    if (len == 0 || len >= S_PATH_MAX)
        return XS_ETOOBIG;
    xs_certificate_t *doc = calloc(1, sizeof *doc);
    if (!doc || !(doc->receipt = malloc(sizeof *doc->receipt))) {
        free(doc);
        return XS_ENOMEM;
    }
    memcpy(doc->path, path, len + 1);
    snprintf(doc->part, sizeof doc->part, "%s.part", path);
    xs_err err = xs_draw_open(&doc->draw, doc->part);
    if (err != XS_OK) {
        free(doc->receipt);
        free(doc);
        return err;
    }
    *out = doc;
    return XS_OK;
}

/* Whether the page's strings are what a page may show. */
static int s_page_ok(const xs_certificate_page_t *in) {
    const xs_str_t *strs[3] = {&in->teacher_id, &in->teacher_name, &in->school_id};
    if (!in->policy || in->teacher_id.len == 0 || in->teacher_id.len > XS_ID_MAX ||
        !in->teacher_id.ptr || in->school_id.len > XS_ID_MAX ||
        in->teacher_name.len > S_LINE / 2 - 1 || (in->total_count && !in->totals) ||
        (in->activity_count && !in->activities))
        return 0;
    for (int i = 0; i < 3; i++)
        if (strs[i]->len && (!strs[i]->ptr || !xs_text_utf8_valid(strs[i]->ptr, strs[i]->len)))
            return 0;
    for (size_t i = 0; i < in->activity_count; i++) {
        const xs_str_t *t = &in->activities[i].title;
        if (t->len && (!t->ptr || !xs_text_utf8_valid(t->ptr, t->len)))
            return 0;
    }
    return !in->reason || xs_text_utf8_valid(in->reason, strlen(in->reason));
}

/* Opens the page's receipt into doc->receipt and makes its QR code into *qr. */
static xs_err s_receipt_qr(xs_certificate_t *doc, const xs_certificate_page_t *in, xs_qr_t **qr) {
    size_t text_len;
    xs_err err = xs_receipt_open(in->receipt, in->receipt_len, NULL, doc->receipt);
    if (err != XS_OK)
        return err;
    if (doc->receipt->teacher_id.len != in->teacher_id.len ||
        memcmp(doc->receipt->teacher_id.ptr, in->teacher_id.ptr, in->teacher_id.len) != 0)
        return XS_EINVAL;
    err = xs_receipt_text_encode(in->receipt, in->receipt_len, doc->text, sizeof doc->text,
                                 &text_len);
    if (err == XS_OK)
        err = xs_qr_encode(qr, doc->text, text_len);
    return err;
}

xs_err xs_certificate_add(xs_certificate_t *doc, const xs_certificate_page_t *page) {
    xs_qr_t *qr = NULL;
    if (!s_page_ok(page))
        return XS_EINVAL;
    if (page->receipt) {
        xs_err err = s_receipt_qr(doc, page, &qr);
        if (err != XS_OK)
            return err;
    }
    s_page_t p = {doc->draw, page, page->receipt ? doc->receipt : NULL, qr, S_TOP, XS_OK};
    if (doc->pages > 0)
        p.err = xs_draw_page_end(doc->draw);
    /* Behind everything: 暂定 across a provisional page. */
    if (p.err == XS_OK && !qr)
        p.err = xs_draw_watermark(doc->draw, "暂定", 150, 45, 0.86);
    double bottom = S_BOTTOM - s_bottom_height(&p);
    s_title(&p);
    s_identity(&p);
    s_buckets(&p);
    s_conclusion(&p);
    s_activities(&p, bottom - 5);
    s_bottom(&p, bottom);
    s_footer(&p, doc->pages + 1);
    xs_qr_destroy(&qr);
    if (p.err == XS_OK)
        doc->pages++;
    return p.err;
}

size_t xs_certificate_pages(const xs_certificate_t *doc) {
    return doc->pages;
}

xs_err xs_certificate_end(xs_certificate_t **doc) {
    if (!doc || !*doc)
        return XS_OK;
    xs_certificate_t *d = *doc;
    *doc = NULL;
    xs_err err = xs_draw_close(&d->draw);
    if (err == XS_OK && d->pages == 0)
        err = XS_EINVAL;
    if (err == XS_OK && rename(d->part, d->path) != 0)
        err = XS_EIO;
    if (err != XS_OK)
        remove(d->part);
    free(d->receipt);
    free(d);
    return err;
}

void xs_certificate_abandon(xs_certificate_t **doc) {
    if (!doc || !*doc)
        return;
    xs_certificate_t *d = *doc;
    *doc = NULL;
    xs_err ignored = xs_draw_close(&d->draw);
    (void)ignored;
    remove(d->part);
    free(d->receipt);
    free(d);
}
