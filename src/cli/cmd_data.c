/* cmd_data.c — `nnx data FILE [NAME] [--json] [--no-cache]`: load a data block (or an experiment's data) and describe it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/util/json.h"
#include "nnx/resolve.h"
#include "nnx/run.h"

enum { TEXT_FEATURES = 30 };    /* features the text lists; --json lists every one */

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: nnx data FILE [NAME] [--json] [--no-cache]\n"
            "  load data block NAME of FILE (or the data of experiment NAME; the file's only\n"
            "  experiment, or its only data block, when NAME is left out) as a run loads it, and\n"
            "  print its rows per split, features, classes with their counts, each feature's\n"
            "  min/mean/max and missing cells over the train rows (before normalisation), how\n"
            "  long loading took and whether the data cache served it\n"
            "  --json       the same as one JSON object\n"
            "  --no-cache   parse the CSV and IDX files again instead of mapping what an\n"
            "               earlier load cached ($NNX_CACHE, default ~/.cache/nnx), and\n"
            "               cache nothing\n"
            "exit status: 0 loaded, 2 bad input (the file, its data, a flag)\n");
    return status;
}

/* The file's only data block, when it has no experiment; else NULL. */
static const char *only_data_block(const nnx_program *p)
{
    const char *only = NULL;
    size_t blocks = 0;
    for (size_t i = 0; p->nfiles && i < p->files[0]->nitems; i++) {
        const nnx_item *it = p->files[0]->items[i];
        if (it->kind == NNX_I_EXPERIMENT)
            return NULL;
        if (it->kind == NNX_I_DATA) {
            only = it->name;
            blocks++;
        }
    }
    return blocks == 1 ? only : NULL;
}

/* The experiment whose data to load (a data block alone becomes one), or
 * NULL after printing the diagnostics. */
static nnx_experiment *load(const char *file, const char *name, nnx_program **p,
                            nnx_checker **c)
{
    nnx_diags d = { 0 };
    nnx_experiment *e = NULL;
    *p = nnx_program_load(file, NULL, &d);
    *c = *p ? nnx_checker_new(*p) : NULL;
    if (*c && d.nerrors == 0) {
        const char *block = name ? name : only_data_block(*p);
        if (block)
            e = nnx_check_data_block(*c, block, &d);
        if (!e && d.nerrors == 0)
            e = nnx_check_experiment(*c, name, NULL, 0, &d);
    }
    nnx_diags_print(&d, stderr, isatty(fileno(stderr)));
    if (!e && d.nerrors)
        fprintf(stderr, "%s: %d error%s; no data was loaded\n", file, d.nerrors,
                d.nerrors == 1 ? "" : "s");
    else if (!e)
        fprintf(stderr, "nnx data: out of memory\n");
    nnx_diags_free(&d);
    return e;
}

static const char *cache_line(const nnx_data_report *r, const char *dir, char *buf, size_t n)
{
    if (!dir)
        snprintf(buf, n, "off (--no-cache, or no cache directory)");
    else if (r->cache_hits && !r->cache_writes)
        snprintf(buf, n, "served %d file%s from %s", r->cache_hits,
                 r->cache_hits == 1 ? "" : "s", dir);
    else if (r->cache_hits || r->cache_writes)
        snprintf(buf, n, "served %d, parsed and cached %d file%s in %s", r->cache_hits,
                 r->cache_writes, r->cache_writes == 1 ? "" : "s", dir);
    else
        snprintf(buf, n, "not used (no CSV or IDX file%s)", r->cache_warning[0] ? " cached" : "");
    return buf;
}

static const char *feature_name(const nnx_data_report *r, int32_t j, char *buf, size_t n)
{
    if (r->feature[j].name)
        return r->feature[j].name;
    snprintf(buf, n, "x%d", (int)j);
    return buf;
}

static void print_text(const nnx_experiment *e, const nnx_data_report *r, const char *dir)
{
    char buf[600];
    printf("data        %s (%s)\n", e->data.name, e->file ? e->file : "?");
    printf("loaded in   %.3f s\n", r->seconds);
    printf("cache       %s\n", cache_line(r, dir, buf, sizeof buf));
    printf("rows       ");
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
        if (r->rows[s])
            printf(" %s %d", nnx_exp_split_name((nnx_exp_split)s), (int)r->rows[s]);
    putchar('\n');
    printf("features    %d", (int)r->features);
    if (r->has_shape)
        printf(" (%d x %d x %d)", (int)r->shape[0], (int)r->shape[1], (int)r->shape[2]);
    putchar('\n');
    if (r->note[0])
        printf("note        %s\n", r->note);
    if (r->kind == NNX_TARGET_REAL)
        printf("target      a number: min %.6g, mean %.6g, max %.6g over train\n",
               r->target_min, r->target_mean, r->target_max);
    else if (r->kind == NNX_TARGET_NONE)
        printf("target      none (unlabelled rows)\n");
    if (r->kind == NNX_TARGET_CLASS) {
        printf("classes     %d\n  %-16s", (int)r->classes, "class");
        for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
            if (r->rows[s])
                printf(" %9s", nnx_exp_split_name((nnx_exp_split)s));
        putchar('\n');
        for (int32_t c = 0; c < r->classes; c++) {
            printf("  %-16s", r->class_names[c]);
            for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
                if (r->rows[s])
                    printf(" %9d", (int)r->class_counts[(size_t)c * NNX_XSPLIT_COUNT + (size_t)s]);
            putchar('\n');
        }
    }
    printf("columns     over the %d train rows, as loaded%s\n", (int)r->rows[NNX_XSPLIT_TRAIN],
           e->data.normalize != NNX_XNORM_NONE ? " (normalize applies when training)" : "");
    printf("  %-16s %12s %12s %12s %8s\n", "feature", "min", "mean", "max", "missing");
    int32_t shown = r->features > TEXT_FEATURES + 5 ? TEXT_FEATURES : r->features;
    for (int32_t j = 0; j < shown; j++) {
        const nnx_data_feature *f = &r->feature[j];
        printf("  %-16s %12.6g %12.6g %12.6g ", feature_name(r, j, buf, sizeof buf), f->min,
               f->mean, f->max);
        if (f->missing >= 0)
            printf("%8lld\n", (long long)f->missing);
        else
            printf("%8s\n", "");
    }
    if (shown < r->features)
        printf("  ... %d more features (--json lists every one)\n", (int)(r->features - shown));
}

