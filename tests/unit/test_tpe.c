/* test_tpe.c — the Parzen estimator's components and densities against hand-computed values, and TPE proposals. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nnx/tpe.h"

/* Observations 0.2 and 0.9 on [0, 1] with the prior at 0.5: sigmas are the
 * larger neighbour gap (0.3 for 0.2, 0.4 for 0.9), the prior keeps the
 * width 1; the floor 1 / min(100, 1 + 3) = 0.25 clips none of them. */
static void parzen_components(void **state)
{
    (void)state;
    nnx_parzen p;
    double x[] = { 0.9, 0.2 };
    assert_int_equal(nnx_parzen_fit(&p, x, 2, 0, 1), 0);
    assert_int_equal(p.n, 3);
    assert_float_equal(p.mu[0], 0.2, 1e-15);
    assert_float_equal(p.mu[1], 0.5, 1e-15);
    assert_float_equal(p.mu[2], 0.9, 1e-15);
    assert_float_equal(p.sigma[0], 0.3, 1e-15);
    assert_float_equal(p.sigma[1], 1.0, 1e-15);
    assert_float_equal(p.sigma[2], 0.4, 1e-15);
    nnx_parzen_free(&p);
    /* close observations: the floor 1 / min(100, 1 + 4) holds them apart */
    double y[] = { 0.5001, 0.5002, 0.5003 };
    assert_int_equal(nnx_parzen_fit(&p, y, 3, 0, 1), 0);
    for (size_t i = 0; i < p.n; i++)
        assert_float_equal(p.sigma[i], p.mu[i] == 0.5 ? 1.0 : 0.2, 1e-15);
    nnx_parzen_free(&p);
}

/* log densities of the truncated mixture, computed by hand (Python's math.erfc):
 * prior alone at its centre: log(phi(0) / (Phi(0.5) - Phi(-0.5))). */
static void parzen_logpdf(void **state)
{
    (void)state;
    nnx_parzen p;
    assert_int_equal(nnx_parzen_fit(&p, NULL, 0, 0, 1), 0);
    assert_float_equal(nnx_parzen_logpdf(&p, 0.5), 0.040977800491, 1e-10);
    assert_true(isinf(nnx_parzen_logpdf(&p, 1.5)));     /* outside: no mass */
    nnx_parzen_free(&p);
    double x[] = { 0.2, 0.9 };
    assert_int_equal(nnx_parzen_fit(&p, x, 2, 0, 1), 0);
    assert_float_equal(nnx_parzen_logpdf(&p, 0.2), 0.049397181410, 1e-10);
    assert_float_equal(nnx_parzen_logpdf(&p, 0.7), -0.010781187178, 1e-10);
    /* it integrates to 1 on [lo, hi] (midpoint rule) */
    double sum = 0;
    for (int i = 0; i < 20000; i++)
        sum += exp(nnx_parzen_logpdf(&p, (i + 0.5) / 20000));
    assert_float_equal(sum / 20000, 1.0, 1e-6);
    /* samples stay inside and follow the density: mean near the mixture's */
    nnx_rng r;
    nnx_rng_seed(&r, 5, NNX_STREAM_TPE);
    double mean = 0, want = 0;
    for (int i = 0; i < 20000; i++) {
        double s = nnx_parzen_sample(&p, &r);
        assert_true(s >= 0 && s <= 1);
        mean += s / 20000;
        double m = (i + 0.5) / 20000;
        want += m * exp(nnx_parzen_logpdf(&p, m)) / 20000;
    }
    assert_float_equal(mean, want, 0.01);
    nnx_parzen_free(&p);
}

static void good_count(void **state)
{
    (void)state;
    assert_int_equal(nnx_tpe_ngood(1), 1);
    assert_int_equal(nnx_tpe_ngood(4), 1);
    assert_int_equal(nnx_tpe_ngood(5), 2);
    assert_int_equal(nnx_tpe_ngood(10), 3);
    assert_int_equal(nnx_tpe_ngood(40), 10);
    assert_int_equal(nnx_tpe_ngood(1000), 25);
}

