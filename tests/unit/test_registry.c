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

#include "check_fixture.h"
#include "lang/check_int.h"
#include "nnx/exp.h"
#include "run/run_int.h"
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

/* The layer kinds weights files hold, by code (checkpoint.c stores info.kind
 * and names a mismatch by the row's name). */
static const char *const stored_kinds[] = {
    "dense", "conv", "maxpool", "avgpool", "flatten", "dropout", "batchnorm", "activation",
    "layernorm", "global_avgpool", "residual", "residual add",
};

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
    assert_true(nnx_layer_kind_count() >= sizeof stored_kinds / sizeof stored_kinds[0]);
    for (size_t i = 0; i < sizeof stored_kinds / sizeof stored_kinds[0]; i++)
        assert_string_equal(nnx_layer_kind_of((unsigned)i)->name, stored_kinds[i]);
    assert_null(nnx_layer_kind_of((unsigned)nnx_layer_kind_count()));
    assert_null(nnx_layer_kind_of(1000u));
}

/* Each row: its code is its index, a unique name, the functions every layer
 * needs (add, forward, backward), and an argument list with no gap. */
static void layer_kind_rows_are_complete(void **state)
{
    (void)state;
    for (size_t i = 0; i < nnx_layer_kind_count(); i++) {
        const nnx_layer_kind_info *K = nnx_layer_kind_of((unsigned)i);
        assert_non_null(K);
        assert_int_equal(K->code, (int)i);
        assert_non_null(K->name);
        if (!K->add || !K->forward || !K->backward)
            fail_msg("layer kind '%s' lacks its add, forward or backward", K->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(nnx_layer_kind_of((unsigned)j)->name, K->name))
                fail_msg("two layer kinds are named '%s'", K->name);
        bool ended = false;
        for (int j = 0; j < NNX_LAYER_MAX_ARGS; j++) {
            if (K->args[j].field == NNX_LF_NONE) {
                ended = true;
                continue;
            }
            if (ended)
                fail_msg("layer kind '%s': argument %d follows the end of its list", K->name, j + 1);
            if (!K->args[j].name && K->code != NNX_LAYER_ACT)
                fail_msg("layer kind '%s': argument %d has no name", K->name, j + 1);
        }
    }
}

/* How many arguments a runtime row lists. */
static size_t kind_nargs(const nnx_layer_kind_info *K)
{
    size_t n = 0;
    while (n < NNX_LAYER_MAX_ARGS && K->args[n].field != NNX_LF_NONE)
        n++;
    return n;
}

/* Every catalog layer names a runtime kind of the same name whose arguments
 * are the catalog row's parameters in the same order (build.c maps one onto
 * the other by position); every runtime kind has its catalog row, but the
 * activation kind (one catalog row per activation, test above) and a
 * residual block's end (written as the block's closing brace). */
static void catalog_and_layer_kinds_agree(void **state)
{
    (void)state;
    for (size_t i = 0; i < ck_nbuiltins; i++) {
        const ck_builtin *b = &ck_builtins[i];
        if (b->kind != CK_B_LAYER)
            continue;
        const nnx_layer_kind_info *K = nnx_layer_kind_of((unsigned)b->code);
        if (!K)
            fail_msg("catalog layer '%s' has code %d, which no layer kind has", b->name, b->code);
        if (b->code == NNX_LAYER_ACT) {
            assert_true(b->nparams <= kind_nargs(K));
            continue;
        }
        if (strcmp(K->name, b->name))
            fail_msg("catalog layer '%s' has the code of layer kind '%s'", b->name, K->name);
        if (b->nparams != kind_nargs(K))
            fail_msg("layer '%s': the catalog lists %zu arguments, its layer kind %zu", b->name,
                     b->nparams, kind_nargs(K));
        for (size_t j = 0; j < b->nparams; j++)
            if (strcmp(b->params[j].name, K->args[j].name))
                fail_msg("layer '%s': argument %zu is '%s' in the catalog, '%s' in its layer kind",
                         b->name, j + 1, b->params[j].name, K->args[j].name);
    }
    for (size_t k = 0; k < nnx_layer_kind_count(); k++) {
        const nnx_layer_kind_info *K = nnx_layer_kind_of((unsigned)k);
        if (K->code == NNX_LAYER_ACT || K->code == NNX_LAYER_RESIDUAL_ADD)
            continue;
        size_t rows = 0;
        for (size_t i = 0; i < ck_nbuiltins; i++)
            rows += ck_builtins[i].kind == CK_B_LAYER && ck_builtins[i].code == (int)K->code;
        if (rows != 1)
            fail_msg("layer kind '%s' has %zu catalog rows, not one", K->name, rows);
    }
}

/* A catalog layer called with every argument given, each a different value
 * (integers 2, 3, 4, ...; numbers 0.25, 0.375, ...; flags false), so that
 * an argument mapped onto the wrong field shows. */
