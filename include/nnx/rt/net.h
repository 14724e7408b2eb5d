/* net.h — a feed-forward network: layers appended to an input shape, one flat
 * parameter buffer, forward and backward passes with no allocation per step.
 *
 * Life of a network:
 *
 *     nnx_rt_error err;
 *     nnx_net *net = nnx_net_new(1, 28, 28, &err);          // input C×H×W
 *     nnx_net_add_dense(net, 256, true, &err);               // each add checks
 *     nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err);         // the shape and
 *     nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err);       // fails with a
 *     nnx_net_add_dropout(net, 0.2f, &err);                  // message
 *     nnx_net_add_dense(net, 10, true, &err);
 *     nnx_net_compile(net, 128, seed, &err);  // allocate all, initialise weights
 *     for each batch:
 *         const float *logits = nnx_net_forward(net, x, n, true);
 *         nnx_loss_cross_entropy(logits, y, n, 10, 0, &loss, nnx_net_dlogits(net), &err);
 *         nnx_net_backward(net, nnx_net_dlogits(net));
 *         optimizer_step(nnx_net_params(net), nnx_net_grads(net), nnx_net_nparams(net));
 *     nnx_net_free(net);
 *
 * Memory.  All trainable parameters live in ONE flat float buffer
 * (nnx_net_params), their gradients in a second buffer of the same layout
 * (nnx_net_grads), and the non-trainable state (batch-norm running mean and
 * variance) in a third (nnx_net_state).  An optimizer works on the
 * (params, grads, nparams) arrays; a snapshot or a checkpoint is a copy of
 * params followed by state.  Activations and workspaces are allocated once
 * by nnx_net_compile for at most max_batch rows; forward and backward never
 * allocate.
 *
 * Ownership.  The nnx_net owns every buffer it hands out; the pointers stay
 * valid until nnx_net_free and are only meaningful after nnx_net_compile.
 * Data passed in (inputs, dlogits) is borrowed for the call only: forward
 * copies its input (unless it already is nnx_net_input(net), or the caller
 * keeps it until the backward: nnx_net_forward_kept).
 *
 * Tensors are row-major with the batch first: a batch of n samples of
 * shape C×H×W is n·C·H·W floats, sample-major, then channel, row, column.
 *
 * A network is one thread's object: calls on it must not overlap.  Matrix
 * products go through cblas_sgemm and may use the BLAS's own threads
 * (nnx_blas_set_threads); the net may also run parts of a pass on worker
 * threads of its own (nnx_net_set_threads): a call returns only when their
 * part is done, and between calls they wait.
 *
 * Layers and their parameter layout (offsets in nnx_net_layer_info):
 *   dense(units, bias)      W[units][in] then b[units]; a C×H×W input is read flat
 *   conv(filters, k, s, p)  W[filters][C][k][k] then b[filters]; square kernel,
 *                           output (H + 2p - k)/s + 1 on each side
 *   maxpool(size, stride)   windows that do not fit are dropped (floor), like PyTorch
 *   avgpool(size, stride)   same shape rule; pads nothing
 *   flatten                 C×H×W -> (C·H·W)×1×1; no copy
 *   dropout(p)              inverted dropout: train keeps each unit with prob 1-p
 *                           and scales it by 1/(1-p); eval is the identity.  Masks
 *                           come from the net's NNX_STREAM_DROPOUT generator: each
 *                           training forward takes one draw of it, which seeds the
 *                           generators of the mask's blocks (see dropout.c).
 *   batchnorm(m, eps)       per feature on a flat input, per channel on C×H×W;
 *                           params gamma[C] then beta[C]; state mean[C] then var[C].
 *                           Train: normalise by the batch mean and biased batch
 *                           variance, then running = (1-m)·running + m·batch with
 *                           the UNBIASED batch variance (PyTorch's rule).
 *                           Eval: normalise by the running statistics.
 *                           (A training batch of one value per channel
 *                           normalises to beta; PyTorch refuses it.)
 *   act(kind, a)            elementwise; `a` is leaky_relu's slope, elu's alpha,
 *                           swish's beta (ignored by the others).  gelu is the
 *                           exact erf form: x·Φ(x).
 *   layernorm(eps)          per sample over all of its C·H·W values (a flat
 *                           input: its features), mean and biased variance,
 *                           then an affine map per value: params gamma[C·H·W]
 *                           then beta[C·H·W] (PyTorch's LayerNorm over [C, H,
 *                           W], ONNX LayerNormalization with axis 1).  The
 *                           same in training and evaluation.
 *   global_avgpool          C×H×W -> C×1×1: the mean of each channel's plane.
 *   residual ... add        a block: nnx_net_begin_residual marks its input,
 *                           the layers added after it are its body, and
 *                           nnx_net_end_residual appends the add: output =
 *                           body(x) + skip(x).  skip is the identity when the
 *                           body keeps the shape, else a projection
 *                           (nnx_residual_projection): a 1×1 convolution with
 *                           a stride, W[out_c][in_c] then b[out_c], or a dense
 *                           layer reading x flat, W[out][in] then b[out] — the
 *                           add layer's parameters.  Blocks nest.
 *
 * Initialisation (nnx_net_compile, from the NNX_STREAM_INIT stream of the
 * seed): dense and conv weights are drawn from a normal distribution whose
 * scale depends on the next activation after the layer (skipping batchnorm,
 * layernorm, dropout, pooling, flatten and residual marks):
 *   relu, leaky_relu, elu, gelu, swish    He:     std = sqrt(2 / fan_in)
 *   tanh, sigmoid, none (output layer)    Xavier: std = sqrt(2 / (fan_in + fan_out))
 * with fan_in = in·k·k and fan_out = out·k·k (k = 1 for dense); a residual
 * add's projection likewise, by the activation after the add.  Biases are 0,
 * batchnorm and layernorm gamma 1 and beta 0, running mean 0 and running
 * var 1.
 */
