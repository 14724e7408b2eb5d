/* test_net.c — building networks (shapes, errors), hand-computed forward
 * values, batch norm and dropout modes, initialisation, determinism and
 * snapshots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/loss.h"
#include "nnx/rt/net.h"
#include "nnx/rt/optim.h"

static void ok(int rc, const nnx_rt_error *err)
{
    if (rc)
        fail_msg("%s", err->msg);
}

static void fails_with(int rc, const nnx_rt_error *err, const char *needle)
{
    assert_int_equal(rc, -1);
    if (!strstr(err->msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err->msg, needle);
}

/* --- shapes and errors ------------------------------------------------------ */

static void cnn_shapes_and_parameter_count(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(1, 28, 28, &err);
    assert_non_null(net);
    ok(nnx_net_add_conv(net, 32, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    ok(nnx_net_add_conv(net, 64, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    int c, h, w;
    nnx_net_out_shape(net, &c, &h, &w);
    assert_int_equal(c, 64);
    assert_int_equal(h, 7);
    assert_int_equal(w, 7);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dense(net, 10, true, &err), &err);
    assert_int_equal(nnx_net_out_size(net), 10);
    assert_int_equal(nnx_net_in_size(net), 784);
    assert_int_equal(nnx_net_nlayers(net), 8);
    size_t expect = (32 * 9 + 32) + 2 * 32 + (64 * 32 * 9 + 64) + (3136 * 10 + 10);
    assert_int_equal(nnx_net_nparams(net), expect);
    assert_int_equal(nnx_net_nstate(net), 2 * 32);

    nnx_layer_info li;
    assert_int_equal(nnx_net_layer_info(net, 4, &li), 0);
    assert_string_equal(li.name, "conv");
    assert_int_equal(li.in_c, 32);
    assert_int_equal(li.in_h, 14);
    assert_int_equal(li.param_off, 32 * 9 + 32 + 64);
    assert_int_equal(li.nparams, 64 * 32 * 9 + 64);
    assert_int_equal(nnx_net_layer_info(net, 8, &li), -1);
    assert_int_equal(nnx_net_layer_info(net, 2, &li), 0);
    assert_string_equal(li.name, "swish");
    nnx_net_free(net);
}

static void conv_output_sizes(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(3, 32, 30, &err);
    ok(nnx_net_add_conv(net, 8, 5, 2, 1, false, &err), &err);   /* (32+2-5)/2+1 = 15 */
    int c, h, w;
    nnx_net_out_shape(net, &c, &h, &w);
    assert_int_equal(h, 15);
    assert_int_equal(w, 14);                                     /* (30+2-5)/2+1 = 14 */
    ok(nnx_net_add_maxpool(net, 3, 2, &err), &err);             /* (15-3)/2+1 = 7, (14-3)/2+1 = 6 */
    nnx_net_out_shape(net, &c, &h, &w);
    assert_int_equal(h, 7);
    assert_int_equal(w, 6);
    ok(nnx_net_add_avgpool(net, 2, 2, &err), &err);
    nnx_net_out_shape(net, &c, &h, &w);
    assert_int_equal(c, 8);
    assert_int_equal(h, 3);
    assert_int_equal(w, 3);
    nnx_net_free(net);
}

static void impossible_shapes_are_errors(void **state)
{
    (void)state;
    nnx_rt_error err;
    assert_null(nnx_net_new(0, 28, 28, &err));
    assert_non_null(strstr(err.msg, "0×28×28"));
    assert_null(nnx_net_new(1, -3, 28, &err));
    assert_null(nnx_net_new(1 << 20, 1 << 20, 1, &err));

    nnx_net *net = nnx_net_new(1, 4, 4, &err);
    fails_with(nnx_net_add_maxpool(net, 5, 5, &err), &err, "larger than its input 4×4");
    fails_with(nnx_net_add_avgpool(net, 0, 1, &err), &err, "size must be at least 1");
    fails_with(nnx_net_add_maxpool(net, 2, 0, &err), &err, "stride");
    fails_with(nnx_net_add_conv(net, 2, 5, 1, 0, true, &err), &err, "kernel 5 is larger");
    fails_with(nnx_net_add_conv(net, 0, 3, 1, 0, true, &err), &err, "filters");
    fails_with(nnx_net_add_conv(net, 2, 3, 1, -1, true, &err), &err, "pad");
    fails_with(nnx_net_add_dense(net, 0, true, &err), &err, "units");
    fails_with(nnx_net_add_dropout(net, 1.0f, &err), &err, "[0, 1)");
    fails_with(nnx_net_add_dropout(net, NAN, &err), &err, "dropout");
    fails_with(nnx_net_add_batchnorm(net, 1.5f, 1e-5f, &err), &err, "momentum");
    fails_with(nnx_net_add_batchnorm(net, 0.1f, 0.0f, &err), &err, "eps");
    fails_with(nnx_net_add_act(net, (enum nnx_act)42, 0, &err), &err, "unknown activation");
    fails_with(nnx_net_add_act(net, NNX_ACT_ELU, -1.0f, &err), &err, "alpha");
    fails_with(nnx_net_add_act(net, NNX_ACT_SWISH, INFINITY, &err), &err, "not finite");
    /* nothing was added by the failures; a valid conv still fits */
    assert_int_equal(nnx_net_nlayers(net), 0);
    fails_with(nnx_net_compile(net, 8, 1, &err), &err, "no layers");
    ok(nnx_net_add_conv(net, 2, 3, 1, 0, true, &err), &err);   /* -> 2×2 */
    fails_with(nnx_net_add_maxpool(net, 3, 1, &err), &err, "layer 2 (maxpool)");
    fails_with(nnx_net_compile(net, 0, 1, &err), &err, "max batch");
    ok(nnx_net_compile(net, 8, 1, &err), &err);
    fails_with(nnx_net_add_dense(net, 3, true, &err), &err, "already compiled");
    fails_with(nnx_net_compile(net, 8, 1, &err), &err, "already compiled");
    fails_with(nnx_net_want_dinput(net, true, &err), &err, "before compiling");

    float x[16 * 9] = {0};
    assert_null(nnx_net_forward(net, x, 9, true));    /* more than max_batch */
    assert_null(nnx_net_forward(net, x, 0, true));
    assert_null(nnx_net_forward(net, NULL, 1, true));
    assert_int_equal(nnx_net_backward(net, x), -1);   /* no forward yet */
    nnx_net_free(net);

    /* batch-wide matrices must fit the BLAS's int dimensions */
    nnx_net *big = nnx_net_new(1, 64, 64, &err);
    ok(nnx_net_add_act(big, NNX_ACT_RELU, 0, &err), &err);
    fails_with(nnx_net_compile(big, 1 << 20, 1, &err), &err, "too large");
    nnx_net_free(big);

    nnx_net *empty = nnx_net_new(2, 1, 1, &err);
    assert_null(nnx_net_forward(empty, x, 1, true));  /* not compiled */
    nnx_net_free(empty);
    nnx_net_free(NULL);
}

/* --- known values -------------------------------------------------------------- */

static void dense_known_values(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(2, 1, 1, &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 2, 1, &err), &err);
    const float p[] = {1, 2, 3, 4, 5, 6, 0.5f, -1, 0};   /* W[3][2], b[3] */
    memcpy(nnx_net_params(net), p, sizeof p);
    const float x[] = {1, -1, 2, 0.5f};
    const float *y = nnx_net_forward(net, x, 2, false);
    const float want[] = {-0.5f, -2, -1, 3.5f, 7, 13};
    for (int i = 0; i < 6; i++)
        assert_float_equal(y[i], want[i], 1e-6);
    /* backward with dy = 1: dW[j] = Σ x, db = n, known by hand */
    const float dy[] = {1, 1, 1, 1, 1, 1};
    assert_int_equal(nnx_net_backward(net, dy), 0);
    const float *g = nnx_net_grads(net);
    const float gwant[] = {3, -0.5f, 3, -0.5f, 3, -0.5f, 2, 2, 2};
    for (int i = 0; i < 9; i++)
        assert_float_equal(g[i], gwant[i], 1e-6);
    nnx_net_free(net);
}

/* Nets a and b (the same parameters) on the same n rows: the same training
 * output, and after the same output gradient the same parameter and input
 * gradients, to the bit.  Frees both. */
static void same_bits_then_free(nnx_net *a, nnx_net *b, const float *x, int n, const float *dy)
{
    const size_t np = nnx_net_nparams(a), out = (size_t)n * (size_t)nnx_net_out_size(a);
    assert_int_equal(np, nnx_net_nparams(b));
    assert_memory_equal(nnx_net_params(a), nnx_net_params(b), np * sizeof(float));
    const float *ya = nnx_net_forward(a, x, n, true), *yb = nnx_net_forward(b, x, n, true);
    assert_non_null(ya);
    assert_non_null(yb);
    assert_memory_equal(ya, yb, out * sizeof(float));
    assert_int_equal(nnx_net_backward(a, dy), 0);
    assert_int_equal(nnx_net_backward(b, dy), 0);
    assert_memory_equal(nnx_net_grads(a), nnx_net_grads(b), np * sizeof(float));
    assert_memory_equal(nnx_net_dinput(a), nnx_net_dinput(b),
                        (size_t)n * (size_t)nnx_net_in_size(a) * sizeof(float));
    nnx_net_free(a);
    nnx_net_free(b);
}

/* A pool right before a flatten writes its output sample-major, so that
 * the flatten is a view (net.c, pool.c): the same net with a dropout(0)
 * between them (the identity, which keeps the pool's channel-major output
 * and the flatten's transpose) gives the same bits forward and backward,
 * for each kind of pool, run by itself or inside a batch norm's pass. */
enum pool_case { MAX2, MAX3_OVERLAP, AVG2, BN_MAX2, BN_AVG3 };

static nnx_net *pool_flatten_net(enum pool_case pc, bool gap, int threads)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(2, 7, 7, &err);
    assert_non_null(net);
    ok(nnx_net_set_threads(net, threads, &err), &err);
    ok(nnx_net_add_conv(net, 5, 3, 1, 1, true, &err), &err);
    if (pc == BN_MAX2 || pc == BN_AVG3) {
        ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    }
    if (pc == MAX2 || pc == BN_MAX2)
        ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    else if (pc == MAX3_OVERLAP)
        ok(nnx_net_add_maxpool(net, 3, 2, &err), &err);
    else if (pc == AVG2)
        ok(nnx_net_add_avgpool(net, 2, 2, &err), &err);
    else
        ok(nnx_net_add_avgpool(net, 3, 1, &err), &err);
    if (gap)
        ok(nnx_net_add_dropout(net, 0.0f, &err), &err);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    ok(nnx_net_want_dinput(net, true, &err), &err);
    ok(nnx_net_compile(net, 6, 11, &err), &err);
    return net;
}

static void pool_before_flatten_writes_sample_major(void **state)
{
    (void)state;
    enum { N = 6, IN = 2 * 7 * 7 };
    float x[N * IN], dy[N * 4];
    for (int i = 0; i < N * IN; i++)
        x[i] = sinf(0.37f * (float)i) + 0.1f * (float)(i % 5);
    for (int i = 0; i < N * 4; i++)
        dy[i] = cosf(0.21f * (float)i);
    for (int pc = MAX2; pc <= BN_AVG3; pc++)
        for (int threads = 1; threads <= 2; threads++) {
            nnx_net *a = pool_flatten_net((enum pool_case)pc, false, threads);
            nnx_net *b = pool_flatten_net((enum pool_case)pc, true, threads);
            const float *ya = nnx_net_forward(a, x, N, false);     /* evaluation */
            const float *yb = nnx_net_forward(b, x, N, false);
            assert_non_null(ya);
            assert_non_null(yb);
            assert_memory_equal(ya, yb, sizeof dy);
            same_bits_then_free(a, b, x, N, dy);
        }
}

/* Swish keeps σ for backward while a batch's worth fits in cache (1 MB,
 * act.c) and computes it again otherwise: a net compiled for batches of
 * 128 keeps it (128 × 2048 floats), the same net for 256 does not, and the
 * two give the same bits on the same rows; likewise after a convolution,
 * batch norm and a pool (16 × 16×32×32 floats against 32 ×). */
static nnx_net *swish_net(bool conv, int max_batch)
{
    nnx_rt_error err;
    nnx_net *net = conv ? nnx_net_new(1, 32, 32, &err) : nnx_net_new(6, 1, 1, &err);
    assert_non_null(net);
    if (conv) {
        ok(nnx_net_add_conv(net, 16, 3, 1, 1, true, &err), &err);
        ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
        ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
        ok(nnx_net_add_flatten(net, &err), &err);
    } else {
        ok(nnx_net_add_dense(net, 2048, true, &err), &err);
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
        ok(nnx_net_add_dense(net, 64, true, &err), &err);
        ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    }
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_want_dinput(net, true, &err), &err);
    ok(nnx_net_compile(net, max_batch, 3, &err), &err);
    return net;
}

