/* data.h — data sets in memory: loaders (IDX, CSV, synthetic), split, normalise, batches.
 *
 * A data set is a table of n rows: float features (n×d, row-major, with an
 * optional C×H×W view of each row for convolutions) and one target per row,
 * either an int32 class label in [0, classes) or a float regression value.
 *
 * Ownership: an nnx_dataset owns x, y, t, class_names, feature_names, source_row
 * and each name string.  x is either malloc'd or lies in a read-only file
 * mapping the set owns (map, map_len: a .npy file or a cache entry, for
 * tables bigger than memory); never write through x of a mapped set.
 * Every function that fills an nnx_dataset (`out`) starts from whatever is in
 * it (ignored, not freed) and leaves it either complete or zeroed on failure,
 * so the caller frees exactly the sets that loaded.  nnx_dataset_free is safe
 * on a zeroed set and leaves it zeroed.
 *
 * Every function that can fail returns 0, or -1 after filling err (which may
 * be NULL).  Nothing here prints.
 */
#ifndef NNX_RT_DATA_H
#define NNX_RT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"
#include "nnx/rt/rng.h"

typedef enum nnx_target_kind {
    NNX_TARGET_CLASS = 0,   /* y[i] in [0, classes); t is NULL */
    NNX_TARGET_REAL,        /* t[i] a float; y is NULL, classes is 0 */
    NNX_TARGET_NONE         /* unlabelled rows: y and t are NULL, classes is 0 */
} nnx_target_kind;

typedef struct nnx_dataset {
    int32_t n;              /* rows */
    int32_t d;              /* features per row */
    float  *x;              /* n*d features, row-major; owned */
    int32_t shape[3];       /* C, H, W view of one row when has_shape (C*H*W == d) */
    int     has_shape;
    nnx_target_kind kind;
    int32_t *y;             /* n class labels (kind CLASS); owned */
    float   *t;             /* n regression targets (kind REAL); owned */
    int32_t classes;        /* number of classes (kind CLASS), else 0 */
    /* Where the classes came from, when they were renamed: the label text of
     * class c is class_names[c] (CSV string labels, sorted; CSV numbers that
     * were not already 0..k-1, sorted numerically; IDX digits kept by a class
     * filter, in the filter's order).  NULL when class c is simply label c.
     * Owned: the array and each string. */
    char  **class_names;
    /* The name of feature j (a CSV file's header), or NULL when the features
     * are unnamed (IDX pixels, synthetic points, a CSV file without a
     * header).  Owned: the array of d and each string. */
    char  **feature_names;
    /* The 0-based row of the loaded file (or generated set) that row i came
     * from, through every subset and split: source_row[i].  NULL when row i
     * is source row i.  Owned. */
    int32_t *source_row;
    /* The read-only mapping x points into (munmap'd by nnx_dataset_free),
     * or NULL when x is malloc'd.  Owned. */
    void   *map;
    size_t  map_len;
    /* A normaliser applied as rows are read instead of in place (a mapped
     * x cannot be written): every nnx_gather and nnx_evaluate reads row i
     * as (x[i*d+j] - norm_shift[j]) * norm_scale[j], the same float
     * operations nnx_norm_apply does in place.  NULL: x is read as it is.
     * Borrowed from the nnx_norm that nnx_norm_apply was given. */
    const float *norm_shift, *norm_scale;
} nnx_dataset;

/* Allocate an n×d set with room for targets of the given kind, all zero.
 * classes is recorded as given (0 for REAL). */
int  nnx_dataset_alloc(nnx_dataset *out, int32_t n, int32_t d, nnx_target_kind kind,
                       int32_t classes, nnx_rt_error *err);
void nnx_dataset_free(nnx_dataset *ds);
/* The same with x the n*d floats at x inside a read-only mapping of
 * map_len bytes at map, which the set takes over only on success (on
 * failure the caller still owns and unmaps it).  Targets are allocated. */
int  nnx_dataset_alloc_mapped(nnx_dataset *out, int32_t n, int32_t d, nnx_target_kind kind,
                              int32_t classes, void *map, size_t map_len, const float *x,
                              nnx_rt_error *err);

/* For a large table a loader is about to write whole (its x): map the pages
 * of [p, p + bytes) at once, one system call instead of a page fault per
 * 4 KB as the rows are written.  Advice only: changes no byte; nothing
 * happens where the system does not offer it. */
