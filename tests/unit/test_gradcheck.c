/* test_gradcheck.c — every layer's and activation's backward against central
 * finite differences, with respect to inputs and parameters.
 *
 * The objective is L = Σ r·y for a fixed random r, so d(L)/d(y) = r and
 * backward(r) must give d(L)/d(params) and d(L)/d(input).  The network runs in
 * float; L is summed in double and differentiated with a step of 1e-2 (1e-3
 * near kinks).  An entry fails when |analytic - numeric| > 1e-2 · max(|a|,
 * |n|, 0.05): a wrong sign or a missing term is off by far more.  Each check
 * also flips the sign of the largest analytic entry and asserts the checker
 * then fails, so a checker that cannot fail would be caught.
 * Max pooling and relu have kinks: an entry whose step moves an input across
 * one (the difference quotients at eps and eps/2 disagree) says nothing about
 * the derivative and is skipped; at most a quarter of the entries may be.
 * Dropout runs in training mode with the same mask for every evaluation (the
 * dropout generator is restored before each forward).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/loss.h"
#include "nnx/rt/net.h"

#define REL_TOL 1e-2
#define FLOOR   0.05

typedef struct gc {
    nnx_net *net;
    int n;
    bool train;
    float *x, *r;
    nnx_rng saved;
    double eps;
} gc;

static double objective(gc *g)
{
    *nnx_net_dropout_rng(g->net) = g->saved;
    const float *y = nnx_net_forward(g->net, g->x, g->n, g->train);
    assert_non_null(y);
    size_t m = (size_t)g->n * nnx_net_out_size(g->net);
    double l = 0;
    for (size_t i = 0; i < m; i++)
        l += (double)g->r[i] * y[i];
    return l;
}

/* Largest scaled difference between analytic and numeric gradients, over the
 * entries whose numeric value is a number (NAN marks a skipped one). */
static double worst(const float *ana, const double *num, size_t m, size_t *at)
{
    double w = 0;
    for (size_t i = 0; i < m; i++) {
        if (isnan(num[i]))
            continue;
        double scale = fmax(fmax(fabs(ana[i]), fabs(num[i])), FLOOR);
        double e = fabs(ana[i] - num[i]) / scale;
        if (e > w) {
            w = e;
            if (at)
                *at = i;
        }
    }
    return w;
}

/* Compare, then show that a corrupted gradient (largest entry's sign flipped)
 * is rejected by the same comparison. */
static void compare(const char *what, const float *ana, const double *num, size_t m)
{
    size_t at = 0;
    double w = worst(ana, num, m, &at);
    if (w > REL_TOL)
        fail_msg("%s: entry %zu analytic %.6g numeric %.6g (scaled error %.3g)",
                 what, at, (double)ana[at], num[at], w);
    float *bad = malloc(m * sizeof *bad);
    assert_non_null(bad);
    memcpy(bad, ana, m * sizeof *bad);
    size_t big = 0, skipped = 0;
    for (size_t i = 0; i < m; i++) {
        skipped += isnan(num[i]);
        if (!isnan(num[i]) && (isnan(num[big]) || fabsf(bad[i]) > fabsf(bad[big])))
            big = i;
    }
    if (getenv("GRADCHECK_VERBOSE"))
        print_message("%s: %zu entries, %zu on kinks, worst scaled error %.2g\n",
                      what, m, skipped, w);
    if (4 * skipped > m)
        fail_msg("%s: %zu of %zu entries sit on a kink", what, skipped, m);
    assert_true(fabsf(bad[big]) > FLOOR * REL_TOL);   /* a gradient worth checking */
    bad[big] = -bad[big];
    assert_true(worst(bad, num, m, NULL) > REL_TOL);
    free(bad);
}

static double quotient(gc *g, float *v, double eps)
{
    float keep = *v;
    *v = keep + (float)eps;
    double lp = objective(g);
    *v = keep - (float)eps;
    double lm = objective(g);
    *v = keep;
    return (lp - lm) / (2 * eps);
}

/* d(L)/d(*v) by central differences, or NAN when the steps eps and eps/2
 * disagree (a kink within reach). */
static double numeric(gc *g, float *v)
{
    double a = quotient(g, v, g->eps), b = quotient(g, v, g->eps / 2);
    if (fabs(a - b) > REL_TOL / 2 * fmax(fmax(fabs(a), fabs(b)), FLOOR))
        return NAN;
    return a;
}

/* Check d(L)/d(params) and, when `dinput` (the net compiled with
 * want_dinput), d(L)/d(x) of net on n rows of x (filled by the caller or
 * randomly in [-1, 1]). */
