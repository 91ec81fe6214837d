/* test_year: the closed year's signed documents (schema/year.md): round trips of the year
 * document, an amendment and a finalization; a flipped byte, another hub, hostile bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "xs/certify.h"
#include "xs/codec.h"
#include "xs/identity.h"
#include "xs/standing.h"
#include "xs/year.h"

static xs_identity_t *s_key(uint8_t fill) {
    uint8_t seed[32];
    xs_identity_t *id = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(xs_identity_from_seed(&id, seed), XS_OK);
    return id;
}

static xs_str_t s_str(const char *s) {
    xs_str_t out = {s, (uint32_t)strlen(s)};
    return out;
}

static const xs_year_total_t s_totals[] = {
    {.credited_seconds = 180000,
     .required_seconds = 259200,
     .scope = XS_SCOPE_YEAR,
     .met = XS_MET_NO,
     .binding = 1,
     .unreviewed = 2},
    {.credited_seconds = 7200, .scope = XS_SCOPE_YEAR, .bucket = 1},
    {.credited_seconds = 90000,
     .required_seconds = 43200,
     .scope = XS_SCOPE_SEMESTER,
     .semester = 1,
     .met = XS_MET_YES,
     .binding = 1},
    {.credited_seconds = 900000,
     .required_seconds = 1296000,
     .scope = XS_SCOPE_CYCLE,
     .bucket = 15,
     .met = XS_MET_NO},
};
static const xs_year_role_t s_roles[] = {
    {.role = 0,
     .judged = 1,
     .met = XS_MET_NO,
     .credited_seconds = 360000,
     .required_seconds = 432000},
    {.role = 3,
     .judged = 0,
     .met = XS_MET_YES,
     .credited_seconds = 720000,
     .required_seconds = 648000,
     .part_seconds = 216000,
     .part_required = 216000},
};

/* Three teachers: judged with totals and roles, exempt, and not on the roster. */
static void s_rows(xs_year_row_t rows[3]) {
    memset(rows, 0, 3 * sizeof *rows);
    rows[0] = (xs_year_row_t){.teacher_id = s_str("S1-T0001"),
                              .name = s_str("张三"),
                              .school_id = s_str("S1"),
                              .state = XS_STANDING_CERTIFIED,
                              .met = XS_MET_NO,
                              .why = XS_STANDING_WHY_HOURS | XS_STANDING_WHY_ROLE,
                              .final = 0,
                              .credited_seconds = 187200,
                              .total_count = 4,
                              .totals = s_totals,
                              .role_count = 2,
                              .roles = s_roles};
    rows[1] = (xs_year_row_t){.teacher_id = s_str("S1-T0002"),
                              .name = s_str("李四"),
                              .school_id = s_str("S1"),
                              .state = XS_STANDING_EXEMPT,
                              .final = 1};
    rows[2] = (xs_year_row_t){.teacher_id = s_str("X-9"),
                              .state = XS_STANDING_UNROSTERED,
                              .met = XS_MET_YES,
                              .final = 1,
                              .credited_seconds = 1,
                              .total_count = 1,
                              .totals = s_totals + 1};
}

static void s_doc(xs_year_doc_t *doc, const xs_year_row_t *rows, size_t n) {
    memset(doc, 0, sizeof *doc);
    doc->year = 2025;
    doc->policy_id = s_str("wenzhou");
    doc->policy_version = 3;
    memset(doc->policy_hash, 0x11, 32);
    doc->roster_version = 2;
    memset(doc->roster_hash, 0x22, 32);
    doc->closed_at = 1782864000;
    doc->notice_until = 1782864000 + 5 * 86400;
    doc->record_count = 17;
    memset(doc->records_hash, 0x33, 32);
    doc->rows = rows;
    doc->row_count = n;
}

static void s_same_str(xs_str_t a, xs_str_t b) {
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

static void s_same_rows(const xs_year_row_t *a, const xs_year_row_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        s_same_str(a[i].teacher_id, b[i].teacher_id);
        s_same_str(a[i].name, b[i].name);
        s_same_str(a[i].school_id, b[i].school_id);
        assert_int_equal(a[i].state, b[i].state);
        assert_int_equal(a[i].met, b[i].met);
        assert_int_equal(a[i].why, b[i].why);
        assert_int_equal(a[i].final, b[i].final);
        assert_int_equal(a[i].credited_seconds, b[i].credited_seconds);
        assert_int_equal(a[i].total_count, b[i].total_count);
        if (a[i].total_count)
            assert_memory_equal(a[i].totals, b[i].totals, a[i].total_count * sizeof *a[i].totals);
        assert_int_equal(a[i].role_count, b[i].role_count);
        if (a[i].role_count)
            assert_memory_equal(a[i].roles, b[i].roles, a[i].role_count * sizeof *a[i].roles);
    }
}

