/* file.c — files and paths: whole files written through a temporary and a rename, appended rows, whole files read into memory; path joining; mkdir -p. */
#define _XOPEN_SOURCE 700       /* realpath(): POSIX, but an XSI part of it */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/util/file.h"

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
    struct stat st, lst;
    bool exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return nnx_rt_fail(err, "%s: cannot write: it is a directory", path);
    /* A device or a pipe (/dev/full), and a link under /dev or /proc
     * (/dev/stdout: to a pipe, or to the shell's own file), is written where
     * it is: a rename would replace it, or the link, with a file.  A link
     * elsewhere to a regular file: the file it names is replaced, the link
     * kept. */
    bool link = exists && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
    bool dev = link && (!strncmp(path, "/dev/", 5) || !strncmp(path, "/proc/", 6));
    char *real = link && S_ISREG(st.st_mode) && !dev ? realpath(path, NULL) : NULL;
    if (exists && (!S_ISREG(st.st_mode) || dev || (link && !real))) {
        if (!(out->path = strdup(path)) || !(out->f = fopen(path, "wb"))) {
            int e = out->path ? errno : ENOMEM;
            release(out);
            return nnx_rt_fail(err, "%s: cannot write: %s", path, strerror(e));
        }
        return 0;
    }
    if (real) {
        int rc = nnx_file_begin(out, real, tmp_base, flags, err);
        free(real);
        return rc;
    }
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
    else if (out->tmp && rename(out->tmp, out->path) != 0)
        rc = nnx_rt_fail(err, "%s: cannot rename to %s: %s", out->tmp, out->path,
                         strerror(errno));
    if (rc && out->tmp)
        unlink(out->tmp);
    release(out);
    return rc;
}

void nnx_file_abort(nnx_file_out *out)
{
    if (out->f) {
        fclose(out->f);
        if (out->tmp)
            unlink(out->tmp);
    }
    release(out);
}

int nnx_file_write(const char *path, const void *data, size_t len, int flags, nnx_rt_error *err)
{
    nnx_file_out out;
    if (nnx_file_begin(&out, path, NULL, flags, err) < 0)
        return -1;
    if (fwrite(data, 1, len, out.f) != len) {
        int e = errno ? errno : EIO;
        nnx_file_abort(&out);
        return nnx_rt_fail(err, "%s: cannot write: %s", path, strerror(e));
    }
    return nnx_file_commit(&out, err);
}

/* --- appended rows ---------------------------------------------------------------- */

int nnx_append_open(nnx_append *a, const char *path, int fresh, nnx_rt_error *err)
{
    *a = (nnx_append){ 0 };
    size_t n = strlen(path);
    a->path = malloc(n + 1);
    if (!a->path)
        return nnx_rt_fail(err, "out of memory");
    memcpy(a->path, path, n + 1);
    a->f = fopen(path, fresh ? "w" : "a");
    if (!a->f || fseek(a->f, 0, SEEK_END) != 0 || (a->good = ftell(a->f)) < 0) {
        int e = errno;
        nnx_rt_fail(err, "%s: cannot write: %s", path, strerror(e));
        nnx_append_abort(a);
        return -1;
    }
    return 0;
}

/* The rows since the last good flush could not be written: cut them off. */
static int append_failed(nnx_append *a, int e, nnx_rt_error *err)
{
    snprintf(a->why, sizeof a->why, "%s", strerror(e ? e : EIO));
    if (a->f) {
        fclose(a->f);               /* may flush part of the rest: cut after it */
        a->f = NULL;
        /* if even this fails the file may end with a partial row, which
         * the readers leave out (docs/run-directory.md) */
        if (truncate(a->path, a->good) != 0)
            a->good = -1;
    }
    return nnx_rt_fail(err, "%s: cannot write: %s", a->path, a->why);
}

int nnx_append_flush(nnx_append *a, nnx_rt_error *err)
{
    if (!a->f)
        return nnx_rt_fail(err, "%s: cannot write: %s", a->path ? a->path : "?",
                           a->why[0] ? a->why : "not open");
    errno = 0;
    if (ferror(a->f) || fflush(a->f) != 0)
        return append_failed(a, errno, err);
    long at = ftell(a->f);
    if (at < 0)
        return append_failed(a, errno, err);
    a->good = at;
    return 0;
}

int nnx_append_close(nnx_append *a, nnx_rt_error *err)
{
    if (!a->path)
        return 0;                   /* never opened, or closed already */
    int rc = nnx_append_flush(a, err);
    if (rc == 0) {
        errno = 0;
        if (fsync(fileno(a->f)) != 0 && errno != EINVAL)   /* EINVAL: a file that cannot sync (a pipe) */
            rc = append_failed(a, errno, err);
    }
    if (rc == 0) {
        int bad = fclose(a->f);
        int e = errno;
        a->f = NULL;
        if (bad)
            rc = nnx_rt_fail(err, "%s: cannot write: %s", a->path, strerror(e));
    }
    nnx_append_abort(a);
    return rc;
}

void nnx_append_abort(nnx_append *a)
{
    if (a->f)
        fclose(a->f);
    free(a->path);
    *a = (nnx_append){ 0 };
}

char *nnx_file_read(const char *path, size_t max, size_t *len, nnx_rt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int e = buf ? 0 : ENOMEM;
    while (buf) {
        if (n + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                e = ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - n - 1;
        if (max && want > max - n + 1)
            want = max - n + 1;              /* one byte past max tells a file too large */
        size_t got = fread(buf + n, 1, want, f);
        n += got;
        if (max && n > max) {
            e = EFBIG;
            break;
        }
        if (got < want) {
            if (ferror(f))
                e = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (e) {
        free(buf);
        if (e == ENOMEM)
            nnx_rt_fail(err, "%s: out of memory", path);
        else if (e == EFBIG)
            nnx_rt_fail(err, "%s: larger than %zu bytes", path, max);
        else
            nnx_rt_fail(err, "%s: read error", path);
        errno = e;
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

const char *nnx_file_not_regular(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return NULL;
    return S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
         : S_ISCHR(st.st_mode) ? "a character device" : S_ISBLK(st.st_mode) ? "a block device"
         : S_ISSOCK(st.st_mode) ? "a socket" : "not a file";
}

char *nnx_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

int nnx_mkdirs(const char *path, nnx_rt_error *err)
{
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p)
        return nnx_rt_fail(err, "out of memory");
    memcpy(p, path, n + 1);
    int rc = 0;
    for (size_t i = 1; rc == 0 && i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0) {
            if (errno != EEXIST)
                rc = nnx_rt_fail(err, "%s: cannot create directory: %s", p, strerror(errno));
            else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
                rc = nnx_rt_fail(err, "%s: cannot create directory: a file is in the way", p);
        }
        p[i] = c;
    }
    if (n == 0)
        rc = nnx_rt_fail(err, "no directory given");
    free(p);
    return rc;
}
