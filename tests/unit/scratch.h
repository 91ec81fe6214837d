/* scratch: a unit test's scratch directory under $TMPDIR (or /tmp), made and removed whole. */
#ifndef XS_TEST_SCRATCH_H
#define XS_TEST_SCRATCH_H

#include <stddef.h>

/* Makes a new directory TMPDIR/NAME_XXXXXX and writes its path into dir (cap bytes). 0 on
 * success, -1 when the path does not fit or it cannot be made. */
int xs_scratch_make(char *dir, size_t cap, const char *name);

/* Removes dir and everything below it (links are removed, not followed); with XS_KEEP set in
 * the environment it is kept and its path printed instead, for a post-mortem. */
void xs_scratch_remove(const char *dir);

/* Runs cmd(argc, argv) in this process with its standard output, and its standard error when
 * err is not NULL, going to files in dir (out.txt, err.txt), then reads them back into out
 * and err (cap bytes each, NUL-terminated, cut when longer). Returns cmd's exit code, or -1
 * when the output could not be redirected or read back. */
int xs_scratch_command(const char *dir, int (*cmd)(int, char **), char **argv, int argc, char *out,
                       char *err, size_t cap);

#endif
