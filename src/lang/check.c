/* check.c — compile one merged experiment into nnx_experiment, and the public checking API. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/check_int.h"
#include "nnx/lua_host.h"

enum { MAX_SEEDS = 1000, MAX_MILESTONES = 32 };

static ck_slot *slot(ck_merged *m, const char *name)
{
    const ck_key *k = ck_key_find(ck_exp_keys, ck_nexp_keys, name);
    return &m->slots[k - ck_exp_keys];
}

/* The evaluated value of a key (default filled in), or NULL; *bad on errors. */
static ck_val *value(nnx_checker *c, ck_merged *m, const char *name, bool *bad)
{
    bool failed = false;
    ck_val *v = ck_slot_value(c, slot(m, name), &failed);
    if (failed)
        *bad = true;
    return failed ? NULL : v;
}

const ck_builtin *ck_builtin_of(nnx_checker *c, ck_val **vp, ck_bkind kind, const char *key, ck_val **args)
{
    ck_val *v = *vp;
    if (v->kind != CK_SYM && v->kind != CK_CALL) {
        ck_err(c, v->loc, "%s must be %s %s, got %s", key, kind == CK_B_OPTIM ? "an" : "a", ck_bkind_noun(kind),
               ck_vkind_name(v->kind));
        return NULL;
    }
    const ck_builtin *b = ck_builtin_find(v->s, kind);
    if (!b) {
        size_t n;
        const char **names = ck_builtin_names(&c->tmp, kind, &n);
        ck_err_suggest(c, v->loc, v->s, names, n, "unknown %s '%s'", ck_bkind_noun(kind), v->s);
        return NULL;
    }
    v = ck_val_as_call(&c->tmp, v);
    *vp = v;
    if (!ck_bind(c, &c->tmp, v, b->name, b->params, b->nparams, args))
        return NULL;
    return b;
}

static bool scalar(nnx_checker *c, ck_merged *m, const char *name, ck_val **out)
{
    bool bad = false;
    ck_val *v = value(c, m, name, &bad);
    *out = NULL;
    if (bad)
        return false;
    if (!v)
        return true;
    const ck_key *k = ck_key_find(ck_exp_keys, ck_nexp_keys, name);
    if (!ck_check_param(c, v, NULL, &k->param))
        return false;
    *out = v;
    return true;
}

/* --- metrics ------------------------------------------------------------------ */

static bool split_present(const nnx_experiment *e, nnx_exp_split s)
{
    return e->data.split[s].kind != NNX_XSRC_NONE;
}

static size_t computed_names(nnx_checker *c, const nnx_experiment *e, const char ***out)
{
    const char **v = ck_alloc(&c->tmp, (3 * e->nmetrics + 1) * sizeof *v);
    size_t n = 0;
    for (int s = 0; v && s < NNX_XSPLIT_COUNT; s++) {
        if (!split_present(e, (nnx_exp_split)s))
            continue;
        for (size_t i = 0; i < e->nmetrics; i++)
            v[n++] = ck_sprintf(&c->tmp, "%s.%s", nnx_exp_split_name((nnx_exp_split)s), e->metrics[i].name);
    }
    *out = v;
    return v ? n : 0;
}

/* A metric reference `valid.auc` used by `what` (select, early_stop, plateau). */
static bool metric_ref(nnx_checker *c, const nnx_experiment *e, const ck_val *v, const char *what,
                       nnx_exp_metric_ref *out)
{
    if (v->kind != CK_SYM) {
        ck_err(c, v->loc, "%s needs a metric such as valid.loss, got %s", what, ck_vkind_name(v->kind));
        return false;
    }
    const char **names;
    size_t nn = computed_names(c, e, &names);
    const char *dot = strchr(v->s, '.');
    int split = -1;
    if (dot) {
        size_t len = (size_t)(dot - v->s);
        for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
            if (strlen(nnx_exp_split_name((nnx_exp_split)s)) == len &&
                !strncmp(v->s, nnx_exp_split_name((nnx_exp_split)s), len))
                split = s;
    }
    if (split < 0) {
        nnx_diag *dg = ck_err_suggest(c, v->loc, v->s, names, nn, "'%s' is not a metric of a split", v->s);
        if (dg && !dg->help)
            ck_help(dg, "write SPLIT.METRIC, e.g. valid.%s", ck_metric_find(v->s) || !strncmp(v->s, "lua.", 4)
                        ? (!strncmp(v->s, "lua.", 4) ? v->s + 4 : v->s) : "loss");
        return false;
    }
    if (split == NNX_XSPLIT_TEST) {
        nnx_diag *dg = ck_err(c, v->loc, "%s cannot use the test split ('%s')", what, v->s);
        ck_help(dg, "test is evaluated once, at the end, on the selected weights; use valid.%s", dot + 1);
        return false;
    }
    if (!split_present(e, (nnx_exp_split)split)) {
        nnx_diag *dg = ck_err(c, v->loc, "%s uses '%s', but data '%s' has no %s split", what, v->s, e->data.name,
                              nnx_exp_split_name((nnx_exp_split)split));
        ck_help(dg, "add `%s = split(train, 0.1)` to data '%s', or use train.%s",
                nnx_exp_split_name((nnx_exp_split)split), e->data.name, dot + 1);
        return false;
    }
    const char *mname = dot + 1;
    bool lua = !strncmp(mname, "lua.", 4);
    if (lua)
        mname += 4;
    for (size_t i = 0; i < e->nmetrics; i++)
        if (!strcmp(e->metrics[i].name, mname) && (!lua || e->metrics[i].kind == NNX_XMETRIC_LUA)) {
            out->split = (nnx_exp_split)split;
            out->metric = i;
            out->maximize = e->metrics[i].maximize;
            return true;
        }
    if (!lua && !ck_metric_find(mname)) {   /* not a metric at all: suggest one that is */
        nnx_diag *dg = ck_err(c, v->loc, "%s uses '%s', but there is no metric '%s'", what, v->s, mname);
        const char *fix = ck_metric_suggest(mname);   /* acc → accuracy, roc_auc → auc */
        bool computed = false;
        for (size_t i = 0; fix && i < e->nmetrics; i++)
            computed |= !strcmp(e->metrics[i].name, fix);
        if (dg && fix)
            ck_help(dg, "did you mean '%s.%s'?%s%s%s", nnx_exp_split_name((nnx_exp_split)split), fix,
                    computed ? "" : " (and add it to the metrics: metrics += [", computed ? "" : fix,
                    computed ? "" : "])");
        return false;
    }
    if (c->partial) {       /* perhaps the metrics line was the bad statement */
        c->nerr++;
        return false;
    }
    nnx_diag *dg = ck_err_suggest(c, v->loc, v->s, names, nn, "%s uses '%s', which the experiment does not compute",
                                  what, v->s);
    if (dg && !dg->help)
        ck_help(dg, "add it to the metrics: metrics += [%s%s]", lua ? "lua." : "", mname);
    return false;
}

