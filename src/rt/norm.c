/* norm.c — batch normalisation per feature (flat input) or per channel
 * (C×H×W input), with PyTorch's training and evaluation rules.
 *
 * Train: y = γ·(x - μ_B)/√(σ²_B + eps) + β with the batch mean and biased
 * batch variance; then running = (1-m)·running + m·batch, using the unbiased
 * variance for the running one.  Eval: μ and σ² are the running statistics.
 *
 * Workspace (L->ws, see nnx_batchnorm_ws_floats): mean[C] and inv_std[C]
 * used by the last forward, scale[C] and shift[C] (y = x·scale + shift;
 * backward reuses them and coef[C] for dx = scale·dy + shift·x + coef), then
 * two double accumulators[C] for the sums, then (fused only) three tiles
 * per thread (a plane each; flat, a unit's rows), then (fused and flat) a
 * batch of d(loss)/d(normalised) for when there is no dx to hold it, or
 * (fused over planes, L->wgrad_fused, under a pool of winners) x at the
 * pool's winners, which the training forward keeps for the backward.
 *
 * Threads.  Every channel (feature, on a flat input) is computed on its own,
 * start to finish, so a pass is one job of the net's team (team.h) over
 * units of channels; a unit's numbers do not depend on which thread runs it
 * or how many there are.  Fused on a flat input, the elementwise part (the
 * activation, and its derivative) is a pass of its own over units of rows,
 * each a contiguous block the activation takes in one call; the sums then
 * run over units of features as before, in the same order.
 *
 * Fused with the activation after it (L->fused, set by compile): forward
 * writes act(x·scale + shift) straight into the activation layer's output, a
 * plane or a unit's rows at a time through a tile, so the normalised tensor
 * never goes to memory, and pools each plane at once when a pool follows (L->pools);
 * backward gets d(loss)/d(act output), recomputes the normalised values a
 * tile at a time and takes the activation's derivative on the way (after a
 * max pool whose windows do not overlap, it gets d(loss)/d(pool output)
 * instead, so the input-sized gradient of the pool, mostly zeros, is never
 * written or read, and takes the derivative at the pool's winners alone).
 * Sums use 16 float lanes per plane (which GCC vectorises) added into doubles per
 * channel; the variance is taken around the channel's first value, so a
 * large mean does not cancel it away.  After a direct convolution (L->moments)
 * the training forward skips that pass over its input: the convolution
 * summed each unit of samples around its own first value as it wrote them.
 * When that convolution is the net's first layer with parameters and the
 * input's gradient is not wanted (L->wgrad_fused), backward goes a channel
 * at a time in one pass: each plane's d(loss)/d(normalised) goes from a
 * tile to the convolution (nnx_conv_wgrad_plane) as the channel's sums are
 * taken, and then the coefficients of dx = scale·dz + shift·x + coef
 * (nnx_conv_wgrad_end), from which the convolution makes its weight
 * gradient (conv_direct.c): the batch's d(loss)/d(x), which only that
 * weight gradient would read, is never made, and x is read only at the
 * pool's winners, which the forward kept.
 */
#include <math.h>
#include <string.h>

#include "rt/layer.h"

#define LANES 16

/* Σ (p[i] - k) and Σ (p[i] - k)² over len floats. */
static void plane_moments(const float *restrict p, size_t len, float k, double *s1, double *s2)
{
    float a[LANES] = {0}, b[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= len; i += LANES)
        for (int j = 0; j < LANES; j++) {
            float d = p[i + j] - k;
            a[j] += d;
            b[j] += d * d;
        }
    double t1 = 0, t2 = 0;
    for (; i < len; i++) {
        float d = p[i] - k;
        t1 += d;
        t2 += (double)d * d;
    }
    for (int j = 0; j < LANES; j++) {
        t1 += a[j];
        t2 += b[j];
    }
    *s1 += t1;
    *s2 += t2;
}

/* Σ dy and Σ dy·(x - mean) over len floats. */
static void plane_grad_sums(const float *restrict dy, const float *restrict x, size_t len,
                            float mean, double *sdy, double *sdyx)
{
    float a[LANES] = {0}, b[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= len; i += LANES)
        for (int j = 0; j < LANES; j++) {
            a[j] += dy[i + j];
            b[j] += dy[i + j] * (x[i + j] - mean);
        }
    double t1 = 0, t2 = 0;
    for (; i < len; i++) {
        t1 += dy[i];
        t2 += (double)dy[i] * (x[i] - mean);
    }
    for (int j = 0; j < LANES; j++) {
        t1 += a[j];
        t2 += b[j];
    }
    *sdy += t1;
    *sdyx += t2;
}

