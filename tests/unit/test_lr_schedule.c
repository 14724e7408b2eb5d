/* test_lr_schedule.c — known learning rates at chosen steps for every warmup and decay. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nnx/rt/lr_schedule.h"

/* base 0.1, 10 steps per epoch, 10 epochs: 100 steps. */
static nnx_sched make(nnx_decay_kind decay)
{
    nnx_sched s;
    nnx_sched_init(&s, 0.1, 10, 10);
    s.decay = decay;
    return s;
}

static void checked(const nnx_sched *s)
{
    nnx_rt_error err = {{0}};
    if (nnx_sched_check(s, &err) != 0)
        fail_msg("check failed: %s", err.msg);
}

#define LR(s, step, want) assert_float_equal(nnx_sched_lr_at(&(s), (step)), (want), 1e-12)

static void warmup_linear_from_zero(void **state)
{
    (void)state;
    nnx_sched s = make(NNX_DECAY_NONE);
    checked(&s);
    LR(s, 0, 0.1);
    LR(s, 99, 0.1);
    s.warmup_epochs = 1;              /* 10 steps */
    checked(&s);
    assert_int_equal(nnx_sched_warmup_len(&s), 10);
    LR(s, 0, 0.0);
    LR(s, 5, 0.05);
    LR(s, 9, 0.09);
    LR(s, 10, 0.1);
    s.warmup_epochs = 0.5;            /* fractional: 5 steps */
    LR(s, 2, 0.04);
    LR(s, 5, 0.1);
    s.warmup_steps = 4;               /* steps win over epochs */
    LR(s, 2, 0.05);
    LR(s, 4, 0.1);
}

static void smooth_decays(void **state)
{
    (void)state;
    nnx_sched s = make(NNX_DECAY_COSINE);
    s.min_lr = 0.001;
    s.warmup_epochs = 1;              /* decay runs over steps 10..100 */
    checked(&s);
    LR(s, 5, 0.05);                   /* warmup × cosine at q = 0 */
    LR(s, 10, 0.1);
    LR(s, 40, 0.001 + 0.099 * 0.75);  /* q = 1/3: (1 + cos(π/3)) / 2 = 3/4 */
    LR(s, 55, 0.001 + 0.099 * 0.5);   /* q = 1/2 */
    LR(s, 100, 0.001);
    LR(s, 500, 0.001);                /* past the end: the floor */

    s = make(NNX_DECAY_LINEAR);
    checked(&s);
    LR(s, 25, 0.075);
    LR(s, 100, 0.0);

    s = make(NNX_DECAY_POLY);
    s.power = 2;
    s.min_lr = 0.01;
    checked(&s);
    LR(s, 50, 0.01 + 0.09 * 0.25);
    LR(s, 90, 0.01 + 0.09 * 0.01);

    s = make(NNX_DECAY_EXP);          /* gamma per epoch, applied continuously */
    s.gamma = 0.5;
    checked(&s);
    LR(s, 10, 0.05);
    LR(s, 15, 0.1 * pow(0.5, 1.5));
    LR(s, 30, 0.0125);
}

static void staircase_decays(void **state)
{
    (void)state;
    nnx_sched s = make(NNX_DECAY_STEP);
    s.every = 3;
    s.gamma = 0.1;
    checked(&s);
    LR(s, 29, 0.1);
    LR(s, 30, 0.01);
    LR(s, 59, 0.01);
    assert_float_equal(nnx_sched_lr_at(&s, 60), 0.001, 1e-15);
    s.every = 2.5;                    /* fractional epochs */
    LR(s, 24, 0.1);
    LR(s, 25, 0.01);
    s.every = 0.1;                    /* every step; 0.1 × 10 must not round down */
    assert_float_equal(nnx_sched_lr_at(&s, 3), 0.1 * pow(0.1, 3), 1e-15);

    s = make(NNX_DECAY_MULTISTEP);
    s.at[0] = 2;
    s.at[1] = 5;
    s.n_at = 2;
    s.gamma = 0.5;
    checked(&s);
    LR(s, 19, 0.1);
    LR(s, 20, 0.05);
    LR(s, 49, 0.05);
    LR(s, 50, 0.025);
    /* warmup multiplies a staircase that counts epochs from the start */
    s.warmup_steps = 40;
    LR(s, 30, 0.05 * 0.75);
}

