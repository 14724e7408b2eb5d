/* test_diagnose.c — synthetic curves for each diagnosis rule, and a healthy run that draws none. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/diagnose.h"
#include "nnx/rt/rng.h"

enum { E = 20, STEPS_PER_EPOCH = 50, MAXE = 40 };

/* One synthetic run: arrays the tests fill, and the curves that point at them. */
typedef struct run {
    double train[MAXE], valid[MAXE], lr[MAXE], metric[MAXE];
    double step[MAXE * STEPS_PER_EPOCH], step_epoch[MAXE * STEPS_PER_EPOCH];
    double step_sd[MAXE * STEPS_PER_EPOCH];
    nnx_curves c;
} run;

enum { BATCH = 32 };
#define SAMPLING 0.08   /* the relative step noise sampling a batch explains */

/* Step losses around each epoch's train loss, with relative noise `noise`
 * (uniform in [-noise, noise]), deterministic; each step's per-row loss std
 * is set so that sampling a batch explains a relative noise of SAMPLING. */
static void fill_steps(run *r, size_t epochs, double noise)
{
    nnx_rng g;
    nnx_rng_seed(&g, 5, NNX_STREAM_USER);
    size_t k = 0;
    for (size_t e = 0; e < epochs; e++) {
        double from = e ? r->train[e - 1] : r->train[0] * 1.3, to = r->train[e];
        for (int s = 0; s < STEPS_PER_EPOCH; s++, k++) {
            double t = (s + 0.5) / STEPS_PER_EPOCH;
            double trend = from + (to - from) * t;
            r->step[k] = trend * (1 + noise * (2 * nnx_rng_uniform(&g) - 1));
            r->step_sd[k] = trend * SAMPLING / sqrt(3) * sqrt(BATCH);
            r->step_epoch[k] = (double)(e + 1);
        }
    }
    r->c.steps = k;
    r->c.step_loss = r->step;
    r->c.step_epoch = r->step_epoch;
    r->c.step_loss_sd = r->step_sd;
}

/* A healthy 20-epoch run: both losses fall and flatten, valid a little above
 * train with slight noise, accuracy tracks the valid loss, mild step noise. */
static void healthy(run *r)
{
    memset(r, 0, sizeof *r);
    for (int t = 0; t < E; t++) {
        r->train[t] = 0.25 + 2.0 * exp(-0.45 * t);
        r->valid[t] = 0.32 + 1.9 * exp(-0.45 * t) + (t > 10 ? 0.002 * ((t % 2) ? -1 : 1) : 0);
        r->metric[t] = 1.1 - r->valid[t];
        r->lr[t] = t == 0 ? 1e-4 : 1e-3 * (0.5 + 0.5 * cos(3.141592653589793 * t / E));
    }
    r->c = (nnx_curves){
        .epochs = E, .train_loss = r->train, .valid_loss = r->valid, .lr = r->lr,
        .select_metric = "valid.accuracy", .select_max = true, .select_values = r->metric,
        .chance_loss = log(10), .setup = { .batch = BATCH },
    };
    fill_steps(r, E, 0.08);
}

static const nnx_finding *find(const nnx_findings *f, nnx_rule rule)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->items[i].rule == rule)
            return &f->items[i];
    return NULL;
}

static double ev(const nnx_finding *f, const char *name)
{
    for (int i = 0; i < f->nevidence; i++)
        if (!strcmp(f->evidence[i].name, name))
            return f->evidence[i].value;
    fail_msg("finding %s has no evidence '%s'", nnx_rule_name(f->rule), name);
    return NAN;
}

/* Diagnose and check that exactly the rules in `want` (ended by -1) fired. */
static nnx_findings expect_rules(const run *r, const int *want)
{
    nnx_findings f;
    nnx_rt_error err = {{0}};
    assert_int_equal(nnx_diagnose(&r->c, &f, &err), 0);
    size_t n = 0;
    for (; want[n] >= 0; n++)
        if (!find(&f, (nnx_rule)want[n]))
            fail_msg("rule %s did not fire", nnx_rule_name((nnx_rule)want[n]));
    if (f.n != n) {
        for (size_t i = 0; i < f.n; i++)
            print_message("fired: %s: %s\n", nnx_rule_name(f.items[i].rule), f.items[i].message);
        fail_msg("%zu findings, expected %zu", f.n, n);
    }
    return f;
}

