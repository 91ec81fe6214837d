/* xueshi-node review: the school's review (学校审核) of its activity records: list the ones not
 * yet reviewed, approve or return them. Each verdict is one review record (records.md §3.1),
 * appended, sealed and synced like any record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "node.h"
#include "reviews.h"
#include "xs/certify.h"
#include "xs/csv.h"
#include "xs/text.h"

/* Most record → review pairs a review command lists after its summary line. */
#define S_SHOW_PAIRS 20

#define S_USAGE                                                                                     \
    "xueshi-node review --dir DIR [--teacher T] [--year 2025-2026] [--format table|csv]\n"          \
    "       (列出未审核的活动记录 lists the activity records not yet reviewed)\n"         \
    "xueshi-node review --dir DIR --approve IDS|--all [--teacher T] [--year 2025-2026]\n"           \
    "       [--operator NAME]   (审核通过 approve)\n"                                           \
    "xueshi-node review --dir DIR --return IDS --reason TEXT [--operator NAME]   (退回 return)\n" \
    "  IDS: xueshi-node list 显示的编号，逗号分隔，可写范围 (the ids list shows: 3,5,7-9)"

/* Most records one command reviews: a school's year is far fewer. */
#define S_IDS_MAX 100000

/* What the user asked. */
typedef struct s_query {
    const char *dir;
    const char *teacher;   /* only this teacher's records (listing, --all), or NULL */
    int32_t from, to;      /* only activity dates in this range (listing, --all) */
    int first_year;        /* --year's first calendar year, or 0 */
    int csv;               /* list as CSV */
    int all;               /* --all: approve every record not yet reviewed (of the filters) */
    uint8_t verdict;       /* XS_VERDICT_APPROVED or _RETURNED; XS_VERDICT_NONE: list */
    const char *reason;    /* --reason: the note of a return */
    const char *operator_; /* --operator, or NULL */
    uint64_t *ids;         /* --approve or --return ids, ascending, distinct */
    size_t nids;
} s_query_t;

/* Adds ids lo..hi to q->ids; XS_ETOOBIG past S_IDS_MAX. */
static xs_err s_add_range(s_query_t *q, uint64_t lo, uint64_t hi, size_t *cap) {
    for (uint64_t id = lo;; id++) {
        if (q->nids == *cap) {
            size_t grown = *cap ? *cap * 2 : 64;
            uint64_t *ids = q->nids >= S_IDS_MAX ? NULL : realloc(q->ids, grown * sizeof *ids);
            if (!ids)
                return q->nids >= S_IDS_MAX ? XS_ETOOBIG : XS_ENOMEM;
            q->ids = ids;
            *cap = grown;
        }
        q->ids[q->nids++] = id;
        if (id == hi)
            return XS_OK;
    }
}

static int s_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Parses "3,5,7-9" into q->ids, sorted and distinct; XS_EINVAL with a message when it is not
 * such a list. */
static xs_err s_parse_ids(s_query_t *q, const char *text) {
    size_t cap = 0;
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *dash = memchr(p, '-', len);
        uint64_t lo, hi;
        const char *t = p;
        size_t tl = dash ? (size_t)(dash - p) : len;
        xs_text_trim(&t, &tl);
        xs_err err = xs_text_parse_fixed(t, tl, 0, UINT64_MAX, &lo);
        hi = lo;
        if (err == XS_OK && dash) {
            t = dash + 1;
            tl = len - (size_t)(dash - p) - 1;
            xs_text_trim(&t, &tl);
            err = xs_text_parse_fixed(t, tl, 0, UINT64_MAX, &hi);
        }
        if (err != XS_OK || lo == 0 || hi < lo || hi - lo >= S_IDS_MAX) {
            fprintf(stderr, "xueshi-node: 记录编号无效 (invalid record ids): %.*s\n", (int)len, p);
            return XS_EINVAL;
        }
        if ((err = s_add_range(q, lo, hi, &cap)) != XS_OK) {
            fprintf(stderr, "xueshi-node: 一次最多审核 %d 条记录 (at most %d records at once)\n",
                    S_IDS_MAX, S_IDS_MAX);
            return XS_EINVAL;
        }
        if (!end)
            break;
        p = end + 1;
    }
    qsort(q->ids, q->nids, sizeof *q->ids, s_cmp_u64);
    size_t kept = 0;
    for (size_t i = 0; i < q->nids; i++)
        if (!kept || q->ids[kept - 1] != q->ids[i])
            q->ids[kept++] = q->ids[i];
    q->nids = kept;
    return XS_OK;
}

