/* test_registry.c — every family's one table is complete: functions present, names unique, codes stable.
 *
 * The activation, layer-kind and metric tables are the one place each of
 * those is defined; the language's catalog names them and the experiment's
 * name functions read the catalog.  Nothing here is added at run time: the
 * tests walk the tables as they are built.  The stored codes are compared
 * with the ones old weights files hold, so a reordering fails here.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lang/check_int.h"
#include "nnx/exp.h"
#include "nnx/rt/metrics.h"
#include "nnx/rt/net.h"

/* The activation codes weights files hold (checkpoint.c stores info.act). */
static const char *const stored_acts[] = {
    "relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "swish",
};

static void activation_codes_are_stable(void **state)
{
    (void)state;
    assert_int_equal(NNX_ACT_RELU, 0);
    assert_int_equal(NNX_ACT_SWISH, 6);
    assert_true(nnx_act_count() >= sizeof stored_acts / sizeof stored_acts[0]);
    for (size_t i = 0; i < sizeof stored_acts / sizeof stored_acts[0]; i++)
        assert_string_equal(nnx_act_info_of((unsigned)i)->name, stored_acts[i]);
    assert_null(nnx_act_info_of((unsigned)nnx_act_count()));
    assert_null(nnx_act_info_of(1000u));
}

static void activation_rows_are_complete(void **state)
{
    (void)state;
    for (size_t i = 0; i < nnx_act_count(); i++) {
        const nnx_act_info *A = nnx_act_info_of((unsigned)i);
        assert_non_null(A);
        assert_int_equal(A->code, (int)i);
        assert_non_null(A->name);
        assert_non_null(A->forward);
        assert_non_null(A->backward);
        assert_ptr_equal(nnx_act_info_named(A->name), A);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(nnx_act_info_of((unsigned)j)->name, A->name);
    }
}

/* Each activation's backward is its forward's derivative (central
 * differences in double over the float kernels, away from kinks). */
static void activation_backward_is_the_derivative(void **state)
{
    (void)state;
    static const float xs[] = { -2.7f, -1.3f, -0.61f, 0.37f, 1.1f, 2.3f };
    const float h = 1e-2f;
    for (size_t i = 0; i < nnx_act_count(); i++) {
        const nnx_act_info *A = nnx_act_info_of((unsigned)i);
        float a = A->param == NNX_ACT_PARAM_NONE ? 0.0f : 0.7f;
        for (size_t j = 0; j < sizeof xs / sizeof xs[0]; j++) {
            float x[3] = { xs[j] - h, xs[j], xs[j] + h }, y[3], one = 1.0f, dx;
            A->forward(x, y, 3, a);
            A->backward(&x[1], &y[1], &one, &dx, 1, a);
            double num = ((double)y[2] - (double)y[0]) / (2.0 * h);
            if (fabs(dx - num) > 2e-2 * fmax(1.0, fabs(num)))
                fail_msg("%s at x = %g: backward %g, finite differences %g", A->name, (double)xs[j],
                         (double)dx, num);
        }
    }
}

/* Every runtime activation has exactly one catalog row (code NNX_LAYER_ACT)
 * and every such row names a runtime activation; its arguments agree with
 * the parameter the runtime takes. */
static void catalog_names_every_activation(void **state)
{
    (void)state;
    size_t rows = 0;
    for (size_t i = 0; i < ck_nbuiltins; i++) {
        const ck_builtin *b = &ck_builtins[i];
        if (b->kind != CK_B_LAYER || b->code != NNX_LAYER_ACT)
            continue;
        rows++;
        const nnx_act_info *A = nnx_act_info_named(b->name);
        if (!A)
            fail_msg("catalog activation '%s' is not in the runtime's table", b->name);
        assert_ptr_equal(ck_act_builtin(A->code), b);
        if (A->param == NNX_ACT_PARAM_NONE) {
            assert_int_equal(b->nparams, 0);
            assert_null(A->param_name);
        } else {
            assert_true(b->nparams == 1 && b->params[0].ty == CK_T_NUM);
            assert_string_equal(b->params[0].name, A->param_name);
        }
    }
    assert_int_equal(rows, nnx_act_count());
}

/* The layer kinds weights files hold. */
static void layer_kinds_are_stable(void **state)
{
    (void)state;
    assert_int_equal(NNX_LAYER_DENSE, 0);
    assert_int_equal(NNX_LAYER_CONV, 1);
    assert_int_equal(NNX_LAYER_MAXPOOL, 2);
    assert_int_equal(NNX_LAYER_AVGPOOL, 3);
    assert_int_equal(NNX_LAYER_FLATTEN, 4);
    assert_int_equal(NNX_LAYER_DROPOUT, 5);
    assert_int_equal(NNX_LAYER_BATCHNORM, 6);
    assert_int_equal(NNX_LAYER_ACT, 7);
    assert_int_equal(NNX_LAYER_LAYERNORM, 8);
    assert_int_equal(NNX_LAYER_GLOBAL_AVGPOOL, 9);
    assert_int_equal(NNX_LAYER_RESIDUAL, 10);
    assert_int_equal(NNX_LAYER_RESIDUAL_ADD, 11);
}

