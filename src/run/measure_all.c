/* measure_all.c — every metric an experiment declares, Lua ones included, on predictions made outside a trial (nnx eval). */
#include <math.h>
#include <string.h>

#include "nnx/run.h"
#include "run/run_int.h"

int nnx_run_measure(const nnx_experiment *e, const char *lua_stdlib, const nnx_dataset *ds,
                    const float *p, int k, double loss, double *values, nnx_rt_error *err)
{
    bool lua = false;
    for (size_t m = 0; m < e->nmetrics; m++)
        lua |= e->metrics[m].kind == NNX_XMETRIC_LUA;
    nnx_run_hooks hooks;
    memset(&hooks, 0, sizeof hooks);
    if (lua && nnx_run_hooks_open(&hooks, e, lua_stdlib, NULL, 0, NULL, NULL) < 0) {
        nnx_rt_fail(err, "%s", hooks.error);
        nnx_run_hooks_close(&hooks);
        return -1;
    }
    int rc = 0;
    for (size_t m = 0; m < e->nmetrics && rc == 0; m++) {
        const nnx_exp_metric *mt = &e->metrics[m];
        if (mt->kind != NNX_XMETRIC_LUA)
            values[m] = nnx_run_metric(mt, ds, p, k, loss);
        else if (nnx_run_hooks_metric(&hooks, mt->name, ds, p, k, &values[m]) < 0)
            rc = nnx_rt_fail(err, "lua.%s: %s", mt->name, hooks.error);
    }
    nnx_run_hooks_close(&hooks);
    return rc;
}