/* A list: of 10 trials the good 3 chose b (0.9), a (0.4), a (0.4); the 7
 * others a.  p_good = (7/12, 1/3, 1/12), p_other = (11/12, 1/24, 1/24): b
 * has the ratio 8, c 2, a 0.64; b is missing from 24 draws of p_good only
 * with probability (2/3)^24 = 6e-5. */
static void propose_list(void **state)
{
    (void)state;
    char *vals[] = { "a", "b", "c" };
    nnx_exp_axis ax = { .path = "act", .kind = NNX_XDIST_LIST, .values = vals, .nvalues = 3 };
    nnx_exp_search s = { .kind = NNX_XSEARCH_TPE, .axes = &ax, .naxes = 1, .seed = 1 };
    const char *a = "a", *b = "b";
    nnx_tpe_obs obs[10];
    for (int i = 0; i < 10; i++)
        obs[i] = (nnx_tpe_obs){ .values = i == 6 ? &b : &a, .value = i == 6 ? 0.9 : 0.1 * (i % 5) };
    for (size_t k = 10; k < 14; k++) {
        char *out[1];
        assert_int_equal(nnx_tpe_propose(&s, true, obs, 10, NULL, 0, k, out), 0);
        assert_string_equal(out[0], "b");
        free(out[0]);
    }
    /* minimizing the negated values ranks them the same: the same proposal */
    for (int i = 0; i < 10; i++)
        obs[i].value = -obs[i].value;
    char *out[1];
    assert_int_equal(nnx_tpe_propose(&s, false, obs, 10, NULL, 0, 10, out), 0);
    assert_string_equal(out[0], "b");
    free(out[0]);
}

/* loguniform(1e-4, 1): trials near lr 0.01 score best; the proposal lands
 * near them, is the same for the same k and observations, and keeps to the
 * range; a failed trial (NaN) counts as the worst. */
static void propose_number(void **state)
{
    (void)state;
    nnx_exp_axis ax = { .path = "optimizer.lr", .kind = NNX_XDIST_LOGUNIFORM, .lo = 1e-4, .hi = 1 };
    nnx_exp_search s = { .kind = NNX_XSEARCH_TPE, .axes = &ax, .naxes = 1, .seed = 7 };
    char text[20][16];
    const char *ptr[20];
    nnx_tpe_obs obs[20];
    for (int i = 0; i < 20; i++) {
        double lr = pow(10, -4 + 4.0 * i / 19);
        snprintf(text[i], sizeof text[i], "%.4g", lr);
        ptr[i] = text[i];
        obs[i] = (nnx_tpe_obs){ .values = &ptr[i], .value = -fabs(log10(lr) + 2) };
    }
    obs[19].value = NAN;
    for (size_t k = 20; k < 30; k++) {
        char *out[1], *again[1];
        assert_int_equal(nnx_tpe_propose(&s, true, obs, 20, NULL, 0, k, out), 0);
        assert_int_equal(nnx_tpe_propose(&s, true, obs, 20, NULL, 0, k, again), 0);
        assert_string_equal(out[0], again[0]);
        double lr = strtod(out[0], NULL);
        assert_true(lr >= 1e-3 && lr <= 1e-1);
        free(out[0]);
        free(again[0]);
    }
    /* uniform: the same, in linear space, inside [lo, hi] */
    ax.kind = NNX_XDIST_UNIFORM;
    ax.lo = 0;
    ax.hi = 0.5;
    for (int i = 0; i < 20; i++) {
        double p = 0.5 * i / 19;
        snprintf(text[i], sizeof text[i], "%.4g", p);
        obs[i].value = -fabs(p - 0.4);
    }
    char *out[1];
    assert_int_equal(nnx_tpe_propose(&s, true, obs, 20, NULL, 0, 20, out), 0);
    double p = strtod(out[0], NULL);
    assert_true(p >= 0.3 && p <= 0.5);
    free(out[0]);
}

/* A point tried before is not proposed again while another is left.  Two
 * list axes (2 x 2 points): the good trials all chose (b, y), so TPE's
 * choice is (b, y); once (b, y) is tried (observed, or proposed since and
 * not yet observed) the next best untried point comes, the same for the
 * same inputs; when all four are tried, (b, y) again.  A quantised number:
 * uniform(1, 1.001) has two texts at %.4g, "1" and "1.001": with "1" tried
 * the proposal is "1.001", though the good trials sit at 1. */