/* The body of an envelope. */
static void s_body(const xs_writer_t *env, const uint8_t **body, size_t *len) {
    const uint8_t *sig;
    assert_int_equal(xs_codec_split_envelope(env->data, env->len, body, len, &sig, 64), XS_OK);
}

static void test_doc_round_trip(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(0x51);
    const uint8_t *key = xs_identity_public(hub)->sign;
    xs_year_row_t rows[3];
    xs_year_doc_t doc, got;
    xs_writer_t env;
    const uint8_t *body;
    size_t body_len;
    uint8_t hash[32];
    s_rows(rows);
    s_doc(&doc, rows, 3);
    xs_writer_init(&env, XS_YEAR_MAX_BYTES);
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_OK);
    s_body(&env, &body, &body_len);
    xs_year_hash(body, body_len, hash);
    assert_memory_equal(doc.hash, hash, 32);

    assert_int_equal(xs_year_open(env.data, env.len, key, &got), XS_OK);
    assert_memory_equal(got.hub, key, 32);
    assert_memory_equal(got.hash, hash, 32);
    assert_int_equal(got.year, 2025);
    s_same_str(got.policy_id, doc.policy_id);
    assert_int_equal(got.policy_version, 3);
    assert_memory_equal(got.policy_hash, doc.policy_hash, 32);
    assert_int_equal(got.roster_version, 2);
    assert_memory_equal(got.roster_hash, doc.roster_hash, 32);
    assert_int_equal(got.closed_at, doc.closed_at);
    assert_int_equal(got.notice_until, doc.notice_until);
    assert_int_equal(got.record_count, 17);
    assert_memory_equal(got.records_hash, doc.records_hash, 32);
    assert_int_equal(got.row_count, 3);
    s_same_rows(rows, got.rows, 3);
    /* Lookup by teacher, in byte order. */
    const xs_year_row_t *r = xs_year_find(got.rows, got.row_count, "S1-T0002", 8);
    assert_non_null(r);
    assert_int_equal(r->state, XS_STANDING_EXEMPT);
    assert_null(xs_year_find(got.rows, got.row_count, "S1-T000", 7));
    assert_null(xs_year_find(got.rows, got.row_count, "Z", 1));
    assert_non_null(xs_year_find(got.rows, got.row_count, "X-9", 3));
    /* Signing the opened document again gives the same bytes. */
    xs_writer_t again;
    xs_writer_init(&again, XS_YEAR_MAX_BYTES);
    assert_int_equal(xs_year_sign(&again, hub, &got), XS_OK);
    assert_int_equal(again.len, env.len);
    assert_memory_equal(again.data, env.data, env.len);
    xs_writer_free(&again);
    xs_year_doc_free(&got);
    xs_year_doc_free(&got); /* a zeroed doc frees to nothing */
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
}

/* Every single flipped bit, and every truncation, is refused; nothing opens but the whole. */
static void test_doc_tampered(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(0x51);
    const uint8_t *key = xs_identity_public(hub)->sign;
    xs_year_row_t rows[3];
    xs_year_doc_t doc, got;
    xs_writer_t env;
    s_rows(rows);
    s_doc(&doc, rows, 3);
    xs_writer_init(&env, XS_YEAR_MAX_BYTES);
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_OK);
    uint8_t *copy = malloc(env.len);
    assert_non_null(copy);
    for (size_t i = 0; i < env.len; i++) {
        memcpy(copy, env.data, env.len);
        copy[i] ^= 0x04;
        xs_err err = xs_year_open(copy, env.len, key, &got);
        assert_int_not_equal(err, XS_OK);
        assert_null(got.owned);
        assert_int_not_equal(xs_year_open(copy, env.len, NULL, &got), XS_OK);
    }
    for (size_t n = 0; n < env.len; n++)
        assert_int_not_equal(xs_year_open(env.data, n, key, &got), XS_OK);
    free(copy);
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
}