static bool compile_metrics(nnx_checker *c, ck_merged *m, nnx_experiment *e, int task, bool *bad)
{
    ck_val *v = value(c, m, "metrics", bad);
    size_t n = v && v->kind == CK_LIST ? v->n : 0;
    e->metrics = calloc(n + 1, sizeof *e->metrics);
    if (!e->metrics)
        return false;
    e->metrics[0] = (nnx_exp_metric){ NNX_XMETRIC_LOSS, ck_mstrdup("loss"), false, NULL };
    e->nmetrics = 1;
    if (!v)
        return !*bad;
    if (v->kind != CK_LIST) {
        ck_err(c, v->loc, "metrics must be a list such as [accuracy, auc], got %s", ck_vkind_name(v->kind));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const ck_val *x = v->items[i];
        if (x->kind != CK_SYM) {
            ck_err(c, x->loc, "a metric is a name such as accuracy, got %s", ck_vkind_name(x->kind));
            ok = false;
            continue;
        }
        nnx_exp_metric mt = { 0 };
        if (!strncmp(x->s, "lua.", 4)) {
            const char *fn = x->s + 4;
            if (!*fn || strchr(fn, '.')) {
                ck_err(c, x->loc, "a Lua metric is written lua.NAME");
                ok = false;
                continue;
            }
            if (ck_metric_find(fn)) {
                ck_err(c, x->loc, "lua.%s has the name of a builtin metric; rename the Lua function", fn);
                ok = false;
                continue;
            }
            mt = (nnx_exp_metric){ NNX_XMETRIC_LUA, NULL, true, NULL };
            mt.name = ck_mstrdup(fn);
        } else {
            const nnx_metric_info *mi = ck_metric_find(x->s);
            if (!mi) {
                const char *sp = strchr(x->s, '.');
                if (sp && (ck_metric_find(sp + 1) || !strncmp(sp + 1, "lua.", 4))) {
                    nnx_diag *dg = ck_err(c, x->loc, "metrics are listed without a split: '%s'", x->s);
                    ck_help(dg, "write %s; every metric is computed on every split", sp + 1);
                } else {
                    nnx_diag *dg = ck_err(c, x->loc, "unknown metric '%s'", x->s);
                    const char *fix = ck_metric_suggest(x->s);   /* acc → accuracy */
                    if (dg && fix)
                        ck_help(dg, "did you mean '%s'?", fix);
                }
                ok = false;
                continue;
            }
            if (!(mi->task & task)) {
                ck_err(c, x->loc, "metric '%s' needs %s, but the loss is %s", x->s,
                       task == CK_TASK_CLASS ? "a regression loss (mse)" : "a classification loss",
                       nnx_exp_loss_name(e->loss.kind));
                ok = false;
                continue;
            }
            bool loss = mi == &ck_loss_metric;
            mt = (nnx_exp_metric){ loss ? NNX_XMETRIC_LOSS : NNX_XMETRIC_BUILTIN, ck_mstrdup(mi->name),
                                   mi->maximize, loss ? NULL : mi };
        }
        bool dup = false;
        for (size_t j = 0; j < e->nmetrics; j++)
            dup |= !strcmp(e->metrics[j].name, mt.name);
        if (dup) {
            free(mt.name);
            continue;
        }
        e->metrics[e->nmetrics++] = mt;
    }
    return ok;
}

/* `path` relative to the working directory when it lies below it, so that
 * Lua's messages (which name the file) stay short and readable. */
