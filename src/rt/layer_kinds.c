/* layer_kinds.c — the one table of layer kinds: each kind's arguments, add, passes, workspace, initialisation and cost.
 *
 * A row holds what the network, the weights file (checkpoint.c), the
 * initialisation (init.c) and the language's mapping (src/run/build.c) need
 * of a kind; the kernels themselves live in one file per kind (dense.c,
 * conv.c, pool.c, ...).  The functions here only adapt each kernel to the
 * row's one signature.  Adding a kind: its code at the end of enum
 * nnx_layer_kind (the numbers are stored in weights files), its
 * nnx_net_add_* and kernels, and its row at the end of the table.
 */
#include <math.h>

#include "rt/layer.h"

void nnx_layer_spec_set(nnx_layer_spec *s, enum nnx_layer_field f, double v)
{
    switch (f) {
    case NNX_LF_UNITS:   s->units = (int)v; break;
    case NNX_LF_KERNEL:  s->kernel = (int)v; break;
    case NNX_LF_STRIDE:  s->stride = (int)v; break;
    case NNX_LF_PAD:     s->pad = (int)v; break;
    case NNX_LF_BIAS:    s->bias = v != 0; break;
    case NNX_LF_A:       s->a = (float)v; break;
    case NNX_LF_EPS:     s->eps = (float)v; break;
    case NNX_LF_PROJECT: s->project = v != 0; break;
    case NNX_LF_NONE:    break;
    }
}

/* --- adds: the runtime's nnx_net_add_* from a spec --------------------------- */

#define ADD(fn) static int fn(nnx_net *net, const nnx_layer_spec *s, nnx_rt_error *err)

ADD(add_dense)     { return nnx_net_add_dense(net, s->units, s->bias, err); }
ADD(add_conv)      { return nnx_net_add_conv(net, s->units, s->kernel, s->stride, s->pad, s->bias, err); }
ADD(add_maxpool)   { return nnx_net_add_maxpool(net, s->kernel, s->stride, err); }
ADD(add_avgpool)   { return nnx_net_add_avgpool(net, s->kernel, s->stride, err); }
ADD(add_flatten)   { (void)s; return nnx_net_add_flatten(net, err); }
ADD(add_dropout)   { return nnx_net_add_dropout(net, s->a, err); }
ADD(add_batchnorm) { return nnx_net_add_batchnorm(net, s->a, s->eps, err); }
ADD(add_act)       { return nnx_net_add_act(net, s->act, s->a, err); }
ADD(add_layernorm) { return nnx_net_add_layernorm(net, s->eps, err); }
ADD(add_gap)       { (void)s; return nnx_net_add_global_avgpool(net, err); }
ADD(add_residual)  { (void)s; return nnx_net_begin_residual(net, err); }
ADD(add_residual_add) { return nnx_net_end_residual(net, s->project, err); }

/* --- passes ------------------------------------------------------------------ */

#define FWD(fn) static const float *fn(nnx_net *net, nnx_layer *L, const float *x, int n)
#define BWD(fn) static const float *fn(nnx_net *net, nnx_layer *L, const float *dy, float *dx, int n)

FWD(dense_fwd)     { (void)net; return nnx_dense_forward(L, x, n); }
BWD(dense_bwd)     { (void)net; return nnx_dense_backward(L, dy, dx, n); }
FWD(conv_fwd)      { (void)net; return nnx_conv_forward(L, x, n); }
BWD(conv_bwd)      { (void)net; return nnx_conv_backward(L, dy, dx, n); }
/* A pool fused into the batch norm two layers before: that pass pooled. */
FWD(pool_fwd)      { (void)net; return L->fused ? L->out : nnx_pool_forward(L, x, n); }
BWD(pool_bwd)      { (void)net; return nnx_pool_backward(L, dy, dx, n); }
FWD(flatten_fwd)   { (void)net; return nnx_flatten_forward(L, x, n); }
BWD(flatten_bwd)   { (void)net; return nnx_flatten_backward(L, dy, dx, n); }
FWD(dropout_fwd)   { return nnx_dropout_forward(L, x, n, L->train, &net->dropout_rng); }
BWD(dropout_bwd)   { (void)net; return nnx_dropout_backward(L, dy, dx, n); }
FWD(batchnorm_fwd) { (void)net; return nnx_batchnorm_forward(L, x, n, L->train); }
BWD(batchnorm_bwd) { (void)net; return nnx_batchnorm_backward(L, dy, dx, n); }
/* An activation fused into the batch norm before: that pass wrote its
 * output and its backward does both. */
FWD(act_fwd)       { (void)net; return L->fused ? L->out : nnx_act_forward(L, x, n); }
BWD(act_bwd)       { (void)net; return L->fused ? dy : nnx_act_backward(L, dy, dx, n); }
FWD(layernorm_fwd) { (void)net; return nnx_layernorm_forward(L, x, n); }
BWD(layernorm_bwd) { (void)net; return nnx_layernorm_backward(L, dy, dx, n); }
FWD(gap_fwd)       { (void)net; return nnx_gap_forward(L, x, n); }
BWD(gap_bwd)       { (void)net; return nnx_gap_backward(L, dy, dx, n); }
/* A block's start passes its input on (its x is the block's input, which the
 * add reads); backward adds the skip path's gradient. */
FWD(residual_fwd)  { (void)net; (void)L; (void)n; return x; }
BWD(residual_bwd)
{
    return nnx_residual_begin_backward(L, &net->layers[L->info.pair], dy, dx, n);
}
FWD(residual_add_fwd) { return nnx_residual_forward(L, &net->layers[L->info.pair], x, n); }
BWD(residual_add_bwd) { return nnx_residual_backward(L, &net->layers[L->info.pair], dy, dx, n); }

