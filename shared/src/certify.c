/* certify: the engine of schema/credit-rules.md §3 and §6. Records are grouped by teacher with
 * a hash and a counting sort into compact facts; every later step works on one teacher's
 * facts. The policy's derived tables (custom_of, cap_of, bucket_mask) keep the inner loops
 * free of any search through its categories, caps or buckets. */
#include "xs/certify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/text.h"

#define S_NONE UINT32_MAX
/* Last day the record format carries: 2149-12-31. */
#define S_DATE_LAST 65743
/* Below this many elements, insertion sort beats merge sort. */
#define S_SMALL_SORT 24

/* What the engine keeps of one teacher's record while it works. */
typedef struct s_fact {
    uint64_t id;      /* caller-given record id */
    uint32_t key;     /* step 3: exam: interned event + 1; others: hash of the event,
                         made non-zero; 0 without an event or when the category does not
                         count an event once. Step 5 (papers, projects): hash of the
                         normalized work */
    uint32_t index;   /* index of the record in the input */
    uint32_t rank;    /* what "highest credit" compares: base seconds (exam: score); from
                         step 4 on, credit in seconds for every record */
    int32_t date;     /* days since 1970-01-01 */
    int16_t year;     /* academic year, 0 when undated */
    uint8_t category; /* category code: xs_category or a policy's own (§6.3) */
    uint8_t status;   /* xs_certify_status so far */
    uint8_t semester; /* 1, 2; 0 when undated */
    uint8_t level;    /* xs_level the buckets filter on (§6.5); XS_LEVEL_NONE when absent
                         or out of range */
    uint8_t review;   /* xs_certify_review: the verdict of its latest valid review */
} s_fact_t;

/* One interned name. */
typedef struct s_name {
    uint32_t off; /* first byte in s_names_t.bytes */
    uint32_t len; /* bytes */
} s_name_t;

/* Distinct names (teacher ids, events), each copied once into one compact buffer so that
 * lookups stay in cache whatever the input's layout. */
typedef struct s_names {
    uint64_t *slots; /* open addressing: hash << 32 | (id + 1); 0 empty */
    size_t mask;
    s_name_t *names;
    size_t count, cap;
    char *bytes;
    size_t used, bytes_cap;
} s_names_t;

/* A record id some correction voids. */
typedef struct s_void {
    uint64_t target;     /* the voided id */
    uint64_t correction; /* the smallest id of a correction voiding it */
    uint8_t used;        /* slot taken */
    uint8_t found;       /* an activity record with that id is in the set */
} s_void_t;

/* A record id some valid review names, for one teacher: a review counts only for a record
 * of the teacher it names (records.md §3.1), so that certifying that teacher alone, from
 * the records the hub indexes under them, gives what a run over every record gives. */
typedef struct s_review {
    uint64_t target;  /* the reviewed id */
    uint64_t review;  /* the largest id of a valid review of it by this teacher */
    xs_str_t teacher; /* the reviews' teacher_id, borrowed from the records */
    uint32_t hash;    /* s_hash of teacher */
    uint8_t verdict;  /* that review's xs_verdict */
    uint8_t used;     /* slot taken */
    uint8_t found;    /* an activity record of that teacher with that id is in the set */
} s_review_t;

typedef struct s_exam_event {
    uint32_t hash;
    uint32_t name_len;
    size_t name_off; /* into names */
    uint32_t first;  /* first score in scores */
    uint32_t count;  /* kept records of the event */
} s_exam_event_t;

struct xs_certify_exams {
    s_exam_event_t *events;
    size_t event_count;
    uint32_t *slots; /* open addressing: event index + 1, 0 empty */
    size_t slot_mask;
    uint32_t *scores; /* per event, ascending, in hundredths of a point */
    char *names;      /* copies of the event names */
};

typedef enum s_mode {
    S_MODE_RUN,     /* xs_certify_run */
    S_MODE_TEACHER, /* xs_certify_teacher: one teacher_id at most */
    S_MODE_EXAMS,   /* xs_certify_exams_build: only exam records matter */
} s_mode;

/* exam_of[] value of an event not looked up yet in the standings. */
#define S_UNSET (UINT32_MAX - 1)

typedef struct s_run {
    const xs_policy_t *policy;
    const xs_record_t *records;
    const uint64_t *ids;
    size_t count;
    xs_certify_row_t *rows;
    s_mode mode;
    const xs_certify_opts_t *opts;

    uint32_t *teacher_of; /* per record: its teacher, or S_NONE */
    s_names_t teachers;   /* teacher ids; a teacher's number is its name's */
    uint32_t *t_count;    /* per teacher: records */
    uint32_t *t_start;    /* per teacher: first fact */
    size_t t_cap;
    s_names_t events;  /* exam event names */
    uint32_t *exam_of; /* per event: index in the standings, S_NONE, or S_UNSET */
    s_fact_t *facts;

    uint32_t *corrections; /* indices of correction records */
    size_t correction_count, correction_cap;
    s_void_t *voids;
    size_t void_mask;
    uint32_t *reviews; /* indices of review records */
    size_t review_count, review_cap;
    s_review_t *reviewed; /* valid reviews' targets; review_mask 0: none */
    size_t review_mask;

    /* Per-teacher scratch, grown to the largest teacher. */
    uint32_t *sel, *tmp, *norm_off, *norm_len;
    s_fact_t *fact_tmp;
    size_t sel_cap;
    char *arena;
    size_t arena_cap;
    xs_certify_sums_t *acc; /* per academic year of the teacher: step 7's sums */
    size_t acc_cap;
    xs_certify_total_t *totals;
    size_t totals_cap;
} s_run_t;

static const char *const s_status_names[XS_CERT_STATUS_COUNT] = {
    "credited", "duplicate", "capped", "rejected", "voided", "correction", "review",
};
static const char *const s_status_zh[XS_CERT_STATUS_COUNT] = {
    "已认定", "重复", "超出上限", "不予认定", "已作废", "更正", "审核",
};

const char *xs_certify_status_name(unsigned status) {
    return status < XS_CERT_STATUS_COUNT ? s_status_names[status] : "";
}

const char *xs_certify_status_zh(unsigned status) {
    return status < XS_CERT_STATUS_COUNT ? s_status_zh[status] : "";
}

const char *xs_certify_met_name(unsigned met) {
    static const char *const names[] = {"none", "no", "yes"};
    return met < 3 ? names[met] : "";
}

const char *xs_certify_met_zh(unsigned met) {
    static const char *const names[] = {"无要求", "未达标", "达标"};
    return met < 3 ? names[met] : "";
}

/* ---- small helpers ---- */

/* A fast in-memory hash; results never depend on it, only speed does. */
static uint32_t s_hash(const char *s, size_t len) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    if (len)
        memcpy(&w, s, len);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

static uint64_t s_mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static uint64_t s_id(const s_run_t *run, size_t i) {
    return run->ids ? run->ids[i] : (uint64_t)i + 1;
}

/* Grows *buf to hold at least want elements of size bytes; 0 on failure. */
static int s_grow(void *buf, size_t *cap, size_t want, size_t size) {
    if (want <= *cap)
        return 1;
    size_t n = *cap ? *cap : 16;
    while (n < want)
        n *= 2;
    void *grown = realloc(*(void **)buf, n * size);
    if (!grown)
        return 0;
    *(void **)buf = grown;
    *cap = n;
    return 1;
}

/* 1 when len bytes at a and b are equal; inlined, as ids are short. */
static inline int s_same(const char *a, const char *b, size_t len) {
    uint64_t diff = 0;
    for (; len >= 8; a += 8, b += 8, len -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        diff |= x ^ y;
    }
    for (; len; a++, b++, len--)
        diff |= (uint64_t)(uint8_t)(*a ^ *b);
    return diff == 0;
}

/* The id of name s (len bytes, hash s_hash(s, len)), added when new; S_NONE when out of
 * memory. */
