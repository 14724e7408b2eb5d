/* host.c — the Lua state of a trial: counting allocator, instruction budget,
 * traceback handler, the protected-call protocol, open and close. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "host_impl.h"

int luahost_fail(nnx_lua_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

nnx_lua_host *luahost_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* "256 MB" when exact, else bytes: for messages. */
static const char *size_text(size_t bytes, char *buf, size_t len)
{
    if (bytes >= ((size_t)1 << 20) && bytes % ((size_t)1 << 20) == 0)
        snprintf(buf, len, "%zu MB", bytes >> 20);
    else
        snprintf(buf, len, "%zu bytes", bytes);
    return buf;
}

/* --- instruction budget ---------------------------------------------------- */

static void on_count(lua_State *L, lua_Debug *ar);

static void arm_count(nnx_lua_host *h, int count)
{
    h->budget_chunk = count;
    lua_sethook(h->L, on_count, LUA_MASKCOUNT, count);
}

/* Arm the next chunk of the budget (the hook's count is an int). */
static void arm_budget(nnx_lua_host *h)
{
    arm_count(h, h->budget_left > INT_MAX ? INT_MAX : (int)h->budget_left);
}

/* The count hook: fires when a chunk of the budget is spent, and at every
 * instruction once the budget is out or the memory cap crossed, so that a
 * script's pcall cannot outlive the error. */
static void on_count(lua_State *L, lua_Debug *ar)
{
    nnx_lua_host *h = luahost_of(L);
    if (!h->budget_out && !h->mem_over) {
        uint64_t spent = (uint64_t)h->budget_chunk;
        h->budget_left = spent < h->budget_left ? h->budget_left - spent : 0;
        if (h->budget_left > 0) {
            arm_budget(h);
            return;
        }
        h->budget_out = true;
    }
    if (h->budget_chunk != 1)
        arm_count(h, 1);
    lua_getinfo(L, "Sl", ar);
    if (h->budget_out) {
        lua_pushfstring(L, "%s:%d: instruction budget of %I exceeded in %s",
                        ar->short_src, ar->currentline, (lua_Integer)h->budget,
                        h->call_what);
    } else {
        char cap[32], used[32];
        lua_pushfstring(L, "%s:%d: memory cap of %s exceeded in %s (%s in use)",
                        ar->short_src, ar->currentline,
                        size_text(h->mem_cap, cap, sizeof cap), h->call_what,
                        size_text(h->mem_used, used, sizeof used));
    }
    lua_error(L);
}

/* --- memory cap -------------------------------------------------------------- */

/* The allocator of the state.  A growth that would cross the cap is refused
 * once (Lua then runs an emergency full GC and asks again); asked again and
 * still over, it is granted up to the ceiling and the hook is armed to stop
 * the script at its next instruction, with a traceback.  Beyond the ceiling
 * it is refused for good (Lua raises "not enough memory"). */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    nnx_lua_host *h = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->mem_used -= old;
        return NULL;
    }
    if (nsize > old) {
        size_t grow = nsize - old;
        if (grow > h->mem_cap - h->mem_used || h->mem_used > h->mem_cap) {
            if (!h->mem_retry && h->L) {
                h->mem_retry = true;
                return NULL;
            }
            h->mem_retry = false;
            bool beyond = grow > h->mem_ceiling - h->mem_used;
            if (!h->mem_over) {
                h->mem_over = true;
                if (h->L)
                    arm_count(h, 1);
            }
            if (beyond) {
                h->mem_refused = nsize;
                return NULL;
            }
        } else {
            h->mem_retry = false;
        }
    }
    void *q = realloc(ptr, nsize);
    if (!q)
        return nsize <= old ? ptr : NULL;   /* a shrink must not fail */
    h->mem_used = h->mem_used - old + nsize;
    return q;
}

size_t nnx_lua_memory_in_use(const nnx_lua_host *h)
{
    return h ? h->mem_used : 0;
}

/* --- protected calls ---------------------------------------------------------- */

