/* fuzz_nnx.c — fuzz the .nnx front end (read, parse, resolve, check, print errors) and hold fmt to its promises.
 *
 * Each input is written as fuzz.nnx in the target's scratch directory and
 * goes the way `nnx check` takes it: load (imports resolve against the
 * scratch directory, then the stdlib), check every experiment, print the
 * diagnostics (to /dev/null).  When the file parses cleanly the target
 * also asserts, and abort()s so that libFuzzer reports a violation:
 *   - fmt's output parses without error, and formatting it again gives the
 *     same text (idempotence; the input may have CRLF and comments);
 *   - the formatted file, checked in the same place, gives every
 *     experiment the same outcome: the same compiled text
 *     (nnx_experiment_write) or an error in both.
 * Inputs that name device or process files (/dev, /proc, /sys) are skipped:
 * reading those is not a property of the front end, and a read of
 * /dev/zero never ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/check.h"
#include "nnx/diag.h"
#include "nnx/fmt.h"
#include "nnx/resolve.h"

#include "fuzz_io.h"

enum { MAX_INPUT = 16384, MAX_EXPERIMENTS = 64 };

static FILE *sink;

static bool names_system_files(const uint8_t *data, size_t size)
{
    static const char *const bad[] = { "dev/", "proc/", "sys/", "dev\"", "proc\"", "sys\"" };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        size_t n = strlen(bad[b]);
        for (size_t i = 0; i + n <= size; i++)
            if (!memcmp(data + i, bad[b], n))
                return true;
    }
    return false;
}

static void violated(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "fuzz_nnx: property violated: %s\n--- first:\n%s\n--- second:\n%s\n", what,
            a ? a : "(none)", b ? b : "(none)");
    abort();
}

/* The outcome of checking every experiment of the file at `path`: for each
 * experiment item of the file itself (in file order), its compiled text or
 * NULL.  Returns the count; names[i] point into nothing (copies). */
typedef struct outcome {
    size_t n;
    char  *name[MAX_EXPERIMENTS];
    char  *text[MAX_EXPERIMENTS];
} outcome;

static void outcome_free(outcome *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->name[i]), free(o->text[i]);
    o->n = 0;
}

static void check_path(const char *path, outcome *o)
{
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_load(path, NULL, &d);
    o->n = 0;
    if (p) {
        nnx_checker *c = nnx_checker_new(p);
        if (c) {
            nnx_check_program(c, NULL, 0, &d);
            const nnx_file *f = p->nfiles ? p->files[0] : NULL;
            for (size_t i = 0; f && i < f->nitems && o->n < MAX_EXPERIMENTS; i++) {
                const nnx_item *it = f->items[i];
                if (it->kind != NNX_I_EXPERIMENT || !it->name)
                    continue;
                nnx_diags ed = { 0 };
                nnx_experiment *e = nnx_check_experiment(c, it->name, NULL, 0, &ed);
                o->name[o->n] = strdup(it->name);
                o->text[o->n] = e ? nnx_experiment_write(e) : NULL;
                o->n++;
                nnx_experiment_free(e);
                nnx_diags_print(&ed, sink, false);
                nnx_diags_free(&ed);
            }
        }
        nnx_diags_print(&d, sink, false);
        nnx_checker_free(c);
        nnx_program_free(p);
    }
    nnx_diags_free(&d);
}

/* Parse `path` alone; the formatted text when it parsed without errors. */
static char *fmt_path(const char *path)
{
    nnx_diags d = { 0 };
    nnx_source *src = nnx_source_read(path, &d);
    nnx_file *f = src ? nnx_parse(src, &d) : NULL;
    char *text = f && !d.nerrors ? nnx_fmt_file(f) : NULL;
    nnx_diags_print(&d, sink, false);
    nnx_diags_free(&d);
    nnx_file_free(f);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT || names_system_files(data, size))
        return 0;
    if (!sink)
        sink = fopen("/dev/null", "w");
    char *path = fuzz_write("fuzz.nnx", data, size);
    if (!path)
        abort();
    outcome before = { 0 }, after = { 0 };
    check_path(path, &before);

    char *once = fmt_path(path);
    if (once) {
        /* fmt of fmt is fmt */
        char *again = fuzz_write("fuzz.nnx", once, strlen(once));
        if (!again)
            abort();
        free(again);
        char *twice = fmt_path(path);
        if (!twice)
            violated("fmt's output does not parse", once, NULL);
        if (strcmp(once, twice))
            violated("fmt is not idempotent", once, twice);
        free(twice);
        /* the formatted file means the same */
        check_path(path, &after);
        if (before.n != after.n)
            violated("fmt changed the number of experiments", once, NULL);
        for (size_t i = 0; i < before.n; i++) {
            if (strcmp(before.name[i], after.name[i]))
                violated("fmt renamed an experiment", before.name[i], after.name[i]);
            if (!before.text[i] != !after.text[i] ||
                (before.text[i] && strcmp(before.text[i], after.text[i])))
                violated("fmt changed a compiled experiment", before.text[i], after.text[i]);
        }
        free(once);
    }
    outcome_free(&before);
    outcome_free(&after);
    free(path);
    return 0;
}
