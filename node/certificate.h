/* certificate: a teacher's 学时证明 printed at the node: from the hub's signed receipt when the
 * node holds one covering the year (its QR code on the page), else from the node's own records
 * (暂定, no QR code). */
#ifndef NODE_CERTIFICATE_H
#define NODE_CERTIFICATE_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "xs/staff.h"

/* What node_certificate_write printed. */
typedef struct node_certificate_info {
    int provisional;    /* 1: from the node's records (暂定), no QR code */
    const char *why;    /* provisional: why there is no receipt to print, Chinese then
                           English (static) */
    uint8_t conclusion; /* xs_certificate_conclusion */
    size_t activities;  /* credited activities of the year */
    size_t receipt_len; /* the receipt's bytes (also when XS_ETOOBIG refused it) */
} node_certificate_info_t;

/* Writes the 学时证明 of teacher (NUL-terminated) for academic year `year` (2025 for 2025-2026)
 * to the PDF at path, inside one read snapshot of node. Confirmed when the node holds the
 * hub's receipt for the teacher, verified against the county key, of the node's policy and
 * with a period of that year: the bucket rows are the receipt's and its envelope is the QR
 * code. Otherwise provisional, from the node's records certified under policy as `xueshi-node
 * totals` does. Either way the activities are the teacher's records of that year the engine
 * credits on the node's records, the conclusion and the exemption (免于认定) are judged as the
 * county does (xs_standing_of, the roster line from staff when it has one), and the name
 * comes from staff (may be zeroed: no roster). *info is filled. XS_ENOTFOUND when the node
 * has no record of the teacher and staff does not name them; XS_ETOOBIG when the receipt is
 * too large for a QR code (info->receipt_len says how large: nothing is written); XS_EIO,
 * XS_ENOMEM, XS_ECORRUPT, or the store's error. */
XS_MUST_USE xs_err node_certificate_write(node_t *node, const xs_policy_t *policy,
                                          const xs_staff_t *staff, const char *teacher, int year,
                                          const char *path, node_certificate_info_t *info);

#endif
