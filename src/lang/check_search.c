/* check_search.c — compile an experiment's search block and check every value it would try. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

enum { MAX_AXIS_VALUES = 10000 };

static ck_merged merged_copy(nnx_checker *c, const ck_merged *m)
{
    ck_merged r = *m;
    r.slots = ck_alloc(&c->tmp, ck_nexp_keys * sizeof *r.slots);
    if (!r.slots)
        return r;
    memcpy(r.slots, m->slots, ck_nexp_keys * sizeof *r.slots);
    for (size_t i = 0; i < ck_nexp_keys; i++) {
        ck_slot *s = &r.slots[i];
        if (s->nargs) {
            ck_argov *a = ck_alloc(&c->tmp, s->nargs * sizeof *a);
            if (a)
                memcpy(a, s->args, s->nargs * sizeof *a);
            s->args = a;
        }
    }
    return r;
}

/* Check the experiment with one searched value in place. */
static void try_value(nnx_checker *c, const ck_merged *m, const char *path, nnx_loc path_loc, ck_val *v)
{
    ck_arena_mark mark = ck_arena_save(&c->tmp);
    ck_merged t = merged_copy(c, m);
    if (!t.slots || !ck_override(c, &t, path, path_loc, NULL, v, NULL)) {
        ck_arena_restore(&c->tmp, mark);
        return;
    }
    c->trial = path;
    c->trial_val = v;
    c->trial_loc = m->search->loc;
    nnx_experiment *e = ck_compile(c, m->exp, &t, false);
    c->trial = NULL;
    c->trial_val = NULL;
    nnx_experiment_free(e);
    ck_arena_restore(&c->tmp, mark);
}

