/* model.c — load a trained model from a run, search or ensemble directory and predict raw rows with it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnx/util/json.h"
#include "nnx/model.h"
#include "nnx/rt.h"
#include "nnx/util/file.h"

/* One run's network and the normalisation fitted on its train split. */
typedef struct member {
    char    *dir;           /* owned */
    nnx_net *net;           /* owned */
    nnx_norm norm;          /* owned; kind NONE: no normalisation */
    int      batch;         /* rows per forward (model.json eval_batch) */
    float   *buf;           /* batch × features: a chunk being normalised; owned */
} member;

struct nnx_model {
    nnx_model_task   task;
    nnx_model_output output;
    char            *loss;          /* owned */
    float            smoothing;     /* cross entropy's label smoothing */
    int              outputs;
    int32_t          classes;
    char           **class_names;   /* [classes], owned */
    int32_t          features;
    int32_t          shape[3];
    char           **feature_names; /* [features] or NULL, owned */
    nnx_csv_encoding enc;           /* the CSV columns and their encoding (ncols 0 when the
                                       features are unnamed); owned */
    char            *source;        /* owned */
    char            *label;         /* CSV label column or NULL, owned */
    char             delimiter;
    bool             header;        /* the CSV file had a header row */
    int              label_index;   /* its label column, -1 unknown */
    member          *members;       /* [nmembers], owned */
    size_t           nmembers;
    int              batch;         /* rows per chunk: the members' smallest eval_batch */
    double          *sum;           /* ensembles: batch × outputs running sum; owned */
    float           *part;          /* ensembles: one member's outputs for a chunk; owned */
};

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    char *d = malloc(strlen(s) + 1);
    if (d)
        strcpy(d, s);
    return d;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* dir/name parsed as JSON, or NULL with err (missing: *missing set when not NULL). */
static nnx_json *read_json(const char *dir, const char *name, bool *missing, nnx_rt_error *err)
{
    char *path = nnx_path_join(dir, name);
    if (!path) {
        nnx_rt_fail(err, "out of memory");
        return NULL;
    }
    if (missing)
        *missing = !exists(path);
    size_t len;
    char *text = nnx_file_read(path, 64u << 20, &len, err);
    nnx_json *root = NULL;
    if (text) {
        nnx_json_error je;
        root = nnx_json_parse(text, len, &je);
        if (!root)
            nnx_rt_fail(err, "%s:%d:%d: %s", path, je.line, je.col, je.msg);
    }
    free(text);
    free(path);
    return root;
}

/* Free what read_description filled. */
static void description_free(nnx_model *m)
{
    for (int32_t c = 0; m->class_names && c < m->classes; c++)
        free(m->class_names[c]);
    free(m->class_names);
    for (int32_t j = 0; m->feature_names && j < m->features; j++)
        free(m->feature_names[j]);
    free(m->feature_names);
    nnx_csv_encoding_free(&m->enc);
    free(m->loss);
    free(m->source);
    free(m->label);
}

void nnx_model_free(nnx_model *m)
{
    if (!m)
        return;
    description_free(m);
    for (size_t i = 0; i < m->nmembers; i++) {
        free(m->members[i].dir);
        nnx_net_free(m->members[i].net);
        nnx_norm_free(&m->members[i].norm);
        free(m->members[i].buf);
    }
    free(m->members);
    free(m->sum);
    free(m->part);
    free(m);
}

/* --- model.json ------------------------------------------------------------------ */

/* A float array of n values at key of obj into v (malloc'ed). */
static int read_floats(const nnx_json *obj, const char *key, int32_t n, float **v,
                       const char *path, nnx_rt_error *err)
{
    const nnx_json *a = nnx_json_get(obj, key);
    if (!a || a->type != NNX_JSON_ARRAY || a->n != (size_t)n)
        return nnx_rt_fail(err, "%s: normalize.%s must be an array of %d numbers", path, key,
                           (int)n);
    *v = malloc((size_t)n * sizeof **v);
    if (!*v)
        return nnx_rt_fail(err, "%s: out of memory", path);
    for (int32_t j = 0; j < n; j++) {
        if (a->items[j].type != NNX_JSON_NUMBER)
            return nnx_rt_fail(err, "%s: normalize.%s[%d] is not a number", path, key, (int)j);
        (*v)[j] = (float)a->items[j].number;
    }
    return 0;
}

