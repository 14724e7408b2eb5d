/* report.h — show a run, search or ensemble directory: a self-contained HTML page or a text summary.
 *
 * The HTML page needs nothing but itself: inline CSS and SVG, no script, no
 * network.  It shows the loss curves (train and valid) and every metric
 * against epoch with the selected epoch marked, the lr schedule, the step
 * losses, the diagnosis beside the plot it speaks of, and for a search the
 * leaderboard and the selected metric against each searched parameter (on a
 * log axis when the values span decades).  For an ensemble, each member side
 * by side.
 *
 * The text form prints the same facts as tables with a unicode sparkline
 * per curve.  Both write to a FILE the caller opened; they print nothing
 * else and return -1 with err filled only on a write error or when a
 * directory has nothing to show.
 */
#ifndef NNX_REPORT_H
#define NNX_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "nnx/exp.h"
#include "nnx/util/error.h"
#include "nnx/rt/lr_range.h"
#include "nnx/rundir.h"

int nnx_report_html(const nnx_rundir *d, FILE *out, nnx_rt_error *err);
int nnx_report_text(const nnx_rundir *d, FILE *out, nnx_rt_error *err);

/* Read directory `dir` and write its report (HTML, or text when `text`) to
 * `path`, or to dir/report.html when `path` is NULL, through a temporary file
 * renamed over it.  When `written` is not NULL it receives the path written
 * (malloc'd; the caller frees it). */
int nnx_report_write(const char *dir, const char *path, bool text, char **written,
                     nnx_rt_error *err);

/* An lr range test (nnx lr-find) written to `dir` (made if missing):
 * dir/lr_find.csv (step,lr,loss,smoothed) and dir/report.html (the smoothed
 * loss against the lr on a log axis, the steepest fall, the lowest point and
 * the proposed lr marked, and the --set line), each atomically.  When
 * `written` is not NULL it receives the report's path (malloc'd). */
typedef struct nnx_lr_find_info {
    const char *experiment, *source;   /* for the title and the command */
    int         batch;
} nnx_lr_find_info;
int nnx_lr_find_write(const char *dir, const nnx_lr_find_info *info, const nnx_lr_range *r,
                      char **written, nnx_rt_error *err);
/* A comparison page of several runs: their curves overlaid per metric (one
 * <path data-series="LABEL"> per run and chart), a table of the runs (status,
 * commit, selected epoch, test metrics), the settings table with the rows
 * that differ highlighted, and each run's diagnosis. */
typedef struct nnx_compare_run {
    const char    *label;           /* the directory as named */
    const nnx_run *run;             /* read with nnx_run_read */
    const nnx_exp_param *settings;  /* nnx_experiment_settings of its experiment.nnx */
    size_t         nsettings;
    const char    *commit;          /* git commit, or NULL */
    bool           dirty, in_repo;
} nnx_compare_run;

int nnx_report_compare_html(const nnx_compare_run *runs, size_t n, FILE *out, nnx_rt_error *err);
/* The same page written to `path` through a temporary file and a rename. */
int nnx_report_compare_write(const nnx_compare_run *runs, size_t n, const char *path, nnx_rt_error *err);

/* The sparkline of n values (NaN drawn as a space) resampled to at most
 * `width` characters, into buf (UTF-8, 3 bytes a character).  Returns buf. */
char *nnx_sparkline(const double *v, size_t n, size_t width, char *buf, size_t size);

#endif
