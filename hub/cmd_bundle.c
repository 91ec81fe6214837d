/* xueshi-hub import / export-receipts: USB bundles where there is no link at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "hub.h"
#include "keys.h"
#include "issue.h"
#include "ledger.h"
#include "merge.h"
#include "metrics.h"
#include "staff.h"
#include "xs/bundle.h"
#include "xs/codec.h"
#include "xs/confirm.h"
#include "xs/progress.h"

#define S_IMPORT_USAGE "xueshi-hub import --dir DIR FILE"
#define S_EXPORT_USAGE "xueshi-hub export-receipts --dir DIR --node NODE_KEYS --out FILE"
/* Batches merged per transaction, as the server groups them. */
#define S_GROUP 64
/* Bytes of leaves per page of a receipts bundle: each page is signed once. */
#define S_BUNDLE_PAGE_BYTES ((size_t)4 << 20)

static const char *s_outcome(const hub_item_t *item) {
    switch (item->status) {
    case XS_ACK_ACCEPTED:
        return "新 (new)";
    case XS_ACK_HELD:
        return "已有 (already known)";
    case XS_ACK_FORK:
        return "分叉，已隔离 (fork, quarantined)";
    default:
        return "拒绝 (rejected)";
    }
}

/* Reads the bundle at path and authenticates all of it into items; 0, or the exit code after
 * saying why. Nothing is merged until the whole bundle has been read and authenticated. */
static int s_read_bundle(const hub_t *hub, const char *path, uint8_t **bytes,
                         xs_bundle_items_t *items) {
    size_t len;
    const char *why = NULL;
    xs_err err = xs_bundle_load_file(path, bytes, &len);
    if (err != XS_OK) {
        xs_log_err(err, "无法读取 %s (cannot read)", path);
        return 1;
    }
    if ((err = xs_bundle_read(*bytes, len, XS_BUNDLE_BATCHES, hub->id, items, &why)) != XS_OK) {
        fprintf(stderr, "xueshi-hub: %s 被拒绝，未合并任何内容 (refused, nothing merged): %s\n",
                path, why ? why : xs_strerror(err));
        return 2;
    }
    return 0;
}

/* Prints one merged batch: whose, which sequence numbers, and what became of it. */
static void s_print_item(const hub_item_t *g) {
    char hex[17] = "?";
    if (g->open_err == XS_OK)
        xs_hex_encode(g->batch.origin, 8, hex);
    printf("  节点 %s… 序号 %llu-%llu: %s%s%s\n", hex, (unsigned long long)g->batch.first_seq,
           (unsigned long long)(g->batch.first_seq + g->batch.count - 1), s_outcome(g),
           g->status == XS_ACK_REFUSED ? " " : "",
           g->status == XS_ACK_REFUSED ? xs_proto_code_message(g->error) : "");
}

/* Adds one group's counts to the total. */
static void s_add_stats(hub_merge_stats_t *total, const hub_merge_stats_t *st) {
    total->batches += st->batches;
    total->records += st->records;
    total->rejected += st->rejected;
    total->held += st->held;
    total->forks += st->forks;
    total->refused += st->refused;
    total->teachers += st->teachers;
}

/* Merges items[0..n) in one transaction, prints each, and adds the counts to total; says why
 * when the group stored nothing. */
static xs_err s_merge_group(hub_t *hub, const xs_bundle_item_t *items, size_t n,
                            hub_merge_stats_t *total) {
    hub_item_t group[S_GROUP];
    hub_merge_stats_t st;
    for (size_t i = 0; i < n; i++) {
        uint8_t origin[32] = {0};
        /* A bundle is carried by anyone: each batch answers for its own origin. */
        if (xs_batch_peek_origin(items[i].ptr, items[i].len, origin) != XS_OK)
            memset(origin, 0, sizeof origin);
        hub_item_open(&group[i], items[i].ptr, items[i].len, origin);
    }
    /* Counted as the network's merges are: /metrics sums what reached the county. */
    xs_err err = hub_merge_noting(hub, group, n, &st, hub_metrics_note_merge, NULL);
    for (size_t i = 0; i < n; i++) {
        s_print_item(&group[i]);
        hub_item_free(&group[i]);
    }
    if (err != XS_OK) {
        xs_log_err(err, "合并失败，这一组未写入 (merge failed; this group stored nothing)");
        return err;
    }
    s_add_stats(total, &st);
    return XS_OK;
}

