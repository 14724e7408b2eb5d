/* cmd_diff.c — `nnx diff A B [--json]`: the settings that differ between two runs (or a run and a .nnx file), their commits, their metrics side by side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/compare_side.h"
#include "nnx/compare.h"
#include "nnx/util/json.h"

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: nnx diff A B [--json]\n"
            "  A and B are run directories (or one of them a .nnx file not yet run): the settings\n"
            "  that differ, path by path, from their resolved experiments; their git commits and\n"
            "  whether their files differed from them; their metrics side by side, B - A\n");
    return status;
}

/* One metrics row: a name and the two numbers (NaN: absent). */
typedef struct metric_row {
    const char *name;
    double a, b;
} metric_row;

static double num_at(const nnx_json *root, const char *obj, const char *key)
{
    return nnx_json_as_number(nnx_json_get(obj ? nnx_json_get(root, obj) : root, key));
}

static size_t metric_rows(const cli_side *a, const cli_side *b, metric_row *rows, size_t cap)
{
    size_t n = 0;
    const nnx_json *sa = a->summary, *sb = b->summary;
    rows[n++] = (metric_row){ "selected epoch", num_at(sa, "select", "epoch"), num_at(sb, "select", "epoch") };
    rows[n++] = (metric_row){ "epochs run", num_at(sa, NULL, "epochs_run"), num_at(sb, NULL, "epochs_run") };
    const nnx_json *m[2] = { nnx_json_get(sa, "metrics"), nnx_json_get(sb, "metrics") };
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; m[side] && m[side]->type == NNX_JSON_OBJECT && i < m[side]->n; i++) {
            const char *key = m[side]->keys[i];
            bool seen = false;
            for (size_t k = 0; k < n && !seen; k++)
                seen = !strcmp(rows[k].name, key);
            if (!seen && n + 2 < cap)
                rows[n++] = (metric_row){ key, nnx_json_as_number(nnx_json_get(m[0], key)),
                                          nnx_json_as_number(nnx_json_get(m[1], key)) };
        }
    if (nnx_json_get(sa, "winner_value") || nnx_json_get(sb, "winner_value"))
        rows[n++] = (metric_row){ "winner value", num_at(sa, NULL, "winner_value"), num_at(sb, NULL, "winner_value") };
    rows[n++] = (metric_row){ "seconds per epoch", num_at(sa, "timing", "seconds_per_epoch"),
                              num_at(sb, "timing", "seconds_per_epoch") };
    return n;
}

static void git_line(const char *label, const cli_side *s)
{
    const char *commit, *branch;
    bool dirty, in_repo;
    cli_side_git(s, &commit, &branch, &dirty, &in_repo);
    printf("%s  %s  (%s", label, s->arg, s->experiment);
    if (!in_repo) {
        const nnx_json *g = s->is_run ? nnx_json_get(s->summary, "git") : NULL;
        const char *why = s->is_run ? nnx_json_as_string(nnx_json_get(g, "reason"), "no git provenance recorded")
                                    : s->prov.reason ? s->prov.reason : "no git provenance";
        printf("; %s)\n", why);
        return;
    }
    printf("; commit %.8s%s%s%s, %s%s)\n", commit ? commit : "(none)", branch ? " on " : "",
           branch ? branch : "", "", dirty ? "dirty: its files differed from the commit" : "clean",
           s->is_run ? "" : ", not run yet");
}

static void print_num(double v, int width)
{
    if (isnan(v))
        printf(" %*s", width, "-");
    else
        printf(" %*.6g", width, v);
}

static void print_text(const cli_side *a, const cli_side *b, const nnx_setting_change *c, size_t nc,
                       const metric_row *rows, size_t nr)
{
    git_line("A", a);
    git_line("B", b);
    const char *ca, *cb, *br;
    bool da, db, ia, ib;
    cli_side_git(a, &ca, &br, &da, &ia);
    cli_side_git(b, &cb, &br, &db, &ib);
    if (ia && ib && ca && cb && strcmp(ca, cb))
        printf("   the commits differ: git diff %.12s %.12s shows every change between them\n", ca, cb);
    if (nc == 0) {
        printf("\nsettings: the same\n");
    } else {
        printf("\nsettings (%zu differ%s)\n", nc, nc == 1 ? "s" : "");
        size_t w = 0;
        for (size_t i = 0; i < nc; i++)
            w = strlen(c[i].path) > w ? strlen(c[i].path) : w;
        for (size_t i = 0; i < nc; i++) {
            printf("  %-*s  ", (int)w, c[i].path);
            bool layer = !strncmp(c[i].path, "model[", 6);
            if (!c[i].a)
                printf(layer ? "added: %s\n" : "(not set) -> %s\n", c[i].b);
            else if (!c[i].b)
                printf(layer ? "removed: %s\n" : "%s -> (not set)\n", c[i].a);
            else
                printf("%s -> %s\n", c[i].a, c[i].b);
        }
    }
    if (!a->summary && !b->summary)
        return;
    size_t w = 16;
    for (size_t i = 0; i < nr; i++)
        w = strlen(rows[i].name) > w ? strlen(rows[i].name) : w;
    printf("\n%-*s %14s %14s %14s\n", (int)w + 2, "metrics", "A", "B", "B - A");
    for (size_t i = 0; i < nr; i++) {
        printf("  %-*s", (int)w, rows[i].name);
        print_num(rows[i].a, 14);
        print_num(rows[i].b, 14);
        print_num(rows[i].b - rows[i].a, 14);
        putchar('\n');
    }
}

