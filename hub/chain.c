/* chain: what the hub holds of each origin's batch chain: contiguous head, highest seq, gaps. */
#include <string.h>

#include "chain.h"

xs_err hub_chain_view(xs_txn_t *txn, const uint8_t origin[32], hub_view_t *view) {
    uint8_t key[HUB_KEY_BYTES];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    uint64_t expect = 1; /* the lowest seq not yet seen held */
    memset(view, 0, sizeof *view);
    hub_key(origin, 0, key);
    xs_err err = xs_store_cursor_open(txn, HUB_T_CHAIN, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, key, sizeof key, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != HUB_KEY_BYTES || memcmp(k.ptr, origin, 32) != 0)
            break;
        if (v.len < 4)
            return XS_ECORRUPT;
        uint64_t first = xs_store_key_u64((const uint8_t *)k.ptr + 32);
        const uint8_t *c = v.ptr;
        uint64_t count = (uint64_t)c[0] << 24 | (uint64_t)c[1] << 16 | (uint64_t)c[2] << 8 | c[3];
        if (first > expect) {
            if (view->gap_count < HUB_VIEW_MAX_GAPS) {
                view->gaps[view->gap_count][0] = expect;
                view->gaps[view->gap_count][1] = first - 1;
            }
            view->gap_count++;
        }
        if (first + count > expect)
            expect = first + count;
        view->batches++;
    }
    xs_store_cursor_close(&cur);
    if (err != XS_OK && err != XS_ENOTFOUND)
        return err;
    view->held_max = expect - 1;
    view->have_through = view->gap_count ? view->gaps[0][0] - 1 : view->held_max;
    if (view->gap_count > HUB_VIEW_MAX_GAPS)
        view->gap_count = HUB_VIEW_MAX_GAPS; /* the node learns the rest on the next session */
    return XS_OK;
}
