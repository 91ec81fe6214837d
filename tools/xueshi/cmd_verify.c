/* xueshi verify: check a hub-signed receipt offline (signed alone, or a standalone receipt under
 * a signed Merkle root) and show what it certifies and what was checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xs/cli.h"
#include "xs/codec.h"
#include "xs/csv.h"
#include "xs/draw.h"
#include "xs/policy.h"
#include "xs/receipt.h"
#include "xs/report.h"
#include "xs/scan.h"
#include "xs/year.h"
#include "xueshi.h"

#define S_USAGE                                                                                    \
    "xueshi verify RECEIPT_FILE [--hub-key HUB_KEYS] [--policy FILE.ini] [--year-doc year.xsdoc "  \
    "[--amend amend-N.xsdoc]...]\n"                                                                \
    "       xueshi verify --scan TEXT | --image FILE.png [options as above]   (a certificate's "   \
    "QR code: its text, or a picture of it)"

/* Most --amend files one verify reads. */
#define S_AMENDS_MAX 64

static const char *const s_scope[XS_SCOPE_COUNT] = {"year", "semester", "cycle"};

/* Reads a whole file of at most max bytes, allocating what its size needs; NULL and a message
 * naming what it should be on failure. */
static uint8_t *s_read_what(const char *path, size_t max, size_t *len, const char *what) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "xueshi: 无法读取 %s (cannot read)\n", path);
        return NULL;
    }
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    int bad = size < 0 || (unsigned long)size > max || fseek(f, 0, SEEK_SET) != 0;
    uint8_t *buf = bad ? NULL : malloc((size_t)size + 1);
    *len = buf ? fread(buf, 1, (size_t)size + 1, f) : 0;
    bad = bad || !buf || ferror(f) || *len > max || *len != (size_t)size;
    fclose(f);
    if (bad) {
        fprintf(stderr, "xueshi: %s 不是%s (unreadable or too large)\n", path, what);
        free(buf);
        return NULL;
    }
    return buf;
}

static uint8_t *s_read(const char *path, size_t max, size_t *len) {
    return s_read_what(path, max, len, "认定回执 (not a receipt)");
}

/* What the command line asks for. */
typedef struct s_args {
    const char *receipt;  /* the receipt file, or NULL with scan or image */
    const char *scan;     /* --scan: a certificate's QR code as text (protocol.md §4.1) */
    const char *image;    /* --image: a picture (PNG) of a certificate's QR code */
    int has_hub;          /* 1: --hub-key given, in hub */
    xs_pubkeys_t hub;     /* the hub's keys the receipt must be signed with */
    const char *policy;   /* --policy: the policy file to compare, or NULL */
    const char *year_doc; /* --year-doc: a closed year's document to check against, or NULL */
    const char *amends[S_AMENDS_MAX]; /* --amend: the year's amendments (补认定), any order */
    size_t namends;
} s_args_t;

/* Takes every "--amend FILE" (or --amend=FILE) out of argv into a->amends; returns the words
 * left in argv (compacted), or -1 after saying why. */
static int s_take_amends(int argc, char **argv, s_args_t *a) {
    int kept = 0;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if (strcmp(argv[i], "--amend") == 0 && i + 1 < argc)
            value = argv[++i];
        else if (strncmp(argv[i], "--amend=", 8) == 0)
            value = argv[i] + 8;
        else if (strcmp(argv[i], "--amend") == 0)
            value = NULL;
        else {
            argv[kept++] = argv[i];
            continue;
        }
        if (!value || !*value || a->namends == S_AMENDS_MAX) {
            fprintf(stderr,
                    "xueshi: --amend 需要一个补认定文件，至多 %d 个 (--amend FILE, at most "
                    "%d)\n",
                    S_AMENDS_MAX, S_AMENDS_MAX);
            return -1;
        }
        a->amends[a->namends++] = value;
    }
    return kept;
}