static void healthy_run_has_no_finding(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    expect_rules(&r, (int[]){ -1 });
    /* Also without the optional arrays. */
    r.c.step_loss = NULL; r.c.step_epoch = NULL; r.c.steps = 0;
    r.c.lr = NULL;
    r.c.select_values = NULL;
    expect_rules(&r, (int[]){ -1 });
}

static void linear_fall_means_lr_too_small(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < 10; t++) {
        r.train[t] = 2.30 - 0.05 * t;
        r.valid[t] = r.train[t] + 0.02;
        r.metric[t] = 0.2 + 0.03 * t;
        r.lr[t] = 1e-4;
    }
    r.c.epochs = 10;
    r.c.setup.source = "exp.nnx";
    r.c.setup.experiment = "slow";
    fill_steps(&r, 10, 0.05);
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_LR_TOO_SMALL, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_LR_TOO_SMALL);
    assert_true(ev(x, "r2") > 0.999);
    assert_float_equal(ev(x, "train_relative_drop_per_epoch"), 0.05 / 1.9, 1e-9);
    assert_float_equal(ev(x, "from_epoch"), 8, 0);
    assert_float_equal(ev(x, "lr"), 1e-4, 1e-15);
    assert_int_equal(x->severity, NNX_SEV_WARNING);
    assert_non_null(strstr(x->message, "`nnx run exp.nnx slow --set optimizer.lr=0.001 --set epochs=3`"));

    /* The same fall, far below the chance level: too few epochs, with the run that tells. */
    for (int t = 0; t < 10; t++) {
        r.train[t] = 1.0 - 0.05 * t;
        r.valid[t] = r.train[t] + 0.02;
    }
    f = expect_rules(&r, (int[]){ NNX_RULE_STILL_IMPROVING, -1 });
    x = find(&f, NNX_RULE_STILL_IMPROVING);
    assert_non_null(strstr(x->message, "--set epochs=20`"));
    assert_non_null(strstr(x->message, "--set optimizer.lr=0.0003 --set epochs=3`"));

    /* Flattening in its last epochs: no longer falling, not flagged as such. */
    r.train[8] = r.train[7] - 0.002;
    r.train[9] = r.train[8] - 0.001;
    r.valid[8] = r.train[8] + 0.02;
    r.valid[9] = r.train[9] + 0.02;
    f = expect_rules(&r, (int[]){ -1 });
    (void)f;
}

/* The Fashion-MNIST run: SGD at lr 1e-5, the loss above the chance
 * level and falling 4-7% an epoch.  Not underfitting: the lr. */
static void slow_fall_above_chance_is_the_lr(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    const double train[5] = { 3.21, 3.02, 2.87, 2.74, 2.64 }, valid[5] = { 3.1, 2.95, 2.81, 2.69, 2.6 };
    for (int t = 0; t < 5; t++) {
        r.train[t] = train[t];
        r.valid[t] = valid[t];
        r.lr[t] = 1e-5;
        r.metric[t] = 0.1 + 0.01 * t;
    }
    r.c.epochs = 5;
    r.c.setup = (nnx_diag_setup){ .known = true, .lr = 1e-5, .batch = BATCH, .train_rows = 54000,
                                  .parameters = 101770, .epochs = 5, .prior_loss = log(10) };
    fill_steps(&r, 5, 0.05);
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_LR_TOO_SMALL, -1 });
    assert_non_null(strstr(find(&f, NNX_RULE_LR_TOO_SMALL)->message, "optimizer.lr=0.0001"));
}

/* Step noise is judged against what sampling a batch explains: a small
 * batch's noisy steps are no fault, noise beyond it is. */
