/* train.h — the training loop: one epoch of optimizer steps, and batched evaluation.
 *
 * An epoch: order the training rows (nnx_epoch_order of seed and epoch),
 * then for each batch: gather its rows, forward in training mode, compute the
 * loss and d(loss)/d(output), stop with an error if the loss is NaN or
 * infinite (before any weight changes), backward, clip the global gradient
 * norm (optional), take one optimizer step at lr = nnx_sched_lr_at(step)
 * (the optimizer's base lr when there is no schedule), record the step's
 * loss, and call the per-batch callback, which may ask to stop.
 *
 * The trainer borrows the network, optimizer, schedule and data set (they
 * must outlive it) and owns its batch buffers, allocated once by
 * nnx_trainer_init: nothing is allocated in the step loop.
 *
 *     nnx_trainer tr;
 *     nnx_train_conf c = {.net = net, .optim = &opt, .sched = &sched,
 *                         .train = &train, .loss = NNX_LOSS_CROSS_ENTROPY,
 *                         .batch = 128, .seed = seed};
 *     nnx_trainer_init(&tr, &c, &err);        // sched->steps_per_epoch must be
 *     for (epoch = 0; epoch < epochs; epoch++) {   // nnx_trainer_batches(&tr)
 *         nnx_train_epoch(&tr, epoch, curve + epoch * tr.batches, &res, &err);
 *         nnx_evaluate(net, loss, 0, &valid, 256, probs, &vloss, &err);
 *     }
 *     nnx_trainer_free(&tr);
 */
#ifndef NNX_RT_TRAIN_H
#define NNX_RT_TRAIN_H

#include <stdint.h>

#include "nnx/rt/data.h"
#include "nnx/util/error.h"
#include "nnx/rt/loss.h"
#include "nnx/rt/net.h"
#include "nnx/rt/optim.h"
#include "nnx/rt/lr_schedule.h"

/* What the per-batch callback sees, after the optimizer step. */
typedef struct nnx_train_progress {
    int32_t epoch;          /* 0-based */
    int32_t batch;          /* 0-based index of the batch in the epoch */
    int32_t batches;        /* batches in the epoch */
    int64_t step;           /* 0-based global step of this batch */
    int32_t rows;           /* rows in this batch */
    double  lr;             /* the lr this step used */
    float   loss;           /* this batch's mean loss (before the step) */
    double  loss_sd;        /* std of the batch's per-row losses (NaN for 1 row) */
    double  grad_norm;      /* global gradient norm before clipping */
} nnx_train_progress;

/* Return nonzero to stop the epoch after this batch (e.g. on Ctrl-C). */
typedef int (*nnx_batch_fn)(const nnx_train_progress *p, void *user);

typedef struct nnx_train_conf {
    nnx_net           *net;      /* compiled; input size = train->d; borrowed */
    nnx_optim         *optim;    /* initialised for nnx_net_nparams(net) values; borrowed */
    const nnx_sched   *sched;    /* checked, steps_per_epoch = batches; NULL: constant lr; borrowed */
    const nnx_dataset *train;    /* borrowed */
    enum nnx_loss_kind loss;     /* CROSS_ENTROPY and BINARY_CROSS_ENTROPY need class
                                    labels, MSE regression targets */
    float    label_smoothing;    /* cross entropy only; 0 = none */
    int32_t  batch;              /* rows per step, 1..nnx_net_max_batch(net) */
    int      drop_last;          /* 1: skip a last, smaller batch (PyTorch's drop_last);
                                    worth setting with batchnorm when n % batch is tiny,
                                    since a 1-row batch has no batch variance */
    double   clip_norm;          /* > 0: clip the global gradient norm to this; 0: off */
    uint64_t seed;               /* the epoch order: nnx_epoch_order(seed, epoch), and
                                    the augmentation draws */
    nnx_augment augment;         /* flips and shifts of each batch's images (train has
                                    a shape); zero: none */
    nnx_batch_fn on_batch;       /* may be NULL */
    void    *user;               /* passed to on_batch */
} nnx_train_conf;