static void swish_keeps_sigma_while_it_fits(void **state)
{
    (void)state;
    enum { N = 5 };
    for (int conv = 0; conv <= 1; conv++) {
        nnx_net *keep = swish_net(conv, conv ? 16 : 128);
        nnx_net *again = swish_net(conv, conv ? 32 : 256);
        const size_t in = (size_t)nnx_net_in_size(keep);
        float *x = malloc(N * in * sizeof *x);
        assert_non_null(x);
        for (size_t i = 0; i < N * in; i++)
            x[i] = 2.0f * sinf(0.13f * (float)i);
        float dy[N * 3];
        for (int i = 0; i < N * 3; i++)
            dy[i] = cosf((float)i);
        same_bits_then_free(keep, again, x, N, dy);
        free(x);
    }
}

/* Batch norm + activation + a 2×2 max pool, fused: backward takes the
 * activation's derivative at the pool's winners only (norm.c).  The same
 * net with a dropout(0) between activation and pool (which leaves the pool
 * its own backward and the activation its whole-plane one) gives the same
 * gradients: for an activation that keeps σ (swish, batches of 8 of
 * 8×16×16), one that computes it again (swish, batches of 256: 2 MB), and ones
 * whose backward reads their output (tanh) or input only (gelu). */
static nnx_net *winners_net(enum nnx_act act, int max_batch, bool gap)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(1, 16, 16, &err);
    assert_non_null(net);
    ok(nnx_net_set_threads(net, 2, &err), &err);
    ok(nnx_net_add_conv(net, 8, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, act, 1.0f, &err), &err);
    if (gap)
        ok(nnx_net_add_dropout(net, 0.0f, &err), &err);
    ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_want_dinput(net, true, &err), &err);
    ok(nnx_net_compile(net, max_batch, 4, &err), &err);
    return net;
}

static void pool_gradient_taken_at_winners(void **state)
{
    (void)state;
    enum { N = 6, IN = 16 * 16 };
    static const struct { enum nnx_act act; int max_batch; } cases[] = {
        {NNX_ACT_SWISH, 8}, {NNX_ACT_SWISH, 256}, {NNX_ACT_TANH, 8}, {NNX_ACT_GELU, 8},
    };
    float x[N * IN], dy[N * 3];
    for (int i = 0; i < N * IN; i++)
        x[i] = sinf(0.71f * (float)i) + 0.3f * cosf(0.05f * (float)i);
    for (int i = 0; i < N * 3; i++)
        dy[i] = 0.5f - (float)(i % 4);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        same_bits_then_free(winners_net(cases[c].act, cases[c].max_batch, false),
                            winners_net(cases[c].act, cases[c].max_batch, true), x, N, dy);
    }
}