typedef struct bn_view {
    int c, hw;
    size_t ss, cs;                /* sample and channel strides */
    bool flat;                    /* NCHW with hw == 1: rows of features */
    float *mean, *inv_std, *scale, *shift, *coef;
    double *acc1, *acc2;
    float *tiles;                 /* fused: per thread, z, dz and the pool's dy,
                                     `tile` each */
    size_t tile;                  /* a unit's rows (flat) or one plane */
    float *dbuf;                  /* fused, flat: d(loss)/d(normalised) of the
                                     batch when there is no dx to hold it */
    float *xwin;                  /* wgrad_fused under a winners pool: x at the
                                     pool's winners, a plane's after another */
} bn_view;

#define MAX_UNITS 16

/* Rows a flat, fused layer's tile holds: what a unit of rows gets at most
 * when there are MAX_UNITS (a unit with more, on one thread, takes its rows
 * a tile at a time; see forward_rows_unit). */
static size_t tile_rows(int max_batch)
{
    return max_batch > MAX_UNITS ? (size_t)(max_batch + MAX_UNITS - 1) / MAX_UNITS : 1;
}

/* The floats of one output plane of pool P: its winners in one input plane. */
static size_t pool_plane(const nnx_layer *P)
{
    return (size_t)P->info.out_h * (size_t)P->info.out_w;
}

/* The max pool after a fused batch norm over planes (tile: a plane) whose
 * backward the batch norm takes at the pool's winners alone, their values
 * packed four arrays to a tile (winners_grad), or NULL. */
static const nnx_layer *winners_pool(const nnx_layer *L, size_t tile)
{
    const nnx_layer *P = L + 2;
    if (!L->pools || !nnx_pool_grad_fused(P))
        return NULL;
    return 4 * pool_plane(P) <= tile ? P : NULL;
}

/* Floats of the x values at the winners the training forward keeps for a
 * wgrad_fused backward (a winners pool's output size). */
static size_t xwin_floats(const nnx_layer *L, int max_batch, size_t hw)
{
    const nnx_layer *P = L->wgrad_fused && L->fused ? winners_pool(L, hw) : NULL;
    return P ? (size_t)max_batch * (size_t)P->out_size : 0;
}

/* Where plane p's x at the winners of pool P is kept (v->xwin set). */
static float *winners_x(const bn_view *v, const nnx_layer *P, size_t p)
{
    return v->xwin + p * pool_plane(P);
}

size_t nnx_batchnorm_ws_floats(const nnx_layer *L, int max_batch)
{
    size_t c = (size_t)L->info.in_c, hw = (size_t)L->info.in_h * L->info.in_w;
    bool flat = L->in_layout == NNX_NCHW && hw == 1;
    size_t tile = flat ? tile_rows(max_batch) * c : hw;
    size_t threads = (size_t)(L->threads > 1 ? L->threads : 1);
    if (!L->fused)
        return 10 * c;
    return 10 * c + 3 * tile * threads + (flat ? (size_t)max_batch * c : 0)
         + (flat ? 0 : xwin_floats(L, max_batch, hw));
}

static bn_view view(nnx_layer *L, int n)
{
    bn_view v;
    v.c = L->info.in_c;
    v.hw = L->info.in_h * L->info.in_w;
    v.ss = nnx_sample_stride(L->in_layout, n, v.c, v.hw);
    v.cs = nnx_chan_stride(L->in_layout, n, v.c, v.hw);
    v.flat = L->in_layout == NNX_NCHW && v.hw == 1;
    v.mean = L->ws;
    v.inv_std = L->ws + v.c;
    v.scale = L->ws + 2 * v.c;
    v.shift = L->ws + 3 * v.c;
    v.coef = L->ws + 4 * v.c;
    v.acc1 = (double *)(void *)(L->ws + 6 * v.c);   /* 8-byte aligned */
    v.acc2 = v.acc1 + v.c;
    v.tile = v.flat ? tile_rows(L->max_batch) * (size_t)v.c : (size_t)v.hw;
    v.tiles = L->fused ? L->ws + 10 * v.c : NULL;
    size_t threads = (size_t)(L->threads > 1 ? L->threads : 1);
    v.dbuf = L->fused && v.flat ? v.tiles + 3 * v.tile * threads : NULL;
    v.xwin = !v.flat && xwin_floats(L, L->max_batch, (size_t)v.hw)
           ? v.tiles + 3 * v.tile * threads : NULL;
    return v;
}

