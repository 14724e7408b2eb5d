/* rng.c — xoroshiro128+ (Blackman & Vigna) seeded by splitmix64. */
#include <math.h>

#include "nnx/rt/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void nnx_rng_seed(nnx_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
    r->s[0] = splitmix64(&x);
    r->s[1] = splitmix64(&x);
    if (r->s[0] == 0 && r->s[1] == 0)
        r->s[1] = 1;
}

uint64_t nnx_rng_next(nnx_rng *r)
{
    uint64_t s0 = r->s[0], s1 = r->s[1];
    uint64_t result = s0 + s1;
    s1 ^= s0;
    r->s[0] = rotl(s0, 24) ^ s1 ^ (s1 << 16);
    r->s[1] = rotl(s1, 37);
    return result;
}

double nnx_rng_uniform(nnx_rng *r)
{
    return (double)(nnx_rng_next(r) >> 11) * 0x1.0p-53;
}

float nnx_rng_uniformf(nnx_rng *r)
{
    return (float)(nnx_rng_next(r) >> 40) * 0x1.0p-24f;
}

double nnx_rng_normal(nnx_rng *r)
{
    double u1 = 1.0 - nnx_rng_uniform(r);  /* (0, 1]: log is finite */
    double u2 = nnx_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t nnx_rng_below(nnx_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;  /* reject the biased tail */
    uint64_t x;
    do
        x = nnx_rng_next(r);
    while (x >= limit);
    return x % n;
}

void nnx_rng_shuffle(nnx_rng *r, int32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)nnx_rng_below(r, i);
        int32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
