/* test_train.c — the train loop end to end: spirals to >95%, determinism, stop, NaN, evaluate. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnx/rt.h"

/* Everything one small training run needs, owned together. */
typedef struct run {
    nnx_dataset train, valid;
    nnx_net    *net;
    nnx_optim   opt;
    nnx_sched   sched;
    nnx_trainer tr;
} run;

static void run_free(run *r)
{
    nnx_trainer_free(&r->tr);
    nnx_optim_free(&r->opt);
    nnx_net_free(r->net);
    nnx_dataset_free(&r->train);
    nnx_dataset_free(&r->valid);
}

#define OK(call) do { nnx_rt_error e_ = {{0}}; nnx_rt_error *err = &e_; \
                      if ((call) != 0) fail_msg("%s: %s", #call, e_.msg); } while (0)

/* Spirals (3 classes), split and normalised; an MLP 2-64-64-3 with swish
 * (linear when `linear`); Adam with warmup + cosine; batch 32. */
static void spirals_net(run *r, uint64_t seed, int32_t epochs, int linear)
{
    memset(r, 0, sizeof *r);
    nnx_dataset all;
    nnx_norm nm;
    OK(nnx_make_spirals(&all, 1500, 3, 0.2, 7, err));
    OK(nnx_split(&all, 0.2, 1, seed, &r->train, &r->valid, err));
    nnx_dataset_free(&all);
    OK(nnx_norm_fit(&nm, NNX_NORM_STANDARD, &r->train, err));
    OK(nnx_norm_apply(&nm, &r->train, err));
    OK(nnx_norm_apply(&nm, &r->valid, err));
    nnx_norm_free(&nm);

    nnx_rt_error e = {{0}};
    r->net = nnx_net_new(2, 1, 1, &e);
    assert_non_null(r->net);
    for (int layer = 0; layer < 2; layer++) {
        OK(nnx_net_add_dense(r->net, 64, true, err));
        if (!linear)
            OK(nnx_net_add_act(r->net, NNX_ACT_SWISH, 1.0f, err));
    }
    OK(nnx_net_add_dense(r->net, 3, true, err));
    OK(nnx_net_compile(r->net, 256, seed, err));

    nnx_optim_conf oc;
    nnx_optim_conf_default(&oc, NNX_OPTIM_ADAM);
    oc.lr = 0.01;
    OK(nnx_optim_init(&r->opt, &oc, nnx_net_nparams(r->net), err));
    int32_t batches = nnx_batches_per_epoch(r->train.n, 32, 0);
    nnx_sched_init(&r->sched, oc.lr, batches, epochs);
    r->sched.warmup_epochs = 1;
    r->sched.decay = NNX_DECAY_COSINE;
    r->sched.min_lr = 1e-4;
    nnx_train_conf c = {
        .net = r->net, .optim = &r->opt, .sched = &r->sched, .train = &r->train,
        .loss = NNX_LOSS_CROSS_ENTROPY, .batch = 32, .clip_norm = 5.0, .seed = seed,
    };
    OK(nnx_trainer_init(&r->tr, &c, err));
}

static void spirals_setup(run *r, uint64_t seed, int32_t epochs)
{
    spirals_net(r, seed, epochs, 0);
}

static double valid_accuracy(run *r, double *vloss)
{
    float *probs = malloc(sizeof(float) * 3 * (size_t)r->valid.n);
    double acc;
    OK(nnx_evaluate(r->net, NNX_LOSS_CROSS_ENTROPY, 0, &r->valid, 256, probs, vloss, err));
    OK(nnx_accuracy(r->valid.y, probs, r->valid.n, 3, &acc, err));
    free(probs);
    return acc;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void spirals_reach_95_percent(void **state)
{
    (void)state;
    enum { EPOCHS = 30 };
    run r;
    spirals_setup(&r, 1, EPOCHS);
    float *curve = calloc((size_t)EPOCHS * (size_t)r.tr.batches, sizeof *curve);
    double t0 = seconds(), vloss0;
    double acc0 = valid_accuracy(&r, &vloss0);
    nnx_epoch_result res;
    double first_epoch_loss = 0;
    for (int32_t e = 0; e < EPOCHS; e++) {
        OK(nnx_train_epoch(&r.tr, e, curve + (size_t)e * (size_t)r.tr.batches, &res, err));
        assert_int_equal(res.steps, r.tr.batches);
        assert_false(res.stopped || res.diverged);
        if (e == 0)
            first_epoch_loss = res.mean_loss;
    }
    double vloss, acc = valid_accuracy(&r, &vloss);
    print_message("spirals: valid accuracy %.3f -> %.3f, loss %.3f -> %.3f, train loss "
                  "%.3f -> %.3f, %d steps in %.2f s\n", acc0, acc, vloss0, vloss,
                  first_epoch_loss, res.mean_loss, (int)r.tr.step, seconds() - t0);
    assert_true(acc > 0.95);
    assert_true(vloss < 0.2);
    assert_int_equal(r.tr.step, (int64_t)EPOCHS * r.tr.batches);
    /* The per-step curve was recorded: every entry finite, the end far below the start. */
    size_t steps = (size_t)EPOCHS * (size_t)r.tr.batches;
    double head = 0, tail = 0;
    for (size_t i = 0; i < steps; i++)
        assert_true(isfinite(curve[i]) && curve[i] > 0);
    for (size_t i = 0; i < 10; i++) {
        head += curve[i] / 10;
        tail += curve[steps - 1 - i] / 10;
    }
    assert_true(tail < head / 4);
    free(curve);
    run_free(&r);
}

static void same_seed_same_bits(void **state)
{
    (void)state;
    run a, b, c;
    nnx_epoch_result res;
    spirals_setup(&a, 3, 3);
    spirals_setup(&b, 3, 3);
    spirals_setup(&c, 4, 3);
    for (int32_t e = 0; e < 3; e++) {
        OK(nnx_train_epoch(&a.tr, e, NULL, &res, err));
        OK(nnx_train_epoch(&b.tr, e, NULL, &res, err));
        OK(nnx_train_epoch(&c.tr, e, NULL, &res, err));
    }
    size_t bytes = nnx_net_nparams(a.net) * sizeof(float);
    assert_int_equal(memcmp(nnx_net_params(a.net), nnx_net_params(b.net), bytes), 0);
    assert_int_equal(memcmp(a.opt.v, b.opt.v, bytes), 0);
    assert_int_not_equal(memcmp(nnx_net_params(a.net), nnx_net_params(c.net), bytes), 0);
    run_free(&a);
    run_free(&b);
    run_free(&c);
}

/* The callback sees each step's lr and loss, and can stop the epoch. */
typedef struct watch {
    const nnx_sched *sched;
    int calls, stop_at;
    int64_t last_step;
} watch;

static int on_batch(const nnx_train_progress *p, void *user)
{
    watch *w = user;
    assert_int_equal(p->step, w->calls);
    assert_int_equal(p->batch, w->calls);
    assert_float_equal(p->lr, nnx_sched_lr_at(w->sched, p->step), 0);
    assert_true(isfinite(p->loss) && p->grad_norm > 0);
    assert_int_equal(p->rows, 32);
    w->last_step = p->step;
    return ++w->calls == w->stop_at;
}

static void callback_stops_after_the_batch(void **state)
{
    (void)state;
    run r;
    spirals_setup(&r, 5, 2);
    watch w = {.sched = &r.sched, .stop_at = 3};
    r.tr.c.on_batch = on_batch;
    r.tr.c.user = &w;
    float curve[64];
    for (int i = 0; i < 64; i++)
        curve[i] = -1;
    nnx_epoch_result res;
    OK(nnx_train_epoch(&r.tr, 0, curve, &res, err));
    assert_int_equal(res.stopped, 1);
    assert_int_equal(res.steps, 3);
    assert_int_equal(w.calls, 3);
    assert_int_equal(r.tr.step, 3);
    assert_int_equal(r.opt.t, 3);
    assert_true(curve[2] > 0);
    assert_float_equal(curve[3], -1, 0);   /* not reached */
    assert_true(isfinite(res.mean_loss));
    run_free(&r);
}

static void nan_loss_is_reported_before_the_step(void **state)
{
    (void)state;
    run r;
    spirals_net(&r, 6, 2, 1);   /* a linear net carries the NaN to the loss */
    r.train.x[2 * 17] = NAN;   /* one bad row poisons the batch that holds it */
    nnx_epoch_result res;
    nnx_rt_error err = {{0}};
    int rc = 0;
    for (int32_t e = 0; e < 2 && rc == 0; e++)
        rc = nnx_train_epoch(&r.tr, e, NULL, &res, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(res.diverged, 1);
    assert_non_null(strstr(err.msg, "epoch 1, step "));
    assert_non_null(strstr(err.msg, "cross_entropy loss is nan"));
    /* No step was taken with the NaN: the weights are all finite. */
    const float *p = nnx_net_params(r.net);
    for (size_t i = 0; i < nnx_net_nparams(r.net); i++)
        assert_true(isfinite(p[i]));
    assert_int_equal(r.opt.t, res.steps);
    run_free(&r);
}

static void evaluate_writes_probabilities(void **state)
{
    (void)state;
    run r;
    spirals_setup(&r, 8, 2);
    nnx_epoch_result res;
    OK(nnx_train_epoch(&r.tr, 0, NULL, &res, err));
    int32_t n = r.valid.n;
    float *probs = malloc(sizeof(float) * 3 * (size_t)n);
    double vloss, vloss7;
    OK(nnx_evaluate(r.net, NNX_LOSS_CROSS_ENTROPY, 0, &r.valid, 256, probs, &vloss, err));
    /* Rows sum to 1; the mean loss is the mean of -log p(true class). */
    double nll = 0;
    for (int32_t i = 0; i < n; i++) {
        const float *q = probs + 3 * (size_t)i;
        assert_float_equal(q[0] + q[1] + q[2], 1.0, 1e-5);
        nll -= log(q[r.valid.y[i]]) / n;
    }
    assert_float_equal(vloss, nll, 1e-4);
    /* The batch size does not change the result (eval mode, no batch statistics). */
    float *probs7 = malloc(sizeof(float) * 3 * (size_t)n);
    OK(nnx_evaluate(r.net, NNX_LOSS_CROSS_ENTROPY, 0, &r.valid, 7, probs7, &vloss7, err));
    assert_float_equal(vloss, vloss7, 1e-6);
    for (int32_t i = 0; i < 3 * n; i++)
        assert_float_equal(probs[i], probs7[i], 1e-6);
    free(probs);
    free(probs7);
    run_free(&r);
}

/* The next batch is gathered by the team's idle workers while a step runs
 * (nnx_gather_start): rows of 1,030 features, a row a unit, batches of 24
 * over 100 rows (the last one short), on 1 thread (gathered at once) and on
 * 2 and 3: the same weights after two epochs, and the same batch as
 * nnx_gather makes. */
static void train_on_threads(nnx_dataset *ds, int threads, float *params_out)
{
    nnx_rt_error e = {{0}};
    nnx_net *net = nnx_net_new(1030, 1, 1, &e);
    assert_non_null(net);
    OK(nnx_net_add_dense(net, 16, true, err));
    OK(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, err));
    OK(nnx_net_add_dense(net, 3, true, err));
    OK(nnx_net_compile(net, 24, 5, err));
    OK(nnx_net_set_threads(net, threads, err));
    nnx_optim_conf oc;
    nnx_optim_conf_default(&oc, NNX_OPTIM_ADAM);
    nnx_optim opt;
    OK(nnx_optim_init(&opt, &oc, nnx_net_nparams(net), err));
    nnx_train_conf c = {
        .net = net, .optim = &opt, .train = ds, .loss = NNX_LOSS_CROSS_ENTROPY, .batch = 24,
        .seed = 9,
    };
    nnx_trainer tr;
    OK(nnx_trainer_init(&tr, &c, err));
    nnx_epoch_result res;
    for (int32_t ep = 0; ep < 2; ep++) {
        OK(nnx_train_epoch(&tr, ep, NULL, &res, err));
        assert_int_equal(res.steps, 5);
    }
    memcpy(params_out, nnx_net_params(net), nnx_net_nparams(net) * sizeof(float));

    /* The gather itself, on this net's team, against nnx_gather. */
    int32_t rows[24];
    for (int i = 0; i < 24; i++)
        rows[i] = (i * 37 + 11) % ds->n;
    float *a = malloc(sizeof(float) * 24 * 1030), *b = malloc(sizeof(float) * 24 * 1030);
    int32_t ya[24], yb[24];
    memset(a, 0, sizeof(float) * 24 * 1030);
    nnx_gather(ds, rows, 24, b, yb, NULL);
    nnx_gather_ahead g;
    nnx_gather_start(&g, ds, rows, 24, a, ya, NULL, nnx_net_team(net));
    nnx_gather_finish(&g);
    assert_int_equal(memcmp(a, b, sizeof(float) * 24 * 1030), 0);
    assert_int_equal(memcmp(ya, yb, sizeof ya), 0);
    free(a);
    free(b);
    nnx_trainer_free(&tr);
    nnx_optim_free(&opt);
    nnx_net_free(net);
}

static void next_batch_gathered_ahead(void **state)
{
    (void)state;
    nnx_dataset ds;
    OK(nnx_make_blobs(&ds, 100, 3, 1030, 2.0, 13, err));
    enum { NP = 1030 * 16 + 16 + 16 * 3 + 3 };
    float *p1 = malloc(sizeof(float) * NP), *pn = malloc(sizeof(float) * NP);
    train_on_threads(&ds, 1, p1);
    for (int threads = 2; threads <= 3; threads++) {
        train_on_threads(&ds, threads, pn);
        assert_int_equal(memcmp(p1, pn, sizeof(float) * NP), 0);
    }
    free(p1);
    free(pn);
    nnx_dataset_free(&ds);
}

/* Binary cross entropy on two blobs (one output), and MSE on a linear target. */
static void binary_and_regression_tasks(void **state)
{
    (void)state;
    nnx_dataset all, tr, va;
    OK(nnx_make_blobs(&all, 600, 2, 4, 3.0, 11, err));
    OK(nnx_split(&all, 0.25, 1, 1, &tr, &va, err));
    nnx_rt_error e = {{0}};
    nnx_net *net = nnx_net_new(4, 1, 1, &e);
    OK(nnx_net_add_dense(net, 1, true, err));
    OK(nnx_net_compile(net, 64, 1, err));
    nnx_optim opt;
    nnx_optim_conf oc;
    nnx_optim_conf_default(&oc, NNX_OPTIM_SGD);
    oc.lr = 0.01;
    oc.momentum = 0.9;
    OK(nnx_optim_init(&opt, &oc, nnx_net_nparams(net), err));
    nnx_trainer t;
    nnx_train_conf c = {.net = net, .optim = &opt, .train = &tr, .batch = 64, .seed = 1,
                        .loss = NNX_LOSS_BINARY_CROSS_ENTROPY, .drop_last = 1};
    OK(nnx_trainer_init(&t, &c, err));
    assert_int_equal(t.batches, 450 / 64);
    nnx_epoch_result res;
    for (int32_t ep = 0; ep < 10; ep++)
        OK(nnx_train_epoch(&t, ep, NULL, &res, err));
    float *probs = malloc(sizeof(float) * (size_t)va.n);
    double auc, vloss;
    OK(nnx_evaluate(net, NNX_LOSS_BINARY_CROSS_ENTROPY, 0, &va, 64, probs, &vloss, err));
    OK(nnx_auc(va.y, probs, va.n, 1, &auc, NULL, err));
    assert_true(auc > 0.99);
    for (int32_t i = 0; i < va.n; i++)
        assert_true(probs[i] >= 0 && probs[i] <= 1);   /* sigmoid; may saturate in float */
    free(probs);
    nnx_trainer_free(&t);
    nnx_dataset_free(&tr);
    nnx_dataset_free(&va);
    nnx_dataset_free(&all);

    /* Regression: t = 2·x0 - x1 + 0.5, learnt by one dense unit. */
    nnx_dataset reg;
    OK(nnx_dataset_alloc(&reg, 256, 4, NNX_TARGET_REAL, 0, err));
    nnx_rng rng;
    nnx_rng_seed(&rng, 1, NNX_STREAM_USER);
    for (int32_t i = 0; i < reg.n; i++) {
        for (int j = 0; j < 4; j++)
            reg.x[4 * i + j] = (float)nnx_rng_normal(&rng);
        reg.t[i] = 2 * reg.x[4 * i] - reg.x[4 * i + 1] + 0.5f;
    }
    nnx_optim_reset(&opt);
    c.train = &reg;
    c.loss = NNX_LOSS_MSE;
    c.drop_last = 0;
    OK(nnx_trainer_init(&t, &c, err));
    for (int32_t ep = 0; ep < 40; ep++)
        OK(nnx_train_epoch(&t, ep, NULL, &res, err));
    float pred[256];
    OK(nnx_evaluate(net, NNX_LOSS_MSE, 0, &reg, 64, pred, &vloss, err));
    assert_true(vloss < 1e-3);
    assert_float_equal(nnx_mse(pred, reg.t, 256), vloss, 1e-6);
    nnx_trainer_free(&t);
    nnx_dataset_free(&reg);
    nnx_optim_free(&opt);
    nnx_net_free(net);
}

static void configuration_errors(void **state)
{
    (void)state;
    run r;
    spirals_setup(&r, 9, 2);
    nnx_trainer t;
    nnx_rt_error err;
    nnx_train_conf c = r.tr.c;
    c.batch = 1000;
    assert_int_equal(nnx_trainer_init(&t, &c, &err), -1);
    assert_non_null(strstr(err.msg, "batch 1000 is outside 1..256"));
    c = r.tr.c;
    c.batch = 64;   /* the schedule was made for batches of 32 */
    assert_int_equal(nnx_trainer_init(&t, &c, &err), -1);
    assert_non_null(strstr(err.msg, "the schedule counts 38 steps per epoch, the data makes 19"));
    c = r.tr.c;
    c.loss = NNX_LOSS_MSE;
    assert_int_equal(nnx_trainer_init(&t, &c, &err), -1);
    assert_non_null(strstr(err.msg, "mse needs regression targets"));
    c.loss = NNX_LOSS_BINARY_CROSS_ENTROPY;
    assert_int_equal(nnx_trainer_init(&t, &c, &err), -1);
    assert_non_null(strstr(err.msg, "binary_cross_entropy needs 2 classes"));
    nnx_dataset wide;
    OK(nnx_make_blobs(&wide, 100, 3, 5, 1.0, 1, err));
    c = r.tr.c;
    c.train = &wide;
    assert_int_equal(nnx_trainer_init(&t, &c, &err), -1);
    assert_non_null(strstr(err.msg, "the network takes 2 inputs but the data has 5 features"));
    assert_int_equal(nnx_evaluate(r.net, NNX_LOSS_CROSS_ENTROPY, 0, &wide, 10, NULL, NULL, &err), -1);
    nnx_dataset_free(&wide);
    OK(nnx_make_spirals(&wide, 100, 4, 0.1, 1, err));
    c.train = &wide;
    assert_int_equal(nnx_trainer_init(&t, &c, &err), -1);
    assert_non_null(strstr(err.msg, "the network has 3 outputs for 4 classes"));
    nnx_dataset_free(&wide);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spirals_reach_95_percent),
        cmocka_unit_test(same_seed_same_bits),
        cmocka_unit_test(callback_stops_after_the_batch),
        cmocka_unit_test(nan_loss_is_reported_before_the_step),
        cmocka_unit_test(evaluate_writes_probabilities),
        cmocka_unit_test(next_batch_gathered_ahead),
        cmocka_unit_test(binary_and_regression_tasks),
        cmocka_unit_test(configuration_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
