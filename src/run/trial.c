/* trial.c — one trial of an experiment: epochs, validation, selection, early stop, test, run directory. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnx/select.h"
#include "nnx/provenance.h"
#include "nnx/report.h"
#include "nnx/rt/clock.h"
#include "run/trial_int.h"

enum { EVAL_BATCH = 256 };

int32_t nnx_run_auto_batch(int32_t rows)
{
    int32_t b = (int32_t)lround(sqrt(rows > 0 ? (double)rows : 1.0));
    return b < 1 ? 1 : b;
}


static void note(trial *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(trial *t, const char *fmt, ...)
{
    if (!t->cb || !t->cb->note)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    t->cb->note(t->cb->user, buf);
}

static void set_message(nnx_run_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_message(nnx_run_result *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(r->message);
    r->message = malloc(strlen(buf) + 1);
    if (r->message)
        strcpy(r->message, buf);
}

static bool add_warning(nnx_run_result *r, const char *text)
{
    char **w = realloc(r->warnings, (r->nwarnings + 1) * sizeof *w);
    if (!w)
        return false;
    r->warnings = w;
    if (!(w[r->nwarnings] = strdup(text)))
        return false;
    r->nwarnings++;
    return true;
}

void nnx_trial_write_failed(trial *t, bool required, const char *msg)
{
    nnx_run_result *r = t->r;
    if (!required) {
        if (add_warning(r, msg))
            note(t, "warning: %s", msg);
        return;
    }
    if (r->retry)
        return;             /* the first failed write is the run's message */
    note(t, "%s", msg);
    r->retry = true;
    bool had = r->status != NNX_RUN_COMPLETED && r->status != NNX_RUN_RUNNING && r->message &&
               r->message[0];
    char *before = had ? strdup(r->message) : NULL;
    const char *was = nnx_run_status_name(r->status);
    r->status = NNX_RUN_FAILED;
    if (before && strcmp(was, "failed"))
        set_message(r, "%s (the run was %s: %s)", msg, was, before);
    else if (before)
        set_message(r, "%s (and before it: %s)", msg, before);
    else
        set_message(r, "%s", msg);
    free(before);
}

static double *cur_at(trial *t, nnx_exp_split s, size_t m)
{
    return &t->cur[(size_t)s * t->e->nmetrics + m];
}

static double ref_value(trial *t, nnx_exp_metric_ref ref)
{
    return *cur_at(t, ref.split, ref.metric);
}

/* --- per-batch: steps.csv, progress, Ctrl-C ------------------------------------ */

void nnx_trial_put_step(FILE *f, long long step, int epoch, double lr, double loss,
                        double loss_sd)
{
    fprintf(f, "%lld,%d,", step, epoch);
    nnx_csv_put_number(f, lr);
    fputc(',', f);
    nnx_csv_put_number(f, loss);
    fputc(',', f);
    if (isfinite(loss_sd))
        nnx_csv_put_number(f, loss_sd);
    fputc('\n', f);
}

static bool grow(double **a, size_t cap)
{
    double *p = realloc(*a, cap * sizeof *p);
    if (p)
        *a = p;
    return p != NULL;
}

bool nnx_trial_keep_step(trial *t, double loss, double epoch, double lr, double loss_sd)
{
    if (t->nsteps == t->step_cap) {
        size_t cap = t->step_cap ? 2 * t->step_cap : 1024;
        bool ok = grow(&t->step_loss, cap);
        ok = grow(&t->step_epoch, cap) && ok;
        ok = grow(&t->step_lr, cap) && ok;
        ok = grow(&t->step_sd, cap) && ok;
        if (!ok)
            return false;
        t->step_cap = cap;
    }
    t->step_loss[t->nsteps] = loss;
    t->step_lr[t->nsteps] = lr;
    t->step_sd[t->nsteps] = loss_sd;
    t->step_epoch[t->nsteps++] = epoch;
    return true;
}

static int on_batch(const nnx_train_progress *p, void *user)
{
    trial *t = user;
    double loss = p->loss;
    t->loss_sum += loss * p->rows;
    t->rows_done += p->rows;
    if (t->steps.f)
        nnx_trial_put_step(t->steps.f, (long long)p->step + 1, t->epoch, p->lr, loss, p->loss_sd);
    nnx_trial_keep_step(t, loss, t->epoch, p->lr, p->loss_sd);   /* out of memory: the point is left out */
    if (t->cb && t->cb->progress) {
        nnx_run_progress pr = {
            .epoch = t->epoch, .epochs = t->e->epochs,
            .batch = p->batch + 1, .batches = p->batches,
            .step = p->step + 1, .rows_done = t->rows_done, .lr = p->lr, .loss = loss,
            .running_loss = t->loss_sum / (double)t->rows_done,
            .seconds = nnx_clock_seconds() - t->epoch_t0,
        };
        t->cb->progress(t->cb->user, &pr);
    }
    if (t->o->interrupt && *t->o->interrupt) {
        t->interrupted = true;
        return 1;
    }
    return 0;
}