static void conv_known_values(void **state)
{
    (void)state;
    nnx_rt_error err;
    const float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};   /* one 3×3 image */
    nnx_net *net = nnx_net_new(1, 3, 3, &err);
    ok(nnx_net_add_conv(net, 2, 2, 1, 0, true, &err), &err);
    ok(nnx_net_compile(net, 1, 1, &err), &err);
    const float p[] = {1, 1, 1, 1,   1, 0, 0, -1,   0, 10};   /* ones; diagonal difference; bias */
    memcpy(nnx_net_params(net), p, sizeof p);
    const float *y = nnx_net_forward(net, x, 1, false);
    const float want[] = {12, 16, 24, 28,   -4 + 10, -4 + 10, -4 + 10, -4 + 10};
    for (int i = 0; i < 8; i++)
        assert_float_equal(y[i], want[i], 1e-6);
    nnx_net_free(net);

    /* stride 2, pad 1: windows over the zero-padded image */
    net = nnx_net_new(1, 3, 3, &err);
    ok(nnx_net_add_conv(net, 1, 2, 2, 1, false, &err), &err);
    ok(nnx_net_compile(net, 1, 1, &err), &err);
    for (int i = 0; i < 4; i++)
        nnx_net_params(net)[i] = 1;
    y = nnx_net_forward(net, x, 1, false);
    const float want2[] = {1, 2 + 3, 4 + 7, 5 + 6 + 8 + 9};
    for (int i = 0; i < 4; i++)
        assert_float_equal(y[i], want2[i], 1e-6);
    nnx_net_free(net);
}

/* A direct convolution in double, for comparing the im2col and Winograd paths against: y,
 * and for upstream gradient dy, dW, db and dx (all per the NCHW layout). */
typedef struct conv_case {
    int n, c, h, w, f, k, stride, pad;
} conv_case;

static void conv_reference(const conv_case *cc, const float *x, const float *wt, const float *b,
                           const float *dy, double *y, double *dw, double *db, double *dx)
{
    int oh = (cc->h + 2 * cc->pad - cc->k) / cc->stride + 1;
    int ow = (cc->w + 2 * cc->pad - cc->k) / cc->stride + 1;
    size_t nw = (size_t)cc->f * cc->c * cc->k * cc->k;
    memset(dw, 0, nw * sizeof *dw);
    memset(db, 0, (size_t)cc->f * sizeof *db);
    memset(dx, 0, (size_t)cc->n * cc->c * cc->h * cc->w * sizeof *dx);
    for (int s = 0; s < cc->n; s++)
        for (int f = 0; f < cc->f; f++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    size_t at = (((size_t)s * cc->f + f) * oh + i) * ow + j;
                    double acc = b[f], g = dy[at];
                    db[f] += g;
                    for (int c = 0; c < cc->c; c++)
                        for (int a = 0; a < cc->k; a++)
                            for (int e = 0; e < cc->k; e++) {
                                int ih = i * cc->stride - cc->pad + a;
                                int iw = j * cc->stride - cc->pad + e;
                                if (ih < 0 || ih >= cc->h || iw < 0 || iw >= cc->w)
                                    continue;
                                size_t xi = (((size_t)s * cc->c + c) * cc->h + ih) * cc->w + iw;
                                size_t wi = (((size_t)f * cc->c + c) * cc->k + a) * cc->k + e;
                                acc += (double)wt[wi] * x[xi];
                                dw[wi] += g * x[xi];
                                dx[xi] += g * wt[wi];
                            }
                    y[at] = acc;
                }
}

static void close_to(const char *what, const float *got, const double *want, size_t m)
{
    double scale = 0;
    for (size_t i = 0; i < m; i++)
        scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < m; i++)
        if (fabs(got[i] - want[i]) > 1e-5 * scale + 1e-6)
            fail_msg("%s[%zu] = %.7g, direct convolution gives %.7g", what, i,
                     (double)got[i], want[i]);
}

/* Big planes make the runtime split the batch into chunks of one sample;
 * every chunking must agree with the direct convolution. */
static void conv_matches_direct_convolution_in_chunks(void **state)
{
    (void)state;
    const conv_case cases[] = {
        {3, 16, 32, 32, 3, 3, 1, 1},   /* 16·9·32·32·4 bytes a sample: one per chunk */
        {5, 8, 40, 36, 2, 5, 2, 2},
        {4, 2, 9, 9, 3, 3, 2, 0},      /* small: the whole batch in one chunk */
        /* "same" convolutions (stride 1, k = 2·pad + 1), which shift whole
         * planes: not square, thinner than the kernel, a 1-pixel plane */
        {6, 3, 7, 11, 4, 3, 1, 1},
        {9, 2, 3, 8, 3, 5, 1, 2},
        {5, 2, 2, 1, 2, 5, 1, 2},
        {4, 1, 1, 1, 2, 3, 1, 1},
        {40, 32, 14, 14, 8, 3, 1, 1},  /* several units of samples */
        /* Winograd F(2×2, 3×3) (3×3, stride 1, pad 1, >= 8 channels each
         * way; conv.c): odd sides leave half tiles, a 1-pixel plane, input
         * and filter counts apart, dx through the turned filters */
        {5, 8, 7, 9, 12, 3, 1, 1},
        {3, 16, 1, 1, 8, 3, 1, 1},
        {2, 9, 2, 3, 8, 3, 1, 1},
        {7, 12, 28, 28, 10, 3, 1, 1},
        {3, 8, 9, 14, 9, 3, 1, 1},     /* rows read on past their end, an odd height */
        {3, 8, 5, 33, 8, 3, 1, 1},     /* three blocks of 8 tiles a row, the last part empty */
        /* direct (stride 1, in channels × k × k <= 27; conv_direct.c): the
         * bench CNN's first layer, 25 taps (two groups of 9 and one of 7),
         * an even kernel without padding and filter counts that leave the
         * kernels' groups of 4 and 2 part empty */
        {20, 1, 28, 28, 32, 3, 1, 1},
        {6, 1, 9, 7, 5, 5, 1, 2},
        {3, 3, 10, 12, 7, 2, 1, 0},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const conv_case *cc = &cases[t];
        nnx_rt_error err;
        nnx_net *net = nnx_net_new(cc->c, cc->h, cc->w, &err);
        ok(nnx_net_add_conv(net, cc->f, cc->k, cc->stride, cc->pad, true, &err), &err);
        ok(nnx_net_want_dinput(net, true, &err), &err);
        ok(nnx_net_compile(net, cc->n, 9, &err), &err);
        size_t in = (size_t)cc->n * nnx_net_in_size(net), out = (size_t)cc->n * nnx_net_out_size(net);
        size_t nw = (size_t)cc->f * cc->c * cc->k * cc->k;
        float *x = malloc(in * sizeof *x), *dy = malloc(out * sizeof *dy);
        double *y = malloc(out * sizeof *y), *dw = malloc(nw * sizeof *dw);
        double *db = malloc((size_t)cc->f * sizeof *db), *dx = malloc(in * sizeof *dx);
        assert_true(x && dy && y && dw && db && dx);
        for (size_t i = 0; i < in; i++)
            x[i] = sinf(0.37f * (float)i);
        for (size_t i = 0; i < out; i++)
            dy[i] = cosf(0.11f * (float)i);
        float *p = nnx_net_params(net);
        for (size_t i = nw; i < nw + (size_t)cc->f; i++)
            p[i] = 0.1f * (float)(i - nw);            /* biases too */
        conv_reference(cc, x, p, p + nw, dy, y, dw, db, dx);
        close_to("y", nnx_net_forward(net, x, cc->n, true), y, out);
        assert_int_equal(nnx_net_backward(net, dy), 0);
        close_to("dW", nnx_net_grads(net), dw, nw);
        close_to("db", nnx_net_grads(net) + nw, db, (size_t)cc->f);
        close_to("dx", nnx_net_dinput(net), dx, in);
        free(x); free(dy); free(y); free(dw); free(db); free(dx);
        nnx_net_free(net);
    }
}

/* Large dense layers are cut into units of columns (on any thread count):
 * the products against a direct double-precision sum, on a CNHW input (after
 * a convolution) and a flat one, with the input gradient. */
