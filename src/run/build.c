/* build.c — an experiment's network, loss, optimizer and schedule as runtime objects. */
#include <string.h>

#include "nnx/rt.h"
#include "run/run_int.h"

enum nnx_loss_kind nnx_run_loss_kind(nnx_exp_loss_kind k)
{
    switch (k) {
    case NNX_XLOSS_BCE: return NNX_LOSS_BINARY_CROSS_ENTROPY;
    case NNX_XLOSS_MSE: return NNX_LOSS_MSE;
    case NNX_XLOSS_CROSS_ENTROPY: break;
    }
    return NNX_LOSS_CROSS_ENTROPY;
}

/* Add layers[i] of a compiled network: its arguments, in the catalog's
 * order, are the fields its layer kind's row names. */
static int add_layer(nnx_net *net, const nnx_exp_layer *layers, size_t i, nnx_rt_error *err)
{
    const nnx_exp_layer *l = &layers[i];
    const nnx_layer_kind_info *K = nnx_layer_kind_of((unsigned)l->op);
    if (!K)
        return nnx_rt_fail(err, "unknown layer kind %d", (int)l->op);
    nnx_layer_spec s = { .bias = true, .act = (enum nnx_act)l->act };  /* conv has no bias argument */
    for (int j = 0; j < NNX_LAYER_MAX_ARGS; j++)
        nnx_layer_spec_set(&s, K->args[j].field, l->arg[j]);
    return nnx_net_add(net, l->op, &s, err);
}

nnx_net *nnx_run_build_net(const nnx_experiment *e, int32_t features, int max_batch,
                           nnx_rt_error *err)
{
    int c = features, h = 1, w = 1;
    const nnx_exp_shape *sh = &e->data.shape;
    if (sh->rank == 3) {
        if (sh->d[0] * sh->d[1] * sh->d[2] != features) {
            nnx_rt_fail(err, "data '%s': shape [%d, %d, %d] does not hold the %d features of "
                        "a row", e->data.name, sh->d[0], sh->d[1], sh->d[2], (int)features);
            return NULL;
        }
        c = sh->d[0], h = sh->d[1], w = sh->d[2];
    }
    nnx_net *net = nnx_net_new(c, h, w, err);
    if (!net)
        return NULL;
    for (size_t i = 0; i < e->net.nlayers; i++) {
        nnx_rt_error lerr;
        if (add_layer(net, e->net.layers, i, &lerr) < 0) {
            nnx_rt_fail(err, "network '%s', layer %zu (%s): %s", e->net.name, i + 1,
                        nnx_exp_layer_name(&e->net.layers[i]), lerr.msg);
            nnx_net_free(net);
            return NULL;
        }
    }
    if (nnx_net_compile(net, max_batch, e->seed, err) < 0) {
        nnx_net_free(net);
        return NULL;
    }
    return net;
}

void nnx_run_optim_conf(const nnx_experiment *e, nnx_optim_conf *c)
{
    *c = e->optim;      /* the checker filled the runtime's configuration */
}

/* The runtime's schedule: each argument of the decay's row into its field. */
int nnx_run_sched(const nnx_experiment *e, int64_t batches, nnx_sched *s, nnx_rt_error *err)
{
    const nnx_exp_schedule *x = &e->schedule;
    nnx_sched_init(s, e->optim.lr, batches, e->epochs);
    s->warmup_epochs = x->warmup;
    s->decay = x->decay;
    const nnx_decay_info *row = nnx_decay_info_of((unsigned)x->decay);
    if (!row)
        return nnx_rt_fail(err, "unknown decay %d", (int)x->decay);
    for (int j = 0; j < NNX_DECAY_MAX_ARGS; j++) {
        switch (row->args[j].field) {
        case NNX_SF_AT:
            if (x->nat > NNX_SCHED_MAX_MILESTONES)
                return nnx_rt_fail(err, "%s: at most %d milestones (got %zu)", row->name,
                                   NNX_SCHED_MAX_MILESTONES, x->nat);
            for (size_t i = 0; i < x->nat; i++)
                s->at[i] = x->at[i];
            s->n_at = (int32_t)x->nat;
            break;
        case NNX_SF_ON:
            s->mode = x->on.maximize ? NNX_PLATEAU_MAX : NNX_PLATEAU_MIN;
            break;
        default:
            nnx_sched_set(s, row->args[j].field, nnx_exp_schedule_get(x, row->args[j].field));
        }
    }
    return nnx_sched_check(s, err);
}
