/* xueshi-hub nodes: enrolled nodes with their last sync, head, gaps and forks. */
#include <stdio.h>
#include <string.h>

#include "hub.h"
#include "ledger.h"
#include "xs/text.h"

#define S_USAGE "xueshi-hub nodes --dir DIR"

static void s_time(int64_t t, char out[XS_TEXT_TIME_MAX]) {
    if (!t)
        snprintf(out, XS_TEXT_TIME_MAX, "-");
    else
        xs_text_local_time(t, out);
}

/* Prints one node's line and, under it, its proxies, gaps and fork. */
static xs_err s_print_node(void *ctx, xs_txn_t *txn, const hub_node_t *node) {
    xs_chain_view_t *view = ctx;
    char hex[17], when[XS_TEXT_TIME_MAX];
    xs_err err = hub_ledger_view(txn, node->origin, view);
    if (err != XS_OK)
        return err;
    xs_hex_encode(node->origin, 8, hex);
    s_time(node->last_sync, when);
    printf("%-4u %s %-8s %-6s %-17s %10llu %8llu %4zu %4llu\n", node->number, hex, node->school,
           node->revoked_at ? "已吊销" : "正常", when, (unsigned long long)view->have_through,
           (unsigned long long)view->held_max, view->gap_count, (unsigned long long)node->forks);
    for (uint32_t i = 0; i < node->proxy_count; i++)
        printf("     代管 (proxy for) %s\n", node->proxies[i]);
    for (size_t i = 0; i < view->gap_count; i++)
        printf("     缺少 (missing) %llu-%llu\n", (unsigned long long)view->gaps[i][0],
               (unsigned long long)view->gaps[i][1]);
    if (node->fork_seq && node->fork_resolved_at) {
        s_time(node->fork_resolved_at, when);
        printf("     分叉已解决 (fork resolved) 于 %s：节点已接续县级中心的链，续签至序号 %llu "
               "(the node took the hub's chain and signed on through seq %llu)；隔离批次 %llu "
               "(quarantined, proof kept)\n",
               when, (unsigned long long)node->fork_resolved_through,
               (unsigned long long)node->fork_resolved_through, (unsigned long long)node->forks);
    } else if (node->fork_seq) {
        printf("     分叉 (fork) 自序号 %llu 起：同一序号有两批不同的已签名数据，已隔离 "
               "(two different signed batches claim seq %llu; quarantined)\n",
               (unsigned long long)node->fork_seq, (unsigned long long)node->fork_seq);
    }
    return XS_OK;
}

int hub_cmd_nodes(int argc, char **argv) {
    xs_cli_opt_t opts[] = {{"dir", 1, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    hub_t hub;
    xs_txn_t *txn = NULL;
    xs_chain_view_t view;
    int rc = 1;
    if (hub_args(argc, argv, opts, nopts, pos, 0, &npos) != XS_OK ||
        xs_cli_get(opts, nopts, "help") || !xs_cli_get(opts, nopts, "dir"))
        return hub_usage(S_USAGE);
    if (hub_open(&hub, xs_cli_get(opts, nopts, "dir"), 0) != XS_OK)
        return 1;
    xs_err err = xs_store_read(hub.store, &txn);
    printf("编号 节点公钥       学校     状态   最近同步          已连续收到 最高序号 缺口 分叉\n"
           "(no, node key, school, state, last sync, contiguous, highest, gaps, forks)\n");
    if (err == XS_OK)
        err = hub_nodes_each(txn, s_print_node, &view);
    if (err == XS_OK)
        rc = 0;
    else
        xs_log_err(err, "读取节点 (reading nodes)");
    xs_store_end(&txn);
    hub_close(&hub);
    return rc;
}
