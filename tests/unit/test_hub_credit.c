/* test_hub_credit: the hub's incremental certification state (hub/credit.h) equals the full
 * engine, field for field. Random histories (3-4 nodes of their own schools, teachers some of
 * them share, every category, dates over 2-6 academic years, same events, same works written
 * differently, caps, invalid records, corrections and reviews, some naming a record that
 * arrives later) are sealed into batches of random sizes and merged with hub_merge in random
 * interleavings and groups, some batches twice. After every merge, every accepted record's
 * stored row, every teacher's totals and receipt must be what xs_certify_run gives over all
 * the records held; every teacher whose receipt changed is marked in the outbox for every
 * node holding their activities, and none for a node holding nothing of theirs; a rebuild
 * from the ledger (kept or not) must give the same state, and so must `xueshi-hub policy`
 * putting a policy's next version in force mid-history. It runs under every shipped policy
 * (schema/policies), and under each with require_review = yes. Two handmade histories pin
 * down who has a receipt and a component that outgrows its arrays while it is loaded.
 *
 * Each history has a seed, printed with any mismatch: XS_TEST_SEED=N replays that one history
 * (its policy is part of the seed). XS_TEST_CASES sets the histories per policy (default 30),
 * XS_TEST_RECORDS the most records in one history (default 400; at least 50). Without a
 * TMPDIR the hubs live in /dev/shm when it is there: the merges' fsyncs would dominate. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "credit.h"
#include "hub.h"
#include "ledger.h"
#include "merge.h"
#include "outbox.h"
#include "xs/batch.h"
#include "xs/certify.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/policy.h"
#include "xs/receipt.h"
#include "xs/record.h"
#include "xs/text.h"

/* Nodes enrolled in every hub; a history uses the first 3 or 4 of them (in a random
 * enrollment order, so the engine ids' high bits differ between histories). */
#define S_NODES 4
/* Most shipped policies the test runs. */
#define S_POLICIES_MAX 16
/* Histories per policy and records per history, unless the environment says otherwise. */
#define S_CASES_DEFAULT 30
#define S_RECORDS_MIN 50
#define S_RECORDS_DEFAULT 400
/* The seed of a history: variant (policy × require_review, from 1) × S_SEED_VARIANT + case. */
#define S_SEED_VARIANT 1000000ull
/* Mismatches printed per check before the rest are only counted. */
#define S_PRINT_MAX 12
/* Bytes kept of a command's standard output. */
#define S_OUT_MAX (16 * 1024)

/* 61 letters: after "T9-", a teacher id of XS_ID_MAX bytes. */
#define S_Z61 "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
_Static_assert(sizeof("T9-" S_Z61) - 1 == XS_ID_MAX, "the longest teacher id");
/* Teacher ids a history draws from: prefixes of each other, multi-byte, and one of
 * XS_ID_MAX bytes, so the store's keys are exercised at their order and their length. */
static const char *const s_teacher_ids[] = {
    "T1",  "T10", "T100", "T2", "T2-b",   "张老师", "T3",
    "T30", "T4",  "T5",   "T6", "教师07", "T8",     ("T9-" S_Z61),
};
#define S_POOL (sizeof s_teacher_ids / sizeof s_teacher_ids[0])

/* Titles of papers, projects and unit designs, before spacing and case are varied. */
static const char *const s_works[] = {
    "Reading In The Rural Classroom",
    "小学数学 单元 整体教学",
    "Project Based Learning",
    "On Homework",
};
#define S_WORKS (sizeof s_works / sizeof s_works[0])

/* ---- random numbers ---- */

/* splitmix64: small, fast and the same everywhere. */
static uint64_t s_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in 0..n-1 (n > 0). */
static uint32_t s_below(uint64_t *rng, uint32_t n) {
    return (uint32_t)(s_next(rng) % n);
}

/* 1 with the given chance, in percent. */
static int s_chance(uint64_t *rng, uint32_t percent) {
    return s_below(rng, 100) < percent;
}

/* ---- a history ---- */

/* One generated record and where it lives. Its strings point into its own buffers until it
 * is sealed, then into its batch's envelope (what the hub decodes): the array holding it
 * never moves. */
typedef struct s_gen {
    xs_record_t rec;  /* as sealed: voids and reviews are seqs of its own origin */
    uint8_t node;     /* index of its node in the fixture */
    uint64_t seq;     /* its seq at that node */
    uint8_t in_scope; /* 1: the hub accepts it (no school, or its node's own) */
    uint8_t held;     /* 1: its batch is merged */
    int pool;         /* index of its teacher in s_teacher_ids, or -1 (none or not pooled) */
    char teacher[XS_ID_MAX + 1], school[16], work[96], event[48], note[48];
} s_gen_t;

/* One sealed batch of a node. */
typedef struct s_batch {
    uint8_t node;       /* index of its node */
    uint64_t first_seq; /* seq of its first record */
    uint32_t count;     /* records */
    size_t first;       /* index of its first record in the history's records */
    xs_writer_t env;    /* the envelope */
    uint8_t hash[32];   /* its hash */
    int held;           /* 1: merged (accepted or held) */
} s_batch_t;

/* What the full run gives one teacher. */
typedef struct s_expect {
    int seen;                   /* 1: the run gave the teacher a ledger */
    size_t total_count;         /* their totals */
    xs_certify_total_t *totals; /* XS_RECEIPT_TOTALS_MAX entries */
    xs_receipt_t *receipt;      /* xs_receipt_build of the ledger */
    xs_err receipt_err;         /* what xs_receipt_build returned */
} s_expect_t;

typedef struct s_history {
    uint64_t seed; /* printed with every mismatch */
    uint64_t rng;  /* the generator's state */
    size_t nodes;  /* nodes in use, 3 or 4 */
    size_t count;  /* records */
    s_gen_t *recs; /* node 0's records by seq, then node 1's, ... */
    size_t start[S_NODES], per_node[S_NODES];
    s_batch_t *batches;
    size_t nbatches;
    size_t *order; /* deliveries, batch indices, with re-deliveries */
    size_t norder;
    size_t *groups; /* number of deliveries per hub_merge call */
    size_t ngroups;
    int teachers[S_POOL]; /* pool indices of the history's teachers */
    size_t nteachers;
    int node_teachers[S_NODES][S_POOL]; /* per node: pool indices of its teachers */
    size_t node_nteachers[S_NODES];
    int32_t first_day, last_day; /* dates are drawn between these */
    int32_t days[24];            /* a few dates drawn often, so dates tie */
    size_t nexams, nevents;      /* exam events, other events in use */
} s_history_t;

typedef struct fixture {
    char dir[256];                     /* scratch directory */
    char policies[S_POLICIES_MAX][64]; /* shipped policy files' names, sorted */
    size_t npolicies;
    xs_identity_t *nodes[S_NODES]; /* the nodes' keys, fixed seeds */
    char keys[S_NODES][XS_PUBKEYS_TEXT_LEN + 1];
    char out[S_OUT_MAX];
    /* The hub of the history running. */
    char hub_dir[400];
    hub_t hub;
    int hub_open;
    int policy_changed;        /* 1: the history put the policy's next version in force */
    uint32_t numbers[S_NODES]; /* enrollment numbers of the nodes */
    const char *policy_name;   /* of the history running */
    int require_review;
    /* The full run over the records held: a copy with voids and reviews mapped as the
     * ledger maps them, engine ids, rows, identities; index into the history's records. */
    xs_record_t *run_recs;
    uint64_t *run_ids;
    xs_certify_row_t *run_rows;
    xs_receipt_ident_t *run_idents;
    size_t *run_of; /* history index → run index, or SIZE_MAX when not held or not accepted */
    size_t run_count;
    s_expect_t expect[S_POOL];
    xs_receipt_t *got_receipt;
    xs_certify_total_t *got_totals;
    /* What the run being checked is called in messages. */
    const s_history_t *h;
    const char *stage;
    size_t merge_no;
    size_t mismatches;
    size_t checks;    /* checks run, for the summary */
    size_t merges;    /* hub_merge calls */
    size_t changes;   /* policies replaced mid-history */
    size_t rebuilds;  /* hub_credit_rebuild calls */
    size_t records;   /* records generated */
    size_t histories; /* histories run */
    /* The outbox as the last check left it: its generation, each teacher's receipt digest. */
    uint64_t generation_seen;
    uint8_t digest[S_POOL][XS_HASH_BYTES];
    int had_digest[S_POOL];
    /* Owned here, so that a failed check (which leaves the case at once) leaks nothing: the
     * history running and the items of the merge running. */
    s_history_t hist;
    hub_item_t *items;
    int *first;
    size_t items_cap, items_open;
} fixture_t;

/* ---- the generator ---- */

static int32_t s_date(s_history_t *h) {
    if (s_chance(&h->rng, 50))
        return h->days[s_below(&h->rng, sizeof h->days / sizeof h->days[0])];
    return h->first_day + (int32_t)s_below(&h->rng, (uint32_t)(h->last_day - h->first_day + 1));
}

static void s_set_str(s_gen_t *g, xs_field f, char *buf, const char *text) {
    size_t len = strlen(text);
    xs_str_t s = {buf, (uint32_t)len};
    if (text != buf)
        memmove(buf, text, len + 1);
    switch (f) {
    case XS_F_TEACHER_ID:
        g->rec.teacher_id = s;
        break;
    case XS_F_SCHOOL_ID:
        g->rec.school_id = s;
        break;
    case XS_F_WORK:
        g->rec.work = s;
        break;
    case XS_F_EVENT:
        g->rec.event = s;
        break;
    case XS_F_NOTE:
        g->rec.note = s;
        break;
    default:
        fail_msg("s_set_str: field %d", (int)f);
    }
    g->rec.present |= 1u << f;
}

#define S_HAS(g, f) (((g)->rec.present >> (f)) & 1u)
#define S_SET(g, field, f, value)                                                                  \
    do {                                                                                           \
        (g)->rec.field = (value);                                                                  \
        (g)->rec.present |= 1u << (f);                                                             \
    } while (0)

/* A work title from the pool, with its spacing and ASCII case varied: §3.5 compares them
 * equal. */
static void s_work(s_history_t *h, char *out, size_t cap) {
    const char *title = s_works[s_below(&h->rng, S_WORKS)];
    size_t n = 0;
    if (s_chance(&h->rng, 20) && n + 1 < cap)
        out[n++] = ' ';
    for (const char *p = title; *p && n + 4 < cap; p++) {
        char c = *p;
        if (c == ' ' && s_chance(&h->rng, 30)) {
            switch (s_below(&h->rng, 3)) {
            case 0:
                out[n++] = ' ';
                out[n++] = ' ';
                break;
            case 1:
                out[n++] = '\t';
                break;
            default: /* U+3000 IDEOGRAPHIC SPACE */
                memcpy(out + n, "\xe3\x80\x80", 3);
                n += 3;
                break;
            }
            continue;
        }
        if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && s_chance(&h->rng, 15))
            c = (char)(c ^ 0x20);
        out[n++] = c;
    }
    if (s_chance(&h->rng, 20) && n + 1 < cap)
        out[n++] = ' ';
    out[n] = '\0';
}

