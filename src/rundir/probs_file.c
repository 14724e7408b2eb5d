/* probs_file.c — a run's per-row probabilities file (probs_valid.f32, probs_test.f32): write and read. */
#include <stdlib.h>
#include <string.h>

#include "nnx/probs.h"
#include "nnx/util/file.h"

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

