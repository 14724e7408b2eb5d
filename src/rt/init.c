/* init.c — the initial weights: He or Xavier normal by the activation that
 * follows each dense or conv layer (and residual projection), zero biases,
 * batch and layer norm as the identity. */
#include <math.h>
#include <string.h>

#include "rt/layer.h"

/* True when the first activation after layer i (looking past the kinds whose
 * row says they keep the scale: norms, dropout, pools, flatten, residual
 * marks) is one that wants He weights (its table row says); false for the
 * others, another dense/conv or the end of the network. */
static bool relu_like_after(const nnx_net *net, int i)
{
    for (int j = i + 1; j < net->nlayers; j++) {
        const nnx_layer_info *I = &net->layers[j].info;
        if (I->kind == NNX_LAYER_ACT)
            return nnx_act_info_of(I->act)->he_init;
        if (!nnx_layer_kind_of(I->kind)->keeps_scale)
            return false;
    }
    return false;
}

/* He or Xavier normal weights and zero biases of a dense or conv record L
 * whose next activation comes after layer i. */
void nnx_init_linear(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng)
{
    const nnx_layer_info *I = &L->info;
    int k = I->kind == NNX_LAYER_CONV ? I->kernel : 1;
    int in = I->kind == NNX_LAYER_CONV ? I->in_c : L->in_size;
    double fan_in = (double)in * k * k, fan_out = (double)I->units * k * k;
    double std = relu_like_after(net, i) ? sqrt(2.0 / fan_in) : sqrt(2.0 / (fan_in + fan_out));
    size_t nw = (size_t)I->units * in * k * k;
    for (size_t j = 0; j < nw; j++)
        L->w[j] = (float)(std * nnx_rng_normal(rng));
    if (I->bias)
        memset(L->w + nw, 0, (size_t)I->units * sizeof(float));
}

void nnx_init_projection(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng)
{
    if (L->proj)
        nnx_init_linear(net, i, L->proj, rng);
}

void nnx_init_layernorm(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng)
{
    (void)net, (void)i, (void)rng;
    const nnx_layer_info *I = &L->info;
    size_t d = (size_t)I->in_c * I->in_h * I->in_w;
    for (size_t j = 0; j < d; j++) {
        L->w[j] = 1.0f;       /* gamma */
        L->w[d + j] = 0.0f;   /* beta */
    }
}

void nnx_init_batchnorm(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng)
{
    (void)net, (void)i, (void)rng;
    int c = L->info.in_c;
    for (int j = 0; j < c; j++) {
        L->w[j] = 1.0f;       /* gamma */
        L->w[c + j] = 0.0f;   /* beta */
        L->st[j] = 0.0f;      /* running mean */
        L->st[c + j] = 1.0f;  /* running var */
    }
}

/* Each layer in order, by its row's rule (so the draws come in layer order). */
void nnx_net_init_weights(nnx_net *net, nnx_rng *rng)
{
    for (int i = 0; i < net->nlayers; i++) {
        const nnx_layer_kind_info *K = nnx_layer_kind_of(net->layers[i].info.kind);
        if (K->init)
            K->init(net, i, &net->layers[i], rng);
    }
}
