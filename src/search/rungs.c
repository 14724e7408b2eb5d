/* rungs.c — pruning by rungs: successive halving and Hyperband's brackets, as steps run one after another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/work.h"

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
        if (!srch_value_at(s, members[i], ep, &v, &l))
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
            rc = srch_run_jobs(s, 0, nj);
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
int srch_run_halving(search *s, size_t from, size_t to, const int *epochs, const size_t *counts, size_t nrungs)
{
    prune_step st[NNX_PLAN_MAX_RUNGS];
    for (size_t k = 0; k < nrungs && k < NNX_PLAN_MAX_RUNGS; k++)
        st[k] = (prune_step){ .from = (long)k - 1, .lo = from, .hi = to, .keep = counts[k], .epochs = epochs[k] };
    return run_steps(s, st, nrungs < NNX_PLAN_MAX_RUNGS ? nrungs : NNX_PLAN_MAX_RUNGS);
}

/* The brackets one after the other, each successive halving of its own
 * trials from its own first epochs. */
int srch_run_hyperband(search *s)
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
        rc = srch_run_halving(s, b[k].first, b[k].first + b[k].ntrials, b[k].epochs, b[k].trials, b[k].nrungs);
    free(b);
    return rc;
}
