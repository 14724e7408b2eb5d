/* conv.c — 2-D convolution (square kernel, stride, zero padding) as im2col
 * followed by cblas_sgemm, a chunk of samples at a time.
 *
 * For a chunk of m samples the column matrix (L->ws) is [C·k·k][m·OH·OW]:
 * row (c, ki, kj) holds, for every sample and output pixel, the input value
 * under that kernel tap.  Then Y[F][chunk columns] = W[F][C·k·k] · col, written
 * straight into the CNHW output (whose rows are [F][n·OH·OW]).  Chunks are
 * sized so the column matrix stays in the L2 cache (about CHUNK_BYTES)
 * rather than streaming a whole batch's worth through memory.
 * Backward, per chunk: im2col again, dW += dY·colᵀ, then the same buffer
 * receives dcol = Wᵀ·dY, which col2im scatters back onto the input.  A 1×1
 * convolution with stride 1 and no padding on a CNHW input uses the input
 * itself as the column matrix, whole batch at once.
 */
#include <cblas.h>
#include <string.h>

#include "rt/layer.h"

#define CHUNK_BYTES (512 * 1024)

typedef struct geom {
    int c, h, w, k, stride, pad, oh, ow;
    size_t ss, cs;     /* input sample and channel strides */
} geom;

static geom geometry(const nnx_layer *L, int n)
{
    const nnx_layer_info *li = &L->info;
    geom g = {
        .c = li->in_c, .h = li->in_h, .w = li->in_w, .k = li->kernel, .stride = li->stride,
        .pad = li->pad, .oh = li->out_h, .ow = li->out_w,
    };
    g.ss = nnx_sample_stride(L->in_layout, n, g.c, g.h * g.w);
    g.cs = nnx_chan_stride(L->in_layout, n, g.c, g.h * g.w);
    return g;
}

/* The output columns [lo, hi) whose input column ow·stride - pad + kj is
 * inside the image. */
static void valid_cols(const geom *g, int kj, int *lo, int *hi)
{
    int first = g->pad - kj;                       /* need ow·stride >= first */
    *lo = first <= 0 ? 0 : (first + g->stride - 1) / g->stride;
    int last = g->w - 1 + g->pad - kj;             /* need ow·stride <= last */
    *hi = last < 0 ? 0 : last / g->stride + 1;
    if (*hi > g->ow)
        *hi = g->ow;
    if (*lo > *hi)
        *lo = *hi;
}

static bool is_pointwise(const nnx_layer *L)
{
    return L->info.kernel == 1 && L->info.stride == 1 && L->info.pad == 0
        && L->in_layout == NNX_CNHW;
}

/* Both loops visit one input plane (sample s, channel c) at a time and all k·k
 * taps of it, so the plane stays in L1 while its rows of col are written or
 * read. */
/* Columns of samples s0 .. s0+m-1 into col ([C·k·k][m·OH·OW]). */
static void im2col(const geom *g, const float *restrict x, float *restrict col, int s0, int m)
{
    const size_t ohw = (size_t)g->oh * g->ow, ncols = (size_t)m * ohw;
    for (int c = 0; c < g->c; c++)
        for (int s = 0; s < m; s++) {
            const float *restrict plane = x + (s0 + s) * g->ss + c * g->cs;
            for (int ki = 0; ki < g->k; ki++)
                for (int kj = 0; kj < g->k; kj++) {
                    float *restrict seg =
                        col + ((size_t)(c * g->k + ki) * g->k + kj) * ncols + s * ohw;
                    int lo, hi;
                    valid_cols(g, kj, &lo, &hi);
                    for (int oh = 0; oh < g->oh; oh++) {
                        float *restrict d = seg + (size_t)oh * g->ow;
                        int ih = oh * g->stride - g->pad + ki;
                        if (ih < 0 || ih >= g->h || lo == hi) {
                            for (int ow = 0; ow < g->ow; ow++)
                                d[ow] = 0.0f;
                            continue;
                        }
                        /* input column of output column lo; >= 0 by valid_cols.
                         * Rows are short (a few dozen floats): plain loops
                         * beat calls to memcpy here. */
                        const float *restrict src =
                            plane + (size_t)ih * g->w + (lo * g->stride - g->pad + kj);
                        for (int ow = 0; ow < lo; ow++)
                            d[ow] = 0.0f;
                        if (g->stride == 1)
                            for (int t = 0; t < hi - lo; t++)
                                d[lo + t] = src[t];
                        else
                            for (int ow = lo; ow < hi; ow++)
                                d[ow] = src[(ow - lo) * g->stride];
                        for (int ow = hi; ow < g->ow; ow++)
                            d[ow] = 0.0f;
                    }
                }
        }
}

/* The sum over taps of col ([C·k·k][m·OH·OW]) onto the planes of samples
 * s0 .. s0+m-1 of dx, which it overwrites. */
