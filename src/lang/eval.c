/* eval.c — evaluate expressions: constants, let names, network parameters, arithmetic, list helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

enum { MAX_LIST = 100000 };

/* Round to 15 significant digits so that 1e-5·10³ reads 0.01, not 0.010000000000000002. */
static double tidy(double x)
{
    if (x == 0 || !isfinite(x))
        return x;
    /* fast path: scale by an exact power of ten, round, scale back */
    int e10 = (int)floor(log10(fabs(x)));
    int k = 14 - e10;
    if (k >= 0 && k <= 22) {
        double scale = pow(10, k), r = round(x * scale);
        if (fabs(r) < 9007199254740992.0)
            return r / scale;
    } else if (k < 0 && k >= -22) {
        double scale = pow(10, -k);
        return round(x / scale) * scale;
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", x);
    return strtod(tmp, NULL);
}

static ck_val *list_new(ck_arena *a, nnx_loc loc, size_t n)
{
    ck_val *v = ck_val_new(a, CK_LIST, loc);
    if (!v)
        return NULL;
    v->items = n ? ck_alloc(a, n * sizeof *v->items) : NULL;
    if (n && !v->items)
        return NULL;
    v->n = n;
    return v;
}

static ck_val *helper(nnx_checker *c, ck_arena *a, const ck_builtin *b, const ck_val *call)
{
    ck_val *arg[4] = { 0 };
    if (!ck_bind(c, a, call, b->name, b->params, b->nparams, arg))
        return NULL;
    nnx_loc loc = call->loc;
    if (!strcmp(b->name, "env")) {
        const char *val = getenv(arg[0]->s);
        if (!val || !*val) {
            if (!arg[1]) {
                ck_err(c, loc, "environment variable %s is not set", arg[0]->s);
                return NULL;
            }
            return arg[1];
        }
        ck_val *v = ck_val_new(a, CK_STR, loc);
        if (v)
            v->s = ck_strdup(a, val);
        return v;
    }
    double from = arg[0]->num, to = arg[1]->num;
    size_t n = 0;
    if (!strcmp(b->name, "decades")) {
        if (!(from < to)) {
            ck_err(c, loc, "decades needs from < to, got %g and %g", from, to);
            return NULL;
        }
        while (from * pow(10, (double)n) <= to * (1 + 1e-9))
            n++;
        ck_val *v = list_new(a, loc, n);
        for (size_t i = 0; v && i < n; i++)
            v->items[i] = ck_val_num(a, tidy(from * pow(10, (double)i)), loc);
        return v;
    }
    if (!strcmp(b->name, "logspace") || !strcmp(b->name, "linspace")) {
        bool lg = b->name[1] == 'o';
        n = (size_t)arg[2]->num;
        if (n > MAX_LIST) {
            ck_err(c, arg[2]->loc, "%s: n = %zu is too many values (at most %d)", b->name, n, MAX_LIST);
            return NULL;
        }
        ck_val *v = list_new(a, loc, n);
        for (size_t i = 0; v && i < n; i++) {
            double t = n == 1 ? 0 : (double)i / (double)(n - 1);
            double x = lg ? from * pow(to / from, t) : from + (to - from) * t;
            v->items[i] = ck_val_num(a, tidy(x), loc);
        }
        return v;
    }
    /* range(from, to, step) */
    double step = arg[2]->num;
    if (step == 0) {
        ck_err(c, arg[2]->loc, "range: step must not be 0");
        return NULL;
    }
    double count = ceil((to - from) / step - 1e-9);
    if (count < 0)
        count = 0;
    if (count > MAX_LIST) {
        ck_err(c, loc, "range gives %g values, more than %d", count, MAX_LIST);
        return NULL;
    }
    n = (size_t)count;
    ck_val *v = list_new(a, loc, n);
    for (size_t i = 0; v && i < n; i++)
        v->items[i] = ck_val_num(a, tidy(from + step * (double)i), loc);
    return v;
}

static ck_val *eval_let(nnx_checker *c, long idx, nnx_loc use)
{
    const nnx_item *it = c->prog->names[idx];
    switch (c->let_state[idx]) {
    case 2:
        return c->let_val[idx];
    case 3:
        c->nerr++;      /* reported when first evaluated */
        return NULL;
    case 1: {
        nnx_diag *dg = ck_err(c, use, "'%s' is defined in terms of itself", it->name);
        if (dg)
            ck_help(dg, "the cycle goes through 'let %s'", it->name);
        c->let_state[idx] = 3;
        return NULL;
    }
    }
    if (it->syntax_error || !it->value) {   /* the parser reported it */
        c->let_state[idx] = 3;
        c->nerr++;
        return NULL;
    }
    c->let_state[idx] = 1;
    ck_val *v = ck_eval(c, &c->perm, it->value, NULL);
    if (c->let_state[idx] == 3)
        return NULL;
    c->let_state[idx] = v ? 2 : 3;
    c->let_val[idx] = v;
    return v;
}

/* A copy of v located at `loc` (a let used somewhere points at the use). */
static ck_val *relocate(ck_arena *a, const ck_val *v, nnx_loc loc)
{
    ck_val *r = ck_alloc(a, sizeof *r);
    if (r) {
        *r = *v;
        r->loc = loc;
    }
    return r;
}

static ck_val *eval_path(nnx_checker *c, ck_arena *a, const nnx_expr *e, const ck_scope *sc)
{
    const nnx_path *p = &e->u.path;
    const char *first = p->parts[0];
    const ck_val *bound = NULL;
    const char *what = NULL;
    for (size_t i = 0; sc && i < sc->n; i++)
        if (!strcmp(sc->names[i], first)) {
            bound = sc->vals[i];
            what = "parameter";
            if (!bound)
                return NULL;
            break;
        }
    if (!bound) {
        long idx = ck_name_index(c, first);
        if (idx >= 0 && c->prog->names[idx]->kind == NNX_I_LET) {
            bound = eval_let(c, idx, e->loc);
            what = "constant";
            if (!bound)
                return NULL;
        }
    }
    if (bound) {
        if (p->n > 1) {
            ck_err(c, p->locs[1], "%s '%s' is %s; it has no field '%s'", what, first,
                   ck_vkind_name(bound->kind), p->parts[1]);
            return NULL;
        }
        /* a constant points at its use; a network argument keeps the place
         * it was given (the call, a --set, a searched value) */
        return what[0] == 'c' ? relocate(a, bound, e->loc) : (ck_val *)bound;
    }
    size_t len = 0;
    for (size_t i = 0; i < p->n; i++)
        len += strlen(p->parts[i]) + 1;
    char *name = ck_alloc(a, len);
    if (!name)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        if (i)
            strcat(name, ".");
        strcat(name, p->parts[i]);
    }
    return ck_val_sym(a, name, e->loc);
}

