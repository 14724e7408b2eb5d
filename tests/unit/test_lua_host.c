/* test_lua_host.c — the Lua host: callbacks, the run object, metric views,
 * the sandbox's walls, the instruction and memory caps, tracebacks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/lua_host.h"

/* --- helpers --------------------------------------------------------------- */

static char tmpdir[64];

/* Write DIR/name (making DIR/sub for "sub/x.lua"); returns the path. */
static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    char *slash = strrchr(path, '/');
    if (slash > path + strlen(tmpdir)) {
        *slash = '\0';
        mkdir(path, 0700);
        *slash = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnx-lua-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    remove_tree(tmpdir);
    return 0;
}

#define assert_contains(hay, needle)                                            \
    do {                                                                        \
        if (!strstr((hay), (needle)))                                           \
            fail_msg("expected \"%s\" in:\n%s", (needle), (hay));               \
    } while (0)

/* The host for a hooks text written as `name`; fails the test on error. */
static nnx_lua_host *open_text(const char *name, const char *text,
                               const nnx_lua_options *opt)
{
    nnx_lua_error err = { "" };
    nnx_lua_host *h = nnx_lua_open(write_file(name, text), tmpdir, opt, &err);
    if (!h)
        fail_msg("open %s: %s", name, err.msg);
    return h;
}

/* Open must fail; returns the message. */
static const char *open_fails(const char *name, const char *text,
                              const nnx_lua_options *opt)
{
    static nnx_lua_error err;
    err.msg[0] = '\0';
    nnx_lua_host *h = nnx_lua_open(write_file(name, text), tmpdir, opt, &err);
    if (h) {
        nnx_lua_close(h);
        fail_msg("open %s succeeded, expected an error", name);
    }
    return err.msg;
}

/* Call an event that must fail; returns the message. */
static const char *callback_fails(nnx_lua_host *h, nnx_lua_event ev, nnx_lua_run *run)
{
    static nnx_lua_error err;
    err.msg[0] = '\0';
    if (nnx_lua_callback(h, ev, run, &err) == 0)
        fail_msg("%s succeeded, expected an error", nnx_lua_event_name(ev));
    return err.msg;
}

static void callback_ok(nnx_lua_host *h, nnx_lua_event ev, nnx_lua_run *run)
{
    nnx_lua_error err = { "" };
    if (nnx_lua_callback(h, ev, run, &err) != 0)
        fail_msg("%s: %s", nnx_lua_event_name(ev), err.msg);
}

static double logged(const nnx_lua_run *run, const char *name)
{
    for (size_t i = 0; i < run->nlogged; i++)
        if (strcmp(run->logged[i].name, name) == 0)
            return run->logged[i].value;
    fail_msg("no logged value '%s'", name);
    return NAN;
}

/* A small 3-class problem: rows 1..4, labels 0 2 1 2, argmax 0 2 2 2. */
static const int32_t Y4[4] = { 0, 2, 1, 2 };
static const float P4[12] = {
    0.7f, 0.2f, 0.1f,
    0.1f, 0.1f, 0.8f,
    0.2f, 0.3f, 0.5f,
    0.3f, 0.3f, 0.4f,
};

static double metric_ok(nnx_lua_host *h, const char *name, const int32_t *y,
                        const float *p, size_t n, size_t k)
{
    nnx_lua_error err = { "" };
    double v = NAN;
    if (nnx_lua_metric(h, name, y, p, n, k, &v, &err) != 0)
        fail_msg("metric %s: %s", name, err.msg);
    return v;
}

static const char *metric_fails(nnx_lua_host *h, const char *name, const int32_t *y,
                                const float *p, size_t n, size_t k)
{
    static nnx_lua_error err;
    err.msg[0] = '\0';
    double v = -12345;
    if (nnx_lua_metric(h, name, y, p, n, k, &v, &err) == 0)
        fail_msg("metric %s succeeded (%g), expected an error", name, v);
    assert_true(v == -12345);
    return err.msg;
}

/* --- callbacks and the run object ---------------------------------------------- */

