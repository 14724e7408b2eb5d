/* csv.c — load a CSV table (numeric features, one label column) into a data set. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/clock.h"
#include "nnx/rt/data.h"
#include "nnx/util/file.h"
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

/* The file split into records of NUL-terminated fields (pointing into buf). */
typedef struct csv_table {
    const char *path;
    char   *buf;          /* the whole file, modified in place; owned */
    char  **field;        /* every field of every record, in order; owned */
    size_t  nfield, capfield;
    size_t *first;        /* index in field[] of each record's first field; owned */
    int32_t *line;        /* 1-based line where each record starts; owned */
    size_t  nrec, caprec;
} csv_table;

static void table_free(csv_table *t)
{
    free(t->buf);
    free(t->field);
    free(t->first);
    free(t->line);
}

static int read_file(csv_table *t, nnx_rt_error *err)
{
    size_t len;
    const char *what = nnx_file_not_regular(t->path);
    if (what)   /* a FIFO or /dev/zero may never end */
        return nnx_rt_fail(err, "%s: not a regular file (%s): data is read only from regular files "
                           "(or a gzip of one)", t->path, what);
    char *buf = nnx_file_read(t->path, 0, &len, err);
    if (!buf)
        return -1;
    if (memchr(buf, '\0', len)) {
        free(buf);
        return nnx_rt_fail(err, "%s: not a text file (contains a NUL byte)", t->path);
    }
    t->buf = buf;
    return 0;
}

static int push_field(csv_table *t, char *f)
{
    if (t->nfield == t->capfield) {
        size_t cap = t->capfield ? t->capfield * 2 : 1024;
        char **nf = realloc(t->field, cap * sizeof *nf);
        if (!nf)
            return -1;
        t->field = nf;
        t->capfield = cap;
    }
    t->field[t->nfield++] = f;
    return 0;
}

static int push_record(csv_table *t, int32_t line)
{
    if (t->nrec == t->caprec) {
        size_t cap = t->caprec ? t->caprec * 2 : 256;
        size_t *nf = realloc(t->first, cap * sizeof *nf);
        if (!nf)
            return -1;
        t->first = nf;
        int32_t *nl = realloc(t->line, cap * sizeof *nl);
        if (!nl)
            return -1;
        t->line = nl;
        t->caprec = cap;
    }
    t->first[t->nrec] = t->nfield;
    t->line[t->nrec++] = line;
    return 0;
}

static int is_blank(char c, char delim)
{
    return (c == ' ' || c == '\t') && c != delim;
}

/* Split t->buf into records and fields (quotes: RFC 4180). */
static int tokenize(csv_table *t, char delim, nnx_rt_error *err)
{
    char *p = t->buf;
    int32_t line = 1;
    if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf)
        p += 3;  /* UTF-8 byte-order mark */
    while (*p) {
        char *q = p;
        while (is_blank(*q, delim))
            q++;
        if (*q == '\n' || *q == '\r' || *q == '\0') {  /* blank line */
            p = q;
            if (*p == '\r')
                p++;
            if (*p == '\n')
                p++;
            line++;
            continue;
        }
        if (push_record(t, line) < 0)
            return nnx_rt_fail(err, "%s: out of memory", t->path);
        for (;;) {
            while (is_blank(*p, delim))
                p++;
            char *start = p, c;
            if (*p == '"') {
                int32_t qline = line;
                char *w = ++p;
                start = w;
                for (;;) {
                    if (*p == '\0')
                        return nnx_rt_fail(err, "%s:%d: quoted field is never closed",
                                           t->path, (int)qline);
                    if (*p == '"') {
                        if (p[1] != '"') {
                            p++;
                            break;
                        }
                        p++;
                    }
                    if (*p == '\n')
                        line++;
                    *w++ = *p++;
                }
                *w = '\0';  /* w < p: the closing quote is behind us */
                while (is_blank(*p, delim))
                    p++;
                c = *p;
                if (c != delim && c != '\n' && c != '\r' && c != '\0')
                    return nnx_rt_fail(err, "%s:%d: text after a closing quote",
                                       t->path, (int)line);
            } else {
                while (*p != delim && *p != '\n' && *p != '\r' && *p != '\0')
                    p++;
                c = *p;
                char *end = p;
                while (end > start && is_blank(end[-1], delim))
                    end--;
                *end = '\0';
            }
            if (push_field(t, start) < 0)
                return nnx_rt_fail(err, "%s: out of memory", t->path);
            if (c == delim) {
                p++;
                continue;
            }
            if (c == '\r')
                p++;
            else if (c == '\n')
                p++;
            if (c == '\r' && *p == '\n')
                p++;
            if (c != '\0')
                line++;
            break;
        }
    }
    return 0;
}