/* The first sequence gives the same lrs as torch.optim.lr_scheduler.ReduceLROnPlateau(
 * mode='min', factor=0.5, patience=2, min_lr=0.03) stepped with the same values
 * (0.1 ×4, 0.05 from 0.91, 0.03 from 0.85). */
static void plateau_reduces_after_patience(void **state)
{
    (void)state;
    nnx_sched s = make(NNX_DECAY_PLATEAU);
    s.patience = 2;
    s.factor = 0.5;
    s.min_lr = 0.03;
    checked(&s);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 1.0), 0);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.9), 0);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.95), 0);   /* bad 1 */
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.92), 0);   /* bad 2 */
    LR(s, 50, 0.1);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.91), 1);   /* bad 3 > patience */
    LR(s, 50, 0.05);
    LR(s, 0, 0.05);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.8), 0);    /* new best */
    /* An improvement below the relative threshold (1e-4) is not one. */
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.79995), 0);
    assert_int_equal(nnx_sched_plateau_epoch(&s, NAN), 0);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.85), 1);     /* bad 3 */
    LR(s, 0, 0.03);                   /* 0.025 floored at min_lr */
    for (int i = 0; i < 10; i++)
        assert_int_equal(nnx_sched_plateau_epoch(&s, 5.0), 0);   /* at the floor */
    LR(s, 0, 0.03);

    s = make(NNX_DECAY_PLATEAU);
    s.patience = 0;
    s.mode = NNX_PLATEAU_MAX;
    checked(&s);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.5), 0);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.6), 0);
    assert_int_equal(nnx_sched_plateau_epoch(&s, 0.55), 1);
    LR(s, 0, 0.01);
    nnx_sched other = make(NNX_DECAY_COSINE);
    assert_int_equal(nnx_sched_plateau_epoch(&other, 1.0), 0);   /* not a plateau schedule */
}

static void fill_tabulates(void **state)
{
    (void)state;
    nnx_sched s = make(NNX_DECAY_COSINE);
    s.warmup_epochs = 0.3;
    checked(&s);
    double lr[120];
    nnx_sched_fill(&s, lr, 120);
    for (int i = 0; i < 120; i++)
        assert_float_equal(lr[i], nnx_sched_lr_at(&s, i), 0);
    assert_float_equal(lr[0], 0, 0);
    assert_float_equal(lr[3], 0.1, 1e-12);
    for (int i = 4; i < 100; i++)
        assert_true(lr[i] < lr[i - 1]);   /* cosine decreases strictly after warmup */
}

static void bad_settings_are_errors(void **state)
{
    (void)state;
    nnx_rt_error err;
    nnx_sched s = make(NNX_DECAY_NONE);
    s.base_lr = 0;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    assert_non_null(strstr(err.msg, "lr must be > 0"));
    s = make(NNX_DECAY_NONE);
    s.warmup_epochs = 10;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    assert_non_null(strstr(err.msg, "warmup (100 steps) must be shorter than training (100 steps)"));
    s = make(NNX_DECAY_COSINE);
    s.min_lr = 0.5;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    assert_non_null(strstr(err.msg, "min_lr"));
    s = make(NNX_DECAY_STEP);
    s.every = 0;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    assert_non_null(strstr(err.msg, "every"));
    s = make(NNX_DECAY_MULTISTEP);
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    assert_non_null(strstr(err.msg, "milestones"));
    s.at[0] = 5;
    s.at[1] = 3;
    s.n_at = 2;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    assert_non_null(strstr(err.msg, "milestone 2 is 3"));
    s = make(NNX_DECAY_EXP);
    s.gamma = 0;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    s = make(NNX_DECAY_POLY);
    s.power = -1;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    s = make(NNX_DECAY_PLATEAU);
    s.factor = 1;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
    assert_non_null(strstr(err.msg, "factor"));
    s = make(NNX_DECAY_NONE);
    s.steps_per_epoch = 0;
    assert_int_equal(nnx_sched_check(&s, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(warmup_linear_from_zero),
        cmocka_unit_test(smooth_decays),
        cmocka_unit_test(staircase_decays),
        cmocka_unit_test(plateau_reduces_after_patience),
        cmocka_unit_test(fill_tabulates),
        cmocka_unit_test(bad_settings_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
