/* model_read.c — new rows for a trained model: a CSV file's columns by name, IDX images, or .npy arrays. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnx/diag.h"
#include "nnx/model.h"
#include "nnx/rt/data.h"
#include "nnx/rt/tabcache.h"
#include "nnx/util/buf.h"

void nnx_model_csv_notes_free(nnx_model_csv_notes *notes)
{
    if (!notes)
        return;
    for (size_t i = 0; i < notes->nignored; i++)
        free(notes->ignored[i]);
    free(notes->ignored);
    memset(notes, 0, sizeof *notes);
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* The index of the column named name in the header, or -1. */
static long find_column(char *const *header, size_t n, const char *name)
{
    for (size_t c = 0; c < n; c++)
        if (!strcmp(header[c], name))
            return (long)c;
    return -1;
}

/* "a, b, c" of the first names, "..." past room. */
static void list_names(char *buf, size_t size, const char *const *names, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used + 8 < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used + 8 >= size && size > 8)
        strcpy(buf + size - 8, ", ...");
}

/* The labels as the model's targets: class numbers by name, or numbers. */
static int set_targets(const nnx_model *m, nnx_dataset *ds, char **lab, const char *path,
                       long label_col, nnx_rt_error *err)
{
    int32_t n = ds->n;
    if (nnx_model_task_of(m) == NNX_MODEL_REGRESSION) {
        ds->t = malloc((size_t)n * sizeof *ds->t);
        if (!ds->t)
            return nnx_rt_fail(err, "%s: out of memory", path);
        ds->kind = NNX_TARGET_REAL;
        for (int32_t i = 0; i < n; i++) {
            char *end;
            errno = 0;
            double v = strtod(lab[i], &end);
            if (!*lab[i] || *end)
                return nnx_rt_fail(err, "%s: data row %d: column %ld: the target \"%s\" is not "
                                   "a number", path, (int)i + 1, label_col + 1, lab[i]);
            ds->t[i] = (float)v;
        }
        return 0;
    }
    ds->y = malloc((size_t)n * sizeof *ds->y);
    if (!ds->y)
        return nnx_rt_fail(err, "%s: out of memory", path);
    ds->kind = NNX_TARGET_CLASS;
    ds->classes = nnx_model_classes(m);
    for (int32_t i = 0; i < n; i++) {
        int32_t c = 0;
        while (c < ds->classes && strcmp(lab[i], nnx_model_class_name(m, c)))
            c++;
        if (c == ds->classes) {
            const char *names[64];
            int32_t k = ds->classes < 64 ? ds->classes : 64;
            for (int32_t j = 0; j < k; j++)
                names[j] = nnx_model_class_name(m, j);
            char list[256];
            list_names(list, sizeof list, names, (size_t)k);
            return nnx_rt_fail(err, "%s: data row %d: the label \"%s\" is not a class of the "
                               "model (%s)", path, (int)i + 1, lab[i], list);
        }
        ds->y[i] = c;
    }
    return 0;
}

/* The error for a column the model reads and the file lacks: the file's
 * closest column that the model does not read, as a likely misspelling. */
static int missing_column(const nnx_model *m, const char *path, const char *want,
                          char *const *header, size_t ncol, nnx_rt_error *err)
{
    const char **unused = calloc(ncol + 1, sizeof *unused);
    size_t n = 0;
    for (size_t c = 0; unused && c < ncol; c++) {
        bool read = false;
        for (int32_t j = 0; j < nnx_model_features(m) && !read; j++)
            read = !strcmp(header[c], nnx_model_feature_name(m, j));
        const char *label = nnx_model_label_column(m);
        if (!read && !(label && !strcmp(header[c], label)))
            unused[n++] = header[c];
    }
    const char *near = unused ? nnx_suggest(want, unused, n) : NULL;
    int rc;
    if (near) {
        rc = nnx_rt_fail(err, "%s: no column \"%s\", which the model reads; the file's column "
                         "\"%s\" is not one of the model's: did you mean \"%s\"?", path, want,
                         near, want);
    } else {
        const char *names[64];
        int32_t k = nnx_model_features(m) < 64 ? nnx_model_features(m) : 64;
        for (int32_t j = 0; j < k; j++)
            names[j] = nnx_model_feature_name(m, j);
        char list[200], has[200];
        list_names(list, sizeof list, names, (size_t)k);
        list_names(has, sizeof has, (const char *const *)header, ncol);
        rc = nnx_rt_fail(err, "%s: no column \"%s\", which the model reads (the model reads %s; "
                         "the file has %s)", path, want, list, has);
    }
    free(unused);
    return rc;
}

/* A model's CSV read as the cache sees it: the columns loaded (encoded as
 * in training) and, with a label column, the targets set. */
typedef struct model_csv {
    const nnx_model *m;
    const char *path;
    const nnx_csv_opts *o;
    const int32_t *cols;
    int32_t d;
    long label_col;                 /* -1: unlabelled */
    const nnx_csv_encoding *enc;    /* NULL: plain numbers */
} model_csv;

