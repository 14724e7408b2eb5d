/* probs.c — a trial's saved probabilities (probs_valid.f32, probs_test.f32) and their ensemble average. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rundir.h"
#include "search/search_int.h"

enum { HEADER = 16, VERSION = 1 };

static void put_u32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void nnx_probs_free(nnx_probs *p)
{
    free(p->labels);
    free(p->p);
    memset(p, 0, sizeof *p);
}

int nnx_probs_write(const char *path, const nnx_probs *p, nnx_rt_error *err)
{
    if (p->rows < 0 || p->cols < 1)
        return nnx_rt_fail(err, "%s: bad probability table %d x %d", path, (int)p->rows, (int)p->cols);
    size_t rows = (size_t)p->rows, cols = (size_t)p->cols;
    size_t len = HEADER + 4 * rows + 4 * rows * cols;
    unsigned char *b = malloc(len);
    if (!b)
        return nnx_rt_fail(err, "out of memory for %s", path);
    memcpy(b, "NNXP", 4);
    put_u32(b + 4, VERSION);
    put_u32(b + 8, (uint32_t)p->rows);
    put_u32(b + 12, (uint32_t)p->cols);
    unsigned char *q = b + HEADER;
    for (size_t i = 0; i < rows; i++, q += 4)
        put_u32(q, (uint32_t)p->labels[i]);
    for (size_t i = 0; i < rows * cols; i++, q += 4)
        put_u32(q, float_bits(p->p[i]));
    int rc = nnx_file_write(path, (const char *)b, len, NNX_FILE_UNIQUE, err);
    free(b);
    return rc;
}

int nnx_probs_read(const char *path, nnx_probs *p, nnx_rt_error *err)
{
    memset(p, 0, sizeof *p);
    size_t len = 0;
    char *text = nnx_file_read(path, 0, &len, err);
    if (!text)
        return -1;
    const unsigned char *b = (const unsigned char *)text;
    int rc = 0;
    if (len < HEADER || memcmp(b, "NNXP", 4) != 0)
        rc = nnx_rt_fail(err, "%s: not an nnx probability file", path);
    else if (get_u32(b + 4) != VERSION)
        rc = nnx_rt_fail(err, "%s: version %u, expected %d", path, get_u32(b + 4), VERSION);
    int32_t rows = rc ? 0 : (int32_t)get_u32(b + 8), cols = rc ? 0 : (int32_t)get_u32(b + 12);
    if (rc == 0 && (rows < 0 || cols < 1 || cols > 1 << 20 || (size_t)rows > (len - HEADER) / 4 ||
                    len != HEADER + 4 * (size_t)rows * (1 + (size_t)cols)))
        rc = nnx_rt_fail(err, "%s: %zu bytes do not hold %d rows of %d probabilities", path, len, (int)rows,
                         (int)cols);
    if (rc == 0) {
        p->rows = rows;
        p->cols = cols;
        p->labels = malloc(((size_t)rows + 1) * sizeof *p->labels);
        p->p = malloc(((size_t)rows * (size_t)cols + 1) * sizeof *p->p);
        if (!p->labels || !p->p)
            rc = nnx_rt_fail(err, "out of memory for %s", path);
    }
    if (rc == 0) {
        const unsigned char *q = b + HEADER;
        for (int32_t i = 0; i < rows; i++, q += 4)
            p->labels[i] = (int32_t)get_u32(q);
        for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++, q += 4)
            p->p[i] = bits_float(get_u32(q));
    }
    free(text);
    if (rc)
        nnx_probs_free(p);
    return rc;
}

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
