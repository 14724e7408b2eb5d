/* conv_direct.c — a stride-1 convolution with few taps (in channels × k × k
 * at most DIRECT_MAX_TAPS, a first layer on grey or colour images) computed
 * directly, without im2col.
 *
 * Such a layer's im2col matrix has a handful of rows and a column per output
 * pixel: building it copies the input k·k times, and the BLAS runs the
 * product (a few multiply-adds per output) far below its speed.  Here each
 * sample's planes are copied once, zero-padded, into rows of Wp = W + 2·pad,
 * and the output is computed in the same padded-width coordinates: output
 * (oy, ox) sits at q = oy·Wp + ox, and tap (c, ki, kj) reads the padded plane
 * at q + ki·Wp + kj, the same shift for every q.  So a tap is one contiguous
 * multiply-add over the plane, DIRECT_LANES outputs at a time with every tap
 * added while they are in registers; the Wp - OW columns of each row past
 * the output's edge are computed and dropped.
 *
 * The weight gradient is the same shifted products the other way round,
 * dW[f][tap] = Σ over samples and q of dY'[q] · padded[q + shift], dY' the
 * output gradient laid in the padded-width coordinates with zeros in the
 * dropped columns.  A unit is WG_F filters, summing every sample in order
 * (a sample in float lanes, the batch in double), so its bits do not depend
 * on the thread count; the bias gradient comes from the same pass.  The padded planes the forward
 * made are kept for it (the backward of a layer follows its last forward).
 * When the batch norm after the layer makes the weight gradient
 * (wgrad_fused: the layer wants no input gradient), it does so a filter at
 * a time, a sample's plane at a time (nnx_conv_direct_wgrad_begin, _plane,
 * _end), and without ever making dY: the batch norm's backward is
 * dY = a·dZ + b·Y + c per filter, so dW[t] = a·Σ dZ·I_t + b·Σ Y·I_t +
 * c·Σ I_t, I_t the input tap t reads.  Σ dZ·I_t is summed here as dY is
 * above; Σ Y·I_t = Σ_a W[a]·G[a][t] + bias·Σ I_t, from the Gram matrix G of
 * the taps' inputs (G[a][t] = Σ I_a·I_t), which the training forward sums
 * per sample while the padded sample is in L1 (sample_gram) and prepare
 * adds over the batch in sample order.  So the batch norm reads neither Y
 * nor dY in memory; the gradient agrees with the layer's own backward to
 * float rounding, not to the bit.
 *
 * The input gradient, when one is wanted, stays with conv.c (col2im).
 *
 * Workspace (after conv.c's own): the padded planes of max_batch samples,
 * then per thread FWD_F padded-width planes (the forward's outputs, the
 * backward's dY'), then in doubles the forward units' moments (moments)
 * and the Gram records (wgrad_fused).
 */
#include <stdint.h>
#include <string.h>

#include "rt/layer.h"
#include "rt/team.h"

#define DIRECT_MAX_TAPS 27
#define UNIT_SAMPLES    4       /* a forward unit's samples */

/* VL floats as one value, in a register: a GNU C vector (GCC and Clang),
 * of an AVX register's 8 floats where the target has AVX, else SSE's 4 (a
 * wider one would change how such functions pass it); loaded and stored
 * with memcpy, so that any float address will do. */
#if defined(__AVX__)
#define VL 8
#else
#define VL 4
#endif
typedef float vecf __attribute__((vector_size(VL * sizeof(float))));

