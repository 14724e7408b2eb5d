/* normalize.c — standard or min-max scaling (per channel for images, else per feature), fitted on train. */
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

int nnx_norm_fit(nnx_norm *nm, nnx_norm_kind kind, const nnx_dataset *train,
                 nnx_rt_error *err)
{
    memset(nm, 0, sizeof *nm);
    if (kind != NNX_NORM_NONE && kind != NNX_NORM_STANDARD && kind != NNX_NORM_MINMAX)
        return nnx_rt_fail(err, "normalize: unknown kind %d", (int)kind);
    size_t d = (size_t)train->d, n = (size_t)train->n;
    if (n == 0 || d == 0)
        return nnx_rt_fail(err, "normalize: empty training set");
    /* Statistics per group of w adjacent features: a channel's H×W values, or one column. */
    int per_channel = train->has_shape;
    size_t w = per_channel ? (size_t)train->shape[1] * (size_t)train->shape[2] : 1;
    size_t groups = d / w;
    nm->shift = calloc(d, sizeof *nm->shift);
    nm->scale = malloc(d * sizeof *nm->scale);
    double *a = calloc(groups, sizeof *a), *b = calloc(groups, sizeof *b);
    if (!nm->shift || !nm->scale || !a || !b) {
        free(a);
        free(b);
        nnx_norm_free(nm);
        return nnx_rt_fail(err, "normalize: out of memory");
    }
    nm->kind = kind;
    nm->d = train->d;
    nm->per_channel = per_channel;
    const float *x = train->x;
    const double count = (double)n * (double)w;
    /* Row-major passes (a[g], b[g] accumulate), so the data is read in order. */
    if (kind == NNX_NORM_STANDARD) {
        /* One pass over the table (a mapped table bigger than memory is read
         * once): each row's w values of a group give a block mean and sum of
         * squared deviations, merged into the group's running pair (Chan,
         * Golub and LeVeque's update), a[g] the mean and b[g] the sum. */
        for (size_t i = 0; i < n; i++) {
            double seen = (double)i * (double)w, all = seen + (double)w;
            for (size_t g = 0; g < groups; g++) {
                const float *v = x + i * d + g * w;
                double sum = 0, sq = 0;
                for (size_t t = 0; t < w; t++)
                    sum += v[t];
                double mean = sum / (double)w;
                for (size_t t = 0; t < w; t++) {
                    double dev = v[t] - mean;
                    sq += dev * dev;
                }
                double delta = mean - a[g];
                a[g] += delta * (double)w / all;
                b[g] += sq + delta * delta * seen * (double)w / all;
            }
        }
        for (size_t g = 0; g < groups; g++) {
            double sd = sqrt(b[g] / count);
            b[g] = sd > 1e-12 * fmax(1.0, fabs(a[g])) ? 1.0 / sd : 1.0;
        }
    } else if (kind == NNX_NORM_MINMAX) {
        for (size_t g = 0; g < groups; g++)
            a[g] = b[g] = x[g * w];
        for (size_t i = 0; i < n; i++)
            for (size_t g = 0; g < groups; g++) {
                const float *v = x + i * d + g * w;
                double lo = a[g], hi = b[g];
                for (size_t t = 0; t < w; t++) {
                    lo = v[t] < lo ? v[t] : lo;
                    hi = v[t] > hi ? v[t] : hi;
                }
                a[g] = lo;
                b[g] = hi;
            }
        for (size_t g = 0; g < groups; g++) {
            double range = b[g] - a[g];
            b[g] = range > 1e-12 * fmax(1.0, fmax(fabs(a[g]), fabs(b[g]))) ? 1.0 / range : 1.0;
        }
    } else {
        for (size_t g = 0; g < groups; g++)
            b[g] = 1;
    }
    for (size_t j = 0; j < d; j++) {
        nm->shift[j] = (float)a[j / w];
        nm->scale[j] = (float)b[j / w];
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
    if (ds->map) {              /* read-only: normalised as its rows are gathered */
        ds->norm_shift = nm->shift;
        ds->norm_scale = nm->scale;
        return 0;
    }
    size_t d = (size_t)ds->d;
    const float *shift = nm->shift, *scale = nm->scale;
    for (size_t i = 0; i < (size_t)ds->n; i++) {
        float *x = ds->x + i * d;
        for (size_t j = 0; j < d; j++)
            x[j] = (x[j] - shift[j]) * scale[j];
    }
    return 0;
}