/* The policy's own categories (credit-rules §6.3), by code. */
static size_t s_customs(const xs_policy_t *p, uint8_t *codes) {
    for (uint32_t i = 0; i < p->custom_count; i++)
        codes[i] = p->custom[i].code;
    return p->custom_count;
}

/* Fills g as an activity of teacher (a pool index); like, when not NULL, is an earlier one of
 * theirs whose category and date it takes (same events, same works, caps). */
static void s_activity(s_history_t *h, const xs_policy_t *policy, s_gen_t *g, int teacher,
                       const s_gen_t *like) {
    uint64_t *rng = &h->rng;
    uint8_t customs[XS_POLICY_CUSTOM_MAX];
    size_t ncustom = s_customs(policy, customs);
    char text[64];

    g->rec.kind = XS_KIND_ACTIVITY;
    g->pool = teacher;
    s_set_str(g, XS_F_TEACHER_ID, g->teacher, s_teacher_ids[teacher]);
    /* The node's own school, none, or another's (out of scope: refused at merge). */
    uint32_t school = s_below(rng, 100);
    if (school < 90) {
        snprintf(text, sizeof text, "S%u", (unsigned)g->node + 1);
        s_set_str(g, XS_F_SCHOOL_ID, g->school, text);
    } else if (school < 95) {
        snprintf(text, sizeof text, "S%u", (unsigned)(g->node + 1) % S_NODES + 1);
        s_set_str(g, XS_F_SCHOOL_ID, g->school, text);
        g->in_scope = 0;
    }
    unsigned category;
    if (like) {
        /* Another record of the same teacher, category and academic year: same events, same
         * works, caps. */
        category = like->rec.category;
        if (S_HAS(like, XS_F_DATE))
            S_SET(g, date, XS_F_DATE,
                  like->rec.date + (int32_t)s_below(rng, 60) - (s_chance(rng, 50) ? 30 : 0));
    } else {
        uint32_t roll = s_below(rng, 100);
        if (roll < 5)
            category = s_chance(rng, 50) ? 0 : 99; /* none, or a code no policy defines */
        else if (ncustom && roll < 15)
            category = customs[s_below(rng, (uint32_t)ncustom)];
        else
            category = 1 + s_below(rng, 10);
    }
    if (!S_HAS(g, XS_F_DATE) && s_chance(rng, 98))
        S_SET(g, date, XS_F_DATE, s_date(h));
    S_SET(g, category, XS_F_CATEGORY, (uint8_t)category);
    if (s_chance(rng, 3)) { /* no teacher: rejected, in no ledger */
        g->rec.present &= ~(1u << XS_F_TEACHER_ID);
        g->rec.teacher_id = (xs_str_t){NULL, 0};
        g->pool = -1;
    }
    if (s_chance(rng, 10))
        s_set_str(g, XS_F_NOTE, g->note, "备注 note");

    switch (category) {
    case XS_CAT_LECTURE:
        if (!s_chance(rng, 3))
            S_SET(g, minutes, XS_F_MINUTES, s_chance(rng, 2) ? 1500 : 1 + s_below(rng, 240));
        if (s_chance(rng, 80)) {
            static const uint8_t roles[] = {XS_ROLE_NONE, XS_ROLE_PARTICIPANT, XS_ROLE_SPEAKER,
                                            XS_ROLE_PARTICIPANT, XS_ROLE_HOST};
            S_SET(g, role, XS_F_ROLE, roles[s_below(rng, s_chance(rng, 95) ? 4 : 5)]);
        }
        if (s_chance(rng, 20)) {
            snprintf(text, sizeof text, "讲座 L%u", s_below(rng, 3));
            s_set_str(g, XS_F_EVENT, g->event, text);
        }
        break;
    case XS_CAT_EXTERNAL_TRAINING: {
        uint32_t roll = s_below(rng, 100);
        if (roll < 65)
            S_SET(g, hours, XS_F_HOURS,
                  s_chance(rng, 25) ? 9000 + s_below(rng, 3000) : 100 + s_below(rng, 4000));
        if (roll >= 50 && roll < 95)
            S_SET(g, days, XS_F_DAYS, 1 + s_below(rng, 30));
        if (s_chance(rng, 20)) {
            snprintf(text, sizeof text, "集中培训 X%u", s_below(rng, 3));
            s_set_str(g, XS_F_EVENT, g->event, text);
        }
        break;
    }
    case XS_CAT_ONLINE_TRAINING:
        S_SET(g, hours, XS_F_HOURS, 100 + s_below(rng, 5000));
        if (s_chance(rng, 70))
            S_SET(g, level, XS_F_LEVEL, (uint8_t)s_below(rng, 6));
        break;
    case XS_CAT_RESEARCH_SESSION:
        if (s_chance(rng, 80)) {
            static const uint8_t roles[] = {XS_ROLE_NONE, XS_ROLE_PARTICIPANT, XS_ROLE_ORGANIZER,
                                            XS_ROLE_SPEAKER};
            S_SET(g, role, XS_F_ROLE, roles[s_below(rng, s_chance(rng, 95) ? 3 : 4)]);
        }
        if (s_chance(rng, 85)) {
            snprintf(text, sizeof text, "教研活动 R%u", s_below(rng, (uint32_t)h->nevents));
            s_set_str(g, XS_F_EVENT, g->event, text);
        }
        break;
    case XS_CAT_OPEN_CLASS:
        if (s_chance(rng, 15)) {
            snprintf(text, sizeof text, "公开课 O%u", s_below(rng, 2));
            s_set_str(g, XS_F_EVENT, g->event, text);
        }
        break;
    case XS_CAT_REFLECTION:
        if (!s_chance(rng, 3))
            S_SET(g, chars, XS_F_CHARS, 600 + s_below(rng, 2400));
        break;
    case XS_CAT_TEACHING_DESIGN:
        if (s_chance(rng, 35)) {
            S_SET(g, unit, XS_F_UNIT, 1);
            if (s_chance(rng, 92)) {
                s_work(h, text, sizeof text);
                s_set_str(g, XS_F_WORK, g->work, text);
            }
            if (s_chance(rng, 92))
                S_SET(g, lessons, XS_F_LESSONS, 2 + s_below(rng, 20));
            if (s_chance(rng, 30))
                S_SET(g, chars, XS_F_CHARS, s_below(rng, 3000));
        } else {
            if (s_chance(rng, 20))
                S_SET(g, unit, XS_F_UNIT, 0);
            if (!s_chance(rng, 3))
                S_SET(g, chars, XS_F_CHARS, 400 + s_below(rng, 1600));
        }
        break;
    case XS_CAT_PAPER:
        S_SET(g, chars, XS_F_CHARS,
              s_chance(rng, 15) ? 1000 + s_below(rng, 1000) : 2000 + s_below(rng, 6000));
        if (!s_chance(rng, 3)) {
            s_work(h, text, sizeof text);
            s_set_str(g, XS_F_WORK, g->work, text);
        }
        /* Mostly valid: awards 1..3 at county or above, or published at municipal or above;
         * sometimes neither (bad_award, bad_publication). */
        if (s_chance(rng, 50)) {
            S_SET(g, grade, XS_F_GRADE, (uint8_t)(1 + s_below(rng, 3)));
            S_SET(g, level, XS_F_LEVEL, (uint8_t)(s_chance(rng, 92) ? 2 + s_below(rng, 4) : 1));
        } else {
            S_SET(g, grade, XS_F_GRADE, s_chance(rng, 95) ? XS_GRADE_PUBLISHED : XS_GRADE_NONE);
            S_SET(g, level, XS_F_LEVEL, (uint8_t)(s_chance(rng, 92) ? 3 + s_below(rng, 3) : 2));
        }
        break;
    case XS_CAT_PROJECT:
        S_SET(g, level, XS_F_LEVEL, (uint8_t)(s_chance(rng, 95) ? 2 + s_below(rng, 4) : 1));
        if (!s_chance(rng, 4)) {
            s_work(h, text, sizeof text);
            s_set_str(g, XS_F_WORK, g->work, text);
        }
        if (s_chance(rng, 85)) {
            static const uint8_t roles[] = {XS_ROLE_NONE, XS_ROLE_PARTICIPANT, XS_ROLE_HOST,
                                            XS_ROLE_MAIN_WRITER, XS_ROLE_SPEAKER};
            S_SET(g, role, XS_F_ROLE, roles[s_below(rng, s_chance(rng, 95) ? 4 : 5)]);
        }
        break;
    case XS_CAT_EXAM:
        if (!s_chance(rng, 4)) {
            snprintf(text, sizeof text, "专业知识考试 E%u", s_below(rng, (uint32_t)h->nexams));
            s_set_str(g, XS_F_EVENT, g->event, text);
        }
        /* Whole points from a narrow range: ties are common. */
        if (!s_chance(rng, 3))
            S_SET(g, score, XS_F_SCORE, 100 * (70 + s_below(rng, 25)));
        break;
    default: {
        /* A policy's own category: the field of its rule; 0 and 99 get a lecture's fields. */
        uint8_t at = policy->custom_of[category];
        unsigned rule = at ? policy->custom[at - 1].rule : XS_RULE_MINUTES;
        if (rule == XS_RULE_MINUTES)
            S_SET(g, minutes, XS_F_MINUTES, 1 + s_below(rng, 240));
        else if (rule == XS_RULE_HOURS)
            S_SET(g, hours, XS_F_HOURS, 100 + s_below(rng, 12000));
        else if (rule == XS_RULE_DAYS)
            S_SET(g, days, XS_F_DAYS, 1 + s_below(rng, 20));
        if (s_chance(rng, 20)) {
            snprintf(text, sizeof text, "自定 C%u", s_below(rng, 2));
            s_set_str(g, XS_F_EVENT, g->event, text);
        }
        break;
    }
    }
}

/* A seq of node's for a correction or review of g to name: mostly an earlier record, of the
 * wanted kind when want_activity; sometimes a later one, one that will never exist, or 0. */
static uint64_t s_target(s_history_t *h, const s_gen_t *g, int want_activity) {
    uint64_t *rng = &h->rng;
    const s_gen_t *mine = h->recs + h->start[g->node];
    uint64_t n = h->per_node[g->node];
    uint32_t roll = s_below(rng, 100);
    if (roll < 75 && g->seq > 1) {
        for (int tries = 0; tries < 8; tries++) {
            uint64_t seq = 1 + s_below(rng, (uint32_t)(g->seq - 1));
            if (!want_activity || mine[seq - 1].rec.kind == XS_KIND_ACTIVITY)
                return seq;
        }
        return 1 + s_below(rng, (uint32_t)(g->seq - 1));
    }
    if (roll < 90 && g->seq < n) /* later: another batch, maybe merged before this one */
        return g->seq + 1 + s_below(rng, (uint32_t)(n - g->seq));
    if (roll < 97)
        return n + 1 + s_below(rng, 50);   /* never sealed */
    return s_chance(rng, 50) ? 0 : g->seq; /* 0, or itself */
}

