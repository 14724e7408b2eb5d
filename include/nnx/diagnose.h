/* diagnose.h — what the loss curves of a finished run say, in a practitioner's words.
 *
 * nnx_diagnose is a pure function over arrays: it reads the per-epoch and
 * per-step curves of one run and returns findings, each with a rule id, a
 * severity, a message and the numbers it rests on.  It does no I/O and
 * allocates nothing (a run has at most one finding per rule).
 *
 * Levels are read against the run's own reference: the loss of predicting
 * the train class frequencies (setup.prior_loss, = ln k for balanced
 * classes), else chance_loss; a rule that needs it is off for mse.  A
 * "trend" is a least-squares line over the last third of the epochs (at least
 * TREND_MIN_EPOCHS), never one epoch's wobble.  Rules and thresholds (the
 * NNX_DIAG_* constants below; docs/diagnosis.md measures them on a labelled
 * corpus of real runs):
 *
 *   diverged         the train loss became NaN/inf, the run says it diverged,
 *                    an epoch's train loss exceeded EXPLODE_FACTOR x the
 *                    lowest so far, or one step's loss exceeded STEP_EXPLODE x
 *                    the reference inside an epoch (caught without a NaN)
 *                    → lr too large.  When this fires no other rule runs.
 *   stuck-at-chance  the train loss has stayed >= STUCK_FRAC x the reference
 *                    for at least half the run and is not steadily falling
 *                    → lr far too large, or dead units.  With a peak lr <=
 *                    TINY_LR the same curve is reported as lr-too-small.
 *   lr-too-small     the loss is still falling steadily at the end (see
 *                    still-improving) while the train loss is still >=
 *                    SLOW_LEVEL x the reference, or falls < SLOW_DROP per
 *                    epoch on a straight line  → 10x the lr the schedule used.
 *   still-improving  >= 3 epochs; over the trend window the valid loss (the
 *                    train loss without one) falls by >= IMPROVE_DROP of its
 *                    level per epoch with R² >= IMPROVE_R2, by >= IMPROVE_ABS x
 *                    the reference in all, and still fell at the last epoch
 *                    → train longer; the message gives the short run that
 *                    tells a small lr from too few epochs.
 *   noisy-steps      the step losses (first epoch left out) scatter around
 *                    their NOISE_WINDOW-step moving average by >= NOISE_EXCESS
 *                    x the sampling noise a batch of that size has anyway
 *                    (the std of a mean of `batch` per-row losses: steps.csv
 *                    loss_sd / sqrt(batch))  → the updates shake the weights:
 *                    lr too large or batch too small.
 *   noisy-epochs     the valid loss zig-zags (turns at >= ZIGZAG_TURNS of its
 *                    epochs, moving >= ZIGZAG_REL of its level and >=
 *                    ZIGZAG_ABS x the reference per epoch), or over the trend
 *                    window the train loss sits >= ABOVE_RATIO x the valid
 *                    loss (and ABOVE_ABS x the reference above it) without
 *                    heavy dropout  → lr too large or batch too small.
 *   over-regularised the train loss sits above the valid loss so (as above)
 *                    with dropout >= HEAVY_DROPOUT; or weight decay >=
 *                    HEAVY_DECAY with the train loss flat, high (>=
 *                    DECAY_LEVEL x the reference) and not below the valid loss
 *                    → less dropout / weight decay (the message names the
 *                    value the experiment has).
 *   overfitting      the 3-epoch average of the valid loss bottomed, then the
 *                    last epochs ended >= OVERFIT_RISE above it (and >=
 *                    OVERFIT_MIN_RISE x the reference) >= OVERFIT_EPOCHS later
 *                    while the train loss fell by >= OVERFIT_TRAIN_DROP; or the
 *                    final valid loss is >= GAP_RATIO x the train loss, >=
 *                    GAP_MIN x the reference above it, and no longer falling.
 *   underfitting     the train loss is flat over the trend window (falls <
 *                    FLAT_DROP per epoch), >= UNDERFIT_FRAC x the reference,
 *                    the valid loss within UNDERFIT_CLOSE of it, and the net
 *                    has fewer parameters than train rows (a net that could
 *                    memorise its rows and still ends there sits at the
 *                    data's noise floor)  → a larger network.
 *   select-vs-loss   the `select` metric is not the valid loss and its best
 *                    epoch (ties: the lower valid loss) differs from the
 *                    lowest-valid-loss epoch  → info.
 *   loss-vs-metric   after the lowest-valid-loss epoch the valid loss rose by
 *                    >= LOSS_RISE while the selected metric still improved by
 *                    >= METRIC_MIN_GAIN (relative)  → info.
 *
 * Epochs in messages and evidence are 1-based, as in metrics.csv.
 */
