/* test_loss.c — the losses against hand-computed values, their stability on
 * extreme logits, the probabilities, and their errors on bad labels.
 * (Their gradients are checked against finite differences in test_gradcheck.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nnx/rt/loss.h"
#include "rt/team.h"

static void cross_entropy_known_values(void **state)
{
    (void)state;
    const float z[] = {0, 0, 0,   1, 2, 3};
    const int32_t y[] = {1, 2};
    float l, d[6];
    assert_int_equal(nnx_loss_cross_entropy(z, y, 2, 3, 0, &l, d, NULL), 0);
    double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
    double want = (log(3.0) + (lse - 3)) / 2;
    assert_float_equal(l, want, 1e-6);
    assert_float_equal(d[0], (1.0 / 3) / 2, 1e-7);
    assert_float_equal(d[1], (1.0 / 3 - 1) / 2, 1e-7);
    assert_float_equal(d[5], (exp(3 - lse) - 1) / 2, 1e-7);
    /* smoothing 0.3 over 3 classes: targets 0.1, 0.8, 0.1 in row 0 */
    assert_int_equal(nnx_loss_cross_entropy(z, y, 1, 3, 0.3f, &l, d, NULL), 0);
    assert_float_equal(l, log(3.0), 1e-6);
    assert_float_equal(d[0], 1.0 / 3 - 0.1, 1e-6);
    assert_float_equal(d[1], 1.0 / 3 - 0.8, 1e-6);
}

static void cross_entropy_is_stable(void **state)
{
    (void)state;
    const float z[] = {1000, -1000, 0,   -500, -500, -500};
    const int32_t y[] = {1, 0};
    float l, d[6];
    assert_int_equal(nnx_loss_cross_entropy(z, y, 2, 3, 0, &l, d, NULL), 0);
    assert_true(isfinite(l));
    assert_float_equal(l, (2000 + log(3.0)) / 2, 1e-3);
    for (int i = 0; i < 6; i++)
        assert_true(isfinite(d[i]));
    float p[6];
    nnx_loss_probs(NNX_LOSS_CROSS_ENTROPY, z, 2, 3, p);
    assert_float_equal(p[0], 1, 1e-7);
    assert_float_equal(p[1], 0, 1e-7);
    assert_float_equal(p[3] + p[4] + p[5], 1, 1e-6);
    assert_float_equal(p[4], 1.0 / 3, 1e-6);
}

static void binary_cross_entropy_known_values(void **state)
{
    (void)state;
    const float z[] = {0, 2, -3, 800, -800};
    const int32_t y[] = {1, 0, 0, 1, 1};
    float l, d[5];
    assert_int_equal(nnx_loss_binary_cross_entropy(z, y, 5, &l, d, NULL), 0);
    double want = (log(2.0) + (2 + log1p(exp(-2.0))) + log1p(exp(-3.0)) + 0 + 800) / 5;
    assert_float_equal(l, want, 1e-4);
    assert_float_equal(d[0], (0.5 - 1) / 5, 1e-7);
    assert_float_equal(d[1], (1 / (1 + exp(-2.0))) / 5, 1e-7);
    assert_float_equal(d[4], -1.0 / 5, 1e-7);
    float p[5];
    nnx_loss_probs(NNX_LOSS_BINARY_CROSS_ENTROPY, z, 5, 1, p);
    assert_float_equal(p[0], 0.5, 1e-7);
    assert_float_equal(p[2], 1 / (1 + exp(3.0)), 1e-7);
    assert_float_equal(p[3], 1, 0);
    assert_float_equal(p[4], 0, 1e-30);
}

static void mse_known_values(void **state)
{
    (void)state;
    const float o[] = {1, 2, 3, 4}, t[] = {0, 2, 5, 3};
    float l, d[4];
    assert_int_equal(nnx_loss_mse(o, t, 2, 2, &l, d, NULL), 0);
    assert_float_equal(l, (1 + 0 + 4 + 1) / 4.0, 1e-7);
    assert_float_equal(d[0], 2 * 1 / 4.0, 1e-7);
    assert_float_equal(d[2], 2 * -2 / 4.0, 1e-7);
    float p[4];
    nnx_loss_probs(NNX_LOSS_MSE, o, 2, 2, p);
    assert_memory_equal(p, o, sizeof p);
    /* the dispatcher agrees and loss without gradient is allowed */
    float l2;
    assert_int_equal(nnx_loss_compute(NNX_LOSS_MSE, o, NULL, t, 2, 2, 0, &l2, NULL, NULL), 0);
    assert_float_equal(l, l2, 0);
}

