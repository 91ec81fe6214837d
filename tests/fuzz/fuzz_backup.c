/* fuzz_backup: a backup file (xs/backup.h) read back from arbitrary bytes: xs_backup_verify
 * must refuse, saying why, whatever is not a whole, well-formed archive with its checksum; what
 * it accepts must extract into a new directory, or leave no directory behind. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs/backup.h"

/* Inputs past this gain nothing: every structure repeats within it. */
#define FUZZ_MAX_INPUT (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_file[64], s_dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xs_backup_info_t info;
    const char *why = NULL;
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (!s_file[0]) {
        snprintf(s_file, sizeof s_file, "/tmp/fuzz_backup.%ld.xsbak", (long)getpid());
        snprintf(s_dir, sizeof s_dir, "/tmp/fuzz_backup.%ld.d", (long)getpid());
    }
    FILE *f = fopen(s_file, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    xs_err err = xs_backup_verify(s_file, NULL, "fuzz_backup", &info, &why);
    if (err != XS_OK && !why)
        abort();
    if (err == XS_OK) {
        if (!info.kind[0] || !memchr(info.version, '\0', sizeof info.version))
            abort();
        /* What verifies extracts, or says why not; either way nothing is left half-made. */
        if (xs_backup_remove_tree(s_dir) != XS_OK)
            abort();
        err = xs_backup_extract(s_file, NULL, "fuzz_backup", s_dir, &info, &why);
        if (err != XS_OK && access(s_dir, F_OK) == 0)
            abort();
        if (xs_backup_remove_tree(s_dir) != XS_OK)
            abort();
    }
    unlink(s_file);
    return 0;
}
