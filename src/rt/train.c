/* train.c — one training epoch (shuffle, batches, steps, divergence check) and evaluation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/clock.h"
#include "nnx/rt/train.h"

int32_t nnx_batches_per_epoch(int32_t n, int32_t batch, int drop_last)
{
    if (n <= 0 || batch <= 0)
        return 0;
    return drop_last ? n / batch : (n + batch - 1) / batch;
}

static const char *loss_name(enum nnx_loss_kind loss)
{
    switch (loss) {
    case NNX_LOSS_CROSS_ENTROPY: return "cross_entropy";
    case NNX_LOSS_BINARY_CROSS_ENTROPY: return "binary_cross_entropy";
    case NNX_LOSS_MSE: return "mse";
    }
    return "?";
}

/* Does the network's input and output fit the data and the loss? */
static int check_task(const nnx_net *net, enum nnx_loss_kind loss, const nnx_dataset *ds,
                      int32_t batch, nnx_rt_error *err)
{
    if (nnx_net_max_batch(net) <= 0)
        return nnx_rt_fail(err, "the network is not compiled");
    if (nnx_net_in_size(net) != ds->d)
        return nnx_rt_fail(err, "the network takes %d inputs but the data has %d features",
                           nnx_net_in_size(net), (int)ds->d);
    if (batch < 1 || batch > nnx_net_max_batch(net))
        return nnx_rt_fail(err, "batch %d is outside 1..%d (the network's max batch)",
                           (int)batch, nnx_net_max_batch(net));
    int k = nnx_net_out_size(net);
    if (ds->kind == NNX_TARGET_NONE)        /* unlabelled rows: predictions only */
        return 0;
    switch (loss) {
    case NNX_LOSS_CROSS_ENTROPY:
        if (ds->kind != NNX_TARGET_CLASS)
            return nnx_rt_fail(err, "cross_entropy needs class labels; the data has "
                               "regression targets (use mse)");
        if (k < 2 || ds->classes > k)
            return nnx_rt_fail(err, "cross_entropy: the network has %d output%s for %d classes",
                               k, k == 1 ? "" : "s", (int)ds->classes);
        return 0;
    case NNX_LOSS_BINARY_CROSS_ENTROPY:
        if (ds->kind != NNX_TARGET_CLASS || ds->classes > 2)
            return nnx_rt_fail(err, "binary_cross_entropy needs 2 classes; the data has %s",
                               ds->kind == NNX_TARGET_CLASS ? "more" : "regression targets");
        if (k != 1)
            return nnx_rt_fail(err, "binary_cross_entropy needs 1 output; the network has %d", k);
        return 0;
    case NNX_LOSS_MSE:
        if (ds->kind != NNX_TARGET_REAL)
            return nnx_rt_fail(err, "mse needs regression targets; the data has class labels");
        if (k != 1)
            return nnx_rt_fail(err, "mse: the network has %d outputs for 1 target", k);
        return 0;
    }
    return nnx_rt_fail(err, "unknown loss %d", (int)loss);
}

int nnx_trainer_init(nnx_trainer *tr, const nnx_train_conf *conf, nnx_rt_error *err)
{
    memset(tr, 0, sizeof *tr);
    if (!conf->net || !conf->optim || !conf->train)
        return nnx_rt_fail(err, "trainer: network, optimizer and data are required");
    if (conf->train->kind == NNX_TARGET_NONE)
        return nnx_rt_fail(err, "trainer: the training data has no labels");
    if (check_task(conf->net, conf->loss, conf->train, conf->batch, err) < 0)
        return -1;
    if (conf->optim->n != nnx_net_nparams(conf->net))
        return nnx_rt_fail(err, "trainer: the optimizer holds %zu values, the network %zu",
                           conf->optim->n, nnx_net_nparams(conf->net));
    if (!(conf->clip_norm >= 0) || !isfinite(conf->clip_norm))
        return nnx_rt_fail(err, "trainer: clip norm must be >= 0 (got %g)", conf->clip_norm);
    if (!(conf->label_smoothing >= 0 && conf->label_smoothing < 1))
        return nnx_rt_fail(err, "trainer: label smoothing must be in [0, 1)");
    int32_t batches = nnx_batches_per_epoch(conf->train->n, conf->batch, conf->drop_last);
    if (batches == 0)
        return nnx_rt_fail(err, "trainer: %d rows make no batch of %d", (int)conf->train->n,
                           (int)conf->batch);
    if (conf->sched) {
        if (nnx_sched_check(conf->sched, err) < 0)
            return -1;
        if (conf->sched->steps_per_epoch != batches)
            return nnx_rt_fail(err, "trainer: the schedule counts %lld steps per epoch, the "
                               "data makes %d batches", (long long)conf->sched->steps_per_epoch,
                               (int)batches);
    }
    const nnx_augment *au = &conf->augment;
    if (au->flip || au->shift != 0) {
        if (!conf->train->has_shape)
            return nnx_rt_fail(err, "trainer: augmentation needs images (rows with a C×H×W shape)");
        if (au->shift < 0 || au->shift >= conf->train->shape[1] || au->shift >= conf->train->shape[2])
            return nnx_rt_fail(err, "trainer: a shift of %d pixels does not fit %d×%d images",
                               (int)au->shift, (int)conf->train->shape[1],
                               (int)conf->train->shape[2]);
    }
    size_t b = (size_t)conf->batch;
    tr->order = malloc((size_t)conf->train->n * sizeof *tr->order);
    /* 64-byte aligned, as the net's own buffers are */
    size_t xbytes = b * (size_t)conf->train->d * sizeof *tr->xb;
    tr->xb = aligned_alloc(64, (xbytes + 63) & ~(size_t)63);
    tr->rows = malloc(b * sizeof *tr->rows);
    if (conf->train->kind == NNX_TARGET_CLASS)
        tr->yb = malloc(b * sizeof *tr->yb);
    else
        tr->tb = malloc(b * sizeof *tr->tb);
    if (au->flip || au->shift > 0)
        tr->aug = malloc((size_t)conf->train->shape[1] * (size_t)conf->train->shape[2] *
                         sizeof *tr->aug);
    if (!tr->order || !tr->xb || !tr->rows || (!tr->yb && !tr->tb) ||
        ((au->flip || au->shift > 0) && !tr->aug)) {
        nnx_trainer_free(tr);
        return nnx_rt_fail(err, "trainer: out of memory for batches of %d", (int)conf->batch);
    }
    tr->c = *conf;
    tr->batches = batches;
    return 0;
}