static void dense_matches_direct_product_in_units(void **state)
{
    (void)state;
    const int cases[][4] = {     /* n, c, hw (a 1×1 conv first when hw > 1), units */
        {70, 1000, 1, 300},
        {33, 16, 64, 200},
        {128, 3136, 1, 128},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int n = cases[t][0], c = cases[t][1], hw = cases[t][2], u = cases[t][3];
        nnx_rt_error err;
        nnx_net *net = nnx_net_new(c, hw == 1 ? 1 : 8, hw == 1 ? 1 : hw / 8, &err);
        assert_non_null(net);
        if (hw > 1)
            ok(nnx_net_add_conv(net, c, 1, 1, 0, false, &err), &err);   /* CNHW out */
        ok(nnx_net_add_dense(net, u, true, &err), &err);
        ok(nnx_net_want_dinput(net, true, &err), &err);
        ok(nnx_net_compile(net, n, 9, &err), &err);
        const int in = c * hw, first = hw > 1 ? 1 : 0;
        nnx_layer_info li;
        assert_int_equal(nnx_net_layer_info(net, first, &li), 0);
        float *p = nnx_net_params(net);
        if (hw > 1) {                                    /* the 1×1 conv: identity */
            memset(p, 0, (size_t)c * c * sizeof *p);
            for (int i = 0; i < c; i++)
                p[(size_t)i * c + i] = 1;
        }
        float *w = p + li.param_off, *b = w + (size_t)u * in;
        for (int i = 0; i < u; i++)
            b[i] = 0.01f * (float)i;
        float *x = malloc((size_t)n * in * sizeof *x), *dy = malloc((size_t)n * u * sizeof *dy);
        double *y = malloc((size_t)n * u * sizeof *y), *dw = malloc((size_t)u * in * sizeof *dw);
        double *dx = malloc((size_t)n * in * sizeof *dx);
        assert_true(x && dy && y && dw && dx);
        for (size_t i = 0; i < (size_t)n * in; i++)
            x[i] = sinf(0.37f * (float)i);
        for (size_t i = 0; i < (size_t)n * u; i++)
            dy[i] = cosf(0.11f * (float)i);
        for (int r = 0; r < n; r++)
            for (int j = 0; j < u; j++) {
                double sum = b[j];
                for (int k = 0; k < in; k++)
                    sum += (double)x[(size_t)r * in + k] * w[(size_t)j * in + k];
                y[(size_t)r * u + j] = sum;
            }
        for (int j = 0; j < u; j++)
            for (int k = 0; k < in; k++) {
                double sum = 0;
                for (int r = 0; r < n; r++)
                    sum += (double)dy[(size_t)r * u + j] * x[(size_t)r * in + k];
                dw[(size_t)j * in + k] = sum;
            }
        for (int r = 0; r < n; r++)
            for (int k = 0; k < in; k++) {
                double sum = 0;
                for (int j = 0; j < u; j++)
                    sum += (double)dy[(size_t)r * u + j] * w[(size_t)j * in + k];
                dx[(size_t)r * in + k] = sum;
            }
        close_to("y", nnx_net_forward(net, x, n, true), y, (size_t)n * u);
        assert_int_equal(nnx_net_backward(net, dy), 0);
        close_to("dW", nnx_net_grads(net) + li.param_off, dw, (size_t)u * in);
        close_to("dx", nnx_net_dinput(net), dx, (size_t)n * in);
        free(x); free(dy); free(y); free(dw); free(dx);
        nnx_net_free(net);
    }
}

static void pools_known_values(void **state)
{
    (void)state;
    nnx_rt_error err;
    float x[32];
    for (int i = 0; i < 16; i++) {
        x[i] = (float)i;                 /* sample 0: 0..15 */
        x[16 + i] = (float)(15 - i);     /* sample 1: reversed */
    }
    nnx_net *net = nnx_net_new(1, 4, 4, &err);
    ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    ok(nnx_net_compile(net, 2, 1, &err), &err);
    const float *y = nnx_net_forward(net, x, 2, false);
    const float mx[] = {5, 7, 13, 15, 15, 13, 7, 5};
    for (int i = 0; i < 8; i++)
        assert_float_equal(y[i], mx[i], 0);
    nnx_net_free(net);

    net = nnx_net_new(1, 4, 4, &err);
    ok(nnx_net_add_avgpool(net, 2, 2, &err), &err);
    ok(nnx_net_compile(net, 2, 1, &err), &err);
    y = nnx_net_forward(net, x, 2, false);
    const float av[] = {2.5f, 4.5f, 10.5f, 12.5f, 12.5f, 10.5f, 4.5f, 2.5f};
    for (int i = 0; i < 8; i++)
        assert_float_equal(y[i], av[i], 1e-6);
    nnx_net_free(net);

    net = nnx_net_new(1, 4, 4, &err);
    ok(nnx_net_add_maxpool(net, 3, 1, &err), &err);
    ok(nnx_net_compile(net, 1, 1, &err), &err);
    y = nnx_net_forward(net, x, 1, false);
    const float mx3[] = {10, 11, 14, 15};
    for (int i = 0; i < 4; i++)
        assert_float_equal(y[i], mx3[i], 0);
    nnx_net_free(net);
}

