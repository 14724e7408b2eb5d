/* test_check_data.c — data blocks against real files: IDX headers (plain and gzip), labels, CSV headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <zlib.h>

#include "check_fixture.h"

static char dir[64];

/* Write an IDX file: magic 0x0803/0x0801 + dims + one byte per item (value i % mod). */
static const char *write_idx(const char *name, int ndims, const int *dims, int mod, bool gz)
{
    static char paths[8][128];
    static int slot;
    char *path = paths[slot++ % 8];
    snprintf(path, 128, "%s/%s", dir, name);
    unsigned char hdr[4 + 16] = { 0, 0, 0x08, (unsigned char)ndims };
    long items = 1;
    for (int i = 0; i < ndims; i++) {
        hdr[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        hdr[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        hdr[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        hdr[7 + 4 * i] = (unsigned char)dims[i];
        items *= dims[i];
    }
    unsigned char *body = malloc((size_t)items);
    for (long i = 0; i < items; i++)
        body[i] = (unsigned char)(i % mod);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, hdr, (unsigned)(4 + 4 * ndims));
        gzwrite(f, body, (unsigned)items);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(hdr, 1, (size_t)(4 + 4 * ndims), f);
        fwrite(body, 1, (size_t)items, f);
        fclose(f);
    }
    free(body);
    return path;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nnx_data_%d", (int)getpid());
    mkdir(dir, 0700);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static nnx_experiment *with_data(fx *f, const char *data_body, const char *net)
{
    char src[4096];
    snprintf(src, sizeof src, "data d {\n%s\n}\nnetwork n { %s }\nexperiment x { data = d  model = n }\n", data_body, net);
    return fx_check(f, src, "x");
}

static void idx_plain_and_gzip(void **state)
{
    (void)state;
    int im[] = { 12, 4, 5 }, lb[] = { 12 };
    const char *images = write_idx("im.idx", 3, im, 256, false);
    const char *labels = write_idx("lb.idx.gz", 1, lb, 4, true);
    char body[1024];
    snprintf(body, sizeof body, "train = idx(\"%s\", \"%s\")\nshape = [1, 4, 5]", images, labels);
    fx f;
    nnx_experiment *e = with_data(&f, body, "conv(2, 3, pad = 1) flatten dense(4)");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->data.features, 20);
    assert_int_equal(e->data.classes, 4);
    assert_int_equal(e->data.rows, 12);
    assert_int_equal(e->data.shape.rank, 3);
    assert_int_equal(e->net.layers[0].out.d[0], 2);
    assert_string_equal(e->data.split[0].images, images);
    fx_done(&f);

    /* keep two classes: the output has 2 units; a class that never occurs is an error */
    snprintf(body, sizeof body, "train = idx(\"%s\", \"%s\", classes = [3, 1])", images, labels);
    e = with_data(&f, body, "dense(2)");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->data.classes, 2);
    assert_int_equal(e->data.split[0].nkeep, 2);
    assert_int_equal(e->data.split[0].keep[0], 3);
    assert_int_equal(e->data.rows, -1);
    fx_done(&f);
    snprintf(body, sizeof body, "train = idx(\"%s\", \"%s\", classes = [1, 7, 1])", images, labels);
    assert_null(with_data(&f, body, "dense(3)"));
    assert_true(fx_has(&f, "class 7 does not occur in"));
    assert_true(fx_has(&f, "class 1 is listed twice"));
    fx_done(&f);
}

