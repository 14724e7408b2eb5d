/* resume.c — continuing an interrupted run: the end-of-epoch state, saved as resume.state, read back.
 *
 * After every complete epoch the trial copies (in memory) what the next
 * epoch starts from: the weights and batch-norm state, the optimizer's
 * moments and step count, the schedule's scale and plateau counters, the
 * dropout generator, the best weights so far and the selection and
 * early-stopping counters.  When the run ends interrupted or failed, that
 * copy is written to DIR/resume.state; `nnx run --resume` reads it, keeps
 * metrics.csv and steps.csv up to that epoch and trains on from the next.
 * Every other part of an epoch is a pure function of the seed and the epoch
 * (the row order, the splits), so a resumed run gives the numbers an
 * uninterrupted one gives.  Lua globals are not saved: hooks start afresh.
 *
 * The file is this machine's binary layout (not portable): the magic
 * "NNXRSUM1", a header of counts and scalars, then float arrays.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rundir.h"
#include "run/trial_int.h"

#define STATE_MAGIC "NNXRSUM1"

typedef struct state_head {
    char     magic[8];
    uint32_t version;
    uint32_t has_snapshot, has_m, has_v;
    uint64_t nsnap, nopt;
    int64_t  epoch_done, step, opt_t;
    int64_t  es_bad, select_epoch, lowest_epoch, plateau_bad;
    double   sched_scale, plateau_best, best, es_best, lowest, select_value, lowest_loss;
    uint64_t rng[2];
} state_head;

/* The in-memory copy: a head and the float arrays after it. */
typedef struct resume_point {
    state_head h;
    float     *current, *best_weights, *m, *v;
} resume_point;

static resume_point *point_of(trial *t)
{
    return t->resume;
}

void nnx_trial_mark_epoch(trial *t, int epoch)
{
    size_t nsnap = nnx_net_snapshot_size(t->net), nopt = t->opt.n;
    resume_point *p = t->resume;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return;
        p->current = malloc(nsnap * sizeof *p->current);
        p->best_weights = malloc(nsnap * sizeof *p->best_weights);
        p->m = t->opt.m ? malloc(nopt * sizeof *p->m) : NULL;
        p->v = t->opt.v ? malloc(nopt * sizeof *p->v) : NULL;
        if (!p->current || !p->best_weights || (t->opt.m && !p->m) || (t->opt.v && !p->v)) {
            free(p->current), free(p->best_weights), free(p->m), free(p->v), free(p);
            return;
        }
        t->resume = p;
    }
    state_head *h = &p->h;
    memcpy(h->magic, STATE_MAGIC, 8);
    h->version = 1;
    h->nsnap = nsnap;
    h->nopt = nopt;
    h->epoch_done = epoch;
    h->step = t->tr.step;
    h->opt_t = t->opt.t;
    h->has_m = p->m != NULL;
    h->has_v = p->v != NULL;
    h->has_snapshot = t->has_snapshot;
    h->es_bad = t->es_bad;
    h->select_epoch = t->r->select_epoch;
    h->lowest_epoch = t->r->lowest_loss_epoch;
    h->plateau_bad = t->sched.plateau_bad;
    h->sched_scale = t->sched.scale;
    h->plateau_best = t->sched.plateau_best;
    h->best = t->best;
    h->es_best = t->es_best;
    h->lowest = t->lowest;
    h->select_value = t->r->select_value;
    h->lowest_loss = t->r->lowest_loss;
    const nnx_rng *rng = nnx_net_dropout_rng(t->net);
    h->rng[0] = rng->s[0];
    h->rng[1] = rng->s[1];
    nnx_net_snapshot_take(t->net, p->current);
    if (t->has_snapshot)
        memcpy(p->best_weights, t->snapshot, nsnap * sizeof *p->best_weights);
    if (p->m)
        memcpy(p->m, t->opt.m, nopt * sizeof *p->m);
    if (p->v)
        memcpy(p->v, t->opt.v, nopt * sizeof *p->v);
}

void nnx_trial_resume_free(trial *t)
{
    resume_point *p = point_of(t);
    if (p) {
        free(p->current), free(p->best_weights), free(p->m), free(p->v), free(p);
        t->resume = NULL;
    }
}

int nnx_trial_save_state(trial *t, nnx_rt_error *err)
{
    resume_point *p = point_of(t);
    if (!p)
        return 0;                   /* no epoch completed: nothing to resume from */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return nnx_rt_fail(err, "out of memory");
    const state_head *h = &p->h;
    fwrite(h, sizeof *h, 1, m);
    fwrite(p->current, sizeof(float), h->nsnap, m);
    if (h->has_snapshot)
        fwrite(p->best_weights, sizeof(float), h->nsnap, m);
    if (h->has_m)
        fwrite(p->m, sizeof(float), h->nopt, m);
    if (h->has_v)
        fwrite(p->v, sizeof(float), h->nopt, m);
    fclose(m);
    char *path = nnx_path_join(t->r->dir, "resume.state");
    int rc = path ? nnx_file_write(path, text, len, 0, err) : nnx_rt_fail(err, "out of memory");
    free(path);
    free(text);
    return rc;
}

