/* tabcache.c — write a parsed table to one file, and map it back after checking its length, header and checksums. */
#define _DEFAULT_SOURCE         /* MAP_POPULATE */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/util/buf.h"
#include "nnx/util/file.h"
#include "nnx/rt/tabcache.h"

#define MAGIC       "NNXTAB01"
#define HEADER_SIZE 128
#define X_ALIGN     4096
#define ENDIAN_MARK 0x01020304u
#define NO_STRING   0xFFFFFFFFu

/* The fixed header; header_sum covers every byte before it. */
typedef struct header {
    char     magic[8];
    uint64_t file_size;
    uint64_t meta_off, meta_len;
    uint64_t x_off, x_len;
    uint64_t meta_sum, x_sum;
    int32_t  n, d, kind, classes, has_shape, shape[3];
    uint32_t endian;
    uint32_t has_enc;
    unsigned char reserved[16];
    uint64_t header_sum;
} header;

_Static_assert(sizeof(header) == HEADER_SIZE, "the cache header is 128 bytes");

/* Four lanes of xor, multiply, rotate over 8-byte words, then the tail and
 * the length folded in: fast enough to check a table on every load. */
uint64_t nnx_tabcache_hash(const void *data, size_t n)
{
    const unsigned char *p = data;
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h[4] = { 0x243F6A8885A308D3ull, 0x13198A2E03707344ull, 0xA4093822299F31D0ull,
                      0x082EFA98EC4E6C89ull };
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int l = 0; l < 4; l++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * l, 8);
            uint64_t v = (h[l] ^ w) * k;
            h[l] = v << 31 | v >> 33;
        }
    uint64_t r = (uint64_t)n * k;
    for (int l = 0; l < 4; l++) {
        r = (r ^ h[l]) * k;
        r ^= r >> 29;
    }
    for (; i < n; i++) {
        r = (r ^ p[i]) * k;
        r ^= r >> 29;
    }
    return r;
}

/* --- the metadata, written ----------------------------------------------------- */

static void put_u32(nnx_buf *b, uint32_t v) { nnx_buf_put(b, (const char *)&v, sizeof v); }
static void put_i64(nnx_buf *b, int64_t v) { nnx_buf_put(b, (const char *)&v, sizeof v); }

static void put_str(nnx_buf *b, const char *s)
{
    if (!s) {
        put_u32(b, NO_STRING);
        return;
    }
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    nnx_buf_put(b, s, n);
}

/* count strings, or a NULL marker for a NULL array */
static void put_strs(nnx_buf *b, char *const *s, int32_t count)
{
    put_u32(b, s ? 1 : 0);
    for (int32_t i = 0; s && i < count; i++)
        put_str(b, s[i]);
}

static void put_enc(nnx_buf *b, const nnx_csv_encoding *enc)
{
    put_u32(b, (uint32_t)enc->ncols);
    put_u32(b, (uint32_t)enc->features);
    put_u32(b, (uint32_t)enc->missing);
    for (int32_t j = 0; j < enc->ncols; j++) {
        const nnx_csv_column *c = &enc->cols[j];
        put_str(b, c->name);
        put_u32(b, (uint32_t)c->index);
        put_u32(b, (uint32_t)c->categorical);
        put_u32(b, (uint32_t)c->ncategories);
        for (int32_t k = 0; k < c->ncategories; k++)
            put_str(b, c->categories[k]);
        put_u32(b, (uint32_t)c->indicator);
        nnx_buf_put(b, (const char *)&c->fill, sizeof c->fill);
    }
}

static void put_meta(nnx_buf *b, const char *key, const nnx_dataset *ds,
                     const nnx_csv_encoding *enc, const nnx_csv_stats *st)
{
    put_str(b, key);
    size_t n = (size_t)ds->n;
    if (ds->y)
        nnx_buf_put(b, (const char *)ds->y, n * sizeof *ds->y);
    if (ds->t)
        nnx_buf_put(b, (const char *)ds->t, n * sizeof *ds->t);
    put_strs(b, ds->class_names, ds->classes);
    put_strs(b, ds->feature_names, ds->d);
    put_u32(b, ds->source_row ? 1 : 0);
    if (ds->source_row)
        nnx_buf_put(b, (const char *)ds->source_row, n * sizeof *ds->source_row);
    put_i64(b, st ? st->unseen : 0);
    put_i64(b, st ? st->imputed : 0);
    put_str(b, st ? st->example : "");
    if (enc)
        put_enc(b, enc);
}

