/* workers.c — nnx_search_run: the trials of a search or an ensemble, run in worker processes, stage by stage. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nnx/check.h"
#include "nnx/plan.h"
#include "nnx/provenance.h"
#include "nnx/report.h"
#include "nnx/rt/clock.h"
#include "nnx/run.h"
#include "nnx/rundir.h"
#include "nnx/select.h"
#include "nnx/tpe.h"
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

/* --- jobs ------------------------------------------------------------------- */

static void job_free(job *j)
{
    if (!j)
        return;
    free(j->name);
    free(j->number);
    free(j->dir);
    for (size_t i = 0; i < j->nov; i++) {
        free(j->ov[i].path);
        free(j->ov[i].value);
    }
    free(j->ov);
    nnx_experiment_free(j->e);
    free(j->why);
    if (j->said >= 0)
        close(j->said);
    nnx_search_row_free(&j->row);
    free(j);
}

/* The first error of a failed check, as one line. */
static char *first_error(const nnx_diags *d)
{
    for (const nnx_diag *g = d->head; g; g = g->next)
        if (g->level == NNX_ERROR) {
            char buf[600];
            snprintf(buf, sizeof buf, "%s%s%s", g->msg, g->help ? " — " : "", g->help ? g->help : "");
            return strdup(buf);
        }
    return strdup("the trial's settings do not check");
}

/* An empty job: no trial yet (a tpe trial waiting for its proposal). */
static job *job_blank(int stage, const char *number)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->row.value = NAN;
    j->said = -1;
    j->stage = stage;
    j->number = strdup(number);
    if (!j->number) {
        free(j);
        return NULL;
    }
    return j;
}

/* Give job j trial `t` (its name, values), checked on top of the --set
 * flags.  False when out of memory. */
static bool job_fill(search *s, job *j, const nnx_trial *t, const char *dirname)
{
    j->name = strdup(dirname);
    j->dir = nnx_path_join(s->root, dirname);
    j->ov = calloc(t->nov ? t->nov : 1, sizeof *j->ov);
    nnx_override *all = calloc(s->nset + t->nov + 1, sizeof *all);
    bool ok = j->name && j->dir && j->ov && all;
    for (size_t i = 0; ok && i < t->nov; i++) {
        char *p = strdup(t->ov[i].path), *v = strdup(t->ov[i].value);
        j->ov[i].path = p;
        j->ov[i].value = v;
        j->nov++;
        ok = p && v;
    }
    if (!ok) {
        free(all);
        return false;
    }
    for (size_t i = 0; i < s->nset; i++)
        all[i] = s->set[i];
    for (size_t i = 0; i < j->nov; i++)
        all[s->nset + i] = (nnx_override){ j->ov[i].path, j->ov[i].value };
    nnx_diags d = { 0 };
    j->e = nnx_check_experiment(s->c, s->name, all, s->nset + j->nov, &d);
    if (!j->e)
        j->why = first_error(&d);
    nnx_diags_free(&d);
    free(all);
    return j->e || j->why;
}

/* A new job for trial `t` (its name, values) checked on top of the --set flags. */
static job *job_new(search *s, const nnx_trial *t, const char *dirname, int stage, const char *number)
{
    job *j = job_blank(stage, number);
    if (j && !job_fill(s, j, t, dirname)) {
        job_free(j);
        return NULL;
    }
    return j;
}

static bool add_job(search *s, job *j)
{
    if (s->njobs == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        job **p = realloc(s->jobs, cap * sizeof *p);
        if (!p)
            return false;
        s->jobs = p;
        s->cap = cap;
    }
    j->index = s->njobs;
    s->jobs[s->njobs++] = j;
    return true;
}

/* --- the leaderboard ---------------------------------------------------------- */

/* Fill the row's identity (name, index, stage, parameter values) from its job. */
static int row_identity(search *s, job *j)
{
    nnx_search_row *r = &j->row;
    r->index = j->index;
    r->stage = j->stage;
    r->name = strdup(j->name);
    r->values = calloc(s->res->nparams ? s->res->nparams : 1, sizeof *r->values);
    if (!r->name || !r->values)
        return nnx_rt_fail(s->err, "out of memory");
    for (size_t p = 0; p < s->res->nparams; p++) {
        const char *v = "";
        for (size_t i = 0; i < j->nov; i++)
            if (!strcmp(j->ov[i].path, s->res->paths[p]))
                v = j->ov[i].value;
        r->values[p] = strdup(v);
        if (!r->values[p])
            return nnx_rt_fail(s->err, "out of memory");
        r->nvalues++;
    }
    if (!r->message && !(r->message = strdup("")))
        return nnx_rt_fail(s->err, "out of memory");
    return 0;
}

/* The finished rows, ranked (an ensemble: in seed order), as shallow copies. */
static nnx_search_row *ranked_rows(const search *s, size_t *n)
{
    nnx_search_row *rows = malloc((s->njobs ? s->njobs : 1) * sizeof *rows);
    *n = 0;
    if (!rows)
        return NULL;
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i]->state == JOB_DONE)
            rows[(*n)++] = s->jobs[i]->row;
    if (s->res->kind != NNX_SEARCH_ENSEMBLE)
        nnx_search_rank(rows, *n, s->res->select_max);
    /* A staged search has one winner: the point its last finished stage kept.
     * It leads the board even where an earlier trial ties or beats it. */
    const char *kept = NULL;
    for (size_t k = 0; s->res->kind == NNX_SEARCH_STAGED && k < s->res->nstages; k++)
        if (s->res->stages[k].winner)
            kept = s->res->stages[k].winner;
    for (size_t i = 1; kept && i < *n; i++)
        if (rows[i].name && !strcmp(rows[i].name, kept)) {
            nnx_search_row w = rows[i];
            memmove(rows + 1, rows, i * sizeof *rows);
            rows[0] = w;
            break;
        }
    return rows;
}

static int write_board(search *s, bool final)
{
    if (s->o->look || s->defer)
        return 0;
    final = final && !s->open;      /* opts.only: the ensemble's average waits for every member */
    size_t n;
    nnx_search_row *rows = ranked_rows(s, &n);
    const nnx_search_row **ptrs = malloc((n ? n : 1) * sizeof *ptrs);
    const char **dirs = malloc((n ? n : 1) * sizeof *dirs);
    if (!rows || !ptrs || !dirs) {
        free(rows);
        free(ptrs);
        free(dirs);
        return nnx_rt_fail(s->err, "out of memory");
    }
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &rows[i];
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i]->state == JOB_DONE)
            dirs[d++] = s->jobs[i]->dir;
    int rc = 0;
    nnx_search_result *res = s->res;
    int rung_epochs[NNX_PLAN_MAX_RUNGS];
    size_t rung_trials[NNX_PLAN_MAX_RUNGS];
    size_t nrungs = res->kind == NNX_SEARCH_ENSEMBLE ? 0 : nnx_plan_rungs(s->base, s->njobs, rung_epochs, rung_trials);
    if (res->kind == NNX_SEARCH_ENSEMBLE) {
        srch_ensemble_stats_free(&res->ens);
        rc = srch_ensemble_stats(final && !res->interrupted ? s->base : NULL, s->o->lua_stdlib, ptrs, dirs, n, &res->ens,
                                 s->err);
    }
    srch_board b = {
        .dir = res->dir, .version = s->o->version ? s->o->version : "",
        .experiment = s->base->name, .search_kind = nnx_exp_search_name(s->base->search.kind),
        .select = res->select, .select_max = res->select_max, .kind = res->kind,
        .paths = res->paths, .nparams = res->nparams, .rows = ptrs, .nrows = n,
        .planned = res->planned, .stages = res->stages, .nstages = res->nstages,
        .ens = res->kind == NNX_SEARCH_ENSEMBLE ? &res->ens : NULL, .message = res->message,
        .prune = &s->base->prune, .epochs = s->base->epochs, .rung_epochs = rung_epochs, .nrungs = nrungs,
        .tpe = s->base->search.kind == NNX_XSEARCH_TPE ? &s->base->search : NULL,
        .warnings = res->warnings, .nwarnings = res->nwarnings,
        .provenance = s->o->provenance,
    };
    if (rc == 0 && (rc = srch_board_write(&b, s->err)) < 0)
        res->write_failed = true;
    free(rows);
    free(ptrs);
    free(dirs);
    return rc;
}