void nnx_trial_drop_state(trial *t)
{
    char *path = t->r->dir ? nnx_path_join(t->r->dir, "resume.state") : NULL;
    if (path)
        remove(path);
    free(path);
}

/* Read `n` floats at *at from the file image, or fail. */
static int take(const char *buf, size_t len, size_t *at, float *dst, size_t n)
{
    if (*at + n * sizeof(float) > len)
        return -1;
    memcpy(dst, buf + *at, n * sizeof(float));
    *at += n * sizeof(float);
    return 0;
}

/* Keep steps.csv rows of epochs 1..keep, fill the step curves, append from there. */
static int resume_steps(trial *t, int keep, nnx_rt_error *err)
{
    char *path = nnx_path_join(t->r->dir, "steps.csv");
    if (!path)
        return nnx_rt_fail(err, "out of memory");
    nnx_table tab;
    if (nnx_table_read(path, &tab, err) < 0) {
        free(path);
        return -1;
    }
    const double *step = nnx_table_column(&tab, "step"), *ep = nnx_table_column(&tab, "epoch");
    const double *lr = nnx_table_column(&tab, "lr"), *loss = nnx_table_column(&tab, "loss");
    const double *sd = nnx_table_column(&tab, "loss_sd");   /* absent before nnx 0.2 */
    int rc = -1;
    char *text = NULL;
    size_t len = 0;
    FILE *m = NULL;
    if (!step || !ep || !lr || !loss) {
        nnx_rt_fail(err, "%s: not a steps.csv (step,epoch,lr,loss)", path);
        goto done;
    }
    m = open_memstream(&text, &len);
    if (!m) {
        nnx_rt_fail(err, "out of memory");
        goto done;
    }
    fputs("step,epoch,lr,loss,loss_sd\n", m);
    for (size_t i = 0; i < tab.nrows; i++) {
        if (!(ep[i] >= 1 && ep[i] <= keep))
            continue;
        if (!(step[i] >= 0 && step[i] <= 1e18 && step[i] == floor(step[i]))) {
            nnx_rt_fail(err, "%s:%zu: column 'step': '%s' is not a step number", path, i + 2,
                        nnx_table_cell(&tab, i, (size_t)nnx_table_find(&tab, "step")));
            goto done;
        }
        double s = sd ? sd[i] : NAN;
        nnx_trial_put_step(m, (long long)step[i], (int)ep[i], lr[i], loss[i], s);
        if (!nnx_trial_keep_step(t, loss[i], ep[i], lr[i], s)) {
            nnx_rt_fail(err, "out of memory");
            goto done;
        }
    }
    fclose(m);
    m = NULL;
    if (nnx_file_write(path, text, len, 0, err) < 0)
        goto done;
    if (nnx_append_open(&t->steps, path, 0, err) < 0)
        goto done;
    rc = 0;
done:
    if (m)
        fclose(m);
    free(text);
    nnx_table_free(&tab);
    free(path);
    return rc;
}

/* The per-epoch curves and metric history of the kept epochs, from metrics.csv. */
static void refill_history(trial *t, int keep)
{
    const nnx_experiment *e = t->e;
    size_t nm = e->nmetrics, nc = t->mlog.ncols;
    char name[128];
    for (int ep = 1; ep <= keep; ep++) {
        const double *row = t->mlog.vals + (size_t)(ep - 1) * nc;
        const bool *set = t->mlog.set + (size_t)(ep - 1) * nc;
        double *h = t->hist + (size_t)(ep - 1) * NNX_XSPLIT_COUNT * nm;
        for (size_t i = 0; i < NNX_XSPLIT_COUNT * nm; i++)
            h[i] = NAN;
        for (int s = 0; s < 2; s++)
            for (size_t m = 0; m < nm; m++) {
                snprintf(name, sizeof name, "%s.%s", nnx_exp_split_name((nnx_exp_split)s),
                         e->metrics[m].name);
                int c = nnx_metrics_log_find(&t->mlog, name);
                if (c >= 0 && set[c])
                    h[(size_t)s * nm + m] = row[c];
            }
        t->ep_lr[ep - 1] = row[1];
        t->ep_train[ep - 1] = h[0];
        t->ep_valid[ep - 1] = h[(size_t)NNX_XSPLIT_VALID * nm];
        t->ep_select[ep - 1] = h[(size_t)e->select.split * nm + e->select.metric];
    }
}

