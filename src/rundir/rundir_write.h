/* rundir_write.h — writing a run directory: the directory, whole files atomically, metrics.csv, summary.json.
 *
 * docs/run-directory.md describes the files.  Whole files are written to
 * PATH.tmp and renamed over PATH (nnx_file_write in nnx/util/file.h);
 * metrics.csv is appended and flushed one row at a time (rewritten whole,
 * atomically, when a column is added); a row that cannot be written is cut
 * off again (nnx_append in nnx/util/file.h).
 *
 * Ownership: an nnx_metrics_log owns its path, FILE, column names and the
 * rows it keeps (for a rewrite); nnx_metrics_log_close frees them.
 */
#ifndef NNX_RUNDIR_WRITE_H
#define NNX_RUNDIR_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nnx/diagnose.h"
#include "nnx/exp.h"
#include "nnx/run.h"
#include "nnx/util/error.h"
#include "nnx/util/file.h"

/* Make out_dir (with parents) and a new directory <out_dir>/<name>-<6 hex>
 * in it, the hex from the time and the process id (retried on a clash).
 * *path receives the new directory (the caller frees it). */
int nnx_rundir_create(const char *out_dir, const char *name, char **path, nnx_rt_error *err);

/* A CSV number as the run directory writes it: %.9g, "nan", "inf", "-inf". */
void nnx_csv_put_number(FILE *f, double v);

/* metrics.csv: a header and one row per epoch. */
typedef struct nnx_metrics_log {
    char   *path;
    nnx_append out;     /* the open file (out.f NULL: none, or a write failed) */
    char  **names;      /* [ncols] */
    size_t  ncols;
    double *vals;       /* [nrows][ncols] as written */
    bool   *set;        /* [nrows][ncols]: false = empty cell */
    size_t  nrows, cap;
} nnx_metrics_log;

int  nnx_metrics_log_open(nnx_metrics_log *l, const char *path, const char *const *names,
                          size_t n, nnx_rt_error *err);
/* Continue an existing metrics.csv: its header must be `names` with any
 * hook columns before the last one; rows past epoch `keep` are dropped
 * (the file is rewritten atomically), then rows are appended. */
int  nnx_metrics_log_resume(nnx_metrics_log *l, const char *path, const char *const *names,
                            size_t n, int keep, nnx_rt_error *err);
/* Add a column before the last one (`seconds`), rewriting the file with
 * empty cells in the rows already written.  Returns the new column's
 * index, or -1 with err. */
int  nnx_metrics_log_add_column(nnx_metrics_log *l, const char *name, nnx_rt_error *err);
/* Index of the column called name, or -1. */
int  nnx_metrics_log_find(const nnx_metrics_log *l, const char *name);
/* Append one row (ncols values; set[i] false = empty cell; set NULL = all)
 * and flush it.  A row that cannot be written is not kept (in the file or in
 * memory), and every later row fails too. */
int  nnx_metrics_log_row(nnx_metrics_log *l, const double *vals, const bool *set,
                         nnx_rt_error *err);
/* Flush, fsync and close the file (the rows stay in memory); -1 with err when
 * that fails.  Nothing to do when it is not open. */
int  nnx_metrics_log_finish(nnx_metrics_log *l, nnx_rt_error *err);
/* Free everything (closing the file without a check). */
void nnx_metrics_log_close(nnx_metrics_log *l);

/* What summary.json says besides the result. */
typedef struct nnx_summary_info {
    const char *experiment;
    const char *source;         /* the .nnx path */
    const char *source_sha256;  /* 64 hex, or NULL */
    uint64_t    seed;
    const nnx_exp_param *params;
    size_t      nparams;
    double      chance_loss;    /* NaN: not written */
    char *const *class_names;   /* the label of each class, or NULL (labels are 0..k-1) */
    size_t      nclasses;
    const nnx_diag_setup *setup;  /* the "setup" object the diagnosis reads back, or NULL */
    size_t      trial_index;    /* a search's trial: 1-based proposal order; 0: not written */
    const struct nnx_provenance *provenance;   /* "git"; NULL: not written */
    const nnx_exp_param *settings;  /* "settings": every resolved setting (exp.h), or NULL */
    size_t      nsettings;
} nnx_summary_info;

/* summary.json of a run, written atomically to dir/summary.json. */
int nnx_summary_write(const char *dir, const nnx_summary_info *info, const nnx_run_result *r,
                      nnx_rt_error *err);

#endif
