/* model_write.c — a run's model.json: what inference needs beside weights.nnxw (format in include/nnx/model.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/util/json.h"
#include "nnx/model.h"
#include "nnx/util/file.h"
#include "run/run_int.h"

static const char *loss_name(nnx_exp_loss_kind k)
{
    return k == NNX_XLOSS_BCE ? "binary_cross_entropy" : k == NNX_XLOSS_MSE ? "mse"
                                                                           : "cross_entropy";
}

static const char *output_name(nnx_exp_loss_kind k)
{
    return k == NNX_XLOSS_BCE ? "sigmoid" : k == NNX_XLOSS_MSE ? "identity" : "softmax";
}

static const char *source_name(nnx_exp_src_kind k)
{
    return k == NNX_XSRC_IDX ? "idx" : k == NNX_XSRC_CSV ? "csv" : k == NNX_XSRC_NPY ? "npy"
                                                                                 : "synthetic";
}

static void floats(nnx_json_writer *w, const char *key, const float *v, int32_t n)
{
    nnx_json_key(w, key);
    nnx_json_begin_array(w);
    for (int32_t i = 0; i < n; i++)
        nnx_json_number(w, (double)v[i]);
    nnx_json_end_array(w);
}

static const char *missing_name(nnx_missing m)
{
    return m == NNX_MISSING_MEAN ? "mean" : m == NNX_MISSING_MEDIAN ? "median"
         : m == NNX_MISSING_ZERO ? "zero" : "error";
}

/* A CSV train file's columns and how each became features (data.h,
 * nnx_csv_encoding), for nnx predict to apply to new rows. */
static void encoded_columns(nnx_json_writer *w, const nnx_csv_encoding *enc)
{
    nnx_json_key_string(w, "missing", missing_name(enc->missing));
    nnx_json_key(w, "columns");
    nnx_json_begin_array(w);
    for (int32_t j = 0; j < enc->ncols; j++) {
        const nnx_csv_column *c = &enc->cols[j];
        nnx_json_begin_object(w);
        nnx_json_key_string(w, "name", c->name);
        nnx_json_key_string(w, "encode", c->categorical ? "onehot" : "number");
        if (c->categorical) {
            nnx_json_key(w, "categories");
            nnx_json_begin_array(w);
            for (int32_t k = 0; k < c->ncategories; k++)
                nnx_json_string(w, c->categories[k]);
            nnx_json_end_array(w);
        } else if (enc->missing != NNX_MISSING_ERROR) {
            nnx_json_key_number(w, "fill", (double)c->fill);
        }
        if (c->indicator)
            nnx_json_key_bool(w, "indicator", true);
        nnx_json_end_object(w);
    }
    nnx_json_end_array(w);
}

/* The header's name of column c of a CSV source with a header row, or NULL
 * (malloc'd). */
static char *header_name(const nnx_exp_source *src, int c)
{
    if (!src->header || c < 0)
        return NULL;
    nnx_csv_opts o;
    nnx_csv_opts_default(&o);
    o.delimiter = src->delimiter ? src->delimiter : ',';
    char **names = NULL, *name = NULL;
    size_t n = 0;
    if (nnx_csv_header(src->path, &o, &names, &n, NULL) == 0)
        for (size_t i = 0; i < n; i++) {
            if ((int)i == c)
                name = names[i];
            else
                free(names[i]);
        }
    free(names);
    return name;
}