static void layer_call(char *buf, size_t size, const ck_builtin *b)
{
    if (b->code == NNX_LAYER_RESIDUAL) {
        snprintf(buf, size, "residual { conv(4, 3, stride = 2) } residual { dense(4) }");
        return;
    }
    size_t len = (size_t)snprintf(buf, size, "%s(", b->name);
    for (size_t j = 0; j < b->nparams; j++) {
        const ck_param *p = &b->params[j];
        len += (size_t)snprintf(buf + len, size - len, "%s%s = ", j ? ", " : "", p->name);
        if (p->ty == CK_T_INT)
            len += (size_t)snprintf(buf + len, size - len, "%zu", 2 + j);
        else if (p->ty == CK_T_BOOL)
            len += (size_t)snprintf(buf + len, size - len, "false");
        else
            len += (size_t)snprintf(buf + len, size - len, "%g", 0.25 + 0.125 * (double)j);
    }
    snprintf(buf + len, size - len, ")");
}

/* What the runtime made of argument `name` (NAN for a name this test does
 * not know: the shapes still check such an argument). */
static double runtime_arg(const nnx_layer_info *I, const char *name)
{
    if (!strcmp(name, "units") || !strcmp(name, "filters"))
        return I->units;
    if (!strcmp(name, "kernel") || !strcmp(name, "size"))
        return I->kernel;
    if (!strcmp(name, "stride"))
        return I->stride;
    if (!strcmp(name, "pad"))
        return I->pad;
    if (!strcmp(name, "bias"))
        return I->bias;
    if (!strcmp(name, "eps"))
        return I->eps;
    if (!strcmp(name, "p") || !strcmp(name, "momentum") || !strcmp(name, "slope") ||
        !strcmp(name, "alpha") || !strcmp(name, "beta"))
        return I->a;
    return NAN;
}

/* The checker's shape rule (shape.c) and the runtime's (each kind's add)
 * give every layer the same output, on an image and on a flat input, and
 * the checked arguments build the network: a kind that changes the shape
 * but has no rule in the checker fails here. */
static void checker_and_runtime_build_every_layer_alike(void **state)
{
    (void)state;
    static const char *const inputs[] = { "", "flatten " };
    for (size_t i = 0; i < ck_nbuiltins; i++) {
        const ck_builtin *b = &ck_builtins[i];
        if (b->kind != CK_B_LAYER)
            continue;
        for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
            char call[256], src[1024];
            layer_call(call, sizeof call, b);
            snprintf(src, sizeof src,
                     "data d { train = blobs(n = 20, classes = 2, features = 192)  shape = [3, 8, 8] }\n"
                     "network n { %s%s flatten dense(2) }\nexperiment x { data = d  model = n }\n",
                     inputs[k], call);
            fx f;
            nnx_experiment *e = fx_check(&f, src, "x");
            if (!e && k == 0)   /* every layer takes an image */
                fail_msg("%s: %s", call, fx_msgs(&f.d));
            if (!e) {           /* the checker refuses it (a conv on a flat input) */
                assert_true(f.d.nerrors > 0);
                fx_done(&f);
                continue;
            }
            nnx_rt_error err;
            nnx_net *net = nnx_run_build_net(e, 192, 4, &err);
            if (!net)
                fail_msg("%s: the checker accepts it, the runtime says: %s", call, err.msg);
            assert_int_equal(nnx_net_nlayers(net), (int)e->net.nlayers);
            bool seen = false;
            for (size_t l = 0; l < e->net.nlayers; l++) {
                const nnx_exp_shape o = e->net.layers[l].out;
                nnx_layer_info I;
                assert_int_equal(nnx_net_layer_info(net, (int)l, &I), 0);
                assert_int_equal(I.kind, e->net.layers[l].op);
                int c = o.d[0], h = o.rank == 3 ? o.d[1] : 1, w = o.rank == 3 ? o.d[2] : 1;
                if (I.out_c != c || I.out_h != h || I.out_w != w)
                    fail_msg("%s%s, layer %zu: the checker gives %d×%d×%d, the runtime %d×%d×%d",
                             inputs[k], call, l + 1, c, h, w, I.out_c, I.out_h, I.out_w);
                if (l == k) {   /* the layer under test: each argument where it belongs */
                    for (size_t j = 0; j < b->nparams && b->code != NNX_LAYER_RESIDUAL; j++) {
                        double want = e->net.layers[l].arg[j], got = runtime_arg(&I, b->params[j].name);
                        if (!isnan(got) && got != want)
                            fail_msg("%s: argument '%s' is %g, the runtime's layer has %g", call,
                                     b->params[j].name, want, got);
                    }
                    seen = true;
                }
            }
            assert_true(seen);
            nnx_net_free(net);
            fx_done(&f);
        }
    }
}

/* Every optimizer: its code is its index, its name unique, and the catalog
 * row of the same code has its name and lists its arguments in its order
 * (the checker sets the fields by that order); every catalog optimizer has
 * a row.  (No file stores an optimizer's code; the order is kept anyway.) */
