/* test_check.c — the checker on whole experiments: defaults, values, every kind of error, overrides, round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check_fixture.h"

#define FASHION_DATA \
    "let dir = \"" FASHION "\"\n" \
    "data fashion {\n" \
    "  train = idx(dir + \"/train-images-idx3-ubyte.gz\", dir + \"/train-labels-idx1-ubyte.gz\")\n" \
    "  test  = idx(dir + \"/t10k-images-idx3-ubyte.gz\", dir + \"/t10k-labels-idx1-ubyte.gz\")\n" \
    "  valid = split(train, 0.1)\n  normalize = standard\n}\n"

#define BASELINE FASHION_DATA \
    "network mlp(width = 256, p = 0.2) {\n" \
    "  dense(width) batchnorm swish dropout(p)\n  dense(width / 2) batchnorm swish dropout(p)\n  dense(10)\n}\n" \
    "experiment baseline {\n" \
    "  data = fashion\n  model = mlp()\n  loss = cross_entropy\n" \
    "  optimizer = adam(lr = 1e-3, weight_decay = 0)\n" \
    "  schedule { warmup = 1  decay = cosine(min_lr = 1e-5) }\n" \
    "  epochs = 20\n  batch = 128\n  seed = 1\n  metrics = [accuracy, auc]\n" \
    "  select = max(valid.auc)\n  early_stop = patience(5, on = valid.loss)\n  log = [csv, tensorboard]\n}\n"

static void baseline_compiles(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = fx_check(&f, BASELINE, "baseline");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_string_equal(e->data.name, "fashion");
    assert_int_equal(e->data.features, 784);
    assert_int_equal(e->data.classes, 10);
    assert_int_equal(e->data.rows, 60000);
    assert_int_equal(e->data.split[NNX_XSPLIT_VALID].kind, NNX_XSRC_SPLIT);
    assert_true(e->data.split[NNX_XSPLIT_VALID].fraction == 0.1);
    assert_int_equal(e->data.normalize, NNX_XNORM_STANDARD);
    assert_int_equal(e->optim.kind, NNX_OPTIM_ADAM);
    assert_true(e->optim.lr == 1e-3 && e->optim.beta1 == 0.9 && e->optim.beta2 == 0.999 && e->optim.eps == 1e-8);
    assert_int_equal(e->schedule.decay, NNX_DECAY_COSINE);
    assert_true(e->schedule.min_lr == 1e-5 && e->schedule.warmup == 1);
    assert_int_equal(e->epochs, 20);
    assert_int_equal(e->batch, 128);
    assert_int_equal(e->nmetrics, 3);
    assert_string_equal(e->metrics[0].name, "loss");
    assert_string_equal(e->metrics[2].name, "auc");
    assert_int_equal(e->select.split, NNX_XSPLIT_VALID);
    assert_int_equal(e->select.metric, 2);
    assert_true(e->select.maximize);
    assert_true(e->early_stop.enabled);
    assert_int_equal(e->early_stop.patience, 5);
    assert_int_equal(e->early_stop.on.metric, 0);
    assert_false(e->early_stop.on.maximize);
    assert_true(e->log[NNX_XLOG_CSV] && e->log[NNX_XLOG_TENSORBOARD] && !e->log[NNX_XLOG_MLFLOW]);
    assert_int_equal(e->net.nlayers, 9);
    assert_int_equal(e->net.layers[4].arg[0], 128);
    assert_true(e->net.layers[3].arg[0] == 0.2);
    fx_done(&f);
}

static void defaults_filled(void **state)
{
    (void)state;
    fx f;
    nnx_experiment *e = fx_check(&f, TOY "experiment x { data = toy  model = net }", NULL);
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->loss.kind, NNX_XLOSS_CROSS_ENTROPY);
    assert_int_equal(e->optim.kind, NNX_OPTIM_ADAM);
    assert_true(e->optim.lr == 1e-3);
    assert_int_equal(e->schedule.decay, NNX_DECAY_NONE);
    assert_int_equal(e->epochs, 10);
    assert_int_equal(e->batch, 0);
    assert_int_equal(e->seed, 1);
    assert_int_equal(e->nmetrics, 1);
    assert_int_equal(e->select.split, NNX_XSPLIT_VALID);
    assert_int_equal(e->select.metric, 0);
    assert_false(e->select.maximize);
    assert_false(e->early_stop.enabled);
    assert_true(e->log[NNX_XLOG_CSV]);
    assert_null(e->hooks);
    assert_int_equal(e->search.kind, NNX_XSEARCH_NONE);
    assert_int_equal(e->data.classes, 3);
    assert_int_equal(e->data.features, 2);
    fx_done(&f);
}

/* Check `body` inside an experiment on the toy data; expect an error containing `msg`. */
static void expect_error(const char *body, const char *msg)
{
    char src[4096];
    snprintf(src, sizeof src, TOY "experiment x {\n%s\n%s\n%s\n}\n", strstr(body, "data =") ? "" : " data = toy",
             strstr(body, "model =") ? "" : " model = net", body);
    fx f;
    nnx_experiment *e = fx_check(&f, src, "x");
    if (e || !fx_has(&f, msg))
        fail_msg("for `%s`: expected '%s', got: %s", body, msg, fx_msgs(&f.d));
    fx_done(&f);
}

