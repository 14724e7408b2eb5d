/* csv_int.h — what csv.c (reading a table) hands csv_encode.c (turning its
 * columns into features): a read-only view of the data rows. */
#ifndef NNX_RT_CSV_INT_H
#define NNX_RT_CSV_INT_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/rt/data.h"

typedef struct nnx_csv_rows {
    const char   *path;
    char *const  *field;     /* every field of every record */
    const size_t *first;     /* index in field of each record's first field */
    const int32_t *line;     /* 1-based line of each record */
    size_t        r0, n;     /* the data records: r0 .. r0 + n - 1 */
    size_t        ncol;      /* fields per record (all records agree) */
    int           header;    /* record 0 names the columns */
} nnx_csv_rows;

/* The cell of data row i (0-based), column c. */
static inline const char *nnx_csv_cell(const nnx_csv_rows *r, size_t i, size_t c)
{
    return r->field[r->first[r->r0 + i] + c];
}

/* "column 3 ("age")" or "column 3" into buf. */
const char *nnx_csv_column_name(const nnx_csv_rows *r, size_t col, char *buf, size_t len);

/* A whole field as a finite number: 0, or -1. */
int nnx_csv_parse_number(const char *s, double *v);

/* Fit an encoding of columns cols[0..ncols) of rows (opts: categorical,
 * missing) into enc (zeroed by the caller). */
int nnx_csv_fit(const nnx_csv_rows *rows, const int32_t *cols, int32_t ncols,
                const nnx_csv_opts *opts, nnx_csv_encoding *enc, nnx_rt_error *err);

/* Find enc's columns in rows (by name when both have names, else the
 * columns in order, skipping label_col): cols[j] for enc->cols[j]. */
int nnx_csv_match(const nnx_csv_rows *rows, const nnx_csv_encoding *enc, long label_col,
                  int32_t *cols, nnx_rt_error *err);

/* Encode the rows into x (n × enc->features), reading enc->cols[j] from
 * column cols[j]. */
int nnx_csv_apply(const nnx_csv_rows *rows, const int32_t *cols, const nnx_csv_encoding *enc,
                  float *x, nnx_csv_stats *stats, nnx_rt_error *err);

/* How nnx_csv_load_tuned reads: the fast reader's threads (0: one per
 * online processor) and block size (0: 4 MB), or the general reader alone
 * (the tests compare the two). */
typedef struct nnx_csv_tuning {
    int    threads;
    size_t block;
    int    general_only;
    int    was_fast;      /* out: 1 when the fast reader loaded the table */
} nnx_csv_tuning;

/* nnx_load_csv_encoded, tuned (NULL: the defaults; else tune->was_fast is set). */
int nnx_csv_load_tuned(nnx_dataset *out, const char *path, const nnx_csv_opts *opts,
                       nnx_csv_encoding *enc, nnx_csv_stats *stats, nnx_csv_tuning *tune,
                       nnx_rt_error *err);

#endif
