/* cmd-inspect.c: placeholder, replaced by the parser work. */
#include "cli.h"
int cmd_inspect(int argc, char **argv) { (void)argc; (void)argv; return CLI_FAIL; }
