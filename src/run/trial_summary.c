/* trial_summary.c — a trial's summary.json: written "running" when the run starts, again when it ends, with what the diagnosis needs to know of the experiment. */
#include <math.h>

#include "nnx/provenance.h"
#include "nnx/util/sha256.h"
#include "run/trial_int.h"

double nnx_trial_chance_loss(const trial *t)
{
    if (t->loss == NNX_LOSS_CROSS_ENTROPY && t->k >= 2)
        return log((double)t->k);
    if (t->loss == NNX_LOSS_BINARY_CROSS_ENTROPY)
        return log(2.0);
    return NAN;
}

/* The loss of predicting the train split's class frequencies (the level a
 * network that learned nothing but the priors settles at); NaN for mse. */
static double prior_loss(const trial *t)
{
    const nnx_dataset *ds = &t->data.split[NNX_XSPLIT_TRAIN];
    if (t->loss == NNX_LOSS_MSE || !ds->y || ds->n <= 0 || ds->classes < 2)
        return NAN;
    double h = 0;
    for (int32_t c = 0; c < ds->classes; c++) {
        int32_t m = 0;
        for (int32_t i = 0; i < ds->n; i++)
            m += ds->y[i] == c;
        if (m)
            h -= (double)m / ds->n * log((double)m / ds->n);
    }
    return h;
}

nnx_diag_setup nnx_trial_diag_setup(const trial *t)
{
    const nnx_experiment *e = t->e;
    nnx_diag_setup s = {
        .known = true, .source = t->o->source ? t->o->source : e->file, .experiment = e->name,
        .lr = e->optim.lr, .batch = (int)t->batch,
        .train_rows = t->data.split[NNX_XSPLIT_TRAIN].n, .weight_decay = e->optim.weight_decay,
        .parameters = t->net ? (long)nnx_net_nparams(t->net) : 0, .epochs = e->epochs,
        .prior_loss = prior_loss(t), .features = t->data.split[NNX_XSPLIT_TRAIN].d,
        .classes = t->data.split[NNX_XSPLIT_TRAIN].classes,
    };
    for (int i = 0; t->net && i < nnx_net_nlayers(t->net); i++) {
        nnx_layer_info li;
        if (nnx_net_layer_info(t->net, i, &li) == 0 && li.kind == NNX_LAYER_DROPOUT &&
            li.a > s.dropout)
            s.dropout = li.a;
    }
    return s;
}

/* summary.json from what the run knows now (atomically). */
static int write_summary(trial *t, nnx_rt_error *err)
{
    const nnx_experiment *e = t->e;
    nnx_summary_info info = {
        .experiment = e->name, .source = t->o->source ? t->o->source : e->file,
        .seed = e->seed, .params = t->o->params, .nparams = t->o->nparams,
        .chance_loss = nnx_trial_chance_loss(t),
        .class_names = t->data.split[NNX_XSPLIT_TRAIN].class_names,
        .nclasses = (size_t)t->data.split[NNX_XSPLIT_TRAIN].classes,
        .trial_index = t->o->trial_index,
        .provenance = t->o->provenance,
    };
    nnx_diag_setup setup = nnx_trial_diag_setup(t);
    info.setup = &setup;
    char sha[65];
    if (info.source && nnx_sha256_file(info.source, sha, NULL) == 0)
        info.source_sha256 = sha;
    nnx_exp_param *settings = nnx_experiment_settings(e, &info.nsettings);
    info.settings = settings;
    int rc = nnx_summary_write(t->r->dir, &info, t->r, err);
    nnx_exp_params_free(settings, info.nsettings);
    return rc;
}

void nnx_trial_save_summary(trial *t)
{
    nnx_rt_error err = { { 0 } };
    if (write_summary(t, &err) < 0) {
        nnx_trial_write_failed(t, true, err.msg);
        return;
    }
    t->summary_warnings = (int)t->r->nwarnings;
}

int nnx_trial_start_summary(trial *t, nnx_rt_error *err)
{
    if (nnx_provenance_save_diff(t->o->provenance, t->r->dir, err) < 0)
        return -1;
    nnx_run_status was = t->r->status;
    t->r->status = NNX_RUN_RUNNING;
    int rc = write_summary(t, err);
    t->r->status = was;
    return rc;
}