#ifndef NNX_RT_NET_H
#define NNX_RT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"
#include "nnx/rt/rng.h"

typedef struct nnx_net nnx_net;

enum nnx_layer_kind {
    NNX_LAYER_DENSE,
    NNX_LAYER_CONV,
    NNX_LAYER_MAXPOOL,
    NNX_LAYER_AVGPOOL,
    NNX_LAYER_FLATTEN,
    NNX_LAYER_DROPOUT,
    NNX_LAYER_BATCHNORM,
    NNX_LAYER_ACT,
    /* Appended later: the numbers are stored in checkpoints, never reorder. */
    NNX_LAYER_LAYERNORM,
    NNX_LAYER_GLOBAL_AVGPOOL,
    NNX_LAYER_RESIDUAL,        /* a block's start: the identity, marks its input */
    NNX_LAYER_RESIDUAL_ADD     /* a block's end: body + skip (maybe projected) */
};

/* How a residual block's input reaches its end (nnx_residual_projection). */
enum nnx_proj {
    NNX_PROJ_IDENTITY,    /* the body keeps the shape */
    NNX_PROJ_CONV,        /* 1×1 convolution with a stride: C×H×W to C'×H'×W' */
    NNX_PROJ_DENSE,       /* a dense layer reading the input flat: to C'×1×1 */
    NNX_PROJ_IMPOSSIBLE   /* no projection gives the body's output shape */
};

enum nnx_act {
    NNX_ACT_RELU,
    NNX_ACT_LEAKY_RELU,   /* a = slope for x < 0 */
    NNX_ACT_ELU,          /* a = alpha: x < 0 -> alpha·(exp(x) - 1) */
    NNX_ACT_GELU,         /* exact: x·Φ(x) = x/2·(1 + erf(x/√2)) */
    NNX_ACT_TANH,
    NNX_ACT_SIGMOID,
    NNX_ACT_SWISH         /* a = beta: x·sigmoid(beta·x) */
    /* Appended later: the numbers are stored in checkpoints, never reorder. */
};

/* What an activation's parameter `a` may be. */
enum nnx_act_param {
    NNX_ACT_PARAM_NONE,       /* it has none (a is ignored) */
    NNX_ACT_PARAM_ANY,        /* any finite number */
    NNX_ACT_PARAM_POSITIVE    /* a finite number > 0 */
};

/* One activation: everything the runtime knows of it, one row of the table
 * in act.c.  Adding an activation is a code at the end of enum nnx_act, its
 * two kernels and its row there (the language names it in its catalog). */
