/* work.h — the state of one nnx_search_run call, shared by the files that run it (not public).
 *
 *   search.c       nnx_search_run: check the trials, open the directory, run them by kind
 *   search_dir.c   the directory's name, lock and experiment.nnx
 *   jobs.c         the trials asked for (job): names, values, checked experiments, rows
 *   progress.c     the board as trials end, events for the caller, the rows handed back
 *   workers.c      worker processes, o->jobs at a time; prepare (resume) and collect
 *   only.c         one trial of many processes (opts.only: nnx run --trial, nnx submit)
 *   epoch_value.c  a trial as of an epoch, from its metrics.csv
 *   rungs.c        successive halving and Hyperband: rungs as steps
 *   median.c       the median rule
 *   propose.c      a tpe search's proposals
 *   staged.c       a staged search's stages
 */
#ifndef NNX_SEARCH_WORK_H
#define NNX_SEARCH_WORK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "nnx/check.h"
#include "nnx/plan.h"
#include "nnx/rundir.h"
#include "search/search_int.h"

typedef enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state;

/* One trial asked for.  Owns its strings, overrides, experiment and row. */
typedef struct job {
    size_t          index;
    int             stage;
    char           *name;
    char           *number;     /* as nnx plan numbers it: "3", staged "2.3" */
    char           *dir;
    nnx_exp_param  *ov;         /* its own values; path and value strings owned */
    size_t          nov;
    nnx_experiment *e;          /* NULL when the check failed (then `why`) */
    char           *why;
    job_state       state;
    bool            cont;       /* its directory holds resume.state: continue it */
    int             stop_after; /* prune: end after this epoch (the rung's); 0: all */
    bool            out;        /* prune: not in the current rung */
    bool            counted;    /* in res->ran or res->resumed already */
    bool            trained;    /* opts.only: trained in this process (a pruned search: in one step only) */
    bool            passed;     /* opts.only: past the current step's epochs, in a later step (trained
                                   elsewhere now, or interrupted there): the step has it at its end */
    bool            unproposed; /* tpe: its values are proposed once trials 0..index-lag have ended */
    int             obs_epoch;  /* tpe: the epoch its value is observed at (its first rung's); 0: its row's */
    int             cur;        /* median: the epochs its directory holds (resume.state's) */
    pid_t           pid;
    int             said;       /* RUNNING in a worker: the read end of its pipe, or -1 */
    nnx_search_row  row;        /* JOB_DONE */
} job;

/* The state of one nnx_search_run call. */
typedef struct search {
    nnx_checker             *c;
    const char              *name;
    const nnx_override      *set;
    size_t                   nset;
    const nnx_experiment    *base;
    const nnx_search_opts   *o;
    nnx_search_result       *res;
    nnx_plan                *plan;
    char                    *root;      /* DIR/trials or DIR/members */
    job                    **jobs;      /* every trial asked for, in index order; owned */
    size_t                   njobs, cap;
    int                      threads;   /* per trial */
    size_t                   stage;     /* the current stage */
    int                      lock_fd;   /* DIR/.nnx-lock, write-locked while we run; -1 */
    bool                     open;      /* opts.only: a list or stage has trials that have not ended */
    bool                     defer;     /* opts.only: the board waits for board_locked() */
    bool                     rescan;    /* board_locked()'s own pass: the directory is locked already */
    nnx_rt_error            *err;
} search;


/* --- jobs.c --- */
void srch_job_free(job *j);
/* An empty job: no trial yet (a tpe trial waiting for its proposal). */
job *srch_job_blank(int stage, const char *number);
/* Give job j trial `t` (its name, values), checked on top of the --set
 * flags.  False when out of memory. */
bool srch_job_fill(search *s, job *j, const nnx_trial *t, const char *dirname);
/* A new job for trial `t` (its name, values) checked on top of the --set flags. */
job *srch_job_new(search *s, const nnx_trial *t, const char *dirname, int stage, const char *number);
bool srch_add_job(search *s, job *j);
/* Fill the row's identity (name, index, stage, parameter values) from its job. */
int  srch_row_identity(search *s, job *j);
/* A name not used by any job yet: `name`, or name_2, name_3, ... */
char *srch_fresh_name(const search *s, const char *name);

