/* ens_metrics.c — an ensemble's numbers: each metric's mean and spread over the members, and the metrics of their averaged probabilities. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/lua_host.h"
#include "nnx/rt/metrics.h"
#include "search/search_int.h"

void srch_ensemble_stats_free(nnx_ensemble_stats *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->mean);
    free(s->std);
    free(s->ensemble);
    memset(s, 0, sizeof *s);
}

static bool member_ok(const nnx_search_row *r)
{
    return !strcmp(r->status, "completed") || !strcmp(r->status, "stopped");
}

static long find(const nnx_ensemble_stats *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return (long)i;
    return -1;
}

/* Index of `name`, added (NaN everywhere) when new; -1 when out of memory. */
static long add_name(nnx_ensemble_stats *s, size_t *cap, const char *name)
{
    long at = find(s, name);
    if (at >= 0)
        return at;
    if (s->n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        char **nm = realloc(s->names, c * sizeof *nm);
        if (nm)
            s->names = nm;
        double *a = realloc(s->mean, c * sizeof *a);
        if (a)
            s->mean = a;
        double *b = realloc(s->std, c * sizeof *b);
        if (b)
            s->std = b;
        double *d = realloc(s->ensemble, c * sizeof *d);
        if (d)
            s->ensemble = d;
        if (!nm || !a || !b || !d)
            return -1;
        *cap = c;
    }
    s->names[s->n] = strdup(name);
    if (!s->names[s->n])
        return -1;
    s->mean[s->n] = s->std[s->n] = s->ensemble[s->n] = NAN;
    return (long)s->n++;
}

/* The mean loss of probabilities p (rows × k) for labels y, as the loss reads
 * them: cross-entropy over k >= 2 columns (against the label-smoothed target
 * (1-s)·onehot + s/k, as training measures it), binary cross-entropy for k == 1. */
static double prob_loss(const nnx_probs *p, double smoothing)
{
    const double tiny = 1e-12;
    double sum = 0;
    for (int32_t i = 0; i < p->rows; i++) {
        int32_t y = p->labels[i];
        if (p->cols == 1) {
            double q = p->p[i];
            sum -= y ? log(fmax(q, tiny)) : log(fmax(1 - q, tiny));
            continue;
        }
        const float *row = p->p + (size_t)i * (size_t)p->cols;
        for (int32_t j = 0; j < p->cols; j++) {
            double t = smoothing / p->cols + (j == y ? 1 - smoothing : 0);
            if (t > 0)
                sum -= t * log(fmax(row[j], tiny));
        }
    }
    return p->rows ? sum / p->rows : NAN;
}

/* A built-in metric of the averaged probabilities; NaN when it does not apply
 * (its table row says whether it reads averaged probabilities). */
static double builtin_metric(const nnx_exp_metric *m, const nnx_probs *p, double smoothing)
{
    if (p->rows == 0)
        return NAN;
    if (m->kind == NNX_XMETRIC_LOSS)
        return prob_loss(p, smoothing);
    if (m->kind != NNX_XMETRIC_BUILTIN || !m->builtin->on_averaged_probs)
        return NAN;
    nnx_metric_data d = { p->labels, NULL, p->p, p->rows, p->cols };
    return m->builtin->score(&d);
}

/* Metric `m` of the averaged probabilities; NaN when it does not apply.
 * `lua` is the hooks' host for lua.* metrics (NULL: none); -1 with err when
 * a Lua metric fails on the average. */
static int prob_metric(const nnx_experiment *e, const nnx_exp_metric *m, const nnx_probs *p,
                       nnx_lua_host *lua, double *out, nnx_rt_error *err)
{
    *out = NAN;
    for (int32_t i = 0; i < p->rows; i++)
        if (p->labels[i] < 0 || p->labels[i] >= (p->cols == 1 ? 2 : p->cols))
            return 0;       /* real targets, or labels the columns cannot hold */
    if (m->kind == NNX_XMETRIC_LUA && lua) {
        nnx_lua_error lerr;
        if (nnx_lua_metric(lua, m->name, p->labels, p->p, (size_t)p->rows, (size_t)p->cols, out,
                           &lerr) < 0)
            return nnx_rt_fail(err, "ensemble: lua.%s of the averaged probabilities: %s", m->name,
                               lerr.msg);
        return 0;
    }
    *out = builtin_metric(m, p, e->loss.label_smoothing);
    return 0;
}

