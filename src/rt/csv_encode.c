/* csv_encode.c — a table's feature columns as features: numbers as they are,
 * text columns one-hot over the categories of the train file, missing cells
 * filled with the train column's mean, median or 0 and flagged (data.h,
 * nnx_csv_encoding). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int nnx_csv_named_categorical(const nnx_csv_head *h, int header, size_t c,
                              const nnx_csv_opts *o)
{
    if (!header)
        return 0;
    for (int32_t k = 0; k < o->ncategorical; k++)
        if (!strcmp(o->categorical[k], h->field[c]))
            return 1;
    return 0;
}

int nnx_csv_check_named(const nnx_csv_head *h, int header, const int32_t *cols, int32_t ncols,
                        const nnx_csv_opts *o, const char *path, nnx_rt_error *err)
{
    if (o->ncategorical && !header)
        return nnx_rt_fail(err, "%s: categorical = [...] names columns, but the file has no "
                           "header row (categorical = auto finds the text columns)", path);
    for (int32_t k = 0; k < o->ncategorical; k++) {
        int found = 0;
        for (int32_t j = 0; j < ncols && !found; j++)
            found = !strcmp(o->categorical[k], h->field[cols[j]]);
        if (found)
            continue;
        for (size_t c = 0; c < h->ncol; c++)
            if (!strcmp(o->categorical[k], h->field[c]))
                return nnx_rt_fail(err, "%s: categorical column \"%s\" is the label column",
                                   path, o->categorical[k]);
        return nnx_rt_fail(err, "%s:%d: categorical column \"%s\" is not in the header", path,
                           h->line, o->categorical[k]);
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The fill value of number slot j: the mean or median of its cells as read
 * (s->dx; NaN: missing), summed in row order. */
static void fill_value(const nnx_csv_scan *s, size_t j, nnx_missing missing, float *fill,
                       double *tmp)
{
    size_t m = 0;
    double sum = 0;
    for (size_t i = 0; i < s->n; i++) {
        double v = s->dx[i * s->d + j];
        if (v == v) {
            sum += v;
            tmp[m++] = v;
        }
    }
    if (m == 0)
        return;
    if (missing == NNX_MISSING_MEAN) {
        *fill = (float)(sum / (double)m);
    } else {
        qsort(tmp, m, sizeof *tmp, cmp_double);
        *fill = (float)(m % 2 ? tmp[m / 2] : (tmp[m / 2 - 1] + tmp[m / 2]) / 2);
    }
}

int nnx_csv_fit(const nnx_csv_scan *s, const int32_t *cols, int32_t ncols,
                const nnx_csv_opts *o, nnx_csv_encoding *enc, nnx_rt_error *err)
{
    memset(enc, 0, sizeof *enc);
    const char *path = s->path;
    enc->cols = calloc(ncols > 0 ? (size_t)ncols : 1, sizeof *enc->cols);
    int stats = o->missing == NNX_MISSING_MEAN || o->missing == NNX_MISSING_MEDIAN;
    double *tmp = stats ? malloc((s->n ? s->n : 1) * sizeof *tmp) : NULL;
    if (!enc->cols || (stats && (!tmp || !s->dx))) {
        free(tmp);
        free(enc->cols);
        enc->cols = NULL;
        return nnx_rt_fail(err, "%s: out of memory", path);
    }
    enc->ncols = ncols;
    enc->missing = o->missing;
    int64_t width = 0;
    int rc = 0;
    for (int32_t j = 0; rc == 0 && j < ncols; j++) {
        nnx_csv_column *col = &enc->cols[j];
        size_t c = (size_t)cols[j];
        col->index = cols[j];
        if (s->header && !(col->name = strdup(s->head->field[c]))) {
            rc = nnx_rt_fail(err, "%s: out of memory", path);
            break;
        }
        col->categorical = s->kind[c] == NNX_COL_CAT;
        col->indicator = s->has_missing[c];
        if (col->categorical) {
            const nnx_csv_cats *ct = &s->cat[c];
            col->categories = calloc(ct->n ? (size_t)ct->n : 1, sizeof *col->categories);
            if (!col->categories)
                rc = nnx_rt_fail(err, "%s: out of memory", path);
            for (int32_t k = 0; rc == 0 && k < ct->n; k++)
                if (!(col->categories[k] = strdup(ct->v[k])))
                    rc = nnx_rt_fail(err, "%s: out of memory", path);
            if (rc == 0)
                col->ncategories = ct->n;
            width += col->ncategories;
        } else {
            if (stats)
                fill_value(s, (size_t)j, o->missing, &col->fill, tmp);
            width += 1;
        }
        width += col->indicator;
    }
    free(tmp);
    if (rc == 0 && width > INT32_MAX / 2)
        rc = nnx_rt_fail(err, "%s: the encoded rows would have %lld features", path,
                         (long long)width);
    if (rc < 0) {
        nnx_csv_encoding_free(enc);
        return -1;
    }
    enc->features = (int32_t)width;
    return 0;
}