static const char HOOKS_RUN[] =
    "calls = {}\n"
    "function on_train_begin(run)\n"
    "  calls[#calls + 1] = 'train_begin'\n"
    "  run:log('seed', run.seed)\n"
    "  run:log('epoch_at_begin', run.epoch)\n"
    "  run:log('lr_param', run.params['optimizer.lr'])\n"
    "  run:log('decay_len', #run.params.decay)\n"
    "  run:log('is_int', math.type(run.step) == 'integer' and 1 or 0)\n"
    "  run:log('batch_int', math.type(run.params.batch) == 'integer' and\n"
    "          math.type(run.params['optimizer.lr']) == 'float' and 1 or 0)\n"
    "end\n"
    "function on_epoch_begin(run)\n"
    "  calls[#calls + 1] = 'epoch_begin'\n"
    "  run:log('step', run.step)\n"
    "end\n"
    "function on_epoch_end(run)\n"
    "  calls[#calls + 1] = 'epoch_end'\n"
    "  if run.epoch >= 3 and run.metrics['valid.accuracy'] < 0.3 then\n"
    "    run:stop('not learning')\n"
    "  end\n"
    "  local n = 0\n"
    "  for k, v in pairs(run.metrics) do n = n + 1 end\n"
    "  run:log('nmetrics', n)\n"
    "  run:log('lr_x1000', run.lr * 1000)\n"
    "  run:log('lr_x1000', run.lr * 2000)\n"     /* the last value wins */
    "  run:log('missing_is_nil', run.metrics['nope'] == nil and 1 or 0)\n"
    "  if run.epoch == 2 then run:set_lr(run.lr / 10) end\n"
    "end\n"
    "function on_train_end(run)\n"
    "  calls[#calls + 1] = 'train_end'\n"
    "  run:log('ncalls', #calls)\n"
    "  run:log('order_ok', table.concat(calls, ',') ==\n"
    "    'train_begin,epoch_begin,epoch_end,train_end' and 1 or 0)\n"
    "  run:stop()\n"
    "end\n";

static void every_callback_and_run_field(void **state)
{
    (void)state;
    nnx_lua_host *h = open_text("run.lua", HOOKS_RUN, NULL);
    const char *names[] = { "valid.accuracy", "train.loss" };
    double values[] = { 0.25, 1.5 };
    nnx_lua_param params[] = {
        { .name = "optimizer.lr", .num = 3e-3 },
        { .name = "decay", .str = "cosine" },
        { .name = "batch", .num = 128 },
    };
    nnx_lua_run run = { .epoch = 0, .step = 0, .lr = 1e-3, .seed = 42,
                        .params = params, .nparams = 3 };
    callback_ok(h, NNX_LUA_ON_TRAIN_BEGIN, &run);
    assert_int_equal(run.nlogged, 6);
    assert_true(logged(&run, "batch_int") == 1);
    assert_string_equal(run.logged[0].name, "seed");
    assert_true(logged(&run, "seed") == 42);
    assert_true(logged(&run, "epoch_at_begin") == 0);
    assert_true(logged(&run, "lr_param") == 3e-3);
    assert_true(logged(&run, "decay_len") == 6);
    assert_true(logged(&run, "is_int") == 1);
    assert_false(run.stop);
    assert_false(run.lr_set);

    run.epoch = 2;
    run.step = 470;
    callback_ok(h, NNX_LUA_ON_EPOCH_BEGIN, &run);
    assert_int_equal(run.nlogged, 1);
    assert_true(logged(&run, "step") == 470);

    run.metric_names = names;
    run.metric_values = values;
    run.nmetrics = 2;
    callback_ok(h, NNX_LUA_ON_EPOCH_END, &run);
    assert_false(run.stop);                /* epoch 2: too early to stop */
    assert_true(run.lr_set);
    assert_float_equal(run.lr_next, 1e-4, 1e-18);
    assert_int_equal(run.nlogged, 3);
    assert_true(logged(&run, "nmetrics") == 2);
    assert_float_equal(logged(&run, "lr_x1000"), 2.0, 1e-12);
    assert_string_equal(run.logged[1].name, "lr_x1000"); /* first position kept */
    assert_true(logged(&run, "missing_is_nil") == 1);

    run.epoch = 3;
    callback_ok(h, NNX_LUA_ON_EPOCH_END, &run);
    assert_true(run.stop);
    assert_string_equal(run.stop_reason, "not learning");
    assert_false(run.lr_set);              /* outputs are reset per call */

    callback_ok(h, NNX_LUA_ON_TRAIN_END, &run);
    assert_true(run.stop);
    assert_string_equal(run.stop_reason, "stopped by hook");
    assert_true(logged(&run, "ncalls") == 5);
    assert_true(logged(&run, "order_ok") == 0);  /* epoch_end ran twice */
    nnx_lua_close(h);
}

static void undefined_callback_is_skipped(void **state)
{
    (void)state;
    nnx_lua_host *h = open_text("none.lua", "x = 1\n", NULL);
    nnx_lua_run run = { .epoch = 1, .stop = true, .lr_set = true, .nlogged = 7 };
    for (int ev = NNX_LUA_ON_TRAIN_BEGIN; ev <= NNX_LUA_ON_TRAIN_END; ev++)
        callback_ok(h, (nnx_lua_event)ev, &run);
    assert_false(run.stop);
    assert_false(run.lr_set);
    assert_int_equal(run.nlogged, 0);
    assert_false(nnx_lua_has_function(h, "on_epoch_end"));
    assert_false(nnx_lua_has_function(h, "x"));
    nnx_lua_close(h);

    h = open_text("notfn.lua", "on_epoch_end = 3\n", NULL);
    assert_contains(callback_fails(h, NNX_LUA_ON_EPOCH_END, &run),
                    "on_epoch_end is a number, expected a function");
    nnx_lua_close(h);
}

