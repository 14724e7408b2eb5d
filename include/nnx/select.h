/* select.h — which epoch (and which trial) a `select` metric keeps, ties included.
 *
 * Two values of a `select` metric tie when they print the same to 6
 * significant digits (as metrics.csv and the terminal show them).  Among
 * tied epochs a run keeps the one with the lower valid loss; among tied
 * trials a search ranks first the one whose selected epoch had the lower
 * valid loss.  Every place that picks an epoch or a trial by `select` uses
 * these, so the run, the diagnosis, the leaderboard and the stages agree.
 */
#ifndef NNX_SELECT_H
#define NNX_SELECT_H

#include <stdbool.h>
#include <stddef.h>

/* True when a and b print the same (%.6g); NaN ties nothing. */
bool nnx_select_ties(double a, double b);
/* 1 when a is better than b (higher with max), -1 when worse, 0 on a tie. */
int  nnx_select_compare(double a, double b, bool max);
/* The index of the best finite value; among tied values the one with the
 * lower valid loss (valid_loss may be NULL: then the first); -1 when none. */
long nnx_select_best(const double *values, const double *valid_loss, size_t n, bool max);

#endif
