/* diagnose.h — what the loss curves of a finished run say, in a practitioner's words.
 *
 * nnx_diagnose is a pure function over arrays: it reads the per-epoch and
 * per-step curves of one run and returns findings, each with a rule id, a
 * severity, a message and the numbers it rests on.  It does no I/O and
 * allocates nothing (a run has at most one finding per rule).
 *
 * Rules and their thresholds (the NNX_DIAG_* constants below):
 *
 *   diverged        the train loss became NaN/inf, or the run's status says
 *                   it diverged, or a later epoch's train loss exceeded
 *                   EXPLODE_FACTOR x the lowest so far  → lr too large.
 *                   When this fires no other rule runs (the curve is broken).
 *   lr-too-small    >= LINEAR_MIN_EPOCHS epochs; over the last half the train
 *                   loss fits a falling line with R² >= LINEAR_R2, falls by
 *                   >= LINEAR_MIN_DROP of its level per epoch, and the slope
 *                   of the later half of that window is >= LINEAR_KEEP x the
 *                   slope of its earlier half (not flattening); the valid
 *                   loss is not rising there  → the lr may be too small,
 *                   try 10x.
 *   noisy-steps     >= NOISE_MIN_STEPS steps; the step losses (first epoch
 *                   left out) deviate from their moving average (window
 *                   NOISE_WINDOW steps) by a relative std >= NOISE_REL
 *                   (relative to the average, or to 0.1 x chance_loss when
 *                   that is larger, so a near-zero loss is not "noisy")
 *                   → the batch may be too small.  Calibrated on a
 *                   784-256-10 MLP, Adam 1e-3, 12k Fashion-MNIST rows:
 *                   batch 8 measures 0.73, batch 32 0.36, batch 128 0.18.
 *   noisy-epochs    >= ZIGZAG_MIN_EPOCHS epochs; the valid loss changes
 *                   direction at >= ZIGZAG_TURNS of its epochs and its mean
 *                   epoch-to-epoch change is >= ZIGZAG_REL of its level
 *                   → the batch may be too small (or the lr too large).
 *   overfitting     the valid loss rose for >= OVERFIT_EPOCHS epochs after
 *                   its lowest point, ending >= OVERFIT_RISE above it (and,
 *                   when chance_loss is known, by >= OVERFIT_MIN_RISE x
 *                   chance_loss: 0.016 → 0.018 at 99.7% accuracy is
 *                   noise, not overfitting), while
 *                   the train loss fell by >= OVERFIT_TRAIN_DROP; or the
 *                   final valid loss is >= GAP_RATIO x the train loss and
 *                   >= GAP_MIN above it  → dropout, weight decay, fewer epochs.
 *   underfitting    chance_loss known; the final train loss is >=
 *                   UNDERFIT_FRAC x chance_loss and the valid loss within
 *                   UNDERFIT_CLOSE of it  → more capacity, more lr/epochs.
 *   select-vs-loss  the `select` metric is not the valid loss and its best
 *                   epoch differs from the lowest-valid-loss epoch  → both.
 *   loss-vs-metric  after the lowest-valid-loss epoch the valid loss rose by
 *                   >= OVERFIT_RISE while the selected metric still improved
 *                   by >= METRIC_MIN_GAIN (relative)  → the loss does not
 *                   tell the whole story.
 *
 * Epochs in messages and evidence are 1-based, as in metrics.csv.
 */
#ifndef NNX_DIAGNOSE_H
#define NNX_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/json.h"
#include "nnx/rt/error.h"

#define NNX_DIAG_EXPLODE_FACTOR     4.0   /* train loss x lowest so far = exploded */
#define NNX_DIAG_LINEAR_MIN_EPOCHS  6
#define NNX_DIAG_LINEAR_R2          0.95
#define NNX_DIAG_LINEAR_MIN_DROP    0.01  /* 1% of the mean level per epoch */
#define NNX_DIAG_LINEAR_KEEP        0.6
#define NNX_DIAG_NOISE_MIN_STEPS    40
#define NNX_DIAG_NOISE_WINDOW       21
#define NNX_DIAG_NOISE_REL          0.45
#define NNX_DIAG_ZIGZAG_MIN_EPOCHS  6
#define NNX_DIAG_ZIGZAG_TURNS       0.6
#define NNX_DIAG_ZIGZAG_REL         0.05
#define NNX_DIAG_OVERFIT_EPOCHS     3
#define NNX_DIAG_OVERFIT_RISE       0.05
#define NNX_DIAG_OVERFIT_MIN_RISE   0.01 /* x chance_loss, absolute */
#define NNX_DIAG_OVERFIT_TRAIN_DROP 0.02
#define NNX_DIAG_GAP_RATIO          2.0
#define NNX_DIAG_GAP_MIN            0.05
#define NNX_DIAG_UNDERFIT_FRAC      0.5
#define NNX_DIAG_UNDERFIT_CLOSE     0.15
#define NNX_DIAG_METRIC_MIN_GAIN    0.002

typedef enum nnx_rule {
    NNX_RULE_DIVERGED,
    NNX_RULE_LR_TOO_SMALL,
    NNX_RULE_NOISY_STEPS,
    NNX_RULE_NOISY_EPOCHS,
    NNX_RULE_OVERFITTING,
    NNX_RULE_UNDERFITTING,
    NNX_RULE_SELECT_VS_LOSS,
    NNX_RULE_LOSS_VS_METRIC,
    NNX_RULE_COUNT
} nnx_rule;

typedef enum nnx_severity { NNX_SEV_INFO, NNX_SEV_WARNING, NNX_SEV_ERROR } nnx_severity;

/* Which plot a finding speaks of (the report puts it beside that plot). */
typedef enum nnx_curve_kind { NNX_CURVE_LOSS, NNX_CURVE_METRIC, NNX_CURVE_STEPS, NNX_CURVE_LR } nnx_curve_kind;

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
    double        chance_loss;     /* loss of a uniform guess (ln k); <= 0 or NaN: unknown */
    bool          diverged;        /* the run's status is "diverged" */
    int           diverged_epoch;  /* 1-based, 0 = unknown */
} nnx_curves;

enum { NNX_FINDING_MAX_EVIDENCE = 10 };

typedef struct nnx_finding {
    nnx_rule       rule;
    nnx_severity   severity;
    nnx_curve_kind curve;
    int            epoch;          /* the epoch it points at (1-based), 0 = none */
    char           message[512];
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
