/* staff: the county's teacher roster (学员信息表): who the county's teachers are, their school,
 * roles, hiring date and service status; read from the county's CSV, versioned at the hub,
 * and handed to each node as a hub-signed part holding its own schools' teachers only
 * (schema/roster.md). */
#ifndef XS_STAFF_H
#define XS_STAFF_H

#include <stddef.h>
#include <stdint.h>

#include "xs/codec.h"
#include "xs/err.h"
#include "xs/identity.h"
#include "xs/record.h"

/* Limits (schema/roster.md §1). Strings count bytes of UTF-8. */
#define XS_STAFF_NAME_MAX 64              /* a teacher's name */
#define XS_STAFF_ROLE_MAX 32              /* one role as the roster names it ("骨干教师") */
#define XS_STAFF_ROLES_MAX 8              /* roles of one teacher */
#define XS_STAFF_MAX 200000               /* teachers in one roster version */
#define XS_STAFF_PART_MAX 8192            /* teachers in one node's signed part */
#define XS_STAFF_SCHOOLS_MAX 64           /* schools one part covers */
#define XS_STAFF_PART_BYTES (1024 * 1024) /* largest signed part envelope */

/* A teacher's service status (roster column `status`). */
typedef enum xs_staff_status {
    XS_STAFF_ACTIVE = 0,   /* 在职 active */
    XS_STAFF_ON_LEAVE = 1, /* 离岗 on_leave: away for status_from..status_to */
    XS_STAFF_RETIRED = 2,  /* 退休 retired: from status_from on */
    XS_STAFF_LEFT = 3,     /* 调出 left: moved out of the county from status_from on */
} xs_staff_status;
#define XS_STAFF_STATUS_COUNT 4

/* English name ("on_leave") and Chinese label ("离岗") of a status; NULL when unknown. */
const char *xs_staff_status_name(unsigned status);
const char *xs_staff_status_zh(unsigned status);

/* One teacher. Strings are owned, NUL-terminated copies. */
typedef struct xs_staff_entry {
    char teacher_id[XS_ID_MAX + 1];   /* county-unique */
    char name[XS_STAFF_NAME_MAX + 1]; /* 姓名 */
    char school_id[XS_ID_MAX + 1];    /* 学校 */
    uint32_t role_count;
    char roles[XS_STAFF_ROLES_MAX][XS_STAFF_ROLE_MAX + 1]; /* as the CSV names them, in its
                                                              order; a policy's [role.*] matches
                                                              them by name or label */
    int32_t hired;       /* 入职日期, days since 1970-01-01; INT32_MIN: not given */
    uint8_t status;      /* xs_staff_status */
    int32_t status_from; /* first day of the status; INT32_MIN: not given (since always) */
    int32_t status_to;   /* last day of the status; INT32_MAX: not given (open-ended) */
} xs_staff_entry_t;

/* A roster: entries sorted by teacher_id (byte order), ids unique. */
typedef struct xs_staff {
    uint32_t version;  /* 1 for the county's first import, then +1 per import; 0: unversioned */
    int64_t issued_at; /* unix seconds of the import */
    uint32_t count;
    xs_staff_entry_t *entries; /* owned */
} xs_staff_t;

/* Frees a roster's entries and zeroes it; accepts a zeroed roster. */
void xs_staff_free(xs_staff_t *staff);

/* Reads the roster CSV (schema/roster.md §2: Chinese or English headers; columns teacher_id,
 * name, school_id, roles, hired, status, status_from, status_to; other columns ignored) of len
 * bytes into *out (version 0), sorted by teacher_id. known_school (may be NULL: any school) says
 * whether a school_id exists in the county. All or nothing: on any bad line nothing is returned and
 * errbuf (cap bytes) holds one message per bad line, "第 N 行 (line N): …" in Chinese then
 * English, each ending in LF, as many whole ones as fit in cap; *bad_lines gets their number.
 * Refused by line (roster.md §3): text not UTF-8 (a GBK file: the message says to save it as
 * UTF-8), a missing or repeated column, no teacher at all, an empty or over-long id or name,
 * a teacher_id given twice (both lines named), an unknown school, a bad date or status, more
 * than XS_STAFF_ROLES_MAX roles. XS_EINVAL with bad lines, XS_ETOOBIG over XS_STAFF_MAX,
 * XS_ENOMEM. */
