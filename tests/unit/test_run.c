/* test_run.c — the interpreter library: a trial from .nnx text, callbacks, interrupt, early stop, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/check.h"
#include "nnx/resolve.h"
#include "nnx/run.h"
#include "nnx/rundir.h"
#include "nnx/util/sha256.h"
#include "rundir/rundir_write.h"
#include "tmpdir.h"

static const char *const SPIRALS =
    "data toy {\n"
    "    train = spirals(n = 600, classes = 3, noise = 0.2, seed = 7)\n"
    "    valid = split(train, 0.25)\n"
    "}\n"
    "network net { dense(24) swish dense(3) }\n"
    "experiment t {\n"
    "    data = toy\n"
    "    model = net\n"
    "    loss = cross_entropy\n"
    "    optimizer = adam(lr = 0.01)\n"
    "    epochs = 6\n"
    "    batch = 50\n"
    "    seed = 5\n"
    "    metrics = [accuracy, auc]\n"
    "    select = max(valid.auc)\n"
    "}\n";

/* The experiment of `text` with overrides; fails the test on a diagnostic. */
static nnx_experiment *compile(const char *text, const nnx_override *ov, size_t nov)
{
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_from_source(nnx_source_from_string("/tmp/t.nnx", text), NULL, &d);
    assert_non_null(p);
    nnx_checker *c = nnx_checker_new(p);
    nnx_experiment *e = nnx_check_experiment(c, NULL, ov, nov, &d);
    if (!e)
        nnx_diags_print(&d, stderr, false);
    assert_non_null(e);
    /* the experiment owns its strings; locations are not used after this */
    nnx_diags_free(&d);
    nnx_checker_free(c);
    nnx_program_free(p);
    return e;
}

typedef struct seen {
    int setups, epochs, progress, best;
    int stop_at_epoch;                  /* raise the interrupt flag during this epoch */
    volatile sig_atomic_t *flag;
    int32_t batch;
    size_t ncolumns;
    char first_column[32], last_column[32];
} seen;

static void on_setup(void *u, const nnx_run_setup *s)
{
    seen *x = u;
    x->setups++;
    x->batch = s->batch;
    x->ncolumns = s->ncolumns;
    snprintf(x->first_column, sizeof x->first_column, "%s", s->columns[0]);
    snprintf(x->last_column, sizeof x->last_column, "%s", s->columns[s->ncolumns - 1]);
}
static void on_progress(void *u, const nnx_run_progress *p)
{
    seen *x = u;
    x->progress++;
    assert_true(p->batch >= 1 && p->batch <= p->batches);
    assert_true(isfinite(p->running_loss));
    if (x->flag && p->epoch == x->stop_at_epoch && p->batch == 2)
        *x->flag = 1;
}
static void on_epoch(void *u, const nnx_run_epoch *e)
{
    seen *x = u;
    x->epochs++;
    assert_int_equal(e->epoch, x->epochs);
    assert_int_equal((int)e->values[0], e->epoch);
    x->best += e->best;
}

