/* fuzz_io.c — a fuzz target's scratch directory: made once, written per input, removed at exit. */
#define _XOPEN_SOURCE 700       /* mkdtemp, nftw */
#include <errno.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_io.h"

static char scratch[4096];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

void fuzz_clear(void)
{
    if (scratch[0])
        nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_scratch(void)
{
    fuzz_clear();
    rmdir(scratch);
}

const char *fuzz_dir(void)
{
    if (scratch[0])
        return scratch;
    struct stat st;
    const char *base = getenv("NNX_FUZZ_TMP");
    if (!base)
        base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
               ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/nnx-fuzz-XXXXXX", base);
    if (!mkdtemp(scratch)) {
        fprintf(stderr, "fuzz: cannot make a directory in %s: %s\n", base, strerror(errno));
        abort();
    }
    atexit(remove_scratch);
    return scratch;
}

char *fuzz_path(const char *name)
{
    const char *dir = fuzz_dir();
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *fuzz_write(const char *name, const void *data, size_t size)
{
    char *path = fuzz_path(name);
    for (char *s = path + strlen(fuzz_dir()) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(path, 0700);
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    bool ok = f && (!size || fwrite(data, 1, size, f) == size);
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        free(path);
        return NULL;
    }
    return path;
}