static void input(nnx_json_writer *w, const nnx_experiment *e, const nnx_dataset *train,
                  const nnx_csv_encoding *enc, const int shape[3])
{
    const nnx_exp_source *src = &e->data.split[NNX_XSPLIT_TRAIN];
    nnx_json_key(w, "input");
    nnx_json_begin_object(w);
    nnx_json_key_string(w, "source", source_name(src->kind));
    nnx_json_key_int(w, "features", train->d);
    nnx_json_key(w, "shape");
    nnx_json_begin_array(w);
    for (int i = 0; i < 3; i++)
        nnx_json_int(w, shape[i]);
    nnx_json_end_array(w);
    if (src->kind == NNX_XSRC_CSV) {
        char delim[2] = { src->delimiter ? src->delimiter : ',', 0 };
        nnx_json_key_string(w, "delimiter", delim);
        nnx_json_key_bool(w, "header", src->header);
        if (src->label_name) {
            nnx_json_key_string(w, "label", src->label_name);
        } else {                    /* by index: its name too, when there is a header */
            nnx_json_key_int(w, "label_index", src->label_index);
            char *name = header_name(src, src->label_index);
            if (name)
                nnx_json_key_string(w, "label", name);
            free(name);
        }
    }
    if (enc->cols && enc->cols[0].name) {
        encoded_columns(w, enc);
    } else if (train->feature_names) {
        nnx_json_key(w, "columns");
        nnx_json_begin_array(w);
        for (int32_t j = 0; j < train->d; j++) {
            nnx_json_begin_object(w);
            nnx_json_key_string(w, "name", train->feature_names[j]);
            nnx_json_key_string(w, "encode", "number");
            nnx_json_end_object(w);
        }
        nnx_json_end_array(w);
    }
    nnx_json_end_object(w);
}

int nnx_run_model_write(const char *dir, const nnx_experiment *e, const nnx_run_data *d,
                        int outputs, int eval_batch, nnx_rt_error *err)
{
    const nnx_dataset *train = &d->split[NNX_XSPLIT_TRAIN];
    int shape[3] = { train->d, 1, 1 };
    if (e->data.shape.rank == 3)
        for (int i = 0; i < 3; i++)
            shape[i] = e->data.shape.d[i];
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 2);
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "format", NNX_MODEL_FORMAT);
    nnx_json_key_int(&w, "version", NNX_MODEL_VERSION);
    bool cls = train->kind == NNX_TARGET_CLASS;
    nnx_json_key_string(&w, "task", cls ? "classification" : "regression");
    nnx_json_key_string(&w, "loss", loss_name(e->loss.kind));
    nnx_json_key_number(&w, "label_smoothing", (double)(float)e->loss.label_smoothing);
    nnx_json_key_string(&w, "output", output_name(e->loss.kind));
    nnx_json_key_int(&w, "outputs", outputs);
    nnx_json_key(&w, "classes");
    if (cls) {
        nnx_json_begin_array(&w);
        for (int32_t c = 0; c < train->classes; c++) {
            char num[24];
            snprintf(num, sizeof num, "%d", (int)c);
            nnx_json_string(&w, train->class_names ? train->class_names[c] : num);
        }
        nnx_json_end_array(&w);
    } else {
        nnx_json_null(&w);
    }
    input(&w, e, train, &d->enc, shape);
    nnx_json_key(&w, "normalize");
    nnx_json_begin_object(&w);
    const nnx_norm *nm = &d->norm;
    nnx_json_key_string(&w, "kind", nm->kind == NNX_NORM_STANDARD ? "standard"
                                    : nm->kind == NNX_NORM_MINMAX ? "minmax" : "none");
    if (nm->kind != NNX_NORM_NONE) {
        nnx_json_key_string(&w, "fitted", nm->per_channel ? "per_channel" : "per_feature");
        floats(&w, "shift", nm->shift, nm->d);
        floats(&w, "scale", nm->scale, nm->d);
    }
    nnx_json_end_object(&w);
    nnx_json_key_int(&w, "eval_batch", eval_batch);
    nnx_json_key_string(&w, "weights", "weights.nnxw");
    nnx_json_end_object(&w);
    char *path = nnx_path_join(dir, "model.json");
    if (!path) {
        nnx_json_writer_free(&w);
        return nnx_rt_fail(err, "out of memory");
    }
    int rc = nnx_json_writer_save(&w, path, 0, err);
    free(path);
    return rc;
}
