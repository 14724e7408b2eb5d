/* runs.h — the run, search and ensemble directories under some directories, one entry each, from their summary.json.
 *
 * nnx_runs_scan walks each directory it is given: a directory holding a
 * summary.json is an entry (a search's trials and an ensemble's members
 * belong to it and are not listed); any other directory is looked into, a
 * few levels deep (runs/<group>/<run>/ is found).  Only summary.json files
 * are read — for a search also its winner's — so that ten thousand runs list
 * in well under a second.
 *
 * Ownership: an nnx_runs owns its entries, and each entry its strings and its
 * parsed summary; nnx_runs_free releases them all.
 */
#ifndef NNX_RUNS_H
#define NNX_RUNS_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/util/json.h"
#include "nnx/util/error.h"

typedef struct nnx_runs_entry {
    char   *path;               /* the directory */
    const char *kind;           /* "run", "search", "ensemble" */
    double  when;               /* summary.json's modification time, unix seconds */
    const char *experiment;     /* "" when absent */
    char    status[48];         /* a run's status; a search: "7/9 trials"; an ensemble: "3/3 members" */
    const char *select;         /* "valid.accuracy", or "" */
    bool    select_max;
    double  select_value;       /* NaN when none */
    int     epoch;              /* the selected epoch; 0 = none */
    int     epochs;             /* epochs run; 0 = unknown */
    double  seconds;            /* total_seconds (a search: its trials' summed, trials.csv; an
                                   ensemble: its members'); NaN = unknown */
    const nnx_json *metrics;    /* the "metrics" object (search: the winner's; ensemble:
                                   "ensemble"."metrics"), or NULL */
    const nnx_json *git;        /* the "git" object, or NULL (recorded before nnx did) */
    nnx_json *summary;          /* owned: the parsed summary.json */
    nnx_json *winner;           /* owned: a search's winner's summary.json, or NULL */
} nnx_runs_entry;

typedef struct nnx_runs {
    nnx_runs_entry *items;
    size_t n, cap;
    char  **problems;           /* a summary.json that could not be read, with why */
    size_t  nproblems;
} nnx_runs;

/* Add the entries under `dir` (which may itself be one).  -1 with err when
 * dir is not a readable directory or memory runs out; an unreadable
 * summary.json is not an error but a problem (r->problems). */
int  nnx_runs_scan(const char *dir, nnx_runs *r, nnx_rt_error *err);
void nnx_runs_free(nnx_runs *r);

/* Metric `name` of an entry: its "metrics" member, or the select value when
 * `name` is the select metric; NaN when absent. */
double nnx_runs_metric(const nnx_runs_entry *e, const char *name);

/* The commit column: 8 hex digits, "+" when dirty; "-" outside a repository
 * (or not recorded). */
void nnx_runs_commit(const nnx_runs_entry *e, char *buf, size_t size);

#endif
