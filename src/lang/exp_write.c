/* exp_write.c — write a compiled experiment back as canonical, self-contained .nnx text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

static void num(ck_buf *b, double x) { ck_num_write(b, x); }

static void keep(ck_buf *b, const nnx_exp_source *s)
{
    if (!s->nkeep)
        return;
    ck_buf_puts(b, ", classes = [");
    for (size_t i = 0; i < s->nkeep; i++)
        ck_buf_printf(b, "%s%d", i ? ", " : "", s->keep[i]);
    ck_buf_puts(b, "]");
}

static void source(ck_buf *b, const nnx_exp_source *s)
{
    switch (s->kind) {
    case NNX_XSRC_NONE:
        break;
    case NNX_XSRC_IDX:
        ck_buf_puts(b, "idx(");
        ck_str_write(b, s->images);
        ck_buf_puts(b, ", ");
        ck_str_write(b, s->labels);
        keep(b, s);
        ck_buf_puts(b, ")");
        break;
    case NNX_XSRC_CSV: {
        char delim[2] = { s->delimiter, 0 };
        ck_buf_puts(b, "csv(");
        ck_str_write(b, s->path);
        ck_buf_puts(b, ", label = ");
        if (s->label_name)
            ck_str_write(b, s->label_name);
        else if (s->label_index == NNX_EXP_NO_LABEL)
            ck_buf_puts(b, "none");
        else
            ck_buf_printf(b, "%d", s->label_index);
        ck_buf_printf(b, ", header = %s, delimiter = ", s->header ? "true" : "false");
        ck_str_write(b, delim);
        keep(b, s);
        if (s->categorical_auto)
            ck_buf_puts(b, ", categorical = auto");
        for (size_t i = 0; i < s->ncategorical; i++) {
            ck_buf_puts(b, i ? ", " : ", categorical = [");
            ck_str_write(b, s->categorical[i]);
            ck_buf_puts(b, i + 1 == s->ncategorical ? "]" : "");
        }
        static const char *const policies[] = { "error", "mean", "median", "zero" };
        if (s->missing != NNX_XMISSING_ERROR)
            ck_buf_printf(b, ", missing = %s", policies[s->missing]);
        ck_buf_puts(b, ")");
        break;
    }
    case NNX_XSRC_NPY:
        ck_buf_puts(b, "npy(");
        ck_str_write(b, s->images);
        ck_buf_puts(b, ", ");
        ck_str_write(b, s->labels);
        ck_buf_puts(b, ")");
        break;
    case NNX_XSRC_SPLIT:
        ck_buf_printf(b, "split(%s, ", nnx_exp_split_name(s->from));
        num(b, s->fraction);
        ck_buf_printf(b, ", stratify = %s", s->stratify ? "true" : "false");
        if (s->has_seed)
            ck_buf_printf(b, ", seed = %llu", (unsigned long long)s->seed);
        ck_buf_puts(b, ")");
        break;
    case NNX_XSRC_SPIRALS:
        ck_buf_printf(b, "spirals(n = %d, classes = %d, noise = ", s->n, s->classes);
        num(b, s->noise);
        ck_buf_printf(b, ", seed = %llu)", (unsigned long long)s->seed);
        break;
    case NNX_XSRC_BLOBS:
        ck_buf_printf(b, "blobs(n = %d, classes = %d, features = %d, spread = ", s->n, s->classes, s->features);
        num(b, s->noise);
        ck_buf_printf(b, ", seed = %llu)", (unsigned long long)s->seed);
        break;
    }
}

/* A layer as its catalog row spells it: the required arguments (and those
 * marked CK_R_POSITIONAL) by position, the others by name; a bare name when
 * it has none. */