/* --- evaluation ------------------------------------------------------------------- */

/* Evaluate split s and fill cur[s][*] (every metric, or only those flagged
 * in `only` when not NULL). */
static int evaluate_split(trial *t, nnx_exp_split s, const bool *only, nnx_rt_error *err)
{
    const nnx_dataset *ds = &t->data.split[s];
    double loss;
    if (nnx_evaluate(t->net, t->loss, (float)t->e->loss.label_smoothing, ds,
                     nnx_net_max_batch(t->net), t->probs, &loss, err) < 0)
        return -1;
    for (size_t m = 0; m < t->e->nmetrics; m++) {
        if (only && !only[m])
            continue;
        const nnx_exp_metric *mt = &t->e->metrics[m];
        if (mt->kind == NNX_XMETRIC_LUA) {
            if (nnx_run_hooks_metric(&t->hooks, mt->name, ds, t->probs, t->k,
                                     cur_at(t, s, m)) < 0) {
                t->lua_failed = true;
                return nnx_rt_fail(err, "lua.%s failed", mt->name);
            }
            continue;
        }
        *cur_at(t, s, m) = nnx_run_metric(mt, ds, t->probs, t->k, loss);
    }
    return 0;
}

/* --- Lua callbacks ------------------------------------------------------------------ */

static void lua_print(void *user, const char *line, size_t len)
{
    trial *t = user;
    note(t, "lua: %.*s", (int)len, line);
}

/* Call a hook with this epoch's metrics (NULL names: none).  On a Lua error
 * the trial fails with the traceback; false then. */
static bool call_hook(trial *t, nnx_lua_event ev, int epoch, const char *const *names,
                      const double *values, size_t n)
{
    if (!t->hooks.host)
        return true;
    nnx_lua_run run = {
        .epoch = epoch, .step = t->tr.step, .seed = (int64_t)t->e->seed,
        .lr = nnx_sched_lr_at(&t->sched, t->tr.step),
        .metric_names = names, .metric_values = values, .nmetrics = n,
        .log_only = t->o->hooks_log_only,
    };
    if (nnx_run_hooks_call(&t->hooks, ev, &run) < 0) {
        t->r->status = NNX_RUN_FAILED;
        set_message(t->r, "%s", t->hooks.error);
        return false;
    }
    if (t->hooks.lr_set) {      /* run:set_lr: scale the schedule so the next step has it */
        t->hooks.lr_set = false;
        double now = nnx_sched_lr_at(&t->sched, t->tr.step);
        if (now > 0 && t->sched.scale > 0) {
            t->sched.scale *= t->hooks.lr_next / now;
            note(t, "hook: lr set to %.6g", t->hooks.lr_next);
        } else {
            note(t, "hook: run:set_lr(%.6g) ignored: the lr is 0 at this step (warmup)",
                 t->hooks.lr_next);
        }
    }
    return true;
}

/* on_epoch_end with every metric of the epoch as run.metrics. */
static bool epoch_end_hook(trial *t, double lr)
{
    if (!t->hooks.host)
        return true;
    const nnx_experiment *e = t->e;
    size_t nm = e->nmetrics, n = 0;
    char (*names)[80] = malloc((2 * nm + 2) * sizeof *names);
    const char **pn = malloc((2 * nm + 2) * sizeof *pn);
    double *vals = malloc((2 * nm + 2) * sizeof *vals);
    bool ok = names && pn && vals;
    if (ok) {
        snprintf(names[n], sizeof names[n], "lr");
        vals[n++] = lr;
        for (int s = 0; s < 2; s++)
            for (size_t m = 0; m < nm; m++) {
                double v = *cur_at(t, (nnx_exp_split)s, m);
                if (isnan(v))
                    continue;
                snprintf(names[n], sizeof names[n], "%s.%s",
                         nnx_exp_split_name((nnx_exp_split)s), e->metrics[m].name);
                vals[n++] = v;
            }
        for (size_t i = 0; i < n; i++)
            pn[i] = names[i];
        ok = call_hook(t, NNX_LUA_ON_EPOCH_END, t->epoch, pn, vals, n);
    } else {
        t->r->status = NNX_RUN_FAILED;
        set_message(t->r, "out of memory");
    }
    free(names);
    free(pn);
    free(vals);
    return ok;
}

/* --- setup ---------------------------------------------------------------------- */

static bool refers_train(const nnx_exp_metric_ref *ref, size_t m)
{
    return ref->split == NNX_XSPLIT_TRAIN && ref->metric == m && m != 0;
}

