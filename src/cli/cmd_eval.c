/* cmd_eval.c — `nnx eval RUN DATA [LABELS] [--json]`: every metric the run's experiment declares, on new labelled data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/util/json.h"
#include "nnx/resolve.h"
#include "nnx/util/file.h"
#include "nnx/run.h"

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "nnx eval: %s%s%s\n"
            "usage: nnx eval RUN DATA [LABELS] [--json] [-j N] [--no-cache]\n", msg, arg ? " " : "",
            arg ? arg : "");
    return EXIT_BAD_INPUT;
}

/* The experiment the model was trained by: its run's experiment.nnx. */
static nnx_experiment *load_experiment(const char *dir, nnx_program **prog, nnx_checker **chk,
                                       nnx_diags *d)
{
    char *file = nnx_path_join(dir, "experiment.nnx");
    nnx_experiment *e = NULL;
    *prog = file ? nnx_program_load(file, NULL, d) : NULL;
    *chk = *prog ? nnx_checker_new(*prog) : NULL;
    if (*chk && d->nerrors == 0)
        e = nnx_check_experiment(*chk, NULL, NULL, 0, d);
    if (!e) {
        nnx_diags_print(d, stderr, isatty(fileno(stderr)));
        fprintf(stderr, "nnx eval: %s: the run's experiment does not check, so its metrics "
                "are unknown\n", file ? file : "experiment.nnx");
    }
    free(file);
    return e;
}

int cmd_eval(int argc, char **argv)
{
    const char *run = NULL, *data = NULL, *labels = NULL;
    bool json = false, no_cache = false;
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            json = true;
        else if (!strcmp(a, "--no-cache"))
            no_cache = true;
        else if (!strcmp(a, "-j")) {
            char *end;
            long j = i + 1 < argc ? strtol(argv[++i], &end, 10) : 0;
            if (j < 1 || j > 64 || *end)
                return usage_error("-j needs a number of threads from 1 to 64", NULL);
            threads = (int)j;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: nnx eval RUN DATA [LABELS] [--json] [-j N] [--no-cache]\n\n"
                   "RUN is a run, search (its winner) or ensemble (the members' mean) directory;\n"
                   "DATA a CSV file with the training file's columns, its label column included,\n"
                   "an IDX images file followed by its LABELS file, or a .npy array of rows\n"
                   "followed by the .npy array of their labels.  Prints every metric the\n"
                   "run's experiment declares (Lua metrics too) as test.NAME, like the test line\n"
                   "of nnx run; --json prints them as JSON.  A CSV or IDX file goes through\n"
                   "the data cache as nnx run's do; --no-cache parses it again.\n");
            return EXIT_OK;
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = { "--json", "-j", "--help", "--no-cache" };
            cli_unknown_flag("eval", a, known, sizeof known / sizeof *known);
            fprintf(stderr, "usage: nnx eval RUN DATA [LABELS] [--json] [-j N] [--no-cache]\n");
            return EXIT_BAD_INPUT;
        }
        else if (!run)
            run = a;
        else if (!data)
            data = a;
        else if (!labels)
            labels = a;
        else
            return usage_error("extra argument", a);
    }
    if (!run || !data)
        return usage_error(!run ? "missing RUN (a run directory)" : "missing DATA (a labelled "
                           "CSV file, IDX images and labels, or .npy rows and labels)", NULL);
    nnx_model *m = cli_model_open("eval", run, threads);
    if (!m)
        return EXIT_BAD_INPUT;
    nnx_dataset rows = { 0 };
    nnx_diags d = { 0 };
    nnx_program *prog = NULL;
    nnx_checker *chk = NULL;
    nnx_experiment *e = NULL;
    float *p = NULL;
    double *values = NULL;
    int status = EXIT_BAD_INPUT;
    if (cli_model_rows("eval", m, data, labels, true, no_cache, &rows) < 0)
        goto out;
    e = load_experiment(nnx_model_member_dir(m, 0), &prog, &chk, &d);
    if (!e)
        goto out;
    nnx_rt_error err = { { 0 } };
    double loss;
    char *lua = cli_lua_stdlib(prog);
    p = malloc((size_t)rows.n * (size_t)nnx_model_outputs(m) * sizeof *p + 1);
    values = calloc(e->nmetrics + 1, sizeof *values);
    int rc = !p || !values ? nnx_rt_fail(&err, "out of memory")
                           : nnx_model_evaluate(m, &rows, p, &loss, &err);
    if (rc == 0)
        rc = nnx_run_measure(e, lua, &rows, p, nnx_model_outputs(m), loss, values, &err);
    free(lua);
    if (rc < 0) {
        fprintf(stderr, "nnx eval: %s\n", err.msg);
        goto out;
    }
    if (json) {
        nnx_json_writer w;
        nnx_json_writer_to_file(&w, stdout, 2);
        nnx_json_begin_object(&w);
        nnx_json_key_int(&w, "rows", rows.n);
        nnx_json_key(&w, "metrics");
        nnx_json_begin_object(&w);
        for (size_t i = 0; i < e->nmetrics; i++) {
            char name[160];
            snprintf(name, sizeof name, "test.%s", e->metrics[i].name);
            nnx_json_key_number(&w, name, values[i]);
        }
        nnx_json_end_object(&w);
        nnx_json_end_object(&w);
        if (nnx_json_writer_finish(&w, &err) < 0) {
            fprintf(stderr, "nnx eval: %s\n", err.msg);
            goto out;
        }
    } else {
        printf("rows        %d\n", (int)rows.n);
        for (size_t i = 0; i < e->nmetrics; i++)
            printf("%stest.%s = %.6g", i ? ", " : "test        ", e->metrics[i].name, values[i]);
        printf("\n");
    }
    status = EXIT_OK;
out:
    free(p);
    free(values);
    nnx_experiment_free(e);
    nnx_diags_free(&d);
    nnx_checker_free(chk);
    nnx_program_free(prog);
    nnx_dataset_free(&rows);
    nnx_model_free(m);
    return status;
}