void nnx_table_prefault(void *p, size_t bytes);
/* Ask for transparent huge pages for the 2 MB-aligned part of p[0..bytes)
 * (before it is first written): a table written once and read in full
 * costs a TLB miss per 4 KB page otherwise. */
void nnx_table_hugepages(void *p, size_t bytes);

/* Give each row a C×H×W view; fails unless c*h*w == ds->d. */
int  nnx_dataset_set_shape(nnx_dataset *ds, int32_t c, int32_t h, int32_t w,
                           nnx_rt_error *err);

/* A new set holding copies of rows[0..m) of src, in that order (shape, kind,
 * classes, class and feature names are copied too, and source_row says where
 * each row came from).  Row indices must be in [0, n). */
int  nnx_dataset_subset(const nnx_dataset *src, const int32_t *rows, int32_t m,
                        nnx_dataset *out, nnx_rt_error *err);

/* Count of rows per class into counts[0..classes) (kind CLASS only). */
void nnx_dataset_class_counts(const nnx_dataset *ds, int32_t *counts);

/* --- loaders ----------------------------------------------------------------- */

/* IDX files (LeCun's MNIST format), gzip-compressed or plain (detected by
 * content).  images: magic 0x00000803, u8, n×rows×cols; labels: magic
 * 0x00000801, u8, n.  The counts must agree.  Pixels become floats in [0, 1]
 * (byte / 255), the shape is set to 1×rows×cols, and classes = max label + 1.
 *
 * keep/nkeep (keep may be NULL when nkeep == 0): keep only rows whose label is
 * in keep[], relabelled by position — keep = {0, 6} makes label 0 class 0 and
 * label 6 class 1; classes = nkeep and class_names records the original
 * labels ("0", "6").  A kept label that never occurs is an error. */
int nnx_load_idx(nnx_dataset *out, const char *images_path, const char *labels_path,
                 const int32_t *keep, int32_t nkeep, nnx_rt_error *err);

/* An IDX images file alone (gzip or plain), as unlabelled rows (kind NONE):
 * pixels byte / 255, shape 1×rows×cols. */
int nnx_load_idx_images(nnx_dataset *out, const char *images_path, nnx_rt_error *err);

typedef enum nnx_csv_target {
    NNX_CSV_TARGET_AUTO = 0,  /* text labels or integral numbers → classes; other numbers → REAL */
    NNX_CSV_TARGET_CLASS,     /* always classes (numbers that are not integral are an error) */
    NNX_CSV_TARGET_REAL       /* always regression (text labels are an error) */
} nnx_csv_target;

/* What a missing cell of a feature column becomes: an empty cell, or NA,
 * N/A, NaN (any case) or "?". */
typedef enum nnx_missing {
    NNX_MISSING_ERROR = 0,    /* an error naming file:line and the column */
    NNX_MISSING_MEAN,         /* the train column's mean, plus an indicator feature */
    NNX_MISSING_MEDIAN,       /* ... its median ... */
    NNX_MISSING_ZERO          /* ... 0 ... */
} nnx_missing;

/* label_index of a file without a label column (nnx_csv_probe_file only). */
#define NNX_CSV_NO_LABEL INT32_MIN

typedef struct nnx_csv_opts {
    int         header;       /* 1: the first row names the columns (default 1);
                                 -1: decide (nnx_csv_probe_file only) */
    char        delimiter;    /* default ',' */
    const char *label_name;   /* label column by header name; wins over label_index */
    int32_t     label_index;  /* 0-based label column; -1 = the last column (default) */
    nnx_csv_target target;    /* default AUTO */
    /* Feature columns of text, one-hot encoded (when an encoding is fitted):
     * the ones named here (header names), or with categorical_auto every
     * column holding a cell that is not a number. */
    const char *const *categorical;
    int32_t     ncategorical;
    int         categorical_auto;
    nnx_missing missing;      /* default ERROR */
} nnx_csv_opts;

void nnx_csv_opts_default(nnx_csv_opts *o);

/* How the feature columns of a table become the features of a row, fitted
 * on the train file and applied as they are to every other file (valid,
 * test, new rows to predict):
 *   a number column      its value (a missing cell: `fill`), then, when
 *                        the train column had a missing cell, an indicator
 *                        feature: 1 for a missing cell, else 0;
 *   a categorical column one feature per category seen in train (sorted
 *                        by strcmp): 1 for the row's category, 0 for the
 *                        others; a category train never had, or a missing
 *                        cell, gives all zeros; then the indicator, as above.
 * Feature names (with a header): "age", "age:missing", "color=red".
 * Ownership: the encoding owns cols and every string; free it with
 * nnx_csv_encoding_free (safe on a zeroed one, which it leaves zeroed). */