static int classes_fit(const trial *t, const nnx_dataset *train, nnx_rt_error *err)
{
    const nnx_experiment *e = t->e;
    if (e->loss.kind != NNX_XLOSS_CROSS_ENTROPY || train->kind != NNX_TARGET_CLASS ||
        train->classes <= t->k || !e->net.nlayers)
        return 0;
    char where[300] = "", labels[160] = "";
    const nnx_loc *loc = &e->net.layers[e->net.nlayers - 1].loc;
    if (loc->src) {
        int line, col;
        nnx_loc_linecol(loc->src, loc->begin, &line, &col);
        snprintf(where, sizeof where, "%s:%d:%d: ", loc->src->path, line, col);
    }
    for (int32_t c = 0; train->class_names && c < train->classes; c++) {
        size_t used = strlen(labels);
        if (c == 8) {
            snprintf(labels + used, sizeof labels - used, ", ...");
            break;
        }
        snprintf(labels + used, sizeof labels - used, "%s%s", c ? ", " : " (labels ",
                 train->class_names[c]);
    }
    if (labels[0])
        strncat(labels, ")", sizeof labels - strlen(labels) - 1);
    return nnx_rt_fail(err, "%sthe network gives %d output%s, but data '%s' has %d classes%s; "
                       "cross_entropy needs one output per class: end with dense(%d)", where, t->k,
                       t->k == 1 ? "" : "s", e->data.name, (int)train->classes, labels,
                       (int)train->classes);
}

static int setup(trial *t, nnx_rt_error *err)
{
    const nnx_experiment *e = t->e;
    nnx_run_result *r = t->r;
    if (e->nmetrics == 0 || e->nmetrics > 64)
        return nnx_rt_fail(err, "an experiment needs between 1 and 64 metrics (has %zu)",
                           e->nmetrics);
    if (t->o->data) {
        t->data = *t->o->data;
        t->data_borrowed = true;
    } else if (nnx_run_data_load(e, t->o->data_cache, &t->data, err) < 0) {
        return -1;
    } else {
        if (t->data.note[0])
            note(t, "data: %s", t->data.note);
        if (t->data.cache.warning[0])
            note(t, "warning: data cache: %s", t->data.cache.warning);
    }
    if (nnx_run_hooks_open(&t->hooks, e, t->o->lua_stdlib, t->o->params, t->o->nparams,
                           lua_print, t) < 0) {
        t->lua_failed = true;
        return nnx_rt_fail(err, "Lua hooks failed to load");
    }
    const nnx_dataset *train = &t->data.split[NNX_XSPLIT_TRAIN];
    t->loss = nnx_run_loss_kind(e->loss.kind);
    t->batch = e->batch > 0 ? e->batch : nnx_run_auto_batch(train->n);
    if (t->batch > train->n)
        t->batch = train->n;
    r->batch = t->batch;
    int max_batch = t->batch > EVAL_BATCH ? t->batch : EVAL_BATCH;
    t->net = nnx_run_build_net(e, train->d, max_batch, err);
    if (!t->net || nnx_net_set_threads(t->net, t->o->threads, err) < 0)
        return -1;
    t->k = nnx_net_out_size(t->net);
    if (classes_fit(t, train, err) < 0)
        return -1;

    nnx_optim_conf oc;
    nnx_run_optim_conf(e, &oc);
    if (nnx_optim_init(&t->opt, &oc, nnx_net_nparams(t->net), err) < 0)
        return -1;
    t->opt_ready = true;
    int32_t batches = nnx_batches_per_epoch(train->n, t->batch, 0);
    if (nnx_run_sched(e, batches, &t->sched, err) < 0)
        return -1;
    nnx_train_conf tc = {
        .net = t->net, .optim = &t->opt, .sched = &t->sched, .train = train,
        .loss = t->loss, .label_smoothing = (float)e->loss.label_smoothing,
        .batch = t->batch, .clip_norm = e->clip_grad, .seed = e->seed,
        .augment = { .flip = e->data.aug_flip, .shift = e->data.aug_shift },
        .on_batch = on_batch, .user = t,
    };
    if (nnx_trainer_init(&t->tr, &tc, err) < 0)
        return -1;
    t->tr_ready = true;
    if (t->o->profile) {
        if (nnx_net_set_profile(t->net, true, err) < 0)
            return -1;
        t->tr.profile = true;
    }
    /* the valid and test sets must fit the network too (nnx_evaluate checks) */
    for (int s = 1; s < NNX_XSPLIT_COUNT; s++)
        if (t->data.has[s] && t->data.split[s].d != train->d)
            return nnx_rt_fail(err, "the %s data has %d features, train %d",
                               nnx_exp_split_name((nnx_exp_split)s),
                               (int)t->data.split[s].d, (int)train->d);

    for (size_t m = 1; m < e->nmetrics; m++)
        t->need_train[m] = refers_train(&e->select, m) ||
                           (e->early_stop.enabled && refers_train(&e->early_stop.on, m)) ||
                           (e->schedule.decay == NNX_DECAY_PLATEAU &&
                            refers_train(&e->schedule.on, m));
    bool any_train = false;
    for (size_t m = 1; m < e->nmetrics; m++)
        any_train |= t->need_train[m];
    t->any_train = any_train;
    int32_t rows = 0;
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
        if (t->data.has[s] && (s != NNX_XSPLIT_TRAIN || any_train) &&
            t->data.split[s].n > rows)
            rows = t->data.split[s].n;
    size_t nm = e->nmetrics, ep = (size_t)e->epochs;
    t->probs = malloc(((size_t)rows * (size_t)t->k + 1) * sizeof *t->probs);
    t->snapshot = malloc(nnx_net_snapshot_size(t->net) * sizeof *t->snapshot);
    t->cur = malloc(NNX_XSPLIT_COUNT * nm * sizeof *t->cur);
    t->hist = malloc(ep * NNX_XSPLIT_COUNT * nm * sizeof *t->hist);
    t->ep_lr = malloc(ep * sizeof(double));
    t->ep_select = malloc(ep * sizeof(double));
    t->ep_train = malloc(ep * sizeof(double));
    t->ep_valid = malloc(ep * sizeof(double));
    if (!t->probs || !t->snapshot || !t->cur || !t->hist || !t->ep_lr || !t->ep_select ||
        !t->ep_train || !t->ep_valid)
        return nnx_rt_fail(err, "out of memory");
    nnx_exp_metric_ref_str(e, e->select, r->select_name, sizeof r->select_name);
    r->select_max = e->select.maximize;
    return 0;
}

