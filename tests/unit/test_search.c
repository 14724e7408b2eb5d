/* test_search.c — the trial scheduler driven by a synthetic runner: grid, random, staged, ensemble, -j, resume. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nnx/util/json.h"
#include "nnx/check.h"
#include "nnx/plan.h"
#include "nnx/resolve.h"
#include "nnx/rundir.h"
#include "nnx/search.h"
#include "tmpdir.h"

static const char *const program_text =
    "data toy { train = spirals(n = 300, classes = 3, noise = 0.2, seed = 7)\n"
    "           valid = split(train, 0.2) }\n"
    "network mlp(width = 16, p = 0) { dense(width) relu dropout(p) dense(3) }\n"
    "experiment base {\n"
    "    data = toy  model = mlp()  loss = cross_entropy  optimizer = adam(lr = 1e-3)\n"
    "    epochs = 5  batch = 32  metrics = [accuracy]  select = max(valid.accuracy)\n"
    "}\n"
    "experiment grid extends base {\n"
    "    search grid { optimizer.lr in decades(1e-4, 1e-1)  batch in [32, 64] }\n"
    "}\n"
    "experiment small extends base {\n"
    "    search grid { optimizer.lr in [1e-4, 1e-3, 1e-2, 2e-3] }\n"
    "}\n"
    "experiment gmin extends grid { select = min(valid.loss) }\n"
    "experiment staged extends base {\n"
    "    search staged { optimizer.lr in decades(1e-4, 1e-1)\n"
    "                    epochs in [5, 10]\n"
    "                    batch in [32, 64] }\n"
    "}\n"
    "experiment rnd extends base {\n"
    "    search random(trials = 6, seed = 3) { optimizer.lr in loguniform(1e-4, 1e-1)\n"
    "                                          model.p in uniform(0, 0.5) }\n"
    "}\n"
    "experiment members extends base { ensemble { seeds = 4 } }\n"
    "data img { train = spirals(n = 300, classes = 3, noise = 0.2, seed = 7)\n"
    "           valid = split(train, 0.2)  shape = [1, 2, 1] }\n"
    "network c(k = 1, pad = 1) { conv(4, k, pad = pad) flatten dense(3) }\n"
    "experiment bad extends base {\n"
    "    data = img  model = c()\n"
    "    search grid { model.k in [1, 3]  model.pad in [1, 0] }   # k = 3, pad = 0 does not fit\n"
    "}\n";

/* --- the synthetic runner ---------------------------------------------------- */

/* What the runner does; shared with the worker processes by fork. */
typedef struct synth {
    char log[512];          /* one line per call, appended (workers too) */
    char kill_name[64];     /* this trial kills its worker with SIGKILL ... */
    char kill_mark[512];    /* ... the first time (when this file is absent) */
    char fail_name[64];     /* this trial cannot start */
    char stop_name[64];     /* this trial is interrupted (Ctrl-C) after leaving resume.state ... */
    char stop_mark[512];    /* ... the first time */
    char full_name[64];     /* this trial finds the disk full (a failed, retry summary) ... */
    char full_mark[512];    /* ... the first time */
    int  sleep_ms;          /* every trial sleeps this long */
    char sleep_name[64];    /* ... or only this one, for `long_ms` */
    int  long_ms;
    int  calls;             /* in-process calls (fork = false) */
} synth;

/* The known answer: valid.accuracy peaks at lr = 1e-3, batch = 64, more epochs help;
 * valid.loss falls as accuracy rises.  lr >= 0.1 diverges at epoch 1. */
static double synth_accuracy(const nnx_experiment *e)
{
    double d = log10(e->optim.lr) + 3;
    return 0.9 - 0.05 * d * d - 0.02 * fabs((double)e->batch - 64) / 32 + 0.005 * e->epochs -
           0.01 * e->net.layers[2].arg[0];
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void append_log(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, strlen(line));
        (void)w;
        close(fd);
    }
}

