/* test_check_extends.c — extends chains: replacing, dotted argument overrides, +=, blocks, resets, order, data keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check_fixture.h"

#define BASE TOY \
    "experiment base {\n data = toy\n model = net(w = 8)\n optimizer = adam(lr = 1e-3, beta1 = 0.8)\n" \
    " metrics = [accuracy]\n schedule { warmup = 1  decay = cosine(min_lr = 1e-5) }\n}\n"

static nnx_experiment *child(fx *f, const char *body)
{
    char src[4096];
    snprintf(src, sizeof src, BASE "experiment kid extends base {\n%s\n}\n", body);
    nnx_experiment *e = fx_check(f, src, "kid");
    if (!e)
        fail_msg("%s", fx_msgs(&f->d));
    return e;
}

static void inherits_everything(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = child(&f, "");
    assert_string_equal(e->name, "kid");
    assert_true(e->optim.lr == 1e-3 && e->optim.beta1 == 0.8);
    assert_int_equal(e->net.layers[0].arg[0], 8);
    assert_true(e->schedule.warmup == 1);
    assert_int_equal(e->nmetrics, 2);
    fx_done(&f);
}

static void dotted_override_keeps_other_arguments(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = child(&f, "optimizer.lr = 3e-3\nmodel.p = 0.4\nschedule.decay.min_lr = 1e-6");
    assert_true(e->optim.lr == 3e-3);
    assert_true(e->optim.beta1 == 0.8);
    assert_int_equal(e->net.layers[0].arg[0], 8);
    assert_true(e->net.layers[2].arg[0] == 0.4);
    assert_int_equal(e->schedule.decay, NNX_DECAY_COSINE);
    assert_true(e->schedule.min_lr == 1e-6);
    fx_done(&f);
}

static void block_is_dotted(void **state)
{
    (void)state;
    fx f, g;
    nnx_experiment *a = child(&f, "optimizer { lr = 5e-3  eps = 1e-6 }\nschedule { warmup = 2 }");
    nnx_experiment *b = child(&g, "optimizer.lr = 5e-3\noptimizer.eps = 1e-6\nschedule.warmup = 2");
    assert_true(a->optim.lr == 5e-3 && a->optim.eps == 1e-6 && a->schedule.warmup == 2);
    assert_true(a->schedule.decay == NNX_DECAY_COSINE);
    assert_true(nnx_experiment_equal(a, b));
    fx_done(&g);
    fx_done(&f);
}

static void append_to_lists(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = child(&f, "metrics += [auc, f1]\nlog += [tensorboard]");
    assert_int_equal(e->nmetrics, 4);
    assert_string_equal(e->metrics[1].name, "accuracy");
    assert_string_equal(e->metrics[3].name, "f1");
    assert_true(e->log[NNX_XLOG_CSV] && e->log[NNX_XLOG_TENSORBOARD]);
    fx_done(&f);
    /* appending to a default list, and appending one item */
    e = child(&f, "ensemble.seeds += [7]\nmetrics += auc");
    assert_int_equal(e->nensemble, 1);
    assert_int_equal(e->ensemble_seeds[0], 7);
    assert_string_equal(e->metrics[2].name, "auc");
    fx_done(&f);
}

static void replacing_drops_earlier_overrides(void **state)
{
    (void)state;
    fx f;
    const char *src = BASE "experiment mid extends base { optimizer.beta2 = 0.9  metrics += [auc] }\n"
                           "experiment kid extends mid { optimizer = sgd(lr = 0.1)  metrics = [f1] }\n";
    nnx_experiment *e = fx_check(&f, src, "kid");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->optim.kind, NNX_OPTIM_SGD);
    assert_true(e->optim.lr == 0.1);
    assert_int_equal(e->nmetrics, 2);
    assert_string_equal(e->metrics[1].name, "f1");
    fx_done(&f);
}

static void chain_applies_base_first(void **state)
{
    (void)state;
    fx f;
    const char *src = BASE "experiment a extends base { epochs = 3  optimizer.lr = 1e-2 }\n"
                           "experiment b extends a { epochs = 4 }\n"
                           "experiment c extends b { optimizer.lr = 2e-2 }\n";
    nnx_experiment *e = fx_check(&f, src, "c");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->epochs, 4);
    assert_true(e->optim.lr == 2e-2);
    assert_true(e->optim.beta1 == 0.8);
    fx_done(&f);
}