/* The spread of per-row losses: each row's loss alone, then their sample std,
 * and the batch mean it belongs to is what nnx_loss_compute returns. */
static void row_sd_known_values(void **state)
{
    (void)state;
    /* cross entropy, 3 rows of 2 logits: row losses log(1+e^-z) for margins z */
    const float ce[6] = { 2, 0, 0, 0, 0, 1 };
    const int32_t y[3] = { 0, 1, 0 };
    double l[3] = { log1p(exp(-2.0)), log(2.0), log1p(exp(1.0)) };
    double m = (l[0] + l[1] + l[2]) / 3, v = 0;
    for (int i = 0; i < 3; i++)
        v += (l[i] - m) * (l[i] - m);
    assert_float_equal(nnx_loss_row_sd(NNX_LOSS_CROSS_ENTROPY, ce, y, NULL, 3, 2, 0), sqrt(v / 2), 1e-6);
    float mean;
    assert_int_equal(nnx_loss_compute(NNX_LOSS_CROSS_ENTROPY, ce, y, NULL, 3, 2, 0, &mean, NULL, NULL), 0);
    assert_float_equal(mean, m, 1e-6);
    /* mse, 2 rows of 2 outputs: row losses 1 and 5 (means of squares) */
    const float out[4] = { 1, 1, 3, 1 }, t[4] = { 0, 2, 0, 0 };
    assert_float_equal(nnx_loss_row_sd(NNX_LOSS_MSE, out, NULL, t, 2, 2, 0), sqrt(8.0), 1e-6);
    /* binary CE: identical rows spread nothing; one row has no spread to measure */
    const float z[2] = { 0.3f, 0.3f };
    const int32_t yb[2] = { 1, 1 };
    assert_float_equal(nnx_loss_row_sd(NNX_LOSS_BINARY_CROSS_ENTROPY, z, yb, NULL, 2, 1, 0), 0, 1e-12);
    assert_true(isnan(nnx_loss_row_sd(NNX_LOSS_BINARY_CROSS_ENTROPY, z, yb, NULL, 1, 1, 0)));
}

/* nnx_loss_compute_sd gives what nnx_loss_compute and nnx_loss_row_sd give,
 * to the bit: the mean, the gradient and the spread, for each loss. */