static int synth_run(const nnx_search_trial *t, const char *dir, void *ctx, nnx_rt_error *err)
{
    synth *s = ctx;
    s->calls++;
    char line[256], path[1024];
    snprintf(path, sizeof path, "%s/resume.state", dir);
    bool has_state = access(path, F_OK) == 0;
    snprintf(line, sizeof line, "%s %d%s\n", t->name, t->threads,
             t->cont ? (has_state ? " cont" : " cont-without-state") : has_state ? " stale-state" : "");
    if (s->log[0])
        append_log(s->log, line);
    if (s->sleep_ms)
        sleep_ms(s->sleep_ms);
    if (s->sleep_name[0] && !strcmp(t->name, s->sleep_name))
        sleep_ms(s->long_ms);
    if (s->kill_name[0] && !strcmp(t->name, s->kill_name) && access(s->kill_mark, F_OK) != 0) {
        append_log(s->kill_mark, "killed\n");
        raise(SIGKILL);
    }
    if (s->fail_name[0] && !strcmp(t->name, s->fail_name))
        return nnx_rt_fail(err, "synthetic: %s cannot start", t->name);
    if (s->full_name[0] && !strcmp(t->name, s->full_name) && access(s->full_mark, F_OK) != 0) {
        append_log(s->full_mark, "full\n");
        return nnx_search_write_status(dir, t->e->name, "failed",
                                       "weights.nnxw: cannot write: No space left on device", true, err);
    }
    if (s->stop_name[0] && !strcmp(t->name, s->stop_name) && access(s->stop_mark, F_OK) != 0) {
        append_log(s->stop_mark, "stopped\n");
        append_log(path, "state\n");   /* what an interrupted run leaves to continue from */
        snprintf(path, sizeof path, "%s/summary.json", dir);
        FILE *f = fopen(path, "w");
        fputs("{\"status\": \"interrupted\", \"status_message\": \"Ctrl-C\"}\n", f);
        fclose(f);
        return 0;
    }

    const nnx_experiment *e = t->e;
    bool diverged = e->optim.lr >= 0.1;
    double acc = synth_accuracy(e);
    bool by_loss = e->metrics[e->select.metric].kind == NNX_XMETRIC_LOSS;
    char sel[64];
    nnx_exp_metric_ref_str(e, e->select, sel, sizeof sel);
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 2);
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "experiment", e->name);
    nnx_json_key_string(&w, "status", diverged ? "diverged" : "completed");
    nnx_json_key_string(&w, "status_message", diverged ? "loss is nan at step 3" : "");
    nnx_json_key_int(&w, "epochs_run", diverged ? 1 : e->epochs);
    nnx_json_key(&w, "select");
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "metric", sel);
    nnx_json_key_string(&w, "mode", e->select.maximize ? "max" : "min");
    nnx_json_key_int(&w, "epoch", diverged ? 0 : e->epochs - (e->optim.lr < 5e-4 ? 0 : 1));
    nnx_json_key_number(&w, "value", diverged ? NAN : by_loss ? 2 - acc : acc);
    nnx_json_end_object(&w);
    nnx_json_key(&w, "metrics");
    nnx_json_begin_object(&w);
    if (!diverged) {
        nnx_json_key_number(&w, "valid.loss", 2 - acc);
        nnx_json_key_number(&w, "valid.accuracy", acc);
        nnx_json_key_number(&w, "test.accuracy", acc - 0.01);
    }
    nnx_json_end_object(&w);
    nnx_json_key(&w, "timing");
    nnx_json_begin_object(&w);
    nnx_json_key_number(&w, "total_seconds", 1.5);
    nnx_json_end_object(&w);
    nnx_json_end_object(&w);
    if (nnx_json_writer_finish(&w, err) < 0)
        return -1;
    char *text = nnx_json_writer_take(&w);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(text);
        return nnx_rt_fail(err, "cannot write %s", path);
    }
    fputs(text, f);
    fclose(f);
    free(text);
    return 0;
}

/* --- fixture ---------------------------------------------------------------- */