/* Fills the corrections and reviews, once every activity exists. */
static void s_corrections_and_reviews(s_history_t *h, s_gen_t *g) {
    uint64_t *rng = &h->rng;
    const s_gen_t *mine = h->recs + h->start[g->node];
    uint64_t n = h->per_node[g->node];
    char text[32];
    int review = g->rec.kind == XS_KIND_REVIEW;
    /* A correction may void a correction or a review too. */
    uint64_t target = s_target(h, g, review || s_chance(rng, 80));
    const s_gen_t *t = target >= 1 && target <= n ? &mine[target - 1] : NULL;

    /* Two reviews of one record, two corrections of one: name what the one before named. */
    if (g->seq > 1 && s_chance(rng, 25)) {
        for (uint64_t s = g->seq - 1; s >= 1; s--)
            if (mine[s - 1].rec.kind == g->rec.kind) {
                target = review ? mine[s - 1].rec.reviews : mine[s - 1].rec.voids;
                t = target >= 1 && target <= n ? &mine[target - 1] : NULL;
                break;
            }
    }
    /* Mostly the target's teacher (the node files it under them); sometimes another, or
     * none for a correction. */
    uint32_t who = s_below(rng, 100);
    int pool = -1;
    if (t && t->pool >= 0 && who < 85)
        pool = t->pool;
    else if (review || who < 95)
        pool = h->teachers[s_below(rng, (uint32_t)h->nteachers)];
    if (pool >= 0) {
        g->pool = pool;
        s_set_str(g, XS_F_TEACHER_ID, g->teacher, s_teacher_ids[pool]);
    }
    snprintf(text, sizeof text, "S%u", (unsigned)g->node + 1);
    if (!review || !s_chance(rng, 3))
        s_set_str(g, XS_F_SCHOOL_ID, g->school, text);
    if (review) {
        if (!s_chance(rng, 3))
            S_SET(g, date, XS_F_DATE, s_date(h));
        S_SET(g, reviews, XS_F_REVIEWS, target);
        uint8_t verdict = s_chance(rng, 60) ? XS_VERDICT_APPROVED : XS_VERDICT_RETURNED;
        S_SET(g, verdict, XS_F_VERDICT, verdict);
        if (verdict == XS_VERDICT_RETURNED && !s_chance(rng, 5))
            s_set_str(g, XS_F_NOTE, g->note, "证书学时与登记不符");
    } else {
        if (!s_chance(rng, 4))
            S_SET(g, voids, XS_F_VOIDS, target);
        s_set_str(g, XS_F_NOTE, g->note, "登记有误");
    }
}

/* Generates history h (seed set) under policy: records, batches and deliveries. */
static void s_generate(s_history_t *h, const xs_policy_t *policy, size_t max_records) {
    uint64_t *rng = &h->rng;
    h->rng = h->seed * 0x2545f4914f6cdd1dull + 1;
    h->nodes = 3 + s_below(rng, 2);
    h->count = S_RECORDS_MIN + s_below(rng, (uint32_t)(max_records - S_RECORDS_MIN + 1));
    h->recs = calloc(h->count, sizeof *h->recs);
    assert_non_null(h->recs);

    /* Academic years: 2-6 of them, from 2017-2018 to 2025-2026 at the latest, so cycles
     * before and after 2021 both appear. */
    int first = 2017 + (int)s_below(rng, 9);
    int years = 2 + (int)s_below(rng, 5);
    h->first_day = xs_date_from_civil(first, 9, 1);
    h->last_day = xs_date_from_civil(first + years, 8, 31);
    for (size_t i = 0; i < sizeof h->days / sizeof h->days[0]; i++)
        h->days[i] =
            h->first_day + (int32_t)s_below(rng, (uint32_t)(h->last_day - h->first_day + 1));
    /* Dates on the boundaries: the first day of a year and of a second semester. */
    h->days[0] = h->first_day;
    h->days[1] = xs_date_from_civil(first + 1, 2, 1);
    h->days[2] = xs_date_from_civil(first + 1, 1, 31);
    h->nexams = 1 + s_below(rng, 3);
    h->nevents = 2 + s_below(rng, 3);

    int pool[S_POOL];
    for (size_t i = 0; i < S_POOL; i++)
        pool[i] = (int)i;
    for (size_t i = S_POOL - 1; i > 0; i--) {
        size_t j = s_below(rng, (uint32_t)i + 1);
        int tmp = pool[i];
        pool[i] = pool[j];
        pool[j] = tmp;
    }
    /* Teachers: 4..12 of the pool, or in some histories 1 or 2 with every record (components
     * of hundreds); each node has some, some shared. */
    h->nteachers = s_chance(rng, 15) ? 1 + s_below(rng, 2) : 4 + s_below(rng, 9);
    memcpy(h->teachers, pool, h->nteachers * sizeof *pool);
    for (size_t i = 0; i < h->nteachers; i++) {
        size_t home = i % h->nodes;
        h->node_teachers[home][h->node_nteachers[home]++] = h->teachers[i];
        if (s_chance(rng, 30)) {
            size_t other = (home + 1 + s_below(rng, (uint32_t)h->nodes - 1)) % h->nodes;
            h->node_teachers[other][h->node_nteachers[other]++] = h->teachers[i];
        }
    }
    for (size_t n = 0; n < h->nodes; n++)
        if (h->node_nteachers[n] == 0)
            h->node_teachers[n][h->node_nteachers[n]++] = h->teachers[n % h->nteachers];

    /* Records per node, and each one's kind first: corrections and reviews may name later
     * records, so they are filled once every activity exists. */
    size_t at = 0;
    for (size_t n = 0; n < h->nodes; n++) {
        size_t share = n + 1 == h->nodes ? h->count - at : h->count / h->nodes;
        h->start[n] = at;
        h->per_node[n] = share;
        for (size_t i = 0; i < share; i++) {
            s_gen_t *g = &h->recs[at + i];
            xs_record_init(&g->rec);
            g->node = (uint8_t)n;
            g->seq = i + 1;
            g->in_scope = 1;
            g->pool = -1;
            uint32_t roll = s_below(rng, 100);
            g->rec.kind = roll < 10   ? XS_KIND_CORRECTION
                          : roll < 20 ? XS_KIND_REVIEW
                                      : XS_KIND_ACTIVITY;
        }
        const s_gen_t *last = NULL;
        for (size_t i = 0; i < share; i++) {
            s_gen_t *g = &h->recs[at + i];
            if (g->rec.kind != XS_KIND_ACTIVITY)
                continue;
            int like = last && last->pool >= 0 && s_chance(rng, 30);
            int teacher = like ? last->pool
                               : h->node_teachers[n][s_below(rng, (uint32_t)h->node_nteachers[n])];
            s_activity(h, policy, g, teacher, like ? last : NULL);
            last = g;
        }
        for (size_t i = 0; i < share; i++)
            if (h->recs[at + i].rec.kind != XS_KIND_ACTIVITY)
                s_corrections_and_reviews(h, &h->recs[at + i]);
        at += share;
    }
}

/* Seals the history's records into batches of random sizes (fixed records each, unless 0),
 * per node, linked. */
static void s_seal(fixture_t *fx, s_history_t *h, uint32_t fixed) {
    uint64_t *rng = &h->rng;
    static const uint32_t sizes[] = {2, 5, 12, 40};
    uint32_t most = sizes[s_below(rng, 4)];
    h->batches = calloc(h->count, sizeof *h->batches);
    assert_non_null(h->batches);
    for (size_t n = 0; n < h->nodes; n++) {
        const uint8_t *prev = NULL;
        for (size_t i = 0; i < h->per_node[n];) {
            uint32_t count = fixed ? fixed : 1 + s_below(rng, most);
            if (count > h->per_node[n] - i)
                count = (uint32_t)(h->per_node[n] - i);
            s_batch_t *b = &h->batches[h->nbatches++];
            b->node = (uint8_t)n;
            b->first_seq = i + 1;
            b->count = count;
            b->first = h->start[n] + i;
            xs_writer_t *recs = calloc(count, sizeof *recs);
            xs_batch_slice_t *slices = calloc(count, sizeof *slices);
            assert_non_null(recs);
            assert_non_null(slices);
            for (uint32_t r = 0; r < count; r++) {
                xs_writer_init(&recs[r], XS_RECORD_MAX);
                xs_record_encode(&h->recs[b->first + r].rec, &recs[r]);
                assert_int_equal(xs_writer_err(&recs[r]), XS_OK);
                slices[r] = (xs_batch_slice_t){recs[r].data, recs[r].len};
            }
            xs_writer_init(&b->env, XS_BATCH_MAX_BYTES);
            assert_int_equal(xs_batch_seal(&b->env, fx->nodes[n], b->first_seq, prev, NULL,
                                           1767225600, slices, count, b->hash),
                             XS_OK);
            for (uint32_t r = 0; r < count; r++)
                xs_writer_free(&recs[r]);
            free(recs);
            free(slices);
            /* From here on the records are what the hub decodes: the bytes sealed. */
            xs_batch_t opened;
            xs_batch_iter_t it;
            xs_batch_entry_t entry;
            assert_int_equal(xs_batch_open(b->env.data, b->env.len, &opened), XS_OK);
            xs_batch_iter_init(&it, &opened);
            for (uint32_t r = 0; r < count; r++)
                assert_int_equal(xs_batch_next(&it, &entry, &h->recs[b->first + r].rec), XS_OK);
            prev = b->hash;
            i += count;
        }
    }
}

/* Plans the deliveries: each node's batches mostly in order (sometimes two swapped, so a
 * record named by a correction arrives after it; in some histories shuffled), nodes
 * interleaved at random, grouped into hub_merge calls of random sizes, some batches
 * delivered again. */