/* --- the epoch's row ------------------------------------------------------------- */

/* Write the epoch's metrics.csv row (NaN train loss for a blown-up epoch). */
static int write_row(trial *t, double lr, double train_loss, bool train_set, double seconds,
                     bool best, double select_value, nnx_rt_error *err)
{
    /* columns logged by hooks: new names go before `seconds` (the file is rewritten) */
    for (size_t i = 0; i < t->hooks.nlog; i++)
        if (nnx_metrics_log_find(&t->mlog, t->hooks.log_names[i]) < 0) {
            if (nnx_metrics_log_add_column(&t->mlog, t->hooks.log_names[i], err) < 0)
                return -1;
            note(t, "hook: new metrics.csv column '%s'", t->hooks.log_names[i]);
        }
    size_t nc = t->mlog.ncols, nm = t->e->nmetrics;
    double *vals = calloc(nc, sizeof *vals);
    bool *set = calloc(nc, sizeof *set);
    if (!vals || !set) {
        free(vals), free(set);
        return nnx_rt_fail(err, "out of memory");
    }
    vals[0] = t->epoch, set[0] = true;
    vals[1] = lr, set[1] = true;
    vals[2] = train_loss, set[2] = train_set;
    if (t->col_valid0 >= 0)
        for (size_t m = 0; m < nm; m++) {
            double v = *cur_at(t, NNX_XSPLIT_VALID, m);
            vals[t->col_valid0 + m] = v;
            set[t->col_valid0 + m] = !isnan(v);
        }
    int c = t->col_train0;
    for (size_t m = 1; m < nm; m++)
        if (t->need_train[m]) {
            double v = *cur_at(t, NNX_XSPLIT_TRAIN, m);
            vals[c] = v, set[c] = !isnan(v);
            c++;
        }
    for (size_t i = 0; i < t->hooks.nlog; i++) {
        int col = nnx_metrics_log_find(&t->mlog, t->hooks.log_names[i]);
        vals[col] = t->hooks.log_values[i];
        set[col] = true;
    }
    nnx_run_hooks_clear_logs(&t->hooks);
    vals[nc - 1] = seconds, set[nc - 1] = true;
    int rc = nnx_metrics_log_row(&t->mlog, vals, set, err);
    for (size_t i = 0; i < nc; i++)     /* empty cells are NaN for the callbacks */
        if (!set[i])
            vals[i] = NAN;
    if (rc == 0) {
        nnx_trial_log_scalars(t, vals, set);
        if (t->cb && t->cb->epoch) {
            nnx_run_epoch ev = {
                .epoch = t->epoch, .columns = (const char *const *)t->mlog.names,
                .values = vals, .ncolumns = nc, .best = best, .select_value = select_value,
            };
            t->cb->epoch(t->cb->user, &ev);
        }
    }
    free(vals);
    free(set);
    return rc;
}

static bool better(double v, double best, bool maximize, double delta)
{
    if (isnan(v))
        return false;
    if (isnan(best))
        return true;
    return maximize ? v > best + delta : v < best - delta;
}

/* The word for a non-finite loss from the trainer's message. */
static const char *blowup_word(const char *msg)
{
    if (strstr(msg, "infinite"))
        return "infinite";
    return "NaN";
}

/* --- the loop ----------------------------------------------------------------------- */

/* Does a search's step (a rung of prune, or the median rule's next
 * look) end this attempt after epoch ep?  Then it is pruned there. */
static bool pruned_after(trial *t, int ep)
{
    if (!(t->o->stop_after > 0 && ep >= t->o->stop_after && ep < t->e->epochs))
        return false;
    t->r->status = NNX_RUN_PRUNED;
    set_message(t->r, "pruned after epoch %d", ep);
    return true;
}

