/* check.h — check the experiments of a loaded program and compile them.
 *
 * The checker evaluates every expression, merges `extends` chains, checks
 * every name, key, argument type and range, the metrics named by `select`
 * and `early_stop`, search paths, and the shapes from the data's input
 * through every layer to the loss.  Every independent error is added to
 * the diagnostics; nothing is printed.
 *
 * Overrides (`nnx run --set optimizer.lr=3e-4`, and the values of a search
 * trial) are checked exactly like a line `optimizer.lr = 3e-4` written at
 * the end of the experiment; an error in one points into a pseudo-source
 * named `--set`.
 *
 * A search trial is checked the same way: the base experiment's name and
 * the trial's overrides (plan.h), after any from the command line.
 *
 * Ownership: an nnx_checker borrows the program (which must outlive it)
 * and owns the sources it makes for overrides and its caches (data file
 * headers already read).  Diagnostics and nnx_experiment locations may
 * point into those sources: free the checker only after printing the
 * diagnostics and freeing the experiments.
 */
#ifndef NNX_CHECK_H
#define NNX_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/diag.h"
#include "nnx/exp.h"
#include "nnx/resolve.h"

/* `path = value`, both as text; the value is parsed like file text. */
typedef struct nnx_override {
    const char *path;       /* "optimizer.lr", "model.p", "schedule.decay" */
    const char *value;      /* "3e-4", "cosine(min_lr = 1e-5)" */
} nnx_override;

typedef struct nnx_checker nnx_checker;

nnx_checker *nnx_checker_new(const nnx_program *p);
void         nnx_checker_free(nnx_checker *c);
/* Verbose: also add notes on what the checker decided for the user (the
 * projection a residual block's skip path gets).  Off by default. */
void         nnx_checker_set_verbose(nnx_checker *c, bool on);

/* Check experiment `name` (NULL: the program's only experiment — an error
 * when it has none or several) with the overrides applied in order.
 * Returns the compiled experiment (the caller frees it with
 * nnx_experiment_free), or NULL after adding at least one error to `d`. */
nnx_experiment *nnx_check_experiment(nnx_checker *c, const char *name,
                                     const nnx_override *ov, size_t nov,
                                     nnx_diags *d);
/* The same, where origins[i] (when origins and it are not NULL) names where
 * override i came from in its errors ("runs/tune-1a2b/summary.json") instead
 * of "--set". */
nnx_experiment *nnx_check_experiment_from(nnx_checker *c, const char *name,
                                          const nnx_override *ov, const char *const *origins,
                                          size_t nov, nnx_diags *d);

/* `nnx data FILE NAME` on a data block: an experiment holding only data
 * block `name`, compiled (its files' headers checked), named after it, with
 * class targets (loss cross_entropy) and seed 0; the caller frees it with
 * nnx_experiment_free.  NULL without a word when `name` is not a data
 * block, or after adding errors to d when it does not check. */
nnx_experiment *nnx_check_data_block(nnx_checker *c, const char *name, nnx_diags *d);

/* `nnx check`: check every experiment of the program (each with the
 * overrides applied, as nnx_check_experiment does), every value of its
 * searches, and the data blocks and networks no experiment uses.  Returns
 * the number of experiments checked; the result is good when d->nerrors
 * did not grow. */
size_t nnx_check_program(nnx_checker *c, const nnx_override *ov, size_t nov, nnx_diags *d);
/* The same, with origins as nnx_check_experiment_from takes them. */
size_t nnx_check_program_from(nnx_checker *c, const nnx_override *ov, const char *const *origins,
                              size_t nov, nnx_diags *d);

/* Split a `--set` argument "path=value" at its first '='.  The override
 * points into `arg`.  False when there is no '=' or the path is empty. */
bool nnx_override_split(char *arg, nnx_override *out);

#endif