static int read_norm(const nnx_json *root, int32_t d, nnx_norm *nm, const char *path,
                     nnx_rt_error *err)
{
    memset(nm, 0, sizeof *nm);
    const nnx_json *n = nnx_json_get(root, "normalize");
    const char *kind = nnx_json_as_string(nnx_json_get(n, "kind"), NULL);
    if (!kind)
        return nnx_rt_fail(err, "%s: no normalize.kind", path);
    nm->d = d;
    if (!strcmp(kind, "none"))
        return 0;
    if (strcmp(kind, "standard") && strcmp(kind, "minmax"))
        return nnx_rt_fail(err, "%s: normalize.kind '%s' is not one this nnx knows", path, kind);
    nm->kind = !strcmp(kind, "standard") ? NNX_NORM_STANDARD : NNX_NORM_MINMAX;
    nm->per_channel = !strcmp(nnx_json_as_string(nnx_json_get(n, "fitted"), ""), "per_channel");
    if (read_floats(n, "shift", d, &nm->shift, path, err) < 0 ||
        read_floats(n, "scale", d, &nm->scale, path, err) < 0) {
        nnx_norm_free(nm);
        return -1;
    }
    return 0;
}

static int int_field(const nnx_json *obj, const char *key, int lo, int hi, int *v,
                     const char *path, nnx_rt_error *err)
{
    double x = nnx_json_as_number(nnx_json_get(obj, key));
    if (!(x >= lo && x <= hi) || x != (double)(int)x)
        return nnx_rt_fail(err, "%s: %s must be a whole number in %d..%d", path, key, lo, hi);
    *v = (int)x;
    return 0;
}

/* The model's description (everything but the members) from one run's model.json. */
/* input.columns: the CSV file's feature columns, each read as a number or
 * one-hot over its categories, with a fill value and an indicator for
 * missing cells (model.json of a run whose data had categorical or missing
 * settings); their features must add up to input.features. */
