/* ast.c — building, copying and freeing the syntax tree of an .nnx file. */
#include <stdlib.h>
#include <string.h>

#include "nnx/ast.h"

bool nnx_array_push(void *arr, size_t *n, size_t size, const void *elem)
{
    char **p = arr;
    /* The capacity is the next power of two: grow when n is 0 or a power of 2. */
    if (*n == 0 || (*n & (*n - 1)) == 0) {
        size_t cap = *n ? *n * 2 : 4;
        char *grown = realloc(*p, cap * size);
        if (!grown)
            return false;
        *p = grown;
    }
    memcpy(*p + *n * size, elem, size);
    (*n)++;
    return true;
}

const char *nnx_loc_text(nnx_loc loc)
{
    return loc.src ? loc.src->text + loc.begin : "";
}

/* --- paths ---------------------------------------------------------------- */

bool nnx_path_push(nnx_path *p, char *part, nnx_loc loc)
{
    size_t n = p->n;
    if (!nnx_array_push(&p->parts, &n, sizeof part, &part)) {
        free(part);
        return false;
    }
    n = p->n;
    if (!nnx_array_push(&p->locs, &n, sizeof loc, &loc)) {
        free(part);     /* undo the first push: the part is not kept */
        return false;
    }
    p->n = n;
    return true;
}

void nnx_path_free(nnx_path *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->parts[i]);
    free(p->parts);
    free(p->locs);
    p->parts = NULL;
    p->locs = NULL;
    p->n = 0;
}

char *nnx_path_str(const nnx_path *p)
{
    size_t len = 1;
    for (size_t i = 0; i < p->n; i++)
        len += strlen(p->parts[i]) + 1;
    char *s = malloc(len), *w = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        if (i)
            *w++ = '.';
        size_t k = strlen(p->parts[i]);
        memcpy(w, p->parts[i], k);
        w += k;
    }
    *w = '\0';
    return s;
}

static bool path_copy(nnx_path *dst, const nnx_path *src)
{
    *dst = (nnx_path){0};
    for (size_t i = 0; i < src->n; i++) {
        char *part = strdup(src->parts[i]);
        if (!part || !nnx_path_push(dst, part, src->locs[i])) {
            nnx_path_free(dst);
            return false;
        }
    }
    return true;
}

/* --- expressions ---------------------------------------------------------- */

static nnx_expr *expr_new(nnx_expr_kind kind, nnx_loc loc)
{
    nnx_expr *e = calloc(1, sizeof *e);
    if (e) {
        e->kind = kind;
        e->loc = loc;
    }
    return e;
}

nnx_expr *nnx_expr_num(nnx_loc loc, char *text)
{
    nnx_expr *e = expr_new(NNX_E_NUM, loc);
    if (!e) {
        free(text);
        return NULL;
    }
    e->u.num.text = text;
    e->u.num.value = strtod(text, NULL);
    return e;
}

nnx_expr *nnx_expr_str(nnx_loc loc, char *s)
{
    nnx_expr *e = expr_new(NNX_E_STR, loc);
    if (!e) {
        free(s);
        return NULL;
    }
    e->u.str = s;
    return e;
}

nnx_expr *nnx_expr_bool(nnx_loc loc, bool value)
{
    nnx_expr *e = expr_new(NNX_E_BOOL, loc);
    if (e)
        e->u.boolean = value;
    return e;
}

nnx_expr *nnx_expr_list(nnx_loc loc, nnx_expr **items, size_t n)
{
    nnx_expr *e = expr_new(NNX_E_LIST, loc);
    if (!e) {
        for (size_t i = 0; i < n; i++)
            nnx_expr_free(items[i]);
        free(items);
        return NULL;
    }
    e->u.list.items = items;
    e->u.list.n = n;
    return e;
}

