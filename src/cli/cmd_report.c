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

/* Write the report to a temporary file beside `path`, then rename it over
 * `path`, so a reader never sees half a page. */
static int write_atomically(const nnx_rundir *d, const char *path, bool text)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        fprintf(stderr, "nnx report: out of memory\n");
        return EXIT_BAD_INPUT;
    }
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd >= 0)
        fchmod(fd, 0644);   /* mkstemp makes it private; a report is for reading */
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "nnx report: cannot write %s: %s\n", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return EXIT_BAD_INPUT;
    }
    nnx_rt_error err = { { 0 } };
    int rc = text ? nnx_report_text(d, f, &err) : nnx_report_html(d, f, &err);
    if (fclose(f) != 0 && rc == 0)
        rc = nnx_rt_fail(&err, "writing the report failed");
    if (rc == 0 && rename(tmp, path) != 0)
        rc = nnx_rt_fail(&err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc) {
        fprintf(stderr, "nnx report: %s: %s\n", path, err.msg);
        unlink(tmp);
        free(tmp);
        return EXIT_BAD_INPUT;
    }
    free(tmp);
    printf("wrote %s\n", path);
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
            fprintf(stderr, "nnx report: unknown flag '%s'\n%s", argv[i], usage_text);
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
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    if (nnx_rundir_read(dir, &d, &err) < 0) {
        fprintf(stderr, "nnx report: %s\n", err.msg);
        return EXIT_BAD_INPUT;
    }
    int status;
    if ((text && !out) || (out && !strcmp(out, "-"))) {
        status = (text ? nnx_report_text(&d, stdout, &err) : nnx_report_html(&d, stdout, &err)) == 0
                     ? EXIT_OK : EXIT_BAD_INPUT;
        if (status)
            fprintf(stderr, "nnx report: %s\n", err.msg);
    } else if (out) {
        status = write_atomically(&d, out, text);
    } else {
        size_t n = strlen(dir) + sizeof "/report.html";
        char *path = malloc(n);
        if (!path) {
            nnx_rundir_free(&d);
            fprintf(stderr, "nnx report: out of memory\n");
            return EXIT_BAD_INPUT;
        }
        snprintf(path, n, "%s%sreport.html", dir, dir[strlen(dir) - 1] == '/' ? "" : "/");
        status = write_atomically(&d, path, false);
        free(path);
    }
    nnx_rundir_free(&d);
    return status;
}
