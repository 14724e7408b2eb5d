/* workers.c — running trials: a worker process per trial (or in-process), o->jobs at a time; what each left read back. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nnx/rt/clock.h"
#include "search/work.h"

/* In the worker (or in-process): run the trial and make sure a summary is
 * left.  When not even a failed status can be written (a full disk), the
 * reason goes to `said` (NULL: none), for the parent to record. */
void srch_run_one(search *s, job *j, nnx_rt_error *said)
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

/* Whether what the search does later depends on how its trials end: a
 * rung's promotions, the median rule, tpe's proposals, a stage's winner.
 * Going on without a trial whose worker died would decide those without it
 * and give another search than an uninterrupted one, which running it again
 * could not mend; a grid, a random search or an ensemble that does not
 * prune has no such decisions and goes on. */
static bool later_depend(const search *s)
{
    return s->base->prune.kind != NNX_XPRUNE_NONE || s->base->search.kind == NNX_XSEARCH_TPE ||
           s->base->search.kind == NNX_XSEARCH_STAGED;
}

/* Read the row a trial left.  `how` describes a worker that ended abnormally
 * (killed by a signal), or is NULL; `said` is what the worker could not
 * write, or "". */
int srch_collect(search *s, job *j, const char *how, const char *said)
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
        if (later_depend(s))
            s->res->interrupted = true;     /* start nothing more: srch_interrupted */
    } else if (r < 0) {
        snprintf(j->row.status, sizeof j->row.status, "failed");
        free(j->row.message);
        j->row.message = strdup(rerr.msg);
    }
    j->state = JOB_DONE;
    if (!strcmp(j->row.status, "interrupted"))
        s->res->interrupted = s->res->interrupted || (s->o->interrupt && *s->o->interrupt);
    if (srch_row_identity(s, j) < 0)
        return -1;
    if (srch_write_board(s, false) < 0)
        return -1;
    if (!srch_median_pause(s, j))
        srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_FINISHED, .row = &j->row });
    return 0;
}

bool srch_interrupted(const search *s)
{
    return s->res->interrupted || (s->o->interrupt && *s->o->interrupt);
}

int srch_start(search *s, job *j)
{
    /* prune = median: a trial going on after its pause is not news */
    bool quiet = j->counted && s->base->prune.kind == NNX_XPRUNE_MEDIAN;
    s->res->ran += !j->counted;
    j->counted = true;
    j->state = JOB_RUNNING;
    if (!s->o->fork) {
        if (!quiet)
            srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_STARTED, .trial = j->name, .cont = j->cont });
        nnx_rt_error said = { { 0 } };
        srch_run_one(s, j, &said);
        return srch_collect(s, j, NULL, said.msg);
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
        srch_run_one(s, j, &said);
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
        srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_STARTED, .trial = j->name, .cont = j->cont });
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
        if (srch_interrupted(s))
            return waitpid(-1, status, 0);
        if (now_ms() >= next) {
            srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_TICK });
            next = now_ms() + s->o->tick_ms;
        }
        struct timespec nap = { 0, 20 * 1000000L };
        nanosleep(&nap, NULL);
    }
}

/* Wait for one worker and collect its trial. */
int srch_reap(search *s)
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
        return srch_collect(s, j, how, said);
    }
    return 0;   /* not one of ours */
}

/* A pruned row that the job's rung trains on: it ended before j->stop_after. */
bool srch_pruned_short(const job *j)
{
    return !strcmp(j->row.status, "pruned") && (j->stop_after <= 0 || j->row.epochs_run < j->stop_after);
}

/* Prepare a job: finished before (resume), failed its check, or queued with
 * an empty directory (or, continued, with its interrupted or pruned attempt). */
int srch_prepare(search *s, job *j)
{
    if (nnx_mkdirs(j->dir, s->err) < 0)
        return -1;
    nnx_search_row_free(&j->row);       /* a rung before this one's */
    int r = nnx_search_row_read(j->dir, &j->row, s->err);
    if (r < 0)
        return -1;
    if (r == 1 && !srch_pruned_short(j)) {
        j->state = JOB_DONE;
        j->row.resumed = true;
        s->res->resumed += !j->counted;
        j->counted = true;
        if (srch_row_identity(s, j) < 0)
            return -1;
        srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_RESUMED, .row = &j->row });
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
        return srch_collect(s, j, NULL, "");
    }
    j->state = JOB_QUEUED;
    return 0;
}

/* Run jobs [from, to) of s->jobs: o->jobs at a time. */
int srch_run_jobs(search *s, size_t from, size_t to)
{
    if (s->o->only)
        return srch_only_run(s, from, to);
    for (size_t i = from; i < to; i++)
        if (!s->jobs[i]->out && !s->jobs[i]->unproposed && srch_prepare(s, s->jobs[i]) < 0)
            return -1;
    if (srch_write_board(s, false) < 0)
        return -1;
    int jobs = s->o->fork && s->o->jobs > 1 ? s->o->jobs : 1;
    size_t next = from;
    int rc = 0;
    for (;;) {
        int running = 0;
        for (size_t i = from; i < to; i++)
            running += s->jobs[i]->state == JOB_RUNNING;
        while (rc == 0 && running < jobs && !srch_interrupted(s)) {
            while (next < to && (s->jobs[next]->state != JOB_QUEUED || s->jobs[next]->out))
                next++;
            if (next == to)
                break;
            if (s->jobs[next]->unproposed) {
                int p = srch_propose(s, s->jobs[next]);
                if (p < 0)
                    rc = -1;
                if (p <= 0)
                    break;      /* it waits for the trials before it */
                continue;       /* prepared: queued, or ended before (resume) */
            }
            rc = srch_start(s, s->jobs[next]);
            running += s->jobs[next]->state == JOB_RUNNING;
        }
        if (!running)
            break;
        int r = srch_reap(s);
        if (r < 0 && rc == 0)
            rc = r;
    }
    for (size_t i = from; i < to; i++)
        if (s->jobs[i]->state == JOB_QUEUED && !s->jobs[i]->out)
            s->res->interrupted = true;
    return rc;
}
