/* credit: the owner of HUB_T_CROWS, HUB_T_CGROUPS, HUB_T_CTARGETS, HUB_T_CSUMS, HUB_T_CEXAMS
 * and META credit: the certification state, moved record by record (docs/scale.md).
 *
 * What the engine needs to certify one record is bounded by the records it competes with: the
 * teacher's records of its event (§3.3), of its work (§3.5, §6.7), of its cap and period
 * (§6.2), the corrections and reviews naming it (§3.1, §7), and its exam event's standings
 * (§3.4). A pass re-certifies, for each record a merge brings, the closure of those groups
 * (a component) with the engine itself (xs_certify_teacher), and moves the state by the
 * difference between the stored rows and the new ones. The engine is not re-implemented here:
 * a component's rows are the engine's, and a full run gives the same rows because no record
 * outside a component can change one inside it.
 *
 * Invariants, all kept inside the merge's write transaction, and the function that moves each:
 *   - CROWS holds, for every accepted record that a pass has certified, the row the engine
 *     gives it over every accepted record held (s_apply). A pass certifies every record it was
 *     given, and everything whose row they can change.
 *   - CGROUPS holds every accepted activity with a teacher_id under each group of it (E: same
 *     category and event, W: same category and normalised work, C: same cap and period; S:
 *     the single-record category's records by year) and the teacher's origins (O) (s_index);
 *     K holds a cap group's kept records with what ranks them (s_apply). Groups over-approximate:
 * two records share a key when the engine might compare them; sharing one by a hash collision costs
 * work, never a wrong row.
 *   - CTARGETS holds every accepted correction and review under the record it names (s_index).
 *   - CSUMS (teacher, year) is the sum of xs_certify_sums_apply over the CROWS rows of the
 *     teacher's activities dated in that year, and best is the largest single-record
 *     candidate among them (s_apply, s_best).
 *   - CEXAMS holds exactly the exam activities whose row bears a tier (not rejected, not
 *     voided), with kept = 1 when the row is credited (a participant of the event's
 *     standings) and the tier of the stored row (s_apply). After a pass, every stored tier is
 *     the tier of its score in the event's standings (s_exam_phases).
 *   - META credit is the hash of the policy every stored row and group was made under:
 *     hub_credit_rebuild writes it after rebuilding everything under a new policy. */
#include "credit.h"

#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "xs/identity.h"

#define S_IDENT 40 /* origin (32) + seq (8) */
#define S_GROUP 16 /* hash of a group's key */
#define S_ROW_BYTES 27
#define S_KEY_MAX (XS_ID_MAX + 1 + 1 + S_GROUP + S_IDENT)
#define S_EXAM_KEY_MAX (2 + XS_EVENT_MAX + 4 + S_IDENT)
/* Passes over changed exam events after the first: re-ranking never changes who is kept, so
 * one suffices; a few more are allowed before the state is called corrupt. */
#define S_EXAM_PASSES 8

enum {
    S_KIND_EVENT = 'E',
    S_KIND_WORK = 'W',
    S_KIND_CAP = 'C',
    S_KIND_SINGLE = 'S',
    S_KIND_KEPT = 'K',
    S_KIND_ORIGIN = 'O'
};

/* A record identity: origin and big-endian seq, as keys hold it. */
typedef struct s_ident {
    uint8_t b[S_IDENT];
} s_ident_t;

/* A record to re-certify, with the teacher whose component holds it (len 0: none). */
typedef struct s_seed {
    s_ident_t ident;
    char teacher[XS_ID_MAX];
    uint32_t len;
    uint8_t resolved;         /* teacher, fast and cap are known */
    uint8_t fast;             /* an activity whose one group is a cap's (s_fast) */
    uint8_t cap[1 + S_GROUP]; /* that group's key */
} s_seed_t;

/* An exam event's standings, loaded once per phase. */
typedef struct s_event {
    char name[XS_EVENT_MAX];
    uint32_t len;
    uint32_t *scores; /* kept scores */
    size_t count;
} s_event_t;

/* One member of a component, and what becomes of it. */
typedef struct s_member {
    s_ident_t ident;
    uint8_t kind;             /* xs_record kind */
    uint8_t counted;          /* an activity of the component's teacher: in its sums */
    uint8_t level;            /* xs_certify_level */
    uint8_t exam;             /* an exam activity with an event */
    uint32_t score;           /* exam: its score */
    uint16_t event;           /* exam: index in the pass's event names */
    uint8_t has_cap;          /* an activity of the teacher in a cap's group */
    uint8_t cap[1 + S_GROUP]; /* that group's key */
    int32_t date;             /* its date, days since 1970-01-01 */
    uint8_t had_old;          /* a row was stored */
    uint8_t skip;             /* not an accepted record: left out */
    uint8_t old[S_ROW_BYTES];
} s_member_t;

struct hub_credit {
    hub_t *hub;
    xs_txn_t *txn;
    const xs_policy_t *p;
    s_seed_t *seeds;
    size_t nseeds, seeds_cap;
    /* the component being certified */
    s_member_t *members;
    xs_record_t *records;
    uint64_t *ids;
    xs_certify_row_t *rows;
    size_t count, cap;
    uint64_t *seen; /* open addressing over idents' hashes + 1; 0 empty */
    size_t seen_mask;
    uint8_t (*scanned)[1 + S_GROUP]; /* groups of the component already walked */
    size_t nscanned, scanned_cap;
    /* exam events met (names), and the standings of those loaded */
    s_event_t *events;
    size_t nevents, events_cap;
    xs_certify_exams_t *standings;   /* over every loaded event; NULL: to be made again */
    const xs_certify_exams_t *fixed; /* the county's standings given whole (rebuild) */
    int no_groups;                   /* s_member_load: the component does not grow by groups */
    int fast;                        /* new records of a cap's group may take s_fast */
    uint8_t *changed_events;         /* per event: its kept set moved */
    size_t changed_cap;
    /* origin → enrollment number */
    struct {
        uint8_t origin[32];
        uint32_t number;
    } * numbers;
    size_t nnumbers, numbers_cap;
    /* teachers whose rows or sums moved */
    s_seed_t *changed;
    size_t nchanged, changed_teachers_cap;
};

static int s_grow(void **array, size_t *cap, size_t want, size_t size) {
    if (want <= *cap)
        return 1;
    size_t n = *cap ? *cap : 16;
    while (n < want)
        n *= 2;
    void *p = realloc(*array, n * size);
    if (!p)
        return 0;
    *array = p;
    *cap = n;
    return 1;
}

static void s_ident_make(s_ident_t *id, const uint8_t origin[32], uint64_t seq) {
    memcpy(id->b, origin, 32);
    xs_store_u64_key(seq, id->b + 32);
}

static uint64_t s_ident_seq(const s_ident_t *id) {
    return xs_store_key_u64(id->b + 32);
}

/* ---- rows ---- */

static void s_row_encode(uint8_t out[S_ROW_BYTES], const xs_certify_row_t *row, unsigned level,
                         unsigned kind) {
    xs_store_u64_key(row->related_id, out);
    xs_store_u32_key(row->credited_seconds, out + 8);
    xs_store_u32_key(row->base_seconds, out + 12);
    out[16] = (uint8_t)((uint16_t)row->year >> 8);
    out[17] = (uint8_t)row->year;
    out[18] = row->semester;
    out[19] = row->status;
    out[20] = row->reason;
    out[21] = row->field;
    out[22] = row->category;
    out[23] = row->tier;
    out[24] = row->review;
    out[25] = (uint8_t)level;
    out[26] = (uint8_t)kind;
}

static void s_row_decode(const uint8_t in[S_ROW_BYTES], xs_certify_row_t *row, unsigned *level) {
    memset(row, 0, sizeof *row);
    row->related_id = xs_store_key_u64(in);
    row->credited_seconds = xs_store_key_u32(in + 8);
    row->base_seconds = xs_store_key_u32(in + 12);
    row->year = (int16_t)(uint16_t)((unsigned)in[16] << 8 | in[17]);
    row->semester = in[18];
    row->status = in[19];
    row->reason = in[20];
    row->field = in[21];
    row->category = in[22];
    row->tier = in[23];
    row->review = in[24];
    if (level)
        *level = in[25];
}

xs_err hub_credit_row(xs_txn_t *txn, const uint8_t origin[32], uint64_t seq,
                      xs_certify_row_t *row) {
    s_ident_t id;
    xs_bytes_t v;
    s_ident_make(&id, origin, seq);
    xs_err err = xs_store_get(txn, HUB_T_CROWS, id.b, S_IDENT, &v);
    if (err != XS_OK)
        return err;
    if (v.len != S_ROW_BYTES)
        return XS_ECORRUPT;
    s_row_decode(v.ptr, row, NULL);
    return XS_OK;
}

