/* run_search.c — `nnx run` of a search or an ensemble: load the data once, run the trials in workers, show a live table and the leaderboard. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_search.h"
#include "nnx/mlflow.h"
#include "nnx/provenance.h"
#include "nnx/select.h"
#include "nnx/report.h"
#include "nnx/rt/clock.h"
#include "nnx/search.h"

enum { TOP_ROWS = 10 };

/* What the terminal shows while the search runs. */
typedef struct board_view {
    FILE  *out;
    bool   tty, quiet;
    bool   only;            /* --trial: one trial here, the others only read */
    int    drawn;           /* lines of the live block now on screen */
    size_t total;           /* trials the plan asks for (staged: every stage's values) */
    size_t stages;          /* staged: how many */
    bool   ensemble;
    double t0;
    const char *dir;        /* the search directory */
    struct { char name[200]; double t; } started[64];   /* running trials' start times */
} board_view;

static void clear_block(board_view *v)
{
    if (v->tty && v->drawn) {
        fprintf(v->out, "\033[%dF\033[J", v->drawn);
        v->drawn = 0;
    }
}

static void print_row_line(board_view *v, const nnx_search_event *ev, const nnx_search_row *r, const char *how)
{
    FILE *o = v->out;
    if (v->stages)
        fprintf(o, "  [stage %zu/%zu] ", ev->stage + 1, v->stages);
    else
        fprintf(o, "  [%*zu/%zu] ", v->total >= 100 ? 3 : v->total >= 10 ? 2 : 1, ev->done, v->total);
    fprintf(o, "%-30s %-11s", r->name, r->status);
    if (r->epoch > 0)
        fprintf(o, " epoch %-3d %s %.6g", r->epoch, ev->select, r->value);
    for (size_t m = 0; m < r->nmetrics; m++)
        if (!strncmp(r->metric_names[m], "test.", 5) && strcmp(r->metric_names[m], "test.loss"))
            fprintf(o, "  %s %.6g", r->metric_names[m], r->metric_values[m]);
    if (isfinite(r->seconds))
        fprintf(o, "  %.1f s", r->seconds);
    if (how)
        fprintf(o, "  (%s)", how);
    if (r->message && r->message[0] && strcmp(r->status, "completed"))
        fprintf(o, "\n      %s", r->message);
    fputc('\n', o);
}

/* Epochs a running trial has finished: the rows of its metrics.csv (flushed
 * each epoch by the worker). */
static int epochs_done(const board_view *v, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s/metrics.csv", v->dir, v->ensemble ? "members" : "trials", name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int lines = 0, ch;
    while ((ch = getc(f)) != EOF)
        lines += ch == '\n';
    fclose(f);
    return lines > 0 ? lines - 1 : 0;
}

static void note_start(board_view *v, const char *name)
{
    size_t free_slot = 64;
    for (size_t i = 0; i < 64; i++) {
        if (!strcmp(v->started[i].name, name)) {
            free_slot = i;
            break;
        }
        if (free_slot == 64 && !v->started[i].name[0])
            free_slot = i;
    }
    if (free_slot < 64) {
        snprintf(v->started[free_slot].name, sizeof v->started[free_slot].name, "%s", name);
        v->started[free_slot].t = nnx_clock_seconds();
    }
}

static void note_end(board_view *v, const char *name)
{
    for (size_t i = 0; i < 64; i++)
        if (!strcmp(v->started[i].name, name))
            v->started[i].name[0] = 0;
}

/* The live block: counts, the best so far, the running trials. */
static void draw_block(board_view *v, const nnx_search_event *ev)
{
    if (!v->tty || v->quiet)
        return;
    FILE *o = v->out;
    int lines = 0;
    fprintf(o, "  -- done %zu", ev->done);
    if (!v->stages)
        fprintf(o, "/%zu", v->total);
    fprintf(o, "  running %zu  queued %zu  %.0f s", ev->running, ev->queued, nnx_clock_seconds() - v->t0);
    if (ev->best)
        fprintf(o, "  best %s (%s %.6g)", ev->best->name, ev->select, ev->best->value);
    fputc('\n', o);
    lines++;
    for (size_t i = 0; i < ev->running && i < 16; i++, lines++) {
        const char *name = ev->running_names[i];
        double t = NAN;
        for (size_t k = 0; k < 64; k++)
            if (!strcmp(v->started[k].name, name))
                t = nnx_clock_seconds() - v->started[k].t;
        fprintf(o, "     running  %-30s epoch %d done", name, epochs_done(v, name));
        if (!isnan(t))
            fprintf(o, ", %.0f s", t);
        fputc('\n', o);
    }
    v->drawn = lines;
}

