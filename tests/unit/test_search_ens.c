/* test_search_ens.c — seed ensembles: saved probabilities, their average, and a real ensemble recomputed from its members. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/check.h"
#include "nnx/util/json.h"
#include "nnx/resolve.h"
#include "nnx/rundir.h"
#include "nnx/search.h"
#include "tmpdir.h"

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void probs_round_trip_and_bad_files(void **state)
{
    (void)state;
    char *dir = tmpdir_make("probs");
    char path[512];
    snprintf(path, sizeof path, "%s/probs_valid.f32", dir);
    int32_t labels[3] = { 0, 2, 1 };
    float p[6] = { 0.9f, 0.1f, 0.25f, 0.75f, -0.0f, 1e-30f };
    nnx_probs w = { .rows = 3, .cols = 2, .labels = labels, .p = p }, r;
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_probs_write(path, &w, &err), 0);
    assert_int_equal(nnx_probs_read(path, &r, &err), 0);
    assert_int_equal(r.rows, 3);
    assert_int_equal(r.cols, 2);
    assert_memory_equal(r.labels, labels, sizeof labels);
    assert_memory_equal(r.p, p, sizeof p);      /* bit for bit */
    nnx_probs_free(&r);
    /* the header is little-endian: "NNXP", 1, rows, cols */
    size_t n;
    char *raw = tmpdir_slurp(path, &n);
    assert_int_equal(n, 16 + 3 * 4 + 6 * 4);
    const unsigned char head[16] = { 'N', 'N', 'X', 'P', 1, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0 };
    assert_memory_equal(raw, head, 16);
    /* truncated, wrong magic, wrong version, a count that does not fit */
    write_bytes(path, raw, n - 1);
    assert_int_equal(nnx_probs_read(path, &r, &err), -1);
    assert_non_null(strstr(err.msg, "do not hold 3 rows of 2"));
    raw[0] = 'X';
    write_bytes(path, raw, n);
    assert_int_equal(nnx_probs_read(path, &r, &err), -1);
    assert_non_null(strstr(err.msg, "not an nnx probability file"));
    raw[0] = 'N';
    raw[4] = 2;
    write_bytes(path, raw, n);
    assert_int_equal(nnx_probs_read(path, &r, &err), -1);
    assert_non_null(strstr(err.msg, "version 2"));
    raw[4] = 1;
    raw[11] = 0x7f;     /* rows = 2^31 - ... */
    write_bytes(path, raw, n);
    assert_int_equal(nnx_probs_read(path, &r, &err), -1);
    write_bytes(path, raw, 7);
    assert_int_equal(nnx_probs_read(path, &r, &err), -1);
    free(raw);
    tmpdir_remove(dir);
    free(dir);
}

static void average_checks_that_members_line_up(void **state)
{
    (void)state;
    char *dir = tmpdir_make("avg");
    char a[512], b[512], path[600];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    mkdir(a, 0777);
    mkdir(b, 0777);
    int32_t la[2] = { 0, 1 }, lb[2] = { 0, 1 };
    float pa[4] = { 0.8f, 0.2f, 0.4f, 0.6f }, pb[4] = { 0.6f, 0.4f, 0.1f, 0.9f };
    nnx_rt_error err = { { 0 } };
    snprintf(path, sizeof path, "%s/probs_test.f32", a);
    assert_int_equal(nnx_probs_write(path, &(nnx_probs){ 2, 2, la, pa }, &err), 0);
    snprintf(path, sizeof path, "%s/probs_test.f32", b);
    assert_int_equal(nnx_probs_write(path, &(nnx_probs){ 2, 2, lb, pb }, &err), 0);
    const char *dirs[2] = { a, b };
    nnx_probs avg;
    assert_int_equal(nnx_ensemble_average(dirs, 2, "test", &avg, &err), 0);
    assert_float_equal(avg.p[0], 0.7, 1e-6);
    assert_float_equal(avg.p[1], 0.3, 1e-6);
    assert_float_equal(avg.p[2], 0.25, 1e-6);
    assert_float_equal(avg.p[3], 0.75, 1e-6);
    nnx_probs_free(&avg);
    /* a member evaluated on other rows */
    lb[1] = 0;
    assert_int_equal(nnx_probs_write(path, &(nnx_probs){ 2, 2, lb, pb }, &err), 0);
    assert_int_equal(nnx_ensemble_average(dirs, 2, "test", &avg, &err), -1);
    assert_non_null(strstr(err.msg, "not evaluated on the same rows"));
    /* a member with another shape, a missing member file */
    assert_int_equal(nnx_probs_write(path, &(nnx_probs){ 1, 2, lb, pb }, &err), 0);
    assert_int_equal(nnx_ensemble_average(dirs, 2, "test", &avg, &err), -1);
    assert_non_null(strstr(err.msg, "1 x 2 probabilities, but the first member has 2 x 2"));
    assert_int_equal(nnx_ensemble_average(dirs, 2, "valid", &avg, &err), -1);
    assert_int_equal(nnx_ensemble_average(dirs, 0, "test", &avg, &err), -1);
    tmpdir_remove(dir);
    free(dir);
}

