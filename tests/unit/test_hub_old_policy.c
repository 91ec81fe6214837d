/* test_hub_old_policy: a hub store written by the release before policy format 2. Its stored
 * policy is the previous release's golden blob (format 1, id g, version 2), put there through
 * hub_meta_put with an envelope the hub signed, over a store that holds a node's records. Every
 * command but `xueshi-hub policy` refuses it, says the policy is of an older format and names
 * `xueshi-hub policy --dir DIR --policy`, and changes nothing; `xueshi-hub policy` opens it,
 * refuses another id or a version not above 2, accepts g version 3, re-certifies everyone and
 * issues receipts; then hub_open, `report` and `xueshi-hub run` work again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scratch.h"
#include "hub.h"
#include "merge.h"
#include "xs/batch.h"
#include "xs/codec.h"
#include "xs/receipt.h"
#include "xs/record.h"

/* Bytes kept of a command's standard output and error. */
#define S_OUT_MAX (64 * 1024)
/* Teachers the node recorded for: T1..T<S_TEACHERS>, one activity each. */
#define S_TEACHERS 3
/* How long `xueshi-hub run` may take to start serving, in milliseconds. */
#define S_START_MS 10000

/* The previous release's golden policy blob (format 1: minutes, yearly caps; id g, version
 * 2), as tests/unit/test_policy.c held it before revision 2. */
static const char s_format_1_hex[] =
    "9cad7875657368692d706f6c69637901a16702a3e8af959409010201cd07e505dc001704cd01e03cccf0"
    "cd03e8ccf0cd0258cd0320ccf0cd07d0cd02d0cd01e0ccf0cd02d0cd0348cd03c0cd0960cd04b0cd0708"
    "cd0384ccb4783c9a000000000001010100009197a174a3e680bbcd0402003c0000c0";
#define S_FORMAT_1_LEN 118

/* A format-2 policy file of id ID and version VERSION. */
#define S_POLICY_INI(id, version)                                                                  \
    "[policy]\nid = " id "\nversion = " version "\nname = 试\n"                                   \
    "[category.case_study]\ncode = 11\nlabel = 案例\nrule = fixed\nhours = 2\n"                  \
    "[bucket.t]\nlabel = 总\ncategories = lecture, case_study\n"                                  \
    "[require.year]\nt = 1\n"

typedef struct fixture {
    char dir[256];     /* scratch directory */
    char hub_dir[300]; /* the hub's --dir */
    char node_keys[XS_PUBKEYS_TEXT_LEN + 1];
    char out[S_OUT_MAX]; /* the last command's standard output */
    char err[S_OUT_MAX]; /* and its standard error */
    uint8_t old_blob[S_FORMAT_1_LEN];
    xs_identity_t *node; /* the enrolled node's keys */
} fixture_t;

/* ---- running commands ---- */

static void s_slurp(const char *path, char *out, size_t cap) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t len = fread(out, 1, cap - 1, f);
    out[len] = '\0';
    fclose(f);
}

/* Runs a hub command in this process, its standard output into fx->out and its standard
 * error into fx->err. Returns its exit code. */
static int s_command(fixture_t *fx, int (*cmd)(int, char **), char **argv, int argc) {
    int rc = xs_scratch_command(fx->dir, cmd, argv, argc, fx->out, fx->err, sizeof fx->out);
    assert_true(rc >= 0);
    return rc;
}

static void s_bin(char *path, size_t cap, const char *program) {
    const char *bin = getenv("XS_BIN");
    snprintf(path, cap, "%s/%s", bin && *bin ? bin : XS_BIN_DIR, program);
}

static int64_t s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts `xueshi-hub run --dir HUB --listen tcp://127.0.0.1:*`, its standard output in
 * DIR/run.out and error in DIR/run.err. Returns its pid. */
