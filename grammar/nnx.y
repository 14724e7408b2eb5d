/* nnx.y — the grammar of the nnx language (LANGUAGE.md sections 3-8).
 *
 * A pure parser over the reentrant lexer of nnx.l.  It builds the tree of
 * include/nnx/ast.h and adds each top-level item to the file as soon as it
 * is read.  Syntax errors become diagnostics saying "expected X or Y before
 * Z"; `error` rules at item, statement and bracket boundaries let one run
 * report every error in a file.  Newlines are not significant: statements
 * and layers simply follow each other, optionally separated by ';' or ','.
 */
%code requires {
#include "lang/syntax.h"

/* Semantic values for the lists the grammar builds up. */
typedef struct nnx_exprs  { nnx_expr  **v; size_t n; } nnx_exprs;
typedef struct nnx_args   { nnx_arg    *v; size_t n; } nnx_args;
typedef struct nnx_stmts  { nnx_stmt  **v; size_t n; } nnx_stmts;
typedef struct nnx_layers { nnx_layer_node **v; size_t n; } nnx_layers;
typedef struct nnx_params { nnx_param  *v; size_t n; } nnx_params;

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
}

%code provides {
int nnx_scan(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);
}

%code {
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L(s) nnx_pctx_loc(pc, (s))
#define SPAN(a, b) ((nnx_span){ (a).begin, (b).end })
#define NEED(x) do { if (!(x)) YYNOMEM; } while (0)

/* Deep enough for any real file, shallow enough that code walking the tree
 * recursively cannot run out of stack. */
#define YYMAXDEPTH 4000
#define MAX_CHAIN  256      /* operators in one a + b + c ... chain */

#define YYLLOC_DEFAULT(Cur, Rhs, N)                          \
    do {                                                     \
        if (N) {                                             \
            (Cur).begin = YYRHSLOC(Rhs, 1).begin;            \
            (Cur).end   = YYRHSLOC(Rhs, N).end;              \
        } else {                                             \
            (Cur).begin = (Cur).end = YYRHSLOC(Rhs, 0).end;  \
        }                                                    \
    } while (0)

static int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner, nnx_pctx *pc);
static void yyerror(YYLTYPE *lloc, yyscan_t scanner, nnx_pctx *pc, const char *msg);
static nnx_expr *binary(nnx_pctx *pc, nnx_span span, char op, nnx_expr *lhs, nnx_expr *rhs);
static nnx_stmt *stmt_make(nnx_pctx *pc, nnx_stmt_kind kind, nnx_span span,
                           nnx_path target, nnx_expr *value);
static nnx_item *block_item(nnx_pctx *pc, nnx_item_kind kind, nnx_span span,
                            char *name, nnx_span name_span, nnx_stmts body);
static bool add_item(nnx_pctx *pc, nnx_item *it);
static void free_stmts(nnx_stmts *s);
static void free_layers(nnx_layers *l);
static void free_exprs(nnx_exprs *e);
}

%define api.pure full
%define api.location.type {nnx_span}
%define parse.error custom
%define parse.lac full
%locations
%param {yyscan_t scanner} {nnx_pctx *pc}
%expect 0

%union {
    char       *str;
    nnx_expr   *expr;
    nnx_path    path;
    nnx_exprs   exprs;
    nnx_arg     arg;
    nnx_args    args;
    nnx_stmt   *stmt;
    nnx_stmts   stmts;
    nnx_layer_node  *layer;
    nnx_layers  layers;
    nnx_param   param;
    nnx_params  params;
    nnx_item   *item;
}

%token <str> IDENT  "name"
%token <str> NUMBER "number"
%token <str> STRING "string"
%token IMPORT "import" LET "let" DATA "data" NETWORK "network"
       EXPERIMENT "experiment" EXTENDS "extends" SEARCH "search"
       ENSEMBLE "ensemble" REPEAT "repeat" IN "in" TRUE "true" FALSE "false"
       PLUSEQ "+="

