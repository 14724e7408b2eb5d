/* measure.c — one declared metric (accuracy, AUC, macro P/R/F1, MAE, MSE) over a split's predictions. */
#include <math.h>

#include "nnx/rt/metrics.h"
#include "run/run_int.h"

double nnx_run_metric(const nnx_exp_metric *m, const nnx_dataset *ds, const float *p, int k,
                      double loss)
{
    double v = NAN;
    bool cls = ds->kind == NNX_TARGET_CLASS;
    nnx_prf prf;
    switch (m->kind) {
    case NNX_XMETRIC_LOSS:
        return loss;
    case NNX_XMETRIC_ACCURACY:
        if (cls && nnx_accuracy(ds->y, p, ds->n, k, &v, NULL) < 0)
            return NAN;
        return v;
    case NNX_XMETRIC_AUC:
        if (cls && nnx_auc(ds->y, p, ds->n, k, &v, NULL, NULL) < 0)
            return NAN;
        return v;
    case NNX_XMETRIC_F1: case NNX_XMETRIC_PRECISION: case NNX_XMETRIC_RECALL:
        if (!cls || nnx_macro_prf(ds->y, p, ds->n, k, &prf, NULL) < 0)
            return NAN;
        return m->kind == NNX_XMETRIC_F1 ? prf.f1
             : m->kind == NNX_XMETRIC_PRECISION ? prf.precision : prf.recall;
    case NNX_XMETRIC_MAE: case NNX_XMETRIC_MSE:
        if (cls || k != 1 || ds->n < 1)
            return NAN;
        return m->kind == NNX_XMETRIC_MAE ? nnx_mae(p, ds->t, (size_t)ds->n)
                                          : nnx_mse(p, ds->t, (size_t)ds->n);
    case NNX_XMETRIC_LUA:
        break;
    }
    return NAN;
}
