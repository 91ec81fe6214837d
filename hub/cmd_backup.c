/* xueshi-hub backup, restore, migrate: a hot backup of the hub as one file, putting one back,
 * and upgrading an older store format after backing it up. */
#include <stdio.h>
#include <string.h>

#include "hub.h"
#include "migrate.h"
#include "xs/backup.h"
#include "xs/progress.h"

#define S_BACKUP_USAGE                                                                             \
    "xueshi-hub backup --dir DIR --out FILE|DIRECTORY [--keep N]\n"                                \
    "  while the hub serves: one file holding the store (a consistent snapshot) and the keys;\n"   \
    "  into a DIRECTORY it is named hub-TIME.xsbak, and --keep N keeps the newest N there"
#define S_RESTORE_USAGE                                                                            \
    "xueshi-hub restore --dir DIR --from FILE\n"                                                   \
    "  checks FILE whole first; stop `run` and `web` first; an existing DIR is kept as\n"          \
    "  DIR.before-restore-TIME"
#define S_MIGRATE_USAGE                                                                            \
    "xueshi-hub migrate --dir DIR [--backup FILE]\n"                                               \
    "  upgrades an older store format; backs up first (default: beside DIR,\n"                     \
    "  DIR-format-N-TIME.xsbak); stop `run` and `web` first"

int hub_cmd_backup(int argc, char **argv) {
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"out", 1, NULL}, {"keep", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    xs_backup_info_t info;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "out"))
        return hub_usage(S_BACKUP_USAGE);
    return xs_backup_command(&hub_backup_program, xs_cli_get(opts, nopts, "dir"),
                             xs_cli_get(opts, nopts, "out"), xs_cli_get(opts, nopts, "keep"),
                             &info);
}

/* The hub's check of a restore: what every program checks (xs_backup_check_copy). */
static xs_err s_restore_check(void *ctx, const char *dir, const xs_backup_info_t *info) {
    (void)ctx;
    return xs_backup_check_copy(&hub_backup_program, dir, info);
}

int hub_cmd_restore(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"from", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    xs_backup_info_t info;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "from"))
        return hub_usage(S_RESTORE_USAGE);
    return xs_backup_restore_command(&hub_backup_program, xs_cli_get(opts, nopts, "dir"),
                                     xs_cli_get(opts, nopts, "from"), s_restore_check, NULL, &info);
}

static void s_migrate_progress(void *ctx, size_t done, size_t total) {
    xs_progress_t *p = ctx;
    if (p->total == 0)
        xs_progress_begin(p, "xueshi-hub", "建立认定状态 (building the certification state)",
                          "位教师 (teachers)", total);
    xs_progress_update(p, done);
}

int hub_cmd_migrate(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"backup", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char out[4600];
    unsigned format, from = 0; /* the format found, and the one hub_migrate upgraded from */
    int unbuilt = 0;
    xs_progress_t progress;
    hub_t hub;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_MIGRATE_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    int rc = xs_backup_migrate_begin(&hub_backup_program, dir, xs_cli_get(opts, nopts, "backup"),
                                     out, sizeof out, &format);
    if (rc >= 0)
        return rc;
    if (hub_open(&hub, dir, HUB_OPEN_ANY_FORMAT | HUB_OPEN_ANY_POLICY | HUB_OPEN_KEYS) != XS_OK)
        return XS_EXIT_FAIL;
    memset(&progress, 0, sizeof progress);
    xs_err err = hub_migrate(&hub, &from, &unbuilt, s_migrate_progress, &progress);
    if (progress.total)
        xs_progress_end(&progress, progress.total);
    hub_close(&hub);
    if (err != XS_OK) {
        xs_log_err(err,
                   "升级数据库格式，未作任何改动；备份在 %s (upgrading the store format; "
                   "nothing changed, the backup is at %s)",
                   out, out);
        return XS_EXIT_FAIL;
    }
    printf("数据库格式已升级 (store format upgraded): %u → %u\n", from, HUB_FORMAT_NUMBER);
    if (unbuilt)
        printf("保存的认定规则是旧格式：请运行 xueshi-hub policy --dir %s --policy 规则.ini "
               "导入新版规则 (the stored policy is of an older format: load a new version with "
               "`xueshi-hub policy --dir %s --policy FILE.ini`)\n",
               dir, dir);
    return XS_EXIT_OK;
}
