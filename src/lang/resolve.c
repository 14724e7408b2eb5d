/* resolve.c — load a file and everything it imports, and build the table of names. */
#define _XOPEN_SOURCE 700       /* realpath(): POSIX, but an XSI part of it */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/resolve.h"

#ifndef NNX_STDLIB_DIR
#define NNX_STDLIB_DIR "/usr/local/share/nnx/stdlib"
#endif

/* One import being followed: file `from` imports through `item`. */
typedef struct import_step {
    size_t          from;
    const nnx_item *item;
} import_step;

typedef struct loader {
    const nnx_load_opts *opts;
    nnx_diags   *diags;
    nnx_program *prog;
    char       **keys;      /* owned: per file, its real path (how a file is recognised) */
    bool        *done;      /* per file: all its imports are loaded */
    size_t      *rank;      /* per file: order of completion (imports before importers) */
    size_t       next_rank;
    import_step *stack;     /* owned: the chain of imports being followed */
    size_t       nstack;
    char        *stdlib;    /* owned: the stdlib directory, or NULL */
    bool         oom;
} loader;

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* "dir/name", or just "name" when dir is "" or "." */
static char *join_path(const char *dir, size_t dirlen, const char *name)
{
    if (dirlen == 0 || (dirlen == 1 && dir[0] == '.'))
        return strdup(name);
    size_t n = strlen(name);
    char *p = malloc(dirlen + 1 + n + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dirlen);
    p[dirlen] = '/';
    memcpy(p + dirlen + 1, name, n + 1);
    return p;
}

/* The stdlib directory: as asked, else $NNX_STDLIB, else stdlib/ beside the
 * binary, else the installed one next to the binary's prefix, else the
 * default install. */
char *nnx_stdlib_find(const nnx_load_opts *opts)
{
    if (opts && opts->stdlib_dir)
        return strdup(opts->stdlib_dir);
    const char *env = getenv("NNX_STDLIB");
    if (env && *env)
        return strdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            const char *tails[] = { "stdlib", "../share/nnx/stdlib" };
            for (size_t i = 0; i < 2; i++) {
                char *dir = join_path(exe, (size_t)(slash - exe), tails[i]);
                if (dir && is_dir(dir))
                    return dir;
                free(dir);
            }
        }
    }
    return is_dir(NNX_STDLIB_DIR) ? strdup(NNX_STDLIB_DIR) : NULL;
}

enum { MAX_IMPORT_CANDIDATES = 256 };

/* Add the .nnx files of directory `base`/`sub` to cands as "sub/file.nnx". */
static void list_nnx(const char *base, size_t baselen, const char *sub, size_t sublen,
                     char **cands, size_t *n)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%.*s%s%.*s", (int)baselen, base, baselen ? "/" : "", (int)sublen,
                 sub) >= (int)sizeof dir)
        return;
    DIR *d = opendir(dir[0] ? dir : ".");
    if (!d)
        return;
    struct dirent *ent;
    while (*n < MAX_IMPORT_CANDIDATES && (ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        if (len < 5 || strcmp(ent->d_name + len - 4, ".nnx"))
            continue;
        char *c = malloc(sublen + len + 1);
        if (!c)
            break;
        memcpy(c, sub, sublen);
        memcpy(c + sublen, ent->d_name, len + 1);
        cands[(*n)++] = c;
    }
    closedir(d);
}

/* An import that is nowhere: the file of the same directories it most
 * plausibly means ("std/net.nnx" for "std/nets.nnx"), as help. */
static void suggest_import(loader *ld, const nnx_file *importer, const char *name, nnx_diag *d)
{
    const char *slash = strrchr(name, '/');
    size_t sublen = slash ? (size_t)(slash - name) + 1 : 0;   /* "std/" */
    char *cands[MAX_IMPORT_CANDIDATES];
    size_t n = 0;
    const char *ipath = importer->src->path, *islash = strrchr(ipath, '/');
    list_nnx(ipath, islash ? (size_t)(islash - ipath) : 0, name, sublen, cands, &n);
    if (ld->stdlib)
        list_nnx(ld->stdlib, strlen(ld->stdlib), name, sublen, cands, &n);
    const char *fix = nnx_suggest(name, (const char *const *)cands, n);
    if (fix)
        nnx_diag_help(d, "did you mean \"%s\"?", fix);
    for (size_t i = 0; i < n; i++)
        free(cands[i]);
}

/* Where `import "name"` in `importer` points: beside the importer, then in
 * each NNX_PATH directory, then in the stdlib.  NULL (reported) if nowhere. */
