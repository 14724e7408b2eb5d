/* run_search.h — `nnx run` for an experiment with a search or an ensemble (run_search.c). */
#ifndef NNX_CLI_RUN_SEARCH_H
#define NNX_CLI_RUN_SEARCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "nnx/check.h"
#include "nnx/exp.h"
#include "nnx/search.h"

typedef struct cli_search_args {
    const char *file;               /* the .nnx file */
    const char *name;               /* the experiment as named on the command line, or NULL */
    const nnx_override *sets;       /* --set flags */
    size_t nsets;
    nnx_checker *c;
    const nnx_experiment *e;        /* checked with the --set flags */
    const char *out_dir;            /* --out (the search directory goes below it) */
    int  jobs;                      /* -j: trials at once */
    bool resume;                    /* --resume: an earlier search must be there */
    bool quiet;
    const volatile sig_atomic_t *interrupt;
    const char *lua_stdlib;         /* for `require "nnx.*"` in hooks, or NULL */
    const char *data_cache;         /* the parsed-data cache directory, or NULL */
    const char *only;               /* --trial: train this one trial here (nnx_search_opts.only) */
    int  threads;                   /* --trial: the trial's threads */
    const struct nnx_provenance *provenance;   /* the files' git state, or NULL */
} cli_search_args;

/* Run the search or ensemble, print its progress and leaderboard; returns
 * the exit status (0, 1 when no trial ended well, 2 bad input, 130 Ctrl-C,
 * 143 SIGTERM).  With `only`: train that trial (exit as its run would: 0,
 * 1 diverged or failed, 130/143), or say why not (0: it had ended, another
 * process holds it). */
int cli_run_search(const cli_search_args *a);

/* The leaderboard's top rows (an ensemble: its members and their average). */
void cli_print_board(FILE *o, const nnx_search_result *r);

#endif