typedef struct fixture {
    char        *tmp;
    nnx_diags    d;
    nnx_program *p;
    nnx_checker *c;
    synth        s;
    int          max_running;
    int          events[8];
    int          tick_ms;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tmpdir_make("search");
    f->p = nnx_program_from_source(nnx_source_from_string("/tmp/t.nnx", program_text), NULL, &f->d);
    if (!f->p || f->d.nerrors) {
        nnx_diags_print(&f->d, stderr, false);
        return -1;
    }
    f->c = nnx_checker_new(f->p);
    snprintf(f->s.log, sizeof f->s.log, "%s/calls.log", f->tmp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nnx_checker_free(f->c);
    nnx_program_free(f->p);
    nnx_diags_free(&f->d);
    tmpdir_remove(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

static void on_event(void *user, const nnx_search_event *ev)
{
    fixture *f = user;
    f->events[ev->kind]++;
    if ((int)ev->running > f->max_running)
        f->max_running = (int)ev->running;
    for (size_t i = 0; i < ev->running; i++)
        assert_non_null(ev->running_names[i]);
}

/* Run experiment `name` into tmp/<sub> with `jobs` workers (0: in-process). */
static int search(fixture *f, const char *name, const char *sub, int jobs, nnx_search_result *res)
{
    nnx_diags d = { 0 };
    nnx_experiment *e = nnx_check_experiment(f->c, name, NULL, 0, &d);
    if (!e)
        nnx_diags_print(&d, stderr, false);
    assert_non_null(e);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", f->tmp, sub);
    nnx_search_opts o = { .dir = dir, .version = "test", .jobs = jobs ? jobs : 1, .fork = jobs > 0,
                          .threads = 2, .run = synth_run, .run_ctx = &f->s, .event = on_event,
                          .event_user = f, .tick_ms = f->tick_ms };
    nnx_rt_error err = { { 0 } };
    int rc = nnx_search_run(f->c, name, NULL, 0, e, &o, res, NULL, &err);
    if (rc)
        fprintf(stderr, "search: %s\n", err.msg);
    nnx_experiment_free(e);
    nnx_diags_free(&d);
    return rc;
}

static size_t log_lines(const fixture *f, const char *name)
{
    size_t n = 0;
    char *text = tmpdir_slurp(f->s.log, NULL);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
        n += !name || !strncmp(line, name, strlen(name));
    free(text);
    return n;
}

static char *slurp(const fixture *f, const char *sub, const char *file)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s/%s", f->tmp, sub, file);
    return tmpdir_slurp(path, NULL);
}

static const nnx_search_row *row_named(const nnx_search_result *r, const char *name)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (!strcmp(r->rows[i].name, name))
            return &r->rows[i];
    return NULL;
}

/* --- tests -------------------------------------------------------------------- */

static void grid_ranks_by_select_and_keeps_a_diverged_trial(void **state)
{
    fixture *f = *state;
    nnx_search_result r;
    assert_int_equal(search(f, "grid", "g", 1, &r), 0);
    assert_int_equal(r.kind, NNX_SEARCH_GRID);
    assert_int_equal(r.nrows, 8);
    assert_int_equal(r.ran, 8);
    assert_int_equal(log_lines(f, NULL), 8);
    assert_int_equal(r.nparams, 2);
    assert_string_equal(r.paths[0], "optimizer.lr");
    assert_string_equal(r.paths[1], "batch");
    assert_string_equal(r.select, "valid.accuracy");
    assert_true(r.select_max);
    /* best first, by the known function; the diverged lr = 0.1 trials last, in plan order */
    assert_int_equal(r.winner, 0);
    assert_string_equal(r.rows[0].name, "lr=0.001_batch=64");
    for (size_t i = 1; i < 6; i++)
        assert_true(r.rows[i - 1].value >= r.rows[i].value);
    assert_string_equal(r.rows[6].name, "lr=0.1_batch=32");
    assert_string_equal(r.rows[7].name, "lr=0.1_batch=64");
    assert_string_equal(r.rows[7].status, "diverged");
    assert_string_equal(r.rows[7].message, "loss is nan at step 3");
    assert_true(isnan(r.rows[7].value));
    assert_string_equal(r.rows[0].values[0], "0.001");
    assert_string_equal(r.rows[0].values[1], "64");
    /* trials.csv: the same order, every column */
    char *csv = slurp(f, "g", "trials.csv");
    assert_non_null(csv);
    assert_non_null(strstr(csv, "trial,optimizer.lr,batch,status,epoch,valid.accuracy,test.accuracy,seconds\n"
                                "lr=0.001_batch=64,0.001,64,completed,4,0.925,0.915,1.50\n"));
    assert_non_null(strstr(csv, "lr=0.1_batch=32,0.1,32,diverged,,,,1.50\nlr=0.1_batch=64,0.1,64,diverged,,,,1.50\n"));
    free(csv);
    /* summary.json: kind, winner and its parameters */
    char *sum = slurp(f, "g", "summary.json");
    nnx_json *j = nnx_json_parse(sum, strlen(sum), NULL);
    assert_non_null(j);
    assert_string_equal(nnx_json_as_string(nnx_json_get(j, "kind"), ""), "search");
    assert_string_equal(nnx_json_as_string(nnx_json_get(j, "search"), ""), "grid");
    assert_string_equal(nnx_json_as_string(nnx_json_get(j, "winner"), ""), "lr=0.001_batch=64");
    assert_float_equal(nnx_json_as_number(nnx_json_get(nnx_json_get(j, "winner_params"), "optimizer.lr")), 0.001, 0);
    assert_float_equal(nnx_json_as_number(nnx_json_get(j, "winner_value")), 0.925, 1e-12);
    assert_string_equal(nnx_json_as_string(nnx_json_get(nnx_json_get(j, "select"), "mode"), ""), "max");
    nnx_json_free(j);
    free(sum);
    /* the report's reader takes the directory as a search */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/g", f->tmp);
    nnx_rundir rd;
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_rundir_read(dir, &rd, &err), 0);
    assert_int_equal(rd.kind, NNX_RUNDIR_SEARCH);
    assert_int_equal(rd.nchildren, 8);
    assert_int_equal(rd.nparams, 2);
    assert_string_equal(rd.select_metric, "valid.accuracy");
    nnx_rundir_free(&rd);
    nnx_search_result_free(&r);
}

