/* test_check_shape.c — networks flattened into layers, with each layer's shape; shape errors at the breaking layer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check_fixture.h"
#include "nnx/rt/net.h"

#define IMG "data img { train = blobs(n = 100, classes = 10, features = 784)  shape = [1, 28, 28] }\n"

static nnx_experiment *net_on(fx *f, const char *data, const char *nets, const char *model)
{
    char src[4096];
    snprintf(src, sizeof src, "%s%s\nexperiment x { data = %s  model = %s }\n", data, nets,
             strstr(data, "data img") ? "img" : "toy", model);
    return fx_check(f, src, "x");
}

static void assert_shape(nnx_exp_shape s, int rank, int a, int b, int c)
{
    assert_int_equal(s.rank, rank);
    assert_int_equal(s.d[0], a);
    if (rank == 3) {
        assert_int_equal(s.d[1], b);
        assert_int_equal(s.d[2], c);
    }
}

static void cnn_shapes(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = net_on(&f, IMG,
                               "network cnn(p = 0.3) {\n"
                               "  conv(32, 3, pad = 1) batchnorm swish maxpool(2)\n"
                               "  conv(64, 3, pad = 1) batchnorm swish maxpool(2)\n"
                               "  flatten dropout(p) dense(128) swish dense(10)\n}", "cnn");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->net.nlayers, 13);
    assert_shape(e->net.in, 3, 1, 28, 28);
    assert_int_equal(e->net.layers[0].op, NNX_LAYER_CONV);
    assert_int_equal(e->net.layers[0].arg[3], 1);
    assert_int_equal(e->net.layers[0].arg[2], 1);
    assert_shape(e->net.layers[0].out, 3, 32, 28, 28);
    assert_shape(e->net.layers[1].out, 3, 32, 28, 28);      /* batchnorm per channel */
    assert_int_equal(e->net.layers[3].arg[1], 2);
    assert_shape(e->net.layers[3].out, 3, 32, 14, 14);
    assert_shape(e->net.layers[7].out, 3, 64, 7, 7);
    assert_shape(e->net.layers[8].out, 1, 3136, 0, 0);
    assert_shape(e->net.layers[10].in, 1, 3136, 0, 0);
    assert_shape(e->net.out, 1, 10, 0, 0);
    fx_done(&f);
}

static void conv_arithmetic(void **state)
{
    (void)state;
    fx f;
    /* (28 + 2·0 − 5)/2 + 1 = 12; pool 3 stride 2: (12 − 3)/2 + 1 = 5; avgpool 2: 2 */
    nnx_experiment *e = net_on(&f, IMG, "network n { conv(6, 5, stride = 2)  maxpool(3, stride = 2)  avgpool(2)  dense(10) }",
                               "n");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_shape(e->net.layers[0].out, 3, 6, 12, 12);
    assert_shape(e->net.layers[1].out, 3, 6, 5, 5);
    assert_shape(e->net.layers[2].out, 3, 6, 2, 2);
    assert_shape(e->net.layers[3].in, 3, 6, 2, 2);     /* dense reads C×H×W flat */
    assert_shape(e->net.layers[3].out, 1, 10, 0, 0);
    fx_done(&f);
}

static void repeat_and_subnetworks(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = net_on(&f, TOY,
                               "network block(w) { dense(w) batchnorm swish }\n"
                               "network deep(depth = 3, w = 32) { repeat(depth) { block(w = w) } repeat(0) { relu } dense(3) }",
                               "deep(depth = 2, w = 8)");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_string_equal(e->net.name, "deep");
    assert_int_equal(e->net.nlayers, 7);
    assert_int_equal(e->net.layers[0].op, NNX_LAYER_DENSE);
    assert_int_equal(e->net.layers[0].arg[0], 8);
    assert_int_equal(e->net.layers[3].op, NNX_LAYER_DENSE);
    assert_int_equal(e->net.layers[5].op, NNX_LAYER_ACT);
    assert_int_equal(e->net.layers[5].act, NNX_ACT_SWISH);
    assert_true(e->net.layers[5].arg[0] == 1);
    assert_int_equal(e->net.layers[6].arg[0], 3);
    /* every layer keeps where it was written */
    assert_non_null(e->net.layers[0].loc.src);
    assert_true(e->net.layers[0].loc.begin < e->net.layers[6].loc.begin);
    fx_done(&f);
}

