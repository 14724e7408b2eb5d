/* loss.c — cross entropy, binary cross entropy with logits and mean squared
 * error: the mean loss of a batch and its gradient with respect to the
 * network's outputs, computed stably (log-sum-exp, log1p of e^-|z|). */
#include <math.h>
#include <stddef.h>

#include "nnx/rt/loss.h"
#include "rt/team.h"

static int check_size(const char *what, int n, int k, nnx_rt_error *err)
{
    if (n < 1 || k < 1)
        return nnx_rt_fail(err, "%s: batch of %d rows × %d outputs is empty", what, n, k);
    return 0;
}

/* The rows' losses, one at a time: Welford's running mean and sum of
 * squared deviations, for their standard deviation. */
typedef struct spread {
    double mean, m2;
    int n;
} spread;

static void spread_add(spread *s, double x)
{
    s->n++;
    const double d = x - s->mean;
    s->mean += d / s->n;
    s->m2 += d * (x - s->mean);
}

static double spread_sd(const spread *s)
{
    return s->n > 1 ? sqrt(s->m2 / (s->n - 1)) : NAN;
}

/* One row of cross entropy: its loss -Σ t·log p (t = on·onehot + off, Σ t
 * = 1) and, when d is not NULL, its gradient (p - t)·inv_n into d. */
static double ce_row(const float *z, int32_t label, int k, double on, double off, float inv_n,
                     float *d)
{
    float m = z[0];
    for (int j = 1; j < k; j++)
        m = z[j] > m ? z[j] : m;
    double sum = 0, zsum = 0;
    for (int j = 0; j < k; j++) {
        sum += exp((double)z[j] - m);
        zsum += z[j];
    }
    double lse = m + log(sum);
    if (d)
        for (int j = 0; j < k; j++) {
            double p = exp((double)z[j] - lse);
            double t = off + (j == label ? on : 0.0);
            d[j] = (float)(p - t) * inv_n;
        }
    return lse - on * z[label] - off * zsum;
}

/* The rows of a cross entropy in units of ROW_UNIT, each row's loss kept
 * for the sums, which the caller then takes in row order. */
#define ROW_UNIT 32

typedef struct ce_job {
    const float *out;
    const int32_t *labels;
    int n, k;
    double on, off;
    float inv_n;
    float *dout;
    double *rows;
} ce_job;

static void ce_unit(void *p, int u, int tid)
{
    (void)tid;
    const ce_job *j = p;
    int hi = (u + 1) * ROW_UNIT < j->n ? (u + 1) * ROW_UNIT : j->n;
    for (int r = u * ROW_UNIT; r < hi; r++)
        j->rows[r] = ce_row(j->out + (size_t)r * j->k, j->labels[r], j->k, j->on, j->off,
                            j->inv_n, j->dout ? j->dout + (size_t)r * j->k : NULL);
}

/* Cross entropy, and when sd is not NULL the row losses' standard deviation
 * (nnx_loss_row_sd's, from the same row terms as the mean).  With rows (n
 * doubles) the rows are shared by the team, and summed in order after. */
static int cross_entropy(const float *out, const int32_t *labels, int n, int k,
                         float smoothing, float *loss, float *dout, double *sd,
                         double *rows, struct nnx_team *team, nnx_rt_error *err)
{
    if (check_size("cross entropy", n, k, err))
        return -1;
    if (k < 2)
        return nnx_rt_fail(err, "cross entropy needs at least 2 outputs, the network has %d", k);
    if (!(smoothing >= 0.0f && smoothing < 1.0f))
        return nnx_rt_fail(err, "label smoothing must be in [0, 1), not %g", (double)smoothing);
    for (int r = 0; r < n; r++)
        if (labels[r] < 0 || labels[r] >= k)
            return nnx_rt_fail(err, "cross entropy: row %d has label %d, outside [0, %d)",
                               r, (int)labels[r], k);
    const double on = 1.0 - smoothing, off = (double)smoothing / k;
    const float inv_n = 1.0f / (float)n;
    if (rows) {
        ce_job j = {
            .out = out, .labels = labels, .n = n, .k = k, .on = on, .off = off,
            .inv_n = inv_n, .dout = dout, .rows = rows,
        };
        nnx_team_run(team, (n + ROW_UNIT - 1) / ROW_UNIT, ce_unit, &j);
    }
    double total = 0;
    spread spr = {0};
    for (int r = 0; r < n; r++) {
        const double row = rows ? rows[r]
                         : ce_row(out + (size_t)r * k, labels[r], k, on, off, inv_n,
                                  dout ? dout + (size_t)r * k : NULL);
        total += row;
        spread_add(&spr, row);
    }
    *loss = (float)(total / n);
    if (sd)
        *sd = spread_sd(&spr);
    return 0;
}

int nnx_loss_cross_entropy(const float *out, const int32_t *labels, int n, int k,
                           float smoothing, float *loss, float *dout, nnx_rt_error *err)
{
    return cross_entropy(out, labels, n, k, smoothing, loss, dout, NULL, NULL, NULL, err);
}