nnx_expr *nnx_expr_path(nnx_loc loc, nnx_path path)
{
    nnx_expr *e = expr_new(NNX_E_PATH, loc);
    if (!e) {
        nnx_path_free(&path);
        return NULL;
    }
    e->u.path = path;
    return e;
}

nnx_expr *nnx_expr_call(nnx_loc loc, char *name, nnx_loc name_loc,
                        nnx_arg *args, size_t nargs)
{
    nnx_expr *e = expr_new(NNX_E_CALL, loc);
    if (!e) {
        free(name);
        nnx_args_free(args, nargs);
        return NULL;
    }
    e->u.call.name = name;
    e->u.call.name_loc = name_loc;
    e->u.call.args = args;
    e->u.call.nargs = nargs;
    return e;
}

nnx_expr *nnx_expr_unary(nnx_loc loc, char op, nnx_expr *operand)
{
    nnx_expr *e = expr_new(NNX_E_UNARY, loc);
    if (!e) {
        nnx_expr_free(operand);
        return NULL;
    }
    e->u.unary.op = op;
    e->u.unary.operand = operand;
    return e;
}

nnx_expr *nnx_expr_binary(nnx_loc loc, char op, nnx_expr *lhs, nnx_expr *rhs)
{
    nnx_expr *e = expr_new(NNX_E_BINARY, loc);
    if (!e) {
        nnx_expr_free(lhs);
        nnx_expr_free(rhs);
        return NULL;
    }
    e->u.binary.op = op;
    e->u.binary.lhs = lhs;
    e->u.binary.rhs = rhs;
    return e;
}

void nnx_args_free(nnx_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(args[i].name);
        nnx_expr_free(args[i].value);
    }
    free(args);
}

void nnx_expr_free(nnx_expr *e)
{
    if (!e)
        return;
    switch (e->kind) {
    case NNX_E_NUM:    free(e->u.num.text); break;
    case NNX_E_STR:    free(e->u.str); break;
    case NNX_E_BOOL:   break;
    case NNX_E_LIST:
        for (size_t i = 0; i < e->u.list.n; i++)
            nnx_expr_free(e->u.list.items[i]);
        free(e->u.list.items);
        break;
    case NNX_E_PATH:   nnx_path_free(&e->u.path); break;
    case NNX_E_CALL:
        free(e->u.call.name);
        nnx_args_free(e->u.call.args, e->u.call.nargs);
        break;
    case NNX_E_UNARY:  nnx_expr_free(e->u.unary.operand); break;
    case NNX_E_BINARY:
        nnx_expr_free(e->u.binary.lhs);
        nnx_expr_free(e->u.binary.rhs);
        break;
    }
    free(e);
}

