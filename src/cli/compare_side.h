/* compare_side.h — one side of `nnx diff` and of a comparison report: a run directory or a .nnx file (compare_side.c). */
#ifndef NNX_CLI_COMPARE_SIDE_H
#define NNX_CLI_COMPARE_SIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/exp.h"
#include "nnx/util/json.h"
#include "nnx/provenance.h"

typedef struct cli_side {
    const char *arg;            /* as named on the command line */
    bool        is_run;         /* a run (or search, ensemble) directory; else a .nnx file */
    nnx_json   *summary;        /* the run's summary.json; NULL for a .nnx file (owned) */
    nnx_provenance prov;        /* a .nnx file: its git state now (owned) */
    nnx_exp_param *settings;    /* nnx_experiment_settings of the resolved experiment (owned) */
    size_t      nsettings;
    char       *experiment;     /* its name (owned) */
} cli_side;

/* Load a side: DIR/experiment.nnx and DIR/summary.json, or FILE checked
 * (its only experiment).  On a mistake prints "nnx CMD: ..." (and the
 * diagnostics) and returns EXIT_BAD_INPUT; else EXIT_OK. */
int  cli_side_load(const char *cmd, const char *arg, cli_side *s);
void cli_side_free(cli_side *s);

/* The git facts of a side: commit (or NULL), branch, dirty; in_repo false
 * when outside a repository or not recorded. */
void cli_side_git(const cli_side *s, const char **commit, const char **branch, bool *dirty, bool *in_repo);

#endif