static void test_trial_completes(void **state)
{
    (void)state;
    char *dir = tmpdir_make("run");
    nnx_experiment *e = compile(SPIRALS, NULL, 0);
    seen x = { 0 };
    nnx_run_callbacks cb = { .user = &x, .setup = on_setup, .progress = on_progress,
                             .epoch = on_epoch };
    nnx_run_opts o = { .out_dir = dir, .cb = &cb };
    nnx_run_result r;
    assert_int_equal(nnx_run_trial(e, &o, &r), 0);
    assert_int_equal(r.status, NNX_RUN_COMPLETED);
    assert_string_equal(r.message, "");
    assert_int_equal(r.epochs_run, 6);
    assert_int_equal(x.setups, 1);
    assert_int_equal(x.epochs, 6);
    assert_int_equal(x.progress, 6 * 9);           /* 450 train rows / 50 */
    assert_int_equal(x.batch, 50);
    assert_string_equal(x.first_column, "epoch");
    assert_string_equal(x.last_column, "seconds");
    assert_int_equal(x.ncolumns, 7);
    assert_true(x.best >= 1);
    assert_string_equal(r.select_name, "valid.auc");
    assert_true(r.select_max);
    assert_true(r.select_epoch >= 1 && r.select_epoch <= 6);
    assert_true(r.select_value > 0.5 && r.select_value <= 1);
    assert_true(nnx_run_result_metric(&r, "valid.auc") == r.select_value);
    assert_true(isnan(nnx_run_result_metric(&r, "test.auc")));   /* no test split */
    assert_true(r.seconds_per_epoch > 0);

    /* the reader of the run directory agrees with the result */
    nnx_run run;
    nnx_rt_error err;
    assert_int_equal(nnx_run_read(r.dir, true, &run, &err), 0);
    assert_string_equal(run.status, "completed");
    assert_int_equal(run.select_epoch, r.select_epoch);
    assert_true(run.select_max);
    assert_int_equal(run.metrics.nrows, 6);
    assert_int_equal(run.steps.nrows, 6 * 9);
    const double *auc = nnx_table_column(&run.metrics, "valid.auc");
    assert_non_null(auc);
    for (size_t i = 0; i < 6; i++)
        assert_true(auc[i] <= r.select_value);
    assert_true(fabs(auc[r.select_epoch - 1] - r.select_value) < 1e-8);
    assert_true(fabs(run.chance_loss - log(3.0)) < 1e-9);
    nnx_run_free(&run);

    nnx_run_result_free(&r);
    nnx_experiment_free(e);
    tmpdir_remove(dir);
    free(dir);
}

static void test_trial_interrupt(void **state)
{
    (void)state;
    char *dir = tmpdir_make("run");
    nnx_experiment *e = compile(SPIRALS, NULL, 0);
    volatile sig_atomic_t flag = 0;
    seen x = { .stop_at_epoch = 3, .flag = &flag };
    nnx_run_callbacks cb = { .user = &x, .progress = on_progress, .epoch = on_epoch };
    nnx_run_opts o = { .dir = dir, .cb = &cb, .interrupt = &flag };
    nnx_run_result r;
    assert_int_equal(nnx_run_trial(e, &o, &r), 0);
    assert_int_equal(r.status, NNX_RUN_INTERRUPTED);
    assert_int_equal(r.epochs_run, 2);            /* epoch 3 was cut short and not counted */
    assert_int_equal(x.epochs, 2);
    assert_int_equal(x.progress, 2 * 9 + 2);       /* the current batch finished */
    assert_non_null(strstr(r.message, "during epoch 3"));
    assert_string_equal(r.dir, dir);
    nnx_run run;
    nnx_rt_error err;
    assert_int_equal(nnx_run_read(dir, true, &run, &err), 0);
    assert_string_equal(run.status, "interrupted");
    assert_int_equal(run.metrics.nrows, 2);
    assert_int_equal(run.steps.nrows, 2 * 9 + 2);
    nnx_run_free(&run);
    nnx_run_result_free(&r);
    nnx_experiment_free(e);
    tmpdir_remove(dir);
    free(dir);
}

static void test_trial_early_stop_and_plateau(void **state)
{
    (void)state;
    char *dir = tmpdir_make("run");
    nnx_override ov[] = {
        { "early_stop", "patience(2, on = valid.loss, min_delta = 100)" },
        { "schedule.decay", "plateau(patience = 0, factor = 0.5, on = valid.loss)" },
        { "epochs", "20" },
    };
    nnx_experiment *e = compile(SPIRALS, ov, 3);
    nnx_run_opts o = { .dir = dir };
    nnx_run_result r;
    assert_int_equal(nnx_run_trial(e, &o, &r), 0);
    assert_int_equal(r.status, NNX_RUN_STOPPED);
    assert_int_equal(r.epochs_run, 3);
    assert_non_null(strstr(r.message, "early stopping after epoch 3"));
    nnx_table t;
    nnx_rt_error err;
    char *path = nnx_path_join(dir, "metrics.csv");
    assert_int_equal(nnx_table_read(path, &t, &err), 0);
    assert_int_equal(t.nrows, 3);
    const double *lr = nnx_table_column(&t, "lr");
    /* plateau with patience 0 halves the lr after every epoch that does not improve */
    assert_true(lr[0] == 0.01);
    assert_true(lr[1] == 0.01 || lr[1] == 0.005);
    nnx_table_free(&t);
    free(path);
    nnx_run_result_free(&r);
    nnx_experiment_free(e);
    tmpdir_remove(dir);
    free(dir);
}