static void check_grads(nnx_net *net, int n, bool train, double eps, const float *xin,
                        bool dinput)
{
    gc g = {.net = net, .n = n, .train = train, .eps = eps};
    size_t in = (size_t)n * nnx_net_in_size(net), out = (size_t)n * nnx_net_out_size(net);
    g.x = malloc(in * sizeof *g.x);
    g.r = malloc(out * sizeof *g.r);
    assert_non_null(g.x);
    assert_non_null(g.r);
    nnx_rng rng;
    nnx_rng_seed(&rng, 99, NNX_STREAM_USER);
    for (size_t i = 0; i < in; i++)
        g.x[i] = xin ? xin[i] : (float)(2 * nnx_rng_uniform(&rng) - 1);
    for (size_t i = 0; i < out; i++)
        g.r[i] = (float)(2 * nnx_rng_uniform(&rng) - 1);
    g.saved = *nnx_net_dropout_rng(net);

    objective(&g);
    assert_int_equal(nnx_net_backward(net, g.r), 0);
    size_t np = nnx_net_nparams(net);
    float *ga = malloc((np ? np : 1) * sizeof *ga), *gx = malloc(in * sizeof *gx);
    double *num = malloc((np > in ? np : in) * sizeof *num);
    assert_non_null(ga);
    assert_non_null(gx);
    assert_non_null(num);
    memcpy(ga, nnx_net_grads(net), np * sizeof *ga);
    if (dinput) {
        assert_non_null(nnx_net_dinput(net));
        memcpy(gx, nnx_net_dinput(net), in * sizeof *gx);
    } else {
        assert_null(nnx_net_dinput(net));
    }

    float *p = nnx_net_params(net);
    for (size_t i = 0; i < np; i++)
        num[i] = numeric(&g, &p[i]);
    if (np)
        compare("d/dparams", ga, num, np);
    for (size_t i = 0; dinput && i < in; i++)
        num[i] = numeric(&g, &g.x[i]);
    if (dinput)
        compare("d/dinput", gx, num, in);
    free(g.x);
    free(g.r);
    free(ga);
    free(gx);
    free(num);
}

static void check_net(nnx_net *net, int n, bool train, double eps, const float *xin)
{
    check_grads(net, n, train, eps, xin, true);
}

static void ok(int rc, const nnx_rt_error *err)
{
    if (rc)
        fail_msg("%s", err->msg);
}

static nnx_net *start(int c, int h, int w)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(c, h, w, &err);
    assert_non_null(net);
    ok(nnx_net_want_dinput(net, true, &err), &err);
    return net;
}

static void finish(nnx_net *net, int n, bool train, double eps, const float *x)
{
    nnx_rt_error err;
    ok(nnx_net_compile(net, n, 5, &err), &err);
    check_net(net, n, train, eps, x);
    nnx_net_free(net);
}

/* --- dense --------------------------------------------------------------- */

