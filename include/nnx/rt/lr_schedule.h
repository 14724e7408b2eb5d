/* lr_schedule.h — the learning rate at each optimizer step: warmup composed with a decay.
 *
 *   lr(step) = base_lr · warmup(step) · decay(step) · scale
 *
 * step counts optimizer steps from 0; epoch(step) = step / steps_per_epoch as
 * a real number; total = steps_per_epoch · epochs.
 *
 * warmup: W = warmup_steps if > 0, else round(warmup_epochs · steps_per_epoch)
 *   (fractional epochs allowed).  warmup(step) = step / W for step < W (so
 *   step 0 has lr 0: "linear from 0"), then 1.
 *
 * decays — smooth (per step) ones run from the end of warmup to the last step;
 * staircase (per epoch) ones count epochs from the start of training:
 *   NONE       1
 *   COSINE     smooth: q = (step - W) / (total - W) clamped to [0, 1];
 *              lr = min_lr + (base - min_lr) · (1 + cos(π q)) / 2
 *   LINEAR     smooth: lr = base + (min_lr - base) · q
 *   POLY       smooth: lr = min_lr + (base - min_lr) · (1 - q)^power
 *   EXP        smooth: factor gamma^epoch(step) — gamma per epoch, applied
 *              continuously (Keras ExponentialDecay, staircase = false)
 *   STEP       staircase: gamma^floor(epoch(step) / every)   (every in epochs, > 0)
 *   MULTISTEP  staircase: gamma^(number of milestones at[i] <= epoch(step))
 *   PLATEAU    1; the caller reports the monitored value once per epoch with
 *              nnx_sched_plateau_epoch, which multiplies `scale` by factor
 *              after more than `patience` epochs without improvement
 *              (PyTorch's ReduceLROnPlateau: relative threshold 1e-4,
 *              no cooldown, floor at min_lr).
 * With COSINE, LINEAR and POLY the lr at the end of warmup is base_lr and at
 * the last step (total - 1) is close to min_lr; the lr is min_lr from total on.
 *
 * `scale` (1 after init) multiplies everything: PLATEAU lowers it, and a
 * caller may set it (e.g. a hook asking for a new lr).
 *
 * Usage: nnx_sched_init, set the decay fields, nnx_sched_check, then
 * nnx_sched_lr_at per step.  The struct owns nothing.
 */
#ifndef NNX_RT_LR_SCHEDULE_H
#define NNX_RT_LR_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"

typedef enum nnx_decay_kind {
    NNX_DECAY_NONE = 0,
    NNX_DECAY_COSINE,
    NNX_DECAY_STEP,
    NNX_DECAY_MULTISTEP,
    NNX_DECAY_EXP,
    NNX_DECAY_POLY,
    NNX_DECAY_LINEAR,
    NNX_DECAY_PLATEAU
} nnx_decay_kind;

enum { NNX_SCHED_MAX_MILESTONES = 32 };

typedef enum nnx_plateau_mode {
    NNX_PLATEAU_MIN = 0,    /* lower is better (a loss) */
    NNX_PLATEAU_MAX         /* higher is better (accuracy, AUC) */
} nnx_plateau_mode;

typedef struct nnx_sched {
    /* the run */
    double  base_lr;             /* > 0 */
    int64_t steps_per_epoch;     /* > 0 */
    int32_t epochs;              /* > 0 */
    /* warmup */
    double  warmup_epochs;       /* >= 0, fractional allowed */
    int64_t warmup_steps;        /* >= 0; wins over warmup_epochs when > 0 */
    /* decay */
    nnx_decay_kind decay;
    double  min_lr;              /* COSINE, LINEAR, POLY, PLATEAU floor; 0 <= min_lr <= base_lr */
    double  gamma;               /* STEP, MULTISTEP, EXP: factor, 0 < gamma <= 1 (EXP may exceed) */
    double  every;               /* STEP: epochs between drops, > 0 */
    double  power;               /* POLY: > 0 */
    double  at[NNX_SCHED_MAX_MILESTONES];  /* MULTISTEP: epochs, increasing */
    int32_t n_at;
    /* PLATEAU */
    int32_t patience;            /* >= 0 */
    double  factor;              /* 0 < factor < 1 */
    nnx_plateau_mode mode;
    double  threshold;           /* relative improvement needed; default 1e-4 */
    /* state */
    double  scale;               /* multiplies the lr; 1 after init */
    double  plateau_best;        /* best monitored value so far (NaN before the first) */
    int32_t plateau_bad;         /* epochs since the best */
} nnx_sched;

/* A decay's argument, as its row names it: a field of nnx_sched, or AT (the
 * milestones at[] and n_at) or ON (the monitored metric, which sets mode). */
enum nnx_sched_field {
    NNX_SF_NONE,            /* no argument (ends a row's list) */
    NNX_SF_MIN_LR, NNX_SF_GAMMA, NNX_SF_EVERY, NNX_SF_POWER, NNX_SF_PATIENCE, NNX_SF_FACTOR,
    NNX_SF_AT, NNX_SF_ON
};

#define NNX_DECAY_MAX_ARGS 4

/* One decay, one row of the table in decay_table.c: its name and its
 * arguments in the language's order (the catalog row of the same name has
 * these parameters; test_registry holds the two together).  Its rule is
 * nnx_sched_lr_at's case for `code`. */
typedef struct nnx_decay_info {
    nnx_decay_kind code;        /* == its index */
    const char *name;
    struct {
        const char *name;
        enum nnx_sched_field field;
    } args[NNX_DECAY_MAX_ARGS]; /* then NONE */
} nnx_decay_info;

const nnx_decay_info *nnx_decay_info_of(unsigned code);    /* NULL: no such decay */
size_t nnx_decay_count(void);
/* Set the number field f of s (patience: (int32_t)v); AT, ON and NONE are
 * not numbers and are left alone. */
void nnx_sched_set(nnx_sched *s, enum nnx_sched_field f, double v);

/* Defaults: no warmup, decay NONE, gamma 0.1, every 1, power 1, min_lr 0,
 * patience 10, factor 0.1, mode MIN, threshold 1e-4, scale 1. */
void nnx_sched_init(nnx_sched *s, double base_lr, int64_t steps_per_epoch, int32_t epochs);

/* Check every field used by the chosen decay; 0 or -1 with err naming it. */
int nnx_sched_check(const nnx_sched *s, nnx_rt_error *err);

/* The warmup length in steps. */
int64_t nnx_sched_warmup_len(const nnx_sched *s);

/* The lr at optimizer step `step` (0-based); steps past the end keep the
 * final value of smooth decays. */
double nnx_sched_lr_at(const nnx_sched *s, int64_t step);

/* Fill out[0..nsteps) with lr at steps 0..nsteps-1 (with the current scale). */
void nnx_sched_fill(const nnx_sched *s, double *out, int64_t nsteps);

/* PLATEAU: report this epoch's monitored value.  Returns 1 when the lr was
 * reduced, else 0 (also for other decays, where it does nothing).  A NaN
 * value counts as no improvement. */
int nnx_sched_plateau_epoch(nnx_sched *s, double value);

#endif
