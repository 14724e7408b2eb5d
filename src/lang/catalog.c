/* catalog.c — every builtin of the language in tables: names, arguments, types, defaults, ranges.
 *
 * The checker, the docs, `nnx check` suggestions and the experiment's name
 * functions (exp.c) all read these tables; adding a layer, an optimizer or a
 * key is one entry here plus its meaning in the runtime.  An activation's
 * row (code NNX_LAYER_ACT) has the name of a row of the runtime's activation
 * table (nnx/rt/net.h, src/rt/act.c), which holds its kernels, init rule and
 * checkpoint code; the checker maps the one onto the other by that name.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"
#include "nnx/rt/net.h"

/* Parameter shorthands: name, type, then default and range. */
#define REQ(n, t, ...)          { n, t, true, 0, NULL, __VA_ARGS__, NULL }
#define OPT(n, t, d, ...)       { n, t, false, d, NULL, __VA_ARGS__, NULL }
#define OPTS(n, t, s)            { n, t, false, 0, s, 0, 0, 0, NULL }
#define NONE_(n, t, ...)        { n, t, false, NAN, NULL, __VA_ARGS__, NULL }   /* optional, no default */
#define GT0      (CK_R_LO | CK_R_LO_OPEN), 0, 0
#define GE0      CK_R_LO, 0, 0
#define GE1      CK_R_LO, 1, 0
#define GE2      CK_R_LO, 2, 0
#define FRAC01   (CK_R_LO | CK_R_HI | CK_R_HI_OPEN), 0, 1          /* [0, 1) */
#define OPEN01   (CK_R_LO | CK_R_LO_OPEN | CK_R_HI | CK_R_HI_OPEN), 0, 1  /* (0, 1) */
#define HALF01   (CK_R_LO | CK_R_LO_OPEN | CK_R_HI), 0, 1          /* (0, 1] */
#define ANY      0, 0, 0
#define N(a)     a, sizeof a / sizeof a[0]
#define NOARGS   NULL, 0

/* --- layers ------------------------------------------------------------------- */

static const ck_param p_dense[] = {
    REQ("units", CK_T_INT, GE1),
    OPT("bias", CK_T_BOOL, 1, ANY),
};
static const ck_param p_conv[] = {
    REQ("filters", CK_T_INT, GE1),
    REQ("kernel", CK_T_INT, GE1),
    OPT("stride", CK_T_INT, 1, GE1),
    OPT("pad", CK_T_INT, 0, GE0),
};
static const ck_param p_pool[] = {
    REQ("size", CK_T_INT, GE1),
    NONE_("stride", CK_T_INT, GE1),         /* default: size (a layer's optional argument
                                               without a default is its first's: shape.c) */
};
static const ck_param p_dropout[] = { OPT("p", CK_T_NUM, 0.5, (CK_R_LO | CK_R_HI | CK_R_HI_OPEN | CK_R_POSITIONAL), 0, 1) };
static const ck_param p_batchnorm[] = {
    OPT("momentum", CK_T_NUM, 0.1, HALF01),
    OPT("eps", CK_T_NUM, 1e-5, GT0),
};
static const ck_param p_leaky[] = { OPT("slope", CK_T_NUM, 0.01, GE0) };
static const ck_param p_elu[] = { OPT("alpha", CK_T_NUM, 1.0, GT0) };
static const ck_param p_swish[] = { OPT("beta", CK_T_NUM, 1.0, GT0) };
static const ck_param p_layernorm[] = { OPT("eps", CK_T_NUM, 1e-5, GT0) };
static const ck_param p_residual[] = { OPT("project", CK_T_BOOL, 1, ANY) };

/* --- losses, optimizers, decays -------------------------------------------------- */

static const ck_param p_ce[] = { OPT("label_smoothing", CK_T_NUM, 0, FRAC01) };