static void test_trial_diverges(void **state)
{
    (void)state;
    char *dir = tmpdir_make("run");
    nnx_override ov[] = { { "optimizer", "sgd(lr = 1e8)" } };
    nnx_experiment *e = compile(SPIRALS, ov, 1);
    nnx_run_opts o = { .dir = dir };
    nnx_run_result r;
    assert_int_equal(nnx_run_trial(e, &o, &r), 0);
    assert_int_equal(r.status, NNX_RUN_DIVERGED);
    assert_non_null(strstr(r.message, "loss became"));
    assert_non_null(strstr(r.message, "the learning rate 1e+08 is probably too large"));
    assert_true(r.diagnosis.n >= 1);
    assert_int_equal(r.diagnosis.items[0].rule, NNX_RULE_DIVERGED);
    nnx_run_result_free(&r);
    nnx_experiment_free(e);
    tmpdir_remove(dir);
    free(dir);
}

static void test_trial_bad_data(void **state)
{
    (void)state;
    char *dir = tmpdir_make("run");
    char csv[512];
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    FILE *f = fopen(csv, "w");
    fputs("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n", f);
    fclose(f);
    char text[2048];
    snprintf(text, sizeof text,
             "data d { train = csv(\"%s\", label = \"label\") valid = split(train, 0.5) }\n"
             "network net { dense(2) }\n"
             "experiment t { data = d model = net epochs = 2 batch = 2 }\n", csv);
    nnx_experiment *e = compile(text, NULL, 0);
    /* the file goes bad after the check: the trial fails before training, naming it */
    f = fopen(csv, "w");
    fputs("a,b,label\n1,2,x\n3,oops,y\n", f);
    fclose(f);
    char out[600];
    snprintf(out, sizeof out, "%s/runs", dir);
    nnx_run_opts o = { .out_dir = out };
    nnx_run_result r;
    assert_int_equal(nnx_run_trial(e, &o, &r), -1);
    assert_int_equal(r.status, NNX_RUN_FAILED);
    assert_non_null(strstr(r.message, "d.csv"));
    assert_null(r.dir);
    assert_int_not_equal(access(out, F_OK), 0);   /* no run directory was made */
    nnx_run_result_free(&r);
    nnx_experiment_free(e);
    tmpdir_remove(dir);
    free(dir);
}

static const char *const RESUMABLE =
    "data toy {\n"
    "    train = spirals(n = 600, classes = 3, noise = 0.2, seed = 7)\n"
    "    valid = split(train, 0.25)\n"
    "}\n"
    "network net { dense(24) batchnorm swish dropout(0.2) dense(3) }\n"
    "experiment t {\n"
    "    data = toy\n"
    "    model = net\n"
    "    loss = cross_entropy\n"
    "    optimizer = adam(lr = 0.01)\n"
    "    schedule { warmup = 1  decay = plateau(patience = 0, factor = 0.5, on = valid.loss) }\n"
    "    epochs = 7\n"
    "    batch = 50\n"
    "    seed = 5\n"
    "    metrics = [accuracy, auc]\n"
    "    select = max(valid.auc)\n"
    "    early_stop = patience(4, on = valid.accuracy)\n"
    "}\n";

static char *file_in(const char *dir, const char *name)
{
    char *path = nnx_path_join(dir, name);
    size_t len;
    char *s = tmpdir_slurp(path, &len);
    free(path);
    return s;
}

/* metrics.csv without its last column (seconds) */
static char *metrics_but_seconds(const char *dir)
{
    char *s = file_in(dir, "metrics.csv");
    assert_non_null(s);
    char *out = malloc(strlen(s) + 1), *o = out;
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        char *comma = strrchr(line, ',');
        size_t n = comma ? (size_t)(comma - line) : strlen(line);
        memcpy(o, line, n);
        o += n;
        *o++ = '\n';
    }
    *o = '\0';
    free(s);
    return out;
}

