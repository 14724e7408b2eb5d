/* pool.c — max and average pooling over size×size windows with a stride, no
 * padding; windows that would cross the border are dropped (PyTorch's floor).
 *
 * Both work plane by plane: each (sample, channel) plane of H·W floats is
 * contiguous in either layout and the planes keep their order, so the layout
 * does not matter here.  Max pooling records the winning input offset within
 * its plane (L->idx) for backward; ties go to the first in row-major order.
 */
#include <string.h>

#include "rt/layer.h"

const float *nnx_pool_forward(nnx_layer *L, const float *restrict x, int n)
{
    const nnx_layer_info *I = &L->info;
    const int h = I->in_h, w = I->in_w, oh = I->out_h, ow = I->out_w;
    const int k = I->kernel, st = I->stride;
    const size_t planes = (size_t)n * I->in_c;
    float *restrict y = L->out;
    if (I->kind == NNX_LAYER_MAXPOOL) {
        int32_t *restrict idx = L->idx;
        for (size_t p = 0; p < planes; p++) {
            const float *restrict in = x + p * h * w;
            float *restrict out = y + p * oh * ow;
            int32_t *restrict arg = idx + p * oh * ow;
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    int best = i * st * w + j * st;
                    float m = in[best];
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++) {
                            int at = (i * st + a) * w + j * st + b;
                            if (in[at] > m) {
                                m = in[at];
                                best = at;
                            }
                        }
                    out[i * ow + j] = m;
                    arg[i * ow + j] = best;
                }
        }
    } else {
        const float inv = 1.0f / (float)(k * k);
        for (size_t p = 0; p < planes; p++) {
            const float *restrict in = x + p * h * w;
            float *restrict out = y + p * oh * ow;
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    float sum = 0.0f;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++)
                            sum += in[(i * st + a) * w + j * st + b];
                    out[i * ow + j] = sum * inv;
                }
        }
    }
    return y;
}

const float *nnx_pool_backward(nnx_layer *L, const float *restrict dy, float *restrict dx, int n)
{
    if (!dx)
        return NULL;
    const nnx_layer_info *I = &L->info;
    const int h = I->in_h, w = I->in_w, oh = I->out_h, ow = I->out_w;
    const int k = I->kernel, st = I->stride;
    const size_t planes = (size_t)n * I->in_c;
    memset(dx, 0, planes * h * w * sizeof *dx);
    if (I->kind == NNX_LAYER_MAXPOOL) {
        const int32_t *restrict idx = L->idx;
        for (size_t p = 0; p < planes; p++) {
            float *restrict d = dx + p * h * w;
            const float *restrict g = dy + p * oh * ow;
            const int32_t *restrict arg = idx + p * oh * ow;
            for (int o = 0; o < oh * ow; o++)
                d[arg[o]] += g[o];
        }
    } else {
        const float inv = 1.0f / (float)(k * k);
        for (size_t p = 0; p < planes; p++) {
            float *restrict d = dx + p * h * w;
            const float *restrict g = dy + p * oh * ow;
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    const float v = g[i * ow + j] * inv;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++)
                            d[(i * st + a) * w + j * st + b] += v;
                }
        }
    }
    return dx;
}
