/* plan.c — expand a checked experiment into trials: grid, random draws, ensembles, staged stages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/plan.h"
#include "nnx/rt/rng.h"

enum { MAX_NAME = 200 };

static char *xprintf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, fmt, a, b);
    return p;
}

/* The short label of an axis: its last path part, or the whole path when
 * another axis has the same last part. */
static const char *label(const nnx_exp_axis *axes, size_t n, size_t i)
{
    const char *dot = strrchr(axes[i].path, '.');
    const char *last = dot ? dot + 1 : axes[i].path;
    for (size_t j = 0; j < n; j++) {
        if (j == i)
            continue;
        const char *d2 = strrchr(axes[j].path, '.');
        if (!strcmp(d2 ? d2 + 1 : axes[j].path, last))
            return axes[i].path;
    }
    return last;
}

/* Append `label=value` to a name, keeping only characters safe in a directory name. */
static void name_part(char *name, const char *lab, const char *value)
{
    size_t len = strlen(name);
    if (len)
        name[len++] = '_';
    bool gap = false;
    for (const char *p = lab; *p && len < MAX_NAME; p++)
        name[len++] = *p;
    if (len < MAX_NAME)
        name[len++] = '=';
    for (const char *p = value; *p && len < MAX_NAME; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                  ch == '-' || ch == '+';
        if (ok) {
            if (gap && name[len - 1] != '=')
                name[len++] = '_';
            if (len < MAX_NAME)
                name[len++] = ch;
            gap = false;
        } else
            gap = true;
    }
    name[len] = 0;
}

static bool trial_set(nnx_trial *t, const nnx_exp_axis *axes, size_t naxes, const char *const *values,
                      const char *const *paths, size_t n)
{
    char name[MAX_NAME + 64] = "";
    t->ov = calloc(n ? n : 1, sizeof *t->ov);
    if (!t->ov)
        return false;
    for (size_t i = 0; i < n; i++) {
        char *p = strdup(paths[i]), *v = strdup(values[i]);
        if (!p || !v) {
            free(p);
            free(v);
            return false;
        }
        t->ov[i].path = p;
        t->ov[i].value = v;
        t->nov++;
        size_t ai = 0;
        for (size_t j = 0; j < naxes; j++)
            if (!strcmp(axes[j].path, paths[i]))
                ai = j;
        name_part(name, naxes ? label(axes, naxes, ai) : paths[i], values[i]);
    }
    t->name = strdup(n ? name : "run");
    return t->name != NULL;
}

/* Is the point `vals` (one value per axis) that of one of trials[0..n)? */
static bool drawn_before(const nnx_trial *trials, size_t n, const char *const *vals, size_t na)
{
    for (size_t t = 0; t < n; t++) {
        bool same = trials[t].nov == na;
        for (size_t i = 0; same && i < na; i++)
            same = !strcmp(trials[t].ov[i].value, vals[i]);
        if (same)
            return true;
    }
    return false;
}

bool nnx_plan_trial(const nnx_exp_search *s, const char *const *values, nnx_trial *t)
{
    const char **paths = calloc(s->naxes + 1, sizeof *paths);
    if (!paths)
        return false;
    for (size_t i = 0; i < s->naxes; i++)
        paths[i] = s->axes[i].path;
    bool ok = trial_set(t, s->axes, s->naxes, values, paths, s->naxes);
    free(paths);
    return ok;
}

void nnx_trials_free(nnx_trial *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].name);
        for (size_t j = 0; j < t[i].nov; j++) {
            free((char *)t[i].ov[j].path);
            free((char *)t[i].ov[j].value);
        }
        free(t[i].ov);
    }
    free(t);
}

void nnx_plan_free(nnx_plan *p)
{
    if (!p)
        return;
    nnx_trials_free(p->trials, p->ntrials);
    for (size_t i = 0; i < p->nstages; i++) {
        free(p->stages[i].path);
        for (size_t j = 0; j < p->stages[i].nvalues; j++)
            free(p->stages[i].values[j]);
        free(p->stages[i].values);
    }
    free(p->stages);
    free(p);
}

/* Make names unique by appending _2, _3, ... to repeats. */
static bool unique_names(nnx_trial *t, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int k = 1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t[i].name, t[j].name))
                k++;
        if (k > 1) {
            char suffix[24];
            snprintf(suffix, sizeof suffix, "_%d", k);
            char *nm = xprintf("%s%s", t[i].name, suffix);
            if (!nm)
                return false;
            free(t[i].name);
            t[i].name = nm;
        }
    }
    return true;
}

static void set_err(char **err, const char *msg)
{
    if (err)
        *err = strdup(msg);
}

static char *draw_text(double x)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.4g", x);
    return strdup(tmp);
}

