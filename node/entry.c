/* entry: one activity recorded, or one voided, from what a user typed; refusals as data. */
#include "entry.h"

#include <stdio.h>
#include <string.h>

#include "xs/text.h"

/* Longest field name a refusal quotes, in bytes. */
#define S_NAME_SHOWN 64

/* The fields a user may give, and the record command's other names for them. */
static const struct {
    const char *alias; /* the record command's option, where it differs from the field name */
    xs_field field;
} s_fields[] = {
    {"teacher", XS_F_TEACHER_ID},
    {NULL, XS_F_SCHOOL_ID},
    {"school", XS_F_SCHOOL_ID},
    {NULL, XS_F_TEACHER_ID},
    {NULL, XS_F_DATE},
    {NULL, XS_F_CATEGORY},
    {NULL, XS_F_ROLE},
    {NULL, XS_F_MINUTES},
    {NULL, XS_F_HOURS},
    {NULL, XS_F_DAYS},
    {NULL, XS_F_CHARS},
    {NULL, XS_F_UNIT},
    {NULL, XS_F_LEVEL},
    {NULL, XS_F_GRADE},
    {NULL, XS_F_WORK},
    {NULL, XS_F_EVENT},
    {NULL, XS_F_SCORE},
    {NULL, XS_F_NOTE},
    {NULL, XS_F_OPERATOR},
    {NULL, XS_F_REF},
    {NULL, XS_F_LESSONS},
};
#define S_NFIELDS (sizeof s_fields / sizeof s_fields[0])

/* The field a user's name for it names, or -1 when it is not one a user may give. */
static int s_field_of(const char *name) {
    size_t len = strlen(name);
    for (size_t i = 0; i < S_NFIELDS; i++) {
        const char *n = s_fields[i].alias ? s_fields[i].alias : xs_field_name(s_fields[i].field);
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return (int)s_fields[i].field;
    }
    return -1;
}

/* Copies name into shown (S_NAME_SHOWN + 1 bytes) as one printable line, cut short. */
static void s_shown(const char *name, char shown[S_NAME_SHOWN + 1]) {
    size_t k = 0;
    for (; name[k] && k < S_NAME_SHOWN; k++)
        shown[k] = (unsigned char)name[k] < 0x20 || name[k] == 0x7f ? ' ' : name[k];
    while (k > 0 && name[k] && ((unsigned char)name[k] & 0xc0) == 0x80)
        k--;
    shown[k] = '\0';
}

/* Fills *why for a name no field has. */
static void s_unknown_field(node_refusal_t *why, const char *name) {
    char shown[S_NAME_SHOWN + 1];
    s_shown(name, shown);
    why->field = NODE_REFUSAL_F_NONE;
    why->why = XS_REASON_BAD_VALUE;
    snprintf(why->text, sizeof why->text,
             "没有名为「%s」的登记项 (no such field: %s; fields are record field names such as "
             "teacher_id, date, category, role, minutes)",
             shown, shown);
}

xs_err node_entry_build(const node_t *node, const xs_policy_t *policy,
                        const node_entry_field_t *fields, size_t n, int64_t now, xs_record_t *rec,
                        node_refusal_t *why) {
    uint32_t seen = 0;
    const char *category = NULL;
    node_refusal_clear(why);
    xs_record_init(rec);
    for (size_t i = 0; i < n; i++) {
        int f = fields[i].name ? s_field_of(fields[i].name) : -1;
        if (f < 0) {
            s_unknown_field(why, fields[i].name ? fields[i].name : "");
            return XS_EINVAL;
        }
        if ((seen >> f) & 1u) {
            why->field = (xs_field)f;
            why->why = XS_REASON_BAD_VALUE;
            snprintf(why->text, sizeof why->text, "%s填了两次，只能填一次 (%s: given twice)",
                     xs_field_zh((xs_field)f), xs_field_name((xs_field)f));
            return XS_EINVAL;
        }
        seen |= 1u << f;
        const char *text = fields[i].text;
        if (!text)
            continue;
        if (f == XS_F_CATEGORY) {
            category = text; /* named under the node's policy, below */
            continue;
        }
        xs_reason reason = XS_REASON_NONE;
        if (xs_record_set_text(rec, (xs_field)f, text, strlen(text), &reason) != XS_OK) {
            node_refusal_set(why, policy, (xs_field)f, reason, text, strlen(text));
            return XS_EINVAL;
        }
    }
    if (category) {
        const char *trimmed = category;
        size_t len = strlen(category);
        xs_text_trim(&trimmed, &len);
        int code = len ? node_category_parse(policy, trimmed, len) : 0;
        if (len && code <= 0) {
            node_refusal_set(why, policy, XS_F_CATEGORY, XS_REASON_UNKNOWN_CATEGORY, trimmed, len);
            return XS_EINVAL;
        }
        if (code > 0) {
            rec->category = (uint8_t)code;
            rec->present |= 1u << XS_F_CATEGORY;
        }
    }
    if (rec->school_id.len == 0) {
        rec->school_id = (xs_str_t){node->school, (uint32_t)strlen(node->school)};
        rec->present |= 1u << XS_F_SCHOOL_ID;
    }
    rec->recorded_at = now;
    rec->present |= 1u << XS_F_RECORDED_AT;
    return XS_OK;
}