static void step_noise_against_sampling(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    fill_steps(&r, E, 2 * SAMPLING);      /* uniform ±16%: 2x the sampling noise */
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_NOISY_STEPS, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_NOISY_STEPS);
    assert_float_equal(ev(x, "noise_ratio"), 2.0, 0.25);
    assert_float_equal(ev(x, "from_step"), STEPS_PER_EPOCH + 1, 0);
    assert_int_equal(x->curve, NNX_CURVE_STEPS);
    assert_non_null(strstr(x->message, "batch of 32 rows"));

    /* The same scatter from a batch 4x smaller is what sampling gives: quiet. */
    r.c.setup.batch = BATCH / 4;
    expect_rules(&r, (int[]){ -1 });
    /* Without the per-row spread (older runs) the rule cannot judge. */
    r.c.setup.batch = BATCH;
    r.c.step_loss_sd = NULL;
    expect_rules(&r, (int[]){ -1 });
}

static void zigzag_valid_means_small_batch(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < 12; t++)  /* down-up-down, ending on the lowest */
        r.valid[t] = 0.6 - 0.01 * t + 0.08 * ((t % 2) ? -1 : 1);
    r.c.epochs = 12;
    r.c.select_values = NULL;
    fill_steps(&r, 12, 0.05);
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_NOISY_EPOCHS, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_NOISY_EPOCHS);
    assert_float_equal(ev(x, "turns"), 10, 0);
    assert_float_equal(ev(x, "turn_fraction"), 1.0, 1e-12);
    assert_true(ev(x, "relative_change_per_epoch") > 0.2);
}

static void rising_valid_means_overfitting(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < 15; t++) {
        r.train[t] = 0.05 + 1.5 * exp(-0.3 * t);
        r.valid[t] = 0.5 + 0.004 * (t - 6) * (t - 6);
    }
    r.c.epochs = 15;
    r.c.select_values = NULL;
    fill_steps(&r, 15, 0.05);
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_OVERFITTING, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_OVERFITTING);
    double bottom = (0.504 + 0.5 + 0.504) / 3, end = 0.5 + 0.004 * (36 + 49 + 64) / 3.0;
    assert_float_equal(ev(x, "best_epoch"), 7, 0);
    assert_float_equal(ev(x, "best_valid_loss"), bottom, 1e-9);
    assert_float_equal(ev(x, "valid_rise"), end / bottom - 1, 1e-6);
    assert_int_equal(x->epoch, 7);
    assert_non_null(strstr(x->message, "bottomed near epoch 7"));
    assert_non_null(strstr(x->message, "Try dropout or weight decay"));
    /* Advice that knows the experiment. */
    r.c.setup.known = true;
    f = expect_rules(&r, (int[]){ NNX_RULE_OVERFITTING, -1 });
    assert_non_null(strstr(find(&f, NNX_RULE_OVERFITTING)->message, "dropout (the network has none)"));
    r.c.setup.dropout = 0.2;
    r.c.setup.weight_decay = 1e-4;
    f = expect_rules(&r, (int[]){ NNX_RULE_OVERFITTING, -1 });
    x = find(&f, NNX_RULE_OVERFITTING);
    assert_non_null(strstr(x->message, "more dropout (now 0.2)"));
    assert_non_null(strstr(x->message, "more weight decay (now 0.0001)"));

    /* One low epoch is not a bottom: a single dip, then the old level. */
    healthy(&r);
    for (int t = 0; t < 15; t++) {
        r.train[t] = 0.05 + 1.5 * exp(-0.3 * t);
        r.valid[t] = t < 6 ? 0.5 + 1.5 * exp(-0.9 * t) : 0.5;
    }
    r.valid[8] = 0.45;                /* -10% for one epoch */
    r.c.epochs = 15;
    r.c.select_values = NULL;
    fill_steps(&r, 15, 0.05);
    expect_rules(&r, (int[]){ -1 });
}

/* Near-perfect fits: a valid loss going 0.016 -> 0.0176 (+9%) is a rise of
 * 0.0015 nats, far below 1% of chance (ln 3): noise, not overfitting. */
