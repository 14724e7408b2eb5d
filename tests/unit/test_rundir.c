/* test_rundir.c — reading the fixture run, search and ensemble directories, and clear errors on bad files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/rundir.h"
#include "nnx/rt/rng.h"

/* tests/fixtures/NAME under the repository root (NNX_ROOT, else "."). */
static const char *fixture(const char *name)
{
    static char path[1024];
    const char *root = getenv("NNX_ROOT");
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", root && root[0] ? root : ".", name);
    return path;
}

static void csv_quoting_and_shape(void **state)
{
    (void)state;
    const char *text = "trial,decay,lr\r\n"
                       "a,\"step(every = 5, gamma = 0.5)\",1e-3\r\n"
                       "b,\"say \"\"hi\"\"\",\n"
                       "c,none,nan\n\n";
    nnx_table t;
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_table_parse(text, strlen(text), "x.csv", &t, &err), 0);
    assert_int_equal(t.ncols, 3);
    assert_int_equal(t.nrows, 3);
    assert_string_equal(nnx_table_cell(&t, 0, 1), "step(every = 5, gamma = 0.5)");
    assert_string_equal(nnx_table_cell(&t, 1, 1), "say \"hi\"");
    assert_string_equal(nnx_table_cell(&t, 1, 2), "");
    const double *lr = nnx_table_column(&t, "lr");
    assert_true(lr[0] == 1e-3);
    assert_true(isnan(lr[1]) && isnan(lr[2]));
    assert_int_equal(nnx_table_find(&t, "decay"), 1);
    assert_null(nnx_table_column(&t, "missing"));
    assert_string_equal(nnx_table_cell(&t, 9, 9), "");
    nnx_table_free(&t);
}

static void expect_csv_error(const char *text, const char *want)
{
    nnx_table t;
    nnx_rt_error err = { { 0 } };
    if (nnx_table_parse(text, strlen(text), "m.csv", &t, &err) == 0) {
        nnx_table_free(&t);
        fail_msg("parsed bad CSV: %s", text);
    }
    if (!strstr(err.msg, want))
        fail_msg("error '%s' lacks '%s'", err.msg, want);
}

static void csv_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_csv_error("", "m.csv: empty file");
    expect_csv_error("a,b\n1,2\n3\n", "m.csv:3: 1 cells, but the header has 2 columns");
    expect_csv_error("a,b\n1,2,3\n", "m.csv:2: 3 cells");
    expect_csv_error("a,b\n\"1,2\n", "m.csv:2: a quoted cell is not closed");
    expect_csv_error("a,b\n1\"x,2\n", "m.csv:2: a quote inside an unquoted cell");
    expect_csv_error("a,b\n\"1\"x,2\n", "m.csv:2: unexpected 'x' after a quoted cell");
    expect_csv_error("a,a\n1,2\n", "m.csv:1: column 'a' appears twice");
    expect_csv_error("a,,c\n1,2,3\n", "m.csv:1: column 2 has an empty name");
    expect_csv_error("a,b\n1,2\n\n3,4\n", "m.csv:3: a blank line inside the table");
}

static void reads_the_fixture_run(void **state)
{
    (void)state;
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_rundir_read(fixture("run"), &d, &err), 0);
    assert_int_equal(d.kind, NNX_RUNDIR_RUN);
    const nnx_run *r = &d.run;
    assert_true(r->has_metrics && r->has_steps);
    assert_int_equal(r->metrics.nrows, 14);
    assert_int_equal(r->steps.nrows, 14 * 12);
    assert_string_equal(r->experiment, "baseline");
    assert_string_equal(r->status, "completed");
    assert_string_equal(r->select_metric, "valid.auc");
    assert_true(r->select_max);
    assert_int_equal(r->select_epoch, 11);
    assert_float_equal(r->chance_loss, log(10), 1e-9);
    assert_string_equal(r->metrics.names[6], "lr_x1000");  /* a hook column */

    nnx_curves c;
    assert_int_equal(nnx_run_curves(r, &c, &err), 0);
    assert_int_equal(c.epochs, 14);
    assert_float_equal(c.train_loss[0], 2.15, 1e-12);
    assert_float_equal(c.valid_loss[8], 0.512450328, 1e-12);
    assert_float_equal(c.select_values[10], 0.967111471, 1e-12);
    assert_int_equal(c.steps, 168);
    assert_float_equal(c.step_epoch[167], 14, 0);
    assert_false(c.diverged);

    /* The diagnosis of the fixture: overfitting after epoch 9, select at 11. */
    nnx_findings f;
    assert_int_equal(nnx_diagnose(&c, &f, &err), 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.items[0].rule, NNX_RULE_OVERFITTING);
    assert_int_equal(f.items[0].epoch, 9);
    assert_int_equal(f.items[1].rule, NNX_RULE_SELECT_VS_LOSS);
    nnx_rundir_free(&d);
}

