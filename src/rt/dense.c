/* dense.c — the fully connected layer: y = x·Wᵀ + b with W stored [units][in].
 *
 * Every product is cblas_sgemm over the whole batch with the transposes
 * folded into the call, so nothing is copied except a CNHW input, which is
 * turned sample-major first (into the first half of L->ws) because dense
 * reads a sample flat; its input gradient is made sample-major in the
 * second half and turned back.
 *
 * The weight gradient's units also take the sum of squares of each row of
 * dW they made, while it is in their core's cache (the workspace's last u
 * doubles): the gradient norm the trainer needs then costs a sum of u
 * numbers here (nnx_dense_grad_sumsq) instead of a pass over dW after the
 * backward (27 us of the bench MLP's step, for dW's 200,704 floats).
 *
 * After a dropout (L->drop_fused, set by compile), the input gradient's
 * units multiply the columns they made by the dropout's mask, and the
 * dropout's backward hands the gradient on as it is: its own pass read a
 * gradient the other core had just written (the bench MLP's two dropout
 * backwards, 13 and 7 us a step, a block of rows on each core).
 *
 * Threads.  A large product is cut into units: y by columns (units of W's
 * rows), dW by W's rows too, and dx by columns of `in` (every unit reads
 * all of dy).  y and dW are cut the same way, and the optimizer's pass
 * over the parameters too (a team hands a job's first half to the caller),
 * so a core finds its rows of W and dW in its own cache from one pass to
 * the next; each dW unit then writes one contiguous block (cut by columns
 * of `in`, as it was, the bench MLP's first layer took 0.26 ms a backward
 * instead of 0.21, although each unit read less of x).  The shapes set how
 * many units a product may have (each at least UNIT_FLOPS) and the thread
 * count caps it: every unit packs the operand they share again, so on two
 * threads two units are faster than four.  Cutting a product into rows or
 * columns does not change a bit of any element: the BLAS computes an
 * output element the same way whatever block of it a call covers, and
 * every unit of a cut product is large enough for its blocked
 * path (OpenBLAS takes products under 10⁶ multiply-adds down another), so
 * the results do not depend on the thread count (test_net_threads holds
 * the bits on 1, 2 and 3 threads).
 */
#include <cblas.h>
#include <math.h>

#include "nnx/rt/optim.h"
#include "rt/layer.h"
#include "rt/team.h"

#define MAX_UNITS  4
#define UNIT_FLOPS 4e6     /* a product is cut into one unit per this many flops */
#define ALIGN      16       /* unit edges fall on multiples of this many columns */

/* Units for a product of m·n·k multiply-adds cut along a side of `side`,
 * on `threads` threads. */
static int nunits(double m, double n, double k, int side, int threads)
{
    double u = 2.0 * m * n * k / UNIT_FLOPS;
    int units = u < 1 ? 1 : u > MAX_UNITS ? MAX_UNITS : (int)u;
    if (units > threads)
        units = threads;
    while (units > 1 && side / units < ALIGN)
        units--;
    return units;
}

/* Columns [*lo, *hi) of `side` for unit u of `units`, edges on ALIGN. */
static void unit_span(int side, int units, int u, int *lo, int *hi)
{
    long a, b;
    nnx_team_split(side, units, u, &a, &b);
    *lo = u == 0 ? 0 : (int)((a + ALIGN / 2) / ALIGN * ALIGN);
    *hi = u == units - 1 ? side : (int)((b + ALIGN / 2) / ALIGN * ALIGN);
}

/* The workspace's first part: a CNHW input's NCHW copy and its input
 * gradient's, max_batch rows each (none for an NCHW input). */
static size_t copies_floats(const nnx_layer *L, int max_batch)
{
    return L->in_layout == NNX_CNHW ? 2 * (size_t)max_batch * (size_t)L->in_size : 0;
}

size_t nnx_dense_ws_floats(const nnx_layer *L, int max_batch)
{
    return copies_floats(L, max_batch) + 2 * (size_t)L->info.units;  /* then u doubles */
}

/* Σ dW[r][:]² of each row r, as the last backward's units made them (at an
 * even float offset, so aligned for doubles). */
static double *row_sumsq(const nnx_layer *L)
{
    return (double *)(void *)(L->ws + copies_floats(L, L->max_batch));
}

/* Σ g² over a row of dW in 16 float lanes (fused multiply-adds, no
 * conversion a float), added up in double: each lane sums in / 16 squares,
 * a rounding of 2^-24 each, far below what a gradient norm is read to.  A
 * row whose squares overflow a float (a gradient past 1.8e19, which
 * clipping is there to handle) is summed again in double, so the norm is
 * infinite only when the gradient is.  (Squares under 1e-45 are lost:
 * gradients under 3e-23.) */
static double row_squares(const float *restrict g, int in)
{
    float lane[16] = {0};
    int i = 0;
    for (; i + 16 <= in; i += 16)
        for (int k = 0; k < 16; k++)
            lane[k] += g[i + k] * g[i + k];
    double s = 0;
    for (; i < in; i++)
        s += (double)g[i] * g[i];
    for (int k = 0; k < 16; k++)
        s += lane[k];
    return isfinite(s) ? s : nnx_sum_squares(g, (size_t)in);
}

typedef struct dense_job {
    nnx_layer *L;
    const float *x, *dy;
    float *dx;
    int n, in, u, units;
} dense_job;

/* y[:, lo:hi] = x · W[lo:hi]ᵀ (+ b[lo:hi], laid under the unit's columns
 * first, so the product adds onto them while they are in this core's cache). */