static int read_columns(nnx_model *m, const nnx_json *cols, const char *missing,
                        const char *path, nnx_rt_error *err)
{
    static const char *const policies[] = { "error", "mean", "median", "zero" };
    nnx_csv_encoding *enc = &m->enc;
    if (cols->type != NNX_JSON_ARRAY || cols->n == 0 || cols->n > (size_t)INT32_MAX / 2)
        return nnx_rt_fail(err, "%s: input.columns must be a list of columns", path);
    enc->missing = NNX_MISSING_ERROR;
    for (int k = 0; k < 4; k++)
        if (!strcmp(missing, policies[k]))
            enc->missing = (nnx_missing)k;
    if (!(enc->cols = calloc(cols->n, sizeof *enc->cols)))
        return nnx_rt_fail(err, "%s: out of memory", path);
    enc->ncols = (int32_t)cols->n;
    int64_t width = 0;
    for (int32_t j = 0; j < enc->ncols; j++) {
        const nnx_json *c = &cols->items[j];
        nnx_csv_column *col = &enc->cols[j];
        col->index = j;
        const char *kind = nnx_json_as_string(nnx_json_get(c, "encode"), "number");
        static const char *const known[] = { "name", "encode", "categories", "fill", "indicator" };
        for (size_t f = 0; c->type == NNX_JSON_OBJECT && f < c->n; f++) {
            size_t k = 0;
            while (k < 5 && strcmp(c->keys[f], known[k]))
                k++;
            if (k == 5)
                return nnx_rt_fail(err, "%s: column %d has '%s', which this nnx cannot apply",
                                   path, (int)j + 1, c->keys[f]);
        }
        if (!(col->name = dup_str(nnx_json_as_string(nnx_json_get(c, "name"), NULL))))
            return nnx_rt_fail(err, "%s: input.columns[%d] has no name", path, (int)j);
        const nnx_json *ind = nnx_json_get(c, "indicator");
        col->indicator = ind && ind->type == NNX_JSON_BOOL && ind->boolean;
        double fill = nnx_json_as_number(nnx_json_get(c, "fill"));
        col->fill = fill == fill ? (float)fill : 0.0f;
        if (!strcmp(kind, "onehot")) {
            const nnx_json *cat = nnx_json_get(c, "categories");
            if (!cat || cat->type != NNX_JSON_ARRAY || cat->n > (size_t)INT32_MAX / 2)
                return nnx_rt_fail(err, "%s: input.columns[%d] has no categories", path, (int)j);
            col->categorical = 1;
            if (!(col->categories = calloc(cat->n ? cat->n : 1, sizeof *col->categories)))
                return nnx_rt_fail(err, "%s: out of memory", path);
            for (size_t k = 0; k < cat->n; k++) {
                const char *name = nnx_json_as_string(&cat->items[k], NULL);
                if (!name || (k && strcmp(col->categories[k - 1], name) >= 0))
                    return nnx_rt_fail(err, "%s: input.columns[%d].categories must be sorted "
                                       "strings", path, (int)j);
                if (!(col->categories[k] = dup_str(name)))
                    return nnx_rt_fail(err, "%s: out of memory", path);
                col->ncategories++;
            }
            width += col->ncategories;
        } else if (!strcmp(kind, "number")) {
            width += 1;
        } else {
            return nnx_rt_fail(err, "%s: column %d is encoded as '%s', which this nnx "
                               "cannot apply (it reads numbers and one-hot columns)", path,
                               (int)j + 1, kind);
        }
        width += col->indicator;
    }
    if (width != m->features)
        return nnx_rt_fail(err, "%s: input.columns make %lld features, not %d", path,
                           (long long)width, (int)m->features);
    enc->features = m->features;
    return nnx_csv_feature_names(enc, &m->feature_names, path, err);
}

