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
 * Winograd.  A 3×3, stride-1, pad-1 convolution between layers of at least
 * WINO_MIN_CHANNELS channels each way computes its output, and its input
 * gradient (the same kind of convolution, filters turned 180° and their two
 * channel axes swapped), as Winograd's F(2×2, 3×3): each 4×4 input tile (a
 * 2×2 output tile and its border) is transformed to V = Bᵀ·d·B, each filter
 * to U = G·g·Gᵀ, the 16 positions of the tiles multiplied as 16 products
 * M[ξ] = U[ξ]·V[ξ] (cblas_sgemm, out channels × in channels times in
 * channels × tiles of a chunk of samples), and each tile of M turned back
 * by Aᵀ·M·A: 16 multiply-adds per 2×2 outputs and channel instead of 36.
 * Its results differ from im2col's by rounding (transforms of 0.5 and ±1;
 * tests/unit/test_net.c holds it to a direct convolution within 1e-5 of
 * the output's scale).  The weight gradient goes through the same tiles
 * (see wino_wgrad_taps): each unit sums dU = (A·dY·Aᵀ)·Vᵀ over its tiles
 * in 16 products, and the reduction turns the units' sum into dW = Gᵀ·dU·G.
 *
 * Workspace (nnx_conv_ws_floats): one column matrix per thread (none for
 * Winograd), then (when a batch can have more than one unit, or for
 * Winograd) MAX_UNITS partial gradients of F·C·k·k floats (Winograd: dU's
 * 16·F·C); then, for Winograd, the 16 transformed filter matrices and per
 * thread a chunk's V and M.
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

/* --- Winograd F(2×2, 3×3) ------------------------------------------------ */

#define WINO_MIN_CHANNELS 8
#define WINO_CHUNK_BYTES  (2048 * 1024)   /* V and M of a chunk, per thread */

static bool is_winograd(const nnx_layer *L)
{
    const nnx_layer_info *li = &L->info;
    return li->kernel == 3 && li->stride == 1 && li->pad == 1
        && li->in_c >= WINO_MIN_CHANNELS && li->units >= WINO_MIN_CHANNELS;
}

/* 2×2 output tiles of a plane (the last row and column of tiles may hang
 * over an odd edge). */
static int wino_tiles(const nnx_layer *L)
{
    return ((L->info.out_h + 1) / 2) * ((L->info.out_w + 1) / 2);
}

/* Samples per Winograd chunk: V and M (16 × (C + F) × tiles each) near
 * WINO_CHUNK_BYTES. */
static int wino_chunk(const nnx_layer *L, int max_batch)
{
    size_t per = 16 * (size_t)(L->info.in_c + L->info.units) * (size_t)wino_tiles(L)
               * sizeof(float);
    size_t m = WINO_CHUNK_BYTES / per;
    if (m < 1)
        m = 1;
    return m < (size_t)max_batch ? (int)m : max_batch;
}

/* The transforms compute WINO_LANES tiles at a time, past the end of a row
 * of tiles: each of the 16 matrices the input transforms (wino_inputs,
 * wino_grad_tiles) write has WINO_PAD floats after it for the excess of its
 * last row to land in. */
#define WINO_LANES 8
#define WINO_PAD   WINO_LANES

/* Floats from one of V's 16 matrices to the next, for `cin` channels of T
 * tiles. */
static size_t wino_vmat(int cin, size_t T)
{
    return (size_t)cin * T + WINO_PAD;
}

/* Tiles a transform that runs on past n tiles computes: n rounded up to a
 * multiple of WINO_LANES. */
static int wino_lanes(int n)
{
    return (n + WINO_LANES - 1) / WINO_LANES * WINO_LANES;
}

/* Floats from one row of the input transform's bordered copy of a plane to
 * the next (wino_inputs): the plane's row with a zero column each side, and
 * as many more as the last block of WINO_LANES tiles reads (2 + 2·lanes). */
static size_t wino_row_floats(int w)
{
    return 2 * (size_t)wino_lanes((w + 1) / 2) + 2;
}

/* The bordered copy: 2·th + 2 rows (a zero row above, one or two below),
 * and a vector's worth behind them for the copy's run-on zeroing. */
static size_t wino_bordered_floats(int h, int w)
{
    return (size_t)(2 * ((h + 1) / 2) + 2) * wino_row_floats(w) + WINO_LANES;
}

/* A thread's V and M (or, for the weight gradient, V and G), each of 16
 * matrices with their padding, then the input transform's bordered copy. */
