/* test_data.c — data sets in memory: synthetic sets, split, normalisation, epochs, batches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/data.h"

/* A set whose first feature is the row number, labels i % classes. */
static void numbered(nnx_dataset *ds, int32_t n, int32_t d, int32_t classes)
{
    assert_int_equal(nnx_dataset_alloc(ds, n, d, NNX_TARGET_CLASS, classes, NULL), 0);
    for (int32_t i = 0; i < n; i++) {
        for (int32_t j = 0; j < d; j++)
            ds->x[i * d + j] = (float)(i * 10 + j);
        ds->y[i] = i % classes;
    }
}

static void alloc_shape_subset(void **state)
{
    (void)state;
    nnx_dataset ds, sub;
    nnx_rt_error err;
    numbered(&ds, 10, 4, 3);
    assert_int_equal(nnx_dataset_set_shape(&ds, 1, 2, 3, &err), -1);
    assert_non_null(strstr(err.msg, "does not match 4 features"));
    assert_int_equal(nnx_dataset_set_shape(&ds, 1, 2, 2, &err), 0);
    ds.class_names = calloc(3, sizeof *ds.class_names);
    ds.class_names[0] = strdup("a");
    ds.class_names[2] = strdup("c");
    int32_t rows[] = {7, 2, 2};
    assert_int_equal(nnx_dataset_subset(&ds, rows, 3, &sub, &err), 0);
    assert_int_equal(sub.n, 3);
    assert_int_equal(sub.has_shape, 1);
    assert_int_equal(sub.shape[2], 2);
    assert_float_equal(sub.x[0], 70, 0);
    assert_float_equal(sub.x[4 + 3], 23, 0);
    assert_int_equal(sub.y[0], 1);
    assert_int_equal(sub.y[1], 2);
    assert_string_equal(sub.class_names[0], "a");
    assert_null(sub.class_names[1]);
    assert_string_equal(sub.class_names[2], "c");
    int32_t bad[] = {10};
    nnx_dataset none;
    assert_int_equal(nnx_dataset_subset(&ds, bad, 1, &none, &err), -1);
    assert_non_null(strstr(err.msg, "row 10 is outside"));
    nnx_dataset_free(&none);   /* zeroed on failure: freeing is harmless */
    nnx_dataset_free(&sub);
    nnx_dataset_free(&ds);
    nnx_dataset_free(&ds);
    assert_int_equal(nnx_dataset_alloc(&ds, 0, 3, NNX_TARGET_CLASS, 2, &err), -1);
    assert_int_equal(nnx_dataset_alloc(&ds, 3, 3, NNX_TARGET_REAL, 0, &err), 0);
    assert_non_null(ds.t);
    assert_null(ds.y);
    nnx_dataset_free(&ds);
}

static void spirals_shape_and_determinism(void **state)
{
    (void)state;
    nnx_dataset a, b, c;
    nnx_rt_error err;
    assert_int_equal(nnx_make_spirals(&a, 301, 3, 0.2, 7, &err), 0);
    assert_int_equal(nnx_make_spirals(&b, 301, 3, 0.2, 7, &err), 0);
    assert_int_equal(nnx_make_spirals(&c, 301, 3, 0.2, 8, &err), 0);
    assert_int_equal(a.n, 301);
    assert_int_equal(a.d, 2);
    assert_int_equal(a.classes, 3);
    assert_memory_equal(a.x, b.x, sizeof(float) * 602);
    assert_memory_equal(a.y, b.y, sizeof(int32_t) * 301);
    assert_memory_not_equal(a.x, c.x, sizeof(float) * 602);
    int32_t counts[3];
    nnx_dataset_class_counts(&a, counts);
    assert_int_equal(counts[0], 101);
    assert_int_equal(counts[1], 100);
    assert_int_equal(counts[2], 100);
    int shuffled = 0;
    for (int32_t i = 0; i < a.n; i++) {
        double r = hypot(a.x[2 * i], a.x[2 * i + 1]);
        assert_true(r <= 1.0 + 1e-6);
        shuffled += i > 0 && a.y[i] != a.y[i - 1];
    }
    assert_true(shuffled > 100);   /* rows are not grouped by class */
    /* Without noise a point sits on its arm: angle = 2πc/3 + 4r. */
    nnx_dataset z;
    assert_int_equal(nnx_make_spirals(&z, 30, 3, 0.0, 1, &err), 0);
    for (int32_t i = 0; i < z.n; i++) {
        double x = z.x[2 * i], y = z.x[2 * i + 1], r = hypot(x, y);
        if (r < 1e-6)
            continue;
        double want = z.y[i] * 6.283185307179586 / 3 + 4 * r;
        assert_float_equal(x, r * sin(want), 1e-5);
        assert_float_equal(y, r * cos(want), 1e-5);
    }
    nnx_dataset_free(&z);
    assert_int_equal(nnx_make_spirals(&z, 2, 3, 0.1, 1, &err), -1);
    assert_non_null(strstr(err.msg, "cannot hold 3 classes"));
    assert_int_equal(nnx_make_spirals(&z, 20, 1, 0.1, 1, &err), -1);
    assert_int_equal(nnx_make_spirals(&z, 20, 2, -1, 1, &err), -1);
    assert_non_null(strstr(err.msg, "noise"));
    nnx_dataset_free(&a);
    nnx_dataset_free(&b);
    nnx_dataset_free(&c);
}

