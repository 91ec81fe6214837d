/* web: the county dashboard's pages, server-rendered HTML over the hub's store (the county, a
 * school, a teacher, the workbook to download), and the background work that shows progress
 * when one takes more than a second. Knows nothing of HTTP: hub/cmd_web.c serves it. */
#ifndef HUB_WEB_H
#define HUB_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "xs/codec.h"

/* Largest page rendered, in bytes: a county's or a large school's page fits many times. */
#define HUB_WEB_PAGE_MAX ((size_t)32 << 20)
/* Pages made at once in the background; another is refused (503) until one ends. */
#define HUB_WEB_JOBS_MAX 4
/* Milliseconds a request waits for its page before it answers with how far the page is. */
#define HUB_WEB_WAIT_MS 1000

/* What to answer a request with. */
typedef struct hub_web_page {
    unsigned status;          /* HTTP status: 200, 400, 404, 500, 503 */
    const char *content_type; /* static */
    xs_writer_t body;         /* the bytes, when fd < 0 */
    int fd;                   /* a download: an open file, already unlinked; else -1 */
    char disposition[512];    /* Content-Disposition of a download; else "" */
} hub_web_page_t;

/* Looks up a query parameter of the request: its decoded value, or NULL when absent; valid
 * while the request is being answered. */
typedef const char *(*hub_web_param_fn)(void *ctx, const char *name);

typedef struct hub_web hub_web_t;

/* Prepares the pages over the open hub (borrowed until hub_web_close; opened with keys,
 * HUB_OPEN_KEYS, for the certificates' QR codes carry receipts signed when they are made;
 * without keys their pages are 暂定): checks DIR/hub.pub, and makes a private directory under
 * tmp_dir (NULL: $TMPDIR or /tmp) for downloads being written. XS_ENOMEM, XS_EIO,
 * XS_ENOTFOUND (no hub.pub), XS_ECORRUPT (hub.pub does not parse). *out is the caller's. */
XS_MUST_USE xs_err hub_web_open(hub_web_t **out, hub_t *hub, const char *tmp_dir);

/* Waits for the pages still being made, frees them, removes the directory, and frees *web;
 * accepts NULL and nulls the pointer. */
void hub_web_close(hub_web_t **web);

/* Renders the page at path (decoded, starting with '/') with the request's query into *page
 * (initialised here; free it with hub_web_page_free), in one read transaction of its own:
 *   /                        the county (?year=2025-2026, default the academic year of today)
 *   /school/ID               a school's teachers, totals and conclusions (?year=)
 *   /teacher/ID              a teacher's records, totals and newest receipt (?year=)
 *   /download/Y/汇总表.xlsx  the workbook of year Y (?school=ID: one school)
 *   /style.css               the stylesheet
 * A bad year is 400, an unknown path, school or teacher 404, a store that fails 500; each
 * with a page saying so. Safe on several threads at once. XS_ENOMEM when not even the error
 * page can be made. */
XS_MUST_USE xs_err hub_web_render(hub_web_t *web, const char *path, hub_web_param_fn param,
                                  void *ctx, hub_web_page_t *page);

/* As hub_web_render, for a server: the page is made on a thread of its own; when it is not
 * ready within HUB_WEB_WAIT_MS, *page is a small page saying how far it is that reloads
 * itself every second (no script), and the next request for the same path and query gets the
 * page once it is ready. More than HUB_WEB_JOBS_MAX pages being made at once: 503. */
XS_MUST_USE xs_err hub_web_serve(hub_web_t *web, const char *path, hub_web_param_fn param,
                                 void *ctx, hub_web_page_t *page);

/* Sets how long hub_web_serve waits for a page before it answers with its progress, in
 * milliseconds (HUB_WEB_WAIT_MS until set); 0 always answers at once. */
void hub_web_set_wait(hub_web_t *web, unsigned ms);

/* Frees what a page holds (closes its file); safe on a page freed already. */
void hub_web_page_free(hub_web_page_t *page);

#endif