static void expect_ok(const char *body)
{
    char src[4096];
    snprintf(src, sizeof src, TOY "experiment x {\n data = toy\n model = net\n%s\n}\n", body);
    fx f;
    if (!fx_check(&f, src, "x"))
        fail_msg("for `%s`: %s", body, fx_msgs(&f.d));
    fx_done(&f);
}

static void key_errors(void **state)
{
    (void)state;
    expect_error("epoch = 3", "unknown key 'epoch' [did you mean 'epochs'?]");
    expect_error("optimzer = adam", "unknown key 'optimzer' [did you mean 'optimizer'?]");
    expect_error("schedule.decy = none", "unknown key 'schedule.decy' [did you mean 'schedule.decay'?]");
    expect_error("epochs = 3\nepochs = 4", "'epochs' is set twice [it was first set on line 6]");
    expect_error("epochs.x = 3", "'epochs' is not a call: it has no argument 'x'");
    expect_error("epochs += [3]", "'+=' appends to a list key");
    expect_error("schedule = 3", "'schedule' is a block");
}

static void value_errors(void **state)
{
    (void)state;
    expect_error("epochs = 0", "epochs must be >= 1, got 0");
    expect_error("epochs = 2.5", "epochs must be an integer, got 2.5");
    expect_error("epochs = \"ten\"", "epochs must be an integer, got a string");
    expect_error("batch = 0", "batch must be >= 1, got 0");
    expect_error("batch = big", "unknown batch 'big'");
    expect_error("optimizer = adam(lr = 0)", "adam: lr must be > 0, got 0");
    expect_error("optimizer = adam(lr = -1e-3)", "adam: lr must be > 0, got -0.001");
    expect_error("optimizer = sgd(momentum = 0.9)", "sgd needs argument 'lr'");
    expect_error("optimizer = adam(lrr = 1e-3)", "adam has no argument 'lrr' [did you mean 'lr'?]");
    expect_error("optimizer = adam(1e-3, 0.9, 0.99, 1e-8, 0, 7)", "too many arguments: adam takes at most 5");
    expect_error("optimizer = adam(1e-3, lr = 1e-2)", "adam: argument 'lr' is given twice");
    expect_error("optimizer = adma", "unknown optimizer 'adma' [did you mean 'adam'?]");
    expect_error("optimizer = 3", "optimizer must be an optimizer, got a number");
    expect_error("optimizer = sgd(lr = 0.1, nesterov = true)", "nesterov needs momentum > 0");
    expect_error("loss = crossentropy", "unknown loss 'crossentropy' [did you mean 'cross_entropy'?]");
    expect_error("schedule.decay = step(gamma = 0.5)", "step needs argument 'every'");
    expect_error("schedule.decay = multistep(at = [5, 3])", "the epochs in `at` must increase");
    expect_error("optimizer = adam(lr = 1e-4)\nschedule.decay = cosine(min_lr = 1e-3)",
                 "cosine: min_lr (0.001) is above the optimizer's lr (0.0001) in experiment 'x'");
    expect_error("schedule.decay = multistep(at = range(1, 40))", "multistep: at lists 39 epochs, at most 32");
    expect_error("optimizer = rmsprop(lr = 0.01, momentum = 0.9)", "rmsprop has no argument 'momentum'");
    expect_error("schedule.warmup = 20", "warmup lasts 20 epochs, longer than the 10 epochs of experiment 'x'");
    expect_error("seed = -1", "seed must be >= 0, got -1");
    expect_error("log = [csv, tensorbord]", "unknown logger 'tensorbord' [did you mean 'tensorboard'?]");
    expect_error("hooks = \"/nonexistent/hooks.lua\"", "hooks file '/nonexistent/hooks.lua' not found");
    expect_error("model = net(p = 1)", "dropout: p must be in [0, 1), got 1");
    expect_error("model = net(q = 1)", "net has no argument 'q' [its arguments are: w, p]");
    expect_error("model = nett", "unknown network 'nett' [did you mean 'net'?]");
    expect_error("model = dense(3)", "model must name a network; 'dense' is a layer");
    expect_error("data = toyy", "unknown data 'toyy' [did you mean 'toy'?]");
    expect_error("ensemble { seeds = [1, 1] }", "seed 1 is listed twice");
    expect_error("ensemble { seeds = 0 }", "ensemble.seeds: a count must be in [1, 1000], got 0");
}

