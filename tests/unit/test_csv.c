/* test_csv.c — CSV loading: headers, delimiters, quotes, label kinds, and every bad-input error. */
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

#include "nnx/rt/data.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/nnx_csv_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.csv", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

/* Write text to the test file and load it; returns nnx_load_csv's result. */
static int load(const char *text, const nnx_csv_opts *o, nnx_dataset *ds, nnx_rt_error *err)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return nnx_load_csv(ds, path, o, err);
}

/* Load text expecting failure, and check the message contains want (after the path). */
static void expect_error(const char *text, const nnx_csv_opts *o, const char *want)
{
    nnx_dataset ds;
    nnx_rt_error err = {{0}};
    assert_int_equal(load(text, o, &ds, &err), -1);
    assert_null(ds.x);
    if (!strstr(err.msg, want) || strncmp(err.msg, path, strlen(path)) != 0)
        fail_msg("error \"%s\" does not start with the path or lacks \"%s\"", err.msg, want);
}

static void string_labels_map_in_sorted_order(void **state)
{
    (void)state;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    o.label_name = "label";
    nnx_dataset ds;
    nnx_rt_error err;
    assert_int_equal(load("a,label,b\n1,dog,2\n3,cat,4\n5,dog,-6e1\n", &o, &ds, &err), 0);
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.d, 2);
    assert_int_equal(ds.kind, NNX_TARGET_CLASS);
    assert_int_equal(ds.classes, 2);
    assert_string_equal(ds.class_names[0], "cat");
    assert_string_equal(ds.class_names[1], "dog");
    int32_t want_y[] = {1, 0, 1};
    float want_x[] = {1, 2, 3, 4, 5, -60};
    assert_memory_equal(ds.y, want_y, sizeof want_y);
    assert_memory_equal(ds.x, want_x, sizeof want_x);
    nnx_dataset_free(&ds);
}

static void numeric_labels(void **state)
{
    (void)state;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    o.header = 0;
    o.label_index = 0;
    nnx_dataset ds;
    nnx_rt_error err;
    /* 0..k-1: used as they are, no names. */
    assert_int_equal(load("2,1.5,2\n0,3,4\n1,5,6\n0,7,8\n", &o, &ds, &err), 0);
    assert_int_equal(ds.classes, 3);
    assert_null(ds.class_names);
    int32_t y1[] = {2, 0, 1, 0};
    assert_memory_equal(ds.y, y1, sizeof y1);
    assert_float_equal(ds.x[0], 1.5, 0);
    nnx_dataset_free(&ds);
    /* Other integers: numeric order, recorded. */
    assert_int_equal(load("10,0\n-1,0\n2,0\n10,0\n", &o, &ds, &err), 0);
    assert_int_equal(ds.classes, 3);
    assert_string_equal(ds.class_names[0], "-1");
    assert_string_equal(ds.class_names[1], "2");
    assert_string_equal(ds.class_names[2], "10");
    int32_t y2[] = {2, 0, 1, 2};
    assert_memory_equal(ds.y, y2, sizeof y2);
    nnx_dataset_free(&ds);
    /* 1.0 is integral. */
    assert_int_equal(load("1.0,0\n0,0\n", &o, &ds, &err), 0);
    assert_int_equal(ds.kind, NNX_TARGET_CLASS);
    assert_int_equal(ds.y[0], 1);
    nnx_dataset_free(&ds);
    /* Fractions: regression when AUTO. */
    assert_int_equal(load("0.5,1\n2,3\n", &o, &ds, &err), 0);
    assert_int_equal(ds.kind, NNX_TARGET_REAL);
    assert_null(ds.y);
    assert_float_equal(ds.t[0], 0.5, 0);
    assert_float_equal(ds.t[1], 2, 0);
    assert_int_equal(ds.classes, 0);
    nnx_dataset_free(&ds);
    /* Forced regression on integers. */
    o.target = NNX_CSV_TARGET_REAL;
    assert_int_equal(load("3,1\n2,3\n", &o, &ds, &err), 0);
    assert_int_equal(ds.kind, NNX_TARGET_REAL);
    assert_float_equal(ds.t[0], 3, 0);
    nnx_dataset_free(&ds);
    expect_error("3,1\n2,3\nabc,4\n", &o, ":3: column 1: regression target \"abc\" is not a number");
    o.target = NNX_CSV_TARGET_CLASS;
    expect_error("3,1\n2.5,3\n", &o, ":2: column 1: class label 2.5 is not an integer");
}

