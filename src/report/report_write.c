/* report_write.c — write a directory's report to a file through a temporary file and a rename. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnx/report.h"
#include "nnx/util/file.h"

/* Write the report of `d` to a temporary file beside `path`, then rename it
 * over `path`, so a reader never sees half a page. */
static int write_to(const nnx_rundir *d, const char *path, bool text, nnx_rt_error *err)
{
    nnx_file_out out;
    if (nnx_file_begin(&out, path, NULL, NNX_FILE_UNIQUE, err) < 0)
        return -1;
    fchmod(fileno(out.f), 0644);   /* mkstemp makes it private; a report is for reading */
    errno = 0;
    int rc = text ? nnx_report_text(d, out.f, err) : nnx_report_html(d, out.f, err);
    if (rc) {
        int e = errno ? errno : EIO;
        bool io = ferror(out.f);
        nnx_file_abort(&out);
        return io ? nnx_rt_fail(err, "%s: cannot write: %s", path, strerror(e)) : rc;
    }
    return nnx_file_commit(&out, err);
}

int nnx_report_write(const char *dir, const char *path, bool text, char **written,
                     nnx_rt_error *err)
{
    nnx_rundir d;
    if (nnx_rundir_read(dir, &d, err) < 0)
        return -1;
    char *own = NULL;
    if (!path) {
        size_t n = strlen(dir) + sizeof "/report.html";
        own = malloc(n);
        if (!own) {
            nnx_rundir_free(&d);
            return nnx_rt_fail(err, "out of memory");
        }
        snprintf(own, n, "%s%sreport.html", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/");
        path = own;
    }
    int rc = write_to(&d, path, text, err);
    nnx_rundir_free(&d);
    if (rc == 0 && written) {
        *written = own ? own : strdup(path);
        own = NULL;
    }
    free(own);
    return rc;
}