static int read_description(nnx_model *m, const nnx_json *root, const char *path,
                            nnx_rt_error *err)
{
    const char *format = nnx_json_as_string(nnx_json_get(root, "format"), "");
    int version = 0;
    if (strcmp(format, NNX_MODEL_FORMAT))
        return nnx_rt_fail(err, "%s: not an nnx model description (format '%s')", path, format);
    if (int_field(root, "version", 1, 1000, &version, path, err) < 0)
        return -1;
    if (version > NNX_MODEL_VERSION)
        return nnx_rt_fail(err, "%s: model format version %d; this nnx reads version %d", path,
                           version, NNX_MODEL_VERSION);
    const char *task = nnx_json_as_string(nnx_json_get(root, "task"), "");
    const char *loss = nnx_json_as_string(nnx_json_get(root, "loss"), "");
    const char *output = nnx_json_as_string(nnx_json_get(root, "output"), "");
    m->task = !strcmp(task, "regression") ? NNX_MODEL_REGRESSION : NNX_MODEL_CLASSIFICATION;
    if (strcmp(task, "regression") && strcmp(task, "classification"))
        return nnx_rt_fail(err, "%s: task '%s' is not classification or regression", path, task);
    if (!strcmp(output, "softmax"))
        m->output = NNX_MODEL_SOFTMAX;
    else if (!strcmp(output, "sigmoid"))
        m->output = NNX_MODEL_SIGMOID;
    else if (!strcmp(output, "identity"))
        m->output = NNX_MODEL_IDENTITY;
    else
        return nnx_rt_fail(err, "%s: output '%s' is not softmax, sigmoid or identity", path,
                           output);
    double smooth = nnx_json_as_number(nnx_json_get(root, "label_smoothing"));
    m->smoothing = smooth >= 0 && smooth < 1 ? (float)smooth : 0;
    if (!(m->loss = dup_str(loss)))
        return nnx_rt_fail(err, "%s: out of memory", path);
    if (int_field(root, "outputs", 1, 1 << 24, &m->outputs, path, err) < 0)
        return -1;
    const nnx_json *cls = nnx_json_get(root, "classes");
    if (m->task == NNX_MODEL_CLASSIFICATION) {
        if (!cls || cls->type != NNX_JSON_ARRAY || cls->n < 1)
            return nnx_rt_fail(err, "%s: a classification model needs its classes", path);
        m->class_names = calloc(cls->n, sizeof *m->class_names);
        if (!m->class_names)
            return nnx_rt_fail(err, "%s: out of memory", path);
        m->classes = (int32_t)cls->n;
        for (size_t c = 0; c < cls->n; c++)
            if (!(m->class_names[c] = dup_str(nnx_json_as_string(&cls->items[c], NULL))))
                return nnx_rt_fail(err, "%s: classes[%zu] is not a string", path, c);
        int want = m->output == NNX_MODEL_SIGMOID ? 1 : m->classes;
        if (m->outputs != want)
            return nnx_rt_fail(err, "%s: %d outputs for %d classes", path, m->outputs,
                               (int)m->classes);
    }
    const nnx_json *in = nnx_json_get(root, "input");
    int features;
    if (int_field(in, "features", 1, 1 << 28, &features, path, err) < 0)
        return -1;
    m->features = features;
    const nnx_json *shape = nnx_json_get(in, "shape");
    if (!shape || shape->type != NNX_JSON_ARRAY || shape->n != 3)
        return nnx_rt_fail(err, "%s: input.shape must be [C, H, W]", path);
    for (int i = 0; i < 3; i++)
        m->shape[i] = (int32_t)nnx_json_as_number(&shape->items[i]);
    if ((int64_t)m->shape[0] * m->shape[1] * m->shape[2] != m->features)
        return nnx_rt_fail(err, "%s: input.shape does not hold %d features", path, features);
    if (!(m->source = dup_str(nnx_json_as_string(nnx_json_get(in, "source"), "synthetic"))))
        return nnx_rt_fail(err, "%s: out of memory", path);
    const char *label = nnx_json_as_string(nnx_json_get(in, "label"), NULL);
    if (label && !(m->label = dup_str(label)))
        return nnx_rt_fail(err, "%s: out of memory", path);
    const nnx_json *hdr = nnx_json_get(in, "header");
    m->header = !hdr || hdr->type != NNX_JSON_BOOL || hdr->boolean;
    double li = nnx_json_as_number(nnx_json_get(in, "label_index"));
    m->label_index = li >= 0 && li < 1e9 ? (int)li : -1;
    const char *delim = nnx_json_as_string(nnx_json_get(in, "delimiter"), ",");
    m->delimiter = delim[0] ? delim[0] : ',';
    const nnx_json *cols = nnx_json_get(in, "columns");
    if (cols)
        return read_columns(m, cols, nnx_json_as_string(nnx_json_get(in, "missing"), "error"),
                            path, err);
    return 0;
}

/* --- loading ------------------------------------------------------------------------ */

/* Why a run has no weights, from its summary.json. */
static int no_weights(const char *dir, nnx_rt_error *err)
{
    nnx_rt_error jerr;
    bool missing = false;
    nnx_json *s = read_json(dir, "summary.json", &missing, &jerr);
    if (!s)
        return nnx_rt_fail(err, "%s: no weights.nnxw and %s: not a finished run directory", dir,
                           missing ? "no summary.json" : jerr.msg);
    const char *status = nnx_json_as_string(nnx_json_get(s, "status"), "unknown");
    const char *msg = nnx_json_as_string(nnx_json_get(s, "status_message"), "");
    if (!strcmp(status, "running"))
        nnx_rt_fail(err, "%s: no weights.nnxw yet: the run is still running (or was killed "
                    "outright before it ended)", dir);
    else if (!strcmp(status, "completed") || !strcmp(status, "stopped"))
        nnx_rt_fail(err, "%s: no weights.nnxw: the run is %s, but its weights file is gone",
                    dir, status);
    else
        nnx_rt_fail(err, "%s: no weights.nnxw: the run is %s (no epoch's weights were kept)%s%s",
                    dir, status, *msg ? ": " : "", msg);
    nnx_json_free(s);
    return -1;
}