/* One pass over units of channels (or, flat and fused, of rows). */
typedef struct bn_job {
    nnx_layer *L;
    bn_view v;
    int n, units;
    const float *x, *dy;
    float *dx;
    float *d;                     /* flat, fused backward: where the rows pass
                                     leaves d(loss)/d(normalised) */
    bool train;
} bn_job;

/* A flat batch norm of fewer values than this runs its passes on the
 * calling thread: each pass is a few microseconds of work there, less than
 * handing it to the net's other threads and waiting for them costs (the
 * MLP's two layers, 128 rows of 256 and of 128 features, took 0.08 and
 * 0.06 ms a step on two threads, 0.07 and 0.04 on one).  A feature's numbers
 * do not depend on the units, so neither do the results. */
#define FLAT_SERIAL (1 << 16)

static bool flat_serial(const bn_view *v, int n)
{
    return v->flat && (size_t)n * (size_t)v->c < FLAT_SERIAL;
}

/* The backward over planes takes a unit per channel (up to BACK_UNITS): its
 * first pass leaves a channel's d(loss)/d(normalised) in dx and its second
 * scales it there, and one channel's planes of x and dx stay in L2 between
 * the two where two channels' did not (the bench CNN's first batch norm,
 * 128 samples of 28×28: 400 KB each).  Forward, a unit's channels run on
 * from one to the next in a pool's sample-major output, so there are fewer. */
#define BACK_UNITS 256

static int nunits(const bn_view *v, int n, bool backward)
{
    if (flat_serial(v, n))
        return 1;
    const int most = backward && !v->flat ? BACK_UNITS : MAX_UNITS;
    return v->c < most ? v->c : most;
}

static void unit_channels(const bn_job *j, int u, int *c0, int *c1)
{
    long lo, hi;
    nnx_team_split(j->v.c, j->units, u, &lo, &hi);
    *c0 = (int)lo;
    *c1 = (int)hi;
}

/* Batch mean and biased variance of channels [c0, c1) into v->mean and
 * v->inv_std (as variance). */
static void batch_moments(const bn_view *v, const float *restrict x, int n, int c0, int c1)
{
    double *restrict s1 = v->acc1, *restrict s2 = v->acc2;
    float *restrict shift = v->shift;             /* reused for the pivots k */
    for (int ch = c0; ch < c1; ch++)
        s1[ch] = s2[ch] = 0;
    if (v->flat) {
        const int c = v->c;
        for (int f = c0; f < c1; f++)
            shift[f] = x[f];
        for (int r = 0; r < n; r++) {
            const float *restrict row = x + (size_t)r * c;
            for (int f = c0; f < c1; f++) {
                float d = row[f] - shift[f];
                s1[f] += d;
                s2[f] += (double)d * d;
            }
        }
    } else {
        for (int ch = c0; ch < c1; ch++) {
            shift[ch] = x[ch * v->cs];
            for (int s = 0; s < n; s++)
                plane_moments(x + s * v->ss + ch * v->cs, (size_t)v->hw, shift[ch],
                              &s1[ch], &s2[ch]);
        }
    }
    const double m = (double)n * v->hw;
    for (int ch = c0; ch < c1; ch++) {
        double d = s1[ch] / m;
        double var = s2[ch] / m - d * d;
        v->mean[ch] = (float)(shift[ch] + d);
        v->inv_std[ch] = (float)(var > 0 ? var : 0);
    }
}

/* scale = γ/σ and shift = β - μ·scale of channels [c0, c1). */
static void affine(const bn_view *v, const float *gamma, const float *beta, int c0, int c1)
{
    for (int ch = c0; ch < c1; ch++) {
        v->scale[ch] = gamma[ch] * v->inv_std[ch];
        v->shift[ch] = beta[ch] - v->mean[ch] * v->scale[ch];
    }
}

/* z = x·a + b over one plane of len floats. */
static void normalise_plane(const float *restrict x, float *restrict z, int len, float a, float b)
{
    for (int i = 0; i < len; i++)
        z[i] = x[i] * a + b;
}