static void test_trial_resume(void **state)
{
    (void)state;
    char *root = tmpdir_make("resume");
    char *da = nnx_path_join(root, "a"), *db = nnx_path_join(root, "b");
    nnx_experiment *e = compile(RESUMABLE, NULL, 0);
    nnx_run_result r;

    /* A: straight through */
    nnx_run_opts oa = { .dir = da };
    assert_int_equal(nnx_run_trial(e, &oa, &r), 0);
    assert_int_equal(r.status, NNX_RUN_COMPLETED);
    nnx_run_result_free(&r);
    char *state_a = nnx_path_join(da, "resume.state");
    assert_int_not_equal(access(state_a, F_OK), 0);    /* a finished run keeps no state */
    free(state_a);

    /* B: Ctrl-C in epoch 4, then resumed */
    volatile sig_atomic_t flag = 0;
    seen x = { .stop_at_epoch = 4, .flag = &flag };
    nnx_run_callbacks cb = { .user = &x, .progress = on_progress };
    nnx_run_opts ob = { .dir = db, .cb = &cb, .interrupt = &flag };
    assert_int_equal(nnx_run_trial(e, &ob, &r), 0);
    assert_int_equal(r.status, NNX_RUN_INTERRUPTED);
    assert_int_equal(r.epochs_run, 3);
    nnx_run_result_free(&r);
    char *state_b = nnx_path_join(db, "resume.state");
    assert_int_equal(access(state_b, F_OK), 0);
    flag = 0;
    x.stop_at_epoch = 0;
    nnx_run_opts oc = { .resume_dir = db, .cb = &cb, .interrupt = &flag };
    assert_int_equal(nnx_run_trial(e, &oc, &r), 0);
    assert_int_equal(r.status, NNX_RUN_COMPLETED);
    assert_int_equal(r.epochs_run, 7);
    assert_int_not_equal(access(state_b, F_OK), 0);
    nnx_run_result_free(&r);
    free(state_b);

    /* the same numbers as the run that was never stopped */
    char *ma = metrics_but_seconds(da), *mb = metrics_but_seconds(db);
    assert_string_equal(ma, mb);
    free(ma), free(mb);
    char *sa = file_in(da, "steps.csv"), *sb = file_in(db, "steps.csv");
    assert_string_equal(sa, sb);
    free(sa), free(sb);
    nnx_rt_error err;
    size_t la, lb;
    char *pa = nnx_path_join(da, "weights.nnxw"), *pb = nnx_path_join(db, "weights.nnxw");
    char *wa = nnx_file_read(pa, 0, &la, &err), *wb = nnx_file_read(pb, 0, &lb, &err);
    assert_non_null(wa);
    assert_non_null(wb);
    assert_int_equal(la, lb);
    assert_memory_equal(wa, wb, la);
    free(wa), free(wb), free(pa), free(pb);

    /* nothing to resume in a finished run, and not with other settings */
    assert_int_equal(nnx_run_trial(e, &oc, &r), -1);
    assert_non_null(strstr(r.message, "resume.state"));
    nnx_run_result_free(&r);
    nnx_override ov[] = { { "epochs", "9" } };
    nnx_experiment *e9 = compile(RESUMABLE, ov, 1);
    assert_int_equal(nnx_run_trial(e9, &oc, &r), -1);
    assert_non_null(strstr(r.message, "not this experiment"));
    nnx_run_result_free(&r);
    nnx_experiment_free(e9);

    nnx_experiment_free(e);
    free(da), free(db);
    tmpdir_remove(root);
    free(root);
}

/* A search's step that ends a trial after epoch 3 (a rung of prune) and is
 * killed after the trial marked epoch 3 resumable, before it said it was
 * pruned: the resumed search runs the trial again from resume.state with the
 * same end.  It is pruned at epoch 3 at once, as it would have been; it used
 * to train epoch 4 first (search_tpe.sh's kill -9 test then failed now and
 * then: "pruned,3,4" where the search never killed said "pruned,3,3").  A
 * later step (ending after 5) continues it to the numbers of a trial pruned
 * at 5 that was never stopped. */