static const ck_param p_sgd[] = {
    REQ("lr", CK_T_NUM, GT0),
    OPT("momentum", CK_T_NUM, 0, FRAC01),
    OPT("nesterov", CK_T_BOOL, 0, ANY),
    OPT("weight_decay", CK_T_NUM, 0, GE0),
};
static const ck_param p_adam[] = {
    OPT("lr", CK_T_NUM, 1e-3, GT0),
    OPT("beta1", CK_T_NUM, 0.9, FRAC01),
    OPT("beta2", CK_T_NUM, 0.999, FRAC01),
    OPT("eps", CK_T_NUM, 1e-8, GT0),
    OPT("weight_decay", CK_T_NUM, 0, GE0),
};
static const ck_param p_adamw[] = {
    OPT("lr", CK_T_NUM, 1e-3, GT0),
    OPT("beta1", CK_T_NUM, 0.9, FRAC01),
    OPT("beta2", CK_T_NUM, 0.999, FRAC01),
    OPT("eps", CK_T_NUM, 1e-8, GT0),
    OPT("weight_decay", CK_T_NUM, 0.01, GE0),
};
static const ck_param p_rmsprop[] = {
    REQ("lr", CK_T_NUM, GT0),
    OPT("alpha", CK_T_NUM, 0.99, FRAC01),
    OPT("eps", CK_T_NUM, 1e-8, GT0),
    OPT("weight_decay", CK_T_NUM, 0, GE0),
};

static const ck_param p_cosine[] = { OPT("min_lr", CK_T_NUM, 0, GE0) };
static const ck_param p_step[] = {
    REQ("every", CK_T_NUM, GT0),
    OPT("gamma", CK_T_NUM, 0.1, HALF01),
};
static const ck_param p_multistep[] = {
    REQ("at", CK_T_NUM_LIST, GT0),
    OPT("gamma", CK_T_NUM, 0.1, HALF01),
};
static const ck_param p_exp[] = { REQ("gamma", CK_T_NUM, HALF01) };
static const ck_param p_poly[] = {
    OPT("power", CK_T_NUM, 1, GT0),
    OPT("min_lr", CK_T_NUM, 0, GE0),
};
static const ck_param p_linear[] = { OPT("min_lr", CK_T_NUM, 0, GE0) };
static const ck_param p_plateau[] = {
    OPT("patience", CK_T_INT, 10, GE0),
    OPT("factor", CK_T_NUM, 0.1, OPEN01),
    NONE_("on", CK_T_METRIC, ANY),          /* default: the select metric */
    OPT("min_lr", CK_T_NUM, 0, GE0),
};

/* --- data sources --------------------------------------------------------------- */

static const ck_param p_idx[] = {
    REQ("images", CK_T_STR, ANY),
    REQ("labels", CK_T_STR, ANY),
    NONE_("classes", CK_T_INT_LIST, GE0),
};
static const char *const missing_syms[] = { "error", "mean", "median", "zero", NULL };
static const ck_param p_csv[] = {
    REQ("path", CK_T_STR, ANY),
    NONE_("label", CK_T_INT_OR_STR, GE0),   /* default: the last column */
    NONE_("header", CK_T_BOOL, ANY),        /* default: true, unless the first line is all numbers */
    OPTS("delimiter", CK_T_STR, ","),
    NONE_("classes", CK_T_INT_LIST, GE0),
    NONE_("categorical", CK_T_ANY, ANY),    /* a list of column names, or auto */
    { "missing", CK_T_SYM, false, 0, "error", 0, 0, 0, missing_syms },
};
static const ck_param p_npy[] = {
    REQ("x", CK_T_STR, ANY),
    REQ("y", CK_T_STR, ANY),
};
static const ck_param p_split[] = {
    REQ("source", CK_T_NAME, ANY),
    REQ("fraction", CK_T_NUM, OPEN01),
    OPT("stratify", CK_T_BOOL, 1, ANY),
    NONE_("seed", CK_T_INT, GE0),           /* default: the experiment's seed */
};
static const ck_param p_tpe[] = {
    OPT("trials", CK_T_INT, 10, GE1),
    NONE_("seed", CK_T_INT, GE0),           /* default: the experiment's seed */
    OPT("startup", CK_T_INT, 10, GE1),
    OPT("lag", CK_T_INT, 2, GE1),
};
static const ck_param p_spirals[] = {
    OPT("n", CK_T_INT, 1000, GE1),
    OPT("classes", CK_T_INT, 3, GE2),
    OPT("noise", CK_T_NUM, 0.2, GE0),
    OPT("seed", CK_T_INT, 0, GE0),
};
static const ck_param p_blobs[] = {
    OPT("n", CK_T_INT, 1000, GE1),
    OPT("classes", CK_T_INT, 3, GE2),
    OPT("features", CK_T_INT, 2, GE1),
    OPT("spread", CK_T_NUM, 1.0, GE0),
    OPT("seed", CK_T_INT, 0, GE0),
};

