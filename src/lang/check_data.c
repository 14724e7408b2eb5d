/* check_data.c — check a `data` block and compile it: sources, splits, normalization, input shape, classes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/check_int.h"
#include "nnx/rt/data.h"

char *ck_resolve_path(ck_arena *a, nnx_loc loc, const char *path)
{
    if (path[0] == '/')
        return ck_strdup(a, path);
    char dir[PATH_MAX] = "";
    if (loc.src && loc.src->path) {
        const char *slash = strrchr(loc.src->path, '/');
        if (slash)
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - loc.src->path), loc.src->path);
    }
    if (dir[0] == '/')
        return ck_sprintf(a, "%s/%s", dir, path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, ".");
    if (!dir[0])
        return ck_sprintf(a, "%s/%s", cwd, path);
    return ck_sprintf(a, "%s/%s/%s", cwd, dir, path);
}

static void source_copy(nnx_exp_source *d, const nnx_exp_source *s)
{
    *d = *s;
    d->images = ck_mstrdup(s->images);
    d->labels = ck_mstrdup(s->labels);
    d->path = ck_mstrdup(s->path);
    d->label_name = ck_mstrdup(s->label_name);
    d->categorical = NULL;
    d->ncategorical = 0;
    if (s->ncategorical && (d->categorical = calloc(s->ncategorical, sizeof *d->categorical)))
        for (size_t i = 0; i < s->ncategorical; i++)
            if ((d->categorical[d->ncategorical] = ck_mstrdup(s->categorical[i])))
                d->ncategorical++;
    d->keep = NULL;
    if (s->nkeep) {
        d->keep = malloc(s->nkeep * sizeof *d->keep);
        if (d->keep)
            memcpy(d->keep, s->keep, s->nkeep * sizeof *d->keep);
        else
            d->nkeep = 0;
    }
}

void ck_data_copy(nnx_exp_data *dst, const nnx_exp_data *src)
{
    *dst = *src;
    dst->name = ck_mstrdup(src->name);
    for (int i = 0; i < NNX_XSPLIT_COUNT; i++)
        source_copy(&dst->split[i], &src->split[i]);
}

void ck_data_free(nnx_exp_data *d)
{
    free(d->name);
    for (int i = 0; i < NNX_XSPLIT_COUNT; i++) {
        nnx_exp_source *s = &d->split[i];
        free(s->images);
        free(s->labels);
        free(s->path);
        free(s->label_name);
        free(s->keep);
        for (size_t k = 0; k < s->ncategorical; k++)
            free(s->categorical[k]);
        free(s->categorical);
    }
    memset(d, 0, sizeof *d);
}

/* What one source gives, before it is combined with the block. */
typedef struct src_info {
    int     features;       /* -1 unknown */
    int     classes;        /* 0 unknown */
    int64_t rows;           /* -1 unknown */
    nnx_exp_shape shape;    /* natural shape (IDX images) */
    int     columns;        /* CSV: the file's columns (0 otherwise) */
    bool    encoded;        /* CSV: features come through categorical or missing */
    const char **names;     /* CSV with a header: its feature columns' names (in c->tmp) */
    size_t  nnames;
} src_info;

static bool keep_list(nnx_checker *c, nnx_exp_source *s, const ck_val *v, const ck_datahdr *labels,
                      const char *labels_path)
{
    if (!v)
        return true;
    bool ok = true;
    if (!v->n) {
        ck_err(c, v->loc, "classes must list at least one class");
        return false;
    }
    s->keep = malloc(v->n * sizeof *s->keep);
    if (!s->keep)
        return false;
    s->nkeep = v->n;
    for (size_t i = 0; i < v->n; i++) {
        int k = (int)v->items[i]->num;
        s->keep[i] = k;
        for (size_t j = 0; j < i; j++)
            if (s->keep[j] == k) {
                ck_err(c, v->items[i]->loc, "class %d is listed twice", k);
                ok = false;
            }
        if (labels && !ck_hdr_has_label(labels, k)) {
            ck_err(c, v->items[i]->loc, "class %d does not occur in %s", k, labels_path);
            ok = false;
        }
    }
    return ok;
}

