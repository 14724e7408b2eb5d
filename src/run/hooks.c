/* hooks.c — a trial's Lua hooks: open the host, call the callbacks, collect stop/log/set_lr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run_int.h"

int nnx_run_hooks_open(nnx_run_hooks *k, const nnx_experiment *e, const char *stdlib_dir,
                       const nnx_exp_param *params, size_t nparams,
                       void (*print)(void *, const char *, size_t), void *print_ctx)
{
    memset(k, 0, sizeof *k);
    if (!e->hooks)
        return 0;
    nnx_lua_options lo = { .random_seed = (int64_t)e->seed, .print = print,
                           .print_ctx = print_ctx };
    nnx_lua_error lerr;
    k->host = nnx_lua_open(e->hooks, stdlib_dir, &lo, &lerr);
    if (!k->host) {
        snprintf(k->error, sizeof k->error, "hooks: %s", lerr.msg);
        return -1;
    }
    for (size_t m = 0; m < e->nmetrics; m++)
        if (e->metrics[m].kind == NNX_XMETRIC_LUA &&
            !nnx_lua_has_function(k->host, e->metrics[m].name)) {
            snprintf(k->error, sizeof k->error, "metric lua.%s: %s defines no function %s(y, p)",
                     e->metrics[m].name, e->hooks, e->metrics[m].name);
            return -1;
        }
    k->params = calloc(nparams ? nparams : 1, sizeof *k->params);
    if (!k->params) {
        snprintf(k->error, sizeof k->error, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < nparams; i++) {
        char *end;
        double v = strtod(params[i].value, &end);
        k->params[i].name = params[i].path;
        if (end != params[i].value && *end == '\0')
            k->params[i].num = v;
        else
            k->params[i].str = params[i].value;
    }
    k->nparams = nparams;
    return 0;
}

void nnx_run_hooks_close(nnx_run_hooks *k)
{
    nnx_lua_close(k->host);
    free(k->params);
    for (size_t i = 0; i < k->nlog; i++)
        free(k->log_names[i]);
    free(k->log_names);
    free(k->log_values);
    free(k->stop_reason);
    memset(k, 0, sizeof *k);
}

/* Keep a logged value until the next metrics.csv row (the last value of a name wins). */
static int keep_log(nnx_run_hooks *k, const char *name, double v)
{
    for (size_t i = 0; i < k->nlog; i++)
        if (!strcmp(k->log_names[i], name)) {
            k->log_values[i] = v;
            return 0;
        }
    char **n = realloc(k->log_names, (k->nlog + 1) * sizeof *n);
    if (n)
        k->log_names = n;
    double *x = realloc(k->log_values, (k->nlog + 1) * sizeof *x);
    if (x)
        k->log_values = x;
    char *copy = strdup(name);
    if (!n || !x || !copy) {
        free(copy);
        return -1;
    }
    k->log_names[k->nlog] = copy;
    k->log_values[k->nlog++] = v;
    return 0;
}

int nnx_run_hooks_call(nnx_run_hooks *k, nnx_lua_event ev, nnx_lua_run *run)
{
    if (!k->host)
        return 0;
    run->params = k->params;
    run->nparams = k->nparams;
    nnx_lua_error lerr;
    if (nnx_lua_callback(k->host, ev, run, &lerr) < 0) {
        snprintf(k->error, sizeof k->error, "%s", lerr.msg);
        return -1;
    }
    if (run->stop && !k->stop) {
        k->stop = true;
        k->stop_reason = strdup(run->stop_reason ? run->stop_reason : "stopped by hook");
    }
    if (run->lr_set) {
        k->lr_set = true;
        k->lr_next = run->lr_next;
    }
    for (size_t i = 0; i < run->nlogged; i++)
        if (keep_log(k, run->logged[i].name, run->logged[i].value) < 0) {
            snprintf(k->error, sizeof k->error, "out of memory");
            return -1;
        }
    return 0;
}

void nnx_run_hooks_clear_logs(nnx_run_hooks *k)
{
    for (size_t i = 0; i < k->nlog; i++)
        free(k->log_names[i]);
    k->nlog = 0;
}

int nnx_run_hooks_metric(nnx_run_hooks *k, const char *name, const nnx_dataset *ds,
                         const float *p, int kout, double *out)
{
    *out = NAN;
    if (!k->host || ds->kind != NNX_TARGET_CLASS)
        return 0;
    nnx_lua_error lerr;
    if (nnx_lua_metric(k->host, name, ds->y, p, (size_t)ds->n, (size_t)kout, out, &lerr) < 0) {
        snprintf(k->error, sizeof k->error, "%s", lerr.msg);
        return -1;
    }
    return 0;
}
