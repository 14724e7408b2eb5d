/* search.c — the trials of a search (grid, random, staged) or a seed ensemble, each one run directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnx/plan.h"
#include "nnx/run.h"
#include "out/rundir_write.h"
#include "run/run_int.h"

static char *dup_str(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    if (p)
        strcpy(p, s);
    return p;
}

/* Everything one plan run holds.  Owns every pointer except the borrowed ones. */
typedef struct planrun {
    nnx_checker *c;                 /* borrowed */
    const char  *name;              /* borrowed */
    const nnx_override *sets;       /* borrowed */
    size_t       nsets;
    const nnx_experiment *base;     /* borrowed */
    const nnx_run_opts *o;          /* borrowed */
    const nnx_run_plan_callbacks *pcb;  /* borrowed, may be NULL */
    nnx_run_plan_result *out;       /* borrowed */
    nnx_plan    *plan;
    bool         ensemble;
    size_t       total;             /* trials in the whole plan */
    nnx_trials_log log;
    float       *probs_sum;         /* ensemble: summed test predictions */
    int32_t      probs_n, probs_k;
    int          members;           /* ensemble members summed */
} planrun;

/* The experiment of one trial: --set overrides, then the trial's values. */
static nnx_experiment *check_trial(planrun *pr, const nnx_trial *t, nnx_diags *d)
{
    size_t n = pr->nsets + t->nov;
    nnx_override *ov = malloc((n ? n : 1) * sizeof *ov);
    if (!ov)
        return NULL;
    for (size_t i = 0; i < pr->nsets; i++)
        ov[i] = pr->sets[i];
    for (size_t i = 0; i < t->nov; i++)
        ov[pr->nsets + i] = t->ov[i];
    nnx_experiment *e = nnx_check_experiment(pr->c, pr->name, ov, n, d);
    free(ov);
    return e;
}

/* Check every trial the plan can run before any trains. */
static int check_all(planrun *pr, nnx_diags *d)
{
    int bad = 0;
    if (pr->plan->kind != NNX_PLAN_STAGED) {
        for (size_t i = 0; i < pr->plan->ntrials; i++) {
            nnx_experiment *e = check_trial(pr, &pr->plan->trials[i], d);
            bad |= !e;
            nnx_experiment_free(e);
        }
        return bad ? -1 : 0;
    }
    size_t *kept = calloc(pr->plan->nstages + 1, sizeof *kept);
    if (!kept)
        return -1;
    for (size_t k = 0; k < pr->plan->nstages; k++) {
        size_t n;
        nnx_trial *t = nnx_plan_stage(pr->plan, k, kept, &n);
        for (size_t i = 0; i < n; i++) {
            nnx_experiment *e = check_trial(pr, &t[i], d);
            bad |= !e;
            nnx_experiment_free(e);
        }
        nnx_trials_free(t, n);
    }
    free(kept);
    return bad ? -1 : 0;
}

/* A directory for the trial under sub/ that no other trial has taken. */
static char *trial_dir(const char *root, const char *sub, const char *name)
{
    size_t len = strlen(root) + strlen(sub) + strlen(name) + 24;
    char *p = malloc(len);
    if (!p)
        return NULL;
    snprintf(p, len, "%s/%s/%s", root, sub, name);
    struct stat st;
    for (int i = 2; stat(p, &st) == 0 && i < 1000; i++)
        snprintf(p, len, "%s/%s/%s_%d", root, sub, name, i);
    return p;
}

static bool row_better(const nnx_run_trial_row *a, const nnx_run_trial_row *b, bool maximize)
{
    if (!(a->status == NNX_RUN_COMPLETED || a->status == NNX_RUN_STOPPED) ||
        isnan(a->select_value))
        return false;
    if (!b)
        return true;
    return maximize ? a->select_value > b->select_value : a->select_value < b->select_value;
}

static void add_probs(planrun *pr, const nnx_run_result *r)
{
    if (!r->test_probs)
        return;
    size_t n = (size_t)r->test_n * (size_t)r->test_k;
    if (!pr->probs_sum) {
        pr->probs_sum = calloc(n, sizeof *pr->probs_sum);
        if (!pr->probs_sum)
            return;
        pr->probs_n = r->test_n;
        pr->probs_k = r->test_k;
    }
    if (r->test_n != pr->probs_n || r->test_k != pr->probs_k)
        return;
    for (size_t i = 0; i < n; i++)
        pr->probs_sum[i] += r->test_probs[i];
    pr->members++;
}