/* --- progress.c --- */
int  srch_write_board(search *s, bool final);
/* Tell the caller what happened, with the whole search's counts. */
void srch_emit(search *s, nnx_search_event ev);
/* Move the finished rows into the result, ranked. */
int  srch_take_rows(search *s);
/* report.html of the finished search; when it cannot be written, a warning
 * that summary.json records. */
int  srch_write_report(search *s);

/* --- workers.c --- */
/* In the worker (or in-process): run the trial and make sure a summary is left. */
void srch_run_one(search *s, job *j, nnx_rt_error *said);
/* Read the row a trial left (`how`: a worker that ended abnormally, or NULL;
 * `said`: what the worker could not write, or ""). */
int  srch_collect(search *s, job *j, const char *how, const char *said);
/* The interrupt flag is up, or the search stopped early (a worker died and the
 * trials after it depend on its trial): start nothing more. */
bool srch_interrupted(const search *s);
int  srch_start(search *s, job *j);
/* Wait for one worker and collect its trial. */
int  srch_reap(search *s);
/* A pruned row that the job's rung trains on: it ended before j->stop_after. */
bool srch_pruned_short(const job *j);
/* Prepare a job: finished before (resume), failed its check, or queued. */
int  srch_prepare(search *s, job *j);
/* Run jobs [from, to) of s->jobs: o->jobs at a time. */
int  srch_run_jobs(search *s, size_t from, size_t to);

/* --- only.c --- */
/* opts.only names j (by number when it is one, else by name). */
bool srch_is_selected(const search *s, const job *j);
/* opts.only: jobs [from, to) — the selected one trained here (once), the
 * others read as they are; the board (deferred) after them. */
int  srch_only_run(search *s, size_t from, size_t to);

/* --- epoch_value.c --- */
/* The last epoch DIR/metrics.csv has whole, 0 when none. */
int  srch_epochs_in(const char *dir);
/* Job j (ended, or passed) as of epoch `ep`: its select value and valid.loss. */
bool srch_value_at(const search *s, const job *j, int ep, double *value, double *loss);
/* The same from the metrics.csv in `dir`, whatever the trial's state. */
bool srch_value_in(const search *s, const char *dir, int ep, double *value, double *loss);

/* --- rungs.c, median.c, propose.c, staged.c --- */
int  srch_run_halving(search *s, const int *epochs, const size_t *counts, size_t nrungs);
int  srch_run_hyperband(search *s);
/* opts.only: a tpe search that does not prune, in waves of trials that can
 * be proposed together (each an array job under nnx submit). */
int  srch_run_waves(search *s);
int  srch_run_median(search *s);
/* opts.only, prune = median: the rule as steps of one epoch each. */
int  srch_run_median_steps(search *s);
/* opts.only: every trial's value as of epoch d, NaN where it has none
 * there (malloc'd; NULL when out of memory). */
double *srch_median_values(search *s, int d);
/* opts.only: does trial j, in the step that trained to epoch d, go on past
 * it by the median rule (`at` from srch_median_values)?  1 yes, 0 no, -1
 * out of memory. */
int  srch_median_goes_on(search *s, const job *j, int d, const double *at);
/* prune = median: a trial that ended its epochs waits to be judged. */
bool srch_median_pause(const search *s, const job *j);
/* Job j of a tpe search, waiting for its values: propose them from jobs
 * 0..index-lag when all of those have ended (else 0: not yet), check the
 * trial and prepare its directory (which may hold it ended: resume).
 * 1 when proposed, -1 on error. */
int  srch_propose(search *s, job *j);
/* The same without preparing its directory (opts.only: it may be another process's). */
int  srch_propose_values(search *s, job *j);
int  srch_run_staged(search *s);

/* --- search_dir.c --- */
/* DIR exists, holds this experiment (or nothing yet), and has its trials root. */
int  srch_open_dir(search *s);

#endif
