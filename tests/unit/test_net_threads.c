/* test_net_threads.c — a network on several threads computes the same bits as
 * on one: outputs, every gradient, the gradient norm (nnx_net_grad_norm),
 * the input gradient, running statistics and the weights after Adam steps
 * (the step on the net's threads too), for
 * a CNN and an MLP like the benchmark's, at batch sizes that cut into uneven
 * units, also when the thread count changes between steps; the passes that
 * compile fuses (batch norm + activation + pool) give the bits of the
 * layers run one by one; and the thread setting's errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
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

/* WIDE: dense products cut into units (as many as the threads, up to what
 * their size allows); BENCH: the benchmark's MLP, 784-256-128, whose
 * products are cut too; UNFUSED: CNN with dropout(0), an identity, between
 * batch norm, activation and pool, so nothing is fused; BENCH_CNN: the
 * benchmark's CNN in small, two blocks of conv (the second by Winograd),
 * batch norm, swish and max pool (the derivative at the pool's winners),
 * the second pool writing sample-major for the flatten, then dropout */
enum { CNN, MLP, POINTWISE, WIDE, UNFUSED, BENCH, BENCH_CNN };

/* dense(units), batch norm, swish and, when `drop`, dropout(0.2) */
static void dense_block(nnx_net *net, int units, bool drop)
{
    nnx_rt_error err;
    ok(nnx_net_add_dense(net, units, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    if (drop)
        ok(nnx_net_add_dropout(net, 0.2f, &err), &err);
}

static nnx_net *build(int kind, int threads, int max_batch)
{
    nnx_rt_error err;
    nnx_net *net = kind == MLP     ? nnx_net_new(1, 10, 10, &err)
                 : kind == WIDE  ? nnx_net_new(1, 30, 40, &err)
                 : kind == BENCH ? nnx_net_new(1, 28, 28, &err)
                                 : nnx_net_new(2, 12, 12, &err);
    assert_non_null(net);
    ok(nnx_net_set_threads(net, threads, &err), &err);
    ok(nnx_net_want_dinput(net, true, &err), &err);
    if (kind == BENCH) {
        dense_block(net, 256, true);
        dense_block(net, 128, true);
    } else if (kind == BENCH_CNN) {
        for (int b = 0; b < 2; b++) {
            ok(nnx_net_add_conv(net, 8, 3, 1, 1, true, &err), &err);
            ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
            ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
            ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
        }
        ok(nnx_net_add_flatten(net, &err), &err);
        ok(nnx_net_add_dropout(net, 0.3f, &err), &err);
    } else if (kind == MLP || kind == WIDE) {
        dense_block(net, kind == WIDE ? 320 : 40, true);
        dense_block(net, 24, false);
    } else {
        const bool cut = kind == UNFUSED;
        ok(nnx_net_add_conv(net, 6, 3, 1, 1, true, &err), &err);
        ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
        if (cut)
            ok(nnx_net_add_dropout(net, 0.0f, &err), &err);
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
        if (cut)
            ok(nnx_net_add_dropout(net, 0.0f, &err), &err);
        ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
        if (kind == POINTWISE)
            ok(nnx_net_add_conv(net, 5, 1, 1, 0, false, &err), &err);
        ok(nnx_net_add_conv(net, 8, 3, 1, 1, true, &err), &err);
        ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
        if (cut)
            ok(nnx_net_add_dropout(net, 0.0f, &err), &err);
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
        if (cut)
            ok(nnx_net_add_dropout(net, 0.0f, &err), &err);
        ok(nnx_net_add_avgpool(net, 2, 2, &err), &err);
        ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);   /* unfused */
        ok(nnx_net_add_flatten(net, &err), &err);
        ok(nnx_net_add_dropout(net, 0.3f, &err), &err);
        ok(nnx_net_add_dense(net, 16, true, &err), &err);
        ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    }
    ok(nnx_net_add_dense(net, 5, true, &err), &err);
    ok(nnx_net_compile(net, max_batch, 7, &err), &err);
    return net;
}

/* Everything a training step leaves behind, as one array of floats. */
typedef struct trace {
    float *v;
    size_t n, cap;
} trace;

static void keep(trace *t, const float *p, size_t n)
{
    if (t->n + n > t->cap) {
        t->cap = 2 * (t->n + n);
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        assert_non_null(t->v);
    }
    memcpy(t->v + t->n, p, n * sizeof *p);
    t->n += n;
}

/* Adam steps on fixed random batches of the given sizes, then an eval
 * forward; the trace of every output and gradient along the way.  From step
 * 3 on the net runs on `later` threads (0: no change). */
static trace train(int kind, int threads, const int *sizes, int steps, int later)
{
    int max_batch = 0;
    for (int s = 0; s < steps; s++)
        max_batch = sizes[s] > max_batch ? sizes[s] : max_batch;
    nnx_net *net = build(kind, threads, max_batch);
    nnx_rt_error err;
    nnx_optim opt;
    nnx_optim_conf oc;
    nnx_optim_conf_default(&oc, NNX_OPTIM_ADAM);
    ok(nnx_optim_init(&opt, &oc, nnx_net_nparams(net), &err), &err);
    size_t in = (size_t)nnx_net_in_size(net), k = (size_t)nnx_net_out_size(net);
    float *x = malloc((size_t)max_batch * in * sizeof *x);
    int32_t *y = malloc((size_t)max_batch * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    nnx_rng rng;
    nnx_rng_seed(&rng, 3, NNX_STREAM_USER);
    trace t = {0};
    for (int s = 0; s < steps; s++) {
        int n = sizes[s];
        if (s == 3 && later)
            ok(nnx_net_set_threads(net, later, &err), &err);
        for (size_t i = 0; i < (size_t)n * in; i++)
            x[i] = (float)(2 * nnx_rng_uniform(&rng) - 1);
        for (int i = 0; i < n; i++)
            y[i] = (int32_t)(nnx_rng_next(&rng) % k);
        const float *out = nnx_net_forward(net, x, n, true);
        assert_non_null(out);
        keep(&t, out, (size_t)n * k);
        float loss;
        ok(nnx_loss_cross_entropy(out, y, n, (int)k, 0.0f, &loss, nnx_net_dlogits(net), &err),
           &err);
        assert_int_equal(nnx_net_backward(net, nnx_net_dlogits(net)), 0);
        keep(&t, nnx_net_grads(net), nnx_net_nparams(net));
        double norm = nnx_net_grad_norm(net);           /* its bits, as two floats */
        float nb[2];
        memcpy(nb, &norm, sizeof nb);
        keep(&t, nb, 2);
        keep(&t, nnx_net_dinput(net), (size_t)n * in);
        nnx_optim_step_on(&opt, nnx_net_params(net), nnx_net_grads(net), 1e-2,
                          nnx_net_team(net));
    }
    keep(&t, nnx_net_params(net), nnx_net_nparams(net));
    keep(&t, nnx_net_state(net), nnx_net_nstate(net));
    const float *out = nnx_net_forward(net, x, sizes[0], false);
    assert_non_null(out);
    keep(&t, out, (size_t)sizes[0] * k);
    free(x);
    free(y);
    nnx_optim_free(&opt);
    nnx_net_free(net);
    return t;
}

static void same_bits_on_1_2_and_3_threads(int kind)
{
    static const int sizes[] = {37, 64, 5, 1, 64, 23};
    const int steps = (int)(sizeof sizes / sizeof *sizes);
    trace one = train(kind, 1, sizes, steps, 0);
    for (int threads = 2; threads <= 4; threads++) {
        /* 4: three threads, then one, then two after compiling */
        trace many = threads < 4 ? train(kind, threads, sizes, steps, 0)
                                 : train(kind, 3, sizes, steps, 2);
        assert_int_equal(many.n, one.n);
        for (size_t i = 0; i < one.n; i++)
            if (memcmp(&one.v[i], &many.v[i], sizeof(float)) != 0)
                fail_msg("%d threads: value %zu of the trace is %.9g, on 1 thread %.9g",
                         threads, i, (double)many.v[i], (double)one.v[i]);
        free(many.v);
    }
    free(one.v);
}

/* The same trace, bit for bit, with the fused passes as without them. */
static void fused_same_bits(void **state)
{
    (void)state;
    static const int sizes[] = {37, 64, 5, 1, 64, 23};
    const int steps = (int)(sizeof sizes / sizeof *sizes);
    for (int threads = 1; threads <= 2; threads++) {
        trace fused = train(CNN, threads, sizes, steps, 0);
        trace apart = train(UNFUSED, threads, sizes, steps, 0);
        assert_int_equal(fused.n, apart.n);
        for (size_t i = 0; i < fused.n; i++)
            if (memcmp(&fused.v[i], &apart.v[i], sizeof(float)) != 0)
                fail_msg("%d thread(s): value %zu of the trace is %.9g fused, %.9g apart",
                         threads, i, (double)fused.v[i], (double)apart.v[i]);
        free(fused.v);
        free(apart.v);
    }
}

static void cnn_same_bits(void **s)       { (void)s; same_bits_on_1_2_and_3_threads(CNN); }
static void mlp_same_bits(void **s)       { (void)s; same_bits_on_1_2_and_3_threads(MLP); }
static void pointwise_same_bits(void **s) { (void)s; same_bits_on_1_2_and_3_threads(POINTWISE); }
static void wide_same_bits(void **s)      { (void)s; same_bits_on_1_2_and_3_threads(WIDE); }
static void bench_mlp_same_bits(void **s) { (void)s; same_bits_on_1_2_and_3_threads(BENCH); }
static void bench_cnn_same_bits(void **s) { (void)s; same_bits_on_1_2_and_3_threads(BENCH_CNN); }

/* Changing the thread count reallocates the activations: a backward that
 * follows it without a forward is refused. */
static void threads_change_between_steps(void **state)
{
    (void)state;
    nnx_net *net = build(CNN, 1, 8);
    nnx_rt_error err;
    float x[8 * 2 * 12 * 12] = {0};
    assert_non_null(nnx_net_forward(net, x, 8, true));
    ok(nnx_net_set_threads(net, 2, &err), &err);
    assert_int_equal(nnx_net_backward(net, nnx_net_dlogits(net)), -1);
    assert_non_null(nnx_net_forward(net, x, 8, true));
    memset(nnx_net_dlogits(net), 0, 8 * 5 * sizeof(float));
    assert_int_equal(nnx_net_backward(net, nnx_net_dlogits(net)), 0);
    ok(nnx_net_set_threads(net, 1, &err), &err);
    assert_non_null(nnx_net_forward(net, x, 8, false));
    nnx_net_free(net);
}

static void thread_setting_errors(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(1, 4, 4, &err);
    assert_non_null(net);
    assert_int_equal(nnx_net_set_threads(net, NNX_MAX_THREADS + 1, &err), -1);
    assert_non_null(strstr(err.msg, "at most"));
    ok(nnx_net_set_threads(net, 0, &err), &err);          /* means 1 */
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 4, 1, &err), &err);
    nnx_net_free(net);
    assert_int_equal(nnx_net_set_threads(NULL, 2, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cnn_same_bits),
        cmocka_unit_test(mlp_same_bits),
        cmocka_unit_test(pointwise_same_bits),
        cmocka_unit_test(wide_same_bits),
        cmocka_unit_test(bench_mlp_same_bits),
        cmocka_unit_test(bench_cnn_same_bits),
        cmocka_unit_test(fused_same_bits),
        cmocka_unit_test(threads_change_between_steps),
        cmocka_unit_test(thread_setting_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
