/* init.c — the initial weights: He or Xavier normal by the activation that
 * follows each dense or conv layer (and residual projection), zero biases,
 * batch and layer norm as the identity. */
#include <math.h>
#include <string.h>

#include "rt/layer.h"

/* True when the first activation after layer i (looking past layers that do
 * not change the scale much: norms, dropout, pools, flatten, residual marks) is
 * one that wants He weights (its table row says); false for the others,
 * another dense/conv or the end of the network. */
static bool relu_like_after(const nnx_net *net, int i)
{
    for (int j = i + 1; j < net->nlayers; j++) {
        const nnx_layer_info *I = &net->layers[j].info;
        switch (I->kind) {
        case NNX_LAYER_BATCHNORM:
        case NNX_LAYER_LAYERNORM:
        case NNX_LAYER_GLOBAL_AVGPOOL:
        case NNX_LAYER_RESIDUAL:
        case NNX_LAYER_RESIDUAL_ADD:
        case NNX_LAYER_DROPOUT:
        case NNX_LAYER_MAXPOOL:
        case NNX_LAYER_AVGPOOL:
        case NNX_LAYER_FLATTEN:
            continue;
        case NNX_LAYER_ACT:
            return nnx_act_info_of(I->act)->he_init;
        default:
            return false;
        }
    }
    return false;
}

/* He or Xavier normal weights and zero biases of a dense or conv record L
 * whose next activation comes after layer i. */
static void init_linear(const nnx_net *net, int i, nnx_layer *L, nnx_rng *rng)
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

void nnx_net_init_weights(nnx_net *net, nnx_rng *rng)
{
    for (int i = 0; i < net->nlayers; i++) {
        nnx_layer *L = &net->layers[i];
        const nnx_layer_info *I = &L->info;
        if (I->kind == NNX_LAYER_DENSE || I->kind == NNX_LAYER_CONV) {
            init_linear(net, i, L, rng);
        } else if (I->kind == NNX_LAYER_RESIDUAL_ADD && L->proj) {
            init_linear(net, i, L->proj, rng);
        } else if (I->kind == NNX_LAYER_LAYERNORM) {
            size_t d = (size_t)I->in_c * I->in_h * I->in_w;
            for (size_t j = 0; j < d; j++) {
                L->w[j] = 1.0f;       /* gamma */
                L->w[d + j] = 0.0f;   /* beta */
            }
        } else if (I->kind == NNX_LAYER_BATCHNORM) {
            int c = I->in_c;
            for (int j = 0; j < c; j++) {
                L->w[j] = 1.0f;       /* gamma */
                L->w[c + j] = 0.0f;   /* beta */
                L->st[j] = 0.0f;      /* running mean */
                L->st[c + j] = 1.0f;  /* running var */
            }
        }
    }
}
