/* csv.c — load a CSV table (feature columns, one label column) into a data set, through the one reader (csv_scan.c). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnx/rt/clock.h"
#include "nnx/rt/data.h"
#include "rt/csv_int.h"
#include "rt/csv_scan.h"

void nnx_csv_opts_default(nnx_csv_opts *o)
{
    o->header = 1;
    o->delimiter = ',';
    o->label_name = NULL;
    o->label_index = -1;
    o->target = NNX_CSV_TARGET_AUTO;
    o->categorical = NULL;
    o->ncategorical = 0;
    o->categorical_auto = 0;
    o->missing = NNX_MISSING_ERROR;
}

static int bad_delimiter(char d)
{
    return d == '"' || d == '\n' || d == '\r' || d == '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sort and deduplicate v[0..n) in place; returns the distinct count. */
static size_t unique_sorted(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n == 0)
        return 0;
    qsort(v, n, size, cmp);
    char *b = v;
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (cmp(b + i * size, b + (k - 1) * size) != 0)
            memmove(b + k++ * size, b + i * size, size);
    return k;
}

static int set_names(nnx_dataset *ds, char **names, const char *path, nnx_rt_error *err)
{
    ds->class_names = calloc((size_t)ds->classes, sizeof *ds->class_names);
    if (!ds->class_names)
        return nnx_rt_fail(err, "%s: out of memory for class names", path);
    for (int32_t c = 0; c < ds->classes; c++)
        if (!(ds->class_names[c] = strdup(names[c])))
            return nnx_rt_fail(err, "%s: out of memory for class names", path);
    return 0;
}

/* Text labels: classes in strcmp order. */
static int labels_from_text(nnx_dataset *ds, char **lab, const char *path, nnx_rt_error *err)
{
    size_t n = (size_t)ds->n;
    char **sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return nnx_rt_fail(err, "%s: out of memory for labels", path);
    memcpy(sorted, lab, n * sizeof *sorted);
    size_t k = unique_sorted(sorted, n, sizeof *sorted, cmp_str);
    ds->classes = (int32_t)k;
    for (size_t i = 0; i < n; i++) {
        char **hit = bsearch(&lab[i], sorted, k, sizeof *sorted, cmp_str);
        ds->y[i] = (int32_t)(hit - sorted);
    }
    int rc = set_names(ds, sorted, path, err);
    free(sorted);
    return rc;
}

/* When every label is an integer in 0..65535 (no -0): the distinct ones in
 * order into sorted (what sorting and deduplicating would give, without the
 * sort), their count returned; else 0. */
static size_t small_classes(const double *v, size_t n, double *sorted)
{
    enum { SMALL = 65536 };
    unsigned char *seen = calloc(SMALL, 1);
    if (!seen)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] >= 0 && v[i] < SMALL) || signbit(v[i])) {
            free(seen);
            return 0;
        }
        seen[(size_t)v[i]] = 1;
    }
    for (size_t c = 0; c < SMALL; c++)
        if (seen[c])
            sorted[k++] = (double)c;
    free(seen);
    return k;
}

/* Integral numeric labels: as they are when they are 0..k-1, else numeric order. */
static int labels_from_integers(nnx_dataset *ds, const double *v, const char *path,
                                nnx_rt_error *err)
{
    size_t n = (size_t)ds->n;
    double *sorted = n ? malloc(n * sizeof *sorted) : NULL;
    if (!sorted)
        return nnx_rt_fail(err, "%s: out of memory for labels", path);
    size_t k = small_classes(v, n, sorted);
    if (k == 0) {
        memcpy(sorted, v, n * sizeof *sorted);
        k = unique_sorted(sorted, n, sizeof *sorted, cmp_double);
    }
    ds->classes = (int32_t)k;
    int direct = sorted[0] == 0 && sorted[k - 1] == (double)(k - 1);
    for (size_t i = 0; i < n; i++) {
        double *hit = bsearch(&v[i], sorted, k, sizeof *sorted, cmp_double);
        ds->y[i] = (int32_t)(hit - sorted);
    }
    int rc = 0;
    if (!direct) {
        ds->class_names = calloc(k, sizeof *ds->class_names);
        if (!ds->class_names)
            rc = nnx_rt_fail(err, "%s: out of memory for class names", path);
        for (size_t c = 0; rc == 0 && c < k; c++) {
            char buf[32];
            snprintf(buf, sizeof buf, "%.0f", sorted[c]);
            if (!(ds->class_names[c] = strdup(buf)))
                rc = nnx_rt_fail(err, "%s: out of memory for class names", path);
        }
    }
    free(sorted);
    return rc;
}

