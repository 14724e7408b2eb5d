/* tpe.c — the Tree-structured Parzen Estimator: densities of the good and the other trials, and the next proposal. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/tpe.h"

/* --- the mixture of truncated normals ------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int nnx_parzen_fit(nnx_parzen *p, const double *x, size_t n, double lo, double hi)
{
    memset(p, 0, sizeof *p);
    p->lo = lo;
    p->hi = hi;
    p->mu = malloc((n + 1) * sizeof *p->mu);
    p->sigma = malloc((n + 1) * sizeof *p->sigma);
    if (!p->mu || !p->sigma) {
        nnx_parzen_free(p);
        return -1;
    }
    double width = hi - lo;
    p->mu[0] = 0.5 * (lo + hi);     /* the prior */
    for (size_t i = 0; i < n; i++)
        p->mu[i + 1] = x[i];
    p->n = n + 1;
    qsort(p->mu, p->n, sizeof *p->mu, cmp_double);
    double floor_sigma = width / fmin(100.0, 1.0 + (double)p->n);
    bool prior_done = false;
    for (size_t i = 0; i < p->n; i++) {
        double left = i > 0 ? p->mu[i] - p->mu[i - 1] : -1;
        double right = i + 1 < p->n ? p->mu[i + 1] - p->mu[i] : -1;
        double s = fmax(left, right);
        if (s < 0)
            s = width;                  /* alone: the prior only */
        p->sigma[i] = fmin(fmax(s, floor_sigma), width);
        if (!prior_done && p->mu[i] == 0.5 * (lo + hi)) {
            p->sigma[i] = width;        /* the prior keeps the whole width */
            prior_done = true;
        }
    }
    return 0;
}

void nnx_parzen_free(nnx_parzen *p)
{
    free(p->mu);
    free(p->sigma);
    memset(p, 0, sizeof *p);
}

static double phi_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* log of component i's truncated density at x */
static double component_log(const nnx_parzen *p, size_t i, double x)
{
    double s = p->sigma[i], z = (x - p->mu[i]) / s;
    double mass = phi_cdf((p->hi - p->mu[i]) / s) - phi_cdf((p->lo - p->mu[i]) / s);
    return -0.5 * z * z - log(s * 2.5066282746310002)  /* sqrt(2 pi) */ - log(mass);
}

double nnx_parzen_logpdf(const nnx_parzen *p, double x)
{
    if (!p->n || x < p->lo || x > p->hi)
        return -INFINITY;
    double top = -INFINITY;
    for (size_t i = 0; i < p->n; i++)
        top = fmax(top, component_log(p, i, x));
    double sum = 0;
    for (size_t i = 0; i < p->n; i++)
        sum += exp(component_log(p, i, x) - top);
    return top + log(sum / (double)p->n);    /* equal weights */
}

double nnx_parzen_sample(const nnx_parzen *p, nnx_rng *r)
{
    size_t i = (size_t)nnx_rng_below(r, p->n);
    /* rejection from the normal: at least a third of its mass lies inside,
     * so 200 tries fail with probability < 1e-35; then the nearer bound */
    for (int t = 0; t < 200; t++) {
        double x = p->mu[i] + p->sigma[i] * nnx_rng_normal(r);
        if (x >= p->lo && x <= p->hi)
            return x;
    }
    return fmin(fmax(p->mu[i], p->lo), p->hi);
}

/* --- the split and the proposal -------------------------------------------------------- */

size_t nnx_tpe_ngood(size_t n)
{
    size_t g = (n + 3) / 4;
    if (g > 25)
        g = 25;
    return g ? g : 1;
}

typedef struct ranked {
    size_t i;
    double v;
    bool   max;
} ranked;

/* Better first; the non-finite last; ties in proposal order. */
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    bool fx = isfinite(x->v), fy = isfinite(y->v);
    if (fx != fy)
        return fx ? -1 : 1;
    if (fx && x->v != y->v)
        return (x->max ? x->v > y->v : x->v < y->v) ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static size_t list_index(const nnx_exp_axis *ax, const char *v)
{
    for (size_t c = 0; c < ax->nvalues; c++)
        if (!strcmp(ax->values[c], v))
            return c;
    return ax->nvalues;     /* not one of them (a --set outside the list): ignored */
}

