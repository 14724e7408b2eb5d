/* pool.c — max and average pooling over size×size windows with a stride, no
 * padding; windows that would cross the border are dropped (PyTorch's floor);
 * and global average pooling, each plane to its mean.
 *
 * Both work plane by plane: each (sample, channel) plane of H·W floats is
 * contiguous in either layout and the planes keep their order, so the layout
 * does not matter here, but for one case: a pool right before a flatten
 * takes a CNHW input to an NCHW output (set by compile), so that the flatten
 * is a view instead of a transpose of the batch; out_plane says where each
 * plane's output goes.  Max pooling records the winning input offset within
 * its plane (L->idx) for backward; ties go to the first in row-major order.
 * A pass is one job of the net's team (team.h) over units of planes, or,
 * after a batch norm fused with its activation (L->fused, set by compile),
 * part of that pass: norm.c pools each plane the moment it is written, while
 * it is still in L1 (nnx_pool_planes), and the pool's own forward is skipped;
 * a max pool whose windows do not overlap is undone plane by plane in the
 * batch norm's backward the same way (nnx_pool_grad_plane).
 */
#include <string.h>

#include "rt/layer.h"
#include "rt/team.h"

#define MAX_UNITS 16

/* One output row of a 2×2, stride-2 max pool: outputs [0, n) from input
 * rows r0 and r1 (the winner's offset in the plane: base + its column, + w
 * on the lower row); ties go to the first in row-major order.  Arithmetic
 * on 0/1, so it vectorises. */
static inline void maxpool_2x2_row(const float *restrict r0, const float *restrict r1,
                                   float *restrict o, int32_t *restrict g, int n, int base,
                                   int w)
{
    for (int j = 0; j < n; j++) {
        float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
        int top = b > a, bot = d > c;
        float mt = top ? b : a, mb = bot ? d : c;
        int lower = mb > mt;
        o[j] = lower ? mb : mt;
        g[j] = base + 2 * j + top + lower * (w + bot - top);
    }
}

/* Outputs a row computes at once past its end (POOL_LANES, a multiple of
 * the vector width): a row but the plane's last is computed to ow rounded
 * up to this, running on into the next row's outputs (written after it)
 * and reading on into its next input row (inside the plane), so the loop
 * has no scalar tail; the last row stops at ow. */
#define POOL_LANES 8

/* The output plane of input plane p of a batch of n: p itself, or, when
 * the pool turns CNHW into NCHW, the same (sample, channel) in NCHW. */
static inline size_t out_plane(const nnx_layer *L, size_t p, int n)
{
    if (L->in_layout == L->out_layout)
        return p;
    return (p % (size_t)n) * (size_t)L->info.in_c + p / (size_t)n;
}

/* The common case, 2×2 windows with stride 2, without the inner loops. */
static void maxpool_2x2(const nnx_layer *L, const float *restrict x, size_t p0, size_t p1,
                        int n)
{
    const nnx_layer_info *I = &L->info;
    const int h = I->in_h, w = I->in_w, oh = I->out_h, ow = I->out_w;
    const int wide = (ow + POOL_LANES - 1) / POOL_LANES * POOL_LANES;
    /* running on stays inside the plane when wide <= 2·ow (and so 2·wide <=
     * 2·w): the wide outputs of row i end before row i + 2, and the 2·wide
     * input columns from row 2i + 1 before row 2i + 3 (i < oh - 1, and
     * 2·oh <= h) */
    const bool run_on = wide <= 2 * ow;
    for (size_t p = p0; p < p1; p++) {
        const float *restrict in = x + (p - p0) * h * w;
        float *restrict out = L->out + out_plane(L, p, n) * oh * ow;
        int32_t *restrict arg = L->idx + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            const float *restrict r0 = in + 2 * i * w;
            maxpool_2x2_row(r0, r0 + w, out + i * ow, arg + i * ow,
                            run_on && i < oh - 1 ? wide : ow, 2 * i * w, w);
        }
    }
}

/* One pass over units of planes. */
typedef struct pool_job {
    nnx_layer *L;
    const float *x, *dy;
    float *dx;
    size_t planes;
    int units;
} pool_job;