static void activations_known_values(void **state)
{
    (void)state;
    const float x[] = {-2, -0.5f, 0, 0.5f, 2, 30, -30};
    struct { enum nnx_act act; float a; double (*f)(double x, double a); } cases[] = {
        {NNX_ACT_RELU, 0, NULL}, {NNX_ACT_LEAKY_RELU, 0.1f, NULL}, {NNX_ACT_ELU, 1, NULL},
        {NNX_ACT_GELU, 0, NULL}, {NNX_ACT_TANH, 0, NULL}, {NNX_ACT_SIGMOID, 0, NULL},
        {NNX_ACT_SWISH, 1.5f, NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nnx_rt_error err;
        nnx_net *net = nnx_net_new(7, 1, 1, &err);
        ok(nnx_net_add_act(net, cases[c].act, cases[c].a, &err), &err);
        ok(nnx_net_compile(net, 1, 1, &err), &err);
        const float *y = nnx_net_forward(net, x, 1, true);
        for (int i = 0; i < 7; i++) {
            double v = x[i], a = cases[c].a, want = 0;
            switch (cases[c].act) {
            case NNX_ACT_RELU:       want = v > 0 ? v : 0; break;
            case NNX_ACT_LEAKY_RELU: want = v > 0 ? v : a * v; break;
            case NNX_ACT_ELU:        want = v > 0 ? v : a * expm1(v); break;
            case NNX_ACT_GELU:       want = 0.5 * v * (1 + erf(v / sqrt(2))); break;
            case NNX_ACT_TANH:       want = tanh(v); break;
            case NNX_ACT_SIGMOID:    want = 1 / (1 + exp(-v)); break;
            case NNX_ACT_SWISH:      want = v / (1 + exp(-a * v)); break;
            }
            if (fabs(y[i] - want) > 2e-6 * fmax(1, fabs(want)))
                fail_msg("activation %zu at %g: %.9g, want %.9g", c, v, (double)y[i], want);
        }
        nnx_net_free(net);
    }
}

/* Profiling times training forwards and backwards per layer, counts the
 * backward passes, leaves evaluation out, and starts from zero when turned
 * on again; off, every figure is 0. */
static void profile_times_training_passes(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(64, 1, 1, &err);
    ok(nnx_net_add_dense(net, 256, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    ok(nnx_net_compile(net, 32, 1, &err), &err);
    float x[32 * 64];
    for (int i = 0; i < 32 * 64; i++)
        x[i] = (float)(i % 13) * 0.1f;
    double f, b;
    nnx_net_profile(net, 0, &f, &b);
    assert_true(f == 0 && b == 0 && nnx_net_profile_steps(net) == 0);
    ok(nnx_net_set_profile(net, true, &err), &err);
    for (int step = 0; step < 3; step++) {
        assert_non_null(nnx_net_forward(net, x, 32, true));
        float *d = nnx_net_dlogits(net);
        for (int i = 0; i < 32 * 4; i++)
            d[i] = 0.01f;
        assert_int_equal(nnx_net_backward(net, d), 0);
    }
    assert_int_equal(nnx_net_profile_steps(net), 3);
    double fsum = 0, bsum = 0;
    for (int i = 0; i < 3; i++) {
        nnx_net_profile(net, i, &f, &b);
        assert_true(f >= 0 && b >= 0);
        fsum += f;
        bsum += b;
    }
    assert_true(fsum > 0 && bsum > 0);
    nnx_net_profile(net, 0, &f, &b);
    assert_non_null(nnx_net_forward(net, x, 32, false));          /* evaluation: not timed */
    double f2, b2;
    nnx_net_profile(net, 0, &f2, &b2);
    assert_true(f2 == f && b2 == b);
    nnx_net_profile(net, 3, &f2, &b2);                             /* no such layer */
    assert_true(f2 == 0 && b2 == 0);
    ok(nnx_net_set_profile(net, true, &err), &err);                /* again: from zero */
    nnx_net_profile(net, 0, &f, &b);
    assert_true(f == 0 && b == 0 && nnx_net_profile_steps(net) == 0);
    ok(nnx_net_set_profile(net, false, &err), &err);
    assert_non_null(nnx_net_forward(net, x, 32, true));
    nnx_net_profile(net, 0, &f, &b);
    assert_true(f == 0 && b == 0);
    nnx_net_free(net);
}

/* Each activation's backward_reads_y says what its backward reads: given a
 * y of NaNs, a backward flagged as not reading y gives the same dx to the
 * bit, and one flagged as reading it gives NaN (a fused batch norm, act and
 * pool stores no y for the first kind). */
static void act_backward_reads_y_as_flagged(void **state)
{
    (void)state;
    enum { N = 8 };
    const float x[N] = {-3, -1, -0.25f, 0.1f, 0.5f, 1, 2, 4};
    float y[N], ynan[N], dy[N], d1[N], d2[N];
    for (int i = 0; i < N; i++) {
        ynan[i] = NAN;
        dy[i] = 0.5f + 0.25f * (float)i;
    }
    for (size_t a = 0; a < nnx_act_count(); a++) {
        const nnx_act_info *A = nnx_act_info_of((unsigned)a);
        A->forward(x, y, N, 0.7f);
        A->backward(x, y, dy, d1, N, 0.7f);
        A->backward(x, ynan, dy, d2, N, 0.7f);
        bool nan = false;
        for (int i = 0; i < N; i++)
            nan = nan || isnan(d2[i]);
        if (A->backward_reads_y ? !nan : memcmp(d1, d2, sizeof d1) != 0)
            fail_msg("%s: backward_reads_y is %d, but a NaN y %s", A->name,
                     (int)A->backward_reads_y, nan ? "reaches dx" : "does not reach dx");
    }
}

/* sigmoid's exp clamps its argument to [-80, 80]: within a few ulp of the
 * exact value inside, 1/(1 + e^80) below, exactly 1 above (and swish, x
 * times it, the same); every 256th x of [-100, 100]. */
static void sigmoid_is_accurate_to_its_clamp(void **state)
{
    (void)state;
    enum { N = 256 };
    float x[N];
    for (int i = 0; i < N; i++)
        x[i] = -100.0f + 200.0f * (float)i / (N - 1);
    for (int act = NNX_ACT_SIGMOID; act <= NNX_ACT_SWISH; act++) {
        nnx_rt_error err;
        nnx_net *net = nnx_net_new(N, 1, 1, &err);
        ok(nnx_net_add_act(net, (enum nnx_act)act, 1.0f, &err), &err);
        ok(nnx_net_compile(net, 1, 1, &err), &err);
        const float *y = nnx_net_forward(net, x, 1, false);
        for (int i = 0; i < N; i++) {
            double v = x[i], s = 1 / (1 + exp(-(v < -80 ? -80 : v > 80 ? 80 : v)));
            double want = act == NNX_ACT_SWISH ? v * s : s;
            if (fabs(y[i] - want) > 5e-7 * fabs(want))
                fail_msg("act %d at %.9g: %.9g, want %.9g", act, v, (double)y[i], want);
        }
        nnx_net_free(net);
    }
}

/* Found by fuzzing resume.state: NaN weights (a diverged run) reached the
 * sigmoid/swish exp with a NaN, converted to int (undefined behaviour).
 * Every activation takes NaN and infinities forward and backward without
 * undefined behaviour (the sanitized build checks), and sigmoid and swish
 * give NaN for NaN. */
static void activations_pass_nan_through(void **state)
{
    (void)state;
    const float x[] = {NAN, -NAN, 1, INFINITY, -INFINITY};
    for (int act = NNX_ACT_RELU; act <= NNX_ACT_SWISH; act++) {
        nnx_rt_error err;
        nnx_net *net = nnx_net_new(5, 1, 1, &err);
        ok(nnx_net_add_act(net, (enum nnx_act)act, act == NNX_ACT_SWISH ? 1.0f : 0.1f, &err), &err);
        ok(nnx_net_compile(net, 1, 1, &err), &err);
        const float *y = nnx_net_forward(net, x, 1, true);
        assert_non_null(y);
        bool vec = act == NNX_ACT_SIGMOID || act == NNX_ACT_SWISH;     /* the exp of act.c */
        if (vec && (!isnan(y[0]) || !isnan(y[1])))
            fail_msg("activation %d: NaN in, %g and %g out", act, (double)y[0], (double)y[1]);
        float *d = nnx_net_dlogits(net);
        for (int i = 0; i < 5; i++)
            d[i] = 1;
        assert_int_equal(nnx_net_backward(net, d), 0);
        nnx_net_free(net);
    }
}

/* --- batch norm --------------------------------------------------------------- */

static void batchnorm_train_normalises_and_updates_running(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(2, 1, 1, &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_compile(net, 4, 1, &err), &err);
    const float x[] = {1, 10, 2, 20, 3, 30, 6, 40};   /* feature 0: 1,2,3,6; feature 1: 10..40 */
    const float *y = nnx_net_forward(net, x, 4, true);
    double m0 = 3, v0 = (4 + 1 + 0 + 9) / 4.0;          /* biased */
    double m1 = 25, v1 = (225 + 25 + 25 + 225) / 4.0;
    for (int r = 0; r < 4; r++) {
        assert_float_equal(y[2 * r], (x[2 * r] - m0) / sqrt(v0 + 1e-5), 1e-5);
        assert_float_equal(y[2 * r + 1], (x[2 * r + 1] - m1) / sqrt(v1 + 1e-5), 1e-5);
    }
    const float *st = nnx_net_state(net);
    assert_float_equal(st[0], 0.1 * m0, 1e-6);
    assert_float_equal(st[1], 0.1 * m1, 1e-5);
    assert_float_equal(st[2], 0.9 + 0.1 * v0 * 4 / 3, 1e-6);   /* unbiased for running */
    assert_float_equal(st[3], 0.9 + 0.1 * v1 * 4 / 3, 1e-4);
    nnx_net_free(net);
}

/* After a direct convolution (few taps, conv_direct.c) batch norm takes the
 * batch statistics from sums the convolution made per unit of samples as
 * it wrote its output: against the same convolution alone and the
 * statistics in double, with outputs around 1000 (a sum not taken around
 * a pivot would lose them), samples whose means differ (so the units' do)
 * and a batch whose units differ in size. */
static void batchnorm_after_direct_conv_matches_the_batch(void **state)
{
    (void)state;
    enum { N = 10, C = 5, H = 6, W = 7 };
    nnx_rt_error err;
    nnx_net *both = nnx_net_new(1, H, W, &err), *conv = nnx_net_new(1, H, W, &err);
    ok(nnx_net_add_conv(both, C, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(both, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_conv(conv, C, 3, 1, 1, true, &err), &err);
    ok(nnx_net_set_threads(both, 2, &err), &err);
    ok(nnx_net_compile(both, N, 3, &err), &err);
    ok(nnx_net_compile(conv, N, 3, &err), &err);
    float *p = nnx_net_params(both);
    for (int f = 0; f < C; f++)
        p[9 * C + f] = 1000.0f + (float)f;                  /* conv biases */
    memcpy(nnx_net_params(conv), p, 10 * C * sizeof *p);
    float x[N * H * W];
    for (int i = 0; i < N * H * W; i++)
        x[i] = sinf(0.37f * (float)i) + 0.5f * (float)(i / (H * W));
    const float *z = nnx_net_forward(conv, x, N, true);
    double mean[C] = {0}, var[C] = {0};
    for (int f = 0; f < C; f++) {
        for (int s = 0; s < N; s++)
            for (int i = 0; i < H * W; i++)
                mean[f] += z[(s * C + f) * H * W + i];
        mean[f] /= N * H * W;
        for (int s = 0; s < N; s++)
            for (int i = 0; i < H * W; i++) {
                double d = z[(s * C + f) * H * W + i] - mean[f];
                var[f] += d * d;
            }
        var[f] /= N * H * W;
    }
    const float *y = nnx_net_forward(both, x, N, true);
    for (int s = 0; s < N; s++)
        for (int f = 0; f < C; f++)
            for (int i = 0; i < H * W; i++) {
                int at = (s * C + f) * H * W + i;
                assert_float_equal(y[at], (z[at] - mean[f]) / sqrt(var[f] + 1e-5), 2e-3);
            }
    nnx_layer_info bn;
    assert_int_equal(nnx_net_layer_info(both, 1, &bn), 0);
    const float *st = nnx_net_state(both) + bn.state_off;
    for (int f = 0; f < C; f++) {
        assert_float_equal(st[f], 0.1 * mean[f], 1e-4);
        assert_float_equal(st[C + f], 0.9 + 0.1 * var[f] * (N * H * W) / (N * H * W - 1), 1e-5);
    }
    nnx_net_free(both);
    nnx_net_free(conv);
}

static void batchnorm_eval_uses_running_statistics(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(2, 2, 2, &err);   /* per channel over 2×2 planes */
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_compile(net, 2, 1, &err), &err);
    float *p = nnx_net_params(net), *st = nnx_net_state(net);
    p[0] = 2; p[1] = 0.5f;      /* gamma */
    p[2] = 0.5f; p[3] = -1;     /* beta */
    st[0] = 1; st[1] = -2;      /* running mean */
    st[2] = 4; st[3] = 0.25f;   /* running var */
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    float keep[4];
    memcpy(keep, st, sizeof keep);
    const float *y = nnx_net_forward(net, x, 2, false);
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 4; i++) {
                int at = (s * 2 + c) * 4 + i;
                double want = p[c] * (x[at] - st[c]) / sqrt(st[2 + c] + 1e-5) + p[2 + c];
                assert_float_equal(y[at], want, 1e-5);
            }
    assert_memory_equal(st, keep, sizeof keep);   /* eval does not move them */

    /* conv-layout batch norm in training: each channel comes out mean 0, var 1 */
    y = nnx_net_forward(net, x, 2, true);
    for (int c = 0; c < 2; c++) {
        double m = 0, v = 0;
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < 4; i++)
                m += (y[(s * 2 + c) * 4 + i] - p[2 + c]) / p[c];
        m /= 8;
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < 4; i++) {
                double d = (y[(s * 2 + c) * 4 + i] - p[2 + c]) / p[c] - m;
                v += d * d;
            }
        assert_float_equal(m, 0, 1e-5);
        assert_float_equal(v / 8, 1, 1e-3);
    }
    nnx_net_free(net);
}

/* --- dropout ------------------------------------------------------------------- */

static void dropout_eval_is_identity_train_keeps_scale(void **state)
{
    (void)state;
    enum { D = 1000, N = 20 };
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(D, 1, 1, &err);
    ok(nnx_net_add_dropout(net, 0.3f, &err), &err);
    ok(nnx_net_compile(net, N, 7, &err), &err);
    float *x = malloc(sizeof(float) * D * N);
    assert_non_null(x);
    for (int i = 0; i < D * N; i++)
        x[i] = 1.0f + (float)(i % 7);
    const float *y = nnx_net_forward(net, x, N, false);
    assert_memory_equal(y, x, sizeof(float) * D * N);

    y = nnx_net_forward(net, x, N, true);
    int zeros = 0;
    double sum_x = 0, sum_y = 0;
    for (int i = 0; i < D * N; i++) {
        if (y[i] == 0.0f)
            zeros++;
        else
            assert_float_equal(y[i], x[i] / 0.7f, 1e-5);
        sum_x += x[i];
        sum_y += y[i];
    }
    assert_float_equal((double)zeros / (D * N), 0.3, 0.015);
    assert_float_equal(sum_y / sum_x, 1.0, 0.02);
    /* masks are drawn in blocks of 16384 from separately seeded generators:
     * the second block's zeros agree with the first's about as often as
     * chance has it (0.3² + 0.7² = 58%), not always */
    int agree = 0;
    for (int i = 0; i < D * N - 16384; i++)
        agree += (y[i] == 0.0f) == (y[16384 + i] == 0.0f);
    assert_float_equal((double)agree / (D * N - 16384), 0.58, 0.05);

    /* a fresh draw differs; restoring the generator repeats it */
    float *first = malloc(sizeof(float) * D * N);
    assert_non_null(first);
    nnx_rng saved = *nnx_net_dropout_rng(net);
    memcpy(first, nnx_net_forward(net, x, N, true), sizeof(float) * D * N);
    assert_memory_not_equal(first, nnx_net_forward(net, x, N, true), sizeof(float) * D * N);
    *nnx_net_dropout_rng(net) = saved;
    assert_memory_equal(first, nnx_net_forward(net, x, N, true), sizeof(float) * D * N);
    free(first);
    free(x);
    nnx_net_free(net);
}

/* --- initialisation -------------------------------------------------------------- */

static double weight_std(nnx_net *net, int layer)
{
    nnx_layer_info li;
    assert_int_equal(nnx_net_layer_info(net, layer, &li), 0);
    size_t nw = li.nparams - (li.bias ? (size_t)li.units : 0);
    const float *w = nnx_net_params(net) + li.param_off;
    double s = 0, s2 = 0;
    for (size_t i = 0; i < nw; i++) {
        s += w[i];
        s2 += (double)w[i] * w[i];
    }
    for (size_t i = nw; i < li.nparams; i++)
        assert_float_equal(w[i], 0, 0);   /* biases start at zero */
    return sqrt(s2 / nw - (s / nw) * (s / nw));
}

static void init_he_and_xavier(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(400, 1, 1, &err);
    ok(nnx_net_add_dense(net, 300, true, &err), &err);        /* -> bn, swish: He */
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1, &err), &err);
    ok(nnx_net_add_dense(net, 200, true, &err), &err);        /* -> tanh: Xavier */
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_add_dense(net, 100, true, &err), &err);        /* output: Xavier */
    ok(nnx_net_compile(net, 4, 3, &err), &err);
    assert_float_equal(weight_std(net, 0), sqrt(2.0 / 400), 0.02 * sqrt(2.0 / 400));
    assert_float_equal(weight_std(net, 3), sqrt(2.0 / 500), 0.02 * sqrt(2.0 / 500));
    assert_float_equal(weight_std(net, 5), sqrt(2.0 / 300), 0.03 * sqrt(2.0 / 300));
    nnx_layer_info bn;
    nnx_net_layer_info(net, 1, &bn);
    for (int i = 0; i < 300; i++) {
        assert_float_equal(nnx_net_params(net)[bn.param_off + i], 1, 0);        /* gamma */
        assert_float_equal(nnx_net_params(net)[bn.param_off + 300 + i], 0, 0);  /* beta */
        assert_float_equal(nnx_net_state(net)[bn.state_off + i], 0, 0);         /* mean */
        assert_float_equal(nnx_net_state(net)[bn.state_off + 300 + i], 1, 0);   /* var */
    }
    nnx_net_free(net);
}

