/* act.c — elementwise activations: each one's kernels and its row in the one activation table.
 *
 * sigmoid and swish, the ones on the hot path, use a branch-free exp that GCC
 * vectorises (Cephes' polynomial, about 2 ulp); the others call libm.  gelu is
 * the exact erf form.  Backward takes what it needs from the forward input
 * and output; swish's σ(a·x), which costs an exp, is kept by a training
 * forward in the layer's workspace (its row's forward_keep and
 * backward_kept) so backward reads it instead of computing it again (the
 * same float, so the same bits), when a batch's worth fits in cache
 * (nnx_act_ws_floats).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "rt/layer.h"

/* The bounds exp_vec clamps to, [-80, 80] (so that 1/(1+e^x) stays a
 * normal float), as values the compiler cannot see: given the constants
 * themselves, GCC works out a clamped lane's result at compile time and
 * runs the whole polynomial under masks to blend those in, a quarter
 * slower than a min and a max.  A kernel declares them once (EXP_BOUNDS),
 * before its loop; an empty asm hides their values. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define OPAQUE(v) __asm__("" : "+x"(v))
#elif defined(__GNUC__)
#define OPAQUE(v) __asm__("" : "+g"(v))
#else
#define OPAQUE(v) ((void)0)
#endif
#define EXP_BOUNDS                                                             \
    float lo = -80.0f, hi = 80.0f;                                             \
    OPAQUE(lo);                                                                \
    OPAQUE(hi)

/* e^x for x clamped to [lo, hi]: round x/ln2 to k, a degree-6 polynomial on
 * the remainder, then add k to the exponent bits. */
static inline float exp_vec(float x, float lo, float hi)
{
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
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
    bits += (int32_t)((uint32_t)(int32_t)k << 23);     /* k·2^23: a shift, not a multiply */
    memcpy(&p, &bits, sizeof p);
    return p;
}

static inline float sigmoid_vec(float x, float lo, float hi)
{
    return 1.0f / (1.0f + exp_vec(-x, lo, hi));
}

/* --- the kernels: y = f(x), and dx = dy·f'(x) from x and y ------------------ */

#define FWD(fn) static void fn(const float *restrict x, float *restrict y, size_t m, float a)
#define BWD(fn) static void fn(const float *restrict x, const float *restrict y, \
                               const float *restrict dy, float *restrict dx, size_t m, float a)

