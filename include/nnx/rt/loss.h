/* loss.h — losses over a batch of network outputs, each numerically stable,
 * each giving the mean loss and d(loss)/d(output) in one pass.
 *
 * Outputs ("logits") are n × k floats, row-major.  Every function returns 0,
 * or -1 with err filled for a bad size or a label out of range (nothing is
 * written then).  `dout` may be NULL (evaluation) and may not alias `out`.
 *
 *   cross entropy   softmax over k classes, integer labels in [0, k);
 *                   label smoothing s: the target is (1-s)·onehot + s/k.
 *                   loss = mean over rows of -Σ target·log softmax
 *   binary CE       k must be 1; labels 0 or 1; loss = mean of
 *                   max(z,0) - z·y + log(1 + exp(-|z|))
 *   mse             float targets, n × k; loss = mean over all n·k elements
 *                   of (out - target)², as PyTorch's MSELoss
 */
#ifndef NNX_RT_LOSS_H
#define NNX_RT_LOSS_H

#include <stdint.h>

#include "nnx/util/error.h"

enum nnx_loss_kind {
    NNX_LOSS_CROSS_ENTROPY,
    NNX_LOSS_BINARY_CROSS_ENTROPY,
    NNX_LOSS_MSE
};

int nnx_loss_cross_entropy(const float *out, const int32_t *labels, int n, int k,
                           float smoothing, float *loss, float *dout, nnx_rt_error *err);
int nnx_loss_binary_cross_entropy(const float *out, const int32_t *labels, int n,
                                  float *loss, float *dout, nnx_rt_error *err);
int nnx_loss_mse(const float *out, const float *targets, int n, int k,
                 float *loss, float *dout, nnx_rt_error *err);

/* One entry point for a loss chosen at run time: `labels` is used by the two
 * classification losses, `targets` by mse (the other may be NULL);
 * `smoothing` only by cross entropy. */
int nnx_loss_compute(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                     const float *targets, int n, int k, float smoothing,
                     float *loss, float *dout, nnx_rt_error *err);

/* The standard deviation (n - 1 in the denominator) of the per-row losses of
 * a batch whose mean nnx_loss_compute returns: the spread the batch mean's
 * sampling noise is made of (its std is this / sqrt(n)).  Labels must be
 * valid (call after nnx_loss_compute succeeded).  NaN when n < 2. */
double nnx_loss_row_sd(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                       const float *targets, int n, int k, float smoothing);

/* nnx_loss_compute and nnx_loss_row_sd of the same batch (*sd), in one pass
 * where the loss allows (cross entropy), with the same results. */
int nnx_loss_compute_sd(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                        const float *targets, int n, int k, float smoothing, float *loss,
                        float *dout, double *sd, nnx_rt_error *err);
/* The same with the rows of a cross entropy shared by a team of threads
 * (nnx_net_team; NULL = the caller alone) and their losses summed in row
 * order after, so the same bits: rows holds n doubles of scratch (NULL:
 * the caller does it all).  Other losses run on the caller. */
struct nnx_team;
int nnx_loss_compute_sd_on(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                           const float *targets, int n, int k, float smoothing, float *loss,
                           float *dout, double *sd, double *rows, struct nnx_team *team,
                           nnx_rt_error *err);

/* The prediction a metric reads: softmax probabilities (cross entropy),
 * sigmoid probability of class 1 (binary CE, k = 1) or the output itself
 * (mse).  Writes n × k floats to probs (may alias out). */
void nnx_loss_probs(enum nnx_loss_kind kind, const float *out, int n, int k, float *probs);

#endif