/* Reads and checks the options into a; 0, or the exit code after saying why. */
static int s_parse(int argc, char **argv, s_args_t *a) {
    xs_cli_opt_t opts[] = {{"hub-key", 1, NULL}, {"policy", 1, NULL}, {"year-doc", 1, NULL},
                           {"help", 0, NULL},    {"scan", 1, NULL},   {"image", 1, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char msg[512] = "";
    memset(a, 0, sizeof *a);
    argc = s_take_amends(argc, argv, a);
    if (argc < 0)
        return 2;
    if (xs_cli_parse(argc, argv, opts, nopts, pos, 1, &npos, msg, sizeof msg) != XS_OK ||
        xs_cli_get(opts, nopts, "help")) {
        if (msg[0] && !xs_cli_get(opts, nopts, "help"))
            fprintf(stderr, "xueshi: %s\n", msg);
        return xs_cli_usage(S_USAGE);
    }
    a->scan = xs_cli_get(opts, nopts, "scan");
    a->image = xs_cli_get(opts, nopts, "image");
    /* One receipt: a file, a QR code's text, or a picture of the code. */
    if (npos + (a->scan != NULL) + (a->image != NULL) != 1) {
        fprintf(stderr, "用法 (usage): %s\n", S_USAGE);
        return 2;
    }
    const char *hub_key = xs_cli_get(opts, nopts, "hub-key");
    if (hub_key && xs_pubkeys_parse(hub_key, strlen(hub_key), &a->hub) != XS_OK) {
        fprintf(stderr, "xueshi: --hub-key 格式不对 (not xs1:...)\n");
        return 2;
    }
    a->receipt = npos ? pos[0] : NULL;
    a->has_hub = hub_key != NULL;
    a->policy = xs_cli_get(opts, nopts, "policy");
    a->year_doc = xs_cli_get(opts, nopts, "year-doc");
    if (a->namends && !a->year_doc) {
        fprintf(stderr, "xueshi: --amend 须与 --year-doc 一起使用 (--amend needs --year-doc)\n");
        return 2;
    }
    return 0;
}

/* Loads the policy file at path and hashes it; 0, or 2 after saying why. */
static int s_load_policy(xs_policy_t **policy, const char *path, uint8_t hash[32]) {
    char msg[512];
    xs_err err = xs_policy_load(policy, path, msg, sizeof msg);
    if (err == XS_OK)
        err = xs_policy_hash(*policy, hash);
    if (err != XS_OK) {
        fprintf(stderr, "xueshi: 认定规则无法读取 (policy): %s\n",
                err == XS_EPOLICY ? msg : xs_strerror(err));
        return 2;
    }
    return 0;
}

/* Where a standalone receipt's leaf sits in its signed tree (protocol.md §4.2). */
typedef struct s_tree_info {
    uint64_t index;      /* the leaf's index, from 0 */
    uint64_t leaf_count; /* the leaves under the root */
    uint32_t path_len;   /* hashes of its audit path */
    uint8_t root[32];    /* the signed root */
} s_tree_info_t;

/* Reads where the leaf of a standalone receipt that xs_receipt_open has opened (so checked:
 * signature, path and all) sits in its tree into *info; 0 for a receipt signed alone. */
static int s_tree_info(const uint8_t *env, size_t len, s_tree_info_t *info) {
    xs_reader_t r, body;
    const uint8_t *bytes;
    uint32_t n, body_len, bytes_len;
    xs_reader_init(&r, env, len);
    if (xs_codec_get_array(&r, &n) != XS_OK || n != 5 ||
        xs_codec_get_bin(&r, &bytes, &body_len) != XS_OK)
        return 0;
    /* The root body: [format, hub, policy_id, policy_version, policy_hash, generation,
     * issued_at, leaf_count, root]. */
    xs_reader_init(&body, bytes, body_len);
    if (xs_codec_get_array(&body, &n) != XS_OK || n != 9)
        return 0;
    for (int i = 0; i < 7; i++)
        if (xs_codec_skip(&body) != XS_OK)
            return 0;
    return xs_codec_get_uint(&body, &info->leaf_count) == XS_OK &&
           xs_codec_get_bin_exact(&body, info->root, 32) == XS_OK &&
           xs_codec_get_bin(&r, &bytes, &bytes_len) == XS_OK &&
           xs_codec_get_bin(&r, &bytes, &bytes_len) == XS_OK &&
           xs_codec_get_uint(&r, &info->index) == XS_OK &&
           xs_codec_get_array(&r, &info->path_len) == XS_OK;
}

/* Prints who signed the receipt (for a standalone receipt, the root, and that the leaf's path
 * leads to it: tree, else NULL), for whom, under which policy, and whether the policy file
 * given matches it. */
static void s_print_header(const xs_receipt_t *r, const s_tree_info_t *tree, int has_hub,
                           const xs_policy_t *policy, const uint8_t policy_hash[32]) {
    char hex[65], when[32];
    xs_hex_encode(r->hub, 32, hex);
    printf("签名有效 (signature valid)%s%s\n签发的县级中心签名公钥 (hub signing key): %s\n",
           tree ? "：Merkle 根由县级中心签署 (a Merkle root signed by the hub)" : "",
           has_hub ? "，签发者与 --hub-key 一致 (issued by the given hub)"
                   : "；请核对是否为本县中心的公钥 (check it is your county hub's key)",
           hex);
    if (tree) {
        xs_hex_encode(tree->root, 32, hex);
        printf("审计路径有效 (audit path valid)：第 %llu 片叶子（共 %llu 片，从 0 数起）的 %u 个 "
               "hash 通向签名的根 (the path of index %llu of %llu leaves, %u hash%s, leads to the "
               "signed root)\nMerkle 根 (root): %s\n",
               (unsigned long long)tree->index, (unsigned long long)tree->leaf_count,
               tree->path_len, (unsigned long long)tree->index,
               (unsigned long long)tree->leaf_count, tree->path_len,
               tree->path_len == 1 ? "" : "es", hex);
    }
    time_t issued = (time_t)r->issued_at;
    struct tm tm;
    localtime_r(&issued, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    xs_hex_encode(r->policy_hash, 32, hex);
    printf("教师 (teacher): %.*s\n认定规则 (policy): %.*s 第 %u 版, hash %s\n"
           "签发时间 (issued): %s, 回执代次 (generation) %llu\n",
           (int)r->teacher_id.len, r->teacher_id.ptr, (int)r->policy_id.len, r->policy_id.ptr,
           r->policy_version, hex, when, (unsigned long long)r->generation);
    if (policy)
        printf("认定规则文件 %s (policy file)\n", memcmp(policy_hash, r->policy_hash, 32) == 0
                                                      ? "与回执一致 (matches)"
                                                      : "与回执不一致！(DOES NOT match)");
}

/* Prints the periods the receipt covers, then its totals as CSV (buckets named by policy
 * when given): binding and reason as the certify summary has them, the reason derived from the
 * figures (a receipt carries none), its single-record phrase the policy's when given. */
static void s_print_totals(const xs_receipt_t *r, const xs_policy_t *policy) {
    char hex[65];
    for (uint32_t i = 0; i < r->period_count; i++) {
        const xs_receipt_period_t *p = &r->periods[i];
        xs_hex_encode(p->records_hash, 16, hex);
        printf("  %s %d: %u 条记录 (records), 记录集 hash %s…", s_scope[p->scope % 3], p->year,
               p->record_count, hex);
        if (p->closed) {
            xs_hex_encode(p->closed_hash, 16, hex);
            printf("; 已结账定案 (closed, final), 年度认定文件 hash %s…", hex);
        }
        printf("\n");
    }
    printf("scope,year,semester,bucket,credited_hours,required_hours,met,binding,reason\n");
    for (uint32_t i = 0; i < r->total_count; i++) {
        const xs_receipt_total_t *t = &r->totals[i];
        char credited[24], required[24] = "", bucket[40], reason[XS_REPORT_REASON_MAX];
        xs_certify_total_t total;
        xs_report_receipt_total(t, &total);
        xs_report_total_reason(policy, &total, reason, sizeof reason);
        xs_certify_format_hours(credited, sizeof credited, t->credited_seconds);
        if (t->required_seconds)
            xs_certify_format_hours(required, sizeof required, t->required_seconds);
        if (policy && t->bucket < xs_policy_bucket_count(policy))
            snprintf(bucket, sizeof bucket, "%s", xs_policy_bucket_name(policy, t->bucket));
        else
            snprintf(bucket, sizeof bucket, "#%u", t->bucket);
        /* CSV cells as every writer here makes them: quoted when they must be, and a cell a
         * spreadsheet would take for a formula guarded (xs_csv_write_cell). */
        char year[16], semester[8];
        snprintf(year, sizeof year, "%d", t->year);
        snprintf(semester, sizeof semester, "%u", t->semester);
        const char *cells[9] = {s_scope[t->scope % 3],
                                year,
                                semester,
                                bucket,
                                credited,
                                required,
                                t->met == XS_MET_NONE ? "" : xs_certify_met_name(t->met),
                                t->met == XS_MET_NONE ? ""
                                : t->binding          ? "yes"
                                                      : "no",
                                reason};
        for (int k = 0; k < 9; k++)
            if (xs_csv_write_cell(stdout, cells[k], strlen(cells[k]), k == 8) != XS_OK)
                return;
    }
}

/* One mismatch between the receipt and the year document. */
static void s_mismatch(int *bad, const char *zh, const char *en) {
    if (!*bad)
        printf("与年度认定文件不一致 (DOES NOT match the year document):\n");
    *bad = 1;
    printf("  %s (%s)\n", zh, en);
}

/* The teacher's row in the newest of the amendments at paths (signed by hub, of the document
 * doc) that amends them, into *row (borrowing amends[*used]) and *number; *row NULL when none
 * does. amends (room for n) are the caller's to free with xs_year_amend_free. 0, or 1 when an
 * amendment is not of this document or not the hub's, 2 when one cannot be read (each said). */
static int s_amended_row(const xs_receipt_t *r, const xs_year_doc_t *doc, const char *const *paths,
                         size_t n, const uint8_t hub[32], xs_year_amend_t *amends,
                         const xs_year_row_t **row, uint32_t *number) {
    *row = NULL;
    *number = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *env =
            s_read_what(paths[i], XS_YEAR_MAX_BYTES, &len, "补认定文件 (not an amendment)");
        if (!env)
            return 2;
        xs_err err = xs_year_amend_open(env, len, hub, &amends[i]);
        free(env);
        if (err != XS_OK) {
            printf("补认定文件 %s 无效 (amendment INVALID): %s\n", paths[i],
                   err == XS_ECRYPTO ? "不是签发该回执的县级中心签署的，或已被改动 (not signed by "
                                       "the receipt's hub, or altered)"
                                     : xs_strerror(err));
            return err == XS_ECRYPTO ? 1 : 2;
        }
        if (amends[i].year != doc->year || memcmp(amends[i].closed_hash, doc->hash, 32) != 0) {
            printf("补认定文件 %s 不是这份年度认定文件的补认定 (the amendment is of another year "
                   "document)\n",
                   paths[i]);
            return 1;
        }
        const xs_year_row_t *mine =
            xs_year_find(amends[i].rows, amends[i].row_count, r->teacher_id.ptr, r->teacher_id.len);
        if (mine && amends[i].number > *number) {
            *row = mine;
            *number = amends[i].number;
        }
    }
    return 0;
}

/* Checks receipt r against the closed year document at path (signed by the receipt's hub)
 * and its amendments (the n files at amends): its period of that year is closed with the
 * document's hash, and its year and semester totals are the teacher's row in the newest
 * amendment that amends them, else in the document. 0 when they agree, 1 when not, 2 when a
 * document cannot be read (each said). */
static int s_check_year_doc(const xs_receipt_t *r, const char *path, const char *const *amends,
                            size_t namends, int has_hub, const uint8_t hub[32]) {
    size_t len;
    xs_year_doc_t doc;
    int bad = 0;
    char label[XS_POLICY_YEAR_LABEL], hex[65];
    uint8_t *env = s_read_what(path, XS_YEAR_MAX_BYTES, &len, "学年认定文件 (not a year document)");
    if (!env)
        return 2;
    xs_err err = xs_year_open(env, len, has_hub ? hub : r->hub, &doc);
    free(env);
    if (err != XS_OK) {
        printf("年度认定文件无效 (year document INVALID): %s\n",
               err == XS_ECRYPTO ? "不是签发该回执的县级中心签署的，或已被改动 (not signed by the "
                                   "receipt's hub, or altered)"
                                 : xs_strerror(err));
        return err == XS_ECRYPTO ? 1 : 2;
    }
    xs_policy_year_label(doc.year, label);
    xs_hex_encode(doc.hash, 32, hex);
    printf("年度认定文件 (year document): 学年 %s, %zu 位教师 (teachers), hash %s\n", label,
           doc.row_count, hex);
    const xs_receipt_period_t *period = NULL;
    for (uint32_t i = 0; i < r->period_count; i++)
        if (r->periods[i].scope == XS_SCOPE_YEAR && r->periods[i].year == doc.year)
            period = &r->periods[i];
    if (!period)
        s_mismatch(&bad, "回执中没有该学年", "the receipt has no period for that year");
    else if (!period->closed)
        s_mismatch(&bad, "回执中该学年尚未结账定案，请同步取回结账后的新回执",
                   "the receipt's year is not closed: sync to fetch the receipt issued after the "
                   "close");
    else if (memcmp(period->closed_hash, doc.hash, 32) != 0)
        s_mismatch(&bad, "回执所依据的年度认定文件不是这一份",
                   "the receipt names another year document");
    const xs_year_row_t *row =
        xs_year_find(doc.rows, doc.row_count, r->teacher_id.ptr, r->teacher_id.len);
    xs_year_amend_t *opened = namends ? calloc(namends, sizeof *opened) : NULL;
    const xs_year_row_t *amended = NULL;
    uint32_t number = 0;
    if (namends && !opened) {
        xs_year_doc_free(&doc);
        return 2;
    }
    int amend_rc = s_amended_row(r, &doc, amends, namends, doc.hub, opened, &amended, &number);
    if (amend_rc == 2) {
        bad = 2;
        goto out;
    }
    if (amend_rc == 1)
        bad = 1;
    if (amended) {
        printf("该教师按第 %u 号补认定文件核对 (checked against amendment %u)\n", number, number);
        row = amended;
    }
    if (!row) {
        s_mismatch(&bad, "该教师不在年度认定文件中", "the teacher is not in the year document");
    } else {
        /* The receipt's year and semester rows of that year, in order, against the row's. */
        uint32_t k = 0, matched = 1;
        for (uint32_t i = 0; i < r->total_count; i++) {
            const xs_receipt_total_t *t = &r->totals[i];
            if (t->scope == XS_SCOPE_CYCLE || t->year != doc.year)
                continue;
            while (k < row->total_count && row->totals[k].scope == XS_SCOPE_CYCLE)
                k++;
            const xs_year_total_t *y = k < row->total_count ? &row->totals[k++] : NULL;
            if (!y || y->scope != t->scope || y->semester != t->semester ||
                y->bucket != t->bucket || y->credited_seconds != t->credited_seconds ||
                y->required_seconds != t->required_seconds || y->met != t->met ||
                y->binding != t->binding)
                matched = 0;
        }
        while (k < row->total_count && row->totals[k].scope == XS_SCOPE_CYCLE)
            k++;
        if (!matched || k != row->total_count)
            s_mismatch(&bad,
                       amended ? "回执的学年学时与补认定文件中该教师的结果不同"
                               : "回执的学年学时与年度认定文件中该教师的结果不同（若之后有补认定，"
                                 "请用 --amend 一并核对）",
                       amended ? "the receipt's year totals differ from the teacher's amended row"
                               : "the receipt's year totals differ from the teacher's row in the "
                                 "document (give its amendments with --amend)");
    }
    if (!bad)
        printf("与年度认定文件一致：该学年已结账定案 (matches the year document: the year is "
               "closed and final)\n");
out:
    for (size_t i = 0; i < namends && opened; i++)
        xs_year_amend_free(&opened[i]);
    free(opened);
    xs_year_doc_free(&doc);
    return bad;
}

/* Reads the QR code of the picture at path (PNG) into text (cap bytes) and *len; 0, or the exit
 * code after saying why. */
static int s_scan_image(const char *path, char *text, size_t cap, size_t *len) {
    uint8_t *gray = NULL;
    unsigned width, height;
    if (!xs_scan_available()) {
        fprintf(stderr, "xueshi: --image 需要 zbar，本程序构建时没有 zbar：请用手机或 zbarimg "
                        "扫出二维码的文字，再用 --scan 文字 核验 (--image needs zbar, which "
                        "this build lacks: scan the code with a phone or zbarimg and give its "
                        "text to --scan)\n");
        return 2;
    }
    xs_err err = xs_draw_png_gray(path, &gray, &width, &height);
    if (err != XS_OK) {
        fprintf(stderr, "xueshi: 无法读取图片 %s (cannot read the PNG): %s\n", path,
                xs_strerror(err));
        return 2;
    }
    err = xs_scan_qr(gray, width, height, text, cap, len);
    free(gray);
    if (err == XS_ENOTFOUND) {
        fprintf(stderr,
                "xueshi: 图片 %s 中没有找到二维码，请拍得更清楚、更正一些 (no QR code found in "
                "the picture: take a sharper, straighter photo)\n",
                path);
        return 2;
    }
    if (err != XS_OK) {
        printf("无效 (INVALID): 二维码不是认定回执 (the QR code is not a receipt): %s\n",
               xs_strerror(err));
        return 1;
    }
    return 0;
}

/* The receipt envelope a certificate's QR code carries, from --scan's text or --image's
 * picture (protocol.md §4.1), into *env (the caller frees it) and *len; 0, or the exit code
 * after saying why: 1 when the text is not a receipt's. */
static int s_read_code(const s_args_t *a, uint8_t **env, size_t *len) {
    static char scanned[XS_RECEIPT_TEXT_MAX + 64];
    const char *text = a->scan;
    size_t text_len = a->scan ? strlen(a->scan) : 0;
    *env = NULL;
    if (a->image) {
        int rc = s_scan_image(a->image, scanned, sizeof scanned, &text_len);
        if (rc != 0)
            return rc;
        text = scanned;
    }
    if (!(*env = malloc(XS_RECEIPT_TEXT_BYTES_MAX)))
        return 2;
    xs_err err = xs_receipt_text_decode(text, text_len, *env, XS_RECEIPT_TEXT_BYTES_MAX, len);
    if (err != XS_OK) {
        printf("无效 (INVALID): 不是认定回执的二维码文字，或已被改动（应以 %s 开头，只含数字、"
               "大写字母和 \" $%%*+-./:\"）(not a receipt's QR text, or altered: %s)\n",
               XS_RECEIPT_TEXT_PREFIX,
               err == XS_ETOOBIG ? "too long" : "bad prefix, character or length");
        return 1;
    }
    printf("二维码文字 %zu 个字符，认定回执 %zu 字节 (QR text of %zu characters: a receipt of %zu "
           "bytes)\n",
           text_len, *len, text_len, *len);
    return 0;
}

int tool_cmd_verify(int argc, char **argv) {
    s_args_t args;
    xs_policy_t *policy = NULL;
    uint8_t policy_hash[32] = {0};
    size_t len;
    int rc = s_parse(argc, argv, &args);
    if (rc != 0)
        return rc;
    if (args.policy && (rc = s_load_policy(&policy, args.policy, policy_hash)) != 0)
        return rc;
    rc = 2;
    uint8_t *env = NULL;
    xs_receipt_t *r = malloc(sizeof *r);
    if (!r)
        goto out;
    if (args.receipt) {
        if (!(env = s_read(args.receipt, XS_RECEIPT_MAX_BYTES, &len)))
            goto out;
    } else if ((rc = s_read_code(&args, &env, &len)) != 0) {
        goto out;
    }
    rc = 2;
    xs_err err = xs_receipt_open(env, len, args.has_hub ? args.hub.sign : NULL, r);
    if (err != XS_OK) {
        printf("无效 (INVALID): %s\n",
               err == XS_ECRYPTO && args.has_hub
                   ? "不是该县级中心签发的，或已被改动 (not signed by that hub, or altered)"
                   : xs_strerror(err));
        rc = 1;
        goto out;
    }
    s_tree_info_t tree;
    int standalone = s_tree_info(env, len, &tree);
    s_print_header(r, standalone ? &tree : NULL, args.has_hub, policy, policy_hash);
    s_print_totals(r, policy);
    rc = policy && memcmp(policy_hash, r->policy_hash, 32) != 0 ? 1 : 0;
    if (args.year_doc) {
        int year_rc = s_check_year_doc(r, args.year_doc, args.amends, args.namends, args.has_hub,
                                       args.hub.sign);
        if (year_rc > rc)
            rc = year_rc;
    }
out:
    free(env);
    free(r);
    xs_policy_destroy(&policy);
    return rc;
}