static void layer(ck_buf *b, const nnx_exp_layer *l)
{
    const ck_builtin *row = ck_layer_builtin(l);
    ck_buf_puts(b, nnx_exp_layer_name(l));
    if (!row || row->nparams == 0)
        return;
    ck_buf_puts(b, "(");
    for (size_t j = 0; j < row->nparams && j < NNX_LAYER_MAX_ARGS; j++) {
        const ck_param *p = &row->params[j];
        ck_buf_puts(b, j ? ", " : "");
        if (!p->required && !(p->range & CK_R_POSITIONAL))
            ck_buf_printf(b, "%s = ", p->name);
        if (p->ty == CK_T_BOOL)
            ck_buf_puts(b, l->arg[j] ? "true" : "false");
        else if (p->ty == CK_T_INT)
            ck_buf_printf(b, "%d", (int)l->arg[j]);
        else
            num(b, l->arg[j]);
    }
    ck_buf_puts(b, ")");
}

static void ref(ck_buf *b, const nnx_experiment *e, nnx_exp_metric_ref r)
{
    char tmp[256];
    ck_buf_puts(b, nnx_exp_metric_ref_str(e, r, tmp, sizeof tmp));
}

/* An optimizer argument's value as text. */
static void optim_value(ck_buf *b, const nnx_exp_optim *o, enum nnx_optim_field f)
{
    if (f == NNX_OF_NESTEROV)
        ck_buf_puts(b, o->nesterov ? "true" : "false");
    else
        num(b, nnx_optim_conf_get(o, f));
}

/* sgd(lr = 0.1, momentum = 0.9, ...): every argument of its row, by name. */
static void optimizer(ck_buf *b, const nnx_exp_optim *o)
{
    const nnx_optim_info *row = nnx_optim_info_of((unsigned)o->kind);
    ck_buf_printf(b, "%s(", nnx_exp_optim_name(o->kind));
    for (int j = 0; row && j < NNX_OPTIM_MAX_ARGS && row->args[j].field != NNX_OF_NONE; j++) {
        ck_buf_printf(b, "%s%s = ", j ? ", " : "", row->args[j].name);
        optim_value(b, o, row->args[j].field);
    }
    ck_buf_puts(b, ")");
}

/* cosine(min_lr = 0), multistep(at = [5, 10], gamma = 0.1), ...: every
 * argument of its row, by name; none as a bare name. */
static void decay(ck_buf *b, const nnx_experiment *e)
{
    const nnx_exp_schedule *s = &e->schedule;
    const nnx_decay_info *row = nnx_decay_info_of((unsigned)s->decay);
    ck_buf_puts(b, nnx_exp_decay_name(s->decay));
    if (!row || row->args[0].field == NNX_SF_NONE)
        return;
    ck_buf_puts(b, "(");
    for (int j = 0; j < NNX_DECAY_MAX_ARGS && row->args[j].field != NNX_SF_NONE; j++) {
        ck_buf_printf(b, "%s%s = ", j ? ", " : "", row->args[j].name);
        switch (row->args[j].field) {
        case NNX_SF_AT:
            ck_buf_puts(b, "[");
            for (size_t i = 0; i < s->nat; i++) {
                ck_buf_puts(b, i ? ", " : "");
                num(b, s->at[i]);
            }
            ck_buf_puts(b, "]");
            break;
        case NNX_SF_ON:
            ref(b, e, s->on);
            break;
        case NNX_SF_PATIENCE:
            ck_buf_printf(b, "%d", s->patience);
            break;
        default:
            num(b, nnx_exp_schedule_get(s, row->args[j].field));
        }
    }
    ck_buf_puts(b, ")");
}

/* A search axis's values: [v1, v2] or uniform(lo, hi). */
/* `halving(min_epochs = 1, eta = 3)`, `median(after = 3)`, ... */
static void prune_text(ck_buf *b, const nnx_exp_prune *p)
{
    if (p->kind == NNX_XPRUNE_MEDIAN)
        ck_buf_printf(b, "median(after = %d)", p->after);
    else
        ck_buf_printf(b, "%s(min_epochs = %d, eta = %d)", p->kind == NNX_XPRUNE_HALVING ? "halving" : "hyperband",
                      p->min_epochs, p->eta);
}

