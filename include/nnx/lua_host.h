/* lua_host.h — the embedded Lua 5.4 host: one sandboxed Lua state per trial
 * that runs a hooks file's callbacks and its `lua.NAME` metrics.
 *
 * The host knows neither the language front end nor the training runtime: it
 * takes plain C data (numbers, names, arrays) and returns plain results.
 *
 * Life of a host (one per trial):
 *
 *     nnx_lua_error err;
 *     nnx_lua_host *h = nnx_lua_open("exp/hooks.lua", "stdlib/lua", NULL, &err);
 *     if (!h) ... err.msg is "exp/hooks.lua:7: syntax error near 'end'" ...
 *     if (!nnx_lua_has_function(h, "macro_f1")) ... unknown lua.macro_f1 ...
 *     nnx_lua_run run = { .epoch = 0, .lr = 1e-3, .seed = 1, ... };
 *     nnx_lua_callback(h, NNX_LUA_ON_TRAIN_BEGIN, &run, &err);
 *     for each epoch:
 *         run.epoch = e; ...                      (fill the inputs)
 *         nnx_lua_callback(h, NNX_LUA_ON_EPOCH_BEGIN, &run, &err);
 *         ... train, validate ...
 *         nnx_lua_metric(h, "macro_f1", y, p, n, k, &value, &err);
 *         run.metric_names = ...; run.metric_values = ...;
 *         if (nnx_lua_callback(h, NNX_LUA_ON_EPOCH_END, &run, &err)) fail(err.msg)
 *         read run.stop, run.lr_set / run.lr_next, run.logged[0..nlogged)
 *     nnx_lua_callback(h, NNX_LUA_ON_TRAIN_END, &run, &err);
 *     nnx_lua_close(h);
 *
 * Errors.  Every function that can fail returns 0 on success and -1 on
 * failure after filling `err` (which may be NULL); the host never prints and
 * never exits.  A Lua runtime error, an exhausted instruction budget and the
 * memory cap all come back as such an error whose message starts with
 * `file:line:` (unless the script raised a non-string value: "(error object
 * is a table value)") and ends with the Lua traceback ("stack traceback:\n\tFILE:LINE:
 * in function 'NAME'..."); file names are the paths the host was given
 * (hooks_path as passed, stdlib modules as stdlib_dir/nnx/NAME.lua), shortened
 * by Lua from the left to 60 characters when longer ("...dir/hooks.lua"), so
 * pass a short relative path.  After an error the host is still valid: it
 * may be called again or closed (what the failed call left is collected).
 *
 * Sandbox.  The state opens only the base, table, string, math and utf8
 * libraries.  Not available: os, io, debug, coroutine, package, string.dump;
 * `dofile` and `loadfile` raise "dofile is not available in nnx hooks";
 * `load` accepts only text chunks (a binary chunk fails as `load` reports a
 * refused mode: nil plus a message); `setmetatable` refuses a metatable with
 * a `__gc` field (no finalizers, so no Lua runs outside a call);
 * `collectgarbage` accepts only "collect", "count", "step" and "isrunning";
 * `xpcall`'s handler is skipped for the host's own budget and memory errors
 * (they are raised where a handler would run unchecked);
 * `string.rep` refuses a result larger than the memory cap;
 * `print` goes to the caller's print function (or nowhere).
 * `require "a.b"` takes dotted identifiers only: names starting with "nnx."
 * are looked up in stdlib_dir ("nnx.metrics" → stdlib_dir/nnx/metrics.lua),
 * every other name beside the hooks file ("util" → DIR/util.lua); anything
 * else ("../x", "/abs", C modules) is an error naming the module.
 * Each call (the hooks file's top level, each callback, each metric, each
 * module's top level as part of the call that requires it) gets a fresh
 * instruction budget; when it runs out every following Lua instruction
 * raises again, so `pcall` cannot swallow it.  All allocations of the state
 * count against the memory cap; an allocation that would cross it first
 * makes Lua collect its garbage (an emergency full GC), and if it still
 * crosses the cap it is granted (up to twice the cap in total) and the script is stopped at its
 * next instruction with a traceback; an allocation beyond twice the cap is
 * refused outright (then the message says so and may lack the traceback).
 * math.random is seeded from options.random_seed, so runs repeat.
 * The budget counts Lua instructions, not work inside C library functions;
 * the C functions whose work is not bounded by memory are guarded instead:
 * string.find/match/gmatch/gsub refuse a pattern whose worst case on its
 * subject exceeds 10 x the budget in steps (("a"):rep(1e5):find(".-.-.-b")
 * is an error, not an hour of backtracking), table.move refuses to move
 * more elements than the budget, string.rep of an empty string is "".
 *
 * Ownership.  nnx_lua_open copies what it needs of its string arguments; the
 * host owns its lua_State and everything inside it, freed by nnx_lua_close.
 * Inputs of an nnx_lua_run and the arrays passed to nnx_lua_metric are
 * borrowed for the duration of the call only (Lua never keeps a pointer to
 * them: a view a script stored in a global raises an error when used after
 * its call returned).  Outputs of an nnx_lua_run (stop_reason, logged[]) are
 * owned by the host and stay valid until the next call on the same host or
 * nnx_lua_close, whichever is first; copy what you keep.
 *
 * Threads.  A host is used by one thread at a time; separate hosts share
 * nothing and may run in parallel.
 */