/* One run directory as member i of m (the description from the first). */
static int load_run(nnx_model *m, const char *dir, nnx_rt_error *err)
{
    char *wpath = nnx_path_join(dir, "weights.nnxw");
    char *mpath = nnx_path_join(dir, "model.json");
    int rc = 0;
    nnx_json *root = NULL;
    member *mb = &m->members[m->nmembers];
    memset(mb, 0, sizeof *mb);
    if (!wpath || !mpath) {
        rc = nnx_rt_fail(err, "out of memory");
        goto out;
    }
    if (!exists(wpath)) {
        rc = no_weights(dir, err);
        goto out;
    }
    bool missing;
    root = read_json(dir, "model.json", &missing, err);
    if (!root) {
        if (missing)
            nnx_rt_fail(err, "%s: no model.json beside the weights: the run was made by an nnx "
                        "without `nnx predict`; run it again to use it", dir);
        rc = -1;
        goto out;
    }
    if (m->nmembers == 0) {
        if (read_description(m, root, mpath, err) < 0) {
            rc = -1;
            goto out;
        }
    } else {
        nnx_model other = { 0 };
        rc = read_description(&other, root, mpath, err);
        if (rc == 0 && (other.features != m->features || other.outputs != m->outputs ||
                        other.output != m->output))
            rc = nnx_rt_fail(err, "%s: a member that differs from the first (%d features, %d "
                             "outputs; the first has %d, %d)", mpath, (int)other.features,
                             other.outputs, (int)m->features, m->outputs);
        description_free(&other);
        if (rc < 0)
            goto out;
    }
    int batch;
    if (int_field(root, "eval_batch", 1, 1 << 20, &batch, mpath, err) < 0) {
        rc = -1;
        goto out;
    }
    mb->dir = dup_str(dir);
    if (!mb->dir) {
        rc = nnx_rt_fail(err, "out of memory");
        goto member_fail;
    }
    if (read_norm(root, m->features, &mb->norm, mpath, err) < 0) {
        rc = -1;
        goto member_fail;
    }
    mb->net = nnx_net_open(wpath, batch, err);
    if (!mb->net) {
        rc = -1;
        goto member_fail;
    }
    if (nnx_net_in_size(mb->net) != m->features || nnx_net_out_size(mb->net) != m->outputs) {
        rc = nnx_rt_fail(err, "%s: the network takes %d features and gives %d outputs; "
                         "model.json says %d and %d", wpath, nnx_net_in_size(mb->net),
                         nnx_net_out_size(mb->net), (int)m->features, m->outputs);
        goto member_fail;
    }
    mb->batch = nnx_net_max_batch(mb->net);   /* eval_batch, or less (nnx_net_open's bound) */
    mb->buf = malloc((size_t)mb->batch * (size_t)m->features * sizeof *mb->buf);
    if (!mb->buf) {
        rc = nnx_rt_fail(err, "out of memory");
        goto member_fail;
    }
    m->nmembers++;
    goto out;
member_fail:
    free(mb->dir);
    free(mb->buf);
    nnx_norm_free(&mb->norm);
    nnx_net_free(mb->net);
    memset(mb, 0, sizeof *mb);
out:
    nnx_json_free(root);
    free(wpath);
    free(mpath);
    return rc;
}