/* Tell the caller what happened, with the whole search's counts. */
static void emit(search *s, nnx_search_event ev)
{
    if (!s->o->event)
        return;
    size_t n;
    nnx_search_row *rows = ranked_rows(s, &n);
    const char **running = malloc((s->njobs ? s->njobs : 1) * sizeof *running);
    ev.stage = ev.kind == NNX_SEARCH_STAGE_DONE ? ev.stage : s->stage;
    ev.done = ev.running = ev.queued = 0;
    for (size_t i = 0; i < s->njobs; i++) {
        job_state st = s->jobs[i]->state;
        ev.done += st == JOB_DONE;
        ev.queued += st == JOB_QUEUED;
        if (st == JOB_RUNNING && running)
            running[ev.running++] = s->jobs[i]->name;
    }
    ev.running_names = running;
    ev.best = rows && n && s->res->kind != NNX_SEARCH_ENSEMBLE && srch_row_group(&rows[0]) == 0 ? &rows[0] : NULL;
    ev.select = s->res->select;
    ev.select_max = s->res->select_max;
    s->o->event(s->o->event_user, &ev);
    free(running);
    free(rows);
}

/* --- running trials -------------------------------------------------------- */

/* In the worker (or in-process): run the trial and make sure a summary is
 * left.  When not even a failed status can be written (a full disk), the
 * reason goes to `said` (NULL: none), for the parent to record. */
static void run_one(search *s, job *j, nnx_rt_error *said)
{
    nnx_search_trial t = { .index = j->index, .name = j->name, .params = j->ov, .nparams = j->nov, .e = j->e,
                           .stage = j->stage, .threads = s->threads, .cont = j->cont,
                           .stop_after = j->stop_after };
    nnx_rt_error err = { { 0 } };
    int rc = s->o->run(&t, j->dir, s->o->run_ctx, &err);
    nnx_search_row row = { .value = NAN };
    nnx_rt_error rerr = { { 0 } };
    int r = nnx_search_row_read(j->dir, &row, &rerr);
    bool left = r != 0 || row.status[0];    /* a summary that ends the trial (or a damaged one) */
    nnx_search_row_free(&row);
    if (left)
        return;
    /* A runner that could not start says why (final: a failed row).  One
     * that ran but left no final summary could not write it (the real
     * runner says why): a failure to write, which a resume runs again. */
    bool ran = rc == 0;
    const char *msg = err.msg[0] ? err.msg : ran ? "the trial left no summary.json" : "the trial could not start";
    if (nnx_search_write_status(j->dir, j->e->name, "failed", msg, ran, &rerr) < 0 && said)
        nnx_rt_fail(said, "%s (and %s)", msg, rerr.msg);
}

/* prune = median: a trial that ended its epochs waits to be judged; the
 * search tells its caller only when the rule stops it or it ends. */
static bool median_pause(const search *s, const job *j)
{
    return s->base->prune.kind == NNX_XPRUNE_MEDIAN && !strcmp(j->row.status, "pruned") &&
           j->row.epochs_run < s->base->epochs;
}

/* Read the row a trial left.  `how` describes a worker that ended abnormally
 * (killed by a signal), or is NULL; `said` is what the worker could not
 * write, or "". */
static int collect(search *s, job *j, const char *how, const char *said)
{
    nnx_rt_error rerr = { { 0 } };
    int r = nnx_search_row_read(j->dir, &j->row, &rerr);
    if (r == 0 && !j->row.status[0] && said[0]) {
        /* the trial's record could not be written: a failed row, run again on resume */
        snprintf(j->row.status, sizeof j->row.status, "failed");
        j->row.retry = true;
        j->row.message = strdup(said);
    } else if (r == 0 && !j->row.status[0]) {
        /* no summary at all: the worker died before the trial ended */
        char msg[160];
        snprintf(msg, sizeof msg, "the worker process %s before the trial ended", how ? how : "exited");
        nnx_rt_error e2;
        nnx_search_write_status(j->dir, s->base->name, "interrupted", msg, false, &e2);
        snprintf(j->row.status, sizeof j->row.status, "interrupted");
        j->row.message = strdup(msg);
    } else if (r < 0) {
        snprintf(j->row.status, sizeof j->row.status, "failed");
        free(j->row.message);
        j->row.message = strdup(rerr.msg);
    }
    j->state = JOB_DONE;
    if (!strcmp(j->row.status, "interrupted"))
        s->res->interrupted = s->res->interrupted || (s->o->interrupt && *s->o->interrupt);
    if (row_identity(s, j) < 0)
        return -1;
    if (write_board(s, false) < 0)
        return -1;
    if (!median_pause(s, j))
        emit(s, (nnx_search_event){ .kind = NNX_SEARCH_FINISHED, .row = &j->row });
    return 0;
}

static bool interrupted(const search *s)
{
    return s->o->interrupt && *s->o->interrupt;
}