%type <str>    key extends_opt
%type <expr>   expr primary call_or_path search_kind
%type <path>   target expr_path
%type <exprs>  items_opt items
%type <arg>    arg
%type <args>   args_opt args
%type <stmt>   stmt in_stmt
%type <stmts>  stmts in_stmts
%type <layer>  layer
%type <layers> layers
%type <param>  param
%type <params> params_opt params
%type <item>   item

%destructor { free($$); }              <str>
%destructor { nnx_expr_free($$); }     <expr>
%destructor { nnx_path_free(&$$); }    <path>
%destructor { free_exprs(&$$); }       <exprs>
%destructor { free($$.name); nnx_expr_free($$.value); } <arg>
%destructor { nnx_args_free($$.v, $$.n); } <args>
%destructor { nnx_stmt_free($$); }     <stmt>
%destructor { free_stmts(&$$); }       <stmts>
%destructor { nnx_layer_node_free($$); }    <layer>
%destructor { free_layers(&$$); }      <layers>
%destructor { free($$.name); nnx_expr_free($$.deflt); } <param>
%destructor { nnx_params_free($$.v, $$.n); } <params>
%destructor { nnx_item_free($$); }     <item>

%left '+' '-'
%left '*' '/'
%precedence NEG

%%

file
    : %empty
    | file item         { if (!add_item(pc, $2)) YYNOMEM; yyerrok; }
    | file ';'
    | file ','
    | file error
    ;

item
    : IMPORT STRING
        {
            $$ = nnx_item_new(NNX_I_IMPORT, L(@$));
            if (!$$) { free($2); YYNOMEM; }
            $$->import_path = $2;
            $$->name_loc = L(@2);
        }
    | LET IDENT '=' expr
        {
            $$ = nnx_item_new(NNX_I_LET, L(@$));
            if (!$$) { free($2); nnx_expr_free($4); YYNOMEM; }
            $$->name = $2;
            $$->name_loc = L(@2);
            $$->value = $4;
        }
    | DATA IDENT extends_opt '{' stmts '}'
        {
            $$ = block_item(pc, NNX_I_DATA, @$, $2, @2, $5);
            if (!$$) { free($3); YYNOMEM; }
            $$->extends = $3;
            $$->extends_loc = L(@3);
        }
    | NETWORK IDENT params_opt '{' layers '}'
        {
            $$ = nnx_item_new(NNX_I_NETWORK, L(@$));
            if (!$$) { free($2); nnx_params_free($3.v, $3.n); free_layers(&$5); YYNOMEM; }
            $$->name = $2;
            $$->name_loc = L(@2);
            $$->params = $3.v;
            $$->nparams = $3.n;
            $$->layers = $5.v;
            $$->nlayers = $5.n;
        }
    | EXPERIMENT IDENT extends_opt '{' stmts '}'
        {
            $$ = block_item(pc, NNX_I_EXPERIMENT, @$, $2, @2, $5);
            if (!$$) { free($3); YYNOMEM; }
            $$->extends = $3;
            $$->extends_loc = L(@3);
        }
    ;

extends_opt
    : %empty            { $$ = NULL; }
    | EXTENDS IDENT     { $$ = $2; @$ = @2; }
    ;

/* --- network parameters and layers --------------------------------------- */

params_opt
    : %empty            { $$ = (nnx_params){0}; }
    | '(' ')'           { $$ = (nnx_params){0}; }
    | '(' params ')'    { $$ = $2; }
    | '(' params ',' ')' { $$ = $2; }
    | '(' error ')'     { $$ = (nnx_params){0}; }
    ;

params
    : param             { $$ = (nnx_params){0}; if (!nnx_array_push(&$$.v, &$$.n, sizeof $1, &$1)) { free($1.name); nnx_expr_free($1.deflt); YYNOMEM; } }
    | params ',' param
        {
            $$ = $1;
            if (!nnx_array_push(&$$.v, &$$.n, sizeof $3, &$3)) {
                free($3.name); nnx_expr_free($3.deflt); nnx_params_free($$.v, $$.n); YYNOMEM;
            }
        }
    ;

param
    : IDENT             { $$ = (nnx_param){ $1, L(@1), NULL }; }
    | IDENT '=' expr    { $$ = (nnx_param){ $1, L(@1), $3 }; }
    ;