/* An academic year as 2 bytes that sort as the years do, and back. */
static void s_year_part(uint8_t part[2], int year) {
    part[0] = (uint8_t)((uint16_t)(year + 32768) >> 8);
    part[1] = (uint8_t)(year + 32768);
}

static int s_part_year(const uint8_t part[2]) {
    return (int)((unsigned)part[0] << 8 | part[1]) - 32768;
}

/* ---- sums ---- */

static size_t s_sums_bytes(const xs_policy_t *p) {
    return 8 + 24 * (size_t)p->bucket_count;
}

static size_t s_sums_key(uint8_t *key, const char *teacher, size_t len, int year) {
    memcpy(key, teacher, len);
    key[len] = 0;
    s_year_part(key + len + 1, year);
    return len + 3;
}

static void s_sums_encode(const xs_policy_t *p, const xs_certify_sums_t *s, uint8_t *out) {
    xs_store_u32_key(s->held, out);
    xs_store_u32_key(s->best, out + 4);
    uint8_t *o = out + 8;
    for (size_t b = 0; b < p->bucket_count; b++, o += 24) {
        xs_store_u64_key(s->credited[0][b], o);
        xs_store_u64_key(s->credited[1][b], o + 8);
        xs_store_u32_key(s->unreviewed[0][b], o + 16);
        xs_store_u32_key(s->unreviewed[1][b], o + 20);
    }
}

static xs_err s_sums_decode(const xs_policy_t *p, const xs_bytes_t *v, int year,
                            xs_certify_sums_t *s) {
    memset(s, 0, sizeof *s);
    s->year = (int16_t)year;
    if (v->len != s_sums_bytes(p))
        return XS_ECORRUPT;
    const uint8_t *in = v->ptr;
    s->held = xs_store_key_u32(in);
    s->best = xs_store_key_u32(in + 4);
    in += 8;
    for (size_t b = 0; b < p->bucket_count; b++, in += 24) {
        s->credited[0][b] = xs_store_key_u64(in);
        s->credited[1][b] = xs_store_key_u64(in + 8);
        s->unreviewed[0][b] = xs_store_key_u32(in + 16);
        s->unreviewed[1][b] = xs_store_key_u32(in + 20);
    }
    return XS_OK;
}

/* ---- groups ---- */

/* The group keys of activity rec (its E, W and C groups; 0 to 3 of them) into keys, each
 * kind (1) + hash (16). */
static size_t s_groups_of(const xs_policy_t *p, const xs_record_t *rec,
                          uint8_t keys[3][1 + S_GROUP]) {
    uint8_t buf[2 + XS_WORK_MAX + XS_EVENT_MAX];
    size_t n = 0;
    unsigned custom = p->custom_of[rec->category];
    if (rec->event.len > 0 && (rec->present & (1u << XS_F_EVENT)) &&
        rec->event.len <= XS_EVENT_MAX && (!custom || p->custom[custom - 1].same_event)) {
        buf[0] = S_KIND_EVENT;
        buf[1] = rec->category;
        memcpy(buf + 2, rec->event.ptr, rec->event.len);
        keys[n][0] = S_KIND_EVENT;
        xs_identity_hash_short(buf, 2 + rec->event.len, keys[n] + 1, S_GROUP);
        n++;
    }
    if (rec->category == XS_CAT_PAPER || rec->category == XS_CAT_PROJECT) {
        buf[0] = S_KIND_WORK;
        buf[1] = rec->category;
        size_t len =
            xs_certify_normalize_work(rec->work.ptr, rec->work.len, (char *)buf + 2, XS_WORK_MAX);
        keys[n][0] = S_KIND_WORK;
        xs_identity_hash_short(buf, 2 + len, keys[n] + 1, S_GROUP);
        n++;
    }
    unsigned cap = p->cap_of[rec->category];
    if (cap) {
        unsigned semester;
        int year = xs_certify_record_year(p, rec, &semester);
        buf[0] = S_KIND_CAP;
        buf[1] = (uint8_t)cap;
        s_year_part(buf + 2, year);
        buf[4] = p->caps[cap - 1].period == XS_SCOPE_SEMESTER ? (uint8_t)semester : 0;
        keys[n][0] = S_KIND_CAP;
        xs_identity_hash_short(buf, 5, keys[n] + 1, S_GROUP);
        n++;
    }
    return n;
}

/* teacher + 0x00 + kind + part (part_len bytes) [+ ident]. */
static size_t s_group_key(uint8_t *key, const char *teacher, size_t len, uint8_t kind,
                          const uint8_t *part, size_t part_len, const s_ident_t *ident) {
    memcpy(key, teacher, len);
    key[len] = 0;
    key[len + 1] = kind;
    if (part_len)
        memcpy(key + len + 2, part, part_len);
    size_t n = len + 2 + part_len;
    if (ident) {
        memcpy(key + n, ident->b, S_IDENT);
        n += S_IDENT;
    }
    return n;
}

/* Notes that origin holds records of teacher (len bytes): an activity (the value 1: the
 * teacher has a ledger) or only records naming one (0). Read before written: the teacher's
 * origin is almost always known already, and a put would dirty its page all the same. */
static xs_err s_index_origin(xs_txn_t *txn, const char *teacher, size_t len,
                             const uint8_t origin[32], uint8_t activity) {
    uint8_t key[S_KEY_MAX];
    xs_bytes_t v;
    size_t klen = s_group_key(key, teacher, len, S_KIND_ORIGIN, origin, 32, NULL);
    xs_err err = xs_store_get(txn, HUB_T_CGROUPS, key, klen, &v);
    if (err == XS_OK && (v.len != 1 || ((const uint8_t *)v.ptr)[0] >= activity))
        return XS_OK;
    if (err != XS_OK && err != XS_ENOTFOUND)
        return err;
    return xs_store_put(txn, HUB_T_CGROUPS, key, klen, &activity, 1, 0);
}

/* Indexes accepted record rec (origin, seq): its groups, or the record it names. */
static xs_err s_index(const xs_policy_t *p, xs_txn_t *txn, const uint8_t origin[32], uint64_t seq,
                      const xs_record_t *rec) {
    uint8_t key[S_KEY_MAX], keys[3][1 + S_GROUP];
    s_ident_t self;
    s_ident_make(&self, origin, seq);
    int teacher = rec->teacher_id.len > 0 && (rec->present & (1u << XS_F_TEACHER_ID)) &&
                  rec->teacher_id.len <= XS_ID_MAX;
    const char *t = rec->teacher_id.ptr;
    size_t len = rec->teacher_id.len;
    xs_err err = XS_OK;
    if (rec->kind == XS_KIND_CORRECTION || rec->kind == XS_KIND_REVIEW) {
        uint8_t pair[2 * S_IDENT];
        s_ident_t target;
        s_ident_make(&target, origin, rec->kind == XS_KIND_CORRECTION ? rec->voids : rec->reviews);
        memcpy(pair, target.b, S_IDENT);
        memcpy(pair + S_IDENT, self.b, S_IDENT);
        err = xs_store_put(txn, HUB_T_CTARGETS, pair, sizeof pair, "", 0, 0);
        /* Its origin holds a record of the teacher it names: it gets their receipts. */
        return err == XS_OK && teacher ? s_index_origin(txn, t, len, origin, 0) : err;
    }
    if (rec->kind != XS_KIND_ACTIVITY || !teacher)
        return XS_OK;
    size_t n = s_groups_of(p, rec, keys);
    for (size_t i = 0; err == XS_OK && i < n; i++)
        err = xs_store_put(txn, HUB_T_CGROUPS, key,
                           s_group_key(key, t, len, keys[i][0], keys[i] + 1, S_GROUP, &self), "", 0,
                           0);
    unsigned semester;
    int year = xs_certify_record_year(p, rec, &semester);
    if (err == XS_OK && year) {
        uint8_t part[2];
        s_year_part(part, year);
        if (rec->category == p->single.category && p->single.category)
            err = xs_store_put(txn, HUB_T_CGROUPS, key,
                               s_group_key(key, t, len, S_KIND_SINGLE, part, 2, &self), "", 0, 0);
    }
    return err == XS_OK ? s_index_origin(txn, t, len, origin, 1) : err;
}

/* ---- the pass ---- */

