/* data_report.c — `nnx data`: load an experiment's data as a run would and count what a user checks first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/clock.h"
#include "nnx/run.h"
#include "run/run_int.h"

void nnx_data_report_free(nnx_data_report *r)
{
    if (!r)
        return;
    for (int32_t c = 0; r->class_names && c < r->classes; c++)
        free(r->class_names[c]);
    free(r->class_names);
    free(r->class_counts);
    for (int32_t j = 0; r->feature && j < r->features; j++)
        free(r->feature[j].name);
    free(r->feature);
    memset(r, 0, sizeof *r);
}

/* Min, mean and max of every feature in one pass over the rows (a mapped
 * table is read in order, never copied). */
static void feature_stats(const nnx_dataset *ds, nnx_data_feature *f)
{
    size_t d = (size_t)ds->d;
    double *sum = calloc(d, sizeof *sum);
    for (size_t j = 0; j < d; j++)
        f[j].min = f[j].max = ds->x[j];
    for (size_t i = 0; sum && i < (size_t)ds->n; i++) {
        const float *x = ds->x + i * d;
        for (size_t j = 0; j < d; j++) {
            sum[j] += x[j];
            f[j].min = x[j] < f[j].min ? x[j] : f[j].min;
            f[j].max = x[j] > f[j].max ? x[j] : f[j].max;
        }
    }
    for (size_t j = 0; j < d; j++)
        f[j].mean = sum ? sum[j] / ds->n : NAN;
    free(sum);
}

/* Missing cells per file column, from the indicator feature the encoding
 * put after it: the count of 1s on the train rows. */
static void missing_counts(const nnx_csv_encoding *enc, const nnx_dataset *ds,
                           nnx_data_feature *f)
{
    for (int32_t j = 0; j < ds->d; j++)
        f[j].missing = enc->cols ? -1 : 0;
    int32_t at = 0;
    for (int32_t k = 0; enc->cols && k < enc->ncols && at < ds->d; k++) {
        const nnx_csv_column *c = &enc->cols[k];
        int32_t width = c->categorical ? c->ncategories : 1;
        int32_t ind = at + width;
        int64_t n = 0;
        if (c->indicator && ind < ds->d)
            for (int32_t i = 0; i < ds->n; i++)
                n += ds->x[(size_t)i * (size_t)ds->d + (size_t)ind] != 0;
        f[at].missing = n;
        at = ind + (c->indicator ? 1 : 0);
    }
}

static char *label_text(const nnx_dataset *ds, int32_t c)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%d", (int)c);
    return strdup(ds->class_names && ds->class_names[c] ? ds->class_names[c] : buf);
}

int nnx_run_data_report(const nnx_experiment *e, const char *cache_dir, nnx_data_report *out,
                        nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    nnx_experiment raw = *e;            /* the values as loaded: no normalisation */
    raw.data.normalize = NNX_XNORM_NONE;
    nnx_run_data d;
    double t0 = nnx_clock_seconds();
    if (nnx_run_data_load(&raw, cache_dir, &d, err) < 0)
        return -1;
    out->seconds = nnx_clock_seconds() - t0;
    out->cache_hits = d.cache.hits;
    out->cache_writes = d.cache.writes;
    memcpy(out->cache_warning, d.cache.warning, sizeof out->cache_warning);
    memcpy(out->note, d.note, sizeof out->note);
    const nnx_dataset *tr = &d.split[NNX_XSPLIT_TRAIN];
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
        out->rows[s] = d.has[s] ? d.split[s].n : 0;
    out->features = tr->d;
    out->has_shape = tr->has_shape;
    memcpy(out->shape, tr->shape, sizeof out->shape);
    out->kind = tr->kind;
    out->classes = tr->kind == NNX_TARGET_CLASS ? tr->classes : 0;
    out->feature = calloc((size_t)tr->d, sizeof *out->feature);
    out->class_names = calloc(out->classes > 0 ? (size_t)out->classes : 1,
                              sizeof *out->class_names);
    out->class_counts = calloc((out->classes > 0 ? (size_t)out->classes : 1) * NNX_XSPLIT_COUNT,
                               sizeof *out->class_counts);
    int32_t *counts = calloc(out->classes > 0 ? (size_t)out->classes : 1, sizeof *counts);
    int rc = out->feature && out->class_names && out->class_counts && counts ? 0
           : nnx_rt_fail(err, "out of memory for the data report");
    for (int32_t c = 0; rc == 0 && c < out->classes; c++)
        if (!(out->class_names[c] = label_text(tr, c)))
            rc = nnx_rt_fail(err, "out of memory for the data report");
    for (int s = 0; rc == 0 && s < NNX_XSPLIT_COUNT; s++) {
        if (!d.has[s] || d.split[s].kind != NNX_TARGET_CLASS || !out->classes)
            continue;
        nnx_dataset_class_counts(&d.split[s], counts);
        for (int32_t c = 0; c < out->classes; c++)
            out->class_counts[(size_t)c * NNX_XSPLIT_COUNT + (size_t)s] = counts[c];
    }
    if (rc == 0 && tr->kind == NNX_TARGET_REAL) {
        double sum = 0;
        out->target_min = out->target_max = tr->t[0];
        for (int32_t i = 0; i < tr->n; i++) {
            sum += tr->t[i];
            out->target_min = fmin(out->target_min, tr->t[i]);
            out->target_max = fmax(out->target_max, tr->t[i]);
        }
        out->target_mean = sum / tr->n;
    }
    if (rc == 0) {
        feature_stats(tr, out->feature);
        missing_counts(&d.enc, tr, out->feature);
    }
    for (int32_t j = 0; rc == 0 && tr->feature_names && j < tr->d; j++)
        if (tr->feature_names[j] && !(out->feature[j].name = strdup(tr->feature_names[j])))
            rc = nnx_rt_fail(err, "out of memory for the data report");
    free(counts);
    nnx_run_data_free(&d);
    if (rc < 0)
        nnx_data_report_free(out);
    return rc;
}