static int print_json(const nnx_experiment *e, const nnx_data_report *r, const char *dir)
{
    nnx_json_writer w;
    nnx_json_writer_to_file(&w, stdout, 2);
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "data", e->data.name);
    nnx_json_key_string(&w, "file", e->file);
    nnx_json_key_number(&w, "load_seconds", r->seconds);
    nnx_json_key(&w, "cache");
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "dir", dir);
    nnx_json_key_int(&w, "served", r->cache_hits);
    nnx_json_key_int(&w, "written", r->cache_writes);
    nnx_json_key_string(&w, "warning", r->cache_warning[0] ? r->cache_warning : NULL);
    nnx_json_end_object(&w);
    nnx_json_key(&w, "rows");
    nnx_json_begin_object(&w);
    for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
        if (r->rows[s])
            nnx_json_key_int(&w, nnx_exp_split_name((nnx_exp_split)s), r->rows[s]);
    nnx_json_end_object(&w);
    nnx_json_key_int(&w, "features", r->features);
    nnx_json_key_string(&w, "note", r->note[0] ? r->note : NULL);
    nnx_json_key_string(&w, "target", r->kind == NNX_TARGET_CLASS ? "class"
                        : r->kind == NNX_TARGET_REAL ? "number" : "none");
    if (r->kind == NNX_TARGET_CLASS) {
        nnx_json_key(&w, "classes");
        nnx_json_begin_array(&w);
        for (int32_t c = 0; c < r->classes; c++) {
            nnx_json_begin_object(&w);
            nnx_json_key_string(&w, "label", r->class_names[c]);
            for (int s = 0; s < NNX_XSPLIT_COUNT; s++)
                if (r->rows[s])
                    nnx_json_key_int(&w, nnx_exp_split_name((nnx_exp_split)s),
                                     r->class_counts[(size_t)c * NNX_XSPLIT_COUNT + (size_t)s]);
            nnx_json_end_object(&w);
        }
        nnx_json_end_array(&w);
    } else if (r->kind == NNX_TARGET_REAL) {
        nnx_json_key(&w, "target_stats");
        nnx_json_begin_object(&w);
        nnx_json_key_number(&w, "min", r->target_min);
        nnx_json_key_number(&w, "mean", r->target_mean);
        nnx_json_key_number(&w, "max", r->target_max);
        nnx_json_end_object(&w);
    }
    nnx_json_key(&w, "columns");
    nnx_json_begin_array(&w);
    for (int32_t j = 0; j < r->features; j++) {
        const nnx_data_feature *f = &r->feature[j];
        nnx_json_begin_object(&w);
        nnx_json_key_string(&w, "name", f->name);
        nnx_json_key_number(&w, "min", f->min);
        nnx_json_key_number(&w, "mean", f->mean);
        nnx_json_key_number(&w, "max", f->max);
        nnx_json_key(&w, "missing");
        if (f->missing >= 0)
            nnx_json_int(&w, f->missing);
        else
            nnx_json_null(&w);
        nnx_json_end_object(&w);
    }
    nnx_json_end_array(&w);
    nnx_json_end_object(&w);
    nnx_rt_error err = { { 0 } };
    if (nnx_json_writer_finish(&w, &err) < 0) {
        fprintf(stderr, "nnx data: %s\n", err.msg);
        return -1;
    }
    putchar('\n');
    return 0;
}

int cmd_data(int argc, char **argv)
{
    const char *file = NULL, *name = NULL;
    bool json = false, no_cache = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout, EXIT_OK);
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--no-cache")) {
            no_cache = true;
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = { "--json", "--no-cache", "--help" };
            cli_unknown_flag("data", a, known, sizeof known / sizeof *known);
            return usage(stderr, EXIT_BAD_INPUT);
        } else if (cli_file_and_name("data", a, &file, &name) < 0) {
            return usage(stderr, EXIT_BAD_INPUT);
        }
    }
    if (!file)
        return usage(stderr, EXIT_BAD_INPUT);
    nnx_program *p = NULL;
    nnx_checker *c = NULL;
    nnx_experiment *e = load(file, name, &p, &c);
    int status = EXIT_BAD_INPUT;
    char *dir = cli_data_cache_dir(no_cache);
    nnx_data_report r;
    nnx_rt_error err = { { 0 } };
    if (e && nnx_run_data_report(e, dir, &r, &err) < 0) {
        fprintf(stderr, "nnx data: %s\nno data was loaded\n", err.msg);
    } else if (e) {
        if (r.cache_warning[0])
            fprintf(stderr, "nnx data: warning: data cache: %s\n", r.cache_warning);
        if (json)
            status = print_json(e, &r, dir) < 0 ? EXIT_RUN_FAILED : EXIT_OK;
        else {
            print_text(e, &r, dir);
            status = fflush(stdout) == 0 ? EXIT_OK : EXIT_RUN_FAILED;
        }
        nnx_data_report_free(&r);
    }
    free(dir);
    nnx_experiment_free(e);
    nnx_checker_free(c);
    nnx_program_free(p);
    return status;
}
