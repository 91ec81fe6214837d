/* fuzz_policy: libFuzzer harness for policy files and compiled policies (schema/policy.md).
 * The first byte selects the entry point: even (the seeds use '\n'), the rest is a policy
 * file (xs_policy_parse); odd (the seeds use 0x01), a compiled blob (xs_policy_decode). A file that
 * parses compiles to a blob that decodes to the same policy and compiles to the same bytes; a blob
 * that decodes compiles to exactly its own bytes (only canonical blobs are accepted). Either way
 * the lookups (categories, buckets, roles), the record check and the calendar of the policy must
 * agree with each other. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/codec.h"
#include "xs/policy.h"
#include "xs/record.h"

/* Inputs past this gain nothing: a file line holds at most 4096 bytes, and the largest
 * policy a file can say fits in a blob of XS_POLICY_BLOB_MAX. */
#define S_INPUT_MAX (64 * 1024)
/* Last day a record may carry (records.md §4, 2149-12-31), so the calendar is asked about the
 * dates the engine will ask about. */
#define S_DATE_MAX 65743

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A byte of the input at i, wrapping around; 0 for no input. */
static uint8_t s_byte(const uint8_t *data, size_t size, size_t i) {
    return size ? data[i % size] : 0;
}

/* Name and label of every code round-trip through xs_policy_category_parse, and a record of
 * the code is unknown_category exactly when the policy does not define the code. */
static void s_check_categories(const xs_policy_t *p, const uint8_t *data, size_t size) {
    for (unsigned code = 0; code < XS_POLICY_CODES + 2; code++) {
        const char *name = xs_policy_category_name(p, code);
        const char *label = xs_policy_category_label(p, code);
        if ((name == NULL) != (label == NULL))
            abort();
        if (code >= XS_POLICY_CODES && name)
            abort();
        if (name) {
            char upper[XS_POLICY_BUCKET_MAX + 1];
            size_t len = strlen(name);
            if (len == 0 || len >= sizeof upper ||
                xs_policy_category_parse(p, name, len) != (int)code ||
                xs_policy_category_parse(p, label, strlen(label)) != (int)code)
                abort();
            for (size_t i = 0; i <= len; i++)
                upper[i] = name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 32) : name[i];
            if (xs_policy_category_parse(p, upper, len) != (int)code)
                abort();
        }
        if (code >= XS_POLICY_CODES)
            continue;
        xs_record_t rec;
        xs_field field;
        memset(&rec, 0, sizeof rec);
        rec.version = XS_RECORD_VERSION_FIRST;
        rec.kind = XS_KIND_ACTIVITY;
        rec.category = (uint8_t)code;
        rec.teacher_id.ptr = "t";
        rec.teacher_id.len = 1;
        rec.date = 20000;
        /* Which of the rule fields are present, and their values, come from the input. */
        uint8_t pick = s_byte(data, size, code);
        rec.present = (1u << XS_F_TEACHER_ID) | (1u << XS_F_DATE) | (1u << XS_F_CATEGORY) |
                      (uint32_t)(pick & 7u) << XS_F_MINUTES;
        rec.minutes = pick;
        rec.hours = (uint32_t)pick * 397u;
        rec.days = pick >> 1;
        xs_reason why = xs_policy_check(p, &rec, &field);
        if ((why == XS_REASON_UNKNOWN_CATEGORY) != (name == NULL))
            abort();
        if (code >= XS_POLICY_CUSTOM_FIRST &&
            xs_policy_check(NULL, &rec, &field) != XS_REASON_UNKNOWN_CATEGORY)
            abort();
        /* Level filters: only buckets that exist, and levels above national read as none. */
        for (unsigned level = 0; level < XS_LEVEL_COUNT + 2; level++) {
            uint16_t mask = xs_policy_buckets_of(p, code, level);
            if (mask >> p->bucket_count || (mask && !name))
                abort();
            if (level >= XS_LEVEL_COUNT && mask != xs_policy_buckets_of(p, code, 0))
                abort();
        }
    }
    /* Some input as a category name: nothing found, or a code whose name or label it is. */
    size_t len = size < 48 ? size : 48;
    int found = xs_policy_category_parse(p, (const char *)data, len);
    if (found == 0 || found >= XS_POLICY_CODES || (found > 0 && !xs_policy_category_name(p, found)))
        abort();
}