/* The member directories of an ensemble, from its summary.json. */
static int load_ensemble(nnx_model *m, const char *dir, const nnx_json *summary,
                         nnx_rt_error *err)
{
    const nnx_json *mem = nnx_json_get(summary, "members");
    if (!mem || mem->type != NNX_JSON_ARRAY || mem->n == 0)
        return nnx_rt_fail(err, "%s: an ensemble whose summary.json lists no members", dir);
    m->members = calloc(mem->n, sizeof *m->members);
    if (!m->members)
        return nnx_rt_fail(err, "out of memory");
    nnx_rt_error first = { { 0 } };
    for (size_t i = 0; i < mem->n; i++) {
        double seed = nnx_json_as_number(nnx_json_get(&mem->items[i], "seed"));
        char sub[64];
        snprintf(sub, sizeof sub, "members/%.0f", seed);
        char *mdir = nnx_path_join(dir, sub);
        if (!mdir)
            return nnx_rt_fail(err, "out of memory");
        char *w = nnx_path_join(mdir, "weights.nnxw");
        int rc = 0;
        if (w && exists(w))
            rc = load_run(m, mdir, err);
        else if (!first.msg[0])
            no_weights(mdir, &first);
        free(w);
        free(mdir);
        if (rc < 0)
            return -1;
    }
    if (m->nmembers == 0)
        return nnx_rt_fail(err, "%s: no member of the ensemble has weights (%s)", dir, first.msg);
    return 0;
}

nnx_model *nnx_model_load(const char *dir, nnx_rt_error *err)
{
    /* as a run evaluates: OpenBLAS's own threads change the last bits */
    nnx_blas_set_threads(1);
    nnx_model *m = calloc(1, sizeof *m);
    if (!m) {
        nnx_rt_fail(err, "out of memory");
        return NULL;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        nnx_rt_fail(err, "%s: %s", dir, errno == ENOENT ? "no such directory"
                                         : "not a directory");
        nnx_model_free(m);
        return NULL;
    }
    nnx_rt_error jerr;
    nnx_json *summary = read_json(dir, "summary.json", NULL, &jerr);
    /* as nnx report tells them apart when summary.json does not say */
    char *trials = nnx_path_join(dir, "trials.csv"), *mem = nnx_path_join(dir, "members");
    const char *kind = nnx_json_as_string(nnx_json_get(summary, "kind"),
                                          trials && exists(trials) ? "search"
                                          : mem && exists(mem)     ? "ensemble" : "run");
    free(trials);
    free(mem);
    int rc;
    if (!strcmp(kind, "search")) {
        const char *winner = nnx_json_as_string(nnx_json_get(summary, "winner"), NULL);
        char *sub = winner ? malloc(strlen(winner) + 8) : NULL;
        if (!winner)
            rc = nnx_rt_fail(err, "%s: the search has no winner yet (no trial ended with a "
                             "value of its select metric)", dir);
        else if (!sub)
            rc = nnx_rt_fail(err, "out of memory");
        else {
            sprintf(sub, "trials/%s", winner);
            char *tdir = nnx_path_join(dir, sub);
            m->members = calloc(1, sizeof *m->members);
            rc = tdir && m->members ? load_run(m, tdir, err) : nnx_rt_fail(err, "out of memory");
            free(tdir);
        }
        free(sub);
    } else if (!strcmp(kind, "ensemble")) {
        rc = load_ensemble(m, dir, summary, err);
    } else {
        m->members = calloc(1, sizeof *m->members);
        rc = m->members ? load_run(m, dir, err) : nnx_rt_fail(err, "out of memory");
    }
    nnx_json_free(summary);
    for (size_t i = 0; rc == 0 && i < m->nmembers; i++)
        if (i == 0 || m->members[i].batch < m->batch)
            m->batch = m->members[i].batch;
    if (rc == 0 && m->nmembers > 1) {
        int batch = m->batch;
        m->sum = malloc((size_t)batch * (size_t)m->outputs * sizeof *m->sum);
        m->part = malloc((size_t)batch * (size_t)m->outputs * sizeof *m->part);
        if (!m->sum || !m->part)
            rc = nnx_rt_fail(err, "out of memory");
    }
    if (rc < 0) {
        nnx_model_free(m);
        return NULL;
    }
    return m;
}

