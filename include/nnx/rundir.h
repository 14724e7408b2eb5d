/* rundir.h — reading back what `nnx run` wrote: a run, a search or an ensemble directory.
 *
 * The layout is described in docs/run-directory.md.  Errors name the file
 * and, for a CSV, the line and column: "runs/x-1a2b/metrics.csv:5: column
 * 'valid.loss': 'abc' is not a number".
 *
 * Ownership: an nnx_table owns its names, cells and values; an nnx_run owns
 * its path, tables and summary tree; an nnx_rundir owns its runs.  The
 * *_free functions release everything and leave the struct zeroed.  Pointers
 * returned by the accessors are borrowed from their owner.
 */
#ifndef NNX_RUNDIR_H
#define NNX_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/diagnose.h"
#include "nnx/util/json.h"
#include "nnx/util/error.h"
#include "nnx/util/file.h"

/* A CSV file with a header row.  Stored by column, so a column is one
 * contiguous array of numbers (what nnx_curves wants). */
typedef struct nnx_table {
    size_t  ncols, nrows;
    char  **names;     /* [ncols] */
    char  **cells;     /* [ncols * nrows], column-major: cells[col * nrows + row] */
    double *values;    /* same layout; NaN when a cell is empty or not a number */
} nnx_table;

/* Parse CSV text (RFC 4180 quoting; LF or CRLF; a trailing newline optional).
 * `path` only names the file in errors.  Every row must have as many cells as
 * the header; duplicate or empty header names are errors. */
int  nnx_table_parse(const char *text, size_t len, const char *path, nnx_table *t,
                     nnx_rt_error *err);
int  nnx_table_read(const char *path, nnx_table *t, nnx_rt_error *err);
void nnx_table_free(nnx_table *t);
/* Index of the column named `name`, or -1. */
int           nnx_table_find(const nnx_table *t, const char *name);
/* The column's numbers, nrows long, or NULL when there is no such column. */
const double *nnx_table_column(const nnx_table *t, const char *name);
const char   *nnx_table_cell(const nnx_table *t, size_t row, size_t col);

/* One run directory. */
typedef struct nnx_run {
    char     *path;
    nnx_json *summary;        /* NULL when summary.json is absent */
    nnx_table metrics;        /* nrows 0 when metrics.csv is absent */
    nnx_table steps;          /* nrows 0 when steps.csv is absent */
    bool      has_metrics, has_steps;
    /* From the summary, with defaults when it is absent: */
    const char *experiment;   /* "" */
    const char *status;       /* "unknown" */
    const char *select_metric;/* "valid.loss" */
    bool        select_max;   /* false */
    int         select_epoch; /* 0 = unknown */
    double      chance_loss;  /* NaN = unknown */
    nnx_diag_setup setup;     /* summary.json's "setup" and "source" (zero = unknown) */
} nnx_run;

/* Read DIR/metrics.csv, DIR/steps.csv and DIR/summary.json.  A missing
 * summary or steps file is not an error; a missing metrics.csv is an error
 * only when `need_metrics`.  Every metrics.csv and steps.csv cell must be
 * empty or a number, and epochs must increase. */
int  nnx_run_read(const char *dir, bool need_metrics, nnx_run *run, nnx_rt_error *err);
void nnx_run_free(nnx_run *run);

/* Point `c` at the run's curves (borrowed from run; valid while it lives).
 * -1 when the run has no metrics or no train.loss column. */
int nnx_run_curves(const nnx_run *run, nnx_curves *c, nnx_rt_error *err);

typedef enum nnx_rundir_kind { NNX_RUNDIR_RUN, NNX_RUNDIR_SEARCH, NNX_RUNDIR_ENSEMBLE } nnx_rundir_kind;

/* A run, a search (trials.csv + trials/NAME/) or an ensemble (members/SEED/). */
typedef struct nnx_rundir {
    nnx_rundir_kind kind;
    char     *path;
    nnx_run   run;            /* RUN: the run itself */
    nnx_json *summary;        /* SEARCH, ENSEMBLE: summary.json, or NULL */
    nnx_table trials;         /* SEARCH: trials.csv */
    size_t    nchildren;      /* SEARCH: one per trials.csv row; ENSEMBLE: per member directory */
    char    **child_names;    /* [nchildren]: trial name or seed */
    nnx_run  *children;       /* [nchildren] */
    char    **child_errors;   /* [nchildren]: why a child could not be read, or NULL */
    /* SEARCH: trials.csv's layout */
    size_t    nparams;        /* parameter columns are 1..nparams */
    int       status_col, epoch_col, metric_col;  /* -1 when absent */
    const char *select_metric;
    bool        select_max;
} nnx_rundir;

/* Read a directory of any kind.  A child without metrics.csv (a trial that
 * failed before its first epoch) is read with has_metrics false; a child
 * that cannot be read (a malformed file) does not fail the whole read: its
 * error is kept in child_errors. */
int  nnx_rundir_read(const char *path, nnx_rundir *d, nnx_rt_error *err);
void nnx_rundir_free(nnx_rundir *d);
const char *nnx_rundir_kind_name(nnx_rundir_kind k);   /* "run" | "search" | "ensemble" */

#endif
