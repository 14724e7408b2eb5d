/* conv.c — 2-D convolution (square kernel, stride, zero padding) as im2col
 * followed by cblas_sgemm, a chunk of samples at a time, the batch split
 * into units that the net's threads share (team.h).
 *
 * For a chunk of m samples the column matrix (a thread's slice of L->ws) is
 * [C·k·k][m·OH·OW]: row (c, ki, kj) holds, for every sample and output pixel,
 * the input value under that kernel tap.  Then Y[F][chunk columns] =
 * W[F][C·k·k] · col, written straight into the CNHW output (whose rows are
 * [F][n·OH·OW]).  Chunks are sized so the column matrix stays in the L2
 * cache (about CHUNK_BYTES) rather than streaming a whole batch's worth
 * through memory.
 *
 * Units.  A batch of n samples is cut into nunits(n) contiguous runs of
 * samples, whatever the thread count; a unit walks its run chunk by chunk.
 * Backward, per chunk: im2col again, the unit's partial dW += dY·colᵀ, then
 * the same buffer receives dcol = Wᵀ·dY, which col2im scatters back onto
 * the unit's samples of dx.  The partial weight gradients are then summed in
 * unit order, so dW does not depend on how many threads ran the units.
 * A 1×1 convolution with stride 1 and no padding on a CNHW input uses the
 * input itself as the column matrix, whole batch at once, on one thread.
 *
 * Workspace (nnx_conv_ws_floats): one column matrix per thread, then (when
 * a batch can have more than one unit) MAX_UNITS partial gradients of
 * F·C·k·k floats.
 */
#include <cblas.h>
#include <string.h>

#include "rt/layer.h"
#include "rt/team.h"

#define CHUNK_BYTES (512 * 1024)
#define MAX_UNITS   8
#define UNIT_MIN    4       /* samples a unit gets at least */

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

/* A stride-1 convolution whose output has its input's size ("same"
 * padding, k = 2·pad + 1) has a faster im2col and col2im: a tap's segment of
 * a sample is the whole input plane shifted by off = (ki-pad)·W + (kj-pad),
 * so it is one contiguous copy, after which the rows shifted in from above
 * or below the plane and the columns wrapped in from the neighbouring row
 * are zeroed. */
static bool is_same(const geom *g)
{
    return g->stride == 1 && g->oh == g->h && g->ow == g->w;
}

/* Where tap (ki, kj) of a "same" convolution reads: output element i of the
 * plane is input element i + off; output rows [r0, r1) have their input
 * row inside; output columns [zc0, zc1) of those rows fall on the padding. */
typedef struct tap {
    long off;
    int r0, r1, zc0, zc1;
} tap;

static tap same_tap(const geom *g, int ki, int kj)
{
    const int dr = ki - g->pad, dc = kj - g->pad;
    tap t = {.off = (long)dr * g->w + dc};
    t.r0 = dr < 0 ? -dr : 0;
    t.r1 = dr > 0 ? g->h - dr : g->h;
    if (t.r0 > g->h)
        t.r0 = g->h;
    if (t.r1 < t.r0)
        t.r1 = t.r0;
    t.zc0 = dc < 0 ? 0 : g->w - dc;
    t.zc1 = dc < 0 ? -dc : g->w;
    if (t.zc0 < 0)
        t.zc0 = 0;
    if (t.zc1 > g->w)
        t.zc1 = g->w;
    return t;
}

/* The part [*a, *b) of rows [r0, r1) whose source i + off is inside the plane
 * (what is cut off lies in the padding columns). */
static void same_span(const geom *g, const tap *t, long *a, long *b)
{
    const long hw = (long)g->h * g->w;
    long i0 = (long)t->r0 * g->w, i1 = (long)t->r1 * g->w;
    *a = i0 + t->off < 0 ? -t->off : i0;
    *b = i1 + t->off > hw ? hw - t->off : i1;
    if (*b < *a)
        *b = *a;
}

static void im2col_same(const geom *g, const float *restrict x, float *restrict col,
                        int s0, int m)
{
    const long hw = (long)g->h * g->w;
    const size_t ncols = (size_t)m * hw;
    for (int c = 0; c < g->c; c++)
        for (int s = 0; s < m; s++) {
            const float *restrict plane = x + (s0 + s) * g->ss + c * g->cs;
            for (int ki = 0; ki < g->k; ki++)
                for (int kj = 0; kj < g->k; kj++) {
                    float *restrict seg =
                        col + ((size_t)(c * g->k + ki) * g->k + kj) * ncols + s * hw;
                    tap t = same_tap(g, ki, kj);
                    long a, b;
                    same_span(g, &t, &a, &b);
                    for (long i = 0; i < a; i++)
                        seg[i] = 0.0f;
                    memcpy(seg + a, plane + a + t.off, (size_t)(b - a) * sizeof *seg);
                    for (long i = b; i < hw; i++)
                        seg[i] = 0.0f;
                    if (t.zc1 > t.zc0)
                        for (int r = t.r0; r < t.r1; r++)
                            for (int j = t.zc0; j < t.zc1; j++)
                                seg[(long)r * g->w + j] = 0.0f;
                }
        }
}

