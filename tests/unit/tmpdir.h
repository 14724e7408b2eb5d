/* tmpdir.h — fresh temporary directories for the tests that write files, removed after. */
#ifndef NNX_TEST_TMPDIR_H
#define NNX_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new empty directory /tmp/nnx-<tag>-XXXXXX; the result is malloc'd. */
static char *tmpdir_make(const char *tag)
{
    char tmpl[256];
    snprintf(tmpl, sizeof tmpl, "/tmp/nnx-%s-XXXXXX", tag);
    if (!mkdtemp(tmpl))
        return NULL;
    char *dir = malloc(strlen(tmpl) + 1);
    if (dir)
        strcpy(dir, tmpl);
    return dir;
}

/* rm -rf path (no symlink is followed). */
static void tmpdir_remove(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                size_t n = strlen(path) + strlen(e->d_name) + 2;
                char *child = malloc(n);
                if (!child)
                    break;
                snprintf(child, n, "%s/%s", path, e->d_name);
                tmpdir_remove(child);
                free(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* The whole file in a malloc'd buffer (NUL-terminated), its size in *n. */
static char *tmpdir_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0';
        if (n)
            *n = len;
    }
    return buf;
}

#endif
