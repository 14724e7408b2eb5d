/* test_metrics.c — known values for accuracy, AUC (with ties), macro P/R/F1, MSE, MAE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nnx/rt/metrics.h"

static void accuracy_binary_and_argmax(void **state)
{
    (void)state;
    double a;
    nnx_rt_error err;
    int32_t yb[] = {1, 0, 1, 0, 1};
    float pb[] = {0.9f, 0.6f, 0.4f, 0.1f, 0.5f};   /* 0.5 counts as class 1 */
    assert_int_equal(nnx_accuracy(yb, pb, 5, 1, &a, &err), 0);
    assert_float_equal(a, 3.0 / 5, 1e-12);
    int32_t y[] = {0, 1, 2, 0};
    float p[] = {0.5f, 0.5f, 0.0f,   /* tie: the lowest index wins */
                 0.1f, 0.7f, 0.2f,
                 0.3f, 0.4f, 0.3f,
                 0.2f, 0.2f, 0.6f};
    assert_int_equal(nnx_accuracy(y, p, 4, 3, &a, &err), 0);
    assert_float_equal(a, 0.5, 1e-12);
    int32_t bad[] = {0, 3};
    assert_int_equal(nnx_accuracy(bad, p, 2, 3, &a, &err), -1);
    assert_string_equal(err.msg, "accuracy: label 3 of row 1 is outside 0..2");
    assert_true(isnan(a));
    int32_t bad_b[] = {2};
    assert_int_equal(nnx_accuracy(bad_b, pb, 1, 1, &a, &err), -1);
    assert_int_equal(nnx_accuracy(y, p, 0, 3, &a, &err), -1);
}

/* Hand count: positives 0.35, 0.8, 0.4 against negatives 0.1, 0.4, 0.4:
 * 0.35 beats 1; 0.8 beats 3; 0.4 beats 1 and ties 2 (½ each) = 2; 6 of 9. */
static void auc_binary_with_ties(void **state)
{
    (void)state;
    double a;
    nnx_rt_error err;
    int32_t y[] = {0, 0, 1, 1, 0, 1};
    float s[] = {0.1f, 0.4f, 0.35f, 0.8f, 0.4f, 0.4f};
    assert_int_equal(nnx_auc(y, s, 6, 1, &a, NULL, &err), 0);
    assert_float_equal(a, 6.0 / 9.0, 1e-12);
    /* Two columns: column 1 is the positive score. */
    float s2[12];
    for (int i = 0; i < 6; i++) {
        s2[2 * i] = 1 - s[i];
        s2[2 * i + 1] = s[i];
    }
    assert_int_equal(nnx_auc(y, s2, 6, 2, &a, NULL, &err), 0);
    assert_float_equal(a, 6.0 / 9.0, 1e-12);
    /* Perfect, reversed, constant. */
    float up[] = {0, 0, 1, 1, 0, 1}, down[] = {1, 1, 0, 0, 1, 0}, flat[] = {3, 3, 3, 3, 3, 3};
    assert_int_equal(nnx_auc(y, up, 6, 1, &a, NULL, &err), 0);
    assert_float_equal(a, 1.0, 0);
    assert_int_equal(nnx_auc(y, down, 6, 1, &a, NULL, &err), 0);
    assert_float_equal(a, 0.0, 0);
    assert_int_equal(nnx_auc(y, flat, 6, 1, &a, NULL, &err), 0);
    assert_float_equal(a, 0.5, 0);
    /* Undefined with one class; NaN scores are errors. */
    int32_t ones[] = {1, 1, 1};
    assert_int_equal(nnx_auc(ones, s, 3, 1, &a, NULL, &err), -1);
    assert_true(isnan(a));
    assert_non_null(strstr(err.msg, "undefined when every label is positive"));
    float withnan[] = {0.1f, NAN, 0.3f, 0.2f, 0.1f, 0.1f};
    assert_int_equal(nnx_auc(y, withnan, 6, 1, &a, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "row 1 is NaN"));
    /* The building block on its own. */
    uint8_t pos[] = {0, 0, 1, 1, 0, 1};
    assert_int_equal(nnx_auc_binary(pos, s, 1, 6, &a, &err), 0);
    assert_float_equal(a, 6.0 / 9.0, 1e-12);
}