layers
    : %empty            { $$ = (nnx_layers){0}; }
    | layers layer
        {
            $$ = $1;
            if ($2 && !nnx_array_push(&$$.v, &$$.n, sizeof $2, &$2)) {
                nnx_layer_node_free($2); free_layers(&$$); YYNOMEM;
            }
            yyerrok;    /* a whole entry read: report the next error too */
        }
    | layers ';'        { $$ = $1; }
    | layers ','        { $$ = $1; }
    | layers error      { $$ = $1; }
    ;

layer
    : call_or_path
        {
            $$ = nnx_layer_node_new(NNX_L_LAYER, L(@$));
            if (!$$) { nnx_expr_free($1); YYNOMEM; }
            $$->call = $1;
        }
    | REPEAT '(' expr ')' '{' layers '}'
        {
            $$ = nnx_layer_node_new(NNX_L_REPEAT, L(@$));
            if (!$$) { nnx_expr_free($3); free_layers(&$6); YYNOMEM; }
            $$->count = $3;
            $$->body = $6.v;
            $$->nbody = $6.n;
        }
    | call_or_path '{' layers '}'
        {
            $$ = nnx_layer_node_new(NNX_L_BLOCK, L(@$));
            if (!$$) { nnx_expr_free($1); free_layers(&$3); YYNOMEM; }
            $$->call = $1;
            $$->body = $3.v;
            $$->nbody = $3.n;
        }
    | REPEAT error '{' layers '}'
        {   /* `repeat { ... }` without its count: reported; read and dropped */
            free_layers(&$4);
            $$ = NULL;
        }
    ;

/* --- statements in data and experiment blocks ------------------------------ */

stmts
    : %empty            { $$ = (nnx_stmts){0}; }
    | stmts stmt
        {
            $$ = $1;
            if ($2 && !nnx_array_push(&$$.v, &$$.n, sizeof $2, &$2)) {
                nnx_stmt_free($2); free_stmts(&$$); YYNOMEM;
            }
            yyerrok;    /* a whole entry read: report the next error too */
        }
    | stmts ';'         { $$ = $1; }
    | stmts ','         { $$ = $1; }
    | stmts error       { $$ = $1; }
    ;

stmt
    : target '=' expr       { NEED($$ = stmt_make(pc, NNX_S_SET, @$, $1, $3)); }
    | target PLUSEQ expr    { NEED($$ = stmt_make(pc, NNX_S_APPEND, @$, $1, $3)); }
    | target '{' stmts '}'
        {
            $$ = stmt_make(pc, NNX_S_BLOCK, @$, $1, NULL);
            if (!$$) { free_stmts(&$3); YYNOMEM; }
            $$->body = $3.v;
            $$->nbody = $3.n;
        }
    | SEARCH search_kind '{' in_stmts '}'
        {
            $$ = stmt_make(pc, NNX_S_SEARCH, @$, (nnx_path){0}, NULL);
            if (!$$) { nnx_expr_free($2); free_stmts(&$4); YYNOMEM; }
            $$->search_kind = $2;
            $$->body = $4.v;
            $$->nbody = $4.n;
        }
    | SEARCH error '{' in_stmts '}'
        {   /* `search { ... }` without its kind: reported; the body is read and dropped */
            free_stmts(&$4);
            $$ = NULL;
        }
    ;

search_kind
    : call_or_path
    ;

in_stmts
    : %empty            { $$ = (nnx_stmts){0}; }
    | in_stmts in_stmt
        {
            $$ = $1;
            if (!nnx_array_push(&$$.v, &$$.n, sizeof $2, &$2)) {
                nnx_stmt_free($2); free_stmts(&$$); YYNOMEM;
            }
            yyerrok;    /* a whole entry read: report the next error too */
        }
    | in_stmts ';'      { $$ = $1; }
    | in_stmts ','      { $$ = $1; }
    | in_stmts error    { $$ = $1; }
    ;

in_stmt
    : target IN expr        { NEED($$ = stmt_make(pc, NNX_S_IN, @$, $1, $3)); }
    ;

