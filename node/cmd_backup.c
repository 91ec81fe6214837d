/* xueshi-node backup, restore, migrate: a hot backup of the node as one file, putting one
 * back (marked restored, so that it seals nothing until a sync has compared its chain with the
 * hub's: protocol.md §9), and upgrading an older store format after backing it up. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node.h"
#include "xs/backup.h"

#define S_BACKUP_USAGE                                                                             \
    "xueshi-node backup --dir DIR --out FILE|DIRECTORY [--keep N]\n"                               \
    "  while the node runs: one file holding the store (a consistent snapshot) and the keys;\n"    \
    "  into a DIRECTORY it is named node-TIME.xsbak, and --keep N keeps the newest N there"
#define S_RESTORE_USAGE                                                                            \
    "xueshi-node restore --dir DIR --from FILE\n"                                                  \
    "  checks FILE whole first; stop `run` and `web` first; an existing DIR is kept as\n"          \
    "  DIR.before-restore-TIME. The restored node seals nothing new until it has synced once"
#define S_MIGRATE_USAGE                                                                            \
    "xueshi-node migrate --dir DIR [--backup FILE]\n"                                              \
    "  upgrades an older store format; backs up first (default: beside DIR,\n"                     \
    "  DIR-format-N-TIME.xsbak)"

int node_cmd_backup(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"out", 1, NULL}, {"keep", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    xs_backup_info_t info;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "out"))
        return node_usage(S_BACKUP_USAGE);
    return xs_backup_command(&node_backup_program, xs_cli_get(opts, nopts, "dir"),
                             xs_cli_get(opts, nopts, "out"), xs_cli_get(opts, nopts, "keep"),
                             &info);
}

static xs_err s_mark_restored(xs_txn_t *txn, void *ctx) {
    return node_meta_put_u64(txn, NODE_META_RESTORED, *(const uint64_t *)ctx);
}

/* The node's check of a restore: a store format this program can read or migrate, the same in
 * the store as the file says, and the node's key; then the store is marked restored. */
static xs_err s_restore_check(void *ctx, const char *dir, const xs_backup_info_t *info) {
    char path[4200];
    xs_store_t *store = NULL;
    (void)ctx;
    xs_err err = xs_backup_check_copy(&node_backup_program, dir, info);
    if (err != XS_OK || !dir)
        return err;
    snprintf(path, sizeof path, "%s/store", dir);
    uint64_t now = (uint64_t)time(NULL);
    if ((err = xs_store_open(&store, path, node_tables, NODE_T_COUNT, 0)) == XS_OK)
        err = xs_store_update(store, s_mark_restored, &now);
    xs_store_close(&store);
    if (err != XS_OK)
        xs_log_err(err, "标记恢复的数据库，未作任何改动 (marking the restored store; nothing "
                        "changed)");
    return err;
}

int node_cmd_restore(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"from", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    xs_backup_info_t info;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "from"))
        return node_usage(S_RESTORE_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    int rc = xs_backup_restore_command(&node_backup_program, dir, xs_cli_get(opts, nopts, "from"),
                                       s_restore_check, NULL, &info);
    if (rc == XS_EXIT_OK)
        printf("下一步：与县级中心同步一次 (next: sync once with the hub): xueshi-node sync --dir "
               "%s；同步前可以照常登记，新记录在同步时接在县里已有的记录之后封装 (records may be "
               "entered meanwhile; they are sealed after what the hub already holds)\n",
               dir);
    return rc;
}

static xs_err s_write_format(xs_txn_t *txn, void *ctx) {
    (void)ctx;
    return node_meta_put(txn, NODE_META_FORMAT, NODE_FORMAT, strlen(NODE_FORMAT));
}

int node_cmd_migrate(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"backup", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char path[4096], out[4600];
    unsigned format;
    xs_store_t *store = NULL;
    if (node_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_MIGRATE_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    int rc = xs_backup_migrate_begin(&node_backup_program, dir, xs_cli_get(opts, nopts, "backup"),
                                     out, sizeof out, &format);
    if (rc >= 0)
        return rc;
    snprintf(path, sizeof path, "%s/store", dir);
    /* No layout has changed since format 1: only the format is written. */
    xs_err err = xs_store_open(&store, path, node_tables, NODE_T_COUNT, 0);
    if (err == XS_OK)
        err = xs_store_update(store, s_write_format, NULL);
    xs_store_close(&store);
    if (err != XS_OK) {
        xs_log_err(err,
                   "升级数据库格式，未作任何改动；备份在 %s (upgrading the store format; "
                   "nothing changed, the backup is at %s)",
                   out, out);
        return XS_EXIT_FAIL;
    }
    printf("数据库格式已升级 (store format upgraded): %u → %u\n", format, NODE_FORMAT_NUMBER);
    return XS_EXIT_OK;
}