/* An axis's candidate values, as canonical texts, the proposal first: each
 * with how much worse its log l − log g is than the proposal's (`pen`; a
 * fallback value, not among the candidates drawn, at least FALLBACK). */
enum { FALLBACK = 1000000 };

typedef struct cand {
    char  *text;
    double pen;
} cand;

typedef struct cands {
    cand  *c;
    size_t n, cap;
} cands;

static void cands_free(cands *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        free(cs->c[i].text);
    free(cs->c);
    memset(cs, 0, sizeof *cs);
}

/* Add `text` (taken) with log l − log g `score`, or keep the better score of
 * the same text already there.  False when out of memory. */
static bool cands_add(cands *cs, char *text, double score)
{
    if (!text)
        return false;
    for (size_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->c[i].text, text)) {
            cs->c[i].pen = fmax(cs->c[i].pen, score);
            free(text);
            return true;
        }
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? 2 * cs->cap : 32;
        cand *p = realloc(cs->c, cap * sizeof *p);
        if (!p) {
            free(text);
            return false;
        }
        cs->c = p;
        cs->cap = cap;
    }
    cs->c[cs->n++] = (cand){ text, score };
    return true;
}

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return x->pen < y->pen ? -1 : x->pen > y->pen;
}

/* Scores to penalties against `best`, from index `from` on (offset added),
 * ordered; equal ones keep their order (the first of the best is the
 * proposal, as the draws found it). */
static void cands_rank(cands *cs, size_t from, double best, double offset)
{
    for (size_t i = from; i < cs->n; i++) {
        double pen = best - cs->c[i].pen;
        cs->c[i].pen = offset + (isfinite(pen) ? pen : FALLBACK);
    }
    /* insertion sort: stable, and the lists are short */
    for (size_t i = from + 1; i < cs->n; i++)
        for (size_t j = i; j > from && cmp_cand(&cs->c[j], &cs->c[j - 1]) < 0; j--) {
            cand x = cs->c[j];
            cs->c[j] = cs->c[j - 1];
            cs->c[j - 1] = x;
        }
}

/* A list axis: candidates drawn from p_good, the best p_good / p_other first;
 * then (fallback) the values never drawn. */
static bool propose_list(const nnx_exp_axis *ax, size_t a, const nnx_tpe_obs *obs, const ranked *order,
                         size_t nobs, size_t ngood, nnx_rng *r, cands *cs)
{
    size_t C = ax->nvalues;
    double *pg = calloc(C, sizeof *pg), *pb = calloc(C, sizeof *pb);
    if (!pg || !pb) {
        free(pg);
        free(pb);
        return false;
    }
    double ng = 0, nb = 0;
    for (size_t k = 0; k < nobs; k++) {
        size_t c = list_index(ax, obs[order[k].i].values[a]);
        if (c == C)
            continue;
        if (k < ngood) {
            pg[c] += 1;
            ng += 1;
        } else {
            pb[c] += 1;
            nb += 1;
        }
    }
    for (size_t c = 0; c < C; c++) {
        pg[c] = (1.0 / (double)C + pg[c]) / (1.0 + ng);
        pb[c] = (1.0 / (double)C + pb[c]) / (1.0 + nb);
    }
    bool ok = true;
    double best_score = -INFINITY;
    for (int t = 0; t < NNX_TPE_CANDIDATES && ok; t++) {
        double u = nnx_rng_uniform(r), acc = 0;
        size_t c = 0;
        for (; c + 1 < C; c++) {
            acc += pg[c];
            if (u < acc)
                break;
        }
        double score = log(pg[c]) - log(pb[c]);
        best_score = fmax(best_score, score);
        ok = cands_add(cs, strdup(ax->values[c]), score);
    }
    cands_rank(cs, 0, best_score, 0);
    size_t drawn = cs->n;
    for (size_t c = 0; c < C && ok; c++)
        ok = cands_add(cs, strdup(ax->values[c]), log(pg[c]) - log(pb[c]));
    cands_rank(cs, drawn, best_score, FALLBACK);
    free(pg);
    free(pb);
    return ok;
}