static void reads_the_fixture_search(void **state)
{
    (void)state;
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_rundir_read(fixture("search"), &d, &err), 0);
    assert_int_equal(d.kind, NNX_RUNDIR_SEARCH);
    assert_int_equal(d.trials.nrows, 9);
    assert_int_equal(d.nparams, 2);
    assert_string_equal(d.trials.names[1], "optimizer.lr");
    assert_int_equal(d.status_col, 3);
    assert_int_equal(d.epoch_col, 4);
    assert_int_equal(d.metric_col, 5);
    assert_string_equal(d.select_metric, "valid.auc");
    assert_true(d.select_max);
    assert_int_equal(d.nchildren, 9);
    for (size_t i = 0; i < d.nchildren; i++)
        assert_null(d.child_errors[i]);
    assert_string_equal(d.child_names[6], "lr=0.1_batch=64");
    assert_string_equal(d.children[6].status, "diverged");
    /* the failed trial has a summary but no curves */
    assert_string_equal(d.child_names[8], "lr=1_batch=64");
    assert_false(d.children[8].has_metrics);
    assert_string_equal(d.children[8].status, "failed");
    nnx_curves c;
    assert_int_equal(nnx_run_curves(&d.children[8], &c, &err), -1);
    assert_non_null(strstr(err.msg, "no metrics.csv (status failed)"));
    /* the diverged trial is diagnosed as such */
    nnx_findings f;
    assert_int_equal(nnx_run_curves(&d.children[6], &c, &err), 0);
    assert_true(c.diverged);
    assert_int_equal(nnx_diagnose(&c, &f, &err), 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].rule, NNX_RULE_DIVERGED);
    nnx_rundir_free(&d);
}

static void reads_the_fixture_ensemble(void **state)
{
    (void)state;
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_rundir_read(fixture("ensemble"), &d, &err), 0);
    assert_int_equal(d.kind, NNX_RUNDIR_ENSEMBLE);
    assert_int_equal(d.nchildren, 3);
    assert_string_equal(d.child_names[0], "1");
    assert_string_equal(d.child_names[2], "3");
    assert_int_equal(d.children[1].metrics.nrows, 8);
    assert_string_equal(d.select_metric, "valid.auc");
    assert_string_equal(nnx_rundir_kind_name(d.kind), "ensemble");
    nnx_rundir_free(&d);
}

