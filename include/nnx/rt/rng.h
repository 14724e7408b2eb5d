/* rng.h — seeded random numbers: xoroshiro128+ seeded through splitmix64.
 *
 * One generator per job (init, shuffling, dropout, splitting, ...): each is
 * derived from the experiment seed and a stream number, so adding draws to
 * one stream never shifts another, and the same seed gives the same bits.
 */
#ifndef NNX_RT_RNG_H
#define NNX_RT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct nnx_rng {
    uint64_t s[2];
} nnx_rng;

/* The streams the runtime uses; callers may define more above NNX_STREAM_USER. */
enum nnx_stream {
    NNX_STREAM_INIT = 1,     /* weight initialisation */
    NNX_STREAM_SHUFFLE,      /* per-epoch order of the training rows */
    NNX_STREAM_DROPOUT,      /* dropout masks */
    NNX_STREAM_SPLIT,        /* train/valid hold-out */
    NNX_STREAM_DATA,         /* synthetic data sets */
    NNX_STREAM_SEARCH,       /* random search draws */
    NNX_STREAM_AUGMENT,      /* flips and shifts of training images */
    NNX_STREAM_USER = 64
};

void     nnx_rng_seed(nnx_rng *r, uint64_t seed, uint64_t stream);
uint64_t nnx_rng_next(nnx_rng *r);
double   nnx_rng_uniform(nnx_rng *r);              /* [0, 1) with 53 bits */
float    nnx_rng_uniformf(nnx_rng *r);             /* [0, 1) with 24 bits */
double   nnx_rng_normal(nnx_rng *r);               /* N(0, 1), Box–Muller */
uint64_t nnx_rng_below(nnx_rng *r, uint64_t n);    /* uniform in [0, n), unbiased; n > 0 */
void     nnx_rng_shuffle(nnx_rng *r, int32_t *idx, size_t n);  /* Fisher–Yates */

#endif
