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

/* The input transforms compute WINO_LANES tiles at a time, past the end of
 * a row of tiles (the input's, wino_inputs) or of a plane's tiles (the
 * output gradient's, wino_grad_tiles): each of the 16 matrices they write
 * has WINO_PAD floats after it for the excess to land in, and each array
 * they read as many for its reads. */
#define WINO_LANES 8
#define WINO_PAD   WINO_LANES

/* Floats from one of V's 16 matrices to the next, for `cin` channels of T
 * tiles. */
static size_t wino_vmat(int cin, size_t T)
{
    return (size_t)cin * T + WINO_PAD;
}

/* A phase array of the input transform: th + 1 rows of tw + 1, and WINO_PAD. */
static size_t wino_phase_floats(int h, int w)
{
    return (size_t)((h + 1) / 2 + 1) * (size_t)((w + 1) / 2 + 1) + WINO_PAD;
}

/* Tiles a transform that runs on past n tiles computes: n rounded up to a
 * multiple of WINO_LANES. */
static int wino_lanes(int n)
{
    return (n + WINO_LANES - 1) / WINO_LANES * WINO_LANES;
}

/* n even elements of pr to ev, n odd ones to od.  split_wide is also called
 * with n rounded up to the vector width, on rows that may run on past their
 * end (the callers say where the excess lands). */
static void split_wide(const float *restrict pr, int n, float *restrict ev, float *restrict od)
{
    for (int k = 0; k < n; k++) {
        ev[k] = pr[2 * k];
        od[k] = pr[2 * k + 1];
    }
}

/* Row pr of w floats apart: its even elements to ev[0 .. (w+1)/2), its odd
 * ones to od[0 .. w/2). */
static void split_row(const float *restrict pr, int w, float *restrict ev, float *restrict od)
{
    split_wide(pr, w / 2, ev, od);
    if (w % 2)
        ev[w / 2] = pr[w - 1];
}

/* An even row's half rounded up to WINO_LANES, for split_wide. */
static int split_lanes(int w)
{
    return wino_lanes(w / 2);
}

/* A thread's scratch beside V and M: for the input transform, a plane's four
 * phase arrays (see wino_inputs); for the output gradient's, four of a
 * plane's th·tw tiles and WINO_PAD; for the output transform, 4 rows of
 * th·tw. */
static size_t wino_scratch_floats(int h, int w)
{
    size_t in = 4 * wino_phase_floats(h, w);
    size_t out = 4 * ((size_t)((h + 1) / 2) * ((w + 1) / 2) + WINO_PAD);
    return in > out ? in : out;
}

/* A thread's V and M (or, for the weight gradient, V and G), each of 16
 * matrices with their padding, then its scratch. */
static size_t wino_thread_floats(const nnx_layer *L, int max_batch)
{
    return 16 * (size_t)(L->info.in_c + L->info.units) * (size_t)wino_tiles(L)
         * (size_t)wino_chunk(L, max_batch)
         + 32 * (size_t)WINO_PAD + wino_scratch_floats(L->info.in_h, L->info.in_w);
}

/* U[ξ][o][i] = (G·g·Gᵀ)[ξ] of the 3×3 kernel joining input channel i to
 * output channel o: forward, W[o][i]; for the input gradient (`back`),
 * W[i][o] turned 180°.  U holds 16 matrices of `out` × `in`. */
