/* check_fixture.h — helpers the checker's unit tests share: a program from text, temp files. */
#ifndef NNX_CHECK_FIXTURE_H
#define NNX_CHECK_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/ast.h"
#include "nnx/check.h"
#include "nnx/diag.h"
#include "nnx/resolve.h"

static int fx_cmp_items(const void *a, const void *b)
{
    return strcmp((*(nnx_item *const *)a)->name, (*(nnx_item *const *)b)->name);
}

/* A program of one file parsed from text (no imports). */
static nnx_program *fx_program(const char *path, const char *text, nnx_diags *d)
{
    nnx_program *p = calloc(1, sizeof *p);
    p->files = calloc(1, sizeof *p->files);
    p->files[0] = nnx_parse(nnx_source_from_string(path, text), d);
    p->nfiles = 1;
    nnx_file *f = p->files[0];
    p->names = calloc(f->nitems + 1, sizeof *p->names);
    for (size_t i = 0; i < f->nitems; i++)
        if (f->items[i]->kind != NNX_I_IMPORT)
            p->names[p->nnames++] = f->items[i];
    qsort(p->names, p->nnames, sizeof *p->names, fx_cmp_items);
    return p;
}

static void fx_program_free(nnx_program *p)
{
    for (size_t i = 0; i < p->nfiles; i++)
        nnx_file_free(p->files[i]);
    free(p->files);
    free(p->names);
    free(p);
}

/* All messages in one string "msg | msg | ..." (static buffer). */
static const char *fx_msgs(const nnx_diags *d)
{
    static char buf[8192];
    buf[0] = 0;
    for (const nnx_diag *x = d->head; x; x = x->next) {
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof buf - len, "%s%s%s%s%s", len ? " | " : "", x->msg,
                 x->help ? " [" : "", x->help ? x->help : "", x->help ? "]" : "");
    }
    return buf;
}

/* Write text to a new temporary file; returns its path (static buffer per slot). */
static const char *fx_tempfile(int slot, const char *suffix, const char *text)
{
    static char paths[8][64];
    snprintf(paths[slot], sizeof paths[slot], "/tmp/nnx_fx_%d_%d%s", (int)getpid(), slot, suffix);
    FILE *f = fopen(paths[slot], "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return paths[slot];
}

#define FASHION "/usr/share/datasets/fashion-mnist"

#endif