typedef struct nnx_act_info {
    enum nnx_act code;          /* == its index; stored in checkpoints */
    const char *name;           /* the layer's name in nnx_layer_info and reports */
    const char *param_name;     /* what `a` is ("slope", "alpha", "beta"), or NULL */
    enum nnx_act_param param;
    bool he_init;               /* a dense/conv before it draws He weights (else Xavier) */
    bool fuses_with_batchnorm;  /* a batch norm before it runs both in one pass */
    bool backward_reads_y;      /* backward reads the forward's output y (else x alone) */
    /* y = f(x) over m values */
    void (*forward)(const float *restrict x, float *restrict y, size_t m, float a);
    /* dx = dy·f'(x), from the forward's input x and output y */
    void (*backward)(const float *restrict x, const float *restrict y, const float *restrict dy,
                     float *restrict dx, size_t m, float a);
    /* Optional (NULL: none): forward also keeping in keep[0..m) what backward
     * would compute again (swish: σ(a·x)), and the backward that reads it
     * back; a training forward keeps it in the layer's workspace. */
    void (*forward_keep)(const float *restrict x, float *restrict y, float *restrict keep,
                         size_t m, float a);
    void (*backward_kept)(const float *restrict x, const float *restrict kept,
                          const float *restrict dy, float *restrict dx, size_t m, float a);
} nnx_act_info;

/* The activation stored as `code`, or NULL when there is none (an unknown
 * code in a file). */
const nnx_act_info *nnx_act_info_of(unsigned code);
/* The activation named `name`, or NULL. */
const nnx_act_info *nnx_act_info_named(const char *name);
/* How many activations there are (codes 0 .. count-1). */
size_t nnx_act_count(void);

/* --- the layer kinds ------------------------------------------------------- */

/* What a layer is built from: the arguments of nnx_net_add, and what a
 * weights file stores of each layer (checkpoint.c).  Each kind reads the
 * fields its row's `args` name and ignores the others. */
typedef struct nnx_layer_spec {
    int units;              /* dense units, conv filters */
    int kernel, stride, pad;    /* conv; pools (kernel = the window's size) */
    bool bias;              /* dense (conv always has one) */
    enum nnx_act act;       /* NNX_LAYER_ACT */
    float a;                /* an activation's parameter, dropout p, batchnorm momentum */
    float eps;              /* batchnorm, layernorm */
    bool project;           /* a residual add: project the skip path when the shape changes */
} nnx_layer_spec;

/* A field of nnx_layer_spec, as a row's argument names it. */
enum nnx_layer_field {
    NNX_LF_NONE,            /* no argument (ends a row's list) */
    NNX_LF_UNITS, NNX_LF_KERNEL, NNX_LF_STRIDE, NNX_LF_PAD, NNX_LF_BIAS,
    NNX_LF_A, NNX_LF_EPS, NNX_LF_PROJECT
};

#define NNX_LAYER_MAX_ARGS 4

/* Set field f of s to v (an integer field takes (int)v, a flag v != 0). */
void nnx_layer_spec_set(nnx_layer_spec *s, enum nnx_layer_field f, double v);

/* What a weights file's layer record must match besides its kind, units,
 * window, bias, output shape and counts (nnx_net_load). */
enum { NNX_MATCH_ACT = 1, NNX_MATCH_A = 2, NNX_MATCH_EPS = 4 };

struct nnx_layer;           /* the network's record of a layer (src/rt/layer.h) */

/* One layer kind: everything the runtime knows of it, one row of the table
 * in layer_kinds.c.  The language's catalog has a row of the same name
 * (activations: one per row of the activation table) whose parameters are
 * `args`, in order; test_registry holds the two together. */