static int nunits(size_t planes)
{
    return planes < MAX_UNITS ? (int)planes : MAX_UNITS;
}

static void unit_planes(const pool_job *j, int u, size_t *p0, size_t *p1)
{
    long lo, hi;
    nnx_team_split((long)j->planes, j->units, u, &lo, &hi);
    *p0 = (size_t)lo;
    *p1 = (size_t)hi;
}

void nnx_pool_planes(const nnx_layer *L, const float *restrict x, size_t p0, size_t p1,
                     int n)
{
    const nnx_layer_info *I = &L->info;
    const int h = I->in_h, w = I->in_w, oh = I->out_h, ow = I->out_w;
    const int k = I->kernel, st = I->stride;
    float *restrict y = L->out;
    if (I->kind == NNX_LAYER_MAXPOOL && k == 2 && st == 2) {
        maxpool_2x2(L, x, p0, p1, n);
    } else if (I->kind == NNX_LAYER_MAXPOOL) {
        int32_t *restrict idx = L->idx;
        for (size_t p = p0; p < p1; p++) {
            const float *restrict in = x + (p - p0) * h * w;
            float *restrict out = y + out_plane(L, p, n) * oh * ow;
            int32_t *restrict arg = idx + p * oh * ow;
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    int best = i * st * w + j * st;
                    float m = in[best];
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++) {
                            int at = (i * st + a) * w + j * st + b;
                            if (in[at] > m) {
                                m = in[at];
                                best = at;
                            }
                        }
                    out[i * ow + j] = m;
                    arg[i * ow + j] = best;
                }
        }
    } else {
        const float inv = 1.0f / (float)(k * k);
        for (size_t p = p0; p < p1; p++) {
            const float *restrict in = x + (p - p0) * h * w;
            float *restrict out = y + out_plane(L, p, n) * oh * ow;
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    float sum = 0.0f;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++)
                            sum += in[(i * st + a) * w + j * st + b];
                    out[i * ow + j] = sum * inv;
                }
        }
    }
}

static void forward_unit(void *ctx, int u, int tid)
{
    (void)tid;
    const pool_job *j = ctx;
    size_t p0, p1;
    unit_planes(j, u, &p0, &p1);
    nnx_pool_planes(j->L, j->x + p0 * j->L->info.in_h * j->L->info.in_w, p0, p1,
                    (int)(j->planes / (size_t)j->L->info.in_c));
}

const float *nnx_pool_forward(nnx_layer *L, const float *x, int n)
{
    pool_job j = {.L = L, .x = x, .planes = (size_t)n * L->info.in_c};
    j.units = nunits(j.planes);
    nnx_team_run(L->team, j.units, forward_unit, &j);
    return L->out;
}

static void backward_unit(void *ctx, int u, int tid)
{
    (void)tid;
    const pool_job *j = ctx;
    const nnx_layer *L = j->L;
    const float *restrict dy = j->dy;
    float *restrict dx = j->dx;
    const nnx_layer_info *I = &L->info;
    const int h = I->in_h, w = I->in_w, oh = I->out_h, ow = I->out_w;
    const int k = I->kernel, st = I->stride;
    const int n = (int)(j->planes / (size_t)I->in_c);
    size_t p0, p1;
    unit_planes(j, u, &p0, &p1);
    if (I->kind == NNX_LAYER_MAXPOOL && k == st) {
        for (size_t p = p0; p < p1; p++)
            nnx_pool_spread(L, p, dy + out_plane(L, p, n) * oh * ow, dx + p * h * w);
        return;
    }
    memset(dx + p0 * h * w, 0, (p1 - p0) * h * w * sizeof *dx);
    if (I->kind == NNX_LAYER_MAXPOOL) {
        for (size_t p = p0; p < p1; p++) {
            float *restrict d = dx + p * h * w;
            const float *restrict g = dy + out_plane(L, p, n) * oh * ow;
            const int32_t *restrict arg = nnx_pool_args(L, p);
            for (int o = 0; o < oh * ow; o++)
                d[arg[o]] += g[o];
        }
    } else {
        const float inv = 1.0f / (float)(k * k);
        for (size_t p = p0; p < p1; p++) {
            float *restrict d = dx + p * h * w;
            const float *restrict g = dy + out_plane(L, p, n) * oh * ow;
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    const float v = g[i * ow + j] * inv;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++)
                            d[(i * st + a) * w + j * st + b] += v;
                }
        }
    }
}

