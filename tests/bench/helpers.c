/* helpers: small helpers every benchmark program shares. */
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const char *bench_thousands(double value, char out[32]) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%.0f", value);
    size_t o = 0;
    for (int i = 0; i < n && o < 30; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

void bench_remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char child[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            bench_remove_tree(child);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int bench_policy_path(char *out, size_t cap) {
    const char *env = getenv("XS_BENCH_POLICY");
    if (env) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    static const char tail[] = "/tests/bench/helpers.c";
    const char *file = __FILE__;
    size_t len = strlen(file);
    if (file[0] != '/' || len < sizeof tail || strcmp(file + len - (sizeof tail - 1), tail) != 0)
        return -1;
    snprintf(out, cap, "%.*s/schema/policies/baiwanzi.ini", (int)(len - (sizeof tail - 1)), file);
    return 0;
}

static int s_cmp_path(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

size_t bench_shipped_policies(char paths[][1024], size_t cap) {
    char dir[512];
    const char *root = getenv("XS_SOURCE_DIR");
    static const char tail[] = "/tests/bench/helpers.c";
    const char *file = __FILE__;
    size_t len = strlen(file);
    if (root)
        snprintf(dir, sizeof dir, "%s/schema/policies", root);
    else if (len >= sizeof tail && strcmp(file + len - (sizeof tail - 1), tail) == 0)
        snprintf(dir, sizeof dir, "%.*s/schema/policies", (int)(len - (sizeof tail - 1)), file);
    else
        snprintf(dir, sizeof dir, "schema/policies");
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && n < cap) {
        size_t name_len = strlen(e->d_name);
        if (name_len > 4 && strcmp(e->d_name + name_len - 4, ".ini") == 0)
            snprintf(paths[n++], 1024, "%s/%s", dir, e->d_name);
    }
    if (d)
        closedir(d);
    qsort(paths, n, sizeof paths[0], s_cmp_path);
    return n;
}

pid_t bench_spawn(const char *path, const char *out_path, const char *const *args) {
    extern char **environ;
    const char *argv[40];
    size_t n = 0;
    argv[n++] = path;
    for (; args[n - 1] && n < 39; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, path, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

int bench_wait(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

int bench_last_line(const char *path, char *out, size_t cap) {
    char line[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    out[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t len = strlen(line);
        if (len == 0)
            continue;
        len = len < cap - 1 ? len : cap - 1;
        memcpy(out, line, len);
        out[len] = '\0';
    }
    fclose(f);
    return 0;
}
