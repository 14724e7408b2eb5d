/* test_csv_parallel.c — the CSV reader gives byte-identical tables whatever
 * the threads and block size, to the whole file read as one block on one
 * thread (the serial reading), and from a gzip of the file: quotes that hold
 * delimiters and line ends, CRLF, blank lines, a last row without a line
 * end, a byte-order mark, blanks around fields, text and missing cells; and
 * a bad file ends in the same error (file, line, column) either way. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nnx/rt/data.h"
#include "rt/csv_int.h"

static char dir[64];
static char path[128];
static char gzpath[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/nnx_csvpar_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.csv", dir);
    snprintf(gzpath, sizeof gzpath, "%s/t.csv.gz", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    unlink(gzpath);
    rmdir(dir);
    return 0;
}

static void write_text(const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    gzFile g = gzopen(gzpath, "wb");
    assert_non_null(g);
    if (len)
        assert_int_equal(gzwrite(g, text, (unsigned)len), (int)len);
    gzclose(g);
}

static const nnx_csv_tuning serial = { .threads = 1, .block = SIZE_MAX };

static void same_names(char **a, char **b, int32_t n, const char *what)
{
    if (!a || !b) {
        if (a != b)
            fail_msg("%s: one reader named them, the other not", what);
        return;
    }
    for (int32_t i = 0; i < n; i++)
        if (strcmp(a[i], b[i]))
            fail_msg("%s %d: \"%s\" vs \"%s\"", what, (int)i, a[i], b[i]);
}

/* The two tables are the same to the byte. */
static void same_table(const nnx_dataset *a, const nnx_dataset *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->d, b->d);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->classes, b->classes);
    assert_memory_equal(a->x, b->x, (size_t)a->n * (size_t)a->d * sizeof(float));
    if (a->kind == NNX_TARGET_CLASS)
        assert_memory_equal(a->y, b->y, (size_t)a->n * sizeof(int32_t));
    else
        assert_memory_equal(a->t, b->t, (size_t)a->n * sizeof(float));
    same_names(a->class_names, b->class_names, a->classes, "class");
    same_names(a->feature_names, b->feature_names, a->d, "feature");
}

/* Load the file serially (one block, one thread) and in parallel under
 * several thread counts and block sizes, plain and gzip: all must match. */
static void compare(const nnx_csv_opts *o)
{
    nnx_dataset want, got;
    nnx_rt_error err = {{0}};
    nnx_csv_encoding enc = {0};
    if (nnx_csv_load_tuned(&want, path, o, &enc, NULL, &serial, &err) < 0)
        fail_msg("serial reading: %s", err.msg);
    nnx_csv_encoding_free(&enc);
    /* the columns reader (nnx predict's) gives the same features, and the
     * label cells as text */
    if (want.kind == NNX_TARGET_CLASS && want.class_names && !o->categorical_auto
        && o->missing == NNX_MISSING_ERROR) {
        int32_t cols[64];
        for (int32_t c = 0; c < want.d; c++)
            cols[c] = c;
        char **labels = NULL;
        nnx_dataset cd;
        if (nnx_load_csv_columns(&cd, path, o, cols, want.d, want.d, &labels, &err) < 0)
            fail_msg("columns reader: %s", err.msg);
        assert_int_equal(cd.n, want.n);
        assert_memory_equal(cd.x, want.x, (size_t)want.n * (size_t)want.d * sizeof(float));
        same_names(cd.feature_names, want.feature_names, want.d, "feature");
        for (int32_t i = 0; i < want.n; i++) {
            assert_string_equal(labels[i], want.class_names[want.y[i]]);
            free(labels[i]);
        }
        free(labels);
        nnx_dataset_free(&cd);
    }
    static const size_t blocks[] = { 1, 2, 3, 7, 16, 61, 4096, 0 };
    for (int gz = 0; gz < 2; gz++)
        for (int threads = 1; threads <= 4; threads++)
            for (size_t k = 0; k < sizeof blocks / sizeof *blocks; k++) {
                nnx_csv_tuning t = { .threads = threads, .block = blocks[k] };
                if (nnx_csv_load_tuned(&got, gz ? gzpath : path, o, &enc, NULL, &t, &err) < 0)
                    fail_msg("%s (%d threads, block %zu): %s", gz ? "gzip" : "plain", threads,
                             blocks[k], err.msg);
                if (got.n != want.n)
                    fail_msg("%d rows, the serial reading %d (%s, %d threads, block %zu)",
                             (int)got.n, (int)want.n, gz ? "gzip" : "plain", threads, blocks[k]);
                same_table(&want, &got);
                nnx_dataset_free(&got);
                nnx_csv_encoding_free(&enc);
            }
    nnx_dataset_free(&want);
}