static void blobs_cluster_around_centres(void **state)
{
    (void)state;
    nnx_dataset ds;
    nnx_rt_error err;
    assert_int_equal(nnx_make_blobs(&ds, 3000, 4, 5, 0.5, 3, &err), 0);
    assert_int_equal(ds.d, 5);
    double mean[4][5] = {{0}}, sq[4][5] = {{0}};
    int32_t counts[4];
    nnx_dataset_class_counts(&ds, counts);
    for (int c = 0; c < 4; c++)
        assert_int_equal(counts[c], 750);
    for (int32_t i = 0; i < ds.n; i++)
        for (int j = 0; j < 5; j++)
            mean[ds.y[i]][j] += ds.x[i * 5 + j] / 750.0;
    for (int32_t i = 0; i < ds.n; i++)
        for (int j = 0; j < 5; j++) {
            double dv = ds.x[i * 5 + j] - mean[ds.y[i]][j];
            sq[ds.y[i]][j] += dv * dv / 750.0;
        }
    for (int c = 0; c < 4; c++)
        for (int j = 0; j < 5; j++) {
            assert_true(fabs(mean[c][j]) <= 10.5);
            assert_float_equal(sqrt(sq[c][j]), 0.5, 0.05);
        }
    nnx_dataset_free(&ds);
    assert_int_equal(nnx_make_blobs(&ds, 10, 2, 0, 1, 1, &err), -1);
    assert_non_null(strstr(err.msg, "feature"));
}

static void split_stratified_and_plain(void **state)
{
    (void)state;
    nnx_dataset ds, tr, va, tr2, va2;
    nnx_rt_error err;
    numbered(&ds, 1000, 2, 3);
    ds.y[0] = 2;   /* counts: 333, 333, 334 */
    ds.y[1] = 2;
    ds.y[2] = 1;
    int32_t counts[3], vc[3];
    nnx_dataset_class_counts(&ds, counts);
    assert_int_equal(nnx_split(&ds, 0.25, 1, 5, &tr, &va, &err), 0);
    nnx_dataset_class_counts(&va, vc);
    int total = 0;
    for (int c = 0; c < 3; c++) {
        assert_int_equal(vc[c], (int)floor(0.25 * counts[c] + 0.5));
        total += vc[c];
    }
    assert_int_equal(va.n, total);
    assert_int_equal(tr.n + va.n, 1000);
    /* Every row lands in exactly one part, in its original order. */
    int seen[1000] = {0};
    for (int32_t i = 0; i < tr.n; i++) {
        seen[(int)tr.x[2 * i] / 10]++;
        if (i)
            assert_true(tr.x[2 * i] > tr.x[2 * i - 2]);
    }
    for (int32_t i = 0; i < va.n; i++)
        seen[(int)va.x[2 * i] / 10]++;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    /* The same seed gives the same split, another seed another. */
    assert_int_equal(nnx_split(&ds, 0.25, 1, 5, &tr2, &va2, &err), 0);
    assert_memory_equal(va.x, va2.x, sizeof(float) * 2 * (size_t)va.n);
    nnx_dataset_free(&tr2);
    nnx_dataset_free(&va2);
    assert_int_equal(nnx_split(&ds, 0.25, 1, 6, &tr2, &va2, &err), 0);
    assert_memory_not_equal(va.x, va2.x, sizeof(float) * 2 * (size_t)va.n);
    nnx_dataset_free(&tr2);
    nnx_dataset_free(&va2);
    /* Plain: round(fraction * n) rows. */
    assert_int_equal(nnx_split(&ds, 0.1, 0, 5, &tr2, &va2, &err), 0);
    assert_int_equal(va2.n, 100);
    assert_int_equal(tr2.n, 900);
    nnx_dataset_free(&tr2);
    nnx_dataset_free(&va2);
    nnx_dataset_free(&tr);
    nnx_dataset_free(&va);
    /* Bad fractions and sets too small to split. */
    assert_int_equal(nnx_split(&ds, 1.0, 1, 5, &tr, &va, &err), -1);
    assert_non_null(strstr(err.msg, "between 0 and 1"));
    assert_int_equal(nnx_split(&ds, 0, 1, 5, &tr, &va, &err), -1);
    nnx_dataset_free(&ds);
    numbered(&ds, 1, 2, 1);
    assert_int_equal(nnx_split(&ds, 0.5, 1, 5, &tr, &va, &err), -1);
    assert_non_null(strstr(err.msg, "cannot be split"));
    nnx_dataset_free(&ds);
    /* A class with one row stays in train; tiny classes still show in valid. */
    numbered(&ds, 7, 1, 3);   /* labels 0,1,2,0,1,2,0: counts 3, 2, 2 */
    ds.y[5] = 0;              /* counts 4, 2, 1 */
    assert_int_equal(nnx_split(&ds, 0.5, 1, 1, &tr, &va, &err), 0);
    nnx_dataset_class_counts(&va, vc);
    assert_int_equal(vc[0], 2);
    assert_int_equal(vc[1], 1);
    assert_int_equal(vc[2], 0);
    nnx_dataset_free(&tr);
    nnx_dataset_free(&va);
    nnx_dataset_free(&ds);
}