static void optimizers_agree_with_the_catalog(void **state)
{
    (void)state;
    static const char *const stored[] = { "sgd", "adam", "adamw", "rmsprop" };
    assert_true(nnx_optim_count() >= sizeof stored / sizeof stored[0]);
    for (size_t i = 0; i < sizeof stored / sizeof stored[0]; i++)
        assert_string_equal(nnx_optim_info_of((unsigned)i)->name, stored[i]);
    assert_null(nnx_optim_info_of((unsigned)nnx_optim_count()));
    for (size_t i = 0; i < nnx_optim_count(); i++) {
        const nnx_optim_info *o = nnx_optim_info_of((unsigned)i);
        assert_int_equal(o->code, (int)i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(nnx_optim_info_of((unsigned)j)->name, o->name))
                fail_msg("two optimizers are named '%s'", o->name);
        const ck_builtin *b = ck_builtin_find(o->name, CK_B_OPTIM);
        if (!b || b->code != (int)o->code)
            fail_msg("optimizer '%s' has no catalog row of its name and code", o->name);
        size_t n = 0;
        while (n < NNX_OPTIM_MAX_ARGS && o->args[n].field != NNX_OF_NONE)
            n++;
        if (n != b->nparams)
            fail_msg("optimizer '%s': the catalog lists %zu arguments, its row %zu", o->name,
                     b->nparams, n);
        for (size_t j = 0; j < n; j++)
            if (strcmp(o->args[j].name, b->params[j].name))
                fail_msg("optimizer '%s': argument %zu is '%s' in the catalog, '%s' in its row",
                         o->name, j + 1, b->params[j].name, o->args[j].name);
    }
    for (size_t i = 0; i < ck_nbuiltins; i++)
        if (ck_builtins[i].kind == CK_B_OPTIM && !nnx_optim_info_of((unsigned)ck_builtins[i].code))
            fail_msg("catalog optimizer '%s' has no row", ck_builtins[i].name);
}

/* Every decay likewise: code == index, a unique name, and the catalog row of
 * its code has its name and its arguments in its order; every catalog decay
 * has a row. */
static void decays_agree_with_the_catalog(void **state)
{
    (void)state;
    static const char *const stored[] = {
        "none", "cosine", "step", "multistep", "exp", "poly", "linear", "plateau",
    };
    assert_true(nnx_decay_count() >= sizeof stored / sizeof stored[0]);
    for (size_t i = 0; i < sizeof stored / sizeof stored[0]; i++)
        assert_string_equal(nnx_decay_info_of((unsigned)i)->name, stored[i]);
    assert_null(nnx_decay_info_of((unsigned)nnx_decay_count()));
    for (size_t i = 0; i < nnx_decay_count(); i++) {
        const nnx_decay_info *d = nnx_decay_info_of((unsigned)i);
        assert_int_equal(d->code, (int)i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(nnx_decay_info_of((unsigned)j)->name, d->name))
                fail_msg("two decays are named '%s'", d->name);
        const ck_builtin *b = ck_builtin_find(d->name, CK_B_DECAY);
        if (!b || b->code != (int)d->code)
            fail_msg("decay '%s' has no catalog row of its name and code", d->name);
        size_t n = 0;
        while (n < NNX_DECAY_MAX_ARGS && d->args[n].field != NNX_SF_NONE)
            n++;
        if (n != b->nparams)
            fail_msg("decay '%s': the catalog lists %zu arguments, its row %zu", d->name, b->nparams, n);
        for (size_t j = 0; j < n; j++) {
            if (strcmp(d->args[j].name, b->params[j].name))
                fail_msg("decay '%s': argument %zu is '%s' in the catalog, '%s' in its row", d->name,
                         j + 1, b->params[j].name, d->args[j].name);
            /* a list and a metric are read as such, every other argument as a number */
            const enum nnx_sched_field f = d->args[j].field;
            const ck_ty ty = b->params[j].ty;
            if ((f == NNX_SF_AT) != (ty == CK_T_NUM_LIST) || (f == NNX_SF_ON) != (ty == CK_T_METRIC))
                fail_msg("decay '%s': argument '%s' has the wrong kind of field", d->name, d->args[j].name);
        }
    }
    for (size_t i = 0; i < ck_nbuiltins; i++)
        if (ck_builtins[i].kind == CK_B_DECAY && !nnx_decay_info_of((unsigned)ck_builtins[i].code))
            fail_msg("catalog decay '%s' has no row", ck_builtins[i].name);
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
    for (int k = 0; k < (int)nnx_optim_count(); k++)
        assert_non_null(ck_builtin_find(nnx_exp_optim_name((nnx_exp_optim_kind)k), CK_B_OPTIM));
    for (int k = 0; k < (int)nnx_decay_count(); k++)
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
        cmocka_unit_test(layer_kind_rows_are_complete),
        cmocka_unit_test(catalog_and_layer_kinds_agree),
        cmocka_unit_test(checker_and_runtime_build_every_layer_alike),
        cmocka_unit_test(optimizers_agree_with_the_catalog),
        cmocka_unit_test(decays_agree_with_the_catalog),
        cmocka_unit_test(experiment_names_come_from_the_catalog),
        cmocka_unit_test(metric_rows_are_complete),
        cmocka_unit_test(metrics_score_their_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