static ck_val *arith(nnx_checker *c, ck_arena *a, const nnx_expr *e, ck_val *l, ck_val *r)
{
    char op = e->u.binary.op;
    if (op == '+' && l->kind == CK_STR && r->kind == CK_STR) {
        ck_val *v = ck_val_new(a, CK_STR, e->loc);
        if (v)
            v->s = ck_sprintf(a, "%s%s", l->s, r->s);
        return v;
    }
    if (op == '+' && l->kind == CK_LIST && r->kind == CK_LIST) {
        ck_val *v = list_new(a, e->loc, l->n + r->n);
        if (v) {
            if (l->n)
                memcpy(v->items, l->items, l->n * sizeof *v->items);
            if (r->n)
                memcpy(v->items + l->n, r->items, r->n * sizeof *v->items);
        }
        return v;
    }
    if (l->kind != CK_NUM || r->kind != CK_NUM) {
        const ck_val *bad = l->kind != CK_NUM ? l : r;
        if (op == '+' && (l->kind == CK_STR || r->kind == CK_STR))
            ck_err(c, e->loc, "'+' joins two strings or adds two numbers, not %s and %s",
                   ck_vkind_name(l->kind), ck_vkind_name(r->kind));
        else
            ck_err(c, bad->loc, "'%c' needs numbers, got %s", op, ck_vkind_name(bad->kind));
        return NULL;
    }
    double x;
    switch (op) {
    case '+': x = l->num + r->num; break;
    case '-': x = l->num - r->num; break;
    case '*': x = l->num * r->num; break;
    default:
        if (r->num == 0) {
            ck_err(c, r->loc, "division by zero");
            return NULL;
        }
        x = l->num / r->num;
    }
    if (!isfinite(x)) {
        ck_err(c, e->loc, "the result is too large for a number");
        return NULL;
    }
    return ck_val_num(a, tidy(x), e->loc);
}