static char *find_import(loader *ld, const nnx_file *importer, const nnx_item *it)
{
    const char *name = it->import_path;
    if (!name[0]) {
        nnx_error(ld->diags, it->name_loc, "empty import path");
        return NULL;
    }
    if (name[0] == '/') {
        if (is_file(name))
            return strdup(name);
    } else {
        const char *ipath = importer->src->path, *slash = strrchr(ipath, '/');
        char *p = join_path(ipath, slash ? (size_t)(slash - ipath) : 0, name);
        if (!p || is_file(p))
            return p;
        free(p);
        const char *env = ld->opts && ld->opts->nnx_path ? ld->opts->nnx_path : getenv("NNX_PATH");
        for (const char *d = env; d && *d;) {
            const char *end = strchr(d, ':');
            size_t len = end ? (size_t)(end - d) : strlen(d);
            if (len > 0) {
                p = join_path(d, len, name);
                if (!p || is_file(p))
                    return p;
                free(p);
            }
            d = end ? end + 1 : NULL;
        }
        if (ld->stdlib) {
            p = join_path(ld->stdlib, strlen(ld->stdlib), name);
            if (!p || is_file(p))
                return p;
            free(p);
        }
    }
    nnx_diag *d = nnx_error(ld->diags, it->name_loc, "cannot find import \"%s\"", name);
    nnx_diag_help(d, name[0] == '/' ? "no such file"
                  : "looked beside the importing file, in each NNX_PATH directory "
                    "and in the standard library");
    if (name[0] != '/')
        suggest_import(ld, importer, name, d);
    return NULL;
}

/* Grow the per-file arrays by one slot. */
static bool add_file(loader *ld, nnx_file *f, char *key)
{
    nnx_program *p = ld->prog;
    size_t n = p->nfiles;
    char **keys = realloc(ld->keys, (n + 1) * sizeof *keys);
    if (keys)
        ld->keys = keys;
    bool *done = realloc(ld->done, (n + 1) * sizeof *done);
    if (done)
        ld->done = done;
    size_t *rank = realloc(ld->rank, (n + 1) * sizeof *rank);
    if (rank)
        ld->rank = rank;
    if (!keys || !done || !rank || !nnx_array_push(&p->files, &p->nfiles, sizeof f, &f)) {
        nnx_file_free(f);
        free(key);
        return false;
    }
    ld->keys[n] = key;
    ld->done[n] = false;
    ld->rank[n] = 0;
    return true;
}

static void report_cycle(loader *ld, size_t from, const nnx_item *it, size_t target)
{
    /* The chain: target imports ... imports `from`, which imports target.
     * stack[k..] are the imports followed from target down to `from`. */
    size_t k = ld->nstack;
    while (k > 0 && ld->stack[k - 1].from != target)
        k--;
    k = k > 0 ? k - 1 : ld->nstack;     /* nstack: `from` imports itself */
    nnx_file *const *files = ld->prog->files;
    size_t len = strlen(files[from]->src->path) + strlen(files[target]->src->path) + 16;
    for (size_t i = k; i < ld->nstack; i++)
        len += strlen(files[ld->stack[i].from]->src->path) + 8;
    char *chain = malloc(len);
    if (!chain) {
        ld->oom = true;
        return;
    }
    chain[0] = '\0';
    for (size_t i = k; i < ld->nstack; i++) {
        strcat(chain, files[ld->stack[i].from]->src->path);
        strcat(chain, " → ");
    }
    strcat(chain, files[from]->src->path);
    strcat(chain, " → ");
    strcat(chain, files[target]->src->path);
    nnx_diag *d = nnx_error(ld->diags, it->name_loc, "import cycle: %s", chain);
    nnx_diag_help(d, "a file cannot import itself, directly or through other files");
    free(chain);
    if (k < ld->nstack)
        nnx_diag_add(ld->diags, NNX_NOTE, ld->stack[k].item->name_loc,
                     "the cycle starts with this import");
}

static void load_imports(loader *ld, size_t index);

/* Parse `src` as a new file of the program and load what it imports. */
static void load_source(loader *ld, nnx_source *src, char *key)
{
    nnx_file *f = nnx_parse(src, ld->diags);
    if (!f) {
        free(key);
        ld->oom = true;
        return;
    }
    if (!add_file(ld, f, key)) {
        ld->oom = true;
        return;
    }
    load_imports(ld, ld->prog->nfiles - 1);
}