static void s_plan(s_history_t *h) {
    uint64_t *rng = &h->rng;
    size_t *queue[S_NODES], len[S_NODES], next[S_NODES];
    size_t cap = h->nbatches * 2 + 8;
    h->order = calloc(cap, sizeof *h->order);
    h->groups = calloc(cap, sizeof *h->groups);
    assert_non_null(h->order);
    assert_non_null(h->groups);
    for (size_t n = 0; n < h->nodes; n++) {
        queue[n] = calloc(h->nbatches, sizeof *queue[n]);
        assert_non_null(queue[n]);
        len[n] = next[n] = 0;
    }
    for (size_t b = 0; b < h->nbatches; b++)
        queue[h->batches[b].node][len[h->batches[b].node]++] = b;
    /* Mostly in order, some swapped with the next; in some histories in any order (a batch
     * after a gap is stored all the same). */
    uint32_t roll = s_below(rng, 100), swaps = roll < 60 ? 15 : 0;
    for (size_t n = 0; n < h->nodes; n++) {
        for (size_t i = 0; i + 1 < len[n]; i++)
            if (s_chance(rng, swaps)) {
                size_t tmp = queue[n][i];
                queue[n][i] = queue[n][i + 1];
                queue[n][i + 1] = tmp;
                i++;
            }
        for (size_t i = len[n]; roll >= 85 && i > 1; i--) {
            size_t j = s_below(rng, (uint32_t)i), tmp = queue[n][i - 1];
            queue[n][i - 1] = queue[n][j];
            queue[n][j] = tmp;
        }
    }
    static const uint32_t group_most[] = {1, 3, 8};
    uint32_t most = group_most[s_below(rng, 3)];
    size_t in_group = 0, group_size = 1 + s_below(rng, most);
    for (;;) {
        size_t left = 0;
        for (size_t n = 0; n < h->nodes; n++)
            left += len[n] - next[n];
        if (left == 0)
            break;
        size_t pick = s_below(rng, (uint32_t)left);
        size_t n = 0;
        while (pick >= len[n] - next[n]) {
            pick -= len[n] - next[n];
            n++;
        }
        h->order[h->norder++] = queue[n][next[n]++];
        in_group++;
        /* Again, in this group or a later one. */
        if (h->norder < cap - 2 && s_chance(rng, 6)) {
            size_t again = h->order[s_below(rng, (uint32_t)h->norder)];
            h->order[h->norder++] = again;
            in_group++;
        }
        if (in_group >= group_size) {
            h->groups[h->ngroups++] = in_group;
            in_group = 0;
            group_size = 1 + s_below(rng, most);
        }
    }
    if (in_group)
        h->groups[h->ngroups++] = in_group;
    for (size_t n = 0; n < h->nodes; n++)
        free(queue[n]);
}

static void s_history_free(s_history_t *h) {
    for (size_t b = 0; b < h->nbatches; b++)
        xs_writer_free(&h->batches[b].env);
    free(h->batches);
    free(h->recs);
    free(h->order);
    free(h->groups);
    memset(h, 0, sizeof *h);
}

/* ---- describing what differs ---- */

static void s_describe(const fixture_t *fx, const s_gen_t *g) {
    const xs_record_t *r = &g->rec;
    char date[11] = "-";
    if (S_HAS(g, XS_F_DATE))
        xs_date_format(r->date, date);
    fprintf(stderr, "    record node %u (number %u) seq %llu: kind %u teacher \"%.*s\" date %s",
            (unsigned)g->node, fx->numbers[g->node], (unsigned long long)g->seq, r->kind,
            (int)r->teacher_id.len, r->teacher_id.ptr ? r->teacher_id.ptr : "", date);
    if (r->kind == XS_KIND_CORRECTION)
        fprintf(stderr, " voids %s%llu", S_HAS(g, XS_F_VOIDS) ? "" : "(absent) ",
                (unsigned long long)r->voids);
    else if (r->kind == XS_KIND_REVIEW)
        fprintf(stderr, " reviews %llu verdict %u", (unsigned long long)r->reviews, r->verdict);
    else
        fprintf(stderr, " category %u", r->category);
    static const struct {
        xs_field f;
        const char *name;
    } nums[] = {{XS_F_ROLE, "role"},      {XS_F_LEVEL, "level"},     {XS_F_GRADE, "grade"},
                {XS_F_UNIT, "unit"},      {XS_F_MINUTES, "minutes"}, {XS_F_HOURS, "hours"},
                {XS_F_DAYS, "days"},      {XS_F_CHARS, "chars"},     {XS_F_SCORE, "score"},
                {XS_F_LESSONS, "lessons"}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (!S_HAS(g, nums[i].f))
            continue;
        unsigned long v = 0;
        switch (nums[i].f) {
        case XS_F_ROLE:
            v = r->role;
            break;
        case XS_F_LEVEL:
            v = r->level;
            break;
        case XS_F_GRADE:
            v = r->grade;
            break;
        case XS_F_UNIT:
            v = r->unit;
            break;
        case XS_F_MINUTES:
            v = r->minutes;
            break;
        case XS_F_HOURS:
            v = r->hours;
            break;
        case XS_F_DAYS:
            v = r->days;
            break;
        case XS_F_CHARS:
            v = r->chars;
            break;
        case XS_F_SCORE:
            v = r->score;
            break;
        default:
            v = r->lessons;
            break;
        }
        fprintf(stderr, " %s %lu", nums[i].name, v);
    }
    if (r->work.len)
        fprintf(stderr, " work \"%.*s\"", (int)r->work.len, r->work.ptr);
    if (r->event.len)
        fprintf(stderr, " event \"%.*s\"", (int)r->event.len, r->event.ptr);
    if (S_HAS(g, XS_F_SCHOOL_ID))
        fprintf(stderr, " school %.*s", (int)r->school_id.len, r->school_id.ptr);
    fprintf(stderr, "\n");
}

/* An engine id as number:seq. */
static void s_id_text(uint64_t id, char *out, size_t cap) {
    snprintf(out, cap, "%llu:%llu", (unsigned long long)(id >> HUB_ID_SEQ_BITS),
             (unsigned long long)(id & ((1ull << HUB_ID_SEQ_BITS) - 1)));
}

static void s_print_row(const char *who, const xs_certify_row_t *r) {
    char related[48];
    s_id_text(r->related_id, related, sizeof related);
    fprintf(stderr,
            "      %s: status %s reason %s field %u related %s credited %u base %u year %d "
            "semester %u category %u tier %u review %u\n",
            who, xs_certify_status_name(r->status), xs_reason_code((xs_reason)r->reason), r->field,
            related, r->credited_seconds, r->base_seconds, r->year, r->semester, r->category,
            r->tier, r->review);
}

static void s_print_total(const char *who, size_t i, const xs_certify_total_t *t) {
    fprintf(stderr,
            "      %s[%zu]: scope %u year %d semester %u bucket %u credited %llu required %u "
            "single %u met %u single_met %u binding %u why %u unreviewed %u\n",
            who, i, t->scope, t->year, t->semester, t->bucket,
            (unsigned long long)t->credited_seconds, t->required_seconds, t->single_seconds, t->met,
            t->single_met, t->binding, t->why, t->unreviewed);
}

/* Opens a mismatch: where, and the history's seed. 0 once too many were printed. */
static int s_mismatch(fixture_t *fx, const char *what) {
    fx->mismatches++;
    if (fx->mismatches > S_PRINT_MAX)
        return 0;
    fprintf(stderr, "MISMATCH seed %llu (policy %s%s, require_review %s), %s, merge %zu: %s\n",
            (unsigned long long)fx->h->seed, fx->policy_name,
            fx->policy_changed ? " then its next version" : "", fx->require_review ? "yes" : "no",
            fx->stage, fx->merge_no, what);
    return 1;
}

static int s_row_equal(const xs_certify_row_t *a, const xs_certify_row_t *b) {
    return a->related_id == b->related_id && a->credited_seconds == b->credited_seconds &&
           a->base_seconds == b->base_seconds && a->year == b->year && a->semester == b->semester &&
           a->status == b->status && a->reason == b->reason && a->field == b->field &&
           a->category == b->category && a->tier == b->tier && a->review == b->review;
}

static int s_total_equal(const xs_certify_total_t *a, const xs_certify_total_t *b) {
    return a->credited_seconds == b->credited_seconds &&
           a->required_seconds == b->required_seconds && a->single_seconds == b->single_seconds &&
           a->year == b->year && a->scope == b->scope && a->bucket == b->bucket &&
           a->semester == b->semester && a->met == b->met && a->single_met == b->single_met &&
           a->binding == b->binding && a->why == b->why && a->unreviewed == b->unreviewed;
}

/* ---- the full run ---- */

static xs_err s_on_teacher(void *ctx, const xs_certify_teacher_t *teacher) {
    fixture_t *fx = ctx;
    for (size_t p = 0; p < S_POOL; p++) {
        if (strlen(s_teacher_ids[p]) != teacher->teacher_id.len ||
            memcmp(s_teacher_ids[p], teacher->teacher_id.ptr, teacher->teacher_id.len) != 0)
            continue;
        s_expect_t *e = &fx->expect[p];
        assert_true(teacher->total_count <= XS_RECEIPT_TOTALS_MAX);
        e->seen = 1;
        e->total_count = teacher->total_count;
        memcpy(e->totals, teacher->totals, teacher->total_count * sizeof *e->totals);
        e->receipt_err = xs_receipt_build(e->receipt, fx->hub.policy, fx->hub.policy_hash, teacher,
                                          fx->run_rows, fx->run_idents, 0, 0);
        /* It borrowed the engine's copy of the id, valid during this call only. */
        e->receipt->teacher_id = (xs_str_t){s_teacher_ids[p], (uint32_t)strlen(s_teacher_ids[p])};
        return XS_OK;
    }
    fail_msg("the engine gave a ledger to teacher %.*s, who is not in the pool",
             (int)teacher->teacher_id.len, teacher->teacher_id.ptr);
    return XS_EINVAL;
}

/* Certifies every accepted record held, as the ledger would load them (ids number << 40 |
 * seq, voids and reviews mapped into the same space), with opts NULL. */
static void s_full_run(fixture_t *fx, const s_history_t *h) {
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++) {
        const s_gen_t *g = &h->recs[i];
        fx->run_of[i] = SIZE_MAX;
        if (!g->held || !g->in_scope)
            continue;
        uint64_t high = (uint64_t)fx->numbers[g->node] << HUB_ID_SEQ_BITS;
        xs_record_t *r = &fx->run_recs[n];
        *r = g->rec;
        if (r->kind == XS_KIND_CORRECTION)
            r->voids = high | r->voids;
        else if (r->kind == XS_KIND_REVIEW)
            r->reviews = high | r->reviews;
        fx->run_ids[n] = high | g->seq;
        fx->run_idents[n].origin = xs_identity_public(fx->nodes[g->node])->sign;
        fx->run_idents[n].seq = g->seq;
        fx->run_of[i] = n++;
    }
    fx->run_count = n;
    for (size_t p = 0; p < S_POOL; p++)
        fx->expect[p].seen = 0;
    assert_int_equal(xs_certify_run(fx->hub.policy, NULL, fx->run_recs, fx->run_ids, n, NULL,
                                    fx->run_rows, s_on_teacher, fx),
                     XS_OK);
}

/* ---- comparing the state with the full run ---- */

/* Every record's stored row: the run's for the accepted records held, none for the rest. */
static void s_compare_rows(fixture_t *fx, xs_txn_t *txn) {
    const s_history_t *h = fx->h;
    for (size_t i = 0; i < h->count; i++) {
        const s_gen_t *g = &h->recs[i];
        xs_certify_row_t got;
        memset(&got, 0, sizeof got);
        xs_err err =
            hub_credit_row(txn, xs_identity_public(fx->nodes[g->node])->sign, g->seq, &got);
        size_t at = fx->run_of[i];
        if (at == SIZE_MAX) {
            if (err != XS_ENOTFOUND && s_mismatch(fx, "a row for a record not accepted")) {
                fprintf(stderr, "    hub_credit_row: %s (held %d, in scope %d)\n", xs_strerror(err),
                        g->held, g->in_scope);
                s_describe(fx, g);
            }
            continue;
        }
        const xs_certify_row_t *want = &fx->run_rows[at];
        if (err != XS_OK) {
            if (s_mismatch(fx, "no row for an accepted record")) {
                fprintf(stderr, "    hub_credit_row: %s\n", xs_strerror(err));
                s_describe(fx, g);
                s_print_row("engine", want);
            }
            continue;
        }
        if (!s_row_equal(&got, want) && s_mismatch(fx, "row")) {
            s_describe(fx, g);
            s_print_row("engine", want);
            s_print_row("hub   ", &got);
        }
    }
}