static void run_methods_check_arguments(void **state)
{
    (void)state;
    static const struct { const char *code, *msg; } bad[] = {
        { "run:set_lr(0)", "run:set_lr(value): value must be > 0, got 0" },
        { "run:set_lr(-1)", "value must be > 0" },
        { "run:set_lr(0/0)", "run:set_lr(value): value must be a finite number" },
        { "run:set_lr(1/0)", "must be a finite number, got inf" },
        { "run:set_lr('0.1')", "must be a finite number, got string" },
        { "run:log(3, 1)", "run:log(name, value): name must be a string, got number" },
        { "run:log('', 1)", "name \"\" is empty" },
        { "run:log('a,b', 1)", "contains a comma or a quote" },
        { "run:log('a\\nb', 1)", "contains a control character" },
        { "run:log(string.rep('x', 65), 1)", "longer than 64 bytes" },
        { "run:log('epoch', 1)", "name \"epoch\" is a metrics.csv column nnx writes itself" },
        { "run:log('lr', 1)", "is a metrics.csv column nnx writes itself" },
        { "run:log('seconds', 1)", "is a metrics.csv column nnx writes itself" },
        { "run:log('valid.loss', 1)", "name \"valid.loss\" starts with a split name" },
        { "run:log('train.acc', 1)", "starts with a split name" },
        { "run:log('test.x', 1)", "starts with a split name" },
        { "run:log('x', 0/0)", "run:log(\"x\", value): value must be a finite number" },
        { "run:log('x', '1')", "value must be a finite number, got string" },
        { "run:log('x')", "value must be a finite number, got no value" },
        { "run:stop(3)", "run:stop(reason): reason must be a string, got number" },
        { "run.stop('why')", "run:stop: call it as a method, run:stop(...)" },
        { "run.epoch = 3", "run.epoch is read-only" },
        { "run.metrics['valid.loss'] = 1", "run.metrics is read-only" },
        { "run.params.x = 1", "run.params is read-only" },
        { "local _ = run.nope", "run has no field 'nope'" },
    };
    nnx_lua_run run = { .epoch = 1, .lr = 0.1 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char hooks[512];
        snprintf(hooks, sizeof hooks,
                 "function on_epoch_end(run)\n"
                 "  local f = assert(load('local run = ...; ' .. [==[%s]==], '=code'))\n"
                 "  f(run)\n"
                 "end\n", bad[i].code);
        nnx_lua_host *h = open_text("args.lua", hooks, NULL);
        const char *msg = callback_fails(h, NNX_LUA_ON_EPOCH_END, &run);
        assert_contains(msg, bad[i].msg);
        assert_contains(msg, "code:1:");
        assert_contains(msg, "stack traceback:");
        nnx_lua_close(h);
    }
}

static void run_outside_its_callback_raises(void **state)
{
    (void)state;
    nnx_lua_host *h = open_text("kept.lua",
        "function on_train_begin(run) kept = run end\n"
        "function m(y, p) return kept.epoch end\n", NULL);
    nnx_lua_run run = { .epoch = 0 };
    callback_ok(h, NNX_LUA_ON_TRAIN_BEGIN, &run);
    assert_contains(metric_fails(h, "m", Y4, P4, 4, 3),
                    "run.epoch: the run object is only valid inside the callback");
    nnx_lua_close(h);
}

/* --- metrics -------------------------------------------------------------------- */

