/* plan.h — the trials a checked experiment stands for: search and ensembles.
 *
 * A trial is the base experiment plus a list of overrides, checked again
 * with nnx_check_experiment(); its name, made from its values, can be used
 * as a directory name ("lr=0.001_batch=64").
 *
 *   no search, no ensemble   one trial, no overrides, name "run"
 *   grid                     the cartesian product, first axis slowest
 *   random                   `trials` draws, each axis drawn in order from
 *                            one generator: nnx_rng (xoroshiro128+) seeded
 *                            with the search seed on stream NNX_STREAM_SEARCH;
 *                            lists and choice() uniformly, uniform(a, b) and
 *                            loguniform(a, b) continuously
 *   ensemble                 one trial per seed, overriding `seed`
 *   staged                   no trial list: stages, one per axis, in order.
 *                            nnx_plan_stage() builds the trials of stage k
 *                            from the values kept by the stages before it.
 *
 * Ownership: an nnx_plan owns its trials and stages and every string in
 * them; nnx_plan_free() frees it.  Trials from nnx_plan_stage() belong to
 * the caller (nnx_trials_free).
 */
#ifndef NNX_PLAN_H
#define NNX_PLAN_H

#include <stddef.h>

#include "nnx/check.h"
#include "nnx/exp.h"

typedef enum nnx_plan_kind {
    NNX_PLAN_SINGLE,
    NNX_PLAN_GRID,
    NNX_PLAN_RANDOM,
    NNX_PLAN_STAGED,
    NNX_PLAN_ENSEMBLE
} nnx_plan_kind;

typedef struct nnx_trial {
    char         *name;         /* unique within its plan (or stage) */
    nnx_override *ov;           /* path and value strings owned by the trial */
    size_t        nov;
} nnx_trial;

typedef struct nnx_stage {
    char  *path;                /* the axis this stage searches */
    char **values;              /* canonical source text of each value */
    size_t nvalues;
} nnx_stage;

typedef struct nnx_plan {
    nnx_plan_kind kind;
    nnx_trial    *trials;       /* every kind but STAGED */
    size_t        ntrials;
    nnx_stage    *stages;       /* STAGED only */
    size_t        nstages;
} nnx_plan;

/* The plan of `e`.  NULL when out of memory or when the plan would have
 * more than NNX_PLAN_MAX_TRIALS trials; then `err` (if not NULL) receives
 * a message the caller frees. */
enum { NNX_PLAN_MAX_TRIALS = NNX_EXP_MAX_TRIALS };
nnx_plan *nnx_plan_make(const nnx_experiment *e, char **err);
void      nnx_plan_free(nnx_plan *p);

/* The trials of stage `k` of a STAGED plan: stage k's values, each with
 * the values kept by stages 0..k-1 (`kept[j]` is an index into stage j's
 * values).  Returns the trials (NULL when out of memory) and sets *n. */
nnx_trial *nnx_plan_stage(const nnx_plan *p, size_t k, const size_t *kept, size_t *n);
void       nnx_trials_free(nnx_trial *t, size_t n);

/* The rungs of a pruned search (prune = halving): rung i trains trials[i]
 * trials to epochs[i] epochs: min_epochs·eta^i while below the experiment's
 * epochs, then the experiment's epochs; trials[0] = ntrials and
 * trials[i+1] = max(1, floor(trials[i] / eta)).  Returns the number of
 * rungs (at most NNX_PLAN_MAX_RUNGS); 0 when e does not prune. */
enum { NNX_PLAN_MAX_RUNGS = 64 };
size_t nnx_plan_rungs(const nnx_experiment *e, size_t ntrials, int epochs[NNX_PLAN_MAX_RUNGS],
                      size_t trials[NNX_PLAN_MAX_RUNGS]);

#endif
