/* test_record: the record format against schema/vectors/records.txt, its text forms and
 * its validation (schema/records.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs/certify.h"
#include "xs/policy.h"
#include "xs/record.h"
#include "xs/text.h"

/* ---- the vector file (its format is described at its top) ---- */

#define S_VECTORS_MAX 256
#define S_VECTOR_BYTES (XS_RECORD_MAX + 16)
#define S_FILE_MAX (1u << 20)

typedef struct s_field_line {
    xs_field field;
    const char *value; /* into the file buffer, terminated */
} s_field_line_t;

typedef struct s_vector {
    const char *name;
    unsigned line; /* line of "name:" in the file, for messages */
    uint8_t bytes[S_VECTOR_BYTES];
    size_t len;
    long bytes_count; /* "bytes:", -1 when not given */
    const char *expect;
    const char *check;   /* NULL when not given */
    const char *certify; /* "STATUS REASON SECONDS", NULL when not given */
    int has_canonical;
    uint8_t canonical[S_VECTOR_BYTES];
    size_t canonical_len;
    s_field_line_t fields[XS_F_COUNT + 1];
    unsigned nfields;
} s_vector_t;

typedef struct s_vectors {
    char *text; /* the file, NUL-terminated, cut into lines in place */
    s_vector_t *v;
    unsigned count;
} s_vectors_t;

static int s_hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes lowercase hex into out; returns 0 on odd length, a bad digit or overflow. */
static int s_unhex(const char *hex, uint8_t *out, size_t cap, size_t *len) {
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = s_hexval(hex[2 * i]), lo = s_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 1;
}

/* Returns the text after "key:" and one optional space, or NULL when line is not that key. */
static const char *s_after(const char *line, const char *key) {
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0 || line[n] != ':')
        return NULL;
    return line[n + 1] == ' ' ? line + n + 2 : line + n + 1;
}