static int start(search *s, job *j)
{
    /* prune = median: a trial going on after its pause is not news */
    bool quiet = j->counted && s->base->prune.kind == NNX_XPRUNE_MEDIAN;
    s->res->ran += !j->counted;
    j->counted = true;
    j->state = JOB_RUNNING;
    if (!s->o->fork) {
        if (!quiet)
            emit(s, (nnx_search_event){ .kind = NNX_SEARCH_STARTED, .trial = j->name, .cont = j->cont });
        nnx_rt_error said = { { 0 } };
        run_one(s, j, &said);
        return collect(s, j, NULL, said.msg);
    }
    fflush(NULL);
    int fds[2];
    pid_t pid = pipe(fds) == 0 ? fork() : -1;
    if (pid < 0) {
        int e = errno;
        j->state = JOB_QUEUED;
        return nnx_rt_fail(s->err, "cannot start a worker process: %s", strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        nnx_rt_error said = { { 0 } };
        run_one(s, j, &said);
        /* at most 512 bytes: the pipe holds them without a reader */
        size_t n = strlen(said.msg);
        if (n && write(fds[1], said.msg, n) < 0)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    j->said = fds[0];
    j->pid = pid;
    if (!quiet)
        emit(s, (nnx_search_event){ .kind = NNX_SEARCH_STARTED, .trial = j->name, .cont = j->cont });
    return 0;
}

static double now_ms(void)
{
    return 1e3 * nnx_clock_seconds();
}

/* Wait for a worker to end; with opts.tick_ms, poll and send TICK events
 * meanwhile.  The worker's pid, 0 when interrupted by a signal, -1 on error. */
static pid_t wait_worker(search *s, int *status)
{
    if (s->o->tick_ms <= 0 || !s->o->event)
        return waitpid(-1, status, 0);
    double next = now_ms() + s->o->tick_ms;
    for (;;) {
        pid_t pid = waitpid(-1, status, WNOHANG);
        if (pid != 0)
            return pid;
        if (interrupted(s))
            return waitpid(-1, status, 0);
        if (now_ms() >= next) {
            emit(s, (nnx_search_event){ .kind = NNX_SEARCH_TICK });
            next = now_ms() + s->o->tick_ms;
        }
        struct timespec nap = { 0, 20 * 1000000L };
        nanosleep(&nap, NULL);
    }
}

/* Wait for one worker and collect its trial. */
static int reap(search *s)
{
    int status;
    pid_t pid = wait_worker(s, &status);
    if (pid < 0)
        return errno == EINTR ? 0 : nnx_rt_fail(s->err, "waiting for a worker: %s", strerror(errno));
    for (size_t i = 0; i < s->njobs; i++) {
        job *j = s->jobs[i];
        if (j->state != JOB_RUNNING || j->pid != pid)
            continue;
        char how[64];
        if (WIFSIGNALED(status))
            snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(status));
        else
            snprintf(how, sizeof how, "exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        char said[sizeof ((nnx_rt_error *)0)->msg] = "";
        ssize_t n = 0, got;
        while (j->said >= 0 && (size_t)n + 1 < sizeof said &&
               (got = read(j->said, said + n, sizeof said - 1 - (size_t)n)) > 0)
            n += got;
        said[n] = '\0';
        if (j->said >= 0)
            close(j->said);
        j->said = -1;
        return collect(s, j, how, said);
    }
    return 0;   /* not one of ours */
}

/* A pruned row that the job's rung trains on: it ended before j->stop_after. */
static bool pruned_short(const job *j)
{
    return !strcmp(j->row.status, "pruned") && (j->stop_after <= 0 || j->row.epochs_run < j->stop_after);
}

/* Prepare a job: finished before (resume), failed its check, or queued with
 * an empty directory (or, continued, with its interrupted or pruned attempt). */
static int prepare(search *s, job *j)
{
    if (nnx_mkdirs(j->dir, s->err) < 0)
        return -1;
    nnx_search_row_free(&j->row);       /* a rung before this one's */
    int r = nnx_search_row_read(j->dir, &j->row, s->err);
    if (r < 0)
        return -1;
    if (r == 1 && !pruned_short(j)) {
        j->state = JOB_DONE;
        j->row.resumed = true;
        s->res->resumed += !j->counted;
        j->counted = true;
        if (row_identity(s, j) < 0)
            return -1;
        emit(s, (nnx_search_event){ .kind = NNX_SEARCH_RESUMED, .row = &j->row });
        return 0;
    }
    nnx_search_row_free(&j->row);
    char *state = nnx_path_join(j->dir, "resume.state");
    if (!state)
        return nnx_rt_fail(s->err, "out of memory");
    j->cont = j->e && srch_exists(state);
    free(state);
    if (!j->cont && (srch_remove_tree(j->dir, s->err) < 0 || nnx_mkdirs(j->dir, s->err) < 0))
        return -1;
    if (!j->e) {
        if (nnx_search_write_status(j->dir, s->base->name, "failed", j->why, false, s->err) < 0)
            return -1;
        return collect(s, j, NULL, "");
    }
    j->state = JOB_QUEUED;
    return 0;
}

/* --- one trial of many processes (opts.only) ----------------------------------- */

/* opts.only names j: by number when it is one ("3", "2.3"; an ensemble
 * member's seed is its name, but a number here is always the plan's), else
 * by name. */
static bool is_selected(const search *s, const job *j)
{
    const char *only = s->o->only;
    if (!only || !only[0])
        return false;
    bool number = strspn(only, "0123456789.") == strlen(only);
    return !strcmp(number ? j->number : j->name, only);
}

static char *dup_or_null(const char *v, bool *ok)
{
    char *d = v ? strdup(v) : NULL;
    *ok = *ok && (!v || d);
    return d;
}

/* Record job j as pending in the result: running (its lock held), interrupted
 * (it left resume.state) or not started. */
static int add_pending(search *s, const job *j)
{
    nnx_search_result *res = s->res;
    nnx_search_pending *p = realloc(res->pending, (res->npending + 1) * sizeof *p);
    if (!p)
        return nnx_rt_fail(s->err, "out of memory");
    res->pending = p;
    nnx_search_row row = { 0 };
    nnx_trial_state st;
    char holder[300];
    if (nnx_search_trial_look(s->o->dir, s->root, j->name, &row, &st, holder, sizeof holder, s->err) < 0)
        return -1;
    nnx_search_row_free(&row);
    const char *state = nnx_trial_state_name(st);
    bool ok = true;
    p[res->npending] = (nnx_search_pending){ .name = dup_or_null(j->name, &ok), .number = dup_or_null(j->number, &ok),
                                             .state = dup_or_null(state, &ok),
                                             .holder = dup_or_null(holder[0] ? holder : NULL, &ok) };
    res->npending++;
    return ok ? 0 : nnx_rt_fail(s->err, "out of memory");
}

/* A trial this process does not train: read its row if it has ended, never
 * touch its directory.  A pruned search: a trial pruned short of the current
 * step's epochs has not ended it; one not in the step (j->out) is only read. */
static int look_at(search *s, job *j)
{
    nnx_rt_error rerr = { { 0 } };
    int r = nnx_search_row_read(j->dir, &j->row, &rerr);
    if (r == 1 && (j->out || !pruned_short(j))) {
        j->state = JOB_DONE;
        j->row.resumed = true;
        s->res->resumed += !j->counted;     /* once, though a pruned search reads it each step */
        j->counted = true;
        return row_identity(s, j);
    }
    nnx_search_row_free(&j->row);
    j->row.value = NAN;
    j->state = JOB_QUEUED;
    if (j->out)
        return 0;
    s->open = true;
    return add_pending(s, j);
}

/* The selected trial: under its lock, prepared as a worker's, trained here. */
static int train_selected(search *s, job *j)
{
    nnx_search_result *res = s->res;
    bool ok = true;
    free(res->only_name);
    res->only_name = dup_or_null(j->name, &ok);
    if (!ok)
        return nnx_rt_fail(s->err, "out of memory");
    if (interrupted(s)) {
        res->only = NNX_ONLY_WAITING;
        return look_at(s, j);
    }
    srch_lock_holder h;
    int got = srch_lock_take(s->o->dir, j->name, &h, s->err);
    if (got < 0)
        return -1;
    if (got == 0) {
        char holder[300];
        snprintf(holder, sizeof holder, "%s %ld", h.host, h.pid);
        res->only = NNX_ONLY_HELD;
        res->only_holder = dup_or_null(holder, &ok);
        return ok ? look_at(s, j) : nnx_rt_fail(s->err, "out of memory");
    }
    int rc = prepare(s, j);
    if (rc == 0 && j->state == JOB_QUEUED) {
        res->ran++;
        j->trained = true;
        j->state = JOB_RUNNING;
        emit(s, (nnx_search_event){ .kind = NNX_SEARCH_STARTED, .trial = j->name, .cont = j->cont });
        nnx_rt_error said = { { 0 } };
        run_one(s, j, &said);
        rc = collect(s, j, NULL, said.msg);
    }
    res->only = j->row.resumed ? NNX_ONLY_ENDED : NNX_ONLY_RAN;
    snprintf(res->only_status, sizeof res->only_status, "%s", j->state == JOB_DONE ? j->row.status : "");
    srch_lock_release(s->o->dir, j->name);
    if (rc == 0 && j->state != JOB_DONE) {
        s->open = true;
        rc = add_pending(s, j);
    }
    return rc;
}

static bool past_step(const job *j);
static char *fresh_name(const search *s, const char *name);
static bool value_in(const search *s, const char *dir, int ep, double *value, double *loss);

/* --- tpe: proposing a trial's values ------------------------------------------ */

/* Job j's value as its proposal observes it: at its first rung's epoch when
 * it is pruned by rungs (what every trial reaches before any is promoted),
 * else its row's; NaN when it has none (failed, diverged: the worst). */
static double observed(const search *s, const job *j)
{
    double v = NAN, l;
    if (j->obs_epoch > 0 && j->state == JOB_DONE) {
        /* one that stopped on its own before that epoch: as of its end, for good */
        int ep = j->row.epochs_run < j->obs_epoch ? j->row.epochs_run : j->obs_epoch;
        return ep > 0 && value_in(s, j->dir, ep, &v, &l) ? v : NAN;
    }
    return j->state == JOB_DONE && srch_status_final(j->row.status) ? j->row.value : NAN;
}

/* Job j of a tpe search, waiting for its values: propose them from jobs
 * 0..index-lag when all of those have ended (else 0: not yet), check the
 * trial and prepare its directory (which may hold it ended: resume).
 * 1 when proposed, -1 on error. */
static int propose(search *s, job *j);

/* Run jobs [from, to) of s->jobs: o->jobs at a time. */
static int run_jobs(search *s, size_t from, size_t to)
{
    if (s->o->only) {
        for (size_t i = from; i < to; i++) {
            job *j = s->jobs[i];
            /* a pruned search passes here once a step: each trial read afresh; this
             * process trains its trial in one step at most (under Slurm, a step's array) */
            nnx_search_row_free(&j->row);
            j->row.value = NAN;
            j->state = JOB_QUEUED;
            j->passed = !j->out && past_step(j);
            if (j->passed)
                continue;
            bool mine = is_selected(s, j) && !j->out && !j->trained;
            int rc = mine ? train_selected(s, j) : look_at(s, j);
            if (rc < 0)
                return -1;
        }
        return write_board(s, false);
    }
    for (size_t i = from; i < to; i++)
        if (!s->jobs[i]->out && !s->jobs[i]->unproposed && prepare(s, s->jobs[i]) < 0)
            return -1;
    if (write_board(s, false) < 0)
        return -1;
    int jobs = s->o->fork && s->o->jobs > 1 ? s->o->jobs : 1;
    size_t next = from;
    int rc = 0;
    for (;;) {
        int running = 0;
        for (size_t i = from; i < to; i++)
            running += s->jobs[i]->state == JOB_RUNNING;
        while (rc == 0 && running < jobs && !interrupted(s)) {
            while (next < to && (s->jobs[next]->state != JOB_QUEUED || s->jobs[next]->out))
                next++;
            if (next == to)
                break;
            if (s->jobs[next]->unproposed) {
                int p = propose(s, s->jobs[next]);
                if (p < 0)
                    rc = -1;
                if (p <= 0)
                    break;      /* it waits for the trials before it */
                continue;       /* prepared: queued, or ended before (resume) */
            }
            rc = start(s, s->jobs[next]);
            running += s->jobs[next]->state == JOB_RUNNING;
        }
        if (!running)
            break;
        int r = reap(s);
        if (r < 0 && rc == 0)
            rc = r;
    }
    for (size_t i = from; i < to; i++)
        if (s->jobs[i]->state == JOB_QUEUED && !s->jobs[i]->out)
            s->res->interrupted = true;
    return rc;
}

/* --- successive halving (prune = halving) ------------------------------------- */

/* Trial j as of epoch `ep`: its select value then (the best over epochs
 * 1..ep, as it would have reported had it stopped there) and valid.loss at
 * that epoch, read from its metrics.csv, so that a rung is decided the same
 * whether the trial has gone further since (a resumed search) or not.
 * False when it did not reach `ep` with a finite value. */
/* The complete rows of DIR/metrics.csv: another process may be appending
 * to it (a trial trained on in a later step), so a last line without its
 * newline is left out. */
static bool metrics_read(const char *dir, nnx_table *t)
{
    char *path = nnx_path_join(dir, "metrics.csv");
    size_t len = 0;
    nnx_rt_error err;
    char *text = path ? nnx_file_read(path, 0, &len, &err) : NULL;
    while (text && len && text[len - 1] != '\n')
        len--;
    bool ok = text && nnx_table_parse(text, len, path, t, &err) == 0;
    free(text);
    free(path);
    return ok;
}

/* The last epoch DIR/metrics.csv has whole, 0 when none. */
static int epochs_in(const char *dir)
{
    nnx_table t = { 0 };
    int n = 0;
    if (metrics_read(dir, &t)) {
        const double *epoch = nnx_table_column(&t, "epoch");
        n = epoch && t.nrows && isfinite(epoch[t.nrows - 1]) ? (int)epoch[t.nrows - 1] : 0;
        nnx_table_free(&t);
    }
    return n;
}

/* opts.only: job j, a member of a step that ends at j->stop_after, has gone
 * past it without a final summary: it trains in a later step now (another
 * process continued it), or was interrupted there. */
static bool past_step(const job *j)
{
    if (j->stop_after <= 0)
        return false;
    nnx_search_row row = { .value = NAN };
    nnx_rt_error err;
    int r = nnx_search_row_read(j->dir, &row, &err);
    nnx_search_row_free(&row);
    return r == 0 && epochs_in(j->dir) >= j->stop_after;
}
static bool value_in(const search *s, const char *dir, int ep, double *value, double *loss);

static bool value_at(const search *s, const job *j, int ep, double *value, double *loss)
{
    if (!j->passed && (j->state != JOB_DONE || j->row.epochs_run < ep))
        return false;
    return value_in(s, j->dir, ep, value, loss);
}

/* The same from the metrics.csv in `dir`, whatever the trial's state. */
static bool value_in(const search *s, const char *dir, int ep, double *value, double *loss)
{
    nnx_table t = { 0 };
    bool ok = metrics_read(dir, &t);
    const double *epoch = ok ? nnx_table_column(&t, "epoch") : NULL;
    const double *v = ok ? nnx_table_column(&t, s->res->select) : NULL;
    const double *l = ok ? nnx_table_column(&t, "valid.loss") : NULL;
    *value = NAN;
    *loss = NAN;
    for (size_t i = 0; epoch && v && i < t.nrows && epoch[i] <= ep; i++) {
        if (!isfinite(v[i]))
            continue;
        int cmp = isnan(*value) ? 1 : nnx_select_compare(v[i], *value, s->res->select_max);
        if (cmp > 0 || (cmp == 0 && l && l[i] < *loss)) {   /* the epoch a run would keep */
            *value = v[i];
            *loss = l ? l[i] : NAN;
        }
    }
    nnx_table_free(&t);
    return isfinite(*value);
}

/* The `keep` best members of a rung at epoch `ep`, ranked as the
 * leaderboard ranks (by the value then, ties as nnx_search_rank breaks
 * them); the rest stay as they ended.  Marks the kept ones in `keep_mark`. */
static int rung_best(search *s, job **members, size_t n, int ep, size_t keep, bool *keep_mark)
{
    nnx_search_row *rows = calloc(n ? n : 1, sizeof *rows);
    char *loss_name = strdup("valid.loss");
    double *losses = calloc(n ? n : 1, sizeof *losses);
    if (!rows || !loss_name || !losses) {
        free(rows);
        free(loss_name);
        free(losses);
        return nnx_rt_fail(s->err, "out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double v, l;
        if (!value_at(s, members[i], ep, &v, &l))
            continue;
        losses[m] = l;
        rows[m] = (nnx_search_row){ .name = members[i]->name, .index = i, .stage = -1, .value = v,
                                    .epoch = ep, .epochs_run = ep, .metric_names = &loss_name,
                                    .metric_values = &losses[m], .nmetrics = 1 };
        snprintf(rows[m].status, sizeof rows[m].status, "completed");
        m++;
    }
    nnx_search_rank(rows, m, s->res->select_max);
    for (size_t i = 0; i < m && i < keep; i++)
        keep_mark[rows[i].index] = true;
    free(rows);
    free(loss_name);
    free(losses);
    return 0;
}

/* --- pruned searches: a plan of steps ------------------------------------------ */

/* One step of a pruned search: its trials train to `epochs` (from their
 * checkpoint when they trained before).  They are the plan's trials [lo, hi)
 * when `from` < 0 (the first rung of a bracket), else the best `keep` of the
 * trials of step `from`, judged at that step's epochs.  The steps run in
 * order, a step only once every trial of the one before has ended, so the
 * jobs count (or Slurm's order of finishing) changes nothing.  Successive
 * halving is one chain of steps (its rungs); Hyperband's brackets are more
 * chains one after the other, each starting from its own trials; under
 * `nnx submit` each step is one array job that depends on the one before. */
typedef struct prune_step {
    long   from;
    size_t lo, hi, keep;
    int    epochs;
} prune_step;

/* Mark in `out` the best st->keep of the trials marked in `prev` (step
 * st->from, trained to `ep`). */
static int step_best(search *s, const bool *prev, int ep, size_t keep, bool *out)
{
    size_t nj = s->njobs, n = 0;
    job **members = malloc((nj ? nj : 1) * sizeof *members);
    bool *mark = calloc(nj ? nj : 1, sizeof *mark);
    int rc = members && mark ? 0 : nnx_rt_fail(s->err, "out of memory");
    for (size_t i = 0; rc == 0 && i < nj; i++)
        if (prev[i])
            members[n++] = s->jobs[i];
    if (rc == 0)
        rc = rung_best(s, members, n, ep, keep, mark);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (mark[i])
            out[members[i]->index] = true;
    free(members);
    free(mark);
    return rc;
}

/* Run the steps in order.  With opts.only: as far as the steps have ended
 * (res->open_step: the step whose trials are pending). */
static int run_steps(search *s, const prune_step *st, size_t nsteps)
{
    size_t nj = s->njobs;
    bool *in = calloc(nsteps && nj ? nsteps * nj : 1, sizeof *in);
    if (!in)
        return nnx_rt_fail(s->err, "out of memory");
    s->res->nsteps = nsteps;
    s->res->open_step = nsteps;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < nsteps; k++) {
        bool *mk = in + k * nj;
        if (st[k].from < 0)
            for (size_t i = st[k].lo; i < st[k].hi && i < nj; i++)
                mk[i] = true;
        else
            rc = step_best(s, in + (size_t)st[k].from * nj, st[st[k].from].epochs, st[k].keep, mk);
        for (size_t i = 0; rc == 0 && i < nj; i++) {
            s->jobs[i]->out = !mk[i];
            if (mk[i])
                s->jobs[i]->stop_after = st[k].epochs < s->base->epochs ? st[k].epochs : 0;
        }
        if (rc == 0)
            rc = run_jobs(s, 0, nj);
        if (rc < 0 || s->res->interrupted)
            break;
        if (s->open) {
            s->res->open_step = k;      /* opts.only: the later steps wait for this one */
            break;
        }
    }
    for (size_t i = 0; i < nj; i++)
        s->jobs[i]->out = false;
    free(in);
    return rc;
}

/* Successive halving: every trial trains the first rung's epochs; the best
 * 1/eta of each rung continue from their resume.state to the next rung's
 * epochs; the rest keep status pruned. */
static int run_halving(search *s, size_t from, size_t to, const int *epochs, const size_t *counts, size_t nrungs)
{
    prune_step st[NNX_PLAN_MAX_RUNGS];
    for (size_t k = 0; k < nrungs && k < NNX_PLAN_MAX_RUNGS; k++)
        st[k] = (prune_step){ .from = (long)k - 1, .lo = from, .hi = to, .keep = counts[k], .epochs = epochs[k] };
    return run_steps(s, st, nrungs < NNX_PLAN_MAX_RUNGS ? nrungs : NNX_PLAN_MAX_RUNGS);
}

/* --- tpe: the proposal --------------------------------------------------------- */

static int propose(search *s, job *j)
{
    size_t lag = (size_t)s->base->search.lag;
    size_t nobs = j->index >= lag ? j->index - lag + 1 : 0;
    for (size_t m = 0; m < nobs; m++)
        if (s->jobs[m]->state != JOB_DONE)
            return 0;
    const nnx_exp_search *x = &s->base->search;
    nnx_tpe_obs *obs = calloc(nobs ? nobs : 1, sizeof *obs);
    const char **texts = calloc(nobs * x->naxes + 1, sizeof *texts);
    char **vals = calloc(x->naxes + 1, sizeof *vals);
    int rc = obs && texts && vals ? 0 : nnx_rt_fail(s->err, "out of memory");
    for (size_t m = 0; rc == 0 && m < nobs; m++) {
        const job *o = s->jobs[m];
        for (size_t a = 0; a < x->naxes; a++) {
            texts[m * x->naxes + a] = "";
            for (size_t i = 0; i < o->nov; i++)
                if (!strcmp(o->ov[i].path, x->axes[a].path))
                    texts[m * x->naxes + a] = o->ov[i].value;
        }
        obs[m] = (nnx_tpe_obs){ .values = &texts[m * x->naxes], .value = observed(s, o) };
    }
    if (rc == 0 && nnx_tpe_propose(x, s->res->select_max, obs, nobs, j->index, vals) < 0)
        rc = nnx_rt_fail(s->err, "out of memory");
    nnx_trial t = { 0 };
    char *name = NULL;
    if (rc == 0 && (!nnx_plan_trial(x, (const char *const *)vals, &t) || !(name = fresh_name(s, t.name)) ||
                    !job_fill(s, j, &t, name)))
        rc = nnx_rt_fail(s->err, "out of memory");
    free(name);
    free(t.name);
    for (size_t i = 0; i < t.nov; i++) {
        free((char *)t.ov[i].path);
        free((char *)t.ov[i].value);
    }
    free(t.ov);
    for (size_t a = 0; vals && a < x->naxes; a++)
        free(vals[a]);
    free(vals);
    free(texts);
    free(obs);
    if (rc < 0)
        return -1;
    j->unproposed = false;
    j->state = JOB_QUEUED;
    return prepare(s, j) < 0 ? -1 : 1;
}

/* --- the median rule (prune = median) -------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median rule for job k at epoch ep: 1 stop, 0 go on, -1 not decided yet
 * (an earlier trial has not reached ep and not ended), -2 out of memory.  The earlier trials
 * are those before k in proposal order, each as of epoch ep (its best by
 * select over epochs 1..ep); one that ended before ep does not count. */
static int median_says(search *s, const job *k, int ep)
{
    for (size_t m = 0; m < k->index; m++) {     /* first without reading a file */
        const job *o = s->jobs[m];
        if (o->state != JOB_DONE && !(o->state == JOB_QUEUED && !o->unproposed && o->cur >= ep))
            return -1;      /* running, or not yet at ep */
    }
    double mine, l;
    if (!value_in(s, k->dir, ep, &mine, &l))
        return 0;
    double *v = malloc((k->index + 1) * sizeof *v);
    if (!v)
        return -2;
    size_t n = 0;
    for (size_t m = 0; m < k->index; m++) {
        const job *o = s->jobs[m];
        double x;
        if (o->state == JOB_DONE) {
            if (value_at(s, o, ep, &x, &l))
                v[n++] = x;
        } else if (value_in(s, o->dir, ep, &x, &l))     /* paused at or past ep */
            v[n++] = x;
    }
    int stop = 0;
    if (n) {
        qsort(v, n, sizeof *v, cmp_double);
        double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
        stop = s->res->select_max ? mine < med : mine > med;
    }
    free(v);
    return stop;
}

/* A job that has ended for good: its row, as prepare reads a finished one. */
static int settle(search *s, job *j)
{
    nnx_search_row_free(&j->row);
    int r = nnx_search_row_read(j->dir, &j->row, s->err);
    if (r < 0)
        return -1;
    j->state = JOB_DONE;
    if (row_identity(s, j) < 0 || write_board(s, false) < 0)
        return -1;
    emit(s, (nnx_search_event){ .kind = NNX_SEARCH_FINISHED, .row = &j->row });
    return 0;
}

/* Each trial trains `after` epochs, then one epoch at a time; before each
 * further epoch the median rule judges it against the trials before it at
 * that epoch, once each of them has reached the epoch or ended.  A trial
 * between two epochs holds status pruned and its resume.state; one the
 * rule stops keeps them.  Every decision reads only the run directories of
 * earlier trials, so the order trials finish in changes nothing. */
static int run_median(search *s)
{
    int after = s->base->prune.after, epochs = s->base->epochs;
    for (size_t i = 0; i < s->njobs; i++) {
        job *j = s->jobs[i];
        if (j->unproposed)
            continue;
        if (prepare(s, j) < 0)
            return -1;
        j->cur = j->state == JOB_QUEUED && j->cont ? nnx_run_resume_epoch(j->dir) : 0;
    }
    if (write_board(s, false) < 0)
        return -1;
    int jobs = s->o->fork && s->o->jobs > 1 ? s->o->jobs : 1;
    int rc = 0;
    for (;;) {
        /* a trial that ended its epochs pauses: queued again from its resume.state */
        for (size_t i = 0; rc == 0 && i < s->njobs; i++) {
            job *j = s->jobs[i];
            if (j->state != JOB_DONE || strcmp(j->row.status, "pruned") || j->row.epochs_run >= epochs)
                continue;
            int reached = j->row.epochs_run;
            if (reached <= j->cur)
                continue;   /* judged and stopped there already */
            j->stop_after = 0;
            if (prepare(s, j) < 0)
                rc = -1;
            j->cur = reached;
        }
        int running = 0;
        for (size_t i = 0; i < s->njobs; i++)
            running += s->jobs[i]->state == JOB_RUNNING;
        bool moved = false;
        for (size_t i = 0; rc == 0 && i < s->njobs && running < jobs && !interrupted(s); i++) {
            job *j = s->jobs[i];
            if (j->unproposed) {
                int p = propose(s, j);
                if (p < 0)
                    rc = -1;
                if (p <= 0)
                    break;      /* the later ones wait for it */
                moved = true;
                j->cur = j->state == JOB_QUEUED && j->cont ? nnx_run_resume_epoch(j->dir) : 0;
            }
            if (j->state != JOB_QUEUED)
                continue;
            int target = after;
            if (j->cur >= after) {
                int say = median_says(s, j, j->cur);
                if (say == -2)
                    rc = nnx_rt_fail(s->err, "out of memory");
                if (say < 0)
                    continue;
                if (say > 0) {
                    rc = settle(s, j);
                    moved = true;
                    continue;
                }
                target = j->cur + 1;
            }
            j->stop_after = target < epochs ? target : 0;
            rc = start(s, j);
            running += j->state == JOB_RUNNING;
            moved = true;
        }
        if (rc < 0 || !running) {
            if (rc == 0 && moved && !interrupted(s))
                continue;   /* in-process trials, or rows settled: look again */
            break;
        }
        int r = reap(s);
        if (r < 0 && rc == 0)
            rc = r;
    }
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i]->state != JOB_DONE)
            s->res->interrupted = true;
    return rc;
}