static bool file_err(nnx_checker *c, const ck_val *where, const char *written, const char *err)
{
    ck_err(c, where->loc, "cannot read data file '%s': %s", written, err);
    return false;
}

/* csv(..., categorical = [names] | auto, missing = ...): into s. */
static bool csv_encoding_args(nnx_checker *c, const ck_val *cat, const ck_val *missing,
                              nnx_exp_source *s)
{
    static const char *const policies[] = { "error", "mean", "median", "zero" };
    for (int k = 0; k < 4; k++)
        if (!strcmp(missing->s, policies[k]))
            s->missing = (nnx_exp_missing)k;
    if (!cat)
        return true;
    if (cat->kind == CK_SYM && !strcmp(cat->s, "auto")) {
        s->categorical_auto = true;
        return true;
    }
    if (cat->kind != CK_LIST) {
        nnx_diag *dg = ck_err(c, cat->loc, "csv: categorical must be a list of column names or "
                              "auto, got %s", ck_vkind_name(cat->kind));
        ck_help(dg, "categorical = [\"color\", \"city\"], or categorical = auto for every "
                    "column of text");
        return false;
    }
    s->categorical = calloc(cat->n ? cat->n : 1, sizeof *s->categorical);
    if (!s->categorical)
        return false;
    for (size_t i = 0; i < cat->n; i++) {
        const ck_val *x = cat->items[i];
        if (x->kind != CK_STR) {
            ck_err(c, x->loc, "csv: categorical lists column names (strings), got %s",
                   ck_vkind_name(x->kind));
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->categorical[j], x->s)) {
                ck_err(c, x->loc, "csv: column \"%s\" is listed twice", x->s);
                return false;
            }
        if (!(s->categorical[s->ncategorical++] = ck_mstrdup(x->s)))
            return false;
    }
    return true;
}

/* Read the head of a CSV file (nnx_csv_probe_file) as the run will read it:
 * an error there (a ragged row, text in a number column, a missing cell, a
 * categorical column that is not there) becomes a diagnostic at the csv(...)
 * call, its advice as help; a first line of numbers is taken as data when
 * `header` was not given, and a note says so.  Fills the features, the rows
 * and the header decision. */
enum { PROBE_BYTES = 64 << 20 };
static bool probe_csv(nnx_checker *c, const ck_val *call, const ck_val *path_arg,
                      const ck_val *header_arg, nnx_exp_source *s, src_info *info)
{
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    o.header = header_arg ? header_arg->boolean : s->label_name ? 1 : -1;
    o.delimiter = s->delimiter;
    o.label_name = s->label_name;
    o.label_index = s->label_index == NNX_EXP_NO_LABEL ? NNX_CSV_NO_LABEL : s->label_index;
    o.categorical = (const char *const *)s->categorical;
    o.ncategorical = (int32_t)s->ncategorical;
    o.categorical_auto = s->categorical_auto;
    o.missing = (nnx_missing)s->missing;
    nnx_csv_probe pr;
    nnx_rt_error err;
    if (nnx_csv_probe_file(s->path, &o, PROBE_BYTES, 0.5, &pr, &err) < 0) {
        char *semi = strstr(err.msg, "; ");
        if (semi)
            *semi = '\0';
        size_t plen = strlen(s->path);     /* the file as the user wrote it */
        bool named = !strncmp(err.msg, s->path, plen);
        nnx_diag *dg = ck_err(c, call->loc, "%s%s", named ? path_arg->s : "",
                              named ? err.msg + plen : err.msg);
        if (semi)
            ck_help(dg, "%s", semi + 2);
        return false;
    }
    s->header = pr.header;
    if (pr.header_detected)
        ck_note_always(c, path_arg->loc, "the first line of '%s' is all numbers: it is read as "
                       "data, not as a header (write header = true if it names the columns)",
                       path_arg->s);
    info->columns = (int)pr.ncol;
    info->features = pr.enc.features;
    info->encoded = !nnx_csv_encoding_is_plain(&pr.enc);
    info->rows = pr.complete || pr.counted ? pr.rows : -1;
    info->names = NULL;
    info->nnames = 0;
    if (pr.header && pr.enc.ncols > 0 && pr.enc.cols[0].name &&
        (info->names = ck_alloc(&c->tmp, (size_t)pr.enc.ncols * sizeof *info->names))) {
        for (int32_t j = 0; j < pr.enc.ncols; j++)
            if ((info->names[j] = ck_strdup(&c->tmp, pr.enc.cols[j].name)))
                info->nnames++;
    }
    nnx_csv_encoding_free(&pr.enc);
    return true;
}