/* Every pool teacher's totals: the run's for those it gave a ledger, none for the rest. */
static void s_compare_totals(fixture_t *fx, xs_txn_t *txn) {
    for (size_t p = 0; p < S_POOL; p++) {
        const char *id = s_teacher_ids[p];
        const s_expect_t *e = &fx->expect[p];
        size_t count = 0;
        xs_err err = hub_credit_totals(&fx->hub, txn, id, strlen(id), fx->got_totals,
                                       XS_RECEIPT_TOTALS_MAX, &count);
        if (!e->seen) {
            if (err != XS_ENOTFOUND && s_mismatch(fx, "totals for a teacher without a ledger"))
                fprintf(stderr, "    teacher %s: hub_credit_totals %s, %zu totals\n", id,
                        xs_strerror(err), count);
            continue;
        }
        if (err != XS_OK || count != e->total_count) {
            if (s_mismatch(fx, "totals")) {
                fprintf(stderr, "    teacher %s: hub_credit_totals %s, %zu totals; engine %zu\n",
                        id, xs_strerror(err), count, e->total_count);
                for (size_t i = 0; i < e->total_count; i++)
                    s_print_total("engine", i, &e->totals[i]);
                for (size_t i = 0; err == XS_OK && i < count; i++)
                    s_print_total("hub   ", i, &fx->got_totals[i]);
            }
            continue;
        }
        for (size_t i = 0; i < count; i++)
            if (!s_total_equal(&fx->got_totals[i], &e->totals[i]) && s_mismatch(fx, "total")) {
                fprintf(stderr, "    teacher %s:\n", id);
                s_print_total("engine", i, &e->totals[i]);
                s_print_total("hub   ", i, &fx->got_totals[i]);
            }
    }
}

static int s_receipt_total_is(const xs_receipt_total_t *r, const xs_certify_total_t *t) {
    return r->credited_seconds == t->credited_seconds &&
           r->required_seconds == t->required_seconds && r->year == t->year &&
           r->scope == t->scope && r->semester == t->semester && r->bucket == t->bucket &&
           r->met == t->met && r->binding == t->binding && r->single_met == t->single_met;
}

/* Field by field: padding is nobody's. */
static int s_receipt_total_equal(const xs_receipt_total_t *a, const xs_receipt_total_t *b) {
    return a->credited_seconds == b->credited_seconds &&
           a->required_seconds == b->required_seconds && a->year == b->year &&
           a->scope == b->scope && a->semester == b->semester && a->bucket == b->bucket &&
           a->met == b->met && a->binding == b->binding && a->single_met == b->single_met;
}

static int s_period_equal(const xs_receipt_period_t *a, const xs_receipt_period_t *b) {
    return a->scope == b->scope && a->year == b->year && a->record_count == b->record_count &&
           memcmp(a->records_hash, b->records_hash, XS_HASH_BYTES) == 0 && a->closed == b->closed &&
           (!a->closed || memcmp(a->closed_hash, b->closed_hash, XS_HASH_BYTES) == 0);
}