/* Both general loops visit one input plane (sample s, channel c) at a time
 * and all k·k taps of it, so the plane stays in L1 while its rows of col are
 * written or read. */
/* Columns of samples s0 .. s0+m-1 into col ([C·k·k][m·OH·OW]). */
static void im2col(const geom *g, const float *restrict x, float *restrict col, int s0, int m)
{
    if (is_same(g)) {
        im2col_same(g, x, col, s0, m);
        return;
    }
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
                        /* input column of output column lo; >= 0 by valid_cols */
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

/* col2im of a "same" convolution: per tap, zero the segment's padding
 * columns (col is scratch) and add the rows [r0, r1) on as one span. */
static void col2im_same(const geom *g, float *restrict col, float *restrict dx, int s0, int m)
{
    const long hw = (long)g->h * g->w;
    const size_t ncols = (size_t)m * hw;
    for (int c = 0; c < g->c; c++)
        for (int s = 0; s < m; s++) {
            float *restrict plane = dx + (s0 + s) * g->ss + c * g->cs;
            memset(plane, 0, (size_t)hw * sizeof *plane);
            for (int ki = 0; ki < g->k; ki++)
                for (int kj = 0; kj < g->k; kj++) {
                    float *restrict seg =
                        col + ((size_t)(c * g->k + ki) * g->k + kj) * ncols + s * hw;
                    tap t = same_tap(g, ki, kj);
                    long a, b;
                    same_span(g, &t, &a, &b);
                    if (t.zc1 > t.zc0)
                        for (int r = t.r0; r < t.r1; r++)
                            for (int j = t.zc0; j < t.zc1; j++)
                                seg[(long)r * g->w + j] = 0.0f;
                    float *restrict dst = plane + t.off;
                    for (long i = a; i < b; i++)
                        dst[i] += seg[i];
                }
        }
}

/* The sum over taps of col ([C·k·k][m·OH·OW], used as scratch) onto the
 * planes of samples s0 .. s0+m-1 of dx, which it overwrites. */
static void col2im(const geom *g, float *restrict col, float *restrict dx, int s0, int m)
{
    if (is_same(g)) {
        col2im_same(g, col, dx, s0, m);
        return;
    }
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

/* Units a batch of n samples is cut into: a function of n alone. */
static int nunits(int n)
{
    int u = n / UNIT_MIN;
    return u < 1 ? 1 : u > MAX_UNITS ? MAX_UNITS : u;
}

static size_t col_floats(const nnx_layer *L, int max_batch)
{
    const nnx_layer_info *li = &L->info;
    return (size_t)li->in_c * li->kernel * li->kernel * li->out_h * li->out_w
         * (size_t)chunk_samples(L, max_batch);
}

static size_t wgrad_floats(const nnx_layer *L)
{
    return (size_t)L->info.units * L->info.in_c * L->info.kernel * L->info.kernel;
}

size_t nnx_conv_ws_floats(const nnx_layer *L, int max_batch)
{
    if (is_pointwise(L))
        return 0;
    size_t threads = (size_t)(L->threads > 1 ? L->threads : 1);
    return threads * col_floats(L, max_batch)
         + (nunits(max_batch) > 1 ? MAX_UNITS * wgrad_floats(L) : 0);
}

/* What one pass over the units reads and writes. */
typedef struct conv_job {
    nnx_layer *L;
    geom g;
    int n, f, ckk, ohw, ncols, chunk, units;
    const float *x, *dy;
    float *dx;
} conv_job;

static float *thread_col(const conv_job *j, int tid)
{
    return j->L->ws + (size_t)tid * col_floats(j->L, j->L->max_batch);
}

static float *unit_wgrad(const conv_job *j, int u)
{
    if (j->units == 1)
        return j->L->gw;
    return j->L->ws + (size_t)(j->L->threads > 1 ? j->L->threads : 1)
                          * col_floats(j->L, j->L->max_batch)
         + (size_t)u * wgrad_floats(j->L);
}

static void forward_unit(void *p, int u, int tid)
{
    const conv_job *j = p;
    nnx_layer *L = j->L;
    long lo, hi;
    nnx_team_split(j->n, j->units, u, &lo, &hi);
    float *restrict y = L->out;
    const float *b = L->info.bias ? L->w + (size_t)j->f * j->ckk : NULL;
    const float beta = b ? 1.0f : 0.0f;
    float *col = thread_col(j, tid);
    for (long s0 = lo; s0 < hi; s0 += j->chunk) {
        int m = hi - s0 < j->chunk ? (int)(hi - s0) : j->chunk;
        im2col(&j->g, j->x, col, (int)s0, m);
        /* the bias under this chunk's outputs just before the product adds
         * onto them, so they are still in cache when it does */
        for (int i = 0; b && i < j->f; i++) {
            float *restrict row = y + (size_t)i * j->ncols + (size_t)s0 * j->ohw;
            const float v = b[i];
            for (long c = 0; c < (long)m * j->ohw; c++)
                row[c] = v;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->f, m * j->ohw, j->ckk,
                    1.0f, L->w, j->ckk, col, m * j->ohw, beta, y + (size_t)s0 * j->ohw,
                    j->ncols);
    }
}

const float *nnx_conv_forward(nnx_layer *L, const float *x, int n)
{
    conv_job j = {
        .L = L, .g = geometry(L, n), .n = n, .f = L->info.units, .x = x,
    };
    j.ckk = j.g.c * j.g.k * j.g.k;
    j.ohw = j.g.oh * j.g.ow;
    j.ncols = n * j.ohw;
    float *restrict y = L->out;
    if (is_pointwise(L)) {
        float beta = 0.0f;
        if (L->info.bias) {
            const float *b = L->w + (size_t)j.f * j.ckk;
            for (int i = 0; i < j.f; i++) {
                float *restrict row = y + (size_t)i * j.ncols;
                const float v = b[i];
                for (int c = 0; c < j.ncols; c++)
                    row[c] = v;
            }
            beta = 1.0f;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j.f, j.ncols, j.ckk,
                    1.0f, L->w, j.ckk, x, j.ncols, beta, y, j.ncols);
        return y;
    }
    j.chunk = chunk_samples(L, n);
    j.units = nunits(n);
    nnx_team_run(L->team, j.units, forward_unit, &j);
    return y;
}

static void backward_unit(void *p, int u, int tid)
{
    const conv_job *j = p;
    nnx_layer *L = j->L;
    long lo, hi;
    nnx_team_split(j->n, j->units, u, &lo, &hi);
    float *col = thread_col(j, tid), *dw = unit_wgrad(j, u);
    for (long s0 = lo; s0 < hi; s0 += j->chunk) {
        int m = hi - s0 < j->chunk ? (int)(hi - s0) : j->chunk;
        const float *dyc = j->dy + (size_t)s0 * j->ohw;
        im2col(&j->g, L->x, col, (int)s0, m);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->f, j->ckk, m * j->ohw,
                    1.0f, dyc, j->ncols, col, m * j->ohw, s0 > lo ? 1.0f : 0.0f, dw, j->ckk);
        if (!j->dx)
            continue;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, j->ckk, m * j->ohw, j->f,
                    1.0f, L->w, j->ckk, dyc, j->ncols, 0.0f, col, m * j->ohw);
        col2im(&j->g, col, j->dx, (int)s0, m);
    }
}