/* The file fails with the same message read serially, in parallel, and gzip. */
static void same_error(const nnx_csv_opts *o)
{
    nnx_dataset ds;
    nnx_rt_error e1 = {{0}}, e2 = {{0}}, e3 = {{0}};
    nnx_csv_tuning par = { .threads = 3, .block = 4 };
    assert_int_equal(nnx_csv_load_tuned(&ds, path, o, &(nnx_csv_encoding){0}, NULL, &serial,
                                        &e1), -1);
    assert_int_equal(nnx_csv_load_tuned(&ds, path, o, &(nnx_csv_encoding){0}, NULL, &par, &e2),
                     -1);
    assert_int_equal(nnx_csv_load_tuned(&ds, gzpath, o, &(nnx_csv_encoding){0}, NULL, &par,
                                        &e3), -1);
    assert_string_equal(e1.msg, e2.msg);
    const char *tail = strstr(e3.msg, ".gz");   /* the same after the file name */
    assert_non_null(tail);
    assert_string_equal(e1.msg + strlen(path), tail + 3);
}

static void hand_written_tables(void **state)
{
    (void)state;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    static const char *const files[] = {
        "a,b,label\n1,2,x\n3,4,y\n",
        "a,b,label\r\n1,2,x\r\n3,4,y\r\n",
        "a,b,label\n1,2,x\n3,4,y",                                  /* no last line end */
        "a,b,label\r\n1,2,x\r\n3,4,y",
        "\xef\xbb\xbf" "a,b,label\n1,2,0\n3,4,1\n",                 /* byte-order mark */
        "\n\n a , b ,label\n\n1 , 2,x\n\n\n  3,4 ,y\n\n",            /* blank lines, blanks */
        "a,b,label\r\n\r\n1,2,x\r\n   \r\n3,4,y\r\n\r\n",
        "a,b,label\n\"1\",\"2\",\"x,\ny\"\n3,\"4\",\"line\r\nend\"\n5,6,\"x,\ny\"",
        "\"a\nb\",\"c,d\",label\n1,2,\"q\"\n3,4,\" q \"\n",
        "a,b,label\n1,2,1.5\n3,4,-2e3\n5,6,7\n",                     /* regression */
        "a,b,label\n1,2,3\n3,4,5\n5,6,3\n",                          /* numeric classes */
        "a,b,label\n1.234567890123456789e-01,-9.876543210987654321e+00,0\n"
        "9007199254740993,1e-40,1\n0x10,  inf5,0\n",                 /* hard numbers (inf5 fails) */
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        write_text(files[i], strlen(files[i]));
        if (!strstr(files[i], "inf5"))
            compare(&o);
        else
            same_error(&o);
    }
    o.header = 0;
    o.delimiter = '\t';
    const char *tabs = "1\t2\tx\n\n3\t\"4\"\ty\r\n5\t6\tx";
    write_text(tabs, strlen(tabs));
    compare(&o);
}

/* Bad files and odd ones: the same message (file, line, column), or the
 * same table, however they are read. */