/* "column 3 ("age")" or "column 3": 1-based, with the header name if any. */
static const char *column_name(const csv_table *t, int header, size_t col, char *buf, size_t len)
{
    if (header)
        snprintf(buf, len, "column %zu (\"%s\")", col + 1, t->field[col]);
    else
        snprintf(buf, len, "column %zu", col + 1);
    return buf;
}

/* The data rows of t after r0 header records, for csv_encode.c. */
static nnx_csv_rows rows_of(const csv_table *t, size_t r0, size_t ncol, int header)
{
    return (nnx_csv_rows){ .path = t->path, .field = t->field, .first = t->first,
                           .line = t->line, .r0 = r0, .n = t->nrec - r0, .ncol = ncol,
                           .header = header };
}

const char *nnx_csv_column_name(const nnx_csv_rows *r, size_t col, char *buf, size_t len)
{
    if (r->header)
        snprintf(buf, len, "column %zu (\"%s\")", col + 1, r->field[r->first[0] + col]);
    else
        snprintf(buf, len, "column %zu", col + 1);
    return buf;
}

int nnx_csv_parse_number(const char *s, double *v)
{
    char *end;
    if (!*s)
        return -1;
    errno = 0;
    *v = strtod(s, &end);
    return *end || !isfinite(*v) ? -1 : 0;
}

/* Parse a whole field as a finite number. */
static int parse_number(const char *s, double *v)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (*end || !isfinite(*v))
        return -1;
    return 0;
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

/* Fit (enc zeroed) or find (enc given) the encoding of every column of t
 * but the label column lc, and encode the rows into out->x, naming the
 * features; out must be allocated with enc->features features, so this
 * runs in two calls: fit (x NULL), then apply. */
static int encode_features(const nnx_csv_rows *r, long lc, const nnx_csv_opts *o,
                           nnx_csv_encoding *enc, int32_t *cols, nnx_rt_error *err)
{
    if (enc->cols)
        return nnx_csv_match(r, enc, lc, cols, err);
    int32_t n = 0;
    for (size_t c = 0; c < r->ncol; c++)
        if ((long)c != lc)
            cols[n++] = (int32_t)c;
    return nnx_csv_fit(r, cols, n, o, enc, err);
}

/* Which column holds the label; -1 with err when there is none. */
static long find_label_column(const csv_table *t, const nnx_csv_opts *o, size_t ncol,
                              nnx_rt_error *err)
{
    if (o->label_name) {
        if (!o->header)
            return nnx_rt_fail(err, "%s: label column \"%s\" is named but the file has "
                               "no header row", t->path, o->label_name);
        long found = -1;
        for (size_t c = 0; c < ncol; c++)
            if (strcmp(t->field[c], o->label_name) == 0) {
                if (found >= 0)
                    return nnx_rt_fail(err, "%s:%d: two columns are named \"%s\" (%ld and %zu)",
                                       t->path, (int)t->line[0], o->label_name,
                                       found + 1, c + 1);
                found = (long)c;
            }
        if (found < 0) {
            char names[256] = "";
            size_t used = 0;
            for (size_t c = 0; c < ncol && used < sizeof names - 8; c++) {
                int w = snprintf(names + used, sizeof names - used, "%s\"%s\"",
                                 c ? ", " : "", t->field[c]);
                used += w > 0 ? (size_t)w : 0;
            }
            if (used >= sizeof names - 8)
                strcpy(names + sizeof names - 8, ", ...");
            return nnx_rt_fail(err, "%s:%d: no label column \"%s\" (the columns are %s)",
                               t->path, (int)t->line[0], o->label_name, names);
        }
        return found;
    }
    long idx = o->label_index < 0 ? (long)ncol + o->label_index : o->label_index;
    if (idx < 0 || idx >= (long)ncol)
        return nnx_rt_fail(err, "%s: no label column %d: the file has %zu columns (0..%zu)",
                           t->path, (int)o->label_index, ncol, ncol - 1);
    return idx;
}