static void test_trial_resume_at_step_end(void **state)
{
    (void)state;
    char *root = tmpdir_make("resume_step");
    char *da = nnx_path_join(root, "a"), *db = nnx_path_join(root, "b");
    nnx_experiment *e = compile(RESUMABLE, NULL, 0);
    nnx_run_result r;

    nnx_run_opts oa = { .dir = da, .stop_after = 5 };
    assert_int_equal(nnx_run_trial(e, &oa, &r), 0);
    assert_int_equal(r.status, NNX_RUN_PRUNED);
    assert_int_equal(r.epochs_run, 5);
    nnx_run_result_free(&r);

    nnx_run_opts ob = { .dir = db, .stop_after = 3 };
    assert_int_equal(nnx_run_trial(e, &ob, &r), 0);
    assert_int_equal(r.status, NNX_RUN_PRUNED);
    assert_int_equal(r.epochs_run, 3);
    nnx_run_result_free(&r);
    char *three = metrics_but_seconds(db);
    nnx_run_opts again = { .resume_dir = db, .stop_after = 3 };
    assert_int_equal(nnx_run_trial(e, &again, &r), 0);
    assert_int_equal(r.status, NNX_RUN_PRUNED);
    assert_int_equal(r.epochs_run, 3);
    assert_non_null(strstr(r.message, "pruned after epoch 3"));
    nnx_run_result_free(&r);
    char *still = metrics_but_seconds(db);
    assert_string_equal(three, still);          /* no fourth epoch */
    free(three), free(still);

    nnx_run_opts on = { .resume_dir = db, .stop_after = 5 };
    assert_int_equal(nnx_run_trial(e, &on, &r), 0);
    assert_int_equal(r.status, NNX_RUN_PRUNED);
    assert_int_equal(r.epochs_run, 5);
    nnx_run_result_free(&r);
    char *ma = metrics_but_seconds(da), *mb = metrics_but_seconds(db);
    assert_string_equal(ma, mb);
    free(ma), free(mb);

    nnx_experiment_free(e);
    free(da), free(db);
    tmpdir_remove(root);
    free(root);
}

/* Found by fuzzing: a steps.csv whose step cell is empty or not a whole
 * number made resume convert NaN to an integer (undefined behaviour) and
 * carry on.  It is refused, naming the file, the line and the cell. */
static void test_trial_resume_damaged_steps(void **state)
{
    (void)state;
    char *root = tmpdir_make("resume_steps");
    char *d = nnx_path_join(root, "d");
    nnx_experiment *e = compile(RESUMABLE, NULL, 0);
    nnx_run_result r;
    volatile sig_atomic_t flag = 0;
    seen x = { .stop_at_epoch = 3, .flag = &flag };
    nnx_run_callbacks cb = { .user = &x, .progress = on_progress };
    nnx_run_opts ob = { .dir = d, .cb = &cb, .interrupt = &flag };
    assert_int_equal(nnx_run_trial(e, &ob, &r), 0);
    assert_int_equal(r.status, NNX_RUN_INTERRUPTED);
    nnx_run_result_free(&r);
    static const char *const bad[] = { "", "x", "1.5", "-1", "1e300" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[128];
        snprintf(text, sizeof text, "step,epoch,lr,loss\n1,1,0.1,2.0\n%s,1,0.1,1.5\n", bad[i]);
        char *path = nnx_path_join(d, "steps.csv");
        nnx_rt_error err;
        assert_int_equal(nnx_file_write(path, text, strlen(text), 0, &err), 0);
        nnx_run_opts oc = { .resume_dir = d };
        assert_int_equal(nnx_run_trial(e, &oc, &r), -1);
        char want[200];
        snprintf(want, sizeof want, "steps.csv:3: column 'step': '%s' is not a step number", bad[i]);
        if (!strstr(r.message, want))
            fail_msg("%s: %s", bad[i], r.message);
        nnx_run_result_free(&r);
        free(path);
    }
    nnx_experiment_free(e);
    free(d);
    tmpdir_remove(root);
    free(root);
}

static void test_auto_batch(void **state)
{
    (void)state;
    assert_int_equal(nnx_run_auto_batch(54000), 232);
    assert_int_equal(nnx_run_auto_batch(720), 27);
    assert_int_equal(nnx_run_auto_batch(1), 1);
    assert_int_equal(nnx_run_auto_batch(0), 1);
}