static const char *shorter_path(const char *path)
{
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return path;
    size_t n = strlen(cwd);
    if (!strncmp(path, cwd, n) && path[n] == '/')
        return path + n + 1;
    return path;
}

/* The Lua file must load in the hooks sandbox (a syntax error, or an error in
 * its top-level code, is reported at the `hooks = ...` that names it) and
 * define a function for each lua.NAME metric. */
static bool check_hooks(nnx_checker *c, ck_merged *m, nnx_experiment *e, const ck_val *hooks)
{
    bool bad = false;
    const ck_val *metrics_v = value(c, m, "metrics", &bad);
    nnx_lua_host *host = NULL;
    if (hooks) {
        char *path = ck_resolve_path(&c->tmp, hooks->loc, hooks->s);
        e->hooks = ck_mstrdup(path);
        if (!path || access(path, R_OK) != 0) {
            ck_err(c, hooks->loc, "hooks file '%s' not found", hooks->s);
            return false;
        }
        char lua_dir[4096];
        const char *stdlib = c->prog->stdlib;
        if (stdlib)
            snprintf(lua_dir, sizeof lua_dir, "%s/lua", stdlib);
        nnx_lua_error lerr;
        host = nnx_lua_open(shorter_path(path), stdlib ? lua_dir : NULL, NULL, &lerr);
        if (!host) {
            /* Lua's first line says file:line and what is wrong; the
             * traceback of a check-time load adds nothing to it. */
            nnx_diag *dg = ck_err(c, hooks->loc, "hooks file '%s' does not load", hooks->s);
            ck_help(dg, "%.*s", (int)strcspn(lerr.msg, "\n"), lerr.msg);
            return false;
        }
    }
    bool ok = true;
    for (size_t i = 0; metrics_v && metrics_v->kind == CK_LIST && i < metrics_v->n; i++) {
        const ck_val *x = metrics_v->items[i];
        if (x->kind != CK_SYM || strncmp(x->s, "lua.", 4))
            continue;
        if (!hooks) {
            nnx_diag *dg = c->partial ? (c->nerr++, NULL)
                         : ck_err(c, x->loc, "metric '%s' is a Lua function, but the experiment has no hooks file", x->s);
            ck_help(dg, "add hooks = \"FILE.lua\" defining function %s(y, p)", x->s + 4);
            ok = false;
        } else if (!nnx_lua_has_function(host, x->s + 4)) {
            nnx_diag *dg = ck_err(c, x->loc, "hooks file '%s' does not define '%s'", hooks->s, x->s + 4);
            char buf[4096];
            const char *names[128];
            size_t nn = nnx_lua_function_names(host, buf, sizeof buf, names, 128);
            const char *fix = nnx_suggest(x->s + 4, names, nn);
            if (fix)
                ck_help(dg, "did you mean 'lua.%s'? (or define function %s(y, p) returning a number)",
                        fix, x->s + 4);
            else
                ck_help(dg, "define function %s(y, p) returning a number", x->s + 4);
            ok = false;
        }
    }
    nnx_lua_close(host);
    return ok;
}

/* --- model and loss ------------------------------------------------------------- */

static bool compile_model(nnx_checker *c, ck_merged *m, nnx_experiment *e, bool data_ok)
{
    bool bad = false;
    ck_val *v = value(c, m, "model", &bad);
    if (bad)
        return false;
    if (!v) {
        if (c->partial)
            c->nerr++;
        else
            ck_err(c, m->exp->name_loc, "experiment '%s' has no model", m->exp->name);
        return false;
    }
    const char **nets;
    size_t nn = ck_item_names(c, NNX_I_NETWORK, &nets);
    long idx = v->kind == CK_SYM || v->kind == CK_CALL ? ck_name_index(c, v->s) : -1;
    if (idx < 0 || c->prog->names[idx]->kind != NNX_I_NETWORK) {
        if (v->kind != CK_SYM && v->kind != CK_CALL)
            ck_err(c, v->loc, "model must name a network, got %s", ck_vkind_name(v->kind));
        else if (ck_builtin_find(v->s, CK_B_LAYER)) {
            nnx_diag *dg = ck_err(c, v->loc, "model must name a network; '%s' is a layer", v->s);
            ck_help(dg, "wrap it: network net { %s ... }", v->s);
        } else
            ck_err_suggest(c, v->loc, v->s, nets, nn, "unknown network '%s'", v->s);
        return false;
    }
    const nnx_item *net = c->prog->names[idx];
    v = ck_val_as_call(&c->tmp, v);
    nnx_exp_shape in = data_ok ? e->data.shape : (nnx_exp_shape){ 0, { 0, 0, 0 } };
    ck_layers ls = { 0 };
    bool ok = ck_instantiate(c, net, v, in, &ls);
    e->net.name = ck_mstrdup(net->name);
    e->net.layers = ls.v;
    e->net.nlayers = ls.n;
    e->net.in = in;
    e->net.out = ls.n ? ls.v[ls.n - 1].out : in;
    if (ok && !ls.n) {
        ck_err(c, net->name_loc, "network '%s' has no layers", net->name);
        return false;
    }
    if (!ok || !data_ok || e->net.out.rank == 0)
        return ok;
    const nnx_exp_layer *last = &ls.v[ls.n - 1];
    char text[64];
    ck_shape_text(e->net.out, text, sizeof text);
    if (e->net.out.rank != 1) {
        nnx_diag *dg = ck_err(c, last->loc, "the network ends with a %s output; %s needs a flat one", text,
                              nnx_exp_loss_name(e->loss.kind));
        ck_help(dg, "end the network with flatten and dense(N)");
        return false;
    }
    int units = e->net.out.d[0], classes = e->data.classes;
    switch (e->loss.kind) {
    case NNX_XLOSS_CROSS_ENTROPY:
        if (classes && units != classes) {
            nnx_diag *dg = ck_err(c, last->loc, "the network gives %d outputs, but data '%s' has %d classes", units,
                                  e->data.name, classes);
            ck_help(dg, "cross_entropy needs one output per class: end with dense(%d)", classes);
            return false;
        }
        if (units < 2) {
            nnx_diag *dg = ck_err(c, last->loc, "cross_entropy needs one output per class, the network gives %d", units);
            ck_help(dg, "for two classes with one output use loss = binary_cross_entropy");
            return false;
        }
        break;
    case NNX_XLOSS_BCE:
    case NNX_XLOSS_MSE:
        if (units != 1) {
            nnx_diag *dg = ck_err(c, last->loc, "%s needs 1 output, the network gives %d", nnx_exp_loss_name(e->loss.kind),
                                  units);
            ck_help(dg, "end the network with dense(1)");
            return false;
        }
        break;
    }
    return true;
}