/* Merges every item, S_GROUP batches a transaction, and prints the totals; the exit code. */
static int s_merge_all(hub_t *hub, const xs_bundle_items_t *items) {
    hub_merge_stats_t total;
    xs_progress_t progress;
    memset(&total, 0, sizeof total);
    xs_progress_begin(&progress, "xueshi-hub", "导入 (import)", "批 (batches)", items->count);
    for (size_t first = 0; first < items->count; first += S_GROUP) {
        size_t n = items->count - first < S_GROUP ? items->count - first : S_GROUP;
        if (s_merge_group(hub, &items->items[first], n, &total) != XS_OK) {
            xs_progress_end(&progress, first);
            return 1;
        }
        xs_progress_update(&progress, first + n);
    }
    xs_progress_end(&progress, items->count);
    printf("导入完成 (import done): 新 %llu 批 %llu 条 (拒收 %llu 条)，已有 %llu 批，分叉 %llu，"
           "拒绝 %llu，回执 %llu 人 (new, known, forks, refused, teachers receipted)\n",
           (unsigned long long)total.batches, (unsigned long long)total.records,
           (unsigned long long)total.rejected, (unsigned long long)total.held,
           (unsigned long long)total.forks, (unsigned long long)total.refused,
           (unsigned long long)total.teachers);
    return total.refused || total.forks ? 1 : 0;
}

int hub_cmd_import(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    hub_t hub;
    xs_bundle_items_t items;
    uint8_t *bytes = NULL;
    memset(&items, 0, sizeof items);
    if (hub_args(argc, argv, opts, nopts, pos, 1, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || npos != 1 || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_IMPORT_USAGE);
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), HUB_OPEN_KEYS) != XS_OK)
        return 1;
    int rc = s_read_bundle(&hub, pos[0], &bytes, &items);
    if (rc == 0)
        rc = s_merge_all(&hub, &items);
    xs_bundle_items_free(&items);
    free(bytes);
    hub_close(&hub);
    return rc;
}

/* A receipts bundle being written: its writer, one item's scratch, receipts added. */
typedef struct s_export {
    xs_bundle_writer_t *w;
    xs_writer_t item;
    const hub_node_t *node; /* the node it is for */
    const uint8_t *origin;  /* whose receipts are being added: the node's or a satellite's */
    hub_t *hub;             /* signs the confirmations and the receipts */
    uint64_t count;         /* receipts added */
    uint64_t confirmed;     /* confirmations added */
    uint64_t parts;         /* roster parts added */
} s_export_t;

_Static_assert(XS_STAFF_PART_BYTES + 64 <= XS_BUNDLE_ITEM_MAX, "a roster part fits an item");

/* Adds node's part of the county's teacher roster as an [origin, part, 2] item (protocol.md
 * §7.1, §10), signed for that node: a school without a link gets its roster as one with a link
 * does. Nothing when the county has no roster. */
