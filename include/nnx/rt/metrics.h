/* metrics.h — how good predictions are: accuracy, ROC AUC, macro P/R/F1, MSE, MAE.
 *
 * Classification metrics read labels y[0..n) and probabilities p (n×k floats,
 * row-major).  k is the width of the network's output:
 *   - k == 1: a binary task, p[i] = p(class 1); the predicted class is
 *     p[i] >= 0.5.  Labels are 0 or 1.
 *   - k >= 2: p[i*k + c] is row i's score for class c; the predicted class is
 *     the argmax (the lowest index on ties).  Labels are in [0, k).
 * Scores need not be normalised: only their order (AUC) or argmax matters.
 *
 * Labels outside the range are an error (return -1 and fill err).  The
 * metrics allocate scratch memory (AUC sorts) and free it before returning;
 * nothing here prints.
 */
#ifndef NNX_RT_METRICS_H
#define NNX_RT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"

/* The class a row of k predictions stands for, as every metric here reads
 * it: the largest (the first on a tie), or row[0] >= 0.5 when k == 1. */
int32_t nnx_predicted_class(const float *row, int32_t k);

/* Fraction of rows whose predicted class is the label. n > 0. */
int nnx_accuracy(const int32_t *y, const float *p, int32_t n, int32_t k,
                 double *out, nnx_rt_error *err);

/* ROC AUC, exact: the Mann–Whitney statistic with tied scores counted ½
 * (average ranks), the same number as sklearn's roc_auc_score.
 *   - k == 1: p is p(class 1); k == 2: column 1 is the positive score.
 *     AUC is undefined when only one class occurs in y: return -1, *out = NaN.
 *   - k >= 3: macro one-vs-rest — the mean over classes c of the AUC of
 *     "class c against the rest" scored by column c.  A class that does not
 *     occur in y (or that every row has) has no AUC: it is left out of the
 *     mean and counted in *skipped (skipped may be NULL).  If every class is
 *     left out, return -1 with *out = NaN.
 * Ties are exact: equal floats share their average rank, so a constant score
 * gives 0.5. */
int nnx_auc(const int32_t *y, const float *p, int32_t n, int32_t k,
            double *out, int32_t *skipped, nnx_rt_error *err);

/* The binary AUC of labels pos[i] (nonzero = positive) against scores s[i]
 * read with stride: score i is s[i*stride].  The building block above;
 * returns -1 (and NaN) when either class is empty. */
int nnx_auc_binary(const uint8_t *pos, const float *s, size_t stride, int32_t n,
                   double *out, nnx_rt_error *err);

/* Macro precision, recall and F1 over classes 0..C-1 (C = 2 when k == 1, else
 * k), the sklearn average='macro' numbers with zero_division=0:
 *   - per class c: precision = TP/(TP+FP), recall = TP/(TP+FN),
 *     f1 = 2·P·R/(P+R); a zero denominator makes that number 0 (a class that
 *     is never predicted has precision 0; a class with P = R = 0 has f1 0);
 *   - the macro value is the plain mean over the classes that occur in the
 *     labels or in the predictions (sklearn's default label set); a class in
 *     neither does not count.
 * Macro F1 is the mean of per-class F1, not the F1 of macro P and R.
 * Binary tasks (k == 1 or 2) are averaged over both classes too. */
typedef struct nnx_prf {
    double precision, recall, f1;
} nnx_prf;

int nnx_macro_prf(const int32_t *y, const float *p, int32_t n, int32_t k,
                  nnx_prf *out, nnx_rt_error *err);

/* Regression over m values (m = rows × outputs): mean of (pred - target)^2
 * and of |pred - target|, accumulated in double.  m > 0. */
double nnx_mse(const float *pred, const float *target, size_t m);
double nnx_mae(const float *pred, const float *target, size_t m);

/* --- the table of built-in metrics (metric_table.c) --------------------------- */

/* What a metric scores against. */
enum nnx_metric_task {
    NNX_METRIC_CLASS = 1,     /* class labels */
    NNX_METRIC_REGR = 2       /* real targets */
};

/* One split's predictions: n rows of k floats p, with class labels y (NULL
 * for a regression) or real targets t (NULL for a classification). */
typedef struct nnx_metric_data {
    const int32_t *y;
    const float *t;
    const float *p;
    int32_t n, k;
} nnx_metric_data;

/* One metric, one row of the table.  Adding a metric is its row there (and
 * its function, here or in its own file); the language finds it by name. */
typedef struct nnx_metric_info {
    const char *name;           /* as the experiment names it and metrics.csv heads it */
    bool maximize;              /* higher is better */
    unsigned task;              /* NNX_METRIC_* bits it applies to */
    bool on_averaged_probs;     /* meaningful on an ensemble's averaged probabilities */
    /* The metric of d; NaN when it does not apply (no labels, no class in
     * y, a width it cannot read). */
    double (*score)(const nnx_metric_data *d);
} nnx_metric_info;

/* The metric named `name`, or NULL. */
const nnx_metric_info *nnx_metric_named(const char *name);
/* Row i of the table (i < nnx_metric_count()). */
const nnx_metric_info *nnx_metric_at(size_t i);
size_t nnx_metric_count(void);

#endif
