/* test_tabcache.c — a parsed table written and mapped back bit for bit; truncated, flipped, foreign and stale entries refused; a mapped set normalised as it is gathered. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/rt/data.h"
#include "nnx/rt/tabcache.h"
#include "tmpdir.h"

/* 7 rows of 3 features with odd values, labels, names and an encoding. */
static void table(nnx_dataset *ds, nnx_csv_encoding *enc)
{
    assert_int_equal(nnx_dataset_alloc(ds, 7, 3, NNX_TARGET_CLASS, 2, NULL), 0);
    for (int32_t i = 0; i < 21; i++)
        ds->x[i] = (float)sin(i * 1.7) * 1e3f + (float)i / 3.0f;
    for (int32_t i = 0; i < 7; i++)
        ds->y[i] = i % 2;
    ds->class_names = calloc(2, sizeof *ds->class_names);
    ds->class_names[0] = strdup("no");
    ds->class_names[1] = strdup("yes, \"quoted\"");
    ds->feature_names = calloc(3, sizeof *ds->feature_names);
    ds->feature_names[0] = strdup("age");
    ds->feature_names[2] = strdup("color=red");   /* [1] stays NULL */
    memset(enc, 0, sizeof *enc);
    enc->ncols = 2;
    enc->features = 3;
    enc->missing = NNX_MISSING_MEAN;
    enc->cols = calloc(2, sizeof *enc->cols);
    enc->cols[0] = (nnx_csv_column){ .name = strdup("age"), .index = 0, .indicator = 1,
                                     .fill = 41.5f };
    enc->cols[1].name = strdup("color");
    enc->cols[1].index = 2;
    enc->cols[1].categorical = 1;
    enc->cols[1].ncategories = 1;
    enc->cols[1].categories = calloc(1, sizeof(char *));
    enc->cols[1].categories[0] = strdup("red");
}

static char *entry_path(const char *dir)
{
    char *p = malloc(strlen(dir) + 16);
    sprintf(p, "%s/e.nnxtab", dir);
    return p;
}