typedef struct nnx_csv_column {
    char   *name;          /* the header's name; NULL without a header */
    int32_t index;         /* its 0-based column in the file it was fitted on */
    int     categorical;
    char  **categories;    /* categorical: sorted */
    int32_t ncategories;
    int     indicator;     /* a missing-cell indicator feature follows */
    float   fill;          /* a number column's value for a missing cell */
} nnx_csv_column;

typedef struct nnx_csv_encoding {
    nnx_csv_column *cols;  /* the feature columns in file order (the label left out) */
    int32_t ncols;
    int32_t features;      /* features per row they make */
    nnx_missing missing;
} nnx_csv_encoding;

void nnx_csv_encoding_free(nnx_csv_encoding *enc);
/* 1 when it does more than read every column as a number (a categorical
 * column, an indicator or a policy for missing cells). */
int  nnx_csv_encoding_is_plain(const nnx_csv_encoding *enc);

/* The names of the features an encoding makes (enc->features strings, the
 * caller frees each and the array), or *names NULL when its columns have
 * no names.  path names the file in an error. */
int nnx_csv_feature_names(const nnx_csv_encoding *enc, char ***names, const char *path,
                          nnx_rt_error *err);

/* What applying an encoding met: cells of a category train never had (all
 * zeros), and missing cells filled in; the first unseen one, as an example. */
typedef struct nnx_csv_stats {
    int64_t unseen, imputed;
    char    example[160];   /* "line 7, \"city\": \"Oslo\"" */
} nnx_csv_stats;

/* A CSV table: every column but the label is a numeric feature.  Fields may
 * be "quoted" (with "" for a quote); surrounding blanks are ignored; empty
 * lines are skipped; CRLF reads like LF.  Class labels: text labels (any
 * non-number) are mapped to classes in sorted (strcmp) order; integral
 * numbers that are exactly 0..k-1 are used as classes; other integral numbers
 * are mapped in numeric order; either mapping is recorded in class_names.
 * Errors name the file, the 1-based line and the column (by name when there is
 * a header): a bad number, a ragged row, an empty file, a missing label
 * column, a header-only file. */
int nnx_load_csv(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                 nnx_rt_error *err);

/* nnx_load_csv with the feature columns encoded (see nnx_csv_encoding).
 * When enc is zeroed, the encoding is fitted on this file (opts'
 * categorical and missing) and left in enc for the caller to free; else enc
 * is applied: its columns are found by name when both it and the file have
 * names (any order), else by position, and a column it lacks is an error.
 * stats (may be NULL) counts unseen categories and filled cells.  Errors
 * also name file:line and the column for a text cell in a number column
 * (saying to declare it categorical) and a missing cell under
 * NNX_MISSING_ERROR. */
int nnx_load_csv_encoded(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                         nnx_csv_encoding *enc, nnx_csv_stats *stats, nnx_rt_error *err);

/* What nnx check learns of a CSV file before training: it reads the first
 * max_bytes (whole records), checks them as nnx_load_csv_encoded would
 * (ragged rows, the label column, text in number columns, missing cells,
 * categorical = [...] names) and fits the encoding on them; then it counts
 * the lines of the rest for at most `seconds`.  With opts->header < 0 it
 * first decides whether the first record is a header: not when every field
 * of it is a number (and the file has a second record).  The caller frees
 * enc (nnx_csv_encoding_free). */
typedef struct nnx_csv_probe {
    int     header;        /* the header decision (as given, or detected) */
    int     header_detected; /* 1: the first record was all numbers, read as data */
    size_t  ncol;          /* fields per record */
    int64_t rows;          /* data rows: exact when complete, else at least this many */
    int     complete;      /* every byte was read: rows and enc are the file's own */
    int     counted;       /* rows counts the whole file (lines, within the time) */
    long    label_col;     /* 0-based */
    nnx_csv_encoding enc;  /* fitted on the rows read */
} nnx_csv_probe;

int nnx_csv_probe_file(const char *path, const nnx_csv_opts *opts, size_t max_bytes,
                       double seconds, nnx_csv_probe *out, nnx_rt_error *err);

/* The header row of a CSV file (opts: delimiter; header is assumed): its
 * column names in *names (*n of them; the caller frees each and the array).
 * Errors as nnx_load_csv's (an empty file, an unclosed quote). */
int nnx_csv_header(const char *path, const nnx_csv_opts *opts, char ***names, size_t *n,
                   nnx_rt_error *err);