/* x (log x for loguniform) as the canonical text of a value of the axis. */
static char *number_text(const nnx_exp_axis *ax, double x)
{
    double v = ax->kind == NNX_XDIST_LOGUNIFORM ? exp(x) : x;
    v = fmin(fmax(v, ax->lo), ax->hi);
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.4g", v);
    /* %.4g may round past a bound: keep the text inside the range */
    double back = strtod(tmp, NULL);
    if (back < ax->lo || back > ax->hi)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    return strdup(tmp);
}

/* A uniform or loguniform axis: candidates drawn from l, the best
 * log l − log g first; then (fallback) draws over the whole range from
 * `wide`, a stream of its own, so that the candidates before do not change. */
static bool propose_number(const nnx_exp_axis *ax, size_t a, const nnx_tpe_obs *obs, const ranked *order,
                           size_t nobs, size_t ngood, nnx_rng *r, nnx_rng *wide, cands *cs)
{
    bool lg = ax->kind == NNX_XDIST_LOGUNIFORM;
    double lo = lg ? log(ax->lo) : ax->lo, hi = lg ? log(ax->hi) : ax->hi;
    double *good = malloc((nobs + 1) * sizeof *good), *bad = malloc((nobs + 1) * sizeof *bad);
    size_t ng = 0, nb = 0;
    for (size_t k = 0; good && bad && k < nobs; k++) {
        char *end;
        double x = strtod(obs[order[k].i].values[a], &end);
        if (lg)
            x = x > 0 ? log(x) : NAN;
        if (!isfinite(x) || x < lo || x > hi)
            continue;   /* not a value of this range (a --set outside it): ignored */
        if (k < ngood)
            good[ng++] = x;
        else
            bad[nb++] = x;
    }
    nnx_parzen l, g;
    bool ok = good && bad && nnx_parzen_fit(&l, good, ng, lo, hi) == 0;
    if (ok && nnx_parzen_fit(&g, bad, nb, lo, hi) < 0) {
        nnx_parzen_free(&l);
        ok = false;
    }
    free(good);
    free(bad);
    if (!ok)
        return false;
    double best_score = -INFINITY;
    for (int t = 0; t < NNX_TPE_CANDIDATES && ok; t++) {
        double x = nnx_parzen_sample(&l, r);
        double score = nnx_parzen_logpdf(&l, x) - nnx_parzen_logpdf(&g, x);
        best_score = fmax(best_score, score);
        ok = cands_add(cs, number_text(ax, x), score);
    }
    if (ok && !isfinite(best_score)) {
        /* no candidate scored: the centre of l, as before any draw */
        cands_free(cs);
        ok = cands_add(cs, number_text(ax, l.mu[0]), 0);
        best_score = 0;
    }
    cands_rank(cs, 0, best_score, 0);
    size_t drawn = cs->n;
    for (int t = 0; t < NNX_TPE_CANDIDATES && ok; t++) {
        double x = lo + (hi - lo) * nnx_rng_uniform(wide);
        ok = cands_add(cs, number_text(ax, x), nnx_parzen_logpdf(&l, x) - nnx_parzen_logpdf(&g, x));
    }
    cands_rank(cs, drawn, best_score, FALLBACK);
    nnx_parzen_free(&l);
    nnx_parzen_free(&g);
    return ok;
}

/* Is the point (one candidate index per axis) one of the trials before? */
static bool tried_point(const cands *cs, size_t naxes, const size_t *at, const char *const *const *tried,
                        size_t ntried)
{
    for (size_t t = 0; t < ntried; t++) {
        bool same = true;
        for (size_t a = 0; a < naxes && same; a++)
            same = !strcmp(tried[t][a], cs[a].c[at[a]].text);
        if (same)
            return true;
    }
    return false;
}

/* The point with the least summed penalty that no trial before has tried
 * (best first over the candidates, each step one axis on to its next
 * candidate); when every point of the candidates was tried, the best. */
