/* exp.h — a checked experiment in compiled form: what every later stage reads.
 *
 * The checker (check.h) turns an experiment of an .nnx program, plus any
 * `--set` overrides, into one nnx_experiment in which nothing is left to
 * look up: every default is filled in, every expression is evaluated, the
 * network is flattened into concrete layers (repeat expanded, sub-networks
 * inlined) each with its input and output shape, file paths are absolute.
 * The interpreter, the planner and the loggers read this struct and never
 * the syntax tree.  Of the runtime it knows only the tables it shares (layer
 * kinds, activations, optimizers, decays, metrics: nnx/rt/net.h, optim.h, lr_schedule.h,
 * metrics.h); the
 * interpreter maps each field onto the runtime's own calls.
 *
 * Conventions
 *   - Names here are prefixed nnx_exp_ / NNX_X... so that they never clash
 *     with the runtime's (include/nnx/rt/...) in a file that uses both.
 *   - Numbers the user gives as integers (epochs, units, ...) are `int`;
 *     everything real is `double`.  0 means "auto"/"off" only where a
 *     comment says so.
 *   - Shapes: rank 1 is a flat vector {features}; rank 3 is {C, H, W}.
 *
 * Trials: a search trial or ensemble member is the same experiment checked
 * again with the trial's overrides (plan.h); the result still describes the
 * search or ensemble it belongs to (`search`, `ensemble_seeds`), and its
 * `params` list the trial's values.  Run it as one training run.
 *
 * Ownership: an nnx_experiment owns every array and string it points to;
 * nnx_experiment_free() frees it all.  The `loc` fields point into sources
 * owned by the nnx_program and the nnx_checker it was checked with: they
 * are valid only while both live (use them for messages, never keep them
 * past that).
 */
#ifndef NNX_EXP_H
#define NNX_EXP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/diag.h"
#include "nnx/rt/net.h"
#include "nnx/rt/optim.h"
#include "nnx/rt/lr_schedule.h"

/* --- shapes and layers --------------------------------------------------- */

typedef struct nnx_exp_shape {
    int rank;       /* 1: {features}, 3: {C, H, W}; 0: unknown (never in a
                       checked experiment) */
    int d[3];
} nnx_exp_shape;

/* A layer's kind is the runtime's (enum nnx_layer_kind, nnx/rt/net.h): one
 * table of layer kinds (src/rt/layer_kinds.c) for the checker, this struct
 * and the runtime.  A residual block is two layers: NNX_LAYER_RESIDUAL (its
 * input is kept) and NNX_LAYER_RESIDUAL_ADD (output = body + skip(input)). */
typedef enum nnx_layer_kind nnx_exp_op;

/* The skip path of a residual block (RESIDUAL_ADD). */
typedef enum nnx_exp_proj {
    NNX_XPROJ_IDENTITY,     /* the body keeps the shape */
    NNX_XPROJ_CONV,         /* 1×1 conv with `stride`, to the body's C'×H'×W' */
    NNX_XPROJ_DENSE         /* dense reading the input flat, to the body's size */
} nnx_exp_proj;

/* One concrete layer. */
typedef struct nnx_exp_layer {
    nnx_exp_op op;
    /* Its arguments in the order of its catalog row's parameters (which its
     * runtime row's `args` map onto nnx_layer_spec), every one filled in: a
     * flag is 0 or 1, a pool's stride defaults to its size.  The rest are 0.
     * dense(units, bias), conv(filters, kernel, stride, pad), maxpool and
     * avgpool(size, stride), dropout(p), batchnorm(momentum, eps),
     * layernorm(eps), an activation's parameter (slope, alpha, beta) if it
     * has one; residual(project), and its RESIDUAL_ADD the same. */
    double arg[NNX_LAYER_MAX_ARGS];
    int act;                /* NNX_LAYER_ACT: the runtime's enum nnx_act */
    struct {                /* RESIDUAL_ADD */
        size_t begin;       /* the index of its RESIDUAL layer */
        nnx_exp_proj proj;
        int stride;
    } end;
    nnx_exp_shape in, out;
    nnx_loc loc;        /* the layer as written (inside its network) */
} nnx_exp_layer;

typedef struct nnx_exp_net {
    char          *name;    /* the network the experiment named, e.g. "mlp" */
    nnx_exp_layer *layers;  /* in order, input first */
    size_t         nlayers;
    nnx_exp_shape  in, out;
} nnx_exp_net;

/* --- data ------------------------------------------------------------------ */

typedef enum nnx_exp_src_kind {
    NNX_XSRC_NONE,      /* this split is absent */
    NNX_XSRC_IDX,
    NNX_XSRC_CSV,
    NNX_XSRC_SPLIT,     /* a hold-out cut from another split of the same data */
    NNX_XSRC_SPIRALS,
    NNX_XSRC_BLOBS,
    NNX_XSRC_NPY        /* NumPy arrays: `images` holds x's path, `labels` y's */
} nnx_exp_src_kind;