/* Chosen columns of a CSV file as unlabelled rows (kind NONE): feature j of
 * out is column cols[j] (0-based; any order, in range), feature_names are
 * the header's names of those columns (when opts->header).  With
 * label_col >= 0 that column's cells (trimmed text) are returned in *labels,
 * one per row (the caller frees each and the array), else *labels is NULL.
 * Errors as nnx_load_csv's: a non-number in a chosen column names the file,
 * line and column; a ragged row; no data rows. */
int nnx_load_csv_columns(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                         const int32_t *cols, int32_t ncols, int32_t label_col, char ***labels,
                         nnx_rt_error *err);

/* The same with an encoding applied (as nnx_load_csv_encoded applies it):
 * column cols[j] is read as enc->cols[j], and out has enc->features
 * features named as the encoding names them. */
int nnx_load_csv_columns_encoded(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                                 const int32_t *cols, const nnx_csv_encoding *enc,
                                 int32_t label_col, char ***labels, nnx_csv_stats *stats,
                                 nnx_rt_error *err);

/* NumPy .npy files (format 1.0 to 3.0, C order; dtypes float32, float64,
 * uint8, int32, int64, little-endian): x holds the rows — (n, d) features,
 * (n, H, W) images (shape 1×H×W) or (n, C, H, W) (shape C×H×W) — and y one
 * value per row, (n,) or (n, 1): class labels 0, 1, ... (classes = max + 1)
 * or, with real, regression targets; y_path NULL: no y, rows without targets
 * (NNX_TARGET_NONE, as nnx predict reads them).  Errors name the file: a bad magic or
 * header, another dtype, Fortran order, truncation, row counts that differ,
 * a label that is not a class, a value that is not a finite float. */
int nnx_load_npy(nnx_dataset *out, const char *x_path, const char *y_path, int real,
                 nnx_rt_error *err);

/* What a .npy file's header says, read without its data (nnx check). */
typedef struct nnx_npy_info {
    int     ndim;
    int64_t dims[4];
    int     type;           /* internal dtype code */
    size_t  item;           /* bytes per value */
    size_t  offset;         /* where the data starts */
    size_t  count;          /* values */
} nnx_npy_info;
int nnx_npy_probe(const char *path, nnx_npy_info *out, nnx_rt_error *err);

/* Synthetic sets from the NNX_STREAM_DATA stream of seed: the same arguments
 * give the same bits.
 *
 * spirals: n 2-D points on `classes` interleaved arms (the CS231n spiral:
 * radius r in [0, 1], angle 4r + class·2π/classes, plus noise·N(0,1) on the
 * angle), n/classes per class (the first n % classes classes get one more).
 * blobs: n points in `features` dimensions around `classes` centres drawn
 * uniformly in [-10, 10]^features, each coordinate centre + spread·N(0,1).
 * Rows come out shuffled. */
int nnx_make_spirals(nnx_dataset *out, int32_t n, int32_t classes, double noise,
                     uint64_t seed, nnx_rt_error *err);
int nnx_make_blobs(nnx_dataset *out, int32_t n, int32_t classes, int32_t features,
                   double spread, uint64_t seed, nnx_rt_error *err);

/* --- split --------------------------------------------------------------------- */

/* Hold out round(fraction·n) rows of src (0 < fraction < 1) as valid and keep
 * the rest as train, drawn from the NNX_STREAM_SPLIT stream of seed.  With
 * stratify (classes only; ignored for REAL), each class gives round(fraction ·
 * its count) rows (at least 1 when the class has 2 or more rows) so both parts
 * keep the class proportions.  Rows keep their original order within each
 * part.  Fails when either part would be empty. */
int nnx_split(const nnx_dataset *src, double fraction, int stratify, uint64_t seed,
              nnx_dataset *train, nnx_dataset *valid, nnx_rt_error *err);

/* --- normalisation --------------------------------------------------------------- */

typedef enum nnx_norm_kind {
    NNX_NORM_NONE = 0,
    NNX_NORM_STANDARD,      /* (x - mean) / std  (population std) */
    NNX_NORM_MINMAX         /* (x - min) / (max - min), into [0, 1] on the training set */
} nnx_norm_kind;