/* Run one trial and append its row.  Returns false when the plan must stop (Ctrl-C). */
static bool run_one(planrun *pr, const nnx_trial *t, int stage, int stages, size_t index)
{
    nnx_run_plan_result *out = pr->out;
    nnx_run_trial_row *rows = realloc(out->trials, (out->ntrials + 1) * sizeof *rows);
    if (!rows)
        return false;
    out->trials = rows;
    nnx_run_trial_row *row = &rows[out->ntrials++];
    memset(row, 0, sizeof *row);
    const char *name = t->name;
    if (pr->ensemble && t->nov == 1)
        name = t->ov[0].value;              /* members/<seed> */
    row->name = dup_str(name);
    row->stage = stage;
    row->select_value = NAN;
    row->seconds = NAN;
    row->test = malloc((out->ntest ? out->ntest : 1) * sizeof *row->test);
    row->params = calloc(t->nov ? t->nov : 1, sizeof *row->params);
    if (!row->name || !row->test || !row->params)
        return false;
    for (size_t i = 0; i < out->ntest; i++)
        row->test[i] = NAN;
    for (size_t i = 0; i < t->nov; i++) {
        row->params[i].path = dup_str(t->ov[i].path);
        row->params[i].value = dup_str(t->ov[i].value);
        row->nparams++;
    }
    row->dir = trial_dir(out->dir, pr->ensemble ? "members" : "trials", name);

    nnx_diags d = { 0 };
    nnx_experiment *e = check_trial(pr, t, &d);
    nnx_diags_free(&d);
    nnx_run_trial_event ev = { .index = index, .total = pr->total, .stage = stage,
                               .stages = stages, .name = row->name, .e = e };
    if (pr->pcb && pr->pcb->trial_begin)
        pr->pcb->trial_begin(pr->pcb->user, &ev);
    if (!e || !row->dir) {
        row->status = NNX_RUN_FAILED;
        row->message = dup_str(e ? "out of memory" : "the trial no longer checks");
    } else {
        nnx_run_opts o = *pr->o;
        o.dir = row->dir;
        o.out_dir = NULL;
        o.params = row->params;
        o.nparams = row->nparams;
        o.keep_probs = pr->ensemble;
        nnx_run_result r;
        nnx_run_trial(e, &o, &r);
        row->status = r.status;
        row->message = dup_str(r.message ? r.message : "");
        row->select_epoch = r.select_epoch;
        row->select_value = r.select_epoch > 0 ? r.select_value : NAN;
        row->seconds = r.total_seconds;
        for (size_t i = 0; i < out->ntest; i++)
            row->test[i] = nnx_run_result_metric(&r, out->test_names[i]);
        if (pr->ensemble)
            add_probs(pr, &r);
        nnx_run_result_free(&r);
    }
    nnx_rt_error err;
    if (nnx_trials_log_row(&pr->log, row, &err) < 0 && !out->message)
        out->message = dup_str(err.msg);
    ev.row = row;
    if (pr->pcb && pr->pcb->trial_end)
        pr->pcb->trial_end(pr->pcb->user, &ev);
    nnx_experiment_free(e);
    return row->status != NNX_RUN_INTERRUPTED;
}

static void run_staged(planrun *pr)
{
    const nnx_plan *p = pr->plan;
    size_t *kept = calloc(p->nstages + 1, sizeof *kept);
    if (!kept)
        return;
    size_t index = 0;
    for (size_t k = 0; k < p->nstages; k++) {
        size_t n;
        nnx_trial *t = nnx_plan_stage(p, k, kept, &n);
        size_t first = pr->out->ntrials;
        bool go = true;
        for (size_t i = 0; go && i < n; i++)
            go = run_one(pr, &t[i], (int)k + 1, (int)p->nstages, ++index);
        nnx_trials_free(t, n);
        const nnx_run_trial_row *best = NULL;
        for (size_t i = first; i < pr->out->ntrials; i++)
            if (row_better(&pr->out->trials[i], best, pr->base->select.maximize)) {
                best = &pr->out->trials[i];
                kept[k] = i - first;
            }
        if (!go)
            break;
        if (pr->pcb && pr->pcb->stage_end)
            pr->pcb->stage_end(pr->pcb->user, (int)k + 1, p->stages[k].path,
                               p->stages[k].values[kept[k]]);
    }
    free(kept);
}