xs_err hub_credit_begin(hub_credit_t **out, hub_t *hub, xs_txn_t *txn) {
    hub_credit_t *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c)
        return XS_ENOMEM;
    c->hub = hub;
    c->txn = txn;
    c->p = hub->policy;
    c->fast = 1;
    *out = c;
    return XS_OK;
}

static void s_events_drop(hub_credit_t *c) {
    for (size_t i = 0; i < c->nevents; i++) {
        free(c->events[i].scores);
        c->events[i].scores = NULL;
        c->events[i].count = 0;
    }
    xs_certify_exams_destroy(&c->standings);
}

void hub_credit_end(hub_credit_t **cp) {
    if (!cp || !*cp)
        return;
    hub_credit_t *c = *cp;
    s_events_drop(c);
    free(c->events);
    free(c->changed_events);
    free(c->seeds);
    free(c->members);
    free(c->records);
    free(c->ids);
    free(c->rows);
    free(c->seen);
    free(c->scanned);
    free(c->numbers);
    free(c->changed);
    free(c);
    *cp = NULL;
}

static xs_err s_seed(hub_credit_t *c, const s_ident_t *id) {
    if (!s_grow((void **)&c->seeds, &c->seeds_cap, c->nseeds + 1, sizeof *c->seeds))
        return XS_ENOMEM;
    memset(&c->seeds[c->nseeds], 0, sizeof c->seeds[c->nseeds]);
    c->seeds[c->nseeds].ident = *id;
    c->nseeds++;
    return XS_OK;
}

/* Fills seed's teacher (len 0: none) and whether it may take the fast way, from its activity
 * record rec. */
static void s_classify(const hub_credit_t *c, s_seed_t *seed, const xs_record_t *rec) {
    seed->len = 0;
    seed->fast = 0;
    seed->resolved = 1;
    if (rec->teacher_id.len && rec->teacher_id.len <= XS_ID_MAX &&
        (rec->present & (1u << XS_F_TEACHER_ID))) {
        memcpy(seed->teacher, rec->teacher_id.ptr, rec->teacher_id.len);
        seed->len = rec->teacher_id.len;
    }
    /* One group only, a cap's, over categories ranked by credit (a cap with exams ranks them
     * by score: no fast way there), keeping at least one. */
    uint8_t keys[3][1 + S_GROUP];
    unsigned cap = c->p->cap_of[rec->category];
    if (c->fast && seed->len && cap && s_groups_of(c->p, rec, keys) == 1 &&
        keys[0][0] == S_KIND_CAP && c->p->cap_of[XS_CAT_EXAM] != cap &&
        c->p->caps[cap - 1].count >= 1) {
        seed->fast = 1;
        memcpy(seed->cap, keys[0], sizeof seed->cap);
    }
}

xs_err hub_credit_add(hub_credit_t *c, const uint8_t origin[32], uint64_t seq,
                      const xs_record_t *rec) {
    s_ident_t self;
    xs_err err = s_index(c->p, c->txn, origin, seq, rec);
    if (err != XS_OK)
        return err;
    s_ident_make(&self, origin, seq);
    if ((err = s_seed(c, &self)) == XS_OK && rec->kind == XS_KIND_ACTIVITY)
        s_classify(c, &c->seeds[c->nseeds - 1], rec); /* no decode again to resolve it */
    return err;
}

/* The enrollment number of origin. */
static xs_err s_number(hub_credit_t *c, const uint8_t origin[32], uint32_t *out) {
    for (size_t i = 0; i < c->nnumbers; i++)
        if (memcmp(c->numbers[i].origin, origin, 32) == 0) {
            *out = c->numbers[i].number;
            return XS_OK;
        }
    hub_node_t node;
    xs_err err = hub_node_get(c->txn, origin, &node);
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    if (!s_grow((void **)&c->numbers, &c->numbers_cap, c->nnumbers + 1, sizeof *c->numbers))
        return XS_ENOMEM;
    memcpy(c->numbers[c->nnumbers].origin, origin, 32);
    c->numbers[c->nnumbers++].number = node.number;
    *out = node.number;
    return XS_OK;
}

/* Decodes accepted record id into *rec (borrowing the store until its next write), ids mapped
 * into the engine's space as hub/ledger.c maps them. XS_ENOTFOUND when it is not held or not
 * accepted. */
static xs_err s_load(hub_credit_t *c, const s_ident_t *id, xs_record_t *rec, uint64_t *engine_id) {
    uint8_t outcome;
    uint32_t number;
    xs_err err = hub_ledger_record(c->txn, id->b, s_ident_seq(id), rec, &outcome);
    if (err != XS_OK)
        return err;
    if (outcome != HUB_OUTCOME_ACCEPTED)
        return XS_ENOTFOUND;
    if ((err = s_number(c, id->b, &number)) != XS_OK)
        return err;
    uint64_t high = (uint64_t)number << HUB_ID_SEQ_BITS;
    if (rec->kind == XS_KIND_CORRECTION)
        rec->voids = high | rec->voids;
    else if (rec->kind == XS_KIND_REVIEW)
        rec->reviews = high | rec->reviews;
    *engine_id = high | s_ident_seq(id);
    return XS_OK;
}

static uint64_t s_ident_hash(const s_ident_t *id) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < S_IDENT; i += 8) {
        uint64_t w;
        memcpy(&w, id->b + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    return h;
}

/* Adds id to the component unless it is there; *added says. XS_ENOMEM. */
static xs_err s_member_add(hub_credit_t *c, const s_ident_t *id, int *added) {
    *added = 0;
    if ((c->count + 1) * 2 > c->seen_mask) {
        size_t slots = c->seen_mask ? (c->seen_mask + 1) * 2 : 64;
        uint64_t *seen = calloc(slots, sizeof *seen);
        if (!seen)
            return XS_ENOMEM;
        for (size_t i = 0; i < c->count; i++) {
            size_t s = (size_t)s_ident_hash(&c->members[i].ident) & (slots - 1);
            while (seen[s])
                s = (s + 1) & (slots - 1);
            seen[s] = i + 1;
        }
        free(c->seen);
        c->seen = seen;
        c->seen_mask = slots - 1;
    }
    size_t s = (size_t)s_ident_hash(id) & c->seen_mask;
    for (; c->seen[s]; s = (s + 1) & c->seen_mask)
        if (memcmp(c->members[c->seen[s] - 1].ident.b, id->b, S_IDENT) == 0)
            return XS_OK;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        void *m = realloc(c->members, cap * sizeof *c->members);
        if (m)
            c->members = m;
        void *r = realloc(c->records, cap * sizeof *c->records);
        if (r)
            c->records = r;
        void *i = realloc(c->ids, cap * sizeof *c->ids);
        if (i)
            c->ids = i;
        void *w = realloc(c->rows, cap * sizeof *c->rows);
        if (w)
            c->rows = w;
        if (!m || !r || !i || !w)
            return XS_ENOMEM;
        c->cap = cap;
    }
    memset(&c->members[c->count], 0, sizeof c->members[c->count]);
    c->members[c->count].ident = *id;
    c->seen[s] = ++c->count;
    *added = 1;
    return XS_OK;
}

static void s_component_reset(hub_credit_t *c) {
    c->count = 0;
    c->nscanned = 0;
    if (c->seen_mask > 4095) {
        /* A rebuild's large component: do not clear its table for every small one after. */
        free(c->seen);
        c->seen = NULL;
        c->seen_mask = 0;
    } else if (c->seen) {
        memset(c->seen, 0, (c->seen_mask + 1) * sizeof *c->seen);
    }
}

/* Whether group key (kind + hash) was walked for this component already; notes it if not.
 * -1 when out of memory. */
static int s_scanned(hub_credit_t *c, const uint8_t key[1 + S_GROUP]) {
    for (size_t i = 0; i < c->nscanned; i++)
        if (memcmp(c->scanned[i], key, 1 + S_GROUP) == 0)
            return 1;
    if (!s_grow((void **)&c->scanned, &c->scanned_cap, c->nscanned + 1, sizeof *c->scanned))
        return -1;
    memcpy(c->scanned[c->nscanned++], key, 1 + S_GROUP);
    return 0;
}

/* Adds every record under key prefix (klen bytes) of table, whose keys are the prefix and an
 * identity, to the component. */