/* Which column holds the label; -1 with err when there is none. */
static long find_label_column(const nnx_csv_head *h, const nnx_csv_opts *o, const char *path,
                              nnx_rt_error *err)
{
    size_t ncol = h->ncol;
    if (o->label_name) {
        if (!o->header)
            return nnx_rt_fail(err, "%s: label column \"%s\" is named but the file has "
                               "no header row", path, o->label_name);
        long found = -1;
        for (size_t c = 0; c < ncol; c++)
            if (strcmp(h->field[c], o->label_name) == 0) {
                if (found >= 0)
                    return nnx_rt_fail(err, "%s:%d: two columns are named \"%s\" (%ld and %zu)",
                                       path, h->line, o->label_name, found + 1, c + 1);
                found = (long)c;
            }
        if (found < 0) {
            char names[256] = "";
            size_t used = 0;
            for (size_t c = 0; c < ncol && used < sizeof names - 8; c++) {
                int w = snprintf(names + used, sizeof names - used, "%s\"%s\"",
                                 c ? ", " : "", h->field[c]);
                used += w > 0 ? (size_t)w : 0;
            }
            if (used >= sizeof names - 8)
                strcpy(names + sizeof names - 8, ", ...");
            return nnx_rt_fail(err, "%s:%d: no label column \"%s\" (the columns are %s)",
                               path, h->line, o->label_name, names);
        }
        return found;
    }
    long idx = o->label_index < 0 ? (long)ncol + o->label_index : o->label_index;
    if (idx < 0 || idx >= (long)ncol)
        return nnx_rt_fail(err, "%s: no label column %d: the file has %zu columns (0..%zu)",
                           path, (int)o->label_index, ncol, ncol - 1);
    return idx;
}

/* The kind of target the labels make: any text or a declared regression
 * is read as asked; otherwise labels that are all numbers, one of them not
 * a class id, make an automatic target real. */
static nnx_target_kind label_kind(const nnx_csv_opts *o, bool any_text, bool any_fraction)
{
    if (o->target == NNX_CSV_TARGET_REAL
        || (o->target == NNX_CSV_TARGET_AUTO && !any_text && any_fraction))
        return NNX_TARGET_REAL;
    return NNX_TARGET_CLASS;
}

/* What to read: the feature columns cols[0..ncols) (as enc's columns when
 * enc->cols is set, else fitted into enc), the label column lc (-1: none),
 * from path or from text[0..len) when text is set. */
typedef struct table_req {
    const char         *path;
    const char         *text;
    size_t              len;
    const nnx_csv_opts *o;
    const nnx_csv_head *head;
    const int32_t      *cols;
    int32_t             ncols;
    long                lc;
    const nnx_csv_tuning *tune;
    int                 classify;  /* the label column decides the target kind */
} table_req;

static int label_error(const nnx_csv_scan *s, const nnx_csv_opts *o, long lc,
                       nnx_rt_error *err);

/* The first bad cell in the old reader's order: an empty label, a label
 * that does not fit the target, then (fitting) the lowest column's first
 * bad cell, or (applying) the first row's.  0 when no cell is bad. */
static int cell_errors(const table_req *q, const nnx_csv_scan *s, int fit, nnx_rt_error *err)
{
    if (!s->col_err)
        return 0;
    if (q->lc >= 0 && s->col_err[q->lc].kind)
        return nnx_csv_cell_error(s, (size_t)q->lc, err);
    if (q->classify && label_error(s, q->o, q->lc, err) < 0)
        return -1;
    if (!fit)
        return s->bad_col >= 0 ? nnx_csv_cell_error(s, (size_t)s->bad_col, err) : 0;
    for (int32_t j = 0; j < q->ncols; j++)
        if (s->col_err[q->cols[j]].kind)
            return nnx_csv_cell_error(s, (size_t)q->cols[j], err);
    return 0;
}

/* Read the table into s (x: enc->features per row), fitting enc (when
 * fit) or applying it.  0, or -1 with err (s and a fitted enc freed). */
