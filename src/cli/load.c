/* load.c — the start every FILE [NAME] [--set ...] command shares: collect --set, load the file, check the experiment. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/exp.h"
#include "nnx/resolve.h"

int cli_add_set(const char *cmd, char *arg, nnx_override *sets, size_t *nsets, size_t max)
{
    if (!arg) {
        fprintf(stderr, "nnx %s: --set needs path=value\n", cmd);
        return -1;
    }
    if (*nsets == max) {
        fprintf(stderr, "nnx %s: at most %zu --set options\n", cmd, max);
        return -1;
    }
    if (!nnx_override_split(arg, &sets[*nsets])) {
        fprintf(stderr, "nnx %s: --set '%s': expected path=value, e.g. --set optimizer.lr=3e-4\n",
                cmd, arg);
        return -1;
    }
    (*nsets)++;
    return 0;
}

nnx_experiment *cli_load_experiment(const char *cmd, const char *file, const char *name,
                                    const nnx_override *sets, size_t nsets, cli_loaded *l)
{
    memset(l, 0, sizeof *l);
    bool color = isatty(fileno(stderr));
    nnx_diags d = { 0 };
    l->program = nnx_program_load(file, NULL, &d);
    l->checker = l->program ? nnx_checker_new(l->program) : NULL;
    if (l->checker && d.nerrors == 0)
        l->e = nnx_check_experiment(l->checker, name, sets, nsets, &d);
    nnx_diags_print(&d, stderr, color);
    if (!l->e) {
        if (!d.nerrors)
            fprintf(stderr, "nnx %s: out of memory\n", cmd);
        else
            fprintf(stderr, "%s: %d error%s; nothing was trained\n", file, d.nerrors,
                    d.nerrors == 1 ? "" : "s");
        cli_loaded_free(l);
    }
    nnx_diags_free(&d);
    return l->e;
}

void cli_loaded_free(cli_loaded *l)
{
    nnx_experiment_free(l->e);
    nnx_checker_free(l->checker);
    nnx_program_free(l->program);
    memset(l, 0, sizeof *l);
}
