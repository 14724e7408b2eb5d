/* trial_int.h — the state of one trial, shared by trial.c (the loop), trial_files.c (its new run directory), trial_summary.c (its summary.json), trial_log.c (its loggers) and resume.c (not public). */
#ifndef NNX_TRIAL_INT_H
#define NNX_TRIAL_INT_H

#include <stdio.h>

#include "nnx/mlflow.h"
#include "nnx/rt.h"
#include "nnx/run.h"
#include "nnx/tfevents.h"
#include "rundir/rundir_write.h"
#include "run/run_int.h"

/* Everything one trial holds.  Owns every pointer below except e, o, r. */
typedef struct trial {
    const nnx_experiment *e;
    const nnx_run_opts   *o;
    const nnx_run_callbacks *cb;
    nnx_run_result       *r;
    nnx_run_data data;
    bool         data_borrowed;  /* opts.data: not ours to free */
    nnx_net     *net;
    nnx_optim    opt;
    nnx_sched    sched;
    nnx_trainer  tr;
    bool         tr_ready, opt_ready;
    enum nnx_loss_kind loss;
    int          k;              /* outputs per row */
    int32_t      batch;
    float       *probs;          /* predictions of the largest evaluated split */
    float       *snapshot;       /* weights at the selected epoch */
    bool         has_snapshot;
    bool         need_train[64]; /* train.<metric> computed (beyond train.loss) */
    bool         any_train;      /* some need_train[m] */
    /* columns of metrics.csv */
    nnx_metrics_log mlog;
    int          col_valid0;     /* column of valid.<metric 0>, -1 without valid */
    int          col_train0;     /* first train.* column past train.loss */
    /* this epoch's metrics: cur[split * nmetrics + m], NaN = not computed */
    double      *cur;
    /* per-epoch history: hist[(epoch-1) * 3 * nmetrics + split * nmetrics + m] */
    double      *hist;
    double      *ep_lr, *ep_select, *ep_train, *ep_valid;
    /* steps */
    nnx_append   steps;          /* steps.csv; steps.f NULL when not open */
    double      *step_loss, *step_epoch, *step_lr, *step_sd;
    size_t       nsteps, step_cap;
    /* selection and early stopping so far (kept across a resume) */
    double       best;           /* best select value, NaN before the first */
    double       es_best;        /* best early_stop value */
    int          es_bad;         /* epochs since it improved */
    double       lowest;         /* lowest valid loss */
    int          first_epoch;    /* 1, or the epoch a resumed run continues with */
    void        *resume;         /* resume.c's copy of the last end-of-epoch state; owned */
    /* the epoch in progress */
    int          epoch;          /* 1-based */
    double       epoch_t0, loss_sum;
    int64_t      rows_done;
    bool         interrupted;
    /* Lua hooks */
    nnx_run_hooks hooks;
    bool         lua_failed;     /* the last failure is a Lua error (hooks.error) */
    /* loggers */
    nnx_tb         *tb;
    nnx_mlflow_run *ml;
    int          summary_warnings; /* r->nwarnings when summary.json was last written; -1: never */
} trial;

/* The one place a failed write of the run directory goes (in trial.c):
 * `msg` names the file and the reason.  A required file (the weights, the
 * run's record) fails the run (r->retry); an optional output
 * (`required` false: TensorBoard, MLflow, the report, and any file a run
 * adds beside them) becomes a warning, once, and is not written again. */
void nnx_trial_write_failed(trial *t, bool required, const char *msg);

/* One steps.csv row, "step,epoch,lr,loss" (numbers as nnx_csv_put_number
 * writes them).  In trial.c, for a run and for its resume. */
void nnx_trial_put_step(FILE *f, long long step, int epoch, double lr, double loss,
                        double loss_sd);
/* Keep a step's loss, epoch, lr and per-row loss std for the diagnosis
 * (t->step_loss, step_epoch, step_lr, step_sd), growing them; false (nothing
 * kept) when out of memory. */
bool nnx_trial_keep_step(trial *t, double loss, double epoch, double lr, double loss_sd);

/* The metrics.csv columns (and t->col_*), opening the file: fresh, or kept
 * up to epoch first_epoch - 1 when resuming.  In trial_files.c. */
int  nnx_trial_columns(trial *t, nnx_rt_error *err);

/* The text of a run's experiment.nnx: the experiment without its search or
 * ensemble, so that `nnx run` on a trial's (or member's) file trains that
 * trial again, not the whole search.  New string, or NULL.  In trial_files.c. */
char *nnx_trial_experiment_text(const nnx_experiment *e);
/* A new run directory (o->dir, or a fresh one under o->out_dir) and its
 * first files: experiment.nnx, metrics.csv's header, steps.csv's.  In
 * trial_files.c. */
int  nnx_trial_open_outputs(trial *t, nnx_rt_error *err);

/* trial_summary.c: summary.json says "running" from the start, so a run
 * killed outright still names its experiment, status and select metric
 * (after saving the provenance's diff beside it). */
int  nnx_trial_start_summary(trial *t, nnx_rt_error *err);
/* The final summary.json.  When it cannot be written the run has failed,
 * though the file cannot say so (it still says "running"): the status and
 * the exit status do (nnx_trial_write_failed). */
void nnx_trial_save_summary(trial *t);
/* The loss of a network that knows nothing (log k for k classes, log 2 for
 * binary cross-entropy); NaN for mse. */
double nnx_trial_chance_loss(const trial *t);
/* What the diagnosis should know of the experiment (see diagnose.h). */
nnx_diag_setup nnx_trial_diag_setup(const trial *t);

/* trial_log.c: TensorBoard and MLflow, when the experiment logs to them.  A
 * logger that fails becomes a warning (nnx_trial_write_failed) and is not
 * written to again; none of these fails the run. */
int  nnx_trial_open_loggers(trial *t, nnx_rt_error *err);
/* An epoch's metrics.csv row: vals[c] where set[c], for each column c > 0. */
void nnx_trial_log_scalars(trial *t, const double *vals, const bool *set);
/* At the end: the test metrics at the selected epoch's step, then close
 * TensorBoard (before summary.json), and end the MLflow run (after it). */
void nnx_trial_tb_finish(trial *t);
void nnx_trial_mlflow_finish(trial *t);

/* resume.c: continue a run directory (o->resume_dir) instead of making one,
 * and save what a resume needs after each epoch (DIR/resume.state). */
int  nnx_trial_resume(trial *t, nnx_rt_error *err);
/* Copy the state after epoch `epoch` (call when the epoch is complete). */
void nnx_trial_mark_epoch(trial *t, int epoch);
/* Write the last copy to DIR/resume.state (nothing if no epoch completed). */
int  nnx_trial_save_state(trial *t, nnx_rt_error *err);
/* Remove DIR/resume.state (a run that finished cannot resume). */
void nnx_trial_drop_state(trial *t);
void nnx_trial_resume_free(trial *t);

#endif