static void quotes_blanks_crlf_bom_delimiter(void **state)
{
    (void)state;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    o.delimiter = ';';
    o.label_name = "y";
    nnx_dataset ds;
    nnx_rt_error err;
    const char *text = "\xEF\xBB\xBF x ; \"y\"\r\n\r\n 1.5 ;\"b;c\" \r\n"
                       "\t2;\"a \"\"q\"\"\"\r\n  \n\"-3\";\"multi\nline\"\r\n";
    assert_int_equal(load(text, &o, &ds, &err), 0);
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.d, 1);
    assert_int_equal(ds.classes, 3);
    assert_string_equal(ds.class_names[0], "a \"q\"");
    assert_string_equal(ds.class_names[1], "b;c");
    assert_string_equal(ds.class_names[2], "multi\nline");
    float want_x[] = {1.5f, 2, -3};
    int32_t want_y[] = {1, 0, 2};
    assert_memory_equal(ds.x, want_x, sizeof want_x);
    assert_memory_equal(ds.y, want_y, sizeof want_y);
    nnx_dataset_free(&ds);
    /* Tab-separated: tabs are delimiters, not blanks. */
    o.delimiter = '\t';
    o.label_name = NULL;
    assert_int_equal(load("a\tb\tc\n1\t\t2\t0\n", &o, &ds, &err), -1);
    assert_non_null(strstr(err.msg, ":2: ragged row: 4 fields, expected 3"));
    assert_int_equal(load("a\tb\tc\n1\t2\t0\n4 \t 5\t1\n", &o, &ds, &err), 0);
    assert_float_equal(ds.x[3], 5, 0);
    assert_int_equal(ds.y[1], 1);
    nnx_dataset_free(&ds);
}

static void errors_name_file_line_and_column(void **state)
{
    (void)state;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    expect_error("", &o, ": empty file");
    expect_error("\n  \n\n", &o, ": empty file");
    expect_error("a,b,label\n", &o, ": a header row but no data rows");
    expect_error("a,b,label\n1,2,x\n3,4\n", &o, ":3: ragged row: 2 fields, expected 3");
    expect_error("a,b,label\n1,2,x\n\n3,4,y,5\n", &o, ":4: ragged row: 4 fields, expected 3");
    expect_error("a,b,label\n1,2,x\n\n3,4x,y\n", &o,
                 ":4: column 2 (\"b\"): \"4x\" is not a number");
    expect_error("a,b,label\n1,,x\n", &o, ":2: column 2 (\"b\"): empty cell; set missing = mean");
    expect_error("a,b,label\n1,nan,x\n", &o, ":2: column 2 (\"b\"): \"nan\" is a missing value");
    expect_error("a,b,label\n1,NA,x\n", &o, "\"NA\" is a missing value");
    expect_error("a,b,label\n1,?,x\n", &o, "\"?\" is a missing value");
    expect_error("a,city,label\n1,NYC,x\n", &o,
                 ":2: column 2 (\"city\"): \"NYC\" is not a number; add categorical = [\"city\"]");
    expect_error("a,b,label\n1,2,\n", &o, ":2: column 3 (\"label\"): empty label");
    expect_error("a,b,label\n1,\"2,x\n", &o, ":2: quoted field is never closed");
    expect_error("a,b,label\n1,\"2\"x,x\n", &o, ":2: text after a closing quote");
    expect_error("label\nx\n", &o, ": only the label column: no features");
    o.label_name = "diagnosis";
    expect_error("age,sex,label\n1,2,x\n", &o,
                 ":1: no label column \"diagnosis\" (the columns are \"age\", \"sex\", \"label\")");
    expect_error("age,diagnosis,diagnosis\n1,2,x\n", &o, "two columns are named \"diagnosis\"");
    o.header = 0;
    expect_error("1,2,x\n", &o, "is named but the file has no header row");
    o.label_name = NULL;
    o.label_index = 3;
    expect_error("1,2,x\n", &o, ": no label column 3: the file has 3 columns (0..2)");
    o.label_index = 1;
    expect_error("1,x,2\n1,y,z\n", &o, ":2: column 3: \"z\" is not a number");

    nnx_dataset ds;
    nnx_rt_error err;
    nnx_csv_opts_default(&o);
    assert_int_equal(nnx_load_csv(&ds, "/nonexistent/t.csv", &o, &err), -1);
    assert_string_equal(err.msg, "/nonexistent/t.csv: cannot open: No such file or directory");
    o.delimiter = '"';
    assert_int_equal(nnx_load_csv(&ds, path, &o, &err), -1);
    assert_non_null(strstr(err.msg, "bad delimiter"));
}

/* Mutated files (bytes replaced by CSV's special characters): every result is
 * a loaded set or a located error — never a crash (run under ASan too). */
