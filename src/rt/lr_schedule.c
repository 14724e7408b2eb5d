/* lr_schedule.c — learning-rate schedules: linear warmup times a decay, and plateau reduction. */
#include <math.h>

#include "nnx/rt/lr_schedule.h"

/* Guards floor() and >= on epoch counts against rounding (e.g. 0.1 · 10 steps). */
#define EPOCH_EPS 1e-9

static const double pi = 3.14159265358979323846;

void nnx_sched_init(nnx_sched *s, double base_lr, int64_t steps_per_epoch, int32_t epochs)
{
    *s = (nnx_sched){
        .base_lr = base_lr,
        .steps_per_epoch = steps_per_epoch,
        .epochs = epochs,
        .decay = NNX_DECAY_NONE,
        .gamma = 0.1,
        .every = 1,
        .power = 1,
        .patience = 10,
        .factor = 0.1,
        .mode = NNX_PLATEAU_MIN,
        .threshold = 1e-4,
        .scale = 1,
        .plateau_best = NAN,
    };
}

int64_t nnx_sched_warmup_len(const nnx_sched *s)
{
    if (s->warmup_steps > 0)
        return s->warmup_steps;
    return (int64_t)llround(s->warmup_epochs * (double)s->steps_per_epoch);
}

static int positive(double v)
{
    return v > 0 && isfinite(v);
}

int nnx_sched_check(const nnx_sched *s, nnx_rt_error *err)
{
    if (!positive(s->base_lr))
        return nnx_rt_fail(err, "schedule: lr must be > 0 (got %g)", s->base_lr);
    if (s->steps_per_epoch <= 0 || s->epochs <= 0)
        return nnx_rt_fail(err, "schedule: needs steps per epoch and epochs > 0 (got %lld, %d)",
                           (long long)s->steps_per_epoch, (int)s->epochs);
    if (!(s->warmup_epochs >= 0) || !isfinite(s->warmup_epochs) || s->warmup_steps < 0)
        return nnx_rt_fail(err, "schedule: warmup must be >= 0");
    int64_t total = s->steps_per_epoch * s->epochs, w = nnx_sched_warmup_len(s);
    if (w > 0 && w >= total)
        return nnx_rt_fail(err, "schedule: warmup (%lld steps) must be shorter than training "
                           "(%lld steps)", (long long)w, (long long)total);
    int floor_used = s->decay == NNX_DECAY_COSINE || s->decay == NNX_DECAY_LINEAR
                     || s->decay == NNX_DECAY_POLY || s->decay == NNX_DECAY_PLATEAU;
    if (floor_used && !(s->min_lr >= 0 && s->min_lr <= s->base_lr))
        return nnx_rt_fail(err, "schedule: min_lr must be between 0 and lr %g (got %g)",
                           s->base_lr, s->min_lr);
    switch (s->decay) {
    case NNX_DECAY_NONE:
    case NNX_DECAY_COSINE:
    case NNX_DECAY_LINEAR:
        break;
    case NNX_DECAY_POLY:
        if (!positive(s->power))
            return nnx_rt_fail(err, "schedule: poly power must be > 0 (got %g)", s->power);
        break;
    case NNX_DECAY_STEP:
        if (!positive(s->every))
            return nnx_rt_fail(err, "schedule: step every must be > 0 epochs (got %g)", s->every);
        /* fall through */
    case NNX_DECAY_MULTISTEP:
    case NNX_DECAY_EXP:
        if (!positive(s->gamma))
            return nnx_rt_fail(err, "schedule: gamma must be > 0 (got %g)", s->gamma);
        if (s->decay != NNX_DECAY_MULTISTEP)
            break;
        if (s->n_at < 1 || s->n_at > NNX_SCHED_MAX_MILESTONES)
            return nnx_rt_fail(err, "schedule: multistep needs 1 to %d milestones (got %d)",
                               NNX_SCHED_MAX_MILESTONES, (int)s->n_at);
        for (int32_t i = 0; i < s->n_at; i++)
            if (!positive(s->at[i]) || (i > 0 && s->at[i] <= s->at[i - 1]))
                return nnx_rt_fail(err, "schedule: multistep milestones must be increasing "
                                   "epochs > 0 (milestone %d is %g)", (int)i + 1, s->at[i]);
        break;
    case NNX_DECAY_PLATEAU:
        if (s->patience < 0)
            return nnx_rt_fail(err, "schedule: plateau patience must be >= 0 (got %d)",
                               (int)s->patience);
        if (!(s->factor > 0 && s->factor < 1))
            return nnx_rt_fail(err, "schedule: plateau factor must be between 0 and 1 (got %g)",
                               s->factor);
        if (!(s->threshold >= 0) || !isfinite(s->threshold))
            return nnx_rt_fail(err, "schedule: plateau threshold must be >= 0");
        if (s->mode != NNX_PLATEAU_MIN && s->mode != NNX_PLATEAU_MAX)
            return nnx_rt_fail(err, "schedule: plateau mode must be min or max");
        break;
    default:
        return nnx_rt_fail(err, "schedule: unknown decay %d", (int)s->decay);
    }
    if (!(s->scale > 0) || !isfinite(s->scale))
        return nnx_rt_fail(err, "schedule: scale must be > 0 (got %g)", s->scale);
    return 0;
}