static void wino_filters(const float *restrict w, float *restrict U, int out, int in, bool back)
{
    const size_t mat = (size_t)out * in;
    for (int o = 0; o < out; o++)
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

/* V[ξ][c][t] = (Bᵀ·d·B)[ξ] of every 4×4 input tile d of samples s0 ..
 * s0+m-1 (t counts the chunk's tiles, sample by sample, row by row; V's
 * matrices vmat floats apart, wino_vmat).
 *
 * A tile (ty, tx) reads rows 2ty .. 2ty+3 and columns 2tx .. 2tx+3 of the
 * plane inside a zero border of one.  Each plane is first copied into four
 * phase arrays, by the parity of the bordered row and of the bordered
 * column: row r of parity r % 2 is row r / 2 of its arrays, tw + 1 wide, and
 * column 2k + b is element k of the array for b.  A tile's four columns are
 * then elements tx and tx + 1 of the two arrays, and its four rows rows ty
 * and ty + 1 of the two parities, so Bᵀ down the rows and B across the
 * columns are one pass over a row of tiles with unit-stride loads and
 * stores: a pass GCC vectorises, and which runs on to a multiple of
 * WINO_LANES tiles (7 tiles of a 14-wide plane make one vector, not 7
 * scalars).  The excess lands on the next row of tiles, or the next plane's,
 * which are written after it, and after the chunk's last plane in the
 * WINO_PAD floats behind each matrix.  The border cells are zeroed once a
 * call and the copy never writes them. */
static void wino_inputs(const wino_side *sd, int h, int w, int s0, int m, float *restrict V,
                        size_t vmat, float *restrict pd)
{
    const int th = (h + 1) / 2, tw = (w + 1) / 2, P = th * tw;
    const int rs = tw + 1, lanes = wino_lanes(tw);
    const size_t T = (size_t)m * P, len = wino_phase_floats(h, w);
    for (size_t i = 0; i < 4 * len; i++)
        pd[i] = 0.0f;
    /* An even row but the plane's last is split split_lanes(w) wide, running
     * on (when that is at most a bordered row, rs) by one value: onto the
     * odd array's right border, and from the even array's onto the next
     * row's left border, both set to 0 again after the plane; it reads on
     * into the next input row. */
    const int wide = split_lanes(w), rows = (h + 1) / 2 + 1;
    const bool run_on = w % 2 == 0 && wide <= rs && wide <= w;
    /* even bordered rows: even columns, odd; odd rows: even, odd */
    const float *ee = pd, *eo = pd + len, *oe = pd + 2 * len, *oo = pd + 3 * len;
    for (int c = 0; c < sd->cin; c++)
        for (int s = 0; s < m; s++) {
            const float *restrict p = sd->in + (size_t)(s0 + s) * sd->in_ss + (size_t)c * sd->in_cs;
            for (int i = 0; i < h; i++) {           /* bordered row i + 1 */
                float *even = pd + (size_t)(((i + 1) & 1) * 2) * len
                                 + (size_t)((i + 1) >> 1) * rs;
                /* input column j is bordered column j + 1: even input columns
                 * go to the odd array, odd ones to the even array from 1 */
                if (run_on && i < h - 1)
                    split_wide(p + (size_t)i * w, wide, even + len, even + 1);
                else
                    split_row(p + (size_t)i * w, w, even + len, even + 1);
            }
            if (run_on && wide > w / 2)             /* the borders run over */
                for (int r = 0; r < rows; r++) {
                    pd[(size_t)r * rs] = pd[2 * len + (size_t)r * rs] = 0.0f;
                    pd[len + (size_t)r * rs + w / 2] = pd[3 * len + (size_t)r * rs + w / 2] = 0.0f;
                }
            float *restrict v = V + (size_t)c * T + (size_t)s * P;
            for (int ty = 0; ty < th; ty++) {
                const size_t r = (size_t)ty * rs;
                const float *e0 = ee + r, *o0 = eo + r, *e1 = oe + r, *o1 = oo + r;
                const float *e2 = e0 + rs, *o2 = o0 + rs, *e3 = e1 + rs, *o3 = o1 + rs;
                float *restrict q = v + (size_t)ty * tw;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
                for (int tx = 0; tx < lanes; tx++) {
                    /* Bᵀ·d for the tile's column j (rows 2ty .. 2ty+3): x<a><j> */
#define WINO_BT(j, d0, d1, d2, d3)                                               \
                    const float x0##j = (d0) - (d2), x1##j = (d1) + (d2),        \
                                x2##j = (d2) - (d1), x3##j = (d1) - (d3)
                    WINO_BT(0, e0[tx], e1[tx], e2[tx], e3[tx]);
                    WINO_BT(1, o0[tx], o1[tx], o2[tx], o3[tx]);
                    WINO_BT(2, e0[tx + 1], e1[tx + 1], e2[tx + 1], e3[tx + 1]);
                    WINO_BT(3, o0[tx + 1], o1[tx + 1], o2[tx + 1], o3[tx + 1]);
#undef WINO_BT
                    /* (Bᵀ·d)·B for row a: V rows 4a .. 4a+3 */
#define WINO_B(a)                                                                \
                    q[(size_t)(4 * a) * vmat + tx] = x##a##0 - x##a##2;          \
                    q[(size_t)(4 * a + 1) * vmat + tx] = x##a##1 + x##a##2;      \
                    q[(size_t)(4 * a + 2) * vmat + tx] = x##a##2 - x##a##1;      \
                    q[(size_t)(4 * a + 3) * vmat + tx] = x##a##1 - x##a##3
                    WINO_B(0);
                    WINO_B(1);
                    WINO_B(2);
                    WINO_B(3);
#undef WINO_B
                }
            }
        }
}

/* The four outputs of each of a plane's P tiles from its 16 rows of M
 * (tile q at m[ξ·mat + q]): Aᵀ down the tile's rows, A across, plus b0,
 * into y[0..3][q] (top left, top right, bottom left, bottom right). */
static void wino_tile_out(const float *restrict m, size_t mat, int P, float b0,
                          float *restrict y)
{
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
    for (int q = 0; q < P; q++) {
        /* Aᵀ·M for column b: r0<b>, r1<b> */
#define WINO_AT(b)                                                               \
        const float k0##b = m[(size_t)b * mat + q], k1##b = m[(size_t)(4 + b) * mat + q], \
                    k2##b = m[(size_t)(8 + b) * mat + q],                        \
                    k3##b = m[(size_t)(12 + b) * mat + q];                       \
        const float r0##b = k0##b + k1##b + k2##b, r1##b = k1##b - k2##b - k3##b
        WINO_AT(0);
        WINO_AT(1);
        WINO_AT(2);
        WINO_AT(3);
#undef WINO_AT
        y[q] = r00 + r01 + r02 + b0;            /* (Aᵀ·M)·A */
        y[P + q] = r01 - r02 - r03 + b0;
        y[2 * P + q] = r10 + r11 + r12 + b0;
        y[3 * P + q] = r11 - r12 - r13 + b0;
    }
}

/* Every output tile of samples s0 .. s0+m-1 from M[ξ][o][t]: Aᵀ·M·A, plus
 * bias[o] when bias is not NULL, written over the output planes: per plane,
 * its tiles' four outputs in four rows (wino_tile_out), then laid out as
 * 2×2 squares. */
static void wino_outputs(const wino_side *sd, int h, int w, int s0, int m,
                         const float *restrict M, const float *bias, float *restrict y)
{
    const int th = (h + 1) / 2, tw = (w + 1) / 2, P = th * tw;
    const size_t T = (size_t)m * P, mat = (size_t)sd->cout * T;
    for (int o = 0; o < sd->cout; o++) {
        const float b0 = bias ? bias[o] : 0.0f;
        for (int s = 0; s < m; s++) {
            float *restrict p = sd->out + (size_t)(s0 + s) * sd->out_ss + (size_t)o * sd->out_cs;
            wino_tile_out(M + (size_t)o * T + (size_t)s * P, mat, P, b0, y);
            for (int ty = 0; ty < th; ty++)
                for (int a = 0; a < 2 && 2 * ty + a < h; a++) {
                    const float *restrict l = y + (size_t)(2 * a) * P + (size_t)ty * tw,
                                          *restrict rt = l + P;
                    float *restrict d = p + (size_t)(2 * ty + a) * w;
                    for (int tx = 0; tx < w / 2; tx++) {
                        d[2 * tx] = l[tx];
                        d[2 * tx + 1] = rt[tx];
                    }
                    if (w % 2)
                        d[w - 1] = l[tw - 1];
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
 * The 16 rows of A·dY·Aᵀ for the P tiles of one output-gradient plane from
 * its four phase arrays (row parity × column parity, P floats and WINO_PAD
 * each: array 2r + c at q is dY at row 2ty + r, column 2tx + c of tile q =
 * ty·tw + tx), written at v[ξ·mat + q], running on to wino_lanes(P) tiles
 * (the excess lands on the next plane's, written after it, or in the
 * padding behind the matrix). */
static void wino_grad_tile_rows(const float *restrict ph, int P, float *restrict v, size_t mat)
{
    const int len = P + WINO_PAD, lanes = wino_lanes(P);
    const float *d00 = ph, *d01 = d00 + len, *d10 = d01 + len, *d11 = d10 + len;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
    for (int q = 0; q < lanes; q++) {
        /* A·dY: rows a = 0..3 of the tile's two columns */
        const float r00 = d00[q], r01 = d01[q];
        const float r10 = d00[q] + d10[q], r11 = d01[q] + d11[q];
        const float r20 = d00[q] - d10[q], r21 = d01[q] - d11[q];
        const float r30 = -d10[q], r31 = -d11[q];
        /* (A·dY)·Aᵀ for row a: V rows 4a .. 4a+3 */
#define WINO_AT_ROW(a)                                                           \
        v[(size_t)(4 * a) * mat + q] = r##a##0;                                  \
        v[(size_t)(4 * a + 1) * mat + q] = r##a##0 + r##a##1;                    \
        v[(size_t)(4 * a + 2) * mat + q] = r##a##0 - r##a##1;                    \
        v[(size_t)(4 * a + 3) * mat + q] = -r##a##1
        WINO_AT_ROW(0);
        WINO_AT_ROW(1);
        WINO_AT_ROW(2);
        WINO_AT_ROW(3);
#undef WINO_AT_ROW
    }
}

/* G[ξ][o][t] = (A·dY·Aᵀ)[ξ] of every output-gradient tile of samples s0 ..
 * s0+m-1 (planes oh × ow at base + s·ss + o·cs, t ordered as wino_inputs
 * orders V's; G's matrices gmat floats apart, wino_vmat), through the four
 * phase arrays in pd (cells past an odd edge zeroed once a call, never
 * written). */
static void wino_grad_tiles(const float *dy, size_t ss, size_t cs, int f, int h, int w, int s0,
                            int m, float *restrict G, size_t gmat, float *restrict pd)
{
    const int th = (h + 1) / 2, tw = (w + 1) / 2, P = th * tw, len = P + WINO_PAD;
    const size_t T = (size_t)m * P;
    for (size_t i = 0; i < 4 * (size_t)len; i++)
        pd[i] = 0.0f;
    /* On an even plane, a row but the last is split split_lanes(w) wide: the
     * excess lands on the next row of its array, written after it, or (from
     * the last) in WINO_PAD; it reads on into the next input row. */
    const int wide = split_lanes(w);
    const bool run_on = w % 2 == 0 && h % 2 == 0 && wide <= w;
    for (int o = 0; o < f; o++)
        for (int s = 0; s < m; s++) {
            const float *restrict p = dy + (size_t)(s0 + s) * ss + (size_t)o * cs;
            for (int i = 0; i < h; i++) {
                float *c0 = pd + (size_t)(2 * (i & 1)) * len + (size_t)(i >> 1) * tw;
                if (run_on && i < h - 1)
                    split_wide(p + (size_t)i * w, wide, c0, c0 + len);
                else
                    split_row(p + (size_t)i * w, w, c0, c0 + len);
            }
            wino_grad_tile_rows(pd, P, G + (size_t)o * T + (size_t)s * P, gmat);
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
    wino_outputs(sd, h, w, s0, m, M, bias, scratch);
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
        wino_filters(L->w, wino_U(L), j.f, j.g.c, false);
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
                        m, G, gmat, scratch);
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
        nnx_conv_direct_wgrad(L, dy, n, direct_ws(L));
        if (!dx)
            return NULL;
        j.dx_only = true;
        nnx_team_run(L->team, j.units, backward_unit, &j);
        return dx;
    }
    if (dx && is_winograd(L))
        wino_filters(L->w, wino_U(L), j.g.c, j.f, true);
    nnx_team_run(L->team, j.units, backward_unit, &j);
    nnx_team_run(L->team, MAX_UNITS, reduce_unit, &j);
    return dx;
}
