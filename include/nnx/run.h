/* run.h — the interpreter: one checked experiment trained as one trial, written to a run directory.
 *
 * nnx_run_trial compiles an nnx_experiment (exp.h) into runtime objects —
 * the data sets per the data spec (load, split, normalise), the network,
 * the loss, the optimizer and its schedule — and drives one trial:
 *
 *   for each epoch: train (schedule per step), evaluate the valid split,
 *     compute every declared metric, write a metrics.csv row, keep a
 *     snapshot of the weights at the best epoch by `select` (never by the
 *     loss unless select says so), step a plateau schedule, stop early per
 *     `early_stop`;
 *   then restore the selected weights, evaluate the test split once, save
 *     the weights, run the loss-curve diagnosis and write summary.json.
 *
 * Everything random derives from the experiment seed: weight init, dropout,
 * the epoch order and the train/valid/test splits.  The same experiment,
 * seed and BLAS thread count give the same numbers.
 *
 * Train-split metrics: train.loss is the mean loss of the epoch's batches
 * (training mode, as Keras and PyTorch report it).  Other train.* metrics
 * cost a full pass over the training rows, so they are computed only when
 * `select`, `early_stop` or a plateau schedule names one.
 *
 * The run directory (docs/run-directory.md is the contract):
 *   <out>/<experiment>-<6 hex>/  experiment.nnx  metrics.csv  steps.csv
 *                                summary.json  weights.nnxw
 *                                events.out.tfevents.*  (log = [tensorboard])
 * metrics.csv is appended and flushed every epoch; every whole file
 * (experiment.nnx, summary.json, weights.nnxw) is written to a temporary
 * name and renamed.  Bad data (a missing or malformed file) is found before
 * the directory is made.
 *
 * A write that fails is never silent.  The model (weights.nnxw, model.json,
 * the per-row outputs) and the run's record (experiment.nnx, metrics.csv,
 * steps.csv, resume.state, summary.json) are required: a failed write ends the run as failed with the file and the
 * reason as its message, and r->retry set (the environment failed, not the
 * experiment; a search's resume runs such a trial again).  What was written
 * before stays as it was (whole files are renamed into place, a CSV row that
 * could not be written is cut off again).  The optional outputs (TensorBoard,
 * MLflow, report.html) are warnings: r->warnings and summary.json's
 * "warnings"; the output is not written to again.  trial.c's
 * nnx_trial_write_failed is the one place that decides which.
 *
 * Resuming: after each complete epoch the trial keeps (in memory) what the
 * next epoch starts from; a run that ends interrupted or failed writes it
 * to DIR/resume.state, and opts.resume_dir continues such a directory with
 * the same numbers an uninterrupted run gives (see src/run/resume.c).  A
 * run that ends otherwise removes resume.state.
 *
 * Lua hooks (`hooks = "file.lua"`, lua_host.h): on_train_begin before the
 * first epoch; on_epoch_begin; on_epoch_end after validation, with the
 * epoch's metrics, before selection and early stopping; on_train_end after
 * the test evaluation, with the summary's metrics.  run:stop(reason) ends the
 * trial after that epoch (status stopped); run:set_lr(v) rescales the
 * schedule so the next step uses v; run:log(name, v) fills a metrics.csv
 * column: a name seen for the first time adds a column before `seconds` and
 * the file is rewritten whole (atomically) with empty cells in earlier rows,
 * so the header always lists every column.  lua.NAME metrics are computed on
 * valid each epoch and on test at the end, and can be selected on.  A Lua
 * error ends the trial with status failed and the traceback as its message;
 * a hooks file that does not load fails before training (-1).
 *
 * The library prints nothing: it reports through nnx_run_callbacks, and
 * Ctrl-C reaches it as a flag it polls after every batch (the CLI sets it
 * from a signal handler).
 *
 * Ownership: nnx_run_trial borrows the experiment and the options for the
 * call; an nnx_run_result owns its strings and arrays
 * (nnx_run_result_free).  Pointers passed to callbacks are valid during the
 * callback only.
 */
#ifndef NNX_RUN_H
#define NNX_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/diagnose.h"
#include "nnx/exp.h"
#include "nnx/rt/lr_range.h"
#include "nnx/rt/data.h"
#include "nnx/rt/train.h"