int nnx_loss_binary_cross_entropy(const float *out, const int32_t *labels, int n,
                                  float *loss, float *dout, nnx_rt_error *err)
{
    if (check_size("binary cross entropy", n, 1, err))
        return -1;
    for (int r = 0; r < n; r++)
        if (labels[r] != 0 && labels[r] != 1)
            return nnx_rt_fail(err, "binary cross entropy: row %d has label %d, not 0 or 1",
                               r, (int)labels[r]);
    const float inv_n = 1.0f / (float)n;
    double total = 0;
    for (int r = 0; r < n; r++) {
        double z = out[r], y = labels[r];
        total += (z > 0 ? z : 0) - z * y + log1p(exp(-fabs(z)));
        if (dout) {
            double s = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
            dout[r] = (float)(s - y) * inv_n;
        }
    }
    *loss = (float)(total / n);
    return 0;
}

int nnx_loss_mse(const float *out, const float *targets, int n, int k,
                 float *loss, float *dout, nnx_rt_error *err)
{
    if (check_size("mse", n, k, err))
        return -1;
    const size_t m = (size_t)n * k;
    const float scale = 2.0f / (float)m;
    double total = 0;
    for (size_t i = 0; i < m; i++) {
        float d = out[i] - targets[i];
        total += (double)d * d;
        if (dout)
            dout[i] = scale * d;
    }
    *loss = (float)(total / (double)m);
    return 0;
}

int nnx_loss_compute(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                     const float *targets, int n, int k, float smoothing,
                     float *loss, float *dout, nnx_rt_error *err)
{
    switch (kind) {
    case NNX_LOSS_CROSS_ENTROPY:
        if (!labels)
            return nnx_rt_fail(err, "cross entropy needs integer labels");
        return nnx_loss_cross_entropy(out, labels, n, k, smoothing, loss, dout, err);
    case NNX_LOSS_BINARY_CROSS_ENTROPY:
        if (!labels)
            return nnx_rt_fail(err, "binary cross entropy needs labels 0/1");
        if (k != 1)
            return nnx_rt_fail(err, "binary cross entropy needs 1 output, the network has %d", k);
        return nnx_loss_binary_cross_entropy(out, labels, n, loss, dout, err);
    case NNX_LOSS_MSE:
        if (!targets)
            return nnx_rt_fail(err, "mse needs float targets");
        return nnx_loss_mse(out, targets, n, k, loss, dout, err);
    }
    return nnx_rt_fail(err, "unknown loss %d", (int)kind);
}

/* The loss of row r alone (the term the batch mean averages). */
static double row_loss(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                       const float *targets, int r, int k, float smoothing)
{
    switch (kind) {
    case NNX_LOSS_CROSS_ENTROPY:
        return ce_row(out + (size_t)r * k, labels[r], k, 1.0 - smoothing,
                      (double)smoothing / k, 0.0f, NULL);
    case NNX_LOSS_BINARY_CROSS_ENTROPY: {
        double z = out[r], y = labels[r];
        return (z > 0 ? z : 0) - z * y + log1p(exp(-fabs(z)));
    }
    case NNX_LOSS_MSE: {
        double s = 0;
        for (int j = 0; j < k; j++) {
            double d = (double)out[(size_t)r * k + j] - targets[(size_t)r * k + j];
            s += d * d;
        }
        return s / k;
    }
    }
    return NAN;
}

int nnx_loss_compute_sd(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                        const float *targets, int n, int k, float smoothing, float *loss,
                        float *dout, double *sd, nnx_rt_error *err)
{
    return nnx_loss_compute_sd_on(kind, out, labels, targets, n, k, smoothing, loss, dout, sd,
                                  NULL, NULL, err);
}

int nnx_loss_compute_sd_on(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                           const float *targets, int n, int k, float smoothing, float *loss,
                           float *dout, double *sd, double *rows, struct nnx_team *team,
                           nnx_rt_error *err)
{
    if (kind == NNX_LOSS_CROSS_ENTROPY && labels)
        return cross_entropy(out, labels, n, k, smoothing, loss, dout, sd, rows, team, err);
    if (nnx_loss_compute(kind, out, labels, targets, n, k, smoothing, loss, dout, err) < 0)
        return -1;
    *sd = nnx_loss_row_sd(kind, out, labels, targets, n, k, smoothing);
    return 0;
}

double nnx_loss_row_sd(enum nnx_loss_kind kind, const float *out, const int32_t *labels,
                       const float *targets, int n, int k, float smoothing)
{
    if (n < 2 || k < 1)
        return NAN;
    spread rows = {0};
    for (int r = 0; r < n; r++)
        spread_add(&rows, row_loss(kind, out, labels, targets, r, k, smoothing));
    return spread_sd(&rows);
}

void nnx_loss_probs(enum nnx_loss_kind kind, const float *out, int n, int k, float *probs)
{
    const size_t m = (size_t)n * k;
    switch (kind) {
    case NNX_LOSS_CROSS_ENTROPY:
        for (int r = 0; r < n; r++) {
            const float *z = out + (size_t)r * k;
            float *p = probs + (size_t)r * k;
            float mx = z[0];
            for (int j = 1; j < k; j++)
                mx = z[j] > mx ? z[j] : mx;
            double sum = 0;
            for (int j = 0; j < k; j++) {
                float e = expf(z[j] - mx);
                p[j] = e;
                sum += e;
            }
            const float inv = (float)(1.0 / sum);
            for (int j = 0; j < k; j++)
                p[j] *= inv;
        }
        break;
    case NNX_LOSS_BINARY_CROSS_ENTROPY:
        for (size_t i = 0; i < m; i++) {
            float z = out[i];
            probs[i] = z >= 0 ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z));
        }
        break;
    case NNX_LOSS_MSE:
        for (size_t i = 0; i < m; i++)
            probs[i] = out[i];
        break;
    }
}