/* Reduction unit u of the weight gradient: its slice of dW as the sum of the
 * units' partials in unit order, and its filters' bias gradients. */
static void reduce_unit(void *p, int u, int tid)
{
    (void)tid;
    const conv_job *j = p;
    nnx_layer *L = j->L;
    if (j->units > 1) {
        long lo, hi;
        nnx_team_split((long)j->f * j->ckk, MAX_UNITS, u, &lo, &hi);
        float *restrict dw = L->gw;
        const float *restrict first = unit_wgrad(j, 0);
        for (long i = lo; i < hi; i++)
            dw[i] = first[i];
        for (int k = 1; k < j->units; k++) {
            const float *restrict part = unit_wgrad(j, k);
            for (long i = lo; i < hi; i++)
                dw[i] += part[i];
        }
    }
    if (L->info.bias) {
        long lo, hi;
        nnx_team_split(j->f, MAX_UNITS, u, &lo, &hi);
        float *db = L->gw + (size_t)j->f * j->ckk;
        for (long i = lo; i < hi; i++)
            db[i] = (float)nnx_sum_floats(j->dy + (size_t)i * j->ncols, (size_t)j->ncols);
    }
}

const float *nnx_conv_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    conv_job j = {
        .L = L, .g = geometry(L, n), .n = n, .f = L->info.units, .dy = dy, .dx = dx,
    };
    j.ckk = j.g.c * j.g.k * j.g.k;
    j.ohw = j.g.oh * j.g.ow;
    j.ncols = n * j.ohw;
    if (is_pointwise(L)) {
        if (L->info.bias) {
            float *db = L->gw + (size_t)j.f * j.ckk;
            for (int i = 0; i < j.f; i++)
                db[i] = (float)nnx_sum_floats(dy + (size_t)i * j.ncols, (size_t)j.ncols);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j.f, j.ckk, j.ncols,
                    1.0f, dy, j.ncols, L->x, j.ncols, 0.0f, L->gw, j.ckk);
        if (!dx)
            return NULL;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, j.ckk, j.ncols, j.f,
                    1.0f, L->w, j.ckk, dy, j.ncols, 0.0f, dx, j.ncols);
        return dx;
    }
    j.chunk = chunk_samples(L, n);
    j.units = nunits(n);
    nnx_team_run(L->team, j.units, backward_unit, &j);
    nnx_team_run(L->team, MAX_UNITS, reduce_unit, &j);
    return dx;
}
