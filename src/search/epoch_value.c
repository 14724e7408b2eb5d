/* epoch_value.c — a trial as of an epoch: its select value and valid.loss then, read from its metrics.csv. */
#include <math.h>
#include <stdlib.h>

#include "nnx/select.h"
#include "search/work.h"

/* The complete rows of DIR/metrics.csv: another process may be appending
 * to it (a trial trained on in a later step), so a last line without its
 * newline is left out. */
static bool metrics_read(const char *dir, nnx_table *t)
{
    char *path = nnx_path_join(dir, "metrics.csv");
    size_t len = 0;
    nnx_rt_error err;
    char *text = path ? nnx_file_read(path, 0, &len, &err) : NULL;
    while (text && len && text[len - 1] != '\n')
        len--;
    bool ok = text && nnx_table_parse(text, len, path, t, &err) == 0;
    free(text);
    free(path);
    return ok;
}

/* The last epoch DIR/metrics.csv has whole, 0 when none. */
int srch_epochs_in(const char *dir)
{
    nnx_table t = { 0 };
    int n = 0;
    if (metrics_read(dir, &t)) {
        const double *epoch = nnx_table_column(&t, "epoch");
        n = epoch && t.nrows && isfinite(epoch[t.nrows - 1]) ? (int)epoch[t.nrows - 1] : 0;
        nnx_table_free(&t);
    }
    return n;
}

/* Trial j as of epoch `ep`: its select value then (the best over epochs
 * 1..ep, as it would have reported had it stopped there) and valid.loss at
 * that epoch, read from its metrics.csv, so that a rung is decided the same
 * whether the trial has gone further since (a resumed search) or not.
 * False when it did not reach `ep` with a finite value. */
bool srch_value_at(const search *s, const job *j, int ep, double *value, double *loss)
{
    if (!j->passed && (j->state != JOB_DONE || j->row.epochs_run < ep))
        return false;
    return srch_value_in(s, j->dir, ep, value, loss);
}

/* The same from the metrics.csv in `dir`, whatever the trial's state. */
bool srch_value_in(const search *s, const char *dir, int ep, double *value, double *loss)
{
    nnx_table t = { 0 };
    bool ok = metrics_read(dir, &t);
    const double *epoch = ok ? nnx_table_column(&t, "epoch") : NULL;
    const double *v = ok ? nnx_table_column(&t, s->res->select) : NULL;
    const double *l = ok ? nnx_table_column(&t, "valid.loss") : NULL;
    *value = NAN;
    *loss = NAN;
    for (size_t i = 0; epoch && v && i < t.nrows && epoch[i] <= ep; i++) {
        if (!isfinite(v[i]))
            continue;
        int cmp = isnan(*value) ? 1 : nnx_select_compare(v[i], *value, s->res->select_max);
        if (cmp > 0 || (cmp == 0 && l && l[i] < *loss)) {   /* the epoch a run would keep */
            *value = v[i];
            *loss = l ? l[i] : NAN;
        }
    }
    nnx_table_free(&t);
    return isfinite(*value);
}
