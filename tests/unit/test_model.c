/* test_model.c — model.h on run directories made here: nnx_net_open rebuilds every layer kind
 * from weights.nnxw alone; a model's predictions are its network's on the normalised rows,
 * bit for bit; an ensemble is its members' mean; CSV columns by name in any order; and the
 * errors (no weights with the run's status, a missing column with a suggestion, a bad cell,
 * a newer format, an unknown column encoding) say what is wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/model.h"
#include "nnx/rt.h"
#include "nnx/util/file.h"
#include "tmpdir.h"

enum { D = 3, K = 3 };

static const char *MODEL_JSON =
    "{ \"format\": \"nnx-model\", \"version\": 1, \"task\": \"classification\",\n"
    "  \"loss\": \"cross_entropy\", \"label_smoothing\": 0, \"output\": \"softmax\",\n"
    "  \"outputs\": 3, \"classes\": [\"cat\", \"dog\", \"eel\"],\n"
    "  \"input\": { \"source\": \"csv\", \"features\": 3, \"shape\": [3, 1, 1],\n"
    "             \"delimiter\": \",\", \"header\": true, \"label\": \"kind\",\n"
    "             \"columns\": [ { \"name\": \"age\", \"encode\": \"number\" },\n"
    "                           { \"name\": \"weight\", \"encode\": \"number\" },\n"
    "                           { \"name\": \"height\", \"encode\": \"%s\" } ] },\n"
    "  \"normalize\": { \"kind\": \"standard\", \"fitted\": \"per_feature\",\n"
    "                 \"shift\": [1.5, -2, 0.25], \"scale\": [0.5, 2, 4] },\n"
    "  \"eval_batch\": 4, \"weights\": \"weights.nnxw\" }\n";

static const float SHIFT[D] = { 1.5f, -2.0f, 0.25f }, SCALE[D] = { 0.5f, 2.0f, 4.0f };

static void put_file(const char *dir, const char *name, const char *text)
{
    char *path = nnx_path_join(dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

/* A network with trained-looking weights, saved in dir with a model.json. */
static nnx_net *make_run(const char *dir, uint64_t seed, const char *encode)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(D, 1, 1, &err);
    assert_non_null(net);
    assert_int_equal(nnx_net_add_dense(net, 8, true, &err), 0);
    assert_int_equal(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), 0);
    assert_int_equal(nnx_net_add_act(net, NNX_ACT_SWISH, 1.5f, &err), 0);
    assert_int_equal(nnx_net_add_dropout(net, 0.3f, &err), 0);
    assert_int_equal(nnx_net_add_dense(net, K, true, &err), 0);
    assert_int_equal(nnx_net_compile(net, 4, seed, &err), 0);
    float *st = nnx_net_state(net);        /* running statistics that are not 0 and 1 */
    for (size_t i = 0; i < nnx_net_nstate(net); i++)
        st[i] = i < 8 ? 0.1f * (float)i : 1.0f + 0.05f * (float)i;
    char *w = nnx_path_join(dir, "weights.nnxw");
    assert_int_equal(nnx_net_save(net, w, &err), 0);
    free(w);
    char text[4096];
    snprintf(text, sizeof text, MODEL_JSON, encode);
    put_file(dir, "model.json", text);
    return net;
}

/* What the model must give: the network's softmax on the normalised rows. */
static void expected(nnx_net *net, const float *x, int n, float *out)
{
    float buf[16 * D];
    for (int i = 0; i < n * D; i++)
        buf[i] = (x[i] - SHIFT[i % D]) * SCALE[i % D];
    const float *y = nnx_net_forward(net, buf, n, false);
    nnx_loss_probs(NNX_LOSS_CROSS_ENTROPY, y, n, K, out);
}

static const float ROWS[4 * D] = { 1, 2, 3, -1, 0.5f, 9, 4, 4, 4, 0, 0, 0 };