static void json_side(nnx_json_writer *w, const char *key, const cli_side *s)
{
    const char *commit, *branch;
    bool dirty, in_repo;
    cli_side_git(s, &commit, &branch, &dirty, &in_repo);
    nnx_json_key(w, key);
    nnx_json_begin_object(w);
    nnx_json_key_string(w, "path", s->arg);
    nnx_json_key_string(w, "kind", s->is_run ? "run" : "file");
    nnx_json_key_string(w, "experiment", s->experiment);
    nnx_json_key_string(w, "commit", commit);
    nnx_json_key_string(w, "branch", branch);
    nnx_json_key(w, "dirty");
    if (in_repo)
        nnx_json_bool(w, dirty);
    else
        nnx_json_null(w);
    nnx_json_end_object(w);
}

static int print_json(const cli_side *a, const cli_side *b, const nnx_setting_change *c, size_t nc,
                      const metric_row *rows, size_t nr)
{
    nnx_json_writer w;
    nnx_json_writer_to_file(&w, stdout, 2);
    nnx_json_begin_object(&w);
    json_side(&w, "a", a);
    json_side(&w, "b", b);
    nnx_json_key(&w, "settings");
    nnx_json_begin_array(&w);
    for (size_t i = 0; i < nc; i++) {
        nnx_json_begin_object(&w);
        nnx_json_key_string(&w, "path", c[i].path);
        nnx_json_key_string(&w, "a", c[i].a);
        nnx_json_key_string(&w, "b", c[i].b);
        nnx_json_end_object(&w);
    }
    nnx_json_end_array(&w);
    nnx_json_key(&w, "metrics");
    nnx_json_begin_array(&w);
    for (size_t i = 0; i < nr; i++) {
        nnx_json_begin_object(&w);
        nnx_json_key_string(&w, "name", rows[i].name);
        nnx_json_key_number(&w, "a", rows[i].a);
        nnx_json_key_number(&w, "b", rows[i].b);
        nnx_json_key_number(&w, "difference", rows[i].b - rows[i].a);
        nnx_json_end_object(&w);
    }
    nnx_json_end_array(&w);
    nnx_json_end_object(&w);
    nnx_rt_error err;
    if (nnx_json_writer_finish(&w, &err) < 0) {
        fprintf(stderr, "nnx diff: %s\n", err.msg);
        return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
}

int cmd_diff(int argc, char **argv)
{
    const char *args[2];
    int nargs = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout, EXIT_OK);
        if (!strcmp(a, "--json"))
            json = true;
        else if (a[0] == '-' && a[1]) {
            static const char *const known[] = { "--json", "--help" };
            cli_unknown_flag("diff", a, known, sizeof known / sizeof *known);
            return usage(stderr, EXIT_BAD_INPUT);
        } else if (nargs == 2) {
            fprintf(stderr, "nnx diff: two runs at a time ('%s' is a third)\n", a);
            return usage(stderr, EXIT_BAD_INPUT);
        } else
            args[nargs++] = a;
    }
    if (nargs != 2)
        return usage(stderr, EXIT_BAD_INPUT);
    cli_side a, b;
    int status = cli_side_load("diff", args[0], &a);
    if (status == EXIT_OK)
        status = cli_side_load("diff", args[1], &b);
    else
        memset(&b, 0, sizeof b);
    if (status == EXIT_OK && !a.is_run && !b.is_run) {
        fprintf(stderr, "nnx diff: neither %s nor %s is a run directory; give at least one run\n",
                args[0], args[1]);
        status = EXIT_BAD_INPUT;
    }
    nnx_setting_change *c = NULL;
    size_t nc = 0;
    if (status == EXIT_OK && nnx_settings_diff(a.settings, a.nsettings, b.settings, b.nsettings, &c, &nc) < 0) {
        fprintf(stderr, "nnx diff: out of memory\n");
        status = EXIT_BAD_INPUT;
    }
    if (status == EXIT_OK) {
        metric_row rows[128];
        size_t nr = metric_rows(&a, &b, rows, sizeof rows / sizeof rows[0]);
        if (json)
            status = print_json(&a, &b, c, nc, rows, nr);
        else
            print_text(&a, &b, c, nc, rows, nr);
    }
    fflush(stdout);
    nnx_setting_changes_free(c, nc);
    cli_side_free(&a);
    cli_side_free(&b);
    return status;
}