/* --- hyperband (prune = hyperband) ------------------------------------------------ */

/* The brackets one after the other, each successive halving of its own
 * trials from its own first epochs. */
static int run_hyperband(search *s)
{
    size_t max = s->njobs ? s->njobs : 1;
    nnx_plan_bracket *b = malloc(max * sizeof *b);
    if (!b)
        return nnx_rt_fail(s->err, "out of memory");
    size_t nb = nnx_plan_brackets(s->base, s->njobs, b, max);
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; i < b[k].ntrials; i++)
            s->jobs[b[k].first + i]->obs_epoch = b[k].epochs[0];
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < nb && !s->res->interrupted; k++)
        rc = run_halving(s, b[k].first, b[k].first + b[k].ntrials, b[k].epochs, b[k].trials, b[k].nrungs);
    free(b);
    return rc;
}

/* --- search kinds ------------------------------------------------------------- */

static int run_list(search *s)
{
    const nnx_plan *p = s->plan;
    for (size_t i = 0; i < p->ntrials; i++) {
        const nnx_trial *t = &p->trials[i];
        const char *dirname = p->kind == NNX_PLAN_ENSEMBLE && t->nov ? t->ov[0].value : t->name;
        char number[32];
        snprintf(number, sizeof number, "%zu", i + 1);
        bool later = i >= p->proposed_from;     /* tpe: proposed while the search runs */
        job *j = later ? job_blank(-1, number) : job_new(s, t, dirname, -1, number);
        if (j)
            j->unproposed = later;
        if (!j || !add_job(s, j)) {
            job_free(j);
            return nnx_rt_fail(s->err, "out of memory");
        }
    }
    s->res->planned = p->ntrials;
    if (p->kind == NNX_PLAN_ENSEMBLE)
        return run_jobs(s, 0, s->njobs);
    switch (s->base->prune.kind) {
    case NNX_XPRUNE_HALVING: {
        int epochs[NNX_PLAN_MAX_RUNGS];
        size_t counts[NNX_PLAN_MAX_RUNGS];
        size_t nrungs = nnx_plan_rungs(s->base, s->njobs, epochs, counts);
        for (size_t i = 0; i < s->njobs; i++)
            s->jobs[i]->obs_epoch = epochs[0];
        return run_halving(s, 0, s->njobs, epochs, counts, nrungs);
    }
    case NNX_XPRUNE_MEDIAN: return run_median(s);
    case NNX_XPRUNE_HYPERBAND: return run_hyperband(s);
    case NNX_XPRUNE_NONE: break;
    }
    return run_jobs(s, 0, s->njobs);
}

