/* normalize.c — per-feature standard or min-max scaling, fitted on the training set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/data.h"

void nnx_norm_free(nnx_norm *nm)
{
    if (!nm)
        return;
    free(nm->shift);
    free(nm->scale);
    memset(nm, 0, sizeof *nm);
}

/* 1/width, or 1 when the feature is (numerically) constant. */
static float inverse_width(double width, double centre)
{
    if (!(width > 1e-12 * fmax(1.0, fabs(centre))))
        return 1.0f;
    return (float)(1.0 / width);
}

int nnx_norm_fit(nnx_norm *nm, nnx_norm_kind kind, const nnx_dataset *train,
                 nnx_rt_error *err)
{
    memset(nm, 0, sizeof *nm);
    if (kind != NNX_NORM_NONE && kind != NNX_NORM_STANDARD && kind != NNX_NORM_MINMAX)
        return nnx_rt_fail(err, "normalize: unknown kind %d", (int)kind);
    size_t d = (size_t)train->d, n = (size_t)train->n;
    if (n == 0 || d == 0)
        return nnx_rt_fail(err, "normalize: empty training set");
    nm->shift = calloc(d, sizeof *nm->shift);
    nm->scale = malloc(d * sizeof *nm->scale);
    double *a = calloc(d, sizeof *a), *b = calloc(d, sizeof *b);
    if (!nm->shift || !nm->scale || !a || !b) {
        free(a);
        free(b);
        nnx_norm_free(nm);
        return nnx_rt_fail(err, "normalize: out of memory");
    }
    nm->kind = kind;
    nm->d = train->d;
    const float *x = train->x;
    if (kind == NNX_NORM_NONE) {
        for (size_t j = 0; j < d; j++)
            nm->scale[j] = 1.0f;
    } else if (kind == NNX_NORM_STANDARD) {   /* two passes: mean, then squared deviations */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                a[j] += x[i * d + j];
        for (size_t j = 0; j < d; j++)
            a[j] /= (double)n;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                double dev = x[i * d + j] - a[j];
                b[j] += dev * dev;
            }
        for (size_t j = 0; j < d; j++) {
            nm->shift[j] = (float)a[j];
            nm->scale[j] = inverse_width(sqrt(b[j] / (double)n), a[j]);
        }
    } else {
        for (size_t j = 0; j < d; j++)
            a[j] = b[j] = x[j];
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                double v = x[i * d + j];
                a[j] = v < a[j] ? v : a[j];
                b[j] = v > b[j] ? v : b[j];
            }
        for (size_t j = 0; j < d; j++) {
            nm->shift[j] = (float)a[j];
            nm->scale[j] = inverse_width(b[j] - a[j], fmax(fabs(a[j]), fabs(b[j])));
        }
    }
    free(a);
    free(b);
    return 0;
}

int nnx_norm_apply(const nnx_norm *nm, nnx_dataset *ds, nnx_rt_error *err)
{
    if (nm->d != ds->d)
        return nnx_rt_fail(err, "normalize: fitted on %d features, applied to %d",
                           (int)nm->d, (int)ds->d);
    if (nm->kind == NNX_NORM_NONE)
        return 0;
    size_t d = (size_t)ds->d;
    const float *shift = nm->shift, *scale = nm->scale;
    for (size_t i = 0; i < (size_t)ds->n; i++) {
        float *x = ds->x + i * d;
        for (size_t j = 0; j < d; j++)
            x[j] = (x[j] - shift[j]) * scale[j];
    }
    return 0;
}