static void bad_tables_keep_their_errors(void **state)
{
    (void)state;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    static const char *const files[] = {
        "a,b,label\n1,2,x\n3,4\n",                   /* ragged */
        "a,b,label\n1,2,x\n3,4,y,5\n",
        "a,b,label\n1,2,\"x\n3,4,y\n",               /* never closed */
        "a,b,label\n1,2,\"x\"z\n",                   /* text after a quote */
        "a,b,label\n1,2 3,x\n",                      /* not a number */
        "a,b,label\n1,,x\n",                         /* empty cell */
        "a,b,label\n1,NA,x\n",
        "a,b,label\n1,2,\n",                         /* empty label */
        "a,b,label\n1,2,1.5\n3,4,x\n",
        "a,b,label\n1,5\"inch,x\n",                  /* a quote in an unquoted field */
        "a,b,label\n1,2,\"say \"\"hi\"\"\"\n3,4,y\n",/* escaped quotes: general reader */
        "a,b,label\n1,1e39,x\n",                     /* beyond float */
        "a,b,label\n",
        "\n\n",
        "a,b,label\n1,2,x\n\0\n",
    };
    static const size_t lens[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 18 };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        write_text(files[i], lens[i] ? lens[i] : strlen(files[i]));
        nnx_dataset ds;
        nnx_rt_error e = {{0}};
        nnx_csv_encoding c = {0};
        if (nnx_csv_load_tuned(&ds, path, &o, &c, NULL, &serial, &e) == 0) {
            nnx_dataset_free(&ds);
            nnx_csv_encoding_free(&c);
            compare(&o);
        } else {
            same_error(&o);
        }
    }
}

/* nnx_csv_header reads the first record alone: a broken row further on is
 * the loader's to report, and a header with quoted line ends still works. */
static void header_reads_the_first_record(void **state)
{
    (void)state;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    const char *text = "\n \"a\nb\" , c,label\n1,2,x\n3,\"4\n";
    write_text(text, strlen(text));
    char **names;
    size_t n;
    nnx_rt_error err = {{0}};
    if (nnx_csv_header(path, &o, &names, &n, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "a\nb");
    assert_string_equal(names[1], "c");
    assert_string_equal(names[2], "label");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    /* an unclosed quote in the header itself: the whole file's error */
    const char *bad = "\"a,b,label\n1,2,x\n";
    write_text(bad, strlen(bad));
    assert_int_equal(nnx_csv_header(path, &o, &names, &n, &err), -1);
    assert_non_null(strstr(err.msg, "quoted field is never closed"));
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Generated tables: numbers in savetxt's and printf's forms, some quoted,
 * line ends LF or CRLF, blank lines, blanks, text labels holding delimiters
 * and line ends inside quotes. */
static void generated_tables(void **state)
{
    (void)state;
    uint64_t r = 42;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (int file = 0; file < 12; file++) {
        size_t n = 0;
        int ncol = 2 + (int)(next(&r) % 5), crlf = file % 3 == 1;
        const char *eol = crlf ? "\r\n" : "\n";
        for (int c = 0; c < ncol; c++)
            n += (size_t)snprintf(buf + n, cap - n, "%sc%d", c ? "," : "", c);
        n += (size_t)snprintf(buf + n, cap - n, ",label%s", eol);
        int rows = 50 + (int)(next(&r) % 200);
        for (int i = 0; i < rows && n < cap - 512; i++) {
            if (next(&r) % 10 == 0)
                n += (size_t)snprintf(buf + n, cap - n, "%s", next(&r) % 2 ? eol : "  \t");
            if (next(&r) % 10 == 0 && buf[n - 1] != '\n')
                n += (size_t)snprintf(buf + n, cap - n, "%s", eol);
            for (int c = 0; c < ncol; c++) {
                double v = ((double)(next(&r) >> 11) / 9007199254740992.0 - 0.5) * 100;
                const char *fmt = next(&r) % 2 ? "%.18e" : next(&r) % 2 ? "%.17g" : "%g";
                char num[64];
                snprintf(num, sizeof num, fmt, v);
                int q = next(&r) % 7 == 0, sp = next(&r) % 9 == 0;
                n += (size_t)snprintf(buf + n, cap - n, "%s%s%s%s%s", c ? "," : "",
                                      sp ? " " : "", q ? "\"" : "", num, q ? "\"" : "");
            }
            static const char *const labels[] = { "cat", "\"dog, big\"", "\"two\nlines\"",
                                                  "\"cr\r\nlf\"", " emu " };
            n += (size_t)snprintf(buf + n, cap - n, ",%s", labels[next(&r) % 5]);
            if (i + 1 < rows || file % 2)
                n += (size_t)snprintf(buf + n, cap - n, "%s", eol);
        }
        write_text(buf, n);
        compare(&o);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_written_tables),
        cmocka_unit_test(bad_tables_keep_their_errors),
        cmocka_unit_test(generated_tables),
        cmocka_unit_test(header_reads_the_first_record),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