/* y = act(x·scale + shift) of channels [c0, c1) of C×H×W planes into the
 * activation layer's output (L + 1), or, unstored, into the second of
 * thread tid's tiles, through the first. */
static void forward_fused(const nnx_layer *L, const bn_view *v, const float *restrict x, int n,
                          int c0, int c1, int tid)
{
    const nnx_layer *A = L + 1;
    float *restrict z = v->tiles + 3 * v->tile * (size_t)tid;
    const float *restrict shift = v->shift, *restrict scale = v->scale;
    const nnx_layer *P = L->pools ? L + 2 : NULL;
    /* Planes channel by channel, or, when the pool writes its output
     * sample-major (before a flatten), sample by sample, so that its writes
     * run on from one plane to the next instead of jumping a sample apart. */
    const bool by_sample = P && P->out_layout != P->in_layout;
    const int outer = by_sample ? n : c1 - c0, inner = by_sample ? c1 - c0 : n;
    /* a backward that makes the convolution's weight gradient reads x at
     * the winners alone: kept here, while the plane is in L1 */
    const size_t won = P ? pool_plane(P) : 0;
    const bool keep = L->train && v->xwin;
    for (int a = 0; a < outer; a++)
        for (int b = 0; b < inner; b++) {
            const int s = by_sample ? a : b, ch = c0 + (by_sample ? b : a);
            size_t off = s * v->ss + ch * v->cs, p = off / (size_t)v->hw;
            float *y = A->unstored ? z + v->tile : A->out + off;
            normalise_plane(x + off, z, v->hw, scale[ch], shift[ch]);
            nnx_act_apply(A, z, y, nnx_act_kept(A, L->train, off), (size_t)v->hw);
            if (!P)
                continue;
            nnx_pool_planes(P, y, p, p + 1, n);     /* plane p of the pool's input */
            if (keep) {
                const int32_t *restrict arg = nnx_pool_args(P, p);
                const float *restrict xp = x + off;
                float *restrict xw = winners_x(v, P, p);
                for (size_t i = 0; i < won; i++)
                    xw[i] = xp[arg[i]];
            }
        }
}

/* y = x·scale + shift of channels [c0, c1) of C×H×W planes. */
static void forward_plain(const nnx_layer *L, const bn_view *v, const float *restrict x, int n,
                          int c0, int c1)
{
    float *restrict y = L->out;
    const float *restrict scale = v->scale, *restrict shift = v->shift;
    for (int ch = c0; ch < c1; ch++)
        for (int s = 0; s < n; s++) {
            size_t off = s * v->ss + ch * v->cs;
            normalise_plane(x + off, y + off, v->hw, scale[ch], shift[ch]);
        }
}

static void forward_unit(void *p, int u, int tid)
{
    const bn_job *j = p;
    nnx_layer *L = j->L;
    const bn_view *v = &j->v;
    int c0, c1;
    unit_channels(j, u, &c0, &c1);
    const int c = v->c;
    const float *gamma = L->w, *beta = L->w + c;
    float *run_mean = L->st, *run_var = L->st + c;
    const float eps = L->info.eps;
    if (j->train) {
        if (L->moments)         /* summed by the convolution before (conv_direct.c) */
            nnx_conv_batch_moments(L - 1, j->n, c0, c1, v->mean, v->inv_std);
        else
            batch_moments(v, j->x, j->n, c0, c1);
        const float mom = L->info.a;
        const double m = (double)j->n * v->hw;
        const double unbias = m > 1 ? m / (m - 1) : 1.0;
        for (int ch = c0; ch < c1; ch++) {
            float var = v->inv_std[ch];
            run_mean[ch] = (1.0f - mom) * run_mean[ch] + mom * v->mean[ch];
            run_var[ch] = (1.0f - mom) * run_var[ch] + mom * (float)(var * unbias);
            v->inv_std[ch] = 1.0f / sqrtf(var + eps);
        }
    } else {
        for (int ch = c0; ch < c1; ch++) {
            v->mean[ch] = run_mean[ch];
            v->inv_std[ch] = 1.0f / sqrtf(run_var[ch] + eps);
        }
    }
    affine(v, gamma, beta, c0, c1);
    if (v->flat)                /* the values themselves: forward_rows_unit */
        return;
    if (L->fused)
        forward_fused(L, v, j->x, j->n, c0, c1, tid);
    else
        forward_plain(L, v, j->x, j->n, c0, c1);
}