static void normalise_fits_on_train_only(void **state)
{
    (void)state;
    nnx_dataset tr, va;
    nnx_norm nm;
    nnx_rt_error err;
    assert_int_equal(nnx_dataset_alloc(&tr, 4, 2, NNX_TARGET_CLASS, 2, NULL), 0);
    float xs[] = {1, 7, 2, 7, 3, 7, 4, 7};   /* column 1 is constant */
    memcpy(tr.x, xs, sizeof xs);
    assert_int_equal(nnx_dataset_alloc(&va, 1, 2, NNX_TARGET_CLASS, 2, NULL), 0);
    va.x[0] = 5;
    va.x[1] = 9;
    assert_int_equal(nnx_norm_fit(&nm, NNX_NORM_STANDARD, &tr, &err), 0);
    assert_int_equal(nnx_norm_apply(&nm, &tr, &err), 0);
    assert_int_equal(nnx_norm_apply(&nm, &va, &err), 0);
    double sd = sqrt(1.25);
    assert_float_equal(tr.x[0], (1 - 2.5) / sd, 1e-6);
    assert_float_equal(tr.x[6], (4 - 2.5) / sd, 1e-6);
    assert_float_equal(tr.x[1], 0, 0);    /* constant: 0, not NaN */
    assert_float_equal(va.x[0], (5 - 2.5) / sd, 1e-6);
    assert_float_equal(va.x[1], 2, 0);    /* shifted by the train value, scale 1 */
    nnx_norm_free(&nm);

    memcpy(tr.x, xs, sizeof xs);
    va.x[0] = 5;
    va.x[1] = 9;
    assert_int_equal(nnx_norm_fit(&nm, NNX_NORM_MINMAX, &tr, &err), 0);
    assert_int_equal(nnx_norm_apply(&nm, &tr, &err), 0);
    assert_int_equal(nnx_norm_apply(&nm, &va, &err), 0);
    assert_float_equal(tr.x[0], 0, 0);
    assert_float_equal(tr.x[2], 1.0 / 3, 1e-6);
    assert_float_equal(tr.x[6], 1, 1e-6);
    assert_float_equal(tr.x[3], 0, 0);
    assert_float_equal(va.x[0], 4.0 / 3, 1e-6);   /* outside [0, 1]: fitted on train */
    for (int i = 0; i < 8; i++)
        assert_false(isnan(tr.x[i]));
    nnx_dataset wide;
    assert_int_equal(nnx_dataset_alloc(&wide, 1, 3, NNX_TARGET_CLASS, 2, NULL), 0);
    assert_int_equal(nnx_norm_apply(&nm, &wide, &err), -1);
    assert_non_null(strstr(err.msg, "fitted on 2 features, applied to 3"));
    nnx_dataset_free(&wide);
    nnx_norm_free(&nm);
    nnx_dataset_free(&tr);
    nnx_dataset_free(&va);
}

