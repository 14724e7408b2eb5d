/* test_lr_range.c — the lr range test: a geometric lr per step, the smoothed loss, divergence, the proposal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nnx/rt.h"

#define OK(call) do { nnx_rt_error e_ = {{0}}; nnx_rt_error *err = &e_; \
                      if ((call) != 0) fail_msg("%s: %s", #call, e_.msg); } while (0)

typedef struct setup {
    nnx_dataset train;
    nnx_net    *net;
    nnx_optim   opt;
} setup;

/* Spirals, normalised; an MLP 2-32-32-3 with tanh; SGD with momentum. */
static void make(setup *s)
{
    memset(s, 0, sizeof *s);
    nnx_norm nm;
    OK(nnx_make_spirals(&s->train, 1200, 3, 0.2, 7, err));
    OK(nnx_norm_fit(&nm, NNX_NORM_STANDARD, &s->train, err));
    OK(nnx_norm_apply(&nm, &s->train, err));
    nnx_norm_free(&nm);
    nnx_rt_error e = {{0}};
    s->net = nnx_net_new(2, 1, 1, &e);
    assert_non_null(s->net);
    OK(nnx_net_add_dense(s->net, 32, true, err));
    OK(nnx_net_add_act(s->net, NNX_ACT_TANH, 1.0f, err));
    OK(nnx_net_add_dense(s->net, 32, true, err));
    OK(nnx_net_add_act(s->net, NNX_ACT_TANH, 1.0f, err));
    OK(nnx_net_add_dense(s->net, 3, true, err));
    OK(nnx_net_compile(s->net, 64, 1, err));
    nnx_optim_conf oc;
    nnx_optim_conf_default(&oc, NNX_OPTIM_SGD);
    oc.momentum = 0.9;
    OK(nnx_optim_init(&s->opt, &oc, nnx_net_nparams(s->net), err));
}

static void unmake(setup *s)
{
    nnx_optim_free(&s->opt);
    nnx_net_free(s->net);
    nnx_dataset_free(&s->train);
}

static void range_test_reads_the_curve(void **state)
{
    (void)state;
    setup s;
    make(&s);
    nnx_train_conf tc = { .net = s.net, .optim = &s.opt, .train = &s.train,
                          .loss = NNX_LOSS_CROSS_ENTROPY, .batch = 32, .seed = 1 };
    nnx_lr_range r;
    nnx_lr_range_conf conf = { .steps = 200 };
    OK(nnx_lr_range_test(&tc, &conf, &r, err));
    assert_true(r.n > 100 && r.n <= 200);
    /* step i used 1e-7 · 1e8^(i/199), across epochs (1200 rows / 32 = 38 per epoch) */
    for (size_t i = 0; i < r.n; i++)
        assert_float_equal(r.lr[i], 1e-7 * pow(1e8, i / 199.0), 1e-9 * r.lr[i]);
    /* the bias-corrected average: the first smoothed value is the first loss */
    assert_float_equal(r.smooth[0], r.loss[0], 1e-9);
    double avg = 0;
    for (size_t i = 0; i < 5; i++)
        avg = 0.98 * avg + 0.02 * r.loss[i];
    assert_float_equal(r.smooth[4], avg / (1 - pow(0.98, 5)), 1e-9);
    /* SGD with momentum blows up before lr 10: the test stops there */
    assert_true(r.diverged);
    assert_true(r.n < 200);
    /* the proposal: the middle on a log scale of the steepest fall (before
     * the lowest smoothed point) and the lowest point / 10 */
    assert_true(r.min_at > 0 && r.steep_at > 0 && r.steep_at < r.min_at);
    for (size_t i = r.n / 10; i < r.n; i++)
        assert_true(r.smooth[i] >= r.smooth[r.min_at]);
    assert_float_equal(r.lr_min_loss, r.lr[r.min_at], 1e-15);
    assert_float_equal(r.lr_steepest, r.lr[r.steep_at], 1e-15);
    assert_float_equal(log(r.lr_proposed), 0.5 * (log(r.lr[r.min_at] / 10) + log(r.lr[r.steep_at])), 1e-12);
    assert_true(r.lr_proposed > 1e-3 && r.lr_proposed < 1);
    nnx_lr_range_free(&r);
    unmake(&s);
}

static void bad_settings_are_errors(void **state)
{
    (void)state;
    setup s;
    make(&s);
    nnx_train_conf tc = { .net = s.net, .optim = &s.opt, .train = &s.train,
                          .loss = NNX_LOSS_CROSS_ENTROPY, .batch = 32, .seed = 1 };
    nnx_lr_range r;
    nnx_rt_error err = {{0}};
    nnx_lr_range_conf bad = { .lr_min = 1, .lr_max = 0.1 };
    assert_int_equal(nnx_lr_range_test(&tc, &bad, &r, &err), -1);
    assert_non_null(strstr(err.msg, "lr_min < lr_max"));
    bad = (nnx_lr_range_conf){ .steps = 5 };
    assert_int_equal(nnx_lr_range_test(&tc, &bad, &r, &err), -1);
    tc.batch = 0;
    assert_int_equal(nnx_lr_range_test(&tc, NULL, &r, &err), -1);
    assert_null(r.lr);
    unmake(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(range_test_reads_the_curve),
        cmocka_unit_test(bad_settings_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