ck_val *ck_eval(nnx_checker *c, ck_arena *a, const nnx_expr *e, const ck_scope *sc)
{
    if (!e)
        return NULL;
    switch (e->kind) {
    case NNX_E_NUM:
        if (!isfinite(e->u.num.value)) {
            ck_err(c, e->loc, "number out of range");
            return NULL;
        }
        return ck_val_num(a, e->u.num.value, e->loc);
    case NNX_E_STR: {
        ck_val *v = ck_val_new(a, CK_STR, e->loc);
        if (v)
            v->s = e->u.str;
        return v;
    }
    case NNX_E_BOOL: {
        ck_val *v = ck_val_new(a, CK_BOOL, e->loc);
        if (v)
            v->boolean = e->u.boolean;
        return v;
    }
    case NNX_E_LIST: {
        ck_val *v = list_new(a, e->loc, e->u.list.n);
        bool ok = v != NULL;
        for (size_t i = 0; v && i < e->u.list.n; i++) {
            v->items[i] = ck_eval(c, a, e->u.list.items[i], sc);
            ok &= v->items[i] != NULL;
        }
        return ok ? v : NULL;
    }
    case NNX_E_PATH:
        return eval_path(c, a, e, sc);
    case NNX_E_CALL: {
        const char *name = e->u.call.name;
        long idx = ck_name_index(c, name);
        if (idx >= 0 && c->prog->names[idx]->kind == NNX_I_LET) {
            ck_err(c, e->u.call.name_loc, "'%s' is a constant, not something to call", name);
            return NULL;
        }
        ck_val *v = ck_val_new(a, CK_CALL, e->loc);
        if (!v)
            return NULL;
        v->s = name;
        v->nargs = e->u.call.nargs;
        v->args = v->nargs ? ck_alloc(a, v->nargs * sizeof *v->args) : NULL;
        if (v->nargs && !v->args)
            return NULL;
        bool ok = true;
        for (size_t i = 0; i < v->nargs; i++) {
            const nnx_arg *arg = &e->u.call.args[i];
            v->args[i].name = arg->name;
            v->args[i].name_loc = arg->name_loc;
            v->args[i].value = ck_eval(c, a, arg->value, sc);
            ok &= v->args[i].value != NULL;
        }
        if (!ok)
            return NULL;
        /* only a network is called like a function: an experiment or data
         * block that shares a helper's name (`experiment decades`) leaves
         * the helper callable */
        bool network = idx >= 0 && c->prog->names[idx]->kind == NNX_I_NETWORK;
        const ck_builtin *b = network ? NULL : ck_builtin_find(name, CK_B_HELPER);
        return b ? helper(c, a, b, v) : v;
    }
    case NNX_E_UNARY: {
        ck_val *x = ck_eval(c, a, e->u.unary.operand, sc);
        if (!x)
            return NULL;
        if (x->kind != CK_NUM) {
            ck_err(c, x->loc, "'-' needs a number, got %s", ck_vkind_name(x->kind));
            return NULL;
        }
        return ck_val_num(a, -x->num, e->loc);
    }
    case NNX_E_BINARY: {
        ck_val *l = ck_eval(c, a, e->u.binary.lhs, sc);
        ck_val *r = ck_eval(c, a, e->u.binary.rhs, sc);
        if (!l || !r)
            return NULL;
        return arith(c, a, e, l, r);
    }
    }
    return NULL;
}