static void col2im(const geom *g, const float *restrict col, float *restrict dx, int s0, int m)
{
    const size_t ohw = (size_t)g->oh * g->ow, ncols = (size_t)m * ohw;
    const size_t hw = (size_t)g->h * g->w;
    for (int c = 0; c < g->c; c++)
        for (int s = 0; s < m; s++) {
            float *restrict plane = dx + (s0 + s) * g->ss + c * g->cs;
            memset(plane, 0, hw * sizeof *plane);
            for (int ki = 0; ki < g->k; ki++)
                for (int kj = 0; kj < g->k; kj++) {
                    const float *restrict seg =
                        col + ((size_t)(c * g->k + ki) * g->k + kj) * ncols + s * ohw;
                    int lo, hi;
                    valid_cols(g, kj, &lo, &hi);
                    for (int oh = 0; oh < g->oh; oh++) {
                        int ih = oh * g->stride - g->pad + ki;
                        if (ih < 0 || ih >= g->h || lo == hi)
                            continue;
                        const float *restrict d = seg + (size_t)oh * g->ow + lo;
                        float *restrict dst =
                            plane + (size_t)ih * g->w + (lo * g->stride - g->pad + kj);
                        const int m = hi - lo;
                        if (g->stride == 1)
                            for (int t = 0; t < m; t++)
                                dst[t] += d[t];
                        else
                            for (int t = 0; t < m; t++)
                                dst[t * g->stride] += d[t];
                    }
                }
        }
}

/* Samples per chunk: as many as keep the column matrix near CHUNK_BYTES. */
static int chunk_samples(const nnx_layer *L, int max_batch)
{
    const nnx_layer_info *li = &L->info;
    size_t per = (size_t)li->in_c * li->kernel * li->kernel * li->out_h * li->out_w
               * sizeof(float);
    size_t m = CHUNK_BYTES / per;
    if (m < 1)
        m = 1;
    return m < (size_t)max_batch ? (int)m : max_batch;
}

size_t nnx_conv_ws_floats(const nnx_layer *L, int max_batch)
{
    const nnx_layer_info *li = &L->info;
    return (size_t)li->in_c * li->kernel * li->kernel * li->out_h * li->out_w
         * (size_t)chunk_samples(L, max_batch);
}

const float *nnx_conv_forward(nnx_layer *L, const float *x, int n)
{
    geom g = geometry(L, n);
    const int f = L->info.units, ckk = g.c * g.k * g.k, ohw = g.oh * g.ow;
    const int ncols = n * ohw;
    float *restrict y = L->out;
    float beta = 0.0f;
    if (L->info.bias) {
        const float *b = L->w + (size_t)f * ckk;
        for (int i = 0; i < f; i++) {
            float *restrict row = y + (size_t)i * ncols;
            const float v = b[i];
            for (int j = 0; j < ncols; j++)
                row[j] = v;
        }
        beta = 1.0f;
    }
    if (is_pointwise(L)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, f, ncols, ckk,
                    1.0f, L->w, ckk, x, ncols, beta, y, ncols);
        return y;
    }
    const int chunk = chunk_samples(L, n);
    for (int s0 = 0; s0 < n; s0 += chunk) {
        int m = n - s0 < chunk ? n - s0 : chunk;
        im2col(&g, x, L->ws, s0, m);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, f, m * ohw, ckk,
                    1.0f, L->w, ckk, L->ws, m * ohw, beta, y + (size_t)s0 * ohw, ncols);
    }
    return y;
}

const float *nnx_conv_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    geom g = geometry(L, n);
    const int f = L->info.units, ckk = g.c * g.k * g.k, ohw = g.oh * g.ow;
    const int ncols = n * ohw;
    if (L->info.bias) {
        float *db = L->gw + (size_t)f * ckk;
        for (int i = 0; i < f; i++)
            db[i] = (float)nnx_sum_floats(dy + (size_t)i * ncols, (size_t)ncols);
    }
    if (is_pointwise(L)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, f, ckk, ncols,
                    1.0f, dy, ncols, L->x, ncols, 0.0f, L->gw, ckk);
        if (!dx)
            return NULL;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, ncols, f,
                    1.0f, L->w, ckk, dy, ncols, 0.0f, dx, ncols);
        return dx;
    }
    const int chunk = chunk_samples(L, n);
    for (int s0 = 0; s0 < n; s0 += chunk) {
        int m = n - s0 < chunk ? n - s0 : chunk;
        const float *dyc = dy + (size_t)s0 * ohw;
        im2col(&g, L->x, L->ws, s0, m);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, f, ckk, m * ohw,
                    1.0f, dyc, ncols, L->ws, m * ohw, s0 ? 1.0f : 0.0f, L->gw, ckk);
        if (!dx)
            continue;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, m * ohw, f,
                    1.0f, L->w, ckk, dyc, ncols, 0.0f, L->ws, m * ohw);
        col2im(&g, L->ws, dx, s0, m);
    }
    return dx;
}