static void test_sha256(void **state)
{
    (void)state;
    static const struct { const char *in, *hex; } cases[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t d[32];
        char hex[65];
        nnx_sha256(cases[i].in, strlen(cases[i].in), d);
        for (int k = 0; k < 32; k++)
            snprintf(hex + 2 * k, 3, "%02x", d[k]);
        assert_string_equal(hex, cases[i].hex);
    }
    /* a million 'a' through the file path */
    char *dir = tmpdir_make("sha");
    char *path = nnx_path_join(dir, "a");
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 1000000; i++)
        fputc('a', f);
    fclose(f);
    char hex[65];
    assert_int_equal(nnx_sha256_file(path, hex, NULL), 0);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    nnx_rt_error err;
    assert_int_equal(nnx_sha256_file("/nonexistent/x", hex, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/x"));
    free(path);
    tmpdir_remove(dir);
    free(dir);
}

static char *slurp(const char *path)
{
    size_t len;
    char *s = tmpdir_slurp(path, &len);
    assert_non_null(s);
    return s;
}

static void test_metrics_log(void **state)
{
    (void)state;
    char *dir = tmpdir_make("mlog");
    char *path = nnx_path_join(dir, "metrics.csv");
    const char *names[] = { "epoch", "lr", "train.loss", "seconds" };
    nnx_metrics_log l;
    nnx_rt_error err;
    assert_int_equal(nnx_metrics_log_open(&l, path, names, 4, &err), 0);
    double r1[] = { 1, 0.001, 0.5, 2.25 };
    bool s1[] = { true, true, true, true };
    assert_int_equal(nnx_metrics_log_row(&l, r1, s1, &err), 0);
    char *text = slurp(path);          /* flushed after each row */
    assert_string_equal(text, "epoch,lr,train.loss,seconds\n1,0.001,0.5,2.25\n");
    free(text);
    /* a new column goes before `seconds`; earlier rows get an empty cell */
    assert_int_equal(nnx_metrics_log_add_column(&l, "lr_x1000", &err), 3);
    assert_int_equal(nnx_metrics_log_find(&l, "lr_x1000"), 3);
    double r2[] = { 2, 0.0005, NAN, 0.5, 1.5 };
    bool s2[] = { true, true, true, true, true };
    assert_int_equal(nnx_metrics_log_row(&l, r2, s2, &err), 0);
    double r3[] = { 3, 1e-4, 0.25, 0, INFINITY };
    bool s3[] = { true, true, true, false, true };
    assert_int_equal(nnx_metrics_log_row(&l, r3, s3, &err), 0);
    text = slurp(path);
    assert_string_equal(text, "epoch,lr,train.loss,lr_x1000,seconds\n"
                              "1,0.001,0.5,,2.25\n"
                              "2,0.0005,nan,0.5,1.5\n"
                              "3,0.0001,0.25,,inf\n");
    free(text);
    nnx_metrics_log_close(&l);
    /* an unwritable place is an error naming it */
    assert_int_equal(nnx_metrics_log_open(&l, "/nonexistent/m.csv", names, 4, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/m.csv"));
    free(path);
    tmpdir_remove(dir);
    free(dir);
}

static void test_rundir_create(void **state)
{
    (void)state;
    char *dir = tmpdir_make("rdir");
    char *out = nnx_path_join(dir, "a/b");
    char *p1, *p2;
    nnx_rt_error err;
    assert_int_equal(nnx_rundir_create(out, "exp", &p1, &err), 0);
    assert_int_equal(nnx_rundir_create(out, "exp", &p2, &err), 0);
    assert_string_not_equal(p1, p2);
    assert_int_equal(strlen(p1), strlen(out) + strlen("/exp-") + 6);
    assert_int_equal(access(p1, W_OK), 0);
    free(p1);
    free(p2);
    free(out);
    assert_int_equal(nnx_rundir_create("/proc/nope", "exp", &p1, &err), -1);
    assert_null(p1);
    tmpdir_remove(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trial_completes),
        cmocka_unit_test(test_trial_interrupt),
        cmocka_unit_test(test_trial_early_stop_and_plateau),
        cmocka_unit_test(test_trial_diverges),
        cmocka_unit_test(test_trial_bad_data),
        cmocka_unit_test(test_trial_resume),
        cmocka_unit_test(test_trial_resume_at_step_end),
        cmocka_unit_test(test_trial_resume_damaged_steps),
        cmocka_unit_test(test_auto_batch),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_metrics_log),
        cmocka_unit_test(test_rundir_create),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
