/* extends.c — merge an experiment's extends chain and its overrides into one slot per key.
 *
 * Statements apply in order, base first: `k = v` replaces a key (and drops
 * earlier argument overrides and appends), `k.arg = v` overrides one
 * argument of the key's call, `k += [..]` appends to a list key, and
 * `k { a = v }` is `k.a = v`.  Overrides (--set, search trials) apply last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

enum { MAX_CHAIN = 256 };

static const char *const top_names[] = {
    "data", "model", "loss", "optimizer", "schedule", "epochs", "batch", "seed", "clip_grad",
    "metrics", "select", "early_stop", "log", "hooks", "ensemble", "prune", "search",
};

static void *grow(ck_arena *a, void *old, size_t n, size_t size)
{
    void *p = ck_alloc(a, (n + 1) * size);
    if (p && n)
        memcpy(p, old, n * size);
    return p;
}

static int line_of(nnx_loc loc)
{
    int line = 0, col;
    if (loc.src)
        nnx_loc_linecol(loc.src, loc.begin, &line, &col);
    return line;
}

/* The data key named by parts[0..n-1] ("augment", "shift"), or NULL after
 * an error at `loc`. */
static const char *data_key(nnx_checker *c, const char *const *parts, nnx_loc loc, size_t n)
{
    const char *name = parts[0];
    for (size_t i = 1; i < n && name; i++)
        name = ck_sprintf(&c->tmp, "%s.%s", name, parts[i]);
    if (!name)
        return NULL;
    const ck_key *k = ck_key_find(ck_data_keys, ck_ndata_keys, name);
    if (k)
        return k->name;
    const char *names[16];
    size_t nn = 0;
    for (size_t i = 0; i < ck_ndata_keys && nn < 16; i++)
        names[nn++] = ck_data_keys[i].name;
    nnx_diag *dg = ck_err(c, loc, "unknown data key 'data.%s'", name);
    const char *s = nnx_suggest(name, names, nn);
    if (s)
        ck_help(dg, "did you mean 'data.%s'?", s);
    else {
        ck_buf l = { 0 };
        for (size_t i = 0; i < nn; i++)
            ck_buf_printf(&l, "%s%s", i ? ", " : "", names[i]);
        ck_help(dg, "a data block's keys are: %s", l.s ? l.s : "");
        free(l.s);
    }
    return NULL;
}