static void train_loop(trial *t)
{
    const nnx_experiment *e = t->e;
    nnx_run_result *r = t->r;
    size_t nm = e->nmetrics;
    nnx_rt_error err = { { 0 } };
    r->status = NNX_RUN_COMPLETED;
    float *fl = malloc((size_t)t->tr.batches * sizeof *fl);

    if (!call_hook(t, NNX_LUA_ON_TRAIN_BEGIN, t->first_epoch - 1, NULL, NULL, 0)) {
        free(fl);
        return;
    }
    if (pruned_after(t, t->first_epoch - 1)) {
        /* Resumed at its step's last epoch (killed after marking it, before
         * saying it was pruned): pruned there, as the attempt would have
         * been, not one epoch later. */
        free(fl);
        return;
    }
    for (t->epoch = t->first_epoch; t->epoch <= e->epochs; t->epoch++) {
        int ep = t->epoch;
        for (size_t i = 0; i < NNX_XSPLIT_COUNT * nm; i++)
            t->cur[i] = NAN;
        t->epoch_t0 = nnx_clock_seconds();
        if (!call_hook(t, NNX_LUA_ON_EPOCH_BEGIN, ep, NULL, NULL, 0))
            break;
        t->loss_sum = 0;
        t->rows_done = 0;
        nnx_epoch_result res;
        int rc = nnx_train_epoch(&t->tr, ep - 1, fl, &res, &err);
        nnx_rt_error werr;
        if (!(rc < 0 && res.diverged) && nnx_append_flush(&t->steps, &werr) < 0) {
            nnx_trial_write_failed(t, true, werr.msg);
            break;
        }
        if (rc < 0 && res.diverged) {
            double lr = nnx_sched_lr_at(&t->sched, t->tr.step);
            const char *word = blowup_word(err.msg);
            double blown = strcmp(word, "NaN") ? INFINITY : NAN;
            if (t->steps.f)     /* the step that blew up (flushed with the row below) */
                nnx_trial_put_step(t->steps.f, (long long)t->tr.step + 1, ep, lr, blown, NAN);
            nnx_trial_keep_step(t, blown, ep, lr, NAN);
            r->status = NNX_RUN_DIVERGED;
            set_message(r, "loss became %s at epoch %d, step %lld: the learning rate %.3g is "
                        "probably too large", word, ep, (long long)t->tr.step + 1, lr);
            t->ep_lr[ep - 1] = lr;
            t->ep_train[ep - 1] = NAN;
            t->ep_valid[ep - 1] = NAN;
            t->ep_select[ep - 1] = NAN;
            for (size_t i = 0; i < NNX_XSPLIT_COUNT * nm; i++)
                t->hist[(size_t)(ep - 1) * NNX_XSPLIT_COUNT * nm + i] = NAN;
            r->epochs_run = ep;
            nnx_rt_error werr;
            if (write_row(t, lr, NAN, true, nnx_clock_seconds() - t->epoch_t0, false, NAN, &werr) < 0 ||
                nnx_append_flush(&t->steps, &werr) < 0)
                nnx_trial_write_failed(t, true, werr.msg);
            break;
        }
        if (rc < 0) {
            r->status = NNX_RUN_FAILED;
            set_message(r, "epoch %d: %s", ep, err.msg);
            break;
        }
        if (res.stopped) {      /* Ctrl-C inside the epoch: it is not counted */
            r->status = NNX_RUN_INTERRUPTED;
            char done[48] = "no epoch is complete";
            if (ep == 2)
                snprintf(done, sizeof done, "epoch 1 is complete");
            else if (ep > 2)
                snprintf(done, sizeof done, "epochs 1..%d are complete", ep - 1);
            set_message(r, "interrupted during epoch %d (after %d of %d batches); %s", ep,
                        (int)res.steps, (int)t->tr.batches, done);
            break;
        }
        double train_loss = res.mean_loss;
        *cur_at(t, NNX_XSPLIT_TRAIN, 0) = train_loss;
        double lr = nnx_sched_lr_at(&t->sched, t->tr.step - 1);
        if ((t->data.has[NNX_XSPLIT_VALID] &&
             evaluate_split(t, NNX_XSPLIT_VALID, NULL, &err) < 0) ||
            (t->any_train &&
             evaluate_split(t, NNX_XSPLIT_TRAIN, t->need_train, &err) < 0)) {
            r->status = NNX_RUN_FAILED;
            if (t->lua_failed)
                set_message(r, "epoch %d: %s", ep, t->hooks.error);
            else
                set_message(r, "epoch %d: evaluation failed: %s", ep, err.msg);
            break;
        }
        *cur_at(t, NNX_XSPLIT_TRAIN, 0) = train_loss;   /* the epoch mean, not a re-evaluation */
        if (!epoch_end_hook(t, lr))
            break;
        double seconds = nnx_clock_seconds() - t->epoch_t0;

        double sv = ref_value(t, e->select);
        double vloss = t->data.has[NNX_XSPLIT_VALID] ? *cur_at(t, NNX_XSPLIT_VALID, 0)
                                                     : train_loss;
        /* Better by select; on a tie (to the printed precision), the lower valid loss. */
        bool is_best = isfinite(sv) && (isnan(t->best) || r->select_epoch < 1);
        if (!is_best && isfinite(sv)) {
            int cmp = nnx_select_compare(sv, t->best, e->select.maximize);
            double kept_loss = t->data.has[NNX_XSPLIT_VALID] ? t->ep_valid[r->select_epoch - 1]
                                                             : t->ep_train[r->select_epoch - 1];
            is_best = cmp > 0 || (cmp == 0 && vloss < kept_loss);
        }
        if (is_best) {
            t->best = sv;
            r->select_epoch = ep;
            r->select_value = sv;
            nnx_net_snapshot_take(t->net, t->snapshot);
            t->has_snapshot = true;
        }
        if (better(vloss, t->lowest, false, 0)) {
            t->lowest = vloss;
            r->lowest_loss_epoch = ep;
            r->lowest_loss = vloss;
        }
        memcpy(t->hist + (size_t)(ep - 1) * NNX_XSPLIT_COUNT * nm, t->cur,
               NNX_XSPLIT_COUNT * nm * sizeof *t->cur);
        t->ep_lr[ep - 1] = lr;
        t->ep_train[ep - 1] = train_loss;
        t->ep_valid[ep - 1] = t->data.has[NNX_XSPLIT_VALID] ? vloss : NAN;
        t->ep_select[ep - 1] = sv;
        r->epochs_run = ep;
        if (write_row(t, lr, train_loss, true, seconds, is_best, sv, &err) < 0) {
            nnx_trial_write_failed(t, true, err.msg);
            break;
        }

        if (e->schedule.decay == NNX_DECAY_PLATEAU) {
            double before = nnx_sched_lr_at(&t->sched, t->tr.step);
            if (nnx_sched_plateau_epoch(&t->sched, ref_value(t, e->schedule.on)))
                note(t, "plateau: lr %.3g -> %.3g after epoch %d", before,
                     nnx_sched_lr_at(&t->sched, t->tr.step), ep);
        }
        if (t->hooks.stop) {
            r->status = NNX_RUN_STOPPED;
            set_message(r, "stopped by a hook after epoch %d: %s", ep,
                        t->hooks.stop_reason ? t->hooks.stop_reason : "run:stop()");
            break;
        }
        if (e->early_stop.enabled) {
            double v = ref_value(t, e->early_stop.on);
            if (better(v, t->es_best, e->early_stop.on.maximize, e->early_stop.min_delta)) {
                t->es_best = v;
                t->es_bad = 0;
            } else if (++t->es_bad >= e->early_stop.patience && ep < e->epochs) {
                char name[64];
                nnx_exp_metric_ref_str(e, e->early_stop.on, name, sizeof name);
                r->status = NNX_RUN_STOPPED;
                set_message(r, "early stopping after epoch %d: %s has not improved for %d "
                            "epochs (best %.6g)", ep, name, t->es_bad, t->es_best);
                break;
            }
        }
        nnx_trial_mark_epoch(t, ep);
        if (pruned_after(t, ep))
            break;
        if (t->o->interrupt && *t->o->interrupt && ep < e->epochs) {
            t->interrupted = true;
            r->status = NNX_RUN_INTERRUPTED;
            set_message(r, "interrupted after epoch %d", ep);
            break;
        }
    }
    free(fl);
}