/* Another hub's document is refused when the county's key is given; opened without one, it
 * names its signer. A year document is not an amendment or a finalization. */
static void test_other_hub(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(0x51), *other = s_key(0x52);
    xs_year_row_t rows[3];
    xs_year_doc_t doc, got;
    xs_year_amend_t amend;
    xs_year_final_t final;
    xs_writer_t env;
    s_rows(rows);
    s_doc(&doc, rows, 3);
    xs_writer_init(&env, XS_YEAR_MAX_BYTES);
    assert_int_equal(xs_year_sign(&env, other, &doc), XS_OK);
    assert_int_equal(xs_year_open(env.data, env.len, xs_identity_public(hub)->sign, &got),
                     XS_ECRYPTO);
    assert_int_equal(xs_year_open(env.data, env.len, NULL, &got), XS_OK);
    assert_memory_equal(got.hub, xs_identity_public(other)->sign, 32);
    xs_year_doc_free(&got);
    assert_int_not_equal(xs_year_amend_open(env.data, env.len, NULL, &amend), XS_OK);
    assert_int_not_equal(xs_year_final_open(env.data, env.len, NULL, &final), XS_OK);
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
    xs_identity_destroy(&other);
}

/* What the signer refuses: rows out of order or twice, bad fields, a window ending before it
 * opens, a year out of range. */
static void test_sign_refuses(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(0x51);
    xs_year_row_t rows[3];
    xs_year_doc_t doc;
    xs_writer_t env;
    xs_writer_init(&env, XS_YEAR_MAX_BYTES);
    s_rows(rows);
    xs_year_row_t swapped[2] = {rows[1], rows[0]};
    s_doc(&doc, swapped, 2);
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_EINVAL);
    xs_year_row_t twice[2] = {rows[0], rows[0]};
    s_doc(&doc, twice, 2);
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_EINVAL);
    s_doc(&doc, rows, 3);
    rows[1].state = 3;
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_EINVAL);
    s_rows(rows);
    rows[2].teacher_id = s_str("");
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_EINVAL);
    s_rows(rows);
    rows[0].name = s_str("\xff\xfe");
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_EINVAL);
    s_rows(rows);
    doc.notice_until = doc.closed_at - 1;
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_EINVAL);
    s_doc(&doc, rows, 3);
    doc.year = 1900;
    assert_int_equal(xs_year_sign(&env, hub, &doc), XS_EINVAL);
    assert_int_equal(env.len, 0);
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
}

/* Signs a hand-written body under context with key. */
static void s_wrap(const xs_identity_t *key, const char *context, const xs_writer_t *body,
                   xs_writer_t *env) {
    size_t clen = strlen(context) + 1;
    uint8_t *signed_bytes = malloc(clen + body->len);
    uint8_t sig[64];
    assert_non_null(signed_bytes);
    memcpy(signed_bytes, context, clen);
    memcpy(signed_bytes + clen, body->data, body->len);
    xs_identity_sign(key, signed_bytes, clen + body->len, sig);
    free(signed_bytes);
    xs_writer_init(env, 1 << 20);
    xs_codec_put_array(env, 2);
    xs_codec_put_bin(env, body->data, body->len);
    xs_codec_put_bin(env, sig, 64);
}

/* Validly signed but hostile bodies: another format, a count the bytes cannot hold, a row
 * array claiming a million rows, trailing bytes. Each is refused, nothing leaks (ASan). */
