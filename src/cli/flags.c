/* flags.c — what the commands share in reading their flags: `--set path=value`, an unknown flag told with the one meant, the data cache's directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/diag.h"
#include "nnx/util/file.h"

void cli_unknown_flag(const char *cmd, const char *arg, const char *const *known, size_t n)
{
    char name[64];      /* --out=DIR: the flag is --out */
    snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    const char *fix = nnx_suggest(name, known, n);
    if (!fix && name[0] == '-' && name[1] != '-') {
        char two[66];   /* -out for --out */
        snprintf(two, sizeof two, "-%s", name);
        fix = nnx_suggest(two, known, n);
    }
    fprintf(stderr, "nnx %s: unknown option '%s'", cmd, arg);
    if (fix)
        fprintf(stderr, " (did you mean '%s'?)", fix);
    fputc('\n', stderr);
}

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

char *cli_data_cache_dir(bool no_cache)
{
    if (no_cache)
        return NULL;
    const char *env = getenv("NNX_CACHE");
    if (env && *env)
        return strdup(env);
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')           /* the XDG spec: a relative value is ignored */
        return nnx_path_join(xdg, "nnx");
    const char *home = getenv("HOME");
    if (home && *home)
        return nnx_path_join(home, ".cache/nnx");
    return NULL;
}

int cli_from_flag(const char *cmd, int argc, char **argv, int *i, const char **dir)
{
    const char *a = argv[*i];
    if (strcmp(a, "--from") && strncmp(a, "--from=", 7))
        return 0;
    *dir = a[6] == '=' ? a + 7 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (!*dir || !**dir) {
        fprintf(stderr, "nnx %s: --from needs a search directory (as `nnx run` wrote it)\n", cmd);
        return -1;
    }
    return 1;
}

int cli_file_and_name(const char *cmd, const char *arg, const char **file, const char **name)
{
    if (!*file) {
        *file = arg;
    } else if (!*name) {
        *name = arg;
    } else {
        fprintf(stderr, "nnx %s: unexpected argument '%s'\n", cmd, arg);
        return -1;
    }
    return 0;
}