/* --- schedule, optimizer ---------------------------------------------------------- */

static bool compile_optim(nnx_checker *c, ck_merged *m, nnx_experiment *e)
{
    bool bad = false;
    ck_val *v = value(c, m, "optimizer", &bad), *a[8] = { 0 };
    if (!v)
        return false;
    const ck_builtin *b = ck_builtin_of(c, &v, CK_B_OPTIM, "optimizer", a);
    if (!b)
        return false;
    /* the runtime's defaults, then each argument its row names */
    nnx_exp_optim *o = &e->optim;
    const nnx_optim_info *row = nnx_optim_info_of((unsigned)b->code);
    nnx_optim_conf_default(o, row->code);
    const ck_val *nesterov = NULL;
    for (size_t j = 0; j < b->nparams && j < NNX_OPTIM_MAX_ARGS; j++) {
        nnx_optim_conf_set(o, row->args[j].field, a[j]->kind == CK_BOOL ? a[j]->boolean : a[j]->num);
        if (row->args[j].field == NNX_OF_NESTEROV)
            nesterov = a[j];
    }
    if (o->nesterov && o->momentum == 0) {
        ck_err(c, nesterov->loc, "sgd: nesterov needs momentum > 0");
        return false;
    }
    return true;
}

/* optim_ok: the optimizer (its lr) checked; when it did not, its lr is a
 * default, not the experiment's, and min_lr is not compared with it. */
static bool compile_decay(nnx_checker *c, ck_merged *m, nnx_experiment *e, bool optim_ok,
                          const ck_val **plateau_on)
{
    bool bad = false;
    ck_val *v = value(c, m, "schedule.decay", &bad), *a[8] = { 0 };
    if (!v)
        return false;
    const ck_builtin *b = ck_builtin_of(c, &v, CK_B_DECAY, "schedule.decay", a);
    if (!b)
        return false;
    /* each argument into the field its row names; the milestones and the
     * monitored metric are checked here */
    nnx_exp_schedule *s = &e->schedule;
    s->decay = (nnx_exp_decay_kind)b->code;
    const nnx_decay_info *row = nnx_decay_info_of((unsigned)b->code);
    for (size_t j = 0; j < b->nparams && j < NNX_DECAY_MAX_ARGS; j++) {
        const ck_val *x = a[j];
        switch (row->args[j].field) {
        case NNX_SF_AT:
            s->nat = x->n;
            if (!s->nat) {
                ck_err(c, x->loc, "%s: at must list at least one epoch", b->name);
                return false;
            }
            s->at = malloc(s->nat * sizeof *s->at);
            if (!s->at)
                return false;
            if (s->nat > MAX_MILESTONES) {
                ck_err(c, x->loc, "%s: at lists %zu epochs, at most %d", b->name, s->nat, MAX_MILESTONES);
                return false;
            }
            for (size_t i = 0; i < s->nat; i++) {
                s->at[i] = x->items[i]->num;
                if (i && s->at[i] <= s->at[i - 1]) {
                    ck_err(c, x->items[i]->loc, "%s: the epochs in `at` must increase", b->name);
                    return false;
                }
            }
            break;
        case NNX_SF_ON:
            *plateau_on = x;
            break;
        default:
            nnx_exp_schedule_set(s, row->args[j].field, x->num);
        }
    }
    if (optim_ok && s->min_lr > e->optim.lr) {
        ck_err(c, v->loc, "%s: min_lr (%g) is above the optimizer's lr (%g) in experiment '%s'", b->name, s->min_lr,
               e->optim.lr, e->name);
        return false;
    }
    return true;
}

/* --- the whole experiment ------------------------------------------------------------ */

/* prune = halving(...) | none (before the search, whose checks of each value
 * would repeat its errors); prune_loc gets where it was written. */