static bool compile_source(nnx_checker *c, const ck_val *v, const char *key, nnx_exp_source *s,
                           src_info *info, const char *const *keys_set, size_t nkeys_set,
                           const nnx_exp_source *train)
{
    ck_arena *a = &c->tmp;
    info->features = -1;
    info->classes = 0;
    info->rows = -1;
    info->shape.rank = 0;
    info->columns = 0;
    info->encoded = false;
    info->names = NULL;
    info->nnames = 0;
    s->loc = v->loc;
    if (v->kind != CK_CALL && v->kind != CK_SYM) {
        ck_err(c, v->loc, "%s must be a data source such as idx(...), csv(...) or split(...), got %s",
               key, ck_vkind_name(v->kind));
        return false;
    }
    const ck_builtin *b = ck_builtin_find(v->s, CK_B_SOURCE);
    if (!b) {
        size_t n;
        const char **names = ck_builtin_names(&c->tmp, CK_B_SOURCE, &n);
        ck_err_suggest(c, v->loc, v->s, names, n, "unknown data source '%s'", v->s);
        return false;
    }
    v = ck_val_as_call(a, (ck_val *)v);
    ck_val *arg[8] = { 0 };
    if (!ck_bind(c, a, v, b->name, b->params, b->nparams, arg))
        return false;
    s->kind = (nnx_exp_src_kind)b->code;
    switch (s->kind) {
    case NNX_XSRC_IDX: {
        s->images = ck_mstrdup(ck_resolve_path(a, arg[0]->loc, arg[0]->s));
        s->labels = ck_mstrdup(ck_resolve_path(a, arg[1]->loc, arg[1]->s));
        if (!s->images || !s->labels)
            return false;
        const char *err;
        const ck_datahdr *im = ck_idx_header(c, s->images, &err);
        bool ok = true;
        if (!im)
            ok = file_err(c, arg[0], arg[0]->s, err);
        const ck_datahdr *lb = ck_idx_header(c, s->labels, &err);
        if (!lb)
            ok = file_err(c, arg[1], arg[1]->s, err);
        if (im && ck_hdr_ndims(im) < 2) {
            ck_err(c, arg[0]->loc, "'%s' holds labels, not images (one dimension)", arg[0]->s);
            ok = false;
        }
        if (lb && ck_hdr_ndims(lb) != 1) {
            ck_err(c, arg[1]->loc, "'%s' holds images, not labels (%d dimensions)", arg[1]->s,
                   ck_hdr_ndims(lb));
            ok = false;
        }
        if (!ok)
            return false;
        if (ck_hdr_count(im) != ck_hdr_count(lb)) {
            ck_err(c, v->loc, "'%s' has %lld images but '%s' has %lld labels", arg[0]->s,
                   (long long)ck_hdr_count(im), arg[1]->s, (long long)ck_hdr_count(lb));
            return false;
        }
        info->features = ck_hdr_features(im);
        info->rows = ck_hdr_count(im);
        info->classes = ck_hdr_classes(lb);
        const int *d = ck_hdr_dims(im);
        if (ck_hdr_ndims(im) == 3)
            info->shape = (nnx_exp_shape){ 3, { 1, d[1], d[2] } };
        else if (ck_hdr_ndims(im) == 4)
            info->shape = (nnx_exp_shape){ 3, { d[1], d[2], d[3] } };
        if (!keep_list(c, s, arg[2], lb, arg[1]->s))
            return false;
        if (s->nkeep) {
            info->classes = (int)s->nkeep;
            info->rows = -1;
        }
        return true;
    }
    case NNX_XSRC_CSV: {
        s->path = ck_mstrdup(ck_resolve_path(a, arg[0]->loc, arg[0]->s));
        if (!s->path)
            return false;
        s->header = arg[2] ? arg[2]->boolean : true;
        if (strlen(arg[3]->s) != 1) {
            ck_err(c, arg[3]->loc, "csv: delimiter must be one character, got \"%s\"", arg[3]->s);
            return false;
        }
        s->delimiter = arg[3]->s[0];
        if (!csv_encoding_args(c, arg[5], arg[6], s))
            return false;
        if (train && train->kind == NNX_XSRC_CSV && !arg[5] && s->missing == NNX_XMISSING_ERROR) {
            /* the train file's encoding is applied to this one: read it so */
            s->categorical_auto = train->categorical_auto;
            s->missing = train->missing;
            if (train->ncategorical) {
                s->categorical = calloc(train->ncategorical, sizeof *s->categorical);
                for (size_t i = 0; s->categorical && i < train->ncategorical; i++)
                    if ((s->categorical[i] = ck_mstrdup(train->categorical[i])))
                        s->ncategorical++;
            }
        }
        const char *err;
        const ck_datahdr *h = ck_csv_header(c, s->path, s->delimiter, s->header, &err);
        if (!h)
            return file_err(c, arg[0], arg[0]->s, err);
        int ncols = ck_hdr_ncols(h);
        s->label_index = ncols - 1;
        if (arg[1] && arg[1]->kind == CK_SYM) {     /* label = none: an unlabelled file */
            if (strcmp(key, "test")) {
                ck_err(c, arg[1]->loc, "csv: an unlabelled file (label = none) can only be the "
                       "test split, not %s: its rows are predicted (probs_test.f32), not "
                       "learnt or scored", key);
                return false;
            }
            if (arg[4]) {
                ck_err(c, arg[4]->loc, "csv: classes = [...] needs a label column, and this "
                       "file has none (label = none)");
                return false;
            }
            s->label_index = NNX_EXP_NO_LABEL;
            info->features = ncols;
            return probe_csv(c, v, arg[0], arg[2], s, info);
        }
        if (arg[1] && arg[1]->kind == CK_STR) {
            if (!s->header) {
                ck_err(c, arg[1]->loc, "csv: a label given by name needs header = true");
                return false;
            }
            int found = -1;
            const char **cols = ck_alloc(a, (size_t)ncols * sizeof *cols);
            for (int i = 0; cols && i < ncols; i++) {
                cols[i] = ck_hdr_col(h, i);
                if (!strcmp(cols[i], arg[1]->s))
                    found = i;
            }
            if (found < 0) {
                nnx_diag *dg = ck_err_suggest(c, arg[1]->loc, arg[1]->s, cols, cols ? (size_t)ncols : 0,
                                              "'%s' has no column '%s'", arg[0]->s, arg[1]->s);
                (void)dg;
                return false;
            }
            s->label_name = ck_mstrdup(arg[1]->s);
            s->label_index = -1;
        } else if (arg[1]) {
            int k = (int)arg[1]->num;
            if (k >= ncols) {
                ck_err(c, arg[1]->loc, "csv: label column %d does not exist ('%s' has %d columns)", k,
                       arg[0]->s, ncols);
                return false;
            }
            s->label_index = k;
        }
        if (ncols < 2) {
            ck_err(c, arg[0]->loc, "'%s' has %d column; it needs a label and at least one feature",
                   arg[0]->s, ncols);
            return false;
        }
        info->features = ncols - 1;
        if (!keep_list(c, s, arg[4], NULL, NULL))
            return false;
        info->classes = (int)s->nkeep;
        return probe_csv(c, v, arg[0], arg[2], s, info);
    }
    case NNX_XSRC_SPLIT: {
        const char *from = arg[0]->s;
        int k = !strcmp(from, "train") ? NNX_XSPLIT_TRAIN : !strcmp(from, "valid") ? NNX_XSPLIT_VALID
              : !strcmp(from, "test") ? NNX_XSPLIT_TEST : -1;
        bool set = false;
        for (size_t i = 0; i < nkeys_set; i++)
            set |= !strcmp(keys_set[i], from);
        if (k < 0 || !set || !strcmp(from, key)) {
            static const char *const splits[] = { "train", "valid", "test" };
            ck_err_suggest(c, arg[0]->loc, from, splits, 3,
                           "split: '%s' is not another split of this data block", from);
            return false;
        }
        s->from = (nnx_exp_split)k;
        s->fraction = arg[1]->num;
        s->stratify = arg[2]->boolean;
        s->has_seed = arg[3] != NULL;
        s->seed = arg[3] ? (uint64_t)arg[3]->num : 0;
        return true;
    }
    case NNX_XSRC_SPIRALS:
    case NNX_XSRC_BLOBS: {
        bool sp = s->kind == NNX_XSRC_SPIRALS;
        s->n = (int)arg[0]->num;
        s->classes = (int)arg[1]->num;
        s->features = sp ? 2 : (int)arg[2]->num;
        s->noise = arg[sp ? 2 : 3]->num;
        s->seed = (uint64_t)arg[sp ? 3 : 4]->num;
        if (s->n < s->classes) {
            ck_err(c, arg[0]->loc, "%s: n = %d is fewer rows than classes = %d", b->name, s->n, s->classes);
            return false;
        }
        info->features = s->features;
        info->classes = s->classes;
        info->rows = s->n;
        return true;
    }
    case NNX_XSRC_NPY: {
        s->images = ck_mstrdup(ck_resolve_path(a, arg[0]->loc, arg[0]->s));
        s->labels = ck_mstrdup(ck_resolve_path(a, arg[1]->loc, arg[1]->s));
        if (!s->images || !s->labels)
            return false;
        nnx_npy_info xi, yi;
        nnx_rt_error err;
        bool ok = true;
        if (nnx_npy_probe(s->images, &xi, &err) < 0)
            ok = file_err(c, arg[0], arg[0]->s, strchr(err.msg, ':') ? strchr(err.msg, ':') + 2 : err.msg);
        if (nnx_npy_probe(s->labels, &yi, &err) < 0)
            ok = file_err(c, arg[1], arg[1]->s, strchr(err.msg, ':') ? strchr(err.msg, ':') + 2 : err.msg);
        if (!ok)
            return false;
        if (xi.ndim < 2) {
            ck_err(c, arg[0]->loc, "npy: x is 1-D; it needs a row per sample: (rows, features) or "
                   "(rows, C, H, W)");
            return false;
        }
        if (yi.ndim != 1 && !(yi.ndim == 2 && yi.dims[1] == 1)) {
            ck_err(c, arg[1]->loc, "npy: y must hold one label per row, (rows,), not %d-D", yi.ndim);
            return false;
        }
        if (yi.dims[0] != xi.dims[0]) {
            ck_err(c, v->loc, "npy: '%s' has %lld rows but '%s' has %lld labels", arg[0]->s,
                   (long long)xi.dims[0], arg[1]->s, (long long)yi.dims[0]);
            return false;
        }
        long long f = xi.dims[0] ? (long long)(xi.count / (size_t)xi.dims[0]) : 0;
        if (f < 1 || f > 0x7fffffff) {
            ck_err(c, arg[0]->loc, "npy: '%s' has %lld features per row", arg[0]->s, f);
            return false;
        }
        info->features = (int)f;
        info->rows = xi.dims[0];
        if (xi.ndim >= 3)
            info->shape = (nnx_exp_shape){ 3, { xi.ndim == 4 ? (int)xi.dims[1] : 1,
                                                (int)xi.dims[xi.ndim - 2], (int)xi.dims[xi.ndim - 1] } };
        return true;
    }
    case NNX_XSRC_NONE:
        break;
    }
    return false;
}

