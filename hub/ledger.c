/* ledger: loading accepted records from the hub store for the certification engine. */
#include "ledger.h"

#include <stdlib.h>
#include <string.h>

void hub_ledger_reset(hub_ledger_t *l) {
    l->count = 0;
}

void hub_ledger_free(hub_ledger_t *l) {
    free(l->records);
    free(l->ids);
    free(l->origins);
    free(l->seqs);
    free(l->idents);
    free(l->rows);
    free(l->numbers);
    memset(l, 0, sizeof *l);
}

static xs_err s_grow(hub_ledger_t *l) {
    if (l->count < l->cap)
        return XS_OK;
    size_t cap = l->cap ? l->cap * 2 : 256;
#define S_REALLOC(field)                                                                           \
    do {                                                                                           \
        void *p = realloc(l->field, cap * sizeof *l->field);                                       \
        if (!p)                                                                                    \
            return XS_ENOMEM;                                                                      \
        l->field = p;                                                                              \
    } while (0)
    S_REALLOC(records);
    S_REALLOC(ids);
    S_REALLOC(origins);
    S_REALLOC(seqs);
    S_REALLOC(idents);
    S_REALLOC(rows);
#undef S_REALLOC
    l->cap = cap;
    return XS_OK;
}

/* The enrollment number of origin, from the cache or the nodes table. */
static xs_err s_number(hub_ledger_t *l, xs_txn_t *txn, const uint8_t origin[32], uint32_t *out) {
    for (size_t i = 0; i < l->nnumbers; i++)
        if (memcmp(l->numbers[i].origin, origin, 32) == 0) {
            *out = l->numbers[i].number;
            return XS_OK;
        }
    hub_node_t node;
    xs_err err = hub_node_get(txn, origin, &node);
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    if (l->nnumbers == l->numbers_cap) {
        size_t cap = l->numbers_cap ? l->numbers_cap * 2 : 16;
        void *p = realloc(l->numbers, cap * sizeof *l->numbers);
        if (!p)
            return XS_ENOMEM;
        l->numbers = p;
        l->numbers_cap = cap;
    }
    memcpy(l->numbers[l->nnumbers].origin, origin, 32);
    l->numbers[l->nnumbers++].number = node.number;
    *out = node.number;
    return XS_OK;
}

/* Loads record (origin, seq) when it was accepted. */
static xs_err s_add(hub_ledger_t *l, xs_txn_t *txn, const uint8_t origin[32], uint64_t seq) {
    uint8_t key[XS_CHAIN_KEY_BYTES];
    xs_bytes_t where, env;
    uint32_t number;
    xs_chain_key(origin, seq, key);
    xs_err err = xs_store_get(txn, HUB_T_RECORDS, key, sizeof key, &where);
    if (err != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    const uint8_t *w = where.ptr;
    if (where.len != HUB_REC_VALUE_BYTES)
        return XS_ECORRUPT;
    if (w[16] != HUB_OUTCOME_ACCEPTED)
        return XS_OK;
    uint32_t offset = (uint32_t)w[8] << 24 | (uint32_t)w[9] << 16 | (uint32_t)w[10] << 8 | w[11];
    uint32_t len = (uint32_t)w[12] << 24 | (uint32_t)w[13] << 16 | (uint32_t)w[14] << 8 | w[15];
    xs_chain_key(origin, xs_store_key_u64(w), key);
    if ((err = xs_store_get(txn, HUB_T_BATCHES, key, sizeof key, &env)) != XS_OK)
        return err == XS_ENOTFOUND ? XS_ECORRUPT : err;
    if ((size_t)offset + len > env.len)
        return XS_ECORRUPT;
    if ((err = s_grow(l)) != XS_OK || (err = s_number(l, txn, origin, &number)) != XS_OK)
        return err;
    xs_record_t *rec = &l->records[l->count];
    if (xs_record_decode_bytes((const uint8_t *)env.ptr + offset, len, rec) != XS_OK)
        return XS_ECORRUPT;
    uint64_t high = (uint64_t)number << HUB_ID_SEQ_BITS;
    if (rec->kind == XS_KIND_CORRECTION)
        rec->voids = high | rec->voids; /* corrections void a record of their own origin */
    l->ids[l->count] = high | seq;
    memcpy(l->origins[l->count], origin, 32);
    l->seqs[l->count] = seq;
    l->count++;
    return XS_OK;
}

xs_err hub_ledger_teacher(hub_ledger_t *l, xs_txn_t *txn, const char *teacher, size_t len) {
    uint8_t key[XS_ID_MAX + 1];
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    hub_ledger_reset(l);
    if (len == 0 || len > XS_ID_MAX)
        return XS_EINVAL;
    memcpy(key, teacher, len);
    key[len] = 0;
    xs_err err = xs_store_cursor_open(txn, HUB_T_TEACHERS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, key, len + 1, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        if (k.len != len + 1 + XS_CHAIN_KEY_BYTES || memcmp(k.ptr, key, len + 1) != 0)
            break;
        const uint8_t *rest = (const uint8_t *)k.ptr + len + 1;
        uint8_t origin[32];
        memcpy(origin, rest, 32);
        if ((err = s_add(l, txn, origin, xs_store_key_u64(rest + 32))) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

xs_err hub_ledger_exams(hub_ledger_t *l, xs_txn_t *txn) {
    xs_cursor_t *cur = NULL;
    xs_bytes_t k, v;
    hub_ledger_reset(l);
    xs_err err = xs_store_cursor_open(txn, HUB_T_EXAMS, &cur);
    if (err != XS_OK)
        return err;
    for (err = xs_store_cursor_seek(cur, NULL, 0, &k, &v); err == XS_OK;
         err = xs_store_cursor_next(cur, &k, &v)) {
        uint8_t origin[32];
        if (k.len != XS_CHAIN_KEY_BYTES) {
            err = XS_ECORRUPT;
            break;
        }
        memcpy(origin, k.ptr, 32);
        if ((err = s_add(l, txn, origin, xs_store_key_u64((const uint8_t *)k.ptr + 32))) != XS_OK)
            break;
    }
    xs_store_cursor_close(&cur);
    return err == XS_ENOTFOUND ? XS_OK : err;
}

const xs_receipt_ident_t *hub_ledger_idents(hub_ledger_t *l) {
    for (size_t i = 0; i < l->count; i++) {
        l->idents[i].origin = l->origins[i];
        l->idents[i].seq = l->seqs[i];
    }
    return l->idents;
}
