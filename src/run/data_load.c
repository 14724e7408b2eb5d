/* data_load.c — an experiment's data spec made real: load each source, cut the splits, normalise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run_int.h"

/* The seed of the hold-out that makes split s: the experiment seed, moved
 * per split so that valid and test cut from train are independent draws. */
static uint64_t split_seed(uint64_t seed, nnx_exp_split s)
{
    return seed + 0x9E3779B97F4A7C15ull * (uint64_t)s;
}

/* Read a class set as regression targets (mse on integer labels). */
static int classes_to_real(nnx_dataset *ds, nnx_rt_error *err)
{
    float *t = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *t);
    if (!t)
        return nnx_rt_fail(err, "out of memory for %d targets", (int)ds->n);
    for (int32_t i = 0; i < ds->n; i++)
        t[i] = ds->class_names ? strtof(ds->class_names[ds->y[i]], NULL) : (float)ds->y[i];
    if (ds->class_names) {
        for (int32_t c = 0; c < ds->classes; c++)
            free(ds->class_names[c]);
        free(ds->class_names);
        ds->class_names = NULL;
    }
    free(ds->y);
    ds->y = NULL;
    ds->t = t;
    ds->kind = NNX_TARGET_REAL;
    ds->classes = 0;
    return 0;
}

/* csv(..., classes = [a, b, ...]): keep the rows labelled a, b, ..., which become
 * classes 0, 1, ... (as idx(..., classes) does); class_names records a, b, ... */
static int keep_csv_classes(nnx_dataset *ds, const nnx_exp_source *s, nnx_rt_error *err)
{
    if (ds->kind != NNX_TARGET_CLASS)
        return nnx_rt_fail(err, "%s: classes = [...] needs class labels, not regression targets",
                           s->path);
    int32_t *cls = malloc((size_t)(ds->classes > 0 ? ds->classes : 1) * sizeof *cls);
    int32_t *rows = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *rows);
    int rc = cls && rows ? 0 : nnx_rt_fail(err, "%s: out of memory", s->path);
    for (int32_t c = 0; rc == 0 && c < ds->classes; c++) {  /* class c → its place in keep, or -1 */
        cls[c] = -1;
        char *end = NULL;
        double label = ds->class_names ? strtod(ds->class_names[c], &end) : c;
        if (ds->class_names && *end)
            rc = nnx_rt_fail(err, "%s: classes = [...] lists numbers, but the label column holds "
                             "text ('%s')", s->path, ds->class_names[c]);
        for (size_t k = 0; rc == 0 && k < s->nkeep; k++)
            if (label == s->keep[k])
                cls[c] = (int32_t)k;
    }
    int32_t m = 0;
    for (size_t k = 0; rc == 0 && k < s->nkeep; k++) {
        bool seen = false;
        for (int32_t c = 0; c < ds->classes; c++)
            seen |= cls[c] == (int32_t)k;
        if (!seen)
            rc = nnx_rt_fail(err, "%s: class %d does not occur in the label column", s->path,
                             (int)s->keep[k]);
    }
    for (int32_t i = 0; rc == 0 && i < ds->n; i++)
        if (cls[ds->y[i]] >= 0)
            rows[m++] = i;
    nnx_dataset kept;
    if (rc == 0 && nnx_dataset_subset(ds, rows, m, &kept, err) < 0)
        rc = -1;
    if (rc == 0) {
        for (int32_t i = 0; i < m; i++)
            kept.y[i] = cls[kept.y[i]];
        if (kept.class_names)
            for (int32_t c = 0; c < kept.classes; c++)
                free(kept.class_names[c]);
        free(kept.class_names);
        kept.classes = (int32_t)s->nkeep;
        kept.class_names = calloc(s->nkeep, sizeof *kept.class_names);
        for (size_t k = 0; kept.class_names && k < s->nkeep; k++) {
            char buf[24];
            snprintf(buf, sizeof buf, "%d", (int)s->keep[k]);
            kept.class_names[k] = strdup(buf);
            if (!kept.class_names[k])
                rc = nnx_rt_fail(err, "%s: out of memory", s->path);
        }
        if (!kept.class_names)
            rc = nnx_rt_fail(err, "%s: out of memory", s->path);
        nnx_dataset_free(ds);
        *ds = kept;
    }
    free(cls);
    free(rows);
    return rc;
}

/* csv(path, label = none): every column a feature, no targets; with the
 * train file's encoding (enc->cols set) its columns by name or in order. */