static char *s_read_file(const char *path, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = malloc(max + 1);
    size_t n = text ? fread(text, 1, max + 1, f) : 0;
    int bad = !text || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* One line of a block; returns 0 and prints why when it does not parse. */
static int s_parse_line(s_vector_t *v, char *line, unsigned lineno) {
    const char *rest;
    if ((rest = s_after(line, "hex"))) {
        if (!s_unhex(rest, v->bytes, sizeof v->bytes, &v->len))
            goto bad;
    } else if ((rest = s_after(line, "bytes"))) {
        char *end;
        v->bytes_count = strtol(rest, &end, 10);
        if (end == rest || *end != '\0' || v->bytes_count < 0)
            goto bad;
    } else if ((rest = s_after(line, "expect"))) {
        v->expect = rest;
    } else if ((rest = s_after(line, "check"))) {
        v->check = rest;
    } else if ((rest = s_after(line, "certify"))) {
        v->certify = rest;
    } else if ((rest = s_after(line, "canonical"))) {
        if (!s_unhex(rest, v->canonical, sizeof v->canonical, &v->canonical_len))
            goto bad;
        v->has_canonical = 1;
    } else {
        char *eq = strchr(line, '=');
        if (!eq || v->nfields > XS_F_COUNT)
            goto bad;
        int f = xs_field_parse(line, (size_t)(eq - line));
        if (f < 0)
            goto bad;
        v->fields[v->nfields].field = (xs_field)f;
        v->fields[v->nfields].value = eq + 1;
        v->nfields++;
    }
    return 1;
bad:
    print_error("records.txt:%u: cannot read \"%s\"\n", lineno, line);
    return 0;
}

static int s_vectors_setup(void **state) {
    const char *dir = getenv("XS_SOURCE_DIR");
    char path[4096];
    s_vectors_t *vs = calloc(1, sizeof *vs);
    if (!vs)
        return -1;
    *state = vs;
    if (!dir || !*dir)
        dir = XS_SOURCE_DIR;
    snprintf(path, sizeof path, "%s/schema/vectors/records.txt", dir);
    vs->text = s_read_file(path, S_FILE_MAX);
    vs->v = calloc(S_VECTORS_MAX, sizeof *vs->v);
    if (!vs->text || !vs->v) {
        print_error("cannot read %s\n", path);
        return -1;
    }
    s_vector_t *cur = NULL;
    unsigned lineno = 0;
    for (char *line = vs->text; line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
        lineno++;
        const char *name;
        if (line[0] == '\0') {
            cur = NULL;
        } else if (line[0] == '#') {
            /* comment */
        } else if ((name = s_after(line, "name"))) {
            if (vs->count == S_VECTORS_MAX)
                return -1;
            cur = &vs->v[vs->count++];
            cur->name = name;
            cur->line = lineno;
            cur->bytes_count = -1;
        } else if (!cur || !s_parse_line(cur, line, lineno)) {
            print_error("records.txt:%u: line outside a block or unreadable\n", lineno);
            return -1;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int s_vectors_teardown(void **state) {
    s_vectors_t *vs = *state;
    if (vs) {
        free(vs->text);
        free(vs->v);
        free(vs);
    }
    return 0;
}

static const s_vector_t *s_find(const s_vectors_t *vs, const char *name) {
    for (unsigned i = 0; i < vs->count; i++)
        if (strcmp(vs->v[i].name, name) == 0)
            return &vs->v[i];
    return NULL;
}

/* The value of field f in rec as the vectors write it: *s and *len give the string itself,
 * or the decimal written into buf. */
static void s_field_text(const xs_record_t *rec, xs_field f, char *buf, size_t cap, const char **s,
                         size_t *len) {
    const xs_str_t *str = NULL;
    long long sv = 0;
    unsigned long long uv = 0;
    int is_signed = 0;
    switch (f) {
    case XS_F_TEACHER_ID:
        str = &rec->teacher_id;
        break;
    case XS_F_SCHOOL_ID:
        str = &rec->school_id;
        break;
    case XS_F_WORK:
        str = &rec->work;
        break;
    case XS_F_EVENT:
        str = &rec->event;
        break;
    case XS_F_NOTE:
        str = &rec->note;
        break;
    case XS_F_OPERATOR:
        str = &rec->operator_;
        break;
    case XS_F_REF:
        str = &rec->ref;
        break;
    case XS_F_VERSION:
        uv = rec->version;
        break;
    case XS_F_KIND:
        uv = rec->kind;
        break;
    case XS_F_DATE:
        sv = rec->date, is_signed = 1;
        break;
    case XS_F_CATEGORY:
        uv = rec->category;
        break;
    case XS_F_ROLE:
        uv = rec->role;
        break;
    case XS_F_MINUTES:
        uv = rec->minutes;
        break;
    case XS_F_HOURS:
        uv = rec->hours;
        break;
    case XS_F_DAYS:
        uv = rec->days;
        break;
    case XS_F_CHARS:
        uv = rec->chars;
        break;
    case XS_F_UNIT:
        uv = rec->unit;
        break;
    case XS_F_LEVEL:
        uv = rec->level;
        break;
    case XS_F_GRADE:
        uv = rec->grade;
        break;
    case XS_F_SCORE:
        uv = rec->score;
        break;
    case XS_F_RECORDED_AT:
        sv = rec->recorded_at, is_signed = 1;
        break;
    case XS_F_VOIDS:
        uv = rec->voids;
        break;
    case XS_F_LESSONS:
        uv = rec->lessons;
        break;
    case XS_F_REVIEWS:
        uv = rec->reviews;
        break;
    case XS_F_VERDICT:
        uv = rec->verdict;
        break;
    }
    if (str) {
        *s = str->ptr ? str->ptr : "";
        *len = str->len;
        return;
    }
    int n = is_signed ? snprintf(buf, cap, "%lld", sv) : snprintf(buf, cap, "%llu", uv);
    *s = buf;
    *len = n > 0 ? (size_t)n : 0;
}

/* Checks the decoded rec against v's field lines and check line. */
static void s_expect_fields(const s_vector_t *v, const xs_record_t *rec) {
    uint32_t want_present = 0;
    for (unsigned i = 0; i < v->nfields; i++) {
        const s_field_line_t *fl = &v->fields[i];
        char buf[32];
        const char *got;
        size_t got_len;
        want_present |= 1u << fl->field;
        if (!((rec->present >> fl->field) & 1u))
            fail_msg("%s: field %s not decoded", v->name, xs_field_name(fl->field));
        s_field_text(rec, fl->field, buf, sizeof buf, &got, &got_len);
        if (got_len != strlen(fl->value) || memcmp(got, fl->value, got_len) != 0)
            fail_msg("%s: %s is \"%.*s\", expected \"%s\"", v->name, xs_field_name(fl->field),
                     (int)got_len, got, fl->value);
    }
    if (rec->present != want_present)
        fail_msg("%s: present fields 0x%x, expected 0x%x", v->name, (unsigned)rec->present,
                 (unsigned)want_present);
    if (!v->check)
        fail_msg("%s: ok vector without a check: line", v->name);
    xs_field field;
    xs_reason why = xs_record_check(rec, &field);
    char got[64];
    if (why == XS_REASON_NONE)
        snprintf(got, sizeof got, "ok");
    else
        snprintf(got, sizeof got, "%s %s", xs_reason_code(why), xs_field_name(field));
    if (strcmp(got, v->check) != 0)
        fail_msg("%s: check gives \"%s\", expected \"%s\"", v->name, got, v->check);
}

static xs_err s_expected_err(const s_vector_t *v) {
    if (strcmp(v->expect, "ok") == 0)
        return XS_OK;
    if (strcmp(v->expect, "malformed") == 0)
        return XS_EMALFORMED;
    if (strcmp(v->expect, "version") == 0)
        return XS_EVERSION;
    if (strcmp(v->expect, "toobig") == 0)
        return XS_ETOOBIG;
    fail_msg("%s: unknown expect \"%s\"", v->name, v->expect);
    return XS_EINVAL;
}

static void test_vectors_complete(void **state) {
    const s_vectors_t *vs = *state;
    static const char *const required[] = {
        "lecture_participant",
        "lecture_speaker",
        "external_training_days",
        "online_training_hours",
        "research_session_organizer",
        "open_class",
        "reflection",
        "teaching_design_unit",
        "paper_award",
        "paper_published",
        "project_host",
        "exam",
        "correction",
        "truncated",
        "wrong_type_minutes_str",
        "repeated_key",
        "unknown_key_99",
        "teacher_id_65_bytes",
        "utf8_invalid_byte",
        "map32_count_huge",
        "version_2",
        "version_3",
        "teaching_design_unit_lessons",
        "teaching_design_unit_no_lessons",
        "teaching_design_unit_no_work",
        "project_no_work",
    };
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!s_find(vs, required[i]))
            fail_msg("vector %s is missing", required[i]);
    for (unsigned i = 0; i < vs->count; i++) {
        const s_vector_t *v = &vs->v[i];
        if (!v->expect)
            fail_msg("%s (line %u): no expect:", v->name, v->line);
        if (v->bytes_count >= 0 && (size_t)v->bytes_count != v->len)
            fail_msg("%s: bytes: %ld but hex holds %zu", v->name, v->bytes_count, v->len);
        for (unsigned j = 0; j < i; j++)
            if (strcmp(vs->v[j].name, v->name) == 0)
                fail_msg("%s: name used twice", v->name);
        if (strcmp(v->expect, "ok") != 0 &&
            (v->nfields || v->check || v->certify || v->has_canonical))
            fail_msg("%s: fields given for a refused vector", v->name);
    }
    /* The typical lecture is the record a school writes most: keep it small. */
    const s_vector_t *lecture = s_find(vs, "lecture_participant");
    assert_true(lecture->len <= 40);
    print_message("%u vectors; lecture_participant: %zu bytes\n", vs->count, lecture->len);
}

static void test_vectors_decode(void **state) {
    const s_vectors_t *vs = *state;
    for (unsigned i = 0; i < vs->count; i++) {
        const s_vector_t *v = &vs->v[i];
        xs_record_t rec;
        xs_err want = s_expected_err(v);
        xs_err got = xs_record_decode_bytes(v->bytes, v->len, &rec);
        if (got != want)
            fail_msg("%s: decode gives %d (%s), expected %s", v->name, got, xs_strerror(got),
                     v->expect);
        if (got == XS_OK)
            s_expect_fields(v, &rec);
    }
}

static void test_vectors_encode(void **state) {
    const s_vectors_t *vs = *state;
    for (unsigned i = 0; i < vs->count; i++) {
        const s_vector_t *v = &vs->v[i];
        if (s_expected_err(v) != XS_OK)
            continue;
        xs_record_t rec, again;
        xs_writer_t w, w2;
        assert_int_equal(xs_record_decode_bytes(v->bytes, v->len, &rec), XS_OK);
        xs_writer_init(&w, XS_RECORD_MAX);
        xs_record_encode(&rec, &w);
        assert_int_equal(xs_writer_err(&w), XS_OK);
        const uint8_t *want = v->has_canonical ? v->canonical : v->bytes;
        size_t want_len = v->has_canonical ? v->canonical_len : v->len;
        if (w.len != want_len || memcmp(w.data, want, want_len) != 0)
            fail_msg("%s: encoding the decoded record gives other bytes", v->name);
        if (v->has_canonical && v->canonical_len == v->len &&
            memcmp(v->canonical, v->bytes, v->len) == 0)
            fail_msg("%s: canonical: repeats hex:", v->name);
        /* The canonical form is a fixed point: it decodes and encodes to itself. */
        assert_int_equal(xs_record_decode_bytes(w.data, w.len, &again), XS_OK);
        xs_writer_init(&w2, XS_RECORD_MAX);
        xs_record_encode(&again, &w2);
        assert_int_equal(xs_writer_err(&w2), XS_OK);
        assert_int_equal(w2.len, w.len);
        assert_memory_equal(w2.data, w.data, w.len);
        xs_writer_free(&w);
        xs_writer_free(&w2);
    }
}

/* Each decodable vector certified alone (id 1) under the default credit rules, those of the
 * shipped baiwanzi policy (credit-rules §2, §6.2), gives its certify: line; where check: is a
 * refusal, certification rejects it for the same reason and field (credit-rules §3.1). */
static void test_vectors_certify(void **state) {
    const s_vectors_t *vs = *state;
    const char *dir = getenv("XS_SOURCE_DIR");
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/schema/policies/baiwanzi.ini",
             dir && *dir ? dir : XS_SOURCE_DIR);
    xs_policy_t *policy = NULL;
    if (xs_policy_load(&policy, path, err, sizeof err) != XS_OK)
        fail_msg("cannot load %s: %s", path, err);
    unsigned certified = 0;
    for (unsigned i = 0; i < vs->count; i++) {
        const s_vector_t *v = &vs->v[i];
        if (s_expected_err(v) != XS_OK)
            continue;
        if (!v->check || !v->certify)
            fail_msg("%s: ok vector without a check: or certify: line", v->name);
        xs_record_t rec;
        xs_certify_row_t row;
        uint64_t id = 1;
        assert_int_equal(xs_record_decode_bytes(v->bytes, v->len, &rec), XS_OK);
        assert_int_equal(xs_certify_run(policy, NULL, &rec, &id, 1, NULL, &row, NULL, NULL), XS_OK);
        const char *reason = xs_reason_code((xs_reason)row.reason);
        char got[96];
        snprintf(got, sizeof got, "%s %s %u", xs_certify_status_name(row.status),
                 row.reason == XS_REASON_NONE ? "-" : reason, (unsigned)row.credited_seconds);
        if (strcmp(got, v->certify) != 0)
            fail_msg("%s: certify gives \"%s\", expected \"%s\"", v->name, got, v->certify);
        if (strcmp(v->check, "ok") != 0) {
            char want[64];
            snprintf(want, sizeof want, "%s %s", reason, xs_field_name((xs_field)row.field));
            if (row.status != XS_CERT_REJECTED || strcmp(want, v->check) != 0)
                fail_msg("%s: certify rejects for \"%s\", check: says \"%s\"", v->name, want,
                         v->check);
        }
        certified++;
    }
    assert_true(certified >= 40);
    xs_policy_destroy(&policy);
}

/* A record read from a stream: two back to back, and a refusal leaves the cursor alone. */
static void test_vectors_stream(void **state) {
    const s_vectors_t *vs = *state;
    static uint8_t two[2 * S_VECTOR_BYTES];
    for (unsigned i = 0; i < vs->count; i++) {
        const s_vector_t *v = &vs->v[i];
        xs_err want = s_expected_err(v);
        xs_record_t rec;
        xs_reader_t r;
        if (want == XS_OK) {
            memcpy(two, v->bytes, v->len);
            memcpy(two + v->len, v->bytes, v->len);
            xs_reader_init(&r, two, 2 * v->len);
            assert_int_equal(xs_record_decode(&r, &rec), XS_OK);
            assert_int_equal(xs_reader_left(&r), v->len);
            assert_int_equal(xs_record_decode(&r, &rec), XS_OK);
            assert_int_equal(xs_reader_left(&r), 0);
            /* Strings borrow from the bytes decoded. */
            if (rec.teacher_id.len)
                assert_true((const uint8_t *)rec.teacher_id.ptr >= two + v->len &&
                            (const uint8_t *)rec.teacher_id.ptr < two + 2 * v->len);
        } else if (want == XS_EMALFORMED) {
            xs_reader_init(&r, v->bytes, v->len);
            if (xs_record_decode(&r, &rec) == XS_EMALFORMED && r.pos != v->bytes)
                fail_msg("%s: a refused record moved the reader", v->name);
        }
    }
}

/* ---- building records from text, as a clerk's CSV row does ---- */

/* Sets every "field=value" of pairs (NULL-terminated) on a fresh record, asserting each is
 * accepted; a pair naming `skip` is left out. Strings borrow from pairs. */
static void s_build(xs_record_t *rec, const char *const *pairs, const char *skip) {
    xs_record_init(rec);
    for (; *pairs; pairs++) {
        const char *eq = strchr(*pairs, '=');
        assert_non_null(eq);
        size_t name_len = (size_t)(eq - *pairs);
        if (skip && strlen(skip) == name_len && memcmp(skip, *pairs, name_len) == 0)
            continue;
        int f = xs_field_parse(*pairs, name_len);
        assert_true(f >= 0);
        xs_reason why;
        if (xs_record_set_text(rec, (xs_field)f, eq + 1, strlen(eq + 1), &why) != XS_OK)
            fail_msg("set %s refused: %s", *pairs, xs_reason_code(why));
    }
}

/* Sets one field from text; returns the reason it was refused (XS_REASON_NONE when set). */
static xs_reason s_set(xs_record_t *rec, xs_field f, const char *text) {
    xs_reason why = XS_REASON_BAD_TARGET;
    xs_err err = xs_record_set_text(rec, f, text, strlen(text), &why);
    assert_true((err == XS_OK) == (why == XS_REASON_NONE));
    return why;
}

/* Expects xs_record_check to give reason on field ("ok" for none). */
static void s_expect_check(const xs_record_t *rec, xs_reason reason, xs_field field,
                           const char *what) {
    xs_field got_field = XS_F_COUNT;
    xs_reason got = xs_record_check(rec, &got_field);
    if (got != reason || (reason != XS_REASON_NONE && got_field != field))
        fail_msg("%s: check gives %s on %s, expected %s on %s", what,
                 got ? xs_reason_code(got) : "ok", xs_field_name(got_field),
                 reason ? xs_reason_code(reason) : "ok", xs_field_name(field));
}

static void test_typical_lecture(void **state) {
    const s_vectors_t *vs = *state;
    static const char *const row[] = {
        "teacher_id=T0001", "school_id=S01", "date=2025-03-12", "category=lecture",
        "role=participant", "minutes=90",    "operator=A01",    NULL,
    };
    xs_record_t rec;
    xs_writer_t w;
    s_build(&rec, row, NULL);
    rec.recorded_at = 1741770000;
    rec.present |= 1u << XS_F_RECORDED_AT;
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "typical lecture");
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    const s_vector_t *v = s_find(vs, "lecture_participant");
    assert_non_null(v);
    assert_int_equal(w.len, v->len);
    assert_memory_equal(w.data, v->bytes, v->len);
    assert_true(w.len <= 40);
    xs_writer_free(&w);
}

static void test_set_text_numbers(void **state) {
    (void)state;
    xs_record_t rec;
    xs_record_init(&rec);
    assert_int_equal(s_set(&rec, XS_F_HOURS, "12.5"), XS_REASON_NONE);
    assert_int_equal(rec.hours, 1250);
    assert_int_equal(s_set(&rec, XS_F_HOURS, "12.50"), XS_REASON_NONE);
    assert_int_equal(rec.hours, 1250);
    assert_int_equal(s_set(&rec, XS_F_HOURS, " 0.01 "), XS_REASON_NONE);
    assert_int_equal(rec.hours, 1);
    assert_int_equal(s_set(&rec, XS_F_SCORE, "87.5"), XS_REASON_NONE);
    assert_int_equal(rec.score, 8750);
    assert_int_equal(s_set(&rec, XS_F_DAYS, "2.5"), XS_REASON_NONE);
    assert_int_equal(rec.days, 5);
    assert_int_equal(s_set(&rec, XS_F_DAYS, "3"), XS_REASON_NONE);
    assert_int_equal(rec.days, 6);
    assert_int_equal(s_set(&rec, XS_F_DAYS, "3.0"), XS_REASON_NONE);
    assert_int_equal(rec.days, 6);
    assert_int_equal(s_set(&rec, XS_F_MINUTES, "90"), XS_REASON_NONE);
    assert_int_equal(rec.minutes, 90);
    assert_int_equal(s_set(&rec, XS_F_CHARS, "1200"), XS_REASON_NONE);
    assert_int_equal(rec.chars, 1200);
    assert_int_equal(s_set(&rec, XS_F_VOIDS, "17"), XS_REASON_NONE);
    assert_int_equal(rec.voids, 17);

    static const struct {
        xs_field f;
        const char *text;
    } refused[] = {
        {XS_F_DAYS, "0.3"},
        {XS_F_DAYS, "2.25"},
        {XS_F_DAYS, "-1"},
        {XS_F_HOURS, "1.005"},
        {XS_F_HOURS, "12."},
        {XS_F_HOURS, ".5"},
        {XS_F_HOURS, "-1"},
        {XS_F_HOURS, "1e3"},
        {XS_F_HOURS, "1,5"},
        {XS_F_SCORE, "87.555"},
        {XS_F_MINUTES, "90.0"},
        {XS_F_MINUTES, "+90"},
        {XS_F_MINUTES, "4294967296"},
        {XS_F_MINUTES, "九十"},
        {XS_F_CHARS, "1 200"},
        {XS_F_VOIDS, "18446744073709551616"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        xs_record_init(&rec);
        if (s_set(&rec, refused[i].f, refused[i].text) != XS_REASON_BAD_VALUE)
            fail_msg("%s=\"%s\" accepted", xs_field_name(refused[i].f), refused[i].text);
        assert_false((rec.present >> refused[i].f) & 1u);
    }
    xs_record_init(&rec);
    assert_int_equal(s_set(&rec, XS_F_VOIDS, "18446744073709551615"), XS_REASON_NONE);
    assert_true(rec.voids == UINT64_MAX);
}

static void test_set_text_names_and_strings(void **state) {
    (void)state;
    xs_record_t rec;
    xs_record_init(&rec);
    /* Empty or blank text leaves the field absent and is not an error. */
    assert_int_equal(s_set(&rec, XS_F_TEACHER_ID, ""), XS_REASON_NONE);
    assert_int_equal(s_set(&rec, XS_F_MINUTES, "  \t"), XS_REASON_NONE);
    assert_int_equal(rec.present, 1u << XS_F_VERSION);
    assert_int_equal(s_set(&rec, XS_F_TEACHER_ID, "  T0001\t\r\n"), XS_REASON_NONE);
    assert_int_equal(rec.teacher_id.len, 5);
    assert_memory_equal(rec.teacher_id.ptr, "T0001", 5);
    assert_int_equal(s_set(&rec, XS_F_WORK, "农村小学低年级识字教学"), XS_REASON_NONE);
    assert_int_equal(rec.work.len, 33);

    assert_int_equal(s_set(&rec, XS_F_CATEGORY, "open_class"), XS_REASON_NONE);
    assert_int_equal(rec.category, XS_CAT_OPEN_CLASS);
    assert_int_equal(s_set(&rec, XS_F_CATEGORY, "open class"), XS_REASON_UNKNOWN_CATEGORY);
    assert_int_equal(s_set(&rec, XS_F_CATEGORY, "Lecture"), XS_REASON_UNKNOWN_CATEGORY);
    assert_int_equal(s_set(&rec, XS_F_ROLE, "speaker"), XS_REASON_NONE);
    assert_int_equal(rec.role, XS_ROLE_SPEAKER);
    assert_int_equal(s_set(&rec, XS_F_ROLE, "Speaker"), XS_REASON_BAD_VALUE);
    assert_int_equal(s_set(&rec, XS_F_LEVEL, "municipal"), XS_REASON_NONE);
    assert_int_equal(rec.level, XS_LEVEL_MUNICIPAL);
    assert_int_equal(s_set(&rec, XS_F_LEVEL, "city"), XS_REASON_BAD_VALUE);
    assert_int_equal(s_set(&rec, XS_F_GRADE, "published"), XS_REASON_NONE);
    assert_int_equal(rec.grade, XS_GRADE_PUBLISHED);
    assert_int_equal(s_set(&rec, XS_F_GRADE, "2"), XS_REASON_NONE);
    assert_int_equal(rec.grade, XS_GRADE_SECOND);
    assert_int_equal(s_set(&rec, XS_F_GRADE, "4"), XS_REASON_BAD_VALUE);
    assert_int_equal(s_set(&rec, XS_F_UNIT, "1"), XS_REASON_NONE);
    assert_int_equal(rec.unit, 1);
    assert_int_equal(s_set(&rec, XS_F_UNIT, "2"), XS_REASON_BAD_VALUE);
    assert_int_equal(s_set(&rec, XS_F_UNIT, "yes"), XS_REASON_BAD_VALUE);
    assert_int_equal(s_set(&rec, XS_F_UNIT, "是"), XS_REASON_NONE);
    assert_int_equal(rec.unit, 1);

    /* The Chinese labels and the short words the office writes. */
    static const struct {
        xs_field f;
        const char *text;
        unsigned code;
    } zh[] = {
        {XS_F_ROLE, "主讲", XS_ROLE_SPEAKER},
        {XS_F_ROLE, "主讲人", XS_ROLE_SPEAKER},
        {XS_F_ROLE, "参与", XS_ROLE_PARTICIPANT},
        {XS_F_ROLE, "主要执笔人", XS_ROLE_MAIN_WRITER},
        {XS_F_LEVEL, "县级", XS_LEVEL_COUNTY},
        {XS_F_LEVEL, "国家级", XS_LEVEL_NATIONAL},
        {XS_F_GRADE, "一等奖", XS_GRADE_FIRST},
        {XS_F_GRADE, "公开发表", XS_GRADE_PUBLISHED},
        {XS_F_CATEGORY, "公开课", XS_CAT_OPEN_CLASS},
    };
    for (size_t i = 0; i < sizeof zh / sizeof *zh; i++) {
        xs_record_init(&rec);
        assert_int_equal(s_set(&rec, zh[i].f, zh[i].text), XS_REASON_NONE);
        unsigned got = zh[i].f == XS_F_ROLE    ? rec.role
                       : zh[i].f == XS_F_LEVEL ? rec.level
                       : zh[i].f == XS_F_GRADE ? rec.grade
                                               : rec.category;
        assert_int_equal(got, zh[i].code);
    }
    assert_int_equal(s_set(&rec, XS_F_ROLE, "主讲者"), XS_REASON_BAD_VALUE);
    char allowed[256];
    assert_true(xs_field_allowed(XS_F_ROLE, allowed, sizeof allowed) > 0);
    assert_non_null(strstr(allowed, "主讲人/speaker"));
    assert_int_equal(xs_field_allowed(XS_F_TEACHER_ID, allowed, sizeof allowed), 0);
    xs_category_roles(XS_CAT_LECTURE, allowed, sizeof allowed);
    assert_string_equal(allowed, "参与者/participant、主讲人/speaker");
    xs_category_roles(XS_CAT_PROJECT, allowed, sizeof allowed);
    assert_string_equal(allowed, "参与者/participant、主持人/host、主要执笔人/main_writer");
    xs_category_roles(XS_CAT_OPEN_CLASS, allowed, sizeof allowed);
    assert_non_null(strstr(allowed, "组织者/organizer")); /* a category that takes any role */
    size_t cut = xs_field_allowed(XS_F_LEVEL, allowed, 20);
    assert_int_equal(cut, strlen(allowed));
    assert_string_equal(allowed, "校级/school");

    assert_int_equal(s_set(&rec, XS_F_DATE, "2025-02-29"), XS_REASON_BAD_DATE);
    assert_int_equal(s_set(&rec, XS_F_DATE, "2025/3/12"), XS_REASON_NONE);
    assert_int_equal(rec.date, xs_date_from_civil(2025, 3, 12));
    assert_int_equal(s_set(&rec, XS_F_DATE, "2025/03-12"), XS_REASON_BAD_DATE);
    assert_int_equal(s_set(&rec, XS_F_DATE, "2024-02-29"), XS_REASON_NONE);
    assert_int_equal(rec.date, 19782);

    /* The program sets these; a CSV cell never does. */
    assert_int_equal(s_set(&rec, XS_F_VERSION, "1"), XS_REASON_BAD_VALUE);
    assert_int_equal(s_set(&rec, XS_F_KIND, "1"), XS_REASON_BAD_VALUE);
    assert_int_equal(s_set(&rec, XS_F_RECORDED_AT, "1741770000"), XS_REASON_BAD_VALUE);

    /* String byte limits (records.md §2), and bad UTF-8. */
    static const struct {
        xs_field f;
        size_t max;
    } limits[] = {
        {XS_F_TEACHER_ID, XS_ID_MAX}, {XS_F_SCHOOL_ID, XS_ID_MAX}, {XS_F_OPERATOR, XS_ID_MAX},
        {XS_F_WORK, XS_WORK_MAX},     {XS_F_EVENT, XS_EVENT_MAX},  {XS_F_NOTE, XS_NOTE_MAX},
        {XS_F_REF, XS_REF_MAX},
    };
    static char long_text[XS_NOTE_MAX + 2];
    memset(long_text, 'x', sizeof long_text - 1);
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        xs_reason why;
        xs_record_init(&rec);
        assert_int_equal(xs_record_set_text(&rec, limits[i].f, long_text, limits[i].max, &why),
                         XS_OK);
        assert_int_equal(xs_record_set_text(&rec, limits[i].f, long_text, limits[i].max + 1, &why),
                         XS_EINVAL);
        assert_int_equal(why, XS_REASON_OUT_OF_RANGE);
        assert_int_equal(s_set(&rec, limits[i].f, "T\xff"), XS_REASON_BAD_VALUE);
        assert_int_equal(s_set(&rec, limits[i].f, "\xc0\xaf"), XS_REASON_BAD_VALUE);
    }
}

/* One valid row per category, and which fields it cannot do without (records.md §6.9). */
static const struct {
    const char *const pairs[10];
    struct {
        const char *drop;
        xs_field reported;
    } required[7];
} s_categories[] = {
    {{"teacher_id=T1", "date=2025-03-12", "category=lecture", "minutes=90", NULL},
     {{"minutes", XS_F_MINUTES}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=external_training", "days=2.5", NULL},
     {{"days", XS_F_HOURS}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=online_training", "hours=12.5", NULL},
     {{"hours", XS_F_HOURS}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=research_session", "role=organizer",
      "event=教研第3次", NULL},
     {{NULL, XS_F_VERSION}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=open_class", NULL}, {{NULL, XS_F_VERSION}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=reflection", "chars=1200", NULL},
     {{"chars", XS_F_CHARS}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=teaching_design", "chars=900", NULL},
     {{"chars", XS_F_CHARS}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=paper", "chars=3000", "work=论文",
      "level=county", "grade=1", NULL},
     {{"chars", XS_F_CHARS}, {"work", XS_F_WORK}, {"grade", XS_F_GRADE}, {"level", XS_F_LEVEL}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=project", "level=provincial", "role=host",
      "work=乡村阅读推广", NULL},
     {{"level", XS_F_LEVEL}, {"work", XS_F_WORK}}},
    {{"teacher_id=T1", "date=2025-03-12", "category=exam", "event=2025县考", "score=87.5", NULL},
     {{"event", XS_F_EVENT}, {"score", XS_F_SCORE}}},
};

static void test_check_required_fields(void **state) {
    (void)state;
    static const struct {
        const char *drop;
        xs_field reported;
    } common[] = {
        {"teacher_id", XS_F_TEACHER_ID}, {"date", XS_F_DATE}, {"category", XS_F_CATEGORY}};
    assert_int_equal(sizeof s_categories / sizeof *s_categories, XS_CAT_COUNT - 1);
    for (size_t c = 0; c < sizeof s_categories / sizeof *s_categories; c++) {
        xs_record_t rec;
        s_build(&rec, s_categories[c].pairs, NULL);
        assert_int_equal(rec.category, c + 1);
        s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, s_categories[c].pairs[2]);
        for (size_t k = 0; k < sizeof common / sizeof *common; k++) {
            s_build(&rec, s_categories[c].pairs, common[k].drop);
            s_expect_check(&rec, XS_REASON_MISSING_FIELD, common[k].reported,
                           s_categories[c].pairs[2]);
        }
        for (size_t k = 0; s_categories[c].required[k].drop; k++) {
            s_build(&rec, s_categories[c].pairs, s_categories[c].required[k].drop);
            s_expect_check(&rec, XS_REASON_MISSING_FIELD, s_categories[c].required[k].reported,
                           s_categories[c].pairs[2]);
        }
    }
}

static void test_check_optional_alternatives(void **state) {
    (void)state;
    static const char *const training[] = {
        "teacher_id=T1", "date=2025-03-12", "category=external_training",
        "hours=16",      "days=2.5",        NULL};
    static const char *const unit_design[] = {"teacher_id=T1",
                                              "date=2025-03-12",
                                              "category=teaching_design",
                                              "unit=1",
                                              "work=分数的初步认识",
                                              "lessons=4",
                                              NULL};
    static const char *const design_not_unit[] = {"teacher_id=T1", "date=2025-03-12",
                                                  "category=teaching_design", "unit=0", NULL};
    static const char *const class_extra[] = {"teacher_id=T1",       "date=2025-03-12",
                                              "category=open_class", "minutes=45",
                                              "level=school",        NULL};
    xs_record_t rec;
    s_build(&rec, training, NULL);
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "training with hours and days");
    s_build(&rec, training, "days");
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "training with hours only");
    s_build(&rec, unit_design, NULL);
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "unit design without chars");
    assert_int_equal(rec.version, 2); /* lessons needs version 2 */
    s_build(&rec, design_not_unit, NULL);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_CHARS, "design, unit 0, no chars");
    s_build(&rec, class_extra, NULL);
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "fields a category does not use");
}

