/* dense.c — the fully connected layer: y = x·Wᵀ + b with W stored [units][in].
 *
 * Every product is one cblas_sgemm over the whole batch with the transposes
 * folded into the call, so nothing is copied except a CNHW input, which is
 * turned sample-major first (into L->ws) because dense reads a sample flat.
 */
#include <cblas.h>
#include <string.h>

#include "rt/layer.h"

const float *nnx_dense_forward(nnx_layer *L, const float *x, int n)
{
    const int in = L->in_size, u = L->info.units;
    if (L->in_layout == NNX_CNHW) {
        nnx_cnhw_to_nchw(x, L->ws, n, L->info.in_c, L->info.in_h * L->info.in_w);
        x = L->ws;
    }
    float *restrict y = L->out;
    float beta = 0.0f;
    if (L->info.bias) {
        const float *restrict b = L->w + (size_t)u * in;
        for (int r = 0; r < n; r++)
            memcpy(y + (size_t)r * u, b, (size_t)u * sizeof(float));
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, u, in,
                1.0f, x, in, L->w, in, beta, y, u);
    return y;
}

const float *nnx_dense_backward(nnx_layer *L, const float *dy, float *dx, int n)
{
    const int in = L->in_size, u = L->info.units;
    const float *x = L->in_layout == NNX_CNHW ? L->ws : L->x;
    /* dW[u][in] = dyᵀ · x */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, u, in, n,
                1.0f, dy, u, x, in, 0.0f, L->gw, in);
    if (L->info.bias) {
        float *restrict db = L->gw + (size_t)u * in;
        memset(db, 0, (size_t)u * sizeof(float));
        for (int r = 0; r < n; r++) {
            const float *restrict row = dy + (size_t)r * u;
            for (int j = 0; j < u; j++)
                db[j] += row[j];
        }
    }
    if (!dx)
        return NULL;
    /* dx[n][in] = dy · W, sample-major; a CNHW input wants it transposed back
     * (the NCHW copy of x in L->ws is no longer needed, so it holds dx first). */
    float *target = L->in_layout == NNX_CNHW ? L->ws : dx;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, u,
                1.0f, dy, u, L->w, in, 0.0f, target, in);
    if (L->in_layout == NNX_CNHW)
        nnx_nchw_to_cnhw(L->ws, dx, n, L->info.in_c, L->info.in_h * L->info.in_w);
    return dx;
}
