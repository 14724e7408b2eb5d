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
 * when `from` < 0 (the first rung of a bracket, or a wave of it), else the
 * best `keep` of the trials of steps [from, from + nfrom) (the rung before,
 * in its waves), judged at that rung's epochs; a median step (opts.only,
 * prune = median) holds the trials of step `from` that the median rule lets
 * go on from its epochs.  The steps run in order, a step only once every
 * trial of the one before has ended, so the jobs count (or Slurm's order of
 * finishing) changes nothing.  Successive halving is one chain of steps (its
 * rungs); Hyperband's brackets are more chains one after the other, each
 * starting from its own trials; under `nnx submit` each step is one array
 * job that depends on the one before. */
typedef struct prune_step {
    long   from;
    size_t nfrom, lo, hi, keep;
    int    epochs;
    bool   median;
} prune_step;

typedef struct step_list {
    prune_step *st;
    size_t      n, cap;
} step_list;

static bool add_step(step_list *l, prune_step st)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        prune_step *p = realloc(l->st, cap * sizeof *p);
        if (!p)
            return false;
        l->st = p;
        l->cap = cap;
    }
    l->st[l->n++] = st;
    return true;
}

/* Trials [lo, hi) training to `epochs`, as steps from l->n on (*n of them).
 * One step, but under opts.only a tpe search's trials in waves: trial i is
 * proposed once trials 0..i-lag have ended, so when every trial before d
 * has ended (the steps before), those before d + lag can be (and the random
 * startup draws), and no more: each wave is an array job under nnx submit. */
static bool add_waves(search *s, step_list *l, size_t lo, size_t hi, int epochs, size_t *n)
{
    bool waves = s->o->only && s->base->search.kind == NNX_XSEARCH_TPE;
    size_t lag = s->base->search.lag > 0 ? (size_t)s->base->search.lag : 1;
    *n = 0;
    for (size_t d = lo; d < hi; (*n)++) {
        size_t end = hi;
        if (waves) {
            end = d + lag < s->plan->proposed_from ? s->plan->proposed_from : d + lag;
            end = end < hi ? end : hi;
        }
        if (!add_step(l, (prune_step){ .from = -1, .lo = d, .hi = end, .epochs = epochs }))
            return false;
        d = end;
    }
    return true;
}

/* Successive halving of trials [lo, hi) as steps: the first rung (in waves),
 * then each rung the best of the one before. */
static bool add_halving(search *s, step_list *l, size_t lo, size_t hi, const int *epochs, const size_t *counts,
                        size_t nrungs)
{
    size_t n;
    if (!nrungs || !add_waves(s, l, lo, hi, epochs[0], &n))
        return nrungs == 0;
    long first = (long)(l->n - n);
    for (size_t k = 1; k < nrungs && k < NNX_PLAN_MAX_RUNGS; k++) {
        if (!add_step(l, (prune_step){ .from = first, .nfrom = n, .keep = counts[k], .epochs = epochs[k] }))
            return false;
        first = (long)l->n - 1;
        n = 1;
    }
    return true;
}

/* Mark in `out` the best `keep` of the trials marked in `prev` (the rung
 * before, trained to `ep`). */
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

/* The members of step k (marked in in[k]), from the steps before. */
static int step_members(search *s, const prune_step *st, size_t k, bool *in)
{
    size_t nj = s->njobs;
    bool *mk = in + k * nj;
    if (st[k].from < 0) {
        for (size_t i = st[k].lo; i < st[k].hi && i < nj; i++)
            mk[i] = true;
        return 0;
    }
    const bool *prev = in + (size_t)st[k].from * nj;
    if (st[k].median) {
        int d = st[st[k].from].epochs;
        double *at = srch_median_values(s, d);
        int go = at ? 0 : -1;
        for (size_t i = 0; go >= 0 && i < nj; i++)
            mk[i] = (go = prev[i] ? srch_median_goes_on(s, s->jobs[i], d, at) : 0) > 0;
        free(at);
        return go < 0 ? nnx_rt_fail(s->err, "out of memory") : 0;
    }
    bool *rung = malloc((nj ? nj : 1) * sizeof *rung);
    if (!rung)
        return nnx_rt_fail(s->err, "out of memory");
    for (size_t i = 0; i < nj; i++) {
        rung[i] = false;
        for (size_t w = 0; w < st[k].nfrom; w++)
            rung[i] = rung[i] || prev[w * nj + i];
    }
    int rc = step_best(s, rung, st[st[k].from + (long)st[k].nfrom - 1].epochs, st[k].keep, mk);
    free(rung);
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
        rc = step_members(s, st, k, in);
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

static int run_step_list(search *s, step_list *l, bool ok)
{
    int rc = ok ? run_steps(s, l->st, l->n) : nnx_rt_fail(s->err, "out of memory");
    free(l->st);
    return rc;
}

/* Successive halving: every trial trains the first rung's epochs; the best
 * 1/eta of each rung continue from their resume.state to the next rung's
 * epochs; the rest keep status pruned. */
int srch_run_halving(search *s, const int *epochs, const size_t *counts, size_t nrungs)
{
    step_list l = { 0 };
    return run_step_list(s, &l, add_halving(s, &l, 0, s->njobs, epochs, counts, nrungs));
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
    step_list l = { 0 };
    bool ok = true;
    for (size_t k = 0; k < nb; k++) {
        for (size_t i = 0; i < b[k].ntrials; i++)
            s->jobs[b[k].first + i]->obs_epoch = b[k].epochs[0];
        ok = ok && add_halving(s, &l, b[k].first, b[k].first + b[k].ntrials, b[k].epochs, b[k].trials, b[k].nrungs);
    }
    free(b);
    return run_step_list(s, &l, ok);
}

/* opts.only, a tpe search that does not prune: its waves. */
int srch_run_waves(search *s)
{
    step_list l = { 0 };
    size_t n;
    return run_step_list(s, &l, add_waves(s, &l, 0, s->njobs, s->base->epochs, &n));
}

/* opts.only, prune = median: each wave (of a tpe search; else every trial)
 * trains `after` epochs, then one epoch a step, each step the trials the
 * rule let go on at the epoch before, decided from the run directories
 * once every trial of the step before has ended there; the waves one after
 * the other.  The same decisions as run_median's, which makes each once
 * the trials before have reached that epoch. */
int srch_run_median_steps(search *s)
{
    int after = s->base->prune.after, epochs = s->base->epochs;
    step_list l = { 0 }, w = { 0 };
    size_t n;
    bool ok = add_waves(s, &w, 0, s->njobs, epochs, &n);
    for (size_t k = 0; ok && k < w.n; k++) {
        size_t lo = w.st[k].lo, hi = w.st[k].hi;
        ok = add_step(&l, (prune_step){ .from = -1, .lo = lo, .hi = hi, .epochs = after < epochs ? after : epochs });
        for (int e = after + 1; ok && e <= epochs; e++)
            ok = add_step(&l, (prune_step){ .from = (long)l.n - 1, .nfrom = 1, .epochs = e, .median = true });
    }
    free(w.st);
    return run_step_list(s, &l, ok);
}