/* Sets one field of a valid record of category c from text and expects reason on it. */
static void s_expect_value(size_t c, xs_field f, const char *text, xs_reason reason) {
    xs_record_t rec;
    char what[128];
    s_build(&rec, s_categories[c].pairs, NULL);
    assert_int_equal(s_set(&rec, f, text), XS_REASON_NONE);
    snprintf(what, sizeof what, "%s %s=%s", xs_category_name(rec.category), xs_field_name(f), text);
    s_expect_check(&rec, reason, f, what);
}

static void test_check_ranges(void **state) {
    (void)state;
    enum { LECTURE = 0, EXTERNAL = 1, ONLINE = 2, REFLECTION = 5, EXAM = 9 };
    s_expect_value(LECTURE, XS_F_MINUTES, "0", XS_REASON_OUT_OF_RANGE);
    s_expect_value(LECTURE, XS_F_MINUTES, "1", XS_REASON_NONE);
    s_expect_value(LECTURE, XS_F_MINUTES, "1440", XS_REASON_NONE);
    s_expect_value(LECTURE, XS_F_MINUTES, "1441", XS_REASON_OUT_OF_RANGE);
    s_expect_value(EXTERNAL, XS_F_DAYS, "0", XS_REASON_OUT_OF_RANGE);
    s_expect_value(EXTERNAL, XS_F_DAYS, "0.5", XS_REASON_NONE);
    s_expect_value(EXTERNAL, XS_F_DAYS, "365", XS_REASON_NONE);
    s_expect_value(EXTERNAL, XS_F_DAYS, "365.5", XS_REASON_OUT_OF_RANGE);
    s_expect_value(ONLINE, XS_F_HOURS, "0", XS_REASON_OUT_OF_RANGE);
    s_expect_value(ONLINE, XS_F_HOURS, "0.01", XS_REASON_NONE);
    s_expect_value(ONLINE, XS_F_HOURS, "1000", XS_REASON_NONE);
    s_expect_value(ONLINE, XS_F_HOURS, "1000.01", XS_REASON_OUT_OF_RANGE);
    s_expect_value(REFLECTION, XS_F_CHARS, "0", XS_REASON_NONE);
    s_expect_value(REFLECTION, XS_F_CHARS, "10000000", XS_REASON_NONE);
    s_expect_value(REFLECTION, XS_F_CHARS, "10000001", XS_REASON_OUT_OF_RANGE);
    s_expect_value(EXAM, XS_F_SCORE, "0", XS_REASON_NONE);
    s_expect_value(EXAM, XS_F_SCORE, "1000", XS_REASON_NONE);
    s_expect_value(EXAM, XS_F_SCORE, "1000.01", XS_REASON_OUT_OF_RANGE);
    /* Fields a category does not use are ignored, out of range or not (records.md §6.8). */
    s_expect_value(EXAM, XS_F_MINUTES, "1441", XS_REASON_NONE);
    s_expect_value(LECTURE, XS_F_HOURS, "1000.01", XS_REASON_NONE);

    /* Days come in halves: 0.3 never reaches validation. */
    xs_record_t rec;
    s_build(&rec, s_categories[EXTERNAL].pairs, NULL);
    assert_int_equal(s_set(&rec, XS_F_DAYS, "0.3"), XS_REASON_BAD_VALUE);
    assert_int_equal(rec.days, 5);
}