/* Message handler: the error (any value) plus the traceback, once. */
int luahost_message_handler(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        /* No __tostring once stopped: the handler may run inside the hook,
         * where Lua code would run unchecked. */
        if (!h->budget_out && !h->mem_over && luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (strstr(msg, "\nstack traceback:\n"))     /* re-raised by require */
        lua_pushstring(L, msg);
    else
        luaL_traceback(L, L, msg, 1);
    return 1;
}

static void call_begin(nnx_lua_host *h, const char *what)
{
    h->call_what = what;
    h->budget_left = h->budget;
    h->budget_out = false;
    h->mem_over = false;
    h->mem_retry = false;
    h->mem_refused = 0;
    arm_budget(h);
}

static void call_end(nnx_lua_host *h)
{
    lua_sethook(h->L, NULL, 0, 0);
    h->generation++;
}

int luahost_call(nnx_lua_host *h, lua_CFunction body, void *args, const char *what,
              nnx_lua_error *err)
{
    lua_State *L = h->L;
    lua_settop(L, 0);
    call_begin(h, what);
    lua_pushcfunction(L, luahost_message_handler);
    lua_pushcfunction(L, body);
    lua_pushlightuserdata(L, args);
    int status = lua_pcall(L, 1, 0, 1);
    call_end(h);

    int rc = 0;
    char cap[32], req[32];
    const char *msg = status != LUA_OK ? lua_tostring(L, -1) : NULL;
    if (status == LUA_ERRMEM && h->mem_refused) {
        rc = luahost_fail(err, "memory cap of %s exceeded in %s: a request for %s was "
                       "refused (no Lua traceback for a refused allocation)",
                       size_text(h->mem_cap, cap, sizeof cap), what,
                       size_text(h->mem_refused, req, sizeof req));
    } else if (status == LUA_ERRMEM) {
        rc = luahost_fail(err, "out of memory in %s", what);
    } else if (h->budget_out && !(msg && strstr(msg, "instruction budget"))) {
        rc = luahost_fail(err, "instruction budget of %llu exceeded in %s%s%s",
                       (unsigned long long)h->budget, what, msg ? "\n" : "", msg ? msg : "");
    } else if (h->mem_over && !(msg && strstr(msg, "memory cap"))) {
        /* crossed in the host's own C code, or the hook's error was replaced */
        rc = luahost_fail(err, "memory cap of %s exceeded in %s%s%s",
                       size_text(h->mem_cap, cap, sizeof cap), what, msg ? "\n" : "",
                       msg ? msg : "");
    } else if (status != LUA_OK) {
        rc = luahost_fail(err, "%s", msg ? msg : "(error without a message)");
    }
    lua_settop(L, 0);
    if (rc != 0)        /* give back what the failed call left (no finalizers) */
        lua_gc(L, LUA_GCCOLLECT);
    return rc;
}

int luahost_push_global(lua_State *L, const char *name)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushstring(L, name);
    int type = lua_rawget(L, -2);
    lua_remove(L, -2);
    return type;
}

/* --- open and close ------------------------------------------------------------ */

struct load_args {
    const char *path;
    char        syntax[sizeof ((nnx_lua_error *)0)->msg];  /* load error, if any */
};

/* Body: load the hooks file as text and run its top level. */
static int load_hooks(lua_State *L)
{
    struct load_args *a = lua_touserdata(L, 1);
    if (luaL_loadfilex(L, a->path, "t") != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        snprintf(a->syntax, sizeof a->syntax, "%s", m ? m : "cannot load hooks");
        return 0;
    }
    lua_call(L, 0, 0);
    return 0;
}