typedef enum nnx_exp_split {
    NNX_XSPLIT_TRAIN,
    NNX_XSPLIT_VALID,
    NNX_XSPLIT_TEST,
    NNX_XSPLIT_COUNT
} nnx_exp_split;

#define NNX_EXP_NO_LABEL (-2)

typedef enum nnx_exp_missing {
    NNX_XMISSING_ERROR,     /* a missing cell is an error (file:line, column) */
    NNX_XMISSING_MEAN,      /* filled with the train column's mean, plus an indicator */
    NNX_XMISSING_MEDIAN,
    NNX_XMISSING_ZERO
} nnx_exp_missing;

typedef struct nnx_exp_source {
    nnx_exp_src_kind kind;
    /* IDX */
    char *images, *labels;          /* absolute paths; gzip or plain */
    /* IDX and CSV: keep only these classes, relabelled 0..nkeep-1 in this order */
    int   *keep;
    size_t nkeep;
    /* CSV */
    char *path;                     /* absolute */
    char *label_name;               /* the label column by name, or NULL ... */
    int   label_index;              /* ... by 0-based index (-1 when by name), or
                                       NNX_EXP_NO_LABEL: `label = none`, an unlabelled
                                       file (every column a feature; test only) */
    bool  header;
    char  delimiter;
    char **categorical;             /* columns one-hot encoded (header names) ... */
    size_t ncategorical;
    bool  categorical_auto;         /* ... or `categorical = auto`: every text column */
    nnx_exp_missing missing;        /* missing cells: an error, or filled (train stats) */
    /* SPLIT: `fraction` of split `from` is held out (stratified by class when
     * `stratify`), with the experiment seed; `from` keeps the rest. */
    nnx_exp_split from;
    double fraction;
    bool   stratify;
    bool   has_seed;                /* split(..., seed = N): cut as the experiment seed N would */
    /* SPIRALS, BLOBS */
    int      n, classes, features;  /* spirals: features = 2 */
    double   noise;                 /* spirals: angular noise; blobs: cluster std */
    uint64_t seed;
    nnx_loc loc;                    /* the source call */
} nnx_exp_source;

typedef enum nnx_exp_norm {
    NNX_XNORM_NONE,
    NNX_XNORM_STANDARD,     /* per feature, mean 0 std 1, fit on train */
    NNX_XNORM_MINMAX        /* per feature to [0, 1], fit on train */
} nnx_exp_norm;

/* Loading: read each non-SPLIT source, then cut the SPLIT ones in the order
 * valid, test — each from the split named by its `from` (never itself a
 * SPLIT), which keeps the rest — then fit `normalize` on what train kept. */
typedef struct nnx_exp_data {
    char          *name;
    nnx_exp_source split[NNX_XSPLIT_COUNT];   /* train is always present */
    nnx_exp_norm   normalize;
    int            features;    /* input columns of one row */
    nnx_exp_shape  shape;       /* the view of a row: `shape = [C,H,W]`, or {features} */
    bool           aug_flip;    /* augment.flip: train images mirrored at random */
    int            aug_shift;   /* augment.shift: train images moved by up to n pixels */
    int            classes;     /* 0: not known before loading (CSV) */
    int64_t        rows;        /* rows of the train source before splitting; -1 unknown (CSV) */
} nnx_exp_data;

/* --- training --------------------------------------------------------------- */

typedef enum nnx_exp_loss_kind {
    NNX_XLOSS_CROSS_ENTROPY,    /* softmax over `classes` outputs */
    NNX_XLOSS_BCE,              /* binary_cross_entropy: one sigmoid output, 2 classes */
    NNX_XLOSS_MSE               /* one output, the label read as a number */
} nnx_exp_loss_kind;

typedef struct nnx_exp_loss {
    nnx_exp_loss_kind kind;
    double label_smoothing;     /* cross_entropy only; 0 = off */
} nnx_exp_loss;

/* The optimizer is the runtime's configuration (nnx/rt/optim.h): its kind is
 * a row of the runtime's optimizer table, the arguments its catalog row
 * lists are set, and every other field keeps the runtime's default
 * (nnx_optim_conf_default). */
typedef nnx_optim_kind nnx_exp_optim_kind;
typedef nnx_optim_conf nnx_exp_optim;

typedef enum nnx_exp_metric_kind {
    NNX_XMETRIC_LOSS,           /* the training loss, as the loop measures it */
    NNX_XMETRIC_BUILTIN,        /* a row of the runtime's metric table (nnx/rt/metrics.h) */
    NNX_XMETRIC_LUA             /* lua.NAME: the hooks file's function NAME(y, p) */
} nnx_exp_metric_kind;