static void override_of_bare_name(void **state)
{
    (void)state;
    fx f;
    /* `model = net` is `net()`; its arguments can still be set */
    const char *src = TOY "experiment a { data = toy model = net }\nexperiment b extends a { model.w = 4 loss.label_smoothing = 0.1 }";
    nnx_experiment *e = fx_check(&f, src, "b");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->net.layers[0].arg[0], 4);
    assert_true(e->loss.label_smoothing == 0.1);
    fx_done(&f);
}

static void errors_in_the_base_are_reported(void **state)
{
    (void)state;
    fx f;
    assert_null(fx_check(&f, TOY "experiment a { data = toy model = net epochs = 0 }\n"
                                 "experiment b extends a { epochs = 5 }\nexperiment c extends a { batch = 2 }", "c"));
    assert_true(fx_has(&f, "epochs must be >= 1, got 0"));
    fx_done(&f);
    /* overriding the bad value fixes it */
    assert_non_null(fx_check(&f, TOY "experiment a { data = toy model = net epochs = 0 }\n"
                                     "experiment b extends a { epochs = 5 }", "b"));
    fx_done(&f);
}

static void dotted_override_needs_a_call(void **state)
{
    (void)state;
    fx f;
    assert_null(fx_check(&f, TOY "experiment a { data = toy model = net batch = 8 }\n"
                                 "experiment b extends a { optimizer.lr.x = 1 }", "b"));
    assert_true(fx_has(&f, "cannot set 'x' inside argument 'lr' of optimizer"));
    fx_done(&f);
    assert_null(fx_check(&f, TOY "experiment a { data = toy model = net }\n"
                                 "experiment b extends a { metrics += [auc]  metrics.x = 1 }", "b"));
    assert_true(fx_has(&f, "'metrics' is not a call: it has no argument 'x'"));
    fx_done(&f);
    assert_null(fx_check(&f, TOY "experiment a { data = toy model = net  optimizer.lr = 0.1 optimizer.lr = 0.2 }", "a"));
    assert_true(fx_has(&f, "'optimizer.lr' is set twice"));
    fx_done(&f);
}

static void data_keys_apply_to_one_experiment(void **state)
{
    (void)state;
    fx f;
    /* a's `data.KEY` lines change its copy of the block; b, checked next by
     * the same checker, sees the block as written */
    const char *src = TOY "experiment a { data = toy  model = net  data.normalize = minmax\n"
                          "  data.valid = split(train, 0.5) }\n"
                          "experiment b { data = toy  model = net }\n"
                          "experiment c extends a { data = toy }\n";
    nnx_experiment *a = fx_check(&f, src, "a");
    if (!a)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(a->data.normalize, NNX_XNORM_MINMAX);
    assert_true(a->data.split[NNX_XSPLIT_VALID].fraction == 0.5);
    nnx_experiment *b = nnx_check_experiment(f.c, "b", NULL, 0, &f.d);
    assert_non_null(b);
    assert_int_equal(b->data.normalize, NNX_XNORM_NONE);
    assert_true(b->data.split[NNX_XSPLIT_VALID].fraction == 0.2);
    /* `data = name` forgets the earlier data.KEY lines */
    nnx_experiment *c = nnx_check_experiment(f.c, "c", NULL, 0, &f.d);
    assert_non_null(c);
    assert_int_equal(c->data.normalize, NNX_XNORM_NONE);
    /* --set data.KEY=value applies last, over the experiment's own line */
    nnx_override ov = { "data.normalize", "standard" };
    nnx_experiment *d = nnx_check_experiment(f.c, "a", &ov, 1, &f.d);
    assert_non_null(d);
    assert_int_equal(d->data.normalize, NNX_XNORM_STANDARD);
    assert_true(d->data.split[NNX_XSPLIT_VALID].fraction == 0.5);
    nnx_experiment_free(b);
    nnx_experiment_free(c);
    nnx_experiment_free(d);
    fx_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inherits_everything),
        cmocka_unit_test(dotted_override_keeps_other_arguments),
        cmocka_unit_test(block_is_dotted),
        cmocka_unit_test(append_to_lists),
        cmocka_unit_test(replacing_drops_earlier_overrides),
        cmocka_unit_test(chain_applies_base_first),
        cmocka_unit_test(override_of_bare_name),
        cmocka_unit_test(errors_in_the_base_are_reported),
        cmocka_unit_test(dotted_override_needs_a_call),
        cmocka_unit_test(data_keys_apply_to_one_experiment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