/* --- helpers, distributions, selection, search ---------------------------------- */

static const ck_param p_decades[] = {
    REQ("from", CK_T_NUM, GT0),
    REQ("to", CK_T_NUM, GT0),
};
static const ck_param p_logspace[] = {
    REQ("from", CK_T_NUM, GT0),
    REQ("to", CK_T_NUM, GT0),
    REQ("n", CK_T_INT, GE1),
};
static const ck_param p_linspace[] = {
    REQ("from", CK_T_NUM, ANY),
    REQ("to", CK_T_NUM, ANY),
    REQ("n", CK_T_INT, GE1),
};
static const ck_param p_range[] = {
    REQ("from", CK_T_NUM, ANY),
    REQ("to", CK_T_NUM, ANY),
    OPT("step", CK_T_NUM, 1, ANY),
};
static const ck_param p_env[] = {
    REQ("name", CK_T_STR, ANY),
    NONE_("default", CK_T_STR, ANY),
};
static const ck_param p_uniform[] = {
    REQ("from", CK_T_NUM, ANY),
    REQ("to", CK_T_NUM, ANY),
};
static const ck_param p_loguniform[] = {
    REQ("from", CK_T_NUM, GT0),
    REQ("to", CK_T_NUM, GT0),
};
static const ck_param p_choice[] = { REQ("values", CK_T_ANY, ANY) };
static const ck_param p_select[] = { REQ("metric", CK_T_METRIC, ANY) };
static const ck_param p_patience[] = {
    REQ("n", CK_T_INT, GE1),
    NONE_("on", CK_T_METRIC, ANY),          /* default: the select metric */
    OPT("min_delta", CK_T_NUM, 0, GE0),
};
static const ck_param p_halving[] = {
    OPT("min_epochs", CK_T_INT, 1, GE1),
    OPT("eta", CK_T_INT, 3, GE2),
};
static const ck_param p_median[] = { OPT("after", CK_T_INT, 3, GE1) };
static const ck_param p_random[] = {
    OPT("trials", CK_T_INT, 10, GE1),
    NONE_("seed", CK_T_INT, GE0),           /* default: the experiment's seed */
};

