/* set_flag.c — the `--set path=value` flag, read the same way by every command that checks an experiment. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "nnx/check.h"

int cli_set_flag(const char *cmd, int argc, char **argv, int *i, struct nnx_override *sets,
                 size_t *nsets)
{
    const char *a = argv[*i];
    if (strcmp(a, "--set") && strncmp(a, "--set=", 6))
        return 0;
    char *arg = a[5] == '=' ? argv[*i] + 6 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (!arg) {
        fprintf(stderr, "nnx %s: --set needs path=value, e.g. --set optimizer.lr=3e-4\n", cmd);
        return -1;
    }
    if (*nsets == CLI_MAX_SETS) {
        fprintf(stderr, "nnx %s: at most %d --set options\n", cmd, CLI_MAX_SETS);
        return -1;
    }
    if (!nnx_override_split(arg, &sets[*nsets])) {
        fprintf(stderr, "nnx %s: --set '%s': expected path=value, e.g. --set optimizer.lr=3e-4\n", cmd,
                arg);
        return -1;
    }
    ++*nsets;
    return 1;
}