static xs_err s_add_part(xs_txn_t *txn, s_export_t *e, const hub_node_t *node) {
    xs_writer_t part;
    xs_writer_init(&part, XS_STAFF_PART_BYTES);
    int current;
    xs_err err = hub_staff_part(txn, e->hub->id, node, NULL, NULL, &part, &current);
    if (err == XS_OK) {
        xs_writer_reset(&e->item);
        xs_codec_put_array(&e->item, 3);
        xs_codec_put_bin(&e->item, node->origin, 32);
        xs_codec_put_bin(&e->item, part.data, part.len);
        xs_codec_put_uint(&e->item, 2);
        err = xs_writer_err(&e->item);
    }
    if (err == XS_OK)
        err = xs_bundle_writer_add(e->w, e->item.data, e->item.len);
    e->parts += err == XS_OK;
    xs_writer_free(&part);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

/* Adds a hub-signed [origin, confirmation, 1] item (protocol.md §7): how far the hub holds
 * origin's chain without a gap, and the hash it ends with, so that the school exports nothing
 * up to there again. Nothing when the hub holds none of it. */
static xs_err s_add_confirmation(xs_txn_t *txn, s_export_t *e, const uint8_t origin[32]) {
    xs_chain_view_t view;
    xs_chain_entry_t last;
    xs_confirm_t c;
    xs_err err = hub_ledger_view(txn, origin, &view);
    if (err != XS_OK || view.have_through == 0)
        return err;
    if ((err = hub_ledger_ending(txn, origin, view.have_through, &last)) != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    memset(&c, 0, sizeof c);
    memcpy(c.origin, origin, 32);
    c.through = view.have_through;
    memcpy(c.head_hash, last.hash, 32);
    c.issued_at = (int64_t)time(NULL);
    xs_writer_t env;
    xs_writer_init(&env, XS_CONFIRM_MAX_BYTES);
    err = xs_confirm_sign(&env, e->hub->id, &c);
    xs_writer_reset(&e->item);
    xs_codec_put_array(&e->item, 3);
    xs_codec_put_bin(&e->item, origin, 32);
    xs_codec_put_bin(&e->item, env.data, env.len);
    xs_codec_put_uint(&e->item, 1);
    if (err == XS_OK)
        err = xs_writer_err(&e->item);
    if (err == XS_OK)
        err = xs_bundle_writer_add(e->w, e->item.data, e->item.len);
    e->confirmed += err == XS_OK;
    xs_writer_free(&env);
    return err;
}

/* Adds one standalone receipt of a page to the bundle, as an [origin, receipt] item. */
static xs_err s_add_leaf(void *ctx, size_t index, const uint8_t *receipt, size_t len,
                         const xs_receipt_t *opened) {
    (void)opened;
    s_export_t *e = ctx;
    (void)index;
    xs_writer_reset(&e->item);
    xs_codec_put_array(&e->item, 2);
    xs_codec_put_bin(&e->item, e->origin, 32);
    xs_codec_put_bin(&e->item, receipt, len);
    xs_err err = xs_writer_err(&e->item);
    if (err == XS_OK)
        err = xs_bundle_writer_add(e->w, e->item.data, e->item.len);
    e->count += err == XS_OK;
    return err;
}

/* Adds every receipt of origin's teachers to the bundle, built now a page at a time and
 * signed once per page (protocol.md §4.2), then how far its chain is held. */
static xs_err s_add_receipts(xs_txn_t *txn, s_export_t *e, const uint8_t origin[32]) {
    hub_issue_page_t page;
    char after[XS_ID_MAX];
    size_t after_len = 0;
    int more = 1;
    xs_err err = XS_OK;
    e->origin = origin;
    hub_issue_page_init(&page);
    while (err == XS_OK && more) {
        hub_issue_page_free(&page);
        hub_issue_page_init(&page);
        err = hub_issue_page(e->hub, txn, origin, 0, after_len ? after : NULL, after_len,
                             S_BUNDLE_PAGE_BYTES, &page);
        if (err == XS_OK)
            err = hub_issue_page_each(e->hub, &page, s_add_leaf, e);
        more = page.more && page.count > 0;
        after_len = page.last_teacher_len;
        if (after_len)
            memcpy(after, page.last_teacher, after_len);
    }
    hub_issue_page_free(&page);
    return err == XS_OK ? s_add_confirmation(txn, e, origin) : err;
}

/* A relay carries its satellites' roster parts and receipts back too. */
static xs_err s_add_satellite(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    s_export_t *e = ctx;
    hub_node_t satellite;
    if (hub_relays_for(txn, e->node, node->origin, &satellite) != XS_OK)
        return XS_OK;
    xs_err err = s_add_part(txn, e, &satellite);
    return err == XS_OK ? s_add_receipts(txn, e, satellite.origin) : err;
}

/* What export-receipts' command line asks for. */
typedef struct s_export_args {
    const char *dir;   /* --dir: the hub's directory */
    xs_pubkeys_t keys; /* --node: the node's public keys */
    const char *out;   /* --out: the bundle to write */
    char part[4200];   /* out + ".part": written first, renamed when complete */
} s_export_args_t;

/* Reads and checks the options into a; 0, or the exit code after saying why. */
static int s_parse_export(int argc, char **argv, s_export_args_t *a) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"node", 1, NULL}, {"out", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    memset(a, 0, sizeof *a);
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "node") || !xs_cli_get(opts, nopts, "out"))
        return hub_usage(S_EXPORT_USAGE);
    const char *text = xs_cli_get(opts, nopts, "node");
    if (xs_pubkeys_parse(text, strlen(text), &a->keys) != XS_OK) {
        fprintf(stderr, "xueshi-hub: 节点公钥格式不对 (node keys look like xs1:...)\n");
        return 2;
    }
    a->dir = xs_cli_get(opts, nopts, "dir");
    a->out = xs_cli_get(opts, nopts, "out");
    if (snprintf(a->part, sizeof a->part, "%s.part", a->out) >= (int)sizeof a->part)
        return 2;
    return 0;
}

/* Finds the enrolled node with keys; sets *refused after saying why it is not one. */
static xs_err s_find_node(xs_txn_t *txn, const xs_pubkeys_t *keys, hub_node_t *node, int *refused) {
    xs_err err = hub_node_get(txn, keys->sign, node);
    if (err == XS_ENOTFOUND) {
        fprintf(stderr, "xueshi-hub: 该节点未登记 (not enrolled)\n");
        *refused = 1;
    }
    if (err == XS_OK && memcmp(node->box, keys->box, 32) != 0) {
        fprintf(stderr,
                "xueshi-hub: 传输密钥与登记的不同 (transport key differs from enrollment)\n");
        err = XS_EINVAL;
        *refused = 1;
    }
    return err;
}

/* Adds the hub's key rotations (protocol.md §11), when it rotated, then the county's signed
 * policy, as VIEW would bring them: the bundle's first items. */