nnx_plan *nnx_plan_make(const nnx_experiment *e, char **err)
{
    if (err)
        *err = NULL;
    nnx_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    const nnx_exp_search *s = &e->search;
    size_t na = s->naxes;
    const char **paths = calloc(na + 1, sizeof *paths);
    const char **vals = calloc(na + 1, sizeof *vals);
    if (!paths || !vals)
        goto oom;
    for (size_t i = 0; i < na; i++)
        paths[i] = s->axes[i].path;

    if (s->kind == NNX_XSEARCH_NONE && !e->nensemble) {
        p->kind = NNX_PLAN_SINGLE;
        p->trials = calloc(1, sizeof *p->trials);
        if (!p->trials || !trial_set(&p->trials[0], NULL, 0, NULL, NULL, 0))
            goto oom;
        p->ntrials = 1;
    } else if (s->kind == NNX_XSEARCH_NONE) {
        p->kind = NNX_PLAN_ENSEMBLE;
        p->trials = calloc(e->nensemble, sizeof *p->trials);
        if (!p->trials)
            goto oom;
        for (size_t i = 0; i < e->nensemble; i++) {
            char seed[32];
            snprintf(seed, sizeof seed, "%llu", (unsigned long long)e->ensemble_seeds[i]);
            const char *path = "seed", *v = seed;
            p->ntrials++;
            if (!trial_set(&p->trials[i], NULL, 0, &v, &path, 1))
                goto oom;
        }
    } else if (s->kind == NNX_XSEARCH_GRID) {
        p->kind = NNX_PLAN_GRID;
        double total = 1;
        for (size_t i = 0; i < na; i++)
            total *= (double)s->axes[i].nvalues;
        if (total > NNX_PLAN_MAX_TRIALS) {
            char msg[128];
            snprintf(msg, sizeof msg, "the grid has %.0f trials, more than %d", total, NNX_PLAN_MAX_TRIALS);
            set_err(err, msg);
            nnx_plan_free(p);
            free(paths);
            free(vals);
            return NULL;
        }
        size_t n = (size_t)total;
        p->trials = calloc(n, sizeof *p->trials);
        if (!p->trials)
            goto oom;
        for (size_t t = 0; t < n; t++) {
            size_t rest = t;
            for (size_t i = na; i-- > 0;) {
                vals[i] = s->axes[i].values[rest % s->axes[i].nvalues];
                rest /= s->axes[i].nvalues;
            }
            p->ntrials++;
            if (!trial_set(&p->trials[t], s->axes, na, vals, paths, na))
                goto oom;
        }
    } else if (s->kind == NNX_XSEARCH_RANDOM || s->kind == NNX_XSEARCH_TPE) {
        p->kind = NNX_PLAN_RANDOM;
        size_t n = (size_t)s->trials;
        p->trials = calloc(n ? n : 1, sizeof *p->trials);
        if (!p->trials)
            goto oom;
        nnx_rng rng;
        nnx_rng_seed(&rng, s->seed, NNX_STREAM_SEARCH);
        char **drawn = calloc(na + 1, sizeof *drawn);
        if (!drawn)
            goto oom;
        for (size_t t = 0; t < n; t++) {
            /* a tpe search's random startup draws: a point drawn before is drawn again
             * (at most 64 times: a list space smaller than the draws keeps a repeat) */
            for (int again = 0; again < 64; again++) {
                for (size_t i = 0; i < na; i++) {
                    const nnx_exp_axis *ax = &s->axes[i];
                    free(drawn[i]);
                    drawn[i] = NULL;
                    if (ax->kind == NNX_XDIST_LIST) {
                        vals[i] = ax->values[nnx_rng_below(&rng, ax->nvalues)];
                        continue;
                    }
                    double u = nnx_rng_uniform(&rng);
                    double x = ax->kind == NNX_XDIST_UNIFORM ? ax->lo + (ax->hi - ax->lo) * u
                                                             : exp(log(ax->lo) + (log(ax->hi) - log(ax->lo)) * u);
                    drawn[i] = draw_text(x);
                    vals[i] = drawn[i];
                }
                if (s->kind != NNX_XSEARCH_TPE || t >= (size_t)s->startup || !drawn_before(p->trials, t, vals, na))
                    break;
            }
            p->ntrials++;
            bool ok = vals[0] || !na ? trial_set(&p->trials[t], s->axes, na, vals, paths, na) : false;
            if (!ok) {
                for (size_t i = 0; i < na; i++)
                    free(drawn[i]);
                free(drawn);
                goto oom;
            }
        }
        for (size_t i = 0; i < na; i++)
            free(drawn[i]);
        free(drawn);
    } else {
        p->kind = NNX_PLAN_STAGED;
        p->stages = calloc(na, sizeof *p->stages);
        if (!p->stages)
            goto oom;
        for (size_t i = 0; i < na; i++) {
            nnx_stage *st = &p->stages[i];
            p->nstages++;
            st->path = strdup(s->axes[i].path);
            st->values = calloc(s->axes[i].nvalues, sizeof *st->values);
            if (!st->path || !st->values)
                goto oom;
            for (size_t j = 0; j < s->axes[i].nvalues; j++) {
                st->values[j] = strdup(s->axes[i].values[j]);
                if (!st->values[j])
                    goto oom;
                st->nvalues++;
            }
        }
    }
    free(paths);
    free(vals);
    p->proposed_from = p->ntrials;
    if (s->kind == NNX_XSEARCH_TPE && (size_t)s->startup < p->ntrials)
        p->proposed_from = (size_t)s->startup;
    if (!unique_names(p->trials, p->ntrials)) {
        nnx_plan_free(p);
        return NULL;
    }
    return p;
oom:
    free(paths);
    free(vals);
    nnx_plan_free(p);
    set_err(err, "out of memory");
    return NULL;
}

