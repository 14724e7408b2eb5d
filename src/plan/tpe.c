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

/* A list axis: the value with the best p_good / p_other among candidates drawn from p_good. */
static char *propose_list(const nnx_exp_axis *ax, size_t a, const nnx_tpe_obs *obs, const ranked *order,
                          size_t nobs, size_t ngood, nnx_rng *r)
{
    size_t C = ax->nvalues;
    double *pg = calloc(C, sizeof *pg), *pb = calloc(C, sizeof *pb);
    if (!pg || !pb) {
        free(pg);
        free(pb);
        return NULL;
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
    size_t best = 0;
    double best_score = -INFINITY;
    for (int t = 0; t < NNX_TPE_CANDIDATES; t++) {
        double u = nnx_rng_uniform(r), acc = 0;
        size_t c = 0;
        for (; c + 1 < C; c++) {
            acc += pg[c];
            if (u < acc)
                break;
        }
        double score = log(pg[c]) - log(pb[c]);
        if (score > best_score) {
            best_score = score;
            best = c;
        }
    }
    free(pg);
    free(pb);
    return strdup(ax->values[best]);
}

/* A uniform or loguniform axis: the candidate drawn from l with the best log l − log g. */
static char *propose_number(const nnx_exp_axis *ax, size_t a, const nnx_tpe_obs *obs, const ranked *order,
                            size_t nobs, size_t ngood, nnx_rng *r)
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
        return NULL;
    double best = l.mu[0], best_score = -INFINITY;
    for (int t = 0; t < NNX_TPE_CANDIDATES; t++) {
        double x = nnx_parzen_sample(&l, r);
        double score = nnx_parzen_logpdf(&l, x) - nnx_parzen_logpdf(&g, x);
        if (score > best_score) {
            best_score = score;
            best = x;
        }
    }
    nnx_parzen_free(&l);
    nnx_parzen_free(&g);
    double v = lg ? exp(best) : best;
    v = fmin(fmax(v, ax->lo), ax->hi);
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.4g", v);
    /* %.4g may round past a bound: keep the text inside the range */
    double back = strtod(tmp, NULL);
    if (back < ax->lo || back > ax->hi)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    return strdup(tmp);
}

int nnx_tpe_propose(const nnx_exp_search *s, bool maximize, const nnx_tpe_obs *obs, size_t nobs, size_t k,
                    char **out)
{
    for (size_t a = 0; a < s->naxes; a++)
        out[a] = NULL;
    ranked *order = malloc((nobs ? nobs : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < nobs; i++)
        order[i] = (ranked){ .i = i, .v = obs[i].value, .max = maximize };
    qsort(order, nobs, sizeof *order, cmp_ranked);
    size_t ngood = nobs ? nnx_tpe_ngood(nobs) : 0;
    nnx_rng r;
    nnx_rng_seed(&r, s->seed, NNX_STREAM_TPE + (uint64_t)k);
    int rc = 0;
    for (size_t a = 0; a < s->naxes && rc == 0; a++) {
        const nnx_exp_axis *ax = &s->axes[a];
        out[a] = ax->kind == NNX_XDIST_LIST ? propose_list(ax, a, obs, order, nobs, ngood, &r)
                                            : propose_number(ax, a, obs, order, nobs, ngood, &r);
        if (!out[a])
            rc = -1;
    }
    free(order);
    if (rc < 0)
        for (size_t a = 0; a < s->naxes; a++) {
            free(out[a]);
            out[a] = NULL;
        }
    return rc;
}
