/* split.c — hold out a validation part of a data set, stratified by class or not. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/data.h"

/* How many of m rows go to valid. */
static int32_t held_out(int32_t m, double fraction)
{
    int32_t h = (int32_t)floor(fraction * m + 0.5);
    if (h > m - 1)
        h = m - 1;         /* keep at least one in train */
    if (h < 1 && m >= 2)
        h = 1;             /* and show at least one in valid */
    return h < 0 ? 0 : h;
}

int nnx_split(const nnx_dataset *src, double fraction, int stratify, uint64_t seed,
              nnx_dataset *train, nnx_dataset *valid, nnx_rt_error *err)
{
    memset(train, 0, sizeof *train);
    memset(valid, 0, sizeof *valid);
    if (!(fraction > 0 && fraction < 1))
        return nnx_rt_fail(err, "split: fraction must be between 0 and 1 (got %g)", fraction);
    if (src->n < 2)
        return nnx_rt_fail(err, "split: %d row%s cannot be split", (int)src->n,
                           src->n == 1 ? "" : "s");
    stratify = stratify && src->kind == NNX_TARGET_CLASS;

    int32_t n = src->n;
    int32_t *order = malloc((size_t)n * sizeof *order);   /* rows grouped by class, shuffled */
    uint8_t *to_valid = calloc((size_t)n, 1);
    int32_t *start = calloc((size_t)(stratify ? src->classes : 1) + 1, sizeof *start);
    int32_t *cursor = malloc((size_t)(stratify ? src->classes : 1) * sizeof *cursor);
    int32_t *rows = malloc((size_t)n * sizeof *rows);
    int rc = -1;
    if (!order || !to_valid || !start || !cursor || !rows) {
        nnx_rt_fail(err, "split: out of memory");
        goto done;
    }
    nnx_rng r;
    nnx_rng_seed(&r, seed, NNX_STREAM_SPLIT);
    int32_t groups = stratify ? src->classes : 1;
    if (stratify) {   /* counting sort by class, original order within a class */
        for (int32_t i = 0; i < n; i++)
            start[src->y[i] + 1]++;
        for (int32_t c = 0; c < groups; c++)
            start[c + 1] += start[c];
        memcpy(cursor, start, (size_t)groups * sizeof *cursor);
        for (int32_t i = 0; i < n; i++)
            order[cursor[src->y[i]]++] = i;
    } else {
        start[1] = n;
        for (int32_t i = 0; i < n; i++)
            order[i] = i;
    }
    int32_t nvalid = 0;
    for (int32_t g = 0; g < groups; g++) {
        int32_t m = start[g + 1] - start[g];
        nnx_rng_shuffle(&r, order + start[g], (size_t)m);
        int32_t h = held_out(m, fraction);
        for (int32_t i = 0; i < h; i++)
            to_valid[order[start[g] + i]] = 1;
        nvalid += h;
    }
    if (nvalid == 0 || nvalid == n) {
        nnx_rt_fail(err, "split: holding out %g of %d rows leaves an empty part", fraction, (int)n);
        goto done;
    }
    int32_t nt = 0, nv = 0;
    for (int32_t i = 0; i < n; i++)
        if (!to_valid[i])
            rows[nt++] = i;
    for (int32_t i = 0; i < n; i++)
        if (to_valid[i])
            rows[nt + nv++] = i;
    if (nnx_dataset_subset(src, rows, nt, train, err) < 0)
        goto done;
    if (nnx_dataset_subset(src, rows + nt, nv, valid, err) < 0) {
        nnx_dataset_free(train);
        goto done;
    }
    rc = 0;
done:
    free(order);
    free(to_valid);
    free(start);
    free(cursor);
    free(rows);
    return rc;
}