typedef struct nnx_layer_kind_info {
    enum nnx_layer_kind code;   /* == its index; stored in checkpoints */
    const char *name;           /* "dense", ...; a weights file's messages say it */
    struct {
        const char *name;       /* the catalog's parameter name (NULL for an
                                   activation's: its own row names it) */
        enum nnx_layer_field field;
    } args[NNX_LAYER_MAX_ARGS]; /* the language's arguments in order, then NONE */
    unsigned match;             /* NNX_MATCH_*: what loading weights also compares */
    bool keeps_scale;           /* init looks past it for the next activation
                                   (norms, dropout, pools, flatten, residual marks) */
    /* Append one to net (shape rule, argument checks, parameter count). */
    int (*add)(nnx_net *net, const nnx_layer_spec *s, nnx_rt_error *err);
    /* The passes (see src/rt/layer.h): forward reads x (L->train says the
     * mode) and returns the output; backward returns d(loss)/d(x). */
    const float *(*forward)(nnx_net *net, struct nnx_layer *L, const float *x, int n);
    const float *(*backward)(nnx_net *net, struct nnx_layer *L, const float *dy, float *dx,
                             int n);
    /* Optional (NULL: none): floats of workspace for max_batch rows; the
     * initial parameters and state of layer i; multiply-adds of one sample's
     * forward (nnx_net_train_flops). */
    size_t (*ws_floats)(const nnx_net *net, const struct nnx_layer *L, int max_batch);
    void (*init)(const nnx_net *net, int i, struct nnx_layer *L, nnx_rng *rng);
    double (*macs)(const struct nnx_layer *L);
} nnx_layer_kind_info;

/* The layer kind stored as `code`, or NULL when there is none. */
const nnx_layer_kind_info *nnx_layer_kind_of(unsigned code);
/* How many layer kinds there are (codes 0 .. count-1). */
size_t nnx_layer_kind_count(void);

/* Append a layer of `kind` built from s: its row's add.  -1 with err for a
 * kind that does not exist. */
int nnx_net_add(nnx_net *net, enum nnx_layer_kind kind, const nnx_layer_spec *s,
                nnx_rt_error *err);

/* What one layer is, where it sits in the flat buffers, and its shapes. */
typedef struct nnx_layer_info {
    enum nnx_layer_kind kind;
    const char *name;           /* "dense", "conv", ..., or the activation's name */
    int in_c, in_h, in_w;       /* shape of one input sample */
    int out_c, out_h, out_w;    /* shape of one output sample */
    int units;                  /* dense units / conv filters; a residual add's
                                   projection outputs (0 otherwise) */
    int kernel, stride, pad;    /* conv and pools (0 otherwise); a residual
                                   add's projection: kernel 1 = conv with this
                                   stride, 0 = dense */
    bool bias;                  /* dense and conv, a residual add's projection */
    enum nnx_act act;           /* NNX_LAYER_ACT only */
    float a;                    /* act parameter, dropout p, batchnorm momentum */
    float eps;                  /* batchnorm and layernorm eps */
    int pair;                   /* residual and its add: the other's index */
    size_t param_off, nparams;  /* slice of nnx_net_params / nnx_net_grads */
    size_t state_off, nstate;   /* slice of nnx_net_state */
} nnx_layer_info;

/* --- building ------------------------------------------------------------- */

/* A network taking samples of shape c×h×w (a flat input of D features is
 * D×1×1).  Returns NULL, with err filled, for a non-positive or absurdly large
 * shape or when out of memory.  The caller owns the result: nnx_net_free. */
nnx_net *nnx_net_new(int c, int h, int w, nnx_rt_error *err);
void     nnx_net_free(nnx_net *net);   /* NULL is fine */

/* Append a layer.  Each returns 0, or -1 with err naming the layer and the
 * reason (bad argument, shape it cannot take) and leaves the net unchanged.
 * Adding to a compiled net is an error. */
int nnx_net_add_dense(nnx_net *net, int units, bool bias, nnx_rt_error *err);
int nnx_net_add_conv(nnx_net *net, int filters, int kernel, int stride, int pad,
                     bool bias, nnx_rt_error *err);
int nnx_net_add_maxpool(nnx_net *net, int size, int stride, nnx_rt_error *err);
int nnx_net_add_avgpool(nnx_net *net, int size, int stride, nnx_rt_error *err);
int nnx_net_add_flatten(nnx_net *net, nnx_rt_error *err);
int nnx_net_add_dropout(nnx_net *net, float p, nnx_rt_error *err);     /* 0 <= p < 1 */
int nnx_net_add_batchnorm(nnx_net *net, float momentum, float eps, nnx_rt_error *err);
int nnx_net_add_act(nnx_net *net, enum nnx_act act, float a, nnx_rt_error *err);
int nnx_net_add_layernorm(nnx_net *net, float eps, nnx_rt_error *err);   /* eps > 0 */
int nnx_net_add_global_avgpool(nnx_net *net, nnx_rt_error *err);