/* --- the end: selected weights, test, weights file, diagnosis, summary ------------- */

static int add_metric(nnx_run_result *r, const char *name, double v)
{
    char **n = realloc(r->metric_names, (r->nmetrics + 1) * sizeof *n);
    if (n)
        r->metric_names = n;
    double *x = realloc(r->metric_values, (r->nmetrics + 1) * sizeof *x);
    if (x)
        r->metric_values = x;
    char *copy = malloc(strlen(name) + 1);
    if (!n || !x || !copy) {
        free(copy);
        return -1;
    }
    strcpy(copy, name);
    r->metric_names[r->nmetrics] = copy;
    r->metric_values[r->nmetrics++] = v;
    return 0;
}

/* The net's and the trainer's timings, per step taken (none: left empty). */
static void take_profile(const trial *t, nnx_run_profile *p)
{
    long steps = nnx_net_profile_steps(t->net);
    int n = nnx_net_nlayers(t->net);
    p->steps = steps;           /* with no layers: none taken, or no memory to say */
    if (steps < 1 || !(p->layers = calloc((size_t)n, sizeof *p->layers)))
        return;
    const double per = 1e3 / (double)steps;
    for (int i = 0; i < n; i++) {
        nnx_layer_info li;
        nnx_net_layer_info(t->net, i, &li);
        nnx_run_profile_layer *l = &p->layers[i];
        if (li.out_h * li.out_w > 1)
            snprintf(l->name, sizeof l->name, "%d %s %dx%dx%d", i + 1, li.name, li.out_c,
                     li.out_h, li.out_w);
        else
            snprintf(l->name, sizeof l->name, "%d %s %d", i + 1, li.name, li.out_c);
        nnx_net_profile(t->net, i, &l->forward_ms, &l->backward_ms);
        l->forward_ms *= per;
        l->backward_ms *= per;
    }
    p->nlayers = (size_t)n;
    for (int k = 0; k < NNX_TRAIN_PHASES; k++)
        p->phase_ms[k] = t->tr.phase_s[k] * per;
}