/* `random(trials = 20, seed = 1)`, `tpe(...)`, `grid` */
static void search_text(ck_buf *b, const nnx_exp_search *s)
{
    if (s->kind == NNX_XSEARCH_RANDOM)
        ck_buf_printf(b, "random(trials = %d, seed = %llu)", s->trials, (unsigned long long)s->seed);
    else if (s->kind == NNX_XSEARCH_TPE)
        ck_buf_printf(b, "tpe(trials = %d, seed = %llu, startup = %d, lag = %d)", s->trials,
                      (unsigned long long)s->seed, s->startup, s->lag);
    else
        ck_buf_puts(b, nnx_exp_search_name(s->kind));
}

static void axis_values(ck_buf *b, const nnx_exp_axis *ax)
{
    if (ax->kind == NNX_XDIST_LIST) {
        ck_buf_puts(b, "[");
        for (size_t j = 0; j < ax->nvalues; j++)
            ck_buf_printf(b, "%s%s", j ? ", " : "", ax->values[j]);
        ck_buf_puts(b, "]");
    } else {
        ck_buf_printf(b, "%s(", ax->kind == NNX_XDIST_UNIFORM ? "uniform" : "loguniform");
        num(b, ax->lo);
        ck_buf_puts(b, ", ");
        num(b, ax->hi);
        ck_buf_puts(b, ")");
    }
}

/* [accuracy, lua.f1] */
static void metric_list(ck_buf *b, const nnx_experiment *e)
{
    ck_buf_puts(b, "[");
    for (size_t i = 1; i < e->nmetrics; i++)
        ck_buf_printf(b, "%s%s%s", i > 1 ? ", " : "", e->metrics[i].kind == NNX_XMETRIC_LUA ? "lua." : "",
                      e->metrics[i].name);
    ck_buf_puts(b, "]");
}

/* patience(3, on = valid.loss, min_delta = 0) or none */
static void early_stop(ck_buf *b, const nnx_experiment *e)
{
    if (!e->early_stop.enabled) {
        ck_buf_puts(b, "none");
        return;
    }
    ck_buf_printf(b, "patience(%d, on = ", e->early_stop.patience);
    ref(b, e, e->early_stop.on);
    ck_buf_puts(b, ", min_delta = ");
    num(b, e->early_stop.min_delta);
    ck_buf_puts(b, ")");
}

/* [csv, tensorboard] */
static void log_list(ck_buf *b, const nnx_experiment *e)
{
    ck_buf_puts(b, "[");
    bool first = true;
    for (int i = 0; i < NNX_XLOG_COUNT; i++)
        if (e->log[i]) {
            ck_buf_printf(b, "%s%s", first ? "" : ", ", nnx_exp_logger_name((nnx_exp_logger)i));
            first = false;
        }
    ck_buf_puts(b, "]");
}