/* A residual block: begin, then the body's layers, then end.  end fails when
 * no layer was added since the matching begin, and, when the body changed
 * the shape, if `project` is false or no projection fits (the message says
 * both shapes).  Blocks nest up to NNX_MAX_RESIDUAL_DEPTH; compiling with a
 * block still open is an error. */
#define NNX_MAX_RESIDUAL_DEPTH 64
int nnx_net_begin_residual(nnx_net *net, nnx_rt_error *err);
int nnx_net_end_residual(nnx_net *net, bool project, nnx_rt_error *err);

/* The skip path from a block input in_c×in_h×in_w to a body output
 * out_c×out_h×out_w: the identity when they are equal; else a dense layer
 * when the output is 1×1 (a flat vector); else a 1×1 convolution with
 * the smallest stride s for which (in - 1)/s + 1 gives the output's H and W
 * (*stride, 1 otherwise); else IMPOSSIBLE.  The checker states the same. */
enum nnx_proj nnx_residual_projection(int in_c, int in_h, int in_w, int out_c, int out_h,
                                      int out_w, int *stride);

/* Ask backward to also compute d(loss)/d(input) (nnx_net_dinput).  Off by
 * default: it costs one more matrix product and nothing in training needs it.
 * Must be called before nnx_net_compile. */
int nnx_net_want_dinput(nnx_net *net, bool on, nnx_rt_error *err);

/* Threads the network's own passes run on: the calling thread and
 * threads - 1 workers the net owns (1 by default; below 1 means 1; at most
 * NNX_MAX_THREADS).  Convolutions, large dense products, batch norm and
 * pooling share their work among them.  Results do NOT depend on the thread
 * count: the work is cut into the same pieces whatever it is, each piece is
 * computed the same way, and sums over pieces are taken in a fixed order, so
 * a seed trains the same weights bit for bit on 1 thread or on 8.
 * May be called before or after nnx_net_compile (after, it reallocates the
 * activations, so not between a forward and its backward: backward then
 * fails until the next forward).  With threads > 1 it also sets the BLAS to
 * one thread (nnx_blas_set_threads(1), process-wide): the net's threads call
 * it side by side instead.  0, or -1 with err (the net unchanged) when a
 * thread cannot be started or memory is short.
 * Interpreters pass their -j here (default: the number of cores). */
#define NNX_MAX_THREADS 64
int nnx_net_set_threads(nnx_net *net, int threads, nnx_rt_error *err);

/* Allocate parameters, gradients, state, activations and workspaces for
 * batches of at most max_batch rows, and initialise the weights from seed
 * (see above).  The dropout generator is seeded from the same seed.  A net
 * with no layers is an error; compiling twice is an error. */
int nnx_net_compile(nnx_net *net, int max_batch, uint64_t seed, nnx_rt_error *err);

/* --- running -------------------------------------------------------------- */

/* Forward n rows (1 <= n <= max_batch) of x (n × input size floats) in
 * training (batch statistics, dropout on) or evaluation mode.  Returns the
 * output, n × output size floats owned by the net and valid until the next
 * forward; NULL when the net is not compiled or n is out of range.
 * Training mode updates the batch-norm running statistics and draws dropout
 * masks. */
const float *nnx_net_forward(nnx_net *net, const float *x, int n, bool train);
/* The same without the copy: x is read where it is, by this forward and by
 * the backward after it, and must not change until that backward is done
 * (a trainer that gathers the next batch into a buffer of its own while
 * the net trains on this one). */
const float *nnx_net_forward_kept(nnx_net *net, const float *x, int n, bool train);

/* Back-propagate d(loss)/d(output) (n × output size floats, n of the last
 * forward) through the last forward pass, in the mode it ran in (batch norm
 * in training mode differentiates through the batch statistics).  OVERWRITES nnx_net_grads with
 * this batch's gradient (it does not accumulate).  dlogits may alias
 * nnx_net_dlogits(net).  Returns 0, or -1 when no forward preceded it. */
int nnx_net_backward(nnx_net *net, const float *dlogits);