/* The parts of a training step a profiling trainer times (nnx_trainer's
 * profile), in order. */
enum nnx_train_phase {
    NNX_PHASE_GATHER,            /* the batch into the net's input (and augmented) */
    NNX_PHASE_FORWARD,
    NNX_PHASE_LOSS,              /* the loss, its gradient and its rows' spread */
    NNX_PHASE_BACKWARD,
    NNX_PHASE_NORM,              /* the gradient norm (and clipping) */
    NNX_PHASE_OPTIMIZER,
    NNX_TRAIN_PHASES
};
/* "gather", "forward", ... */
const char *nnx_train_phase_name(enum nnx_train_phase p);

typedef struct nnx_trainer {
    nnx_train_conf c;
    bool     profile;            /* time each step's phases into phase_s (seconds
                                    summed over the steps taken) */
    double   phase_s[NNX_TRAIN_PHASES];
    int32_t  batches;            /* steps per epoch */
    int64_t  step;               /* optimizer steps taken so far (global); set it
                                    to epoch·batches to resume at an epoch */
    /* owned */
    int32_t *order;              /* train->n row indices */
    float   *xb;                 /* batch × d: the second batch buffer.  Even
                                    steps train on nnx_net_input(net), odd
                                    ones on this; while one trains, the
                                    team's idle workers gather the next
                                    batch into the other (nnx_gather_start) */
    nnx_gather_ahead ahead;      /* that gather, between start and finish */
    bool     gathering;
    int32_t *yb;                 /* batch labels (classification) */
    float   *tb;                 /* batch targets (regression) */
    float   *aug;                /* H*W floats for nnx_augment_batch, or NULL */
    double  *rows;               /* batch doubles: the loss's row terms */
} nnx_trainer;

/* The number of batches an epoch of n rows has. */
int32_t nnx_batches_per_epoch(int32_t n, int32_t batch, int drop_last);

/* Check the configuration against the network and data (input size, output
 * width against classes and loss, batch size, schedule length) and allocate
 * the buffers.  0, or -1 with err (and nothing to free). */
int  nnx_trainer_init(nnx_trainer *tr, const nnx_train_conf *conf, nnx_rt_error *err);
void nnx_trainer_free(nnx_trainer *tr);

typedef struct nnx_epoch_result {
    double  mean_loss;           /* row-weighted mean of the batch losses taken */
    int32_t steps;               /* batches done this epoch */
    int     stopped;             /* 1: the callback asked to stop */
    int     diverged;            /* 1: a loss was NaN or infinite (the call returned -1) */
} nnx_epoch_result;

/* Train one epoch (0-based `epoch`).  step_loss, if not NULL, receives the
 * loss of each step of this epoch (tr->batches floats; entries past a stop
 * are left alone).  Returns 0 (also when the callback stopped it), or -1
 * with err.  A NaN or infinite loss or gradient norm sets res->diverged and
 * fails before the optimizer step, so the weights are those before that
 * step; the message counts from 1 for people: "epoch 3, step 1234 (batch 17
 * of 422): cross_entropy loss is nan". */
int nnx_train_epoch(nnx_trainer *tr, int32_t epoch, float *step_loss,
                    nnx_epoch_result *res, nnx_rt_error *err);

/* Evaluate ds in evaluation mode, `batch` rows at a time (<= the net's
 * max_batch).  mean_loss (may be NULL) gets the row-weighted mean loss;
 * probs (may be NULL) gets n × k predictions as nnx_loss_probs gives them
 * (softmax, sigmoid, or the raw output for MSE), ready for the metrics.
 * An unlabelled set (kind NONE) gets its predictions and a NaN loss.
 * No allocation. */
int nnx_evaluate(nnx_net *net, enum nnx_loss_kind loss, float label_smoothing,
                 const nnx_dataset *ds, int32_t batch, float *probs, double *mean_loss,
                 nnx_rt_error *err);

#endif
