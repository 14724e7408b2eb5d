/* runner.c — the real trial runner: nnx_run_trial on data the search loaded once, plus an ensemble member's saved probabilities. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt.h"
#include "nnx/run.h"
#include "run/run_int.h"
#include "search/search_int.h"

struct nnx_search_trainer {
    const nnx_experiment   *base;
    nnx_search_trainer_opts o;
    nnx_run_data            data;
    bool                    ensemble;
};

nnx_search_trainer *nnx_search_trainer_new(const nnx_experiment *base, const nnx_search_trainer_opts *o,
                                           nnx_rt_error *err)
{
    nnx_search_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) {
        nnx_rt_fail(err, "out of memory");
        return NULL;
    }
    tr->base = base;
    if (o)
        tr->o = *o;
    tr->ensemble = base->nensemble > 0 && base->search.kind == NNX_XSEARCH_NONE;
    if (nnx_run_data_load(base, tr->o.data_cache, &tr->data, err) < 0) {
        free(tr);
        return NULL;
    }
    return tr;
}

void nnx_search_trainer_free(nnx_search_trainer *tr)
{
    if (!tr)
        return;
    nnx_run_data_free(&tr->data);
    free(tr);
}

const char *nnx_search_trainer_cache_warning(const nnx_search_trainer *tr)
{
    return tr->data.cache.warning;
}

void nnx_search_trainer_rows(const nnx_search_trainer *tr, int32_t rows[NNX_XSPLIT_COUNT])
{
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
        rows[s] = tr->data.has[s] ? tr->data.split[s].n : 0;
}

static bool str_same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool source_same(const nnx_exp_source *a, const nnx_exp_source *b)
{
    if (a->kind != b->kind || !str_same(a->images, b->images) || !str_same(a->labels, b->labels) ||
        a->nkeep != b->nkeep || !str_same(a->path, b->path) || !str_same(a->label_name, b->label_name) ||
        a->label_index != b->label_index || a->header != b->header || a->delimiter != b->delimiter ||
        a->from != b->from || a->fraction != b->fraction || a->stratify != b->stratify ||
        a->has_seed != b->has_seed || a->n != b->n ||
        a->classes != b->classes || a->features != b->features || a->noise != b->noise || a->seed != b->seed)
        return false;
    for (size_t i = 0; i < a->nkeep; i++)
        if (a->keep[i] != b->keep[i])
            return false;
    return true;
}

/* Would nnx_run_data_load give `e` the same splits as the base?  The data
 * spec, the loss (mse reads labels as numbers) and, unless this is an
 * ensemble member, the seed (it cuts the hold-outs) must agree. */
static bool data_fits(const nnx_search_trainer *tr, const nnx_experiment *e)
{
    const nnx_experiment *b = tr->base;
    if (!tr->ensemble && e->seed != b->seed)
        return false;
    if ((e->loss.kind == NNX_XLOSS_MSE) != (b->loss.kind == NNX_XLOSS_MSE) ||
        e->data.normalize != b->data.normalize || e->data.shape.rank != b->data.shape.rank)
        return false;
    for (int i = 0; i < 3; i++)
        if (e->data.shape.d[i] != b->data.shape.d[i])
            return false;
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
        if (!source_same(&e->data.split[s], &b->data.split[s]))
            return false;
    return true;
}

int nnx_search_train(const nnx_search_trial *t, const char *dir, void *ctx, nnx_rt_error *err)
{
    nnx_search_trainer *tr = ctx;
    const nnx_run_data *data = data_fits(tr, t->e) ? &tr->data : NULL;
    /* An ensemble member trains with its own seed on the splits the base
     * seed cut: say so in its experiment (split(..., seed = base)), so that
     * `nnx run` on the member's experiment.nnx gives the member's numbers. */
    nnx_experiment pinned = *t->e;      /* shallow: only read, never freed */
    if (tr->ensemble && data)
        for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
            if (pinned.data.split[s].kind == NNX_XSRC_SPLIT && !pinned.data.split[s].has_seed) {
                pinned.data.split[s].has_seed = true;
                pinned.data.split[s].seed = tr->base->seed;
            }
    nnx_run_opts o = { .dir = dir, .source = tr->o.source, .threads = t->threads,
                       .interrupt = tr->o.interrupt, .mlflow_uri = tr->o.mlflow_uri,
                       .lua_stdlib = tr->o.lua_stdlib, .params = t->params,
                       .nparams = t->nparams, .data = data, .stop_after = t->stop_after,
                       .trial_index = t->index + 1,
                       .provenance = tr->o.provenance, .mlflow_parent = tr->o.mlflow_parent,
                       .hooks_log_only = nnx_run_hooks_log_only(t->e) };
    nnx_run_result r;
    int rc;
    if (t->cont) {
        /* an interrupted attempt: continue from its last complete epoch */
        o.resume_dir = dir;
        rc = nnx_run_trial(&pinned, &o, &r);
        if (rc < 0) {
            /* it cannot continue (another experiment, a damaged file): start over */
            nnx_run_result_free(&r);
            if (srch_remove_tree(dir, err) < 0 || nnx_mkdirs(dir, err) < 0)
                return -1;
            o.resume_dir = NULL;
            rc = nnx_run_trial(&pinned, &o, &r);
        }
    } else
        rc = nnx_run_trial(&pinned, &o, &r);
    if (rc < 0 && r.retry) {
        /* a file of its directory could not be written: a failed row that a
         * resumed search runs again (if even this cannot be written, the
         * search records it) */
        rc = nnx_search_write_status(dir, t->e->name, "failed", r.message, true, err) < 0 ? -1 : 0;
        if (rc < 0)
            nnx_rt_fail(err, "%s", r.message ? r.message : "the trial could not start");
    } else if (rc < 0)     /* (a run saves its own probs_valid.f32 and probs_test.f32) */
        nnx_rt_fail(err, "%s", r.message ? r.message : "the trial could not start");
    else if (r.retry)
        nnx_rt_fail(err, "%s", r.message);     /* for the search, if even summary.json failed */
    nnx_run_result_free(&r);
    return rc;
}