static pid_t s_run_start(fixture_t *fx) {
    char path[600], out_path[400], err_path[400];
    s_bin(path, sizeof path, "xueshi-hub");
    snprintf(out_path, sizeof out_path, "%s/run.out", fx->dir);
    snprintf(err_path, sizeof err_path, "%s/run.err", fx->dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd_out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fd_err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd_out < 0 || fd_err < 0)
            _exit(126);
        dup2(fd_out, 1);
        dup2(fd_err, 2);
        execl(path, "xueshi-hub", "run", "--dir", fx->hub_dir, "--listen", "tcp://127.0.0.1:*",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits for pid's exit status: its exit code, or -1 when a signal ended it. */
static int s_wait(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- the hub's store ---- */

/* Seals one lecture for each teacher T1..T<S_TEACHERS> from the node and merges it. */
static void s_merge_records(fixture_t *fx, hub_t *hub) {
    xs_writer_t recs[S_TEACHERS], env;
    xs_batch_slice_t slices[S_TEACHERS];
    uint8_t hash[32];
    for (int i = 0; i < S_TEACHERS; i++) {
        xs_record_t rec;
        xs_reason why;
        xs_field field;
        char teacher[16];
        snprintf(teacher, sizeof teacher, "T%d", i + 1);
        xs_record_init(&rec);
        const struct {
            xs_field f;
            const char *text;
        } fields[] = {
            {XS_F_TEACHER_ID, teacher}, {XS_F_SCHOOL_ID, "S1"},     {XS_F_DATE, "2025-03-12"},
            {XS_F_CATEGORY, "lecture"}, {XS_F_ROLE, "participant"}, {XS_F_MINUTES, "90"},
        };
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            assert_int_equal(
                xs_record_set_text(&rec, fields[f].f, fields[f].text, strlen(fields[f].text), &why),
                XS_OK);
        assert_int_equal(xs_record_check(&rec, &field), XS_REASON_NONE);
        xs_writer_init(&recs[i], XS_RECORD_MAX);
        xs_record_encode(&rec, &recs[i]);
        assert_int_equal(xs_writer_err(&recs[i]), XS_OK);
        slices[i] = (xs_batch_slice_t){recs[i].data, recs[i].len};
    }
    xs_writer_init(&env, XS_BATCH_MAX_BYTES);
    assert_int_equal(
        xs_batch_seal(&env, fx->node, 1, NULL, NULL, (int64_t)time(NULL), slices, S_TEACHERS, hash),
        XS_OK);
    hub_item_t item;
    hub_merge_stats_t stats;
    hub_item_open(&item, env.data, env.len, xs_identity_public(fx->node)->sign);
    assert_int_equal(item.open_err, XS_OK);
    assert_int_equal(hub_merge(hub, &item, 1, &stats), XS_OK);
    assert_int_equal(item.status, XS_ACK_ACCEPTED);
    assert_int_equal(stats.teachers, S_TEACHERS);
    hub_item_free(&item);
    xs_writer_free(&env);
    for (int i = 0; i < S_TEACHERS; i++)
        xs_writer_free(&recs[i]);
}

/* What the previous release stored: its compiled policy and the envelope its hub signed. */
typedef struct s_old {
    const uint8_t *blob;
    size_t blob_len;
    const uint8_t *signed_env;
    size_t signed_len;
} s_old_t;

static xs_err s_put_old(xs_txn_t *txn, void *ctx) {
    const s_old_t *old = ctx;
    xs_err err = hub_meta_put(txn, HUB_META_POLICY, old->blob, old->blob_len);
    if (err == XS_OK)
        err = hub_meta_put(txn, HUB_META_POLICY_ENV, old->signed_env, old->signed_len);
    return err;
}

/* The stored policy blob, copied into blob (cap bytes); returns its length. */
static size_t s_stored_policy(xs_store_t *store, uint8_t *blob, size_t cap) {
    xs_txn_t *txn = NULL;
    xs_bytes_t v;
    assert_int_equal(xs_store_read(store, &txn), XS_OK);
    assert_int_equal(hub_meta_get(txn, HUB_META_POLICY, &v), XS_OK);
    assert_true(v.len <= cap);
    memcpy(blob, v.ptr, v.len);
    xs_store_end(&txn);
    return v.len;
}

static void s_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* ---- setup ---- */

/* A hub of policy g version 1 holding one batch of the node's, whose stored policy is then
 * replaced by the previous release's format-1 blob and an envelope of it the hub signed. */
static int s_setup(void **state) {
    fixture_t *fx = calloc(1, sizeof *fx);
    char path[400];
    if (!fx)
        return -1;
    *state = fx;
    for (size_t i = 0; i < S_FORMAT_1_LEN; i++) {
        unsigned byte;
        if (sscanf(s_format_1_hex + 2 * i, "%2x", &byte) != 1)
            return -1;
        fx->old_blob[i] = (uint8_t)byte;
    }
    if (sizeof s_format_1_hex - 1 != 2 * S_FORMAT_1_LEN)
        return -1;
    if (xs_identity_setup() != XS_OK || xs_scratch_make(fx->dir, sizeof fx->dir, "xs_oldpol") != 0)
        return -1;
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    snprintf(path, sizeof path, "%s/v1.ini", fx->dir);
    s_write_file(path, S_POLICY_INI("g", "1"));
    char *init[] = {"--dir", fx->hub_dir, "--policy", path, NULL};
    if (s_command(fx, hub_cmd_init, init, 4) != 0)
        return -1;
    if (xs_identity_create(&fx->node, fx->dir, "node") != XS_OK)
        return -1;
    xs_pubkeys_format(xs_identity_public(fx->node), fx->node_keys);
    char *enroll[] = {"--dir", fx->hub_dir, "--node", fx->node_keys, "--school", "S1", NULL};
    if (s_command(fx, hub_cmd_enroll, enroll, 6) != 0)
        return -1;

    hub_t hub;
    xs_writer_t env;
    if (hub_open(&hub, fx->hub_dir, HUB_OPEN_KEYS) != XS_OK)
        return -1;
    s_merge_records(fx, &hub);
    xs_writer_init(&env, XS_RECEIPT_POLICY_MAX_BYTES);
    s_old_t old = {fx->old_blob, sizeof fx->old_blob, NULL, 0};
    xs_err err = xs_receipt_policy_sign(&env, hub.id, old.blob, old.blob_len);
    old.signed_env = env.data;
    old.signed_len = env.len;
    if (err == XS_OK)
        err = xs_store_update(hub.store, s_put_old, &old);
    xs_writer_free(&env);
    hub_close(&hub);
    return err == XS_OK ? 0 : -1;
}

static int s_teardown(void **state) {
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    xs_identity_destroy(&fx->node);
    xs_scratch_remove(fx->dir);
    free(fx);
    return 0;
}

/* ---- the case ---- */

/* fx->err says the stored policy is of an older format and how to replace it. */
static void s_says_older_format(const fixture_t *fx, const char *what) {
    char command[400];
    snprintf(command, sizeof command, "xueshi-hub policy --dir %s --policy ", fx->hub_dir);
    if (!strstr(fx->err, "older format") || !strstr(fx->err, command) ||
        strstr(fx->err, "xueshi-hub init"))
        fail_msg("%s: want \"older format\" and \"%s\", got: %s", what, command, fx->err);
}

/* Every command but `policy` refuses the old store, says why, and changes nothing. */
static void test_commands_refuse_old_store(void **state) {
    fixture_t *fx = *state;
    hub_t hub;
    char other_keys[XS_PUBKEYS_TEXT_LEN + 1], path[400], bundle[400];
    xs_identity_t *other = NULL;

    /* hub_open itself: XS_EVERSION, nothing left open. */
    assert_int_equal(hub_open(&hub, fx->hub_dir, HUB_OPEN_KEYS), XS_EVERSION);
    assert_null(hub.store);
    assert_null(hub.policy);
    assert_null(hub.id);

    assert_int_equal(xs_identity_create(&other, fx->dir, "other"), XS_OK);
    xs_pubkeys_format(xs_identity_public(other), other_keys);
    xs_identity_destroy(&other);
    snprintf(path, sizeof path, "%s/receipts.xsb", fx->dir);
    snprintf(bundle, sizeof bundle, "%s/missing.xsb", fx->dir);

    char *nodes[] = {"--dir", fx->hub_dir, NULL};
    assert_int_equal(s_command(fx, hub_cmd_nodes, nodes, 2), 1);
    s_says_older_format(fx, "nodes");
    char *report[] = {"--dir", fx->hub_dir, NULL};
    assert_int_equal(s_command(fx, hub_cmd_report, report, 2), 1);
    s_says_older_format(fx, "report");
    assert_string_equal(fx->out, "");
    char *enroll[] = {"--dir", fx->hub_dir, "--node", other_keys, "--school", "S2", NULL};
    assert_int_equal(s_command(fx, hub_cmd_enroll, enroll, 6), 1);
    s_says_older_format(fx, "enroll");
    char *revoke[] = {"--dir", fx->hub_dir, "--node", fx->node_keys, NULL};
    assert_int_equal(s_command(fx, hub_cmd_revoke, revoke, 4), 1);
    s_says_older_format(fx, "revoke");
    char *import[] = {"--dir", fx->hub_dir, bundle, NULL};
    assert_int_equal(s_command(fx, hub_cmd_import, import, 3), 1);
    s_says_older_format(fx, "import");
    char *export[] = {"--dir", fx->hub_dir, "--node", fx->node_keys, "--out", path, NULL};
    assert_int_equal(s_command(fx, hub_cmd_export_receipts, export, 6), 1);
    s_says_older_format(fx, "export-receipts");
    assert_int_equal(access(path, F_OK), -1);

    /* The real program: `run` exits at once, saying the same. */
    pid_t pid = s_run_start(fx);
    assert_int_equal(s_wait(pid), 1);
    snprintf(path, sizeof path, "%s/run.err", fx->dir);
    s_slurp(path, fx->err, sizeof fx->err);
    s_says_older_format(fx, "run");

    /* Nothing changed: the old blob is still stored, the node neither revoked nor joined. */
    assert_int_equal(hub_open(&hub, fx->hub_dir, HUB_OPEN_ANY_POLICY), XS_OK);
    uint8_t blob[XS_POLICY_BLOB_MAX];
    size_t len = s_stored_policy(hub.store, blob, sizeof blob);
    assert_int_equal(len, S_FORMAT_1_LEN);
    assert_memory_equal(blob, fx->old_blob, S_FORMAT_1_LEN);
    xs_txn_t *txn = NULL;
    hub_node_t node;
    xs_pubkeys_t keys;
    assert_int_equal(xs_store_read(hub.store, &txn), XS_OK);
    assert_int_equal(hub_node_get(txn, xs_identity_public(fx->node)->sign, &node), XS_OK);
    assert_int_equal(node.revoked_at, 0);
    assert_int_equal(xs_pubkeys_parse(other_keys, strlen(other_keys), &keys), XS_OK);
    assert_int_equal(hub_node_get(txn, keys.sign, &node), XS_ENOTFOUND);
    xs_store_end(&txn);
    hub_close(&hub);
}

/* `xueshi-hub policy` opens the old store and replaces its policy; then the hub works. */
static void test_policy_replaces_old_format(void **state) {
    fixture_t *fx = *state;
    hub_t hub;
    char other[400], same[400], v3[400], expect[200];

    /* The policy command's open: the store opens, the policy does not decode, and what it
     * replaces is read from the blob's leading elements. */
    assert_int_equal(hub_open(&hub, fx->hub_dir, HUB_OPEN_KEYS | HUB_OPEN_ANY_POLICY), XS_OK);
    assert_null(hub.policy);
    assert_non_null(hub.id);
    uint8_t blob[XS_POLICY_BLOB_MAX];
    size_t len = s_stored_policy(hub.store, blob, sizeof blob);
    char id[XS_POLICY_ID_MAX + 1];
    uint32_t version = 0;
    assert_int_equal(hub_policy_peek(blob, len, id, &version), XS_OK);
    assert_string_equal(id, "g");
    assert_int_equal(version, 2);
    hub_close(&hub);

    snprintf(other, sizeof other, "%s/other.ini", fx->dir);
    snprintf(same, sizeof same, "%s/same.ini", fx->dir);
    snprintf(v3, sizeof v3, "%s/v3.ini", fx->dir);
    s_write_file(other, S_POLICY_INI("other", "3"));
    s_write_file(same, S_POLICY_INI("g", "2"));
    s_write_file(v3, S_POLICY_INI("g", "3"));

    /* Another county's policy, or a version not above the stored 2: refused, nothing stored. */
    char *refuse_other[] = {"--dir", fx->hub_dir, "--policy", other, NULL};
    assert_int_equal(s_command(fx, hub_cmd_policy, refuse_other, 4), 2);
    assert_non_null(strstr(fx->err, "certifies under policy g; other is another policy"));
    char *refuse_same[] = {"--dir", fx->hub_dir, "--policy", same, NULL};
    assert_int_equal(s_command(fx, hub_cmd_policy, refuse_same, 4), 2);
    assert_non_null(strstr(fx->err, "version 2 must be higher than the current version 2"));
    assert_int_equal(hub_open(&hub, fx->hub_dir, 0), XS_EVERSION);

    /* Version 3 of g: stored, signed, everyone re-certified and receipted. */
    char *replace[] = {"--dir", fx->hub_dir, "--policy", v3, NULL};
    int rc = s_command(fx, hub_cmd_policy, replace, 4);
    if (rc != 0)
        fail_msg("xueshi-hub policy: %d: %s%s", rc, fx->out, fx->err);
    assert_non_null(strstr(fx->out, "policy replaced): g 第 2 版 → g 第 3 版"));
    snprintf(expect, sizeof expect, "re-certified %d teachers at receipt generation", S_TEACHERS);
    if (!strstr(fx->out, expect))
        fail_msg("want \"%s\", got: %s", expect, fx->out);

    /* A normal open succeeds under g version 3, and the envelope nodes fetch carries it. */
    assert_int_equal(hub_open(&hub, fx->hub_dir, HUB_OPEN_KEYS), XS_OK);
    assert_non_null(hub.policy);
    assert_string_equal(hub.policy->id, "g");
    assert_int_equal(hub.policy->version, 3);
    len = s_stored_policy(hub.store, blob, sizeof blob);
    xs_txn_t *txn = NULL;
    xs_bytes_t env;
    const uint8_t *signed_blob;
    size_t signed_len;
    assert_int_equal(xs_store_read(hub.store, &txn), XS_OK);
    assert_int_equal(hub_meta_get(txn, HUB_META_POLICY_ENV, &env), XS_OK);
    assert_int_equal(xs_receipt_policy_open(env.ptr, env.len, xs_identity_public(hub.id)->sign,
                                            &signed_blob, &signed_len),
                     XS_OK);
    assert_int_equal(signed_len, len);
    assert_memory_equal(signed_blob, blob, len);
    xs_store_end(&txn);
    hub_close(&hub);

    /* `report` certifies the node's teachers again: 90 minutes of lecture (2025-03-12, in
     * 2024-2025), 1 hour required. */
    char *report[] = {"--dir", fx->hub_dir, NULL};
    assert_int_equal(s_command(fx, hub_cmd_report, report, 2), 0);
    for (int i = 1; i <= S_TEACHERS; i++) {
        char row[64];
        snprintf(row, sizeof row, "\nS1,T%d,,year,2024-2025,t,1.50,1.00,yes,yes,", i);
        if (!strstr(fx->out, row))
            fail_msg("report lacks %s: %s", row + 1, fx->out);
    }

    /* The real `xueshi-hub run` serves under version 3 until SIGTERM; it says so in its
     * events, on stderr. */
    char out_path[400];
    snprintf(out_path, sizeof out_path, "%s/run.err", fx->dir);
    pid_t pid = s_run_start(fx);
    int64_t deadline = s_now_ms() + S_START_MS;
    fx->out[0] = '\0';
    while (!strstr(fx->out, "hub serving") && s_now_ms() < deadline &&
           waitpid(pid, NULL, WNOHANG) == 0) {
        usleep(20000);
        s_slurp(out_path, fx->out, sizeof fx->out);
    }
    kill(pid, SIGTERM);
    assert_int_equal(s_wait(pid), 0);
    s_slurp(out_path, fx->out, sizeof fx->out);
    if (!strstr(fx->out, "认定规则 g 第 3 版") || !strstr(fx->out, "hub stopped"))
        fail_msg("xueshi-hub run: %s", fx->out);
}

int main(void) {
    /* In order: the second case upgrades the store the first one found refused. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_refuse_old_store),
        cmocka_unit_test(test_policy_replaces_old_format),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
