/* lua_metric.c — time Lua metrics over 6,000 x 10 probabilities through the
 * host's views (the budget: under 10 ms per call).
 *
 *   make build/rel/bench/lua_metric && build/rel/bench/lua_metric [STDLIB_DIR]
 *
 * STDLIB_DIR defaults to $NNX_ROOT/stdlib/lua, then ./stdlib/lua.  Prints
 * one line per metric: the median CPU time of a call (the thread's own time,
 * so other processes on a busy machine do not count), and the median and
 * fastest wall time; exits 1 when a median CPU time reaches 10 ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nnx/lua_host.h"
#include "nnx/rt/rng.h"

enum { ROWS = 6000, CLASSES = 10, RUNS = 21 };

static const char HOOKS[] =
    "local m = require 'nnx.metrics'\n"
    "function macro_f1(y, p) return m.macro_f1(y, p) end\n"
    "function stdlib_accuracy(y, p) return m.accuracy(y, p) end\n"
    "function top5(y, p) return m.top_k_accuracy(y, p, 5) end\n"
    "function brier(y, p) return m.brier(y, p) end\n"
    "function indexed_accuracy(y, p)\n"      /* p[i][k] everywhere, no helpers */
    "  local right = 0\n"
    "  for i = 1, #y do\n"
    "    local row = p[i]\n"
    "    local best, bk = row[1], 1\n"
    "    for k = 2, p.classes do\n"
    "      local v = row[k]\n"
    "      if v > best then best, bk = v, k end\n"
    "    end\n"
    "    if bk == y[i] then right = right + 1 end\n"
    "  end\n"
    "  return right / #y\n"
    "end\n";

static double now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    char stdlib_dir[512];
    const char *root = getenv("NNX_ROOT");
    if (argc > 1)
        snprintf(stdlib_dir, sizeof stdlib_dir, "%s", argv[1]);
    else
        snprintf(stdlib_dir, sizeof stdlib_dir, "%s/stdlib/lua", root ? root : ".");

    char dir[] = "/tmp/nnx-bench-XXXXXX";
    if (!mkdtemp(dir))
        return perror("mkdtemp"), 1;
    char path[64];
    snprintf(path, sizeof path, "%s/bench.lua", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return perror(path), 1;
    fputs(HOOKS, f);
    fclose(f);

    static int32_t y[ROWS];
    static float p[ROWS * CLASSES];
    nnx_rng r;
    nnx_rng_seed(&r, 1, NNX_STREAM_USER);
    for (int i = 0; i < ROWS; i++) {
        y[i] = (int32_t)(nnx_rng_uniform(&r) * CLASSES);
        double sum = 0;
        for (int c = 0; c < CLASSES; c++)
            sum += p[i * CLASSES + c] = (float)(nnx_rng_uniform(&r) + 0.3 * (c == y[i]));
        for (int c = 0; c < CLASSES; c++)
            p[i * CLASSES + c] = (float)(p[i * CLASSES + c] / sum);
    }

    nnx_lua_error err;
    nnx_lua_host *h = nnx_lua_open(path, stdlib_dir, NULL, &err);
    unlink(path);
    rmdir(dir);
    if (!h)
        return fprintf(stderr, "lua_metric: %s\n", err.msg), 1;
    static const char *const names[] = { "macro_f1", "stdlib_accuracy", "indexed_accuracy",
                                         "top5", "brier" };
    int status = 0;
    printf("lua metrics over %d x %d probabilities (%d calls each):\n", ROWS, CLASSES,
           RUNS);
    for (size_t m = 0; m < sizeof names / sizeof names[0]; m++) {
        double t[RUNS], wall[RUNS], v = 0;
        for (int i = 0; i < RUNS; i++) {
            double t0 = now_ms(CLOCK_THREAD_CPUTIME_ID), w0 = now_ms(CLOCK_MONOTONIC);
            if (nnx_lua_metric(h, names[m], y, p, ROWS, CLASSES, &v, &err) != 0) {
                fprintf(stderr, "lua_metric: %s\n", err.msg);
                nnx_lua_close(h);
                return 1;
            }
            t[i] = now_ms(CLOCK_THREAD_CPUTIME_ID) - t0;
            wall[i] = now_ms(CLOCK_MONOTONIC) - w0;
        }
        qsort(t, RUNS, sizeof t[0], by_value);
        qsort(wall, RUNS, sizeof wall[0], by_value);
        printf("  %-18s %7.3f ms/call CPU  (wall: median %.3f, fastest %.3f; value %.6f)%s\n",
               names[m], t[RUNS / 2], wall[RUNS / 2], wall[0], v,
               t[RUNS / 2] < 10 ? "" : "  OVER 10 ms");
        status |= t[RUNS / 2] >= 10;
    }
    nnx_lua_close(h);
    return status;
}
