/* residual.c — a residual block's add (output = body(x) + skip(x), the skip
 * being the identity or a projection) and its start, where on the way back
 * the skip path's gradient joins the body's.
 *
 * The add's input is the body's output; the block's input is the x of the
 * block's first layer (the NNX_LAYER_RESIDUAL mark), which every later layer
 * leaves untouched (no layer writes its input), so nothing is copied for the
 * skip.  The three tensors may be in different layouts (a conv body turns
 * NCHW into CNHW): the add walks (sample, channel) planes, contiguous in
 * both.  Backward, the add passes dy on to the body unchanged and keeps the
 * skip path's gradient (dy itself, or the projection's dx) in its workspace
 * until the block's start adds it to the body's.
 *
 * Workspace: max_batch × the block's input size (the skip gradient), then,
 * when the projection's output layout is not the add's, max_batch × the
 * add's output size (dy in the projection's layout).
 */
#include <string.h>

#include "rt/layer.h"

size_t nnx_residual_ws_floats(const nnx_layer *add, const nnx_layer *begin, int max_batch)
{
    size_t mb = (size_t)max_batch;
    size_t ws = mb * (size_t)begin->in_size;
    if (add->proj && add->proj->out_layout != add->out_layout)
        ws += mb * (size_t)add->out_size;
    return ws;
}

/* dst = a + b (b may be NULL: dst = a), n samples of c planes of hw floats,
 * each in its own layout. */
static void add_planes(float *restrict dst, enum nnx_layout dl, const float *restrict a,
                       enum nnx_layout al, const float *restrict b, enum nnx_layout bl,
                       int n, int c, int hw)
{
    if (dl == al && (!b || al == bl)) {
        size_t m = (size_t)n * c * hw;
        if (!b)
            memcpy(dst, a, m * sizeof(float));
        else
            for (size_t i = 0; i < m; i++)
                dst[i] = a[i] + b[i];
        return;
    }
    size_t ds = nnx_sample_stride(dl, n, c, hw), dc = nnx_chan_stride(dl, n, c, hw);
    size_t as = nnx_sample_stride(al, n, c, hw), ac = nnx_chan_stride(al, n, c, hw);
    size_t bs = nnx_sample_stride(bl, n, c, hw), bc = nnx_chan_stride(bl, n, c, hw);
    for (int s = 0; s < n; s++)
        for (int ch = 0; ch < c; ch++) {
            float *restrict d = dst + s * ds + ch * dc;
            const float *restrict p = a + s * as + ch * ac;
            if (b) {
                const float *restrict q = b + s * bs + ch * bc;
                for (int i = 0; i < hw; i++)
                    d[i] = p[i] + q[i];
            } else {
                for (int i = 0; i < hw; i++)
                    d[i] = p[i];
            }
        }
}

const float *nnx_residual_forward(nnx_layer *A, const nnx_layer *B, const float *x, int n)
{
    const nnx_layer_info *I = &A->info;
    const float *skip = B->x;
    enum nnx_layout sl = B->in_layout;
    nnx_layer *P = A->proj;
    if (P) {
        P->x = B->x;
        P->train = A->train;
        skip = P->info.kind == NNX_LAYER_CONV ? nnx_conv_forward(P, B->x, n)
                                              : nnx_dense_forward(P, B->x, n);
        P->y = skip;
        sl = P->out_layout;
    }
    add_planes(A->out, A->out_layout, x, A->in_layout, skip, sl, n, I->in_c,
               I->in_h * I->in_w);
    return A->out;
}

const float *nnx_residual_backward(nnx_layer *A, const nnx_layer *B, const float *dy,
                                   float *dx, int n)
{
    float *skip = A->ws;
    nnx_layer *P = A->proj;
    if (P) {
        const float *pdy = dy;
        if (P->out_layout != A->out_layout) {
            float *conv = A->ws + (size_t)A->max_batch * B->in_size;
            add_planes(conv, P->out_layout, dy, A->out_layout, NULL, NNX_NCHW, n,
                       P->info.out_c, P->info.out_h * P->info.out_w);
            pdy = conv;
        }
        /* Without dx nothing below needs a gradient: the weights' only. */
        if (P->info.kind == NNX_LAYER_CONV)
            nnx_conv_backward(P, pdy, dx ? skip : NULL, n);
        else
            nnx_dense_backward(P, pdy, dx ? skip : NULL, n);
    } else if (dx) {
        add_planes(skip, B->in_layout, dy, A->out_layout, NULL, NNX_NCHW, n, B->info.in_c,
                   B->info.in_h * B->info.in_w);
    }
    return dx ? dy : NULL;
}

const float *nnx_residual_begin_backward(nnx_layer *B, const nnx_layer *A, const float *dy,
                                         float *dx, int n)
{
    if (!dx)
        return NULL;
    const float *restrict skip = A->ws;
    const size_t m = (size_t)n * B->in_size;
    for (size_t i = 0; i < m; i++)
        dx[i] = dy[i] + skip[i];
    return dx;
}