const ck_builtin ck_builtins[] = {
    { "dense", CK_B_LAYER, NNX_LAYER_DENSE, N(p_dense), "fully connected layer; reads a C×H×W input flat" },
    { "conv", CK_B_LAYER, NNX_LAYER_CONV, N(p_conv), "2-D convolution, square kernel, zero padding" },
    { "maxpool", CK_B_LAYER, NNX_LAYER_MAXPOOL, N(p_pool), "max pooling; stride defaults to size" },
    { "avgpool", CK_B_LAYER, NNX_LAYER_AVGPOOL, N(p_pool), "average pooling; stride defaults to size" },
    { "flatten", CK_B_LAYER, NNX_LAYER_FLATTEN, NOARGS, "C×H×W to a flat vector" },
    { "dropout", CK_B_LAYER, NNX_LAYER_DROPOUT, N(p_dropout), "zeroes each input with probability p while training" },
    { "batchnorm", CK_B_LAYER, NNX_LAYER_BATCHNORM, N(p_batchnorm), "batch normalization (per feature or per channel)" },
    { "relu", CK_B_LAYER, NNX_LAYER_ACT, NOARGS, "max(0, x)" },
    { "leaky_relu", CK_B_LAYER, NNX_LAYER_ACT, N(p_leaky), "x, or slope·x below 0" },
    { "elu", CK_B_LAYER, NNX_LAYER_ACT, N(p_elu), "x, or alpha·(e^x − 1) below 0" },
    { "gelu", CK_B_LAYER, NNX_LAYER_ACT, NOARGS, "x·Φ(x)" },
    { "tanh", CK_B_LAYER, NNX_LAYER_ACT, NOARGS, "hyperbolic tangent" },
    { "sigmoid", CK_B_LAYER, NNX_LAYER_ACT, NOARGS, "1 / (1 + e^−x)" },
    { "swish", CK_B_LAYER, NNX_LAYER_ACT, N(p_swish), "x·sigmoid(beta·x)" },
    { "layernorm", CK_B_LAYER, NNX_LAYER_LAYERNORM, N(p_layernorm), "layer normalization per row (over C×H×W)" },
    { "global_avgpool", CK_B_LAYER, NNX_LAYER_GLOBAL_AVGPOOL, NOARGS, "C×H×W to C: the mean of each channel" },
    { "residual", CK_B_LAYER, NNX_LAYER_RESIDUAL, N(p_residual), "residual { layers }: input + layers(input)" },

    { "cross_entropy", CK_B_LOSS, NNX_XLOSS_CROSS_ENTROPY, N(p_ce), "softmax cross-entropy over the classes" },
    { "binary_cross_entropy", CK_B_LOSS, NNX_XLOSS_BCE, NOARGS, "sigmoid cross-entropy, one output, two classes" },
    { "mse", CK_B_LOSS, NNX_XLOSS_MSE, NOARGS, "mean squared error, one output, a numeric label" },

    { "sgd", CK_B_OPTIM, NNX_OPTIM_SGD, N(p_sgd), "stochastic gradient descent with momentum" },
    { "adam", CK_B_OPTIM, NNX_OPTIM_ADAM, N(p_adam), "Adam; weight_decay is L2 added to the gradient" },
    { "adamw", CK_B_OPTIM, NNX_OPTIM_ADAMW, N(p_adamw), "Adam with decoupled weight decay" },
    { "rmsprop", CK_B_OPTIM, NNX_OPTIM_RMSPROP, N(p_rmsprop), "RMSprop" },

    { "none", CK_B_DECAY, NNX_DECAY_NONE, NOARGS, "constant learning rate" },
    { "cosine", CK_B_DECAY, NNX_DECAY_COSINE, N(p_cosine), "cosine from lr to min_lr" },
    { "step", CK_B_DECAY, NNX_DECAY_STEP, N(p_step), "multiply by gamma every `every` epochs" },
    { "multistep", CK_B_DECAY, NNX_DECAY_MULTISTEP, N(p_multistep), "multiply by gamma at each epoch in `at`" },
    { "exp", CK_B_DECAY, NNX_DECAY_EXP, N(p_exp), "multiply by gamma per epoch, continuously" },
    { "poly", CK_B_DECAY, NNX_DECAY_POLY, N(p_poly), "polynomial from lr to min_lr" },
    { "linear", CK_B_DECAY, NNX_DECAY_LINEAR, N(p_linear), "straight line from lr to min_lr" },
    { "plateau", CK_B_DECAY, NNX_DECAY_PLATEAU, N(p_plateau), "multiply by factor when `on` stops improving" },

    { "idx", CK_B_SOURCE, NNX_XSRC_IDX, N(p_idx), "IDX image and label files (gzip or plain)" },
    { "csv", CK_B_SOURCE, NNX_XSRC_CSV, N(p_csv), "a CSV table; every column but the label is a feature" },
    { "split", CK_B_SOURCE, NNX_XSRC_SPLIT, N(p_split), "a seeded hold-out cut from another split" },
    { "spirals", CK_B_SOURCE, NNX_XSRC_SPIRALS, N(p_spirals), "synthetic 2-D interleaved spirals" },
    { "blobs", CK_B_SOURCE, NNX_XSRC_BLOBS, N(p_blobs), "synthetic Gaussian clusters" },
    { "npy", CK_B_SOURCE, NNX_XSRC_NPY, N(p_npy), "NumPy .npy arrays: x (rows, ...) and y (one label a row)" },

    { "decades", CK_B_HELPER, 0, N(p_decades), "[from, 10·from, 100·from, ...] up to `to`" },
    { "logspace", CK_B_HELPER, 1, N(p_logspace), "n values from `from` to `to`, evenly on a log scale" },
    { "linspace", CK_B_HELPER, 2, N(p_linspace), "n values from `from` to `to`, evenly spaced" },
    { "range", CK_B_HELPER, 3, N(p_range), "from, from + step, ... while below `to` (above, for step < 0)" },
    { "env", CK_B_HELPER, 4, N(p_env), "an environment variable's value, or `default`" },

    { "uniform", CK_B_DIST, NNX_XDIST_UNIFORM, N(p_uniform), "random search: a real in [from, to]" },
    { "loguniform", CK_B_DIST, NNX_XDIST_LOGUNIFORM, N(p_loguniform), "random search: a real in [from, to], uniform in log" },
    { "choice", CK_B_DIST, NNX_XDIST_LIST, N(p_choice), "random search: one of a list" },

    { "max", CK_B_SELECT, 1, N(p_select), "keep the epoch where the metric is highest" },
    { "min", CK_B_SELECT, 0, N(p_select), "keep the epoch where the metric is lowest" },
    { "patience", CK_B_EARLY, 0, N(p_patience), "stop after n epochs without improvement of `on`" },

    { "grid", CK_B_SEARCH, NNX_XSEARCH_GRID, NOARGS, "every combination" },
    { "staged", CK_B_SEARCH, NNX_XSEARCH_STAGED, NOARGS, "one axis at a time, keeping the best" },
    { "random", CK_B_SEARCH, NNX_XSEARCH_RANDOM, N(p_random), "seeded random draws" },
    { "tpe", CK_B_SEARCH, NNX_XSEARCH_TPE, N(p_tpe),
      "random draws, then the Tree-structured Parzen Estimator: trial k from trials 1..k-lag" },

    { "none", CK_B_PRUNE, NNX_XPRUNE_NONE, NOARGS, "train every trial to the last epoch" },
    { "halving", CK_B_PRUNE, NNX_XPRUNE_HALVING, N(p_halving),
      "successive halving: the best 1/eta of each rung go on to eta times the epochs" },
    { "median", CK_B_PRUNE, NNX_XPRUNE_MEDIAN, N(p_median),
      "the median rule: from epoch `after` on, stop a trial worse than the median of the earlier trials" },
    { "hyperband", CK_B_PRUNE, NNX_XPRUNE_HYPERBAND, N(p_halving),
      "Hyperband: brackets of successive halving, each starting at its own epochs" },

    { "csv", CK_B_LOGGER, NNX_XLOG_CSV, NOARGS, "metrics.csv in the run directory" },
    { "tensorboard", CK_B_LOGGER, NNX_XLOG_TENSORBOARD, NOARGS, "TensorBoard event files" },
    { "mlflow", CK_B_LOGGER, NNX_XLOG_MLFLOW, NOARGS, "an MLflow file store (mlruns/)" },
};
const size_t ck_nbuiltins = sizeof ck_builtins / sizeof ck_builtins[0];