/* The earlier job whose experiment equals `e`, or NULL. */
static job *trained_equal(const search *s, const nnx_experiment *e)
{
    for (size_t i = 0; e && i < s->njobs; i++)
        if (s->jobs[i]->e && nnx_experiment_equal(s->jobs[i]->e, e))
            return s->jobs[i];
    return NULL;
}

/* A name not used by any job yet: `name`, or name_2, name_3, ... */
static char *fresh_name(const search *s, const char *name)
{
    char buf[300];
    snprintf(buf, sizeof buf, "%s", name);
    for (int k = 2;; k++) {
        bool used = false;
        for (size_t i = 0; i < s->njobs && !used; i++)
            used = s->jobs[i]->name && !strcmp(s->jobs[i]->name, buf);
        if (!used)
            return strdup(buf);
        snprintf(buf, sizeof buf, "%s_%d", name, k);
    }
}

/* Stage k: its trials (each new one run, each equal to an earlier one
 * reused); the winner's value is kept. */
static int run_stage(search *s, size_t k, size_t *kept)
{
    const nnx_stage *stage = &s->plan->stages[k];
    nnx_search_stage *out = &s->res->stages[k];
    s->stage = k;
    out->path = strdup(stage->path);
    out->names = calloc(stage->nvalues ? stage->nvalues : 1, sizeof *out->names);
    out->values = calloc(stage->nvalues ? stage->nvalues : 1, sizeof *out->values);
    job **members = calloc(stage->nvalues ? stage->nvalues : 1, sizeof *members);
    size_t n = 0;
    nnx_trial *t = nnx_plan_stage(s->plan, k, kept, &n);
    int rc = out->path && out->names && out->values && members && t ? 0 : nnx_rt_fail(s->err, "out of memory");
    s->res->nstages = k + 1;
    size_t first = s->njobs;
    for (size_t v = 0; rc == 0 && v < n; v++) {
        char *name = fresh_name(s, t[v].name), number[48];
        snprintf(number, sizeof number, "%zu.%zu", k + 1, v + 1);
        job *j = name ? job_new(s, &t[v], name, (int)k, number) : NULL;
        free(name);
        if (!j) {
            rc = nnx_rt_fail(s->err, "out of memory");
            break;
        }
        job *same = trained_equal(s, j->e);
        if (same) {
            if (is_selected(s, j) || (s->o->only && s->o->only[0] && !strcmp(t[v].name, s->o->only))) {
                s->res->only = NNX_ONLY_REUSED;
                free(s->res->only_name);
                s->res->only_name = strdup(same->name);
            }
            job_free(j);
            members[v] = same;
            s->res->reused++;
            emit(s, (nnx_search_event){ .kind = NNX_SEARCH_REUSED, .trial = t[v].name, .row = &same->row });
        } else if (!add_job(s, j)) {
            job_free(j);
            rc = nnx_rt_fail(s->err, "out of memory");
            break;
        } else
            members[v] = j;
        out->names[v] = strdup(members[v]->name);
        out->values[v] = strdup(stage->values[v]);
        out->ntrials++;
        if (!out->names[v] || !out->values[v])
            rc = nnx_rt_fail(s->err, "out of memory");
    }
    s->res->planned += n;
    nnx_trials_free(t, n);
    if (rc == 0)
        rc = run_jobs(s, first, s->njobs);
    /* the winner of the stage: its first row in the leaderboard's ranking;
     * none yet while some of its trials have not ended (opts.only) */
    long best = -1;
    for (size_t v = 0; rc == 0 && !s->open && v < n; v++) {
        const nnx_search_row *r = &members[v]->row;
        if (members[v]->state != JOB_DONE || srch_row_group(r) != 0)
            continue;
        const nnx_search_row *b = best >= 0 ? &members[best]->row : NULL;
        if (!b || srch_row_compare(r, b, s->res->select_max) < 0)
            best = (long)v;
    }
    if (rc == 0 && best >= 0) {
        kept[k] = (size_t)best;
        out->kept = strdup(stage->values[best]);
        out->winner = strdup(members[best]->name);
        if (!out->kept || !out->winner)
            rc = nnx_rt_fail(s->err, "out of memory");
    }
    if (rc == 0 && write_board(s, false) < 0)
        rc = -1;
    if (rc == 0)
        emit(s, (nnx_search_event){ .kind = NNX_SEARCH_STAGE_DONE, .stage = k, .path = out->path,
                                    .value = out->kept, .row = best >= 0 ? &members[best]->row : NULL });
    free(members);
    return rc;
}

