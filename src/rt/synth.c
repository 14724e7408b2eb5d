/* synth.c — synthetic classification sets: interleaved spirals and Gaussian blobs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/data.h"

/* Shuffle the rows of a freshly built set (features and labels together). */
static int shuffle_rows(nnx_dataset *ds, nnx_rng *r, nnx_rt_error *err)
{
    int32_t *perm = malloc((size_t)ds->n * sizeof *perm);
    nnx_dataset tmp;
    if (!perm)
        return nnx_rt_fail(err, "out of memory");
    for (int32_t i = 0; i < ds->n; i++)
        perm[i] = i;
    nnx_rng_shuffle(r, perm, (size_t)ds->n);
    int rc = nnx_dataset_subset(ds, perm, ds->n, &tmp, err);
    free(perm);
    if (rc < 0)
        return -1;
    nnx_dataset_free(ds);
    *ds = tmp;
    return 0;
}

/* Rows of class c when n rows are shared by k classes (the first n % k get one more). */
static int32_t class_size(int32_t n, int32_t k, int32_t c)
{
    return n / k + (c < n % k);
}

int nnx_make_spirals(nnx_dataset *out, int32_t n, int32_t classes, double noise,
                     uint64_t seed, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (classes < 2)
        return nnx_rt_fail(err, "spirals: need at least 2 classes (got %d)", (int)classes);
    if (n < classes)
        return nnx_rt_fail(err, "spirals: %d rows cannot hold %d classes", (int)n, (int)classes);
    if (!(noise >= 0) || !isfinite(noise))
        return nnx_rt_fail(err, "spirals: noise must be >= 0 (got %g)", noise);
    if (nnx_dataset_alloc(out, n, 2, NNX_TARGET_CLASS, classes, err) < 0)
        return -1;
    nnx_rng r;
    nnx_rng_seed(&r, seed, NNX_STREAM_DATA);
    const double two_pi = 6.283185307179586;
    int32_t row = 0;
    for (int32_t c = 0; c < classes; c++) {
        int32_t m = class_size(n, classes, c);
        for (int32_t i = 0; i < m; i++, row++) {
            double rad = m > 1 ? (double)i / (m - 1) : 0.0;
            double ang = c * two_pi / classes + 4.0 * rad + noise * nnx_rng_normal(&r);
            out->x[2 * row] = (float)(rad * sin(ang));
            out->x[2 * row + 1] = (float)(rad * cos(ang));
            out->y[row] = c;
        }
    }
    if (shuffle_rows(out, &r, err) < 0) {
        nnx_dataset_free(out);
        return -1;
    }
    return 0;
}

int nnx_make_blobs(nnx_dataset *out, int32_t n, int32_t classes, int32_t features,
                   double spread, uint64_t seed, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (classes < 1)
        return nnx_rt_fail(err, "blobs: need at least 1 class (got %d)", (int)classes);
    if (n < classes)
        return nnx_rt_fail(err, "blobs: %d rows cannot hold %d classes", (int)n, (int)classes);
    if (features < 1)
        return nnx_rt_fail(err, "blobs: need at least 1 feature (got %d)", (int)features);
    if (!(spread >= 0) || !isfinite(spread))
        return nnx_rt_fail(err, "blobs: spread must be >= 0 (got %g)", spread);
    if (nnx_dataset_alloc(out, n, features, NNX_TARGET_CLASS, classes, err) < 0)
        return -1;
    double *centre = malloc((size_t)classes * (size_t)features * sizeof *centre);
    if (!centre) {
        nnx_dataset_free(out);
        return nnx_rt_fail(err, "blobs: out of memory");
    }
    nnx_rng r;
    nnx_rng_seed(&r, seed, NNX_STREAM_DATA);
    for (size_t i = 0; i < (size_t)classes * (size_t)features; i++)
        centre[i] = -10.0 + 20.0 * nnx_rng_uniform(&r);
    int32_t row = 0;
    for (int32_t c = 0; c < classes; c++) {
        int32_t m = class_size(n, classes, c);
        const double *mu = centre + (size_t)c * (size_t)features;
        for (int32_t i = 0; i < m; i++, row++) {
            float *x = out->x + (size_t)row * (size_t)features;
            for (int32_t j = 0; j < features; j++)
                x[j] = (float)(mu[j] + spread * nnx_rng_normal(&r));
            out->y[row] = c;
        }
    }
    free(centre);
    if (shuffle_rows(out, &r, err) < 0) {
        nnx_dataset_free(out);
        return -1;
    }
    return 0;
}
