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

/* The common case, 2×2 windows with stride 2, without the inner loops. */
static void maxpool_2x2(const float *restrict x, float *restrict y, int32_t *restrict idx,
                        size_t planes, int h, int w, int oh, int ow)
{
    for (size_t p = 0; p < planes; p++) {
        const float *restrict in = x + p * h * w;
        float *restrict out = y + p * oh * ow;
        int32_t *restrict arg = idx + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            const float *restrict r0 = in + 2 * i * w, *restrict r1 = r0 + w;
            const int base = 2 * i * w;
            float *restrict o = out + i * ow;
            int32_t *restrict g = arg + i * ow;
            for (int j = 0; j < ow; j++) {   /* arithmetic on 0/1, so it vectorises */
                float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
                int top = b > a, bot = d > c;
                float mt = top ? b : a, mb = bot ? d : c;
                int lower = mb > mt;
                o[j] = lower ? mb : mt;
                g[j] = base + 2 * j + top + lower * (w + bot - top);
            }
        }
    }
}

const float *nnx_pool_forward(nnx_layer *L, const float *restrict x, int n)
{
    const nnx_layer_info *I = &L->info;
    const int h = I->in_h, w = I->in_w, oh = I->out_h, ow = I->out_w;
    const int k = I->kernel, st = I->stride;
    const size_t planes = (size_t)n * I->in_c;
    float *restrict y = L->out;
    if (I->kind == NNX_LAYER_MAXPOOL && k == 2 && st == 2) {
        maxpool_2x2(x, y, L->idx, planes, h, w, oh, ow);
    } else if (I->kind == NNX_LAYER_MAXPOOL) {
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
    if (I->kind == NNX_LAYER_MAXPOOL && k == st) {
        /* Windows tile the plane without overlap: each input gets its
         * gradient or 0 in one write; only a ragged border needs zeroing. */
        const int32_t *restrict idx = L->idx;
        for (size_t p = 0; p < planes; p++) {
            float *restrict d = dx + p * h * w;
            const float *restrict g = dy + p * oh * ow;
            const int32_t *restrict arg = idx + p * oh * ow;
            for (int i = 0; i < oh; i++) {
                for (int a = 0; a < k; a++) {
                    float *restrict row = d + (size_t)(i * k + a) * w;
                    memset(row, 0, (size_t)w * sizeof *row);
                }
                for (int j = 0; j < ow; j++)
                    d[arg[i * ow + j]] = g[i * ow + j];
            }
            if (oh * k < h)
                memset(d + (size_t)oh * k * w, 0, (size_t)(h - oh * k) * w * sizeof *d);
        }
        return dx;
    }
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
