/* net.c — building a network layer by layer, checking shapes, allocating it
 * once, and running the layers in order (forward) and in reverse (backward). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/clock.h"
#include "nnx/rt/net.h"
#include "nnx/rt/optim.h"
#include "rt/layer.h"

#define MAX_SIDE    (1 << 24)           /* any one of C, H, W */
#define MAX_SAMPLE  (1 << 28)           /* floats in one sample */
#define MAX_PARAMS  ((size_t)1 << 31)   /* floats in the whole parameter buffer */
#define MAX_BATCH   (1 << 24)

nnx_net *nnx_net_new(int c, int h, int w, nnx_rt_error *err)
{
    if (c < 1 || h < 1 || w < 1 || c > MAX_SIDE || h > MAX_SIDE || w > MAX_SIDE
        || (int64_t)c * h * w > MAX_SAMPLE) {
        nnx_rt_fail(err, "input shape %d×%d×%d is not a valid sample shape", c, h, w);
        return NULL;
    }
    nnx_net *net = calloc(1, sizeof *net);
    if (!net) {
        nnx_rt_fail(err, "out of memory");
        return NULL;
    }
    net->in_c = c;
    net->in_h = h;
    net->in_w = w;
    net->threads = 1;
    return net;
}

void nnx_net_free(nnx_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->nlayers; i++)
        free(net->layers[i].proj);
    free(net->layers);
    free(net->params);
    free(net->grads);
    free(net->state);
    free(net->arena);
    free(net->profile);
    nnx_team_free(net->team);
    free(net);
}

/* --- appending layers ------------------------------------------------------ */

/* The shape the next layer receives: the last layer's output, or the input. */
static void tail_shape(const nnx_net *net, int *c, int *h, int *w, enum nnx_layout *lay)
{
    if (net->nlayers == 0) {
        *c = net->in_c; *h = net->in_h; *w = net->in_w;
        *lay = NNX_NCHW;
    } else {
        const nnx_layer *L = &net->layers[net->nlayers - 1];
        *c = L->info.out_c; *h = L->info.out_h; *w = L->info.out_w;
        *lay = L->out_layout;
    }
}

/* A fresh layer record of `kind` reading the net's current output; the caller
 * fills the rest and calls push.  Fails on a compiled or NULL net. */
static int start(nnx_net *net, nnx_layer *L, enum nnx_layer_kind kind, const char *name,
                 nnx_rt_error *err)
{
    if (!net)
        return nnx_rt_fail(err, "%s: no network", name);
    if (net->compiled)
        return nnx_rt_fail(err, "layer %d (%s): the network is already compiled",
                           net->nlayers + 1, name);
    memset(L, 0, sizeof *L);
    L->info.kind = kind;
    L->info.name = name;
    tail_shape(net, &L->info.in_c, &L->info.in_h, &L->info.in_w, &L->in_layout);
    L->info.out_c = L->info.in_c;
    L->info.out_h = L->info.in_h;
    L->info.out_w = L->info.in_w;
    L->out_layout = L->in_layout;
    return 0;
}

static int push(nnx_net *net, nnx_layer *L, nnx_rt_error *err)
{
    nnx_layer_info *I = &L->info;
    /* c·h (two ints: it fits in 64 bits) is checked before ·w, so that no
     * product overflows, whatever sizes a weights file lists */
    int64_t ch = (int64_t)I->out_c * I->out_h;
    int64_t out = ch < 0 || ch > MAX_SAMPLE ? (int64_t)MAX_SAMPLE + 1 : ch * I->out_w;
    if (I->out_c > MAX_SIDE || out > MAX_SAMPLE)
        return nnx_rt_fail(err, "layer %d (%s): output %d×%d×%d is too large",
                           net->nlayers + 1, I->name, I->out_c, I->out_h, I->out_w);
    if (net->nparams + I->nparams > MAX_PARAMS)
        return nnx_rt_fail(err, "layer %d (%s): the network would have more than %zu parameters",
                           net->nlayers + 1, I->name, MAX_PARAMS);
    if (net->nlayers == net->cap) {
        int cap = net->cap ? 2 * net->cap : 8;
        nnx_layer *grown = realloc(net->layers, (size_t)cap * sizeof *grown);
        if (!grown)
            return nnx_rt_fail(err, "out of memory");
        net->layers = grown;
        net->cap = cap;
    }
    L->in_size = I->in_c * I->in_h * I->in_w;
    L->out_size = (int)out;
    I->param_off = net->nparams;
    I->state_off = net->nstate;
    net->nparams += I->nparams;
    net->nstate += I->nstate;
    net->layers[net->nlayers++] = *L;
    return 0;
}