/* Reads the options into *q; XS_EINVAL, usage or refusal printed, when they are not a review
 * command (exit code 2). */
static xs_err s_parse(int argc, char **argv, s_query_t *q, const char **year) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL},    {"teacher", 1, NULL}, {"year", 1, NULL},
                           {"format", 1, NULL}, {"approve", 1, NULL}, {"all", 0, NULL},
                           {"return", 1, NULL}, {"reason", 1, NULL},  {"operator", 1, NULL},
                           {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    memset(q, 0, sizeof *q);
    q->from = INT32_MIN;
    q->to = INT32_MAX;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !(q->dir = xs_cli_get(opts, nopts, "dir")))
        goto usage;
    const char *approve = xs_cli_get(opts, nopts, "approve");
    const char *ret = xs_cli_get(opts, nopts, "return");
    const char *format = xs_cli_get(opts, nopts, "format");
    q->all = xs_cli_get(opts, nopts, "all") != NULL;
    q->teacher = xs_cli_get(opts, nopts, "teacher");
    q->reason = xs_cli_get(opts, nopts, "reason");
    q->operator_ = xs_cli_get(opts, nopts, "operator");
    *year = xs_cli_get(opts, nopts, "year");
    /* One action at a time; a return says why; --teacher and --year choose for a list or
     * --all, never among ids given one by one. */
    if ((approve != NULL) + (ret != NULL) + q->all > 1 || (ret != NULL) != (q->reason != NULL) ||
        ((approve || ret) && (q->teacher || *year)) || (format && (approve || ret || q->all)))
        goto usage;
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "table") != 0)
        goto usage;
    q->csv = format && strcmp(format, "csv") == 0;
    q->verdict = ret ? XS_VERDICT_RETURNED : (approve || q->all) ? XS_VERDICT_APPROVED : 0;
    size_t rlen = q->reason ? strlen(q->reason) : 0;
    if (q->reason && (rlen == 0 || rlen > XS_NOTE_MAX || !xs_text_utf8_valid(q->reason, rlen))) {
        fprintf(stderr,
                "xueshi-node: --reason 须为 1 至 %d 字节的文字 (the reason must be 1 to %d "
                "bytes of text)\n",
                XS_NOTE_MAX, XS_NOTE_MAX);
        return XS_EINVAL;
    }
    if (q->operator_ && (strlen(q->operator_) == 0 || strlen(q->operator_) > XS_ID_MAX ||
                         !xs_text_utf8_valid(q->operator_, strlen(q->operator_)))) {
        fprintf(stderr, "xueshi-node: --operator 无效 (invalid operator)\n");
        return XS_EINVAL;
    }
    if (*year && node_parse_year(*year, &q->first_year) != XS_OK)
        return XS_EINVAL;
    if ((approve || ret) && s_parse_ids(q, approve ? approve : ret) != XS_OK)
        return XS_EINVAL;
    return XS_OK;
usage:
    node_usage(S_USAGE);
    return XS_EINVAL;
}

/* Sets q's date range to its academic year: the policy says when a year starts, 09-01
 * without one. */
static void s_year_range(const xs_policy_t *policy, s_query_t *q) {
    if (!q->first_year)
        return;
    if (policy) {
        q->from = xs_policy_semester_start(policy, q->first_year, 1);
        q->to = xs_policy_semester_start(policy, q->first_year + 1, 1) - 1;
    } else {
        q->from = xs_date_from_civil(q->first_year, 9, 1);
        q->to = xs_date_from_civil(q->first_year + 1, 9, 1) - 1;
    }
}

