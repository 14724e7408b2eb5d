/* fuzz_lua.c — fuzz Lua hooks text in the sandbox: loading a hooks file, its callbacks and a Lua metric.
 *
 * Each input is written as hooks.lua and opened as a run opens it (with the
 * stdlib's Lua modules), under a small memory cap (32 MB) and instruction
 * budget (200,000 per call), so that an input that loops or allocates
 * without end is stopped by the sandbox, not by libFuzzer's timeout or
 * memory limit: a hang or an out-of-memory report here is a sandbox bug.
 * When the file loads, every callback is called once, with metrics and
 * params, and a global `metric` (when defined) as a Lua metric.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/lua_host.h"

#include "fuzz_io.h"

static char *lua_dir;

static void forget(void *ctx, const char *line, size_t len)
{
    (void)ctx, (void)line, (void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!lua_dir) {
        const char *stdlib = getenv("NNX_STDLIB");
        size_t n = (stdlib ? strlen(stdlib) : 0) + 8;
        lua_dir = malloc(n);
        if (!lua_dir)
            abort();
        snprintf(lua_dir, n, "%s/lua", stdlib ? stdlib : "stdlib");
    }
    char *path = fuzz_write("hooks.lua", data, size);
    if (!path)
        abort();
    nnx_lua_options o = { .mem_bytes = (size_t)32 << 20, .instructions = 200000,
                          .random_seed = 1, .print = forget };
    nnx_lua_error err;
    nnx_lua_host *h = nnx_lua_open(path, lua_dir, &o, &err);
    free(path);
    if (!h)
        return 0;
    static const char *const names[] = { "train.loss", "valid.loss", "valid.accuracy" };
    static const double values[] = { 0.7, 0.9, 0.5 };
    static const nnx_lua_param params[] = { { "optimizer.lr", NULL, 0.01 },
                                            { "schedule", "cosine", 0 } };
    nnx_lua_run run = { .epoch = 0, .step = 0, .lr = 0.01, .seed = 1,
                        .metric_names = names, .metric_values = values, .nmetrics = 3,
                        .params = params, .nparams = 2 };
    nnx_lua_callback(h, NNX_LUA_ON_TRAIN_BEGIN, &run, &err);
    run.epoch = 1;
    nnx_lua_callback(h, NNX_LUA_ON_EPOCH_BEGIN, &run, &err);
    run.step = 10;
    nnx_lua_callback(h, NNX_LUA_ON_EPOCH_END, &run, &err);
    nnx_lua_callback(h, NNX_LUA_ON_TRAIN_END, &run, &err);
    if (nnx_lua_has_function(h, "metric")) {
        static const int32_t y[] = { 0, 2, 1, 2 };
        static const float p[] = { 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f,
                                   0.3f, 0.4f, 0.3f, 0.0f, 0.5f, 0.5f };
        double v;
        nnx_lua_metric(h, "metric", y, p, 4, 3, &v, &err);
        static const int32_t yb[] = { 0, 1, 1 };
        static const float pb[] = { 0.2f, 0.9f, 0.4f };
        nnx_lua_metric(h, "metric", yb, pb, 3, 1, &v, &err);
    }
    nnx_lua_close(h);
    return 0;
}
