/* cmd_lrfind.c — `nnx lr-find FILE [NAME]`: Smith's lr range test, a terminal chart, a report and the lr to use. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/exp.h"
#include "nnx/report.h"
#include "nnx/run.h"

enum { CHART_W = 64, CHART_H = 14 };

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: nnx lr-find FILE [NAME] [--from DIR] [--set path=value]... [--steps N] [-j N]\n"
            "                   [--out DIR] [--no-cache]\n"
            "  Smith's learning-rate range test on experiment NAME: train a fresh network for N\n"
            "  steps (default 300) with the lr growing exponentially from 1e-7 to 10, stop where\n"
            "  the smoothed loss diverges, and propose an lr: the middle, on a log scale, of\n"
            "  the steepest fall and the lowest point / 10.  Writes DIR/lr-find-NAME/ (default runs/):\n"
            "  lr_find.csv and report.html\n"
            "exit status: 0 an lr proposed, 1 the loss never fell, 2 bad input\n");
    return status;
}

/* The smoothed loss against log10(lr), as rows of characters. */
static void print_chart(const nnx_lr_range *r)
{
    if (r->n < 2)
        return;
    double x0 = log10(r->lr[0]), x1 = log10(r->lr[r->n - 1]);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->n; i++)
        if (isfinite(r->smooth[i])) {
            lo = fmin(lo, r->smooth[i]);
            hi = fmax(hi, r->smooth[i]);
        }
    /* keep the fall readable: the top is at most 2x the start above the bottom */
    if (isfinite(r->smooth[0]) && hi > r->smooth[0] + (r->smooth[0] - lo))
        hi = r->smooth[0] + (r->smooth[0] - lo);
    if (!(hi > lo) || !(x1 > x0))
        return;
    char grid[CHART_H][CHART_W + 1];
    for (int y = 0; y < CHART_H; y++) {
        memset(grid[y], ' ', CHART_W);
        grid[y][CHART_W] = '\0';
    }
    int mark = -1;
    if (isfinite(r->lr_proposed))
        mark = (int)lround((log10(r->lr_proposed) - x0) / (x1 - x0) * (CHART_W - 1));
    for (int y = 0; mark >= 0 && mark < CHART_W && y < CHART_H; y++)
        grid[y][mark] = '|';
    for (size_t i = 0; i < r->n; i++) {
        if (!isfinite(r->smooth[i]))
            continue;
        int x = (int)lround((log10(r->lr[i]) - x0) / (x1 - x0) * (CHART_W - 1));
        double v = fmin(r->smooth[i], hi);
        int y = (int)lround((hi - v) / (hi - lo) * (CHART_H - 1));
        if (x >= 0 && x < CHART_W && y >= 0 && y < CHART_H)
            grid[y][x] = '*';
    }
    printf("\n  smoothed train loss against the lr (log scale)%s\n", mark >= 0 ? "; | the proposed lr" : "");
    for (int y = 0; y < CHART_H; y++) {
        double v = hi - (hi - lo) * y / (CHART_H - 1);
        printf("  %9.4g %s\n", v, grid[y]);
    }
    printf("  %9s %-*.3g%*.3g\n\n", "lr", CHART_W / 2, r->lr[0], CHART_W - CHART_W / 2,
           r->lr[r->n - 1]);
}