static void tiny_rise_of_a_tiny_loss_is_not_overfitting(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < 30; t++) {
        r.train[t] = 0.012 - 0.0001 * t + 1.0 * exp(-0.4 * t);
        r.valid[t] = t < 23 ? 0.016 + 1.0 * exp(-0.4 * t) : 0.016 + 0.0002 * (t - 22);
        r.metric[t] = t < 23 ? 0.95 + 0.002 * t : 0.9967;
    }
    r.c.epochs = 30;
    r.c.chance_loss = log(3);
    r.c.select_values = NULL;
    fill_steps(&r, 30, 0.05);
    expect_rules(&r, (int[]){ -1 });
    /* The same shape scaled up to a real rise is flagged. */
    for (int t = 23; t < 30; t++)
        r.valid[t] = 0.016 + 0.01 * (t - 22);
    expect_rules(&r, (int[]){ NNX_RULE_OVERFITTING, -1 });
}

static void wide_gap_means_overfitting(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < E; t++) {
        r.train[t] = 0.04 + 2.0 * exp(-0.45 * t);
        r.valid[t] = 0.70 + 1.9 * exp(-0.45 * t);
        r.metric[t] = 1.1 - r.valid[t];
    }
    fill_steps(&r, E, 0.08);
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_OVERFITTING, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_OVERFITTING);
    assert_true(ev(x, "gap_ratio") > 15 && ev(x, "gap_ratio") < 17.5);
    assert_float_equal(ev(x, "last_epoch"), E, 0);
    /* A gap of a quarter of the chance level or less is a healthy fit. */
    for (int t = 0; t < E; t++)
        r.valid[t] = 0.30 + 1.9 * exp(-0.45 * t);
    expect_rules(&r, (int[]){ -1 });
}

static void high_close_losses_mean_underfitting(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < E; t++) {
        r.train[t] = 1.6 + 0.6 * exp(-0.8 * t);
        r.valid[t] = 1.65 + 0.6 * exp(-0.8 * t);
        r.metric[t] = 1.1 - r.valid[t] / 3;
    }
    fill_steps(&r, E, 0.05);
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_UNDERFITTING, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_UNDERFITTING);
    assert_float_equal(ev(x, "fraction_of_reference"), r.train[E - 1] / log(10), 1e-12);
    assert_non_null(strstr(x->message, "ln 10 = 2.303"));

    /* A network that could memorise its rows and still ends there sits at the noise floor. */
    r.c.setup.parameters = 5000;
    r.c.setup.train_rows = 1200;
    expect_rules(&r, (int[]){ -1 });
    r.c.setup.parameters = 21;
    f = expect_rules(&r, (int[]){ NNX_RULE_UNDERFITTING, -1 });
    assert_non_null(strstr(find(&f, NNX_RULE_UNDERFITTING)->message, "21 parameters for 1200 rows"));
    /* Four linear models' worth of parameters or more is not small for the
     * problem: 387 for 8 features and 3 classes (108 = 4 x 9 x 3) ends at
     * the noise floor; 1000 for 784 features and 10 classes is small. */
    r.c.setup.parameters = 387;
    r.c.setup.features = 8;
    r.c.setup.classes = 3;
    expect_rules(&r, (int[]){ -1 });
    r.c.setup.parameters = 107;
    expect_rules(&r, (int[]){ NNX_RULE_UNDERFITTING, -1 });
    r.c.setup.parameters = 1000;
    r.c.setup.features = 784;
    r.c.setup.classes = 10;
    expect_rules(&r, (int[]){ NNX_RULE_UNDERFITTING, -1 });
    /* Still falling: not underfitting (yet). */
    for (int t = 0; t < E; t++)
        r.train[t] = 2.2 - 0.02 * t, r.valid[t] = r.train[t] + 0.05;
    f = expect_rules(&r, (int[]){ NNX_RULE_LR_TOO_SMALL, -1 });

    /* Without a chance level a slow straight fall is still read as a small lr. */
    r.c.chance_loss = NAN;
    expect_rules(&r, (int[]){ NNX_RULE_LR_TOO_SMALL, -1 });
}

static void select_epoch_differs_from_lowest_loss(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < E; t++) {
        r.valid[t] = t < 8 ? 0.4 + 1.0 * exp(-0.5 * t) : r.valid[7] * (1 + 0.001 * (t - 7));
        r.metric[t] = t < 12 ? 0.80 + 0.01 * t : 0.91 - 0.001 * (t - 11);
    }
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_SELECT_VS_LOSS, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_SELECT_VS_LOSS);
    assert_float_equal(ev(x, "select_epoch"), 12, 0);
    assert_float_equal(ev(x, "lowest_loss_epoch"), 8, 0);
    assert_float_equal(ev(x, "select_value"), 0.91, 1e-12);
    assert_non_null(strstr(x->message, "max(valid.accuracy) keeps epoch 12"));
    assert_non_null(strstr(x->message, "epoch 8"));

    /* Selecting by the valid loss itself can never disagree with it. */
    r.c.select_metric = "valid.loss";
    expect_rules(&r, (int[]){ -1 });
}