/* Roles are found by name and by label; a part is within its role; the format is the lowest
 * that carries the policy. */
static void s_check_roles(const xs_policy_t *p, const uint8_t *data, size_t size) {
    if (p->role_count > XS_POLICY_ROLES_MAX || p->require_review > 1)
        abort();
    for (uint32_t r = 0; r < p->role_count; r++) {
        const xs_policy_role_t *role = &p->roles[r];
        size_t label_len = strlen(role->label);
        if (xs_policy_role_find(p, role->name, strlen(role->name)) != (int)r ||
            xs_policy_role_find(p, role->label, label_len) != (int)r || label_len == 0 ||
            label_len > XS_POLICY_ROLE_LABEL_MAX || role->period > XS_ROLE_PERIOD_PROBATION ||
            role->required_seconds == 0 || role->part_seconds > role->required_seconds)
            abort();
        unsigned n = 0, parts = 0;
        for (unsigned c = 0; c < XS_POLICY_CODES; c++) {
            int in = (int)((role->categories[c / 64] >> (c % 64)) & 1u);
            int part = (int)((role->part_categories[c / 64] >> (c % 64)) & 1u);
            if ((in && !xs_policy_category_name(p, c)) || (part && !in))
                abort();
            n += (unsigned)in;
            parts += (unsigned)part;
        }
        if (n == 0 || (parts == 0) != (role->part_seconds == 0))
            abort();
    }
    size_t len = size < 40 ? size : 40;
    int found = xs_policy_role_find(p, (const char *)data, len);
    if (found < -1 || found >= (int)p->role_count)
        abort();
    xs_writer_t w;
    xs_writer_init(&w, XS_POLICY_BLOB_MAX);
    xs_policy_compile(p, &w);
    unsigned want = p->role_count || p->require_review ? 3u : 2u;
    if (xs_writer_err(&w) != XS_OK || w.len < 16 || w.data[15] != want)
        abort();
    xs_writer_free(&w);
}

/* Buckets are found by name; the calendar agrees with itself on dates the input picks. */
static void s_check_policy(const xs_policy_t *p, const uint8_t *data, size_t size) {
    size_t count = xs_policy_bucket_count(p);
    if (count < 1 || count > XS_POLICY_BUCKETS_MAX)
        abort();
    for (size_t b = 0; b < count; b++) {
        const char *name = xs_policy_bucket_name(p, b);
        const char *label = xs_policy_bucket_label(p, b);
        if (!label[0] || xs_policy_bucket_find(p, name, strlen(name)) != (int)b)
            abort();
        for (unsigned s = 0; s < XS_SCOPE_COUNT; s++)
            if (((p->buckets[b].advisory >> s) & 1u) &&
                xs_policy_required_seconds(p, b, (xs_scope)s) == 0)
                abort();
    }
    if (xs_policy_bucket_name(p, count)[0] || xs_policy_required_seconds(p, count, XS_SCOPE_YEAR))
        abort();
    s_check_categories(p, data, size);
    s_check_roles(p, data, size);

    for (size_t i = 0; i < 4; i++) {
        uint32_t pick = (uint32_t)s_byte(data, size, 4 * i) << 24 |
                        (uint32_t)s_byte(data, size, 4 * i + 1) << 16 |
                        (uint32_t)s_byte(data, size, 4 * i + 2) << 8 |
                        s_byte(data, size, 4 * i + 3);
        int32_t date = (int32_t)(pick % (S_DATE_MAX + 1u));
        unsigned semester = 0;
        int year = xs_policy_year_of(p, date, &semester);
        int32_t first = xs_policy_semester_start(p, year, 1);
        int32_t second = xs_policy_semester_start(p, year, 2);
        int32_t next = xs_policy_semester_start(p, year + 1, 1);
        if ((semester != 1 && semester != 2) || first > date || date >= next || second <= first ||
            second >= next || (semester == 2) != (date >= second))
            abort();
        int cycle = xs_policy_cycle_of(p, year);
        if (cycle > year || year >= cycle + (int)p->cycle_years ||
            (cycle - p->first_cycle_year) % (int)p->cycle_years != 0)
            abort();
        char year_label[XS_POLICY_YEAR_LABEL], semester_label[XS_POLICY_SEMESTER_LABEL];
        char cycle_label[XS_POLICY_CYCLE_LABEL];
        xs_policy_year_label(year, year_label);
        xs_policy_semester_label(year, semester, semester_label);
        xs_policy_cycle_label(p, cycle, cycle_label);
        if (strlen(year_label) != 9 || strlen(semester_label) != 11 || strlen(cycle_label) != 9)
            abort();
    }
}