static void test_check_roles_levels_papers(void **state) {
    (void)state;
    enum { LECTURE = 0, RESEARCH = 3, PAPER = 7, PROJECT = 8 };
    s_expect_value(LECTURE, XS_F_ROLE, "speaker", XS_REASON_NONE);
    s_expect_value(LECTURE, XS_F_ROLE, "participant", XS_REASON_NONE);
    s_expect_value(LECTURE, XS_F_ROLE, "organizer", XS_REASON_BAD_ROLE);
    s_expect_value(RESEARCH, XS_F_ROLE, "participant", XS_REASON_NONE);
    s_expect_value(RESEARCH, XS_F_ROLE, "speaker", XS_REASON_BAD_ROLE);
    s_expect_value(PROJECT, XS_F_ROLE, "main_writer", XS_REASON_NONE);
    s_expect_value(PROJECT, XS_F_ROLE, "participant", XS_REASON_NONE);
    s_expect_value(PROJECT, XS_F_ROLE, "speaker", XS_REASON_BAD_ROLE);
    s_expect_value(PROJECT, XS_F_LEVEL, "county", XS_REASON_NONE);
    s_expect_value(PROJECT, XS_F_LEVEL, "school", XS_REASON_BAD_VALUE);

    /* Award: county level or above (the base row is a county first prize). */
    s_expect_value(PAPER, XS_F_LEVEL, "school", XS_REASON_BAD_AWARD);
    s_expect_value(PAPER, XS_F_LEVEL, "national", XS_REASON_NONE);
    s_expect_value(PAPER, XS_F_GRADE, "3", XS_REASON_NONE);

    /* Published: municipal level or above. */
    xs_record_t rec;
    s_build(&rec, s_categories[PAPER].pairs, NULL);
    assert_int_equal(s_set(&rec, XS_F_GRADE, "published"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_BAD_PUBLICATION, XS_F_LEVEL, "published at county");
    assert_int_equal(s_set(&rec, XS_F_LEVEL, "municipal"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "published at municipal");
    assert_int_equal(s_set(&rec, XS_F_LEVEL, "school"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_BAD_PUBLICATION, XS_F_LEVEL, "published at school");

    /* A decoded grade 0 is no prize. */
    s_build(&rec, s_categories[PAPER].pairs, NULL);
    rec.grade = XS_GRADE_NONE;
    s_expect_check(&rec, XS_REASON_BAD_AWARD, XS_F_GRADE, "award of grade 0");
}

static void test_check_codes_and_dates(void **state) {
    (void)state;
    xs_record_t rec;
    const char *const *lecture = s_categories[0].pairs;
    xs_reason why;

    /* Unknown category: refused as text, and as a code from a newer sender. */
    s_build(&rec, lecture, "category");
    assert_int_equal(s_set(&rec, XS_F_CATEGORY, "sermon"), XS_REASON_UNKNOWN_CATEGORY);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_CATEGORY, "category refused");
    rec.present |= 1u << XS_F_CATEGORY;
    rec.category = XS_CAT_COUNT;
    s_expect_check(&rec, XS_REASON_UNKNOWN_CATEGORY, XS_F_CATEGORY, "category 11");
    rec.category = 0;
    s_expect_check(&rec, XS_REASON_UNKNOWN_CATEGORY, XS_F_CATEGORY, "category 0");

    /* Enumeration codes beyond the tables. */
    static const struct {
        xs_field f;
        size_t offset;
        uint8_t code;
        size_t category; /* index in s_categories of one that uses the field */
    } codes[] = {
        {XS_F_ROLE, offsetof(xs_record_t, role), XS_ROLE_COUNT, 0},
        {XS_F_LEVEL, offsetof(xs_record_t, level), XS_LEVEL_COUNT, 7},
        {XS_F_GRADE, offsetof(xs_record_t, grade), XS_GRADE_COUNT, 7},
        {XS_F_UNIT, offsetof(xs_record_t, unit), 2, 6},
    };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        s_build(&rec, s_categories[codes[i].category].pairs, NULL);
        ((uint8_t *)&rec)[codes[i].offset] = codes[i].code;
        rec.present |= 1u << codes[i].f;
        s_expect_check(&rec, XS_REASON_BAD_VALUE, codes[i].f, xs_field_name(codes[i].f));
        /* The same code on a category that does not use the field is ignored. */
        s_build(&rec, s_categories[4].pairs, NULL);
        ((uint8_t *)&rec)[codes[i].offset] = codes[i].code;
        rec.present |= 1u << codes[i].f;
        s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, xs_field_name(codes[i].f));
    }
    s_build(&rec, lecture, NULL);
    assert_int_equal(rec.version, 1);
    rec.version = 2;
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "version 2");
    rec.version = 3;
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "version 3");
    rec.version = 4;
    s_expect_check(&rec, XS_REASON_BAD_VALUE, XS_F_VERSION, "version 4");
    rec.version = 0;
    s_expect_check(&rec, XS_REASON_BAD_VALUE, XS_F_VERSION, "version 0");

    /* Dates: a bad day never becomes a record; the range is 1970-01-01..2149-12-31. */
    s_build(&rec, lecture, "date");
    assert_int_equal(xs_record_set_text(&rec, XS_F_DATE, "2025-02-29", 10, &why), XS_EINVAL);
    assert_int_equal(why, XS_REASON_BAD_DATE);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_DATE, "2025-02-29");
    static const char *const good[] = {"2024-02-29", "1970-01-01", "2149-12-31", "2000-02-29"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        s_build(&rec, lecture, "date");
        assert_int_equal(s_set(&rec, XS_F_DATE, good[i]), XS_REASON_NONE);
        s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, good[i]);
    }
    s_build(&rec, lecture, NULL);
    rec.date = -1;
    s_expect_check(&rec, XS_REASON_BAD_DATE, XS_F_DATE, "day -1");
    rec.date = xs_date_from_civil(2150, 1, 1);
    s_expect_check(&rec, XS_REASON_BAD_DATE, XS_F_DATE, "2150-01-01");

    /* A required string that is present but empty counts as missing. */
    s_build(&rec, lecture, NULL);
    rec.teacher_id.len = 0;
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_TEACHER_ID, "empty teacher_id");
    s_build(&rec, s_categories[9].pairs, NULL);
    rec.event.len = 0;
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_EVENT, "exam with empty event");
}