static int read_table(const table_req *q, nnx_csv_scan *s, nnx_csv_encoding *enc, int fit,
                      nnx_csv_stats *st, nnx_rt_error *err)
{
    const nnx_csv_head *h = q->head;
    size_t ncol = h->ncol;
    const nnx_csv_opts *o = q->o;
    memset(s, 0, sizeof *s);
    if (fit && nnx_csv_check_named(h, o->header, q->cols, q->ncols, o, q->path, err) < 0)
        return -1;
    uint8_t *kind = calloc(ncol, sizeof *kind);
    int32_t *slot = calloc(ncol, sizeof *slot);
    int rc = kind && slot ? 0 : nnx_rt_fail(err, "%s: out of memory", q->path);
    for (int32_t j = 0; rc == 0 && j < q->ncols; j++) {
        size_t c = (size_t)q->cols[j];
        if (c >= ncol) {
            rc = nnx_rt_fail(err, "%s: no column %zu: the file has %zu", q->path, c + 1, ncol);
            break;
        }
        if (kind[c] != NNX_COL_SKIP || (long)c == q->lc) {
            rc = nnx_rt_fail(err, "%s: column %zu is read twice", q->path, c + 1);
            break;
        }
        int cat = fit ? nnx_csv_named_categorical(h, o->header, c, o) : enc->cols[j].categorical;
        kind[c] = cat ? NNX_COL_CAT : NNX_COL_NUM;
        slot[c] = j;
    }
    if (rc == 0 && q->lc >= (long)ncol)
        rc = nnx_rt_fail(err, "%s: no label column %ld", q->path, q->lc + 1);
    if (rc == 0 && q->lc >= 0)
        kind[q->lc] = NNX_COL_LABEL;
    nnx_missing missing = fit ? o->missing : enc->missing;
    *s = (nnx_csv_scan){
        .path = q->path, .delim = o->delimiter, .header = o->header, .head = h, .kind = kind,
        .slot = slot, .d = (size_t)q->ncols, .missing_ok = missing != NNX_MISSING_ERROR,
        .text_ok = fit && o->categorical_auto,
        .keep_double = fit && (o->missing == NNX_MISSING_MEAN || o->missing == NNX_MISSING_MEDIAN),
        .threads = q->tune ? q->tune->threads : 0,
        .block = q->tune ? q->tune->block : 0, .mem = q->text, .mem_len = q->len,
    };
    if (rc == 0)
        rc = nnx_csv_scan_run(s, err);
    if (rc == 0 && s->text_ok) {
        /* categorical = auto: the number columns that held text, again as categories */
        int again = 0;
        for (size_t c = 0; c < ncol; c++) {
            again |= s->has_text[c] != 0;   /* and a number beyond float: its error */
            if (kind[c] == NNX_COL_NUM && (s->has_text[c] & 1))
                kind[c] = NNX_COL_CAT;
        }
        if (again) {
            nnx_csv_scan_free(s);
            s->text_ok = 0;
            rc = nnx_csv_scan_run(s, err);
        }
    }
    if (rc == 0)
        rc = cell_errors(q, s, fit, err);
    if (rc == 0 && s->n == 0)
        rc = o->header ? nnx_rt_fail(err, "%s: a header row but no data rows", q->path)
                       : nnx_rt_fail(err, "%s: empty file", q->path);
    int fitted = 0;
    if (rc == 0 && fit) {
        rc = nnx_csv_fit(s, q->cols, q->ncols, o, enc, err);
        fitted = rc == 0;
    }
    if (rc == 0)
        rc = nnx_csv_expand(s, q->cols, enc, st, err);
    if (rc < 0) {
        nnx_csv_scan_free(s);
        if (fitted)
            nnx_csv_encoding_free(enc);
    }
    /* kind and slot are read by the fitting and expanding only */
    s->kind = NULL;
    s->slot = NULL;
    free(kind);
    free(slot);
    return rc;
}

/* A label that does not fit the target kind: -1 with err, else 0. */
static int label_error(const nnx_csv_scan *s, const nnx_csv_opts *o, long lc,
                       nnx_rt_error *err)
{
    char where[300];
    nnx_target_kind kind = label_kind(o, s->first_text >= 0, s->first_fraction >= 0);
    if (kind == NNX_TARGET_REAL && s->first_text >= 0)
        return nnx_rt_fail(err, "%s:%d: %s: regression target \"%s\" is not a number", s->path,
                           s->text_line, nnx_csv_col_name(s->head, o->header, (size_t)lc, where,
                                                          sizeof where),
                           s->lab[s->first_text]);
    if (kind == NNX_TARGET_CLASS && s->first_text < 0 && s->first_fraction >= 0)
        return nnx_rt_fail(err, "%s:%d: %s: class label %s is not an integer", s->path,
                           s->fraction_line, nnx_csv_col_name(s->head, o->header, (size_t)lc,
                                                              where, sizeof where),
                           s->lab[s->first_fraction]);
    return 0;
}

