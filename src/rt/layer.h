/* layer.h — the network's private records and each layer kind's forward and
 * backward passes (one .c file per kind).
 *
 * Layout.  Activations between layers are stored in one of two layouts:
 *   NNX_NCHW  sample-major: the public layout (inputs, outputs, dense);
 *   NNX_CNHW  channel-major: [C][n][H][W], what a convolution produces, so
 *             that each convolution is ONE matrix product over the whole
 *             batch and batch norm reads each channel contiguously.
 * In both, a (sample, channel) plane of H·W floats is contiguous, so pools,
 * activations and dropout do not care which one they get.  A dense layer or
 * flatten after a CNHW tensor transposes it back to NCHW; the network's
 * output is always NCHW.
 *
 * Ownership.  The nnx_net owns the layer array, the three flat buffers and
 * one arena holding every activation and workspace; a layer's pointers are
 * slices of those and are never freed on their own.
 */
#ifndef NNX_RT_LAYER_H
#define NNX_RT_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/rt/net.h"
#include "nnx/rt/rng.h"
#include "rt/team.h"

/* The build is -O2, whose "very cheap" vectoriser skips every loop whose trip
 * count is not known; the runtime's loops run over n·C·H·W elements, so its
 * files ask GCC for the usual cost model, and for fused multiply-adds.  And
 * they keep their copy loops: GCC turns any loop that only copies (even one
 * of vector moves) into a call to memmove, which on the rows and planes of
 * tens of floats these files copy costs more than the copy (4% of the bench
 * CNN's time was in such calls). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic", "fp-contract=fast", \
                     "no-tree-loop-distribute-patterns")
#endif

enum nnx_layout { NNX_NCHW, NNX_CNHW };

typedef struct nnx_layer {
    nnx_layer_info info;
    int in_size, out_size;          /* floats per sample */
    enum nnx_layout in_layout, out_layout;  /* differ only on a pool before a
                                       flatten: CNHW in, NCHW out (compile) */
    bool fused;                     /* batch norm + the activation after it, run
                                       as one pass by norm.c (set by compile);
                                       on a pool after those two, the pass pools
                                       too (the pool's forward is skipped) */
    bool moments;                   /* a direct convolution (conv_direct.c) whose
                                       training forward also sums its output for
                                       the batch norm after it, and that batch
                                       norm, which merges those sums instead of
                                       reading the output again (set by compile) */
    bool wgrad_fused;               /* a direct convolution that wants no input
                                       gradient, whose weight gradient the batch
                                       norm after it makes in its one backward
                                       pass, from the gradient of its normalised
                                       values and the Gram of the convolution's
                                       inputs, never making the convolution's
                                       output gradient, and that batch norm (set
                                       by compile) */
    bool drop_fused;                /* a dropout and the dense layer right after
                                       it (NCHW input): the dense layer's
                                       input-gradient units multiply by the
                                       dropout's mask while their columns are
                                       in cache, and the dropout's backward
                                       hands the gradient on (set by compile) */
    bool pools;                     /* a fused batch norm whose pass runs the
                                       pool two layers on (set by compile) */
    bool unstored;                  /* a fused activation with a fused pool after
                                       it and a backward that does not read its
                                       output: the pass keeps each output plane
                                       in its tile only, for the pool (no out
                                       buffer; set by compile) */

    /* Set by compile: slices of the net's buffers. */
    float *w, *gw, *st;             /* params, grads, state of this layer */
    float *out;                     /* max_batch × out_size, or NULL for flatten
                                       of NCHW (a view of its input) and a fused
                                       batch norm (it writes the activation's) */
    float *ws;                      /* workspace, see each kind */
    nnx_team *team;                 /* the net's threads (borrowed; NULL = one) */
    int threads;                    /* its size: per-thread workspaces */
    int max_batch;
    int32_t *idx;                   /* maxpool: argmax inside each input plane */
    struct nnx_layer *proj;         /* residual add: its projection (a conv or
                                       dense record, owned; weights are this
                                       layer's slice), or NULL for the identity */

    double grad_sumsq;              /* Σ g² of its gradients (nnx_net_grad_norm) */

    /* Set by forward, read by backward. */
    const float *x, *y;             /* input and output of the last forward */
    bool train;
} nnx_layer;