static uint32_t s_names_add(s_names_t *nm, const char *s, uint32_t len, uint32_t hash) {
    if ((nm->count + 1) * 2 > nm->mask) {
        size_t mask = nm->mask ? nm->mask * 2 + 1 : 1023;
        uint64_t *slots = calloc(mask + 1, sizeof *slots);
        if (!slots)
            return S_NONE;
        for (size_t k = 0; nm->mask && k <= nm->mask; k++) {
            uint64_t v = nm->slots[k];
            if (!v)
                continue;
            size_t slot = (size_t)(v >> 32) & mask;
            while (slots[slot])
                slot = (slot + 1) & mask;
            slots[slot] = v;
        }
        free(nm->slots);
        nm->slots = slots;
        nm->mask = mask;
    }
    size_t slot = hash & nm->mask;
    for (uint64_t v; (v = nm->slots[slot]) != 0; slot = (slot + 1) & nm->mask) {
        if ((uint32_t)(v >> 32) != hash)
            continue;
        const s_name_t *name = &nm->names[(uint32_t)v - 1];
        if (name->len == len && s_same(nm->bytes + name->off, s, len))
            return (uint32_t)v - 1;
    }
    if (nm->count >= S_UNSET - 1 || nm->used + len > UINT32_MAX ||
        !s_grow(&nm->names, &nm->cap, nm->count + 1, sizeof *nm->names) ||
        !s_grow(&nm->bytes, &nm->bytes_cap, nm->used + len + 1, 1))
        return S_NONE;
    s_name_t *name = &nm->names[nm->count];
    name->off = (uint32_t)nm->used;
    name->len = len;
    if (len)
        memcpy(nm->bytes + nm->used, s, len);
    nm->used += len;
    nm->slots[slot] = (uint64_t)hash << 32 | (uint64_t)(nm->count + 1);
    return (uint32_t)nm->count++;
}

static void s_names_free(s_names_t *nm) {
    free(nm->slots);
    free(nm->names);
    free(nm->bytes);
}

/* ---- step 1 and 2: validation and base credit, one record at a time ---- */

static int s_space_at(const char *s, size_t len, size_t i) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
        return 1;
    if ((unsigned char)c == 0xe3 && len - i >= 3 && (unsigned char)s[i + 1] == 0x80 &&
        (unsigned char)s[i + 2] == 0x80)
        return 3; /* U+3000 ideographic space */
    return 0;
}

size_t xs_certify_normalize_work(const char *work, size_t len, char *out, size_t cap) {
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < len;) {
        int ws = s_space_at(work, len, i);
        if (ws) {
            space = o > 0;
            i += (size_t)ws;
            continue;
        }
        if (space) {
            if (o < cap)
                out[o] = ' ';
            o++;
            space = 0;
        }
        char c = work[i++];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (o < cap)
            out[o] = c;
        o++;
    }
    return o < cap ? o : cap;
}

/* Base credit of a record of a policy's own category (§6.3), valid under its rule. */
static uint32_t s_custom_base(const xs_policy_category_t *cat, const xs_record_t *r) {
    uint64_t seconds;
    switch (cat->rule) {
    case XS_RULE_FIXED:
        return cat->seconds;
    case XS_RULE_MINUTES:
        seconds = (uint64_t)r->minutes * 60u;
        break;
    case XS_RULE_HOURS:
        seconds = xs_policy_hours_to_seconds(r->hours);
        break;
    case XS_RULE_DAYS:
        /* half days × seconds per day / 2: exact while a day is a whole number of seconds
         * that is even, as every hundredth of an hour (36 s) is */
        seconds = (uint64_t)r->days * cat->seconds / 2;
        break;
    default:
        return 0;
    }
    return seconds > UINT32_MAX ? UINT32_MAX : (uint32_t)seconds;
}

/* Base credit of a valid record (§2, §6.3), or 0 with the reason it gets none. */
static uint32_t s_base(const xs_policy_t *p, const xs_record_t *r, xs_reason *why) {
    const xs_policy_credit_t *c = &p->credit;
    *why = XS_REASON_NONE;
    switch (r->category) {
    case XS_CAT_LECTURE:
        return r->minutes * 60u * (r->role == XS_ROLE_SPEAKER ? c->speaker_factor : 1u);
    case XS_CAT_EXTERNAL_TRAINING:
        if (r->present & (1u << XS_F_HOURS))
            return (uint32_t)xs_policy_hours_to_seconds(r->hours);
        /* days are in halves; seconds per day are a multiple of 36, so this is exact */
        return (uint32_t)((uint64_t)r->days * c->day_seconds / 2);
    case XS_CAT_ONLINE_TRAINING:
        return (uint32_t)xs_policy_hours_to_seconds(r->hours);
    case XS_CAT_RESEARCH_SESSION:
        return c->research_session_seconds;
    case XS_CAT_OPEN_CLASS:
        return c->open_class_seconds;
    case XS_CAT_REFLECTION:
        if (r->chars >= c->reflection_min_chars)
            return c->reflection_seconds;
        break;
    case XS_CAT_TEACHING_DESIGN:
        if (r->unit) /* no character minimum (§6.6); work and lessons are validated */
            return c->design_unit_seconds;
        if (r->chars >= c->design_min_chars)
            return c->design_seconds;
        break;
    case XS_CAT_PAPER:
        if (r->chars < c->paper_min_chars)
            break;
        if (r->grade == XS_GRADE_PUBLISHED)
            return c->published_seconds[r->level];
        if (r->grade < XS_GRADE_FIRST || r->grade > XS_GRADE_THIRD) {
            *why = XS_REASON_BAD_AWARD;
            return 0;
        }
        return c->award_seconds[r->grade];
    case XS_CAT_PROJECT: {
        unsigned group = r->level >= XS_LEVEL_PROVINCIAL ? 0 : 1;
        unsigned lead = r->role == XS_ROLE_HOST || r->role == XS_ROLE_MAIN_WRITER ? 0 : 1;
        return c->project_seconds[group][lead];
    }
    case XS_CAT_EXAM:
        return 0; /* by tier, step 4 */
    default:
        if (p->custom_of[r->category])
            return s_custom_base(&p->custom[p->custom_of[r->category] - 1], r);
        *why = XS_REASON_UNKNOWN_CATEGORY;
        return 0;
    }
    *why = XS_REASON_TOO_SHORT;
    return 0;
}

static s_void_t *s_void_find(const s_run_t *run, uint64_t target) {
    size_t slot = (size_t)s_mix64(target) & run->void_mask;
    while (run->voids[slot].used) {
        if (run->voids[slot].target == target)
            return &run->voids[slot];
        slot = (slot + 1) & run->void_mask;
    }
    return NULL;
}

/* The entry of the valid reviews naming id for teacher (hash s_hash of it), or NULL. */
static s_review_t *s_review_find(const s_run_t *run, uint64_t target, const xs_str_t *teacher,
                                 uint32_t hash) {
    size_t slot = (size_t)s_mix64(target) & run->review_mask;
    for (s_review_t *r; (r = &run->reviewed[slot])->used; slot = (slot + 1) & run->review_mask)
        if (r->target == target && r->hash == hash && r->teacher.len == teacher->len &&
            s_same(r->teacher.ptr, teacher->ptr, teacher->len))
            return r;
    return NULL;
}

int xs_certify_record_year(const xs_policy_t *policy, const xs_record_t *rec, unsigned *semester) {
    *semester = 0;
    if ((rec->present & (1u << XS_F_DATE)) && rec->date >= 0 && rec->date <= S_DATE_LAST)
        return xs_policy_year_of(policy, rec->date, semester);
    return 0;
}

/* Steps 1-2 for activity record i: fills its row and, for a teacher's record, its fact.
 * Returns 0 when out of memory. */