bool nnx_pool_grad_fused(const nnx_layer *L)
{
    return L->fused && L->info.kind == NNX_LAYER_MAXPOOL && L->info.kernel == L->info.stride;
}

const int32_t *nnx_pool_args(const nnx_layer *L, size_t p)
{
    return L->idx + p * (size_t)L->info.out_h * (size_t)L->info.out_w;
}

const float *nnx_pool_winners(const nnx_layer *L, const float *dy, size_t p, int n,
                              const int32_t **arg)
{
    *arg = nnx_pool_args(L, p);
    return dy + out_plane(L, p, n) * (size_t)L->info.out_h * (size_t)L->info.out_w;
}

void nnx_pool_spread(const nnx_layer *L, size_t p, const float *restrict g,
                     float *restrict out)
{
    const nnx_layer_info *I = &L->info;
    const int hw = I->in_h * I->in_w, ohw = I->out_h * I->out_w;
    const int32_t *restrict arg = nnx_pool_args(L, p);
    memset(out, 0, (size_t)hw * sizeof *out);       /* a plane: one call, not one a row */
    for (int i = 0; i < ohw; i++)
        out[arg[i]] = g[i];
}

void nnx_pool_grad_plane(const nnx_layer *L, const float *dy, size_t p, int n, float *out)
{
    const int32_t *arg;
    nnx_pool_spread(L, p, nnx_pool_winners(L, dy, p, n, &arg), out);
}

const float *nnx_pool_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    if (nnx_pool_grad_fused(L))
        return dy;
    if (!dx)
        return NULL;
    pool_job j = {.L = L, .dy = dy, .dx = dx, .planes = (size_t)n * L->info.in_c};
    j.units = nunits(j.planes);
    nnx_team_run(L->team, j.units, backward_unit, &j);
    return dx;
}

/* --- global average pooling: plane p of the input is output value out_of(p) -- */

static size_t gap_out_index(const nnx_layer *L, size_t p, int n)
{
    if (L->in_layout == NNX_NCHW)
        return p;
    const size_t ch = p / (size_t)n, s = p % (size_t)n;   /* CNHW: [C][n] planes */
    return s * (size_t)L->info.in_c + ch;
}

static void gap_forward_unit(void *ctx, int u, int tid)
{
    (void)tid;
    const pool_job *j = ctx;
    const nnx_layer *L = j->L;
    const int hw = L->info.in_h * L->info.in_w, n = (int)(j->planes / (size_t)L->info.in_c);
    size_t p0, p1;
    unit_planes(j, u, &p0, &p1);
    for (size_t p = p0; p < p1; p++)
        L->out[gap_out_index(L, p, n)] = (float)(nnx_sum_floats(j->x + p * hw, (size_t)hw) / hw);
}

const float *nnx_gap_forward(nnx_layer *L, const float *x, int n)
{
    pool_job j = {.L = L, .x = x, .planes = (size_t)n * L->info.in_c};
    j.units = nunits(j.planes);
    nnx_team_run(L->team, j.units, gap_forward_unit, &j);
    return L->out;
}

static void gap_backward_unit(void *ctx, int u, int tid)
{
    (void)tid;
    const pool_job *j = ctx;
    const nnx_layer *L = j->L;
    const int hw = L->info.in_h * L->info.in_w, n = (int)(j->planes / (size_t)L->info.in_c);
    const float inv = 1.0f / (float)hw;
    size_t p0, p1;
    unit_planes(j, u, &p0, &p1);
    for (size_t p = p0; p < p1; p++) {
        const float v = j->dy[gap_out_index(L, p, n)] * inv;
        float *restrict d = j->dx + p * hw;
        for (int i = 0; i < hw; i++)
            d[i] = v;
    }
}

const float *nnx_gap_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    if (!dx)
        return NULL;
    pool_job j = {.L = L, .dy = dy, .dx = dx, .planes = (size_t)n * L->info.in_c};
    j.units = nunits(j.planes);
    nnx_team_run(L->team, j.units, gap_backward_unit, &j);
    return dx;
}