static void on_event(void *user, const nnx_search_event *ev)
{
    board_view *v = user;
    clear_block(v);
    switch (ev->kind) {
    case NNX_SEARCH_STARTED:
        note_start(v, ev->trial);
        if (!v->tty && !v->quiet)
            fprintf(v->out, "  %s %s%s\n", ev->cont ? "continue" : "start", ev->trial,
                    ev->cont ? " (from its resume.state)" : "");
        break;
    case NNX_SEARCH_FINISHED:
        note_end(v, ev->row->name);
        print_row_line(v, ev, ev->row, NULL);
        break;
    case NNX_SEARCH_TICK:
        break;
    case NNX_SEARCH_RESUMED:
        if (!v->quiet && !v->only)
            print_row_line(v, ev, ev->row, "finished before");
        break;
    case NNX_SEARCH_REUSED:
        if (!v->quiet && !v->only)
            fprintf(v->out, "  %-30s is %s, trained already\n", ev->trial, ev->row->name);
        break;
    case NNX_SEARCH_STAGE_DONE:
        if (ev->value)
            fprintf(v->out, "stage %zu keeps %s = %s (%s)\n", ev->stage + 1, ev->path, ev->value,
                    ev->row ? ev->row->name : "?");
        break;
    }
    draw_block(v, ev);
    fflush(v->out);
}

/* --- the end ------------------------------------------------------------------------ */

static void print_leaderboard(FILE *o, const nnx_search_result *r)
{
    /* test.* columns as the rows have them (loss left out) */
    const char *tests[8];
    size_t nt = 0;
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t m = 0; m < r->rows[i].nmetrics; m++) {
            const char *n = r->rows[i].metric_names[m];
            bool seen = false;
            for (size_t k = 0; k < nt; k++)
                seen = seen || !strcmp(tests[k], n);
            if (!seen && nt < 8 && !strncmp(n, "test.", 5) && strcmp(n, "test.loss"))
                tests[nt++] = n;
        }
    fprintf(o, "\nleaderboard, best first by %s(%s) (%s/trials.csv):\n", r->select_max ? "max" : "min",
            r->select, r->dir);
    fprintf(o, "  %3s  %-30s %-11s %5s %14s", "#", "trial", "status", "epoch", r->select);
    for (size_t k = 0; k < nt; k++)
        fprintf(o, " %14s", tests[k]);
    fprintf(o, " %9s\n", "seconds");
    for (size_t i = 0; i < r->nrows && i < TOP_ROWS; i++) {
        const nnx_search_row *row = &r->rows[i];
        char status[32];    /* a pruned trial says the epoch it reached */
        if (!strcmp(row->status, "pruned"))
            snprintf(status, sizeof status, "pruned at %d", row->epochs_run);
        else
            snprintf(status, sizeof status, "%s", row->status);
        fprintf(o, "  %3zu  %-30s %-11s", i + 1, row->name, status);
        if (row->epoch > 0)
            fprintf(o, " %5d %14.6g", row->epoch, row->value);
        else
            fprintf(o, " %5s %14s", "", "");
        for (size_t k = 0; k < nt; k++) {
            double v = NAN;
            for (size_t m = 0; m < row->nmetrics; m++)
                if (!strcmp(row->metric_names[m], tests[k]))
                    v = row->metric_values[m];
            fprintf(o, " %14.6g", v);
        }
        fprintf(o, " %9.1f%s\n", row->seconds, (long)i == r->winner ? "  <- best" : "");
    }
    if (r->nrows > TOP_ROWS)
        fprintf(o, "  ... %zu more in trials.csv\n", r->nrows - TOP_ROWS);
}

