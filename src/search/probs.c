/* probs.c — the ensemble average of the members' saved probabilities (probs_valid.f32, probs_test.f32). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rundir.h"
#include "search/search_int.h"

int nnx_ensemble_average(const char *const *member_dirs, size_t n, const char *split, nnx_probs *out,
                         nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return nnx_rt_fail(err, "an ensemble needs at least one member");
    char file[64];
    snprintf(file, sizeof file, "probs_%s.f32", split);
    double *sum = NULL;
    int rc = 0;
    for (size_t m = 0; m < n && rc == 0; m++) {
        char *path = nnx_path_join(member_dirs[m], file);
        nnx_probs p;
        if (!path) {
            rc = nnx_rt_fail(err, "out of memory");
            break;
        }
        rc = nnx_probs_read(path, &p, err);
        if (rc == 0 && m == 0) {
            *out = p;
            sum = calloc((size_t)p.rows * (size_t)p.cols + 1, sizeof *sum);
            if (!sum)
                rc = nnx_rt_fail(err, "out of memory");
            memset(&p, 0, sizeof p);
        } else if (rc == 0) {
            if (p.rows != out->rows || p.cols != out->cols)
                rc = nnx_rt_fail(err, "%s: %d x %d probabilities, but the first member has %d x %d", path,
                                 (int)p.rows, (int)p.cols, (int)out->rows, (int)out->cols);
            for (int32_t i = 0; rc == 0 && i < p.rows; i++)
                if (p.labels[i] != out->labels[i])
                    rc = nnx_rt_fail(err, "%s: row %d has label %d, but %d in the first member: the members "
                                     "were not evaluated on the same rows", path, (int)i + 1,
                                     (int)p.labels[i], (int)out->labels[i]);
        }
        if (rc == 0) {
            const float *src = m == 0 ? out->p : p.p;
            for (size_t i = 0; i < (size_t)out->rows * (size_t)out->cols; i++)
                sum[i] += src[i];
        }
        nnx_probs_free(&p);
        free(path);
    }
    if (rc == 0)
        for (size_t i = 0; i < (size_t)out->rows * (size_t)out->cols; i++)
            out->p[i] = (float)(sum[i] / (double)n);
    free(sum);
    if (rc)
        nnx_probs_free(out);
    return rc;
}
