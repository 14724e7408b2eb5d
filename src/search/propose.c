/* propose.c — a tpe search's trials: each one's values proposed from the trials before it (lag fixed by the search). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/tpe.h"
#include "search/work.h"

/* Job j's value as its proposal observes it: at its first rung's epoch when
 * it is pruned by rungs (what every trial reaches before any is promoted),
 * else its row's; NaN when it has none (failed, diverged: the worst). */
static double observed(const search *s, const job *j)
{
    double v = NAN, l;
    if (j->obs_epoch > 0 && (j->state == JOB_DONE || j->passed)) {
        /* one that stopped on its own before that epoch: as of its end, for good */
        int ep = !j->passed && j->row.epochs_run < j->obs_epoch ? j->row.epochs_run : j->obs_epoch;
        return ep > 0 && srch_value_in(s, j->dir, ep, &v, &l) ? v : NAN;
    }
    return j->state == JOB_DONE && srch_status_final(j->row.status) ? j->row.value : NAN;
}

int srch_propose_values(search *s, job *j)
{
    size_t lag = (size_t)s->base->search.lag;
    size_t nobs = j->index >= lag ? j->index - lag + 1 : 0;
    for (size_t m = 0; m < nobs; m++)
        if (s->jobs[m]->state != JOB_DONE && !(s->jobs[m]->passed && s->jobs[m]->obs_epoch > 0))
            return 0;       /* opts.only: one passed is past its first rung, where it is observed */
    const nnx_exp_search *x = &s->base->search;
    nnx_tpe_obs *obs = calloc(nobs ? nobs : 1, sizeof *obs);
    /* every trial before j: the observed ones, and the ones proposed since (not again) */
    const char **texts = calloc(j->index * x->naxes + 1, sizeof *texts);
    const char *const **tried = calloc(j->index + 1, sizeof *tried);
    char **vals = calloc(x->naxes + 1, sizeof *vals);
    int rc = obs && texts && tried && vals ? 0 : nnx_rt_fail(s->err, "out of memory");
    for (size_t m = 0; rc == 0 && m < j->index; m++) {
        const job *o = s->jobs[m];
        for (size_t a = 0; a < x->naxes; a++) {
            texts[m * x->naxes + a] = "";
            for (size_t i = 0; i < o->nov; i++)
                if (!strcmp(o->ov[i].path, x->axes[a].path))
                    texts[m * x->naxes + a] = o->ov[i].value;
        }
        tried[m] = &texts[m * x->naxes];
        if (m < nobs)
            obs[m] = (nnx_tpe_obs){ .values = &texts[m * x->naxes], .value = observed(s, o) };
    }
    if (rc == 0 && nnx_tpe_propose(x, s->res->select_max, obs, nobs, tried, j->index, j->index, vals) < 0)
        rc = nnx_rt_fail(s->err, "out of memory");
    nnx_trial t = { 0 };
    char *name = NULL;
    if (rc == 0 && (!nnx_plan_trial(x, (const char *const *)vals, &t) || !(name = srch_fresh_name(s, t.name)) ||
                    !srch_job_fill(s, j, &t, name)))
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
    free(tried);
    free(obs);
    if (rc < 0)
        return -1;
    j->unproposed = false;
    j->state = JOB_QUEUED;
    return 1;
}

int srch_propose(search *s, job *j)
{
    int p = srch_propose_values(s, j);
    return p <= 0 ? p : srch_prepare(s, j) < 0 ? -1 : 1;
}
