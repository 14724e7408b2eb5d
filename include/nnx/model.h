/* model.h — a trained model out of a run directory: load it, read new rows for it, predict.
 *
 * For programs that serve a model nnx trained, without the language front
 * end: `nnx predict` and `nnx eval` are built on it.
 *
 *     nnx_rt_error err;
 *     nnx_model *m = nnx_model_load("runs/baseline-1a2b3c", &err);
 *     if (!m) { fprintf(stderr, "%s\n", err.msg); return 2; }
 *     nnx_dataset rows;                                  // raw, un-normalised rows
 *     if (nnx_model_read_csv(m, "new.csv", false, &rows, NULL, &err) < 0) ...
 *     float *p = malloc((size_t)rows.n * nnx_model_outputs(m) * sizeof *p);
 *     nnx_model_predict(m, rows.x, rows.n, p, &err);     // probabilities (or values)
 *     int32_t c = nnx_model_class_of(m, p);              // the first row's class
 *     printf("%s\n", nnx_model_class_name(m, c));
 *     nnx_dataset_free(&rows); free(p); nnx_model_free(m);
 *
 * What is loaded.  A run directory (model.json + weights.nnxw, see
 * docs/run-directory.md); a search directory: its winner (summary.json
 * "winner", trials/<winner>); an ensemble directory: every member
 * (members/<seed>) that has weights, whose probabilities are averaged (the
 * mean over members in double, rounded to float — as the ensemble's own
 * metrics are computed from probs_*.f32).
 *
 * Inputs are the raw feature rows the training data had before
 * normalisation: a CSV file's numbers in the model's column order, or an
 * IDX file's pixels as byte / 255.  The model applies the normalisation
 * fitted on its train split itself.
 *
 * Outputs, nnx_model_outputs(m) floats per row:
 *   cross_entropy          softmax probabilities, one per class
 *   binary_cross_entropy   one value, P(class 1) (class 0 is 1 - p)
 *   mse                    the predicted value
 *
 * Errors are values: every function that can fail returns 0 (or a pointer)
 * and fills err (which may be NULL) with a message naming the file; nothing
 * prints or exits.  A model is one thread's object (predict uses its
 * network's buffers).  Ownership: the caller owns the nnx_model
 * (nnx_model_free) and every nnx_dataset filled here (nnx_dataset_free);
 * strings returned by the getters are borrowed from the model.
 */
#ifndef NNX_MODEL_H
#define NNX_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/rt/data.h"
#include "nnx/rt/tabcache.h"
#include "nnx/util/error.h"

/* model.json's "format" and "version" (the version grows when a field's
 * meaning changes; new fields may be added without it). */
#define NNX_MODEL_FORMAT  "nnx-model"
#define NNX_MODEL_VERSION 1

typedef struct nnx_model nnx_model;

typedef enum nnx_model_task {
    NNX_MODEL_CLASSIFICATION,
    NNX_MODEL_REGRESSION
} nnx_model_task;

/* How the network's outputs become nnx_model_predict's values. */
typedef enum nnx_model_output {
    NNX_MODEL_SOFTMAX,      /* cross_entropy */
    NNX_MODEL_SIGMOID,      /* binary_cross_entropy: one output, P(class 1) */
    NNX_MODEL_IDENTITY      /* mse */
} nnx_model_output;

/* Load a run, search or ensemble directory (see above).  Sets the BLAS to
 * one thread (nnx_blas_set_threads(1), process-wide), as a run does, so
 * that the predictions are the run's own bit for bit.  A run without
 * weights.nnxw is an error saying the run's status from summary.json
 * (running, failed, diverged, interrupted) and its message. */
nnx_model *nnx_model_load(const char *dir, nnx_rt_error *err);
void       nnx_model_free(nnx_model *m);   /* NULL is fine */

/* Threads each member's network runs on (1 by default); results do not
 * depend on it.  0, or -1 with err. */
int nnx_model_set_threads(nnx_model *m, int threads, nnx_rt_error *err);

/* --- what the model is ------------------------------------------------------- */

nnx_model_task   nnx_model_task_of(const nnx_model *m);
nnx_model_output nnx_model_output_of(const nnx_model *m);
const char      *nnx_model_loss_name(const nnx_model *m);  /* "cross_entropy", ... */
/* Values per row nnx_model_predict writes. */
int         nnx_model_outputs(const nnx_model *m);
/* Classes (2 for binary_cross_entropy; 0 for regression) and their names as
 * the run recorded them ("0", "1", ... when the labels were 0..k-1). */
int32_t     nnx_model_classes(const nnx_model *m);
const char *nnx_model_class_name(const nnx_model *m, int32_t c);
/* Raw features per row, and the C×H×W view the network reads. */
int32_t     nnx_model_features(const nnx_model *m);
void        nnx_model_shape(const nnx_model *m, int32_t shape[3]);
/* The name of feature j (a CSV training file's column), or NULL when the
 * features are unnamed (IDX pixels, synthetic data). */
const char *nnx_model_feature_name(const nnx_model *m, int32_t j);
/* How a CSV training file's columns become the features (data.h,
 * nnx_csv_encoding: numbers, one-hot categories, filled missing cells),
 * or NULL when the features are unnamed.  nnx_model_read_csv applies it. */