/* Flat, the pass after the statistics: the normalised values of a unit's
 * rows (a contiguous block, whole rows, so the loops run over every feature
 * of a row rather than over a unit's 8 or 16), into the output, or, fused,
 * into thread tid's tile and then through the activation in one call. */
static int row_units(const bn_view *v, int n)
{
    if (flat_serial(v, n))
        return 1;
    return n < MAX_UNITS ? n : MAX_UNITS;
}

static void unit_rows(const bn_job *j, int u, int *r0, int *r1)
{
    long lo, hi;
    nnx_team_split(j->n, j->units, u, &lo, &hi);
    *r0 = (int)lo;
    *r1 = (int)hi;
}

/* The end of the block of rows from b0 that a thread's tile holds (a unit
 * of rows may have more: every row, when the layer runs on one thread). */
static int block_end(const bn_view *v, int b0, int r1)
{
    int rows = (int)(v->tile / (size_t)v->c);
    return r1 - b0 < rows ? r1 : b0 + rows;
}

/* z = x·scale + shift of rows [r0, r1) into z, row r at z + (r - r0)·c. */
static void normalise_rows(const bn_view *v, const float *restrict x, int r0, int r1,
                           float *restrict z)
{
    const int c = v->c;
    const float *restrict scale = v->scale, *restrict shift = v->shift;
    for (int r = r0; r < r1; r++) {
        const float *restrict xr = x + (size_t)r * c;
        float *restrict zr = z + (size_t)(r - r0) * c;
        for (int f = 0; f < c; f++)
            zr[f] = xr[f] * scale[f] + shift[f];
    }
}

static void forward_rows_unit(void *p, int u, int tid)
{
    const bn_job *j = p;
    const nnx_layer *L = j->L, *A = L + 1;
    int r0, r1;
    unit_rows(j, u, &r0, &r1);
    if (!L->fused) {
        normalise_rows(&j->v, j->x, r0, r1, L->out + (size_t)r0 * j->v.c);
        return;
    }
    float *z = j->v.tiles + 3 * j->v.tile * (size_t)tid;
    for (int b0 = r0, b1; b0 < r1; b0 = b1) {
        b1 = block_end(&j->v, b0, r1);
        size_t off = (size_t)b0 * j->v.c;
        normalise_rows(&j->v, j->x, b0, b1, z);
        nnx_act_apply(A, z, A->out + off, nnx_act_kept(A, L->train, off),
                      (size_t)(b1 - b0) * j->v.c);
    }
}

const float *nnx_batchnorm_forward(nnx_layer *L, const float *restrict x, int n, bool train)
{
    bn_job j = {.L = L, .v = view(L, n), .n = n, .x = x, .train = train};
    j.units = nunits(&j.v, n, false);
    nnx_team_run(L->team, j.units, forward_unit, &j);
    if (j.v.flat) {
        j.units = row_units(&j.v, n);
        nnx_team_run(L->team, j.units, forward_rows_unit, &j);
    }
    return L->fused ? (L + 1)->out : L->out;
}

/* d(loss)/d(normalised) of plane p (input xp) under a max pool whose
 * windows tile it, into d: only the pool's winners get a gradient, so the
 * activation's derivative (an exp, for swish) is taken at those alone, a
 * quarter of the plane for 2×2 windows, on copies packed into `pack` (four
 * arrays of the winners' count: normalised input, output, kept values, and
 * the result), which is then spread over the zeroed plane d.  At the winners
 * the kernel gets the same floats as over the whole plane; elsewhere d is 0
 * where the whole-plane pass made 0·f' (a zero, of f''s sign, which the
 * sums and the scaling that follow cannot tell apart).  The channel's sums
 * (Σ dz, Σ dz·(x - μ)) are taken over the whole plane, in the order of a
 * pass without the pool, or, when the forward kept x at the winners in xw
 * (the backward makes the convolution's weight gradient and never reads x),
 * over the packed winners, the rest of the plane adding nothing to them. */
