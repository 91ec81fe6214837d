/* recordset: the node's records decoded in sequence order for the engine. */
#include "recordset.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

/* A walk's step: decodes the entry into l; one that does not read as a valid record is
 * reported and left out. */
static xs_err s_load_record(void *ctx, uint64_t seq, const xs_bytes_t *key,
                            const xs_bytes_t *bytes) {
    node_recordset_t *l = ctx;
    char why[NODE_WHY_MAX];
    if (l->count == l->cap) {
        size_t grown = l->cap ? l->cap * 2 : 1024;
        xs_record_t *r = realloc(l->records, grown * sizeof *r);
        if (r)
            l->records = r;
        uint64_t *i = realloc(l->ids, grown * sizeof *i);
        if (i)
            l->ids = i;
        if (!r || !i)
            return XS_ENOMEM;
        l->cap = grown;
    }
    if (node_record_read(key, bytes, &seq, &l->records[l->count], why) != XS_OK) {
        xs_log("记录 %llu 数据已损坏，未计入 (record %llu is corrupted; not counted): %s",
               (unsigned long long)seq, (unsigned long long)seq, why);
        l->corrupted++;
        return XS_OK;
    }
    l->ids[l->count++] = seq;
    return XS_OK;
}

xs_err node_recordset_load(xs_txn_t *txn, node_recordset_t *l) {
    return node_records_raw(txn, s_load_record, l);
}

void node_recordset_free(node_recordset_t *l) {
    free(l->records);
    free(l->ids);
    memset(l, 0, sizeof *l);
}
