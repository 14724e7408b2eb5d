/* trial_log.c — a trial's optional loggers: TensorBoard and MLflow opened, each epoch's scalars, the test metrics at the end, closed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnx/provenance.h"
#include "run/trial_int.h"

/* An optional logger failed: a warning, and it is not written to again. */
static void logger_failed(trial *t, const char *what, const char *msg)
{
    char buf[700];
    bool named = !strncmp(msg, what, strlen(what)) && msg[strlen(what)] == ':';
    snprintf(buf, sizeof buf, "%s%s%s", named ? "" : what, named ? "" : ": ", msg);
    nnx_trial_write_failed(t, false, buf);
    if (!strcmp(what, "tensorboard") && t->tb) {
        nnx_tb_close(t->tb, NULL);
        t->tb = NULL;
    }
    if (!strcmp(what, "mlflow") && t->ml) {
        nnx_mlflow_end(t->ml, NNX_MLFLOW_FAILED, nnx_mlflow_now_ms(), NULL);   /* if it still can */
        nnx_mlflow_free(t->ml);
        t->ml = NULL;
    }
}

static void tb_check(trial *t, int rc, const nnx_rt_error *err)
{
    if (rc < 0)
        logger_failed(t, "tensorboard", err->msg);
}

static void mlflow_check(trial *t, int rc, const nnx_rt_error *err)
{
    if (rc < 0)
        logger_failed(t, "mlflow", err->msg);
}

/* TensorBoard and MLflow, when the experiment logs to them (a logger that
 * cannot start is a warning). */
int nnx_trial_open_loggers(trial *t, nnx_rt_error *err)
{
    const nnx_experiment *e = t->e;
    const char *dir = t->r->dir;
    double wall = (double)time(NULL);
    if (e->log[NNX_XLOG_TENSORBOARD]) {
        t->tb = nnx_tb_open(dir, wall, NULL, err);
        if (!t->tb)
            logger_failed(t, "tensorboard", err->msg);
    }
    if (e->log[NNX_XLOG_MLFLOW]) {
        const char *slash = strrchr(dir, '/');
        nnx_mlflow_start_opts mo = {
            .env_tracking_uri = t->o->mlflow_uri, .experiment = e->name,
            .run_name = slash ? slash + 1 : dir,
            .source_name = t->o->source ? t->o->source : e->file,
            .start_ms = nnx_mlflow_now_ms(),
        };
        t->ml = nnx_mlflow_start(&mo, err);
        if (!t->ml)
            logger_failed(t, "mlflow", err->msg);
    }
    if (t->ml) {
        nnx_provenance_mlflow_tags(t->o->provenance, t->ml);
        if (t->o->mlflow_parent)
            mlflow_check(t, nnx_mlflow_tag(t->ml, "mlflow.parentRunId", t->o->mlflow_parent, err), err);
        /* every resolved setting (the model's layers one by one), the batch
         * the run used, then searched values the settings do not name
         * (network arguments such as model.p) */
        char v[64];
        size_t ns = 0;
        nnx_exp_param *set = nnx_experiment_settings(e, &ns);
        for (size_t i = 0; t->ml && i < ns; i++) {
            const char *value = set[i].value;
            if (!strcmp(set[i].path, "batch")) {
                snprintf(v, sizeof v, "%d", (int)t->batch);
                value = v;
            }
            mlflow_check(t, nnx_mlflow_param(t->ml, set[i].path, value, err), err);
        }
        for (size_t i = 0; t->ml && i < e->nparams; i++) {
            bool named = false;
            for (size_t k = 0; k < ns && !named; k++)
                named = !strcmp(set[k].path, e->params[i].path);
            if (!named)
                mlflow_check(t, nnx_mlflow_param(t->ml, e->params[i].path, e->params[i].value, err), err);
        }
        nnx_exp_params_free(set, ns);
    }
    if (t->tb && e->nparams) {
        const char **keys = malloc(e->nparams * sizeof *keys);
        const char **vals = malloc(e->nparams * sizeof *vals);
        if (keys && vals) {
            for (size_t i = 0; i < e->nparams; i++)
                keys[i] = e->params[i].path, vals[i] = e->params[i].value;
            tb_check(t, nnx_tb_params(t->tb, keys, vals, e->nparams, 0, wall, err), err);
        }
        free(keys);
        free(vals);
    }
    return 0;
}