int nnx_layer_start(nnx_net *net, nnx_layer *L, enum nnx_layer_kind kind, const char *name,
                    nnx_rt_error *err)
{
    return start(net, L, kind, name, err);
}

int nnx_layer_push(nnx_net *net, nnx_layer *L, nnx_rt_error *err)
{
    return push(net, L, err);
}

int nnx_net_add_dense(nnx_net *net, int units, bool bias, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_DENSE, "dense", err))
        return -1;
    int in = L.info.in_c * L.info.in_h * L.info.in_w;
    if (units < 1 || units > MAX_SIDE)
        return nnx_rt_fail(err, "layer %d (dense): units must be at least 1, not %d",
                           net->nlayers + 1, units);
    L.info.units = units;
    L.info.bias = bias;
    L.info.out_c = units;
    L.info.out_h = L.info.out_w = 1;
    L.out_layout = NNX_NCHW;
    L.info.nparams = (size_t)units * in + (bias ? (size_t)units : 0);
    return push(net, &L, err);
}

int nnx_net_add_conv(nnx_net *net, int filters, int kernel, int stride, int pad, bool bias,
                     nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_CONV, "conv", err))
        return -1;
    nnx_layer_info *I = &L.info;
    int at = net->nlayers + 1;
    if (filters < 1 || filters > MAX_SIDE)
        return nnx_rt_fail(err, "layer %d (conv): filters must be at least 1, not %d", at, filters);
    if (kernel < 1 || kernel > MAX_SIDE)
        return nnx_rt_fail(err, "layer %d (conv): kernel must be at least 1, not %d", at, kernel);
    if (stride < 1 || stride > MAX_SIDE)
        return nnx_rt_fail(err, "layer %d (conv): stride must be at least 1, not %d", at, stride);
    if (pad < 0 || pad > MAX_SIDE)
        return nnx_rt_fail(err, "layer %d (conv): pad must be 0 or more, not %d", at, pad);
    int64_t ph = (int64_t)I->in_h + 2 * pad, pw = (int64_t)I->in_w + 2 * pad;
    if (kernel > ph || kernel > pw)
        return nnx_rt_fail(err, "layer %d (conv): kernel %d is larger than the %s input %lld×%lld",
                           at, kernel, pad ? "padded" : "", (long long)ph, (long long)pw);
    I->units = filters;
    I->kernel = kernel;
    I->stride = stride;
    I->pad = pad;
    I->bias = bias;
    I->out_c = filters;
    I->out_h = (int)((ph - kernel) / stride + 1);
    I->out_w = (int)((pw - kernel) / stride + 1);
    L.out_layout = NNX_CNHW;
    int64_t ckk = (int64_t)I->in_c * kernel * kernel;
    if (ckk > MAX_SAMPLE)
        return nnx_rt_fail(err, "layer %d (conv): %d channels × %d×%d kernel is too large",
                           at, I->in_c, kernel, kernel);
    I->nparams = (size_t)filters * (size_t)ckk + (bias ? (size_t)filters : 0);
    return push(net, &L, err);
}

static int add_pool(nnx_net *net, enum nnx_layer_kind kind, const char *name, int size,
                    int stride, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, kind, name, err))
        return -1;
    nnx_layer_info *I = &L.info;
    int at = net->nlayers + 1;
    if (size < 1 || size > MAX_SIDE)
        return nnx_rt_fail(err, "layer %d (%s): size must be at least 1, not %d", at, name, size);
    if (stride < 1 || stride > MAX_SIDE)
        return nnx_rt_fail(err, "layer %d (%s): stride must be at least 1, not %d", at, name, stride);
    if (size > I->in_h || size > I->in_w)
        return nnx_rt_fail(err, "layer %d (%s): window %d×%d is larger than its input %d×%d",
                           at, name, size, size, I->in_h, I->in_w);
    I->kernel = size;
    I->stride = stride;
    I->out_h = (I->in_h - size) / stride + 1;
    I->out_w = (I->in_w - size) / stride + 1;
    return push(net, &L, err);
}

int nnx_net_add_maxpool(nnx_net *net, int size, int stride, nnx_rt_error *err)
{
    return add_pool(net, NNX_LAYER_MAXPOOL, "maxpool", size, stride, err);
}

int nnx_net_add_avgpool(nnx_net *net, int size, int stride, nnx_rt_error *err)
{
    return add_pool(net, NNX_LAYER_AVGPOOL, "avgpool", size, stride, err);
}

int nnx_net_add_flatten(nnx_net *net, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_FLATTEN, "flatten", err))
        return -1;
    L.info.out_c = L.info.in_c * L.info.in_h * L.info.in_w;
    L.info.out_h = L.info.out_w = 1;
    L.out_layout = NNX_NCHW;
    return push(net, &L, err);
}

