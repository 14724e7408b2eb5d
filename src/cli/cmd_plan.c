/* cmd_plan.c — `nnx plan FILE [NAME] [--from DIR] [--set path=value]...`: list the trials an experiment will run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/exp.h"
#include "nnx/plan.h"
#include "nnx/resolve.h"

static const char *kind_text(nnx_plan_kind k)
{
    switch (k) {
    case NNX_PLAN_SINGLE: return "a single run";
    case NNX_PLAN_GRID: return "grid search";
    case NNX_PLAN_RANDOM: return "random search";
    case NNX_PLAN_STAGED: return "staged search";
    case NNX_PLAN_ENSEMBLE: return "ensemble";
    }
    return "?";
}

/* prune = hyperband: each bracket's rungs, and the epochs against an unpruned search. */
static void print_brackets(const nnx_experiment *e, size_t ntrials)
{
    nnx_plan_bracket *b = malloc((ntrials ? ntrials : 1) * sizeof *b);
    size_t nb = b ? nnx_plan_brackets(e, ntrials, b, ntrials) : 0;
    if (nb)
        printf("pruned by Hyperband (min_epochs = %d, eta = %d): %zu bracket%s, each successive halving from its own "
               "epochs\n", e->prune.min_epochs, e->prune.eta, nb, nb == 1 ? "" : "s");
    long long total = 0;
    for (size_t k = 0; k < nb; k++) {
        printf("  bracket %zu (s = %d)  trials %zu..%zu\n", k + 1, b[k].s, b[k].first + 1, b[k].first + b[k].ntrials);
        for (size_t r = 0; r < b[k].nrungs; r++) {
            total += (long long)b[k].trials[r] * (b[k].epochs[r] - (r ? b[k].epochs[r - 1] : 0));
            printf("    rung %zu  %5zu trial%s to epoch %d\n", r + 1, b[k].trials[r], b[k].trials[r] == 1 ? " " : "s",
                   b[k].epochs[r]);
        }
    }
    if (nb)
        printf("epochs  at most %lld, against %lld without pruning\n", total, (long long)ntrials * e->epochs);
    free(b);
}

static void print_plan(const nnx_experiment *e, const nnx_plan *p)
{
    char sel[256];
    nnx_exp_metric_ref_str(e, e->select, sel, sizeof sel);
    const char *dir = e->select.maximize ? "max" : "min";
    if (p->kind == NNX_PLAN_STAGED) {
        size_t total = 0;
        for (size_t i = 0; i < p->nstages; i++)
            total += p->stages[i].nvalues;
        printf("experiment %s: staged search, %zu stages, %zu trials; each stage keeps the best value by %s(%s)\n",
               e->name, p->nstages, total, dir, sel);
        for (size_t i = 0; i < p->nstages; i++) {
            printf("  stage %zu  %-16s in [", i + 1, p->stages[i].path);
            for (size_t j = 0; j < p->stages[i].nvalues; j++)
                printf("%s%s", j ? ", " : "", p->stages[i].values[j]);
            printf("]\n");
        }
        return;
    }
    bool tpe = e->search.kind == NNX_XSEARCH_TPE;
    printf("experiment %s: %s, %zu trial%s", e->name, tpe ? "tpe search" : kind_text(p->kind), p->ntrials,
           p->ntrials == 1 ? "" : "s");
    if (p->kind == NNX_PLAN_GRID || p->kind == NNX_PLAN_RANDOM)
        printf(", best by %s(%s)", dir, sel);
    printf("\n");
    for (size_t i = 0; i < p->ntrials; i++) {
        if (i == p->proposed_from) {
            size_t lag = (size_t)e->search.lag;
            printf("  %4zu..%zu  proposed while the search runs (tree-structured Parzen estimator): trial k from "
                   "trials 1..k-%zu,\n        as of %s\n",
                   i + 1, p->ntrials, lag,
                   e->prune.kind == NNX_XPRUNE_HALVING || e->prune.kind == NNX_XPRUNE_HYPERBAND
                       ? "the epochs of their first rung" : "their end");
            break;
        }
        const nnx_trial *t = &p->trials[i];
        printf(t->nov ? "  %4zu  %-40s" : "  %4zu  %s", i + 1, t->name);
        for (size_t j = 0; j < t->nov; j++)
            printf("  %s=%s", t->ov[j].path, t->ov[j].value);
        printf("\n");
    }
    int epochs[NNX_PLAN_MAX_RUNGS];
    size_t counts[NNX_PLAN_MAX_RUNGS];
    size_t nr = nnx_plan_rungs(e, p->ntrials, epochs, counts);
    if (nr) {
        printf("pruned by successive halving (min_epochs = %d, eta = %d): the best 1/%d of each rung go on\n",
               e->prune.min_epochs, e->prune.eta, e->prune.eta);
        long long total = 0;
        for (size_t k = 0; k < nr; k++) {
            total += (long long)counts[k] * (epochs[k] - (k ? epochs[k - 1] : 0));
            printf("  rung %zu  %5zu trial%s to epoch %d\n", k + 1, counts[k], counts[k] == 1 ? " " : "s", epochs[k]);
        }
        printf("epochs  at most %lld, against %lld without pruning\n", total, (long long)p->ntrials * e->epochs);
    }
    print_brackets(e, p->ntrials);
    if (e->prune.kind == NNX_XPRUNE_MEDIAN)
        printf("pruned by the median rule (after = %d): from epoch %d on, a trial whose best %s so far is worse than\n"
               "  the median of the trials before it (in this order) at that epoch stops there\n",
               e->prune.after, e->prune.after, sel);
}