bool ck_compile_search(nnx_checker *c, ck_merged *m, nnx_experiment *e, bool check_values)
{
    const nnx_stmt *st = m->search;
    nnx_exp_search *s = &e->search;
    ck_val *kind = ck_eval(c, &c->tmp, st->search_kind, NULL);
    if (!kind)
        return false;
    ck_val *a[4] = { 0 };
    const ck_builtin *b = ck_builtin_of(c, &kind, CK_B_SEARCH, "search", a);
    if (!b)
        return false;
    s->kind = (nnx_exp_search_kind)b->code;
    if (s->kind == NNX_XSEARCH_RANDOM || s->kind == NNX_XSEARCH_TPE) {
        s->trials = (int)a[0]->num;
        s->seed = a[1] ? (uint64_t)a[1]->num : e->seed;
    }
    if (s->kind == NNX_XSEARCH_TPE) {
        s->startup = (int)a[2]->num;
        s->lag = (int)a[3]->num;
    }
    if (!st->nbody) {
        ck_err(c, st->loc, "the search has no `path in values` lines");
        return false;
    }
    s->axes = calloc(st->nbody, sizeof *s->axes);
    if (!s->axes)
        return false;
    bool ok = true;
    for (size_t i = 0; i < st->nbody; i++) {
        const nnx_stmt *in = st->body[i];
        if (in->kind != NNX_S_IN) {
            ck_err(c, in->loc, "a search holds only `path in values` lines");
            ok = false;
            continue;
        }
        char *path = nnx_path_str(&in->target);
        if (!path)
            return false;
        nnx_loc path_loc = nnx_loc_span(in->target.locs[0], in->target.locs[in->target.n - 1]);
        for (size_t j = 0; j < s->naxes; j++)
            if (!strcmp(s->axes[j].path, path)) {
                ck_err(c, path_loc, "'%s' is searched twice", path);
                ok = false;
            }
        nnx_exp_axis *ax = &s->axes[s->naxes++];
        ax->path = path;
        ax->loc = in->loc;
        int before = c->nerr;
        ck_val *vals = ck_eval(c, &c->tmp, in->value, NULL);
        if (!vals) {
            ok = false;
            continue;
        }
        ck_val *items_v = NULL;
        if (vals->kind == CK_LIST)
            items_v = vals;
        else if (vals->kind == CK_CALL && ck_builtin_find(vals->s, CK_B_DIST)) {
            const ck_builtin *d = ck_builtin_find(vals->s, CK_B_DIST);
            ck_val *da[2] = { 0 };
            if (!ck_bind(c, &c->tmp, vals, d->name, d->params, d->nparams, da)) {
                ok = false;
                continue;
            }
            if (d->code == NNX_XDIST_LIST) {
                if (da[0]->kind != CK_LIST) {
                    ck_err(c, da[0]->loc, "choice takes a list, got %s", ck_vkind_name(da[0]->kind));
                    ok = false;
                    continue;
                }
                items_v = da[0];
            } else {
                if (s->kind != NNX_XSEARCH_RANDOM && s->kind != NNX_XSEARCH_TPE) {
                    nnx_diag *dg = ck_err(c, vals->loc, "%s() draws random values; a %s search needs a list", d->name,
                                          nnx_exp_search_name(s->kind));
                    ck_help(dg, "use a list such as decades(1e-5, 1e-1), or search random(trials = N)");
                    ok = false;
                    continue;
                }
                ax->kind = (nnx_exp_dist_kind)d->code;
                ax->lo = da[0]->num;
                ax->hi = da[1]->num;
                if (!(ax->lo < ax->hi)) {
                    ck_err(c, vals->loc, "%s needs from < to, got %g and %g", d->name, ax->lo, ax->hi);
                    ok = false;
                    continue;
                }
                if (check_values) {
                    try_value(c, m, path, path_loc, da[0]);
                    try_value(c, m, path, path_loc, da[1]);
                    if (ck_is_int(ax->lo) && ck_is_int(ax->hi) && c->nerr == before) {
                        ck_val *mid = ck_val_num(&c->tmp, (ax->lo + ax->hi) / 2 + 0.25, vals->loc);
                        int pre = c->nerr;
                        try_value(c, m, path, path_loc, mid);
                        if (c->nerr > pre && c->d && c->d->tail)
                            nnx_diag_help(c->d->tail, "uniform() draws real numbers; for an integer use a list or choice([...])");
                    }
                }
            }
        } else {
            nnx_diag *dg = ck_err(c, vals->loc, "search values must be a list, uniform(a, b), loguniform(a, b) or "
                                  "choice([...]), got %s", ck_vkind_name(vals->kind));
            long idx = vals->kind == CK_CALL ? ck_name_index(c, vals->s) : -1;
            if (dg && idx >= 0 && ck_builtin_find(vals->s, CK_B_HELPER)) {
                ck_help(dg, "'%s' here is a network, which hides the %s() function; rename the network",
                        vals->s, vals->s);
                ck_note_always(c, c->prog->names[idx]->name_loc, "the network '%s' is defined here", vals->s);
            }
            ok = false;
            continue;
        }
        if (items_v) {
            ax->kind = NNX_XDIST_LIST;
            if (!items_v->n) {
                ck_err(c, items_v->loc, "the list of values for '%s' is empty", path);
                ok = false;
                continue;
            }
            if (items_v->n > MAX_AXIS_VALUES) {
                ck_err(c, items_v->loc, "too many values for '%s' (%zu)", path, items_v->n);
                ok = false;
                continue;
            }
            ax->values = calloc(items_v->n, sizeof *ax->values);
            if (!ax->values)
                return false;
            for (size_t j = 0; j < items_v->n; j++) {
                ax->values[j] = ck_mstrdup(ck_val_text(&c->tmp, items_v->items[j]));
                ax->nvalues++;
                if (check_values)
                    try_value(c, m, path, path_loc, items_v->items[j]);
            }
        }
        if (c->nerr > before)
            ok = false;
    }
    double total = s->kind == NNX_XSEARCH_RANDOM || s->kind == NNX_XSEARCH_TPE ? s->trials : 1;
    for (size_t i = 0; s->kind == NNX_XSEARCH_GRID && i < s->naxes; i++)
        total *= (double)s->axes[i].nvalues;
    if (ok && total > NNX_EXP_MAX_TRIALS) {
        ck_err(c, st->loc, "the search asks for %.0f trials, more than %d", total, NNX_EXP_MAX_TRIALS);
        ok = false;
    }
    return ok;
}