/* A scratch run directory with the given files (NULL content = absent). */
static char *scratch_run(const char *metrics, const char *steps, const char *summary)
{
    char *dir = strdup("/tmp/nnx-rundir-XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *names[3] = { "metrics.csv", "steps.csv", "summary.json" };
    const char *texts[3] = { metrics, steps, summary };
    for (int i = 0; i < 3; i++) {
        if (!texts[i])
            continue;
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(texts[i], f);
        fclose(f);
    }
    return dir;
}

static void remove_run(char *dir)
{
    const char *names[3] = { "metrics.csv", "steps.csv", "summary.json" };
    for (int i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

static void expect_run_error(const char *metrics, const char *steps, const char *summary,
                             const char *file, const char *want)
{
    char *dir = scratch_run(metrics, steps, summary);
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    int rc = nnx_rundir_read(dir, &d, &err);
    char where[300];
    snprintf(where, sizeof where, "%s%s%s", dir, file[0] ? "/" : "", file);
    bool ok = rc == -1 && strstr(err.msg, where) && strstr(err.msg, want);
    remove_run(dir);
    if (rc == 0)
        nnx_rundir_free(&d);
    if (!ok)
        fail_msg("got rc %d '%s', want an error naming %s with '%s'", rc, err.msg, file, want);
}

static void bad_run_files_are_clear_errors(void **state)
{
    (void)state;
    const char *good = "epoch,lr,train.loss,valid.loss\n1,0.1,2.0,2.1\n2,0.1,1.5,1.6\n";
    expect_run_error("epoch,lr,train.loss,valid.loss\n1,0.1,2.0,2.1\n2,0.1,abc,1.6\n", NULL, NULL,
                     "metrics.csv", ":3: column 'train.loss': 'abc' is not a number");
    expect_run_error("epoch,lr,train.loss\n1,0.1,2.0\n2,0.1\n", NULL, NULL, "metrics.csv",
                     ":3: 2 cells, but the header has 3 columns");
    expect_run_error("epoch,lr,train.loss\n2,0.1,2.0\n1,0.1,1.0\n", NULL, NULL, "metrics.csv",
                     ":3: epoch 1 after epoch 2");
    expect_run_error("epoch,lr,train.loss\n0.5,0.1,2.0\n", NULL, NULL, "metrics.csv",
                     ":2: epoch '0.5' is not a whole number");
    expect_run_error("epoch,lr,valid.loss\n1,0.1,2.0\n", NULL, NULL, "metrics.csv",
                     ":1: no 'train.loss' column");
    expect_run_error("lr,train.loss\n0.1,2.0\n", NULL, NULL, "metrics.csv", ":1: no 'epoch' column");
    expect_run_error(good, "step,epoch,lr\n1,1,0.1\n", NULL, "steps.csv", ":1: no 'loss' column");
    expect_run_error(good, "step,epoch,lr,loss\n1,1,0.1,x\n", NULL, "steps.csv",
                     ":2: column 'loss': 'x' is not a number");
    expect_run_error(good, NULL, "{\"status\": \"completed\",\n  \"select\": {\"metric\" \"valid.auc\"}}",
                     "summary.json", ":2:23: expected ':' after the key \"metric\"");
    expect_run_error(good, NULL, "[1, 2]", "summary.json", "expected a JSON object");
    expect_run_error(NULL, NULL, "{}", "", "no metrics.csv");

    /* nan and inf are numbers: a blown-up loss is data, not a bad file */
    char *dir = scratch_run("epoch,lr,train.loss\n1,0.1,2.0\n2,0.1,nan\n3,0.1,inf\n", NULL,
                            "{\"status\": \"diverged\", \"select\": {\"metric\": \"valid.loss\", \"mode\": \"min\"}}");
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_rundir_read(dir, &d, &err), 0);
    nnx_curves c;
    assert_int_equal(nnx_run_curves(&d.run, &c, &err), 0);
    assert_true(isnan(c.train_loss[1]) && isinf(c.train_loss[2]));
    assert_true(c.diverged);
    assert_null(c.valid_loss);
    assert_false(d.run.has_steps);
    nnx_rundir_free(&d);
    remove_run(dir);

    assert_int_equal(nnx_rundir_read("/nonexistent/nnx-run", &d, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/nnx-run: no such directory"));
}

/* Mutated CSV never crashes the reader, and a table it accepts is rectangular. */
static void csv_survives_mutations(void **state)
{
    (void)state;
    const char *seed = "epoch,lr,\"a,b\"\n1,0.1,\"x \"\"y\"\"\"\r\n2,nan,\n";
    size_t n = strlen(seed);
    char buf[96];
    nnx_rng g;
    nnx_rng_seed(&g, 12, NNX_STREAM_USER);
    const char alphabet[] = ",\"\n\r x1.";
    for (int i = 0; i < 5000; i++) {
        memcpy(buf, seed, n);
        size_t len = n;
        for (int e = 0; e < 3; e++) {
            size_t at = (size_t)(nnx_rng_next(&g) % len);
            if (nnx_rng_next(&g) % 2)
                buf[at] = alphabet[nnx_rng_next(&g) % (sizeof alphabet - 1)];
            else
                len = at + 1;
        }
        nnx_table t;
        nnx_rt_error err = { { 0 } };
        if (nnx_table_parse(buf, len, "f.csv", &t, &err) == 0) {
            for (size_t r = 0; r < t.nrows; r++)
                for (size_t c = 0; c < t.ncols; c++)
                    assert_non_null(nnx_table_cell(&t, r, c));
            nnx_table_free(&t);
        } else {
            assert_non_null(strstr(err.msg, "f.csv"));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_quoting_and_shape),
        cmocka_unit_test(csv_errors_name_file_and_line),
        cmocka_unit_test(reads_the_fixture_run),
        cmocka_unit_test(reads_the_fixture_search),
        cmocka_unit_test(reads_the_fixture_ensemble),
        cmocka_unit_test(bad_run_files_are_clear_errors),
        cmocka_unit_test(csv_survives_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