/* --- determinism and snapshots ------------------------------------------------------ */

static nnx_net *small_cnn(uint64_t seed)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(1, 8, 8, &err);
    ok(nnx_net_add_conv(net, 4, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1, &err), &err);
    ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    ok(nnx_net_add_dropout(net, 0.25f, &err), &err);
    ok(nnx_net_add_dense(net, 16, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_RELU, 0, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 16, seed, &err), &err);
    return net;
}

static void same_seed_same_bits(void **state)
{
    (void)state;
    nnx_net *a = small_cnn(42), *b = small_cnn(42), *c = small_cnn(43);
    size_t np = nnx_net_nparams(a);
    assert_memory_equal(nnx_net_params(a), nnx_net_params(b), np * sizeof(float));
    assert_memory_not_equal(nnx_net_params(a), nnx_net_params(c), np * sizeof(float));
    float x[16 * 64], dy[16 * 3];
    for (int i = 0; i < 16 * 64; i++)
        x[i] = sinf((float)i);
    for (int i = 0; i < 16 * 3; i++)
        dy[i] = cosf((float)i);
    for (int step = 0; step < 3; step++) {
        const float *ya = nnx_net_forward(a, x, 16, true);
        const float *yb = nnx_net_forward(b, x, 16, true);
        assert_memory_equal(ya, yb, 16 * 3 * sizeof(float));
        assert_int_equal(nnx_net_backward(a, dy), 0);
        assert_int_equal(nnx_net_backward(b, dy), 0);
        assert_memory_equal(nnx_net_grads(a), nnx_net_grads(b), np * sizeof(float));
        for (size_t i = 0; i < np; i++) {     /* a plain SGD step keeps them together */
            nnx_net_params(a)[i] -= 0.01f * nnx_net_grads(a)[i];
            nnx_net_params(b)[i] -= 0.01f * nnx_net_grads(b)[i];
        }
    }
    assert_memory_equal(nnx_net_state(a), nnx_net_state(b), nnx_net_nstate(a) * sizeof(float));
    nnx_net_free(a);
    nnx_net_free(b);
    nnx_net_free(c);
}