/* ---- the node's records, decoded ---- */

/* Every valid record of the node, with what list shows beside them. Records borrow the
 * transaction they were read in. */
typedef struct s_book {
    xs_record_t *records; /* in sequence order */
    uint64_t *seqs;       /* their sequence numbers, ascending */
    size_t count, cap;
    uint64_t *voided; /* sequence numbers a correction voids, sorted */
    size_t nvoided, voided_cap;
    node_reviews_t reviews; /* each record's latest review */
    uint64_t corrupted;     /* records left out because they are corrupted */
} s_book_t;

static xs_err s_load_record(void *ctx, uint64_t seq, const xs_bytes_t *key,
                            const xs_bytes_t *bytes) {
    s_book_t *b = ctx;
    xs_record_t rec;
    char why[NODE_WHY_MAX];
    if (node_record_read(key, bytes, &seq, &rec, why) != XS_OK) {
        xs_log("记录 %llu 数据已损坏，已跳过 (record %llu is corrupted; skipped): %s",
               (unsigned long long)seq, (unsigned long long)seq, why);
        b->corrupted++;
        return XS_OK;
    }
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        xs_record_t *r = realloc(b->records, cap * sizeof *r);
        if (r)
            b->records = r;
        uint64_t *s = realloc(b->seqs, cap * sizeof *s);
        if (s)
            b->seqs = s;
        if (!r || !s)
            return XS_ENOMEM;
        b->cap = cap;
    }
    if (rec.kind == XS_KIND_CORRECTION) {
        if (b->nvoided == b->voided_cap) {
            size_t cap = b->voided_cap ? b->voided_cap * 2 : 64;
            uint64_t *v = realloc(b->voided, cap * sizeof *v);
            if (!v)
                return XS_ENOMEM;
            b->voided = v;
            b->voided_cap = cap;
        }
        b->voided[b->nvoided++] = rec.voids;
    }
    b->records[b->count] = rec;
    b->seqs[b->count++] = seq;
    return node_reviews_add(&b->reviews, seq, &rec);
}

/* Reads every record of txn into *b. */
static xs_err s_load(xs_txn_t *txn, s_book_t *b) {
    xs_err err = node_records_raw(txn, s_load_record, b);
    if (err != XS_OK)
        return err;
    if (b->nvoided)
        qsort(b->voided, b->nvoided, sizeof *b->voided, s_cmp_u64);
    node_reviews_sort(&b->reviews);
    return XS_OK;
}

static void s_book_free(s_book_t *b) {
    free(b->records);
    free(b->seqs);
    free(b->voided);
    node_reviews_free(&b->reviews);
    memset(b, 0, sizeof *b);
}

static int s_is_voided(const s_book_t *b, uint64_t seq) {
    return b->nvoided && bsearch(&seq, b->voided, b->nvoided, sizeof seq, s_cmp_u64) != NULL;
}

/* Index of record seq in b, or -1. */
static long s_find(const s_book_t *b, uint64_t seq) {
    const uint64_t *hit = b->count ? bsearch(&seq, b->seqs, b->count, sizeof seq, s_cmp_u64) : NULL;
    return hit ? (long)(hit - b->seqs) : -1;
}

/* Whether record i is an activity not yet reviewed nor voided, of q's teacher and dates. */
static int s_pending(const s_query_t *q, const s_book_t *b, size_t i) {
    const xs_record_t *rec = &b->records[i];
    if (rec->kind != XS_KIND_ACTIVITY || s_is_voided(b, b->seqs[i]) ||
        node_reviews_find(&b->reviews, b->seqs[i]))
        return 0;
    if (q->teacher && (rec->teacher_id.len != strlen(q->teacher) ||
                       memcmp(rec->teacher_id.ptr, q->teacher, rec->teacher_id.len) != 0))
        return 0;
    return rec->date >= q->from && rec->date <= q->to;
}

/* ---- listing ---- */

