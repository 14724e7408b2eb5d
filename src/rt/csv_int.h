/* csv_int.h — what csv.c (reading a table) hands csv_encode.c (turning its
 * columns into features): the reader's rows (csv_scan.h), one slot per
 * feature column, and the encoding fitted on them or applied to them. */
#ifndef NNX_RT_CSV_INT_H
#define NNX_RT_CSV_INT_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/rt/data.h"
#include "rt/csv_scan.h"

/* categorical = [...] names columns of the header, none of them the label. */
int nnx_csv_check_named(const nnx_csv_head *h, int header, const int32_t *cols, int32_t ncols,
                        const nnx_csv_opts *o, const char *path, nnx_rt_error *err);

/* Is column c named in o->categorical? */
int nnx_csv_named_categorical(const nnx_csv_head *h, int header, size_t c,
                              const nnx_csv_opts *o);

/* Fit an encoding of the columns cols[0..ncols) that s read into slots
 * 0..ncols-1 (o: missing) into enc. */
int nnx_csv_fit(const nnx_csv_scan *s, const int32_t *cols, int32_t ncols,
                const nnx_csv_opts *o, nnx_csv_encoding *enc, nnx_rt_error *err);

/* Find enc's columns in the header (by name when both have names, else the
 * columns in order, skipping label_col): cols[j] for enc->cols[j]. */
int nnx_csv_match(const nnx_csv_head *h, int header, const nnx_csv_encoding *enc,
                  long label_col, int32_t *cols, const char *path, nnx_rt_error *err);

/* Turn s->x (s->n rows of enc->ncols slots) into enc->features features per
 * row, in place: categories one-hot, missing cells filled and flagged. */
int nnx_csv_expand(nnx_csv_scan *s, const int32_t *cols, const nnx_csv_encoding *enc,
                   nnx_csv_stats *stats, nnx_rt_error *err);

/* How nnx_csv_load_tuned reads: threads (0: one per online processor) and
 * block size (0: 4 MB; SIZE_MAX: the whole file as one block on one
 * thread, the reference the tests compare the others with). */
typedef struct nnx_csv_tuning {
    int    threads;
    size_t block;
} nnx_csv_tuning;

/* nnx_load_csv_encoded, tuned (NULL: the defaults). */
int nnx_csv_load_tuned(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                       nnx_csv_encoding *enc, nnx_csv_stats *stats, const nnx_csv_tuning *tune,
                       nnx_rt_error *err);

#endif