static void metric_errors(void **state)
{
    (void)state;
    expect_error("metrics = [acuracy]", "unknown metric 'acuracy' [did you mean 'accuracy'?]");
    expect_error("metrics = [valid.auc]", "metrics are listed without a split");
    expect_error("metrics = [mae]", "metric 'mae' needs a regression loss (mse)");
    expect_error("select = max(valid.auc)", "select uses 'valid.auc', which the experiment does not compute");
    expect_error("metrics = [auc]\nselect = max(test.auc)", "select cannot use the test split ('test.auc')");
    expect_error("metrics = [auc]\nselect = max(valid.acu)", "[did you mean 'valid.auc'?]");
    expect_error("select = max(auc)", "'auc' is not a metric of a split");
    expect_error("select = maximum(valid.loss)", "select takes max(METRIC) or min(METRIC)");
    expect_error("early_stop = patience(3, on = test.loss)", "early_stop cannot use the test split");
    expect_error("early_stop = patience(0)", "patience: n must be >= 1, got 0");
    expect_error("metrics = [lua.f2]", "metric 'lua.f2' is a Lua function, but the experiment has no hooks file");
    expect_ok("metrics = [accuracy, f1, precision, recall, auc]\nselect = max(valid.f1)\n"
              "early_stop = patience(3)\nschedule.decay = plateau(on = valid.accuracy)");
    expect_ok("select = valid.loss\nearly_stop = none");
}

static void lua_metrics(void **state)
{
    (void)state;
    const char *hooks = fx_tempfile(0, ".lua", "function macro_f1(y, p)\n  return 0.5\nend\n");
    char body[512];
    snprintf(body, sizeof body, "hooks = \"%s\"\nmetrics = [lua.macro_f1]\nselect = max(valid.macro_f1)", hooks);
    expect_ok(body);
    snprintf(body, sizeof body, "hooks = \"%s\"\nmetrics = [lua.micro_f1]", hooks);
    expect_error(body, "does not define 'micro_f1'");
    unlink(hooks);
}

static void search_errors(void **state)
{
    (void)state;
    expect_ok("search grid { optimizer.lr in decades(1e-4, 1e-2)  model.w in [8, 16] }");
    expect_error("search grid { optimizer.lrr in [1e-3] }", "adam has no argument 'lrr' [did you mean 'lr'?]");
    expect_error("search grid { optimiser.lr in [1e-3] }", "unknown key 'optimiser.lr' [did you mean 'optimizer.lr'?]");
    expect_error("search grid { optimizer.lr in [1e-3, 0] }", "adam: lr must be > 0, got 0");
    expect_error("search grid { model.p in [0, 0.5, 1.5] }", "dropout: p must be in [0, 1), got 1.5");
    expect_error("search grid { optimizer.lr in uniform(1e-4, 1e-2) }", "uniform() draws random values; a grid search needs a list");
    expect_error("search grid { batch in [] }", "the list of values for 'batch' is empty");
    expect_error("search random(trials = 0) { batch in [8] }", "random: trials must be >= 1, got 0");
    expect_error("search random { batch in uniform(8, 64) }", "batch must be an integer");
    expect_error("search grid { batch in [8]  batch in [16] }", "'batch' is searched twice");
    expect_error("search grid { epochs in 5 }", "search values must be a list");
    expect_error("search staged { optimizer.lr in loguniform(0, 1) }", "loguniform: from must be > 0, got 0");
    expect_error("ensemble { seeds = 3 }\nsearch grid { batch in [8] }", "cannot have both a search and an ensemble");
    expect_ok("search random(trials = 5, seed = 2) { optimizer.lr in loguniform(1e-5, 1e-1)  model.p in uniform(0, 0.5) }");
}