/* A setting's path.  `data` and `ensemble` are keywords at the top level and
 * ordinary keys inside an experiment (`data = fashion`, `ensemble { ... }`). */
target
    : key                   { $$ = (nnx_path){0}; NEED(nnx_path_push(&$$, $1, L(@1))); }
    | target '.' key
        {
            $$ = $1;
            if (!nnx_path_push(&$$, $3, L(@3))) { nnx_path_free(&$$); YYNOMEM; }
        }
    ;

key
    : IDENT
    | DATA              { NEED($$ = strdup("data")); }
    | ENSEMBLE          { NEED($$ = strdup("ensemble")); }
    ;

/* --- expressions ---------------------------------------------------------- */

expr
    : expr '+' expr     { NEED($$ = binary(pc, @$, '+', $1, $3)); }
    | expr '-' expr     { NEED($$ = binary(pc, @$, '-', $1, $3)); }
    | expr '*' expr     { NEED($$ = binary(pc, @$, '*', $1, $3)); }
    | expr '/' expr     { NEED($$ = binary(pc, @$, '/', $1, $3)); }
    | '-' expr %prec NEG { NEED($$ = nnx_expr_unary(L(@$), '-', $2)); }
    | primary
    ;

primary
    : NUMBER            { NEED($$ = nnx_expr_num(L(@1), $1)); }
    | STRING            { NEED($$ = nnx_expr_str(L(@1), $1)); }
    | TRUE              { NEED($$ = nnx_expr_bool(L(@1), true)); }
    | FALSE             { NEED($$ = nnx_expr_bool(L(@1), false)); }
    | '[' items_opt ']' { NEED($$ = nnx_expr_list(L(@$), $2.v, $2.n)); }
    | '[' error ']'     { NEED($$ = nnx_expr_list(L(@$), NULL, 0)); }
    | '(' expr ')'      { $$ = $2; }
    | '(' error ')'     { NEED($$ = nnx_expr_list(L(@$), NULL, 0)); }
    | call_or_path
    ;

call_or_path
    : expr_path         { NEED($$ = nnx_expr_path(L(@$), $1)); }
    | IDENT '(' args_opt ')'
        { NEED($$ = nnx_expr_call(L(@$), $1, L(@1), $3.v, $3.n)); }
    | IDENT '(' error ')'
        { NEED($$ = nnx_expr_call(L(@$), $1, L(@1), NULL, 0)); }
    ;

expr_path
    : IDENT                 { $$ = (nnx_path){0}; NEED(nnx_path_push(&$$, $1, L(@1))); }
    | expr_path '.' key
        {
            $$ = $1;
            if (!nnx_path_push(&$$, $3, L(@3))) { nnx_path_free(&$$); YYNOMEM; }
        }
    ;

items_opt
    : %empty            { $$ = (nnx_exprs){0}; }
    | items             { $$ = $1; }
    | items ','         { $$ = $1; }
    ;

items
    : expr
        {
            $$ = (nnx_exprs){0};
            if (!nnx_array_push(&$$.v, &$$.n, sizeof $1, &$1)) { nnx_expr_free($1); YYNOMEM; }
        }
    | items ',' expr
        {
            $$ = $1;
            if (!nnx_array_push(&$$.v, &$$.n, sizeof $3, &$3)) {
                nnx_expr_free($3); free_exprs(&$$); YYNOMEM;
            }
        }
    ;

args_opt
    : %empty            { $$ = (nnx_args){0}; }
    | args              { $$ = $1; }
    | args ','          { $$ = $1; }
    ;

args
    : arg
        {
            $$ = (nnx_args){0};
            if (!nnx_array_push(&$$.v, &$$.n, sizeof $1, &$1)) {
                free($1.name); nnx_expr_free($1.value); YYNOMEM;
            }
        }
    | args ',' arg
        {
            $$ = $1;
            if (!nnx_array_push(&$$.v, &$$.n, sizeof $3, &$3)) {
                free($3.name); nnx_expr_free($3.value); nnx_args_free($$.v, $$.n); YYNOMEM;
            }
        }
    ;

