/* run.c — the `run` object a callback receives, and calling the callbacks.
 *
 * One run userdata lives in the registry for the life of the host; its
 * fields read the nnx_lua_run of the call in progress (and raise outside a
 * call, so a `run` a script kept in a global is harmless).  Its user values
 * hold this call's read-only `metrics` and `params` tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "host_impl.h"

#define NAME_MAX_BYTES 64
#define REASON_MAX_BYTES 1024

static const char *const event_names[] = {
    [NNX_LUA_ON_TRAIN_BEGIN] = "on_train_begin",
    [NNX_LUA_ON_EPOCH_BEGIN] = "on_epoch_begin",
    [NNX_LUA_ON_EPOCH_END] = "on_epoch_end",
    [NNX_LUA_ON_TRAIN_END] = "on_train_end",
};

const char *nnx_lua_event_name(nnx_lua_event event)
{
    if ((unsigned)event >= sizeof event_names / sizeof event_names[0])
        return "(unknown event)";
    return event_names[event];
}

void luahost_run_outputs_clear(nnx_lua_host *h)
{
    free(h->stop_reason);
    h->stop_reason = NULL;
    for (size_t i = 0; i < h->nlogged; i++)
        free((char *)h->logged[i].name);
    h->nlogged = 0;
}

/* The run of the call in progress, or an error naming what was asked. */
static nnx_lua_run *current_run(lua_State *L, const char *what)
{
    nnx_lua_run *run = luahost_of(L)->run;
    if (!run)
        luaL_error(L, "run.%s: the run object is only valid inside the callback "
                   "it was given to", what);
    return run;
}

/* The method's self: the run itself (and a hint for run.stop("...")). */
static nnx_lua_run *method_self(lua_State *L, const char *method)
{
    if (!luaL_testudata(L, 1, HOST_RUN_MT))
        luaL_error(L, "run:%s: call it as a method, run:%s(...)", method, method);
    return current_run(L, method);
}

static double finite_number_arg(lua_State *L, int arg, const char *what)
{
    if (lua_type(L, arg) != LUA_TNUMBER)
        luaL_error(L, "%s must be a finite number, got %s", what,
                   lua_isnoneornil(L, arg) ? "no value" : luaL_typename(L, arg));
    double v = lua_tonumber(L, arg);
    if (!isfinite(v))
        luaL_error(L, "%s must be a finite number, got %f", what, v);
    return v;
}

/* run:stop([reason]) */
static int run_stop(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    nnx_lua_run *run = method_self(L, "stop");
    if (run->log_only)
        return luaL_error(L, "run:stop: this search took the hooks file for one that only logs (it "
                             "mentioned neither stop nor set_lr) and left it out of the search's identity");
    const char *reason = "stopped by hook";
    size_t len = strlen(reason);
    if (!lua_isnoneornil(L, 2)) {
        if (lua_type(L, 2) != LUA_TSTRING)
            return luaL_error(L, "run:stop(reason): reason must be a string, got %s",
                              luaL_typename(L, 2));
        reason = lua_tolstring(L, 2, &len);
    }
    if (len > REASON_MAX_BYTES)
        len = REASON_MAX_BYTES;
    char *copy = malloc(len + 1);
    if (!copy)
        return luaL_error(L, "run:stop: out of memory");
    memcpy(copy, reason, len);
    copy[len] = '\0';
    free(h->stop_reason);
    h->stop_reason = copy;
    run->stop = true;
    run->stop_reason = copy;
    return 0;
}

/* A log name becomes a metrics.csv column: keep it plain. */
static const char *log_name_problem(const char *name, size_t len)
{
    if (len == 0)
        return "is empty";
    if (len > NAME_MAX_BYTES)
        return "is longer than 64 bytes";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return "contains a control character";
        if (c == ',' || c == '"')
            return "contains a comma or a quote";
    }
    /* nnx writes these columns itself; a logged value would overwrite them */
    static const char *const own[] = { "epoch", "lr", "seconds" };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (!strcmp(name, own[i]))
            return "is a metrics.csv column nnx writes itself; choose another name";
    static const char *const splits[] = { "train.", "valid.", "test." };
    for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++)
        if (!strncmp(name, splits[i], strlen(splits[i])))
            return "starts with a split name, as nnx's own metric columns do; choose another name";
    return NULL;
}