typedef enum nnx_run_status {
    NNX_RUN_COMPLETED,      /* every epoch ran */
    NNX_RUN_STOPPED,        /* early stopping (or a hook's run:stop) */
    NNX_RUN_DIVERGED,       /* the loss became NaN or infinite */
    NNX_RUN_INTERRUPTED,    /* the interrupt flag was raised (Ctrl-C, SIGTERM) */
    NNX_RUN_FAILED,         /* an error; the message says which */
    NNX_RUN_RUNNING,        /* still training: summary.json says so from the start,
                               so a run killed outright (SIGKILL, power) still names
                               its experiment and select metric */
    NNX_RUN_PRUNED          /* ended after opts.stop_after epochs (a search's rung);
                               resume.state is kept, so it may be continued */
} nnx_run_status;

/* "completed", "stopped", "diverged", "interrupted", "failed", "running", "pruned". */
const char *nnx_run_status_name(nnx_run_status s);

/* What the trial resolved before its first step. */
typedef struct nnx_run_setup {
    const char *dir;                    /* the run directory */
    int32_t rows[NNX_XSPLIT_COUNT];     /* rows per split after splitting; 0 = absent */
    int32_t features;                   /* input floats per row */
    int32_t classes;                    /* 0 for regression */
    int32_t batch;                      /* rows per step (the chosen one for `auto`) */
    bool    batch_auto;                 /* batch was `auto` */
    int32_t batches;                    /* steps per epoch */
    size_t  nparams;                    /* trainable parameters */
    const char *const *columns;         /* metrics.csv columns at the start */
    size_t  ncolumns;
} nnx_run_setup;

/* After each training batch. */
typedef struct nnx_run_progress {
    int     epoch, epochs;              /* 1-based */
    int32_t batch, batches;             /* 1-based batch of this epoch */
    int64_t step;                       /* 1-based global step */
    int64_t rows_done;                  /* training rows done this epoch */
    double  lr;                         /* lr of this step */
    double  loss;                       /* this batch's loss */
    double  running_loss;               /* mean loss of the epoch so far */
    double  seconds;                    /* since the epoch began */
} nnx_run_progress;

/* After each epoch: its metrics.csv row (NaN = empty cell). */
typedef struct nnx_run_epoch {
    int     epoch;                      /* 1-based */
    const char *const *columns;         /* the header; may grow (hook columns) */
    const double *values;
    size_t  ncolumns;
    bool    best;                       /* the selected epoch so far */
    double  select_value;
} nnx_run_epoch;

typedef struct nnx_run_callbacks {
    void *user;
    void (*setup)(void *user, const nnx_run_setup *s);
    void (*progress)(void *user, const nnx_run_progress *p);
    void (*epoch)(void *user, const nnx_run_epoch *e);
    /* A line of news: "plateau: lr reduced to 1e-4", "early stop: ...". */
    void (*note)(void *user, const char *text);
} nnx_run_callbacks;

typedef struct nnx_run_opts {
    const char *out_dir;        /* parent of the run directory; NULL: "runs" */
    const char *dir;            /* non-NULL: use exactly this directory (made if missing) */
    const char *source;         /* the .nnx file for summary.json's source and sha256;
                                   NULL: the experiment's file */
    int         threads;        /* threads the network runs on (the BLAS runs on one
                                   thread); the numbers do not depend on it; < 1: 1 */
    const volatile sig_atomic_t *interrupt;  /* nonzero: stop after the current batch */
    const nnx_run_callbacks *cb;             /* may be NULL */
    const char *mlflow_uri;     /* $MLFLOW_TRACKING_URI as read by the caller, or NULL */
    const char *lua_stdlib;     /* the directory of nnx/metrics.lua for `require "nnx.*"`, or NULL */
    /* The searched values of this trial (summary.json "params"); none for a
     * plain run, whose --set overrides are in experiment.nnx. */
    const nnx_exp_param *params;
    size_t      nparams;
    bool        keep_probs;     /* keep the test predictions in the result (ensembles) */
    /* Continue this run directory (made by an interrupted or failed run of
     * the same experiment) from the end of its last complete epoch. */
    const char *resume_dir;
    /* > 0 and below the experiment's epochs: end after this epoch with status
     * PRUNED, keeping resume.state (a pruned search's rung). */
    int         stop_after;
    /* A search's trial: its 1-based place in proposal order, written to
     * summary.json as "trial_index"; 0 for a plain run. */
    size_t      trial_index;
    bool        report;         /* write DIR/report.html when the run ends (a failure is
                                   a warning); its path in r->report */
    /* The splits of this experiment's data, already loaded (src/run/run_int.h):
     * a search loads them once, before forking its workers.  Borrowed and
     * only read; NULL: the trial loads its own. */
    const struct nnx_run_data *data;
    /* The parsed-data cache directory for the CSV files the trial loads
     * itself (not `data`), or NULL: parse them (--no-cache). */
    const char *data_cache;
    /* Where the experiment's files stand in git (provenance.h), collected
     * once by the caller: summary.json's "git", source.diff, MLflow's
     * mlflow.source.git.* tags.  Borrowed; NULL: not recorded. */
    const struct nnx_provenance *provenance;
    /* MLflow: the run id of the search or ensemble this trial belongs to
     * (tag mlflow.parentRunId), or NULL. */
    const char *mlflow_parent;
    /* The hooks are left out of the run's identity (a search's directory
     * name) because they only log: run:stop and run:set_lr fail the trial. */
    bool        hooks_log_only;
    /* Time each layer and each part of every training step (r->profile). */
    bool        profile;
} nnx_run_opts;