static void test_hostile_bodies(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(0x51);
    const uint8_t *key = xs_identity_public(hub)->sign;
    uint8_t hash[32] = {0};
    xs_writer_t body, env;
    xs_year_doc_t got;

    for (unsigned variant = 0; variant < 6; variant++) {
        xs_writer_init(&body, 1 << 20);
        xs_codec_put_array(&body, 13);
        xs_codec_put_uint(&body, variant == 0 ? 2 : 1);
        xs_codec_put_bin(&body, key, 32);
        xs_codec_put_int(&body, 2025);
        xs_codec_put_str(&body, "p", 1);
        xs_codec_put_uint(&body, 1);
        xs_codec_put_bin(&body, hash, 32);
        xs_codec_put_uint(&body, 0);
        xs_codec_put_bin(&body, hash, 32);
        xs_codec_put_int(&body, 10);
        xs_codec_put_int(&body, variant == 5 ? 9 : 10);
        xs_codec_put_uint(&body, 0);
        xs_codec_put_bin(&body, hash, 32);
        if (variant == 1) {
            xs_writer_raw(&body, "\xdd\x00\x0f\x42\x40", 5); /* 1,000,000 rows, none there */
        } else if (variant == 2) {
            /* One row whose totals claim 65. */
            xs_codec_put_array(&body, 1);
            xs_codec_put_array(&body, 10);
            xs_codec_put_str(&body, "T", 1);
            xs_codec_put_str(&body, "", 0);
            xs_codec_put_str(&body, "", 0);
            for (int k = 0; k < 5; k++)
                xs_codec_put_uint(&body, 0);
            xs_codec_put_array(&body, 65);
            for (int k = 0; k < 65; k++) {
                xs_codec_put_array(&body, 8);
                for (int f = 0; f < 8; f++)
                    xs_codec_put_uint(&body, 0);
            }
            xs_codec_put_array(&body, 0);
        } else {
            xs_codec_put_array(&body, 0);
        }
        if (variant == 3)
            xs_codec_put_nil(&body); /* trailing */
        s_wrap(hub, "xueshi-year-1", &body, &env);
        xs_err err = xs_year_open(env.data, env.len, key, &got);
        if (variant == 0)
            assert_int_equal(err, XS_EVERSION);
        else if (variant == 4)
            assert_int_equal(err, XS_OK); /* the baseline: an empty year opens */
        else
            assert_int_equal(err, XS_EMALFORMED);
        assert_int_equal(got.row_count, variant == 4 ? 0 : 0);
        xs_year_doc_free(&got);
        xs_writer_free(&env);
        xs_writer_free(&body);
    }
    /* Over the size limit before anything is read. */
    assert_int_equal(xs_year_open("", XS_YEAR_MAX_BYTES + 1, key, &got), XS_ETOOBIG);
    xs_identity_destroy(&hub);
}

static void test_amend_round_trip(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(0x51);
    const uint8_t *key = xs_identity_public(hub)->sign;
    xs_year_row_t rows[3];
    xs_year_entry_t entries[2];
    xs_year_amend_t amend, got;
    xs_writer_t env;
    s_rows(rows);
    memset(entries, 0, sizeof entries);
    memset(entries[0].origin, 0x01, 32);
    entries[0].seq = 7;
    entries[0].teacher_id = s_str("S1-T0001");
    entries[0].category = 4;
    entries[0].date = 20300;
    entries[0].seconds = 7200;
    entries[0].note = s_str("late 补录");
    memset(entries[1].origin, 0x01, 32);
    entries[1].seq = 9;
    entries[1].teacher_id = s_str("X-9");
    entries[1].category = 11;
    entries[1].date = -3;
    entries[1].frozen_seconds = 3600;
    entries[1].seconds = 0;
    memset(&amend, 0, sizeof amend);
    amend.year = 2025;
    memset(amend.closed_hash, 0x77, 32);
    amend.number = 2;
    amend.issued_at = 1790000000;
    amend.entries = entries;
    amend.entry_count = 2;
    amend.rows = rows;
    amend.row_count = 3;
    xs_writer_init(&env, XS_YEAR_MAX_BYTES);
    assert_int_equal(xs_year_amend_sign(&env, hub, &amend), XS_OK);
    assert_int_equal(xs_year_amend_open(env.data, env.len, key, &got), XS_OK);
    assert_memory_equal(got.hash, amend.hash, 32);
    assert_int_equal(got.year, 2025);
    assert_memory_equal(got.closed_hash, amend.closed_hash, 32);
    assert_int_equal(got.number, 2);
    assert_int_equal(got.issued_at, 1790000000);
    assert_int_equal(got.entry_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_memory_equal(got.entries[i].origin, entries[i].origin, 32);
        assert_int_equal(got.entries[i].seq, entries[i].seq);
        s_same_str(got.entries[i].teacher_id, entries[i].teacher_id);
        assert_int_equal(got.entries[i].category, entries[i].category);
        assert_int_equal(got.entries[i].date, entries[i].date);
        assert_int_equal(got.entries[i].frozen_seconds, entries[i].frozen_seconds);
        assert_int_equal(got.entries[i].seconds, entries[i].seconds);
        s_same_str(got.entries[i].note, entries[i].note);
    }
    assert_int_equal(got.row_count, 3);
    s_same_rows(rows, got.rows, 3);
    /* A year document's context does not open as an amendment's. */
    xs_year_doc_t doc;
    assert_int_equal(xs_year_open(env.data, env.len, key, &doc), XS_EMALFORMED);
    xs_year_amend_free(&got);
    /* Entries out of order, and number 0, are refused. */
    xs_year_entry_t swapped[2] = {entries[1], entries[0]};
    amend.entries = swapped;
    xs_writer_reset(&env);
    assert_int_equal(xs_year_amend_sign(&env, hub, &amend), XS_EINVAL);
    amend.entries = entries;
    amend.number = 0;
    assert_int_equal(xs_year_amend_sign(&env, hub, &amend), XS_EINVAL);
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
}