/* --- a real ensemble --------------------------------------------------------- */

static const char *const program_text =
    "data toy { train = spirals(n = 600, classes = 3, noise = 0.3, seed = 7)\n"
    "           valid = split(train, 0.25)\n"
    "           test  = spirals(n = 300, classes = 3, noise = 0.3, seed = 8) }\n"
    "network mlp(width = 24) { dense(width) relu dense(width) relu dense(3) }\n"
    "experiment members {\n"
    "    data = toy  model = mlp()  loss = cross_entropy  optimizer = adam(lr = 1e-2)\n"
    "    epochs = 4  batch = 32  metrics = [accuracy, auc]  select = max(valid.accuracy)\n"
    "    log = [csv]\n"
    "    ensemble { seeds = 5 }\n"
    "}\n";

static double member_metric(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    size_t n;
    char *text = tmpdir_slurp(path, &n);
    assert_non_null(text);
    nnx_json *j = nnx_json_parse(text, n, NULL);
    double v = nnx_json_as_number(nnx_json_get(nnx_json_get(j, "metrics"), name));
    nnx_json_free(j);
    free(text);
    return v;
}

static double accuracy_of(const nnx_probs *p)
{
    int right = 0;
    for (int32_t i = 0; i < p->rows; i++) {
        int best = 0;
        for (int c = 1; c < p->cols; c++)
            if (p->p[i * p->cols + c] > p->p[i * p->cols + best])
                best = c;
        right += best == p->labels[i];
    }
    return (double)right / p->rows;
}

static double nll_of(const nnx_probs *p)
{
    double s = 0;
    for (int32_t i = 0; i < p->rows; i++)
        s -= log(fmax(p->p[i * p->cols + p->labels[i]], 1e-12));
    return s / p->rows;
}

static double stat_of(const nnx_search_result *r, const double *v, const char *name)
{
    for (size_t i = 0; i < r->ens.n; i++)
        if (!strcmp(r->ens.names[i], name))
            return v[i];
    fail_msg("no ensemble statistic %s", name);
    return NAN;
}