/* --- workspaces -------------------------------------------------------------- */

#define WS(fn) static size_t fn(const nnx_net *net, const nnx_layer *L, int max_batch)

WS(dense_ws)     { (void)net; return nnx_dense_ws_floats(L, max_batch); }
WS(conv_ws)      { (void)net; return nnx_conv_ws_floats(L, max_batch); }
WS(dropout_ws)   { (void)net; return (size_t)max_batch * (size_t)L->out_size; }  /* the scaled mask */
WS(batchnorm_ws) { (void)net; return nnx_batchnorm_ws_floats(L, max_batch); }
WS(act_ws)       { (void)net; return nnx_act_ws_floats(L, max_batch); }
WS(layernorm_ws) { (void)net; return nnx_layernorm_ws_floats(L, max_batch); }
WS(residual_add_ws)
{
    return nnx_residual_ws_floats(L, &net->layers[L->info.pair], max_batch);
}

/* --- cost: multiply-adds of one sample's forward ------------------------------ */

static double dense_macs(const nnx_layer *L)
{
    const nnx_layer_info *I = &L->info;
    return (double)I->units * I->in_c * I->in_h * I->in_w;
}

static double conv_macs(const nnx_layer *L)
{
    const nnx_layer_info *I = &L->info;
    return (double)I->units * I->in_c * I->kernel * I->kernel * I->out_h * I->out_w;
}

static double residual_add_macs(const nnx_layer *L)
{
    const nnx_layer_info *I = &L->info;
    if (!L->proj)
        return 0;
    return I->kernel ? (double)I->units * I->in_h * I->in_w * L->proj->info.in_c
                     : (double)I->units * L->proj->in_size;
}

/* --- the table ------------------------------------------------------------------ */

#define ARG(n, f) { n, NNX_LF_##f }

static const nnx_layer_kind_info kinds[] = {
    { NNX_LAYER_DENSE, "dense", { ARG("units", UNITS), ARG("bias", BIAS) }, 0, false,
      add_dense, dense_fwd, dense_bwd, dense_ws, nnx_init_linear, dense_macs },
    { NNX_LAYER_CONV, "conv",
      { ARG("filters", UNITS), ARG("kernel", KERNEL), ARG("stride", STRIDE), ARG("pad", PAD) },
      0, false, add_conv, conv_fwd, conv_bwd, conv_ws, nnx_init_linear, conv_macs },
    { NNX_LAYER_MAXPOOL, "maxpool", { ARG("size", KERNEL), ARG("stride", STRIDE) }, 0, true,
      add_maxpool, pool_fwd, pool_bwd, NULL, NULL, NULL },
    { NNX_LAYER_AVGPOOL, "avgpool", { ARG("size", KERNEL), ARG("stride", STRIDE) }, 0, true,
      add_avgpool, pool_fwd, pool_bwd, NULL, NULL, NULL },
    { NNX_LAYER_FLATTEN, "flatten", { ARG(NULL, NONE) }, 0, true,
      add_flatten, flatten_fwd, flatten_bwd, NULL, NULL, NULL },
    { NNX_LAYER_DROPOUT, "dropout", { ARG("p", A) }, 0, true,
      add_dropout, dropout_fwd, dropout_bwd, dropout_ws, NULL, NULL },
    { NNX_LAYER_BATCHNORM, "batchnorm", { ARG("momentum", A), ARG("eps", EPS) }, NNX_MATCH_EPS,
      true, add_batchnorm, batchnorm_fwd, batchnorm_bwd, batchnorm_ws, nnx_init_batchnorm, NULL },
    /* its one argument is the activation's parameter, named by its own row */
    { NNX_LAYER_ACT, "activation", { ARG(NULL, A) }, NNX_MATCH_ACT | NNX_MATCH_A, false,
      add_act, act_fwd, act_bwd, act_ws, NULL, NULL },
    { NNX_LAYER_LAYERNORM, "layernorm", { ARG("eps", EPS) }, NNX_MATCH_EPS, true,
      add_layernorm, layernorm_fwd, layernorm_bwd, layernorm_ws, nnx_init_layernorm, NULL },
    { NNX_LAYER_GLOBAL_AVGPOOL, "global_avgpool", { ARG(NULL, NONE) }, 0, true,
      add_gap, gap_fwd, gap_bwd, NULL, NULL, NULL },
    { NNX_LAYER_RESIDUAL, "residual", { ARG("project", PROJECT) }, 0, true,
      add_residual, residual_fwd, residual_bwd, NULL, NULL, NULL },
    /* the block's end: `project` is its start's */
    { NNX_LAYER_RESIDUAL_ADD, "residual add", { ARG("project", PROJECT) }, 0, true,
      add_residual_add, residual_add_fwd, residual_add_bwd, residual_add_ws,
      nnx_init_projection, residual_add_macs },
};

const nnx_layer_kind_info *nnx_layer_kind_of(unsigned code)
{
    return code < sizeof kinds / sizeof kinds[0] ? &kinds[code] : NULL;
}

size_t nnx_layer_kind_count(void)
{
    return sizeof kinds / sizeof kinds[0];
}

int nnx_net_add(nnx_net *net, enum nnx_layer_kind kind, const nnx_layer_spec *s,
                nnx_rt_error *err)
{
    const nnx_layer_kind_info *K = nnx_layer_kind_of((unsigned)kind);
    if (!K)
        return nnx_rt_fail(err, "layer %d: unknown layer kind %d", net ? nnx_net_nlayers(net) + 1 : 0,
                           (int)kind);
    return K->add(net, s, err);
}
