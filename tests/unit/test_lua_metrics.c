/* test_lua_metrics.c — stdlib/lua/nnx/metrics.lua through the Lua host:
 * hand-computed values on a small problem, and a C reference on a random one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/lua_host.h"
#include "nnx/rt/rng.h"

static char tmpdir[64];
static char hooks_path[128];
static char stdlib_dir[512];

static const char HOOKS[] =
    "local m = require 'nnx.metrics'\n"
    "function accuracy(y, p) return m.accuracy(y, p) end\n"
    "function top1(y, p) return m.top_k_accuracy(y, p, 1) end\n"
    "function top2(y, p) return m.top_k_accuracy(y, p, 2) end\n"
    "function balanced(y, p) return m.balanced_accuracy(y, p) end\n"
    "function macro_f1(y, p) return m.macro_f1(y, p) end\n"
    "function brier(y, p) return m.brier(y, p) end\n"
    /* the confusion matrix, flattened as a number: sum of C[t][q] * 10^(k*(t-1)+q-1) */
    "function confusion_code(y, p)\n"
    "  local c, k, code = m.confusion(y, p), p.classes, 0\n"
    "  for t = 1, k do for q = 1, k do\n"
    "    code = code + c[t][q] * 10 ^ (k * (t - 1) + q - 1)\n"
    "  end end\n"
    "  return code\n"
    "end\n"
    "function recall_code(y, p)\n"          /* recall * 100 per class, support */
    "  local r, s = m.recall(y, p)\n"
    "  return r[1] * 1e6 + r[2] * 1e4 + r[3] * 1e2 + s[1] * 100 + s[2] * 10 + s[3]\n"
    "end\n"
    /* plain tables give the same answer as views */
    "function plain_f1(y, p)\n"
    "  local ty, tp = {}, {}\n"
    "  for i = 1, #y do ty[i] = y[i]; tp[i] = p:row(i) end\n"
    "  return m.macro_f1(ty, tp) + 10 * m.brier(ty, tp) + 100 * m.top_k_accuracy(ty, tp, 2)\n"
    "end\n"
    "function views_f1(y, p)\n"
    "  return m.macro_f1(y, p) + 10 * m.brier(y, p) + 100 * m.top_k_accuracy(y, p, 2)\n"
    "end\n"
    "function bad_k(y, p) return m.top_k_accuracy(y, p, 0) end\n";

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnx-luam-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(hooks_path, sizeof hooks_path, "%s/metrics_hooks.lua", tmpdir);
    FILE *f = fopen(hooks_path, "w");
    if (!f)
        return -1;
    fputs(HOOKS, f);
    fclose(f);
    const char *root = getenv("NNX_ROOT");
    snprintf(stdlib_dir, sizeof stdlib_dir, "%s/stdlib/lua", root ? root : ".");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(hooks_path);
    rmdir(tmpdir);
    return 0;
}

static nnx_lua_host *open_hooks(void)
{
    nnx_lua_error err = { "" };
    nnx_lua_host *h = nnx_lua_open(hooks_path, stdlib_dir, NULL, &err);
    if (!h)
        fail_msg("open: %s", err.msg);
    return h;
}

static double metric(nnx_lua_host *h, const char *name, const int32_t *y,
                     const float *p, size_t n, size_t k)
{
    nnx_lua_error err = { "" };
    double v = NAN;
    if (nnx_lua_metric(h, name, y, p, n, k, &v, &err) != 0)
        fail_msg("%s: %s", name, err.msg);
    return v;
}

/* Labels 0 2 1 2 (Lua 1 3 2 3); argmax 0 2 2 2 (Lua 1 3 3 3). */
static const int32_t Y4[4] = { 0, 2, 1, 2 };
static const float P4[12] = {
    0.7f, 0.2f, 0.1f,
    0.1f, 0.1f, 0.8f,
    0.2f, 0.3f, 0.5f,
    0.3f, 0.3f, 0.4f,
};

static void known_values(void **state)
{
    (void)state;
    nnx_lua_host *h = open_hooks();
    assert_float_equal(metric(h, "accuracy", Y4, P4, 4, 3), 0.75, 1e-12);
    assert_float_equal(metric(h, "top1", Y4, P4, 4, 3), 0.75, 1e-12);
    assert_float_equal(metric(h, "top2", Y4, P4, 4, 3), 1.0, 1e-12);
    /* recall 1, 0, 1 over classes all present */
    assert_float_equal(metric(h, "balanced", Y4, P4, 4, 3), 2.0 / 3, 1e-12);
    /* F1: class 1 = 1, class 2 = 0 (TP 0, FN 1), class 3 = 4/5 (TP 2, FP 1) */
    assert_float_equal(metric(h, "macro_f1", Y4, P4, 4, 3), 0.6, 1e-12);
    /* rows: .14 + .06 + .78 + .54 = 1.52, over 4 */
    assert_float_equal(metric(h, "brier", Y4, P4, 4, 3), 0.38, 1e-6);
    /* C[1][1] = 1, C[2][3] = 1, C[3][3] = 2 */
    assert_float_equal(metric(h, "confusion_code", Y4, P4, 4, 3),
                       1 + 1e5 + 2e8, 0);
    /* recall 1, 0, 1 and support 1, 1, 2 */
    assert_float_equal(metric(h, "recall_code", Y4, P4, 4, 3),
                       1e6 + 0 + 1e2 + 100 + 10 + 2, 1e-6);
    nnx_lua_error err;
    double v;
    assert_int_equal(nnx_lua_metric(h, "bad_k", Y4, P4, 4, 3, &v, &err), -1);
    assert_non_null(strstr(err.msg, "k must be an integer >= 1"));
    assert_non_null(strstr(err.msg, "nnx/metrics.lua:"));
    nnx_lua_close(h);
}

