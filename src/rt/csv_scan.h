/* csv_scan.h — nnx's one CSV reader (internal to csv.c and csv_encode.c):
 * the text streamed in blocks (a mapped file, or a gzip file inflated on
 * one thread into block buffers cut at record boundaries), each block
 * parsed on the runtime's threads straight into a float table.
 *
 * A mapped file is cut by size alone; record boundaries are found in
 * parallel from the parity of the quotes before each block, and every row
 * has its place before any is parsed.  A gzip file's blocks are parsed as
 * they come, each into its own chunk; the chunks are joined once at the
 * end.  Either way the results do not depend on the thread count or the
 * block size (tests/unit/test_csv_parallel.c loads each file as one block on
 * one thread and compares).  Quote parity misreads a file with a quote
 * inside an unquoted field (`5"`): there the reader starts again on one
 * block, which follows the tokenizer's own state (a gzip file is then
 * inflated whole first).
 *
 * Every column is read by its kind: a number (a float into its slot, NaN
 * for a missing cell), a category (its text interned; the slot holds the
 * int32 index of the text among the column's sorted distinct values, -1 for
 * a missing cell), the label (its text and its value, NaN when not a
 * number) or skipped.  Errors carry the file, line and column, and are the
 * first in the file among those found.
 *
 * Ownership: a nnx_csv_scan's outputs (x, val, lab, text, cat, has_*) are
 * its own until nnx_csv_scan_free; the caller may take x (setting it NULL). */
#ifndef NNX_RT_CSV_SCAN_H
#define NNX_RT_CSV_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/rt/data.h"
#include "nnx/util/error.h"

enum { NNX_COL_SKIP = 0, NNX_COL_NUM, NNX_COL_CAT, NNX_COL_LABEL };

/* A file's first record: its fields (NUL-terminated, owned), where the
 * data records start, and on which line. */
typedef struct nnx_csv_head {
    char  **field;     /* ncol fields; owned, each owned */
    size_t  ncol;
    int     line;      /* the 1-based line the record starts on */
    size_t  body;      /* offset of the text after its line end (mapped files) */
    int     body_line; /* the line that text starts on */
} nnx_csv_head;

/* The first record of path (blank lines before it skipped): 0, or -1 with
 * err ("PATH: empty file", an unclosed quote, a NUL byte, cannot open). */
int  nnx_csv_head_read(nnx_csv_head *h, const char *path, char delim, nnx_rt_error *err);
/* The same from text[0..len) (path names it in errors). */
int  nnx_csv_head_parse(nnx_csv_head *h, const char *text, size_t len, char delim,
                        const char *path, nnx_rt_error *err);
void nnx_csv_head_free(nnx_csv_head *h);

/* One category column's distinct texts, sorted (strcmp), and where each
 * first occurs (0-based data row, 1-based line). */
typedef struct nnx_csv_cats {
    char   **v;      /* owned, each owned */
    int32_t  n;
    int64_t *row;    /* owned */
    int32_t *line;   /* owned */
} nnx_csv_cats;

/* A bad cell: a missing one (NNX_CSV_MISSING_CELL), text in a number column
 * (NNX_CSV_TEXT_CELL) or an empty label (NNX_CSV_EMPTY_LABEL); 0: none. */
enum { NNX_CSV_MISSING_CELL = 1, NNX_CSV_TEXT_CELL, NNX_CSV_EMPTY_LABEL };
typedef struct nnx_csv_cell_err {
    int     kind;
    int     line;
    int64_t row;
    char    cell[128];
} nnx_csv_cell_err;

typedef struct nnx_csv_scan {
    /* in */
    const char    *path;
    char           delim;
    int            header;     /* the first record names the columns (skipped) */
    const nnx_csv_head *head;  /* read by nnx_csv_head_read */
    const uint8_t *kind;       /* per column: NNX_COL_* */
    const int32_t *slot;       /* per NUM or CAT column: its slot in a row */
    size_t         d;          /* slots per row */
    int            missing_ok; /* missing cells are NaN / -1 (else an error) */
    int            text_ok;    /* text in a number column marks has_text (else an error) */
    int            keep_double;/* also keep the number cells as doubles (dx) */
    int            threads;    /* 0: one per online processor */
    size_t         block;      /* bytes per block; 0: 4 MB; SIZE_MAX: one block */
    const char    *mem;        /* read these mem_len bytes instead of the file */
    size_t         mem_len;
    /* out */
    size_t   n;            /* data rows */
    float   *x;            /* n * d; owned */
    double  *dx;           /* keep_double: n * d, the number slots as read; owned */
    double  *val;          /* n label values, NaN where not a number; owned */
    char   **lab;          /* n label texts, into text; owned */
    char    *text;         /* owned */
    uint8_t *has_missing;  /* per column: a missing cell was read; owned */
    uint8_t *has_text;     /* per column (text_ok): 1 a text cell was read, 2 a number
                              beyond float (not text, but an error when read again); owned */
    nnx_csv_cats *cat;     /* per column (CAT columns filled); owned */
    int64_t  first_text, first_fraction;  /* label rows (-1: none): a text label, */
    int      text_line, fraction_line;    /* a number label that is not a class id */
    int      gz;           /* the file was gzip */
    /* Bad cells do not stop the reading (the caller reports the one that
     * comes first in its order): per column the first bad cell (NULL: none
     * in the file), and the first bad feature cell in row order, the lowest
     * slot first within the row (bad_col; -1: none). */
    nnx_csv_cell_err *col_err;
    long     bad_col;
} nnx_csv_scan;

/* Read every data record: 0, or -1 with err. */
int  nnx_csv_scan_run(nnx_csv_scan *s, nnx_rt_error *err);
void nnx_csv_scan_free(nnx_csv_scan *s);

/* The error of column col's first bad cell (s->col_err[col]): -1. */
int  nnx_csv_cell_error(const nnx_csv_scan *s, size_t col, nnx_rt_error *err);

/* A label value that can be a class id: a whole number a class index holds. */
int  nnx_csv_class_id(double v);

/* An empty cell, NA, N/A, NaN (any case) or "?". */
int  nnx_csv_is_missing(const char *s, size_t len);

/* "column 3 ("age")" or "column 3" into buf. */
const char *nnx_csv_col_name(const nnx_csv_head *h, int header, size_t col, char *buf,
                             size_t len);

#endif
