/* compare.h — what differs between the settings of two experiments, path by path, layers aligned.
 *
 * The settings are nnx_experiment_settings() lists (exp.h).  Paths present
 * on both sides are compared by their text; the layers ("model[i]") are
 * aligned by a longest common subsequence, so that one layer added in the
 * middle is one difference ("model[3]: added dense(16, bias = true)"), not
 * a change of every layer after it.  A removal next to an addition at the
 * same place is one change ("model[1]: dense(256, ...) -> dense(512, ...)").
 *
 * Ownership: an nnx_setting_change borrows its strings from the two lists,
 * except `path`, which it owns (nnx_setting_changes_free).
 */
#ifndef NNX_COMPARE_H
#define NNX_COMPARE_H

#include <stddef.h>

#include "nnx/exp.h"

typedef struct nnx_setting_change {
    char       *path;       /* "optimizer.lr", "model[3]" (B's index for an added or
                               changed layer, A's for a removed one) */
    const char *a, *b;      /* the two values; NULL: absent on that side */
} nnx_setting_change;

/* The changes from a to b, in a's order (b's new paths after).  0, or -1
 * when out of memory. */
int  nnx_settings_diff(const nnx_exp_param *a, size_t na, const nnx_exp_param *b, size_t nb,
                       nnx_setting_change **out, size_t *n);
void nnx_setting_changes_free(nnx_setting_change *c, size_t n);

#endif
