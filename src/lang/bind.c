/* bind.c — match a call's arguments to a builtin's parameters; check types and ranges. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lang/check_int.h"

static bool has_default(const ck_param *p)
{
    if (p->ty == CK_T_STR || p->ty == CK_T_SYM)
        return p->dstr != NULL;
    if (p->ty == CK_T_INT_OR_SYM && p->dstr)
        return true;
    return !isnan(p->dnum);
}

void ck_range_text(const ck_param *p, char *buf, size_t size)
{
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%g", p->lo);
    snprintf(hi, sizeof hi, "%g", p->hi);
    bool l = p->range & CK_R_LO, h = p->range & CK_R_HI;
    if (l && h)
        snprintf(buf, size, "in %c%s, %s%c", p->range & CK_R_LO_OPEN ? '(' : '[', lo, hi,
                 p->range & CK_R_HI_OPEN ? ')' : ']');
    else if (l)
        snprintf(buf, size, "%s %s", p->range & CK_R_LO_OPEN ? ">" : ">=", lo);
    else if (h)
        snprintf(buf, size, "%s %s", p->range & CK_R_HI_OPEN ? "<" : "<=", hi);
    else
        snprintf(buf, size, "any");
}

static bool in_range(const ck_param *p, double x)
{
    if (p->range & CK_R_LO) {
        if (p->range & CK_R_LO_OPEN ? !(x > p->lo) : !(x >= p->lo))
            return false;
    }
    if (p->range & CK_R_HI) {
        if (p->range & CK_R_HI_OPEN ? !(x < p->hi) : !(x <= p->hi))
            return false;
    }
    return true;
}

/* "adam: lr" or "epochs" */
static void label(char *buf, size_t size, const char *what, const ck_param *p)
{
    if (what)
        snprintf(buf, size, "%s: %s", what, p->name);
    else
        snprintf(buf, size, "%s", p->name);
}

static bool check_num(nnx_checker *c, const ck_val *v, const char *lab, const ck_param *p, bool integer)
{
    if (v->kind != CK_NUM) {
        ck_err(c, v->loc, "%s must be %s, got %s", lab, integer ? "an integer" : "a number",
               ck_vkind_name(v->kind));
        return false;
    }
    if (integer && !ck_is_int(v->num)) {
        ck_err(c, v->loc, "%s must be an integer, got %g", lab, v->num);
        return false;
    }
    if (integer && fabs(v->num) > 2147483647.0 && strcmp(p->name, "seed")) {
        ck_err(c, v->loc, "%s is too large: %g", lab, v->num);
        return false;
    }
    if (!in_range(p, v->num)) {
        char r[64];
        ck_range_text(p, r, sizeof r);
        ck_err(c, v->loc, "%s must be %s, got %g", lab, r, v->num);
        return false;
    }
    return true;
}

static bool sym_ok(nnx_checker *c, const ck_val *v, const char *lab, const ck_param *p)
{
    for (const char *const *s = p->syms; s && *s; s++)
        if (!strcmp(*s, v->s))
            return true;
    size_t n = 0;
    while (p->syms && p->syms[n])
        n++;
    char list[256] = "";
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? " | " : "", p->syms[i]);
    }
    nnx_diag *dg = ck_err_suggest(c, v->loc, v->s, (const char *const *)p->syms, n,
                                  "unknown %s '%s'", lab, v->s);
    if (dg && !dg->help)
        ck_help(dg, "expected one of: %s", list);
    return false;
}

