/* resolve.h — load a file with its imports and build the table of names.
 *
 * Imports are looked up relative to the importing file, then in each
 * directory of NNX_PATH (':'-separated), then in the stdlib directory.
 * An import cycle, a missing import or a name defined twice is an error
 * that names both places.  All top-level names (let, data, network,
 * experiment) share one namespace across every loaded file, and may be used
 * before they are defined.
 *
 * Ownership: an nnx_program owns its files (and so their sources) and its
 * name table; the items in the table point into those files.
 */
#ifndef NNX_RESOLVE_H
#define NNX_RESOLVE_H

#include "nnx/ast.h"

typedef struct nnx_program {
    nnx_file **files;       /* files[0] is the file the user named */
    size_t     nfiles;
    nnx_item **names;       /* every LET, DATA, NETWORK and EXPERIMENT item, sorted by name */
    size_t     nnames;
    char      *stdlib;      /* owned: the stdlib directory imports came from
                             * (its lua/ holds the Lua modules), or NULL */
} nnx_program;

typedef struct nnx_load_opts {
    const char *stdlib_dir;     /* NULL: $NNX_STDLIB, else stdlib/ beside the binary,
                                 * else the installed stdlib */
    const char *nnx_path;       /* NULL: getenv("NNX_PATH") */
} nnx_load_opts;

/* Parse `path` and everything it imports.  Errors go to `diags`; the
 * program is returned even then (with what could be read) so that the
 * checker can report independent errors too.  NULL only when out of memory. */
nnx_program *nnx_program_load(const char *path, const nnx_load_opts *opts, nnx_diags *diags);
/* The same from an in-memory source (tests); imports resolve against the
 * directory of src->path. */
nnx_program *nnx_program_from_source(nnx_source *src, const nnx_load_opts *opts, nnx_diags *diags);
void         nnx_program_free(nnx_program *p);

/* The stdlib directory as the loader finds it (see nnx_load_opts), as a new
 * string, or NULL when there is none. */
char *nnx_stdlib_find(const nnx_load_opts *opts);

/* The item defined as `name`, or NULL. */
nnx_item *nnx_program_lookup(const nnx_program *p, const char *name);

#endif
