/* tpe.h — the Tree-structured Parzen Estimator: propose a search's next values from the trials so far.
 *
 * TPE (Bergstra et al. 2011; Optuna's default sampler, univariate): the
 * observed trials are split by value into the good ones (the best
 * min(ceil(0.25·n), 25) of n: hyperopt's gamma 0.25, taken linearly as
 * Optuna takes its 0.1) and the rest.  With the 10-40 trials of a small
 * search, Optuna's 0.1 leaves 1-4 good trials; on bench/tpe.sh's spirals
 * it then settled on one narrow width and missed the best.  For each axis
 * alone, a density l(x) is fitted to the good trials' values and g(x) to
 * the others'; 24 candidates are drawn from l and the one with the
 * largest log l(x) − log g(x) is proposed.
 *
 *   uniform(a, b), loguniform(a, b)   a mixture of normals truncated to
 *       [a, b] (log a, log b for loguniform): one per observation, centred
 *       on it, plus a prior centred on (a + b) / 2 with sigma b − a; every
 *       component weighs the same.  An observation's sigma is the larger
 *       gap to its sorted neighbours (the prior included; the first and
 *       last take their one gap), clipped to [(b − a) / min(100, 1 + n), b − a]
 *       with n the observations and the prior.
 *   lists, choice([...])              p(c) = (1/C + count(c)) / (1 + n)
 *                                     over the C values.
 *
 * A trial whose value is not finite (failed, diverged) counts as the
 * worst.  Every draw comes from an nnx_rng seeded with the search's seed on
 * the stream NNX_STREAM_TPE + k for trial k (0-based), so a proposal is a
 * pure function of the seed, k and the observations it is given.
 */
#ifndef NNX_TPE_H
#define NNX_TPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/exp.h"
#include "nnx/rt/rng.h"

enum {
    NNX_STREAM_TPE = 1 << 20,   /* + the trial's 0-based index */
    NNX_STREAM_TPE_WIDE = 1 << 21,  /* + the index: fallback draws over the whole range (below) */
    NNX_TPE_CANDIDATES = 24
};

/* A truncated-normal mixture on [lo, hi].  Owns mu, sigma. */
typedef struct nnx_parzen {
    double *mu, *sigma;     /* n components; the prior is one of them */
    size_t  n;
    double  lo, hi;
} nnx_parzen;

/* Fit to observations x[0..n) in [lo, hi] (as above); 0, or -1 out of memory. */
int    nnx_parzen_fit(nnx_parzen *p, const double *x, size_t n, double lo, double hi);
void   nnx_parzen_free(nnx_parzen *p);
double nnx_parzen_logpdf(const nnx_parzen *p, double x);
double nnx_parzen_sample(const nnx_parzen *p, nnx_rng *r);

/* How many of n observations are the good ones: min(ceil(0.25·n), 25), at least 1. */
size_t nnx_tpe_ngood(size_t n);

/* One observed trial: each axis's value as canonical text, and its select value. */
typedef struct nnx_tpe_obs {
    const char *const *values;  /* s->naxes texts, in axis order */
    double value;               /* not finite: the worst */
} nnx_tpe_obs;

/* Propose trial k's values (0-based k) for the axes of `s` from `obs`:
 * out[i] receives a malloc'd canonical text per axis (numbers as %.4g, as
 * random draws are written).  A point tried before (tried[t], t < ntried:
 * each s->naxes texts, every trial proposed before k, observed or not) is
 * not proposed again while another is left: the candidates of each axis
 * ranked by log l − log g, the point with the least summed shortfall from
 * each axis's best that no trial has tried; then (fallback) the list values
 * never drawn, and 24 draws over a number's whole range on the stream
 * NNX_STREAM_TPE_WIDE + k.  When every one of those points was tried (a
 * list search with more trials than points), the best again.  0, or -1
 * out of memory. */
int nnx_tpe_propose(const nnx_exp_search *s, bool maximize, const nnx_tpe_obs *obs, size_t nobs,
                    const char *const *const *tried, size_t ntried, size_t k, char **out);

#endif