static const char HOOKS_METRIC[] =
    "function accuracy(y, p)\n"
    "  local right = 0\n"
    "  for i = 1, #y do\n"
    "    local best, bk = -1, 0\n"
    "    for k = 1, p.classes do\n"
    "      if p[i][k] > best then best, bk = p[i][k], k end\n"
    "    end\n"
    "    if bk == y[i] then right = right + 1 end\n"
    "  end\n"
    "  return right / #y\n"
    "end\n"
    "function true_prob_sum(y, p)\n"              /* sum of p[i][y[i]] */
    "  local s = 0\n"
    "  for i = 1, #p do s = s + p[i][y[i]] end\n"
    "  return s\n"
    "end\n"
    "function shape(y, p) return #y * 1000 + #p * 100 + p.classes * 10 + y.classes end\n"
    "function rows(y, p)\n"
    "  local r = p:row(2)\n"
    "  return #r * 100 + p:argmax(1) * 10 + p:argmax(4) + r[3]\n"
    "end\n"
    "function row_len(y, p) return #p[1] end\n"
    "function keep(y, p) kept_y, kept_p, kept_r = y, p, p[1]; return 0 end\n"
    "function use_y() return kept_y[1] end\n"
    "function use_p() return kept_p[1][1] end\n"
    "function use_r() return kept_r[1] end\n"
    "function y0(y, p) return y[0] end\n"
    "function y_past(y, p) return y[#y + 1] end\n"
    "function p_past(y, p) return p[#p + 1][1] end\n"
    "function k_past(y, p) return p[1][p.classes + 1] end\n"
    "function k_frac(y, p) return p[1][1.5] end\n"
    "function y_write(y, p) y[1] = 2; return 0 end\n"
    "function p_write(y, p) p[1][1] = 2; return 0 end\n"
    "function p_field(y, p) return p.nope end\n"
    "function gives_nil(y, p) end\n"
    "function gives_nan(y, p) return 0/0 end\n"
    "function gives_string(y, p) return '1' end\n"
    "function bad(y, p) return y + 1 end\n"
    "function empty(y, p) return #y + #p end\n"
    "not_a_function = 1\n";

static void metric_known_values(void **state)
{
    (void)state;
    nnx_lua_host *h = open_text("metric.lua", HOOKS_METRIC, NULL);
    assert_true(nnx_lua_has_function(h, "accuracy"));
    assert_false(nnx_lua_has_function(h, "not_a_function"));
    assert_false(nnx_lua_has_function(h, "nowhere"));
    /* argmax 0 2 2 2 vs labels 0 2 1 2: 3 of 4 right */
    assert_float_equal(metric_ok(h, "accuracy", Y4, P4, 4, 3), 0.75, 1e-12);
    assert_float_equal(metric_ok(h, "true_prob_sum", Y4, P4, 4, 3),
                       (double)0.7f + (double)0.8f + (double)0.3f + (double)0.4f, 1e-12);
    assert_float_equal(metric_ok(h, "shape", Y4, P4, 4, 3), 4433, 0);
    assert_float_equal(metric_ok(h, "rows", Y4, P4, 4, 3), 313 + (double)0.8f, 1e-12);
    assert_float_equal(metric_ok(h, "row_len", Y4, P4, 4, 3), 3, 0);
    assert_float_equal(metric_ok(h, "empty", NULL, NULL, 0, 3), 0, 0);
    nnx_lua_close(h);
}

static void metric_binary_shows_two_classes(void **state)
{
    (void)state;
    nnx_lua_host *h = open_text("binary.lua", HOOKS_METRIC, NULL);
    const int32_t y[3] = { 1, 0, 1 };
    const float p[3] = { 0.9f, 0.4f, 0.2f };   /* predicted 1, 0, 0 */
    assert_float_equal(metric_ok(h, "accuracy", y, p, 3, 1), 2.0 / 3, 1e-12);
    assert_float_equal(metric_ok(h, "true_prob_sum", y, p, 3, 1),
                       (double)0.9f + (1 - (double)0.4f) + (double)0.2f, 1e-12);
    assert_float_equal(metric_ok(h, "shape", y, p, 3, 1), 3322, 0);
    const int32_t bad[1] = { 2 };
    assert_contains(metric_fails(h, "accuracy", bad, p, 1, 1),
                    "lua metric 'accuracy': label of row 1 is 2, outside 0..1");
    nnx_lua_close(h);
}