int nnx_csv_match(const nnx_csv_head *h, int header, const nnx_csv_encoding *enc,
                  long label_col, int32_t *cols, const char *path, nnx_rt_error *err)
{
    int named = header && enc->ncols > 0 && enc->cols[0].name;
    if (named) {
        for (int32_t j = 0; j < enc->ncols; j++) {
            cols[j] = -1;
            for (size_t c = 0; c < h->ncol && cols[j] < 0; c++)
                if ((long)c != label_col && !strcmp(enc->cols[j].name, h->field[c]))
                    cols[j] = (int32_t)c;
            if (cols[j] < 0)
                return nnx_rt_fail(err, "%s: no column \"%s\", which the train data has", path,
                                   enc->cols[j].name);
        }
        return 0;
    }
    int32_t j = 0;
    for (size_t c = 0; c < h->ncol && j < enc->ncols; c++)
        if ((long)c != label_col)
            cols[j++] = (int32_t)c;
    size_t have = h->ncol - (label_col >= 0 ? 1 : 0);
    if (have != (size_t)enc->ncols)
        return nnx_rt_fail(err, "%s: %zu feature columns, the train data has %d", path, have,
                           (int)enc->ncols);
    return 0;
}

/* Write the slots of one row (src) as enc's features (dst). */
static void expand_row(const float *src, float *dst, const nnx_csv_encoding *enc,
                       int32_t *const *map, int64_t *unseen, int64_t *imputed)
{
    size_t f = 0;
    for (int32_t j = 0; j < enc->ncols; j++) {
        const nnx_csv_column *col = &enc->cols[j];
        int miss;
        if (col->categorical) {
            int32_t code;
            memcpy(&code, &src[j], sizeof code);
            miss = code < 0;
            for (int32_t k = 0; k < col->ncategories; k++)
                dst[f + (size_t)k] = 0.0f;
            if (!miss) {
                int32_t to = map[j][code];
                if (to >= 0)
                    dst[f + (size_t)to] = 1.0f;
                else
                    ++*unseen;
            }
            f += (size_t)col->ncategories;
        } else {
            float v = src[j];
            miss = v != v;
            dst[f++] = miss ? col->fill : v;
        }
        *imputed += miss;
        if (col->indicator)
            dst[f++] = miss ? 1.0f : 0.0f;
    }
}

int nnx_csv_expand(nnx_csv_scan *s, const int32_t *cols, const nnx_csv_encoding *enc,
                   nnx_csv_stats *st, nnx_rt_error *err)
{
    const size_t n = s->n, C = (size_t)enc->ncols, F = (size_t)enc->features;
    int same = C == F;
    for (size_t j = 0; j < C; j++)
        same &= !enc->cols[j].categorical && !enc->cols[j].indicator
                && !s->has_missing[cols[j]];
    if (same)
        return 0;
    /* each scan category's place among enc's (-1: train never had it) */
    int32_t **map = calloc(C ? C : 1, sizeof *map);
    float *tmp = malloc((C ? C : 1) * sizeof *tmp);
    int rc = map && tmp ? 0 : nnx_rt_fail(err, "%s: out of memory", s->path);
    int64_t first_row = -1;
    size_t first_j = 0;
    int32_t first_k = 0;
    for (size_t j = 0; rc == 0 && j < C; j++) {
        if (!enc->cols[j].categorical)
            continue;
        const nnx_csv_column *col = &enc->cols[j];
        const nnx_csv_cats *ct = &s->cat[cols[j]];
        if (!(map[j] = malloc((ct->n ? (size_t)ct->n : 1) * sizeof **map))) {
            rc = nnx_rt_fail(err, "%s: out of memory", s->path);
            break;
        }
        for (int32_t k = 0; k < ct->n; k++) {
            char **hit = bsearch(&ct->v[k], col->categories, (size_t)col->ncategories,
                                 sizeof *col->categories, cmp_str);
            map[j][k] = hit ? (int32_t)(hit - col->categories) : -1;
            if (!hit && (first_row < 0 || ct->row[k] < first_row)) {
                first_row = ct->row[k];
                first_j = j;
                first_k = k;
            }
        }
    }
    if (rc == 0 && F > C) {
        if (n > SIZE_MAX / sizeof(float) / F) {
            rc = nnx_rt_fail(err, "%s: too large (%zu rows of %zu features)", s->path, n, F);
        } else {
            float *x = realloc(s->x, (n ? n : 1) * F * sizeof *x);
            if (!x)
                rc = nnx_rt_fail(err, "%s: out of memory for %zu rows of %zu features", s->path,
                                 n, F);
            else
                s->x = x;
        }
    }
    int64_t unseen = 0, imputed = 0;
    if (rc == 0) {
        /* rows move only away from the rows still to be read: from the
         * last one back when they grow, from the first on when they shrink */
        for (size_t k = 0; k < n; k++) {
            size_t i = F > C ? n - 1 - k : k;
            memcpy(tmp, s->x + i * C, C * sizeof *tmp);
            expand_row(tmp, s->x + i * F, enc, map, &unseen, &imputed);
        }
        if (F < C) {
            float *x = realloc(s->x, (n ? n : 1) * (F ? F : 1) * sizeof *x);
            if (x)
                s->x = x;
        }
        s->d = F;
    }
    if (rc == 0 && st) {
        st->imputed += imputed;
        if (unseen && st->unseen == 0) {
            char where[300];
            size_t c = (size_t)cols[first_j];
            snprintf(st->example, sizeof st->example, "line %d, %s: \"%.40s\"",
                     s->cat[c].line[first_k],
                     nnx_csv_col_name(s->head, s->header, c, where, sizeof where),
                     s->cat[c].v[first_k]);
        }
        st->unseen += unseen;
    }
    for (size_t j = 0; map && j < C; j++)
        free(map[j]);
    free(map);
    free(tmp);
    return rc;
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