struct nnx_net {
    int in_c, in_h, in_w;
    nnx_layer *layers;              /* owned; nlayers used of cap */
    int nlayers, cap;
    int open[NNX_MAX_RESIDUAL_DEPTH];  /* residual blocks begun, not yet ended */
    int nopen;
    bool compiled, want_dinput;
    int max_batch;
    int last_n;                     /* rows of the last forward, 0 = none yet */
    int first_param;                /* first layer with parameters (nlayers if none):
                                       backward stops there unless want_dinput */

    size_t nparams, nstate;
    float *params, *grads, *state;  /* owned */
    unsigned char *arena;           /* owned: every buffer below */
    float *input;                   /* max_batch × in_size: copy of the batch */
    float *output;                  /* max_batch × out_size: NCHW result when
                                       the last layer is CNHW, else NULL */
    float *dlogits;                 /* max_batch × out_size */
    float *dinput;                  /* max_batch × in_size when want_dinput */
    float *grad[2];                 /* ping-pong gradients, max_batch × widest */
    const float *last_dinput;
    nnx_rng dropout_rng;
    int threads;                    /* nnx_net_set_threads, >= 1 */
    nnx_team *team;                 /* owned: started by compile when threads > 1 */
    double *profile;                /* owned, or NULL: per layer, forward and
                                       backward seconds (nnx_net_set_profile) */
    long profile_steps;
};


/* A layer kind's add (its nnx_net_add_*): start a record of `kind` reading
 * the net's current output (the shape in = out, the layout kept), fill in
 * its output shape, layout and parameter and state counts, then push it.
 * Both return 0, or -1 with err (a compiled net, a shape too large); the
 * net is unchanged until push succeeds. */
int nnx_layer_start(nnx_net *net, nnx_layer *L, enum nnx_layer_kind kind, const char *name,
                    nnx_rt_error *err);
int nnx_layer_push(nnx_net *net, nnx_layer *L, nnx_rt_error *err);

/* Each forward reads x (n rows, layout L->in_layout) and returns its output:
 * L->out, or x itself when the layer is the identity for this call.  Each
 * backward reads dy (layout L->out_layout), writes the parameter gradients
 * (overwriting) and, when dx is not NULL, d(loss)/d(x) into dx; it returns
 * the pointer holding d(loss)/d(x) (dx, or dy when the layer passed it
 * through, or NULL when dx was NULL). */
size_t nnx_dense_ws_floats(const nnx_layer *L, int max_batch);
const float *nnx_dense_forward(nnx_layer *L, const float *x, int n);
const float *nnx_dense_backward(nnx_layer *L, const float *dy, float *dx, int n);
/* Σ g² over the layer's gradients (dW, then db) after its last backward:
 * the sum, in row order, of each row's sum its backward took. */
double nnx_dense_grad_sumsq(const nnx_layer *L);
size_t nnx_conv_ws_floats(const nnx_layer *L, int max_batch);
const float *nnx_conv_forward(nnx_layer *L, const float *x, int n);
const float *nnx_conv_backward(nnx_layer *L, const float *dy, float *dx, int n);

/* conv_direct.c: a stride-1 convolution of few taps, without im2col (conv.c
 * calls these; ws is the part of L->ws after conv.c's own). */
bool   nnx_conv_is_direct(const nnx_layer *L);
size_t nnx_conv_direct_ws_floats(const nnx_layer *L, int max_batch);
void   nnx_conv_direct_forward(nnx_layer *L, const float *x, int n, size_t ss, size_t cs,
                               float *ws);
void   nnx_conv_direct_wgrad(nnx_layer *L, const float *dy, int n, float *ws);
void   nnx_conv_direct_moments(const nnx_layer *L, int n, const float *ws, int c0, int c1,
                               float *mean, float *var);
