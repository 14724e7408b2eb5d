/* csv_encode.c — a table's feature columns as features: numbers as they are,
 * text columns one-hot over the categories of the train file, missing cells
 * filled with the train column's mean, median or 0 and flagged (data.h,
 * nnx_csv_encoding). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rt/csv_int.h"

void nnx_csv_encoding_free(nnx_csv_encoding *enc)
{
    if (!enc)
        return;
    for (int32_t j = 0; enc->cols && j < enc->ncols; j++) {
        nnx_csv_column *c = &enc->cols[j];
        free(c->name);
        for (int32_t k = 0; c->categories && k < c->ncategories; k++)
            free(c->categories[k]);
        free(c->categories);
    }
    free(enc->cols);
    memset(enc, 0, sizeof *enc);
}

int nnx_csv_encoding_is_plain(const nnx_csv_encoding *enc)
{
    if (enc->missing != NNX_MISSING_ERROR)
        return 0;
    for (int32_t j = 0; j < enc->ncols; j++)
        if (enc->cols[j].categorical || enc->cols[j].indicator)
            return 0;
    return 1;
}

/* An empty cell, NA, N/A, NaN (any case) or "?". */
static int is_missing(const char *s)
{
    return !*s || !strcmp(s, "?") || !strcasecmp(s, "na") || !strcasecmp(s, "n/a")
        || !strcasecmp(s, "nan");
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

static const char *missing_hint(void)
{
    return "set missing = mean, median or zero in csv(...) to fill such cells";
}

/* The error for a missing cell under NNX_MISSING_ERROR. */
static int missing_error(const nnx_csv_rows *r, size_t i, size_t c, nnx_rt_error *err)
{
    char where[300];
    const char *cell = nnx_csv_cell(r, i, c);
    nnx_csv_column_name(r, c, where, sizeof where);
    if (*cell)
        return nnx_rt_fail(err, "%s:%d: %s: \"%s\" is a missing value; %s", r->path,
                           (int)r->line[r->r0 + i], where, cell, missing_hint());
    return nnx_rt_fail(err, "%s:%d: %s: empty cell; %s", r->path, (int)r->line[r->r0 + i],
                       where, missing_hint());
}

/* The error for text in a number column. */
static int text_error(const nnx_csv_rows *r, size_t i, size_t c, nnx_rt_error *err)
{
    char where[300];
    const char *cell = nnx_csv_cell(r, i, c);
    nnx_csv_column_name(r, c, where, sizeof where);
    if (r->header)
        return nnx_rt_fail(err, "%s:%d: %s: \"%s\" is not a number; add categorical = [\"%s\"] "
                           "to csv(...) to one-hot encode the column", r->path,
                           (int)r->line[r->r0 + i], where, cell, r->field[r->first[0] + c]);
    return nnx_rt_fail(err, "%s:%d: %s: \"%s\" is not a number; categorical = auto in csv(...) "
                       "one-hot encodes the text columns", r->path, (int)r->line[r->r0 + i],
                       where, cell);
}

/* The sorted distinct non-missing cells of column c. */
static int fit_categories(const nnx_csv_rows *r, size_t c, nnx_csv_column *col,
                          nnx_rt_error *err)
{
    const char **v = malloc((r->n ? r->n : 1) * sizeof *v);
    if (!v)
        return nnx_rt_fail(err, "%s: out of memory", r->path);
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++)
        if (!is_missing(nnx_csv_cell(r, i, c)))
            v[m++] = nnx_csv_cell(r, i, c);
    qsort(v, m, sizeof *v, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (k == 0 || strcmp(v[i], v[k - 1]))
            v[k++] = v[i];
    int rc = 0;
    if (k > INT32_MAX / 2)
        rc = nnx_rt_fail(err, "%s: column %zu has %zu categories", r->path, c + 1, k);
    col->categories = rc == 0 ? calloc(k ? k : 1, sizeof *col->categories) : NULL;
    if (rc == 0 && !col->categories)
        rc = nnx_rt_fail(err, "%s: out of memory", r->path);
    for (size_t i = 0; rc == 0 && i < k; i++)
        if (!(col->categories[i] = strdup(v[i])))
            rc = nnx_rt_fail(err, "%s: out of memory", r->path);
    if (rc == 0)
        col->ncategories = (int32_t)k;
    free(v);
    return rc;
}

/* A number column: check every cell, then the fill value of the policy. */
static int fit_numbers(const nnx_csv_rows *r, size_t c, nnx_missing missing, nnx_csv_column *col,
                       nnx_rt_error *err)
{
    double *v = malloc((r->n ? r->n : 1) * sizeof *v);
    if (!v)
        return nnx_rt_fail(err, "%s: out of memory", r->path);
    size_t m = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        const char *cell = nnx_csv_cell(r, i, c);
        double x;
        if (is_missing(cell)) {
            if (missing == NNX_MISSING_ERROR)
                rc = missing_error(r, i, c, err);
            col->indicator = 1;
        } else if (nnx_csv_parse_number(cell, &x) < 0 || x > 3.4e38 || x < -3.4e38) {
            rc = text_error(r, i, c, err);
        } else {
            v[m++] = x;
        }
    }
    if (rc == 0 && m && missing == NNX_MISSING_MEAN) {
        double s = 0;
        for (size_t i = 0; i < m; i++)
            s += v[i];
        col->fill = (float)(s / (double)m);
    } else if (rc == 0 && m && missing == NNX_MISSING_MEDIAN) {
        qsort(v, m, sizeof *v, cmp_double);
        col->fill = (float)(m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2);
    }
    free(v);
    return rc;
}