nnx_trial *nnx_plan_stage(const nnx_plan *p, size_t k, const size_t *kept, size_t *n)
{
    *n = 0;
    if (p->kind != NNX_PLAN_STAGED || k >= p->nstages)
        return NULL;
    const nnx_stage *st = &p->stages[k];
    nnx_trial *t = calloc(st->nvalues, sizeof *t);
    const char **paths = calloc(k + 1, sizeof *paths);
    const char **vals = calloc(k + 1, sizeof *vals);
    nnx_exp_axis *axes = calloc(p->nstages, sizeof *axes);
    bool ok = t && paths && vals && axes;
    for (size_t i = 0; ok && i < p->nstages; i++)
        axes[i].path = p->stages[i].path;
    for (size_t j = 0; ok && j < k; j++) {
        paths[j] = p->stages[j].path;
        vals[j] = kept[j] < p->stages[j].nvalues ? p->stages[j].values[kept[j]] : p->stages[j].values[0];
    }
    size_t made = 0;
    for (size_t v = 0; ok && v < st->nvalues; v++) {
        paths[k] = st->path;
        vals[k] = st->values[v];
        made++;
        ok = trial_set(&t[v], axes, p->nstages, vals, paths, k + 1);
    }
    free(paths);
    free(vals);
    free(axes);
    if (!ok || !unique_names(t, made)) {
        nnx_trials_free(t, made);
        return NULL;
    }
    *n = made;
    return t;
}

/* Successive halving of `ntrials` trials from `first` epochs up to `last`. */
static size_t rungs_from(long long first, int eta, int last, size_t ntrials, int *epochs, size_t *trials)
{
    size_t n = 0;
    long long ep = first;
    size_t count = ntrials;
    while (n < NNX_PLAN_MAX_RUNGS) {
        bool end = ep >= last || n == NNX_PLAN_MAX_RUNGS - 1;
        epochs[n] = end ? last : (int)ep;
        trials[n++] = count;
        if (end)
            break;
        ep *= eta;
        count = count / (size_t)eta ? count / (size_t)eta : 1;
    }
    return n;
}

size_t nnx_plan_rungs(const nnx_experiment *e, size_t ntrials, int epochs[NNX_PLAN_MAX_RUNGS],
                      size_t trials[NNX_PLAN_MAX_RUNGS])
{
    if (e->prune.kind != NNX_XPRUNE_HALVING || !ntrials)
        return 0;
    return rungs_from(e->prune.min_epochs, e->prune.eta, e->epochs, ntrials, epochs, trials);
}

size_t nnx_plan_brackets(const nnx_experiment *e, size_t ntrials, nnx_plan_bracket *out, size_t max)
{
    if (e->prune.kind != NNX_XPRUNE_HYPERBAND || !ntrials)
        return 0;
    long long r = e->prune.min_epochs, eta = e->prune.eta, R = e->epochs;
    int smax = 0;
    for (long long x = r * eta; x <= R && smax < 60; x *= eta)
        smax++;
    size_t nb = 0, at = 0;
    while (at < ntrials && nb < max) {
        for (int s = smax; s >= 0 && at < ntrials && nb < max; s--) {
            double pow_s = 1;
            long long start = r;
            for (int i = 0; i < s; i++)
                pow_s *= (double)eta;
            for (int i = 0; i < smax - s; i++)
                start *= eta;
            size_t want = (size_t)ceil((double)(smax + 1) / (s + 1) * pow_s);
            nnx_plan_bracket *b = &out[nb++];
            b->first = at;
            b->ntrials = want < ntrials - at ? want : ntrials - at;
            b->s = s;
            b->nrungs = rungs_from(start < R ? start : R, (int)eta, (int)R, b->ntrials, b->epochs, b->trials);
            at += b->ntrials;
        }
    }
    return nb;
}
