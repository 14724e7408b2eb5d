/* report_model.h — what a report shows, computed once for the HTML and the text forms (internal to src/report). */
#ifndef NNX_REPORT_MODEL_H
#define NNX_REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/diagnose.h"
#include "nnx/rundir.h"

/* The inline CSS of every report page (report_html.c). */
extern const char report_page_css[];

/* A metrics.csv column shown as a metric: not epoch, lr, train/valid loss or seconds. */
bool report_is_metric_column(const char *name);

/* Trial indices in leaderboard order: the summary's winner first, then the
 * best select value (by the search's direction; values that print the same
 * tie), trials without a value last, ties in trials.csv order (which nnx
 * ranked by the valid loss).
 * NULL when out of memory; the caller frees. */
size_t *report_leaderboard(const nnx_rundir *d);

/* The selected epoch (1-based): the summary's, else the best select value,
 * else the lowest valid loss; 0 when none. */
int report_selected_epoch(const nnx_run *run, const nnx_curves *c);
/* The epoch (1-based) of the lowest valid loss, 0 when there is none. */
int report_lowest_loss_epoch(const nnx_curves *c);

/* Every value finite and > 0, and the largest >= 100x the smallest. */
bool report_spans_decades(const double *v, size_t n);

/* The number in summary.metrics[name], or NaN. */
double report_summary_metric(const nnx_run *run, const char *name);

#endif
