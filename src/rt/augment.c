/* augment.c — random left-right flips and small shifts of the training images in a batch. */
#include <string.h>

#include "nnx/rt/data.h"

static int32_t clamp(int32_t v, int32_t n)
{
    return v < 0 ? 0 : v >= n ? n - 1 : v;
}

void nnx_augment_batch(const nnx_augment *a, float *x, int32_t m, int32_t c, int32_t h,
                       int32_t w, uint64_t seed, int32_t epoch, int32_t batch, float *tmp)
{
    if (!a->flip && a->shift <= 0)
        return;
    nnx_rng r;
    /* One generator per (epoch, batch): no draws carried across batches, so a
     * resumed run (or another thread count) sees the same images. */
    nnx_rng_seed(&r, seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(uint32_t)epoch
                      + 0xbf58476d1ce4e5b9ULL * (uint64_t)(uint32_t)batch, NNX_STREAM_AUGMENT);
    const size_t plane = (size_t)h * (size_t)w;
    for (int32_t i = 0; i < m; i++) {
        int flip = a->flip ? (int)nnx_rng_below(&r, 2) : 0;
        int32_t dx = 0, dy = 0;
        if (a->shift > 0) {
            dx = (int32_t)nnx_rng_below(&r, 2 * (uint64_t)a->shift + 1) - a->shift;
            dy = (int32_t)nnx_rng_below(&r, 2 * (uint64_t)a->shift + 1) - a->shift;
        }
        if (!flip && !dx && !dy)
            continue;
        for (int32_t ch = 0; ch < c; ch++) {
            float *p = x + ((size_t)i * (size_t)c + (size_t)ch) * plane;
            memcpy(tmp, p, plane * sizeof *tmp);
            /* output (y, x) reads the flipped image at (y - dy, x - dx), edges repeated */
            for (int32_t yy = 0; yy < h; yy++) {
                const float *src = tmp + (size_t)clamp(yy - dy, h) * (size_t)w;
                float *dst = p + (size_t)yy * (size_t)w;
                for (int32_t xx = 0; xx < w; xx++) {
                    int32_t sx = clamp(xx - dx, w);
                    dst[xx] = src[flip ? w - 1 - sx : sx];
                }
            }
        }
    }
}
