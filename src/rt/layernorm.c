/* layernorm.c — layer normalisation: each sample normalised over all of its
 * C·H·W values by its own mean and biased variance, then scaled and shifted
 * per value (gamma[C·H·W], beta[C·H·W]); no running statistics, so training
 * and evaluation compute the same.
 *
 * Value (sample s, channel c, pixel p) sits at s·ss + c·cs + p in either
 * layout (layer.h); its gamma and beta at c·H·W + p.  Forward and the input
 * gradient are jobs of the net's team over units of samples (each sample is
 * independent); the gamma and beta gradients over units of channels, each
 * summing over the samples in order, so no result depends on the threads.
 *
 * Workspace: mean[max_batch] then rstd[max_batch] (1/sqrt(var + eps)) of the
 * last forward, read by backward.
 */
#include <math.h>

#include "rt/layer.h"
#include "rt/team.h"

#define MAX_UNITS 16

size_t nnx_layernorm_ws_floats(const nnx_layer *L, int max_batch)
{
    (void)L;
    return 2 * (size_t)max_batch;
}

typedef struct ln_job {
    nnx_layer *L;
    const float *x, *dy;
    float *dx;
    int n, c, hw;
    size_t ss, cs;
    int units;
} ln_job;

static ln_job job(nnx_layer *L, const float *x, int n)
{
    ln_job j = {.L = L, .x = x, .n = n, .c = L->info.in_c, .hw = L->info.in_h * L->info.in_w};
    j.ss = nnx_sample_stride(L->in_layout, n, j.c, j.hw);
    j.cs = nnx_chan_stride(L->in_layout, n, j.c, j.hw);
    return j;
}

static void unit_range(int total, int units, int u, int *lo, int *hi)
{
    long a, b;
    nnx_team_split(total, units, u, &a, &b);
    *lo = (int)a;
    *hi = (int)b;
}

static void forward_unit(void *ctx, int u, int tid)
{
    (void)tid;
    const ln_job *j = ctx;
    const nnx_layer *L = j->L;
    const float *restrict g = L->w, *restrict b = L->w + (size_t)j->c * j->hw;
    float *mean = L->ws, *rstd = L->ws + L->max_batch;
    const double d = (double)j->c * j->hw;
    int s0, s1;
    unit_range(j->n, j->units, u, &s0, &s1);
    for (int s = s0; s < s1; s++) {
        double sum = 0, sq = 0;
        for (int ch = 0; ch < j->c; ch++)
            sum += nnx_sum_floats(j->x + s * j->ss + ch * j->cs, (size_t)j->hw);
        const float mu = (float)(sum / d);
        for (int ch = 0; ch < j->c; ch++) {
            const float *restrict x = j->x + s * j->ss + ch * j->cs;
            float lane = 0;
            for (int p = 0; p < j->hw; p++)
                lane += (x[p] - mu) * (x[p] - mu);
            sq += lane;
        }
        const float r = (float)(1.0 / sqrt(sq / d + (double)L->info.eps));
        mean[s] = mu;
        rstd[s] = r;
        for (int ch = 0; ch < j->c; ch++) {
            const float *restrict x = j->x + s * j->ss + ch * j->cs;
            float *restrict y = L->out + s * j->ss + ch * j->cs;
            const float *restrict gc = g + (size_t)ch * j->hw, *restrict bc = b + (size_t)ch * j->hw;
            for (int p = 0; p < j->hw; p++)
                y[p] = (x[p] - mu) * r * gc[p] + bc[p];
        }
    }
}

const float *nnx_layernorm_forward(nnx_layer *L, const float *x, int n)
{
    ln_job j = job(L, x, n);
    j.units = n < MAX_UNITS ? n : MAX_UNITS;
    nnx_team_run(L->team, j.units, forward_unit, &j);
    return L->out;
}

/* dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) with dx̂ = dy · gamma. */
static void dinput_unit(void *ctx, int u, int tid)
{
    (void)tid;
    const ln_job *j = ctx;
    const nnx_layer *L = j->L;
    const float *restrict g = L->w;
    const float *mean = L->ws, *rstd = L->ws + L->max_batch;
    const double d = (double)j->c * j->hw;
    int s0, s1;
    unit_range(j->n, j->units, u, &s0, &s1);
    for (int s = s0; s < s1; s++) {
        const float mu = mean[s], r = rstd[s];
        double a = 0, b = 0;
        for (int ch = 0; ch < j->c; ch++) {
            const size_t off = s * j->ss + ch * j->cs;
            const float *restrict x = j->x + off, *restrict dy = j->dy + off;
            const float *restrict gc = g + (size_t)ch * j->hw;
            float la = 0, lb = 0;
            for (int p = 0; p < j->hw; p++) {
                float dh = dy[p] * gc[p];
                la += dh;
                lb += dh * (x[p] - mu) * r;
            }
            a += la;
            b += lb;
        }
        const float ma = (float)(a / d), mb = (float)(b / d);
        for (int ch = 0; ch < j->c; ch++) {
            const size_t off = s * j->ss + ch * j->cs;
            const float *restrict x = j->x + off, *restrict dy = j->dy + off;
            const float *restrict gc = g + (size_t)ch * j->hw;
            float *restrict dx = j->dx + off;
            for (int p = 0; p < j->hw; p++)
                dx[p] = r * (dy[p] * gc[p] - ma - (x[p] - mu) * r * mb);
        }
    }
}

/* dgamma = Σ over samples dy · x̂, dbeta = Σ dy, for the unit's channels. */
static void wgrad_unit(void *ctx, int u, int tid)
{
    (void)tid;
    const ln_job *j = ctx;
    const nnx_layer *L = j->L;
    float *restrict dg = L->gw, *restrict db = L->gw + (size_t)j->c * j->hw;
    const float *mean = L->ws, *rstd = L->ws + L->max_batch;
    int c0, c1;
    unit_range(j->c, j->units, u, &c0, &c1);
    for (int ch = c0; ch < c1; ch++) {
        float *restrict g = dg + (size_t)ch * j->hw, *restrict b = db + (size_t)ch * j->hw;
        for (int p = 0; p < j->hw; p++)
            g[p] = b[p] = 0;
        for (int s = 0; s < j->n; s++) {
            const size_t off = s * j->ss + ch * j->cs;
            const float *restrict x = j->x + off, *restrict dy = j->dy + off;
            const float mu = mean[s], r = rstd[s];
            for (int p = 0; p < j->hw; p++) {
                g[p] += dy[p] * (x[p] - mu) * r;
                b[p] += dy[p];
            }
        }
    }
}

const float *nnx_layernorm_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    ln_job j = job(L, L->x, n);
    j.dy = dy;
    j.units = j.c < MAX_UNITS ? j.c : MAX_UNITS;
    nnx_team_run(L->team, j.units, wgrad_unit, &j);
    if (!dx)
        return NULL;
    j.dx = dx;
    j.units = n < MAX_UNITS ? n : MAX_UNITS;
    nnx_team_run(L->team, j.units, dinput_unit, &j);
    return dx;
}