XS_MUST_USE xs_err xs_staff_parse_csv(xs_staff_t *out, const char *text, size_t len,
                                      int (*known_school)(void *ctx, const char *school,
                                                          size_t len),
                                      void *ctx, char *errbuf, size_t cap, uint32_t *bad_lines);

/* Finds teacher_id (len bytes) in a sorted roster: the entry, or NULL. */
const xs_staff_entry_t *xs_staff_find(const xs_staff_t *staff, const char *teacher_id, size_t len);

/* Writes up to max (at most 16) entries of staff whose teacher_id or name is nearest to text
 * (len bytes), best first (ties in teacher_id order), into out, and returns how many: an exact name
 * first, then ids and names by edit distance (at most 2, or sharing a prefix of 2 characters or
 * more). For "unknown teacher" messages. */
size_t xs_staff_nearest(const xs_staff_t *staff, const char *text, size_t len,
                        const xs_staff_entry_t **out, size_t max);

/* How one teacher changed from one roster version to the next. */
typedef enum xs_staff_change {
    XS_STAFF_ADDED = 1,   /* 新增 */
    XS_STAFF_MOVED = 2,   /* 调校: school_id changed */
    XS_STAFF_REMOVED = 3, /* 移出: in the old roster, not the new */
    XS_STAFF_CHANGED = 4, /* 信息变更: name, roles, hired or status changed */
} xs_staff_change;

/* Chinese label ("新增") and English name ("added") of a change; NULL when unknown. */
const char *xs_staff_change_zh(unsigned change);
const char *xs_staff_change_name(unsigned change);

/* Calls fn for every teacher that differs between old and new (both sorted), in teacher_id
 * order; old_e is NULL for added, new_e NULL for removed. Stops at fn's first error and
 * returns it. */
XS_MUST_USE xs_err xs_staff_diff(const xs_staff_t *old, const xs_staff_t *new_,
                                 xs_err (*fn)(void *ctx, xs_staff_change change,
                                              const xs_staff_entry_t *old_e,
                                              const xs_staff_entry_t *new_e),
                                 void *ctx);

/* Appends staff's msgpack form (schema/roster.md §4: format, version, issued_at, entries) to
 * w; the same roster always gives the same bytes. */
void xs_staff_encode(const xs_staff_t *staff, xs_writer_t *w);

/* Decodes len bytes of xs_staff_encode's form into *out (owned), strictly: sorted unique
 * ids, every limit above. XS_EMALFORMED, XS_ETOOBIG, XS_ENOMEM. */
XS_MUST_USE xs_err xs_staff_decode(xs_staff_t *out, const void *bytes, size_t len);

/* The days an entry was in service in the period from..to (inclusive dates): from hired on
 * (all of it when hired is not given), less the days of a status other than active. */
int32_t xs_staff_service_days(const xs_staff_entry_t *e, int32_t from, int32_t to);

/* Signs the part of staff for one node: the teachers of the count schools given (the node's
 * own school and those it may record or relay for), and appends the envelope
 * [body, signature] signed over "xueshi-staff-1\0" || body (roster.md §5) to envelope.
 * The body names the hub, origin (the node the part is for), staff's version and issued_at,
 * the schools and the teachers, so the same roster gives the same bytes. XS_EINVAL (count 0
 * or over XS_STAFF_SCHOOLS_MAX), XS_ETOOBIG (over XS_STAFF_PART_MAX teachers or
 * XS_STAFF_PART_BYTES), XS_ENOMEM. */
XS_MUST_USE xs_err xs_staff_part_sign(xs_writer_t *envelope, const xs_identity_t *hub,
                                      const uint8_t origin[XS_SIGN_PK_BYTES],
                                      const xs_staff_t *staff, const char *const *schools,
                                      size_t count);

/* Opens a part envelope signed by hub for origin, verifying before decoding, into *out
 * (owned; version and issued_at as signed). XS_ECRYPTO (not the hub's), XS_EPERM (for
 * another origin), XS_EMALFORMED, XS_ETOOBIG, XS_ENOMEM. */
XS_MUST_USE xs_err xs_staff_part_open(const void *envelope, size_t len,
                                      const uint8_t hub[XS_SIGN_PK_BYTES],
                                      const uint8_t origin[XS_SIGN_PK_BYTES], xs_staff_t *out);

#endif