static xs_err s_add_policy(xs_txn_t *txn, s_export_t *e) {
    xs_bytes_t policy, chain;
    xs_err err = hub_keys_chain(txn, &chain);
    if (err == XS_OK && chain.len) {
        xs_codec_put_array(&e->item, 3);
        xs_codec_put_nil(&e->item);
        xs_codec_put_bin(&e->item, chain.ptr, chain.len);
        xs_codec_put_uint(&e->item, 3);
        if ((err = xs_writer_err(&e->item)) == XS_OK)
            err = xs_bundle_writer_add(e->w, e->item.data, e->item.len);
        xs_writer_reset(&e->item);
    }
    if (err == XS_OK)
        err = hub_meta_get(txn, HUB_META_POLICY_ENV, &policy);
    if (err != XS_OK)
        return err;
    xs_codec_put_array(&e->item, 2);
    xs_codec_put_nil(&e->item);
    xs_codec_put_bin(&e->item, policy.ptr, policy.len);
    err = xs_writer_err(&e->item);
    if (err == XS_OK)
        err = xs_bundle_writer_add(e->w, e->item.data, e->item.len);
    return err;
}

/* Writes the whole bundle for e's node to f, encrypted to its transport key. */
static xs_err s_write_bundle(xs_txn_t *txn, s_export_t *e, FILE *f) {
    xs_err err = xs_bundle_writer_open(&e->w, f, XS_BUNDLE_RECEIPTS, e->node->box);
    if (err == XS_OK)
        err = s_add_policy(txn, e);
    if (err == XS_OK)
        err = s_add_part(txn, e, e->node);
    if (err == XS_OK)
        err = s_add_receipts(txn, e, e->node->origin);
    if (err == XS_OK && e->node->proxy_count)
        err = hub_nodes_each(txn, s_add_satellite, e);
    if (err == XS_OK)
        err = xs_bundle_writer_finish(e->w);
    xs_bundle_writer_free(&e->w);
    return err;
}

/* Says what was exported, or removes the partial file and says why not; the exit code. */
static int s_report_export(xs_err err, const s_export_t *e, const s_export_args_t *a, int created,
                           int refused) {
    if (err == XS_OK) {
        printf("已导出 %llu 份认定回执到 %s，加密给该节点；另附 %llu 份已收数据确认 (exported "
               "%llu receipts, encrypted to the node, with %llu confirmations of what the hub "
               "holds)\n",
               (unsigned long long)e->count, a->out, (unsigned long long)e->confirmed,
               (unsigned long long)e->count, (unsigned long long)e->confirmed);
        if (e->parts)
            printf("另附教师花名册 %llu 份 (with %llu parts of the teacher roster)\n",
                   (unsigned long long)e->parts, (unsigned long long)e->parts);
        return 0;
    }
    if (created)
        remove(a->part);
    if (!refused)
        xs_log_err(err, "导出认定回执失败 (exporting receipts failed)");
    return 1;
}

/* Writes the node's receipts bundle to a->part under one read transaction and renames it
 * to a->out; the exit code. */
static int s_export(hub_t *hub, const s_export_args_t *a) {
    xs_txn_t *txn = NULL;
    hub_node_t node;
    s_export_t e;
    FILE *f = NULL;
    int refused = 0; /* why was printed: nothing more to say */
    memset(&e, 0, sizeof e);
    e.node = &node;
    e.hub = hub;
    xs_writer_init(&e.item, XS_BUNDLE_ITEM_MAX);
    xs_err err = xs_store_read(hub->store, &txn);
    if (err == XS_OK)
        err = s_find_node(txn, &a->keys, &node, &refused);
    if (err == XS_OK && !(f = fopen(a->part, "wb"))) {
        fprintf(stderr, "xueshi-hub: 无法写入 %s (cannot write)\n", a->part);
        err = XS_EIO;
    }
    if (err == XS_OK)
        err = s_write_bundle(txn, &e, f);
    xs_store_end(&txn);
    int created = f != NULL;
    if (f && fclose(f) != 0 && err == XS_OK)
        err = XS_EIO;
    if (err == XS_OK && rename(a->part, a->out) != 0)
        err = XS_EIO;
    int rc = s_report_export(err, &e, a, created, refused);
    xs_writer_free(&e.item);
    return rc;
}

int hub_cmd_export_receipts(int argc, char **argv) {
    s_export_args_t args;
    hub_t hub;
    int rc = s_parse_export(argc, argv, &args);
    if (rc != 0)
        return rc;
    if (hub_open(&hub, args.dir, HUB_OPEN_KEYS) != XS_OK) /* keys: confirmations, receipts */
        return 1;
    rc = s_export(&hub, &args);
    hub_close(&hub);
    return rc;
}
