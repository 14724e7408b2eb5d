/* check_fixture.h — helpers the checker's unit tests share: a program from text, temp files. */
#ifndef NNX_CHECK_FIXTURE_H
#define NNX_CHECK_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/ast.h"
#include "nnx/check.h"
#include "nnx/diag.h"
#include "nnx/exp.h"
#include "nnx/resolve.h"

static inline int fx_cmp_items(const void *a, const void *b)
{
    return strcmp((*(nnx_item *const *)a)->name, (*(nnx_item *const *)b)->name);
}

/* A program of one file parsed from text (no imports). */
static inline nnx_program * fx_program(const char *path, const char *text, nnx_diags *d)
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

static inline void fx_program_free(nnx_program *p)
{
    for (size_t i = 0; i < p->nfiles; i++)
        nnx_file_free(p->files[i]);
    free(p->files);
    free(p->names);
    free(p);
}

/* All messages in one string "msg | msg | ..." (static buffer). */
static inline const char * fx_msgs(const nnx_diags *d)
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
static inline const char * fx_tempfile(int slot, const char *suffix, const char *text)
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

/* A quick data set and network every test can extend. */
#define TOY "data toy { train = spirals(n = 300, classes = 3) valid = split(train, 0.2) }\n" \
            "network net(w = 16, p = 0.1) { dense(w) relu dropout(p) dense(3) }\n"

/* One check: the program, its checker, diagnostics and the experiment. */
typedef struct fx {
    nnx_diags       d;
    nnx_program    *p;
    nnx_checker    *c;
    nnx_experiment *e;
} fx;

/* Check experiment `name` of `text` (NULL: the only one) with overrides. */
static inline nnx_experiment * fx_check_ov(fx *f, const char *text, const char *name, const nnx_override *ov, size_t nov)
{
    memset(f, 0, sizeof *f);
    f->p = fx_program("t.nnx", text, &f->d);
    f->c = nnx_checker_new(f->p);
    if (!f->d.nerrors)
        f->e = nnx_check_experiment(f->c, name, ov, nov, &f->d);
    return f->e;
}

static inline nnx_experiment * fx_check(fx *f, const char *text, const char *name)
{
    return fx_check_ov(f, text, name, NULL, 0);
}

/* Check every experiment (nnx check); returns the error count. */
static inline int fx_check_all(fx *f, const char *text)
{
    memset(f, 0, sizeof *f);
    f->p = fx_program("t.nnx", text, &f->d);
    f->c = nnx_checker_new(f->p);
    nnx_check_program(f->c, NULL, 0, &f->d);
    return f->d.nerrors;
}

static inline void fx_done(fx *f)
{
    nnx_experiment_free(f->e);
    nnx_checker_free(f->c);
    fx_program_free(f->p);
    nnx_diags_free(&f->d);
    memset(f, 0, sizeof *f);
}

/* True when some message contains `needle`. */
static inline int fx_has(const fx *f, const char *needle)
{
    return strstr(fx_msgs(&f->d), needle) != NULL;
}

#endif