/* --- metrics ------------------------------------------------------------------ */

/* The loss as a metric: the training loop measures it, so it has no function
 * here; every other metric is a row of the runtime's table (metric_table.c). */
const nnx_metric_info ck_loss_metric = {
    "loss", false, NNX_METRIC_CLASS | NNX_METRIC_REGR, true, NULL,
};

const nnx_metric_info *ck_metric_find(const char *name)
{
    return !strcmp(name, ck_loss_metric.name) ? &ck_loss_metric : nnx_metric_named(name);
}

/* The names Keras, PyTorch (torchmetrics) and scikit-learn users type for
 * nnx's metrics. */
static const struct { const char *alias, *name; } metric_aliases[] = {
    { "acc", "accuracy" }, { "binary_accuracy", "accuracy" },
    { "categorical_accuracy", "accuracy" }, { "sparse_categorical_accuracy", "accuracy" },
    { "accuracy_score", "accuracy" }, { "top1", "accuracy" },
    { "roc_auc", "auc" }, { "roc_auc_score", "auc" }, { "auroc", "auc" }, { "auc_roc", "auc" },
    { "roc", "auc" },
    { "f1_score", "f1" }, { "f1score", "f1" }, { "fscore", "f1" }, { "f_score", "f1" },
    { "fbeta", "f1" },
    { "precision_score", "precision" }, { "prec", "precision" }, { "ppv", "precision" },
    { "recall_score", "recall" }, { "sensitivity", "recall" }, { "tpr", "recall" },
    { "mean_absolute_error", "mae" }, { "l1", "mae" }, { "l1_loss", "mae" },
    { "mean_squared_error", "mse" }, { "l2", "mse" }, { "mse_loss", "mse" },
    { "val_loss", "loss" }, { "cross_entropy", "loss" }, { "crossentropy", "loss" },
    { "nll", "loss" }, { "log_loss", "loss" },
};

