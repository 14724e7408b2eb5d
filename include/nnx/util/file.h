/* file.h — files and paths: write a whole file through a temporary and a rename, append rows to one, read one, join paths, mkdir -p.
 *
 * A reader never sees half a file: the contents go to a temporary file on
 * the same file system, which is renamed over the path only once it is
 * complete.  Two ways to name the temporary, chosen by the writer:
 *
 *   fixed   BASE.tmp, created like fopen(…, "wb") (mode 0666 less the
 *           umask).  Only one writer may replace the path at a time; one
 *           left behind by a crash is reused by the next write.
 *   unique  BASE.tmp.XXXXXX, made by mkstemp (mode 0600 until the caller
 *           changes it with fchmod(fileno(out->f), …)).  For paths several
 *           writers may replace at once.
 *
 * BASE is the path itself, or a caller's base (for a temporary that must
 * live in another directory of the same file system).  A path that is a
 * device or a pipe (/dev/full), or a symbolic link under /dev or /proc
 * (/dev/stdout), is written in place (tmp NULL: a rename would replace it);
 * another link to a regular file has the file it names replaced (the link
 * stays); a directory is an error.
 *
 * Ownership: an nnx_file_out owns its FILE and both names from
 * nnx_file_begin until nnx_file_commit or nnx_file_abort, which free them.
 */
#ifndef NNX_UTIL_FILE_H
#define NNX_UTIL_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "nnx/util/error.h"

enum {
    NNX_FILE_UNIQUE = 1,   /* the temporary is BASE.tmp.XXXXXX (else BASE.tmp) */
    NNX_FILE_SYNC   = 2,   /* fsync the contents before the rename: on disk before they replace the old */
};

/* A file being written under its temporary name. */
typedef struct nnx_file_out {
    FILE *f;      /* write the contents here */
    char *path;   /* where the file goes */
    char *tmp;    /* where it is until the commit */
    int   flags;
} nnx_file_out;

/* Create the temporary for `path`, named after tmp_base (NULL: after path).
 * Errors: "out of memory", "TMP: cannot create: REASON", "PATH: cannot
 * write: it is a directory". */
int  nnx_file_begin(nnx_file_out *out, const char *path, const char *tmp_base, int flags,
                    nnx_rt_error *err);
/* Flush (and fsync with NNX_FILE_SYNC), close and rename the temporary
 * over the path.  On failure the temporary is removed.  Either way `out` is
 * released.  Errors: "PATH: cannot write: REASON",
 * "TMP: cannot rename to PATH: REASON". */
int  nnx_file_commit(nnx_file_out *out, nnx_rt_error *err);
/* Close and remove the temporary, leaving the path as it was; release `out`. */
void nnx_file_abort(nnx_file_out *out);

/* The three above for a file whose contents are len bytes at data. */
int  nnx_file_write(const char *path, const void *data, size_t len, int flags, nnx_rt_error *err);

/* A file written by appending rows (metrics.csv, steps.csv).  Rows are
 * written to `f`; nnx_append_flush makes them durable as far as stdio can
 * tell (every byte handed to the kernel).  A row that could not be written
 * in full is not left behind: on a failure the file is cut back to its
 * length at the last good flush, and the appender refuses further rows.
 * Ownership: an nnx_append owns its FILE and path until nnx_append_close. */
typedef struct nnx_append {
    FILE *f;       /* write rows here; NULL once failed or closed */
    char *path;
    long  good;    /* the file's length at the last good flush */
    char  why[256];/* the failure, "" while none */
} nnx_append;

/* Open `path` for appending; `fresh` empties it first (else rows are added
 * after what it holds).  Error: "PATH: cannot write: REASON". */
int  nnx_append_open(nnx_append *a, const char *path, int fresh, nnx_rt_error *err);
/* Flush the rows written since the last flush.  On failure the file is cut
 * back and closed; this and every later call fail with
 * "PATH: cannot write: REASON". */
int  nnx_append_flush(nnx_append *a, nnx_rt_error *err);
/* Flush, fsync and close: the rows are on disk.  Errors as for the flush.
 * `a` is released either way; nothing to do (0) when it was never opened. */
int  nnx_append_close(nnx_append *a, nnx_rt_error *err);
/* Close without a word (a failure already reported, or an abandoned file). */
void nnx_append_abort(nnx_append *a);

/* The whole file, NUL-terminated (the caller frees it); its size in *len
 * when len is not NULL.  A file of more than `max` bytes is refused
 * (max 0: no limit).  NULL on failure, with errno telling why (EFBIG: too
 * large, ENOMEM: out of memory) and err saying "PATH: cannot open: REASON",
 * "PATH: read error", "PATH: out of memory" or "PATH: larger than N bytes". */
char *nnx_file_read(const char *path, size_t max, size_t *len, nnx_rt_error *err);

/* What a path that is not a regular file is ("a FIFO", "a character
 * device", "a directory", ...), or NULL for a regular file (or one that
 * cannot be stat'ed: opening it will say why).  Data is read only from
 * regular files: a FIFO or a device may never end. */
const char *nnx_file_not_regular(const char *path);

/* dir + "/" + name, or NULL when out of memory (the caller frees). */
char *nnx_path_join(const char *dir, const char *name);

/* mkdir -p: make every missing directory of path (mode 0777 less the
 * umask).  Error: "DIR: cannot create directory: REASON", the reason "a
 * file is in the way" when something other than a directory holds a name
 * on the way. */
int nnx_mkdirs(const char *path, nnx_rt_error *err);

#endif
