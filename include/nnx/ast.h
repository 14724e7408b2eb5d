/* ast.h — the syntax tree of an .nnx file, as the parser builds it.
 *
 * The tree is exactly what was written: nothing is resolved or evaluated
 * here (that is resolve.c and check.c).  Every node carries the location of
 * the text it came from.
 *
 * Ownership: a node owns every node, array and string it points to, except
 * `nnx_loc.src`.  nnx_file_free() frees a whole file; the constructors in
 * ast.c take ownership of the children they are given ("functions consume
 * their arguments").  Arrays are (pointer, count) pairs allocated with
 * malloc/realloc.
 */
#ifndef NNX_AST_H
#define NNX_AST_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/diag.h"

typedef struct nnx_expr  nnx_expr;
typedef struct nnx_stmt  nnx_stmt;
typedef struct nnx_layer_node nnx_layer_node;
typedef struct nnx_item  nnx_item;

/* A dotted name: `optimizer.lr`, `valid.auc`, `lua.macro_f1`, `width`. */
typedef struct nnx_path {
    char   **parts;
    nnx_loc *locs;      /* one per part */
    size_t   n;
} nnx_path;

typedef enum nnx_expr_kind {
    NNX_E_NUM,      /* 3, 0.5, 1e-3                                  */
    NNX_E_STR,      /* "..." with escapes already decoded            */
    NNX_E_BOOL,     /* true, false                                   */
    NNX_E_LIST,     /* [a, b, c]                                     */
    NNX_E_PATH,     /* width, standard, valid.auc: a name or symbol  */
    NNX_E_CALL,     /* f(pos, key = value); a bare `dense` is a PATH   */
    NNX_E_UNARY,    /* -x                                            */
    NNX_E_BINARY    /* a + b, a - b, a * b, a / b                    */
} nnx_expr_kind;

typedef struct nnx_arg {
    char    *name;      /* NULL for a positional argument */
    nnx_loc  name_loc;
    nnx_expr *value;
} nnx_arg;

struct nnx_expr {
    nnx_expr_kind kind;
    nnx_loc       loc;          /* the whole expression */
    union {
        struct { double value; char *text; } num;   /* text as written, for fmt */
        char *str;
        bool  boolean;
        struct { nnx_expr **items; size_t n; } list;
        nnx_path path;
        struct { char *name; nnx_loc name_loc; nnx_arg *args; size_t nargs; } call;
        struct { char op; nnx_expr *operand; } unary;           /* op: '-' */
        struct { char op; nnx_expr *lhs, *rhs; } binary;        /* op: + - * / */
    } u;
};

/* Statements inside data and experiment blocks. */
typedef enum nnx_stmt_kind {
    NNX_S_SET,      /* path = value                      */
    NNX_S_APPEND,   /* path += value                     */
    NNX_S_BLOCK,    /* path { body }  ≡  path.k = v ...  (schedule { }, ensemble { }) */
    NNX_S_SEARCH,   /* search KIND { path in value ... } */
    NNX_S_IN        /* path in value   (only inside a search body) */
} nnx_stmt_kind;

struct nnx_stmt {
    nnx_stmt_kind kind;
    nnx_loc       loc;
    nnx_path      target;       /* SET, APPEND, BLOCK, IN */
    nnx_expr     *value;        /* SET, APPEND, IN */
    nnx_expr     *search_kind;  /* SEARCH: `grid`, `staged`, `random(trials = 20, seed = 3)` */
    nnx_stmt    **body;         /* BLOCK, SEARCH */
    size_t        nbody;
};

/* One entry in a network body. */
typedef enum nnx_layer_node_kind {
    NNX_L_LAYER,    /* dense(width), batchnorm, mlp(width = 64): `call` is a CALL or PATH expr */
    NNX_L_REPEAT,   /* repeat(count) { body } */
    NNX_L_BLOCK     /* residual { body }, residual(project = false) { body }: a
                       layer wrapping others; `call` is a CALL or PATH expr */
} nnx_layer_node_kind;

struct nnx_layer_node {
    nnx_layer_node_kind kind;
    nnx_loc        loc;
    nnx_expr      *call;        /* LAYER, BLOCK */
    nnx_expr      *count;       /* REPEAT */
    nnx_layer_node    **body;        /* REPEAT, BLOCK */
    size_t         nbody;
};

typedef struct nnx_param {      /* network parameter: `width = 256` or `width` */
    char     *name;
    nnx_loc   loc;
    nnx_expr *deflt;            /* NULL when it has no default */
} nnx_param;