static void rebuilds_and_predicts_bit_exactly(void **state)
{
    (void)state;
    char *dir = tmpdir_make("model");
    nnx_net *net = make_run(dir, 7, "number");
    nnx_rt_error err = { { 0 } };
    nnx_model *m = nnx_model_load(dir, &err);
    assert_non_null(m);
    assert_int_equal(nnx_model_outputs(m), K);
    assert_int_equal(nnx_model_classes(m), 3);
    assert_string_equal(nnx_model_class_name(m, 1), "dog");
    assert_string_equal(nnx_model_feature_name(m, 2), "height");
    assert_int_equal(nnx_model_task_of(m), NNX_MODEL_CLASSIFICATION);
    float got[4 * K], want[4 * K];
    assert_int_equal(nnx_model_predict(m, ROWS, 4, got, &err), 0);
    expected(net, ROWS, 4, want);
    assert_memory_equal(got, want, sizeof got);
    for (int i = 0; i < 4; i++) {
        float s = got[i * K] + got[i * K + 1] + got[i * K + 2];
        assert_true(fabsf(s - 1) < 1e-5f);
        assert_int_equal(nnx_model_class_of(m, got + i * K), nnx_predicted_class(want + i * K, K));
    }
    /* rows beyond one chunk of eval_batch (4) */
    float many[10 * D], pm[10 * K], wm[10 * K];
    for (int i = 0; i < 10 * D; i++)
        many[i] = (float)(i % 7) - 2.5f;
    assert_int_equal(nnx_model_predict(m, many, 10, pm, &err), 0);
    expected(net, many, 4, wm);
    expected(net, many + 4 * D, 4, wm + 4 * K);
    expected(net, many + 8 * D, 2, wm + 8 * K);
    assert_memory_equal(pm, wm, sizeof pm);
    nnx_model_free(m);
    nnx_net_free(net);
    tmpdir_remove(dir);
    free(dir);
}

static void ensemble_is_the_members_mean(void **state)
{
    (void)state;
    char *dir = tmpdir_make("model-ens");
    char *members = nnx_path_join(dir, "members");
    nnx_rt_error err = { { 0 } };
    assert_int_equal(nnx_mkdirs(members, &err), 0);
    nnx_net *nets[2];
    for (int s = 0; s < 2; s++) {
        char sub[32];
        snprintf(sub, sizeof sub, "members/%d", s + 1);
        char *md = nnx_path_join(dir, sub);
        assert_int_equal(nnx_mkdirs(md, &err), 0);
        nets[s] = make_run(md, (uint64_t)s + 11, "number");
        free(md);
    }
    put_file(dir, "summary.json", "{ \"kind\": \"ensemble\", \"members\": [ { \"seed\": 1 }, "
                                  "{ \"seed\": 2 } ] }");
    nnx_model *m = nnx_model_load(dir, &err);
    assert_non_null(m);
    assert_int_equal(nnx_model_members(m), 2);
    float got[4 * K], a[4 * K], b[4 * K];
    assert_int_equal(nnx_model_predict(m, ROWS, 4, got, &err), 0);
    expected(nets[0], ROWS, 4, a);
    expected(nets[1], ROWS, 4, b);
    for (int i = 0; i < 4 * K; i++)
        assert_true(got[i] == (float)(((double)a[i] + (double)b[i]) / 2));
    nnx_model_free(m);
    nnx_net_free(nets[0]);
    nnx_net_free(nets[1]);
    free(members);
    tmpdir_remove(dir);
    free(dir);
}

