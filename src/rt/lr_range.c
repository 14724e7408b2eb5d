/* lr_range.c — the learning-rate range test: an exponentially growing lr, the smoothed loss, where it falls fastest. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/lr_range.h"

typedef struct range_state {
    nnx_lr_range *r;
    nnx_optim    *opt;
    double        lr_min, ratio, beta, diverge, avg, best;
    int           steps;
} range_state;

static double lr_at(const range_state *s, int i)
{
    return s->lr_min * pow(s->ratio, s->steps > 1 ? (double)i / (s->steps - 1) : 0);
}

/* After each step: record it, stop at the end or at divergence, set the next lr. */
static int on_step(const nnx_train_progress *p, void *user)
{
    range_state *s = user;
    nnx_lr_range *r = s->r;
    size_t i = r->n;
    double loss = p->loss;
    r->lr[i] = p->lr;
    r->loss[i] = loss;
    s->avg = s->beta * s->avg + (1 - s->beta) * loss;
    r->smooth[i] = s->avg / (1 - pow(s->beta, (double)(i + 1)));
    r->n++;
    if (!isfinite(r->smooth[i]) || (i > 0 && r->smooth[i] > s->diverge * s->best)) {
        r->diverged = true;
        return 1;
    }
    if (r->smooth[i] < s->best || i == 0)
        s->best = r->smooth[i];
    if ((int)r->n >= s->steps)
        return 1;
    s->opt->conf.lr = lr_at(s, (int)r->n);
    return 0;
}

/* The lowest point, the steepest fall (per decade of lr) before it, and the lr between them to propose. */
static void read_curve(nnx_lr_range *r)
{
    r->min_at = r->steep_at = -1;
    r->lr_min_loss = r->lr_steepest = r->lr_proposed = NAN;
    size_t skip = r->n / 10;
    for (size_t i = skip; i < r->n; i++)
        if (isfinite(r->smooth[i]) && (r->min_at < 0 || r->smooth[i] < r->smooth[r->min_at]))
            r->min_at = (long)i;
    if (r->min_at < 0)
        return;
    size_t k = r->n / 50 > 1 ? r->n / 50 : 1;
    double steepest = 0;
    for (size_t i = skip + k; i + k <= (size_t)r->min_at; i++) {
        double d = (r->smooth[i + k] - r->smooth[i - k]) / (log10(r->lr[i + k]) - log10(r->lr[i - k]));
        if (d < steepest) {
            steepest = d;
            r->steep_at = (long)i;
        }
    }
    /* a curve with no fall before its minimum proposes nothing */
    if (r->steep_at < 0 || !(r->smooth[r->min_at] < r->smooth[skip]))
        return;
    r->lr_min_loss = r->lr[r->min_at];
    r->lr_steepest = r->lr[r->steep_at];
    /* Both rules of thumb miss on some curves (docs/diagnosis.md has the
     * measurements): the lowest point / 10 is too large where the smoothed
     * minimum lags far past the raw one (Fashion-MNIST, Adam), the steepest
     * fall too small where the loss falls slowly over many decades (SGD).
     * The middle of the two on a log scale trains within a point of the
     * best of a decade grid on every example measured. */
    r->lr_proposed = sqrt(r->lr_min_loss / 10 * r->lr_steepest);
}

int nnx_lr_range_test(const nnx_train_conf *base, const nnx_lr_range_conf *conf,
                      nnx_lr_range *out, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    out->min_at = out->steep_at = -1;
    out->lr_min_loss = out->lr_steepest = out->lr_proposed = NAN;
    nnx_lr_range_conf c = conf ? *conf : (nnx_lr_range_conf){ 0 };
    if (c.lr_min == 0)
        c.lr_min = 1e-7;
    if (c.lr_max == 0)
        c.lr_max = 10;
    if (c.steps == 0)
        c.steps = 300;
    if (c.beta == 0)
        c.beta = 0.98;
    if (c.diverge == 0)
        c.diverge = 4;
    if (!(c.lr_min > 0 && c.lr_max > c.lr_min && isfinite(c.lr_max)) || c.steps < 10 ||
        c.steps > 100000 || !(c.beta > 0 && c.beta < 1) || !(c.diverge > 1))
        return nnx_rt_fail(err, "lr range test: needs 0 < lr_min < lr_max, 10..100000 steps, "
                           "0 < beta < 1 and diverge > 1");
    out->lr = malloc((size_t)c.steps * sizeof *out->lr);
    out->loss = malloc((size_t)c.steps * sizeof *out->loss);
    out->smooth = malloc((size_t)c.steps * sizeof *out->smooth);
    if (!out->lr || !out->loss || !out->smooth) {
        nnx_lr_range_free(out);
        return nnx_rt_fail(err, "lr range test: out of memory");
    }
    range_state s = { .r = out, .opt = base->optim, .lr_min = c.lr_min,
                      .ratio = c.lr_max / c.lr_min, .beta = c.beta, .diverge = c.diverge,
                      .steps = c.steps };
    nnx_train_conf tc = *base;
    tc.sched = NULL;
    tc.on_batch = on_step;
    tc.user = &s;
    nnx_trainer tr;
    if (nnx_trainer_init(&tr, &tc, err) < 0) {
        nnx_lr_range_free(out);
        return -1;
    }
    base->optim->conf.lr = c.lr_min;
    for (int32_t epoch = 0; (int)out->n < c.steps && !out->diverged; epoch++) {
        nnx_epoch_result res;
        size_t before = out->n;
        if (nnx_train_epoch(&tr, epoch, NULL, &res, err) < 0) {
            if (!res.diverged) {
                nnx_trainer_free(&tr);
                nnx_lr_range_free(out);
                return -1;
            }
            out->diverged = true;   /* a NaN/inf loss or gradient: the end of the curve */
        }
        if (out->n == before)
            break;
    }
    nnx_trainer_free(&tr);
    read_curve(out);
    return 0;
}

void nnx_lr_range_free(nnx_lr_range *r)
{
    free(r->lr);
    free(r->loss);
    free(r->smooth);
    memset(r, 0, sizeof *r);
    r->min_at = r->steep_at = -1;
}