static void idx_errors(void **state)
{
    (void)state;
    int im[] = { 10, 2, 2 }, lb[] = { 9 }, im4[] = { 10, 3, 2, 2 };
    const char *images = write_idx("im2.idx", 3, im, 256, false);
    const char *labels = write_idx("lb2.idx", 1, lb, 3, false);
    const char *images4 = write_idx("im4.idx", 4, im4, 256, true);
    char body[1024];
    fx f;
    snprintf(body, sizeof body, "train = idx(\"%s\", \"%s\")", images, labels);
    assert_null(with_data(&f, body, "dense(3)"));
    assert_true(fx_has(&f, "has 10 images but"));
    assert_true(fx_has(&f, "has 9 labels"));
    fx_done(&f);
    /* labels and images swapped */
    snprintf(body, sizeof body, "train = idx(\"%s\", \"%s\")", labels, images);
    assert_null(with_data(&f, body, "dense(3)"));
    assert_true(fx_has(&f, "holds labels, not images"));
    assert_true(fx_has(&f, "holds images, not labels (3 dimensions)"));
    fx_done(&f);
    /* not an IDX file at all */
    const char *text = fx_tempfile(2, ".idx", "hello, world");
    snprintf(body, sizeof body, "train = idx(\"%s\", \"%s\")", text, labels);
    assert_null(with_data(&f, body, "dense(3)"));
    assert_true(fx_has(&f, "not an IDX file (bad magic number)"));
    fx_done(&f);
    unlink(text);
    /* four dimensions: C×H×W comes from the file */
    int lb10[] = { 10 };
    const char *labels10 = write_idx("lb10.idx", 1, lb10, 3, false);
    snprintf(body, sizeof body, "train = idx(\"%s\", \"%s\")\nshape = [3, 2, 3]", images4, labels10);
    assert_null(with_data(&f, body, "dense(3)"));
    assert_true(fx_has(&f, "shape [3, 2, 3] holds 18 values but a row of 'd' has 12 [the images are 3×2×2: shape = [3, 2, 2]]"));
    fx_done(&f);
}

static void csv_files(void **state)
{
    (void)state;
    char path[128], body[1024];
    snprintf(path, sizeof path, "%s/t.csv", dir);
    FILE *fp = fopen(path, "w");
    fputs("1;2;3;x\n4;5;6;y\n", fp);
    fclose(fp);
    fx f;
    snprintf(body, sizeof body, "train = csv(\"%s\", header = false, delimiter = \";\", label = 3)", path);
    nnx_experiment *e = with_data(&f, body, "dense(2)");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->data.features, 3);
    assert_int_equal(e->data.split[0].label_index, 3);
    assert_int_equal(e->data.split[0].delimiter, ';');
    assert_int_equal(e->data.rows, 2);          /* check reads the table ahead */
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", header = false, delimiter = \";\", label = 4)", path);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "csv: label column 4 does not exist"));
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", header = false, label = \"y\")", path);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "a label given by name needs header = true"));
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", delimiter = \";;\")", path);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "delimiter must be one character"));
    fx_done(&f);
    /* a test table with another number of features */
    char other[128];
    snprintf(other, sizeof other, "%s/u.csv", dir);
    fp = fopen(other, "w");
    fputs("a,b,label\n1,2,x\n", fp);
    fclose(fp);
    snprintf(body, sizeof body, "train = csv(\"%s\", header = false, delimiter = \";\")\ntest = csv(\"%s\")", path, other);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "test rows have 2 features but train rows have 3"));
    fx_done(&f);
    /* an empty file */
    snprintf(other, sizeof other, "%s/empty.csv", dir);
    fp = fopen(other, "w");
    fputs("\n\n", fp);
    fclose(fp);
    snprintf(body, sizeof body, "train = csv(\"%s\")", other);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "the file is empty"));
    fx_done(&f);

    /* check reads the rows too: a ragged row, a text column (with the
     * categorical = [...] that would take it), a missing cell */
    fp = fopen(other, "w");
    fputs("a,city,label\n1,NYC,x\n2,Oslo,y\n3,Rome\n", fp);
    fclose(fp);
    snprintf(body, sizeof body, "train = csv(\"%s\")", other);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "empty.csv:4: ragged row: 2 fields, expected 3 (as on line 1)"));
    fx_done(&f);
    fp = fopen(other, "w");
    fputs("a,city,label\n1,NYC,x\n,Oslo,y\n", fp);
    fclose(fp);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "empty.csv:3: column 1 (\"a\"): empty cell [set missing = mean, median or zero"));
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", missing = median)", other);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "empty.csv:2: column 2 (\"city\"): \"NYC\" is not a number "
                           "[add categorical = [\"city\"] to csv(...) to one-hot encode the column]"));
    fx_done(&f);
    /* encoded: a + a:missing + city=NYC + city=Oslo */
    snprintf(body, sizeof body, "train = csv(\"%s\", missing = median, categorical = [\"city\"])", other);
    e = with_data(&f, body, "dense(2)");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->data.features, 4);
    assert_int_equal(e->data.split[0].missing, NNX_XMISSING_MEDIAN);
    assert_int_equal(e->data.split[0].ncategorical, 1);
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", categorical = \"city\")", other);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "csv: categorical must be a list of column names or auto, got a string"));
    fx_done(&f);
    /* a first line of numbers is data, and a note says so */
    fp = fopen(other, "w");
    fputs("150,4,0\n5.1,3.5,0\n4.9,3.0,1\n", fp);
    fclose(fp);
    snprintf(body, sizeof body, "train = csv(\"%s\")", other);
    e = with_data(&f, body, "dense(2)");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_false(e->data.split[0].header);
    assert_int_equal(e->data.rows, 3);
    assert_true(fx_has(&f, "the first line of"));
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", header = true)", other);
    e = with_data(&f, body, "dense(2)");
    assert_non_null(e);
    assert_true(e->data.split[0].header);
    assert_int_equal(e->data.rows, 2);
    fx_done(&f);
    unlink(other);
}