/* Compiles p into a new writer; the compiled blob always fits XS_POLICY_BLOB_MAX. */
static void s_compile(const xs_policy_t *p, xs_writer_t *w) {
    xs_writer_init(w, XS_POLICY_BLOB_MAX);
    xs_policy_compile(p, w);
    if (xs_writer_err(w) != XS_OK || w->len == 0 || w->len > XS_POLICY_BLOB_MAX)
        abort();
}

static void s_text(const uint8_t *data, size_t size) {
    xs_policy_t *p = (xs_policy_t *)1, *q = (xs_policy_t *)1;
    char err[256];
    memset(err, 'x', sizeof err);
    xs_err rc = xs_policy_parse(&p, (const char *)data, size, "f.ini", err, sizeof err);
    if (rc != XS_OK) {
        if ((rc != XS_EPOLICY && rc != XS_ENOMEM) || p != NULL || !memchr(err, '\0', sizeof err))
            abort();
        if (rc == XS_EPOLICY && strncmp(err, "f.ini:", 6) != 0)
            abort();
        return;
    }
    if (!p)
        abort();
    s_check_policy(p, data, size);

    xs_writer_t blob, again;
    s_compile(p, &blob);
    /* Exactly sized, so ASan sees any read past the end. */
    uint8_t *exact = malloc(blob.len);
    if (!exact)
        abort();
    memcpy(exact, blob.data, blob.len);
    if (xs_policy_decode(&q, exact, blob.len) != XS_OK || !q)
        abort();
    s_compile(q, &again);
    if (again.len != blob.len || memcmp(again.data, blob.data, blob.len) != 0 ||
        memcmp(p, q, sizeof *p) != 0)
        abort();
    uint8_t hash_p[32], hash_q[32];
    if (xs_policy_hash(p, hash_p) != XS_OK || xs_policy_hash(q, hash_q) != XS_OK ||
        memcmp(hash_p, hash_q, 32) != 0)
        abort();
    free(exact);
    xs_writer_free(&blob);
    xs_writer_free(&again);
    xs_policy_destroy(&p);
    xs_policy_destroy(&q);
    if (p || q)
        abort();
}

static void s_blob(const uint8_t *data, size_t size) {
    xs_policy_t *p = (xs_policy_t *)1;
    xs_err rc = xs_policy_decode(&p, data, size);
    if (rc != XS_OK) {
        if ((rc != XS_EMALFORMED && rc != XS_EVERSION && rc != XS_ETOOBIG && rc != XS_ENOMEM) ||
            p != NULL || (rc == XS_ETOOBIG && size <= XS_POLICY_BLOB_MAX))
            abort();
        return;
    }
    if (!p)
        abort();
    xs_writer_t again;
    s_compile(p, &again);
    if (again.len != size || memcmp(again.data, data, size) != 0)
        abort();
    xs_writer_free(&again);
    s_check_policy(p, data, size);
    xs_policy_destroy(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > S_INPUT_MAX)
        return 0;
    if (data[0] & 1u)
        s_blob(data + 1, size - 1);
    else
        s_text(data + 1, size - 1);
    return 0;
}
