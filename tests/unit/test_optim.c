/* test_optim.c — one and two optimizer steps against PyTorch's numbers, clipping, bad settings.
 *
 * params p0 = [1, -2, 0.5, 0.25]; step 1 with g1 = [0.1, 0.2, -0.3, 0] at lr,
 * step 2 with g2 = [0.3, -0.1, 0, 0.05] at lr / 2 (a schedule halving it).
 * Step 1 is derived by hand in each test; step 2 is torch.optim 1.13 in float32
 * (the script is in the comment at the end of this file).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nnx/rt/optim.h"

static const float g1[4] = {0.1f, 0.2f, -0.3f, 0.0f};
static const float g2[4] = {0.3f, -0.1f, 0.0f, 0.05f};

/* Run two steps of conf and compare with the expected parameters after each. */
static void two_steps(const nnx_optim_conf *conf, const float want1[4], const float want2[4])
{
    nnx_optim o;
    nnx_rt_error err = {{0}};
    float p[4] = {1.0f, -2.0f, 0.5f, 0.25f};
    if (nnx_optim_init(&o, conf, 4, &err) != 0)
        fail_msg("init: %s", err.msg);
    nnx_optim_step(&o, p, g1, conf->lr);
    for (int i = 0; i < 4; i++)
        assert_float_equal(p[i], want1[i], 2e-6);
    nnx_optim_step(&o, p, g2, conf->lr / 2);
    for (int i = 0; i < 4; i++)
        assert_float_equal(p[i], want2[i], 2e-6);
    assert_int_equal(o.t, 2);
    /* Reset forgets the state: the next step is a first step again. */
    nnx_optim_reset(&o);
    float q[4] = {1.0f, -2.0f, 0.5f, 0.25f};
    nnx_optim_step(&o, q, g1, conf->lr);
    for (int i = 0; i < 4; i++)
        assert_float_equal(q[i], want1[i], 2e-6);
    nnx_optim_free(&o);
}

static nnx_optim_conf conf_of(nnx_optim_kind kind, double lr)
{
    nnx_optim_conf c;
    nnx_optim_conf_default(&c, kind);
    c.lr = lr;
    return c;
}

static void sgd_plain_momentum_nesterov(void **state)
{
    (void)state;
    /* plain: p - 0.1 g */
    nnx_optim_conf c = conf_of(NNX_OPTIM_SGD, 0.1);
    two_steps(&c, (float[]){0.99f, -2.02f, 0.53f, 0.25f},
              (float[]){0.975f, -2.015f, 0.53f, 0.2475f});
    /* momentum 0.9, L2 0.01: d = g + 0.01 p = [0.11, 0.18, -0.295, 0.0025];
     * the buffer starts at d; p - 0.1 d */
    c.momentum = 0.9;
    c.weight_decay = 0.01;
    two_steps(&c, (float[]){0.989f, -2.018f, 0.5295f, 0.24975f},
              (float[]){9.685555100e-01f, -2.020090818e+00f, 5.425102711e-01f, 2.470126301e-01f});
    /* Nesterov: p - 0.1 (g + 0.9 g) = p - 0.19 g */
    c.weight_decay = 0;
    c.nesterov = 1;
    two_steps(&c, (float[]){0.981f, -2.038f, 0.557f, 0.25f},
              (float[]){9.484500289e-01f, -2.036600113e+00f, 5.691499710e-01f, 2.452500015e-01f});
}

static void adam_and_adamw(void **state)
{
    (void)state;
    /* Step 1 of Adam: m̂ = g, v̂ = g², so p - lr·g/(|g| + eps) ≈ p - lr·sign(g). */
    nnx_optim_conf c = conf_of(NNX_OPTIM_ADAM, 0.01);
    two_steps(&c, (float[]){0.99f, -2.01f, 0.51f, 0.25f},
              (float[]){9.854111075e-01f, -2.011331558e+00f, 5.133503079e-01f, 2.462793142e-01f});
    /* L2 0.1 into the gradient: d = [0.2, 0, -0.25, 0.025] → signs + - 0 + */
    c.weight_decay = 0.1;
    two_steps(&c, (float[]){0.99f, -2.0f, 0.51f, 0.24f},
              (float[]){9.851727486e-01f, -1.996279359e+00f, 5.125385523e-01f, 2.354030311e-01f});
    /* AdamW: p·(1 - 0.01·0.1), then the Adam step on g alone */
    c.kind = NNX_OPTIM_ADAMW;
    two_steps(&c, (float[]){0.999f - 0.01f, -1.998f - 0.01f, 0.4995f + 0.01f, 0.24975f},
              (float[]){9.839165807e-01f, -2.008327723e+00f, 5.125955939e-01f, 2.459044307e-01f});
}