/* What the statistics are taken over, decided by the training set at fit time:
 *   - a set with a C×H×W shape (images): per channel, over every row and
 *     every H×W position — torchvision's Normalize(mean, std), so a pixel that
 *     is almost always 0 is not blown up by its tiny own std;
 *   - otherwise: per feature (column), as sklearn's StandardScaler/MinMaxScaler.
 * Either way the result is stored per feature: x' = (x - shift[j]) * scale[j].
 * A constant feature or channel (std or range 0, or below 1e-12 of its
 * magnitude) gets scale 1, so it maps to 0 on the training set, never NaN.
 * Owns shift and scale. */
typedef struct nnx_norm {
    nnx_norm_kind kind;
    int32_t d;
    int     per_channel;    /* 1 when fitted per channel (the set had a shape) */
    float  *shift;          /* d values */
    float  *scale;          /* d values */
} nnx_norm;

/* Fit on the training set only (statistics in double). */
int  nnx_norm_fit(nnx_norm *nm, nnx_norm_kind kind, const nnx_dataset *train,
                  nnx_rt_error *err);
/* Apply in place to any set with the same d (train, valid, test); to a
 * mapped set (ds->map) as rows are read: ds->norm_shift/norm_scale borrow
 * nm's arrays, which must outlive ds. */
int  nnx_norm_apply(const nnx_norm *nm, nnx_dataset *ds, nnx_rt_error *err);
void nnx_norm_free(nnx_norm *nm);

/* --- epochs and batches ---------------------------------------------------------- */

/* The order of the rows in epoch `epoch` (0-based): a permutation of 0..n-1
 * written into order[0..n), a pure function of (seed, epoch) drawn from the
 * NNX_STREAM_SHUFFLE stream, so a resumed run sees the same order. */
void nnx_epoch_order(int32_t *order, int32_t n, uint64_t seed, int32_t epoch);

/* Light augmentation of training images (nnx_augment_batch). */
typedef struct nnx_augment {
    int     flip;           /* 1: mirror each image left-right with probability 1/2 */
    int32_t shift;          /* > 0: move each image by dx, dy drawn uniformly from
                               [-shift, shift], repeating the edge pixels; 0: off */
} nnx_augment;

/* Augment, in place, the m images of c×h×w floats at x: for each image one
 * draw of (flip, dx, dy) applied to all its channels.  A pure function of
 * (seed, epoch, batch), drawn from the NNX_STREAM_AUGMENT stream, so a
 * resumed run sees the same images.  tmp holds h*w floats.  No allocation. */
void nnx_augment_batch(const nnx_augment *a, float *x, int32_t m, int32_t c, int32_t h,
                       int32_t w, uint64_t seed, int32_t epoch, int32_t batch, float *tmp);

/* Copy rows[0..m) of ds into caller buffers (normalised when ds reads through
 * norm_shift/norm_scale): x_out (m*d floats), and y_out
 * (m labels, kind CLASS) or t_out (m targets, kind REAL); the other target
 * pointer may be NULL.  No allocation: call it in the step loop. */
void nnx_gather(const nnx_dataset *ds, const int32_t *rows, int32_t m,
                float *x_out, int32_t *y_out, float *t_out);
/* The same, the rows shared by a team of threads (nnx_net_team; NULL = the
 * caller alone): each row is copied the same way by whichever thread. */
struct nnx_team;
void nnx_gather_on(const nnx_dataset *ds, const int32_t *rows, int32_t m,
                   float *x_out, int32_t *y_out, float *t_out, struct nnx_team *team);
/* Gathering a batch while the caller trains on another: nnx_gather_start
 * hands the rows' features to the team's idle workers as background work
 * (a few kilobytes a unit), nnx_gather_finish copies what they have not
 * taken, then the targets, and returns when the buffers hold what
 * nnx_gather would have put there.  Until then x_out is the workers' and
 * *g, which holds the job, must stay where it is; y_out and t_out are
 * written by finish alone.  A NULL team gathers it all at start. */
typedef struct nnx_gather_ahead {
    const nnx_dataset *ds;
    const int32_t *rows;
    int32_t m, unit_rows;
    float *x;
    int32_t *y;
    float *t;
    struct nnx_team *team;
} nnx_gather_ahead;
void nnx_gather_start(nnx_gather_ahead *g, const nnx_dataset *ds, const int32_t *rows,
                      int32_t m, float *x_out, int32_t *y_out, float *t_out,
                      struct nnx_team *team);
void nnx_gather_finish(nnx_gather_ahead *g);
/* The features of rows first..first+m of ds into x_out (m*d floats), as
 * nnx_gather reads them. */
void nnx_gather_range(const nnx_dataset *ds, int32_t first, int32_t m, float *x_out);

#endif