xs_err node_entry_check(const node_t *node, const xs_policy_t *policy, const xs_staff_t *staff,
                        const xs_record_t *rec, node_refusal_t *why) {
    node_refusal_clear(why);
    if (node_check_why(node, policy, rec, why) != XS_REASON_NONE)
        return XS_EINVAL;
    return node_staff_why(staff, rec, why) ? XS_OK : XS_EINVAL;
}

struct s_append {
    const uint8_t *bytes; /* encoded record */
    size_t len;
    node_dedupe_t key;
    uint64_t seq; /* out: the new record's sequence number */
};

static xs_err s_append(xs_txn_t *txn, void *ctx) {
    struct s_append *a = ctx;
    return node_append(txn, a->bytes, a->len, &a->key, &a->seq);
}

xs_err node_entry_append(node_t *node, const xs_record_t *rec, uint64_t *seq) {
    xs_writer_t w;
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(rec, &w);
    struct s_append a = {w.data, w.len, {{0}, 0}, 0};
    node_dedupe_key(rec, &a.key);
    xs_err err = xs_writer_err(&w);
    if (err == XS_OK)
        err = xs_store_update(node->store, s_append, &a);
    xs_writer_free(&w);
    if (err == XS_OK)
        *seq = a.seq;
    return err;
}

xs_err node_entry_add(node_t *node, const xs_policy_t *policy, const xs_staff_t *staff,
                      const node_entry_field_t *fields, size_t n, int64_t now, uint64_t *seq,
                      node_refusal_t *why) {
    xs_record_t rec;
    xs_err err = node_entry_build(node, policy, fields, n, now, &rec, why);
    if (err == XS_OK)
        err = node_entry_check(node, policy, staff, &rec, why);
    if (err == XS_OK)
        err = node_entry_append(node, &rec, seq);
    return err;
}

/* ---- void ---- */

struct s_void {
    uint64_t target;       /* sequence number to void */
    const char *reason;    /* the correction's note */
    const char *operator_; /* who voids it, or NULL */
    int64_t now;           /* its recorded_at */
    uint64_t seq;          /* out: the correction's sequence number */
    node_refusal_t *why;   /* out: why nothing was written */
};

/* Fills v->why with a refusal about field voids. */
static void s_refuse(struct s_void *v, xs_reason reason, const char *zh, const char *en) {
    v->why->field = XS_F_VOIDS;
    v->why->why = reason;
    snprintf(v->why->text, sizeof v->why->text, "记录 %llu %s (record %llu: %s)",
             (unsigned long long)v->target, zh, (unsigned long long)v->target, en);
}

/* A walk's step: refuses (XS_EEXIST) when the entry is a correction voiding v->target. */
static xs_err s_voids_target(void *ctx, uint64_t seq, const xs_bytes_t *key,
                             const xs_bytes_t *bytes) {
    struct s_void *v = ctx;
    xs_record_t rec;
    (void)seq;
    (void)key;
    if (xs_record_decode_bytes(bytes->ptr, bytes->len, &rec) == XS_OK &&
        rec.kind == XS_KIND_CORRECTION && rec.voids == v->target) {
        s_refuse(v, XS_REASON_VOIDED, "已作废", "already voided");
        return XS_EEXIST;
    }
    return XS_OK;
}