char *nnx_experiment_write(const nnx_experiment *e)
{
    ck_buf b = { 0 };
    const nnx_exp_data *d = &e->data;
    ck_buf_printf(&b, "# experiment '%s' as nnx compiled it", e->name);
    if (e->file && *e->file)
        ck_buf_printf(&b, " from %s", e->file);
    ck_buf_puts(&b, "\n");
    for (size_t i = 0; i < e->nparams; i++)
        ck_buf_printf(&b, "# --set %s=%s\n", e->params[i].path, e->params[i].value);

    ck_buf_printf(&b, "\ndata %s {\n", d->name);
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++) {
        if (d->split[s].kind == NNX_XSRC_NONE)
            continue;
        ck_buf_printf(&b, "    %s = ", nnx_exp_split_name((nnx_exp_split)s));
        source(&b, &d->split[s]);
        ck_buf_puts(&b, "\n");
    }
    static const char *const norms[] = { "none", "standard", "minmax" };
    ck_buf_printf(&b, "    normalize = %s\n", norms[d->normalize]);
    if (d->shape.rank == 3)
        ck_buf_printf(&b, "    shape = [%d, %d, %d]\n", d->shape.d[0], d->shape.d[1], d->shape.d[2]);
    if (d->aug_flip)
        ck_buf_puts(&b, "    augment.flip = true\n");
    if (d->aug_shift)
        ck_buf_printf(&b, "    augment.shift = %d\n", d->aug_shift);
    ck_buf_puts(&b, "}\n");

    ck_buf_printf(&b, "\nnetwork %s {\n", e->net.name);
    int depth = 1;      /* residual blocks nest */
    for (size_t i = 0; i < e->net.nlayers; i++) {
        const nnx_exp_layer *l = &e->net.layers[i];
        char shape[64];
        ck_shape_text(l->out, shape, sizeof shape);
        if (l->op == NNX_LAYER_RESIDUAL_ADD)
            depth--;
        for (int k = 0; k < depth; k++)
            ck_buf_puts(&b, "    ");
        if (l->op == NNX_LAYER_RESIDUAL) {
            ck_buf_printf(&b, "residual(project = %s) {    # input %s\n",
                          l->arg[0] ? "true" : "false", shape);
            depth++;
            continue;
        }
        if (l->op == NNX_LAYER_RESIDUAL_ADD) {
            ck_buf_printf(&b, "}    # -> %s", shape);
            if (l->end.proj == NNX_XPROJ_CONV)
                ck_buf_printf(&b, ", skip: 1×1 conv projection, stride %d", l->end.stride);
            else if (l->end.proj == NNX_XPROJ_DENSE)
                ck_buf_puts(&b, ", skip: dense projection");
            ck_buf_puts(&b, "\n");
            continue;
        }
        layer(&b, l);
        ck_buf_printf(&b, "    # -> %s\n", shape);
    }
    ck_buf_puts(&b, "}\n");

    ck_buf_printf(&b, "\nexperiment %s {\n", e->name);
    ck_buf_printf(&b, "    data = %s\n    model = %s\n", d->name, e->net.name);
    ck_buf_puts(&b, "    loss = ");
    if (e->loss.kind == NNX_XLOSS_CROSS_ENTROPY) {
        ck_buf_puts(&b, "cross_entropy(label_smoothing = ");
        num(&b, e->loss.label_smoothing);
        ck_buf_puts(&b, ")\n");
    } else
        ck_buf_printf(&b, "%s\n", nnx_exp_loss_name(e->loss.kind));
    ck_buf_puts(&b, "    optimizer = ");
    optimizer(&b, &e->optim);
    ck_buf_puts(&b, "\n    schedule {\n        warmup = ");
    num(&b, e->schedule.warmup);
    ck_buf_puts(&b, "\n        decay = ");
    decay(&b, e);
    ck_buf_puts(&b, "\n    }\n");
    ck_buf_printf(&b, "    epochs = %d\n", e->epochs);
    if (e->batch)
        ck_buf_printf(&b, "    batch = %d\n", e->batch);
    else
        ck_buf_puts(&b, "    batch = auto\n");
    ck_buf_printf(&b, "    seed = %llu\n    clip_grad = ", (unsigned long long)e->seed);
    num(&b, e->clip_grad);
    ck_buf_puts(&b, "\n    metrics = ");
    metric_list(&b, e);
    ck_buf_printf(&b, "\n    select = %s(", e->select.maximize ? "max" : "min");
    ref(&b, e, e->select);
    ck_buf_puts(&b, ")\n    early_stop = ");
    early_stop(&b, e);
    ck_buf_puts(&b, "\n    log = ");
    log_list(&b, e);
    ck_buf_puts(&b, "\n");
    if (e->hooks) {
        ck_buf_puts(&b, "    hooks = ");
        ck_str_write(&b, e->hooks);
        ck_buf_puts(&b, "\n");
    }
    if (e->nensemble) {
        ck_buf_puts(&b, "    ensemble { seeds = [");
        for (size_t i = 0; i < e->nensemble; i++)
            ck_buf_printf(&b, "%s%llu", i ? ", " : "", (unsigned long long)e->ensemble_seeds[i]);
        ck_buf_puts(&b, "] }\n");
    }
    const nnx_exp_search *s = &e->search;
    if (s->kind != NNX_XSEARCH_NONE) {
        /* A search over network arguments cannot apply to the flattened
         * network written above: keep it as a comment, for the record. */
        bool net_args = false;
        for (size_t i = 0; i < s->naxes; i++)
            net_args |= !strncmp(s->axes[i].path, "model.", 6);
        const char *pre = net_args ? "    # " : "    ";
        if (net_args)
            ck_buf_puts(&b, "    # the search, as checked; it sets arguments of the network, which the\n"
                            "    # flattened network above no longer has (each trial's values are in its params)\n");
        if (e->prune.kind != NNX_XPRUNE_NONE) {
            ck_buf_printf(&b, "%sprune = ", pre);
            prune_text(&b, &e->prune);
            ck_buf_puts(&b, "\n");
        }
        ck_buf_printf(&b, "%ssearch ", pre);
        search_text(&b, s);
        ck_buf_puts(&b, " {\n");
        for (size_t i = 0; i < s->naxes; i++) {
            const nnx_exp_axis *ax = &s->axes[i];
            ck_buf_printf(&b, "%s    %s in ", pre, ax->path);
            axis_values(&b, ax);
            ck_buf_puts(&b, "\n");
        }
        ck_buf_printf(&b, "%s}\n", pre);
    }
    ck_buf_puts(&b, "}\n");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* --- the same settings as a list of paths ---------------------------------------- */