static void activation_parameters(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = net_on(&f, TOY, "network n(act = relu) { dense(4) act leaky_relu elu(alpha = 0.5) gelu tanh sigmoid dense(3) }",
                               "n(act = swish(beta = 2))");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->net.layers[1].op, NNX_LAYER_ACT);
    assert_int_equal(e->net.layers[1].act, NNX_ACT_SWISH);
    assert_true(e->net.layers[1].arg[0] == 2);
    assert_int_equal(e->net.layers[2].act, NNX_ACT_LEAKY_RELU);
    assert_true(e->net.layers[2].arg[0] == 0.01);
    assert_int_equal(e->net.layers[3].act, NNX_ACT_ELU);
    assert_true(e->net.layers[3].arg[0] == 0.5);
    assert_int_equal(e->net.layers[4].act, NNX_ACT_GELU);
    assert_true(e->net.layers[4].arg[0] == 0);
    assert_int_equal(e->net.layers[6].op, NNX_LAYER_ACT);
    assert_int_equal(e->net.layers[6].act, NNX_ACT_SIGMOID);
    assert_string_equal(nnx_exp_layer_name(&e->net.layers[6]), "sigmoid");
    fx_done(&f);
}

static void expect_net_error(const char *data, const char *nets, const char *model, const char *msg)
{
    fx f;
    if (net_on(&f, data, nets, model) || !fx_has(&f, msg))
        fail_msg("expected '%s', got: %s", msg, fx_msgs(&f.d));
    fx_done(&f);
}

static void shape_errors(void **state)
{
    (void)state;
    expect_net_error(TOY, "network n { conv(4, 3) dense(3) }", "n", "conv needs a C×H×W input, but its input is flat (2 features)");
    expect_net_error(TOY, "network n { dense(8) maxpool(2) dense(3) }", "n", "maxpool needs a C×H×W input");
    expect_net_error(IMG, "network n { conv(4, 29) dense(10) }", "n", "conv kernel 29 is larger than its 1×28×28 input");
    expect_net_error(IMG, "network n { maxpool(7) maxpool(7) dense(10) }", "n",
                     "maxpool(7) needs an input at least 7×7, but its input is 1×4×4");
    expect_net_error(IMG, "network n { conv(4, 3) }", "n", "the network ends with a 4×26×26 output; cross_entropy needs a flat one");
    expect_net_error(IMG, "network n { dense(12) }", "n", "the network gives 12 outputs, but data 'img' has 10 classes [cross_entropy needs one output per class: end with dense(10)]");
    expect_net_error(TOY, "network n { }", "n", "network 'n' has no layers");
    expect_net_error(TOY, "network n { dense(4) swsh dense(3) }", "n", "unknown layer 'swsh' [did you mean 'swish'?]");
    expect_net_error(TOY, "network n { dense(4) toy dense(3) }", "n", "'toy' is a data block, not a layer");
    expect_net_error(TOY, "network n { dense(0) dense(3) }", "n", "dense: units must be >= 1, got 0");
    expect_net_error(TOY, "network n { dense(7 / 2) dense(3) }", "n", "dense: units must be an integer, got 3.5");
    expect_net_error(TOY, "network n { repeat(-1) { relu } dense(3) }", "n", "repeat: count must be in [0, 10000], got -1");
    expect_net_error(TOY, "network n(w) { dense(w) dense(3) }", "n", "n needs argument 'w'");
    expect_net_error(TOY, "network n { n }", "n", "network 'n' contains itself: n -> n");
    /* after the first shape error, later layers are still checked for names */
    expect_net_error(TOY, "network n { conv(4, 3) relu dense(3) swsh }", "n", "unknown layer 'swsh'");
}

static void output_for_each_loss(void **state)
{
    (void)state;
    fx f;
    assert_non_null(fx_check(&f, "data b { train = blobs(classes = 2) }\nnetwork n { dense(1) }\n"
                                 "experiment x { data = b model = n loss = binary_cross_entropy metrics = [auc] }", "x"));
    fx_done(&f);
    assert_null(fx_check(&f, "data b { train = blobs(classes = 2) }\nnetwork n { dense(2) }\n"
                             "experiment x { data = b model = n loss = mse }", "x"));
    assert_true(fx_has(&f, "mse needs 1 output, the network gives 2"));
    fx_done(&f);
}

/* residual blocks flatten into a mark, the body and an end that records
 * the skip path; sub-networks and repeat work around them */
