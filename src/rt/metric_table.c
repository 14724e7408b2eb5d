/* metric_table.c — the one table of built-in metrics: name, direction, task, function. */
#include <math.h>
#include <string.h>

#include "nnx/rt/metrics.h"

static double accuracy(const nnx_metric_data *d)
{
    double v = NAN;
    if (!d->y || nnx_accuracy(d->y, d->p, d->n, d->k, &v, NULL) < 0)
        return NAN;
    return v;
}

static double auc(const nnx_metric_data *d)
{
    double v = NAN;
    if (!d->y || nnx_auc(d->y, d->p, d->n, d->k, &v, NULL, NULL) < 0)
        return NAN;
    return v;
}

static double f1(const nnx_metric_data *d)
{
    nnx_prf prf;
    return d->y && nnx_macro_prf(d->y, d->p, d->n, d->k, &prf, NULL) == 0 ? prf.f1 : NAN;
}

static double precision(const nnx_metric_data *d)
{
    nnx_prf prf;
    return d->y && nnx_macro_prf(d->y, d->p, d->n, d->k, &prf, NULL) == 0 ? prf.precision : NAN;
}

static double recall(const nnx_metric_data *d)
{
    nnx_prf prf;
    return d->y && nnx_macro_prf(d->y, d->p, d->n, d->k, &prf, NULL) == 0 ? prf.recall : NAN;
}

/* Regression metrics read one output column against the targets. */
static bool regression(const nnx_metric_data *d)
{
    return d->t && d->k == 1 && d->n >= 1;
}

static double mae(const nnx_metric_data *d)
{
    return regression(d) ? nnx_mae(d->p, d->t, (size_t)d->n) : NAN;
}

static double mse(const nnx_metric_data *d)
{
    return regression(d) ? nnx_mse(d->p, d->t, (size_t)d->n) : NAN;
}

/* The regression metrics are not recomputed on an ensemble's averaged
 * probabilities: an ensemble averages class probabilities only. */
static const nnx_metric_info metrics[] = {
    { "accuracy", true, NNX_METRIC_CLASS, true, accuracy },
    { "auc", true, NNX_METRIC_CLASS, true, auc },
    { "f1", true, NNX_METRIC_CLASS, true, f1 },
    { "precision", true, NNX_METRIC_CLASS, true, precision },
    { "recall", true, NNX_METRIC_CLASS, true, recall },
    { "mae", false, NNX_METRIC_REGR, false, mae },
    { "mse", false, NNX_METRIC_REGR, false, mse },
};

const nnx_metric_info *nnx_metric_named(const char *name)
{
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        if (!strcmp(metrics[i].name, name))
            return &metrics[i];
    return NULL;
}

const nnx_metric_info *nnx_metric_at(size_t i)
{
    return i < sizeof metrics / sizeof metrics[0] ? &metrics[i] : NULL;
}

size_t nnx_metric_count(void)
{
    return sizeof metrics / sizeof metrics[0];
}
