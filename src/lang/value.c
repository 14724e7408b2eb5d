/* value.c — the checker's evaluated values: construction, canonical text, equality. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

ck_val *ck_val_new(ck_arena *a, ck_vkind kind, nnx_loc loc)
{
    ck_val *v = ck_alloc(a, sizeof *v);
    if (v) {
        v->kind = kind;
        v->loc = loc;
    }
    return v;
}

ck_val *ck_val_num(ck_arena *a, double x, nnx_loc loc)
{
    ck_val *v = ck_val_new(a, CK_NUM, loc);
    if (v)
        v->num = x;
    return v;
}

ck_val *ck_val_sym(ck_arena *a, const char *name, nnx_loc loc)
{
    ck_val *v = ck_val_new(a, CK_SYM, loc);
    if (v)
        v->s = name;
    return v;
}

ck_val *ck_val_call0(ck_arena *a, const char *name, nnx_loc loc)
{
    ck_val *v = ck_val_new(a, CK_CALL, loc);
    if (v)
        v->s = name;
    return v;
}

ck_val *ck_val_as_call(ck_arena *a, ck_val *v)
{
    if (!v || v->kind != CK_SYM)
        return v;
    return ck_val_call0(a, v->s, v->loc);
}

bool ck_is_int(double x)
{
    return isfinite(x) && x == floor(x) && fabs(x) <= 9007199254740992.0;
}

const char *ck_vkind_name(ck_vkind k)
{
    switch (k) {
    case CK_NUM: return "a number";
    case CK_STR: return "a string";
    case CK_BOOL: return "a boolean";
    case CK_LIST: return "a list";
    case CK_SYM: return "a name";
    case CK_CALL: return "a call";
    }
    return "a value";
}

/* Shortest text that reads back as the same double. */
void ck_num_write(ck_buf *b, double x)
{
    char tmp[40];
    if (x == 0) {
        ck_buf_puts(b, "0");
        return;
    }
    if (x == floor(x) && fabs(x) < 1e15) {
        ck_buf_printf(b, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    ck_buf_puts(b, tmp);
}

void ck_str_write(ck_buf *b, const char *s)
{
    ck_buf_puts(b, "\"");
    char one[2] = { 0, 0 };
    for (; *s; s++) {
        switch (*s) {
        case '"': ck_buf_puts(b, "\\\""); break;
        case '\\': ck_buf_puts(b, "\\\\"); break;
        case '\n': ck_buf_puts(b, "\\n"); break;
        case '\t': ck_buf_puts(b, "\\t"); break;
        default: one[0] = *s; ck_buf_puts(b, one);
        }
    }
    ck_buf_puts(b, "\"");
}

void ck_val_write(ck_buf *b, const ck_val *v)
{
    switch (v->kind) {
    case CK_NUM:
        ck_num_write(b, v->num);
        break;
    case CK_STR:
        ck_str_write(b, v->s);
        break;
    case CK_BOOL:
        ck_buf_puts(b, v->boolean ? "true" : "false");
        break;
    case CK_SYM:
        ck_buf_puts(b, v->s);
        break;
    case CK_LIST:
        ck_buf_puts(b, "[");
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                ck_buf_puts(b, ", ");
            ck_val_write(b, v->items[i]);
        }
        ck_buf_puts(b, "]");
        break;
    case CK_CALL:
        ck_buf_puts(b, v->s);
        if (!v->nargs)
            break;
        ck_buf_puts(b, "(");
        for (size_t i = 0; i < v->nargs; i++) {
            if (i)
                ck_buf_puts(b, ", ");
            if (v->args[i].name)
                ck_buf_printf(b, "%s = ", v->args[i].name);
            ck_val_write(b, v->args[i].value);
        }
        ck_buf_puts(b, ")");
        break;
    }
}

char *ck_val_text(ck_arena *a, const ck_val *v)
{
    ck_buf b = { 0 };
    ck_val_write(&b, v);
    char *s = b.oom || !b.s ? NULL : ck_strdup(a, b.s);
    free(b.s);
    return s;
}

bool ck_val_equal(const ck_val *x, const ck_val *y)
{
    if (x->kind != y->kind)
        return false;
    switch (x->kind) {
    case CK_NUM: return x->num == y->num;
    case CK_BOOL: return x->boolean == y->boolean;
    case CK_STR:
    case CK_SYM: return !strcmp(x->s, y->s);
    case CK_LIST:
        if (x->n != y->n)
            return false;
        for (size_t i = 0; i < x->n; i++)
            if (!ck_val_equal(x->items[i], y->items[i]))
                return false;
        return true;
    case CK_CALL:
        if (strcmp(x->s, y->s) || x->nargs != y->nargs)
            return false;
        for (size_t i = 0; i < x->nargs; i++) {
            const ck_arg *a = &x->args[i], *b = &y->args[i];
            if ((a->name == NULL) != (b->name == NULL) || (a->name && strcmp(a->name, b->name)) ||
                !ck_val_equal(a->value, b->value))
                return false;
        }
        return true;
    }
    return false;
}