static int s_evaluate(s_run_t *run, size_t i, s_fact_t *fact) {
    const xs_record_t *rec = &run->records[i];
    xs_certify_row_t *row = &run->rows[i];
    uint64_t id = s_id(run, i);
    memset(row, 0, sizeof *row);
    row->category = rec->category;
    unsigned semester;
    int year = xs_certify_record_year(run->policy, rec, &semester);
    row->year = (int16_t)year;
    row->semester = (uint8_t)semester;

    s_void_t *v = run->void_mask ? s_void_find(run, id) : NULL;
    s_review_t *review = NULL;
    if (run->review_mask && rec->teacher_id.len) {
        review = s_review_find(run, id, &rec->teacher_id,
                               s_hash(rec->teacher_id.ptr, rec->teacher_id.len));
        if (review) {
            review->found = 1;
            row->review = review->verdict;
        }
    }
    xs_field field = XS_F_VERSION;
    xs_reason why = XS_REASON_NONE;
    uint32_t base = 0;
    if (v) {
        v->found = 1;
        row->status = XS_CERT_VOIDED;
        row->reason = XS_REASON_VOIDED;
        row->related_id = v->correction;
    } else if (review && review->verdict == XS_VERDICT_RETURNED) {
        /* Returned by its school (§7): rejected whatever it would have earned. */
        row->status = XS_CERT_REJECTED;
        row->reason = XS_REASON_RETURNED;
        row->related_id = review->review;
    } else {
        why = xs_policy_check(run->policy, rec, &field);
        /* Present but empty strings that the rules need count as missing. */
        if (why == XS_REASON_NONE && rec->teacher_id.len == 0) {
            why = XS_REASON_MISSING_FIELD;
            field = XS_F_TEACHER_ID;
        } else if (why == XS_REASON_NONE && rec->category == XS_CAT_EXAM && rec->event.len == 0) {
            why = XS_REASON_MISSING_FIELD;
            field = XS_F_EVENT;
        } else if (why == XS_REASON_NONE &&
                   (rec->category == XS_CAT_PAPER || rec->category == XS_CAT_PROJECT) &&
                   rec->work.len == 0) {
            why = XS_REASON_MISSING_FIELD;
            field = XS_F_WORK;
        }
        if (why == XS_REASON_NONE) {
            base = s_base(run->policy, rec, &why);
            field = why == XS_REASON_TOO_SHORT   ? XS_F_CHARS
                    : why == XS_REASON_BAD_AWARD ? XS_F_GRADE
                                                 : XS_F_VERSION;
        }
        if (why != XS_REASON_NONE) {
            row->status = XS_CERT_REJECTED;
            row->reason = (uint8_t)why;
            row->field = (uint8_t)field;
            base = 0;
        } else {
            row->status = XS_CERT_CREDITED;
            row->base_seconds = base;
            row->credited_seconds = base;
        }
    }
    if (!fact)
        return 1;
    fact->id = id;
    fact->index = (uint32_t)i;
    fact->date = rec->date;
    fact->year = (int16_t)year;
    fact->semester = (uint8_t)semester;
    fact->category = rec->category;
    fact->status = row->status;
    fact->review = row->review;
    fact->level = (uint8_t)xs_certify_level(rec);
    fact->rank = rec->category == XS_CAT_EXAM ? rec->score : base;
    fact->key = 0;
    /* Only records still in the running need their event: steps 3 and 4. Exam events are
     * interned (exact, and the standings need them); others keep a hash that step 3
     * confirms on the bytes when two match, which only true duplicates do. A policy's own
     * category counts an event once only when it says so (§6.3). */
    unsigned custom = run->policy->custom_of[rec->category];
    if (row->status == XS_CERT_CREDITED && rec->event.len > 0 &&
        (rec->present & (1u << XS_F_EVENT)) &&
        (!custom || run->policy->custom[custom - 1].same_event)) {
        uint32_t hash = s_hash(rec->event.ptr, rec->event.len);
        if (rec->category == XS_CAT_EXAM) {
            uint32_t event = s_names_add(&run->events, rec->event.ptr, rec->event.len, hash);
            if (event == S_NONE)
                return 0;
            fact->key = event + 1;
        } else {
            fact->key = hash ? hash : 1;
        }
    }
    return 1;
}

/* ---- sorting one teacher's facts ---- */

typedef int (*s_cmp_fn)(const s_run_t *run, const s_fact_t *f, uint32_t a, uint32_t b);

/* "Chosen as in 3": highest credit (exam: score), then earliest date, then smallest id. */
static int s_cmp_rank(const s_fact_t *x, const s_fact_t *y) {
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return 0;
}

/* Same category and same event compare 0. */
static int s_cmp_event_key(const s_run_t *run, const s_fact_t *f, uint32_t a, uint32_t b) {
    if (f[a].category != f[b].category)
        return f[a].category < f[b].category ? -1 : 1;
    if (f[a].key != f[b].key)
        return f[a].key < f[b].key ? -1 : 1;
    if (f[a].category == XS_CAT_EXAM)
        return 0; /* interned: equal keys are equal events */
    const xs_str_t *x = &run->records[f[a].index].event, *y = &run->records[f[b].index].event;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->ptr, y->ptr, x->len);
}

static int s_cmp_event(const s_run_t *run, const s_fact_t *f, uint32_t a, uint32_t b) {
    int c = s_cmp_event_key(run, f, a, b);
    return c ? c : s_cmp_rank(&f[a], &f[b]);
}

/* Same category (a paper and a project of one title are two works) and same normalized
 * work compare 0. */
static int s_cmp_work_key(const s_run_t *run, const s_fact_t *f, uint32_t a, uint32_t b) {
    if (f[a].category != f[b].category)
        return f[a].category < f[b].category ? -1 : 1;
    if (f[a].key != f[b].key)
        return f[a].key < f[b].key ? -1 : 1;
    if (run->norm_len[a] != run->norm_len[b])
        return run->norm_len[a] < run->norm_len[b] ? -1 : 1;
    if (run->norm_len[a] == 0)
        return 0;
    return memcmp(run->arena + run->norm_off[a], run->arena + run->norm_off[b], run->norm_len[a]);
}

static int s_cmp_work(const s_run_t *run, const s_fact_t *f, uint32_t a, uint32_t b) {
    int c = s_cmp_work_key(run, f, a, b);
    return c ? c : s_cmp_rank(&f[a], &f[b]);
}

/* Same cap and same period of it (academic year, and semester for a semester cap) compare
 * 0 (§6.2). */
static int s_cmp_cap_key(const s_run_t *run, const s_fact_t *f, uint32_t a, uint32_t b) {
    const xs_policy_t *p = run->policy;
    unsigned x = p->cap_of[f[a].category], y = p->cap_of[f[b].category];
    if (x != y)
        return x < y ? -1 : 1;
    if (f[a].year != f[b].year)
        return f[a].year < f[b].year ? -1 : 1;
    if (p->caps[x - 1].period == XS_SCOPE_SEMESTER && f[a].semester != f[b].semester)
        return f[a].semester < f[b].semester ? -1 : 1;
    return 0;
}

static int s_cmp_cap(const s_run_t *run, const s_fact_t *f, uint32_t a, uint32_t b) {
    int c = s_cmp_cap_key(run, f, a, b);
    return c ? c : s_cmp_rank(&f[a], &f[b]);
}