struct nnx_metric_info;

typedef struct nnx_exp_metric {
    nnx_exp_metric_kind kind;
    char *name;                 /* "loss", "auc", ..., or the Lua function's name */
    bool  maximize;             /* the natural direction: true for all but loss, mae, mse */
    const struct nnx_metric_info *builtin;  /* BUILTIN: its row (static; not owned) */
} nnx_exp_metric;

/* A metric on one split: `valid.auc`. */
typedef struct nnx_exp_metric_ref {
    nnx_exp_split split;
    size_t        metric;       /* index into nnx_experiment.metrics */
    bool          maximize;     /* the direction used here */
} nnx_exp_metric_ref;

/* A decay is a row of the runtime's decay table (nnx/rt/lr_schedule.h). */
typedef nnx_decay_kind nnx_exp_decay_kind;

typedef struct nnx_exp_schedule {
    double             warmup;      /* epochs, fractions allowed; 0 = none; linear from 0 */
    nnx_exp_decay_kind decay;
    double  min_lr;                 /* cosine, poly, linear, plateau (floor) */
    double  every;                  /* step: epochs between drops (> 0) */
    double  gamma;                  /* step, multistep, exp */
    double *at;                     /* multistep: epochs, increasing */
    size_t  nat;
    double  power;                  /* poly */
    int     patience;               /* plateau */
    double  factor;                 /* plateau */
    nnx_exp_metric_ref on;          /* plateau: the monitored metric */
} nnx_exp_schedule;

/* A number argument of a decay (min_lr, gamma, every, power, patience,
 * factor), as the decay's row names it; AT, ON and NONE are not numbers:
 * get gives NAN, set does nothing. */
double nnx_exp_schedule_get(const nnx_exp_schedule *s, enum nnx_sched_field f);
void   nnx_exp_schedule_set(nnx_exp_schedule *s, enum nnx_sched_field f, double v);

typedef struct nnx_exp_early_stop {
    bool               enabled;
    int                patience;    /* epochs without improvement */
    nnx_exp_metric_ref on;          /* never the test split */
    double             min_delta;
} nnx_exp_early_stop;

typedef enum nnx_exp_logger {
    NNX_XLOG_CSV,
    NNX_XLOG_TENSORBOARD,
    NNX_XLOG_MLFLOW,
    NNX_XLOG_COUNT
} nnx_exp_logger;

/* --- search and ensembles --------------------------------------------------- */

typedef enum nnx_exp_search_kind {
    NNX_XSEARCH_NONE,
    NNX_XSEARCH_GRID,       /* cartesian product of the axes, first axis slowest */
    NNX_XSEARCH_STAGED,     /* one axis after another, each keeping the best value */
    NNX_XSEARCH_RANDOM,     /* `trials` seeded draws, one value per axis */
    NNX_XSEARCH_TPE         /* `startup` random draws, then the Tree-structured Parzen
                               Estimator (nnx/tpe.h): trial k from trials 1..k-lag */
} nnx_exp_search_kind;

typedef enum nnx_exp_dist_kind {
    NNX_XDIST_LIST,         /* one of `values` (a list, or choice([...])) */
    NNX_XDIST_UNIFORM,      /* uniform in [lo, hi] */
    NNX_XDIST_LOGUNIFORM    /* exp(uniform(log lo, log hi)); 0 < lo < hi */
} nnx_exp_dist_kind;

typedef struct nnx_exp_axis {
    char  *path;            /* what it sets: "optimizer.lr", "model.p", "schedule.decay" */
    nnx_exp_dist_kind kind;
    char **values;          /* LIST: each value as canonical nnx source text */
    size_t nvalues;
    double lo, hi;          /* UNIFORM, LOGUNIFORM */
    nnx_loc loc;            /* the `path in ...` line */
} nnx_exp_axis;

/* prune: how a grid or random search stops poor trials early. */
typedef enum nnx_exp_prune_kind {
    NNX_XPRUNE_NONE,
    NNX_XPRUNE_HALVING,     /* successive halving: rungs of min_epochs·eta^i epochs */
    NNX_XPRUNE_MEDIAN,      /* the median stopping rule, from epoch `after` on */
    NNX_XPRUNE_HYPERBAND    /* Hyperband: brackets of successive halving (nnx_plan_brackets) */
} nnx_exp_prune_kind;

typedef struct nnx_exp_prune {
    nnx_exp_prune_kind kind;
    int min_epochs;         /* HALVING, HYPERBAND: the first rung's epochs, >= 1 */
    int eta;                /* HALVING, HYPERBAND: 1/eta of a rung go on, eta times the epochs; >= 2 */
    int after;              /* MEDIAN: the first epoch judged, >= 1 */
} nnx_exp_prune;

