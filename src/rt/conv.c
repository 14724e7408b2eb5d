/* conv.c — 2-D convolution (square kernel, stride, zero padding) as im2col
 * followed by one cblas_sgemm over the whole batch.
 *
 * The column matrix (L->ws) is [C·k·k][n·OH·OW]: row (c, ki, kj) holds, for
 * every sample and output pixel, the input value under that kernel tap.  Then
 * Y[F][n·OH·OW] = W[F][C·k·k] · col, which is the CNHW layout directly.
 * Backward: dW = dY · colᵀ, then the same buffer receives dcol = Wᵀ · dY,
 * which col2im scatters back onto the input.  A 1×1 convolution with stride 1
 * and no padding on a CNHW input uses the input itself as the column matrix.
 */
#include <cblas.h>
#include <string.h>

#include "rt/layer.h"

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

static void im2col(const geom *g, const float *restrict x, float *restrict col, int n)
{
    const size_t ohw = (size_t)g->oh * g->ow, ncols = (size_t)n * ohw;
    for (int c = 0; c < g->c; c++)
        for (int ki = 0; ki < g->k; ki++)
            for (int kj = 0; kj < g->k; kj++) {
                float *restrict row = col + ((size_t)(c * g->k + ki) * g->k + kj) * ncols;
                int lo, hi;
                valid_cols(g, kj, &lo, &hi);
                for (int s = 0; s < n; s++) {
                    const float *restrict plane = x + s * g->ss + c * g->cs;
                    for (int oh = 0; oh < g->oh; oh++) {
                        float *restrict d = row + s * ohw + (size_t)oh * g->ow;
                        int ih = oh * g->stride - g->pad + ki;
                        if (ih < 0 || ih >= g->h || lo == hi) {
                            memset(d, 0, (size_t)g->ow * sizeof *d);
                            continue;
                        }
                        /* input column of output column lo; >= 0 by valid_cols */
                        const float *restrict src =
                            plane + (size_t)ih * g->w + (lo * g->stride - g->pad + kj);
                        for (int ow = 0; ow < lo; ow++)
                            d[ow] = 0.0f;
                        if (g->stride == 1)
                            memcpy(d + lo, src, (size_t)(hi - lo) * sizeof *d);
                        else
                            for (int ow = lo; ow < hi; ow++)
                                d[ow] = src[(ow - lo) * g->stride];
                        for (int ow = hi; ow < g->ow; ow++)
                            d[ow] = 0.0f;
                    }
                }
            }
}

static void col2im(const geom *g, const float *restrict col, float *restrict dx, int n)
{
    const size_t ohw = (size_t)g->oh * g->ow, ncols = (size_t)n * ohw;
    const size_t hw = (size_t)g->h * g->w;
    memset(dx, 0, (size_t)n * g->c * hw * sizeof *dx);
    for (int c = 0; c < g->c; c++)
        for (int ki = 0; ki < g->k; ki++)
            for (int kj = 0; kj < g->k; kj++) {
                const float *restrict row = col + ((size_t)(c * g->k + ki) * g->k + kj) * ncols;
                int lo, hi;
                valid_cols(g, kj, &lo, &hi);
                for (int s = 0; s < n; s++) {
                    float *restrict plane = dx + s * g->ss + c * g->cs;
                    for (int oh = 0; oh < g->oh; oh++) {
                        int ih = oh * g->stride - g->pad + ki;
                        if (ih < 0 || ih >= g->h || lo == hi)
                            continue;
                        const float *restrict d = row + s * ohw + (size_t)oh * g->ow;
                        float *restrict dst =
                            plane + (size_t)ih * g->w + (lo * g->stride - g->pad + kj);
                        for (int ow = lo; ow < hi; ow++)
                            dst[(ow - lo) * g->stride] += d[ow];
                    }
                }
            }
}

const float *nnx_conv_forward(nnx_layer *L, const float *x, int n)
{
    geom g = geometry(L, n);
    const int f = L->info.units, ckk = g.c * g.k * g.k;
    const int ncols = n * g.oh * g.ow;
    const float *col = x;
    if (!is_pointwise(L)) {
        im2col(&g, x, L->ws, n);
        col = L->ws;
    }
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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, f, ncols, ckk,
                1.0f, L->w, ckk, col, ncols, beta, y, ncols);
    return y;
}

const float *nnx_conv_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    geom g = geometry(L, n);
    const int f = L->info.units, ckk = g.c * g.k * g.k;
    const int ncols = n * g.oh * g.ow;
    const bool pointwise = is_pointwise(L);
    const float *col = pointwise ? L->x : L->ws;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, f, ckk, ncols,
                1.0f, dy, ncols, col, ncols, 0.0f, L->gw, ckk);
    if (L->info.bias) {
        float *db = L->gw + (size_t)f * ckk;
        for (int i = 0; i < f; i++)
            db[i] = (float)nnx_sum_floats(dy + (size_t)i * ncols, (size_t)ncols);
    }
    if (!dx)
        return NULL;
    float *dcol = pointwise ? dx : L->ws;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, ncols, f,
                1.0f, L->w, ckk, dy, ncols, 0.0f, dcol, ncols);
    if (!pointwise)
        col2im(&g, dcol, dx, n);
    return dx;
}