/* "《work》 [event]": what the record is about. */
static void s_about(const xs_record_t *rec, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    if (rec->work.len)
        n += (size_t)snprintf(out, cap, "《%.*s》", (int)rec->work.len, rec->work.ptr);
    if (rec->event.len && n < cap)
        snprintf(out + n, cap - n, "%s[%.*s]", n ? " " : "", (int)rec->event.len, rec->event.ptr);
}

/* Prints the records not yet reviewed, with the credit the node's policy gives each now
 * (rows: NULL without a policy). */
static xs_err s_list(const s_query_t *q, const xs_policy_t *policy, const s_book_t *b,
                     const xs_certify_row_t *rows) {
    static const char *const heads[] = {"编号", "教师", "日期", "类别", "学时", "内容"};
    char id[24], day[11], hours[24], about[XS_WORK_MAX + XS_EVENT_MAX + 16], code[16];
    size_t shown = 0;
    if (q->csv) {
        if (xs_csv_write_bom(stdout) != XS_OK)
            return XS_EIO;
        for (size_t k = 0; k < 6; k++)
            if (xs_csv_write_cell(stdout, heads[k], strlen(heads[k]), k == 5) != XS_OK)
                return XS_EIO;
    } else {
        node_pad(heads[0], 8);
        node_pad(heads[1], 12);
        node_pad(heads[2], 12);
        node_pad(heads[3], 14);
        node_pad(heads[4], 10);
        puts(heads[5]);
    }
    for (size_t i = 0; i < b->count; i++) {
        if (!s_pending(q, b, i))
            continue;
        const xs_record_t *rec = &b->records[i];
        snprintf(id, sizeof id, "%llu", (unsigned long long)b->seqs[i]);
        xs_date_format(rec->date, day);
        hours[0] = '\0';
        if (rows)
            xs_certify_format_hours(hours, sizeof hours, rows[i].credited_seconds);
        const char *label = xs_policy_category_label(policy, rec->category);
        if (!label) {
            snprintf(code, sizeof code, "?%u", rec->category);
            label = code;
        }
        s_about(rec, about, sizeof about);
        shown++;
        if (q->csv) {
            const char *cells[] = {id, NULL, day, label, hours, about};
            for (size_t k = 0; k < 6; k++) {
                xs_err err =
                    k == 1 ? xs_csv_write_cell(stdout, rec->teacher_id.ptr, rec->teacher_id.len, 0)
                           : xs_csv_write_cell(stdout, cells[k], strlen(cells[k]), k == 5);
                if (err != XS_OK)
                    return XS_EIO;
            }
            continue;
        }
        node_pad(id, 8);
        node_pad_n(rec->teacher_id.ptr, rec->teacher_id.len, 12);
        node_pad(day, 12);
        node_pad(label, 14);
        node_pad(hours, 10);
        puts(about);
    }
    if (!q->csv)
        printf("共 %zu 条未审核 (%zu records not yet reviewed)\n", shown, shown);
    return XS_OK;
}

/* ---- recording verdicts ---- */

/* One write: every target checked, then one review appended per target. */
typedef struct s_write {
    const s_query_t *q;
    const node_t *node;
    uint64_t *targets; /* the records reviewed; from --all, found in the transaction */
    size_t ntargets;
    uint64_t first_seq; /* out: the first review's sequence number */
    char refusal[256];  /* out: why nothing was written, or "" */
} s_write_t;

/* Checks that every id names an activity that is not voided; else sets the refusal. */
static int s_check_targets(s_write_t *w, const s_book_t *b) {
    for (size_t k = 0; k < w->ntargets; k++) {
        uint64_t seq = w->targets[k];
        long i = s_find(b, seq);
        const char *why = NULL;
        if (i < 0)
            why = "不存在 (no such record)";
        else if (b->records[i].kind == XS_KIND_CORRECTION)
            why = "是更正记录，只能审核活动记录 (a correction; only activity records are "
                  "reviewed)";
        else if (b->records[i].kind == XS_KIND_REVIEW)
            why = "是审核记录，只能审核活动记录 (a review; only activity records are reviewed)";
        else if (s_is_voided(b, seq))
            why = "已作废 (the record is voided)";
        if (why) {
            snprintf(w->refusal, sizeof w->refusal, "记录 %llu：%s", (unsigned long long)seq, why);
            return 0;
        }
    }
    return 1;
}

