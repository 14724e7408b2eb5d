/* fs.c — file-system chores of a search: paths, mkdir -p, rm -rf, atomic whole-file writes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "search/search_int.h"

char *srch_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *srch_join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *p = malloc(na + nb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, na);
    p[na] = '/';
    memcpy(p + na + 1, b, nb + 1);
    return p;
}

bool srch_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int srch_mkdirs(const char *path, nnx_rt_error *err)
{
    char *p = srch_strdup(path);
    if (!p)
        return nnx_rt_fail(err, "out of memory");
    for (char *s = p + 1;; s++) {
        bool end = *s == 0;
        if (*s == '/' || end) {
            *s = 0;
            struct stat st;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                nnx_rt_fail(err, "cannot make directory %s: %s", p, strerror(e));
                free(p);
                return -1;
            }
            if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
                nnx_rt_fail(err, "%s is not a directory", p);
                free(p);
                return -1;
            }
            if (end)
                break;
            *s = '/';
        }
    }
    free(p);
    return 0;
}

int srch_remove_tree(const char *path, nnx_rt_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : nnx_rt_fail(err, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return nnx_rt_fail(err, "cannot open directory %s: %s", path, strerror(errno));
        struct dirent *e;
        int rc = 0;
        while (rc == 0 && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *child = srch_join(path, e->d_name);
            rc = child ? srch_remove_tree(child, err) : nnx_rt_fail(err, "out of memory");
            free(child);
        }
        closedir(d);
        if (rc)
            return rc;
        if (rmdir(path) != 0)
            return nnx_rt_fail(err, "cannot remove %s: %s", path, strerror(errno));
        return 0;
    }
    if (unlink(path) != 0)
        return nnx_rt_fail(err, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

int srch_write_atomic(const char *path, const char *text, size_t len, nnx_rt_error *err)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return nnx_rt_fail(err, "out of memory");
    snprintf(tmp, n + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        nnx_rt_fail(err, "cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int e = done < len ? errno : 0;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e || done < len || rename(tmp, path) != 0) {
        if (!e)
            e = errno;
        unlink(tmp);
        nnx_rt_fail(err, "cannot write %s: %s", path, strerror(e ? e : EIO));
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