/* The labels the reader kept (s->lab, s->val) into out, whose x is set. */
static int set_labels(nnx_dataset *out, const nnx_csv_scan *s, const nnx_csv_opts *o, long lc,
                      nnx_rt_error *err)
{
    size_t n = s->n;
    nnx_target_kind kind = label_kind(o, s->first_text >= 0, s->first_fraction >= 0);
    if (label_error(s, o, lc, err) < 0)
        return -1;
    out->kind = kind;
    if (kind == NNX_TARGET_REAL) {
        if (!(out->t = malloc(n * sizeof *out->t)))
            return nnx_rt_fail(err, "%s: out of memory", s->path);
        for (size_t i = 0; i < n; i++)
            out->t[i] = (float)s->val[i];
        return 0;
    }
    if (!(out->y = malloc(n * sizeof *out->y)))
        return nnx_rt_fail(err, "%s: out of memory", s->path);
    return s->first_text >= 0 ? labels_from_text(out, s->lab, s->path, err)
                              : labels_from_integers(out, s->val, s->path, err);
}

/* The table of path (or of text[0..len)) with its label column. */
static int load_labelled(nnx_dataset *out, const char *path, const char *text, size_t len,
                         const nnx_csv_opts *o, nnx_csv_encoding *enc, nnx_csv_stats *stats,
                         const nnx_csv_tuning *tune, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (bad_delimiter(o->delimiter))
        return nnx_rt_fail(err, "%s: bad delimiter", path);
    nnx_csv_head h;
    if ((text ? nnx_csv_head_parse(&h, text, len, o->delimiter, path, err)
              : nnx_csv_head_read(&h, path, o->delimiter, err)) < 0)
        return -1;
    int32_t *cols = malloc(h.ncol * sizeof *cols);
    long lc = find_label_column(&h, o, path, err);
    int rc = lc < 0 ? -1 : 0;
    if (rc == 0 && !cols)
        rc = nnx_rt_fail(err, "%s: out of memory", path);
    if (rc == 0 && h.ncol < 2)
        rc = nnx_rt_fail(err, "%s: only the label column: no features", path);
    int fit = !enc->cols;
    int32_t ncols = 0;
    if (rc == 0 && fit) {
        for (size_t c = 0; c < h.ncol; c++)
            if ((long)c != lc)
                cols[ncols++] = (int32_t)c;
    } else if (rc == 0) {
        ncols = enc->ncols;
        rc = nnx_csv_match(&h, o->header, enc, lc, cols, path, err);
    }
    nnx_csv_scan s = { 0 };
    table_req q = { path, text, len, o, &h, cols, ncols, lc, tune, 1 };
    if (rc == 0)
        rc = read_table(&q, &s, enc, fit, stats, err);
    if (rc == 0) {
        out->x = s.x;
        s.x = NULL;
        out->n = (int32_t)s.n;
        out->d = enc->features;
        if (set_labels(out, &s, o, lc, err) < 0
            || nnx_csv_feature_names(enc, &out->feature_names, path, err) < 0) {
            rc = -1;
            nnx_dataset_free(out);
            if (fit)
                nnx_csv_encoding_free(enc);
        }
        nnx_csv_scan_free(&s);
    }
    free(cols);
    nnx_csv_head_free(&h);
    return rc;
}

int nnx_load_csv(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                 nnx_rt_error *err)
{
    nnx_csv_encoding enc = {0};
    int rc = nnx_load_csv_encoded(out, path, opts, &enc, NULL, err);
    nnx_csv_encoding_free(&enc);
    return rc;
}

int nnx_load_csv_encoded(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                         nnx_csv_encoding *enc, nnx_csv_stats *stats, nnx_rt_error *err)
{
    return nnx_csv_load_tuned(out, path, opts, enc, stats, NULL, err);
}

