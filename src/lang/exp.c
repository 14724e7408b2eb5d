/* exp.c — the compiled experiment: freeing, comparing, and the language names of its enums. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

void nnx_experiment_free(nnx_experiment *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->file);
    ck_data_free(&e->data);
    free(e->net.name);
    free(e->net.layers);
    free(e->schedule.at);
    for (size_t i = 0; i < e->nmetrics; i++)
        free(e->metrics[i].name);
    free(e->metrics);
    free(e->hooks);
    for (size_t i = 0; i < e->search.naxes; i++) {
        nnx_exp_axis *ax = &e->search.axes[i];
        free(ax->path);
        for (size_t j = 0; j < ax->nvalues; j++)
            free(ax->values[j]);
        free(ax->values);
    }
    free(e->search.axes);
    free(e->ensemble_seeds);
    for (size_t i = 0; i < e->nparams; i++) {
        free(e->params[i].path);
        free(e->params[i].value);
    }
    free(e->params);
    free(e);
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool shape_eq(nnx_exp_shape a, nnx_exp_shape b)
{
    if (a.rank != b.rank)
        return false;
    for (int i = 0; i < a.rank; i++)
        if (a.d[i] != b.d[i])
            return false;
    return true;
}

static bool source_eq(const nnx_exp_source *a, const nnx_exp_source *b)
{
    if (a->kind != b->kind || a->nkeep != b->nkeep)
        return false;
    for (size_t i = 0; i < a->nkeep; i++)
        if (a->keep[i] != b->keep[i])
            return false;
    switch (a->kind) {
    case NNX_XSRC_NONE: return true;
    case NNX_XSRC_IDX:
    case NNX_XSRC_NPY: return str_eq(a->images, b->images) && str_eq(a->labels, b->labels);
    case NNX_XSRC_CSV:
        if (a->ncategorical != b->ncategorical)
            return false;
        for (size_t i = 0; i < a->ncategorical; i++)
            if (!str_eq(a->categorical[i], b->categorical[i]))
                return false;
        return str_eq(a->path, b->path) && str_eq(a->label_name, b->label_name) &&
               a->label_index == b->label_index && a->header == b->header && a->delimiter == b->delimiter &&
               a->categorical_auto == b->categorical_auto && a->missing == b->missing;
    case NNX_XSRC_SPLIT: return a->from == b->from && a->fraction == b->fraction && a->stratify == b->stratify &&
                                a->has_seed == b->has_seed && (!a->has_seed || a->seed == b->seed);
    case NNX_XSRC_SPIRALS:
    case NNX_XSRC_BLOBS:
        return a->n == b->n && a->classes == b->classes && a->features == b->features &&
               a->noise == b->noise && a->seed == b->seed;
    }
    return false;
}

/* Every kind's arguments are in arg[] (the unused ones 0), so one
 * comparison serves them all. */
static bool layer_eq(const nnx_exp_layer *a, const nnx_exp_layer *b)
{
    if (a->op != b->op || !shape_eq(a->in, b->in) || !shape_eq(a->out, b->out) || a->act != b->act)
        return false;
    for (int j = 0; j < NNX_LAYER_MAX_ARGS; j++)
        if (a->arg[j] != b->arg[j])
            return false;
    return a->end.begin == b->end.begin && a->end.proj == b->end.proj && a->end.stride == b->end.stride;
}

static bool ref_eq(nnx_exp_metric_ref a, nnx_exp_metric_ref b)
{
    return a.split == b.split && a.metric == b.metric && a.maximize == b.maximize;
}