static void compile_prune(nnx_checker *c, ck_merged *m, nnx_experiment *e, nnx_loc *prune_loc)
{
    bool bad = false;
    ck_val *v = value(c, m, "prune", &bad), *a[2] = { 0 };
    if (!v)
        return;
    nnx_loc loc = v->loc;
    const ck_builtin *b = ck_builtin_of(c, &v, CK_B_PRUNE, "prune", a);
    if (!b || b->code == NNX_XPRUNE_NONE)
        return;
    e->prune.kind = (nnx_exp_prune_kind)b->code;
    if (b->code == NNX_XPRUNE_MEDIAN)
        e->prune.after = (int)a[0]->num;
    else {
        e->prune.min_epochs = (int)a[0]->num;
        e->prune.eta = (int)a[1]->num;
    }
    *prune_loc = loc;
}

/* Only a grid or random search prunes (a trial, checked without its search,
 * keeps the rule and ignores it). */
static void check_prune_search(nnx_checker *c, const nnx_experiment *e, nnx_loc loc)
{
    if (c->trial || e->prune.kind == NNX_XPRUNE_NONE)
        return;
    if (e->search.kind != NNX_XSEARCH_GRID && e->search.kind != NNX_XSEARCH_RANDOM &&
        e->search.kind != NNX_XSEARCH_TPE) {
        nnx_diag *dg = ck_err(c, loc, "prune needs a grid, random or tpe search%s",
                              e->search.kind == NNX_XSEARCH_STAGED ? ", not a staged one"
                              : e->nensemble ? ", not an ensemble" : "; this experiment has none");
        ck_help(dg, "add `search random(trials = N) { ... }` or `search grid { ... }`, or drop prune");
    }
}