/* Each set, finite value of an epoch's metrics.csv row to TensorBoard (as
 * split/metric) and MLflow. */
void nnx_trial_log_scalars(trial *t, const double *vals, const bool *set)
{
    double wall = (double)time(NULL);
    int64_t ms = nnx_mlflow_now_ms();
    nnx_rt_error err = { { 0 } };
    for (size_t c = 1; c < t->mlog.ncols; c++) {
        if (!set[c] || !isfinite(vals[c]))
            continue;
        const char *name = t->mlog.names[c];
        if (t->tb) {
            char tag[128];
            snprintf(tag, sizeof tag, "%s", name);
            char *dot = strchr(tag, '.');
            if (dot)
                *dot = '/';
            tb_check(t, nnx_tb_scalar(t->tb, tag, t->epoch, vals[c], wall, &err), &err);
        }
        if (t->ml)
            mlflow_check(t, nnx_mlflow_metric(t->ml, name, vals[c], ms, t->epoch, &err), &err);
    }
    if (t->tb)
        tb_check(t, nnx_tb_flush(t->tb, &err), &err);
}

void nnx_trial_tb_finish(trial *t)
{
    nnx_run_result *r = t->r;
    nnx_rt_error err = { { 0 } };
    char name[128];
    if (t->tb && r->select_epoch > 0) {
        /* the test metrics are the selected weights': log them at the selected
         * epoch's step, and say so */
        int64_t step = r->select_epoch;
        bool any = false;
        for (size_t i = 0; t->tb && i < r->nmetrics; i++)
            if (!strncmp(r->metric_names[i], "test.", 5)) {
                snprintf(name, sizeof name, "test/%s", r->metric_names[i] + 5);
                tb_check(t, nnx_tb_scalar(t->tb, name, step, r->metric_values[i],
                                          (double)time(NULL), &err), &err);
                any = true;
            }
        if (any && t->tb) {
            char text[160];
            snprintf(text, sizeof text, "test/* are the metrics of the weights of epoch %d, selected by %s(%s), "
                     "logged at step %d", r->select_epoch, r->select_max ? "max" : "min", r->select_name,
                     r->select_epoch);
            tb_check(t, nnx_tb_text(t->tb, "test/selected_epoch", step, text, (double)time(NULL), &err),
                     &err);
        }
    }
    if (t->tb) {
        int rc = nnx_tb_close(t->tb, &err);
        t->tb = NULL;
        if (rc < 0)
            logger_failed(t, "tensorboard", err.msg);
    }
}

void nnx_trial_mlflow_finish(trial *t)
{
    nnx_run_result *r = t->r;
    nnx_rt_error err = { { 0 } };
    if (t->ml) {
        int64_t ms = nnx_mlflow_now_ms();
        for (size_t i = 0; t->ml && i < r->nmetrics; i++)
            if (!strncmp(r->metric_names[i], "test.", 5))
                mlflow_check(t, nnx_mlflow_metric(t->ml, r->metric_names[i], r->metric_values[i], ms,
                                                  r->select_epoch > 0 ? r->select_epoch : r->epochs_run,
                                                  &err), &err);
        if (t->ml && r->select_epoch > 0) {
            char ep[16];
            snprintf(ep, sizeof ep, "%d", r->select_epoch);
            mlflow_check(t, nnx_mlflow_tag(t->ml, "nnx.selected_epoch", ep, &err), &err);
        }
        if (t->ml)
            mlflow_check(t, nnx_mlflow_tag(t->ml, "nnx.status", nnx_run_status_name(r->status),
                                           &err), &err);
        if (t->ml)
            mlflow_check(t, nnx_mlflow_artifacts(t->ml, r->dir, &err), &err);
        nnx_mlflow_status st = r->status == NNX_RUN_COMPLETED || r->status == NNX_RUN_STOPPED
                                   ? NNX_MLFLOW_FINISHED
                               : r->status == NNX_RUN_INTERRUPTED || r->status == NNX_RUN_PRUNED ? NNX_MLFLOW_KILLED
                                                                  : NNX_MLFLOW_FAILED;
        if (t->ml)
            mlflow_check(t, nnx_mlflow_end(t->ml, st, nnx_mlflow_now_ms(), &err), &err);
    }
}