static void a_min_select_ranks_ascending(void **state)
{
    fixture *f = *state;
    nnx_search_result r;
    assert_int_equal(search(f, "gmin", "m", 0, &r), 0);
    assert_string_equal(r.select, "valid.loss");
    assert_false(r.select_max);
    assert_int_equal(r.nrows, 8);
    /* the lowest loss first */
    for (size_t i = 1; i < 6; i++)
        assert_true(r.rows[i - 1].value <= r.rows[i].value);
    assert_string_equal(r.rows[0].name, "lr=0.001_batch=64");
    assert_float_equal(r.rows[0].value, 2 - 0.925, 1e-12);
    assert_string_equal(r.rows[6].status, "diverged");
    char *csv = slurp(f, "m", "trials.csv");
    assert_non_null(strstr(csv, "trial,optimizer.lr,batch,status,epoch,valid.loss,test.accuracy,seconds\n"
                                "lr=0.001_batch=64,0.001,64,completed,4,1.075,0.915,1.50\n"));
    free(csv);
    nnx_search_result_free(&r);
}

static void rank_orders_values_then_the_rest_by_index(void **state)
{
    (void)state;
    nnx_search_row rows[6];
    memset(rows, 0, sizeof rows);
    const double v[6] = { 0.5, NAN, 0.9, 0.7, 0.9, 0.95 };
    const char *st[6] = { "completed", "failed", "stopped", "completed", "completed", "interrupted" };
    for (size_t i = 0; i < 6; i++) {
        rows[i].index = i;
        rows[i].value = v[i];
        snprintf(rows[i].status, sizeof rows[i].status, "%s", st[i]);
    }
    nnx_search_rank(rows, 6, true);
    const size_t max_order[6] = { 2, 4, 3, 0, 1, 5 };   /* ties by index; interrupted after finals */
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(rows[i].index, max_order[i]);
    nnx_search_rank(rows, 6, false);
    const size_t min_order[6] = { 0, 3, 2, 4, 1, 5 };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(rows[i].index, min_order[i]);
}