/* Where a profiled run's training steps went: milliseconds per step, the
 * mean over every step it took. */
typedef struct nnx_run_profile_layer {
    char   name[40];            /* "3 dense 256", "5 conv 32x28x28": index, kind, output */
    double forward_ms, backward_ms;
} nnx_run_profile_layer;

typedef struct nnx_run_profile {
    nnx_run_profile_layer *layers;      /* owned */
    size_t nlayers;
    double phase_ms[NNX_TRAIN_PHASES];  /* gather, forward, loss, backward, norm, optimizer */
    long   steps;               /* steps timed (> 0 with no layers: out of memory) */
} nnx_run_profile;

typedef struct nnx_run_result {
    nnx_run_status status;
    char   *message;            /* status_message ("" when completed); owned */
    bool    retry;              /* FAILED because a required file could not be written
                                   (see above): running it again may succeed */
    char  **warnings;           /* optional outputs that failed ("tensorboard: ..."); owned */
    size_t  nwarnings;
    char   *report;             /* opts.report: the report written, or NULL; owned */
    char   *dir;                /* the run directory, NULL if none was made; owned */
    int     epochs_run;
    int32_t batch;
    char    select_name[64];    /* "valid.accuracy" */
    bool    select_max;
    int     select_epoch;       /* 1-based; 0 = no epoch completed */
    double  select_value;
    int     select_ties;        /* epochs whose select value ties it (to 6 digits), itself
                                 * included; among them the lowest valid loss is kept */
    int     lowest_loss_epoch;  /* of valid.loss (train.loss without valid); 0 = none */
    double  lowest_loss;
    char  **metric_names;       /* the metrics at the selected epoch, then test.* */
    double *metric_values;
    size_t  nmetrics;
    nnx_findings diagnosis;     /* empty when no epoch completed */
    double  total_seconds, seconds_per_epoch;
    /* With opts.keep_probs and a test split: test_n × test_k predictions of
     * the selected weights, as nnx_evaluate gives them; owned. */
    float  *test_probs;
    int32_t test_n, test_k;
    nnx_run_profile profile;    /* opts.profile and a step taken; else empty */
} nnx_run_result;

/* Run one trial.  Returns 0 when training started (the outcome is in
 * r->status; a directory was written), or -1 when the experiment could not
 * be set up — data missing or malformed, a network the data does not fit,
 * the run directory not writable — with r->status FAILED and r->message
 * naming the file and the reason; nothing was trained then (r->retry when
 * the reason is a file of the new directory that could not be written).  Call
 * nnx_run_result_free afterwards either way. */
int  nnx_run_trial(const nnx_experiment *e, const nnx_run_opts *o, nnx_run_result *r);
void nnx_run_result_free(nnx_run_result *r);

/* The epoch DIR/resume.state continues from (its last complete epoch);
 * 0 when there is none or it cannot be read. */
int  nnx_run_resume_epoch(const char *dir);