/* The most trials one search may ask for (nnx check refuses more). */
enum { NNX_EXP_MAX_TRIALS = 100000 };

typedef struct nnx_exp_search {
    nnx_exp_search_kind kind;
    nnx_exp_axis *axes;     /* in the order written */
    size_t        naxes;
    int           trials;   /* RANDOM, TPE */
    uint64_t      seed;     /* RANDOM, TPE: the draws' seed */
    int           startup;  /* TPE: the first `startup` trials are random draws */
    int           lag;      /* TPE: trial k is proposed from trials 1..k-lag, >= 1 */
} nnx_exp_search;

/* One applied override (a `--set` or a trial's value), as canonical text. */
typedef struct nnx_exp_param {
    char *path;             /* "optimizer.lr" */
    char *value;            /* "0.003" */
} nnx_exp_param;

/* --- the experiment ---------------------------------------------------------- */

typedef struct nnx_experiment {
    char   *name;
    char   *file;           /* the .nnx file that defines it, as the program named it */
    nnx_loc loc;            /* its name in that file */

    nnx_exp_data     data;
    nnx_exp_net      net;
    nnx_exp_loss     loss;
    nnx_exp_optim    optim;
    nnx_exp_schedule schedule;
    int      epochs;        /* >= 1 */
    int      batch;         /* >= 1, or 0 = auto: about sqrt(train rows) */
    uint64_t seed;
    double   clip_grad;     /* max global gradient L2 norm; 0 = off */

    nnx_exp_metric   *metrics;      /* metrics[0] is always `loss`; each computed on
                                       every split the data has */
    size_t            nmetrics;
    nnx_exp_metric_ref select;      /* the epoch kept; default min(valid.loss),
                                       or min(train.loss) without a valid split */
    nnx_exp_early_stop early_stop;
    bool     log[NNX_XLOG_COUNT];   /* which loggers write the run */
    char    *hooks;                 /* absolute path of the Lua file, or NULL */

    nnx_exp_search search;          /* kind NONE when there is no search */
    nnx_exp_prune  prune;           /* kind NONE unless a grid or random search prunes */
    uint64_t *ensemble_seeds;       /* NULL/0 when there is no ensemble */
    size_t    nensemble;

    nnx_exp_param *params;          /* the overrides this experiment was checked with */
    size_t         nparams;
} nnx_experiment;

void nnx_experiment_free(nnx_experiment *e);

/* The experiment as canonical, self-contained .nnx text: one data block,
 * one network (the flattened layers, every argument written), one
 * experiment with every key written.  Checking that text again gives an
 * equal experiment (nnx_experiment_equal) — except that a search over
 * network arguments (`model.p in ...`) is written as a comment, since the
 * flattened network has no arguments; the applied params are comments
 * too.  Returns a new string the caller frees, or NULL when out of memory. */
char *nnx_experiment_write(const nnx_experiment *e);

/* Every setting of the experiment as a path and its canonical text, in the
 * order the canonical text writes them: "data", "data.train", ...,
 * "model", "model[1]" (each flattened layer, 1-based), "loss",
 * "optimizer", "optimizer.lr", ..., "schedule.decay", "epochs", "batch",
 * "seed", "metrics", "select", "early_stop", "log", "hooks", and
 * "search", "prune" (when it prunes), "search.PATH" or "ensemble.seeds"
 * when present.  What `nnx diff`
 * compares and MLflow's params record.  A new array (nnx_exp_params_free),
 * or NULL when out of memory. */
nnx_exp_param *nnx_experiment_settings(const nnx_experiment *e, size_t *count);
void nnx_exp_params_free(nnx_exp_param *p, size_t n);

/* True when two experiments hold the same settings (locations, the file
 * and the applied params are not compared). */
bool nnx_experiment_equal(const nnx_experiment *a, const nnx_experiment *b);

/* Names as the language spells them ("dense", "adam", "cosine", "valid",
 * "auc", "csv", "grid", ...). */
const char *nnx_exp_op_name(nnx_exp_op op);     /* NNX_LAYER_ACT: "activation" */
/* The layer's name as written: its op's, or its activation's ("swish"). */
const char *nnx_exp_layer_name(const nnx_exp_layer *l);
const char *nnx_exp_loss_name(nnx_exp_loss_kind k);
const char *nnx_exp_optim_name(nnx_exp_optim_kind k);
const char *nnx_exp_decay_name(nnx_exp_decay_kind k);
const char *nnx_exp_split_name(nnx_exp_split s);
const char *nnx_exp_logger_name(nnx_exp_logger l);
const char *nnx_exp_search_name(nnx_exp_search_kind k);

/* "valid.auc" for a metric reference, written into buf (returns buf). */
char *nnx_exp_metric_ref_str(const nnx_experiment *e, nnx_exp_metric_ref r,
                             char *buf, size_t size);

#endif