static int load_unlabelled(nnx_dataset *out, const char *path, const nnx_csv_opts *o,
                           const nnx_csv_encoding *enc, nnx_csv_stats *st, nnx_rt_error *err)
{
    char **names = NULL, **labels = NULL;
    size_t ncol = 0;
    if (nnx_csv_header(path, o, &names, &ncol, err) < 0)
        return -1;
    int32_t *cols = malloc((ncol ? ncol : 1) * sizeof *cols);
    int rc = cols ? 0 : nnx_rt_fail(err, "%s: out of memory", path);
    for (size_t c = 0; rc == 0 && c < ncol; c++)
        cols[c] = (int32_t)c;
    if (rc == 0 && enc && enc->cols) {
        if (!o->header || !enc->cols[0].name) {
            if ((size_t)enc->ncols != ncol)
                rc = nnx_rt_fail(err, "%s: %zu columns, the train data has %d feature columns",
                                 path, ncol, (int)enc->ncols);
        } else {
            for (int32_t j = 0; rc == 0 && j < enc->ncols; j++) {
                cols[j] = -1;
                for (size_t c = 0; c < ncol && cols[j] < 0; c++)
                    if (!strcmp(names[c], enc->cols[j].name))
                        cols[j] = (int32_t)c;
                if (cols[j] < 0)
                    rc = nnx_rt_fail(err, "%s: no column \"%s\", which the train data has", path,
                                     enc->cols[j].name);
            }
        }
        if (rc == 0)
            rc = nnx_load_csv_columns_encoded(out, path, o, cols, enc, -1, &labels, st, err);
    } else if (rc == 0) {
        rc = nnx_load_csv_columns(out, path, o, cols, (int32_t)ncol, -1, &labels, err);
    }
    for (size_t c = 0; c < ncol; c++)
        free(names[c]);
    free(names);
    free(cols);
    return rc;
}

/* A CSV source's parse, as the cache calls it. */
typedef struct csv_parse {
    const char *path;
    const nnx_csv_opts *o;
    bool unlabelled;
} csv_parse;

static int parse_csv(void *ctx, nnx_dataset *out, nnx_csv_encoding *enc, nnx_csv_stats *st,
                     nnx_rt_error *err)
{
    const csv_parse *p = ctx;
    if (p->unlabelled)
        return load_unlabelled(out, p->path, p->o, enc, st, err);
    return nnx_load_csv_encoded(out, p->path, p->o, enc, st, err);
}

/* enc: the train file's encoding, fitted here when s is the train source
 * (enc zeroed) and applied to the others. */
static int load_source(const nnx_exp_source *s, bool real, const char *cache_dir,
                       nnx_dataset *out, nnx_csv_encoding *enc, nnx_csv_stats *st,
                       nnx_run_cache_use *use, nnx_rt_error *err)
{
    int32_t keep[256];
    if (s->nkeep > 256)
        return nnx_rt_fail(err, "too many classes to keep (%zu)", s->nkeep);
    for (size_t i = 0; i < s->nkeep; i++)
        keep[i] = s->keep[i];
    switch (s->kind) {
    case NNX_XSRC_IDX:
        if (nnx_tabcache_load_idx(cache_dir, s->images, s->labels, keep, (int32_t)s->nkeep, out,
                                  use, err) < 0)
            return -1;
        break;
    case NNX_XSRC_CSV: {
        nnx_csv_opts o;
        nnx_csv_opts_default(&o);
        o.header = s->header;
        o.delimiter = s->delimiter ? s->delimiter : ',';
        o.label_name = s->label_name;
        o.label_index = s->label_index;
        o.target = real ? NNX_CSV_TARGET_REAL : NNX_CSV_TARGET_CLASS;
        o.categorical = (const char *const *)s->categorical;
        o.ncategorical = (int32_t)s->ncategorical;
        o.categorical_auto = s->categorical_auto;
        o.missing = (nnx_missing)s->missing;
        csv_parse p = { s->path, &o, s->label_index == NNX_EXP_NO_LABEL };
        const char *paths[1] = { s->path };
        nnx_buf key = {0};
        nnx_buf_printf(&key, "kind=csv %s\n", p.unlabelled ? "unlabelled" : "labelled");
        nnx_tabcache_key_csv(&key, &o, enc);
        int rc = key.oom ? parse_csv(&p, out, enc, st, err)
                         : nnx_tabcache_load(cache_dir, paths, 1, key.s, enc, st, out, parse_csv,
                                             &p, use, err);
        free(key.s);
        if (rc < 0)
            return -1;
        if (p.unlabelled)
            return 0;
        if (s->nkeep && keep_csv_classes(out, s, err) < 0) {
            nnx_dataset_free(out);
            return -1;
        }
        break;
    }
    case NNX_XSRC_NPY:
        if (nnx_load_npy(out, s->images, s->labels, real, err) < 0)
            return -1;
        break;
    case NNX_XSRC_SPIRALS:
        if (nnx_make_spirals(out, s->n, s->classes, s->noise, s->seed, err) < 0)
            return -1;
        break;
    case NNX_XSRC_BLOBS:
        if (nnx_make_blobs(out, s->n, s->classes, s->features, s->noise, s->seed, err) < 0)
            return -1;
        break;
    default:
        return nnx_rt_fail(err, "unknown data source kind %d", (int)s->kind);
    }
    if (real && out->kind == NNX_TARGET_CLASS && classes_to_real(out, err) < 0) {
        nnx_dataset_free(out);
        return -1;
    }
    return 0;
}