void   nnx_conv_direct_wgrad_prepare(const nnx_layer *L, float *ws, int n);
void   nnx_conv_direct_wgrad_begin(const nnx_layer *L, float *ws, int tid);
void   nnx_conv_direct_wgrad_plane(const nnx_layer *L, float *ws, int s, const float *dy,
                                   int tid);
void   nnx_conv_direct_wgrad_end(nnx_layer *L, float *ws, int f, int tid, double a, double b,
                                 double c);

/* The batch mean and biased variance of filters [c0, c1) of the last
 * training forward of a layer with `moments` set (conv.c). */
void nnx_conv_batch_moments(const nnx_layer *L, int n, int c0, int c1, float *mean,
                            float *var);
/* The weight and bias gradients of filter f of a layer with `wgrad_fused`
 * set, whose output gradient is a·dz + b·y + c (y its output, as a batch
 * norm's backward has it): made on thread tid from the filter's planes of
 * dz (oh × ow floats) of samples 0 .. n-1 in order: begin, a plane a
 * sample, end with a, b and c.  The y terms come from the products of the
 * layer's inputs its last training forward kept (one record a sample),
 * summed once a backward by prepare, before any filter's begin. */
void nnx_conv_wgrad_prepare(const nnx_layer *L, int n);
void nnx_conv_wgrad_begin(const nnx_layer *L, int tid);
void nnx_conv_wgrad_plane(const nnx_layer *L, int s, const float *dz, int tid);
void nnx_conv_wgrad_end(nnx_layer *L, int f, int tid, double a, double b, double c);
const float *nnx_pool_forward(nnx_layer *L, const float *x, int n);
/* The pool's output (and argmax) for input planes [p0, p1) of a batch of n,
 * plane p at x + (p - p0)·H·W: the forward of a unit, and what a fused batch
 * norm calls. */
void nnx_pool_planes(const nnx_layer *L, const float *x, size_t p0, size_t p1, int n);
/* A fused max pool whose windows tile the plane (size = stride) leaves its
 * backward to the batch norm's pass too: its own backward passes the
 * gradient of its output on, and the batch norm takes the activation's
 * derivative at the pool's winners (nnx_pool_winners) or expands each plane
 * of that gradient in L1 (nnx_pool_grad_plane), instead of reading a whole
 * input-sized gradient that is mostly zeros. */
bool nnx_pool_grad_fused(const nnx_layer *L);
/* d(loss)/d(input plane p) of such a pool in a batch of n, from dy (the
 * gradient of its output), into out (H·W floats). */
void nnx_pool_grad_plane(const nnx_layer *L, const float *dy, size_t p, int n, float *out);
/* The same pool's out_h·out_w winners of input plane p: their offsets in
 * the plane (*arg) and their gradients (returned); every other value of the
 * plane gets none. */
const float *nnx_pool_winners(const nnx_layer *L, const float *dy, size_t p, int n,
                              const int32_t **arg);
/* The offsets of input plane p's winners in the last forward (any max pool). */
const int32_t *nnx_pool_args(const nnx_layer *L, size_t p);
/* Input plane p's gradient under such a pool (H·W floats into out): zero
 * but at the winners, which get g (out_h·out_w values, in window order). */
void nnx_pool_spread(const nnx_layer *L, size_t p, const float *g, float *out);
const float *nnx_pool_backward(nnx_layer *L, const float *dy, float *dx, int n);
size_t nnx_batchnorm_ws_floats(const nnx_layer *L, int max_batch);
const float *nnx_batchnorm_forward(nnx_layer *L, const float *x, int n, bool train);
const float *nnx_batchnorm_backward(nnx_layer *L, const float *dy, float *dx, int n);
/* An activation over any span: y = f(x), and dx = dy·f'(x) given x and y.
 * `keep` (NULL: none) receives what backward would otherwise recompute (for
 * swish, σ(a·x)); `kept` (NULL: recompute) is it, back.  The act layer's
 * workspace holds it for a training forward when the batch's worth fits
 * in cache (act.c, KEEP_MAX_BYTES): nnx_act_kept(L, train, off) is the
 * slice at float `off`, or NULL when there is none to keep or read (an
 * evaluation forward keeps nothing). */