FWD(relu_fwd)
{
    (void)a;
    for (size_t i = 0; i < m; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
BWD(relu_bwd)
{
    (void)y, (void)a;
    for (size_t i = 0; i < m; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

FWD(leaky_relu_fwd)
{
    for (size_t i = 0; i < m; i++)
        y[i] = x[i] > 0.0f ? x[i] : a * x[i];
}
BWD(leaky_relu_bwd)
{
    (void)y;
    for (size_t i = 0; i < m; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : a * dy[i];
}

FWD(elu_fwd)
{
    for (size_t i = 0; i < m; i++)
        y[i] = x[i] > 0.0f ? x[i] : a * expm1f(x[i]);
}
BWD(elu_bwd)                    /* x < 0: f' = a·e^x = f + a */
{
    for (size_t i = 0; i < m; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + a);
}

FWD(gelu_fwd)
{
    (void)a;
    for (size_t i = 0; i < m; i++)
        y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}
BWD(gelu_bwd)                   /* f' = Φ(x) + x·φ(x) */
{
    (void)y, (void)a;
    for (size_t i = 0; i < m; i++) {
        float cdf = 0.5f * (1.0f + erff(x[i] * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * x[i] * x[i]);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
    }
}

FWD(tanh_fwd)
{
    (void)a;
    for (size_t i = 0; i < m; i++)
        y[i] = tanhf(x[i]);
}
BWD(tanh_bwd)
{
    (void)x, (void)a;
    for (size_t i = 0; i < m; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

FWD(sigmoid_fwd)
{
    EXP_BOUNDS;
    (void)a;
    for (size_t i = 0; i < m; i++)
        y[i] = sigmoid_vec(x[i], lo, hi);
}
BWD(sigmoid_bwd)
{
    (void)x, (void)a;
    for (size_t i = 0; i < m; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

FWD(swish_fwd)
{
    EXP_BOUNDS;
    for (size_t i = 0; i < m; i++)
        y[i] = x[i] * sigmoid_vec(a * x[i], lo, hi);
}
BWD(swish_bwd)                  /* s = σ(ax): f' = s + a·x·s·(1 - s) */
{
    (void)y;
    EXP_BOUNDS;
    for (size_t i = 0; i < m; i++) {
        float s = sigmoid_vec(a * x[i], lo, hi);
        dx[i] = dy[i] * s * (1.0f + a * x[i] * (1.0f - s));
    }
}
/* the same two, keeping s for backward instead of computing it again */
static void swish_fwd_keep(const float *restrict x, float *restrict y, float *restrict keep,
                           size_t m, float a)
{
    EXP_BOUNDS;
    for (size_t i = 0; i < m; i++) {
        float s = sigmoid_vec(a * x[i], lo, hi);
        keep[i] = s;
        y[i] = x[i] * s;
    }
}
static void swish_bwd_kept(const float *restrict x, const float *restrict kept,
                           const float *restrict dy, float *restrict dx, size_t m, float a)
{
    for (size_t i = 0; i < m; i++) {
        float s = kept[i];
        dx[i] = dy[i] * s * (1.0f + a * x[i] * (1.0f - s));
    }
}

/* --- the table ---------------------------------------------------------------- */

/* Indexed by code.  A new activation is a new row at the end (its code the
 * next enum value), never a reordering: the codes are stored in checkpoints.
 * He: the relu family and swish (they zero or shrink half the inputs);
 * Xavier: the saturating ones.  The flag after fusion: whether backward
 * reads y (elu, tanh and sigmoid take f' from f). */
static const nnx_act_info acts[] = {
    { NNX_ACT_RELU, "relu", NULL, NNX_ACT_PARAM_NONE, true, true, false, relu_fwd, relu_bwd, NULL, NULL },
    { NNX_ACT_LEAKY_RELU, "leaky_relu", "slope", NNX_ACT_PARAM_ANY, true, true, false, leaky_relu_fwd, leaky_relu_bwd, NULL, NULL },
    { NNX_ACT_ELU, "elu", "alpha", NNX_ACT_PARAM_POSITIVE, true, true, true, elu_fwd, elu_bwd, NULL, NULL },
    { NNX_ACT_GELU, "gelu", NULL, NNX_ACT_PARAM_NONE, true, true, false, gelu_fwd, gelu_bwd, NULL, NULL },
    { NNX_ACT_TANH, "tanh", NULL, NNX_ACT_PARAM_NONE, false, true, true, tanh_fwd, tanh_bwd, NULL, NULL },
    { NNX_ACT_SIGMOID, "sigmoid", NULL, NNX_ACT_PARAM_NONE, false, true, true, sigmoid_fwd, sigmoid_bwd, NULL, NULL },
    { NNX_ACT_SWISH, "swish", "beta", NNX_ACT_PARAM_ANY, true, true, false, swish_fwd, swish_bwd,
      swish_fwd_keep, swish_bwd_kept },
};

const nnx_act_info *nnx_act_info_of(unsigned code)
{
    return code < sizeof acts / sizeof acts[0] ? &acts[code] : NULL;
}

const nnx_act_info *nnx_act_info_named(const char *name)
{
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (!strcmp(acts[i].name, name))
            return &acts[i];
    return NULL;
}

size_t nnx_act_count(void)
{
    return sizeof acts / sizeof acts[0];
}

/* Keeping what backward would compute again (swish's σ) saves an exp a
 * value, and costs writing the batch's σ and reading it back: worth it while
 * that array stays in cache, not once it goes to memory.  On the bench nets
 * (2 threads, 2 MB of L2 a core) the MLP's 128 × 256 (128 KB) took 9 us less
 * a step in backward with it, and the CNN's two arrays (12.8 and 6.4 MB)
 * 0.75 ms less a step without.  The bits are the same either way. */
#define KEEP_MAX_BYTES (1u << 20)

size_t nnx_act_ws_floats(const nnx_layer *L, int max_batch)
{
    const size_t floats = (size_t)max_batch * (size_t)L->out_size;
    return acts[L->info.act].forward_keep && floats <= KEEP_MAX_BYTES / sizeof(float) ? floats
                                                                                       : 0;
}

float *nnx_act_kept(const nnx_layer *L, bool train, size_t off)
{
    return train && L->ws ? L->ws + off : NULL;
}

void nnx_act_apply(const nnx_layer *L, const float *restrict x, float *restrict y,
                   float *restrict keep, size_t m)
{
    const nnx_act_info *A = &acts[L->info.act];
    if (keep && A->forward_keep)
        A->forward_keep(x, y, keep, m, L->info.a);
    else
        A->forward(x, y, m, L->info.a);
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
    const nnx_act_info *A = &acts[L->info.act];
    if (kept && A->backward_kept)
        A->backward_kept(x, kept, dy, dx, m, L->info.a);
    else
        A->backward(x, y, dy, dx, m, L->info.a);
}

const float *nnx_act_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    if (!dx)
        return NULL;
    nnx_act_grad(L, L->x, L->y, nnx_act_kept(L, L->train, 0), dy, dx,
                 (size_t)n * L->out_size);
    return dx;
}