nnx_experiment *ck_compile(nnx_checker *c, const nnx_item *exp, ck_merged *m, bool check_search)
{
    int before = c->nerr;
    nnx_experiment *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->name = ck_mstrdup(exp->name);
    e->file = ck_mstrdup(exp->loc.src ? exp->loc.src->path : "");
    e->loc = exp->name_loc;
    bool bad = false;

    /* data */
    bool data_ok = false;
    ck_val *dv = value(c, m, "data", &bad);
    if (!dv && !bad && c->partial)
        c->nerr++;
    else if (!dv && !bad)
        ck_err(c, exp->name_loc, "experiment '%s' has no data", exp->name);
    else if (dv) {
        long idx = dv->kind == CK_SYM ? ck_name_index(c, dv->s) : -1;
        if (idx < 0 || c->prog->names[idx]->kind != NNX_I_DATA) {
            const char **names;
            size_t nn = ck_item_names(c, NNX_I_DATA, &names);
            if (dv->kind != CK_SYM)
                ck_err(c, dv->loc, "data must name a data block, got %s", ck_vkind_name(dv->kind));
            else
                ck_err_suggest(c, dv->loc, dv->s, names, nn, "unknown data '%s'", dv->s);
        } else {
            const ck_slot *ds = slot(m, "data");
            if (ds->nargs)
                data_ok = ck_data_with(c, c->prog->names[idx], ds->args, ds->nargs, &e->data);
            else {
                const nnx_exp_data *d = ck_data(c, c->prog->names[idx]);
                if (d) {
                    ck_data_copy(&e->data, d);
                    data_ok = true;
                }
            }
        }
    }

    /* loss */
    int task = CK_TASK_CLASS;
    {
        ck_val *v = value(c, m, "loss", &bad), *a[2] = { 0 };
        const ck_builtin *b = v ? ck_builtin_of(c, &v, CK_B_LOSS, "loss", a) : NULL;
        if (b) {
            e->loss.kind = (nnx_exp_loss_kind)b->code;
            if (e->loss.kind == NNX_XLOSS_CROSS_ENTROPY)
                e->loss.label_smoothing = a[0]->num;
            task = e->loss.kind == NNX_XLOSS_MSE ? CK_TASK_REGR : CK_TASK_CLASS;
            if (data_ok && e->loss.kind == NNX_XLOSS_BCE && e->data.classes && e->data.classes != 2) {
                ck_err(c, v->loc, "binary_cross_entropy needs 2 classes, but data '%s' has %d", e->data.name,
                       e->data.classes);
            }
        }
    }
    compile_model(c, m, e, data_ok);
    bool optim_ok = compile_optim(c, m, e);

    /* a setting that did not check is left out of the checks that compare
     * it with another: its value is a default, not the experiment's */
    ck_val *v;
    bool warmup_ok = scalar(c, m, "schedule.warmup", &v);
    if (warmup_ok && v)
        e->schedule.warmup = v->num;
    bool epochs_ok = scalar(c, m, "epochs", &v);
    if (epochs_ok && v)
        e->epochs = (int)v->num;
    if (scalar(c, m, "batch", &v) && v)
        e->batch = v->kind == CK_NUM ? (int)v->num : 0;
    if (scalar(c, m, "seed", &v) && v)
        e->seed = (uint64_t)v->num;
    if (scalar(c, m, "clip_grad", &v) && v)
        e->clip_grad = v->num;
    if (warmup_ok && epochs_ok && e->epochs && e->schedule.warmup >= e->epochs) {   /* the runtime needs steps after it */
        ck_slot *ws = slot(m, "schedule.warmup");
        nnx_diag *dg = ck_err(c, ws->loc, "warmup lasts %g epoch%s, %s the %d epoch%s of experiment '%s'",
                              e->schedule.warmup, e->schedule.warmup == 1 ? "" : "s",
                              e->schedule.warmup > e->epochs ? "longer than" : "as long as", e->epochs,
                              e->epochs == 1 ? "" : "s", e->name);
        ck_help(dg, "warmup must end before training does: train more epochs or set a shorter warmup "
                "(--set schedule.warmup=0)");
    }
    const ck_val *plateau_on = NULL;
    compile_decay(c, m, e, optim_ok, &plateau_on);

    /* metrics, hooks, selection */
    bool metrics_ok = compile_metrics(c, m, e, task, &bad);
    ck_val *hooks = NULL;
    if (scalar(c, m, "hooks", &hooks))
        check_hooks(c, m, e, hooks);
    bool can_ref = data_ok && metrics_ok;
    e->select = (nnx_exp_metric_ref){ split_present(e, NNX_XSPLIT_VALID) ? NNX_XSPLIT_VALID : NNX_XSPLIT_TRAIN, 0, false };
    ck_val *sel = value(c, m, "select", &bad);
    if (sel && can_ref) {
        if (sel->kind == CK_CALL && ck_builtin_find(sel->s, CK_B_SELECT)) {
            const ck_builtin *b = ck_builtin_find(sel->s, CK_B_SELECT);
            ck_val *a[1] = { 0 };
            if (ck_bind(c, &c->tmp, sel, b->name, b->params, b->nparams, a) &&
                metric_ref(c, e, a[0], "select", &e->select))
                e->select.maximize = b->code == 1;
        } else if (sel->kind == CK_SYM && ck_builtin_find(sel->s, CK_B_SELECT)) {
            ck_err(c, sel->loc, "select = %s needs a metric: %s(valid.loss)", sel->s, sel->s);
        } else if (sel->kind == CK_CALL) {
            ck_err_suggest(c, sel->loc, sel->s, (const char *const[]){ "max", "min" }, 2,
                           "select takes max(METRIC) or min(METRIC), not %s(...)", sel->s);
        } else
            metric_ref(c, e, sel, "select", &e->select);
    }
    ck_val *es = value(c, m, "early_stop", &bad);
    if (es && can_ref) {
        if (es->kind == CK_SYM && !strcmp(es->s, "none")) {
            /* off */
        } else {
            ck_val *a[3] = { 0 };
            const ck_builtin *b = ck_builtin_of(c, &es, CK_B_EARLY, "early_stop", a);
            if (b) {
                e->early_stop.enabled = true;
                e->early_stop.patience = (int)a[0]->num;
                e->early_stop.min_delta = a[2]->num;
                e->early_stop.on = e->select;
                if (a[1] && metric_ref(c, e, a[1], "early_stop", &e->early_stop.on)) {
                    if (e->early_stop.on.split == e->select.split && e->early_stop.on.metric == e->select.metric)
                        e->early_stop.on.maximize = e->select.maximize;
                }
                if (e->epochs && e->early_stop.patience >= e->epochs) {
                    /* allowed: it simply never triggers */
                }
            }
        }
    }
    e->schedule.on = e->select;
    if (plateau_on && can_ref && metric_ref(c, e, plateau_on, "plateau", &e->schedule.on) &&
        e->schedule.on.split == e->select.split && e->schedule.on.metric == e->select.metric)
        e->schedule.on.maximize = e->select.maximize;

    /* loggers */
    ck_val *lg = value(c, m, "log", &bad);
    if (lg) {
        const ck_val *one[1] = { lg };
        const ck_val *const *items = lg->kind == CK_LIST ? (const ck_val *const *)lg->items : one;
        size_t n = lg->kind == CK_LIST ? lg->n : 1;
        size_t nn;
        const char **names = ck_builtin_names(&c->tmp, CK_B_LOGGER, &nn);
        for (size_t i = 0; i < n; i++) {
            const ck_val *x = items[i];
            const ck_builtin *b = x->kind == CK_SYM ? ck_builtin_find(x->s, CK_B_LOGGER) : NULL;
            if (x->kind == CK_SYM && !strcmp(x->s, "none") && n == 1)
                continue;
            if (!b) {
                if (x->kind == CK_SYM)
                    ck_err_suggest(c, x->loc, x->s, names, nn, "unknown logger '%s'", x->s);
                else
                    ck_err(c, x->loc, "a logger is a name such as csv, got %s", ck_vkind_name(x->kind));
                continue;
            }
            e->log[b->code] = true;
        }
    }

    /* ensemble */
    ck_val *seeds = NULL;
    if (scalar(c, m, "ensemble.seeds", &seeds) && seeds) {
        if (seeds->kind == CK_NUM) {
            if (seeds->num < 1 || seeds->num > MAX_SEEDS)
                ck_err(c, seeds->loc, "ensemble.seeds: a count must be in [1, %d], got %g", MAX_SEEDS, seeds->num);
            else {
                e->nensemble = (size_t)seeds->num;
                e->ensemble_seeds = malloc(e->nensemble * sizeof *e->ensemble_seeds);
                for (size_t i = 0; e->ensemble_seeds && i < e->nensemble; i++)
                    e->ensemble_seeds[i] = i + 1;
            }
        } else if (!seeds->n) {
            ck_err(c, seeds->loc, "ensemble.seeds is an empty list");
        } else if (seeds->n > MAX_SEEDS) {
            ck_err(c, seeds->loc, "ensemble.seeds lists more than %d seeds", MAX_SEEDS);
        } else {
            e->ensemble_seeds = malloc(seeds->n * sizeof *e->ensemble_seeds);
            for (size_t i = 0; e->ensemble_seeds && i < seeds->n; i++) {
                e->ensemble_seeds[i] = (uint64_t)seeds->items[i]->num;
                for (size_t j = 0; j < i; j++)
                    if (e->ensemble_seeds[j] == e->ensemble_seeds[i])
                        ck_err(c, seeds->items[i]->loc, "seed %g is listed twice", seeds->items[i]->num);
            }
            e->nensemble = e->ensemble_seeds ? seeds->n : 0;
        }
    }

    nnx_loc prune_loc = { 0 };
    compile_prune(c, m, e, &prune_loc);
    /* search: only once the experiment itself is sound */
    if (m->search && !c->trial) {
        if (e->nensemble) {
            nnx_diag *dg = ck_err(c, m->search->loc, "an experiment cannot have both a search and an ensemble");
            ck_help(dg, "search first; then extend it with the best values and an ensemble");
        } else
            ck_compile_search(c, m, e, check_search && c->nerr == before);
    }
    check_prune_search(c, e, prune_loc);
    (void)bad;
    if (c->nerr > before) {
        nnx_experiment_free(e);
        return NULL;
    }
    return e;
}

