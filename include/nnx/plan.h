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
 *   tpe                      kind RANDOM: the first `startup` trials are the
 *                            random search's draws with the same seed; the
 *                            rest (from `proposed_from` on) hold random
 *                            draws only as stand-ins that check the space:
 *                            the search proposes them while it runs
 *                            (nnx/tpe.h), trial k from trials 1..k-lag
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
    size_t        proposed_from;    /* TPE: trials from here on are proposed while the
                                       search runs; ntrials otherwise */
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

/* Trial `t` of a search with one value per axis of `s` (canonical text):
 * named as the plan names its trials (the caller makes the name unique).
 * False when out of memory (t then holds what was made: nnx_trials_free). */
bool nnx_plan_trial(const nnx_exp_search *s, const char *const *values, nnx_trial *t);

/* The rungs of a pruned search (prune = halving): rung i trains trials[i]
 * trials to epochs[i] epochs: min_epochs·eta^i while below the experiment's
 * epochs, then the experiment's epochs; trials[0] = ntrials and
 * trials[i+1] = max(1, floor(trials[i] / eta)).  Returns the number of
 * rungs (at most NNX_PLAN_MAX_RUNGS); 0 when e does not prune. */
enum { NNX_PLAN_MAX_RUNGS = 64 };
size_t nnx_plan_rungs(const nnx_experiment *e, size_t ntrials, int epochs[NNX_PLAN_MAX_RUNGS],
                      size_t trials[NNX_PLAN_MAX_RUNGS]);

/* The brackets of prune = hyperband (Li et al. 2018).  With R the
 * experiment's epochs, r = min_epochs and s_max the largest s with
 * r·eta^s <= R, bracket s (s = s_max down to 0) starts n_s =
 * ceil((s_max + 1) / (s + 1) · eta^s) trials at r·eta^(s_max − s) epochs
 * and is successive halving from there (rungs as nnx_plan_rungs counts
 * them).  The search's trials fill the brackets in proposal order, s_max
 * first, round after round; the last bracket may hold fewer than n_s.
 * Returns the number of brackets written (at most `max`); 0 when e is not
 * pruned by hyperband. */
typedef struct nnx_plan_bracket {
    size_t first, ntrials;      /* its trials: [first, first + ntrials) in proposal order */
    int    s;                   /* Hyperband's s: s_max for the most aggressive */
    size_t nrungs;
    int    epochs[NNX_PLAN_MAX_RUNGS];
    size_t trials[NNX_PLAN_MAX_RUNGS];
} nnx_plan_bracket;
size_t nnx_plan_brackets(const nnx_experiment *e, size_t ntrials, nnx_plan_bracket *out, size_t max);

#endif
