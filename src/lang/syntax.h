/* syntax.h — what the generated lexer and parser share with parse.c.
 *
 * Private to the front end: grammar/nnx.l, grammar/nnx.y and src/lang/parse.c.
 * One nnx_pctx lives for one parse; the scanner reaches it as its `extra`.
 */
#ifndef NNX_SYNTAX_H
#define NNX_SYNTAX_H

#include <stdbool.h>
#include <stdint.h>

#include "nnx/ast.h"
#include "nnx/diag.h"

/* Bison's location type: a byte range in the source being parsed. */
typedef struct nnx_span {
    uint32_t begin, end;
} nnx_span;

/* An open bracket the lexer has seen and not yet seen closed. */
typedef struct nnx_open {
    char     ch;                /* '(' '[' '{' */
    uint32_t at;
} nnx_open;

typedef struct nnx_pctx {
    nnx_source *src;            /* not owned (the file owns it) */
    nnx_diags  *diags;          /* not owned */
    nnx_file   *file;           /* items and comments are added here */
    uint32_t    pos;            /* the lexer's byte offset */
    nnx_open   *opens;          /* owned: the stack of unclosed brackets */
    size_t      nopens;
    int         pending_close;  /* closers still to emit for a missing '}' */
    uint32_t    close_at;
    int         stash_tok;      /* the token that made us insert closers, or -1 */
    nnx_span    stash_span;
    bool        reported;       /* the last token's error is already reported */
    char       *sbuf;           /* owned: the string literal being read */
    size_t      slen, scap;
    uint32_t    sbegin;         /* where that literal's '"' is */
    int         last_tok;       /* the last token handed to the parser */
    int         prev_tok;       /* and the one before it */
    int         parser_errors;  /* syntax errors the parser has reported */
    uint32_t    last_error_at;  /* where the last of them was */
    bool        gave_up;        /* stopped reading after too many errors */
    bool        too_deep;       /* an over-long operator chain was reported */
    int         errors_before;  /* diags->nerrors when this parse began */
    bool        oom;
} nnx_pctx;

/* After this many syntax errors in one file the parser stops reading it. */
#define NNX_MAX_SYNTAX_ERRORS 50

static inline bool nnx_pctx_full(const nnx_pctx *pc)
{
    return pc->diags->nerrors - pc->errors_before >= NNX_MAX_SYNTAX_ERRORS;
}

/* The location of a span in the current source. */
static inline nnx_loc nnx_pctx_loc(const nnx_pctx *pc, nnx_span s)
{
    return (nnx_loc){ pc->src, s.begin, s.end };
}

#endif
