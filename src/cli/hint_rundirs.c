/* hint_rundirs.c — when `nnx report DIR` or `nnx diagnose DIR` gets a directory of runs (runs/), name the runs in it. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

/* Does dir/sub/name exist? */
static bool has_file(const char *dir, const char *sub, const char *name)
{
    size_t len = strlen(dir) + strlen(sub) + strlen(name) + 3;
    char *p = malloc(len);
    if (!p)
        return false;
    snprintf(p, len, "%s/%s/%s", dir, sub, name);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cli_hint_rundirs(const char *cmd, const char *dir)
{
    if (has_file(dir, ".", "metrics.csv") || has_file(dir, ".", "summary.json"))
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !has_file(dir, e->d_name, "experiment.nnx"))
            continue;
        char **more = realloc(names, (n + 1) * sizeof *names);
        if (!more)
            break;
        names = more;
        if ((names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    if (n) {
        enum { SHOW = 5 };
        qsort(names, n, sizeof *names, by_name);
        size_t dl = strlen(dir);
        const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
        fprintf(stderr, "  = help: %s holds %zu run director%s; name one: nnx %s %s%s%s\n", dir, n,
                n == 1 ? "y" : "ies", cmd, dir, sep, names[0]);
        for (size_t i = 1; i < n && i < SHOW; i++)
            fprintf(stderr, "          %s%s%s\n", dir, sep, names[i]);
        if (n > SHOW)
            fprintf(stderr, "          ... and %zu more\n", n - SHOW);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}