static void a_real_ensemble_is_recomputed_from_its_members(void **state)
{
    (void)state;
    char *tmp = tmpdir_make("ens");
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_from_source(nnx_source_from_string("/tmp/ens.nnx", program_text), NULL, &d);
    assert_non_null(p);
    nnx_checker *c = nnx_checker_new(p);
    nnx_experiment *e = nnx_check_experiment(c, NULL, NULL, 0, &d);
    if (!e)
        nnx_diags_print(&d, stderr, false);
    assert_non_null(e);
    nnx_rt_error err = { { 0 } };
    nnx_search_trainer *tr = nnx_search_trainer_new(e, &(nnx_search_trainer_opts){ .source = "/tmp/ens.nnx" }, &err);
    assert_non_null(tr);
    int32_t rows[3];
    nnx_search_trainer_rows(tr, rows);
    assert_int_equal(rows[0], 450);
    assert_int_equal(rows[1], 150);
    assert_int_equal(rows[2], 300);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/members-x", tmp);
    nnx_search_opts o = { .dir = dir, .version = "test", .jobs = 1, .fork = false, .threads = 1,
                          .run = nnx_search_train, .run_ctx = tr };
    nnx_search_result r;
    assert_int_equal(nnx_search_run(c, NULL, NULL, 0, e, &o, &r, NULL, &err), 0);
    assert_int_equal(r.kind, NNX_SEARCH_ENSEMBLE);
    assert_int_equal(r.nrows, 5);
    assert_int_equal(r.ens.n, 6);     /* valid and test: loss, accuracy, auc */

    const char *split[2] = { "valid", "test" };
    char member[5][700];
    const char *dirs[5];
    for (int m = 0; m < 5; m++) {
        assert_string_equal(r.rows[m].status, "completed");
        snprintf(member[m], sizeof member[m], "%s/members/%d", dir, m + 1);
        dirs[m] = member[m];
    }
    for (int s = 0; s < 2; s++) {
        char name[64], file[64];
        double sum = 0, sq = 0, vals[5];
        snprintf(file, sizeof file, "probs_%s.f32", split[s]);
        float *avg = NULL;
        nnx_probs first = { 0 };
        for (int m = 0; m < 5; m++) {
            /* the saved probabilities give the member's own reported metric */
            char path[800];
            snprintf(path, sizeof path, "%s/%s", dirs[m], file);
            nnx_probs pm;
            assert_int_equal(nnx_probs_read(path, &pm, &err), 0);
            snprintf(name, sizeof name, "%s.accuracy", split[s]);
            vals[m] = member_metric(dirs[m], name);
            assert_float_equal(accuracy_of(&pm), vals[m], 1e-9);
            snprintf(name, sizeof name, "%s.loss", split[s]);
            assert_float_equal(nll_of(&pm), member_metric(dirs[m], name), 1e-4);
            sum += vals[m];
            if (!avg) {
                first = pm;
                avg = calloc((size_t)pm.rows * (size_t)pm.cols, sizeof *avg);
            } else {
                assert_memory_equal(pm.labels, first.labels, (size_t)pm.rows * sizeof *pm.labels);
                nnx_probs_free(&pm);
            }
            nnx_probs again;
            assert_int_equal(nnx_probs_read(path, &again, &err), 0);
            for (size_t i = 0; i < (size_t)again.rows * (size_t)again.cols; i++)
                avg[i] += again.p[i] / 5;
            nnx_probs_free(&again);
        }
        /* mean and sample std of the members */
        double mean = sum / 5;
        for (int m = 0; m < 5; m++)
            sq += (vals[m] - mean) * (vals[m] - mean);
        snprintf(name, sizeof name, "%s.accuracy", split[s]);
        assert_float_equal(stat_of(&r, r.ens.mean, name), mean, 1e-12);
        assert_float_equal(stat_of(&r, r.ens.std, name), sqrt(sq / 4), 1e-12);
        /* the ensemble: the accuracy and loss of the averaged probabilities */
        nnx_probs ens = { first.rows, first.cols, first.labels, avg };
        assert_float_equal(stat_of(&r, r.ens.ensemble, name), accuracy_of(&ens), 1e-9);
        snprintf(name, sizeof name, "%s.loss", split[s]);
        double nll = nll_of(&ens);
        assert_float_equal(stat_of(&r, r.ens.ensemble, name), nll, 1e-5);
        /* averaging helps: lower loss than the mean member, at least the mean accuracy */
        assert_true(nll < stat_of(&r, r.ens.mean, name));
        snprintf(name, sizeof name, "%s.accuracy", split[s]);
        assert_true(stat_of(&r, r.ens.ensemble, name) >= mean);
        nnx_probs_free(&first);
        free(avg);
    }
    /* summary.json carries the same numbers; the report reader sees an ensemble */
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    size_t n;
    char *text = tmpdir_slurp(path, &n);
    nnx_json *j = nnx_json_parse(text, n, NULL);
    assert_string_equal(nnx_json_as_string(nnx_json_get(j, "kind"), ""), "ensemble");
    assert_int_equal(nnx_json_get(j, "members")->n, 5);
    assert_float_equal(nnx_json_as_number(nnx_json_get(nnx_json_get(nnx_json_get(j, "ensemble"), "metrics"),
                                                       "test.accuracy")),
                       stat_of(&r, r.ens.ensemble, "test.accuracy"), 1e-12);
    nnx_json_free(j);
    free(text);
    nnx_rundir rd;
    assert_int_equal(nnx_rundir_read(dir, &rd, &err), 0);
    assert_int_equal(rd.kind, NNX_RUNDIR_ENSEMBLE);
    assert_int_equal(rd.nchildren, 5);
    nnx_rundir_free(&rd);

    nnx_search_result_free(&r);
    nnx_search_trainer_free(tr);
    nnx_experiment_free(e);
    nnx_checker_free(c);
    nnx_program_free(p);
    nnx_diags_free(&d);
    tmpdir_remove(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probs_round_trip_and_bad_files),
        cmocka_unit_test(average_checks_that_members_line_up),
        cmocka_unit_test(a_real_ensemble_is_recomputed_from_its_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