static inline vecf loadv(const float *p)
{
    vecf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void storev(float *p, vecf v)
{
    memcpy(p, &v, sizeof v);
}

static inline vecf splat(float x)
{
    return (vecf){0} + x;
}

/* The forward computes FWD_F filters at once over FWD_Q vectors of outputs
 * (16 vectors in registers, each input vector loaded once for the four);
 * the weight gradient WG_F filters at once, each against up to WG_T taps
 * (18 sums in registers). */
#define FWD_F 4
#define FWD_Q 4
#define WG_F  2                 /* wgrad_taps's two planes */
#define WG_T  9
#define DIRECT_LANES (FWD_Q * VL)

typedef struct dgeom {
    int c, h, w, k, pad, oh, ow, f;
    int wp;                     /* a padded row */
    size_t plane;               /* floats a padded plane takes (with its slack) */
    size_t qn;                  /* padded-width output floats, to DIRECT_LANES */
} dgeom;

static dgeom dgeometry(const nnx_layer *L)
{
    const nnx_layer_info *li = &L->info;
    dgeom g = {
        .c = li->in_c, .h = li->in_h, .w = li->in_w, .k = li->kernel, .pad = li->pad,
        .oh = li->out_h, .ow = li->out_w, .f = li->units,
    };
    g.wp = g.w + 2 * g.pad;
    size_t q = (size_t)g.oh * g.wp;
    g.qn = (q + DIRECT_LANES - 1) / DIRECT_LANES * DIRECT_LANES;
    /* the last lane block reads up to qn - 1 + (k-1)·Wp + k-1 */
    g.plane = g.qn + (size_t)(g.k - 1) * g.wp + (size_t)g.k;
    return g;
}

/* A pointwise (1×1) convolution and a Winograd one (3×3 from 8 channels or
 * more: 72 taps and up) have their own paths in conv.c; the bounds here
 * leave both out. */
bool nnx_conv_is_direct(const nnx_layer *L)
{
    const nnx_layer_info *li = &L->info;
    return li->stride == 1 && li->kernel > 1
        && li->in_c * li->kernel * li->kernel <= DIRECT_MAX_TAPS
        && li->out_h == li->in_h + 2 * li->pad - li->kernel + 1
        && li->out_w == li->in_w + 2 * li->pad - li->kernel + 1;
}

/* Where each tap (c, ki, kj), in the filter's order, reads: its shift from q. */
static int tap_shifts(const dgeom *g, size_t *shift)
{
    int t = 0;
    for (int c = 0; c < g->c; c++)
        for (int ki = 0; ki < g->k; ki++)
            for (int kj = 0; kj < g->k; kj++)
                shift[t++] = (size_t)c * g->plane + (size_t)ki * g->wp + (size_t)kj;
    return t;
}

/* Groups of WG_T taps a filter's weight gradient sums in. */
#define WG_GROUPS ((DIRECT_MAX_TAPS + WG_T - 1) / WG_T)

/* One filter's weight and bias gradient sums over the batch, in double
 * lanes: what wgrad_unit keeps for each of its filters, and what a batch
 * norm that makes the gradient (wgrad_fused) keeps per thread. */
typedef struct wgrad_sums {
    double taps[WG_GROUPS][WG_T][VL];
    double bias[VL];
} wgrad_sums;

/* A thread's scratch: the forward's FWD_F output planes, or the backward's
 * WG_F planes of dY'; or, for a weight gradient the batch norm after the
 * layer makes, one plane of dY' and its filter's sums (at a double's
 * boundary, one float more). */
static size_t scratch_floats(const dgeom *g)
{
    size_t planes = (size_t)(FWD_F > WG_F ? FWD_F : WG_F) * g->qn;
    size_t fused = g->qn + sizeof(wgrad_sums) / sizeof(float) + 1;
    return planes > fused ? planes : fused;
}

static int forward_units(int n)
{
    return (n + UNIT_SAMPLES - 1) / UNIT_SAMPLES;
}

/* Floats before the moments. */
static size_t moments_off(const nnx_layer *L, const dgeom *g, int max_batch)
{
    size_t threads = (size_t)(L->threads > 1 ? L->threads : 1);
    return (size_t)max_batch * g->c * g->plane + threads * scratch_floats(g);
}

static int ntaps(const dgeom *g)
{
    return g->c * g->k * g->k;
}

/* Doubles of one Gram record (wgrad_fused): the taps' products G[a][t] =
 * Σ_q I_a[q]·I_t[q] and sums s[t] = Σ_q I_t[q] of one sample (or, with the
 * count m in front, of the batch), I_t the input plane tap t reads at each
 * output q. */
static size_t gram_doubles(const dgeom *g)
{
    return (size_t)ntaps(g) * ntaps(g) + ntaps(g);
}

/* Doubles of the forward units' moments (see unit_moments). */
static size_t moments_doubles(const nnx_layer *L, const dgeom *g, int max_batch)
{
    return L->moments ? 3 * (size_t)forward_units(max_batch) * g->f : 0;
}

/* Doubles after the forward's scratch: the units' moments, then (wgrad_fused)
 * each sample's Gram record and the batch's (m, G, s). */
static size_t doubles(const nnx_layer *L, const dgeom *g, int max_batch)
{
    size_t gram = L->wgrad_fused ? ((size_t)max_batch + 1) * gram_doubles(g) + 1 : 0;
    return moments_doubles(L, g, max_batch) + gram;
}

size_t nnx_conv_direct_ws_floats(const nnx_layer *L, int max_batch)
{
    dgeom g = dgeometry(L);
    /* doubles, at the next 8-byte boundary (one float more) */
    size_t d = doubles(L, &g, max_batch);
    return moments_off(L, &g, max_batch) + (d ? 2 * d + 1 : 0);
}

static double *doubles_at(const nnx_layer *L, const float *ws, const dgeom *g)
{
    uintptr_t at = (uintptr_t)(ws + moments_off(L, g, L->max_batch));
    return (double *)(at + (-at & (sizeof(double) - 1)));
}

/* A forward unit's sums of filter f: pivot, Σ(y - pivot), Σ(y - pivot)². */
static double *unit_moments(const nnx_layer *L, const float *ws, const dgeom *g, int u, int f)
{
    return doubles_at(L, ws, g) + 3 * ((size_t)u * g->f + f);
}

/* Sample s's Gram record, or (s = max_batch) the batch's, after its count. */
static double *gram_at(const nnx_layer *L, const float *ws, const dgeom *g, int s)
{
    return doubles_at(L, ws, g) + moments_doubles(L, g, L->max_batch)
         + (size_t)s * gram_doubles(g);
}

static float *padded(float *ws, const dgeom *g, int s)
{
    return ws + (size_t)s * g->c * g->plane;
}

static float *thread_scratch(const nnx_layer *L, float *ws, const dgeom *g, int tid)
{
    return ws + (size_t)L->max_batch * g->c * g->plane + (size_t)tid * scratch_floats(g);
}

typedef struct direct_job {
    nnx_layer *L;
    dgeom g;
    float *ws;
    const float *x, *dy;
    size_t ss, cs;              /* input sample and channel strides */
    int n, units;
} direct_job;

/* Sample s's planes, zero-padded, into its slot. */
static void pad_sample(const direct_job *j, int s)
{
    const dgeom *g = &j->g;
    for (int c = 0; c < g->c; c++) {
        float *restrict p = padded(j->ws, g, s) + (size_t)c * g->plane;
        const float *restrict src = j->x + (size_t)s * j->ss + (size_t)c * j->cs;
        memset(p, 0, g->plane * sizeof *p);
        for (int y = 0; y < g->h; y++)
            nnx_copy_floats(p + (size_t)(y + g->pad) * g->wp + g->pad, src + (size_t)y * g->w,
                            (size_t)g->w);
    }
}

/* FWD_F filters (weights wf[i·taps + t], biases b[i]) over one sample's
 * padded planes: o[i·qn + q] for q < qn.  Sixteen named sums (GCC keeps an
 * array of vectors in memory, not registers). */
#define FWD_ROW(i)                                                             \
    do {                                                                       \
        const vecf w = splat(wf[(i) * taps + t]);                             \
        a##i##0 += w * x0;                                                     \
        a##i##1 += w * x1;                                                     \
        a##i##2 += w * x2;                                                     \
        a##i##3 += w * x3;                                                     \
    } while (0)
#define FWD_INIT(i)                                                            \
    vecf a##i##0 = splat(b[i]), a##i##1 = a##i##0, a##i##2 = a##i##0, a##i##3 = a##i##0
#define FWD_STORE(i)                                                           \
    do {                                                                       \
        float *oi = o + (size_t)(i) * g->qn + q0;                              \
        storev(oi, a##i##0);                                                   \
        storev(oi + VL, a##i##1);                                              \
        storev(oi + 2 * VL, a##i##2);                                          \
        storev(oi + 3 * VL, a##i##3);                                          \
    } while (0)

static void filters_plane(const dgeom *g, const float *pad, const size_t *shift, int taps,
                          const float *wf, const float *b, float *o)
{
    for (size_t q0 = 0; q0 < g->qn; q0 += DIRECT_LANES) {
        FWD_INIT(0);
        FWD_INIT(1);
        FWD_INIT(2);
        FWD_INIT(3);
        for (int t = 0; t < taps; t++) {
            const float *src = pad + shift[t] + q0;
            const vecf x0 = loadv(src), x1 = loadv(src + VL), x2 = loadv(src + 2 * VL),
                       x3 = loadv(src + 3 * VL);
            FWD_ROW(0);
            FWD_ROW(1);
            FWD_ROW(2);
            FWD_ROW(3);
        }
        FWD_STORE(0);
        FWD_STORE(1);
        FWD_STORE(2);
        FWD_STORE(3);
    }
}

/* Copy one output plane (padded-width o) to y, and, when m is not NULL,
 * add it to a unit's sums m of its filter as it goes (the first plane,
 * `first`, sets the pivot: its first value): a plane's sums in float lanes,
 * added into the doubles. */
static void plane_out(const dgeom *g, const float *restrict o, float *restrict y, bool first,
                      double *m)
{
    if (!m) {
        for (int oy = 0; oy < g->oh; oy++)
            nnx_copy_floats(y + (size_t)oy * g->ow, o + (size_t)oy * g->wp, (size_t)g->ow);
        return;
    }
    if (first)
        m[0] = o[0], m[1] = m[2] = 0;
    const float k = (float)m[0];
    const vecf kv = splat(k);
    vecf a = splat(0.0f), b = a;
    float ta = 0, tb = 0;
    for (int oy = 0; oy < g->oh; oy++) {
        const float *restrict row = o + (size_t)oy * g->wp;
        float *restrict yr = y + (size_t)oy * g->ow;
        int x = 0;
        for (; x + VL <= g->ow; x += VL) {
            const vecf v = loadv(row + x);
            storev(yr + x, v);
            const vecf d = v - kv;
            a += d;
            b += d * d;
        }
        for (; x < g->ow; x++) {
            yr[x] = row[x];
            const float d = row[x] - k;
            ta += d;
            tb += d * d;
        }
    }
    double s1 = ta, s2 = tb;
    for (int l = 0; l < VL; l++) {
        s1 += a[l];
        s2 += b[l];
    }
    m[1] += s1;
    m[2] += s2;
}

static void sample_gram(const dgeom *g, const float *pad, const size_t *shift, float *u,
                        double *rec);

static void forward_unit(void *p, int u, int tid)
{
    const direct_job *j = p;
    const nnx_layer *L = j->L;
    const dgeom *g = &j->g;
    const int ohw = g->oh * g->ow;
    const size_t ncols = (size_t)j->n * ohw;
    size_t shift[DIRECT_MAX_TAPS];
    const int taps = tap_shifts(g, shift);
    const float *bias = L->info.bias ? L->w + (size_t)g->f * taps : NULL;
    float *o = thread_scratch(L, j->ws, g, tid);
    const bool sums = L->moments && L->train;
    long lo, hi;
    nnx_team_split(j->n, j->units, u, &lo, &hi);
    for (long s = lo; s < hi; s++) {
        pad_sample(j, (int)s);
        if (L->wgrad_fused && L->train)
            sample_gram(g, padded(j->ws, g, (int)s), shift, o, gram_at(L, j->ws, g, (int)s));
    }
    for (int f0 = 0; f0 < g->f; f0 += FWD_F) {     /* a group's weights set up once */
        const int nf = g->f - f0 < FWD_F ? g->f - f0 : FWD_F;
        float wf[FWD_F * DIRECT_MAX_TAPS] = {0}, b[FWD_F] = {0};
        memcpy(wf, L->w + (size_t)f0 * taps, (size_t)nf * taps * sizeof *wf);
        for (int i = 0; bias && i < nf; i++)
            b[i] = bias[f0 + i];
        for (long s = lo; s < hi; s++) {
            filters_plane(g, padded(j->ws, g, (int)s), shift, taps, wf, b, o);
            for (int i = 0; i < nf; i++) {
                plane_out(g, o + (size_t)i * g->qn,
                          L->out + (size_t)(f0 + i) * ncols + (size_t)s * ohw, s == lo,
                          sums ? unit_moments(L, j->ws, g, u, f0 + i) : NULL);
            }
        }
    }
}

void nnx_conv_direct_forward(nnx_layer *L, const float *x, int n, size_t ss, size_t cs,
                             float *ws)
{
    direct_job j = {.L = L, .g = dgeometry(L), .ws = ws, .x = x, .ss = ss, .cs = cs, .n = n};
    j.units = forward_units(n);
    nnx_team_run(L->team, j.units, forward_unit, &j);
}

/* The units' sums merged in unit order (Chan et al.'s pairwise update of
 * the count, mean and sum of squared deviations), so the numbers depend on
 * the batch alone. */
void nnx_conv_direct_moments(const nnx_layer *L, int n, const float *ws, int c0, int c1,
                             float *mean, float *var)
{
    const dgeom g = dgeometry(L);
    const int units = forward_units(n), ohw = g.oh * g.ow;
    for (int f = c0; f < c1; f++) {
        double cnt = 0, mu = 0, m2 = 0;
        for (int u = 0; u < units; u++) {
            long lo, hi;
            nnx_team_split(n, units, u, &lo, &hi);
            const double *m = unit_moments(L, ws, &g, u, f);
            const double nb = (double)(hi - lo) * ohw;
            const double mb = m[0] + m[1] / nb, m2b = m[2] - m[1] * m[1] / nb;
            const double d = mb - mu, tot = cnt + nb;
            mu += d * nb / tot;
            m2 += m2b + d * d * cnt * nb / tot;
            cnt = tot;
        }
        mean[f] = (float)mu;
        var[f] = (float)(m2 > 0 ? m2 / cnt : 0);
    }
}

/* Σ over q < qn of d_i[q] · src_t[q] for WG_F = 2 planes of dY' (d, qn
 * apart) and WG_T = 9 taps (src + shift[t]; a group of fewer taps repeats
 * shift 0 and drops those sums), added to sum[i][t] lane by lane.  Eighteen
 * named sums, as in filters_plane. */
#define WG_TAP(t)                                                              \
    do {                                                                       \
        const vecf x = loadv(src + sh[t] + q);                                 \
        s0##t += d0 * x;                                                       \
        s1##t += d1 * x;                                                       \
    } while (0)
#define WG_ADD(i, t)                                                           \
    do {                                                                       \
        for (int l = 0; l < VL; l++)                                           \
            sum##i[t][l] += s##i##t[l];                                        \
    } while (0)

static void wgrad_taps(const dgeom *g, const float *d, const float *src, const size_t *shift,
                       int nt, double sum0[WG_T][VL], double sum1[WG_T][VL])
{
    size_t sh[WG_T];
    for (int t = 0; t < WG_T; t++)
        sh[t] = t < nt ? shift[t] : 0;
    const vecf z = splat(0.0f);
    vecf s00 = z, s01 = z, s02 = z, s03 = z, s04 = z, s05 = z, s06 = z, s07 = z, s08 = z;
    vecf s10 = z, s11 = z, s12 = z, s13 = z, s14 = z, s15 = z, s16 = z, s17 = z, s18 = z;
    const float *d1p = d + g->qn;
    for (size_t q = 0; q < g->qn; q += VL) {
        const vecf d0 = loadv(d + q), d1 = loadv(d1p + q);
        WG_TAP(0);
        WG_TAP(1);
        WG_TAP(2);
        WG_TAP(3);
        WG_TAP(4);
        WG_TAP(5);
        WG_TAP(6);
        WG_TAP(7);
        WG_TAP(8);
    }
    WG_ADD(0, 0); WG_ADD(0, 1); WG_ADD(0, 2); WG_ADD(0, 3); WG_ADD(0, 4);
    WG_ADD(0, 5); WG_ADD(0, 6); WG_ADD(0, 7); WG_ADD(0, 8);
    WG_ADD(1, 0); WG_ADD(1, 1); WG_ADD(1, 2); WG_ADD(1, 3); WG_ADD(1, 4);
    WG_ADD(1, 5); WG_ADD(1, 6); WG_ADD(1, 7); WG_ADD(1, 8);
}

/* A sum's lanes added, in lane order. */
static double lanes(const double v[VL])
{
    double s = 0;
    for (int l = 0; l < VL; l++)
        s += v[l];
    return s;
}

/* Tap t's sum in a filter's sums. */
static double tap_sum(const wgrad_sums *sums, int t)
{
    return lanes(sums->taps[t / WG_T][t % WG_T]);
}

/* Filter f's weight and bias gradients from its sums. */
static void wgrad_write(nnx_layer *L, const dgeom *g, int taps, int f, const wgrad_sums *sums)
{
    float *dw = L->gw + (size_t)f * taps;
    for (int t = 0; t < taps; t++)
        dw[t] = (float)tap_sum(sums, t);
    if (L->info.bias)
        L->gw[(size_t)g->f * taps + f] = (float)lanes(sums->bias);
}

/* An output-gradient plane (oh × ow at dy) into d in padded-width rows (the
 * dropped columns stay as they are: 0). */
static void dy_padded(const dgeom *g, const float *restrict dy, float *restrict d)
{
    for (int oy = 0; oy < g->oh; oy++)
        nnx_copy_floats(d + (size_t)oy * g->wp, dy + (size_t)oy * g->ow, (size_t)g->ow);
}

/* A padded-width plane of dY' summed in float lanes, added into bias. */
static void bias_add(const dgeom *g, const float *d, double bias[VL])
{
    vecf b = splat(0.0f);
    for (size_t q = 0; q < g->qn; q += VL)
        b += loadv(d + q);
    for (int l = 0; l < VL; l++)
        bias[l] += b[l];
}

/* Filters [u·WG_F, +WG_F)'s weight and bias gradients over the batch: each
 * sample's sums in float lanes, added into the batch's in double. */
static void wgrad_unit(void *p, int u, int tid)
{
    const direct_job *j = p;
    nnx_layer *L = j->L;
    const dgeom *g = &j->g;
    const int ohw = g->oh * g->ow, f0 = u * WG_F;
    const int nf = g->f - f0 < WG_F ? g->f - f0 : WG_F;
    const size_t ncols = (size_t)j->n * ohw;
    size_t shift[DIRECT_MAX_TAPS];
    const int taps = tap_shifts(g, shift);
    wgrad_sums sums[WG_F];
    memset(sums, 0, sizeof sums);
    float *restrict d = thread_scratch(L, j->ws, g, tid);
    memset(d, 0, WG_F * g->qn * sizeof *d);         /* dropped columns, missing filters: 0 */
    for (int s = 0; s < j->n; s++) {
        for (int i = 0; i < nf; i++)
            dy_padded(g, j->dy + (size_t)(f0 + i) * ncols + (size_t)s * ohw,
                      d + (size_t)i * g->qn);
        const float *pad = padded(j->ws, g, s);
        for (int t0 = 0; t0 < taps; t0 += WG_T)
            wgrad_taps(g, d, pad, shift + t0, taps - t0 < WG_T ? taps - t0 : WG_T,
                       sums[0].taps[t0 / WG_T], sums[1].taps[t0 / WG_T]);
        for (int i = 0; i < nf; i++)
            bias_add(g, d + (size_t)i * g->qn, sums[i].bias);
    }
    for (int i = 0; i < nf; i++)
        wgrad_write(L, g, taps, f0 + i, &sums[i]);
}

/* wgrad_taps for one plane of dY' (the layer's weight gradient made a
 * filter at a time by the batch norm after it): each filter's sums are the
 * same floats either way. */
#define WG1_TAP(t)                                                             \
    do {                                                                       \
        s##t += d0 * loadv(src + sh[t] + q);                                   \
    } while (0)
#define WG1_ADD(t)                                                             \
    do {                                                                       \
        for (int l = 0; l < VL; l++)                                           \
            sum[t][l] += s##t[l];                                              \
    } while (0)

static void wgrad_taps1(const dgeom *g, const float *d, const float *src, const size_t *shift,
                        int nt, double sum[WG_T][VL])
{
    size_t sh[WG_T];
    for (int t = 0; t < WG_T; t++)
        sh[t] = t < nt ? shift[t] : 0;
    const vecf z = splat(0.0f);
    vecf s0 = z, s1 = z, s2 = z, s3 = z, s4 = z, s5 = z, s6 = z, s7 = z, s8 = z;
    for (size_t q = 0; q < g->qn; q += VL) {
        const vecf d0 = loadv(d + q);
        WG1_TAP(0);
        WG1_TAP(1);
        WG1_TAP(2);
        WG1_TAP(3);
        WG1_TAP(4);
        WG1_TAP(5);
        WG1_TAP(6);
        WG1_TAP(7);
        WG1_TAP(8);
    }
    WG1_ADD(0); WG1_ADD(1); WG1_ADD(2); WG1_ADD(3); WG1_ADD(4);
    WG1_ADD(5); WG1_ADD(6); WG1_ADD(7); WG1_ADD(8);
}

/* Sample pad's Gram record (see gram_doubles) into rec: taps a and a + 1
 * at a time, their inputs I_a laid in padded-width rows in u's two planes
 * (the dropped columns 0) and summed against every tap's input as
 * wgrad_taps sums two planes of dY'. */
static void sample_gram(const dgeom *g, const float *pad, const size_t *shift, float *u,
                        double *rec)
{
    const int taps = ntaps(g);
    memset(u, 0, WG_F * g->qn * sizeof *u);
    for (int a = 0; a < taps; a += WG_F) {      /* taps a and a + 1 as wgrad's two planes */
        const int na = taps - a < WG_F ? taps - a : WG_F;
        for (int i = 0; i < WG_F; i++) {        /* a lone last tap read twice */
            const size_t sh = shift[a + (i < na ? i : 0)];
            for (int oy = 0; oy < g->oh; oy++)
                nnx_copy_floats(u + i * g->qn + (size_t)oy * g->wp, pad + sh + (size_t)oy * g->wp,
                                (size_t)g->ow);
        }
        wgrad_sums acc[WG_F];
        memset(acc, 0, sizeof acc);
        for (int t0 = 0; t0 < taps; t0 += WG_T)
            wgrad_taps(g, u, pad, shift + t0, taps - t0 < WG_T ? taps - t0 : WG_T,
                       acc[0].taps[t0 / WG_T], acc[1].taps[t0 / WG_T]);
        for (int i = 0; i < na; i++) {
            bias_add(g, u + i * g->qn, acc[i].bias);
            for (int t = 0; t < taps; t++)
                rec[(size_t)(a + i) * taps + t] = tap_sum(&acc[i], t);
            rec[(size_t)taps * taps + a + i] = lanes(acc[i].bias);
        }
    }
}

void nnx_conv_direct_wgrad_prepare(const nnx_layer *L, float *ws, int n)
{
    const dgeom g = dgeometry(L);
    const size_t len = gram_doubles(&g);
    double *batch = gram_at(L, ws, &g, L->max_batch);
    memset(batch, 0, (len + 1) * sizeof *batch);
    if (!L->train)              /* no Gram records; a backward after an evaluation
                                   forward has no b and c terms (norm.c) */
        return;
    batch[0] = (double)n * g.oh * g.ow;
    for (int s = 0; s < n; s++) {
        const double *rec = gram_at(L, ws, &g, s);
        for (size_t i = 0; i < len; i++)
            batch[1 + i] += rec[i];
    }
}

/* The thread's plane of dY' and sums, for the fused weight gradient. */
static wgrad_sums *fused_sums(const nnx_layer *L, float *ws, const dgeom *g, int tid,
                              float **d)
{
    *d = thread_scratch(L, ws, g, tid);
    uintptr_t at = (uintptr_t)(*d + g->qn);
    return (wgrad_sums *)(at + (-at & (sizeof(double) - 1)));
}

void nnx_conv_direct_wgrad_begin(const nnx_layer *L, float *ws, int tid)
{
    const dgeom g = dgeometry(L);
    float *d;
    wgrad_sums *sums = fused_sums(L, ws, &g, tid, &d);
    memset(d, 0, g.qn * sizeof *d);             /* dropped columns: 0 */
    memset(sums, 0, sizeof *sums);
}

/* Sample s's plane of the filter's output gradient (oh × ow at dy) into the
 * thread's sums: what wgrad_unit adds for the sample, in the same order. */
void nnx_conv_direct_wgrad_plane(const nnx_layer *L, float *ws, int s, const float *dy,
                                 int tid)
{
    const dgeom g = dgeometry(L);
    size_t shift[DIRECT_MAX_TAPS];
    const int taps = tap_shifts(&g, shift);
    float *d;
    wgrad_sums *sums = fused_sums(L, ws, &g, tid, &d);
    dy_padded(&g, dy, d);
    const float *pad = padded(ws, &g, s);
    for (int t0 = 0; t0 < taps; t0 += WG_T)
        wgrad_taps1(&g, d, pad, shift + t0, taps - t0 < WG_T ? taps - t0 : WG_T,
                    sums->taps[t0 / WG_T]);
    bias_add(&g, d, sums->bias);
}

void nnx_conv_direct_wgrad_end(nnx_layer *L, float *ws, int f, int tid, double a, double b,
                               double c)
{
    const dgeom g = dgeometry(L);
    const int taps = ntaps(&g);
    float *d;
    const wgrad_sums *sums = fused_sums(L, ws, &g, tid, &d);
    const double *batch = gram_at(L, ws, &g, L->max_batch);
    const double m = batch[0], *G = batch + 1, *s = G + (size_t)taps * taps;
    const float *w = L->w + (size_t)f * taps;
    const double bias = L->info.bias ? L->w[(size_t)g.f * taps + f] : 0.0;
    /* Σ x·I_t = Σ_a w[a]·G[a][t] + bias·s[t], and Σ x = Σ_a w[a]·s[a] + bias·m */
    float *dw = L->gw + (size_t)f * taps;
    double sx = bias * m;
    for (int t = 0; t < taps; t++) {
        double xi = bias * s[t];
        for (int i = 0; i < taps; i++)
            xi += w[i] * G[(size_t)i * taps + t];
        dw[t] = (float)(a * tap_sum(sums, t) + b * xi + c * s[t]);
        sx += w[t] * s[t];
    }
    if (L->info.bias)
        L->gw[(size_t)g.f * taps + f] = (float)(a * lanes(sums->bias) + b * sx + c * m);
}

void nnx_conv_direct_wgrad(nnx_layer *L, const float *dy, int n, float *ws)
{
    direct_job j = {.L = L, .g = dgeometry(L), .ws = ws, .dy = dy, .n = n};
    nnx_team_run(L->team, (j.g.f + WG_F - 1) / WG_F, wgrad_unit, &j);
}