arg
    : expr              { $$ = (nnx_arg){ NULL, L(@1), $1 }; }
    | key '=' expr      { $$ = (nnx_arg){ $1, L(@1), $3 }; }
    ;

%%

static nnx_stmt *stmt_make(nnx_pctx *pc, nnx_stmt_kind kind, nnx_span span,
                           nnx_path target, nnx_expr *value)
{
    nnx_stmt *s = nnx_stmt_new(kind, L(span));
    if (!s) {
        nnx_path_free(&target);
        nnx_expr_free(value);
        return NULL;
    }
    s->target = target;
    s->value = value;
    return s;
}

static nnx_item *block_item(nnx_pctx *pc, nnx_item_kind kind, nnx_span span,
                            char *name, nnx_span name_span, nnx_stmts body)
{
    nnx_item *it = nnx_item_new(kind, L(span));
    if (!it) {
        free(name);
        free_stmts(&body);
        return NULL;
    }
    it->name = name;
    it->name_loc = L(name_span);
    it->body = body.v;
    it->nbody = body.n;
    return it;
}

static bool add_item(nnx_pctx *pc, nnx_item *it)
{
    nnx_file *f = pc->file;
    if (!nnx_array_push(&f->items, &f->nitems, sizeof it, &it)) {
        nnx_item_free(it);
        return false;
    }
    return true;
}

static void free_stmts(nnx_stmts *s)
{
    for (size_t i = 0; i < s->n; i++)
        nnx_stmt_free(s->v[i]);
    free(s->v);
}

static void free_layers(nnx_layers *l)
{
    for (size_t i = 0; i < l->n; i++)
        nnx_layer_node_free(l->v[i]);
    free(l->v);
}

static void free_exprs(nnx_exprs *e)
{
    for (size_t i = 0; i < e->n; i++)
        nnx_expr_free(e->v[i]);
    free(e->v);
}

/* A binary node, unless the chain of operators on its left is already too
 * long for the tree walkers: then the right operand is dropped, once reported. */
static nnx_expr *binary(nnx_pctx *pc, nnx_span span, char op, nnx_expr *lhs, nnx_expr *rhs)
{
    int depth = 0;
    for (const nnx_expr *e = lhs; e->kind == NNX_E_BINARY && depth <= MAX_CHAIN; e = e->u.binary.lhs)
        depth++;
    if (depth >= MAX_CHAIN) {
        if (!pc->too_deep)
            nnx_error(pc->diags, L(span), "expression has more than %d operators in a row", MAX_CHAIN);
        pc->too_deep = true;
        nnx_expr_free(rhs);
        return lhs;
    }
    return nnx_expr_binary(L(span), op, lhs, rhs);
}

/* Bison calls this only when its stack is full: nesting far beyond any real file. */
static void yyerror(YYLTYPE *lloc, yyscan_t scanner, nnx_pctx *pc, const char *msg)
{
    (void)scanner;
    (void)msg;
    if (!pc->oom)
        nnx_error(pc->diags, L(*lloc), "brackets or blocks nested too deeply");
}

/* --- tokens: the lexer, plus closers inserted for a missing '}' ------------ */

static char closer_of(char open)
{
    return open == '(' ? ')' : open == '[' ? ']' : '}';
}

static const char *token_text(int tok, char *buf, size_t size)
{
    switch (tok) {
    case IMPORT:     return "'import'";
    case LET:        return "'let'";
    case NETWORK:    return "'network'";
    case EXPERIMENT: return "'experiment'";
    case 0:          return "end of file";
    default:         snprintf(buf, size, "'%c'", tok); return buf;
    }
}

/* Report that the innermost open bracket is not closed before `tok`, and
 * queue the closers of the `n` innermost brackets, then `tok` itself. */