nnx_expr *nnx_expr_clone(const nnx_expr *e)
{
    if (!e)
        return NULL;
    switch (e->kind) {
    case NNX_E_NUM: {
        char *text = strdup(e->u.num.text);
        nnx_expr *c = text ? nnx_expr_num(e->loc, text) : NULL;
        if (c)
            c->u.num.value = e->u.num.value;
        return c;
    }
    case NNX_E_STR: {
        char *s = strdup(e->u.str);
        return s ? nnx_expr_str(e->loc, s) : NULL;
    }
    case NNX_E_BOOL:
        return nnx_expr_bool(e->loc, e->u.boolean);
    case NNX_E_LIST: {
        nnx_expr **items = NULL;
        size_t n = 0;
        for (size_t i = 0; i < e->u.list.n; i++) {
            nnx_expr *c = nnx_expr_clone(e->u.list.items[i]);
            if (!c || !nnx_array_push(&items, &n, sizeof c, &c)) {
                nnx_expr_free(c);
                nnx_expr_free(nnx_expr_list(e->loc, items, n));
                return NULL;
            }
        }
        return nnx_expr_list(e->loc, items, n);
    }
    case NNX_E_PATH: {
        nnx_path p;
        return path_copy(&p, &e->u.path) ? nnx_expr_path(e->loc, p) : NULL;
    }
    case NNX_E_CALL: {
        nnx_arg *args = NULL;
        size_t n = 0;
        bool ok = true;
        for (size_t i = 0; ok && i < e->u.call.nargs; i++) {
            const nnx_arg *a = &e->u.call.args[i];
            nnx_arg c = { NULL, a->name_loc, nnx_expr_clone(a->value) };
            bool good = c.value && (!a->name || (c.name = strdup(a->name)));
            if (!good || !nnx_array_push(&args, &n, sizeof c, &c)) {
                free(c.name);
                nnx_expr_free(c.value);
                ok = false;
            }
        }
        char *name = strdup(e->u.call.name);
        if (!ok || !name) {
            free(name);
            nnx_args_free(args, n);
            return NULL;
        }
        return nnx_expr_call(e->loc, name, e->u.call.name_loc, args, n);
    }
    case NNX_E_UNARY: {
        nnx_expr *o = nnx_expr_clone(e->u.unary.operand);
        return o ? nnx_expr_unary(e->loc, e->u.unary.op, o) : NULL;
    }
    case NNX_E_BINARY: {
        nnx_expr *l = nnx_expr_clone(e->u.binary.lhs);
        nnx_expr *r = nnx_expr_clone(e->u.binary.rhs);
        if (!l || !r) {
            nnx_expr_free(l);
            nnx_expr_free(r);
            return NULL;
        }
        return nnx_expr_binary(e->loc, e->u.binary.op, l, r);
    }
    }
    return NULL;
}

/* --- statements, layers, items -------------------------------------------- */

nnx_stmt *nnx_stmt_new(nnx_stmt_kind kind, nnx_loc loc)
{
    nnx_stmt *s = calloc(1, sizeof *s);
    if (s) {
        s->kind = kind;
        s->loc = loc;
    }
    return s;
}

void nnx_stmt_free(nnx_stmt *s)
{
    if (!s)
        return;
    nnx_path_free(&s->target);
    nnx_expr_free(s->value);
    nnx_expr_free(s->search_kind);
    for (size_t i = 0; i < s->nbody; i++)
        nnx_stmt_free(s->body[i]);
    free(s->body);
    free(s);
}

nnx_layer_node *nnx_layer_node_new(nnx_layer_node_kind kind, nnx_loc loc)
{
    nnx_layer_node *l = calloc(1, sizeof *l);
    if (l) {
        l->kind = kind;
        l->loc = loc;
    }
    return l;
}

void nnx_layer_node_free(nnx_layer_node *l)
{
    if (!l)
        return;
    nnx_expr_free(l->call);
    nnx_expr_free(l->count);
    for (size_t i = 0; i < l->nbody; i++)
        nnx_layer_node_free(l->body[i]);
    free(l->body);
    free(l);
}

void nnx_params_free(nnx_param *params, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(params[i].name);
        nnx_expr_free(params[i].deflt);
    }
    free(params);
}

nnx_item *nnx_item_new(nnx_item_kind kind, nnx_loc loc)
{
    nnx_item *it = calloc(1, sizeof *it);
    if (it) {
        it->kind = kind;
        it->loc = loc;
    }
    return it;
}

void nnx_item_free(nnx_item *it)
{
    if (!it)
        return;
    free(it->name);
    free(it->import_path);
    nnx_expr_free(it->value);
    for (size_t i = 0; i < it->nbody; i++)
        nnx_stmt_free(it->body[i]);
    free(it->body);
    nnx_params_free(it->params, it->nparams);
    for (size_t i = 0; i < it->nlayers; i++)
        nnx_layer_node_free(it->layers[i]);
    free(it->layers);
    free(it->extends);
    free(it);
}

void nnx_file_free(nnx_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nitems; i++)
        nnx_item_free(f->items[i]);
    free(f->items);
    free(f->comments);
    nnx_source_free(f->src);
    free(f);
}
