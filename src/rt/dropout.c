/* dropout.c — inverted dropout: in training each unit is kept with
 * probability 1-p and scaled by 1/(1-p), so evaluation is the identity.
 *
 * The mask (0 or 1/(1-p) per unit, in L->ws) comes from the network's
 * dropout generator, one 24-bit uniform per unit, in memory order.
 */
#include "rt/layer.h"

const float *nnx_dropout_forward(nnx_layer *L, const float *restrict x, int n, bool train,
                                 nnx_rng *rng)
{
    const float p = L->info.a;
    if (!train || p == 0.0f)
        return x;
    const size_t m = (size_t)n * L->out_size;
    const float scale = 1.0f / (1.0f - p);
    float *restrict mask = L->ws, *restrict y = L->out;
    for (size_t i = 0; i < m; i++)
        mask[i] = nnx_rng_uniformf(rng) < p ? 0.0f : scale;
    for (size_t i = 0; i < m; i++)
        y[i] = x[i] * mask[i];
    return y;
}

const float *nnx_dropout_backward(nnx_layer *L, const float *restrict dy, float *restrict dx, int n)
{
    if (!dx)
        return NULL;
    if (!L->train || L->info.a == 0.0f)
        return dy;
    const size_t m = (size_t)n * L->out_size;
    const float *restrict mask = L->ws;
    for (size_t i = 0; i < m; i++)
        dx[i] = dy[i] * mask[i];
    return dx;
}
