/* main.c — `nnx COMMAND ...`: find the command and hand it the arguments. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "nnx/diag.h"

static const struct command {
    const char    *name;
    nnx_command_fn run;
    const char    *usage;
} commands[] = {
    { "run",   cmd_run,   "run FILE [NAME] [--set p=v]... [-j N]  train an experiment (--help for more)" },
    { "submit", cmd_submit, "submit FILE [NAME] [--partition P]...  a search's trials as Slurm job arrays" },
    { "status", cmd_status, "status DIR                         a search's trials: done, running, queued, failed" },
    { "check", cmd_check, "check FILE... [--set p=v]...       parse, resolve, type- and shape-check" },
    { "fmt",   cmd_fmt,   "fmt [-w | --check] FILE...         print or rewrite in canonical layout" },
    { "plan",  cmd_plan,  "plan FILE [NAME] [--set path=value]  list the trials a search will run" },
    { "report", cmd_report, "report DIR [--text] [-o FILE]      HTML (or text) report of a run, search or ensemble" },
    { "data",  cmd_data,  "data FILE [NAME] [--json]           a data block's rows, classes and columns, load time, cache" },
    { "cache", cmd_cache, "cache list | clean [--all | --older D]  the data cache: its entries; remove them" },
    { "lr-find", cmd_lr_find, "lr-find FILE [NAME] [--set p=v]...  the lr range test: a curve and the lr to use" },
    { "diagnose", cmd_diagnose, "diagnose DIR [--json]              the loss-curve diagnosis of a run" },
    { "predict", cmd_predict, "predict RUN DATA [-o FILE] [--probs]  a trained model's predictions for new rows" },
    { "eval",  cmd_eval,  "eval RUN DATA [LABELS] [--json]    a trained model's metrics on labelled data" },
    { "export", cmd_export, "export RUN -o FILE.onnx            the trained model as an ONNX file" },
    /* experiments in git: list, compare */
    { "runs",  cmd_runs,  "runs [DIR]... [--sort M] [--filter E]  one line per run: metrics, epochs, commit" },
    { "diff",  cmd_diff,  "diff A B [--json]                  settings, commits and metrics of two runs, side by side" },
};

static void usage(FILE *out)
{
    fprintf(out, "nnx %s — experiments as plain text\n\nusage:\n", NNX_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  nnx %s\n", commands[i].usage);
    fprintf(out, "\nexit status: 0 success, 1 a run failed, 2 bad input\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_BAD_INPUT;
    }
    /* a file-size limit (ulimit -f) is an ordinary write error (EFBIG) that
     * every writer reports, not a signal that kills the process mid-file */
    signal(SIGXFSZ, SIG_IGN);
    const char *name = argv[1];
    if (!strcmp(name, "help") || !strcmp(name, "-h") || !strcmp(name, "--help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "version") || !strcmp(name, "--version")) {
        printf("nnx %s\n", NNX_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        names[i] = commands[i].name;
    const char *fix = nnx_suggest(name, names, sizeof names / sizeof *names);
    fprintf(stderr, "nnx: unknown command '%s'", name);
    if (fix)
        fprintf(stderr, " (did you mean '%s'?)", fix);
    fputc('\n', stderr);
    usage(stderr);
    return EXIT_BAD_INPUT;
}