int nnx_tabcache_write(const char *path, const char *key, const nnx_dataset *ds,
                       const nnx_csv_encoding *enc, const nnx_csv_stats *stats,
                       nnx_rt_error *err)
{
    if (ds->norm_shift)
        return nnx_rt_fail(err, "%s: a normalised view is not a parsed table", path);
    nnx_buf meta = {0};
    put_meta(&meta, key, ds, enc, stats);
    if (meta.oom) {
        free(meta.s);
        return nnx_rt_fail(err, "%s: out of memory", path);
    }
    size_t x_len = (size_t)ds->n * (size_t)ds->d * sizeof(float);
    header h = {0};
    memcpy(h.magic, MAGIC, 8);
    h.meta_off = HEADER_SIZE;
    h.meta_len = meta.len;
    h.x_off = (HEADER_SIZE + meta.len + X_ALIGN - 1) / X_ALIGN * X_ALIGN;
    h.x_len = x_len;
    h.file_size = h.x_off + x_len;
    h.meta_sum = nnx_tabcache_hash(meta.s, meta.len);
    h.x_sum = nnx_tabcache_hash(ds->x, x_len);
    h.n = ds->n;
    h.d = ds->d;
    h.kind = (int32_t)ds->kind;
    h.classes = ds->classes;
    h.has_shape = ds->has_shape;
    memcpy(h.shape, ds->shape, sizeof h.shape);
    h.endian = ENDIAN_MARK;
    h.has_enc = enc ? 1 : 0;
    h.header_sum = nnx_tabcache_hash(&h, offsetof(header, header_sum));

    nnx_file_out o;
    if (nnx_file_begin(&o, path, NULL, NNX_FILE_UNIQUE, err) < 0) {
        free(meta.s);
        return -1;
    }
    static const char zeros[X_ALIGN];
    size_t pad = (size_t)(h.x_off - HEADER_SIZE - meta.len);
    fwrite(&h, sizeof h, 1, o.f);
    fwrite(meta.s, 1, meta.len, o.f);
    fwrite(zeros, 1, pad, o.f);
    fwrite(ds->x, 1, x_len, o.f);
    free(meta.s);
    return nnx_file_commit(&o, err);   /* a failed write shows in the flush */
}

/* --- the metadata, read -------------------------------------------------------- */

typedef struct cursor {
    const unsigned char *p, *end;
    bool bad;
} cursor;

static bool take(cursor *c, void *out, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        if (out)
            memset(out, 0, n);
        return false;
    }
    if (out)
        memcpy(out, c->p, n);
    c->p += n;
    return true;
}

static uint32_t get_u32(cursor *c) { uint32_t v; take(c, &v, sizeof v); return v; }
static int64_t  get_i64(cursor *c) { int64_t v; take(c, &v, sizeof v); return v; }

/* A malloc'd copy of the next string, or NULL (a NULL string, or c->bad
 * set: out of data or memory). */