typedef struct setting_list {
    nnx_exp_param *items;
    size_t n, cap;
    bool oom;
} setting_list;

/* Add path = the buffer's text (taken; the buffer is left empty). */
static void put_setting(setting_list *l, const char *path, ck_buf *b)
{
    char *value = b->s ? b->s : strdup("");
    bool oom = b->oom || !value;
    memset(b, 0, sizeof *b);
    if (!oom && l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        nnx_exp_param *it = realloc(l->items, cap * sizeof *it);
        if (it) {
            l->items = it;
            l->cap = cap;
        } else
            oom = true;
    }
    char *p = oom ? NULL : strdup(path);
    if (!p) {
        free(value);
        l->oom = true;
        return;
    }
    l->items[l->n].path = p;
    l->items[l->n++].value = value;
}

static void put_num(setting_list *l, const char *path, double x)
{
    ck_buf b = { 0 };
    num(&b, x);
    put_setting(l, path, &b);
}

static void put_text(setting_list *l, const char *path, const char *text)
{
    ck_buf b = { 0 };
    ck_buf_puts(&b, text);
    put_setting(l, path, &b);
}

nnx_exp_param *nnx_experiment_settings(const nnx_experiment *e, size_t *count)
{
    setting_list l = { 0 };
    ck_buf b = { 0 };
    char path[64];
    const nnx_exp_data *d = &e->data;
    put_text(&l, "data", d->name);
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++) {
        if (d->split[s].kind == NNX_XSRC_NONE)
            continue;
        snprintf(path, sizeof path, "data.%s", nnx_exp_split_name((nnx_exp_split)s));
        source(&b, &d->split[s]);
        put_setting(&l, path, &b);
    }
    static const char *const norms[] = { "none", "standard", "minmax" };
    put_text(&l, "data.normalize", norms[d->normalize]);
    if (d->shape.rank == 3) {
        ck_buf_printf(&b, "[%d, %d, %d]", d->shape.d[0], d->shape.d[1], d->shape.d[2]);
        put_setting(&l, "data.shape", &b);
    }
    if (d->aug_flip)
        put_text(&l, "data.augment.flip", "true");
    if (d->aug_shift) {
        ck_buf_printf(&b, "%d", d->aug_shift);
        put_setting(&l, "data.augment.shift", &b);
    }
    put_text(&l, "model", e->net.name);
    for (size_t i = 0; i < e->net.nlayers; i++) {
        snprintf(path, sizeof path, "model[%zu]", i + 1);
        layer(&b, &e->net.layers[i]);
        put_setting(&l, path, &b);
    }
    put_text(&l, "loss", nnx_exp_loss_name(e->loss.kind));
    if (e->loss.kind == NNX_XLOSS_CROSS_ENTROPY)
        put_num(&l, "loss.label_smoothing", e->loss.label_smoothing);
    const nnx_exp_optim *o = &e->optim;
    put_text(&l, "optimizer", nnx_exp_optim_name(o->kind));
    const nnx_optim_info *orow = nnx_optim_info_of((unsigned)o->kind);
    for (int j = 0; orow && j < NNX_OPTIM_MAX_ARGS && orow->args[j].field != NNX_OF_NONE; j++) {
        optim_value(&b, o, orow->args[j].field);
        snprintf(path, sizeof path, "optimizer.%s", orow->args[j].name);
        put_setting(&l, path, &b);
    }
    put_num(&l, "schedule.warmup", e->schedule.warmup);
    decay(&b, e);
    put_setting(&l, "schedule.decay", &b);
    ck_buf_printf(&b, "%d", e->epochs);
    put_setting(&l, "epochs", &b);
    if (e->batch)
        ck_buf_printf(&b, "%d", e->batch);
    else
        ck_buf_puts(&b, "auto");
    put_setting(&l, "batch", &b);
    ck_buf_printf(&b, "%llu", (unsigned long long)e->seed);
    put_setting(&l, "seed", &b);
    put_num(&l, "clip_grad", e->clip_grad);
    metric_list(&b, e);
    put_setting(&l, "metrics", &b);
    ck_buf_printf(&b, "%s(", e->select.maximize ? "max" : "min");
    ref(&b, e, e->select);
    ck_buf_puts(&b, ")");
    put_setting(&l, "select", &b);
    early_stop(&b, e);
    put_setting(&l, "early_stop", &b);
    log_list(&b, e);
    put_setting(&l, "log", &b);
    if (e->hooks)
        put_text(&l, "hooks", e->hooks);
    if (e->nensemble) {
        ck_buf_puts(&b, "[");
        for (size_t i = 0; i < e->nensemble; i++)
            ck_buf_printf(&b, "%s%llu", i ? ", " : "", (unsigned long long)e->ensemble_seeds[i]);
        ck_buf_puts(&b, "]");
        put_setting(&l, "ensemble.seeds", &b);
    }
    const nnx_exp_search *s = &e->search;
    if (s->kind != NNX_XSEARCH_NONE) {
        search_text(&b, s);
        put_setting(&l, "search", &b);
        if (e->prune.kind != NNX_XPRUNE_NONE) {
            prune_text(&b, &e->prune);
            put_setting(&l, "prune", &b);
        }
        for (size_t i = 0; i < s->naxes; i++) {
            const nnx_exp_axis *ax = &s->axes[i];
            axis_values(&b, ax);
            char *p = malloc(strlen(ax->path) + sizeof "search.");
            if (!p) {
                l.oom = true;
                break;
            }
            sprintf(p, "search.%s", ax->path);
            put_setting(&l, p, &b);
            free(p);
        }
    }
    free(b.s);
    if (l.oom) {
        nnx_exp_params_free(l.items, l.n);
        *count = 0;
        return NULL;
    }
    *count = l.n;
    return l.items;
}

void nnx_exp_params_free(nnx_exp_param *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].path);
        free(p[i].value);
    }
    free(p);
}