static int parse_model_csv(void *ctx, nnx_dataset *out, nnx_csv_encoding *unused,
                           nnx_csv_stats *st, nnx_rt_error *err)
{
    (void)unused;
    const model_csv *p = ctx;
    char **lab = NULL;
    int rc = p->enc ? nnx_load_csv_columns_encoded(out, p->path, p->o, p->cols, p->enc,
                                                   (int32_t)p->label_col, &lab, st, err)
                    : nnx_load_csv_columns(out, p->path, p->o, p->cols, p->d,
                                           (int32_t)p->label_col, &lab, err);
    size_t nlab = rc == 0 ? (size_t)out->n : 0;
    if (rc == 0 && p->label_col >= 0 &&
        set_targets(p->m, out, lab, p->path, p->label_col, err) < 0) {
        nnx_dataset_free(out);
        rc = -1;
    }
    free_strings(lab, nlab);
    return rc;
}

int nnx_model_read_csv(const nnx_model *m, const char *path, bool labels, nnx_dataset *out,
                       nnx_model_csv_notes *notes, const char *cache_dir, nnx_tabcache_use *use,
                       nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (notes)
        memset(notes, 0, sizeof *notes);
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    o.delimiter = nnx_model_csv_delimiter(m);
    o.header = nnx_model_csv_header(m);
    char **header = NULL;
    size_t ncol = 0;
    if (nnx_csv_header(path, &o, &header, &ncol, err) < 0)
        return -1;
    const nnx_csv_encoding *enc = nnx_model_encoding(m);
    int32_t d = enc ? enc->ncols : nnx_model_features(m);     /* the columns to find */
    int32_t *cols = malloc((size_t)d * sizeof *cols);
    bool *used = calloc(ncol + 1, sizeof *used);
    int rc = cols && used ? 0 : nnx_rt_fail(err, "%s: out of memory", path);
    const char *label = nnx_model_label_column(m);
    bool named = nnx_model_feature_name(m, 0) != NULL && o.header;
    long lc = -1;
    if (named && label) {
        lc = find_column(header, ncol, label);
    } else if (!named && ncol == (size_t)d + 1) {   /* unnamed: d features and the label */
        int li = nnx_model_label_index(m);
        lc = li >= 0 && (size_t)li < ncol ? li : (long)ncol - 1;
    } else if (!named && rc == 0 && ncol != (size_t)d) {
        rc = nnx_rt_fail(err, "%s: %zu columns; the model reads %d unnamed features in order "
                         "(and the label column, for labelled data)", path, ncol, (int)d);
    }
    if (rc == 0 && labels && lc < 0)
        rc = label ? nnx_rt_fail(err, "%s: no label column \"%s\": labelled data needs the "
                                 "training file's label column", path, label)
                   : nnx_rt_fail(err, "%s: no label column: labelled data needs the %d features "
                                 "and the label", path, (int)d);
    if (lc >= 0)
        used[lc] = true;
    if (rc == 0 && named) {
        for (int32_t j = 0; rc == 0 && j < d; j++) {
            const char *want = enc ? enc->cols[j].name : nnx_model_feature_name(m, j);
            long c = find_column(header, ncol, want);
            if (c < 0) {
                rc = missing_column(m, path, want, header, ncol, err);
                break;
            }
            cols[j] = (int32_t)c;
            used[c] = true;
        }
    } else if (rc == 0) {           /* unnamed features: the columns in order */
        int32_t j = 0;
        for (size_t c = 0; c < ncol && j < d; c++)
            if ((long)c != lc) {
                cols[j++] = (int32_t)c;
                used[c] = true;
            }
        if (j < d)
            rc = nnx_rt_fail(err, "%s: %d feature columns, the model reads %d", path, (int)j,
                             (int)d);
    }
    if (rc == 0 && notes && named)
        for (size_t c = 0; c < ncol; c++)
            if (!used[c]) {
                char **v = realloc(notes->ignored, (notes->nignored + 1) * sizeof *v);
                if (!v || !(v[notes->nignored] = strdup(header[c]))) {
                    if (v)
                        notes->ignored = v;
                    rc = nnx_rt_fail(err, "%s: out of memory", path);
                    break;
                }
                notes->ignored = v;
                notes->nignored++;
            }
    nnx_csv_stats st = {0};
    if (rc == 0) {
        model_csv p = { m, path, &o, cols, d, labels ? lc : -1, enc };
        nnx_buf key = {0};
        nnx_buf_printf(&key, "kind=csv for a model, %s, task %d\n", labels ? "labelled"
                       : "unlabelled", (int)nnx_model_task_of(m));
        nnx_tabcache_key_csv(&key, &o, enc);
        for (int32_t j = 0; j < d; j++)
            nnx_buf_printf(&key, "column %d\n", (int)cols[j]);
        nnx_buf_printf(&key, "label column %ld\n", p.label_col);
        for (int32_t c = 0; labels && c < nnx_model_classes(m); c++)
            nnx_tabcache_key_str(&key, "class", nnx_model_class_name(m, c));
        const char *paths[1] = { path };
        rc = key.oom ? parse_model_csv(&p, out, NULL, &st, err)
                     : nnx_tabcache_load(cache_dir, paths, 1, key.s, NULL, &st, out,
                                         parse_model_csv, &p, use, err);
        free(key.s);
    }
    if (rc == 0 && notes)
        notes->stats = st;
    if (rc < 0 && notes)
        nnx_model_csv_notes_free(notes);
    free_strings(header, ncol);
    free(cols);
    free(used);
    return rc;
}

