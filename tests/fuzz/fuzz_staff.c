/* fuzz_staff: the roster's CSV reader and its stored-form decoder on arbitrary bytes. A roster
 * read from CSV must be sorted with unique ids and survive encode/decode unchanged; a roster
 * decoded from bytes must re-encode to bytes that decode to the same roster. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/staff.h"
#include "xs/text.h"

/* Rosters past this size add nothing the limits under test need. */
#define S_INPUT_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks a roster's invariants and that its stored form reads back the same. */
static void s_check(const xs_staff_t *staff) {
    for (uint32_t i = 0; i < staff->count; i++) {
        const xs_staff_entry_t *e = &staff->entries[i];
        if (i > 0 && strcmp(staff->entries[i - 1].teacher_id, e->teacher_id) >= 0)
            abort();
        if (!e->teacher_id[0] || !e->name[0] || !e->school_id[0] ||
            e->role_count > XS_STAFF_ROLES_MAX || e->status >= XS_STAFF_STATUS_COUNT)
            abort();
        if (xs_staff_find(staff, e->teacher_id, strlen(e->teacher_id)) != e)
            abort();
    }
    xs_writer_t w;
    xs_staff_t back;
    xs_writer_init(&w, (size_t)1 << 28);
    xs_staff_encode(staff, &w);
    if (xs_writer_err(&w) != XS_OK || xs_staff_decode(&back, w.data, w.len) != XS_OK)
        abort();
    if (back.count != staff->count || back.version != staff->version ||
        back.issued_at != staff->issued_at ||
        (staff->count &&
         memcmp(back.entries, staff->entries, staff->count * sizeof *staff->entries) != 0))
        abort();
    xs_staff_free(&back);
    xs_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > S_INPUT_MAX)
        return 0;
    xs_staff_t staff;
    char msg[1024];
    uint32_t bad = 0;
    xs_err err =
        xs_staff_parse_csv(&staff, (const char *)data, size, NULL, NULL, msg, sizeof msg, &bad);
    if (err == XS_OK) {
        if (bad != 0)
            abort();
        s_check(&staff);
        const xs_staff_entry_t *near[4];
        if (staff.count && xs_staff_nearest(&staff, staff.entries[0].name,
                                            strlen(staff.entries[0].name), near, 4) == 0)
            abort(); /* an exact name is always its own nearest */
        xs_staff_free(&staff);
    } else {
        if (staff.entries || (err == XS_EINVAL && bad == 0))
            abort();
        if (!xs_text_utf8_valid(msg, strlen(msg)))
            abort();
    }
    err = xs_staff_decode(&staff, data, size);
    if (err == XS_OK) {
        s_check(&staff);
        xs_staff_free(&staff);
    } else if (staff.entries || (err != XS_EMALFORMED && err != XS_ETOOBIG && err != XS_ENOMEM)) {
        abort();
    }
    return 0;
}
