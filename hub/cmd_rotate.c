/* xueshi-hub rotate-keys: retire the hub's signing key for a new one, by a statement the old
 * key signs (protocol.md §11); nodes follow it at their next sync or receipts bundle. */
#include <stdio.h>
#include <time.h>

#include "hub.h"
#include "keys.h"

#define S_USAGE "xueshi-hub rotate-keys --dir DIR"

int hub_cmd_rotate_keys(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    char old_line[XS_PUBKEYS_TEXT_LEN + 1], new_line[XS_PUBKEYS_TEXT_LEN + 1];
    hub_t hub;
    xs_rotation_t done;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_USAGE);
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), HUB_OPEN_KEYS) != XS_OK)
        return 1;
    xs_pubkeys_format(xs_identity_public(hub.id), old_line);
    xs_err err = hub_keys_rotate(&hub, (int64_t)time(NULL), &done);
    if (err != XS_OK) {
        xs_log_err(err, "密钥未轮换，原密钥仍然有效 (the key was not rotated; the old one stays "
                        "in force)");
        hub_close(&hub);
        return 1;
    }
    xs_pubkeys_format(xs_identity_public(hub.id), new_line);
    printf("签名密钥已轮换 (signing key rotated), 第 %u 次 (rotation %u)\n", done.number,
           done.number);
    printf("原公钥 (retired): %s\n", old_line);
    printf("新公钥 (in force): %s\n", new_line);
    printf("各校下次同步或导入回执包时自动改用新密钥；原密钥签发的回执仍然有效 (nodes follow at "
           "their next sync or receipts bundle; receipts the old key signed still verify). "
           "传输密钥不变 (the transport key is unchanged).\n");
    hub_close(&hub);
    return 0;
}