static void residual_layers(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = net_on(&f, IMG,
                               "network block(w, s = 1) {\n"
                               "  residual { conv(w, 3, stride = s, pad = 1) batchnorm swish conv(w, 3, pad = 1) batchnorm }\n"
                               "  swish\n}\n"
                               "network rn { conv(8, 3, pad = 1) repeat(2) { block(8) } block(16, s = 2)\n"
                               "  residual(project = false) { layernorm(eps = 1e-3) }\n"
                               "  global_avgpool residual { dense(32) } dense(10) }", "rn");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    /* conv, 3 × (7 + swish), residual layernorm end, gap, residual dense end, dense */
    assert_int_equal(e->net.nlayers, 1 + 3 * 8 + 3 + 1 + 3 + 1);
    const nnx_exp_layer *L = e->net.layers;
    assert_int_equal(L[1].op, NNX_LAYER_RESIDUAL);
    assert_true(L[1].arg[0]);
    assert_int_equal(L[7].op, NNX_LAYER_RESIDUAL_ADD);
    assert_int_equal(L[7].end.begin, 1);
    assert_int_equal(L[7].end.proj, NNX_XPROJ_IDENTITY);
    assert_int_equal(L[8].op, NNX_LAYER_ACT);
    assert_int_equal(L[8].act, NNX_ACT_SWISH);
    assert_int_equal(L[23].op, NNX_LAYER_RESIDUAL_ADD);           /* block(16, s = 2) */
    assert_int_equal(L[23].end.begin, 17);
    assert_int_equal(L[23].end.proj, NNX_XPROJ_CONV);
    assert_int_equal(L[23].end.stride, 2);
    assert_shape(L[17].in, 3, 8, 28, 28);
    assert_shape(L[23].out, 3, 16, 14, 14);
    assert_int_equal(L[25].op, NNX_LAYER_RESIDUAL);
    assert_false(L[25].arg[0]);
    assert_int_equal(L[26].op, NNX_LAYER_LAYERNORM);
    assert_true(L[26].arg[0] == 1e-3);
    assert_int_equal(L[28].op, NNX_LAYER_GLOBAL_AVGPOOL);
    assert_shape(L[28].out, 1, 16, 0, 0);
    assert_int_equal(L[31].end.proj, NNX_XPROJ_DENSE);
    assert_shape(L[31].out, 1, 32, 0, 0);
    assert_shape(e->net.out, 1, 10, 0, 0);
    fx_done(&f);
}

/* the mistakes, each at its place (tests/golden/check/residual_mistakes.nnx
 * shows the messages whole) */
static void residual_errors(void **state)
{
    (void)state;
    fx f;
    assert_null(net_on(&f, IMG, "network n { residual(project = false) { conv(4, 3) } flatten dense(10) }", "n"));
    assert_true(fx_has(&f, "conv changes the shape of a residual(project = false) block from 1×28×28 to 4×26×26"));
    fx_done(&f);
    assert_null(net_on(&f, IMG, "network n { residual { conv(4, 2) } flatten dense(10) }", "n"));
    assert_true(fx_has(&f, "the residual block turns 1×28×28 into 4×27×27, which no projection can match"));
    fx_done(&f);
    assert_null(net_on(&f, IMG, "network n { residual { } flatten dense(10) }", "n"));
    assert_true(fx_has(&f, "the residual block has no layers"));
    fx_done(&f);
    assert_null(net_on(&f, IMG, "network n { residual flatten dense(10) }", "n"));
    assert_true(fx_has(&f, "residual needs the layers it wraps in braces"));
    fx_done(&f);
    assert_null(net_on(&f, IMG, "network n { flatten { dense(3) } dense(10) }", "n"));
    assert_true(fx_has(&f, "'flatten' does not take a block of layers"));
    fx_done(&f);
    assert_null(net_on(&f, IMG, "network n { residual(project = 1) { relu } flatten dense(10) }", "n"));
    fx_done(&f);
    assert_null(net_on(&f, IMG, "network n { flatten global_avgpool dense(10) }", "n"));
    assert_true(fx_has(&f, "global_avgpool needs a C×H×W input, but its input is flat (784 features)"));
    fx_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cnn_shapes),
        cmocka_unit_test(conv_arithmetic),
        cmocka_unit_test(repeat_and_subnetworks),
        cmocka_unit_test(activation_parameters),
        cmocka_unit_test(shape_errors),
        cmocka_unit_test(output_for_each_loss),
        cmocka_unit_test(residual_layers),
        cmocka_unit_test(residual_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