static void print_ensemble(FILE *o, const nnx_search_result *r)
{
    const nnx_ensemble_stats *s = &r->ens;
    fprintf(o, "\nmembers, each selected by %s(%s) (%s):\n", r->select_max ? "max" : "min", r->select, r->dir);
    fprintf(o, "  %-29s %-11s %5s", "seed", "status", "epoch");
    for (size_t i = 0; i < s->n; i++)
        fprintf(o, " %16s", s->names[i]);
    fputc('\n', o);
    for (size_t i = 0; i < r->nrows; i++) {
        const nnx_search_row *row = &r->rows[i];
        fprintf(o, "  %-29s %-11s %5d", row->name, row->status, row->epoch);
        for (size_t k = 0; k < s->n; k++) {
            double v = NAN;
            for (size_t m = 0; m < row->nmetrics; m++)
                if (!strcmp(row->metric_names[m], s->names[k]))
                    v = row->metric_values[m];
            fprintf(o, " %16.6g", v);
        }
        fputc('\n', o);
    }
    fprintf(o, "  %-30s %-11s %5s", "mean ± std", "", "");   /* ± is two bytes */
    for (size_t k = 0; k < s->n; k++) {
        char cell[48];
        snprintf(cell, sizeof cell, "%.4f±%.4f", s->mean[k], s->std[k]);
        fprintf(o, " %16s", cell);
    }
    fputc('\n', o);
    fprintf(o, "  %-29s %-11s %5s", "ensemble (mean probabilities)", "", "");
    for (size_t k = 0; k < s->n; k++)
        fprintf(o, " %16.6g", s->ensemble[k]);
    fputc('\n', o);
}

void cli_print_board(FILE *o, const nnx_search_result *r)
{
    if (r->kind == NNX_SEARCH_ENSEMBLE)
        print_ensemble(o, r);
    else
        print_leaderboard(o, r);
}

static size_t planned_trials(const nnx_experiment *e, size_t *stages)
{
    const nnx_exp_search *s = &e->search;
    *stages = 0;
    if (s->kind == NNX_XSEARCH_NONE)
        return e->nensemble;
    if (s->kind == NNX_XSEARCH_RANDOM || s->kind == NNX_XSEARCH_TPE)
        return (size_t)s->trials;
    size_t n = s->kind == NNX_XSEARCH_GRID ? 1 : 0;
    for (size_t i = 0; i < s->naxes; i++)
        n = s->kind == NNX_XSEARCH_GRID ? n * s->axes[i].nvalues : n + s->axes[i].nvalues;
    if (s->kind == NNX_XSEARCH_STAGED)
        *stages = s->naxes;
    return n;
}

/* With log = [mlflow]: the search's own MLflow run, whose id every trial
 * carries as mlflow.parentRunId (the MLflow UI nests them under it).  NULL
 * (after a note) when the store cannot be opened: the trials then say so
 * themselves. */
static nnx_mlflow_run *mlflow_parent(const cli_search_args *a, const char *dirname, bool ensemble)
{
    const nnx_experiment *e = a->e;
    /* --trial: one of many processes sharing the search; none of them is its parent */
    if (!e->log[NNX_XLOG_MLFLOW] || a->only)
        return NULL;
    nnx_rt_error err = { { 0 } };
    nnx_mlflow_start_opts mo = { .env_tracking_uri = getenv("MLFLOW_TRACKING_URI"), .experiment = e->name,
                                 .run_name = dirname, .source_name = a->file, .start_ms = nnx_mlflow_now_ms() };
    nnx_mlflow_run *run = nnx_mlflow_start(&mo, &err);
    if (!run) {
        fprintf(stderr, "nnx run: mlflow: the search's run was not made: %s\n", err.msg);
        return NULL;
    }
    nnx_mlflow_tag(run, "nnx.kind", ensemble ? "ensemble" : "search", NULL);
    nnx_provenance_mlflow_tags(a->provenance, run);
    size_t n = 0;
    nnx_exp_param *set = nnx_experiment_settings(e, &n);
    for (size_t i = 0; i < n; i++)
        nnx_mlflow_param(run, set[i].path, set[i].value, NULL);
    nnx_exp_params_free(set, n);
    return run;
}

static void mlflow_parent_end(nnx_mlflow_run *run, const nnx_search_result *r, int status)
{
    if (!run)
        return;
    if (r && r->winner >= 0) {
        nnx_mlflow_tag(run, "nnx.winner", r->rows[r->winner].name, NULL);
        nnx_mlflow_metric(run, r->select, r->rows[r->winner].value, nnx_mlflow_now_ms(), 0, NULL);
    }
    nnx_mlflow_end(run, status == EXIT_OK ? NNX_MLFLOW_FINISHED
                        : status >= 128 ? NNX_MLFLOW_KILLED : NNX_MLFLOW_FAILED,
                   nnx_mlflow_now_ms(), NULL);
    nnx_mlflow_free(run);
}