static size_t wino_thread_floats(const nnx_layer *L, int max_batch)
{
    return 16 * (size_t)(L->info.in_c + L->info.units) * (size_t)wino_tiles(L)
         * (size_t)wino_chunk(L, max_batch)
         + 32 * (size_t)WINO_PAD + wino_bordered_floats(L->info.in_h, L->info.in_w);
}

/* U[ξ][o][i] = (G·g·Gᵀ)[ξ] of the 3×3 kernel joining input channel i to
 * output channel o: forward, W[o][i]; for the input gradient (`back`),
 * W[i][o] turned 180°.  U holds 16 matrices of `out` × `in`. */
static void wino_filters(const float *restrict w, float *restrict U, int out, int in, bool back,
                         long o0, long o1)
{
    const size_t mat = (size_t)out * in;
    for (int o = (int)o0; o < (int)o1; o++)
        for (int i = 0; i < in; i++) {
            const float *k = back ? w + ((size_t)i * out + o) * 9 : w + ((size_t)o * in + i) * 9;
            float g[9];
            for (int t = 0; t < 9; t++)
                g[t] = back ? k[8 - t] : k[t];
            float r[4][3];                           /* G·g */
            for (int c = 0; c < 3; c++) {
                r[0][c] = g[c];
                r[1][c] = 0.5f * (g[c] + g[3 + c] + g[6 + c]);
                r[2][c] = 0.5f * (g[c] - g[3 + c] + g[6 + c]);
                r[3][c] = g[6 + c];
            }
            for (int a = 0; a < 4; a++) {            /* (G·g)·Gᵀ */
                float u[4] = {
                    r[a][0], 0.5f * (r[a][0] + r[a][1] + r[a][2]),
                    0.5f * (r[a][0] - r[a][1] + r[a][2]), r[a][2],
                };
                for (int b = 0; b < 4; b++)
                    U[(size_t)(a * 4 + b) * mat + (size_t)o * in + i] = u[b];
            }
        }
}

/* Planes of one side of a Winograd convolution: plane (sample s, channel c)
 * at base + s·ss + c·cs, each h × w. */
typedef struct wino_side {
    const float *in;
    float *out;
    size_t in_ss, in_cs, out_ss, out_cs;
    int cin, cout;
} wino_side;

/* WINO_LANES floats as one value, in a register: a GNU C vector (GCC 12 and
 * Clang have __builtin_shufflevector), loaded and stored with memcpy, so
 * that any float address will do, and passed by address (by value, a
 * vector wider than the target's registers would change how functions
 * pass it). */
typedef float wino_vec __attribute__((vector_size(WINO_LANES * sizeof(float))));
_Static_assert(WINO_LANES == 8, "the transforms' shuffles pick from 8-float vectors");

static inline void wino_load(wino_vec *v, const float *p)
{
    memcpy(v, p, sizeof *v);
}

#define WINO_STORE(p, value)                                                     \
    do {                                                                         \
        const wino_vec wino_v_ = (value);                                        \
        memcpy((p), &wino_v_, sizeof wino_v_);                                   \
    } while (0)

/* Columns 2l + b (b = 0 .. 3) of a bordered row r for the block's
 * WINO_LANES tiles l: the even and odd elements of r[0 .. 16) and of
 * r[2 .. 18). */
static inline void wino_row_taps(const float *r, wino_vec col[4])
{
    wino_vec lo, hi, lo2, hi2;
    wino_load(&lo, r);
    wino_load(&hi, r + 8);
    wino_load(&lo2, r + 2);
    wino_load(&hi2, r + 10);
    col[0] = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
    col[1] = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
    col[2] = __builtin_shufflevector(lo2, hi2, 0, 2, 4, 6, 8, 10, 12, 14);
    col[3] = __builtin_shufflevector(lo2, hi2, 1, 3, 5, 7, 9, 11, 13, 15);
}