int nnx_net_add_dropout(nnx_net *net, float p, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_DROPOUT, "dropout", err))
        return -1;
    if (!(p >= 0.0f && p < 1.0f))
        return nnx_rt_fail(err, "layer %d (dropout): p must be in [0, 1), not %g",
                           net->nlayers + 1, (double)p);
    L.info.a = p;
    return push(net, &L, err);
}

int nnx_net_add_batchnorm(nnx_net *net, float momentum, float eps, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_BATCHNORM, "batchnorm", err))
        return -1;
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return nnx_rt_fail(err, "layer %d (batchnorm): momentum must be in [0, 1], not %g",
                           net->nlayers + 1, (double)momentum);
    if (!(eps > 0.0f && isfinite(eps)))
        return nnx_rt_fail(err, "layer %d (batchnorm): eps must be positive, not %g",
                           net->nlayers + 1, (double)eps);
    L.info.a = momentum;
    L.info.eps = eps;
    L.info.nparams = 2 * (size_t)L.info.in_c;   /* gamma, beta per channel */
    L.info.nstate = 2 * (size_t)L.info.in_c;    /* running mean, running var */
    return push(net, &L, err);
}

int nnx_net_add_act(nnx_net *net, enum nnx_act act, float a, nnx_rt_error *err)
{
    nnx_layer L;
    const nnx_act_info *A = nnx_act_info_of((unsigned)act);
    if (!A)
        return nnx_rt_fail(err, "layer %d: unknown activation %d",
                           net ? net->nlayers + 1 : 0, (int)act);
    if (start(net, &L, NNX_LAYER_ACT, A->name, err))
        return -1;
    if (!isfinite(a))
        return nnx_rt_fail(err, "layer %d (%s): parameter %g is not finite",
                           net->nlayers + 1, A->name, (double)a);
    if (A->param == NNX_ACT_PARAM_POSITIVE && !(a > 0.0f))
        return nnx_rt_fail(err, "layer %d (%s): %s must be positive, not %g",
                           net->nlayers + 1, A->name, A->param_name, (double)a);
    L.info.act = act;
    L.info.a = a;
    return push(net, &L, err);
}

int nnx_net_add_layernorm(nnx_net *net, float eps, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_LAYERNORM, "layernorm", err))
        return -1;
    if (!(eps > 0.0f && isfinite(eps)))
        return nnx_rt_fail(err, "layer %d (layernorm): eps must be positive, not %g",
                           net->nlayers + 1, (double)eps);
    L.info.eps = eps;
    L.info.nparams = 2 * (size_t)L.info.in_c * L.info.in_h * L.info.in_w;  /* gamma, beta */
    return push(net, &L, err);
}

int nnx_net_add_global_avgpool(nnx_net *net, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_GLOBAL_AVGPOOL, "global_avgpool", err))
        return -1;
    L.info.out_h = L.info.out_w = 1;
    L.out_layout = NNX_NCHW;
    return push(net, &L, err);
}

int nnx_net_begin_residual(nnx_net *net, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_RESIDUAL, "residual", err))
        return -1;
    if (net->nopen == NNX_MAX_RESIDUAL_DEPTH)
        return nnx_rt_fail(err, "layer %d (residual): blocks nested more than %d deep",
                           net->nlayers + 1, NNX_MAX_RESIDUAL_DEPTH);
    L.info.pair = -1;
    if (push(net, &L, err))
        return -1;
    net->open[net->nopen++] = net->nlayers - 1;
    return 0;
}

enum nnx_proj nnx_residual_projection(int in_c, int in_h, int in_w, int out_c, int out_h,
                                      int out_w, int *stride)
{
    *stride = 1;
    if (in_c == out_c && in_h == out_h && in_w == out_w)
        return NNX_PROJ_IDENTITY;
    if (out_h == 1 && out_w == 1)
        return NNX_PROJ_DENSE;
    int most = in_h > in_w ? in_h : in_w;
    for (int s = 1; s <= most; s++)
        if ((in_h - 1) / s + 1 == out_h && (in_w - 1) / s + 1 == out_w) {
            *stride = s;
            return NNX_PROJ_CONV;
        }
    return NNX_PROJ_IMPOSSIBLE;
}