static int ensemble_metrics(const nnx_experiment *e, const char *lua_stdlib, const char *const *dirs,
                            size_t n, nnx_ensemble_stats *out, size_t *cap, nnx_rt_error *err)
{
    static const char *const splits[] = { "valid", "test" };
    nnx_lua_host *lua = NULL;
    int rc = 0;
    for (size_t m = 0; m < e->nmetrics && !lua && e->hooks; m++)
        if (e->metrics[m].kind == NNX_XMETRIC_LUA) {
            nnx_lua_options lo = { .random_seed = (int64_t)e->seed };
            nnx_lua_error lerr;
            lua = nnx_lua_open(e->hooks, lua_stdlib, &lo, &lerr);
            if (!lua)
                return nnx_rt_fail(err, "ensemble: hooks: %s", lerr.msg);
        }
    for (size_t s = 0; s < 2; s++) {
        char file[32];
        snprintf(file, sizeof file, "probs_%s.f32", splits[s]);
        bool all = true;
        for (size_t m = 0; m < n && all; m++) {
            char *path = nnx_path_join(dirs[m], file);
            all = path && srch_exists(path);
            free(path);
        }
        if (!all)
            continue;       /* a member without probabilities: no ensemble numbers for this split */
        nnx_probs avg;
        if (nnx_ensemble_average(dirs, n, splits[s], &avg, err) < 0) {
            rc = -1;
            break;
        }
        bool labelled = avg.rows > 0;
        for (int32_t i = 0; i < avg.rows; i++)
            labelled &= avg.labels[i] >= 0;
        if (!labelled) {    /* numeric targets or unlabelled rows: nothing to score */
            nnx_probs_free(&avg);
            continue;
        }
        for (size_t m = 0; m < e->nmetrics && rc == 0; m++) {
            char name[160];
            snprintf(name, sizeof name, "%s.%s", splits[s], e->metrics[m].name);
            long at = add_name(out, cap, name);
            if (at < 0)
                rc = nnx_rt_fail(err, "out of memory");
            else
                rc = prob_metric(e, &e->metrics[m], &avg, lua, &out->ensemble[at], err);
        }
        nnx_probs_free(&avg);
        if (rc < 0)
            break;
    }
    nnx_lua_close(lua);
    return rc;
}

int srch_ensemble_stats(const nnx_experiment *e, const char *lua_stdlib, const nnx_search_row *const *rows, const char *const *dirs,
                        size_t n, nnx_ensemble_stats *out, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    for (size_t r = 0; r < n; r++) {
        if (!member_ok(rows[r]))
            continue;
        for (size_t m = 0; m < rows[r]->nmetrics; m++) {
            const char *name = rows[r]->metric_names[m];
            if (strncmp(name, "valid.", 6) && strncmp(name, "test.", 5))
                continue;
            if (add_name(out, &cap, name) < 0)
                return nnx_rt_fail(err, "out of memory");
        }
    }
    for (size_t i = 0; i < out->n; i++) {
        double sum = 0, sq = 0;
        size_t k = 0;
        for (size_t r = 0; r < n; r++)
            for (size_t m = 0; member_ok(rows[r]) && m < rows[r]->nmetrics; m++)
                if (!strcmp(rows[r]->metric_names[m], out->names[i]) && isfinite(rows[r]->metric_values[m])) {
                    sum += rows[r]->metric_values[m];
                    k++;
                }
        out->mean[i] = k ? sum / (double)k : NAN;
        for (size_t r = 0; r < n; r++)
            for (size_t m = 0; member_ok(rows[r]) && m < rows[r]->nmetrics; m++)
                if (!strcmp(rows[r]->metric_names[m], out->names[i]) && isfinite(rows[r]->metric_values[m]))
                    sq += (rows[r]->metric_values[m] - out->mean[i]) * (rows[r]->metric_values[m] - out->mean[i]);
        out->std[i] = k > 1 ? sqrt(sq / (double)(k - 1)) : k ? 0 : NAN;
    }
    /* the ensemble: only when every member ended well */
    bool all = e && n > 0;
    for (size_t r = 0; all && r < n; r++)
        all = member_ok(rows[r]);
    if (all && ensemble_metrics(e, lua_stdlib, dirs, n, out, &cap, err) < 0)
        return -1;
    return 0;
}
