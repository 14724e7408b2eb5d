/* cmd_runs.c — `nnx runs [DIR]...`: one line per run, search and ensemble, from their summary.json files. */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "nnx/util/json.h"
#include "nnx/runs.h"

enum { MAX_TESTS = 16 };

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: nnx runs [DIR]... [--sort METRIC] [--filter EXPERIMENT] [--json | --csv]\n"
            "  one line per run, search and ensemble under DIR (default runs/): when, experiment,\n"
            "  kind, status, the select metric and value, test metrics, epochs, duration, commit\n"
            "  (8 hex digits, + when the files differed from it)\n"
            "  --sort METRIC      best first by METRIC (valid.accuracy, test.auc, ...), or by\n"
            "                     when (the default, oldest first) or seconds\n"
            "  --filter NAME      only experiment NAME (a shell pattern: 'lr_*')\n"
            "  --json, --csv      machine-readable, every field\n");
    return status;
}

/* Lower is better for losses and errors. */
static bool higher_is_better(const char *metric)
{
    const char *dot = strrchr(metric, '.');
    const char *m = dot ? dot + 1 : metric;
    return !(strstr(m, "loss") || !strcmp(m, "mae") || !strcmp(m, "mse") || !strcmp(m, "seconds"));
}

static const char *sort_key;
static bool sort_max;

static double key_of(const nnx_runs_entry *e)
{
    if (!strcmp(sort_key, "when"))
        return e->when;
    if (!strcmp(sort_key, "seconds") || !strcmp(sort_key, "duration"))
        return e->seconds;
    return nnx_runs_metric(e, sort_key);
}

static int by_key(const void *pa, const void *pb)
{
    const nnx_runs_entry *a = *(const nnx_runs_entry *const *)pa, *b = *(const nnx_runs_entry *const *)pb;
    double x = key_of(a), y = key_of(b);
    if (isnan(x) != isnan(y))
        return isnan(x) ? 1 : -1;
    if (!isnan(x) && x != y)
        return (sort_max ? x > y : x < y) ? -1 : 1;
    if (a->when != b->when)
        return a->when < b->when ? -1 : 1;
    return strcmp(a->path, b->path);
}

/* The test.* names of the listed entries, in order of first sight (test.loss last). */
static size_t test_names(nnx_runs_entry *const *v, size_t n, const char **out)
{
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            const nnx_json *m = v[i]->metrics;
            for (size_t j = 0; m && m->type == NNX_JSON_OBJECT && j < m->n; j++) {
                const char *name = m->keys[j];
                if (strncmp(name, "test.", 5) || (pass == 0) == !strcmp(name, "test.loss"))
                    continue;
                bool seen = false;
                for (size_t q = 0; q < k && !seen; q++)
                    seen = !strcmp(out[q], name);
                if (!seen && k < MAX_TESTS)
                    out[k++] = name;
            }
        }
    return k;
}

static void fmt_when(double when, bool iso, char *buf, size_t size)
{
    time_t t = (time_t)when;
    struct tm tm;
    if (iso)
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    else
        strftime(buf, size, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
}

static void fmt_seconds(double s, char *buf, size_t size)
{
    if (isnan(s))
        snprintf(buf, size, "-");
    else if (s < 60)
        snprintf(buf, size, "%.1fs", s);
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
}

static void csv_cell(const char *s, bool first)
{
    if (!first)
        putchar(',');
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            putchar('"');
        putchar(*p);
    }
    putchar('"');
}

static void csv_number(double v)
{
    putchar(',');
    if (!isnan(v))
        printf("%.9g", v);
}

static void print_csv(nnx_runs_entry *const *v, size_t n, const char **tests, size_t nt)
{
    fputs("when,experiment,kind,status,select,value,epoch,epochs,seconds", stdout);
    for (size_t k = 0; k < nt; k++)
        printf(",%s", tests[k]);
    puts(",commit,dirty,branch,path");
    for (size_t i = 0; i < n; i++) {
        const nnx_runs_entry *e = v[i];
        char when[32];
        fmt_when(e->when, true, when, sizeof when);
        csv_cell(when, true);
        csv_cell(e->experiment, false);
        csv_cell(e->kind, false);
        csv_cell(e->status, false);
        csv_cell(e->select, false);
        csv_number(e->select_value);
        csv_number(e->epoch ? e->epoch : NAN);
        csv_number(e->epochs ? e->epochs : NAN);
        csv_number(e->seconds);
        for (size_t k = 0; k < nt; k++)
            csv_number(nnx_runs_metric(e, tests[k]));
        const nnx_json *dirty = nnx_json_get(e->git, "dirty");
        csv_cell(nnx_json_as_string(nnx_json_get(e->git, "commit"), ""), false);
        csv_cell(dirty && dirty->type == NNX_JSON_BOOL ? (dirty->boolean ? "true" : "false") : "", false);
        csv_cell(nnx_json_as_string(nnx_json_get(e->git, "branch"), ""), false);
        csv_cell(e->path, false);
        putchar('\n');
    }
}

