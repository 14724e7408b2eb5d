/* failwrite.c — an LD_PRELOAD shim for the tests: the Nth write to a chosen file fails with ENOSPC.
 *
 *   NNX_FAILWRITE="PATTERN:N[+][,PATTERN:N[+]]..."
 *
 * PATTERN is an fnmatch(3) pattern matched against the file's name (its
 * full path when PATTERN holds a '/').  Counting the writes to the matching
 * files of one process from 1, write N fails (with "+", N and every later
 * one); N defaults to 1.  A "write" is one stdio flush of a matching FILE
 * (fopen, fdopen) or one write(2) to a matching file descriptor: a row
 * flushed on its own, a whole file written through a temporary, a line
 * appended with write(2).  A worker process forked by a search counts on
 * from where its parent was.
 *
 * Matching streams are wrapped with fopencookie(3) so that their flushes
 * pass through here (glibc's stdio does not call the interposable write);
 * fileno() of a wrapped stream gives the real descriptor (fsync works).
 *
 * Build: cc -shared -fPIC -o failwrite.so failwrite.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

enum { MAX_RULES = 8, MAX_WRAPPED = 64 };

static struct rule { char pattern[300]; long n; int from_on; long seen; } rules[MAX_RULES];
static int nrules = -1;
static struct { FILE *cookie, *real; } wrapped[MAX_WRAPPED];

static void load_rules(void)
{
    if (nrules >= 0)
        return;
    nrules = 0;
    const char *spec = getenv("NNX_FAILWRITE");
    while (spec && *spec && nrules < MAX_RULES) {
        const char *end = strchr(spec, ',');
        size_t len = end ? (size_t)(end - spec) : strlen(spec);
        struct rule *r = &rules[nrules];
        char item[300];
        snprintf(item, sizeof item, "%.*s", (int)len, spec);
        char *colon = strrchr(item, ':');
        r->n = 1;
        if (colon) {
            *colon = '\0';
            r->n = strtol(colon + 1, NULL, 10);
            r->from_on = strchr(colon + 1, '+') != NULL;
        }
        snprintf(r->pattern, sizeof r->pattern, "%s", item);
        nrules++;
        spec = end ? end + 1 : NULL;
    }
}

static struct rule *rule_for(const char *path)
{
    load_rules();
    if (!path)
        return NULL;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; i < nrules; i++)
        if (fnmatch(rules[i].pattern, strchr(rules[i].pattern, '/') ? path : base, 0) == 0)
            return &rules[i];
    return NULL;
}

/* Count a write under rule r: true when it must fail. */
static int must_fail(struct rule *r)
{
    r->seen++;
    return r->seen == r->n || (r->from_on && r->seen >= r->n);
}

static const char *fd_path(int fd, char *buf, size_t cap)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, cap - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/* --- wrapped streams --------------------------------------------------------- */

typedef struct cookie { FILE *real; struct rule *rule; } cookie;

static ssize_t c_write(void *c, const char *buf, size_t n)
{
    cookie *k = c;      /* on error: 0, never negative (fopencookie(3)) */
    if (must_fail(k->rule)) {
        errno = ENOSPC;
        return 0;
    }
    size_t put = fwrite(buf, 1, n, k->real);
    if (fflush(k->real) != 0)
        return 0;
    return (ssize_t)put;
}

static ssize_t c_read(void *c, char *buf, size_t n)
{
    return (ssize_t)fread(buf, 1, n, ((cookie *)c)->real);
}

static int c_seek(void *c, off64_t *off, int whence)
{
    cookie *k = c;
    if (fseeko(k->real, *off, whence) != 0)
        return -1;
    *off = ftello(k->real);
    return 0;
}

static int c_close(void *c)
{
    cookie *k = c;
    for (int i = 0; i < MAX_WRAPPED; i++)
        if (wrapped[i].real == k->real)
            wrapped[i].cookie = wrapped[i].real = NULL;
    int rc = fclose(k->real);
    free(k);
    return rc;
}

static FILE *wrap(FILE *real, const char *mode, struct rule *r)
{
    if (!real || !r)
        return real;
    cookie *k = malloc(sizeof *k);
    if (!k)
        return real;
    *k = (cookie){ real, r };
    cookie_io_functions_t io = { c_read, c_write, c_seek, c_close };
    FILE *f = fopencookie(k, mode, io);
    if (!f) {
        free(k);
        return real;
    }
    for (int i = 0; i < MAX_WRAPPED; i++)
        if (!wrapped[i].cookie) {
            wrapped[i].cookie = f;
            wrapped[i].real = real;
            break;
        }
    return f;
}

static int writes(const char *mode)
{
    return strpbrk(mode, "wa+") != NULL;
}

FILE *fopen(const char *path, const char *mode)
{
    static FILE *(*real_fopen)(const char *, const char *);
    if (!real_fopen)
        real_fopen = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen");
    FILE *f = real_fopen(path, mode);
    return writes(mode) ? wrap(f, mode, rule_for(path)) : f;
}

FILE *fopen64(const char *path, const char *mode)
{
    return fopen(path, mode);
}

FILE *fdopen(int fd, const char *mode)
{
    static FILE *(*real_fdopen)(int, const char *);
    if (!real_fdopen)
        real_fdopen = (FILE *(*)(int, const char *))dlsym(RTLD_NEXT, "fdopen");
    FILE *f = real_fdopen(fd, mode);
    char buf[4096];
    return writes(mode) ? wrap(f, mode, rule_for(fd_path(fd, buf, sizeof buf))) : f;
}

int fileno(FILE *f)
{
    static int (*real_fileno)(FILE *);
    if (!real_fileno)
        real_fileno = (int (*)(FILE *))dlsym(RTLD_NEXT, "fileno");
    for (int i = 0; i < MAX_WRAPPED; i++)
        if (wrapped[i].cookie == f)
            return real_fileno(wrapped[i].real);
    return real_fileno(f);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real_write)(int, const void *, size_t);
    if (!real_write)
        real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (fd > 2) {
        char p[4096];
        struct rule *r = rule_for(fd_path(fd, p, sizeof p));
        if (r && must_fail(r)) {
            errno = ENOSPC;
            return -1;
        }
    }
    return real_write(fd, buf, n);
}
