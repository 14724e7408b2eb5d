/* tabcache_dir.c — the cache directory as a whole: its entries listed with their sources, the least recently used removed past a size bound. */
#define _DEFAULT_SOURCE         /* d_type, utimensat */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/rt/tabcache.h"
#include "nnx/util/file.h"

void nnx_tabcache_touch(const char *path)
{
    utimensat(AT_FDCWD, path, NULL, 0);   /* advice: a failure costs only the order of eviction */
}

static bool is_entry(const char *name)
{
    size_t n = strlen(name), e = strlen(NNX_TABCACHE_EXT);
    return n > e && !strcmp(name + n - e, NNX_TABCACHE_EXT);
}

/* The source paths of a key ("path=LEN:PATH" lines after the first), and
 * whether the entry is stale (another loader version made it) or a source
 * is gone or changed: the state lines after "--" give each
 * source's size, mtime, device and inode in the same order. */
static void read_sources(nnx_tabcache_entry *e, const char *key)
{
    char first[40];
    snprintf(first, sizeof first, "nnx parsed table %d\n", NNX_TABCACHE_LOADER_VERSION);
    if (strncmp(key, first, strlen(first)))
        e->stale = true;                    /* made by another version of nnx */
    const char *p = strchr(key, '\n');        /* the paths follow the version line */
    while (p && !strncmp(p, "\npath=", 6)) {
        char *end;
        unsigned long len = strtoul(p + 6, &end, 10);
        if (*end != ':' || strlen(end + 1) < len || end[1 + len] != '\n')
            break;
        char **v = realloc(e->sources, ((size_t)e->nsources + 1) * sizeof *v);
        if (!v)
            break;
        e->sources = v;
        if (!(v[e->nsources] = strndup(end + 1, len)))
            break;
        e->nsources++;
        p = end + 1 + len;
    }
    const char *state = NULL;                  /* the last "--" line: options come before it */
    for (const char *q = key; (q = strstr(q, "\n--\n")) != NULL; q++)
        state = q;
    for (int i = 0; i < e->nsources; i++) {
        struct stat st;
        if (stat(e->sources[i], &st) < 0) {
            e->orphan = true;
            continue;
        }
        long long size = 0, sec = 0;
        long nsec = 0;
        unsigned long long dev = 0, ino = 0;
        state = state ? strstr(state, "\nsize=") : NULL;
        if (!state || sscanf(state, "\nsize=%lld\nmtime=%lld.%ld\ndev=%llu\nino=%llu", &size, &sec,
                             &nsec, &dev, &ino) != 5 ||
            size != (long long)st.st_size || sec != (long long)st.st_mtim.tv_sec ||
            nsec != st.st_mtim.tv_nsec || dev != (unsigned long long)st.st_dev ||
            ino != (unsigned long long)st.st_ino)
            e->stale = true;
        if (state)
            state++;
    }
}

static int by_last_use(const void *a, const void *b)
{
    const nnx_tabcache_entry *x = a, *y = b;
    if (x->last_use != y->last_use)
        return x->last_use < y->last_use ? 1 : -1;
    if (x->last_use_nsec != y->last_use_nsec)
        return x->last_use_nsec < y->last_use_nsec ? 1 : -1;
    return strcmp(x->path, y->path);
}

void nnx_tabcache_list_free(nnx_tabcache_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        for (int k = 0; k < e[i].nsources; k++)
            free(e[i].sources[k]);
        free(e[i].sources);
        free(e[i].path);
    }
    free(e);
}