static char *get_str(cursor *c)
{
    uint32_t n = get_u32(c);
    if (c->bad || n == NO_STRING)
        return NULL;
    const unsigned char *s = c->p;
    if (!take(c, NULL, n))
        return NULL;
    char *r = malloc((size_t)n + 1);
    if (!r) {
        c->bad = true;
        return NULL;
    }
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

/* count strings, or NULL for a NULL array; with names, a NULL string in
 * the array (which no loader writes: every class has a name) is bad. */
static char **get_strs(cursor *c, int32_t count, bool names)
{
    if (!get_u32(c) || c->bad)
        return NULL;
    char **s = calloc(count > 0 ? (size_t)count : 1, sizeof *s);
    if (!s)
        c->bad = true;
    for (int32_t i = 0; s && i < count && !c->bad; i++)
        if (!(s[i] = get_str(c)) && names)
            c->bad = true;
    return s;
}

static void get_enc(cursor *c, nnx_csv_encoding *enc)
{
    int32_t ncols = (int32_t)get_u32(c);
    enc->features = (int32_t)get_u32(c);
    enc->missing = (nnx_missing)get_u32(c);
    if (c->bad || ncols < 0 || (size_t)ncols > (size_t)(c->end - c->p)) {
        c->bad = true;
        return;
    }
    enc->cols = calloc(ncols > 0 ? (size_t)ncols : 1, sizeof *enc->cols);
    if (!enc->cols) {
        c->bad = true;
        return;
    }
    enc->ncols = ncols;
    for (int32_t j = 0; j < ncols && !c->bad; j++) {
        nnx_csv_column *col = &enc->cols[j];
        col->name = get_str(c);
        col->index = (int32_t)get_u32(c);
        col->categorical = (int)get_u32(c);
        int32_t ncat = (int32_t)get_u32(c);
        if (c->bad || ncat < 0 || (size_t)ncat > (size_t)(c->end - c->p)) {
            c->bad = true;
            break;
        }
        if (ncat > 0 && !(col->categories = calloc((size_t)ncat, sizeof *col->categories))) {
            c->bad = true;
            break;
        }
        col->ncategories = ncat;
        for (int32_t k = 0; k < ncat && !c->bad; k++)
            if (!(col->categories[k] = get_str(c)))
                c->bad = true;      /* a category always has its text */
        col->indicator = (int)get_u32(c);
        take(c, &col->fill, sizeof col->fill);
    }
}

/* Fill out (already holding x and room for targets), enc and st from the
 * metadata; -1 when it does not read to its end. */
static int get_meta(cursor *c, const header *h, nnx_dataset *out, nnx_csv_encoding *enc,
                    nnx_csv_stats *st)
{
    size_t n = (size_t)out->n;
    if (out->y)
        take(c, out->y, n * sizeof *out->y);
    if (out->t)
        take(c, out->t, n * sizeof *out->t);
    out->class_names = get_strs(c, out->classes, true);
    out->feature_names = get_strs(c, out->d, false);
    if (get_u32(c) && !c->bad) {
        if (!(out->source_row = malloc(n * sizeof *out->source_row)))
            c->bad = true;
        else
            take(c, out->source_row, n * sizeof *out->source_row);
    }
    nnx_csv_stats s = {0};
    s.unseen = get_i64(c);
    s.imputed = get_i64(c);
    char *ex = get_str(c);
    if (ex)
        snprintf(s.example, sizeof s.example, "%s", ex);
    free(ex);
    if (st)
        *st = s;
    nnx_csv_encoding e = {0};
    if (h->has_enc)
        get_enc(c, &e);
    if (enc)
        *enc = e;
    else
        nnx_csv_encoding_free(&e);
    for (int32_t i = 0; !c->bad && out->y && i < out->n; i++)
        if (out->y[i] < 0 || out->y[i] >= out->classes)
            c->bad = true;
    return c->bad || c->p != c->end ? -1 : 0;
}

static bool header_sane(const header *h, uint64_t size)
{
    uint64_t x_len = (uint64_t)(uint32_t)h->n * (uint64_t)(uint32_t)h->d * sizeof(float);
    return h->n > 0 && h->d > 0 && h->meta_off == HEADER_SIZE &&
           h->meta_len <= size - HEADER_SIZE && h->x_off % X_ALIGN == 0 &&
           h->x_off >= h->meta_off + h->meta_len && h->x_len == x_len &&
           h->x_off + h->x_len == h->file_size &&
           h->kind >= NNX_TARGET_CLASS && h->kind <= NNX_TARGET_NONE &&
           (h->kind != NNX_TARGET_CLASS || h->classes > 0) &&
           (h->kind == NNX_TARGET_CLASS || h->classes == 0);
}

int nnx_tabcache_read(const char *path, const char *key, nnx_dataset *out,
                      nnx_csv_encoding *enc, nnx_csv_stats *stats, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (enc)
        memset(enc, 0, sizeof *enc);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    header h;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return nnx_rt_fail(err, "%s: not a regular file", path);
    }
    ssize_t got = pread(fd, &h, sizeof h, 0);
    if (got != (ssize_t)sizeof h || memcmp(h.magic, MAGIC, 8) != 0) {
        close(fd);
        return nnx_rt_fail(err, "%s: %s", path, got >= 8 && memcmp(h.magic, MAGIC, 8) != 0
                           ? "not a cache entry (bad magic)" : "truncated: no whole header");
    }
    if (h.header_sum != nnx_tabcache_hash(&h, offsetof(header, header_sum)) ||
        h.endian != ENDIAN_MARK) {
        close(fd);
        return nnx_rt_fail(err, "%s: bad header checksum", path);
    }
    if (h.file_size != (uint64_t)st.st_size) {
        close(fd);
        return nnx_rt_fail(err, "%s: truncated: %lld of %llu bytes", path,
                           (long long)st.st_size, (unsigned long long)h.file_size);
    }
    if (!header_sane(&h, (uint64_t)st.st_size)) {
        close(fd);
        return nnx_rt_fail(err, "%s: a header that does not add up", path);
    }
    size_t len = (size_t)st.st_size;
    /* populated: the checksum reads every page next, faster mapped at once */
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return nnx_rt_fail(err, "%s: cannot map: %s", path, strerror(errno));
    const unsigned char *base = m;
    cursor c = { base + h.meta_off, base + h.meta_off + h.meta_len, false };
    bool meta_ok = nnx_tabcache_hash(c.p, h.meta_len) == h.meta_sum;
    char *k = meta_ok ? get_str(&c) : NULL;
    bool same_key = k && !c.bad && !strcmp(k, key);
    free(k);
    /* the key first: a stale entry is told without reading its table */
    if (!meta_ok || !same_key || nnx_tabcache_hash(base + h.x_off, h.x_len) != h.x_sum) {
        munmap(m, len);
        return nnx_rt_fail(err, "%s: %s", path, meta_ok && !same_key ? "made from another key"
                           : "bad checksum");
    }
    if (nnx_dataset_alloc_mapped(out, h.n, h.d, (nnx_target_kind)h.kind, h.classes, m, len,
                                 (const float *)(const void *)(base + h.x_off), err) < 0) {
        munmap(m, len);
        return -1;
    }
    if (h.has_shape)
        memcpy(out->shape, h.shape, sizeof out->shape);
    out->has_shape = h.has_shape;
    if (get_meta(&c, &h, out, enc, stats) < 0) {
        nnx_dataset_free(out);
        if (enc)
            nnx_csv_encoding_free(enc);
        return nnx_rt_fail(err, "%s: metadata that does not read", path);
    }
    return 1;
}