/* The decay's lr (without warmup and scale) at step. */
static double decayed(const nnx_sched *s, int64_t step, int64_t w)
{
    int64_t total = s->steps_per_epoch * s->epochs;
    double epoch = (double)step / (double)s->steps_per_epoch;
    double q = total > w ? (double)(step - w) / (double)(total - w) : 1.0;
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    double base = s->base_lr, lo = s->min_lr;
    switch (s->decay) {
    case NNX_DECAY_COSINE:
        return lo + (base - lo) * (1 + cos(pi * q)) / 2;
    case NNX_DECAY_LINEAR:
        return base + (lo - base) * q;
    case NNX_DECAY_POLY:
        return lo + (base - lo) * pow(1 - q, s->power);
    case NNX_DECAY_EXP:
        return base * pow(s->gamma, epoch);
    case NNX_DECAY_STEP:
        return base * pow(s->gamma, floor(epoch / s->every + EPOCH_EPS));
    case NNX_DECAY_MULTISTEP: {
        int passed = 0;
        for (int32_t i = 0; i < s->n_at; i++)
            passed += epoch + EPOCH_EPS >= s->at[i];
        return base * pow(s->gamma, passed);
    }
    default:
        return base;
    }
}

double nnx_sched_lr_at(const nnx_sched *s, int64_t step)
{
    if (step < 0)
        step = 0;
    int64_t w = nnx_sched_warmup_len(s);
    double warm = step < w ? (double)step / (double)w : 1.0;
    return warm * decayed(s, step, w) * s->scale;
}

void nnx_sched_fill(const nnx_sched *s, double *out, int64_t nsteps)
{
    for (int64_t i = 0; i < nsteps; i++)
        out[i] = nnx_sched_lr_at(s, i);
}

int nnx_sched_plateau_epoch(nnx_sched *s, double value)
{
    if (s->decay != NNX_DECAY_PLATEAU)
        return 0;
    double best = s->plateau_best, margin = s->threshold * fabs(best);
    int better = !isnan(value)
                 && (isnan(best) || (s->mode == NNX_PLATEAU_MIN ? value < best - margin
                                                                : value > best + margin));
    if (better) {
        s->plateau_best = value;
        s->plateau_bad = 0;
        return 0;
    }
    if (++s->plateau_bad <= s->patience)
        return 0;
    s->plateau_bad = 0;
    double floor_scale = s->min_lr / s->base_lr;
    double next = fmax(s->scale * s->factor, floor_scale);
    if (s->scale - next <= 1e-12)   /* already at the floor */
        return 0;
    s->scale = next;
    return 1;
}