static void backward_overwrites_gradients(void **state)
{
    (void)state;
    nnx_net *net = small_cnn(1);
    float x[4 * 64], dy[4 * 3];
    for (int i = 0; i < 4 * 64; i++)
        x[i] = cosf(0.3f * (float)i);
    for (int i = 0; i < 4 * 3; i++)
        dy[i] = 1.0f - 0.2f * (float)i;
    size_t np = nnx_net_nparams(net);
    float *g1 = malloc(np * sizeof *g1);
    assert_non_null(g1);
    nnx_rng saved = *nnx_net_dropout_rng(net);
    nnx_net_forward(net, x, 4, true);
    nnx_net_backward(net, dy);
    memcpy(g1, nnx_net_grads(net), np * sizeof *g1);
    *nnx_net_dropout_rng(net) = saved;
    nnx_net_forward(net, x, 4, true);
    nnx_net_backward(net, dy);
    assert_memory_equal(g1, nnx_net_grads(net), np * sizeof *g1);   /* not 2× */
    /* the net's own dlogits buffer and input buffer are usable in place */
    memcpy(nnx_net_input(net), x, sizeof x);
    memcpy(nnx_net_dlogits(net), dy, sizeof dy);
    *nnx_net_dropout_rng(net) = saved;
    nnx_net_forward(net, nnx_net_input(net), 4, true);
    nnx_net_backward(net, nnx_net_dlogits(net));
    assert_memory_equal(g1, nnx_net_grads(net), np * sizeof *g1);
    assert_null(nnx_net_dinput(net));    /* not asked for */
    free(g1);
    nnx_net_free(net);
}

/* nnx_net_grad_norm, from the sums of squares the dense layers' backward
 * took row by row and passes over the other layers' slices, is the norm of
 * the gradient array to rounding: a CNN whose dense layers read a CNHW
 * input, a dense layer without bias, a residual block with a projection,
 * on 1 and 2 threads; NaN before any forward. */
static void residual_mlp(nnx_net *net)
{
    nnx_rt_error err;
    ok(nnx_net_add_dense(net, 8, true, &err), &err);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_dense(net, 12, false, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 16, 5, &err), &err);
}

static void grad_norm_from_the_backward(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 2; threads++)
        for (int kind = 0; kind < 2; kind++) {
            nnx_rt_error err;
            nnx_net *net;
            if (kind == 0) {
                net = small_cnn(7);
            } else {
                net = nnx_net_new(1, 8, 8, &err);
                assert_non_null(net);
                residual_mlp(net);
            }
            ok(nnx_net_set_threads(net, threads, &err), &err);
            assert_true(isnan(nnx_net_grad_norm(net)));
            float x[16 * 64], dy[16 * 3];
            for (int i = 0; i < 16 * 64; i++)
                x[i] = sinf(0.37f * (float)i);
            for (int i = 0; i < 16 * 3; i++)
                dy[i] = 0.5f - 0.03f * (float)i;
            for (int step = 0; step < 2; step++) {
                assert_non_null(nnx_net_forward(net, x, step ? 11 : 16, true));
                assert_int_equal(nnx_net_backward(net, dy), 0);
                double got = nnx_net_grad_norm(net);
                double want = nnx_grad_norm(nnx_net_grads(net), nnx_net_nparams(net));
                assert_true(want > 0);
                if (!(fabs(got - want) <= 1e-6 * want))
                    fail_msg("kind %d, %d threads, step %d: norm %.9g, the array's %.9g", kind,
                             threads, step, got, want);
            }
            if (kind == 1) {
                /* a gradient past float's square root: finite in double */
                float big[16 * 3];
                for (int i = 0; i < 16 * 3; i++)
                    big[i] = 1e22f * dy[i];
                assert_int_equal(nnx_net_backward(net, big), 0);
                double got = nnx_net_grad_norm(net);
                double want = nnx_grad_norm(nnx_net_grads(net), nnx_net_nparams(net));
                assert_true(isfinite(want) && fabs(got - want) <= 1e-6 * want);
            }
            nnx_net_free(net);
        }
}

/* Without want_dinput, backward stops at the first layer with parameters and
 * skips its input gradient; the parameter gradients must not change.  When
 * that layer is a direct convolution with a batch norm after it, the batch
 * norm makes the convolution's weight gradient in its one pass and never
 * writes the convolution's output gradient (net.c, norm.c): the gradient,
 * summed from the Gram of the convolution's input taps, agrees to float
 * rounding, with the batch norm fused with its activation and pool or not,
 * over 9 or 27 taps, on 2 threads (test_gradcheck checks it against finite
 * differences). */
enum first_case { BN_FIRST, CONV_BN_POOL, CONV_BN, CONV3_BN_SWISH };

static nnx_net *first_layer_net(enum first_case fc, bool dinput)
{
    nnx_rt_error err;
    nnx_net *net = fc == BN_FIRST ? nnx_net_new(3, 4, 4, &err)
                 : fc == CONV3_BN_SWISH ? nnx_net_new(3, 6, 5, &err)
                                        : nnx_net_new(1, 8, 8, &err);
    assert_non_null(net);
    ok(nnx_net_set_threads(net, 2, &err), &err);
    if (fc == BN_FIRST) {
        ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);   /* first, fused */
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1, &err), &err);
        ok(nnx_net_add_conv(net, 2, 3, 1, 1, true, &err), &err);
    } else {
        ok(nnx_net_add_conv(net, fc == CONV_BN ? 5 : 6, 3, 1, 1, true, &err), &err);
        ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
        if (fc != CONV_BN)
            ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1, &err), &err);
        if (fc == CONV_BN_POOL)
            ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    }
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_want_dinput(net, dinput, &err), &err);
    ok(nnx_net_compile(net, 9, 8, &err), &err);
    return net;
}