static void two_workers_give_the_same_leaderboard(void **state)
{
    fixture *f = *state;
    nnx_search_result r1, r2;
    f->s.sleep_ms = 150;
    struct timespec a, b, c;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(search(f, "small", "j1", 1, &r1), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_int_equal(f->max_running, 1);
    f->tick_ms = 50;    /* and ticks while the workers sleep */
    assert_int_equal(search(f, "small", "j2", 2, &r2), 0);
    clock_gettime(CLOCK_MONOTONIC, &c);
    assert_int_equal(f->max_running, 2);
    assert_true(f->events[NNX_SEARCH_TICK] >= 2);
    double t1 = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    double t2 = (double)(c.tv_sec - b.tv_sec) + 1e-9 * (double)(c.tv_nsec - b.tv_nsec);
    assert_true(t1 >= 0.6);             /* 4 trials of 150 ms one after another */
    assert_true(t2 < t1 * 0.9);         /* two at a time */
    char *csv1 = slurp(f, "j1", "trials.csv"), *csv2 = slurp(f, "j2", "trials.csv");
    assert_string_equal(csv1, csv2);
    free(csv1);
    free(csv2);
    char *s1 = slurp(f, "j1", "summary.json"), *s2 = slurp(f, "j2", "summary.json");
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    /* the BLAS threads are split: 2 for one worker, 1 each for two */
    assert_int_equal(log_lines(f, "lr=0.001 2"), 1);
    assert_int_equal(log_lines(f, "lr=0.001 1"), 1);
    nnx_search_result_free(&r1);
    nnx_search_result_free(&r2);
}

static void random_search_draws_the_planned_trials(void **state)
{
    fixture *f = *state;
    nnx_search_result r;
    assert_int_equal(search(f, "rnd", "r", 2, &r), 0);
    assert_int_equal(r.kind, NNX_SEARCH_RANDOM);
    assert_int_equal(r.nrows, 6);
    assert_int_equal(r.ran, 6);
    /* the trials are the plan's, values included */
    nnx_diags d = { 0 };
    nnx_experiment *e = nnx_check_experiment(f->c, "rnd", NULL, 0, &d);
    nnx_plan *p = nnx_plan_make(e, NULL);
    assert_int_equal(p->ntrials, 6);
    for (size_t i = 0; i < p->ntrials; i++) {
        const nnx_search_row *row = row_named(&r, p->trials[i].name);
        assert_non_null(row);
        assert_int_equal(row->index, i);
        assert_string_equal(row->values[0], p->trials[i].ov[0].value);
        assert_string_equal(row->values[1], p->trials[i].ov[1].value);
        /* and the runner saw the drawn values in its checked experiment */
        if (!strcmp(row->status, "completed")) {
            nnx_override ov[2] = { p->trials[i].ov[0], p->trials[i].ov[1] };
            nnx_experiment *te = nnx_check_experiment(f->c, "rnd", ov, 2, &d);
            assert_float_equal(row->value, synth_accuracy(te), 1e-12);
            nnx_experiment_free(te);
        }
    }
    nnx_plan_free(p);
    nnx_experiment_free(e);
    nnx_diags_free(&d);
    nnx_search_result_free(&r);
}

static void staged_carries_winners_forward_and_reuses_points(void **state)
{
    fixture *f = *state;
    nnx_search_result r;
    assert_int_equal(search(f, "staged", "s", 0, &r), 0);
    assert_int_equal(r.kind, NNX_SEARCH_STAGED);
    /* stage 1: 4 lrs; stage 2: epochs = 5 is stage 1's winner again (reused), 10 is new;
       stage 3: batch = 32 is stage 2's winner (reused), 64 is new */
    assert_int_equal(f->s.calls, 6);
    assert_int_equal(r.ran, 6);
    assert_int_equal(r.reused, 2);
    assert_int_equal(r.planned, 8);
    assert_int_equal(r.nrows, 6);
    assert_int_equal(f->events[NNX_SEARCH_REUSED], 2);
    assert_int_equal(f->events[NNX_SEARCH_STAGE_DONE], 3);
    assert_int_equal(r.nstages, 3);
    assert_string_equal(r.stages[0].path, "optimizer.lr");
    assert_string_equal(r.stages[0].kept, "0.001");
    assert_string_equal(r.stages[0].winner, "lr=0.001");
    assert_string_equal(r.stages[1].kept, "10");
    assert_string_equal(r.stages[1].names[0], "lr=0.001");         /* reused */
    assert_string_equal(r.stages[1].names[1], "lr=0.001_epochs=10");
    assert_string_equal(r.stages[2].kept, "64");
    assert_string_equal(r.stages[2].names[0], "lr=0.001_epochs=10"); /* reused */
    assert_string_equal(r.stages[2].winner, "lr=0.001_epochs=10_batch=64");
    assert_string_equal(r.rows[r.winner].name, "lr=0.001_epochs=10_batch=64");
    const nnx_search_row *w = &r.rows[r.winner];
    assert_string_equal(w->values[0], "0.001");
    assert_string_equal(w->values[1], "10");
    assert_string_equal(w->values[2], "64");
    const nnx_search_row *first = row_named(&r, "lr=0.0001");
    assert_string_equal(first->values[1], "");     /* the base value */
    char *sum = slurp(f, "s", "summary.json");
    nnx_json *j = nnx_json_parse(sum, strlen(sum), NULL);
    const nnx_json *st = nnx_json_get(j, "stages");
    assert_int_equal(st->n, 3);
    assert_string_equal(nnx_json_as_string(nnx_json_get(nnx_json_at(st, 1), "param"), ""), "epochs");
    assert_float_equal(nnx_json_as_number(nnx_json_get(nnx_json_at(st, 1), "best")), 10, 0);
    assert_int_equal(nnx_json_get(nnx_json_at(st, 2), "trials")->n, 2);
    const nnx_json *vals = nnx_json_get(nnx_json_at(st, 0), "values");
    assert_int_equal(vals->n, 4);
    assert_float_equal(nnx_json_as_number(nnx_json_at(vals, 3)), 0.1, 0);
    assert_string_equal(nnx_json_as_string(nnx_json_get(nnx_json_at(st, 2), "winner"), ""),
                        "lr=0.001_epochs=10_batch=64");
    assert_string_equal(r.stages[1].values[1], "10");
    nnx_json_free(j);
    free(sum);
    nnx_search_result_free(&r);

    /* run again into the same directory: nothing is trained, the same answer */
    f->s.calls = 0;
    assert_int_equal(search(f, "staged", "s", 0, &r), 0);
    assert_int_equal(f->s.calls, 0);
    assert_int_equal(r.resumed, 6);
    assert_string_equal(r.rows[r.winner].name, "lr=0.001_epochs=10_batch=64");
    nnx_search_result_free(&r);
}

/* Run `exp` into tmp/ref, then into tmp/k with trial `name`'s worker killed
 * (SIGKILL) the first time it runs; its row says so. */
static void search_killing(fixture *f, const char *exp, const char *name, nnx_search_result *ref,
                           nnx_search_result *r)
{
    assert_int_equal(search(f, exp, "ref", 2, ref), 0);
    unlink(f->s.log);
    snprintf(f->s.kill_name, sizeof f->s.kill_name, "%s", name);
    snprintf(f->s.kill_mark, sizeof f->s.kill_mark, "%s/killed", f->tmp);
    assert_int_equal(search(f, exp, "k", 2, r), 0);
    const nnx_search_row *dead = row_named(r, name);
    assert_non_null(dead);
    assert_string_equal(dead->status, "interrupted");
    assert_non_null(strstr(dead->message, "killed by signal 9"));
}

/* tmp/ref and tmp/<sub> hold the same leaderboard. */
static void same_board(const fixture *f, const char *sub)
{
    char *a = slurp(f, "ref", "trials.csv"), *b = slurp(f, sub, "trials.csv");
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void a_killed_worker_is_recorded_then_resumed(void **state)
{
    fixture *f = *state;
    nnx_search_result ref, r;
    search_killing(f, "grid", "lr=0.001_batch=64", &ref, &r);
    assert_int_equal(r.nrows, 8);           /* the search went on */
    assert_false(r.interrupted);
    assert_string_equal(r.rows[0].name, "lr=0.001_batch=32");   /* the killed one cannot win */
    nnx_search_result_free(&r);
    /* resume: only the killed trial runs again; the leaderboard is the uninterrupted one */
    unlink(f->s.log);
    assert_int_equal(search(f, "grid", "k", 2, &r), 0);
    assert_int_equal(r.ran, 1);
    assert_int_equal(r.resumed, 7);
    assert_int_equal(log_lines(f, NULL), 1);
    assert_int_equal(log_lines(f, "lr=0.001_batch=64"), 1);
    same_board(f, "k");
    nnx_search_result_free(&r);
    nnx_search_result_free(&ref);
}

/* A staged search whose best stage-1 trial loses its worker: the next stage
 * needs that trial (its winner), so nothing more starts (the trials running
 * end) and the search stops as interrupted; going on would have carried
 * another lr forward, trials that running it again could not take back.
 * Run again, it gives the uninterrupted search's leaderboard. */
static void a_killed_worker_stops_a_search_whose_next_stage_needs_it(void **state)
{
    fixture *f = *state;
    nnx_search_result ref, r;
    search_killing(f, "staged", "lr=0.001", &ref, &r);
    assert_true(r.interrupted);
    assert_true(log_lines(f, NULL) <= 4);          /* of stage 1's trials, those begun then */
    assert_int_equal(log_lines(f, "_epochs="), 0);  /* and none of stage 2's */
    nnx_search_result_free(&r);
    unlink(f->s.log);
    assert_int_equal(search(f, "staged", "k", 2, &r), 0);
    assert_false(r.interrupted);
    assert_int_equal(log_lines(f, "lr=0.001 "), 1);
    same_board(f, "k");
    nnx_search_result_free(&r);
    nnx_search_result_free(&ref);
}

static void a_search_killed_whole_resumes_where_it_stopped(void **state)
{
    fixture *f = *state;
    nnx_search_result ref, r;
    assert_int_equal(search(f, "grid", "ref", 1, &ref), 0);
    unlink(f->s.log);
    /* the third trial takes long: kill the search and its worker while it runs */
    snprintf(f->s.sleep_name, sizeof f->s.sleep_name, "lr=0.001_batch=32");
    f->s.long_ms = 20000;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        nnx_search_result rr;
        search(f, "grid", "w", 1, &rr);
        _exit(0);
    }
    setpgid(pid, pid);
    for (int i = 0; i < 2000 && log_lines(f, NULL) < 3; i++)
        sleep_ms(10);
    assert_int_equal(log_lines(f, NULL), 3);     /* 2 done, the 3rd started */
    sleep_ms(50);
    kill(-pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    sleep_ms(50);   /* the orphaned worker dies with its group */
    f->s.sleep_name[0] = 0;
    unlink(f->s.log);
    assert_int_equal(search(f, "grid", "w", 1, &r), 0);
    assert_int_equal(r.resumed, 2);
    assert_int_equal(r.ran, 6);
    assert_int_equal(log_lines(f, "lr=0.0001_"), 0);
    assert_int_equal(log_lines(f, "lr=0.001_batch=32"), 1);
    same_board(f, "w");
    nnx_search_result_free(&r);
    nnx_search_result_free(&ref);
}

static void an_interrupted_trial_with_resume_state_is_continued(void **state)
{
    fixture *f = *state;
    nnx_search_result ref, r;
    assert_int_equal(search(f, "small", "ref", 2, &ref), 0);
    unlink(f->s.log);
    snprintf(f->s.stop_name, sizeof f->s.stop_name, "lr=0.01");
    snprintf(f->s.stop_mark, sizeof f->s.stop_mark, "%s/stopped", f->tmp);
    assert_int_equal(search(f, "small", "c", 2, &r), 0);
    assert_string_equal(row_named(&r, "lr=0.01")->status, "interrupted");
    assert_string_equal(row_named(&r, "lr=0.01")->message, "Ctrl-C");
    nnx_search_result_free(&r);
    unlink(f->s.log);
    assert_int_equal(search(f, "small", "c", 2, &r), 0);
    assert_int_equal(r.ran, 1);
    assert_int_equal(log_lines(f, "lr=0.01 1 cont"), 1);    /* its directory kept, told to continue */
    same_board(f, "c");
    nnx_search_result_free(&r);
    nnx_search_result_free(&ref);
    /* a killed worker leaves no resume.state: its directory is emptied, not continued */
    assert_int_equal(log_lines(f, "stale-state"), 0);
    assert_int_equal(log_lines(f, "cont-without-state"), 0);
}

static void a_trial_that_cannot_start_is_a_failed_row(void **state)
{
    fixture *f = *state;
    nnx_search_result r;
    snprintf(f->s.fail_name, sizeof f->s.fail_name, "lr=0.01");
    assert_int_equal(search(f, "small", "f", 2, &r), 0);
    assert_int_equal(r.nrows, 4);
    const nnx_search_row *bad = &r.rows[3];
    assert_string_equal(bad->name, "lr=0.01");
    assert_string_equal(bad->status, "failed");
    assert_string_equal(bad->message, "synthetic: lr=0.01 cannot start");
    /* failed is final: a second run does not retry it */
    nnx_search_result_free(&r);
    assert_int_equal(search(f, "small", "f", 2, &r), 0);
    assert_int_equal(r.ran, 0);
    nnx_search_result_free(&r);
}

static void a_trial_that_could_not_write_is_failed_and_retried(void **state)
{
    fixture *f = *state;
    nnx_search_result r;
    snprintf(f->s.full_name, sizeof f->s.full_name, "lr=0.001");
    snprintf(f->s.full_mark, sizeof f->s.full_mark, "%s/full", f->tmp);
    assert_int_equal(search(f, "small", "w", 2, &r), 0);
    assert_int_equal(r.nrows, 4);
    /* a failed row, ranked without its value, not the winner */
    const nnx_search_row *bad = &r.rows[3];
    assert_string_equal(bad->name, "lr=0.001");
    assert_string_equal(bad->status, "failed");
    assert_true(bad->retry);
    assert_string_equal(bad->message, "weights.nnxw: cannot write: No space left on device");
    assert_string_not_equal(r.rows[r.winner].name, "lr=0.001");
    char *csv = slurp(f, "w", "trials.csv");
    assert_non_null(strstr(csv, "\nlr=0.001,0.001,failed,"));
    free(csv);
    nnx_search_result_free(&r);
    /* not final: the next run trains it again, and only it */
    assert_int_equal(search(f, "small", "w", 2, &r), 0);
    assert_int_equal(r.ran, 1);
    assert_int_equal(r.resumed, 3);
    assert_string_equal(r.rows[r.winner].name, "lr=0.001");
    assert_false(r.rows[r.winner].retry);
    nnx_search_result_free(&r);
}

static void another_experiment_in_the_directory_is_refused(void **state)
{
    fixture *f = *state;
    nnx_search_result r;
    assert_int_equal(search(f, "small", "x", 0, &r), 0);
    nnx_search_result_free(&r);
    assert_int_equal(search(f, "grid", "x", 0, &r), -1);
    nnx_search_result_free(&r);
    char n1[128], n2[128], n3[128];
    nnx_diags d = { 0 };
    nnx_experiment *a = nnx_check_experiment(f->c, "grid", NULL, 0, &d);
    nnx_experiment *b = nnx_check_experiment(f->c, "grid", NULL, 0, &d);
    nnx_override ov = { "epochs", "7" };
    nnx_experiment *c = nnx_check_experiment(f->c, "grid", &ov, 1, &d);
    nnx_search_dir_name(a, n1, sizeof n1);
    nnx_search_dir_name(b, n2, sizeof n2);
    nnx_search_dir_name(c, n3, sizeof n3);
    assert_string_equal(n1, n2);
    assert_int_equal(strncmp(n1, "grid-", 5), 0);
    assert_int_equal(strlen(n1), 11);
    assert_string_not_equal(n1, n3);
    nnx_experiment_free(a);
    nnx_experiment_free(b);
    nnx_experiment_free(c);
    nnx_diags_free(&d);
}

static void a_trial_that_does_not_check_stops_the_search_before_training(void **state)
{
    fixture *f = *state;
    nnx_diags d = { 0 };
    nnx_experiment *e = nnx_check_experiment(f->c, "bad", NULL, 0, &d);
    assert_non_null(e);     /* each value fits the base; one combination does not */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/bad", f->tmp);
    nnx_search_opts o = { .dir = dir, .jobs = 1, .run = synth_run, .run_ctx = &f->s };
    nnx_search_result r;
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_search_run(f->c, "bad", NULL, 0, e, &o, &r, &d, &err), -1);
    assert_non_null(strstr(err.msg, "does not check; nothing was trained"));
    assert_true(d.nerrors > 0);
    assert_int_equal(f->s.calls, 0);
    assert_int_equal(access(dir, F_OK), -1);
    nnx_search_result_free(&r);
    nnx_experiment_free(e);
    nnx_diags_free(&d);
}

static void two_runs_never_share_a_search_directory(void **state)
{
    fixture *f = *state;
    char dir[600], lock[700];
    snprintf(dir, sizeof dir, "%s/locked", f->tmp);
    snprintf(lock, sizeof lock, "%s/.nnx-lock", dir);
    mkdir(dir, 0777);
    int go[2], done[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    pid_t pid = fork();
    if (pid == 0) {     /* another run holding the directory */
        int fd = open(lock, O_RDWR | O_CREAT, 0644);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        char c = fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
        ssize_t w = write(go[1], &c, 1);
        (void)w;
        ssize_t r = read(done[0], &c, 1);   /* until the parent has tried */
        (void)r;
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(go[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    nnx_search_result r;
    assert_int_equal(search(f, "small", "locked", 1, &r), -1);
    assert_int_equal(log_lines(f, NULL), 0);
    nnx_search_result_free(&r);
    assert_int_equal(write(done[1], "x", 1), 1);
    int st;
    waitpid(pid, &st, 0);
    /* the other run has ended: the directory is free again */
    assert_int_equal(search(f, "small", "locked", 1, &r), 0);
    assert_int_equal(r.nrows, 4);
    nnx_search_result_free(&r);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
}

static void lr_reading_names_the_best_and_the_diverged(void **state)
{
    fixture *f = *state;
    nnx_search_result r;
    assert_int_equal(search(f, "small", "lr", 0, &r), 0);
    char line[400];
    nnx_search_lr_reading(&r, line, sizeof line);
    /* 1e-4 has its best epoch at the last one (the synthetic runner says so) */
    assert_string_equal(line, "best at 0.001 (valid.accuracy 0.905); 0.0001 still improving at the last epoch");
    nnx_search_result_free(&r);
    assert_int_equal(search(f, "grid", "lr2", 0, &r), 0);
    nnx_search_lr_reading(&r, line, sizeof line);
    assert_string_equal(line, "best at 0.001 (valid.accuracy 0.925); 0.1 diverged; "
                              "0.0001 still improving at the last epoch");
    nnx_search_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(grid_ranks_by_select_and_keeps_a_diverged_trial, setup, teardown),
        cmocka_unit_test_setup_teardown(a_min_select_ranks_ascending, setup, teardown),
        cmocka_unit_test(rank_orders_values_then_the_rest_by_index),
        cmocka_unit_test_setup_teardown(two_workers_give_the_same_leaderboard, setup, teardown),
        cmocka_unit_test_setup_teardown(random_search_draws_the_planned_trials, setup, teardown),
        cmocka_unit_test_setup_teardown(staged_carries_winners_forward_and_reuses_points, setup, teardown),
        cmocka_unit_test_setup_teardown(a_killed_worker_is_recorded_then_resumed, setup, teardown),
        cmocka_unit_test_setup_teardown(a_killed_worker_stops_a_search_whose_next_stage_needs_it, setup, teardown),
        cmocka_unit_test_setup_teardown(a_search_killed_whole_resumes_where_it_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(an_interrupted_trial_with_resume_state_is_continued, setup, teardown),
        cmocka_unit_test_setup_teardown(a_trial_that_could_not_write_is_failed_and_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(a_trial_that_cannot_start_is_a_failed_row, setup, teardown),
        cmocka_unit_test_setup_teardown(another_experiment_in_the_directory_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_trial_that_does_not_check_stops_the_search_before_training, setup, teardown),
        cmocka_unit_test_setup_teardown(two_runs_never_share_a_search_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(lr_reading_names_the_best_and_the_diverged, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
