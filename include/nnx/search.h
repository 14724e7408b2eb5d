/* search.h — run the trials of a search or a seed ensemble: workers, leaderboard, resume.
 *
 * The trials come from plan.h (grid, random, ensemble: a list; staged: one
 * list per stage, built from the winners of the stages before).  Each trial
 * is the base experiment plus the `--set` overrides plus its own values,
 * checked with nnx_check_experiment().  The scheduler does not know how a
 * trial is trained: it calls a runner (nnx_search_runner) that must leave an
 * ordinary run directory with a summary.json (docs/run-directory.md) in the
 * directory it is given.  nnx_search_run_trial (below) is the real runner, on
 * nnx_run_trial(); unit tests drive the scheduler with synthetic runners.
 *
 * A search directory (docs/run-directory.md):
 *   DIR/experiment.nnx    the base experiment, canonical text
 *   DIR/trials/NAME/      a run directory per trial (ensemble: members/SEED/)
 *   DIR/trials.csv        the leaderboard, sorted by `select` (search only)
 *   DIR/summary.json      kind search|ensemble, winner, stages, ensemble metrics
 * trials.csv and summary.json are rewritten whole (temporary file + rename)
 * each time a trial finishes.
 *
 * Workers: with opts.fork each trial runs in a child process forked from the
 * caller, so whatever the caller loaded before (the data sets) is shared
 * copy-on-write; opts.jobs children run at once.  The parent learns a
 * trial's outcome only from the summary.json the child left, so a worker
 * that crashes or is killed (SIGKILL) is recorded as `interrupted`.  A grid,
 * random search or ensemble that does not prune goes on; one whose later
 * decisions need that trial (rungs, the median rule, tpe, stages) starts
 * nothing more, lets the running trials end and stops as interrupted, so
 * that running it again gives the search an uninterrupted run gives.  Results do not depend on jobs: every trial is seeded by
 * its own experiment, and the leaderboard order is (select value, plan order).
 *
 * Resume: a trial whose DIR/.../NAME/summary.json has a final status
 * (completed, stopped, diverged, failed — but not a failure to write a file,
 * "retry") is not run again; its row is read back.  An interrupted attempt that left resume.state (Ctrl-C reached the
 * worker) is continued from its last complete epoch (nnx_run_opts.resume_dir);
 * any other directory (a worker killed outright) is emptied and run again.  nnx_search_dir_name() gives a directory name that depends only on
 * the experiment, so running the same experiment into the same --out finds
 * it again.
 *
 * Staged search: stage k runs its values with the values kept by stages
 * 0..k-1; the best trial by `select` picks the value stage k keeps.  A trial
 * whose checked experiment equals one already trained (nnx_experiment_equal)
 * is not run again: the earlier trial stands for it in the stage.
 *
 * The library prints nothing: progress goes to nnx_search_opts.event.
 *
 * Ownership: nnx_search_run borrows its arguments for the call and fills an
 * nnx_search_result, which owns every string and array in it
 * (nnx_search_result_free).  Pointers handed to the runner and to the event
 * callback are valid during the call only.
 */
#ifndef NNX_SEARCH_H
#define NNX_SEARCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/exp.h"
#include "nnx/probs.h"
#include "nnx/util/error.h"

/* The checker's types (nnx/check.h, which cannot be included beside the
 * runtime's headers: both define enum nnx_layer_kind). */
typedef struct nnx_checker nnx_checker;
struct nnx_override;

typedef enum nnx_search_kind {
    NNX_SEARCH_GRID,
    NNX_SEARCH_RANDOM,
    NNX_SEARCH_STAGED,
    NNX_SEARCH_ENSEMBLE
} nnx_search_kind;

/* --- one trial --------------------------------------------------------------- */

