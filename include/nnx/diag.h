/* diag.h — source files and located error messages for the nnx language.
 *
 * Locations are byte ranges into a source's text; they become line:column
 * only when a message is printed.  Library code adds diagnostics to an
 * nnx_diags list and returns; one place (the CLI) prints them, in the form
 *
 *     exp.nnx:12:30: error: unknown layer 'swsh'
 *        12 |     dense(width)  batchnorm  swsh  dropout(p)
 *           |                              ^~~~
 *           = help: did you mean 'swish'?
 *
 * Ownership: an nnx_source owns its path and text.  An nnx_diags list owns
 * its entries and their strings; it does not own the sources its locations
 * point into, which must outlive it (the nnx_sources set keeps them).
 */
#ifndef NNX_DIAG_H
#define NNX_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct nnx_source {
    char  *path;        /* as the user named it, or resolved from an import */
    char  *text;        /* NUL-terminated; CRLF already folded to LF */
    size_t len;
} nnx_source;

typedef struct nnx_loc {
    const nnx_source *src;  /* NULL: no place in a file (a flag, the command line) */
    uint32_t begin, end;    /* byte offsets, [begin, end) */
} nnx_loc;

typedef enum nnx_level { NNX_ERROR, NNX_WARNING, NNX_NOTE } nnx_level;

typedef struct nnx_diag {
    nnx_level level;
    nnx_loc   loc;
    char     *msg;
    char     *help;             /* "did you mean 'swish'?" or NULL */
    struct nnx_diag *next;
} nnx_diag;

typedef struct nnx_diags {
    nnx_diag *head, *tail;
    int       nerrors;
    /* Sources that failed to read (invalid UTF-8, NUL byte) are kept here so
     * their messages can still show the line; owned, freed by nnx_diags_free. */
    nnx_source **kept;
    size_t       nkept;
} nnx_diags;

/* Read a whole file into a new source (CRLF → LF; a NUL byte or invalid
 * UTF-8 is an error added to `diags`, with the offending byte's place).
 * Returns NULL on failure. */
nnx_source *nnx_source_read(const char *path, nnx_diags *diags);
/* A source from memory (tests, --set values).  Copies both strings. */
nnx_source *nnx_source_from_string(const char *path, const char *text);
void        nnx_source_free(nnx_source *src);

/* Join two locations into the range that covers both. */
nnx_loc nnx_loc_span(nnx_loc a, nnx_loc b);

/* 1-based line and column (in bytes) of a byte offset. */
void nnx_loc_linecol(const nnx_source *src, uint32_t off, int *line, int *col);

nnx_diag *nnx_diag_add(nnx_diags *d, nnx_level level, nnx_loc loc,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define nnx_error(d, loc, ...) nnx_diag_add((d), NNX_ERROR, (loc), __VA_ARGS__)
/* Drop the diagnostics after `after` (NULL: all) that repeat an earlier one
 * word for word at the same place: a --set error met by every experiment
 * of a file is said once. */
void nnx_diags_drop_repeats(nnx_diags *d, nnx_diag *after);

/* Attach "= help: ..." to a diagnostic (replacing any earlier help). */
void nnx_diag_help(nnx_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print every diagnostic in order, with source line and caret; `color`
 * adds ANSI colours (the CLI passes isatty()). */
void nnx_diags_print(const nnx_diags *d, FILE *out, bool color);
void nnx_diags_free(nnx_diags *d);

/* The candidate `name` most plausibly meant, or NULL when none is close
 * enough: one equal to it but for case ("AUC"), else the shortest one it
 * begins with when it has at least 3 characters ("bas" for "basic", "acc"
 * for "accuracy"), else the closest by edit distance (a typo).  NULL
 * candidates are skipped. */
const char *nnx_suggest(const char *name, const char *const *candidates, size_t n);
/* Edit distance (Damerau: insert, delete, change, swap two neighbours). */
size_t nnx_edit_distance(const char *a, const char *b);

#endif