static int run_staged(search *s)
{
    size_t ns = s->plan->nstages;
    size_t *kept = calloc(ns ? ns : 1, sizeof *kept);
    s->res->stages = calloc(ns ? ns : 1, sizeof *s->res->stages);
    if (!kept || !s->res->stages) {
        free(kept);
        return nnx_rt_fail(s->err, "out of memory");
    }
    int rc = 0;
    s->res->open_stage = ns;
    for (size_t k = 0; rc == 0 && k < ns && !s->res->interrupted; k++) {
        rc = run_stage(s, k, kept);
        if (rc == 0 && s->open) {
            s->res->open_stage = k;     /* opts.only: the later stages wait for this one */
            break;
        }
        if (rc == 0 && !s->res->stages[k].kept && !s->res->interrupted) {
            char msg[300];
            snprintf(msg, sizeof msg, "stage %zu (%s): no trial ended with a value of %s; the search stops",
                     k + 1, s->plan->stages[k].path, s->res->select);
            s->res->message = strdup(msg);
            break;
        }
    }
    free(kept);
    return rc;
}

/* --- setup ---------------------------------------------------------------------- */

/* Check one trial (--set flags, then its values) into `d`; true when it checks. */
static bool trial_checks(search *s, const nnx_trial *t, nnx_diags *d)
{
    nnx_override *all = calloc(s->nset + t->nov + 1, sizeof *all);
    if (!all)
        return false;
    for (size_t i = 0; i < s->nset; i++)
        all[i] = s->set[i];
    for (size_t i = 0; i < t->nov; i++)
        all[s->nset + i] = t->ov[i];
    nnx_experiment *e = nnx_check_experiment(s->c, s->name, all, s->nset + t->nov, d);
    free(all);
    nnx_experiment_free(e);
    return e != NULL;
}