static xs_err s_add_prefix(hub_credit_t *c, unsigned table, const uint8_t *prefix, size_t klen) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    xs_err err = xs_store_cursor_open(c->txn, table, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, prefix, klen, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != klen + S_IDENT || memcmp(k.ptr, prefix, klen) != 0)
            break;
        s_ident_t id;
        int added;
        memcpy(id.b, (const uint8_t *)k.ptr + klen, S_IDENT);
        if ((err = s_member_add(c, &id, &added)) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* The index of event name (len bytes) among the pass's events, added when new. */
static xs_err s_event_index(hub_credit_t *c, const char *name, size_t len, uint16_t *out) {
    for (size_t i = 0; i < c->nevents; i++)
        if (c->events[i].len == len && memcmp(c->events[i].name, name, len) == 0) {
            *out = (uint16_t)i;
            return XS_OK;
        }
    if (c->nevents >= UINT16_MAX || len > XS_EVENT_MAX ||
        !s_grow((void **)&c->events, &c->events_cap, c->nevents + 1, sizeof *c->events))
        return XS_ENOMEM;
    s_event_t *e = &c->events[c->nevents];
    memset(e, 0, sizeof *e);
    memcpy(e->name, name, len);
    e->len = (uint32_t)len;
    size_t cap = c->changed_cap;
    if (!s_grow((void **)&c->changed_events, &cap, c->nevents + 1, 1))
        return XS_ENOMEM;
    memset(c->changed_events + c->changed_cap, 0, cap - c->changed_cap);
    c->changed_cap = cap;
    *out = (uint16_t)c->nevents++;
    return XS_OK;
}

static size_t s_exam_prefix(uint8_t *key, const char *event, size_t len) {
    key[0] = (uint8_t)(len >> 8);
    key[1] = (uint8_t)len;
    memcpy(key + 2, event, len);
    return 2 + len;
}

/* Loads the kept scores of event e from CEXAMS. */
static xs_err s_event_load(hub_credit_t *c, s_event_t *e) {
    uint8_t key[S_EXAM_KEY_MAX];
    size_t klen = s_exam_prefix(key, e->name, e->len), cap = 0;
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    free(e->scores);
    e->scores = NULL;
    e->count = 0;
    xs_err err = xs_store_cursor_open(c->txn, HUB_T_CEXAMS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, key, klen, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != klen + 4 + S_IDENT || memcmp(k.ptr, key, klen) != 0)
            break;
        if (v.len < 2) {
            err = XS_ECORRUPT;
            break;
        }
        if (!((const uint8_t *)v.ptr)[0])
            continue;
        if (!s_grow((void **)&e->scores, &cap, e->count + 1, sizeof *e->scores)) {
            err = XS_ENOMEM;
            break;
        }
        e->scores[e->count++] = xs_store_key_u32((const uint8_t *)k.ptr + klen);
    }
    xs_store_cursor_close(&cur);
    if (err == XS_ENOTFOUND)
        err = XS_OK;
    if (err == XS_OK && !e->scores)
        e->scores = malloc(sizeof *e->scores); /* loaded, with no participant */
    return err == XS_OK && !e->scores ? XS_ENOMEM : err;
}

/* Standings covering every exam event of the component: the pass's, loaded once per phase. */
static xs_err s_standings(hub_credit_t *c, const xs_certify_exams_t **out) {
    int missing = 0;
    *out = c->fixed;
    if (c->fixed)
        return XS_OK;
    for (size_t i = 0; i < c->count; i++) {
        const s_member_t *m = &c->members[i];
        if (m->exam && !c->events[m->event].scores) {
            xs_err err = s_event_load(c, &c->events[m->event]);
            if (err != XS_OK)
                return err;
            missing = 1;
        }
    }
    if (missing || !c->standings) {
        xs_certify_exam_event_t *list = malloc((c->nevents + 1) * sizeof *list);
        size_t n = 0;
        if (!list)
            return XS_ENOMEM;
        for (size_t i = 0; i < c->nevents; i++)
            if (c->events[i].scores)
                list[n++] = (xs_certify_exam_event_t){c->events[i].name, c->events[i].len,
                                                      c->events[i].scores, c->events[i].count};
        xs_certify_exams_destroy(&c->standings);
        xs_err err = xs_certify_exams_make(&c->standings, list, n);
        free(list);
        if (err != XS_OK)
            return err;
    }
    *out = c->standings;
    return XS_OK;
}

/* Whether a row bears an exam tier, and whether it is kept (a participant). */
static int s_bears_tier(const xs_certify_row_t *row) {
    return row->category == XS_CAT_EXAM && row->status != XS_CERT_REJECTED &&
           row->status != XS_CERT_VOIDED;
}

