/* fuzz_config: the configuration file reader (xs_cli_config_parse) on arbitrary bytes, for a
 * command with options of each kind: every value it sets must lie inside the text it was
 * given, NUL-terminated, and a flag's value is "1". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > XS_CLI_CONFIG_MAX)
        return 0;
    char *text = malloc(size + 1);
    char err[256];
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    xs_cli_opt_t opts[] = {
        {"dir", 1, NULL}, {"listen", 1, NULL}, {"dry-run", 0, NULL}, {"help", 0, NULL}};
    const size_t nopts = sizeof opts / sizeof opts[0];
    if (xs_cli_config_parse(text, size, "run", opts, nopts, err, sizeof err) == XS_OK) {
        for (size_t i = 0; i < nopts; i++) {
            const char *v = opts[i].value;
            if (!v)
                continue;
            if (!opts[i].takes_value) {
                if (strcmp(v, "1") != 0 || strcmp(opts[i].name, "help") == 0)
                    abort();
            } else if (v < text || v > text + size ||
                       !memchr(v, '\0', (size_t)(text + size - v) + 1)) {
                abort();
            }
        }
    } else if (!memchr(err, '\0', sizeof err) || !err[0]) {
        abort();
    }
    free(text);
    return 0;
}