static int s_str_equal(xs_str_t a, xs_str_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Every pool teacher's receipt from the state: the one xs_receipt_build makes of the run's
 * ledger (periods with their record counts and hashes, totals), its totals those of
 * hub_credit_totals. */
static void s_compare_receipts(fixture_t *fx, xs_txn_t *txn) {
    xs_receipt_t *got = fx->got_receipt;
    for (size_t p = 0; p < S_POOL; p++) {
        const char *id = s_teacher_ids[p];
        const s_expect_t *e = &fx->expect[p];
        memset(got, 0, sizeof *got);
        xs_err err = hub_credit_receipt(&fx->hub, txn, NULL, id, strlen(id), got);
        if (!e->seen) {
            if (err != XS_ENOTFOUND && s_mismatch(fx, "a receipt for a teacher without a ledger"))
                fprintf(stderr, "    teacher %s: hub_credit_receipt %s\n", id, xs_strerror(err));
            continue;
        }
        if (err != e->receipt_err) {
            if (s_mismatch(fx, "receipt"))
                fprintf(stderr, "    teacher %s: hub_credit_receipt %s, xs_receipt_build %s\n", id,
                        xs_strerror(err), xs_strerror(e->receipt_err));
            continue;
        }
        if (err != XS_OK)
            continue;
        const xs_receipt_t *want = e->receipt;
        if (!s_str_equal(got->teacher_id, want->teacher_id) ||
            !s_str_equal(got->policy_id, want->policy_id) ||
            got->policy_version != want->policy_version ||
            memcmp(got->policy_hash, want->policy_hash, XS_HASH_BYTES) != 0 ||
            got->generation != 0 || got->issued_at != 0) {
            if (s_mismatch(fx, "receipt head"))
                fprintf(stderr,
                        "    teacher %s: hub \"%.*s\" %.*s v%u generation %llu issued_at %lld; "
                        "engine %.*s v%u\n",
                        id, (int)got->teacher_id.len,
                        got->teacher_id.ptr ? got->teacher_id.ptr : "", (int)got->policy_id.len,
                        got->policy_id.ptr ? got->policy_id.ptr : "", got->policy_version,
                        (unsigned long long)got->generation, (long long)got->issued_at,
                        (int)want->policy_id.len, want->policy_id.ptr, want->policy_version);
        }
        int periods_ok = got->period_count == want->period_count;
        for (uint32_t i = 0; periods_ok && i < got->period_count; i++)
            periods_ok = s_period_equal(&got->periods[i], &want->periods[i]);
        if (!periods_ok && s_mismatch(fx, "receipt periods")) {
            fprintf(stderr, "    teacher %s: hub %u periods, engine %u\n", id, got->period_count,
                    want->period_count);
            for (int side = 0; side < 2; side++) {
                const xs_receipt_t *r = side ? got : want;
                for (uint32_t i = 0; i < r->period_count && i < 16; i++)
                    fprintf(
                        stderr,
                        "      %s period %u: scope %u year %d records %u hash %02x%02x%02x%02x\n",
                        side ? "hub   " : "engine", i, r->periods[i].scope, r->periods[i].year,
                        r->periods[i].record_count, r->periods[i].records_hash[0],
                        r->periods[i].records_hash[1], r->periods[i].records_hash[2],
                        r->periods[i].records_hash[3]);
            }
        }
        int totals_ok = got->total_count == want->total_count && got->total_count == e->total_count;
        for (uint32_t i = 0; totals_ok && i < got->total_count; i++)
            totals_ok = s_receipt_total_equal(&got->totals[i], &want->totals[i]) &&
                        s_receipt_total_is(&got->totals[i], &e->totals[i]);
        if (!totals_ok && s_mismatch(fx, "receipt totals"))
            fprintf(stderr, "    teacher %s: hub %u totals, engine receipt %u, engine %zu\n", id,
                    got->total_count, want->total_count, e->total_count);
        /* Its totals are hub_credit_totals' (no year is closed here). */
        size_t count = 0;
        if (hub_credit_totals(&fx->hub, txn, id, strlen(id), fx->got_totals, XS_RECEIPT_TOTALS_MAX,
                              &count) == XS_OK) {
            int same = count == got->total_count;
            for (size_t i = 0; same && i < count; i++)
                same = s_receipt_total_is(&got->totals[i], &fx->got_totals[i]);
            if (!same && s_mismatch(fx, "receipt totals against hub_credit_totals"))
                fprintf(stderr, "    teacher %s: receipt %u totals, hub_credit_totals %zu\n", id,
                        got->total_count, count);
        }
    }
}

/* Compares the whole state with the last full run, inside txn; returns the mismatches. */
static size_t s_compare(fixture_t *fx, xs_txn_t *txn, const char *stage) {
    size_t before = fx->mismatches;
    int ready = 0;
    uint8_t other[XS_HASH_BYTES];
    fx->stage = stage;
    /* A new hub's store holds no state yet: its first merge builds it. */
    xs_err err = hub_credit_ready(txn, fx->hub.policy_hash, &ready);
    if (fx->merge_no == 0 && err == XS_OK && ready == 0)
        ready = 1;
    if ((err != XS_OK || ready != 1) && s_mismatch(fx, "hub_credit_ready"))
        fprintf(stderr, "    %s, ready %d\n", xs_strerror(err), ready);
    memcpy(other, fx->hub.policy_hash, sizeof other);
    other[0] ^= 1;
    ready = -1;
    err = hub_credit_ready(txn, other, &ready);
    if ((err != XS_OK || ready != 0) && s_mismatch(fx, "hub_credit_ready, another policy"))
        fprintf(stderr, "    %s, ready %d\n", xs_strerror(err), ready);
    s_compare_rows(fx, txn);
    s_compare_totals(fx, txn);
    s_compare_receipts(fx, txn);
    return fx->mismatches - before;
}

/* The nodes (bit per node) holding accepted records filed under pool teacher p: activities
 * only when activities, else any kind (corrections and reviews filed under them too). */
static unsigned s_origins_of(const fixture_t *fx, size_t p, int activities) {
    const s_history_t *h = fx->h;
    unsigned nodes = 0;
    for (size_t i = 0; i < h->count; i++) {
        const s_gen_t *g = &h->recs[i];
        if (fx->run_of[i] != SIZE_MAX && g->pool == (int)p && g->rec.teacher_id.len &&
            (!activities || g->rec.kind == XS_KIND_ACTIVITY))
            nodes |= 1u << g->node;
    }
    return nodes;
}

/* What the outbox marked since the last check: per pool teacher, the nodes (bit per node). */
typedef struct s_marks {
    fixture_t *fx;
    size_t node;
    unsigned marked[S_POOL];
    size_t strangers; /* marks of teachers outside the pool */
} s_marks_t;

static xs_err s_mark(void *ctx, const hub_outbox_mark_t *mark, int *stop) {
    s_marks_t *m = ctx;
    (void)stop;
    for (size_t p = 0; p < S_POOL; p++)
        if (strlen(s_teacher_ids[p]) == mark->teacher_len &&
            memcmp(s_teacher_ids[p], mark->teacher, mark->teacher_len) == 0) {
            m->marked[p] |= 1u << m->node;
            return XS_OK;
        }
    m->strangers++;
    return XS_OK;
}

/* The digest of the receipt the full run gives pool teacher p: its leaf's bytes hashed. */
static void s_receipt_digest(const fixture_t *fx, size_t p, uint8_t out[XS_HASH_BYTES]) {
    xs_writer_t leaf;
    xs_writer_init(&leaf, XS_RECEIPT_LEAF_MAX);
    assert_int_equal(xs_receipt_leaf_encode(&leaf, fx->expect[p].receipt), XS_OK);
    xs_identity_hash(leaf.data, leaf.len, out);
    xs_writer_free(&leaf);
}

/* After a merge: every teacher whose receipt (periods, totals) the merge changed is marked for
 * every node holding their activities, and no teacher for a node holding nothing of theirs
 * (a school must not be sent another's teacher). Then remembers the receipts and the
 * generation for the next merge. */
static size_t s_compare_marks(fixture_t *fx, xs_txn_t *txn, int merged) {
    s_marks_t m;
    uint64_t generation = 0;
    size_t before = fx->mismatches;
    memset(&m, 0, sizeof m);
    m.fx = fx;
    for (m.node = 0; m.node < S_NODES; m.node++)
        assert_int_equal(hub_outbox_each(txn, xs_identity_public(fx->nodes[m.node])->sign,
                                         fx->generation_seen, NULL, 0, s_mark, &m),
                         XS_OK);
    assert_int_equal(hub_outbox_last_generation(txn, &generation), XS_OK);
    for (size_t p = 0; p < S_POOL; p++) {
        uint8_t digest[XS_HASH_BYTES];
        int moved = 0;
        if (fx->expect[p].seen && fx->expect[p].receipt_err == XS_OK) {
            s_receipt_digest(fx, p, digest);
            moved = !fx->had_digest[p] || memcmp(digest, fx->digest[p], sizeof digest) != 0;
            memcpy(fx->digest[p], digest, sizeof digest);
            fx->had_digest[p] = 1;
        }
        if (!merged)
            continue;
        unsigned least = moved ? s_origins_of(fx, p, 1) : 0, most = s_origins_of(fx, p, 0);
        if ((m.marked[p] & least) != least && s_mismatch(fx, "a changed receipt not marked"))
            fprintf(stderr,
                    "    teacher %s: receipt changed; marked for nodes %#x, must be for %#x\n",
                    s_teacher_ids[p], m.marked[p], least);
        if ((m.marked[p] & ~most) != 0 && s_mismatch(fx, "marked for a node without records"))
            fprintf(stderr, "    teacher %s: marked for nodes %#x, records at nodes %#x only\n",
                    s_teacher_ids[p], m.marked[p], most);
    }
    if (m.strangers && s_mismatch(fx, "marks of unknown teachers"))
        fprintf(stderr, "    %zu marks\n", m.strangers);
    fx->generation_seen = generation;
    return fx->mismatches - before;
}

/* How to run history h again, for a failure's message. */
static const char *s_replay(const s_history_t *h) {
    static char text[64];
    if (h->seed < S_SEED_VARIANT)
        return " (a handmade history)";
    snprintf(text, sizeof text, "; replay with XS_TEST_SEED=%llu", (unsigned long long)h->seed);
    return text;
}

/* Checks the state the last commit left against the full run over what is held. */
static void s_check(fixture_t *fx, const s_history_t *h, const char *stage) {
    xs_txn_t *txn = NULL;
    fx->h = h;
    s_full_run(fx, h);
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    size_t bad = s_compare(fx, txn, stage);
    bad += s_compare_marks(fx, txn, strcmp(stage, "merge") == 0 || strcmp(stage, "policy") == 0);
    xs_store_end(&txn);
    fx->checks++;
    if (bad)
        fail_msg("seed %llu: %zu mismatches (%s, merge %zu)%s", (unsigned long long)h->seed, bad,
                 stage, fx->merge_no, s_replay(h));
}

/* ---- rebuilding ---- */

typedef struct s_rebuild {
    fixture_t *fx;
    int commit;               /* 1: keep the rebuilt state */
    size_t bad;               /* mismatches found inside the transaction */
    int called[S_POOL];       /* changed was called for the teacher */
    unsigned origins[S_POOL]; /* with these origins: bit per node */
    size_t strangers;         /* origins that are no node's */
    size_t unknown;           /* calls for teachers outside the pool */
    int out_of_order;         /* calls not in teacher_id byte order */
    char last[XS_ID_MAX + 1]; /* the teacher of the last call */
    size_t last_len;
    size_t progress_calls;
    size_t progress_total;
} s_rebuild_t;

static xs_err s_rebuild_changed(void *ctx, const char *teacher, size_t len,
                                const uint8_t (*origins)[32], size_t count) {
    s_rebuild_t *rb = ctx;
    size_t n = len < rb->last_len ? len : rb->last_len;
    int c = memcmp(rb->last, teacher, n);
    if (rb->last_len && (c > 0 || (c == 0 && rb->last_len >= len)))
        rb->out_of_order++;
    memcpy(rb->last, teacher, len < XS_ID_MAX ? len : XS_ID_MAX);
    rb->last_len = len < XS_ID_MAX ? len : XS_ID_MAX;
    for (size_t p = 0; p < S_POOL; p++)
        if (strlen(s_teacher_ids[p]) == len && memcmp(s_teacher_ids[p], teacher, len) == 0) {
            rb->called[p]++;
            rb->origins[p] = 0;
            for (size_t i = 0; i < count; i++) {
                size_t node = 0;
                while (node < S_NODES &&
                       memcmp(origins[i], xs_identity_public(rb->fx->nodes[node])->sign, 32) != 0)
                    node++;
                if (node == S_NODES)
                    rb->strangers++;
                else
                    rb->origins[p] |= 1u << node;
            }
            return XS_OK;
        }
    rb->unknown++;
    return XS_OK;
}

static void s_rebuild_progress(void *ctx, size_t done, size_t total) {
    s_rebuild_t *rb = ctx;
    rb->progress_calls++;
    rb->progress_total = total;
    (void)done;
}

static xs_err s_rebuild_step(xs_txn_t *txn, void *ctx) {
    s_rebuild_t *rb = ctx;
    fixture_t *fx = rb->fx;
    memset(rb->called, 0, sizeof rb->called);
    memset(rb->origins, 0, sizeof rb->origins);
    rb->unknown = 0;
    rb->strangers = 0;
    rb->out_of_order = 0;
    rb->last_len = 0;
    rb->progress_calls = 0;
    xs_err err = hub_credit_rebuild(&fx->hub, txn, s_rebuild_changed, rb, s_rebuild_progress, rb);
    if (err != XS_OK)
        return err;
    rb->bad = s_compare(fx, txn, rb->commit ? "rebuild (kept)" : "rebuild");
    /* changed: every teacher the engine gave a ledger, once, in byte order, with the origins
     * holding their records: at least those of their activities, at most those holding any
     * record filed under them. */
    for (size_t p = 0; p < S_POOL; p++) {
        unsigned least = s_origins_of(fx, p, 1), most = s_origins_of(fx, p, 0);
        int expected = fx->expect[p].seen;
        int origins_ok = (rb->origins[p] & least) == least && (rb->origins[p] & ~most) == 0;
        if ((expected && (rb->called[p] != 1 || !origins_ok)) || (!expected && rb->called[p] > 1)) {
            rb->bad++;
            if (s_mismatch(fx, "rebuild's changed callback"))
                fprintf(stderr,
                        "    teacher %s: called %d times, origins (bit per node) %#x; expected "
                        "%d call, origins %#x at least, %#x at most\n",
                        s_teacher_ids[p], rb->called[p], rb->origins[p], expected, least, most);
        }
    }
    if ((rb->unknown || rb->out_of_order || rb->strangers) &&
        s_mismatch(fx, "rebuild's changed callback")) {
        rb->bad++;
        fprintf(stderr,
                "    %zu calls for unknown teachers, %d out of order, %zu unknown origins\n",
                rb->unknown, rb->out_of_order, rb->strangers);
    }
    return rb->commit ? XS_OK : XS_EREFUSED; /* a sentinel: nothing of the rebuild is kept */
}

/* Rebuilds the state from the ledger in a write transaction and compares it with the full
 * run; keeps it when commit, else aborts the transaction. */
static void s_rebuild(fixture_t *fx, const s_history_t *h, int commit) {
    s_rebuild_t rb;
    memset(&rb, 0, sizeof rb);
    rb.fx = fx;
    rb.commit = commit;
    fx->h = h;
    s_full_run(fx, h);
    xs_err err = xs_store_update(fx->hub.store, s_rebuild_step, &rb);
    fx->rebuilds++;
    if (err != (commit ? XS_OK : XS_EREFUSED))
        fail_msg("seed %llu: hub_credit_rebuild: %s", (unsigned long long)h->seed,
                 xs_strerror(err));
    fx->checks++;
    if (rb.bad)
        fail_msg("seed %llu: %zu mismatches after a rebuild (merge %zu)%s",
                 (unsigned long long)h->seed, rb.bad, fx->merge_no, s_replay(h));
}

/* ---- a hub per history ---- */

static int s_command(fixture_t *fx, int (*cmd)(int, char **), char **argv, int argc) {
    int rc = xs_scratch_command(fx->dir, cmd, argv, argc, fx->out, NULL, sizeof fx->out);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, fx->out);
    return rc;
}