/* A trial as the runner sees it. */
typedef struct nnx_search_trial {
    size_t index;               /* 0-based, in the order trials were first asked for */
    const char *name;           /* its directory name */
    const nnx_exp_param *params;    /* its searched values (an ensemble member: seed) */
    size_t nparams;
    const nnx_experiment *e;    /* base experiment + --set + ov, checked */
    int stage;                  /* staged: the stage that first asked for it; else -1 */
    int threads;                /* threads it may use (the net's; see run.h) */
    bool cont;                  /* `dir` holds an interrupted attempt that left
                                   resume.state: continue it rather than start over */
    int stop_after;             /* prune: end after this epoch (status pruned,
                                   resume.state kept); 0: train every epoch */
} nnx_search_trial;

/* Train trial `t` into directory `dir` (it exists and is empty, or holds an
 * interrupted attempt when t->cont).  Leave
 * dir/summary.json as docs/run-directory.md describes.  Return 0 when the
 * trial ran, whatever its status; -1 with `err` when it could not start
 * (then the search records it as failed with that message). */
typedef int (*nnx_search_runner)(const nnx_search_trial *t, const char *dir, void *ctx,
                                 nnx_rt_error *err);

/* A finished trial: one leaderboard row, read back from its summary.json. */
typedef struct nnx_search_row {
    char   *name;
    size_t  index;              /* nnx_search_trial.index */
    int     stage;              /* staged: the stage that first asked for it; else -1 */
    char  **values;             /* [nvalues = nnx_search_result.nparams]; "" = the base value */
    size_t  nvalues;
    char    status[16];         /* completed|stopped|diverged|interrupted|failed */
    bool    retry;              /* failed because a file could not be written: not final,
                                   a resumed search runs it again (ranked without a value) */
    char   *message;            /* status_message; "" when none */
    int     epoch;              /* the selected epoch; 0 = none */
    int     epochs_run;
    double  value;              /* the select metric there; NaN = none */
    char  **metric_names;       /* summary.json "metrics", in its order */
    double *metric_values;
    size_t  nmetrics;
    double  seconds;
    bool    resumed;            /* found finished in the directory, not run now */
} nnx_search_row;

/* --- progress ----------------------------------------------------------------- */

typedef enum nnx_search_event_kind {
    NNX_SEARCH_STARTED,         /* a trial began (`trial`) */
    NNX_SEARCH_FINISHED,        /* a trial ended (`row`) */
    NNX_SEARCH_RESUMED,         /* a trial was found finished (`row`) */
    NNX_SEARCH_REUSED,          /* staged: `trial` equals the earlier `row`; not run */
    NNX_SEARCH_STAGE_DONE,      /* staged: stage `stage` keeps `value` (winner `row`) */
    NNX_SEARCH_TICK             /* opts.tick_ms passed with trials running */
} nnx_search_event_kind;

typedef struct nnx_search_event {
    nnx_search_event_kind kind;
    const char *trial;          /* STARTED, REUSED: the trial's name */
    bool cont;                  /* STARTED: it continues from its resume.state (interrupted, or promoted by a rung) */
    const nnx_search_row *row;  /* FINISHED, RESUMED, REUSED, STAGE_DONE (NULL: none) */
    size_t stage;               /* STAGE_DONE, and the current stage of a staged search */
    const char *path, *value;   /* STAGE_DONE: the stage's path and kept value */
    /* the whole search at this moment */
    size_t done, running, queued;       /* trials; queued counts the current stage only */
    const char *const *running_names;   /* [running] */
    const nnx_search_row *best;         /* best row so far, NULL when none has a value */
    const char *select;                 /* "valid.accuracy" */
    bool select_max;
} nnx_search_event;

/* --- options and result ------------------------------------------------------- */

