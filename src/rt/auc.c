/* auc.c — exact ROC AUC (Mann–Whitney, ties at average rank), binary and macro one-vs-rest. */
#include <math.h>
#include <stdlib.h>

#include "nnx/rt/metrics.h"

typedef struct scored {
    float   s;
    uint8_t pos;
} scored;

static int by_score(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

/* AUC of pos against s (stride) using scratch of n entries; -1 if a class is empty. */
static int auc_into(const uint8_t *pos, const float *s, size_t stride, int32_t n,
                    scored *scratch, double *out, nnx_rt_error *err)
{
    *out = NAN;
    int64_t npos = 0;
    for (int32_t i = 0; i < n; i++) {
        float v = s[(size_t)i * stride];
        if (isnan(v))
            return nnx_rt_fail(err, "auc: the score of row %d is NaN", (int)i);
        scratch[i].s = v;
        scratch[i].pos = pos[i] != 0;
        npos += scratch[i].pos;
    }
    int64_t nneg = n - npos;
    if (npos == 0 || nneg == 0)
        return nnx_rt_fail(err, "auc: undefined when every label is %s",
                           npos ? "positive" : "negative");
    qsort(scratch, (size_t)n, sizeof *scratch, by_score);
    /* Sum of the positives' ranks (1-based), each tie group at its mean rank. */
    double rank_sum = 0;
    for (int32_t i = 0; i < n;) {
        int32_t j = i;
        int64_t group_pos = 0;
        while (j < n && scratch[j].s == scratch[i].s)
            group_pos += scratch[j++].pos;
        rank_sum += (double)group_pos * (i + 1 + j) / 2.0;   /* ranks i+1 .. j */
        i = j;
    }
    double u = rank_sum - (double)npos * (double)(npos + 1) / 2.0;
    *out = u / ((double)npos * (double)nneg);
    return 0;
}

int nnx_auc_binary(const uint8_t *pos, const float *s, size_t stride, int32_t n,
                   double *out, nnx_rt_error *err)
{
    *out = NAN;
    if (n <= 0)
        return nnx_rt_fail(err, "auc: no rows");
    scored *scratch = malloc((size_t)n * sizeof *scratch);
    if (!scratch)
        return nnx_rt_fail(err, "auc: out of memory");
    int rc = auc_into(pos, s, stride, n, scratch, out, err);
    free(scratch);
    return rc;
}

int nnx_auc(const int32_t *y, const float *p, int32_t n, int32_t k,
            double *out, int32_t *skipped, nnx_rt_error *err)
{
    *out = NAN;
    if (skipped)
        *skipped = 0;
    if (n <= 0)
        return nnx_rt_fail(err, "auc: no rows");
    if (k <= 0)
        return nnx_rt_fail(err, "auc: output width %d", (int)k);
    int32_t classes = k == 1 ? 2 : k;
    for (int32_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= classes)
            return nnx_rt_fail(err, "auc: label %d of row %d is outside 0..%d", (int)y[i],
                               (int)i, (int)classes - 1);
    scored *scratch = malloc((size_t)n * sizeof *scratch);
    uint8_t *pos = malloc((size_t)n);
    int rc = -1;
    if (!scratch || !pos) {
        nnx_rt_fail(err, "auc: out of memory");
        goto done;
    }
    if (k <= 2) {
        for (int32_t i = 0; i < n; i++)
            pos[i] = y[i] == 1;
        rc = auc_into(pos, p + (k - 1), (size_t)k, n, scratch, out, err);
        goto done;
    }
    double sum = 0;
    int32_t used = 0, skip = 0;
    for (int32_t c = 0; c < k; c++) {
        int32_t npos = 0;
        for (int32_t i = 0; i < n; i++)
            npos += pos[i] = y[i] == c;
        if (npos == 0 || npos == n) {   /* no AUC for this class: left out */
            skip++;
            continue;
        }
        double a;
        if (auc_into(pos, p + c, (size_t)k, n, scratch, &a, err) < 0)
            goto done;
        sum += a;
        used++;
    }
    if (skipped)
        *skipped = skip;
    if (used == 0) {
        nnx_rt_fail(err, "auc: undefined: only one class occurs in the labels");
        goto done;
    }
    *out = sum / used;
    rc = 0;
done:
    free(scratch);
    free(pos);
    return rc;
}
