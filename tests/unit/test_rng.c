/* test_rng.c — the generator is deterministic, streams differ, draws are in range. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "nnx/rt/rng.h"

static void same_seed_same_bits(void **state)
{
    (void)state;
    nnx_rng a, b;
    nnx_rng_seed(&a, 42, NNX_STREAM_INIT);
    nnx_rng_seed(&b, 42, NNX_STREAM_INIT);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(nnx_rng_next(&a), nnx_rng_next(&b));
}

static void streams_differ(void **state)
{
    (void)state;
    nnx_rng a, b;
    nnx_rng_seed(&a, 42, NNX_STREAM_INIT);
    nnx_rng_seed(&b, 42, NNX_STREAM_SHUFFLE);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += nnx_rng_next(&a) == nnx_rng_next(&b);
    assert_int_equal(same, 0);
}

static void uniform_and_normal_moments(void **state)
{
    (void)state;
    nnx_rng r;
    nnx_rng_seed(&r, 7, NNX_STREAM_USER);
    double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = nnx_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u; sum2 += u * u;
        double z = nnx_rng_normal(&r);
        nsum += z; nsum2 += z * z;
    }
    assert_float_equal(sum / n, 0.5, 0.01);
    assert_float_equal(sum2 / n - (sum / n) * (sum / n), 1.0 / 12, 0.005);
    assert_float_equal(nsum / n, 0.0, 0.01);
    assert_float_equal(nsum2 / n, 1.0, 0.02);
}

static void shuffle_is_a_permutation(void **state)
{
    (void)state;
    nnx_rng r;
    nnx_rng_seed(&r, 1, NNX_STREAM_SHUFFLE);
    int32_t idx[100];
    int seen[100];
    for (int i = 0; i < 100; i++) idx[i] = i;
    nnx_rng_shuffle(&r, idx, 100);
    memset(seen, 0, sizeof seen);
    int moved = 0;
    for (int i = 0; i < 100; i++) {
        assert_true(idx[i] >= 0 && idx[i] < 100);
        seen[idx[i]]++;
        moved += idx[i] != i;
    }
    for (int i = 0; i < 100; i++) assert_int_equal(seen[i], 1);
    assert_true(moved > 50);
    for (int i = 0; i < 1000; i++) assert_true(nnx_rng_below(&r, 3) < 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_bits),
        cmocka_unit_test(streams_differ),
        cmocka_unit_test(uniform_and_normal_moments),
        cmocka_unit_test(shuffle_is_a_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
