/* median.c — the median rule (prune = median): each trial judged epoch by epoch against the trials before it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/run.h"
#include "search/work.h"

/* prune = median: a trial that ended its epochs waits to be judged; the
 * search tells its caller only when the rule stops it or it ends. */
bool srch_median_pause(const search *s, const job *j)
{
    return s->base->prune.kind == NNX_XPRUNE_MEDIAN && !strcmp(j->row.status, "pruned") &&
           j->row.epochs_run < s->base->epochs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The rule itself: `mine` is worse than the median of v[0..n) (none: not). */
static bool below_median(const search *s, double mine, double *v, size_t n)
{
    if (!n)
        return false;
    qsort(v, n, sizeof *v, cmp_double);
    double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return s->res->select_max ? mine < med : mine > med;
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
    if (!srch_value_in(s, k->dir, ep, &mine, &l))
        return 0;
    double *v = malloc((k->index + 1) * sizeof *v);
    if (!v)
        return -2;
    size_t n = 0;
    for (size_t m = 0; m < k->index; m++) {
        const job *o = s->jobs[m];
        double x;
        if (o->state == JOB_DONE) {
            if (srch_value_at(s, o, ep, &x, &l))
                v[n++] = x;
        } else if (srch_value_in(s, o->dir, ep, &x, &l))     /* paused at or past ep */
            v[n++] = x;
    }
    int stop = below_median(s, mine, v, n);
    free(v);
    return stop;
}

/* opts.only: each trial's value as of epoch d (at[m]), NaN for one that
 * did not reach d with a value; read once for all the trials of a step.
 * False when out of memory. */
double *srch_median_values(search *s, int d)
{
    double *at = malloc((s->njobs ? s->njobs : 1) * sizeof *at);
    for (size_t m = 0; at && m < s->njobs; m++) {
        const job *o = s->jobs[m];
        double x, l;
        at[m] = !o->unproposed && srch_epochs_in(o->dir) >= d && srch_value_in(s, o->dir, d, &x, &l) ? x : NAN;
    }
    return at;
}

/* opts.only: does trial j, a member of the step that trained to epoch d,
 * go on past d?  Not when it ended there on its own (completed, stopped,
 * diverged, failed) or before; else the median rule decides from the run
 * directories (`at`, srch_median_values): j's value as of d against those
 * of the trials before it that reached d (every one has reached d or ended
 * before it, the step having ended).  1 go on, 0 not, -1 out of memory. */
int srch_median_goes_on(search *s, const job *j, int d, const double *at)
{
    if (!j->passed && (j->state != JOB_DONE || strcmp(j->row.status, "pruned") != 0 || j->row.epochs_run < d))
        return 0;
    double mine, l;
    if (!srch_value_in(s, j->dir, d, &mine, &l))
        return 1;
    double *v = malloc((j->index + 1) * sizeof *v);
    if (!v)
        return -1;
    size_t n = 0;
    for (size_t m = 0; m < j->index; m++)
        if (isfinite(at[m]))
            v[n++] = at[m];
    bool stop = below_median(s, mine, v, n);
    free(v);
    return !stop;
}

/* A job the rule stops at epoch ep ends there for good, with its row as
 * prepare reads a finished one: 1.  Unless its directory does not say it
 * paused there (status pruned at ep), as when a kill came after the trial
 * marked ep resumable and before it said so (its summary still running):
 * 0, the job left queued.  -1 on an error. */
static int settle(search *s, job *j, int ep)
{
    nnx_search_row_free(&j->row);
    int r = nnx_search_row_read(j->dir, &j->row, s->err);
    if (r < 0)
        return -1;
    if (r != 1 || strcmp(j->row.status, "pruned") || j->row.epochs_run != ep) {
        nnx_search_row_free(&j->row);
        return 0;
    }
    j->state = JOB_DONE;
    if (srch_row_identity(s, j) < 0 || srch_write_board(s, false) < 0)
        return -1;
    srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_FINISHED, .row = &j->row });
    return 1;
}

/* Each trial trains `after` epochs, then one epoch at a time; before each
 * further epoch the median rule judges it against the trials before it at
 * that epoch, once each of them has reached the epoch or ended.  A trial
 * between two epochs holds status pruned and its resume.state; one the
 * rule stops keeps them.  Every decision reads only the run directories of
 * earlier trials, so the order trials finish in changes nothing. */
int srch_run_median(search *s)
{
    if (s->o->only)
        return srch_run_median_steps(s);
    int after = s->base->prune.after, epochs = s->base->epochs;
    for (size_t i = 0; i < s->njobs; i++) {
        job *j = s->jobs[i];
        if (j->unproposed)
            continue;
        if (srch_prepare(s, j) < 0)
            return -1;
        j->cur = j->state == JOB_QUEUED && j->cont ? nnx_run_resume_epoch(j->dir) : 0;
    }
    if (srch_write_board(s, false) < 0)
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
            if (srch_prepare(s, j) < 0)
                rc = -1;
            j->cur = reached;
        }
        int running = 0;
        for (size_t i = 0; i < s->njobs; i++)
            running += s->jobs[i]->state == JOB_RUNNING;
        bool moved = false;
        for (size_t i = 0; rc == 0 && i < s->njobs && running < jobs && !srch_interrupted(s); i++) {
            job *j = s->jobs[i];
            if (j->unproposed) {
                int p = srch_propose(s, j);
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
                    int p = settle(s, j, j->cur);
                    if (p != 0) {
                        rc = p < 0 ? -1 : 0;
                        moved = true;
                        continue;
                    }
                    /* stopped where its summary was never written: resumed
                     * with its end at that epoch, it only says so */
                    target = j->cur;
                } else
                    target = j->cur + 1;
            }
            j->stop_after = target < epochs ? target : 0;
            rc = srch_start(s, j);
            running += j->state == JOB_RUNNING;
            moved = true;
        }
        if (rc < 0 || !running) {
            if (rc == 0 && moved && !srch_interrupted(s))
                continue;   /* in-process trials, or rows settled: look again */
            break;
        }
        int r = srch_reap(s);
        if (r < 0 && rc == 0)
            rc = r;
    }
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i]->state != JOB_DONE)
            s->res->interrupted = true;
    return rc;
}