static void close_before(nnx_pctx *pc, int tok, nnx_span at, size_t n)
{
    const nnx_open *o = &pc->opens[pc->nopens - 1];
    /* When the parser has complained since the bracket opened, it has
     * already reported this mistake: only mend it. */
    if (!(pc->parser_errors > 0 && pc->last_error_at >= o->at) && !nnx_pctx_full(pc)) {
        int line, col;
        nnx_loc_linecol(pc->src, o->at, &line, &col);
        char buf[8];
        nnx_diag *d = nnx_error(pc->diags, L(at), "expected '%c' before %s",
                                closer_of(o->ch), token_text(tok, buf, sizeof buf));
        nnx_diag_help(d, "the '%c' on line %d is never closed", o->ch, line);
    }
    pc->pending_close = (int)n;
    pc->close_at = at.begin;
    pc->stash_tok = tok;
    pc->stash_span = at;
}

/* The lexer keeps a stack of open brackets, so that a missing closer is
 * reported once, where it is noticed, and the parser is handed the missing
 * closers: a top-level keyword (or the end of the file) inside a bracket, or
 * a closer that does not match the innermost bracket, can only mean that.
 * A closer with nothing to close is reported here and skipped by the parser.
 * `pc->reported` marks a token whose syntax error is already reported. */
static int next_token(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner, nnx_pctx *pc);

/* The parser's lexer: the next token, remembering the one before it. */
static int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner, nnx_pctx *pc)
{
    int tok = next_token(lval, lloc, scanner, pc);
    pc->prev_tok = pc->last_tok;
    pc->last_tok = tok;
    return tok;
}

static int next_token(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner, nnx_pctx *pc)
{
    if (pc->pending_close > 0 && pc->nopens > 0) {
        pc->pending_close--;
        char open = pc->opens[--pc->nopens].ch;
        lloc->begin = lloc->end = pc->close_at;
        pc->reported = true;
        return closer_of(open);
    }
    pc->reported = false;
    int tok;
    if (pc->stash_tok >= 0) {
        tok = pc->stash_tok;
        pc->stash_tok = -1;
        *lloc = pc->stash_span;
    } else if (nnx_pctx_full(pc)) {
        if (!pc->gave_up)
            nnx_diag_add(pc->diags, NNX_NOTE, L(*lloc), "too many errors; the rest of the file is not read");
        pc->gave_up = true;
        pc->reported = true;
        lloc->begin = lloc->end = (uint32_t)pc->src->len;
        pc->nopens = 0;
        return 0;   /* enough: stop reading this file */
    } else {
        tok = nnx_scan(lval, lloc, scanner);
        if (tok == 0)   /* flex sets no location at the end */
            lloc->begin = lloc->end = (uint32_t)pc->src->len;
    }
    switch (tok) {
    case '(': case '[': case '{': {
        nnx_open o = { (char)tok, lloc->begin };
        if (!nnx_array_push(&pc->opens, &pc->nopens, sizeof o, &o))
            pc->oom = true;
        break;
    }
    case ')': case ']': case '}': {
        size_t i = pc->nopens;
        while (i > 0 && closer_of(pc->opens[i - 1].ch) != tok)
            i--;
        if (i == 0) {
            if (!nnx_pctx_full(pc))
                nnx_error(pc->diags, L(*lloc), "unmatched '%c'", tok);
            pc->reported = true;
        } else if (i < pc->nopens) {
            close_before(pc, tok, *lloc, pc->nopens - i);
            return next_token(lval, lloc, scanner, pc);
        } else {
            pc->nopens = i - 1;
        }
        break;
    }
    case IMPORT: case LET: case NETWORK: case EXPERIMENT: case 0:
        if (pc->nopens > 0) {
            close_before(pc, tok, *lloc, pc->nopens);
            return next_token(lval, lloc, scanner, pc);
        }
        break;
    case YYUNDEF:       /* a character the lexer has reported */
        pc->reported = true;
        break;
    default:
        break;
    }
    return tok;
}

/* --- syntax error messages ------------------------------------------------ */

