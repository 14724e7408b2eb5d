/* lr_range.h — Smith's learning-rate range test: train with an lr that grows
 * exponentially step by step and read where the loss falls fastest.
 *
 * nnx_lr_range_test trains a fresh network for up to conf.steps batches
 * (epochs follow each other, each in the order nnx_epoch_order gives); step
 * i uses lr_min · (lr_max / lr_min)^(i / (steps - 1)).  The loss is smoothed
 * by an exponential moving average with bias correction (beta, as in
 * fastai); the test stops early when the smoothed loss exceeds `diverge` x
 * its lowest value or a loss is not finite.  From the smoothed curve:
 *
 *   lr_min_loss   the lr at the lowest smoothed loss
 *   lr_steepest   the lr where the smoothed loss falls fastest per decade
 *                 (between the first 10% of the points and the lowest one)
 *   lr_proposed   the value to train with: sqrt(lr_steepest · lr_min_loss / 10),
 *                 the middle on a log scale of the two usual rules (each
 *                 alone misses on some curves; docs/diagnosis.md measures them)
 *
 * It changes the network's weights and the optimizer's state (build fresh
 * ones to train afterwards).  Ownership: the result owns its arrays
 * (nnx_lr_range_free).
 */
#ifndef NNX_RT_LR_RANGE_H
#define NNX_RT_LR_RANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/util/error.h"
#include "nnx/rt/train.h"

typedef struct nnx_lr_range_conf {
    double lr_min, lr_max;      /* 0 = 1e-7 and 10 */
    int    steps;               /* 0 = 300 */
    double beta;                /* 0 = 0.98 */
    double diverge;             /* 0 = 4 */
} nnx_lr_range_conf;

typedef struct nnx_lr_range {
    size_t  n;                  /* steps recorded */
    double *lr, *loss, *smooth; /* [n] */
    bool    diverged;           /* stopped by the divergence test */
    long    min_at, steep_at;   /* indices into the arrays; -1 = none */
    double  lr_min_loss, lr_steepest, lr_proposed;   /* NaN when the curve has no fall */
} nnx_lr_range;

/* Run the test with `base` (its sched and on_batch are ignored; its
 * optimizer's lr is overwritten).  0, or -1 with err (a bad conf, a trainer
 * that does not initialise, out of memory). */
int  nnx_lr_range_test(const nnx_train_conf *base, const nnx_lr_range_conf *conf,
                       nnx_lr_range *out, nnx_rt_error *err);
void nnx_lr_range_free(nnx_lr_range *r);

#endif