size_t nnx_act_ws_floats(const nnx_layer *L, int max_batch);
float *nnx_act_kept(const nnx_layer *L, bool train, size_t off);
void nnx_act_apply(const nnx_layer *L, const float *x, float *y, float *keep, size_t m);
void nnx_act_grad(const nnx_layer *L, const float *x, const float *y, const float *kept,
                  const float *dy, float *dx, size_t m);
const float *nnx_act_forward(nnx_layer *L, const float *x, int n);
const float *nnx_act_backward(nnx_layer *L, const float *dy, float *dx, int n);
const float *nnx_dropout_forward(nnx_layer *L, const float *x, int n, bool train, nnx_rng *rng);
const float *nnx_dropout_backward(nnx_layer *L, const float *dy, float *dx, int n);
const float *nnx_flatten_forward(nnx_layer *L, const float *x, int n);
const float *nnx_flatten_backward(nnx_layer *L, const float *dy, float *dx, int n);
size_t nnx_layernorm_ws_floats(const nnx_layer *L, int max_batch);
const float *nnx_layernorm_forward(nnx_layer *L, const float *x, int n);
const float *nnx_layernorm_backward(nnx_layer *L, const float *dy, float *dx, int n);
const float *nnx_gap_forward(nnx_layer *L, const float *x, int n);
const float *nnx_gap_backward(nnx_layer *L, const float *dy, float *dx, int n);
/* A residual block (residual.c).  The add reads the block's input from its
 * begin layer (`begin`, whose x is that input); its backward keeps the skip
 * path's gradient in its workspace, where the begin's backward adds it. */
size_t nnx_residual_ws_floats(const nnx_layer *add, const nnx_layer *begin, int max_batch);
const float *nnx_residual_forward(nnx_layer *add, const nnx_layer *begin, const float *x, int n);
const float *nnx_residual_backward(nnx_layer *add, const nnx_layer *begin, const float *dy,
                                   float *dx, int n);
const float *nnx_residual_begin_backward(nnx_layer *begin, const nnx_layer *add,
                                         const float *dy, float *dx, int n);

/* Layout changes of n samples of C planes of hw floats each. */
void nnx_cnhw_to_nchw(const float *restrict src, float *restrict dst, int n, int c, int hw);
void nnx_nchw_to_cnhw(const float *restrict src, float *restrict dst, int n, int c, int hw);

/* Strides of plane (sample s, channel c) = s·sample + c·chan in a layout. */
static inline size_t nnx_sample_stride(enum nnx_layout lay, int n, int c, int hw)
{
    (void)n;
    return lay == NNX_NCHW ? (size_t)c * hw : (size_t)hw;
}
static inline size_t nnx_chan_stride(enum nnx_layout lay, int n, int c, int hw)
{
    (void)c;
    return lay == NNX_NCHW ? (size_t)hw : (size_t)n * hw;
}

/* n floats from src to dst, as a loop: the pragma above keeps it one (a call
 * to memmove costs more than a copy of the tens of floats of a row or a
 * plane). */
static inline void nnx_copy_floats(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* Σ p[i] over len floats, in 16 float lanes (so GCC vectorises it) added up
 * in double. */
static inline double nnx_sum_floats(const float *restrict p, size_t len)
{
    float lane[16] = {0};
    size_t i = 0;
    for (; i + 16 <= len; i += 16)
        for (int j = 0; j < 16; j++)
            lane[j] += p[i + j];
    double t = 0;
    for (; i < len; i++)
        t += p[i];
    for (int j = 0; j < 16; j++)
        t += lane[j];
    return t;
}

/* Initialise the weights of every layer from rng (see net.h for the rule):
 * each layer kind's row names its rule (init.c), given the layer's index i. */
void nnx_net_init_weights(nnx_net *net, nnx_rng *rng);
void nnx_init_linear(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng);      /* dense, conv */
void nnx_init_projection(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng);  /* residual add */
void nnx_init_batchnorm(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng);
void nnx_init_layernorm(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng);

#endif