static void rmsprop(void **state)
{
    (void)state;
    /* Step 1: v = 0.01 g², p - lr·g/(0.1|g|) = p - 0.1·sign(g) */
    nnx_optim_conf c = conf_of(NNX_OPTIM_RMSPROP, 0.01);
    two_steps(&c, (float[]){0.9f, -2.1f, 0.6f, 0.25f},
              (float[]){8.525422215e-01f, -2.077549219e+00f, 5.999999642e-01f, 2.000000924e-01f});
    /* alpha 0.9, L2 0.1: d = [0.2, 0, -0.25, 0.025], p - 0.01 d / sqrt(0.1 d²) = p - 0.0316·sign(d) */
    c.alpha = 0.9;
    c.weight_decay = 0.1;
    double s = 0.01 / sqrt(0.1);
    two_steps(&c, (float[]){(float)(1 - s), -2.0f, (float)(0.5 + s), (float)(0.25 - s)},
              (float[]){9.541124701e-01f, -1.984188557e+00f, 5.281644464e-01f, 2.033629864e-01f});
}

static void clipping(void **state)
{
    (void)state;
    float g[2] = {3, 4};
    assert_float_equal(nnx_grad_norm(g, 2), 5.0, 1e-12);
    assert_float_equal(nnx_clip_grad_norm(g, 2, 1.0), 5.0, 1e-12);
    assert_float_equal(g[0], 0.6 / (1 + 2e-7), 1e-7);   /* torch: 0.5999999046 */
    assert_float_equal(g[1], 0.8 / (1 + 2e-7), 1e-7);
    float h[2] = {0.3f, 0.4f};
    assert_float_equal(nnx_clip_grad_norm(h, 2, 1.0), 0.5, 1e-7);
    assert_float_equal(h[0], 0.3f, 0);   /* under the limit: untouched */
    float bad[2] = {NAN, 1};
    assert_true(isnan(nnx_clip_grad_norm(bad, 2, 1.0)));
    assert_float_equal(bad[1], 1, 0);
}

static void bad_settings_are_errors(void **state)
{
    (void)state;
    nnx_optim o;
    nnx_rt_error err;
    nnx_optim_conf c = conf_of(NNX_OPTIM_SGD, 0.1);
    c.nesterov = 1;
    assert_int_equal(nnx_optim_init(&o, &c, 4, &err), -1);
    assert_string_equal(err.msg, "sgd: nesterov needs momentum > 0");
    c = conf_of(NNX_OPTIM_SGD, 0);
    assert_int_equal(nnx_optim_init(&o, &c, 4, &err), -1);
    assert_non_null(strstr(err.msg, "lr must be > 0"));
    c = conf_of(NNX_OPTIM_ADAM, 1e-3);
    c.beta2 = 1;
    assert_int_equal(nnx_optim_init(&o, &c, 4, &err), -1);
    assert_non_null(strstr(err.msg, "beta1 and beta2"));
    c = conf_of(NNX_OPTIM_RMSPROP, 1e-3);
    c.eps = 0;
    assert_int_equal(nnx_optim_init(&o, &c, 4, &err), -1);
    c = conf_of(NNX_OPTIM_ADAMW, 1e-3);
    c.weight_decay = -1;
    assert_int_equal(nnx_optim_init(&o, &c, 4, &err), -1);
    assert_int_equal(nnx_optim_init(&o, &c, 0, &err), -1);
    /* Defaults are PyTorch's. */
    nnx_optim_conf_default(&c, NNX_OPTIM_ADAMW);
    assert_float_equal(c.weight_decay, 0.01, 0);
    assert_float_equal(c.eps, 1e-8, 0);
    nnx_optim_conf_default(&c, NNX_OPTIM_RMSPROP);
    assert_float_equal(c.lr, 0.01, 0);
    assert_float_equal(c.alpha, 0.99, 0);
    /* Plain SGD keeps no state. */
    c = conf_of(NNX_OPTIM_SGD, 0.1);
    assert_int_equal(nnx_optim_init(&o, &c, 4, &err), 0);
    assert_null(o.m);
    assert_null(o.v);
    nnx_optim_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgd_plain_momentum_nesterov),
        cmocka_unit_test(adam_and_adamw),
        cmocka_unit_test(rmsprop),
        cmocka_unit_test(clipping),
        cmocka_unit_test(bad_settings_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The reference numbers (run with /usr/bin/python3):
 *
 * import torch
 * g1 = torch.tensor([0.1, 0.2, -0.3, 0.0]); g2 = torch.tensor([0.3, -0.1, 0.0, 0.05])
 * p0 = torch.tensor([1.0, -2.0, 0.5, 0.25])
 * for mk in [lambda p: torch.optim.SGD([p], lr=0.1),
 *            lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01),
 *            lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True),
 *            lambda p: torch.optim.Adam([p], lr=0.01),
 *            lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.1),
 *            lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.1),
 *            lambda p: torch.optim.RMSprop([p], lr=0.01),
 *            lambda p: torch.optim.RMSprop([p], lr=0.01, alpha=0.9, weight_decay=0.1)]:
 *     p = p0.clone().requires_grad_(True); o = mk(p); lr = o.param_groups[0]["lr"]
 *     p.grad = g1.clone(); o.step(); print(p.tolist())
 *     o.param_groups[0]["lr"] = lr / 2
 *     p.grad = g2.clone(); o.step(); print(p.tolist())
 */