/* The file's label v is the model's class named "v" (an IDX digit, an npy
 * integer): relabel out's classes as the model's, and drop out's own names. */
static int map_labels(const nnx_model *m, nnx_dataset *out, const char *labels_path,
                      nnx_rt_error *err)
{
    if (nnx_model_task_of(m) != NNX_MODEL_CLASSIFICATION) {
        nnx_dataset_free(out);
        return nnx_rt_fail(err, "%s: the labels are classes; the model is a regression",
                           labels_path);
    }
    int32_t *map = malloc(((size_t)out->classes + 1) * sizeof *map);
    if (!map) {
        nnx_dataset_free(out);
        return nnx_rt_fail(err, "out of memory for %d classes", (int)out->classes);
    }
    for (int32_t v = 0; v < out->classes; v++) {
        char name[16];
        snprintf(name, sizeof name, "%d", (int)v);
        const char *own = out->class_names ? out->class_names[v] : name;
        map[v] = -1;
        for (int32_t c = 0; c < nnx_model_classes(m); c++)
            if (!strcmp(nnx_model_class_name(m, c), own))
                map[v] = c;
    }
    for (int32_t i = 0; i < out->n; i++) {
        int32_t v = out->y[i];
        if (map[v] < 0) {
            char name[16];
            snprintf(name, sizeof name, "%d", (int)v);
            nnx_rt_fail(err, "%s: item %d has the label %s, which is not a class of the model",
                        labels_path, (int)i + 1, out->class_names ? out->class_names[v] : name);
            free(map);
            nnx_dataset_free(out);
            return -1;
        }
        out->y[i] = map[v];
    }
    free(map);
    for (int32_t c = 0; out->class_names && c < out->classes; c++)
        free(out->class_names[c]);
    free(out->class_names);
    out->class_names = NULL;
    out->classes = nnx_model_classes(m);
    return 0;
}

/* out's rows against the model's input: features, and the image size when
 * both have one. */
static int check_input(const nnx_model *m, nnx_dataset *out, const char *path, nnx_rt_error *err)
{
    int32_t shape[3];
    nnx_model_shape(m, shape);
    if (out->d == nnx_model_features(m) &&
        !(shape[1] > 1 && out->has_shape && (out->shape[0] != shape[0] ||
                                             out->shape[1] != shape[1] ||
                                             out->shape[2] != shape[2])))
        return 0;
    char mine[64], theirs[64];
    if (out->has_shape && out->shape[0] == 1)
        snprintf(mine, sizeof mine, "images of %d×%d pixels", (int)out->shape[1],
                 (int)out->shape[2]);
    else if (out->has_shape)
        snprintf(mine, sizeof mine, "images of %d×%d×%d", (int)out->shape[0],
                 (int)out->shape[1], (int)out->shape[2]);
    else
        snprintf(mine, sizeof mine, "rows of %d features", (int)out->d);
    if (shape[1] > 1)
        snprintf(theirs, sizeof theirs, "%d×%d×%d (%d features)", (int)shape[0], (int)shape[1],
                 (int)shape[2], (int)nnx_model_features(m));
    else
        snprintf(theirs, sizeof theirs, "%d features", (int)nnx_model_features(m));
    nnx_rt_fail(err, "%s: %s; the model takes %s", path, mine, theirs);
    nnx_dataset_free(out);
    return -1;
}

int nnx_model_read_idx(const nnx_model *m, const char *images_path, const char *labels_path,
                       nnx_dataset *out, const char *cache_dir, nnx_tabcache_use *use,
                       nnx_rt_error *err)
{
    int rc = nnx_tabcache_load_idx(cache_dir, images_path, labels_path, NULL, 0, out, use, err);
    if (rc < 0 || check_input(m, out, images_path, err) < 0)
        return -1;
    return labels_path ? map_labels(m, out, labels_path, err) : 0;
}

int nnx_model_read_npy(const nnx_model *m, const char *x_path, const char *y_path,
                       nnx_dataset *out, nnx_rt_error *err)
{
    int real = nnx_model_task_of(m) == NNX_MODEL_REGRESSION;
    if (nnx_load_npy(out, x_path, y_path, real, err) < 0 ||
        check_input(m, out, x_path, err) < 0)
        return -1;
    return y_path && !real ? map_labels(m, out, y_path, err) : 0;
}

int nnx_model_is_idx(const char *path, nnx_rt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char b[4] = { 0 };
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got >= 2 && b[0] == 0x1f && b[1] == 0x8b)
        return 1;
    return got == 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 && b[3] >= 1 && b[3] <= 4;
}

int nnx_model_is_npy(const char *path, nnx_rt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char b[6] = { 0 };
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    return got == 6 && !memcmp(b, "\x93NUMPY", 6);
}