/* Writes the policy file name, with require_review = yes when review, to path. */
static void s_policy_file(fixture_t *fx, const char *name, int review, char *path, size_t cap) {
    const char *src = getenv("XS_SOURCE_DIR");
    char from[600];
    snprintf(from, sizeof from, "%s/schema/policies/%s", src && *src ? src : XS_SOURCE_DIR, name);
    if (!review) {
        snprintf(path, cap, "%s", from);
        return;
    }
    snprintf(path, cap, "%s/review-%s", fx->dir, name);
    FILE *in = fopen(from, "rb"), *out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char line[4096];
    while (fgets(line, sizeof line, in)) {
        fputs(line, out);
        if (strncmp(line, "[policy]", 8) == 0)
            fputs("require_review = yes\n", out);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* Makes a new hub under the policy and enrolls the nodes in a random order. */
static void s_hub_make(fixture_t *fx, s_history_t *h, const char *policy_path) {
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub-%llu", fx->dir, (unsigned long long)h->seed);
    char *init[] = {"--dir", fx->hub_dir, "--policy", (char *)policy_path, NULL};
    assert_int_equal(s_command(fx, hub_cmd_init, init, 4), 0);
    size_t order[S_NODES];
    for (size_t n = 0; n < S_NODES; n++)
        order[n] = n;
    for (size_t n = S_NODES - 1; n > 0; n--) {
        size_t j = s_below(&h->rng, (uint32_t)n + 1);
        size_t tmp = order[n];
        order[n] = order[j];
        order[j] = tmp;
    }
    for (size_t i = 0; i < S_NODES; i++) {
        char school[16];
        snprintf(school, sizeof school, "S%zu", order[i] + 1);
        char *enroll[] = {"--dir",    fx->hub_dir, "--node", fx->keys[order[i]],
                          "--school", school,      NULL};
        assert_int_equal(s_command(fx, hub_cmd_enroll, enroll, 6), 0);
    }
    assert_int_equal(hub_open(&fx->hub, fx->hub_dir, HUB_OPEN_KEYS), XS_OK);
    fx->hub_open = 1;
    xs_txn_t *txn = NULL;
    assert_int_equal(xs_store_read(fx->hub.store, &txn), XS_OK);
    for (size_t n = 0; n < S_NODES; n++) {
        hub_node_t node;
        assert_int_equal(hub_node_get(txn, xs_identity_public(fx->nodes[n])->sign, &node), XS_OK);
        fx->numbers[n] = node.number;
    }
    xs_store_end(&txn);
}

static void s_hub_drop(fixture_t *fx) {
    if (fx->hub_open)
        hub_close(&fx->hub);
    memset(&fx->hub, 0, sizeof fx->hub);
    fx->hub_open = 0;
    if (fx->hub_dir[0])
        xs_scratch_remove(fx->hub_dir);
    fx->hub_dir[0] = '\0';
}

/* Frees the ACK frames of the items of the last merge. */
static void s_items_free(fixture_t *fx) {
    for (size_t i = 0; i < fx->items_open; i++)
        hub_item_free(&fx->items[i]);
    fx->items_open = 0;
}

/* Merges one group of deliveries and checks each ACK: accepted the first time, held after. */
static void s_merge(fixture_t *fx, s_history_t *h, const size_t *deliveries, size_t n) {
    hub_merge_stats_t stats;
    if (n > fx->items_cap) {
        free(fx->items);
        free(fx->first);
        fx->items = calloc(n, sizeof *fx->items);
        fx->first = calloc(n, sizeof *fx->first);
        assert_non_null(fx->items);
        assert_non_null(fx->first);
        fx->items_cap = n;
    }
    hub_item_t *items = fx->items;
    int *first = fx->first;
    for (size_t i = 0; i < n; i++) {
        s_batch_t *b = &h->batches[deliveries[i]];
        first[i] = !b->held;
        b->held = 1; /* a second copy in the same group is held by the time it is merged */
        hub_item_open(&items[i], b->env.data, b->env.len,
                      xs_identity_public(fx->nodes[b->node])->sign);
        fx->items_open = i + 1;
        assert_int_equal(items[i].open_err, XS_OK);
    }
    xs_err err = hub_merge(&fx->hub, items, n, &stats);
    if (err != XS_OK)
        fail_msg("seed %llu: hub_merge %zu: %s", (unsigned long long)h->seed, fx->merge_no + 1,
                 xs_strerror(err));
    fx->merge_no++;
    fx->merges++;
    for (size_t i = 0; i < n; i++) {
        s_batch_t *b = &h->batches[deliveries[i]];
        unsigned want = first[i] ? XS_ACK_ACCEPTED : XS_ACK_HELD;
        if (items[i].status != want)
            fail_msg("seed %llu: merge %zu: batch of node %u at %llu: status %u, expected %u",
                     (unsigned long long)h->seed, fx->merge_no, (unsigned)b->node,
                     (unsigned long long)b->first_seq, items[i].status, want);
        for (uint32_t r = 0; r < b->count; r++)
            h->recs[b->first + r].held = 1;
    }
    s_items_free(fx);
}

/* Runs one history under the policy file: generate, seal, merge in groups checking after each,
 * rebuild (kept, at a random point, in some histories) and rebuild at the end. */
/* Caps a policy's next version adds (which move rows, not only totals): over exams and
 * another category, which the exam standings must then follow; over the category it adds. */
static const char *const s_next_caps[] = {
    "categories = open_class\nperiod = semester\ncount = 1\n",
    "categories = open_class, exam\nperiod = semester\ncount = 1\n",
    "categories = exam, research_session\nperiod = year\ncount = 2\n",
    "categories = test_custom, lecture\nperiod = semester\ncount = 2\n",
};

/* Writes the next version of the policy the hub holds to path: the shipped file with its
 * version raised, require_review turned over, a category of its own with code 99 (whose
 * records were unknown_category until then: the generator writes some) counting an event
 * once, and one of s_next_caps. */
static void s_policy_next(fixture_t *fx, s_history_t *h, char *path, size_t cap) {
    const char *src = getenv("XS_SOURCE_DIR");
    char from[600], line[4096];
    int in_policy = 0;
    snprintf(from, sizeof from, "%s/schema/policies/%s", src && *src ? src : XS_SOURCE_DIR,
             fx->policy_name);
    snprintf(path, cap, "%s/next-%s", fx->dir, fx->policy_name);
    FILE *in = fopen(from, "rb"), *out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    while (fgets(line, sizeof line, in)) {
        if (line[0] == '[')
            in_policy = strncmp(line, "[policy]", 8) == 0;
        if (in_policy && strncmp(line, "version", 7) == 0) {
            const char *eq = strchr(line, '=');
            assert_non_null(eq);
            long version = strtol(eq + 1, NULL, 10);
            assert_true(version > 0);
            fprintf(out, "version = %ld\n", version + 1);
            if (!fx->require_review)
                fputs("require_review = yes\n", out);
            continue;
        }
        fputs(line, out);
    }
    fputs("\n[category.test_custom]\ncode = 99\nlabel = 测试类别\nrule = minutes\n"
          "same_event = once\n",
          out);
    fprintf(out, "\n[cap.test_next]\n%s",
            s_next_caps[s_below(&h->rng, sizeof s_next_caps / sizeof s_next_caps[0])]);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* Puts the policy's next version in force with `xueshi-hub policy` (which re-certifies every
 * teacher under it), the hub closed meanwhile: a process opens a store once. */
static void s_policy_change(fixture_t *fx, s_history_t *h) {
    char path[700];
    s_policy_next(fx, h, path, sizeof path);
    hub_close(&fx->hub);
    fx->hub_open = 0;
    char *argv[] = {"--dir", fx->hub_dir, "--policy", path, NULL};
    assert_int_equal(s_command(fx, hub_cmd_policy, argv, 4), 0);
    assert_int_equal(hub_open(&fx->hub, fx->hub_dir, HUB_OPEN_KEYS), XS_OK);
    fx->hub_open = 1;
    fx->require_review = !fx->require_review;
    fx->policy_changed = 1;
    fx->changes++;
}

/* Frees the full run's arrays. */
static void s_run_free(fixture_t *fx) {
    free(fx->run_recs);
    free(fx->run_ids);
    free(fx->run_rows);
    free(fx->run_idents);
    free(fx->run_of);
    fx->run_recs = NULL;
    fx->run_ids = NULL;
    fx->run_rows = NULL;
    fx->run_idents = NULL;
    fx->run_of = NULL;
}

/* Runs a history whose hub is made and whose batches are sealed and planned: merges in its
 * groups checking after each, a kept rebuild after a random one (in some histories), an
 * aborted rebuild at the end; then drops the hub and frees the history. */
static void s_history_run(fixture_t *fx, s_history_t *h) {
    fx->records += h->count;
    fx->histories++;
    s_run_free(fx);
    fx->run_recs = calloc(h->count, sizeof *fx->run_recs);
    fx->run_ids = calloc(h->count, sizeof *fx->run_ids);
    fx->run_rows = calloc(h->count, sizeof *fx->run_rows);
    fx->run_idents = calloc(h->count, sizeof *fx->run_idents);
    fx->run_of = calloc(h->count, sizeof *fx->run_of);
    assert_non_null(fx->run_recs);
    assert_non_null(fx->run_ids);
    assert_non_null(fx->run_rows);
    assert_non_null(fx->run_idents);
    assert_non_null(fx->run_of);

    fx->h = h;
    s_check(fx, h, "empty");
    size_t keep_at = s_chance(&h->rng, 30) ? s_below(&h->rng, (uint32_t)h->ngroups) : SIZE_MAX;
    /* A random history may see its policy's next version put in force. */
    size_t change_at = s_chance(&h->rng, 20) && h->seed >= S_SEED_VARIANT
                           ? s_below(&h->rng, (uint32_t)h->ngroups)
                           : SIZE_MAX;
    int review = fx->require_review;
    size_t at = 0;
    for (size_t gi = 0; gi < h->ngroups; gi++) {
        s_merge(fx, h, h->order + at, h->groups[gi]);
        at += h->groups[gi];
        s_check(fx, h, "merge");
        if (gi == keep_at) {
            s_rebuild(fx, h, 1);
            s_check(fx, h, "after a kept rebuild");
        }
        if (gi == change_at) {
            s_policy_change(fx, h);
            s_check(fx, h, "policy");
        }
    }
    s_rebuild(fx, h, 0);
    s_check(fx, h, "after an aborted rebuild");
    s_run_free(fx);
    s_hub_drop(fx);
    s_history_free(h);
    fx->require_review = review;
    fx->policy_changed = 0;
}

/* Starts history h with seed on a new hub under the policy file. */
static void s_history_start(fixture_t *fx, s_history_t *h, uint64_t seed, const char *policy_path) {
    /* What a failed case left. */
    s_items_free(fx);
    s_run_free(fx);
    s_hub_drop(fx);
    s_history_free(h);
    h->seed = seed;
    h->rng = seed;
    fx->merge_no = 0;
    fx->generation_seen = 0;
    memset(fx->had_digest, 0, sizeof fx->had_digest);
    s_hub_make(fx, h, policy_path);
}

/* One random history under the policy file. */
static void s_history(fixture_t *fx, uint64_t seed, const char *policy_path, size_t max_records) {
    s_history_t *h = &fx->hist;
    s_history_start(fx, h, seed, policy_path);
    s_generate(h, fx->hub.policy, max_records);
    s_seal(fx, h, 0);
    s_plan(h);
    s_history_run(fx, h);
}

/* A history of node 0 alone with count records, filled by the caller (kind and fields), each
 * given its node, seq and scope here. */
static void s_handmade(s_history_t *h, size_t count) {
    h->nodes = 1;
    h->count = count;
    h->per_node[0] = count;
    h->recs = calloc(count, sizeof *h->recs);
    assert_non_null(h->recs);
    for (size_t i = 0; i < count; i++) {
        s_gen_t *g = &h->recs[i];
        xs_record_init(&g->rec);
        g->node = 0;
        g->seq = i + 1;
        g->in_scope = 1;
        g->pool = -1;
    }
}

/* Makes handmade record g an activity of pool teacher p in category on date (0: none). */
static void s_handmade_activity(s_gen_t *g, int p, unsigned category, int32_t date) {
    g->pool = p;
    s_set_str(g, XS_F_TEACHER_ID, g->teacher, s_teacher_ids[p]);
    s_set_str(g, XS_F_SCHOOL_ID, g->school, "S1");
    S_SET(g, category, XS_F_CATEGORY, (uint8_t)category);
    if (date)
        S_SET(g, date, XS_F_DATE, date);
}

/* Plans handmade deliveries: one hub_merge per batch, in order. */
static void s_handmade_plan(s_history_t *h) {
    h->order = calloc(h->nbatches, sizeof *h->order);
    h->groups = calloc(h->nbatches, sizeof *h->groups);
    assert_non_null(h->order);
    assert_non_null(h->groups);
    for (size_t b = 0; b < h->nbatches; b++) {
        h->order[h->norder++] = b;
        h->groups[h->ngroups++] = 1;
    }
}

/* The pool index of teacher id. */
static int s_pool(const char *id) {
    for (size_t p = 0; p < S_POOL; p++)
        if (strcmp(s_teacher_ids[p], id) == 0)
            return (int)p;
    fail_msg("no pool teacher %s", id);
    return -1;
}

/* ---- setup ---- */

static int s_cmp_name(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    /* Some ten thousand merges, each committed durably: on a disk their fsyncs, not the
     * certification, would take most of the time. Without a TMPDIR of its own the test works
     * in memory when it can. */
    const char *tmp = getenv("TMPDIR");
    if ((!tmp || !*tmp) && access("/dev/shm", W_OK | X_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    if (xs_identity_setup() != XS_OK ||
        xs_scratch_make(fx->dir, sizeof fx->dir, "xs_hub_credit") != 0)
        return -1;
    for (size_t n = 0; n < S_NODES; n++) {
        uint8_t seed[32];
        memset(seed, (int)(0x40 + n), sizeof seed);
        if (xs_identity_from_seed(&fx->nodes[n], seed) != XS_OK)
            return -1;
        xs_pubkeys_format(xs_identity_public(fx->nodes[n]), fx->keys[n]);
    }
    /* Every shipped policy, found where they are shipped. */
    const char *src = getenv("XS_SOURCE_DIR");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/schema/policies", src && *src ? src : XS_SOURCE_DIR);
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && len < sizeof fx->policies[0] && strcmp(e->d_name + len - 4, ".ini") == 0 &&
            fx->npolicies < S_POLICIES_MAX)
            memcpy(fx->policies[fx->npolicies++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(fx->policies, fx->npolicies, sizeof fx->policies[0], s_cmp_name);
    for (size_t p = 0; p < S_POOL; p++) {
        fx->expect[p].totals = calloc(XS_RECEIPT_TOTALS_MAX, sizeof *fx->expect[p].totals);
        fx->expect[p].receipt = calloc(1, sizeof *fx->expect[p].receipt);
        if (!fx->expect[p].totals || !fx->expect[p].receipt)
            return -1;
    }
    fx->got_receipt = calloc(1, sizeof *fx->got_receipt);
    fx->got_totals = calloc(XS_RECEIPT_TOTALS_MAX, sizeof *fx->got_totals);
    return fx->npolicies && fx->got_receipt && fx->got_totals ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    s_items_free(fx);
    free(fx->items);
    free(fx->first);
    s_history_free(&fx->hist);
    if (fx->hub_open)
        hub_close(&fx->hub);
    for (size_t n = 0; n < S_NODES; n++)
        xs_identity_destroy(&fx->nodes[n]);
    for (size_t p = 0; p < S_POOL; p++) {
        free(fx->expect[p].totals);
        free(fx->expect[p].receipt);
    }
    free(fx->got_receipt);
    free(fx->got_totals);
    s_run_free(fx);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* A positive integer from the environment, or fallback. */
static size_t s_env_size(const char *name, size_t fallback) {
    const char *v = getenv(name);
    char *end;
    if (!v || !*v)
        return fallback;
    unsigned long long n = strtoull(v, &end, 10);
    return *end == '\0' && n > 0 ? (size_t)n : fallback;
}

/* Every shipped policy, with require_review as given: S_CASES histories each, or the one
 * XS_TEST_SEED names. */
static void s_run_policies(fixture_t *fx, int review) {
    size_t cases = s_env_size("XS_TEST_CASES", S_CASES_DEFAULT);
    size_t max_records = s_env_size("XS_TEST_RECORDS", S_RECORDS_DEFAULT);
    uint64_t only = s_env_size("XS_TEST_SEED", 0);
    if (max_records < S_RECORDS_MIN)
        max_records = S_RECORDS_MIN;
    fx->histories = fx->records = fx->merges = fx->checks = fx->changes = fx->rebuilds = 0;
    fx->require_review = review;
    for (size_t p = 0; p < fx->npolicies; p++) {
        char path[700];
        uint64_t variant = (uint64_t)(p * 2 + (size_t)review + 1);
        if (only && only / S_SEED_VARIANT != variant)
            continue;
        fx->policy_name = fx->policies[p];
        s_policy_file(fx, fx->policies[p], review, path, sizeof path);
        for (size_t c = 0; c < cases; c++) {
            uint64_t seed = variant * S_SEED_VARIANT + c;
            if (only && only != seed)
                continue;
            s_history(fx, seed, path, max_records);
        }
    }
    printf("test_hub_credit: %zu policies, require_review %s: %zu histories, %zu records, %zu "
           "merges, %zu rebuilds, %zu policy changes, %zu checks\n",
           fx->npolicies, review ? "yes" : "no", fx->histories, fx->records, fx->merges,
           fx->rebuilds, fx->changes, fx->checks);
    fx->histories = fx->records = fx->merges = fx->checks = fx->changes = fx->rebuilds = 0;
}

/* ---- the cases ---- */

/* Under every shipped policy as shipped. */
static void test_incremental_equals_full(void **state) {
    s_run_policies(*state, 0);
}

/* Under every shipped policy with require_review = yes: unreviewed counts move with reviews. */
static void test_incremental_equals_full_require_review(void **state) {
    s_run_policies(*state, 1);
}

/* The shipped policy file name, for a handmade history. */
static void s_shipped(fixture_t *fx, const char *name, char *path, size_t cap) {
    fx->policy_name = name;
    fx->require_review = 0;
    s_policy_file(fx, name, 0, path, cap);
}

/* Makes handmade record g a correction (kind 1) voiding seq, filed under pool teacher p. */
static void s_handmade_correction(s_gen_t *g, int p, uint64_t seq) {
    g->rec.kind = XS_KIND_CORRECTION;
    g->pool = p;
    s_set_str(g, XS_F_TEACHER_ID, g->teacher, s_teacher_ids[p]);
    s_set_str(g, XS_F_SCHOOL_ID, g->school, "S1");
    S_SET(g, voids, XS_F_VOIDS, seq);
}

/* A teacher's component outgrows its first allocation (64 members) while the corrections and
 * reviews naming its members are added to it: 63 research sessions of T2 at one event, the
 * fifth voided, merged at once; then a review of the first re-certifies the component, which
 * holds 64 members when the correction of the fifth is added as the 65th. */
static void test_component_grows_while_loading(void **state) {
    fixture_t *fx = *state;
    char path[700];
    s_history_t *h = &fx->hist;
    s_shipped(fx, "baiwanzi.ini", path, sizeof path);
    s_history_start(fx, h, 1, path);
    s_handmade(h, 65);
    int t2 = s_pool("T2");
    int32_t day = xs_date_from_civil(2024, 10, 8);
    for (size_t i = 0; i < 63; i++) {
        s_gen_t *g = &h->recs[i];
        s_handmade_activity(g, t2, XS_CAT_RESEARCH_SESSION, day + (int32_t)i);
        s_set_str(g, XS_F_EVENT, g->event, "教研活动 R0");
    }
    s_handmade_correction(&h->recs[63], t2, 5);
    s_gen_t *review = &h->recs[64];
    review->rec.kind = XS_KIND_REVIEW;
    review->pool = t2;
    s_set_str(review, XS_F_TEACHER_ID, review->teacher, "T2");
    s_set_str(review, XS_F_SCHOOL_ID, review->school, "S1");
    S_SET(review, date, XS_F_DATE, day + 70);
    S_SET(review, reviews, XS_F_REVIEWS, 1);
    S_SET(review, verdict, XS_F_VERDICT, XS_VERDICT_APPROVED);
    s_seal(fx, h, 64);
    s_handmade_plan(h);
    s_history_run(fx, h);
}

/* Who has a receipt: T2 (a dated lecture) and T3 (a lecture without a date: a ledger with no
 * period) have; T30 (only a correction filed under them) has not, nor T1, T10 and T100, whose
 * ids sort before every teacher the hub holds, nor T8, after them. */
static void test_who_has_a_receipt(void **state) {
    fixture_t *fx = *state;
    char path[700];
    s_history_t *h = &fx->hist;
    s_shipped(fx, "baiwanzi.ini", path, sizeof path);
    s_history_start(fx, h, 2, path);
    s_handmade(h, 4);
    int32_t day = xs_date_from_civil(2024, 10, 8);
    s_handmade_activity(&h->recs[0], s_pool("T2"), XS_CAT_LECTURE, day);
    S_SET(&h->recs[0], minutes, XS_F_MINUTES, 90);
    s_handmade_activity(&h->recs[1], s_pool("T3"), XS_CAT_LECTURE, 0);
    S_SET(&h->recs[1], minutes, XS_F_MINUTES, 90);
    s_handmade_activity(&h->recs[2], s_pool("T2"), XS_CAT_OPEN_CLASS, day + 1);
    s_handmade_correction(&h->recs[3], s_pool("T30"), 3);
    s_seal(fx, h, 2);
    s_handmade_plan(h);
    s_history_run(fx, h);
}

/* A county's cap over exams and open classes, one a semester: an open class (4 h, 14400 s)
 * outranks an exam (its score, 70-90 points, in hundredths), so each teacher's exam is capped
 * and the event keeps no participant: every exam row is middle (fewer than three). The
 * county's standings of exam records alone (which a rebuild starts from) see three
 * participants; the rebuild must not keep their tiers. */
static void test_rebuild_exam_event_all_capped(void **state) {
    fixture_t *fx = *state;
    char path[700];
    s_history_t *h = &fx->hist;
    char from[700], line[4096];
    fx->policy_name = "baiwanzi.ini with a cap over exams";
    fx->require_review = 0;
    s_policy_file(fx, "baiwanzi.ini", 0, from, sizeof from);
    snprintf(path, sizeof path, "%s/exam-cap.ini", fx->dir);
    FILE *in = fopen(from, "rb"), *out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    while (fgets(line, sizeof line, in))
        fputs(line, out);
    fputs("\n[cap.exam_open]\ncategories = open_class, exam\nperiod = semester\ncount = 1\n", out);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    s_history_start(fx, h, 3, path);
    s_handmade(h, 6);
    static const char *const teachers[] = {"T2", "T3", "T4"};
    int32_t day = xs_date_from_civil(2024, 10, 8);
    for (size_t i = 0; i < 3; i++) {
        s_gen_t *exam = &h->recs[2 * i], *open = &h->recs[2 * i + 1];
        s_handmade_activity(exam, s_pool(teachers[i]), XS_CAT_EXAM, day);
        s_set_str(exam, XS_F_EVENT, exam->event, "专业知识考试 E0");
        S_SET(exam, score, XS_F_SCORE, 9000 - 1000 * (uint32_t)i);
        s_handmade_activity(open, s_pool(teachers[i]), XS_CAT_OPEN_CLASS, day + 1);
    }
    s_seal(fx, h, 6);
    s_handmade_plan(h);
    s_history_run(fx, h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_who_has_a_receipt),
        cmocka_unit_test(test_component_grows_while_loading),
        cmocka_unit_test(test_rebuild_exam_event_all_capped),
        cmocka_unit_test(test_incremental_equals_full),
        cmocka_unit_test(test_incremental_equals_full_require_review),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