static void dense_with_bias(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(7, 1, 1);
    ok(nnx_net_add_dense(net, 5, true, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish(net, 4, true, 1e-2, NULL);
}

static void dense_without_bias(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(7, 1, 1);
    ok(nnx_net_add_dense(net, 5, false, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

static void dense_reads_an_image_flat(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 3, 2);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

/* --- activations ----------------------------------------------------------- */

/* dense → act → dense, inputs kept away from kinks for relu-like ones by
 * checking with a smaller step. */
static void act_case(enum nnx_act act, float a, double eps)
{
    nnx_rt_error err;
    nnx_net *net = start(6, 1, 1);
    ok(nnx_net_add_dense(net, 8, true, &err), &err);
    ok(nnx_net_add_act(net, act, a, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    nnx_rt_error e2;
    ok(nnx_net_compile(net, 5, 5, &e2), &e2);
    /* Spread the pre-activations over [-3, 3] so both branches are used. */
    float *p = nnx_net_params(net);
    for (int i = 0; i < 8 * 6; i++)
        p[i] *= 2.0f;
    check_net(net, 5, true, eps, NULL);
    nnx_net_free(net);
}

static void act_relu(void **s)       { (void)s; act_case(NNX_ACT_RELU, 0, 1e-3); }
static void act_leaky_relu(void **s) { (void)s; act_case(NNX_ACT_LEAKY_RELU, 0.1f, 1e-3); }
static void act_elu(void **s)        { (void)s; act_case(NNX_ACT_ELU, 1.0f, 1e-3); }
static void act_elu_alpha(void **s)  { (void)s; act_case(NNX_ACT_ELU, 0.5f, 1e-3); }
static void act_gelu(void **s)       { (void)s; act_case(NNX_ACT_GELU, 0, 1e-2); }
static void act_tanh(void **s)       { (void)s; act_case(NNX_ACT_TANH, 0, 1e-2); }
static void act_sigmoid(void **s)    { (void)s; act_case(NNX_ACT_SIGMOID, 0, 1e-2); }
static void act_swish(void **s)      { (void)s; act_case(NNX_ACT_SWISH, 1.0f, 1e-2); }
static void act_swish_beta(void **s) { (void)s; act_case(NNX_ACT_SWISH, 1.7f, 1e-2); }
/* Every row of the activation table, so that a new activation is checked
 * the day it is added. */
static void act_every_row(void **s)
{
    (void)s;
    for (size_t i = 0; i < nnx_act_count(); i++) {
        const nnx_act_info *A = nnx_act_info_of((unsigned)i);
        act_case(A->code, A->param == NNX_ACT_PARAM_NONE ? 0 : 0.7f, 1e-3);
    }
}

/* --- batch norm and dropout ------------------------------------------------ */

static void batchnorm_dense_train(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(5, 1, 1);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 6, 5, &err), &err);
    /* gamma and beta away from 1 and 0 so their gradients are not special */
    nnx_layer_info li;
    assert_int_equal(nnx_net_layer_info(net, 1, &li), 0);
    float *p = nnx_net_params(net) + li.param_off;
    for (int i = 0; i < 4; i++) {
        p[i] = 0.5f + 0.3f * i;
        p[4 + i] = 0.2f * i - 0.3f;
    }
    check_net(net, 6, true, 1e-2, NULL);
    nnx_net_free(net);
}

/* A flat batch norm fused with its activation runs the activation over
 * units of rows (norm.c): 37 rows make units of 2 and 3, or, this small,
 * one unit of every row, taken in blocks the size of its tile. */
static nnx_net *flat_first(bool dinput, int n)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(5, 1, 1, &err);
    assert_non_null(net);
    ok(nnx_net_want_dinput(net, dinput, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, n, 5, &err), &err);
    float *p = nnx_net_params(net);
    for (int i = 0; i < 5; i++) {
        p[i] = 0.5f + 0.3f * i;
        p[5 + i] = 0.2f * i - 0.3f;
    }
    return net;
}

static void batchnorm_flat_first_many_rows(void **state)
{
    (void)state;
    nnx_net *net = flat_first(true, 37);
    check_net(net, 37, true, 1e-2, NULL);
    nnx_net_free(net);
}

/* The same first batch norm without an input gradient: d(loss)/d(normalised)
 * has no dx to go to and goes to the batch norm's workspace; the parameter
 * gradients must be the bits of the net that has dx. */
static void batchnorm_flat_first_without_dinput(void **state)
{
    (void)state;
    const int n = 37;
    nnx_net *a = flat_first(true, n), *b = flat_first(false, n);
    float x[37 * 5], r[37 * 3];
    for (int i = 0; i < n * 5; i++)
        x[i] = sinf(0.37f * (float)i);
    for (int i = 0; i < n * 3; i++)
        r[i] = cosf(0.11f * (float)i);
    assert_non_null(nnx_net_forward(a, x, n, true));
    assert_non_null(nnx_net_forward(b, x, n, true));
    assert_int_equal(nnx_net_backward(a, r), 0);
    assert_int_equal(nnx_net_backward(b, r), 0);
    assert_null(nnx_net_dinput(b));
    size_t np = nnx_net_nparams(a);
    assert_int_equal(memcmp(nnx_net_grads(a), nnx_net_grads(b), np * sizeof(float)), 0);
    nnx_net_free(a);
    nnx_net_free(b);
}

static void batchnorm_dense_eval(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(5, 1, 1);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 4, 5, &err), &err);
    float *st = nnx_net_state(net);
    for (int i = 0; i < 5; i++) {
        st[i] = 0.1f * i;           /* running mean */
        st[5 + i] = 0.5f + 0.2f * i; /* running var */
    }
    check_net(net, 4, false, 1e-2, NULL);
    nnx_net_free(net);
}

static void batchnorm_conv_train(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 4, 4);
    ok(nnx_net_add_conv(net, 3, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

static void batchnorm_on_image_input(void **state)
{
    (void)state;   /* per channel on the sample-major input layout */
    nnx_rt_error err;
    nnx_net *net = start(3, 3, 2);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SIGMOID, 0, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    finish(net, 4, true, 1e-2, NULL);
}

static void batchnorm_conv_eval(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 4, 4);
    ok(nnx_net_add_conv(net, 3, 3, 1, 0, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    ok(nnx_net_compile(net, 3, 5, &err), &err);
    float *st = nnx_net_state(net);
    for (int i = 0; i < 3; i++) {
        st[i] = 0.2f * i - 0.1f;
        st[3 + i] = 0.7f + 0.4f * i;
    }
    check_net(net, 3, false, 1e-2, NULL);
    nnx_net_free(net);
}

/* A batch norm not directly followed by an activation runs on its own; one
 * that is runs fused with it (see norm.c): both are checked, in both modes. */
static void batchnorm_unfused_train(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(5, 1, 1);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_dropout(net, 0.3f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    finish(net, 6, true, 1e-2, NULL);
}

static void batchnorm_conv_unfused_train(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 4, 4);
    ok(nnx_net_add_conv(net, 3, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_avgpool(net, 2, 2, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SIGMOID, 0, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

/* A batch norm, its activation and a pool run as one pass: the activation's
 * output is kept when its backward reads it (tanh) and lives only in the
 * pass otherwise (gelu; swish in cnn_like_the_benchmark). */
static void batchnorm_act_pool_case(enum nnx_act act, bool maxpool)
{
    nnx_rt_error err;
    nnx_net *net = start(2, 6, 6);
    ok(nnx_net_add_conv(net, 3, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, act, 0, &err), &err);
    ok(maxpool ? nnx_net_add_maxpool(net, 2, 2, &err) : nnx_net_add_avgpool(net, 2, 2, &err),
       &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

static void batchnorm_tanh_maxpool(void **s) { (void)s; batchnorm_act_pool_case(NNX_ACT_TANH, true); }
static void batchnorm_gelu_avgpool(void **s) { (void)s; batchnorm_act_pool_case(NNX_ACT_GELU, false); }

static void batchnorm_fused_eval(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 4, 4);
    ok(nnx_net_add_conv(net, 3, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_ELU, 1.0f, &err), &err);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_GELU, 0, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    ok(nnx_net_compile(net, 3, 5, &err), &err);
    for (int l = 0; l < nnx_net_nlayers(net); l++) {   /* running mean and var */
        nnx_layer_info li;
        nnx_net_layer_info(net, l, &li);
        float *st = nnx_net_state(net) + li.state_off;
        for (size_t i = 0; i < li.nstate / 2; i++) {
            st[i] = 0.2f * (float)i - 0.1f;
            st[li.nstate / 2 + i] = 0.6f + 0.1f * (float)i;
        }
    }
    check_net(net, 3, false, 1e-2, NULL);
    nnx_net_free(net);
}

/* A direct convolution as the first layer, the input's gradient not
 * wanted, and a batch norm after it: the batch norm's backward makes the
 * convolution's weight gradient, from the Gram of the convolution's input
 * taps rather than from its output gradient (conv_direct.c, norm.c), with
 * the activation and pool fused or no activation at all, under a pool of
 * winners (the forward keeping x at them) or an overlapping pool, over 9 or
 * 27 taps, on one thread or two, after a training or an evaluation
 * forward. */
enum wgrad_case { W_SWISH_MAX2, W_PLAIN, W_TANH_MAX3, W_RGB_SWISH };

static void wgrad_fused_case(enum wgrad_case wc, int threads, bool train)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(wc == W_RGB_SWISH ? 3 : 1, 6, 6, &err);
    assert_non_null(net);
    ok(nnx_net_set_threads(net, threads, &err), &err);
    ok(nnx_net_add_conv(net, 3, 3, 1, 1, wc != W_PLAIN, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    if (wc == W_TANH_MAX3)
        ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    else if (wc != W_PLAIN)
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    if (wc == W_SWISH_MAX2 || wc == W_TANH_MAX3)
        ok(nnx_net_add_maxpool(net, wc == W_TANH_MAX3 ? 3 : 2, 2, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 4, 5, &err), &err);
    if (!train) {
        nnx_layer_info li;
        nnx_net_layer_info(net, 1, &li);
        float *st = nnx_net_state(net) + li.state_off;
        for (size_t i = 0; i < li.nstate / 2; i++) {
            st[i] = 0.2f * (float)i - 0.1f;
            st[li.nstate / 2 + i] = 0.6f + 0.1f * (float)i;
        }
    }
    check_grads(net, 4, train, 1e-3, NULL, false);
    nnx_net_free(net);
}

static void wgrad_fused_swish_maxpool(void **state)
{
    (void)state;
    wgrad_fused_case(W_SWISH_MAX2, 2, false);
    wgrad_fused_case(W_SWISH_MAX2, 2, true);
    wgrad_fused_case(W_SWISH_MAX2, 1, true);
}

static void wgrad_fused_plain(void **state)
{
    (void)state;
    wgrad_fused_case(W_PLAIN, 2, true);
    wgrad_fused_case(W_PLAIN, 1, false);
}

static void wgrad_fused_overlapping_pool(void **s) { (void)s; wgrad_fused_case(W_TANH_MAX3, 2, true); }
static void wgrad_fused_27_taps(void **s)          { (void)s; wgrad_fused_case(W_RGB_SWISH, 2, true); }

static void dropout_fixed_mask(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(6, 1, 1);
    ok(nnx_net_add_dense(net, 10, true, &err), &err);
    ok(nnx_net_add_dropout(net, 0.4f, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish(net, 4, true, 1e-2, NULL);
}

static void dropout_eval(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(6, 1, 1);
    ok(nnx_net_add_dense(net, 10, true, &err), &err);
    ok(nnx_net_add_dropout(net, 0.4f, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish(net, 4, false, 1e-2, NULL);
}

/* --- convolution, pooling, flatten ----------------------------------------- */

static void conv_case(int c, int hw, int filters, int k, int stride, int pad, bool bias)
{
    nnx_rt_error err;
    nnx_net *net = start(c, hw, hw);
    ok(nnx_net_add_conv(net, filters, k, stride, pad, bias, &err), &err);
    finish(net, 2, true, 1e-2, NULL);
}

static void conv_3x3_pad1(void **s)      { (void)s; conv_case(2, 5, 3, 3, 1, 1, true); }
static void conv_3x3_stride2(void **s)   { (void)s; conv_case(2, 7, 3, 3, 2, 0, true); }
static void conv_2x2_stride2_pad(void **s) { (void)s; conv_case(1, 5, 2, 2, 2, 1, false); }
static void conv_5x5_stride3_pad2(void **s) { (void)s; conv_case(3, 6, 2, 5, 3, 2, true); }

/* Winograd F(2×2, 3×3): 8 channels and more each way (conv.c); the second
 * reads the channel-major layout, its input gradient goes back through the
 * first; odd sides leave half tiles. */
static void conv_winograd_stack(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(8, 5, 3);
    ok(nnx_net_add_conv(net, 9, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_conv(net, 8, 3, 1, 1, false, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

static void conv_stack_pointwise(void **state)
{
    (void)state;   /* second conv reads the channel-major layout, 1×1 path */
    nnx_rt_error err;
    nnx_net *net = start(2, 4, 4);
    ok(nnx_net_add_conv(net, 3, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_conv(net, 4, 1, 1, 0, true, &err), &err);
    ok(nnx_net_add_conv(net, 2, 3, 2, 1, true, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

static void maxpool_case(int size, int stride)
{
    nnx_rt_error err;
    nnx_net *net = start(2, 6, 6);
    ok(nnx_net_add_conv(net, 2, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_maxpool(net, size, stride, &err), &err);
    finish(net, 2, true, 1e-3, NULL);
}

static void maxpool_2(void **s)           { (void)s; maxpool_case(2, 2); }
static void maxpool_3_overlapping(void **s) { (void)s; maxpool_case(3, 2); }

static void maxpool_on_input(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 5, 5);
    ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    finish(net, 2, true, 1e-3, NULL);
}

static void avgpool_case(int size, int stride)
{
    nnx_rt_error err;
    nnx_net *net = start(2, 6, 6);
    ok(nnx_net_add_conv(net, 2, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_avgpool(net, size, stride, &err), &err);
    finish(net, 2, true, 1e-2, NULL);
}

static void avgpool_2(void **s)          { (void)s; avgpool_case(2, 2); }
static void avgpool_3_stride1(void **s)  { (void)s; avgpool_case(3, 1); }

static void flatten_then_dense(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(1, 5, 5);
    ok(nnx_net_add_conv(net, 3, 3, 1, 0, true, &err), &err);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

static void conv_output_is_sample_major(void **state)
{
    (void)state;   /* a conv as last layer: the net transposes its output */
    nnx_rt_error err;
    nnx_net *net = start(1, 4, 4);
    ok(nnx_net_add_conv(net, 2, 3, 1, 0, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_ELU, 1.0f, &err), &err);
    finish(net, 3, true, 1e-3, NULL);
}

/* --- whole networks --------------------------------------------------------- */

static void mlp_like_the_benchmark(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(12, 1, 1);
    ok(nnx_net_add_dense(net, 8, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_dropout(net, 0.2f, &err), &err);
    ok(nnx_net_add_dense(net, 6, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_dropout(net, 0.2f, &err), &err);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    finish(net, 5, true, 1e-2, NULL);
}

/* conv-bn-swish-maxpool-conv-bn-swish-maxpool-flatten-dropout-dense-swish-
 * dense on 1×6×6, the first `upto` layers of it. */
static void add_cnn(nnx_net *net, int upto)
{
    nnx_rt_error err;
    int k = 0;
#define ADD(call) do { if (k++ < upto) ok(call, &err); } while (0)
    ADD(nnx_net_add_conv(net, 3, 3, 1, 1, true, &err));
    ADD(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err));
    ADD(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err));
    ADD(nnx_net_add_maxpool(net, 2, 2, &err));
    ADD(nnx_net_add_conv(net, 4, 3, 1, 1, true, &err));
    ADD(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err));
    ADD(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err));
    ADD(nnx_net_add_maxpool(net, 2, 2, &err));
    ADD(nnx_net_add_flatten(net, &err));
    ADD(nnx_net_add_dropout(net, 0.3f, &err));
    ADD(nnx_net_add_dense(net, 6, true, &err));
    ADD(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err));
    ADD(nnx_net_add_dense(net, 3, true, &err));
#undef ADD
}

/* The smallest gap between the largest and second largest value of any 2×2
 * pooling window fed by the first `upto` layers of the CNN on x. */
static double pool_gap(int upto, const float *x, int n)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(1, 6, 6, &err);
    assert_non_null(net);
    add_cnn(net, upto);
    ok(nnx_net_compile(net, n, 5, &err), &err);
    const float *y = nnx_net_forward(net, x, n, true);
    assert_non_null(y);
    int c, h, w;
    nnx_net_out_shape(net, &c, &h, &w);
    double gap = INFINITY;
    for (int p = 0; p < n * c; p++)
        for (int i = 0; i + 1 < h; i += 2)
            for (int j = 0; j + 1 < w; j += 2) {
                const float *q = y + (size_t)p * h * w;
                float v[4] = {q[i * w + j], q[i * w + j + 1], q[(i + 1) * w + j],
                              q[(i + 1) * w + j + 1]};
                float a = -INFINITY, b = -INFINITY;
                for (int t = 0; t < 4; t++) {
                    if (v[t] > a) { b = a; a = v[t]; }
                    else if (v[t] > b) b = v[t];
                }
                gap = fmin(gap, a - b);
            }
    nnx_net_free(net);
    return gap;
}

static void cnn_like_the_benchmark(void **state)
{
    (void)state;
    /* Max pooling is not differentiable where a window ties, and batch norm
     * makes every weight move every window; so pick an input (by seed) whose
     * windows are all separated by far more than the step. */
    enum { N = 2 };
    float x[N * 36];
    nnx_rng rng;
    nnx_rng_seed(&rng, 11, NNX_STREAM_USER);
    int tries = 0;
    do {
        assert_true(++tries < 200);
        for (int i = 0; i < N * 36; i++)
            x[i] = (float)(2 * nnx_rng_uniform(&rng) - 1);
    } while (pool_gap(3, x, N) < 0.05 || pool_gap(7, x, N) < 0.05);
    nnx_net *net = start(1, 6, 6);
    add_cnn(net, 99);
    finish(net, N, true, 1e-2, x);
}

/* The benchmark's CNN on 2 threads, with a batch cut into several units of
 * samples (whose partial weight gradients are summed) and channels. */
static void cnn_on_two_threads(void **state)
{
    (void)state;
    enum { N = 8 };
    float x[N * 36];
    nnx_rng rng;
    nnx_rng_seed(&rng, 12, NNX_STREAM_USER);
    int tries = 0;
    do {
        assert_true(++tries < 2000);
        for (int i = 0; i < N * 36; i++)
            x[i] = (float)(2 * nnx_rng_uniform(&rng) - 1);
    } while (pool_gap(3, x, N) < 0.01 || pool_gap(7, x, N) < 0.01);
    nnx_rt_error err;
    nnx_net *net = start(1, 6, 6);
    ok(nnx_net_set_threads(net, 2, &err), &err);
    add_cnn(net, 99);
    finish(net, N, true, 1e-2, x);
}

/* --- layer norm, global pooling, residual blocks ------------------------------ */

/* Compile, then draw every parameter in [-1, 1] (layer norm starts as the
 * identity, whose gamma would hide a missing factor), then check. */
static void finish_random(nnx_net *net, int n, bool train, double eps)
{
    nnx_rt_error err;
    ok(nnx_net_compile(net, n, 5, &err), &err);
    nnx_rng rng;
    nnx_rng_seed(&rng, 7, NNX_STREAM_USER);
    float *p = nnx_net_params(net);
    for (size_t i = 0; i < nnx_net_nparams(net); i++)
        p[i] = (float)(2 * nnx_rng_uniform(&rng) - 1);
    check_net(net, n, train, eps, NULL);
    nnx_net_free(net);
}

static void layernorm_flat(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(6, 1, 1);
    ok(nnx_net_add_dense(net, 5, true, &err), &err);
    ok(nnx_net_add_layernorm(net, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish_random(net, 4, true, 1e-2);
}

static void layernorm_after_conv(void **state)
{
    (void)state;   /* a CNHW input: a sample's values are spread over planes */
    nnx_rt_error err;
    nnx_net *net = start(2, 4, 4);
    ok(nnx_net_add_conv(net, 3, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_layernorm(net, 1e-3f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    finish_random(net, 3, false, 1e-2);
}

static void layernorm_on_image_input(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 3, 3);
    ok(nnx_net_add_layernorm(net, 1e-5f, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish_random(net, 3, true, 1e-2);
}

static void global_avgpool_after_conv(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 5, 5);
    ok(nnx_net_add_conv(net, 4, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_add_global_avgpool(net, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

static void global_avgpool_on_input(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(3, 4, 2);
    ok(nnx_net_add_global_avgpool(net, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    finish(net, 2, true, 1e-2, NULL);
}

/* dense(6) → [dense(6) tanh] + skip → dense(3): the identity skip. */
static void residual_identity_flat(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(5, 1, 1);
    ok(nnx_net_add_dense(net, 6, true, &err), &err);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_dense(net, 6, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_end_residual(net, false, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    nnx_layer_info I;
    assert_int_equal(nnx_net_layer_info(net, 4, &I), 0);
    assert_int_equal(I.kind, NNX_LAYER_RESIDUAL_ADD);
    assert_int_equal(I.units, 0);
    assert_int_equal(I.nparams, 0);
    finish(net, 4, true, 1e-2, NULL);
}

/* A block on the NCHW input whose conv body is CNHW: the add maps layouts. */
static void residual_identity_on_image_input(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 4, 4);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_conv(net, 2, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish(net, 3, true, 1e-2, NULL);
}

/* The ResNet down-sampling block: conv stride 2 and more channels in the
 * body, a 1×1 conv with stride 2 on the skip; batch norm and swish inside,
 * then global pooling. */
static void residual_conv_projection(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 6, 6);
    ok(nnx_net_add_conv(net, 3, 3, 1, 1, true, &err), &err);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_conv(net, 4, 3, 2, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_conv(net, 4, 3, 1, 1, true, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_global_avgpool(net, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    nnx_layer_info I;
    assert_int_equal(nnx_net_layer_info(net, 6, &I), 0);
    assert_int_equal(I.kind, NNX_LAYER_RESIDUAL_ADD);
    assert_int_equal(I.units, 4);
    assert_int_equal(I.kernel, 1);
    assert_int_equal(I.stride, 2);
    assert_int_equal(I.nparams, 4 * 3 + 4);
    assert_int_equal(I.out_h, 3);
    finish(net, 3, true, 1e-2, NULL);
}

/* A pooling body on the NCHW input: the 1×1 conv projection's output is
 * CNHW, the body's NCHW, so the add and its backward map layouts. */
static void residual_projection_other_layout(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 6, 6);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_avgpool(net, 2, 2, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    nnx_layer_info I;
    assert_int_equal(nnx_net_layer_info(net, 3, &I), 0);
    assert_int_equal(I.kernel, 1);
    assert_int_equal(I.stride, 2);
    finish(net, 3, true, 1e-2, NULL);
}

/* An image into a flat body: the skip is a dense layer reading it flat. */
static void residual_dense_projection(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 3, 3);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    nnx_layer_info I;
    assert_int_equal(nnx_net_layer_info(net, 4, &I), 0);
    assert_int_equal(I.units, 4);
    assert_int_equal(I.kernel, 0);
    assert_int_equal(I.nparams, 4 * 18 + 4);
    finish(net, 3, true, 1e-2, NULL);
}

/* Flat to wider flat (a dense projection on a flat input), and one block
 * nested in another. */
static void residual_nested_flat_projection(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(4, 1, 1);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_dense(net, 6, true, &err), &err);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_add_dense(net, 6, true, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_add_layernorm(net, 1e-5f, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish_random(net, 4, true, 1e-2);
}

/* The ResNet block on 2 threads (units of samples and channels summed). */
static void residual_on_two_threads(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(2, 6, 6);
    ok(nnx_net_set_threads(net, 2, &err), &err);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_conv(net, 4, 3, 2, 1, true, &err), &err);
    ok(nnx_net_add_layernorm(net, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_add_global_avgpool(net, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    finish_random(net, 9, true, 1e-2);
}

/* Mistakes: an end without a begin, an empty block, a shape change with
 * projection off or with no projection that fits, a block never ended. */
static void residual_mistakes(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = start(3, 5, 5);
    assert_int_equal(nnx_net_end_residual(net, true, &err), -1);
    assert_non_null(strstr(err.msg, "no residual block is open"));
    ok(nnx_net_begin_residual(net, &err), &err);
    assert_int_equal(nnx_net_end_residual(net, true, &err), -1);
    assert_non_null(strstr(err.msg, "no layers"));
    ok(nnx_net_add_conv(net, 4, 3, 1, 1, true, &err), &err);
    assert_int_equal(nnx_net_end_residual(net, false, &err), -1);
    assert_non_null(strstr(err.msg, "3×5×5 into 4×5×5, and projection is off"));
    assert_int_equal(nnx_net_nlayers(net), 2);
    ok(nnx_net_add_conv(net, 4, 2, 1, 0, true, &err), &err);      /* 5×5 -> 4×4 */
    assert_int_equal(nnx_net_end_residual(net, true, &err), -1);
    assert_non_null(strstr(err.msg, "no 1×1 convolution or dense projection"));
    assert_int_equal(nnx_net_compile(net, 2, 1, &err), -1);
    assert_non_null(strstr(err.msg, "layer 1 (residual): the block is never ended"));
    nnx_net_free(net);

    int s;
    assert_int_equal(nnx_residual_projection(8, 28, 28, 8, 28, 28, &s), NNX_PROJ_IDENTITY);
    assert_int_equal(nnx_residual_projection(8, 28, 28, 16, 14, 14, &s), NNX_PROJ_CONV);
    assert_int_equal(s, 2);
    assert_int_equal(nnx_residual_projection(8, 7, 7, 16, 4, 4, &s), NNX_PROJ_CONV);
    assert_int_equal(s, 2);
    assert_int_equal(nnx_residual_projection(8, 7, 7, 16, 1, 1, &s), NNX_PROJ_DENSE);
    assert_int_equal(nnx_residual_projection(8, 1, 1, 16, 1, 1, &s), NNX_PROJ_DENSE);
    assert_int_equal(nnx_residual_projection(8, 5, 5, 8, 4, 4, &s), NNX_PROJ_IMPOSSIBLE);
}

/* --- losses ------------------------------------------------------------------ */

typedef int (*loss_fn)(const float *out, int n, int k, float *loss, float *dout);

static const int32_t labels4[] = {2, 0, 1, 2}, bits4[] = {1, 0, 0, 1};
static const float targets[] = {0.5f, -1.0f, 2.0f, 0.0f, 0.3f, 1.5f, -0.7f, 0.2f,
                                1.0f, 1.0f, -2.0f, 0.1f};

static int ce0(const float *o, int n, int k, float *l, float *d)
{ return nnx_loss_cross_entropy(o, labels4, n, k, 0.0f, l, d, NULL); }
static int ce_smooth(const float *o, int n, int k, float *l, float *d)
{ return nnx_loss_cross_entropy(o, labels4, n, k, 0.1f, l, d, NULL); }
static int bce(const float *o, int n, int k, float *l, float *d)
{ (void)k; return nnx_loss_binary_cross_entropy(o, bits4, n, l, d, NULL); }
static int mse(const float *o, int n, int k, float *l, float *d)
{ return nnx_loss_mse(o, targets, n, k, l, d, NULL); }

static void loss_case(loss_fn f, int n, int k)
{
    float z[12], d[12];
    double num[12];
    nnx_rng rng;
    nnx_rng_seed(&rng, 3, NNX_STREAM_USER);
    for (int i = 0; i < n * k; i++)
        z[i] = (float)(4 * nnx_rng_uniform(&rng) - 2);
    float l;
    assert_int_equal(f(z, n, k, &l, d), 0);
    for (int i = 0; i < n * k; i++) {
        const float eps = 1e-2f;
        float keep = z[i], lp, lm;
        z[i] = keep + eps;
        f(z, n, k, &lp, NULL);
        z[i] = keep - eps;
        f(z, n, k, &lm, NULL);
        z[i] = keep;
        num[i] = ((double)lp - lm) / (2.0 * eps);
    }
    /* the loss is a mean, so its gradients are small: compare at scale 1/n */
    for (int i = 0; i < n * k; i++) {
        d[i] *= (float)n;
        num[i] *= n;
    }
    compare("loss", d, num, (size_t)(n * k));
}

static void loss_cross_entropy(void **s)        { (void)s; loss_case(ce0, 4, 3); }
static void loss_cross_entropy_smooth(void **s) { (void)s; loss_case(ce_smooth, 4, 3); }
static void loss_binary_cross_entropy(void **s) { (void)s; loss_case(bce, 4, 1); }
static void loss_mse(void **s)                  { (void)s; loss_case(mse, 4, 3); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dense_with_bias),
        cmocka_unit_test(dense_without_bias),
        cmocka_unit_test(dense_reads_an_image_flat),
        cmocka_unit_test(act_relu),
        cmocka_unit_test(act_leaky_relu),
        cmocka_unit_test(act_elu),
        cmocka_unit_test(act_elu_alpha),
        cmocka_unit_test(act_gelu),
        cmocka_unit_test(act_tanh),
        cmocka_unit_test(act_sigmoid),
        cmocka_unit_test(act_swish),
        cmocka_unit_test(act_swish_beta),
        cmocka_unit_test(act_every_row),
        cmocka_unit_test(batchnorm_dense_train),
        cmocka_unit_test(batchnorm_dense_eval),
        cmocka_unit_test(batchnorm_flat_first_many_rows),
        cmocka_unit_test(batchnorm_flat_first_without_dinput),
        cmocka_unit_test(batchnorm_conv_train),
        cmocka_unit_test(batchnorm_conv_eval),
        cmocka_unit_test(batchnorm_on_image_input),
        cmocka_unit_test(batchnorm_unfused_train),
        cmocka_unit_test(batchnorm_conv_unfused_train),
        cmocka_unit_test(batchnorm_fused_eval),
        cmocka_unit_test(wgrad_fused_swish_maxpool),
        cmocka_unit_test(wgrad_fused_plain),
        cmocka_unit_test(wgrad_fused_overlapping_pool),
        cmocka_unit_test(wgrad_fused_27_taps),
        cmocka_unit_test(batchnorm_tanh_maxpool),
        cmocka_unit_test(batchnorm_gelu_avgpool),
        cmocka_unit_test(dropout_fixed_mask),
        cmocka_unit_test(dropout_eval),
        cmocka_unit_test(conv_3x3_pad1),
        cmocka_unit_test(conv_3x3_stride2),
        cmocka_unit_test(conv_2x2_stride2_pad),
        cmocka_unit_test(conv_5x5_stride3_pad2),
        cmocka_unit_test(conv_winograd_stack),
        cmocka_unit_test(conv_stack_pointwise),
        cmocka_unit_test(maxpool_2),
        cmocka_unit_test(maxpool_3_overlapping),
        cmocka_unit_test(maxpool_on_input),
        cmocka_unit_test(avgpool_2),
        cmocka_unit_test(avgpool_3_stride1),
        cmocka_unit_test(flatten_then_dense),
        cmocka_unit_test(layernorm_flat),
        cmocka_unit_test(layernorm_after_conv),
        cmocka_unit_test(layernorm_on_image_input),
        cmocka_unit_test(global_avgpool_after_conv),
        cmocka_unit_test(global_avgpool_on_input),
        cmocka_unit_test(residual_identity_flat),
        cmocka_unit_test(residual_identity_on_image_input),
        cmocka_unit_test(residual_conv_projection),
        cmocka_unit_test(residual_projection_other_layout),
        cmocka_unit_test(residual_dense_projection),
        cmocka_unit_test(residual_nested_flat_projection),
        cmocka_unit_test(residual_on_two_threads),
        cmocka_unit_test(residual_mistakes),
        cmocka_unit_test(conv_output_is_sample_major),
        cmocka_unit_test(mlp_like_the_benchmark),
        cmocka_unit_test(cnn_like_the_benchmark),
        cmocka_unit_test(cnn_on_two_threads),
        cmocka_unit_test(loss_cross_entropy),
        cmocka_unit_test(loss_cross_entropy_smooth),
        cmocka_unit_test(loss_binary_cross_entropy),
        cmocka_unit_test(loss_mse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