/* Sorts n local indices with cmp: insertion sort when small, else merge sort through tmp. */
static void s_sort(const s_run_t *run, const s_fact_t *f, uint32_t *a, uint32_t *tmp, size_t n,
                   s_cmp_fn cmp) {
    if (n <= S_SMALL_SORT) {
        for (size_t i = 1; i < n; i++) {
            uint32_t v = a[i];
            size_t j = i;
            while (j > 0 && cmp(run, f, a[j - 1], v) > 0) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
        return;
    }
    size_t half = n / 2;
    s_sort(run, f, a, tmp, half, cmp);
    s_sort(run, f, a + half, tmp, n - half, cmp);
    size_t i = 0, j = half, o = 0;
    while (i < half && j < n)
        tmp[o++] = cmp(run, f, a[i], a[j]) <= 0 ? a[i++] : a[j++];
    while (i < half)
        tmp[o++] = a[i++];
    while (j < n)
        tmp[o++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

/* Sorts a teacher's facts by id (insertion sort when small, else merge sort through tmp);
 * returns 0 when two share an id. */
static void s_sort_facts(s_fact_t *f, s_fact_t *tmp, size_t n) {
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            s_fact_t v = f[i];
            size_t j = i;
            while (j > 0 && f[j - 1].id > v.id) {
                f[j] = f[j - 1];
                j--;
            }
            f[j] = v;
        }
        return;
    }
    size_t half = n / 2;
    s_sort_facts(f, tmp, half);
    s_sort_facts(f + half, tmp, n - half);
    if (f[half - 1].id <= f[half].id)
        return; /* already in order, as rows of one sheet often are */
    size_t i = 0, j = half, o = 0;
    while (i < half && j < n)
        tmp[o++] = f[i].id <= f[j].id ? f[i++] : f[j++];
    while (i < half)
        tmp[o++] = f[i++];
    while (j < n)
        tmp[o++] = f[j++];
    memcpy(f, tmp, n * sizeof *f);
}

static int s_sort_by_id(s_fact_t *f, s_fact_t *tmp, size_t n) {
    s_sort_facts(f, tmp, n);
    for (size_t i = 1; i < n; i++)
        if (f[i].id == f[i - 1].id)
            return 0;
    return 1;
}

/* Grows the per-teacher index scratch to n entries; 0 when out of memory. */
static int s_scratch(s_run_t *run, size_t n) {
    if (n <= run->sel_cap)
        return 1;
    size_t cap = run->sel_cap ? run->sel_cap : 64;
    while (cap < n)
        cap *= 2;
    uint32_t **bufs[4] = {&run->sel, &run->tmp, &run->norm_off, &run->norm_len};
    for (size_t k = 0; k < 4; k++) {
        uint32_t *grown = realloc(*bufs[k], cap * sizeof **bufs[k]);
        if (!grown)
            return 0;
        *bufs[k] = grown;
    }
    s_fact_t *facts = realloc(run->fact_tmp, cap * sizeof *facts);
    if (!facts)
        return 0;
    run->fact_tmp = facts;
    run->sel_cap = cap;
    return 1;
}

static void s_set(s_run_t *run, s_fact_t *fact, xs_certify_status status, xs_reason reason,
                  uint64_t related) {
    xs_certify_row_t *row = &run->rows[fact->index];
    fact->status = (uint8_t)status;
    row->status = (uint8_t)status;
    row->reason = (uint8_t)reason;
    row->related_id = related;
    row->credited_seconds = 0;
}

/* Keeps the first of each run of equal keys in the sorted selection; marks the rest. */
static void s_keep_first(s_run_t *run, s_fact_t *f, const uint32_t *sel, size_t n,
                         s_cmp_fn same_key, xs_reason reason) {
    size_t kept = 0;
    for (size_t i = 1; i < n; i++) {
        if (same_key(run, f, sel[kept], sel[i]) == 0)
            s_set(run, &f[sel[i]], XS_CERT_DUPLICATE, reason, f[sel[kept]].id);
        else
            kept = i;
    }
}

/* Steps 3, 5 and 6 for the n facts of one teacher. XS_EINVAL on a repeated id, XS_ENOMEM. */
static xs_err s_teacher_steps(s_run_t *run, s_fact_t *f, size_t n) {
    if (!s_scratch(run, n))
        return XS_ENOMEM;
    if (!s_sort_by_id(f, run->fact_tmp, n))
        return XS_EINVAL;
    uint32_t *sel = run->sel;
    size_t m = 0;

    /* Step 3: one teacher, one category, one non-empty event: counted once. */
    for (size_t j = 0; j < n; j++)
        if (f[j].status == XS_CERT_CREDITED && f[j].key)
            sel[m++] = (uint32_t)j;
    if (m > 1) {
        s_sort(run, f, sel, run->tmp, m, s_cmp_event);
        s_keep_first(run, f, sel, m, s_cmp_event_key, XS_REASON_DUPLICATE_EVENT);
    }

    /* Step 5: one teacher's same paper, or same project (§6.7), counts once, across all
     * years. They do not need their event any more: key becomes the hash of the normalized
     * work. */
    m = 0;
    size_t bytes = 0;
    for (size_t j = 0; j < n; j++) {
        if (f[j].status == XS_CERT_CREDITED &&
            (f[j].category == XS_CAT_PAPER || f[j].category == XS_CAT_PROJECT)) {
            sel[m++] = (uint32_t)j;
            bytes += run->records[f[j].index].work.len;
        }
    }
    if (m > 1) {
        if (!s_grow(&run->arena, &run->arena_cap, bytes, 1))
            return XS_ENOMEM;
        size_t off = 0;
        for (size_t k = 0; k < m; k++) {
            uint32_t j = sel[k];
            const xs_str_t *work = &run->records[f[j].index].work;
            size_t len = xs_certify_normalize_work(work->ptr, work->len, run->arena + off,
                                                   run->arena_cap - off);
            run->norm_off[j] = (uint32_t)off;
            run->norm_len[j] = (uint32_t)len;
            f[j].key = s_hash(run->arena + off, len);
            off += len;
        }
        s_sort(run, f, sel, run->tmp, m, s_cmp_work);
        s_keep_first(run, f, sel, m, s_cmp_work_key, XS_REASON_DUPLICATE_WORK);
    }

    /* Step 6: caps (§6.2). The records of all of a cap's categories compete within each
     * academic year, or semester; past its count the rest are capped. */
    const xs_policy_t *p = run->policy;
    m = 0;
    for (size_t j = 0; j < n; j++)
        if (f[j].status == XS_CERT_CREDITED && p->cap_of[f[j].category])
            sel[m++] = (uint32_t)j;
    if (m > 1) {
        s_sort(run, f, sel, run->tmp, m, s_cmp_cap);
        size_t first = 0;
        for (size_t k = 1; k < m; k++) {
            if (s_cmp_cap_key(run, f, sel[first], sel[k]) != 0) {
                first = k;
                continue;
            }
            if (k - first >= p->caps[p->cap_of[f[sel[k]].category] - 1].count)
                s_set(run, &f[sel[k]], XS_CERT_CAPPED, XS_REASON_CAPPED, f[sel[first]].id);
        }
    }
    return XS_OK;
}

/* ---- step 4: exam standings ---- */

static const s_exam_event_t *s_exam_find(const xs_certify_exams_t *ex, uint32_t hash,
                                         const char *name, size_t len) {
    if (!ex || !ex->slot_mask)
        return NULL;
    size_t slot = hash & ex->slot_mask;
    while (ex->slots[slot]) {
        const s_exam_event_t *ev = &ex->events[ex->slots[slot] - 1];
        if (ev->hash == hash && ev->name_len == len &&
            (len == 0 || memcmp(ex->names + ev->name_off, name, len) == 0))
            return ev;
        slot = (slot + 1) & ex->slot_mask;
    }
    return NULL;
}

static int s_cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int s_is_kept_exam(const s_fact_t *fact) {
    return fact->category == XS_CAT_EXAM && fact->status == XS_CERT_CREDITED;
}

/* Collects the kept exam records of every teacher into standings, and points each event's
 * exam_of at its place in them. */
static xs_err s_exams_collect(s_run_t *run, size_t fact_count, xs_certify_exams_t **out) {
    size_t events = run->events.count;
    xs_certify_exams_t *ex = calloc(1, sizeof *ex);
    uint32_t *fill = calloc(events ? events : 1, sizeof *fill);
    xs_err err = XS_ENOMEM;
    if (!ex || !fill)
        goto out;
    /* Kept records per event, then one standings event per event that has any. */
    size_t total = 0, name_bytes = 0;
    for (size_t k = 0; k < fact_count; k++) {
        if (s_is_kept_exam(&run->facts[k])) {
            fill[run->facts[k].key - 1]++;
            total++;
        }
    }
    size_t used = 0;
    for (size_t e = 0; e < events; e++) {
        run->exam_of[e] = S_NONE;
        if (fill[e]) {
            used++;
            name_bytes += run->events.names[e].len;
        }
    }
    size_t mask = 63;
    while (mask + 1 < used * 2)
        mask = mask * 2 + 1;
    ex->events = calloc(used ? used : 1, sizeof *ex->events);
    ex->scores = malloc((total ? total : 1) * sizeof *ex->scores);
    ex->names = malloc(name_bytes ? name_bytes : 1);
    ex->slots = calloc(mask + 1, sizeof *ex->slots);
    if (!ex->events || !ex->scores || !ex->names || !ex->slots)
        goto out;
    ex->slot_mask = mask;
    uint32_t first = 0;
    name_bytes = 0;
    for (size_t e = 0; e < events; e++) {
        if (!fill[e])
            continue;
        const s_name_t *name = &run->events.names[e];
        s_exam_event_t *ev = &ex->events[ex->event_count];
        ev->hash = s_hash(run->events.bytes + name->off, name->len);
        ev->name_len = name->len;
        ev->name_off = name_bytes;
        ev->first = first;
        memcpy(ex->names + name_bytes, run->events.bytes + name->off, name->len);
        name_bytes += name->len;
        first += fill[e];
        fill[e] = ev->first; /* from here on: where the next score goes */
        size_t slot = ev->hash & mask;
        while (ex->slots[slot])
            slot = (slot + 1) & mask;
        run->exam_of[e] = (uint32_t)ex->event_count;
        ex->slots[slot] = (uint32_t)++ex->event_count;
    }
    for (size_t k = 0; k < fact_count; k++) {
        const s_fact_t *fact = &run->facts[k];
        if (s_is_kept_exam(fact)) {
            ex->scores[fill[fact->key - 1]++] = fact->rank;
            ex->events[run->exam_of[fact->key - 1]].count++;
        }
    }
    for (size_t e = 0; e < ex->event_count; e++)
        qsort(ex->scores + ex->events[e].first, ex->events[e].count, sizeof *ex->scores, s_cmp_u32);
    *out = ex;
    ex = NULL;
    err = XS_OK;
out:
    free(fill);
    xs_certify_exams_destroy(&ex);
    return err;
}

/* The standings event of interned event e, looked up by name the first time. */
static const s_exam_event_t *s_exam_of(s_run_t *run, const xs_certify_exams_t *ex, uint32_t e) {
    if (run->exam_of[e] == S_UNSET) {
        const s_name_t *name = &run->events.names[e];
        const char *bytes = run->events.bytes + name->off;
        const s_exam_event_t *ev = s_exam_find(ex, s_hash(bytes, name->len), bytes, name->len);
        run->exam_of[e] = ev ? (uint32_t)(ev - ex->events) : S_NONE;
    }
    return run->exam_of[e] == S_NONE ? NULL : &ex->events[run->exam_of[e]];
}

/* Tier of a score among an event's kept scores (§3.4): k strictly higher, m strictly
 * lower; top if k < floor(n/3), else bottom if m < floor(n/3), else middle; fewer than 3
 * participants: middle. */
static xs_certify_tier s_tier(const xs_certify_exams_t *ex, const s_exam_event_t *ev,
                              uint32_t score) {
    size_t n = ev ? ev->count : 0;
    if (n < 3)
        return XS_TIER_MIDDLE;
    const uint32_t *scores = ex->scores + ev->first;
    size_t lo = 0, hi = n; /* first index with scores[i] >= score */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (scores[mid] < score)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t lower = lo; /* m */
    hi = n;            /* first index with scores[i] > score */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (scores[mid] <= score)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t higher = n - lo; /* k */
    size_t third = n / 3;
    if (higher < third)
        return XS_TIER_TOP;
    if (lower < third)
        return XS_TIER_BOTTOM;
    return XS_TIER_MIDDLE;
}

xs_err xs_certify_exams_make(xs_certify_exams_t **out, const xs_certify_exam_event_t *events,
                             size_t count) {
    xs_certify_exams_t *ex = calloc(1, sizeof *ex);
    size_t total = 0, name_bytes = 0, mask = 63;
    *out = NULL;
    if (!ex)
        return XS_ENOMEM;
    for (size_t e = 0; e < count; e++) {
        total += events[e].count;
        name_bytes += events[e].len;
    }
    while (mask + 1 < count * 2)
        mask = mask * 2 + 1;
    ex->events = calloc(count ? count : 1, sizeof *ex->events);
    ex->scores = malloc((total ? total : 1) * sizeof *ex->scores);
    ex->names = malloc(name_bytes ? name_bytes : 1);
    ex->slots = calloc(mask + 1, sizeof *ex->slots);
    if (!ex->events || !ex->scores || !ex->names || !ex->slots) {
        xs_certify_exams_destroy(&ex);
        return XS_ENOMEM;
    }
    ex->slot_mask = mask;
    uint32_t first = 0;
    name_bytes = 0;
    for (size_t e = 0; e < count; e++) {
        const xs_certify_exam_event_t *in = &events[e];
        uint32_t hash = s_hash(in->name, in->len);
        if (s_exam_find(ex, hash, in->name, in->len)) {
            xs_certify_exams_destroy(&ex);
            return XS_EINVAL;
        }
        s_exam_event_t *ev = &ex->events[ex->event_count];
        ev->hash = hash;
        ev->name_len = (uint32_t)in->len;
        ev->name_off = name_bytes;
        ev->first = first;
        ev->count = (uint32_t)in->count;
        if (in->len)
            memcpy(ex->names + name_bytes, in->name, in->len);
        name_bytes += in->len;
        if (in->count)
            memcpy(ex->scores + first, in->scores, in->count * sizeof *ex->scores);
        qsort(ex->scores + first, in->count, sizeof *ex->scores, s_cmp_u32);
        first += (uint32_t)in->count;
        size_t slot = hash & mask;
        while (ex->slots[slot])
            slot = (slot + 1) & mask;
        ex->slots[slot] = (uint32_t)++ex->event_count;
    }
    *out = ex;
    return XS_OK;
}

xs_certify_tier xs_certify_exams_tier(const xs_certify_exams_t *ex, const char *event, size_t len,
                                      uint32_t score) {
    return s_tier(ex, s_exam_find(ex, s_hash(event, len), event, len), score);
}

size_t xs_certify_exams_count(const xs_certify_exams_t *ex) {
    return ex ? ex->event_count : 0;
}

size_t xs_certify_exams_participants(const xs_certify_exams_t *ex, const char *event, size_t len) {
    const s_exam_event_t *ev = s_exam_find(ex, s_hash(event, len), event, len);
    return ev ? ev->count : 0;
}

void xs_certify_exams_destroy(xs_certify_exams_t **exams) {
    if (!exams || !*exams)
        return;
    xs_certify_exams_t *ex = *exams;
    free(ex->events);
    free(ex->slots);
    free(ex->scores);
    free(ex->names);
    free(ex);
    *exams = NULL;
}

/* ---- step 4 applied and step 7: one teacher's ledger ---- */

static xs_certify_met s_met(uint64_t credited, uint32_t required) {
    if (!required)
        return XS_MET_NONE;
    return credited >= required ? XS_MET_YES : XS_MET_NO;
}

static void s_total_row(xs_certify_total_t *row, xs_scope scope, size_t bucket, int year,
                        unsigned semester, uint64_t credited, uint32_t required,
                        unsigned advisory) {
    memset(row, 0, sizeof *row);
    row->scope = (uint8_t)scope;
    row->bucket = (uint8_t)bucket;
    row->year = (int16_t)year;
    row->semester = (uint8_t)semester;
    row->credited_seconds = credited;
    row->required_seconds = required;
    row->met = (uint8_t)s_met(credited, required);
    row->why = row->met == XS_MET_NO ? XS_WHY_HOURS_SHORT : 0;
    row->binding = required && !((advisory >> scope) & 1u);
}

unsigned xs_certify_level(const xs_record_t *rec) {
    return (rec->present & (1u << XS_F_LEVEL)) && rec->level < XS_LEVEL_COUNT ? rec->level
                                                                              : XS_LEVEL_NONE;
}

void xs_certify_sums_apply(const xs_policy_t *p, xs_certify_sums_t *s, const xs_certify_row_t *row,
                           unsigned level, int sign) {
    if (!row->year)
        return;
    s->held += (uint32_t)sign;
    if (row->status != XS_CERT_CREDITED || row->semester < 1 || row->semester > 2)
        return;
    /* Unsigned arithmetic: removing what was added before is exact. */
    uint64_t credit = sign > 0 ? row->credited_seconds : (uint64_t)0 - row->credited_seconds;
    unsigned buckets = p->bucket_mask[row->category][level < XS_LEVEL_COUNT ? level : 0];
    uint64_t *cell = s->credited[row->semester - 1];
    for (unsigned mask = buckets; mask; mask &= mask - 1)
        cell[__builtin_ctz(mask)] += credit;
    if (p->require_review && row->review != XS_REVIEW_APPROVED) {
        uint32_t *u = s->unreviewed[row->semester - 1];
        for (unsigned mask = buckets; mask; mask &= mask - 1)
            u[__builtin_ctz(mask)] += (uint32_t)sign;
    }
}

int xs_certify_single_candidate(const xs_policy_t *p, const xs_certify_row_t *row, unsigned level) {
    unsigned buckets = p->bucket_mask[row->category][level < XS_LEVEL_COUNT ? level : 0];
    return row->status == XS_CERT_CREDITED && row->category == p->single.category &&
           ((buckets >> p->single.bucket) & 1u);
}

size_t xs_certify_totals_max(const xs_policy_t *p, size_t span) {
    size_t cycles = span / (p->cycle_years ? p->cycle_years : 1) + 2;
    return (span * 3 + cycles) * p->bucket_count + 1;
}

/* The sums of year y among years (count, ascending), or NULL. */
static const xs_certify_sums_t *s_sums_at(const xs_certify_sums_t *years, size_t count, int y) {
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (years[mid].year < y)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && years[lo].year == y ? &years[lo] : NULL;
}

xs_err xs_certify_totals(const xs_policy_t *p, const xs_certify_sums_t *years, size_t count,
                         const xs_certify_opts_t *opts, xs_certify_total_t *out, size_t cap,
                         size_t *total_count) {
    int y_lo = 0, y_hi = -1;
    *total_count = 0;
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && years[i].year <= years[i - 1].year)
            return XS_EINVAL;
        if (!years[i].held)
            continue;
        if (y_hi < y_lo)
            y_lo = years[i].year;
        y_hi = years[i].year;
    }
    /* Which academic years are reported, and the cycles they touch: by default the years the
     * teacher has records in (and their cycles); with opts, every year of the range. */
    int e_lo = y_lo, e_hi = y_hi, every = 0;
    if (opts && (opts->first_year || opts->last_year)) {
        if (opts->first_year > opts->last_year || opts->first_year < 1900 || opts->last_year > 2200)
            return XS_EINVAL;
        e_lo = opts->first_year;
        e_hi = opts->last_year;
        every = 1;
    }