typedef struct nnx_search_opts {
    const char *dir;            /* the search directory; made (with parents) if missing */
    const char *version;        /* nnx_version written into summary.json */
    int   jobs;                 /* trials at once, >= 1 (> 1 needs fork) */
    bool  fork;                 /* run each trial in a worker process */
    int   threads;              /* threads for the whole search; a trial gets
                                   max(1, threads / jobs).  < 1: 1 */
    nnx_search_runner run;      /* may be NULL with only = "" */
    void *run_ctx;
    void (*event)(void *user, const nnx_search_event *ev);   /* may be NULL */
    void *event_user;
    int   tick_ms;              /* > 0: a TICK event this often while workers run */
    bool  report;               /* write DIR/report.html at the end (a failure is a
                                   warning: res->warnings, summary.json "warnings") */
    const volatile sig_atomic_t *interrupt; /* nonzero: start no new trial, wait for the
                                               running ones (they see it too), return */
    const char *lua_stdlib;     /* for an ensemble's lua.* metrics of the averaged
                                   probabilities: hooks' `require "nnx.*"` dir, or NULL */
    /* One trial, from one of many processes that may share the directory over
     * a network file system (nnx run --trial): `only` names the trial to
     * train, by its number as `nnx plan` prints it (a staged search:
     * STAGE.NUMBER, "2.3") or by its name; "" names none (read the directory,
     * rewrite the leaderboard).  The trial runs in this process under its lock
     * file (DIR/.locks/NAME, O_CREAT|O_EXCL with the host and pid; a lock that
     * another live process holds makes it skip the trial); every other trial
     * is read from its directory and never touched; the leaderboard lists the
     * trials that have ended; a staged search goes as far as its stages have
     * ended.  The directory's record lock is taken shared, so such processes
     * exclude a whole-search run, not each other.  NULL: the whole search. */
    const char *only;
    bool  look;                 /* with only = "": write nothing, take no lock; a missing
                                   directory is a search with no trial ended (nnx status) */
    const struct nnx_provenance *provenance;  /* summary.json's "git" and DIR/source.diff;
                                                 NULL: not recorded (provenance.h) */
} nnx_search_opts;

/* What opts.only did with its trial. */
typedef enum nnx_search_only_outcome {
    NNX_ONLY_NONE,              /* no trial named ("") */
    NNX_ONLY_RAN,               /* trained it now (whatever its status) */
    NNX_ONLY_ENDED,             /* it had ended before: nothing to do */
    NNX_ONLY_HELD,              /* another process holds its lock (only_holder) */
    NNX_ONLY_REUSED,            /* staged: it equals an earlier trial (only_name), trained already */
    NNX_ONLY_WAITING            /* the interrupt flag was up before it started */
} nnx_search_only_outcome;

/* With opts.only: a trial of the open list (the whole plan; a staged search:
 * the first stage whose trials have not all ended) that has not ended. */
typedef struct nnx_search_pending {
    char *name;
    char *number;               /* as --trial takes it: "3", staged "2.3" */
    char *state;                /* nnx_trial_state_name: "running", "interrupted", "killed", "not started" */
    char *holder;               /* running: "host pid" of the lock; else NULL */
} nnx_search_pending;

typedef struct nnx_search_stage {
    char   *path;
    char  **values;             /* the stage's values, as written */
    char  **names;              /* the trial standing for each value (reused ones too) */
    size_t  ntrials;            /* values and names */
    char   *kept;               /* the value kept; NULL when no trial had a value */
    char   *winner;             /* its trial's name, or NULL */
} nnx_search_stage;

/* Ensembles: metric names "valid.X" and "test.X" found in the members' summaries. */
typedef struct nnx_ensemble_stats {
    char  **names;
    double *mean, *std;         /* over the members that have the metric (std: n-1; 0 for one) */
    double *ensemble;           /* of the averaged probabilities; NaN when not computed */
    size_t  n;
} nnx_ensemble_stats;

