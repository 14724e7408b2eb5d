/* data_cache.c — a CSV source through the parsed-data cache: its key, an entry that serves it, or a parse written back. */
#define _XOPEN_SOURCE 700       /* realpath(): POSIX, but an XSI part of it */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnx/util/buf.h"
#include "nnx/util/file.h"
#include "nnx/rt/tabcache.h"
#include "run/run_int.h"

/* Bump when a loader change makes the same file and options give another
 * table: every older entry then no longer matches its key. */
#define LOADER_VERSION 1

static void key_str(nnx_buf *b, const char *what, const char *s)
{
    if (s)
        nnx_buf_printf(b, "%s=%zu:%s\n", what, strlen(s), s);
    else
        nnx_buf_printf(b, "%s=none\n", what);
}

/* What a loader is asked: the file (by its real path) and every option. */
static void key_identity(nnx_buf *b, const char *real, const char *mode, const nnx_csv_opts *o,
                         const nnx_csv_encoding *enc)
{
    nnx_buf_printf(b, "nnx parsed table %d\n", LOADER_VERSION);
    key_str(b, "path", real);
    nnx_buf_printf(b, "mode=%s\nheader=%d\ndelimiter=%d\n", mode, o->header, (int)o->delimiter);
    key_str(b, "label_name", o->label_name);
    nnx_buf_printf(b, "label_index=%d\ntarget=%d\ncategorical_auto=%d\nmissing=%d\n",
                   (int)o->label_index, (int)o->target, o->categorical_auto, (int)o->missing);
    for (int32_t i = 0; i < o->ncategorical; i++)
        key_str(b, "categorical", o->categorical[i]);
    if (!enc || !enc->cols) {
        nnx_buf_puts(b, "encoding=fitted here\n");
        return;
    }
    /* an encoding applied (the train file's): every part that changes a cell */
    nnx_buf_printf(b, "encoding=%d columns, %d features, missing %d\n", (int)enc->ncols,
                   (int)enc->features, (int)enc->missing);
    for (int32_t j = 0; j < enc->ncols; j++) {
        const nnx_csv_column *c = &enc->cols[j];
        key_str(b, " column", c->name);
        nnx_buf_printf(b, " index=%d categorical=%d indicator=%d fill=%a\n", (int)c->index,
                       c->categorical, c->indicator, (double)c->fill);
        for (int32_t k = 0; k < c->ncategories; k++)
            key_str(b, "  category", c->categories[k]);
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
static void warn(nnx_run_cache_use *use, const char *fmt, const char *a, const char *b)
{
    char text[sizeof use->warning];
    snprintf(text, sizeof text, fmt, a, b);
    if (strstr(use->warning, text))
        return;
    size_t used = strlen(use->warning);
    snprintf(use->warning + used, sizeof use->warning - used, "%s%s", used ? "; " : "", text);
}

int nnx_run_csv_cached(const char *dir, const char *path, const char *mode,
                       const nnx_csv_opts *o, nnx_csv_encoding *enc, nnx_csv_stats *st,
                       nnx_dataset *out, nnx_run_parse_fn parse, void *ctx,
                       nnx_run_cache_use *use, nnx_rt_error *err)
{
    struct stat before;
    char real[PATH_MAX];
    if (!dir || stat(path, &before) < 0 || !S_ISREG(before.st_mode) || !realpath(path, real))
        return parse(ctx, out, enc, st, err);   /* the loader says what is wrong with it */
    bool fitting = !enc->cols;
    nnx_buf id = {0}, key = {0};
    key_identity(&id, real, mode, o, enc);
    nnx_buf_put(&key, id.s ? id.s : "", id.len);
    nnx_buf_puts(&key, "--\n");
    key_state(&key, &before);
    char name[40];
    snprintf(name, sizeof name, "%016llx.nnxtab",
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
        free(key.s);
        free(entry);
        return 0;
    }
    if (got < 0)
        warn(use, strstr(why.msg, "made from another key")
             ? "the cache entry of %s is stale (the file or its options changed since it "
               "was cached): parsed again%s"
             : "the cache entry of %s cannot be used (%s): parsed again", path,
             strstr(why.msg, "made from another key") ? "" : why.msg);
    int rc = parse(ctx, out, enc, st, err);
    struct stat after;
    if (rc == 0 && stat(path, &after) == 0 && same_state(&before, &after)) {
        nnx_rt_error werr;
        if (nnx_mkdirs(dir, &werr) < 0 ||
            nnx_tabcache_write(entry, key.s, out, fitting && enc->cols ? enc : NULL, st,
                               &werr) < 0)
            warn(use, "the data cache was not written (%s)%s: loaded without it", werr.msg, "");
        else
            use->writes++;
    }
    free(key.s);
    free(entry);
    return rc;
}