static void propose_untried(void **state)
{
    (void)state;
    char *v1[] = { "a", "b" }, *v2[] = { "x", "y" };
    nnx_exp_axis ax[2] = { { .path = "p", .kind = NNX_XDIST_LIST, .values = v1, .nvalues = 2 },
                           { .path = "q", .kind = NNX_XDIST_LIST, .values = v2, .nvalues = 2 } };
    nnx_exp_search s = { .kind = NNX_XSEARCH_TPE, .axes = ax, .naxes = 2, .seed = 5 };
    const char *by[] = { "b", "y" }, *ax_[] = { "a", "x" }, *ay[] = { "a", "y" }, *bx[] = { "b", "x" };
    nnx_tpe_obs obs[8];
    for (int i = 0; i < 8; i++)
        obs[i] = (nnx_tpe_obs){ .values = i < 2 ? by : ax_, .value = i < 2 ? 0.9 : 0.1 };
    const char *const *tried[8];
    for (int i = 0; i < 8; i++)
        tried[i] = obs[i].values;
    char *out[2], *again[2];
    assert_int_equal(nnx_tpe_propose(&s, true, obs, 8, NULL, 0, 8, out), 0);
    assert_string_equal(out[0], "b");       /* nothing tried: TPE's own choice */
    assert_string_equal(out[1], "y");
    free(out[0]);
    free(out[1]);
    assert_int_equal(nnx_tpe_propose(&s, true, obs, 8, tried, 8, 8, out), 0);
    assert_int_equal(nnx_tpe_propose(&s, true, obs, 8, tried, 8, 8, again), 0);
    assert_false(!strcmp(out[0], "b") && !strcmp(out[1], "y"));
    assert_false(!strcmp(out[0], "a") && !strcmp(out[1], "x"));
    assert_string_equal(out[0], again[0]);
    assert_string_equal(out[1], again[1]);
    bool first_by = !strcmp(out[0], "b");  /* (b, x) or (a, y): the one with the smaller shortfall */
    for (int k = 0; k < 2; k++) {
        free(out[k]);
        free(again[k]);
    }
    /* the one proposed since, not yet observed, counts as tried too */
    const char *const *more[10] = { by, ax_, ax_, ax_, ax_, ax_, ax_, ax_, first_by ? bx : ay };
    assert_int_equal(nnx_tpe_propose(&s, true, obs, 8, more, 9, 9, out), 0);
    assert_string_equal(out[0], first_by ? "a" : "b");
    assert_string_equal(out[1], first_by ? "y" : "x");
    free(out[0]);
    free(out[1]);
    more[9] = first_by ? ay : bx;
    assert_int_equal(nnx_tpe_propose(&s, true, obs, 8, more, 10, 10, out), 0);
    assert_string_equal(out[0], "b");       /* every point tried: the best again */
    assert_string_equal(out[1], "y");
    free(out[0]);
    free(out[1]);

    nnx_exp_axis q = { .path = "r", .kind = NNX_XDIST_UNIFORM, .lo = 1, .hi = 1.001 };
    nnx_exp_search sq = { .kind = NNX_XSEARCH_TPE, .axes = &q, .naxes = 1, .seed = 3 };
    const char *one = "1", *top = "1.001";
    nnx_tpe_obs qo[6];
    const char *const *qt[6];
    for (int i = 0; i < 6; i++) {
        qo[i] = (nnx_tpe_obs){ .values = i < 5 ? &one : &top, .value = i < 5 ? 0.9 : 0.1 };
        qt[i] = qo[i].values;
    }
    assert_int_equal(nnx_tpe_propose(&sq, true, qo, 6, NULL, 0, 6, out), 0);
    assert_string_equal(out[0], "1");
    free(out[0]);
    assert_int_equal(nnx_tpe_propose(&sq, true, qo, 5, qt, 5, 6, out), 0);
    assert_string_equal(out[0], "1.001");
    free(out[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parzen_components), cmocka_unit_test(parzen_logpdf), cmocka_unit_test(good_count),
        cmocka_unit_test(propose_list), cmocka_unit_test(propose_number),
        cmocka_unit_test(propose_untried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