static void round_trip(void **state)
{
    (void)state;
    char *dir = tmpdir_make("tabcache");
    char *path = entry_path(dir);
    nnx_dataset ds, back;
    nnx_csv_encoding enc, enc2;
    nnx_csv_stats st = { .unseen = 3, .imputed = 4 }, st2;
    snprintf(st.example, sizeof st.example, "line 7, \"city\": \"Oslo\"");
    nnx_rt_error err;
    table(&ds, &enc);
    assert_int_equal(nnx_tabcache_read(path, "k", &back, &enc2, &st2, &err), 0);  /* none yet */
    assert_int_equal(nnx_tabcache_write(path, "key 1", &ds, &enc, &st, &err), 0);
    assert_int_equal(nnx_tabcache_read(path, "key 1", &back, &enc2, &st2, &err), 1);
    assert_non_null(back.map);
    assert_int_equal(back.n, 7);
    assert_int_equal(back.d, 3);
    assert_int_equal(back.classes, 2);
    assert_memory_equal(back.x, ds.x, 21 * sizeof(float));
    assert_memory_equal(back.y, ds.y, 7 * sizeof(int32_t));
    assert_string_equal(back.class_names[1], "yes, \"quoted\"");
    assert_string_equal(back.feature_names[0], "age");
    assert_null(back.feature_names[1]);
    assert_string_equal(back.feature_names[2], "color=red");
    assert_int_equal(enc2.ncols, 2);
    assert_int_equal(enc2.missing, NNX_MISSING_MEAN);
    assert_float_equal(enc2.cols[0].fill, 41.5f, 0);
    assert_int_equal(enc2.cols[0].indicator, 1);
    assert_string_equal(enc2.cols[1].categories[0], "red");
    assert_int_equal(st2.unseen, 3);
    assert_int_equal(st2.imputed, 4);
    assert_string_equal(st2.example, st.example);
    nnx_csv_encoding_free(&enc2);
    nnx_dataset_free(&back);
    /* another key: refused, and said so */
    assert_int_equal(nnx_tabcache_read(path, "key 2", &back, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "made from another key"));
    assert_null(back.x);

    /* a flipped byte in the table: a bad checksum */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -5, SEEK_END);
    int c = fgetc(f);
    fseek(f, -5, SEEK_END);
    fputc(c ^ 0x10, f);
    fclose(f);
    assert_int_equal(nnx_tabcache_read(path, "key 1", &back, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "bad checksum"));
    /* truncated */
    assert_int_equal(nnx_tabcache_write(path, "key 1", &ds, NULL, NULL, &err), 0);
    size_t size = 0;
    free(tmpdir_slurp(path, &size));
    assert_true(size > 4096);       /* the table is page-aligned */
    assert_int_equal(truncate(path, (off_t)size - 1), 0);
    assert_int_equal(nnx_tabcache_read(path, "key 1", &back, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(truncate(path, 50), 0);
    assert_int_equal(nnx_tabcache_read(path, "key 1", &back, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "truncated"));
    /* not an entry at all */
    f = fopen(path, "wb");
    fputs("a,b,label\n1,2,3\n", f);
    fclose(f);
    assert_int_equal(nnx_tabcache_read(path, "key 1", &back, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "not a cache entry"));
    /* a flipped header byte */
    assert_int_equal(nnx_tabcache_write(path, "key 1", &ds, NULL, NULL, &err), 0);
    f = fopen(path, "r+b");
    fseek(f, 70, SEEK_SET);
    fputc(0x7f, f);
    fclose(f);
    assert_int_equal(nnx_tabcache_read(path, "key 1", &back, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "bad header checksum"));
    /* written without an encoding: none comes back */
    assert_int_equal(nnx_tabcache_write(path, "key 1", &ds, NULL, NULL, &err), 0);
    assert_int_equal(nnx_tabcache_read(path, "key 1", &back, &enc2, &st2, &err), 1);
    assert_null(enc2.cols);
    assert_int_equal(st2.unseen, 0);
    nnx_dataset_free(&back);
    /* a directory that cannot be written: an error value, nothing left */
    char *bad = malloc(strlen(path) + 8);
    sprintf(bad, "%s/x/y", path);
    assert_int_equal(nnx_tabcache_write(bad, "key 1", &ds, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "cannot"));
    free(bad);
    nnx_csv_encoding_free(&enc);
    nnx_dataset_free(&ds);
    free(path);
    tmpdir_remove(dir);
    free(dir);
}

/* A mapped set is normalised as it is gathered: the same bits as in place. */
static void mapped_normalised_on_gather(void **state)
{
    (void)state;
    char *dir = tmpdir_make("tabcache");
    char *path = entry_path(dir);
    nnx_dataset ds, mapped;
    nnx_csv_encoding enc;
    nnx_rt_error err;
    table(&ds, &enc);
    assert_int_equal(nnx_tabcache_write(path, "k", &ds, NULL, NULL, &err), 0);
    assert_int_equal(nnx_tabcache_read(path, "k", &mapped, NULL, NULL, &err), 1);
    nnx_norm nm, nm2;
    assert_int_equal(nnx_norm_fit(&nm, NNX_NORM_STANDARD, &ds, &err), 0);
    assert_int_equal(nnx_norm_fit(&nm2, NNX_NORM_STANDARD, &mapped, &err), 0);
    assert_memory_equal(nm.shift, nm2.shift, 3 * sizeof(float));
    assert_memory_equal(nm.scale, nm2.scale, 3 * sizeof(float));
    assert_int_equal(nnx_norm_apply(&nm, &ds, &err), 0);        /* in place */
    assert_int_equal(nnx_norm_apply(&nm2, &mapped, &err), 0);   /* as read */
    assert_ptr_equal(mapped.norm_shift, nm2.shift);
    int32_t rows[] = { 6, 0, 3, 3 };
    float a[12], b[12];
    int32_t ya[4], yb[4];
    nnx_gather(&ds, rows, 4, a, ya, NULL);
    nnx_gather(&mapped, rows, 4, b, yb, NULL);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_equal(ya, yb, sizeof ya);
    float r[9];
    nnx_gather_range(&mapped, 2, 3, r);
    assert_memory_equal(r, ds.x + 6, sizeof r);
    /* a subset of the mapped set holds the values as read */
    nnx_dataset sub;
    assert_int_equal(nnx_dataset_subset(&mapped, rows, 4, &sub, &err), 0);
    assert_null(sub.map);
    assert_null(sub.norm_shift);
    assert_memory_equal(sub.x, a, sizeof a);
    nnx_dataset_free(&sub);
    nnx_norm_free(&nm);
    nnx_norm_free(&nm2);
    nnx_csv_encoding_free(&enc);
    nnx_dataset_free(&ds);
    nnx_dataset_free(&mapped);
    free(path);
    tmpdir_remove(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(mapped_normalised_on_gather),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
