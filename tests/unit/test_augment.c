/* test_augment.c — flips and shifts of training images: exact pixels, every draw in range, seeded and repeatable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "nnx/rt/data.h"

enum { C = 2, H = 5, W = 6, M = 64 };

/* image i, channel c, pixel (y, x): a value that names all four */
static float pix(int i, int c, int y, int x)
{
    return (float)(i * 1000 + c * 100 + y * 10 + x);
}

static void fill(float *x)
{
    for (int i = 0; i < M; i++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int xx = 0; xx < W; xx++)
                    x[((i * C + c) * H + y) * W + xx] = pix(i, c, y, xx);
}

static int clampi(int v, int n)
{
    return v < 0 ? 0 : v >= n ? n - 1 : v;
}

/* Which (flip, dx, dy) with |dx|, |dy| <= s turns image i into out; -1: none does. */
static int find_draw(const float *out, int i, int s, int *flip, int *dx, int *dy)
{
    for (int f = 0; f < 2; f++)
        for (int a = -s; a <= s; a++)
            for (int b = -s; b <= s; b++) {
                int ok = 1;
                for (int c = 0; c < C && ok; c++)
                    for (int y = 0; y < H && ok; y++)
                        for (int x = 0; x < W && ok; x++) {
                            int sx = clampi(x - a, W), sy = clampi(y - b, H);
                            float want = pix(i, c, sy, f ? W - 1 - sx : sx);
                            ok = out[((i * C + c) * H + y) * W + x] == want;
                        }
                if (ok) {
                    *flip = f;
                    *dx = a;
                    *dy = b;
                    return 0;
                }
            }
    return -1;
}

static void off_changes_nothing(void **state)
{
    (void)state;
    static float x[M * C * H * W], y[M * C * H * W];
    float tmp[H * W];
    fill(x);
    memcpy(y, x, sizeof x);
    nnx_augment a = { 0, 0 };
    nnx_augment_batch(&a, x, M, C, H, W, 1, 0, 0, tmp);
    assert_memory_equal(x, y, sizeof x);
}

static void flips_mirror_whole_images_about_half_the_time(void **state)
{
    (void)state;
    static float x[M * C * H * W];
    float tmp[H * W];
    fill(x);
    nnx_augment a = { 1, 0 };
    nnx_augment_batch(&a, x, M, C, H, W, 7, 3, 2, tmp);
    int flips = 0;
    for (int i = 0; i < M; i++) {
        int f, dx, dy;
        assert_int_equal(find_draw(x, i, 0, &f, &dx, &dy), 0);
        flips += f;
    }
    assert_in_range(flips, 16, 48);     /* 64 fair coins */
}

static void shifts_stay_in_range_and_repeat_edges(void **state)
{
    (void)state;
    static float x[M * C * H * W];
    float tmp[H * W];
    fill(x);
    nnx_augment a = { 1, 2 };
    nnx_augment_batch(&a, x, M, C, H, W, 7, 0, 0, tmp);
    int seen[5][5] = { { 0 } }, moved = 0;
    for (int i = 0; i < M; i++) {
        int f, dx, dy;
        assert_int_equal(find_draw(x, i, 2, &f, &dx, &dy), 0);
        seen[dx + 2][dy + 2] = 1;
        moved += dx || dy;
    }
    int kinds = 0;
    for (int a2 = 0; a2 < 5; a2++)
        for (int b = 0; b < 5; b++)
            kinds += seen[a2][b];
    assert_true(kinds >= 12);           /* 64 draws of 25 (dx, dy) pairs */
    assert_true(moved >= 48);
}

static void same_seed_epoch_batch_same_images(void **state)
{
    (void)state;
    static float x[M * C * H * W], y[M * C * H * W], z[M * C * H * W];
    float tmp[H * W];
    nnx_augment a = { 1, 2 };
    fill(x);
    fill(y);
    fill(z);
    nnx_augment_batch(&a, x, M, C, H, W, 5, 4, 9, tmp);
    nnx_augment_batch(&a, y, M, C, H, W, 5, 4, 9, tmp);
    assert_memory_equal(x, y, sizeof x);
    nnx_augment_batch(&a, z, M, C, H, W, 5, 4, 10, tmp);     /* the next batch draws anew */
    assert_memory_not_equal(x, z, sizeof x);
    fill(z);
    nnx_augment_batch(&a, z, M, C, H, W, 5, 5, 9, tmp);      /* so does the next epoch */
    assert_memory_not_equal(x, z, sizeof x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_changes_nothing),
        cmocka_unit_test(flips_mirror_whole_images_about_half_the_time),
        cmocka_unit_test(shifts_stay_in_range_and_repeat_edges),
        cmocka_unit_test(same_seed_epoch_batch_same_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
