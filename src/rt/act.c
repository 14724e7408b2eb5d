/* act.c — elementwise activations and their derivatives.
 *
 * sigmoid and swish, the ones on the hot path, use a branch-free exp that GCC
 * vectorises (Cephes' polynomial, about 2 ulp); the others call libm.  gelu is
 * the exact erf form.  Backward takes what it needs from the forward input
 * and output; swish's σ(a·x), which costs an exp, is kept by a training
 * forward in the layer's workspace (nnx_act_ws_floats) so backward reads it
 * instead of computing it again (the same float, so the same bits).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "rt/layer.h"

/* e^x for x in [-80, 80] (clamped there, so that 1/(1+e^x) stays a normal
 * float): round x/ln2 to k, a degree-6 polynomial on the remainder, then add
 * k to the exponent bits. */
static inline float exp_vec(float x)
{
    x = x < -80.0f ? -80.0f : x;
    x = x > 80.0f ? 80.0f : x;
    float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  /* round */
    float f = x - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * f + 1.3981999507e-3f;
    p = p * f + 8.3334519073e-3f;
    p = p * f + 4.1665795894e-2f;
    p = p * f + 1.6666665459e-1f;
    p = p * f + 5.0000001201e-1f;
    p = p * f * f + f + 1.0f;
    /* A NaN input (a diverged net) gives a NaN p; k must still be a number
     * to convert (a NaN to int is undefined) and 0 keeps p's NaN bits. */
    k = k == k ? k : 0.0f;
    int32_t bits;
    memcpy(&bits, &p, sizeof bits);
    bits += (int32_t)k * (1 << 23);
    memcpy(&p, &bits, sizeof p);
    return p;
}

static inline float sigmoid_vec(float x)
{
    return 1.0f / (1.0f + exp_vec(-x));
}

size_t nnx_act_ws_floats(const nnx_layer *L, int max_batch)
{
    return L->info.act == NNX_ACT_SWISH ? (size_t)max_batch * (size_t)L->out_size : 0;
}

float *nnx_act_kept(const nnx_layer *L, bool train, size_t off)
{
    return train && L->ws ? L->ws + off : NULL;
}

void nnx_act_apply(const nnx_layer *L, const float *restrict x, float *restrict y,
                   float *restrict keep, size_t m)
{
    const float a = L->info.a;
    switch (L->info.act) {
    case NNX_ACT_RELU:
        for (size_t i = 0; i < m; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case NNX_ACT_LEAKY_RELU:
        for (size_t i = 0; i < m; i++)
            y[i] = x[i] > 0.0f ? x[i] : a * x[i];
        break;
    case NNX_ACT_ELU:
        for (size_t i = 0; i < m; i++)
            y[i] = x[i] > 0.0f ? x[i] : a * expm1f(x[i]);
        break;
    case NNX_ACT_GELU:
        for (size_t i = 0; i < m; i++)
            y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
        break;
    case NNX_ACT_TANH:
        for (size_t i = 0; i < m; i++)
            y[i] = tanhf(x[i]);
        break;
    case NNX_ACT_SIGMOID:
        for (size_t i = 0; i < m; i++)
            y[i] = sigmoid_vec(x[i]);
        break;
    case NNX_ACT_SWISH:
        if (keep)
            for (size_t i = 0; i < m; i++) {
                float s = sigmoid_vec(a * x[i]);
                keep[i] = s;
                y[i] = x[i] * s;
            }
        else
            for (size_t i = 0; i < m; i++)
                y[i] = x[i] * sigmoid_vec(a * x[i]);
        break;
    }
}

const float *nnx_act_forward(nnx_layer *L, const float *x, int n)
{
    nnx_act_apply(L, x, L->out, nnx_act_kept(L, L->train, 0), (size_t)n * L->out_size);
    return L->out;
}

void nnx_act_grad(const nnx_layer *L, const float *restrict x, const float *restrict y,
                  const float *restrict kept, const float *restrict dy, float *restrict dx,
                  size_t m)
{
    const float a = L->info.a;
    switch (L->info.act) {
    case NNX_ACT_RELU:
        for (size_t i = 0; i < m; i++)
            dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case NNX_ACT_LEAKY_RELU:
        for (size_t i = 0; i < m; i++)
            dx[i] = x[i] > 0.0f ? dy[i] : a * dy[i];
        break;
    case NNX_ACT_ELU:          /* x < 0: f' = a·e^x = f + a */
        for (size_t i = 0; i < m; i++)
            dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + a);
        break;
    case NNX_ACT_GELU:         /* f' = Φ(x) + x·φ(x) */
        for (size_t i = 0; i < m; i++) {
            float cdf = 0.5f * (1.0f + erff(x[i] * 0.70710678118654752f));
            float pdf = 0.39894228040143268f * expf(-0.5f * x[i] * x[i]);
            dx[i] = dy[i] * (cdf + x[i] * pdf);
        }
        break;
    case NNX_ACT_TANH:
        for (size_t i = 0; i < m; i++)
            dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case NNX_ACT_SIGMOID:
        for (size_t i = 0; i < m; i++)
            dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case NNX_ACT_SWISH:        /* s = σ(ax): f' = s + a·x·s·(1 - s) */
        if (kept)
            for (size_t i = 0; i < m; i++) {
                float s = kept[i];
                dx[i] = dy[i] * s * (1.0f + a * x[i] * (1.0f - s));
            }
        else
            for (size_t i = 0; i < m; i++) {
                float s = sigmoid_vec(a * x[i]);
                dx[i] = dy[i] * s * (1.0f + a * x[i] * (1.0f - s));
            }
        break;
    }
}

const float *nnx_act_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    if (!dx)
        return NULL;
    nnx_act_grad(L, L->x, L->y, nnx_act_kept(L, L->train, 0), dy, dx,
                 (size_t)n * L->out_size);
    return dx;
}
