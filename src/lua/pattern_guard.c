/* pattern_guard.c — string.find/match/gmatch/gsub refuse a pattern whose
 * worst case on the given subject is too much work for the C matcher.
 *
 * The instruction budget counts Lua instructions only; Lua's pattern matcher
 * runs in C and backtracks, so ("a"):rep(1e5):find(".-.-.-b") would run for
 * hours without a single counted instruction.  Lua patterns cannot nest
 * quantifiers, so the worst case is a polynomial in the subject length n:
 *
 *     starts (n+1, or 1 when anchored by ^)
 *   x (n+1) per *, + or - quantifier that has something after it
 *   x (n+1) per %b or back reference %1-%9
 *   x 2 per ? quantifier
 *   x the number of items of the pattern
 *
 * (a plain find: (n+1) x pattern length).  Above 10 x the instruction budget
 * the call is an error that says why; below, the real matcher runs.  Cheap
 * patterns on short strings, which is what hooks do, are never refused. */
#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "host_impl.h"

#define WORK_PER_INSTRUCTION 10.0

/* Index just past the set starting at p[i] == '[' (Lua's own reading:
 * a ']' right after '[' or '[^' is a member). */
static size_t set_end(const char *p, size_t m, size_t i)
{
    size_t j = i + 1;
    if (j < m && p[j] == '^')
        j++;
    do {
        if (j >= m)
            return m;
        if (p[j++] == '%' && j < m)
            j++;
    } while (j < m && p[j] != ']');
    return j < m ? j + 1 : m;
}

/* Worst-case matcher steps for pattern p (m bytes) on n bytes of subject. */
static double pattern_cost(const char *p, size_t m, size_t n, bool plain, bool may_anchor)
{
    double len = (double)n + 1;
    if (plain)
        return len * (double)(m ? m : 1);
    size_t i = 0;
    double starts = len;
    if (may_anchor && m > 0 && p[0] == '^') {
        starts = 1;
        i = 1;
    }
    int factors = 0, opts = 0, items = 0;
    bool tail_quantified = false;       /* the last item has a * + - and nothing follows */
    while (i < m) {
        char c = p[i];
        if (c == '(' || c == ')' || (c == '$' && i + 1 == m)) {
            i++;
            continue;
        }
        size_t end;
        if (c == '%' && i + 1 < m && p[i + 1] == 'b') {
            items++, factors++, tail_quantified = false;
            i += 4;
            continue;
        }
        if (c == '%' && i + 1 < m && p[i + 1] == 'f') {
            items++, tail_quantified = false;
            i += 2;
            i = i < m && p[i] == '[' ? set_end(p, m, i) : i + 1;
            continue;
        }
        if (c == '%' && i + 1 < m && p[i + 1] >= '0' && p[i + 1] <= '9') {
            items++, factors++, tail_quantified = false;
            i += 2;
            continue;
        }
        if (c == '%')
            end = i + 2;
        else if (c == '[')
            end = set_end(p, m, i);
        else
            end = i + 1;
        items++;
        tail_quantified = false;
        if (end < m && (p[end] == '*' || p[end] == '+' || p[end] == '-')) {
            factors++;
            tail_quantified = true;
            end++;
        } else if (end < m && p[end] == '?') {
            opts++;
            end++;
        }
        i = end;
        /* only closing captures after the last quantified item: no backtracking into it */
        if (tail_quantified) {
            size_t k = i;
            while (k < m && p[k] == ')')
                k++;
            if (k < m)
                tail_quantified = false;
        }
    }
    if (tail_quantified)
        factors--;
    double cost = starts * (items ? items : 1);
    for (int f = 0; f < factors && isfinite(cost); f++)
        cost *= len;
    for (int o = 0; o < opts && o < 64; o++)
        cost *= 2;
    return cost;
}

enum { FIND, MATCH, GMATCH, GSUB };

/* The wrapper: upvalues are the original function and its kind. */
static int guarded_pattern_call(lua_State *L)
{
    nnx_lua_host *h = luahost_of(L);
    int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
    static const char *const names[] = { "string.find", "string.match",
                                         "string.gmatch", "string.gsub" };
    size_t n, m;
    luaL_checklstring(L, 1, &n);
    const char *pat = luaL_checklstring(L, 2, &m);
    bool plain = kind == FIND && lua_toboolean(L, 4);
    double cost = pattern_cost(pat, m, n, plain, kind != GMATCH);
    double allowed = (double)h->budget * WORK_PER_INSTRUCTION;
    if (cost > allowed) {
        char msg[256];      /* lua_pushfstring has neither %g nor a precision */
        snprintf(msg, sizeof msg, "%s: pattern \"%.40s%s\" could take up to %.3g matcher "
                 "steps on a string of %zu bytes, more than nnx hooks allow (%.3g); use "
                 "a simpler pattern or a shorter string", names[kind], pat,
                 m > 40 ? "..." : "", cost, n, allowed);
        return luaL_error(L, "%s", msg);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

void luahost_pattern_guard_install(lua_State *L, int string_table)
{
    static const char *const fields[] = { "find", "match", "gmatch", "gsub" };
    for (int kind = FIND; kind <= GSUB; kind++) {
        lua_getfield(L, string_table, fields[kind]);
        lua_pushinteger(L, kind);
        lua_pushcclosure(L, guarded_pattern_call, 2);
        lua_setfield(L, string_table, fields[kind]);
    }
}