static void finish(trial *t, double t_start)
{
    const nnx_experiment *e = t->e;
    nnx_run_result *r = t->r;
    size_t nm = e->nmetrics;
    nnx_rt_error err = { { 0 } };
    char name[128];

    if (t->has_snapshot) {
        nnx_net_snapshot_restore(t->net, t->snapshot);
        const double *h = t->hist + (size_t)(r->select_epoch - 1) * NNX_XSPLIT_COUNT * nm;
        for (int s = 0; s < 2; s++)
            for (size_t m = 0; m < nm; m++) {
                double v = h[(size_t)s * nm + m];
                if (isnan(v) && !(s == NNX_XSPLIT_VALID && t->data.has[s]))
                    continue;
                snprintf(name, sizeof name, "%s.%s", nnx_exp_split_name((nnx_exp_split)s),
                         e->metrics[m].name);
                add_metric(r, name, v);
            }
        if (t->data.has[NNX_XSPLIT_TEST] &&     /* unlabelled: predicted (probs), not scored */
            t->data.split[NNX_XSPLIT_TEST].kind != NNX_TARGET_NONE) {
            for (size_t i = 0; i < NNX_XSPLIT_COUNT * nm; i++)
                t->cur[i] = NAN;
            if (evaluate_split(t, NNX_XSPLIT_TEST, NULL, &err) < 0) {
                if (r->status != NNX_RUN_DIVERGED)
                    r->status = NNX_RUN_FAILED;
                set_message(r, "test evaluation failed: %s",
                            t->lua_failed ? t->hooks.error : err.msg);
            } else {
                for (size_t m = 0; m < nm; m++) {
                    snprintf(name, sizeof name, "test.%s", e->metrics[m].name);
                    add_metric(r, name, *cur_at(t, NNX_XSPLIT_TEST, m));
                }
                if (t->o->keep_probs) {
                    size_t n = (size_t)t->data.split[NNX_XSPLIT_TEST].n * (size_t)t->k;
                    r->test_probs = malloc(n * sizeof *r->test_probs);
                    if (r->test_probs) {
                        memcpy(r->test_probs, t->probs, n * sizeof *r->test_probs);
                        r->test_n = t->data.split[NNX_XSPLIT_TEST].n;
                        r->test_k = t->k;
                    }
                }
            }
        }
        char *path = nnx_path_join(r->dir, "weights.nnxw");
        if (!path || nnx_net_save(t->net, path, &err) < 0)
            nnx_trial_write_failed(t, true, path ? err.msg : "weights.nnxw: out of memory");
        free(path);
        /* the selected weights' outputs row by row: an ensemble's average is
         * made of them, so they are required as the weights are */
        if (nnx_run_rows_write(r->dir, e, &t->data, t->net, &err) < 0)
            nnx_trial_write_failed(t, true, err.msg);
    }
    if (t->hooks.host && !t->lua_failed && !(r->status == NNX_RUN_FAILED && r->message &&
                                            strstr(r->message, "stack traceback"))) {
        call_hook(t, NNX_LUA_ON_TRAIN_END, r->epochs_run,
                  (const char *const *)r->metric_names, r->metric_values, r->nmetrics);
        nnx_run_hooks_clear_logs(&t->hooks);
    }
    r->total_seconds = nnx_clock_seconds() - t_start;
    if (t->o->profile)
        take_profile(t, &r->profile);
    int done = 0;
    double sum = 0;
    for (size_t i = 0; i < t->mlog.nrows; i++) {
        sum += t->mlog.vals[i * t->mlog.ncols + t->mlog.ncols - 1];
        done++;
    }
    r->seconds_per_epoch = done ? sum / done : NAN;

    r->select_ties = 0;
    for (int i = 0; r->select_epoch > 0 && i < r->epochs_run; i++)
        r->select_ties += nnx_select_ties(t->ep_select[i], r->select_value);
    if (r->epochs_run > 0) {
        nnx_curves c = {
            .epochs = (size_t)r->epochs_run, .train_loss = t->ep_train,
            .valid_loss = t->data.has[NNX_XSPLIT_VALID] ? t->ep_valid : NULL,
            .lr = t->ep_lr, .select_metric = r->select_name, .select_max = r->select_max,
            .select_values = t->ep_select, .steps = t->nsteps, .step_loss = t->step_loss,
            .step_epoch = t->step_epoch, .step_lr = t->step_lr, .step_loss_sd = t->step_sd,
            .chance_loss = nnx_trial_chance_loss(t), .setup = nnx_trial_diag_setup(t),
            .diverged = r->status == NNX_RUN_DIVERGED,
            .diverged_epoch = r->status == NNX_RUN_DIVERGED ? r->epochs_run : 0,
        };
        if (nnx_diagnose(&c, &r->diagnosis, &err) < 0)
            r->diagnosis.n = 0;
    }

    /* the appended CSVs on disk before the summary says the run ended */
    if (nnx_metrics_log_finish(&t->mlog, &err) < 0 || nnx_append_close(&t->steps, &err) < 0)
        nnx_trial_write_failed(t, true, err.msg);
    if (r->status == NNX_RUN_INTERRUPTED || r->status == NNX_RUN_FAILED || r->status == NNX_RUN_PRUNED) {
        if (nnx_trial_save_state(t, &err) < 0)
            nnx_trial_write_failed(t, true, err.msg);
    } else {
        nnx_trial_drop_state(t);
    }
    nnx_trial_tb_finish(t);

    if (!r->message)
        set_message(r, "%s", "");
    nnx_trial_save_summary(t);
    if (t->o->report && r->dir) {
        char *report = NULL;
        if (nnx_report_write(r->dir, NULL, false, &report, &err) < 0) {
            char buf[700];
            snprintf(buf, sizeof buf, "report: %s", err.msg);
            nnx_trial_write_failed(t, false, buf);
        }
        r->report = report;
    }
    nnx_trial_mlflow_finish(t);
    /* warnings that came after it: summary.json again, so that it lists them */
    if (t->summary_warnings >= 0 && (size_t)t->summary_warnings != r->nwarnings)
        nnx_trial_save_summary(t);
}

