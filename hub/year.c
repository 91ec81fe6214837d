/* year: the owner of HUB_T_YEARS and HUB_T_FROZEN: closing an academic year, its objections,
 * finalization and amendments, and the closed year's part of every receipt built afterwards.
 *
 * Invariants of these tables, and the one function that moves each:
 *   - A year has a HUB_YEAR_DOC entry exactly when it is closed; it and HUB_YEAR_POLICY are
 *     written together, once (hub_year_close), and never replaced.
 *   - HUB_T_FROZEN holds, for a closed year, an entry for every record dated in the year that
 *     the year document or an amendment certified, with the credit it was given:
 *     hub_year_close writes those of the document, hub_year_amend those of each amendment
 *     (replacing the entry of a record whose credit it changes). So a record is on the 补认定
 *     list exactly when it has no entry or its current credit differs from the entry's.
 *   - HUB_YEAR_AMEND numbers run 1..N without a gap (hub_year_amend takes N + 1).
 *   - HUB_YEAR_OBJECTION numbers run 1..N (hub_year_objection_add); a decision is written
 *     once per objection (hub_year_objection_decide), only before HUB_YEAR_FINAL exists;
 *     HUB_YEAR_FINAL is written once (hub_year_finalize). */
#include "year.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "staff.h"
#include "xs/envelope.h"
#include "xs/staff.h"
#include "xs/standing.h"
#include "xs/text.h"

/* A HUB_T_YEARS key: year (2), kind (1), number (4). */
#define S_YEAR_KEY_BYTES 7
/* A HUB_T_FROZEN key: year (2), origin (32), seq (8); its value: status (1), category (1),
 * credited seconds (4), teacher_id (1..XS_ID_MAX). */
#define S_FROZEN_KEY_BYTES (2 + XS_SIGN_PK_BYTES + 8)
#define S_FROZEN_HEAD 6
/* Largest encoded roster the close hashes: XS_STAFF_MAX teachers at their widest. */
#define S_ROSTER_BYTES_MAX ((size_t)512 * 1024 * 1024)
/* Elements of a stored objection. */
#define S_OBJECTION_ELEMENTS 5

static void s_year_key(int year, hub_year_kind kind, uint32_t number,
                       uint8_t key[S_YEAR_KEY_BYTES]) {
    key[0] = (uint8_t)((unsigned)year >> 8);
    key[1] = (uint8_t)year;
    key[2] = (uint8_t)kind;
    xs_store_u32_key(number, key + 3);
}

xs_err hub_year_get(xs_txn_t *txn, int year, hub_year_kind kind, uint32_t number,
                    xs_bytes_t *value) {
    uint8_t key[S_YEAR_KEY_BYTES];
    s_year_key(year, kind, number, key);
    return xs_store_get(txn, HUB_T_YEARS, key, sizeof key, value);
}

static xs_err s_year_put(xs_txn_t *txn, int year, hub_year_kind kind, uint32_t number,
                         const void *value, size_t len) {
    uint8_t key[S_YEAR_KEY_BYTES];
    s_year_key(year, kind, number, key);
    return xs_store_put(txn, HUB_T_YEARS, key, sizeof key, value, len, 0);
}