/* --- public API ---------------------------------------------------------------------- */


static const nnx_item *find_experiment(nnx_checker *c, const char *name)
{
    const char **names;
    size_t n = ck_item_names(c, NNX_I_EXPERIMENT, &names);
    const char *file = c->prog->nfiles && c->prog->files[0]->src ? c->prog->files[0]->src->path : "the program";
    if (!name) {
        /* the experiments of the file the user named */
        const nnx_item *only = NULL;
        size_t count = 0;
        for (size_t i = 0; c->prog->nfiles && i < c->prog->files[0]->nitems; i++)
            if (c->prog->files[0]->items[i]->kind == NNX_I_EXPERIMENT) {
                only = c->prog->files[0]->items[i];
                count++;
            }
        if (count == 1)
            return only;
        if (!count) {
            ck_err(c, ck_noloc(), "%s has no experiment", file);
            return NULL;
        }
        ck_buf b = { 0 };
        for (size_t i = 0; i < c->prog->files[0]->nitems; i++)
            if (c->prog->files[0]->items[i]->kind == NNX_I_EXPERIMENT)
                ck_buf_printf(&b, "%s%s", b.len ? ", " : "", c->prog->files[0]->items[i]->name);
        nnx_diag *dg = ck_err(c, ck_noloc(), "%s has %zu experiments; name the one to use", file, count);
        ck_help(dg, "one of: %s", b.s ? b.s : "");
        free(b.s);
        return NULL;
    }
    long idx = ck_name_index(c, name);
    if (idx < 0 || c->prog->names[idx]->kind != NNX_I_EXPERIMENT) {
        ck_err_suggest(c, ck_noloc(), name, names, n, "%s has no experiment '%s'", file, name);
        return NULL;
    }
    return c->prog->names[idx];
}

static bool keep_source(nnx_checker *c, nnx_source *s)
{
    nnx_source **v = realloc(c->srcs, (c->nsrcs + 1) * sizeof *v);
    if (!v) {
        nnx_source_free(s);
        return false;
    }
    c->srcs = v;
    c->srcs[c->nsrcs++] = s;
    return true;
}

static nnx_experiment *check_one(nnx_checker *c, const char *name, const nnx_override *ov,
                                 const char *const *origins, size_t nov, nnx_diags *d);

nnx_experiment *nnx_check_experiment(nnx_checker *c, const char *name, const nnx_override *ov, size_t nov,
                                     nnx_diags *d)
{
    return nnx_check_experiment_from(c, name, ov, NULL, nov, d);
}

nnx_experiment *nnx_check_experiment_from(nnx_checker *c, const char *name, const nnx_override *ov,
                                          const char *const *origins, size_t nov, nnx_diags *d)
{
    c->d = d;
    c->nerr = 0;
    ck_arena_free(&c->tmp);
    nnx_diag *first = d->tail;
    nnx_experiment *e = check_one(c, name, ov, origins, nov, d);
    ck_sort_diags(c->prog, d, first);
    return e;
}

