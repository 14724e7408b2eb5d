/* metrics.c — accuracy, macro precision/recall/F1, MSE and MAE from predictions. */
#include <math.h>
#include <stdlib.h>

#include "nnx/rt/metrics.h"

/* Classes a k-wide output distinguishes. */
static int32_t class_count(int32_t k)
{
    return k == 1 ? 2 : k;
}

int32_t nnx_predicted_class(const float *row, int32_t k)
{
    if (k == 1)
        return row[0] >= 0.5f;
    int32_t best = 0;
    for (int32_t c = 1; c < k; c++)
        if (row[c] > row[best])
            best = c;
    return best;
}

/* The predicted class of row i. */
static int32_t predicted(const float *p, int32_t i, int32_t k)
{
    return nnx_predicted_class(p + (size_t)i * (size_t)k, k);
}

/* Shared argument checks: sizes and every label in range. */
static int check_labels(const char *what, const int32_t *y, int32_t n, int32_t k,
                        nnx_rt_error *err)
{
    if (n <= 0)
        return nnx_rt_fail(err, "%s: no rows", what);
    if (k <= 0)
        return nnx_rt_fail(err, "%s: output width %d", what, (int)k);
    int32_t classes = class_count(k);
    for (int32_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= classes)
            return nnx_rt_fail(err, "%s: label %d of row %d is outside 0..%d", what,
                               (int)y[i], (int)i, (int)classes - 1);
    return 0;
}

int nnx_accuracy(const int32_t *y, const float *p, int32_t n, int32_t k,
                 double *out, nnx_rt_error *err)
{
    *out = NAN;
    if (check_labels("accuracy", y, n, k, err) < 0)
        return -1;
    int64_t right = 0;
    for (int32_t i = 0; i < n; i++)
        right += predicted(p, i, k) == y[i];
    *out = (double)right / n;
    return 0;
}

int nnx_macro_prf(const int32_t *y, const float *p, int32_t n, int32_t k,
                  nnx_prf *out, nnx_rt_error *err)
{
    out->precision = out->recall = out->f1 = NAN;
    if (check_labels("precision/recall/f1", y, n, k, err) < 0)
        return -1;
    int32_t classes = class_count(k);
    int64_t *tp = calloc((size_t)classes * 3, sizeof *tp);
    if (!tp)
        return nnx_rt_fail(err, "precision/recall/f1: out of memory");
    int64_t *fp = tp + classes, *fn = fp + classes;
    for (int32_t i = 0; i < n; i++) {
        int32_t q = predicted(p, i, k);
        if (q == y[i]) {
            tp[q]++;
        } else {
            fp[q]++;
            fn[y[i]]++;
        }
    }
    double sp = 0, sr = 0, sf = 0;
    int32_t counted = 0;
    for (int32_t c = 0; c < classes; c++) {
        if (tp[c] + fp[c] + fn[c] == 0)
            continue;   /* neither a label nor a prediction */
        double prec = tp[c] + fp[c] ? (double)tp[c] / (double)(tp[c] + fp[c]) : 0.0;
        double rec = tp[c] + fn[c] ? (double)tp[c] / (double)(tp[c] + fn[c]) : 0.0;
        sp += prec;
        sr += rec;
        sf += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0.0;
        counted++;
    }
    free(tp);
    out->precision = sp / counted;   /* counted >= 1: every row has a label */
    out->recall = sr / counted;
    out->f1 = sf / counted;
    return 0;
}

double nnx_mse(const float *pred, const float *target, size_t m)
{
    double s = 0;
    for (size_t i = 0; i < m; i++) {
        double e = (double)pred[i] - target[i];
        s += e * e;
    }
    return m ? s / (double)m : NAN;
}

double nnx_mae(const float *pred, const float *target, size_t m)
{
    double s = 0;
    for (size_t i = 0; i < m; i++)
        s += fabs((double)pred[i] - target[i]);
    return m ? s / (double)m : NAN;
}