xs_err hub_year_last(xs_txn_t *txn, int year, hub_year_kind kind, uint32_t *number) {
    uint8_t key[S_YEAR_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    *number = 0;
    s_year_key(year, (hub_year_kind)(kind + 1), 0, key);
    xs_err err = xs_store_cursor_open(txn, HUB_T_YEARS, &cur);
    if (err != XS_OK)
        return err;
    /* The entry before the next kind's first is this kind's last, if it is this kind's. */
    err = xs_store_cursor_seek(cur, key, sizeof key, &k, &v);
    if (err == XS_OK)
        err = xs_store_cursor_prev(cur, &k, &v);
    else if (err == XS_ENOTFOUND)
        err = xs_store_cursor_last(cur, &k, &v);
    if (err == XS_OK && k.len == S_YEAR_KEY_BYTES && memcmp(k.ptr, key, 2) == 0 &&
        ((const uint8_t *)k.ptr)[2] == kind)
        *number = xs_store_key_u32((const uint8_t *)k.ptr + 3);
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* ---- objections ---- */

static int s_text_ok(const char *s, size_t max) {
    size_t len = strlen(s);
    return len >= 1 && len <= max && xs_text_utf8_valid(s, len);
}

static xs_err s_objection_put(xs_txn_t *txn, int year, const hub_objection_t *o) {
    xs_writer_t w;
    xs_writer_init(&w, 4 * XS_YEAR_TEXT_MAX);
    xs_codec_put_array(&w, S_OBJECTION_ELEMENTS);
    xs_codec_put_str(&w, o->teacher, strlen(o->teacher));
    xs_codec_put_int(&w, o->filed_at);
    xs_codec_put_str(&w, o->note, strlen(o->note));
    if (o->decision[0])
        xs_codec_put_str(&w, o->decision, strlen(o->decision));
    else
        xs_codec_put_nil(&w);
    xs_codec_put_int(&w, o->decided_at);
    xs_err err = xs_writer_err(&w);
    if (err == XS_OK)
        err = s_year_put(txn, year, HUB_YEAR_OBJECTION, o->number, w.data, w.len);
    xs_writer_free(&w);
    return err;
}

/* Copies a stored string of at most max bytes into out; 0 when it is not one. */
static int s_get_cstr(xs_reader_t *r, char *out, size_t max) {
    const char *s;
    uint32_t len;
    if (xs_codec_get_str(r, &s, &len) != XS_OK || len > max)
        return 0;
    memcpy(out, s, len);
    out[len] = 0;
    return 1;
}

static xs_err s_objection_parse(const xs_bytes_t *v, uint32_t number, hub_objection_t *o) {
    xs_reader_t r;
    uint32_t n;
    memset(o, 0, sizeof *o);
    o->number = number;
    xs_reader_init(&r, v->ptr, v->len);
    if (xs_codec_get_array(&r, &n) != XS_OK || n != S_OBJECTION_ELEMENTS ||
        !s_get_cstr(&r, o->teacher, XS_ID_MAX) || xs_codec_get_int(&r, &o->filed_at) != XS_OK ||
        !s_get_cstr(&r, o->note, XS_YEAR_TEXT_MAX))
        return XS_ECORRUPT;
    if (xs_codec_peek(&r) == XS_CODEC_NIL) {
        if (xs_codec_get_nil(&r) != XS_OK)
            return XS_ECORRUPT;
    } else if (!s_get_cstr(&r, o->decision, XS_YEAR_TEXT_MAX)) {
        return XS_ECORRUPT;
    }
    if (xs_codec_get_int(&r, &o->decided_at) != XS_OK || xs_reader_left(&r) != 0)
        return XS_ECORRUPT;
    return XS_OK;
}

xs_err hub_year_objection_add(xs_txn_t *txn, int year, const char *teacher, const char *note,
                              int64_t now, uint32_t *number) {
    hub_objection_t o;
    if (!s_text_ok(teacher, XS_ID_MAX) || !s_text_ok(note, XS_YEAR_TEXT_MAX))
        return XS_EINVAL;
    xs_err err = hub_year_last(txn, year, HUB_YEAR_OBJECTION, number);
    if (err != XS_OK)
        return err;
    memset(&o, 0, sizeof o);
    o.number = ++*number;
    snprintf(o.teacher, sizeof o.teacher, "%s", teacher);
    snprintf(o.note, sizeof o.note, "%s", note);
    o.filed_at = now;
    return s_objection_put(txn, year, &o);
}

xs_err hub_year_objection_decide(xs_txn_t *txn, int year, uint32_t number, const char *decision,
                                 int64_t now) {
    hub_objection_t o;
    xs_bytes_t v;
    if (!s_text_ok(decision, XS_YEAR_TEXT_MAX))
        return XS_EINVAL;
    xs_err err = hub_year_get(txn, year, HUB_YEAR_OBJECTION, number, &v);
    if (err == XS_OK)
        err = s_objection_parse(&v, number, &o);
    if (err != XS_OK)
        return err;
    snprintf(o.decision, sizeof o.decision, "%s", decision);
    o.decided_at = now;
    return s_objection_put(txn, year, &o);
}

xs_err hub_year_objections_each(xs_txn_t *txn, int year,
                                xs_err (*fn)(void *ctx, const hub_objection_t *o), void *ctx) {
    uint8_t key[S_YEAR_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    hub_objection_t *o = malloc(sizeof *o);
    if (!o)
        return XS_ENOMEM;
    s_year_key(year, HUB_YEAR_OBJECTION, 1, key);
    xs_err err = xs_store_cursor_open(txn, HUB_T_YEARS, &cur);
    for (err = err == XS_OK ? xs_store_cursor_seek(cur, key, sizeof key, &k, &v) : err;
         err == XS_OK; err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != S_YEAR_KEY_BYTES || memcmp(k.ptr, key, 3) != 0)
            break;
        if ((err = s_objection_parse(&v, xs_store_key_u32((const uint8_t *)k.ptr + 3), o)) !=
                XS_OK ||
            (err = fn(ctx, o)) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    free(o);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* ---- frozen rows ---- */

/* A record's frozen row. */
typedef struct s_frozen {
    uint8_t status;
    uint8_t category;
    uint32_t credited_seconds;
} s_frozen_t;

static void s_frozen_key(int year, const uint8_t origin[32], uint64_t seq,
                         uint8_t key[S_FROZEN_KEY_BYTES]) {
    key[0] = (uint8_t)((unsigned)year >> 8);
    key[1] = (uint8_t)year;
    memcpy(key + 2, origin, 32);
    xs_store_u64_key(seq, key + 34);
}

/* Reads the frozen row of (origin, seq) in year into *f: XS_ENOTFOUND when none. */
static xs_err s_frozen_get(xs_txn_t *txn, int year, const uint8_t origin[32], uint64_t seq,
                           s_frozen_t *f) {
    uint8_t key[S_FROZEN_KEY_BYTES];
    xs_bytes_t v;
    s_frozen_key(year, origin, seq, key);
    xs_err err = xs_store_get(txn, HUB_T_FROZEN, key, sizeof key, &v);
    if (err != XS_OK)
        return err;
    if (v.len <= S_FROZEN_HEAD || v.len > S_FROZEN_HEAD + XS_ID_MAX)
        return XS_ECORRUPT;
    const uint8_t *p = v.ptr;
    f->status = p[0];
    f->category = p[1];
    f->credited_seconds = xs_store_key_u32(p + 2);
    return XS_OK;
}

xs_err hub_year_frozen(xs_txn_t *txn, int year, const uint8_t origin[32], uint64_t seq,
                       uint8_t *status, uint32_t *credited_seconds) {
    s_frozen_t f;
    xs_err err = s_frozen_get(txn, year, origin, seq, &f);
    if (err == XS_OK) {
        *status = f.status;
        *credited_seconds = f.credited_seconds;
    }
    return err;
}

static xs_err s_frozen_put(xs_txn_t *txn, int year, const uint8_t origin[32], uint64_t seq,
                           const s_frozen_t *f, const char *teacher, size_t len) {
    uint8_t key[S_FROZEN_KEY_BYTES], value[S_FROZEN_HEAD + XS_ID_MAX];
    if (len == 0 || len > XS_ID_MAX)
        return XS_EINVAL;
    s_frozen_key(year, origin, seq, key);
    value[0] = f->status;
    value[1] = f->category;
    xs_store_u32_key(f->credited_seconds, value + 2);
    memcpy(value + S_FROZEN_HEAD, teacher, len);
    return xs_store_put(txn, HUB_T_FROZEN, key, sizeof key, value, S_FROZEN_HEAD + len, 0);
}

/* ---- building rows ---- */

/* Strings copied for rows and entries: chunks that never move, so pointers stay valid. */
typedef struct s_chunk {
    struct s_chunk *next;
    size_t used;
    char bytes[64 * 1024 - 2 * sizeof(void *)];
} s_chunk_t;

typedef struct s_arena {
    s_chunk_t *head;
} s_arena_t;

static void s_arena_free(s_arena_t *a) {
    while (a->head) {
        s_chunk_t *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* Copies s into the arena; XS_ENOMEM. */
static xs_err s_arena_str(s_arena_t *a, xs_str_t s, xs_str_t *out) {
    out->len = s.len;
    out->ptr = "";
    if (s.len == 0)
        return XS_OK;
    if (!a->head || sizeof a->head->bytes - a->head->used < s.len) {
        s_chunk_t *c = malloc(sizeof *c);
        if (!c)
            return XS_ENOMEM;
        c->next = a->head;
        c->used = 0;
        a->head = c;
    }
    char *dst = a->head->bytes + a->head->used;
    memcpy(dst, s.ptr, s.len);
    a->head->used += s.len;
    out->ptr = dst;
    return XS_OK;
}

/* Rows being built: their totals and roles in growing arrays, indexed while they grow and
 * pointed at by s_rows_finish. */
typedef struct s_rows {
    xs_year_row_t *rows;
    size_t count, cap;
    xs_year_total_t *totals;
    size_t ntotals, totals_cap;
    xs_year_role_t *roles;
    size_t nroles, roles_cap;
    s_arena_t arena;
} s_rows_t;

static int s_grow(void **array, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return 1;
    size_t grown = *cap ? *cap : 64;
    while (grown < need)
        grown *= 2;
    void *p = realloc(*array, grown * size);
    if (!p)
        return 0;
    *array = p;
    *cap = grown;
    return 1;
}

static void s_rows_free(s_rows_t *b) {
    free(b->rows);
    free(b->totals);
    free(b->roles);
    s_arena_free(&b->arena);
    memset(b, 0, sizeof *b);
}

/* Appends a copy of row (its strings, totals and roles). */
static xs_err s_rows_add(s_rows_t *b, const xs_year_row_t *row) {
    if (!s_grow((void **)&b->rows, &b->cap, b->count + 1, sizeof *b->rows) ||
        !s_grow((void **)&b->totals, &b->totals_cap, b->ntotals + row->total_count,
                sizeof *b->totals) ||
        !s_grow((void **)&b->roles, &b->roles_cap, b->nroles + row->role_count, sizeof *b->roles))
        return XS_ENOMEM;
    xs_year_row_t *dst = &b->rows[b->count];
    *dst = *row;
    xs_err err = s_arena_str(&b->arena, row->teacher_id, &dst->teacher_id);
    if (err == XS_OK)
        err = s_arena_str(&b->arena, row->name, &dst->name);
    if (err == XS_OK)
        err = s_arena_str(&b->arena, row->school_id, &dst->school_id);
    if (err != XS_OK)
        return err;
    if (row->total_count)
        memcpy(b->totals + b->ntotals, row->totals, row->total_count * sizeof *row->totals);
    if (row->role_count)
        memcpy(b->roles + b->nroles, row->roles, row->role_count * sizeof *row->roles);
    /* Indices until s_rows_finish: the arrays may still move. */
    dst->totals = (const xs_year_total_t *)(uintptr_t)b->ntotals;
    dst->roles = (const xs_year_role_t *)(uintptr_t)b->nroles;
    b->ntotals += row->total_count;
    b->nroles += row->role_count;
    b->count++;
    return XS_OK;
}

/* Points every row at its totals and roles; no s_rows_add after it. */
static void s_rows_finish(s_rows_t *b) {
    for (size_t i = 0; i < b->count; i++) {
        xs_year_row_t *row = &b->rows[i];
        row->totals = b->totals + (uintptr_t)row->totals;
        row->roles = b->roles + (uintptr_t)row->roles;
    }
}

/* The totals of a year row of the engine's ledger: its year and semester rows, then the cycle
 * rows of the cycle holding it, as schema/year.md §2 lists them. Returns how many. */
static uint32_t s_row_totals(const xs_policy_t *policy, const xs_certify_total_t *in, size_t n,
                             int year, xs_year_total_t out[XS_YEAR_TOTALS_MAX]) {
    int cycle = xs_policy_cycle_of(policy, year);
    uint32_t k = 0;
    for (size_t i = 0; i < n && k < XS_YEAR_TOTALS_MAX; i++) {
        const xs_certify_total_t *t = &in[i];
        if (t->scope == XS_SCOPE_CYCLE ? t->year != cycle : t->year != year)
            continue;
        out[k++] = (xs_year_total_t){.credited_seconds = t->credited_seconds,
                                     .required_seconds = t->required_seconds,
                                     .unreviewed = t->unreviewed,
                                     .scope = t->scope,
                                     .semester = t->semester,
                                     .bucket = t->bucket,
                                     .met = t->met,
                                     .binding = t->binding};
    }
    return k;
}

static uint8_t s_met(uint64_t credited, uint32_t required) {
    return required == 0 ? XS_MET_NONE : credited >= required ? XS_MET_YES : XS_MET_NO;
}

/* The totals of a teacher without records in the year, as the engine would give them: 0 in
 * every row (schema/year.md §2), a single-record requirement missing. */
static uint32_t s_zero_totals(const xs_policy_t *p, xs_year_total_t out[XS_YEAR_TOTALS_MAX]) {
    uint32_t k = 0;
    for (size_t b = 0; b < p->bucket_count; b++) {
        const xs_policy_bucket_t *bk = &p->buckets[b];
        uint32_t req = bk->required_seconds[XS_SCOPE_YEAR];
        out[k++] = (xs_year_total_t){.required_seconds = req,
                                     .scope = XS_SCOPE_YEAR,
                                     .bucket = (uint8_t)b,
                                     .met = s_met(0, req),
                                     .binding = req && !((bk->advisory >> XS_SCOPE_YEAR) & 1u)};
    }
    for (uint8_t sem = 1; sem <= 2; sem++)
        for (size_t b = 0; b < p->bucket_count; b++) {
            const xs_policy_bucket_t *bk = &p->buckets[b];
            uint32_t req = bk->required_seconds[XS_SCOPE_SEMESTER];
            if (req)
                out[k++] =
                    (xs_year_total_t){.required_seconds = req,
                                      .scope = XS_SCOPE_SEMESTER,
                                      .semester = sem,
                                      .bucket = (uint8_t)b,
                                      .met = XS_MET_NO,
                                      .binding = !((bk->advisory >> XS_SCOPE_SEMESTER) & 1u)};
        }
    for (size_t b = 0; b < p->bucket_count; b++) {
        const xs_policy_bucket_t *bk = &p->buckets[b];
        uint32_t req = bk->required_seconds[XS_SCOPE_CYCLE];
        if (req)
            out[k++] = (xs_year_total_t){.required_seconds = req,
                                         .scope = XS_SCOPE_CYCLE,
                                         .bucket = (uint8_t)b,
                                         .met = XS_MET_NO,
                                         .binding = !((bk->advisory >> XS_SCOPE_CYCLE) & 1u)};
    }
    return k;
}

/* The roles of a standing as a row holds them. */
static uint32_t s_row_roles(const xs_standing_t *st, xs_year_role_t out[XS_POLICY_ROLES_MAX]) {
    uint32_t n = st->role_count < XS_POLICY_ROLES_MAX ? st->role_count : XS_POLICY_ROLES_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const xs_standing_role_t *r = &st->roles[i];
        out[i] = (xs_year_role_t){.credited_seconds = r->credited_seconds,
                                  .part_seconds = r->part_seconds,
                                  .required_seconds = r->required_seconds,
                                  .part_required = r->part_required,
                                  .role = r->role,
                                  .judged = r->judged,
                                  .met = r->met};
    }
    return n;
}

/* A teacher's school from their records: that of the latest dated activity (ties: the larger
 * record id), or of the node that sealed it when the record names none. */
static xs_err s_school_of(xs_txn_t *txn, const hub_ledger_t *l, char out[XS_ID_MAX + 1]) {
    int32_t date = INT32_MIN;
    uint64_t id = 0;
    size_t best = SIZE_MAX;
    out[0] = 0;
    for (size_t i = 0; i < l->count; i++) {
        const xs_record_t *rec = &l->records[i];
        if (rec->kind != XS_KIND_ACTIVITY)
            continue;
        if (best == SIZE_MAX || rec->date > date || (rec->date == date && l->ids[i] > id)) {
            best = i;
            date = rec->date;
            id = l->ids[i];
        }
    }
    if (best == SIZE_MAX)
        return XS_OK;
    const xs_record_t *rec = &l->records[best];
    if (rec->school_id.len) {
        size_t n = rec->school_id.len <= XS_ID_MAX ? rec->school_id.len : XS_ID_MAX;
        memcpy(out, rec->school_id.ptr, n);
        out[n] = 0;
        return XS_OK;
    }
    hub_node_t node;
    xs_err err = hub_node_get(txn, l->origins[best], &node);
    if (err == XS_OK)
        snprintf(out, XS_ID_MAX + 1, "%s", node.school);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* ---- teachers: the roster's and the ledger's, merged in teacher_id order ---- */

typedef struct s_id {
    char id[XS_ID_MAX];
    uint32_t len;
} s_id_t;

typedef struct s_ids {
    s_id_t *ids;
    size_t count, cap;
} s_ids_t;

static xs_err s_collect(void *ctx, const char *teacher, size_t len) {
    s_ids_t *s = ctx;
    if (len == 0 || len > XS_ID_MAX)
        return XS_OK;
    if (!s_grow((void **)&s->ids, &s->cap, s->count + 1, sizeof *s->ids))
        return XS_ENOMEM;
    memcpy(s->ids[s->count].id, teacher, len);
    s->ids[s->count++].len = (uint32_t)len;
    return XS_OK;
}

static int s_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (alen > blen) - (alen < blen);
}

/* Reads the current roster into *staff (zeroed: none). */
static xs_err s_roster(xs_txn_t *txn, xs_staff_t *staff) {
    memset(staff, 0, sizeof *staff);
    xs_err err = hub_staff_current(txn, staff);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* ---- closing ---- */

typedef struct s_close {
    hub_t *hub;
    xs_txn_t *txn;
    int year;
    xs_staff_t staff;
    hub_ledger_t ledger, exams;
    xs_certify_exams_t *standings;
    const xs_staff_entry_t *entry; /* the teacher being certified: roster line or NULL */
    s_rows_t rows;
    uint8_t (*origins)[32]; /* the records certified into the year */
    uint64_t *seqs;
    size_t nrecords, records_cap;
    hub_close_stats_t *stats;
    xs_err cb_err;
} s_close_t;

/* Builds and appends the row of the teacher being certified from their standing. */
static xs_err s_close_row(s_close_t *c, xs_str_t teacher_id, const xs_standing_t *st,
                          const xs_year_total_t *totals, uint32_t ntotals, const char *school) {
    xs_year_role_t roles[XS_POLICY_ROLES_MAX];
    xs_year_row_t row;
    memset(&row, 0, sizeof row);
    row.teacher_id = teacher_id;
    if (c->entry) {
        row.name = (xs_str_t){c->entry->name, (uint32_t)strlen(c->entry->name)};
        row.school_id = (xs_str_t){c->entry->school_id, (uint32_t)strlen(c->entry->school_id)};
    } else {
        row.school_id = (xs_str_t){school, (uint32_t)strlen(school)};
    }
    row.state = st->state;
    row.met = st->met;
    row.why = st->why;
    row.final = st->final;
    row.credited_seconds = st->credited_seconds;
    row.total_count = ntotals;
    row.totals = totals;
    row.role_count = s_row_roles(st, roles);
    row.roles = roles;
    c->stats->teachers++;
    c->stats->unrostered += st->state == XS_STANDING_UNROSTERED;
    c->stats->exempt += st->state == XS_STANDING_EXEMPT;
    c->stats->met += st->state != XS_STANDING_EXEMPT && st->met == XS_MET_YES;
    c->stats->not_met += st->state != XS_STANDING_EXEMPT && st->met == XS_MET_NO;
    return s_rows_add(&c->rows, &row);
}

static xs_err s_close_on_teacher(void *ctx, const xs_certify_teacher_t *t) {
    s_close_t *c = ctx;
    xs_standing_t st;
    xs_year_total_t totals[XS_YEAR_TOTALS_MAX];
    char school[XS_ID_MAX + 1];
    const hub_ledger_t *l = &c->ledger;
    xs_err err = xs_standing_of(&st, c->hub->policy, c->entry, t, l->records, l->rows, c->year);
    if (err == XS_OK && !c->entry)
        err = s_school_of(c->txn, l, school);
    if (err != XS_OK)
        return err;
    uint32_t n = s_row_totals(c->hub->policy, t->totals, t->total_count, c->year, totals);
    return s_close_row(c, t->teacher_id, &st, totals, n, c->entry ? "" : school);
}

/* Certifies one teacher (id, len) with roster line entry (NULL: not on the roster) into a
 * row, and freezes their records dated in the year. */
static xs_err s_close_teacher(s_close_t *c, const char *id, size_t len,
                              const xs_staff_entry_t *entry) {
    hub_ledger_t *l = &c->ledger;
    const xs_policy_t *p = c->hub->policy;
    c->entry = entry;
    xs_err err = hub_ledger_teacher(l, c->txn, id, len);
    if (err != XS_OK)
        return err;
    size_t before = c->rows.count;
    if (l->count > 0) {
        xs_certify_opts_t opts = {xs_policy_cycle_of(p, c->year), c->year};
        err = xs_certify_teacher(p, c->standings, l->records, l->ids, l->count, &opts, l->rows,
                                 s_close_on_teacher, c);
        if (err != XS_OK)
            return err;
    }
    if (c->rows.count == before) {
        /* No records (or none the engine gave a ledger): 0 in every row. */
        xs_standing_t st;
        xs_year_total_t totals[XS_YEAR_TOTALS_MAX];
        if (!entry)
            return XS_OK; /* records without a ledger, and not on the roster: nobody to list */
        if ((err = xs_standing_of(&st, p, entry, NULL, NULL, NULL, c->year)) != XS_OK)
            return err;
        uint32_t n = s_zero_totals(p, totals);
        if ((err = s_close_row(c, (xs_str_t){id, (uint32_t)len}, &st, totals, n, "")) != XS_OK)
            return err;
    }
    /* Freeze every record dated in the year; the ledger's origins are copies, so the writes
     * may move pages. */
    for (size_t i = 0; i < l->count; i++) {
        if (l->rows[i].year != c->year)
            continue;
        if (!s_grow((void **)&c->origins, &c->records_cap, c->nrecords + 1, sizeof *c->origins))
            return XS_ENOMEM;
        uint64_t *seqs = realloc(c->seqs, c->records_cap * sizeof *seqs);
        if (!seqs)
            return XS_ENOMEM;
        c->seqs = seqs;
        memcpy(c->origins[c->nrecords], l->origins[i], 32);
        c->seqs[c->nrecords++] = l->seqs[i];
        s_frozen_t f = {l->rows[i].status, l->rows[i].category, l->rows[i].credited_seconds};
        if ((err = s_frozen_put(c->txn, c->year, l->origins[i], l->seqs[i], &f, id, len)) != XS_OK)
            return err;
    }
    return XS_OK;
}

xs_err hub_year_close(hub_t *hub, xs_txn_t *txn, int year, int64_t now, int64_t notice_until,
                      hub_progress_fn progress, void *ctx, xs_writer_t *envelope,
                      hub_close_stats_t *stats) {
    s_close_t c;
    s_ids_t ids = {NULL, 0, 0};
    xs_receipt_ident_t *idents = NULL;
    xs_writer_t roster, blob;
    xs_bytes_t v;
    xs_year_doc_t doc;
    memset(&c, 0, sizeof c);
    memset(stats, 0, sizeof *stats);
    memset(&doc, 0, sizeof doc);
    xs_writer_init(&roster, S_ROSTER_BYTES_MAX);
    xs_writer_init(&blob, XS_POLICY_BLOB_MAX);
    c.hub = hub;
    c.txn = txn;
    c.year = year;
    c.stats = stats;
    xs_err err = hub_year_get(txn, year, HUB_YEAR_DOC, 0, &v);
    if (err == XS_OK)
        err = XS_EEXIST;
    else if (err == XS_ENOTFOUND)
        err = s_roster(txn, &c.staff);
    if (err == XS_OK && c.staff.version == 0 && c.staff.count == 0)
        err = XS_ENOTFOUND;
    /* Every teacher with records first (the walk reads), then certify and write one by one. */
    if (err == XS_OK)
        err = hub_ledger_teachers_each(txn, s_collect, &ids);
    if (err == XS_OK)
        err = hub_ledger_exams(&c.exams, txn);
    if (err == XS_OK)
        err = xs_certify_exams_build(&c.standings, hub->policy, c.exams.records, c.exams.ids,
                                     c.exams.count);
    size_t r = 0, s = 0, total = 0;
    if (err == XS_OK) {
        /* How many rows: the union of the two sorted lists. */
        for (size_t i = 0, j = 0; i < c.staff.count || j < ids.count; total++) {
            int d = i == c.staff.count ? 1
                    : j == ids.count   ? -1
                                       : s_cmp(c.staff.entries[i].teacher_id,
                                               strlen(c.staff.entries[i].teacher_id), ids.ids[j].id,
                                               ids.ids[j].len);
            i += d <= 0;
            j += d >= 0;
        }
    }
    size_t done = 0;
    while (err == XS_OK && (r < c.staff.count || s < ids.count)) {
        const xs_staff_entry_t *e = r < c.staff.count ? &c.staff.entries[r] : NULL;
        int d = !e ? 1
                : s == ids.count
                    ? -1
                    : s_cmp(e->teacher_id, strlen(e->teacher_id), ids.ids[s].id, ids.ids[s].len);
        if (d <= 0)
            err = s_close_teacher(&c, e->teacher_id, strlen(e->teacher_id), e);
        else
            err = s_close_teacher(&c, ids.ids[s].id, ids.ids[s].len, NULL);
        r += d <= 0;
        s += d >= 0;
        if (err == XS_OK && progress)
            progress(ctx, ++done, total);
    }
    if (err != XS_OK)
        goto out;
    s_rows_finish(&c.rows);
    if (!(idents = malloc((c.nrecords ? c.nrecords : 1) * sizeof *idents))) {
        err = XS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < c.nrecords; i++)
        idents[i] = (xs_receipt_ident_t){c.origins[i], c.seqs[i]};
    doc.year = year;
    doc.policy_id = (xs_str_t){hub->policy->id, (uint32_t)strlen(hub->policy->id)};
    doc.policy_version = hub->policy->version;
    memcpy(doc.policy_hash, hub->policy_hash, XS_HASH_BYTES);
    doc.roster_version = c.staff.version;
    xs_staff_encode(&c.staff, &roster);
    if ((err = xs_writer_err(&roster)) != XS_OK)
        goto out;
    xs_identity_hash(roster.data, roster.len, doc.roster_hash);
    doc.closed_at = now;
    doc.notice_until = notice_until;
    doc.record_count = (uint32_t)c.nrecords;
    if ((err = xs_receipt_records_hash(idents, c.nrecords, doc.records_hash)) != XS_OK)
        goto out;
    doc.rows = c.rows.rows;
    doc.row_count = c.rows.count;
    stats->records = c.nrecords;
    xs_policy_compile(hub->policy, &blob);
    size_t mark = envelope->len;
    if ((err = xs_writer_err(&blob)) != XS_OK ||
        (err = xs_year_sign(envelope, hub->id, &doc)) != XS_OK)
        goto out;
    if ((err = s_year_put(txn, year, HUB_YEAR_DOC, 0, envelope->data + mark,
                          envelope->len - mark)) != XS_OK ||
        (err = s_year_put(txn, year, HUB_YEAR_POLICY, 0, blob.data, blob.len)) != XS_OK)
        goto out;
    /* Every receipt again: the closed year is final in each. */
    err = hub_recertify(hub, txn, progress, ctx, &stats->receipts);
out:
    free(idents);
    free(ids.ids);
    free(c.origins);
    free(c.seqs);
    s_rows_free(&c.rows);
    xs_staff_free(&c.staff);
    hub_ledger_free(&c.ledger);
    hub_ledger_free(&c.exams);
    xs_certify_exams_destroy(&c.standings);
    xs_writer_free(&roster);
    xs_writer_free(&blob);
    return err;
}

/* ---- finalization ---- */

/* Objections collected for the finalization; strings in the arena. */
typedef struct s_final {
    xs_year_objection_t *list;
    size_t count, cap;
    s_arena_t arena;
    int undecided;
} s_final_t;

static xs_err s_final_objection(void *ctx, const hub_objection_t *o) {
    s_final_t *f = ctx;
    if (!o->decision[0]) {
        f->undecided = 1;
        return XS_OK;
    }
    if (!s_grow((void **)&f->list, &f->cap, f->count + 1, sizeof *f->list))
        return XS_ENOMEM;
    xs_year_objection_t *dst = &f->list[f->count++];
    memset(dst, 0, sizeof *dst);
    dst->number = o->number;
    dst->filed_at = o->filed_at;
    dst->decided_at = o->decided_at;
    xs_err err = s_arena_str(&f->arena, (xs_str_t){o->teacher, (uint32_t)strlen(o->teacher)},
                             &dst->teacher_id);
    if (err == XS_OK)
        err = s_arena_str(&f->arena, (xs_str_t){o->note, (uint32_t)strlen(o->note)}, &dst->note);
    if (err == XS_OK)
        err = s_arena_str(&f->arena, (xs_str_t){o->decision, (uint32_t)strlen(o->decision)},
                          &dst->decision);
    return err;
}

xs_err hub_year_finalize(hub_t *hub, xs_txn_t *txn, const hub_closed_year_t *c, int64_t now,
                         xs_writer_t *envelope) {
    s_final_t f;
    xs_year_final_t final;
    xs_bytes_t v;
    memset(&f, 0, sizeof f);
    xs_err err = hub_year_get(txn, c->year, HUB_YEAR_FINAL, 0, &v);
    if (err == XS_OK)
        return XS_EEXIST;
    if (err != XS_ENOTFOUND)
        return err;
    err = hub_year_objections_each(txn, c->year, s_final_objection, &f);
    if (err == XS_OK && f.undecided)
        err = XS_EAGAIN;
    if (err == XS_OK) {
        memset(&final, 0, sizeof final);
        final.year = c->year;
        memcpy(final.closed_hash, c->doc.hash, XS_HASH_BYTES);
        final.finalized_at = now;
        final.objections = f.list;
        final.objection_count = f.count;
        size_t mark = envelope->len;
        err = xs_year_final_sign(envelope, hub->id, &final);
        if (err == XS_OK)
            err = s_year_put(txn, c->year, HUB_YEAR_FINAL, 0, envelope->data + mark,
                             envelope->len - mark);
    }
    free(f.list);
    s_arena_free(&f.arena);
    return err;
}

/* ---- a closed year, loaded ---- */

xs_err hub_closed_year_load(hub_t *hub, xs_txn_t *txn, int year, hub_closed_year_t *out) {
    const uint8_t *key = hub->id ? xs_identity_public(hub->id)->sign : NULL;
    xs_bytes_t v;
    uint32_t last = 0;
    memset(out, 0, sizeof *out);
    out->year = year;
    xs_err err = hub_year_get(txn, year, HUB_YEAR_DOC, 0, &v);
    if (err != XS_OK)
        return err;
    if (xs_year_open(v.ptr, v.len, key, &out->doc) != XS_OK || out->doc.year != year) {
        err = XS_ECORRUPT;
        goto fail;
    }
    if ((err = hub_year_last(txn, year, HUB_YEAR_AMEND, &last)) != XS_OK)
        goto fail;
    if (last && !(out->amends = calloc(last, sizeof *out->amends))) {
        err = XS_ENOMEM;
        goto fail;
    }
    for (uint32_t n = 1; n <= last; n++) {
        if ((err = hub_year_get(txn, year, HUB_YEAR_AMEND, n, &v)) != XS_OK ||
            xs_year_amend_open(v.ptr, v.len, key, &out->amends[n - 1]) != XS_OK ||
            out->amends[n - 1].number != n) {
            err = XS_ECORRUPT;
            goto fail;
        }
        out->amend_count = n;
    }
    if ((err = hub_year_get(txn, year, HUB_YEAR_POLICY, 0, &v)) != XS_OK ||
        xs_policy_decode(&out->policy, v.ptr, v.len) != XS_OK) {
        err = XS_ECORRUPT;
        goto fail;
    }
    err = hub_year_get(txn, year, HUB_YEAR_FINAL, 0, &v);
    out->finalized = err == XS_OK;
    if (err == XS_OK || err == XS_ENOTFOUND)
        return XS_OK;
fail:
    hub_closed_year_free(out);
    return err;
}

void hub_closed_year_free(hub_closed_year_t *c) {
    xs_year_doc_free(&c->doc);
    for (size_t i = 0; i < c->amend_count; i++)
        xs_year_amend_free(&c->amends[i]);
    free(c->amends);
    xs_policy_destroy(&c->policy);
    memset(c, 0, sizeof *c);
}

const xs_year_row_t *hub_closed_year_row(const hub_closed_year_t *c, const char *teacher,
                                         size_t len) {
    for (size_t i = c->amend_count; i > 0; i--) {
        const xs_year_amend_t *a = &c->amends[i - 1];
        const xs_year_row_t *row = xs_year_find(a->rows, a->row_count, teacher, len);
        if (row)
            return row;
    }
    return xs_year_find(c->doc.rows, c->doc.row_count, teacher, len);
}

void hub_closed_row_view(const xs_policy_t *policy, int year, const xs_year_row_t *row,
                         xs_certify_total_t *totals, xs_certify_teacher_t *view,
                         xs_standing_t *st) {
    int cycle = xs_policy_cycle_of(policy, year);
    uint32_t n = row->total_count < XS_YEAR_TOTALS_MAX ? row->total_count : XS_YEAR_TOTALS_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const xs_year_total_t *y = &row->totals[i];
        xs_certify_total_t *t = &totals[i];
        memset(t, 0, sizeof *t);
        t->credited_seconds = y->credited_seconds;
        t->required_seconds = y->required_seconds;
        t->year = (int16_t)(y->scope == XS_SCOPE_CYCLE ? cycle : year);
        t->scope = y->scope;
        t->bucket = y->bucket;
        t->semester = y->semester;
        t->met = y->met;
        t->binding = y->binding;
        t->unreviewed = y->unreviewed;
        /* A total not met for its seconds is short of hours; met for them, it misses the
         * single-record requirement its cycle row carries. */
        if (y->met == XS_MET_NO && y->credited_seconds < y->required_seconds)
            t->why = XS_WHY_HOURS_SHORT;
        else if (y->met == XS_MET_NO)
            t->why = XS_WHY_SINGLE_MISSING;
        /* Less credit in the bucket than the single record needs: no such record. */
        if (y->scope == XS_SCOPE_CYCLE && policy->single.category != XS_CAT_NONE &&
            y->bucket == policy->single.bucket) {
            if (y->credited_seconds < policy->single.min_seconds)
                t->why |= y->met == XS_MET_NO ? XS_WHY_SINGLE_MISSING : 0;
            t->single_met = (t->why & XS_WHY_SINGLE_MISSING) ? XS_MET_NO : XS_MET_YES;
        }
    }
    memset(view, 0, sizeof *view);
    view->teacher_id = row->teacher_id;
    view->totals = totals;
    view->total_count = n;
    memset(st, 0, sizeof *st);
    st->state = row->state;
    st->met = row->met;
    st->why = row->why;
    st->final = row->final;
    st->credited_seconds = row->credited_seconds;
    st->role_count = row->role_count < XS_POLICY_ROLES_MAX ? row->role_count : XS_POLICY_ROLES_MAX;
    for (uint32_t i = 0; i < st->role_count; i++) {
        const xs_year_role_t *r = &row->roles[i];
        st->roles[i].role = r->role;
        st->roles[i].judged = r->judged;
        st->roles[i].met = r->met;
        st->roles[i].credited_seconds = r->credited_seconds;
        st->roles[i].required_seconds = r->required_seconds;
        st->roles[i].part_seconds = r->part_seconds;
        st->roles[i].part_required = r->part_required;
    }
}

size_t hub_year_zero_totals(const xs_policy_t *policy, int year, xs_certify_total_t *out) {
    return xs_standing_zero_totals(policy, year, out, XS_YEAR_TOTALS_MAX);
}

/* ---- receipts of a closed year ---- */

/* Most academic years one cache remembers (a century). */
#define S_CACHE_YEARS 128

struct hub_closed_cache {
    hub_t *hub;
    size_t count;
    struct {
        int year;
        int closed;
        hub_closed_year_t c;
    } years[S_CACHE_YEARS];
    xs_receipt_total_t scratch[XS_RECEIPT_TOTALS_MAX];
    uint8_t (*origins)[32]; /* a period's frozen records */
    xs_receipt_ident_t *idents;
    size_t idents_cap;
};

xs_err hub_closed_cache_new(hub_closed_cache_t **out, hub_t *hub) {
    *out = calloc(1, sizeof **out);
    if (!*out)
        return XS_ENOMEM;
    (*out)->hub = hub;
    return XS_OK;
}

void hub_closed_cache_reset(hub_closed_cache_t *cache) {
    for (size_t i = 0; i < cache->count; i++)
        hub_closed_year_free(&cache->years[i].c);
    cache->count = 0;
}

void hub_closed_cache_destroy(hub_closed_cache_t **cache) {
    if (!*cache)
        return;
    hub_closed_cache_reset(*cache);
    free((*cache)->origins);
    free((*cache)->idents);
    free(*cache);
    *cache = NULL;
}

/* The closed year `year` through the cache: *c NULL when it is not closed. */
static xs_err s_cache_get(hub_closed_cache_t *cache, xs_txn_t *txn, int year,
                          const hub_closed_year_t **c) {
    *c = NULL;
    for (size_t i = 0; i < cache->count; i++)
        if (cache->years[i].year == year) {
            *c = cache->years[i].closed ? &cache->years[i].c : NULL;
            return XS_OK;
        }
    if (cache->count == S_CACHE_YEARS)
        hub_closed_cache_reset(cache);
    size_t i = cache->count;
    xs_err err = hub_closed_year_load(cache->hub, txn, year, &cache->years[i].c);
    if (err != XS_OK && err != XS_ENOTFOUND)
        return err;
    cache->years[i].year = year;
    cache->years[i].closed = err == XS_OK;
    cache->count++;
    *c = err == XS_OK ? &cache->years[i].c : NULL;
    return XS_OK;
}

/* Sets period p (of closed year c) closed, with the teacher's frozen records. */
static xs_err s_closed_period(hub_closed_cache_t *cache, xs_txn_t *txn, const hub_closed_year_t *c,
                              const xs_certify_teacher_t *teacher, const xs_certify_row_t *rows,
                              const xs_receipt_ident_t *ids, xs_receipt_period_t *p) {
    size_t m = 0;
    s_frozen_t f;
    if (!s_grow((void **)&cache->idents, &cache->idents_cap, teacher->record_count + 1,
                sizeof *cache->idents))
        return XS_ENOMEM;
    for (size_t k = 0; k < teacher->record_count; k++) {
        uint32_t i = teacher->records[k];
        if (rows[i].year != c->year)
            continue;
        xs_err err = s_frozen_get(txn, c->year, ids[i].origin, ids[i].seq, &f);
        if (err == XS_ENOTFOUND)
            continue;
        if (err != XS_OK)
            return err;
        cache->idents[m++] = ids[i];
    }
    xs_err err = xs_receipt_records_hash(cache->idents, m, p->records_hash);
    p->record_count = (uint32_t)m;
    p->closed = 1;
    memcpy(p->closed_hash, c->doc.hash, XS_HASH_BYTES);
    return err;
}

/* Replaces r's year and semester totals of closed year c with the teacher's closed row (NULL:
 * none, every credit 0) and counts the year at its frozen credit in the cycle's totals. */
static xs_err s_closed_totals(hub_closed_cache_t *cache, const xs_policy_t *policy,
                              const hub_closed_year_t *c, const xs_year_row_t *row,
                              xs_receipt_t *r) {
    uint64_t live[XS_POLICY_BUCKETS_MAX] = {0}, frozen[XS_POLICY_BUCKETS_MAX] = {0};
    int year = c->year, cycle = xs_policy_cycle_of(policy, year), emitted = 0;
    size_t k = 0;
    for (uint32_t i = 0; i < r->total_count; i++) {
        const xs_receipt_total_t *t = &r->totals[i];
        if (t->scope == XS_SCOPE_YEAR && t->year == year && t->bucket < XS_POLICY_BUCKETS_MAX)
            live[t->bucket] = t->credited_seconds;
    }
    for (uint32_t i = 0; row && i < row->total_count; i++)
        if (row->totals[i].scope == XS_SCOPE_YEAR)
            frozen[row->totals[i].bucket] = row->totals[i].credited_seconds;
    for (uint32_t i = 0; i < r->total_count; i++) {
        const xs_receipt_total_t *t = &r->totals[i];
        if (t->scope != XS_SCOPE_CYCLE && t->year == year) {
            if (emitted++)
                continue;
            /* The closed year's rows, in place of the live ones. */
            if (row) {
                for (uint32_t j = 0; j < row->total_count; j++) {
                    const xs_year_total_t *y = &row->totals[j];
                    if (y->scope == XS_SCOPE_CYCLE)
                        continue;
                    if (k == XS_RECEIPT_TOTALS_MAX)
                        return XS_ETOOBIG;
                    cache->scratch[k++] =
                        (xs_receipt_total_t){.credited_seconds = y->credited_seconds,
                                             .required_seconds = y->required_seconds,
                                             .year = year,
                                             .scope = y->scope,
                                             .semester = y->semester,
                                             .bucket = y->bucket,
                                             .met = y->met,
                                             .binding = y->binding,
                                             .single_met = XS_MET_NONE};
                }
            } else {
                for (uint32_t j = i; j < r->total_count; j++) {
                    const xs_receipt_total_t *z = &r->totals[j];
                    if (z->scope == XS_SCOPE_CYCLE || z->year != year)
                        continue;
                    xs_receipt_total_t t0 = *z;
                    t0.credited_seconds = 0;
                    t0.met = s_met(0, t0.required_seconds);
                    cache->scratch[k++] = t0;
                }
            }
            continue;
        }
        xs_receipt_total_t t2 = *t;
        if (t->scope == XS_SCOPE_CYCLE && t->year == cycle && t->bucket < XS_POLICY_BUCKETS_MAX) {
            uint64_t without =
                t2.credited_seconds >= live[t->bucket] ? t2.credited_seconds - live[t->bucket] : 0;
            t2.credited_seconds = without + frozen[t->bucket];
            t2.met = s_met(t2.credited_seconds, t2.required_seconds);
            if (t2.met == XS_MET_YES && t2.single_met == XS_MET_NO)
                t2.met = XS_MET_NO;
        }
        if (k == XS_RECEIPT_TOTALS_MAX)
            return XS_ETOOBIG;
        cache->scratch[k++] = t2;
    }
    memcpy(r->totals, cache->scratch, k * sizeof *r->totals);
    r->total_count = (uint32_t)k;
    return XS_OK;
}

xs_err hub_closed_apply(hub_closed_cache_t *cache, xs_txn_t *txn,
                        const xs_certify_teacher_t *teacher, const xs_certify_row_t *rows,
                        const xs_receipt_ident_t *ids, xs_receipt_t *r) {
    for (uint32_t i = 0; i < r->period_count; i++) {
        xs_receipt_period_t *p = &r->periods[i];
        const hub_closed_year_t *c;
        if (p->scope != XS_SCOPE_YEAR)
            continue;
        xs_err err = s_cache_get(cache, txn, p->year, &c);
        if (err != XS_OK)
            return err;
        if (!c)
            continue;
        const xs_year_row_t *row =
            hub_closed_year_row(c, teacher->teacher_id.ptr, teacher->teacher_id.len);
        if ((err = s_closed_period(cache, txn, c, teacher, rows, ids, p)) != XS_OK ||
            (err = s_closed_totals(cache, cache->hub->policy, c, row, r)) != XS_OK)
            return err;
    }
    return XS_OK;
}

/* ---- 补认定 ---- */

typedef struct s_supp {
    hub_t *hub;
    xs_txn_t *txn;
    const hub_closed_year_t *c;
    xs_staff_t staff;
    hub_ledger_t ledger, exams;
    xs_certify_exams_t *standings;
} s_supp_t;

/* The list for one teacher: calls fn for each record of theirs on it. */
static xs_err s_supp_teacher(s_supp_t *s, const char *id, size_t len,
                             xs_err (*fn)(void *ctx, const hub_supplement_t *e), void *ctx) {
    hub_ledger_t *l = &s->ledger;
    int year = s->c->year;
    xs_err err = hub_ledger_teacher(l, s->txn, id, len);
    if (err != XS_OK || l->count == 0)
        return err;
    err = xs_certify_teacher(s->hub->policy, s->standings, l->records, l->ids, l->count, NULL,
                             l->rows, NULL, NULL);
    if (err != XS_OK)
        return err;
    const xs_staff_entry_t *entry = xs_staff_find(&s->staff, id, len);
    for (size_t i = 0; i < l->count; i++) {
        const xs_certify_row_t *row = &l->rows[i];
        s_frozen_t f;
        if (row->year != year)
            continue;
        err = s_frozen_get(s->txn, year, l->origins[i], l->seqs[i], &f);
        if (err != XS_OK && err != XS_ENOTFOUND)
            return err;
        int late = err == XS_ENOTFOUND;
        if (!late && f.credited_seconds == row->credited_seconds)
            continue;
        hub_supplement_t e;
        memset(&e, 0, sizeof e);
        memcpy(e.entry.origin, l->origins[i], 32);
        e.entry.seq = l->seqs[i];
        e.entry.teacher_id = (xs_str_t){id, (uint32_t)len};
        e.entry.category = row->category;
        e.entry.date = l->records[i].date;
        e.entry.frozen_seconds = late ? 0 : f.credited_seconds;
        e.entry.seconds = row->credited_seconds;
        e.entry.note = late ? (xs_str_t){"late 迟到", (uint32_t)strlen("late 迟到")}
                            : (xs_str_t){"changed 认定变化", (uint32_t)strlen("changed 认定变化")};
        e.level = l->records[i].level;
        e.semester = row->semester;
        e.late = (uint8_t)late;
        if (entry)
            e.name = (xs_str_t){entry->name, (uint32_t)strlen(entry->name)};
        if ((err = fn(ctx, &e)) != XS_OK)
            return err;
    }
    return XS_OK;
}

xs_err hub_year_supplements(hub_t *hub, xs_txn_t *txn, const hub_closed_year_t *c,
                            xs_err (*fn)(void *ctx, const hub_supplement_t *s), void *ctx) {
    s_supp_t s;
    s_ids_t ids = {NULL, 0, 0};
    memset(&s, 0, sizeof s);
    s.hub = hub;
    s.txn = txn;
    s.c = c;
    xs_err err = s_roster(txn, &s.staff);
    if (err == XS_OK)
        err = hub_ledger_teachers_each(txn, s_collect, &ids);
    if (err == XS_OK)
        err = hub_ledger_exams(&s.exams, txn);
    if (err == XS_OK)
        err = xs_certify_exams_build(&s.standings, hub->policy, s.exams.records, s.exams.ids,
                                     s.exams.count);
    for (size_t i = 0; err == XS_OK && i < ids.count; i++)
        err = s_supp_teacher(&s, ids.ids[i].id, ids.ids[i].len, fn, ctx);
    free(ids.ids);
    xs_staff_free(&s.staff);
    hub_ledger_free(&s.ledger);
    hub_ledger_free(&s.exams);
    xs_certify_exams_destroy(&s.standings);
    return err;
}

/* An amendment being built: its entries (strings in the rows' arena), the teacher whose row
 * is being amended, and their row so far. */
typedef struct s_amend {
    hub_t *hub;
    const hub_closed_year_t *c;
    xs_staff_t *staff;
    s_rows_t rows;
    xs_year_entry_t *entries;
    uint8_t (*semesters_levels)[2];
    size_t count, cap;
    /* the current teacher */
    int open;
    xs_year_row_t row;
    xs_year_total_t totals[XS_YEAR_TOTALS_MAX];
    xs_year_role_t roles[XS_POLICY_ROLES_MAX];
    char school[XS_ID_MAX + 1];
} s_amend_t;

/* Judges a row's met and why again from its totals and roles (schema/year.md §3). */
static void s_judge(const xs_policy_t *p, int year, xs_year_row_t *row, xs_year_total_t *totals,
                    xs_year_role_t *roles) {
    int cycle_ends = year == xs_policy_cycle_of(p, year) + (int)p->cycle_years - 1;
    int binding = 0;
    row->why = 0;
    for (uint32_t i = 0; i < row->total_count; i++) {
        xs_year_total_t *t = &totals[i];
        if (t->scope == XS_SCOPE_CYCLE && !cycle_ends)
            continue;
        if (t->binding && t->required_seconds) {
            binding = 1;
            if (t->met == XS_MET_NO)
                row->why |= XS_STANDING_WHY_HOURS;
        }
    }
    for (uint32_t i = 0; i < row->role_count; i++)
        if (roles[i].judged) {
            binding = 1;
            if (roles[i].met == XS_MET_NO)
                row->why |= XS_STANDING_WHY_ROLE;
        }
    if (row->state == XS_STANDING_EXEMPT) {
        row->why = 0;
        row->met = XS_MET_NONE;
        return;
    }
    row->met = row->why ? XS_MET_NO : binding ? XS_MET_YES : XS_MET_NONE;
}

static int s_has_code(const uint64_t set[XS_POLICY_CODES / 64], unsigned code) {
    return code < XS_POLICY_CODES && ((set[code / 64] >> (code % 64)) & 1u);
}

/* Adds one entry's effect to the row being amended. */
static void s_effect(s_amend_t *a, const hub_supplement_t *e) {
    const xs_policy_t *p = a->hub->policy;
    int64_t delta = (int64_t)e->entry.seconds - (int64_t)e->entry.frozen_seconds;
    uint16_t buckets = xs_policy_buckets_of(p, e->entry.category, e->level);
    a->row.credited_seconds = (uint64_t)((int64_t)a->row.credited_seconds + delta < 0
                                             ? 0
                                             : (int64_t)a->row.credited_seconds + delta);
    for (uint32_t i = 0; i < a->row.total_count; i++) {
        xs_year_total_t *t = &a->totals[i];
        if (!((buckets >> t->bucket) & 1u) ||
            (t->scope == XS_SCOPE_SEMESTER && t->semester != e->semester))
            continue;
        int single_missing = t->scope == XS_SCOPE_CYCLE && t->met == XS_MET_NO &&
                             t->credited_seconds >= t->required_seconds && t->required_seconds;
        int64_t v = (int64_t)t->credited_seconds + delta;
        t->credited_seconds = v < 0 ? 0 : (uint64_t)v;
        t->met = s_met(t->credited_seconds, t->required_seconds);
        if (single_missing)
            t->met = XS_MET_NO;
    }
    for (uint32_t i = 0; i < a->row.role_count; i++) {
        xs_year_role_t *r = &a->roles[i];
        if (r->role >= p->role_count)
            continue;
        const xs_policy_role_t *role = &p->roles[r->role];
        if (s_has_code(role->categories, e->entry.category)) {
            int64_t v = (int64_t)r->credited_seconds + delta;
            r->credited_seconds = v < 0 ? 0 : (uint64_t)v;
        }
        if (r->part_required && s_has_code(role->part_categories, e->entry.category)) {
            int64_t v = (int64_t)r->part_seconds + delta;
            r->part_seconds = v < 0 ? 0 : (uint64_t)v;
        }
        r->met = r->credited_seconds >= r->required_seconds &&
                         (!r->part_required || r->part_seconds >= r->part_required)
                     ? XS_MET_YES
                     : XS_MET_NO;
    }
}

/* Ends the teacher being amended: judges their row and keeps it. */
static xs_err s_amend_close_row(s_amend_t *a) {
    if (!a->open)
        return XS_OK;
    a->open = 0;
    s_judge(a->hub->policy, a->c->year, &a->row, a->totals, a->roles);
    a->row.totals = a->totals;
    a->row.roles = a->roles;
    return s_rows_add(&a->rows, &a->row);
}

static xs_err s_amend_entry(void *ctx, const hub_supplement_t *e) {
    s_amend_t *a = ctx;
    xs_err err;
    if (a->open &&
        s_cmp(a->row.teacher_id.ptr, a->row.teacher_id.len, e->entry.teacher_id.ptr,
              e->entry.teacher_id.len) != 0 &&
        (err = s_amend_close_row(a)) != XS_OK)
        return err;
    if (!a->open) {
        /* The teacher's row as it stands, or a new one. */
        const xs_year_row_t *base =
            hub_closed_year_row(a->c, e->entry.teacher_id.ptr, e->entry.teacher_id.len);
        memset(&a->row, 0, sizeof a->row);
        if (base) {
            a->row = *base;
            memcpy(a->totals, base->totals, base->total_count * sizeof *base->totals);
            memcpy(a->roles, base->roles, base->role_count * sizeof *base->roles);
        } else {
            const xs_staff_entry_t *entry =
                xs_staff_find(a->staff, e->entry.teacher_id.ptr, e->entry.teacher_id.len);
            a->row.teacher_id = e->entry.teacher_id;
            a->row.state = entry ? XS_STANDING_CERTIFIED : XS_STANDING_UNROSTERED;
            a->row.final = 1;
            if (entry) {
                a->row.name = (xs_str_t){entry->name, (uint32_t)strlen(entry->name)};
                a->row.school_id = (xs_str_t){entry->school_id, (uint32_t)strlen(entry->school_id)};
            }
            a->row.total_count = s_zero_totals(a->hub->policy, a->totals);
        }
        /* The row's strings must outlive the walk's borrowed ones. */
        if ((err = s_arena_str(&a->rows.arena, a->row.teacher_id, &a->row.teacher_id)) != XS_OK)
            return err;
        a->open = 1;
    }
    s_effect(a, e);
    if (!s_grow((void **)&a->entries, &a->cap, a->count + 1, sizeof *a->entries))
        return XS_ENOMEM;
    xs_year_entry_t *dst = &a->entries[a->count++];
    *dst = e->entry;
    dst->teacher_id = a->row.teacher_id;
    return s_arena_str(&a->rows.arena, e->entry.note, &dst->note);
}

static int s_entry_order(const void *pa, const void *pb) {
    const xs_year_entry_t *a = pa, *b = pb;
    int c = memcmp(a->origin, b->origin, 32);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

xs_err hub_year_amend(hub_t *hub, xs_txn_t *txn, const hub_closed_year_t *c, int64_t now,
                      xs_writer_t *envelope, uint32_t *number, size_t *entries) {
    s_amend_t *a = calloc(1, sizeof *a);
    xs_staff_t staff;
    xs_year_amend_t amend;
    hub_recertify_stats_t stats;
    *number = 0;
    *entries = 0;
    if (!a)
        return XS_ENOMEM;
    a->hub = hub;
    a->c = c;
    a->staff = &staff;
    xs_err err = s_roster(txn, &staff);
    if (err != XS_OK) {
        free(a);
        return err;
    }
    err = hub_year_supplements(hub, txn, c, s_amend_entry, a);
    if (err == XS_OK)
        err = s_amend_close_row(a);
    if (err != XS_OK || a->count == 0)
        goto out;
    s_rows_finish(&a->rows);
    qsort(a->entries, a->count, sizeof *a->entries, s_entry_order);
    memset(&amend, 0, sizeof amend);
    amend.year = c->year;
    memcpy(amend.closed_hash, c->doc.hash, XS_HASH_BYTES);
    amend.number = (uint32_t)c->amend_count + 1;
    amend.issued_at = now;
    amend.entries = a->entries;
    amend.entry_count = a->count;
    amend.rows = a->rows.rows;
    amend.row_count = a->rows.count;
    size_t mark = envelope->len;
    if ((err = xs_year_amend_sign(envelope, hub->id, &amend)) != XS_OK ||
        (err = s_year_put(txn, c->year, HUB_YEAR_AMEND, amend.number, envelope->data + mark,
                          envelope->len - mark)) != XS_OK)
        goto out;
    /* The records are certified now: their frozen rows say so, and they leave the list. */
    for (size_t i = 0; err == XS_OK && i < a->count; i++) {
        const xs_year_entry_t *e = &a->entries[i];
        s_frozen_t f = {e->seconds ? XS_CERT_CREDITED : XS_CERT_REJECTED, e->category, e->seconds};
        err =
            s_frozen_put(txn, c->year, e->origin, e->seq, &f, e->teacher_id.ptr, e->teacher_id.len);
    }
    if (err == XS_OK)
        err = hub_recertify(hub, txn, NULL, NULL, &stats);
    if (err == XS_OK) {
        *number = amend.number;
        *entries = a->count;
    }
out:
    free(a->entries);
    s_rows_free(&a->rows);
    xs_staff_free(&staff);
    free(a);
    return err;
}