const char *ck_metric_suggest(const char *name)
{
    for (size_t i = 0; i < sizeof metric_aliases / sizeof metric_aliases[0]; i++)
        if (!strcmp(metric_aliases[i].alias, name))
            return metric_aliases[i].name;
    size_t n = nnx_metric_count();
    const char **names = malloc((n + 1) * sizeof *names);
    if (!names)
        return NULL;
    names[0] = ck_loss_metric.name;
    for (size_t i = 0; i < n; i++)
        names[i + 1] = nnx_metric_at(i)->name;
    const char *fix = nnx_suggest(name, names, n + 1);
    free(names);
    return fix;
}

/* --- keys ------------------------------------------------------------------------ */

static const char *const batch_syms[] = { "auto", NULL };
static const char *const norm_syms[] = { "none", "standard", "minmax", NULL };

#define SCALAR(n, t, d, s, ...) { n, CK_K_SCALAR, 0, { n, t, false, d, NULL, __VA_ARGS__, NULL }, NULL, false, s }

const ck_key ck_exp_keys[] = {
    { "data", CK_K_DATA, 0, { 0 }, NULL, false, "the data block to train on (required)" },
    { "model", CK_K_MODEL, 0, { 0 }, NULL, false, "the network, with its arguments (required)" },
    { "loss", CK_K_CALL, CK_B_LOSS, { 0 }, "cross_entropy", false, "the training loss" },
    { "optimizer", CK_K_CALL, CK_B_OPTIM, { 0 }, "adam", false, "the optimizer and its arguments" },
    SCALAR("schedule.warmup", CK_T_NUM, 0, "epochs of linear warmup from 0 (fractions allowed)", GE0),
    { "schedule.decay", CK_K_CALL, CK_B_DECAY, { 0 }, "none", false, "the learning-rate decay after warmup" },
    SCALAR("epochs", CK_T_INT, 10, "training epochs", GE1),
    { "batch", CK_K_SCALAR, 0, { "batch", CK_T_INT_OR_SYM, false, NAN, "auto", GE1, batch_syms },
      NULL, false, "rows per step, or auto (about the square root of the train rows)" },
    SCALAR("seed", CK_T_INT, 1, "seeds initialisation, shuffling, dropout and splits", GE0),
    SCALAR("clip_grad", CK_T_NUM, 0, "clip the global gradient norm (0: off)", GE0),
    { "metrics", CK_K_METRICS, 0, { 0 }, NULL, true, "metrics computed on every split, besides loss" },
    { "select", CK_K_SELECT, 0, { 0 }, NULL, false, "which epoch's weights are kept: max(M) or min(M)" },
    { "early_stop", CK_K_EARLY, 0, { 0 }, NULL, false, "patience(n, on = M, min_delta = 0), or none" },
    { "log", CK_K_LOG, 0, { 0 }, NULL, true, "loggers: csv, tensorboard, mlflow" },
    { "hooks", CK_K_SCALAR, 0, { "hooks", CK_T_STR, false, NAN, NULL, 0, 0, 0, NULL },
      NULL, false, "a Lua file of hooks and metrics, relative to the .nnx file" },
    { "ensemble.seeds", CK_K_SCALAR, 0, { "seeds", CK_T_INT_OR_LIST, false, NAN, NULL, GE0, NULL },
      NULL, true, "train one member per seed (a count n means seeds 1..n)" },
    { "prune", CK_K_CALL, CK_B_PRUNE, { 0 }, "none", false,
      "stop poor trials of a grid, random or tpe search early: halving(min_epochs, eta), median(after), hyperband(min_epochs, eta), or none" },
    { "search", CK_K_SEARCH, 0, { 0 }, NULL, false, "search grid|staged|random(...)|tpe(...) { path in values }" },
};
const size_t ck_nexp_keys = sizeof ck_exp_keys / sizeof ck_exp_keys[0];