/* Revision 2 (credit-rules §6.5-§6.7): unit designs, projects and online training's level. */
static void test_check_revision_2(void **state) {
    (void)state;
    static const char *const unit_design[] = {"teacher_id=T1",
                                              "date=2025-03-12",
                                              "category=teaching_design",
                                              "unit=1",
                                              "work=分数的初步认识",
                                              "lessons=4",
                                              NULL};
    xs_record_t rec;

    /* A unit design is registered with its title and its lessons (§6.6). */
    s_build(&rec, unit_design, NULL);
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "unit design");
    s_build(&rec, unit_design, "work");
    s_expect_check(&rec, XS_REASON_INCOMPLETE_UNIT, XS_F_WORK, "unit design without work");
    s_build(&rec, unit_design, NULL);
    rec.work.len = 0; /* decoded as "" */
    s_expect_check(&rec, XS_REASON_INCOMPLETE_UNIT, XS_F_WORK, "unit design, empty work");
    s_build(&rec, unit_design, "lessons");
    s_expect_check(&rec, XS_REASON_INCOMPLETE_UNIT, XS_F_LESSONS, "unit design without lessons");
    s_build(&rec, unit_design, "work");
    rec.present &= ~(1u << XS_F_LESSONS);
    s_expect_check(&rec, XS_REASON_INCOMPLETE_UNIT, XS_F_WORK, "unit design with neither");
    static const struct {
        const char *text;
        xs_reason reason;
    } lessons[] = {
        {"0", XS_REASON_OUT_OF_RANGE}, {"1", XS_REASON_OUT_OF_RANGE},   {"2", XS_REASON_NONE},
        {"100", XS_REASON_NONE},       {"101", XS_REASON_OUT_OF_RANGE},
    };
    for (size_t i = 0; i < sizeof lessons / sizeof *lessons; i++) {
        char what[64];
        s_build(&rec, unit_design, "lessons");
        assert_int_equal(s_set(&rec, XS_F_LESSONS, lessons[i].text), XS_REASON_NONE);
        snprintf(what, sizeof what, "unit design of %s lessons", lessons[i].text);
        s_expect_check(&rec, lessons[i].reason, XS_F_LESSONS, what);
    }
    /* Rule 8 comes before rule 9: a bad lesson count is reported before a missing title. */
    s_build(&rec, unit_design, "work");
    assert_int_equal(s_set(&rec, XS_F_LESSONS, "1"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_OUT_OF_RANGE, XS_F_LESSONS, "1 lesson, no work");
    /* A design that is not a unit design needs neither, and ignores lessons. */
    s_build(&rec, s_categories[6].pairs, NULL);
    assert_int_equal(s_set(&rec, XS_F_LESSONS, "1"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "design of 1 lesson, unit 0");

    /* A project needs its title, after its level and before the level's rank (§6.7). */
    enum { ONLINE = 2, PROJECT = 8 };
    s_build(&rec, s_categories[PROJECT].pairs, "work");
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_WORK, "project without work");
    s_build(&rec, s_categories[PROJECT].pairs, NULL);
    rec.work.len = 0;
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_WORK, "project, empty work");
    s_build(&rec, s_categories[PROJECT].pairs, "work");
    rec.present &= ~(1u << XS_F_LEVEL);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_LEVEL, "project with neither");
    s_build(&rec, s_categories[PROJECT].pairs, "work");
    assert_int_equal(s_set(&rec, XS_F_LEVEL, "school"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_WORK, "school project without work");
    s_build(&rec, s_categories[PROJECT].pairs, "work");
    assert_int_equal(s_set(&rec, XS_F_ROLE, "speaker"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_WORK, "speaker's project without work");

    /* Online training takes an optional level (§6.5), checked as an enumeration. */
    s_expect_value(ONLINE, XS_F_LEVEL, "county", XS_REASON_NONE);
    s_expect_value(ONLINE, XS_F_LEVEL, "school", XS_REASON_NONE);
    s_expect_value(ONLINE, XS_F_LEVEL, "national", XS_REASON_NONE);
    s_build(&rec, s_categories[ONLINE].pairs, NULL);
    rec.level = XS_LEVEL_COUNT;
    rec.present |= 1u << XS_F_LEVEL;
    s_expect_check(&rec, XS_REASON_BAD_VALUE, XS_F_LEVEL, "online training of level 6");

    assert_string_equal(xs_reason_code(XS_REASON_INCOMPLETE_UNIT), "incomplete_unit");
    assert_string_equal(xs_reason_zh(XS_REASON_INCOMPLETE_UNIT), "单元教学设计须登记题目和课时数");
    assert_int_equal(XS_REASON_INCOMPLETE_UNIT, 17);
}

/* lessons as text, and the version the encoder writes (records.md §4.1, §9). */
static void test_lessons_and_versions(void **state) {
    (void)state;
    xs_record_t rec, back;
    xs_writer_t w;
    xs_record_init(&rec);
    assert_int_equal(rec.version, XS_RECORD_VERSION_FIRST);
    assert_int_equal(s_set(&rec, XS_F_LESSONS, " 12 "), XS_REASON_NONE);
    assert_int_equal(rec.lessons, 12);
    assert_int_equal(rec.version, 2);
    static const char *const refused[] = {"4.0", "-1", "+4", "4294967296", "四"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        xs_record_init(&rec);
        if (s_set(&rec, XS_F_LESSONS, refused[i]) != XS_REASON_BAD_VALUE)
            fail_msg("lessons=\"%s\" accepted", refused[i]);
        assert_false((rec.present >> XS_F_LESSONS) & 1u);
        assert_int_equal(rec.version, 1);
    }
    xs_record_init(&rec);
    assert_int_equal(s_set(&rec, XS_F_LESSONS, "4294967295"), XS_REASON_NONE);
    assert_true(rec.lessons == UINT32_MAX);

    /* The lowest version that carries the record, whatever rec.version says. */
    static const char *const unit_design[] = {"teacher_id=T1",
                                              "date=2025-03-12",
                                              "category=teaching_design",
                                              "unit=1",
                                              "work=分数的初步认识",
                                              "lessons=4",
                                              NULL};
    s_build(&rec, unit_design, NULL);
    rec.version = 1;
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    assert_int_equal(w.data[1], 0x00); /* key 0 */
    assert_int_equal(w.data[2], 0x02); /* version 2 */
    assert_int_equal(xs_record_decode_bytes(w.data, w.len, &back), XS_OK);
    assert_int_equal(back.version, 2);
    assert_int_equal(back.lessons, 4);
    xs_writer_free(&w);
    s_build(&rec, unit_design, "lessons");
    rec.version = 2;
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    assert_int_equal(w.data[2], 0x01);
    assert_int_equal(xs_record_decode_bytes(w.data, w.len, &back), XS_OK);
    assert_int_equal(back.version, 1);
    xs_writer_free(&w);

    /* Decoding: key 22 from version 2 on; versions other than 1..3 unsupported. */
    static const uint8_t v1_lessons[] = {0x82, 0x00, 0x01, 0x16, 0x04};
    static const uint8_t v2_lessons[] = {0x82, 0x00, 0x02, 0x16, 0x04};
    static const uint8_t v4[] = {0x81, 0x00, 0x04};
    static const uint8_t v255_lessons[] = {0x82, 0x00, 0xcc, 0xff, 0x16, 0x04};
    assert_int_equal(xs_record_decode_bytes(v1_lessons, sizeof v1_lessons, &back), XS_EMALFORMED);
    assert_int_equal(xs_record_decode_bytes(v2_lessons, sizeof v2_lessons, &back), XS_OK);
    assert_int_equal(back.lessons, 4);
    assert_int_equal(xs_record_decode_bytes(v4, sizeof v4, &back), XS_EVERSION);
    assert_int_equal(xs_record_decode_bytes(v255_lessons, sizeof v255_lessons, &back), XS_EVERSION);
    assert_string_equal(xs_field_name(XS_F_LESSONS), "lessons");
    assert_int_equal(xs_field_parse("lessons", 7), XS_F_LESSONS);
}

/* Categories a policy defines (codes 11..255) are judged by their rule (policy.md §2). */
static void test_check_rule(void **state) {
    (void)state;
    static const char *const base[] = {"teacher_id=T1", "date=2025-03-12", NULL};
    xs_record_t rec;
    xs_field field;
    s_build(&rec, base, NULL);
    rec.category = 42;
    rec.present |= 1u << XS_F_CATEGORY;
    s_expect_check(&rec, XS_REASON_UNKNOWN_CATEGORY, XS_F_CATEGORY, "category 42, no policy");
    assert_int_equal(xs_record_check_rule(&rec, XS_RULE_BUILTIN, &field),
                     XS_REASON_UNKNOWN_CATEGORY);
    assert_int_equal(field, XS_F_CATEGORY);
    assert_int_equal(xs_record_check_rule(&rec, XS_RULE_COUNT, &field), XS_REASON_UNKNOWN_CATEGORY);
    assert_int_equal(field, XS_F_CATEGORY);
    assert_int_equal(xs_record_check_rule(&rec, XS_RULE_FIXED, &field), XS_REASON_NONE);

    static const struct {
        unsigned rule;
        xs_field f;
        const char *good, *low, *high;
    } rules[] = {
        {XS_RULE_MINUTES, XS_F_MINUTES, "90", "0", "1441"},
        {XS_RULE_HOURS, XS_F_HOURS, "12.5", "0", "1000.01"},
        {XS_RULE_DAYS, XS_F_DAYS, "2.5", "0", "365.5"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        const char *texts[3] = {rules[i].good, rules[i].low, rules[i].high};
        s_build(&rec, base, NULL);
        rec.category = 11 + (uint8_t)i;
        rec.present |= 1u << XS_F_CATEGORY;
        assert_int_equal(xs_record_check_rule(&rec, rules[i].rule, &field),
                         XS_REASON_MISSING_FIELD);
        assert_int_equal(field, rules[i].f);
        for (size_t k = 0; k < 3; k++) {
            assert_int_equal(s_set(&rec, rules[i].f, texts[k]), XS_REASON_NONE);
            xs_reason want = k == 0 ? XS_REASON_NONE : XS_REASON_OUT_OF_RANGE;
            assert_int_equal(xs_record_check_rule(&rec, rules[i].rule, &field), want);
            if (want != XS_REASON_NONE)
                assert_int_equal(field, rules[i].f);
        }
        /* A fixed rule needs none of them, and ignores them out of range. */
        assert_int_equal(xs_record_check_rule(&rec, XS_RULE_FIXED, &field), XS_REASON_NONE);
    }
    /* Fields the rule does not use are ignored; the common rules still apply. */
    s_build(&rec, base, NULL);
    rec.category = 255;
    rec.present |= 1u << XS_F_CATEGORY;
    assert_int_equal(s_set(&rec, XS_F_MINUTES, "90"), XS_REASON_NONE);
    assert_int_equal(s_set(&rec, XS_F_HOURS, "0"), XS_REASON_NONE);
    rec.role = 200;
    rec.present |= 1u << XS_F_ROLE;
    assert_int_equal(xs_record_check_rule(&rec, XS_RULE_MINUTES, &field), XS_REASON_NONE);
    rec.date = -1;
    assert_int_equal(xs_record_check_rule(&rec, XS_RULE_MINUTES, &field), XS_REASON_BAD_DATE);
    assert_int_equal(field, XS_F_DATE);
    rec.date = 20159;
    rec.category = 0;
    assert_int_equal(xs_record_check_rule(&rec, XS_RULE_FIXED, &field), XS_REASON_UNKNOWN_CATEGORY);

    /* A rule given for a built-in code is ignored: the lecture still needs its minutes. */
    s_build(&rec, s_categories[0].pairs, "minutes");
    assert_int_equal(xs_record_check_rule(&rec, XS_RULE_FIXED, &field), XS_REASON_MISSING_FIELD);
    assert_int_equal(field, XS_F_MINUTES);
    assert_int_equal(xs_record_check_rule(&rec, XS_RULE_COUNT + 7, &field),
                     XS_REASON_MISSING_FIELD);
}

static void test_check_corrections(void **state) {
    (void)state;
    xs_record_t rec;
    xs_record_init(&rec);
    rec.kind = XS_KIND_CORRECTION;
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_VOIDS, "correction without voids");
    assert_int_equal(s_set(&rec, XS_F_VOIDS, "17"), XS_REASON_NONE);
    assert_int_equal(s_set(&rec, XS_F_NOTE, "误录：教师编号写错"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "correction of seq 17");
    rec.kind = 2;
    s_expect_check(&rec, XS_REASON_BAD_VALUE, XS_F_KIND, "kind 2");

    /* The kind key is written only for a correction. */
    xs_writer_t w;
    xs_record_t back;
    xs_writer_init(&w, XS_RECORD_MAX);
    rec.kind = XS_KIND_CORRECTION;
    xs_record_encode(&rec, &w);
    assert_int_equal(xs_record_decode_bytes(w.data, w.len, &back), XS_OK);
    assert_int_equal(back.kind, XS_KIND_CORRECTION);
    assert_true(back.voids == 17);
    xs_writer_free(&w);
}

static void test_names(void **state) {
    (void)state;
    for (unsigned c = 1; c < XS_CAT_COUNT; c++) {
        const char *name = xs_category_name(c);
        assert_non_null(name);
        assert_non_null(xs_category_zh(c));
        assert_int_equal(xs_category_parse(name, strlen(name)), (int)c);
    }
    assert_null(xs_category_name(0));
    assert_null(xs_category_name(XS_CAT_COUNT));
    assert_null(xs_category_zh(XS_CAT_COUNT));
    assert_int_equal(xs_category_parse("", 0), -1);
    assert_string_equal(xs_category_zh(XS_CAT_PAPER), "论文");
    for (unsigned f = 0; f < XS_F_COUNT; f++) {
        const char *name = xs_field_name((xs_field)f);
        assert_non_null(name);
        assert_int_equal(xs_field_parse(name, strlen(name)), (int)f);
    }
    assert_null(xs_field_name(XS_F_COUNT));
    assert_string_equal(xs_role_name(XS_ROLE_MAIN_WRITER), "main_writer");
    assert_string_equal(xs_level_name(XS_LEVEL_NATIONAL), "national");
    assert_string_equal(xs_grade_name(XS_GRADE_PUBLISHED), "published");
    assert_null(xs_role_name(XS_ROLE_COUNT));
    assert_null(xs_level_name(XS_LEVEL_COUNT));
    assert_null(xs_grade_name(XS_GRADE_COUNT));
    for (unsigned r = 1; r < XS_REASON_COUNT; r++) {
        assert_true(strlen(xs_reason_code((xs_reason)r)) > 0);
        assert_true(strlen(xs_reason_zh((xs_reason)r)) > 0);
        for (unsigned q = 1; q < r; q++)
            assert_string_not_equal(xs_reason_code((xs_reason)r), xs_reason_code((xs_reason)q));
    }
    assert_string_equal(xs_reason_code(XS_REASON_NONE), "");
    assert_string_equal(xs_reason_code(XS_REASON_COUNT), "");
    assert_string_equal(xs_reason_code(XS_REASON_BAD_AWARD), "bad_award");
}

/* Every field at its limit: the largest record stays far below XS_RECORD_MAX. */
static void test_largest_record(void **state) {
    (void)state;
    static char text[XS_NOTE_MAX];
    memset(text, 'x', sizeof text);
    xs_record_t rec, back;
    xs_record_init(&rec);
    rec.kind = XS_KIND_REVIEW; /* every key: only a review carries 23 and 24 */
    rec.present = (1u << XS_F_COUNT) - 1;
    rec.reviews = UINT64_MAX;
    rec.verdict = UINT8_MAX;
    rec.date = INT32_MIN;
    rec.minutes = rec.hours = rec.days = rec.chars = rec.score = UINT32_MAX;
    rec.category = rec.role = rec.level = rec.grade = rec.unit = UINT8_MAX;
    rec.recorded_at = INT64_MIN;
    rec.voids = UINT64_MAX;
    rec.teacher_id = rec.school_id = rec.operator_ = (xs_str_t){text, XS_ID_MAX};
    rec.work = (xs_str_t){text, XS_WORK_MAX};
    rec.event = (xs_str_t){text, XS_EVENT_MAX};
    rec.note = (xs_str_t){text, XS_NOTE_MAX};
    rec.ref = (xs_str_t){text, XS_REF_MAX};
    xs_writer_t w;
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    print_message("largest record: %zu bytes\n", w.len);
    assert_true(w.len < 2300);
    assert_int_equal(xs_record_decode_bytes(w.data, w.len, &back), XS_OK);
    assert_int_equal(back.present, rec.present);
    assert_true(back.voids == UINT64_MAX && back.recorded_at == INT64_MIN);
    assert_int_equal(back.date, INT32_MIN);
    assert_int_equal(back.note.len, XS_NOTE_MAX);

    /* A writer too small for it fails, once, with XS_ETOOBIG. */
    xs_writer_t small;
    xs_writer_init(&small, 100);
    xs_record_encode(&rec, &small);
    assert_int_equal(xs_writer_err(&small), XS_ETOOBIG);
    assert_true(small.len <= 100);
    xs_writer_free(&small);

    /* Buffers over XS_RECORD_MAX are refused before they are read. */
    static uint8_t big[XS_RECORD_MAX + 1];
    memcpy(big, w.data, w.len);
    assert_int_equal(xs_record_decode_bytes(big, sizeof big, &back), XS_ETOOBIG);
    assert_int_equal(xs_record_decode_bytes(big, XS_RECORD_MAX, &back), XS_EMALFORMED);
    xs_writer_free(&w);
}

/* A review (kind 2, version 3): what it needs, the version it is written in, and the keys no
 * other record may hold (records.md §3.1, §5 rule 10, §6 rule 3). */
static void test_reviews(void **state) {
    (void)state;
    xs_record_t rec, back;
    xs_writer_t w;
    xs_record_init(&rec);
    rec.kind = XS_KIND_REVIEW;
    rec.verdict = XS_VERDICT_APPROVED;
    rec.present |= 1u << XS_F_VERDICT;
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_TEACHER_ID, "review without teacher");
    assert_int_equal(s_set(&rec, XS_F_TEACHER_ID, "T0001"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_SCHOOL_ID, "review without school");
    assert_int_equal(s_set(&rec, XS_F_SCHOOL_ID, "S01"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_DATE, "review without date");
    assert_int_equal(s_set(&rec, XS_F_DATE, "2025-03-19"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_REVIEWS, "review without reviews");
    rec.reviews = 17;
    rec.present |= 1u << XS_F_REVIEWS;
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "approved review");
    rec.verdict = XS_VERDICT_RETURNED;
    s_expect_check(&rec, XS_REASON_MISSING_FIELD, XS_F_NOTE, "returned without a reason");
    assert_int_equal(s_set(&rec, XS_F_NOTE, "证书学时与登记不符"), XS_REASON_NONE);
    s_expect_check(&rec, XS_REASON_NONE, XS_F_VERSION, "returned review");
    rec.verdict = XS_VERDICT_NONE;
    s_expect_check(&rec, XS_REASON_BAD_VALUE, XS_F_VERDICT, "verdict 0");
    rec.verdict = XS_VERDICT_RETURNED;

    /* Written as version 3 whatever rec.version says, and read back whole. */
    assert_int_equal(rec.version, 1);
    xs_writer_init(&w, XS_RECORD_MAX);
    xs_record_encode(&rec, &w);
    assert_int_equal(xs_writer_err(&w), XS_OK);
    assert_int_equal(w.data[2], 0x03);
    assert_int_equal(xs_record_decode_bytes(w.data, w.len, &back), XS_OK);
    assert_int_equal(back.version, 3);
    assert_int_equal(back.kind, XS_KIND_REVIEW);
    assert_true(back.reviews == 17);
    assert_int_equal(back.verdict, XS_VERDICT_RETURNED);
    assert_int_equal(back.note.len, strlen("证书学时与登记不符"));
    xs_writer_free(&w);

    /* Users never type a review's keys: the program writes them (records.md §9). */
    xs_reason why;
    assert_int_equal(xs_record_set_text(&rec, XS_F_REVIEWS, "3", 1, &why), XS_EINVAL);
    assert_int_equal(why, XS_REASON_BAD_VALUE);
    assert_int_equal(xs_record_set_text(&rec, XS_F_VERDICT, "1", 1, &why), XS_EINVAL);
    assert_string_equal(xs_field_name(XS_F_REVIEWS), "reviews");
    assert_string_equal(xs_field_name(XS_F_VERDICT), "verdict");
    assert_int_equal(xs_field_parse("verdict", 7), XS_F_VERDICT);

    /* An activity given a review's key is refused by validation, never written. */
    static const char *const lecture[] = {"teacher_id=T1", "date=2025-03-12", "category=lecture",
                                          "minutes=90", NULL};
    s_build(&rec, lecture, NULL);
    rec.reviews = 3;
    rec.present |= 1u << XS_F_REVIEWS;
    s_expect_check(&rec, XS_REASON_BAD_VALUE, XS_F_REVIEWS, "reviews in an activity");
    rec.present &= ~(1u << XS_F_REVIEWS);
    rec.present |= 1u << XS_F_VERDICT;
    s_expect_check(&rec, XS_REASON_BAD_VALUE, XS_F_VERDICT, "verdict in an activity");

    /* Keys 23 and 24 decode only in version 3, and only in a review. */
    static const uint8_t v2_verdict[] = {0x83, 0x00, 0x02, 0x01, 0x02, 0x18, 0x01};
    static const uint8_t v3_review[] = {0x83, 0x00, 0x03, 0x01, 0x02, 0x18, 0x01};
    static const uint8_t v3_activity[] = {0x82, 0x00, 0x03, 0x17, 0x05};
    static const uint8_t v3_correction[] = {0x84, 0x00, 0x03, 0x01, 0x01, 0x15, 0x02, 0x17, 0x05};
    assert_int_equal(xs_record_decode_bytes(v2_verdict, sizeof v2_verdict, &back), XS_EMALFORMED);
    assert_int_equal(xs_record_decode_bytes(v3_review, sizeof v3_review, &back), XS_OK);
    assert_int_equal(xs_record_decode_bytes(v3_activity, sizeof v3_activity, &back), XS_EMALFORMED);
    assert_int_equal(xs_record_decode_bytes(v3_correction, sizeof v3_correction, &back),
                     XS_EMALFORMED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_complete),
        cmocka_unit_test(test_vectors_decode),
        cmocka_unit_test(test_vectors_encode),
        cmocka_unit_test(test_vectors_stream),
        cmocka_unit_test(test_vectors_certify),
        cmocka_unit_test(test_typical_lecture),
        cmocka_unit_test(test_set_text_numbers),
        cmocka_unit_test(test_set_text_names_and_strings),
        cmocka_unit_test(test_check_required_fields),
        cmocka_unit_test(test_check_optional_alternatives),
        cmocka_unit_test(test_check_ranges),
        cmocka_unit_test(test_check_roles_levels_papers),
        cmocka_unit_test(test_check_codes_and_dates),
        cmocka_unit_test(test_check_revision_2),
        cmocka_unit_test(test_lessons_and_versions),
        cmocka_unit_test(test_check_rule),
        cmocka_unit_test(test_check_corrections),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_largest_record),
        cmocka_unit_test(test_reviews),
    };
    return cmocka_run_group_tests_name("record", tests, s_vectors_setup, s_vectors_teardown);
}
