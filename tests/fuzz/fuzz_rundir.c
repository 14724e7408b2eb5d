/* fuzz_rundir.c — fuzz the run-directory readers behind `nnx report` and `nnx diagnose`.
 *
 * Input: a directory written as text, each file introduced by a line
 * "=== NAME" (NAME from letters, digits and . _ = - /, no "..", at most 24
 * files), e.g.
 *     === summary.json
 *     {"status": "completed", ...}
 *     === metrics.csv
 *     epoch,lr,train.loss,...
 * The target writes the files into a fresh scratch directory, reads it as
 * the commands do (nnx_rundir_read), and on success renders both reports
 * (text and HTML, to /dev/null) and diagnoses the run or every readable
 * trial or member (findings written as JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/diagnose.h"
#include "nnx/util/json.h"
#include "nnx/report.h"
#include "nnx/rundir.h"

#include "fuzz_io.h"

enum { MAX_FILES = 24, MAX_NAME = 200 };

static FILE *sink;

static bool good_name(const char *s, size_t n)
{
    if (n == 0 || n > MAX_NAME || s[0] == '/' || s[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '=' || c == '-' || c == '/';
        if (!ok || (c == '.' && i + 1 < n && s[i + 1] == '.'))
            return false;
    }
    return true;
}

/* Write the files of the input; false when the input is not a directory. */
static bool write_files(const char *text, size_t size)
{
    static const char mark[] = "=== ";
    const size_t ml = sizeof mark - 1;
    if (size < ml || memcmp(text, mark, ml))
        return false;
    size_t at = 0;
    for (int files = 0; at < size; files++) {
        if (files == MAX_FILES)
            return false;
        const char *name = text + at + ml;
        const char *eol = memchr(name, '\n', size - at - ml);
        if (!eol || !good_name(name, (size_t)(eol - name)))
            return false;
        char fname[MAX_NAME + 1];
        memcpy(fname, name, (size_t)(eol - name));
        fname[eol - name] = '\0';
        const char *body = eol + 1, *end = text + size;
        for (const char *p = body; p + ml + 1 <= end; p++)
            if (p[0] == '\n' && !memcmp(p + 1, mark, ml)) {
                end = p + 1;
                break;
            }
        char *path = fuzz_write(fname, body, (size_t)(end - body));
        if (!path)
            return false;       /* a name that is a directory already, or under a file */
        free(path);
        at = (size_t)(end - text);
    }
    return true;
}

static void diagnose(const nnx_run *run, nnx_json_writer *w, const char *label)
{
    nnx_curves c;
    nnx_findings f;
    nnx_rt_error err;
    nnx_json_key(w, label);
    if (nnx_run_curves(run, &c, &err) < 0 || nnx_diagnose(&c, &f, &err) < 0)
        nnx_json_null(w);
    else
        nnx_findings_write_json(&f, w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink)
        sink = fopen("/dev/null", "w");
    fuzz_clear();
    if (!write_files((const char *)data, size))
        return 0;
    nnx_rundir d;
    nnx_rt_error err;
    if (nnx_rundir_read(fuzz_dir(), &d, &err) < 0)
        return 0;
    nnx_report_text(&d, sink, &err);
    nnx_report_html(&d, sink, &err);
    nnx_json_writer w;
    nnx_json_writer_to_file(&w, sink, 2);
    nnx_json_begin_object(&w);
    if (d.kind == NNX_RUNDIR_RUN)
        diagnose(&d.run, &w, "run");
    for (size_t i = 0; i < d.nchildren; i++)
        if (!d.child_errors[i])
            diagnose(&d.children[i], &w, d.child_names[i]);
    nnx_json_end_object(&w);
    nnx_json_writer_finish(&w, &err);
    nnx_rundir_free(&d);
    return 0;
}