static void search_breaks_a_layer(void **state)
{
    (void)state;
    fx f;
    /* a searched value that breaks a layer elsewhere: the layer, and which value */
    assert_null(fx_check(&f, "data img { train = blobs(n = 50, classes = 2, features = 64) shape = [1, 8, 8] }\n"
                             "network n(k = 3) { conv(4, k) flatten dense(2) }\n"
                             "experiment x { data = img model = n search grid { model.k in [3, 5, 9] } }", "x"));
    assert_true(fx_has(&f, "conv kernel 9 is larger than its 1×8×8 input (padded to 8×8) (searching model.k = 9)"));
    assert_false(fx_has(&f, "kernel 5"));
    fx_done(&f);
}

static void data_errors(void **state)
{
    (void)state;
    fx f;
    assert_null(fx_check(&f, "data d { train = idx(\"/nope/img.gz\", \"/nope/lab.gz\") }\n"
                             "network n { dense(2) }\nexperiment x { data = d  model = n }", "x"));
    assert_true(fx_has(&f, "cannot read data file '/nope/img.gz': No such file or directory"));
    assert_true(fx_has(&f, "cannot read data file '/nope/lab.gz'"));
    fx_done(&f);

    assert_null(fx_check(&f, "data d { train = spirals()  normalize = standrd }\n"
                             "network n { dense(3) }\nexperiment x { data = d  model = n }", "x"));
    assert_true(fx_has(&f, "unknown normalize 'standrd' [did you mean 'standard'?]"));
    fx_done(&f);

    assert_null(fx_check(&f, "data d { train = spirals()  valid = split(trian, 0.2)  trainn = 3 }\n"
                             "network n { dense(3) }\nexperiment x { data = d  model = n }", "x"));
    assert_true(fx_has(&f, "unknown data key 'trainn' [did you mean 'train'?]"));
    assert_true(fx_has(&f, "split: 'trian' is not another split of this data block [did you mean 'train'?]"));
    fx_done(&f);

    assert_null(fx_check(&f, "data d { valid = spirals() }\nnetwork n { dense(3) }\n"
                             "experiment x { data = d  model = n }", "x"));
    assert_true(fx_has(&f, "data 'd' has no `train = ...` source"));
    fx_done(&f);

    assert_null(fx_check(&f, "data d { train = spirals(n = 100)  valid = split(train, 1.5)  train = blobs() }\n"
                             "network n { dense(3) }\nexperiment x { data = d  model = n }", "x"));
    assert_true(fx_has(&f, "'train' is set twice in data 'd'"));
    assert_true(fx_has(&f, "split: fraction must be in (0, 1), got 1.5"));
    fx_done(&f);

    assert_null(fx_check(&f, "data d { train = spirals()  shape = [1, 2, 2] }\nnetwork n { dense(3) }\n"
                             "experiment x { data = d  model = n }", "x"));
    assert_true(fx_has(&f, "shape [1, 2, 2] holds 4 values but a row of 'd' has 2"));
    fx_done(&f);

    /* select on valid without a valid split */
    assert_null(fx_check(&f, "data d { train = spirals() }\nnetwork n { dense(3) }\n"
                             "experiment x { data = d  model = n  select = min(valid.loss) }", "x"));
    assert_true(fx_has(&f, "select uses 'valid.loss', but data 'd' has no valid split"));
    fx_done(&f);
}

static void csv_data(void **state)
{
    (void)state;
    const char *csv = fx_tempfile(1, ".csv", "\n age , bp,\"diagnosis\"\n1,2,a\n");
    char src[1024];
    snprintf(src, sizeof src,
             "data t { train = csv(\"%s\", label = \"diagnosis\")  valid = split(train, 0.2) }\n"
             "network n { dense(4) relu dense(2) }\nexperiment x { data = t  model = n }\n"
             "experiment y extends x { data = u }\n"
             "data u { train = csv(\"%s\", label = \"diagnosys\") }\n", csv, csv);
    fx f;
    nnx_experiment *e = fx_check(&f, src, "x");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->data.features, 2);
    assert_int_equal(e->data.classes, 0);
    assert_string_equal(e->data.split[0].label_name, "diagnosis");
    assert_int_equal(e->data.split[0].label_index, -1);
    fx_done(&f);
    assert_null(fx_check(&f, src, "y"));
    assert_true(fx_has(&f, "has no column 'diagnosys' [did you mean 'diagnosis'?]"));
    fx_done(&f);
    unlink(csv);
}

