/* optim.h — optimizers over one flat parameter buffer: SGD, Adam, AdamW, RMSprop.
 *
 * The network keeps all trainable parameters in one float array and their
 * gradients in another of the same length n; an optimizer updates the first
 * from the second, in place, with its own state buffers.  The formulas are
 * PyTorch's (torch.optim, default flags), with lr passed at every step so a
 * schedule can drive it:
 *
 *   weight decay (L2; SGD, ADAM, RMSPROP): g = grad + wd·p  (grad is not written)
 *   SGD      momentum μ = 0: p -= lr·g
 *            else  b = μ·b + g  (b = g at the first step);
 *                  p -= lr·(g + μ·b) with nesterov, else p -= lr·b
 *   ADAM     m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;
 *            p -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps)
 *   ADAMW    p *= 1 - lr·wd (decoupled), then ADAM with g = grad
 *   RMSPROP  v = α·v + (1-α)·g²;  p -= lr · g / (sqrt(v) + eps)
 * t counts steps from 1.  Gradients are left unchanged.
 *
 * Ownership: an nnx_optim owns m and v.  No allocation after init: step is
 * one pass over the arrays.
 */
#ifndef NNX_RT_OPTIM_H
#define NNX_RT_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"

typedef enum nnx_optim_kind {
    NNX_OPTIM_SGD = 0,
    NNX_OPTIM_ADAM,
    NNX_OPTIM_ADAMW,
    NNX_OPTIM_RMSPROP
} nnx_optim_kind;

typedef struct nnx_optim_conf {
    nnx_optim_kind kind;
    double lr;              /* the base lr (the schedule's base_lr); > 0 */
    double weight_decay;    /* >= 0; L2 for SGD/ADAM/RMSPROP, decoupled for ADAMW */
    double momentum;        /* SGD: 0 <= μ < 1 */
    int    nesterov;        /* SGD: needs momentum > 0 */
    double beta1, beta2;    /* ADAM, ADAMW: in [0, 1) */
    double eps;             /* ADAM, ADAMW, RMSPROP: > 0 */
    double alpha;           /* RMSPROP smoothing: in [0, 1) */
} nnx_optim_conf;

/* A field of nnx_optim_conf, as an optimizer's row names its arguments. */
enum nnx_optim_field {
    NNX_OF_NONE,            /* no argument (ends a row's list) */
    NNX_OF_LR, NNX_OF_MOMENTUM, NNX_OF_NESTEROV, NNX_OF_WEIGHT_DECAY,
    NNX_OF_BETA1, NNX_OF_BETA2, NNX_OF_EPS, NNX_OF_ALPHA
};

#define NNX_OPTIM_MAX_ARGS 6

/* One optimizer, one row of the table in optim_table.c: its name and its
 * arguments in the language's order (the catalog row of the same name has
 * these parameters; test_registry holds the two together).  Its update is
 * nnx_optim_step's case for `code`. */
typedef struct nnx_optim_info {
    nnx_optim_kind code;        /* == its index */
    const char *name;
    struct {
        const char *name;
        enum nnx_optim_field field;
    } args[NNX_OPTIM_MAX_ARGS]; /* then NONE */
} nnx_optim_info;

const nnx_optim_info *nnx_optim_info_of(unsigned code);    /* NULL: no such kind */
size_t nnx_optim_count(void);
/* Set or read field f of c (nesterov: 0 or 1). */
void   nnx_optim_conf_set(nnx_optim_conf *c, enum nnx_optim_field f, double v);
double nnx_optim_conf_get(const nnx_optim_conf *c, enum nnx_optim_field f);

/* PyTorch's defaults for kind: lr 1e-3 (1e-2 for RMSPROP), beta1 0.9,
 * beta2 0.999, eps 1e-8, alpha 0.99, momentum 0, weight_decay 0 (1e-2 for
 * ADAMW, as torch.optim.AdamW). */
void nnx_optim_conf_default(nnx_optim_conf *c, nnx_optim_kind kind);

typedef struct nnx_optim {
    nnx_optim_conf conf;
    size_t  n;              /* parameters */
    float  *m;              /* SGD momentum buffer / Adam first moment; NULL when unused */
    float  *v;              /* Adam second moment / RMSprop square average; NULL when unused */
    int64_t t;              /* steps taken */
} nnx_optim;

/* Check conf and allocate zeroed state for n parameters. */
int  nnx_optim_init(nnx_optim *o, const nnx_optim_conf *conf, size_t n, nnx_rt_error *err);
void nnx_optim_free(nnx_optim *o);
/* Forget the state (zero m, v and t), as a fresh optimizer. */
void nnx_optim_reset(nnx_optim *o);

/* One update of params[0..n) from grads[0..n) with learning rate lr. */
void nnx_optim_step(nnx_optim *o, float *params, const float *grads, double lr);

/* The same update shared by a team of threads (nnx_net_team; NULL = the
 * caller alone).  Every formula above is elementwise, and the array is cut
 * into pieces by its length alone, so the bits are those of nnx_optim_step
 * on any thread count. */
struct nnx_team;
void nnx_optim_step_on(nnx_optim *o, float *params, const float *grads, double lr,
                       struct nnx_team *team);

/* The global L2 norm of g[0..n) (accumulated in double).  A trainer takes
 * its net's from the backward's own sums instead (nnx_net_grad_norm). */
double nnx_grad_norm(const float *g, size_t n);

/* Σ g[i]² over n floats in 8 double lanes added up in lane order: the
 * pieces every gradient norm of the runtime is made of. */
double nnx_sum_squares(const float *g, size_t n);

/* torch.nn.utils.clip_grad_norm_: when the norm exceeds max_norm (> 0), scale
 * g by max_norm / (norm + 1e-6).  Returns the norm before clipping (NaN or
 * inf leaves g untouched, so the caller can see it). */
double nnx_clip_grad_norm(float *g, size_t n, double max_norm);
/* The scaling alone, given g's norm (nnx_net_grad_norm's, say). */
void nnx_clip_grad_to(float *g, size_t n, double max_norm, double norm);

#endif