/* The rows of the batch that starts at row `first` of n. */
static int32_t batch_rows(int32_t n, int32_t first, int32_t batch)
{
    return n - first < batch ? n - first : batch;
}

/* Where batch b of an epoch is gathered: even batches into the net's input
 * buffer, odd ones into the trainer's second (see nnx_trainer.xb). */
static float *batch_buffer(nnx_trainer *tr, int32_t b)
{
    return b % 2 == 0 ? nnx_net_input(tr->c.net) : tr->xb;
}

/* Wait for the next batch's gather, if one is under way; rc. */
static int settle(nnx_trainer *tr, int rc)
{
    if (tr->gathering)
        nnx_gather_finish(&tr->ahead);
    tr->gathering = false;
    return rc;
}

void nnx_trainer_free(nnx_trainer *tr)
{
    if (!tr)
        return;
    free(tr->order);
    free(tr->xb);
    free(tr->yb);
    free(tr->aug);
    free(tr->rows);
    free(tr->tb);
    memset(tr, 0, sizeof *tr);
}

const char *nnx_train_phase_name(enum nnx_train_phase p)
{
    static const char *const names[NNX_TRAIN_PHASES] = {
        "gather", "forward", "loss", "backward", "norm", "optimizer",
    };
    return (unsigned)p < NNX_TRAIN_PHASES ? names[p] : "?";
}

/* Profiling: the seconds since *t into phase p, and *t on to now. */
static void lap(nnx_trainer *tr, enum nnx_train_phase p, double *t)
{
    if (!tr->profile)
        return;
    double now = nnx_clock_seconds();
    tr->phase_s[p] += now - *t;
    *t = now;
}