static void test_final_round_trip(void **state) {
    (void)state;
    xs_identity_t *hub = s_key(0x51), *other = s_key(0x52);
    const uint8_t *key = xs_identity_public(hub)->sign;
    xs_year_objection_t obj[2] = {
        {1, s_str("S1-T0001"), 1782900000, s_str("漏登一次外出培训"), s_str("补认定处理"),
         1783000000},
        {3, s_str("S1-T0002"), 1782900100, s_str("x"), s_str("维持原认定 (upheld)"), 1783000001},
    };
    xs_year_final_t final, got;
    xs_writer_t env;
    memset(&final, 0, sizeof final);
    final.year = 2025;
    memset(final.closed_hash, 0x77, 32);
    final.finalized_at = 1783000002;
    final.objections = obj;
    final.objection_count = 2;
    xs_writer_init(&env, XS_YEAR_MAX_BYTES);
    assert_int_equal(xs_year_final_sign(&env, hub, &final), XS_OK);
    assert_int_equal(xs_year_final_open(env.data, env.len, key, &got), XS_OK);
    assert_memory_equal(got.hash, final.hash, 32);
    assert_int_equal(got.year, 2025);
    assert_int_equal(got.finalized_at, 1783000002);
    assert_int_equal(got.objection_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(got.objections[i].number, obj[i].number);
        s_same_str(got.objections[i].teacher_id, obj[i].teacher_id);
        assert_int_equal(got.objections[i].filed_at, obj[i].filed_at);
        s_same_str(got.objections[i].note, obj[i].note);
        s_same_str(got.objections[i].decision, obj[i].decision);
        assert_int_equal(got.objections[i].decided_at, obj[i].decided_at);
    }
    xs_year_final_free(&got);
    assert_int_equal(xs_year_final_open(env.data, env.len, xs_identity_public(other)->sign, &got),
                     XS_ECRYPTO);
    env.data[env.len / 2] ^= 0x80;
    assert_int_not_equal(xs_year_final_open(env.data, env.len, key, &got), XS_OK);
    /* An objection without a decision cannot be finalized. */
    obj[1].decision = s_str("");
    xs_writer_reset(&env);
    assert_int_equal(xs_year_final_sign(&env, hub, &final), XS_EINVAL);
    xs_writer_free(&env);
    xs_identity_destroy(&hub);
    xs_identity_destroy(&other);
}

static void test_parse_year(void **state) {
    (void)state;
    int y = 0;
    assert_int_equal(xs_year_parse("2025-2026", 9, &y), XS_OK);
    assert_int_equal(y, 2025);
    assert_int_equal(xs_year_parse("2025-2027", 9, &y), XS_EINVAL);
    assert_int_equal(xs_year_parse("2025/2026", 9, &y), XS_EINVAL);
    assert_int_equal(xs_year_parse("2025-202", 8, &y), XS_EINVAL);
    assert_int_equal(xs_year_parse("-025-2026", 9, &y), XS_EINVAL);
    assert_int_equal(xs_year_parse("1900-1901", 9, &y), XS_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_round_trip),   cmocka_unit_test(test_doc_tampered),
        cmocka_unit_test(test_other_hub),        cmocka_unit_test(test_sign_refuses),
        cmocka_unit_test(test_hostile_bodies),   cmocka_unit_test(test_amend_round_trip),
        cmocka_unit_test(test_final_round_trip), cmocka_unit_test(test_parse_year),
    };
    return cmocka_run_group_tests_name("year", tests, NULL, NULL);
}