typedef struct nnx_search_result {
    nnx_search_kind kind;
    char   *dir;
    char  **paths;              /* the searched paths, in order: the parameter columns */
    size_t  nparams;
    nnx_search_row *rows;       /* every trial that finished, best first (see nnx_search_rank) */
    size_t  nrows;
    long    winner;             /* index into rows; -1 when no trial has a value */
    nnx_search_stage *stages;   /* STAGED */
    size_t  nstages;
    size_t  planned;            /* trials asked for (staged: of the stages reached) */
    size_t  ran;                /* runner calls made now */
    size_t  resumed;            /* trials found finished */
    size_t  reused;             /* staged: trials that equalled an earlier one */
    bool    interrupted;        /* stopped before the end: by the interrupt flag, or
                                   because a trial whose worker died holds up the
                                   decisions after it (a rung, tpe, a stage) */
    bool    write_failed;       /* nnx_search_run failed writing the search's own record
                                   (trials.csv, summary.json, experiment.nnx) */
    char   *message;            /* why the search stopped early, or NULL */
    char   *report;             /* opts.report: the report written, or NULL */
    char  **warnings;           /* optional outputs that failed ("report.html: ..."); owned */
    size_t  nwarnings;
    char    select[64];
    bool    select_max;
    nnx_ensemble_stats ens;     /* ENSEMBLE: n = 0 when no member finished */
    /* opts.only */
    nnx_search_only_outcome only;
    char   *only_name;          /* the trial named (REUSED: the earlier trial), or NULL */
    char   *only_holder;        /* HELD: "host pid" of its lock */
    char    only_status[16];    /* RAN, ENDED: the status it ended with here ("" if it did not) */
    nnx_search_pending *pending;    /* the open list's trials that have not ended */
    size_t  npending;
    size_t  open_stage;         /* staged: the 0-based stage of `pending` (nstages: all ended) */
    /* a pruned search: its steps (halving: the rungs), each a set of trials
     * trained to an epoch, one after the other; with opts.only, open_step is
     * the 0-based step of `pending` (nsteps: all ended) */
    size_t  nsteps, open_step;
} nnx_search_result;

/* Run the search (or ensemble) of `base`, the experiment `name` of the
 * checker's program checked with overrides `set` (the `--set` flags; a
 * trial's values are applied after them).  Every trial is checked before
 * the first one trains (a staged search: each stage's values with the
 * first values of the stages before).  0 when the search ran to its end or
 * was interrupted (see res->interrupted; failed trials are rows, not
 * errors); -1 with `err` when it could not start: a trial that does not
 * check (its errors added to `d`, which may be NULL), a directory that
 * cannot be made or holds another experiment.  Free `res` either way. */
int  nnx_search_run(nnx_checker *c, const char *name, const struct nnx_override *set, size_t nset,
                    const nnx_experiment *base, const nnx_search_opts *o,
                    nnx_search_result *res, nnx_diags *d, nnx_rt_error *err);
void nnx_search_result_free(nnx_search_result *res);

/* "<experiment>-<6 hex>" from the experiment's canonical text: the same
 * experiment (and --set flags) always gives the same name. */
void nnx_search_dir_name(const nnx_experiment *e, char *buf, size_t size);

/* Sort rows best first: rows with a value by it (max or min), then rows
 * without, each group in index order. */
void nnx_search_rank(nnx_search_row *rows, size_t n, bool maximize);

/* --- run directories of trials ------------------------------------------------- */

/* Read the row of the trial in `dir` from its summary.json.  1 when it holds
 * a final status, 0 when there is none or it is not final (the trial must run
 * again: interrupted, or failed with "retry"), -1 with err when it cannot be
 * read. */
int  nnx_search_row_read(const char *dir, nnx_search_row *row, nnx_rt_error *err);
void nnx_search_row_free(nnx_search_row *row);

/* What a trial's directory (root/name, root being DIR/trials or
 * DIR/members) and its lock file say of it. */
typedef enum nnx_trial_state {
    NNX_TRIAL_ENDED,            /* a final status: `row` is filled */
    NNX_TRIAL_RUNNING,          /* its lock is held (`holder`: "host pid"), or a whole-search run works in DIR */
    NNX_TRIAL_INTERRUPTED,      /* it left resume.state: it continues from there */
    NNX_TRIAL_KILLED,           /* it began and left nothing to continue from: it starts over */
    NNX_TRIAL_NOT_STARTED
} nnx_trial_state;