/* Every trial of the plan checks (staged: each stage with the first values
 * of the stages before), or -1 naming the first that does not. */
static int check_all(search *s, nnx_diags *d)
{
    nnx_diags local = { 0 };
    nnx_diags *dd = d ? d : &local;
    const char *bad = NULL;
    int rc = 0;
    if (s->plan->kind != NNX_PLAN_STAGED) {
        for (size_t i = 0; i < s->plan->ntrials; i++)
            if (!trial_checks(s, &s->plan->trials[i], dd) && !bad)
                bad = s->plan->trials[i].name;
        if (bad)
            rc = nnx_rt_fail(s->err, "trial %s does not check; nothing was trained", bad);
    } else {
        size_t *kept = calloc(s->plan->nstages + 1, sizeof *kept);
        for (size_t k = 0; kept && k < s->plan->nstages && rc == 0; k++) {
            size_t n;
            nnx_trial *t = nnx_plan_stage(s->plan, k, kept, &n);
            for (size_t i = 0; i < n && rc == 0; i++)
                if (!trial_checks(s, &t[i], dd))
                    rc = nnx_rt_fail(s->err, "trial %s (stage %zu) does not check; nothing was trained",
                                     t[i].name, k + 1);
            nnx_trials_free(t, n);
        }
        if (!kept)
            rc = nnx_rt_fail(s->err, "out of memory");
        free(kept);
    }
    nnx_diags_free(&local);
    return rc;
}

/* The experiment's identity: its canonical text without the comment lines
 * (they name the file as the command line spelled it), `log`, and hooks that
 * only log (run.h) — none of which must make another search. */
static char *settings_text(const nnx_experiment *e)
{
    char *text = nnx_experiment_write(e);
    char *id = text ? nnx_run_identity_text(text, nnx_run_hooks_log_only(e)) : NULL;
    free(text);
    return id;
}

void nnx_search_dir_name(const nnx_experiment *e, char *buf, size_t size)
{
    char *text = settings_text(e);
    uint64_t h = 1469598103934665603ull;      /* FNV-1a */
    for (const char *p = text ? text : ""; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ull;
    }
    free(text);
    snprintf(buf, size, "%s-%06llx", e->name, (unsigned long long)(h & 0xffffff));
}

/* Hold DIR/.nnx-lock (a POSIX record lock, dropped when the process ends)
 * so that two runs never work in one search directory at once. */
static int lock_dir(search *s)
{
    char *path = nnx_path_join(s->o->dir, ".nnx-lock");
    if (!path)
        return nnx_rt_fail(s->err, "out of memory");
    s->lock_fd = open(path, O_RDWR | O_CREAT, 0644);
    free(path);
    if (s->lock_fd < 0)
        return nnx_rt_fail(s->err, "cannot lock %s: %s", s->o->dir, strerror(errno));
    /* opts.only: shared with the other one-trial processes, exclusive of a whole-search run */
    struct flock fl = { .l_type = s->o->only ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl(s->lock_fd, F_SETLK, &fl) != 0) {
        int e = errno;
        close(s->lock_fd);
        s->lock_fd = -1;
        if (s->o->only && e == ENOLCK)
            return 0;       /* a network file system without record locks: the trial locks still hold */
        if (e == EACCES || e == EAGAIN)
            return nnx_rt_fail(s->err, "another nnx run is working in %s; wait for it or choose another --out",
                               s->o->dir);
        return nnx_rt_fail(s->err, "cannot lock %s: %s", s->o->dir, strerror(e));
    }
    return 0;
}

/* DIR exists, holds this experiment (or nothing yet), and has its trials root. */
static int open_dir(search *s)
{
    if (s->o->look) {
        /* nnx status, nnx submit --dry-run: write nothing */
        s->root = nnx_path_join(s->o->dir, s->res->kind == NNX_SEARCH_ENSEMBLE ? "members" : "trials");
        if (!s->root)
            return nnx_rt_fail(s->err, "out of memory");
        return 0;   /* a directory not made yet: no trial has ended */
    }
    if (nnx_mkdirs(s->o->dir, s->err) < 0 || (!s->rescan && lock_dir(s) < 0))
        return -1;
    char *text = nnx_experiment_write(s->base);
    char *settings = settings_text(s->base);
    char *path = nnx_path_join(s->o->dir, "experiment.nnx");
    if (!text || !settings || !path) {
        free(text);
        free(settings);
        free(path);
        return nnx_rt_fail(s->err, "out of memory");
    }
    int rc = 0;
    if (srch_exists(path)) {
        /* the same settings; the comments (the file as named), `log` and hooks
         * that only log may differ — then the file says what runs now */
        size_t len = 0;
        char *old = nnx_file_read(path, 0, &len, s->err);
        char *id = old ? nnx_run_identity_text(old, nnx_run_hooks_log_only(s->base)) : NULL;
        if (!id)
            rc = old ? nnx_rt_fail(s->err, "out of memory") : -1;
        else if (strcmp(id, settings) != 0)
            rc = nnx_rt_fail(s->err, "%s holds a different experiment; choose another --out", s->o->dir);
        else if (strcmp(old, text) != 0 && (rc = nnx_file_write(path, text, strlen(text), 0, s->err)) < 0)
            s->res->write_failed = true;
        free(old);
        free(id);
    } else if ((rc = nnx_file_write(path, text, strlen(text), NNX_FILE_UNIQUE, s->err)) < 0)
        s->res->write_failed = true;
    free(text);
    free(settings);
    free(path);
    s->root = nnx_path_join(s->o->dir, s->res->kind == NNX_SEARCH_ENSEMBLE ? "members" : "trials");
    if (rc == 0 && !s->root)
        rc = nnx_rt_fail(s->err, "out of memory");
    if (rc == 0)
        rc = nnx_mkdirs(s->root, s->err);
    if (rc == 0 && (rc = nnx_provenance_save_diff(s->o->provenance, s->o->dir, s->err)) < 0)
        s->res->write_failed = true;
    return rc;
}

static int set_paths(search *s)
{
    nnx_search_result *res = s->res;
    const nnx_exp_search *x = &s->base->search;
    size_t n = res->kind == NNX_SEARCH_ENSEMBLE ? 1 : x->naxes;
    res->paths = calloc(n ? n : 1, sizeof *res->paths);
    if (!res->paths)
        return nnx_rt_fail(s->err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        res->paths[i] = strdup(res->kind == NNX_SEARCH_ENSEMBLE ? "seed" : x->axes[i].path);
        if (!res->paths[i])
            return nnx_rt_fail(s->err, "out of memory");
        res->nparams++;
    }
    return 0;
}

/* Move the finished rows into the result, ranked. */
static int take_rows(search *s)
{
    nnx_search_result *res = s->res;
    size_t n;
    nnx_search_row *rows = ranked_rows(s, &n);
    if (!rows)
        return nnx_rt_fail(s->err, "out of memory");
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i]->state == JOB_DONE) {
            memset(&s->jobs[i]->row, 0, sizeof s->jobs[i]->row);    /* moved */
            s->jobs[i]->state = JOB_QUEUED;
        }
    res->rows = rows;
    res->nrows = n;
    res->winner = res->kind != NNX_SEARCH_ENSEMBLE && n && srch_row_group(&rows[0]) == 0 ? 0 : -1;
    return 0;
}

/* report.html of the finished search; when it cannot be written, a warning
 * that summary.json records. */
static int write_report(search *s)
{
    nnx_search_result *res = s->res;
    nnx_rt_error rerr;
    if (nnx_report_write(res->dir, NULL, false, &res->report, &rerr) == 0)
        return 0;
    char buf[700];
    snprintf(buf, sizeof buf, "report: %s", rerr.msg);
    char **w = realloc(res->warnings, (res->nwarnings + 1) * sizeof *w);
    if (!w)
        return nnx_rt_fail(s->err, "out of memory");
    res->warnings = w;
    if (!(w[res->nwarnings] = strdup(buf)))
        return nnx_rt_fail(s->err, "out of memory");
    res->nwarnings++;
    return write_board(s, true);
}

static int search_run(nnx_checker *c, const char *name, const nnx_override *set, size_t nset,
                      const nnx_experiment *base, const nnx_search_opts *o,
                      nnx_search_result *res, nnx_diags *d, nnx_rt_error *err, bool rescan);

