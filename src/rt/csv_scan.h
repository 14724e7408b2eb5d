/* csv_scan.h — the parallel reader of a numeric table (internal to csv.c):
 * a mapped file split into blocks, record boundaries found in parallel
 * (quotes may hold line ends: a block's state is the parity of the quotes
 * before it), and every record parsed straight into a float table.
 *
 * The reader takes only what the general reader (csv.c's tokenizer and
 * csv_encode.c) would turn into the same numbers: plain number cells in
 * the feature columns and a non-empty label cell.  At anything else — a
 * missing or text feature cell, a ragged row, a quote inside an unquoted
 * field or an escaped quote, an unclosed quote, a NUL byte — it answers
 * NNX_SCAN_GENERAL and the caller reads the file the general way, which
 * reports the error or encodes the cells exactly as it always did.  So the
 * fast reader never decides a message or an encoding by itself.
 *
 * Results do not depend on the thread count: the blocks are cut by size
 * alone and every row has its place before any is parsed.
 *
 * Ownership: a nnx_csv_map owns its mapping (nnx_csv_unmap); a
 * nnx_csv_scan's x, val, lab and text are the caller's after a successful
 * nnx_csv_scan_run (nnx_csv_scan_free frees what is left). */
#ifndef NNX_RT_CSV_SCAN_H
#define NNX_RT_CSV_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"

typedef struct nnx_csv_map {
    const char *text;   /* the file's bytes, read-only */
    size_t      len;
    size_t      start;  /* 3 after a UTF-8 byte-order mark, else 0 */
} nnx_csv_map;

enum { NNX_SCAN_DONE = 0, NNX_SCAN_GENERAL = 1 };

/* Map a regular, non-empty file: 0, or NNX_SCAN_GENERAL (the general
 * reader will say what is wrong with it). */
int  nnx_csv_map_open(nnx_csv_map *m, const char *path);
void nnx_csv_unmap(nnx_csv_map *m);

/* The end of the first record (its line end included), skipping blank
 * lines before it: 0, or NNX_SCAN_GENERAL when the file holds no complete
 * first record that quote parity can delimit. */
int nnx_csv_first_record(const nnx_csv_map *m, char delim, size_t *end);

#define NNX_SCAN_LABEL (-1)   /* feature_of: the label column */
#define NNX_SCAN_SKIP  (-2)   /* feature_of: a column no feature reads */

typedef struct nnx_csv_scan {
    /* in */
    char           delim;
    size_t         body;        /* offset of the first data record's line */
    size_t         ncol;        /* fields per record */
    const int32_t *feature_of;  /* per column: feature index, NNX_SCAN_LABEL or _SKIP */
    size_t         d;           /* features per row */
    int            has_label;
    int            threads;     /* 0: one per online processor */
    size_t         block;       /* bytes per block; 0: 4 MB */
    /* out */
    size_t  n;        /* data rows */
    float  *x;        /* n * d; owned */
    double *val;      /* n label values, NaN where the label is not a number; owned */
    char  **lab;      /* n label texts, pointing into text; owned */
    char   *text;     /* every label text, NUL-terminated; owned */
} nnx_csv_scan;

/* Read every data record of m from s->body on: NNX_SCAN_DONE with s's
 * outputs filled, NNX_SCAN_GENERAL (nothing kept), or -1 with err when
 * memory or threads run out. */
int  nnx_csv_scan_run(nnx_csv_scan *s, const nnx_csv_map *m, const char *path,
                      nnx_rt_error *err);
void nnx_csv_scan_free(nnx_csv_scan *s);

#endif