#define S_HELD(y) ((y) >= y_lo && (y) <= y_hi && (at = s_sums_at(years, count, (y))) && at->held)
    const xs_certify_sums_t *at;
    size_t b_count = p->bucket_count;
    size_t span = e_hi >= e_lo ? (size_t)(e_hi - e_lo + 1) : 0;
    int c_lo = span ? xs_policy_cycle_of(p, e_lo) : 0;
    int c_hi = span ? xs_policy_cycle_of(p, e_hi) : -1;
    size_t k = 0;
    static const xs_certify_sums_t zero;
    for (int year = e_lo; span && year <= e_hi; year++) {
        if (!every && !S_HELD(year))
            continue;
        const xs_certify_sums_t *s = NULL;
        if (year >= y_lo && year <= y_hi)
            s = s_sums_at(years, count, year);
        if (!s)
            s = &zero;
        for (size_t b = 0; b < b_count; b++) {
            const xs_policy_bucket_t *bk = &p->buckets[b];
            if (k >= cap)
                return XS_ETOOBIG;
            s_total_row(&out[k], XS_SCOPE_YEAR, b, year, 0, s->credited[0][b] + s->credited[1][b],
                        bk->required_seconds[XS_SCOPE_YEAR], bk->advisory);
            out[k++].unreviewed = s->unreviewed[0][b] + s->unreviewed[1][b];
        }
        for (unsigned sem = 1; sem <= 2; sem++) {
            for (size_t b = 0; b < b_count; b++) {
                const xs_policy_bucket_t *bk = &p->buckets[b];
                if (!bk->required_seconds[XS_SCOPE_SEMESTER])
                    continue;
                if (k >= cap)
                    return XS_ETOOBIG;
                s_total_row(&out[k], XS_SCOPE_SEMESTER, b, year, sem, s->credited[sem - 1][b],
                            bk->required_seconds[XS_SCOPE_SEMESTER], bk->advisory);
                out[k++].unreviewed = s->unreviewed[sem - 1][b];
            }
        }
    }
    unsigned single_cat = p->single.category;
    for (int cycle = c_lo; span && cycle <= c_hi; cycle += (int)p->cycle_years) {
        int any = every;
        for (int year = cycle; !any && year < cycle + (int)p->cycle_years; year++)
            any = S_HELD(year);
        if (!any)
            continue;
        for (size_t b = 0; b < b_count; b++) {
            const xs_policy_bucket_t *bk = &p->buckets[b];
            if (!bk->required_seconds[XS_SCOPE_CYCLE])
                continue;
            uint64_t credited = 0, largest = 0, pending = 0;
            for (int year = cycle; year < cycle + (int)p->cycle_years; year++) {
                if (year < y_lo || year > y_hi || !(at = s_sums_at(years, count, year)))
                    continue;
                credited += at->credited[0][b] + at->credited[1][b];
                pending += at->unreviewed[0][b] + at->unreviewed[1][b];
                if (at->best > largest)
                    largest = at->best;
            }
            if (k >= cap)
                return XS_ETOOBIG;
            xs_certify_total_t *row = &out[k++];
            s_total_row(row, XS_SCOPE_CYCLE, b, cycle, 0, credited,
                        bk->required_seconds[XS_SCOPE_CYCLE], bk->advisory);
            row->unreviewed = (uint32_t)pending;
            /* The single-record requirement joins its bucket's cycle row (§6.8: and says so
             * when it is what is missing). */
            if (single_cat != XS_CAT_NONE && b == p->single.bucket) {
                row->single_seconds = (uint32_t)largest;
                row->single_met = (uint8_t)s_met(largest, p->single.min_seconds);
                if (row->single_met != XS_MET_YES) {
                    row->met = XS_MET_NO;
                    row->why |= XS_WHY_SINGLE_MISSING;
                }
            }
        }
    }