void nnx_run_data_free(nnx_run_data *d)
{
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
        nnx_dataset_free(&d->split[s]);
    nnx_norm_free(&d->norm);
    nnx_csv_encoding_free(&d->enc);
    memset(d, 0, sizeof *d);
}

/* Cut the splits that are hold-outs of other splits, test before valid, so
 * the test rows do not depend on the valid fraction. */
static int cut_splits(const nnx_experiment *e, nnx_run_data *d, nnx_rt_error *err)
{
    static const nnx_exp_split order[] = { NNX_XSPLIT_TEST, NNX_XSPLIT_VALID };
    for (int pass = 0; pass < 2; pass++) {          /* a split of a split needs two */
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
            nnx_exp_split s = order[i];
            const nnx_exp_source *src = &e->data.split[s];
            if (src->kind != NNX_XSRC_SPLIT || d->has[s])
                continue;
            if (src->from == s || src->from >= NNX_XSPLIT_COUNT)
                return nnx_rt_fail(err, "%s = split(...) cannot split itself",
                                   nnx_exp_split_name(s));
            if (!d->has[src->from])
                continue;
            nnx_dataset keep, held;
            if (nnx_split(&d->split[src->from], src->fraction, src->stratify,
                          split_seed(src->has_seed ? src->seed : e->seed, s), &keep, &held,
                          err) < 0)
                return -1;
            nnx_dataset_free(&d->split[src->from]);
            d->split[src->from] = keep;
            d->split[s] = held;
            d->has[s] = true;
        }
    }
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
        if (e->data.split[s].kind == NNX_XSRC_SPLIT && !d->has[s])
            return nnx_rt_fail(err, "%s = split(%s, ...): that split has no data",
                               nnx_exp_split_name((nnx_exp_split)s),
                               nnx_exp_split_name(e->data.split[s].from));
    return 0;
}

/* The label text of class c: its recorded name, or its number. */
static const char *class_label(const nnx_dataset *ds, int32_t c, char *buf, size_t n)
{
    if (ds->class_names)
        return ds->class_names[c];
    snprintf(buf, n, "%d", (int)c);
    return buf;
}

/* Give a split loaded from its own file the train split's class numbers: each
 * file maps its labels on its own (text in sorted order, numbers that are not
 * 0..k-1 in numeric order), so a test file without some class would number
 * the others differently.  A label the train data lacks is an error. */
static int align_classes(nnx_dataset *o, const nnx_dataset *tr, const char *name,
                         nnx_rt_error *err)
{
    if (o->kind != NNX_TARGET_CLASS || tr->kind != NNX_TARGET_CLASS ||
        (!o->class_names && !tr->class_names))
        return 0;
    int32_t *map = malloc((size_t)(o->classes > 0 ? o->classes : 1) * sizeof *map);
    if (!map)
        return nnx_rt_fail(err, "out of memory for the %s classes", name);
    for (int32_t c = 0; c < o->classes; c++) {
        char a[24], b[24];
        const char *want = class_label(o, c, a, sizeof a);
        map[c] = -1;
        for (int32_t k = 0; k < tr->classes && map[c] < 0; k++)
            if (!strcmp(want, class_label(tr, k, b, sizeof b)))
                map[c] = k;
        if (map[c] < 0) {
            free(map);
            return nnx_rt_fail(err, "the %s data has the label '%s', which the train data "
                               "does not have", name, want);
        }
    }
    for (int32_t i = 0; i < o->n; i++)
        o->y[i] = map[o->y[i]];
    free(map);
    if (o->class_names) {
        for (int32_t c = 0; c < o->classes; c++)
            free(o->class_names[c]);
        free(o->class_names);
        o->class_names = NULL;
    }
    if (tr->class_names) {
        o->class_names = calloc((size_t)tr->classes, sizeof *o->class_names);
        for (int32_t c = 0; o->class_names && c < tr->classes; c++)
            if (!(o->class_names[c] = strdup(tr->class_names[c])))
                return nnx_rt_fail(err, "out of memory for the %s classes", name);
        if (!o->class_names)
            return nnx_rt_fail(err, "out of memory for the %s classes", name);
    }
    o->classes = tr->classes;
    return 0;
}