/* Recomputes best of (teacher, year) from its single-category records' stored rows. */
static xs_err s_best(hub_credit_t *c, const char *teacher, size_t len, int year, uint32_t *best) {
    uint8_t key[S_KEY_MAX], part[2];
    s_year_part(part, year);
    size_t klen = s_group_key(key, teacher, len, S_KIND_SINGLE, part, 2, NULL);
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v, rv;
    *best = 0;
    xs_err err = xs_store_cursor_open(c->txn, HUB_T_CGROUPS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, key, klen, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != klen + S_IDENT || memcmp(k.ptr, key, klen) != 0)
            break;
        xs_err gerr =
            xs_store_get(c->txn, HUB_T_CROWS, (const uint8_t *)k.ptr + klen, S_IDENT, &rv);
        if (gerr == XS_ENOTFOUND)
            continue; /* not certified yet: its pass comes */
        if (gerr != XS_OK || rv.len != S_ROW_BYTES) {
            err = gerr != XS_OK ? gerr : XS_ECORRUPT;
            break;
        }
        xs_certify_row_t row;
        unsigned level;
        s_row_decode(rv.ptr, &row, &level);
        if (xs_certify_single_candidate(c->p, &row, level) && row.credited_seconds > *best)
            *best = row.credited_seconds;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* Notes teacher (len bytes) among the changed ones. */
static xs_err s_changed(hub_credit_t *c, const char *teacher, size_t len) {
    if (c->nchanged && c->changed[c->nchanged - 1].len == len &&
        memcmp(c->changed[c->nchanged - 1].teacher, teacher, len) == 0)
        return XS_OK;
    if (!s_grow((void **)&c->changed, &c->changed_teachers_cap, c->nchanged + 1,
                sizeof *c->changed))
        return XS_ENOMEM;
    memcpy(c->changed[c->nchanged].teacher, teacher, len);
    c->changed[c->nchanged++].len = (uint32_t)len;
    return XS_OK;
}

/* One year's sums being moved. */
typedef struct s_year_sums {
    xs_certify_sums_t sums;
    uint8_t best_moved;
} s_year_sums_t;

/* Stores the component's new rows and moves the teacher's sums and the exam index by the
 * difference (the records are not read here: the store is written). */
static xs_err s_apply(hub_credit_t *c, const char *teacher, size_t len) {
    s_year_sums_t *years = NULL;
    size_t nyears = 0, years_cap = 0;
    uint8_t key[S_EXAM_KEY_MAX > S_KEY_MAX ? S_EXAM_KEY_MAX : S_KEY_MAX];
    xs_err err = XS_OK;
    int moved = 0;
    for (size_t i = 0; err == XS_OK && i < c->count; i++) {
        s_member_t *m = &c->members[i];
        const xs_certify_row_t *row = &c->rows[i];
        uint8_t enc[S_ROW_BYTES];
        s_row_encode(enc, row, m->level, m->kind);
        if (m->had_old && memcmp(enc, m->old, S_ROW_BYTES) == 0)
            continue;
        if ((err = xs_store_put(c->txn, HUB_T_CROWS, m->ident.b, S_IDENT, enc, S_ROW_BYTES, 0)) !=
            XS_OK)
            break;
        xs_certify_row_t old;
        unsigned old_level = m->level;
        if (m->had_old)
            s_row_decode(m->old, &old, &old_level);
        if (m->counted) {
            moved = 1;
            int year = row->year; /* a record's year never changes */
            if (year) {
                size_t y = 0;
                while (y < nyears && years[y].sums.year != year)
                    y++;
                if (y == nyears) {
                    xs_bytes_t v;
                    if (!s_grow((void **)&years, &years_cap, nyears + 1, sizeof *years)) {
                        err = XS_ENOMEM;
                        break;
                    }
                    memset(&years[y], 0, sizeof years[y]);
                    years[y].sums.year = (int16_t)year;
                    err = xs_store_get(c->txn, HUB_T_CSUMS, key,
                                       s_sums_key(key, teacher, len, year), &v);
                    if (err == XS_OK)
                        err = s_sums_decode(c->p, &v, year, &years[y].sums);
                    else if (err == XS_ENOTFOUND)
                        err = XS_OK;
                    if (err != XS_OK)
                        break;
                    nyears++;
                }
                if (m->had_old)
                    xs_certify_sums_apply(c->p, &years[y].sums, &old, old_level, -1);
                xs_certify_sums_apply(c->p, &years[y].sums, row, m->level, 1);
                if ((m->had_old && xs_certify_single_candidate(c->p, &old, old_level)) ||
                    xs_certify_single_candidate(c->p, row, m->level))
                    years[y].best_moved = 1;
            }
        }
        if (m->has_cap) {
            /* The cap group's kept records, with what ranks them (s_fast reads them). */
            int was_kept = m->had_old && old.status == XS_CERT_CREDITED;
            uint8_t kkey[S_KEY_MAX];
            size_t klen =
                s_group_key(kkey, teacher, len, S_KIND_KEPT, m->cap + 1, S_GROUP, &m->ident);
            if (row->status == XS_CERT_CREDITED) {
                uint8_t value[16];
                xs_store_u32_key(row->credited_seconds, value);
                xs_store_u32_key((uint32_t)m->date, value + 4);
                xs_store_u64_key(c->ids[i], value + 8);
                err = xs_store_put(c->txn, HUB_T_CGROUPS, kkey, klen, value, sizeof value, 0);
            } else if (was_kept) {
                err = xs_store_del(c->txn, HUB_T_CGROUPS, kkey, klen);
            }
            if (err != XS_OK)
                break;
        }
        if (m->exam) {
            const s_event_t *e = &c->events[m->event];
            int was = m->had_old && s_bears_tier(&old), is = s_bears_tier(row);
            int was_kept = was && old.status == XS_CERT_CREDITED;
            int is_kept = is && row->status == XS_CERT_CREDITED;
            size_t klen = s_exam_prefix(key, e->name, e->len);
            xs_store_u32_key(m->score, key + klen);
            memcpy(key + klen + 4, m->ident.b, S_IDENT);
            klen += 4 + S_IDENT;
            if (is) {
                uint8_t value[2 + XS_ID_MAX];
                value[0] = (uint8_t)is_kept;
                value[1] = row->tier;
                memcpy(value + 2, teacher, len);
                err = xs_store_put(c->txn, HUB_T_CEXAMS, key, klen, value, 2 + len, 0);
            } else if (was) {
                err = xs_store_del(c->txn, HUB_T_CEXAMS, key, klen);
            }
            if (was_kept != is_kept)
                c->changed_events[m->event] = 1;
        }
    }
    /* The years' sums, with best recomputed where a candidate moved (rows are stored now). */
    for (size_t y = 0; err == XS_OK && y < nyears; y++) {
        uint8_t value[8 + 24 * XS_POLICY_BUCKETS_MAX];
        if (years[y].best_moved &&
            (err = s_best(c, teacher, len, years[y].sums.year, &years[y].sums.best)) != XS_OK)
            break;
        s_sums_encode(c->p, &years[y].sums, value);
        err = xs_store_put(c->txn, HUB_T_CSUMS, key,
                           s_sums_key(key, teacher, len, years[y].sums.year), value,
                           s_sums_bytes(c->p), 0);
    }
    free(years);
    if (err == XS_OK && moved)
        err = s_changed(c, teacher, len);
    return err;
}

/* Fills member i's record, engine id and old row, and expands the closure from it: for an
 * activity of the teacher, its groups and the records naming it. */
static xs_err s_member_load(hub_credit_t *c, size_t i, const char *teacher, size_t len) {
    s_member_t *m = &c->members[i];
    xs_record_t *rec = &c->records[i];
    uint8_t key[S_KEY_MAX], keys[3][1 + S_GROUP];
    xs_bytes_t v;
    xs_err err = s_load(c, &m->ident, rec, &c->ids[i]);
    if (err != XS_OK)
        return err;
    m->kind = rec->kind;
    m->level = (uint8_t)xs_certify_level(rec);
    err = xs_store_get(c->txn, HUB_T_CROWS, m->ident.b, S_IDENT, &v);
    if (err == XS_OK) {
        if (v.len != S_ROW_BYTES)
            return XS_ECORRUPT;
        memcpy(m->old, v.ptr, S_ROW_BYTES);
        m->had_old = 1;
    } else if (err != XS_ENOTFOUND) {
        return err;
    }
    if (rec->kind != XS_KIND_ACTIVITY)
        return XS_OK;
    int mine = len && rec->teacher_id.len == len && (rec->present & (1u << XS_F_TEACHER_ID)) &&
               memcmp(rec->teacher_id.ptr, teacher, len) == 0;
    m->counted = (uint8_t)mine;
    if (mine && rec->category == XS_CAT_EXAM && rec->event.len > 0 &&
        (rec->present & (1u << XS_F_EVENT))) {
        if ((err = s_event_index(c, rec->event.ptr, rec->event.len, &m->event)) != XS_OK)
            return err;
        m->exam = 1;
        m->score = rec->score;
    }
    /* What names it (corrections and reviews, whatever their teacher), and its groups. Adding
     * members may move the arrays: nothing of m or rec is read after the first add. */
    s_ident_t self = m->ident;
    size_t n = mine ? s_groups_of(c->p, rec, keys) : 0;
    m->date = rec->date;
    for (size_t g = 0; g < n; g++)
        if (keys[g][0] == S_KIND_CAP) {
            m->has_cap = 1;
            memcpy(m->cap, keys[g], sizeof m->cap);
        }
    if (c->no_groups)
        n = 0;
    if ((err = s_add_prefix(c, HUB_T_CTARGETS, self.b, S_IDENT)) != XS_OK)
        return err;
    for (size_t g = 0; g < n && err == XS_OK; g++) {
        /* A group's members all name it: walked once per component. */
        int walked = s_scanned(c, keys[g]);
        if (walked < 0)
            return XS_ENOMEM;
        if (!walked)
            err = s_add_prefix(
                c, HUB_T_CGROUPS, key,
                s_group_key(key, teacher, len, keys[g][0], keys[g] + 1, S_GROUP, NULL));
    }
    return err;
}

/* Certifies the component grown from members already added: loads the closure, runs the
 * engine, stores the difference. teacher (len bytes) is the component's teacher (len 0:
 * none). */
static xs_err s_component_rows(hub_credit_t *c, const char *teacher, size_t len) {
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < c->count; i++) {
        err = s_member_load(c, i, teacher, len);
        if (err == XS_ENOTFOUND) {
            /* Not an accepted record (a seed named something refused): left out. */
            c->members[i].skip = 1;
            err = XS_OK;
        }
    }
    if (err != XS_OK)
        return err;
    size_t kept = 0;
    for (size_t i = 0; i < c->count; i++) {
        if (c->members[i].skip)
            continue;
        c->members[kept] = c->members[i];
        c->records[kept] = c->records[i];
        c->ids[kept] = c->ids[i];
        kept++;
    }
    c->count = kept;
    if (c->count == 0)
        return XS_OK;
    const xs_certify_exams_t *standings;
    if ((err = s_standings(c, &standings)) != XS_OK)
        return err;
    return xs_certify_teacher(c->p, standings, c->records, c->ids, c->count, NULL, c->rows, NULL,
                              NULL);
}

/* Certifies the component grown from members already added and stores the difference. */
static xs_err s_component(hub_credit_t *c, const char *teacher, size_t len) {
    xs_err err = s_component_rows(c, teacher, len);
    return err == XS_OK && c->count ? s_apply(c, teacher, len) : err;
}

/* The fast way for a new record whose only group is a cap's (§6.2), which most records of
 * capped categories are: certified with the records naming it alone. Not credited then, it
 * competes with nobody and changes no other row. Credited, it ranks after every record the
 * cap keeps (as "chosen as in 3.3" orders them) in the common case: then it is capped, naming
 * the first of them, and nothing else moves. Otherwise (*done 0) its whole component is
 * certified. Exact because the kept records' rows are stored exact: any record of the group
 * new in this merge is a seed too, and a seed that is kept instead certifies the whole group
 * again. */
