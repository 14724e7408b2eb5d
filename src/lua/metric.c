/* metric.c — Lua metrics: NAME(y, p) over read-only views of the caller's
 * label and probability arrays (nothing is copied into Lua tables).
 *
 * y and p are userdata holding the generation of their call; the arrays
 * themselves are reached through the host, which holds them only while that
 * call runs.  A binary problem (k == 1) shows as two classes (1 - p, p). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "host_impl.h"

typedef struct view {
    uint64_t generation;
} view;

typedef struct row_view {
    uint64_t generation;
    size_t   row;                /* 0-based */
} row_view;

/* The host, if the view's call is still running; else an error. */
static nnx_lua_host *live(lua_State *L, uint64_t generation, const char *what)
{
    nnx_lua_host *h = luahost_of(L);
    if (generation != h->generation || !h->y)
        luaL_error(L, "%s was used after its metric call returned (keep numbers, "
                   "not the views)", what);
    return h;
}

static size_t classes_of(const nnx_lua_host *h)
{
    return h->k == 1 ? 2 : h->k;
}

/* Probability of class c (0-based) in row i, through the binary mapping. */
static double prob(const nnx_lua_host *h, size_t i, size_t c)
{
    if (h->k == 1) {
        double p1 = (double)h->p[i];
        return c == 0 ? 1.0 - p1 : p1;
    }
    return (double)h->p[i * h->k + c];
}

/* A 1-based index argument in 1..len, returned 0-based. */
static size_t index_arg(lua_State *L, int arg, size_t len, const char *what)
{
    int ok = 0;
    lua_Integer i = lua_tointegerx(L, arg, &ok);
    if (!ok || lua_type(L, arg) != LUA_TNUMBER)
        luaL_error(L, "%s[%s]: the index must be an integer", what,
                   luaL_tolstring(L, arg, NULL));
    if (i < 1 || (lua_Unsigned)i > (lua_Unsigned)len)
        luaL_error(L, "%s[%I]: index out of range 1..%I", what, i, (lua_Integer)len);
    return (size_t)(i - 1);
}

static int read_only(lua_State *L)
{
    return luaL_error(L, "%s is read-only", lua_tostring(L, lua_upvalueindex(1)));
}

/* --- y ------------------------------------------------------------------- */

static int y_index(lua_State *L)
{
    view *v = lua_touserdata(L, 1);
    nnx_lua_host *h = live(L, v->generation, "y");
    if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "classes") == 0) {
        lua_pushinteger(L, (lua_Integer)classes_of(h));
        return 1;
    }
    size_t i = index_arg(L, 2, h->n, "y");
    lua_pushinteger(L, (lua_Integer)h->y[i] + 1);
    return 1;
}

static int y_len(lua_State *L)
{
    view *v = lua_touserdata(L, 1);
    lua_pushinteger(L, (lua_Integer)live(L, v->generation, "y")->n);
    return 1;
}

static int y_tostring(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    lua_pushfstring(L, "y (%I labels)", (lua_Integer)(h->y ? h->n : 0));
    return 1;
}

/* --- p[i] -------------------------------------------------------------------- */

static int row_index(lua_State *L)
{
    row_view *r = lua_touserdata(L, 1);
    nnx_lua_host *h = live(L, r->generation, "p[i]");
    int ok = 0;
    lua_Integer c = lua_tointegerx(L, 2, &ok);
    size_t kk = classes_of(h);
    if (!ok || lua_type(L, 2) != LUA_TNUMBER)
        return luaL_error(L, "p[%I][%s]: the class index must be an integer",
                          (lua_Integer)r->row + 1, luaL_tolstring(L, 2, NULL));
    if (c < 1 || (lua_Unsigned)c > (lua_Unsigned)kk)
        return luaL_error(L, "p[%I][%I]: class index out of range 1..%I",
                          (lua_Integer)r->row + 1, c, (lua_Integer)kk);
    lua_pushnumber(L, prob(h, r->row, (size_t)c - 1));
    return 1;
}

static int row_len(lua_State *L)
{
    row_view *r = lua_touserdata(L, 1);
    lua_pushinteger(L, (lua_Integer)classes_of(live(L, r->generation, "p[i]")));
    return 1;
}

/* --- p ----------------------------------------------------------------------- */

static view *p_self(lua_State *L, const char *method)
{
    view *v = luaL_testudata(L, 1, HOST_P_MT);
    if (!v)
        luaL_error(L, "p:%s: call it as a method, p:%s(i)", method, method);
    return v;
}

/* p:row(i) -> {p[i][1], ..., p[i][classes]} */
static int p_row(lua_State *L)
{
    view *v = p_self(L, "row");
    nnx_lua_host *h = live(L, v->generation, "p");
    size_t i = index_arg(L, 2, h->n, "p");
    size_t kk = classes_of(h);
    lua_createtable(L, (int)kk, 0);
    for (size_t c = 0; c < kk; c++) {
        lua_pushnumber(L, prob(h, i, c));
        lua_rawseti(L, -2, (lua_Integer)c + 1);
    }
    return 1;
}

/* p:argmax(i) -> the 1-based class of the largest probability (first on ties) */
static int p_argmax(lua_State *L)
{
    view *v = p_self(L, "argmax");
    nnx_lua_host *h = live(L, v->generation, "p");
    size_t i = index_arg(L, 2, h->n, "p");
    size_t kk = classes_of(h), best = 0;
    double top = prob(h, i, 0);
    for (size_t c = 1; c < kk; c++) {
        double q = prob(h, i, c);
        if (q > top) {
            top = q;
            best = c;
        }
    }
    lua_pushinteger(L, (lua_Integer)best + 1);
    return 1;
}