/* How a grammar symbol is named in a message: 'import', '}', a name. */
static void symbol_text(yysymbol_kind_t sym, char *out, size_t size)
{
    switch (sym) {
    case YYSYMBOL_YYEOF:  snprintf(out, size, "end of file"); return;
    case YYSYMBOL_IDENT:  snprintf(out, size, "a name"); return;
    case YYSYMBOL_NUMBER: snprintf(out, size, "a number"); return;
    case YYSYMBOL_STRING: snprintf(out, size, "a string"); return;
    default: break;
    }
    const char *name = yysymbol_name(sym);
    if (name[0] == '\'')       /* a character token: already '{' */
        snprintf(out, size, "%s", name);
    else                        /* a keyword or "+=" */
        snprintf(out, size, "'%s'", name);
}

static bool is_keyword(yysymbol_kind_t sym)
{
    return sym >= YYSYMBOL_IMPORT && sym <= YYSYMBOL_FALSE;
}

/* The offending token as written, or what kind of token it is. */
static void found_text(const nnx_pctx *pc, yysymbol_kind_t sym, nnx_span at,
                       char *out, size_t size)
{
    uint32_t n = at.end - at.begin;
    if (sym == YYSYMBOL_YYEOF)
        snprintf(out, size, "end of file");
    else if (sym == YYSYMBOL_STRING && n > 24)
        snprintf(out, size, "a string");
    else if (n > 0 && n <= 24)
        snprintf(out, size, "'%.*s'", (int)n, pc->src->text + at.begin);
    else
        symbol_text(sym, out, size);
}

static bool is_char(yysymbol_kind_t sym, const char *quoted)
{
    return !strcmp(yysymbol_name(sym), quoted);
}

/* A token that can start a value, folded into "a value" in messages. */
static bool starts_value(yysymbol_kind_t s)
{
    return s == YYSYMBOL_NUMBER || s == YYSYMBOL_STRING || s == YYSYMBOL_TRUE ||
           s == YYSYMBOL_FALSE || s == YYSYMBOL_IDENT || is_char(s, "'['") ||
           is_char(s, "'('") || is_char(s, "'-'");
}

/* A token that would only continue what came before: not worth listing. */
static bool continues(yysymbol_kind_t s)
{
    return is_char(s, "'+'") || is_char(s, "'-'") || is_char(s, "'*'") ||
           is_char(s, "'/'") || is_char(s, "'.'") || is_char(s, "'('");
}

static bool first_on_line(const nnx_pctx *pc, uint32_t at)
{
    while (at > 0 && (pc->src->text[at - 1] == ' ' || pc->src->text[at - 1] == '\t'))
        at--;
    return at == 0 || pc->src->text[at - 1] == '\n';
}