#undef S_HELD
    *total_count = k;
    return XS_OK;
}

static xs_err s_ledger(s_run_t *run, uint32_t teacher, const xs_certify_exams_t *exams,
                       xs_certify_teacher_fn on_teacher, void *ctx) {
    const xs_policy_t *p = run->policy;
    s_fact_t *f = run->facts + run->t_start[teacher];
    size_t n = run->t_count[teacher];
    int y_lo = 0, y_hi = -1;

    /* Step 4 applied: every exam record still standing gets its tier's credit. */
    for (size_t j = 0; j < n; j++) {
        s_fact_t *fact = &f[j];
        if (fact->year) {
            if (y_hi < y_lo || fact->year < y_lo)
                y_lo = fact->year;
            if (fact->year > y_hi)
                y_hi = fact->year;
        }
        if (fact->category != XS_CAT_EXAM || fact->status == XS_CERT_REJECTED ||
            fact->status == XS_CERT_VOIDED)
            continue;
        xs_certify_row_t *row = &run->rows[fact->index];
        xs_certify_tier tier = s_tier(exams, s_exam_of(run, exams, fact->key - 1), fact->rank);
        row->tier = (uint8_t)tier;
        row->base_seconds = p->credit.exam_seconds[tier - 1];
        if (fact->status == XS_CERT_CREDITED)
            row->credited_seconds = row->base_seconds;
        fact->rank = row->base_seconds;
    }
    if (!on_teacher)
        return XS_OK;

    /* Step 7: the sums of each academic year the teacher has dated records in, then the
     * totals from them (xs_certify_totals, which the hub's kept sums go through too). */
    size_t span = y_hi >= y_lo ? (size_t)(y_hi - y_lo + 1) : 0;
    if (!s_grow(&run->acc, &run->acc_cap, span + 1, sizeof *run->acc))
        return XS_ENOMEM;
    xs_certify_sums_t *sums = run->acc;
    memset(sums, 0, span * sizeof *sums);
    for (size_t y = 0; y < span; y++)
        sums[y].year = (int16_t)(y_lo + (int)y);
    for (size_t j = 0; j < n; j++) {
        const s_fact_t *fact = &f[j];
        if (!fact->year)
            continue;
        const xs_certify_row_t *row = &run->rows[fact->index];
        xs_certify_sums_t *s = &sums[fact->year - y_lo];
        xs_certify_sums_apply(p, s, row, fact->level, 1);
        if (xs_certify_single_candidate(p, row, fact->level) && row->credited_seconds > s->best)
            s->best = row->credited_seconds;
    }
    size_t reported = span;
    if (run->opts && (run->opts->first_year || run->opts->last_year))
        reported = (size_t)(run->opts->last_year - run->opts->first_year + 1);
    size_t max = xs_certify_totals_max(p, reported);
    if (!s_grow(&run->totals, &run->totals_cap, max, sizeof *run->totals))
        return XS_ENOMEM;
    size_t k;
    xs_err err = xs_certify_totals(p, sums, span, run->opts, run->totals, run->totals_cap, &k);
    if (err != XS_OK)
        return err;

    uint32_t *list = run->sel; /* free again: steps 3-6 are done */
    for (size_t j = 0; j < n; j++)
        list[j] = f[j].index;
    const s_name_t *name = &run->teachers.names[teacher];
    xs_certify_teacher_t view = {
        .teacher_id = {run->teachers.bytes + name->off, name->len},
        .records = list,
        .record_count = n,
        .totals = run->totals,
        .total_count = k,
    };
    return on_teacher(ctx, &view);
}

/* ---- the run ---- */

typedef struct s_order {
    const char *ptr;
    uint32_t len;
    uint32_t teacher;
} s_order_t;