static void line_of(nnx_loc loc, int *line)
{
    int col;
    *line = 0;
    if (loc.src)
        nnx_loc_linecol(loc.src, loc.begin, line, &col);
}

/* Compile data block `it`, then the keys `ov` (an experiment's
 * `data.KEY = value` lines and --set flags) as lines after its own. */
static bool compile_data(nnx_checker *c, const nnx_item *it, const ck_argov *ov, size_t nov,
                         nnx_exp_data *out)
{
    ck_arena *a = &c->tmp;
    const ck_val *vals[8] = { 0 };
    nnx_loc where[8];
    bool seen[8] = { 0 };
    const char *set[8];
    size_t nset = 0;
    bool ok = true;
    const char *keynames[8];
    for (size_t i = 0; i < ck_ndata_keys; i++)
        keynames[i] = ck_data_keys[i].name;
    /* `data b extends a`: a's lines first (and its base's), then b's override
     * them key by key; a key set twice in one block is still an error. */
    const nnx_item *chain[32];
    size_t nchain = 0;
    for (const nnx_item *x = it; x;) {
        for (size_t k = 0; k < nchain; k++)
            if (chain[k] == x) {
                ck_err(c, it->extends_loc, "data '%s' extends itself (through '%s')", it->name,
                       chain[nchain - 1]->name);
                return false;
            }
        if (nchain == sizeof chain / sizeof chain[0]) {
            ck_err(c, it->extends_loc, "data '%s': extends chain too long", it->name);
            return false;
        }
        chain[nchain++] = x;
        if (!x->extends)
            break;
        long idx = ck_name_index(c, x->extends);
        if (idx < 0 || c->prog->names[idx]->kind != NNX_I_DATA) {
            const char **names;
            size_t nn = ck_item_names(c, NNX_I_DATA, &names);
            ck_err_suggest(c, x->extends_loc, x->extends, names, nn, idx < 0
                           ? "data '%s' extends '%s', which is not defined"
                           : "data '%s' extends '%s', which is not a data block",
                           x->name, x->extends);
            return false;
        }
        x = c->prog->names[idx];
        if (x->syntax_error) {
            c->nerr++;
            return false;
        }
    }
    const nnx_item *owner[8] = { 0 };
    for (size_t b = nchain; b-- > 0;) {
        const nnx_item *blk = chain[b];
        for (size_t i = 0; i < blk->nbody; i++) {
            const nnx_stmt *s = blk->body[i];
            if (s->kind != NNX_S_SET) {
                nnx_diag *dg = ck_err(c, s->loc, "a data block holds only `key = value` lines");
                if (s->kind == NNX_S_BLOCK && s->target.n == 1 &&
                    !strcmp(s->target.parts[0], "augment"))
                    ck_help(dg, "write its settings as dotted keys: augment.flip = true, "
                            "augment.shift = 2");
                ok = false;
                continue;
            }
            char *path = nnx_path_str(&s->target);
            const ck_key *k = path ? ck_key_find(ck_data_keys, ck_ndata_keys, path) : NULL;
            if (!k) {
                ck_err_suggest(c, s->target.locs[0], path ? path : s->target.parts[0], keynames,
                               ck_ndata_keys,
                               "unknown data key '%s'", path ? path : "?");
                free(path);
                ok = false;
                continue;
            }
            free(path);
            size_t ki = (size_t)(k - ck_data_keys);
            if (seen[ki] && owner[ki] == blk) {
                int line;
                line_of(where[ki], &line);
                nnx_diag *dg = ck_err(c, s->target.locs[0], "'%s' is set twice in data '%s'", k->name, blk->name);
                ck_help(dg, "it was first set on line %d", line);
                ok = false;
                continue;
            }
            where[ki] = s->target.locs[0];
            owner[ki] = blk;
            bool again = seen[ki];
            seen[ki] = true;
            ck_val *v = ck_eval(c, a, s->value, NULL);
            if (!v) {
                ok = false;
                continue;
            }
            vals[ki] = v;
            if (!again)
                set[nset++] = k->name;
        }
    }
    for (size_t i = 0; i < nov; i++) {
        const ck_key *k = ck_key_find(ck_data_keys, ck_ndata_keys, ov[i].name);
        ck_val *v = !k ? NULL : ov[i].val ? ov[i].val : ck_eval(c, a, ov[i].expr, NULL);
        if (!v) {
            ok = false;
            continue;
        }
        size_t ki = (size_t)(k - ck_data_keys);
        where[ki] = ov[i].loc;
        if (!vals[ki])
            set[nset++] = k->name;
        vals[ki] = v;
    }
    memset(out, 0, sizeof *out);
    out->name = ck_mstrdup(it->name);
    if (!vals[0]) {
        if (ok)
            ck_err(c, it->name_loc, "data '%s' has no `train = ...` source", it->name);
        return false;
    }
    src_info info[NNX_XSPLIT_COUNT];
    for (int sp = 0; sp < NNX_XSPLIT_COUNT; sp++) {
        if (!vals[sp])
            continue;
        if (!compile_source(c, vals[sp], ck_data_keys[sp].name, &out->split[sp], &info[sp], set, nset,
                            sp == NNX_XSPLIT_TRAIN ? NULL : &out->split[NNX_XSPLIT_TRAIN]))
            ok = false;
        else if (sp == NNX_XSPLIT_TRAIN && out->split[sp].kind == NNX_XSRC_SPLIT) {
            ck_err(c, vals[sp]->loc, "train cannot be a split of another split");
            ok = false;
        }
    }
    if (!ok)
        return false;
    const src_info *tr = &info[NNX_XSPLIT_TRAIN];
    out->features = tr->features;
    out->classes = tr->classes;
    out->rows = tr->rows;
    for (int sp = 1; sp < NNX_XSPLIT_COUNT; sp++) {
        if (!vals[sp] || out->split[sp].kind == NNX_XSRC_SPLIT)
            continue;
        if (tr->nnames && info[sp].nnames) {
            /* both name their columns: the run finds train's by name, in any order */
            for (size_t j = 0; j < tr->nnames; j++) {
                size_t k = 0;
                while (k < info[sp].nnames && strcmp(info[sp].names[k], tr->names[j]))
                    k++;
                if (k == info[sp].nnames) {
                    nnx_diag *dg = ck_err(c, vals[sp]->loc, "%s rows have no column \"%s\", which "
                                          "train rows have", ck_data_keys[sp].name, tr->names[j]);
                    ck_help(dg, "columns are matched to train's by name, in any order");
                    ok = false;
                    break;
                }
            }
        } else if ((tr->encoded || info[sp].encoded) && tr->columns && info[sp].columns) {
            /* encoded with the train file's categories: the columns must agree */
            const nnx_exp_source *ts = &out->split[NNX_XSPLIT_TRAIN], *os = &out->split[sp];
            int want = tr->columns - (ts->label_index == NNX_EXP_NO_LABEL ? 0 : 1);
            int have = info[sp].columns - (os->label_index == NNX_EXP_NO_LABEL ? 0 : 1);
            if (have != want) {
                ck_err(c, vals[sp]->loc, "%s rows have %d feature columns but train rows have %d",
                       ck_data_keys[sp].name, have, want);
                ok = false;
            }
        } else if (info[sp].features != tr->features) {
            ck_err(c, vals[sp]->loc, "%s rows have %d features but train rows have %d",
                   ck_data_keys[sp].name, info[sp].features, tr->features);
            ok = false;
        }
        if (info[sp].classes > out->classes && out->classes)
            out->classes = info[sp].classes;
    }
    for (int sp = 1; sp < NNX_XSPLIT_COUNT; sp++)
        if (out->split[sp].kind == NNX_XSRC_SPLIT && out->split[sp].from != NNX_XSPLIT_TRAIN &&
            out->split[out->split[sp].from].kind == NNX_XSRC_SPLIT) {
            ck_err(c, vals[sp]->loc, "%s is a split of %s, which is itself a split",
                   ck_data_keys[sp].name, nnx_exp_split_name(out->split[sp].from));
            ok = false;
        } else if (out->split[sp].kind == NNX_XSRC_SPLIT &&
                   out->split[out->split[sp].from].kind == NNX_XSRC_CSV &&
                   out->split[out->split[sp].from].label_index == NNX_EXP_NO_LABEL) {
            ck_err(c, vals[sp]->loc, "%s is a split of %s, which has no labels (label = none)",
                   ck_data_keys[sp].name, nnx_exp_split_name(out->split[sp].from));
            ok = false;
        }
    const ck_val *norm = vals[3];
    out->normalize = NNX_XNORM_NONE;
    if (norm) {
        if (!ck_check_param(c, norm, NULL, &ck_data_keys[3].param))
            ok = false;
        else
            out->normalize = !strcmp(norm->s, "standard") ? NNX_XNORM_STANDARD
                           : !strcmp(norm->s, "minmax") ? NNX_XNORM_MINMAX : NNX_XNORM_NONE;
    }
    out->shape = (nnx_exp_shape){ 1, { out->features, 0, 0 } };
    if (out->split[NNX_XSPLIT_TRAIN].kind == NNX_XSRC_NPY && tr->shape.rank == 3)
        out->shape = tr->shape;     /* a (rows, C, H, W) array is images */
    const ck_val *shape = vals[4];
    if (shape) {
        if (!ck_check_param(c, shape, NULL, &ck_data_keys[4].param))
            return false;
        if (shape->n != 3) {
            ck_err(c, shape->loc, "shape must be [C, H, W] (3 numbers), got %zu", shape->n);
            return false;
        }
        long prod = 1;
        for (int i = 0; i < 3; i++) {
            out->shape.d[i] = (int)shape->items[i]->num;
            prod *= out->shape.d[i];
        }
        out->shape.rank = 3;
        if (prod != out->features) {
            nnx_diag *dg = ck_err(c, shape->loc, "shape [%d, %d, %d] holds %ld values but a row of '%s' has %d",
                                  out->shape.d[0], out->shape.d[1], out->shape.d[2], prod, it->name,
                                  out->features);
            if (tr->shape.rank == 3)
                ck_help(dg, "the images are %d×%d×%d: shape = [%d, %d, %d]", tr->shape.d[0], tr->shape.d[1],
                        tr->shape.d[2], tr->shape.d[0], tr->shape.d[1], tr->shape.d[2]);
            ok = false;
        }
    }
    for (int k = 5; k <= 6; k++) {     /* augment.flip, augment.shift */
        const ck_val *v = vals[k];
        if (!v)
            continue;
        if (!ck_check_param(c, v, NULL, &ck_data_keys[k].param)) {
            ok = false;
            continue;
        }
        if (k == 5)
            out->aug_flip = v->boolean;
        else
            out->aug_shift = (int)v->num;
        if (out->shape.rank != 3 && (k == 5 ? out->aug_flip : out->aug_shift > 0)) {
            nnx_diag *dg = ck_err(c, v->loc, "%s moves pixels, but the rows of '%s' are not "
                                  "images", ck_data_keys[k].name, it->name);
            ck_help(dg, "give the rows an image shape: shape = [C, H, W]");
            ok = false;
        } else if (k == 6 && out->shape.rank == 3 &&
                   (out->aug_shift >= out->shape.d[1] || out->aug_shift >= out->shape.d[2])) {
            ck_err(c, v->loc, "augment.shift = %d does not fit images of %d×%d", out->aug_shift,
                   out->shape.d[1], out->shape.d[2]);
            ok = false;
        }
    }
    (void)a;
    return ok;
}

const nnx_exp_data *ck_data(nnx_checker *c, const nnx_item *it)
{
    long idx = ck_name_index(c, it->name);
    if (idx < 0)
        return NULL;
    if (c->data_state[idx] == 2)
        return c->data[idx];
    if (c->data_state[idx] == 3) {
        c->nerr++;      /* reported when first checked */
        return NULL;
    }
    if (it->syntax_error) {     /* the parser reported it; say nothing more */
        c->data_state[idx] = 3;
        c->nerr++;
        return NULL;
    }
    nnx_exp_data *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    bool ok = compile_data(c, it, NULL, 0, d);
    c->data_state[idx] = ok ? 2 : 3;
    if (!ok) {
        ck_data_free(d);
        free(d);
        return NULL;
    }
    c->data[idx] = d;
    return d;
}

bool ck_data_with(nnx_checker *c, const nnx_item *it, const ck_argov *ov, size_t nov, nnx_exp_data *out)
{
    if (!ck_data(c, it))
        return false;       /* the block's own errors, reported once */
    if (!compile_data(c, it, ov, nov, out)) {
        ck_data_free(out);
        return false;
    }
    return true;
}