/* Is the text before `at` a lone path at the start of its line (`batch`)? */
static bool setting_starts_line(const nnx_pctx *pc, uint32_t at)
{
    const char *t = pc->src->text;
    while (at > 0 && (t[at - 1] == ' ' || t[at - 1] == '\t'))
        at--;
    uint32_t end = at;
    while (at > 0 && (t[at - 1] == '_' || t[at - 1] == '.' || (t[at - 1] >= '0' && t[at - 1] <= '9') ||
                      ((t[at - 1] | 0x20) >= 'a' && (t[at - 1] | 0x20) <= 'z')))
        at--;
    return at < end && first_on_line(pc, at) && at > 0;
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, yyscan_t scanner, nnx_pctx *pc)
{
    (void)scanner;
    if (pc->reported || nnx_pctx_full(pc))  /* already said, or said enough */
        return 0;
    enum { MAX_SHOWN = 4 };
    yysymbol_kind_t expected[YYNTOKENS];
    int n = yypcontext_expected_tokens(yyctx, expected, YYNTOKENS);
    yysymbol_kind_t found = yypcontext_token(yyctx);
    nnx_span at = *yypcontext_location(yyctx);
    pc->parser_errors++;
    pc->last_error_at = at.begin;

    bool want_name = false, want_value = false, want_close = false;
    for (int i = 0; i < n; i++) {
        want_name |= expected[i] == YYSYMBOL_IDENT;
        want_value |= expected[i] == YYSYMBOL_NUMBER;
        want_close |= expected[i] == YYSYMBOL_YYEOF || is_char(expected[i], "'}'");
    }
    /* What to list: separators are always optional, so never listed; the
     * tokens that start a value are "a value"; `data` and `ensemble` are
     * names too; operators that would continue an expression only when
     * nothing else fits. */
    yysymbol_kind_t show[YYNTOKENS];
    int shown = 0, others = 0;
    for (int i = 0; i < n; i++) {
        yysymbol_kind_t s = expected[i];
        if (s == YYSYMBOL_YYerror || s == YYSYMBOL_YYUNDEF || is_char(s, "';'") ||
            (is_char(s, "','") && want_close))
            continue;
        if ((want_value && starts_value(s)) ||
            (want_name && (s == YYSYMBOL_DATA || s == YYSYMBOL_ENSEMBLE)))
            continue;
        others += !continues(s);
        show[shown++] = s;
    }
    if (others > 0) {
        int kept = 0;
        for (int i = 0; i < shown; i++)
            if (!continues(show[i]))
                show[kept++] = show[i];
        shown = kept;
    }
    /* '=' reads better before '+='. */
    for (int i = 1; i < shown; i++)
        if (show[i - 1] == YYSYMBOL_PLUSEQ && is_char(show[i], "'='")) {
            yysymbol_kind_t t = show[i];
            show[i] = show[i - 1];
            show[i - 1] = t;
        }

    char what[64];
    found_text(pc, found, at, what, sizeof what);
    nnx_loc loc = L(at);
    bool line_start = first_on_line(pc, at.begin);
    if (pc->prev_tok == SEARCH && want_name) {
        nnx_diag *d = nnx_error(pc->diags, loc, "expected the kind of search before %s", what);
        nnx_diag_help(d, "write `search grid {`, `search staged {` or `search random(trials = 20) {`");
        return 0;
    }
    if (is_keyword(found) && want_name && !want_value && !want_close) {
        nnx_diag *d = nnx_error(pc->diags, loc, "expected a name, found the keyword %s", what);
        nnx_diag_help(d, "keywords (import let data network experiment extends search "
                         "ensemble repeat in true false) cannot be used as names");
        return 0;
    }
    nnx_diag *d;
    bool at_boundary = want_name && want_close;     /* anything could start here */
    if ((shown == 0 && !want_value) || shown + want_value > MAX_SHOWN || at_boundary) {
        d = nnx_error(pc->diags, loc, "unexpected %s", what);
    } else {
        char msg[256];
        size_t len = (size_t)snprintf(msg, sizeof msg, "expected ");
        int total = shown + want_value;
        for (int i = 0; i < total && len < sizeof msg; i++) {
            char sym[32];
            if (want_value && i == 0)
                snprintf(sym, sizeof sym, "a value");
            else
                symbol_text(show[i - want_value], sym, sizeof sym);
            const char *sep = i == 0 ? "" : i == total - 1 ? " or " : ", ";
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", sep, sym);
        }
        d = nnx_error(pc->diags, loc, "%s before %s", msg, what);
    }
    if (is_keyword(found) && found != YYSYMBOL_TRUE && found != YYSYMBOL_FALSE &&
        (want_name || want_value) && !line_start) {
        nnx_diag_help(d, "%s is a keyword and cannot be used as a name", what);
    } else if ((is_char(found, "'='") || found == YYSYMBOL_PLUSEQ) && setting_starts_line(pc, at.begin)) {
        /* `epochs =` then `batch = 128`: `batch` was read as the value. */
        nnx_diag_help(d, "is the value of the setting on the line before missing?");
    } else if (pc->nopens > 0 && pc->opens[pc->nopens - 1].ch != '{') {
        /* A bracket left open on an earlier line is the likely cause. */
        const nnx_open *o = &pc->opens[pc->nopens - 1];
        int oline, eline, col;
        nnx_loc_linecol(pc->src, o->at, &oline, &col);
        nnx_loc_linecol(pc->src, at.begin, &eline, &col);
        char close[4] = { '\'', closer_of(o->ch), '\'', '\0' };
        bool wanted = false;
        for (int i = 0; i < n; i++)
            wanted |= is_char(expected[i], close);
        if (wanted && oline < eline)
            nnx_diag_help(d, "the '%c' on line %d is not closed", o->ch, oline);
    }
    return 0;
}