/* Each compiled experiment enum value has its name in the catalog (the name
 * functions read it: no list matched by position). */
static void experiment_names_come_from_the_catalog(void **state)
{
    (void)state;
    for (int op = 0; op < (int)nnx_layer_kind_count(); op++)
        assert_string_not_equal(nnx_exp_op_name((nnx_exp_op)op), "?");
    for (int k = NNX_XLOSS_CROSS_ENTROPY; k <= NNX_XLOSS_MSE; k++)
        assert_non_null(ck_builtin_find(nnx_exp_loss_name((nnx_exp_loss_kind)k), CK_B_LOSS));
    for (int k = NNX_XOPT_SGD; k <= NNX_XOPT_RMSPROP; k++)
        assert_non_null(ck_builtin_find(nnx_exp_optim_name((nnx_exp_optim_kind)k), CK_B_OPTIM));
    for (int k = NNX_XDECAY_NONE; k <= NNX_XDECAY_PLATEAU; k++)
        assert_non_null(ck_builtin_find(nnx_exp_decay_name((nnx_exp_decay_kind)k), CK_B_DECAY));
    for (int k = 0; k < NNX_XLOG_COUNT; k++)
        assert_non_null(ck_builtin_find(nnx_exp_logger_name((nnx_exp_logger)k), CK_B_LOGGER));
    for (int k = NNX_XSEARCH_GRID; k <= NNX_XSEARCH_TPE; k++)
        assert_non_null(ck_builtin_find(nnx_exp_search_name((nnx_exp_search_kind)k), CK_B_SEARCH));
    /* and each catalog row's code names it back */
    for (size_t i = 0; i < ck_nbuiltins; i++) {
        const ck_builtin *b = &ck_builtins[i];
        const char *n = b->kind == CK_B_LAYER && b->code != NNX_LAYER_ACT ? nnx_exp_op_name((nnx_exp_op)b->code)
                      : b->kind == CK_B_LOSS ? nnx_exp_loss_name((nnx_exp_loss_kind)b->code)
                      : b->kind == CK_B_OPTIM ? nnx_exp_optim_name((nnx_exp_optim_kind)b->code)
                      : b->kind == CK_B_DECAY ? nnx_exp_decay_name((nnx_exp_decay_kind)b->code)
                      : b->kind == CK_B_LOGGER ? nnx_exp_logger_name((nnx_exp_logger)b->code)
                      : b->kind == CK_B_SEARCH ? nnx_exp_search_name((nnx_exp_search_kind)b->code) : b->name;
        assert_string_equal(n, b->name);
    }
}

static void metric_rows_are_complete(void **state)
{
    (void)state;
    assert_true(nnx_metric_count() > 0);
    assert_null(nnx_metric_at(nnx_metric_count()));
    for (size_t i = 0; i < nnx_metric_count(); i++) {
        const nnx_metric_info *m = nnx_metric_at(i);
        assert_non_null(m->name);
        assert_non_null(m->score);
        assert_true(m->task != 0 && (m->task & ~(unsigned)(NNX_METRIC_CLASS | NNX_METRIC_REGR)) == 0);
        assert_string_not_equal(m->name, ck_loss_metric.name);
        assert_ptr_equal(nnx_metric_named(m->name), m);
        assert_ptr_equal(ck_metric_find(m->name), m);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(nnx_metric_at(j)->name, m->name);
    }
}

/* Every metric gives a number on the data of its task and NaN on the other,
 * so that neither the run loop nor the ensemble scorer meets a silent gap. */
static void metrics_score_their_task(void **state)
{
    (void)state;
    const int32_t y[] = { 0, 1, 1, 0, 1, 0 };
    const float p2[] = { 0.8f, 0.2f, 0.3f, 0.7f, 0.6f, 0.4f, 0.4f, 0.6f, 0.1f, 0.9f, 0.7f, 0.3f };
    const float p1[] = { 0.2f, 0.7f, 0.4f, 0.6f, 0.9f, 0.3f };
    const float t[] = { 0.5f, -1.0f, 2.0f, 0.0f, 1.5f, 0.25f };
    nnx_metric_data cls = { y, NULL, p2, 6, 2 }, regr = { NULL, t, p1, 6, 1 };
    for (size_t i = 0; i < nnx_metric_count(); i++) {
        const nnx_metric_info *m = nnx_metric_at(i);
        double vc = m->score(&cls), vr = m->score(&regr);
        if (m->task & NNX_METRIC_CLASS)
            assert_true(isfinite(vc));
        else
            assert_true(isnan(vc));
        if (m->task & NNX_METRIC_REGR)
            assert_true(isfinite(vr));
        else
            assert_true(isnan(vr));
        if (m->on_averaged_probs)   /* what the ensemble scorer reads */
            assert_true(m->task & NNX_METRIC_CLASS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(activation_codes_are_stable),
        cmocka_unit_test(activation_rows_are_complete),
        cmocka_unit_test(activation_backward_is_the_derivative),
        cmocka_unit_test(catalog_names_every_activation),
        cmocka_unit_test(layer_kinds_are_stable),
        cmocka_unit_test(experiment_names_come_from_the_catalog),
        cmocka_unit_test(metric_rows_are_complete),
        cmocka_unit_test(metrics_score_their_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