int nnx_net_end_residual(nnx_net *net, bool project, nnx_rt_error *err)
{
    nnx_layer L;
    if (start(net, &L, NNX_LAYER_RESIDUAL_ADD, "residual add", err))
        return -1;
    const int at = net->nlayers + 1;
    if (net->nopen == 0)
        return nnx_rt_fail(err, "layer %d (residual add): no residual block is open", at);
    const int b = net->open[net->nopen - 1];
    if (b == net->nlayers - 1)
        return nnx_rt_fail(err, "layer %d (residual add): the block has no layers", at);
    nnx_layer_info *I = &L.info;
    const nnx_layer *B = &net->layers[b];
    const int c = B->info.in_c, h = B->info.in_h, w = B->info.in_w;
    int stride;
    enum nnx_proj kind = nnx_residual_projection(c, h, w, I->in_c, I->in_h, I->in_w, &stride);
    if (kind != NNX_PROJ_IDENTITY && (!project || kind == NNX_PROJ_IMPOSSIBLE))
        return nnx_rt_fail(err, "layer %d (residual add): the block turns %d×%d×%d into "
                           "%d×%d×%d, %s", at, c, h, w, I->in_c, I->in_h, I->in_w,
                           project ? "which no 1×1 convolution or dense projection can "
                                     "match" : "and projection is off");
    I->pair = b;
    if (kind != NNX_PROJ_IDENTITY) {
        nnx_layer *P = calloc(1, sizeof *P);
        if (!P)
            return nnx_rt_fail(err, "out of memory");
        P->info.kind = kind == NNX_PROJ_CONV ? NNX_LAYER_CONV : NNX_LAYER_DENSE;
        P->info.name = kind == NNX_PROJ_CONV ? "conv" : "dense";
        P->info.in_c = c; P->info.in_h = h; P->info.in_w = w;
        P->in_layout = B->in_layout;
        P->info.units = I->in_c;
        P->info.bias = true;
        if (kind == NNX_PROJ_CONV) {
            P->info.kernel = 1;
            P->info.stride = stride;
            P->info.out_c = I->in_c; P->info.out_h = I->in_h; P->info.out_w = I->in_w;
            P->out_layout = NNX_CNHW;
            P->info.nparams = (size_t)I->in_c * c + (size_t)I->in_c;
        } else {
            P->info.out_c = I->in_c; P->info.out_h = P->info.out_w = 1;
            P->out_layout = NNX_NCHW;
            P->info.nparams = (size_t)I->in_c * c * h * w + (size_t)I->in_c;
        }
        P->in_size = c * h * w;
        P->out_size = P->info.out_c * P->info.out_h * P->info.out_w;
        I->units = P->info.units;
        I->kernel = P->info.kernel;
        I->stride = P->info.stride;
        I->bias = true;
        I->nparams = P->info.nparams;
        L.proj = P;
    }
    if (push(net, &L, err)) {
        free(L.proj);
        return -1;
    }
    net->layers[b].info.pair = net->nlayers - 1;
    net->nopen--;
    return 0;
}

int nnx_net_want_dinput(nnx_net *net, bool on, nnx_rt_error *err)
{
    if (!net)
        return nnx_rt_fail(err, "no network");
    if (net->compiled)
        return nnx_rt_fail(err, "want_dinput must be set before compiling the network");
    net->want_dinput = on;
    return 0;
}

/* --- compiling ------------------------------------------------------------- */

/* Bump allocation inside one arena: first pass measures, second hands out. */
typedef struct carver {
    unsigned char *base;
    size_t used;
} carver;

static void *carve(carver *cv, size_t bytes)
{
    size_t at = (cv->used + 63) & ~(size_t)63;
    cv->used = at + bytes;
    return cv->base ? cv->base + at : NULL;
}

/* Floats of workspace layer L needs for the net's max_batch rows (its row's rule). */
static size_t ws_floats(const nnx_net *net, const nnx_layer *L)
{
    const nnx_layer_kind_info *K = nnx_layer_kind_of(L->info.kind);
    return K->ws_floats ? K->ws_floats(net, L, net->max_batch) : 0;
}

static void lay_out(nnx_net *net, carver *cv)
{
    size_t mb = (size_t)net->max_batch;
    size_t in = (size_t)nnx_net_in_size(net), out = (size_t)nnx_net_out_size(net);
    size_t widest = in;
    net->input = carve(cv, mb * in * sizeof(float));
    for (int i = 0; i < net->nlayers; i++) {
        nnx_layer *L = &net->layers[i];
        size_t o = (size_t)L->out_size;
        if (o > widest)
            widest = o;
        /* No buffer of its own for flatten of NCHW (a view), a batch norm
         * fused with its activation (it writes the activation's output) or
         * an activation whose output is not stored. */
        bool aliases = (L->info.kind == NNX_LAYER_FLATTEN && L->in_layout == NNX_NCHW)
                    || (L->info.kind == NNX_LAYER_BATCHNORM && L->fused) || L->unstored
                    || L->info.kind == NNX_LAYER_RESIDUAL;
        L->out = aliases ? NULL : carve(cv, mb * o * sizeof(float));
        size_t ws = ws_floats(net, L);
        L->ws = ws ? carve(cv, ws * sizeof(float)) : NULL;
        L->idx = L->info.kind == NNX_LAYER_MAXPOOL ? carve(cv, mb * o * sizeof(int32_t)) : NULL;
        if (L->proj) {
            nnx_layer *P = L->proj;
            P->out = carve(cv, mb * (size_t)P->out_size * sizeof(float));
            size_t pws = ws_floats(net, P);
            P->ws = pws ? carve(cv, pws * sizeof(float)) : NULL;
        }
    }
    nnx_layer *last = &net->layers[net->nlayers - 1];
    net->output = last->out_layout == NNX_CNHW ? carve(cv, mb * out * sizeof(float)) : NULL;
    net->dlogits = carve(cv, mb * out * sizeof(float));
    net->dinput = net->want_dinput ? carve(cv, mb * in * sizeof(float)) : NULL;
    net->grad[0] = carve(cv, mb * widest * sizeof(float));
    net->grad[1] = carve(cv, mb * widest * sizeof(float));
}

