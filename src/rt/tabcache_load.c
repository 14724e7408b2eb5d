/* tabcache_load.c — a load through the parsed-data cache: its key (the files read and every option), an entry that serves it, or the parse written back. */
#define _XOPEN_SOURCE 700       /* realpath(): POSIX, but an XSI part of it */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnx/rt/tabcache.h"
#include "nnx/util/buf.h"
#include "nnx/util/file.h"

void nnx_tabcache_key_str(nnx_buf *b, const char *what, const char *s)
{
    if (s)
        nnx_buf_printf(b, "%s=%zu:%s\n", what, strlen(s), s);
    else
        nnx_buf_printf(b, "%s=none\n", what);
}

void nnx_tabcache_key_csv(nnx_buf *b, const nnx_csv_opts *o, const nnx_csv_encoding *enc)
{
    nnx_buf_printf(b, "header=%d\ndelimiter=%d\n", o->header, (int)o->delimiter);
    nnx_tabcache_key_str(b, "label_name", o->label_name);
    nnx_buf_printf(b, "label_index=%d\ntarget=%d\ncategorical_auto=%d\nmissing=%d\n",
                   (int)o->label_index, (int)o->target, o->categorical_auto, (int)o->missing);
    for (int32_t i = 0; i < o->ncategorical; i++)
        nnx_tabcache_key_str(b, "categorical", o->categorical[i]);
    if (!enc || !enc->cols) {
        nnx_buf_puts(b, "encoding=fitted here\n");
        return;
    }
    /* an encoding applied (the train file's): every part that changes a cell */
    nnx_buf_printf(b, "encoding=%d columns, %d features, missing %d\n", (int)enc->ncols,
                   (int)enc->features, (int)enc->missing);
    for (int32_t j = 0; j < enc->ncols; j++) {
        const nnx_csv_column *c = &enc->cols[j];
        nnx_tabcache_key_str(b, " column", c->name);
        nnx_buf_printf(b, " index=%d categorical=%d indicator=%d fill=%a\n", (int)c->index,
                       c->categorical, c->indicator, (double)c->fill);
        for (int32_t k = 0; k < c->ncategories; k++)
            nnx_tabcache_key_str(b, "  category", c->categories[k]);
    }
}

/* Which version of the file: a change to any of these is a changed file. */
static void key_state(nnx_buf *b, const struct stat *st)
{
    nnx_buf_printf(b, "size=%lld\nmtime=%lld.%09ld\ndev=%llu\nino=%llu\n",
                   (long long)st->st_size, (long long)st->st_mtim.tv_sec,
                   (long)st->st_mtim.tv_nsec, (unsigned long long)st->st_dev,
                   (unsigned long long)st->st_ino);
}

static bool same_state(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_dev == b->st_dev &&
           a->st_ino == b->st_ino;
}

/* Add a warning once (a cache directory that cannot be written is told
 * once, not once per file). */
static void warn(nnx_tabcache_use *use, const char *fmt, const char *a, const char *b)
{
    char text[sizeof use->warning];
    snprintf(text, sizeof text, fmt, a, b);
    if (strstr(use->warning, text))
        return;
    size_t used = strlen(use->warning);
    snprintf(use->warning + used, sizeof use->warning - used, "%s%s", used ? "; " : "", text);
}

/* NNX_CACHE_MAX as bytes (a number, with K, M, G or T for powers of 1024):
 * 0 when unset (no bound), -1 when it is not a size. */
static long long cache_max(void)
{
    const char *s = getenv("NNX_CACHE_MAX");
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    static const char units[] = "KMGT";
    const char *u = *end ? strchr(units, *end & ~0x20) : NULL;
    if (u && *end)
        for (const char *k = units; k <= u; k++)
            v *= 1024;
    if (errno || end == s || (*end && (!u || end[1])) || !(v >= 1) || v > 9e18)
        return -1;
    return (long long)v;
}

#define MAX_SOURCES 4