static xs_err s_fast(hub_credit_t *c, const s_seed_t *seed, int *done) {
    const xs_policy_t *p = c->p;
    int added;
    *done = 0;
    s_component_reset(c);
    c->no_groups = 1;
    xs_err err = s_member_add(c, &seed->ident, &added);
    if (err == XS_OK)
        err = s_component_rows(c, seed->teacher, seed->len);
    c->no_groups = 0;
    if (err != XS_OK || c->count == 0 || memcmp(c->members[0].ident.b, seed->ident.b, S_IDENT) != 0)
        return err;
    xs_certify_row_t *row = &c->rows[0];
    if (row->status == XS_CERT_CREDITED) {
        unsigned cap = p->cap_of[row->category];
        uint8_t key[S_KEY_MAX];
        size_t klen =
            s_group_key(key, seed->teacher, seed->len, S_KIND_KEPT, seed->cap + 1, S_GROUP, NULL);
        uint32_t kept = 0, rank = row->credited_seconds, top_rank = 0;
        int32_t date = c->members[0].date, top_date = 0;
        uint64_t id = c->ids[0], top_id = 0;
        int loses = 1;
        xs_cursor_t *cur = NULL;
        xs_bytes_t k, v;
        err = xs_store_cursor_open(c->txn, HUB_T_CGROUPS, &cur);
        for (err = err == XS_OK ? xs_store_cursor_seek(cur, key, klen, &k, &v) : err; err == XS_OK;
             err = xs_store_cursor_next(cur, &k, &v)) {
            if (k.len != klen + S_IDENT || memcmp(k.ptr, key, klen) != 0)
                break;
            if (v.len != 16) {
                err = XS_ECORRUPT;
                break;
            }
            const uint8_t *val = v.ptr;
            uint32_t m_rank = xs_store_key_u32(val);
            int32_t m_date = (int32_t)xs_store_key_u32(val + 4);
            uint64_t m_id = xs_store_key_u64(val + 8);
            /* The new record loses to m when m comes first: more credit, then earlier, then
             * the smaller id. */
            loses &= m_rank != rank ? m_rank > rank : m_date != date ? m_date < date : m_id < id;
            if (kept == 0 || m_rank > top_rank ||
                (m_rank == top_rank &&
                 (m_date < top_date || (m_date == top_date && m_id < top_id)))) {
                top_rank = m_rank;
                top_date = m_date;
                top_id = m_id;
            }
            kept++;
        }
        xs_store_cursor_close(&cur);
        if (err == XS_ENOTFOUND)
            err = XS_OK;
        if (err != XS_OK || !loses || kept < p->caps[cap - 1].count)
            return err; /* it may be kept: the whole group */
        row->status = XS_CERT_CAPPED;
        row->reason = XS_REASON_CAPPED;
        row->related_id = top_id;
        row->credited_seconds = 0;
    }
    *done = 1;
    return s_apply(c, seed->teacher, seed->len);
}

/* The teacher a seed's component belongs to: an activity's own; a correction's or review's
 * target's; len 0 for a record in no teacher's component. Rewrites the seed's ident to the
 * component's root (the target). */
static xs_err s_resolve(hub_credit_t *c, s_seed_t *seed) {
    xs_record_t rec;
    uint64_t id;
    xs_err err = s_load(c, &seed->ident, &rec, &id);
    if (err != XS_OK)
        return err;
    if (rec.kind != XS_KIND_ACTIVITY) {
        s_ident_t target;
        xs_record_t trec;
        s_ident_make(&target, seed->ident.b,
                     rec.kind == XS_KIND_CORRECTION
                         ? rec.voids & ((1ull << HUB_ID_SEQ_BITS) - 1)
                         : rec.reviews & ((1ull << HUB_ID_SEQ_BITS) - 1));
        seed->len = 0;
        seed->fast = 0;
        seed->resolved = 1;
        err = s_load(c, &target, &trec, &id);
        if (err == XS_ENOTFOUND || (err == XS_OK && trec.kind != XS_KIND_ACTIVITY))
            return XS_OK; /* certified alone: it names nothing that counts */
        if (err != XS_OK)
            return err;
        seed->ident = target;
        s_classify(c, seed, &trec);
        seed->fast = 0; /* the target's own group must see what names it */
        return XS_OK;
    }
    s_classify(c, seed, &rec);
    return XS_OK;
}

/* Seeds by teacher_id in byte order (a shorter id first when one is a prefix). */
static int s_cmp_teacher(const void *pa, const void *pb) {
    const s_seed_t *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int r = memcmp(a->teacher, b->teacher, n);
    return r ? r : (a->len > b->len) - (a->len < b->len);
}

/* Seeds by teacher, then identity. */
static int s_cmp_seed(const void *pa, const void *pb) {
    int r = s_cmp_teacher(pa, pb);
    return r ? r
             : memcmp(((const s_seed_t *)pa)->ident.b, ((const s_seed_t *)pb)->ident.b, S_IDENT);
}

/* Certifies every seed's component: one component per teacher, grown from all their seeds;
 * a seed of no teacher alone. Empties the seeds. */
static xs_err s_certify_seeds(hub_credit_t *c) {
    xs_err err = XS_OK;
    for (size_t i = 0; err == XS_OK && i < c->nseeds; i++) {
        if (c->seeds[i].resolved)
            continue;
        err = s_resolve(c, &c->seeds[i]);
        if (err == XS_ENOTFOUND) {
            c->seeds[i].len = UINT32_MAX; /* refused: nothing to certify */
            err = XS_OK;
        }
    }
    if (err != XS_OK)
        return err;
    size_t live = 0;
    for (size_t i = 0; i < c->nseeds; i++)
        if (c->seeds[i].len != UINT32_MAX)
            c->seeds[live++] = c->seeds[i];
    c->nseeds = live;
    if (c->nseeds > 1)
        qsort(c->seeds, c->nseeds, sizeof *c->seeds, s_cmp_seed);
    for (size_t i = 0; err == XS_OK && i < c->nseeds;) {
        size_t j = i;
        s_component_reset(c);
        int added;
        if (c->seeds[i].len == 0) {
            err = s_member_add(c, &c->seeds[i].ident, &added);
            j = i + 1;
            if (err == XS_OK)
                err = s_component(c, c->seeds[i].teacher, c->seeds[i].len);
            i = j;
            continue;
        }
        /* The teacher's seeds: the slow ones as one component first, then each fast one its
         * own way unless that component took it in. */
        int slow = 0;
        while (j < c->nseeds && c->seeds[j].len == c->seeds[i].len &&
               memcmp(c->seeds[j].teacher, c->seeds[i].teacher, c->seeds[i].len) == 0)
            j++;
        for (size_t k = i; err == XS_OK && k < j; k++)
            if (!c->seeds[k].fast && (err = s_member_add(c, &c->seeds[k].ident, &added)) == XS_OK)
                slow = 1;
        if (err == XS_OK && slow)
            err = s_component(c, c->seeds[i].teacher, c->seeds[i].len);
        size_t took = slow ? c->count : 0;
        for (size_t k = i; err == XS_OK && k < j; k++) {
            const s_seed_t *seed = &c->seeds[k];
            int done = 0;
            if (!seed->fast)
                continue;
            for (size_t m = 0; m < took && !done; m++)
                done = memcmp(c->members[m].ident.b, seed->ident.b, S_IDENT) == 0;
            if (done)
                continue;
            if ((err = s_fast(c, seed, &done)) != XS_OK || done)
                continue;
            /* It may be kept: its whole group, the slow way. */
            s_component_reset(c);
            if ((err = s_member_add(c, &seed->ident, &added)) == XS_OK)
                err = s_component(c, seed->teacher, seed->len);
            took = 0;
        }
        i = j;
    }
    c->nseeds = 0;
    return err;
}

/* After the kept set of some events moved: every tier-bearing record of those events whose
 * stored tier is not its tier in the new standings is certified again. */