static void winners_grad(const nnx_layer *A, const nnx_layer *P, const bn_view *v,
                         const float *dy, const float *restrict xp, const float *restrict xw,
                         const float *restrict y, const float *restrict kept, size_t p, int n,
                         int ch, float *restrict pack, float *restrict d)
{
    const int32_t *arg;
    const float *g = nnx_pool_winners(P, dy, p, n, &arg);
    const size_t k = pool_plane(P);
    const float a = v->scale[ch], b = v->shift[ch];
    float *restrict zw = pack, *restrict yw = pack + k, *restrict kw = pack + 2 * k,
                    *restrict dw = pack + 3 * k;
    if (xw)
        for (size_t i = 0; i < k; i++)
            zw[i] = xw[i] * a + b;
    else
        for (size_t i = 0; i < k; i++)
            zw[i] = xp[arg[i]] * a + b;
    if (y)
        for (size_t i = 0; i < k; i++)
            yw[i] = y[arg[i]];
    if (kept)
        for (size_t i = 0; i < k; i++)
            kw[i] = kept[arg[i]];
    nnx_act_grad(A, zw, y ? yw : NULL, kept ? kw : NULL, g, dw, k);
    nnx_pool_spread(P, p, dw, d);
    if (xw)
        plane_grad_sums(dw, xw, k, v->mean[ch], &v->acc1[ch], &v->acc2[ch]);
    else
        plane_grad_sums(d, xp, (size_t)v->hw, v->mean[ch], &v->acc1[ch], &v->acc2[ch]);
}

/* Fused backward of the plane at `off` (sample s, channel ch) of C×H×W
 * planes: dz = d(loss)/d(normalised) into d from dy = d(loss)/d(act
 * output), through thread tid's tiles, and Σ dz and Σ dz·(x - μ) added to
 * the channel's sums. */
static void fused_plane(const nnx_layer *L, const bn_view *v, const float *dy, size_t off,
                        int n, int ch, int tid, float *d)
{
    const nnx_layer *A = L + 1;
    const float *restrict xp = L->x + off, *y = A->y ? A->y + off : NULL;
    float *restrict z = v->tiles + 3 * v->tile * (size_t)tid, *restrict pg = z + 2 * v->tile;
    const float *kept = nnx_act_kept(A, L->train, off);
    const size_t p = off / (size_t)v->hw;
    /* the pool after the activation left its backward to this pass: dy is
     * the gradient of the pool's output, taken at its winners or, when their
     * packed arrays would not fit a tile, expanded a plane at a time */
    const nnx_layer *W = winners_pool(L, v->tile);
    if (W) {
        const float *xw = v->xwin && L->train ? winners_x(v, W, p) : NULL;
        winners_grad(A, W, v, dy, xp, xw, y, kept, p, n, ch, pg, d);
        return;
    }
    const float *g = dy + off;
    if (L->pools && nnx_pool_grad_fused(L + 2)) {
        nnx_pool_grad_plane(L + 2, dy, p, n, pg);
        g = pg;
    }
    normalise_plane(xp, z, v->hw, v->scale[ch], v->shift[ch]);
    nnx_act_grad(A, z, y, kept, g, d, (size_t)v->hw);
    plane_grad_sums(d, xp, (size_t)v->hw, v->mean[ch], &v->acc1[ch], &v->acc2[ch]);
}

/* Fused backward of C×H×W planes, first pass over channels [c0, c1): each
 * plane's dz (fused_plane) straight into dx when dx is wanted, else into
 * the thread's dz tile. */
static void grad_sums_fused(const nnx_layer *L, const bn_view *v, const float *dy,
                            float *dx, int n, int c0, int c1, int tid)
{
    float *dz = v->tiles + 3 * v->tile * (size_t)tid + v->tile;
    for (int ch = c0; ch < c1; ch++)
        for (int s = 0; s < n; s++) {
            size_t off = s * v->ss + ch * v->cs;
            fused_plane(L, v, dy, off, n, ch, tid, dx ? dx + off : dz);
        }
}

/* d = a·g + b·x + c, out of place and in place (d is g). */
static void scale_into(float *restrict d, const float *restrict g, const float *restrict x,
                       int len, float a, float b, float c)
{
    for (int i = 0; i < len; i++)
        d[i] = a * g[i] + b * x[i] + c;
}

static void scale_in_place(float *restrict d, const float *restrict x, int len,
                           float a, float b, float c)
{
    for (int i = 0; i < len; i++)
        d[i] = a * d[i] + b * x[i] + c;
}

/* dγ = Σ dy·x̂ and dβ = Σ dy of channels [c0, c1) from their sums; and dx =
 * A·dy + B·x + C per channel, where in training A = γ/σ, B = -A·dγ/(m·σ),
 * C = -A·dβ/m - B·μ (the batch statistics depend on x); in eval only A. */