/* run:log(name, value) */
static int run_log(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    lua_settop(L, 3);
    nnx_lua_run *run = method_self(L, "log");
    if (lua_type(L, 2) != LUA_TSTRING)
        return luaL_error(L, "run:log(name, value): name must be a string, got %s",
                          luaL_typename(L, 2));
    size_t len;
    const char *name = lua_tolstring(L, 2, &len);
    const char *problem = log_name_problem(name, len);
    if (problem)
        return luaL_error(L, "run:log(name, value): name \"%s\" %s", name, problem);
    lua_pushfstring(L, "run:log(\"%s\", value): value", name);
    double value = finite_number_arg(L, 3, lua_tostring(L, -1));

    for (size_t i = 0; i < h->nlogged; i++) {
        if (strcmp(h->logged[i].name, name) == 0) {
            h->logged[i].value = value;
            return 0;
        }
    }
    if (h->nlogged == HOST_MAX_LOGGED)
        return luaL_error(L, "run:log: more than %d names logged in one callback",
                          HOST_MAX_LOGGED);
    char *copy = malloc(len + 1);
    if (!copy)
        return luaL_error(L, "run:log: out of memory");
    memcpy(copy, name, len + 1);
    h->logged[h->nlogged++] = (nnx_lua_logged){ .name = copy, .value = value };
    run->logged = h->logged;
    run->nlogged = h->nlogged;
    return 0;
}

/* run:set_lr(value) */
static int run_set_lr(lua_State *L)
{
    lua_settop(L, 2);
    nnx_lua_run *run = method_self(L, "set_lr");
    if (run->log_only)
        return luaL_error(L, "run:set_lr: this search took the hooks file for one that only logs (it "
                             "mentioned neither stop nor set_lr) and left it out of the search's identity");
    double v = finite_number_arg(L, 2, "run:set_lr(value): value");
    if (!(v > 0))
        return luaL_error(L, "run:set_lr(value): value must be > 0, got %f", v);
    run->lr_set = true;
    run->lr_next = v;
    return 0;
}

static int run_index(lua_State *L)
{
    const char *key = lua_tostring(L, 2);
    if (!key || lua_type(L, 2) != LUA_TSTRING)
        return luaL_error(L, "run has no field %s", luaL_tolstring(L, 2, NULL));
    if (strcmp(key, "stop") == 0) { lua_pushcfunction(L, run_stop); return 1; }
    if (strcmp(key, "log") == 0) { lua_pushcfunction(L, run_log); return 1; }
    if (strcmp(key, "set_lr") == 0) { lua_pushcfunction(L, run_set_lr); return 1; }
    nnx_lua_run *run = current_run(L, key);
    if (strcmp(key, "epoch") == 0)
        lua_pushinteger(L, (lua_Integer)run->epoch);
    else if (strcmp(key, "step") == 0)
        lua_pushinteger(L, (lua_Integer)run->step);
    else if (strcmp(key, "lr") == 0)
        lua_pushnumber(L, run->lr);
    else if (strcmp(key, "seed") == 0)
        lua_pushinteger(L, (lua_Integer)run->seed);
    else if (strcmp(key, "metrics") == 0)
        lua_getiuservalue(L, 1, 1);
    else if (strcmp(key, "params") == 0)
        lua_getiuservalue(L, 1, 2);
    else
        return luaL_error(L, "run has no field '%s' (fields: epoch, step, lr, seed, "
                          "metrics, params; methods: stop, log, set_lr)", key);
    return 1;
}

static int run_newindex(lua_State *L)
{
    return luaL_error(L, "run.%s is read-only (use run:set_lr, run:log, run:stop)",
                      luaL_tolstring(L, 2, NULL));
}

static int run_tostring(lua_State *L)
{
    nnx_lua_run *run = luahost_of(L)->run;
    if (run)
        lua_pushfstring(L, "run (epoch %I, step %I)", (lua_Integer)run->epoch,
                        (lua_Integer)run->step);
    else
        lua_pushliteral(L, "run (finished)");
    return 1;
}

/* A read-only view of a fresh table: writes raise naming `what`. */
static int readonly_newindex(lua_State *L)
{
    return luaL_error(L, "%s is read-only (cannot set '%s')",
                      lua_tostring(L, lua_upvalueindex(1)), luaL_tolstring(L, 2, NULL));
}

