/* trial_files.c — a new trial's run directory: experiment.nnx, the metrics.csv columns, steps.csv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/trial_int.h"

static bool add_name(char **names, size_t *n, const char *text)
{
    names[*n] = malloc(strlen(text) + 1);
    if (!names[*n])
        return false;
    strcpy(names[(*n)++], text);
    return true;
}

int nnx_trial_columns(trial *t, nnx_rt_error *err)
{
    const nnx_experiment *e = t->e;
    size_t nm = e->nmetrics, n = 0;
    char **names = calloc(2 * nm + 4, sizeof *names);
    char buf[256];
    if (!names)
        return nnx_rt_fail(err, "out of memory");
    bool ok = add_name(names, &n, "epoch") && add_name(names, &n, "lr") &&
              add_name(names, &n, "train.loss");
    t->col_valid0 = -1;
    if (t->data.has[NNX_XSPLIT_VALID]) {
        t->col_valid0 = (int)n;
        for (size_t m = 0; ok && m < nm; m++) {
            snprintf(buf, sizeof buf, "valid.%s", e->metrics[m].name);
            ok = add_name(names, &n, buf);
        }
    }
    t->col_train0 = (int)n;
    for (size_t m = 1; ok && m < nm; m++)
        if (t->need_train[m]) {
            snprintf(buf, sizeof buf, "train.%s", e->metrics[m].name);
            ok = add_name(names, &n, buf);
        }
    ok = ok && add_name(names, &n, "seconds");
    char *path = ok ? nnx_path_join(t->r->dir, "metrics.csv") : NULL;
    int rc = !path ? nnx_rt_fail(err, "out of memory")
           : t->first_epoch > 1
               ? nnx_metrics_log_resume(&t->mlog, path, (const char *const *)names, n,
                                        t->first_epoch - 1, err)
               : nnx_metrics_log_open(&t->mlog, path, (const char *const *)names, n, err);
    free(path);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* A CSV file's classes are known only once it is loaded (nnx check reads its
 * header row): a network that gives fewer outputs is reported at its last
 * layer, as the checker reports it for IDX and synthetic data. */

char *nnx_trial_experiment_text(const nnx_experiment *e)
{
    nnx_experiment one = *e;            /* shallow: only read, never freed */
    one.search.kind = NNX_XSEARCH_NONE;
    one.nensemble = 0;
    return nnx_experiment_write(&one);
}

/* The run directory and its first files. */
int nnx_trial_open_outputs(trial *t, nnx_rt_error *err)
{
    const nnx_experiment *e = t->e;
    if (t->o->dir) {
        if (nnx_mkdirs(t->o->dir, err) < 0)
            return -1;
        t->r->dir = malloc(strlen(t->o->dir) + 1);
        if (!t->r->dir)
            return nnx_rt_fail(err, "out of memory");
        strcpy(t->r->dir, t->o->dir);
    } else if (nnx_rundir_create(t->o->out_dir ? t->o->out_dir : "runs", e->name, &t->r->dir,
                                 err) < 0) {
        return -1;
    }
    const char *dir = t->r->dir;
    char *text = nnx_trial_experiment_text(e);
    char *path = nnx_path_join(dir, "experiment.nnx");
    /* from here on a failure is a file of the new directory that could not be written */
    t->r->retry = true;
    int rc = text && path ? nnx_file_write(path, text, strlen(text), 0, err)
                          : nnx_rt_fail(err, "out of memory writing experiment.nnx");
    free(text);
    free(path);
    if (rc < 0 || nnx_trial_columns(t, err) < 0)
        return -1;
    path = nnx_path_join(dir, "steps.csv");
    rc = path ? nnx_append_open(&t->steps, path, 1, err) : nnx_rt_fail(err, "out of memory");
    free(path);
    if (rc < 0)
        return -1;
    fputs("step,epoch,lr,loss,loss_sd\n", t->steps.f);
    if (nnx_append_flush(&t->steps, err) < 0)
        return -1;
    t->r->retry = false;
    return 0;
}
