/* cmd_report.c — `nnx report DIR [--text] [-o FILE]`: write DIR/report.html (atomically), or a text report; `nnx report A B ... -o FILE` compares runs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/compare_side.h"
#include "nnx/report.h"
#include "nnx/rundir.h"

static const char usage_text[] = "usage: nnx report DIR [--text] [-o FILE]\n"
                                 "       nnx report A B [C ...] -o FILE   compare runs on one page\n";

enum { MAX_COMPARE = 24 };

/* One page comparing the runs `dirs` (their curves, settings, diagnoses). */
static int write_comparison(const char *const *dirs, size_t n, const char *path)
{
    if (n > MAX_COMPARE) {
        fprintf(stderr, "nnx report: at most %d runs on one comparison page\n", MAX_COMPARE);
        return EXIT_BAD_INPUT;
    }
    if (!path) {
        fprintf(stderr, "nnx report: comparing %zu runs needs -o FILE (e.g. -o compare.html, or -o - for stdout)\n", n);
        return EXIT_BAD_INPUT;
    }
    cli_side sides[MAX_COMPARE];
    nnx_run runs[MAX_COMPARE];
    nnx_compare_run cr[MAX_COMPARE];
    size_t loaded = 0;
    int status = EXIT_OK;
    nnx_rt_error err = { { 0 } };
    for (; loaded < n && status == EXIT_OK; loaded++) {
        status = cli_side_load("report", dirs[loaded], &sides[loaded]);
        if (status == EXIT_OK && !sides[loaded].is_run) {
            fprintf(stderr, "nnx report: %s is a file; a comparison takes run directories\n", dirs[loaded]);
            status = EXIT_BAD_INPUT;
        }
        if (status == EXIT_OK && nnx_run_read(dirs[loaded], false, &runs[loaded], &err) < 0) {
            fprintf(stderr, "nnx report: %s\n", err.msg);
            cli_side_free(&sides[loaded]);
            status = EXIT_BAD_INPUT;
            break;
        }
        if (status != EXIT_OK) {
            cli_side_free(&sides[loaded]);
            break;
        }
        const char *branch;
        cr[loaded] = (nnx_compare_run){ .label = dirs[loaded], .run = &runs[loaded],
                                        .settings = sides[loaded].settings, .nsettings = sides[loaded].nsettings };
        cli_side_git(&sides[loaded], &cr[loaded].commit, &branch, &cr[loaded].dirty, &cr[loaded].in_repo);
    }
    if (status == EXIT_OK) {
        int rc = !strcmp(path, "-") ? nnx_report_compare_html(cr, n, stdout, &err)
                                    : nnx_report_compare_write(cr, n, path, &err);
        if (rc < 0) {
            fprintf(stderr, "nnx report: %s\n", err.msg);
            status = EXIT_BAD_INPUT;
        } else if (strcmp(path, "-"))
            printf("wrote %s\n", path);
    }
    for (size_t i = 0; i < loaded; i++) {
        nnx_run_free(&runs[i]);
        cli_side_free(&sides[i]);
    }
    return status;
}

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
    const char *dirs[MAX_COMPARE + 1];
    size_t ndirs = 0;
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
        } else if (ndirs > MAX_COMPARE) {
            fprintf(stderr, "nnx report: at most %d runs on one comparison page\n", MAX_COMPARE);
            return EXIT_BAD_INPUT;
        } else {
            dirs[ndirs++] = dir = argv[i];
        }
    }
    if (ndirs > 1) {
        if (text) {
            fprintf(stderr, "nnx report: --text shows one directory; for several runs use nnx diff A B\n");
            return EXIT_BAD_INPUT;
        }
        return write_comparison(dirs, ndirs, out);
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