int nnx_tabcache_load(const char *dir, const char *const *paths, int npaths, const char *options,
                      nnx_csv_encoding *enc, nnx_csv_stats *st, nnx_dataset *out,
                      nnx_tabcache_parse_fn parse, void *ctx, nnx_tabcache_use *use,
                      nnx_rt_error *err)
{
    struct stat before[MAX_SOURCES];
    char real[PATH_MAX];
    nnx_tabcache_use unseen = {0};
    if (!use)
        use = &unseen;
    if (!dir || npaths < 1 || npaths > MAX_SOURCES)
        return parse(ctx, out, enc, st, err);
    nnx_buf id = {0}, key = {0};
    nnx_buf_printf(&id, "nnx parsed table %d\n", NNX_TABCACHE_LOADER_VERSION);
    for (int i = 0; i < npaths; i++) {
        if (stat(paths[i], &before[i]) < 0 || !S_ISREG(before[i].st_mode) ||
            !realpath(paths[i], real)) {
            free(id.s);
            return parse(ctx, out, enc, st, err);   /* the loader says what is wrong with it */
        }
        nnx_tabcache_key_str(&id, "path", real);
    }
    nnx_buf_puts(&id, options);
    bool fitting = enc && !enc->cols;
    nnx_buf_put(&key, id.s ? id.s : "", id.len);
    nnx_buf_puts(&key, "--\n");
    for (int i = 0; i < npaths; i++)
        key_state(&key, &before[i]);
    char name[40];
    snprintf(name, sizeof name, "%016llx" NNX_TABCACHE_EXT,
             (unsigned long long)nnx_tabcache_hash(id.s ? id.s : "", id.len));
    char *entry = id.oom || key.oom ? NULL : nnx_path_join(dir, name);
    free(id.s);
    if (!entry) {
        free(key.s);
        return parse(ctx, out, enc, st, err);
    }
    nnx_rt_error why;
    int got = nnx_tabcache_read(entry, key.s, out, fitting ? enc : NULL, st, &why);
    if (got == 1) {
        use->hits++;
        nnx_tabcache_touch(entry);
        free(key.s);
        free(entry);
        return 0;
    }
    const char *src = paths[0];
    if (got < 0)
        warn(use, strstr(why.msg, "made from another key")
             ? "the cache entry of %s is stale (the file or its options changed since it "
               "was cached): parsed again%s"
             : "the cache entry of %s cannot be used (%s): parsed again", src,
             strstr(why.msg, "made from another key") ? "" : why.msg);
    int rc = parse(ctx, out, enc, st, err);
    bool same = rc == 0;
    for (int i = 0; same && i < npaths; i++) {
        struct stat after;
        same = stat(paths[i], &after) == 0 && same_state(&before[i], &after);
    }
    if (same) {
        nnx_rt_error werr;
        long long max = cache_max();
        if (max < 0)
            warn(use, "NNX_CACHE_MAX=%s is not a size (bytes, or a number with K, M, G or T):"
                 " the cache is not bounded%s", getenv("NNX_CACHE_MAX"), "");
        if (nnx_mkdirs(dir, &werr) < 0 ||
            nnx_tabcache_write(entry, key.s, out, fitting && enc->cols ? enc : NULL, st,
                               &werr) < 0) {
            warn(use, "the data cache was not written (%s)%s: loaded without it", werr.msg, "");
        } else {
            use->writes++;
            if (max > 0 && nnx_tabcache_trim(dir, (unsigned long long)max, entry, &werr) < 0)
                warn(use, "the data cache was not trimmed to NNX_CACHE_MAX (%s)%s", werr.msg,
                     "");
        }
    }
    free(key.s);
    free(entry);
    return rc;
}

/* --- IDX sources ----------------------------------------------------------------- */

typedef struct idx_parse {
    const char *images, *labels;
    const int32_t *keep;
    int32_t nkeep;
} idx_parse;

static int parse_idx(void *ctx, nnx_dataset *out, nnx_csv_encoding *enc, nnx_csv_stats *st,
                     nnx_rt_error *err)
{
    (void)enc;
    (void)st;
    const idx_parse *p = ctx;
    if (!p->labels)
        return nnx_load_idx_images(out, p->images, err);
    return nnx_load_idx(out, p->images, p->labels, p->keep, p->nkeep, err);
}

int nnx_tabcache_load_idx(const char *dir, const char *images, const char *labels,
                          const int32_t *keep, int32_t nkeep, nnx_dataset *out,
                          nnx_tabcache_use *use, nnx_rt_error *err)
{
    idx_parse p = { images, labels, keep, nkeep };
    nnx_buf opt = {0};
    nnx_buf_printf(&opt, "kind=idx %s\n", labels ? "images and labels" : "images");
    for (int32_t i = 0; i < nkeep; i++)
        nnx_buf_printf(&opt, "keep=%d\n", (int)keep[i]);
    if (opt.oom) {
        free(opt.s);
        return parse_idx(&p, out, NULL, NULL, err);
    }
    const char *paths[2] = { images, labels };
    int rc = nnx_tabcache_load(dir, paths, labels ? 2 : 1, opt.s, NULL, NULL, out, parse_idx, &p,
                               use, err);
    free(opt.s);
    return rc;
}