static void extends_errors(void **state)
{
    (void)state;
    fx f;
    assert_null(fx_check(&f, TOY "experiment a extends bse { data = toy model = net }\n"
                                 "experiment base { data = toy model = net }", "a"));
    assert_true(fx_has(&f, "unknown experiment 'bse' [did you mean 'base'?]"));
    fx_done(&f);
    assert_null(fx_check(&f, TOY "experiment a extends b { data = toy model = net }\n"
                                 "experiment b extends a { epochs = 2 }", "a"));
    assert_true(fx_has(&f, "extends goes round in a circle: a -> b -> a"));
    fx_done(&f);
    assert_null(fx_check(&f, TOY "experiment a extends toy { model = net }", "a"));
    assert_true(fx_has(&f, "'toy' is not an experiment"));
    fx_done(&f);
}

static void experiment_lookup(void **state)
{
    (void)state;
    fx f;
    assert_null(fx_check(&f, TOY "experiment a { data = toy model = net }\nexperiment b extends a {}", NULL));
    assert_true(fx_has(&f, "t.nnx has 2 experiments; name the one to use [one of: a, b]"));
    fx_done(&f);
    assert_null(fx_check(&f, TOY "experiment alpha { data = toy model = net }", "alpah"));
    assert_true(fx_has(&f, "t.nnx has no experiment 'alpah' [did you mean 'alpha'?]"));
    fx_done(&f);
    assert_null(fx_check(&f, TOY, NULL));
    assert_true(fx_has(&f, "t.nnx has no experiment"));
    fx_done(&f);
}

static void overrides(void **state)
{
    (void)state;
    fx f;
    nnx_override ov[] = { { "optimizer.lr", "3e-4" }, { "model.w", "32" }, { "schedule.decay", "cosine(min_lr = 1e-6)" } };
    nnx_experiment *e = fx_check_ov(&f, TOY "experiment x { data = toy model = net(w = 8) optimizer = adam(beta1 = 0.8) }",
                                    "x", ov, 3);
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_true(e->optim.lr == 3e-4);
    assert_true(e->optim.beta1 == 0.8);
    assert_int_equal(e->net.layers[0].arg[0], 32);
    assert_int_equal(e->schedule.decay, NNX_DECAY_COSINE);
    assert_true(e->schedule.min_lr == 1e-6);
    assert_int_equal(e->nparams, 3);
    assert_string_equal(e->params[0].value, "0.0003");
    fx_done(&f);

    nnx_override bad[] = { { "optimizer.lr", "-1" } };
    assert_null(fx_check_ov(&f, TOY "experiment x { data = toy model = net }", "x", bad, 1));
    assert_true(fx_has(&f, "adam: lr must be > 0, got -1"));
    assert_string_equal(f.d.head->loc.src->path, "--set");
    assert_int_equal(f.d.head->loc.begin, 13);
    fx_done(&f);

    nnx_override key[] = { { "optimizer.lrr", "1" } };
    assert_null(fx_check_ov(&f, TOY "experiment x { data = toy model = net }", "x", key, 1));
    assert_true(fx_has(&f, "adam has no argument 'lrr' [did you mean 'lr'?]"));
    fx_done(&f);

    nnx_override syn[] = { { "epochs", "3 +" } };
    assert_null(fx_check_ov(&f, TOY "experiment x { data = toy model = net }", "x", syn, 1));
    assert_non_null(f.d.head);
    assert_string_equal(f.d.head->loc.src->path, "--set");
    fx_done(&f);
}

static void check_program_all(void **state)
{
    (void)state;
    fx f;
    /* two experiments sharing a broken network: the error is reported once */
    int n = fx_check_all(&f, "data toy { train = spirals() }\nnetwork n { dense(8) swsh dense(3) }\n"
                             "experiment a { data = toy model = n }\nexperiment b extends a { epochs = 3 }\n"
                             "network unused { dense(4) relu dropout(2) }\n");
    assert_int_equal(n, 2);
    assert_true(fx_has(&f, "unknown layer 'swsh' [did you mean 'swish'?]"));
    assert_true(fx_has(&f, "dropout: p must be in [0, 1), got 2"));
    fx_done(&f);
}