static void load_imports(loader *ld, size_t index)
{
    for (size_t i = 0; i < ld->prog->files[index]->nitems && !ld->oom; i++) {
        const nnx_file *f = ld->prog->files[index];
        const nnx_item *it = f->items[i];
        if (it->kind != NNX_I_IMPORT || !it->import_path)
            continue;
        char *path = find_import(ld, f, it);
        if (!path)
            continue;
        char *key = realpath(path, NULL);
        if (!key)
            key = strdup(path);
        size_t seen = ld->prog->nfiles;
        for (size_t j = 0; key && j < ld->prog->nfiles; j++)
            if (!strcmp(ld->keys[j], key))
                seen = j;
        if (seen < ld->prog->nfiles) {
            if (!ld->done[seen])
                report_cycle(ld, index, it, seen);
            free(key);
            free(path);
            continue;
        }
        nnx_source *src = key ? nnx_source_read(path, ld->diags) : NULL;
        if (!src) {
            nnx_diag_add(ld->diags, NNX_NOTE, it->name_loc, "imported here");
            free(key);
            free(path);
            continue;
        }
        free(path);
        import_step step = { index, it };
        if (!nnx_array_push(&ld->stack, &ld->nstack, sizeof step, &step)) {
            nnx_source_free(src);
            free(key);
            ld->oom = true;
            return;
        }
        load_source(ld, src, key);
        ld->nstack--;
    }
    ld->done[index] = true;
    ld->rank[index] = ld->next_rank++;
}

/* --- the table of names ----------------------------------------------------- */

typedef struct named {
    nnx_item *item;
    size_t    rank;     /* the defining file's rank */
    size_t    pos;      /* order within the program */
} named;

static int named_cmp(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = strcmp(x->item->name, y->item->name);
    if (c)
        return c;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void build_names(loader *ld)
{
    nnx_program *p = ld->prog;
    size_t total = 0;
    for (size_t i = 0; i < p->nfiles; i++)
        total += p->files[i]->nitems;
    named *all = malloc((total + 1) * sizeof *all);
    p->names = malloc((total + 1) * sizeof *p->names);
    if (!all || !p->names) {
        free(all);
        ld->oom = true;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nfiles; i++)
        for (size_t j = 0; j < p->files[i]->nitems; j++) {
            nnx_item *it = p->files[i]->items[j];
            if (it->kind != NNX_I_IMPORT && it->name)
                all[n] = (named){ it, ld->rank[i], n }, n++;
        }
    qsort(all, n, sizeof *all, named_cmp);
    for (size_t i = 0; i < n; i++) {
        if (p->nnames > 0 && !strcmp(p->names[p->nnames - 1]->name, all[i].item->name)) {
            const nnx_item *first = p->names[p->nnames - 1], *again = all[i].item;
            nnx_diag *d = nnx_error(ld->diags, again->name_loc, "'%s' is already defined", again->name);
            nnx_diag_help(d, "every let, data, network and experiment needs its own name, "
                             "across all imported files");
            nnx_diag_add(ld->diags, NNX_NOTE, first->name_loc, "first defined here");
            continue;
        }
        p->names[p->nnames++] = all[i].item;
    }
    free(all);
}

static nnx_program *finish(loader *ld)
{
    if (!ld->oom)
        build_names(ld);
    for (size_t i = 0; i < ld->prog->nfiles; i++)
        free(ld->keys[i]);
    free(ld->keys);
    free(ld->done);
    free(ld->rank);
    free(ld->stack);
    ld->prog->stdlib = ld->stdlib;      /* the program keeps it */
    if (ld->oom) {
        nnx_program_free(ld->prog);
        return NULL;
    }
    return ld->prog;
}

static bool start(loader *ld, const nnx_load_opts *opts, nnx_diags *diags)
{
    *ld = (loader){ .opts = opts, .diags = diags };
    ld->prog = calloc(1, sizeof *ld->prog);
    ld->stdlib = nnx_stdlib_find(opts);
    return ld->prog != NULL;
}

/* Load the file the user named, from its source (which it takes). */
static void load_root(loader *ld, nnx_source *src)
{
    char *key = realpath(src->path, NULL);
    if (!key)
        key = strdup(src->path);
    if (!key) {
        nnx_source_free(src);
        ld->oom = true;
        return;
    }
    load_source(ld, src, key);
}

nnx_program *nnx_program_from_source(nnx_source *src, const nnx_load_opts *opts, nnx_diags *diags)
{
    loader ld;
    if (!start(&ld, opts, diags)) {
        nnx_source_free(src);
        free(ld.stdlib);
        return NULL;
    }
    load_root(&ld, src);
    return finish(&ld);
}

nnx_program *nnx_program_load(const char *path, const nnx_load_opts *opts, nnx_diags *diags)
{
    loader ld;
    if (!start(&ld, opts, diags)) {
        free(ld.stdlib);
        return NULL;
    }
    nnx_source *src = nnx_source_read(path, diags);
    if (src)
        load_root(&ld, src);
    return finish(&ld);
}

void nnx_program_free(nnx_program *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfiles; i++)
        nnx_file_free(p->files[i]);
    free(p->files);
    free(p->names);
    free(p->stdlib);
    free(p);
}

nnx_item *nnx_program_lookup(const nnx_program *p, const char *name)
{
    size_t lo = 0, hi = p->nnames;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(p->names[mid]->name, name);
        if (c == 0)
            return p->names[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
