/* optim_table.c — the one table of optimizers: each one's name and its arguments as fields of nnx_optim_conf. */
#include "nnx/rt/optim.h"

#define ARG(n, f) { n, NNX_OF_##f }

static const nnx_optim_info optims[] = {
    { NNX_OPTIM_SGD, "sgd",
      { ARG("lr", LR), ARG("momentum", MOMENTUM), ARG("nesterov", NESTEROV),
        ARG("weight_decay", WEIGHT_DECAY) } },
    { NNX_OPTIM_ADAM, "adam",
      { ARG("lr", LR), ARG("beta1", BETA1), ARG("beta2", BETA2), ARG("eps", EPS),
        ARG("weight_decay", WEIGHT_DECAY) } },
    { NNX_OPTIM_ADAMW, "adamw",
      { ARG("lr", LR), ARG("beta1", BETA1), ARG("beta2", BETA2), ARG("eps", EPS),
        ARG("weight_decay", WEIGHT_DECAY) } },
    { NNX_OPTIM_RMSPROP, "rmsprop",
      { ARG("lr", LR), ARG("alpha", ALPHA), ARG("eps", EPS), ARG("weight_decay", WEIGHT_DECAY) } },
};

const nnx_optim_info *nnx_optim_info_of(unsigned code)
{
    return code < sizeof optims / sizeof optims[0] ? &optims[code] : NULL;
}

size_t nnx_optim_count(void)
{
    return sizeof optims / sizeof optims[0];
}

/* The double field f of c, or NULL (nesterov is an int; NONE is none). */
static double *field(nnx_optim_conf *c, enum nnx_optim_field f)
{
    switch (f) {
    case NNX_OF_LR:           return &c->lr;
    case NNX_OF_MOMENTUM:     return &c->momentum;
    case NNX_OF_WEIGHT_DECAY: return &c->weight_decay;
    case NNX_OF_BETA1:        return &c->beta1;
    case NNX_OF_BETA2:        return &c->beta2;
    case NNX_OF_EPS:          return &c->eps;
    case NNX_OF_ALPHA:        return &c->alpha;
    case NNX_OF_NESTEROV:
    case NNX_OF_NONE:         break;
    }
    return NULL;
}

void nnx_optim_conf_set(nnx_optim_conf *c, enum nnx_optim_field f, double v)
{
    double *p = field(c, f);
    if (p)
        *p = v;
    else if (f == NNX_OF_NESTEROV)
        c->nesterov = v != 0;
}

double nnx_optim_conf_get(const nnx_optim_conf *c, enum nnx_optim_field f)
{
    nnx_optim_conf copy = *c;
    const double *p = field(&copy, f);
    return p ? *p : f == NNX_OF_NESTEROV ? c->nesterov : 0;
}