/* write → parse → check gives the same experiment */
static void round_trip_one(const char *src, const char *name, const nnx_override *ov, size_t nov)
{
    fx f, g;
    nnx_experiment *e = fx_check_ov(&f, src, name, ov, nov);
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    char *text = nnx_experiment_write(e);
    assert_non_null(text);
    nnx_experiment *e2 = fx_check(&g, text, name);
    if (!e2)
        fail_msg("%s\n---\n%s", fx_msgs(&g.d), text);
    assert_true(nnx_experiment_equal(e, e2));
    char *text2 = nnx_experiment_write(e2);
    assert_string_equal(strstr(text, "\ndata "), strstr(text2, "\ndata "));
    free(text);
    free(text2);
    fx_done(&g);
    fx_done(&f);
}

static void round_trip_network_search(void **state)
{
    (void)state;
    /* a search over network arguments stays as a comment; the rest checks again */
    fx f, g;
    nnx_experiment *e = fx_check(&f, TOY "experiment x { data = toy model = net search grid { model.p in [0, 0.5] } }", "x");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    char *text = nnx_experiment_write(e);
    assert_non_null(strstr(text, "    #     model.p in [0, 0.5]\n"));
    nnx_experiment *e2 = fx_check(&g, text, "x");
    if (!e2)
        fail_msg("%s\n---\n%s", fx_msgs(&g.d), text);
    assert_int_equal(e2->search.kind, NNX_XSEARCH_NONE);
    assert_int_equal(e2->net.nlayers, e->net.nlayers);
    free(text);
    fx_done(&g);
    fx_done(&f);
}

static void round_trip(void **state)
{
    (void)state;
    round_trip_one(BASELINE, "baseline", NULL, 0);
    nnx_override ov[] = { { "optimizer", "sgd(lr = 0.1, momentum = 0.9, nesterov = true)" },
                          { "schedule.decay", "multistep(at = [3, 6], gamma = 0.5)" },
                          { "early_stop", "none" } };
    round_trip_one(BASELINE, "baseline", ov, 3);
    round_trip_one(TOY "experiment x { data = toy model = net(w = 5) batch = auto clip_grad = 1.5\n"
                       " loss = cross_entropy(label_smoothing = 0.1) optimizer = rmsprop(lr = 0.01)\n"
                       " schedule.decay = plateau(patience = 2, factor = 0.5) metrics = [accuracy, f1]\n"
                       " select = max(valid.f1) ensemble { seeds = 3 } log = [mlflow] }", "x", NULL, 0);
    round_trip_one(TOY "experiment x { data = toy model = net\n"
                       " search random(trials = 4) { optimizer.lr in loguniform(1e-4, 1e-1)  batch in [16, 32] } }",
                   "x", NULL, 0);
    round_trip_one("data b { train = blobs(n = 200, classes = 2, features = 5, spread = 2, seed = 4)\n"
                   " test = blobs(n = 50, classes = 2, features = 5, seed = 9) normalize = minmax }\n"
                   "network n { dense(1) }\nexperiment x { data = b model = n loss = binary_cross_entropy\n"
                   " metrics = [auc] select = max(train.auc) schedule.decay = poly(power = 2) }", "x", NULL, 0);
    round_trip_one("data i { train = blobs(n = 100, classes = 3, features = 32) shape = [2, 4, 4] }\n"
                   "network n { residual { conv(4, 3, stride = 2, pad = 1) layernorm(eps = 0.001) relu }\n"
                   " residual(project = false) { residual { relu } batchnorm } global_avgpool\n"
                   " residual { dense(6) } dense(3) }\n"
                   "experiment x { data = i model = n }", "x", NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(baseline_compiles),
        cmocka_unit_test(defaults_filled),
        cmocka_unit_test(key_errors),
        cmocka_unit_test(value_errors),
        cmocka_unit_test(metric_errors),
        cmocka_unit_test(lua_metrics),
        cmocka_unit_test(search_errors),
        cmocka_unit_test(search_breaks_a_layer),
        cmocka_unit_test(data_errors),
        cmocka_unit_test(csv_data),
        cmocka_unit_test(extends_errors),
        cmocka_unit_test(experiment_lookup),
        cmocka_unit_test(overrides),
        cmocka_unit_test(check_program_all),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(round_trip_network_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