int nnx_model_set_threads(nnx_model *m, int threads, nnx_rt_error *err)
{
    for (size_t i = 0; i < m->nmembers; i++)
        if (nnx_net_set_threads(m->members[i].net, threads, err) < 0)
            return -1;
    return 0;
}

/* --- getters ----------------------------------------------------------------------- */

nnx_model_task nnx_model_task_of(const nnx_model *m) { return m->task; }
nnx_model_output nnx_model_output_of(const nnx_model *m) { return m->output; }
const char *nnx_model_loss_name(const nnx_model *m) { return m->loss; }
int nnx_model_outputs(const nnx_model *m) { return m->outputs; }
int32_t nnx_model_classes(const nnx_model *m) { return m->classes; }
int32_t nnx_model_features(const nnx_model *m) { return m->features; }
const char *nnx_model_source(const nnx_model *m) { return m->source; }
const char *nnx_model_label_column(const nnx_model *m) { return m->label; }
char nnx_model_csv_delimiter(const nnx_model *m) { return m->delimiter; }
bool nnx_model_csv_header(const nnx_model *m) { return m->header; }
int nnx_model_label_index(const nnx_model *m) { return m->label_index; }

nnx_net *nnx_model_member_net(const nnx_model *m, size_t i)
{
    return i < m->nmembers ? m->members[i].net : NULL;
}

const nnx_norm *nnx_model_member_norm(const nnx_model *m, size_t i)
{
    return i < m->nmembers ? &m->members[i].norm : NULL;
}
size_t nnx_model_members(const nnx_model *m) { return m->nmembers; }

const char *nnx_model_class_name(const nnx_model *m, int32_t c)
{
    return c >= 0 && c < m->classes ? m->class_names[c] : NULL;
}

void nnx_model_shape(const nnx_model *m, int32_t shape[3])
{
    memcpy(shape, m->shape, sizeof m->shape);
}

const nnx_csv_encoding *nnx_model_encoding(const nnx_model *m)
{
    return m->enc.ncols ? &m->enc : NULL;
}

const char *nnx_model_feature_name(const nnx_model *m, int32_t j)
{
    return m->feature_names && j >= 0 && j < m->features ? m->feature_names[j] : NULL;
}

const char *nnx_model_member_dir(const nnx_model *m, size_t i)
{
    return i < m->nmembers ? m->members[i].dir : NULL;
}

/* --- predicting ---------------------------------------------------------------------- */

static enum nnx_loss_kind loss_kind(const nnx_model *m)
{
    return m->output == NNX_MODEL_SIGMOID ? NNX_LOSS_BINARY_CROSS_ENTROPY
         : m->output == NNX_MODEL_IDENTITY ? NNX_LOSS_MSE : NNX_LOSS_CROSS_ENTROPY;
}

/* One member's outputs for rows [0, n) of x (n <= its batch) into out. */
static int member_chunk(const nnx_model *m, member *mb, const float *x, int32_t n, float *out,
                        nnx_rt_error *err)
{
    size_t d = (size_t)m->features;
    memcpy(mb->buf, x, (size_t)n * d * sizeof *x);
    if (mb->norm.kind != NNX_NORM_NONE) {
        nnx_dataset view = { .n = n, .d = m->features, .x = mb->buf };
        if (nnx_norm_apply(&mb->norm, &view, err) < 0)
            return -1;
    }
    const float *y = nnx_net_forward(mb->net, mb->buf, n, false);
    if (!y)
        return nnx_rt_fail(err, "%s: forward pass failed", mb->dir);
    nnx_loss_probs(loss_kind(m), y, n, m->outputs, out);
    return 0;
}