/* The arena (activations and workspaces, some per thread) and the team for
 * `threads` threads.  On success the net's old ones are freed and every
 * layer points into the new arena; on failure the net is as it was. */
static int provision(nnx_net *net, int threads, nnx_rt_error *err)
{
    const int old = net->threads;
    for (int i = 0; i < net->nlayers; i++) {
        net->layers[i].threads = threads;
        net->layers[i].max_batch = net->max_batch;
        if (net->layers[i].proj) {
            net->layers[i].proj->threads = threads;
            net->layers[i].proj->max_batch = net->max_batch;
        }
    }
    carver cv = {0};
    lay_out(net, &cv);
    size_t used = cv.used;
    unsigned char *arena = aligned_alloc(64, (used + 63) & ~(size_t)63);
    nnx_team *team = NULL;
    if (!arena || (threads > 1 && !(team = nnx_team_new(threads, err)))) {
        free(arena);
        for (int i = 0; i < net->nlayers; i++) {
            net->layers[i].threads = old;
            if (net->layers[i].proj)
                net->layers[i].proj->threads = old;
        }
        if (net->arena) {                   /* the measuring pass cleared them */
            cv = (carver){.base = net->arena};
            lay_out(net, &cv);
        }
        if (!arena)
            return nnx_rt_fail(err, "out of memory allocating a network for batches of %d "
                               "on %d threads (%zu MB of activations)", net->max_batch,
                               threads, used >> 20);
        return -1;
    }
    free(net->arena);
    nnx_team_free(net->team);
    net->arena = arena;
    net->team = team;
    net->threads = threads;
    cv = (carver){.base = arena};
    lay_out(net, &cv);
    for (int i = 0; i < net->nlayers; i++) {
        net->layers[i].team = team;
        if (net->layers[i].proj)
            net->layers[i].proj->team = team;
    }
    net->last_n = 0;
    if (threads > 1)
        nnx_blas_set_threads(1);
    return 0;
}

int nnx_net_set_threads(nnx_net *net, int threads, nnx_rt_error *err)
{
    if (!net)
        return nnx_rt_fail(err, "no network");
    if (threads < 1)
        threads = 1;
    if (threads > NNX_MAX_THREADS)
        return nnx_rt_fail(err, "threads must be at most %d, not %d", NNX_MAX_THREADS, threads);
    if (!net->compiled) {
        net->threads = threads;
        return 0;
    }
    if (threads == net->threads)
        return 0;
    return provision(net, threads, err);
}

/* A compile that failed: back to an uncompiled net; returns -1. */
static int undo_compile(nnx_net *net)
{
    free(net->params);
    free(net->grads);
    free(net->state);
    net->params = net->grads = net->state = NULL;
    net->max_batch = 0;
    return -1;
}