bool ck_check_param(nnx_checker *c, const ck_val *v, const char *what, const ck_param *p)
{
    char lab[128];
    label(lab, sizeof lab, what, p);
    switch (p->ty) {
    case CK_T_NUM:
        return check_num(c, v, lab, p, false);
    case CK_T_INT:
        return check_num(c, v, lab, p, true);
    case CK_T_BOOL:
        if (v->kind == CK_BOOL)
            return true;
        ck_err(c, v->loc, "%s must be true or false, got %s", lab, ck_vkind_name(v->kind));
        return false;
    case CK_T_STR:
        if (v->kind == CK_STR)
            return true;
        ck_err(c, v->loc, "%s must be a string, got %s", lab, ck_vkind_name(v->kind));
        return false;
    case CK_T_SYM:
        if (v->kind == CK_SYM)
            return sym_ok(c, v, lab, p);
        ck_err(c, v->loc, "%s must be a name, got %s", lab, ck_vkind_name(v->kind));
        return false;
    case CK_T_INT_OR_SYM:
        if (v->kind == CK_SYM)
            return sym_ok(c, v, lab, p);
        return check_num(c, v, lab, p, true);
    case CK_T_INT_OR_STR:
        if (v->kind == CK_STR || (v->kind == CK_SYM && !strcmp(v->s, "none")))
            return true;
        if (v->kind == CK_SYM) {
            ck_err(c, v->loc, "%s must be a column name (a string), an index or none, got '%s'",
                   lab, v->s);
            return false;
        }
        return check_num(c, v, lab, p, true);
    case CK_T_NUM_LIST:
    case CK_T_INT_LIST:
        if (v->kind != CK_LIST) {
            ck_err(c, v->loc, "%s must be %s, got %s", lab, ck_ty_noun(p->ty), ck_vkind_name(v->kind));
            return false;
        } else {
            bool ok = true;
            for (size_t i = 0; i < v->n; i++)
                ok &= check_num(c, v->items[i], lab, p, p->ty == CK_T_INT_LIST);
            return ok;
        }
    case CK_T_INT_OR_LIST:
        if (v->kind == CK_LIST) {
            bool ok = true;
            for (size_t i = 0; i < v->n; i++)
                ok &= check_num(c, v->items[i], lab, p, true);
            return ok;
        }
        return check_num(c, v, lab, p, true);
    case CK_T_METRIC:
    case CK_T_NAME:
        if (v->kind == CK_SYM)
            return true;
        ck_err(c, v->loc, "%s must be %s, got %s", lab, ck_ty_noun(p->ty), ck_vkind_name(v->kind));
        return false;
    case CK_T_ANY:
        return true;
    }
    return true;
}

static ck_val *default_val(ck_arena *a, const ck_param *p, nnx_loc loc)
{
    if (!has_default(p))
        return NULL;
    switch (p->ty) {
    case CK_T_BOOL: {
        ck_val *v = ck_val_new(a, CK_BOOL, loc);
        if (v)
            v->boolean = p->dnum != 0;
        return v;
    }
    case CK_T_STR: {
        ck_val *v = ck_val_new(a, CK_STR, loc);
        if (v)
            v->s = p->dstr;
        return v;
    }
    case CK_T_SYM:
        return ck_val_sym(a, p->dstr, loc);
    case CK_T_INT_OR_SYM:
        return p->dstr ? ck_val_sym(a, p->dstr, loc) : ck_val_num(a, p->dnum, loc);
    default:
        return ck_val_num(a, p->dnum, loc);
    }
}

static void param_list(char *buf, size_t size, const ck_param *params, size_t n)
{
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", i ? ", " : "", params[i].name);
    }
}

bool ck_bind(nnx_checker *c, ck_arena *a, const ck_val *call, const char *what,
             const ck_param *params, size_t nparams, ck_val **out)
{
    bool ok = true;
    const ck_val *given[64] = { 0 };
    if (nparams > 64)
        nparams = 64;
    size_t pos = 0;
    const char *names[64];
    for (size_t i = 0; i < nparams; i++)
        names[i] = params[i].name;
    for (size_t i = 0; i < call->nargs; i++) {
        const ck_arg *arg = &call->args[i];
        size_t k;
        if (!arg->name) {
            k = pos++;
            if (k >= nparams) {
                char list[256];
                param_list(list, sizeof list, params, nparams);
                if (nparams)
                    ck_err(c, arg->value->loc, "too many arguments: %s takes at most %zu (%s)", what,
                           nparams, list);
                else
                    ck_err(c, arg->value->loc, "too many arguments: %s takes none", what);
                ok = false;
                continue;
            }
        } else {
            for (k = 0; k < nparams && strcmp(params[k].name, arg->name); k++)
                ;
            if (k == nparams) {
                nnx_diag *dg = ck_err_suggest(c, arg->name_loc, arg->name, names, nparams,
                                              "%s has no argument '%s'", what, arg->name);
                if (dg && !dg->help && nparams) {
                    char list[256];
                    param_list(list, sizeof list, params, nparams);
                    ck_help(dg, "its arguments are: %s", list);
                }
                ok = false;
                continue;
            }
            if (given[k] && !arg->override) {
                ck_err(c, arg->name_loc, "%s: argument '%s' is given twice", what, arg->name);
                ok = false;
                continue;
            }
        }
        given[k] = arg->value;
    }
    for (size_t k = 0; k < nparams; k++) {
        if (given[k]) {
            if (!ck_check_param(c, given[k], what, &params[k]))
                ok = false;
            out[k] = (ck_val *)given[k];
        } else if (params[k].required) {
            ck_err(c, call->loc, "%s needs argument '%s'", what, params[k].name);
            ok = false;
            out[k] = NULL;
        } else {
            out[k] = default_val(a, &params[k], call->loc);
        }
    }
    return ok;
}
