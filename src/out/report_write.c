/* report_write.c — write a directory's report to a file through a temporary file and a rename. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/report.h"

/* Write the report of `d` to a temporary file beside `path`, then rename it
 * over `path`, so a reader never sees half a page. */
static int write_to(const nnx_rundir *d, const char *path, bool text, nnx_rt_error *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return nnx_rt_fail(err, "out of memory");
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd >= 0)
        fchmod(fd, 0644);   /* mkstemp makes it private; a report is for reading */
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int rc = nnx_rt_fail(err, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return rc;
    }
    int rc = text ? nnx_report_text(d, f, err) : nnx_report_html(d, f, err);
    if (fclose(f) != 0 && rc == 0)
        rc = nnx_rt_fail(err, "%s: writing the report failed", path);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = nnx_rt_fail(err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
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