#ifndef NNX_DIAGNOSE_H
#define NNX_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/util/json.h"
#include "nnx/util/error.h"

#define NNX_DIAG_EXPLODE_FACTOR     4.0   /* epoch train loss x lowest so far */
#define NNX_DIAG_STEP_EXPLODE       10.0  /* one step's loss x the reference */
#define NNX_DIAG_TREND_MIN_EPOCHS   3
#define NNX_DIAG_STUCK_FRAC         0.9
#define NNX_DIAG_TINY_LR            1e-4
#define NNX_DIAG_SLOW_LEVEL         0.6
#define NNX_DIAG_NEAR_CHANCE        0.8   /* x the reference: barely learned yet */
#define NNX_DIAG_SLOW_DROP          0.02  /* of the level per epoch */
#define NNX_DIAG_IMPROVE_DROP       0.01
#define NNX_DIAG_IMPROVE_R2         0.8
#define NNX_DIAG_IMPROVE_ABS        0.02
#define NNX_DIAG_CREEP_R2           0.95  /* a slow fall, over the last half */
#define NNX_DIAG_CREEP_DROP         0.001
#define NNX_DIAG_NOISE_MIN_STEPS    40
#define NNX_DIAG_NOISE_WINDOW       21
#define NNX_DIAG_NOISE_EXCESS       1.5
#define NNX_DIAG_ZIGZAG_MIN_EPOCHS  5
#define NNX_DIAG_ZIGZAG_TURNS       0.5
#define NNX_DIAG_ZIGZAG_REL         0.05
#define NNX_DIAG_ZIGZAG_ABS         0.05
#define NNX_DIAG_ABOVE_RATIO        1.1
#define NNX_DIAG_ABOVE_ABS          0.05
#define NNX_DIAG_ABOVE_MAX_FALL     0.03  /* train falling faster: still learning */
#define NNX_DIAG_HEAVY_DROPOUT      0.5
#define NNX_DIAG_HEAVY_DECAY        0.01
#define NNX_DIAG_DECAY_LEVEL        0.2
#define NNX_DIAG_OVERFIT_EPOCHS     3
#define NNX_DIAG_OVERFIT_RISE       0.1
#define NNX_DIAG_OVERFIT_MIN_RISE   0.02
#define NNX_DIAG_OVERFIT_TRAIN_DROP 0.02
#define NNX_DIAG_GAP_RATIO          3.0
#define NNX_DIAG_GAP_MIN            0.25
#define NNX_DIAG_FLAT_DROP          0.01
#define NNX_DIAG_UNDERFIT_FRAC      0.5
#define NNX_DIAG_UNDERFIT_CLOSE     0.2
#define NNX_DIAG_UNDERFIT_LINEAR    4.0   /* x a linear model's parameters: big enough */
#define NNX_DIAG_LOSS_RISE          0.05
#define NNX_DIAG_METRIC_MIN_GAIN    0.002

typedef enum nnx_rule {
    NNX_RULE_DIVERGED,
    NNX_RULE_STUCK,
    NNX_RULE_LR_TOO_SMALL,
    NNX_RULE_STILL_IMPROVING,
    NNX_RULE_NOISY_STEPS,
    NNX_RULE_NOISY_EPOCHS,
    NNX_RULE_OVER_REGULARISED,
    NNX_RULE_OVERFITTING,
    NNX_RULE_UNDERFITTING,
    NNX_RULE_SELECT_VS_LOSS,
    NNX_RULE_LOSS_VS_METRIC,
    NNX_RULE_COUNT
} nnx_rule;

