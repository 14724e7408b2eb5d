/* cmd_predict.c — `nnx predict RUN DATA [-o FILE] [--probs]`: a trained model's predictions for new rows, as CSV. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "nnx/util/buf.h"
#include "nnx/util/file.h"

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "nnx predict: %s%s%s\n"
            "usage: nnx predict RUN DATA [-o FILE] [--probs] [-j N] [--no-cache]\n", msg, arg ? " " : "",
            arg ? arg : "");
    return EXIT_BAD_INPUT;
}

/* The CSV text: a header, then one row per input row. */
static void write_rows(nnx_buf *b, const nnx_model *m, const float *p, int32_t n, bool probs)
{
    int k = nnx_model_outputs(m);
    int32_t classes = nnx_model_classes(m);
    bool cls = nnx_model_task_of(m) == NNX_MODEL_CLASSIFICATION;
    bool sigmoid = nnx_model_output_of(m) == NNX_MODEL_SIGMOID;
    nnx_buf_puts(b, cls ? "class" : "value");
    for (int32_t c = 0; cls && probs && c < classes; c++) {
        nnx_buf_puts(b, ",");
        nnx_buf_put_csv_cell(b, nnx_model_class_name(m, c));
    }
    nnx_buf_puts(b, "\n");
    for (int32_t i = 0; i < n; i++) {
        const float *row = p + (size_t)i * (size_t)k;
        if (!cls) {
            nnx_buf_printf(b, "%.9g\n", (double)row[0]);
            continue;
        }
        nnx_buf_put_csv_cell(b, nnx_model_class_name(m, nnx_model_class_of(m, row)));
        if (probs && sigmoid)
            nnx_buf_printf(b, ",%.9g,%.9g", (double)(1.0f - row[0]), (double)row[0]);
        for (int c = 0; probs && !sigmoid && c < k; c++)
            nnx_buf_printf(b, ",%.9g", (double)row[c]);
        nnx_buf_puts(b, "\n");
    }
}

int cmd_predict(int argc, char **argv)
{
    const char *run = NULL, *data = NULL, *out = NULL;
    bool probs = false, no_cache = false;
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--probs"))
            probs = true;
        else if (!strcmp(a, "--no-cache"))
            no_cache = true;
        else if (!strcmp(a, "-o") || !strcmp(a, "-j")) {
            if (i + 1 >= argc)
                return usage_error(a, "needs a value");
            if (a[1] == 'o')
                out = argv[++i];
            else {
                char *end;
                long j = strtol(argv[++i], &end, 10);
                if (*end || j < 1 || j > 64)
                    return usage_error("-j needs a number of threads from 1 to 64, not",
                                       argv[i]);
                threads = (int)j;
            }
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: nnx predict RUN DATA [-o FILE] [--probs] [-j N] [--no-cache]\n\n"
                   "RUN is a run, search (its winner) or ensemble (the members' mean) directory;\n"
                   "DATA a CSV file with the training file's feature columns (by name, in any\n"
                   "order; a label column is ignored), an IDX images file (gzip or plain) or a\n"
                   "NumPy .npy array of rows, as the npy(...) data source reads it.\n"
                   "Writes CSV: the predicted class (or value), and with --probs one\n"
                   "probability column per class, to stdout or FILE.\n"
                   "A CSV or IDX file goes through the data cache as nnx run's do\n"
                   "($NNX_CACHE, default ~/.cache/nnx); --no-cache parses it again.\n"
                   "exit status: 0 written, 1 the output could not be written (FILE is\n"
                   "left as it was), 2 bad input (the run, the data, a flag)\n");
            return EXIT_OK;
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = { "--probs", "-o", "-j", "--help", "--no-cache" };
            cli_unknown_flag("predict", a, known, sizeof known / sizeof *known);
            fprintf(stderr, "usage: nnx predict RUN DATA [-o FILE] [--probs] [-j N] [--no-cache]\n");
            return EXIT_BAD_INPUT;
        }
        else if (!run)
            run = a;
        else if (!data)
            data = a;
        else
            return usage_error("one data file only; extra argument", a);
    }
    if (!run || !data)
        return usage_error(!run ? "missing RUN (a run directory)" : "missing DATA (a CSV, IDX or "
                           ".npy file)", NULL);
    nnx_model *m = cli_model_open("predict", run, threads);
    if (!m)
        return EXIT_BAD_INPUT;
    nnx_dataset rows;
    if (cli_model_rows("predict", m, data, NULL, false, no_cache, &rows) < 0) {
        nnx_model_free(m);
        return EXIT_BAD_INPUT;
    }
    nnx_rt_error err = { { 0 } };
    float *p = malloc((size_t)rows.n * (size_t)nnx_model_outputs(m) * sizeof *p + 1);
    int rc = p ? nnx_model_predict(m, rows.x, rows.n, p, &err)
               : nnx_rt_fail(&err, "out of memory for %d rows", (int)rows.n);
    nnx_buf b = { 0 };
    if (rc == 0) {
        write_rows(&b, m, p, rows.n, probs);
        if (b.oom)
            rc = nnx_rt_fail(&err, "out of memory for the output");
    }
    if (rc < 0)
        fprintf(stderr, "nnx predict: %s\n", err.msg);
    /* the output cannot be written (a full disk, a directory): the input was
     * fine, the command failed; FILE is left as it was (or, for a device, as
     * far as it took the bytes) */
    int wrc = 0;
    if (rc == 0 && out)
        wrc = nnx_file_write(out, b.s, b.len, 0, &err);
    else if (rc == 0 && (fwrite(b.s, 1, b.len, stdout) != b.len || fflush(stdout) != 0))
        wrc = nnx_rt_fail(&err, "stdout: cannot write: %s", strerror(errno));
    if (wrc < 0)
        fprintf(stderr, "nnx predict: %s\n", err.msg);
    free(b.s);
    free(p);
    nnx_dataset_free(&rows);
    nnx_model_free(m);
    return rc < 0 ? EXIT_BAD_INPUT : wrc < 0 ? EXIT_RUN_FAILED : EXIT_OK;
}
