/* optim.c — SGD (momentum, Nesterov), Adam, AdamW, RMSprop and gradient clipping on flat arrays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/optim.h"
#include "rt/team.h"

/* nnx_optim_step_on's pieces: one per this many parameters, at most MAX_UNITS. */
#define UNIT_PARAMS 32768
#define MAX_UNITS   16

void nnx_optim_conf_default(nnx_optim_conf *c, nnx_optim_kind kind)
{
    *c = (nnx_optim_conf){
        .kind = kind,
        .lr = kind == NNX_OPTIM_RMSPROP ? 1e-2 : 1e-3,
        .weight_decay = kind == NNX_OPTIM_ADAMW ? 1e-2 : 0,
        .beta1 = 0.9,
        .beta2 = 0.999,
        .eps = 1e-8,
        .alpha = 0.99,
    };
}

static int unit(double v)   /* in [0, 1) */
{
    return v >= 0 && v < 1;
}

static int check_conf(const nnx_optim_conf *c, nnx_rt_error *err)
{
    if (!(c->lr > 0) || !isfinite(c->lr))
        return nnx_rt_fail(err, "optimizer: lr must be > 0 (got %g)", c->lr);
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
        return nnx_rt_fail(err, "optimizer: weight_decay must be >= 0 (got %g)", c->weight_decay);
    switch (c->kind) {
    case NNX_OPTIM_SGD:
        if (!unit(c->momentum))
            return nnx_rt_fail(err, "sgd: momentum must be in [0, 1) (got %g)", c->momentum);
        if (c->nesterov && c->momentum == 0)
            return nnx_rt_fail(err, "sgd: nesterov needs momentum > 0");
        return 0;
    case NNX_OPTIM_ADAM:
    case NNX_OPTIM_ADAMW:
        if (!unit(c->beta1) || !unit(c->beta2))
            return nnx_rt_fail(err, "adam: beta1 and beta2 must be in [0, 1) (got %g, %g)",
                               c->beta1, c->beta2);
        break;
    case NNX_OPTIM_RMSPROP:
        if (!unit(c->alpha))
            return nnx_rt_fail(err, "rmsprop: alpha must be in [0, 1) (got %g)", c->alpha);
        break;
    default:
        return nnx_rt_fail(err, "optimizer: unknown kind %d", (int)c->kind);
    }
    if (!(c->eps > 0) || !isfinite(c->eps))
        return nnx_rt_fail(err, "optimizer: eps must be > 0 (got %g)", c->eps);
    return 0;
}

int nnx_optim_init(nnx_optim *o, const nnx_optim_conf *conf, size_t n, nnx_rt_error *err)
{
    memset(o, 0, sizeof *o);
    if (check_conf(conf, err) < 0)
        return -1;
    if (n == 0)
        return nnx_rt_fail(err, "optimizer: no parameters");
    int need_m = conf->kind != NNX_OPTIM_RMSPROP
                 && (conf->kind != NNX_OPTIM_SGD || conf->momentum > 0);
    int need_v = conf->kind != NNX_OPTIM_SGD;
    if (need_m && !(o->m = calloc(n, sizeof *o->m)))
        return nnx_rt_fail(err, "optimizer: out of memory for %zu parameters", n);
    if (need_v && !(o->v = calloc(n, sizeof *o->v))) {
        free(o->m);
        o->m = NULL;
        return nnx_rt_fail(err, "optimizer: out of memory for %zu parameters", n);
    }
    o->conf = *conf;
    o->n = n;
    return 0;
}

void nnx_optim_free(nnx_optim *o)
{
    if (!o)
        return;
    free(o->m);
    free(o->v);
    memset(o, 0, sizeof *o);
}

void nnx_optim_reset(nnx_optim *o)
{
    if (o->m)
        memset(o->m, 0, o->n * sizeof *o->m);
    if (o->v)
        memset(o->v, 0, o->n * sizeof *o->v);
    o->t = 0;
}