/* Appends the review of record seq: its teacher and school (the node's when it names none),
 * today, the verdict and, for a return, the reason. Reads the target again: what was read
 * before the last write is no longer valid. */
static xs_err s_append_review(xs_txn_t *txn, s_write_t *w, uint64_t seq, uint64_t *review_seq) {
    const s_query_t *q = w->q;
    xs_bytes_t val;
    xs_record_t target, rec;
    xs_err err = node_record_get(txn, seq, &val);
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    if (xs_record_decode_bytes(val.ptr, val.len, &target) != XS_OK)
        return XS_ECORRUPT;
    xs_record_init(&rec);
    rec.kind = XS_KIND_REVIEW;
    rec.teacher_id = target.teacher_id;
    rec.school_id = target.school_id.len ? target.school_id
                                         : (xs_str_t){w->node->school, strlen(w->node->school)};
    rec.date = xs_date_today();
    rec.reviews = seq;
    rec.verdict = q->verdict;
    rec.recorded_at = (int64_t)time(NULL);
    rec.present |= (1u << XS_F_KIND) | (1u << XS_F_TEACHER_ID) | (1u << XS_F_SCHOOL_ID) |
                   (1u << XS_F_DATE) | (1u << XS_F_REVIEWS) | (1u << XS_F_VERDICT) |
                   (1u << XS_F_RECORDED_AT);
    if (q->reason) {
        rec.note = (xs_str_t){q->reason, (uint32_t)strlen(q->reason)};
        rec.present |= 1u << XS_F_NOTE;
    }
    if (q->operator_) {
        rec.operator_ = (xs_str_t){q->operator_, (uint32_t)strlen(q->operator_)};
        rec.present |= 1u << XS_F_OPERATOR;
    }
    xs_field field;
    if (xs_record_check(&rec, &field) != XS_REASON_NONE)
        return XS_ECORRUPT; /* the target lacks its teacher: not a record this node wrote */
    xs_writer_t enc;
    node_dedupe_t dedupe;
    xs_writer_init(&enc, XS_RECORD_MAX);
    xs_record_encode(&rec, &enc);
    node_dedupe_key(&rec, &dedupe);
    err = xs_writer_err(&enc);
    if (err == XS_OK)
        err = node_append(txn, enc.data, enc.len, &dedupe, review_seq);
    xs_writer_free(&enc);
    return err;
}

static xs_err s_write(xs_txn_t *txn, void *ctx) {
    s_write_t *w = ctx;
    s_book_t b = {0};
    /* The store may run this step again from the start (a grown map): nothing carries over. */
    if (w->targets != w->q->ids)
        free(w->targets);
    w->targets = NULL;
    w->refusal[0] = '\0';
    w->ntargets = 0;
    xs_err err = s_load(txn, &b);
    if (err == XS_OK && w->q->all) {
        /* --all: the records not yet reviewed, chosen now, inside the write. */
        if (b.count && !(w->targets = malloc(b.count * sizeof *w->targets)))
            err = XS_ENOMEM;
        for (size_t i = 0; err == XS_OK && i < b.count; i++)
            if (s_pending(w->q, &b, i))
                w->targets[w->ntargets++] = b.seqs[i];
    } else if (err == XS_OK) {
        w->targets = w->q->ids;
        w->ntargets = w->q->nids;
    }
    if (err == XS_OK && !s_check_targets(w, &b))
        err = XS_EINVAL;
    s_book_free(&b); /* borrowed the store: no longer valid after the first write */
    for (size_t k = 0; err == XS_OK && k < w->ntargets; k++) {
        uint64_t seq;
        err = s_append_review(txn, w, w->targets[k], &seq);
        if (k == 0)
            w->first_seq = seq;
    }
    return err;
}