/* The ensemble's test metrics from the members' averaged predictions. */
static void ensemble_metrics(planrun *pr)
{
    nnx_run_plan_result *out = pr->out;
    if (!pr->members || !out->ntest)
        return;
    /* a test split cut by the seed holds other rows for each member: nothing to average */
    if (pr->base->data.split[NNX_XSPLIT_TEST].kind == NNX_XSRC_SPLIT)
        return;
    nnx_run_data data;
    nnx_rt_error err;
    if (nnx_run_data_load(pr->base, &data, &err) < 0)
        return;
    const nnx_dataset *ds = &data.split[NNX_XSPLIT_TEST];
    if (!data.has[NNX_XSPLIT_TEST] || ds->n != pr->probs_n) {
        nnx_run_data_free(&data);
        return;
    }
    int k = pr->probs_k;
    size_t n = (size_t)ds->n * (size_t)k;
    for (size_t i = 0; i < n; i++)
        pr->probs_sum[i] /= (float)pr->members;
    /* the loss of averaged predictions, from the probabilities themselves */
    double loss = 0;
    for (int32_t i = 0; i < ds->n; i++) {
        const float *p = pr->probs_sum + (size_t)i * (size_t)k;
        double v;
        if (ds->kind == NNX_TARGET_REAL)
            v = ((double)p[0] - ds->t[i]) * ((double)p[0] - ds->t[i]);
        else if (k == 1)
            v = -log(fmax(1e-12, ds->y[i] ? (double)p[0] : 1.0 - (double)p[0]));
        else
            v = -log(fmax(1e-12, (double)p[ds->y[i]]));
        loss += v;
    }
    loss /= ds->n;
    out->ensemble_test = malloc(out->ntest * sizeof *out->ensemble_test);
    if (out->ensemble_test)
        for (size_t i = 0; i < out->ntest; i++) {
            const nnx_exp_metric *m = &pr->base->metrics[i];
            out->ensemble_test[i] = nnx_run_metric(m, ds, pr->probs_sum, k, loss);
        }
    nnx_run_data_free(&data);
}

static int open_plan_outputs(planrun *pr, nnx_rt_error *err)
{
    const nnx_experiment *e = pr->base;
    nnx_run_plan_result *out = pr->out;
    if (nnx_rundir_create(pr->o->out_dir ? pr->o->out_dir : "runs", e->name, &out->dir, err) < 0)
        return -1;
    char *text = nnx_experiment_write(e);
    char *path = nnx_path_join(out->dir, "experiment.nnx");
    int rc = text && path ? nnx_write_atomic(path, text, strlen(text), err)
                          : nnx_rt_fail(err, "out of memory");
    free(text);
    free(path);
    if (rc < 0)
        return -1;
    /* parameter columns: every searched path */
    const char **paths = NULL;
    size_t np = 0;
    if (pr->ensemble) {
        static const char *const seed[] = { "seed" };
        paths = malloc(sizeof *paths);
        if (paths)
            paths[np++] = seed[0];
    } else if (pr->plan->kind == NNX_PLAN_STAGED) {
        paths = malloc((pr->plan->nstages + 1) * sizeof *paths);
        for (size_t i = 0; paths && i < pr->plan->nstages; i++)
            paths[np++] = pr->plan->stages[i].path;
    } else {
        paths = malloc((e->search.naxes + 1) * sizeof *paths);
        for (size_t i = 0; paths && i < e->search.naxes; i++)
            paths[np++] = e->search.axes[i].path;
    }
    if (!paths)
        return nnx_rt_fail(err, "out of memory");
    char sel[64];
    nnx_exp_metric_ref_str(e, e->select, sel, sizeof sel);
    path = nnx_path_join(out->dir, "trials.csv");
    rc = path ? nnx_trials_log_open(&pr->log, path, paths, np, sel,
                                    (const char *const *)out->test_names, out->ntest, err)
              : nnx_rt_fail(err, "out of memory");
    free(path);
    free(paths);
    return rc;
}