static void input_gradient_is_optional(void **state)
{
    (void)state;
    enum { N = 9 };
    for (int fc = BN_FIRST; fc <= CONV3_BN_SWISH; fc++) {
        nnx_net *nets[2];
        for (int k = 0; k < 2; k++)
            nets[k] = first_layer_net((enum first_case)fc, k == 1);
        const size_t in = (size_t)nnx_net_in_size(nets[0]);
        float x[N * 90], dy[N * 3];
        assert_true(N * in <= sizeof x / sizeof *x);
        for (size_t i = 0; i < N * in; i++)
            x[i] = sinf(0.7f * (float)i);
        for (int i = 0; i < N * 3; i++)
            dy[i] = cosf((float)i);
        for (int step = 0; step < 2; step++) {      /* the second on fewer, changed rows */
            x[5] += 0.25f * (float)step;
            for (int k = 0; k < 2; k++) {
                nnx_net_forward(nets[k], x, N - step, true);
                assert_int_equal(nnx_net_backward(nets[k], dy), 0);
            }
        }
        const float *ga = nnx_net_grads(nets[0]), *gb = nnx_net_grads(nets[1]);
        const size_t np = nnx_net_nparams(nets[0]);
        if (fc == BN_FIRST) {
            assert_memory_equal(ga, gb, np * sizeof(float));
        } else {                /* the convolution's gradient from the Gram */
            float top = 0;
            for (size_t i = 0; i < np; i++)
                top = fabsf(gb[i]) > top ? fabsf(gb[i]) : top;
            for (size_t i = 0; i < np; i++)
                if (fabsf(ga[i] - gb[i]) > 1e-5f * top)
                    fail_msg("case %d: gradient %zu is %.9g without dinput, %.9g with it", fc,
                             i, (double)ga[i], (double)gb[i]);
        }
        assert_null(nnx_net_dinput(nets[0]));
        assert_non_null(nnx_net_dinput(nets[1]));
        nnx_net_free(nets[0]);
        nnx_net_free(nets[1]);
    }
}

static void snapshot_round_trip(void **state)
{
    (void)state;
    nnx_net *net = small_cnn(5);
    size_t n = nnx_net_snapshot_size(net);
    assert_int_equal(n, nnx_net_nparams(net) + nnx_net_nstate(net));
    float *snap = malloc(n * sizeof *snap), *orig = malloc(n * sizeof *orig);
    assert_non_null(snap);
    assert_non_null(orig);
    float x[8 * 64];
    for (int i = 0; i < 8 * 64; i++)
        x[i] = sinf(0.1f * (float)i);
    nnx_net_forward(net, x, 8, true);     /* move the running statistics */
    nnx_net_snapshot_take(net, snap);
    memcpy(orig, snap, n * sizeof *snap);
    float y0[8 * 3];
    memcpy(y0, nnx_net_forward(net, x, 8, false), sizeof y0);
    for (size_t i = 0; i < nnx_net_nparams(net); i++)
        nnx_net_params(net)[i] += 0.5f;
    nnx_net_forward(net, x, 8, true);
    nnx_net_snapshot_restore(net, snap);
    nnx_net_snapshot_take(net, snap);
    assert_memory_equal(snap, orig, n * sizeof *snap);
    assert_memory_equal(nnx_net_forward(net, x, 8, false), y0, sizeof y0);
    free(snap);
    free(orig);
    nnx_net_free(net);
}

/* 8×8 images of a horizontal (class 0) or vertical (class 1) bar in noise. */
static void bars(nnx_rng *rng, float *x, int32_t *y, int n)
{
    for (int s = 0; s < n; s++) {
        float *img = x + s * 64;
        for (int i = 0; i < 64; i++)
            img[i] = 0.3f * (float)nnx_rng_normal(rng);
        y[s] = (int32_t)nnx_rng_below(rng, 2);
        int at = (int)nnx_rng_below(rng, 8);
        for (int i = 0; i < 8; i++)
            img[y[s] ? i * 8 + at : at * 8 + i] += 1.0f;
    }
}

/* The whole stack learns: a small CNN trained by plain SGD separates the
 * bars, and evaluation mode (running statistics) agrees. */
static void cnn_learns_bars(void **state)
{
    (void)state;
    enum { B = 32, STEPS = 150, TEST = 256 };
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(1, 8, 8, &err);
    ok(nnx_net_add_conv(net, 4, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_RELU, 0, &err), &err);
    ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dropout(net, 0.1f, &err), &err);
    ok(nnx_net_add_dense(net, 2, true, &err), &err);
    ok(nnx_net_compile(net, TEST, 3, &err), &err);
    nnx_rng rng;
    nnx_rng_seed(&rng, 3, NNX_STREAM_DATA);
    float *x = malloc(sizeof(float) * 64 * TEST);
    int32_t y[TEST];
    assert_non_null(x);
    float first = 0, loss = 0;
    for (int step = 0; step < STEPS; step++) {
        bars(&rng, x, y, B);
        const float *out = nnx_net_forward(net, x, B, true);
        ok(nnx_loss_cross_entropy(out, y, B, 2, 0, &loss, nnx_net_dlogits(net), &err), &err);
        if (step == 0)
            first = loss;
        assert_int_equal(nnx_net_backward(net, nnx_net_dlogits(net)), 0);
        float *p = nnx_net_params(net);
        const float *g = nnx_net_grads(net);
        for (size_t i = 0; i < nnx_net_nparams(net); i++)
            p[i] -= 0.1f * g[i];
    }
    assert_true(loss < 0.25f * first);
    bars(&rng, x, y, TEST);
    const float *out = nnx_net_forward(net, x, TEST, false);
    int right = 0;
    for (int s = 0; s < TEST; s++)
        right += (out[2 * s + 1] > out[2 * s]) == (y[s] == 1);
    if (right < TEST * 95 / 100)
        fail_msg("held-out accuracy %d/%d", right, TEST);
    free(x);
    nnx_net_free(net);
}

static void flops_count_matrix_products(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(784, 1, 1, &err);
    ok(nnx_net_add_dense(net, 256, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_RELU, 0, &err), &err);
    ok(nnx_net_add_dense(net, 10, true, &err), &err);
    ok(nnx_net_compile(net, 1, 1, &err), &err);
    /* first layer: forward + weight gradient; second: also input gradient */
    double want = 2.0 * 128 * (784 * 256 * 2 + 256 * 10 * 3);
    assert_float_equal(nnx_net_train_flops(net, 128), want, 1);
    nnx_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cnn_shapes_and_parameter_count),
        cmocka_unit_test(conv_output_sizes),
        cmocka_unit_test(impossible_shapes_are_errors),
        cmocka_unit_test(dense_known_values),
        cmocka_unit_test(conv_known_values),
        cmocka_unit_test(pool_before_flatten_writes_sample_major),
        cmocka_unit_test(swish_keeps_sigma_while_it_fits),
        cmocka_unit_test(pool_gradient_taken_at_winners),
        cmocka_unit_test(conv_matches_direct_convolution_in_chunks),
        cmocka_unit_test(dense_matches_direct_product_in_units),
        cmocka_unit_test(pools_known_values),
        cmocka_unit_test(activations_known_values),
        cmocka_unit_test(profile_times_training_passes),
        cmocka_unit_test(act_backward_reads_y_as_flagged),
        cmocka_unit_test(sigmoid_is_accurate_to_its_clamp),
        cmocka_unit_test(activations_pass_nan_through),
        cmocka_unit_test(batchnorm_train_normalises_and_updates_running),
        cmocka_unit_test(batchnorm_after_direct_conv_matches_the_batch),
        cmocka_unit_test(batchnorm_eval_uses_running_statistics),
        cmocka_unit_test(dropout_eval_is_identity_train_keeps_scale),
        cmocka_unit_test(init_he_and_xavier),
        cmocka_unit_test(same_seed_same_bits),
        cmocka_unit_test(backward_overwrites_gradients),
        cmocka_unit_test(grad_norm_from_the_backward),
        cmocka_unit_test(input_gradient_is_optional),
        cmocka_unit_test(snapshot_round_trip),
        cmocka_unit_test(cnn_learns_bars),
        cmocka_unit_test(flops_count_matrix_products),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