/* The entries' paths and stat of dir; with keys when `keys`. */
static int scan(const char *dir, bool keys, nnx_tabcache_entry **out, size_t *n,
                nnx_rt_error *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : nnx_rt_fail(err, "%s: cannot read: %s", dir, strerror(errno));
    nnx_tabcache_entry *v = NULL;
    size_t cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (!is_entry(de->d_name))
            continue;
        if (*n == cap) {
            nnx_tabcache_entry *more = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!more) {
                rc = nnx_rt_fail(err, "out of memory");
                break;
            }
            v = more;
        }
        nnx_tabcache_entry *e = &v[*n];
        memset(e, 0, sizeof *e);
        if (!(e->path = nnx_path_join(dir, de->d_name))) {
            rc = nnx_rt_fail(err, "out of memory");
            break;
        }
        ++*n;
        struct stat st;
        if (stat(e->path, &st) < 0) {   /* removed meanwhile by another process */
            free(e->path);
            --*n;
            continue;
        }
        e->bytes = (unsigned long long)st.st_size;
        e->last_use = (long long)st.st_mtim.tv_sec;
        e->last_use_nsec = st.st_mtim.tv_nsec;
        if (!keys)
            continue;
        char *key = NULL;
        nnx_rt_error why;
        if (nnx_tabcache_read_key(e->path, &key, &e->bytes, &why) < 0) {
            e->broken = true;
            snprintf(e->why, sizeof e->why, "%.*s", (int)sizeof e->why - 1, why.msg);
        } else {
            read_sources(e, key);
        }
        free(key);
    }
    closedir(d);
    if (rc < 0) {
        nnx_tabcache_list_free(v, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    if (*n)
        qsort(v, *n, sizeof *v, by_last_use);
    *out = v;
    return 0;
}

int nnx_tabcache_list(const char *dir, nnx_tabcache_entry **out, size_t *n, nnx_rt_error *err)
{
    return scan(dir, true, out, n, err);
}

int nnx_tabcache_trim(const char *dir, unsigned long long max, const char *keep,
                      nnx_rt_error *err)
{
    nnx_tabcache_entry *v;
    size_t n;
    if (scan(dir, false, &v, &n, err) < 0)
        return -1;
    unsigned long long total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].bytes;
    int rc = 0;
    for (size_t i = n; i-- > 0 && total > max;) {      /* least recently used first */
        if (keep && !strcmp(v[i].path, keep))
            continue;
        if (unlink(v[i].path) < 0 && errno != ENOENT) {
            rc = nnx_rt_fail(err, "%s: cannot remove: %s", v[i].path, strerror(errno));
            break;
        }
        total -= v[i].bytes;
    }
    nnx_tabcache_list_free(v, n);
    return rc;
}

/* A writer's temporary (NAME.nnxtab.tmp.XXXXXX) left by a crash. */
static bool is_temporary(const char *name)
{
    const char *t = strstr(name, NNX_TABCACHE_EXT ".tmp.");
    return t && t != name;
}

int nnx_tabcache_clean(const char *dir, long long unused_for, size_t *removed,
                       unsigned long long *bytes, nnx_rt_error *err)
{
    *removed = 0;
    *bytes = 0;
    nnx_tabcache_entry *v;
    size_t n;
    if (scan(dir, unused_for != 0, &v, &n, err) < 0)
        return -1;
    long long now = (long long)time(NULL);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const nnx_tabcache_entry *e = &v[i];
        bool go = unused_for == 0 || e->orphan || e->stale || e->broken ||
                  (unused_for > 0 && now - e->last_use >= unused_for);
        if (!go)
            continue;
        if (unlink(e->path) < 0 && errno != ENOENT)
            rc = nnx_rt_fail(err, "%s: cannot remove: %s", e->path, strerror(errno));
        else {
            ++*removed;
            *bytes += e->bytes;
        }
    }
    nnx_tabcache_list_free(v, n);
    DIR *d = rc == 0 ? opendir(dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {   /* temporaries: all, or those a day old */
        if (!is_temporary(de->d_name))
            continue;
        char *p = nnx_path_join(dir, de->d_name);
        struct stat st;
        if (p && stat(p, &st) == 0 && (unused_for == 0 || now - st.st_mtim.tv_sec > 86400) &&
            unlink(p) == 0) {
            ++*removed;
            *bytes += (unsigned long long)st.st_size;
        }
        free(p);
    }
    if (d)
        closedir(d);
    return rc;
}
