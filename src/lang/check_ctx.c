/* check_ctx.c — the checker's context: creation, located errors without duplicates, name lookup. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

nnx_checker *nnx_checker_new(const nnx_program *p)
{
    nnx_checker *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->prog = p;
    size_t n = p->nnames ? p->nnames : 1;
    c->let_val = calloc(n, sizeof *c->let_val);
    c->let_state = calloc(n, 1);
    c->data = calloc(n, sizeof *c->data);
    c->data_state = calloc(n, 1);
    c->net_used = calloc(n, 1);
    if (!c->let_val || !c->let_state || !c->data || !c->data_state || !c->net_used) {
        nnx_checker_free(c);
        return NULL;
    }
    return c;
}

void nnx_checker_free(nnx_checker *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->data && i < c->prog->nnames; i++)
        if (c->data[i]) {
            ck_data_free(c->data[i]);
            free(c->data[i]);
        }
    for (size_t i = 0; i < c->nsrcs; i++)
        nnx_source_free(c->srcs[i]);
    free(c->srcs);
    free(c->let_val);
    free(c->let_state);
    free(c->data);
    free(c->data_state);
    free(c->net_used);
    ck_arena_free(&c->perm);
    ck_arena_free(&c->tmp);
    free(c);
}

nnx_loc ck_noloc(void)
{
    nnx_loc l = { NULL, 0, 0 };
    return l;
}

static bool same_loc(nnx_loc a, nnx_loc b)
{
    return a.src == b.src && a.begin == b.begin && a.end == b.end;
}

static nnx_diag *verr(nnx_checker *c, nnx_loc loc, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    bool inside = c->trial && loc.src == c->trial_loc.src && loc.begin >= c->trial_loc.begin &&
                  loc.end <= c->trial_loc.end;
    if (c->trial && !inside) {
        size_t len = strlen(msg);
        char *val = ck_val_text(&c->tmp, c->trial_val);
        snprintf(msg + len, sizeof msg - len, " (searching %s = %s)", c->trial, val ? val : "?");
    }
    c->nerr++;
    if (!c->d)
        return NULL;
    for (nnx_diag *x = c->d->head; x; x = x->next)
        if (x->level == NNX_ERROR && same_loc(x->loc, loc) && !strcmp(x->msg, msg))
            return NULL;
    return nnx_diag_add(c->d, NNX_ERROR, loc, "%s", msg);
}

nnx_diag *ck_err(nnx_checker *c, nnx_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nnx_diag *dg = verr(c, loc, fmt, ap);
    va_end(ap);
    return dg;
}

static void vnote(nnx_checker *c, nnx_loc loc, const char *fmt, va_list ap)
{
    if (!c->d)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (nnx_diag *x = c->d->head; x; x = x->next)
        if (x->level == NNX_NOTE && same_loc(x->loc, loc) && !strcmp(x->msg, msg))
            return;
    nnx_diag_add(c->d, NNX_NOTE, loc, "%s", msg);
}

void ck_note(nnx_checker *c, nnx_loc loc, const char *fmt, ...)
{
    if (!c->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vnote(c, loc, fmt, ap);
    va_end(ap);
}

void ck_note_always(nnx_checker *c, nnx_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(c, loc, fmt, ap);
    va_end(ap);
}

void nnx_checker_set_verbose(nnx_checker *c, bool on)
{
    c->verbose = on;
}

void ck_help(nnx_diag *dg, const char *fmt, ...)
{
    if (!dg)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nnx_diag_help(dg, "%s", msg);
}

nnx_diag *ck_err_suggest(nnx_checker *c, nnx_loc loc, const char *name,
                         const char *const *cands, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nnx_diag *dg = verr(c, loc, fmt, ap);
    va_end(ap);
    const char *s = n ? nnx_suggest(name, cands, n) : NULL;
    if (dg && s)
        nnx_diag_help(dg, "did you mean '%s'?", s);
    return dg;
}

long ck_name_index(const nnx_checker *c, const char *name)
{
    size_t lo = 0, hi = c->prog->nnames;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->prog->names[mid]->name, name);
        if (!cmp)
            return (long)mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

size_t ck_item_names(nnx_checker *c, nnx_item_kind kind, const char ***out)
{
    size_t n = 0;
    const char **v = ck_alloc(&c->tmp, (c->prog->nnames + 1) * sizeof *v);
    for (size_t i = 0; v && i < c->prog->nnames; i++)
        if (c->prog->names[i]->kind == kind)
            v[n++] = c->prog->names[i]->name;
    *out = v;
    return v ? n : 0;
}

/* Position of a diagnostic's file in the program (sources not in it last). */
static size_t file_rank(const nnx_program *p, const nnx_source *src)
{
    for (size_t i = 0; i < p->nfiles; i++)
        if (p->files[i]->src == src)
            return i;
    return src ? p->nfiles : p->nfiles + 1;
}

static bool diag_before(const nnx_program *p, const nnx_diag *a, const nnx_diag *b)
{
    size_t ra = file_rank(p, a->loc.src), rb = file_rank(p, b->loc.src);
    if (ra != rb)
        return ra < rb;
    return a->loc.begin < b->loc.begin;
}

void ck_sort_diags(const nnx_program *p, nnx_diags *d, nnx_diag *before)
{
    nnx_diag **link = before ? &before->next : &d->head;
    nnx_diag *sorted = NULL, *rest = *link;
    while (rest) {      /* insertion sort: lists are short */
        nnx_diag *x = rest;
        rest = rest->next;
        nnx_diag **at = &sorted;
        while (*at && !diag_before(p, x, *at))
            at = &(*at)->next;
        x->next = *at;
        *at = x;
    }
    *link = sorted;
    d->tail = before;
    for (nnx_diag *x = *link; x; x = x->next)
        d->tail = x;
}