/* Hand count per class (rows: y, scores):
 *   class 0: positives 0.7, 0.4 vs 0.3 0.2 0.4 0.5 → 4 + 2.5 = 6.5 / 8
 *   class 1: positives 0.4, 0.3 vs 0.2 0.2 0.3 0.4 → 3.5 + 2.5 = 6 / 8
 *   class 2: positives 0.6, 0.3 vs 0.1 0.3 0.2 0.2 → 4 + 3.5 = 7.5 / 8
 * macro = (0.8125 + 0.75 + 0.9375) / 3 = 0.8333... */
static void auc_macro_one_vs_rest(void **state)
{
    (void)state;
    double a;
    int32_t skipped = -1;
    nnx_rt_error err;
    int32_t y[] = {0, 1, 2, 2, 1, 0};
    float p[] = {0.7f, 0.2f, 0.1f,
                 0.3f, 0.4f, 0.3f,
                 0.2f, 0.2f, 0.6f,
                 0.4f, 0.3f, 0.3f,
                 0.5f, 0.3f, 0.2f,
                 0.4f, 0.4f, 0.2f};
    assert_int_equal(nnx_auc(y, p, 6, 3, &a, &skipped, &err), 0);
    assert_float_equal(a, 2.5 / 3.0, 1e-12);
    assert_int_equal(skipped, 0);
    /* A fourth class that never occurs: left out of the mean and counted. */
    float p4[24];
    for (int i = 0; i < 6; i++) {
        memcpy(p4 + 4 * i, p + 3 * i, 3 * sizeof(float));
        p4[4 * i + 3] = 0.01f * (float)i;
    }
    assert_int_equal(nnx_auc(y, p4, 6, 4, &a, &skipped, &err), 0);
    assert_float_equal(a, 2.5 / 3.0, 1e-12);
    assert_int_equal(skipped, 1);
    /* Only one class present: every class skipped, undefined. */
    int32_t same[] = {2, 2, 2};
    assert_int_equal(nnx_auc(same, p, 3, 3, &a, &skipped, &err), -1);
    assert_int_equal(skipped, 3);
    assert_true(isnan(a));
    assert_non_null(strstr(err.msg, "only one class"));
}

/* The AUC by counting every (positive, negative) pair: 1 when the positive
 * scores higher, ½ on a tie. */
static double auc_by_pairs(const int32_t *y, const float *s, size_t stride, int n, int32_t pos)
{
    double wins = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (y[i] == pos && y[j] != pos) {
                float a = s[(size_t)i * stride], b = s[(size_t)j * stride];
                wins += a > b ? 1.0 : a == b ? 0.5 : 0.0;
                pairs += 1;
            }
    return wins / pairs;
}

/* Many ties (scores on a coarse grid), random labels: ranks agree with pairs. */
static void auc_matches_pair_counting(void **state)
{
    (void)state;
    enum { N = 300, K = 4 };
    static int32_t y[N];
    static float p[N * K];
    uint64_t x = 12345;
    for (int trial = 0; trial < 5; trial++) {
        for (int i = 0; i < N; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            y[i] = (int32_t)(x >> 40) % K;
            for (int c = 0; c < K; c++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                /* 8 levels, nudged towards the true class so AUC is not 0.5 */
                p[i * K + c] = (float)((x >> 40) % 8) + (y[i] == c ? 2.0f : 0.0f);
            }
        }
        double a, want = 0;
        nnx_rt_error err;
        assert_int_equal(nnx_auc(y, p, N, K, &a, NULL, &err), 0);
        for (int c = 0; c < K; c++)
            want += auc_by_pairs(y, p + c, K, N, c) / K;
        assert_float_equal(a, want, 1e-12);
        assert_true(a > 0.6);
        /* binary: labels y % 2 against column 0 */
        int32_t yb[N];
        for (int i = 0; i < N; i++)
            yb[i] = y[i] % 2;
        float s1[N];
        for (int i = 0; i < N; i++)
            s1[i] = p[i * K];
        assert_int_equal(nnx_auc(yb, s1, N, 1, &a, NULL, &err), 0);
        assert_float_equal(a, auc_by_pairs(yb, s1, 1, N, 1), 1e-12);
    }
}