/* --trial: say what became of the trial; the exit status its run gives. */
static int only_outcome(FILE *o, const nnx_search_result *r, int signalled)
{
    const nnx_search_row *row = NULL;
    for (size_t i = 0; r->only_name && i < r->nrows; i++)
        if (!strcmp(r->rows[i].name, r->only_name))
            row = &r->rows[i];
    /* as the trial ended here: a pruned search may have gone on to its next rung since */
    const char *st = r->only_status[0] ? r->only_status : row ? row->status : NULL;
    switch (r->only) {
    case NNX_ONLY_RAN:
        if (!st || !strcmp(st, "interrupted")) {
            fprintf(o, "trial       %s interrupted: the same command continues it from its last complete epoch\n",
                    r->only_name);
            return signalled;
        }
        fprintf(o, "trial       %s %s\n", r->only_name, st);
        /* pruned: it ended its rung as planned */
        return !strcmp(st, "completed") || !strcmp(st, "stopped") || !strcmp(st, "pruned") ? EXIT_OK
               : EXIT_RUN_FAILED;
    case NNX_ONLY_ENDED:
        fprintf(o, "trial       %s had ended (%s): nothing to train\n", r->only_name, st ? st : "?");
        return EXIT_OK;
    case NNX_ONLY_HELD:
        if (r->only_holder && !strncmp(r->only_holder, "? ", 2))
            fprintf(o, "trial       %s is being locked by another process (its lock file %s/.locks/%s is still "
                    "empty; a minute after it was made, it is taken over): skipped\n", r->only_name, r->dir,
                    r->only_name);
        else
            fprintf(o, "trial       %s is held by process %s (its lock file %s/.locks/%s): skipped\n",
                    r->only_name, r->only_holder, r->dir, r->only_name);
        return EXIT_OK;
    case NNX_ONLY_REUSED:
        fprintf(o, "trial       equals %s, trained already in an earlier stage: nothing to train\n", r->only_name);
        return EXIT_OK;
    case NNX_ONLY_WAITING:
        fprintf(o, "trial       %s not started: interrupted before it began\n", r->only_name);
        return signalled;
    case NNX_ONLY_NONE:
        break;
    }
    return EXIT_OK;
}

