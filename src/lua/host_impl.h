/* host_impl.h — what the files of the Lua host share: the host struct and its
 * protected-call protocol.  Private to src/lua/; its external names start
 * with luahost_ so they cannot clash with the rest of libnnx.a.
 *
 * Every entry point that touches the Lua state does it inside one protected
 * call (luahost_call): a C "body" function runs under lua_pcall with the
 * traceback message handler, after the instruction budget and the memory
 * flags were reset.  So a memory error or a metamethod error can never reach
 * Lua's panic function, and every Lua error has a traceback.
 */
#ifndef NNX_LUA_HOST_IMPL_H
#define NNX_LUA_HOST_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "nnx/lua_host.h"

/* Registry keys (strings, to be readable in a debugger). */
#define HOST_LOADED_KEY "nnx.loaded"   /* require's table: name -> module value */
#define HOST_RUN_KEY    "nnx.run.obj"  /* the one run userdata of the host */
#define HOST_RUN_MT     "nnx.run"      /* metatables (luaL_newmetatable names) */
#define HOST_Y_MT       "nnx.y"
#define HOST_P_MT       "nnx.p"
#define HOST_ROW_MT     "nnx.p.row"

#define HOST_MAX_LOGGED 256            /* distinct run:log names per call */

/* Owns: L (lua_close), the three path strings, stop_reason, logged[] and
 * each logged[i].name (all malloc'd; freed at the next call or at close). */
struct nnx_lua_host {
    lua_State *L;

    /* memory cap: the allocator counts every byte of the state */
    size_t mem_used, mem_cap, mem_ceiling;  /* ceiling = 2 * cap */
    bool   mem_over;        /* an allocation crossed the cap in this call */
    bool   mem_retry;       /* the last crossing request was refused once so
                               that Lua runs an emergency GC and retries */
    size_t mem_refused;     /* bytes of a request refused beyond the ceiling */

    /* instruction budget of the current call */
    uint64_t budget;        /* per call */
    uint64_t budget_left;   /* not yet counted down */
    int      budget_chunk;  /* count the hook is armed with now */
    bool     budget_out;

    const char *call_what;  /* "on_epoch_end", "lua metric 'f1'": for messages */
    uint64_t    generation; /* bumped after every call: stale views see it */

    char *hooks_path, *hooks_dir, *stdlib_dir;
    void (*print)(void *print_ctx, const char *line, size_t len);
    void  *print_ctx;

    /* during a callback: its run (NULL otherwise) */
    nnx_lua_run *run;
    /* during a metric call: the borrowed arrays (NULL otherwise) */
    const int32_t *y;
    const float   *p;
    size_t n, k;            /* k as the caller gave it (1: binary) */

    /* outputs of the last callback */
    char           *stop_reason;
    nnx_lua_logged  logged[HOST_MAX_LOGGED];
    size_t          nlogged;
};

/* The host of a state (it is the allocator's userdata). */
nnx_lua_host *luahost_of(lua_State *L);

/* Run body(L) with a light userdata `args` as its only argument, under a
 * fresh budget and the traceback handler.  `what` names the call in
 * messages.  Returns 0, or -1 with err filled from the Lua error. */
int luahost_call(nnx_lua_host *h, lua_CFunction body, void *args, const char *what,
              nnx_lua_error *err);

/* The message handler of every protected call: the error as text plus the
 * traceback (added once: a message that has one is passed through). */
int luahost_message_handler(lua_State *L);

/* Fill err (may be NULL) from a printf format; returns -1. */
int luahost_fail(nnx_lua_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Push the global `name` without metamethods (rawget on _G). */
int luahost_push_global(lua_State *L, const char *name);

/* Body of luahost_call that sets the sandbox up (sandbox.c). */
int luahost_sandbox_open(lua_State *L);
/* Bodies registering the metatables (run.c, metric.c), called by luahost_sandbox_open. */
void luahost_run_register(lua_State *L);
void luahost_metric_register(lua_State *L);
/* Replace string.find/match/gmatch/gsub in the table at `string_table` by
 * versions that refuse patterns too costly for their subject (pattern_guard.c). */
void luahost_pattern_guard_install(lua_State *L, int string_table);
/* Forget the outputs of the previous callback (run.c); also used by close. */
void luahost_run_outputs_clear(nnx_lua_host *h);

#endif