static void coefficients(nnx_layer *L, const bn_view *v, int n, int c0, int c1)
{
    const int c = v->c;
    const float *gamma = L->w, *restrict mean = v->mean;
    float *dgamma = L->gw, *dbeta = L->gw + c;
    const double m = (double)n * v->hw;
    float *restrict A = v->scale, *restrict B = v->shift, *restrict C = v->coef;
    for (int ch = c0; ch < c1; ch++) {
        double is = v->inv_std[ch];
        double dg = v->acc2[ch] * is, db = v->acc1[ch];
        dgamma[ch] = (float)dg;
        dbeta[ch] = (float)db;
        double a = gamma[ch] * is;
        double b = L->train ? -a * dg * is / m : 0.0;
        double cc = L->train ? -a * db / m - b * mean[ch] : 0.0;
        A[ch] = (float)a;
        B[ch] = (float)b;
        C[ch] = (float)cc;
    }
}

/* The first pass of backward over channels [c0, c1): Σ dz and Σ dz·(x - μ)
 * per channel, dz being d(loss)/d(normalised).  Fused over planes, the pass
 * makes dz from dy (grad_sums_fused: into dx when given, else a tile);
 * otherwise dz is dy (flat and fused: what backward_rows_unit left). */
static void grad_sums(const bn_job *j, int c0, int c1, float *dx, int tid)
{
    nnx_layer *L = j->L;
    const bn_view *v = &j->v;
    const int c = v->c, n = j->n;
    const float *restrict x = L->x, *restrict dy = j->dy, *restrict mean = v->mean;
    double *restrict sdy = v->acc1, *restrict sdyx = v->acc2;
    for (int ch = c0; ch < c1; ch++)
        sdy[ch] = sdyx[ch] = 0;
    if (L->fused && !v->flat) {
        affine(v, L->w, L->w + c, c0, c1);
        grad_sums_fused(L, v, dy, dx, n, c0, c1, tid);
    } else if (v->flat) {
        for (int r = 0; r < n; r++) {
            const float *restrict g = dy + (size_t)r * c, *restrict xr = x + (size_t)r * c;
            for (int f = c0; f < c1; f++) {
                sdy[f] += g[f];
                sdyx[f] += (double)g[f] * (xr[f] - mean[f]);
            }
        }
    } else {
        for (int ch = c0; ch < c1; ch++)
            for (int s = 0; s < n; s++) {
                size_t off = s * v->ss + ch * v->cs;
                plane_grad_sums(dy + off, x + off, (size_t)v->hw, mean[ch], &sdy[ch], &sdyx[ch]);
            }
    }
}

/* A plane of dx = a·dz + b·x + c into d, in place when dz is d. */
static void scale_plane(float *d, const float *dz, const float *x, int len, float a, float b,
                        float c)
{
    if (dz == d)
        scale_in_place(d, x, len, a, b, c);
    else
        scale_into(d, dz, x, len, a, b, c);
}

/* Backward of channel ch of a batch norm over planes with wgrad_fused, in
 * one pass: the convolution before it (filter ch) gets each plane of dz as
 * it is made, and then the coefficients of dx = a·dz + b·x + c, from which
 * it makes its weight gradient; dx itself, which nothing else would read,
 * is never made. */
static void channel_into_wgrad(const bn_job *j, int ch, int tid)
{
    nnx_layer *L = j->L;
    const bn_view *v = &j->v;
    const int n = j->n;
    v->acc1[ch] = v->acc2[ch] = 0;
    if (L->fused)
        affine(v, L->w, L->w + v->c, ch, ch + 1);
    float *tile = L->fused ? v->tiles + 3 * v->tile * (size_t)tid + v->tile : NULL;
    nnx_conv_wgrad_begin(L - 1, tid);
    for (int s = 0; s < n; s++) {
        size_t off = s * v->ss + ch * v->cs;
        const float *dz = j->dy + off;
        if (L->fused)
            fused_plane(L, v, j->dy, off, n, ch, tid, tile), dz = tile;
        else
            plane_grad_sums(dz, L->x + off, (size_t)v->hw, v->mean[ch], &v->acc1[ch],
                            &v->acc2[ch]);
        nnx_conv_wgrad_plane(L - 1, s, dz, tid);
    }
    coefficients(L, v, n, ch, ch + 1);
    nnx_conv_wgrad_end(L - 1, ch, tid, v->scale[ch], v->shift[ch], v->coef[ch]);
}