const char *nnx_trial_state_name(nnx_trial_state s);  /* "ended", "running", ..., "not started" */
/* 0 with *state (and `row` when ENDED: free it), or -1 with err (a summary.json that cannot be read). */
int nnx_search_trial_look(const char *search_dir, const char *root, const char *name, nnx_search_row *row,
                          nnx_trial_state *state, char *holder, size_t hsize, nnx_rt_error *err);

/* Write dir/summary.json (atomically) for a trial that left none: status and
 * message only (and "retry": true when `retry`: a failure to write, which a
 * resumed search runs again).  The search calls it for a runner that could
 * not start. */
int  nnx_search_write_status(const char *dir, const char *experiment, const char *status,
                             const char *message, bool retry, nnx_rt_error *err);

/* The ensemble of members' saved probabilities on `split` ("valid", "test"):
 * the mean over members, row by row, into `out` (owned by the caller after).
 * Every member must have the same rows, labels and columns.  0, or -1 with err. */
int nnx_ensemble_average(const char *const *member_dirs, size_t n, const char *split,
                         nnx_probs *out, nnx_rt_error *err);

/* --- the real runner: nnx_run_trial on data loaded once --------------------------- */

/* The context of nnx_search_train: the base experiment's data, loaded once
 * by nnx_search_trainer_new (before nnx_search_run forks its workers, which
 * then share it copy-on-write).  A trial whose data differs from the base's
 * (a search over `seed` or a data setting) loads its own.  Ensemble members
 * all use the base experiment's splits, so that their predictions line up
 * row for row; each saves its valid and test probabilities
 * (probs_valid.f32, probs_test.f32) for the ensemble's average.
 * Owns the loaded data; borrows the base experiment and the strings. */
typedef struct nnx_search_trainer nnx_search_trainer;

typedef struct nnx_search_trainer_opts {
    const char *source;                     /* the .nnx file, for summary.json */
    const volatile sig_atomic_t *interrupt; /* Ctrl-C: the trial stops after its batch */
    const char *mlflow_uri;                 /* $MLFLOW_TRACKING_URI, or NULL */
    const char *lua_stdlib;                 /* hooks' `require "nnx.*"` directory, or NULL */
    const struct nnx_provenance *provenance;/* every trial's "git" (run.h), or NULL */
    const char *mlflow_parent;              /* the search's MLflow run id, or NULL */
    const char *data_cache;                 /* the parsed-data cache directory, or NULL */
} nnx_search_trainer_opts;

nnx_search_trainer *nnx_search_trainer_new(const nnx_experiment *base, const nnx_search_trainer_opts *o,
                                           nnx_rt_error *err);
void nnx_search_trainer_free(nnx_search_trainer *tr);
/* What the parsed-data cache could not do while the data loaded (a stale
 * or corrupt entry parsed again, an entry not written), or "". */
const char *nnx_search_trainer_cache_warning(const nnx_search_trainer *tr);
/* Rows of each split loaded (nnx_exp_split order; 0 = absent). */
void nnx_search_trainer_rows(const nnx_search_trainer *tr, int32_t rows[NNX_XSPLIT_COUNT]);

/* An nnx_search_runner whose ctx is an nnx_search_trainer. */
int nnx_search_train(const nnx_search_trial *t, const char *dir, void *ctx, nnx_rt_error *err);

/* --- reading the result ------------------------------------------------------- */

/* For a search whose only parameter is a learning rate ("...lr"): one line
 * on the curve of the select value against lr, e.g. "best at 0.001;
 * 0.1 diverged; 1e-05 still improving at the last epoch" (its selected
 * epoch was the last one run).  Writes "" when the search is not such a
 * search. */
void nnx_search_lr_reading(const nnx_search_result *res, char *buf, size_t size);

#endif