/* Is column c named in opts->categorical? */
static int named_categorical(const nnx_csv_rows *r, size_t c, const nnx_csv_opts *o)
{
    if (!r->header)
        return 0;
    for (int32_t k = 0; k < o->ncategorical; k++)
        if (!strcmp(o->categorical[k], r->field[r->first[0] + c]))
            return 1;
    return 0;
}

/* Does column c hold a cell that is neither missing nor a number? */
static int has_text(const nnx_csv_rows *r, size_t c)
{
    double x;
    for (size_t i = 0; i < r->n; i++) {
        const char *cell = nnx_csv_cell(r, i, c);
        if (!is_missing(cell) && nnx_csv_parse_number(cell, &x) < 0)
            return 1;
    }
    return 0;
}

/* categorical = [...] names columns the file has, none of them the label. */
static int check_named(const nnx_csv_rows *r, const int32_t *cols, int32_t ncols,
                       const nnx_csv_opts *o, nnx_rt_error *err)
{
    if (o->ncategorical && !r->header)
        return nnx_rt_fail(err, "%s: categorical = [...] names columns, but the file has no "
                           "header row (categorical = auto finds the text columns)", r->path);
    for (int32_t k = 0; k < o->ncategorical; k++) {
        int found = 0;
        for (int32_t j = 0; j < ncols && !found; j++)
            found = !strcmp(o->categorical[k], r->field[r->first[0] + (size_t)cols[j]]);
        if (found)
            continue;
        for (size_t c = 0; c < r->ncol; c++)
            if (!strcmp(o->categorical[k], r->field[r->first[0] + c]))
                return nnx_rt_fail(err, "%s: categorical column \"%s\" is the label column",
                                   r->path, o->categorical[k]);
        return nnx_rt_fail(err, "%s:%d: categorical column \"%s\" is not in the header",
                           r->path, (int)r->line[0], o->categorical[k]);
    }
    return 0;
}

int nnx_csv_fit(const nnx_csv_rows *r, const int32_t *cols, int32_t ncols,
                const nnx_csv_opts *o, nnx_csv_encoding *enc, nnx_rt_error *err)
{
    memset(enc, 0, sizeof *enc);
    if (check_named(r, cols, ncols, o, err) < 0)
        return -1;
    enc->cols = calloc(ncols > 0 ? (size_t)ncols : 1, sizeof *enc->cols);
    if (!enc->cols)
        return nnx_rt_fail(err, "%s: out of memory", r->path);
    enc->ncols = ncols;
    enc->missing = o->missing;
    int64_t width = 0;
    int rc = 0;
    for (int32_t j = 0; rc == 0 && j < ncols; j++) {
        nnx_csv_column *col = &enc->cols[j];
        size_t c = (size_t)cols[j];
        col->index = cols[j];
        if (r->header && !(col->name = strdup(r->field[r->first[0] + c]))) {
            rc = nnx_rt_fail(err, "%s: out of memory", r->path);
            break;
        }
        col->categorical = named_categorical(r, c, o) || (o->categorical_auto && has_text(r, c));
        if (col->categorical) {
            rc = fit_categories(r, c, col, err);
            for (size_t i = 0; rc == 0 && i < r->n; i++)
                if (is_missing(nnx_csv_cell(r, i, c))) {
                    if (o->missing == NNX_MISSING_ERROR)
                        rc = missing_error(r, i, c, err);
                    col->indicator = 1;
                }
            width += col->ncategories;
        } else {
            rc = fit_numbers(r, c, o->missing, col, err);
            width += 1;
        }
        width += col->indicator;
    }
    if (rc == 0 && width > INT32_MAX / 2)
        rc = nnx_rt_fail(err, "%s: the encoded rows would have %lld features", r->path,
                         (long long)width);
    if (rc < 0) {
        nnx_csv_encoding_free(enc);
        return -1;
    }
    enc->features = (int32_t)width;
    return 0;
}