static int s_cmp_order(const void *a, const void *b) {
    const s_order_t *x = a, *y = b;
    size_t len = x->len < y->len ? x->len : y->len;
    int c = len ? memcmp(x->ptr, y->ptr, len) : 0;
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static void s_free(s_run_t *run) {
    free(run->teacher_of);
    s_names_free(&run->teachers);
    free(run->t_count);
    free(run->t_start);
    s_names_free(&run->events);
    free(run->exam_of);
    free(run->facts);
    free(run->corrections);
    free(run->voids);
    free(run->reviews);
    free(run->reviewed);
    free(run->sel);
    free(run->tmp);
    free(run->norm_off);
    free(run->norm_len);
    free(run->fact_tmp);
    free(run->arena);
    free(run->acc);
    free(run->totals);
}

/* Validates the records at the count indices of a record naming another (a correction or a
 * review): a valid one gets status and related_id = the record it names (`voids` or
 * `reviews`), an invalid one is rejected with its reason. Returns how many are valid. */
static size_t s_validate_naming(s_run_t *run, const uint32_t *indices, size_t count,
                                uint8_t status) {
    size_t valid = 0;
    for (size_t k = 0; k < count; k++) {
        size_t i = indices[k];
        const xs_record_t *rec = &run->records[i];
        xs_certify_row_t *row = &run->rows[i];
        xs_field field;
        memset(row, 0, sizeof *row);
        row->category = rec->category;
        xs_reason why = xs_policy_check(run->policy, rec, &field);
        if (why != XS_REASON_NONE) {
            row->status = XS_CERT_REJECTED;
            row->reason = (uint8_t)why;
            row->field = (uint8_t)field;
            continue;
        }
        row->status = status;
        row->related_id = status == XS_CERT_REVIEW ? rec->reviews : rec->voids;
        valid++;
    }
    return valid;
}

/* Corrections: validated, then their targets gathered for step 1. */
static xs_err s_corrections(s_run_t *run) {
    size_t valid =
        s_validate_naming(run, run->corrections, run->correction_count, XS_CERT_CORRECTION);
    if (!valid)
        return XS_OK;
    size_t slots = 16;
    while (slots < valid * 2)
        slots *= 2;
    run->voids = calloc(slots, sizeof *run->voids);
    if (!run->voids)
        return XS_ENOMEM;
    run->void_mask = slots - 1;
    for (size_t k = 0; k < run->correction_count; k++) {
        size_t i = run->corrections[k];
        if (run->rows[i].status != XS_CERT_CORRECTION)
            continue;
        uint64_t target = run->records[i].voids, id = s_id(run, i);
        size_t slot = (size_t)s_mix64(target) & run->void_mask;
        while (run->voids[slot].used && run->voids[slot].target != target)
            slot = (slot + 1) & run->void_mask;
        s_void_t *v = &run->voids[slot];
        if (!v->used || id < v->correction)
            v->correction = id;
        v->used = 1;
        v->target = target;
    }
    return XS_OK;
}

/* Reviews: validated, then their targets gathered for step 1 (§7). */
static xs_err s_reviews(s_run_t *run) {
    size_t valid = s_validate_naming(run, run->reviews, run->review_count, XS_CERT_REVIEW);
    if (!valid)
        return XS_OK;
    size_t slots = 16;
    while (slots < valid * 2)
        slots *= 2;
    run->reviewed = calloc(slots, sizeof *run->reviewed);
    if (!run->reviewed)
        return XS_ENOMEM;
    run->review_mask = slots - 1;
    for (size_t k = 0; k < run->review_count; k++) {
        size_t i = run->reviews[k];
        if (run->rows[i].status != XS_CERT_REVIEW)
            continue;
        const xs_record_t *rec = &run->records[i];
        uint64_t id = s_id(run, i);
        uint32_t hash = s_hash(rec->teacher_id.ptr, rec->teacher_id.len);
        s_review_t *r = s_review_find(run, rec->reviews, &rec->teacher_id, hash);
        if (!r) {
            size_t slot = (size_t)s_mix64(rec->reviews) & run->review_mask;
            while (run->reviewed[slot].used)
                slot = (slot + 1) & run->review_mask;
            r = &run->reviewed[slot];
            *r = (s_review_t){.target = rec->reviews,
                              .review = id,
                              .teacher = rec->teacher_id,
                              .hash = hash,
                              .verdict = rec->verdict,
                              .used = 1};
        } else if (id > r->review) {
            /* The latest review wins: a later approval after a return, or the reverse. */
            r->review = id;
            r->verdict = rec->verdict;
        }
    }
    return XS_OK;
}

/* Pass 1: each record's teacher, and the lists of corrections and reviews. */
static xs_err s_group(s_run_t *run) {
    uint32_t last = S_NONE;
    const xs_str_t *last_id = NULL;
    for (size_t i = 0; i < run->count; i++) {
        const xs_record_t *rec = &run->records[i];
        run->teacher_of[i] = S_NONE;
        if (rec->kind == XS_KIND_CORRECTION) {
            if (!s_grow(&run->corrections, &run->correction_cap, run->correction_count + 1,
                        sizeof *run->corrections))
                return XS_ENOMEM;
            run->corrections[run->correction_count++] = (uint32_t)i;
            continue;
        }
        if (rec->kind == XS_KIND_REVIEW) {
            if (!s_grow(&run->reviews, &run->review_cap, run->review_count + 1,
                        sizeof *run->reviews))
                return XS_ENOMEM;
            run->reviews[run->review_count++] = (uint32_t)i;
            continue;
        }
        if (run->mode == S_MODE_EXAMS && rec->category != XS_CAT_EXAM)
            continue;
        if (!(rec->present & (1u << XS_F_TEACHER_ID)) || rec->teacher_id.len == 0)
            continue;
        const xs_str_t *id = &rec->teacher_id;
        uint32_t t;
        if (last != S_NONE && id->len == last_id->len && s_same(id->ptr, last_id->ptr, id->len)) {
            t = last; /* sheets often list one teacher's rows together */
        } else {
            t = s_names_add(&run->teachers, id->ptr, id->len, s_hash(id->ptr, id->len));
            if (t == S_NONE)
                return XS_ENOMEM;
        }
        last = t;
        last_id = id;
        if (run->mode == S_MODE_TEACHER && t > 0)
            return XS_EINVAL;
        if (t >= run->t_cap) {
            size_t cap = run->t_cap;
            if (!s_grow(&run->t_count, &cap, (size_t)t + 1, sizeof *run->t_count))
                return XS_ENOMEM;
            memset(run->t_count + run->t_cap, 0, (cap - run->t_cap) * sizeof *run->t_count);
            run->t_cap = cap;
        }
        run->teacher_of[i] = t;
        run->t_count[t]++;
    }
    return XS_OK;
}

static xs_err s_run(s_run_t *run, const xs_certify_exams_t *exams, xs_certify_exams_t **exams_out,
                    xs_certify_teacher_fn on_teacher, void *ctx) {
    size_t n = run->count;
    xs_certify_exams_t *own_exams = NULL;
    s_order_t *order = NULL;
    xs_err err = XS_ENOMEM;
    if (n >= S_NONE)
        return XS_ETOOBIG;
    if (run->opts && (run->opts->first_year || run->opts->last_year) &&
        (run->opts->first_year > run->opts->last_year || run->opts->first_year < 1900 ||
         run->opts->last_year > 2200))
        return XS_EINVAL;
    run->teacher_of = malloc((n ? n : 1) * sizeof *run->teacher_of);
    if (!run->teacher_of)
        goto out;
    if ((err = s_group(run)) != XS_OK || (err = s_corrections(run)) != XS_OK ||
        (err = s_reviews(run)) != XS_OK)
        goto out;
    err = XS_ENOMEM;

    /* Pass 2: steps 1-2 per record; facts laid out teacher by teacher (a counting sort). */
    size_t teachers = run->teachers.count, fact_count = 0;
    run->t_start = malloc((teachers ? teachers : 1) * sizeof *run->t_start);
    if (!run->t_start)
        goto out;
    for (size_t t = 0; t < teachers; t++) {
        run->t_start[t] = (uint32_t)fact_count;
        fact_count += run->t_count[t];
    }
    run->facts = malloc((fact_count ? fact_count : 1) * sizeof *run->facts);
    if (!run->facts)
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = run->teacher_of[i];
        if (t == S_NONE) {
            if (run->records[i].kind != XS_KIND_CORRECTION &&
                run->records[i].kind != XS_KIND_REVIEW && run->mode != S_MODE_EXAMS)
                s_evaluate(run, i, NULL);
            continue;
        }
        if (!s_evaluate(run, i, &run->facts[run->t_start[t]++]))
            goto out;
    }
    for (size_t t = 0; t < teachers; t++)
        run->t_start[t] -= run->t_count[t];
    for (size_t k = 0; k < run->correction_count; k++) {
        xs_certify_row_t *row = &run->rows[run->corrections[k]];
        if (row->status == XS_CERT_CORRECTION && !s_void_find(run, row->related_id)->found &&
            run->mode != S_MODE_EXAMS) {
            row->status = XS_CERT_REJECTED;
            row->reason = XS_REASON_BAD_TARGET;
        }
    }
    /* A review that names no activity of its teacher: bad_target, as a correction's. */
    for (size_t k = 0; k < run->review_count && run->mode != S_MODE_EXAMS; k++) {
        size_t i = run->reviews[k];
        xs_certify_row_t *row = &run->rows[i];
        const xs_str_t *teacher = &run->records[i].teacher_id;
        if (row->status == XS_CERT_REVIEW &&
            !s_review_find(run, row->related_id, teacher, s_hash(teacher->ptr, teacher->len))
                 ->found) {
            row->status = XS_CERT_REJECTED;
            row->reason = XS_REASON_BAD_TARGET;
            row->field = XS_F_REVIEWS;
        }
    }

    /* Steps 3, 5, 6 per teacher, before any callback: a repeated id stops the run here. */
    for (size_t t = 0; t < teachers; t++)
        if ((err = s_teacher_steps(run, run->facts + run->t_start[t], run->t_count[t])) != XS_OK)
            goto out;
    err = XS_ENOMEM;

    /* Step 4: standings of every exam event, unless the caller brought the county's. */
    size_t events = run->events.count;
    run->exam_of = malloc((events ? events : 1) * sizeof *run->exam_of);
    if (!run->exam_of)
        goto out;
    for (size_t e = 0; e < events; e++)
        run->exam_of[e] = S_UNSET;
    if (!exams || exams_out) {
        if ((err = s_exams_collect(run, fact_count, &own_exams)) != XS_OK)
            goto out;
        err = XS_ENOMEM;
        exams = own_exams;
    }
    if (exams_out) {
        *exams_out = own_exams;
        own_exams = NULL;
        err = XS_OK;
        goto out;
    }

    /* Step 4 applied and step 7, teacher by teacher in teacher_id order. */
    order = malloc((teachers ? teachers : 1) * sizeof *order);
    if (!order)
        goto out;
    for (size_t t = 0; t < teachers; t++) {
        const s_name_t *name = &run->teachers.names[t];
        order[t] = (s_order_t){run->teachers.bytes + name->off, name->len, (uint32_t)t};
    }
    if (on_teacher)
        qsort(order, teachers, sizeof *order, s_cmp_order);
    for (size_t t = 0; t < teachers; t++)
        if ((err = s_ledger(run, order[t].teacher, exams, on_teacher, ctx)) != XS_OK)
            goto out;
    err = XS_OK;
out:
    free(order);
    xs_certify_exams_destroy(&own_exams);
    s_free(run);
    return err;
}

