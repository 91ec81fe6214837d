/* ledger: loading a teacher's (or every exam's) accepted records from the hub store, ready
 * for the certification engine. */
#ifndef HUB_LEDGER_H
#define HUB_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "xs/certify.h"
#include "xs/receipt.h"

/* Bits of an engine id below the origin's enrollment number: seq < 2^40 per origin. */
#define HUB_ID_SEQ_BITS 40

/* Records loaded for the engine. Records' strings borrow the store: valid until the
 * transaction's next write or its end. */
typedef struct hub_ledger {
    xs_record_t *records;       /* decoded records */
    uint64_t *ids;              /* engine ids: origin number << 40 | seq */
    uint8_t (*origins)[32];     /* each record's origin */
    uint64_t *seqs;             /* each record's seq */
    xs_receipt_ident_t *idents; /* (origin, seq), set by hub_ledger_idents */
    xs_certify_row_t *rows;     /* the engine's output, one per record */
    size_t count, cap;
    struct {
        uint8_t origin[32];
        uint32_t number;
    } * numbers; /* origins seen, with their enrollment number */
    size_t nnumbers, numbers_cap;
} hub_ledger_t;

/* Forgets the records (keeps allocations and the origin numbers). */
void hub_ledger_reset(hub_ledger_t *l);
/* Frees everything; the ledger is zeroed. */
void hub_ledger_free(hub_ledger_t *l);

/* Loads every accepted record of teacher (len bytes), replacing what l held. */
XS_MUST_USE xs_err hub_ledger_teacher(hub_ledger_t *l, xs_txn_t *txn, const char *teacher,
                                      size_t len);
/* Loads every accepted exam record of the county, replacing what l held. */
XS_MUST_USE xs_err hub_ledger_exams(hub_ledger_t *l, xs_txn_t *txn);
/* Points idents at origins (after the last load) and returns them. */
const xs_receipt_ident_t *hub_ledger_idents(hub_ledger_t *l);

#endif