#ifndef NNX_LUA_HOST_H
#define NNX_LUA_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nnx_lua_host nnx_lua_host;

typedef struct nnx_lua_error {
    char msg[4096];     /* "hooks.lua:12: message\nstack traceback:\n\t..." */
} nnx_lua_error;

#define NNX_LUA_DEFAULT_MEM_BYTES    ((size_t)256 << 20)   /* 256 MB */
#define NNX_LUA_DEFAULT_INSTRUCTIONS ((uint64_t)100000000)  /* 100 M per call */

/* Settings of a host.  Pass NULL to nnx_lua_open for all defaults; a zero
 * field means its default. */
typedef struct nnx_lua_options {
    size_t   mem_bytes;         /* memory cap of the whole state */
    uint64_t instructions;      /* Lua VM instructions per call */
    int64_t  random_seed;       /* math.randomseed at open (0 is a seed too) */
    /* Where Lua's `print` goes: called once per print with the line (the
     * arguments joined by tabs, without the newline; line[len] is '\0').
     * NULL: discarded.  It must not call back into the host. */
    void   (*print)(void *print_ctx, const char *line, size_t len);
    void    *print_ctx;
} nnx_lua_options;

/* Create a state, load hooks_path (text only) and run its top level.
 * stdlib_dir is the directory holding nnx/metrics.lua (NULL: no `nnx.*`
 * modules).  Returns NULL with err filled on failure: a syntax error reads
 * "HOOKS_PATH:LINE: message", a missing file "cannot open HOOKS_PATH: ...". */
nnx_lua_host *nnx_lua_open(const char *hooks_path, const char *stdlib_dir,
                           const nnx_lua_options *options, nnx_lua_error *err);
void nnx_lua_close(nnx_lua_host *host);          /* NULL is fine */

/* Whether the hooks file defined a global function `name` (as it stands now:
 * globals are looked up at each call, not cached).  Use it to check every
 * `lua.NAME` metric before training starts. */
bool nnx_lua_has_function(const nnx_lua_host *host, const char *name);

/* The global Lua functions the hooks file (or a module it required) defined,
 * for "did you mean": at most
 * `max` names, copied into buf[cap] and pointed at from names[].  Returns
 * how many. */
size_t nnx_lua_function_names(const nnx_lua_host *host, char *buf, size_t cap,
                              const char **names, size_t max);

/* Bytes the state holds now (for tests and reports). */
size_t nnx_lua_memory_in_use(const nnx_lua_host *host);

/* --- callbacks ------------------------------------------------------------ */

typedef enum nnx_lua_event {
    NNX_LUA_ON_TRAIN_BEGIN,
    NNX_LUA_ON_EPOCH_BEGIN,
    NNX_LUA_ON_EPOCH_END,       /* after validation: metrics are this epoch's */
    NNX_LUA_ON_TRAIN_END,
} nnx_lua_event;

/* The Lua name of an event: "on_train_begin", ... */
const char *nnx_lua_event_name(nnx_lua_event event);

/* One searched value of the trial: run.params[name] in Lua. */
typedef struct nnx_lua_param {
    const char *name;           /* "optimizer.lr", "model.p" */
    const char *str;            /* non-NULL: a string value ("cosine") ... */
    double      num;            /* ... else this number (a Lua integer when
                                   integral: batch = 128, not 128.0) */
} nnx_lua_param;