static int readonly_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)luaL_len(L, lua_upvalueindex(1)));
    return 1;
}

static int readonly_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int readonly_pairs(lua_State *L)
{
    lua_pushcfunction(L, readonly_next);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushnil(L);
    return 3;
}

/* Replace the table on top of the stack by a read-only proxy of it. */
static void make_readonly(lua_State *L, const char *what)
{
    int data = lua_gettop(L);
    lua_newtable(L);                            /* the proxy */
    lua_createtable(L, 0, 5);                   /* its metatable */
    lua_pushvalue(L, data);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, what);
    lua_pushcclosure(L, readonly_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, data);
    lua_pushcclosure(L, readonly_len, 1);
    lua_setfield(L, -2, "__len");
    lua_pushvalue(L, data);
    lua_pushcclosure(L, readonly_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_replace(L, data);
}

void luahost_run_register(lua_State *L)
{
    luaL_newmetatable(L, HOST_RUN_MT);
    lua_pushcfunction(L, run_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, run_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, run_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "run");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    lua_newuserdatauv(L, 0, 2);
    luaL_setmetatable(L, HOST_RUN_MT);
    lua_setfield(L, LUA_REGISTRYINDEX, HOST_RUN_KEY);
}

struct callback_args {
    nnx_lua_event event;
    nnx_lua_run  *run;
};

/* Body (luahost_call): build this call's tables and call the hook. */
static int call_hook(lua_State *L)
{
    struct callback_args *a = lua_touserdata(L, 1);
    nnx_lua_host *h = luahost_of(L);
    const char *name = nnx_lua_event_name(a->event);
    int type = luahost_push_global(L, name);
    if (type == LUA_TNIL)
        return 0;
    if (type != LUA_TFUNCTION)
        return luaL_error(L, "%s: %s is a %s, expected a function", h->hooks_path,
                          name, lua_typename(L, type));
    int fn = lua_gettop(L);

    lua_getfield(L, LUA_REGISTRYINDEX, HOST_RUN_KEY);
    int obj = lua_gettop(L);
    nnx_lua_run *run = a->run;
    lua_createtable(L, 0, (int)run->nmetrics);
    for (size_t i = 0; i < run->nmetrics; i++) {
        if (!run->metric_names || !run->metric_values || !run->metric_names[i])
            return luaL_error(L, "host: metric %d has no name or value", (int)i);
        lua_pushnumber(L, run->metric_values[i]);
        lua_setfield(L, -2, run->metric_names[i]);
    }
    make_readonly(L, "run.metrics");
    lua_setiuservalue(L, obj, 1);
    lua_createtable(L, 0, (int)run->nparams);
    for (size_t i = 0; i < run->nparams; i++) {
        const nnx_lua_param *p = &run->params[i];
        if (!p->name)
            return luaL_error(L, "host: param %d has no name", (int)i);
        if (p->str)
            lua_pushstring(L, p->str);
        else if (p->num == floor(p->num) && fabs(p->num) < 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)p->num);    /* batch = 128, not 128.0 */
        else
            lua_pushnumber(L, p->num);
        lua_setfield(L, -2, p->name);
    }
    make_readonly(L, "run.params");
    lua_setiuservalue(L, obj, 2);

    h->run = run;
    lua_pushvalue(L, fn);
    lua_pushvalue(L, obj);
    lua_call(L, 1, 0);
    h->run = NULL;
    return 0;
}

int nnx_lua_callback(nnx_lua_host *h, nnx_lua_event event, nnx_lua_run *run,
                     nnx_lua_error *err)
{
    if (!h || !run)
        return luahost_fail(err, "nnx_lua_callback: no host or no run");
    if ((unsigned)event >= sizeof event_names / sizeof event_names[0])
        return luahost_fail(err, "nnx_lua_callback: unknown event %d", (int)event);
    luahost_run_outputs_clear(h);
    run->stop = false;
    run->stop_reason = NULL;
    run->lr_set = false;
    run->lr_next = 0;
    run->logged = h->logged;
    run->nlogged = 0;
    struct callback_args a = { .event = event, .run = run };
    int rc = luahost_call(h, call_hook, &a, event_names[event], err);
    h->run = NULL;
    return rc;
}