static nnx_experiment *check_one(nnx_checker *c, const char *name, const nnx_override *ov,
                                 const char *const *origins, size_t nov, nnx_diags *d)
{
    const nnx_item *exp = find_experiment(c, name);
    if (!exp)
        return NULL;
    ck_merged m;
    bool ok = ck_merge(c, exp, &m);
    nnx_expr **exprs = nov ? calloc(nov, sizeof *exprs) : NULL;
    for (size_t i = 0; i < nov; i++) {
        nnx_source *show = NULL;
        exprs[i] = exprs ? ck_parse_override(&ov[i], origins ? origins[i] : NULL, &show, d) : NULL;
        if (show)
            keep_source(c, show);
        if (!exprs || !exprs[i]) {
            c->nerr++;
            ok = false;
            continue;
        }
        nnx_loc path_loc = { show, 0, (uint32_t)strlen(ov[i].path) };
        if (!ck_override(c, &m, ov[i].path, path_loc, exprs[i], NULL, NULL)) {
            m.partial |= ok;    /* a statement error, unless the chain had failed */
            ok = false;
        }
    }
    /* after statement errors, compile anyway: the experiment's other errors
     * are independent of them and are reported in the same run */
    c->partial = !ok && m.partial;
    nnx_experiment *e = ok || c->partial ? ck_compile(c, exp, &m, true) : NULL;
    c->partial = false;
    if (e && nov) {
        e->params = calloc(nov, sizeof *e->params);
        for (size_t i = 0; e->params && i < nov; i++) {
            ck_val *v = ck_eval(c, &c->tmp, exprs[i], NULL);
            e->params[i].path = ck_mstrdup(ov[i].path);
            e->params[i].value = ck_mstrdup(v ? ck_val_text(&c->tmp, v) : ov[i].value);
            e->nparams++;
        }
    }
    for (size_t i = 0; exprs && i < nov; i++)
        nnx_expr_free(exprs[i]);
    free(exprs);
    if (c->nerr && e) {
        nnx_experiment_free(e);
        e = NULL;
    }
    return e;
}

nnx_experiment *nnx_check_data_block(nnx_checker *c, const char *name, nnx_diags *d)
{
    long idx = ck_name_index(c, name);
    if (idx < 0 || c->prog->names[idx]->kind != NNX_I_DATA)
        return NULL;
    c->d = d;
    c->nerr = 0;
    ck_arena_free(&c->tmp);
    nnx_diag *first = d->tail;
    const nnx_item *it = c->prog->names[idx];
    const nnx_exp_data *data = ck_data(c, it);
    nnx_experiment *e = data ? calloc(1, sizeof *e) : NULL;
    if (e) {
        ck_data_copy(&e->data, data);
        e->name = ck_mstrdup(name);
        e->loss.kind = NNX_XLOSS_CROSS_ENTROPY;
        if (it->name_loc.src && it->name_loc.src->path)
            e->file = ck_mstrdup(it->name_loc.src->path);
    }
    ck_sort_diags(c->prog, d, first);
    return e;
}

/* Networks no experiment uses: check their layers with default arguments. */
static void check_unused_network(nnx_checker *c, const nnx_item *net)
{
    for (size_t i = 0; i < net->nparams; i++)
        if (!net->params[i].deflt)
            return;
    ck_layers ls = { 0 };
    ck_val *call = ck_val_call0(&c->tmp, net->name, net->name_loc);
    if (call)
        ck_instantiate(c, net, call, (nnx_exp_shape){ 0, { 0, 0, 0 } }, &ls);
    free(ls.v);
}

size_t nnx_check_program(nnx_checker *c, const nnx_override *ov, size_t nov, nnx_diags *d)
{
    return nnx_check_program_from(c, ov, NULL, nov, d);
}

size_t nnx_check_program_from(nnx_checker *c, const nnx_override *ov, const char *const *origins,
                              size_t nov, nnx_diags *d)
{
    nnx_diag *before = d->tail;
    size_t n = 0;
    const nnx_program *p = c->prog;
    bool *used = calloc(p->nnames + 1, 1);
    for (size_t f = 0; f < p->nfiles; f++)
        for (size_t i = 0; i < p->files[f]->nitems; i++) {
            const nnx_item *it = p->files[f]->items[i];
            if (it->kind != NNX_I_EXPERIMENT || it->syntax_error)
                continue;
            if (ck_name_index(c, it->name) < 0 || c->prog->names[ck_name_index(c, it->name)] != it)
                continue;   /* a duplicate name: resolve reported it */
            nnx_diag *last = d->tail;
            nnx_experiment *e = nnx_check_experiment_from(c, it->name, ov, origins, nov, d);
            if (nov)
                nnx_diags_drop_repeats(d, last);
            if (e && used) {
                long di = ck_name_index(c, e->data.name), ni = ck_name_index(c, e->net.name);
                if (di >= 0)
                    used[di] = true;
                if (ni >= 0)
                    used[ni] = true;
            }
            nnx_experiment_free(e);
            n++;
        }
    /* data blocks and networks of the named file that no experiment checked */
    c->d = d;
    ck_arena_free(&c->tmp);
    for (size_t i = 0; p->nfiles && i < p->files[0]->nitems; i++) {
        const nnx_item *it = p->files[0]->items[i];
        long idx = it->name ? ck_name_index(c, it->name) : -1;
        if (idx < 0 || p->names[idx] != it || it->syntax_error || (used && used[idx]))
            continue;
        if (it->kind == NNX_I_DATA && c->data_state[idx] == 0)
            ck_data(c, it);
        else if (it->kind == NNX_I_NETWORK && !c->net_used[idx])
            check_unused_network(c, it);
        else if (it->kind == NNX_I_LET && c->let_state[idx] == 0) {
            ck_val *v = ck_eval(c, &c->tmp, it->value, NULL);
            (void)v;
        }
    }
    free(used);
    ck_sort_diags(p, d, before);
    return n;
}