static void reads_csv_columns_by_name(void **state)
{
    (void)state;
    char *dir = tmpdir_make("model-csv");
    nnx_net *net = make_run(dir, 3, "number");
    nnx_rt_error err = { { 0 } };
    nnx_model *m = nnx_model_load(dir, &err);
    assert_non_null(m);
    /* other order, a label column, an extra column */
    put_file(dir, "new.csv", "height,kind,note,age,weight\n3,dog,x,1,2\n9,eel,y,-1,0.5\n");
    char *csv = nnx_path_join(dir, "new.csv");
    nnx_dataset ds;
    nnx_model_csv_notes notes;
    assert_int_equal(nnx_model_read_csv(m, csv, false, &ds, &notes, NULL, NULL, &err), 0);
    assert_int_equal(ds.n, 2);
    assert_int_equal(ds.kind, NNX_TARGET_NONE);
    assert_memory_equal(ds.x, ROWS, 2 * D * sizeof(float));
    assert_int_equal(notes.nignored, 1);
    assert_string_equal(notes.ignored[0], "note");
    nnx_model_csv_notes_free(&notes);
    nnx_dataset_free(&ds);
    assert_int_equal(nnx_model_read_csv(m, csv, true, &ds, NULL, NULL, NULL, &err), 0);
    assert_int_equal(ds.kind, NNX_TARGET_CLASS);
    assert_int_equal(ds.y[0], 1);
    assert_int_equal(ds.y[1], 2);
    float p[2 * K];
    double loss;
    assert_int_equal(nnx_model_evaluate(m, &ds, p, &loss, &err), 0);
    assert_true(isfinite(loss) && loss > 0);
    nnx_dataset_free(&ds);

    put_file(dir, "new.csv", "heigth,age,weight\n3,1,2\n");
    assert_int_equal(nnx_model_read_csv(m, csv, false, &ds, NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no column \"height\""));
    assert_non_null(strstr(err.msg, "column \"heigth\" is not one of the model's: did you mean "
                                    "\"height\"?"));
    put_file(dir, "new.csv", "height,age,weight\n3,1,2\n3,one,2\n");
    assert_int_equal(nnx_model_read_csv(m, csv, false, &ds, NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "new.csv:3: column 2 (\"age\"): \"one\" is not a number"));
    put_file(dir, "new.csv", "height,age,weight,kind\n3,1,2,fox\n");
    assert_int_equal(nnx_model_read_csv(m, csv, true, &ds, NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "\"fox\" is not a class of the model (cat, dog, eel)"));
    free(csv);
    nnx_model_free(m);
    nnx_net_free(net);
    tmpdir_remove(dir);
    free(dir);
}

static void load_errors_say_why(void **state)
{
    (void)state;
    char *dir = tmpdir_make("model-err");
    nnx_rt_error err = { { 0 } };
    put_file(dir, "summary.json", "{ \"status\": \"diverged\", \"status_message\": "
                                  "\"loss became NaN at epoch 1, step 3\" }");
    assert_null(nnx_model_load(dir, &err));
    assert_non_null(strstr(err.msg, "no weights.nnxw: the run is diverged"));
    assert_non_null(strstr(err.msg, "loss became NaN"));
    put_file(dir, "summary.json", "{ \"status\": \"running\" }");
    assert_null(nnx_model_load(dir, &err));
    assert_non_null(strstr(err.msg, "still running"));

    nnx_net *net = make_run(dir, 5, "number\", \"missing\": 41.5, \"note\": \"");
    assert_null(nnx_model_load(dir, &err));
    assert_non_null(strstr(err.msg, "column 3 has 'missing', which this nnx cannot apply"));
    nnx_net_free(net);
    net = make_run(dir, 5, "hashed");
    assert_null(nnx_model_load(dir, &err));
    assert_non_null(strstr(err.msg, "encoded as 'hashed'"));
    char *mj = nnx_path_join(dir, "model.json");
    char *text = tmpdir_slurp(mj, NULL);
    char *v2 = strstr(text, "\"version\": 1");
    v2[11] = '9';
    put_file(dir, "model.json", text);
    free(text);
    assert_null(nnx_model_load(dir, &err));
    assert_non_null(strstr(err.msg, "version 9"));
    remove(mj);
    free(mj);
    assert_null(nnx_model_load(dir, &err));
    assert_non_null(strstr(err.msg, "no model.json"));
    assert_null(nnx_model_load("/nonexistent/run", &err));
    assert_non_null(strstr(err.msg, "no such directory"));
    nnx_net_free(net);
    tmpdir_remove(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rebuilds_and_predicts_bit_exactly),
        cmocka_unit_test(ensemble_is_the_members_mean),
        cmocka_unit_test(reads_csv_columns_by_name),
        cmocka_unit_test(load_errors_say_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