/* Records the verdicts: one review per record, all or none. The exit code. */
static int s_review(const s_query_t *q, node_t *node) {
    s_write_t w = {.q = q, .node = node};
    xs_err err = xs_store_update(node->store, s_write, &w);
    int rc = 0;
    if (w.refusal[0]) {
        fprintf(stderr,
                "xueshi-node: 不能审核，未写入任何记录 (cannot review; nothing written): %s\n",
                w.refusal);
        rc = 2;
    } else if (err != XS_OK) {
        xs_log_err(err, "审核失败，未写入 (nothing written)");
        rc = node_exit_code(err, q->dir);
    } else if (w.ntargets == 0) {
        printf("没有未审核的记录 (no records left to review)\n");
    } else {
        const char *zh = q->verdict == XS_VERDICT_RETURNED ? "退回" : "审核通过";
        const char *en = q->verdict == XS_VERDICT_RETURNED ? "returned" : "approved";
        printf("已%s %zu 条记录 (%zu records %s)，审核记录 (reviews) %llu-%llu\n", zh, w.ntargets,
               w.ntargets, en, (unsigned long long)w.first_seq,
               (unsigned long long)(w.first_seq + w.ntargets - 1));
        /* Which review records which record: worth reading for a few, noise for a term. */
        for (size_t k = 0; w.ntargets <= S_SHOW_PAIRS && k < w.ntargets; k++)
            printf("  记录 (record) %llu → 审核记录 (review) %llu\n",
                   (unsigned long long)w.targets[k], (unsigned long long)(w.first_seq + k));
    }
    if (w.targets != q->ids)
        free(w.targets);
    return rc;
}

/* Lists the records not yet reviewed. The exit code. */
static int s_show(s_query_t *q, node_t *node) {
    xs_policy_t *policy = NULL;
    xs_txn_t *txn = NULL;
    s_book_t b = {0};
    xs_certify_row_t *rows = NULL;
    if (node_policy(node, &policy) != XS_OK)
        policy = NULL;
    s_year_range(policy, q);
    xs_err err = xs_store_read(node->store, &txn);
    if (err == XS_OK)
        err = s_load(txn, &b);
    /* The credit each would get now: certified as `xueshi-node totals` does. */
    if (err == XS_OK && policy && b.count) {
        if (!(rows = malloc(b.count * sizeof *rows)))
            err = XS_ENOMEM;
        else
            err = xs_certify_run(policy, NULL, b.records, b.seqs, b.count, NULL, rows, NULL, NULL);
    }
    if (err == XS_OK)
        err = s_list(q, policy, &b, rows);
    int rc = 0;
    if (err != XS_OK) {
        xs_log_err(err, "读取记录 (reading records)");
        rc = node_exit_code(err, q->dir);
    } else if (fflush(stdout) != 0) {
        rc = 1;
    } else if (b.corrupted) {
        node_corrupt_hint(q->dir);
        rc = NODE_EXIT_CORRUPT;
    }
    free(rows);
    s_book_free(&b);
    xs_store_end(&txn);
    xs_policy_destroy(&policy);
    return rc;
}

int node_cmd_review(int argc, char **argv) {
    s_query_t q;
    const char *year = NULL;
    node_t node;
    if (s_parse(argc, argv, &q, &year) != XS_OK) {
        free(q.ids);
        return 2;
    }
    xs_err err = node_open(&node, q.dir);
    if (err != XS_OK) {
        free(q.ids);
        return node_exit_code(err, q.dir);
    }
    int rc;
    if (q.verdict == XS_VERDICT_NONE) {
        rc = s_show(&q, &node);
    } else {
        if (q.all && q.first_year) {
            xs_policy_t *policy = NULL;
            if (node_policy(&node, &policy) != XS_OK)
                policy = NULL;
            s_year_range(policy, &q);
            xs_policy_destroy(&policy);
        }
        rc = s_review(&q, &node);
    }
    node_close(&node);
    free(q.ids);
    return rc;
}