static void one_hot(float *p, const int32_t *pred, int n, int k)
{
    memset(p, 0, sizeof(float) * (size_t)(n * k));
    for (int i = 0; i < n; i++)
        p[i * k + pred[i]] = 1.0f;
}

/* y 0 0 1 1 2 2, predicted 0 1 1 1 0 0:
 *   class 0: TP 1 FP 2 FN 1 → P 1/3, R 1/2, F1 0.4
 *   class 1: TP 2 FP 1 FN 0 → P 2/3, R 1,   F1 0.8
 *   class 2: TP 0 FP 0 FN 2 → P 0 (never predicted: zero_division=0), R 0, F1 0
 * macro: P 1/3, R 1/2, F1 0.4 (sklearn average='macro', zero_division=0). */
static void macro_precision_recall_f1(void **state)
{
    (void)state;
    nnx_prf m;
    nnx_rt_error err;
    int32_t y[] = {0, 0, 1, 1, 2, 2};
    int32_t pred[] = {0, 1, 1, 1, 0, 0};
    float p[6 * 4];
    one_hot(p, pred, 6, 3);
    assert_int_equal(nnx_macro_prf(y, p, 6, 3, &m, &err), 0);
    assert_float_equal(m.precision, 1.0 / 3, 1e-12);
    assert_float_equal(m.recall, 0.5, 1e-12);
    assert_float_equal(m.f1, 0.4, 1e-12);
    /* A class in neither labels nor predictions does not count. */
    one_hot(p, pred, 6, 4);
    assert_int_equal(nnx_macro_prf(y, p, 6, 4, &m, &err), 0);
    assert_float_equal(m.precision, 1.0 / 3, 1e-12);
    assert_float_equal(m.f1, 0.4, 1e-12);
    /* Binary with one output, averaged over both classes: y 1 0 1 0, predicted 1 1 0 0. */
    int32_t yb[] = {1, 0, 1, 0, 1};
    float pb[] = {0.9f, 0.6f, 0.4f, 0.1f, 0.95f};
    /* class 1: TP 2 FP 1 FN 1 → P 2/3 R 2/3; class 0: TP 1 FP 1 FN 1 → P 1/2 R 1/2 */
    assert_int_equal(nnx_macro_prf(yb, pb, 5, 1, &m, &err), 0);
    assert_float_equal(m.precision, (2.0 / 3 + 0.5) / 2, 1e-12);
    assert_float_equal(m.recall, (2.0 / 3 + 0.5) / 2, 1e-12);
    assert_float_equal(m.f1, (2.0 / 3 + 0.5) / 2, 1e-12);
    int32_t bad[] = {-1};
    assert_int_equal(nnx_macro_prf(bad, pb, 1, 1, &m, &err), -1);
    assert_true(isnan(m.f1));
}

static void regression_errors(void **state)
{
    (void)state;
    float pred[] = {1, 2, 3}, t[] = {1.5f, 2, 1};
    assert_float_equal(nnx_mse(pred, t, 3), (0.25 + 0 + 4) / 3, 1e-12);
    assert_float_equal(nnx_mae(pred, t, 3), 2.5 / 3, 1e-12);
    assert_true(isnan(nnx_mse(pred, t, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accuracy_binary_and_argmax),
        cmocka_unit_test(auc_binary_with_ties),
        cmocka_unit_test(auc_macro_one_vs_rest),
        cmocka_unit_test(auc_matches_pair_counting),
        cmocka_unit_test(macro_precision_recall_f1),
        cmocka_unit_test(regression_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