static bool choose_point(const cands *cs, size_t naxes, const char *const *const *tried, size_t ntried,
                         size_t *best)
{
    for (size_t a = 0; a < naxes; a++)
        best[a] = 0;
    if (!tried_point(cs, naxes, best, tried, ntried))
        return true;
    size_t cap = (ntried + 2) * (naxes + 1), nopen = 0, nseen = 0;
    size_t *open = malloc(cap * naxes * sizeof *open), *seen = malloc(cap * naxes * sizeof *seen);
    double *cost = malloc(cap * sizeof *cost);
    size_t *cur = malloc(naxes * sizeof *cur);
    bool ok = open && seen && cost && cur;
    if (ok) {
        memcpy(open, best, naxes * sizeof *open);
        memcpy(seen, best, naxes * sizeof *seen);
        cost[0] = 0;
        nopen = nseen = 1;
    }
    /* at most ntried points are tried: ntried + 1 pops find one that is not */
    for (size_t pops = 0; ok && nopen && pops <= ntried; pops++) {
        size_t m = 0;
        for (size_t i = 1; i < nopen; i++)
            if (cost[i] < cost[m])
                m = i;
        size_t *at = open + m * naxes;
        if (!tried_point(cs, naxes, at, tried, ntried)) {
            memcpy(best, at, naxes * sizeof *best);
            break;
        }
        size_t na = naxes;
        memcpy(cur, at, na * sizeof *cur);
        nopen--;
        memmove(open + m * naxes, open + (m + 1) * naxes, (nopen - m) * naxes * sizeof *open);
        memmove(cost + m, cost + m + 1, (nopen - m) * sizeof *cost);
        for (size_t a = 0; a < na; a++) {
            if (cur[a] + 1 >= cs[a].n)
                continue;
            cur[a]++;
            bool dup = false;
            for (size_t i = 0; i < nseen && !dup; i++)
                dup = !memcmp(seen + i * naxes, cur, na * sizeof *cur);
            if (!dup && nopen < cap && nseen < cap) {
                double c = 0;
                for (size_t b = 0; b < na; b++)
                    c += cs[b].c[cur[b]].pen;
                memcpy(open + nopen * naxes, cur, na * sizeof *cur);
                cost[nopen++] = c;
                memcpy(seen + nseen++ * naxes, cur, na * sizeof *cur);
            }
            cur[a]--;
        }
    }
    free(open);
    free(seen);
    free(cost);
    free(cur);
    return ok;
}

int nnx_tpe_propose(const nnx_exp_search *s, bool maximize, const nnx_tpe_obs *obs, size_t nobs,
                    const char *const *const *tried, size_t ntried, size_t k, char **out)
{
    for (size_t a = 0; a < s->naxes; a++)
        out[a] = NULL;
    ranked *order = malloc((nobs ? nobs : 1) * sizeof *order);
    cands *cs = calloc(s->naxes + 1, sizeof *cs);
    size_t *at = calloc(s->naxes + 1, sizeof *at);
    int rc = order && cs && at ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < nobs; i++)
        order[i] = (ranked){ .i = i, .v = obs[i].value, .max = maximize };
    if (rc == 0)
        qsort(order, nobs, sizeof *order, cmp_ranked);
    size_t ngood = nobs ? nnx_tpe_ngood(nobs) : 0;
    nnx_rng r, wide;
    nnx_rng_seed(&r, s->seed, NNX_STREAM_TPE + (uint64_t)k);
    nnx_rng_seed(&wide, s->seed, NNX_STREAM_TPE_WIDE + (uint64_t)k);
    for (size_t a = 0; a < s->naxes && rc == 0; a++) {
        const nnx_exp_axis *ax = &s->axes[a];
        bool ok = ax->kind == NNX_XDIST_LIST ? propose_list(ax, a, obs, order, nobs, ngood, &r, &cs[a])
                                             : propose_number(ax, a, obs, order, nobs, ngood, &r, &wide, &cs[a]);
        if (!ok || cs[a].n == 0)
            rc = -1;
    }
    if (rc == 0 && s->naxes && !choose_point(cs, s->naxes, tried, ntried, at))
        rc = -1;
    for (size_t a = 0; rc == 0 && a < s->naxes; a++)
        if (!(out[a] = strdup(cs[a].c[at[a]].text)))
            rc = -1;
    for (size_t a = 0; cs && a < s->naxes; a++)
        cands_free(&cs[a]);
    free(cs);
    free(at);
    free(order);
    if (rc < 0)
        for (size_t a = 0; a < s->naxes; a++) {
            free(out[a]);
            out[a] = NULL;
        }
    return rc;
}