static bool apply_set(nnx_checker *c, ck_merged *m, const char *const *parts, const nnx_loc *locs, size_t n,
                      nnx_stmt_kind kind, const nnx_expr *expr, ck_val *val, nnx_loc loc, const void *owner)
{
    ck_arena *a = &c->tmp;
    /* the longest prefix that names a key */
    const ck_key *key = NULL;
    size_t k = n;
    for (; k > 0 && !key; k--) {
        size_t len = 0;
        for (size_t i = 0; i < k; i++)
            len += strlen(parts[i]) + 1;
        char *name = ck_alloc(a, len);
        if (!name)
            return false;
        for (size_t i = 0; i < k; i++) {
            if (i)
                strcat(name, ".");
            strcat(name, parts[i]);
        }
        key = ck_key_find(ck_exp_keys, ck_nexp_keys, name);
        if (key)
            break;
    }
    if (!key) {
        const size_t ntop = sizeof top_names / sizeof top_names[0];
        bool block = !strcmp(parts[0], "schedule") || !strcmp(parts[0], "ensemble");
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            len += strlen(parts[i]) + 1;
        char *full = ck_alloc(a, len + 64);
        if (!full)
            return false;
        for (size_t i = 0; i < n; i++) {
            if (i)
                strcat(full, ".");
            strcat(full, parts[i]);
        }
        if (block && n == 1) {
            ck_err(c, locs[0], "'%s' is a block: write %s { ... } or %s.KEY = value", parts[0], parts[0], parts[0]);
            return false;
        }
        nnx_diag *dg = ck_err(c, block ? locs[1] : locs[0], "unknown key '%s'", full);
        const char *fix = NULL;
        if (block) {
            const char *dotted[8];
            size_t nd = 0;
            for (size_t i = 0; i < ck_nexp_keys && nd < 8; i++)
                if (!strncmp(ck_exp_keys[i].name, parts[0], strlen(parts[0])) && ck_exp_keys[i].name[strlen(parts[0])] == '.')
                    dotted[nd++] = ck_exp_keys[i].name + strlen(parts[0]) + 1;
            const char *s = nnx_suggest(parts[1], dotted, nd);
            if (s)
                fix = ck_sprintf(a, "%s.%s", parts[0], s);
        } else {
            const char *s = nnx_suggest(parts[0], top_names, ntop);
            if (s) {
                char *t = ck_sprintf(a, "%s%s", s, full + strlen(parts[0]));
                fix = t;
            }
        }
        if (fix)
            ck_help(dg, "did you mean '%s'?", fix);
        return false;
    }
    size_t ki = (size_t)(key - ck_exp_keys);
    ck_slot *s = &m->slots[ki];
    size_t rest = n - k;
    if (key->kclass == CK_K_SEARCH) {
        ck_err(c, locs[0], "a search is written `search grid { path in [values] }`");
        return false;
    }
    if (rest == 0) {
        if (kind == NNX_S_APPEND) {
            if (!key->is_list) {
                ck_err(c, loc, "'+=' appends to a list key (metrics, log, ensemble.seeds), not '%s'", key->name);
                return false;
            }
            const nnx_expr **ap = grow(a, s->appends, s->nappends, sizeof *ap);
            ck_val **av = grow(a, s->append_vals, s->nappends, sizeof *av);
            nnx_loc *al = grow(a, s->append_locs, s->nappends, sizeof *al);
            if (!ap || !av || !al)
                return false;
            ap[s->nappends] = expr;
            av[s->nappends] = val;
            al[s->nappends] = loc;
            s->appends = ap;
            s->append_vals = av;
            s->append_locs = al;
            s->nappends++;
            return true;
        }
        if (owner && s->owner == owner) {
            nnx_diag *dg = ck_err(c, locs[0], "'%s' is set twice", key->name);
            ck_help(dg, "it was first set on line %d", line_of(s->loc));
            return false;
        }
        s->expr = expr;
        s->val = val;
        s->loc = locs[0];
        s->owner = owner;
        s->nargs = 0;
        s->nappends = 0;
        return true;
    }
    const char *arg = parts[k];
    if (key->kclass == CK_K_DATA) {
        /* `data.augment.shift = 1`: one key of the experiment's data block,
         * kept with the slot like an argument and applied by ck_compile */
        arg = data_key(c, parts + k, locs[k], rest);
        if (!arg)
            return false;
    } else if (rest > 1) {
        ck_err(c, locs[k + 1], "cannot set '%s' inside argument '%s' of %s", parts[k + 1], parts[k], key->name);
        return false;
    }
    if (kind == NNX_S_APPEND) {
        ck_err(c, loc, "'+=' appends to a list key, not to the %s '%s.%s'",
               key->kclass == CK_K_DATA ? "data key" : "argument", key->name, arg);
        return false;
    }
    if (key->kclass != CK_K_CALL && key->kclass != CK_K_MODEL && key->kclass != CK_K_EARLY &&
        key->kclass != CK_K_SELECT && key->kclass != CK_K_DATA) {
        ck_err(c, locs[k], "'%s' is not a call: it has no argument '%s'", key->name, parts[k]);
        return false;
    }
    for (size_t i = 0; i < s->nargs; i++)
        if (!strcmp(s->args[i].name, arg)) {
            if (owner && s->args[i].owner == owner) {
                nnx_diag *dg = ck_err(c, locs[k], "'%s.%s' is set twice", key->name, arg);
                ck_help(dg, "it was first set on line %d", line_of(s->args[i].loc));
                return false;
            }
            s->args[i].expr = expr;
            s->args[i].val = val;
            s->args[i].loc = locs[k];
            s->args[i].owner = owner;
            return true;
        }
    ck_argov *av = grow(a, s->args, s->nargs, sizeof *av);
    if (!av)
        return false;
    av[s->nargs] = (ck_argov){ arg, locs[k], expr, val, owner };
    s->args = av;
    s->nargs++;
    return true;
}