static void forward_unit(void *p, int unit, int tid)
{
    (void)tid;
    const dense_job *j = p;
    int lo, hi;
    unit_span(j->u, j->units, unit, &lo, &hi);
    if (hi <= lo)
        return;
    if (j->L->info.bias) {
        const float *restrict b = j->L->w + (size_t)j->u * j->in + lo;
        for (int r = 0; r < j->n; r++) {
            float *restrict yr = j->L->out + (size_t)r * j->u + lo;
            for (int k = 0; k < hi - lo; k++)
                yr[k] = b[k];
        }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->n, hi - lo, j->in,
                1.0f, j->x, j->in, j->L->w + (size_t)lo * j->in, j->in,
                j->L->info.bias ? 1.0f : 0.0f, j->L->out + lo, j->u);
}

const float *nnx_dense_forward(nnx_layer *L, const float *x, int n)
{
    const int in = L->in_size, u = L->info.units;
    if (L->in_layout == NNX_CNHW) {
        nnx_cnhw_to_nchw(x, L->ws, n, L->info.in_c, L->info.in_h * L->info.in_w);
        x = L->ws;
    }
    dense_job j = {.L = L, .x = x, .n = n, .in = in, .u = u};
    j.units = nunits(n, u, in, u, nnx_team_size(L->team));
    nnx_team_run(L->team, j.units, forward_unit, &j);
    return L->out;
}

/* dW[lo:hi, :] = dy[:, lo:hi]ᵀ · x, each row's sum of squares, and db[lo:hi]
 * = Σ_rows dy[:, lo:hi] (summed row by row, as one thread would); dx[:,
 * lo:hi] = dy · W[:, lo:hi]. */
static void wgrad_unit(void *p, int unit, int tid)
{
    (void)tid;
    const dense_job *j = p;
    int lo, hi;
    unit_span(j->u, j->units, unit, &lo, &hi);
    if (hi <= lo)
        return;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, j->in, j->n,
                1.0f, j->dy + lo, j->u, j->x, j->in, 0.0f, j->L->gw + (size_t)lo * j->in, j->in);
    double *sq = row_sumsq(j->L);
    for (int r = lo; r < hi; r++)
        sq[r] = row_squares(j->L->gw + (size_t)r * j->in, j->in);
    if (!j->L->info.bias)
        return;
    float *restrict db = j->L->gw + (size_t)j->u * j->in;
    for (int k = lo; k < hi; k++)
        db[k] = 0.0f;
    for (int r = 0; r < j->n; r++) {
        const float *restrict row = j->dy + (size_t)r * j->u;
        for (int k = lo; k < hi; k++)
            db[k] += row[k];
    }
}

static void dinput_unit(void *p, int unit, int tid)
{
    (void)tid;
    const dense_job *j = p;
    int lo, hi;
    unit_span(j->in, j->units, unit, &lo, &hi);
    if (hi <= lo)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->n, hi - lo, j->u,
                1.0f, j->dy, j->u, j->L->w + lo, j->in, 0.0f, j->dx + lo, j->in);
    if (!j->L->drop_fused)
        return;
    const nnx_layer *D = j->L - 1;          /* the dropout before this layer */
    if (!D->train || D->info.a == 0.0f)
        return;
    for (int r = 0; r < j->n; r++) {        /* the dropout's backward, here */
        float *restrict g = j->dx + (size_t)r * j->in;
        const float *restrict mask = D->ws + (size_t)r * j->in;
        for (int k = lo; k < hi; k++)
            g[k] *= mask[k];
    }
}

/* The backward pass as one job: the weight gradient's units, then the input
 * gradient's (when there is one), so two products that are each too small
 * to cut in two run side by side instead of one cut product after the
 * other. */
typedef struct grad_job {
    dense_job w, x;         /* x.units is 0 without dx */
} grad_job;

static void grad_unit(void *p, int unit, int tid)
{
    grad_job *g = p;
    if (unit < g->w.units)
        wgrad_unit(&g->w, unit, tid);
    else
        dinput_unit(&g->x, unit - g->w.units, tid);
}

const float *nnx_dense_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    const int in = L->in_size, u = L->info.units;
    dense_job j = {
        .L = L, .x = L->in_layout == NNX_CNHW ? L->ws : L->x, .dy = dy, .n = n, .in = in,
        .u = u,
    };
    /* dW[u][in] = dyᵀ · x and dx[n][in] = dy · W, sample-major; a CNHW input
     * wants dx transposed back (the NCHW copy of x in L->ws is still read by
     * dW, so dx goes to the second half of L->ws first). */
    grad_job g = {.w = j, .x = j};
    int threads = nnx_team_size(L->team);
    if (dx) {
        /* The team's threads shared by the two products in proportion to
         * their work (equal here: both are n·u·in), each product at least one. */
        int share = threads / 2 > 1 ? threads / 2 : 1;
        g.w.units = nunits(u, in, n, u, share);
        g.x.units = nunits(n, in, u, in, threads - share > 1 ? threads - share : 1);
        g.x.dx = L->in_layout == NNX_CNHW ? L->ws + (size_t)L->max_batch * in : dx;
    } else {
        g.w.units = nunits(u, in, n, u, threads);
    }
    nnx_team_run(L->team, g.w.units + g.x.units, grad_unit, &g);
    if (dx && L->in_layout == NNX_CNHW)
        nnx_nchw_to_cnhw(L->ws + (size_t)L->max_batch * in, dx, n, L->info.in_c,
                         L->info.in_h * L->info.in_w);
    return dx;
}

double nnx_dense_grad_sumsq(const nnx_layer *L)
{
    const int u = L->info.units;
    const double *sq = row_sumsq(L);
    double s = 0;
    for (int r = 0; r < u; r++)
        s += sq[r];
    if (L->info.bias)
        s += nnx_sum_squares(L->gw + (size_t)u * L->in_size, (size_t)u);
    return s;
}