static void binary_values(void **state)
{
    (void)state;
    nnx_lua_host *h = open_hooks();
    const int32_t y[4] = { 1, 0, 1, 0 };
    const float p[4] = { 0.9f, 0.4f, 0.2f, 0.6f };   /* predicted 1 0 0 1 */
    assert_float_equal(metric(h, "accuracy", y, p, 4, 1), 0.5, 1e-12);
    /* class 0: TP 1 FP 1 FN 1 -> 0.5; class 1: the same -> 0.5 */
    assert_float_equal(metric(h, "macro_f1", y, p, 4, 1), 0.5, 1e-12);
    /* two columns: 2 * mean((p - y)^2) = 2 * (.01 + .16 + .64 + .36) / 4 */
    assert_float_equal(metric(h, "brier", y, p, 4, 1), 2 * 1.17 / 4, 1e-6);
    nnx_lua_close(h);
}

/* --- a C reference on random data ---------------------------------------------- */

enum { N = 300, K = 5 };

static void random_problem(int32_t *y, float *p, int seed)
{
    nnx_rng r;
    nnx_rng_seed(&r, (uint64_t)seed, NNX_STREAM_USER);
    for (int i = 0; i < N; i++) {
        /* Labels skewed over 0..K-3.  Class K-2 is never a label but is
         * sometimes predicted; class K-1 is never either (probability 0):
         * the averaging rules are about these two. */
        y[i] = (int32_t)(nnx_rng_uniform(&r) * nnx_rng_uniform(&r) * (K - 2));
        double sum = 0;
        for (int c = 0; c < K; c++) {
            double v = c == K - 1 ? 0 : nnx_rng_uniform(&r) + (c == y[i] ? 0.6 : 0);
            p[i * K + c] = (float)v;
            sum += v;
        }
        for (int c = 0; c < K; c++)
            p[i * K + c] = (float)(p[i * K + c] / sum);
    }
}

static int argmax_row(const float *row)
{
    int best = 0;
    for (int c = 1; c < K; c++)
        if (row[c] > row[best])
            best = c;
    return best;
}

static void against_a_c_reference(void **state)
{
    (void)state;
    static int32_t y[N];
    static float p[N * K];
    random_problem(y, p, 11);
    long tp[K] = { 0 }, fp[K] = { 0 }, fn[K] = { 0 }, support[K] = { 0 };
    long top2 = 0;
    double brier = 0;
    for (int i = 0; i < N; i++) {
        const float *row = p + i * K;
        int q = argmax_row(row), t = y[i];
        support[t]++;
        if (q == t)
            tp[t]++;
        else {
            fp[q]++;
            fn[t]++;
        }
        int above = 0;
        for (int c = 0; c < K; c++) {
            above += row[c] > row[t];
            double d = (double)row[c] - (c == t);
            brier += d * d;
        }
        top2 += above < 2;
    }
    double f1_sum = 0, rec_sum = 0;
    int f1_n = 0, rec_n = 0;
    for (int c = 0; c < K; c++) {
        if (tp[c] + fp[c] + fn[c] > 0) {
            f1_sum += 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]);
            f1_n++;
        }
        if (support[c] > 0) {
            rec_sum += (double)tp[c] / support[c];
            rec_n++;
        }
    }
    /* the cases the averaging rules are for */
    assert_int_equal(support[K - 2], 0);
    assert_true(fp[K - 2] > 0);
    assert_int_equal(support[K - 1] + fp[K - 1], 0);
    nnx_lua_host *h = open_hooks();
    assert_float_equal(metric(h, "macro_f1", y, p, N, K), f1_sum / f1_n, 1e-12);
    assert_float_equal(metric(h, "balanced", y, p, N, K), rec_sum / rec_n, 1e-12);
    assert_float_equal(metric(h, "brier", y, p, N, K), brier / N, 1e-9);
    assert_float_equal(metric(h, "top2", y, p, N, K), (double)top2 / N, 1e-12);
    assert_float_equal(metric(h, "plain_f1", y, p, N, K),
                       metric(h, "views_f1", y, p, N, K), 1e-12);
    nnx_lua_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_values),
        cmocka_unit_test(binary_values),
        cmocka_unit_test(against_a_c_reference),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