static xs_err s_exam_phases(hub_credit_t *c) {
    for (int pass = 0; pass < S_EXAM_PASSES; pass++) {
        int any = 0;
        s_events_drop(c);
        for (size_t e = 0; e < c->nevents; e++) {
            if (!c->changed_events[e])
                continue;
            c->changed_events[e] = 0;
            any = 1;
            s_event_t *ev = &c->events[e];
            xs_certify_exams_t *standings = NULL;
            xs_err err = s_event_load(c, ev);
            xs_certify_exam_event_t one = {ev->name, ev->len, ev->scores, ev->count};
            if (err == XS_OK)
                err = xs_certify_exams_make(&standings, &one, 1);
            uint8_t key[S_EXAM_KEY_MAX];
            size_t klen = s_exam_prefix(key, ev->name, ev->len);
            xs_cursor_t *cur = NULL;
            xs_bytes_t k, v;
            if (err == XS_OK)
                err = xs_store_cursor_open(c->txn, HUB_T_CEXAMS, &cur);
            for (err = err == XS_OK ? xs_store_cursor_seek(cur, key, klen, &k, &v) : err;
                 err == XS_OK; err = xs_store_cursor_next(cur, &k, &v)) {
                if (k.len != klen + 4 + S_IDENT || memcmp(k.ptr, key, klen) != 0)
                    break;
                const uint8_t *val = v.ptr;
                if (v.len < 3 || v.len > 2 + XS_ID_MAX) {
                    err = XS_ECORRUPT;
                    break;
                }
                uint32_t score = xs_store_key_u32((const uint8_t *)k.ptr + klen);
                if (xs_certify_exams_tier(standings, ev->name, ev->len, score) == val[1])
                    continue;
                if (!s_grow((void **)&c->seeds, &c->seeds_cap, c->nseeds + 1, sizeof *c->seeds)) {
                    err = XS_ENOMEM;
                    break;
                }
                s_seed_t *s = &c->seeds[c->nseeds++];
                memset(s, 0, sizeof *s);
                memcpy(s->ident.b, (const uint8_t *)k.ptr + klen + 4, S_IDENT);
                memcpy(s->teacher, val + 2, v.len - 2);
                s->len = (uint32_t)(v.len - 2);
                s->resolved = 1;
            }
            xs_store_cursor_close(&cur);
            xs_certify_exams_destroy(&standings);
            if (err != XS_OK && err != XS_ENOTFOUND)
                return err;
        }
        if (!any)
            return XS_OK;
        s_events_drop(c);
        /* Seeds here are activities of known teachers, marked resolved: no decode to find
         * their teacher. */
        xs_err err = s_certify_seeds(c);
        if (err != XS_OK)
            return err;
    }
    return XS_ECORRUPT;
}

/* A teacher's origins, as the O group holds them. */
typedef struct s_origins {
    uint8_t (*origins)[32];
    size_t count, cap;
    int ledger; /* an origin holds an activity of theirs: the teacher has a ledger */
} s_origins_t;

/* Reads teacher's (len bytes) origins into *o (reusing its array). */
static xs_err s_origins_read(xs_txn_t *txn, const char *teacher, size_t len, s_origins_t *o) {
    uint8_t key[S_KEY_MAX];
    size_t klen = s_group_key(key, teacher, len, S_KIND_ORIGIN, NULL, 0, NULL);
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    o->count = 0;
    o->ledger = 0;
    xs_err err = xs_store_cursor_open(txn, HUB_T_CGROUPS, &cur);
    for (err = err == XS_OK ? xs_store_cursor_seek(cur, key, klen, &k, &v) : err; err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != klen + 32 || memcmp(k.ptr, key, klen) != 0)
            break;
        if (!s_grow((void **)&o->origins, &o->cap, o->count + 1, sizeof *o->origins)) {
            err = XS_ENOMEM;
            break;
        }
        memcpy(o->origins[o->count++], (const uint8_t *)k.ptr + klen, 32);
        o->ledger |= v.len == 1 && ((const uint8_t *)v.ptr)[0] == 1;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* Calls changed for each changed teacher, with their origins. */
static xs_err s_report(hub_credit_t *c, hub_credit_changed_fn changed, void *ctx) {
    s_origins_t o = {0};
    xs_err err = XS_OK;
    if (c->nchanged > 1)
        qsort(c->changed, c->nchanged, sizeof *c->changed, s_cmp_teacher);
    for (size_t i = 0; err == XS_OK && changed && i < c->nchanged; i++) {
        const s_seed_t *t = &c->changed[i];
        if (i > 0 && s_cmp_teacher(t, &c->changed[i - 1]) == 0)
            continue;
        if ((err = s_origins_read(c->txn, t->teacher, t->len, &o)) == XS_OK)
            err = changed(ctx, t->teacher, t->len, (const uint8_t(*)[32])o.origins, o.count);
    }
    free(o.origins);
    c->nchanged = 0;
    return err;
}

xs_err hub_credit_finish(hub_credit_t *c, hub_credit_changed_fn changed, void *ctx) {
    xs_err err = s_certify_seeds(c);
    if (err == XS_OK)
        err = s_exam_phases(c);
    if (err == XS_OK)
        err = s_report(c, changed, ctx);
    return err;
}

/* ---- rebuilding ---- */

static xs_err s_mark_ready(xs_txn_t *txn, const uint8_t hash[XS_HASH_BYTES]) {
    return hub_meta_put(txn, HUB_META_CREDIT, hash, XS_HASH_BYTES);
}

xs_err hub_credit_ready(xs_txn_t *txn, const uint8_t policy_hash[XS_HASH_BYTES], int *ready) {
    xs_bytes_t v;
    *ready = 0;
    xs_err err = hub_meta_get(txn, HUB_META_CREDIT, &v);
    if (err == XS_ENOTFOUND)
        return XS_OK;
    if (err != XS_OK)
        return err;
    *ready = v.len == XS_HASH_BYTES && memcmp(v.ptr, policy_hash, XS_HASH_BYTES) == 0;
    return XS_OK;
}

typedef struct s_rebuild {
    hub_credit_t *c;
    char (*teachers)[XS_ID_MAX];
    uint32_t *lens;
    size_t count, cap, lens_cap;
} s_rebuild_t;

static xs_err s_rebuild_index(void *ctx, const uint8_t origin[32], uint64_t seq,
                              const xs_record_t *rec, uint8_t outcome) {
    hub_credit_t *c = ctx;
    if (outcome != HUB_OUTCOME_ACCEPTED)
        return XS_OK;
    return s_index(c->p, c->txn, origin, seq, rec);
}

static xs_err s_rebuild_teacher(void *ctx, const char *teacher, size_t len) {
    s_rebuild_t *r = ctx;
    if (len == 0 || len > XS_ID_MAX)
        return XS_OK;
    if (!s_grow((void **)&r->teachers, &r->cap, r->count + 1, sizeof *r->teachers) ||
        !s_grow((void **)&r->lens, &r->lens_cap, r->count + 1, sizeof *r->lens))
        return XS_ENOMEM;
    memcpy(r->teachers[r->count], teacher, len);
    r->lens[r->count++] = (uint32_t)len;
    return XS_OK;
}

/* Seeds every record indexed under a teacher. */
static xs_err s_rebuild_seed(void *ctx, const uint8_t origin[32], uint64_t seq) {
    s_ident_t id;
    s_ident_make(&id, origin, seq);
    return s_seed(ctx, &id);
}

/* Seeds a held record no teacher index names (a correction or review without a teacher, an
 * activity without one). */
static xs_err s_rebuild_unindexed(void *ctx, const uint8_t origin[32], uint64_t seq,
                                  const xs_record_t *rec, uint8_t outcome) {
    (void)rec;
    if (outcome != HUB_OUTCOME_ACCEPTED)
        return XS_OK;
    return s_rebuild_seed(ctx, origin, seq);
}

xs_err hub_credit_rebuild(hub_t *hub, xs_txn_t *txn, hub_credit_changed_fn changed,
                          void *changed_ctx, hub_credit_progress_fn progress, void *progress_ctx) {
    static const unsigned tables[] = {HUB_T_CROWS, HUB_T_CGROUPS, HUB_T_CTARGETS, HUB_T_CSUMS,
                                      HUB_T_CEXAMS};
    hub_credit_t *c = NULL;
    hub_ledger_t exams;
    xs_certify_exams_t *standings = NULL;
    s_rebuild_t r;
    memset(&r, 0, sizeof r);
    memset(&exams, 0, sizeof exams);
    xs_err err = hub_credit_begin(&c, hub, txn);
    if (c)
        c->fast = 0; /* every record of a teacher is certified at once */
    for (size_t i = 0; err == XS_OK && i < sizeof tables / sizeof *tables; i++)
        err = xs_store_clear(txn, tables[i]);
    /* Groups first, so that each teacher's component finds all of theirs. */
    if (err == XS_OK)
        err = hub_ledger_records_each(txn, s_rebuild_index, c);
    /* The county's standings whole, from every exam record (the engine's own way): every
     * tier is then right the first time. */
    if (err == XS_OK)
        err = hub_ledger_exams(&exams, txn);
    if (err == XS_OK)
        err =
            xs_certify_exams_build(&standings, hub->policy, exams.records, exams.ids, exams.count);
    hub_ledger_free(&exams);
    if (err == XS_OK) {
        c->fixed = standings;
        r.c = c;
        err = hub_ledger_teachers_each(txn, s_rebuild_teacher, &r);
    }
    for (size_t i = 0; err == XS_OK && i < r.count; i++) {
        err = hub_ledger_teacher_each(txn, r.teachers[i], r.lens[i], s_rebuild_seed, c);
        if (err == XS_OK)
            err = s_certify_seeds(c);
        if (err == XS_OK && progress)
            progress(progress_ctx, i + 1, r.count);
    }
    if (err == XS_OK)
        err = hub_ledger_unindexed_each(txn, s_rebuild_unindexed, c);
    if (err == XS_OK)
        err = s_certify_seeds(c);
    if (err == XS_OK) {
        /* The standings were the county's whole: the phases find every tier right, unless a
         * policy's cap spans exams and other categories (which the exams-only standings do not
         * see); they then correct it from the index. */
        c->fixed = NULL;
        /* Every event met, kept records or not: an event whose records a cap took all of was
         * ranked by the exams-only standings, in which it had participants. */
        if (c->nevents)
            memset(c->changed_events, 1, c->nevents);
        err = s_exam_phases(c);
    }
    if (err == XS_OK)
        err = s_report(c, changed, changed_ctx);
    if (err == XS_OK)
        err = s_mark_ready(txn, hub->policy_hash);
    xs_certify_exams_destroy(&standings);
    free(r.teachers);
    free(r.lens);
    hub_credit_end(&c);
    return err;
}

xs_err hub_credit_mark_all(hub_t *hub, xs_txn_t *txn, hub_credit_changed_fn changed, void *ctx,
                           hub_credit_progress_fn progress, void *progress_ctx) {
    s_rebuild_t r;
    s_origins_t o = {0};
    memset(&r, 0, sizeof r);
    (void)hub;
    xs_err err = hub_ledger_teachers_each(txn, s_rebuild_teacher, &r);
    for (size_t i = 0; err == XS_OK && i < r.count; i++) {
        err = s_origins_read(txn, r.teachers[i], r.lens[i], &o);
        /* A teacher named only by corrections or reviews has no ledger, hence no receipt. */
        if (err == XS_OK && o.ledger)
            err = changed(ctx, r.teachers[i], r.lens[i], (const uint8_t(*)[32])o.origins, o.count);
        if (err == XS_OK && progress)
            progress(progress_ctx, i + 1, r.count);
    }
    free(o.origins);
    free(r.teachers);
    free(r.lens);
    return err;
}

/* ---- reading ---- */

/* The teacher's sums of every year into *out (count into *count; the caller frees). */
static xs_err s_sums_all(const xs_policy_t *p, xs_txn_t *txn, const char *teacher, size_t len,
                         xs_certify_sums_t **out, size_t *count) {
    uint8_t key[XS_ID_MAX + 3];
    size_t cap = 0;
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    *out = NULL;
    *count = 0;
    memcpy(key, teacher, len);
    key[len] = 0;
    xs_err err = xs_store_cursor_open(txn, HUB_T_CSUMS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, key, len + 1, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != len + 3 || memcmp(k.ptr, key, len + 1) != 0)
            break;
        int year = s_part_year((const uint8_t *)k.ptr + len + 1);
        if (!s_grow((void **)out, &cap, *count + 1, sizeof **out)) {
            err = XS_ENOMEM;
            break;
        }
        if ((err = s_sums_decode(p, &v, year, &(*out)[*count])) != XS_OK)
            break;
        (*count)++;
    }
    xs_store_cursor_close(&cur);
    if ((err == XS_ENOTFOUND || err == XS_OK) && *count == 0) {
        /* No dated record: the teacher is known when they have an activity (its origin is
         * indexed), with no year and no total. */
        s_origins_t o = {0};
        err = s_origins_read(txn, teacher, len, &o);
        free(o.origins);
        if (err == XS_OK && !o.ledger)
            err = XS_ENOTFOUND;
    } else if (err == XS_ENOTFOUND) {
        err = XS_OK;
    }
    if (err != XS_OK) {
        free(*out);
        *out = NULL;
        *count = 0;
    }
    return err;
}

