/* dataset.c — the nnx_dataset type: allocate, free, shape view, row subsets. */
#define _DEFAULT_SOURCE   /* madvise */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nnx/rt/data.h"

/* nnx_dataset_alloc, with x either calloc'd (map NULL) or the given
 * features inside the given mapping. */
static int alloc_set(nnx_dataset *out, int32_t n, int32_t d, nnx_target_kind kind,
                     int32_t classes, void *map, size_t map_len, float *x, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (n <= 0 || d <= 0)
        return nnx_rt_fail(err, "data set must have rows and features (got %d x %d)",
                           (int)n, (int)d);
    if (kind == NNX_TARGET_CLASS && classes <= 0)
        return nnx_rt_fail(err, "a classification data set needs at least 1 class");
    if ((size_t)n > SIZE_MAX / sizeof(float) / (size_t)d)
        return nnx_rt_fail(err, "data set of %d x %d is too large", (int)n, (int)d);
    out->x = map ? x : calloc((size_t)n * (size_t)d, sizeof *out->x);
    if (!map && out->x)     /* calloc's large blocks are fresh pages, not yet touched */
        nnx_table_hugepages(out->x, (size_t)n * (size_t)d * sizeof *out->x);
    if (kind == NNX_TARGET_CLASS)
        out->y = calloc((size_t)n, sizeof *out->y);
    else if (kind == NNX_TARGET_REAL)
        out->t = calloc((size_t)n, sizeof *out->t);
    if (!out->x || (kind != NNX_TARGET_NONE && !out->y && !out->t)) {
        if (map)
            out->x = NULL;      /* the caller still owns the mapping */
        nnx_dataset_free(out);
        return nnx_rt_fail(err, "out of memory for a %d x %d data set", (int)n, (int)d);
    }
    out->n = n;
    out->d = d;
    out->kind = kind;
    out->classes = kind == NNX_TARGET_CLASS ? classes : 0;
    out->map = map;
    out->map_len = map_len;
    return 0;
}

int nnx_dataset_alloc(nnx_dataset *out, int32_t n, int32_t d, nnx_target_kind kind,
                      int32_t classes, nnx_rt_error *err)
{
    return alloc_set(out, n, d, kind, classes, NULL, 0, NULL, err);
}

int nnx_dataset_alloc_mapped(nnx_dataset *out, int32_t n, int32_t d, nnx_target_kind kind,
                             int32_t classes, void *map, size_t map_len, const float *x,
                             nnx_rt_error *err)
{
    return alloc_set(out, n, d, kind, classes, map, map_len, (float *)x, err);
}

void nnx_dataset_free(nnx_dataset *ds)
{
    if (!ds)
        return;
    if (ds->class_names) {
        for (int32_t c = 0; c < ds->classes; c++)
            free(ds->class_names[c]);
        free(ds->class_names);
    }
    if (ds->feature_names) {
        for (int32_t j = 0; j < ds->d; j++)
            free(ds->feature_names[j]);
        free(ds->feature_names);
    }
    free(ds->source_row);
    if (ds->map)
        munmap(ds->map, ds->map_len);
    else
        free(ds->x);
    free(ds->y);
    free(ds->t);
    memset(ds, 0, sizeof *ds);
}

int nnx_dataset_set_shape(nnx_dataset *ds, int32_t c, int32_t h, int32_t w,
                          nnx_rt_error *err)
{
    if (c <= 0 || h <= 0 || w <= 0 || (int64_t)c * h * w != ds->d)
        return nnx_rt_fail(err, "shape [%d, %d, %d] does not match %d features per row",
                           (int)c, (int)h, (int)w, (int)ds->d);
    ds->shape[0] = c;
    ds->shape[1] = h;
    ds->shape[2] = w;
    ds->has_shape = 1;
    return 0;
}

static int copy_class_names(nnx_dataset *out, const nnx_dataset *src, nnx_rt_error *err)
{
    if (!src->class_names)
        return 0;
    out->class_names = calloc((size_t)src->classes, sizeof *out->class_names);
    if (!out->class_names)
        return nnx_rt_fail(err, "out of memory for class names");
    for (int32_t c = 0; c < src->classes; c++) {
        if (!src->class_names[c])
            continue;
        out->class_names[c] = strdup(src->class_names[c]);
        if (!out->class_names[c])
            return nnx_rt_fail(err, "out of memory for class names");
    }
    return 0;
}

static int copy_feature_names(nnx_dataset *out, const nnx_dataset *src, nnx_rt_error *err)
{
    if (!src->feature_names)
        return 0;
    out->feature_names = calloc((size_t)src->d, sizeof *out->feature_names);
    if (!out->feature_names)
        return nnx_rt_fail(err, "out of memory for feature names");
    for (int32_t j = 0; j < src->d; j++)
        if (src->feature_names[j] && !(out->feature_names[j] = strdup(src->feature_names[j])))
            return nnx_rt_fail(err, "out of memory for feature names");
    return 0;
}

int nnx_dataset_subset(const nnx_dataset *src, const int32_t *rows, int32_t m,
                       nnx_dataset *out, nnx_rt_error *err)
{
    for (int32_t i = 0; i < m; i++)
        if (rows[i] < 0 || rows[i] >= src->n) {
            memset(out, 0, sizeof *out);
            return nnx_rt_fail(err, "row %d is outside the data set (%d rows)",
                               (int)rows[i], (int)src->n);
        }
    if (nnx_dataset_alloc(out, m, src->d, src->kind, src->classes, err) < 0)
        return -1;
    nnx_gather(src, rows, m, out->x, out->y, out->t);
    out->has_shape = src->has_shape;
    memcpy(out->shape, src->shape, sizeof out->shape);
    out->source_row = malloc((size_t)(m > 0 ? m : 1) * sizeof *out->source_row);
    if (!out->source_row || copy_class_names(out, src, err) < 0 ||
        copy_feature_names(out, src, err) < 0) {
        if (!out->source_row)
            nnx_rt_fail(err, "out of memory for a %d-row subset", (int)m);
        nnx_dataset_free(out);
        return -1;
    }
    for (int32_t i = 0; i < m; i++)
        out->source_row[i] = src->source_row ? src->source_row[rows[i]] : rows[i];
    return 0;
}

void nnx_dataset_class_counts(const nnx_dataset *ds, int32_t *counts)
{
    memset(counts, 0, (size_t)ds->classes * sizeof *counts);
    if (ds->kind != NNX_TARGET_CLASS)
        return;
    for (int32_t i = 0; i < ds->n; i++)
        counts[ds->y[i]]++;
}

void nnx_table_hugepages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) / huge * huge, b = ((uintptr_t)p + bytes) / huge * huge;
    if (b > a)
        madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

void nnx_table_prefault(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + page - 1) / page * page, b = ((uintptr_t)p + bytes) / page * page;
    if (b > a)
        madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)bytes;
#endif
}
