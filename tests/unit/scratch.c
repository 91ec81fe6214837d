/* scratch: unit tests' scratch directories. */
#include "scratch.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int xs_scratch_make(char *dir, size_t cap, const char *name) {
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, cap, "%s/%s_XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (n < 0 || (size_t)n >= cap || !mkdtemp(dir)) {
        if (cap)
            dir[0] = '\0';
        return -1;
    }
    return 0;
}

/* Removes path: a directory's entries first, then itself; anything else is unlinked. */
static void s_remove(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    char child[4096];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) < (int)sizeof child)
            s_remove(child);
    }
    if (d)
        closedir(d);
    rmdir(path);
}

void xs_scratch_remove(const char *dir) {
    if (!dir || !dir[0])
        return;
    if (getenv("XS_KEEP")) {
        fprintf(stderr, "kept %s\n", dir);
        return;
    }
    s_remove(dir);
}