/* The statistics come from one pass over the rows (a merged running mean and
 * sum of squares); far from zero that must not lose the spread as a naive
 * sum of squares minus the squared sum would. */
static void normalise_one_pass_keeps_a_small_spread(void **state)
{
    (void)state;
    nnx_dataset ds;
    nnx_norm nm;
    nnx_rt_error err;
    int n = 1000;
    assert_int_equal(nnx_dataset_alloc(&ds, n, 1, NNX_TARGET_CLASS, 2, NULL), 0);
    for (int i = 0; i < n; i++)
        ds.x[i] = 1e6f + (float)(i % 2);   /* mean 1e6 + 0.5, std 0.5 */
    assert_int_equal(nnx_norm_fit(&nm, NNX_NORM_STANDARD, &ds, &err), 0);
    assert_float_equal(nm.shift[0], 1e6 + 0.5, 1e-3);
    assert_float_equal(nm.scale[0], 2.0, 1e-9);
    nnx_norm_free(&nm);
    nnx_dataset_free(&ds);
}

/* With a C×H×W shape the statistics are per channel (over rows and positions). */
static void normalise_images_per_channel(void **state)
{
    (void)state;
    nnx_dataset ds;
    nnx_norm nm;
    nnx_rt_error err;
    assert_int_equal(nnx_dataset_alloc(&ds, 2, 4, NNX_TARGET_CLASS, 2, NULL), 0);
    assert_int_equal(nnx_dataset_set_shape(&ds, 2, 1, 2, &err), 0);
    float xs[] = {0, 2, 5, 5,    /* channel 0: 0 2 | 4 6 → mean 3, std sqrt(5) */
                  4, 6, 5, 5};   /* channel 1: constant 5 */
    memcpy(ds.x, xs, sizeof xs);
    assert_int_equal(nnx_norm_fit(&nm, NNX_NORM_STANDARD, &ds, &err), 0);
    assert_int_equal(nm.per_channel, 1);
    assert_int_equal(nnx_norm_apply(&nm, &ds, &err), 0);
    double sd = sqrt(5.0);
    float want[] = {(float)(-3 / sd), (float)(-1 / sd), 0, 0,
                    (float)(1 / sd), (float)(3 / sd), 0, 0};
    for (int i = 0; i < 8; i++)
        assert_float_equal(ds.x[i], want[i], 1e-6);
    nnx_norm_free(&nm);
    memcpy(ds.x, xs, sizeof xs);
    assert_int_equal(nnx_norm_fit(&nm, NNX_NORM_MINMAX, &ds, &err), 0);
    assert_int_equal(nnx_norm_apply(&nm, &ds, &err), 0);
    float want_mm[] = {0, 1.0f / 3, 0, 0, 2.0f / 3, 1, 0, 0};
    for (int i = 0; i < 8; i++)
        assert_float_equal(ds.x[i], want_mm[i], 1e-6);
    nnx_norm_free(&nm);
    nnx_dataset_free(&ds);
}

static void epoch_order_and_gather(void **state)
{
    (void)state;
    enum { N = 257 };
    int32_t a[N], b[N], c[N];
    nnx_epoch_order(a, N, 9, 0);
    nnx_epoch_order(b, N, 9, 0);
    nnx_epoch_order(c, N, 9, 1);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    int seen[N] = {0};
    for (int i = 0; i < N; i++)
        seen[a[i]]++;
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    nnx_epoch_order(c, N, 10, 0);
    assert_memory_not_equal(a, c, sizeof a);

    nnx_dataset ds;
    numbered(&ds, 6, 3, 4);
    int32_t rows[] = {5, 0, 3};
    float x[9];
    int32_t y[3];
    nnx_gather(&ds, rows, 3, x, y, NULL);
    float want[] = {50, 51, 52, 0, 1, 2, 30, 31, 32};
    assert_memory_equal(x, want, sizeof want);
    assert_int_equal(y[0], 1);
    assert_int_equal(y[1], 0);
    assert_int_equal(y[2], 3);
    nnx_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alloc_shape_subset),
        cmocka_unit_test(spirals_shape_and_determinism),
        cmocka_unit_test(blobs_cluster_around_centres),
        cmocka_unit_test(split_stratified_and_plain),
        cmocka_unit_test(normalise_fits_on_train_only),
        cmocka_unit_test(normalise_images_per_channel),
        cmocka_unit_test(normalise_one_pass_keeps_a_small_spread),
        cmocka_unit_test(epoch_order_and_gather),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
