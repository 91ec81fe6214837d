/* xueshi-hub backup, restore, migrate: a hot backup of the hub as one file, putting one back,
 * and upgrading an older store format after backing it up. */
#include <stdio.h>
#include <string.h>

#include "hub.h"
#include "migrate.h"
#include "xs/backup.h"
#include "xs/progress.h"
#include "xs/text.h"

#define S_BACKUP_USAGE                                                                             \
    "xueshi-hub backup --dir DIR --out FILE\n"                                                     \
    "  while the hub serves: one file holding the store (a consistent snapshot) and the keys"
#define S_RESTORE_USAGE                                                                            \
    "xueshi-hub restore --dir DIR --from FILE\n"                                                   \
    "  checks FILE whole first; stop `run` and `web` first; an existing DIR is kept as\n"          \
    "  DIR.before-restore-TIME"
#define S_MIGRATE_USAGE                                                                            \
    "xueshi-hub migrate --dir DIR [--backup FILE]\n"                                               \
    "  upgrades an older store format; backs up first (default: beside DIR,\n"                     \
    "  DIR-format-N-TIME.xsbak); stop `run` and `web` first"

/* Backs the hub in dir up to out, its store opened read-only (writing nothing, any format).
 * 0, or 1 after saying why. */
static int s_backup(const char *dir, const char *out, xs_backup_info_t *info) {
    char path[4096], format_text[16], when[XS_TEXT_TIME_MAX];
    unsigned format;
    xs_store_t *store = NULL;
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return 1;
    xs_err err = hub_format_read(path, &format);
    if (err == XS_ENOTFOUND) {
        xs_log("%s 不是县级中心目录 (not a hub directory)", dir);
        return 1;
    }
    if (err == XS_OK)
        err = xs_store_open_readonly(&store, path, hub_tables, 1);
    if (err != XS_OK) {
        xs_log_err(err, "打开数据库 %s (opening the store)", path);
        return 1;
    }
    snprintf(format_text, sizeof format_text, "%u", format);
    xs_backup_source_t src = {"xueshi-hub", "hub", format_text, dir, store};
    err = xs_backup_write(&src, out, info);
    xs_store_close(&store);
    if (err != XS_OK)
        return 1;
    xs_text_local_time(info->created_at, when);
    printf("备份完成 (backup written): %s\n  数据库 (store) %.1f MiB，共 %llu 个文件 (files)，"
           "格式 (format) %s，快照时间 (snapshot at) %s\n",
           out, (double)info->store_bytes / (1024.0 * 1024.0), (unsigned long long)info->entries,
           info->store_format, when);
    return 0;
}

int hub_cmd_backup(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"out", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    xs_backup_info_t info;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "out"))
        return hub_usage(S_BACKUP_USAGE);
    return s_backup(xs_cli_get(opts, nopts, "dir"), xs_cli_get(opts, nopts, "out"), &info);
}

/* The hub's check of a restore: a store format this program can read or migrate, the same in
 * the store as the file says, and the hub's key. */
static xs_err s_restore_check(void *ctx, const char *dir, const xs_backup_info_t *info) {
    char path[4200];
    unsigned said, held;
    xs_identity_t *id = NULL;
    (void)ctx;
    xs_err err = hub_format_parse(info->store_format, strlen(info->store_format), &said);
    if (err == XS_OK && said > HUB_FORMAT_NUMBER) {
        xs_log("备份中的数据库格式为 %u，比本程序认识的格式 %u 新：请安装新版学时系统 (xueshi) "
               "后再恢复，未作任何改动 (the backup's store format %u is newer than this "
               "program's %u: install a newer xueshi; nothing changed)",
               said, HUB_FORMAT_NUMBER, said, HUB_FORMAT_NUMBER);
        return XS_EVERSION;
    }
    if (err != XS_OK || !dir)
        return err;
    snprintf(path, sizeof path, "%s/store", dir);
    err = hub_format_read(path, &held);
    if (err == XS_OK && held != said)
        err = XS_ECORRUPT;
    if (err != XS_OK) {
        xs_log_err(err, "备份中的数据库无法打开或格式不符，未作任何改动 (the backup's store "
                        "does not open or does not match its header; nothing changed)");
        return err;
    }
    if ((err = xs_identity_load(&id, dir, "hub")) != XS_OK)
        xs_log_err(err, "备份中的县级中心密钥 hub.secret，未作任何改动 (the backup's hub key; "
                        "nothing changed)");
    xs_identity_destroy(&id);
    return err;
}