/* The L2 norm of nnx_net_grads as the last backward left them (call before
 * anything changes them), from sums of squares the backward took while the
 * gradients were in cache where a layer does (dense, a row at a time) and
 * a pass over the others' slices, on the net's threads, added up in layer
 * order: the same bits on any thread count.  The same number as
 * nnx_grad_norm(nnx_net_grads(net), nnx_net_nparams(net)) to rounding, not
 * to the bit (the sums are grouped otherwise).  Call it after
 * nnx_net_backward; NaN before any forward. */
double nnx_net_grad_norm(nnx_net *net);

/* A max_batch × input size buffer owned by the net: a caller that gathers its
 * batch here and passes it as x to nnx_net_forward saves a copy. */
float *nnx_net_input(nnx_net *net);

/* A max_batch × output size buffer owned by the net where a loss can write
 * d(loss)/d(output) for nnx_net_backward. */
float *nnx_net_dlogits(nnx_net *net);

/* d(loss)/d(input) of the last backward (n × input size), or NULL unless
 * nnx_net_want_dinput was set. */
const float *nnx_net_dinput(const nnx_net *net);

/* --- profiling -------------------------------------------------------------- */

/* With profiling on, each layer's training forwards and its backwards are
 * timed (two clock reads per layer and pass, so off by default): the
 * seconds summed since profiling was turned on, per layer, and the number
 * of backward passes they span.  Turning it on (again) starts from zero.
 * 0, or -1 with err when there is no memory for the sums. */
int nnx_net_set_profile(nnx_net *net, bool on, nnx_rt_error *err);
/* Layer i's summed forward and backward seconds; 0 when profiling is off or
 * i is out of range. */
void nnx_net_profile(const nnx_net *net, int i, double *forward_s, double *backward_s);
/* The backward passes timed so far. */
long nnx_net_profile_steps(const nnx_net *net);

/* --- the flat buffers ----------------------------------------------------- */

float *nnx_net_params(nnx_net *net);
float *nnx_net_grads(nnx_net *net);
float *nnx_net_state(nnx_net *net);        /* batch-norm running mean/var */
size_t nnx_net_nparams(const nnx_net *net);
size_t nnx_net_nstate(const nnx_net *net);

/* The dropout generator (NNX_STREAM_DROPOUT of the seed).  Saving and
 * restoring it repeats the same masks (used by gradient checks and resumes). */
nnx_rng *nnx_net_dropout_rng(nnx_net *net);

/* The network's worker threads (NULL on one thread), borrowed, for passes
 * of the runtime's own that run beside the network's (the optimizer step). */
struct nnx_team;
struct nnx_team *nnx_net_team(nnx_net *net);

/* Snapshots: nnx_net_snapshot_size floats hold params then state.  The caller
 * owns the buffer; take and restore are plain copies (for keeping the best
 * epoch's weights). */
size_t nnx_net_snapshot_size(const nnx_net *net);
void   nnx_net_snapshot_take(const nnx_net *net, float *dst);
void   nnx_net_snapshot_restore(nnx_net *net, const float *src);

/* --- shapes --------------------------------------------------------------- */

int  nnx_net_nlayers(const nnx_net *net);
int  nnx_net_layer_info(const nnx_net *net, int i, nnx_layer_info *out); /* -1 if out of range */
void nnx_net_in_shape(const nnx_net *net, int *c, int *h, int *w);
void nnx_net_out_shape(const nnx_net *net, int *c, int *h, int *w);  /* of the last layer */
int  nnx_net_in_size(const nnx_net *net);    /* c·h·w floats per input sample */
int  nnx_net_out_size(const nnx_net *net);   /* floats per output sample */
int  nnx_net_max_batch(const nnx_net *net);  /* 0 before compile */

/* Floating-point operations of one forward + backward over n rows, counting
 * matrix products and convolutions only (2 per multiply-add).  For benchmarks. */
double nnx_net_train_flops(const nnx_net *net, int n);

/* Threads used by the BLAS for matrix products (openblas_set_num_threads);
 * n < 1 means 1.  Process-wide: it is the BLAS library's setting.  A net on
 * several threads of its own sets it to 1 itself; a net on one thread may
 * use the BLAS's threads instead, which helps large products on an idle
 * machine and hurts on a busy one. */
void nnx_blas_set_threads(int n);

#endif