int nnx_run_plan(nnx_checker *c, const char *name, const nnx_override *sets, size_t nsets,
                 const nnx_experiment *base, const nnx_run_opts *o,
                 const nnx_run_plan_callbacks *pcb, nnx_run_plan_result *out, nnx_diags *d)
{
    memset(out, 0, sizeof *out);
    out->winner = -1;
    out->status = NNX_RUN_FAILED;
    planrun pr = { .c = c, .name = name, .sets = sets, .nsets = nsets, .base = base, .o = o,
                   .pcb = pcb, .out = out };
    char *perr = NULL;
    pr.plan = nnx_plan_make(base, &perr);
    if (!pr.plan) {
        out->message = perr ? perr : dup_str("out of memory");
        return -1;
    }
    pr.ensemble = pr.plan->kind == NNX_PLAN_ENSEMBLE;
    if (pr.plan->kind == NNX_PLAN_STAGED)
        for (size_t k = 0; k < pr.plan->nstages; k++)
            pr.total += pr.plan->stages[k].nvalues;
    else
        pr.total = pr.plan->ntrials;
    if (check_all(&pr, d) < 0) {
        nnx_plan_free(pr.plan);
        out->message = dup_str("a trial does not check");
        return -1;
    }
    /* test.* columns: every metric, when the data has a test split */
    if (base->data.split[NNX_XSPLIT_TEST].kind != NNX_XSRC_NONE) {
        out->test_names = calloc(base->nmetrics + 1, sizeof *out->test_names);
        for (size_t m = 0; out->test_names && m < base->nmetrics; m++) {
            char buf[128];
            snprintf(buf, sizeof buf, "test.%s", base->metrics[m].name);
            out->test_names[m] = dup_str(buf);
            out->ntest += out->test_names[m] != NULL;
        }
    }
    nnx_rt_error err = { { 0 } };
    if (open_plan_outputs(&pr, &err) < 0) {
        out->message = dup_str(err.msg);
        nnx_trials_log_close(&pr.log);
        nnx_plan_free(pr.plan);
        return -1;
    }

    if (pr.plan->kind == NNX_PLAN_STAGED) {
        run_staged(&pr);
    } else {
        for (size_t i = 0; i < pr.plan->ntrials; i++)
            if (!run_one(&pr, &pr.plan->trials[i], 0, 0, i + 1))
                break;
    }
    const nnx_run_trial_row *best = NULL;
    bool interrupted = false;
    for (size_t i = 0; i < out->ntrials; i++) {
        if (row_better(&out->trials[i], best, base->select.maximize)) {
            best = &out->trials[i];
            out->winner = (long)i;
        }
        interrupted |= out->trials[i].status == NNX_RUN_INTERRUPTED;
    }
    out->status = interrupted ? NNX_RUN_INTERRUPTED : best ? NNX_RUN_COMPLETED : NNX_RUN_FAILED;
    if (!out->message)
        out->message = dup_str(interrupted ? "interrupted"
                               : best      ? ""
                                           : "no trial completed");
    if (pr.ensemble)
        ensemble_metrics(&pr);

    nnx_plan_summary info = {
        .experiment = base->name, .ensemble = pr.ensemble,
        .search = nnx_exp_search_name(base->search.kind),
        .select_max = base->select.maximize, .plan = pr.plan,
    };
    char sel[64];
    info.select = nnx_exp_metric_ref_str(base, base->select, sel, sizeof sel);
    if (nnx_plan_summary_write(out->dir, &info, out, &err) < 0 && !out->message[0]) {
        free(out->message);
        out->message = dup_str(err.msg);
    }
    nnx_trials_log_close(&pr.log);
    free(pr.probs_sum);
    nnx_plan_free(pr.plan);
    return 0;
}

void nnx_run_plan_result_free(nnx_run_plan_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ntrials; i++) {
        nnx_run_trial_row *t = &r->trials[i];
        free(t->name);
        free(t->dir);
        free(t->message);
        free(t->test);
        for (size_t j = 0; j < t->nparams; j++) {
            free(t->params[j].path);
            free(t->params[j].value);
        }
        free(t->params);
    }
    free(r->trials);
    for (size_t i = 0; i < r->ntest; i++)
        free(r->test_names[i]);
    free(r->test_names);
    free(r->ensemble_test);
    free(r->message);
    free(r->dir);
    memset(r, 0, sizeof *r);
    r->winner = -1;
}
