/* check_int.h — what the checker's files share: arena, values, catalog, context.
 *
 * Internal to src/lang (catalog.c, value.c, eval.c, bind.c, extends.c,
 * datahdr.c, check_data.c, shape.c, check.c, exp.c, exp_write.c) and to
 * the unit tests.  Global names here start with ck_ so that they never
 * clash with the rest of libnnx.
 */
#ifndef NNX_CHECK_INT_H
#define NNX_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnx/ast.h"
#include "nnx/check.h"
#include "nnx/diag.h"
#include "nnx/exp.h"
#include "nnx/resolve.h"
#include "nnx/util/buf.h"
#include "nnx/rt/metrics.h"

/* --- arena: many small allocations freed at once ---------------------------- */

typedef struct ck_arena_block ck_arena_block;
typedef struct ck_arena {
    ck_arena_block *head;
} ck_arena;

void *ck_alloc(ck_arena *a, size_t size);            /* zeroed; aborts never: NULL when out of memory */
char *ck_strdup(ck_arena *a, const char *s);
char *ck_strndup(ck_arena *a, const char *s, size_t n);
char *ck_sprintf(ck_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void  ck_arena_free(ck_arena *a);
/* Free everything allocated after a mark (the values made in between must
 * no longer be used). */
typedef struct ck_arena_mark {
    ck_arena_block *block;
    size_t used;
} ck_arena_mark;
ck_arena_mark ck_arena_save(const ck_arena *a);
void ck_arena_restore(ck_arena *a, ck_arena_mark m);

/* malloc'd copy of s (NULL stays NULL): for strings the caller owns. */
char *ck_mstrdup(const char *s);

/* A growable byte buffer (malloc'd; the caller owns `s`): the runtime's
 * nnx_buf under the checker's names. */
typedef nnx_buf ck_buf;
void ck_buf_puts(ck_buf *b, const char *s);
void ck_buf_printf(ck_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- values --------------------------------------------------------------- */

typedef enum ck_vkind {
    CK_NUM,
    CK_STR,
    CK_BOOL,
    CK_LIST,
    CK_SYM,         /* an unbound name or dotted path: standard, valid.auc, fashion */
    CK_CALL         /* name(args): an unevaluated use of a builtin or network */
} ck_vkind;

typedef struct ck_val ck_val;
typedef struct ck_arg {
    const char *name;       /* NULL: positional */
    nnx_loc     name_loc;
    ck_val     *value;
    bool        override;   /* from a dotted override: replaces by name, never a duplicate */
} ck_arg;

struct ck_val {
    ck_vkind kind;
    nnx_loc  loc;
    double   num;
    bool     boolean;
    const char *s;          /* STR text, SYM name, CALL name */
    ck_val **items;         /* LIST */
    size_t   n;
    ck_arg  *args;          /* CALL */
    size_t   nargs;
};

ck_val *ck_val_new(ck_arena *a, ck_vkind kind, nnx_loc loc);
ck_val *ck_val_num(ck_arena *a, double x, nnx_loc loc);
ck_val *ck_val_sym(ck_arena *a, const char *name, nnx_loc loc);
ck_val *ck_val_call0(ck_arena *a, const char *name, nnx_loc loc);   /* name() */
ck_val *ck_val_as_call(ck_arena *a, ck_val *v);    /* a SYM becomes a call without args */
bool    ck_is_int(double x);
const char *ck_vkind_name(ck_vkind k);
/* Canonical source text of a value (shortest round-trip numbers). */
void  ck_val_write(ck_buf *b, const ck_val *v);
char *ck_val_text(ck_arena *a, const ck_val *v);
void  ck_num_write(ck_buf *b, double x);
void  ck_str_write(ck_buf *b, const char *s);   /* quoted, escaped */
bool  ck_val_equal(const ck_val *x, const ck_val *y);

/* --- the catalog of builtins ------------------------------------------------ */

typedef enum ck_ty {
    CK_T_NUM,
    CK_T_INT,
    CK_T_BOOL,
    CK_T_STR,
    CK_T_SYM,           /* one of `syms` */
    CK_T_INT_OR_SYM,    /* an integer, or one of `syms` (batch = auto) */
    CK_T_INT_OR_STR,    /* csv label: a column index or name */
    CK_T_NUM_LIST,      /* a list of numbers (ranges apply to each) */
    CK_T_INT_LIST,
    CK_T_INT_OR_LIST,   /* ensemble seeds: a count or a list */
    CK_T_METRIC,        /* valid.auc */
    CK_T_NAME,          /* another key of the same data block (split's source) */
    CK_T_ANY            /* checked by the caller */
} ck_ty;

enum {                  /* range flags */
    CK_R_LO = 1,        /* has a lower bound */
    CK_R_LO_OPEN = 2,   /* ... excluded */
    CK_R_HI = 4,
    CK_R_HI_OPEN = 8,
    CK_R_POSITIONAL = 16    /* not a range: a layer's canonical text gives this
                               optional argument by position, as it does the
                               required ones (dropout(0.5)) */
};

typedef struct ck_param {
    const char *name;
    ck_ty       ty;
    bool        required;
    double      dnum;           /* default of a NUM/INT/BOOL (0/1) */
    const char *dstr;           /* default of a STR/SYM, or NULL */
    unsigned    range;          /* CK_R_* */
    double      lo, hi;
    const char *const *syms;    /* SYM, INT_OR_SYM: NULL-terminated */
} ck_param;

typedef enum ck_bkind {
    CK_B_LAYER,
    CK_B_LOSS,
    CK_B_OPTIM,
    CK_B_DECAY,
    CK_B_METRIC,
    CK_B_SOURCE,
    CK_B_HELPER,        /* decades, logspace, linspace, range, env: evaluated eagerly */
    CK_B_DIST,          /* uniform, loguniform, choice */
    CK_B_SELECT,        /* max, min */
    CK_B_EARLY,         /* patience */
    CK_B_SEARCH,        /* grid, staged, random */
    CK_B_PRUNE,         /* none, halving, median, hyperband */
    CK_B_LOGGER,        /* csv, tensorboard, mlflow */
    CK_B_COUNT
} ck_bkind;

typedef struct ck_builtin {
    const char     *name;
    ck_bkind        kind;
    int             code;       /* the exp.h enum value (nnx_exp_op, ...) */
    const ck_param *params;
    size_t          nparams;
    const char     *summary;    /* one line for docs and help */
} ck_builtin;
/* The catalog row of the runtime's activation `code` (enum nnx_act), or NULL.
 * An activation's row has code NNX_LAYER_ACT and the runtime's name for it. */
const ck_builtin *ck_act_builtin(int code);
/* The catalog row of a compiled layer (its activation's, for NNX_LAYER_ACT),
 * or NULL for a residual block's end, which has none of its own. */
const ck_builtin *ck_layer_builtin(const nnx_exp_layer *l);

/* A key of an experiment or data block. */
typedef enum ck_kclass {
    CK_K_SCALAR,        /* checked by `param` */
    CK_K_CALL,          /* a builtin of kind `bkind` (bare name allowed) */
    CK_K_DATA,          /* names a data block */
    CK_K_MODEL,         /* a network call */
    CK_K_METRICS,       /* a list of metric names */
    CK_K_SELECT,        /* max(m) / min(m) / m */
    CK_K_EARLY,         /* patience(...) or none */
    CK_K_LOG,           /* a list of loggers */
    CK_K_SOURCE,        /* a data source call */
    CK_K_SEARCH         /* only via `search KIND { }` */
} ck_kclass;

typedef struct ck_key {
    const char *name;       /* "optimizer", "schedule.decay" */
    ck_kclass   kclass;
    ck_bkind    bkind;      /* CALL, SOURCE */
    ck_param    param;      /* SCALAR: type, range, default (param.name unused) */
    const char *deflt;      /* CALL: default builtin name, or NULL (none) */
    bool        is_list;    /* accepts += */
    const char *summary;
} ck_key;

const ck_builtin *ck_builtin_find(const char *name, ck_bkind kind);
/* The names of every builtin of one kind, for suggestions, in arena `a`
 * (NULL when out of memory); *n their count. */
const char **ck_builtin_names(ck_arena *a, ck_bkind kind, size_t *n);
extern const ck_builtin ck_builtins[];
extern const size_t     ck_nbuiltins;
extern const ck_key     ck_exp_keys[];
extern const size_t     ck_nexp_keys;
extern const ck_key     ck_data_keys[];
extern const size_t     ck_ndata_keys;
const ck_key *ck_key_find(const ck_key *keys, size_t n, const char *name);
const char *ck_bkind_noun(ck_bkind k);      /* "layer", "optimizer", ... */
const char *ck_ty_noun(ck_ty t);            /* "a number", "an integer", ... */

/* Metric names (without split): "loss", whose row is the catalog's
 * (ck_loss_metric: no function, the training loop measures it), or a row of
 * the runtime's metric table (nnx/rt/metrics.h); NULL for any other name. */
enum { CK_TASK_CLASS = NNX_METRIC_CLASS, CK_TASK_REGR = NNX_METRIC_REGR };
extern const nnx_metric_info ck_loss_metric;
const nnx_metric_info *ck_metric_find(const char *name);
/* The metric a name that is none most plausibly means: an alias users of
 * other tools type (acc, roc_auc, f1_score, mean_squared_error), else as
 * nnx_suggest finds it; NULL when none. */
const char *ck_metric_suggest(const char *name);

/* --- the checker context ------------------------------------------------------ */

typedef struct ck_datahdr ck_datahdr;   /* a cached data file header (datahdr.c) */

typedef struct ck_scope {              /* network parameters while instantiating */
    const char  **names;
    ck_val      **vals;
    size_t        n;
} ck_scope;

struct nnx_checker {
    const nnx_program *prog;
    ck_arena    perm;           /* lets, data headers: live as long as the checker */
    ck_arena    tmp;            /* one experiment's values: reset per experiment */
    nnx_diags  *d;              /* where errors go (set per call) */
    int         nerr;           /* errors reported in this call (duplicates included) */
    /* per name (index into prog->names): let values and their state */
    ck_val    **let_val;
    unsigned char *let_state;   /* 0 not yet, 1 evaluating, 2 done, 3 failed */
    /* compiled data blocks, per name index */
    nnx_exp_data **data;
    unsigned char *data_state;  /* 0 not yet, 2 done, 3 failed */
    unsigned char *net_used;    /* per name: a network some experiment instantiated */
    ck_datahdr *hdrs;           /* linked list of read headers */
    nnx_source **srcs;          /* override pseudo-sources */
    size_t       nsrcs;
    int          depth;         /* network nesting while instantiating */
    const nnx_item *net_stack[32];
    const char  *trial;         /* "model.p" while checking a searched value ... */
    const ck_val *trial_val;    /* ... and the value */
    nnx_loc      trial_loc;     /* ... and the search block it comes from */
    /* The experiment had statement errors (an unknown key, a key set twice)
     * and is compiled only to report its other errors: a setting the bad
     * statement meant to make is missing, so "missing" errors (no data, no
     * model, a metric not computed, no hooks file) are counted, not shown. */
    bool         partial;
    bool         verbose;       /* add notes on what was decided (a residual's projection) */
};

/* Add an error unless the same message at the same place is already there
 * (a network used by several experiments).  Returns the new diagnostic (to
 * attach help to) or NULL when it was a duplicate.  Always counts c->nerr. */
nnx_diag *ck_err(nnx_checker *c, nnx_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ck_help(nnx_diag *dg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note, only when the checker is verbose, once per message and place. */
void ck_note(nnx_checker *c, nnx_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A note whether verbose or not (a decision the user should hear of). */
void ck_note_always(nnx_checker *c, nnx_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Error + "did you mean" over `cands`. */
nnx_diag *ck_err_suggest(nnx_checker *c, nnx_loc loc, const char *name,
                         const char *const *cands, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
nnx_loc ck_noloc(void);
/* Sort the diagnostics after `before` (NULL: all) by file and place,
 * keeping the order of equal places. */
void ck_sort_diags(const nnx_program *p, nnx_diags *d, nnx_diag *before);
/* Index of a name in prog->names, or -1. */
long ck_name_index(const nnx_checker *c, const char *name);
/* Names of the program's items of one kind (for suggestions), in the tmp arena. */
size_t ck_item_names(nnx_checker *c, nnx_item_kind kind, const char ***out);

/* --- evaluation (eval.c) -------------------------------------------------------- */

/* Evaluate an expression in the program's scope plus `sc` (may be NULL).
 * Values live in `a`.  NULL after reporting an error. */
ck_val *ck_eval(nnx_checker *c, ck_arena *a, const nnx_expr *e, const ck_scope *sc);

/* --- argument binding (bind.c) -------------------------------------------------- */

/* Bind a call's arguments to `params` (positional in order, then by name),
 * fill defaults, check types and ranges.  out[i] is the value of params[i]
 * (NULL for an optional parameter without default).  `what` names the
 * callee in messages ("dense", "adam").  False after reporting errors. */
bool ck_bind(nnx_checker *c, ck_arena *a, const ck_val *call, const char *what,
             const ck_param *params, size_t nparams, ck_val **out);
/* Type and range check of one value against a parameter; reports an error
 * naming `what`.`name`. */
bool ck_check_param(nnx_checker *c, const ck_val *v, const char *what, const ck_param *p);
/* Range as text: "> 0", "in [0, 1)". */
void ck_range_text(const ck_param *p, char *buf, size_t size);

/* --- data (datahdr.c, check_data.c) --------------------------------------------- */

typedef struct ck_idx_info {
    int     ndims;
    int     dims[4];        /* dims[0] is the item count */
} ck_idx_info;
/* Read an IDX header (gzip or plain).  Returns NULL and sets *err (static
 * text) on failure.  Cached by path. */
const ck_datahdr *ck_idx_header(nnx_checker *c, const char *path, const char **err);
int64_t ck_hdr_count(const ck_datahdr *h);
int     ck_hdr_features(const ck_datahdr *h);      /* product of dims[1..] */
int     ck_hdr_ndims(const ck_datahdr *h);
const int *ck_hdr_dims(const ck_datahdr *h);
/* Labels: the number of classes (max label + 1) and which labels occur. */
int     ck_hdr_classes(const ck_datahdr *h);
bool    ck_hdr_has_label(const ck_datahdr *h, int label);
/* CSV header: columns (names NULL when header = false). */
const ck_datahdr *ck_csv_header(nnx_checker *c, const char *path, char delim, bool header,
                                const char **err);
int         ck_hdr_ncols(const ck_datahdr *h);
const char *ck_hdr_col(const ck_datahdr *h, int i);   /* NULL without header */

/* The compiled data block `name` (cached); NULL when it has errors. */
const nnx_exp_data *ck_data(nnx_checker *c, const nnx_item *it);
/* The data block `it` with keys `ov` (`data.KEY = value` settings of an
 * experiment) applied after its own lines, into *out (the caller frees it
 * with ck_data_free).  False after errors. */
struct ck_argov;
bool ck_data_with(nnx_checker *c, const nnx_item *it, const struct ck_argov *ov, size_t nov,
                  nnx_exp_data *out);
/* An absolute path for `path` written in the file of `loc`. */
char *ck_resolve_path(ck_arena *a, nnx_loc loc, const char *path);
void  ck_data_copy(nnx_exp_data *dst, const nnx_exp_data *src);   /* deep, malloc */
void  ck_data_free(nnx_exp_data *d);

/* --- networks and shapes (shape.c) ---------------------------------------------- */

typedef struct ck_layers {
    nnx_exp_layer *v;
    size_t n, cap;
} ck_layers;

/* Instantiate network call `call` (a CALL of a network name) on input shape
 * `in`, appending concrete layers to `out`.  Shape errors point at the
 * breaking layer.  False after errors. */
bool ck_instantiate(nnx_checker *c, const nnx_item *net, const ck_val *call,
                    nnx_exp_shape in, ck_layers *out);
/* Shape of one layer's output; false + error at `loc` when it cannot apply. */
bool ck_layer_shape(nnx_checker *c, nnx_exp_layer *l);
void ck_shape_text(nnx_exp_shape s, char *buf, size_t size);

/* --- extends and overrides (extends.c) ------------------------------------------ */

typedef struct ck_argov {
    const char *name;
    nnx_loc     loc;
    const nnx_expr *expr;   /* one of expr/val */
    ck_val     *val;
    const void *owner;      /* the block that set it (duplicate detection) */
} ck_argov;

typedef struct ck_slot {
    const ck_key   *key;
    const nnx_expr *expr;       /* the value, or NULL with val NULL: the default */
    ck_val         *val;        /* a pre-evaluated value (search trials) */
    nnx_loc         loc;        /* where it was set */
    const void     *owner;      /* the block that set it (duplicate detection) */
    ck_argov       *args;       /* dotted overrides of the value's arguments */
    size_t          nargs;
    const nnx_expr **appends;   /* += lists */
    ck_val        **append_vals;
    nnx_loc        *append_locs;
    size_t          nappends;
} ck_slot;

typedef struct ck_merged {
    const nnx_item *exp;        /* the experiment checked */
    ck_slot        *slots;      /* one per ck_exp_keys[] entry */
    const nnx_stmt *search;     /* the last `search` block in the chain */
    const void     *search_owner;
    bool            partial;    /* the chain was resolved, but a statement failed */
} ck_merged;

/* Merge the extends chain of `exp` (base first).  False after errors (the
 * merge still holds what could be applied). */
bool ck_merge(nnx_checker *c, const nnx_item *exp, ck_merged *m);
/* Apply one override `path = value` (value as expr or val) at the end. */
bool ck_override(nnx_checker *c, ck_merged *m, const char *path, nnx_loc path_loc,
                 const nnx_expr *expr, ck_val *val, const void *owner);
/* Evaluate a slot: its value (or default) with argument overrides and
 * appends applied.  NULL when unset without default, or after errors
 * (*failed set). */
ck_val *ck_slot_value(nnx_checker *c, ck_slot *s, bool *failed);

/* --- overrides (override.c) ------------------------------------------------------ */

/* Parse `path=value`: returns the value expression (the caller frees it)
 * located in a new pseudo-source `--set` holding the text as typed
 * (*display, the caller keeps it alive while messages may point into it);
 * NULL after adding a syntax error. */
nnx_expr *ck_parse_override(const nnx_override *ov, const char *origin, nnx_source **display,
                            nnx_diags *d);

/* --- compile one experiment (check.c) ------------------------------------------- */

nnx_experiment *ck_compile(nnx_checker *c, const nnx_item *exp, ck_merged *m, bool check_search);
/* A call-valued key's value resolved against the builtins of one kind and
 * bound (args[i] per parameter); *vp becomes the call.  NULL after errors. */
const ck_builtin *ck_builtin_of(nnx_checker *c, ck_val **vp, ck_bkind kind, const char *key, ck_val **args);

/* --- search (check_search.c) ------------------------------------------------------- */

/* Fill e->search from m->search; with check_values, check the experiment
 * once with each value in place (errors say which value). */
bool ck_compile_search(nnx_checker *c, ck_merged *m, nnx_experiment *e, bool check_values);

#endif