static int check_splits_agree(const nnx_run_data *d, nnx_rt_error *err)
{
    const nnx_dataset *tr = &d->split[NNX_XSPLIT_TRAIN];
    for (int s = 1; s < NNX_XSPLIT_COUNT; s++) {
        if (!d->has[s])
            continue;
        const nnx_dataset *o = &d->split[s];
        const char *name = nnx_exp_split_name((nnx_exp_split)s);
        if (o->d != tr->d)
            return nnx_rt_fail(err, "the %s data has %d features per row, train has %d",
                               name, (int)o->d, (int)tr->d);
        if (o->kind == NNX_TARGET_NONE && s != NNX_XSPLIT_TEST)
            return nnx_rt_fail(err, "the %s data has no labels; only test may be unlabelled",
                               name);
        if (o->kind != tr->kind && o->kind != NNX_TARGET_NONE)
            return nnx_rt_fail(err, "the %s data and the train data have different kinds "
                               "of labels", name);
        if (o->kind == NNX_TARGET_CLASS && o->classes > tr->classes)
            return nnx_rt_fail(err, "the %s data has %d classes, train only %d", name,
                               (int)o->classes, (int)tr->classes);
    }
    return 0;
}

int nnx_run_data_load(const nnx_experiment *e, const char *cache_dir, nnx_run_data *out,
                      nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    bool real = e->loss.kind == NNX_XLOSS_MSE;
    if (e->data.split[NNX_XSPLIT_TRAIN].kind == NNX_XSRC_CSV &&
        e->data.split[NNX_XSPLIT_TRAIN].label_index == NNX_EXP_NO_LABEL)
        return nnx_rt_fail(err, "data '%s': the train file has no labels", e->data.name);
    if (e->data.split[NNX_XSPLIT_TRAIN].kind == NNX_XSRC_NONE ||
        e->data.split[NNX_XSPLIT_TRAIN].kind == NNX_XSRC_SPLIT)
        return nnx_rt_fail(err, "data '%s' has no train source", e->data.name);
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++) {
        const nnx_exp_source *src = &e->data.split[s];
        if (src->kind == NNX_XSRC_NONE || src->kind == NNX_XSRC_SPLIT)
            continue;
        nnx_csv_stats st = {0};
        if (load_source(src, real, cache_dir, &out->split[s], &out->enc, &st, &out->cache,
                        err) < 0)
            goto fail;
        size_t used = strlen(out->note);
        if (st.unseen)
            snprintf(out->note + used, sizeof out->note - used, "%s%s: %lld cell%s of a category "
                     "the train data lacks, encoded as all zeros (the first: %s)",
                     used ? "; " : "", nnx_exp_split_name((nnx_exp_split)s),
                     (long long)st.unseen, st.unseen == 1 ? "" : "s", st.example);
        used = strlen(out->note);
        if (st.imputed)
            snprintf(out->note + used, sizeof out->note - used, "%s%s: %lld missing cell%s "
                     "filled (missing = %s)", used ? "; " : "",
                     nnx_exp_split_name((nnx_exp_split)s), (long long)st.imputed,
                     st.imputed == 1 ? "" : "s",
                     src->missing == NNX_XMISSING_MEAN ? "mean"
                     : src->missing == NNX_XMISSING_MEDIAN ? "median" : "zero");
        out->has[s] = true;
        if (s != NNX_XSPLIT_TRAIN && out->has[NNX_XSPLIT_TRAIN] &&
            align_classes(&out->split[s], &out->split[NNX_XSPLIT_TRAIN],
                          nnx_exp_split_name((nnx_exp_split)s), err) < 0)
            goto fail;
    }
    if (cut_splits(e, out, err) < 0 || check_splits_agree(out, err) < 0)
        goto fail;
    nnx_exp_shape sh = e->data.shape;
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++) {
        if (!out->has[s])
            continue;
        /* classes: the train set's count is the task's (a test file may lack one) */
        if (out->split[s].kind == NNX_TARGET_CLASS)
            out->split[s].classes = out->split[NNX_XSPLIT_TRAIN].classes;
        if (sh.rank == 3 &&
            nnx_dataset_set_shape(&out->split[s], sh.d[0], sh.d[1], sh.d[2], err) < 0)
            goto fail;
    }
    nnx_norm_kind nk = e->data.normalize == NNX_XNORM_STANDARD ? NNX_NORM_STANDARD
                     : e->data.normalize == NNX_XNORM_MINMAX   ? NNX_NORM_MINMAX
                                                               : NNX_NORM_NONE;
    if (nk != NNX_NORM_NONE) {
        if (nnx_norm_fit(&out->norm, nk, &out->split[NNX_XSPLIT_TRAIN], err) < 0)
            goto fail;
        for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
            if (out->has[s] && nnx_norm_apply(&out->norm, &out->split[s], err) < 0)
                goto fail;
    }
    return 0;
fail:
    nnx_run_data_free(out);
    return -1;
}