int hub_cmd_restore(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"from", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char aside[XS_BACKUP_ASIDE_MAX], when[XS_TEXT_TIME_MAX];
    xs_backup_info_t info;
    unsigned format = 0;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir") ||
        !xs_cli_get(opts, nopts, "from"))
        return hub_usage(S_RESTORE_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir"), *from = xs_cli_get(opts, nopts, "from");
    xs_err err =
        xs_backup_restore(from, "hub", "xueshi-hub", dir, s_restore_check, NULL, aside, &info);
    if (err != XS_OK)
        return err == XS_EMALFORMED || err == XS_ECORRUPT || err == XS_EVERSION ||
                       err == XS_ENOTFOUND
                   ? XS_EXIT_USAGE
                   : XS_EXIT_FAIL;
    xs_text_local_time(info.created_at, when);
    printf("已恢复 (restored) %s，来自备份 (from) %s：快照时间 (snapshot at) %s，版本 (version) "
           "%s，数据库格式 (store format) %s\n",
           dir, from, when, info.version, info.store_format);
    if (aside[0])
        printf("原目录已保留为 (the directory there before is kept as) %s\n", aside);
    if (hub_format_parse(info.store_format, strlen(info.store_format), &format) == XS_OK &&
        format < HUB_FORMAT_NUMBER)
        printf("数据库格式较旧，请运行 xueshi-hub migrate --dir %s (an older store format: run "
               "`xueshi-hub migrate --dir %s`)\n",
               dir, dir);
    return XS_EXIT_OK;
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
    char path[4096], label[32], beside[4600];
    unsigned format, from = 0;
    int in_use = 0, unbuilt = 0;
    xs_backup_info_t info;
    xs_progress_t progress;
    hub_t hub;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_MIGRATE_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir"), *out = xs_cli_get(opts, nopts, "backup");
    snprintf(path, sizeof path, "%s/store", dir);
    xs_err err = hub_format_read(path, &format);
    if (err == XS_ENOTFOUND) {
        xs_log("%s 不是县级中心目录 (not a hub directory)", dir);
        return XS_EXIT_USAGE;
    }
    if (err != XS_OK) {
        xs_log_err(err, "读取数据库格式 %s (reading the store's format)", path);
        return XS_EXIT_FAIL;
    }
    if (format == HUB_FORMAT_NUMBER) {
        printf("数据库已是当前格式 %u，无需升级 (the store is current: format %u)\n", format,
               format);
        return XS_EXIT_OK;
    }
    if (format > HUB_FORMAT_NUMBER)
        return hub_format_check(dir, format) == XS_OK ? XS_EXIT_OK : XS_EXIT_USAGE;
    if ((err = xs_store_in_use(path, &in_use)) != XS_OK || in_use) {
        xs_log("%s 的数据库正在使用：请先停止 xueshi-hub run 和 web，再升级，未作任何改动 (the "
               "store is in use: stop `run` and `web` first; nothing changed)",
               dir);
        return XS_EXIT_FAIL;
    }
    if (!out) {
        snprintf(label, sizeof label, "format-%u", format);
        if (xs_backup_path_beside(dir, label, beside, sizeof beside) != XS_OK)
            return hub_usage(S_MIGRATE_USAGE);
        out = beside;
    }
    printf("升级前先备份 (backing up first) 到 %s\n", out);
    if (s_backup(dir, out, &info) != 0) {
        xs_log("备份没有完成，未升级 (the backup failed: nothing upgraded)");
        return XS_EXIT_FAIL;
    }
    if (hub_open(&hub, dir, HUB_OPEN_ANY_FORMAT | HUB_OPEN_ANY_POLICY | HUB_OPEN_KEYS) != XS_OK)
        return XS_EXIT_FAIL;
    memset(&progress, 0, sizeof progress);
    err = hub_migrate(&hub, &from, &unbuilt, s_migrate_progress, &progress);
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