typedef enum nnx_item_kind {
    NNX_I_IMPORT,       /* import "path"                               */
    NNX_I_LET,          /* let name = value                            */
    NNX_I_DATA,         /* data name { stmts }                         */
    NNX_I_NETWORK,      /* network name(params) { layers }             */
    NNX_I_EXPERIMENT    /* experiment name [extends base] { stmts }    */
} nnx_item_kind;

struct nnx_item {
    nnx_item_kind kind;
    nnx_loc       loc;          /* the whole item */
    char         *name;         /* NULL for IMPORT */
    nnx_loc       name_loc;     /* IMPORT: the place of the path string */
    char         *import_path;  /* IMPORT: the string as written */
    nnx_expr     *value;        /* LET */
    nnx_stmt    **body;         /* DATA, EXPERIMENT */
    size_t        nbody;
    nnx_param    *params;       /* NETWORK */
    size_t        nparams;
    nnx_layer_node   **layers;       /* NETWORK */
    size_t        nlayers;
    char         *extends;      /* EXPERIMENT: base name or NULL */
    nnx_loc       extends_loc;
    bool          syntax_error; /* a syntax error lies inside: the item holds only
                                   what could be read (checkers may skip it) */
};

/* A comment, kept so that `nnx fmt` can put it back. */
typedef struct nnx_comment {
    nnx_loc loc;                /* from '#' to the end of the line, exclusive */
} nnx_comment;

typedef struct nnx_file {
    nnx_source   *src;          /* owned */
    nnx_item    **items;
    size_t        nitems;
    nnx_comment  *comments;
    size_t        ncomments;
} nnx_file;

/* Parse one source (taking ownership of it).  Syntax errors go to `diags`;
 * the parser recovers at statement and block boundaries, so the returned
 * file holds every item it could read.  Returns NULL only when out of memory. */
nnx_file *nnx_parse(nnx_source *src, nnx_diags *diags);
void      nnx_file_free(nnx_file *f);

void nnx_expr_free(nnx_expr *e);
void nnx_stmt_free(nnx_stmt *s);
void nnx_layer_node_free(nnx_layer_node *l);
void nnx_item_free(nnx_item *it);
void nnx_path_free(nnx_path *p);
nnx_expr *nnx_expr_clone(const nnx_expr *e);

/* "a.b.c" for a path (a new string the caller frees). */
char *nnx_path_str(const nnx_path *p);

/* Constructors.  Each takes ownership of its arguments -- also when it fails,
 * freeing them then -- and returns NULL only when out of memory. */
nnx_expr *nnx_expr_num(nnx_loc loc, char *text);        /* value = strtod(text) */
nnx_expr *nnx_expr_str(nnx_loc loc, char *s);
nnx_expr *nnx_expr_bool(nnx_loc loc, bool value);
nnx_expr *nnx_expr_list(nnx_loc loc, nnx_expr **items, size_t n);
nnx_expr *nnx_expr_path(nnx_loc loc, nnx_path path);
nnx_expr *nnx_expr_call(nnx_loc loc, char *name, nnx_loc name_loc,
                        nnx_arg *args, size_t nargs);
nnx_expr *nnx_expr_unary(nnx_loc loc, char op, nnx_expr *operand);
nnx_expr *nnx_expr_binary(nnx_loc loc, char op, nnx_expr *lhs, nnx_expr *rhs);
/* Append one part to a path; false (and `part` freed) when out of memory. */
bool      nnx_path_push(nnx_path *p, char *part, nnx_loc loc);
/* Zeroed nodes of a kind, for the parser to fill. */
nnx_stmt  *nnx_stmt_new(nnx_stmt_kind kind, nnx_loc loc);
nnx_layer_node *nnx_layer_node_new(nnx_layer_node_kind kind, nnx_loc loc);
nnx_item  *nnx_item_new(nnx_item_kind kind, nnx_loc loc);
void       nnx_args_free(nnx_arg *args, size_t n);
void       nnx_params_free(nnx_param *params, size_t n);

/* Append `elem` (of `size` bytes) to the malloc'd array *arr of *n elements;
 * false when out of memory (the array is unchanged then). */
bool nnx_array_push(void *arr, size_t *n, size_t size, const void *elem);

/* The text of a location (not NUL-terminated: `loc.end - loc.begin` bytes). */
const char *nnx_loc_text(nnx_loc loc);

#endif
