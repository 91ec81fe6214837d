/* xueshi-node policy: set the county policy the node uses for provisional totals. */
#include <stdio.h>

#include "check.h"
#include "node.h"

#define S_USAGE "xueshi-node policy --dir DIR FILE.ini"

int node_cmd_policy(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    node_t node;
    if (node_args(argc, argv, opts, nopts, pos, 1, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || npos != 1 || !xs_cli_get(opts, nopts, "dir"))
        return node_usage(S_USAGE);
    const char *dir = xs_cli_get(opts, nopts, "dir");
    xs_err err = node_open(&node, dir);
    if (err != XS_OK)
        return node_exit_code(err, dir);
    err = node_set_policy(node.store, pos[0]);
    node_close(&node);
    return err == XS_OK ? 0 : err == XS_EPOLICY ? 2 : 1;
}