static void compute_sd_is_compute_and_row_sd(void **state)
{
    (void)state;
    enum { N = 7, K = 3 };
    float out[N * K], t[N * K];
    int32_t y[N], y01[N];
    for (int i = 0; i < N * K; i++) {
        out[i] = (float)((i * 37) % 11) * 0.4f - 2.0f;
        t[i] = (float)((i * 5) % 7) * 0.3f;
    }
    for (int r = 0; r < N; r++) {
        y[r] = (r * 2) % K;
        y01[r] = r % 2;
    }
    const struct { enum nnx_loss_kind kind; int k; const int32_t *y; float smooth; } cases[] = {
        {NNX_LOSS_CROSS_ENTROPY, K, y, 0}, {NNX_LOSS_CROSS_ENTROPY, K, y, 0.1f},
        {NNX_LOSS_BINARY_CROSS_ENTROPY, 1, y01, 0}, {NNX_LOSS_MSE, K, NULL, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float l1, l2, d1[N * K], d2[N * K];
        double sd;
        const float *tg = cases[c].y ? NULL : t;
        assert_int_equal(nnx_loss_compute(cases[c].kind, out, cases[c].y, tg, N, cases[c].k,
                                          cases[c].smooth, &l1, d1, NULL), 0);
        assert_int_equal(nnx_loss_compute_sd(cases[c].kind, out, cases[c].y, tg, N,
                                             cases[c].k, cases[c].smooth, &l2, d2, &sd, NULL),
                         0);
        assert_memory_equal(&l1, &l2, sizeof l1);
        assert_memory_equal(d1, d2, sizeof(float) * N * cases[c].k);
        double want = nnx_loss_row_sd(cases[c].kind, out, cases[c].y, tg, N, cases[c].k,
                                      cases[c].smooth);
        assert_memory_equal(&sd, &want, sizeof sd);
        assert_true(sd > 0);
    }
}

/* nnx_loss_compute_sd_on shares the rows with a team and gives the same
 * bits: 100 rows of 10 logits (units of 32 rows, the last one short), with
 * and without label smoothing, on 1 to 3 threads; a bad label is still an
 * error with nothing computed. */
static void compute_sd_on_a_team(void **state)
{
    (void)state;
    enum { N = 100, K = 10 };
    static float out[N * K], d1[N * K], d2[N * K];
    int32_t y[N];
    double rows[N];
    for (int i = 0; i < N * K; i++)
        out[i] = (float)((i * 53) % 17) * 0.37f - 3.0f;
    for (int r = 0; r < N; r++)
        y[r] = (r * 7) % K;
    for (int threads = 1; threads <= 3; threads++) {
        nnx_rt_error err;
        nnx_team *team = nnx_team_new(threads, &err);
        assert_non_null(team);
        for (int s = 0; s < 2; s++) {
            float smooth = s ? 0.1f : 0, l1, l2;
            double sd1, sd2;
            assert_int_equal(nnx_loss_compute_sd(NNX_LOSS_CROSS_ENTROPY, out, y, NULL, N, K,
                                                 smooth, &l1, d1, &sd1, NULL), 0);
            memset(d2, 0, sizeof d2);
            assert_int_equal(nnx_loss_compute_sd_on(NNX_LOSS_CROSS_ENTROPY, out, y, NULL, N, K,
                                                    smooth, &l2, d2, &sd2, rows, team, NULL),
                             0);
            assert_memory_equal(&l1, &l2, sizeof l1);
            assert_memory_equal(&sd1, &sd2, sizeof sd1);
            assert_memory_equal(d1, d2, sizeof d1);
        }
        y[N - 1] = K;
        float l;
        assert_int_equal(nnx_loss_compute_sd_on(NNX_LOSS_CROSS_ENTROPY, out, y, NULL, N, K, 0,
                                                &l, d2, &(double){0}, rows, team, &err), -1);
        assert_non_null(strstr(err.msg, "row 99 has label 10"));
        y[N - 1] = (N - 1) * 7 % K;
        nnx_team_free(team);
    }
}

static void bad_labels_are_errors(void **state)
{
    (void)state;
    const float z[] = {0, 1, 2, 3};
    const int32_t y[] = {0, 2}, y01[] = {0, 1, 2, 1};
    float l = 123, d[4] = {7, 7, 7, 7};
    nnx_rt_error err;
    assert_int_equal(nnx_loss_cross_entropy(z, y, 2, 2, 0, &l, d, &err), -1);
    assert_non_null(strstr(err.msg, "row 1 has label 2"));
    assert_float_equal(l, 123, 0);   /* nothing written */
    assert_float_equal(d[0], 7, 0);
    assert_int_equal(nnx_loss_binary_cross_entropy(z, y01, 4, &l, d, &err), -1);
    assert_non_null(strstr(err.msg, "row 2 has label 2, not 0 or 1"));
    assert_int_equal(nnx_loss_cross_entropy(z, y, 2, 2, 1.0f, &l, d, &err), -1);
    assert_non_null(strstr(err.msg, "smoothing"));
    assert_int_equal(nnx_loss_cross_entropy(z, y, 0, 2, 0, &l, d, &err), -1);
    assert_int_equal(nnx_loss_cross_entropy(z, y, 4, 1, 0, &l, d, &err), -1);
    assert_non_null(strstr(err.msg, "at least 2 outputs"));
    assert_int_equal(nnx_loss_compute(NNX_LOSS_BINARY_CROSS_ENTROPY, z, y, NULL, 2, 2, 0,
                                      &l, d, &err), -1);
    assert_non_null(strstr(err.msg, "needs 1 output"));
    assert_int_equal(nnx_loss_compute(NNX_LOSS_MSE, z, y, NULL, 2, 2, 0, &l, d, &err), -1);
    assert_non_null(strstr(err.msg, "float targets"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cross_entropy_known_values),
        cmocka_unit_test(cross_entropy_is_stable),
        cmocka_unit_test(binary_cross_entropy_known_values),
        cmocka_unit_test(mse_known_values),
        cmocka_unit_test(row_sd_known_values),
        cmocka_unit_test(compute_sd_is_compute_and_row_sd),
        cmocka_unit_test(compute_sd_on_a_team),
        cmocka_unit_test(bad_labels_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