/* Whether a label value can be a class id: a whole number a class index
 * holds.  Anything else makes an automatic target a regression one. */
static bool class_id(double v)
{
    return v == floor(v) && fabs(v) <= 2e9;
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

/* The label cells are all numbers (v filled), or not (v untouched past the first text). */
static int build_dataset(nnx_dataset *out, const csv_table *t, const nnx_csv_opts *o,
                         nnx_csv_encoding *enc, nnx_csv_stats *stats, nnx_rt_error *err)
{
    size_t ncol = t->nrec ? (t->nrec > 1 ? t->first[1] : t->nfield) - t->first[0] : 0;
    size_t r0 = o->header ? 1 : 0;
    if (t->nrec == 0)
        return nnx_rt_fail(err, "%s: empty file", t->path);
    if (t->nrec <= r0)
        return nnx_rt_fail(err, "%s: a header row but no data rows", t->path);
    for (size_t r = 0; r < t->nrec; r++) {
        size_t end = r + 1 < t->nrec ? t->first[r + 1] : t->nfield;
        if (end - t->first[r] != ncol)
            return nnx_rt_fail(err, "%s:%d: ragged row: %zu fields, expected %zu (as on line %d)",
                               t->path, (int)t->line[r], end - t->first[r], ncol,
                               (int)t->line[0]);
    }
    long lc = find_label_column(t, o, ncol, err);
    if (lc < 0)
        return -1;
    if (ncol < 2)
        return nnx_rt_fail(err, "%s: only the label column: no features", t->path);
    size_t n = t->nrec - r0, d = ncol - 1;
    if (n > INT32_MAX || d > INT32_MAX || n * d > SIZE_MAX / sizeof(float))
        return nnx_rt_fail(err, "%s: too large (%zu rows of %zu features)", t->path, n, d);

    /* Labels first: they decide the kind. */
    char **lab = malloc(n * sizeof *lab);
    double *val = malloc(n * sizeof *val);
    if (!lab || !val) {
        free(lab);
        free(val);
        return nnx_rt_fail(err, "%s: out of memory", t->path);
    }
    size_t first_text = n, first_fraction = n;
    char where[300];
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        lab[i] = t->field[t->first[r0 + i] + (size_t)lc];
        if (!*lab[i]) {
            nnx_rt_fail(err, "%s:%d: %s: empty label", t->path, (int)t->line[r0 + i],
                        column_name(t, o->header, (size_t)lc, where, sizeof where));
            goto done;
        }
        if (parse_number(lab[i], &val[i]) < 0) {
            if (first_text == n)
                first_text = i;
        } else if (!class_id(val[i]) && first_fraction == n) {
            first_fraction = i;
        }
    }
    nnx_target_kind kind = label_kind(o, first_text < n, first_fraction < n);
    if (kind == NNX_TARGET_REAL && first_text < n) {
        nnx_rt_fail(err, "%s:%d: %s: regression target \"%s\" is not a number", t->path,
                    (int)t->line[r0 + first_text],
                    column_name(t, o->header, (size_t)lc, where, sizeof where), lab[first_text]);
        goto done;
    }
    if (kind == NNX_TARGET_CLASS && first_text == n && first_fraction < n) {
        nnx_rt_fail(err, "%s:%d: %s: class label %s is not an integer", t->path,
                    (int)t->line[r0 + first_fraction],
                    column_name(t, o->header, (size_t)lc, where, sizeof where),
                    lab[first_fraction]);
        goto done;
    }
    nnx_csv_rows rows = rows_of(t, r0, ncol, o->header);
    int32_t *cols = malloc(ncol * sizeof *cols);
    if (!cols) {
        nnx_rt_fail(err, "%s: out of memory", t->path);
        goto done;
    }
    bool fitted = !enc->cols;
    if (encode_features(&rows, lc, o, enc, cols, err) < 0 ||
        nnx_dataset_alloc(out, (int32_t)n, enc->features, kind, 1, err) < 0) {
        free(cols);
        if (fitted)
            nnx_csv_encoding_free(enc);
        goto done;
    }
    rc = nnx_csv_apply(&rows, cols, enc, out->x, stats, err);
    free(cols);
    if (rc == 0)
        rc = nnx_csv_feature_names(enc, &out->feature_names, t->path, err);
    if (rc < 0) {
        if (fitted)
            nnx_csv_encoding_free(enc);
        goto fail;
    }
    rc = -1;
    if (kind == NNX_TARGET_REAL) {
        for (size_t i = 0; i < n; i++)
            out->t[i] = (float)val[i];
    } else if (first_text < n) {
        if (labels_from_text(out, lab, t->path, err) < 0)
            goto fail;
    } else if (labels_from_integers(out, val, t->path, err) < 0) {
        goto fail;
    }
    rc = 0;
    goto done;
fail:
    nnx_dataset_free(out);
done:
    free(lab);
    free(val);
    return rc;
}

