/* cmd_report.c — `nnx report DIR [--text] [-o FILE]`: write DIR/report.html (atomically), or a text report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/report.h"
#include "nnx/rundir.h"

static const char usage_text[] = "usage: nnx report DIR [--text] [-o FILE]\n";

/* Write the report of `dir` to `path` (NULL: dir/report.html) atomically. */
static int write_report(const char *dir, const char *path, bool text)
{
    nnx_rt_error err = { { 0 } };
    char *written = NULL;
    if (nnx_report_write(dir, path, text, &written, &err) < 0) {
        fprintf(stderr, "nnx report: %s\n", err.msg);
        cli_hint_rundirs("report", dir);
        return EXIT_BAD_INPUT;
    }
    printf("wrote %s\n", written);
    free(written);
    return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    bool text = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--text")) {
            text = true;
        } else if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nnx report: -o needs a file name\n%s", usage_text);
                return EXIT_BAD_INPUT;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            static const char *const known[] = { "--text", "-o" };
            cli_unknown_flag("report", argv[i], known, 2);
            fputs(usage_text, stderr);
            return EXIT_BAD_INPUT;
        } else if (dir) {
            fprintf(stderr, "nnx report: one directory at a time ('%s' and '%s')\n", dir, argv[i]);
            return EXIT_BAD_INPUT;
        } else {
            dir = argv[i];
        }
    }
    if (!dir) {
        fputs(usage_text, stderr);
        return EXIT_BAD_INPUT;
    }
    if ((text && !out) || (out && !strcmp(out, "-"))) {
        nnx_rundir d;
        nnx_rt_error err = { { 0 } };
        if (nnx_rundir_read(dir, &d, &err) < 0) {
            fprintf(stderr, "nnx report: %s\n", err.msg);
            cli_hint_rundirs("report", dir);
            return EXIT_BAD_INPUT;
        }
        int rc = text ? nnx_report_text(&d, stdout, &err) : nnx_report_html(&d, stdout, &err);
        if (rc)
            fprintf(stderr, "nnx report: %s\n", err.msg);
        nnx_rundir_free(&d);
        return rc ? EXIT_BAD_INPUT : EXIT_OK;
    }
    return write_report(dir, out, text);
}
