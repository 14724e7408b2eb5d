/* report_search.h — a search report's overview charts (report_search.c; internal to src/report). */
#ifndef NNX_REPORT_SEARCH_H
#define NNX_REPORT_SEARCH_H

#include <stdio.h>

#include "nnx/rundir.h"

/* A grid or random search: the parallel coordinates of its trials (each
 * searched parameter, then the select metric; `win` is the winner's row of
 * trials.csv, or -1) and the parameter importance bar chart (one-way ANOVA
 * eta squared of the select value grouped by each parameter; a pruned
 * search: the values at its first rung's epoch).  Nothing for a staged
 * search or one without values. */
void report_search_overview(FILE *out, const nnx_rundir *d, long win);

/* A pruned search (summary.json "prune"."rung_epochs"): every trial's select
 * metric by epoch, coloured by the rung where it stopped; `order` is the
 * leaderboard's. */
void report_search_rungs(FILE *out, const nnx_rundir *d, const size_t *order);

#endif