int nnx_trial_resume(trial *t, nnx_rt_error *err)
{
    const char *dir = t->o->resume_dir;
    t->r->dir = malloc(strlen(dir) + 1);
    if (!t->r->dir)
        return nnx_rt_fail(err, "out of memory");
    strcpy(t->r->dir, dir);

    /* the same experiment, setting for setting */
    char *want = nnx_trial_experiment_text(t->e);
    char *path = nnx_path_join(dir, "experiment.nnx");
    size_t len = 0;
    char *have = path ? nnx_file_read(path, 0, &len, err) : NULL;
    bool same = want && have && !strcmp(want, have);
    free(want);
    free(have);
    free(path);
    if (!same)
        return err->msg[0] && !have ? -1
             : nnx_rt_fail(err, "%s/experiment.nnx is not this experiment: a run resumes only "
                                "with the settings it started with", dir);

    path = nnx_path_join(dir, "resume.state");
    char *buf = path ? nnx_file_read(path, 0, &len, err) : NULL;
    if (!buf) {
        nnx_rt_fail(err, "%s has no resume.state: only a run that was interrupted (or failed) "
                    "after an epoch can resume", dir);
        free(path);
        return -1;
    }
    state_head h;
    size_t at = sizeof h;
    size_t nsnap = nnx_net_snapshot_size(t->net);
    int rc = -1;
    float *current = malloc(nsnap * sizeof *current);
    if (len < sizeof h || !current) {
        nnx_rt_fail(err, "%s: too short", path);
        goto done;
    }
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, STATE_MAGIC, 8) || h.version != 1 || h.nsnap != nsnap ||
        h.nopt != t->opt.n || (bool)h.has_m != (t->opt.m != NULL) ||
        (bool)h.has_v != (t->opt.v != NULL) || h.epoch_done < 1 ||
        h.epoch_done > t->e->epochs) {
        nnx_rt_fail(err, "%s: not a resume state of this experiment", path);
        goto done;
    }
    /* The counters index the per-epoch history: each must be an epoch done. */
    bool in_range = h.has_snapshot <= 1 && h.select_epoch >= 0 && h.select_epoch <= h.epoch_done &&
                    (!h.has_snapshot || h.select_epoch >= 1) && h.lowest_epoch >= 0 &&
                    h.lowest_epoch <= h.epoch_done && h.es_bad >= 0 && h.es_bad <= h.epoch_done &&
                    h.plateau_bad >= 0 && h.plateau_bad <= h.epoch_done && h.step >= 0 &&
                    h.opt_t >= 0;
    if (!in_range ||
        take(buf, len, &at, current, nsnap) < 0 ||
        (h.has_snapshot && take(buf, len, &at, t->snapshot, nsnap) < 0) ||
        (h.has_m && take(buf, len, &at, t->opt.m, h.nopt) < 0) ||
        (h.has_v && take(buf, len, &at, t->opt.v, h.nopt) < 0) || at != len) {
        nnx_rt_fail(err, "%s: truncated or damaged", path);
        goto done;
    }
    nnx_net_snapshot_restore(t->net, current);
    t->has_snapshot = h.has_snapshot;
    t->opt.t = h.opt_t;
    t->tr.step = h.step;
    t->sched.scale = h.sched_scale;
    t->sched.plateau_best = h.plateau_best;
    t->sched.plateau_bad = (int32_t)h.plateau_bad;
    nnx_rng *rng = nnx_net_dropout_rng(t->net);
    rng->s[0] = h.rng[0];
    rng->s[1] = h.rng[1];
    t->best = h.best;
    t->es_best = h.es_best;
    t->es_bad = (int)h.es_bad;
    t->lowest = h.lowest;
    t->r->select_epoch = (int)h.select_epoch;
    t->r->select_value = h.select_value;
    t->r->lowest_loss_epoch = (int)h.lowest_epoch;
    t->r->lowest_loss = h.lowest_loss;
    t->r->epochs_run = (int)h.epoch_done;
    t->first_epoch = (int)h.epoch_done + 1;
    if (nnx_trial_columns(t, err) < 0 || resume_steps(t, (int)h.epoch_done, err) < 0)
        goto done;
    refill_history(t, (int)h.epoch_done);
    nnx_trial_mark_epoch(t, (int)h.epoch_done);     /* a second interrupt resumes here too */
    rc = 0;
done:
    free(current);
    free(buf);
    free(path);
    return rc;
}

int nnx_run_resume_epoch(const char *dir)
{
    char *path = nnx_path_join(dir, "resume.state");
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f)
        return 0;
    state_head h;
    bool ok = fread(&h, sizeof h, 1, f) == 1 && !memcmp(h.magic, STATE_MAGIC, 8) && h.version == 1 &&
              h.epoch_done >= 1 && h.epoch_done < 1000000000;
    fclose(f);
    return ok ? (int)h.epoch_done : 0;
}