static int print_json(nnx_runs_entry *const *v, size_t n)
{
    nnx_json_writer w;
    nnx_json_writer_to_file(&w, stdout, 2);
    nnx_json_begin_array(&w);
    for (size_t i = 0; i < n; i++) {
        const nnx_runs_entry *e = v[i];
        char when[32];
        fmt_when(e->when, true, when, sizeof when);
        nnx_json_begin_object(&w);
        nnx_json_key_string(&w, "path", e->path);
        nnx_json_key_string(&w, "when", when);
        nnx_json_key_string(&w, "experiment", e->experiment);
        nnx_json_key_string(&w, "kind", e->kind);
        nnx_json_key_string(&w, "status", e->status);
        nnx_json_key(&w, "select");
        nnx_json_begin_object(&w);
        nnx_json_key_string(&w, "metric", e->select);
        nnx_json_key_string(&w, "mode", e->select_max ? "max" : "min");
        nnx_json_key_number(&w, "value", e->select_value);
        if (e->epoch)
            nnx_json_key_int(&w, "epoch", e->epoch);
        nnx_json_end_object(&w);
        if (e->epochs)
            nnx_json_key_int(&w, "epochs", e->epochs);
        nnx_json_key_number(&w, "seconds", e->seconds);
        nnx_json_key(&w, "metrics");
        nnx_json_begin_object(&w);
        const nnx_json *m = e->metrics;
        for (size_t j = 0; m && m->type == NNX_JSON_OBJECT && j < m->n; j++)
            nnx_json_key_number(&w, m->keys[j], nnx_json_as_number(&m->items[j]));
        nnx_json_end_object(&w);
        const nnx_json *g = e->git;
        const nnx_json *dirty = nnx_json_get(g, "dirty");
        nnx_json_key(&w, "git");
        nnx_json_begin_object(&w);
        nnx_json_key_string(&w, "commit", nnx_json_as_string(nnx_json_get(g, "commit"), NULL));
        nnx_json_key_string(&w, "branch", nnx_json_as_string(nnx_json_get(g, "branch"), NULL));
        nnx_json_key(&w, "dirty");
        if (dirty && dirty->type == NNX_JSON_BOOL)
            nnx_json_bool(&w, dirty->boolean);
        else
            nnx_json_null(&w);
        nnx_json_end_object(&w);
        nnx_json_end_object(&w);
    }
    nnx_json_end_array(&w);
    nnx_rt_error err;
    if (nnx_json_writer_finish(&w, &err) < 0) {
        fprintf(stderr, "nnx runs: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* The table: a row of cells per entry, columns padded to their widest cell. */
enum { NCOL = 10 };

static void print_table(nnx_runs_entry *const *v, size_t n, const char **tests, size_t nt)
{
    static const char *const head[NCOL] = { "when", "experiment", "kind", "status", "select",
                                            "test", "epochs", "time", "commit", "dir" };
    char (*cells)[NCOL][160] = calloc(n + 1, sizeof *cells);
    if (!cells) {
        fprintf(stderr, "nnx runs: out of memory\n");
        return;
    }
    for (int c = 0; c < NCOL; c++)
        snprintf(cells[0][c], sizeof cells[0][c], "%s", head[c]);
    for (size_t i = 0; i < n; i++) {
        const nnx_runs_entry *e = v[i];
        char (*r)[160] = cells[i + 1];
        fmt_when(e->when, false, r[0], sizeof r[0]);
        snprintf(r[1], sizeof r[1], "%s", e->experiment);
        snprintf(r[2], sizeof r[2], "%s", e->kind);
        snprintf(r[3], sizeof r[3], "%s", e->status);
        if (e->select[0] && !isnan(e->select_value))
            snprintf(r[4], sizeof r[4], "%s=%.4g", e->select, e->select_value);
        else
            snprintf(r[4], sizeof r[4], "%s", e->select[0] ? e->select : "-");
        size_t len = 0;
        for (size_t k = 0; k < nt && len < sizeof r[5]; k++) {
            double x = nnx_runs_metric(e, tests[k]);
            if (!isnan(x))
                len += (size_t)snprintf(r[5] + len, sizeof r[5] - len, "%s%s=%.4g", len ? " " : "",
                                        tests[k] + 5, x);
        }
        if (!len)
            snprintf(r[5], sizeof r[5], "-");
        if (e->epoch)
            snprintf(r[6], sizeof r[6], "%d/%d", e->epoch, e->epochs);
        else
            snprintf(r[6], sizeof r[6], "%s", e->epochs ? "0" : "-");
        fmt_seconds(e->seconds, r[7], sizeof r[7]);
        nnx_runs_commit(e, r[8], sizeof r[8]);
        snprintf(r[9], sizeof r[9], "%s", e->path);
    }
    size_t width[NCOL] = { 0 };
    for (size_t i = 0; i <= n; i++)
        for (int c = 0; c < NCOL; c++) {
            size_t w = strlen(cells[i][c]);
            width[c] = w > width[c] ? w : width[c];
        }
    for (size_t i = 0; i <= n; i++) {
        for (int c = 0; c < NCOL; c++) {
            if (c + 1 == NCOL)
                printf("%s\n", cells[i][c]);
            else
                printf("%-*s  ", (int)width[c], cells[i][c]);
        }
    }
    free(cells);
}

int cmd_runs(int argc, char **argv)
{
    const char *dirs[256];
    size_t ndirs = 0;
    const char *filter = NULL;
    bool json = false, csv = false;
    sort_key = "when";
    sort_max = false;
    bool sorted = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout, EXIT_OK);
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--csv")) {
            csv = true;
        } else if (!strcmp(a, "--sort") || !strcmp(a, "--filter")) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "nnx runs: %s needs a value\n", a);
                return EXIT_BAD_INPUT;
            }
            if (a[2] == 's') {
                sort_key = argv[++i];
                sorted = true;
            } else
                filter = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = { "--json", "--csv", "--sort", "--filter", "--help" };
            cli_unknown_flag("runs", a, known, sizeof known / sizeof *known);
            return usage(stderr, EXIT_BAD_INPUT);
        } else if (ndirs == sizeof dirs / sizeof dirs[0]) {
            fprintf(stderr, "nnx runs: at most %zu directories\n", sizeof dirs / sizeof dirs[0]);
            return EXIT_BAD_INPUT;
        } else {
            dirs[ndirs++] = a;
        }
    }
    if (json && csv) {
        fprintf(stderr, "nnx runs: --json and --csv cannot be used together\n");
        return EXIT_BAD_INPUT;
    }
    if (!ndirs)
        dirs[ndirs++] = "runs";
    if (sorted && strcmp(sort_key, "when"))
        sort_max = higher_is_better(sort_key);

    nnx_runs r = { 0 };
    nnx_rt_error err;
    for (size_t i = 0; i < ndirs; i++)
        if (nnx_runs_scan(dirs[i], &r, &err) < 0) {
            fprintf(stderr, "nnx runs: %s\n", err.msg);
            nnx_runs_free(&r);
            return EXIT_BAD_INPUT;
        }
    nnx_runs_entry **v = malloc((r.n ? r.n : 1) * sizeof *v);
    if (!v) {
        fprintf(stderr, "nnx runs: out of memory\n");
        nnx_runs_free(&r);
        return EXIT_BAD_INPUT;
    }
    size_t n = 0;
    for (size_t i = 0; i < r.n; i++)
        if (!filter || fnmatch(filter, r.items[i].experiment, 0) == 0)
            v[n++] = &r.items[i];
    /* with --sort METRIC, a metric no entry has is a typo, not an empty sort */
    if (sorted && strcmp(sort_key, "when") && strcmp(sort_key, "seconds") && strcmp(sort_key, "duration")) {
        bool any = false;
        for (size_t i = 0; i < n && !any; i++)
            any = !isnan(nnx_runs_metric(v[i], sort_key));
        if (n && !any) {
            fprintf(stderr, "nnx runs: --sort %s: no listed run has that metric (e.g. %s)\n", sort_key,
                    v[0]->select[0] ? v[0]->select : "valid.loss");
            free(v);
            nnx_runs_free(&r);
            return EXIT_BAD_INPUT;
        }
    }
    qsort(v, n, sizeof *v, by_key);
    const char *tests[MAX_TESTS];
    size_t nt = test_names(v, n, tests);
    int status = EXIT_OK;
    if (json)
        status = print_json(v, n) < 0 ? EXIT_BAD_INPUT : EXIT_OK;
    else if (csv)
        print_csv(v, n, tests, nt);
    else if (n)
        print_table(v, n, tests, nt);
    else
        fprintf(stderr, "nnx runs: no runs under %s%s%s\n", dirs[0], ndirs > 1 ? " ..." : "",
                filter ? " with that experiment name" : "");
    for (size_t i = 0; i < r.nproblems; i++)
        fprintf(stderr, "nnx runs: left out: %s\n", r.problems[i]);
    if (r.nproblems)
        status = EXIT_BAD_INPUT;
    fflush(stdout);
    free(v);
    nnx_runs_free(&r);
    return status;
}