int cli_run_search(const cli_search_args *a)
{
    const nnx_experiment *e = a->e;
    FILE *o = stdout;
    char dirname[256];
    nnx_search_dir_name(e, dirname, sizeof dirname);
    size_t len = strlen(a->out_dir) + strlen(dirname) + 2;
    char *dir = malloc(len);
    if (!dir) {
        fprintf(stderr, "nnx run: out of memory\n");
        return EXIT_BAD_INPUT;
    }
    snprintf(dir, len, "%s/%s", a->out_dir, dirname);
    bool existed = access(dir, F_OK) == 0;
    if (a->resume && !existed) {
        fprintf(stderr, "nnx run: --resume: no earlier run of '%s' with these settings in %s (looked for %s)\n",
                e->name, a->out_dir, dir);
        free(dir);
        return EXIT_BAD_INPUT;
    }
    /* -j trials at once, each on its share of the cores.  A trial's numbers
     * do not depend on its thread count (the net's threads cut the work the
     * same way on any count, and the BLAS runs on one thread), so -j never
     * changes the leaderboard. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = a->only ? 1 : a->jobs < 1 ? 1 : a->jobs;
    int per = a->only ? (a->threads < 1 ? 1 : a->threads) : cores > jobs ? (int)(cores / jobs) : 1;

    board_view v = { .out = o, .tty = isatty(fileno(o)), .quiet = a->quiet, .ensemble = e->nensemble > 0 &&
                     e->search.kind == NNX_XSEARCH_NONE, .t0 = nnx_clock_seconds(), .dir = dir,
                     .only = a->only != NULL };
    v.total = planned_trials(e, &v.stages);
    char sel[64];
    nnx_exp_metric_ref_str(e, e->select, sel, sizeof sel);
    if (v.ensemble)
        fprintf(o, "experiment  %s: an ensemble of %zu seeds, each selected by %s(%s)\n", e->name, e->nensemble,
                e->select.maximize ? "max" : "min", sel);
    else
        fprintf(o, "experiment  %s: %s search, %zu trials%s, best by %s(%s)\n", e->name,
                nnx_exp_search_name(e->search.kind), v.total, v.stages ? " at most" : "",
                e->select.maximize ? "max" : "min", sel);
    if (a->only) {
        fprintf(o, "directory   %s\n", dir);
        fprintf(o, "trial       %s, on %d thread%s, in this process (the others are left to theirs)\n", a->only,
                per, per == 1 ? "" : "s");
    } else {
        fprintf(o, "directory   %s%s\n", dir, existed ? " (resuming: finished trials are kept)" : "");
        fprintf(o, "workers     %d at once, %d thread%s each (%ld cores%s)\n", jobs, per, per == 1 ? "" : "s",
                cores, jobs < cores ? "; -j N runs N trials at once" : "");
    }
    /* a --set of a path the search sets is replaced in every trial: say so */
    for (size_t i = 0; i < a->nsets; i++) {
        bool searched = v.ensemble && !strcmp(a->sets[i].path, "seed");
        for (size_t k = 0; k < e->search.naxes && !searched; k++)
            searched = !strcmp(a->sets[i].path, e->search.axes[k].path);
        if (searched)
            fprintf(o, "note        --set %s=%s is replaced in each trial by the %s's value\n",
                    a->sets[i].path, a->sets[i].value, v.ensemble ? "member" : "search");
    }
    fflush(o);

    double t = nnx_clock_seconds();
    nnx_rt_error err = { { 0 } };
    nnx_mlflow_run *parent = mlflow_parent(a, dirname, v.ensemble);
    nnx_search_trainer_opts to = { .source = a->file, .interrupt = a->interrupt,
                                   .mlflow_uri = getenv("MLFLOW_TRACKING_URI"), .lua_stdlib = a->lua_stdlib,
                                   .provenance = a->provenance, .data_cache = a->data_cache,
                                   .mlflow_parent = parent ? nnx_mlflow_run_id(parent) : NULL };
    nnx_search_trainer *tr = nnx_search_trainer_new(e, &to, &err);
    if (!tr) {
        fprintf(stderr, "nnx run: %s\nnothing was trained\n", err.msg);
        mlflow_parent_end(parent, NULL, EXIT_BAD_INPUT);
        free(dir);
        return EXIT_BAD_INPUT;
    }
    int32_t rows[NNX_XSPLIT_COUNT];
    nnx_search_trainer_rows(tr, rows);
    if (*nnx_search_trainer_cache_warning(tr))
        fprintf(stderr, "nnx run: warning: data cache: %s\n", nnx_search_trainer_cache_warning(tr));
    fprintf(o, "data        %s loaded once in %.1f s: train %d, valid %d, test %d rows\n\n", e->data.name,
            nnx_clock_seconds() - t, (int)rows[NNX_XSPLIT_TRAIN], (int)rows[NNX_XSPLIT_VALID], (int)rows[NNX_XSPLIT_TEST]);
    fflush(o);

    nnx_search_opts so = { .dir = dir, .version = NNX_VERSION, .jobs = jobs, .fork = !a->only,
                           .threads = per * jobs, .run = nnx_search_train, .run_ctx = tr, .event = on_event,
                           .event_user = &v, .tick_ms = v.tty && !v.quiet && !a->only ? 1000 : 0,
                           .interrupt = a->interrupt, .only = a->only, .lua_stdlib = a->lua_stdlib,
                           .provenance = a->provenance, .report = true };
    nnx_search_result r;
    nnx_diags d = { 0 };
    int rc = nnx_search_run(a->c, a->name, a->sets, a->nsets, e, &so, &r, &d, &err);
    clear_block(&v);
    int status = EXIT_OK;
    if (rc < 0) {
        nnx_diags_print(&d, stderr, isatty(fileno(stderr)));
        fprintf(stderr, "nnx run: %s\n", err.msg);
        /* the search's own record could not be written: the machine failed, not the input */
        status = r.write_failed ? EXIT_RUN_FAILED : EXIT_BAD_INPUT;
    } else {
        cli_print_board(o, &r);
        char line[512];
        nnx_search_lr_reading(&r, line, sizeof line);
        if (line[0])
            fprintf(o, "\nreading     %s\n", line);
        if (r.message)
            fprintf(o, "\nnote        %s\n", r.message);
        fprintf(o, "\ntrials      %zu run now, %zu finished before", r.ran, r.resumed);
        if (r.reused)
            fprintf(o, ", %zu reused within the staged search", r.reused);
        fprintf(o, "; %.1f s\n", nnx_clock_seconds() - v.t0);
        if (e->prune.kind != NNX_XPRUNE_NONE) {
            long long trained = 0;
            for (size_t i = 0; i < r.nrows; i++)
                trained += r.rows[i].epochs_run;
            fprintf(o, "epochs      %lld trained, of %lld without pruning\n", trained,
                    (long long)r.planned * e->epochs);
        }
        if (r.winner >= 0) {
            const nnx_search_row *w = &r.rows[r.winner];
            size_t ties = 0;
            for (size_t i = 0; i < r.nrows; i++)
                ties += isfinite(r.rows[i].value) && strcmp(r.rows[i].status, "pruned") &&
                        nnx_select_ties(r.rows[i].value, w->value);
            fprintf(o, "winner      %s  (%s %.6g", w->name, r.select, w->value);
            if (r.kind == NNX_SEARCH_STAGED)
                fprintf(o, "; the point the last stage kept");
            if (ties > 1)
                fprintf(o, "; %zu trials tie: the lowest valid loss wins", ties);
            fprintf(o, ")\n");
        }
        if (r.report)
            fprintf(o, "report      %s\n", r.report);
        for (size_t i = 0; i < r.nwarnings; i++)
            fprintf(o, "%s%s\n", i ? "            " : "warnings    ", r.warnings[i]);
        size_t retry = 0;
        for (size_t i = 0; i < r.nrows; i++)
            retry += r.rows[i].retry;
        if (retry)
            fprintf(o, "failed      %zu trial%s could not write %s files: run the same command again "
                    "(or with --resume) to run %s again\n", retry, retry == 1 ? "" : "s",
                    retry == 1 ? "its" : "their", retry == 1 ? "it" : "them");
        /* a trial whose worker died (the OOM killer, kill -9) did not end: the
         * leaderboard lacks it and its winner may be wrong, so the search has
         * not succeeded; a search whose later decisions need the trial stopped
         * there (search.h); running it again goes on from there.  (With
         * --trial, another task's interrupted trial is that task's to say.) */
        bool by_signal = a->interrupt && *a->interrupt;
        size_t lost = 0;
        const nnx_search_row *first = NULL;
        for (size_t i = 0; !by_signal && !a->only && i < r.nrows; i++)
            if (!strcmp(r.rows[i].status, "interrupted") && lost++ == 0)
                first = &r.rows[i];
        if (lost)
            fprintf(o, "failed      %zu trial%s did not end (%s: %s)%s: run the same command again (or with "
                    "--resume) to %s\n", lost, lost == 1 ? "" : "s", first->name,
                    first->message ? first->message : "",
                    r.interrupted ? "; the search stopped there, as what it does next depends on it" : "",
                    r.interrupted ? "go on" : lost == 1 ? "run it" : "run them");
        bool any = r.winner >= 0;
        for (size_t i = 0; r.kind == NNX_SEARCH_ENSEMBLE && i < r.nrows; i++)
            any = any || !strcmp(r.rows[i].status, "completed") || !strcmp(r.rows[i].status, "stopped");
        int signalled = 128 + (by_signal ? *a->interrupt : 2);     /* 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP */
        if (a->only)
            status = only_outcome(o, &r, signalled);
        else if (lost)
            status = EXIT_RUN_FAILED;
        else if (r.interrupted) {
            fprintf(o, "interrupted: run the same command again (or with --resume) to finish the search\n");
            status = signalled;
        } else if (!any || retry)
            status = EXIT_RUN_FAILED;
    }
    fflush(o);
    mlflow_parent_end(parent, rc < 0 ? NULL : &r, status);
    nnx_diags_free(&d);
    nnx_search_result_free(&r);
    nnx_search_trainer_free(tr);
    free(dir);
    return status;
}