int nnx_csv_match(const nnx_csv_rows *r, const nnx_csv_encoding *enc, long label_col,
                  int32_t *cols, nnx_rt_error *err)
{
    int named = r->header && enc->ncols > 0 && enc->cols[0].name;
    if (named) {
        for (int32_t j = 0; j < enc->ncols; j++) {
            cols[j] = -1;
            for (size_t c = 0; c < r->ncol && cols[j] < 0; c++)
                if ((long)c != label_col && !strcmp(enc->cols[j].name, r->field[r->first[0] + c]))
                    cols[j] = (int32_t)c;
            if (cols[j] < 0)
                return nnx_rt_fail(err, "%s: no column \"%s\", which the train data has",
                                   r->path, enc->cols[j].name);
        }
        return 0;
    }
    int32_t j = 0;
    for (size_t c = 0; c < r->ncol && j < enc->ncols; c++)
        if ((long)c != label_col)
            cols[j++] = (int32_t)c;
    size_t have = r->ncol - (label_col >= 0 ? 1 : 0);
    if (have != (size_t)enc->ncols)
        return nnx_rt_fail(err, "%s: %zu feature columns, the train data has %d", r->path, have,
                           (int)enc->ncols);
    return 0;
}

int nnx_csv_apply(const nnx_csv_rows *r, const int32_t *cols, const nnx_csv_encoding *enc,
                  float *x, nnx_csv_stats *st, nnx_rt_error *err)
{
    const size_t d = (size_t)enc->features;
    for (size_t i = 0; i < r->n; i++) {
        float *row = x + i * d;
        size_t f = 0;
        for (int32_t j = 0; j < enc->ncols; j++) {
            const nnx_csv_column *col = &enc->cols[j];
            size_t c = (size_t)cols[j];
            const char *cell = nnx_csv_cell(r, i, c);
            int miss = is_missing(cell);
            if (miss && enc->missing == NNX_MISSING_ERROR)
                return missing_error(r, i, c, err);
            if (miss && st)
                st->imputed++;
            if (col->categorical) {
                for (int32_t k = 0; k < col->ncategories; k++)
                    row[f + (size_t)k] = 0.0f;
                if (!miss) {
                    char **hit = bsearch(&cell, col->categories, (size_t)col->ncategories,
                                         sizeof *col->categories, cmp_str);
                    if (hit) {
                        row[f + (size_t)(hit - col->categories)] = 1.0f;
                    } else if (st && st->unseen++ == 0) {
                        char where[300];
                        snprintf(st->example, sizeof st->example, "line %d, %s: \"%.40s\"",
                                 (int)r->line[r->r0 + i],
                                 nnx_csv_column_name(r, c, where, sizeof where), cell);
                    }
                }
                f += (size_t)col->ncategories;
            } else {
                double v = col->fill;
                if (!miss && (nnx_csv_parse_number(cell, &v) < 0 || v > 3.4e38 || v < -3.4e38))
                    return text_error(r, i, c, err);
                row[f++] = (float)v;
            }
            if (col->indicator)
                row[f++] = miss ? 1.0f : 0.0f;
        }
    }
    return 0;
}

int nnx_csv_feature_names(const nnx_csv_encoding *enc, char ***names, const char *path,
                          nnx_rt_error *err)
{
    *names = NULL;
    if (enc->ncols == 0 || !enc->cols[0].name)
        return 0;
    char **v = calloc(enc->features > 0 ? (size_t)enc->features : 1, sizeof *v);
    if (!v)
        return nnx_rt_fail(err, "%s: out of memory for column names", path);
    size_t f = 0;
    int ok = 1;
    for (int32_t j = 0; ok && j < enc->ncols; j++) {
        const nnx_csv_column *col = &enc->cols[j];
        size_t len = strlen(col->name);
        if (col->categorical) {
            for (int32_t k = 0; ok && k < col->ncategories; k++) {
                size_t n = len + strlen(col->categories[k]) + 2;
                ok = (v[f] = malloc(n)) != NULL;
                if (ok)
                    snprintf(v[f++], n, "%s=%s", col->name, col->categories[k]);
            }
        } else {
            ok = (v[f++] = strdup(col->name)) != NULL;
        }
        if (ok && col->indicator) {
            ok = (v[f] = malloc(len + sizeof ":missing")) != NULL;
            if (ok)
                snprintf(v[f++], len + sizeof ":missing", "%s:missing", col->name);
        }
    }
    if (!ok) {
        for (size_t k = 0; k < (size_t)enc->features; k++)
            free(v[k]);
        free(v);
        return nnx_rt_fail(err, "%s: out of memory for column names", path);
    }
    *names = v;
    return 0;
}