/* True when the experiment's hooks file can only log — it mentions neither
 * `stop` nor `set_lr` and no lua.NAME metric is declared — so its results do
 * not depend on it (a run given hooks_log_only enforces that at run time).
 * False without hooks, or when the file cannot be read. */
bool nnx_run_hooks_log_only(const nnx_experiment *e);

/* The experiment's identity: its canonical text (nnx_experiment_write)
 * without comment lines, without `log` and — when the hooks only log —
 * without `hooks`: the settings that change the numbers.  A search's
 * directory name is a hash of it, so turning logging on finds the same
 * search and keeps its finished trials.  `text` is canonical text (a run
 * directory's experiment.nnx, or nnx_experiment_write); a new string, or
 * NULL when out of memory. */
char *nnx_run_identity_text(const char *text, bool hooks_log_only);

/* The batch size `auto` stands for: round(sqrt(rows)), at least 1. */
int32_t nnx_run_auto_batch(int32_t rows);

/* Smith's lr range test (nnx/rt/lr_range.h) on the experiment's own data,
 * network, optimizer, loss and batch (`auto` resolved, written to *batch),
 * with a fresh network seeded by e->seed; nothing is written to disk but
 * the parsed-data cache in cache_dir (NULL: none), whose warnings (a stale
 * entry parsed again, one not written) go to cache_warning (nwarning bytes;
 * "" when none).  0, or -1 with err (data that does not load, a network that
 * does not fit it). */
int nnx_run_lr_find(const nnx_experiment *e, const char *cache_dir, char *cache_warning,
                    size_t nwarning, int threads, const nnx_lr_range_conf *conf,
                    nnx_lr_range *out, int32_t *batch, nnx_rt_error *err);

/* The value of metric `name` ("test.accuracy") in a result, NaN if absent. */
double nnx_run_result_metric(const nnx_run_result *r, const char *name);

/* Every metric e declares (values[m] for e->metrics[m]; NaN where it is
 * undefined, as a run writes null) on a labelled set ds with k predictions
 * per row p, as nnx_evaluate gives them, and their mean loss (the metric
 * `loss`).  Lua metrics run e's hooks file, opened here (lua_stdlib: the
 * directory for `require "nnx.*"`, or NULL).  0, or -1 with err (a Lua
 * error, with its traceback cut to fit). */
int nnx_run_measure(const nnx_experiment *e, const char *lua_stdlib, const nnx_dataset *ds,
                    const float *p, int k, double loss, double *values, nnx_rt_error *err);

/* --- nnx data: an experiment's data as it loads ------------------------------- */

/* One feature over the train rows as loaded (before normalisation). */
typedef struct nnx_data_feature {
    char   *name;           /* the feature's name, or NULL (unnamed: IDX pixels, .npy) */
    double  min, mean, max;
    /* cells of the file column this feature comes from that were missing
     * (filled as `missing = ...` says), counted on the column's first
     * feature; -1 on the others (a one-hot's later categories, an indicator) */
    int64_t missing;
} nnx_data_feature;

/* Ownership: the report owns every array and string. */
typedef struct nnx_data_report {
    double  seconds;                    /* loading, splitting and checking the data */
    int     cache_hits, cache_writes;   /* CSV and IDX loads served from / written to the cache */
    char    cache_warning[512];         /* a stale or corrupt entry, a failed write, or "" */
    char    note[512];                  /* what loading met (unseen categories, filled cells) */
    int32_t rows[NNX_XSPLIT_COUNT];     /* 0: no such split */
    int32_t features;
    int32_t shape[3];                   /* C, H, W when has_shape */
    bool    has_shape;
    nnx_target_kind kind;               /* of the train split */
    int32_t classes;
    char  **class_names;                /* classes label texts */
    int32_t *class_counts;              /* [c * NNX_XSPLIT_COUNT + split] */
    double  target_min, target_mean, target_max;   /* kind REAL: over train */
    nnx_data_feature *feature;          /* features of them */
} nnx_data_report;

/* Load e's data as a run would (CSV files through the cache in cache_dir,
 * NULL: none), but without normalising, and describe it.  0, or -1 with
 * err naming the file and the place (a bad cell: file:line and column). */
int  nnx_run_data_report(const nnx_experiment *e, const char *cache_dir, nnx_data_report *out,
                         nnx_rt_error *err);
void nnx_data_report_free(nnx_data_report *r);

#endif