static void rising_loss_with_improving_metric(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < 14; t++) {
        r.train[t] = t < 8 ? 0.3 + 1.0 * exp(-0.5 * t) : 0.3 + exp(-3.5);  /* flat after 8 */
        r.valid[t] = t < 8 ? 0.31 + 1.0 * exp(-0.5 * t) : r.valid[7] * (1 + 0.025 * (t - 7));
        /* a lower-is-better metric that keeps falling */
        r.metric[t] = 0.30 - 0.01 * t;
    }
    r.c.epochs = 14;
    r.c.select_metric = "valid.mae";
    r.c.select_max = false;
    fill_steps(&r, 14, 0.05);
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_SELECT_VS_LOSS, NNX_RULE_LOSS_VS_METRIC, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_LOSS_VS_METRIC);
    assert_float_equal(ev(x, "lowest_loss_epoch"), 8, 0);
    assert_float_equal(ev(x, "valid_rise"), 0.15, 1e-9);
    assert_float_equal(ev(x, "metric_best_epoch"), 14, 0);
    assert_float_equal(ev(x, "metric_best_after"), 0.17, 1e-12);
    assert_non_null(strstr(x->message, "valid.mae kept improving"));
    assert_non_null(strstr(find(&f, NNX_RULE_SELECT_VS_LOSS)->message, "min(valid.mae)"));
}

static void nan_loss_means_diverged(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    for (int t = 0; t < 5; t++)
        r.lr[t] = 0.5;
    r.train[3] = NAN;
    r.valid[3] = NAN;
    r.c.epochs = 4;
    fill_steps(&r, 3, 0.05);      /* steps only up to the blow-up */
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_DIVERGED, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_DIVERGED);
    assert_int_equal(x->severity, NNX_SEV_ERROR);
    assert_float_equal(ev(x, "epoch"), 4, 0);
    assert_float_equal(ev(x, "lr"), 0.5, 0);
    assert_non_null(strstr(x->message, "became NaN"));
    assert_non_null(strstr(x->message, "--set optimizer.lr=0.05 --set epochs=3"));

    /* A non-finite step pins the place to the step. */
    r.train[3] = 0.9;
    r.valid[3] = 1.0;
    fill_steps(&r, 4, 0.05);
    r.step[3 * STEPS_PER_EPOCH + 7] = INFINITY;
    f = expect_rules(&r, (int[]){ NNX_RULE_DIVERGED, -1 });
    x = find(&f, NNX_RULE_DIVERGED);
    assert_float_equal(ev(x, "step"), 3 * STEPS_PER_EPOCH + 8, 0);
    assert_non_null(strstr(x->message, "became infinite"));
}

static void exploding_loss_means_diverged(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    const double curve[6] = { 2.3, 1.5, 1.2, 1.4, 5.5, 9.0 };
    for (int t = 0; t < 6; t++) {
        r.train[t] = curve[t];
        r.valid[t] = curve[t] + 0.1;
        r.lr[t] = 0.3;
    }
    r.c.epochs = 6;
    r.c.select_values = NULL;
    fill_steps(&r, 6, 0.05);
    nnx_findings f = expect_rules(&r, (int[]){ NNX_RULE_DIVERGED, -1 });
    const nnx_finding *x = find(&f, NNX_RULE_DIVERGED);
    assert_float_equal(ev(x, "epoch"), 5, 0);
    assert_float_equal(ev(x, "loss_before"), 1.2, 0);
    assert_non_null(strstr(x->message, "exploded from 1.2 to 5.5"));

    /* A rise of 3.5x the lowest is within tolerance: not an explosion. */
    r.train[4] = 4.2; r.train[5] = 4.1;
    r.valid[4] = 4.3; r.valid[5] = 4.2;
    assert_int_equal(nnx_diagnose(&r.c, &f, NULL), 0);
    assert_null(find(&f, NNX_RULE_DIVERGED));

    /* One step blowing up inside an epoch, no NaN after it: still diverged. */
    healthy(&r);
    r.step[7] = 7e15;
    f = expect_rules(&r, (int[]){ NNX_RULE_DIVERGED, -1 });
    x = find(&f, NNX_RULE_DIVERGED);
    assert_float_equal(ev(x, "step"), 8, 0);
    assert_float_equal(ev(x, "epoch"), 1, 0);
    assert_non_null(strstr(x->message, "exploded inside the epoch"));

    /* The run's own status is enough. */
    healthy(&r);
    r.c.diverged = true;
    r.c.diverged_epoch = 9;
    f = expect_rules(&r, (int[]){ NNX_RULE_DIVERGED, -1 });
    assert_float_equal(ev(find(&f, NNX_RULE_DIVERGED), "epoch"), 9, 0);
}

