/* file.c — whole files: written through a temporary file and a rename. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/rt/file.h"

static void release(nnx_file_out *out)
{
    free(out->path);
    free(out->tmp);
    *out = (nnx_file_out){0};
}

int nnx_file_begin(nnx_file_out *out, const char *path, const char *tmp_base, int flags,
                   nnx_rt_error *err)
{
    *out = (nnx_file_out){ .flags = flags };
    const char *base = tmp_base ? tmp_base : path;
    const char *suffix = flags & NNX_FILE_UNIQUE ? ".tmp.XXXXXX" : ".tmp";
    size_t nb = strlen(base), ns = strlen(suffix), np = strlen(path);
    out->tmp = malloc(nb + ns + 1);
    out->path = malloc(np + 1);
    if (!out->tmp || !out->path) {
        release(out);
        return nnx_rt_fail(err, "out of memory");
    }
    memcpy(out->tmp, base, nb);
    memcpy(out->tmp + nb, suffix, ns + 1);
    memcpy(out->path, path, np + 1);
    if (flags & NNX_FILE_UNIQUE) {
        int fd = mkstemp(out->tmp);
        if (fd >= 0) {
            out->f = fdopen(fd, "wb");
            if (!out->f) {
                int e = errno;
                close(fd);
                unlink(out->tmp);
                errno = e;
            }
        }
    } else {
        out->f = fopen(out->tmp, "wb");
    }
    if (!out->f) {
        int e = errno;
        nnx_rt_fail(err, "%s: cannot create: %s", out->tmp, strerror(e));
        release(out);
        return -1;
    }
    return 0;
}

int nnx_file_commit(nnx_file_out *out, nnx_rt_error *err)
{
    bool good = !ferror(out->f) && fflush(out->f) == 0
                && (!(out->flags & NNX_FILE_SYNC) || fsync(fileno(out->f)) == 0);
    int e = good ? 0 : errno ? errno : EIO;
    if (fclose(out->f) != 0 && good) {
        good = false;
        e = errno;
    }
    int rc = 0;
    if (!good)
        rc = nnx_rt_fail(err, "%s: cannot write: %s", out->path, strerror(e));
    else if (rename(out->tmp, out->path) != 0)
        rc = nnx_rt_fail(err, "%s: cannot rename to %s: %s", out->tmp, out->path,
                         strerror(errno));
    if (rc)
        unlink(out->tmp);
    release(out);
    return rc;
}

void nnx_file_abort(nnx_file_out *out)
{
    if (out->f) {
        fclose(out->f);
        unlink(out->tmp);
    }
    release(out);
}

int nnx_file_write(const char *path, const void *data, size_t len, int flags, nnx_rt_error *err)
{
    nnx_file_out out;
    if (nnx_file_begin(&out, path, NULL, flags, err) < 0)
        return -1;
    fwrite(data, 1, len, out.f);   /* a short write sets the error flag commit reads */
    return nnx_file_commit(&out, err);
}
