/* replay_main: runs a libFuzzer harness over saved inputs, so ctest replays the corpus. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Largest input fed to the harness; longer files are cut here, as libFuzzer's -max_len. */
#define REPLAY_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds one file to the harness in a buffer of exactly its size, so that ASan sees any read
 * past the end. Returns 0, or -1 when the file cannot be read. */
static int s_replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = malloc(REPLAY_MAX);
    size_t n = buf ? fread(buf, 1, REPLAY_MAX, f) : 0;
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        free(buf);
        return -1;
    }
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int s_is_regular(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Replays every regular file of dir, in name order; returns how many, or -1 when the
 * directory cannot be read, holds no file or a file fails to read. */
static long s_replay_dir(const char *dir) {
    struct dirent **names;
    int count = scandir(dir, &names, NULL, alphasort);
    if (count < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    long replayed = 0;
    int failed = 0;
    for (int i = 0; i < count; i++) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (!failed && n > 0 && (size_t)n < sizeof path && s_is_regular(path)) {
            if (s_replay_file(path) != 0)
                failed = 1;
            else
                replayed++;
        }
        free(names[i]);
    }
    free(names);
    if (failed)
        return -1;
    if (replayed == 0) {
        fprintf(stderr, "replay: %s: no input files\n", dir);
        return -1;
    }
    return replayed;
}

int main(int argc, char **argv) {
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            long n = s_replay_dir(argv[i]);
            if (n < 0)
                return 1;
            total += n;
        } else {
            if (s_replay_file(argv[i]) != 0)
                return 1;
            total++;
        }
    }
    printf("replayed %ld inputs\n", total);
    return 0;
}
