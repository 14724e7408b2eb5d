/* decay_table.c — the one table of learning-rate decays: each one's name and its arguments as fields of nnx_sched. */
#include "nnx/rt/lr_schedule.h"

#define ARG(n, f) { n, NNX_SF_##f }

static const nnx_decay_info decays[] = {
    { NNX_DECAY_NONE, "none", { ARG(NULL, NONE) } },
    { NNX_DECAY_COSINE, "cosine", { ARG("min_lr", MIN_LR) } },
    { NNX_DECAY_STEP, "step", { ARG("every", EVERY), ARG("gamma", GAMMA) } },
    { NNX_DECAY_MULTISTEP, "multistep", { ARG("at", AT), ARG("gamma", GAMMA) } },
    { NNX_DECAY_EXP, "exp", { ARG("gamma", GAMMA) } },
    { NNX_DECAY_POLY, "poly", { ARG("power", POWER), ARG("min_lr", MIN_LR) } },
    { NNX_DECAY_LINEAR, "linear", { ARG("min_lr", MIN_LR) } },
    { NNX_DECAY_PLATEAU, "plateau",
      { ARG("patience", PATIENCE), ARG("factor", FACTOR), ARG("on", ON), ARG("min_lr", MIN_LR) } },
};

const nnx_decay_info *nnx_decay_info_of(unsigned code)
{
    return code < sizeof decays / sizeof decays[0] ? &decays[code] : NULL;
}

size_t nnx_decay_count(void)
{
    return sizeof decays / sizeof decays[0];
}

void nnx_sched_set(nnx_sched *s, enum nnx_sched_field f, double v)
{
    switch (f) {
    case NNX_SF_MIN_LR:   s->min_lr = v; break;
    case NNX_SF_GAMMA:    s->gamma = v; break;
    case NNX_SF_EVERY:    s->every = v; break;
    case NNX_SF_POWER:    s->power = v; break;
    case NNX_SF_PATIENCE: s->patience = (int32_t)v; break;
    case NNX_SF_FACTOR:   s->factor = v; break;
    case NNX_SF_AT:
    case NNX_SF_ON:
    case NNX_SF_NONE:     break;
    }
}
