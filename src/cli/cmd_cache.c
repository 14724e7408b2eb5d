/* cmd_cache.c — `nnx cache list` and `nnx cache clean [--all | --older DAYS]`: the parsed-data cache's entries, and removing them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "nnx/rt/tabcache.h"

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: nnx cache list\n"
            "       nnx cache clean [--all | --older DAYS]\n"
            "  the parsed-data cache ($NNX_CACHE, else $XDG_CACHE_HOME/nnx, else ~/.cache/nnx):\n"
            "  list   every entry, most recently used first: size, last use, state (ok; stale:\n"
            "         its file changed since, or another nnx version made it; orphan: its file\n"
            "         is gone; broken) and the file(s) it was parsed from\n"
            "  clean  remove the entries that can never serve again (stale, orphan, broken);\n"
            "         --older DAYS also those unused for DAYS days; --all every entry\n"
            "  NNX_CACHE_MAX=SIZE (bytes, or 500M, 2G, ...) bounds the cache: each write\n"
            "  removes the least recently used entries until the rest fit\n"
            "exit status: 0 done, 1 a removal failed, 2 bad input (a flag)\n");
    return status;
}

/* 1.5 MB, 830 KB, 12 B */
static const char *human(unsigned long long b, char *buf, size_t n)
{
    if (b >= 1000ull * 1000 * 1000)
        snprintf(buf, n, "%.1f GB", (double)b / 1e9);
    else if (b >= 1000ull * 1000)
        snprintf(buf, n, "%.1f MB", (double)b / 1e6);
    else if (b >= 1000)
        snprintf(buf, n, "%.0f KB", (double)b / 1e3);
    else
        snprintf(buf, n, "%llu B", b);
    return buf;
}

static int list(const char *dir)
{
    nnx_tabcache_entry *v;
    size_t n;
    nnx_rt_error err = { { 0 } };
    if (nnx_tabcache_list(dir, &v, &n, &err) < 0) {
        fprintf(stderr, "nnx cache: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    unsigned long long total = 0;
    size_t unusable = 0;
    if (n)
        printf("%-10s  %-16s  %-6s  %s\n", "size", "last use", "state", "source");
    for (size_t i = 0; i < n; i++) {
        const nnx_tabcache_entry *e = &v[i];
        char size[32], when[32];
        time_t t = (time_t)e->last_use;
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
        const char *state = e->broken ? "broken" : e->orphan ? "orphan" : e->stale ? "stale" : "ok";
        unusable += e->broken || e->orphan || e->stale;
        printf("%-10s  %-16s  %-6s  ", human(e->bytes, size, sizeof size), when, state);
        if (e->broken)
            printf("(%s: %s)", strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path, e->why);
        for (int k = 0; k < e->nsources; k++)
            printf("%s%s", k ? " + " : "", e->sources[k]);
        putchar('\n');
        total += e->bytes;
    }
    char size[32];
    printf("%zu entr%s, %s in %s", n, n == 1 ? "y" : "ies", human(total, size, sizeof size), dir);
    const char *max = getenv("NNX_CACHE_MAX");
    if (max && *max)
        printf(" (NNX_CACHE_MAX=%s)", max);
    putchar('\n');
    if (unusable)
        printf("%zu can never serve again: nnx cache clean removes them\n", unusable);
    nnx_tabcache_list_free(v, n);
    return EXIT_OK;
}

int cmd_cache(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        return usage(stdout, EXIT_OK);
    if (argc < 2) {
        fprintf(stderr, "nnx cache: missing a subcommand (list or clean)\n");
        return usage(stderr, EXIT_BAD_INPUT);
    }
    if (strcmp(argv[1], "list") && strcmp(argv[1], "clean")) {
        fprintf(stderr, "nnx cache: unknown subcommand '%s': list or clean\n", argv[1]);
        return usage(stderr, EXIT_BAD_INPUT);
    }
    bool clean = !strcmp(argv[1], "clean"), all = false;
    long long older = -1;   /* seconds; -1: only what can never serve */
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (clean && !strcmp(a, "--all")) {
            all = true;
        } else if (clean && !strcmp(a, "--older")) {
            char *end;
            double days = i + 1 < argc ? strtod(argv[++i], &end) : -1;
            if (days <= 0 || days > 1e5 || *end) {
                fprintf(stderr, "nnx cache: --older needs a number of days above 0, e.g. "
                        "--older 30\n");
                return EXIT_BAD_INPUT;
            }
            older = (long long)(days * 86400);
            if (older < 1)
                older = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return usage(stdout, EXIT_OK);
        } else {
            static const char *const known[] = { "--all", "--older", "--help" };
            if (a[0] == '-')
                cli_unknown_flag("cache", a, known, clean ? 3 : 1);
            else
                fprintf(stderr, "nnx cache: unexpected argument '%s'\n", a);
            return usage(stderr, EXIT_BAD_INPUT);
        }
    }
    if (all && older > 0) {
        fprintf(stderr, "nnx cache: --all and --older: one or the other\n");
        return EXIT_BAD_INPUT;
    }
    char *dir = cli_data_cache_dir(false);
    if (!dir) {
        fprintf(stderr, "nnx cache: no cache directory: set NNX_CACHE (or HOME)\n");
        return EXIT_BAD_INPUT;
    }
    int rc;
    if (!clean) {
        rc = list(dir);
    } else {
        size_t removed;
        unsigned long long bytes;
        nnx_rt_error err = { { 0 } };
        rc = nnx_tabcache_clean(dir, all ? 0 : older, &removed, &bytes, &err) < 0
             ? EXIT_RUN_FAILED : EXIT_OK;
        char size[32];
        printf("removed %zu entr%s (%s) from %s\n", removed, removed == 1 ? "y" : "ies",
               human(bytes, size, sizeof size), dir);
        if (rc != EXIT_OK)
            fprintf(stderr, "nnx cache: %s\n", err.msg);
    }
    free(dir);
    return rc;
}