static int open_table(csv_table *t, const nnx_csv_opts *opts, nnx_rt_error *err)
{
    if (opts->delimiter == '"' || opts->delimiter == '\n' || opts->delimiter == '\r'
        || opts->delimiter == '\0')
        return nnx_rt_fail(err, "%s: bad delimiter", t->path);
    if (read_file(t, err) < 0 || tokenize(t, opts->delimiter, err) < 0)
        return -1;
    if (t->nrec == 0)
        return nnx_rt_fail(err, "%s: empty file", t->path);
    return 0;
}

int nnx_load_csv(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                 nnx_rt_error *err)
{
    nnx_csv_encoding enc = {0};
    int rc = nnx_load_csv_encoded(out, path, opts, &enc, NULL, err);
    nnx_csv_encoding_free(&enc);
    return rc;
}

/* The labels of a fast read (lab, val: NaN where not a number) into out,
 * whose x is set: NNX_SCAN_DONE, NNX_SCAN_GENERAL when build_dataset would
 * report an error about them, or -1 with err. */
static int fast_labels(nnx_dataset *out, char **lab, const double *val, size_t n,
                       const nnx_csv_opts *o, const char *path, nnx_rt_error *err)
{
    if (n == 0)
        return NNX_SCAN_GENERAL;
    size_t first_text = n, first_fraction = n;
    for (size_t i = 0; i < n; i++) {
        if (isnan(val[i])) {
            if (first_text == n)
                first_text = i;
        } else if (!class_id(val[i]) && first_fraction == n) {
            first_fraction = i;
        }
    }
    nnx_target_kind kind = label_kind(o, first_text < n, first_fraction < n);
    if ((kind == NNX_TARGET_REAL && first_text < n)
        || (kind == NNX_TARGET_CLASS && first_text == n && first_fraction < n))
        return NNX_SCAN_GENERAL;
    out->kind = kind;
    if (kind == NNX_TARGET_REAL) {
        if (!(out->t = malloc(n * sizeof *out->t)))
            return nnx_rt_fail(err, "%s: out of memory", path);
        for (size_t i = 0; i < n; i++)
            out->t[i] = (float)val[i];
        return NNX_SCAN_DONE;
    }
    if (!(out->y = malloc(n * sizeof *out->y)))
        return nnx_rt_fail(err, "%s: out of memory", path);
    int rc = first_text < n ? labels_from_text(out, lab, path, err)
                            : labels_from_integers(out, val, path, err);
    return rc < 0 ? -1 : NNX_SCAN_DONE;
}

/* The first record of m (blank lines before it skipped) tokenized into h by
 * the general tokenizer, *end past its line end: 0, or NNX_SCAN_GENERAL
 * when quote parity cannot delimit it (h then freed by the caller). */
static int first_record_table(const nnx_csv_map *m, char delim, csv_table *h, size_t *end)
{
    nnx_rt_error quiet;
    if (nnx_csv_first_record(m, delim, end) != 0 || !(h->buf = malloc(*end + 1)))
        return NNX_SCAN_GENERAL;
    memcpy(h->buf, m->text, *end);
    h->buf[*end] = '\0';
    if (tokenize(h, delim, &quiet) < 0 || h->nrec != 1)
        return NNX_SCAN_GENERAL;
    return 0;
}

/* The fast reader (csv_scan.h) for a table whose encoding is plain: every
 * feature a number column.  NNX_SCAN_DONE with out and (when fitted here)
 * enc filled; NNX_SCAN_GENERAL with both untouched, for the general reader;
 * -1 with err when memory or threads run out. */