int nnx_net_compile(nnx_net *net, int max_batch, uint64_t seed, nnx_rt_error *err)
{
    if (!net)
        return nnx_rt_fail(err, "no network");
    if (net->compiled)
        return nnx_rt_fail(err, "the network is already compiled");
    if (net->nlayers == 0)
        return nnx_rt_fail(err, "the network has no layers");
    if (net->nopen)
        return nnx_rt_fail(err, "layer %d (residual): the block is never ended",
                           net->open[net->nopen - 1] + 1);
    if (max_batch < 1 || max_batch > MAX_BATCH)
        return nnx_rt_fail(err, "max batch must be in [1, %d], not %d", MAX_BATCH, max_batch);
    /* Matrix products take int dimensions: every batch-wide matrix must fit. */
    if ((int64_t)max_batch * nnx_net_in_size(net) > INT_MAX)
        return nnx_rt_fail(err, "a batch of %d inputs of %d floats is too large",
                           max_batch, nnx_net_in_size(net));
    for (int i = 0; i < net->nlayers; i++) {
        const nnx_layer *L = &net->layers[i];
        if ((int64_t)max_batch * L->out_size > INT_MAX)
            return nnx_rt_fail(err, "layer %d (%s): a batch of %d outputs of %d floats is "
                               "too large", i + 1, L->info.name, max_batch, L->out_size);
    }

    net->max_batch = max_batch;
    /* A batch norm followed by an activation runs as one pass (norm.c). */
    for (int i = 0; i + 1 < net->nlayers; i++)
        if (net->layers[i].info.kind == NNX_LAYER_BATCHNORM
            && net->layers[i + 1].info.kind == NNX_LAYER_ACT
            && nnx_act_info_of(net->layers[i + 1].info.act)->fuses_with_batchnorm)
            net->layers[i].fused = net->layers[i + 1].fused = true;
    /* ... and a pool right after them pools each plane in that pass (not
     * after a flat batch norm: a pool needs planes). */
    for (int i = 0; i + 2 < net->nlayers; i++) {
        nnx_layer *B = &net->layers[i], *P = &net->layers[i + 2];
        if (B->info.kind == NNX_LAYER_BATCHNORM && B->fused
            && (P->info.kind == NNX_LAYER_MAXPOOL || P->info.kind == NNX_LAYER_AVGPOOL)
            && !(B->in_layout == NNX_NCHW && B->info.in_h * B->info.in_w == 1))
            B->pools = P->fused = true;
    }
    /* ... where the activation's output then lives in that pass alone,
     * unless its backward reads it. */
    for (int i = 0; i + 1 < net->nlayers; i++) {
        nnx_layer *B = &net->layers[i], *A = &net->layers[i + 1];
        if (B->pools && !nnx_act_info_of(A->info.act)->backward_reads_y)
            A->unstored = true;
    }
    /* ... and a batch norm right after a direct convolution takes its batch
     * statistics from sums the convolution made as it wrote its output. */
    for (int i = 0; i + 1 < net->nlayers; i++) {
        nnx_layer *C = &net->layers[i], *B = &net->layers[i + 1];
        if (C->info.kind == NNX_LAYER_CONV && nnx_conv_is_direct(C)
            && B->info.kind == NNX_LAYER_BATCHNORM)
            C->moments = B->moments = true;
    }
    /* ... and, when the convolution wants no input gradient (the first
     * layer with parameters, the input's gradient not wanted), makes the
     * convolution's weight gradient in its backward without ever making the
     * gradient it would have handed the convolution (norm.c,
     * conv_direct.c). */
    for (int i = 0; i + 1 < net->nlayers && !net->want_dinput; i++) {
        nnx_layer *C = &net->layers[i];
        if (C->info.nparams) {
            if (C->moments)
                C->wgrad_fused = net->layers[i + 1].wgrad_fused = true;
            break;
        }
    }
    /* A dense layer right after a dropout applies the dropout's mask to
     * the input gradient it makes (dense.c, dropout.c). */
    for (int i = 0; i + 1 < net->nlayers; i++) {
        nnx_layer *D = &net->layers[i], *F = &net->layers[i + 1];
        if (D->info.kind == NNX_LAYER_DROPOUT && F->info.kind == NNX_LAYER_DENSE
            && F->in_layout == NNX_NCHW)
            D->drop_fused = F->drop_fused = true;
    }
    /* A pool right before a flatten writes its CNHW input's planes out
     * sample-major, so the flatten is a view, not a transpose (pool.c). */
    for (int i = 0; i + 1 < net->nlayers; i++) {
        nnx_layer *P = &net->layers[i], *F = &net->layers[i + 1];
        if ((P->info.kind == NNX_LAYER_MAXPOOL || P->info.kind == NNX_LAYER_AVGPOOL)
            && P->in_layout == NNX_CNHW && F->info.kind == NNX_LAYER_FLATTEN)
            P->out_layout = F->in_layout = NNX_NCHW;
    }
    size_t np = net->nparams ? net->nparams : 1, ns = net->nstate ? net->nstate : 1;
    net->params = calloc(np, sizeof(float));
    net->grads = calloc(np, sizeof(float));
    net->state = calloc(ns, sizeof(float));
    if (!net->params || !net->grads || !net->state) {
        nnx_rt_fail(err, "out of memory allocating a network of %zu parameters", net->nparams);
        return undo_compile(net);
    }
    if (provision(net, net->threads, err) < 0)
        return undo_compile(net);
    for (int i = 0; i < net->nlayers; i++) {
        nnx_layer *L = &net->layers[i];
        L->w = net->params + L->info.param_off;
        L->gw = net->grads + L->info.param_off;
        L->st = net->state + L->info.state_off;
        if (L->proj) {
            L->proj->w = L->w;
            L->proj->gw = L->gw;
        }
    }
    net->first_param = net->nlayers;
    for (int i = net->nlayers - 1; i >= 0; i--)
        if (net->layers[i].info.nparams)
            net->first_param = i;
    nnx_rng init;
    nnx_rng_seed(&init, seed, NNX_STREAM_INIT);
    nnx_net_init_weights(net, &init);
    nnx_rng_seed(&net->dropout_rng, seed, NNX_STREAM_DROPOUT);
    net->compiled = true;
    return 0;
}