bool nnx_experiment_equal(const nnx_experiment *a, const nnx_experiment *b)
{
    if (!str_eq(a->name, b->name) || !str_eq(a->data.name, b->data.name))
        return false;
    for (int i = 0; i < NNX_XSPLIT_COUNT; i++)
        if (!source_eq(&a->data.split[i], &b->data.split[i]))
            return false;
    if (a->data.normalize != b->data.normalize || a->data.features != b->data.features ||
        !shape_eq(a->data.shape, b->data.shape) || a->data.classes != b->data.classes ||
        a->data.rows != b->data.rows || a->data.aug_flip != b->data.aug_flip ||
        a->data.aug_shift != b->data.aug_shift)
        return false;
    if (!str_eq(a->net.name, b->net.name) || a->net.nlayers != b->net.nlayers ||
        !shape_eq(a->net.in, b->net.in) || !shape_eq(a->net.out, b->net.out))
        return false;
    for (size_t i = 0; i < a->net.nlayers; i++)
        if (!layer_eq(&a->net.layers[i], &b->net.layers[i]))
            return false;
    const nnx_exp_optim *oa = &a->optim, *ob = &b->optim;
    if (a->loss.kind != b->loss.kind || a->loss.label_smoothing != b->loss.label_smoothing ||
        oa->kind != ob->kind || oa->lr != ob->lr || oa->momentum != ob->momentum || oa->nesterov != ob->nesterov ||
        oa->weight_decay != ob->weight_decay || oa->beta1 != ob->beta1 || oa->beta2 != ob->beta2 ||
        oa->eps != ob->eps || oa->alpha != ob->alpha)
        return false;
    const nnx_exp_schedule *sa = &a->schedule, *sb = &b->schedule;
    if (sa->warmup != sb->warmup || sa->decay != sb->decay || sa->min_lr != sb->min_lr ||
        sa->every != sb->every || sa->gamma != sb->gamma || sa->nat != sb->nat || sa->power != sb->power ||
        sa->patience != sb->patience || sa->factor != sb->factor || !ref_eq(sa->on, sb->on))
        return false;
    for (size_t i = 0; i < sa->nat; i++)
        if (sa->at[i] != sb->at[i])
            return false;
    if (a->epochs != b->epochs || a->batch != b->batch || a->seed != b->seed || a->clip_grad != b->clip_grad)
        return false;
    if (a->nmetrics != b->nmetrics)
        return false;
    for (size_t i = 0; i < a->nmetrics; i++)
        if (a->metrics[i].kind != b->metrics[i].kind || !str_eq(a->metrics[i].name, b->metrics[i].name) ||
            a->metrics[i].maximize != b->metrics[i].maximize)
            return false;
    if (!ref_eq(a->select, b->select) || a->early_stop.enabled != b->early_stop.enabled)
        return false;
    if (a->early_stop.enabled &&
        (a->early_stop.patience != b->early_stop.patience || !ref_eq(a->early_stop.on, b->early_stop.on) ||
         a->early_stop.min_delta != b->early_stop.min_delta))
        return false;
    if (memcmp(a->log, b->log, sizeof a->log) || !str_eq(a->hooks, b->hooks))
        return false;
    if (a->prune.kind != b->prune.kind ||
        (a->prune.kind != NNX_XPRUNE_NONE &&
         (a->prune.min_epochs != b->prune.min_epochs || a->prune.eta != b->prune.eta ||
          a->prune.after != b->prune.after)))
        return false;
    if (a->search.kind != b->search.kind || a->search.naxes != b->search.naxes ||
        a->search.trials != b->search.trials || a->search.seed != b->search.seed ||
        a->search.startup != b->search.startup || a->search.lag != b->search.lag)
        return false;
    for (size_t i = 0; i < a->search.naxes; i++) {
        const nnx_exp_axis *x = &a->search.axes[i], *y = &b->search.axes[i];
        if (!str_eq(x->path, y->path) || x->kind != y->kind || x->nvalues != y->nvalues || x->lo != y->lo ||
            x->hi != y->hi)
            return false;
        for (size_t j = 0; j < x->nvalues; j++)
            if (!str_eq(x->values[j], y->values[j]))
                return false;
    }
    if (a->nensemble != b->nensemble)
        return false;
    for (size_t i = 0; i < a->nensemble; i++)
        if (a->ensemble_seeds[i] != b->ensemble_seeds[i])
            return false;
    return true;
}