typedef enum nnx_severity { NNX_SEV_INFO, NNX_SEV_WARNING, NNX_SEV_ERROR } nnx_severity;

/* Which plot a finding speaks of (the report puts it beside that plot). */
typedef enum nnx_curve_kind { NNX_CURVE_LOSS, NNX_CURVE_METRIC, NNX_CURVE_STEPS, NNX_CURVE_LR } nnx_curve_kind;

/* What the experiment was, so advice can name it ("more dropout (now 0.2)",
 * a command to paste).  Every field is optional: 0 or NULL = unknown. */
typedef struct nnx_diag_setup {
    bool        known;         /* the fields below were recorded (dropout 0 then means none) */
    const char *source;        /* the .nnx file, for `nnx run SOURCE NAME --set ...` */
    const char *experiment;    /* its name */
    double      lr;            /* optimizer.lr as written (the peak of the schedule) */
    int         batch;         /* rows per training step */
    long        train_rows;    /* rows of the train split */
    double      dropout;       /* the largest dropout p in the network (0 = none) */
    double      weight_decay;  /* optimizer.weight_decay (0 = none) */
    long        parameters;    /* trainable values of the network */
    long        features;      /* input values per row (0 = not recorded) */
    int         classes;       /* classes of the labels (0 = not recorded or regression) */
    int         epochs;        /* epochs asked for */
    double      prior_loss;    /* loss of predicting the train class frequencies */
} nnx_diag_setup;

/* The curves of one run.  Arrays are borrowed; a NULL array means "not
 * recorded" and disables the rules that need it.  NaN in valid_loss or
 * select_values means "not computed that epoch"; NaN or inf in train_loss
 * or step_loss means the loss blew up. */
typedef struct nnx_curves {
    size_t        epochs;          /* rows of the per-epoch arrays */
    const double *train_loss;      /* [epochs], required */
    const double *valid_loss;      /* [epochs] or NULL */
    const double *lr;              /* [epochs] or NULL: lr at each epoch */
    const char   *select_metric;   /* "valid.auc"; NULL or "valid.loss" = by loss */
    bool          select_max;      /* true: higher is better */
    const double *select_values;   /* [epochs] or NULL */
    size_t        steps;
    const double *step_loss;       /* [steps] or NULL: one per training batch */
    const double *step_epoch;      /* [steps] or NULL: the 1-based epoch of each step */
    const double *step_lr;         /* [steps] or NULL: the lr each step used */
    const double *step_loss_sd;    /* [steps] or NULL: std of the step's per-row losses */
    double        chance_loss;     /* loss of a uniform guess (ln k); <= 0 or NaN: unknown */
    bool          diverged;        /* the run's status is "diverged" */
    int           diverged_epoch;  /* 1-based, 0 = unknown */
    nnx_diag_setup setup;
} nnx_curves;

enum { NNX_FINDING_MAX_EVIDENCE = 10 };

typedef struct nnx_finding {
    nnx_rule       rule;
    nnx_severity   severity;
    nnx_curve_kind curve;
    int            epoch;          /* the epoch it points at (1-based), 0 = none */
    char           message[1024];
    int            nevidence;
    struct {
        const char *name;          /* a static string: "r2", "best_epoch", ... */
        double      value;
    } evidence[NNX_FINDING_MAX_EVIDENCE];
} nnx_finding;

typedef struct nnx_findings {
    size_t      n;
    nnx_finding items[NNX_RULE_COUNT];
} nnx_findings;

/* Run every rule over `c`.  0 on success (zero findings is a healthy run);
 * -1 with err filled when the input is unusable (no epochs, NULL train_loss). */
int nnx_diagnose(const nnx_curves *c, nnx_findings *out, nnx_rt_error *err);

const char *nnx_rule_name(nnx_rule r);           /* "lr-too-small" */
const char *nnx_severity_name(nnx_severity s);   /* "info" | "warning" | "error" */

/* Write the findings as the "diagnosis" array of summary.json:
 * [{"rule","severity","message","evidence":{name: value}}, ...]. */
void nnx_findings_write_json(const nnx_findings *f, nnx_json_writer *w);

#endif