/* --- running --------------------------------------------------------------- */

const float *nnx_net_forward(nnx_net *net, const float *x, int n, bool train)
{
    if (!net || !net->compiled || !x || n < 1 || n > net->max_batch)
        return NULL;
    if (x != net->input)
        memcpy(net->input, x, (size_t)n * nnx_net_in_size(net) * sizeof(float));
    return nnx_net_forward_kept(net, net->input, n, train);
}

const float *nnx_net_forward_kept(nnx_net *net, const float *x, int n, bool train)
{
    if (!net || !net->compiled || !x || n < 1 || n > net->max_batch)
        return NULL;
    const float *cur = x;
    double *prof = train ? net->profile : NULL;
    for (int i = 0; i < net->nlayers; i++) {
        nnx_layer *L = &net->layers[i];
        L->x = cur;
        L->train = train;
        double t0 = prof ? nnx_clock_seconds() : 0;
        cur = nnx_layer_kind_of(L->info.kind)->forward(net, L, cur, n);
        if (prof)
            prof[2 * i] += nnx_clock_seconds() - t0;
        L->y = cur;
    }
    net->last_n = n;
    if (net->output) {
        const nnx_layer *last = &net->layers[net->nlayers - 1];
        nnx_cnhw_to_nchw(cur, net->output, n, last->info.out_c, last->info.out_h * last->info.out_w);
        cur = net->output;
    }
    return cur;
}

/* Layer u's Σ g² into its record: a dense layer's from the rows its
 * backward summed, any other's in a pass over its slice. */
static void grad_sumsq_unit(void *p, int u, int tid)
{
    (void)tid;
    nnx_layer *L = &((nnx_net *)p)->layers[u];
    if (!L->info.nparams)
        L->grad_sumsq = 0;
    else if (L->info.kind == NNX_LAYER_DENSE)
        L->grad_sumsq = nnx_dense_grad_sumsq(L);
    else
        L->grad_sumsq = nnx_sum_squares(L->gw, L->info.nparams);
}

double nnx_net_grad_norm(nnx_net *net)
{
    if (!net || !net->compiled || net->last_n == 0)
        return NAN;
    nnx_team_run(net->team, net->nlayers, grad_sumsq_unit, net);
    double s = 0;
    for (int i = 0; i < net->nlayers; i++)
        s += net->layers[i].grad_sumsq;
    return sqrt(s);
}

int nnx_net_backward(nnx_net *net, const float *dlogits)
{
    if (!net || !net->compiled || net->last_n == 0 || !dlogits)
        return -1;
    int n = net->last_n;
    const float *dy = dlogits;
    if (net->output) {
        const nnx_layer *last = &net->layers[net->nlayers - 1];
        nnx_nchw_to_cnhw(dlogits, net->grad[0], n, last->info.out_c,
                         last->info.out_h * last->info.out_w);
        dy = net->grad[0];
    }
    /* Only as far down as a layer with parameters (or the input, if wanted). */
    int stop = net->want_dinput ? 0 : net->first_param;
    double *prof = net->profile;
    for (int i = net->nlayers - 1; i >= stop; i--) {
        nnx_layer *L = &net->layers[i];
        float *dx = i > stop ? (dy == net->grad[0] ? net->grad[1] : net->grad[0])
                             : net->dinput;
        double t0 = prof ? nnx_clock_seconds() : 0;
        dy = nnx_layer_kind_of(L->info.kind)->backward(net, L, dy, dx, n);
        if (prof)
            prof[2 * i + 1] += nnx_clock_seconds() - t0;
    }
    net->profile_steps += prof != NULL;
    net->last_dinput = net->want_dinput ? dy : NULL;
    return 0;
}

/* --- profiling -------------------------------------------------------------- */

int nnx_net_set_profile(nnx_net *net, bool on, nnx_rt_error *err)
{
    if (!net)
        return nnx_rt_fail(err, "no network");
    free(net->profile);
    net->profile = NULL;
    net->profile_steps = 0;
    if (on && net->nlayers > 0
        && !(net->profile = calloc(2 * (size_t)net->nlayers, sizeof *net->profile)))
        return nnx_rt_fail(err, "out of memory for the profile of %d layers", net->nlayers);
    return 0;
}

