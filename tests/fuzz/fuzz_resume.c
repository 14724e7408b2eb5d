/* fuzz_resume.c — fuzz `nnx run --resume`: the resume.state reader and the metrics.csv and steps.csv it keeps.
 *
 * Once per process the target checks a small experiment (spirals, adam,
 * batch norm, dropout, a plateau schedule: every part of resume.state is
 * used) and runs it until an interrupt after epoch 1, which leaves a run
 * directory with resume.state.  Each input then replaces three files of a
 * copy of that directory and the run is resumed from it (nnx_run_trial
 * with resume_dir), training on to the end when the files are accepted.
 *
 * Input: a 16-bit little-endian length and that many bytes of resume.state,
 * another such length and metrics.csv, then steps.csv (the rest).  Set
 * FUZZ_RESUME_SEED=FILE to write the interrupted run's own files as one such
 * input (how tests/fuzz/corpus/resume was seeded).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/check.h"
#include "nnx/resolve.h"
#include "nnx/util/file.h"
#include "nnx/run.h"

#include "fuzz_io.h"

static const char experiment[] =
    "data d {\n"
    "    train = spirals(n = 90, classes = 3, noise = 0.2, seed = 3)\n"
    "    valid = split(train, 0.2)\n"
    "}\n"
    "network net {\n"
    "    dense(8)  batchnorm  swish  dropout(0.1)\n"
    "    dense(3)\n"
    "}\n"
    "experiment e {\n"
    "    data      = d\n"
    "    model     = net\n"
    "    loss      = cross_entropy\n"
    "    optimizer = adam(lr = 1e-2)\n"
    "    schedule {\n"
    "        decay = plateau(patience = 1, factor = 0.5)\n"
    "    }\n"
    "    epochs     = 3\n"
    "    batch      = 16\n"
    "    seed       = 1\n"
    "    metrics    = [accuracy]\n"
    "    select     = max(valid.accuracy)\n"
    "    early_stop = patience(2, on = valid.loss)\n"
    "}\n";

static nnx_program *program;
static nnx_checker *checker;
static nnx_experiment *exp_;
static char *base_text;             /* experiment.nnx of the interrupted run */
static size_t base_len;
static volatile sig_atomic_t stop_now;

static void stop_in_epoch_2(void *user, const nnx_run_progress *p)
{
    (void)user;
    if (p->epoch == 2)
        stop_now = 1;
}

static void forget(void)
{
    nnx_experiment_free(exp_);
    nnx_checker_free(checker);
    nnx_program_free(program);
    free(base_text);
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char *path = nnx_path_join(dir, name);
    nnx_rt_error err;
    char *text = path ? nnx_file_read(path, 0, len, &err) : NULL;
    free(path);
    if (!text) {
        fprintf(stderr, "fuzz_resume: %s: %s\n", name, err.msg);
        abort();
    }
    return text;
}

static void put16(FILE *f, size_t n)
{
    fputc((int)(n & 0xff), f);
    fputc((int)(n >> 8), f);
}

/* Check the experiment and leave an interrupted run of it; abort on failure
 * (the target cannot work without it). */
static void prepare(void)
{
    nnx_diags d = { 0 };
    char *path = fuzz_path("e.nnx");
    nnx_source *src = nnx_source_from_string(path, experiment);
    free(path);
    program = src ? nnx_program_from_source(src, NULL, &d) : NULL;
    checker = program ? nnx_checker_new(program) : NULL;
    exp_ = checker ? nnx_check_experiment(checker, NULL, NULL, 0, &d) : NULL;
    if (!exp_) {
        nnx_diags_print(&d, stderr, false);
        abort();
    }
    nnx_diags_free(&d);
    atexit(forget);

    char *base = fuzz_path("base");
    nnx_run_callbacks cb = { .progress = stop_in_epoch_2 };
    nnx_run_opts o = { .dir = base, .threads = 1, .interrupt = &stop_now, .cb = &cb };
    nnx_run_result r;
    nnx_run_trial(exp_, &o, &r);
    if (r.status != NNX_RUN_INTERRUPTED || r.epochs_run != 1) {
        fprintf(stderr, "fuzz_resume: the base run did not stop after epoch 1: %s\n",
                r.message ? r.message : "");
        abort();
    }
    nnx_run_result_free(&r);
    base_text = slurp(base, "experiment.nnx", &base_len);
    const char *seed = getenv("FUZZ_RESUME_SEED");
    if (seed) {
        size_t ls, lm, lt;
        char *s = slurp(base, "resume.state", &ls), *m = slurp(base, "metrics.csv", &lm);
        char *t = slurp(base, "steps.csv", &lt);
        FILE *f = fopen(seed, "wb");
        if (!f)
            abort();
        put16(f, ls), fwrite(s, 1, ls, f), put16(f, lm), fwrite(m, 1, lm, f), fwrite(t, 1, lt, f);
        fclose(f);
        free(s), free(m), free(t);
    }
    free(base);
}

static bool put(const char *name, const void *data, size_t size)
{
    char *path = fuzz_write(name, data, size);
    free(path);
    return path != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!exp_)
        prepare();
    size_t at = 0, n[2];
    const uint8_t *part[2];
    for (int i = 0; i < 2; i++) {
        if (size - at < 2)
            return 0;
        n[i] = data[at] | (size_t)data[at + 1] << 8;
        at += 2;
        if (n[i] > size - at)
            return 0;
        part[i] = data + at;
        at += n[i];
    }
    fuzz_clear();
    if (!put("run/experiment.nnx", base_text, base_len) || !put("run/resume.state", part[0], n[0]) ||
        !put("run/metrics.csv", part[1], n[1]) || !put("run/steps.csv", data + at, size - at))
        abort();
    char *dir = fuzz_path("run");
    nnx_run_opts o = { .resume_dir = dir, .threads = 1 };
    nnx_run_result r;
    nnx_run_trial(exp_, &o, &r);
    nnx_run_result_free(&r);
    free(dir);
    return 0;
}