static bool apply_body(nnx_checker *c, ck_merged *m, nnx_stmt *const *body, size_t n,
                       const char **prefix, const nnx_loc *prefix_locs, size_t np, const void *owner)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const nnx_stmt *s = body[i];
        if (s->kind == NNX_S_SEARCH) {
            if (np) {
                ck_err(c, s->loc, "a search block belongs directly in the experiment");
                ok = false;
            } else if (m->search && m->search != s && owner && (const void *)m->exp == owner &&
                       m->search_owner == owner) {
                nnx_diag *dg = ck_err(c, s->loc, "a second search in one experiment");
                ck_help(dg, "the first is on line %d", line_of(m->search->loc));
                ok = false;
            } else {
                m->search = s;
                m->search_owner = owner;
            }
            continue;
        }
        if (s->kind == NNX_S_IN) {
            ck_err(c, s->loc, "`path in values` belongs inside a search block");
            ok = false;
            continue;
        }
        size_t total = np + s->target.n;
        const char **parts = ck_alloc(&c->tmp, total * sizeof *parts);
        nnx_loc *locs = ck_alloc(&c->tmp, total * sizeof *locs);
        if (!parts || !locs)
            return false;
        for (size_t j = 0; j < np; j++) {
            parts[j] = prefix[j];
            locs[j] = prefix_locs[j];
        }
        for (size_t j = 0; j < s->target.n; j++) {
            parts[np + j] = s->target.parts[j];
            locs[np + j] = s->target.locs[j];
        }
        if (s->kind == NNX_S_BLOCK)
            ok &= apply_body(c, m, s->body, s->nbody, parts, locs, total, owner);
        else
            ok &= apply_set(c, m, parts, locs, total, s->kind, s->value, NULL, s->loc, owner);
    }
    return ok;
}

bool ck_merge(nnx_checker *c, const nnx_item *exp, ck_merged *m)
{
    memset(m, 0, sizeof *m);
    m->exp = exp;
    m->slots = ck_alloc(&c->tmp, ck_nexp_keys * sizeof *m->slots);
    if (!m->slots)
        return false;
    for (size_t i = 0; i < ck_nexp_keys; i++)
        m->slots[i].key = &ck_exp_keys[i];
    const nnx_item *chain[MAX_CHAIN];
    size_t n = 0;
    bool ok = true;
    for (const nnx_item *it = exp; it;) {
        for (size_t i = 0; i < n; i++)
            if (chain[i] == it) {
                /* report a cycle once: from its member with the smallest name */
                bool first = i == 0;
                for (size_t j = i; j < n && first; j++)
                    first = strcmp(chain[j]->name, exp->name) >= 0;
                if (first) {
                    ck_buf b = { 0 };
                    for (size_t j = i; j < n; j++)
                        ck_buf_printf(&b, "%s -> ", chain[j]->name);
                    ck_buf_puts(&b, it->name);
                    nnx_diag *dg = ck_err(c, exp->extends_loc, "extends goes round in a circle: %s",
                                          b.s ? b.s : "");
                    ck_help(dg, "one experiment of the circle must stand on its own");
                    free(b.s);
                } else
                    c->nerr++;      /* reported with the cycle's first member */
                ok = false;
                goto done;
            }
        if (n == MAX_CHAIN) {
            ck_err(c, it->name_loc, "the extends chain is longer than %d", MAX_CHAIN);
            return false;
        }
        chain[n++] = it;
        if (!it->extends)
            break;
        long idx = ck_name_index(c, it->extends);
        const nnx_item *base = idx >= 0 ? c->prog->names[idx] : NULL;
        if (!base || base->kind != NNX_I_EXPERIMENT) {
            const char **names;
            size_t nn = ck_item_names(c, NNX_I_EXPERIMENT, &names);
            if (base)
                ck_err(c, it->extends_loc, "'%s' is not an experiment", it->extends);
            else
                ck_err_suggest(c, it->extends_loc, it->extends, names, nn, "unknown experiment '%s'", it->extends);
            ok = false;
            break;
        }
        it = base;
    }
done:
    for (size_t i = 0; i < n; i++)
        if (chain[i]->syntax_error) {   /* the parser reported it */
            c->nerr++;
            return false;
        }
    bool chain_ok = ok;
    for (size_t i = n; i-- > 0;)
        ok &= apply_body(c, m, chain[i]->body, chain[i]->nbody, NULL, NULL, 0, chain[i]);
    m->partial = chain_ok && !ok;
    return ok;
}

bool ck_override(nnx_checker *c, ck_merged *m, const char *path, nnx_loc path_loc,
                 const nnx_expr *expr, ck_val *val, const void *owner)
{
    size_t n = 1;
    for (const char *p = path; *p; p++)
        n += *p == '.';
    const char **parts = ck_alloc(&c->tmp, n * sizeof *parts);
    nnx_loc *locs = ck_alloc(&c->tmp, n * sizeof *locs);
    if (!parts || !locs)
        return false;
    const char *p = path;
    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        parts[i] = ck_strndup(&c->tmp, p, len);
        locs[i] = path_loc;
        if (!len) {
            ck_err(c, path_loc, "'%s' is not a key path", path);
            return false;
        }
        p += len + 1;
    }
    return apply_set(c, m, parts, locs, n, NNX_S_SET, expr, val, path_loc, owner);
}