static int plan_one(nnx_checker *c, const char *name, const nnx_override *ov, const char *const *origins,
                    size_t nov, nnx_diags *d)
{
    nnx_experiment *e = nnx_check_experiment_from(c, name, ov, origins, nov, d);
    if (!e)
        return EXIT_BAD_INPUT;
    char *err = NULL;
    nnx_plan *p = nnx_plan_make(e, &err);
    int status = EXIT_OK;
    if (!p) {
        fprintf(stderr, "nnx plan: %s: %s\n", e->name, err ? err : "out of memory");
        status = EXIT_BAD_INPUT;
    } else
        print_plan(e, p);
    free(err);
    nnx_plan_free(p);
    nnx_experiment_free(e);
    return status;
}

int cmd_plan(int argc, char **argv)
{
    const char *file = NULL, *name = NULL, *from_dir = NULL;
    nnx_override sets[CLI_MAX_SETS];
    size_t nsets = 0;
    int set;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: nnx plan FILE [NAME] [--from DIR] [--set path=value]...\n"
                   "  list the trials of an experiment's search or ensemble (all experiments without NAME)\n"
                   "  --from DIR   with the winning values of the search in DIR first, as nnx run --from\n");
            return EXIT_OK;
        }
        if ((set = cli_set_flag("plan", argc, argv, &i, sets, &nsets)) != 0 ||
            (set = cli_from_flag("plan", argc, argv, &i, &from_dir)) != 0) {
            if (set < 0)
                return EXIT_BAD_INPUT;
        } else if (argv[i][0] == '-') {
            static const char *const known[] = { "--set", "--from", "--help" };
            cli_unknown_flag("plan", argv[i], known, 3);
            return EXIT_BAD_INPUT;
        } else if (!file)
            file = argv[i];
        else if (!name)
            name = argv[i];
        else {
            fprintf(stderr, "nnx plan: too many arguments\n");
            return EXIT_BAD_INPUT;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: nnx plan FILE [NAME] [--from DIR] [--set path=value]...\n");
        return EXIT_BAD_INPUT;
    }
    cli_from from;
    nnx_override ov[2 * CLI_MAX_SETS];
    const char *origins[2 * CLI_MAX_SETS];
    size_t nov;
    if (cli_from_merge("plan", from_dir, sets, nsets, ov, origins, &nov, &from) < 0)
        return EXIT_BAD_INPUT;
    if (from_dir)
        cli_from_say(stdout, from_dir, &from, ov);
    bool color = isatty(fileno(stderr));
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_load(file, NULL, &d);
    int status = EXIT_OK;
    nnx_checker *c = p && !d.nerrors ? nnx_checker_new(p) : NULL;
    if (!c)
        status = EXIT_BAD_INPUT;
    else if (name)
        status = plan_one(c, name, ov, origins, nov, &d);
    else {
        /* every experiment of the file, in order */
        size_t count = 0;
        for (size_t i = 0; i < p->files[0]->nitems; i++)
            count += p->files[0]->items[i]->kind == NNX_I_EXPERIMENT;
        if (count <= 1)
            status = plan_one(c, NULL, ov, origins, nov, &d);
        for (size_t i = 0; count > 1 && i < p->files[0]->nitems; i++) {
            const nnx_item *it = p->files[0]->items[i];
            if (it->kind == NNX_I_EXPERIMENT && plan_one(c, it->name, ov, origins, nov, &d) != EXIT_OK)
                status = EXIT_BAD_INPUT;
        }
    }
    nnx_diags_print(&d, stderr, color);
    if (d.nerrors)
        status = EXIT_BAD_INPUT;
    nnx_checker_free(c);
    nnx_program_free(p);
    nnx_diags_free(&d);
    cli_from_free(&from);
    return status;
}
