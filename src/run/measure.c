/* measure.c — one declared metric over a split's predictions: the loss, or a built-in metric from the runtime's table. */
#include <math.h>

#include "nnx/rt/metrics.h"
#include "run/run_int.h"

double nnx_run_metric(const nnx_exp_metric *m, const nnx_dataset *ds, const float *p, int k,
                      double loss)
{
    bool cls = ds->kind == NNX_TARGET_CLASS;
    switch (m->kind) {
    case NNX_XMETRIC_LOSS:
        return loss;
    case NNX_XMETRIC_BUILTIN: {
        nnx_metric_data d = { cls ? ds->y : NULL, cls ? NULL : ds->t, p, ds->n, k };
        return m->builtin->score(&d);
    }
    case NNX_XMETRIC_LUA:
        break;
    }
    return NAN;
}