/* The directory part of a path ("." when it has none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, path, len);
        d[len] = '\0';
    }
    return d;
}

nnx_lua_host *nnx_lua_open(const char *hooks_path, const char *stdlib_dir,
                           const nnx_lua_options *options, nnx_lua_error *err)
{
    if (!hooks_path || !*hooks_path) {
        luahost_fail(err, "no hooks file given");
        return NULL;
    }
    nnx_lua_options o = options ? *options : (nnx_lua_options){0};
    nnx_lua_host *h = calloc(1, sizeof *h);
    if (!h) {
        luahost_fail(err, "out of memory opening %s", hooks_path);
        return NULL;
    }
    h->mem_cap = o.mem_bytes ? o.mem_bytes : NNX_LUA_DEFAULT_MEM_BYTES;
    h->mem_ceiling = h->mem_cap > SIZE_MAX / 2 ? SIZE_MAX : 2 * h->mem_cap;
    h->budget = o.instructions ? o.instructions : NNX_LUA_DEFAULT_INSTRUCTIONS;
    h->print = o.print;
    h->print_ctx = o.print_ctx;
    h->hooks_path = strdup(hooks_path);
    h->hooks_dir = dir_of(hooks_path);
    h->stdlib_dir = stdlib_dir ? strdup(stdlib_dir) : NULL;
    if (!h->hooks_path || !h->hooks_dir || (stdlib_dir && !h->stdlib_dir)) {
        nnx_lua_close(h);
        luahost_fail(err, "out of memory opening %s", hooks_path);
        return NULL;
    }
    lua_State *L = lua_newstate(host_alloc, h);
    if (!L) {
        nnx_lua_close(h);
        luahost_fail(err, "cannot create a Lua state for %s (memory cap too small?)",
                  hooks_path);
        return NULL;
    }
    h->L = L;

    lua_Integer seed = (lua_Integer)o.random_seed;
    if (luahost_call(h, luahost_sandbox_open, &seed, "the sandbox setup", err) != 0) {
        nnx_lua_close(h);
        return NULL;
    }
    struct load_args a = { .path = h->hooks_path, .syntax = "" };
    if (luahost_call(h, load_hooks, &a, "the top level of the hooks file", err) != 0) {
        nnx_lua_close(h);
        return NULL;
    }
    if (a.syntax[0]) {
        luahost_fail(err, "%s", a.syntax);
        nnx_lua_close(h);
        return NULL;
    }
    return h;
}

void nnx_lua_close(nnx_lua_host *h)
{
    if (!h)
        return;
    if (h->L)
        lua_close(h->L);
    luahost_run_outputs_clear(h);
    free(h->hooks_path);
    free(h->hooks_dir);
    free(h->stdlib_dir);
    free(h);
}

struct has_args {
    const char *name;
    bool        found;
};

static int has_function(lua_State *L)
{
    struct has_args *a = lua_touserdata(L, 1);
    a->found = luahost_push_global(L, a->name) == LUA_TFUNCTION;
    return 0;
}

struct names_args {
    char        *buf;
    size_t       cap, used;
    const char **names;
    size_t       max, n;
};

static int function_names(lua_State *L)
{
    struct names_args *a = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        /* the file's own functions, not the libraries' (print, pairs: C functions) */
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION &&
            !lua_iscfunction(L, -1) && a->n < a->max) {
            size_t len;
            const char *s = lua_tolstring(L, -2, &len);
            if (a->used + len + 1 <= a->cap) {
                memcpy(a->buf + a->used, s, len + 1);
                a->names[a->n++] = a->buf + a->used;
                a->used += len + 1;
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

size_t nnx_lua_function_names(const nnx_lua_host *host, char *buf, size_t cap,
                              const char **names, size_t max)
{
    if (!host)
        return 0;
    struct names_args a = { .buf = buf, .cap = cap, .names = names, .max = max };
    nnx_lua_host *h = (nnx_lua_host *)host;
    return luahost_call(h, function_names, &a, "a function listing", NULL) == 0 ? a.n : 0;
}

bool nnx_lua_has_function(const nnx_lua_host *host, const char *name)
{
    if (!host || !name)
        return false;
    struct has_args a = { .name = name, .found = false };
    /* The state changes (a stack, perhaps a string), the host's meaning not. */
    nnx_lua_host *h = (nnx_lua_host *)host;
    return luahost_call(h, has_function, &a, "a function lookup", NULL) == 0 && a.found;
}