static int p_index(lua_State *L)
{
    view *v = lua_touserdata(L, 1);
    nnx_lua_host *h = live(L, v->generation, "p");
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *key = lua_tostring(L, 2);
        if (strcmp(key, "classes") == 0)
            lua_pushinteger(L, (lua_Integer)classes_of(h));
        else if (strcmp(key, "row") == 0)
            lua_pushcfunction(L, p_row);
        else if (strcmp(key, "argmax") == 0)
            lua_pushcfunction(L, p_argmax);
        else
            return luaL_error(L, "p has no field '%s' (p[i][k], #p, p.classes, "
                              "p:row(i), p:argmax(i))", key);
        return 1;
    }
    size_t i = index_arg(L, 2, h->n, "p");
    row_view *r = lua_newuserdatauv(L, sizeof *r, 0);
    r->generation = v->generation;
    r->row = i;
    luaL_setmetatable(L, HOST_ROW_MT);
    return 1;
}

static int p_len(lua_State *L)
{
    view *v = lua_touserdata(L, 1);
    lua_pushinteger(L, (lua_Integer)live(L, v->generation, "p")->n);
    return 1;
}

static int p_tostring(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    lua_pushfstring(L, "p (%I rows x %I classes)", (lua_Integer)(h->y ? h->n : 0),
                    (lua_Integer)(h->y ? classes_of(h) : 0));
    return 1;
}

static void new_view_metatable(lua_State *L, const char *tname, const char *shown,
                               lua_CFunction index, lua_CFunction len,
                               lua_CFunction tostring)
{
    luaL_newmetatable(L, tname);
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, len);
    lua_setfield(L, -2, "__len");
    lua_pushstring(L, shown);
    lua_pushcclosure(L, read_only, 1);
    lua_setfield(L, -2, "__newindex");
    if (tostring) {
        lua_pushcfunction(L, tostring);
        lua_setfield(L, -2, "__tostring");
    }
    /* Locked: getmetatable() cannot reach the metamethods, so their first
     * argument is always a view of the right kind. */
    lua_pushstring(L, shown);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

void luahost_metric_register(lua_State *L)
{
    new_view_metatable(L, HOST_Y_MT, "y", y_index, y_len, y_tostring);
    new_view_metatable(L, HOST_P_MT, "p", p_index, p_len, p_tostring);
    new_view_metatable(L, HOST_ROW_MT, "p[i]", row_index, row_len, NULL);
}

/* --- the call ------------------------------------------------------------------ */

struct metric_args {
    const char *name;
    int         fn_type;         /* type of the global NAME */
    int         result_type;     /* type of what it returned */
    double      value;
    char        where[128];      /* "hooks.lua:12" where NAME was defined */
};

static void push_view(lua_State *L, uint64_t generation, const char *tname)
{
    view *v = lua_newuserdatauv(L, sizeof *v, 0);
    v->generation = generation;
    luaL_setmetatable(L, tname);
}

/* Body (luahost_call): NAME(y, p). */
static int call_metric(lua_State *L)
{
    struct metric_args *a = lua_touserdata(L, 1);
    nnx_lua_host *h = luahost_of(L);
    a->fn_type = luahost_push_global(L, a->name);
    if (a->fn_type != LUA_TFUNCTION)
        return 0;
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);
    snprintf(a->where, sizeof a->where, "%s:%d", ar.short_src, ar.linedefined);
    push_view(L, h->generation, HOST_Y_MT);
    push_view(L, h->generation, HOST_P_MT);
    lua_call(L, 2, 1);
    a->result_type = lua_type(L, -1);
    a->value = lua_tonumber(L, -1);
    return 0;
}

int nnx_lua_metric(nnx_lua_host *h, const char *name, const int32_t *y,
                   const float *p, size_t n, size_t k, double *out,
                   nnx_lua_error *err)
{
    if (!h || !name || !out)
        return luahost_fail(err, "nnx_lua_metric: no host, name or result");
    if (k == 0)
        return luahost_fail(err, "lua metric '%s': no classes (k = 0)", name);
    if (n > 0 && (!y || !p))
        return luahost_fail(err, "lua metric '%s': %zu rows but no arrays", name, n);
    size_t kk = k == 1 ? 2 : k;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= kk)
            return luahost_fail(err, "lua metric '%s': label of row %zu is %d, outside "
                             "0..%zu", name, i + 1, (int)y[i], kk - 1);
    }
    char what[128];
    snprintf(what, sizeof what, "lua metric '%s'", name);
    struct metric_args a = { .name = name };
    /* A zero-row metric still gets live (empty) views: y marks liveness. */
    static const int32_t no_labels[1] = { 0 };
    h->y = y ? y : no_labels;
    h->p = p;
    h->n = n;
    h->k = k;
    int rc = luahost_call(h, call_metric, &a, what, err);
    h->y = NULL;
    h->p = NULL;
    h->n = h->k = 0;
    if (rc != 0)
        return rc;
    if (a.fn_type != LUA_TFUNCTION)
        return luahost_fail(err, "lua metric '%s': %s defines no function %s (it is %s)",
                         name, h->hooks_path, name,
                         a.fn_type == LUA_TNIL ? "not defined" : "not a function");
    if (a.result_type != LUA_TNUMBER)
        return luahost_fail(err, "%s: lua metric '%s' returned %s, expected a finite number",
                         a.where, name, a.result_type == LUA_TNONE ? "nothing"
                         : lua_typename(h->L, a.result_type));
    if (!isfinite(a.value))
        return luahost_fail(err, "%s: lua metric '%s' returned %g, expected a finite number",
                         a.where, name, a.value);
    *out = a.value;
    return 0;
}
