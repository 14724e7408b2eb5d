/* parse.c — nnx_parse: run the generated lexer and parser over one source. */
#include <stdlib.h>

#include "lang/syntax.h"
#include "nnx.tab.h"
#include "lex.yy.h"

/* Sort the diagnostics added since `before` by their place in the file (the
 * lexer runs one token ahead of the parser), keeping equal places in order. */
static void sort_new_diags(nnx_diags *d, nnx_diag *before)
{
    nnx_diag **link = before ? &before->next : &d->head;
    nnx_diag *sorted = NULL, *rest = *link;
    while (rest) {
        nnx_diag *x = rest;
        rest = rest->next;
        nnx_diag **at = &sorted;
        while (*at && (*at)->loc.begin <= x->loc.begin)
            at = &(*at)->next;
        x->next = *at;
        *at = x;
    }
    *link = sorted;
    d->tail = before;
    for (nnx_diag *x = *link; x; x = x->next)
        d->tail = x;
}

/* Flag every item that holds the place of a syntax error. */
static void mark_items(nnx_file *f, const nnx_diag *first)
{
    for (const nnx_diag *dg = first; dg; dg = dg->next)
        for (size_t i = 0; i < f->nitems; i++) {
            nnx_item *it = f->items[i];
            if (dg->loc.begin >= it->loc.begin && dg->loc.begin <= it->loc.end)
                it->syntax_error = true;
        }
}

nnx_file *nnx_parse(nnx_source *src, nnx_diags *diags)
{
    nnx_file *f = calloc(1, sizeof *f);
    if (!f) {
        nnx_source_free(src);
        return NULL;
    }
    f->src = src;
    nnx_pctx pc = { .src = src, .diags = diags, .file = f, .stash_tok = -1,
                    .errors_before = diags->nerrors };
    nnx_diag *before = diags->tail;

    yyscan_t scanner;
    if (yylex_init_extra(&pc, &scanner)) {
        nnx_file_free(f);
        return NULL;
    }
    YY_BUFFER_STATE buf = yy_scan_bytes(src->text, (int)src->len, scanner);
    yyparse(scanner, &pc);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    free(pc.opens);
    free(pc.sbuf);
    if (pc.oom) {
        nnx_file_free(f);
        return NULL;
    }
    sort_new_diags(diags, before);
    mark_items(f, before ? before->next : diags->head);
    return f;
}