static int load_fast(nnx_dataset *out, const char *path, const nnx_csv_opts *o,
                     nnx_csv_encoding *enc, const nnx_csv_tuning *tune, nnx_rt_error *err)
{
    if (o->ncategorical || (!enc->cols && o->missing != NNX_MISSING_ERROR)
        || (enc->cols && !nnx_csv_encoding_is_plain(enc)) || o->delimiter == '"'
        || o->delimiter == '\n' || o->delimiter == '\r' || o->delimiter == '\0')
        return NNX_SCAN_GENERAL;
    nnx_csv_map m;
    if (nnx_csv_map_open(&m, path) != 0)
        return NNX_SCAN_GENERAL;
    size_t hend;
    csv_table h = {.path = path};
    nnx_rt_error quiet;
    int rc = NNX_SCAN_GENERAL;
    if (first_record_table(&m, o->delimiter, &h, &hend) != 0)
        goto done;
    size_t ncol = h.nfield;
    long lc = ncol >= 2 ? find_label_column(&h, o, ncol, &quiet) : -1;
    if (lc < 0)
        goto done;
    nnx_csv_rows rows = rows_of(&h, o->header ? 1 : 0, ncol, o->header);
    rows.n = 0;   /* fitted on no rows: the columns and names, nothing else */
    int32_t *cols = malloc(ncol * sizeof *cols), *feature_of = malloc(ncol * sizeof *feature_of);
    int fitted = !enc->cols;
    if (!cols || !feature_of || encode_features(&rows, lc, o, enc, cols, &quiet) < 0
        || !nnx_csv_encoding_is_plain(enc)) {
        if (fitted)
            nnx_csv_encoding_free(enc);
        free(cols);
        free(feature_of);
        goto done;
    }
    for (size_t c = 0; c < ncol; c++)
        feature_of[c] = NNX_SCAN_SKIP;
    for (int32_t k = 0; k < enc->ncols; k++)
        feature_of[cols[k]] = k;
    feature_of[lc] = NNX_SCAN_LABEL;
    free(cols);
    nnx_csv_scan s = {
        .delim = o->delimiter, .body = o->header ? hend : m.start, .ncol = ncol,
        .feature_of = feature_of, .d = (size_t)enc->features, .has_label = 1,
        .threads = tune ? tune->threads : 0, .block = tune ? tune->block : 0,
    };
    rc = nnx_csv_scan_run(&s, &m, path, err);
    free(feature_of);
    if (rc == NNX_SCAN_DONE) {
        memset(out, 0, sizeof *out);
        out->x = s.x;
        s.x = NULL;
        out->n = (int32_t)s.n;
        out->d = enc->features;
        rc = fast_labels(out, s.lab, s.val, s.n, o, path, err);
        if (rc == NNX_SCAN_DONE && nnx_csv_feature_names(enc, &out->feature_names, path, err) < 0)
            rc = -1;
        if (rc != NNX_SCAN_DONE)
            nnx_dataset_free(out);
    }
    nnx_csv_scan_free(&s);
    if (rc != NNX_SCAN_DONE && fitted)
        nnx_csv_encoding_free(enc);
done:
    table_free(&h);
    nnx_csv_unmap(&m);
    return rc;
}

int nnx_load_csv_encoded(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                         nnx_csv_encoding *enc, nnx_csv_stats *stats, nnx_rt_error *err)
{
    return nnx_csv_load_tuned(out, path, opts, enc, stats, NULL, err);
}

int nnx_csv_load_tuned(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                       nnx_csv_encoding *enc, nnx_csv_stats *stats, nnx_csv_tuning *tune,
                       nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    nnx_csv_opts def;
    if (!opts) {
        nnx_csv_opts_default(&def);
        opts = &def;
    }
    if (tune)
        tune->was_fast = 0;
    if (!tune || !tune->general_only) {
        int fast = load_fast(out, path, opts, enc, tune, err);
        if (tune)
            tune->was_fast = fast == NNX_SCAN_DONE;
        if (fast != NNX_SCAN_GENERAL)
            return fast;
    }
    csv_table t = {.path = path};
    int rc = open_table(&t, opts, err);
    if (rc == 0)
        rc = build_dataset(out, &t, opts, enc, stats, err);
    table_free(&t);
    return rc;
}