int nnx_csv_load_tuned(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                       nnx_csv_encoding *enc, nnx_csv_stats *stats, const nnx_csv_tuning *tune,
                       nnx_rt_error *err)
{
    nnx_csv_opts def;
    if (!opts) {
        nnx_csv_opts_default(&def);
        opts = &def;
    }
    return load_labelled(out, path, NULL, 0, opts, enc, stats, tune, err);
}

/* The options in force (*opts, or the defaults in *def) and the file's head. */
static int open_head(const char *path, const nnx_csv_opts **opts, nnx_csv_opts *def,
                     nnx_csv_head *h, nnx_rt_error *err)
{
    if (!*opts) {
        nnx_csv_opts_default(def);
        *opts = def;
    }
    if (bad_delimiter((*opts)->delimiter))
        return nnx_rt_fail(err, "%s: bad delimiter", path);
    return nnx_csv_head_read(h, path, (*opts)->delimiter, err);
}

int nnx_csv_header(const char *path, const nnx_csv_opts *opts, char ***names, size_t *n,
                   nnx_rt_error *err)
{
    *names = NULL;
    *n = 0;
    nnx_csv_opts def;
    nnx_csv_head h;
    if (open_head(path, &opts, &def, &h, err) < 0)
        return -1;
    *names = h.field;   /* the head's fields, taken */
    *n = h.ncol;
    char **grown = realloc(h.field, (h.ncol + 1) * sizeof *grown);
    if (grown) {
        grown[h.ncol] = NULL;
        *names = grown;
    }
    return 0;
}

/* nnx_load_csv_columns(_encoded): with enc NULL, every chosen column is read
 * as a number (an encoding fitted on the file with no categorical columns). */
static int load_columns(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                        const int32_t *cols, int32_t ncols, const nnx_csv_encoding *enc,
                        int32_t label_col, char ***labels, nnx_csv_stats *stats,
                        nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    *labels = NULL;
    nnx_csv_opts def;
    nnx_csv_head h;
    if (open_head(path, &opts, &def, &h, err) < 0)
        return -1;
    nnx_csv_opts numbers = *opts;
    numbers.ncategorical = 0;
    numbers.categorical_auto = 0;
    numbers.missing = NNX_MISSING_ERROR;
    nnx_csv_encoding plain = {0};
    nnx_csv_encoding *use = enc ? (nnx_csv_encoding *)enc : &plain;
    nnx_csv_scan s;
    table_req q = { path, NULL, 0, enc ? opts : &numbers, &h, cols, ncols, label_col, NULL, 0 };
    int rc = read_table(&q, &s, use, !enc, stats, err);
    if (rc == 0) {
        out->x = s.x;
        s.x = NULL;
        out->n = (int32_t)s.n;
        out->d = use->features;
        out->kind = NNX_TARGET_NONE;
        if (opts->header)
            rc = nnx_csv_feature_names(use, &out->feature_names, path, err);
        char **lab = NULL;
        if (rc == 0 && label_col >= 0) {
            lab = calloc(s.n ? s.n : 1, sizeof *lab);
            for (size_t i = 0; lab && i < s.n; i++)
                if (!(lab[i] = strdup(s.lab[i]))) {
                    for (size_t k = 0; k < i; k++)
                        free(lab[k]);
                    free(lab);
                    lab = NULL;
                }
            if (!lab)
                rc = nnx_rt_fail(err, "%s: out of memory", path);
        }
        if (rc == 0)
            *labels = lab;
        else
            nnx_dataset_free(out);
        nnx_csv_scan_free(&s);
    }
    nnx_csv_encoding_free(&plain);
    nnx_csv_head_free(&h);
    return rc;
}

int nnx_load_csv_columns(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                         const int32_t *cols, int32_t ncols, int32_t label_col, char ***labels,
                         nnx_rt_error *err)
{
    return load_columns(out, path, opts, cols, ncols, NULL, label_col, labels, NULL, err);
}

int nnx_load_csv_columns_encoded(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                                 const int32_t *cols, const nnx_csv_encoding *enc,
                                 int32_t label_col, char ***labels, nnx_csv_stats *stats,
                                 nnx_rt_error *err)
{
    return load_columns(out, path, opts, cols, enc->ncols, enc, label_col, labels, stats, err);
}


/* --- what nnx check reads ahead ---------------------------------------------- */

/* Every field of the first record is a number. */
static int head_numeric(const nnx_csv_head *h)
{
    double v;
    for (size_t c = 0; c < h->ncol; c++) {
        char *end;
        errno = 0;
        v = strtod(h->field[c], &end);
        if (!*h->field[c] || *end || !isfinite(v))
            return 0;
    }
    return 1;
}