/* One run:log(name, value) of a callback. */
typedef struct nnx_lua_logged {
    const char *name;           /* owned by the host (see Ownership) */
    double      value;          /* finite */
} nnx_lua_logged;

/* What a callback sees as its `run` argument, and what it asked for.
 * The caller fills the inputs before each call; the host resets and fills
 * the outputs during each call (whatever the event). */
typedef struct nnx_lua_run {
    /* inputs (borrowed for the call) -> run.epoch, run.step, run.lr, run.seed */
    int64_t epoch;              /* 1-based; 0 in on_train_begin */
    int64_t step;               /* optimizer steps taken so far */
    double  lr;                 /* learning rate in effect now */
    int64_t seed;               /* the trial's seed */
    /* run.metrics[metric_names[i]] == metric_values[i] (a read-only table;
     * "valid.accuracy", "train.loss", ...).  A name given twice: last wins. */
    const char *const *metric_names;
    const double      *metric_values;
    size_t             nmetrics;
    /* run.params[params[i].name] (a read-only table) */
    const nnx_lua_param *params;
    size_t               nparams;
    /* The hooks were judged to only log (nnx_run_hooks_log_only), so a search
     * left them out of its identity: run:stop and run:set_lr are errors. */
    bool                 log_only;

    /* outputs (owned by the host) */
    bool        stop;           /* run:stop(reason) was called */
    const char *stop_reason;    /* its reason ("stopped by hook" if none); NULL unless stop */
    bool        lr_set;         /* run:set_lr(v) was called: apply lr_next */
    double      lr_next;        /* from the next step on; > 0 and finite */
    /* run:log(name, value) calls in order; a name logged twice in one call
     * keeps its last value, at its first position.  Names are non-empty,
     * at most 64 bytes, and contain no comma, quote or control character. */
    const nnx_lua_logged *logged;
    size_t                nlogged;
} nnx_lua_run;

/* Call the global function named by `event` with the run object, when the
 * hooks define it (if not, the outputs are reset and 0 is returned; a global
 * of that name that is not a function is an error).  After a failed call the
 * outputs hold what the hook did before it failed.  Logged names are not
 * checked against the caller's own metric names: that is the caller's job. */
int nnx_lua_callback(nnx_lua_host *host, nnx_lua_event event, nnx_lua_run *run,
                     nnx_lua_error *err);

/* --- metrics -------------------------------------------------------------- */

/* Call the global function NAME(y, p) and store its result in *out.
 *
 * y: n labels, each a data class in 0..k-1 (0..1 when k == 1).
 * p: n rows of k probabilities, row-major (p[i*k + c]).  k == 1 means a
 *    binary problem where p[i] is the probability of class 1.
 *
 * In Lua both are read-only views over these arrays (nothing is copied):
 *    #y, y[i]      rows i = 1..n; y[i] is the class index k = label + 1
 *    #p, p[i][c]   probability of class c (1-based) for row i
 *    p.classes     the number of classes (also y.classes)
 *    p:row(i)      a new Lua table {p[i][1], ..., p[i][classes]}
 *    p:argmax(i)   the class with the highest probability in row i (first on ties)
 * p:row and p:argmax do a whole row in one C call; p[i][c] costs one C call
 * per element (over 6,000 x 10: about 0.5 ms for a metric built on argmax,
 * 2.6 ms for one reading every p[i][c]; see bench/lua_metric.c).
 * A binary problem (k == 1) looks like two classes: p.classes == 2,
 * p[i][1] == 1 - prob, p[i][2] == prob, y[i] ∈ {1, 2}; so Lua metrics are
 * written once for any number of classes.  An index outside 1..#y, 1..#p
 * or 1..classes is an error naming the index and the bound; writes raise.
 *
 * The function must return a finite number, otherwise the call fails with an
 * error naming the metric.  A label outside 0..k-1 (0..1 for k == 1) is
 * refused before Lua runs.  n may be 0. */
int nnx_lua_metric(nnx_lua_host *host, const char *name, const int32_t *y,
                   const float *p, size_t n, size_t k, double *out,
                   nnx_lua_error *err);

#endif