static void backward_unit(void *p, int u, int tid)
{
    const bn_job *j = p;
    nnx_layer *L = j->L;
    const bn_view *v = &j->v;
    int c0, c1;
    unit_channels(j, u, &c0, &c1);
    if (L->wgrad_fused) {
        for (int ch = c0; ch < c1; ch++)
            channel_into_wgrad(j, ch, tid);
        return;
    }
    float *dx = j->dx;
    grad_sums(j, c0, c1, dx, tid);
    coefficients(L, v, j->n, c0, c1);
    if (!dx || v->flat)         /* flat: dx_rows_unit */
        return;
    /* fused, d(loss)/d(normalised) is in dx, and this pass scales it there */
    const float *dz = L->fused ? dx : j->dy;
    for (int ch = c0; ch < c1; ch++)
        for (int s = 0; s < j->n; s++) {
            size_t off = s * v->ss + ch * v->cs;
            scale_plane(dx + off, dz + off, L->x + off, v->hw, v->scale[ch], v->shift[ch],
                        v->coef[ch]);
        }
}

/* d = a·g + b·x + c over a row of features, a, b and c per feature, out of
 * place and in place (d is g). */
static void row_affine_into(float *restrict d, const float *restrict g, const float *restrict x,
                            const float *restrict a, const float *restrict b,
                            const float *restrict c, int len)
{
    for (int i = 0; i < len; i++)
        d[i] = a[i] * g[i] + b[i] * x[i] + c[i];
}

static void row_affine_in_place(float *restrict d, const float *restrict x,
                                const float *restrict a, const float *restrict b,
                                const float *restrict c, int len)
{
    for (int i = 0; i < len; i++)
        d[i] = a[i] * d[i] + b[i] * x[i] + c[i];
}

/* Flat, the pass after the sums: dx = A·dy + B·x + C of a unit's rows. */
static void dx_rows_unit(void *p, int u, int tid)
{
    (void)tid;
    const bn_job *j = p;
    const bn_view *v = &j->v;
    const int c = v->c;
    int r0, r1;
    unit_rows(j, u, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        size_t off = (size_t)r * c;
        if (j->dy == j->dx)
            row_affine_in_place(j->dx + off, j->L->x + off, v->scale, v->shift, v->coef, c);
        else
            row_affine_into(j->dx + off, j->dy + off, j->L->x + off, v->scale, v->shift,
                            v->coef, c);
    }
}

/* Flat and fused, the pass before the sums: d(loss)/d(normalised) of a
 * unit's rows, the normalised values made again in thread tid's tile and
 * the activation's derivative taken in one call, into j->d (dx, or the
 * workspace when there is no dx). */
static void backward_rows_unit(void *p, int u, int tid)
{
    const bn_job *j = p;
    const nnx_layer *L = j->L, *A = L + 1;
    int r0, r1;
    unit_rows(j, u, &r0, &r1);
    float *z = j->v.tiles + 3 * j->v.tile * (size_t)tid;
    for (int b0 = r0, b1; b0 < r1; b0 = b1) {
        b1 = block_end(&j->v, b0, r1);
        size_t off = (size_t)b0 * j->v.c;
        normalise_rows(&j->v, L->x, b0, b1, z);
        nnx_act_grad(A, z, A->y + off, nnx_act_kept(A, L->train, off), j->dy + off,
                     j->d + off, (size_t)(b1 - b0) * j->v.c);
    }
}

const float *nnx_batchnorm_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    bn_job j = {.L = L, .v = view(L, n), .n = n, .dy = dy, .dx = dx};
    if (L->fused && j.v.flat) {
        affine(&j.v, L->w, L->w + j.v.c, 0, j.v.c);
        j.d = dx ? dx : j.v.dbuf;
        j.units = row_units(&j.v, n);
        nnx_team_run(L->team, j.units, backward_rows_unit, &j);
        j.dy = j.d;             /* the pass below sums it, and scales dx in place */
    }
    if (L->wgrad_fused)
        nnx_conv_wgrad_prepare(L - 1, n);
    j.units = nunits(&j.v, n, true);
    nnx_team_run(L->team, j.units, backward_unit, &j);
    if (j.v.flat && dx) {
        j.units = row_units(&j.v, n);
        nnx_team_run(L->team, j.units, dx_rows_unit, &j);
    }
    return dx;
}