const ck_key ck_data_keys[] = {
    { "train", CK_K_SOURCE, CK_B_SOURCE, { 0 }, NULL, false, "the training rows (required)" },
    { "valid", CK_K_SOURCE, CK_B_SOURCE, { 0 }, NULL, false, "the validation rows" },
    { "test", CK_K_SOURCE, CK_B_SOURCE, { 0 }, NULL, false, "the test rows, used once at the end" },
    { "normalize", CK_K_SCALAR, 0, { "normalize", CK_T_SYM, false, 0, "none", 0, 0, 0, norm_syms },
      NULL, false, "none | standard | minmax, fit on train" },
    { "shape", CK_K_SCALAR, 0, { "shape", CK_T_INT_LIST, false, NAN, NULL, GE1, NULL },
      NULL, false, "[C, H, W]: the view of a row for conv layers" },
    { "augment.flip", CK_K_SCALAR, 0, { "augment.flip", CK_T_BOOL, false, 0, NULL, 0, 0, 0, NULL },
      NULL, false, "mirror each training image left-right with probability 1/2, anew each epoch" },
    { "augment.shift", CK_K_SCALAR, 0, { "augment.shift", CK_T_INT, false, 0, NULL, GE0, NULL },
      NULL, false, "move each training image by up to n pixels each way, anew each epoch" },
};
const size_t ck_ndata_keys = sizeof ck_data_keys / sizeof ck_data_keys[0];

/* --- lookups ------------------------------------------------------------------------ */

const ck_builtin *ck_builtin_find(const char *name, ck_bkind kind)
{
    for (size_t i = 0; i < ck_nbuiltins; i++)
        if (ck_builtins[i].kind == kind && !strcmp(ck_builtins[i].name, name))
            return &ck_builtins[i];
    return NULL;
}

const char **ck_builtin_names(ck_arena *a, ck_bkind kind, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < ck_nbuiltins; i++)
        *n += ck_builtins[i].kind == kind;
    const char **names = ck_alloc(a, (*n + 1) * sizeof *names);
    if (!names) {
        *n = 0;
        return NULL;
    }
    for (size_t i = 0, k = 0; i < ck_nbuiltins; i++)
        if (ck_builtins[i].kind == kind)
            names[k++] = ck_builtins[i].name;
    return names;
}

const ck_key *ck_key_find(const ck_key *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

const ck_builtin *ck_act_builtin(int code)
{
    const nnx_act_info *a = nnx_act_info_of((unsigned)code);
    return a ? ck_builtin_find(a->name, CK_B_LAYER) : NULL;
}

const ck_builtin *ck_layer_builtin(const nnx_exp_layer *l)
{
    if (l->op == NNX_LAYER_ACT)
        return ck_act_builtin(l->act);
    for (size_t i = 0; i < ck_nbuiltins; i++)
        if (ck_builtins[i].kind == CK_B_LAYER && ck_builtins[i].code == (int)l->op)
            return &ck_builtins[i];
    return NULL;
}

const char *ck_bkind_noun(ck_bkind k)
{
    static const char *const nouns[CK_B_COUNT] = {
        [CK_B_LAYER] = "layer", [CK_B_LOSS] = "loss", [CK_B_OPTIM] = "optimizer",
        [CK_B_DECAY] = "decay", [CK_B_METRIC] = "metric", [CK_B_SOURCE] = "data source",
        [CK_B_HELPER] = "function", [CK_B_DIST] = "distribution", [CK_B_SELECT] = "selection",
        [CK_B_EARLY] = "early stop", [CK_B_SEARCH] = "search kind", [CK_B_LOGGER] = "logger",
        [CK_B_PRUNE] = "pruning rule",
    };
    return k < CK_B_COUNT ? nouns[k] : "builtin";
}

const char *ck_ty_noun(ck_ty t)
{
    switch (t) {
    case CK_T_NUM: return "a number";
    case CK_T_INT: return "an integer";
    case CK_T_BOOL: return "true or false";
    case CK_T_STR: return "a string";
    case CK_T_SYM: return "a name";
    case CK_T_INT_OR_SYM: return "an integer or a name";
    case CK_T_INT_OR_STR: return "a column name, an index or none";
    case CK_T_NUM_LIST: return "a list of numbers";
    case CK_T_INT_LIST: return "a list of integers";
    case CK_T_INT_OR_LIST: return "an integer or a list of integers";
    case CK_T_METRIC: return "a metric such as valid.loss";
    case CK_T_NAME: return "the name of another split";
    case CK_T_ANY: return "a value";
    }
    return "a value";
}
