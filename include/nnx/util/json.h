/* json.h — a small JSON writer (to a FILE or a growing buffer) and reader (to a tree).
 *
 * Writer: call the begin/end/key/value functions in document order; the
 * writer places commas, colons, newlines and indentation.  Strings are
 * escaped (", \, control characters; UTF-8 passes through).  A number that
 * is NaN or infinite is written as null — JSON has no such numbers.  Misuse
 * (a value where a key is due, unbalanced end) and write failures are
 * remembered and reported once, by nnx_json_writer_finish.
 *
 * Reader: nnx_json_parse turns a whole text into a tree of nnx_json values,
 * or fails with the byte offset, line and column of the first error.
 *
 * Ownership: a buffer writer owns its buffer until nnx_json_writer_take
 * hands it to the caller (free() it).  A file writer does not own its FILE.
 * A parsed tree is owned by its root: nnx_json_free(root) frees every value,
 * key and string below it; pointers into the tree (nnx_json_get, ...) are
 * borrowed and die with the root.
 */
#ifndef NNX_UTIL_JSON_H
#define NNX_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "nnx/util/error.h"

/* ---- writer ---------------------------------------------------------- */

enum { NNX_JSON_MAX_DEPTH = 64 };

typedef struct nnx_json_writer {
    FILE  *file;               /* NULL: write into buf */
    char  *buf;                /* owned; NUL-terminated after each write */
    size_t len, cap;
    int    indent;             /* spaces per level; 0 = one line */
    int    depth;
    bool   has_items[NNX_JSON_MAX_DEPTH]; /* this level wrote a value already */
    bool   in_object[NNX_JSON_MAX_DEPTH]; /* this level is an object, not an array */
    bool   key_pending;        /* a key was written, its value is due */
    bool   done;               /* the top-level value is complete */
    char   failure[160];       /* first misuse or write error; "" = none */
} nnx_json_writer;

void nnx_json_writer_to_file(nnx_json_writer *w, FILE *file, int indent);
void nnx_json_writer_to_buffer(nnx_json_writer *w, int indent);

void nnx_json_begin_object(nnx_json_writer *w);
void nnx_json_end_object(nnx_json_writer *w);
void nnx_json_begin_array(nnx_json_writer *w);
void nnx_json_end_array(nnx_json_writer *w);
void nnx_json_key(nnx_json_writer *w, const char *key);
void nnx_json_string(nnx_json_writer *w, const char *s);   /* NULL → null */
void nnx_json_number(nnx_json_writer *w, double v);        /* shortest exact form; NaN/inf → null */
void nnx_json_int(nnx_json_writer *w, long long v);
void nnx_json_bool(nnx_json_writer *w, bool v);
void nnx_json_null(nnx_json_writer *w);

/* key + value in one call, for the common object member. */
void nnx_json_key_string(nnx_json_writer *w, const char *key, const char *s);
void nnx_json_key_number(nnx_json_writer *w, const char *key, double v);
void nnx_json_key_int(nnx_json_writer *w, const char *key, long long v);
void nnx_json_key_bool(nnx_json_writer *w, const char *key, bool v);

/* 0 when a complete, balanced document was written without error (a file
 * writer also gets a trailing newline and an fflush); else -1 and err says
 * why.  Call once, at the end. */
int nnx_json_writer_finish(nnx_json_writer *w, nnx_rt_error *err);
/* The buffer writer's text (NUL-terminated); the caller frees it.  The
 * writer is left empty. */
char *nnx_json_writer_take(nnx_json_writer *w);
/* Free a buffer writer's text if it was not taken. */
void nnx_json_writer_free(nnx_json_writer *w);
/* Finish a buffer writer and write its text to `path` whole, through a
 * temporary file (nnx_file_write with `flags`); the writer is left empty
 * either way.  0, or -1 and err says why. */
int nnx_json_writer_save(nnx_json_writer *w, const char *path, int flags, nnx_rt_error *err);

/* ---- reader ---------------------------------------------------------- */

typedef enum nnx_json_type {
    NNX_JSON_NULL, NNX_JSON_BOOL, NNX_JSON_NUMBER,
    NNX_JSON_STRING, NNX_JSON_ARRAY, NNX_JSON_OBJECT
} nnx_json_type;

typedef struct nnx_json {
    nnx_json_type    type;
    bool             boolean;
    double           number;
    char            *string;   /* NUL-terminated (an embedded \u0000 is an error) */
    size_t           n;        /* array items / object members */
    struct nnx_json *items;    /* [n] */
    char           **keys;     /* [n], objects only, in document order */
} nnx_json;

typedef struct nnx_json_error {
    size_t offset;             /* byte offset of the error */
    int    line, col;          /* 1-based */
    char   msg[160];
} nnx_json_error;

/* Parse `len` bytes of `text` (one value, surrounded by whitespace only).
 * Nesting deeper than NNX_JSON_MAX_DEPTH is an error.  NULL on failure, with
 * err (when not NULL) filled. */
nnx_json *nnx_json_parse(const char *text, size_t len, nnx_json_error *err);
void      nnx_json_free(nnx_json *root);

/* Member `key` of an object, or NULL (also when v is NULL or not an object). */
const nnx_json *nnx_json_get(const nnx_json *v, const char *key);
/* Item i of an array, or NULL. */
const nnx_json *nnx_json_at(const nnx_json *v, size_t i);
/* The number, or NaN when v is NULL, null or not a number. */
double nnx_json_as_number(const nnx_json *v);
/* The string, or `fallback` when v is NULL or not a string. */
const char *nnx_json_as_string(const nnx_json *v, const char *fallback);

#endif