/* The catalog's name of builtin `code` of `kind`; NULL when there is none. */
static const char *builtin_name(ck_bkind kind, int code)
{
    for (size_t i = 0; i < ck_nbuiltins; i++)
        if (ck_builtins[i].kind == kind && ck_builtins[i].code == code)
            return ck_builtins[i].name;
    return NULL;
}

static const char *or_unknown(const char *name)
{
    return name ? name : "?";
}

const char *nnx_exp_op_name(nnx_exp_op op)
{
    if (op == NNX_LAYER_ACT)
        return "activation";
    if (op == NNX_LAYER_RESIDUAL_ADD)
        return "residual_end";
    return or_unknown(builtin_name(CK_B_LAYER, (int)op));
}

const char *nnx_exp_layer_name(const nnx_exp_layer *l)
{
    if (l->op != NNX_LAYER_ACT)
        return nnx_exp_op_name(l->op);
    const ck_builtin *row = ck_act_builtin(l->act);
    return row ? row->name : "?";
}

const char *nnx_exp_loss_name(nnx_exp_loss_kind k)
{
    return or_unknown(builtin_name(CK_B_LOSS, (int)k));
}

double nnx_exp_schedule_get(const nnx_exp_schedule *s, enum nnx_sched_field f)
{
    switch (f) {
    case NNX_SF_MIN_LR:   return s->min_lr;
    case NNX_SF_GAMMA:    return s->gamma;
    case NNX_SF_EVERY:    return s->every;
    case NNX_SF_POWER:    return s->power;
    case NNX_SF_PATIENCE: return s->patience;
    case NNX_SF_FACTOR:   return s->factor;
    case NNX_SF_AT:
    case NNX_SF_ON:
    case NNX_SF_NONE:     break;
    }
    return NAN;
}

void nnx_exp_schedule_set(nnx_exp_schedule *s, enum nnx_sched_field f, double v)
{
    switch (f) {
    case NNX_SF_MIN_LR:   s->min_lr = v; break;
    case NNX_SF_GAMMA:    s->gamma = v; break;
    case NNX_SF_EVERY:    s->every = v; break;
    case NNX_SF_POWER:    s->power = v; break;
    case NNX_SF_PATIENCE: s->patience = (int)v; break;
    case NNX_SF_FACTOR:   s->factor = v; break;
    case NNX_SF_AT:
    case NNX_SF_ON:
    case NNX_SF_NONE:     break;
    }
}

const char *nnx_exp_optim_name(nnx_exp_optim_kind k)
{
    return or_unknown(builtin_name(CK_B_OPTIM, (int)k));
}

const char *nnx_exp_decay_name(nnx_exp_decay_kind k)
{
    return or_unknown(builtin_name(CK_B_DECAY, (int)k));
}

const char *nnx_exp_split_name(nnx_exp_split s)
{
    static const char *const names[] = { "train", "valid", "test" };
    return (unsigned)s < 3 ? names[s] : "?";
}

const char *nnx_exp_logger_name(nnx_exp_logger l)
{
    return or_unknown(builtin_name(CK_B_LOGGER, (int)l));
}

const char *nnx_exp_search_name(nnx_exp_search_kind k)
{
    return k == NNX_XSEARCH_NONE ? "none" : or_unknown(builtin_name(CK_B_SEARCH, (int)k));
}

char *nnx_exp_metric_ref_str(const nnx_experiment *e, nnx_exp_metric_ref r, char *buf, size_t size)
{
    const char *m = r.metric < e->nmetrics ? e->metrics[r.metric].name : "?";
    snprintf(buf, size, "%s.%s", nnx_exp_split_name(r.split), m);
    return buf;
}