/* One of many processes sharing the directory (opts.only: one that trained
 * its trial, or nnx submit reading it) writes the board: under DIR/.board-lock (held exclusively, waited for) from every trial's
 * summary.json read afresh there.  Each process writes its trial's summary
 * before it takes the lock, so the last board written lists every trial
 * that has ended, however the processes' ends interleave; the files are
 * replaced whole (rename).  The result becomes the fresh reading, with what
 * this process did with its trial kept. */
static int board_locked(nnx_checker *c, const char *name, const nnx_override *set, size_t nset,
                        const nnx_experiment *base, const nnx_search_opts *o, nnx_search_result *res,
                        nnx_rt_error *err)
{
    char *path = nnx_path_join(o->dir, ".board-lock");
    if (!path)
        return nnx_rt_fail(err, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    free(path);
    if (fd < 0)
        return nnx_rt_fail(err, "cannot lock %s/.board-lock: %s", o->dir, strerror(errno));
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    while (fcntl(fd, F_SETLKW, &fl) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == ENOLCK)
            break;      /* a network file system without record locks: written unlocked */
        int e = errno;
        close(fd);
        return nnx_rt_fail(err, "cannot lock %s/.board-lock: %s", o->dir, strerror(e));
    }
    nnx_search_opts o2 = *o;
    o2.only = "";
    o2.event = NULL;
    nnx_search_result fresh;
    int rc = search_run(c, name, set, nset, base, &o2, &fresh, NULL, err, true);
    close(fd);      /* drops the lock */
    if (rc < 0) {
        nnx_search_result_free(&fresh);
        return -1;
    }
    nnx_search_result mine = *res;
    *res = fresh;
    res->only = mine.only;
    res->only_name = mine.only_name;
    res->only_holder = mine.only_holder;
    res->ran = mine.ran;
    res->resumed = mine.resumed;        /* the others that had ended, as this process found them */
    memcpy(res->only_status, mine.only_status, sizeof res->only_status);
    res->interrupted = mine.interrupted;
    res->write_failed = res->write_failed || mine.write_failed;
    mine.only_name = mine.only_holder = NULL;
    nnx_search_result_free(&mine);
    return 0;
}

int nnx_search_run(nnx_checker *c, const char *name, const nnx_override *set, size_t nset,
                   const nnx_experiment *base, const nnx_search_opts *o,
                   nnx_search_result *res, nnx_diags *d, nnx_rt_error *err)
{
    return search_run(c, name, set, nset, base, o, res, d, err, false);
}

static int search_run(nnx_checker *c, const char *name, const nnx_override *set, size_t nset,
                      const nnx_experiment *base, const nnx_search_opts *o,
                      nnx_search_result *res, nnx_diags *d, nnx_rt_error *err, bool rescan)
{
    memset(res, 0, sizeof *res);
    res->winner = -1;
    if (!o->dir || (!o->run && !(o->only && !o->only[0])))
        return nnx_rt_fail(err, "a search needs a directory and a trial runner");
    char *perr = NULL;
    bool shared = o->only && !o->look && !rescan;   /* many processes: the board under .board-lock */
    search s = { .c = c, .name = name, .set = set, .nset = nset, .base = base, .o = o, .res = res,
                 .lock_fd = -1, .err = err, .defer = shared, .rescan = rescan };
    s.plan = nnx_plan_make(base, &perr);
    if (!s.plan) {
        nnx_rt_fail(err, "%s: %s", base->name, perr ? perr : "out of memory");
        free(perr);
        return -1;
    }
    res->kind = s.plan->kind == NNX_PLAN_GRID ? NNX_SEARCH_GRID
              : s.plan->kind == NNX_PLAN_RANDOM ? NNX_SEARCH_RANDOM
              : s.plan->kind == NNX_PLAN_STAGED ? NNX_SEARCH_STAGED : NNX_SEARCH_ENSEMBLE;
    res->dir = strdup(o->dir);
    nnx_exp_metric_ref_str(base, base->select, res->select, sizeof res->select);
    res->select_max = base->select.maximize;
    int jobs = o->fork && o->jobs > 1 ? o->jobs : 1;
    s.threads = (o->threads < 1 ? 1 : o->threads) / jobs;
    if (s.threads < 1)
        s.threads = 1;
    int rc = 0;
    if (s.plan->kind == NNX_PLAN_SINGLE)
        rc = nnx_rt_fail(err, "experiment '%s' has no search and no ensemble", base->name);
    if (rc == 0 && !res->dir)
        rc = nnx_rt_fail(err, "out of memory");
    if (rc == 0)
        rc = check_all(&s, d);
    if (rc == 0)
        rc = set_paths(&s);
    if (rc == 0)
        rc = open_dir(&s);
    /* halving runs rung by rung under --trial (run_steps); these decide in one process */
    if (rc == 0 && o->only && base->prune.kind != NNX_XPRUNE_NONE && base->prune.kind != NNX_XPRUNE_HALVING)
        rc = nnx_rt_fail(err, "%s prunes its trials (prune = %s): which go on is decided in one process, "
                         "so run it whole with nnx run (-j N); nnx run --trial and nnx submit "
                         "take prune = halving, not this rule yet", base->name,
                         base->prune.kind == NNX_XPRUNE_MEDIAN ? "median" : "hyperband");
    if (rc == 0 && o->only && base->search.kind == NNX_XSEARCH_TPE)
        rc = nnx_rt_fail(err, "%s is a tpe search: each trial is proposed from the trials before it, in one "
                         "process, so run it whole with nnx run (-j N); nnx run --trial and nnx submit "
                         "do not take a tpe search yet", base->name);
    if (rc == 0 && o->only && o->only[0] && res->kind == NNX_SEARCH_STAGED &&
        strspn(o->only, "0123456789") == strlen(o->only))
        rc = nnx_rt_fail(err, "trial %s: a staged search numbers its trials STAGE.NUMBER, e.g. 1.%s "
                         "(nnx plan lists the stages)", o->only, o->only);
    if (rc == 0)
        rc = res->kind == NNX_SEARCH_STAGED ? run_staged(&s) : run_list(&s);
    if (rc == 0 && o->only && o->only[0] && !res->only_name) {
        if (res->kind == NNX_SEARCH_STAGED && res->open_stage < res->nstages)
            rc = nnx_rt_fail(err, "no trial '%s' among the stages so far: stage %zu has trials that have not ended, "
                             "and a later stage's trials depend on its winner", o->only, res->open_stage + 1);
        else
            rc = nnx_rt_fail(err, "no trial '%s' in %s (nnx plan lists the trials by number and name)", o->only,
                             base->name);
    }
    if (rc == 0)
        rc = write_board(&s, true);
    if (rc == 0 && o->report && !shared)
        rc = write_report(&s);
    if (rc == 0)
        rc = take_rows(&s);
    for (size_t i = 0; i < s.njobs; i++)
        job_free(s.jobs[i]);
    free(s.jobs);
    free(s.root);
    if (rc == 0 && shared)
        rc = board_locked(c, name, set, nset, base, o, res, err);
    if (s.lock_fd >= 0)
        close(s.lock_fd);   /* drops the lock */
    nnx_plan_free(s.plan);
    return rc;
}

void nnx_search_result_free(nnx_search_result *res)
{
    free(res->dir);
    for (size_t i = 0; i < res->nparams; i++)
        free(res->paths[i]);
    free(res->paths);
    for (size_t i = 0; i < res->nrows; i++)
        nnx_search_row_free(&res->rows[i]);
    free(res->rows);
    for (size_t i = 0; i < res->nstages; i++) {
        nnx_search_stage *st = &res->stages[i];
        free(st->path);
        for (size_t j = 0; j < st->ntrials; j++) {
            free(st->names[j]);
            free(st->values[j]);
        }
        free(st->names);
        free(st->values);
        free(st->kept);
        free(st->winner);
    }
    free(res->stages);
    free(res->message);
    free(res->report);
    for (size_t i = 0; i < res->nwarnings; i++)
        free(res->warnings[i]);
    free(res->warnings);
    srch_ensemble_stats_free(&res->ens);
    free(res->only_name);
    free(res->only_holder);
    for (size_t i = 0; i < res->npending; i++) {
        free(res->pending[i].name);
        free(res->pending[i].number);
        free(res->pending[i].state);
        free(res->pending[i].holder);
    }
    free(res->pending);
    memset(res, 0, sizeof *res);
    res->winner = -1;
}