/* csv(..., label = none): an unlabelled file, every column a feature, test only. */
static void csv_without_labels(void **state)
{
    (void)state;
    char path[128], unl[128], body[1024];
    snprintf(path, sizeof path, "%s/l.csv", dir);
    snprintf(unl, sizeof unl, "%s/n.csv", dir);
    FILE *fp = fopen(path, "w");
    fputs("a,b,y\n1,2,x\n4,5,y\n", fp);
    fclose(fp);
    fp = fopen(unl, "w");
    fputs("a,b\n1,2\n", fp);
    fclose(fp);
    fx f;
    snprintf(body, sizeof body, "train = csv(\"%s\", label = \"y\")\ntest = csv(\"%s\", label = none)",
             path, unl);
    nnx_experiment *e = with_data(&f, body, "dense(2)");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    assert_int_equal(e->data.split[NNX_XSPLIT_TEST].label_index, NNX_EXP_NO_LABEL);
    assert_null(e->data.split[NNX_XSPLIT_TEST].label_name);
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", label = none)", unl);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "an unlabelled file (label = none) can only be the test split, not train"));
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", label = \"y\")\ntest = csv(\"%s\", label = none, "
             "classes = [0])", path, unl);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "classes = [...] needs a label column"));
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", label = \"y\")\ntest = csv(\"%s\", label = none)\n"
             "valid = split(test, 0.5)", path, unl);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "valid is a split of test, which has no labels"));
    fx_done(&f);
    snprintf(body, sizeof body, "train = csv(\"%s\", label = nothing)", path);
    assert_null(with_data(&f, body, "dense(2)"));
    assert_true(fx_has(&f, "label must be a column name (a string), an index or none, got 'nothing'"));
    fx_done(&f);
}

static void relative_paths(void **state)
{
    (void)state;
    /* a relative path is read beside the .nnx file that names it */
    char nnx[128], csv[128];
    snprintf(nnx, sizeof nnx, "%s/exp.nnx", dir);
    snprintf(csv, sizeof csv, "%s/rel.csv", dir);
    FILE *fp = fopen(csv, "w");
    fputs("f1,f2,y\n1,2,a\n", fp);
    fclose(fp);
    nnx_diags d = { 0 };
    nnx_program *p = fx_program(nnx, "data d { train = csv(\"rel.csv\") }\nnetwork n { dense(2) }\n"
                                     "experiment x { data = d model = n }", &d);
    nnx_checker *c = nnx_checker_new(p);
    nnx_experiment *e = nnx_check_experiment(c, "x", NULL, 0, &d);
    if (!e)
        fail_msg("%s", fx_msgs(&d));
    assert_string_equal(e->data.split[0].path, csv);
    nnx_experiment_free(e);
    nnx_checker_free(c);
    fx_program_free(p);
    nnx_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idx_plain_and_gzip),
        cmocka_unit_test(idx_errors),
        cmocka_unit_test(csv_files),
        cmocka_unit_test(csv_without_labels),
        cmocka_unit_test(relative_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