static ck_val *default_value(nnx_checker *c, const ck_key *k, nnx_loc loc)
{
    ck_arena *a = &c->tmp;
    switch (k->kclass) {
    case CK_K_CALL:
        return k->deflt ? ck_val_call0(a, k->deflt, loc) : NULL;
    case CK_K_SCALAR:
        if (k->param.ty == CK_T_INT_OR_SYM && k->param.dstr)
            return ck_val_sym(a, k->param.dstr, loc);
        if ((k->param.ty == CK_T_NUM || k->param.ty == CK_T_INT) && k->param.dnum == k->param.dnum)
            return ck_val_num(a, k->param.dnum, loc);
        return NULL;
    case CK_K_METRICS:
        return ck_val_new(a, CK_LIST, loc);
    case CK_K_LOG: {
        ck_val *v = ck_val_new(a, CK_LIST, loc);
        if (v) {
            v->items = ck_alloc(a, sizeof *v->items);
            if (!v->items)
                return NULL;
            v->items[0] = ck_val_sym(a, "csv", loc);
            v->n = 1;
        }
        return v;
    }
    default:
        return NULL;
    }
}

ck_val *ck_slot_value(nnx_checker *c, ck_slot *s, bool *failed)
{
    ck_arena *a = &c->tmp;
    ck_val *v;
    if (s->val)
        v = s->val;
    else if (s->expr) {
        v = ck_eval(c, a, s->expr, NULL);
        if (!v) {
            *failed = true;
            return NULL;
        }
    } else
        v = default_value(c, s->key, ck_noloc());
    if (s->nargs && s->key->kclass != CK_K_DATA) {    /* data keys: ck_compile */
        if (!v) {
            ck_err(c, s->args[0].loc, "'%s.%s' sets an argument, but '%s' is not set", s->key->name,
                   s->args[0].name, s->key->name);
            *failed = true;
            return NULL;
        }
        if (v->kind != CK_SYM && v->kind != CK_CALL) {
            ck_err(c, s->args[0].loc, "'%s' is %s, so it has no argument '%s'", s->key->name,
                   ck_vkind_name(v->kind), s->args[0].name);
            *failed = true;
            return NULL;
        }
        v = ck_val_as_call(a, v);
        ck_val *call = ck_alloc(a, sizeof *call);
        if (!call)
            return NULL;
        *call = *v;
        call->args = ck_alloc(a, (v->nargs + s->nargs) * sizeof *call->args);
        if (!call->args)
            return NULL;
        if (v->nargs)
            memcpy(call->args, v->args, v->nargs * sizeof *call->args);
        for (size_t i = 0; i < s->nargs; i++) {
            ck_val *x = s->args[i].val ? s->args[i].val : ck_eval(c, a, s->args[i].expr, NULL);
            if (!x) {
                *failed = true;
                return NULL;
            }
            call->args[v->nargs + i] = (ck_arg){ s->args[i].name, s->args[i].loc, x, true };
        }
        call->nargs = v->nargs + s->nargs;
        v = call;
    }
    if (s->nappends) {
        if (!v)
            v = ck_val_new(a, CK_LIST, s->append_locs[0]);
        if (!v)
            return NULL;
        if (v->kind != CK_LIST) {
            ck_err(c, s->append_locs[0], "'+=' needs '%s' to be a list, but it is %s", s->key->name,
                   ck_vkind_name(v->kind));
            *failed = true;
            return NULL;
        }
        ck_val *list = ck_alloc(a, sizeof *list);
        if (!list)
            return NULL;
        *list = *v;
        for (size_t i = 0; i < s->nappends; i++) {
            ck_val *x = s->append_vals[i] ? s->append_vals[i] : ck_eval(c, a, s->appends[i], NULL);
            if (!x) {
                *failed = true;
                return NULL;
            }
            size_t add = x->kind == CK_LIST ? x->n : 1;
            ck_val **items = ck_alloc(a, (list->n + add + 1) * sizeof *items);
            if (!items)
                return NULL;
            if (list->n)
                memcpy(items, list->items, list->n * sizeof *items);
            if (x->kind == CK_LIST) {
                if (x->n)
                    memcpy(items + list->n, x->items, x->n * sizeof *items);
            } else
                items[list->n] = x;
            list->items = items;
            list->n += add;
        }
        v = list;
    }
    return v;
}