const nnx_csv_encoding *nnx_model_encoding(const nnx_model *m);
/* The training data's source kind: "csv", "idx" or "synthetic". */
const char *nnx_model_source(const nnx_model *m);
/* The CSV label column of the training file by name (NULL without a header
 * row) and by 0-based index (-1 when unknown: not a CSV source); how the file
 * was read (delimiter, header row). */
const char *nnx_model_label_column(const nnx_model *m);
int         nnx_model_label_index(const nnx_model *m);
char        nnx_model_csv_delimiter(const nnx_model *m);
bool        nnx_model_csv_header(const nnx_model *m);
/* Member run directories (1 for a run or a search winner). */
size_t      nnx_model_members(const nnx_model *m);
const char *nnx_model_member_dir(const nnx_model *m, size_t i);
/* Member i's network (borrowed; rebuilt from its weights.nnxw, compiled for
 * its eval_batch rows) and the normalisation its rows get first (borrowed;
 * kind NNX_NORM_NONE when none): for walking the layers
 * (nnx_net_layer_info, nnx_net_params, nnx_net_state), as an exporter does.
 * NULL when i is out of range. */
struct nnx_net  *nnx_model_member_net(const nnx_model *m, size_t i);
const nnx_norm  *nnx_model_member_norm(const nnx_model *m, size_t i);

/* --- predicting ------------------------------------------------------------- */

/* n raw rows x (n × nnx_model_features floats) into out (n ×
 * nnx_model_outputs floats).  x is not modified.  0, or -1 with err. */
int nnx_model_predict(nnx_model *m, const float *x, int32_t n, float *out, nnx_rt_error *err);

/* Predict a labelled set of raw rows (kind CLASS for a classification model,
 * REAL for a regression; out of nnx_model_read_csv/_idx with labels) into
 * probs (n × nnx_model_outputs floats) and its mean loss — the run's own
 * loss, label smoothing included, computed as the run computed its test
 * loss (for an ensemble: the loss of the averaged probabilities, as the
 * ensemble's metrics).  ds is not modified.  0, or -1 with err. */
int nnx_model_evaluate(nnx_model *m, const nnx_dataset *ds, float *probs, double *loss,
                       nnx_rt_error *err);

/* The class of one row's outputs: the largest probability (the first on a
 * tie), or p >= 0.5 for a sigmoid output — as the accuracy metric decides.
 * -1 for regression. */
int32_t nnx_model_class_of(const nnx_model *m, const float *row);

/* --- reading new rows --------------------------------------------------------- */

/* What a CSV file had beyond the model's columns (for a note to the user). */
typedef struct nnx_model_csv_notes {
    char  **ignored;        /* columns the model does not read (not the label); owned */
    size_t  nignored;
    nnx_csv_stats stats;    /* categories the training file lacked, filled cells */
} nnx_model_csv_notes;
void nnx_model_csv_notes_free(nnx_model_csv_notes *notes);

/* Rows for the model from a CSV file with a header row: the model's feature
 * columns by name, in any order, encoded as the training file's were
 * (nnx_model_encoding: one-hot categories, unseen ones all zeros and counted
 * in notes->stats; missing cells filled as in training) (a model with unnamed features reads the
 * file's columns in order, the label column left out).  Other columns are
 * skipped and listed in notes (may be NULL).  With labels, the training
 * file's label column must be present and becomes the targets (classes by
 * the model's class names; a label the model does not know is an error;
 * numbers for regression); without, the label column (if present) is
 * skipped and out is unlabelled (kind NONE).  Errors: a missing column,
 * named, with the closest column of the file when one is close; a cell that
 * is not a number (file:line, column); a ragged row.  The load goes through
 * the parsed-data cache in cache_dir (NULL: none; see nnx/rt/tabcache.h),
 * keyed by the file, the columns read and the model's encoding and classes;
 * use (may be NULL) counts what the cache did and its warnings. */
int nnx_model_read_csv(const nnx_model *m, const char *path, bool labels, nnx_dataset *out,
                       nnx_model_csv_notes *notes, const char *cache_dir, nnx_tabcache_use *use,
                       nnx_rt_error *err);

/* Rows for the model from an IDX images file (gzip or plain), and its labels
 * file when labels_path is not NULL (classes by the model's class names).
 * Images of another size than the model's input are an error.  Through the
 * cache in cache_dir as nnx_model_read_csv. */
int nnx_model_read_idx(const nnx_model *m, const char *images_path, const char *labels_path,
                       nnx_dataset *out, const char *cache_dir, nnx_tabcache_use *use,
                       nnx_rt_error *err);

/* Rows for the model from a NumPy .npy file of features (as the npy(...)
 * data source reads it: (n, d), (n, H, W) or (n, C, H, W)), and a .npy file
 * of labels when y_path is not NULL (class v is the model's class named "v";
 * a regression model reads targets).  Another row size than the model's
 * input is an error. */
int nnx_model_read_npy(const nnx_model *m, const char *x_path, const char *y_path,
                       nnx_dataset *out, nnx_rt_error *err);

/* 1 when the file begins with the .npy magic, 0 when not, -1 with err when
 * it cannot be read. */
int nnx_model_is_npy(const char *path, nnx_rt_error *err);

/* 1 when the file looks like an IDX file (gzip-compressed, or the IDX magic
 * 0x0000080N at its start), 0 when not, -1 with err when it cannot be read. */
int nnx_model_is_idx(const char *path, nnx_rt_error *err);

#endif
