/* sandbox.c — what a hooks file may use: five standard libraries, with the
 * functions that reach outside the state removed or replaced, and a
 * `require` confined to the stdlib directory and the hooks file's own. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "host_impl.h"

/* dofile, loadfile: present only to say why they are missing. */
static int refuse_file_access(lua_State *L)
{
    return luaL_error(L, "%s is not available in nnx hooks (no file access; "
                      "use require for modules beside the hooks file)",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* The end of a wrapper whose check passed: call the function it wraps
 * (upvalue 1) with the wrapper's arguments; return its one result. */
static int call_original(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to text. */
static int sandbox_load(lua_State *L)
{
    int n = lua_gettop(L);
    if (n >= 3 && !lua_isnil(L, 3)) {
        const char *mode = luaL_checkstring(L, 3);
        if (strchr(mode, 'b'))
            return luaL_error(L, "load: binary chunks are not allowed in nnx hooks "
                              "(mode \"%s\")", mode);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    if (n >= 2)
        lua_pushvalue(L, 2);
    else
        lua_pushnil(L);
    lua_pushliteral(L, "t");
    int nargs = 3;
    if (n >= 4) {                       /* an explicit nil env is not "no env" */
        lua_pushvalue(L, 4);
        nargs = 4;
    }
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L) - n;
}

/* setmetatable(t, mt) refusing __gc: no finalizers, so no Lua code runs
 * outside a call (at close, or in the host's own C code). */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc finalizers are not allowed in nnx hooks");
        lua_pop(L, 1);
    }
    return call_original(L);
}

/* The message handler xpcall really installs: the script's own handler,
 * except for the host's budget and memory errors.  Those are raised inside
 * the count hook, where Lua runs a handler with hooks off, so a looping
 * handler would never be stopped. */
static int guarded_handler(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    if (h->budget_out || h->mem_over)
        return 1;
    return call_original(L);
}

/* xpcall(f, msgh, ...) with msgh guarded as above. */
static int sandbox_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* collectgarbage: only the options that cannot change how the host runs. */
static int sandbox_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "collect") == 0) {
        lua_gc(L, LUA_GCCOLLECT);
        lua_pushinteger(L, 0);
    } else if (strcmp(opt, "count") == 0) {
        int kb = lua_gc(L, LUA_GCCOUNT), b = lua_gc(L, LUA_GCCOUNTB);
        lua_pushnumber(L, (lua_Number)kb + (lua_Number)b / 1024);
    } else if (strcmp(opt, "step") == 0) {
        lua_pushboolean(L, lua_gc(L, LUA_GCSTEP, (int)luaL_optinteger(L, 2, 0)));
    } else if (strcmp(opt, "isrunning") == 0) {
        lua_pushboolean(L, lua_gc(L, LUA_GCISRUNNING));
    } else {
        return luaL_error(L, "collectgarbage(\"%s\") is not available in nnx hooks "
                          "(allowed: collect, count, step, isrunning)", opt);
    }
    return 1;
}

/* print: the arguments joined by tabs, handed to the caller's print. */
static int sandbox_print(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *line = lua_tolstring(L, -1, &len);
    if (h->print)
        h->print(h->print_ctx, line, len);
    return 0;
}

/* A module name is dotted identifiers: "nnx.metrics", "util". */
static bool module_name_ok(const char *name)
{
    bool start = true;
    for (const char *c = name; *c; c++) {
        if (*c == '.') {
            if (start)
                return false;
            start = true;
        } else if (isalpha((unsigned char)*c) || *c == '_'
                   || (!start && isdigit((unsigned char)*c))) {
            start = false;
        } else {
            return false;
        }
    }
    return !start;
}

/* require(name): nnx.* from the stdlib directory, anything else beside the
 * hooks file; text only; each module runs once (its value is cached). */