static void mutations_load_or_fail_cleanly(void **state)
{
    (void)state;
    const char *base = "a,b,\"c d\",label\r\n1,2.5,-3,x\r\n4,\"5\",6e2,y\n\n7,8,9,x\n";
    const char special[] = ",\"\r\n \tx.-e9";
    size_t len = strlen(base);
    char text[128];
    uint64_t r = 99;
    int loaded = 0, failed = 0;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    for (int trial = 0; trial < 400; trial++) {
        memcpy(text, base, len + 1);
        for (int m = 0; m < 1 + trial % 4; m++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t at = (size_t)(r >> 33) % len;
            text[at] = special[(r >> 20) % (sizeof special - 1)];
        }
        if (trial % 7 == 0)
            text[(r >> 40) % len] = '\0';   /* truncated file */
        o.label_name = trial % 2 ? "label" : NULL;
        nnx_dataset ds;
        nnx_rt_error err = {{0}};
        if (load(text, &o, &ds, &err) == 0) {
            loaded++;
            assert_true(ds.n >= 1 && ds.d >= 1);
            for (int32_t i = 0; i < ds.n * ds.d; i++)
                assert_true(isfinite(ds.x[i]));
            for (int32_t i = 0; ds.y && i < ds.n; i++)
                assert_true(ds.y[i] >= 0 && ds.y[i] < ds.classes);
            nnx_dataset_free(&ds);
        } else {
            failed++;
            assert_int_equal(strncmp(err.msg, path, strlen(path)), 0);
            assert_null(ds.x);
        }
    }
    assert_true(loaded > 20 && failed > 20);
}

/* /dev/zero and a FIFO never end (a FIFO with no writer blocks its reader):
 * refused before they are opened, for CSV and IDX alike. */
static void a_file_that_never_ends_is_refused(void **state)
{
    (void)state;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    nnx_dataset ds;
    nnx_rt_error err = {{0}};
    assert_int_equal(nnx_load_csv(&ds, "/dev/zero", &o, &err), -1);
    assert_string_equal(err.msg, "/dev/zero: not a regular file (a character device): data is read "
                                 "only from regular files (or a gzip of one)");
    char fifo[64];
    strcpy(fifo, "/tmp/nnx_fifo_XXXXXX");
    assert_non_null(mkdtemp(fifo));
    char p[96];
    snprintf(p, sizeof p, "%s/f", fifo);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(nnx_load_csv(&ds, p, &o, &err), -1);
    assert_non_null(strstr(err.msg, "not a regular file (a FIFO)"));
    assert_int_equal(nnx_load_idx(&ds, p, p, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "not a regular file (a FIFO)"));
    unlink(p);
    rmdir(fifo);
}

