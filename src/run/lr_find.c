/* lr_find.c — the lr range test of an experiment: its data, network, optimizer and batch, a growing lr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt.h"
#include "nnx/run.h"
#include "run/run_int.h"

enum { EVAL_BATCH = 256 };

int nnx_run_lr_find(const nnx_experiment *e, const char *cache_dir, char *cache_warning,
                    size_t nwarning, int threads, const nnx_lr_range_conf *conf,
                    nnx_lr_range *out, int32_t *batch, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    nnx_run_data data;
    if (nnx_run_data_load(e, cache_dir, &data, err) < 0)
        return -1;
    if (nwarning)
        snprintf(cache_warning, nwarning, "%s", data.cache.warning);
    const nnx_dataset *train = &data.split[NNX_XSPLIT_TRAIN];
    int32_t b = e->batch > 0 ? e->batch : nnx_run_auto_batch(train->n);
    if (b > train->n)
        b = train->n;
    *batch = b;
    nnx_blas_set_threads(1);
    nnx_net *net = nnx_run_build_net(e, train->d, b > EVAL_BATCH ? b : EVAL_BATCH, err);
    nnx_optim opt;
    nnx_optim_conf oc;
    nnx_run_optim_conf(e, &oc);
    int rc = -1;
    bool opt_ready = false;
    if (net && nnx_net_set_threads(net, threads, err) == 0 &&
        nnx_optim_init(&opt, &oc, nnx_net_nparams(net), err) == 0) {
        opt_ready = true;
        nnx_train_conf tc = {
            .net = net, .optim = &opt, .train = train, .loss = nnx_run_loss_kind(e->loss.kind),
            .label_smoothing = (float)e->loss.label_smoothing, .batch = b,
            .clip_norm = e->clip_grad, .seed = e->seed,
        };
        rc = nnx_lr_range_test(&tc, conf, out, err);
    }
    if (opt_ready)
        nnx_optim_free(&opt);
    nnx_net_free(net);
    nnx_run_data_free(&data);
    return rc;
}