/* The first max bytes of path (inflated when it is gzip), cut after the
 * last line end when the file goes on (*more set); the lines of the rest
 * are counted into *lines for at most `seconds` (*counted says whether it
 * got to the end). */
static char *read_head(const char *path, size_t max, size_t *lenp, int *more, int64_t *lines,
                       int *counted, double seconds, nnx_rt_error *err)
{
    if (max > (1u << 30))
        max = 1u << 30;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    if (!buf) {
        gzclose(f);
        nnx_rt_fail(err, "%s: out of memory", path);
        return NULL;
    }
    int got = gzread(f, buf, (unsigned)max);
    size_t len = got > 0 ? (size_t)got : 0;
    int next = got >= 0 && len == max ? gzgetc(f) : -1;
    int bad = got < 0;
    *more = next != -1;
    *lines = 0;
    *counted = !*more;
    if (*more) {
        size_t cut = len;
        while (cut > 0 && buf[cut - 1] != '\n')
            cut--;
        int last = next;
        if (cut > 0) {   /* the cut-off lines count with the rest */
            for (size_t i = cut; i < len; i++)
                *lines += buf[i] == '\n';
            len = cut;
        }
        *lines += next == '\n';
        char *chunk = malloc(1 << 16);
        double t0 = nnx_clock_seconds();
        int n;
        while (chunk && (n = gzread(f, chunk, 1 << 16)) > 0) {
            for (const char *p = chunk; (p = memchr(p, '\n', (size_t)n - (size_t)(p - chunk)));
                 p++)
                ++*lines;
            last = (unsigned char)chunk[n - 1];
            if (nnx_clock_seconds() - t0 > seconds)
                break;
        }
        *counted = chunk && gzeof(f);
        if (*counted && last != '\n')
            ++*lines;
        free(chunk);
    }
    gzclose(f);
    if (bad) {
        free(buf);
        nnx_rt_fail(err, "%s: read error", path);
        return NULL;
    }
    buf[len] = '\0';
    *lenp = len;
    return buf;
}

int nnx_csv_probe_file(const char *path, const nnx_csv_opts *opts, size_t max_bytes,
                       double seconds, nnx_csv_probe *out, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    nnx_csv_opts o = *opts;
    if (bad_delimiter(o.delimiter))
        return nnx_rt_fail(err, "%s: bad delimiter", path);
    int more;
    int64_t rest;
    size_t len;
    char *buf = read_head(path, max_bytes, &len, &more, &rest, &out->counted, seconds, err);
    if (!buf)
        return -1;
    nnx_csv_head h = { 0 };
    int rc = strlen(buf) < len ? nnx_rt_fail(err, "%s: not a text file (contains a NUL byte)",
                                             path)
                               : nnx_csv_head_parse(&h, buf, len, o.delimiter, path, err);
    if (rc == 0 && o.header < 0) {
        /* a header unless it is all numbers and another record follows */
        size_t p = h.body;
        while (p < len && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\r' || buf[p] == '\n'))
            p++;
        out->header_detected = p < len && head_numeric(&h);
        o.header = !out->header_detected;
    }
    out->header = o.header;
    out->ncol = h.ncol;
    long lc = -1;
    if (rc == 0 && o.label_index != NNX_CSV_NO_LABEL) {
        lc = find_label_column(&h, &o, path, err);
        if (lc < 0)
            rc = -1;
    }
    out->label_col = lc;
    int32_t *cols = rc == 0 ? malloc((h.ncol ? h.ncol : 1) * sizeof *cols) : NULL;
    if (rc == 0 && !cols)
        rc = nnx_rt_fail(err, "%s: out of memory", path);
    int32_t ncols = 0;
    for (size_t c = 0; rc == 0 && c < h.ncol; c++)
        if ((long)c != lc)
            cols[ncols++] = (int32_t)c;
    nnx_csv_scan s;
    table_req q = { path, buf, len, &o, &h, cols, ncols, lc, NULL, 0 };
    if (rc == 0 && (rc = read_table(&q, &s, &out->enc, 1, NULL, err)) == 0) {
        out->complete = !more;
        out->rows = (int64_t)s.n + rest;
        nnx_csv_scan_free(&s);
    }
    free(cols);
    nnx_csv_head_free(&h);
    free(buf);
    return rc;
}
