/* xueshi-node import: placeholder until the sheet module lands. */
#include "node.h"
int node_cmd_import(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return 2;
}
