/* scratch: unit tests' scratch directories. */
#include "scratch.h"

#include <dirent.h>
#include <fcntl.h>
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

/* Points descriptor to at a new file path; returns a copy of what it was, or -1. */
static int s_redirect(int to, const char *path) {
    fflush(to == 1 ? stdout : stderr);
    int saved = dup(to);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved < 0 || fd < 0 || dup2(fd, to) < 0) {
        if (saved >= 0)
            close(saved);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return saved;
}

/* Puts descriptor to back as saved, and reads path into out (cap bytes). 0, or -1. */
static int s_restore(int to, int saved, const char *path, char *out, size_t cap) {
    fflush(to == 1 ? stdout : stderr);
    dup2(saved, to);
    close(saved);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(out, 1, cap - 1, f);
    out[len] = '\0';
    fclose(f);
    return 0;
}

int xs_scratch_command(const char *dir, int (*cmd)(int, char **), char **argv, int argc, char *out,
                       char *err, size_t cap) {
    char out_path[4096], err_path[4096];
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    snprintf(err_path, sizeof err_path, "%s/err.txt", dir);
    int saved_out = s_redirect(1, out_path);
    if (saved_out < 0)
        return -1;
    int saved_err = err ? s_redirect(2, err_path) : -1;
    if (err && saved_err < 0) {
        s_restore(1, saved_out, out_path, out, cap);
        return -1;
    }
    int rc = cmd(argc, argv);
    if (err && s_restore(2, saved_err, err_path, err, cap) != 0)
        rc = -1;
    if (s_restore(1, saved_out, out_path, out, cap) != 0)
        rc = -1;
    return rc;
}