xs_err xs_certify_run(const xs_policy_t *policy, const xs_certify_exams_t *exams,
                      const xs_record_t *records, const uint64_t *ids, size_t count,
                      const xs_certify_opts_t *opts, xs_certify_row_t *rows,
                      xs_certify_teacher_fn on_teacher, void *ctx) {
    s_run_t run = {.policy = policy,
                   .records = records,
                   .ids = ids,
                   .count = count,
                   .rows = rows,
                   .mode = S_MODE_RUN,
                   .opts = opts};
    return s_run(&run, exams, NULL, on_teacher, ctx);
}

xs_err xs_certify_teacher(const xs_policy_t *policy, const xs_certify_exams_t *exams,
                          const xs_record_t *records, const uint64_t *ids, size_t count,
                          const xs_certify_opts_t *opts, xs_certify_row_t *rows,
                          xs_certify_teacher_fn on_teacher, void *ctx) {
    s_run_t run = {.policy = policy,
                   .records = records,
                   .ids = ids,
                   .count = count,
                   .rows = rows,
                   .mode = S_MODE_TEACHER,
                   .opts = opts};
    return s_run(&run, exams, NULL, on_teacher, ctx);
}

xs_err xs_certify_exams_build(xs_certify_exams_t **out, const xs_policy_t *policy,
                              const xs_record_t *records, const uint64_t *ids, size_t count) {
    *out = NULL;
    if (count >= S_NONE)
        return XS_ETOOBIG;
    xs_certify_row_t *rows = malloc((count ? count : 1) * sizeof *rows);
    if (!rows)
        return XS_ENOMEM;
    s_run_t run = {.policy = policy,
                   .records = records,
                   .ids = ids,
                   .count = count,
                   .rows = rows,
                   .mode = S_MODE_EXAMS};
    xs_err err = s_run(&run, NULL, out, NULL, NULL);
    free(rows);
    return err;
}

size_t xs_certify_reason_text(const xs_policy_t *policy, const xs_record_t *rec,
                              const xs_certify_row_t *row, char *out, size_t cap) {
    return xs_certify_reason_note(policy, rec, row, NULL, out, cap);
}

const xs_str_t *xs_certify_review_note(const xs_record_t *records, const uint64_t *ids,
                                       size_t count, const xs_certify_row_t *row) {
    if (row->status != XS_CERT_REJECTED || row->reason != XS_REASON_RETURNED)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if ((ids ? ids[i] : (uint64_t)i + 1) == row->related_id &&
            records[i].kind == XS_KIND_REVIEW)
            return &records[i].note;
    return NULL;
}

size_t xs_certify_reason_note(const xs_policy_t *policy, const xs_record_t *rec,
                              const xs_certify_row_t *row, const xs_str_t *note, char *out,
                              size_t cap) {
    if (!cap)
        return 0;
    const char *zh = xs_reason_zh(row->reason);
    uint32_t threshold = 0;
    if (row->reason == XS_REASON_TOO_SHORT) {
        switch (rec->category) {
        case XS_CAT_REFLECTION:
            threshold = policy->credit.reflection_min_chars;
            break;
        case XS_CAT_TEACHING_DESIGN:
            threshold = policy->credit.design_min_chars;
            break;
        case XS_CAT_PAPER:
            threshold = policy->credit.paper_min_chars;
            break;
        default:
            break;
        }
    }
    int len;
    if (threshold)
        len = snprintf(out, cap, "%s%u", zh, threshold);
    else if (row->reason == XS_REASON_RETURNED && note && note->len)
        len = snprintf(out, cap, "%s：%.*s", zh, (int)note->len, note->ptr);
    else
        len = snprintf(out, cap, "%s", zh);
    if (len < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)len < cap ? (size_t)len : cap - 1;
}

size_t xs_certify_format_hours(char *out, size_t cap, uint64_t seconds) {
    /* hundredths of an hour = seconds / 36, rounded half up */
    uint64_t hundredths = seconds / 36 + (seconds % 36 >= 18);
    return xs_text_format_fixed(out, cap, hundredths, 2);
}

/* Appends len bytes of s to out (cap bytes, NUL kept), as far as they fit; returns the new
 * length. */
static size_t s_append(char *out, size_t cap, size_t at, const char *s, size_t len) {
    if (at + 1 >= cap)
        return at;
    size_t n = len < cap - 1 - at ? len : cap - 1 - at;
    memcpy(out + at, s, n);
    out[at + n] = '\0';
    return at + n;
}
#define S_APPEND(lit) (len = s_append(out, cap, len, lit, sizeof lit - 1))

size_t xs_certify_total_reason(const xs_policy_t *policy, const xs_certify_total_t *total,
                               char *out, size_t cap) {
    if (!cap)
        return 0;
    size_t len = 0;
    out[0] = '\0';
    if (total->met != XS_MET_NO)
        return 0;
    char hours[24];
    if (total->why & XS_WHY_HOURS_SHORT) {
        uint64_t short_by = total->required_seconds > total->credited_seconds
                                ? total->required_seconds - total->credited_seconds
                                : 0;
        size_t n = xs_certify_format_hours(hours, sizeof hours, short_by);
        S_APPEND("hours_short 还差");
        len = s_append(out, cap, len, hours, n);
        S_APPEND("学时");
    }
    if (total->why & XS_WHY_SINGLE_MISSING) {
        const xs_policy_single_t *single = &policy->single;
        if (len)
            S_APPEND("; ");
        S_APPEND("single_missing 缺少");
        if (single->label[0]) {
            len = s_append(out, cap, len, single->label, strlen(single->label));
        } else {
            /* whole hours print without decimals: "90学时" */
            size_t n = xs_certify_format_hours(hours, sizeof hours, single->min_seconds);
            if (n > 3 && memcmp(hours + n - 3, ".00", 3) == 0)
                n -= 3;
            const char *label = xs_policy_category_label(policy, single->category);
            S_APPEND("一次不少于");
            len = s_append(out, cap, len, hours, n);
            S_APPEND("学时的");
            len = s_append(out, cap, len, label ? label : "", label ? strlen(label) : 0);
        }
    }
    return len;
}
#undef S_APPEND