/* V[ξ][c][t] = (Bᵀ·d·B)[ξ] of every 4×4 input tile d of samples s0 ..
 * s0+m-1 (t counts the chunk's tiles, sample by sample, row by row; V's
 * matrices vmat floats apart, wino_vmat).
 *
 * A tile (ty, tx) reads rows 2ty .. 2ty+3 and columns 2tx .. 2tx+3 of the
 * plane inside a zero border of one.  Each plane is first copied into pd
 * with that border (rows wino_row_floats apart; the border and the columns
 * past it are zeroed once a call, and the copy leaves them zero).  Then, for
 * a block of WINO_LANES tiles of a row of tiles, column b of every tile of
 * the block in a bordered row is one vector: the row's elements 2tx + b,
 * made by shuffles from four loads (wino_row_taps).  A bordered row serves
 * two rows of tiles, so each is read once, and Bᵀ down the rows and B
 * across the columns are 32 vector additions and 16 stores per block.  The
 * last block of a row of tiles runs on past the row's end (7 tiles of a
 * 14-wide plane make one vector, not 7 scalars): the excess lands on the
 * next row of tiles, or the next plane's, which are written after it (the
 * blocks go from last to first, so a row's first block, written last,
 * overwrites what the row before ran on to), and after the chunk's last
 * plane in the WINO_PAD floats behind each matrix.  Each sum is the one the
 * transform's formula makes, in the same order, whatever the vector width. */