/* Finds the target and whether a correction already voids it, then appends the correction,
 * all in one write transaction so two voids cannot race. */
static xs_err s_void(xs_txn_t *txn, void *ctx) {
    struct s_void *v = ctx;
    xs_bytes_t val;
    xs_record_t target, rec;
    node_refusal_clear(v->why);
    xs_err err = node_record_get(txn, v->target, &val);
    if (err == XS_ENOTFOUND) {
        s_refuse(v, XS_REASON_BAD_TARGET, "不存在", "no such record");
        return XS_ENOTFOUND;
    }
    if (err != XS_OK)
        return err;
    if (xs_record_decode_bytes(val.ptr, val.len, &target) != XS_OK)
        return XS_ECORRUPT;
    if (target.kind != XS_KIND_ACTIVITY) {
        s_refuse(v, XS_REASON_BAD_TARGET, "不是活动记录，只能作废活动记录",
                 "only activity records can be voided");
        return XS_EINVAL;
    }
    /* Corrections come after their target: scan from it for one that voids it. */
    if ((err = node_records_raw_from(txn, v->target, s_voids_target, v)) != XS_OK)
        return err;

    xs_record_init(&rec);
    rec.kind = XS_KIND_CORRECTION;
    rec.voids = v->target;
    rec.teacher_id = target.teacher_id;
    rec.school_id = target.school_id;
    rec.note = (xs_str_t){v->reason, (uint32_t)strlen(v->reason)};
    rec.recorded_at = v->now;
    rec.present |= (1u << XS_F_VOIDS) | (1u << XS_F_TEACHER_ID) | (1u << XS_F_SCHOOL_ID) |
                   (1u << XS_F_NOTE) | (1u << XS_F_RECORDED_AT);
    if (v->operator_ && v->operator_[0]) {
        rec.operator_ = (xs_str_t){v->operator_, (uint32_t)strlen(v->operator_)};
        rec.present |= 1u << XS_F_OPERATOR;
    }
    xs_writer_t w;
    node_dedupe_t dedupe;
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    node_dedupe_key(&rec, &dedupe);
    err = xs_writer_err(&w);
    if (err == XS_OK)
        err = node_append(txn, w.data, w.len, &dedupe, &v->seq);
    xs_writer_free(&w);
    return err;
}

xs_err node_void_add(node_t *node, uint64_t target, const char *reason, const char *operator_,
                     int64_t now, uint64_t *void_seq, node_refusal_t *why) {
    node_refusal_clear(why);
    size_t rlen = reason ? strlen(reason) : 0;
    const char *trimmed = reason;
    size_t tlen = rlen;
    if (reason)
        xs_text_trim(&trimmed, &tlen);
    if (tlen == 0 || rlen > XS_NOTE_MAX || !xs_text_utf8_valid(reason, rlen)) {
        why->field = XS_F_NOTE;
        why->why = tlen == 0 ? XS_REASON_MISSING_FIELD : XS_REASON_BAD_VALUE;
        snprintf(why->text, sizeof why->text, "作废原因%s (reason: %s)",
                 tlen == 0 ? "必须填写 (required)"
                           : "无效：须为 UTF-8 文字，不超过 1024 字节 (UTF-8, at most 1024 bytes)",
                 xs_reason_code(why->why));
        return XS_EINVAL;
    }
    if (operator_ &&
        (strlen(operator_) > XS_ID_MAX || !xs_text_utf8_valid(operator_, strlen(operator_)))) {
        node_refusal_set(why, NULL, XS_F_OPERATOR, XS_REASON_OUT_OF_RANGE, NULL, 0);
        return XS_EINVAL;
    }
    struct s_void v = {target, reason, operator_, now, 0, why};
    xs_err err = xs_store_update(node->store, s_void, &v);
    if (err == XS_OK)
        *void_seq = v.seq;
    else if (why->why == XS_REASON_NONE)
        node_refusal_clear(why); /* the store's error: no refusal */
    return err;
}