int cmd_lr_find(int argc, char **argv)
{
    const char *file = NULL, *name = NULL, *out_dir = "runs", *from_dir = NULL;
    nnx_override sets[CLI_MAX_SETS];
    size_t nsets = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores < 1 ? 1 : cores > 256 ? 256 : (int)cores;
    nnx_lr_range_conf conf = { 0 };
    bool no_cache = false;
    int set;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout, EXIT_OK);
        if ((set = cli_set_flag("lr-find", argc, argv, &i, sets, &nsets)) != 0 ||
            (set = cli_from_flag("lr-find", argc, argv, &i, &from_dir)) != 0) {
            if (set < 0)
                return EXIT_BAD_INPUT;
        } else if (!strcmp(a, "--no-cache")) {
            no_cache = true;
        } else if (!strcmp(a, "--steps") || !strcmp(a, "-j")) {
            const char *n = i + 1 < argc ? argv[++i] : NULL;
            char *end;
            long v = n ? strtol(n, &end, 10) : 0;
            bool steps = a[1] == '-';
            if (!n || *end || v < (steps ? 10 : 1) || v > (steps ? 100000 : 256)) {
                fprintf(stderr, "nnx lr-find: %s needs %s\n", a,
                        steps ? "a step count from 10 to 100000" : "a thread count from 1 to 256");
                return EXIT_BAD_INPUT;
            }
            if (steps)
                conf.steps = (int)v;
            else
                threads = (int)v;
        } else if (!strcmp(a, "--out")) {
            out_dir = i + 1 < argc ? argv[++i] : NULL;
            if (!out_dir || !*out_dir) {
                fprintf(stderr, "nnx lr-find: --out needs a directory\n");
                return EXIT_BAD_INPUT;
            }
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = { "--set", "--from", "--steps", "-j", "--out",
                                                 "--help", "--no-cache" };
            cli_unknown_flag("lr-find", a, known, sizeof known / sizeof *known);
            return usage(stderr, EXIT_BAD_INPUT);
        } else if (cli_file_and_name("lr-find", a, &file, &name) < 0) {
            return usage(stderr, EXIT_BAD_INPUT);
        }
    }
    if (!file)
        return usage(stderr, EXIT_BAD_INPUT);
    cli_from from;
    nnx_override all[2 * CLI_MAX_SETS];
    const char *origins[2 * CLI_MAX_SETS];
    size_t nall;
    if (cli_from_merge("lr-find", from_dir, sets, nsets, all, origins, &nall, &from) < 0)
        return EXIT_BAD_INPUT;
    cli_loaded loaded;
    nnx_experiment *e = cli_load_experiment("lr-find", file, name, all, origins, nall, &loaded);
    if (!e) {
        cli_from_free(&from);
        return EXIT_BAD_INPUT;
    }
    if (from_dir)
        cli_from_say(stdout, from_dir, &from, all);
    if (e->search.kind != NNX_XSEARCH_NONE || e->nensemble)
        printf("note        the %s of %s is left out: the test trains the experiment's own values\n",
               e->nensemble ? "ensemble" : "search", e->name);
    nnx_lr_range r;
    int32_t batch = 0;
    nnx_rt_error err = { { 0 } };
    char *data_cache = cli_data_cache_dir(no_cache);
    char warning[512] = "";
    int found = nnx_run_lr_find(e, data_cache, warning, sizeof warning, threads, &conf, &r, &batch,
                                &err);
    free(data_cache);
    if (warning[0])
        fprintf(stderr, "nnx lr-find: warning: data cache: %s\n", warning);
    if (found < 0) {
        fprintf(stderr, "nnx lr-find: %s\nnothing was trained\n", err.msg);
        cli_loaded_free(&loaded);
        cli_from_free(&from);
        return EXIT_BAD_INPUT;
    }
    printf("experiment  %s: %zu steps of batch %d, lr %.3g -> %.3g%s\n", e->name, r.n, batch,
           r.n ? r.lr[0] : NAN, r.n ? r.lr[r.n - 1] : NAN,
           r.diverged ? " (stopped: the loss diverged)" : "");
    print_chart(&r);
    int status = EXIT_OK;
    if (isfinite(r.lr_proposed)) {
        printf("lowest      smoothed loss %.4g at lr %.3g\n", r.smooth[r.min_at], r.lr_min_loss);
        printf("steepest    fall at lr %.3g\n", r.lr_steepest);
        printf("proposed    lr %.2g (the middle, on a log scale, of the steepest fall %.2g and the\n"
               "            lowest point / 10, %.2g)\n", r.lr_proposed, r.lr_steepest, r.lr_min_loss / 10);
        printf("            nnx run %s %s%s%s --set optimizer.lr=%.2g\n", file, e->name,
               from_dir ? " --from " : "", from_dir ? from_dir : "", r.lr_proposed);
    } else {
        printf("proposed    none: the loss did not fall before it diverged (look at the data, the\n"
               "            labels and the network before the lr)\n");
        status = EXIT_RUN_FAILED;
    }
    size_t len = strlen(out_dir) + strlen(e->name) + 16;
    char *dir = malloc(len);
    char *report = NULL;
    if (!dir) {
        fprintf(stderr, "nnx lr-find: out of memory\n");
        status = EXIT_RUN_FAILED;
    } else {
        snprintf(dir, len, "%s/lr-find-%s", out_dir, e->name);
        nnx_lr_find_info info = { .experiment = e->name, .source = file, .batch = batch };
        if (nnx_lr_find_write(dir, &info, &r, &report, &err) < 0) {
            fprintf(stderr, "nnx lr-find: %s\n", err.msg);
            status = EXIT_RUN_FAILED;
        } else {
            printf("report      %s\n", report);
        }
    }
    free(report);
    free(dir);
    nnx_lr_range_free(&r);
    cli_loaded_free(&loaded);
    cli_from_free(&from);
    return status;
}