int nnx_csv_header(const char *path, const nnx_csv_opts *opts, char ***names, size_t *n,
                   nnx_rt_error *err)
{
    *names = NULL;
    *n = 0;
    nnx_csv_opts def;
    if (!opts) {
        nnx_csv_opts_default(&def);
        opts = &def;
    }
    /* The first record alone when it can be found without the rest (a
     * header of a table of gigabytes); else the whole file, whose errors
     * are then reported as nnx_load_csv reports them. */
    csv_table t = {.path = path};
    nnx_csv_map m;
    size_t hend;
    int rc = -1;
    if (opts->delimiter != '"' && opts->delimiter != '\n' && opts->delimiter != '\r'
        && opts->delimiter != '\0' && nnx_csv_map_open(&m, path) == 0) {
        if (first_record_table(&m, opts->delimiter, &t, &hend) == 0)
            rc = 0;
        nnx_csv_unmap(&m);
        if (rc < 0) {
            table_free(&t);
            t = (csv_table){.path = path};
        }
    }
    if (rc < 0)
        rc = open_table(&t, opts, err);
    size_t ncol = rc == 0 ? (t.nrec > 1 ? t.first[1] : t.nfield) - t.first[0] : 0;
    char **v = rc == 0 ? calloc(ncol + 1, sizeof *v) : NULL;
    if (rc == 0 && !v)
        rc = nnx_rt_fail(err, "%s: out of memory", path);
    for (size_t c = 0; rc == 0 && c < ncol; c++)
        if (!(v[c] = strdup(t.field[c])))
            rc = nnx_rt_fail(err, "%s: out of memory", path);
    if (rc == 0) {
        *names = v;
        *n = ncol;
    } else if (v) {
        for (size_t c = 0; c < ncol; c++)
            free(v[c]);
        free(v);
    }
    table_free(&t);
    return rc;
}

/* load_columns by the fast reader when every chosen column is a plain
 * number column: NNX_SCAN_DONE with out and *labels filled, NNX_SCAN_GENERAL
 * (nothing kept) for the general reader, or -1 with err. */