xs_err hub_credit_totals(hub_t *hub, xs_txn_t *txn, const char *teacher, size_t len,
                         xs_certify_total_t *out, size_t cap, size_t *count) {
    xs_certify_sums_t *sums = NULL;
    size_t n;
    *count = 0;
    if (len == 0 || len > XS_ID_MAX)
        return XS_ENOTFOUND;
    xs_err err = s_sums_all(hub->policy, txn, teacher, len, &sums, &n);
    if (err == XS_OK)
        err = xs_certify_totals(hub->policy, sums, n, NULL, out, cap, count);
    free(sums);
    return err;
}

/* A teacher's dated activities being gathered for their receipt. */
typedef struct s_dated {
    xs_txn_t *txn;
    uint8_t (*origins)[32];
    xs_receipt_ident_t *ids;
    xs_certify_row_t *rows; /* only the year is set */
    uint32_t *index;
    size_t count, cap;
} s_dated_t;

static xs_err s_dated_add(void *ctx, const uint8_t origin[32], uint64_t seq) {
    s_dated_t *d = ctx;
    s_ident_t id;
    xs_bytes_t v;
    s_ident_make(&id, origin, seq);
    xs_err err = xs_store_get(d->txn, HUB_T_CROWS, id.b, S_IDENT, &v);
    if (err != XS_OK || v.len != S_ROW_BYTES)
        return err == XS_OK || err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    xs_certify_row_t row;
    s_row_decode(v.ptr, &row, NULL);
    if (((const uint8_t *)v.ptr)[26] != XS_KIND_ACTIVITY || row.year == 0)
        return XS_OK;
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        void *o = realloc(d->origins, cap * sizeof *d->origins);
        if (o)
            d->origins = o;
        void *i = realloc(d->ids, cap * sizeof *d->ids);
        if (i)
            d->ids = i;
        void *w = realloc(d->rows, cap * sizeof *d->rows);
        if (w)
            d->rows = w;
        void *x = realloc(d->index, cap * sizeof *d->index);
        if (x)
            d->index = x;
        if (!o || !i || !w || !x)
            return XS_ENOMEM;
        d->cap = cap;
    }
    memset(&d->rows[d->count], 0, sizeof d->rows[d->count]);
    d->rows[d->count].year = row.year;
    memcpy(d->origins[d->count], origin, 32);
    d->ids[d->count].seq = seq;
    d->index[d->count] = (uint32_t)d->count;
    d->count++;
    return XS_OK;
}

xs_err hub_credit_receipt(hub_t *hub, xs_txn_t *txn, hub_closed_cache_t *closed,
                          const char *teacher, size_t len, xs_receipt_t *r) {
    const xs_policy_t *p = hub->policy;
    xs_certify_sums_t *sums = NULL;
    xs_certify_total_t *totals = NULL;
    uint8_t(*origins)[32] = NULL;
    xs_receipt_ident_t *ids = NULL;
    xs_certify_row_t *rows = NULL;
    uint32_t *index = NULL;
    hub_closed_cache_t *own = NULL;
    size_t nsums, ntotals, m = 0;
    if (len == 0 || len > XS_ID_MAX)
        return XS_ENOTFOUND;
    xs_err err = s_sums_all(p, txn, teacher, len, &sums, &nsums);
    if (err != XS_OK)
        return err;
    size_t span = nsums ? (size_t)(sums[nsums - 1].year - sums[0].year + 1) : 0;
    size_t max = xs_certify_totals_max(p, span);
    if (!(totals = malloc(max * sizeof *totals))) {
        err = XS_ENOMEM;
        goto out;
    }
    if ((err = xs_certify_totals(p, sums, nsums, NULL, totals, max, &ntotals)) != XS_OK)
        goto out;
    /* The identities of the teacher's dated activities, from the teacher index (in identity
     * order) and their rows' years: what the periods count and hash (xs_receipt_build reads
     * only a row's year). */
    s_dated_t d = {txn, NULL, NULL, NULL, NULL, 0, 0};
    err = hub_ledger_teacher_each(txn, teacher, len, s_dated_add, &d);
    origins = d.origins;
    ids = d.ids;
    rows = d.rows;
    index = d.index;
    m = d.count;
    if (err != XS_OK)
        goto out;
    for (size_t i = 0; i < m; i++)
        ids[i].origin = origins[i];
    xs_certify_teacher_t view = {
        .teacher_id = {teacher, (uint32_t)len},
        .records = index,
        .record_count = m,
        .totals = totals,
        .total_count = ntotals,
    };
    err = xs_receipt_build(r, p, hub->policy_hash, &view, rows, ids, 0, 0);
    if (err == XS_OK && !closed && (err = hub_closed_cache_new(&own, hub)) == XS_OK)
        closed = own;
    if (err == XS_OK)
        err = hub_closed_apply(closed, txn, &view, rows, ids, r);
out:
    hub_closed_cache_destroy(&own);
    free(sums);
    free(totals);
    free(origins);
    free(ids);
    free(rows);
    free(index);
    return err;
}