/* Write text to file name (beside the test file). */
static void write_file(const char *name, const char *text, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect_row(const nnx_dataset *ds, int32_t i, const float *want)
{
    for (int32_t j = 0; j < ds->d; j++)
        if (fabsf(ds->x[(size_t)i * ds->d + j] - want[j]) > 1e-6f)
            fail_msg("row %d feature %d (%s): %g, want %g", (int)i, (int)j,
                     ds->feature_names ? ds->feature_names[j] : "?",
                     (double)ds->x[(size_t)i * ds->d + j], (double)want[j]);
}

/* categorical = [...] one-hot encodes with the train file's categories,
 * sorted; another file gets the same columns, an unseen category all
 * zeros, counted; missing = mean fills from train and adds an indicator. */
static void categorical_and_missing(void **state)
{
    (void)state;
    char train[160], test[160];
    write_file("train.csv", "age,color,size,label\n"
                            "10,red,1,a\n"
                            ",blue,NA,b\n"
                            "30,red,3,a\n"
                            "20,green,?,b\n", train, sizeof train);
    write_file("test.csv", "color,age,size,label\n"      /* other column order: by name */
                           "green,5,2,a\n"
                           "violet,,4,b\n", test, sizeof test);
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    const char *cat[] = { "color" };
    o.categorical = cat;
    o.ncategorical = 1;
    o.missing = NNX_MISSING_MEAN;
    nnx_csv_encoding enc = {0};
    nnx_csv_stats st = {0};
    nnx_dataset ds;
    nnx_rt_error err = {{0}};
    if (nnx_load_csv_encoded(&ds, train, &o, &enc, &st, &err) < 0)
        fail_msg("%s", err.msg);
    /* age, age:missing, color=blue, color=green, color=red, size, size:missing */
    assert_int_equal(ds.d, 7);
    assert_int_equal(enc.features, 7);
    assert_string_equal(ds.feature_names[0], "age");
    assert_string_equal(ds.feature_names[1], "age:missing");
    assert_string_equal(ds.feature_names[2], "color=blue");
    assert_string_equal(ds.feature_names[4], "color=red");
    assert_string_equal(ds.feature_names[6], "size:missing");
    assert_int_equal(enc.cols[1].ncategories, 3);
    assert_false(enc.cols[1].indicator);
    assert_true(enc.cols[0].fill == 20.0f);             /* mean of 10, 30, 20 */
    assert_true(enc.cols[2].fill == 2.0f);              /* mean of 1, 3 */
    expect_row(&ds, 1, (const float[]){ 20, 1, 1, 0, 0, 2, 1 });
    expect_row(&ds, 3, (const float[]){ 20, 0, 0, 1, 0, 2, 1 });
    assert_int_equal(st.imputed, 3);
    assert_int_equal(ds.classes, 2);
    nnx_dataset_free(&ds);

    nnx_csv_stats st2 = {0};
    if (nnx_load_csv_encoded(&ds, test, &o, &enc, &st2, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(ds.d, 7);
    expect_row(&ds, 0, (const float[]){ 5, 0, 0, 1, 0, 2, 0 });
    expect_row(&ds, 1, (const float[]){ 20, 1, 0, 0, 0, 4, 0 });   /* violet: unseen */
    assert_int_equal(st2.unseen, 1);
    assert_non_null(strstr(st2.example, "line 3, column 1 (\"color\"): \"violet\""));
    nnx_dataset_free(&ds);

    /* median and zero; an all-numeric categorical column is text too */
    o.missing = NNX_MISSING_MEDIAN;
    o.categorical = (const char *[]){ "size" };
    nnx_csv_encoding_free(&enc);
    o.categorical_auto = 1;                             /* color: text, so categorical */
    if (nnx_load_csv_encoded(&ds, train, &o, &enc, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    assert_true(enc.cols[0].fill == 20.0f);
    assert_true(enc.cols[1].categorical && enc.cols[2].categorical);
    assert_int_equal(enc.cols[2].ncategories, 2);       /* "1", "3" */
    assert_true(enc.cols[2].indicator);
    nnx_dataset_free(&ds);
    nnx_csv_encoding_free(&enc);
    o.missing = NNX_MISSING_ZERO;
    if (nnx_load_csv_encoded(&ds, train, &o, &enc, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    assert_true(enc.cols[0].fill == 0.0f);
    nnx_dataset_free(&ds);
    nnx_csv_encoding_free(&enc);

    /* mistakes: a categorical column that is not there, or is the label; a
     * text cell in the test file where train had numbers */
    nnx_csv_opts_default(&o);
    o.categorical = (const char *[]){ "colour" };
    o.ncategorical = 1;
    expect_error("age,color,label\n1,red,a\n", &o, ":1: categorical column \"colour\" is not in the header");
    o.categorical = (const char *[]){ "label" };
    expect_error("age,color,label\n1,red,a\n", &o, "categorical column \"label\" is the label column");
    o.header = 0;
    expect_error("1,red,a\n", &o, "categorical = [...] names columns, but the file has no header row");
    nnx_csv_opts_default(&o);
    o.categorical_auto = 1;
    if (nnx_load_csv_encoded(&ds, train, &o, &enc, NULL, &err) != -1 ||
        !strstr(err.msg, "train.csv:3: column 1 (\"age\"): empty cell"))
        fail_msg("missing = error: %s", err.msg);
    nnx_csv_encoding_free(&enc);
    o.missing = NNX_MISSING_ZERO;
    if (nnx_load_csv_encoded(&ds, train, &o, &enc, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    nnx_dataset_free(&ds);
    write_file("bad.csv", "age,color,size,label\n1,red,one,a\n", test, sizeof test);
    if (nnx_load_csv_encoded(&ds, test, &o, &enc, NULL, &err) != -1 ||
        !strstr(err.msg, "bad.csv:2: column 3 (\"size\"): \"one\" is not a number"))
        fail_msg("text in a number column: %s", err.msg);
    write_file("short.csv", "age,size,label\n1,2,a\n", test, sizeof test);
    if (nnx_load_csv_encoded(&ds, test, &o, &enc, NULL, &err) != -1 ||
        !strstr(err.msg, "short.csv: no column \"color\", which the train data has"))
        fail_msg("a missing column: %s", err.msg);
    nnx_csv_encoding_free(&enc);
    unlink(train);
    const char *made[] = { "test.csv", "bad.csv", "short.csv" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(test, sizeof test, "%s/%s", dir, made[i]);
        unlink(test);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(string_labels_map_in_sorted_order),
        cmocka_unit_test(numeric_labels),
        cmocka_unit_test(quotes_blanks_crlf_bom_delimiter),
        cmocka_unit_test(errors_name_file_line_and_column),
        cmocka_unit_test(mutations_load_or_fail_cleanly),
        cmocka_unit_test(a_file_that_never_ends_is_refused),
        cmocka_unit_test(categorical_and_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