static void bad_input_is_an_error(void **state)
{
    (void)state;
    nnx_findings f;
    nnx_rt_error err = {{0}};
    nnx_curves c = { .epochs = 0 };
    assert_int_equal(nnx_diagnose(&c, &f, &err), -1);
    assert_non_null(strstr(err.msg, "0 epochs"));
    double t[3] = { 1, 0.5, 0.5 };
    c = (nnx_curves){ .epochs = 3, .train_loss = t, .steps = 10 };
    assert_int_equal(nnx_diagnose(&c, &f, &err), -1);
    assert_non_null(strstr(err.msg, "no step losses"));
    /* Three epochs and nothing else is valid; flat at the end, nothing to say. */
    c.steps = 0;
    assert_int_equal(nnx_diagnose(&c, &f, &err), 0);
    assert_int_equal(f.n, 0);
}

static void findings_as_json(void **state)
{
    (void)state;
    run r;
    healthy(&r);
    r.train[3] = NAN;
    r.c.epochs = 4;
    r.c.step_loss = NULL; r.c.steps = 0;
    nnx_findings f;
    assert_int_equal(nnx_diagnose(&r.c, &f, NULL), 0);
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 0);
    nnx_findings_write_json(&f, &w);
    assert_int_equal(nnx_json_writer_finish(&w, NULL), 0);
    nnx_json *v = nnx_json_parse(w.buf, w.len, NULL);
    assert_non_null(v);
    assert_int_equal(v->n, 1);
    const nnx_json *x = nnx_json_at(v, 0);
    assert_string_equal(nnx_json_as_string(nnx_json_get(x, "rule"), ""), "diverged");
    assert_string_equal(nnx_json_as_string(nnx_json_get(x, "severity"), ""), "error");
    assert_string_equal(nnx_json_as_string(nnx_json_get(x, "message"), ""), f.items[0].message);
    const nnx_json *e = nnx_json_get(x, "evidence");
    assert_true(nnx_json_as_number(nnx_json_get(e, "epoch")) == 4);
    assert_int_equal(nnx_json_get(e, "loss_at")->type, NNX_JSON_NULL);   /* NaN → null */
    nnx_json_free(v);
    nnx_json_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthy_run_has_no_finding),
        cmocka_unit_test(linear_fall_means_lr_too_small),
        cmocka_unit_test(step_noise_against_sampling),
        cmocka_unit_test(slow_fall_above_chance_is_the_lr),
        cmocka_unit_test(zigzag_valid_means_small_batch),
        cmocka_unit_test(rising_valid_means_overfitting),
        cmocka_unit_test(tiny_rise_of_a_tiny_loss_is_not_overfitting),
        cmocka_unit_test(wide_gap_means_overfitting),
        cmocka_unit_test(high_close_losses_mean_underfitting),
        cmocka_unit_test(select_epoch_differs_from_lowest_loss),
        cmocka_unit_test(rising_loss_with_improving_metric),
        cmocka_unit_test(nan_loss_means_diverged),
        cmocka_unit_test(exploding_loss_means_diverged),
        cmocka_unit_test(bad_input_is_an_error),
        cmocka_unit_test(findings_as_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