static void metric_bad_index_and_result(void **state)
{
    (void)state;
    nnx_lua_host *h = open_text("mbad.lua", HOOKS_METRIC, NULL);
    static const struct { const char *fn, *msg; } cases[] = {
        { "y0", "y[0]: index out of range 1..4" },
        { "y_past", "y[5]: index out of range 1..4" },
        { "p_past", "p[5]: index out of range 1..4" },
        { "k_past", "p[1][4]: class index out of range 1..3" },
        { "k_frac", "p[1][1.5]: the class index must be an integer" },
        { "y_write", "y is read-only" },
        { "p_write", "p[i] is read-only" },
        { "p_field", "p has no field 'nope'" },
        { "bad", "attempt to perform arithmetic on a nnx.y value (local 'y')" },
        { "gives_nil", "lua metric 'gives_nil' returned nil, expected a finite number" },
        { "gives_nan", "lua metric 'gives_nan' returned" },
        { "gives_string", "returned string, expected a finite number" },
        { "nowhere", "lua metric 'nowhere':" },
        { "not_a_function", "not a function" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *msg = metric_fails(h, cases[i].fn, Y4, P4, 4, 3);
        assert_contains(msg, cases[i].msg);
        if (strncmp(cases[i].fn, "gives", 5) == 0)
            assert_contains(msg, "mbad.lua:");   /* where the function is */
        else if (strcmp(cases[i].fn, "nowhere") && strcmp(cases[i].fn, "not_a_function"))
            assert_contains(msg, "stack traceback:");
    }
    const int32_t neg[4] = { 0, -1, 0, 0 };
    assert_contains(metric_fails(h, "accuracy", neg, P4, 4, 3),
                    "label of row 2 is -1, outside 0..2");
    /* Views a script keeps are dead after their call. */
    metric_ok(h, "keep", Y4, P4, 4, 3);
    assert_contains(metric_fails(h, "use_y", Y4, P4, 4, 3),
                    "y was used after its metric call returned");
    assert_contains(metric_fails(h, "use_p", Y4, P4, 4, 3), "p was used after");
    assert_contains(metric_fails(h, "use_r", Y4, P4, 4, 3), "p[i] was used after");
    /* ... and the host still works. */
    assert_float_equal(metric_ok(h, "accuracy", Y4, P4, 4, 3), 0.75, 1e-12);
    nnx_lua_close(h);
}

/* --- the sandbox -------------------------------------------------------------------- */

/* Each line is a chunk run at the top level of a fresh host; it must fail
 * with the message given. */
static void sandbox_walls(void **state)
{
    (void)state;
    write_file("evil.lua", "return 1\n");
    static const struct { const char *code, *msg; } walls[] = {
        { "os.execute('true')", "attempt to index a nil value (global 'os')" },
        { "io.open('/etc/passwd')", "attempt to index a nil value (global 'io')" },
        { "debug.getinfo(1)", "attempt to index a nil value (global 'debug')" },
        { "package.loadlib('x', 'y')", "attempt to index a nil value (global 'package')" },
        { "coroutine.create(print)", "(global 'coroutine')" },
        { "string.dump(print)", "attempt to call a nil value (field 'dump')" },
        { "dofile('/etc/passwd')", "dofile is not available in nnx hooks" },
        { "loadfile('/etc/passwd')", "loadfile is not available in nnx hooks" },
        { "load('\\27Lua\\84\\0', 'b', 'b')", "load: binary chunks are not allowed" },
        { "assert(load('\\27Lua\\84\\0\\25\\147\\r\\n\\26\\n'))",
          "attempt to load a binary chunk (mode is 't')" },
        { "require '../evil'", "require \"../evil\": not allowed" },
        { "require '/etc/passwd'", "require \"/etc/passwd\": not allowed" },
        { "require 'a/b'", "not allowed" },
        { "require 'evil.lua'", "module not found" },   /* evil/lua.lua */
        { "require 'socket.core'", "module not found: no file" },
        { "require ''", "not allowed" },
        { "require 'nnx.nothing'", "nnx/nothing.lua" },
        { "setmetatable({}, {__gc = print})", "__gc finalizers are not allowed" },
        { "collectgarbage('stop')", "collectgarbage(\"stop\") is not available" },
        { "collectgarbage('setpause', 1)", "is not available" },
        { "string.rep('x', 1 << 40)", "string.rep: a result of" },
        { "('x'):rep(1 << 40)", "exceeds the memory cap" },
        { "table.move({}, 1, 1 << 40, 2)", "table.move: 1099511627776 elements are more" },
        { "local s = ('a'):rep(1e5); s:find('.-.-.-b')",
          "string.find: pattern \".-.-.-b\" could take up to" },
        { "local s = ('a'):rep(1e5); s:match('^(a*)(a*)b')", "string.match: pattern" },
        { "for w in ('a'):rep(1e4):gmatch('%w+%w+b') do end", "string.gmatch: pattern" },
        { "local s = ('a'):rep(1e5); s:gsub('(a-)%1b', '')", "string.gsub: pattern" },
        { "local s = ('a'):rep(1e6); s:find(('a'):rep(1e4) .. 'b', 1, true)",
          "more than nnx hooks allow" },
    };
    for (size_t i = 0; i < sizeof walls / sizeof walls[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "wall%zu.lua", i);
        char src[256];
        snprintf(src, sizeof src, "local x = 1\n%s\n", walls[i].code);
        const char *msg = open_fails(name, src, NULL);
        assert_contains(msg, walls[i].msg);
        char where[40];
        snprintf(where, sizeof where, "%s:2:", name);
        assert_contains(msg, where);
        assert_contains(msg, "stack traceback:");
    }
}

static void sandbox_allows_the_ordinary(void **state)
{
    (void)state;
    write_file("helper.lua", "local M = {}\nfunction M.twice(x) return 2 * x end\n"
                             "loads = (loads or 0) + 1\nreturn M\n");
    write_file("nnx/fake.lua", "return { answer = 42 }\n");
    nnx_lua_host *h = open_text("ordinary.lua",
        "local helper = require 'helper'\n"
        "local again = require 'helper'\n"
        "assert(helper == again and loads == 1)\n"
        "assert(require('nnx.fake').answer == 42)\n"
        "assert(load('return 1 + 1')() == 2)\n"
        "assert(load('return x', 'c', 't', {x = 5})() == 5)\n"
        "assert(collectgarbage('count') > 0)\n"
        "collectgarbage()\n"
        "assert(utf8.len('héllo') == 5)\n"
        "assert(math.floor(2.5) == 2 and string.format('%d', 3) == '3')\n"
        "assert(table.concat({1, 2}, ',') == '1,2')\n"
        "assert(select('#', pcall(error, 'x')) == 2)\n"
        "assert(string.rep('', 1 << 62) == '' and ('ab'):rep(3, ',') == 'ab,ab,ab')\n"
        "assert(table.concat(table.move({1, 2, 3}, 1, 3, 2), ',') == '1,1,2,3')\n"
        /* patterns: ordinary ones on long strings pass the guard, results intact */
        "local long = ('ab '):rep(20000)\n"
        "assert(select(2, long:gsub('%s+', '')) == 20000)\n"
        "assert(long:find('ab', 1, true) == 1 and long:find('b a', 1, true) == 2)\n"
        "assert(('k=v'):match('^(%w+)=(%w+)$') == 'k')\n"
        "local n = 0 for k, v in ('a=1, b=2'):gmatch('(%w+)=(%w+)') do n = n + v end\n"
        "assert(n == 3)\n"
        "assert(('x[y]'):find('[]]') == 4 and ('(a)'):match('%b()') == '(a)')\n"
        "assert(('THE (quick) fox'):find('%f[%a]%a+%f[%A]') == 1)\n"
        "assert(setmetatable({}, {__index = function() return 7 end}).z == 7)\n"
        "function f(y, p) return helper.twice(#y) end\n", NULL);
    assert_float_equal(metric_ok(h, "f", Y4, P4, 4, 3), 8, 0);
    nnx_lua_close(h);
}

static void failing_module_fails_the_same_twice(void **state)
{
    (void)state;
    write_file("broken.lua", "local x = nil\nreturn x.y\n");
    nnx_lua_host *h = open_text("usebroken.lua",
        "function m(y, p)\n"
        "  local ok, e = pcall(require, 'broken')\n"
        "  assert(not ok)\n"
        "  require 'broken'\n"
        "end\n", NULL);
    const char *msg = metric_fails(h, "m", Y4, P4, 4, 3);
    assert_contains(msg, "broken.lua:2: attempt to index a nil value (local 'x')");
    assert_contains(msg, "usebroken.lua:4:");
    assert_true(strstr(msg, "loop") == NULL);
    /* one traceback, not two */
    assert_true(strstr(strstr(msg, "stack traceback:") + 1, "stack traceback:") == NULL);
    nnx_lua_close(h);
}

static void print_goes_to_the_caller(void **state)
{
    (void)state;
    nnx_lua_options opt = { .print = NULL };
    nnx_lua_host *h = open_text("print.lua", "print('hello', 1, nil, true)\n", &opt);
    nnx_lua_close(h);   /* no print function: discarded, no crash */
}

static void print_sink(void *ctx, const char *line, size_t len)
{
    char *buf = ctx;
    size_t used = strlen(buf);
    snprintf(buf + used, 256 - used, "%.*s|", (int)len, line);
}

static void print_lines_are_joined_by_tabs(void **state)
{
    (void)state;
    char out[256] = "";
    nnx_lua_options opt = { .print = print_sink, .print_ctx = out };
    nnx_lua_host *h = open_text("print2.lua", "print('hello', 1, nil, true)\nprint()\n", &opt);
    assert_string_equal(out, "hello\t1\tnil\ttrue||");
    nnx_lua_close(h);
}

static void random_is_seeded(void **state)
{
    (void)state;
    const char *src = "function r(y, p) return math.random(1, 1000000) end\n";
    nnx_lua_options a = { .random_seed = 7 }, b = { .random_seed = 8 };
    nnx_lua_host *h1 = open_text("rand1.lua", src, &a);
    nnx_lua_host *h2 = open_text("rand2.lua", src, &a);
    nnx_lua_host *h3 = open_text("rand3.lua", src, &b);
    double r1 = metric_ok(h1, "r", Y4, P4, 4, 3), r2 = metric_ok(h2, "r", Y4, P4, 4, 3);
    double r3 = metric_ok(h3, "r", Y4, P4, 4, 3);
    assert_true(r1 == r2);
    assert_true(r1 != r3);
    nnx_lua_close(h1);
    nnx_lua_close(h2);
    nnx_lua_close(h3);
}

/* --- faults -------------------------------------------------------------------------- */

static void syntax_error_has_file_and_line(void **state)
{
    (void)state;
    const char *msg = open_fails("syntax.lua", "x = 1\n\nfunction f(\n  return\nend\n", NULL);
    assert_contains(msg, "syntax.lua:4:");
    assert_true(strstr(msg, "traceback") == NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/nothere.lua", tmpdir);
    nnx_lua_error err;
    assert_null(nnx_lua_open(path, NULL, NULL, &err));
    assert_contains(err.msg, "cannot open");
    assert_contains(err.msg, "nothere.lua");
    assert_null(nnx_lua_open("", NULL, NULL, &err));
    assert_null(nnx_lua_open(NULL, NULL, NULL, NULL));
}

static void traceback_names_every_frame(void **state)
{
    (void)state;
    nnx_lua_host *h = open_text("deep.lua",
        "local function inner(t)\n"
        "  return t.missing.field\n"          /* line 2 */
        "end\n"
        "local function middle(t)\n"
        "  return inner(t) + 1\n"             /* line 5 */
        "end\n"
        "function outer(t)\n"
        "  local v = middle(t)\n"             /* line 8 */
        "  return v\n"
        "end\n"
        "function on_epoch_end(run)\n"
        "  outer({})\n"                       /* line 12 */
        "end\n"
        "function throws_table(run) error({}) end\n"
        "function on_train_end(run) throws_table(run) end\n", NULL);
    nnx_lua_run run = { .epoch = 1 };
    const char *msg = callback_fails(h, NNX_LUA_ON_EPOCH_END, &run);
    assert_contains(msg, "deep.lua:2: attempt to index a nil value (field 'missing')");
    assert_contains(msg, "stack traceback:");
    assert_contains(msg, "deep.lua:2: in upvalue 'inner'");
    assert_contains(msg, "deep.lua:5: in upvalue 'middle'");
    assert_contains(msg, "deep.lua:8: in function 'outer'");
    assert_contains(msg, "deep.lua:12: in function 'on_epoch_end'");
    msg = callback_fails(h, NNX_LUA_ON_TRAIN_END, &run);
    assert_contains(msg, "(error object is a table value)");
    assert_contains(msg, "deep.lua:14: in function 'throws_table'");
    /* The host survives its errors. */
    assert_true(nnx_lua_has_function(h, "outer"));
    nnx_lua_close(h);
}

static const char HOOKS_LOOPS[] =
    "function on_epoch_begin(run) while true do end end\n"
    "function on_epoch_end(run)\n"
    "  while true do\n"
    "    pcall(function() while true do end end)\n"   /* line 4 */
    "  end\n"
    "end\n"
    "function on_train_end(run)\n"
    "  local n = 0\n"
    "  for i = 1, 1000 do n = n + i end\n"
    "  run:log('n', n)\n"
    "end\n"
    "function spin(y, p)\n"
    "  local function handler(e) while true do end end\n"
    "  while true do xpcall(function() while true do end end, handler) end\n"
    "end\n";

static void instruction_budget_stops_loops(void **state)
{
    (void)state;
    nnx_lua_options opt = { .instructions = 200000 };
    nnx_lua_host *h = open_text("loops.lua", HOOKS_LOOPS, &opt);
    nnx_lua_run run = { .epoch = 1 };
    const char *msg = callback_fails(h, NNX_LUA_ON_EPOCH_BEGIN, &run);
    assert_contains(msg, "loops.lua:1: instruction budget of 200000 exceeded in on_epoch_begin");
    assert_contains(msg, "stack traceback:");
    msg = callback_fails(h, NNX_LUA_ON_EPOCH_END, &run);
    assert_contains(msg, "instruction budget of 200000 exceeded in on_epoch_end");
    assert_contains(msg, "loops.lua:4:");
    msg = metric_fails(h, "spin", Y4, P4, 4, 3);
    assert_contains(msg, "instruction budget of 200000 exceeded in lua metric 'spin'");
    /* The budget is per call: a short callback still runs. */
    callback_ok(h, NNX_LUA_ON_TRAIN_END, &run);
    assert_true(logged(&run, "n") == 500500);
    nnx_lua_close(h);

    msg = open_fails("toploop.lua", "local x = 0\nwhile true do x = x + 1 end\n", &opt);
    assert_contains(msg, "toploop.lua:2: instruction budget of 200000 exceeded in the top "
                         "level of the hooks file");
}

static void budget_larger_than_an_int(void **state)
{
    (void)state;
    /* 3e9 > INT_MAX: the budget is counted in chunks; a short call passes. */
    nnx_lua_options opt = { .instructions = 3000000000ull };
    nnx_lua_host *h = open_text("bigbudget.lua",
        "function f(y, p) local s = 0 for i = 1, 100000 do s = s + i end return s end\n",
        &opt);
    assert_float_equal(metric_ok(h, "f", Y4, P4, 4, 3), 5000050000.0, 0);
    nnx_lua_close(h);
}

static const char HOOKS_HOGS[] =
    "function table_hog(y, p)\n"
    "  local t = {}\n"
    "  for i = 1, 1e9 do t[i] = i end\n"                      /* line 3 */
    "end\n"
    "function string_hog(y, p)\n"
    "  local s = 'x'\n"
    "  while true do s = s .. s end\n"                        /* line 7 */
    "end\n"
    "function caught_hog(y, p)\n"
    "  while true do\n"
    "    pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end)\n"
    "  end\n"
    "end\n"
    "function churn(y, p)\n"                /* lots of garbage, little live data */
    "  local n = 0\n"
    "  for i = 1, 200 do local t = {} for j = 1, 10000 do t[j] = j end n = n + #t end\n"
    "  return n\n"
    "end\n"
    "function on_epoch_end(run)\n"
    "  local s = {}\n"
    "  for i = 1, 1e9 do s[#s + 1] = tostring(i) .. 'abcdefgh' end\n" /* line 21 */
    "end\n";

static void memory_cap_stops_hogs(void **state)
{
    (void)state;
    nnx_lua_options opt = { .mem_bytes = (size_t)16 << 20 };
    nnx_lua_host *h = open_text("hogs.lua", HOOKS_HOGS, &opt);
    const char *msg = metric_fails(h, "table_hog", Y4, P4, 4, 3);
    assert_contains(msg, "hogs.lua:3: memory cap of 16 MB exceeded in lua metric 'table_hog'");
    assert_contains(msg, "stack traceback:");
    assert_contains(msg, "hogs.lua:3: in function 'table_hog'");
    assert_true(nnx_lua_memory_in_use(h) < ((size_t)1 << 20));  /* given back */
    msg = metric_fails(h, "string_hog", Y4, P4, 4, 3);
    assert_contains(msg, "hogs.lua:7: memory cap of 16 MB exceeded");
    assert_contains(msg, "in function 'string_hog'");
    msg = metric_fails(h, "caught_hog", Y4, P4, 4, 3);
    assert_contains(msg, "memory cap of 16 MB exceeded in lua metric 'caught_hog'");
    assert_contains(msg, "stack traceback:");
    nnx_lua_run run = { .epoch = 1 };
    msg = callback_fails(h, NNX_LUA_ON_EPOCH_END, &run);
    assert_contains(msg, "hogs.lua:21: memory cap of 16 MB exceeded in on_epoch_end");
    /* Garbage is collected before the cap counts: 200 x 10000 numbers pass. */
    assert_float_equal(metric_ok(h, "churn", Y4, P4, 4, 3), 2000000, 0);
    assert_true(nnx_lua_memory_in_use(h) <= ((size_t)32 << 20));
    nnx_lua_close(h);
}

static void tiny_memory_cap_fails_cleanly(void **state)
{
    (void)state;
    nnx_lua_options opt = { .mem_bytes = 4096 };
    const char *msg = open_fails("tiny.lua", "x = 1\n", &opt);
    assert_true(strlen(msg) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_callback_and_run_field),
        cmocka_unit_test(undefined_callback_is_skipped),
        cmocka_unit_test(run_methods_check_arguments),
        cmocka_unit_test(run_outside_its_callback_raises),
        cmocka_unit_test(metric_known_values),
        cmocka_unit_test(metric_binary_shows_two_classes),
        cmocka_unit_test(metric_bad_index_and_result),
        cmocka_unit_test(sandbox_walls),
        cmocka_unit_test(sandbox_allows_the_ordinary),
        cmocka_unit_test(failing_module_fails_the_same_twice),
        cmocka_unit_test(print_goes_to_the_caller),
        cmocka_unit_test(print_lines_are_joined_by_tabs),
        cmocka_unit_test(random_is_seeded),
        cmocka_unit_test(syntax_error_has_file_and_line),
        cmocka_unit_test(traceback_names_every_frame),
        cmocka_unit_test(instruction_budget_stops_loops),
        cmocka_unit_test(budget_larger_than_an_int),
        cmocka_unit_test(memory_cap_stops_hogs),
        cmocka_unit_test(tiny_memory_cap_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