int nnx_tabcache_read_key(const char *path, char **key, unsigned long long *bytes,
                          nnx_rt_error *err)
{
    *key = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return nnx_rt_fail(err, "cannot open: %s", strerror(errno));
    struct stat st;
    header h;
    int rc = -1;
    unsigned char *meta = NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        nnx_rt_fail(err, "not a regular file");
        goto done;
    }
    *bytes = (unsigned long long)st.st_size;
    ssize_t got = pread(fd, &h, sizeof h, 0);
    if (got != (ssize_t)sizeof h || memcmp(h.magic, MAGIC, 8) != 0) {
        nnx_rt_fail(err, "%s", got >= 8 && memcmp(h.magic, MAGIC, 8) != 0
                    ? "not a cache entry (bad magic)" : "truncated: no whole header");
        goto done;
    }
    if (h.header_sum != nnx_tabcache_hash(&h, offsetof(header, header_sum)) ||
        h.endian != ENDIAN_MARK) {
        nnx_rt_fail(err, "bad header checksum");
        goto done;
    }
    if (h.file_size != (uint64_t)st.st_size) {
        nnx_rt_fail(err, "truncated: %lld of %llu bytes", (long long)st.st_size,
                    (unsigned long long)h.file_size);
        goto done;
    }
    if (!header_sane(&h, (uint64_t)st.st_size)) {
        nnx_rt_fail(err, "a header that does not add up");
        goto done;
    }
    if (!(meta = malloc(h.meta_len ? h.meta_len : 1))) {
        nnx_rt_fail(err, "out of memory");
        goto done;
    }
    if (pread(fd, meta, h.meta_len, (off_t)h.meta_off) != (ssize_t)h.meta_len ||
        nnx_tabcache_hash(meta, h.meta_len) != h.meta_sum) {
        nnx_rt_fail(err, "bad checksum");
        goto done;
    }
    cursor c = { meta, meta + h.meta_len, false };
    *key = get_str(&c);
    rc = *key && !c.bad ? 0 : nnx_rt_fail(err, "metadata that does not read");
done:
    free(meta);
    close(fd);
    return rc;
}