int nnx_model_predict(nnx_model *m, const float *x, int32_t n, float *out, nnx_rt_error *err)
{
    if (n < 0 || (n > 0 && (!x || !out)))
        return nnx_rt_fail(err, "predict: bad arguments");
    size_t d = (size_t)m->features, k = (size_t)m->outputs;
    /* Rows go through in the chunks the run evaluated with, so the numbers are
     * the run's own bit for bit. */
    int batch = m->batch;
    for (int32_t first = 0; first < n; first += batch) {
        int32_t c = n - first < batch ? n - first : batch;
        const float *xi = x + (size_t)first * d;
        float *oi = out + (size_t)first * k;
        if (m->nmembers == 1) {
            if (member_chunk(m, &m->members[0], xi, c, oi, err) < 0)
                return -1;
            continue;
        }
        memset(m->sum, 0, (size_t)c * k * sizeof *m->sum);
        for (size_t i = 0; i < m->nmembers; i++) {
            if (member_chunk(m, &m->members[i], xi, c, m->part, err) < 0)
                return -1;
            for (size_t j = 0; j < (size_t)c * k; j++)
                m->sum[j] += m->part[j];
        }
        for (size_t j = 0; j < (size_t)c * k; j++)
            oi[j] = (float)(m->sum[j] / (double)m->nmembers);
    }
    return 0;
}

/* The mean loss of averaged probabilities: -log of the true class's (clamped),
 * squared error for regression. */
static double prob_loss(const nnx_model *m, const nnx_dataset *ds, const float *p)
{
    const double tiny = 1e-12;
    double sum = 0;
    for (int32_t i = 0; i < ds->n; i++) {
        const float *row = p + (size_t)i * (size_t)m->outputs;
        if (ds->kind == NNX_TARGET_REAL) {
            double e = (double)row[0] - ds->t[i];
            sum += e * e;
        } else if (m->output == NNX_MODEL_SIGMOID) {
            sum -= ds->y[i] ? log(fmax(row[0], tiny)) : log(fmax(1 - row[0], tiny));
        } else {
            sum -= log(fmax(row[ds->y[i]], tiny));
        }
    }
    return sum / ds->n;
}

int nnx_model_evaluate(nnx_model *m, const nnx_dataset *ds, float *probs, double *loss,
                       nnx_rt_error *err)
{
    bool want_class = m->task == NNX_MODEL_CLASSIFICATION;
    if (ds->n < 1 || ds->d != m->features ||
        ds->kind != (want_class ? NNX_TARGET_CLASS : NNX_TARGET_REAL))
        return nnx_rt_fail(err, "evaluate: %d rows of %d features with %s; the model takes %d "
                           "features with %s", (int)ds->n, (int)ds->d,
                           ds->kind == NNX_TARGET_CLASS ? "classes" : ds->kind == NNX_TARGET_REAL
                           ? "numeric targets" : "no labels", (int)m->features,
                           want_class ? "classes" : "numeric targets");
    if (m->nmembers > 1) {
        if (nnx_model_predict(m, ds->x, ds->n, probs, err) < 0)
            return -1;
        *loss = prob_loss(m, ds, probs);
        return 0;
    }
    /* One network: normalise a copy and evaluate it as the run did. */
    member *mb = &m->members[0];
    nnx_dataset copy = *ds;
    copy.map = NULL;            /* the copy is malloc'd: normalised in place */
    copy.norm_shift = copy.norm_scale = NULL;
    copy.x = malloc((size_t)ds->n * (size_t)ds->d * sizeof *copy.x);
    if (!copy.x)
        return nnx_rt_fail(err, "out of memory for %d rows", (int)ds->n);
    memcpy(copy.x, ds->x, (size_t)ds->n * (size_t)ds->d * sizeof *copy.x);
    int rc = mb->norm.kind != NNX_NORM_NONE ? nnx_norm_apply(&mb->norm, &copy, err) : 0;
    if (rc == 0)
        rc = nnx_evaluate(mb->net, loss_kind(m), m->smoothing, &copy, mb->batch, probs, loss,
                          err);
    free(copy.x);
    return rc;
}

int32_t nnx_model_class_of(const nnx_model *m, const float *row)
{
    if (m->task != NNX_MODEL_CLASSIFICATION)
        return -1;
    return nnx_predicted_class(row, m->outputs);
}