static void trial_free(trial *t)
{
    if (t->tr_ready)
        nnx_trainer_free(&t->tr);
    if (t->opt_ready)
        nnx_optim_free(&t->opt);
    nnx_net_free(t->net);
    if (!t->data_borrowed)
        nnx_run_data_free(&t->data);
    nnx_metrics_log_close(&t->mlog);
    nnx_append_abort(&t->steps);
    if (t->tb)
        nnx_tb_close(t->tb, NULL);
    nnx_mlflow_free(t->ml);
    nnx_run_hooks_close(&t->hooks);
    nnx_trial_resume_free(t);
    free(t->probs);
    free(t->snapshot);
    free(t->cur);
    free(t->hist);
    free(t->ep_lr);
    free(t->ep_select);
    free(t->ep_train);
    free(t->ep_valid);
    free(t->step_loss);
    free(t->step_epoch);
    free(t->step_lr);
    free(t->step_sd);
}

int nnx_run_trial(const nnx_experiment *e, const nnx_run_opts *o, nnx_run_result *r)
{
    memset(r, 0, sizeof *r);
    nnx_run_opts defaults = { 0 };
    if (!o)
        o = &defaults;
    trial t = { .e = e, .o = o, .cb = o->cb, .r = r, .best = NAN, .es_best = NAN,
                .lowest = NAN, .first_epoch = 1, .summary_warnings = -1 };
    nnx_rt_error err = { { 0 } };
    /* One BLAS thread: OpenBLAS's own threads change the last bits with their
     * count; the net's threads (set in setup) do not. */
    nnx_blas_set_threads(1);
    double t_start = nnx_clock_seconds();
    if (setup(&t, &err) < 0 ||
        (o->resume_dir ? nnx_trial_resume(&t, &err) : nnx_trial_open_outputs(&t, &err)) < 0 ||
        nnx_trial_open_loggers(&t, &err) < 0 ||
        (r->retry = nnx_run_model_write(r->dir, e, &t.data, t.k, nnx_net_max_batch(t.net), &err) < 0) ||
        (r->retry = nnx_trial_start_summary(&t, &err) < 0)) {
        r->status = NNX_RUN_FAILED;
        set_message(r, "%s", t.lua_failed ? t.hooks.error : err.msg);
        trial_free(&t);
        return -1;
    }
    if (t.cb && t.cb->setup) {
        nnx_run_setup s = {
            .dir = r->dir, .features = t.data.split[NNX_XSPLIT_TRAIN].d,
            .classes = t.data.split[NNX_XSPLIT_TRAIN].classes, .batch = t.batch,
            .batch_auto = e->batch == 0, .batches = t.tr.batches,
            .nparams = nnx_net_nparams(t.net),
            .columns = (const char *const *)t.mlog.names, .ncolumns = t.mlog.ncols,
        };
        for (int i = 0; i < NNX_XSPLIT_COUNT; i++)
            s.rows[i] = t.data.has[i] ? t.data.split[i].n : 0;
        t.cb->setup(t.cb->user, &s);
    }
    train_loop(&t);
    finish(&t, t_start);
    trial_free(&t);
    return 0;
}

void nnx_run_result_free(nnx_run_result *r)
{
    if (!r)
        return;
    free(r->message);
    free(r->dir);
    free(r->report);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    for (size_t i = 0; i < r->nmetrics; i++)
        free(r->metric_names[i]);
    free(r->metric_names);
    free(r->metric_values);
    free(r->test_probs);
    free(r->profile.layers);
    memset(r, 0, sizeof *r);
}

double nnx_run_result_metric(const nnx_run_result *r, const char *name)
{
    for (size_t i = 0; i < r->nmetrics; i++)
        if (!strcmp(r->metric_names[i], name))
            return r->metric_values[i];
    return NAN;
}
