/* dropout.c — inverted dropout: in training each unit is kept with
 * probability 1-p and scaled by 1/(1-p), so evaluation is the identity.
 *
 * The mask (0 or 1/(1-p) per unit, in L->ws) comes from the network's
 * dropout generator, half of a 64-bit draw per unit, in memory order.
 */
#include <math.h>

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
    /* Two 32-bit draws per step of the generator (xoroshiro128+, as in
     * rng.c, stepped here so the loop does not call out per unit); a unit is
     * dropped when its draw is below p·2³². */
    const uint32_t cut = (uint32_t)fmin((double)p * 4294967296.0, 4294967295.0);
    uint64_t s0 = rng->s[0], s1 = rng->s[1];
    for (size_t i = 0; i < m; i += 2) {
        uint64_t r = s0 + s1;
        s1 ^= s0;
        s0 = ((s0 << 24) | (s0 >> 40)) ^ s1 ^ (s1 << 16);
        s1 = (s1 << 37) | (s1 >> 27);
        mask[i] = (uint32_t)r < cut ? 0.0f : scale;
        if (i + 1 < m)
            mask[i + 1] = (uint32_t)(r >> 32) < cut ? 0.0f : scale;
    }
    rng->s[0] = s0;
    rng->s[1] = s1;
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