static int load_columns_fast(nnx_dataset *out, const char *path, const nnx_csv_opts *o,
                             const int32_t *cols, int32_t ncols, const nnx_csv_encoding *enc,
                             int32_t label_col, char ***labels, nnx_rt_error *err)
{
    if ((enc && !nnx_csv_encoding_is_plain(enc)) || ncols <= 0 || o->delimiter == '"'
        || o->delimiter == '\n' || o->delimiter == '\r' || o->delimiter == '\0')
        return NNX_SCAN_GENERAL;
    nnx_csv_map m;
    if (nnx_csv_map_open(&m, path) != 0)
        return NNX_SCAN_GENERAL;
    size_t hend;
    csv_table h = {.path = path};
    nnx_rt_error quiet;
    nnx_csv_encoding plain = {0};
    int32_t *feature_of = NULL;
    int rc = NNX_SCAN_GENERAL;
    if (first_record_table(&m, o->delimiter, &h, &hend) != 0)
        goto done;
    size_t ncol = h.nfield;
    if (label_col >= (int32_t)ncol || !(feature_of = malloc(ncol * sizeof *feature_of)))
        goto done;
    for (size_t c = 0; c < ncol; c++)
        feature_of[c] = NNX_SCAN_SKIP;
    for (int32_t j = 0; j < ncols; j++) {
        if (cols[j] < 0 || (size_t)cols[j] >= ncol || feature_of[cols[j]] != NNX_SCAN_SKIP)
            goto done;   /* a column the file lacks, or one read twice */
        feature_of[cols[j]] = j;
    }
    if (label_col >= 0) {
        if (feature_of[label_col] != NNX_SCAN_SKIP)
            goto done;
        feature_of[label_col] = NNX_SCAN_LABEL;
    }
    if (!enc) {
        nnx_csv_opts numbers = *o;
        numbers.ncategorical = 0;
        numbers.categorical_auto = 0;
        numbers.missing = NNX_MISSING_ERROR;
        nnx_csv_rows rows = rows_of(&h, o->header ? 1 : 0, ncol, o->header);
        rows.n = 0;   /* the names alone */
        if (nnx_csv_fit(&rows, cols, ncols, &numbers, &plain, &quiet) < 0)
            goto done;
        enc = &plain;
    }
    if (enc->features != ncols)
        goto done;
    nnx_csv_scan s = {
        .delim = o->delimiter, .body = o->header ? hend : m.start, .ncol = ncol,
        .feature_of = feature_of, .d = (size_t)ncols, .has_label = label_col >= 0,
    };
    rc = nnx_csv_scan_run(&s, &m, path, err);
    if (rc == NNX_SCAN_DONE) {
        memset(out, 0, sizeof *out);
        out->x = s.x;
        s.x = NULL;
        out->n = (int32_t)s.n;
        out->d = ncols;
        out->kind = NNX_TARGET_NONE;
        if (o->header && nnx_csv_feature_names(enc, &out->feature_names, path, err) < 0)
            rc = -1;
        char **lab = NULL;
        if (rc == NNX_SCAN_DONE && label_col >= 0) {
            lab = calloc(s.n, sizeof *lab);
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
        if (rc == NNX_SCAN_DONE)
            *labels = lab;
        else
            nnx_dataset_free(out);
    }
    nnx_csv_scan_free(&s);
done:
    nnx_csv_encoding_free(&plain);
    free(feature_of);
    table_free(&h);
    nnx_csv_unmap(&m);
    return rc;
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
    if (!opts) {
        nnx_csv_opts_default(&def);
        opts = &def;
    }
    int fast = load_columns_fast(out, path, opts, cols, ncols, enc, label_col, labels, err);
    if (fast != NNX_SCAN_GENERAL)
        return fast;
    csv_table t = {.path = path};
    int rc = open_table(&t, opts, err);
    size_t ncol = rc == 0 ? (t.nrec > 1 ? t.first[1] : t.nfield) - t.first[0] : 0;
    size_t r0 = opts->header ? 1 : 0, n = t.nrec > r0 ? t.nrec - r0 : 0;
    if (rc == 0 && n == 0)
        rc = nnx_rt_fail(err, "%s: a header row but no data rows", path);
    for (size_t r = 0; rc == 0 && r < t.nrec; r++) {
        size_t end = r + 1 < t.nrec ? t.first[r + 1] : t.nfield;
        if (end - t.first[r] != ncol)
            rc = nnx_rt_fail(err, "%s:%d: ragged row: %zu fields, expected %zu (as on line %d)",
                             path, (int)t.line[r], end - t.first[r], ncol, (int)t.line[0]);
    }
    for (int32_t j = 0; rc == 0 && j < ncols; j++)
        if (cols[j] < 0 || (size_t)cols[j] >= ncol)
            rc = nnx_rt_fail(err, "%s: no column %d: the file has %zu", path, (int)cols[j] + 1,
                             ncol);
    if (rc == 0 && (label_col >= (int32_t)ncol || n > INT32_MAX))
        rc = nnx_rt_fail(err, "%s: no label column %d", path, (int)label_col + 1);
    nnx_csv_rows rows = rows_of(&t, r0, ncol, opts->header);
    nnx_csv_encoding plain = {0};
    if (rc == 0 && !enc) {
        nnx_csv_opts numbers = *opts;
        numbers.ncategorical = 0;
        numbers.categorical_auto = 0;
        numbers.missing = NNX_MISSING_ERROR;
        rc = nnx_csv_fit(&rows, cols, ncols, &numbers, &plain, err);
        enc = &plain;
    }
    if (rc == 0)
        rc = nnx_dataset_alloc(out, (int32_t)n, enc->features, NNX_TARGET_NONE, 0, err);
    if (rc == 0)
        rc = nnx_csv_apply(&rows, cols, enc, out->x, stats, err);
    if (rc == 0 && opts->header)
        rc = nnx_csv_feature_names(enc, &out->feature_names, path, err);
    nnx_csv_encoding_free(&plain);
    char **lab = NULL;
    if (rc == 0 && label_col >= 0) {
        lab = calloc(n, sizeof *lab);
        if (!lab)
            rc = nnx_rt_fail(err, "%s: out of memory", path);
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (!(lab[i] = strdup(t.field[t.first[r0 + i] + (size_t)label_col])))
                rc = nnx_rt_fail(err, "%s: out of memory", path);
        if (rc < 0 && lab) {
            for (size_t i = 0; i < n; i++)
                free(lab[i]);
            free(lab);
            lab = NULL;
        }
    }
    if (rc < 0)
        nnx_dataset_free(out);
    *labels = lab;
    table_free(&t);
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

/* Every field of record 0 is a number. */
static int first_record_numeric(const csv_table *t, size_t ncol)
{
    double v;
    for (size_t c = 0; c < ncol; c++)
        if (parse_number(t->field[t->first[0] + c], &v) < 0)
            return 0;
    return 1;
}

/* The first max bytes of path, cut after the last line end when the file
 * goes on (*more set); the lines of the rest are counted into *lines for at
 * most `seconds` (*counted says whether it got to the end). */
static char *read_head(const char *path, size_t max, size_t *lenp, int *more, int64_t *lines,
                       int *counted, double seconds, nnx_rt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        nnx_rt_fail(err, "%s: out of memory", path);
        return NULL;
    }
    size_t len = fread(buf, 1, max, f);
    *more = len == max && fgetc(f) != EOF;
    *lines = 0;
    *counted = !*more;
    if (*more) {
        size_t cut = len;
        while (cut > 0 && buf[cut - 1] != '\n')
            cut--;
        if (cut > 0)
            len = cut;
        /* count the rest's lines (from the cut on) within the time */
        char *chunk = malloc(1 << 16);
        if (chunk && fseek(f, (long)len, SEEK_SET) == 0) {
            double t0 = nnx_clock_seconds();
            size_t got;
            int last = '\n';
            while ((got = fread(chunk, 1, 1 << 16, f)) > 0) {
                for (const char *p = chunk; (p = memchr(p, '\n', got - (size_t)(p - chunk)));
                     p++)
                    ++*lines;
                last = chunk[got - 1];
                if (nnx_clock_seconds() - t0 > seconds)
                    break;
            }
            *counted = feof(f) != 0;
            if (*counted && last != '\n')
                ++*lines;
        }
        free(chunk);
    }
    if (ferror(f)) {
        fclose(f);
        free(buf);
        nnx_rt_fail(err, "%s: read error", path);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    *lenp = len;
    return buf;
}

int nnx_csv_probe_file(const char *path, const nnx_csv_opts *opts, size_t max_bytes,
                       double seconds, nnx_csv_probe *out, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    nnx_csv_opts o = *opts;
    if (o.delimiter == '"' || o.delimiter == '\n' || o.delimiter == '\r' || o.delimiter == '\0')
        return nnx_rt_fail(err, "%s: bad delimiter", path);
    csv_table t = {.path = path};
    int more;
    int64_t rest;
    size_t len;
    t.buf = read_head(path, max_bytes, &len, &more, &rest, &out->counted, seconds, err);
    if (!t.buf)
        return -1;
    int rc = strlen(t.buf) < len ? nnx_rt_fail(err, "%s: not a text file (contains a NUL byte)",
                                               path)
                                 : tokenize(&t, o.delimiter, err);
    if (rc == 0 && t.nrec == 0)
        rc = nnx_rt_fail(err, "%s: empty file", path);
    size_t ncol = rc == 0 ? (t.nrec > 1 ? t.first[1] : t.nfield) - t.first[0] : 0;
    if (rc == 0 && o.header < 0) {
        out->header_detected = t.nrec > 1 && first_record_numeric(&t, ncol);
        o.header = !out->header_detected;
    }
    out->header = o.header;
    out->ncol = ncol;
    size_t r0 = o.header ? 1 : 0;
    if (rc == 0 && t.nrec <= r0)
        rc = nnx_rt_fail(err, "%s: a header row but no data rows", path);
    for (size_t r = 0; rc == 0 && r < t.nrec; r++) {
        size_t end = r + 1 < t.nrec ? t.first[r + 1] : t.nfield;
        if (end - t.first[r] != ncol)
            rc = nnx_rt_fail(err, "%s:%d: ragged row: %zu fields, expected %zu (as on line %d)",
                             path, (int)t.line[r], end - t.first[r], ncol, (int)t.line[0]);
    }
    long lc = -1;
    if (rc == 0 && o.label_index != NNX_CSV_NO_LABEL) {
        lc = find_label_column(&t, &o, ncol, err);
        if (lc < 0)
            rc = -1;
    }
    out->label_col = lc;
    int32_t *cols = rc == 0 ? malloc((ncol ? ncol : 1) * sizeof *cols) : NULL;
    if (rc == 0 && !cols)
        rc = nnx_rt_fail(err, "%s: out of memory", path);
    if (rc == 0) {
        nnx_csv_rows rows = rows_of(&t, r0, ncol, o.header);
        rc = encode_features(&rows, lc, &o, &out->enc, cols, err);
    }
    free(cols);
    if (rc == 0) {
        out->complete = !more;
        out->rows = (int64_t)(t.nrec - r0) + rest;
    }
    table_free(&t);
    if (rc < 0)
        nnx_csv_encoding_free(&out->enc);
    return rc;
}