static void wino_inputs(const wino_side *sd, int h, int w, int s0, int m, float *restrict V,
                        size_t vmat, float *restrict pd)
{
    const int th = (h + 1) / 2, tw = (w + 1) / 2, P = th * tw;
    const int blocks = wino_lanes(tw) / WINO_LANES;
    const size_t T = (size_t)m * P, rs = wino_row_floats(w);
    for (size_t i = 0; i < wino_bordered_floats(h, w); i++)
        pd[i] = 0.0f;
    /* A row but the plane's last is copied in whole vectors, wv floats,
     * reading on into the next row, when that holds them; what lands past
     * the row's end is zeroed again by a vector of zeros, which runs on
     * into the next bordered row's left border and first columns: the next
     * row's copy writes those after it. */
    const int wv = (w + WINO_LANES - 1) / WINO_LANES * WINO_LANES;
    const bool run_on = wv - w <= w;
    const wino_vec zero = {0};
    for (int c = 0; c < sd->cin; c++)
        for (int s = 0; s < m; s++) {
            const float *restrict p = sd->in + (size_t)(s0 + s) * sd->in_ss + (size_t)c * sd->in_cs;
            for (int i = 0; i < h; i++) {
                float *restrict d = pd + (size_t)(i + 1) * rs + 1;
                const float *restrict src = p + (size_t)i * w;
                if (run_on && i < h - 1) {
                    for (int j = 0; j < wv; j += WINO_LANES)
                        memcpy(d + j, src + j, sizeof(wino_vec));
                    memcpy(d + w, &zero, sizeof zero);
                } else {
                    for (int j = 0; j < w; j++)
                        d[j] = src[j];
                }
            }
            float *restrict v = V + (size_t)c * T + (size_t)s * P;
            for (int b = blocks - 1; b >= 0; b--) {
                const float *r = pd + (size_t)(2 * WINO_LANES * b);
                float *restrict q = v + (size_t)(WINO_LANES * b);
                wino_vec d0[4], d1[4], d2[4], d3[4];     /* rows 2ty .. 2ty+3 */
                wino_row_taps(r, d0);
                wino_row_taps(r + rs, d1);
                for (int ty = 0; ty < th; ty++, q += tw) {
                    wino_row_taps(r + (size_t)(2 * ty + 2) * rs, d2);
                    wino_row_taps(r + (size_t)(2 * ty + 3) * rs, d3);
                    /* Bᵀ·d for the tiles' column j: x<a><j> */
#define WINO_BT(j)                                                               \
                    const wino_vec x0##j = d0[j] - d2[j], x1##j = d1[j] + d2[j], \
                                   x2##j = d2[j] - d1[j], x3##j = d1[j] - d3[j]
                    WINO_BT(0);
                    WINO_BT(1);
                    WINO_BT(2);
                    WINO_BT(3);
#undef WINO_BT
                    /* (Bᵀ·d)·B for row a: V rows 4a .. 4a+3 */
#define WINO_B(a)                                                                \
                    WINO_STORE(q + (size_t)(4 * a) * vmat, x##a##0 - x##a##2);     \
                    WINO_STORE(q + (size_t)(4 * a + 1) * vmat, x##a##1 + x##a##2); \
                    WINO_STORE(q + (size_t)(4 * a + 2) * vmat, x##a##2 - x##a##1); \
                    WINO_STORE(q + (size_t)(4 * a + 3) * vmat, x##a##1 - x##a##3)
                    WINO_B(0);
                    WINO_B(1);
                    WINO_B(2);
                    WINO_B(3);
#undef WINO_B
                    memcpy(d0, d2, sizeof d0);
                    memcpy(d1, d3, sizeof d1);
                }
            }
        }
}

/* Every output tile of samples s0 .. s0+m-1 from M[ξ][o][t]: Aᵀ·M·A, plus
 * bias[o] when bias is not NULL, written over the output planes.  For a
 * block of WINO_LANES tiles of a row of tiles, Aᵀ down the tiles' rows and
 * A across make the tiles' four outputs as four vectors, which shuffles
 * interleave into the two output rows.  A row's last block runs on past
 * the row's end onto rows of the plane written after it (the blocks go from
 * last to first); a store that would run on past the plane's end goes
 * through a copy that writes the row's floats only. */
static void wino_outputs(const wino_side *sd, int h, int w, int s0, int m,
                         const float *restrict M, const float *bias)
{
    const int th = (h + 1) / 2, tw = (w + 1) / 2, P = th * tw;
    const int blocks = wino_lanes(tw) / WINO_LANES;
    const size_t T = (size_t)m * P, mat = (size_t)sd->cout * T;
    const long plane = (long)h * w;
    for (int o = 0; o < sd->cout; o++) {
        const wino_vec b0 = (wino_vec){0} + (bias ? bias[o] : 0.0f);
        for (int s = 0; s < m; s++) {
            float *restrict p = sd->out + (size_t)(s0 + s) * sd->out_ss + (size_t)o * sd->out_cs;
            const float *mo = M + (size_t)o * T + (size_t)s * P;
            for (int ty = 0; ty < th; ty++)
                for (int b = blocks - 1; b >= 0; b--) {
                    const float *mt = mo + (size_t)ty * tw + (size_t)(WINO_LANES * b);
                    wino_vec k[16];                 /* the tiles' M, position by position */
                    for (int x = 0; x < 16; x++)
                        wino_load(&k[x], mt + (size_t)x * mat);
                    /* Aᵀ·M for column j: r0<j>, r1<j> */
#define WINO_AT(j)                                                               \
                    const wino_vec r0##j = k[j] + k[4 + j] + k[8 + j],           \
                                   r1##j = k[4 + j] - k[8 + j] - k[12 + j]
                    WINO_AT(0);
                    WINO_AT(1);
                    WINO_AT(2);
                    WINO_AT(3);
#undef WINO_AT
                    /* (Aᵀ·M)·A: the tiles' left and right outputs of rows 0, 1 */
                    const wino_vec y[2][2] = {
                        {r00 + r01 + r02 + b0, r01 - r02 - r03 + b0},
                        {r10 + r11 + r12 + b0, r11 - r12 - r13 + b0},
                    };
                    for (int a = 0; a < 2 && 2 * ty + a < h; a++) {
                        const wino_vec lo = __builtin_shufflevector(y[a][0], y[a][1], 0, 8, 1,
                                                                    9, 2, 10, 3, 11);
                        const wino_vec hi = __builtin_shufflevector(y[a][0], y[a][1], 4, 12, 5,
                                                                    13, 6, 14, 7, 15);
                        const long at = (long)(2 * ty + a) * w + 2L * WINO_LANES * b;
                        if (at + 2 * WINO_LANES <= plane) {
                            WINO_STORE(p + at, lo);
                            WINO_STORE(p + at + WINO_LANES, hi);
                        } else {
                            float row[2 * WINO_LANES];
                            WINO_STORE(row, lo);
                            WINO_STORE(row + WINO_LANES, hi);
                            for (long j = 0; j < 2 * WINO_LANES && at + j < plane; j++)
                                p[at + j] = row[j];
                        }
                    }
                }
        }
    }
}

/* The weight gradient by Winograd.  With M_t = Σ_i U[i] ⊙ V_t[i] and each
 * output tile Y_t = Aᵀ·M_t·A, the gradient of a tile's M is A·dY_t·Aᵀ
 * (dY_t its 2×2 output gradients, 0 where the tile hangs over an odd edge),
 * so dU[ξ][o][i] = Σ_t (A·dY_t[o]·Aᵀ)[ξ] · V_t[i][ξ], 16 products of F × tiles
 * times tiles × C, and dW[o][i] = Gᵀ·dU[o][i]·G.
 *
 * The tiles of the output gradient are its plane cut into 2×2 squares: for
 * a block of WINO_LANES tiles of a row of tiles, dY's even and odd columns
 * of the tiles' two rows are four vectors, made by shuffles from loads of
 * the rows. */

/* Elements 2l and 2l + 1 of r[0 .. 2·WINO_LANES) (lanes past `n` of them
 * zero, n >= 1): the even and odd columns of a block of tiles. */
static inline void wino_grad_cols(const float *r, int n, wino_vec *ev, wino_vec *od)
{
    wino_vec lo, hi;
    if (n >= 2 * WINO_LANES) {
        wino_load(&lo, r);
        wino_load(&hi, r + WINO_LANES);
    } else {
        float row[2 * WINO_LANES] = {0};
        memcpy(row, r, (size_t)n * sizeof *r);
        wino_load(&lo, row);
        wino_load(&hi, row + WINO_LANES);
    }
    *ev = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
    *od = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
}

/* G[ξ][o][t] = (A·dY·Aᵀ)[ξ] of every output-gradient tile of samples s0 ..
 * s0+m-1 (planes h × w at dy + s·ss + o·cs, t ordered as wino_inputs
 * orders V's; G's matrices gmat floats apart, wino_vmat).  A block reads
 * 2·WINO_LANES floats of a row: on past the row's end (its excess tiles
 * land as wino_inputs' do) where the row's floats are followed by more of
 * the plane and the row's width is even; else only the row's floats, the
 * rest zero (the cells past an odd edge are 0 in dY's tiles). */
static void wino_grad_tiles(const float *dy, size_t ss, size_t cs, int f, int h, int w, int s0,
                            int m, float *restrict G, size_t gmat)
{
    const int th = (h + 1) / 2, tw = (w + 1) / 2, P = th * tw;
    const int blocks = wino_lanes(tw) / WINO_LANES;
    const size_t T = (size_t)m * P;
    const long plane = (long)h * w;
    const wino_vec zero = {0};
    for (int o = 0; o < f; o++)
        for (int s = 0; s < m; s++) {
            const float *restrict p = dy + (size_t)(s0 + s) * ss + (size_t)o * cs;
            float *restrict v = G + (size_t)o * T + (size_t)s * P;
            for (int b = blocks - 1; b >= 0; b--)
                for (int ty = 0; ty < th; ty++) {
                    wino_vec d[2][2];               /* rows 2ty, 2ty+1: even, odd columns */
                    for (int a = 0; a < 2; a++) {
                        const long at = (long)(2 * ty + a) * w + 2L * WINO_LANES * b;
                        const int n = w - 2 * WINO_LANES * b;
                        if (2 * ty + a >= h)
                            d[a][0] = d[a][1] = zero;
                        else if (w % 2 == 0 && at + 2 * WINO_LANES <= plane)
                            wino_grad_cols(p + at, 2 * WINO_LANES, &d[a][0], &d[a][1]);
                        else
                            wino_grad_cols(p + at, n < 2 * WINO_LANES ? n : 2 * WINO_LANES,
                                           &d[a][0], &d[a][1]);
                    }
                    /* A·dY: rows a = 0..3 of the tiles' two columns */
                    const wino_vec r00 = d[0][0], r01 = d[0][1];
                    const wino_vec r10 = d[0][0] + d[1][0], r11 = d[0][1] + d[1][1];
                    const wino_vec r20 = d[0][0] - d[1][0], r21 = d[0][1] - d[1][1];
                    const wino_vec r30 = -d[1][0], r31 = -d[1][1];
                    float *restrict q = v + (size_t)ty * tw + (size_t)(WINO_LANES * b);
                    /* (A·dY)·Aᵀ for row a: G rows 4a .. 4a+3 */
#define WINO_AT_ROW(a)                                                           \
                    WINO_STORE(q + (size_t)(4 * a) * gmat, r##a##0);             \
                    WINO_STORE(q + (size_t)(4 * a + 1) * gmat, r##a##0 + r##a##1); \
                    WINO_STORE(q + (size_t)(4 * a + 2) * gmat, r##a##0 - r##a##1); \
                    WINO_STORE(q + (size_t)(4 * a + 3) * gmat, -r##a##1)
                    WINO_AT_ROW(0);
                    WINO_AT_ROW(1);
                    WINO_AT_ROW(2);
                    WINO_AT_ROW(3);
#undef WINO_AT_ROW
                }
        }
}

/* dW[o][i] (3×3, at dw + (o·in + i)·9) = Gᵀ·dU·G of the 4×4 dU[ξ][o][i] =
 * the sum over `parts` partials, each 16 matrices of out × in. */
static void wino_wgrad_taps(const float *const *part, int parts, int out, int in, long lo,
                            long hi, float *restrict dw)
{
    const size_t mat = (size_t)out * in;
    for (long k = lo; k < hi; k++) {            /* k = o·in + i */
        float u[16];
        for (int x = 0; x < 16; x++) {
            float sum = part[0][(size_t)x * mat + (size_t)k];
            for (int p = 1; p < parts; p++)
                sum += part[p][(size_t)x * mat + (size_t)k];
            u[x] = sum;
        }
        float r[3][4];                          /* Gᵀ·dU */
        for (int b = 0; b < 4; b++) {
            r[0][b] = u[b] + 0.5f * (u[4 + b] + u[8 + b]);
            r[1][b] = 0.5f * (u[4 + b] - u[8 + b]);
            r[2][b] = 0.5f * (u[4 + b] + u[8 + b]) + u[12 + b];
        }
        float *restrict g = dw + (size_t)k * 9;
        for (int a = 0; a < 3; a++) {           /* (Gᵀ·dU)·G */
            g[3 * a] = r[a][0] + 0.5f * (r[a][1] + r[a][2]);
            g[3 * a + 1] = 0.5f * (r[a][1] - r[a][2]);
            g[3 * a + 2] = 0.5f * (r[a][1] + r[a][2]) + r[a][3];
        }
    }
}

/* Samples s0 .. s0+m-1 of one side through the 16 products, in the
 * thread's V and M. */
static void wino_chunk_run(const wino_side *sd, const float *U, int h, int w, int s0, int m,
                           float *V, const float *bias)
{
    const size_t T = (size_t)m * ((h + 1) / 2) * ((w + 1) / 2), vmat = wino_vmat(sd->cin, T);
    float *M = V + 16 * vmat;
    float *scratch = M + 16 * (size_t)sd->cout * T;
    wino_inputs(sd, h, w, s0, m, V, vmat, scratch);
    for (int x = 0; x < 16; x++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, sd->cout, (int)T, sd->cin,
                    1.0f, U + (size_t)x * sd->cout * sd->cin, sd->cin,
                    V + (size_t)x * vmat, (int)T, 0.0f, M + (size_t)x * sd->cout * T,
                    (int)T);
    wino_outputs(sd, h, w, s0, m, M, bias);
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

/* A Winograd layer makes no column matrix: its weight gradient too goes
 * through the transforms. */
static size_t col_floats(const nnx_layer *L, int max_batch)
{
    const nnx_layer_info *li = &L->info;
    if (is_winograd(L))
        return 0;
    return (size_t)li->in_c * li->kernel * li->kernel * li->out_h * li->out_w
         * (size_t)chunk_samples(L, max_batch);
}

/* A unit's partial weight gradient: dW itself, or for Winograd the 16
 * matrices of dU (wino_wgrad_taps). */
static size_t wgrad_floats(const nnx_layer *L)
{
    size_t fc = (size_t)L->info.units * L->info.in_c;
    return is_winograd(L) ? 16 * fc : fc * L->info.kernel * L->info.kernel;
}

/* Partial gradients the workspace holds: one per unit, unless a batch is
 * always one unit whose dW goes straight into the gradient, or the layer
 * is direct (conv_direct.c makes its dW). */
static size_t partials(const nnx_layer *L, int max_batch)
{
    if (is_winograd(L))
        return MAX_UNITS;
    return nunits(max_batch) > 1 && !nnx_conv_is_direct(L) ? MAX_UNITS : 0;
}

/* conv.c's own workspace: the column matrices, partials and Winograd's. */
static size_t own_ws_floats(const nnx_layer *L, int max_batch)
{
    size_t threads = (size_t)(L->threads > 1 ? L->threads : 1);
    return threads * col_floats(L, max_batch)
         + partials(L, max_batch) * wgrad_floats(L)
         + (is_winograd(L) ? 16 * (size_t)L->info.units * L->info.in_c
                             + threads * wino_thread_floats(L, max_batch) : 0);
}

size_t nnx_conv_ws_floats(const nnx_layer *L, int max_batch)
{
    if (is_pointwise(L))
        return 0;
    return own_ws_floats(L, max_batch)
         + (nnx_conv_is_direct(L) ? nnx_conv_direct_ws_floats(L, max_batch) : 0);
}

static float *direct_ws(const nnx_layer *L)
{
    return L->ws + own_ws_floats(L, L->max_batch);
}

void nnx_conv_batch_moments(const nnx_layer *L, int n, int c0, int c1, float *mean, float *var)
{
    nnx_conv_direct_moments(L, n, direct_ws(L), c0, c1, mean, var);
}

void nnx_conv_wgrad_prepare(const nnx_layer *L, int n)
{
    nnx_conv_direct_wgrad_prepare(L, direct_ws(L), n);
}

void nnx_conv_wgrad_begin(const nnx_layer *L, int tid)
{
    nnx_conv_direct_wgrad_begin(L, direct_ws(L), tid);
}

void nnx_conv_wgrad_plane(const nnx_layer *L, int s, const float *dy, int tid)
{
    nnx_conv_direct_wgrad_plane(L, direct_ws(L), s, dy, tid);
}

void nnx_conv_wgrad_end(nnx_layer *L, int f, int tid, double a, double b, double c)
{
    nnx_conv_direct_wgrad_end(L, direct_ws(L), f, tid, a, b, c);
}

/* What one pass over the units reads and writes. */
typedef struct conv_job {
    nnx_layer *L;
    geom g;
    int n, f, ckk, ohw, ncols, chunk, units;
    bool dx_only;                   /* backward: the weight gradient is done */
    const float *x, *dy;
    float *dx;
} conv_job;

static float *thread_col(const conv_job *j, int tid)
{
    return j->L->ws + (size_t)tid * col_floats(j->L, j->L->max_batch);
}

static float *unit_wgrad(const conv_job *j, int u)
{
    if (j->units == 1 && !is_winograd(j->L))      /* dW straight into the gradient */
        return j->L->gw;
    return j->L->ws + (size_t)(j->L->threads > 1 ? j->L->threads : 1)
                          * col_floats(j->L, j->L->max_batch)
         + (size_t)u * wgrad_floats(j->L);
}

/* Winograd's transformed filters, then each thread's V and M. */
static float *wino_U(const nnx_layer *L)
{
    size_t threads = (size_t)(L->threads > 1 ? L->threads : 1);
    return L->ws + threads * col_floats(L, L->max_batch)
         + partials(L, L->max_batch) * wgrad_floats(L);
}

static float *wino_thread(const nnx_layer *L, int tid)
{
    return wino_U(L) + 16 * (size_t)L->info.units * L->info.in_c
         + (size_t)tid * wino_thread_floats(L, L->max_batch);
}

/* Forward (or, `back`, the input gradient) of a unit's samples by Winograd,
 * chunk by chunk. */
static void wino_unit(const conv_job *j, int u, int tid, bool back)
{
    const nnx_layer *L = j->L;
    long lo, hi;
    nnx_team_split(j->n, j->units, u, &lo, &hi);
    const size_t yss = (size_t)j->ohw, ycs = (size_t)j->ncols;     /* CNHW */
    wino_side sd = back
        ? (wino_side){.in = j->dy, .out = j->dx, .in_ss = yss, .in_cs = ycs,
                      .out_ss = j->g.ss, .out_cs = j->g.cs, .cin = j->f, .cout = j->g.c}
        : (wino_side){.in = j->x, .out = L->out, .in_ss = j->g.ss, .in_cs = j->g.cs,
                      .out_ss = yss, .out_cs = ycs, .cin = j->g.c, .cout = j->f};
    const float *bias = !back && L->info.bias ? L->w + (size_t)j->f * j->ckk : NULL;
    const int chunk = wino_chunk(L, L->max_batch);
    float *V = wino_thread(L, tid);
    for (long s0 = lo; s0 < hi; s0 += chunk) {
        int m = hi - s0 < chunk ? (int)(hi - s0) : chunk;
        wino_chunk_run(&sd, wino_U(L), j->g.h, j->g.w, (int)s0, m, V, bias);
    }
}

/* wino_filters over units of output channels on the layer's threads (the
 * same floats: each U entry is one filter's). */
typedef struct filters_job {
    const nnx_layer *L;
    int out, in, units;
    bool back;
} filters_job;

static void filters_unit(void *p, int u, int tid)
{
    (void)tid;
    const filters_job *j = p;
    long lo, hi;
    nnx_team_split(j->out, j->units, u, &lo, &hi);
    wino_filters(j->L->w, wino_U(j->L), j->out, j->in, j->back, lo, hi);
}

static void wino_filters_on_team(const nnx_layer *L, int out, int in, bool back)
{
    filters_job j = {.L = L, .out = out, .in = in, .units = out < MAX_UNITS ? out : MAX_UNITS,
                     .back = back};
    nnx_team_run(L->team, j.units, filters_unit, &j);
}

static void forward_unit(void *p, int u, int tid)
{
    const conv_job *j = p;
    nnx_layer *L = j->L;
    if (is_winograd(L)) {
        wino_unit(j, u, tid, false);
        return;
    }
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
    if (nnx_conv_is_direct(L)) {
        nnx_conv_direct_forward(L, x, n, j.g.ss, j.g.cs, direct_ws(L));
        return y;
    }
    j.chunk = chunk_samples(L, n);
    j.units = nunits(n);
    if (is_winograd(L))
        wino_filters_on_team(L, j.f, j.g.c, false);
    nnx_team_run(L->team, j.units, forward_unit, &j);
    return y;
}

/* The dU partial of samples [lo, hi) by Winograd, chunk by chunk in the
 * thread's V (the input's tiles) and M (the output gradient's). */
static void wino_wgrad_unit(const conv_job *j, long lo, long hi, int tid, float *dU)
{
    const nnx_layer *L = j->L;
    const wino_side sd = {.in = L->x, .in_ss = j->g.ss, .in_cs = j->g.cs, .cin = j->g.c};
    const int chunk = wino_chunk(L, L->max_batch), c = j->g.c, f = j->f;
    const int P = ((j->g.oh + 1) / 2) * ((j->g.ow + 1) / 2);
    float *V = wino_thread(L, tid);
    for (long s0 = lo; s0 < hi; s0 += chunk) {
        int m = hi - s0 < chunk ? (int)(hi - s0) : chunk;
        const size_t T = (size_t)m * P, vmat = wino_vmat(c, T);
        const size_t gmat = wino_vmat(f, T);
        float *G = V + 16 * vmat, *scratch = G + 16 * gmat;
        wino_inputs(&sd, j->g.h, j->g.w, (int)s0, m, V, vmat, scratch);
        wino_grad_tiles(j->dy, (size_t)j->ohw, (size_t)j->ncols, f, j->g.oh, j->g.ow, (int)s0,
                        m, G, gmat);
        for (int x = 0; x < 16; x++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, f, c, (int)T, 1.0f,
                        G + (size_t)x * gmat, (int)T, V + (size_t)x * vmat, (int)T,
                        s0 > lo ? 1.0f : 0.0f, dU + (size_t)x * f * c, c);
    }
}

static void backward_unit(void *p, int u, int tid)
{
    const conv_job *j = p;
    nnx_layer *L = j->L;
    long lo, hi;
    nnx_team_split(j->n, j->units, u, &lo, &hi);
    float *dw = unit_wgrad(j, u);
    if (is_winograd(L)) {
        wino_wgrad_unit(j, lo, hi, tid, dw);
        if (j->dx)
            wino_unit(j, u, tid, true);
        return;
    }
    float *col = thread_col(j, tid);
    for (long s0 = lo; s0 < hi; s0 += j->chunk) {
        int m = hi - s0 < j->chunk ? (int)(hi - s0) : j->chunk;
        const float *dyc = j->dy + (size_t)s0 * j->ohw;
        if (!j->dx_only) {
            im2col(&j->g, L->x, col, (int)s0, m);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->f, j->ckk, m * j->ohw,
                        1.0f, dyc, j->ncols, col, m * j->ohw, s0 > lo ? 1.0f : 0.0f, dw,
                        j->ckk);
        }
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
    if (is_winograd(L)) {
        long lo, hi;
        nnx_team_split((long)j->f * j->g.c, MAX_UNITS, u, &lo, &hi);
        const float *part[MAX_UNITS];
        for (int k = 0; k < j->units; k++)
            part[k] = unit_wgrad(j, k);
        wino_wgrad_taps(part, j->units, j->f, j->g.c, lo, hi, L->gw);
    } else if (j->units > 1) {
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
    if (nnx_conv_is_direct(L)) {
        if (L->wgrad_fused)         /* the batch norm's backward made it */
            return NULL;
        nnx_conv_direct_wgrad(L, dy, n, direct_ws(L));
        if (!dx)
            return NULL;
        j.dx_only = true;
        nnx_team_run(L->team, j.units, backward_unit, &j);
        return dx;
    }
    if (dx && is_winograd(L))
        wino_filters_on_team(L, j.g.c, j.f, true);
    nnx_team_run(L->team, j.units, backward_unit, &j);
    nnx_team_run(L->team, MAX_UNITS, reduce_unit, &j);
    return dx;
}