static int sandbox_require(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    const char *name = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    if (!module_name_ok(name) || strlen(name) > 200)
        return luaL_error(L, "require \"%s\": not allowed: a module is named by dotted "
                          "identifiers (like nnx.metrics or util) and found in the "
                          "stdlib or beside the hooks file", name);
    lua_getfield(L, LUA_REGISTRYINDEX, HOST_LOADED_KEY);          /* 2 */
    if (lua_getfield(L, 2, name) != LUA_TNIL) {
        if (lua_touserdata(L, -1) == (void *)h)
            return luaL_error(L, "require \"%s\": the module requires itself "
                              "(a loop of requires)", name);
        return 1;
    }
    lua_pop(L, 1);

    bool std = strncmp(name, "nnx.", 4) == 0;
    const char *dir = std ? h->stdlib_dir : h->hooks_dir;
    if (!dir)
        return luaL_error(L, "require \"%s\": no stdlib directory was given", name);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, dir);
    luaL_addchar(&b, '/');
    for (const char *c = name; *c; c++)
        luaL_addchar(&b, *c == '.' ? '/' : *c);
    luaL_addstring(&b, ".lua");
    luaL_pushresult(&b);                                           /* 3 */
    const char *path = lua_tostring(L, 3);

    FILE *f = fopen(path, "r");
    if (!f)
        return luaL_error(L, "require \"%s\": module not found: no file '%s' (%s)",
                          name, path, strerror(errno));
    fclose(f);
    if (luaL_loadfilex(L, path, "t") != LUA_OK)                    /* 4 */
        return lua_error(L);

    lua_pushlightuserdata(L, h);                 /* "being loaded" marker */
    lua_setfield(L, 2, name);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    /* Run it protected so the marker can be removed on failure; the error
     * (already carrying its traceback) is raised again as it was. */
    lua_pushvalue(L, lua_upvalueindex(1));       /* the message handler */
    lua_insert(L, 4);
    int status = lua_pcall(L, 2, 1, 4);
    if (status != LUA_OK) {
        lua_pushnil(L);
        lua_setfield(L, 2, name);
        return lua_error(L);
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

/* string.rep refusing a result larger than the memory cap up front, so the
 * error is an ordinary one with a traceback. */
static int sandbox_rep(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    size_t len, seplen = 0;
    luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &seplen);
    if (n > 0 && len + seplen == 0) {   /* Lua would loop n times copying nothing */
        lua_pushliteral(L, "");
        return 1;
    }
    if (n > 0) {
        double total = (double)len * (double)n + (double)seplen * (double)(n - 1);
        if (total > (double)h->mem_cap)
            return luaL_error(L, "string.rep: a result of %f bytes exceeds the memory "
                              "cap of %I bytes", total, (lua_Integer)h->mem_cap);
    }
    return call_original(L);
}

/* table.move(a1, f, e, t [, a2]) refusing more elements than the instruction
 * budget: moving absent (nil) elements allocates nothing, so only this
 * bound stops table.move({}, 1, 1 << 40, 2) looping in C for hours. */
static int sandbox_move(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    if (e >= f && (lua_Unsigned)e - (lua_Unsigned)f >= h->budget)
        return luaL_error(L, "table.move: %I elements are more than nnx hooks move at "
                          "once (the instruction budget, %I)",
                          (lua_Integer)((lua_Unsigned)e - (lua_Unsigned)f + 1),
                          (lua_Integer)h->budget);
    return call_original(L);
}

static void set_closure(lua_State *L, int table, const char *name, lua_CFunction fn,
                        const char *original)
{
    if (original)
        lua_getfield(L, table, original);
    lua_pushcclosure(L, fn, original ? 1 : 0);
    lua_setfield(L, table, name);
}

/* Body (luahost_call): the libraries, the replacements, the seed. */
int luahost_sandbox_open(lua_State *L)
{
    lua_Integer seed = *(lua_Integer *)lua_touserdata(L, 1);
    static const luaL_Reg libs[] = {
        { LUA_GNAME, luaopen_base },
        { LUA_TABLIBNAME, luaopen_table },
        { LUA_STRLIBNAME, luaopen_string },
        { LUA_MATHLIBNAME, luaopen_math },
        { LUA_UTF8LIBNAME, luaopen_utf8 },
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int g = lua_gettop(L);

    static const char *const file_functions[] = { "dofile", "loadfile" };
    for (size_t i = 0; i < 2; i++) {
        lua_pushstring(L, file_functions[i]);
        lua_pushcclosure(L, refuse_file_access, 1);
        lua_setfield(L, g, file_functions[i]);
    }
    set_closure(L, g, "load", sandbox_load, "load");
    set_closure(L, g, "setmetatable", sandbox_setmetatable, "setmetatable");
    set_closure(L, g, "xpcall", sandbox_xpcall, "xpcall");
    set_closure(L, g, "collectgarbage", sandbox_collectgarbage, NULL);
    set_closure(L, g, "print", sandbox_print, NULL);

    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, HOST_LOADED_KEY);
    lua_pushcfunction(L, luahost_message_handler);
    lua_pushcclosure(L, sandbox_require, 1);
    lua_setfield(L, g, "require");

    lua_getfield(L, g, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    set_closure(L, lua_gettop(L), "rep", sandbox_rep, "rep");
    luahost_pattern_guard_install(L, lua_gettop(L));
    lua_pop(L, 1);

    lua_getfield(L, g, LUA_TABLIBNAME);
    set_closure(L, lua_gettop(L), "move", sandbox_move, "move");
    lua_pop(L, 1);

    lua_getfield(L, g, LUA_MATHLIBNAME);
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, seed);
    lua_call(L, 1, 0);
    lua_pop(L, 1);

    luahost_run_register(L);
    luahost_metric_register(L);
    return 0;
}