void nnx_net_profile(const nnx_net *net, int i, double *forward_s, double *backward_s)
{
    bool have = net && net->profile && i >= 0 && i < net->nlayers;
    *forward_s = have ? net->profile[2 * i] : 0;
    *backward_s = have ? net->profile[2 * i + 1] : 0;
}

long nnx_net_profile_steps(const nnx_net *net)
{
    return net ? net->profile_steps : 0;
}

/* --- flatten: a view on NCHW, a transpose on CNHW --------------------------- */

const float *nnx_flatten_forward(nnx_layer *L, const float *x, int n)
{
    if (L->in_layout == NNX_NCHW)
        return x;
    nnx_cnhw_to_nchw(x, L->out, n, L->info.in_c, L->info.in_h * L->info.in_w);
    return L->out;
}

const float *nnx_flatten_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    if (!dx)
        return NULL;
    if (L->in_layout == NNX_NCHW)
        return dy;
    nnx_nchw_to_cnhw(dy, dx, n, L->info.in_c, L->info.in_h * L->info.in_w);
    return dx;
}

void nnx_cnhw_to_nchw(const float *restrict src, float *restrict dst, int n, int c, int hw)
{
    for (int s = 0; s < n; s++)
        for (int ch = 0; ch < c; ch++)
            nnx_copy_floats(dst + ((size_t)s * c + ch) * hw, src + ((size_t)ch * n + s) * hw,
                            (size_t)hw);
}

void nnx_nchw_to_cnhw(const float *restrict src, float *restrict dst, int n, int c, int hw)
{
    for (int s = 0; s < n; s++)
        for (int ch = 0; ch < c; ch++)
            nnx_copy_floats(dst + ((size_t)ch * n + s) * hw, src + ((size_t)s * c + ch) * hw,
                            (size_t)hw);
}

/* --- queries --------------------------------------------------------------- */

float *nnx_net_input(nnx_net *net)            { return net->input; }
float *nnx_net_dlogits(nnx_net *net)          { return net->dlogits; }
const float *nnx_net_dinput(const nnx_net *net) { return net->last_dinput; }
float *nnx_net_params(nnx_net *net)           { return net->params; }
float *nnx_net_grads(nnx_net *net)            { return net->grads; }
float *nnx_net_state(nnx_net *net)            { return net->state; }
size_t nnx_net_nparams(const nnx_net *net)    { return net->nparams; }
size_t nnx_net_nstate(const nnx_net *net)     { return net->nstate; }
nnx_rng *nnx_net_dropout_rng(nnx_net *net)    { return &net->dropout_rng; }
nnx_team *nnx_net_team(nnx_net *net)          { return net->team; }
int nnx_net_nlayers(const nnx_net *net)       { return net->nlayers; }
int nnx_net_max_batch(const nnx_net *net)     { return net->max_batch; }

size_t nnx_net_snapshot_size(const nnx_net *net)
{
    return net->nparams + net->nstate;
}

void nnx_net_snapshot_take(const nnx_net *net, float *dst)
{
    memcpy(dst, net->params, net->nparams * sizeof(float));
    memcpy(dst + net->nparams, net->state, net->nstate * sizeof(float));
}

void nnx_net_snapshot_restore(nnx_net *net, const float *src)
{
    memcpy(net->params, src, net->nparams * sizeof(float));
    memcpy(net->state, src + net->nparams, net->nstate * sizeof(float));
}

int nnx_net_layer_info(const nnx_net *net, int i, nnx_layer_info *out)
{
    if (!net || i < 0 || i >= net->nlayers)
        return -1;
    *out = net->layers[i].info;
    return 0;
}

void nnx_net_in_shape(const nnx_net *net, int *c, int *h, int *w)
{
    *c = net->in_c; *h = net->in_h; *w = net->in_w;
}

void nnx_net_out_shape(const nnx_net *net, int *c, int *h, int *w)
{
    enum nnx_layout lay;
    tail_shape(net, c, h, w, &lay);
}

int nnx_net_in_size(const nnx_net *net)
{
    return net->in_c * net->in_h * net->in_w;
}

int nnx_net_out_size(const nnx_net *net)
{
    int c, h, w;
    nnx_net_out_shape(net, &c, &h, &w);
    return c * h * w;
}

double nnx_net_train_flops(const nnx_net *net, int n)
{
    double total = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const nnx_layer_kind_info *K = nnx_layer_kind_of(net->layers[i].info.kind);
        if (!K->macs)
            continue;
        double macs = K->macs(&net->layers[i]);
        /* forward, weight gradient, and input gradient unless nothing needs it */
        int passes = (i > net->first_param || net->want_dinput) ? 3 : 2;
        total += 2.0 * macs * n * passes;
    }
    return total;
}