int nnx_train_epoch(nnx_trainer *tr, int32_t epoch, float *step_loss,
                    nnx_epoch_result *res, nnx_rt_error *err)
{
    const nnx_train_conf *c = &tr->c;
    const nnx_dataset *ds = c->train;
    nnx_net *net = c->net;
    const int k = nnx_net_out_size(net);
    float *params = nnx_net_params(net), *grads = nnx_net_grads(net);
    float *dlogits = nnx_net_dlogits(net);
    const size_t np = nnx_net_nparams(net);
    *res = (nnx_epoch_result){0};
    double loss_sum = 0;
    int64_t rows_done = 0;

    nnx_epoch_order(tr->order, ds->n, c->seed, epoch);
    for (int32_t b = 0; b < tr->batches; b++) {
        int32_t first = b * c->batch, m = batch_rows(ds->n, first, c->batch);
        /* Straight into a buffer the net reads in place: forward copies
         * nothing.  The first batch of an epoch is gathered here, by the
         * team; the others were gathered during the step before. */
        double t = tr->profile ? nnx_clock_seconds() : 0;
        float *xb = batch_buffer(tr, b);
        if (b == 0)
            nnx_gather_on(ds, tr->order + first, m, xb, tr->yb, tr->tb, nnx_net_team(net));
        if (tr->aug)
            nnx_augment_batch(&c->augment, xb, m, ds->shape[0], ds->shape[1], ds->shape[2],
                              c->seed, epoch, b, tr->aug);
        if (b + 1 < tr->batches) {
            int32_t next = first + c->batch;
            nnx_gather_start(&tr->ahead, ds, tr->order + next,
                             batch_rows(ds->n, next, c->batch), batch_buffer(tr, b + 1),
                             tr->yb, tr->tb, nnx_net_team(net));
            tr->gathering = true;
        }
        lap(tr, NNX_PHASE_GATHER, &t);
        const float *out = nnx_net_forward_kept(net, xb, m, true);
        lap(tr, NNX_PHASE_FORWARD, &t);
        if (!out)
            return settle(tr, nnx_rt_fail(err, "epoch %d, batch %d: forward failed",
                                          (int)epoch + 1, (int)b + 1));
        float loss;
        double loss_sd;
        if (nnx_loss_compute_sd_on(c->loss, out, tr->yb, tr->tb, m, k, c->label_smoothing,
                                   &loss, dlogits, &loss_sd, tr->rows, nnx_net_team(net),
                                   err) < 0)
            return settle(tr, -1);
        lap(tr, NNX_PHASE_LOSS, &t);
        if (!isfinite(loss)) {
            res->diverged = 1;
            res->mean_loss = rows_done ? loss_sum / (double)rows_done : NAN;
            return settle(tr, nnx_rt_fail(err, "epoch %d, step %lld (batch %d of %d): %s loss "
                                          "is %s", (int)epoch + 1, (long long)tr->step + 1,
                                          (int)b + 1, (int)tr->batches, loss_name(c->loss),
                                          isnan(loss) ? "nan" : "infinite"));
        }
        if (nnx_net_backward(net, dlogits) < 0)
            return settle(tr, nnx_rt_fail(err, "epoch %d, batch %d: backward failed",
                                          (int)epoch + 1, (int)b + 1));
        lap(tr, NNX_PHASE_BACKWARD, &t);
        double norm = nnx_net_grad_norm(net);
        if (c->clip_norm > 0)
            nnx_clip_grad_to(grads, np, c->clip_norm, norm);
        if (!isfinite(norm)) {
            res->diverged = 1;
            res->mean_loss = rows_done ? loss_sum / (double)rows_done : NAN;
            return settle(tr, nnx_rt_fail(err, "epoch %d, step %lld (batch %d of %d): the "
                                          "gradient norm is %s", (int)epoch + 1,
                                          (long long)tr->step + 1, (int)b + 1,
                                          (int)tr->batches, isnan(norm) ? "nan" : "infinite"));
        }
        lap(tr, NNX_PHASE_NORM, &t);
        double lr = c->sched ? nnx_sched_lr_at(c->sched, tr->step) : c->optim->conf.lr;
        nnx_optim_step_on(c->optim, params, grads, lr, nnx_net_team(net));
        lap(tr, NNX_PHASE_OPTIMIZER, &t);
        settle(tr, 0);                  /* the next batch is whole, its labels in yb */
        lap(tr, NNX_PHASE_GATHER, &t);
        if (step_loss)
            step_loss[b] = loss;
        loss_sum += (double)loss * m;
        rows_done += m;
        res->steps = b + 1;
        res->mean_loss = loss_sum / (double)rows_done;
        nnx_train_progress p = {
            .epoch = epoch, .batch = b, .batches = tr->batches, .step = tr->step,
            .rows = m, .lr = lr, .loss = loss, .loss_sd = loss_sd, .grad_norm = norm,
        };
        tr->step++;
        if (c->on_batch && c->on_batch(&p, c->user)) {
            res->stopped = 1;
            break;
        }
    }
    return 0;
}

int nnx_evaluate(nnx_net *net, enum nnx_loss_kind loss, float label_smoothing,
                 const nnx_dataset *ds, int32_t batch, float *probs, double *mean_loss,
                 nnx_rt_error *err)
{
    if (mean_loss)
        *mean_loss = NAN;
    if (check_task(net, loss, ds, batch, err) < 0)
        return -1;
    const int k = nnx_net_out_size(net);
    const size_t d = (size_t)ds->d;
    double sum = 0;
    for (int32_t first = 0; first < ds->n; first += batch) {
        int32_t m = batch_rows(ds->n, first, batch);
        const float *in = ds->x + (size_t)first * d;
        if (ds->norm_shift) {   /* normalised on the way in, into the net's input */
            float *xb = nnx_net_input(net);
            nnx_gather_range(ds, first, m, xb);
            in = xb;
        }
        const float *out = nnx_net_forward_kept(net, in, m, false);   /* read in place */
        if (!out)
            return nnx_rt_fail(err, "evaluate: forward failed at row %d", (int)first);
        float l = NAN;
        if (ds->kind != NNX_TARGET_NONE &&
            nnx_loss_compute(loss, out, ds->y ? ds->y + first : NULL,
                             ds->t ? ds->t + first : NULL, m, k, label_smoothing, &l, NULL,
                             err) < 0)
            return -1;
        sum += (double)l * m;
        if (probs)
            nnx_loss_probs(loss, out, m, k, probs + (size_t)first * (size_t)k);
    }
    if (mean_loss)
        *mean_loss = sum / ds->n;
    return 0;
}