static void sgd_step(const nnx_optim *o, float *restrict p, const float *restrict g,
                     float *restrict b, size_t n, float lr)
{
    const float wd = (float)o->conf.weight_decay, mu = (float)o->conf.momentum;
    if (!b) {
        for (size_t i = 0; i < n; i++)
            p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
    const float keep = o->t == 0 ? 0.0f : mu;   /* the first step starts the buffer at g */
    if (o->conf.nesterov) {
        for (size_t i = 0; i < n; i++) {
            float d = g[i] + wd * p[i];
            b[i] = keep * b[i] + d;
            p[i] -= lr * (d + mu * b[i]);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float d = g[i] + wd * p[i];
            b[i] = keep * b[i] + d;
            p[i] -= lr * b[i];
        }
    }
}

static void adam_step(const nnx_optim *o, float *restrict p, const float *restrict g,
                      float *restrict m, float *restrict v, size_t n, double lr)
{
    const nnx_optim_conf *c = &o->conf;
    double t = (double)(o->t + 1);
    const float b1 = (float)c->beta1, b2 = (float)c->beta2;
    const float step = (float)(lr / (1.0 - pow(c->beta1, t)));
    const float inv_bc2_sqrt = (float)(1.0 / sqrt(1.0 - pow(c->beta2, t)));
    const float eps = (float)c->eps;
    float wd = (float)c->weight_decay;
    if (c->kind == NNX_OPTIM_ADAMW) {
        const float shrink = (float)(1.0 - lr * c->weight_decay);
        for (size_t i = 0; i < n; i++)
            p[i] *= shrink;
        wd = 0.0f;
    }
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        m[i] = b1 * m[i] + (1.0f - b1) * d;
        v[i] = b2 * v[i] + (1.0f - b2) * d * d;
        p[i] -= step * m[i] / (sqrtf(v[i]) * inv_bc2_sqrt + eps);
    }
}

static void rmsprop_step(const nnx_optim *o, float *restrict p, const float *restrict g,
                         float *restrict v, size_t n, float lr)
{
    const float a = (float)o->conf.alpha, eps = (float)o->conf.eps;
    const float wd = (float)o->conf.weight_decay;
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        v[i] = a * v[i] + (1.0f - a) * d * d;
        p[i] -= lr * d / (sqrtf(v[i]) + eps);
    }
}

/* The update of parameters [lo, hi). */
static void step_range(const nnx_optim *o, float *p, const float *g, size_t lo, size_t hi,
                       double lr)
{
    float *m = o->m ? o->m + lo : NULL, *v = o->v ? o->v + lo : NULL;
    switch (o->conf.kind) {
    case NNX_OPTIM_SGD:
        sgd_step(o, p + lo, g + lo, m, hi - lo, (float)lr);
        break;
    case NNX_OPTIM_ADAM:
    case NNX_OPTIM_ADAMW:
        adam_step(o, p + lo, g + lo, m, v, hi - lo, lr);
        break;
    case NNX_OPTIM_RMSPROP:
        rmsprop_step(o, p + lo, g + lo, v, hi - lo, (float)lr);
        break;
    }
}

void nnx_optim_step(nnx_optim *o, float *params, const float *grads, double lr)
{
    nnx_optim_step_on(o, params, grads, lr, NULL);
}

typedef struct step_job {
    const nnx_optim *o;
    float *p;
    const float *g;
    double lr;
    int units;
} step_job;

static void step_unit(void *ctx, int u, int tid)
{
    (void)tid;
    const step_job *j = ctx;
    long lo, hi;
    nnx_team_split((long)j->o->n, j->units, u, &lo, &hi);
    step_range(j->o, j->p, j->g, (size_t)lo, (size_t)hi, j->lr);
}

void nnx_optim_step_on(nnx_optim *o, float *params, const float *grads, double lr,
                       struct nnx_team *team)
{
    size_t units = o->n / UNIT_PARAMS;
    step_job j = {
        .o = o, .p = params, .g = grads, .lr = lr,
        .units = units < 1 ? 1 : units > MAX_UNITS ? MAX_UNITS : (int)units,
    };
    nnx_team_run(team, j.units, step_unit, &j);
    o->t++;
}

/* In 8 lanes so that GCC vectorises it. */
double nnx_sum_squares(const float *restrict g, size_t n)
{
    double lane[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            lane[j] += (double)g[i + j] * g[i + j];
    double s = 0;
    for (; i < n; i++)
        s += (double)g[i] * g[i];
    for (int j = 0; j < 8; j++)
        s += lane[j];
    return s;
}

double nnx_grad_norm(const float *g, size_t n)
{
    return sqrt(nnx_sum_squares(g, n));
}

double nnx_clip_grad_norm(float *g, size_t n, double max_norm)
{
    double norm = nnx_grad_norm(g, n);
    nnx_clip_grad_to(g, n, max_norm, norm);
    return norm;
}

void nnx_clip_grad_to(float *g, size_t n, double max_norm, double norm)
{
    if (!isfinite(norm) || !(norm > max_norm))
        return;
    const float coef = (float)(max_norm / (norm + 1e-6));
    for (size_t i = 0; i < n; i++)
        g[i] *= coef;
}
